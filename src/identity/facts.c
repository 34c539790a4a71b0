/* facts.c: what the hall's accounts say about a person, for decision rules (catalog/rules.c):
 * the kind of applicant, and from the resident ID number (GB 11643) the age on today's date in
 * China and the administrative division code it was issued under. Nothing personal leaves
 * this file but those facts. */
#include "identity/identity.h"
#include "identity/identity_impl.h"

#include <string.h>
#include <time.h>

#include <jansson.h>

#include "base/err.h"
#include "store/db.h"

DB_SQL(q_kind, "SELECT kind FROM accounts WHERE id = ?");

/* Whole years from the birth date in digits 7-14 of id to today (China Standard Time), or -1
 * when those digits are not a date. */
static long age_of(const char *id, time_t now)
{
	int y = 0, m = 0, d = 0;
	for (int i = 6; i < 14; i++) {
		if (id[i] < '0' || id[i] > '9')
			return -1;
		int c = id[i] - '0';
		if (i < 10)
			y = y * 10 + c;
		else if (i < 12)
			m = m * 10 + c;
		else
			d = d * 10 + c;
	}
	if (m < 1 || m > 12 || d < 1 || d > 31)
		return -1;
	time_t t = now + 8 * 3600;
	struct tm tm;
	gmtime_r(&t, &tm);
	int ty = tm.tm_year + 1900, tmon = tm.tm_mon + 1;
	long age = ty - y - ((tmon < m || (tmon == m && tm.tm_mday < d)) ? 1 : 0);
	return age >= 0 && age <= 200 ? age : -1;
}

int identity_account_facts(struct db *db, struct arena *a, int64_t account, int64_t enterprise, json_t *facts)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_kind, DB_ARGS(DB_INT(enterprise ? enterprise : account)), &rows);
	if (rc)
		return rc;
	if (!rows.nrows)
		return 0;
	const char *kind = db_cell(&rows, 0, 0);
	if (enterprise || (kind && !strcmp(kind, "enterprise"))) {
		json_object_set_new(facts, "applicant_kind", json_string("enterprise"));
		return 0;
	}
	if (!kind || strcmp(kind, "individual") != 0)
		return 0;
	json_object_set_new(facts, "applicant_kind", json_string("individual"));
	const struct keyring *k = identity_keyring();
	char *ident = NULL, *phone = NULL;
	if (!k || account_plain_ids(db, k, a, account, &ident, &phone) || !ident || strlen(ident) != 18)
		return 0; /* not held: age and division stay unknown */
	long age = age_of(ident, time(NULL));
	if (age >= 0)
		json_object_set_new(facts, "age", json_integer(age));
	json_object_set_new(facts, "division", json_stringn(ident, 6));
	return 0;
}

DB_SQL(q_individuals, "SELECT id FROM accounts WHERE kind = 'individual' AND status = 'active' AND id > ? ORDER BY id LIMIT ?");

int identity_individuals_after(struct db *db, struct arena *a, int64_t after, long limit, int64_t **ids, size_t *n)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_individuals, DB_ARGS(DB_INT(after), DB_INT(limit)), &rows);
	if (rc)
		return rc;
	*ids = arena_array(a, rows.nrows ? rows.nrows : 1, sizeof(**ids));
	for (size_t i = 0; i < rows.nrows; i++)
		(*ids)[i] = db_cell_int(&rows, i, 0);
	*n = rows.nrows;
	return 0;
}

DB_SQL(q_newest_account, "SELECT COALESCE(MAX(id), 0) FROM accounts");

int identity_individuals_news(struct db *db, struct arena *a, int64_t after, long limit, int64_t *last, int64_t **ids,
			      size_t *n)
{
	*n = 0;
	*last = after;
	if (after < 0) {
		struct db_rows rows;
		int rc = db_query(db, a, &q_newest_account, DB_NOARGS, &rows);
		if (!rc)
			*last = db_cell_int(&rows, 0, 0);
		return rc;
	}
	int rc = identity_individuals_after(db, a, after, limit, ids, n);
	if (!rc && *n)
		*last = (*ids)[*n - 1];
	return rc;
}
