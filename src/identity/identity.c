/* identity.c: start-up and the module's route tables. */
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "http/router.h"
#include "identity/identity_impl.h"

extern const struct route identity_login_routes[];
extern const size_t identity_login_routes_n;
extern const struct route identity_account_routes[];
extern const size_t identity_account_routes_n;
extern const struct route identity_admin_routes[];
extern const size_t identity_admin_routes_n;
extern const struct route identity_recover_routes[];
extern const size_t identity_recover_routes_n;
extern const struct route identity_namefix_routes[];
extern const size_t identity_namefix_routes_n;

int identity_init(struct app *app, char *err, size_t errlen)
{
	int rc = keyring_load(app->cfg.key_file, &app->keys, err, errlen);
	if (rc)
		return rc;
	account_cover_keys(app->keys); /* the log commits sealed data as plaintext */
	char path[4096];
	snprintf(path, sizeof(path), "%s/common-passwords.txt", app->cfg.data_dir);
	if ((rc = password_list_load(path, err, errlen)))
		return rc;
	if (totp_global_init()) {
		snprintf(err, errlen, "liboath could not be initialised");
		return GH_EINTERNAL;
	}
	app->authenticate = identity_authenticate;
	app->csrf_check = identity_csrf_check;
	app->csrf_token = identity_csrf_token;
	app->login_path = "/login";
	return 0;
}

void identity_release(struct app *app)
{
	account_cover_keys(NULL);
	keyring_free(app->keys);
	app->keys = NULL;
	password_list_free();
}

int identity_add_routes(struct router *rt)
{
	if (router_add(rt, identity_login_routes, identity_login_routes_n) ||
	    router_add(rt, identity_account_routes, identity_account_routes_n) ||
	    router_add(rt, identity_admin_routes, identity_admin_routes_n) ||
	    router_add(rt, identity_recover_routes, identity_recover_routes_n) ||
	    router_add(rt, identity_namefix_routes, identity_namefix_routes_n))
		return GH_EINVAL;
	return 0;
}
