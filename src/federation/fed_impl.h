/* fed_impl.h: the federation module's private interface (oidc.c: the hub's provider; rp.c: a
 * hall's relying party; cli.c: the commands; fed.c: settings and routes). */
#ifndef GH_FED_IMPL_H
#define GH_FED_IMPL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app.h"
#include "federation/federation.h"
#include "http/http.h"

#define FED_CODE_TTL 60       /* seconds an authorization code may be redeemed */
#define FED_TOKEN_TTL 600     /* seconds an access token reaches userinfo */
#define FED_ID_TOKEN_TTL 300  /* seconds an ID token is valid */
#define FED_LOGIN_TTL 600     /* seconds a hall waits for the hub's answer to a log-in */
#define FED_SKEW 60           /* seconds of clock difference tolerated between hub and hall */
#define FED_STATE_MAX 128     /* longest state and nonce a client may send */

struct fed_settings {
	struct app *app;
	bool hub;            /* role = hub */
	bool rp;             /* a hall with fed-hub-url */
	bool member;         /* sends and takes messages: such a hall, or the hub (its own message key) */
	char issuer[512];    /* hub: its public address without a final '/'; hall: the hub's */
	char self_url[512];  /* its own public address without a final '/' (the hub: its issuer) */
};
extern struct fed_settings fed_cfg;

/* oidc.c */
int fed_hub_init(struct app *app, char *err, size_t errlen);
void fed_hub_release(void);
/* `federation key rotate`: a new signing key, the newest of oidc_keys, which hub nodes sign
 * with from their next start (the older keys stay published). Its key id into kid. */
struct db;
int fed_hub_key_rotate(struct db *db, char *kid, size_t kidlen);
extern const struct route fed_hub_routes[];
extern const size_t fed_hub_routes_n;
/* A JWT of claims signed with the hub's current key (the directory), in a. */
int fed_hub_sign(struct arena *a, const json_t *claims, char **out);
/* The keyed hash (hex) the hub keeps of a client secret, code or token. */
void fed_hash(const char *s, char out[65]);

/* rp.c */
int fed_rp_init(struct app *app, char *err, size_t errlen);
extern const struct route fed_rp_routes[];
extern const size_t fed_rp_routes_n;
/* The hub's published keys (fetched and kept META_TTL seconds; force fetches them now): 0, or
 * GH_EUNAVAILABLE when the hub cannot be read. Blocking: a job or a duty only. */
struct jwk;
int fed_rp_hub_keys(bool force, struct jwk *keys, size_t *n);

/* wallet.c: the hub's relay of a person's certificates at other halls */
extern const struct route fed_wallet_routes[];
extern const size_t fed_wallet_routes_n;

/* registry.c: the hub's registry of halls and its signed directory */
void fed_registry_register(void);
extern const struct route fed_registry_routes[];
extern const size_t fed_registry_routes_n;
int fed_registry_cli(struct db *db, int argc, char **argv);

/* member.c: a hall in the federation: its message key, its registration, the directory */
int fed_member_init(struct app *app, char *err, size_t errlen);
void fed_member_release(void);
int fed_member_start(struct app *app, char *err, size_t errlen);
void fed_member_stop(void);
extern const struct route fed_member_routes[];
extern const size_t fed_member_routes_n;
int fed_member_join(struct app *app, struct db *db, int argc, char **argv);
/* The hall of the directory in use whose message key is kid (its key into pk, its id into
 * hall when not NULL): 0, or GH_ENOTFOUND (no such key, or no valid directory). */
int fed_member_peer_key(const char *kid, unsigned char pk[32], char hall[65]);
/* The base URL of hall id in the directory in use: 0, or GH_ENOTFOUND. */
int fed_member_peer_url(const char *id, char *out, size_t n);
/* kinds.c: the registered kind of a received message, or NULL. */
const struct fed_kind *fed_kind_find(const char *kind);
/* This hall's message key, which its witness also cosigns with (witness.c): an Ed25519 signature
 * of msg into sig, its public key into pk; GH_EUNAVAILABLE without a key. */
int fed_member_cosign(const unsigned char *msg, size_t len, unsigned char sig[64]);
/* fed_seal_for and fed_open_sealed (federation.h), with the directory and this hall's key. */
int fed_member_seal_for(struct arena *a, const char *hall, const char *msg, size_t len, char **out);
int fed_member_open_sealed(struct arena *a, const char *text, size_t len, char **out, size_t *outlen);
int fed_member_own_key(unsigned char pk[32]);
int fed_member_own_kid(char *kid, size_t n);
/* registry.c: the claims of the hub's directory at now (the approved halls and the hub's own
 * entry), in a new reference; NULL when the registry cannot be read. The hub serves them signed
 * and uses them as its own directory (member.c). */
json_t *fed_registry_claims(struct db *db, struct arena *a, int64_t now);
/* A copy of the halls of the directory in use (free it): GH_ENOTFOUND when none. */
struct fed_dir_hall;
int fed_member_halls(struct fed_dir_hall **out, size_t *n);
/* The keys document of the hall whose log is origin, from the directory in use (new reference,
 * or NULL); registry.c: the same on the hub, from the approved registrations. */
json_t *fed_member_keys_doc(struct db *db, const char *origin);
json_t *fed_registry_keys_doc(struct db *db, const char *origin);
/* witness.c: each hall a C2SP tlog-witness of the others' logs, collecting their cosignatures
 * of its own checkpoints, and watching for split views */
void fed_witness_register(void);
int fed_witness_start(struct app *app, char *err, size_t errlen);
void fed_witness_stop(void);
extern const struct route fed_witness_routes[];
extern const size_t fed_witness_routes_n;
/* The registration's "log" member: this hall's log origin and keys (NULL when it has none). */
struct config;
json_t *fed_witness_log_json(struct db *db, const struct config *cfg);
/* msg.c: messages between halls (outbox, delivery duty, inbox) */
void fed_msg_register(void);
int fed_msg_init(const char *retry_spec, char *err, size_t errlen);
int fed_msg_start(struct app *app, char *err, size_t errlen);
void fed_msg_stop(void);
extern const struct route fed_msg_routes[];
extern const size_t fed_msg_routes_n;
int fed_msg_cli(struct app *app, struct db *db, int argc, char **argv);
/* Signs a message of this hall (httpsig.h): the header lines Content-Digest, Idempotency-Key,
 * Signature-Input and Signature (then NULL) into headers, in a. GH_EUNAVAILABLE without a key. */
int fed_member_sign(struct arena *a, const char *method, const char *url, const char *path, const char *body, size_t len,
		    const char *idem, int64_t now, const char *headers[5]);
/* The regions of the directory in use other than this hall's own, copied into a: their number,
 * the names in *out (0 without a valid directory). */
size_t fed_member_regions(struct arena *a, const char ***out);
/* claims signed with this hall's message key as a JWS (nat.h's signed documents), in a. */
int fed_member_sign_doc(struct arena *a, const json_t *claims, char **out);

#endif
