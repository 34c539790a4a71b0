/* backup.c: backup and restore of SQLite databases with SQLite's online backup API (see db.h).
 * Raw sqlite3 handles here, not struct db: the backup API works on whole connections. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "store/db_impl.h"

#define BUSY_MS 5000

static int say(char *err, size_t errlen, int code, const char *fmt, const char *a, const char *b)
{
	char msg[1024];
	snprintf(msg, sizeof(msg), fmt, a, b ? b : "");
	db_set_err(err, errlen, msg);
	return code;
}

/* Opens an existing database file (never creates one). */
static int open_existing(const char *path, sqlite3 **h, char *err, size_t errlen)
{
	*h = NULL;
	struct stat st;
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return say(err, errlen, GH_ENOTFOUND, "%s: no such database file%s", path, NULL);
	if (sqlite3_open_v2(path, h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		int rc = say(err, errlen, GH_EUNAVAILABLE, "cannot open %s: %s", path, *h ? sqlite3_errmsg(*h) : "?");
		sqlite3_close(*h);
		*h = NULL;
		return rc;
	}
	sqlite3_busy_timeout(*h, BUSY_MS);
	return 0;
}

/* The text of a one-value query, into buf ("" when there is no row). */
static int one(sqlite3 *h, const char *sql, char *buf, size_t size)
{
	sqlite3_stmt *st;
	buf[0] = 0;
	int rc = sqlite3_prepare_v2(h, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);
		snprintf(buf, size, "%s", t ? (const char *)t : "");
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE) {
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

/* quick_check, then the schema version (0 without schema_migrations). */
static int check_file(sqlite3 *h, const char *path, int *schema, char *err, size_t errlen)
{
	char buf[256];
	int rc = one(h, "PRAGMA quick_check", buf, sizeof(buf));
	if (rc != SQLITE_OK || strcmp(buf, "ok") != 0)
		return say(err, errlen, GH_EINVAL, "%s is damaged (quick_check: %s)", path,
			   rc != SQLITE_OK ? sqlite3_errmsg(h) : buf);
	if ((rc = one(h, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'", buf,
		      sizeof(buf))) != SQLITE_OK)
		return say(err, errlen, GH_EINVAL, "%s: %s", path, sqlite3_errmsg(h));
	*schema = 0;
	if (atoi(buf) > 0) {
		if ((rc = one(h, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", buf, sizeof(buf))) != SQLITE_OK)
			return say(err, errlen, GH_EINVAL, "%s: %s", path, sqlite3_errmsg(h));
		*schema = atoi(buf);
	}
	return 0;
}

/* Copies all of src into dst in one step (one read transaction of src), waiting while busy. */
static int copy(sqlite3 *dst, sqlite3 *src)
{
	sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
	if (!b)
		return sqlite3_errcode(dst);
	int rc, tries = 0;
	while ((rc = sqlite3_backup_step(b, -1)) == SQLITE_BUSY || rc == SQLITE_LOCKED) {
		if (++tries > BUSY_MS / 50)
			break;
		sqlite3_sleep(50);
	}
	int frc = sqlite3_backup_finish(b);
	return rc == SQLITE_DONE ? frc : rc;
}

static void fsync_path(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

static void dir_of(const char *path, char *buf, size_t size)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		snprintf(buf, size, ".");
	else if (slash == path)
		snprintf(buf, size, "/");
	else
		snprintf(buf, size, "%.*s", (int)(slash - path), path);
}

int db_sqlite_backup(const char *path, const char *dest, int *schema, int64_t *bytes, char *err, size_t errlen)
{
	int ver = 0;
	struct stat st;
	if (lstat(dest, &st) == 0)
		return say(err, errlen, GH_ECONFLICT, "%s exists: choose another name or remove it first%s", dest, NULL);
	sqlite3 *src = NULL, *dst = NULL;
	int rc = open_existing(path, &src, err, errlen);
	if (rc)
		return rc;
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s.partial-XXXXXX", dest);
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		rc = say(err, errlen, GH_EIO, "cannot create a file beside %s: %s", dest, strerror(errno));
		goto out;
	}
	fchmod(fd, 0600); /* a backup holds what the database holds: sealed, but not for everyone */
	close(fd);
	if (sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		rc = say(err, errlen, GH_EIO, "cannot write %s: %s", tmp, dst ? sqlite3_errmsg(dst) : "?");
		goto out;
	}
	int src_rc = copy(dst, src);
	if (src_rc != SQLITE_OK) {
		rc = say(err, errlen, src_rc == SQLITE_BUSY || src_rc == SQLITE_LOCKED ? GH_EBUSY : GH_EIO,
			 "the copy of %s failed: %s", path, sqlite3_errstr(src_rc));
		goto out;
	}
	/* One self-contained file: no -wal beside it is needed to read it. */
	char mode[32];
	if (one(dst, "PRAGMA journal_mode = DELETE", mode, sizeof(mode)) != SQLITE_OK || strcmp(mode, "delete") != 0) {
		rc = say(err, errlen, GH_EIO, "cannot finish %s: %s", tmp, sqlite3_errmsg(dst));
		goto out;
	}
	if ((rc = check_file(dst, tmp, &ver, err, errlen)))
		goto out;
	sqlite3_close(dst);
	dst = NULL;
	fsync_path(tmp, O_RDONLY);
	if (rename(tmp, dest) != 0) {
		rc = say(err, errlen, GH_EIO, "cannot rename the backup to %s: %s", dest, strerror(errno));
		goto out;
	}
	tmp[0] = 0;
	char dir[PATH_MAX];
	dir_of(dest, dir, sizeof(dir));
	fsync_path(dir, O_RDONLY | O_DIRECTORY);
	if (stat(dest, &st) == 0 && bytes)
		*bytes = (int64_t)st.st_size;
	if (schema)
		*schema = ver;
out:
	sqlite3_close(dst);
	sqlite3_close(src);
	if (tmp[0])
		unlink(tmp);
	return rc;
}

int db_sqlite_restore(const char *backup, const char *target, bool force, int *schema, char *err, size_t errlen)
{
	sqlite3 *src = NULL, *dst = NULL;
	struct stat st;
	bool existed = stat(target, &st) == 0;
	int ver = 0, rc = open_existing(backup, &src, err, errlen);
	if (rc)
		return rc;
	if ((rc = check_file(src, backup, &ver, err, errlen)))
		goto out;
	if (ver == 0) {
		rc = say(err, errlen, GH_EINVAL, "%s is not a govhall database (no schema version)%s", backup, NULL);
		goto out;
	}
	if (ver > db_schema_version_known()) {
		char v[64];
		snprintf(v, sizeof(v), "%d, newer than this govhall knows (%d)", ver, db_schema_version_known());
		rc = say(err, errlen, GH_EINVAL, "%s has schema version %s: restore it with a newer govhall", backup, v);
		goto out;
	}
	if (sqlite3_open_v2(target, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		rc = say(err, errlen, GH_EUNAVAILABLE, "cannot open %s: %s", target, dst ? sqlite3_errmsg(dst) : "?");
		goto out;
	}
	/* Exclusive locking mode keeps the lock until the connection closes: nobody else can have
	 * the target open while it is replaced (a WAL connection holds a lock as long as it is
	 * open, so a running server makes this fail at once). */
	char buf[64];
	if (one(dst, "PRAGMA locking_mode = EXCLUSIVE", buf, sizeof(buf)) != SQLITE_OK ||
	    sqlite3_exec(dst, "BEGIN EXCLUSIVE", NULL, NULL, NULL) != SQLITE_OK) {
		rc = say(err, errlen, GH_EBUSY,
			 "%s is in use (a govhall serve or another program has it open): stop it first%s", target, NULL);
		goto out;
	}
	if (one(dst, "SELECT count(*) FROM sqlite_master", buf, sizeof(buf)) != SQLITE_OK) {
		rc = say(err, errlen, GH_EUNAVAILABLE, "cannot read %s: %s", target, sqlite3_errmsg(dst));
		goto out;
	}
	sqlite3_exec(dst, "COMMIT", NULL, NULL, NULL); /* the lock stays (exclusive locking mode) */
	if (atoi(buf) > 0 && !force) {
		rc = say(err, errlen, GH_ECONFLICT,
			 "%s already holds a database: restore into a new path, or add --force to replace it%s", target,
			 NULL);
		goto out;
	}
	int crc = copy(dst, src);
	if (crc != SQLITE_OK) {
		rc = say(err, errlen, GH_EIO, "the restore into %s failed: %s", target, sqlite3_errstr(crc));
		goto out;
	}
	int after = 0;
	if ((rc = check_file(dst, target, &after, err, errlen)))
		goto out;
	if (schema)
		*schema = after;
	existed = true; /* restored: keep it */
out:
	if (dst) {
		sqlite3_close(dst);
		if (!existed)
			unlink(target); /* created by the open above, never filled */
	}
	sqlite3_close(src);
	return rc;
}
