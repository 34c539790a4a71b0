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
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "app.h"

struct router;
struct db;

/* Reads the role and the hall's hub settings (GH_EINVAL with a message in err when they are
 * inconsistent); on the hub, makes its first signing key when there is none and loads the
 * current one. */
int fed_init(struct app *app, char *err, size_t errlen);
/* The federation's settings (role, public-url for a hub, fed-hub-url) checked alone, before
 * anything is loaded: GH_EINVAL with the setting to fix in err. fed_init checks them too. */
int fed_config_check(const struct config *c, char *err, size_t errlen);
void fed_release(void);
int fed_add_routes(struct router *rt);
/* Queues a message from hall self to hall dest about subject (one application: messages of a
 * subject are delivered and processed in order), of kind (a word), with body (a JSON object,
 * not stolen), in db's open transaction or one of its own: it is sent iff that transaction
 * commits. GH_EINVAL for a malformed argument, GH_ETOOBIG over 1 MiB. */
int fed_outbox_add(struct db *db, const char *self, const char *dest, const char *subject, const char *kind,
		   const json_t *body);
/* ---- What a received message does: the kinds a receiving hall knows ----------------------
 * A domain registers the kinds it acts on (as cases_observe does: the federation domain knows
 * no domain above it). POST /federation/inbox, once the message is checked (signature,
 * sender, shape), finds its kind here:
 * - unknown: 422 `unknown_kind`, nothing recorded; the sender's outbox keeps the message and
 *   tries again on its back-off, so a receiver upgraded to know the kind takes it then (and
 *   the later messages of its subject wait behind it, in order);
 * - prepare(r, m, &ctx, &why) on the loop (r->db reads only): 0 with ctx (r's arena), or
 *   GH_EVALIDATION with why (for the sender's operator, English) = 422 `invalid_message`,
 *   nothing recorded (the sender keeps it, as above), or another GH_E code (answered as such);
 * - write(w, m, ctx) inside the inbox's write, after the message is found new and next in its
 *   subject and before it is recorded: what it writes (and what it queues with
 *   fed_outbox_add) commits with the message's record in one transaction, or neither does.
 *   It runs once per message (a retry of the sender gets the recorded answer) but perhaps more
 *   than once per write (http/write.h): it overwrites its outputs.
 * The kind "note" is built in: its record is all it does (`govhall federation send`). */
struct req;
struct fed_message {
	const char *from, *subject, *kind;
	int64_t seq;
	json_t *body; /* the message's "body" object, owned by r's arena */
};
struct fed_kind {
	const char *kind;
	int (*prepare)(struct req *r, const struct fed_message *m, void **ctx, const char **why);
	int (*write)(struct req *w, const struct fed_message *m, void *ctx);
};
/* Registers k (kept, not copied); call at start, before serving. At most 16 kinds. */
void fed_kind_register(const struct fed_kind *k);
/* This hall's identifier in the federation (fed-client-id), "" when it has none. */
const char *fed_self(void);
/* Whether this node is the hub (role = hub): it files no applications of its own. */
bool fed_is_hub(void);
/* Whether hall id is another hall of the directory this hall holds (valid, not expired). */
bool fed_hall_known(const char *id);
/* The name hall id (this hall's own included) has in the directory held, in a; NULL when the
 * directory does not list it. */
struct arena;
const char *fed_hall_name(struct arena *a, const char *id);

/* ---- Signed reads between halls (peer.c) -------------------------------------------------
 * Blocking (a job or a duty, never a loop): GETs path at hall's address in the directory,
 * signed as this hall's messages are (RFC 9421: @method, @target-uri, content-digest of the
 * empty body, idempotency-key; 5 minutes), within fed-timeout. 0 with *status and *body (in a,
 * NUL-terminated, *len bytes); GH_ENOTFOUND when hall is not in the directory held,
 * GH_EUNAVAILABLE when it cannot be reached, GH_ETOOBIG over max bytes. */
struct arena;
int fed_peer_get(struct arena *a, const char *hall, const char *path, size_t max, long *status, const char **body,
		 size_t *len);
/* On the receiving side: r (of method) is signed by a hall of the directory this hall holds,
 * for this hall's address: 0 with its id in hall; GH_EUNAUTH with *why, GH_ENOTFOUND on a hall
 * not joined to a hub. */
int fed_request_sender(struct req *r, const char *method, char hall[65], const char **why);

/* ---- The directory held, for other domains -------------------------------------------------
 * The other halls of the directory this hall holds: their number, ids and names in *ids and
 * *names (in a); 0 without a valid directory. */
size_t fed_halls(struct arena *a, const char ***ids, const char ***names);
/* The other hall whose region text names (search_place's matching: as written or as toneless
 * pinyin, any case), its id in a; NULL when text names none, or names this hall's own region. */
const char *fed_hall_of_place(struct arena *a, const char *text);

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

/* ---- A person's certificates at other halls, through the hub (wallet.c) -------------------
 * The hub relays (POST /federation/wallet): a hall's request, a JWT signed with its message
 * key {iss: hall, aud: hub, sub, iat, exp}, for the national subject sub, who must have logged
 * in at that hall; the hub asks each other hall at which sub logged in with a JWT signed by the
 * hub's key {iss: hub, aud: hall, sub, for: the asking hall, iat, exp} (POST
 * /federation/wallet/holdings) and answers {"halls": [{"hall", "document"} | {"hall", "error"}]}
 * with each hall's signed answer as it came. Blocking calls: a job, never a loop. */
/* Asks the hub for the documents of subject's certificates at other halls: 0 with the hub's
 * *status and *body (in a); GH_ENOTFOUND on a hall not joined, GH_EUNAVAILABLE when the hub
 * cannot be reached. */
int fed_hub_wallet_ask(struct arena *a, const char *subject, long *status, const char **body, size_t *len);
/* Checks a request the hub signed for this hall (the hub's keys fetched when needed:
 * blocking): 0 with its claims (json_decref them); GH_EINVAL with *why, GH_EUNAVAILABLE when
 * the hub's keys cannot be had. */
int fed_hub_request_check(const char *tok, size_t len, json_t **claims, const char **why);
/* Checks a document (a JWT of at most max bytes) signed by hall with a key of the directory
 * this hall holds, issued by hall for this hall, not expired: 0 with its claims (json_decref
 * them), or GH_EINVAL with *why. Does not block. */
int fed_peer_doc_check(struct arena *a, const char *hall, const char *tok, size_t len, size_t max, json_t **claims,
		       const char **why);
/* Seals msg (len bytes) so that only hall can read it (an anonymous crypto_box_seal to the
 * X25519 form of its first message key in the directory): base64url in a. GH_ENOTFOUND for a
 * hall not in the directory. The other side: fed_open_sealed, with this hall's own key. */
int fed_seal_for(struct arena *a, const char *hall, const char *msg, size_t len, char **out);
int fed_open_sealed(struct arena *a, const char *text, size_t len, char **out, size_t *outlen);
/* A JWT of claims signed with this hall's message key (as its feeds are), in a. */
int fed_sign_doc(struct arena *a, const json_t *claims, char **out);
/* The national subject of a local account (its link to the hub, fed_links), and the local
 * account of a national subject: 0, or GH_ENOTFOUND when there is no such link. */
int fed_link_subject(struct db *db, struct arena *a, int64_t account, const char **subject);
int fed_link_account(struct db *db, struct arena *a, const char *subject, int64_t *account);

#endif
