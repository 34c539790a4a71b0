/* synonyms.c: synonyms and colloquial phrases edited by administrators (table
 * search_synonyms), on top of the shipped data/search/synonyms.txt. */
#include <string.h>

#include "base/err.h"
#include "base/util.h"
#include "search/search_impl.h"
#include "store/db.h"

DB_SQL(q_rules, "SELECT phrases, terms FROM search_synonyms ORDER BY id");

int search_rules_load(struct db *db, struct arena *a, struct lex **out)
{
	struct db_rows rows;
	*out = NULL;
	int rc = db_query(db, a, &q_rules, DB_NOARGS, &rows);
	if (rc)
		return rc;
	if (!rows.nrows)
		return 0;
	struct sb text = SB_INIT;
	for (size_t i = 0; i < rows.nrows; i++)
		sb_addf(&text, "%s => %s\n", db_cell(&rows, i, 0), db_cell(&rows, i, 1));
	*out = lex_rules_new(text.buf);
	sb_release(&text);
	return 0;
}
