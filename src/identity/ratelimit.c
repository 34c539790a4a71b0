/* ratelimit.c: counters in the database, so every node sees the same limits. Keys are built
 * by callers from blind indexes and addresses ("login:acct:<index>", "login:ip:<addr>",
 * "register:ip:<addr>"), never from plain personal data. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "base/util.h"
#include "http/write.h"
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

int ratelimit_check(struct req *r, const char *key)
{
	struct db_rows rows;
	int rc = db_query(r->db, r->arena, &q_get, DB_ARGS(DB_TEXT(key)), &rows);
	if (rc)
		return rc;
	int64_t now = identity_now();
	if (rows.nrows == 1 && db_cell_int(&rows, 0, 2) > now) {
		req_retry_after(r, db_cell_int(&rows, 0, 2) - now);
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

/* A failure counted, or a key cleared, along with a request (req_write_also). */
struct rl_along {
	int64_t now, free_failures;
	bool clear;
	char key[]; /* NUL-terminated */
};

static int rl_along_write(struct db *db, void *p)
{
	const struct rl_along *a = p;
	if (a->clear) {
		ratelimit_clear(db, a->key);
		return 0;
	}
	return ratelimit_fail(db, a->key, a->now, a->free_failures);
}

static void rl_along(struct req *r, const char *key, bool clear, int64_t free_failures)
{
	size_t len = strlen(key) + 1;
	struct rl_along *a = arena_zalloc(r->arena, sizeof(*a) + len);
	a->now = identity_now();
	a->free_failures = free_failures;
	a->clear = clear;
	memcpy(a->key, key, len);
	if (req_write_also(r, rl_along_write, a, sizeof(*a) + len))
		log_warn("identity: the limit %s could not be counted", key);
}

void ratelimit_fail_along(struct req *r, const char *key, int64_t free_failures)
{
	rl_along(r, key, false, free_failures);
}

void ratelimit_clear_along(struct req *r, const char *key)
{
	rl_along(r, key, true, 0);
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
		req_retry_after(r, start + window - now);
		return GH_ERATELIMIT;
	}
	return db_exec(r->db, &q_upsert, DB_ARGS(DB_TEXT(key), DB_INT(count + 1), DB_INT(start), DB_INT(0)), NULL);
}

/* One request counted, written along with it (req_write_also): read again on the writer, so
 * requests counted together add up. */
struct rl_hit {
	int64_t now, window;
	char key[]; /* NUL-terminated */
};

static int rl_hit_write(struct db *db, void *p)
{
	const struct rl_hit *h = p;
	struct arena *a = arena_new(1024);
	struct db_rows rows;
	int rc = db_query(db, a, &q_get, DB_ARGS(DB_TEXT(h->key)), &rows);
	int64_t count = 0, start = h->now;
	if (!rc && rows.nrows == 1 && h->now - db_cell_int(&rows, 0, 1) < h->window) {
		count = db_cell_int(&rows, 0, 0);
		start = db_cell_int(&rows, 0, 1);
	}
	arena_free(a);
	if (rc)
		return rc;
	return db_exec(db, &q_upsert, DB_ARGS(DB_TEXT(h->key), DB_INT(count + 1), DB_INT(start), DB_INT(0)), NULL);
}

int identity_rate_limit(struct req *r, const char *key, long max, long window)
{
	if (!req_on_loop(r))
		return ratelimit_hit(r, key, max, window); /* inside a write */
	/* On the loop: checked here, counted by the writer before the answer goes out. */
	struct db_rows rows;
	int rc = db_query(r->db, r->arena, &q_get, DB_ARGS(DB_TEXT(key)), &rows);
	if (rc)
		return rc;
	int64_t now = identity_now();
	if (rows.nrows == 1 && now - db_cell_int(&rows, 0, 1) < window && db_cell_int(&rows, 0, 0) >= max) {
		req_retry_after(r, db_cell_int(&rows, 0, 1) + window - now);
		return GH_ERATELIMIT;
	}
	size_t len = strlen(key) + 1;
	struct rl_hit *h = arena_zalloc(r->arena, sizeof(*h) + len);
	h->now = now;
	h->window = window;
	memcpy(h->key, key, len);
	rc = req_write_also(r, rl_hit_write, h, sizeof(*h) + len);
	return rc == GH_EBUSY ? GH_EBUSY : 0;
}

/* ---- the log-in throttle ------------------------------------------------------------------ */

/* See identity_impl.h for the rules and docs/security.md for the figures. */
const struct throttle_rule throttle_pair = { 5, 30, 900, 86400 };
const struct throttle_rule throttle_address = { 50, 30, 900, 900 };
const struct throttle_rule throttle_factor = { 9, 900, 86400, 0 };
const struct throttle_rule throttle_account = { 0, 0, 0, 0 };

DB_SQL(q_t_fail,
       "INSERT INTO auth_throttle (key, failures, last_failure, blocked_until, forget_after) VALUES (?, 1, ?, 0, ?) "
       "ON CONFLICT (key) DO UPDATE SET failures = CASE WHEN auth_throttle.forget_after > 0 "
       "AND auth_throttle.last_failure < excluded.last_failure - auth_throttle.forget_after THEN 1 "
       "ELSE auth_throttle.failures + 1 END, last_failure = excluded.last_failure, "
       "forget_after = excluded.forget_after RETURNING failures");
DB_SQL(q_t_block, "UPDATE auth_throttle SET blocked_until = ? WHERE key = ? AND blocked_until < ?");
DB_SQL(q_t_get, "SELECT failures, last_failure, blocked_until, forget_after FROM auth_throttle WHERE key = ?");
DB_SQL(q_t_clear, "DELETE FROM auth_throttle WHERE key = ?");
DB_SQL(q_t_purge, "DELETE FROM auth_throttle WHERE forget_after > 0 AND last_failure < ? - forget_after "
		  "AND blocked_until < ?");

int64_t throttle_delay(const struct throttle_rule *rule, int64_t failures)
{
	if (!rule->first || failures <= rule->free)
		return 0;
	int64_t secs = rule->first;
	for (int64_t i = rule->free + 1; i < failures && secs < rule->max; i++)
		secs *= 2;
	return secs < rule->max ? secs : rule->max;
}

int throttle_fail(struct db *db, const char *key, const struct throttle_rule *rule, int64_t now, int64_t *failures,
		  int64_t *blocked_for)
{
	struct arena *a = arena_new(512);
	struct db_rows rows;
	int rc = db_query(db, a, &q_t_fail, DB_ARGS(DB_TEXT(key), DB_INT(now), DB_INT(rule->forget)), &rows);
	int64_t n = !rc && rows.nrows == 1 ? db_cell_int(&rows, 0, 0) : 0;
	arena_free(a);
	if (rc)
		return rc;
	int64_t delay = throttle_delay(rule, n);
	if (delay)
		rc = db_exec(db, &q_t_block, DB_ARGS(DB_INT(now + delay), DB_TEXT(key), DB_INT(now + delay)), NULL);
	/* Now and then, counters nobody needs any more go. */
	if (!rc && randombytes_uniform(64) == 0)
		db_exec(db, &q_t_purge, DB_ARGS(DB_INT(now), DB_INT(now)), NULL);
	if (failures)
		*failures = n;
	if (blocked_for)
		*blocked_for = delay;
	return rc;
}

int throttle_state(struct db *db, const char *key, int64_t now, int64_t *failures, int64_t *retry)
{
	struct arena *a = arena_new(512);
	struct db_rows rows;
	int rc = db_query(db, a, &q_t_get, DB_ARGS(DB_TEXT(key)), &rows);
	int64_t n = 0, wait = 0;
	if (!rc && rows.nrows == 1) {
		int64_t last = db_cell_int(&rows, 0, 1), until = db_cell_int(&rows, 0, 2), forget = db_cell_int(&rows, 0, 3);
		if (!forget || last >= now - forget)
			n = db_cell_int(&rows, 0, 0);
		if (until > now)
			wait = until - now;
	}
	arena_free(a);
	if (failures)
		*failures = n;
	if (retry)
		*retry = wait;
	return rc;
}

void throttle_clear(struct db *db, const char *key)
{
	db_exec(db, &q_t_clear, DB_ARGS(DB_TEXT(key)), NULL);
}

DB_SQL(q_t_clear_account, "DELETE FROM auth_throttle WHERE key IN (?, ?, ?) OR key LIKE ?");

int throttle_clear_account(struct db *db, int64_t account)
{
	char k1[64], k2[64], k3[64], k4[64];
	snprintf(k1, sizeof(k1), "login:acct:acct:%lld", (long long)account);
	snprintf(k2, sizeof(k2), "login:2fa:totp:%lld", (long long)account);
	snprintf(k3, sizeof(k3), "login:2fa:sms:%lld", (long long)account);
	snprintf(k4, sizeof(k4), "login:pair:acct:%lld:%%", (long long)account);
	int64_t n = 0;
	int rc = db_exec(db, &q_t_clear_account, DB_ARGS(DB_TEXT(k1), DB_TEXT(k2), DB_TEXT(k3), DB_TEXT(k4)), &n);
	return rc ? rc : n ? 0 : GH_ENOTFOUND;
}

DB_SQL(q_good_set, "INSERT INTO auth_good_addresses (address, last_success) VALUES (?, ?) "
		  "ON CONFLICT (address) DO UPDATE SET last_success = excluded.last_success");
DB_SQL(q_good_get, "SELECT last_success FROM auth_good_addresses WHERE address = ?");
DB_SQL(q_good_purge, "DELETE FROM auth_good_addresses WHERE last_success < ?");

void throttle_good_address(struct db *db, const char *address, int64_t now)
{
	db_exec(db, &q_good_set, DB_ARGS(DB_TEXT(address), DB_INT(now)), NULL);
	if (randombytes_uniform(256) == 0)
		db_exec(db, &q_good_purge, DB_ARGS(DB_INT(now - GOOD_ADDRESS_DAYS * 86400)), NULL);
}

int throttle_is_good(struct db *db, const char *address, int64_t now, bool *good)
{
	struct arena *a = arena_new(256);
	struct db_rows rows;
	int rc = db_query(db, a, &q_good_get, DB_ARGS(DB_TEXT(address)), &rows);
	*good = !rc && rows.nrows == 1 && db_cell_int(&rows, 0, 0) >= now - GOOD_ADDRESS_DAYS * 86400;
	arena_free(a);
	return rc;
}

int throttle_refuse(struct req *r, int64_t wait)
{
	req_retry_after(r, wait);
	return GH_ERATELIMIT;
}

int throttle_check(struct req *r, const char *key)
{
	int64_t wait = 0;
	int rc = throttle_state(r->db, key, identity_now(), NULL, &wait);
	if (rc)
		return rc;
	return wait > 0 ? throttle_refuse(r, wait) : 0;
}
