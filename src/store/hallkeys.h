/* hallkeys.h: the keys a hall's nodes must hold, as the database publishes them (table
 * hall_keys): per key file key (kind "data") its check value, per log signing key (kind
 * "ledger") its public key, each as 64 hex digits. Written when a database is initialised and
 * when a key is rotated; compared by every node at start (src/ops/keycheck.c). Nothing secret
 * is stored here. */
#ifndef GH_HALLKEYS_H
#define GH_HALLKEYS_H
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "store/db.h"

struct hallkey {
	const char *kind;        /* "data" or "ledger" */
	uint32_t id;
	const char *fingerprint; /* 64 hex digits */
};

/* Every recorded key, by kind then id, into arena memory. *n is 0 when none is recorded, also
 * when the table does not exist yet (a database older than it). */
int hallkeys_list(struct db *db, struct arena *a, struct hallkey **out, size_t *n);

/* Records a key. 0 when it is recorded now or was recorded with the same fingerprint;
 * GH_ECONFLICT when (kind, id) is recorded with another one. */
int hallkeys_record(struct db *db, const char *kind, uint32_t id, const char *fingerprint, int64_t now);

#endif
