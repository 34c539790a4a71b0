/* catalog_impl.h: the catalog module's private interface, shared by its files only.
 *
 * - tables.c: the fixed vocabularies (themes, e-certificate types, item types, online depth)
 *   compiled in, so validation needs neither the database nor the data directory.
 *   data/catalog/themes.json and ecert_types.json carry the same lists (a unit test checks).
 * - validate.c: checks a parsed catalog file without touching a database (fuzzed).
 * - import.c: reads files, asks the database what exists, validates, writes in one
 *   transaction.
 * - store.c: typed read queries; rows live in the caller's arena.
 * - pages.c / api.c: the HTML and JSON handlers, on top of store.c.
 */
#ifndef GH_CATALOG_IMPL_H
#define GH_CATALOG_IMPL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "base/arena.h"
#include "catalog/catalog.h"

struct db;

/* ---- vocabularies (tables.c) ---------------------------------------------------------- */

enum catalog_audience { CATALOG_AUD_INDIVIDUAL = 1, CATALOG_AUD_ENTERPRISE = 2 };

/* Words: the catalogs' catalog_theme_<code> and catalog_theme_icon_<code> (the character shown
 * in the tile). */
struct catalog_theme {
	const char *code;
	unsigned audience; /* CATALOG_AUD_* bits */
};
/* Words: cases_ecert_<code> (certificate types), item_type_<code> (kinds of item). */
struct catalog_label {
	const char *code;
};

extern const struct catalog_theme catalog_themes[];
extern const size_t catalog_themes_n;
extern const struct catalog_label catalog_ecerts[];
extern const size_t catalog_ecerts_n;
extern const struct catalog_label catalog_item_types[];
extern const size_t catalog_item_types_n;

/* Look-ups by code; NULL when unknown (code may be NULL). */
const struct catalog_theme *catalog_theme_find(const char *code);
const struct catalog_label *catalog_ecert_find(const char *code);
const struct catalog_label *catalog_item_type_find(const char *code);
/* The form field types ("text", "select", ...); true when known. */
bool catalog_field_type_ok(const char *type);
/* Picks the zh or en text for lang ("en" or anything else = zh). */
static inline const char *catalog_pick(const char *lang, const char *zh, const char *en)
{
	return (lang && lang[0] == 'e' && lang[1] == 'n' && !lang[2] && en && *en) ? en : zh;
}

/* ---- validation (validate.c) ---------------------------------------------------------- */

/* What already exists in the database: JSON objects used as sets (code -> true). Any may be
 * NULL (= nothing exists). Borrowed. */
struct catalog_known {
	json_t *departments, *regions, *items;
};

/* The records of a valid file: references to the arrays of the parsed root (or new empty
 * arrays when the file has none); never NULL after a successful validation. Release with
 * catalog_set_release(). */
struct catalog_set {
	json_t *departments, *regions, *services, *bundles;
	json_t *withdrawn; /* codes of items withdrawn (array of strings) */
};

/* Validates a parsed catalog file (object with optional "departments", "regions",
 * "services", "bundles", "withdrawn" arrays, or a bare array of services). Each problem is printed on
 * errors (may be NULL) as "PATH: reason\n" and counted in *nerrors; *nrecords gets the number
 * of bad records. Returns 0 when nothing is wrong (and fills *out, which the caller
 * releases), else GH_EVALIDATION (*out untouched). Never touches a database. */
int catalog_validate(json_t *root, const struct catalog_known *known, FILE *errors,
		     size_t *nerrors, size_t *nrecords, struct catalog_set *out);
void catalog_set_release(struct catalog_set *set);

/* ---- decision rules (rules.c) ---------------------------------------------------------- */

/* Checks the "rules" member of item record rec at path, reporting each problem by err. */
void catalog_rules_check(json_t *rec, const char *path, void (*err)(void *ctx, const char *path, const char *msg),
			 void *ctx);
/* Writes rules (may be NULL: nothing) of the new item version, covered by the log. */
int catalog_rules_write(struct db *db, struct arena *a, const char *code, long version, json_t *rules);
void catalog_rules_register(void);

/* Limits on strings, in code points. */
#define CATALOG_MAX_NAME 500
#define CATALOG_MAX_TEXT 4000
#define CATALOG_MAX_ALIASES 60 /* aliases per language of an item or bundle */
#define CATALOG_MAX_ALIAS 60   /* characters of one alias */
#define CATALOG_MAX_RECORDS 100000

/* ---- reads (store.c) ------------------------------------------------------------------ */

struct catalog_dept {
	const char *code, *name_zh, *name_en, *phone, *address_zh, *address_en;
	long items; /* current items (only from catalog_depts_list) */
};

struct catalog_item {
	const char *code;
	long version;
	bool is_current;
	const char *department, *dept_name_zh, *dept_name_en, *dept_phone, *dept_address_zh,
		*dept_address_en;
	const char *audience; /* "individual,enterprise" */
	const char *theme, *item_type, *level, *name_zh, *name_en;
	long legal_limit_days, promised_limit_days;
	double fee_yuan;
	long online_depth, visits_required;
	const char *conditions_zh, *conditions_en, *legal_basis_zh;
	const char *materials, *form, *keywords_zh; /* JSON text */
	const char *aliases_zh, *aliases_en;        /* JSON text: what people call it */
	const char *outcome_ecert;                 /* NULL when none */
	const char *content_hash, *created_at;
};

struct catalog_bundle {
	const char *code, *name_zh, *name_en, *description_zh, *description_en;
	const char *aliases_zh, *aliases_en; /* JSON text */
	long items;
};

struct catalog_region {
	const char *code, *parent, *level, *name_zh, *name_en;
};

struct catalog_filter {
	const char *theme;      /* NULL = any */
	const char *department; /* NULL = any */
	const char *audience;   /* "individual" | "enterprise" | NULL */
	const char *q;          /* substring, case-insensitive; NULL or "" = any */
};

/* All reads: rows and strings are allocated in a; return 0 or a GH_E* code from the db. */
int catalog_items_list(struct db *db, struct arena *a, const struct catalog_filter *f, long page,
		       long per_page, struct catalog_item **out, size_t *n, long *total);
/* version 0 = the current one. GH_ENOTFOUND when there is no such item or version. */
int catalog_item_get(struct db *db, struct arena *a, const char *code, long version,
		     struct catalog_item *out);
/* Every version of code, newest first (summary fields only: code, version, is_current,
 * name_zh, name_en, content_hash, created_at). GH_ENOTFOUND when none. */
int catalog_item_versions(struct db *db, struct arena *a, const char *code,
			  struct catalog_item **out, size_t *n);
int catalog_depts_list(struct db *db, struct arena *a, struct catalog_dept **out, size_t *n);
int catalog_dept_get(struct db *db, struct arena *a, const char *code, struct catalog_dept *out);
int catalog_bundles_list(struct db *db, struct arena *a, struct catalog_bundle **out, size_t *n);
int catalog_bundle_get(struct db *db, struct arena *a, const char *code, struct catalog_bundle *out);
/* The current items of a bundle in order (items the catalog no longer has are skipped). */
int catalog_bundle_items(struct db *db, struct arena *a, const char *code,
			 struct catalog_item **out, size_t *n);
/* The bundles that include item code. */
int catalog_item_bundles(struct db *db, struct arena *a, const char *code,
			 struct catalog_bundle **out, size_t *n);
int catalog_regions_list(struct db *db, struct arena *a, struct catalog_region **out, size_t *n);
/* True when the department exists (for filter validation). */
int catalog_dept_exists(struct db *db, struct arena *a, const char *code, bool *exists);

/* ---- JSON shapes shared by api.c and pages.c (api.c) ----------------------------------- */

json_t *catalog_item_summary_json(const struct catalog_item *it);
json_t *catalog_item_full_json(const struct catalog_item *it);
json_t *catalog_dept_json(const struct catalog_dept *d);
json_t *catalog_bundle_json(const struct catalog_bundle *b);

/* Reads and checks the list filters (theme, department, audience, q, page, per_page) of a
 * request shared by /services and /api/v1/services. GH_EINVAL with a detail when bad. */
struct req;
int catalog_read_filter(struct req *r, struct catalog_filter *f, long *page, long *per_page);
/* s cut to about 60 bytes on a character boundary, for echoing client input in details. */
const char *catalog_clip(struct req *r, const char *s);
/* Sets a "there is no <what> with code X" detail and returns GH_ENOTFOUND. */
/* A 404 whose detail is the message key what, with {code} filled in. */
int catalog_not_found(struct req *r, const char *what, const char *code);
/* The department of the route's {code} with all its current items (for its page and its JSON);
 * GH_ENOTFOUND with a detail for an unknown code. */
int catalog_dept_load(struct req *r, struct catalog_dept *d, struct catalog_item **items, size_t *n);
/* The same for the bundle of the route's {code} and its items. */
int catalog_bundle_load(struct req *r, struct catalog_bundle *b, struct catalog_item **items, size_t *n);
/* Answers the JSON of a department or bundle, j, with "services": the items' summaries. */
int catalog_with_services(struct req *r, json_t *j, const struct catalog_item *items, size_t n);

/* HTML handlers (pages.c), listed in api.c's route table next to the JSON ones. */
int catalog_page_home(struct req *r);
int catalog_page_services(struct req *r);
int catalog_page_service(struct req *r);
int catalog_page_departments(struct req *r);
int catalog_page_department(struct req *r);
int catalog_page_bundles(struct req *r);
int catalog_page_bundle(struct req *r);

#endif
