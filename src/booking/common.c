/* common.c: what every part of the booking module shares: words from the message catalogs,
 * times of day in China Standard Time, the working-day calendar, sealed names and phones. */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "base/calendar.h"
#include "base/err.h"
#include "base/sb.h"
#include "base/str.h"
#include "base/util.h"
#include "booking/booking_impl.h"
#include "catalog/catalog.h"
#include "http/msg.h"
#include "http/write.h"
#include "identity/crypto.h"
#include "identity/idcheck.h"
#include "identity/identity.h"
#include "view/view.h"

#define CST (8 * 3600)
#define ARGS_MAX 12

struct app *bk_app;

/* ---- words ------------------------------------------------------------------------------ */

/* text with each {name} replaced by its value from the (name, value) pairs of ap, in a: the
 * catalogs' one formatter (msg_format). */
static const char *format(struct arena *a, const char *text, va_list ap)
{
	struct msg_arg args[ARGS_MAX];
	size_t n = 0;
	for (;;) {
		const char *k = va_arg(ap, const char *);
		if (!k)
			break;
		const char *v = va_arg(ap, const char *);
		if (n < ARGS_MAX)
			args[n++] = MA(k, v);
	}
	return msg_format(a, text, args, n);
}

int bk_fail(struct req *r, int code, const char *key)
{
	req_error_detail(r, "%s", M(r, key));
	return code;
}

int bk_failf(struct req *r, int code, const char *key, ...)
{
	va_list ap;
	va_start(ap, key);
	const char *s = format(r->arena, M(r, key), ap);
	va_end(ap);
	req_error_detail(r, "%s", s);
	return code;
}

/* ---- times -------------------------------------------------------------------------------- */

int64_t bk_at(int32_t day, int min)
{
	return (int64_t)day * 86400 + (int64_t)min * 60 - CST;
}

int bk_minute_of(int64_t t, int32_t *day)
{
	int64_t s = t + CST;
	int64_t d = s >= 0 ? s / 86400 : -((-s + 86399) / 86400);
	if (day)
		*day = (int32_t)d;
	return (int)((s - d * 86400) / 60);
}

void bk_hhmm(int min, char out[6])
{
	if (min < 0 || min > 1440)
		min = 0;
	snprintf(out, 6, "%02d:%02d", min / 60, min % 60);
}

int bk_parse_hhmm(const char *s, size_t len, int *min)
{
	if (!s || len != 5 || s[2] != ':')
		return -1;
	for (size_t i = 0; i < 5; i++)
		if (i != 2 && (s[i] < '0' || s[i] > '9'))
			return -1;
	int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
	if (m > 59 || h > 24 || (h == 24 && m != 0))
		return -1;
	*min = h * 60 + m;
	return 0;
}

const char *bk_when(struct arena *a, int64_t t)
{
	if (!t)
		return NULL;
	int32_t day;
	int min = bk_minute_of(t, &day);
	char d[11], hm[6];
	calendar_format_day(day, d);
	bk_hhmm(min, hm);
	return arena_printf(a, "%s %s", d, hm);
}

const char *bk_day_str(struct arena *a, int32_t day)
{
	char d[11];
	calendar_format_day(day, d);
	return arena_strdup(a, d);
}

/* The app's calendar, or one of weekends only (made once, kept for the process). */
static const struct calendar *calendar(void)
{
	static struct calendar *_Atomic weekends;
	const struct calendar *c = bk_app ? atomic_load(&bk_app->calendar) : NULL;
	if (c)
		return c;
	struct calendar *w = atomic_load(&weekends);
	if (!w) {
		struct calendar *mine = calendar_new(NULL, 0, NULL, 0), *expected = NULL;
		if (atomic_compare_exchange_strong(&weekends, &expected, mine))
			w = mine;
		else
			calendar_free(mine), w = expected;
	}
	return w;
}

bool bk_workday(int32_t day)
{
	return calendar_is_workday(calendar(), day);
}

int bk_workdays_between(int32_t from, int32_t to)
{
	return calendar_workdays_between(calendar(), from, to);
}

int32_t bk_add_workdays(int32_t from, int n)
{
	return calendar_add_workdays(calendar(), from, n);
}

/* ---- sealed names and phones ------------------------------------------------------------ */

int bk_seal(struct arena *a, const char *field, const char *plain, const unsigned char **out, size_t *len,
	    int64_t *key_id)
{
	const struct keyring *k = identity_keyring();
	if (!k)
		return GH_EUNAVAILABLE;
	unsigned char *enc;
	int rc = crypto_seal(k, a, field, plain, strlen(plain), &enc, len);
	*out = enc;
	*key_id = keyring_current_id(k);
	return rc;
}

/* The first character of a name, then one '*' for each other (at most three): 张** , J***. */
const char *bk_mask_name(struct arena *a, const char *name)
{
	if (!name || !*name)
		return "*";
	size_t first = 1;
	while (name[first] && ((unsigned char)name[first] & 0xC0) == 0x80)
		first++;
	long rest = (long)str_utf8_chars(name, strlen(name)) - 1;
	if (rest < 1)
		rest = 1;
	if (rest > 3)
		rest = 3;
	return arena_printf(a, "%.*s%.*s", (int)first, name, (int)rest, "***");
}

const char *bk_mask_phone(struct arena *a, const char *phone)
{
	if (!phone || !*phone)
		return NULL;
	size_t n = strlen(phone);
	return idcheck_mask(phone, n, arena_alloc(a, n + 1), n + 1);
}

int64_t bk_param_id(struct req *r)
{
	long v;
	const char *s = req_param(r, "id");
	if (!s || str_to_long(str_c(s), 1, 1L << 53, &v))
		return 0;
	return v;
}

int bk_item(struct req *r, const char *code, struct catalog_service *out)
{
	if (!req_on_loop(r))
		return catalog_service_get(r->db, r->arena, code, 0, out);
	const struct catalog_service_parsed *p;
	int rc = catalog_service_cached(r, code, &p);
	if (!rc)
		*out = p->svc;
	return rc;
}

/* ---- the write path ------------------------------------------------------------------------ */

struct bk_op *bk_op_new(struct req *r, enum bk_op_kind kind, int (*answer)(struct req *r, struct bk_op *op, int rc))
{
	struct bk_op *op = arena_zalloc(r->arena, sizeof(*op));
	op->kind = kind;
	op->answer = answer;
	return op;
}

/* On the writer (w) or, without one, on the loop: the change, its outputs overwritten. */
static int op_run(struct req *w, void *arg)
{
	struct bk_op *op = arg;
	op->kept = 0;
	op->fresh = false;
	int rc = GH_EINTERNAL;
	switch (op->kind) {
	case BK_OP_CONFIRM:
		rc = bk_confirm(w, op->ref, &op->b);
		if (!rc && !strcmp(op->b.state, "lapsed"))
			op->kept = bk_fail(w, GH_ECONFLICT, "booking_err_hold_expired");
		break;
	case BK_OP_CANCEL:
		rc = bk_cancel(w, op->ref, &op->b);
		break;
	case BK_OP_RESCHEDULE:
		rc = bk_reschedule(w, op->ref, op->day, op->start, &op->b);
		break;
	case BK_OP_WALKIN:
		rc = bk_ticket_walkin(w, op->centre, op->item, op->name, &op->t, &op->fresh);
		break;
	case BK_OP_CHECKIN:
		rc = bk_ticket_checkin(w, op->centre, op->ref, &op->t, &op->fresh);
		break;
	case BK_OP_CALL:
		rc = bk_call_next(w, op->centre, op->counter, &op->t);
		break;
	case BK_OP_TICKET:
		rc = bk_ticket_act(w, op->id, op->action, op->counter, &op->t);
		break;
	}
	return rc;
}

/* On r's loop after the COMMIT. */
static int op_done(struct req *r, void *arg, int rc)
{
	struct bk_op *op = arg;
	/* A ticket issued, called or closed: this node's screens at once (others poll). */
	if (!rc && op->kind >= BK_OP_WALKIN)
		bk_display_wake();
	if (!rc)
		rc = op->kept;
	return op->answer(r, op, rc);
}

int bk_op_write(struct req *r, struct bk_op *op)
{
	if (!r->app->group)
		return op_done(r, op, op_run(r, op));
	return req_write(r, op_run, op_done, op);
}
