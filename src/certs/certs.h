/* certs.h: e-certificates (电子证照) and the citizen's wallet (卡包) — the public interface for
 * main.c and other domains.
 *
 * Invariants:
 * - A certificate is issued once per approved application whose item names an outcome
 *   certificate, inside the approval's own transaction (a cases observer): its canonical
 *   document is signed with the issuing department's current Ed25519 key and appended to the
 *   transparency log (src/ledger) in the same transaction, so an approval without its
 *   certificate, or a certificate without its leaf, never commits.
 * - Departments' secret keys are stored sealed under the hall's key file; public keys, with
 *   their validity periods, are published in /.well-known/govhall-keys.json ("departments").
 * - A certificate is shown to its holder, to staff of its issuing department, and to staff of
 *   a department it was shared with (an application that used it as a material); each sharing
 *   is a row and a log leaf. Anyone may verify a certificate they hold a copy of.
 */
#ifndef GH_CERTS_H
#define GH_CERTS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "app.h"
#include "base/arena.h"

struct router;
struct db;
struct config;
struct req;

/* Registers the cases observers (issuance on approval, sharing on submission), the wallet as
 * the source of e-certificate materials, the verify handler for "govhall.certificate/v1"
 * documents, the audit sources and the published keys. Call once at the start of every
 * command (not thread-safe). */
void certs_register(void);
/* Declares the tables this module covers with the transparency log (store/cover.h), alone
 * (certs_register does it too): for tools and tests without the observers. */
void certs_cover_declare(void);
/* Declares the personal parts of certs (store/personal.h): e-certificates (kept). Call at start. */
void certs_personal_declare(void);
/* Gives the module what issuance needs at run time (the key ring for department keys, the
 * public URL for verification links). Call after identity_init. */
void certs_init(struct app *app);
/* Registers the wallet as a source of facts for decision rules (certs_register calls it). */
void certs_register_facts(void);
int certs_add_routes(struct router *rt);

/* `govhall cert key generate|rotate|list [--department CODE]` (args after "cert"). Returns
 * the process exit status. */
int certs_cli(struct app *app, struct db *db, int nargs, char **args);

/* `govhall verify FILE.pdf [--keys KEYS.json]`: extracts the certificate embedded in a PDF
 * rendition and verifies it offline like its JSON form. 1 when FILE is not a PDF (the caller
 * then hands it to the log's verify), otherwise 0 (printed "valid") or 2 (invalid, reasons
 * printed). *status gets the exit status. */
int certs_verify_pdf_cli(const struct config *cfg, int nargs, char **args, int *status);

/* ---- certificates across halls (cert_fed.c; src/fedwallet) ------------------------------- */

/* The certificates held by holder as documents as issued (with their log proofs), newest
 * first: *out a new array of {status, document}. */
int certs_held_documents(struct db *db, struct arena *a, int64_t holder, json_t **out);
/* What this hall says of its certificate number whose content hashes to hash (hex): *status
 * "valid", "revoked" or "unknown" (no such certificate, or another content), *held whether
 * holder holds it. */
int certs_status_for(struct db *db, struct arena *a, const char *number, const char *hash, int64_t holder,
		     const char **status, bool *held);
/* The verdict of POST /api/v1/verify on a copy doc (a whole document): a new object with
 * status "valid" (this hall's own, or another hall's checked against the directory's keys:
 * whether that hall revoked it is its to tell), "revoked" or "unknown", and the certificate
 * ("certificate", "hash", "number", "issuer_log" for another hall's). */
json_t *certs_verify_copy(struct req *r, const json_t *doc);

/* ---- documents other domains sign like certificates (payment receipts) ------------------ */

/* Signs text (a canonical JSON document) with department's current certificate key, making the
 * department's first key when it has none (inside the caller's transaction, if any): *key_id
 * and *sig (standard base64 of the Ed25519 signature) in a. GH_ENOTFOUND for an unknown
 * department, GH_EUNAVAILABLE without the key file. */
int certs_sign(struct db *db, struct arena *a, const char *department, const char *text, const char **key_id,
	       const char **sig);
/* Checks sig over text under key key_id as this hall publishes it: the key must belong to
 * department and be valid at `at`. 0, or GH_EINVAL. */
int certs_check(struct db *db, struct arena *a, const char *department, const char *key_id, int64_t at, const char *text,
		const char *sig);
/* The same offline, against a keys document (/.well-known/govhall-keys.json, "departments"),
 * for govhall verify. GH_EINVAL with the reason in err: in English from the catalogs words
 * (allocated in a), or without them its message key. */
struct view;
int certs_check_offline(const json_t *keys, const char *department, const char *key_id, int64_t at, const char *text,
			const char *sig, struct arena *a, const struct view *words, char *err, size_t errlen);

/* A printable A4 sheet like a certificate's: a title, a line under it, rows of label and value,
 * a QR code with the line beside it, two closing lines, and a document embedded in the PDF's
 * metadata after mark (base64url) so the PDF alone verifies. Slow: for the job pool. */
struct certs_sheet {
	const char *title_zh, *title_en, *subtitle; /* subtitle: e.g. "No. XXX" */
	const char *subject;                        /* PDF metadata */
	const struct certs_sheet_row {
		const char *label, *value;
	} *rows;
	size_t nrows;
	const char *qr, *qr_caption;                /* the QR code's text, and what it says in words */
	const char *note_zh, *note_en;              /* small print at the foot */
	const char *mark, *document;                /* the embedded document (JSON text) */
};
/* Renders s into *pdf (malloc'd, caller frees). Thread-safe. 0 or GH_EINTERNAL. */
int certs_sheet_pdf(const struct certs_sheet *s, unsigned char **pdf, size_t *len);
/* Answers r with a PDF of the document doc (JSON, released here) drawn on the job pool:
 * render(doc_json, v, &pdf, &len) runs there with r's catalogs, and the answer is a private,
 * unstored download named filename. REQ_DEFERRED, or a GH_E code (nothing answered). */
typedef int (*certs_render_fn)(const char *doc_json, const struct view *v, unsigned char **pdf, size_t *len);
int certs_pdf_download(struct req *r, json_t *doc, certs_render_fn render, const char *filename);
/* A certs_render_fn for long documents on as many A4 pages as they take (a person's copy of
 * their data): doc is {title, subtitle, sections: [{title, note, records: [[{label, value}]]}]},
 * words already in the reader's language; each record is drawn as label/value lines. */
int certs_book_render(const char *doc_json, const struct view *v, unsigned char **pdf, size_t *len);
/* The same as JSON (indented), at once. */
int certs_json_download(struct req *r, json_t *doc, const char *filename);
/* The JSON document a sheet embeds after mark: 0 with *json (in a, NUL-terminated),
 * GH_ENOTFOUND when buf is not a PDF, GH_EINVAL when it is one without such a document. */
int certs_pdf_embedded(struct arena *a, const char *buf, size_t len, const char *mark, char **json, size_t *jlen);

/* The public /verify page and POST /api/v1/verify read other domains' documents too: a JSON
 * upload whose "type" is type, or a PDF embedding one after pdf_mark, goes to fn, which returns
 * 0 with *out, a new verdict object {kind, status: "valid" | "unknown" | "revoked", reason
 * (not valid), number, title, fields: [{label, value}], checks: [{ok, label}], hash}, or
 * GH_EVALIDATION with r's detail set for a document that is not one at all. At most 4; call at
 * start. */
typedef int (*certs_verdict_fn)(struct req *r, const json_t *doc, json_t **out);
void certs_verify_type(const char *type, const char *pdf_mark, certs_verdict_fn fn);

#endif
