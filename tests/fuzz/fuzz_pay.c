/* Fuzzes the parsers of the payment protocol (src/pay/proto.h) and the fee rules (fee.h). The
 * first byte chooses the parser; the rest is its input:
 *   0: a notification body (pay_notice_parse), also checked against a signature header
 *      made from its first line (pay_sig_check, HMAC and Ed25519);
 *   1: a settlement file (pay_settlement_parse); what parses is written back and must parse
 *      again to the same lines and total;
 *   2: a fee rule and a form, split at the first NUL (pay_fee_assess).
 * Invariants: a refusal always says why; amounts stay within 0..PAY_AMOUNT_MAX (refunds
 * negative in settlement files); an assessment never exceeds its gross amount. */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/sb.h"
#include "pay/fee.h"
#include "pay/proto.h"

static void check(int ok)
{
	if (!ok)
		abort();
}

static void notice(struct arena *a, const char *d, size_t n)
{
	struct pay_notice out;
	const char *why = NULL;
	if (pay_notice_parse(a, d, n, &out, &why)) {
		check(why != NULL);
	} else {
		check(out.event_id && out.type && out.payment.payment_id);
		check(out.payment.amount >= 0 && out.payment.amount <= PAY_AMOUNT_MAX);
	}
	const char *nl = memchr(d, '\n', n);
	size_t hl = nl ? (size_t)(nl - d) : n;
	char *header = arena_strndup(a, d, hl);
	struct pay_sig_keys hk = { .alg = PAY_SIG_HMAC, .secret = "fuzz-secret" };
	(void)pay_sig_check(&hk, header, d, n, 1700000000, 300);
	struct pay_sig_keys ek = { .alg = PAY_SIG_ED25519 };
	memset(ek.pk, 7, sizeof(ek.pk));
	(void)pay_sig_check(&ek, header, d, n, 1700000000, 300);
	/* What the gateway signs verifies; the same with another body does not. */
	struct pay_signer s = { .alg = PAY_SIG_HMAC, .secret = "fuzz-secret" };
	char h[160];
	pay_sig_make(&s, 1700000000, d, n, h);
	check(pay_sig_check(&hk, h, d, n, 1700000000, 300) == PAY_SIG_OK);
	check(pay_sig_check(&hk, h, d, n, 1700000000 + 301, 300) == PAY_SIG_STALE);
}

static void settlement(struct arena *a, const char *d, size_t n)
{
	struct pay_settlement s;
	const char *why = NULL;
	if (pay_settlement_parse(a, d, n, &s, &why)) {
		check(why != NULL);
		return;
	}
	struct sb out = SB_INIT;
	pay_settlement_write(&out, s.day, s.lines, s.n);
	struct pay_settlement again;
	check(pay_settlement_parse(a, out.buf ? out.buf : "", out.len, &again, &why) == 0);
	check(again.n == s.n && again.total == s.total && strcmp(again.day, s.day) == 0);
	for (size_t i = 0; i < s.n; i++)
		check(again.lines[i].amount == s.lines[i].amount && again.lines[i].refund == s.lines[i].refund);
	sb_release(&out);
}

static void fee(struct arena *a, const char *d, size_t n)
{
	const char *nul = memchr(d, '\0', n);
	char *rule = arena_strndup(a, d, nul ? (size_t)(nul - d) : n);
	char *form = nul ? arena_strndup(a, nul + 1, n - (size_t)(nul - d) - 1) : "{}";
	struct pay_assessment out;
	if (pay_fee_assess(a, rule, form, 20000, &out) == 0) {
		check(out.amount >= 0 && out.amount <= out.gross && out.gross <= PAY_AMOUNT_MAX);
		check(out.point && out.how);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 256 * 1024)
		return 0;
	static int ready;
	if (!ready) {
		check(sodium_init() >= 0);
		ready = 1;
	}
	struct arena *a = arena_new(1 << 14);
	const char *d = (const char *)data + 1;
	size_t n = size - 1;
	switch (data[0] % 3) {
	case 0: notice(a, d, n); break;
	case 1: settlement(a, d, n); break;
	default: fee(a, d, n); break;
	}
	arena_free(a);
	return 0;
}
