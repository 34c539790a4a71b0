/* ledger.h: the transparency log — an append-only Merkle log (RFC 6962 / RFC 9162 hashing)
 * of the hall's decisions, catalog versions, certificates and evaluations, with tree heads
 * signed as C2SP tlog-checkpoint notes (Ed25519), receipts for applicants, and the published
 * keys at /.well-known/govhall-keys.json. The public interface for main.c and other domains.
 *
 * Leaves. A leaf is the canonical JSON text of one record (see ledger_canonical): an object
 * whose member "kind" names the record's kind, with personal fields (account ids, names, ID
 * numbers, free-text reasons) replaced by salted hashes (ledger_personal_hash) under a salt
 * that is stored with the leaf, never published, so `govhall audit` can recompute the leaf
 * from the source rows. leaf hash = SHA-256(0x00 || leaf text); node = SHA-256(0x01 || l || r).
 * The database stores the text packed (ledger_leaves.leaf, bytes with a version byte: pack.c);
 * everything hashed, proved and published is the text.
 *
 * Covered rows (format 2). A leaf also commits the covered rows (store/cover.h) its transaction
 * changed: "v": 2, "rows": {id: content} and its "ref" when it has one, where id and content
 * are keyed BLAKE2b-128 (the leaf's salt as the key, base64url) of the row's name and of its
 * name and digest (or "absent"): see ledger_row_hashes in log_impl.h. ledger_refs names the
 * rows, so `govhall audit` checks every covered row against its latest leaf. Leaves without
 * "rows" (format 1, written before) stay valid and are checked by rebuilding them from their
 * source rows.
 *
 * Kinds in use: "decision" and "transition" (application steps, written by this module as a
 * cases observer; an instant approval by an item's decision rules also names them in clear,
 * "rules": {"item", "version"}), "catalog_item" (catalog item versions, written by this module during
 * imports), "certificate", "certificate_revocation", "certificate_share" (the certificates
 * domain), "evaluation", "evaluation_appeal" (the evaluations domain), "change" (covered rows
 * changed where no other leaf was appended: accounts, agents, publications, answers, the
 * calendar, corrections; written at commit). A kind is 1..32 characters [a-z0-9_].
 */
#ifndef GH_LEDGER_H
#define GH_LEDGER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "app.h"

struct router;
struct db;
struct arena;
struct config;
struct view;

#define LEDGER_HASH_LEN 32          /* bytes of a leaf or node hash (SHA-256) */
#define LEDGER_RECEIPT_TYPE "govhall.receipt/v1" /* the "type" of a receipt document */
#define LEDGER_SALT_HEX 32          /* hex characters of a leaf's salt (16 random bytes) */
#define LEDGER_LEAF_MAX (64 * 1024) /* bytes of one leaf's canonical JSON, at most */

/* ---- Start and stop (main.c) ---------------------------------------------------------- */

/* Registers the observers that log application decisions (cases_observe) and catalog item
 * versions. Needs no keys; call once at the start of every command, before any transition
 * or import (not thread-safe). */
void ledger_register_observers(void);
/* Loads the log signing keys (LEDGER key file, see ledger_key_path) into app for serve.
 * GH_EUNAVAILABLE with a message in err when the file is missing or malformed. */
int ledger_init(struct app *app, char *err, size_t errlen);
void ledger_release(struct app *app);
/* Starts / stops the background duty that signs a checkpoint when the tree grew (one node
 * at a time: the checkpoint row is written under the log head's lock). */
int ledger_start(struct app *app, char *err, size_t errlen);
void ledger_stop(void);
int ledger_add_routes(struct router *rt);

/* Creates the log signing key file next to cfg->key_file (used by `govhall init`); 0 when it
 * exists already or was created, GH_EIO with a message. */
int ledger_key_create(const struct config *cfg, char *err, size_t errlen);
/* The path of the log key file: cfg->key_file with ".ledger" appended, into buf. */
void ledger_key_path(const struct config *cfg, char *buf, size_t size);
/* Calls fn(ctx, id, public key as 64 hex digits) for each key of cfg's log key file, in
 * ascending id order. GH_EUNAVAILABLE with a message when the file is missing or bad. */
int ledger_key_publics(const struct config *cfg, void (*fn)(void *ctx, uint32_t id, const char *pk_hex), void *ctx,
		       char *err, size_t errlen);

/* Commands: `ledger key list|rotate`, `ledger checkpoint`, `ledger bench-seed N`,
 * `verify FILE [--keys KEYS.json]`, `audit`. cmd is "ledger", "verify" or "audit"; args as
 * left by main's option parser. Returns the process exit status. */
int ledger_cli(const struct config *cfg, const char *cmd, int nargs, char **args);
/* Prints the usage of `govhall audit` (cmd "audit") or of the log's other commands. */
void ledger_cli_help(const char *cmd);
/* Signs a checkpoint when this process appended leaves (commands other than serve call it
 * before they exit: the running hall's duty signs only while it runs). Quiet unless it fails. */
void ledger_finish(const struct config *cfg);
/* Fixes the log's origin line (the host of public-url, then "/ledger") when the log has none
 * yet (govhall init); a log keeps its origin whatever public-url says later. 0 or GH_E code. */
int ledger_origin_keep(struct db *db, const struct config *cfg);

/* ---- Appending (other domains) ---------------------------------------------------------- */

/* Appends one leaf. Contract:
 * - call inside the caller's own open transaction (db_begin ... db_commit) on db: the leaf
 *   commits or rolls back with the caller's rows. The call locks the log head row (SELECT ...
 *   FOR UPDATE on PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises writers), so
 *   appends from every node are totally ordered; keep the rest of the transaction short;
 * - canonical_json must already be canonical (ledger_canonical output): a JSON object whose
 *   "kind" member equals kind, at most LEDGER_LEAF_MAX bytes, no real numbers; anything else is
 *   GH_EINVAL and nothing is written;
 * - ref (may be NULL) names the source row so audit can recompute the leaf, as
 *   "<kind>:<id>" (e.g. "certificate:CN-2026-000001"); salt (may be NULL) is the hex salt
 *   used for the leaf's personal hashes (LEDGER_SALT_HEX characters);
 * - *index (may be NULL) gets the leaf's index (0-based, dense);
 * - the covered rows the transaction touched so far (store/cover.h) go into this leaf: it is
 *   stored with "v": 2 and "rows" added (and a salt made when none was given), so read the
 *   stored text back (ledger_leaf_text) rather than rebuilding it.
 * Returns 0 or a GH_E code (GH_EDB, GH_EBUSY, GH_EINVAL). */
int ledger_append(struct db *db, struct arena *a, const char *kind, const char *canonical_json,
		  int64_t *index);
int ledger_append_ref(struct db *db, struct arena *a, const char *kind, const char *ref,
		      const char *salt, const char *canonical_json, int64_t *index);

/* Canonical JSON of v: object keys sorted by bytes, no insignificant white space, UTF-8 not
 * escaped, '/' not escaped (jansson JSON_COMPACT | JSON_SORT_KEYS). The text lives in a. NULL
 * when v holds a real number (leaves carry integers and strings only). */
char *ledger_canonical(struct arena *a, const json_t *v);

/* A new random salt: LEDGER_SALT_HEX hex characters and a NUL into out. */
void ledger_salt_new(char out[LEDGER_SALT_HEX + 1]);
/* Whether salt is LEDGER_SALT_HEX lowercase hex characters (what ledger_salt_new makes; the
 * only salts the log stores: PostgreSQL keeps them as their 16 bytes). */
bool ledger_salt_ok(const char *salt);
/* The SQL giving a stored salt column col as its hex text on PostgreSQL (BYTEA there). */
#define LEDGER_SALT_PG(col) "encode(" col ", 'hex')"
/* Salted hash of one personal field: hex SHA-256 of (salt hex text, 0x00, field, 0x00,
 * value), 64 characters and a NUL into out. */
void ledger_personal_hash(const char *salt, const char *field, const char *value, char out[65]);

/* ---- Bulk writing (`govhall bench-scale`: generated data written with COPY) ----------------
 * The leaves that ledger_append would store, with their ledger_refs rows, made in memory and
 * handed to a sink in append order; the tiles of the tree they fill are kept in memory. The
 * caller writes them (and the rows they commit) and then the tiles and the head with
 * ledger_bulk_head, all in one transaction of its own, and must be the log's only writer
 * meanwhile. */

/* One application step as the log records it (a cases observer's view of it). */
struct ledger_decision {
	int64_t event_id, at, applicant_id, enterprise_id, actor_id;
	const char *number, *item_code, *department, *action, *from_state, *to_state, *reason, *detail;
};
struct cover_entry;
struct ledger_bulk_sink {
	void *ctx;
	/* stored: the leaf's stored form (ledger_leaves.leaf, bytes: see src/ledger/pack.c) */
	int (*leaf)(void *ctx, int64_t idx, const char *kind, const char *ref, const char *salt,
		    const unsigned char *stored, size_t len, int64_t created_at);
	int (*ref)(void *ctx, int64_t idx, const char *table, const char *key);
};
struct ledger_bulk;
/* Continues the stored log of db (its head, read without a lock). GH_E code. */
int ledger_bulk_open(struct db *db, const struct ledger_bulk_sink *sink, struct ledger_bulk **out);
void ledger_bulk_free(struct ledger_bulk *b);
/* The leaf of a step ("decision" or "transition", ref "decision:<event>"), committing rows (the
 * application's and the event's, as store/cover.h describes them), as the cases observer
 * appends it; stamped d->at. */
int ledger_bulk_decision(struct ledger_bulk *b, struct arena *a, const struct ledger_decision *d,
			 const struct cover_entry *rows, size_t n);
/* A "change" leaf naming action, stamped at, committing rows (at most 200), as db_commit's
 * hook appends it for covered rows no other leaf took (an account created, say). */
int ledger_bulk_change(struct ledger_bulk *b, struct arena *a, const char *action, int64_t at,
		       const struct cover_entry *rows, size_t n);
/* Leaves so far (the index of the next one). */
int64_t ledger_bulk_size(const struct ledger_bulk *b);
/* Stores the tiles filled or grown since the last call and the head (size, frontier, root) on
 * db in the caller's transaction, as appends leave them; the command then signs a checkpoint
 * before it exits (ledger_finish). */
int ledger_bulk_head(struct ledger_bulk *b, struct db *db);

/* ---- Audit hooks (other domains) -------------------------------------------------------- */

/* Recomputes the canonical JSON of the leaf whose ref is ref from the rows its domain owns,
 * using salt. Returns 0 with *json set, GH_ENOTFOUND when the source row is gone, or another
 * GH_E code. */
typedef int (*ledger_recompute_fn)(struct db *db, struct arena *a, const char *ref, const char *salt,
				   char **json);
/* Names the function that recomputes leaves of kind (at most 8 kinds; call at start): for leaves
 * of the first format only (without "rows"); leaves with "rows" are checked through the covered
 * rows they commit (store/cover.h). Leaves of a kind without one are checked against their
 * stored text only. */
void ledger_audit_source(const char *kind, ledger_recompute_fn fn);

/* ---- Reading (other domains) ------------------------------------------------------------ */

struct ledger_proof {
	int64_t index, tree_size;
	unsigned char leaf_hash[LEDGER_HASH_LEN], root[LEDGER_HASH_LEN];
	size_t n;                          /* hashes in path */
	unsigned char (*path)[LEDGER_HASH_LEN]; /* in the arena */
	const char *checkpoint;            /* the signed note whose size is tree_size */
};
/* An inclusion proof of leaf index against the latest signed checkpoint, signing a new
 * checkpoint first when the latest does not cover index (needs ledger_init's keys; outside
 * any transaction). A request handler calls it inside ledger_signed_then(r, index + 1, ...),
 * which has signed already. GH_ENOTFOUND for an index not in the log. */
int ledger_prove(struct db *db, struct arena *a, int64_t index, struct ledger_proof *out);
/* The receipt document (type "govhall.receipt/v1") for leaf index, as a new JSON object:
 * {type, origin, leaf_index, leaf_hash, leaf, tree_size, root, checkpoint, inclusion_proof,
 * key_url}. Hashes base64 (standard alphabet, padded). */
int ledger_receipt(struct db *db, struct arena *a, int64_t index, json_t **out);
/* The stored text of leaf index (in a); GH_ENOTFOUND. */
int ledger_leaf_text(struct db *db, struct arena *a, int64_t index, const char **text);
/* Whether stored leaf text says what expected (a leaf's canonical JSON as first built) says:
 * equal once the members the log added ("v", "rows", "ref") are left out. */
bool ledger_leaf_says(struct arena *a, const char *text, const char *expected);
/* Indexes of the leaves whose ref is ref (oldest first), in the arena. */
int ledger_find_ref(struct db *db, struct arena *a, const char *ref, int64_t **idx, size_t *n);

/* ---- Signing before answering (request handlers) ----------------------------------------- */

struct req;
#define LEDGER_HEAD INT64_MAX /* ledger_signed_then: the whole tree as it is now */
/* Runs then(r, arg) once the latest signed checkpoint exists and covers min(leaves, tree
 * size) leaves (leaves 0: any checkpoint; index + 1: one that proves leaf index; LEDGER_HEAD:
 * the tree as it is). When it does not, a checkpoint is signed first on the group-commit
 * writer (http/write.h) and then runs on r's loop afterwards, so no handler signs on its
 * event loop; ledger_prove and ledger_receipt inside then find their checkpoint. Returns
 * then's result, or REQ_DEFERRED, or a GH_E code (signing failed: then does not run). */
int ledger_signed_then(struct req *r, int64_t leaves, int (*then)(struct req *r, void *arg), void *arg);
/* The same for a handler that learns the leaf it proves as it goes: 0 when the latest
 * checkpoint covers them already (the handler goes on); otherwise one is signed on the writer
 * and handler(r) runs again afterwards (and finds it covered), and REQ_DEFERRED or a GH_E
 * code is returned, for the handler to return. */
int ledger_signed_rerun(struct req *r, int64_t leaves, int (*handler)(struct req *r));
/* For a handler serving a document that proves its own leaf (a certificate, a payment
 * receipt), once loaded: loaded is what loading it returned and *leaf_index its leaf (read
 * only when loaded is 0; -1: not in the log). Returns loaded when it failed, 0 when there is
 * no leaf or the latest checkpoint proves it already, else ledger_signed_rerun's answer for
 * a checkpoint that proves it. */
int ledger_leaf_signed(struct req *r, int loaded, const int64_t *leaf_index, int (*handler)(struct req *r));

/* ---- Online verification (POST /api/v1/verify, the /verify page) ------------------------ */

/* Checks a receipt (the JSON of a receipt download) against this hall's log: the leaf
 * hashes to leaf_hash, the receipt and its checkpoint name this hall's log (origin), the
 * checkpoint is signed by a log key the hall publishes (current or retired) and states the
 * receipt's size and root, the inclusion proof leads from the leaf to that root, and the log
 * still holds this very leaf at leaf_index under that root. A document that is not a receipt
 * at all (not an object, members missing or of the wrong type or length) is GH_EVALIDATION
 * with r's error detail set; otherwise 0 and *out is a new object, the verdict:
 * {kind: "receipt", status: "valid" | "unknown", reason (unknown only, in r's language),
 * origin, leaf_index, tree_size, leaf_kind, checks: {leaf_hash, origin, signature, inclusion,
 * in_log}}. Reads r->db; allocates in r->arena. */
int ledger_receipt_verdict(struct req *r, const json_t *doc, json_t **out);

/* ---- Offline verification (verify command, certificates) -------------------------------- */

/* Checks a checkpoint note against the keys document (the JSON of
 * /.well-known/govhall-keys.json): the "log" key that signed it must be listed and its
 * signature valid. On success fills origin (in a), size and root. GH_EINVAL with a message. */
int ledger_checkpoint_verify(struct arena *a, const char *note, const json_t *keys, const char **origin,
			     int64_t *size, unsigned char root[LEDGER_HASH_LEN], char *err, size_t errlen);
/* Verifies an inclusion proof (RFC 9162 2.1.3.2). 0 when valid, GH_EINVAL otherwise. */
int ledger_verify_inclusion(uint64_t index, uint64_t size, const unsigned char leaf_hash[LEDGER_HASH_LEN],
			    const unsigned char (*path)[LEDGER_HASH_LEN], size_t n,
			    const unsigned char root[LEDGER_HASH_LEN]);
/* SHA-256(0x00 || data). */
void ledger_leaf_hash(const void *data, size_t len, unsigned char out[LEDGER_HASH_LEN]);

/* `govhall verify` dispatches on the document's "type": one handler per type. The receipt
 * type is this module's; the certificates domain registers "govhall.certificate/v1". The
 * handler prints what it checked to out and returns 0 when valid, 1 when not. keys is the
 * keys document (may be NULL when none was given). */
/* words: the catalogs (view.h) for the reasons it prints in English; may be NULL. */
typedef int (*ledger_verify_fn)(struct arena *a, const json_t *doc, const json_t *keys, const struct view *words,
				FILE *out);
/* Registers fn for documents of type (at most 8 types; not thread-safe). Register from a
 * function main() calls at its start for every command (as it calls
 * ledger_register_observers), so `govhall verify` knows the type. */
void ledger_verify_type(const char *type, ledger_verify_fn fn);
/* The message catalogs under cfg's data directory, for what `govhall verify` prints (NULL,
 * said on stderr, when they cannot be read); view_free() it. */
struct view *ledger_cli_words(const struct config *cfg);

/* ---- Published keys --------------------------------------------------------------------- */

/* /.well-known/govhall-keys.json is {"log": {origin, keys: [{id, name, algorithm, public_key,
 * key_hash, created, current}]}, ...}. Other domains add their sections: fn is called for
 * every request of that document with the object to extend (e.g. set "departments"). At most
 * 8; call at start. */
typedef int (*ledger_wellknown_fn)(struct db *db, struct arena *a, json_t *keys);
void ledger_wellknown_add(ledger_wellknown_fn fn);

#endif
