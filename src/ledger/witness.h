/* witness.h: the pieces of C2SP tlog-witness and tlog-cosignature that belong to the log: the
 * add-checkpoint request body, Ed25519 cosignatures (cosignature/v1), the cosignatures other
 * halls gave this hall's checkpoints (ledger_cosignatures), and what a witness needs of the log
 * (its identity, consistency proofs). The HTTP service and the duty that collects cosignatures
 * are the federation's (src/federation/witness.c): they need the hub's directory.
 *
 * Invariants:
 * - Parsers are pure functions over memory with sizes bounded first (WITNESS_BODY_MAX, at most
 *   WITNESS_PROOF_MAX proof lines, notes as ledger_note_parse bounds them); fuzzed by
 *   tests/fuzz/fuzz_witness.c.
 * - A cosignature counts only when its line names a witness the caller trusts (name and key
 *   ID, SHA-256(name || "\n" || 0x04 || key)[:4]) and its Ed25519 signature over
 *   "cosignature/v1\ntime T\n" + the checkpoint's body verifies; lines of unknown keys are
 *   ignored, as the specification says. */
#ifndef GH_LEDGER_WITNESS_H
#define GH_LEDGER_WITNESS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

struct arena;
struct db;
struct config;

#define WITNESS_PROOF_MAX 63       /* consistency proof lines of one request (the spec's limit) */
#define WITNESS_BODY_MAX 16384     /* bytes of an add-checkpoint body */
#define WITNESS_KEYS_MAX 4         /* log keys of one log */

/* An add-checkpoint request body: "old N\n", proof lines (base64 hashes), "\n", checkpoint. */
struct witness_req {
	uint64_t old;
	size_t n;
	unsigned char proof[WITNESS_PROOF_MAX][32];
	const char *note; /* the checkpoint, in the arena */
};
/* 0, or GH_EINVAL with *why (a static English phrase). */
int witness_req_parse(struct arena *a, const char *body, size_t len, struct witness_req *out, const char **why);

/* The checkpoint's body lines read without checking signatures: origin, size, root (32 bytes),
 * and the length of its body (the text the log and the witnesses sign). GH_EINVAL with why. */
int witness_note_open(struct arena *a, const char *note, const char **origin, uint64_t *size, unsigned char root[32],
		      size_t *body_len, const char **why);
/* Whether a signature line of note by a key of keys (n of them, named origin) verifies, and none
 * of theirs fails: 0, or GH_EFORBIDDEN. */
int witness_note_signed(struct arena *a, const char *note, const char *origin, const unsigned char (*keys)[32], size_t n);

/* A witness this verifier trusts. */
struct witness_key {
	const char *name;    /* the cosigner's name (fed_dir_witness_name) */
	const char *hall;    /* whose it is (the directory's hall id) */
	unsigned char pk[32];
};
/* The signature line of witness name (key pk, secret sign) cosigning note at time ts. In a. */
char *witness_cosign(struct arena *a, const char *name, const unsigned char pk[32],
		     int (*sign)(const unsigned char *msg, size_t len, unsigned char sig[64]), const char *note, int64_t ts);
/* Checks the signature lines in lines (len bytes: a 200 answer, or the lines after a note's blank
 * line) against note's body for the witnesses w (n). ok[i] (may be NULL) is set for each witness
 * with a valid cosignature, ts[i] its timestamp and line[i] its line (in a; both may be NULL).
 * Returns how many witnesses cosigned, or -1 with why when the lines are malformed or a line of
 * a trusted key does not verify. */
int witness_cosigs_check(struct arena *a, const char *note, const char *lines, size_t len, const struct witness_key *w,
			 size_t n, bool *ok, int64_t *ts, const char **line, const char **why);

/* Strict base64 of a 32-byte hash into out: 0, or -1. */
int witness_unb64(const char *s, unsigned char out[32]);

/* This hall's log: its origin line and public keys (ledger key file), for the registration. */
int ledger_log_identity(struct db *db, const struct config *cfg, char *origin, size_t olen, unsigned char (*keys)[32],
			size_t max, size_t *n);
/* This hall's keys document (what /.well-known/govhall-keys.json serves: the log's keys and the
 * other domains' sections, the departments' certificate keys), from the key file; new
 * reference, NULL when the key file cannot be read. For the registration with the hub. */
json_t *ledger_keys_document(struct db *db, struct arena *a, const struct config *cfg);
/* Another hall's keys document, named by its log's origin, as the federation knows it (the
 * hub's directory on a hall, the approved registrations on the hub): set once at start by the
 * federation. ledger_foreign_keys returns a new reference or NULL (unknown, or no federation). */
typedef json_t *(*ledger_keys_of_fn)(struct db *db, const char *origin);
void ledger_foreign_keys_set(ledger_keys_of_fn fn);
json_t *ledger_foreign_keys(struct db *db, const char *origin);
/* The origin line of a checkpoint note (in a), or NULL. */
const char *ledger_note_origin(struct arena *a, const char *note);

/* Latest signed checkpoint of this hall's log: GH_ENOTFOUND when none. */
int ledger_latest_checkpoint(struct db *db, struct arena *a, int64_t *size, const char **note);
/* A consistency proof of the stored log from size1 to size2 (path holds 64 hashes). */
int ledger_consistency_lines(struct db *db, struct arena *a, uint64_t size1, uint64_t size2, unsigned char (*path)[32],
			     size_t *n);
/* Whether proof (n hashes) leads from root1 at size1 to root2 at size2 (RFC 6962 2.1.2). */
bool ledger_consistency_ok(uint64_t size1, uint64_t size2, const unsigned char root1[32], const unsigned char root2[32],
			   const unsigned char (*proof)[32], size_t n);
/* The root of this hall's own log at size (size <= its size). */
int ledger_own_root(struct db *db, struct arena *a, uint64_t size, unsigned char root[32]);

/* ---- ledger_cosignatures: what other halls cosigned of this hall's checkpoints ---- */
int ledger_cosig_put(struct db *db, int64_t size, const char *witness, const char *line, int64_t at);
/* The largest size witness cosigned (0 when none). */
int ledger_cosig_last(struct db *db, struct arena *a, const char *witness, int64_t *size);
/* The cosignature lines of the checkpoint of size (concatenated, "" when none). */
int ledger_cosig_lines(struct db *db, struct arena *a, int64_t size, const char **lines);
/* The latest checkpoint that has at least one cosignature, with its lines appended. */
int ledger_cosigned_note(struct db *db, struct arena *a, int64_t *size, const char **note);

/* `govhall verify` of a checkpoint (a signed note) or a receipt's checkpoint against a
 * directory (the JSON a hall's GET /federation/directory shows): the log's signature by the
 * keys the directory gives its origin, and at least k cosignatures by the directory's other
 * halls. Prints a verdict to out; 0 when it holds. */
int witness_verify_note(struct arena *a, const char *note, const json_t *dir, int k, FILE *out);

#endif
