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

void certs_register_facts(void)
{
	catalog_rules_source(wallet_facts);
}
