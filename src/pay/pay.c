/* pay.c: the module's start (registration, settings), its words, and its commands:
 * `govhall pay duties [--at UNIX]` and `govhall pay reconcile YYYY-MM-DD`. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "base/log.h"
#include "base/sb.h"
#include "base/util.h"
#include "booking/booking.h"
#include "cases/cases.h"
#include "http/router.h"
#include "http/sections.h"
#include "pay/pay.h"
#include "pay/pay_impl.h"
#include "view/view.h"

struct pay_settings pay_cfg;

void pay_recon_register(void);
void pay_receipt_verify_types(void);

void pay_cover_declare(void)
{
	pay_orders_register();
	pay_receipt_register();
	pay_recon_register();
}

void pay_register(void)
{
	pay_register_workflow();
	pay_receipt_verify_types();
	page_section_add(BOOKING_PAGE_KIOSK, 10, pay_kiosk_section);
	page_section_add(CASES_PAGE_QUEUE, 10, pay_queue_rows);
}

int pay_init(struct app *app, char *err, size_t errlen)
{
	const struct config *c = &app->cfg;
	pay_cfg = (struct pay_settings){ .app = app, .public_url = c->public_url, .order_ttl = c->pay_order_ttl,
					 .timeout_ms = c->pay_gateway_timeout, .tolerance = c->pay_notify_tolerance,
					 .query_after = c->pay_query_after, .settle_delay = c->pay_settle_delay };
	if (!c->pay_gateway_url || !*c->pay_gateway_url)
		return 0;
	if (strncmp(c->pay_gateway_url, "http://", 7) && strncmp(c->pay_gateway_url, "https://", 8)) {
		snprintf(err, errlen, "pay-gateway-url must be an http(s) address");
		return GH_EINVAL;
	}
	if (!c->pay_api_key || !*c->pay_api_key) {
		snprintf(err, errlen, "pay-gateway-url needs pay-api-key (the hall's key with the gateway)");
		return GH_EINVAL;
	}
	bool has_secret = c->pay_notify_secret && *c->pay_notify_secret;
	bool has_pk = c->pay_notify_public_key && *c->pay_notify_public_key;
	if (has_secret == has_pk) {
		snprintf(err, errlen, "pay-gateway-url needs exactly one of pay-notify-secret (HMAC-SHA256) and "
				      "pay-notify-public-key (Ed25519) to check the gateway's signatures");
		return GH_EINVAL;
	}
	if (has_pk) {
		size_t n = 0;
		const char *end;
		if (sodium_base642bin(pay_cfg.keys.pk, 32, c->pay_notify_public_key, strlen(c->pay_notify_public_key), NULL, &n,
				      &end, sodium_base64_VARIANT_ORIGINAL) ||
		    n != 32 || *end) {
			snprintf(err, errlen, "pay-notify-public-key must be an Ed25519 public key in base64 (32 bytes)");
			return GH_EINVAL;
		}
		pay_cfg.keys.alg = PAY_SIG_ED25519;
	} else {
		pay_cfg.keys.alg = PAY_SIG_HMAC;
		pay_cfg.keys.secret = c->pay_notify_secret;
	}
	/* The address of the gateway without a final '/', so paths join. */
	size_t ul = strlen(c->pay_gateway_url);
	while (ul && c->pay_gateway_url[ul - 1] == '/')
		ul--;
	static char url[2048];
	snprintf(url, sizeof(url), "%.*s", (int)ul, c->pay_gateway_url);
	pay_cfg.gateway_url = url;
	pay_cfg.api_key = c->pay_api_key;
	pay_cfg.on = true;
	return 0;
}

int pay_add_routes(struct router *rt)
{
	return router_add(rt, pay_routes, pay_routes_n);
}

const struct view *pay_view(void)
{
	return pay_cfg.app ? pay_cfg.app->view : NULL;
}

/* ---- commands ----------------------------------------------------------------------------- */

void pay_cli_usage(FILE *f)
{
	fprintf(f, "usage: govhall pay duties [--at UNIX-SECONDS]   one pass of the payment duty (orders asked about,\n"
		   "                                                 refunds sent, past days reconciled) as at a moment\n"
		   "       govhall pay reconcile YYYY-MM-DD          reconcile one day with the gateway's settlement file now\n");
}

int pay_cli(struct app *app, struct db *db, int argc, char **argv)
{
	char err[512];
	if (argc < 1 || !strcmp(argv[0], "--help")) {
		pay_cli_usage(argc < 1 ? stderr : stdout);
		return argc < 1 ? 2 : 0;
	}
	if (pay_init(app, err, sizeof(err))) {
		fprintf(stderr, "govhall: %s\n", err);
		return 1;
	}
	if (!pay_cfg.on) {
		fprintf(stderr, "govhall: no payment gateway is configured (pay-gateway-url)\n");
		return 1;
	}
	int64_t now = (int64_t)time(NULL);
	if (!strcmp(argv[0], "duties")) {
		for (int i = 1; i + 1 < argc; i++)
			if (!strcmp(argv[i], "--at"))
				now = strtoll(argv[i + 1], NULL, 10);
		bool more = true;
		int rc = 0;
		for (int rounds = 0; more && !rc && rounds < 100; rounds++)
			rc = pay_duty_pass(db, now, &more);
		if (rc) {
			fprintf(stderr, "govhall: the payment duty failed (%s)\n", err_slug(rc));
			return 1;
		}
		printf("payment duty: one pass done\n");
		return 0;
	}
	if (!strcmp(argv[0], "reconcile") && argc == 2) {
		struct arena *a = arena_new(0);
		long diffs = 0;
		int rc = pay_reconcile(db, a, argv[1], now, &diffs);
		arena_free(a);
		if (rc) {
			fprintf(stderr, "govhall: %s could not be reconciled (%s)\n", argv[1], err_slug(rc));
			return 1;
		}
		printf("reconciled %s: %ld new difference(s)\n", argv[1], diffs);
		return 0;
	}
	pay_cli_usage(stderr);
	return 2;
}
