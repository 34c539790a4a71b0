/* merkle.c: RFC 6962 / RFC 9162 Merkle tree hashing, inclusion and consistency proofs (built
 * from perfect subtrees fetched by a callback, so a stored log answers in O(log n) reads) and
 * their verifiers. No I/O. */
#include <sodium.h>
#include <string.h>

#include "base/err.h"
#include "ledger/ledger_impl.h"

void ledger_leaf_hash(const void *data, size_t len, unsigned char out[H32])
{
	crypto_hash_sha256_state st;
	unsigned char z = 0;
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, &z, 1);
	crypto_hash_sha256_update(&st, data, len);
	crypto_hash_sha256_final(&st, out);
}

void merkle_node_hash(const unsigned char l[H32], const unsigned char r[H32], unsigned char out[H32])
{
	unsigned char buf[1 + 2 * H32];
	buf[0] = 1;
	memcpy(buf + 1, l, H32);
	memcpy(buf + 1 + H32, r, H32);
	crypto_hash_sha256(out, buf, sizeof(buf));
}

/* The largest power of two smaller than n (n >= 2). */
static uint64_t split_point(uint64_t n)
{
	uint64_t k = 1;
	while (k << 1 < n)
		k <<= 1;
	return k;
}

static bool is_pow2(uint64_t n)
{
	return n && !(n & (n - 1));
}

static unsigned log2u(uint64_t n)
{
	unsigned l = 0;
	while (n > 1) {
		n >>= 1;
		l++;
	}
	return l;
}

int merkle_range_hash(merkle_get_fn get, void *ctx, uint64_t begin, uint64_t end, unsigned char out[H32])
{
	if (end < begin)
		return GH_EINVAL;
	uint64_t n = end - begin;
	if (n == 0) {
		crypto_hash_sha256(out, (const unsigned char *)"", 0);
		return 0;
	}
	if (is_pow2(n) && begin % n == 0)
		return get(ctx, log2u(n), begin / n, out);
	if (n == 1) /* not reached: 1 is a power of two */
		return GH_EINTERNAL;
	uint64_t k = split_point(n);
	unsigned char l[H32], r[H32];
	int rc;
	if ((rc = merkle_range_hash(get, ctx, begin, begin + k, l)) ||
	    (rc = merkle_range_hash(get, ctx, begin + k, end, r)))
		return rc;
	merkle_node_hash(l, r, out);
	return 0;
}

/* Appends MTH(D[begin:end]) to the proof path (at most LEDGER_PROOF_MAX hashes). */
static int append_hash(merkle_get_fn get, void *ctx, uint64_t begin, uint64_t end, unsigned char (*path)[H32],
		       size_t *n)
{
	if (*n >= LEDGER_PROOF_MAX)
		return GH_EINTERNAL;
	return merkle_range_hash(get, ctx, begin, end, path[(*n)++]);
}

/* PATH(m, D[begin:end]) appended bottom-up: recursion first, then the sibling. */
static int path_rec(merkle_get_fn get, void *ctx, uint64_t m, uint64_t begin, uint64_t end,
		    unsigned char (*path)[H32], size_t *n)
{
	uint64_t size = end - begin;
	if (size <= 1)
		return 0;
	uint64_t k = split_point(size);
	int rc;
	if (m < k) {
		if ((rc = path_rec(get, ctx, m, begin, begin + k, path, n)))
			return rc;
		return append_hash(get, ctx, begin + k, end, path, n);
	}
	if ((rc = path_rec(get, ctx, m - k, begin + k, end, path, n)))
		return rc;
	return append_hash(get, ctx, begin, begin + k, path, n);
}

int merkle_inclusion_proof(merkle_get_fn get, void *ctx, uint64_t index, uint64_t size,
			   unsigned char (*path)[H32], size_t *n)
{
	*n = 0;
	if (index >= size)
		return GH_EINVAL;
	return path_rec(get, ctx, index, 0, size, path, n);
}

/* SUBPROOF(m, D[begin:end], b) appended bottom-up. */
static int subproof_rec(merkle_get_fn get, void *ctx, uint64_t m, uint64_t begin, uint64_t end, bool b,
			unsigned char (*path)[H32], size_t *n)
{
	uint64_t size = end - begin;
	int rc;
	if (m == size) {
		if (b)
			return 0;
		return append_hash(get, ctx, begin, end, path, n);
	}
	uint64_t k = split_point(size);
	if (m <= k) {
		if ((rc = subproof_rec(get, ctx, m, begin, begin + k, b, path, n)))
			return rc;
		return append_hash(get, ctx, begin + k, end, path, n);
	}
	if ((rc = subproof_rec(get, ctx, m - k, begin + k, end, false, path, n)))
		return rc;
	return append_hash(get, ctx, begin, begin + k, path, n);
}

int merkle_consistency_proof(merkle_get_fn get, void *ctx, uint64_t size1, uint64_t size2,
			     unsigned char (*path)[H32], size_t *n)
{
	*n = 0;
	if (size1 == 0 || size1 > size2)
		return GH_EINVAL;
	if (size1 == size2)
		return 0;
	return subproof_rec(get, ctx, size1, 0, size2, true, path, n);
}

/* RFC 9162 2.1.3.2 / 2.1.4.2: while fn is even and not 0, shift fn and sn right by one. */
static void shift_even(uint64_t *fn, uint64_t *sn)
{
	while (!(*fn & 1) && *fn != 0) {
		*fn >>= 1;
		*sn >>= 1;
	}
}

int ledger_verify_inclusion(uint64_t index, uint64_t size, const unsigned char leaf_hash[H32],
			    const unsigned char (*path)[H32], size_t n, const unsigned char root[H32])
{
	if (index >= size || n > LEDGER_PROOF_MAX)
		return GH_EINVAL;
	uint64_t fn = index, sn = size - 1;
	unsigned char r[H32];
	memcpy(r, leaf_hash, H32);
	for (size_t i = 0; i < n; i++) {
		if (sn == 0)
			return GH_EINVAL;
		if ((fn & 1) || fn == sn) {
			merkle_node_hash(path[i], r, r);
			shift_even(&fn, &sn);
		} else {
			merkle_node_hash(r, path[i], r);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0 || sodium_memcmp(r, root, H32) != 0)
		return GH_EINVAL;
	return 0;
}

int merkle_verify_consistency(uint64_t size1, uint64_t size2, const unsigned char root1[H32],
			      const unsigned char root2[H32], const unsigned char (*path)[H32], size_t n)
{
	/* A tree head of size 0 commits to nothing: no proof from it is accepted. */
	if (size1 == 0 || size2 < size1 || n > LEDGER_PROOF_MAX)
		return GH_EINVAL;
	if (size1 == size2)
		return n == 0 && sodium_memcmp(root1, root2, H32) == 0 ? 0 : GH_EINVAL;
	if (n == 0)
		return GH_EINVAL;
	/* When size1 is a power of two, root1 is the first node of the proof (left implicit). */
	const unsigned char *first;
	size_t start;
	if (is_pow2(size1)) {
		first = root1;
		start = 0;
	} else {
		first = path[0];
		start = 1;
	}
	uint64_t fn = size1 - 1, sn = size2 - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	unsigned char fr[H32], sr[H32];
	memcpy(fr, first, H32);
	memcpy(sr, first, H32);
	for (size_t i = start; i < n; i++) {
		if (sn == 0)
			return GH_EINVAL;
		if ((fn & 1) || fn == sn) {
			merkle_node_hash(path[i], fr, fr);
			merkle_node_hash(path[i], sr, sr);
			shift_even(&fn, &sn);
		} else {
			merkle_node_hash(sr, path[i], sr);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0 || sodium_memcmp(fr, root1, H32) != 0 || sodium_memcmp(sr, root2, H32) != 0)
		return GH_EINVAL;
	return 0;
}

static void root_rec(const unsigned char (*l)[H32], uint64_t n, unsigned char out[H32])
{
	if (n == 1) {
		memcpy(out, l[0], H32);
		return;
	}
	uint64_t k = split_point(n);
	unsigned char a[H32], b[H32];
	root_rec(l, k, a);
	root_rec(l + k, n - k, b);
	merkle_node_hash(a, b, out);
}

void merkle_root_of(const unsigned char (*leaves)[H32], uint64_t n, unsigned char out[H32])
{
	if (n == 0) {
		crypto_hash_sha256(out, (const unsigned char *)"", 0);
		return;
	}
	root_rec(leaves, n, out);
}

int merkle_frontier_push(struct merkle_frontier *f, const unsigned char h[H32], merkle_put_fn put, void *ctx)
{
	unsigned char cur[H32];
	memcpy(cur, h, H32);
	uint64_t s = f->size;
	unsigned level = 0;
	while ((s >> level) & 1) {
		if (f->n == 0)
			return GH_EINTERNAL;
		merkle_node_hash(f->h[--f->n], cur, cur);
		level++;
		if (put) {
			int rc = put(ctx, level, s >> level, cur);
			if (rc)
				return rc;
		}
	}
	if (f->n >= 64)
		return GH_EINTERNAL;
	memcpy(f->h[f->n++], cur, H32);
	f->size = s + 1;
	return 0;
}

void merkle_frontier_root(const struct merkle_frontier *f, unsigned char out[H32])
{
	if (f->n == 0) {
		crypto_hash_sha256(out, (const unsigned char *)"", 0);
		return;
	}
	unsigned char r[H32];
	memcpy(r, f->h[f->n - 1], H32);
	for (size_t i = f->n - 1; i-- > 0;)
		merkle_node_hash(f->h[i], r, r);
	memcpy(out, r, H32);
}

void ledger_b64(const unsigned char *in, size_t len, char *out, size_t outsize)
{
	if (outsize < sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL)) {
		if (outsize)
			out[0] = 0;
		return;
	}
	sodium_bin2base64(out, outsize, in, len, sodium_base64_VARIANT_ORIGINAL);
}

int ledger_unb64_hash(const char *s, unsigned char out[H32])
{
	if (!s || strlen(s) != 44)
		return -1;
	size_t len;
	const char *end;
	unsigned char buf[H32 + 2];
	if (sodium_base642bin(buf, sizeof(buf), s, 44, NULL, &len, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    len != H32 || *end)
		return -1;
	memcpy(out, buf, H32);
	return 0;
}

int merkle_verify_inclusion_bytes(uint64_t index, uint64_t size, const struct merkle_bytes *leaf,
				  const struct merkle_bytes *path, size_t n, const struct merkle_bytes *root)
{
	if (leaf->len != H32 || root->len != H32 || n > LEDGER_PROOF_MAX)
		return GH_EINVAL;
	unsigned char p[LEDGER_PROOF_MAX][H32];
	for (size_t i = 0; i < n; i++) {
		if (path[i].len != H32)
			return GH_EINVAL;
		memcpy(p[i], path[i].p, H32);
	}
	return ledger_verify_inclusion(index, size, leaf->p, (const unsigned char(*)[H32])p, n, root->p);
}

int merkle_verify_consistency_bytes(uint64_t size1, uint64_t size2, const struct merkle_bytes *root1,
				    const struct merkle_bytes *root2, const struct merkle_bytes *path, size_t n)
{
	if (size1 == 0 || size2 < size1 || n > LEDGER_PROOF_MAX)
		return GH_EINVAL;
	if (size1 == size2) /* nothing to hash: the heads must be the same bytes */
		return n == 0 && root1->len == root2->len && memcmp(root1->p, root2->p, root1->len) == 0 ? 0
													   : GH_EINVAL;
	if (root1->len != H32 || root2->len != H32)
		return GH_EINVAL;
	unsigned char p[LEDGER_PROOF_MAX][H32];
	for (size_t i = 0; i < n; i++) {
		if (path[i].len != H32)
			return GH_EINVAL;
		memcpy(p[i], path[i].p, H32);
	}
	return merkle_verify_consistency(size1, size2, root1->p, root2->p, (const unsigned char(*)[H32])p, n);
}
