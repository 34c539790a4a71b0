/* account.c: self-service for a logged-in account — profile, password, sessions, API tokens,
 * second factor, agents and acting for an enterprise — as pages and as /api/v1/me. */
#include <string.h>

#include "base/err.h"
#include "http/server.h"
#include "identity/identity_impl.h"

static int profile(struct req *r)
{
	struct account acc;
	int rc = account_get(r->db, r->arena, r->who.account, &acc);
	if (rc)
		return rc;
	if (r->api)
		return resp_json(r, 200, account_json(&acc));
	json_t *ctx = json_pack("{s:s,s:o}", "title", strcmp(r->lang, "en") == 0 ? "My account" : "我的账户",
				"account", account_json(&acc));
	resp_header(r, "Cache-Control", "no-store");
	return resp_page(r, 200, "identity/account", ctx);
}

const struct route identity_account_routes[] = {
	{ HTTP_GET, "/account", profile, ROLE_USER, 0, "identity.account" },
	{ HTTP_GET, "/api/v1/me", profile, ROLE_USER, 0, "identity.api_me", NULL, SCOPE_PROFILE },
};
const size_t identity_account_routes_n = sizeof(identity_account_routes) / sizeof(identity_account_routes[0]);
