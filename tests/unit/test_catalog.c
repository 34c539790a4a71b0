/* test_catalog.c: catalog import (validation, versioning, all-or-nothing) and the typed read
 * queries, against SQLite in a temporary file and, when GOVHALL_TEST_PG holds a
 * postgresql:// URL of a throwaway database, against PostgreSQL too (each test starts from an
 * empty public schema); without it the PostgreSQL runs are skipped. Runs from the project
 * root (data/catalog holds the demo catalog). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "base/arena.h"
#include "base/err.h"
#include "base/util.h"
#include "catalog/catalog.h"
#include "catalog/catalog_impl.h"
#include "catalog/fields.h"
#include "cases/forms.h"
#include "store/db.h"
#include "testdb.h"
#include "view/view.h"

struct fx {
	enum db_kind kind;
	struct testdb t;
	char tmpdir[64]; /* for input files */
	struct arena *a;
	char *errbuf;
	size_t errlen;
	FILE *errors;
};

static int setup(void **state, enum db_kind kind)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	*state = f;
	f->kind = kind;
	snprintf(f->tmpdir, sizeof(f->tmpdir), "/tmp/test_catalog.XXXXXX");
	if (!mkdtemp(f->tmpdir))
		return -1;
	int rc = testdb_open(&f->t, kind, "catalog");
	if (rc == 1)
		return 0; /* the tests skip when f->t.db is NULL */
	if (rc)
		return -1;
	char err[256];
	if (db_migrate(f->t.db, err, sizeof(err))) {
		fprintf(stderr, "db_migrate: %s\n", err);
		return -1;
	}
	f->a = arena_new(4096);
	f->errors = open_memstream(&f->errbuf, &f->errlen);
	return 0;
}

static int setup_sqlite(void **state)
{
	return setup(state, DB_SQLITE);
}

static int setup_pg(void **state)
{
	return setup(state, DB_POSTGRES);
}

static int teardown(void **state)
{
	struct fx *f = *state;
	if (f->errors)
		fclose(f->errors);
	free(f->errbuf);
	testdb_close(&f->t);
	if (f->a)
		arena_free(f->a);
	if (f->tmpdir[0]) {
		char p[600];
		snprintf(p, sizeof(p), "%s/in.json", f->tmpdir);
		unlink(p);
		rmdir(f->tmpdir);
	}
	free(f);
	return 0;
}

#define NEED_DB(f)                                                                           \
	do {                                                                                 \
		if (!(f)->t.db)                                                                \
			skip();                                                              \
	} while (0)

/* The text written to the errors stream so far. */
static const char *errors_text(struct fx *f)
{
	fflush(f->errors);
	return f->errbuf ? f->errbuf : "";
}

static long count(struct fx *f, const char *table)
{
	/* Statements must live forever (db.h): one per table, chosen here. */
	DB_SQL(q_items, "SELECT COUNT(*) FROM service_items");
	DB_SQL(q_depts, "SELECT COUNT(*) FROM departments");
	DB_SQL(q_bundles, "SELECT COUNT(*) FROM bundles");
	DB_SQL(q_bitems, "SELECT COUNT(*) FROM bundle_items");
	DB_SQL(q_regions, "SELECT COUNT(*) FROM regions");
	struct db_sql *q = !strcmp(table, "service_items") ? &q_items :
			   !strcmp(table, "departments")   ? &q_depts :
			   !strcmp(table, "bundles")       ? &q_bundles :
			   !strcmp(table, "bundle_items")  ? &q_bitems : &q_regions;
	struct db_rows rows;
	assert_int_equal(db_query(f->t.db, f->a, q, DB_NOARGS, &rows), 0);
	return (long)db_cell_int(&rows, 0, 0);
}

static long generation(struct fx *f)
{
	DB_SQL(q, "SELECT value FROM catalog_meta WHERE key = 'catalog_generation'");
	struct db_rows rows;
	assert_int_equal(db_query(f->t.db, f->a, &q, DB_NOARGS, &rows), 0);
	return atol(db_cell(&rows, 0, 0));
}

/* Writes j (stolen) to the fixture's temporary file and returns its path. */
static const char *write_tmp(struct fx *f, json_t *j)
{
	static char path[600];
	snprintf(path, sizeof(path), "%s/in.json", f->tmpdir);
	assert_int_equal(json_dump_file(j, path, JSON_INDENT(2)), 0);
	json_decref(j);
	return path;
}

static void import_demo(struct fx *f, struct catalog_import_report *rep)
{
	int rc = catalog_import_demo(f->t.db, "data", f->errors, rep);
	if (rc)
		fprintf(stderr, "%s", errors_text(f));
	assert_int_equal(rc, 0);
}

/* ---- tests ---------------------------------------------------------------------------- */

static void test_demo_import(void **state)
{
	struct fx *f = *state;
	struct catalog_import_report rep;
	NEED_DB(f);
	import_demo(f, &rep);
	assert_int_equal(rep.items_new, 173);
	assert_int_equal(rep.items_changed, 0);
	assert_int_equal(rep.items_unchanged, 0);
	assert_int_equal(rep.departments, 22);
	assert_int_equal(rep.regions, 4);
	assert_int_equal(rep.bundles, 10);
	assert_int_equal(rep.errors, 0);
	assert_int_equal(count(f, "service_items"), 173);
	assert_int_equal(count(f, "departments"), 22);
	assert_int_equal(count(f, "bundles"), 10);
	assert_int_equal(count(f, "regions"), 4);
	assert_int_equal(generation(f), 1);

	/* the guide of one item reads back what was imported */
	struct catalog_item it;
	assert_int_equal(catalog_item_get(f->t.db, f->a, "psb-0001", 0, &it), 0);
	assert_int_equal(it.version, 1);
	assert_true(it.is_current);
	assert_string_equal(it.name_zh, "居民身份证首次申领");
	assert_string_equal(it.dept_name_zh, "清河市公安局");
	assert_int_equal(it.legal_limit_days, 60);
	assert_int_equal(it.promised_limit_days, 15);
	assert_true(it.fee_yuan == 20.0);
	assert_string_equal(it.outcome_ecert, "resident_id");
	json_t *m = json_loads(it.materials, 0, NULL);
	assert_non_null(m);
	assert_string_equal(json_string_value(json_object_get(json_array_get(m, 0), "ecert")),
			    "household_register");
	json_decref(m);
	assert_int_equal(catalog_item_get(f->t.db, f->a, "psb-9999", 0, &it), GH_ENOTFOUND);
}

static void test_reimport_idempotent(void **state)
{
	struct fx *f = *state;
	struct catalog_import_report rep;
	NEED_DB(f);
	import_demo(f, &rep);
	long bundle_items = count(f, "bundle_items"), gen = generation(f);
	import_demo(f, &rep);
	assert_int_equal(rep.items_new, 0);
	assert_int_equal(rep.items_changed, 0);
	assert_int_equal(rep.items_unchanged, 173);
	assert_int_equal(count(f, "service_items"), 173);
	assert_int_equal(count(f, "bundle_items"), bundle_items); /* replaced, not doubled */
	assert_int_equal(generation(f), gen + 1);
	struct catalog_item *v;
	size_t n;
	assert_int_equal(catalog_item_versions(f->t.db, f->a, "hrss-0001", &v, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].version, 1);
}

/* The demo services file with one item changed, imported as a bare array. */
static void test_change_creates_version(void **state)
{
	struct fx *f = *state;
	struct catalog_import_report rep;
	NEED_DB(f);
	import_demo(f, &rep);
	long bundle_items = count(f, "bundle_items");
	json_t *services = json_load_file("data/catalog/services.json", 0, NULL);
	assert_non_null(services);
	size_t i;
	json_t *it;
	json_array_foreach(services, i, it) {
		if (!strcmp(json_string_value(json_object_get(it, "code")), "psb-0001")) {
			/* The guide's fee and the fee rule change together (import checks they agree). */
			json_object_set_new(it, "fee_yuan", json_integer(30));
			json_object_set_new(json_object_get(it, "fee"), "amount_fen", json_integer(3000));
		}
	}
	/* key order must not matter: re-dumping with sorted keys keeps every other hash */
	char *s = json_dumps(services, JSON_SORT_KEYS);
	json_decref(services);
	services = json_loads(s, 0, NULL);
	free(s);
	const char *path = write_tmp(f, services);
	assert_int_equal(catalog_import_file(f->t.db, path, false, f->errors, &rep), 0);
	assert_int_equal(rep.items_changed, 1);
	assert_int_equal(rep.items_unchanged, 172);
	assert_int_equal(rep.items_new, 0);
	assert_int_equal(rep.departments, 0);
	assert_int_equal(count(f, "service_items"), 174);
	assert_int_equal(count(f, "bundle_items"), bundle_items);

	struct catalog_item cur, old;
	assert_int_equal(catalog_item_get(f->t.db, f->a, "psb-0001", 0, &cur), 0);
	assert_int_equal(cur.version, 2);
	assert_true(cur.is_current);
	assert_true(cur.fee_yuan == 30.0);
	assert_int_equal(catalog_item_get(f->t.db, f->a, "psb-0001", 1, &old), 0);
	assert_int_equal(old.version, 1);
	assert_false(old.is_current);
	assert_true(old.fee_yuan == 20.0);
	assert_string_not_equal(old.content_hash, cur.content_hash);
	assert_int_equal(catalog_item_get(f->t.db, f->a, "psb-0001", 3, &old), GH_ENOTFOUND);
	struct catalog_item *v;
	size_t n;
	assert_int_equal(catalog_item_versions(f->t.db, f->a, "psb-0001", &v, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].version, 2);
	assert_true(v[0].is_current);
	assert_int_equal(v[1].version, 1);
	/* the list shows the current version only */
	struct catalog_filter flt = { .q = "居民身份证首次申领" };
	struct catalog_item *items;
	long total;
	assert_int_equal(catalog_items_list(f->t.db, f->a, &flt, 1, 20, &items, &n, &total), 0);
	assert_int_equal(total, 1);
	assert_int_equal(items[0].version, 2);
}

/* A catalog file's "withdrawn": the item has no current version (its versions stay), the
 * withdrawal is recorded; withdrawn again, unknown, imported by the same file or listed twice is
 * refused with nothing written; importing it again makes a new current version. */
static void test_withdraw(void **state)
{
	struct fx *f = *state;
	struct catalog_import_report rep;
	NEED_DB(f);
	import_demo(f, &rep);
	json_t *doc = json_pack("{s:[s,s]}", "withdrawn", "psb-0001", "hrss-0001");
	assert_int_equal(catalog_import_file(f->t.db, write_tmp(f, doc), false, f->errors, &rep), 0);
	assert_int_equal(rep.items_withdrawn, 2);
	struct catalog_item cur;
	assert_int_equal(catalog_item_get(f->t.db, f->a, "psb-0001", 0, &cur), GH_ENOTFOUND);
	assert_int_equal(catalog_item_get(f->t.db, f->a, "psb-0001", 1, &cur), 0);
	assert_false(cur.is_current);
	long items = count(f, "service_items");
	static const char *const bad[] = {
		"{\"withdrawn\": [\"psb-0001\"]}",                        /* withdrawn already */
		"{\"withdrawn\": [\"no-such-item\"]}",                    /* unknown */
		"{\"withdrawn\": [\"psb-0002\", \"psb-0002\"]}",          /* twice */
		"{\"withdrawn\": \"psb-0002\"}",                          /* not a list */
		"{\"withdrawn\": [\"psb-0002\"], \"services\": [{\"code\": \"psb-0002\"}]}", /* imported too */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *j = json_loads(bad[i], 0, NULL);
		assert_non_null(j);
		assert_int_equal(catalog_import_file(f->t.db, write_tmp(f, j), false, f->errors, &rep), GH_EVALIDATION);
	}
	assert_int_equal(count(f, "service_items"), items);
	assert_int_equal(catalog_item_get(f->t.db, f->a, "psb-0002", 0, &cur), 0);
	/* Imported again: version 2, current. */
	json_t *services = json_load_file("data/catalog/services.json", 0, NULL);
	assert_int_equal(catalog_import_file(f->t.db, write_tmp(f, services), false, f->errors, &rep), 0);
	assert_int_equal(rep.items_new, 2);
	assert_int_equal(catalog_item_get(f->t.db, f->a, "psb-0001", 0, &cur), 0);
	assert_int_equal(cur.version, 2);
	assert_true(cur.is_current);
}

static json_t *good_item(const char *code, const char *dept)
{
	return json_pack(
		"{s:s,s:s,s:s,s:s,s:[s],s:s,s:s,s:s,s:i,s:i,s:i,s:i,s:i,s:s,s:s,s:s,"
		"s:[{s:s,s:s,s:b,s:s}],s:[{s:s,s:s,s:s,s:s,s:b}],s:[s]}",
		"code", code, "name_zh", "测试事项", "name_en", "Test item", "department", dept,
		"audience", "individual", "theme", "housing", "item_type", "licensing", "level", "city",
		"legal_limit_days", 20, "promised_limit_days", 10, "fee_yuan", 0, "online_depth", 4,
		"visits_required", 0, "conditions_zh", "无", "conditions_en", "None", "legal_basis_zh",
		"《测试条例》", "materials", "name_zh", "身份证", "name_en", "ID card", "required", 1,
		"form", "original", "form", "key", "name", "label_zh", "姓名", "label_en", "Name", "type",
		"text", "required", 1, "keywords_zh", "测试");
}

static void test_bad_records(void **state)
{
	struct fx *f = *state;
	struct catalog_import_report rep;
	NEED_DB(f);
	json_t *items = json_array(), *it;

	it = good_item("nope-0001", "nope"); /* unknown department */
	json_array_append_new(items, it);
	it = good_item("dx-0002", "dx"); /* bad type in a form field */
	json_object_set_new(json_array_get(json_object_get(it, "form"), 0), "type", json_integer(42));
	json_array_append_new(items, it);
	it = good_item("dx-0003", "dx"); /* select without options */
	json_object_set_new(json_array_get(json_object_get(it, "form"), 0), "type", json_string("select"));
	json_array_append_new(items, it);
	it = good_item("dx-0004", "dx"); /* promised > legal */
	json_object_set_new(it, "promised_limit_days", json_integer(30));
	json_array_append_new(items, it);
	it = good_item("dx-0004", "dx"); /* duplicate code */
	json_array_append_new(items, it);
	it = good_item("dx-0006", "dx"); /* unknown theme, bad required, missing name_zh */
	json_object_set_new(it, "theme", json_string("space_travel"));
	json_object_set_new(json_array_get(json_object_get(it, "materials"), 0), "required", json_string("yes"));
	json_object_del(it, "name_zh");
	json_array_append_new(items, it);
	it = good_item("dx-0007", "dx"); /* fine */
	json_array_append_new(items, it);

	json_t *root = json_pack(
		"{s:[{s:s,s:s}],s:o,s:[{s:s,s:s,s:s,s:s,s:s,s:[s,s]}]}", "departments", "code", "dx",
		"name_en", "Department X", "services", items, "bundles", "code", "b-test", "name_zh",
		"测试一件事", "name_en", "Test bundle", "description_zh", "测试", "description_en", "Test",
		"items", "dx-0007", "zz-9999");
	const char *path = write_tmp(f, root);
	assert_int_equal(catalog_import_file(f->t.db, path, false, f->errors, &rep), GH_EVALIDATION);
	const char *e = errors_text(f);
	static const char *const expect[] = {
		"departments[0].name_zh: required\n",
		"services[0].department: unknown department \"nope\"\n",
		"services[1].form[0].type: expected a string, got an integer\n",
		"services[2].form[0].options: select fields need at least one option\n",
		"services[3].promised_limit_days: the promised limit (30) exceeds the legal limit (20)\n",
		"services[4].code: duplicate service item code \"dx-0004\"\n",
		"services[5].name_zh: required\n",
		"services[5].theme: unknown theme \"space_travel\"\n",
		"services[5].materials[0].required: expected true or false\n",
		"bundles[0].items[1]: unknown service item \"zz-9999\"\n",
	};
	for (size_t i = 0; i < ARRAY_LEN(expect); i++) {
		if (!strstr(e, expect[i]))
			fail_msg("missing error line: %s\nin:\n%s", expect[i], e);
	}
	assert_null(strstr(e, "services[6]"));
	assert_int_equal(rep.errors, 8); /* records: 1 department, 6 services, 1 bundle */
	/* nothing was written */
	assert_int_equal(count(f, "departments"), 0);
	assert_int_equal(count(f, "service_items"), 0);
	assert_int_equal(count(f, "bundles"), 0);
	assert_int_equal(generation(f), 0);
}

/* An item with a step at another hall (多地联办): the import refuses one that is not for
 * individuals only or does not ask the consent (a required select joint_consent = "yes"), or
 * whose "joint" is malformed; a good one is stored with its version, one without has none. */
static json_t *joint_item(const char *code)
{
	json_t *it = good_item(code, "dx");
	json_array_append_new(json_object_get(it, "form"),
			      json_pack("{s:s,s:s,s:s,s:s,s:b,s:[{s:s,s:s,s:s}]}", "key", "joint_consent", "label_zh", "同意",
					"label_en", "I agree", "type", "select", "required", 1, "options", "value", "yes",
					"label_zh", "同意", "label_en", "I agree"));
	json_object_set_new(it, "joint", json_pack("{s:s,s:s}", "hall", "lanshan", "item_code", "psb-0007"));
	return it;
}

static void test_joint_records(void **state)
{
	struct fx *f = *state;
	struct catalog_import_report rep;
	NEED_DB(f);
	json_t *items = json_array(), *it;
	json_array_append_new(items, joint_item("dx-0001")); /* fine */
	it = joint_item("dx-0002"); /* no consent field */
	json_array_remove(json_object_get(it, "form"), 1);
	json_array_append_new(items, it);
	it = joint_item("dx-0003"); /* consent not required */
	json_object_set_new(json_array_get(json_object_get(it, "form"), 1), "required", json_false());
	json_array_append_new(items, it);
	it = joint_item("dx-0004"); /* consent of another value */
	json_object_set_new(json_array_get(json_object_get(json_array_get(json_object_get(it, "form"), 1), "options"), 0),
			    "value", json_string("ok"));
	json_array_append_new(items, it);
	it = joint_item("dx-0005"); /* enterprises too */
	json_array_append_new(json_object_get(it, "audience"), json_string("enterprise"));
	json_array_append_new(items, it);
	it = joint_item("dx-0006"); /* no item code there, an unknown member */
	json_object_del(json_object_get(it, "joint"), "item_code");
	json_object_set_new(json_object_get(it, "joint"), "when", json_string("later"));
	json_array_append_new(items, it);
	it = joint_item("dx-0007"); /* not an object */
	json_object_set_new(it, "joint", json_string("lanshan"));
	json_array_append_new(items, it);
	json_t *root = json_pack("{s:[{s:s,s:s,s:s}],s:o}", "departments", "code", "dx", "name_zh", "部门", "name_en",
				 "Department X", "services", items);
	assert_int_equal(catalog_import_file(f->t.db, write_tmp(f, root), false, f->errors, &rep), GH_EVALIDATION);
	const char *e = errors_text(f);
	static const char *const expect[] = {
		"services[1].form: an item with a step at another hall needs a required select field \"joint_consent\"",
		"services[2].form: an item with a step at another hall needs",
		"services[3].form: an item with a step at another hall needs",
		"services[4].joint: an item with a step at another hall is for individuals only",
		"services[5].joint.item_code: required",
		"services[5].joint.when: unknown field",
		"services[6].joint: expected an object {hall, item_code}",
	};
	for (size_t i = 0; i < ARRAY_LEN(expect); i++)
		if (!strstr(e, expect[i]))
			fail_msg("missing error: %s\nin:\n%s", expect[i], e);
	assert_null(strstr(e, "services[0]"));
	assert_int_equal(count(f, "service_items"), 0);

	/* The good one alone, and an item without a second step. */
	items = json_pack("[o,o]", joint_item("dx-0001"), good_item("dx-0008", "dx"));
	root = json_pack("{s:[{s:s,s:s,s:s}],s:o}", "departments", "code", "dx", "name_zh", "部门", "name_en", "Department X",
			 "services", items);
	assert_int_equal(catalog_import_file(f->t.db, write_tmp(f, root), false, f->errors, &rep), 0);
	const char *hall, *code;
	assert_int_equal(catalog_item_joint(f->t.db, f->a, "dx-0001", 1, &hall, &code), 0);
	assert_string_equal(hall, "lanshan");
	assert_string_equal(code, "psb-0007");
	assert_int_equal(catalog_item_joint(f->t.db, f->a, "dx-0008", 1, &hall, &code), 0);
	assert_null(hall);
	assert_null(code);
}

/* A file that only adds items to departments already in the database is fine. */
static void test_dept_from_db(void **state)
{
	struct fx *f = *state;
	struct catalog_import_report rep;
	NEED_DB(f);
	import_demo(f, &rep);
	json_t *root = json_pack("[o]", good_item("psb-0900", "psb"));
	const char *path = write_tmp(f, root);
	assert_int_equal(catalog_import_file(f->t.db, path, false, f->errors, &rep), 0);
	assert_int_equal(rep.items_new, 1);
	assert_int_equal(rep.items_unchanged, 0);
	assert_int_equal(count(f, "service_items"), 174);
}

static void test_not_json(void **state)
{
	struct fx *f = *state;
	struct catalog_import_report rep;
	NEED_DB(f);
	char path[600];
	snprintf(path, sizeof(path), "%s/in.json", f->tmpdir);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("{\n  \"services\": [\n    {\"code\": \"psb-0001\",}\n  ]\n}\n", fp);
	fclose(fp);
	assert_int_equal(catalog_import_file(f->t.db, path, false, f->errors, &rep), GH_EINVAL);
	unlink(path);
	const char *e = errors_text(f);
	char want[700];
	snprintf(want, sizeof(want), "%s:3:", path);
	if (!strstr(e, want))
		fail_msg("expected line 3 in: %s", e);
	assert_non_null(strstr(e, "not valid JSON"));
	assert_int_equal(catalog_import_file(f->t.db, "/nonexistent/x.json", false, f->errors, &rep), GH_EIO);
	assert_int_equal(count(f, "service_items"), 0);
}

static void test_queries(void **state)
{
	struct fx *f = *state;
	struct catalog_import_report rep;
	struct catalog_item *items;
	size_t n;
	long total;
	NEED_DB(f);
	import_demo(f, &rep);

	struct catalog_filter all = { 0 };
	assert_int_equal(catalog_items_list(f->t.db, f->a, &all, 1, 20, &items, &n, &total), 0);
	assert_int_equal(total, 173);
	assert_int_equal(n, 20);
	assert_int_equal(catalog_items_list(f->t.db, f->a, &all, 9, 20, &items, &n, &total), 0);
	assert_int_equal(n, 13);
	assert_int_equal(catalog_items_list(f->t.db, f->a, &all, 10, 20, &items, &n, &total), 0);
	assert_int_equal(n, 0);
	assert_int_equal(total, 173);

	struct catalog_filter th = { .theme = "household", .department = "psb" };
	assert_int_equal(catalog_items_list(f->t.db, f->a, &th, 1, 100, &items, &n, &total), 0);
	assert_true(total > 0);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(items[i].theme, "household");
		assert_string_equal(items[i].department, "psb");
	}
	long ind, ent;
	struct catalog_filter a1 = { .audience = "individual" }, a2 = { .audience = "enterprise" };
	assert_int_equal(catalog_items_list(f->t.db, f->a, &a1, 1, 1, &items, &n, &ind), 0);
	assert_int_equal(catalog_items_list(f->t.db, f->a, &a2, 1, 1, &items, &n, &ent), 0);
	assert_true(ind > 0 && ent > 0 && ind + ent >= 173);

	/* case-insensitive substring on the English name; LIKE wildcards are literal */
	struct catalog_filter q1 = { .q = "RESIDENT IDENTITY" }, q2 = { .q = "%" }, q3 = { .q = "身份证" };
	assert_int_equal(catalog_items_list(f->t.db, f->a, &q1, 1, 100, &items, &n, &total), 0);
	assert_true(total >= 2);
	assert_int_equal(catalog_items_list(f->t.db, f->a, &q2, 1, 100, &items, &n, &total), 0);
	assert_int_equal(total, 0);
	assert_int_equal(catalog_items_list(f->t.db, f->a, &q3, 1, 100, &items, &n, &total), 0);
	assert_true(total >= 2);

	struct catalog_dept *d;
	assert_int_equal(catalog_depts_list(f->t.db, f->a, &d, &n), 0);
	assert_int_equal(n, 22);
	assert_string_equal(d[0].code, "gsa"); /* file order */
	long sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += d[i].items;
	assert_int_equal(sum, 173);
	bool exists;
	assert_int_equal(catalog_dept_exists(f->t.db, f->a, "psb", &exists), 0);
	assert_true(exists);
	assert_int_equal(catalog_dept_exists(f->t.db, f->a, "zzz", &exists), 0);
	assert_false(exists);

	struct catalog_bundle *b, one;
	assert_int_equal(catalog_bundles_list(f->t.db, f->a, &b, &n), 0);
	assert_int_equal(n, 10);
	assert_int_equal(catalog_bundle_get(f->t.db, f->a, "bundle-birth", &one), 0);
	assert_int_equal(catalog_bundle_items(f->t.db, f->a, "bundle-birth", &items, &n), 0);
	assert_int_equal(n, 8);
	assert_string_equal(items[0].code, "hlth-0001"); /* bundle order */
	assert_string_equal(items[2].code, "psb-0005");
	assert_int_equal(catalog_item_bundles(f->t.db, f->a, "psb-0005", &b, &n), 0);
	assert_true(n >= 1);
	assert_int_equal(catalog_bundle_get(f->t.db, f->a, "nope", &one), GH_ENOTFOUND);

	struct catalog_region *g;
	assert_int_equal(catalog_regions_list(f->t.db, f->a, &g, &n), 0);
	assert_int_equal(n, 4);
	assert_string_equal(g[0].code, "qinghe");
	assert_null(g[0].parent);
}

/* data/catalog/themes.json and ecert_types.json publish the compiled-in vocabularies, with the
 * message catalogs' words for them. */
static void test_vocabularies_match(void **state)
{
	(void)state;
	json_t *themes = json_load_file("data/catalog/themes.json", 0, NULL);
	json_t *ecerts = json_load_file("data/catalog/ecert_types.json", 0, NULL);
	assert_non_null(themes);
	assert_non_null(ecerts);
	struct view *v = NULL;
	char err[512], key[128];
	assert_int_equal(view_load_messages("data/i18n", &v, err, sizeof(err)), 0);
	assert_int_equal(json_array_size(themes), catalog_themes_n);
	assert_int_equal(catalog_themes_n, 20);
	for (size_t i = 0; i < catalog_themes_n; i++) {
		json_t *t = json_array_get(themes, i);
		assert_string_equal(json_string_value(json_object_get(t, "code")), catalog_themes[i].code);
		snprintf(key, sizeof(key), "catalog_theme_%s", catalog_themes[i].code);
		assert_string_equal(json_string_value(json_object_get(t, "name_zh")), view_msg(v, "zh", key));
		assert_string_equal(json_string_value(json_object_get(t, "name_en")), view_msg(v, "en", key));
		unsigned aud = 0;
		size_t j;
		json_t *x;
		json_array_foreach(json_object_get(t, "audience"), j, x)
			aud |= !strcmp(json_string_value(x), "individual") ? CATALOG_AUD_INDIVIDUAL : CATALOG_AUD_ENTERPRISE;
		assert_int_equal(aud, catalog_themes[i].audience);
	}
	assert_int_equal(json_array_size(ecerts), catalog_ecerts_n);
	assert_int_equal(catalog_ecerts_n, 17);
	for (size_t i = 0; i < catalog_ecerts_n; i++)
		assert_string_equal(json_string_value(json_object_get(json_array_get(ecerts, i), "code")),
				    catalog_ecerts[i].code);
	for (size_t i = 0; i < catalog_ecerts_n; i++) {
		snprintf(key, sizeof(key), "cases_ecert_%s", catalog_ecerts[i].code);
		assert_true(view_has(v, key));
	}
	for (size_t i = 0; i < catalog_item_types_n; i++) {
		snprintf(key, sizeof(key), "item_type_%s", catalog_item_types[i].code);
		assert_true(view_has(v, key));
	}
	view_free(v);
	json_decref(themes);
	json_decref(ecerts);
}

/* One field "f" of type t (select: two options), as a form definition. */
static json_t *field_def(const struct catalog_field_type *t)
{
	json_t *f = json_pack("{s:s,s:s,s:s,s:s,s:b}", "key", "f", "label_zh", "字段", "label_en", "Field", "type",
			      t->name, "required", 1);
	if (t->options)
		json_object_set_new(f, "options", json_pack("[{s:s,s:s,s:s},{s:s,s:s,s:s}]", "value", "a", "label_zh",
							    "甲", "label_en", "A", "value", "b", "label_zh", "乙",
							    "label_en", "B"));
	return json_pack("[o]", f);
}

/* The one table of field types: every type has what each part of the hall needs of it, and
 * each part takes the type from the table alone, so a new type is one entry (fields.h). For
 * every entry: the catalog accepts a service whose form has a field of it (and refuses
 * options where the type has none), forms_view draws it with the table's control, a
 * required field left empty gets the table's message, junk gets the parser's message and no
 * value, and the API schema is a JSON Schema of a string. */
static void test_field_types_table(void **state)
{
	(void)state;
	struct view *v = NULL;
	char err[512], flag[64];
	assert_int_equal(view_load_messages("data/i18n", &v, err, sizeof(err)), 0);
	json_t *depts = json_load_file("data/catalog/departments.json", 0, NULL);
	json_t *services = json_load_file("data/catalog/services.json", 0, NULL);
	assert_non_null(depts);
	assert_non_null(services);
	json_t *svc = NULL, *x;
	size_t k;
	json_array_foreach(services, k, x) {
		if (!json_object_get(x, "fee")) {
			svc = json_deep_copy(x);
			break;
		}
	}
	assert_non_null(svc);
	assert_true(catalog_field_types_n >= 11);
	for (size_t i = 0; i < catalog_field_types_n; i++) {
		const struct catalog_field_type *t = &catalog_field_types[i];
		assert_ptr_equal(catalog_field_type(t->name), t); /* names unique */
		assert_true(catalog_field_type_ok(t->name));
		assert_non_null(strstr(catalog_field_type_names(), t->name));
		assert_non_null(t->parse);
		assert_non_null(t->control);
		assert_true(t->shown_max > 0);
		assert_true(view_has(v, t->missing));
		if (t->hint)
			assert_true(view_has(v, t->hint));

		/* The catalog: a service with a field of this type is valid. */
		json_t *def = field_def(t);
		json_object_set(svc, "form", def);
		json_t *root = json_pack("{s:O,s:[O]}", "departments", depts, "services", svc);
		size_t nerr = 0, nrec = 0;
		struct catalog_set set;
		int rc = catalog_validate(root, NULL, stderr, &nerr, &nrec, &set);
		if (rc)
			fail_msg("type %s: the catalog refuses a field of it", t->name);
		catalog_set_release(&set);
		json_decref(root);
		if (!t->options) { /* ... and options on it are refused */
			json_object_set_new(json_array_get(def, 0), "options", json_pack("[{s:s}]", "value", "a"));
			root = json_pack("{s:O,s:[O]}", "departments", depts, "services", svc);
			assert_int_equal(catalog_validate(root, NULL, NULL, &nerr, &nrec, &set), GH_EVALIDATION);
			json_decref(root);
			json_object_del(json_array_get(def, 0), "options");
		}

		/* Rendering. */
		assert_int_equal(forms_def_check(def), 0);
		json_t *view = forms_view(def, NULL, NULL, v, "en");
		json_t *fv = json_array_get(view, 0);
		assert_string_equal(json_string_value(json_object_get(fv, "input_type")), t->control);
		assert_int_equal(json_is_true(json_object_get(fv, "is_input")), t->is_input);
		snprintf(flag, sizeof(flag), "is_%s", t->name);
		assert_true(json_is_true(json_object_get(fv, flag)));
		assert_int_equal(json_object_get(fv, "options") != NULL, t->options);
		json_decref(view);

		/* Parsing and validation. */
		json_t *values, *errors, *in = json_object();
		assert_int_equal(forms_validate(def, in, v, "en", &values, &errors), 0);
		assert_int_equal(json_object_size(values), 0);
		struct arena *a = arena_new(512);
		const struct msg_arg args[] = { MA("label", "Field") };
		assert_string_equal(json_string_value(json_object_get(errors, "f")),
				    view_fmt(v, "en", a, t->missing, args, ARRAY_LEN(args)));
		arena_free(a);
		json_decref(values);
		json_decref(errors);
		json_object_set_new(in, "f", json_string("\x01zz"));
		assert_int_equal(forms_validate(def, in, v, "en", &values, &errors), 0);
		assert_null(json_object_get(values, "f"));
		assert_non_null(json_object_get(errors, "f"));
		json_t *value = NULL;
		const char *reason = NULL;
		const char *m = t->parse(json_array_get(def, 0), str_c("\x01zz"), &value, &reason);
		assert_non_null(m);
		assert_null(value);
		assert_true(view_has(v, m));
		json_decref(values);
		json_decref(errors);
		json_decref(in);

		/* The API schema. */
		json_t *schema = json_loads(t->schema, 0, NULL);
		if (!schema)
			fail_msg("type %s: its schema is not JSON", t->name);
		assert_string_equal(json_string_value(json_object_get(schema, "type")), "string");
		json_decref(schema);
		json_t *fs = catalog_form_schema(def);
		assert_non_null(fs);
		assert_non_null(json_object_get(json_object_get(fs, "properties"), "f"));
		assert_string_equal(json_string_value(json_array_get(json_object_get(fs, "required"), 0)), "f");
		if (t->options)
			assert_int_equal(json_array_size(json_object_get(json_object_get(json_object_get(fs, "properties"), "f"),
									"enum")),
					 2);
		json_decref(fs);
		json_decref(def);
	}
	json_t *bad = json_pack("[{s:s,s:s}]", "key", "f", "type", "no_such_type");
	assert_null(catalog_form_schema(bad));
	assert_int_equal(forms_def_check(bad), GH_EINVAL);
	json_decref(bad);
	json_decref(svc);
	json_decref(services);
	json_decref(depts);
	view_free(v);
}

/* The validator alone (what the fuzzer drives): odd roots and deep junk are reported. */
static void test_validate_no_db(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"42", "\"x\"", "null", "{\"services\": 1}", "{\"extra\": []}", "[1, [2], {}]",
		"{\"services\": [{\"code\": \"a-1\", \"form\": [{\"key\": \"Bad Key\"}]}]}",
		"{\"regions\": [{\"code\": \"r\", \"parent\": \"r\", \"level\": \"x\"}]}",
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		json_t *j = json_loads(bad[i], JSON_DECODE_ANY, NULL);
		assert_non_null(j);
		size_t nerr = 0, nrec = 0;
		struct catalog_set set;
		assert_int_equal(catalog_validate(j, NULL, NULL, &nerr, &nrec, &set), GH_EVALIDATION);
		assert_true(nerr > 0 && nrec > 0);
		json_decref(j);
	}
	json_t *empty = json_object();
	struct catalog_set set;
	size_t nerr, nrec;
	assert_int_equal(catalog_validate(empty, NULL, NULL, &nerr, &nrec, &set), 0);
	assert_int_equal(json_array_size(set.services), 0);
	catalog_set_release(&set);
	json_decref(empty);
}

/* ---- decision rules (rules.c) ------------------------------------------------------------ */

static const char *const RULES =
	"{\"instant\": true, \"conditions\": ["
	"{\"code\": \"age\", \"fact\": \"age\", \"at_least\": 60, \"text_zh\": \"a\", \"text_en\": \"a\"},"
	"{\"code\": \"div\", \"fact\": \"division\", \"in\": [\"3201\", \"110105\"], \"text_zh\": \"d\", \"text_en\": \"d\"},"
	"{\"code\": \"kind\", \"fact\": \"applicant_kind\", \"equals\": \"individual\", \"text_zh\": \"k\", \"text_en\": \"k\"},"
	"{\"code\": \"hukou\", \"fact\": \"ecert\", \"holds\": \"household_register\", \"text_zh\": \"h\", \"text_en\": \"h\"},"
	"{\"code\": \"income\", \"field\": \"income\", \"at_most\": 1100, \"text_zh\": \"i\", \"text_en\": \"i\"},"
	"{\"code\": \"why\", \"field\": \"why\", \"in\": [\"illness\", \"labor\"], \"text_zh\": \"w\", \"text_en\": \"w\"}]}";

/* The status of each condition (in order) and of the set, for facts and form as JSON text. */
static void expect_rules(const char *facts, const char *form, const char *const want[6], enum catalog_rule_status all)
{
	json_t *rules = json_loads(RULES, 0, NULL), *f = json_loads(facts, 0, NULL);
	json_t *v = form ? json_loads(form, 0, NULL) : NULL, *results = NULL;
	assert_non_null(rules);
	assert_non_null(f);
	assert_int_equal(catalog_rules_eval(rules, f, v, &results), all);
	assert_int_equal(json_array_size(results), 6);
	for (size_t i = 0; i < 6; i++) {
		const char *got = json_string_value(json_object_get(json_array_get(results, i), "status"));
		if (strcmp(got, want[i]) != 0)
			fail_msg("condition %zu with facts %s form %s: %s, expected %s", i, facts, form ? form : "-", got, want[i]);
	}
	json_decref(results);
	json_decref(v);
	json_decref(f);
	json_decref(rules);
}

static void test_rules_eval(void **state)
{
	(void)state;
	const char *all_met[] = { "met", "met", "met", "met", "met", "met" };
	/* the boundaries hold: 60 is "at least 60", 1100 "at most 1100"; "320105" is in "3201" */
	expect_rules("{\"age\": 60, \"division\": \"320105\", \"applicant_kind\": \"individual\", \"ecerts\": [\"x\", \"household_register\"]}",
		     "{\"income\": \"1100\", \"why\": \"labor\"}", all_met, CATALOG_RULE_MET);
	expect_rules("{\"age\": 76, \"division\": \"110105\", \"applicant_kind\": \"individual\", \"ecerts\": [\"household_register\"]}",
		     "{\"income\": \"0.5\", \"why\": \"illness\"}", all_met, CATALOG_RULE_MET);
	/* just outside each: not met; a division is matched by its leading digits only */
	const char *none[] = { "not_met", "not_met", "not_met", "not_met", "not_met", "not_met" };
	expect_rules("{\"age\": 59, \"division\": \"320201\", \"applicant_kind\": \"enterprise\", \"ecerts\": []}",
		     "{\"income\": \"1100.01\", \"why\": \"other\"}", none, CATALOG_RULE_NOT_MET);
	expect_rules("{\"age\": 0, \"division\": \"11010\", \"applicant_kind\": \"Individual\", \"ecerts\": [\"household\"]}",
		     "{\"income\": \"12abc\", \"why\": \"Illness\"}", none, CATALOG_RULE_NOT_MET);
	/* nothing held and no form (before applying): every condition unknown, the wallet too */
	const char *unknown[] = { "unknown", "unknown", "unknown", "unknown", "unknown", "unknown" };
	expect_rules("{}", NULL, unknown, CATALOG_RULE_UNKNOWN);
	expect_rules("{\"age\": null, \"division\": \"\"}", "{\"income\": \"\", \"why\": \"\"}", unknown, CATALOG_RULE_UNKNOWN);
	/* one not met outweighs the unknown ones; met and unknown alone stay unknown */
	const char *mixed[] = { "met", "unknown", "not_met", "unknown", "unknown", "unknown" };
	expect_rules("{\"age\": 61, \"applicant_kind\": \"enterprise\"}", NULL, mixed, CATALOG_RULE_NOT_MET);
	const char *partly[] = { "met", "met", "met", "met", "unknown", "unknown" };
	expect_rules("{\"age\": 61, \"division\": \"110105\", \"applicant_kind\": \"individual\", \"ecerts\": [\"household_register\"]}",
		     NULL, partly, CATALOG_RULE_UNKNOWN);
	/* a set without conditions proves nothing */
	json_t *empty = json_pack("{s:[]}", "conditions"), *facts = json_object();
	assert_int_equal(catalog_rules_eval(empty, facts, NULL, NULL), CATALOG_RULE_UNKNOWN);
	json_decref(empty);
	json_decref(facts);
}

/* Validates the demo item `code` with its "rules" replaced by rules (JSON text; NULL: as it is)
 * and returns the error text (empty when valid), malloc'd. */
static char *rules_errors(const char *code, const char *rules)
{
	json_t *all = json_load_file("data/catalog/services.json", 0, NULL);
	assert_non_null(all);
	json_t *item = NULL, *e;
	size_t i;
	json_array_foreach(all, i, e)
		if (!strcmp(json_string_value(json_object_get(e, "code")), code))
			item = json_deep_copy(e);
	json_decref(all);
	assert_non_null(item);
	if (rules)
		json_object_set_new(item, "rules", json_loads(rules, JSON_DECODE_ANY, NULL));
	json_t *root = json_pack("{s:[o]}", "services", item);
	json_t *depts = json_pack("{s:b,s:b}", "trans", 1, "civ", 1);
	struct catalog_known known = { .departments = depts };
	char *buf = NULL;
	size_t len = 0, nerr = 0, nrec = 0;
	FILE *out = open_memstream(&buf, &len);
	struct catalog_set set;
	int rc = catalog_validate(root, &known, out, &nerr, &nrec, &set);
	fclose(out);
	if (rc == 0)
		catalog_set_release(&set);
	assert_int_equal(rc == 0, len == 0);
	json_decref(root);
	json_decref(depts);
	return buf;
}

static void test_rules_check(void **state)
{
	(void)state;
	/* the demo's rules are valid */
	static const char *const demo[] = { "trans-0006", "civ-0006", "civ-0004" };
	for (size_t i = 0; i < ARRAY_LEN(demo); i++) {
		char *e = rules_errors(demo[i], NULL);
		assert_string_equal(e, "");
		free(e);
	}
#define C(body) "{\"instant\": true, \"conditions\": [{\"code\": \"c\", \"text_zh\": \"条件\", \"text_en\": \"c\", " body "}]}"
	static const struct {
		const char *code, *rules, *path, *says;
	} bad[] = {
		{ "civ-0004", C("\"fact\": \"income\", \"at_most\": 3"), "services[0].rules.conditions[0].fact", "unknown fact \"income\"" },
		{ "civ-0004", C("\"field\": \"salary\", \"at_most\": 3"), "services[0].rules.conditions[0].field", "no field \"salary\"" },
		{ "civ-0004", C("\"field\": \"monthly_income\", \"equals\": \"3\""), "services[0].rules.conditions[0]", "number field is tested with at_least or at_most" },
		{ "civ-0004", C("\"field\": \"monthly_income\", \"at_most\": \"3\""), "services[0].rules.conditions[0].at_most", "expected a number" },
		{ "civ-0004", C("\"field\": \"difficulty\", \"in\": [\"illness\", \"bad luck\"]"), "services[0].rules.conditions[0].in", "\"bad luck\" is not an option" },
		{ "civ-0004", C("\"field\": \"id_number\", \"equals\": \"x\""), "services[0].rules.conditions[0].field", "is of type id_number" },
		{ "civ-0004", C("\"fact\": \"age\", \"equals\": \"60\""), "services[0].rules.conditions[0]", "the fact age cannot be tested with equals" },
		{ "civ-0004", C("\"fact\": \"age\", \"at_least\": 60.5"), "services[0].rules.conditions[0].at_least", "whole years" },
		{ "civ-0004", C("\"fact\": \"division\", \"in\": [\"3201x\"]"), "services[0].rules.conditions[0].in", "not a division code" },
		{ "civ-0004", C("\"fact\": \"ecert\", \"holds\": \"passport\""), "services[0].rules.conditions[0].holds", "known e-certificate type" },
		{ "civ-0004", C("\"fact\": \"age\", \"field\": \"monthly_income\", \"at_least\": 1"), "services[0].rules.conditions[0]", "exactly one of fact" },
		{ "civ-0004", C("\"fact\": \"age\", \"at_least\": 1, \"at_most\": 2"), "services[0].rules.conditions[0]", "exactly one of equals" },
		{ "civ-0004", C("\"fact\": \"age\", \"at_least\": 1, \"colour\": 2"), "services[0].rules.conditions[0].colour", "unknown field" },
		{ "civ-0004", "{\"conditions\": [{\"code\": \"c\", \"fact\": \"age\", \"at_least\": 1, \"text_zh\": \"条件\"}]}",
		  "services[0].rules.conditions[0].text_en", "people's words" },
		{ "civ-0004", "{\"instant\": \"yes\", \"conditions\": []}", "services[0].rules.instant", "true or false" },
		{ "civ-0004", "{\"conditions\": []}", "services[0].rules.conditions", "1 to 10 conditions" },
		{ "civ-0004", "[]", "services[0].rules", "expected an object" },
		{ "civ-0004", "{\"proactive\": true, \"conditions\": [{\"code\": \"c\", \"field\": \"monthly_income\", \"at_most\": 1, "
			      "\"text_zh\": \"条件\", \"text_en\": \"c\"}]}", "services[0].rules", "can only test facts the hall holds" },
		{ "psb-0001", C("\"fact\": \"age\", \"at_least\": 16"), "services[0].rules", "fee due before acceptance" },
	};
#undef C
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		char *e = rules_errors(bad[i].code, bad[i].rules);
		char want[300];
		snprintf(want, sizeof(want), "%s: ", bad[i].path);
		if (!strstr(e, want) || !strstr(e, bad[i].says))
			fail_msg("rules %zu: expected \"%s\" ... \"%s\", got: %s", i, want, bad[i].says, e);
		free(e);
	}
}

#define BOTH(fn)                                                                             \
	cmocka_unit_test_setup_teardown(fn, setup_sqlite, teardown),                         \
		cmocka_unit_test_setup_teardown(fn, setup_pg, teardown)

int main(void)
{
	if (!getenv("GOVHALL_TEST_PG"))
		fprintf(stderr, "test_catalog: GOVHALL_TEST_PG not set; PostgreSQL tests are skipped\n");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vocabularies_match),
		cmocka_unit_test(test_validate_no_db),
		cmocka_unit_test(test_field_types_table),
		cmocka_unit_test(test_rules_eval),
		cmocka_unit_test(test_rules_check),
		BOTH(test_demo_import),
		BOTH(test_reimport_idempotent),
		BOTH(test_change_creates_version),
		BOTH(test_withdraw),
		BOTH(test_bad_records),
		BOTH(test_joint_records),
		BOTH(test_dept_from_db),
		BOTH(test_not_json),
		BOTH(test_queries),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
