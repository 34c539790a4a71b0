/* log_impl.h: the stored log (log.c), checkpoints (checkpoint.c) and keys (keys.c), shared
 * inside src/ledger. */
#ifndef GH_LEDGER_LOG_IMPL_H
#define GH_LEDGER_LOG_IMPL_H
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "ledger/ledger_impl.h"

struct config;
struct db;
struct arena;

struct ledger_leaf {
	int64_t index, created_at;
	const char *kind, *ref, *salt, *leaf;
	unsigned char hash[H32];
};

/* Reads the head; lock: FOR UPDATE on PostgreSQL (inside a transaction). root may be NULL. */
int ledger_head_read(struct db *db, struct arena *a, bool lock, struct merkle_frontier *f,
		     unsigned char root[H32]);
/* ---- tiles.c: the tree's hashes stored as tiles (ledger_tiles) ---- */
#define LEDGER_TILE_H 8   /* tree levels per tile level */
#define LEDGER_TILE_W 256 /* hashes of a full tile */
#define LEDGER_TILE_CACHE 4
struct ledger_tile_slot {
	unsigned level;
	uint64_t idx;
	size_t n;
	const unsigned char *h; /* NULL: empty slot */
};
/* merkle_get_fn over the stored log (ledger_db_get); counts the tiles read and keeps the last
 * few for the proof's time. Zero it, then set db and a. */
struct ledger_dbctx {
	struct db *db;
	struct arena *a;
	unsigned reads;
	struct ledger_tile_slot tile[LEDGER_TILE_CACHE];
	unsigned next;
};
int ledger_db_get(void *ctx, unsigned level, uint64_t idx, unsigned char out[H32]);
/* The stored tile (tlevel, tidx): *n hashes (1..256) at *hashes, in c->a. GH_ENOTFOUND when
 * there is none. */
int ledger_tile_read(struct ledger_dbctx *c, unsigned tlevel, uint64_t tidx, const unsigned char **hashes, size_t *n);
/* Stores the hashes of the n tree nodes (level, idx .. idx+n-1), all in one tile, when level
 * is a tile level (0, 8, 16...): a new tile at idx % 256 == 0, else at the end of its tile,
 * which must hold idx % 256 hashes (GH_EINTERNAL otherwise). Nodes of other levels are not
 * stored. */
int ledger_tile_append(struct db *db, unsigned level, uint64_t idx, const unsigned char *h, size_t n);
/* Writes the tile (tlevel, tidx) of n hashes whole, over any stored one (bulk writers). */
int ledger_tile_put(struct db *db, unsigned tlevel, uint64_t tidx, const unsigned char *hashes, size_t n);
/* Root of the first size leaves (size <= the log's size). */
int ledger_root_at(struct db *db, struct arena *a, uint64_t size, unsigned char root[H32]);
/* Proofs over the stored log (sizes at most the log's size); reads (may be NULL) gets the
 * number of stored hashes read. path holds LEDGER_PROOF_MAX hashes. */
int ledger_inclusion_at(struct db *db, struct arena *a, uint64_t index, uint64_t size, unsigned char (*path)[H32],
			size_t *n, unsigned *reads);
int ledger_consistency_at(struct db *db, struct arena *a, uint64_t size1, uint64_t size2, unsigned char (*path)[H32],
			  size_t *n, unsigned *reads);
/* GH_ENOTFOUND when no such leaf. */
int ledger_leaf_read(struct db *db, struct arena *a, int64_t index, struct ledger_leaf *out);

/* ---- keys.c: the log's Ed25519 signing keys ---- */
struct ledger_key {
	uint32_t id;
	int64_t created;
	unsigned char pk[32], sk[64];
	unsigned char key_hash[4]; /* C2SP note key hash for the origin as name */
};
struct ledger_keys {
	size_t n;
	struct ledger_key *k; /* ascending id; the last is current */
	char origin[256];
};
/* Loads the key file at path for origin. GH_EUNAVAILABLE with a message. */
int ledger_keys_load(const char *path, const char *origin, struct ledger_keys **out, char *err, size_t errlen);
void ledger_keys_free(struct ledger_keys *k);
int ledger_keys_create(const char *path, char *err, size_t errlen);
int ledger_keys_rotate(const char *path, uint32_t *new_id, char *err, size_t errlen);
/* The origin line for cfg (the host of public_url, then "/ledger"), into buf. */
void ledger_origin(const struct config *cfg, char *buf, size_t size);
/* The C2SP key hash: SHA-256(name || "\n" || 0x01 || pk)[:4]. */
void ledger_note_key_hash(const char *name, const unsigned char pk[32], unsigned char out[4]);
/* The "log" section of the keys document. */
json_t *ledger_keys_json(const struct ledger_keys *k);

/* The loaded keys of this process (serve, after ledger_init); NULL before. */
extern const struct ledger_keys *ledger_loaded_keys;

/* ---- checkpoint.c ---- */
#define LEDGER_CHECKPOINT_PERIOD 60 /* seconds between checkpoint passes of the duty */
/* Signs and stores a checkpoint of the current tree when it is larger than the latest
 * checkpoint (or when force and none exists for the size), in its own transaction.
 * *size_out (may be NULL) gets the size of the latest checkpoint afterwards. */
int ledger_checkpoint_now(struct db *db, struct arena *a, const struct ledger_keys *keys, int64_t *size_out);
/* The latest checkpoint: size, root and note. GH_ENOTFOUND when none. */
int ledger_checkpoint_latest(struct db *db, struct arena *a, int64_t *size, unsigned char root[H32],
			     const char **note);
/* The note text for origin, size and root, signed by key. In a. */
char *ledger_note_sign(struct arena *a, const char *origin, uint64_t size, const unsigned char root[H32],
		       const struct ledger_key *key);
/* Parses a note: origin line, size, base64 root, blank line, then signature lines. Checks the
 * signature of every line whose key hash matches one of pks (n keys named name). Returns 0
 * when at least one matching signature verifies and none that matches fails. */
struct note_key {
	const char *name;
	unsigned char pk[32];
	unsigned char key_hash[4];
};
int ledger_note_parse(struct arena *a, const char *note, const struct note_key *keys, size_t nkeys,
		      const char **origin, uint64_t *size, unsigned char root[H32], char *err, size_t errlen);

/* The covered rows (store/cover.h) a leaf commits, ready for its text and for ledger_refs. */
#define LEDGER_ROW_HASH 22 /* base64url characters of a row's hash in a leaf (128 bits) */
struct ledger_row {
	const char *table, *key;
	char id[LEDGER_ROW_HASH + 1], content[LEDGER_ROW_HASH + 1];
};
struct ledger_rows {
	struct ledger_row *v; /* sorted by id: the order of the leaf's text */
	size_t n;
	const char *json;     /* PostgreSQL: [[table, key], ...] */
};
/* A row's hashes in a leaf, keyed BLAKE2b-128 under the leaf's salt (its hex text as the key)
 * of NUL-terminated parts, base64url: id = H("row", table, key), content = H("content", table,
 * key, the row's 32-byte digest or "absent"). */
struct cover_entry;
void ledger_row_hashes(const char *salt, const char *table, const char *key, bool present,
		       const unsigned char digest[32], char id[LEDGER_ROW_HASH + 1], char content[LEDGER_ROW_HASH + 1]);
/* Hashes the rows taken from cover_take() under salt (an absent row as such). In a. db may be
 * NULL (no JSON of the rows for PostgreSQL's insert is made then). */
int ledger_rows_prepare(struct db *db, struct arena *a, const char *salt, const struct cover_entry *rows, size_t n,
			struct ledger_rows *out);
/* The canonical text of the leaf of kind made of obj (stolen: its members, "kind" set here) and
 * rows (with rows: "v": 2, "rows": {id: content}, and ref when not NULL), in a. GH_EINVAL when
 * it is not a leaf (a real number, too long). */
int ledger_rows_text(struct arena *a, const char *kind, const char *ref, json_t *obj, const struct ledger_rows *rows,
		     char **text, size_t *text_len);
/* Appends leaf text (canonical, of kind, text_len bytes; with rows, it holds them as "rows")
 * and writes rows (may be NULL) to ledger_refs, inside the caller's transaction. */
int ledger_append_text(struct db *db, struct arena *a, const char *kind, const char *ref, const char *salt,
		       const char *text, size_t text_len, const struct ledger_rows *rows, int64_t *index);
/* Appends a leaf of kind made of obj (stolen: its members, "kind" set here) and the covered rows
 * it commits, inside the caller's transaction: with rows, "v": 2, "rows": {id: content} (under
 * the leaf's salt; salt NULL: a new one) and "ref" are added. */
int ledger_append_rows(struct db *db, struct arena *a, const char *kind, const char *ref, const char *salt,
		       json_t *obj, const struct cover_entry *rows, size_t n, int64_t *index);
/* bulk.c: hands leaf text (canonical, of kind; rows may be NULL) to the bulk writer's sink,
 * then its ledger_refs rows and the nodes it completes. */
struct ledger_bulk;
int ledger_bulk_emit(struct ledger_bulk *b, struct arena *a, const char *kind, const char *ref, const char *salt,
		     const char *text, size_t len, const struct ledger_rows *rows, int64_t at);
/* Whether this process appended a leaf. */
bool ledger_appended(void);
/* Marks that this process appended (bulk writers), so the command signs a checkpoint. */
void ledger_set_appended(void);

#endif
