/* bench/sqlite_loop.c: the ceiling for durable submissions without group commit: one thread
 * commits one submission per transaction (an application row as govhall leaves it after
 * submitting, its event row, its transparency-log leaf with the log head, and its statistics
 * rollup) into a govhall database, with journal_mode=WAL and synchronous=FULL (an fsync per
 * COMMIT), for a number of seconds; prints commits/s. It does none of the work around the rows
 * (no hashing, no JSON): a ceiling.
 *
 *   cc -O2 -std=c11 bench/sqlite_loop.c -lsqlite3 -o sqlite_loop
 *   sqlite_loop DB SECONDS ITEM_CODE APPLICANT_ID
 *
 * DB must hold govhall's schema and the demo catalog (govhall init --demo): the rows satisfy
 * the same foreign keys, unique constraints and indexes as the real ones. Use a copy: the loop
 * leaves its rows behind. */
#define _POSIX_C_SOURCE 200809L
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void check(sqlite3 *db, int rc, const char *what)
{
	if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
		fprintf(stderr, "sqlite_loop: %s: %s\n", what, sqlite3_errmsg(db));
		exit(1);
	}
}

static void exec(sqlite3 *db, const char *sql)
{
	check(db, sqlite3_exec(db, sql, NULL, NULL, NULL), sql);
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: sqlite_loop DB SECONDS ITEM_CODE APPLICANT_ID\n");
		return 2;
	}
	double seconds = atof(argv[2]);
	const char *item = argv[3];
	long long applicant = atoll(argv[4]);
	sqlite3 *db;
	if (sqlite3_open(argv[1], &db) != SQLITE_OK) {
		fprintf(stderr, "sqlite_loop: cannot open %s\n", argv[1]);
		return 1;
	}
	/* The same connection settings as govhall's (src/store/sqlite.c), synchronous FULL. */
	exec(db, "PRAGMA busy_timeout = 5000");
	exec(db, "PRAGMA journal_mode = WAL");
	exec(db, "PRAGMA foreign_keys = ON");
	exec(db, "PRAGMA synchronous = FULL");

	sqlite3_stmt *svc, *app, *ev;
	check(db, sqlite3_prepare_v2(db, "SELECT version, department, promised_limit_days, legal_limit_days "
					 "FROM service_items WHERE code = ? ORDER BY version DESC LIMIT 1", -1, &svc, NULL),
	      "prepare service");
	sqlite3_bind_text(svc, 1, item, -1, SQLITE_STATIC);
	if (sqlite3_step(svc) != SQLITE_ROW) {
		fprintf(stderr, "sqlite_loop: no item %s in %s\n", item, argv[1]);
		return 1;
	}
	long long version = sqlite3_column_int64(svc, 0);
	char dept[64];
	snprintf(dept, sizeof(dept), "%s", (const char *)sqlite3_column_text(svc, 1));
	int limit = sqlite3_column_int(svc, 2), legal = sqlite3_column_int(svc, 3);
	sqlite3_finalize(svc);

	check(db, sqlite3_prepare_v2(db,
				     "INSERT INTO applications (number, query_code, item_code, item_version, department, "
				     "applicant_id, channel, state, form, materials, idempotency_key, submitted_at, "
				     "limit_days, legal_limit_days, version, created_at, updated_at) VALUES "
				     "(?, 'ABCDEFGH', ?, ?, ?, ?, 'app', 'submitted', "
				     "'{\"content\":\"bench\",\"phone\":\"13800000001\",\"type\":\"consult\"}', "
				     "'[{\"slot\":0}]', ?, ?, ?, ?, 1, ?, ?) RETURNING id",
				     -1, &app, NULL),
	      "prepare application");
	check(db, sqlite3_prepare_v2(db,
				     "INSERT INTO application_events (application_id, at, actor_id, action, from_state, "
				     "to_state, reason, detail) VALUES (?, ?, ?, 'submit', 'draft', 'submitted', '', '{}')",
				     -1, &ev, NULL),
	      "prepare event");

	/* The log: a leaf of the size govhall writes for a submission, and the head rewritten. */
	sqlite3_stmt *leaf, *head, *stat;
	check(db, sqlite3_prepare_v2(db, "INSERT INTO ledger_leaves (idx, kind, ref, salt, leaf, created_at) "
				     "VALUES ((SELECT size FROM ledger_head WHERE id = 1), 'transition', ?, ?, ?, ?)", -1, &leaf, NULL),
	      "prepare leaf");
	check(db, sqlite3_prepare_v2(db, "UPDATE ledger_head SET size = size + 1, frontier = randomblob(640), "
				     "root = randomblob(32) WHERE id = 1", -1, &head, NULL),
	      "prepare head");
	check(db, sqlite3_prepare_v2(db, "INSERT INTO stats_daily (day, department, item_code, channel, metric, value) "
				     "VALUES (?, ?, ?, 'app', 'submitted', 1) ON CONFLICT (day, department, item_code, "
				     "channel, metric) DO UPDATE SET value = value + 1", -1, &stat, NULL),
	      "prepare stats");
	unsigned char leaf_bytes[320]; /* about a submission's stored (packed) leaf */
	memset(leaf_bytes, 'x', sizeof(leaf_bytes));
	leaf_bytes[0] = 1;

	char number[64], key[64];
	long long n = 0;
	unsigned long long tag = (unsigned long long)time(NULL);
	double start = now(), end = start + seconds, t = start;
	while (t < end) {
		long long at = (long long)time(NULL);
		snprintf(number, sizeof(number), "LOOP%llx-%08lld", tag, n);
		snprintf(key, sizeof(key), "loop-%llx-%lld", tag, n);
		exec(db, "BEGIN IMMEDIATE");
		sqlite3_bind_text(app, 1, number, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(app, 2, item, -1, SQLITE_STATIC);
		sqlite3_bind_int64(app, 3, version);
		sqlite3_bind_text(app, 4, dept, -1, SQLITE_STATIC);
		sqlite3_bind_int64(app, 5, applicant);
		sqlite3_bind_text(app, 6, key, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(app, 7, at);
		sqlite3_bind_int(app, 8, limit);
		sqlite3_bind_int(app, 9, legal);
		sqlite3_bind_int64(app, 10, at);
		sqlite3_bind_int64(app, 11, at);
		check(db, sqlite3_step(app), "insert application");
		long long id = sqlite3_column_int64(app, 0);
		sqlite3_reset(app);
		sqlite3_bind_int64(ev, 1, id);
		sqlite3_bind_int64(ev, 2, at);
		sqlite3_bind_int64(ev, 3, applicant);
		check(db, sqlite3_step(ev), "insert event");
		sqlite3_reset(ev);
		char ref[48];
		snprintf(ref, sizeof(ref), "decision:%lld", id);
		sqlite3_bind_text(leaf, 1, ref, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(leaf, 2, "0123456789abcdef0123456789abcdef", -1, SQLITE_STATIC);
		sqlite3_bind_blob(leaf, 3, leaf_bytes, sizeof(leaf_bytes), SQLITE_STATIC);
		sqlite3_bind_int64(leaf, 4, at);
		check(db, sqlite3_step(leaf), "insert leaf");
		sqlite3_reset(leaf);
		check(db, sqlite3_step(head), "update head");
		sqlite3_reset(head);
		sqlite3_bind_int64(stat, 1, (at + 28800) / 86400);
		sqlite3_bind_text(stat, 2, dept, -1, SQLITE_STATIC);
		sqlite3_bind_text(stat, 3, item, -1, SQLITE_STATIC);
		check(db, sqlite3_step(stat), "upsert statistics");
		sqlite3_reset(stat);
		exec(db, "COMMIT");
		n++;
		t = now();
	}
	double secs = t - start;
	printf("sqlite_loop: %lld commits in %.2f s: %.1f commits/s\n", n, secs, (double)n / secs);
	sqlite3_finalize(app);
	sqlite3_finalize(ev);
	sqlite3_finalize(leaf);
	sqlite3_finalize(head);
	sqlite3_finalize(stat);
	sqlite3_close(db);
	return 0;
}
