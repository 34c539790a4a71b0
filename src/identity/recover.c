/* recover.c: getting back into an account, and the phone number that makes it possible.
 *
 * - Verified phones. A number is the account's only once a one-time code sent to it by SMS
 *   came back (registration sends one at once; a change of number sends one to the new
 *   number, which replaces the old one only then). Codes for log-in and recovery go only to a
 *   verified number (otp_send). An account holding a number it never proved loses it to an
 *   account that proves it, or to a new registration with it (accounts.c).
 * - Forgot password (citizens and enterprises): a phone number, ID number or credit code is
 *   typed; the handler does the same steps whether or not it designates an account that may
 *   recover (active, individual or enterprise, verified number, no renewal due): the same
 *   look-ups, a code made and hashed, an SMS queued with its number and text sealed (for
 *   nobody: a blank number the delivery drops), a security event, one answer. Limits: per
 *   address, per number (otp_send_to) and per account or name (otp_issue's). The code and a
 *   new password then reset it: every session and token ends, the log-in counters are
 *   forgotten (the way out past the ceiling), the owner is told in the inbox, and no one is
 *   logged in.
 * - Staff and administrators are reset by another administrator: a temporary password shown
 *   once, sessions and tokens ended, the second factor removed when they had one (always for
 *   administrators); at the next log-in they set a new password and enrol the authenticator
 *   app again (/login/renew) before anything else.
 * Password hashing runs on the job pool. */
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "base/util.h"
#include "http/handler.h"
#include "http/server.h"
#include "http/write.h"
#include "identity/identity_impl.h"
#include "store/db.h"
#include "view/view.h"

#define RECOVER_PER_ADDRESS_HOUR 10 /* recovery requests from one address */
#define RESET_PER_ADDRESS_HOUR 30   /* attempts to reset with a code from one address */
#define PHONE_SENDS_PER_HOUR 10     /* requests for a verification code by one account */

static json_t *errors_of(struct req *r)
{
	json_t *errs = json_object();
	arena_cleanup(r->arena, (void (*)(void *))json_decref, errs);
	return errs;
}

static json_t *page_ctx(struct req *r, const char *title_key)
{
	return json_pack("{s:s,s:s}", "title", M(r, title_key), "csrf", identity_csrf_token(r));
}

/* The kind of name typed: "phone", "id" (ID number or credit code), or NULL. norm gets it
 * normalised. */
static const char *name_kind(const char *login, char *norm, size_t cap)
{
	size_t n = idcheck_normalize(login, strlen(login), norm, cap);
	if (!n)
		return NULL;
	if (idcheck_phone(norm, n) == IDCHECK_OK)
		return "phone";
	if (idcheck_id_number(norm, n) == IDCHECK_OK || idcheck_uscc(norm, n) == IDCHECK_OK)
		return "id";
	return NULL;
}

/* Whether acc may reset its password with a code by SMS. */
static bool may_recover(const struct account *acc)
{
	return strcmp(acc->status, "active") == 0 && acc->phone_verified_at && acc->must_renew == ACCOUNT_RENEW_NONE &&
	       (strcmp(acc->kind, "individual") == 0 || strcmp(acc->kind, "enterprise") == 0);
}

/* ---- verified phones --------------------------------------------------------------------- */

/* Sends a code proving phone (plain, normalised) for account, in a transaction of its own. */
static int phone_code(struct req *r, int64_t account, const char *phone)
{
	char subject[OTP_SUBJECT_MAX], index[CRYPTO_HASH_HEX + 1];
	otp_subject(subject, account);
	crypto_blind_index(r->app->keys, "phone", phone, strlen(phone), index);
	int rc = db_begin(r->db);
	if (rc)
		return rc;
	rc = otp_send_to(r,
			 &(struct otp_code){ .subject = subject, .account = account, .target = phone, .to = phone,
					     .phone_key = index },
			 "phone", N_("phone_sms"));
	if (!rc)
		identity_event(r->db, "phone.code_sent", account, account, r->ip, "");
	if (!rc)
		rc = db_commit(r->db);
	if (rc)
		db_rollback(r->db);
	return rc;
}

void recover_registered(struct req *r, int64_t account, const char *phone, int64_t released)
{
	if (released) {
		identity_event(r->db, "phone.released", released, 0, r->ip, "registration");
		identity_tell(r, released, "security_phone_released", N_("phone_released_title"), N_("phone_released_body"), NULL,
			      0);
	}
	int rc = phone_code(r, account, phone);
	if (rc && rc != GH_EUNAVAILABLE)
		log_warn("identity: no verification code could be sent to account %lld (%s)", (long long)account,
			 err_name(rc));
}

static json_t *phone_ctx(struct req *r, const struct account *acc)
{
	json_t *ctx = page_ctx(r, "phone_title");
	json_object_set_new(ctx, "nav_account", json_true());
	json_object_set_new(ctx, "account", account_json(acc));
	json_object_set_new(ctx, "v", json_object());
	return ctx;
}

/* GET /account/phone */
static int phone_get(struct req *r)
{
	struct account acc;
	int rc = account_get(r->db, r->arena, r->who.account, &acc);
	if (rc)
		return rc;
	json_t *ctx = phone_ctx(r, &acc);
	if (req_query(r, "sent"))
		json_object_set_new(ctx, "notice", json_string(M(r, "phone_sent")));
	resp_header(r, "Cache-Control", "no-store");
	return resp_page(r, 200, "identity/phone", ctx);
}

static int phone_invalid(struct req *r, const struct account *acc, json_t *errs, json_t *values)
{
	json_t *ctx = r->api ? NULL : phone_ctx(r, acc);
	if (ctx)
		json_object_set_new(ctx, "v", values);
	else
		json_decref(values);
	resp_header(r, "Cache-Control", "no-store");
	return req_invalid(r, "identity/phone", ctx, errs);
}

struct phone_job {
	struct account acc;
	char *hash, *password;
	char number[32];
	bool ok;
	int sent; /* the code's sending: 0 or a GH_E code */
};

/* On the writer: the request counted against the account's budget, and the code sent (in a
 * transaction of its own: a code that cannot go leaves the count). */
static int phone_send_write(struct req *w, struct phone_job *j)
{
	char key[64];
	snprintf(key, sizeof(key), "phonesend:%lld", (long long)j->acc.id);
	j->sent = ratelimit_hit(w, key, PHONE_SENDS_PER_HOUR, 3600);
	if (!j->sent)
		j->sent = phone_code(w, j->acc.id, j->number);
	return j->sent == GH_ERATELIMIT || j->sent == GH_EUNAVAILABLE ? 0 : j->sent;
}

static int phone_send_fn(struct req *w, void *p)
{
	return phone_send_write(w, p);
}

static int phone_sent(struct req *r, void *p, int rc)
{
	struct phone_job *j = p;
	if (!rc)
		rc = j->sent;
	if (rc == GH_EUNAVAILABLE)
		req_error_detail(r, "%s", M(r, "phone_unavailable"));
	if (rc)
		return rc;
	if (r->api) {
		size_t n = strlen(j->number);
		char *mask = arena_alloc(r->arena, n + 1);
		idcheck_mask(j->number, n, mask, n + 1);
		resp_header(r, "Cache-Control", "no-store");
		return resp_json(r, 202, json_pack("{s:s,s:s,s:i}", "status", "sent", "phone_masked", mask, "expires_in",
						   OTP_TTL));
	}
	return resp_redirect(r, 303, "/account/phone?sent=1");
}

static void phone_work(void *p)
{
	struct phone_job *j = p;
	j->ok = password_verify(j->hash, j->password);
	sodium_memzero(j->password, strlen(j->password));
}

/* On the writer, once the password was checked: the failure counted, or the count cleared
 * and the code sent. */
static int phone_change_write(struct req *w, void *p)
{
	struct phone_job *j = p;
	char key[64];
	snprintf(key, sizeof(key), "pwchange:%lld", (long long)j->acc.id);
	if (!j->ok) {
		ratelimit_fail(w->db, key, identity_now(), RATELIMIT_FREE_ACCOUNT);
		identity_event(w->db, "phone.change_fail", j->acc.id, j->acc.id, w->ip, "wrong current password");
		return 0;
	}
	ratelimit_clear(w->db, key);
	return phone_send_write(w, j);
}

static int phone_changed(struct req *r, void *p, int rc)
{
	struct phone_job *j = p;
	if (!rc && !j->ok) {
		json_t *errs = errors_of(r);
		identity_field_error(errs, "current_password", M(r, "phone_password_wrong"));
		return phone_invalid(r, &j->acc, errs, json_pack("{s:s}", "phone", j->number));
	}
	return phone_sent(r, j, rc);
}

static int phone_done(struct req *r, void *p)
{
	return req_write(r, phone_change_write, phone_changed, p);
}

/* The input, the calling account and its number (plain; NULL when none) of a phone request. */
static int phone_caller(struct req *r, json_t **in, struct account *acc, char **current)
{
	char *email = NULL, *name = NULL;
	*current = NULL;
	int rc = identity_read_input(r, in);
	if (!rc)
		rc = account_get(r->db, r->arena, r->who.account, acc);
	if (!rc)
		rc = identity_contact(r->db, r->app->keys, r->arena, acc->id, current, &email, &name);
	return rc;
}

/* POST /account/phone, POST /api/v1/me/phone: a code to the account's number (none given, or
 * the same), or to a new number (with the current password). */
static int phone_post(struct req *r)
{
	json_t *in;
	struct account acc;
	char *current;
	int rc = phone_caller(r, &in, &acc, &current);
	if (rc)
		return rc;
	json_t *errs = errors_of(r);
	const char *typed = identity_field(in, "phone"), *pw = identity_field(in, "current_password");
	char number[32] = "";
	if (*typed) {
		size_t n = idcheck_normalize(typed, strlen(typed), number, sizeof(number));
		enum idcheck_err e = n ? idcheck_phone(number, n) : IDCHECK_LENGTH;
		if (e != IDCHECK_OK)
			identity_field_error(errs, "phone", M(r, idcheck_reason(e, "phone")));
	} else if (current) {
		snprintf(number, sizeof(number), "%s", current);
	} else {
		identity_field_error(errs, "phone", M(r, "phone_enter"));
	}
	bool changing = *number && (!current || strcmp(number, current) != 0);
	if (!json_object_size(errs) && !changing && acc.phone_verified_at)
		identity_field_error(errs, "phone", M(r, "phone_already_verified"));
	if (changing && (!*pw || strlen(pw) > PASSWORD_MAX_BYTES))
		identity_field_error(errs, "current_password", M(r, "phone_password_needed"));
	if (json_object_size(errs))
		return phone_invalid(r, &acc, errs, json_pack("{s:s}", "phone", strlen(typed) > 64 ? "" : typed));
	struct phone_job *j = arena_zalloc(r->arena, sizeof(*j));
	j->acc = acc;
	snprintf(j->number, sizeof(j->number), "%s", number);
	if (!changing)
		return req_write(r, phone_send_fn, phone_sent, j);
	char key[64];
	snprintf(key, sizeof(key), "pwchange:%lld", (long long)acc.id);
	if ((rc = ratelimit_check(r, key)))
		return rc;
	j->hash = arena_strdup(r->arena, acc.password_hash ? acc.password_hash : "");
	j->password = arena_strdup(r->arena, pw);
	return req_job(r, phone_work, phone_done, j);
}

/* A code that proved a number, and what it changes. */
struct verify_job {
	struct account acc;
	char subject[OTP_SUBJECT_MAX];
	const char *code, *current; /* as typed; the account's number (NULL: none) */
	struct otp_match m;
	int64_t now, released;
	bool changed, wrong;
};

/* On the writer: the code matched and used, the number the account's, codes sent to the old
 * one ended. */
static int verify_write(struct req *w, void *p)
{
	struct verify_job *j = p;
	int64_t id = j->acc.id, now = j->now;
	j->released = 0;
	/* The code matched here, so that wrong tries are counted in order. */
	int rc = otp_match(w->db, w->app->keys, w->arena, j->subject, "phone", j->code, now, &j->m);
	j->wrong = rc == GH_EINVAL || rc == GH_ENOTFOUND || (!rc && !j->m.target);
	if (j->wrong)
		return 0;
	if (rc)
		return rc;
	j->changed = !j->current || strcmp(j->current, j->m.target) != 0;
	rc = otp_use(w->db, j->m.id, now);
	if (!rc)
		rc = account_set_phone(w->db, w->app->keys, w->arena, id, j->m.target, now, &j->released);
	if (!rc && j->changed)
		rc = otp_end_all(w->db, id, "login", now); /* codes sent to the old number die */
	if (rc)
		return rc;
	identity_event(w->db, j->changed ? "phone.change" : "phone.verify", id, id, w->ip, "");
	if (j->released) {
		identity_event(w->db, "phone.released", j->released, id, w->ip, "verified by another account");
		identity_tell(w, j->released, "security_phone_released", N_("phone_released_title"), N_("phone_released_body"),
			      NULL, 0);
	}
	if (j->changed) {
		const struct msg_arg at[] = { MA("at", req_when(w, now)) };
		identity_tell(w, id, "security_phone_changed", N_("phone_changed_title"), N_("phone_changed_body"), at,
			      ARRAY_LEN(at));
	}
	return 0;
}

static int verified(struct req *r, void *p, int rc)
{
	struct verify_job *j = p;
	if (!rc && j->wrong)
		rc = GH_ENOTFOUND;
	if (rc == GH_ECONFLICT || rc == GH_ENOTFOUND) {
		json_t *errs = errors_of(r);
		identity_field_error(errs, rc == GH_ECONFLICT ? "phone" : "code",
				     M(r, rc == GH_ECONFLICT ? "phone_taken" : "phone_code_wrong"));
		return phone_invalid(r, &j->acc, errs, json_object());
	}
	if (rc)
		return rc;
	if (r->api) {
		struct account acc;
		if ((rc = account_get(r->db, r->arena, j->acc.id, &acc)))
			return rc;
		resp_header(r, "Cache-Control", "no-store");
		return resp_json(r, 200, account_json(&acc));
	}
	return resp_redirect(r, 303, j->changed ? "/account?done=phone_changed" : "/account?done=phone_verified");
}

/* POST /account/phone/verify, POST /api/v1/me/phone/verify: the code proves its number, which
 * becomes the account's (verified). */
static int phone_verify(struct req *r)
{
	json_t *in;
	struct account acc;
	char *current;
	int rc = phone_caller(r, &in, &acc, &current);
	if (rc)
		return rc;
	const char *code = identity_field(in, "code");
	struct verify_job *j = arena_zalloc(r->arena, sizeof(*j));
	*j = (struct verify_job){ .acc = acc, .now = identity_now(), .current = current, .code = code };
	otp_subject(j->subject, acc.id);
	if (strlen(code) > 16) {
		j->wrong = true;
		return verified(r, j, 0);
	}
	return req_write(r, verify_write, verified, j);
}

/* ---- forgot password --------------------------------------------------------------------- */

static json_t *forgot_ctx(struct req *r, json_t *values)
{
	json_t *ctx = page_ctx(r, "recover_title");
	json_object_set_new(ctx, "v", values ? values : json_object());
	return ctx;
}

static json_t *reset_ctx(struct req *r, json_t *values)
{
	json_t *ctx = page_ctx(r, "recover_reset_title");
	json_object_set_new(ctx, "v", values ? values : json_object());
	return ctx;
}

/* GET /password/forgot */
static int forgot_get(struct req *r)
{
	resp_header(r, "Cache-Control", "no-store");
	return resp_page(r, 200, "identity/forgot", forgot_ctx(r, NULL));
}

/* A sealed number that opens, used when no account was found, so that the same work (one
 * look-up, one opening) is done either way. Made once. */
static unsigned char dummy_sealed[CRYPTO_SEAL_OVERHEAD + 11];
static size_t dummy_len;
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static const struct keyring *dummy_keys;

static void dummy_make(void)
{
	struct arena *a = arena_new(256);
	unsigned char *enc;
	size_t len;
	if (!crypto_seal(dummy_keys, a, "phone", "00000000000", 11, &enc, &len) && len <= sizeof(dummy_sealed)) {
		memcpy(dummy_sealed, enc, len);
		dummy_len = len;
	}
	arena_free(a);
}

/* The plain number of account (0: none found), opened the same way whether or not it exists:
 * *phone is NULL when there is none. */
static int number_of(struct req *r, int64_t account, char **phone)
{
	char *email = NULL, *name = NULL;
	*phone = NULL;
	int rc = identity_contact(r->db, r->app->keys, r->arena, account, phone, &email, &name);
	if (rc == GH_ENOTFOUND) {
		dummy_keys = r->app->keys;
		pthread_once(&dummy_once, dummy_make);
		char *plain;
		if (dummy_len)
			crypto_open(r->app->keys, r->arena, "phone", dummy_sealed, dummy_len, &plain, NULL, NULL);
		rc = 0;
	}
	return rc;
}

/* Counts a request against the address ("recover:<what>:<address>", per_hour; on the loop,
 * counted along with it) and finds the
 * account login names: *found, and the codes' subject (the account, else "name:<blind
 * index>"). GH_ERATELIMIT or a database error. */
static int named(struct req *r, const char *what, int per_hour, const char *login, struct account *acc,
		 char subject[OTP_SUBJECT_MAX], bool *found)
{
	char key[96], index[CRYPTO_HASH_HEX + 1];
	snprintf(key, sizeof(key), "recover:%s:%s", what, r->ip);
	int rc = identity_rate_limit(r, key, per_hour, 3600); /* counted along with the request */
	if (!rc)
		rc = account_find_login(r->db, r->app->keys, r->arena, login, acc, index);
	if (rc && rc != GH_ENOTFOUND)
		return rc;
	*found = rc == 0;
	if (*found)
		otp_subject(subject, acc->id);
	else
		snprintf(subject, OTP_SUBJECT_MAX, "name:%s", index);
	return 0;
}

/* A recovery request on its way: the code and the SMS (to nobody when no account may recover). */
struct forgot_job {
	struct otp_code code;
	int64_t account;
	bool eligible;
	char *phone;       /* the account's number, wiped once answered */
	const char *login; /* as typed */
};

static int forgot_write(struct req *w, void *p)
{
	struct forgot_job *j = p;
	int rc = otp_send_to(w, &j->code, "recovery", N_("recover_sms"));
	if (!rc)
		identity_event(w->db, "recovery.request", j->account, 0, w->ip,
			       j->eligible ? "{\"sent\":true}" : "{\"sent\":false}");
	return rc;
}

static int forgot_answer(struct req *r, void *p, int rc)
{
	struct forgot_job *j = p;
	if (j->phone)
		sodium_memzero(j->phone, strlen(j->phone));
	if (rc)
		return rc;
	resp_header(r, "Cache-Control", "no-store");
	if (r->api)
		return resp_json(r, 202, json_pack("{s:s,s:s,s:i}", "status", "accepted", "message", M(r, "recover_sent"),
						   "expires_in", OTP_TTL));
	json_t *ctx = reset_ctx(r, json_pack("{s:s}", "login", j->login));
	json_object_set_new(ctx, "notice", json_string(M(r, "recover_sent")));
	return resp_page(r, 200, "identity/reset", ctx);
}

/* POST /password/forgot, POST /api/v1/auth/recovery */
static int forgot_post(struct req *r)
{
	json_t *in;
	int rc = identity_read_input(r, &in);
	if (rc)
		return rc;
	const char *login = identity_field(in, "login");
	char norm[64];
	json_t *errs = errors_of(r);
	if (strlen(login) > 64 || !name_kind(login, norm, sizeof(norm)))
		identity_field_error(errs, "login", M(r, "recover_login_invalid"));
	if (json_object_size(errs))
		return req_invalid(r, "identity/forgot", r->api ? NULL : forgot_ctx(r, json_pack("{s:s}", "login", strlen(login) > 64 ? "" : login)), errs);
	/* Whether codes can be sent at all does not depend on the account. */
	if (!otp_sms_ready(r)) {
		req_error_detail(r, "%s", M(r, "recover_unavailable"));
		return GH_EUNAVAILABLE;
	}
	/* From here on, the same steps whoever is named. */
	struct account acc;
	char subject[OTP_SUBJECT_MAX];
	bool found;
	if ((rc = named(r, "ip", RECOVER_PER_ADDRESS_HOUR, login, &acc, subject, &found)))
		return rc;
	char *phone;
	if ((rc = number_of(r, found ? acc.id : 0, &phone)))
		return rc;
	bool eligible = found && phone && may_recover(&acc);
	/* SMS are counted per number: the account's, else the name typed (as a number would be). */
	char phone_key[CRYPTO_HASH_HEX + 1];
	const char *counted = phone ? phone : norm;
	crypto_blind_index(r->app->keys, "phone", counted, strlen(counted), phone_key);
	struct forgot_job *j = arena_zalloc(r->arena, sizeof(*j));
	*j = (struct forgot_job){ .code = { .subject = arena_strdup(r->arena, subject), .account = eligible ? acc.id : 0,
					   .to = eligible ? phone : "", .phone_key = arena_strdup(r->arena, phone_key) },
				  .account = found ? acc.id : 0, .eligible = eligible, .phone = phone, .login = login };
	return req_write(r, forgot_write, forgot_answer, j);
}

/* GET /password/reset: the form for a code already received. */
static int reset_get(struct req *r)
{
	resp_header(r, "Cache-Control", "no-store");
	return resp_page(r, 200, "identity/reset", reset_ctx(r, NULL));
}

struct reset_job {
	struct otp_match m;
	char *password, *login;
	const char *code;
	char subject[OTP_SUBJECT_MAX], norm[64];
	bool wrong;
	int rc;
	char hash[PASSWORD_HASH_MAX];
};

static void reset_work(void *p)
{
	struct reset_job *j = p;
	j->rc = password_hash(j->password, j->hash);
	sodium_memzero(j->password, strlen(j->password));
}

static int reset_refused(struct req *r, const char *login, const char *field, const char *message)
{
	json_t *errs = errors_of(r);
	identity_field_error(errs, field, message);
	return req_invalid(r, "identity/reset", r->api ? NULL : reset_ctx(r, json_pack("{s:s}", "login", login)), errs);
}

/* On the writer: the password set with the code, everything else of the account ended. */
static int reset_write(struct req *w, void *p)
{
	struct reset_job *j = p;
	int64_t id = j->m.account, now = identity_now();
	int rc = otp_use(w->db, j->m.id, now);
	if (!rc)
		rc = account_set_password(w->db, id, j->hash, now);
	/* Everyone holding a session or a token of the account is out, the log-in counters
	 * (the ceiling, the factors) are forgotten, other codes die. */
	if (!rc)
		rc = session_end_account(w->db, id, 0);
	if (!rc && (rc = throttle_clear_account(w->db, id)) == GH_ENOTFOUND)
		rc = 0;
	if (!rc)
		rc = otp_end_all(w->db, id, "recovery", now);
	if (!rc)
		rc = otp_end_all(w->db, id, "login", now);
	if (rc)
		return rc;
	identity_event(w->db, "password.reset", id, id, w->ip, "recovery");
	const struct msg_arg at[] = { MA("at", req_when(w, now)) };
	identity_tell(w, id, "security_password_reset", N_("recover_inbox_title"), N_("recover_inbox_body"), at, ARRAY_LEN(at));
	return 0;
}

static int reset_answer(struct req *r, void *p, int rc)
{
	struct reset_job *j = p;
	sodium_memzero(j->hash, sizeof(j->hash));
	if (rc)
		return rc == GH_ENOTFOUND ? reset_refused(r, j->login, "code", M(r, "recover_code_wrong")) : rc;
	resp_header(r, "Cache-Control", "no-store");
	if (r->api)
		return resp_json(r, 200, json_pack("{s:s,s:s}", "status", "reset", "message", M(r, "recover_done")));
	return resp_page(r, 200, "identity/reset_done", page_ctx(r, "recover_done_title"));
}

static int reset_done(struct req *r, void *p)
{
	struct reset_job *j = p;
	if (j->rc) {
		sodium_memzero(j->hash, sizeof(j->hash));
		return j->rc;
	}
	return req_write(r, reset_write, reset_answer, j);
}

/* On the writer: the code matched, so that wrong tries are counted in order (and recorded). */
static int reset_match_write(struct req *w, void *p)
{
	struct reset_job *j = p;
	int rc = otp_match(w->db, w->app->keys, w->arena, j->subject, "recovery", j->code, identity_now(), &j->m);
	j->wrong = rc == GH_EINVAL || rc == GH_ENOTFOUND;
	if (j->wrong)
		identity_event(w->db, "recovery.code_fail", 0, 0, w->ip, rc == GH_EINVAL ? "wrong code" : "no live code");
	return j->wrong ? 0 : rc;
}

/* The code is right: the account it serves, still one that may recover, and the password
 * not one of its own numbers; then the hash (job pool) and the reset (reset_done). */
static int reset_matched(struct req *r, void *p, int rc)
{
	struct reset_job *j = p;
	if (!rc && j->wrong)
		return reset_refused(r, j->login, "code", M(r, "recover_code_wrong"));
	if (rc)
		return rc;
	struct account acc;
	if ((rc = account_get(r->db, r->arena, j->m.account, &acc)))
		return rc == GH_ENOTFOUND ? reset_refused(r, j->login, "code", M(r, "recover_code_wrong")) : rc;
	if (!may_recover(&acc))
		return reset_refused(r, j->login, "code", M(r, "recover_code_wrong"));
	char *ident = NULL, *phone = NULL;
	if ((rc = account_plain_ids(r->db, r->app->keys, r->arena, acc.id, &ident, &phone)))
		return rc;
	const char *own[] = { ident, phone, j->norm, NULL };
	if (!ident)
		own[0] = j->norm;
	enum password_problem pp = password_check(j->password, own);
	if (pp != PASSWORD_OK)
		return reset_refused(r, j->login, "password", M(r, password_problem_text(pp)));
	return req_job(r, reset_work, reset_done, j);
}

/* POST /password/reset, POST /api/v1/auth/recovery/reset: the code and a new password. */
static int reset_post(struct req *r)
{
	json_t *in;
	int rc = identity_read_input(r, &in);
	if (rc)
		return rc;
	const char *login = identity_field(in, "login"), *code = identity_field(in, "code");
	const char *pw = identity_field(in, "password");
	const char *pw2 = r->api && !json_object_get(in, "password2") ? pw : identity_field(in, "password2");
	char norm[64];
	json_t *errs = errors_of(r);
	if (strlen(login) > 64 || !name_kind(login, norm, sizeof(norm))) {
		identity_field_error(errs, "login", M(r, "recover_login_invalid"));
		norm[0] = 0;
	}
	if (!*code || strlen(code) > 16)
		identity_field_error(errs, "code", M(r, "auth_code_invalid"));
	/* The rules that do not depend on the account first (nothing here tells whether it
	 * exists); the account's own numbers once the code is right. */
	const char *avoid[] = { norm, NULL };
	enum password_problem pp = password_check(pw, *norm ? avoid : NULL);
	if (pp != PASSWORD_OK)
		identity_field_error(errs, "password", M(r, password_problem_text(pp)));
	else if (strcmp(pw, pw2) != 0)
		identity_field_error(errs, "password2", M(r, "recover_passwords_differ"));
	const char *kept = strlen(login) > 64 ? "" : login;
	if (json_object_size(errs))
		return req_invalid(r, "identity/reset", r->api ? NULL : reset_ctx(r, json_pack("{s:s}", "login", kept)), errs);
	struct account acc;
	char subject[OTP_SUBJECT_MAX];
	bool found;
	if ((rc = named(r, "reset", RESET_PER_ADDRESS_HOUR, login, &acc, subject, &found)))
		return rc;
	struct reset_job *j = arena_zalloc(r->arena, sizeof(*j));
	snprintf(j->subject, sizeof(j->subject), "%s", subject);
	snprintf(j->norm, sizeof(j->norm), "%s", norm);
	j->code = code;
	j->login = arena_strdup(r->arena, kept);
	j->password = arena_strdup(r->arena, pw);
	return req_write(r, reset_match_write, reset_matched, j);
}

/* ---- an administrator's reset (staff and administrators) ---------------------------------- */

struct admin_reset_job {
	struct account acc;
	int renew;
	char password[ACCOUNT_INITIAL_PASSWORD_LEN + 1];
	char hash[PASSWORD_HASH_MAX];
	int rc;
};

static void admin_reset_work(void *p)
{
	struct admin_reset_job *j = p;
	j->rc = password_hash(j->password, j->hash);
}

static const char *renew_word(int renew)
{
	return renew == ACCOUNT_RENEW_TOTP ? "password_and_totp" : "password";
}

static void admin_reset_wipe(struct admin_reset_job *j)
{
	sodium_memzero(j->password, sizeof(j->password));
	sodium_memzero(j->hash, sizeof(j->hash));
}

/* On the writer: the temporary password set, the account's sessions, counters and codes ended. */
static int admin_reset_write(struct req *w, void *p)
{
	struct admin_reset_job *j = p;
	int64_t id = j->acc.id, now = identity_now();
	int rc = account_reset(w->db, id, j->hash, j->renew, now);
	if (!rc)
		rc = session_end_account(w->db, id, 0);
	if (!rc && (rc = throttle_clear_account(w->db, id)) == GH_ENOTFOUND)
		rc = 0;
	if (!rc)
		rc = otp_end_all(w->db, id, "login", now);
	if (rc)
		return rc;
	identity_event(w->db, "password.admin_reset", id, w->who.account, w->ip,
		       arena_printf(w->arena, "{\"renew\":\"%s\"}", renew_word(j->renew)));
	identity_tell(w, id, "security_admin_reset", N_("admin_reset_inbox_title"),
		      j->renew == ACCOUNT_RENEW_TOTP ? N_("admin_reset_inbox_body_totp") : N_("admin_reset_inbox_body"), NULL, 0);
	return 0;
}

static int admin_reset_answer(struct req *r, void *p, int rc)
{
	struct admin_reset_job *j = p;
	int64_t id = j->acc.id;
	struct account acc;
	if (!rc)
		rc = account_get(r->db, r->arena, id, &acc);
	if (rc) {
		admin_reset_wipe(j);
		return rc;
	}
	resp_header(r, "Cache-Control", "no-store");
	resp_header(r, "Pragma", "no-cache");
	if (r->api) {
		json_t *out = json_pack("{s:o,s:s,s:s}", "account", account_json(&acc), "initial_password", j->password,
					"renew", renew_word(j->renew));
		admin_reset_wipe(j);
		return resp_json(r, 200, out);
	}
	json_t *ctx = json_pack("{s:s,s:o,s:s,s:s}", "title", M(r, "admin_reset_done_title"), "account",
				account_json(&acc), "href", arena_printf(r->arena, "/admin/accounts/%lld", (long long)id),
				"initial_password", j->password);
	if (j->renew == ACCOUNT_RENEW_TOTP)
		json_object_set_new(ctx, "totp", json_true());
	json_object_set_new(ctx, "in_admin_accounts", json_true());
	admin_reset_wipe(j);
	return resp_page(r, 200, "identity/admin_reset", ctx);
}

static int admin_reset_done(struct req *r, void *p)
{
	struct admin_reset_job *j = p;
	if (j->rc) {
		admin_reset_wipe(j);
		return j->rc;
	}
	return req_write(r, admin_reset_write, admin_reset_answer, j);
}

/* POST /admin/accounts/{id}/reset, POST /api/v1/admin/accounts/{id}/password-reset */
static int admin_reset(struct req *r)
{
	long v;
	const char *s = req_param(r, "id");
	if (!s || str_to_long(str_c(s), 1, 1L << 62, &v))
		return GH_ENOTFOUND;
	struct admin_reset_job *j = arena_zalloc(r->arena, sizeof(*j));
	int rc = account_get(r->db, r->arena, v, &j->acc);
	if (rc)
		return rc;
	bool admin = strcmp(j->acc.kind, "admin") == 0;
	if (!admin && strcmp(j->acc.kind, "staff") != 0) {
		req_error_detail(r, "%s", M(r, "admin_reset_not_staff"));
		return GH_ECONFLICT;
	}
	if (j->acc.id == r->who.account) {
		req_error_detail(r, "%s", M(r, "admin_reset_self"));
		return GH_EFORBIDDEN;
	}
	j->renew = admin || j->acc.totp_enabled ? ACCOUNT_RENEW_TOTP : ACCOUNT_RENEW_PASSWORD;
	account_random_password(j->password);
	rc = req_job(r, admin_reset_work, admin_reset_done, j);
	if (rc < 0)
		admin_reset_wipe(j);
	return rc;
}

/* ---- the renewal at the next log-in ------------------------------------------------------ */

static int renew_page(struct req *r, const struct account *acc, json_t *errs, const char *next)
{
	json_t *ctx = page_ctx(r, "renew_title");
	json_object_set_new(ctx, "v", json_pack("{s:s}", "next", identity_safe_next(next, "")));
	if (acc->must_renew == ACCOUNT_RENEW_TOTP) {
		char *secret;
		int rc = account_totp_secret(r->app->keys, r->arena, acc, &secret); /* made by renew_get */
		if (rc) {
			json_decref(ctx);
			return rc == GH_ENOTFOUND ? resp_redirect(r, 303, "/login/renew") : rc;
		}
		json_object_set_new(ctx, "totp", json_true());
		json_object_set_new(ctx, "secret", json_string(totp_grouped(r->arena, secret)));
		json_object_set_new(ctx, "uri", json_string(totp_uri(r->arena, secret, acc->name)));
	}
	resp_header(r, "Cache-Control", "no-store");
	if (errs)
		return req_invalid(r, "identity/renew", ctx, errs);
	return resp_page(r, 200, "identity/renew", ctx);
}

/* The pending session's account, which must renew: 0; else the answer to give. */
static int renew_account(struct req *r, struct account *acc, int *answer)
{
	int rc = r->who.mfa_pending ? session_pending_account(r, acc) : GH_ENOTFOUND;
	if (rc == GH_ENOTFOUND) {
		*answer = resp_redirect(r, 303, "/login");
		return 1;
	}
	if (rc) {
		*answer = rc;
		return 1;
	}
	if (!acc->must_renew) {
		*answer = resp_redirect(r, 303, "/login/totp");
		return 1;
	}
	return 0;
}

static int renew_shown(struct req *r, void *arg, int rc)
{
	return rc ? rc : renew_page(r, arg, NULL, req_query(r, "next"));
}

/* GET /login/renew: with a renewal of the app, its secret made first (once). */
static int renew_get(struct req *r)
{
	struct account *acc = arena_zalloc(r->arena, sizeof(*acc));
	int answer;
	if (renew_account(r, acc, &answer))
		return answer;
	if (acc->must_renew == ACCOUNT_RENEW_TOTP)
		return account_totp_ensure(r, acc, renew_shown, acc);
	return renew_shown(r, acc, 0);
}

struct renew_job {
	struct account acc;
	char *password, *next;
	int64_t step;
	bool same;
	int rc;
	char hash[PASSWORD_HASH_MAX];
	char tok[CRYPTO_TOKEN_LEN + 1]; /* the session's new token */
};

static void renew_work(void *p)
{
	struct renew_job *j = p;
	j->same = password_verify(j->acc.password_hash, j->password);
	if (!j->same)
		j->rc = password_hash(j->password, j->hash);
	sodium_memzero(j->password, strlen(j->password));
}

/* On the writer: the new password (and the app) set, the log-in completed. */
static int renew_write(struct req *w, void *p)
{
	struct renew_job *j = p;
	int64_t id = j->acc.id, now = identity_now();
	int rc = account_renewed(w->db, id, j->hash, now);
	if (!rc && j->step)
		rc = account_totp_use(w->db, id, j->step);
	if (!rc)
		rc = session_mfa_done(w, j->tok);
	if (rc)
		return rc;
	identity_event(w->db, "password.renew", id, id, w->ip, "");
	if (j->step)
		identity_event(w->db, "totp.enable", id, id, w->ip, "renewal");
	identity_event(w->db, "login.ok", id, id, w->ip, "renewal");
	return 0;
}

static int renew_answer(struct req *r, void *p, int rc)
{
	struct renew_job *j = p;
	sodium_memzero(j->hash, sizeof(j->hash));
	if (rc == GH_ECONFLICT) { /* the app's code was used already: the next one */
		json_t *errs = errors_of(r);
		identity_field_error(errs, "code", M(r, "renew_code_wrong"));
		return renew_page(r, &j->acc, errs, j->next);
	}
	if (rc)
		return rc == GH_ENOTFOUND ? resp_redirect(r, 303, "/login") : rc;
	session_cookie(r, j->tok);
	sodium_memzero(j->tok, sizeof(j->tok));
	return resp_redirect(r, 303, identity_safe_next(j->next, "/account?done=renewed"));
}

static int renew_done(struct req *r, void *p)
{
	struct renew_job *j = p;
	if (j->same) {
		json_t *errs = errors_of(r);
		identity_field_error(errs, "password", M(r, "renew_same_password"));
		return renew_page(r, &j->acc, errs, j->next);
	}
	if (j->rc) {
		sodium_memzero(j->hash, sizeof(j->hash));
		return j->rc;
	}
	return req_write(r, renew_write, renew_answer, j);
}

/* POST /login/renew: a new password (and the new authenticator app's code). */
static int renew_post(struct req *r)
{
	json_t *in;
	int rc = identity_read_input(r, &in);
	if (rc)
		return rc;
	struct renew_job *j = arena_zalloc(r->arena, sizeof(*j));
	int answer;
	if (renew_account(r, &j->acc, &answer))
		return answer;
	const char *pw = identity_field(in, "password"), *pw2 = identity_field(in, "password2");
	j->next = arena_strdup(r->arena, identity_field(in, "next"));
	json_t *errs = errors_of(r);
	char *ident = NULL, *phone = NULL;
	if ((rc = account_plain_ids(r->db, r->app->keys, r->arena, j->acc.id, &ident, &phone)))
		return rc;
	const char *avoid[] = { phone, ident, NULL };
	if (!phone)
		avoid[0] = ident, avoid[1] = NULL;
	enum password_problem pp = password_check(pw, avoid);
	if (pp != PASSWORD_OK)
		identity_field_error(errs, "password", M(r, password_problem_text(pp)));
	else if (strcmp(pw, pw2) != 0)
		identity_field_error(errs, "password2", M(r, "recover_passwords_differ"));
	if (j->acc.must_renew == ACCOUNT_RENEW_TOTP) {
		char key[64], *secret;
		snprintf(key, sizeof(key), "totpenrol:%lld", (long long)j->acc.id);
		if ((rc = ratelimit_check(r, key)))
			return rc;
		const char *code = identity_field(in, "code");
		if ((rc = account_totp_secret(r->app->keys, r->arena, &j->acc, &secret)) && rc != GH_ENOTFOUND)
			return rc;
		if (rc || strlen(code) > 16 || totp_verify(secret, code, (time_t)identity_now(), &j->step)) {
			if (*code)
				ratelimit_fail_along(r, key, RATELIMIT_FREE_TOTP);
			identity_field_error(errs, "code", M(r, "renew_code_wrong"));
		} else {
			ratelimit_clear_along(r, key);
		}
	}
	if (json_object_size(errs))
		return renew_page(r, &j->acc, errs, j->next);
	j->password = arena_strdup(r->arena, pw);
	return req_job(r, renew_work, renew_done, j);
}

const struct route identity_recover_routes[] = {
	{ HTTP_GET, "/password/forgot", forgot_get, ROLE_PUBLIC, 0, "identity.forgot" },
	{ HTTP_POST, "/password/forgot", forgot_post, ROLE_PUBLIC, ROUTE_CSRF, "identity.forgot_post" },
	{ HTTP_GET, "/password/reset", reset_get, ROLE_PUBLIC, 0, "identity.reset" },
	{ HTTP_POST, "/password/reset", reset_post, ROLE_PUBLIC, ROUTE_CSRF, "identity.reset_post" },
	{ HTTP_GET, "/login/renew", renew_get, ROLE_ANON, 0, "identity.renew" },
	{ HTTP_POST, "/login/renew", renew_post, ROLE_ANON, ROUTE_CSRF, "identity.renew_post" },
	{ HTTP_GET, "/account/phone", phone_get, ROLE_USER, 0, "identity.phone" },
	{ HTTP_POST, "/account/phone", phone_post, ROLE_USER, ROUTE_CSRF, "identity.phone_post" },
	{ HTTP_POST, "/account/phone/verify", phone_verify, ROLE_USER, ROUTE_CSRF, "identity.phone_verify" },
	{ HTTP_POST, "/admin/accounts/{id}/reset", admin_reset, ROLE_ADMIN, ROUTE_CSRF, "identity.admin_account_reset" },
	{ HTTP_POST, "/api/v1/auth/recovery", forgot_post, ROLE_PUBLIC, 0, "identity.api_recovery" },
	{ HTTP_POST, "/api/v1/auth/recovery/reset", reset_post, ROLE_PUBLIC, 0, "identity.api_recovery_reset" },
	{ HTTP_POST, "/api/v1/me/phone", phone_post, ROLE_USER, 0, "identity.api_phone", NULL, SCOPE_ACCOUNT },
	{ HTTP_POST, "/api/v1/me/phone/verify", phone_verify, ROLE_USER, 0, "identity.api_phone_verify", NULL,
	  SCOPE_ACCOUNT },
	{ HTTP_POST, "/api/v1/admin/accounts/{id}/password-reset", admin_reset, ROLE_ADMIN, 0,
	  "identity.api_admin_account_reset", NULL, SCOPE_ADMIN },
};
const size_t identity_recover_routes_n = sizeof(identity_recover_routes) / sizeof(identity_recover_routes[0]);
