/* gateway.c: the hall's calls to the payment gateway (docs/payments.md): create a payment
 * (with the order's idempotency key, so a repeated call after a lost answer makes nothing new),
 * ask about one, refund, fetch a day's settlement file. Blocking, with pay-gateway-timeout in
 * all: called from the job pool and the payment duty, never from an event loop. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "base/log.h"
#include "base/jsonout.h"
#include "http/client.h"
#include "pay/pay_impl.h"

#define GW_ANSWER_MAX (64 * 1024)

static int call(struct arena *a, const char *method, const char *path, const char *idem, json_t *body, json_t **out,
		const char **code, size_t max, struct http_client_resp *raw, char *err, size_t errlen)
{
	char auth[512], key[128];
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", pay_cfg.api_key ? pay_cfg.api_key : "");
	snprintf(key, sizeof(key), "Idempotency-Key: %s", idem ? idem : "");
	const char *headers[] = { "Content-Type: application/json", "Accept: application/json", auth, idem ? key : NULL, NULL };
	char *text = body ? jsonout_dumps(body, JSON_COMPACT) : NULL;
	const char *url = arena_printf(a, "%s%s", pay_cfg.gateway_url, path);
	struct http_client_resp r;
	int rc = http_client(method, url, headers, text, text ? strlen(text) : 0, pay_cfg.timeout_ms, max, PAY_SIG_HEADER, &r,
			     err, errlen);
	free(text);
	if (out)
		*out = NULL;
	if (code)
		*code = NULL;
	if (rc)
		return rc;
	if (raw) {
		*raw = r;
		if (r.status == 200)
			return 0;
	}
	json_t *j = r.len ? json_loadb(r.body, r.len, 0, NULL) : NULL;
	long status = r.status;
	if (!raw)
		http_client_resp_free(&r);
	else
		http_client_resp_free(raw);
	if (j)
		arena_cleanup(a, (void (*)(void *))json_decref, j);
	if (status >= 500 || status == 0) {
		snprintf(err, errlen, "the gateway answered %ld", status);
		return GH_EUNAVAILABLE;
	}
	if (status == 404)
		return GH_ENOTFOUND;
	if (status == 409) {
		const char *c = json_string_value(json_object_get(json_object_get(j, "error"), "code"));
		if (code)
			*code = c ? arena_strdup(a, c) : "conflict";
		snprintf(err, errlen, "the gateway refused: %s", c ? c : "conflict");
		return GH_ECONFLICT;
	}
	if (status < 200 || status > 299 || !json_is_object(j)) {
		snprintf(err, errlen, "the gateway answered %ld%s", status, json_is_object(j) ? "" : " without a JSON object");
		return GH_EINVAL;
	}
	if (out)
		*out = j;
	return 0;
}

int pay_gw_create(struct arena *a, const struct pay_order *o, const char *description, const char *return_url,
		  struct pay_gw_payment *out, char *err, size_t errlen)
{
	json_t *body = json_pack("{s:s,s:I,s:s,s:s,s:s,s:I}", "reference", o->number, "amount", (json_int_t)o->amount,
				 "description", description, "return_url", return_url, "notify_url",
				 arena_printf(a, "%s/api/v1/pay/notify", pay_cfg.public_url), "expires_in",
				 (json_int_t)(o->expires_at > o->sent_at ? o->expires_at - o->sent_at : pay_cfg.order_ttl));
	json_t *j;
	int rc = call(a, "POST", "/v1/payments", o->idem_key, body, &j, NULL, GW_ANSWER_MAX, NULL, err, errlen);
	json_decref(body);
	if (rc)
		return rc;
	const char *why;
	if (pay_payment_parse(a, j, out, &why) || strcmp(out->reference, o->number) != 0 || out->amount != o->amount) {
		snprintf(err, errlen, "the gateway's payment does not match order %s (%s)", o->number, why ? why : "reference or amount");
		return GH_EINVAL;
	}
	return 0;
}

int pay_gw_get(struct arena *a, const struct pay_order *o, struct pay_gw_payment *out, char *err, size_t errlen)
{
	const char *path = o->gateway_id ? arena_printf(a, "/v1/payments/%s", o->gateway_id)
					 : arena_printf(a, "/v1/payments?reference=%s", o->number);
	json_t *j;
	int rc = call(a, "GET", path, NULL, NULL, &j, NULL, GW_ANSWER_MAX, NULL, err, errlen);
	if (rc)
		return rc;
	const char *why;
	if (pay_payment_parse(a, j, out, &why) || strcmp(out->reference, o->number) != 0) {
		snprintf(err, errlen, "the gateway's answer about order %s is malformed (%s)", o->number, why ? why : "reference");
		return GH_EINVAL;
	}
	return 0;
}

int pay_gw_refund(struct arena *a, const char *gateway_id, const struct pay_refund *f, struct pay_gw_refund *out,
		  const char **code, char *err, size_t errlen)
{
	json_t *body = json_pack("{s:I,s:s}", "amount", (json_int_t)f->amount, "reason", f->reason ? f->reason : "");
	json_t *j;
	int rc = call(a, "POST", arena_printf(a, "/v1/payments/%s/refunds", gateway_id), f->number, body, &j, code,
		      GW_ANSWER_MAX, NULL, err, errlen);
	json_decref(body);
	if (rc)
		return rc;
	const char *why;
	if (pay_refund_parse(a, j, out, &why) || out->amount != f->amount) {
		snprintf(err, errlen, "the gateway's refund %s is malformed (%s)", f->number, why ? why : "amount");
		return GH_EINVAL;
	}
	return 0;
}

int pay_gw_settlement(struct arena *a, const char *day, struct pay_settlement *out, char *err, size_t errlen)
{
	struct http_client_resp r = { 0 };
	int rc = call(a, "GET", arena_printf(a, "/v1/settlements/%s", day), NULL, NULL, NULL, NULL, PAY_SETTLEMENT_MAX + 1,
		      &r, err, errlen);
	if (rc)
		return rc;
	/* The file is signed like a notification: the hall believes no other. */
	enum pay_sig_verdict v = pay_sig_check(&pay_cfg.keys, r.captured, r.body, r.len, (int64_t)time(NULL),
					       pay_cfg.tolerance);
	if (v != PAY_SIG_OK) {
		snprintf(err, errlen, "the settlement file of %s is not validly signed (%s)", day, pay_sig_verdict_name(v));
		http_client_resp_free(&r);
		return GH_EINVAL;
	}
	const char *why;
	rc = pay_settlement_parse(a, r.body, r.len, out, &why);
	http_client_resp_free(&r);
	if (rc) {
		snprintf(err, errlen, "the settlement file of %s is malformed: %s", day, why);
		return GH_EINVAL;
	}
	if (strcmp(out->day, day) != 0) {
		snprintf(err, errlen, "the settlement file asked for %s is of %s", day, out->day);
		return GH_EINVAL;
	}
	return 0;
}
