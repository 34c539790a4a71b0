/* identity.h: unified identity and access — accounts of citizens, enterprises (and their
 * agents), staff and administrators; sessions and API tokens; CSRF; rate limits; security
 * events. Other domains use only this header.
 *
 * Invariants:
 * - Personal data (ID numbers, credit codes, phones, TOTP secrets) is stored sealed
 *   (crypto.h) with a blind index for look-up; pages and API responses only ever show masks.
 * - Password hashing runs on the job pool (req_job), never on an event loop.
 * - Cookie sessions serve pages; bearer tokens serve /api/. A page request never
 *   authenticates by token, an API request never by cookie (so the API needs no CSRF).
 */
#ifndef GH_IDENTITY_H
#define GH_IDENTITY_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "app.h"
#include "http/http.h"

struct db;

/* Loads the key file and the common-password list, initialises TOTP, and installs the
 * authenticate / csrf_check hooks in app. Returns 0 or a GH_E code with a message in err. */
int identity_init(struct app *app, char *err, size_t errlen);
void identity_release(struct app *app);
/* Declares the tables this module covers with the transparency log (store/cover.h): accounts
 * and enterprise agents. Call at start of every command. */
void identity_register(void);
/* The plaintext of a value sealed under the hall's key file for field (any key of the ring),
 * in a: for the transparency log, which commits personal data as plaintext. GH_EUNAVAILABLE
 * before identity_init, GH_E code when it does not open. */
struct arena;
struct keyring;
int identity_unseal(struct arena *a, const char *field, const char *stored, size_t len, const char **out,
		    size_t *outlen);
/* A personal value as accounts store it: sealed for field ("id", "phone", "totp", "email"), its
 * blind index (64 hex digits) and its mask, in a; all zero for a NULL or empty value. The one
 * recipe of account_create, for bulk writers (`govhall bench-scale`) too. GH_E code. */
struct identity_sealed {
	unsigned char *enc;
	size_t enc_len;
	char index[65];
	char *mask;
};
int identity_seal_value(const struct keyring *k, struct arena *a, const char *field, const char *value,
			struct identity_sealed *out);
/* The key ring loaded by identity_init (NULL before), for code that opens sealed data outside
 * a request, as the log's plain functions do. */
const struct keyring *identity_keyring(void);

/* app->authenticate and app->csrf_check (see app.h). */
int identity_authenticate(struct req *r);
int identity_csrf_check(struct req *r);

/* The CSRF token to put in this page's forms as _csrf (for anonymous visitors this sets a
 * pre-session cookie, so call it only on pages that carry forms). */
const char *identity_csrf_token(struct req *r);

/* Ownership: the one rule for "is this the caller's own" (applications, bundles, drafts,
 * attachments, receipts, certificates, evaluations, consultations, complaints, messages).
 * A thing is filed by a person for themself (enterprise 0) or for an enterprise. The
 * enterprise owns what is filed for it: the enterprise's own account sees it, and so does an
 * individual acting for it as its agent, for exactly as long as the enterprise's
 * authorisation stands (identity_authenticate checks it on every request; a credential whose
 * authorisation ended acts for nobody). A person owns what they filed for themself, and sees
 * it only when acting as themself. Staff and administrators own nothing this way: they reach
 * things by department or role. */
struct identity_owner {
	int64_t person;     /* the account logged in (0: the caller owns nothing) */
	int64_t enterprise; /* the enterprise acted for, 0 when acting as oneself */
};
/* Whose the caller's new things are, and whose "mine" lists show. */
struct identity_owner identity_owner_of(const struct req *r);
/* The account that owns for the caller: the enterprise acted for, else the person (0 for
 * staff, administrators and anonymous callers). Holders of certificates, recipients of
 * messages. */
int64_t identity_owner_id(const struct req *r);
/* Whether the caller owns what person filed for enterprise (0: for person themself). */
bool identity_owns(const struct req *r, int64_t person, int64_t enterprise);
/* The same rule in SQL for "mine" lists, over a row's person and enterprise columns: bind
 * IDENTITY_OWNER_ARGS(identity_owner_of(r)) at its four placeholders. */
#define IDENTITY_OWNER_SQL(person_col, enterprise_col)                                              \
	"((CAST(? AS BIGINT) <> 0 AND " enterprise_col " = ?) OR (CAST(? AS BIGINT) = 0 AND " person_col \
	" = ? AND " enterprise_col " IS NULL))"
#define IDENTITY_OWNER_ARGS(o) DB_INT((o).enterprise), DB_INT((o).enterprise), DB_INT((o).enterprise), DB_INT((o).person)

/* Records a security event (log-in, failure, password or role change, key use, token issue
 * or revoke...). detail must not hold secrets or full ID numbers. Errors are logged, not
 * returned: an event that cannot be written never blocks the action. */
void identity_event(struct db *db, const char *kind, int64_t account, int64_t actor, const char *ip,
		    const char *detail);

/* An individual's account as other domains may see it: masked values only. */
struct identity_person {
	int64_t id;
	const char *name, *id_mask, *status;
};
/* Finds the individual registered with this resident ID number (any case, spaces trimmed).
 * GH_ENOTFOUND when there is none. */
int identity_find_individual(struct app *app, struct db *db, struct arena *a, const char *id_number,
			     struct identity_person *out);

/* Any account's name and masked ID number (or credit code) by id, for documents issued to
 * it (e-certificates). GH_ENOTFOUND for no such account. */
int identity_person_get(struct db *db, struct arena *a, int64_t id, struct identity_person *out);

/* The facts decision rules test (catalog.h catalog_fact_fn): "applicant_kind" ("individual" or
 * "enterprise": acting for enterprise, or an enterprise's own account), and for an individual
 * with a resident ID number "age" (whole years today, China Standard Time) and "division" (its
 * first six digits). Sets nothing it does not hold. 0 or a database error. */
int identity_account_facts(struct db *db, struct arena *a, int64_t account, int64_t enterprise, json_t *facts);
/* The ids of active individual accounts after `after`, in order, at most limit, in a: for
 * duties that go through everyone in batches. */
int identity_individuals_after(struct db *db, struct arena *a, int64_t after, long limit, int64_t **ids, size_t *n);
/* News for the 免申即享 duty (catalog_news_fn): active individuals registered after account
 * number after. */
int identity_individuals_news(struct db *db, struct arena *a, int64_t after, long limit, int64_t *last, int64_t **ids,
			      size_t *n);

/* The active staff accounts of a department (id and name), for assigning work. */
struct identity_staff {
	int64_t id;
	const char *name;
	unsigned staff_roles;
};
int identity_department_staff(struct db *db, struct arena *a, const char *department, struct identity_staff **out,
			      size_t *n);

/* Counts one request against a budget of max per window seconds under key (shared by all
 * nodes); GH_ERATELIMIT with Retry-After set when over. For other domains' limits. On the
 * loop the budget is read there and the count written along with the request
 * (http/write.h's req_write_also, before its answer); inside a write, on the writer. */
int identity_rate_limit(struct req *r, const char *key, long max, long window);

/* Command line: `govhall user ...` and `govhall key ...` (argv after the command word). */
int identity_cli_user(struct app *app, struct db *db, int argc, char **argv);
int identity_cli_key(struct app *app, struct db *db, int argc, char **argv);
/* Another domain's store of values sealed with the key file (crypto.h), so that
 * `govhall key rotate` and `govhall key reseal` re-seal it too and `govhall key list` counts
 * it. reseal re-seals every value not under k's current key (in transactions of its own;
 * running it again finishes an interrupted run) and says how many rows it changed; counts
 * gives the number of rows under each key id (arrays in a). */
struct keyring;
struct arena;
struct identity_sealed_store {
	const char *what; /* "application form(s)" */
	int (*reseal)(const struct keyring *k, struct db *db, size_t *count);
	int (*counts)(struct db *db, struct arena *a, int64_t **key_ids, int64_t **counts, size_t *n);
};
/* Registers s (static storage) for the key commands; call before they run, at most 8. */
void identity_sealed_store_add(const struct identity_sealed_store *s);

/* The demo history's people (`govhall init --demo`): accounts of kind "individual" (name, a
 * valid ID number, phone) or "staff" (name, phone, department, roles as `user add --roles`
 * names them), each with a password nobody knows, created at clock_now() (base/clock.h); ids
 * in ids[i]. GH_ECONFLICT when one is there already (nothing of that one is written). */
struct identity_demo_person {
	const char *kind, *name, *id_number, *phone, *department, *roles;
};
int identity_demo_people(struct app *app, struct db *db, const struct identity_demo_person *ps, size_t n,
			 int64_t *ids);
/* Creates the demo hall's accounts (one of each kind, published passwords) unless present. */
int identity_demo_accounts(struct app *app, struct db *db);

/* How to reach an account, for delivering notifications (notify/notify.c): its plain phone
 * number and e-mail address (unsealed with k; NULL when the account has none; pass NULL for
 * what you do not need) and its name, all in a. GH_ENOTFOUND for no such account, GH_EINVAL
 * when a sealed value cannot be opened (wrong key file). Both are personal data: never log
 * them or store them elsewhere. */
struct keyring;
int identity_contact(struct db *db, const struct keyring *k, struct arena *a, int64_t account, char **phone,
		     char **email, char **name);

/* How identity reaches an account's owner: messages it cannot deliver itself (the inbox and
 * the SMS outbox live in src/notify/notify.c, which depends on this module; main.c wires them
 * with identity_set_messenger). Both write in the caller's transaction, if any.
 * - inbox: a message in the account's site inbox (notify_inbox_message).
 * - sms: one SMS to the number sealed in sealed_to, with the text sealed in sealed_text (hex,
 *   identity_open_number and identity_open_text open them when the SMS is handed over), so no
 *   number or code is ever stored in the clear; the row names no account, and a number that
 *   opens blank reaches nobody, so a recovery for no account queues the same row as one for
 *   an account. GH_EUNAVAILABLE when no SMS gateway is configured. */
struct identity_messenger {
	int (*inbox)(struct db *db, struct arena *a, int64_t account, int64_t application_id, const char *kind,
		     const char *title_zh, const char *title_en, const char *body_zh, const char *body_en);
	int (*sms)(struct db *db, struct arena *a, const char *kind, const char *sealed_to, const char *sealed_text);
};
void identity_set_messenger(const struct identity_messenger *m);
/* Opens a text sealed for the SMS outbox (hex, as handed to messenger.sms) into a. 0 or
 * GH_EINVAL (corrupt, or sealed under a key no longer in the key file). */
int identity_open_text(const struct keyring *k, struct arena *a, const char *sealed_hex, char **text);
/* Opens a number sealed for messenger.sms into *phone (in a): the number, or "" for a
 * message to nobody. 0 or GH_EINVAL. */
int identity_open_number(const struct keyring *k, struct arena *a, const char *sealed_hex, char **phone);
/* Whether the key ring k opens what the database sealed: 0 when it opens the latest sealed
 * phone number (or nothing is sealed yet), GH_EINVAL when it does not (another hall's key
 * file), database codes otherwise. For databases that publish no keys yet (src/ops). */
int identity_keys_fit(const struct keyring *k, struct db *db);

/* A safe local redirect target from a "next" parameter ("/..." but not "//...", no control
 * characters or backslashes, at most 512 bytes), or dflt. */
const char *identity_safe_next(const char *next, const char *dflt);

/* ---- the national identity (src/federation) ------------------------------------------------ */

/* Real-name assurance levels (实名认证等级), as the hub's ID tokens carry them: self-declared
 * (the ID number passes GB 11643's checks), checked against the ID register, verified face to
 * face or by face recognition, proved with a certificate. Accounts record none above the first
 * yet. */
enum identity_level {
	IDENTITY_LEVEL_SELF_DECLARED = 1,
	IDENTITY_LEVEL_REGISTER = 2,
	IDENTITY_LEVEL_VERIFIED = 3,
	IDENTITY_LEVEL_CERTIFICATE = 4,
};
/* When the caller's cookie session began (its log-in), for max_age and prompt=login; GH_ENOTFOUND
 * for no session (or one awaiting its second factor). */
int identity_session_auth_time(struct req *r, int64_t *t);
/* What the hub tells a hall about an active individual: name, plain ID number (personal data:
 * never log it) and level, in a. GH_ENOTFOUND for any other account. */
struct identity_claims {
	const char *name, *id_number;
	int level;
};
int identity_person_claims(struct db *db, struct arena *a, int64_t account, struct identity_claims *out);
/* In a write (http/write.h): ends the caller's session; then identity_session_cookie(r, NULL). */
int identity_session_end(struct req *w);
/* Sets (tok) or clears (NULL) the session cookie on r's answer. */
void identity_session_cookie(struct req *r, const char *tok);
/* In a write: the hub vouched for a person (verified ID number and name): finds the local
 * individual with that ID number (blind index) or creates one (no password, no phone), and starts
 * a session for it (token in tok, 44 bytes). GH_EINVAL for an invalid ID number, GH_EFORBIDDEN
 * for a disabled account. */
/* The same without a session: the local individual of a person another hall vouched for
 * (an application forwarded from there), found or made in w's write. */
int identity_external_person(struct req *w, const char *id_number, const char *name, int64_t *account,
			     bool *created);
int identity_external_login(struct req *w, const char *id_number, const char *name, char *tok, int64_t *account,
			    bool *created);

/* ---- the person's own data (src/privacy, store/personal.h) --------------------------------- */

/* Declares identity's personal parts: the account (kept), contact data, sessions, API tokens and
 * agents (erased at closure), security events (kept). Call at start (app_cover_declare). */
void identity_personal_declare(void);
/* In a write: closes the caller's own account (an individual's or an enterprise's): disabled for
 * good (no log-in, no administrator enables it again), its ID number's look-up index erased,
 * a logged change of the covered row and a security event. GH_ECONFLICT when it is closed
 * already or not an individual's or enterprise's. The personal parts' erasure is the caller's. */
int identity_account_close(struct req *w);
/* Checks password against the caller's own on the job pool (at most 10 tries an hour per
 * account: GH_ERATELIMIT), then done(r, arg, ok) on r's loop. REQ_DEFERRED or a GH_E code. */
int identity_password_confirm(struct req *r, const char *password, int (*done)(struct req *r, void *arg, bool ok),
			      void *arg);

/* Adds every identity route table to the router. */
struct router;
int identity_add_routes(struct router *rt);

#endif
