/* cert_doc.c: the certificate document — parsing (JSON or a PDF rendition), hashing,
 * signature and log checks, offline verification. No database, no I/O but the FILE given to
 * cert_verify_offline: this is what `govhall verify` and the fuzz target run. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/util.h"
#include "base/jsonout.h"
#include "certs/certs_impl.h"
#include "http/msg.h"
#include "identity/crypto.h"

/* Refuses with the message key k (and the value of its {detail}). */
#define FAIL(k)                             \
	do {                                \
		why->key = (k);             \
		why->detail[0] = 0;         \
		return GH_EINVAL;           \
	} while (0)
#define FAIL_DETAIL(k, d)                                                  \
	do {                                                               \
		why->key = (k);                                            \
		snprintf(why->detail, sizeof(why->detail), "%s", (d));    \
		return GH_EINVAL;                                          \
	} while (0)

const char *cert_why_text(struct arena *a, const struct view *v, const char *lang, const struct cert_why *why)
{
	return VF(v, lang, a, why->key, MA("detail", why->detail));
}

void cert_sha256_hex(const char *s, size_t len, char out[65])
{
	crypto_sha256_hex(s, len, out);
}

char *cert_b64(struct arena *a, const unsigned char *p, size_t n)
{
	size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
	char *s = arena_alloc(a, cap);
	sodium_bin2base64(s, cap, p, n, sodium_base64_VARIANT_ORIGINAL);
	return s;
}

int cert_unb64(const char *s, unsigned char *out, size_t n)
{
	size_t got = 0;
	const char *end = NULL;
	if (!s || sodium_base642bin(out, n, s, strlen(s), NULL, &got, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    got != n || (end && *end))
		return GH_EINVAL;
	return 0;
}

static void *memfind(const void *hay, size_t hlen, const char *needle)
{
	size_t nlen = strlen(needle);
	if (nlen == 0 || hlen < nlen)
		return NULL;
	return memmem(hay, hlen, needle, nlen);
}

int cert_pdf_extract(struct arena *a, const char *buf, size_t len, char **json, size_t *jlen)
{
	return certs_pdf_embedded(a, buf, len, CERT_PDF_MARK, json, jlen);
}

int certs_pdf_embedded(struct arena *a, const char *buf, size_t len, const char *mark, char **json, size_t *jlen)
{
	if (!mark || !*mark)
		return GH_EINVAL;
	if (len < 5 || memcmp(buf, "%PDF-", 5) != 0)
		return GH_ENOTFOUND;
	const char *p = memfind(buf, len, mark);
	if (!p)
		return GH_EINVAL;
	p += strlen(mark);
	const char *end = buf + len, *q = p;
	while (q < end && ((*q >= 'A' && *q <= 'Z') || (*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') ||
			   *q == '-' || *q == '_'))
		q++;
	size_t n = (size_t)(q - p);
	if (n == 0 || n > CERT_DOC_MAX)
		return GH_EINVAL;
	unsigned char *out = arena_alloc(a, n + 1);
	size_t got = 0;
	if (sodium_base642bin(out, n, p, n, NULL, &got, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
		return GH_EINVAL;
	out[got] = 0;
	*json = (char *)out;
	*jlen = got;
	return 0;
}

static const char *str_member(json_t *o, const char *k, size_t max)
{
	json_t *v = json_object_get(o, k);
	if (!json_is_string(v))
		return NULL;
	size_t n = json_string_length(v);
	if (n == 0 || n > max || strlen(json_string_value(v)) != n)
		return NULL;
	return json_string_value(v);
}

static bool number_ok(const char *s)
{
	if (!s || !*s || strlen(s) > CERT_NUMBER_MAX)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z') || *p == '-'))
			return false;
	return true;
}

int cert_doc_parse(struct arena *a, const char *buf, size_t len, struct cert_doc *out, struct cert_why *why)
{
	memset(out, 0, sizeof(*out));
	if (len > CERT_DOC_MAX * 8)
		FAIL(N_("certs_doc_too_large"));
	char *text = NULL;
	size_t tlen = 0;
	int rc = cert_pdf_extract(a, buf, len, &text, &tlen);
	if (rc == GH_EINVAL)
		FAIL(N_("certs_doc_pdf_empty"));
	if (rc) {
		text = (char *)buf;
		tlen = len;
	}
	if (tlen > CERT_DOC_MAX)
		FAIL(N_("certs_doc_too_large"));
	json_error_t je;
	json_t *root = json_loadb(text, tlen, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		FAIL(N_("certs_doc_unreadable"));
	arena_cleanup(a, (void (*)(void *))json_decref, root);
	out->root = root;
	const char *type = str_member(root, "type", 64);
	if (!json_is_object(root) || !type || strcmp(type, CERT_DOC_TYPE) != 0)
		FAIL(N_("certs_doc_wrong_type"));
	json_t *cert = json_object_get(root, "certificate");
	if (!json_is_object(cert))
		FAIL(N_("certs_doc_no_content"));
	out->cert = cert;
	out->number = str_member(cert, "number", CERT_NUMBER_MAX);
	out->cert_type = str_member(cert, "cert_type", 64);
	json_t *issuer = json_object_get(cert, "issuer");
	out->department = json_is_object(issuer) ? str_member(issuer, "code", 32) : NULL;
	json_t *at = json_object_get(cert, "issued_at");
	if (!number_ok(out->number) || !out->cert_type || !out->department || !json_is_integer(at) ||
	    json_integer_value(at) <= 0)
		FAIL(N_("certs_doc_incomplete"));
	out->issued_at = json_integer_value(at);
	char *canon = jsonout_dumps(cert, JSON_COMPACT | JSON_SORT_KEYS);
	if (!canon)
		FAIL(N_("certs_doc_bad_values"));
	arena_cleanup(a, free, canon);
	out->canonical = canon;
	cert_sha256_hex(canon, strlen(canon), out->hash);
	/* From here on the document is a certificate in form: what is wrong is a verdict. */
#define PROBLEM(msg)                         \
	do {                                 \
		if (!out->problem)           \
			out->problem = (msg); \
	} while (0)
	const char *hash = str_member(root, "hash", 64);
	if (hash && strcmp(hash, out->hash) != 0)
		PROBLEM(N_("certs_doc_hash_mismatch"));
	json_t *sig = json_object_get(root, "signature");
	const char *alg = json_is_object(sig) ? str_member(sig, "algorithm", 16) : NULL;
	out->key_id = json_is_object(sig) ? str_member(sig, "key_id", 64) : NULL;
	const char *value = json_is_object(sig) ? str_member(sig, "value", 128) : NULL;
	if (!alg || strcmp(alg, "Ed25519") != 0 || !out->key_id || cert_unb64(value, out->sig, sizeof(out->sig))) {
		PROBLEM(N_("certs_doc_no_signature"));
		out->key_id = out->key_id ? out->key_id : "";
	}
	json_t *log = json_object_get(root, "log");
	if (log && !json_is_null(log)) {
		json_t *li = json_object_get(log, "leaf_index"), *ts = json_object_get(log, "tree_size");
		json_t *proof = json_object_get(log, "inclusion_proof");
		const char *leaf = str_member(log, "leaf", LEDGER_LEAF_MAX), *cp = str_member(log, "checkpoint", 8192);
		bool ok = json_is_integer(li) && json_is_integer(ts) && json_integer_value(li) >= 0 &&
			  json_integer_value(ts) > json_integer_value(li) && json_is_array(proof) &&
			  json_array_size(proof) <= CERT_PROOF_MAX && leaf && cp;
		size_t np = ok ? json_array_size(proof) : 0;
		unsigned char(*path)[LEDGER_HASH_LEN] = arena_array(a, np ? np : 1, LEDGER_HASH_LEN);
		for (size_t i = 0; ok && i < np; i++)
			ok = cert_unb64(json_string_value(json_array_get(proof, i)), path[i], LEDGER_HASH_LEN) == 0;
		if (!ok) {
			PROBLEM(N_("certs_doc_proof_malformed"));
		} else {
			out->leaf = leaf;
			out->checkpoint = cp;
			out->leaf_index = json_integer_value(li);
			out->tree_size = json_integer_value(ts);
			out->nproof = np;
			out->proof = path;
			out->has_log = true;
		}
	}
#undef PROBLEM
	return 0;
}

int cert_doc_check_signature(const struct cert_doc *d, const unsigned char pk[32])
{
	return crypto_sign_verify_detached(d->sig, (const unsigned char *)d->canonical, strlen(d->canonical), pk) == 0
		       ? 0
		       : GH_EINVAL;
}

/* A department's published key (keys document's "departments"), valid at `at`. */
static int key_find(const json_t *keys, const char *department, const char *key_id, int64_t at, unsigned char pk[32],
		    struct cert_why *why)
{
	json_t *list = json_object_get(keys, "departments");
	size_t i;
	json_t *k;
	json_array_foreach(list, i, k)
	{
		const char *id = str_member(k, "key_id", 64);
		if (!id || strcmp(id, key_id) != 0)
			continue;
		const char *dept = str_member(k, "department", 32);
		if (!dept || strcmp(dept, department) != 0)
			FAIL(N_("certs_key_other_department"));
		json_t *from = json_object_get(k, "valid_from"), *until = json_object_get(k, "valid_until");
		if (!json_is_integer(from) || at < json_integer_value(from) ||
		    (json_is_integer(until) && at > json_integer_value(until)))
			FAIL(N_("certs_key_not_valid_then"));
		if (cert_unb64(str_member(k, "public_key", 64), pk, 32))
			FAIL(N_("certs_key_malformed"));
		return 0;
	}
	FAIL_DETAIL(N_("certs_key_unpublished"), key_id);
}

int cert_keys_find(const json_t *keys, const struct cert_doc *d, unsigned char pk[32], struct cert_why *why)
{
	return key_find(keys, d->department, d->key_id, d->issued_at, pk, why);
}

/* For govhall verify (an operator's command): the reason in English from the catalogs words,
 * or (words NULL) its message key and detail. */
static int offline_refusal(struct arena *a, const struct view *words, const struct cert_why *why, char *err,
			   size_t errlen)
{
	if (words)
		snprintf(err, errlen, "%s", cert_why_text(a, words, "en", why));
	else
		snprintf(err, errlen, "%s%s%s", why->key, why->detail[0] ? " " : "", why->detail);
	return GH_EINVAL;
}

int certs_check_offline(const json_t *keys, const char *department, const char *key_id, int64_t at, const char *text,
			const char *sig, struct arena *a, const struct view *words, char *err, size_t errlen)
{
	unsigned char pk[32], s[64];
	struct cert_why why = { 0 };
	if (!department || !key_id || !text || !sig)
		why.key = N_("certs_offline_no_signature");
	else if (!key_find(keys, department, key_id, at, pk, &why) &&
		 (cert_unb64(sig, s, 64) || crypto_sign_verify_detached(s, (const unsigned char *)text, strlen(text), pk)))
		why.key = N_("certs_offline_bad_signature");
	return why.key ? offline_refusal(a, words, &why, err, errlen) : 0;
}

int cert_doc_check_log(struct arena *a, const struct cert_doc *d, const json_t *keys, struct cert_why *why)
{
	if (!d->has_log)
		FAIL(N_("certs_log_none"));
	json_t *leaf = json_loads(d->leaf, JSON_REJECT_DUPLICATES, NULL);
	if (!leaf)
		FAIL(N_("certs_log_leaf_unreadable"));
	const char *kind = json_string_value(json_object_get(leaf, "kind"));
	const char *no = json_string_value(json_object_get(leaf, "number"));
	const char *h = json_string_value(json_object_get(leaf, "hash"));
	bool match = kind && no && h && strcmp(kind, "certificate") == 0 && strcmp(no, d->number) == 0 &&
		     strcmp(h, d->hash) == 0;
	json_decref(leaf);
	if (!match)
		FAIL(N_("certs_log_leaf_mismatch"));
	const char *origin = NULL;
	int64_t size = 0;
	unsigned char root[LEDGER_HASH_LEN];
	char reason[256];
	if (ledger_checkpoint_verify(a, d->checkpoint, keys, &origin, &size, root, reason, sizeof(reason)))
		FAIL_DETAIL(N_("certs_log_tree_head_invalid"), reason);
	if (size != d->tree_size)
		FAIL(N_("certs_log_size_mismatch"));
	unsigned char lh[LEDGER_HASH_LEN];
	ledger_leaf_hash(d->leaf, strlen(d->leaf), lh);
	if (ledger_verify_inclusion((uint64_t)d->leaf_index, (uint64_t)d->tree_size, lh,
				    (const unsigned char(*)[LEDGER_HASH_LEN])d->proof, d->nproof, root))
		FAIL(N_("certs_log_inclusion_fails"));
	return 0;
}

int cert_verify_offline(struct arena *a, const json_t *doc, const json_t *keys, const struct view *words, FILE *out)
{
	char *text = jsonout_dumps(doc, JSON_COMPACT);
	if (!text) {
		fprintf(out, "certificate: cannot be read\n");
		return 1;
	}
	arena_cleanup(a, free, text);
	struct cert_doc d;
	struct cert_why why;
	if (cert_doc_parse(a, text, strlen(text), &d, &why)) {
		fprintf(out, "certificate: INVALID: %s\n", cert_why_text(a, words, "en", &why));
		return 1;
	}
	if (d.problem) {
		fprintf(out, "certificate: INVALID: %s\n", view_msg(words, "en", d.problem));
		return 1;
	}
	fprintf(out, "certificate %s (%s), issued by %s at %lld\n", d.number, d.cert_type, d.department,
		(long long)d.issued_at);
	fprintf(out, "hash: %s\n", d.hash);
	if (!keys) {
		fprintf(out, "INVALID: the published keys are needed (--keys govhall-keys.json)\n");
		return 1;
	}
	unsigned char pk[32];
	if (cert_keys_find(keys, &d, pk, &why)) {
		fprintf(out, "signature: INVALID: %s\n", cert_why_text(a, words, "en", &why));
		return 1;
	}
	if (cert_doc_check_signature(&d, pk)) {
		fprintf(out, "signature: INVALID: the signature does not match the content\n");
		return 1;
	}
	fprintf(out, "signature: ok (Ed25519, key %s of %s)\n", d.key_id, d.department);
	if (cert_doc_check_log(a, &d, keys, &why)) {
		fprintf(out, "log: INVALID: %s\n", cert_why_text(a, words, "en", &why));
		return 1;
	}
	fprintf(out, "log: ok (leaf %lld in a tree of %lld, tree head signed by the log key)\n", (long long)d.leaf_index,
		(long long)d.tree_size);
	fprintf(out, "valid (revocation is checked online: the hall's verification page)\n");
	return 0;
}
