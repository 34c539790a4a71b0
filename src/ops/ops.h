/* ops.h: running the nodes of a hall (docs/operations.md).
 *
 * - Keys: the database publishes the keys its nodes must hold (store/hallkeys.h: a check value
 *   per key of the key file, the public key per signing key of the log). A node opens the
 *   database only with key files that match them exactly, and says which files to copy when
 *   they do not. Keys are made only by `govhall init` of a database that was never initialised,
 *   and by the rotation commands; never for an initialised database.
 * - Files: one node at a time removes stored files (store/blob.h) that nothing names any more,
 *   after a grace period (the setting blob-grace), as a duty of the duties thread.
 * - Commands: `govhall backup FILE`, `govhall restore FILE [--force]` (SQLite; PostgreSQL
 *   uses pg_dump, pg_restore and pg_basebackup), `govhall uploads import|status`.
 */
#ifndef GH_OPS_OPS_H
#define GH_OPS_OPS_H
#include <stddef.h>

struct app;
struct config;
struct db;

enum ops_open {
	OPS_INIT, /* `govhall init`: may create key files for a database never initialised, and
		   * records keys a rotation added to the key files */
	OPS_NODE, /* serve and every command that uses the keys: the key files must match */
};

/* Opens cfg->db for this node: checks the key files against the keys the database publishes
 * (for a database initialised before it published keys: that the key file opens what it
 * sealed), then applies pending migrations, then records the keys when the database publishes
 * none yet. Returns 0 with *db, or a GH_E code with a message for the operator in err
 * (naming the key files to copy from a node that serves the database). */
int ops_open_db(const struct config *cfg, enum ops_open mode, struct db **db, char *err, size_t errlen);

/* How many attachment rows name a file the database does not hold (stored on disk by an
 * earlier version): 0 or more, negative GH_E code on failure. */
long ops_files_missing(struct db *db);

/* Starts (and stops) the collection of unnamed stored files on the duties thread, with
 * app->duty_db. */
int ops_start(struct app *app, char *err, size_t errlen);
void ops_stop(void);

/* `govhall backup FILE`, `govhall restore FILE [--force]`, `govhall uploads import|status`:
 * cmd is "backup", "restore" or "uploads". Returns the exit status. */
int ops_cli(const struct config *cfg, const char *cmd, int nargs, char **args);

#endif
