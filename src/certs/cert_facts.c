/* cert_facts.c: the wallet's facts for decision rules (catalog/rules.c): the types of the valid
 * e-certificates the applicant holds (an enterprise's when acting for one). */
#include <jansson.h>

#include "catalog/catalog.h"
#include "certs/certs.h"
#include "store/db.h"

DB_SQL(q_held, "SELECT DISTINCT cert_type FROM certificates WHERE holder_id = ? AND status = 'valid' ORDER BY cert_type");

static int wallet_facts(struct db *db, struct arena *a, int64_t account, int64_t enterprise, json_t *facts)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_held, DB_ARGS(DB_INT(enterprise ? enterprise : account)), &rows);
	if (rc)
		return rc;
	json_t *held = json_array();
	for (size_t i = 0; i < rows.nrows; i++)
		json_array_append_new(held, json_string(db_cell(&rows, i, 0)));
	json_object_set_new(facts, "ecerts", held);
	return 0;
}

DB_SQL(q_issued_after, "SELECT c.id, c.holder_id FROM certificates c JOIN accounts a ON a.id = c.holder_id "
		       "WHERE c.id > ? AND a.kind = 'individual' AND a.status = 'active' ORDER BY c.id LIMIT ?");
DB_SQL(q_newest, "SELECT COALESCE(MAX(id), 0) FROM certificates");

/* News (catalog_news_fn): the holders of the certificates issued after number after. */
static int wallet_news(struct db *db, struct arena *a, int64_t after, long limit, int64_t *last, int64_t **accounts,
		       size_t *n)
{
	struct db_rows rows;
	*n = 0;
	*last = after;
	int rc = after < 0 ? db_query(db, a, &q_newest, DB_NOARGS, &rows)
			   : db_query(db, a, &q_issued_after, DB_ARGS(DB_INT(after), DB_INT(limit)), &rows);
	if (rc || after < 0) {
		if (!rc)
			*last = db_cell_int(&rows, 0, 0);
		return rc;
	}
	*accounts = arena_array(a, rows.nrows + 1, sizeof(**accounts));
	for (size_t i = 0; i < rows.nrows; i++) {
		(*accounts)[(*n)++] = db_cell_int(&rows, i, 1);
		*last = db_cell_int(&rows, i, 0);
	}
	return 0;
}

void certs_register_facts(void)
{
	catalog_rules_source(wallet_facts);
	catalog_rules_news("wallet", wallet_news);
}
