/* testdb.h: a fresh, empty database for one test case, on either backend.
 *
 * SQLite: a new file in a new temporary folder. PostgreSQL (when GOVHALL_TEST_PG holds a
 * postgresql:// URL): a database of the test program's own (created on first use, so test
 * programs can run in parallel against one cluster) whose public schema is emptied for every
 * test case. */
#ifndef GH_TESTDB_H
#define GH_TESTDB_H
#include "store/db.h"

struct testdb {
	enum db_kind kind;
	char dir[64];
	char url[512];
	struct db *db;
};

/* Returns 0 with t->db open, 1 when the backend is not available (PostgreSQL without
 * GOVHALL_TEST_PG: the caller skips), -1 on error (printed). prog names the test program. */
int testdb_open(struct testdb *t, enum db_kind kind, const char *prog);
/* Closes the connection and removes the SQLite folder. */
void testdb_close(struct testdb *t);

#endif
