/* proto.c: the gateway protocol's messages, signatures and settlement files (proto.h). */
#include "pay/proto.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/sb.h"
#include "base/util.h"

bool pay_id_ok(const char *s)
{
	if (!s || !*s)
		return false;
	size_t n = 0;
	for (; s[n]; n++) {
		char c = s[n];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
		if (n >= PAY_ID_MAX)
			return false;
	}
	return true;
}

int pay_amount_get(json_t *v, int64_t *out)
{
	/* jansson reads 20.0 and 2e3 as reals: only integers are amounts. */
	if (!json_is_integer(v))
		return GH_EINVAL;
	json_int_t x = json_integer_value(v);
	if (x < 0 || x > PAY_AMOUNT_MAX)
		return GH_EINVAL;
	*out = (int64_t)x;
	return 0;
}

static const char *id_of(struct arena *a, json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return pay_id_ok(s) ? arena_strdup(a, s) : NULL;
}

static int time_of(json_t *o, const char *key, bool required, int64_t *out)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v)) {
		*out = 0;
		return required ? GH_EINVAL : 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 32503680000LL)
		return GH_EINVAL; /* unix seconds before the year 3000 */
	*out = (int64_t)json_integer_value(v);
	return 0;
}

static int amount_of(json_t *o, const char *key, bool required, int64_t *out)
{
	json_t *v = json_object_get(o, key);
	if (!v) {
		*out = 0;
		return required ? GH_EINVAL : 0;
	}
	return pay_amount_get(v, out);
}

static const char *const payment_states[] = { "created", "started", "success", "failed", "expired", "cancelled" };
static const char *const refund_states[] = { "success", "failed", "pending" };

static const char *state_of(json_t *o, const char *const *states, size_t n)
{
	const char *s = json_string_value(json_object_get(o, "state"));
	for (size_t i = 0; s && i < n; i++)
		if (!strcmp(s, states[i]))
			return states[i];
	return NULL;
}

int pay_payment_parse(struct arena *a, json_t *o, struct pay_gw_payment *out, const char **why)
{
	*out = (struct pay_gw_payment){ 0 };
	*why = "not an object";
	if (!json_is_object(o))
		return GH_EINVAL;
	*why = "payment_id";
	if (!(out->payment_id = id_of(a, o, "payment_id")))
		return GH_EINVAL;
	*why = "reference";
	if (!(out->reference = id_of(a, o, "reference")))
		return GH_EINVAL;
	*why = "state";
	if (!(out->state = state_of(o, payment_states, ARRAY_LEN(payment_states))))
		return GH_EINVAL;
	*why = "amount";
	if (amount_of(o, "amount", true, &out->amount) || out->amount == 0)
		return GH_EINVAL;
	*why = "paid_amount";
	if (amount_of(o, "paid_amount", false, &out->paid_amount))
		return GH_EINVAL;
	*why = "refunded_amount";
	if (amount_of(o, "refunded_amount", false, &out->refunded_amount) || out->refunded_amount > out->paid_amount)
		return GH_EINVAL;
	*why = "times";
	if (time_of(o, "created_at", true, &out->created_at) || time_of(o, "expires_at", false, &out->expires_at) ||
	    time_of(o, "paid_at", false, &out->paid_at))
		return GH_EINVAL;
	*why = "seq";
	json_t *seq = json_object_get(o, "seq");
	if (!json_is_integer(seq) || json_integer_value(seq) < 0 || json_integer_value(seq) > INT32_MAX)
		return GH_EINVAL;
	out->seq = json_integer_value(seq);
	*why = "pay_url";
	json_t *u = json_object_get(o, "pay_url");
	if (u && !json_is_null(u)) {
		const char *s = json_string_value(u);
		if (!s || strlen(s) > 2000 || (strncmp(s, "http://", 7) && strncmp(s, "https://", 8)))
			return GH_EINVAL;
		out->pay_url = arena_strdup(a, s);
	}
	*why = NULL;
	return 0;
}

int pay_refund_parse(struct arena *a, json_t *o, struct pay_gw_refund *out, const char **why)
{
	*out = (struct pay_gw_refund){ 0 };
	*why = "refund: not an object";
	if (!json_is_object(o))
		return GH_EINVAL;
	*why = "refund_id";
	if (!(out->refund_id = id_of(a, o, "refund_id")))
		return GH_EINVAL;
	*why = "refund payment_id";
	if (!(out->payment_id = id_of(a, o, "payment_id")))
		return GH_EINVAL;
	*why = "refund state";
	if (!(out->state = state_of(o, refund_states, ARRAY_LEN(refund_states))))
		return GH_EINVAL;
	*why = "refund amount";
	if (amount_of(o, "amount", true, &out->amount) || out->amount == 0)
		return GH_EINVAL;
	*why = "refund created_at";
	if (time_of(o, "created_at", true, &out->created_at))
		return GH_EINVAL;
	*why = NULL;
	return 0;
}

static const char *const notice_types[] = { "payment.succeeded", "payment.failed", "payment.expired",
					    "payment.cancelled", "refund.succeeded", "refund.failed" };

int pay_notice_parse(struct arena *a, const char *body, size_t len, struct pay_notice *out, const char **why)
{
	*out = (struct pay_notice){ 0 };
	*why = "too large";
	if (len > PAY_NOTICE_MAX)
		return GH_EINVAL;
	json_error_t e;
	json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &e);
	*why = "not JSON";
	if (!j)
		return GH_EINVAL;
	int rc = GH_EINVAL;
	*why = "not an object";
	if (!json_is_object(j))
		goto out;
	*why = "event_id";
	if (!(out->event_id = id_of(a, j, "event_id")))
		goto out;
	*why = "type";
	const char *t = json_string_value(json_object_get(j, "type"));
	for (size_t i = 0; t && i < ARRAY_LEN(notice_types); i++)
		if (!strcmp(t, notice_types[i]))
			out->type = notice_types[i];
	if (!out->type)
		goto out;
	*why = "created_at";
	if (time_of(j, "created_at", true, &out->created_at))
		goto out;
	*why = "seq";
	json_t *seq = json_object_get(j, "seq");
	if (!json_is_integer(seq) || json_integer_value(seq) < 1 || json_integer_value(seq) > INT32_MAX)
		goto out;
	out->seq = json_integer_value(seq);
	if ((rc = pay_payment_parse(a, json_object_get(j, "payment"), &out->payment, why)))
		goto out;
	rc = GH_EINVAL;
	json_t *rf = json_object_get(j, "refund");
	bool refund_kind = !strncmp(out->type, "refund.", 7);
	*why = "refund";
	if (refund_kind != (rf != NULL && !json_is_null(rf)))
		goto out;
	if (refund_kind) {
		if ((rc = pay_refund_parse(a, rf, &out->refund, why)))
			goto out;
		rc = GH_EINVAL;
		*why = "refund of another payment";
		if (strcmp(out->refund.payment_id, out->payment.payment_id) != 0)
			goto out;
		out->has_refund = true;
	}
	*why = NULL;
	rc = 0;
out:
	json_decref(j);
	return rc;
}

/* ---- signatures ---- */

void pay_signer_ed25519(struct pay_signer *s, const char *secret, unsigned char pk[32], char pk_b64[45])
{
	unsigned char seed[32];
	crypto_generichash_state st;
	static const char tag[] = "govpay-ed25519:";
	crypto_generichash_init(&st, NULL, 0, sizeof(seed));
	crypto_generichash_update(&st, (const unsigned char *)tag, sizeof(tag) - 1);
	crypto_generichash_update(&st, (const unsigned char *)secret, strlen(secret));
	crypto_generichash_final(&st, seed, sizeof(seed));
	unsigned char pub[32];
	crypto_sign_seed_keypair(pub, s->sk, seed);
	sodium_memzero(seed, sizeof(seed));
	s->alg = PAY_SIG_ED25519;
	s->secret = NULL;
	if (pk)
		memcpy(pk, pub, 32);
	if (pk_b64)
		sodium_bin2base64(pk_b64, 45, pub, 32, sodium_base64_VARIANT_ORIGINAL);
}

static void hmac(const char *secret, int64_t ts, const char *body, size_t len, unsigned char mac[32])
{
	char t[24];
	int tl = snprintf(t, sizeof(t), "%" PRId64 ".", ts);
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)t, (size_t)tl);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
	crypto_auth_hmacsha256_final(&st, mac);
}

/* "<ts>.<body>" in one buffer, for Ed25519 (malloc'd). */
static unsigned char *signed_text(int64_t ts, const char *body, size_t len, size_t *n)
{
	char t[24];
	int tl = snprintf(t, sizeof(t), "%" PRId64 ".", ts);
	unsigned char *m = xmalloc((size_t)tl + len + 1);
	memcpy(m, t, (size_t)tl);
	if (len)
		memcpy(m + tl, body, len);
	*n = (size_t)tl + len;
	return m;
}

void pay_sig_make(const struct pay_signer *s, int64_t ts, const char *body, size_t len, char out[160])
{
	if (s->alg == PAY_SIG_HMAC) {
		unsigned char mac[32];
		char hex[65];
		hmac(s->secret ? s->secret : "", ts, body, len, mac);
		sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
		snprintf(out, 160, "t=%" PRId64 ",v1=%s", ts, hex);
		return;
	}
	size_t n;
	unsigned char *m = signed_text(ts, body, len, &n), sig[64];
	crypto_sign_detached(sig, NULL, m, n, s->sk);
	free(m);
	char b64[89];
	sodium_bin2base64(b64, sizeof(b64), sig, sizeof(sig), sodium_base64_VARIANT_ORIGINAL);
	snprintf(out, 160, "t=%" PRId64 ",ed25519=%s", ts, b64);
}

const char *pay_sig_verdict_name(enum pay_sig_verdict v)
{
	switch (v) {
	case PAY_SIG_OK:
		return "ok";
	case PAY_SIG_MISSING:
		return "missing";
	case PAY_SIG_MALFORMED:
		return "malformed";
	case PAY_SIG_BAD:
		return "bad";
	case PAY_SIG_STALE:
		return "stale";
	}
	return "?";
}

enum pay_sig_verdict pay_sig_check(const struct pay_sig_keys *k, const char *header, const char *body, size_t len,
				   int64_t now, int64_t tolerance)
{
	if (!header || !*header)
		return PAY_SIG_MISSING;
	if (strlen(header) > 200)
		return PAY_SIG_MALFORMED;
	/* t=<digits>,<name>=<value> */
	if (strncmp(header, "t=", 2) != 0)
		return PAY_SIG_MALFORMED;
	const char *p = header + 2;
	int64_t ts = 0;
	int digits = 0;
	for (; *p >= '0' && *p <= '9'; p++, digits++) {
		if (digits >= 12)
			return PAY_SIG_MALFORMED;
		ts = ts * 10 + (*p - '0');
	}
	if (!digits || *p != ',')
		return PAY_SIG_MALFORMED;
	p++;
	const char *want = k->alg == PAY_SIG_HMAC ? "v1=" : "ed25519=";
	if (strncmp(p, want, strlen(want)) != 0)
		return PAY_SIG_MISSING;
	p += strlen(want);
	enum pay_sig_verdict v;
	if (k->alg == PAY_SIG_HMAC) {
		unsigned char got[32], mac[32];
		size_t n = 0;
		const char *end;
		if (strlen(p) != 64 || sodium_hex2bin(got, sizeof(got), p, 64, NULL, &n, &end) || n != 32 || *end)
			return PAY_SIG_MALFORMED;
		hmac(k->secret ? k->secret : "", ts, body, len, mac);
		v = sodium_memcmp(got, mac, 32) == 0 ? PAY_SIG_OK : PAY_SIG_BAD;
	} else {
		unsigned char sig[64];
		size_t n = 0;
		const char *end;
		if (sodium_base642bin(sig, sizeof(sig), p, strlen(p), NULL, &n, &end, sodium_base64_VARIANT_ORIGINAL) ||
		    n != 64 || *end)
			return PAY_SIG_MALFORMED;
		size_t mlen;
		unsigned char *m = signed_text(ts, body, len, &mlen);
		v = crypto_sign_verify_detached(sig, m, mlen, k->pk) == 0 ? PAY_SIG_OK : PAY_SIG_BAD;
		free(m);
	}
	/* The signature first: a forged header says nothing, whatever its time. */
	if (v == PAY_SIG_OK && (ts < now - tolerance || ts > now + tolerance))
		return PAY_SIG_STALE;
	return v;
}

/* ---- settlement files ---- */

/* The next line of [*p, end) without its line end; false at the end. */
static bool next_line(const char **p, const char *end, const char **ls, size_t *ll)
{
	if (*p >= end)
		return false;
	const char *s = *p, *nl = memchr(s, '\n', (size_t)(end - s));
	const char *e = nl ? nl : end;
	*p = nl ? nl + 1 : end;
	if (e > s && e[-1] == '\r')
		e--;
	*ls = s;
	*ll = (size_t)(e - s);
	return true;
}

/* Splits a line at commas into at most max fields (views into the line). */
static size_t split(const char *s, size_t n, struct str *f, size_t max)
{
	size_t k = 0;
	const char *start = s, *end = s + n;
	for (const char *q = s;; q++) {
		if (q == end || *q == ',') {
			if (k == max)
				return max + 1;
			f[k++] = str_n(start, (size_t)(q - start));
			if (q == end)
				break;
			start = q + 1;
		}
	}
	return k;
}

static bool day_ok(struct str d)
{
	if (d.len != 10 || d.p[4] != '-' || d.p[7] != '-')
		return false;
	for (size_t i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (d.p[i] < '0' || d.p[i] > '9'))
			return false;
	int m = (d.p[5] - '0') * 10 + (d.p[6] - '0'), dd = (d.p[8] - '0') * 10 + (d.p[9] - '0');
	return m >= 1 && m <= 12 && dd >= 1 && dd <= 31;
}

static bool id_field(struct str f, bool empty_ok)
{
	if (f.len == 0)
		return empty_ok;
	if (f.len > PAY_ID_MAX)
		return false;
	for (size_t i = 0; i < f.len; i++) {
		char c = f.p[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* A decimal integer field, optionally with a leading '-'. */
static bool int_field(struct str f, bool neg_ok, int64_t max, int64_t *out)
{
	if (f.len == 0 || f.len > 20)
		return false;
	bool neg = f.p[0] == '-';
	if (neg && !neg_ok)
		return false;
	size_t i = neg ? 1 : 0;
	if (i == f.len)
		return false;
	int64_t v = 0;
	for (; i < f.len; i++) {
		if (f.p[i] < '0' || f.p[i] > '9')
			return false;
		if (v > (max - (f.p[i] - '0')) / 10)
			return false;
		v = v * 10 + (f.p[i] - '0');
	}
	*out = neg ? -v : v;
	return true;
}

#define SETTLE_HEAD "# govpay settlement 1; date="
#define SETTLE_COLS "type,payment_id,reference,refund_id,amount,time"
#define SETTLE_LINES_MAX 200000

int pay_settlement_parse(struct arena *a, const char *text, size_t len, struct pay_settlement *out, const char **why)
{
	*out = (struct pay_settlement){ 0 };
	*why = "too large";
	if (len > PAY_SETTLEMENT_MAX)
		return GH_ETOOBIG;
	*why = "not UTF-8";
	if (!str_utf8_valid(text, len))
		return GH_EINVAL;
	const char *p = text, *end = text + len, *ls;
	size_t ll;
	*why = "no heading line";
	if (!next_line(&p, end, &ls, &ll) || ll != strlen(SETTLE_HEAD) + 10 || memcmp(ls, SETTLE_HEAD, strlen(SETTLE_HEAD)))
		return GH_EINVAL;
	struct str day = str_n(ls + strlen(SETTLE_HEAD), 10);
	*why = "bad date";
	if (!day_ok(day))
		return GH_EINVAL;
	out->day = arena_strndup(a, day.p, day.len);
	*why = "no column line";
	if (!next_line(&p, end, &ls, &ll) || !str_eq_c(str_n(ls, ll), SETTLE_COLS))
		return GH_EINVAL;
	/* Lines are counted first, so the array is allocated once. */
	size_t cap = 0;
	for (const char *q = p; q < end; q++)
		cap += *q == '\n';
	cap++;
	*why = "too many lines";
	if (cap > SETTLE_LINES_MAX + 2)
		return GH_ETOOBIG;
	out->lines = arena_array(a, cap, sizeof(*out->lines));
	bool trailer = false;
	int64_t sum = 0;
	while (next_line(&p, end, &ls, &ll)) {
		struct str f[7];
		*why = "text after the total";
		if (trailer) {
			if (ll == 0)
				continue; /* a final newline */
			return GH_EINVAL;
		}
		if (ll > 0 && ls[0] == '#') {
			size_t k = split(ls, ll, f, 3);
			int64_t count, total;
			*why = "bad total line";
			if (k != 3 || !str_eq_c(f[0], "# total") || !int_field(f[1], false, SETTLE_LINES_MAX, &count) ||
			    !int_field(f[2], true, PAY_AMOUNT_MAX * (int64_t)SETTLE_LINES_MAX, &total))
				return GH_EINVAL;
			*why = "the total disagrees with the lines";
			if ((size_t)count != out->n || total != sum)
				return GH_EINVAL;
			out->total = total;
			trailer = true;
			continue;
		}
		*why = "wrong number of columns";
		if (split(ls, ll, f, 6) != 6)
			return GH_EINVAL;
		struct pay_settle_line *l = &out->lines[out->n];
		*why = "bad type";
		if (str_eq_c(f[0], "payment"))
			l->refund = false;
		else if (str_eq_c(f[0], "refund"))
			l->refund = true;
		else
			return GH_EINVAL;
		*why = "bad identifier";
		if (!id_field(f[1], false) || !id_field(f[2], false) || !id_field(f[3], !l->refund) ||
		    (!l->refund && f[3].len))
			return GH_EINVAL;
		*why = "bad amount";
		if (!int_field(f[4], true, PAY_AMOUNT_MAX, &l->amount) || l->amount == 0 || (l->amount < 0) != l->refund)
			return GH_EINVAL;
		*why = "bad time";
		if (!int_field(f[5], false, 32503680000LL, &l->at))
			return GH_EINVAL;
		l->payment_id = arena_strndup(a, f[1].p, f[1].len);
		l->reference = arena_strndup(a, f[2].p, f[2].len);
		l->refund_id = arena_strndup(a, f[3].p, f[3].len);
		sum += l->amount;
		out->n++;
	}
	*why = "no total line";
	if (!trailer)
		return GH_EINVAL;
	*why = NULL;
	return 0;
}

void pay_settlement_write(struct sb *out, const char *day, const struct pay_settle_line *lines, size_t n)
{
	int64_t sum = 0;
	sb_addf(out, SETTLE_HEAD "%s\n" SETTLE_COLS "\n", day);
	for (size_t i = 0; i < n; i++) {
		const struct pay_settle_line *l = &lines[i];
		sb_addf(out, "%s,%s,%s,%s,%" PRId64 ",%" PRId64 "\n", l->refund ? "refund" : "payment", l->payment_id,
			l->reference, l->refund_id ? l->refund_id : "", l->amount, l->at);
		sum += l->amount;
	}
	sb_addf(out, "# total,%zu,%" PRId64 "\n", n, sum);
}

void pay_yuan(int64_t fen, char out[32])
{
	uint64_t v = fen < 0 ? (uint64_t)0 - (uint64_t)fen : (uint64_t)fen;
	snprintf(out, 32, "%s%" PRIu64 ".%02u", fen < 0 ? "-" : "", v / 100, (unsigned)(v % 100));
}
