/* federation.h: 一体化 — one binary, two roles (configuration `role`): the national hub and the
 * halls of provinces and cities. This first part is one national identity (统一身份认证):
 *
 * - The hub (role = hub) is an OpenID Connect provider (oidc.c): discovery, a JWKS, the
 *   authorization code flow with PKCE (S256 only), ID tokens signed with EdDSA (Ed25519) that
 *   carry the real-name assurance level, userinfo by GET and POST, nonce, max_age,
 *   prompt=none|login, errors returned to the client by redirect (RFC 6749 §4.1.2.1), clients
 *   (the halls) registered with exact redirect URIs (`govhall federation client add`), codes
 *   single use and short-lived, and logout.
 * - A hall (role = hall, with fed-hub-url) is a relying party (rp.c): "log in with the national
 *   account" links to or creates the local account matched by the verified ID number, after
 *   checking issuer, audience, expiry, nonce, signature (the hub's JWKS, cached), state and PKCE.
 *
 * Invariants:
 * - Secrets at rest: the hub's signing keys are sealed under the key file (field "oidc_key");
 *   of client secrets, codes and access tokens only keyed hashes are stored. None is logged.
 * - Calls to the hub run on the job pool, never on an event loop; writes go through req_write.
 * - Every route of both roles is registered on every node and answers 404 where its role is off,
 *   so the HTTP surface is one table (docs/openapi.yaml).
 */
#ifndef GH_FEDERATION_H
#define GH_FEDERATION_H
#include <jansson.h>
#include <stdio.h>

#include "app.h"

struct router;
struct db;

/* Reads the role and the hall's hub settings (GH_EINVAL with a message in err when they are
 * inconsistent); on the hub, makes its first signing key when there is none and loads the
 * current one. */
int fed_init(struct app *app, char *err, size_t errlen);
void fed_release(void);
int fed_add_routes(struct router *rt);
/* Queues a message from hall self to hall dest about subject (one application: messages of a
 * subject are delivered and processed in order), of kind (a word), with body (a JSON object,
 * not stolen), in db's open transaction or one of its own: it is sent iff that transaction
 * commits. GH_EINVAL for a malformed argument, GH_ETOOBIG over 1 MiB. */
int fed_outbox_add(struct db *db, const char *self, const char *dest, const char *subject, const char *kind,
		   const json_t *body);
/* The tables the transparency log covers (store/cover.h). */
void fed_register(void);
/* A hall's duties "federation" (the hub's directory, refreshed) and "federation outbox" (the
 * messages to other halls, delivered); nothing on the hub. */
int fed_start(struct app *app, char *err, size_t errlen);
void fed_stop(void);

/* `govhall federation client add|list|key rotate|hall list|approve|refuse|join ...` (argv after
 * "federation"). */
int fed_cli(struct app *app, struct db *db, int argc, char **argv);
void fed_cli_usage(FILE *f);

#endif
