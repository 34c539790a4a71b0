/* gen.c: `govhall bench-scale generate` (see scale.h).
 *
 * The generation runs day by day over the window. A day makes its registrations and its new
 * applications from a random stream seeded by (seed, day); each new application gets its
 * whole plan of steps at once (times, actors, reasons; the steps after the window's end are
 * left out, so the application is still running), its row is written in the state its last
 * planned step leaves it, and its steps wait in a heap until their day. A day's happenings
 * (registrations and steps) are taken in time order: each step goes through case_row_step
 * (the values case_transition stores), its event row, its leaf (ledger_bulk_decision, with
 * the digests of the application's and the event's rows as store/cover.h makes them), its
 * statistics (stats_case_figures) and, for a decided end, its rateable case; each account
 * its row and its "change" leaf. Everything of a day is sent with COPY and committed in one
 * transaction, with the log's head and the progress in catalog_meta.
 *
 * Resuming: ids are counters from bases fixed at the first run, and everything but the
 * cryptography (nonces, salts) comes from the seeded streams, so the days already committed
 * are played again without writing (dry) to rebuild the counters and the waiting steps;
 * forms are sealed again only for the applications whose steps are still to be written. */
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdatomic.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/arena.h"
#include "base/calendar.h"
#include "base/err.h"
#include "base/sb.h"
#include "base/util.h"
#include "base/jsonout.h"
#include "cases/cases.h"
#include "cases/forms.h"
#include "identity/crypto.h"
#include "identity/idcheck.h"
#include "identity/identity.h"
#include "identity/password.h"
#include "ledger/ledger.h"
#include "scale/scale.h"
#include "stats/stats.h"
#include "store/cover.h"
#include "store/db.h"

#define DAY 86400
#define CST 28800                  /* China Standard Time is UTC+8 */
#define META_KEY "bench_scale"
#define STAFF_PER_DEPT 10
#define BENCH_CITIZENS 4
#define INVITE_DAYS 3              /* interact's evaluate-invite-days default */
#define MAX_STEPS 8
/* Index ranges of scale_id_number (injective below 2e8): citizens from 0, staff and the bench
 * accounts above every citizen of a run (at most 1e8). */
#define ID_STAFF 150000000ull
#define ID_BENCH 160000000ull
#define ID_REP 170000000ull /* enterprises' legal representatives (in forms only) */

/* ---- random streams ----------------------------------------------------------------------- */

struct rng {
	uint64_t s;
};

static uint64_t rnd(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t rndn(struct rng *r, uint64_t n)
{
	return n ? rnd(r) % n : 0;
}

static double rnd01(struct rng *r)
{
	return (double)(rnd(r) >> 11) / 9007199254740992.0;
}

/* ---- the catalog --------------------------------------------------------------------------- */

struct item {
	char *code, *department;
	int64_t version;
	json_t *def;
	int limit, legal;
	bool individual, enterprise;
	double weight;
};

struct pick {
	size_t *idx;
	double *cum;
	size_t n;
};

struct dept {
	char *code;
	int64_t staff[STAFF_PER_DEPT + 1];
	size_t nstaff;
};

/* ---- plans ---------------------------------------------------------------------------------- */

struct step {
	int64_t at, actor;
	const char *action, *reason;
};

struct plan {
	struct case_row row;
	const struct item *item;
	char number[24], query_code[9], idem[24];
	char *form; /* stored (sealed) form; NULL in a dry run for an application already written */
	struct step steps[MAX_STEPS];
	int nsteps, next;
};

struct pending {
	int64_t at;
	uint64_t seq;
	struct plan *p;
};

/* ---- statistics of a day --------------------------------------------------------------- */

struct stat {
	int32_t day;
	const char *dept, *item, *channel, *metric;
	int64_t value;
};

enum buf { B_ACCOUNTS, B_APPS, B_EVENTS, B_RATEABLE, B_WARNINGS, B_LEAVES, B_REFS, B_STATS, B_N };

static const char *const copy_sql[B_N] = {
	"COPY accounts (id, kind, name, id_enc, id_index, id_mask, phone_enc, phone_index, phone_mask, legal_rep, "
	"department, staff_roles, password_hash, totp_enabled, key_id, created_at, password_changed_at) FROM STDIN",
	"COPY applications (id, number, query_code, item_code, item_version, department, applicant_id, enterprise_id, "
	"filed_by, channel, state, return_state, form, form_key_id, materials, idempotency_key, submitted_at, "
	"accepted_at, decided_at, completed_at, limit_days, legal_limit_days, accepted_day, paused_since, "
	"paused_workdays, due_day, legal_due_day, yellow_day, version, created_at, updated_at) FROM STDIN",
	"COPY application_events (id, application_id, at, actor_id, action, from_state, to_state, reason, detail) "
	"FROM STDIN",
	"COPY rateable_cases (application_id, number, applicant_id, enterprise_id, department, item_code, channel, "
	"state, closed_at, closed_day, invited_at) FROM STDIN",
	"COPY warnings (application_id, colour, at) FROM STDIN",
	"COPY ledger_leaves (idx, kind, ref, salt, leaf, created_at) FROM STDIN",
	"COPY ledger_refs (idx, tbl, rkey) FROM STDIN",
	"COPY scale_stats (day, department, item_code, channel, metric, value) FROM STDIN",
};

struct params {
	int64_t apps, citizens, enterprises;
	int days, done;
	uint64_t seed;
	int32_t first_day;
	int64_t acc_base, app_base, ev_base;
};

struct gen {
	struct db *db;
	const struct keyring *k;
	const struct calendar *cal;
	struct params p;
	int64_t end;           /* the window's end: midnight (CST) after its last day */
	int32_t resume_day;    /* first day to write */
	struct item *items;
	size_t nitems;
	struct pick ind, ent;  /* items open to individuals / enterprises, by weight */
	struct dept *depts;
	size_t ndepts;
	int64_t *citizen, *enterprise; /* account ids by index */
	int64_t ncitizen, nenterprise;
	int64_t next_acc, next_app, next_ev, day_seq;
	uint64_t heap_seq;
	struct pending *heap;
	size_t nheap, capheap;
	char shared_hash[PASSWORD_HASH_MAX], bench_hash[PASSWORD_HASH_MAX];
	struct sb b[B_N];
	struct stat *stats;
	size_t nstats, capstats;
	struct ledger_bulk *lb;
	struct arena *a;       /* the current day's */
	bool dry;
	const struct cover_info *ci_app, *ci_ev, *ci_acc;
	/* progress */
	int64_t leaves0, w_accounts, w_apps, w_events;
	time_t started;
};

/* ---- COPY's text format ---------------------------------------------------------------- */

static void cp_textn(struct sb *b, const char *s, size_t n)
{
	if (!s) {
		sb_add(b, "\\N", 2);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		switch (c) {
		case '\\': sb_add(b, "\\\\", 2); break;
		case '\t': sb_add(b, "\\t", 2); break;
		case '\n': sb_add(b, "\\n", 2); break;
		case '\r': sb_add(b, "\\r", 2); break;
		default: sb_addch(b, c);
		}
	}
}

static void cp_text(struct sb *b, const char *s)
{
	cp_textn(b, s, s ? strlen(s) : 0);
}

static void cp_int(struct sb *b, int64_t v)
{
	sb_addf(b, "%" PRId64, v);
}

/* 0 is NULL. */
static void cp_intz(struct sb *b, int64_t v)
{
	if (v)
		cp_int(b, v);
	else
		sb_add(b, "\\N", 2);
}

static void cp_bytea(struct sb *b, const unsigned char *p, size_t n)
{
	if (!p) {
		sb_add(b, "\\N", 2);
		return;
	}
	static const char hex[] = "0123456789abcdef";
	sb_add(b, "\\\\x", 3);
	for (size_t i = 0; i < n; i++) {
		sb_addch(b, hex[p[i] >> 4]);
		sb_addch(b, hex[p[i] & 15]);
	}
}

#define TAB(b) sb_addch((b), '\t')
#define EOL(b) sb_addch((b), '\n')

/* ---- covered rows --------------------------------------------------------------------- */

struct colval {
	const char *name;
	const char *v; /* NULL: SQL NULL */
	size_t len;
};

static struct colval cv(const char *name, const char *v)
{
	return (struct colval){ name, v, v ? strlen(v) : 0 };
}

/* The digest of a row given by column name (cover_digest takes them in declaration order). */
static void digest_by_name(struct gen *g, const struct cover_info *ci, const struct colval *vals, size_t n,
			   unsigned char out[COVER_DIGEST_LEN])
{
	const char *cells[COVER_COLS_MAX];
	size_t lens[COVER_COLS_MAX];
	for (size_t i = 0; i < ci->ncols; i++) {
		size_t j = 0;
		while (j < n && strcmp(vals[j].name, ci->cols[i]) != 0)
			j++;
		if (j == n)
			die("bench-scale: no value for %s.%s (the generator does not know a covered column)", ci->table,
			    ci->cols[i]);
		cells[i] = vals[j].v;
		lens[i] = vals[j].len;
	}
	if (cover_digest(ci, g->a, cells, lens, out))
		die("bench-scale: the digest of a %s row failed", ci->table);
}

/* ---- accounts ------------------------------------------------------------------------- */

struct person {
	const char *kind, *name, *ident, *phone, *legal_rep, *department, *staff_roles, *hash;
};

static int64_t emit_account(struct gen *g, const struct person *in, int64_t at)
{
	int64_t id = g->next_acc++;
	if (g->dry)
		return id;
	struct identity_sealed idn, phone;
	if (identity_seal_value(g->k, g->a, "id", in->ident, &idn) ||
	    identity_seal_value(g->k, g->a, "phone", in->phone, &phone))
		die("bench-scale: sealing failed");
	uint32_t key_id = keyring_current_id(g->k);
	struct sb *b = &g->b[B_ACCOUNTS];
	cp_int(b, id), TAB(b), cp_text(b, in->kind), TAB(b), cp_text(b, in->name), TAB(b);
	cp_bytea(b, idn.enc, idn.enc_len), TAB(b), cp_text(b, idn.enc ? idn.index : NULL), TAB(b), cp_text(b, idn.mask), TAB(b);
	cp_bytea(b, phone.enc, phone.enc_len), TAB(b), cp_text(b, phone.enc ? phone.index : NULL), TAB(b);
	cp_text(b, phone.mask), TAB(b), cp_text(b, in->legal_rep), TAB(b), cp_text(b, in->department), TAB(b);
	cp_text(b, in->staff_roles), TAB(b), cp_text(b, in->hash), TAB(b), cp_int(b, 0), TAB(b), cp_int(b, key_id), TAB(b);
	cp_int(b, at), TAB(b), cp_int(b, at), EOL(b);

	char created[24];
	snprintf(created, sizeof(created), "%" PRId64, at);
	struct colval vals[] = {
		cv("kind", in->kind), cv("name", in->name),
		{ "id_enc", (const char *)idn.enc, idn.enc_len }, cv("id_index", idn.enc ? idn.index : NULL),
		cv("id_mask", idn.mask), { "phone_enc", (const char *)phone.enc, phone.enc_len },
		cv("phone_index", phone.enc ? phone.index : NULL), cv("phone_mask", phone.mask),
		{ "email_enc", NULL, 0 }, { "email_mask", NULL, 0 }, cv("legal_rep", in->legal_rep),
		cv("department", in->department), cv("staff_roles", in->staff_roles), cv("status", "active"),
		cv("created_at", created),
	};
	struct cover_entry e = { g->ci_acc, arena_printf(g->a, "%" PRId64, id), true, { 0 } };
	digest_by_name(g, g->ci_acc, vals, ARRAY_LEN(vals), e.digest);
	if (ledger_bulk_change(g->lb, g->a, "account.create", at, &e, 1))
		die("bench-scale: the account's leaf failed");
	g->w_accounts++;
	return id;
}

/* ---- statistics --------------------------------------------------------------------------- */

struct stat_ctx {
	struct gen *g;
	const struct case_change *c;
};

static int add_stat(void *ctx, int32_t day, const char *metric, int64_t value)
{
	struct stat_ctx *s = ctx;
	struct gen *g = s->g;
	if (g->nstats == g->capstats) {
		g->capstats = g->capstats ? g->capstats * 2 : 4096;
		g->stats = xrealloc(g->stats, g->capstats * sizeof(*g->stats));
	}
	g->stats[g->nstats++] = (struct stat){ day, s->c->department, s->c->item_code, s->c->channel, metric, value };
	return 0;
}

static int stat_cmp(const void *x, const void *y)
{
	const struct stat *a = x, *b = y;
	int c;
	if (a->day != b->day)
		return a->day < b->day ? -1 : 1;
	if ((c = strcmp(a->dept, b->dept)) || (c = strcmp(a->item, b->item)) || (c = strcmp(a->channel, b->channel)))
		return c;
	return strcmp(a->metric, b->metric);
}

/* The day's figures merged per key into the COPY buffer of the temporary table. */
static void stats_to_copy(struct gen *g)
{
	qsort(g->stats, g->nstats, sizeof(*g->stats), stat_cmp);
	struct sb *b = &g->b[B_STATS];
	for (size_t i = 0; i < g->nstats;) {
		size_t j = i + 1;
		int64_t v = g->stats[i].value;
		while (j < g->nstats && stat_cmp(&g->stats[i], &g->stats[j]) == 0)
			v += g->stats[j++].value;
		cp_int(b, g->stats[i].day), TAB(b), cp_text(b, g->stats[i].dept), TAB(b), cp_text(b, g->stats[i].item), TAB(b);
		cp_text(b, g->stats[i].channel), TAB(b), cp_text(b, g->stats[i].metric), TAB(b), cp_int(b, v), EOL(b);
		i = j;
	}
	g->nstats = 0;
}

/* ---- the log's sink ------------------------------------------------------------------------- */

static int sink_leaf(void *ctx, int64_t idx, const char *kind, const char *ref, const char *salt,
		     const unsigned char *stored, size_t len, int64_t created_at)
{
	struct sb *b = &((struct gen *)ctx)->b[B_LEAVES];
	cp_int(b, idx), TAB(b), cp_text(b, kind), TAB(b), cp_text(b, ref), TAB(b);
	if (salt) /* the column holds the salt's bytes (bytea's hex input) */
		sb_add(b, "\\\\x", 3), sb_add(b, salt, strlen(salt));
	else
		sb_add(b, "\\N", 2);
	TAB(b);
	cp_bytea(b, stored, len), TAB(b), cp_int(b, created_at), EOL(b);
	return 0;
}

static int sink_ref(void *ctx, int64_t idx, const char *table, const char *key)
{
	struct sb *b = &((struct gen *)ctx)->b[B_REFS];
	cp_int(b, idx), TAB(b), cp_text(b, table), TAB(b), cp_text(b, key), EOL(b);
	return 0;
}

/* ---- the heap of waiting steps ------------------------------------------------------------- */

static bool before(const struct pending *x, const struct pending *y)
{
	return x->at < y->at || (x->at == y->at && x->seq < y->seq);
}

static void heap_push(struct gen *g, struct plan *p)
{
	if (g->nheap == g->capheap) {
		g->capheap = g->capheap ? g->capheap * 2 : 4096;
		g->heap = xrealloc(g->heap, g->capheap * sizeof(*g->heap));
	}
	size_t i = g->nheap++;
	g->heap[i] = (struct pending){ p->steps[p->next].at, g->heap_seq++, p };
	while (i && before(&g->heap[i], &g->heap[(i - 1) / 2])) {
		struct pending t = g->heap[i];
		g->heap[i] = g->heap[(i - 1) / 2];
		g->heap[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
}

static struct plan *heap_pop(struct gen *g)
{
	struct plan *p = g->heap[0].p;
	g->heap[0] = g->heap[--g->nheap];
	for (size_t i = 0;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < g->nheap && before(&g->heap[l], &g->heap[m]))
			m = l;
		if (r < g->nheap && before(&g->heap[r], &g->heap[m]))
			m = r;
		if (m == i)
			break;
		struct pending t = g->heap[i];
		g->heap[i] = g->heap[m];
		g->heap[m] = t;
		i = m;
	}
	return p;
}

/* ---- steps ------------------------------------------------------------------------------ */

static void app_row_copy(struct gen *g, const struct plan *p, const struct case_row *r)
{
	struct sb *b = &g->b[B_APPS];
	cp_int(b, r->id), TAB(b), cp_text(b, r->number), TAB(b), cp_text(b, r->query_code), TAB(b);
	cp_text(b, r->item_code), TAB(b), cp_int(b, r->item_version), TAB(b), cp_text(b, r->department), TAB(b);
	cp_int(b, r->applicant_id), TAB(b), cp_intz(b, r->enterprise_id), TAB(b), cp_intz(b, r->filed_by), TAB(b);
	cp_text(b, r->channel), TAB(b), cp_text(b, r->state), TAB(b), cp_text(b, r->return_state), TAB(b);
	cp_text(b, r->form), TAB(b), cp_int(b, r->form_key_id), TAB(b), cp_text(b, r->materials), TAB(b);
	cp_text(b, p->idem[0] ? p->idem : NULL), TAB(b), cp_intz(b, r->submitted_at), TAB(b), cp_intz(b, r->accepted_at), TAB(b);
	cp_intz(b, r->decided_at), TAB(b), cp_intz(b, r->completed_at), TAB(b), cp_int(b, r->limit_days), TAB(b);
	cp_int(b, r->legal_limit_days), TAB(b), cp_intz(b, r->accepted_day), TAB(b), cp_intz(b, r->paused_since), TAB(b);
	cp_int(b, r->paused_workdays), TAB(b), cp_intz(b, r->due_day), TAB(b), cp_intz(b, r->legal_due_day), TAB(b);
	cp_intz(b, r->yellow_day), TAB(b), cp_int(b, r->version), TAB(b), cp_int(b, r->created_at), TAB(b);
	cp_int(b, r->updated_at), EOL(b);
}

static void emit_step(struct gen *g, struct plan *p)
{
	const struct step *s = &p->steps[p->next++];
	struct case_change ch;
	int rc = case_row_step(g->cal, &p->row, s->action, s->at, calendar_day_of((time_t)s->at), &ch);
	if (rc)
		die("bench-scale: step %s of application %s refused (%s)", s->action, p->number, err_name(rc));
	int64_t ev = g->next_ev++;
	if (g->dry)
		return;
	const char *reason = s->reason ? s->reason : "";
	struct sb *b = &g->b[B_EVENTS];
	cp_int(b, ev), TAB(b), cp_int(b, p->row.id), TAB(b), cp_int(b, s->at), TAB(b), cp_intz(b, s->actor), TAB(b);
	cp_text(b, s->action), TAB(b), cp_text(b, ch.from_state), TAB(b), cp_text(b, ch.to_state), TAB(b);
	cp_text(b, reason), TAB(b), cp_text(b, "{}"), EOL(b);

	/* The leaf commits both rows as the step left them. */
	const char *cells[CASE_COVERED_MAX];
	size_t lens[CASE_COVERED_MAX];
	char nums[CASE_COVERED_MAX][24];
	struct cover_entry rows[2] = {
		{ g->ci_app, arena_printf(g->a, "%" PRId64, p->row.id), true, { 0 } },
		{ g->ci_ev, arena_printf(g->a, "%" PRId64, ev), true, { 0 } },
	};
	size_t n = case_row_cells(&p->row, nums, cells, lens);
	if (n != g->ci_app->ncols || cover_digest(g->ci_app, g->a, cells, lens, rows[0].digest))
		die("bench-scale: the digest of application %s failed", p->number);
	n = case_event_cells(p->row.id, s->at, s->actor, s->action, ch.from_state, ch.to_state, reason, "{}", nums, cells,
			     lens);
	if (n != g->ci_ev->ncols || cover_digest(g->ci_ev, g->a, cells, lens, rows[1].digest))
		die("bench-scale: the digest of an event failed");
	struct ledger_decision d = {
		.event_id = ev, .at = s->at, .applicant_id = p->row.applicant_id, .enterprise_id = p->row.enterprise_id,
		.actor_id = s->actor, .number = p->number, .item_code = p->row.item_code, .department = p->row.department,
		.action = s->action, .from_state = ch.from_state, .to_state = ch.to_state, .reason = reason, .detail = "{}",
	};
	if (ledger_bulk_decision(g->lb, g->a, &d, rows, 2))
		die("bench-scale: the leaf of application %s failed", p->number);
	ch.event_id = ev;
	ch.actor_id = s->actor;
	struct stat_ctx sc = { g, &ch };
	stats_case_figures(&ch, g->cal, false, add_stat, &sc);
	if (ch.terminal && ch.decided) {
		int64_t invited = s->at + INVITE_DAYS * DAY <= g->end ? s->at + INVITE_DAYS * DAY : 0;
		b = &g->b[B_RATEABLE];
		cp_int(b, p->row.id), TAB(b), cp_text(b, p->number), TAB(b), cp_int(b, p->row.applicant_id), TAB(b);
		cp_intz(b, p->row.enterprise_id), TAB(b), cp_text(b, p->row.department), TAB(b);
		cp_text(b, p->row.item_code), TAB(b), cp_text(b, p->row.channel), TAB(b), cp_text(b, p->row.state), TAB(b);
		cp_int(b, s->at), TAB(b), cp_int(b, ch.today), TAB(b), cp_intz(b, invited), EOL(b);
	}
	g->w_events++;
}

/* ---- planning ----------------------------------------------------------------------------- */

static const char *const refuse_reasons[] = { "申请材料不齐全，不符合受理条件。", "申请事项不属于本部门职权范围。" };
static const char *const supplement_reasons[] = { "请补正申请表签字页。", "身份证明材料不清晰，请重新提供。",
						   "缺少户口簿首页复印件。" };
static const char *const deny_reasons[] = { "经审查，申请人不符合法定条件。", "申请事项与法律法规规定不符。" };

static int32_t next_workday(const struct gen *g, int32_t day)
{
	for (int i = 0; i < 40 && !calendar_is_workday(g->cal, day); i++)
		day++;
	return day;
}

static int64_t day_start(int32_t day)
{
	return (int64_t)day * DAY - CST;
}

/* A moment in office hours (09:00-17:30) of the first working day at least k days after t's
 * day, and after t. */
static int64_t work_after(const struct gen *g, struct rng *r, int64_t t, int k)
{
	int32_t day = next_workday(g, calendar_day_of((time_t)t) + k);
	int64_t at = day_start(day) + 9 * 3600 + (int64_t)rndn(r, 8 * 3600 + 1800);
	if (at <= t) {
		/* the same day, later than t, or the next working day */
		int64_t close = day_start(day) + 17 * 3600 + 1800;
		at = t + 60 + (int64_t)rndn(r, 3600);
		if (at > close)
			at = day_start(next_workday(g, day + 1)) + 9 * 3600 + (int64_t)rndn(r, 3600);
	}
	return at;
}

static const struct dept *dept_of(const struct gen *g, const char *code)
{
	for (size_t i = 0; i < g->ndepts; i++)
		if (!strcmp(g->depts[i].code, code))
			return &g->depts[i];
	die("bench-scale: no staff for department %s", code);
}

static int64_t staff_pick(const struct dept *d, struct rng *r)
{
	return d->staff[rndn(r, d->nstaff)];
}

static void add_step(struct plan *p, int64_t at, const char *action, int64_t actor, const char *reason)
{
	if (p->nsteps == MAX_STEPS)
		die("bench-scale: too many steps");
	if (p->nsteps && at <= p->steps[p->nsteps - 1].at)
		at = p->steps[p->nsteps - 1].at + 60;
	p->steps[p->nsteps++] = (struct step){ at, actor, action, reason };
}

/* The whole life of an application submitted at t0: about 2% withdrawn before acceptance, 4%
 * not accepted, the others accepted, reviewed (10% of them after a supplement), decided (93%
 * approved, then completed; 7% denied), 93% within the promised limit. */
static void plan_steps(const struct gen *g, struct rng *r, struct plan *p, int64_t t0)
{
	const struct dept *d = dept_of(g, p->row.department);
	int64_t applicant = p->row.applicant_id;
	add_step(p, t0, "submit", applicant, NULL);
	double u = rnd01(r);
	if (u < 0.02) {
		add_step(p, t0 + 600 + (int64_t)rndn(r, 2 * DAY), "withdraw", applicant, NULL);
		return;
	}
	if (u < 0.06) {
		add_step(p, work_after(g, r, t0, (int)rndn(r, 2)), "refuse", staff_pick(d, r),
			 refuse_reasons[rndn(r, ARRAY_LEN(refuse_reasons))]);
		return;
	}
	int64_t ta = work_after(g, r, t0, (int)rndn(r, 3));
	add_step(p, ta, "accept", staff_pick(d, r), NULL);
	int64_t t = work_after(g, r, ta, (int)rndn(r, 2));
	add_step(p, t, "start_review", staff_pick(d, r), NULL);
	int paused = 0;
	if (rnd01(r) < 0.10) {
		int64_t ts = work_after(g, r, t, (int)rndn(r, 3));
		add_step(p, ts, "request_supplement", staff_pick(d, r),
			 supplement_reasons[rndn(r, ARRAY_LEN(supplement_reasons))]);
		t = ts + 3600 + (int64_t)rndn(r, 6 * DAY);
		add_step(p, t, "resubmit", applicant, NULL);
		paused = calendar_workdays_between(g->cal, calendar_day_of((time_t)ts), calendar_day_of((time_t)t));
		if (paused < 0)
			paused = 0;
	}
	int limit = p->row.limit_days;
	/* decided with a working day or two to spare for the completion, or late */
	int spare = limit > 2 ? 2 : 0;
	int n = rnd01(r) < 0.93 ? (int)rndn(r, (uint64_t)(limit - spare) + 1) : limit + 1 + (int)rndn(r, 10);
	int32_t dd = calendar_add_workdays(g->cal, calendar_day_of((time_t)ta), n + paused);
	int64_t td = day_start(next_workday(g, dd)) + 9 * 3600 + (int64_t)rndn(r, 8 * 3600);
	if (td <= t)
		td = work_after(g, r, t, 0);
	if (rnd01(r) < 0.93) {
		add_step(p, td, "approve", staff_pick(d, r), NULL);
		add_step(p, work_after(g, r, td, (int)rndn(r, (uint64_t)spare)), "complete", staff_pick(d, r), NULL);
	} else {
		add_step(p, td, "deny", staff_pick(d, r), deny_reasons[rndn(r, ARRAY_LEN(deny_reasons))]);
	}
}

/* ---- forms ----------------------------------------------------------------------------------- */

struct who {
	const char *name, *id_number, *phone, *uscc, *company;
};

/* The applicant's input for the item's form, as a web form sends it: every required field and
 * half of the optional ones. Consumes the stream alike whatever the mode. */
static json_t *form_input(struct rng *r, json_t *def, const struct who *w)
{
	json_t *in = json_object();
	size_t i;
	json_t *f;
	json_array_foreach(def, i, f)
	{
		const char *key = json_string_value(json_object_get(f, "key"));
		const char *type = json_string_value(json_object_get(f, "type"));
		bool required = json_is_true(json_object_get(f, "required"));
		uint64_t x = rnd(r);
		if (!key || !type || (!required && (x & 1)))
			continue;
		char buf[96];
		const char *v = buf;
		if (!strcmp(type, "phone"))
			v = w->phone;
		else if (!strcmp(type, "id_number"))
			v = w->id_number;
		else if (!strcmp(type, "uscc"))
			v = w->uscc;
		else if (!strcmp(type, "email"))
			snprintf(buf, sizeof(buf), "u%llu@example.cn", (unsigned long long)(x % 100000000));
		else if (!strcmp(type, "address"))
			snprintf(buf, sizeof(buf), "清河市东城区幸福路%llu号", (unsigned long long)(x % 999 + 1));
		else if (!strcmp(type, "number"))
			snprintf(buf, sizeof(buf), "%llu", (unsigned long long)(x % 500 + 1));
		else if (!strcmp(type, "date"))
			snprintf(buf, sizeof(buf), "20%02llu-%02llu-%02llu", (unsigned long long)(x % 25),
				 (unsigned long long)((x >> 8) % 12 + 1), (unsigned long long)((x >> 16) % 28 + 1));
		else if (!strcmp(type, "select")) {
			json_t *opts = json_object_get(f, "options");
			json_t *o = json_array_get(opts, (size_t)((x >> 8) % (json_array_size(opts) ? json_array_size(opts) : 1)));
			v = json_string_value(json_object_get(o, "value"));
		} else if (!strcmp(type, "textarea"))
			v = "按规定提交申请，请予办理。";
		else if (!strcmp(type, "file"))
			continue;
		else if (strstr(key, "company") || strstr(key, "enterprise") || strstr(key, "org"))
			v = w->company ? w->company : w->name;
		else if (strstr(key, "name"))
			v = w->name;
		else
			v = "清河市申请事项";
		if (v)
			json_object_set_new(in, key, json_string(v));
	}
	return in;
}

/* Validated and sealed as the hall stores it (forms_validate, case_form_seal): malloc'ed. */
static char *form_stored(struct gen *g, const struct item *it, json_t *input, int64_t *key_id)
{
	json_t *values = NULL, *errors = NULL;
	if (forms_validate(it->def, input, NULL, "zh", &values, &errors) || json_object_size(errors)) {
		char *e = errors ? jsonout_dumps(errors, JSON_COMPACT) : NULL;
		die("bench-scale: the generated form of %s is refused: %s", it->code, e ? e : "(malformed definition)");
	}
	json_decref(errors);
	const char *stored;
	if (case_form_seal(g->k, g->a, it->def, values, &stored, key_id))
		die("bench-scale: sealing the form of %s failed", it->code);
	json_decref(values);
	return xstrdup(stored);
}

/* ---- a day -------------------------------------------------------------------------------- */

static size_t pick(const struct pick *pk, struct rng *r)
{
	double x = rnd01(r) * pk->cum[pk->n - 1];
	size_t lo = 0, hi = pk->n - 1;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (pk->cum[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return pk->idx[lo];
}

/* Cumulative share of day i's end in a total spread over the window, workdays weighing 1 and
 * rest days 0.3 (fewer applications at weekends and on holidays). */
static int64_t share(const struct gen *g, int64_t total, int day_index, const double *cumw)
{
	(void)g;
	return (int64_t)llround((double)total * cumw[day_index] / cumw[g->p.days]);
}

/* Citizen c of the run (the index of g->citizen): the bench citizens first, then the generated
 * ones. name: at least 16 bytes. */
static void citizen_identity(int64_t c, char *name, size_t len, char idn[19], char phone[12])
{
	if (c < BENCH_CITIZENS) {
		scale_person_name((uint64_t)c + ID_BENCH, name, len);
		scale_id_number((uint64_t)c + ID_BENCH, idn);
		scale_phone("199", (uint64_t)c + 1, phone);
	} else {
		uint64_t i = (uint64_t)(c - BENCH_CITIZENS);
		scale_person_name(i, name, len);
		scale_id_number(i, idn);
		scale_phone("150", i, phone);
	}
}

static const char *const channels_ind[] = { "web", "web", "web", "app", "app", "app", "miniprogram", "kiosk" };
static const char *const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ2345679"; /* query codes, as store.c */

static void new_application(struct gen *g, struct rng *r, int64_t t0, int32_t day)
{
	bool ent = g->nenterprise > 0 && g->ent.n > 0 && rnd01(r) < 0.10;
	const struct item *it = &g->items[pick(ent ? &g->ent : &g->ind, r)];
	struct plan *p = xcalloc(1, sizeof(*p));
	p->item = it;
	int64_t who_index, applicant;
	if (ent) {
		who_index = (int64_t)rndn(r, (uint64_t)g->nenterprise);
		applicant = g->enterprise[who_index];
	} else {
		who_index = (int64_t)rndn(r, (uint64_t)g->ncitizen);
		applicant = g->citizen[who_index];
	}
	const char *channel = ent ? (rnd(r) & 1 ? "web" : "app") : channels_ind[rndn(r, ARRAY_LEN(channels_ind))];
	p->row = (struct case_row){
		.id = g->next_app++, .item_code = it->code, .department = it->department, .channel = channel,
		.state = "draft", .materials = "[]", .item_version = it->version, .applicant_id = applicant,
		.enterprise_id = ent ? applicant : 0, .limit_days = it->limit, .legal_limit_days = it->legal,
	};
	char date[11];
	calendar_format_day(day, date);
	snprintf(p->number, sizeof(p->number), "QH%.4s%.2s%.2s%06" PRId64, date, date + 5, date + 8, ++g->day_seq);
	for (int i = 0; i < 8; i++)
		p->query_code[i] = alphabet[rndn(r, strlen(alphabet))];
	uint64_t key = rnd(r);
	if (strcmp(channel, "web") && strcmp(channel, "kiosk"))
		snprintf(p->idem, sizeof(p->idem), "k%016" PRIx64, key);
	p->row.number = p->number;
	p->row.query_code = p->query_code;

	/* The applicant's input: who they are is a function of their index. */
	char name[32], idn[19], phone[12], uscc[19], company[96];
	struct who w = { name, idn, phone, uscc, NULL };
	/* a code for an individual's form that asks for one (an employer's, say) */
	scale_uscc((uint64_t)who_index % 99999999ull, uscc);
	if (ent) {
		scale_person_name((uint64_t)who_index ^ 0x77, name, sizeof(name));
		scale_id_number((uint64_t)who_index + ID_REP, idn);
		scale_phone("151", (uint64_t)who_index, phone);
		scale_uscc((uint64_t)who_index, uscc);
		scale_company_name((uint64_t)who_index, company, sizeof(company));
		w.uscc = uscc;
		w.company = company;
	} else {
		citizen_identity(who_index, name, sizeof(name), idn, phone);
	}
	json_t *input = form_input(r, it->def, &w);
	plan_steps(g, r, p, t0);
	/* Steps after the window's end have not happened yet. */
	while (p->nsteps > 0 && p->steps[p->nsteps - 1].at >= g->end)
		p->nsteps--;
	bool to_write = !g->dry || p->steps[p->nsteps - 1].at >= day_start(g->resume_day);
	if (to_write) {
		p->form = form_stored(g, it, input, &p->row.form_key_id);
		p->row.form = p->form;
	}
	json_decref(input);
	if (!g->dry) {
		/* The row as its last step leaves it (the events come on their days). */
		struct case_row fin = p->row;
		for (int i = 0; i < p->nsteps; i++)
			if (case_row_step(g->cal, &fin, p->steps[i].action, p->steps[i].at,
					  calendar_day_of((time_t)p->steps[i].at), NULL))
				die("bench-scale: the plan of %s does not follow the workflow", p->number);
		app_row_copy(g, p, &fin);
		g->w_apps++;
		/* The deadline warnings the duty would have sent to staff of a running application. */
		int32_t today = calendar_day_of((time_t)g->end);
		if (fin.accepted_day && !fin.completed_at && !fin.paused_since) {
			struct sb *b = &g->b[B_WARNINGS];
			if (fin.yellow_day && fin.yellow_day <= today) {
				cp_int(b, fin.id), TAB(b), cp_text(b, "yellow"), TAB(b);
				cp_int(b, day_start(fin.yellow_day) + 8 * 3600), EOL(b);
			}
			if (fin.due_day && fin.due_day < today) {
				cp_int(b, fin.id), TAB(b), cp_text(b, "red"), TAB(b);
				cp_int(b, day_start(fin.due_day + 1) + 8 * 3600), EOL(b);
			}
		}
	}
	heap_push(g, p);
}

static void plan_free(struct plan *p)
{
	free(p->form);
	free(p);
}

/* A happening of the day other than a step: a registration. */
struct reg {
	int64_t at;
	int kind; /* 0 citizen, 1 enterprise */
};

static int reg_cmp(const void *x, const void *y)
{
	const struct reg *a = x, *b = y;
	return a->at < b->at ? -1 : a->at > b->at;
}

static void register_one(struct gen *g, const struct reg *rg)
{
	char name[32], idn[19], phone[12], uscc[19], company[96];
	struct person in = { 0 };
	in.hash = g->shared_hash;
	in.staff_roles = "";
	if (rg->kind == 0) {
		citizen_identity(g->ncitizen, name, sizeof(name), idn, phone);
		in.kind = "individual", in.name = name, in.ident = idn, in.phone = phone;
		g->citizen[g->ncitizen++] = emit_account(g, &in, rg->at);
	} else {
		uint64_t i = (uint64_t)g->nenterprise;
		scale_company_name(i, company, sizeof(company));
		scale_person_name(i ^ 0x77, name, sizeof(name));
		scale_uscc(i, uscc);
		scale_phone("151", i, phone);
		in.kind = "enterprise", in.name = company, in.ident = uscc, in.phone = phone, in.legal_rep = name;
		g->enterprise[g->nenterprise++] = emit_account(g, &in, rg->at);
	}
}

/* Staff of every department and the bench accounts, at the window's first moment. */
static void first_accounts(struct gen *g, int64_t t)
{
	char name[32], idn[19], phone[12];
	uint64_t n = 0;
	for (size_t i = 0; i < g->ndepts; i++) {
		struct dept *d = &g->depts[i];
		for (int k = 0; k < STAFF_PER_DEPT; k++, n++) {
			scale_person_name(n + ID_STAFF, name, sizeof(name));
			scale_id_number(n + ID_STAFF, idn);
			scale_phone("152", n, phone);
			struct person in = { "staff", name, idn, phone, NULL, d->code,
					     k == 0 ? "counter,reviewer,head" : k % 2 ? "counter" : "reviewer", g->shared_hash };
			d->staff[d->nstaff++] = emit_account(g, &in, t + (int64_t)n);
		}
	}
	for (int k = 0; k < BENCH_CITIZENS; k++) {
		citizen_identity(k, name, sizeof(name), idn, phone);
		struct person in = { "individual", name, idn, phone, NULL, NULL, "", g->bench_hash };
		g->citizen[g->ncitizen++] = emit_account(g, &in, t + (int64_t)n + k);
	}
	/* The bench's staff member, in the first department with items. */
	scale_person_name(ID_BENCH + 100, name, sizeof(name));
	scale_id_number(ID_BENCH + 100, idn);
	scale_phone("199", 10000001, phone);
	struct dept *d = &g->depts[0];
	for (size_t i = 0; i < g->ndepts; i++)
		if (!strcmp(g->depts[i].code, "psb"))
			d = &g->depts[i];
	struct person in = { "staff", name, idn, phone, NULL, d->code, "counter,reviewer,head", g->bench_hash };
	d->staff[d->nstaff++] = emit_account(g, &in, t + (int64_t)n + BENCH_CITIZENS);
}

/* The parameters and progress, kept so an interrupted run resumes (in the caller's
 * transaction: a day's progress commits with the day). */
static int meta_store(struct db *db, const struct params *p, bool insert)
{
	DB_SQL(q_put, "INSERT INTO catalog_meta (key, value) VALUES ('" META_KEY "', ?)");
	DB_SQL(q_set, "UPDATE catalog_meta SET value = ? WHERE key = '" META_KEY "'");
	char meta[512];
	snprintf(meta, sizeof(meta),
		 "{\"scale\":%" PRId64 ",\"days\":%d,\"seed\":%" PRIu64 ",\"first_day\":%d,\"acc_base\":%" PRId64
		 ",\"app_base\":%" PRId64 ",\"ev_base\":%" PRId64 ",\"done\":%d}",
		 p->apps, p->days, p->seed, (int)p->first_day, p->acc_base, p->app_base, p->ev_base, p->done);
	return db_exec(db, insert ? &q_put : &q_set, DB_ARGS(DB_TEXT(meta)), NULL);
}

static int flush(struct gen *g, int32_t day)
{
	struct db *db = g->db;
	int rc = 0;
	stats_to_copy(g);
	for (int i = 0; i < B_N && !rc; i++)
		if (g->b[i].len)
			rc = db_copy(db, copy_sql[i], g->b[i].buf, g->b[i].len);
	DB_SQL(q_stats, "INSERT INTO stats_daily (day, department, item_code, channel, metric, value) "
			"SELECT day, department, item_code, channel, metric, value FROM scale_stats "
			"ON CONFLICT (day, department, item_code, channel, metric) "
			"DO UPDATE SET value = stats_daily.value + excluded.value");
	DB_SQL(q_seq, "INSERT INTO application_seq (day, last) VALUES (?, ?) "
		      "ON CONFLICT (day) DO UPDATE SET last = GREATEST(application_seq.last, excluded.last)");
	DB_SQL(q_ids, "SELECT setval(pg_get_serial_sequence('accounts', 'id'), (SELECT MAX(id) FROM accounts)), "
		      "setval(pg_get_serial_sequence('applications', 'id'), GREATEST(1, (SELECT MAX(id) FROM applications))), "
		      "setval(pg_get_serial_sequence('application_events', 'id'), "
		      "GREATEST(1, (SELECT MAX(id) FROM application_events)))");
	if (!rc && g->b[B_STATS].len)
		rc = db_exec(db, &q_stats, DB_NOARGS, NULL);
	if (!rc && g->day_seq)
		rc = db_exec(db, &q_seq, DB_ARGS(DB_INT(day), DB_INT(g->day_seq)), NULL);
	if (!rc)
		rc = ledger_bulk_head(g->lb, db);
	if (!rc) {
		struct db_rows rows;
		rc = db_query(db, g->a, &q_ids, DB_NOARGS, &rows);
	}
	if (!rc) {
		g->p.done++;
		rc = meta_store(g->db, &g->p, false);
	}
	for (int i = 0; i < B_N; i++)
		sb_reset(&g->b[i]);
	return rc;
}

static void progress(struct gen *g, int di, bool last)
{
	static time_t shown;
	time_t now = time(NULL);
	if (!last && now == shown)
		return;
	shown = now;
	double f = (double)(di + 1) / g->p.days;
	int bar = (int)(f * 30);
	double el = difftime(now, g->started);
	double rate = el > 0 ? (double)g->w_apps / el : 0;
	double eta = f > 0 && f < 1 ? el * (1 - f) / f : 0;
	fprintf(stderr, "%sbench-scale: day %d/%d [%.*s%.*s] %5.1f%%  %" PRId64 " accounts  %" PRId64
			" applications  %" PRId64 " steps  %" PRId64 " leaves  %.0f applications/s  ETA %dh%02dm%s",
		isatty(2) ? "\r" : "", di + 1, g->p.days, bar, "##############################", 30 - bar,
		"..............................", 100 * f, g->w_accounts, g->w_apps, g->w_events,
		ledger_bulk_size(g->lb) - g->leaves0, rate, (int)(eta / 3600), (int)((long)eta % 3600) / 60,
		isatty(2) && !last ? "" : "\n");
}

static int run_day(struct gen *g, int di, const double *cumw)
{
	int32_t day = g->p.first_day + di;
	g->dry = day < g->resume_day;
	arena_reset(g->a);
	int rc = 0;
	if (!g->dry && (rc = db_begin(g->db)))
		return rc;
	struct rng r = { g->p.seed * 0x2545f4914f6cdd1dull ^ (uint64_t)(uint32_t)day };
	int64_t t_day = day_start(day);
	if (di == 0)
		first_accounts(g, t_day);
	/* registrations, uniform over the window */
	int64_t nc = g->p.citizens * (di + 1) / g->p.days - g->p.citizens * di / g->p.days;
	int64_t ne = g->p.enterprises * (di + 1) / g->p.days - g->p.enterprises * di / g->p.days;
	struct reg *regs = arena_array(g->a, (size_t)(nc + ne + 1), sizeof(*regs));
	for (int64_t i = 0; i < nc + ne; i++)
		regs[i] = (struct reg){ t_day + 60 + (int64_t)rndn(&r, DAY - 120), i < nc ? 0 : 1 };
	qsort(regs, (size_t)(nc + ne), sizeof(*regs), reg_cmp);
	/* new applications, from those registered before today, 07:00-23:00 */
	int64_t na = share(g, g->p.apps, di + 1, cumw) - share(g, g->p.apps, di, cumw);
	g->day_seq = 0;
	for (int64_t i = 0; i < na; i++)
		new_application(g, &r, t_day + 7 * 3600 + (int64_t)rndn(&r, 16 * 3600), day);
	/* the day's happenings in time order */
	size_t ri = 0;
	int64_t t_end = t_day + DAY;
	while (ri < (size_t)(nc + ne) || (g->nheap && g->heap[0].at < t_end)) {
		if (ri < (size_t)(nc + ne) && (!g->nheap || g->heap[0].at >= t_end || regs[ri].at <= g->heap[0].at)) {
			register_one(g, &regs[ri++]);
			continue;
		}
		struct plan *p = heap_pop(g);
		emit_step(g, p);
		if (p->next < p->nsteps)
			heap_push(g, p);
		else
			plan_free(p);
	}
	if (g->dry)
		return 0;
	if ((rc = flush(g, day)) || (rc = db_commit(g->db))) {
		fprintf(stderr, "\nbench-scale: day %d could not be written: %s\n", di + 1, db_last_error(g->db));
		db_rollback(g->db);
		return rc;
	}
	progress(g, di, di + 1 == g->p.days);
	return 0;
}

/* ---- set-up ----------------------------------------------------------------------------- */

static unsigned long hash_code(const char *s)
{
	unsigned long h = 5381;
	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h;
}

static int load_items(struct gen *g)
{
	DB_SQL(q_items, "SELECT code, version, department, form, promised_limit_days, legal_limit_days, audience "
			"FROM service_items WHERE is_current = 1 AND online_depth >= 3 ORDER BY code");
	struct db_rows rows;
	int rc = db_query(g->db, g->a, &q_items, DB_NOARGS, &rows);
	if (rc)
		return rc;
	if (rows.nrows == 0) {
		fprintf(stderr, "govhall: bench-scale needs the demo catalog (govhall init --demo) first\n");
		return GH_ENOTFOUND;
	}
	g->items = xcalloc(rows.nrows, sizeof(*g->items));
	for (size_t i = 0; i < rows.nrows; i++) {
		struct item *it = &g->items[g->nitems];
		json_t *def = json_loads(db_cell(&rows, i, 3), 0, NULL);
		if (!json_is_array(def))
			continue;
		it->code = xstrdup(db_cell(&rows, i, 0));
		it->version = db_cell_int(&rows, i, 1);
		it->department = xstrdup(db_cell(&rows, i, 2));
		it->def = def;
		it->limit = (int)db_cell_int(&rows, i, 4);
		it->legal = (int)db_cell_int(&rows, i, 5);
		const char *aud = db_cell(&rows, i, 6);
		it->individual = strstr(aud, "individual") != NULL;
		it->enterprise = strstr(aud, "enterprise") != NULL;
		g->nitems++;
	}
	/* Popularity: Zipf over a fixed order of the items (a few items take most applications). */
	size_t *order = xcalloc(g->nitems, sizeof(*order));
	for (size_t i = 0; i < g->nitems; i++)
		order[i] = i;
	for (size_t i = 1; i < g->nitems; i++)
		for (size_t j = i; j > 0 && hash_code(g->items[order[j]].code) < hash_code(g->items[order[j - 1]].code); j--) {
			size_t t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	for (size_t rank = 0; rank < g->nitems; rank++)
		g->items[order[rank]].weight = 1.0 / pow((double)rank + 1, 0.9);
	free(order);
	struct pick *pk[2] = { &g->ind, &g->ent };
	for (int w = 0; w < 2; w++) {
		pk[w]->idx = xcalloc(g->nitems, sizeof(size_t));
		pk[w]->cum = xcalloc(g->nitems, sizeof(double));
		double c = 0;
		for (size_t i = 0; i < g->nitems; i++)
			if (w == 0 ? g->items[i].individual : g->items[i].enterprise) {
				c += g->items[i].weight;
				pk[w]->idx[pk[w]->n] = i;
				pk[w]->cum[pk[w]->n++] = c;
			}
	}
	if (!g->ind.n) {
		fprintf(stderr, "govhall: bench-scale found no item individuals may apply for online\n");
		return GH_ENOTFOUND;
	}
	/* staff for every department that has items */
	g->depts = xcalloc(g->nitems, sizeof(*g->depts));
	for (size_t i = 0; i < g->nitems; i++) {
		size_t j = 0;
		while (j < g->ndepts && strcmp(g->depts[j].code, g->items[i].department))
			j++;
		if (j == g->ndepts)
			g->depts[g->ndepts++].code = g->items[i].department;
	}
	return 0;
}

/* Reads the parameters of an earlier run, or records new ones. */
static int setup_params(struct gen *g, struct params *want)
{
	DB_SQL(q_get, "SELECT value FROM catalog_meta WHERE key = '" META_KEY "'");
	DB_SQL(q_max, "SELECT COALESCE((SELECT MAX(id) FROM accounts), 0), COALESCE((SELECT MAX(id) FROM applications), 0), "
		      "COALESCE((SELECT MAX(id) FROM application_events), 0)");
	struct db_rows rows;
	int rc = db_query(g->db, g->a, &q_get, DB_NOARGS, &rows);
	if (rc)
		return rc;
	if (rows.nrows == 1) {
		json_t *m = json_loads(db_cell(&rows, 0, 0), 0, NULL);
		struct params had = {
			.apps = json_integer_value(json_object_get(m, "scale")),
			.days = (int)json_integer_value(json_object_get(m, "days")),
			.seed = (uint64_t)json_integer_value(json_object_get(m, "seed")),
			.first_day = (int32_t)json_integer_value(json_object_get(m, "first_day")),
			.acc_base = json_integer_value(json_object_get(m, "acc_base")),
			.app_base = json_integer_value(json_object_get(m, "app_base")),
			.ev_base = json_integer_value(json_object_get(m, "ev_base")),
			.done = (int)json_integer_value(json_object_get(m, "done")),
		};
		json_decref(m);
		if (had.apps != want->apps || had.days != want->days || had.seed != want->seed) {
			fprintf(stderr,
				"govhall: this database holds a bench-scale generation of --scale %" PRId64 " --days %d --seed %" PRIu64
				"; resume it with those, or generate into a fresh database\n",
				had.apps, had.days, had.seed);
			return GH_ECONFLICT;
		}
		had.citizens = want->citizens;
		had.enterprises = want->enterprises;
		*want = had;
		return 0;
	}
	if ((rc = db_query(g->db, g->a, &q_max, DB_NOARGS, &rows)))
		return rc;
	want->acc_base = db_cell_int(&rows, 0, 0) + 1;
	want->app_base = db_cell_int(&rows, 0, 1) + 1;
	want->ev_base = db_cell_int(&rows, 0, 2) + 1;
	want->first_day = calendar_day_of(time(NULL)) - want->days;
	want->done = 0;
	return meta_store(g->db, want, true);
}

static int generate(struct app *app, struct db *db, struct params *want)
{
	struct gen g = { .db = db, .k = identity_keyring(), .cal = atomic_load(&app->calendar), .started = time(NULL) };
	if (db_kind(db) != DB_POSTGRES) {
		fprintf(stderr, "govhall: bench-scale generates into PostgreSQL only (--db postgresql://...)\n");
		return 2;
	}
	if (!g.k || !g.cal) {
		fprintf(stderr, "govhall: bench-scale needs the key file and the calendar\n");
		return 1;
	}
	g.a = arena_new(1 << 20);
	g.ci_app = cover_find("applications");
	g.ci_ev = cover_find("application_events");
	g.ci_acc = cover_find("accounts");
	if (!g.ci_app || !g.ci_ev || !g.ci_acc)
		die("bench-scale: the covered tables are not declared");
	int rc = load_items(&g);
	if (!rc)
		rc = setup_params(&g, want);
	if (rc)
		goto out;
	g.p = *want;
	g.end = day_start(g.p.first_day + g.p.days);
	g.resume_day = g.p.first_day + g.p.done;
	g.next_acc = g.p.acc_base;
	g.next_app = g.p.app_base;
	g.next_ev = g.p.ev_base;
	if (g.p.done >= g.p.days) {
		printf("bench-scale: complete (%d days of %" PRId64 " applications); nothing to do\n", g.p.days, g.p.apps);
		goto out;
	}
	/* The identities must pass the hall's own checks. */
	char idn[19], uscc[19], phone[12];
	scale_id_number(123456, idn);
	scale_uscc(123456, uscc);
	scale_phone("150", 123456, phone);
	if (idcheck_id_number(idn, 18) != IDCHECK_OK || idcheck_uscc(uscc, 18) != IDCHECK_OK ||
	    idcheck_phone(phone, 11) != IDCHECK_OK)
		die("bench-scale: a generated identity fails the hall's checks (%s %s %s)", idn, uscc, phone);
	/* One hash for every generated account (of a password nobody knows), a real one for the
	 * bench accounts. */
	char secret[33];
	unsigned char raw[16];
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(secret, sizeof(secret), raw, sizeof(raw));
	if (password_hash(secret, g.shared_hash) || password_hash(SCALE_BENCH_PASSWORD, g.bench_hash))
		die("bench-scale: password hashing failed");
	g.citizen = xcalloc((size_t)g.p.citizens + BENCH_CITIZENS, sizeof(int64_t));
	g.enterprise = xcalloc((size_t)g.p.enterprises + 1, sizeof(int64_t));
	static const struct ledger_bulk_sink sink = { NULL, sink_leaf, sink_ref };
	struct ledger_bulk_sink s = sink;
	s.ctx = &g;
	DB_SQL(q_temp, "CREATE TEMPORARY TABLE IF NOT EXISTS scale_stats (day INTEGER, department TEXT, item_code TEXT, "
		       "channel TEXT, metric TEXT, value BIGINT) ON COMMIT DELETE ROWS");
	if ((rc = db_exec(db, &q_temp, DB_NOARGS, NULL)) || (rc = ledger_bulk_open(db, &s, &g.lb)))
		goto out;
	g.leaves0 = ledger_bulk_size(g.lb);
	double *cumw = xcalloc((size_t)g.p.days + 1, sizeof(double));
	for (int i = 0; i < g.p.days; i++)
		cumw[i + 1] = cumw[i] + (calendar_is_workday(g.cal, g.p.first_day + i) ? 1.0 : 0.3);
	if (g.p.done)
		fprintf(stderr, "bench-scale: resuming at day %d of %d (replaying the days written)\n", g.p.done + 1, g.p.days);
	char first[11];
	calendar_format_day(g.p.first_day, first);
	fprintf(stderr,
		"bench-scale: %" PRId64 " applications, %" PRId64 " citizens, %" PRId64 " enterprises over %d days from %s\n",
		g.p.apps, g.p.citizens, g.p.enterprises, g.p.days, first);
	for (int di = 0; di < g.p.days && !rc; di++)
		rc = run_day(&g, di, cumw);
	free(cumw);
	/* The weeks that have ended summed, as the hall's duty keeps them. */
	if (!rc && !(rc = db_begin(db)) && !(rc = stats_running_clear(db)))
		rc = db_commit(db);
	if (rc)
		db_rollback(db);
	for (bool more = true; !rc && more;) {
		int summed;
		rc = stats_running_sum(db, calendar_day_of(time(NULL)), 52, &summed, &more);
	}
	if (!rc) {
		DB_SQL(q_analyze, "ANALYZE");
		rc = db_exec(db, &q_analyze, DB_NOARGS, NULL);
		printf("bench-scale: generated %" PRId64 " accounts, %" PRId64 " applications, %" PRId64 " steps, %" PRId64
		       " leaves in %.0f s\n",
		       g.w_accounts, g.w_apps, g.w_events, ledger_bulk_size(g.lb) - g.leaves0, difftime(time(NULL), g.started));
	}
	for (size_t i = 0; i < g.nheap; i++)
		plan_free(g.heap[i].p);
out:
	if (g.lb)
		ledger_bulk_free(g.lb);
	for (int i = 0; i < B_N; i++)
		sb_release(&g.b[i]);
	for (size_t i = 0; i < g.nitems; i++) {
		free(g.items[i].code);
		free(g.items[i].department);
		json_decref(g.items[i].def);
	}
	free(g.items);
	free(g.ind.idx), free(g.ind.cum), free(g.ent.idx), free(g.ent.cum);
	free(g.depts);
	free(g.citizen);
	free(g.enterprise);
	free(g.heap);
	free(g.stats);
	arena_free(g.a);
	return rc ? 1 : 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: govhall bench-scale generate --scale N [--days D] [--seed S]\n"
		"       govhall bench-scale accounts\n"
		"  generate: N applications, N citizens and N/100 enterprises over the last D days (730) into a\n"
		"  PostgreSQL database made with `govhall init --demo`; resumes where an interrupted run stopped\n"
		"  accounts: the bench accounts' log-ins (JSON), password " SCALE_BENCH_PASSWORD "\n");
}

static bool number_arg(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v = strtoll(s, &end, 10);
	if (!*s || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

int scale_cli(struct app *app, struct db *db, int nargs, char **args)
{
	if (nargs >= 1 && !strcmp(args[0], "accounts")) {
		char phone[12];
		printf("{\"password\":\"%s\",\"citizens\":[", SCALE_BENCH_PASSWORD);
		for (int k = 0; k < BENCH_CITIZENS; k++) {
			scale_phone("199", (uint64_t)k + 1, phone);
			printf("%s\"%s\"", k ? "," : "", phone);
		}
		scale_phone("199", 10000001, phone);
		printf("],\"staff\":\"%s\",\"staff_department\":\"psb\"}\n", phone);
		return 0;
	}
	if (nargs < 1 || strcmp(args[0], "generate")) {
		usage();
		return 2;
	}
	long long scale = -1, days = 730, seed = 1;
	for (int i = 1; i < nargs; i++) {
		const char *a = args[i], *v = i + 1 < nargs ? args[i + 1] : NULL;
		bool ok = v != NULL;
		if (ok && !strcmp(a, "--scale"))
			ok = number_arg(v, 1, 100000000, &scale);
		else if (ok && !strcmp(a, "--days"))
			ok = number_arg(v, 7, 3650, &days);
		else if (ok && !strcmp(a, "--seed"))
			ok = number_arg(v, 0, INT64_MAX, &seed);
		else
			ok = false;
		if (!ok) {
			fprintf(stderr, "govhall: bench-scale: %s %s is not understood\n", a, v ? v : "(no value)");
			usage();
			return 2;
		}
		i++;
	}
	if (scale < 0) {
		usage();
		return 2;
	}
	struct params p = { .apps = scale, .citizens = scale, .enterprises = scale / 100, .days = (int)days,
			    .seed = (uint64_t)seed };
	return generate(app, db, &p);
}
