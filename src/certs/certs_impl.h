/* certs_impl.h: what the files of src/certs share.
 *
 * The document. A certificate's signed content is a JSON object (struct cert_doc.cert) in
 * canonical form (keys sorted, compact, UTF-8 unescaped; ledger_canonical). Its hash is the
 * hex SHA-256 of that text; its signature is Ed25519 over the same text. The downloadable
 * document wraps both:
 *   {"type": "govhall.certificate/v1", "certificate": {...}, "hash": "<hex>",
 *    "signature": {"algorithm": "Ed25519", "key_id": "...", "value": "<base64>"},
 *    "log": {"leaf_index", "leaf", "tree_size", "root", "inclusion_proof": [b64...],
 *            "checkpoint"}}                       ("log" optional until the leaf is proved)
 * The PDF rendition carries the same document, base64url, in its Keywords metadata after
 * CERT_PDF_MARK.
 */
#ifndef GH_CERTS_IMPL_H
#define GH_CERTS_IMPL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "base/arena.h"
#include "http/http.h"
#include "certs/certs.h"
#include "ledger/ledger.h"

#define CERT_DOC_TYPE "govhall.certificate/v1"
#define CERT_PDF_MARK "govhall-certificate:"
#define CERT_DOC_MAX (256 * 1024)     /* bytes of an uploaded document (JSON or PDF) */
#define CERT_NUMBER_MAX 40
#define CERT_PROOF_MAX 64             /* hashes in an inclusion proof */

/* A parsed (not yet verified) certificate document. Strings live in the arena. */
struct view;

struct cert_doc {
	json_t *root;               /* the whole document (owned by the arena) */
	json_t *cert;               /* its "certificate" object (borrowed from root) */
	const char *canonical;      /* canonical text of cert */
	char hash[65];              /* hex SHA-256 of canonical */
	const char *number, *cert_type, *department;
	int64_t issued_at;
	const char *key_id;
	unsigned char sig[64];
	bool has_log;
	int64_t leaf_index, tree_size;
	const char *leaf, *checkpoint;
	unsigned char root_hash[LEDGER_HASH_LEN];
	size_t nproof;
	unsigned char (*proof)[LEDGER_HASH_LEN];
	/* The first problem of a document that is a certificate in form but cannot be genuine:
	 * a stated hash that does not match the content, a signature or a log proof that is not
	 * well-formed (a message key), or NULL. A verdict ("unknown"), not a parse failure. */
	const char *problem;
};

/* ---- cert_doc.c: the document, pure functions (fuzzed) --------------------------------- */

/* Why a document is refused: a message key (certs_doc_*, certs_key_*, certs_log_*) and the
 * value of its {detail} ("" when it has none). */
struct cert_why {
	const char *key;
	char detail[256];
};
/* The sentence of why in lang from the catalogs v, in a. */
const char *cert_why_text(struct arena *a, const struct view *v, const char *lang, const struct cert_why *why);

/* Parses a certificate document from buf (JSON, or a PDF rendition carrying one). Checks the
 * shape only (types, sizes, encodings; the hash recomputed), not signatures or proofs.
 * GH_EINVAL with the reason in *why when buf is
 * not a certificate document at all (too large, not JSON, another type, no content, no number,
 * type, issuer or date); a document that is one in form but whose stated hash, signature or
 * log proof cannot be right parses, with out->problem set. */
int cert_doc_parse(struct arena *a, const char *buf, size_t len, struct cert_doc *out, struct cert_why *why);
/* The JSON document embedded in a PDF rendition: 0 with *json (arena, NUL-terminated) or
 * GH_EINVAL when buf is a PDF without one, GH_ENOTFOUND when buf is not a PDF at all. */
int cert_pdf_extract(struct arena *a, const char *buf, size_t len, char **json, size_t *jlen);
/* hex SHA-256 of s into out. */
void cert_sha256_hex(const char *s, size_t len, char out[65]);
/* Ed25519 check of d's signature with the 32-byte public key pk: 0 or GH_EINVAL. */
int cert_doc_check_signature(const struct cert_doc *d, const unsigned char pk[32]);
/* Checks d's log section offline: its leaf names d (kind "certificate", number, hash), the
 * inclusion proof leads to its checkpoint's root, and the checkpoint is signed by a log key of
 * keys. 0, or GH_EINVAL with the reason in *why. */
int cert_doc_check_log(struct arena *a, const struct cert_doc *d, const json_t *keys, struct cert_why *why);
/* Finds d's key in a keys document ("departments": [{key_id, department, public_key,
 * valid_from, valid_until}]) and checks that the key is the issuing department's and was
 * valid when d was issued. 0 with pk filled, or GH_EINVAL with the reason in *why. */
int cert_keys_find(const json_t *keys, const struct cert_doc *d, unsigned char pk[32], struct cert_why *why);
/* Offline verification of a whole document: signature, log, published keys. Prints each step
 * to out, the reasons in English from the catalogs words (NULL: their keys); 0 valid, 1 not.
 * (The ledger's verify handler for CERT_DOC_TYPE.) */
int cert_verify_offline(struct arena *a, const json_t *doc, const json_t *keys, const struct view *words, FILE *out);

/* Base64 (standard, padded) of n bytes, in a. */
char *cert_b64(struct arena *a, const unsigned char *p, size_t n);
/* Decodes standard base64 into out (exactly n bytes expected): 0 or GH_EINVAL. */
int cert_unb64(const char *s, unsigned char *out, size_t n);

/* ---- cert_keys.c: departments' signing keys -------------------------------------------- */

struct keyring;
struct cert_key {
	const char *key_id, *department, *public_key; /* public_key base64 */
	int64_t valid_from, valid_until;              /* valid_until 0: current */
	int64_t created_at;
};
/* The department's current key (creating one when it has none); the secret key unsealed into
 * sk (64 bytes). */
int cert_key_current(struct db *db, const struct keyring *k, struct arena *a, const char *department,
		     struct cert_key *out, unsigned char sk[64]);
/* A new key for the department; the current one (if any) ends now (rotation). */
int cert_key_new(struct db *db, const struct keyring *k, struct arena *a, const char *department,
		 struct cert_key *out);
/* Keys of a department (NULL: all), oldest first. */
int cert_keys_list(struct db *db, struct arena *a, const char *department, struct cert_key **out, size_t *n);
/* A key by id (GH_ENOTFOUND), public part only. */
int cert_key_get(struct db *db, struct arena *a, const char *key_id, struct cert_key *out);
/* Adds "departments": [...] to the published keys document. */
int cert_keys_wellknown(struct db *db, struct arena *a, json_t *keys);

/* ---- cert_store.c: certificates, issuance, sharing, revocation ------------------------- */

struct cert {
	int64_t id, holder_id, application_id, issued_at, revoked_at, revoked_by;
	int64_t leaf_index, revoke_leaf_index; /* -1: none */
	const char *number, *cert_type, *department, *key_id, *document, *signature, *hash, *salt;
	const char *status, *revoke_reason;
	const char *application_number;
};
int cert_get(struct db *db, struct arena *a, const char *number, struct cert *out);
/* The numbers of the certificates application_id produced (in a). */
int cert_numbers_of_application(struct db *db, struct arena *a, int64_t application_id, const char ***out, size_t *n);
/* Certificates held by holder (an account), newest first. */
int cert_list_held(struct db *db, struct arena *a, int64_t holder, struct cert **out, size_t *n);
/* Whether department may see certificate id (issued by it, or shared with it). */
bool cert_shared_with(struct db *db, struct arena *a, const struct cert *c, const char *department);
/* Shares of a certificate (for its holder's page): application numbers and departments. */
struct cert_share {
	int64_t id, application_id, shared_at, leaf_index;
	const char *application_number, *department;
	int slot;
};
int cert_shares_of(struct db *db, struct arena *a, int64_t cert_id, struct cert_share **out, size_t *n);
/* Revokes c (valid) with reason, by actor, in one transaction with its log leaf. */
int cert_revoke(struct db *db, struct arena *a, struct cert *c, int64_t actor, const char *reason);
/* The canonical leaf texts, for appending and for audit. */
char *cert_leaf(struct arena *a, const struct cert *c);
/* The whole downloadable document of c, with the log section when the leaf can be proved
 * (ledger_prove; outside transactions). New reference. */
json_t *cert_document(struct db *db, struct arena *a, const struct cert *c);
/* Installs the observers and hooks (certs_register). */
void cert_store_register(void);
void cert_store_init(const struct keyring *k, const char *public_url);
/* Loads the names of the certificate types (DATA_DIR/catalog/ecert_types.json). */
void certs_load_types(const char *data_dir);
const char *cert_public_url(void);

/* Online verification against the database: status "valid", "revoked" or "unknown", with the
 * checks made (signature, log inclusion) as JSON for pages and the API. number+hash or a
 * parsed document. New reference. */
json_t *cert_verify_online(struct req *r, const char *number, const char *hash, const struct cert_doc *d);

/* ---- cert_pdf.c ------------------------------------------------------------------------ */

/* Renders the PDF of document doc (the full document; its JSON text embedded) into *pdf
 * (malloc'd, caller frees). Thread-safe; slow (for the job pool). 0 or GH_EINTERNAL. */
int cert_pdf_render(const char *doc_json, const struct view *v, unsigned char **pdf, size_t *len);

/* ---- cert_web.c ------------------------------------------------------------------------ */
extern const struct route cert_routes[];
/* The application page's link to the certificates it produced (CASES_PAGE_DETAIL, cases.h):
 * "certificates" [{number, type_name, href}]. */
struct case_page_ref;
int cert_page_annotate(struct req *r, const void *subject, json_t *ctx);
extern const size_t cert_routes_n;

#endif
