/* sealed.c: the personal fields of stored forms, sealed at rest and masked on screen.
 *
 * A stored form (applications.form, bundle_applications.draft_form) is a JSON object of the
 * form's values by field key. The value of a personal field (forms_field_personal: the types
 * id_number, uscc, phone, email and address, and fields the catalog marks "personal") is not
 * its text but {"masked": "<what pages show>", "sealed": "<base64url>"}, the text sealed with
 * the hall's key file (identity/crypto.h: XChaCha20-Poly1305 under the current key) with the
 * associated data "form:<field key>", so a sealed value cannot be moved to another field.
 * Every other value is its plain text. So:
 * - showing a form (pages, API, lists) reads the masks and opens nothing;
 * - case_form_plain() is the one way to the plaintext (observers, certificates, the audit);
 * - a reveal shows one field of that plaintext;
 * - `govhall key rotate` / `reseal` re-seal every value under the current key (the plaintext,
 *   and so case_form_plain's text, stays the same);
 * - forms stored before sealing existed (form_key_id NULL) are sealed by a pass at start.
 * All functions allocate in the arena they are given; jansson values they return are new
 * references unless said otherwise. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/jsonout.h"
#include "base/log.h"
#include "base/str.h"
#include "base/util.h"
#include "cases/cases_impl.h"
#include "cases/forms.h"
#include "catalog/catalog.h"
#include "identity/crypto.h"
#include "identity/idcheck.h"
#include "identity/identity.h"
#include "store/db.h"

#define AD_MAX 80        /* "form:" + a field key (at most 64 characters) */
#define SEALED_MAX 16384 /* base64 of a sealed value: a textarea of 2000 characters fits */
#define BATCH 200        /* rows per transaction of a reseal or sealing pass */

static void ad_of(const char *key, char out[AD_MAX])
{
	snprintf(out, AD_MAX, "form:%s", key);
}

static bool is_sealed(json_t *v)
{
	return json_is_object(v) && json_is_string(json_object_get(v, "sealed"));
}

/* The definition's field for key (NULL when none). */
static json_t *field_of(json_t *def, const char *key)
{
	size_t i;
	json_t *f;
	json_array_foreach(def, i, f)
	{
		const char *k = json_string_value(json_object_get(f, "key"));
		if (k && strcmp(k, key) == 0)
			return f;
	}
	return NULL;
}

/* The first n characters (UTF-8) of s, or all of it. */
static size_t utf8_prefix(const char *s, size_t n)
{
	size_t i = 0;
	while (s[i] && n) {
		i++;
		while (((unsigned char)s[i] & 0xC0) == 0x80)
			i++;
		n--;
	}
	return i;
}

const char *case_form_mask(struct arena *a, json_t *field, const char *v)
{
	const char *t = json_string_value(json_object_get(field, "type"));
	size_t n = strlen(v);
	if (!t)
		t = "";
	if (strcmp(t, "id_number") == 0 || strcmp(t, "uscc") == 0 || strcmp(t, "phone") == 0)
		return idcheck_mask(v, n, arena_alloc(a, n + 1), n + 1);
	if (strcmp(t, "email") == 0)
		return idcheck_mask_email(v, n, arena_alloc(a, n + 4), n + 4);
	long chars = str_utf8_chars(v, n);
	if (strcmp(t, "address") == 0 || strcmp(t, "text") == 0) {
		/* An address keeps its first third, up to six characters (the city and district),
		 * a text (a name, an account number) its first character; never the whole. */
		long keep = strcmp(t, "address") == 0 ? (chars / 3 > 6 ? 6 : chars / 3) : (chars >= 2 ? 1 : 0);
		return arena_printf(a, "%.*s****", (int)utf8_prefix(v, (size_t)keep), v);
	}
	return "****"; /* dates, numbers, choices, long texts: nothing of them */
}

/* plain sealed for field key under k's current key, as base64url text in a. */
static char *seal_b64(const struct keyring *k, struct arena *a, const char *key, const char *plain)
{
	char ad[AD_MAX];
	ad_of(key, ad);
	return crypto_seal_text(k, a, ad, plain);
}

/* j as stored text (sorted keys, compact) in a; j is released. */
static int dump(struct arena *a, json_t *j, const char **out)
{
	char *text = jsonout_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	if (!text)
		return GH_EINTERNAL;
	*out = arena_strdup(a, text);
	free(text);
	return 0;
}

static int key_order(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The masks in place of a stored form object's sealed values (what case_form_masked shows). */
static void mask_in_place(json_t *j, json_t **masked_keys)
{
	if (masked_keys)
		*masked_keys = json_array();
	const char *key;
	json_t *v;
	json_object_foreach(j, key, v)
	{
		if (!json_is_object(v))
			continue;
		const char *m = json_string_value(json_object_get(v, "masked"));
		json_object_set_new(j, key, json_string(m ? m : "****"));
		if (masked_keys)
			json_array_append_new(*masked_keys, json_string(key));
	}
}

int case_form_seal_shown(const struct keyring *k, struct arena *a, json_t *def, json_t *values, const char **stored,
			 int64_t *key_id, json_t **shown, json_t **masked_keys)
{
	/* Built in the stored text's order (sorted keys), so that what is shown from it is what
	 * case_form_masked shows of the text. */
	size_t n = json_object_size(values), i = 0;
	const char **keys = arena_array(a, n ? n : 1, sizeof(*keys));
	const char *key;
	json_t *v;
	json_object_foreach(values, key, v)
		keys[i++] = key;
	qsort(keys, n, sizeof(*keys), key_order);
	json_t *out = json_object();
	int rc = 0;
	bool any = false;
	for (i = 0; i < n; i++) {
		key = keys[i];
		v = json_object_get(values, key);
		json_t *f = field_of(def, key);
		const char *s = json_string_value(v);
		if (!f || !s || !*s || !forms_field_personal(f)) {
			json_object_set(out, key, v);
			continue;
		}
		if (!k) {
			rc = GH_EUNAVAILABLE;
			break;
		}
		json_object_set_new(out, key, json_pack("{s:s,s:s}", "masked", case_form_mask(a, f, s), "sealed",
							seal_b64(k, a, key, s)));
		any = true;
	}
	if (rc) {
		json_decref(out);
		return rc;
	}
	*key_id = any ? keyring_current_id(k) : 0;
	if (shown) {
		*shown = json_copy(out);
		mask_in_place(*shown, masked_keys);
	}
	return dump(a, out, stored);
}

int case_form_seal(const struct keyring *k, struct arena *a, json_t *def, json_t *values, const char **stored,
		   int64_t *key_id)
{
	return case_form_seal_shown(k, a, def, values, stored, key_id, NULL, NULL);
}

/* Opens one sealed value of field key. GH_EINVAL when it cannot be opened. */
static int open_one(const struct keyring *k, struct arena *a, const char *key, json_t *v, char **out, uint32_t *kid)
{
	const char *b64 = json_string_value(json_object_get(v, "sealed"));
	size_t len = json_string_length(json_object_get(v, "sealed"));
	if (!k || !b64 || len > SEALED_MAX)
		return GH_EINVAL;
	char ad[AD_MAX];
	ad_of(key, ad);
	return crypto_open_text(k, a, ad, b64, len, out, kid);
}

/* The stored text as an object (new reference), or NULL when it is not one. NULL text: {}. */
static json_t *load(const char *stored)
{
	json_t *j = json_loads(stored ? stored : "{}", 0, NULL);
	if (!json_is_object(j)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/* Opens every sealed value of stored: with reseal, seals it again under k's current key;
 * without, puts its plaintext in its place. The result in *out. */
static int rewrite(const struct keyring *k, struct arena *a, const char *stored, bool reseal, const char **out)
{
	json_t *j = load(stored);
	if (!j)
		return GH_EINVAL;
	const char *key;
	json_t *v;
	json_object_foreach(j, key, v)
	{
		if (!is_sealed(v))
			continue;
		char *plain;
		int rc = open_one(k, a, key, v, &plain, NULL);
		if (rc) {
			json_decref(j);
			return rc;
		}
		if (reseal)
			json_object_set_new(v, "sealed", json_string(seal_b64(k, a, key, plain)));
		else
			json_object_set_new(j, key, json_string(plain));
		sodium_memzero(plain, strlen(plain));
	}
	return dump(a, j, out);
}

int case_form_plain(const struct keyring *k, struct arena *a, const char *stored, const char **out)
{
	return rewrite(k, a, stored, false, out);
}

json_t *case_form_masked(const char *stored, json_t **masked_keys)
{
	json_t *j = load(stored);
	if (!j) {
		if (masked_keys)
			*masked_keys = json_array();
		return json_object();
	}
	mask_in_place(j, masked_keys);
	return j;
}

int case_form_reveal(const struct keyring *k, struct arena *a, const char *stored, const char *key, const char **value)
{
	/* Through case_form_plain, the one way to a form's content. */
	const char *plain;
	int rc = case_form_plain(k, a, stored, &plain);
	if (rc)
		return rc;
	json_t *j = json_loads(plain, 0, NULL);
	json_t *v = key ? json_object_get(j, key) : NULL;
	if (json_is_string(v))
		*value = arena_strdup(a, json_string_value(v));
	else
		rc = GH_ENOTFOUND;
	json_decref(j);
	return rc;
}

bool case_form_is_sealed(const char *stored, const char *key)
{
	json_t *j = load(stored);
	bool s = j && is_sealed(json_object_get(j, key));
	json_decref(j);
	return s;
}

/* ---- the definition a bundle's draft is sealed by --------------------------------------- */

json_t *case_bundle_seal_def(struct db *db, struct arena *a, const char *code)
{
	const char *nzh, *nen;
	struct catalog_service *svcs;
	size_t n;
	json_t *def = json_array();
	if (catalog_bundle_services(db, a, code, &nzh, &nen, &svcs, &n))
		return def;
	for (size_t i = 0; i < n; i++) {
		json_t *fd = json_loads(svcs[i].form ? svcs[i].form : "[]", 0, NULL);
		size_t k;
		json_t *f;
		json_array_foreach(fd, k, f)
		{
			const char *key = json_string_value(json_object_get(f, "key"));
			if (!key)
				continue;
			/* A key asked under the item's own name too ("<item>__<key>", bundles.c), and
			 * the shared key personal when any item's field of that name is. */
			json_t *prev = field_of(def, key);
			if (!prev || (!forms_field_personal(prev) && forms_field_personal(f)))
				json_array_append(def, f);
			json_t *alias = json_deep_copy(f);
			json_object_set_new(alias, "key", json_sprintf("%s__%s", svcs[i].code, key));
			json_array_append_new(def, alias);
		}
		json_decref(fd);
	}
	return def;
}

/* ---- passes over the stored forms -------------------------------------------------------- */

DB_SQL(q_legacy_apps,
       "SELECT a.id, a.form, s.form FROM applications a JOIN service_items s ON s.code = a.item_code "
       "AND s.version = a.item_version WHERE a.form_key_id IS NULL ORDER BY a.id LIMIT ?");
DB_SQL(q_legacy_app_set, "UPDATE applications SET form = ?, form_key_id = ? WHERE id = ? AND form_key_id IS NULL");
DB_SQL(q_legacy_drafts,
       "SELECT id, bundle_code, draft_form FROM bundle_applications WHERE draft_key_id IS NULL AND id > ? "
       "AND draft_form IS NOT NULL ORDER BY id LIMIT ?");
DB_SQL(q_legacy_draft_set,
       "UPDATE bundle_applications SET draft_form = ?, draft_key_id = ? WHERE id = ? AND draft_key_id IS NULL");
DB_SQL(q_reseal_apps,
       "SELECT id, form, form_key_id FROM applications WHERE id > ? AND form_key_id > 0 AND form_key_id <> ? "
       "ORDER BY id LIMIT ?");
DB_SQL(q_reseal_app_set, "UPDATE applications SET form = ?, form_key_id = ? WHERE id = ? AND form_key_id = ?");
DB_SQL(q_reseal_drafts,
       "SELECT id, draft_form, draft_key_id FROM bundle_applications WHERE id > ? AND draft_key_id > 0 "
       "AND draft_key_id <> ? AND draft_form IS NOT NULL ORDER BY id LIMIT ?");
DB_SQL(q_reseal_draft_set,
       "UPDATE bundle_applications SET draft_form = ?, draft_key_id = ? WHERE id = ? AND draft_key_id = ?");

/* Seals the values of one legacy form text by def. */
static int seal_legacy(const struct keyring *k, struct arena *a, json_t *def, const char *text, const char **out,
		       int64_t *kid)
{
	json_t *vals = load(text);
	if (!vals)
		return GH_EINVAL;
	int rc = case_form_seal(k, a, def, vals, out, kid);
	json_decref(vals);
	return rc;
}

/* Ends a pass's transaction (commit when rc is 0, else roll back) and frees its arena. */
static int finish(struct db *db, struct arena *a, int rc)
{
	if (!rc)
		rc = db_commit(db);
	else
		db_rollback(db);
	arena_free(a);
	return rc;
}

int cases_forms_seal_legacy(const struct keyring *k, struct db *db, size_t *count, bool *more)
{
	struct arena *a = arena_new(1 << 16);
	struct db_rows rows;
	*more = false;
	int rc = db_begin(db);
	if (!rc)
		rc = db_query(db, a, &q_legacy_apps, DB_ARGS(DB_INT(BATCH)), &rows);
	for (size_t i = 0; !rc && i < rows.nrows; i++) {
		json_t *def = json_loads(db_cell(&rows, i, 2) ? db_cell(&rows, i, 2) : "[]", 0, NULL);
		const char *out;
		int64_t kid;
		int src = seal_legacy(k, a, def, db_cell(&rows, i, 1), &out, &kid);
		json_decref(def);
		if (src == GH_EINVAL) { /* not an object: nothing of it can be shown either */
			log_error("cases: the form of application %lld is not a JSON object", (long long)db_cell_int(&rows, i, 0));
			out = "{}", kid = 0;
		} else if ((rc = src)) {
			break;
		}
		int64_t changed = 0;
		rc = db_exec(db, &q_legacy_app_set, DB_ARGS(DB_TEXT(out), DB_INT(kid), DB_INT(db_cell_int(&rows, i, 0))),
			     &changed);
		*count += (size_t)changed;
	}
	*more = !rc && rows.nrows == BATCH;
	/* Bundle drafts: few, and only while someone is filling one in. */
	int64_t after = 0;
	while (!rc && !*more) {
		if ((rc = db_query(db, a, &q_legacy_drafts, DB_ARGS(DB_INT(after), DB_INT(BATCH)), &rows)))
			break;
		for (size_t i = 0; !rc && i < rows.nrows; i++) {
			after = db_cell_int(&rows, i, 0);
			json_t *def = case_bundle_seal_def(db, a, db_cell(&rows, i, 1));
			const char *out;
			int64_t kid;
			int src = seal_legacy(k, a, def, db_cell(&rows, i, 2), &out, &kid);
			json_decref(def);
			if (src == GH_EINVAL)
				out = "{}", kid = 0;
			else if ((rc = src))
				break;
			int64_t changed = 0;
			rc = db_exec(db, &q_legacy_draft_set, DB_ARGS(DB_TEXT(out), DB_INT(kid), DB_INT(after)), &changed);
			*count += (size_t)changed;
		}
		if (rows.nrows < BATCH)
			break;
	}
	return finish(db, a, rc);
}

/* One batch of re-sealing: rows of q after id *after not under the current key. */
static int reseal_batch(const struct keyring *k, struct db *db, struct db_sql *q, struct db_sql *set, int64_t *after,
			size_t *count, bool *more)
{
	struct arena *a = arena_new(1 << 16);
	struct db_rows rows;
	int64_t cur = keyring_current_id(k);
	int rc = db_begin(db);
	if (!rc)
		rc = db_query(db, a, q, DB_ARGS(DB_INT(*after), DB_INT(cur), DB_INT(BATCH)), &rows);
	for (size_t i = 0; !rc && i < rows.nrows; i++) {
		int64_t id = db_cell_int(&rows, i, 0), old = db_cell_int(&rows, i, 2);
		const char *out;
		*after = id;
		if ((rc = rewrite(k, a, db_cell(&rows, i, 1), true, &out)))
			break;
		int64_t changed = 0;
		rc = db_exec(db, set, DB_ARGS(DB_TEXT(out), DB_INT(cur), DB_INT(id), DB_INT(old)), &changed);
		*count += (size_t)changed;
	}
	*more = !rc && rows.nrows == BATCH;
	return finish(db, a, rc);
}

int cases_forms_reseal(const struct keyring *k, struct db *db, size_t *count)
{
	bool more = true;
	int rc = 0;
	*count = 0;
	while (!rc && more)
		rc = cases_forms_seal_legacy(k, db, count, &more);
	int64_t after = 0;
	for (more = true; !rc && more;)
		rc = reseal_batch(k, db, &q_reseal_apps, &q_reseal_app_set, &after, count, &more);
	after = 0;
	for (more = true; !rc && more;)
		rc = reseal_batch(k, db, &q_reseal_drafts, &q_reseal_draft_set, &after, count, &more);
	return rc;
}

DB_SQL(q_form_keys,
       "SELECT k, SUM(n) FROM (SELECT form_key_id AS k, COUNT(*) AS n FROM applications WHERE form_key_id > 0 "
       "GROUP BY form_key_id UNION ALL SELECT draft_key_id AS k, COUNT(*) AS n FROM bundle_applications "
       "WHERE draft_key_id > 0 AND draft_form IS NOT NULL GROUP BY draft_key_id) t GROUP BY k ORDER BY k");

int cases_sealed_key_counts(struct db *db, struct arena *a, struct db_sql *q, int64_t **keys, int64_t **counts,
			    size_t *n)
{
	struct db_rows rows;
	int rc = db_query(db, a, q, DB_NOARGS, &rows);
	if (rc)
		return rc;
	*keys = arena_array(a, rows.nrows ? rows.nrows : 1, sizeof(**keys));
	*counts = arena_array(a, rows.nrows ? rows.nrows : 1, sizeof(**counts));
	for (size_t i = 0; i < rows.nrows; i++) {
		(*keys)[i] = db_cell_int(&rows, i, 0);
		(*counts)[i] = db_cell_int(&rows, i, 1);
	}
	*n = rows.nrows;
	return 0;
}

static int forms_counts(struct db *db, struct arena *a, int64_t **keys, int64_t **counts, size_t *n)
{
	return cases_sealed_key_counts(db, a, &q_form_keys, keys, counts, n);
}

static const struct identity_sealed_store forms_store = {
	.what = "application form(s)",
	.reseal = cases_forms_reseal,
	.counts = forms_counts,
};

void cases_register_sealed(void)
{
	identity_sealed_store_add(&forms_store);
}
