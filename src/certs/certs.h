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
#include <stddef.h>

#include "app.h"

struct router;
struct db;
struct config;

/* Registers the cases observers (issuance on approval, sharing on submission), the wallet as
 * the source of e-certificate materials, the verify handler for "govhall.certificate/v1"
 * documents, the audit sources and the published keys. Call once at the start of every
 * command (not thread-safe). */
void certs_register(void);
/* Declares the tables this module covers with the transparency log (store/cover.h), alone
 * (certs_register does it too): for tools and tests without the observers. */
void certs_cover_declare(void);
/* Gives the module what issuance needs at run time (the key ring for department keys, the
 * public URL for verification links). Call after identity_init. */
void certs_init(struct app *app);
int certs_add_routes(struct router *rt);

/* `govhall cert key generate|rotate|list [--department CODE]` (args after "cert"). Returns
 * the process exit status. */
int certs_cli(struct app *app, struct db *db, int nargs, char **args);

/* `govhall verify FILE.pdf [--keys KEYS.json]`: extracts the certificate embedded in a PDF
 * rendition and verifies it offline like its JSON form. 1 when FILE is not a PDF (the caller
 * then hands it to the log's verify), otherwise 0 (printed "valid") or 2 (invalid, reasons
 * printed). *status gets the exit status. */
int certs_verify_pdf_cli(const struct config *cfg, int nargs, char **args, int *status);

#endif
