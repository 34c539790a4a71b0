/* offers.c: benefits offered without applying (免申即享). A duty goes through the active
 * individual accounts in batches and judges each against every current item version whose rules
 * are proactive (catalog/rules.c), from what the hall holds (identity, the wallet). When every
 * condition is met, it records the offer (rule_offers: one per account, item and rule version)
 * and, only when that row is new, writes one inbox message naming the item and the rule
 * version, in the same transaction. So a citizen is told once per rule version, whichever node
 * or pass gets there first; a new rule version (an import that changes the rules) offers again.
 * A pass takes OFFERS_BATCH accounts after the last one seen; when it reaches the end the next
 * sweep starts from the beginning a period later. */
#include "notify/offers.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/duty.h"
#include "base/err.h"
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
	if ((rc = db_begin(db))) {
		arena_free(a);
		return rc;
	}
	for (size_t i = 0; !rc && i < nids; i++) {
		json_t *facts;
		if ((rc = catalog_rules_facts(db, a, ids[i], 0, &facts)))
			break;
		for (size_t k = 0; !rc && k < nitems; k++)
			if (catalog_rules_eval(items[k].rules, facts, NULL, NULL) == CATALOG_RULE_MET)
				rc = offer(app, db, a, ids[i], &items[k], offered);
	}
	if (!rc)
		rc = db_commit(db);
	if (rc) {
		db_rollback(db);
	} else {
		*cursor = nids == OFFERS_BATCH ? ids[nids - 1] : 0;
		*more = nids == OFFERS_BATCH;
	}
	arena_free(a);
	return rc;
}

/* ---- the duty ---------------------------------------------------------------------------- */

static struct duty *duty;
static struct app *duty_app;
static int64_t duty_cursor;

static int offers_pass(void *arg, bool *more)
{
	(void)arg;
	size_t offered = 0;
	int rc = notify_offers_pass(duty_app, duty_app->duty_db, &duty_cursor, &offered, more);
	if (offered)
		log_info("offers: %zu benefit%s offered without applying", offered, offered == 1 ? "" : "s");
	return rc;
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
	duty_cursor = 0;
	if (!(duty = duty_start("offers", offers_pass, NULL, OFFERS_PERIOD_S))) {
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
	int64_t cursor = 0;
	size_t offered = 0;
	bool more = true;
	int rc = 0;
	while (!rc && more)
		rc = notify_offers_pass(app, db, &cursor, &offered, &more);
	if (rc) {
		fprintf(stderr, "govhall: offers: %s (%s)\n", err_name(rc), db_last_error(db));
		return 1;
	}
	printf("%zu benefit%s offered without applying\n", offered, offered == 1 ? "" : "s");
	return 0;
}
