/* ledger_impl.h: what the files of src/ledger share (not for other domains). */
#ifndef GH_LEDGER_IMPL_H
#define GH_LEDGER_IMPL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/ledger.h"

#define H32 LEDGER_HASH_LEN
#define LEDGER_PROOF_MAX 128 /* hashes in any proof of a tree of at most 2^63 leaves */

/* ---- merkle.c: pure hashing, proofs and verifiers (no I/O) ---- */

void merkle_node_hash(const unsigned char l[H32], const unsigned char r[H32], unsigned char out[H32]);
/* The hash of the perfect, aligned subtree at level (height) covering leaves
 * [idx << level, (idx + 1) << level). Returns 0 or a GH_E code. */
typedef int (*merkle_get_fn)(void *ctx, unsigned level, uint64_t idx, unsigned char out[H32]);
/* MTH(D[begin:end]) from perfect subtrees (at most 2 log2(end - begin) calls of get). The empty
 * range gives SHA-256(""). */
int merkle_range_hash(merkle_get_fn get, void *ctx, uint64_t begin, uint64_t end, unsigned char out[H32]);
/* PATH(index, D[0:size]) (RFC 9162 2.1.3.1): O(log size) calls of get. path must hold
 * LEDGER_PROOF_MAX hashes; *n gets the count. GH_EINVAL for index >= size. */
int merkle_inclusion_proof(merkle_get_fn get, void *ctx, uint64_t index, uint64_t size,
			   unsigned char (*path)[H32], size_t *n);
/* PROOF(size1, D[0:size2]) (RFC 9162 2.1.4.1). 0 < size1 <= size2; empty when equal. */
int merkle_consistency_proof(merkle_get_fn get, void *ctx, uint64_t size1, uint64_t size2,
			     unsigned char (*path)[H32], size_t *n);
/* RFC 9162 2.1.4.2; 0 when the proof shows root1 (size1) is a prefix of root2 (size2). */
int merkle_verify_consistency(uint64_t size1, uint64_t size2, const unsigned char root1[H32],
			      const unsigned char root2[H32], const unsigned char (*path)[H32], size_t n);
/* The same verifiers on hashes of any length, as they arrive in untrusted documents: a hash
 * that is not H32 bytes fails, except that two equal tree heads of the same size need no
 * hashing and are compared byte for byte. */
struct merkle_bytes {
	const unsigned char *p;
	size_t len;
};
int merkle_verify_inclusion_bytes(uint64_t index, uint64_t size, const struct merkle_bytes *leaf,
				  const struct merkle_bytes *path, size_t n, const struct merkle_bytes *root);
int merkle_verify_consistency_bytes(uint64_t size1, uint64_t size2, const struct merkle_bytes *root1,
				    const struct merkle_bytes *root2, const struct merkle_bytes *path, size_t n);
/* Root of the tree of n leaf hashes held in memory (tests, audit). */
void merkle_root_of(const unsigned char (*leaves)[H32], uint64_t n, unsigned char out[H32]);

/* The compact range of a tree of size leaves: the roots of the perfect subtrees of its binary
 * decomposition, largest (leftmost) first; popcount(size) hashes. */
struct merkle_frontier {
	uint64_t size;
	size_t n;
	unsigned char h[64][H32];
};
/* Adds leaf hash h at index f->size; calls put(ctx, level, idx, hash) for each perfect subtree
 * of level >= 1 the new leaf completes (lowest first). */
typedef int (*merkle_put_fn)(void *ctx, unsigned level, uint64_t idx, const unsigned char h[H32]);
int merkle_frontier_push(struct merkle_frontier *f, const unsigned char h[H32], merkle_put_fn put, void *ctx);
void merkle_frontier_root(const struct merkle_frontier *f, unsigned char out[H32]);

/* base64 (standard alphabet, padded) of a hash into out (45 bytes). */
void ledger_b64(const unsigned char *in, size_t len, char *out, size_t outsize);
/* Strict decode of exactly H32 bytes; -1 for anything else. */
int ledger_unb64_hash(const char *s, unsigned char out[H32]);

/* ---- pack.c: the stored form of a leaf (ledger_leaves.leaf) ---- */
struct arena;
/* The stored bytes of leaf text (len bytes): version 1 (packed) when it gives the text back,
 * else version 0 (the text after a 0 byte). In a; always 0. */
int ledger_leaf_pack(struct arena *a, const char *text, size_t len, const unsigned char **out, size_t *outlen);
/* The text of stored bytes (NUL-terminated, in a). GH_EINVAL when they are not a stored leaf
 * of a known version or give more than LEDGER_LEAF_MAX bytes. */
int ledger_leaf_unpack(struct arena *a, const unsigned char *b, size_t n, const char **text, size_t *len);
/* The text of the stored leaf in cell (r, c) of rows, in a; NULL when the cell is NULL or not a
 * stored leaf (the audit then reports that its text does not hash to its hash). */
struct db_rows;
const char *ledger_leaf_cell(struct arena *a, const struct db_rows *rows, size_t r, size_t c);

#endif
