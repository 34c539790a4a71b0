/* main.c: the command line. Wires the modules together; owns no logic of its own. */
#include <event2/event.h>
#include <getopt.h>
#include <stdarg.h>
#include <pthread.h>
#include <signal.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "base/config.h"
#include "base/err.h"
#include "base/jobs.h"
#include "base/log.h"
#include "base/util.h"
#include "base/jsonout.h"
#include "booking/booking.h"
#include "cases/calendar_admin.h"
#include "cases/cases.h"
#include "notify/notify.h"
#include "notify/offers.h"
#include "notify/warnings.h"
#include "catalog/catalog.h"
#include "certs/certs.h"
#include "http/metrics.h"
#include "identity/crypto.h"
#include "identity/identity.h"
#include "interact/interact.h"
#include "ledger/ledger.h"
#include "http/ops.h"
#include "http/nav.h"
#include "http/router.h"
#include "http/server.h"
#include "open311/open311.h"
#include "pay/pay.h"
#include "federation/federation.h"
#include "remote/remote.h"
#include "fedwallet/fedwallet.h"
#include "ops/ops.h"
#include "scale/scale.h"
#include "demo/demo.h"
#include "search/search.h"
#include "store/db.h"
#include "store/group.h"
#include "help/help.h"
#include "privacy/privacy.h"
#include "publish/publish.h"
#include "stats/stats.h"
#include "view/view.h"

static void usage(FILE *f)
{
	fprintf(f,
		"govhall %s: an integrated online government service hall\n"
		"\n"
		"Usage: govhall COMMAND [OPTIONS]\n"
		"\n"
		"Commands:\n"
		"  serve                      run the web server (applies pending migrations first)\n"
		"  init [--demo [--history DAYS]]   create or upgrade the database; --demo loads the demo catalog,\n"
		"                             accounts and a year of history (--history 0: none)\n"
		"  import catalog FILE.json   import or update a catalog; nothing is imported if any record is bad\n"
		"  user add|list|disable|enable|roles ...   accounts of staff and administrators\n"
		"  key list|rotate|reseal     the key that encrypts personal data\n"
		"  open311 key add|list|revoke ...   API keys of Open311 GeoReport v2 clients\n"
		"  cert key generate|rotate|list [--department CODE]   departments' certificate signing keys\n"
		"  ledger key list|rotate | checkpoint | backfill | correct   the transparency log's keys, tree\n"
		"                             heads, and changes made by hand\n"
		"  verify FILE --keys KEYS.json   check a receipt or a certificate (JSON or PDF) offline\n"
		"  audit [--checkpoint FILE]  recompute the log's tree and check every covered row against it;\n"
		"                             report tampering (govhall audit --help)\n"
		"  backup FILE                copy the SQLite database into FILE while it serves (PostgreSQL: pg_dump)\n"
		"  restore FILE [--force]     replace the SQLite database with a backup (stopped hall; --force\n"
		"                             when the target holds data)\n"
		"  uploads status | import [DIR]   stored files; import those an earlier version kept in DIR\n"
		"  stats rebuild              recompute the public statistics' rollups from the stored rows\n"
		"  bench-scale generate --scale N   national-scale data on PostgreSQL for `make bench-scale`\n"
		"  booking import FILE.json | duties [YYYY-MM-DD[THH:MM]]   service centres, counters and places per\n"
		"                             slot; one pass of the appointment duties as at that time\n"
		"  search-eval FILE.json      search quality (MRR@10, Recall@1) beside an SQLite FTS5 baseline\n"
		"  search-bench [--items N]   search index build time and queries/s beside FTS5\n"
		"  pay duties | reconcile DAY   one pass of the payment duty; reconcile a day with the gateway\n"
		"  federation client add|list  register a hall with the national hub (docs/federation.md)\n"
		"  paysim [OPTIONS]           a payment gateway simulator (docs/payments.md; govhall paysim --help)\n"
		"  interact-duties [DAY]      one pass of the evaluation/complaint duties (invitations, overdue\n"
		"                             warnings, escalation) as on DAY (YYYY-MM-DD, default today)\n"
		"  offers                     one sweep of the duty that offers benefits to citizens who qualify\n"
		"  routes [--json]            list every route with its methods, roles and flags\n"
		"  version                    print the version\n"
		"\n"
		"Common options (any command): --config FILE, --db URL, and the settings below.\n"
		"`govhall serve --help` lists every setting.\n",
		GOVHALL_VERSION);
}

static void serve_help(void)
{
	printf("Usage: govhall serve [--config FILE] [--SETTING VALUE ...]\n\n"
	       "Serves the hall over HTTP/1.1 until SIGTERM or SIGINT, then finishes requests in\n"
	       "flight and stops. Settings come from defaults, then the config file (govhall.conf\n"
	       "in the current directory, or --config FILE), then GOVHALL_* environment variables,\n"
	       "then flags.\n\n");
	config_print_help(stdout);
}

/* serve's stderr is its log: while it starts, complaints are JSON log lines too. */
static bool serving;

static void complain(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void complain(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (serving)
		log_error("%s", msg);
	else
		fprintf(stderr, "govhall: %s\n", msg);
}

/* Parses --config, then applies file, environment and flags in that order. Non-option
 * arguments are left in argv[optind..]. Returns 0, 1 for --help, or -1. */
static int load_config(struct config *cfg, int argc, char **argv, int *first_arg, bool *help, bool *demo)
{
	char err[512];
	const char *conf = NULL;
	bool conf_required = false;
	config_defaults(cfg);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			conf = argv[i + 1];
			conf_required = true;
		} else if (strncmp(argv[i], "--config=", 9) == 0) {
			conf = argv[i] + 9;
			conf_required = true;
		}
	}
	if (config_load_file(cfg, conf ? conf : "govhall.conf", conf_required, err, sizeof(err)) ||
	    config_load_env(cfg, err, sizeof(err))) {
		complain("%s", err);
		return -1;
	}
	int nargs = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			*help = true;
			continue;
		}
		if (strcmp(a, "--demo") == 0) {
			*demo = true;
			continue;
		}
		if (strncmp(a, "--", 2) != 0) {
			argv[1 + nargs++] = argv[i];
			continue;
		}
		const char *name = a + 2, *val = NULL;
		char namebuf[64];
		const char *eq = strchr(name, '=');
		if (eq) {
			snprintf(namebuf, sizeof(namebuf), "%.*s", (int)(eq - name), name);
			name = namebuf;
			val = eq + 1;
		}
		if (strcmp(name, "config") != 0 && !config_known(name)) {
			/* A command's own option (user add --kind ...): left for the command. */
			argv[1 + nargs++] = argv[i];
			continue;
		}
		if (eq) {
		} else if (i + 1 < argc) {
			val = argv[++i];
		} else {
			complain("--%s needs a value", name);
			return -1;
		}
		if (strcmp(name, "config") == 0)
			continue;
		if (config_set(cfg, name, val, err, sizeof(err))) {
			complain("%s", err);
			return -1;
		}
	}
	*first_arg = nargs;
	return 0;
}

static int open_db(struct config *cfg, struct db **db)
{
	return db_open_migrated(cfg->db, db);
}

static void print_report(const struct catalog_import_report *rep)
{
	printf("imported: %zu departments, %zu regions, %zu items new, %zu changed, %zu unchanged, %zu withdrawn, %zu "
	       "bundles\n",
	       rep->departments, rep->regions, rep->items_new, rep->items_changed, rep->items_unchanged,
	       rep->items_withdrawn, rep->bundles);
}

/* Loads what identity needs (keys, password list) for commands that touch accounts. */
static int open_identity(struct config *cfg, struct app *app)
{
	char err[512];
	*app = (struct app){ .cfg = *cfg, .started = time(NULL) };
	if (identity_init(app, err, sizeof(err))) {
		fprintf(stderr, "govhall: %s\n", err);
		return -1;
	}
	return 0;
}

/* Opens the database for a command that uses the keys (ops_open_db). */
static int open_checked(struct config *cfg, enum ops_open mode, struct db **db)
{
	char err[2048];
	if (ops_open_db(cfg, mode, db, err, sizeof(err))) {
		fprintf(stderr, "govhall: %s\n", err);
		return -1;
	}
	return 0;
}

/* `init`'s own option: --history DAYS (with --demo; default DEMO_HISTORY_DAYS). -1 when the
 * arguments are wrong (said on stderr). */
#define DEMO_HISTORY_DAYS 365
static int init_history(bool demo, int nargs, char **args, const char **region)
{
	int days = demo ? DEMO_HISTORY_DAYS : 0;
	for (int i = 0; i < nargs; i++) {
		const char *v = NULL;
		if (!strcmp(args[i], "--region") && i + 1 < nargs && demo) {
			*region = args[++i]; /* checked by cmd_init: a folder of DATA-DIR/regions */
			continue;
		}
		if (!strcmp(args[i], "--history") && i + 1 < nargs)
			v = args[++i];
		else if (!strncmp(args[i], "--history=", 10))
			v = args[i] + 10;
		else {
			fprintf(stderr, "govhall: init takes --demo, --history DAYS and --region NAME (with --demo), not %s (govhall init --help)\n", args[i]);
			return -1;
		}
		char *end;
		long n = strtol(v, &end, 10);
		if (!*v || *end || n < 0 || n > 3660) {
			fprintf(stderr, "govhall: --history takes a number of days from 0 to 3660, not \"%s\"\n", v);
			return -1;
		}
		if (!demo && n > 0) {
			fprintf(stderr, "govhall: --history plays the demo hall's history: give --demo too\n");
			return -1;
		}
		days = (int)n;
	}
	return days;
}

static int cmd_init(struct config *cfg, bool demo, int history, const char *region)
{
	struct db *db;
	/* Keys are made only for a database never initialised; an initialised one is upgraded,
	 * and only with the key files that match it. */
	if (open_checked(cfg, OPS_INIT, &db))
		return 1;
	printf("database ready: %s (schema version %d); key files %s and %s.ledger\n", cfg->db, db_schema_version(db),
	       cfg->key_file, cfg->key_file);
	if (ledger_origin_keep(db, cfg)) {
		fprintf(stderr, "govhall: cannot fix the transparency log's origin: %s\n", db_last_error(db));
		db_close(db);
		return 1;
	}
	long missing = ops_files_missing(db);
	if (missing > 0)
		printf("%ld attachment(s) are kept on disk by an earlier version: run `govhall uploads import DIR` "
		       "(DIR: their folder, the setting upload-dir) to move them into the database\n", missing);
	int rc = cases_calendar_seed(db, cfg->data_dir, stdout) ? 1 : 0;
	/* --region NAME: the demo catalog and centres of another demo city, DATA-DIR/regions/NAME. */
	char demo_dir[4096];
	bool region_ok = !region || (*region && strspn(region, "abcdefghijklmnopqrstuvwxyz0123456789-") == strlen(region));
	snprintf(demo_dir, sizeof(demo_dir), region_ok && region ? "%s/regions/%s" : "%s", cfg->data_dir, region);
	if (!region_ok) {
		fprintf(stderr, "govhall: --region takes the name of a demo city (a folder of %s/regions, e.g. lanshan)\n",
			cfg->data_dir);
		rc = 1;
	} else if (demo) {
		struct catalog_import_report rep = { 0 };
		struct app app;
		if (catalog_import_demo(db, demo_dir, stderr, &rep)) {
			fprintf(stderr, "govhall: the demo catalog in %s/catalog could not be loaded\n", demo_dir);
			rc = 1;
		} else {
			print_report(&rep);
			size_t centres = 0;
			if (booking_import_demo(db, demo_dir, stderr, &centres)) {
				fprintf(stderr, "govhall: the demo centres in %s/catalog/centres.json could not be loaded\n", demo_dir);
				rc = 1;
			} else {
				printf("imported: %zu service centres\n", centres);
			}
			if (open_identity(cfg, &app) == 0) {
				if (identity_demo_accounts(&app, db)) {
					fprintf(stderr, "govhall: the demo accounts could not be created\n");
					rc = 1;
				}
				identity_release(&app);
				if (!rc && demo_history(cfg, db, history, stdout, stderr))
					rc = 1;
			} else {
				rc = 1;
			}
		}
	}
	db_close(db);
	return rc;
}

static int cmd_identity(struct config *cfg, const char *cmd, int nargs, char **args)
{
	struct app app;
	struct db *db;
	if (open_identity(cfg, &app))
		return 1;
	if (open_checked(cfg, OPS_NODE, &db)) {
		identity_release(&app);
		return 1;
	}
	int rc = !strcmp(cmd, "federation") ? fed_cli(&app, db, nargs, args)
		 : !strcmp(cmd, "user")	   ? identity_cli_user(&app, db, nargs, args)
		 : !strcmp(cmd, "open311") ? open311_cli(&app, db, nargs, args)
		 : !strcmp(cmd, "cert")	   ? certs_cli(&app, db, nargs, args)
					   : identity_cli_key(&app, db, nargs, args);
	db_close(db);
	identity_release(&app);
	return rc;
}

static int cmd_import(struct config *cfg, int nargs, char **args)
{
	if (nargs != 2 || strcmp(args[0], "catalog") != 0) {
		fprintf(stderr, "usage: govhall import catalog FILE.json\n");
		return 2;
	}
	struct db *db;
	if (open_db(cfg, &db))
		return 1;
	struct catalog_import_report rep = { 0 };
	int rc = catalog_import_file(db, args[1], isatty(STDERR_FILENO), stderr, &rep);
	db_close(db);
	if (rc == GH_EVALIDATION) {
		fprintf(stderr, "govhall: %zu bad record(s) in %s; nothing was imported. Fix them and run again.\n",
			rep.errors, args[1]);
		return 1;
	}
	if (rc) {
		fprintf(stderr, "govhall: %s was not imported\n", args[1]);
		return 1;
	}
	print_report(&rep);
	return 0;
}

static int cmd_stats(struct config *cfg, int nargs, char **args)
{
	char err[512];
	struct app app = { .cfg = *cfg, .started = time(NULL) };
	struct db *db;
	if (open_db(cfg, &db))
		return 1;
	if (cases_init(&app, err, sizeof(err))) {
		fprintf(stderr, "govhall: %s\n", err);
		db_close(db);
		return 1;
	}
	int rc = stats_cli(&app, db, nargs, args);
	cases_release(&app);
	db_close(db);
	return rc;
}

/* `ledger checkpoint`, `ledger backfill` and `ledger key rotate` sign or publish with the log
 * key file: like serve, they run only with the key files the database publishes. */
static bool ledger_needs_keys(int nargs, char **args)
{
	return nargs >= 1 && (!strcmp(args[0], "checkpoint") || !strcmp(args[0], "backfill") ||
			      (nargs >= 2 && !strcmp(args[0], "key") && !strcmp(args[1], "rotate")));
}

static int keys_ok(struct config *cfg)
{
	struct db *db;
	if (open_checked(cfg, OPS_NODE, &db))
		return -1;
	db_close(db);
	return 0;
}

/* The background duties of a serving node, started in this order and stopped in reverse (a
 * failed start stops those started before it). */
static const struct {
	int (*start)(struct app *app, char *err, size_t errlen);
	void (*stop)(void);
} node_duties[] = {
	{ ops_start, ops_stop },         { cases_start, cases_stop },     { notify_start, notify_stop },
	{ warnings_start, warnings_stop }, { ledger_start, ledger_stop },   { interact_start, interact_stop },
	{ booking_start, booking_stop }, { pay_start, pay_stop },         { notify_offers_start, notify_offers_stop },
	{ stats_start, stats_stop },     { fed_start, fed_stop },
};

static int build_router(struct router *rt)
{
	if (router_add(rt, ops_routes, ops_routes_n) || router_add(rt, static_routes, static_routes_n) ||
	    router_add(rt, catalog_routes, catalog_routes_n) || identity_add_routes(rt) || cases_add_routes(rt) ||
	    notify_add_routes(rt) || open311_add_routes(rt) || ledger_add_routes(rt) || stats_add_routes(rt) ||
	    publish_add_routes(rt) || certs_add_routes(rt) || search_add_routes(rt) || interact_add_routes(rt) ||
	    booking_add_routes(rt) || pay_add_routes(rt) || fed_add_routes(rt) || remote_add_routes(rt) || fedwallet_add_routes(rt) || help_add_routes(rt) ||
	    privacy_add_routes(rt))
		return -1;
	return 0;
}

static const struct {
	unsigned bit;
	const char *name;
} role_names[] = {
	{ ROLE_ANON, "anonymous" }, { ROLE_CITIZEN, "citizen" }, { ROLE_AGENT, "agent" },
	{ ROLE_ENTERPRISE, "enterprise" }, { ROLE_STAFF, "staff" }, { ROLE_ADMIN, "admin" },
	{ ROLE_SYSTEM, "system" },
};

/* Staff duties a route may ask for (route.duties), as `govhall user add --roles` names them. */
static const struct {
	unsigned bit;
	const char *name;
} duty_names[] = { { STAFF_COUNTER, "counter" }, { STAFF_REVIEWER, "reviewer" }, { STAFF_HEAD, "head" } };

/* The route table as JSON, for documentation and the authorisation-matrix test. */
static int routes_json(struct router *rt)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < router_count(rt); i++) {
		const struct route *r = router_at(rt, i);
		json_t *methods = json_array(), *roles = json_array();
		for (unsigned bit = HTTP_GET; bit <= HTTP_OPTIONS; bit <<= 1)
			if (r->methods & bit)
				json_array_append_new(methods, json_string(http_method_name(bit)));
		for (size_t k = 0; k < ARRAY_LEN(role_names); k++)
			if (r->roles & role_names[k].bit)
				json_array_append_new(roles, json_string(role_names[k].name));
		json_t *duties = json_array();
		for (size_t k = 0; k < ARRAY_LEN(duty_names); k++)
			if (r->duties & duty_names[k].bit)
				json_array_append_new(duties, json_string(duty_names[k].name));
		json_array_append_new(arr, json_pack("{s:s,s:s,s:o,s:o,s:b,s:b,s:i,s:o}", "name", r->name, "pattern",
						     r->pattern, "methods", methods, "roles", roles, "csrf",
						     (r->flags & ROUTE_CSRF) != 0, "noauth", (r->flags & ROUTE_NOAUTH) != 0,
						     "scopes", (int)r->scopes, "duties", duties));
	}
	char *s = jsonout_dumps(arr, JSON_INDENT(1));
	json_decref(arr);
	if (!s)
		return 1;
	puts(s);
	free(s);
	return 0;
}

static int cmd_routes(bool json)
{
	struct router *rt = router_new();
	if (build_router(rt))
		return 1;
	if (json) {
		int rc = routes_json(rt);
		router_free(rt);
		return rc;
	}
	for (size_t i = 0; i < router_count(rt); i++) {
		const struct route *r = router_at(rt, i);
		char m[96];
		char d[64] = "";
		for (size_t k = 0; k < ARRAY_LEN(duty_names); k++)
			if (r->duties & duty_names[k].bit)
				snprintf(d + strlen(d), sizeof(d) - strlen(d), "%s%s", d[0] ? "," : " duties=",
					 duty_names[k].name);
		printf("%-18s %-40s roles=0x%02x%s%s  %s\n", http_methods_str(r->methods, m, sizeof(m)),
		       r->pattern, r->roles, r->flags & ROUTE_CSRF ? " csrf" : "", d, r->name);
	}
	router_free(rt);
	return 0;
}

/* `govhall booking ...`: the duties need the calendar (cases), the words (view) and the key
 * ring (identity). */
static int cmd_booking(struct config *cfg, int nargs, char **args)
{
	struct app app = { .cfg = *cfg, .started = time(NULL) };
	char err[512], i18n[4096];
	log_set_level(cfg->log_level);
	snprintf(i18n, sizeof(i18n), "%s/i18n", cfg->data_dir);
	if (view_load(cfg->templates_dir, i18n, &app.view, err, sizeof(err)) || identity_init(&app, err, sizeof(err)) ||
	    cases_init(&app, err, sizeof(err))) {
		fprintf(stderr, "govhall: %s\n", err);
		view_free(app.view);
		return 1;
	}
	booking_init(&app);
	int rc = booking_cli(&app, nargs, args);
	cases_release(&app);
	identity_release(&app);
	view_free(app.view);
	return rc;
}

static int cmd_interact_duties(struct config *cfg, int nargs, char **args)
{
	struct app app = { .cfg = *cfg, .started = time(NULL) };
	char err[512];
	log_set_level(cfg->log_level);
	if (cases_init(&app, err, sizeof(err))) {
		fprintf(stderr, "govhall: %s\n", err);
		return 1;
	}
	/* The messages the duties send are in the catalogs. */
	char i18n[4096];
	snprintf(i18n, sizeof(i18n), "%s/i18n", cfg->data_dir);
	if (view_load_messages(i18n, &app.view, err, sizeof(err)))
		fprintf(stderr, "govhall: the message catalogs: %s\n", err);
	int rc = interact_cli_duties(&app, nargs, args);
	view_free(app.view);
	cases_release(&app);
	return rc;
}

/* `offers`: one sweep of the 免申即享 duty, with the key file (ID numbers are sealed) and the
 * catalogs' words. */
static int cmd_offers(struct config *cfg)
{
	struct app app = { .cfg = *cfg, .started = time(NULL) };
	char err[512], i18n[4096];
	struct db *db;
	if (open_checked(cfg, OPS_NODE, &db))
		return 1;
	int rc = 1;
	snprintf(i18n, sizeof(i18n), "%s/i18n", cfg->data_dir);
	if (identity_init(&app, err, sizeof(err)) || view_load_messages(i18n, &app.view, err, sizeof(err)))
		fprintf(stderr, "govhall: %s\n", err);
	else
		rc = notify_offers_cli(&app, db);
	view_free(app.view);
	identity_release(&app);
	db_close(db);
	return rc;
}

/* `bench-scale`: with the keys the database publishes, the key file and the calendar. */
static int cmd_bench_scale(struct config *cfg, int nargs, char **args)
{
	if (nargs >= 1 && !strcmp(args[0], "accounts"))
		return scale_cli(NULL, NULL, nargs, args);
	struct app app = { .cfg = *cfg, .started = time(NULL) };
	char err[512];
	struct db *db;
	if (open_checked(cfg, OPS_NODE, &db))
		return 1;
	int rc = 1;
	if (identity_init(&app, err, sizeof(err)) || cases_init(&app, err, sizeof(err))) {
		fprintf(stderr, "govhall: %s\n", err);
	} else {
		rc = scale_cli(&app, db, nargs, args);
		cases_release(&app);
	}
	identity_release(&app);
	db_close(db);
	return rc;
}

/* `govhall pay ...`: the payment duty's pass or a day's reconciliation, with the keys (receipts
 * are signed, the log is appended to) and the messages (inbox texts). */
static int cmd_pay(struct config *cfg, int nargs, char **args)
{
	struct app app;
	struct db *db;
	char err[512];
	log_set_level(cfg->log_level);
	if (nargs < 1 || !strcmp(args[0], "--help")) {
		pay_cli_usage(nargs < 1 ? stderr : stdout);
		return nargs < 1 ? 2 : 0;
	}
	if (open_identity(cfg, &app))
		return 1;
	if (open_checked(cfg, OPS_NODE, &db)) {
		identity_release(&app);
		return 1;
	}
	char i18n[4096];
	snprintf(i18n, sizeof(i18n), "%s/i18n", cfg->data_dir);
	int rc = 1;
	if (view_load(cfg->templates_dir, i18n, &app.view, err, sizeof(err)) || cases_init(&app, err, sizeof(err)) ||
	    ledger_init(&app, err, sizeof(err))) {
		fprintf(stderr, "govhall: %s\n", err);
	} else {
		certs_init(&app);
		stats_init(&app);
		rc = pay_cli(&app, db, nargs, args);
		ledger_release(&app);
		cases_release(&app);
	}
	view_free(app.view);
	db_close(db);
	identity_release(&app);
	return rc;
}

/* libevent's messages, as JSON log lines. */
static void libevent_log(int severity, const char *msg)
{
	enum log_level l = severity >= EVENT_LOG_ERR ? LOG_ERROR : severity == EVENT_LOG_WARN ? LOG_WARN
					       : severity == EVENT_LOG_MSG ? LOG_INFO : LOG_DEBUG;
	log_msg(l, "libevent: %s", msg);
}

/* What cmd_serve loaded, released (each release is safe on what was not loaded). */
static void serve_unload(struct app *app)
{
	search_release(app);
	ledger_release(app);
	fed_release();
	cases_release(app);
	identity_release(app);
	view_free(app->view);
	app->view = NULL;
}

static int cmd_serve(struct config *cfg)
{
	struct app app = { .cfg = *cfg, .started = time(NULL) };
	char err[512];
	/* Before any thread starts: SIGTERM and SIGINT are for server_run's sigwait alone, so
	 * every thread created from here on inherits them blocked. */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	log_set_level(cfg->log_level);
	db_sqlite_set_synchronous(strcmp(cfg->sqlite_synchronous, "normal") != 0);
	/* Everything serve says goes to the JSON log, its failures too (docs/operations.md, Logs);
	 * libevent's own messages as well. */
	event_set_log_callback(libevent_log);
	/* The settings first: a wrong one is refused before seconds of loading. */
	if (fed_config_check(cfg, err, sizeof(err))) {
		log_error("%s", err);
		return 1;
	}
	struct db *db;
	char kerr[2048];
	if (ops_open_db(cfg, OPS_NODE, &db, kerr, sizeof(kerr))) {
		log_error("%s", kerr);
		return 1;
	}
	db_close(db);
	char i18n[4096];
	snprintf(i18n, sizeof(i18n), "%s/i18n", cfg->data_dir);
	if (view_load(cfg->templates_dir, i18n, &app.view, err, sizeof(err))) {
		log_error("templates: %s", err);
		return 1;
	}
	if (identity_init(&app, err, sizeof(err)) || cases_init(&app, err, sizeof(err)) ||
	    open311_init(&app) || ledger_init(&app, err, sizeof(err)) || stats_init(&app) ||
	    search_init(&app, err, sizeof(err)) || interact_init(&app, err, sizeof(err)) ||
	    pay_init(&app, err, sizeof(err)) || fed_init(&app, err, sizeof(err))) {
		log_error("%s", err);
		serve_unload(&app);
		return 1;
	}
	certs_init(&app);
	booking_init(&app);
	remote_init(&app);
	fedwallet_init(&app);
	identity_set_messenger(&(struct identity_messenger){ notify_inbox_message, notify_sms_sealed });
	app.router = router_new();
	if (build_router(app.router)) {
		log_error("the route tables are malformed");
		return 1;
	}
	if (!(app.nav = nav_new(app.router, err, sizeof(err)))) {
		log_error("%s", err);
		return 1;
	}
	app.metrics = metrics_new(router_count(app.router));
	app.jobs = jobs_new_with(&(struct jobs_config){ .threads = (size_t)cfg->job_threads, .queue_cap = (size_t)cfg->job_queue,
							.per_key_cap = (size_t)cfg->job_queue_per_address,
							.max_wait_ns = cfg->job_max_wait_ms * 1000000LL,
							.initial_service_ns = JOBS_INITIAL_SERVICE_NS });
	search_start(&app);
	/* Group commit: one writer thread and connection batches submissions (store/group.h). */
	app.group = group_new(cfg->db, (size_t)cfg->write_queue, (size_t)cfg->write_batch, err, sizeof(err));
	if (!app.group) {
		log_error("%s", err);
		jobs_free(app.jobs);
		return 1;
	}
	/* The duties thread's connection, shared by its duties (base/duty.h). */
	if (db_open_named(cfg->db, "govhall duties", &app.duty_db, err, sizeof(err))) {
		log_error("%s", err);
		group_free(app.group);
		jobs_free(app.jobs);
		return 1;
	}
	size_t started = 0;
	while (started < ARRAY_LEN(node_duties) && node_duties[started].start(&app, err, sizeof(err)) == 0)
		started++;
	int rc = 1;
	if (started < ARRAY_LEN(node_duties)) {
		log_error("%s", err);
		node_duties[started].stop(); /* what it began (each stop is safe on a duty not running) */
	} else
		rc = server_run(&app);
	while (started > 0)
		node_duties[--started].stop();
	db_close(app.duty_db);
	group_free(app.group);
	jobs_free(app.jobs);
	metrics_free(app.metrics);
	nav_free(app.nav);
	router_free(app.router);
	serve_unload(&app);
	return rc ? 1 : 0;
}

/* The log's commands read covered rows, sealed ones too: identity's keys when the key file is
 * there (without it, the audit reports sealed rows it cannot read). */
static int cmd_ledger(struct config *cfg, const char *cmd, int nargs, char **args)
{
	struct app app = { .cfg = *cfg, .started = time(NULL) };
	char err[512];
	bool keys = strcmp(cmd, "verify") != 0 && identity_init(&app, err, sizeof(err)) == 0;
	int rc = ledger_cli(cfg, cmd, nargs, args);
	if (keys)
		identity_release(&app);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	ledger_register_observers();
	notify_register_observers(); /* the applicant's messages (cases observer) */
	cases_register_sealed();
	booking_register_sealed();
	app_cover_declare(); /* what each domain covers with the log (store/cover.h) */
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
		printf("govhall %s\n", GOVHALL_VERSION);
		return 0;
	}
	struct config cfg;
	int nargs = 0;
	bool help = false, demo = false;
	serving = !strcmp(cmd, "serve");
	if (load_config(&cfg, argc - 1, argv + 1, &nargs, &help, &demo)) {
		config_release(&cfg);
		return 2;
	}
	char **args = argv + 2;
	int rc;
	notify_configure(&cfg); /* commands that record events queue their channels' rows too */
	certs_register();
	pay_register();
	if (strcmp(cmd, "init") && strcmp(cmd, "paysim") && strcmp(cmd, "pay") && strcmp(cmd, "federation") && strcmp(cmd, "user") && strcmp(cmd, "key") && strcmp(cmd, "routes") && strcmp(cmd, "open311") &&
	    strcmp(cmd, "verify") && strcmp(cmd, "cert") && strcmp(cmd, "search-eval") && strcmp(cmd, "search-bench") &&
	    strcmp(cmd, "restore") && strcmp(cmd, "audit") && strcmp(cmd, "ledger") &&
	    strcmp(cmd, "bench-scale"))
		for (int i = 0; i < nargs; i++)
			if (strncmp(args[i], "--", 2) == 0) {
				complain("unknown option %s (see govhall %s --help)", args[i], cmd);
				config_release(&cfg);
				return 2;
			}
	/* The workflow, for every command that may read or write applications (an offline
	 * receipt check needs none). */
	if (strcmp(cmd, "verify") != 0 && !help) {
		char werr[600];
		if (cases_workflow_load(&cfg, werr, sizeof(werr))) {
			complain("the workflow: %s", werr);
			config_release(&cfg);
			return 1;
		}
	}
	if (!strcmp(cmd, "serve")) {
		if (help) {
			serve_help();
			rc = 0;
		} else {
			rc = cmd_serve(&cfg);
		}
	} else if (!strcmp(cmd, "init")) {
		if (help) {
			printf("Usage: govhall init [--demo [--history DAYS]] [--db URL]\n\nCreates or upgrades the database "
			       "schema.\n--demo also loads the demo catalog from DATA-DIR/catalog, the demo accounts, and\n"
			       "DAYS days of history (default %d; 0: none) played as people would have: applications\n"
			       "in every state, ratings and rectifications, consultations, complaints, published\n"
			       "documents and certificates. A hall that holds applications gets no history.\n"
			       "--region NAME (with --demo): the catalog and centres of another demo city, from\n"
			       "DATA-DIR/regions/NAME/catalog (lanshan: the second hall of `make federation-demo`).\n",
			       DEMO_HISTORY_DAYS);
			rc = 0;
		} else {
			const char *region = NULL;
			int history = init_history(demo, nargs, args, &region);
			rc = history < 0 ? 2 : cmd_init(&cfg, demo, history, region);
		}
	} else if (!strcmp(cmd, "import")) {
		if (help) {
			printf("Usage: govhall import catalog FILE.json [--db URL]\n\nValidates every record "
			       "and reports each bad one with its path and reason;\nimports nothing when any "
			       "record is bad. Unchanged items keep their version.\n");
			rc = 0;
		} else {
			rc = cmd_import(&cfg, nargs - 0, args);
		}
	} else if (!strcmp(cmd, "federation") && help) {
		fed_cli_usage(stdout);
		rc = 0;
	} else if (!strcmp(cmd, "user") || !strcmp(cmd, "key") || !strcmp(cmd, "open311") || !strcmp(cmd, "cert") ||
		   !strcmp(cmd, "federation")) {
		rc = cmd_identity(&cfg, cmd, nargs, args);
	} else if (!strcmp(cmd, "booking")) {
		rc = cmd_booking(&cfg, nargs, args);
	} else if (!strcmp(cmd, "paysim")) {
		rc = help ? (pay_sim_usage(stdout), 0) : pay_sim_cli(&cfg, nargs, args);
	} else if (!strcmp(cmd, "pay")) {
		rc = cmd_pay(&cfg, nargs, args);
	} else if (!strcmp(cmd, "offers")) {
		rc = cmd_offers(&cfg);
	} else if (!strcmp(cmd, "interact-duties")) {
		rc = cmd_interact_duties(&cfg, nargs, args);
	} else if (!strcmp(cmd, "verify") && pay_verify_pdf_cli(&cfg, nargs, args, &rc) == 0) {
		/* a payment receipt's PDF: verified from the document it embeds */
	} else if (!strcmp(cmd, "verify") && certs_verify_pdf_cli(&cfg, nargs, args, &rc) == 0) {
		/* a certificate's PDF: verified from the document it embeds */
	} else if (!strcmp(cmd, "search-eval")) {
		rc = search_cli_eval(cfg.db, cfg.data_dir, nargs, args);
	} else if (!strcmp(cmd, "search-bench")) {
		rc = search_cli_bench(cfg.data_dir, nargs, args);
	} else if (!strcmp(cmd, "ledger") && ledger_needs_keys(nargs, args) && !help && keys_ok(&cfg) != 0) {
		rc = 1; /* the log's key file does not match the database: refused, with the advice */
	} else if (!strcmp(cmd, "ledger") || !strcmp(cmd, "verify") || !strcmp(cmd, "audit")) {
		rc = help ? (ledger_cli_help(cmd), 0) : cmd_ledger(&cfg, cmd, nargs, args);
	} else if (!strcmp(cmd, "backup") || !strcmp(cmd, "restore") || !strcmp(cmd, "uploads")) {
		rc = ops_cli(&cfg, cmd, nargs, args);
	} else if (!strcmp(cmd, "stats")) {
		rc = cmd_stats(&cfg, nargs, args);
	} else if (!strcmp(cmd, "bench-scale")) {
		rc = cmd_bench_scale(&cfg, nargs, args);
	} else if (!strcmp(cmd, "routes")) {
		rc = cmd_routes(nargs > 0 && strcmp(args[0], "--json") == 0);
	} else {
		fprintf(stderr, "govhall: unknown command '%s'\n\n", cmd);
		usage(stderr);
		rc = 2;
	}
	if (strcmp(cmd, "serve") != 0)
		ledger_finish(&cfg); /* a checkpoint over the leaves this command appended */
	config_release(&cfg);
	return rc;
}
