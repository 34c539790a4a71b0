/* blob.h: files kept in the database, so that every node serves every file (stateless nodes).
 *
 * Invariants:
 * - A blob is named by the lower-case hex SHA-256 of its bytes and never changes. The same
 *   bytes stored twice are one blob.
 * - Its bytes are cut into chunks of BLOB_CHUNK bytes (the last one shorter), one row each
 *   (table blob_chunks), so no row is large; table blobs holds the size, the number of chunks
 *   and touched_at (when it was last stored). A blobs row is written in the same transaction
 *   as all its chunks, so a blob that exists is complete.
 * - Blobs belong to nobody: rows of other tables name them (a column sha256). blob_gc removes
 *   the blobs no registered table names once they were last stored longer ago than a grace
 *   period, which covers the time between storing a blob and writing the row that names it.
 *   Storing a blob that exists touches it, so a blob about to be named again is not removed
 *   under the caller (and if the removal won, it is written again).
 */
#ifndef GH_BLOB_H
#define GH_BLOB_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "store/db.h"

#define BLOB_CHUNK (256u << 10)

/* Stores [data, data+len) unless it is there already (then only touches it). out_hex gets the
 * name (65 bytes with the NUL), *existed (may be NULL) whether it was there. Inserts the chunks
 * one by one straight from data, in one transaction of its own (db must not be in one).
 * Returns 0, or a GH_E code (GH_EBUSY, GH_EUNAVAILABLE, GH_EDB). */
int blob_put(struct db *db, const void *data, size_t len, int64_t now, char out_hex[65], bool *existed);

/* The size of the blob named sha256: 0 with *size, GH_ENOTFOUND when there is none. */
int blob_size(struct db *db, struct arena *a, const char *sha256, size_t *size);

/* Reads the blob chunk by chunk, each through sink (ctx, bytes, n) in order; the bytes live in a
 * scratch arena reset before the next chunk. Checks the chunks' total against the stored size
 * and the SHA-256 of the bytes against the name: GH_EIO (logged) when the blob is damaged,
 * GH_ENOTFOUND when there is none. A non-zero return of sink stops the read and is returned. */
int blob_read(struct db *db, const char *sha256, int (*sink)(void *ctx, const void *p, size_t n), void *ctx);

/* Declares that column sha256 of table `table` (a static string) names blobs: blob_gc keeps
 * every blob such a row names. Call at start, before blob_gc. Thread-safe. */
void blob_ref_table(const char *table);

/* Removes at most `batch` blobs that no registered table names and that were last stored
 * before `cutoff` (Unix seconds), each with its chunks. *removed gets how many. Refuses
 * (GH_EINVAL) while no table is registered. On PostgreSQL one node at a time does it (a
 * transaction-level advisory lock; a node that finds it taken removes nothing). */
int blob_gc(struct db *db, int64_t cutoff, long batch, long *removed);

/* Counts the blobs and their bytes (for `govhall uploads`), into *n and *bytes. */
int blob_totals(struct db *db, int64_t *n, int64_t *bytes);

#endif
