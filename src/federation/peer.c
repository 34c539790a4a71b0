/* peer.c: signed reads between halls (federation.h: fed_peer_get, fed_request_sender): a hall
 * asks another for something it publishes to halls only (an item's guide), signing the GET as
 * it signs messages; the other checks the signature against the directory it holds. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "federation/fed_impl.h"
#include "federation/httpsig.h"
#include "http/client.h"
#include "http/server.h"
#include "identity/crypto.h"

int fed_peer_get(struct arena *a, const char *hall, const char *path, size_t max, long *status, const char **body,
		 size_t *len)
{
	char base[500];
	if (!fed_cfg.member || !fed_cfg.app || fed_member_peer_url(hall, base, sizeof(base)))
		return GH_ENOTFOUND;
	const char *url = arena_printf(a, "%s%s", base, path);
	const char *rpath = strstr(strstr(url, "://") + 3, path);
	char idem[CRYPTO_TOKEN_LEN + 1];
	crypto_new_token(idem);
	const char *sig[5];
	if (!rpath || fed_member_sign(a, "GET", url, rpath, "", 0, idem, time(NULL), sig))
		return GH_EUNAVAILABLE;
	struct http_client_resp resp;
	char err[256];
	if (http_client("GET", url, sig, NULL, 0, fed_cfg.app->cfg.fed_timeout, max + 1, NULL, &resp, err, sizeof(err)))
		return GH_EUNAVAILABLE;
	int rc = 0;
	if (resp.len > max)
		rc = GH_ETOOBIG;
	else {
		*status = resp.status;
		*body = arena_strndup(a, resp.body ? resp.body : "", resp.len);
		*len = resp.len;
	}
	http_client_resp_free(&resp);
	return rc;
}

static const char *hdr_of(void *ctx, const char *name)
{
	return req_header(ctx, name);
}

static int peer_key(void *ctx, const char *kid, unsigned char pk[32])
{
	return fed_member_peer_key(kid, pk, ctx);
}

int fed_request_sender(struct req *r, const char *method, char hall[65], const char **why)
{
	if (!fed_cfg.member) {
		*why = "this hall is not joined to a hub";
		return GH_ENOTFOUND;
	}
	size_t len = 0;
	const char *body = req_body(r, &len);
	struct hsig_msg hm = { .method = method,
			       /* The whole target, its query included (RFC 9421 §2.2.2). */
			       .target_uri = arena_printf(r->arena, "%s%s%s%s", fed_cfg.self_url, r->path,
							  r->raw_query ? "?" : "", r->raw_query ? r->raw_query : ""),
			       .path = r->path,
			       .header = hdr_of,
			       .ctx = r };
	struct hsig_input in;
	if (hsig_verify(r->arena, &hm, body ? body : "", body ? len : 0, time(NULL), peer_key, hall, &in, why))
		return GH_EUNAUTH;
	return 0;
}
