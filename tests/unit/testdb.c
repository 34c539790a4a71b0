#include "testdb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "base/util.h"
#include "cases/workflow.h"

/* Creates (once per process) the database <base>_<prog> and writes its URL into out. */
static int pg_database(const char *base, const char *prog, char *out, size_t outlen)
{
	static char made[512];
	const char *slash = strrchr(base, '/');
	if (!slash || slash < base + strlen("postgresql://")) {
		fprintf(stderr, "testdb: GOVHALL_TEST_PG must end in /DBNAME: %s\n", base);
		return -1;
	}
	const char *q = strchr(slash, '?');
	size_t namelen = q ? (size_t)(q - slash - 1) : strlen(slash + 1);
	snprintf(out, outlen, "%.*s/%.*s_%s%s", (int)(slash - base), base, (int)namelen, slash + 1,
		 prog, q ? q : "");
	if (strcmp(made, out) == 0)
		return 0;
	struct db *admin;
	char err[256];
	if (db_open(base, &admin, err, sizeof(err))) {
		fprintf(stderr, "testdb: %s: %s\n", base, err);
		return -1;
	}
	char sql[256];
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %.*s_%s WITH (FORCE)", (int)namelen, slash + 1, prog);
	int rc = db_exec_script(admin, sql);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %.*s_%s", (int)namelen, slash + 1, prog);
	if (!rc)
		rc = db_exec_script(admin, sql);
	db_close(admin);
	if (rc) {
		fprintf(stderr, "testdb: cannot create the test database for %s\n", prog);
		return -1;
	}
	snprintf(made, sizeof(made), "%s", out);
	return 0;
}

/* Every unit test runs with the shipped workflow in force, as every command of govhall does
 * (the programs run in the source tree). */
__attribute__((constructor)) static void testdb_workflow(void)
{
	char err[600];
	if (workflow_load("data/workflow.json", err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
}

int testdb_open(struct testdb *t, enum db_kind kind, const char *prog)
{
	/* What the transparency log covers is declared as every command of govhall declares it
	 * (store/cover.h); without the log's hook, the rows a transaction touches are dropped at
	 * its commit. */
	app_cover_declare();
	memset(t, 0, sizeof(*t));
	t->kind = kind;
	if (kind == DB_SQLITE) {
		snprintf(t->dir, sizeof(t->dir), "/tmp/govhall-%s-XXXXXX", prog);
		if (!mkdtemp(t->dir))
			return -1;
		snprintf(t->url, sizeof(t->url), "sqlite:%s/test.db", t->dir);
	} else {
		const char *base = getenv("GOVHALL_TEST_PG");
		if (!base || !*base)
			return 1;
		if (pg_database(base, prog, t->url, sizeof(t->url)))
			return -1;
	}
	char err[256];
	if (db_open(t->url, &t->db, err, sizeof(err))) {
		fprintf(stderr, "testdb: db_open(%s): %s\n", t->url, err);
		return -1;
	}
	if (kind == DB_POSTGRES &&
	    (db_exec_script(t->db, "DROP SCHEMA IF EXISTS public CASCADE") ||
	     db_exec_script(t->db, "CREATE SCHEMA public"))) {
		fprintf(stderr, "testdb: cannot reset the schema of %s\n", t->url);
		return -1;
	}
	return 0;
}

void testdb_close(struct testdb *t)
{
	if (t->db)
		db_close(t->db);
	t->db = NULL;
	if (t->dir[0]) {
		static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
		for (size_t i = 0; i < ARRAY_LEN(suffix); i++) {
			char p[128];
			snprintf(p, sizeof(p), "%s/test.db%s", t->dir, suffix[i]);
			unlink(p);
		}
		rmdir(t->dir);
		t->dir[0] = 0;
	}
}
