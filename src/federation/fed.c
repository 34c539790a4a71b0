/* fed.c: the role of this node and the module's routes and commands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "base/jsonout.h"
#include "federation/dir.h"
#include "federation/fed_impl.h"
#include "federation/nat.h"
#include "federation/jwt.h"
#include "http/router.h"
#include "identity/crypto.h"
#include "identity/identity.h"
#include "ledger/witness.h"
#include "store/db.h"

static void issuer_of(const char *url)
{
	size_t n = strlen(url);
	while (n && url[n - 1] == '/')
		n--;
	snprintf(fed_cfg.issuer, sizeof(fed_cfg.issuer), "%.*s", (int)n, url);
}

static bool http_url(const char *s)
{
	return s && (!strncmp(s, "http://", 7) || !strncmp(s, "https://", 8)) && strlen(s) < 500;
}

int fed_config_check(const struct config *c, char *err, size_t errlen)
{
	const char *role = c->role ? c->role : "hall";
	if (strcmp(role, "hall") && strcmp(role, "hub")) {
		snprintf(err, errlen, "role must be hall or hub, not \"%s\"", role);
		return GH_EINVAL;
	}
	if (!strcmp(role, "hub") && !http_url(c->public_url)) {
		snprintf(err, errlen, "role = hub needs public-url, the hub's address (its OpenID Connect issuer)");
		return GH_EINVAL;
	}
	if (strcmp(role, "hub") && c->fed_hub_url && *c->fed_hub_url && !http_url(c->fed_hub_url)) {
		snprintf(err, errlen, "fed-hub-url must be the hub's http(s) address");
		return GH_EINVAL;
	}
	return 0;
}

int fed_init(struct app *app, char *err, size_t errlen)
{
	const struct config *c = &app->cfg;
	fed_cfg = (struct fed_settings){ .app = app };
	int rc = fed_config_check(c, err, errlen);
	if (rc)
		return rc;
	if (c->role && !strcmp(c->role, "hub")) {
		issuer_of(c->public_url);
		snprintf(fed_cfg.self_url, sizeof(fed_cfg.self_url), "%s", fed_cfg.issuer);
		fed_cfg.hub = true;
		ledger_foreign_keys_set(fed_registry_keys_doc);
		/* The hub takes part in messages as a hall does (its inbox, its outbox, signed look-ups
		 * at halls), with a message key of its own that its directory publishes. */
		rc = fed_hub_init(app, err, errlen);
		if (!rc)
			rc = fed_msg_init(c->fed_retry, err, errlen);
		if (!rc)
			rc = fed_member_init(app, err, errlen);
		fed_cfg.member = rc == 0;
		return rc;
	}
	if (!c->fed_hub_url || !*c->fed_hub_url)
		return 0;
	issuer_of(c->fed_hub_url);
	size_t ul = c->public_url ? strlen(c->public_url) : 0;
	while (ul && c->public_url[ul - 1] == '/')
		ul--;
	snprintf(fed_cfg.self_url, sizeof(fed_cfg.self_url), "%.*s", (int)ul, ul ? c->public_url : "");
	rc = fed_rp_init(app, err, errlen);
	if (!rc)
		rc = fed_msg_init(c->fed_retry, err, errlen);
	if (!rc)
		rc = fed_member_init(app, err, errlen);
	fed_cfg.rp = fed_cfg.member = rc == 0;
	if (fed_cfg.rp)
		ledger_foreign_keys_set(fed_member_keys_doc);
	return rc;
}

void fed_release(void)
{
	fed_hub_release();
	fed_member_release();
}

void fed_register(void)
{
	fed_registry_register();
	fed_msg_register();
	fed_witness_register();
}

int fed_start(struct app *app, char *err, size_t errlen)
{
	int rc = fed_member_start(app, err, errlen);
	if (!rc && (rc = fed_msg_start(app, err, errlen)))
		fed_member_stop();
	if (!rc && (rc = nat_start(app, err, errlen))) {
		fed_msg_stop();
		fed_member_stop();
	}
	if (!rc && (rc = fed_witness_start(app, err, errlen))) {
		nat_stop();
		fed_msg_stop();
		fed_member_stop();
	}
	return rc;
}

void fed_stop(void)
{
	fed_witness_stop();
	nat_stop();
	fed_msg_stop();
	fed_member_stop();
}

int fed_add_routes(struct router *rt)
{
	return router_add(rt, fed_hub_routes, fed_hub_routes_n) || router_add(rt, fed_rp_routes, fed_rp_routes_n) ||
	       router_add(rt, fed_registry_routes, fed_registry_routes_n) || router_add(rt, fed_member_routes, fed_member_routes_n) ||
	       router_add(rt, fed_msg_routes, fed_msg_routes_n) || router_add(rt, nat_cat_routes, nat_cat_routes_n) ||
	       router_add(rt, nat_stats_routes, nat_stats_routes_n) || router_add(rt, fed_witness_routes, fed_witness_routes_n) ||
	       router_add(rt, fed_wallet_routes, fed_wallet_routes_n);
}

/* ---- `govhall federation client ...` ------------------------------------------------------- */

void fed_cli_usage(FILE *f)
{
	fprintf(f, "usage: govhall federation client add CLIENT-ID --name NAME --redirect URI [--redirect URI...]\n"
		   "                                     [--logout URI...]    register a hall at the hub (prints its secret once)\n"
		   "       govhall federation client list                      the registered clients\n"
		   "       govhall federation key rotate                       a new signing key for the hub (its nodes sign with\n"
		   "                                                           it once restarted; older keys stay published)\n"
		   "       govhall federation hall list                        hub: the halls' registrations and decisions\n"
		   "       govhall federation hall approve|refuse HALL-ID      hub: decide on a registration (the directory\n"
		   "                                                           lists the approved halls)\n"
		   "       govhall federation join --name NAME --region REGION hall: send the hub this hall's signed registration\n"
		   "       govhall federation send HALL-ID --subject S [--kind K] [--body JSON]\n"
		   "                                                           hall: queue a message to another hall\n"
		   "       govhall federation outbox|inbox                     hall: the messages sent and received\n");
}

DB_SQL(q_client_add, "INSERT INTO oidc_clients (client_id, name, secret_hash, redirect_uris, logout_uris, created_at) "
		     "VALUES (?, ?, ?, ?, ?, ?)");
DB_SQL(q_client_list, "SELECT client_id, name, redirect_uris, logout_uris FROM oidc_clients ORDER BY client_id");

static int client_add(struct db *db, int argc, char **argv)
{
	const char *id = argv[0], *name = NULL;
	json_t *redirects = json_array(), *logouts = json_array();
	int rc = 2;
	for (int i = 1; i < argc; i++) {
		bool has = i + 1 < argc;
		if (!strcmp(argv[i], "--name") && has)
			name = argv[++i];
		else if ((!strcmp(argv[i], "--redirect") || !strcmp(argv[i], "--logout")) && has) {
			const char *u = argv[i + 1];
			/* Exact URIs without a fragment (RFC 6749 §3.1.2). */
			if (!http_url(u) || strchr(u, '#')) {
				fprintf(stderr, "govhall: %s %s: give an http(s) address without a #fragment\n", argv[i], u);
				goto out;
			}
			json_array_append_new(!strcmp(argv[i], "--redirect") ? redirects : logouts, json_string(u));
			i++;
		} else {
			fprintf(stderr, "govhall: unknown or incomplete option %s\n", argv[i]);
			fed_cli_usage(stderr);
			goto out;
		}
	}
	if (!fed_dir_id_ok(id) || !strcmp(id, FED_HUB_ID)) {
		fprintf(stderr, "govhall: a client id is 2-64 characters of a-z, 0-9, '-', '_' and '.', and not \"" FED_HUB_ID
				"\" (the hub's own)\n");
		goto out;
	}
	if (!name || !*name || json_array_size(redirects) == 0) {
		fprintf(stderr, "govhall: a client needs --name and at least one --redirect URI\n");
		goto out;
	}
	char secret[CRYPTO_TOKEN_LEN + 1], h[65];
	crypto_new_token(secret);
	fed_hash(secret, h);
	char *r = jsonout_dumps(redirects, JSON_COMPACT), *l = jsonout_dumps(logouts, JSON_COMPACT);
	int drc = db_exec(db, &q_client_add,
			  DB_ARGS(DB_TEXT(id), DB_TEXT(name), DB_TEXT(h), DB_TEXT(r), DB_TEXT(l), DB_INT(time(NULL))), NULL);
	free(r);
	free(l);
	if (drc == GH_ECONFLICT) {
		fprintf(stderr, "govhall: client %s is registered already\n", id);
		rc = 1;
	} else if (drc) {
		fprintf(stderr, "govhall: the client could not be registered (%s)\n", err_slug(drc));
		rc = 1;
	} else {
		/* The secret is shown once: only its keyed hash is kept. */
		printf("client_id: %s\nclient_secret: %s\n", id, secret);
		rc = 0;
	}
out:
	json_decref(redirects);
	json_decref(logouts);
	return rc;
}

int fed_cli(struct app *app, struct db *db, int argc, char **argv)
{
	fed_cfg.app = app;
	if (argc >= 1 && !strcmp(argv[0], "--help")) {
		fed_cli_usage(stdout);
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[0], "client") && !strcmp(argv[1], "add"))
		return client_add(db, argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[0], "hall")) {
		int rc = fed_registry_cli(db, argc - 1, argv + 1);
		if (rc == 2)
			fed_cli_usage(stderr);
		return rc;
	}
	if (argc >= 1 && (!strcmp(argv[0], "send") || !strcmp(argv[0], "outbox") || !strcmp(argv[0], "inbox"))) {
		int rc = fed_msg_cli(app, db, argc, argv);
		if (rc == 2)
			fed_cli_usage(stderr);
		return rc;
	}
	if (argc >= 1 && !strcmp(argv[0], "join"))
		return fed_member_join(app, db, argc - 1, argv + 1);
	if (argc == 2 && !strcmp(argv[0], "key") && !strcmp(argv[1], "rotate")) {
		char kid[JWT_KID_MAX + 1];
		int rc = fed_hub_key_rotate(db, kid, sizeof(kid));
		if (rc) {
			fprintf(stderr, "govhall: the new signing key could not be made (%s)\n", err_slug(rc));
			return 1;
		}
		printf("new signing key %s: restart the hub's nodes to sign with it; the older keys stay published\n", kid);
		return 0;
	}
	if (argc == 2 && !strcmp(argv[0], "client") && !strcmp(argv[1], "list")) {
		struct arena *a = arena_new(0);
		struct db_rows rows;
		int rc = db_query(db, a, &q_client_list, DB_NOARGS, &rows);
		for (size_t i = 0; !rc && i < rows.nrows; i++)
			printf("%s\t%s\tredirect %s\tlogout %s\n", db_cell(&rows, i, 0), db_cell(&rows, i, 1), db_cell(&rows, i, 2),
			       db_cell(&rows, i, 3));
		arena_free(a);
		if (rc)
			fprintf(stderr, "govhall: the clients cannot be read (%s)\n", err_slug(rc));
		return rc ? 1 : 0;
	}
	fed_cli_usage(stderr);
	return 2;
}
