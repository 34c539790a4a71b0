/* personal.c: what notify holds about a person (store/personal.h): the inbox and the choice of
 * channels, both erased at closure (no law asks for them; the decisions they told of are kept
 * with the applications). */
#include "base/util.h"
#include "notify/notify.h"
#include "store/db.h"
#include "store/personal.h"

DB_SQL(q_inbox, "SELECT id, kind, title_zh, title_en, body_zh, body_en, created_at, read_at FROM inbox "
		"WHERE account_id = ? ORDER BY id DESC LIMIT 2000");
DB_SQL(q_inbox_erase, "DELETE FROM inbox WHERE account_id = ?");
DB_SQL(q_prefs, "SELECT topic, inbox, email, sms, updated_at FROM notify_prefs WHERE account_id = ? ORDER BY topic LIMIT 2000");
DB_SQL(q_prefs_erase, "DELETE FROM notify_prefs WHERE account_id = ?");

static const struct personal_part parts[] = {
	{ .name = "inbox", .query = &q_inbox, .erase_sql = { &q_inbox_erase } },
	{ .name = "notify_prefs", .query = &q_prefs, .erase_sql = { &q_prefs_erase } },
};

void notify_personal_declare(void)
{
	for (size_t i = 0; i < ARRAY_LEN(parts); i++)
		personal_declare(&parts[i]);
}
