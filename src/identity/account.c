/* account.c: self-service for a logged-in account — profile, password, sessions, API tokens,
 * second factor, agents and acting for an enterprise — as pages and as /api/v1/me.
 *
 * Every action works on r->who.account only. The only ids a client names are those of its
 * tokens, its agents and the enterprises it may act for, and each is checked against this
 * account (token_revoke and agent_remove take the owner; agent_may_act checks the grant).
 * Each action is one handler for its page route and its API route (branching on r->api).
 * Page actions answer with a redirect to /account carrying a fixed notice word (?done=...),
 * so a reload never repeats them. Password work runs on the job pool. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "base/util.h"
#include "http/handler.h"
#include "http/msg.h"
#include "http/server.h"
#include "http/write.h"
#include "identity/identity_impl.h"

#define TOKEN_TTL (30 * 86400)
#define TOKEN_NAME_MAX 100
#define TOKENS_PER_HOUR 30
#define AGENT_LOOKUPS_PER_HOUR 20

/* s without surrounding ASCII spaces, in the arena. */
const char *identity_trimmed(struct req *r, const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	return arena_strndup(r->arena, s, n);
}

/* A form or JSON value naming an enterprise: "" and "0" give 0; -1 when malformed. */
static int64_t value_id(const char *s)
{
	if (!*s || strcmp(s, "0") == 0)
		return 0;
	if (*s < '1' || *s > '9' || strlen(s) > 18)
		return -1;
	char *end;
	long long v = strtoll(s, &end, 10);
	return *end ? -1 : v;
}

/* A security event of the caller about an id: a write (r is the writer's copy). */
static void event_id(struct req *r, const char *kind, const char *what, int64_t id)
{
	char detail[64];
	snprintf(detail, sizeof(detail), "%s %lld", what, (long long)id);
	identity_event(r->db, kind, r->who.account, r->who.account, r->ip, detail);
}

/* req_invalid for this file's pages, whose error summary shows when has_errors is set. */
static int invalid(struct req *r, const char *tpl, json_t *ctx, json_t *errs)
{
	if (ctx)
		json_object_set_new(ctx, "has_errors", json_true());
	return req_invalid(r, tpl, ctx, errs);
}

static json_t *new_errors(struct req *r)
{
	json_t *errs = json_object();
	arena_cleanup(r->arena, (void (*)(void *))json_decref, errs);
	return errs;
}

/* ---- labels --------------------------------------------------------------------------- */

static const char *kind_label(const struct req *r, const char *kind)
{
	if (strcmp(kind, "individual") == 0)
		return M(r, "account_individual");
	if (strcmp(kind, "enterprise") == 0)
		return M(r, "account_enterprise_legal_person");
	if (strcmp(kind, "staff") == 0)
		return M(r, "account_department_staff");
	if (strcmp(kind, "admin") == 0)
		return M(r, "admin_kind_admin");
	return kind;
}

static json_t *staff_role_labels(const struct req *r, unsigned roles)
{
	json_t *a = json_array();
	if (roles & STAFF_COUNTER)
		json_array_append_new(a, json_string(M(r, "admin_duty_counter")));
	if (roles & STAFF_REVIEWER)
		json_array_append_new(a, json_string(M(r, "admin_duty_reviewer")));
	if (roles & STAFF_HEAD)
		json_array_append_new(a, json_string(M(r, "admin_duty_head")));
	return a;
}

/* The channels a token is for; the words are the catalog's account_channel_<word>. */
static const char *const channels[] = { "app", "miniprogram", "kiosk", "other" };

static const char *channel_label(struct req *r, const char *word)
{
	for (size_t i = 0; i < ARRAY_LEN(channels); i++)
		if (word && strcmp(channels[i], word) == 0)
			return MC(r, "account_channel_", word);
	return word ? word : "";
}

static bool channel_known(const char *word)
{
	for (size_t i = 0; i < ARRAY_LEN(channels); i++)
		if (strcmp(channels[i], word) == 0)
			return true;
	return false;
}

/* The scopes; the words are the catalog's account_scope_<word> and account_scope_<word>_hint. */
static const struct {
	unsigned bit;
	const char *word;
} scope_info[] = {
	{ SCOPE_PROFILE, "profile" },
	{ SCOPE_APPLY, "apply" },
	{ SCOPE_ACCOUNT, "account" },
	{ SCOPE_ADMIN, "admin" },
};

static json_t *scope_labels(struct req *r, unsigned scopes)
{
	json_t *a = json_array();
	for (size_t i = 0; i < ARRAY_LEN(scope_info); i++)
		if (scopes & scope_info[i].bit)
			json_array_append_new(a, json_string(MC(r, "account_scope_", scope_info[i].word)));
	return a;
}

/* The scopes this caller may put on a new token: what its kind may hold, and no more than the
 * caller itself holds (a token cannot mint a stronger token). */
static unsigned scopes_grantable(const struct req *r)
{
	return scopes_allowed(r->who.kind) & r->who.scopes;
}

/* ---- JSON shapes ---------------------------------------------------------------------- */

static const char *token_status(const struct api_token *t, int64_t now)
{
	return t->revoked_at ? "revoked" : t->expires_at <= now ? "expired" : "active";
}

static json_t *token_json(const struct api_token *t, int64_t now)
{
	json_t *j = json_pack("{s:I,s:s?,s:s?,s:s?,s:s,s:I,s:I}", "id", (json_int_t)t->id, "name", t->name, "channel",
			      t->channel, "scopes", t->scopes_str, "status", token_status(t, now), "created_at",
			      (json_int_t)t->created_at, "expires_at", (json_int_t)t->expires_at);
	json_object_set_new(j, "last_used", t->last_used ? json_integer(t->last_used) : json_null());
	json_object_set_new(j, "revoked_at", t->revoked_at ? json_integer(t->revoked_at) : json_null());
	return j;
}

/* token_json plus what the page shows. */
static json_t *token_row(struct req *r, const struct api_token *t, int64_t now)
{
	json_t *j = token_json(t, now);
	const char *status = token_status(t, now);
	bool active = strcmp(status, "active") == 0;
	json_object_set_new(j, "active", json_boolean(active));
	json_object_set_new(j, "status_label", json_string(active ? M(r, "account_active")
							     : t->revoked_at ? M(r, "account_revoked")
									     : M(r, "account_expired")));
	json_object_set_new(j, "channel_label", json_string(channel_label(r, t->channel)));
	json_object_set_new(j, "scope_labels", scope_labels(r, t->scopes));
	json_object_set_new(j, "created", json_string(req_when(r, t->created_at)));
	json_object_set_new(j, "expires", json_string(req_when(r, t->expires_at)));
	if (t->last_used)
		json_object_set_new(j, "last_used_label", json_string(req_when(r, t->last_used)));
	return j;
}

/* An agent or an enterprise as another account sees it: masked values only. */
static json_t *party_json(const struct account *a)
{
	return json_pack("{s:I,s:s?,s:s?,s:s?}", "id", (json_int_t)a->id, "name", a->name, "id_masked", a->id_mask,
			 "phone_masked", a->phone_mask);
}

/* ---- the account page ----------------------------------------------------------------- */

/* What the page says after a change (?done=<word>): the catalog's account_notice_<word>. */
static const char *const notices[] = { "password", "token_revoked", "agent_added", "agent_removed", "acting",
				       "acting_self", "email", "email_removed", "totp", "phone_verified",
				       "phone_changed", "renewed" };

static const char *notice_text(struct req *r, const char *word)
{
	for (size_t i = 0; word && i < ARRAY_LEN(notices); i++)
		if (strcmp(notices[i], word) == 0)
			return MC(r, "account_notice_", word);
	return NULL;
}

/* The whole /account page for the caller into *out (owned by the caller). */
static int account_ctx(struct req *r, json_t **out)
{
	struct account acc;
	int rc = account_get(r->db, r->arena, r->who.account, &acc);
	if (rc)
		return rc;
	int64_t now = identity_now();
	bool individual = strcmp(acc.kind, "individual") == 0, enterprise = strcmp(acc.kind, "enterprise") == 0;
	bool staff = strcmp(acc.kind, "staff") == 0, admin = strcmp(acc.kind, "admin") == 0;
	json_t *ctx = json_pack("{s:s,s:s,s:o,s:s,s:b,s:b,s:b,s:b,s:s?}", "title", M(r, "account_title"), "csrf",
				identity_csrf_token(r), "account", account_json(&acc), "kind_label",
				kind_label(r, acc.kind), "is_individual", individual, "is_enterprise", enterprise,
				"is_staff", staff, "is_admin", admin, "created", req_when(r, acc.created_at));
	json_object_set_new(ctx, "nav_account", json_true());
	if (staff)
		json_object_set_new(ctx, "staff_role_labels", staff_role_labels(r, acc.staff_roles));
	if (acc.department)
		json_object_set_new(ctx, "department_name",
				    json_string(account_department_name(r->db, r->arena, acc.department, en(r))));
	if (staff || admin)
		json_object_set_new(ctx, "may_totp", json_true());
	if (acc.password_changed_at)
		json_object_set_new(ctx, "password_changed", json_string(req_when(r, acc.password_changed_at)));

	struct api_token *toks;
	size_t nt;
	if ((rc = token_list(r->db, r->arena, acc.id, &toks, &nt)))
		goto out;
	json_t *active = json_array(), *inactive = json_array();
	json_object_set_new(ctx, "tokens", active);
	json_object_set_new(ctx, "old_tokens", inactive);
	for (size_t i = 0; i < nt; i++)
		json_array_append_new(strcmp(token_status(&toks[i], now), "active") == 0 ? active : inactive,
				      token_row(r, &toks[i], now));

	json_t *chs = json_array();
	for (size_t i = 0; i < ARRAY_LEN(channels); i++)
		json_array_append_new(chs, json_pack("{s:s,s:s}", "value", channels[i], "label",
						     MC(r, "account_channel_", channels[i])));
	json_object_set_new(ctx, "channels", chs);
	json_t *scs = json_array();
	unsigned grantable = scopes_grantable(r);
	for (size_t i = 0; i < ARRAY_LEN(scope_info); i++)
		if (grantable & scope_info[i].bit)
			json_array_append_new(scs, json_pack("{s:s,s:s,s:s,s:b}", "word", scope_info[i].word, "label",
							     MC(r, "account_scope_", scope_info[i].word), "hint",
							     MC(r, "account_scope_hint_", scope_info[i].word), "checked",
							     scope_info[i].bit == SCOPE_PROFILE));
	json_object_set_new(ctx, "scope_choices", scs);

	struct account *list;
	size_t n;
	if (enterprise) {
		if ((rc = agent_list(r->db, r->arena, acc.id, &list, &n)))
			goto out;
		json_t *agents = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(agents, party_json(&list[i]));
		json_object_set_new(ctx, "agents", agents);
	}
	if (individual) {
		if ((rc = agent_enterprises(r->db, r->arena, acc.id, &list, &n)))
			goto out;
		json_t *ents = json_array();
		for (size_t i = 0; i < n; i++) {
			json_t *e = party_json(&list[i]);
			if (list[i].id == r->who.enterprise) {
				json_object_set_new(e, "current", json_true());
				json_object_set_new(ctx, "acting", json_pack("{s:I,s:s?}", "id", (json_int_t)list[i].id,
									     "name", list[i].name));
			}
			json_array_append_new(ents, e);
		}
		json_object_set_new(ctx, "enterprises", ents);
		if (n)
			json_object_set_new(ctx, "has_enterprises", json_true());
	}
out:
	if (rc) {
		json_decref(ctx);
		return rc;
	}
	*out = ctx;
	return 0;
}

/* The account page with field errors of one of its forms (422), values kept. */
static int account_invalid(struct req *r, json_t *errs, const char *form, json_t *values)
{
	json_t *ctx;
	int rc = account_ctx(r, &ctx);
	if (rc) {
		json_decref(values);
		return rc;
	}
	json_object_set_new(ctx, "v", values ? values : json_object());
	json_object_set_new(ctx, form, json_true());
	resp_header(r, "Cache-Control", "no-store");
	return invalid(r, "identity/account", ctx, errs);
}

/* GET /account, GET /api/v1/me */
static int profile(struct req *r)
{
	if (r->api) {
		struct account acc;
		int rc = account_get(r->db, r->arena, r->who.account, &acc);
		if (rc)
			return rc;
		json_t *j = account_json(&acc);
		if (r->who.enterprise && r->who.enterprise != acc.id) {
			struct account ent;
			if ((rc = account_get(r->db, r->arena, r->who.enterprise, &ent))) {
				json_decref(j);
				return rc;
			}
			json_object_set_new(j, "acting_for", party_json(&ent));
		}
		json_object_set_new(j, "scopes", json_string(scopes_str(r->arena, r->who.scopes)));
		resp_header(r, "Cache-Control", "no-store");
		return resp_json(r, 200, j);
	}
	json_t *ctx;
	int rc = account_ctx(r, &ctx);
	if (rc)
		return rc;
	const char *notice = notice_text(r, req_query(r, "done"));
	if (notice)
		json_object_set_new(ctx, "notice", json_string(notice));
	resp_header(r, "Cache-Control", "no-store");
	return resp_page(r, 200, "identity/account", ctx);
}

/* GET /api/v1/me/enterprises: the enterprises an individual may act for. */
static int enterprises_list(struct req *r)
{
	struct account *list;
	size_t n;
	int rc = agent_enterprises(r->db, r->arena, r->who.account, &list, &n);
	if (rc)
		return rc;
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, party_json(&list[i]));
	return resp_json(r, 200, json_pack("{s:o}", "enterprises", arr));
}

/* ---- password ------------------------------------------------------------------------- */

static json_t *password_ctx(struct req *r)
{
	json_t *ctx = json_pack("{s:s,s:s}", "title", M(r, "password_title"), "csrf",
				identity_csrf_token(r));
	json_object_set_new(ctx, "nav_account", json_true());
	return ctx;
}

static int password_get(struct req *r)
{
	resp_header(r, "Cache-Control", "no-store");
	return resp_page(r, 200, "identity/password", password_ctx(r));
}

struct password_job {
	int64_t account;
	char *hash, *current, *password;
	/* computed on the pool */
	bool ok;
	int rc;
	char newhash[PASSWORD_HASH_MAX];
};

/* Verifies the current password and hashes the new one: both slow, so one job. */
static void password_work(void *p)
{
	struct password_job *j = p;
	j->ok = password_verify(j->hash, j->current);
	if (j->ok)
		j->rc = password_hash(j->password, j->newhash);
	sodium_memzero(j->current, strlen(j->current));
	sodium_memzero(j->password, strlen(j->password));
}

/* The outcome of the job: a wrong current password counted, or the new one set and every
 * other session ended. A write. */
static int password_write(struct req *w, void *p)
{
	struct password_job *j = p;
	char key[64];
	snprintf(key, sizeof(key), "pwchange:%lld", (long long)j->account);
	if (!j->ok) {
		ratelimit_fail(w->db, key, identity_now(), RATELIMIT_FREE_ACCOUNT);
		identity_event(w->db, "password.change_fail", j->account, j->account, w->ip, "wrong current password");
		return 0;
	}
	int rc = j->rc;
	if (!rc)
		rc = account_set_password(w->db, j->account, j->newhash, identity_now());
	if (rc)
		return rc;
	ratelimit_clear(w->db, key);
	/* Every other session and every token ends; a page keeps the session it came from. */
	if ((rc = session_end_account(w->db, j->account, w->who.token ? 0 : w->who.session)))
		return rc;
	identity_event(w->db, "password.change", j->account, j->account, w->ip, w->api ? "api" : "page");
	return 0;
}

static int password_answer(struct req *r, void *p, int rc)
{
	struct password_job *j = p;
	sodium_memzero(j->newhash, sizeof(j->newhash));
	if (rc)
		return rc;
	if (!j->ok) {
		json_t *errs = new_errors(r);
		identity_field_error(errs, "current_password",
				     M(r, "account_current_password_not_correct"));
		return invalid(r, "identity/password", r->api ? NULL : password_ctx(r), errs);
	}
	if (r->api)
		return resp_body(r, 204, NULL, NULL, 0);
	return resp_redirect(r, 303, "/account?done=password");
}

/* The job verified and hashed on the pool. */
static int password_done(struct req *r, void *p)
{
	return req_write(r, password_write, password_answer, p);
}

/* POST /account/password, POST /api/v1/me/password */
static int password_post(struct req *r)
{
	json_t *in;
	int rc = identity_read_input(r, &in);
	if (rc)
		return rc;
	const char *cur = identity_field(in, "current_password"), *pw = identity_field(in, "password");
	const char *pw2 = r->api && !json_object_get(in, "password2") ? pw : identity_field(in, "password2");
	json_t *errs = new_errors(r);
	if (!*cur || strlen(cur) > PASSWORD_MAX_BYTES)
		identity_field_error(errs, "current_password",
				     M(r, "account_enter_current_password"));
	enum password_problem pp = password_check(pw, NULL);
	if (pp != PASSWORD_OK)
		identity_field_error(errs, "password", M(r, password_problem_text(pp)));
	else if (strcmp(pw, cur) == 0)
		identity_field_error(errs, "password",
				     M(r, "account_new_password_must_differ_current"));
	else if (strcmp(pw, pw2) != 0)
		identity_field_error(errs, "password2", M(r, "account_two_new_passwords_do_not"));
	if (json_object_size(errs))
		return invalid(r, "identity/password", r->api ? NULL : password_ctx(r), errs);

	char key[64];
	snprintf(key, sizeof(key), "pwchange:%lld", (long long)r->who.account);
	if ((rc = ratelimit_check(r, key)))
		return rc;
	struct account acc;
	if ((rc = account_get(r->db, r->arena, r->who.account, &acc)))
		return rc;
	struct password_job *j = arena_zalloc(r->arena, sizeof(*j));
	j->account = acc.id;
	j->hash = arena_strdup(r->arena, acc.password_hash ? acc.password_hash : "");
	j->current = arena_strdup(r->arena, cur);
	j->password = arena_strdup(r->arena, pw);
	return req_job(r, password_work, password_done, j);
}

/* ---- sessions ------------------------------------------------------------------------- */

static int logout_all_write(struct req *w, void *p)
{
	(void)p;
	int rc = session_end(w, true);
	if (!rc)
		identity_event(w->db, "logout.all", w->who.account, w->who.account, w->ip, "");
	return rc;
}

/* POST /account/logout-all: this session, every other one and every API token end. */
static int logout_all(struct req *r)
{
	session_cookie(r, NULL);
	resp_redirect(r, 303, "/login");
	return req_write(r, logout_all_write, NULL, NULL);
}

/* ---- API tokens ----------------------------------------------------------------------- */

/* GET /api/v1/me/tokens */
static int tokens_list(struct req *r)
{
	struct api_token *toks;
	size_t n;
	int rc = token_list(r->db, r->arena, r->who.account, &toks, &n);
	if (rc)
		return rc;
	int64_t now = identity_now();
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, token_json(&toks[i], now));
	resp_header(r, "Cache-Control", "no-store");
	return resp_json(r, 200, json_pack("{s:o}", "tokens", arr));
}

/* A token to issue, and what became of it. */
struct token_new {
	int64_t acting;
	const char *name, *channel;
	unsigned scopes;
	int rc; /* the hour's budget */
	char token[CRYPTO_TOKEN_LEN + 1];
	int64_t id;
};

static int token_write(struct req *w, void *p);
static int token_answer(struct req *r, void *p, int rc);

/* POST /account/tokens, POST /api/v1/me/tokens: issues a token, shown once. */
static int tokens_issue(struct req *r)
{
	json_t *in;
	int rc = identity_read_input(r, &in);
	if (rc)
		return rc;
	json_t *errs = new_errors(r);
	const char *name = identity_trimmed(r, identity_field(in, "name")), *channel = identity_field(in, "channel");
	size_t nc = str_utf8_chars(name, strlen(name));
	if (nc < 1 || nc > TOKEN_NAME_MAX)
		identity_field_error(errs, r->api ? "name" : "token_name",
				     M(r, "account_name_token_most_100_characters"));
	if (!*channel && r->api)
		channel = "app";
	if (!channel_known(channel))
		identity_field_error(errs, "channel",
				     M(r, "account_choose_channel_app_miniprogram_kiosk"));
	unsigned scopes = 0, grantable = scopes_grantable(r);
	if (r->api) {
		const char *sc = identity_field(in, "scopes");
		if (!*sc)
			scopes = grantable & ~SCOPE_ADMIN;
		else if (scopes_parse(sc, &scopes))
			identity_field_error(errs, "scopes", M(r, "identity_scope_unknown"));
	} else {
		for (size_t i = 0; i < ARRAY_LEN(scope_info); i++) {
			char key[32];
			snprintf(key, sizeof(key), "scope_%s", scope_info[i].word);
			if (*identity_field(in, key))
				scopes |= scope_info[i].bit;
		}
	}
	if (!json_object_get(errs, "scopes")) {
		if (!scopes)
			identity_field_error(errs, "scopes", M(r, "account_choose_least_one_permission"));
		else if (scopes & ~grantable)
			identity_field_error(errs, "scopes",
					     M(r, "account_not_grant_permission"));
	}
	int64_t acting = value_id(identity_field(in, "acting_for"));
	if (acting < 0 || (acting && (strcmp(r->who.kind, "individual") != 0 ||
				      !agent_may_act(r->db, r->arena, r->who.account, acting))))
		identity_field_error(errs, "acting_for",
				     M(r, "account_not_agent_enterprise"));
	else if (r->who.token && r->role == ROLE_AGENT && acting != r->who.enterprise)
		/* A token acting for an enterprise mints only tokens acting for it. */
		identity_field_error(errs, "acting_for",
				     M(r, "account_token_only_issue_tokens_acting"));
	if (json_object_size(errs)) {
		if (r->api)
			return invalid(r, NULL, NULL, errs);
		return account_invalid(r, errs, "token_form_error", json_pack("{s:s}", "token_name", name));
	}

	struct token_new *t = arena_zalloc(r->arena, sizeof(*t));
	*t = (struct token_new){ .acting = acting, .name = name, .channel = channel, .scopes = scopes };
	return req_write(r, token_write, token_answer, t);
}

/* Counts the issue against the hour's budget and issues the token: a write. */
static int token_write(struct req *w, void *p)
{
	struct token_new *t = p;
	char key[64];
	snprintf(key, sizeof(key), "tokenissue:%lld", (long long)w->who.account);
	if ((t->rc = ratelimit_hit(w, key, TOKENS_PER_HOUR, 3600)))
		return t->rc == GH_ERATELIMIT ? 0 : t->rc;
	int rc = token_issue(w, w->who.account, t->acting, t->name, t->channel, t->scopes, TOKEN_TTL, t->token, &t->id);
	if (rc)
		return rc;
	identity_event(w->db, "token.issue", w->who.account, w->who.account, w->ip, t->channel);
	return 0;
}

static int token_answer(struct req *r, void *p, int rc)
{
	struct token_new *t = p;
	if (rc || (rc = t->rc))
		return rc;
	const char *name = t->name, *channel = t->channel;
	unsigned scopes = t->scopes;
	int64_t acting = t->acting, id = t->id;
	char *token = t->token;
	int64_t expires = identity_now() + TOKEN_TTL;
	resp_header(r, "Cache-Control", "no-store");
	if (r->api) {
		json_t *out = json_pack("{s:s,s:s,s:I,s:s,s:s,s:I,s:s}", "token", token, "token_type", "Bearer", "id",
					(json_int_t)id, "name", name, "channel", channel, "expires_at",
					(json_int_t)expires, "scopes", scopes_str(r->arena, scopes));
		if (acting)
			json_object_set_new(out, "acting_for", json_integer(acting));
		sodium_memzero(t->token, sizeof(t->token));
		return resp_json(r, 201, out);
	}
	json_t *ctx = json_pack("{s:s,s:s,s:s,s:s,s:s?,s:o}", "title", M(r, "token_issued_title"), "token", token,
				"name", name, "channel_label", channel_label(r, channel), "expires", req_when(r, expires),
				"scope_labels", scope_labels(r, scopes));
	json_object_set_new(ctx, "nav_account", json_true());
	sodium_memzero(t->token, sizeof(t->token));
	return resp_page(r, 201, "identity/token_issued", ctx);
}

static int token_revoke_write(struct req *w, void *p)
{
	int64_t id = *(int64_t *)p;
	int rc = token_revoke(w->db, w->who.account, id, identity_now());
	if (!rc)
		event_id(w, "token.revoke", "token", id);
	return rc;
}

/* POST /account/tokens/{id}/revoke, DELETE /api/v1/me/tokens/{id}: only the owner's. */
static int tokens_revoke(struct req *r)
{
	int64_t *id = arena_zalloc(r->arena, sizeof(*id));
	int rc = req_param_id(r, "id", id);
	if (rc)
		return rc;
	if (r->api)
		resp_body(r, 204, NULL, NULL, 0);
	else
		resp_redirect(r, 303, "/account?done=token_revoked#tokens");
	return req_write(r, token_revoke_write, NULL, id);
}

/* ---- agents (enterprises) ------------------------------------------------------------- */

/* GET /api/v1/me/agents */
static int agents_list(struct req *r)
{
	struct account *list;
	size_t n;
	int rc = agent_list(r->db, r->arena, r->who.account, &list, &n);
	if (rc)
		return rc;
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, party_json(&list[i]));
	return resp_json(r, 200, json_pack("{s:o}", "agents", arr));
}

/* An agent to add, and what became of it. */
struct agent_new {
	char norm[32];
	const char *name, *f_id, *f_name;
	enum { AGENT_ADDED, AGENT_NO_MATCH, AGENT_ALREADY, AGENT_LIMITED } end;
	struct account ag;
};

/* Counts the look-up, finds the individual and authorises them: a write. */
static int agent_write(struct req *w, void *p)
{
	struct agent_new *a = p;
	char key[64];
	snprintf(key, sizeof(key), "agentadd:%lld", (long long)w->who.account);
	int rc = ratelimit_hit(w, key, AGENT_LOOKUPS_PER_HOUR, 3600);
	if (rc == GH_ERATELIMIT) {
		a->end = AGENT_LIMITED;
		return 0;
	}
	if (rc)
		return rc;
	rc = account_find_individual(w->db, w->app->keys, w->arena, a->norm, &a->ag);
	if (rc && rc != GH_ENOTFOUND)
		return rc;
	if (rc || strcmp(a->ag.name, a->name) != 0 || strcmp(a->ag.status, "active") != 0) {
		a->end = AGENT_NO_MATCH;
		return 0;
	}
	/* agent_add's own transaction: a duplicate undoes the insert alone, the count stays. */
	if ((rc = agent_add(w->db, w->who.account, a->ag.id, identity_now()))) {
		if (rc != GH_ECONFLICT)
			return rc;
		a->end = AGENT_ALREADY;
		return 0;
	}
	event_id(w, "agent.add", "agent", a->ag.id);
	a->end = AGENT_ADDED;
	return 0;
}

static int agent_answer(struct req *r, void *p, int rc)
{
	struct agent_new *a = p;
	if (rc)
		return rc;
	if (a->end == AGENT_LIMITED)
		return GH_ERATELIMIT;
	if (a->end == AGENT_ADDED) {
		if (r->api)
			return resp_json(r, 201, party_json(&a->ag));
		return resp_redirect(r, 303, "/account?done=agent_added#agents");
	}
	json_t *errs = new_errors(r);
	if (a->end == AGENT_NO_MATCH)
		identity_field_error(errs, a->f_id,
				     M(r, "account_no_individual_account_matches_id"));
	else
		identity_field_error(errs, a->f_id, M(r, "account_person_already_agent"));
	if (r->api)
		return invalid(r, NULL, NULL, errs);
	/* The name is kept; the ID number is not shown again. */
	return account_invalid(r, errs, "agent_form_error", json_pack("{s:s}", "agent_name", a->name));
}

/* POST /account/agents, POST /api/v1/me/agents: authorises an individual, named by ID number
 * and name. An unknown number and a name that does not match get the same answer. */
static int agents_add(struct req *r)
{
	json_t *in;
	int rc = identity_read_input(r, &in);
	if (rc)
		return rc;
	json_t *errs = new_errors(r);
	struct agent_new *a = arena_zalloc(r->arena, sizeof(*a));
	a->f_id = r->api ? "id_number" : "agent_id_number";
	a->f_name = r->api ? "name" : "agent_name";
	const char *idn = identity_field(in, "id_number");
	a->name = identity_trimmed(r, identity_field(in, "name"));
	size_t nl = idcheck_normalize(idn, strlen(idn), a->norm, sizeof(a->norm));
	enum idcheck_err ie = nl ? idcheck_id_number(a->norm, nl) : IDCHECK_LENGTH;
	if (ie != IDCHECK_OK)
		identity_field_error(errs, a->f_id, M(r, idcheck_reason(ie, "id_number")));
	size_t nc = str_utf8_chars(a->name, strlen(a->name));
	if (nc < 2 || nc > 50)
		identity_field_error(errs, a->f_name,
				     M(r, "account_enter_agent_s_name_their"));
	if (json_object_size(errs)) {
		if (r->api)
			return invalid(r, NULL, NULL, errs);
		/* The name is kept; the ID number is not shown again. */
		return account_invalid(r, errs, "agent_form_error", json_pack("{s:s}", "agent_name", a->name));
	}
	return req_write(r, agent_write, agent_answer, a);
}

struct agent_gone {
	int64_t id;
};

static int agent_remove_write(struct req *w, void *p)
{
	struct agent_gone *g = p;
	int rc = agent_remove(w->db, w->who.account, g->id);
	/* The former agent stops acting for us at once, in sessions and tokens. */
	if (!rc)
		rc = session_end_acting(w->db, g->id, w->who.account);
	if (!rc)
		event_id(w, "agent.remove", "agent", g->id);
	return rc;
}

/* POST /account/agents/{id}/remove, DELETE /api/v1/me/agents/{id} */
static int agents_remove(struct req *r)
{
	struct agent_gone *g = arena_zalloc(r->arena, sizeof(*g));
	int rc = req_param_id(r, "id", &g->id);
	if (rc)
		return rc;
	if (r->api)
		resp_body(r, 204, NULL, NULL, 0);
	else
		resp_redirect(r, 303, "/account?done=agent_removed#agents");
	return req_write(r, agent_remove_write, NULL, g);
}

/* ---- e-mail for notifications --------------------------------------------------------- */

static int email_write(struct req *w, void *p)
{
	const char *email = *(char **)p;
	int rc = account_set_email(w->db, w->app->keys, w->arena, w->who.account, email);
	if (!rc)
		identity_event(w->db, email ? "account.email_set" : "account.email_removed", w->who.account,
			       w->who.account, w->ip, "");
	return rc;
}

static int email_answer(struct req *r, void *p, int rc)
{
	const char *email = *(char **)p;
	if (rc)
		return rc;
	if (r->api) {
		struct account acc;
		if ((rc = account_get(r->db, r->arena, r->who.account, &acc)))
			return rc;
		return resp_json(r, 200, account_json(&acc));
	}
	return resp_redirect(r, 303, email ? "/account?done=email#notifications" : "/account?done=email_removed#notifications");
}

/* POST /account/email, PUT /api/v1/me/email: sets the address notifications are e-mailed
 * to (sealed like the phone number), or removes it when "email" is empty. */
static int email_set(struct req *r)
{
	json_t *in;
	int rc = identity_read_input(r, &in);
	if (rc)
		return rc;
	const char *v = identity_trimmed(r, identity_field(in, "email"));
	size_t n = strlen(v);
	char *email = NULL;
	if (n) {
		email = arena_strndup(r->arena, v, n);
		if (n > STR_EMAIL_MAX || !str_email_norm(email, n)) {
			json_t *errs = new_errors(r);
			identity_field_error(errs, "email",
					     M(r, "account_enter_valid_e_mail_address"));
			if (r->api)
				return invalid(r, NULL, NULL, errs);
			return account_invalid(r, errs, "email_form_error",
					       json_pack("{s:s}", "email", n > 4 * STR_EMAIL_MAX ? "" : v));
		}
	}
	char **arg = arena_zalloc(r->arena, sizeof(*arg));
	*arg = email;
	return req_write(r, email_write, email_answer, arg);
}

/* ---- acting for an enterprise (individuals) ------------------------------------------- */

static int act_as_write(struct req *w, void *p)
{
	int64_t ent = *(int64_t *)p;
	int rc = session_act_for(w, ent);
	if (!rc)
		event_id(w, "agent.act_as", "enterprise", ent);
	return rc;
}

/* POST /account/act-as: enterprise = an id the caller is an agent of, or 0 for oneself. */
static int act_as(struct req *r)
{
	json_t *in;
	int rc = identity_read_input(r, &in);
	if (rc)
		return rc;
	int64_t ent = value_id(identity_field(in, "enterprise"));
	if (ent < 0)
		return GH_EINVAL;
	if (ent && !agent_may_act(r->db, r->arena, r->who.account, ent))
		return GH_EFORBIDDEN;
	int64_t *arg = arena_zalloc(r->arena, sizeof(*arg));
	*arg = ent;
	resp_redirect(r, 303, ent ? "/account?done=acting" : "/account?done=acting_self");
	return req_write(r, act_as_write, NULL, arg);
}

/* ---- second factor (staff and administrators) ----------------------------------------- */

/* The enrolment page. acc has a secret of the right length waiting, or is enabled. */
static int totp_page(struct req *r, const struct account *acc, json_t *errs)
{
	json_t *ctx = json_pack("{s:s,s:s}", "title", M(r, "account_two_step_verification"), "csrf",
				identity_csrf_token(r));
	json_object_set_new(ctx, "nav_account", json_true());
	if (acc->totp_enabled) {
		json_object_set_new(ctx, "enabled", json_true());
		resp_header(r, "Cache-Control", "no-store");
		return resp_page(r, 200, "identity/totp_enrol", ctx);
	}
	char *secret = NULL;
	int rc = account_totp_secret(r->app->keys, r->arena, acc, &secret);
	if (rc) {
		json_decref(ctx);
		return rc;
	}
	json_object_set_new(ctx, "secret", json_string(totp_grouped(r->arena, secret)));
	json_object_set_new(ctx, "uri", json_string(totp_uri(r->arena, secret, acc->name)));
	resp_header(r, "Cache-Control", "no-store");
	if (errs)
		return invalid(r, "identity/totp_enrol", ctx, errs);
	return resp_page(r, 200, "identity/totp_enrol", ctx);
}

/* Whether acc still needs a secret to wait for its first code. */
static bool totp_needs_secret(struct req *r, const struct account *acc)
{
	char *secret = NULL;
	if (acc->totp_enabled)
		return false;
	int rc = account_totp_secret(r->app->keys, r->arena, acc, &secret);
	return rc == GH_ENOTFOUND || (!rc && strlen(secret) != TOTP_BASE32_LEN);
}

/* The secret waits, sealed, until a code proves the app has it; a reload shows the same. A
 * write: made only when the account has none, and read back as stored. */
static int totp_secret_write(struct req *w, void *p)
{
	struct account *acc = p;
	if (!totp_needs_secret(w, acc))
		return 0;
	char fresh[TOTP_BASE32_LEN + 1];
	totp_new_secret(fresh);
	int rc = account_set_totp(w->db, w->app->keys, w->arena, acc->id, fresh, false);
	sodium_memzero(fresh, sizeof(fresh));
	return rc ? rc : account_get(w->db, w->arena, acc->id, acc);
}

static int totp_secret_made(struct req *r, void *p, int rc)
{
	return rc ? rc : totp_page(r, p, NULL);
}

struct totp_ensure {
	struct account *acc;
	int (*then)(struct req *, void *, int);
	void *arg;
};

static int totp_ensure_write(struct req *w, void *p)
{
	struct totp_ensure *e = p;
	return totp_secret_write(w, e->acc);
}

static int totp_ensured(struct req *r, void *p, int rc)
{
	struct totp_ensure *e = p;
	return e->then(r, e->arg, rc);
}

int account_totp_ensure(struct req *r, struct account *acc, int (*then)(struct req *r, void *arg, int rc), void *arg)
{
	if (!totp_needs_secret(r, acc))
		return then(r, arg, 0);
	struct totp_ensure *e = arena_zalloc(r->arena, sizeof(*e));
	*e = (struct totp_ensure){ acc, then, arg };
	return req_write(r, totp_ensure_write, totp_ensured, e);
}

/* GET /account/totp */
static int totp_enrol_get(struct req *r)
{
	struct account *acc = arena_zalloc(r->arena, sizeof(*acc));
	int rc = account_get(r->db, r->arena, r->who.account, acc);
	if (rc)
		return rc;
	if (totp_needs_secret(r, acc))
		return req_write(r, totp_secret_write, totp_secret_made, acc);
	return totp_page(r, acc, NULL);
}

/* A code typed for enrolment, and what became of it. */
struct totp_enrol {
	struct account acc;
	char *secret;
	bool right;
};

/* Counts a wrong code, or turns the secret on: a write. */
static int totp_enrol_write(struct req *w, void *p)
{
	struct totp_enrol *t = p;
	char key[64];
	snprintf(key, sizeof(key), "totpenrol:%lld", (long long)t->acc.id);
	if (!t->right)
		return ratelimit_fail(w->db, key, identity_now(), RATELIMIT_FREE_TOTP);
	ratelimit_clear(w->db, key);
	int rc = account_set_totp(w->db, w->app->keys, w->arena, t->acc.id, t->secret, true);
	if (!rc)
		identity_event(w->db, "totp.enable", t->acc.id, t->acc.id, w->ip, "");
	return rc;
}

static int totp_enrol_answer(struct req *r, void *p, int rc)
{
	struct totp_enrol *t = p;
	if (rc)
		return rc;
	if (t->right)
		return resp_redirect(r, 303, "/account?done=totp");
	json_t *errs = new_errors(r);
	identity_field_error(errs, "code",
			     M(r, "account_code_wrong_has_expired_enter"));
	return totp_page(r, &t->acc, errs);
}

/* POST /account/totp: a code from the app turns the stored secret on. */
static int totp_enrol_post(struct req *r)
{
	json_t *in;
	int rc = identity_read_input(r, &in);
	if (rc)
		return rc;
	struct totp_enrol *t = arena_zalloc(r->arena, sizeof(*t));
	if ((rc = account_get(r->db, r->arena, r->who.account, &t->acc)))
		return rc;
	if (t->acc.totp_enabled)
		return resp_redirect(r, 303, "/account/totp");
	char key[64];
	snprintf(key, sizeof(key), "totpenrol:%lld", (long long)t->acc.id);
	if ((rc = ratelimit_check(r, key)))
		return rc;
	if ((rc = account_totp_secret(r->app->keys, r->arena, &t->acc, &t->secret)))
		return rc == GH_ENOTFOUND ? resp_redirect(r, 303, "/account/totp") : rc;
	/* Digits only: people type "123 456". */
	const char *typed = identity_field(in, "code");
	char code[8];
	size_t n = 0;
	for (const char *p = typed; *p && n < sizeof(code); p++)
		if (*p >= '0' && *p <= '9')
			code[n++] = *p;
		else if (*p != ' ')
			n = sizeof(code); /* anything else: wrong */
	if (n <= 6)
		code[n] = 0;
	t->right = n == 6 && !totp_verify(t->secret, code, time(NULL), NULL);
	return req_write(r, totp_enrol_write, totp_enrol_answer, t);
}

#define ROLE_INDIVIDUAL (ROLE_CITIZEN | ROLE_AGENT)
#define ROLE_SECOND_FACTOR (ROLE_STAFF | ROLE_ADMIN)

const struct route identity_account_routes[] = {
	{ HTTP_GET, "/account", profile, ROLE_USER, 0, "identity.account" },
	{ HTTP_GET, "/account/password", password_get, ROLE_USER, 0, "identity.password" },
	{ HTTP_POST, "/account/password", password_post, ROLE_USER, ROUTE_CSRF, "identity.password_post" },
	{ HTTP_POST, "/account/logout-all", logout_all, ROLE_USER, ROUTE_CSRF, "identity.logout_all" },
	{ HTTP_POST, "/account/tokens", tokens_issue, ROLE_USER, ROUTE_CSRF, "identity.token_issue" },
	{ HTTP_POST, "/account/tokens/{id}/revoke", tokens_revoke, ROLE_USER, ROUTE_CSRF, "identity.token_revoke" },
	{ HTTP_POST, "/account/agents", agents_add, ROLE_ENTERPRISE, ROUTE_CSRF, "identity.agent_add" },
	{ HTTP_POST, "/account/agents/{id}/remove", agents_remove, ROLE_ENTERPRISE, ROUTE_CSRF,
	  "identity.agent_remove" },
	{ HTTP_POST, "/account/email", email_set, ROLE_USER, ROUTE_CSRF, "identity.email_set" },
	{ HTTP_POST, "/account/act-as", act_as, ROLE_INDIVIDUAL, ROUTE_CSRF, "identity.act_as" },
	{ HTTP_GET, "/account/totp", totp_enrol_get, ROLE_SECOND_FACTOR, 0, "identity.totp_enrol" },
	{ HTTP_POST, "/account/totp", totp_enrol_post, ROLE_SECOND_FACTOR, ROUTE_CSRF, "identity.totp_enrol_post" },

	{ HTTP_GET, "/api/v1/me", profile, ROLE_USER, 0, "identity.api_me", NULL, SCOPE_PROFILE },
	{ HTTP_POST, "/api/v1/me/password", password_post, ROLE_USER, 0, "identity.api_password", NULL,
	  SCOPE_ACCOUNT },
	{ HTTP_PUT, "/api/v1/me/email", email_set, ROLE_USER, 0, "identity.api_email", NULL, SCOPE_ACCOUNT },
	{ HTTP_GET, "/api/v1/me/tokens", tokens_list, ROLE_USER, 0, "identity.api_tokens", NULL, SCOPE_ACCOUNT },
	{ HTTP_POST, "/api/v1/me/tokens", tokens_issue, ROLE_USER, 0, "identity.api_token_issue", NULL,
	  SCOPE_ACCOUNT },
	{ HTTP_DELETE, "/api/v1/me/tokens/{id}", tokens_revoke, ROLE_USER, 0, "identity.api_token_revoke", NULL,
	  SCOPE_ACCOUNT },
	{ HTTP_GET, "/api/v1/me/agents", agents_list, ROLE_ENTERPRISE, 0, "identity.api_agents", NULL,
	  SCOPE_ACCOUNT },
	{ HTTP_POST, "/api/v1/me/agents", agents_add, ROLE_ENTERPRISE, 0, "identity.api_agent_add", NULL,
	  SCOPE_ACCOUNT },
	{ HTTP_DELETE, "/api/v1/me/agents/{id}", agents_remove, ROLE_ENTERPRISE, 0, "identity.api_agent_remove", NULL,
	  SCOPE_ACCOUNT },
	{ HTTP_GET, "/api/v1/me/enterprises", enterprises_list, ROLE_INDIVIDUAL, 0, "identity.api_enterprises", NULL,
	  SCOPE_PROFILE },
};
const size_t identity_account_routes_n = sizeof(identity_account_routes) / sizeof(identity_account_routes[0]);
