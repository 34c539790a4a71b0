/* offers.c: benefits offered without applying (免申即享). A duty goes through the active
 * individual accounts in batches and judges each against every current item version whose rules
 * are proactive (catalog/rules.c), from what the hall holds (identity, the wallet). When every
 * condition is met, it records the offer (rule_offers: one per account, item and rule version)
 * and, only when that row is new, writes one inbox message naming the item and the rule
 * version, in the same transaction. So a citizen is told once per rule version, whichever node
 * or pass gets there first; a new rule version (an import that changes the rules) offers again.
 * A sweep takes OFFERS_BATCH accounts a pass after the last one seen, pass after pass to the
 * end. It runs every offers-sweep seconds (a day: age, a fact of the rules, changes by the day) and at once when the
 * proactive rules change (an import of a new rule version); between sweeps, every
 * offers-period seconds, only the accounts that the facts' news sources name are judged: accounts
 * registered and certificates issued since (catalog_rules_news). One node runs the duty at a
 * time (a PostgreSQL advisory lock), and where it stands is kept in offers_schedule, so the
 * nodes share one schedule and a node that starts goes on from there. (Every node used to
 * sweep every account every ten minutes and at its start: three queries an account, 114 s for
 * a million accounts.) */
#include "notify/offers.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "base/duty.h"
#include "base/err.h"
#include "base/jsonout.h"
#include "base/log.h"
#include "catalog/catalog.h"
#include "http/msg.h"
#include "identity/identity.h"
#include "notify/notify.h"
#include "store/db.h"
#include "view/view.h"

DB_SQL(q_offer, "INSERT INTO rule_offers (account_id, item_code, version, offered_at) VALUES (?, ?, ?, ?) "
		"ON CONFLICT (account_id, item_code, version) DO NOTHING");
DB_SQL(q_names, "SELECT name_zh, name_en FROM service_items WHERE code = ? AND version = ?");

/* Offers item (code, version) to account when it is new: the row, then the message. */
static int offer(const struct app *app, struct db *db, struct arena *a, int64_t account,
		 const struct catalog_rules_item *it, size_t *offered)
{
	int64_t changed = 0;
	int rc = db_exec(db, &q_offer,
			 DB_ARGS(DB_INT(account), DB_TEXT(it->code), DB_INT(it->version), DB_INT((int64_t)time(NULL))),
			 &changed);
	if (rc || !changed)
		return rc;
	struct db_rows rows;
	if ((rc = db_query(db, a, &q_names, DB_ARGS(DB_TEXT(it->code), DB_INT(it->version)), &rows)) || !rows.nrows)
		return rc;
	const char *zh = db_cell(&rows, 0, 0), *en = db_cell(&rows, 0, 1) ? db_cell(&rows, 0, 1) : zh;
	const struct view *v = app ? app->view : NULL;
	rc = notify_inbox_message(db, a, account, 0, "rules_offer",
				  VF(v, "zh", a, "rules_offer_title", MA("item", zh)),
				  VF(v, "en", a, "rules_offer_title", MA("item", en)),
				  VF(v, "zh", a, "rules_offer_body", MA("item", zh), MA("version", (long long)it->version)),
				  VF(v, "en", a, "rules_offer_body", MA("item", en), MA("version", (long long)it->version)));
	if (!rc)
		(*offered)++;
	return rc;
}

/* Judges accounts ids[0..n) against items in one transaction (an account twice: once). */
static int judge(const struct app *app, struct db *db, struct arena *a, const struct catalog_rules_item *items,
		 size_t nitems, const int64_t *ids, size_t nids, size_t *offered)
{
	int rc = db_begin(db);
	for (size_t i = 0; !rc && i < nids; i++) {
		if (i && ids[i] == ids[i - 1])
			continue;
		json_t *facts;
		if ((rc = catalog_rules_facts(db, a, ids[i], 0, &facts)))
			break;
		for (size_t k = 0; !rc && k < nitems; k++)
			if (catalog_rules_eval(items[k].rules, facts, NULL, NULL) == CATALOG_RULE_MET)
				rc = offer(app, db, a, ids[i], &items[k], offered);
	}
	if (!rc)
		rc = db_commit(db);
	if (rc)
		db_rollback(db);
	return rc;
}

int notify_offers_pass(const struct app *app, struct db *db, int64_t *cursor, size_t *offered, bool *more)
{
	struct arena *a = arena_new(64 * 1024);
	struct catalog_rules_item *items;
	size_t nitems, nids = 0;
	int64_t *ids;
	*more = false;
	int rc = catalog_rules_proactive(db, a, &items, &nitems);
	if (!rc && nitems)
		rc = identity_individuals_after(db, a, *cursor, OFFERS_BATCH, &ids, &nids);
	if (rc || !nitems || !nids) {
		*cursor = 0; /* the end: the next sweep starts again from the first account */
		arena_free(a);
		return rc;
	}
	if (!(rc = judge(app, db, a, items, nitems, ids, nids, offered))) {
		*cursor = nids == OFFERS_BATCH ? ids[nids - 1] : 0;
		*more = nids == OFFERS_BATCH;
	}
	arena_free(a);
	return rc;
}

/* A number naming the proactive item versions (FNV-1a over their codes and versions): a new
 * rule version changes it. */
static uint64_t rules_mark(const struct catalog_rules_item *items, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++) {
		char v[24];
		snprintf(v, sizeof(v), "/%ld;", items[i].version);
		for (const char *p = items[i].code; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ULL;
		for (const char *p = v; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	}
	return h;
}

int notify_offers_news(const struct app *app, struct db *db, int64_t *cursors, size_t *offered, bool *more)
{
	const struct catalog_news_source *src;
	size_t nsrc = catalog_rules_news_sources(&src);
	struct arena *a = arena_new(64 * 1024);
	struct catalog_rules_item *items;
	size_t nitems;
	*more = false;
	int rc = catalog_rules_proactive(db, a, &items, &nitems);
	for (size_t i = 0; !rc && i < nsrc && i < OFFERS_NEWS_MAX; i++) {
		int64_t last, *ids = NULL;
		size_t n = 0;
		if (cursors[i] < 0 || !nitems) { /* not begun, or nothing to offer: from the newest on */
			rc = src[i].fn(db, a, -1, 0, &last, &ids, &n);
			if (!rc)
				cursors[i] = last;
			continue;
		}
		if ((rc = src[i].fn(db, a, cursors[i], OFFERS_BATCH, &last, &ids, &n)) || !n)
			continue;
		if (!(rc = judge(app, db, a, items, nitems, ids, n, offered))) {
			cursors[i] = last;
			*more |= n == OFFERS_BATCH;
		}
	}
	arena_free(a);
	return rc;
}

/* ---- the duty ---------------------------------------------------------------------------- */

#define LOCK_KEY 4711020405 /* the duty's lock ("notify" + 5; db_duty_lock) */

static struct duty *duty;
static struct app *duty_app;

/* Where the duty stands (offers_schedule, one row shared by the nodes; read and written under
 * the duty's lock). */
struct schedule {
	bool sweeping;     /* a sweep is under way: cursor is where it stands */
	int64_t cursor;
	int64_t swept_at;  /* when the last sweep began */
	uint64_t mark;     /* the proactive rules it judged (rules_mark) */
	int64_t news[OFFERS_NEWS_MAX]; /* each news source's last entry judged (-1: not read yet) */
};

DB_SQL(q_schedule, "SELECT sweeping, sweep_cursor, swept_at, rules_mark, news FROM offers_schedule WHERE id = 1");
DB_SQL(q_schedule_put, "INSERT INTO offers_schedule (id, sweeping, sweep_cursor, swept_at, rules_mark, news) "
		       "VALUES (1, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET sweeping = excluded.sweeping, "
		       "sweep_cursor = excluded.sweep_cursor, swept_at = excluded.swept_at, "
		       "rules_mark = excluded.rules_mark, news = excluded.news");

/* The news sources' places as stored: a JSON object, each source's name to its number, into
 * cursors (by the sources' order now). A source not named (or a value that is no such object)
 * stays -1: read from its newest entry on, the next sweep judges what came before; a name no
 * longer registered is passed over. */
static void news_parse(const char *text, int64_t *cursors)
{
	const struct catalog_news_source *src;
	size_t nsrc = catalog_rules_news_sources(&src);
	json_t *o = text ? json_loads(text, 0, NULL) : NULL;
	for (size_t i = 0; i < nsrc && i < OFFERS_NEWS_MAX; i++) {
		json_t *v = json_object_get(o, src[i].name); /* NULL unless o is an object naming it */
		if (json_is_integer(v))
			cursors[i] = json_integer_value(v);
	}
	json_decref(o);
}

/* None stored yet: no sweep made, nothing read of the news. */
static int schedule_get(struct db *db, struct arena *a, struct schedule *s)
{
	*s = (struct schedule){ 0 };
	for (size_t i = 0; i < OFFERS_NEWS_MAX; i++)
		s->news[i] = -1;
	struct db_rows rows;
	int rc = db_query(db, a, &q_schedule, DB_NOARGS, &rows);
	if (rc || !rows.nrows)
		return rc;
	s->sweeping = db_cell_int(&rows, 0, 0) != 0;
	s->cursor = db_cell_int(&rows, 0, 1);
	s->swept_at = db_cell_int(&rows, 0, 2);
	s->mark = strtoull(db_cell(&rows, 0, 3), NULL, 16);
	news_parse(db_cell(&rows, 0, 4), s->news);
	return 0;
}

static int schedule_put(struct db *db, const struct schedule *s)
{
	char mark[17];
	snprintf(mark, sizeof(mark), "%016llx", (unsigned long long)s->mark);
	const struct catalog_news_source *src;
	size_t nsrc = catalog_rules_news_sources(&src);
	json_t *o = json_object();
	for (size_t i = 0; i < nsrc && i < OFFERS_NEWS_MAX; i++)
		json_object_set_new(o, src[i].name, json_integer(s->news[i]));
	char *news = jsonout_dumps(o, JSON_COMPACT);
	json_decref(o);
	int rc = news ? db_exec(db, &q_schedule_put,
				DB_ARGS(DB_INT(s->sweeping), DB_INT(s->cursor), DB_INT(s->swept_at), DB_TEXT(mark),
					DB_TEXT(news)),
				NULL)
		      : GH_EINTERNAL;
	free(news);
	return rc;
}

static bool schedule_same(const struct schedule *x, const struct schedule *y)
{
	bool same = x->sweeping == y->sweeping && x->cursor == y->cursor && x->swept_at == y->swept_at && x->mark == y->mark;
	for (size_t i = 0; same && i < OFFERS_NEWS_MAX; i++)
		same = x->news[i] == y->news[i];
	return same;
}

/* A sweep over every active individual every offers-sweep seconds (age is a fact that changes
 * by the day) and at once when the proactive rules change; between sweeps only the accounts
 * the news sources name (accounts registered, certificates issued since). */
static int offers_step(struct db *db, size_t *offered, bool *more)
{
	struct arena *a = arena_new(4096);
	struct catalog_rules_item *items;
	size_t nitems;
	struct schedule st, was;
	int rc = catalog_rules_proactive(db, a, &items, &nitems);
	uint64_t mark = rc ? 0 : rules_mark(items, nitems);
	if (!rc)
		rc = schedule_get(db, a, &st);
	was = st;
	arena_free(a);
	if (rc)
		return rc;
	int64_t now = (int64_t)time(NULL);
	if (!st.sweeping && nitems && (mark != st.mark || now - st.swept_at >= duty_app->cfg.offers_sweep)) {
		log_info("offers: a sweep over every account begins (%s)",
			 mark != st.mark ? "the proactive rules changed" : "its period came");
		st.sweeping = true;
		st.cursor = 0;
		st.mark = mark;
		st.swept_at = now;
		for (size_t i = 0; i < OFFERS_NEWS_MAX; i++)
			st.news[i] = -1; /* what comes after this moment is news; the sweep sees the rest */
		rc = notify_offers_news(duty_app, db, st.news, offered, more);
	} else if (st.sweeping) {
		rc = notify_offers_pass(duty_app, db, &st.cursor, offered, more);
		if (!rc && !*more)
			st.sweeping = false;
	} else {
		rc = notify_offers_news(duty_app, db, st.news, offered, more);
	}
	if (!rc && st.sweeping)
		*more = true; /* the sweep goes on at once */
	if (rc || schedule_same(&st, &was))
		return rc; /* nothing new: nothing written */
	return schedule_put(db, &st);
}

static int offers_pass(void *arg, bool *more)
{
	(void)arg;
	struct db *db = duty_app->duty_db;
	bool run;
	size_t offered = 0;
	*more = false;
	int rc = db_duty_lock(db, LOCK_KEY, &run);
	if (rc || !run)
		return rc;
	rc = offers_step(db, &offered, more);
	int rc2 = db_duty_unlock(db, LOCK_KEY);
	if (offered)
		log_info("offers: %zu benefit%s offered without applying", offered, offered == 1 ? "" : "s");
	return rc ? rc : rc2;
}

int notify_offers_start(struct app *app, char *err, size_t errlen)
{
	if (duty)
		return 0;
	if (!app->duty_db) {
		snprintf(err, errlen, "offers: the duties' database connection is not open");
		return GH_EINTERNAL;
	}
	duty_app = app;
	if (!(duty = duty_start("offers", offers_pass, NULL, (int)app->cfg.offers_period))) {
		duty_app = NULL;
		snprintf(err, errlen, "offers: cannot start the duties thread");
		return GH_EINTERNAL;
	}
	return 0;
}

void notify_offers_stop(void)
{
	duty_stop(duty);
	duty = NULL;
	duty_app = NULL;
}

int notify_offers_cli(struct app *app, struct db *db)
{
	/* A sweep as the duty makes one, recorded in the schedule the nodes share (so they do not
	 * make it again): the news read from this moment on, the rules it judged. */
	struct arena *a = arena_new(4096);
	struct catalog_rules_item *items;
	size_t nitems, offered = 0;
	bool more = true;
	struct schedule st = { .swept_at = (int64_t)time(NULL) };
	for (size_t i = 0; i < OFFERS_NEWS_MAX; i++)
		st.news[i] = -1;
	bool run = false;
	int rc = db_duty_lock(db, LOCK_KEY, &run); /* not beside a node's duty (PostgreSQL) */
	if (!rc && !run) {
		arena_free(a);
		fprintf(stderr, "govhall: offers: a node is running the offers duty on this database now; run this "
				"again when it has finished, or leave the sweep to the nodes (offers-sweep)\n");
		return 1;
	}
	if (!rc)
		rc = catalog_rules_proactive(db, a, &items, &nitems);
	if (!rc) {
		st.mark = rules_mark(items, nitems);
		rc = notify_offers_news(app, db, st.news, &offered, &more); /* the newest entries, judged by nothing */
		more = true;
	}
	arena_free(a);
	int64_t cursor = 0;
	while (!rc && more)
		rc = notify_offers_pass(app, db, &cursor, &offered, &more);
	if (!rc)
		rc = schedule_put(db, &st);
	if (run) {
		int rc2 = db_duty_unlock(db, LOCK_KEY);
		rc = rc ? rc : rc2;
	}
	if (rc) {
		fprintf(stderr, "govhall: offers: %s (%s)\n", err_name(rc), db_last_error(db));
		return 1;
	}
	printf("%zu benefit%s offered without applying\n", offered, offered == 1 ? "" : "s");
	return 0;
}
