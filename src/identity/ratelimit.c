/* ratelimit.c: counters in the database, so every node sees the same limits. Keys are built
 * by callers from blind indexes and addresses ("login:acct:<index>", "login:ip:<addr>",
 * "register:ip:<addr>"), never from plain personal data. */
#include <stdio.h>

#include "base/err.h"
#include "identity/identity_impl.h"
#include "store/db.h"

#define FAIL_WINDOW 900   /* failures older than this are forgotten */
#define BLOCK_FIRST 30    /* seconds of the first block, doubled per further failure */
#define BLOCK_MAX 900

DB_SQL(q_get, "SELECT count, window_start, blocked_until FROM rate_limits WHERE key = ?");
DB_SQL(q_upsert,
       "INSERT INTO rate_limits (key, count, window_start, blocked_until) VALUES (?, ?, ?, ?) "
       "ON CONFLICT (key) DO UPDATE SET count = excluded.count, window_start = excluded.window_start, "
       "blocked_until = excluded.blocked_until");
DB_SQL(q_delete, "DELETE FROM rate_limits WHERE key = ?");

static void retry_after(struct req *r, int64_t seconds)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%lld", (long long)(seconds > 0 ? seconds : 1));
	resp_header(r, "Retry-After", buf);
}

int ratelimit_check(struct req *r, const char *key)
{
	struct db_rows rows;
	int rc = db_query(r->db, r->arena, &q_get, DB_ARGS(DB_TEXT(key)), &rows);
	if (rc)
		return rc;
	int64_t now = identity_now();
	if (rows.nrows == 1 && db_cell_int(&rows, 0, 2) > now) {
		retry_after(r, db_cell_int(&rows, 0, 2) - now);
		return GH_ERATELIMIT;
	}
	return 0;
}

int ratelimit_fail(struct db *db, const char *key, int64_t now, int64_t free_failures)
{
	struct arena *a = arena_new(1024);
	struct db_rows rows;
	int rc = db_query(db, a, &q_get, DB_ARGS(DB_TEXT(key)), &rows);
	int64_t count = 0, start = now;
	if (!rc && rows.nrows == 1 && now - db_cell_int(&rows, 0, 1) < FAIL_WINDOW) {
		count = db_cell_int(&rows, 0, 0);
		start = db_cell_int(&rows, 0, 1);
	}
	arena_free(a);
	if (rc)
		return rc;
	count++;
	int64_t blocked = 0;
	if (count > free_failures) {
		int64_t secs = BLOCK_FIRST;
		for (int64_t i = free_failures + 1; i < count && secs < BLOCK_MAX; i++)
			secs *= 2;
		blocked = now + (secs > BLOCK_MAX ? BLOCK_MAX : secs);
	}
	return db_exec(db, &q_upsert, DB_ARGS(DB_TEXT(key), DB_INT(count), DB_INT(start), DB_INT(blocked)), NULL);
}

void ratelimit_clear(struct db *db, const char *key)
{
	db_exec(db, &q_delete, DB_ARGS(DB_TEXT(key)), NULL);
}

int ratelimit_hit(struct req *r, const char *key, long max, long window)
{
	struct db_rows rows;
	int rc = db_query(r->db, r->arena, &q_get, DB_ARGS(DB_TEXT(key)), &rows);
	if (rc)
		return rc;
	int64_t now = identity_now(), count = 0, start = now;
	if (rows.nrows == 1 && now - db_cell_int(&rows, 0, 1) < window) {
		count = db_cell_int(&rows, 0, 0);
		start = db_cell_int(&rows, 0, 1);
	}
	if (count >= max) {
		retry_after(r, start + window - now);
		return GH_ERATELIMIT;
	}
	return db_exec(r->db, &q_upsert, DB_ARGS(DB_TEXT(key), DB_INT(count + 1), DB_INT(start), DB_INT(0)), NULL);
}

int identity_rate_limit(struct req *r, const char *key, long max, long window)
{
	return ratelimit_hit(r, key, max, window);
}
