/* proto.h: the payment gateway protocol (docs/payments.md), as both sides speak it — the
 * hall (gateway.c, notice.c, recon.c) and the simulator (paysim.c). Pure functions, no I/O;
 * the parsers are fuzzed (tests/fuzz/fuzz_pay.c).
 *
 * Invariants:
 * - Money is an integer number of fen (分), never a real number: a JSON amount with a fraction,
 *   an exponent, a sign where none belongs or more than PAY_AMOUNT_MAX is refused.
 * - A signature covers "<timestamp>.<exact body bytes>": the timestamp travels in the header
 *   (Govpay-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256> or t=...,ed25519=<base64>), so a
 *   replay with another time or body fails, and a stale one is refused by its age.
 * - Parsed values live in the caller's arena; nothing points into the input.
 */
#ifndef GH_PAY_PROTO_H
#define GH_PAY_PROTO_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/arena.h"

#define PAY_AMOUNT_MAX 100000000000LL /* fen: one billion yuan */
#define PAY_ID_MAX 64                 /* characters of a payment, refund or event id, reference, key */
#define PAY_NOTICE_MAX (16 * 1024)    /* bytes of a notification body */
#define PAY_SETTLEMENT_MAX (8 * 1024 * 1024) /* bytes of a settlement file */
#define PAY_SIG_HEADER "Govpay-Signature"

/* A payment as the gateway describes it. */
struct pay_gw_payment {
	const char *payment_id, *reference, *state, *pay_url; /* pay_url may be NULL */
	int64_t amount, paid_amount, refunded_amount;
	int64_t created_at, expires_at, paid_at; /* paid_at 0: not paid */
	int64_t seq;                             /* the gateway's version of this payment */
};

struct pay_gw_refund {
	const char *refund_id, *payment_id, *state;
	int64_t amount, created_at;
};

/* An asynchronous notification (one event of one payment). */
struct pay_notice {
	const char *event_id, *type; /* "payment.succeeded", "payment.failed", "payment.expired",
				      * "payment.cancelled", "refund.succeeded", "refund.failed" */
	int64_t created_at, seq;
	struct pay_gw_payment payment;
	bool has_refund;
	struct pay_gw_refund refund;
};

/* True for an identifier of 1..PAY_ID_MAX characters [A-Za-z0-9_-]. */
bool pay_id_ok(const char *s);
/* An amount in fen from a JSON value: 0 or GH_EINVAL (not an integer, negative, too large). */
int pay_amount_get(json_t *v, int64_t *out);

/* The payment object of the protocol (create, query and notification answers). GH_EINVAL
 * with *why (a static English phrase for logs) when a member is missing or malformed. */
int pay_payment_parse(struct arena *a, json_t *o, struct pay_gw_payment *out, const char **why);
int pay_refund_parse(struct arena *a, json_t *o, struct pay_gw_refund *out, const char **why);
/* A notification body (at most PAY_NOTICE_MAX bytes of JSON). GH_EINVAL with *why. */
int pay_notice_parse(struct arena *a, const char *body, size_t len, struct pay_notice *out, const char **why);

/* ---- signatures -------------------------------------------------------------------------- */

enum pay_sig_alg { PAY_SIG_HMAC = 1, PAY_SIG_ED25519 = 2 };

/* What verifies signatures: an HMAC key, or an Ed25519 public key. */
struct pay_sig_keys {
	enum pay_sig_alg alg;
	const char *secret;   /* HMAC: the shared secret (text) */
	unsigned char pk[32]; /* Ed25519 */
};
/* What signs them (the gateway). */
struct pay_signer {
	enum pay_sig_alg alg;
	const char *secret;   /* HMAC */
	unsigned char sk[64]; /* Ed25519 */
};

/* The Ed25519 key pair the simulator derives from its secret (BLAKE2b-256 of
 * "govpay-ed25519:" + secret as the seed), so a test or an operator can name the public key
 * from the same secret. pk_b64 (may be NULL) gets the public key in standard base64. */
void pay_signer_ed25519(struct pay_signer *s, const char *secret, unsigned char pk[32], char pk_b64[45]);

/* The header value signing body at time ts, into out (NUL-terminated; at most 160 bytes). */
void pay_sig_make(const struct pay_signer *s, int64_t ts, const char *body, size_t len, char out[160]);

enum pay_sig_verdict {
	PAY_SIG_OK = 0,
	PAY_SIG_MISSING,   /* no header, or not of the configured algorithm */
	PAY_SIG_MALFORMED, /* the header cannot be read */
	PAY_SIG_BAD,       /* the signature does not match */
	PAY_SIG_STALE,     /* signed more than tolerance seconds before or after now */
};
/* Checks header (may be NULL) against body with k, at now, allowing tolerance seconds of
 * clock difference either way. Constant-time comparison of MACs. */
enum pay_sig_verdict pay_sig_check(const struct pay_sig_keys *k, const char *header, const char *body, size_t len,
				   int64_t now, int64_t tolerance);
const char *pay_sig_verdict_name(enum pay_sig_verdict v);

/* ---- settlement files -------------------------------------------------------------------- */

/* One line of a daily settlement file: a payment received (amount > 0) or a refund paid out
 * (amount < 0), as the gateway settled it. */
struct pay_settle_line {
	bool refund;
	const char *payment_id, *reference, *refund_id; /* refund_id "" for payments */
	int64_t amount, at;
};
struct pay_settlement {
	const char *day; /* YYYY-MM-DD, China Standard Time */
	struct pay_settle_line *lines;
	size_t n;
	int64_t total;
};
/* Parses a settlement file (docs/payments.md: a "# govpay settlement 1" line naming the day,
 * the column line, one line per payment or refund, a "# total,<count>,<sum>" trailer that must
 * agree). GH_EINVAL with *why (static English) when malformed or inconsistent, GH_ETOOBIG
 * past PAY_SETTLEMENT_MAX bytes or 200,000 lines. */
int pay_settlement_parse(struct arena *a, const char *text, size_t len, struct pay_settlement *out, const char **why);
/* Writes a settlement file of the day (YYYY-MM-DD) with lines, as pay_settlement_parse reads it. */
struct sb;
void pay_settlement_write(struct sb *out, const char *day, const struct pay_settle_line *lines, size_t n);

/* ---- money ------------------------------------------------------------------------------- */

/* "20.00" for 2000 fen (negative amounts with a leading '-'), into out. */
void pay_yuan(int64_t fen, char out[32]);

#endif
