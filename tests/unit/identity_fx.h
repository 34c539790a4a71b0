/* identity_fx.h: the fixture the identity module's unit tests share: a migrated database
 * (SQLite, or PostgreSQL when GOVHALL_TEST_PG is set), a key file and two accounts. */
#ifndef GH_IDENTITY_FX_H
#define GH_IDENTITY_FX_H
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "base/arena.h"
#include "base/err.h"
#include "base/util.h"
#include "identity/identity_impl.h"
#include "store/db.h"
#include "testdb.h"


struct fx {
	struct testdb t;
	bool skip;
	struct keyring *keys;
	char keydir[64], keypath[128];
	int64_t account, other;
};

DB_SQL(q_acct, "INSERT INTO accounts (kind, name, password_hash, key_id, created_at, password_changed_at) "
	       "VALUES ('individual', ?, 'x', 1, 0, 0) RETURNING id");

static inline int setup(void **state, enum db_kind kind)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	*state = f;
	/* A database of each program's own: the identity test programs run in parallel. */
	int rc = testdb_open(&f->t, kind, program_invocation_short_name);
	if (rc == 1) {
		f->skip = true;
		return 0;
	}
	if (rc)
		return -1;
	char err[256];
	if (db_migrate(f->t.db, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	snprintf(f->keydir, sizeof(f->keydir), "/tmp/govhall-identity-key-XXXXXX");
	if (!mkdtemp(f->keydir))
		return -1;
	snprintf(f->keypath, sizeof(f->keypath), "%s/govhall.key", f->keydir);
	if (keyring_create(f->keypath, err, sizeof(err)) || keyring_load(f->keypath, &f->keys, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	struct arena *a = arena_new(1024);
	struct db_rows rows;
	if (db_query(f->t.db, a, &q_acct, DB_ARGS(DB_TEXT("甲")), &rows))
		return -1;
	f->account = db_cell_int(&rows, 0, 0);
	if (db_query(f->t.db, a, &q_acct, DB_ARGS(DB_TEXT("乙")), &rows))
		return -1;
	f->other = db_cell_int(&rows, 0, 0);
	arena_free(a);
	return 0;
}

static inline int setup_sqlite(void **state)
{
	return setup(state, DB_SQLITE);
}

static inline int setup_pg(void **state)
{
	return setup(state, DB_POSTGRES);
}

static inline int teardown(void **state)
{
	struct fx *f = *state;
	testdb_close(&f->t);
	if (f->keys)
		keyring_free(f->keys);
	if (f->keypath[0]) {
		unlink(f->keypath);
		rmdir(f->keydir);
	}
	free(f);
	return 0;
}

#define SKIP_IF_NEEDED(f)                                                                          \
	do {                                                                                       \
		if ((f)->skip) {                                                                   \
			skip();                                                                    \
			return;                                                                    \
		}                                                                                  \
	} while (0)

#endif
