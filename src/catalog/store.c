/* store.c: the catalog's read queries, one typed function per question. Rows are copied into
 * the caller's arena (db.h), so results live as long as the request. */
#include "catalog/catalog.h"
#include "catalog/catalog_impl.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/sb.h"
#include "http/http.h"
#include "store/db.h"

#define ITEM_COLS                                                                                  \
	"s.code, s.version, s.is_current, s.department, d.name_zh, d.name_en, d.phone, "           \
	"d.address_zh, d.address_en, s.audience, s.theme, s.item_type, s.level, s.name_zh, "       \
	"s.name_en, s.legal_limit_days, s.promised_limit_days, s.fee_yuan, s.online_depth, "       \
	"s.visits_required, s.conditions_zh, s.conditions_en, s.legal_basis_zh, s.materials, "     \
	"s.form, s.outcome_ecert, s.keywords_zh, s.content_hash, s.created_at, s.aliases_zh, s.aliases_en "
#define ITEM_FROM " FROM service_items s JOIN departments d ON d.code = s.department "

/* Each filter is "(NULL or matches)"; the CAST tells PostgreSQL the type of a lone NULL. */
#define ITEM_FILTER                                                                                \
	" s.is_current = 1"                                                                        \
	" AND (CAST(? AS TEXT) IS NULL OR s.theme = ?)"                                            \
	" AND (CAST(? AS TEXT) IS NULL OR s.department = ?)"                                       \
	" AND (CAST(? AS TEXT) IS NULL OR (',' || s.audience || ',') LIKE ?)"                      \
	" AND (CAST(? AS TEXT) IS NULL OR lower(s.name_zh) LIKE ? ESCAPE '\\'"                     \
	"      OR lower(s.name_en) LIKE ? ESCAPE '\\' OR s.keywords_zh LIKE ? ESCAPE '\\')"

DB_SQL(q_items_list, "SELECT " ITEM_COLS ITEM_FROM "WHERE" ITEM_FILTER
		     " ORDER BY d.position, s.code LIMIT ? OFFSET ?");
DB_SQL(q_items_count, "SELECT COUNT(*) FROM service_items s WHERE" ITEM_FILTER);
DB_SQL(q_item_current, "SELECT " ITEM_COLS ITEM_FROM "WHERE s.code = ? AND s.is_current = 1");
DB_SQL(q_item_version, "SELECT " ITEM_COLS ITEM_FROM "WHERE s.code = ? AND s.version = ?");
DB_SQL(q_item_versions,
       "SELECT code, version, is_current, name_zh, name_en, content_hash, created_at "
       "FROM service_items WHERE code = ? ORDER BY version DESC");
DB_SQL(q_depts_list,
       "SELECT d.code, d.name_zh, d.name_en, d.phone, d.address_zh, d.address_en, "
       "(SELECT COUNT(*) FROM service_items s WHERE s.department = d.code AND s.is_current = 1) "
       "FROM departments d ORDER BY d.position, d.code");
DB_SQL(q_dept_get,
       "SELECT d.code, d.name_zh, d.name_en, d.phone, d.address_zh, d.address_en, "
       "(SELECT COUNT(*) FROM service_items s WHERE s.department = d.code AND s.is_current = 1) "
       "FROM departments d WHERE d.code = ?");
#define BUNDLE_COLS                                                                                \
	"b.code, b.name_zh, b.name_en, b.description_zh, b.description_en, "                       \
	"(SELECT COUNT(*) FROM bundle_items i WHERE i.bundle = b.code), b.aliases_zh, b.aliases_en "
DB_SQL(q_bundles_list, "SELECT " BUNDLE_COLS "FROM bundles b ORDER BY b.position, b.code");
DB_SQL(q_bundle_get, "SELECT " BUNDLE_COLS "FROM bundles b WHERE b.code = ?");
DB_SQL(q_bundle_items, "SELECT " ITEM_COLS ITEM_FROM
		       "JOIN bundle_items bi ON bi.item = s.code AND s.is_current = 1 "
		       "WHERE bi.bundle = ? ORDER BY bi.position");
DB_SQL(q_item_bundles, "SELECT " BUNDLE_COLS "FROM bundles b JOIN bundle_items bi ON bi.bundle = b.code "
		       "WHERE bi.item = ? ORDER BY b.position, b.code");
DB_SQL(q_regions_list,
       "SELECT code, parent, level, name_zh, name_en FROM regions "
       "ORDER BY CASE WHEN level = 'city' THEN 0 ELSE 1 END, code");
DB_SQL(q_dept_exists, "SELECT 1 FROM departments WHERE code = ?");

static long cell_long(const struct db_rows *rows, size_t r, size_t c)
{
	const char *s = db_cell(rows, r, c);
	return s ? strtol(s, NULL, 10) : 0;
}

static void item_from_row(const struct db_rows *rows, size_t r, struct catalog_item *it)
{
	size_t c = 0;
	it->code = db_cell(rows, r, c++);
	it->version = cell_long(rows, r, c++);
	it->is_current = cell_long(rows, r, c++) != 0;
	it->department = db_cell(rows, r, c++);
	it->dept_name_zh = db_cell(rows, r, c++);
	it->dept_name_en = db_cell(rows, r, c++);
	it->dept_phone = db_cell(rows, r, c++);
	it->dept_address_zh = db_cell(rows, r, c++);
	it->dept_address_en = db_cell(rows, r, c++);
	it->audience = db_cell(rows, r, c++);
	it->theme = db_cell(rows, r, c++);
	it->item_type = db_cell(rows, r, c++);
	it->level = db_cell(rows, r, c++);
	it->name_zh = db_cell(rows, r, c++);
	it->name_en = db_cell(rows, r, c++);
	it->legal_limit_days = cell_long(rows, r, c++);
	it->promised_limit_days = cell_long(rows, r, c++);
	const char *fee = db_cell(rows, r, c++);
	it->fee_yuan = fee ? strtod(fee, NULL) : 0; /* "20.0" on SQLite, "20" on PostgreSQL */
	it->online_depth = cell_long(rows, r, c++);
	it->visits_required = cell_long(rows, r, c++);
	it->conditions_zh = db_cell(rows, r, c++);
	it->conditions_en = db_cell(rows, r, c++);
	it->legal_basis_zh = db_cell(rows, r, c++);
	it->materials = db_cell(rows, r, c++);
	it->form = db_cell(rows, r, c++);
	it->outcome_ecert = db_cell(rows, r, c++);
	it->keywords_zh = db_cell(rows, r, c++);
	it->content_hash = db_cell(rows, r, c++);
	it->created_at = db_cell(rows, r, c++);
	it->aliases_zh = db_cell(rows, r, c++);
	it->aliases_en = db_cell(rows, r, c++);
}

static struct catalog_item *items_from_rows(struct arena *a, const struct db_rows *rows)
{
	struct catalog_item *v = arena_array(a, rows->nrows ? rows->nrows : 1, sizeof(*v));
	for (size_t i = 0; i < rows->nrows; i++)
		item_from_row(rows, i, &v[i]);
	return v;
}

/* "%q%" with LIKE's wildcards escaped and ASCII lower-cased (as SQL lower() does on SQLite). */
static char *like_pattern(struct arena *a, const char *q)
{
	struct sb sb = SB_INIT;
	sb_addch(&sb, '%');
	for (const char *p = q; *p; p++) {
		if (*p == '%' || *p == '_' || *p == '\\')
			sb_addch(&sb, '\\');
		sb_addch(&sb, (char)tolower((unsigned char)*p));
	}
	sb_addch(&sb, '%');
	char *s = arena_strndup(a, sb.buf, sb.len);
	sb_release(&sb);
	return s;
}

int catalog_items_list(struct db *db, struct arena *a, const struct catalog_filter *f, long page,
		       long per_page, struct catalog_item **out, size_t *n, long *total)
{
	struct db_rows rows;
	const char *q = f->q && *f->q ? f->q : NULL;
	const char *qpat = q ? like_pattern(a, q) : NULL;
	const char *apat = f->audience ? arena_printf(a, "%%,%s,%%", f->audience) : NULL;
#define FILTER_ARGS                                                                                \
	DB_TEXT(f->theme), DB_TEXT(f->theme), DB_TEXT(f->department), DB_TEXT(f->department),      \
		DB_TEXT(f->audience), DB_TEXT(apat), DB_TEXT(q), DB_TEXT(qpat), DB_TEXT(qpat),     \
		DB_TEXT(qpat)
	int rc = db_query(db, a, &q_items_count, DB_ARGS(FILTER_ARGS), &rows);
	if (rc)
		return rc;
	*total = rows.nrows ? cell_long(&rows, 0, 0) : 0;
	rc = db_query(db, a, &q_items_list,
		      DB_ARGS(FILTER_ARGS, DB_INT(per_page), DB_INT((page - 1) * per_page)), &rows);
#undef FILTER_ARGS
	if (rc)
		return rc;
	*out = items_from_rows(a, &rows);
	*n = rows.nrows;
	return 0;
}

int catalog_item_get(struct db *db, struct arena *a, const char *code, long version,
		     struct catalog_item *out)
{
	struct db_rows rows;
	int rc = version > 0 ? db_query(db, a, &q_item_version, DB_ARGS(DB_TEXT(code), DB_INT(version)), &rows)
			     : db_query(db, a, &q_item_current, DB_ARGS(DB_TEXT(code)), &rows);
	if (rc)
		return rc;
	if (rows.nrows == 0)
		return GH_ENOTFOUND;
	item_from_row(&rows, 0, out);
	return 0;
}

int catalog_item_versions(struct db *db, struct arena *a, const char *code,
			  struct catalog_item **out, size_t *n)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_item_versions, DB_ARGS(DB_TEXT(code)), &rows);
	if (rc)
		return rc;
	if (rows.nrows == 0)
		return GH_ENOTFOUND;
	struct catalog_item *v = arena_array(a, rows.nrows, sizeof(*v));
	for (size_t i = 0; i < rows.nrows; i++) {
		v[i].code = db_cell(&rows, i, 0);
		v[i].version = cell_long(&rows, i, 1);
		v[i].is_current = cell_long(&rows, i, 2) != 0;
		v[i].name_zh = db_cell(&rows, i, 3);
		v[i].name_en = db_cell(&rows, i, 4);
		v[i].content_hash = db_cell(&rows, i, 5);
		v[i].created_at = db_cell(&rows, i, 6);
	}
	*out = v;
	*n = rows.nrows;
	return 0;
}

static void dept_from_row(const struct db_rows *rows, size_t r, struct catalog_dept *d)
{
	d->code = db_cell(rows, r, 0);
	d->name_zh = db_cell(rows, r, 1);
	d->name_en = db_cell(rows, r, 2);
	d->phone = db_cell(rows, r, 3);
	d->address_zh = db_cell(rows, r, 4);
	d->address_en = db_cell(rows, r, 5);
	d->items = cell_long(rows, r, 6);
}

int catalog_depts_list(struct db *db, struct arena *a, struct catalog_dept **out, size_t *n)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_depts_list, DB_NOARGS, &rows);
	if (rc)
		return rc;
	struct catalog_dept *v = arena_array(a, rows.nrows ? rows.nrows : 1, sizeof(*v));
	for (size_t i = 0; i < rows.nrows; i++)
		dept_from_row(&rows, i, &v[i]);
	*out = v;
	*n = rows.nrows;
	return 0;
}

int catalog_dept_get(struct db *db, struct arena *a, const char *code, struct catalog_dept *out)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_dept_get, DB_ARGS(DB_TEXT(code)), &rows);
	if (rc)
		return rc;
	if (rows.nrows == 0)
		return GH_ENOTFOUND;
	dept_from_row(&rows, 0, out);
	return 0;
}

int catalog_dept_exists(struct db *db, struct arena *a, const char *code, bool *exists)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_dept_exists, DB_ARGS(DB_TEXT(code)), &rows);
	if (rc)
		return rc;
	*exists = rows.nrows > 0;
	return 0;
}

static struct catalog_bundle *bundles_from_rows(struct arena *a, const struct db_rows *rows)
{
	struct catalog_bundle *v = arena_array(a, rows->nrows ? rows->nrows : 1, sizeof(*v));
	for (size_t i = 0; i < rows->nrows; i++) {
		v[i].code = db_cell(rows, i, 0);
		v[i].name_zh = db_cell(rows, i, 1);
		v[i].name_en = db_cell(rows, i, 2);
		v[i].description_zh = db_cell(rows, i, 3);
		v[i].description_en = db_cell(rows, i, 4);
		v[i].items = cell_long(rows, i, 5);
		v[i].aliases_zh = db_cell(rows, i, 6);
		v[i].aliases_en = db_cell(rows, i, 7);
	}
	return v;
}

/* The rows q finds for code (NULL: q takes no parameter). */
static int rows_of(struct db *db, struct arena *a, struct db_sql *q, const char *code, struct db_rows *rows)
{
	return code ? db_query(db, a, q, DB_ARGS(DB_TEXT(code)), rows) : db_query(db, a, q, DB_NOARGS, rows);
}

static int bundles_of(struct db *db, struct arena *a, struct db_sql *q, const char *code,
		      struct catalog_bundle **out, size_t *n)
{
	struct db_rows rows;
	int rc = rows_of(db, a, q, code, &rows);
	if (rc)
		return rc;
	*out = bundles_from_rows(a, &rows);
	*n = rows.nrows;
	return 0;
}

int catalog_bundles_list(struct db *db, struct arena *a, struct catalog_bundle **out, size_t *n)
{
	return bundles_of(db, a, &q_bundles_list, NULL, out, n);
}

int catalog_bundle_get(struct db *db, struct arena *a, const char *code, struct catalog_bundle *out)
{
	struct catalog_bundle *v;
	size_t n;
	int rc = bundles_of(db, a, &q_bundle_get, code, &v, &n);
	if (!rc && n == 0)
		rc = GH_ENOTFOUND;
	if (!rc)
		*out = v[0];
	return rc;
}

int catalog_bundle_items(struct db *db, struct arena *a, const char *code,
			 struct catalog_item **out, size_t *n)
{
	struct db_rows rows;
	int rc = rows_of(db, a, &q_bundle_items, code, &rows);
	if (!rc) {
		*out = items_from_rows(a, &rows);
		*n = rows.nrows;
	}
	return rc;
}

int catalog_item_bundles(struct db *db, struct arena *a, const char *code,
			 struct catalog_bundle **out, size_t *n)
{
	return bundles_of(db, a, &q_item_bundles, code, out, n);
}

int catalog_regions_list(struct db *db, struct arena *a, struct catalog_region **out, size_t *n)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_regions_list, DB_NOARGS, &rows);
	if (rc)
		return rc;
	struct catalog_region *v = arena_array(a, rows.nrows ? rows.nrows : 1, sizeof(*v));
	for (size_t i = 0; i < rows.nrows; i++) {
		v[i].code = db_cell(&rows, i, 0);
		v[i].parent = db_cell(&rows, i, 1);
		v[i].level = db_cell(&rows, i, 2);
		v[i].name_zh = db_cell(&rows, i, 3);
		v[i].name_en = db_cell(&rows, i, 4);
	}
	*out = v;
	*n = rows.nrows;
	return 0;
}

DB_SQL(q_generation, "SELECT value FROM catalog_meta WHERE key = 'catalog_generation'");
DB_SQL(q_bump_generation, "UPDATE catalog_meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) "
			  "WHERE key = 'catalog_generation'");

int catalog_changed(struct db *db)
{
	return db_exec(db, &q_bump_generation, DB_NOARGS, NULL);
}

int catalog_generation(struct req *r, uint64_t *gen)
{
	struct db_rows rows;
	int rc = db_query(r->db, r->arena, &q_generation, DB_NOARGS, &rows);
	if (rc)
		return rc;
	if (rows.nrows != 1)
		return GH_ENOTFOUND;
	long v;
	const char *s = db_cell(&rows, 0, 0);
	if (!s || str_to_long(str_c(s), 0, LONG_MAX, &v))
		return GH_EDB;
	*gen = (uint64_t)v;
	return 0;
}

int catalog_service_get(struct db *db, struct arena *a, const char *code, long version,
			struct catalog_service *out)
{
	struct catalog_item it;
	int rc = catalog_item_get(db, a, code, version, &it);
	if (rc)
		return rc;
	*out = (struct catalog_service){ .code = it.code, .version = it.version, .department = it.department,
					 .name_zh = it.name_zh, .name_en = it.name_en, .audience = it.audience,
					 .legal_limit_days = it.legal_limit_days,
					 .promised_limit_days = it.promised_limit_days, .online_depth = it.online_depth,
					 .visits_required = it.visits_required, .materials = it.materials, .form = it.form, .outcome_ecert = it.outcome_ecert };
	return 0;
}

int catalog_bundle_services(struct db *db, struct arena *a, const char *bundle_code, const char **name_zh,
			    const char **name_en, struct catalog_service **out, size_t *n)
{
	struct catalog_bundle b;
	struct catalog_item *items;
	size_t ni;
	int rc = catalog_bundle_get(db, a, bundle_code, &b);
	if (!rc)
		rc = catalog_bundle_items(db, a, bundle_code, &items, &ni);
	if (rc)
		return rc;
	struct catalog_service *v = arena_array(a, ni ? ni : 1, sizeof(*v));
	for (size_t i = 0; i < ni; i++)
		v[i] = (struct catalog_service){ .code = items[i].code, .version = items[i].version,
						 .department = items[i].department, .name_zh = items[i].name_zh,
						 .name_en = items[i].name_en, .audience = items[i].audience,
						 .legal_limit_days = items[i].legal_limit_days,
						 .promised_limit_days = items[i].promised_limit_days,
						 .online_depth = items[i].online_depth, .materials = items[i].materials,
						 .form = items[i].form, .outcome_ecert = items[i].outcome_ecert };
	if (name_zh)
		*name_zh = b.name_zh;
	if (name_en)
		*name_en = b.name_en;
	*out = v;
	*n = ni;
	return 0;
}

int catalog_department_get(struct db *db, struct arena *a, const char *code, struct catalog_department *out)
{
	struct catalog_dept d;
	int rc = catalog_dept_get(db, a, code, &d);
	if (rc)
		return rc;
	*out = (struct catalog_department){ .code = d.code, .name_zh = d.name_zh, .name_en = d.name_en, .phone = d.phone,
					    .address_zh = d.address_zh, .address_en = d.address_en };
	return 0;
}

int catalog_department_services(struct db *db, struct arena *a, const char *dept, long max,
				struct catalog_service **out, size_t *n)
{
	struct catalog_filter f = { .department = dept };
	struct catalog_item *items;
	long total;
	int rc = catalog_items_list(db, a, &f, 1, max, &items, n, &total);
	if (rc)
		return rc;
	struct catalog_service *v = arena_array(a, *n ? *n : 1, sizeof(*v));
	for (size_t i = 0; i < *n; i++)
		v[i] = (struct catalog_service){ .code = items[i].code, .version = items[i].version,
						 .department = items[i].department, .name_zh = items[i].name_zh,
						 .name_en = items[i].name_en, .audience = items[i].audience,
						 .legal_limit_days = items[i].legal_limit_days,
						 .promised_limit_days = items[i].promised_limit_days,
						 .online_depth = items[i].online_depth, .materials = items[i].materials,
						 .form = items[i].form, .outcome_ecert = items[i].outcome_ecert };
	*out = v;
	return 0;
}
