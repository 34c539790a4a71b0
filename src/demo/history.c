/* history.c: the demo hall's year of history (see demo.h).
 *
 * First everything is planned from one random stream: people (citizens, and a clerk and a head
 * for each department of data/catalog/history.json), applications with the whole course each
 * will take (acceptance, supplements, special procedures, the decision, completion, a rating
 * and for a bad one its rectification), consultations, complaints and published documents,
 * each step at its moment. Then the steps are played in time order, each as its actor through
 * a request of this command (http/server.h: server_offline_worker) whose write goes through
 * req_write on a direct group (store/group.h), with the clock (base/clock.h) at the step's
 * moment. A step whose moment is after now is not played: what it would have ended stays open.
 * A step that fails (a rule of the hall said no) ends its course; the failures are counted and
 * printed. */
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/arena.h"
#include "base/calendar.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/util.h"
#include "cases/cases.h"
#include "certs/certs.h"
#include "demo/demo.h"
#include "http/http.h"
#include "http/server.h"
#include "identity/identity.h"
#include "interact/interact.h"
#include "ledger/ledger.h"
#include "pay/pay.h"
#include "publish/publish.h"
#include "scale/scale.h"
#include "stats/stats.h"
#include "store/db.h"
#include "store/group.h"
#include "view/view.h"

#define DAY 86400
#define CST 28800             /* China Standard Time is UTC+8 */
#define SEED 0x51494e4748452d31ull /* "QINGHE-1" */
#define APPS_PER_DAY 2.2      /* applications filed on an average day */
#define CITIZENS 48
#define ID_BASE 90000000ull   /* generated people's indexes (scale_id_number) */

/* ---- random ---------------------------------------------------------------------------- */

static uint64_t rng_s = SEED;

static uint64_t rnd(void)
{
	uint64_t z = (rng_s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static unsigned rndn(unsigned n)
{
	return n ? (unsigned)(rnd() % n) : 0;
}

/* true with probability pct/100 */
static bool chance(unsigned pct)
{
	return rndn(100) < pct;
}

/* ---- the plan ---------------------------------------------------------------------------- */

enum actor { A_CITIZEN, A_CLERK, A_HEAD };
enum kind { K_APPLY, K_ACT, K_RATE, K_RECT, K_ASK, K_ANSWER, K_DOC_WRITE, K_DOC_ACT };
enum thread_kind { T_APP, T_CONSULT, T_COMPLAINT, T_DOC };
/* How an application goes: at random, or one of the courses still open today that the demo
 * shows whatever the dice say (waiting for material, a special procedure, overdue, a draft). */
enum shape { SH_RANDOM, SH_ACCEPTED, SH_SUPPLEMENT, SH_SPECIAL, SH_APPROVED, SH_OVERDUE, SH_DRAFT };

struct step {
	int64_t at;
	uint32_t seq, thread;
	uint8_t kind, actor;
	int8_t level;
	const char *action, *text;
};

struct thread {
	uint8_t kind;
	bool dead;
	int citizen, dept, item; /* item: index into items, or -1; for T_CONSULT/T_COMPLAINT: template */
	char *number;            /* applications: once filed */
	int64_t id, version, eval;
};

struct item {
	char *code, *department;
	int dept;
	int limit; /* promised working days */
};

struct dept {
	char *code;
	int64_t clerk, head;
	const char *clerk_name, *head_name;
};

struct citizen {
	int64_t id;
	char name[32], id_number[19], phone[12], uscc[19];
	const char *address;
};

struct hist {
	struct app app;
	struct db *db;
	struct worker *worker;
	struct arena *a;         /* the current step's */
	json_t *words;           /* data/catalog/history.json */
	struct item *items;
	size_t nitems;
	struct dept *depts;
	size_t ndepts;
	struct citizen *citizens;
	size_t ncitizens;
	struct thread *threads;
	size_t nthreads, capthreads;
	struct step *steps;
	size_t nsteps, capsteps;
	int64_t now;
	int64_t first_at, half; /* the history's first moment; half its length (registrations) */
	uint64_t seq;
	/* what happened */
	long applied, acted, rated, bad, rect_steps, asked, answered, documents, failed, later;
	FILE *err;
};

static uint32_t thread_new(struct hist *h, uint8_t kind)
{
	if (h->nthreads == h->capthreads) {
		h->capthreads = h->capthreads ? h->capthreads * 2 : 256;
		h->threads = xrealloc(h->threads, h->capthreads * sizeof(*h->threads));
	}
	h->threads[h->nthreads] = (struct thread){ .kind = kind, .item = -1 };
	return (uint32_t)h->nthreads++;
}

static void step_add(struct hist *h, uint32_t thread, int64_t at, uint8_t kind, uint8_t actor, const char *action,
		     const char *text, int level)
{
	if (h->nsteps == h->capsteps) {
		h->capsteps = h->capsteps ? h->capsteps * 2 : 1024;
		h->steps = xrealloc(h->steps, h->capsteps * sizeof(*h->steps));
	}
	h->steps[h->nsteps] = (struct step){ .at = at, .seq = (uint32_t)h->nsteps, .thread = thread, .kind = kind,
					     .actor = actor, .level = (int8_t)level, .action = action, .text = text };
	h->nsteps++;
}

static int step_cmp(const void *x, const void *y)
{
	const struct step *a = x, *b = y;
	if (a->at != b->at)
		return a->at < b->at ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* A moment of day (CST) between from and to hours. */
static int64_t at_day(int32_t day, int from_h, int to_h)
{
	int64_t sec = (int64_t)from_h * 3600 + rndn((unsigned)(to_h - from_h) * 3600);
	return (int64_t)day * DAY - CST + sec;
}

static int32_t day_of(int64_t t)
{
	return calendar_day_of((time_t)t);
}

/* The n-th working day after t's day, in office hours, never before t. */
static int64_t office(const struct calendar *cal, int64_t t, int n)
{
	int32_t d = calendar_add_workdays(cal, day_of(t), n < 1 ? 1 : n);
	int64_t at = at_day(d, 9, 17);
	return at > t ? at : t + 600;
}

/* Staff's next step the same working day, up to span seconds after t (at least a minute),
 * but not past a quarter to six. */
static int64_t soon(int64_t t, int span)
{
	int64_t end = (int64_t)day_of(t) * DAY - CST + 17 * 3600 + 45 * 60;
	int64_t at = t + 600 + rndn((unsigned)span);
	return at <= end ? at : end > t ? end : t + 60;
}

/* A word of a list in history.json (path: "reasons.refuse"), picked at random. */
static const char *word(struct hist *h, const char *group, const char *key)
{
	json_t *g = json_object_get(h->words, group);
	json_t *list = key ? json_object_get(g, key) : g;
	if (json_is_string(list))
		return json_string_value(list);
	size_t n = json_array_size(list);
	return n ? json_string_value(json_array_get(list, rndn((unsigned)n))) : "";
}

/* How many citizens have registered by t (citizen i registers at registered_at(h, i)). */
static int64_t registered_at(const struct hist *h, size_t i)
{
	return h->first_at + (int64_t)i * (h->half / (int64_t)h->ncitizens);
}

static size_t citizens_by(const struct hist *h, int64_t t)
{
	size_t n = 1;
	while (n < h->ncitizens && registered_at(h, n) <= t)
		n++;
	return n;
}

/* One application's whole course, from filing at t. The demo citizen (citizen 0) files one
 * in fifteen, so that logging in as them shows a history. */
static void plan_application(struct hist *h, int64_t t, enum shape shape)
{
	const struct calendar *cal = h->app.calendar;
	uint32_t th = thread_new(h, T_APP);
	struct thread *T = &h->threads[th];
	bool slow = false;
	T->citizen = chance(7) ? 0 : (int)rndn((unsigned)citizens_by(h, t));
	T->item = (int)rndn((unsigned)h->nitems);
	T->dept = h->items[T->item].dept;
	step_add(h, th, t, K_APPLY, A_CITIZEN, shape == SH_DRAFT ? "save" : NULL, NULL, 0);
	if (shape == SH_DRAFT)
		return;
	int64_t at = office(cal, t, 1);
	if (shape != SH_RANDOM) {
		step_add(h, th, at, K_ACT, A_CLERK, "accept", NULL, 0);
		step_add(h, th, at + 60, K_ACT, A_CLERK, "claim", NULL, 0);
		if (shape == SH_ACCEPTED)
			return; /* its review not begun yet */
		at = office(cal, at, 1);
		step_add(h, th, at, K_ACT, A_CLERK, "start_review", NULL, 0);
		if (shape == SH_APPROVED)
			step_add(h, th, office(cal, at, 1), K_ACT, A_CLERK, "approve", NULL, 0); /* not handed over yet */
		else if (shape == SH_SUPPLEMENT)
			step_add(h, th, office(cal, at, 1), K_ACT, A_CLERK, "request_supplement",
				 word(h, "reasons", "request_supplement"), 0);
		else if (shape == SH_SPECIAL)
			step_add(h, th, office(cal, at, 1), K_ACT, A_HEAD, "start_special", word(h, "reasons", "start_special"),
				 0);
		return; /* SH_OVERDUE: filed long enough ago, never decided */
	}
	at = office(cal, t, 1 + rndn(2));
	if (chance(4)) {
		step_add(h, th, t + 3600 + rndn(DAY), K_ACT, A_CITIZEN, "withdraw", NULL, 0);
		return;
	}
	if (chance(6)) {
		step_add(h, th, at, K_ACT, A_CLERK, "refuse", word(h, "reasons", "refuse"), 0);
		goto rate;
	}
	if (chance(8)) {
		step_add(h, th, at, K_ACT, A_CLERK, "request_supplement", word(h, "reasons", "request_supplement"), 0);
		at += DAY / 3 + rndn(4 * DAY);
		step_add(h, th, at, K_ACT, A_CITIZEN, "resubmit", NULL, 0);
		at = office(cal, at, 1);
	}
	step_add(h, th, at, K_ACT, A_CLERK, "accept", NULL, 0);
	step_add(h, th, at + 60, K_ACT, A_CLERK, "claim", NULL, 0);
	/* Decided within the promised limit, counted from acceptance; a slow case (one in twelve)
	 * past it. Pauses (supplements, special procedures) do not count. */
	int limit = h->items[T->item].limit;
	slow = chance(8);
	int span = slow ? limit + 3 + (int)rndn(15) : limit > 1 ? 1 + (int)rndn((unsigned)limit - 1) : limit;
	int64_t accepted = at;
	at = span > 2 ? office(cal, at, 1) : soon(at, 3 * 3600);
	step_add(h, th, at, K_ACT, A_CLERK, "start_review", NULL, 0);
	int64_t paused = 0;
	if (chance(7)) {
		int64_t asked = soon(at, 2 * 3600);
		step_add(h, th, asked, K_ACT, A_CLERK, "request_supplement", word(h, "reasons", "request_supplement"), 0);
		at = asked + DAY / 2 + rndn(3 * DAY);
		step_add(h, th, at, K_ACT, A_CITIZEN, "resubmit", NULL, 0);
		paused += at - asked;
	}
	if (chance(3)) {
		int64_t from = soon(at, 3600);
		step_add(h, th, from, K_ACT, A_HEAD, "start_special", word(h, "reasons", "start_special"), 0);
		at = office(cal, from, 5 + rndn(10));
		step_add(h, th, at, K_ACT, A_HEAD, "end_special", NULL, 0);
		paused += at - from;
	}
	int64_t decided = span > 0 ? office(cal, accepted + paused, span) : soon(at, 3 * 3600);
	at = decided > at ? decided : soon(at, 3600);
	if (chance(8)) {
		step_add(h, th, at, K_ACT, A_HEAD, "deny", word(h, "reasons", "deny"), 0);
		goto rate;
	}
	step_add(h, th, at, K_ACT, A_CLERK, "approve", NULL, 0);
	/* Completed the next working day; an item promised in a day or at once (即办) the same day. */
	at = limit <= 1 && !slow ? soon(at, 1800) : office(cal, at, 1);
	step_add(h, th, at, K_ACT, A_CLERK, "complete", NULL, 0);
rate:
	if (!chance(65))
		return;
	/* Most are content; bad reviews mostly for slow cases. */
	int level = slow && chance(60) ? 1 + (int)rndn(2) : chance(72) ? 5 : chance(60) ? 4 : chance(55) ? 3 : 1 + (int)rndn(2);
	char key[2] = { (char)('0' + level), 0 };
	at += 3600 + rndn(3 * DAY);
	step_add(h, th, at, K_RATE, A_CITIZEN, NULL, word(h, "comments", key), level);
	if (level > 2)
		return;
	at = office(cal, at, 1 + rndn(2));
	step_add(h, th, at, K_RECT, A_CLERK, "visit", word(h, "rectify", "visit"), 0);
	at = office(cal, at, 1 + rndn(3));
	step_add(h, th, at, K_RECT, A_CLERK, "rectify", word(h, "rectify", "rectify"), 0);
	at = office(cal, at, 1);
	step_add(h, th, at, K_RECT, A_HEAD, "feedback", word(h, "rectify", "feedback"), 0);
	at += 3600 + rndn(2 * DAY);
	/* The rectification's rating: 3 满意, 2 基本满意 (both put right), 1 不满意. */
	step_add(h, th, at, K_RECT, A_CITIZEN, "rate", NULL, chance(70) ? 3 : chance(60) ? 2 : 1);
}

/* A consultation or a complaint (template k of history.json's list), asked at t. */
static void plan_thread(struct hist *h, int64_t t, bool complaint)
{
	json_t *list = json_object_get(h->words, complaint ? "complaints" : "consultations");
	uint32_t th = thread_new(h, complaint ? T_COMPLAINT : T_CONSULT);
	struct thread *T = &h->threads[th];
	T->citizen = (int)rndn((unsigned)h->ncitizens);
	T->item = (int)rndn((unsigned)json_array_size(list));
	step_add(h, th, t, K_ASK, A_CITIZEN, NULL, NULL, 0);
	step_add(h, th, office(h->app.calendar, t, 1 + rndn(3)), K_ANSWER, A_CLERK, NULL, NULL, 0);
}

/* Document k of history.json, written at t, sent for review, published by the head. */
static void plan_document(struct hist *h, int64_t t, size_t k)
{
	uint32_t th = thread_new(h, T_DOC);
	struct thread *T = &h->threads[th];
	T->item = (int)k;
	const char *dept = json_string_value(json_object_get(json_array_get(json_object_get(h->words, "publications"), k),
							     "department"));
	T->dept = -1;
	for (size_t i = 0; dept && i < h->ndepts; i++)
		if (!strcmp(h->depts[i].code, dept))
			T->dept = (int)i;
	if (T->dept < 0)
		return;
	step_add(h, th, t, K_DOC_WRITE, A_CLERK, NULL, NULL, 0);
	step_add(h, th, t + 1800, K_DOC_ACT, A_CLERK, "submit", NULL, 0);
	step_add(h, th, office(h->app.calendar, t, 1), K_DOC_ACT, A_HEAD, "approve", NULL, 0);
}

static void plan(struct hist *h, int days)
{
	int32_t today = day_of(h->now);
	int32_t first = today - days;
	size_t ndocs = json_array_size(json_object_get(h->words, "publications"));
	for (int32_t d = first; d < today; d++) {
		bool work = calendar_is_workday(h->app.calendar, d);
		/* Fewer applications on rest days (online only), more on working days. */
		double mean = work ? APPS_PER_DAY * 1.25 : APPS_PER_DAY * 0.4;
		unsigned n = (unsigned)(mean) + (rndn(100) < (unsigned)((mean - (unsigned)mean) * 100) ? 1 : 0);
		for (unsigned i = 0; i < n; i++)
			plan_application(h, at_day(d, 7, 23), SH_RANDOM);
		if (chance(30))
			plan_thread(h, at_day(d, 8, 22), false);
		if (chance(9))
			plan_thread(h, at_day(d, 8, 22), true);
	}
	/* The documents, spread over the year, one a month or so. */
	for (size_t k = 0; k < ndocs; k++) {
		int32_t d = first + (int32_t)((k * (size_t)days) / (ndocs ? ndocs : 1)) + (int32_t)rndn(7);
		d = calendar_add_workdays(h->app.calendar, d - 1, 1);
		if (d < today)
			plan_document(h, at_day(d, 9, 16), k);
	}
	/* The courses still open today, whatever the dice said and whatever day today is: accepted
	 * and not yet in review, waiting for material, in a special procedure, approved and not yet
	 * handed over, overdue (filed twice the longest promised limit ago, never decided), drafts. */
	int longest = 1;
	for (size_t i = 0; i < h->nitems; i++)
		if (h->items[i].limit > longest)
			longest = h->items[i].limit;
	int32_t last = calendar_add_workdays(h->app.calendar, today - 8, 1);
	for (int i = 0; i < 2; i++)
		plan_application(h, at_day(last - 1 - i, 8, 20), SH_ACCEPTED);
	for (int i = 0; i < 3; i++)
		plan_application(h, at_day(last - 3 - i, 8, 20), SH_SUPPLEMENT);
	for (int i = 0; i < 2; i++)
		plan_application(h, at_day(last - 6 - i, 8, 20), SH_APPROVED);
	for (int i = 0; i < 2; i++)
		plan_application(h, at_day(last - 10 - i, 8, 20), SH_SPECIAL);
	int32_t long_ago = today - 2 * longest * 7 / 5 - 7;
	for (int i = 0; i < 3; i++)
		if (long_ago - i > first)
			plan_application(h, at_day(long_ago - i, 8, 20), SH_OVERDUE);
	for (int i = 0; i < 2; i++)
		plan_application(h, at_day(today - 1 - i, 19, 23), SH_DRAFT);
	/* The applications filed today and before now: the hall is busy this very morning. */
	for (int i = 0; i < 3; i++) {
		int64_t t = h->now - 60 - rndn(6 * 3600);
		if (day_of(t) == today)
			plan_application(h, t, SH_RANDOM);
	}
}

/* ---- people and catalog -------------------------------------------------------------- */

DB_SQL(q_any_application, "SELECT 1 FROM applications LIMIT 1");
DB_SQL(q_items, "SELECT code, department, audience, online_depth, promised_limit_days FROM service_items "
		"WHERE is_current = 1 ORDER BY code");

static int load_items(struct hist *h)
{
	struct db_rows rows;
	int rc = db_query(h->db, h->a, &q_items, NULL, 0, &rows);
	if (rc)
		return rc;
	h->items = xcalloc(rows.nrows ? rows.nrows : 1, sizeof(*h->items));
	for (size_t i = 0; i < rows.nrows; i++) {
		const char *dept = db_cell(&rows, i, 1), *aud = db_cell(&rows, i, 2);
		if (!aud || !strstr(aud, "individual") || db_cell_int(&rows, i, 3) < 3)
			continue;
		for (size_t k = 0; k < h->ndepts; k++)
			if (!strcmp(h->depts[k].code, dept)) {
				h->items[h->nitems++] = (struct item){ xstrdup(db_cell(&rows, i, 0)), xstrdup(dept), (int)k,
								       (int)db_cell_int(&rows, i, 4) };
				break;
			}
	}
	return h->nitems ? 0 : GH_ENOTFOUND;
}

static int make_people(struct hist *h)
{
	json_t *depts = json_object_get(h->words, "departments");
	json_t *staff = json_object_get(h->words, "staff");
	json_t *addrs = json_object_get(h->words, "addresses");
	h->ndepts = json_array_size(depts);
	h->depts = xcalloc(h->ndepts ? h->ndepts : 1, sizeof(*h->depts));
	h->ncitizens = CITIZENS;
	h->citizens = xcalloc(h->ncitizens, sizeof(*h->citizens));
	size_t n = h->ncitizens + 2 * h->ndepts;
	struct identity_demo_person *ps = xcalloc(n, sizeof(*ps));
	char (*names)[32] = xcalloc(2 * h->ndepts, sizeof(*names));
	char (*phones)[12] = xcalloc(2 * h->ndepts, sizeof(*phones));
	for (size_t i = 1; i < h->ncitizens; i++) {
		struct citizen *c = &h->citizens[i];
		scale_person_name(ID_BASE + i, c->name, sizeof(c->name));
		scale_id_number(ID_BASE + i, c->id_number);
		scale_phone("137", ID_BASE + i, c->phone);
		scale_uscc(ID_BASE + i, c->uscc); /* the business some of them run */
		c->address = json_string_value(json_array_get(addrs, i % (json_array_size(addrs) ? json_array_size(addrs) : 1)));
		ps[i] = (struct identity_demo_person){ "individual", c->name, c->id_number, c->phone, NULL, NULL };
	}
	for (size_t k = 0; k < h->ndepts; k++) {
		h->depts[k].code = xstrdup(json_string_value(json_array_get(depts, k)));
		for (int j = 0; j < 2; j++) {
			size_t x = 2 * k + (size_t)j;
			scale_person_name(ID_BASE + 1000 + x, names[x], sizeof(names[x]));
			scale_phone("136", ID_BASE + x, phones[x]);
			ps[h->ncitizens + x] = (struct identity_demo_person){
				"staff", names[x], NULL, phones[x], h->depts[k].code,
				json_string_value(json_object_get(staff, j ? "head" : "clerk")) };
		}
	}
	int64_t *ids = xcalloc(n, sizeof(*ids));
	/* Citizen 0 is the demo citizen, whose log-in is published: their own history. */
	json_t *demo = json_object_get(h->words, "demo_citizen");
	struct citizen *c0 = &h->citizens[0];
	struct identity_person who;
	snprintf(c0->name, sizeof(c0->name), "%s", json_string_value(json_object_get(demo, "name")) ?: "");
	snprintf(c0->id_number, sizeof(c0->id_number), "%s", json_string_value(json_object_get(demo, "id_number")) ?: "");
	snprintf(c0->phone, sizeof(c0->phone), "%s", json_string_value(json_object_get(demo, "phone")) ?: "");
	scale_uscc(ID_BASE, c0->uscc);
	c0->address = json_string_value(json_array_get(addrs, 0));
	int rc = identity_find_individual(&h->app, h->db, h->a, c0->id_number, &who);
	c0->id = who.id;
	/* The staff were there when the year began; the citizens register over its first half. */
	clock_set(h->first_at - DAY);
	if (!rc)
		rc = identity_demo_people(&h->app, h->db, ps + h->ncitizens, n - h->ncitizens, ids + h->ncitizens);
	for (size_t i = 1; !rc && i < h->ncitizens; i++) {
		clock_set(registered_at(h, i) + (int64_t)rndn(8 * 3600));
		rc = identity_demo_people(&h->app, h->db, ps + i, 1, ids + i);
	}
	clock_set(0);
	for (size_t i = 1; !rc && i < h->ncitizens; i++)
		h->citizens[i].id = ids[i];
	for (size_t k = 0; !rc && k < h->ndepts; k++) {
		h->depts[k].clerk = ids[h->ncitizens + 2 * k];
		h->depts[k].head = ids[h->ncitizens + 2 * k + 1];
		h->depts[k].clerk_name = xstrdup(names[2 * k]);
		h->depts[k].head_name = xstrdup(names[2 * k + 1]);
	}
	free(ids);
	free(ps);
	free(names);
	free(phones);
	return rc;
}

/* ---- playing ------------------------------------------------------------------------------ */

/* A request of actor for thread T (its citizen or its department's staff). */
static void request_as(struct hist *h, struct req *r, const struct thread *T, uint8_t actor)
{
	*r = (struct req){ .arena = h->a, .app = &h->app, .db = h->db, .worker = h->worker, .method = HTTP_POST,
			   .path = "/", .lang = "zh", .api = true, .ip = "127.0.0.1", .seq = ++h->seq };
	if (actor == A_CITIZEN) {
		const struct citizen *c = &h->citizens[T->citizen];
		r->role = ROLE_CITIZEN;
		r->who = (struct caller){ .account = c->id, .kind = "individual", .name = c->name, .scopes = SCOPE_ALL };
	} else {
		const struct dept *d = &h->depts[T->dept];
		bool head = actor == A_HEAD;
		r->role = ROLE_STAFF;
		r->who = (struct caller){ .account = head ? d->head : d->clerk, .kind = "staff",
					  .name = head ? d->head_name : d->clerk_name, .department = d->code,
					  .staff_roles = head ? STAFF_COUNTER | STAFF_REVIEWER | STAFF_HEAD
							      : STAFF_COUNTER | STAFF_REVIEWER,
					  .scopes = SCOPE_ALL };
	}
}

/* The consultation or complaint of history.json a thread plays. */
static json_t *asked_template(const struct hist *h, const struct thread *T)
{
	return json_array_get(json_object_get(h->words, T->kind == T_COMPLAINT ? "complaints" : "consultations"),
			      (size_t)T->item);
}

static int play(struct hist *h, const struct step *s)
{
	struct thread *T = &h->threads[s->thread];
	struct req r;
	request_as(h, &r, T, s->actor);
	int rc = 0;
	const char *state = NULL;
	switch (s->kind) {
	case K_APPLY: {
		const struct citizen *c = &h->citizens[T->citizen];
		char date[11];
		calendar_format_day(day_of(h->now) - 30 - (int32_t)(T->citizen * 7), date);
		struct cases_demo_person p = { .name = c->name, .id_number = c->id_number, .phone = c->phone,
					       .address = c->address, .date = date, .uscc = c->uscc,
					       .note = json_string_value(json_object_get(h->words, "form_note")),
					       .text = json_string_value(json_object_get(h->words, "form_text")) };
		const char *number = NULL;
		bool draft = s->action && !strcmp(s->action, "save");
		rc = cases_demo_apply(&r, h->items[T->item].code, s->seq % 4 == 0 ? "app" : "web", &p, !draft, s->seq,
				      &T->id, &number, &state);
		if (!rc && number)
			T->number = xstrdup(number);
		else if (!rc && !draft)
			rc = GH_EINTERNAL;
		h->applied += !rc;
		break;
	}
	case K_ACT:
		rc = cases_demo_act(&r, T->number, s->action, s->text, &state);
		h->acted += !rc;
		break;
	case K_RATE:
		rc = interact_demo_rate(&r, T->number, s->level,
					json_string_value(json_object_get(json_object_get(h->words, s->level <= 2 ? "bad_tags" : "good_tags"),
									  (char[]){ (char)('0' + s->level), 0 })),
					s->text, &T->eval);
		h->rated += !rc;
		h->bad += !rc && s->level <= 2;
		break;
	case K_RECT:
		rc = interact_demo_rect_step(&r, T->eval, s->action, s->text, s->level);
		h->rect_steps += !rc;
		break;
	case K_ASK: {
		json_t *t = asked_template(h, T);
		const char *code = json_string_value(json_object_get(t, "item"));
		T->dept = -1;
		for (size_t i = 0; i < h->nitems && T->dept < 0; i++)
			if (!strcmp(h->items[i].code, code))
				T->dept = h->items[i].dept;
		if (T->dept < 0)
			return GH_ENOTFOUND;
		rc = interact_demo_ask(&r, T->kind == T_COMPLAINT, code, json_string_value(json_object_get(t, "subject")),
				       json_string_value(json_object_get(t, "text")), &T->id);
		h->asked += !rc;
		break;
	}
	case K_ANSWER: {
		json_t *t = asked_template(h, T);
		/* The first answer to each question is published as the item's FAQ entry. */
		const char *faq = json_string_value(json_object_get(t, "faq"));
		if (faq && json_is_true(json_object_get(t, "_published")))
			faq = NULL;
		rc = interact_demo_answer(&r, T->kind == T_COMPLAINT, T->id, json_string_value(json_object_get(t, "answer")),
					  faq);
		if (!rc && faq)
			json_object_set_new(t, "_published", json_true());
		h->answered += !rc;
		break;
	}
	case K_DOC_WRITE: {
		json_t *d = json_array_get(json_object_get(h->words, "publications"), (size_t)T->item);
#define S(k) json_string_value(json_object_get(d, k))
		rc = publish_demo_write(&r, S("category"), S("title_zh"), S("title_en"), S("body_zh"), S("body_en"), &T->id,
					&T->version);
#undef S
		break;
	}
	case K_DOC_ACT:
		rc = publish_demo_act(&r, T->id, T->version, s->action, &T->version);
		h->documents += !rc && !strcmp(s->action, "approve");
		break;
	}
	/* A fee fell due (a hall that takes payments, src/pay): the applicant has not paid yet. */
	if (!rc && state && !strcmp(state, "awaiting_payment"))
		T->dead = true;
	if (rc) {
		h->failed++;
		fprintf(h->err, "govhall: history: %s %s of %s on %" PRId64 " failed: %s%s%s\n",
			s->kind == K_APPLY ? "applying for" : "step", s->action ? s->action : "", T->number ? T->number : "-",
			s->at, err_name(rc), r.error_detail ? ": " : "", r.error_detail ? r.error_detail : "");
	}
	return rc;
}

/* ---- the whole ------------------------------------------------------------------------------ */

static int setup(struct hist *h, const struct config *cfg, char *err, size_t errlen)
{
	h->app = (struct app){ .cfg = *cfg, .started = time(NULL) };
	char i18n[4096];
	snprintf(i18n, sizeof(i18n), "%s/i18n", cfg->data_dir);
	if (view_load_messages(i18n, &h->app.view, err, errlen) || identity_init(&h->app, err, errlen) ||
	    cases_init(&h->app, err, errlen) || ledger_init(&h->app, err, errlen) || stats_init(&h->app) ||
	    interact_init(&h->app, err, errlen) || pay_init(&h->app, err, errlen))
		return GH_EINTERNAL;
	certs_init(&h->app);
	if (!(h->app.group = group_new_direct(cfg->db, true, err, errlen)))
		return GH_EUNAVAILABLE;
	h->worker = server_offline_worker(&h->app, h->db);
	return 0;
}

static void teardown(struct hist *h, bool set_up)
{
	if (!set_up) {
		json_decref(h->words);
		arena_free(h->a);
		return;
	}
	server_offline_worker_free(h->worker);
	group_free(h->app.group);
	h->app.group = NULL;
	ledger_release(&h->app);
	cases_release(&h->app);
	identity_release(&h->app);
	view_free(h->app.view);
	for (size_t i = 0; i < h->nitems; i++) {
		free(h->items[i].code);
		free(h->items[i].department);
	}
	for (size_t i = 0; i < h->ndepts; i++) {
		free(h->depts[i].code);
		free((char *)h->depts[i].clerk_name);
		free((char *)h->depts[i].head_name);
	}
	for (size_t i = 0; i < h->nthreads; i++)
		free(h->threads[i].number);
	free(h->items);
	free(h->depts);
	free(h->citizens);
	free(h->threads);
	free(h->steps);
	json_decref(h->words);
	arena_free(h->a);
}

int demo_history(const struct config *cfg, struct db *db, int days, FILE *out, FILE *errf)
{
	if (days <= 0)
		return 0;
	struct hist h = { .db = db, .err = errf, .a = arena_new(1 << 16), .now = clock_now() };
	h.first_at = (int64_t)(day_of(h.now) - days) * DAY - CST + 9 * 3600;
	h.half = (int64_t)days * DAY / 2;
	char err[5120] = "";
	rng_s = SEED;
	struct db_rows rows;
	int rc = db_query(db, h.a, &q_any_application, NULL, 0, &rows);
	if (!rc && rows.nrows) {
		fprintf(out, "history: the hall holds applications already; none added\n");
		arena_free(h.a);
		return 0;
	}
	char path[4096];
	snprintf(path, sizeof(path), "%s/catalog/history.json", cfg->data_dir);
	json_error_t jerr;
	if (!rc && !(h.words = json_load_file(path, 0, &jerr))) {
		snprintf(err, sizeof(err), "%s: %s (line %d)", path, jerr.text, jerr.line);
		rc = GH_EINVAL;
	}
	bool set_up = false;
	if (!rc && (rc = setup(&h, cfg, err, sizeof(err))) == 0 && (set_up = true) && (rc = make_people(&h)) == 0 &&
	    (rc = load_items(&h)) == 0) {
		/* The people registered the year began; they act from then on. */
		plan(&h, days);
		/* The certificates issued and such are a year of a hall's log lines: not init's. */
		log_set_level("warn");
		qsort(h.steps, h.nsteps, sizeof(*h.steps), step_cmp);
		for (size_t i = 0; i < h.nsteps; i++) {
			const struct step *s = &h.steps[i];
			if (s->at > h.now) {
				h.later++;
				continue;
			}
			if (h.threads[s->thread].dead)
				continue;
			clock_set(s->at);
			arena_reset(h.a);
			if (play(&h, s))
				h.threads[s->thread].dead = true;
		}
		clock_set(0);
		/* Registrations were counted on the days they were made: weeks summed before (a
		 * hall served from this database already) are summed again by its duty. */
		if ((rc = db_begin(h.db)) || (rc = stats_running_clear(h.db)) || (rc = db_commit(h.db))) {
			db_rollback(h.db);
			fprintf(errf, "govhall: history: the statistics' summed weeks could not be cleared: %s\n",
				db_last_error(h.db));
		}
		log_set_level(cfg->log_level);
		fprintf(out,
			"history: %d days: %ld applications, %ld steps taken by people, %ld ratings (%ld bad, %ld "
			"rectification steps), %ld consultations and complaints (%ld answered), %ld documents "
			"published; %ld steps still to come%s\n",
			days, h.applied, h.acted, h.rated, h.bad, h.rect_steps, h.asked, h.answered, h.documents, h.later,
			h.failed ? "" : "");
		if (h.failed) {
			fprintf(errf, "govhall: history: %ld steps were refused (above)\n", h.failed);
			rc = GH_EINTERNAL;
		}
	} else if (rc) {
		fprintf(errf, "govhall: history: %s%s\n", err[0] ? err : err_name(rc),
			err[0] ? "" : (rc == GH_ECONFLICT ? " (its people are there already)" : ""));
	}
	clock_set(0);
	teardown(&h, set_up);
	return rc;
}
