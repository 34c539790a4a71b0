/* login.c: registration, log-in (password, then TOTP for staff and administrators), log-out,
 * for pages and for the API. Password hashing and verification run on the job pool: the
 * handler reads what it needs from the database, hands the slow part to req_job(), and
 * finishes on its event loop. Answers never tell whether an account exists. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/jobs.h"
#include "base/log.h"
#include "base/sb.h"
#include "base/util.h"
#include "http/handler.h"
#include "http/msg.h"
#include "http/server.h"
#include "http/write.h"
#include "identity/identity_impl.h"
#include "store/db.h"
#include "view/view.h"

#define TOKEN_TTL (30 * 86400)
#define REGISTRATIONS_PER_HOUR 10

/* A copy of the form's values for re-display, passwords left out. */
static json_t *kept_values(json_t *in)
{
	json_t *v = json_object();
	const char *k;
	json_t *x;
	json_object_foreach(in, k, x)
	{
		if (strstr(k, "password") || strcmp(k, "_csrf") == 0 || strcmp(k, "totp") == 0 || strcmp(k, "code") == 0)
			continue;
		json_object_set(v, k, x);
	}
	return v;
}

/* ---- log-in --------------------------------------------------------------------------- */

/* The throttle (docs/security.md, "Log-in throttle"), keyed by <subject>: "acct:<id>" for an
 * account, "name:<blind index>" for a name without one, so unknown names behave exactly like
 * accounts:
 * - login:pair:<subject>:<address> (throttle_pair): wrong passwords for one account from one
 *   address. This is what slows a guesser down; the owner at another address is not slowed.
 * - login:ip:<address> (throttle_address): wrong passwords from one address, any account.
 * - login:acct:<subject> (throttle_account): consecutive wrong passwords from anywhere. From
 *   LOGIN_CEILING on, the password alone no longer logs in: the second factor's code must
 *   come with it (TOTP, or a code sent by SMS to the registered phone), checked only after
 *   the password, with one answer for every failure, so guessing the password further gains
 *   nothing and the owner, who has the phone, still logs in.
 * - login:2fa:<factor>:<account> (throttle_factor): wrong codes of a factor ("totp", "sms"),
 *   counted whatever the address and never cleared by the password; the 10th refuses the
 *   factor for a growing delay, tells the owner (inbox) and records login.factor_locked,
 *   which administrators see among the security events.
 * A log-in completed with every factor it needed clears its pair, account and factor
 * counters. Only a caller who knows the password can reach (and so lock) a second factor. */

struct login_job {
	/* read on the loop */
	struct account acc;
	bool found;
	char subject[96];
	char *login, *password, *code, *next;
	char *token_name, *channel;
	unsigned scopes;
	bool step_up; /* past the ceiling: the second factor's code comes with the password */
	/* computed on the pool */
	bool ok;
	bool rehashed;
	char newhash[PASSWORD_HASH_MAX];
	/* decided by the write (login_write), answered on the loop (login_answer) */
	enum login_end {
		LOGIN_REFUSED,   /* every failure answers alike */
		LOGIN_ERROR,     /* rc (a refused factor: 429 with Retry-After) */
		LOGIN_NEED_CODE, /* past the ceiling without a code */
		LOGIN_TOKEN,     /* API: a bearer token */
		LOGIN_PENDING,   /* pages: the password is right, the code comes on the next page */
		LOGIN_OK,        /* pages: logged in */
		LOGIN_RENEW,     /* an administrator reset the password: the renewal page first */
	} end;
	int rc;
	char token[CRYPTO_TOKEN_LEN + 1]; /* the bearer token or the session cookie's */
	int64_t token_id;
	unsigned granted;
};

static const char *key_pair(struct req *r, const char *subject)
{
	return arena_printf(r->arena, "login:pair:%s:%s", subject, r->ip);
}

static const char *key_address(struct req *r)
{
	return arena_printf(r->arena, "login:ip:%s", r->ip);
}

static const char *key_account(struct req *r, const char *subject)
{
	return arena_printf(r->arena, "login:acct:%s", subject);
}

static const char *key_factor(struct req *r, int64_t account, const char *factor)
{
	return arena_printf(r->arena, "login:2fa:%s:%lld", factor, (long long)account);
}

/* The second factor of an account: its authenticator app, else a code by SMS. */
static const char *factor_of(const struct account *acc)
{
	return acc->totp_enabled ? "totp" : "sms";
}

static void login_work(void *p)
{
	struct login_job *j = p;
	if (j->found) {
		j->ok = password_verify(j->acc.password_hash, j->password);
		if (j->ok && password_needs_rehash(j->acc.password_hash))
			j->rehashed = password_hash(j->password, j->newhash) == 0;
	} else {
		password_dummy_verify(j->password);
	}
	sodium_memzero(j->password, strlen(j->password));
}

static json_t *login_ctx(struct req *r, json_t *values)
{
	json_t *ctx = json_pack("{s:s,s:s,s:o}", "title", M(r, "login_button"), "csrf", identity_csrf_token(r), "v",
				values ? values : json_object());
	json_object_set_new(ctx, "nav_login", json_true());
	/* A hall joined to a national hub offers its log-in (src/federation), to the same next. */
	const char *hub = r->app->cfg.fed_hub_url;
	if (hub && *hub && strcmp(r->app->cfg.role, "hub")) {
		const char *next = json_string_value(json_object_get(values, "next"));
		struct sb href = SB_INIT;
		sb_adds(&href, "/login/national");
		if (next && *next) {
			sb_adds(&href, "?next=");
			sb_add_urlenc(&href, next, strlen(next));
		}
		json_object_set_new(ctx, "national_login", json_stringn(href.buf, href.len));
		sb_release(&href);
	}
	return ctx;
}

/* The log-in form again (status), with the name kept, an error, and the code field when the
 * account is past the ceiling. */
static int login_form_again(struct req *r, struct login_job *j, int status, const char *error)
{
	json_t *v = json_object();
	json_object_set_new(v, "login", json_string(j->login));
	if (j->next && *j->next)
		json_object_set_new(v, "next", json_string(identity_safe_next(j->next, "")));
	json_t *ctx = login_ctx(r, v);
	if (error)
		json_object_set_new(ctx, "error", json_string(error));
	if (j->step_up)
		json_object_set_new(ctx, "need_code", json_true());
	resp_header(r, "Cache-Control", "no-store");
	return resp_page(r, status, "identity/login", ctx);
}

static const char *wrong_message(struct req *r, const struct login_job *j)
{
	return j->step_up ? view_msg(r->app->view, r->lang, "auth_wrong_with_code")
			  : M(r, "login_account_password_not_correct");
}

/* Every failed log-in answers alike, whatever failed. */
static int login_refused(struct req *r, struct login_job *j)
{
	const char *msg = wrong_message(r, j);
	if (r->api) {
		req_error_detail(r, "%s", msg);
		return GH_EUNAUTH;
	}
	return login_form_again(r, j, 401, msg);
}

/* A wrong password (or an unknown name, or a disabled account): counted per pair, address
 * and account. The owner is told once, when the account reaches the ceiling. A write. */
static void password_failed(struct req *w, struct login_job *j, const char *why)
{
	int64_t now = identity_now(), n = 0;
	throttle_fail(w->db, key_pair(w, j->subject), &throttle_pair, now, NULL, NULL);
	throttle_fail(w->db, key_address(w), &throttle_address, now, NULL, NULL);
	throttle_fail(w->db, key_account(w, j->subject), &throttle_account, now, &n, NULL);
	identity_event(w->db, "login.fail", j->found ? j->acc.id : 0, 0, w->ip, why);
	if (n == LOGIN_CEILING && j->found) {
		identity_event(w->db, "login.ceiling", j->acc.id, 0, w->ip,
			       arena_printf(w->arena, "{\"failures\":%d}", LOGIN_CEILING));
		identity_tell(w, j->acc.id, "security_ceiling", N_("auth_ceiling_title"), N_("auth_ceiling_body"), NULL, 0);
	}
	j->end = LOGIN_REFUSED;
}

/* A wrong code of factor: counted for the account whatever the address; at the 10th the
 * factor is refused for a while, the owner is told and administrators see the event. A write
 * (r is the writer's copy of the request), as are factor_verify and login_cleared. */
static void factor_failed(struct req *r, const struct account *acc, const char *factor, const char *why)
{
	int64_t n = 0, blocked = 0;
	throttle_fail(r->db, key_factor(r, acc->id, factor), &throttle_factor, identity_now(), &n, &blocked);
	identity_event(r->db, "login.factor_fail", acc->id, 0, r->ip,
		       arena_printf(r->arena, "{\"factor\":\"%s\",\"failures\":%lld,\"why\":\"%s\"}", factor, (long long)n, why));
	if (!blocked)
		return;
	identity_event(r->db, "login.factor_locked", acc->id, 0, r->ip,
		       arena_printf(r->arena, "{\"factor\":\"%s\",\"failures\":%lld,\"seconds\":%lld}", factor, (long long)n,
				    (long long)blocked));
	long minutes = (long)((blocked + 59) / 60);
	const struct msg_arg args[] = { MA("failures", (long long)n), MA("minutes", minutes) };
	identity_tell(r, acc->id, "security_factor_locked", N_("auth_factor_locked_title"), N_("auth_factor_locked_body"),
		      args, ARRAY_LEN(args));
}

/* 0 while factor may be tried; GH_ERATELIMIT with Retry-After while it is refused. */
static int factor_open(struct req *r, const struct account *acc, const char *factor)
{
	return throttle_check(r, key_factor(r, acc->id, factor));
}

/* Checks a code of factor for acc: 0 when right (and used up). */
static int factor_verify(struct req *r, const struct account *acc, const char *factor, const char *code)
{
	int64_t now = identity_now();
	if (strcmp(factor, "totp") == 0) {
		char *secret;
		int64_t step;
		if (account_totp_secret(r->app->keys, r->arena, acc, &secret) || totp_verify(secret, code, (time_t)now, &step))
			return GH_EINVAL;
		return account_totp_use(r->db, acc->id, step) ? GH_EINVAL : 0; /* a code works once */
	}
	return otp_check(r->db, r->app->keys, acc->id, "login", code, now) ? GH_EINVAL : 0;
}

/* Every factor done: the counters of this log-in are forgotten, and the address is one a
 * log-in succeeded from. */
static void login_cleared(struct req *r, const struct login_job *j, const char *factor)
{
	throttle_good_address(r->db, r->ip, identity_now());
	throttle_clear(r->db, key_pair(r, j->subject));
	throttle_clear(r->db, key_account(r, j->subject));
	if (factor)
		throttle_clear(r->db, key_factor(r, j->acc.id, factor));
}

/* Past the ceiling without a code: ask for it (and send one by SMS to an account without an
 * authenticator app). Nothing is verified, so nothing is counted; no hashing either. A
 * write. */
static void login_need_code(struct req *w, struct login_job *j)
{
	if (j->found && strcmp(j->acc.status, "active") == 0 && !j->acc.totp_enabled) {
		int rc = otp_send(w, j->acc.id, "login", N_("auth_otp_sms_login"));
		if (rc == 0)
			identity_event(w->db, "login.code_sent", j->acc.id, 0, w->ip, "sms");
		else if (rc != GH_ERATELIMIT)
			log_warn("identity: no log-in code could be sent to account %lld (%s)", (long long)j->acc.id,
				 err_name(rc));
	}
	j->end = LOGIN_NEED_CODE;
}

/* The writes of a log-in whose password was checked: the throttle's counters, the second
 * factor, the session or token, the security events. Every way it ends is in j->end; it
 * returns 0 (what it wrote stays) or a database error. */
static int login_write(struct req *w, void *p)
{
	struct login_job *j = p;
	j->rc = 0;
	if (!j->ok) {
		password_failed(w, j, j->found ? "wrong password" : "unknown account");
		return 0;
	}
	if (strcmp(j->acc.status, "active") != 0) {
		password_failed(w, j, "account disabled");
		return 0;
	}
	if (j->acc.must_renew) {
		/* The password is right, but an administrator reset it: the owner sets a new one (and
		 * enrols the authenticator app again) on the renewal page before anything else. */
		login_cleared(w, j, NULL);
		identity_event(w->db, "login.password_ok", j->acc.id, j->acc.id, w->ip, "renewal due");
		j->end = LOGIN_RENEW;
		return w->api ? 0 : session_create(w, j->acc.id, 0, true, j->token);
	}
	bool is_admin = strcmp(j->acc.kind, "admin") == 0;
	if (is_admin && !j->acc.totp_enabled) {
		password_failed(w, j, "administrator without a second factor");
		return 0;
	}
	/* The password is right. Which second factor does this log-in need, if any? */
	const char *factor = j->acc.totp_enabled || j->step_up ? factor_of(&j->acc) : NULL;
	int rc;
	if (factor && (rc = factor_open(w, &j->acc, factor))) {
		identity_event(w->db, "login.factor_refused", j->acc.id, 0, w->ip, factor);
		j->end = LOGIN_ERROR;
		j->rc = rc;
		return 0;
	}
	bool pending = factor && !w->api && !j->step_up; /* pages: the code on the next page */
	if (factor && !pending) {
		if (!*j->code) {
			identity_event(w->db, "login.fail", j->acc.id, 0, w->ip, "second factor missing");
			j->end = LOGIN_REFUSED;
			return 0;
		}
		if (factor_verify(w, &j->acc, factor, j->code)) {
			factor_failed(w, &j->acc, factor, "wrong code");
			j->end = LOGIN_REFUSED;
			return 0;
		}
	}
	if (!pending)
		login_cleared(w, j, factor);
	int64_t now = identity_now();
	if (j->rehashed && account_set_password(w->db, j->acc.id, j->newhash, now) == 0)
		identity_event(w->db, "password.rehash", j->acc.id, j->acc.id, w->ip, "");

	if (w->api) {
		unsigned allowed = scopes_allowed(j->acc.kind);
		unsigned scopes = j->scopes ? j->scopes : (allowed & ~SCOPE_ADMIN) | (is_admin ? SCOPE_ADMIN : 0);
		j->granted = scopes & allowed;
		if ((rc = token_issue(w, j->acc.id, 0, j->token_name, j->channel, j->granted, TOKEN_TTL, j->token,
				      &j->token_id)))
			return rc;
		identity_event(w->db, "token.issue", j->acc.id, j->acc.id, w->ip, j->channel);
		if (factor)
			identity_event(w->db, "login.ok", j->acc.id, j->acc.id, w->ip, arena_printf(w->arena, "with %s", factor));
		j->end = LOGIN_TOKEN;
		return 0;
	}
	if ((rc = session_create(w, j->acc.id, 0, pending, j->token)))
		return rc;
	if (pending) {
		identity_event(w->db, "login.password_ok", j->acc.id, j->acc.id, w->ip, "second factor due");
		j->end = LOGIN_PENDING;
		return 0;
	}
	identity_event(w->db, "login.ok", j->acc.id, j->acc.id, w->ip, factor ? arena_printf(w->arena, "with %s", factor) : "");
	j->end = LOGIN_OK;
	return 0;
}

/* Answers what login_write (or login_need_code) decided. */
static int login_answer(struct req *r, void *p, int rc)
{
	struct login_job *j = p;
	if (rc)
		return rc;
	switch (j->end) {
	case LOGIN_REFUSED:
		return login_refused(r, j);
	case LOGIN_ERROR:
		return j->rc;
	case LOGIN_NEED_CODE: {
		const char *msg = view_msg(r->app->view, r->lang, "auth_code_required");
		if (r->api) {
			resp_header(r, "Cache-Control", "no-store");
			return resp_json(r, 401, json_pack("{s:{s:s,s:s,s:s}}", "error", "code", "second_factor_required",
							   "message", msg, "detail",
							   view_msg(r->app->view, r->lang, "auth_code_required_detail")));
		}
		return login_form_again(r, j, 401, msg);
	}
	case LOGIN_TOKEN: {
		json_t *out = json_pack("{s:s,s:s,s:I,s:I,s:s,s:o}", "token", j->token, "token_type", "Bearer", "id",
					(json_int_t)j->token_id, "expires_at", (json_int_t)(identity_now() + TOKEN_TTL),
					"scopes", scopes_str(r->arena, j->granted), "account", account_json(&j->acc));
		sodium_memzero(j->token, sizeof(j->token));
		resp_header(r, "Cache-Control", "no-store");
		return resp_json(r, 201, out);
	}
	case LOGIN_PENDING: {
		session_cookie(r, j->token);
		sodium_memzero(j->token, sizeof(j->token));
		const char *next = identity_safe_next(j->next, "");
		return resp_redirect(r, 303, *next ? arena_printf(r->arena, "/login/totp?next=%s", next) : "/login/totp");
	}
	case LOGIN_RENEW: {
		if (r->api) {
			resp_header(r, "Cache-Control", "no-store");
			return resp_json(r, 403, json_pack("{s:{s:s,s:s}}", "error", "code", "renewal_required", "message",
							   M(r, "renew_required")));
		}
		session_cookie(r, j->token);
		sodium_memzero(j->token, sizeof(j->token));
		const char *next = identity_safe_next(j->next, "");
		return resp_redirect(r, 303, *next ? arena_printf(r->arena, "/login/renew?next=%s", next) : "/login/renew");
	}
	case LOGIN_OK:
		session_cookie(r, j->token);
		sodium_memzero(j->token, sizeof(j->token));
		return resp_redirect(r, 303, identity_safe_next(j->next, "/account"));
	}
	return GH_EINTERNAL;
}

static int need_code_write(struct req *w, void *p)
{
	login_need_code(w, p);
	return 0;
}

/* The password was checked on the pool: the rest is written by the writer. */
static int login_done(struct req *r, void *p)
{
	return req_write(r, login_write, login_answer, p);
}

/* The hashing job of a log-in goes to the pool under the client's address and a class:
 * JOBS_LOW for an address with recent wrong passwords, so a flood from such addresses waits
 * behind everyone else's log-ins; JOBS_HIGH for an address a log-in succeeded from lately
 * (and none failed from since), so returning users go first (src/base/jobs.h). */
struct pool_job {
	struct jobs *jobs;
	const char *key;
	enum jobs_class cls;
	void (*work)(void *);
	void *arg;
	void (*resume)(void *);
	void *token;
	unsigned retry;
};

static void pool_work(void *p)
{
	struct pool_job *pj = p;
	pj->work(pj->arg);
}

static void pool_done(void *p)
{
	struct pool_job *pj = p;
	pj->resume(pj->token);
}

static int pool_submit(void *ctx, struct event_base *base, void (*resume)(void *), void *token)
{
	struct pool_job *pj = ctx;
	pj->resume = resume;
	pj->token = token;
	return jobs_submit_keyed(pj->jobs, base, pj->key, pj->cls, pool_work, pool_done, pj, &pj->retry);
}

/* 503 with the pool's Retry-After. */
static int pool_busy(struct req *r, const struct pool_job *pj)
{
	resp_header(r, "Retry-After", arena_printf(r->arena, "%u", pj->retry ? pj->retry : 1));
	return GH_EBUSY;
}

static int login_get(struct req *r)
{
	/* again=1: the national hub asks for a fresh log-in (prompt=login), so the form is shown
	 * even to someone logged in; logging in replaces the session. */
	if (r->who.account && !req_query(r, "again"))
		return resp_redirect(r, 303, identity_safe_next(req_query(r, "next"), "/account"));
	json_t *v = json_object();
	const char *next = req_query(r, "next");
	if (next)
		json_object_set_new(v, "next", json_string(identity_safe_next(next, "")));
	resp_header(r, "Cache-Control", "no-store");
	return resp_page(r, 200, "identity/login", login_ctx(r, v));
}

static int login_post(struct req *r)
{
	json_t *in;
	int rc = identity_read_input(r, &in);
	if (rc)
		return rc;
	const char *login = identity_field(in, "login"), *pw = identity_field(in, "password");
	/* The second factor's code: "code" (the form's field), or "totp" as API clients send it. */
	const char *code = *identity_field(in, "code") ? identity_field(in, "code") : identity_field(in, "totp");
	json_t *errs = json_object();
	arena_cleanup(r->arena, (void (*)(void *))json_decref, errs);
	if (!*login || strlen(login) > 64)
		identity_field_error(errs, "login", M(r, "login_enter_id_number_credit_code"));
	if (!*pw || strlen(pw) > PASSWORD_MAX_BYTES)
		identity_field_error(errs, "password", M(r, "login_enter_password"));
	if (strlen(code) > 16)
		identity_field_error(errs, "code", view_msg(r->app->view, r->lang, "auth_code_invalid"));
	unsigned scopes = 0;
	const char *channel = "app";
	if (r->api) {
		const char *sc = identity_field(in, "scopes"), *ch = identity_field(in, "channel");
		if (*sc && scopes_parse(sc, &scopes))
			identity_field_error(errs, "scopes", M(r, "identity_scope_unknown"));
		if (*ch) {
			if (strcmp(ch, "app") && strcmp(ch, "miniprogram") && strcmp(ch, "kiosk") && strcmp(ch, "other"))
				identity_field_error(errs, "channel", M(r, "identity_channel_unknown"));
			channel = ch;
		}
		if (strlen(identity_field(in, "name")) > 100)
			identity_field_error(errs, "name", M(r, "identity_token_name_long"));
	}
	if (json_object_size(errs))
		return req_invalid(r, "identity/login", login_ctx(r, kept_values(in)), errs);

	/* A flood is refused before any look-up when the hashing queue would refuse it anyway;
	 * then the address: throttled, or with a record of wrong passwords (its hashing then
	 * waits behind that of clean addresses). */
	struct pool_job *pj = arena_zalloc(r->arena, sizeof(*pj));
	pj->jobs = r->app->jobs;
	pj->key = r->ip;
	pj->cls = JOBS_HIGH; /* the best a log-in can hope for: refused even so, refused at once */
	if (pj->jobs && jobs_admissible(pj->jobs, pj->key, pj->cls, &pj->retry))
		return pool_busy(r, pj);
	int64_t addr_failures = 0, wait = 0;
	if ((rc = throttle_state(r->db, key_address(r), identity_now(), &addr_failures, &wait)))
		return rc;
	if (wait > 0)
		return throttle_refuse(r, wait);
	bool good = false;
	if (!addr_failures && (rc = throttle_is_good(r->db, r->ip, identity_now(), &good)))
		return rc;
	pj->cls = addr_failures ? JOBS_LOW : good ? JOBS_HIGH : JOBS_NORMAL;
	if (pj->cls != JOBS_HIGH && pj->jobs && jobs_admissible(pj->jobs, pj->key, pj->cls, &pj->retry))
		return pool_busy(r, pj);
	struct login_job *j = arena_zalloc(r->arena, sizeof(*j));
	j->login = arena_strdup(r->arena, login);
	j->password = arena_strdup(r->arena, pw);
	j->code = arena_strdup(r->arena, code);
	j->next = arena_strdup(r->arena, identity_field(in, "next"));
	j->token_name = arena_strdup(r->arena, *identity_field(in, "name") ? identity_field(in, "name") : channel);
	j->channel = arena_strdup(r->arena, channel);
	j->scopes = scopes;
	char index[CRYPTO_HASH_HEX + 1];
	rc = account_find_login(r->db, r->app->keys, r->arena, login, &j->acc, index);
	if (rc && rc != GH_ENOTFOUND)
		return rc;
	j->found = rc == 0;
	if (j->found)
		snprintf(j->subject, sizeof(j->subject), "acct:%lld", (long long)j->acc.id);
	else
		snprintf(j->subject, sizeof(j->subject), "name:%s", index);

	/* Throttled callers are answered before any hashing. */
	if ((rc = throttle_check(r, key_pair(r, j->subject))))
		return rc;
	int64_t failures = 0;
	if ((rc = throttle_state(r->db, key_account(r, j->subject), identity_now(), &failures, NULL)))
		return rc;
	j->step_up = failures >= LOGIN_CEILING;
	/* Past the ceiling a refused factor is said before the password is looked at, so the
	 * answer never depends on the password. */
	if (j->step_up && j->found && (rc = factor_open(r, &j->acc, factor_of(&j->acc))))
		return rc;
	if (j->step_up && !*j->code)
		return req_write(r, need_code_write, login_answer, j);
	if (!pj->jobs)
		return req_job(r, login_work, login_done, j);
	pj->work = login_work;
	pj->arg = j;
	rc = req_defer(r, pool_submit, pj, login_done, j);
	return rc == GH_EBUSY ? pool_busy(r, pj) : rc;
}

/* ---- second factor -------------------------------------------------------------------- */

static json_t *totp_ctx(struct req *r)
{
	json_t *v = json_object();
	const char *next = req_query(r, "next");
	if (next)
		json_object_set_new(v, "next", json_string(identity_safe_next(next, "")));
	return json_pack("{s:s,s:s,s:o}", "title", M(r, "totp_title"), "csrf", identity_csrf_token(r),
			 "v", v);
}

static int totp_get(struct req *r)
{
	if (!r->who.mfa_pending)
		return resp_redirect(r, 303, "/login");
	struct account acc;
	if (session_pending_account(r, &acc) == 0 && acc.must_renew)
		return resp_redirect(r, 303, "/login/renew");
	resp_header(r, "Cache-Control", "no-store");
	return resp_page(r, 200, "identity/totp", totp_ctx(r));
}

struct totp_step {
	struct account acc;
	const char *code, *next;
	bool typed;
	/* out */
	bool wrong;
	char token[CRYPTO_TOKEN_LEN + 1];
};

/* The code typed on the second-factor page: checked (and used up), counted when wrong; when
 * right the session is complete. A write; a wrong code is not an error (its count stays). */
static int totp_write(struct req *w, void *p)
{
	struct totp_step *t = p;
	t->wrong = !t->typed || strlen(t->code) > 16 || factor_verify(w, &t->acc, "totp", t->code);
	if (t->wrong) {
		if (t->typed)
			factor_failed(w, &t->acc, "totp", "wrong code");
		return 0;
	}
	struct login_job done = { .acc = t->acc };
	snprintf(done.subject, sizeof(done.subject), "acct:%lld", (long long)t->acc.id);
	login_cleared(w, &done, "totp");
	int rc = session_mfa_done(w, t->token);
	if (rc)
		return rc;
	identity_event(w->db, "login.ok", t->acc.id, t->acc.id, w->ip, "with totp");
	return 0;
}

static int totp_answer(struct req *r, void *p, int rc)
{
	struct totp_step *t = p;
	if (rc)
		return rc;
	if (t->wrong) {
		json_t *errs = json_object();
		arena_cleanup(r->arena, (void (*)(void *))json_decref, errs);
		identity_field_error(errs, "totp", M(r, "login_code_wrong_has_expired"));
		json_t *ctx = totp_ctx(r);
		json_object_set_new(json_object_get(ctx, "v"), "next", json_string(t->next));
		return req_invalid(r, "identity/totp", ctx, errs);
	}
	session_cookie(r, t->token);
	sodium_memzero(t->token, sizeof(t->token));
	return resp_redirect(r, 303, identity_safe_next(t->next, "/account"));
}

static int totp_post(struct req *r)
{
	if (!r->who.mfa_pending)
		return resp_redirect(r, 303, "/login");
	json_t *in;
	int rc = identity_read_input(r, &in);
	if (rc)
		return rc;
	struct totp_step *t = arena_zalloc(r->arena, sizeof(*t));
	if ((rc = session_pending_account(r, &t->acc)))
		return rc == GH_ENOTFOUND ? resp_redirect(r, 303, "/login") : rc;
	if (t->acc.must_renew)
		return resp_redirect(r, 303, "/login/renew");
	if ((rc = factor_open(r, &t->acc, "totp")))
		return rc;
	t->code = identity_field(in, "totp");
	t->typed = *t->code != 0; /* an empty form is not a guess */
	t->next = identity_field(in, "next");
	return req_write(r, totp_write, totp_answer, t);
}

/* ---- log-out -------------------------------------------------------------------------- */

static int logout_write(struct req *w, void *p)
{
	(void)p;
	int rc = session_end(w, false);
	if (!rc)
		identity_event(w->db, "logout", w->who.account, w->who.account, w->ip, "");
	return rc;
}

static int logout_answer(struct req *r, void *p, int rc)
{
	(void)p;
	if (rc)
		return rc;
	session_cookie(r, NULL);
	return resp_redirect(r, 303, "/");
}

static int logout_post(struct req *r)
{
	return req_write(r, logout_write, logout_answer, NULL);
}

static int api_logout_write(struct req *w, void *p)
{
	(void)p;
	int rc = token_revoke(w->db, w->who.account, w->who.session, identity_now());
	if (!rc)
		identity_event(w->db, "token.revoke", w->who.account, w->who.account, w->ip, "log-out");
	return rc;
}

static int api_logout(struct req *r)
{
	resp_body(r, 204, NULL, NULL, 0);
	return req_write(r, api_logout_write, NULL, NULL);
}

/* ---- registration --------------------------------------------------------------------- */

struct register_job {
	struct account_new acc;
	char *password;
	int rc;
	char hash[PASSWORD_HASH_MAX];
	char limit_key[96];
};

static void register_work(void *p)
{
	struct register_job *j = p;
	j->rc = password_hash(j->password, j->hash);
	sodium_memzero(j->password, strlen(j->password));
}

/* The account, or the note that the details were registered already: a write. */
static int register_write(struct req *w, void *p)
{
	struct register_job *j = p;
	j->acc.password_hash = j->hash;
	int64_t id = 0;
	int rc = account_create(w->db, w->app->keys, w->arena, &j->acc, &id);
	if (rc && rc != GH_ECONFLICT)
		return rc;
	/* The same answer whether the account is new or existed: nothing is revealed. A new
	 * account's phone gets the code that proves it. */
	identity_event(w->db, rc ? "register.duplicate" : "register", rc ? 0 : id, 0, w->ip, j->acc.kind);
	if (!rc)
		recover_registered(w, id, j->acc.phone, j->acc.released);
	return 0;
}

static int register_answer(struct req *r, void *p, int rc)
{
	struct register_job *j = p;
	sodium_memzero(j->hash, sizeof(j->hash));
	if (rc)
		return rc;
	const char *msg = M(r, "register_accepted");
	if (r->api)
		return resp_json(r, 202, json_pack("{s:s,s:s}", "status", "accepted", "message", msg));
	json_t *ctx = json_pack("{s:s,s:s}", "title", M(r, "register_button"), "message", msg);
	return resp_page(r, 200, "identity/registered", ctx);
}

/* The password was hashed on the pool. */
static int register_done(struct req *r, void *p)
{
	struct register_job *j = p;
	if (j->rc)
		return j->rc;
	return req_write(r, register_write, register_answer, j);
}

/* The address's registrations this hour, counted before any hashing. */
static int register_count(struct req *w, void *p)
{
	struct register_job *j = p;
	j->rc = ratelimit_hit(w, j->limit_key, REGISTRATIONS_PER_HOUR, 3600);
	return j->rc == GH_ERATELIMIT ? 0 : j->rc;
}

static int register_counted(struct req *r, void *p, int rc)
{
	struct register_job *j = p;
	if (rc || (rc = j->rc))
		return rc;
	return req_job(r, register_work, register_done, j);
}

static json_t *register_ctx(struct req *r, const char *kind, json_t *values)
{
	json_t *ctx = json_pack("{s:s,s:s,s:o}", "title",
				strcmp(kind, "enterprise") == 0 ? M(r, "register_enterprise_link")
								: M(r, "register_individual_link"),
				"csrf", identity_csrf_token(r), "v", values ? values : json_object());
	json_object_set_new(ctx, strcmp(kind, "enterprise") == 0 ? "is_enterprise" : "is_individual", json_true());
	json_object_set_new(ctx, "nav_register", json_true());
	return ctx;
}

static void check_name(struct req *r, json_t *errs, const char *key, const char *v, size_t max)
{
	size_t n = str_utf8_chars(v, strlen(v));
	if (n < 2 || n > max)
		identity_field_error(errs, key, M(r, "login_enter_full_name_certificate_2"));
}

static void check_password(struct req *r, json_t *errs, const char *pw, const char *pw2, const char *const *avoid)
{
	enum password_problem p = password_check(pw, avoid);
	if (p != PASSWORD_OK)
		identity_field_error(errs, "password", M(r, password_problem_text(p)));
	else if (strcmp(pw, pw2) != 0)
		identity_field_error(errs, "password2", M(r, "login_two_passwords_do_not_match"));
}

static int do_register(struct req *r, const char *kind)
{
	json_t *in;
	int rc = identity_read_input(r, &in);
	if (rc)
		return rc;
	const char *tpl = "identity/register";
	json_t *errs = json_object();
	arena_cleanup(r->arena, (void (*)(void *))json_decref, errs);
	struct register_job *j = arena_zalloc(r->arena, sizeof(*j));
	bool ent = strcmp(kind, "enterprise") == 0;
	const char *name = identity_field(in, "name"), *phone_in = identity_field(in, "phone");
	const char *ident_in = identity_field(in, ent ? "uscc" : "id_number");
	const char *pw = identity_field(in, "password"), *pw2 = identity_field(in, r->api ? "password" : "password2");
	check_name(r, errs, "name", name, ent ? 100 : 50);
	char ident[32], phone[32];
	size_t il = idcheck_normalize(ident_in, strlen(ident_in), ident, sizeof(ident));
	enum idcheck_err ie = il ? (ent ? idcheck_uscc(ident, il) : idcheck_id_number(ident, il)) : IDCHECK_LENGTH;
	if (ie != IDCHECK_OK)
		identity_field_error(errs, ent ? "uscc" : "id_number", M(r, idcheck_reason(ie, ent ? "uscc" : "id_number")));
	size_t pl = idcheck_normalize(phone_in, strlen(phone_in), phone, sizeof(phone));
	enum idcheck_err pe = pl ? idcheck_phone(phone, pl) : IDCHECK_LENGTH;
	if (pe != IDCHECK_OK)
		identity_field_error(errs, "phone", M(r, idcheck_reason(pe, "phone")));
	if (ent)
		check_name(r, errs, "legal_rep", identity_field(in, "legal_rep"), 50);
	const char *avoid[] = { ident, phone, NULL };
	check_password(r, errs, pw, pw2, avoid);
	if (json_object_size(errs))
		return req_invalid(r, tpl, register_ctx(r, kind, kept_values(in)), errs);

	snprintf(j->limit_key, sizeof(j->limit_key), "register:ip:%s", r->ip);
	j->acc.kind = ent ? "enterprise" : "individual";
	j->acc.name = arena_strdup(r->arena, name);
	if (ent) {
		j->acc.uscc = arena_strdup(r->arena, ident);
		j->acc.legal_rep = arena_strdup(r->arena, identity_field(in, "legal_rep"));
	} else {
		j->acc.id_number = arena_strdup(r->arena, ident);
	}
	j->acc.phone = arena_strdup(r->arena, phone);
	j->password = arena_strdup(r->arena, pw);
	return req_write(r, register_count, register_counted, j);
}

static int register_get(struct req *r)
{
	resp_header(r, "Cache-Control", "no-store");
	return resp_page(r, 200, "identity/register", register_ctx(r, "individual", NULL));
}

static int register_enterprise_get(struct req *r)
{
	resp_header(r, "Cache-Control", "no-store");
	return resp_page(r, 200, "identity/register", register_ctx(r, "enterprise", NULL));
}

static int register_post(struct req *r)
{
	return do_register(r, "individual");
}

static int register_enterprise_post(struct req *r)
{
	return do_register(r, "enterprise");
}

const struct route identity_login_routes[] = {
	{ HTTP_GET, "/login", login_get, ROLE_PUBLIC, 0, "identity.login" },
	{ HTTP_POST, "/login", login_post, ROLE_PUBLIC, ROUTE_CSRF, "identity.login_post" },
	{ HTTP_GET, "/login/totp", totp_get, ROLE_ANON, 0, "identity.totp" },
	{ HTTP_POST, "/login/totp", totp_post, ROLE_ANON, ROUTE_CSRF, "identity.totp_post" },
	{ HTTP_POST, "/logout", logout_post, ROLE_USER, ROUTE_CSRF, "identity.logout" },
	{ HTTP_GET, "/register", register_get, ROLE_PUBLIC, 0, "identity.register" },
	{ HTTP_POST, "/register", register_post, ROLE_PUBLIC, ROUTE_CSRF, "identity.register_post" },
	{ HTTP_GET, "/register/enterprise", register_enterprise_get, ROLE_PUBLIC, 0, "identity.register_enterprise" },
	{ HTTP_POST, "/register/enterprise", register_enterprise_post, ROLE_PUBLIC, ROUTE_CSRF,
	  "identity.register_enterprise_post" },
	{ HTTP_POST, "/api/v1/auth/token", login_post, ROLE_PUBLIC, 0, "identity.api_token" },
	{ HTTP_DELETE, "/api/v1/auth/token", api_logout, ROLE_USER, 0, "identity.api_logout" },
	{ HTTP_POST, "/api/v1/accounts/individual", register_post, ROLE_PUBLIC, 0, "identity.api_register" },
	{ HTTP_POST, "/api/v1/accounts/enterprise", register_enterprise_post, ROLE_PUBLIC, 0,
	  "identity.api_register_enterprise" },
};
const size_t identity_login_routes_n = sizeof(identity_login_routes) / sizeof(identity_login_routes[0]);
