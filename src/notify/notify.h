/* notify.h: messages to applicants about their applications.
 *
 * Every state change of an application creates a message for its applicant: always in the
 * site inbox, and by SMS gateway or webhook (HTTP POST signed with HMAC-SHA256) when
 * configured. (E-mail: accounts hold no e-mail address, so e-mail is left to a webhook
 * receiver that knows one; the outbox accepts the channel for later.) Messages are written
 * to a durable outbox in the same transaction as the change that causes them, and delivered
 * by a background thread with retries and exponential back-off, so nothing is lost when the
 * server restarts; only one node delivers at a time (PostgreSQL advisory lock; trivially on
 * SQLite).
 *
 * Invariants:
 * - The outbox holds no plain personal data: a row names the account; the phone number is
 *   unsealed (identity_contact) only at the moment an SMS is handed to the gateway.
 * - Delivery is at least once: a crash between a gateway's answer and the update of the row
 *   sends the row again. Receivers deduplicate by the outbox id (X-Govhall-Delivery, "id").
 * - The inbox shows an account only its own messages.
 */
#ifndef GH_NOTIFY_H
#define GH_NOTIFY_H
#include <stddef.h>
#include <stdint.h>

#include "app.h"
#include "http/http.h"

struct db;
struct arena;
struct router;
struct config;

/* Give up on an outbox row after this many failed attempts (the row stays, for operators). */
#define NOTIFY_MAX_ATTEMPTS 10
/* Rows one delivery pass takes at most. */
#define NOTIFY_BATCH 20

/* Decides which channels notify_application_event queues for, from cfg (non-empty
 * notify-webhook-url, notify-sms-url). notify_start calls it; tests and commands that record
 * events without serving may call it themselves. Without it only the inbox is written.
 * Thread-safe. */
void notify_configure(const struct config *cfg);
/* The message catalogs (view.h) the texts come from (notify_start passes the app's; commands
 * that record events without serving pass theirs). Without them a text is its key. */
struct view;
void notify_set_words(const struct view *v);

/* Registers the cases observer that queues a message to the applicant for each change of
 * their application (notify_application_event, in the transition's transaction; not for
 * their own submission) and wakes the delivery thread after the commit. main.c calls it at
 * the start of every command; a second call is a no-op. */
void notify_register_observers(void);
/* Declares the personal parts of notify (store/personal.h): the inbox and the channel choices (erased at closure). Call at start. */
void notify_personal_declare(void);

/* Queues the messages for one event of an application (call inside the transaction that
 * records the event): the inbox row, and one outbox row per configured channel (the SMS row
 * only when the account has a phone number). kind is the workflow action ("accept",
 * "approve", ...); number the application number; item names in both languages; state the
 * workflow state reached (its words are used by kinds without a text of their own); reason
 * (may be NULL) is added to the texts of the kinds whose catalog has a notify_reason_<kind>. application_id 0 = none. Allocates
 * in a. Returns 0 or a database error. */
int notify_application_event(struct db *db, struct arena *a, int64_t account, int64_t application_id,
			     const char *number, const char *kind, const char *item_zh, const char *item_en,
			     const char *state, const char *reason);

/* Writes a deadline warning into the inbox of a staff account (kind "warn_yellow" or
 * "warn_red"; site inbox only, no outbox row). colour is "yellow" (days = working days left,
 * >= 0) or "red" (days = working days overdue, >= 0). number, item names as for
 * notify_application_event. Call inside the transaction that records the warning (see
 * warnings.h). Allocates in a. Returns 0, GH_EINVAL for another colour, or a database error. */
int notify_staff_warning(struct db *db, struct arena *a, int64_t account, int64_t application_id,
			 const char *number, const char *colour, const char *item_zh, const char *item_en, int days);

/* Queues one message of another domain with the given texts to a citizen or enterprise
 * (booking reminders, fee notices, evaluation invitations, answers, rectification tasks): the
 * inbox row and, as notify_application_event, one outbox row per configured channel the
 * account chose for the kind's topic (prefs.h). kind names the message ("booking_reminder",
 * ...); application_id 0 = none. Call inside the transaction that records what the message is
 * about, and notify_nudge after its commit. Returns 0 or a database error. */
int notify_message(struct db *db, struct arena *a, int64_t account, int64_t application_id, const char *kind,
		   const char *title_zh, const char *title_en, const char *body_zh, const char *body_en);

/* Writes one message with the given texts into the site inbox of account only (no outbox
 * row): notices to staff and administrators, and the identity domain's security notices
 * (which carry their own SMS, notify_sms_sealed). Otherwise as notify_message. */
int notify_inbox_message(struct db *db, struct arena *a, int64_t account, int64_t application_id, const char *kind,
			 const char *title_zh, const char *title_en, const char *body_zh, const char *body_en);

/* Queues one SMS (identity.h, identity_messenger) to the number sealed in sealed_to with the
 * text sealed in sealed_text, naming no account: both are opened (identity_open_number,
 * identity_open_text) only when the SMS is handed to the gateway, and a number that opens
 * blank is a message to nobody, recorded as done without being sent (the same row whether or
 * not anyone receives it: account recovery). No inbox row, no other channel. GH_EUNAVAILABLE
 * when notify-sms-url is off; 0 or a database error. Wakes the delivery thread. */
int notify_sms_sealed(struct db *db, struct arena *a, const char *kind, const char *sealed_to, const char *sealed_text);

/* Wakes the delivery thread (call after committing a transaction that queued messages);
 * without it delivery starts within a second. Safe to call from any thread, also when no
 * thread runs. */
void notify_nudge(void);

/* One delivery pass on db (a connection of the caller's thread): on PostgreSQL only when
 * this connection wins the advisory lock (otherwise returns 0 with *sent = 0); takes up to
 * NOTIFY_BATCH due rows of the configured channels (sent_at IS NULL, next_at <= now), sends
 * each (libcurl, 10 s timeouts) and records the outcome: sent_at = now, or attempts + 1,
 * last_error and next_at = now + min(30 s * 2^(attempts before), 6 h); after
 * NOTIFY_MAX_ATTEMPTS failures the row is kept but no longer tried (warning logged). *sent
 * (may be NULL) gets the number of rows delivered. Returns 0 or a database error. */
int notify_deliver_due(struct app *app, struct db *db, int64_t now, int *sent);

/* Starts / stops the delivery thread (serve). notify_start configures the channels, checks
 * the settings (a channel needs an http(s) URL and notify-webhook-secret) and opens the
 * thread's own database connection; with no channel configured it starts no delivery thread
 * and returns 0. GH_E code with a message in err. (Staff warnings are started apart, by
 * warnings_start.) notify_stop aborts a transfer in progress
 * (the row is tried again later, not counted as a failure) and joins the thread. */
int notify_start(struct app *app, char *err, size_t errlen);
void notify_stop(void);

/* Unread messages of account into *n (for a badge). */
int notify_unread_count(struct db *db, struct arena *a, int64_t account, long *n);
/* The navigation's number (NAV_PAGE_COUNT, http/nav.h) for the entry href: count, the unread
 * messages of the inbox the caller reads, for "/inbox"; nothing for any other entry or when
 * the database cannot answer. */
int notify_nav_section(struct req *r, const void *href, json_t *ctx);

/* The inbox pages and API: GET /inbox, POST /inbox/{id}/read, POST /inbox/read-all,
 * GET /api/v1/me/inbox, POST /api/v1/me/inbox/{id}/read, POST /api/v1/me/inbox/read-all. */
extern const struct route notify_routes[];
extern const size_t notify_routes_n;
int notify_add_routes(struct router *rt);

#endif
