/* notify.c: queueing messages (the inbox row and the outbox rows) and their delivery thread (see
 * notify.h); the inbox pages are in inbox.c.
 *
 * Texts: the catalogs' notify_title_<kind>, notify_body_<kind> and notify_reason_<kind> (see
 * texts_of), in Chinese and English. Both languages are stored with the message, so the inbox
 * shows the language the reader chooses, not the one of the person who acted.
 *
 * Delivery: a pass (notify_deliver_due) reads due rows, sends each with libcurl and records
 * the outcome row by row, outside any transaction (a transfer may take seconds). Webhook and
 * SMS gateway requests carry X-Govhall-Signature: sha256=<hex HMAC-SHA256 of the exact body
 * under notify-webhook-secret>, X-Govhall-Timestamp (also in the signed body as
 * "timestamp", so a receiver can refuse replays) and X-Govhall-Delivery (the outbox id).
 * E-mail goes through an SMTP server (notify-smtp-url) as a plain-text UTF-8 message with the
 * Chinese text first and the English after it; the address is unsealed only while the message
 * is handed over.
 * Logs name outbox ids, channels and errors, never phone numbers, addresses, secrets or texts. */
#include "notify/notify.h"
#include "notify/prefs.h"

#include <curl/curl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/config.h"
#include "base/duty.h"
#include "base/err.h"
#include "base/log.h"
#include "base/sb.h"
#include "base/util.h"
#include "base/jsonout.h"
#include "cases/cases.h"
#include "cases/workflow.h"
#include "http/msg.h"
#include "http/nav.h"
#include "http/sections.h"
#include "identity/identity.h"
#include "store/db.h"

#define REASON_MAX 2000          /* bytes of a reason kept in a message */
#define NEVER INT64_C(253402300799) /* 9999-12-31: next_at of rows given up on */
#define RETRY_BASE 30            /* seconds before the first retry */
#define RETRY_MAX (6 * 3600)     /* longest wait between attempts */
#define TIMEOUT_S 10L
#define ERROR_MAX 300            /* bytes of last_error */
#define LOCK_KEY 4711020401      /* the delivery pass's lock ("notify"; db_duty_lock) */

/* ---- texts ----------------------------------------------------------------------------- */

/* The catalogs (view.h), set once at start (notify_set_words) and only read afterwards. A
 * message of kind k is "notify_title_<k>" and "notify_body_<k>" with {number}, {item},
 * {state} and {n}, and "notify_reason_<k>" with {reason} where a decision's reason is shown;
 * a kind without words of its own is "update". */
static const struct view *words;

void notify_set_words(const struct view *v)
{
	words = v;
}

static const char *key_of(struct arena *a, const char *what, const char *kind)
{
	const char *k = arena_printf(a, "notify_%s_%s", what, kind);
	return view_has(words, k) ? k : NULL;
}

/* At most max bytes of s, cut at a UTF-8 character boundary, into a. */
static char *clip(struct arena *a, const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n <= max)
		return arena_strndup(a, s, n);
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return arena_strndup(a, s, n);
}

/* One message in both languages: kind's title and body (and reason line) filled in. */
struct texts {
	const char *title[2], *body[2];
};
static const char *const LANGS[2] = { "zh", "en" };

static void texts_of(struct arena *a, const char *kind, const char *number, const char *const item[2],
		     const char *state, int days, const char *reason, struct texts *t)
{
	if (!kind || !key_of(a, "body", kind))
		kind = "update";
	const char *title = arena_printf(a, "notify_title_%s", kind), *body = arena_printf(a, "notify_body_%s", kind);
	const char *why = reason && *reason ? key_of(a, "reason", kind) : NULL;
	for (int l = 0; l < 2; l++) {
		const char *st = state ? view_msg(words, LANGS[l], arena_printf(a, "case_state_%s", state)) : "";
		t->title[l] = view_msg(words, LANGS[l], title);
		t->body[l] = VF(words, LANGS[l], a, body, MA("number", number ? number : ""), MA("item", item[l]),
				MA("state", st), MA("n", days));
		if (why)
			t->body[l] = arena_printf(a, "%s\n%s", t->body[l],
						  VF(words, LANGS[l], a, why, MA("reason", clip(a, reason, REASON_MAX))));
	}
}

/* ---- queueing ------------------------------------------------------------------------- */

static atomic_bool want_webhook, want_sms, want_email;

static bool on(const char *setting)
{
	return setting && *setting;
}

void notify_configure(const struct config *cfg)
{
	atomic_store(&want_webhook, on(cfg->notify_webhook_url));
	atomic_store(&want_sms, on(cfg->notify_sms_url));
	atomic_store(&want_email, on(cfg->notify_smtp_url));
}

/* read_at: NULL, or the time of arrival for a topic whose inbox the account turned off. */
DB_SQL(q_inbox_add, "INSERT INTO inbox (account_id, application_id, kind, title_zh, title_en, body_zh, body_en, "
		    "created_at, read_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id");
DB_SQL(q_outbox_webhook, "INSERT INTO outbox (channel, account_id, inbox_id, payload, next_at, created_at) "
			 "VALUES ('webhook', ?, ?, ?, ?, ?)");
/* Only for accounts with a phone number: an SMS row that can never be delivered is noise. */
DB_SQL(q_outbox_sms, "INSERT INTO outbox (channel, account_id, inbox_id, payload, next_at, created_at) "
		     "SELECT 'sms', id, CAST(? AS bigint), ?, CAST(? AS bigint), CAST(? AS bigint) FROM accounts "
		     "WHERE id = ? AND phone_enc IS NOT NULL");
DB_SQL(q_outbox_email, "INSERT INTO outbox (channel, account_id, inbox_id, payload, next_at, created_at) "
		       "SELECT 'email', id, CAST(? AS bigint), ?, CAST(? AS bigint), CAST(? AS bigint) FROM accounts "
		       "WHERE id = ? AND email_enc IS NOT NULL");

/* The inbox row of a message: read on arrival when the account turned the inbox of the
 * kind's topic off. *pref gets the account's choice for the topic (the outbox honours it),
 * *id the row's id. */
static int inbox_add(struct db *db, struct arena *a, int64_t account, int64_t application_id, const char *kind,
		     bool application, const char *const title[2], const char *const body[2], struct notify_pref *pref,
		     int64_t *id)
{
	int64_t now = clock_now();
	int rc = notify_pref_get(db, a, account, notify_topic_of(kind, application), pref);
	if (rc)
		return rc;
	struct db_rows rows;
	rc = db_query(db, a, &q_inbox_add,
		      DB_ARGS(DB_INT(account), application_id > 0 ? DB_INT(application_id) : DB_NULL, DB_TEXT(kind),
			      DB_TEXT(title[0]), DB_TEXT(title[1]), DB_TEXT(body[0]), DB_TEXT(body[1]), DB_INT(now),
			      pref->inbox ? DB_NULL : DB_INT(now)),
		      &rows);
	if (rc)
		return rc;
	if (rows.nrows != 1)
		return GH_EDB;
	*id = db_cell_int(&rows, 0, 0);
	return 0;
}

/* One message: the inbox row and one outbox row per configured channel the account chose for
 * the kind's topic (application: a workflow event). number may be NULL. */
static int queue_message(struct db *db, struct arena *a, int64_t account, int64_t application_id, const char *number,
			 const char *kind, bool application, const char *const title[2], const char *const body[2])
{
	int64_t now = clock_now(), inbox_id;
	struct notify_pref pref; /* the channels the account chose for this topic (prefs.h) */
	kind = kind ? kind : "update";
	int rc = inbox_add(db, a, account, application_id, kind, application, title, body, &pref, &inbox_id);
	if (rc)
		return rc;
	bool webhook = atomic_load(&want_webhook), sms = atomic_load(&want_sms) && pref.sms,
	     email = atomic_load(&want_email) && pref.email;
	if (!webhook && !sms && !email)
		return 0;

	json_t *p = json_pack("{s:I,s:I,s:s?,s:s,s:s,s:s,s:s,s:s,s:I}", "to", (json_int_t)account, "inbox_id",
			      (json_int_t)inbox_id, "number", number, "kind", kind, "title_zh", title[0], "title_en",
			      title[1], "body_zh", body[0], "body_en", body[1], "created_at", (json_int_t)now);
	if (!p)
		return GH_EINTERNAL;
	json_object_set_new(p, "application_id", application_id > 0 ? json_integer(application_id) : json_null());
	char *payload = jsonout_dumps(p, JSON_COMPACT);
	json_decref(p);
	if (!payload)
		return GH_EINTERNAL;
	if (webhook)
		rc = db_exec(db, &q_outbox_webhook,
			     DB_ARGS(DB_INT(account), DB_INT(inbox_id), DB_TEXT(payload), DB_INT(now), DB_INT(now)),
			     NULL);
	if (!rc && sms)
		rc = db_exec(db, &q_outbox_sms,
			     DB_ARGS(DB_INT(inbox_id), DB_TEXT(payload), DB_INT(now), DB_INT(now), DB_INT(account)),
			     NULL);
	if (!rc && email)
		rc = db_exec(db, &q_outbox_email,
			     DB_ARGS(DB_INT(inbox_id), DB_TEXT(payload), DB_INT(now), DB_INT(now), DB_INT(account)),
			     NULL);
	free(payload);
	return rc;
}

int notify_application_event(struct db *db, struct arena *a, int64_t account, int64_t application_id,
			     const char *number, const char *kind, const char *item_zh, const char *item_en,
			     const char *state, const char *reason)
{
	const char *item[2] = { item_zh ? item_zh : "", item_en && *item_en ? item_en : item_zh ? item_zh : "" };
	struct texts t;
	texts_of(a, kind, number, item, state, 0, reason, &t);
	return queue_message(db, a, account, application_id, number, kind, true, t.title, t.body);
}

/* A message of another domain: with channels, as notify_message; without, as notify_inbox_message. */
static int other_message(struct db *db, struct arena *a, int64_t account, int64_t application_id, const char *kind,
			 const char *title_zh, const char *title_en, const char *body_zh, const char *body_en,
			 bool channels)
{
	const char *title[2] = { title_zh, title_en ? title_en : title_zh }, *body[2] = { body_zh, body_en ? body_en : body_zh };
	if (channels)
		return queue_message(db, a, account, application_id, NULL, kind, false, title, body);
	struct notify_pref pref;
	int64_t id;
	return inbox_add(db, a, account, application_id, kind ? kind : "update", false, title, body, &pref, &id);
}

int notify_message(struct db *db, struct arena *a, int64_t account, int64_t application_id, const char *kind,
		   const char *title_zh, const char *title_en, const char *body_zh, const char *body_en)
{
	return other_message(db, a, account, application_id, kind, title_zh, title_en, body_zh, body_en, true);
}

/* The cases observer: the applicant (the enterprise, for its applications) hears of every
 * change but their own drafts being submitted by themselves, which the page already shows;
 * the message is queued in the transition's transaction. */
static int on_transition(struct db *db, struct arena *a, const struct case_change *c)
{
	if (strcmp(c->action, "submit") == 0 && !(c->actor_id && c->actor_id != c->applicant_id))
		return 0;
	return notify_application_event(db, a, c->enterprise_id ? c->enterprise_id : c->applicant_id, c->application_id,
					c->number, c->action, c->item_name_zh, c->item_name_en, c->to_state, c->reason);
}

void notify_register_observers(void)
{
	static bool done;
	if (done)
		return;
	done = true;
	cases_observe(on_transition);
	cases_observe_commits(notify_nudge);
}

DB_SQL(q_outbox_sms_to, "INSERT INTO outbox (channel, account_id, inbox_id, payload, next_at, created_at) "
			"VALUES ('sms', NULL, NULL, ?, ?, ?)");

int notify_sms_sealed(struct db *db, struct arena *a, const char *kind, const char *sealed_to, const char *sealed_text)
{
	(void)a;
	if (!atomic_load(&want_sms))
		return GH_EUNAVAILABLE;
	int64_t now = clock_now();
	json_t *p = json_pack("{s:s,s:s,s:s,s:I}", "kind", kind ? kind : "sms", "sealed_to", sealed_to ? sealed_to : "",
			      "sealed_text", sealed_text ? sealed_text : "", "created_at", (json_int_t)now);
	char *payload = p ? jsonout_dumps(p, JSON_COMPACT) : NULL;
	json_decref(p);
	if (!payload)
		return GH_EINTERNAL;
	int rc = db_exec(db, &q_outbox_sms_to, DB_ARGS(DB_TEXT(payload), DB_INT(now), DB_INT(now)), NULL);
	free(payload);
	if (!rc)
		notify_nudge();
	return rc;
}

int notify_staff_warning(struct db *db, struct arena *a, int64_t account, int64_t application_id,
			 const char *number, const char *colour, const char *item_zh, const char *item_en, int days)
{
	const char *kind = NULL;
	if (colour && strcmp(colour, "yellow") == 0)
		kind = "warn_yellow";
	else if (colour && strcmp(colour, "red") == 0)
		kind = "warn_red";
	if (!kind)
		return GH_EINVAL;
	const char *item[2] = { item_zh ? item_zh : "", item_en && *item_en ? item_en : item_zh ? item_zh : "" };
	struct texts t;
	texts_of(a, kind, number, item, NULL, days, NULL, &t);
	struct notify_pref pref;
	int64_t id;
	return inbox_add(db, a, account, application_id, kind, false, t.title, t.body, &pref, &id);
}

int notify_inbox_message(struct db *db, struct arena *a, int64_t account, int64_t application_id, const char *kind,
			 const char *title_zh, const char *title_en, const char *body_zh, const char *body_en)
{
	return other_message(db, a, account, application_id, kind, title_zh, title_en, body_zh, body_en, false);
}

/* ---- delivery ------------------------------------------------------------------------- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static atomic_bool stopping;

static void curl_init_once(void)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		die("curl_global_init failed");
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/* Aborts a transfer in progress when the server stops. */
static int progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	(void)arg;
	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	return atomic_load(&stopping) ? 1 : 0;
}

/* "sha256=" + hex HMAC-SHA256 of body under secret (any length) into out. */
static void sign(const char *secret, const char *body, size_t len, char out[7 + 64 + 1])
{
	crypto_auth_hmacsha256_state st;
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
	crypto_auth_hmacsha256_final(&st, mac);
	memcpy(out, "sha256=", 7);
	sodium_bin2hex(out + 7, 65, mac, sizeof(mac));
	sodium_memzero(&st, sizeof(st));
}

/* NOBODY: an SMS whose sealed number is blank (identity_messenger.sms): done, nothing sent. */
enum outcome { SENT, FAILED, GIVE_UP, ABORTED, NOBODY };

/* Sets what every transfer shares (reset, no signals, time-outs, abort on stop), performs it
 * after setup(c, arg) and returns curl's code with the response code in *status. */
static CURLcode perform(CURL *c, const char *url, const char *protocols, long timeout,
			void (*setup)(CURL *c, void *arg), void *arg, char curl_err[CURL_ERROR_SIZE], long *status)
{
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, protocols);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_err);
	setup(c, arg);
	CURLcode cc = curl_easy_perform(c);
	*status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	curl_easy_reset(c); /* drops the pointers to the caller's buffers and lists */
	return cc;
}

struct post_args {
	struct curl_slist *headers;
	const char *body;
};

static void post_setup(CURL *c, void *arg)
{
	struct post_args *p = arg;
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "govhall/" GOVHALL_VERSION);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, p->headers);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, p->body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(p->body));
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
}

/* POSTs body to url, signed. FAILED / ABORTED with a message in err. */
static enum outcome post(CURL *c, const char *url, const char *secret, int64_t id, int64_t now, const char *body,
			 char *err, size_t errlen)
{
	char sig[7 + 64 + 1], h_sig[128], h_ts[64], h_id[64], curl_err[CURL_ERROR_SIZE] = "";
	sign(secret, body, strlen(body), sig);
	snprintf(h_sig, sizeof(h_sig), "X-Govhall-Signature: %s", sig);
	snprintf(h_ts, sizeof(h_ts), "X-Govhall-Timestamp: %lld", (long long)now);
	snprintf(h_id, sizeof(h_id), "X-Govhall-Delivery: %lld", (long long)id);
	struct curl_slist *h = NULL;
	h = curl_slist_append(h, "Content-Type: application/json; charset=utf-8");
	h = curl_slist_append(h, "Expect:");
	h = curl_slist_append(h, h_sig);
	h = curl_slist_append(h, h_ts);
	h = curl_slist_append(h, h_id);
	if (!h)
		die("out of memory");
	struct post_args args = { h, body };
	long status;
	CURLcode cc = perform(c, url, "http,https", TIMEOUT_S, post_setup, &args, curl_err, &status);
	curl_slist_free_all(h);
	if (cc == CURLE_ABORTED_BY_CALLBACK) {
		snprintf(err, errlen, "aborted: server stopping");
		return ABORTED;
	}
	if (cc != CURLE_OK) {
		/* curl's messages name the host, never the path or query, where a gateway key may be. */
		snprintf(err, errlen, "%s", curl_err[0] ? curl_err : curl_easy_strerror(cc));
		return FAILED;
	}
	if (status < 200 || status > 299) {
		snprintf(err, errlen, "HTTP %ld", status);
		return FAILED;
	}
	return SENT;
}

/* ---- e-mail ---------------------------------------------------------------------------- */

/* "=?UTF-8?B?...?=" for a header value that may hold any UTF-8 text (RFC 2047). Encoded words
 * are at most 75 characters: the text is cut into pieces of whole characters. */
static void header_words(struct sb *out, const char *s)
{
	size_t n = strlen(s), i = 0;
	while (i < n) {
		size_t take = 0;
		while (i + take < n && take < 42) {
			size_t c = 1;
			while (i + take + c < n && ((unsigned char)s[i + take + c] & 0xC0) == 0x80)
				c++;
			if (take + c > 42 && take)
				break;
			take += c;
		}
		char b64[sodium_base64_ENCODED_LEN(48, sodium_base64_VARIANT_ORIGINAL)];
		sodium_bin2base64(b64, sizeof(b64), (const unsigned char *)s + i, take, sodium_base64_VARIANT_ORIGINAL);
		sb_addf(out, "%s=?UTF-8?B?%s?=", i ? "\r\n " : "", b64);
		i += take;
	}
}

/* True when s is safe inside a header or an SMTP path: printable ASCII, no '<' '>'. */
static bool plain_address(const char *s)
{
	for (; *s; s++)
		if (*s <= ' ' || *s > '~' || *s == '<' || *s == '>')
			return false;
	return true;
}

/* The whole message: headers, then the body in base64 lines of 76 characters. */
static void email_message(struct sb *m, const char *from, const char *to, const char *subject, const char *body,
			  int64_t id, int64_t now)
{
	char date[64];
	time_t t = (time_t)now;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	const char *domain = strchr(from, '@');
	sb_addf(m, "From: %s\r\nTo: %s\r\nSubject: ", from, to);
	header_words(m, subject);
	sb_addf(m, "\r\nDate: %s\r\nMessage-ID: <outbox-%lld.%lld%s>\r\nMIME-Version: 1.0\r\n"
		   "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n"
		   "Auto-Submitted: auto-generated\r\n\r\n",
		date, (long long)id, (long long)now, domain ? domain : "@govhall.invalid");
	size_t n = strlen(body);
	for (size_t i = 0; i < n; i += 57) {
		size_t take = n - i < 57 ? n - i : 57;
		char line[sodium_base64_ENCODED_LEN(57, sodium_base64_VARIANT_ORIGINAL)];
		sodium_bin2base64(line, sizeof(line), (const unsigned char *)body + i, take,
				  sodium_base64_VARIANT_ORIGINAL);
		sb_addf(m, "%s\r\n", line);
	}
}

struct upload {
	const char *p;
	size_t left;
};

static size_t read_message(char *buf, size_t size, size_t nitems, void *arg)
{
	struct upload *u = arg;
	size_t n = size * nitems < u->left ? size * nitems : u->left;
	memcpy(buf, u->p, n);
	u->p += n;
	u->left -= n;
	return n;
}

struct smtp_args {
	const struct config *cfg;
	const char *from_path;
	struct curl_slist *rcpt;
	struct upload u;
};

static void smtp_setup(CURL *c, void *arg)
{
	struct smtp_args *s = arg;
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, s->from_path);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, s->rcpt);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_message);
	curl_easy_setopt(c, CURLOPT_READDATA, &s->u);
	curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)s->u.left);
	if (on(s->cfg->notify_smtp_user)) {
		/* A password never crosses the network in clear. */
		curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
		curl_easy_setopt(c, CURLOPT_USERNAME, s->cfg->notify_smtp_user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, s->cfg->notify_smtp_password ? s->cfg->notify_smtp_password : "");
	} else {
		curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
	}
}

/* Hands message to the SMTP server for one recipient. FAILED / ABORTED with a message. */
static enum outcome smtp_send(CURL *c, const struct config *cfg, const char *to, const char *message, char *err,
			      size_t errlen)
{
	char curl_err[CURL_ERROR_SIZE] = "", from_path[320], to_path[320];
	snprintf(from_path, sizeof(from_path), "<%s>", cfg->notify_smtp_from);
	snprintf(to_path, sizeof(to_path), "<%s>", to);
	struct curl_slist *rcpt = curl_slist_append(NULL, to_path);
	if (!rcpt)
		die("out of memory");
	struct smtp_args args = { cfg, from_path, rcpt, { message, strlen(message) } };
	long status;
	CURLcode cc = perform(c, cfg->notify_smtp_url, "smtp,smtps", TIMEOUT_S * 3, smtp_setup, &args, curl_err,
			      &status);
	curl_slist_free_all(rcpt);
	if (cc == CURLE_ABORTED_BY_CALLBACK) {
		snprintf(err, errlen, "aborted: server stopping");
		return ABORTED;
	}
	if (cc != CURLE_OK) {
		/* Not curl's detailed message: it may quote the server's reply, which may repeat the
		 * address. A refusal is retried like any failure (a mailbox may be full today). */
		snprintf(err, errlen, "%s (SMTP %ld)", curl_easy_strerror(cc), status);
		return FAILED;
	}
	return SENT;
}

struct row {
	int64_t id, account;
	const char *channel, *payload;
	int attempts;
};

/* Builds and sends one row's request. */
static enum outcome deliver(struct app *app, struct db *db, struct arena *a, CURL *c, const struct row *o,
			    int64_t now, char *err, size_t errlen)
{
	const struct config *cfg = &app->cfg;
	json_error_t je;
	json_t *p = json_loads(o->payload, 0, &je);
	if (!json_is_object(p)) {
		json_decref(p);
		snprintf(err, errlen, "malformed payload");
		return GIVE_UP;
	}
	json_t *body = NULL;
	const char *url = NULL;
	if (strcmp(o->channel, "webhook") == 0) {
		url = cfg->notify_webhook_url;
		body = json_deep_copy(p);
		json_object_set_new(body, "id", json_integer(o->id));
		json_object_set_new(body, "channel", json_string("webhook"));
		json_object_set_new(body, "timestamp", json_integer(now));
	} else if (strcmp(o->channel, "sms") == 0) {
		url = cfg->notify_sms_url;
		char *phone = NULL, *name = NULL;
		const char *sealed_to = json_string_value(json_object_get(p, "sealed_to"));
		int rc = !app->keys ? GH_EINVAL
			 : sealed_to ? identity_open_number(app->keys, a, sealed_to, &phone)
				     : identity_contact(db, app->keys, a, o->account, &phone, NULL, &name);
		if (rc == 0 && sealed_to && !*phone) {
			json_decref(p);
			return NOBODY;
		}
		if (rc == GH_ENOTFOUND || (rc == 0 && !phone)) {
			json_decref(p);
			snprintf(err, errlen, rc ? "no such account" : "the account has no phone number");
			return GIVE_UP;
		}
		if (rc) {
			json_decref(p);
			snprintf(err, errlen, rc == GH_EINVAL ? "cannot unseal the phone number (key file?)"
							      : "database error looking up the account");
			return FAILED;
		}
		const char *text = json_string_value(json_object_get(p, "body_zh"));
		const char *sealed = json_string_value(json_object_get(p, "sealed_text"));
		char *opened = NULL;
		if (sealed && identity_open_text(app->keys, a, sealed, &opened)) {
			sodium_memzero(phone, strlen(phone));
			json_decref(p);
			snprintf(err, errlen, "cannot open the sealed text (key file?)");
			return GIVE_UP;
		}
		if (opened)
			text = opened;
		body = json_pack("{s:I,s:s,s:s,s:I}", "id", (json_int_t)o->id, "phone", phone, "text", text ? text : "",
				 "timestamp", (json_int_t)now);
		sodium_memzero(phone, strlen(phone));
		if (opened)
			sodium_memzero(opened, strlen(opened));
	} else if (strcmp(o->channel, "email") == 0) {
		if (!on(cfg->notify_smtp_url)) {
			json_decref(p);
			snprintf(err, errlen, "channel email is not configured");
			return FAILED;
		}
		char *email = NULL, *name = NULL;
		int rc = app->keys ? identity_contact(db, app->keys, a, o->account, NULL, &email, &name) : GH_EINVAL;
		if (rc == GH_ENOTFOUND || (rc == 0 && !email)) {
			json_decref(p);
			snprintf(err, errlen, rc ? "no such account" : "the account has no e-mail address");
			return GIVE_UP;
		}
		if (rc) {
			json_decref(p);
			snprintf(err, errlen, rc == GH_EINVAL ? "cannot unseal the e-mail address (key file?)"
							      : "database error looking up the account");
			return FAILED;
		}
		if (!plain_address(email)) {
			json_decref(p);
			snprintf(err, errlen, "the stored e-mail address is not plain ASCII");
			return GIVE_UP;
		}
		const char *tz = json_string_value(json_object_get(p, "title_zh")),
			   *te = json_string_value(json_object_get(p, "title_en")),
			   *bz = json_string_value(json_object_get(p, "body_zh")),
			   *be = json_string_value(json_object_get(p, "body_en"));
		char *subject = arena_printf(a, "%s / %s", tz ? tz : "", te ? te : "");
		char *text = arena_printf(a, "%s\n\n%s\n\n-- \n%s / %s\n", bz ? bz : "", be ? be : "",
					  view_msg(words, "zh", N_("notify_email_footer")),
					  view_msg(words, "en", N_("notify_email_footer")));
		struct sb m = SB_INIT;
		email_message(&m, cfg->notify_smtp_from, email, subject, text, o->id, now);
		json_decref(p);
		enum outcome out = smtp_send(c, cfg, email, m.buf, err, errlen);
		sodium_memzero(email, strlen(email));
		sodium_memzero(m.buf, m.len); /* the To: header holds the address */
		sb_release(&m);
		return out;
	} else {
		json_decref(p);
		snprintf(err, errlen, "channel %s is not available", o->channel);
		return GIVE_UP;
	}
	json_decref(p);
	if (!url || !*url) {
		json_decref(body);
		snprintf(err, errlen, "channel %s is not configured", o->channel);
		return FAILED;
	}
	char *text = body ? jsonout_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (!text) {
		snprintf(err, errlen, "cannot encode the request");
		return GIVE_UP;
	}
	enum outcome out = post(c, url, cfg->notify_webhook_secret ? cfg->notify_webhook_secret : "", o->id, now,
				text, err, errlen);
	sodium_memzero(text, strlen(text)); /* an SMS body holds the phone number */
	free(text);
	return out;
}

DB_SQL(q_due, "SELECT id, channel, account_id, payload, attempts FROM outbox WHERE sent_at IS NULL AND next_at <= ? "
	      "AND attempts < ? AND (channel = ? OR channel = ? OR channel = ?) ORDER BY next_at, id LIMIT ?");
DB_SQL(q_sent, "UPDATE outbox SET sent_at = ?, attempts = attempts + 1, last_error = NULL WHERE id = ?");
DB_SQL(q_failed, "UPDATE outbox SET attempts = attempts + 1, next_at = ?, last_error = ? WHERE id = ?");
DB_SQL(q_later, "UPDATE outbox SET next_at = ? WHERE id = ?");
DB_SQL(q_nobody, "UPDATE outbox SET sent_at = ?, attempts = attempts + 1, last_error = 'no recipient' WHERE id = ?");

/* Seconds to wait after the failure of attempt number `before` + 1. */
static int64_t backoff(int before)
{
	int64_t d = RETRY_BASE;
	for (int i = 0; i < before && d < RETRY_MAX; i++)
		d *= 2;
	return d < RETRY_MAX ? d : RETRY_MAX;
}

static int pass(struct app *app, struct db *db, struct arena *a, int64_t now, int *sent)
{
	const struct config *cfg = &app->cfg;
	bool webhook = on(cfg->notify_webhook_url), sms = on(cfg->notify_sms_url), email = on(cfg->notify_smtp_url);
	if (!webhook && !sms && !email)
		return 0;
	struct db_rows rows;
	int rc = db_query(db, a, &q_due,
			  DB_ARGS(DB_INT(now), DB_INT(NOTIFY_MAX_ATTEMPTS), DB_TEXT(webhook ? "webhook" : NULL),
				  DB_TEXT(sms ? "sms" : NULL), DB_TEXT(email ? "email" : NULL), DB_INT(NOTIFY_BATCH)),
			  &rows);
	if (rc || rows.nrows == 0)
		return rc;
	pthread_once(&curl_once, curl_init_once);
	CURL *c = curl_easy_init();
	if (!c)
		return GH_EINTERNAL;
	for (size_t i = 0; i < rows.nrows && !rc; i++) {
		struct row o = { .id = db_cell_int(&rows, i, 0), .channel = db_cell(&rows, i, 1),
				 .account = db_cell_int(&rows, i, 2), .payload = db_cell(&rows, i, 3),
				 .attempts = (int)db_cell_int(&rows, i, 4) };
		char err[ERROR_MAX];
		err[0] = 0;
		enum outcome out = atomic_load(&stopping) ? ABORTED : deliver(app, db, a, c, &o, now, err, sizeof(err));
		switch (out) {
		case SENT:
			rc = db_exec(db, &q_sent, DB_ARGS(DB_INT(now), DB_INT(o.id)), NULL);
			if (!rc && sent)
				(*sent)++;
			log_debug("notify: delivered outbox %lld (%s)", (long long)o.id, o.channel);
			break;
		case NOBODY:
			rc = db_exec(db, &q_nobody, DB_ARGS(DB_INT(now), DB_INT(o.id)), NULL);
			break;
		case ABORTED:
			/* Not the receiver's fault: try again soon, without counting an attempt. */
			rc = db_exec(db, &q_later, DB_ARGS(DB_INT(now + 1), DB_INT(o.id)), NULL);
			i = rows.nrows; /* stop the pass */
			break;
		case FAILED:
		case GIVE_UP: {
			bool last = out == GIVE_UP || o.attempts + 1 >= NOTIFY_MAX_ATTEMPTS;
			int64_t next = last ? NEVER : now + backoff(o.attempts);
			rc = db_exec(db, &q_failed, DB_ARGS(DB_INT(next), DB_TEXT(err), DB_INT(o.id)), NULL);
			if (last)
				log_warn("notify: gave up on outbox %lld (%s) after %d attempt%s: %s", (long long)o.id,
					 o.channel, o.attempts + 1, o.attempts ? "s" : "", err);
			else
				log_info("notify: outbox %lld (%s) attempt %d failed, retry in %llds: %s",
					 (long long)o.id, o.channel, o.attempts + 1, (long long)(next - now), err);
			break;
		}
		}
	}
	curl_easy_cleanup(c);
	return rc;
}

int notify_deliver_due(struct app *app, struct db *db, int64_t now, int *sent)
{
	if (sent)
		*sent = 0;
	struct arena *a = arena_new(16384);
	/* A lock per pass rather than per connection: it survives no reconnect unnoticed, and
	 * another node takes over as soon as this one stops. */
	bool locked;
	int rc = db_duty_lock(db, LOCK_KEY, &locked);
	if (rc || !locked)
		goto out; /* another node delivers */
	rc = pass(app, db, a, now, sent);
	int urc = db_duty_unlock(db, LOCK_KEY);
	if (!rc)
		rc = urc;
out:
	arena_free(a);
	return rc;
}

/* ---- the delivery duty ------------------------------------------------------------------ */

static struct duty *duty;
static struct db *duty_db;
static struct app *duty_app;

void notify_nudge(void)
{
	duty_nudge(duty);
}

static int deliver_pass(void *arg, bool *more)
{
	(void)arg;
	int sent = 0;
	int rc = notify_deliver_due(duty_app, duty_db, clock_now(), &sent);
	if (rc)
		log_debug("notify: delivery pass failed: %s", db_last_error(duty_db));
	*more = sent >= NOTIFY_BATCH;
	return rc;
}

static bool http_url(const char *s)
{
	return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0;
}

int notify_start(struct app *app, char *err, size_t errlen)
{
	const struct config *cfg = &app->cfg;
	page_section_add(NAV_PAGE_COUNT, 10, notify_nav_section);
	notify_configure(cfg);
	if (app->view) /* a command without templates keeps the catalogs it set */
		notify_set_words(app->view);
	bool webhook = on(cfg->notify_webhook_url), sms = on(cfg->notify_sms_url), email = on(cfg->notify_smtp_url);
	if (!webhook && !sms && !email) {
		log_info("notify: no delivery channel configured; messages go to the site inbox only");
		return 0;
	}
	if ((webhook && !http_url(cfg->notify_webhook_url)) || (sms && !http_url(cfg->notify_sms_url))) {
		snprintf(err, errlen, "notify-webhook-url and notify-sms-url must start with http:// or https://");
		return GH_EINVAL;
	}
	if (email && strncmp(cfg->notify_smtp_url, "smtp://", 7) != 0 && strncmp(cfg->notify_smtp_url, "smtps://", 8) != 0) {
		snprintf(err, errlen, "notify-smtp-url must start with smtp:// or smtps://");
		return GH_EINVAL;
	}
	if (email && (!on(cfg->notify_smtp_from) || strlen(cfg->notify_smtp_from) > STR_EMAIL_MAX ||
		      !plain_address(cfg->notify_smtp_from) || !strchr(cfg->notify_smtp_from, '@'))) {
		snprintf(err, errlen, "notify-smtp-from must be set to a plain e-mail address (like noreply@hall.example.gov.cn) "
				      "when notify-smtp-url is");
		return GH_EINVAL;
	}
	if (email && !app->keys) {
		snprintf(err, errlen, "notify-smtp-url needs the key file (e-mail addresses are sealed)");
		return GH_EINVAL;
	}
	if ((webhook || sms) && (!cfg->notify_webhook_secret || strlen(cfg->notify_webhook_secret) < 16)) {
		snprintf(err, errlen, "notify-webhook-secret must be set (at least 16 characters) when notify-webhook-url "
				      "or notify-sms-url is");
		return GH_EINVAL;
	}
	if (sms && !app->keys) {
		snprintf(err, errlen, "notify-sms-url needs the key file (phone numbers are sealed)");
		return GH_EINVAL;
	}
	int rc;
	if (duty)
		return 0;
	pthread_once(&curl_once, curl_init_once);
	/* Deliveries wait on other servers (up to TIMEOUT_S each), so they have a thread and a
	 * connection of their own rather than holding up the duties thread. */
	if ((rc = db_open_named(cfg->db, "govhall notify", &duty_db, err, errlen)))
		return rc;
	duty_app = app;
	atomic_store(&stopping, false);
	if (!(duty = duty_start_alone("notify", deliver_pass, NULL, 1))) {
		db_close(duty_db);
		duty_db = NULL;
		snprintf(err, errlen, "notify: cannot start the delivery thread");
		return GH_EINTERNAL;
	}
	log_info("notify: delivering by%s%s%s", webhook ? " webhook" : "", sms ? " sms" : "", email ? " e-mail" : "");
	return 0;
}

void notify_stop(void)
{
	if (!duty)
		return;
	/* Deliveries in progress give up at once (curl's progress callback reads this). */
	atomic_store(&stopping, true);
	duty_stop(duty);
	duty = NULL;
	db_close(duty_db);
	duty_db = NULL;
	duty_app = NULL;
	atomic_store(&stopping, false);
}
