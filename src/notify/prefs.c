/* prefs.c: the channel each account wants for each topic of message (prefs.h). */
#include "notify/prefs.h"

#include <string.h>

#include "base/util.h"
#include "cases/workflow.h"
#include "store/db.h"

const char *const notify_topics[NOTIFY_TOPICS] = { "progress", "action", "replies" };

/* Kinds that ask the person to act, whichever domain sends them (a workflow action: as the
 * workflow says). */
static bool asks_to_act(const char *kind)
{
	const struct wf_action *w = wf_action(kind);
	if (w)
		return w->asks_applicant;
	return !strcmp(kind, "evaluate_invite") || !strcmp(kind, "booking_paused") ||
	       !strcmp(kind, "booking_reminder") ||
	       !strncmp(kind, "pay_", 4) || !strncmp(kind, "warn_", 5);
}

const char *notify_topic_of(const char *kind, bool application)
{
	if (!kind)
		return application ? "progress" : "replies";
	if (!strncmp(kind, "security_", 9))
		return NULL;
	if (asks_to_act(kind))
		return "action";
	return application ? "progress" : "replies";
}

DB_SQL(q_get, "SELECT inbox, email, sms FROM notify_prefs WHERE account_id = ? AND topic = ?");
DB_SQL(q_all, "SELECT topic, inbox, email, sms FROM notify_prefs WHERE account_id = ?");
DB_SQL(q_set, "INSERT INTO notify_prefs (account_id, topic, inbox, email, sms, updated_at) VALUES (?, ?, ?, ?, ?, ?) "
	      "ON CONFLICT (account_id, topic) DO UPDATE SET inbox = excluded.inbox, email = excluded.email, "
	      "sms = excluded.sms, updated_at = excluded.updated_at");

int notify_pref_get(struct db *db, struct arena *a, int64_t account, const char *topic, struct notify_pref *out)
{
	*out = (struct notify_pref){ true, true, true };
	if (!topic || account <= 0)
		return 0;
	struct db_rows rows;
	int rc = db_query(db, a, &q_get, DB_ARGS(DB_INT(account), DB_TEXT(topic)), &rows);
	if (rc || !rows.nrows)
		return rc;
	*out = (struct notify_pref){ db_cell_int(&rows, 0, 0) != 0, db_cell_int(&rows, 0, 1) != 0,
				     db_cell_int(&rows, 0, 2) != 0 };
	return 0;
}

int notify_prefs_all(struct db *db, struct arena *a, int64_t account, struct notify_pref out[NOTIFY_TOPICS])
{
	for (size_t i = 0; i < NOTIFY_TOPICS; i++)
		out[i] = (struct notify_pref){ true, true, true };
	struct db_rows rows;
	int rc = db_query(db, a, &q_all, DB_ARGS(DB_INT(account)), &rows);
	for (size_t r = 0; !rc && r < rows.nrows; r++)
		for (size_t i = 0; i < NOTIFY_TOPICS; i++)
			if (!strcmp(db_cell(&rows, r, 0), notify_topics[i]))
				out[i] = (struct notify_pref){ db_cell_int(&rows, r, 1) != 0, db_cell_int(&rows, r, 2) != 0,
							       db_cell_int(&rows, r, 3) != 0 };
	return rc;
}

int notify_prefs_set(struct db *db, int64_t account, const struct notify_pref in[NOTIFY_TOPICS], int64_t now)
{
	int rc = 0;
	for (size_t i = 0; !rc && i < NOTIFY_TOPICS; i++)
		rc = db_exec(db, &q_set,
			     DB_ARGS(DB_INT(account), DB_TEXT(notify_topics[i]), DB_INT(in[i].inbox), DB_INT(in[i].email),
				     DB_INT(in[i].sms), DB_INT(now)),
			     NULL);
	return rc;
}
