/* prefs.h (notify's own): which channel each account wants for which topic of message.
 *
 * Messages fall into three topics people choose channels for: "progress" (what happened to
 * an application), "action" (something asks them to act: material to supply, a fee to pay, a
 * visit to make, a rating to give, a deadline warning to staff) and "replies" (answers to consultations and
 * complaints, rectifications of a review). Security messages (kinds "security_*") belong to
 * none: they always arrive. Channels: the site inbox, e-mail, SMS. With a channel off, the
 * outbox queues nothing on it; with the inbox off the message is still kept, marked read on
 * arrival (the record stays whole, nothing counts as unread). No row: every channel. */
#ifndef GH_NOTIFY_PREFS_H
#define GH_NOTIFY_PREFS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct db;
struct arena;

#define NOTIFY_TOPICS 3
extern const char *const notify_topics[NOTIFY_TOPICS]; /* in the order shown */

struct notify_pref {
	bool inbox, email, sms;
};

/* The topic of a message of kind (application: a workflow event of an application, from
 * notify_application_event), or NULL for messages that always arrive. */
const char *notify_topic_of(const char *kind, bool application);
/* The account's choice for topic into *out (every channel when none was made, or topic is
 * NULL). 0 or a database error. */
int notify_pref_get(struct db *db, struct arena *a, int64_t account, const char *topic, struct notify_pref *out);
/* Every topic's choice, in notify_topics order. */
int notify_prefs_all(struct db *db, struct arena *a, int64_t account, struct notify_pref out[NOTIFY_TOPICS]);
/* Records the choices (a write: on the writer's connection). */
int notify_prefs_set(struct db *db, int64_t account, const struct notify_pref in[NOTIFY_TOPICS], int64_t now);

#endif
