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
	char issuer[512];    /* hub: its public address without a final '/'; hall: the hub's */
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
/* The keyed hash (hex) the hub keeps of a client secret, code or token. */
void fed_hash(const char *s, char out[65]);

/* rp.c */
int fed_rp_init(struct app *app, char *err, size_t errlen);
extern const struct route fed_rp_routes[];
extern const size_t fed_rp_routes_n;

#endif
