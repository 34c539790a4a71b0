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
/* merkle_get_fn over the stored log; counts reads. */
struct ledger_dbctx {
	struct db *db;
	struct arena *a;
	unsigned reads;
};
int ledger_db_get(void *ctx, unsigned level, uint64_t idx, unsigned char out[H32]);
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

/* Appends a leaf of kind made of obj (stolen: its members, "kind" set here) and the covered rows
 * it commits (store/cover.h), inside the caller's transaction: each row as
 * "rows": {row hash: content hash} under the leaf's salt (salt NULL: a new one), with "v": 2,
 * and one ledger_refs row each. Rows absent and never logged are left out. For leaves this
 * module builds itself (no re-parse of the text). */
struct cover_entry;
int ledger_append_rows(struct db *db, struct arena *a, const char *kind, const char *ref, const char *salt,
		       json_t *obj, const struct cover_entry *rows, size_t n, int64_t *index);
/* A row's hashes in a leaf: id = H(salt, "row", "table:key"), content = H(salt, "table:key",
 * hex digest, or "absent"), each 64 hex characters and a NUL. */
void ledger_row_hashes(const char *salt, const char *table, const char *key, bool present,
		       const unsigned char digest[32], char id[65], char content[65]);
/* Whether this process appended a leaf. */
bool ledger_appended(void);

#endif
