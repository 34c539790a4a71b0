/* import.c: loading catalog files into the database.
 *
 * Order of work: parse (jansson, with line and column on error) -> ask the database which
 * departments, regions and items exist -> validate everything (validate.c) -> one
 * transaction that upserts departments, regions and bundles and adds a new version for each
 * item whose content hash changed. Nothing is written unless every record is valid. */
#include "catalog/catalog.h"
#include "catalog/catalog_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "base/arena.h"
#include "base/err.h"
#include "base/log.h"
#include "base/sb.h"
#include "base/util.h"
#include "base/jsonout.h"
#include "store/cover.h"
#include "store/db.h"

DB_SQL(q_dept_codes, "SELECT code FROM departments");
DB_SQL(q_region_codes, "SELECT code FROM regions");
DB_SQL(q_item_codes, "SELECT code FROM service_items WHERE is_current = 1");
DB_SQL(q_current, "SELECT code, version, content_hash FROM service_items WHERE is_current = 1");
DB_SQL(q_max_version, "SELECT COALESCE(MAX(version), 0) FROM service_items WHERE code = ?");
DB_SQL(q_upsert_dept,
       "INSERT INTO departments (code, name_zh, name_en, phone, address_zh, address_en, position) "
       "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (code) DO UPDATE SET name_zh = excluded.name_zh, "
       "name_en = excluded.name_en, phone = excluded.phone, address_zh = excluded.address_zh, "
       "address_en = excluded.address_en, position = excluded.position");
DB_SQL(q_upsert_region,
       "INSERT INTO regions (code, parent, level, name_zh, name_en) VALUES (?, ?, ?, ?, ?) "
       "ON CONFLICT (code) DO UPDATE SET parent = excluded.parent, level = excluded.level, "
       "name_zh = excluded.name_zh, name_en = excluded.name_en");
DB_SQL(q_retire_item, "UPDATE service_items SET is_current = 0 WHERE code = ? AND is_current = 1");
DB_SQL(q_insert_item,
       "INSERT INTO service_items (code, version, is_current, department, audience, theme, "
       "item_type, level, name_zh, name_en, legal_limit_days, promised_limit_days, fee_yuan, "
       "online_depth, visits_required, conditions_zh, conditions_en, legal_basis_zh, materials, "
       "form, outcome_ecert, keywords_zh, content_hash, created_at, aliases_zh, aliases_en) "
       "VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
DB_SQL(q_withdrawn_version, "SELECT version FROM service_items WHERE code = ? AND is_current = 1");
DB_SQL(q_insert_withdrawal, "INSERT INTO service_withdrawals (code, version, withdrawn_at) VALUES (?, ?, ?)");
/* The feed's order (src/federation/natcat.c): each version and withdrawal takes the next
 * number in the transaction that writes it. On PostgreSQL the import holds the table's lock
 * until it commits, so a number is visible only after every smaller one (a reader never passes
 * a number that commits later). */
DB_SQL2(q_feed_lock, "SELECT 1", "LOCK TABLE catalog_feed IN EXCLUSIVE MODE");
DB_SQL(q_feed_add, "INSERT INTO catalog_feed (code, version, withdrawal) VALUES (?, ?, ?)");
DB_SQL(q_insert_fee, "INSERT INTO item_fees (code, version, rule) VALUES (?, ?, ?)");
DB_SQL(q_item_fee, "SELECT rule FROM item_fees WHERE code = ? AND version = ?");
DB_SQL(q_item_joint, "SELECT hall, item_code FROM item_joint WHERE code = ? AND version = ?");
DB_SQL(q_insert_joint, "INSERT INTO item_joint (code, version, hall, item_code) VALUES (?, ?, ?, ?)");
DB_SQL(q_upsert_bundle,
       "INSERT INTO bundles (code, name_zh, name_en, description_zh, description_en, position, aliases_zh, "
       "aliases_en) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (code) DO UPDATE SET name_zh = excluded.name_zh, "
       "name_en = excluded.name_en, description_zh = excluded.description_zh, "
       "description_en = excluded.description_en, position = excluded.position, "
       "aliases_zh = excluded.aliases_zh, aliases_en = excluded.aliases_en");
DB_SQL(q_clear_bundle, "DELETE FROM bundle_items WHERE bundle = ?");
DB_SQL(q_add_bundle_item, "INSERT INTO bundle_items (bundle, item, position) VALUES (?, ?, ?)");

static const char *sget(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));
	return s && *s ? s : NULL;
}

static long iget(json_t *obj, const char *key)
{
	return (long)json_integer_value(json_object_get(obj, key));
}

/* Loads the codes of q (first column) into a new set object. */
static int load_set(struct db *db, struct arena *a, struct db_sql *q, json_t **out)
{
	struct db_rows rows;
	int rc = db_query(db, a, q, DB_NOARGS, &rows);
	if (rc)
		return rc;
	*out = json_object();
	for (size_t i = 0; i < rows.nrows; i++)
		if (db_cell(&rows, i, 0))
			json_object_set_new(*out, db_cell(&rows, i, 0), json_true());
	return 0;
}

/* The content hash of an item: BLAKE2b-256 (hex) of its canonical JSON (sorted keys,
 * compact), so a re-import of the same record is recognised whatever its key order. */
static void item_hash(json_t *item, char hex[65])
{
	unsigned char h[32];
	char *canon = jsonout_dumps(item, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY);
	if (!canon)
		die("catalog: out of memory");
	crypto_generichash(h, sizeof(h), (const unsigned char *)canon, strlen(canon), NULL, 0);
	free(canon);
	sodium_bin2hex(hex, 65, h, sizeof(h));
}

static char *dump(struct arena *a, json_t *j)
{
	if (!j)
		return arena_strdup(a, "[]");
	char *s = jsonout_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	if (!s)
		die("catalog: out of memory");
	char *r = arena_strdup(a, s);
	free(s);
	return r;
}

/* Every column of an item version is covered (store/cover.h); an import's leaf commits the
 * new version and the one it retires (the ledger's version observer touches both). */
static const struct cover_table cover_items = {
	.table = "service_items", .key = "code, version",
	.cols = "is_current, department, audience, theme, item_type, level, name_zh, name_en, legal_limit_days, "
		"promised_limit_days, fee_yuan, online_depth, visits_required, conditions_zh, conditions_en, "
		"legal_basis_zh, materials, form, outcome_ecert, keywords_zh, aliases_zh, aliases_en, content_hash, created_at",
};

/* An item version's fee rule, written with the version (pay/ applies it). */
static const struct cover_table cover_fees = {
	.table = "item_fees", .key = "code, version", .cols = "rule",
};

/* An item version's second step at another hall (多地联办), written with the version. */
static const struct cover_table cover_joint = {
	.table = "item_joint", .key = "code, version", .cols = "hall, item_code",
};

/* A withdrawal: the version that was current and when it stopped being offered. */
static const struct cover_table cover_withdrawals = {
	.table = "service_withdrawals", .key = "code, version", .cols = "withdrawn_at",
};

void catalog_register(void)
{
	cover_declare(&cover_items);
	cover_declare(&cover_withdrawals);
	cover_declare(&cover_fees);
	cover_declare(&cover_joint);
	catalog_rules_register();
}

int catalog_item_joint(struct db *db, struct arena *a, const char *code, long version, const char **hall,
		       const char **item_code)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_item_joint, DB_ARGS(DB_TEXT(code), DB_INT(version)), &rows);
	if (rc)
		return rc;
	*hall = rows.nrows ? db_cell(&rows, 0, 0) : NULL;
	*item_code = rows.nrows ? db_cell(&rows, 0, 1) : NULL;
	return 0;
}

int catalog_item_fee(struct db *db, struct arena *a, const char *code, long version, const char **rule)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_item_fee, DB_ARGS(DB_TEXT(code), DB_INT(version)), &rows);
	if (rc)
		return rc;
	*rule = rows.nrows ? db_cell(&rows, 0, 0) : NULL;
	return 0;
}

static catalog_version_fn version_observer;

void catalog_observe_versions(catalog_version_fn fn)
{
	version_observer = fn;
}

static int write_item(struct db *db, struct arena *a, json_t *it, json_t *current, const char *now,
		      struct catalog_import_report *rep)
{
	char hash[65];
	const char *code = sget(it, "code");
	item_hash(it, hash);
	json_t *cur = json_object_get(current, code);
	if (cur && strcmp(json_string_value(json_array_get(cur, 1)), hash) == 0) {
		rep->items_unchanged++;
		return 0;
	}
	struct db_rows rows;
	int rc = db_query(db, a, &q_max_version, DB_ARGS(DB_TEXT(code)), &rows);
	if (rc)
		return rc;
	long version = (rows.nrows ? (long)db_cell_int(&rows, 0, 0) : 0) + 1;
	if ((rc = db_exec(db, &q_retire_item, DB_ARGS(DB_TEXT(code)), NULL)))
		return rc;

	/* audience in a fixed order, so equal sets print equally */
	unsigned aud = 0;
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(it, "audience"), i, e) {
		const char *s = json_string_value(e);
		aud |= !strcmp(s, "individual") ? CATALOG_AUD_INDIVIDUAL : CATALOG_AUD_ENTERPRISE;
	}
	const char *audience = aud == (CATALOG_AUD_INDIVIDUAL | CATALOG_AUD_ENTERPRISE) ?
				       "individual,enterprise" :
			       aud == CATALOG_AUD_ENTERPRISE ? "enterprise" : "individual";
	char fee[64];
	snprintf(fee, sizeof(fee), "%.15g", json_number_value(json_object_get(it, "fee_yuan")));
	json_t *kw = json_object_get(it, "keywords_zh");
	rc = db_exec(db, &q_insert_item,
		     DB_ARGS(DB_TEXT(code), DB_INT(version), DB_TEXT(sget(it, "department")),
			     DB_TEXT(audience), DB_TEXT(sget(it, "theme")), DB_TEXT(sget(it, "item_type")),
			     DB_TEXT(sget(it, "level")), DB_TEXT(sget(it, "name_zh")),
			     DB_TEXT(sget(it, "name_en")), DB_INT(iget(it, "legal_limit_days")),
			     DB_INT(iget(it, "promised_limit_days")), DB_TEXT(fee),
			     DB_INT(iget(it, "online_depth")), DB_INT(iget(it, "visits_required")),
			     DB_TEXT(sget(it, "conditions_zh")), DB_TEXT(sget(it, "conditions_en")),
			     DB_TEXT(sget(it, "legal_basis_zh")),
			     DB_TEXT(dump(a, json_object_get(it, "materials"))),
			     DB_TEXT(dump(a, json_object_get(it, "form"))),
			     DB_TEXT(sget(it, "outcome_ecert")), DB_TEXT(dump(a, kw)), DB_TEXT(hash),
			     DB_TEXT(now), DB_TEXT(dump(a, json_object_get(it, "aliases_zh"))),
			     DB_TEXT(dump(a, json_object_get(it, "aliases_en")))),
		     NULL);
	json_t *fee_rule = json_object_get(it, "fee");
	if (!rc && fee_rule) {
		char *rule = jsonout_dumps(fee_rule, JSON_COMPACT | JSON_SORT_KEYS);
		if (!rule)
			die("catalog: out of memory");
		rc = db_exec(db, &q_insert_fee, DB_ARGS(DB_TEXT(code), DB_INT(version), DB_TEXT(rule)), NULL);
		free(rule);
		if (!rc)
			rc = cover_touch(db, "item_fees", arena_printf(a, "%s:%ld", code, version), "catalog.fee");
	}
	json_t *joint = json_object_get(it, "joint");
	if (!rc && joint) {
		rc = db_exec(db, &q_insert_joint,
			     DB_ARGS(DB_TEXT(code), DB_INT(version), DB_TEXT(sget(joint, "hall")), DB_TEXT(sget(joint, "item_code"))),
			     NULL);
		if (!rc)
			rc = cover_touch(db, "item_joint", arena_printf(a, "%s:%ld", code, version), "catalog.joint");
	}
	if (!rc)
		rc = catalog_rules_write(db, a, code, version, json_object_get(it, "rules"));
	if (!rc)
		rc = db_exec(db, &q_feed_add, DB_ARGS(DB_TEXT(code), DB_INT(version), DB_INT(0)), NULL);
	if (!rc && version_observer)
		rc = version_observer(db, a, code, version);
	if (rc)
		return rc;
	if (cur)
		rep->items_changed++;
	else
		rep->items_new++;
	return 0;
}

/* Withdraws the current version of code (validated: there is one): no version is current
 * any more, and the withdrawal is recorded; both rows committed to the log. */
static int withdraw_item(struct db *db, struct arena *a, const char *code, const char *now)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_withdrawn_version, DB_ARGS(DB_TEXT(code)), &rows);
	if (rc || !rows.nrows)
		return rc ? rc : GH_ENOTFOUND;
	long version = (long)db_cell_int(&rows, 0, 0);
	const char *key = arena_printf(a, "%s:%ld", code, version);
	if (!(rc = db_exec(db, &q_retire_item, DB_ARGS(DB_TEXT(code)), NULL)) &&
	    !(rc = db_exec(db, &q_insert_withdrawal, DB_ARGS(DB_TEXT(code), DB_INT(version), DB_TEXT(now)), NULL)) &&
	    !(rc = db_exec(db, &q_feed_add, DB_ARGS(DB_TEXT(code), DB_INT(version), DB_INT(1)), NULL)) &&
	    !(rc = cover_touch(db, "service_items", key, NULL)))
		rc = cover_touch(db, "service_withdrawals", key, "catalog.withdraw");
	return rc;
}

static int write_all(struct db *db, struct arena *a, const struct catalog_set *set, bool progress,
		     struct catalog_import_report *rep)
{
	size_t i, j;
	json_t *e, *x;
	int rc;
	char now[32];
	db_now_iso(now, sizeof(now));
	if ((rc = db_exec(db, &q_feed_lock, DB_NOARGS, NULL)))
		return rc;

	json_array_foreach(set->departments, i, e) {
		rc = db_exec(db, &q_upsert_dept,
			     DB_ARGS(DB_TEXT(sget(e, "code")), DB_TEXT(sget(e, "name_zh")),
				     DB_TEXT(sget(e, "name_en")), DB_TEXT(sget(e, "phone")),
				     DB_TEXT(sget(e, "address_zh")), DB_TEXT(sget(e, "address_en")),
				     DB_INT(i)),
			     NULL);
		if (rc)
			return rc;
		rep->departments++;
	}
	json_array_foreach(set->regions, i, e) {
		rc = db_exec(db, &q_upsert_region,
			     DB_ARGS(DB_TEXT(sget(e, "code")), DB_TEXT(sget(e, "parent")),
				     DB_TEXT(sget(e, "level")), DB_TEXT(sget(e, "name_zh")),
				     DB_TEXT(sget(e, "name_en"))),
			     NULL);
		if (rc)
			return rc;
		rep->regions++;
	}

	struct db_rows rows;
	if ((rc = db_query(db, a, &q_current, DB_NOARGS, &rows)))
		return rc;
	json_t *current = json_object();
	for (i = 0; i < rows.nrows; i++)
		json_object_set_new(current, db_cell(&rows, i, 0),
				    json_pack("[Is]", (json_int_t)db_cell_int(&rows, i, 1),
					      db_cell(&rows, i, 2) ? db_cell(&rows, i, 2) : ""));
	size_t n = json_array_size(set->services);
	json_array_foreach(set->services, i, e) {
		rc = write_item(db, a, e, current, now, rep);
		if (rc) {
			json_decref(current);
			return rc;
		}
		if (progress && (i + 1 == n || i % 10 == 0))
			fprintf(stderr, "\rimporting services: %zu/%zu", i + 1, n);
	}
	if (progress && n)
		fputc('\n', stderr);
	json_decref(current);
	json_array_foreach(set->withdrawn, i, e) {
		if ((rc = withdraw_item(db, a, json_string_value(e), now)))
			return rc;
		rep->items_withdrawn++;
	}

	json_array_foreach(set->bundles, i, e) {
		const char *code = sget(e, "code");
		rc = db_exec(db, &q_upsert_bundle,
			     DB_ARGS(DB_TEXT(code), DB_TEXT(sget(e, "name_zh")), DB_TEXT(sget(e, "name_en")),
				     DB_TEXT(sget(e, "description_zh")),
				     DB_TEXT(sget(e, "description_en")), DB_INT(i),
				     DB_TEXT(dump(a, json_object_get(e, "aliases_zh"))),
				     DB_TEXT(dump(a, json_object_get(e, "aliases_en")))),
			     NULL);
		if (!rc)
			rc = db_exec(db, &q_clear_bundle, DB_ARGS(DB_TEXT(code)), NULL);
		if (rc)
			return rc;
		json_array_foreach(json_object_get(e, "items"), j, x) {
			rc = db_exec(db, &q_add_bundle_item,
				     DB_ARGS(DB_TEXT(code), DB_TEXT(json_string_value(x)), DB_INT(j)), NULL);
			if (rc)
				return rc;
		}
		rep->bundles++;
	}
	return catalog_changed(db);
}

/* Validates root and writes it in one transaction. */
static int import_root(struct db *db, json_t *root, bool progress, FILE *errors,
		       struct catalog_import_report *rep)
{
	struct arena *a = arena_new(64 * 1024);
	struct catalog_known known = { 0 };
	struct catalog_set set = { 0 };
	size_t nerr = 0, nbad = 0;
	int rc;

	memset(rep, 0, sizeof(*rep));
	if (sodium_init() < 0)
		die("catalog: libsodium failed to initialise");
	if ((rc = load_set(db, a, &q_dept_codes, &known.departments)) ||
	    (rc = load_set(db, a, &q_region_codes, &known.regions)) ||
	    (rc = load_set(db, a, &q_item_codes, &known.items)))
		goto out;
	rc = catalog_validate(root, &known, errors, &nerr, &nbad, &set);
	if (rc) {
		rep->errors = nbad ? nbad : 1;
		goto out;
	}
	if ((rc = db_begin(db)))
		goto out;
	rc = write_all(db, a, &set, progress, rep);
	if (!rc)
		rc = db_commit(db);
	if (rc) {
		db_rollback(db);
		log_error("catalog import failed: %s (%s)", err_name(rc), db_last_error(db));
		if (errors)
			fprintf(errors, "database error: %s\n", db_last_error(db));
		struct catalog_import_report zero = { 0 };
		*rep = zero;
	}
out:
	catalog_set_release(&set);
	json_decref(known.departments);
	json_decref(known.regions);
	json_decref(known.items);
	arena_free(a);
	return rc;
}

/* Parses path; on failure reports "path:line:column: reason" on errors. */
static int load_json(const char *path, FILE *errors, json_t **out)
{
	json_error_t je;
	*out = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (*out)
		return 0;
	if (je.line < 0) {
		if (errors)
			fprintf(errors, "%s: %s\n", path, je.text);
		return GH_EIO;
	}
	if (errors)
		fprintf(errors, "%s:%d:%d: not valid JSON: %s\n", path, je.line, je.column, je.text);
	return GH_EINVAL;
}

int catalog_import_file(struct db *db, const char *path, bool progress, FILE *errors,
			struct catalog_import_report *rep)
{
	json_t *root;
	memset(rep, 0, sizeof(*rep));
	int rc = load_json(path, errors, &root);
	if (rc)
		return rc;
	rc = import_root(db, root, progress, errors, rep);
	json_decref(root);
	return rc;
}

int catalog_import_demo(struct db *db, const char *data_dir, FILE *errors,
			struct catalog_import_report *rep)
{
	static const char *const parts[] = { "departments", "regions", "services", "bundles" };
	json_t *root = json_object();
	int rc = 0;
	memset(rep, 0, sizeof(*rep));
	for (size_t i = 0; i < ARRAY_LEN(parts); i++) {
		char path[4096];
		json_t *j;
		snprintf(path, sizeof(path), "%s/catalog/%s.json", data_dir, parts[i]);
		if ((rc = load_json(path, errors, &j)))
			goto out;
		json_object_set_new(root, parts[i], j);
	}
	rc = import_root(db, root, false, errors, rep);
out:
	json_decref(root);
	return rc;
}
