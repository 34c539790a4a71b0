/* personal.c: the registry of personal parts (personal.h). */
#include "store/personal.h"

#include <string.h>

#include "base/err.h"
#include "base/util.h"
#include "store/db.h"

static const struct personal_part *parts[PERSONAL_PARTS_MAX];
static size_t nparts;

void personal_declare(const struct personal_part *p)
{
	if (!p || !p->name || !*p->name || strspn(p->name, "abcdefghijklmnopqrstuvwxyz_") != strlen(p->name) ||
	    !p->query)
		die("personal: a part without a name of [a-z_] or a query");
	if (!p->kept && !p->erase_sql[0] && !p->erase)
		die("personal: part %s is erased but says not how", p->name);
	for (size_t i = 0; i < nparts; i++)
		if (strcmp(parts[i]->name, p->name) == 0) {
			if (parts[i] == p)
				return; /* declared again by a second start of the same module */
			die("personal: part %s declared twice", p->name);
		}
	if (nparts == PERSONAL_PARTS_MAX)
		die("personal: more than %d parts", PERSONAL_PARTS_MAX);
	parts[nparts++] = p;
}

size_t personal_count(void)
{
	return nparts;
}

const struct personal_part *personal_at(size_t i)
{
	return i < nparts ? parts[i] : NULL;
}

/* The statement's parameters: the account at each of its placeholders (at most 8). */
static size_t bind(const struct db_sql *q, int64_t account, struct db_val *vals)
{
	size_t n = 0;
	for (const char *s = q->sql; *s && n < 8; s++)
		if (*s == '?')
			vals[n++] = DB_INT(account);
	return n;
}

int personal_rows(struct db *db, struct arena *a, const struct personal_part *p, int64_t account,
		  struct db_rows *out)
{
	struct db_val vals[8];
	size_t n = bind(p->query, account, vals);
	int rc = db_query(db, a, p->query, vals, n, out);
	if (!rc && p->fix)
		rc = p->fix(a, out);
	return rc;
}

int personal_erase(struct db *db, struct arena *a, const struct personal_part *p, int64_t account)
{
	if (p->kept)
		return 0;
	for (size_t i = 0; i < PERSONAL_ERASE_MAX && p->erase_sql[i]; i++) {
		struct db_val vals[8];
		size_t n = bind(p->erase_sql[i], account, vals);
		int rc = db_exec(db, p->erase_sql[i], vals, n, NULL);
		if (rc)
			return rc;
	}
	return p->erase ? p->erase(db, a, account) : 0;
}
