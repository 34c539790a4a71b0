/* cli.c: `govhall backup`, `govhall restore`, `govhall uploads` (ops.h). */
#include <stdio.h>
#include <string.h>

#include "base/arena.h"
#include "base/config.h"
#include "base/err.h"
#include "cases/attach.h"
#include "ops/ops.h"
#include "store/blob.h"
#include "store/db.h"

DB_SQL(q_missing, "SELECT (SELECT COUNT(*) FROM attachments a WHERE NOT EXISTS "
		  "(SELECT 1 FROM blobs b WHERE b.sha256 = a.sha256)) + (SELECT COUNT(*) FROM publish_attachments p "
		  "WHERE NOT EXISTS (SELECT 1 FROM blobs b WHERE b.sha256 = p.sha256))");

long ops_files_missing(struct db *db)
{
	struct arena *a = arena_new(1024);
	struct db_rows rows;
	int rc = db_query(db, a, &q_missing, DB_NOARGS, &rows);
	long n = rc ? rc : (long)db_cell_int(&rows, 0, 0);
	arena_free(a);
	return n;
}

static int postgres_tools(const char *cmd)
{
	fprintf(stderr,
		"govhall: %s works on SQLite databases; a PostgreSQL database is backed up and restored with\n"
		"PostgreSQL's own tools (docs/operations.md, \"Backup and restore\"):\n"
		"  pg_dump --format=custom --file=govhall.dump \"$DB_URL\"\n"
		"  createdb -O govhall govhall_restored && pg_restore --no-owner --dbname=\"$RESTORED_URL\" govhall.dump\n"
		"or continuous archiving with pg_basebackup for point-in-time recovery.\n",
		cmd);
	return 2;
}

static int backup_cmd(const struct config *cfg, int nargs, char **args)
{
	if (nargs != 1 || args[0][0] == '-') {
		fprintf(stderr, "usage: govhall backup FILE\n");
		return 2;
	}
	const char *path = db_url_sqlite_path(cfg->db);
	if (!path)
		return postgres_tools("backup");
	char err[1200];
	int schema = 0;
	int64_t bytes = 0;
	if (db_sqlite_backup(path, args[0], &schema, &bytes, err, sizeof(err))) {
		fprintf(stderr, "govhall: backup: %s\n", err);
		return 1;
	}
	printf("backup written: %s (%lld bytes, schema version %d). Keep the key files (%s and %s.ledger) "
	       "apart from it: the backup is useless without them, and they must not travel with it.\n",
	       args[0], (long long)bytes, schema, cfg->key_file, cfg->key_file);
	return 0;
}

static int restore_cmd(const struct config *cfg, int nargs, char **args)
{
	const char *file = NULL;
	bool force = false;
	bool bad = false;
	for (int i = 0; i < nargs; i++) {
		if (!strcmp(args[i], "--force"))
			force = true;
		else if (!file && args[i][0] != '-')
			file = args[i];
		else
			bad = true;
	}
	if (!file || bad) {
		fprintf(stderr, "usage: govhall restore FILE [--force] [--db PATH]\n");
		return 2;
	}
	const char *path = db_url_sqlite_path(cfg->db);
	if (!path)
		return postgres_tools("restore");
	char err[1200];
	int schema = 0;
	int rc = db_sqlite_restore(file, path, force, &schema, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "govhall: restore: %s\n", err);
		return 1;
	}
	printf("restored %s into %s (schema version %d). Put the key files of this database beside it (%s and "
	       "%s.ledger), then start the hall; `govhall audit` checks the log.\n",
	       file, path, schema, cfg->key_file, cfg->key_file);
	return 0;
}

static int uploads_cmd(const struct config *cfg, int nargs, char **args)
{
	bool import = nargs >= 1 && !strcmp(args[0], "import");
	if (!(nargs == 1 && !strcmp(args[0], "status")) && !(import && nargs <= 2)) {
		fprintf(stderr, "usage: govhall uploads status | import [DIR]   (DIR: default the setting upload-dir)\n");
		return 2;
	}
	char err[1200];
	struct db *db;
	if (ops_open_db(cfg, OPS_NODE, &db, err, sizeof(err))) {
		fprintf(stderr, "govhall: %s\n", err);
		return 1;
	}
	int rc = 0;
	if (import) {
		const char *dir = nargs == 2 ? args[1] : cfg->upload_dir;
		long copied = 0, present = 0, bad = 0;
		rc = attach_import_dir(db, dir, stderr, &copied, &present, &bad);
		if (rc)
			fprintf(stderr, "govhall: uploads import stopped: %s\n", rc == GH_EIO ? "cannot read the folder" : db_last_error(db));
		else
			printf("%ld file(s) copied from %s into the database, %ld there already, %ld skipped\n", copied,
			       dir, present, bad);
	}
	int64_t n = 0, bytes = 0;
	long missing = ops_files_missing(db);
	if (!rc && (rc = blob_totals(db, &n, &bytes)) == 0 && missing >= 0)
		printf("%lld stored file(s), %lld bytes; %ld attachment(s) name a file the database does not hold%s\n",
		       (long long)n, (long long)bytes, missing,
		       missing ? " (run `govhall uploads import DIR` with the folder an earlier version kept them in)" : "");
	db_close(db);
	return rc || missing < 0 ? 1 : 0;
}

int ops_cli(const struct config *cfg, const char *cmd, int nargs, char **args)
{
	if (!strcmp(cmd, "backup"))
		return backup_cmd(cfg, nargs, args);
	if (!strcmp(cmd, "restore"))
		return restore_cmd(cfg, nargs, args);
	return uploads_cmd(cfg, nargs, args);
}
