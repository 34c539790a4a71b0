/* cert_store.c: certificates (table certificates), their issuance on approval, sharing on
 * submission (cert_shares), revocation, their log leaves, online verification, and the hooks
 * other domains call (the wallet as cases' e-certificate source, audit recomputation, the
 * published keys). Every log append goes through cert_log_append(), the one place that
 * talks to the transparency log's writer. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/calendar.h"
#include "base/err.h"
#include "base/log.h"
#include "base/util.h"
#include "cases/cases.h"
#include "catalog/catalog.h"
#include "certs/certs.h"
#include "certs/certs_impl.h"
#include "http/msg.h"
#include "http/sections.h"
#include "identity/idcheck.h"
#include "identity/identity.h"
#include "ledger/witness.h"
#include "store/cover.h"
#include "store/db.h"
#include "view/view.h"

static const struct keyring *ring;
static const char *public_url = "";

void cert_store_init(const struct keyring *k, const char *url)
{
	ring = k;
	public_url = url ? url : "";
}

const char *cert_public_url(void)
{
	return public_url;
}

/* ---- the log ---------------------------------------------------------------------------- */

/* Appends leaf (canonical) as kind with ref and salt, inside the caller's transaction. */
static int cert_log_append(struct db *db, struct arena *a, const char *kind, const char *ref, const char *salt,
			   const char *canonical, int64_t *index)
{
	if (!canonical)
		return GH_EINTERNAL;
	return ledger_append_ref(db, a, kind, ref, salt, canonical, index);
}

/* ---- rows ------------------------------------------------------------------------------- */

#define CERT_COLS                                                                                         \
	"c.id, c.number, c.cert_type, c.holder_id, c.department, c.application_id, c.key_id, c.document, " \
	"c.signature, c.hash, c.salt, c.leaf_index, c.issued_at, c.status, c.revoked_at, c.revoked_by, "   \
	"c.revoke_reason, c.revoke_leaf_index, a.number"

DB_SQL(q_get, "SELECT " CERT_COLS " FROM certificates c JOIN applications a ON a.id = c.application_id "
	      "WHERE c.number = ?");
DB_SQL(q_held, "SELECT " CERT_COLS " FROM certificates c JOIN applications a ON a.id = c.application_id "
	       "WHERE c.holder_id = ? ORDER BY c.id DESC LIMIT 200");
DB_SQL(q_held_type, "SELECT number FROM certificates WHERE holder_id = ? AND cert_type = ? AND status = 'valid' "
		    "ORDER BY id DESC LIMIT 1");
DB_SQL(q_by_app, "SELECT number FROM certificates WHERE application_id = ?");
DB_SQL(q_next_no, "INSERT INTO cert_numbers (department, day, last) VALUES (?, ?, 1) "
		  "ON CONFLICT (department, day) DO UPDATE SET last = cert_numbers.last + 1 RETURNING last");
DB_SQL(q_insert, "INSERT INTO certificates (number, cert_type, holder_id, department, application_id, key_id, "
		 "document, signature, hash, salt, issued_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id");
DB_SQL(q_set_leaf, "UPDATE certificates SET leaf_index = ? WHERE number = ?");
DB_SQL(q_revoke, "UPDATE certificates SET status = 'revoked', revoked_at = ?, revoked_by = ?, revoke_reason = ? "
		 "WHERE id = ? AND status = 'valid'");
DB_SQL(q_revoke_leaf, "UPDATE certificates SET revoke_leaf_index = ? WHERE id = ?");
DB_SQL(q_share_ins, "INSERT INTO cert_shares (certificate_id, application_id, department, slot, salt, shared_at) "
		    "VALUES (?, ?, ?, ?, ?, ?) RETURNING id");
DB_SQL(q_share_leaf, "UPDATE cert_shares SET leaf_index = ? WHERE id = ?");
DB_SQL(q_share_get, "SELECT s.id, s.application_id, s.department, s.slot, s.shared_at, s.leaf_index, a.number, "
		    "c.number, s.salt FROM cert_shares s JOIN applications a ON a.id = s.application_id "
		    "JOIN certificates c ON c.id = s.certificate_id WHERE s.id = ?");
DB_SQL(q_shares_of, "SELECT s.id, s.application_id, s.department, s.slot, s.shared_at, s.leaf_index, a.number "
		    "FROM cert_shares s JOIN applications a ON a.id = s.application_id WHERE s.certificate_id = ? "
		    "ORDER BY s.id");
DB_SQL(q_shared_dept, "SELECT 1 FROM cert_shares WHERE certificate_id = ? AND department = ? LIMIT 1");
static void cert_row(const struct db_rows *rows, size_t i, struct cert *c)
{
	size_t k = 0;
	c->id = db_cell_int(rows, i, k++);
	c->number = db_cell(rows, i, k++);
	c->cert_type = db_cell(rows, i, k++);
	c->holder_id = db_cell_int(rows, i, k++);
	c->department = db_cell(rows, i, k++);
	c->application_id = db_cell_int(rows, i, k++);
	c->key_id = db_cell(rows, i, k++);
	c->document = db_cell(rows, i, k++);
	c->signature = db_cell(rows, i, k++);
	c->hash = db_cell(rows, i, k++);
	c->salt = db_cell(rows, i, k++);
	c->leaf_index = db_cell(rows, i, k) ? db_cell_int(rows, i, k) : -1;
	k++;
	c->issued_at = db_cell_int(rows, i, k++);
	c->status = db_cell(rows, i, k++);
	c->revoked_at = db_cell(rows, i, k) ? db_cell_int(rows, i, k) : 0;
	k++;
	c->revoked_by = db_cell(rows, i, k) ? db_cell_int(rows, i, k) : 0;
	k++;
	c->revoke_reason = db_cell(rows, i, k++);
	c->revoke_leaf_index = db_cell(rows, i, k) ? db_cell_int(rows, i, k) : -1;
	k++;
	c->application_number = db_cell(rows, i, k++);
}

int cert_get(struct db *db, struct arena *a, const char *number, struct cert *out)
{
	if (!number || strlen(number) > CERT_NUMBER_MAX)
		return GH_ENOTFOUND;
	struct db_rows rows;
	int rc = db_query(db, a, &q_get, DB_ARGS(DB_TEXT(number)), &rows);
	if (rc)
		return rc;
	if (rows.nrows == 0)
		return GH_ENOTFOUND;
	cert_row(&rows, 0, out);
	return 0;
}

int cert_numbers_of_application(struct db *db, struct arena *a, int64_t application_id, const char ***out, size_t *n)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_by_app, DB_ARGS(DB_INT(application_id)), &rows);
	if (rc)
		return rc;
	const char **v = arena_array(a, rows.nrows ? rows.nrows : 1, sizeof(*v));
	for (size_t i = 0; i < rows.nrows; i++)
		v[i] = db_cell(&rows, i, 0);
	*out = v;
	*n = rows.nrows;
	return 0;
}

int cert_list_held(struct db *db, struct arena *a, int64_t holder, struct cert **out, size_t *n)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_held, DB_ARGS(DB_INT(holder)), &rows);
	if (rc)
		return rc;
	*out = arena_array(a, rows.nrows ? rows.nrows : 1, sizeof(**out));
	for (size_t i = 0; i < rows.nrows; i++)
		cert_row(&rows, i, &(*out)[i]);
	*n = rows.nrows;
	return 0;
}

bool cert_shared_with(struct db *db, struct arena *a, const struct cert *c, const char *department)
{
	if (!department)
		return false;
	if (strcmp(c->department, department) == 0)
		return true;
	struct db_rows rows;
	return db_query(db, a, &q_shared_dept, DB_ARGS(DB_INT(c->id), DB_TEXT(department)), &rows) == 0 &&
	       rows.nrows > 0;
}

int cert_shares_of(struct db *db, struct arena *a, int64_t cert_id, struct cert_share **out, size_t *n)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_shares_of, DB_ARGS(DB_INT(cert_id)), &rows);
	if (rc)
		return rc;
	*out = arena_array(a, rows.nrows ? rows.nrows : 1, sizeof(**out));
	for (size_t i = 0; i < rows.nrows; i++) {
		struct cert_share *s = &(*out)[i];
		s->id = db_cell_int(&rows, i, 0);
		s->application_id = db_cell_int(&rows, i, 1);
		s->department = db_cell(&rows, i, 2);
		s->slot = (int)db_cell_int(&rows, i, 3);
		s->shared_at = db_cell_int(&rows, i, 4);
		s->leaf_index = db_cell(&rows, i, 5) ? db_cell_int(&rows, i, 5) : -1;
		s->application_number = db_cell(&rows, i, 6);
	}
	*n = rows.nrows;
	return 0;
}

/* ---- leaves ----------------------------------------------------------------------------- */

static char *canonical(struct arena *a, json_t *v)
{
	char *s = ledger_canonical(a, v);
	json_decref(v);
	return s;
}

static const char *phash(struct arena *a, const char *salt, const char *field, const char *value)
{
	char *out = arena_alloc(a, 65);
	ledger_personal_hash(salt, field, value, out);
	return out;
}

/* The hash is recomputed from the stored document (not taken from the hash column), so an
 * altered document no longer matches its leaf. */
char *cert_leaf(struct arena *a, const struct cert *c)
{
	char hash[65];
	cert_sha256_hex(c->document, strlen(c->document), hash);
	return canonical(a, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:s,s:s}", "kind", "certificate", "number",
				      c->number, "cert_type", c->cert_type, "department", c->department, "key_id", c->key_id,
				      "hash", hash, "signature", c->signature, "issued_at", (json_int_t)c->issued_at, "application",
				      c->application_number, "holder",
				      phash(a, c->salt, "holder_id", arena_printf(a, "%lld", (long long)c->holder_id))));
}

static char *revocation_leaf(struct arena *a, const struct cert *c)
{
	return canonical(a, json_pack("{s:s,s:s,s:s,s:I,s:s,s:s}", "kind", "certificate_revocation", "number", c->number,
				      "hash", c->hash, "revoked_at", (json_int_t)c->revoked_at, "reason",
				      phash(a, c->salt, "reason", c->revoke_reason ? c->revoke_reason : ""), "by",
				      phash(a, c->salt, "actor", arena_printf(a, "%lld", (long long)c->revoked_by))));
}

static char *share_leaf(struct arena *a, const char *number, const char *app_number, const char *department, int slot,
			int64_t at)
{
	return canonical(a, json_pack("{s:s,s:s,s:s,s:s,s:i,s:I}", "kind", "certificate_share", "number", number,
				      "application", app_number, "department", department, "slot", slot, "shared_at",
				      (json_int_t)at));
}

/* ---- issuance --------------------------------------------------------------------------- */

/* The certificate types' names (data/catalog/ecert_types.json), loaded at start. */
static json_t *type_names;

static json_t *type_name(const char *code)
{
	size_t i;
	json_t *t;
	json_array_foreach(type_names, i, t)
	{
		const char *c = json_string_value(json_object_get(t, "code"));
		if (c && strcmp(c, code) == 0)
			/* copies: the table is shared by every thread, so no reference counts are touched */
			return json_pack("{s:s?,s:s?}", "zh", json_string_value(json_object_get(t, "name_zh")), "en",
					 json_string_value(json_object_get(t, "name_en")));
	}
	return json_pack("{s:s,s:s}", "zh", code, "en", code);
}

void certs_load_types(const char *data_dir)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/catalog/ecert_types.json", data_dir);
	json_t *j = json_load_file(path, 0, NULL);
	if (json_is_array(j)) {
		json_decref(type_names);
		type_names = j;
	} else {
		json_decref(j);
		log_warn("certs: %s could not be read: certificate types are named by their codes", path);
	}
}

static void day_text(int64_t t, char out[11])
{
	calendar_format_day(calendar_day_of((time_t)t), out); /* China Standard Time */
}

/* The content fields of the certificate: the form's values (the plaintext, cases.h
 * case_form_plain), except contact details and fields the catalog marks personal, with ID
 * numbers and credit codes masked (as the holder's own). */
static json_t *content_fields(const char *form_def, const char *form_values)
{
	json_t *out = json_array();
	json_t *def = json_loads(form_def ? form_def : "[]", 0, NULL), *vals = json_loads(form_values, 0, NULL);
	size_t i;
	json_t *f;
	json_array_foreach(def, i, f)
	{
		const char *key = json_string_value(json_object_get(f, "key"));
		const char *type = json_string_value(json_object_get(f, "type"));
		const char *v = key ? json_string_value(json_object_get(vals, key)) : NULL;
		if (!v || !*v || !type)
			continue;
		if (!strcmp(type, "phone") || !strcmp(type, "email") || !strcmp(type, "address") || !strcmp(type, "file") ||
		    !strcmp(type, "textarea") || json_is_true(json_object_get(f, "personal")))
			continue;
		json_t *o = json_pack("{s:s,s:O,s:O}", "key", key, "label_zh", json_object_get(f, "label_zh"), "label_en",
				      json_object_get(f, "label_en"));
		if (!o)
			continue;
		if (!strcmp(type, "id_number") || !strcmp(type, "uscc")) {
			char m[64];
			idcheck_mask(v, strlen(v), m, sizeof(m));
			json_object_set_new(o, "value", json_string(m));
		} else if (!strcmp(type, "select")) {
			size_t k;
			json_t *opt;
			json_object_set_new(o, "value", json_string(v));
			json_array_foreach(json_object_get(f, "options"), k, opt)
			{
				const char *ov = json_string_value(json_object_get(opt, "value"));
				if (ov && !strcmp(ov, v)) {
					json_object_set(o, "value", json_object_get(opt, "label_zh"));
					json_object_set(o, "value_en", json_object_get(opt, "label_en"));
				}
			}
		} else {
			json_object_set_new(o, "value", json_stringn(v, strlen(v) > 200 ? 200 : strlen(v)));
		}
		if (json_is_string(json_object_get(o, "value")))
			json_array_append_new(out, o);
		else
			json_decref(o);
	}
	json_decref(def);
	json_decref(vals);
	return out;
}

static int issue(struct db *db, struct arena *a, const struct case_change *c)
{
	struct catalog_service svc;
	int rc = catalog_service_get(db, a, c->item_code, (long)c->item_version, &svc);
	if (rc == GH_ENOTFOUND)
		rc = catalog_service_get(db, a, c->item_code, 0, &svc);
	if (rc)
		return rc;
	if (!svc.outcome_ecert || !*svc.outcome_ecert)
		return 0;
	struct db_rows rows;
	if ((rc = db_query(db, a, &q_by_app, DB_ARGS(DB_INT(c->application_id)), &rows)))
		return rc;
	if (rows.nrows)
		return 0; /* issued already (approved twice after a reopening) */
	int64_t holder = c->enterprise_id ? c->enterprise_id : c->applicant_id;
	struct identity_person person;
	if ((rc = identity_person_get(db, a, holder, &person)))
		return rc;
	struct catalog_department dept;
	if ((rc = catalog_department_get(db, a, c->department, &dept)))
		return rc;
	struct cert_key key;
	unsigned char sk[64];
	if ((rc = cert_key_current(db, ring, a, c->department, &key, sk))) {
		log_error("certs: no signing key for department %s (rc %d): the approval is refused", c->department, rc);
		return rc;
	}
	int64_t now = c->at ? c->at : clock_now();
	char day[11];
	day_text(now, day);
	char compact[9] = { day[0], day[1], day[2], day[3], day[5], day[6], day[8], day[9], 0 };
	if ((rc = db_query(db, a, &q_next_no, DB_ARGS(DB_TEXT(c->department), DB_TEXT(compact)), &rows)) ||
	    rows.nrows != 1) {
		sodium_memzero(sk, sizeof(sk));
		return rc ? rc : GH_EDB;
	}
	char upper[33];
	size_t dl = strlen(c->department);
	for (size_t i = 0; i <= dl && i < sizeof(upper); i++)
		upper[i] = (char)(c->department[i] >= 'a' && c->department[i] <= 'z' ? c->department[i] - 32 : c->department[i]);
	upper[sizeof(upper) - 1] = 0;
	const char *number = arena_printf(a, "%s-%s-%06lld", upper, compact, (long long)db_cell_int(&rows, 0, 0));

	json_t *doc = json_pack("{s:s,s:s,s:o,s:{s:s,s:s?},s:{s:s,s:s,s:s},s:I,s:s,s:s,s:n,s:s,s:{s:s,s:I,s:s,s:s},"
				"s:o,s:s}",
				"number", number, "cert_type", svc.outcome_ecert, "cert_type_name", type_name(svc.outcome_ecert),
				"holder", "name", person.name, "id_masked", person.id_mask,
				"issuer", "code", dept.code, "name_zh", dept.name_zh, "name_en", dept.name_en,
				"issued_at", (json_int_t)now, "issued_on", day, "valid_from", day, "valid_until",
				"application", c->number ? c->number : "",
				"item", "code", svc.code, "version", (json_int_t)svc.version, "name_zh", svc.name_zh, "name_en",
				svc.name_en, "content", content_fields(svc.form, c->form ? c->form : "{}"), "verify_url",
				arena_printf(a, "%s/verify/certificates/%s", public_url, number));
	if (!doc) {
		sodium_memzero(sk, sizeof(sk));
		return GH_EINTERNAL;
	}
	char *text = canonical(a, doc);
	if (!text) {
		sodium_memzero(sk, sizeof(sk));
		return GH_EINTERNAL;
	}
	unsigned char sig[64];
	crypto_sign_detached(sig, NULL, (const unsigned char *)text, strlen(text), sk);
	sodium_memzero(sk, sizeof(sk));
	char hash[65], salt[LEDGER_SALT_HEX + 1];
	cert_sha256_hex(text, strlen(text), hash);
	ledger_salt_new(salt);
	struct cert cert = { .number = number, .cert_type = svc.outcome_ecert, .holder_id = holder,
			     .department = c->department, .application_id = c->application_id, .key_id = key.key_id,
			     .document = text, .signature = cert_b64(a, sig, sizeof(sig)), .hash = hash, .salt = salt,
			     .issued_at = now, .status = "valid", .application_number = c->number ? c->number : "" };
	if ((rc = db_query(db, a, &q_insert,
			   DB_ARGS(DB_TEXT(cert.number), DB_TEXT(cert.cert_type), DB_INT(holder), DB_TEXT(cert.department),
				   DB_INT(cert.application_id), DB_TEXT(cert.key_id), DB_TEXT(cert.document),
				   DB_TEXT(cert.signature), DB_TEXT(hash), DB_TEXT(salt), DB_INT(now)),
			   &rows)) ||
	    (rc = cover_touch(db, "certificates", db_cell(&rows, 0, 0), NULL)))
		return rc;
	int64_t index = -1;
	if ((rc = cert_log_append(db, a, "certificate", arena_printf(a, "certificate:%s", number), salt,
				  cert_leaf(a, &cert), &index)))
		return rc;
	if ((rc = db_exec(db, &q_set_leaf, DB_ARGS(DB_INT(index), DB_TEXT(number)), NULL)))
		return rc;
	log_info("certs: certificate %s (%s) issued by %s for application %s, leaf %lld", number, svc.outcome_ecert,
		 c->department, c->number ? c->number : "-", (long long)index);
	return 0;
}

/* ---- sharing ---------------------------------------------------------------------------- */

static int share(struct db *db, struct arena *a, const struct case_change *c)
{
	json_t *mats = json_loads(c->materials ? c->materials : "[]", 0, NULL);
	if (!mats)
		return 0;
	arena_cleanup(a, (void (*)(void *))json_decref, mats);
	int64_t holder = c->enterprise_id ? c->enterprise_id : c->applicant_id;
	size_t i;
	json_t *m;
	json_array_foreach(mats, i, m)
	{
		const char *no = json_string_value(json_object_get(m, "ecert_number"));
		json_t *slot = json_object_get(m, "slot");
		/* Another hall's certificate (ecert_hall) is that hall's to share: not one of these. */
		if (!no || !json_is_integer(slot) || json_object_get(m, "ecert_hall"))
			continue;
		struct cert cert;
		int rc = cert_get(db, a, no, &cert);
		if (rc == GH_ENOTFOUND || (!rc && (cert.holder_id != holder || strcmp(cert.status, "valid") != 0)))
			return GH_ECONFLICT; /* no longer held: the applicant must choose again */
		if (rc)
			return rc;
		char salt[LEDGER_SALT_HEX + 1];
		ledger_salt_new(salt);
		int64_t now = c->at ? c->at : clock_now();
		struct db_rows rows;
		rc = db_query(db, a, &q_share_ins,
			      DB_ARGS(DB_INT(cert.id), DB_INT(c->application_id), DB_TEXT(c->department),
				      DB_INT(json_integer_value(slot)), DB_TEXT(salt), DB_INT(now)),
			      &rows);
		if (rc == GH_ECONFLICT)
			continue; /* shared already for this slot */
		if (rc)
			return rc;
		int64_t sid = db_cell_int(&rows, 0, 0), index = -1;
		if ((rc = cover_touch_id(db, "cert_shares", sid, NULL)))
			return rc;
		if ((rc = cert_log_append(db, a, "certificate_share", arena_printf(a, "certificate_share:%lld", (long long)sid),
					  salt,
					  share_leaf(a, cert.number, c->number ? c->number : "", c->department,
						     (int)json_integer_value(slot), now),
					  &index)))
			return rc;
		if ((rc = db_exec(db, &q_share_leaf, DB_ARGS(DB_INT(index), DB_INT(sid)), NULL)))
			return rc;
	}
	return 0;
}

static int on_transition(struct db *db, struct arena *a, const struct case_change *c)
{
	if (!strcmp(c->action, "approve"))
		return issue(db, a, c);
	if (!strcmp(c->action, "submit"))
		return share(db, a, c);
	return 0;
}

/* ---- revocation ------------------------------------------------------------------------- */

int cert_revoke(struct db *db, struct arena *a, struct cert *c, int64_t actor, const char *reason)
{
	int64_t now = clock_now(), changes = 0, index = -1;
	int rc = db_begin(db);
	if (rc)
		return rc;
	if ((rc = db_exec(db, &q_revoke, DB_ARGS(DB_INT(now), DB_INT(actor), DB_TEXT(reason), DB_INT(c->id)), &changes)))
		goto fail;
	if (changes != 1) {
		rc = GH_ECONFLICT;
		goto fail;
	}
	if ((rc = cover_touch_id(db, "certificates", c->id, NULL)))
		goto fail;
	c->status = "revoked";
	c->revoked_at = now;
	c->revoked_by = actor;
	c->revoke_reason = reason;
	if ((rc = cert_log_append(db, a, "certificate_revocation", arena_printf(a, "certificate_revocation:%s", c->number),
				  c->salt, revocation_leaf(a, c), &index)))
		goto fail;
	if ((rc = db_exec(db, &q_revoke_leaf, DB_ARGS(DB_INT(index), DB_INT(c->id)), NULL)))
		goto fail;
	if ((rc = db_commit(db)))
		goto fail;
	c->revoke_leaf_index = index;
	return 0;
fail:
	db_rollback(db);
	return rc;
}

/* ---- the wallet as cases' e-certificate source ----------------------------------------- */

static int held(struct db *db, struct arena *a, int64_t applicant_id, int64_t enterprise_id, const char *type,
		const char **number)
{
	struct db_rows rows;
	int64_t holder = enterprise_id ? enterprise_id : applicant_id;
	int rc = db_query(db, a, &q_held_type, DB_ARGS(DB_INT(holder), DB_TEXT(type)), &rows);
	if (rc)
		return rc;
	if (rows.nrows == 0)
		return GH_ENOTFOUND;
	*number = db_cell(&rows, 0, 0);
	return 0;
}

/* ---- audit ------------------------------------------------------------------------------ */

static int recompute_cert(struct db *db, struct arena *a, const char *ref, const char *salt, char **json)
{
	struct cert c;
	int rc = cert_get(db, a, ref, &c);
	if (rc)
		return rc;
	c.salt = salt;
	*json = cert_leaf(a, &c);
	return *json ? 0 : GH_EINTERNAL;
}

static int recompute_revocation(struct db *db, struct arena *a, const char *ref, const char *salt, char **json)
{
	struct cert c;
	int rc = cert_get(db, a, ref, &c);
	if (rc)
		return rc;
	if (strcmp(c.status, "revoked") != 0)
		return GH_ENOTFOUND;
	c.salt = salt;
	*json = revocation_leaf(a, &c);
	return *json ? 0 : GH_EINTERNAL;
}

static int recompute_share(struct db *db, struct arena *a, const char *ref, const char *salt, char **json)
{
	char *end;
	long long id = strtoll(ref, &end, 10);
	if (end == ref || *end)
		return GH_ENOTFOUND;
	struct db_rows rows;
	int rc = db_query(db, a, &q_share_get, DB_ARGS(DB_INT(id)), &rows);
	if (rc)
		return rc;
	if (rows.nrows == 0)
		return GH_ENOTFOUND;
	*json = share_leaf(a, db_cell(&rows, 0, 7), db_cell(&rows, 0, 6), db_cell(&rows, 0, 2),
			   (int)db_cell_int(&rows, 0, 3), db_cell_int(&rows, 0, 4));
	return *json ? 0 : GH_EINTERNAL;
}

/* The ledger passes refs whole ("certificate:<number>"): strip the kind. */
static const char *ref_id(const char *ref)
{
	const char *colon = strchr(ref, ':');
	return colon ? colon + 1 : ref;
}

static int audit_cert(struct db *db, struct arena *a, const char *ref, const char *salt, char **json)
{
	return recompute_cert(db, a, ref_id(ref), salt, json);
}

static int audit_revocation(struct db *db, struct arena *a, const char *ref, const char *salt, char **json)
{
	return recompute_revocation(db, a, ref_id(ref), salt, json);
}

static int audit_share(struct db *db, struct arena *a, const char *ref, const char *salt, char **json)
{
	return recompute_share(db, a, ref_id(ref), salt, json);
}

/* ---- what the transparency log covers (store/cover.h) ------------------------------------
 * Certificates, their sharings and the departments' keys (the secret, sealed, is left out:
 * docs/security.md). The leaf index columns are written after their leaf, so they are
 * pointers the audit follows rather than content. */
static const struct cover_table cover_tables[] = {
	{ .table = "certificates", .key = "id",
	  .cols = "number, cert_type, holder_id, department, application_id, key_id, document, signature, hash, salt, "
		  "issued_at, status, revoked_at, revoked_by, revoke_reason",
	  .pointers = "leaf_index=certificate, revoke_leaf_index=certificate_revocation" },
	{ .table = "cert_shares", .key = "id", .cols = "certificate_id, application_id, department, slot, salt, shared_at",
	  .pointers = "leaf_index=certificate_share" },
	{ .table = "cert_keys", .key = "key_id", .cols = "department, public_key, valid_from, valid_until, created_at" },
};

void certs_cover_declare(void)
{
	for (size_t i = 0; i < ARRAY_LEN(cover_tables); i++)
		cover_declare(&cover_tables[i]);
}

void cert_store_register(void)
{
	cases_observe(on_transition);
	cases_ecert_source(held);
	page_section_add(CASES_PAGE_DETAIL, 10, cert_page_annotate);
	ledger_audit_source("certificate", audit_cert);
	ledger_audit_source("certificate_revocation", audit_revocation);
	ledger_audit_source("certificate_share", audit_share);
	certs_cover_declare();
	ledger_verify_type(CERT_DOC_TYPE, cert_verify_offline);
	ledger_wellknown_add(cert_keys_wellknown);
}

/* ---- documents and online verification -------------------------------------------------- */

json_t *cert_document(struct db *db, struct arena *a, const struct cert *c)
{
	json_t *cert = json_loads(c->document, 0, NULL);
	json_t *doc = json_pack("{s:s,s:o,s:s,s:{s:s,s:s,s:s},s:n}", "type", CERT_DOC_TYPE, "certificate",
				cert ? cert : json_object(), "hash", c->hash, "signature", "algorithm", "Ed25519", "key_id",
				c->key_id, "value", c->signature, "log");
	struct ledger_proof p;
	const char *leaf;
	if (c->leaf_index >= 0 && ledger_prove(db, a, c->leaf_index, &p) == 0 &&
	    ledger_leaf_text(db, a, c->leaf_index, &leaf) == 0) {
		json_t *path = json_array();
		for (size_t i = 0; i < p.n; i++)
			json_array_append_new(path, json_string(cert_b64(a, p.path[i], LEDGER_HASH_LEN)));
		json_object_set_new(doc, "log",
				    json_pack("{s:I,s:s,s:I,s:s,s:o,s:s}", "leaf_index", (json_int_t)p.index, "leaf",
					      leaf, "tree_size", (json_int_t)p.tree_size, "root",
					      cert_b64(a, p.root, LEDGER_HASH_LEN), "inclusion_proof", path, "checkpoint",
					      p.checkpoint));
	}
	return doc;
}

/* A copy of a certificate another hall of the federation issued (its log is another hall's):
 * its signature and inclusion proof checked against that hall's keys document as the hub's
 * directory gives it (ledger_foreign_keys). Whether the issuing hall revoked it is that hall's
 * to tell. NULL when the copy's log is no other hall's this hall knows. */
static json_t *verify_foreign(struct req *r, const struct cert_doc *d, json_t *out)
{
	const char *origin = d->has_log ? ledger_note_origin(r->arena, d->checkpoint) : NULL;
	json_t *keys = ledger_foreign_keys(r->db, origin);
	if (!keys)
		return NULL;
	json_t *checks = json_object_get(out, "checks");
	unsigned char pk[32];
	struct cert_why why;
	bool sig_ok = cert_keys_find(keys, d, pk, &why) == 0 && cert_doc_check_signature(d, pk) == 0;
	bool log_ok = sig_ok && cert_doc_check_log(r->arena, d, keys, &why) == 0;
	json_decref(keys);
	json_object_set_new(checks, "signature", json_boolean(sig_ok));
	json_object_set_new(checks, "key_id", json_string(d->key_id));
	json_object_set_new(checks, "inclusion", json_boolean(log_ok));
	json_object_set_new(out, "issuer_log", json_string(origin));
	json_object_set_new(out, "hash", json_string(d->hash));
	if (!sig_ok || !log_ok) {
		json_object_set_new(out, "reason", json_string(M(r, "certs_certificate_s_signature_record_transparency")));
		return out;
	}
	json_object_set_new(out, "status", json_string("valid"));
	json_object_set_new(out, "reason", json_string(M(r, "certs_verify_foreign_revocation")));
	return out;
}

json_t *cert_verify_online(struct req *r, const char *number, const char *hash, const struct cert_doc *d)
{
	struct arena *a = r->arena;
	json_t *out = json_object();
	json_object_set_new(out, "kind", json_string("certificate"));
	json_object_set_new(out, "status", json_string("unknown"));
	json_t *checks = json_object();
	json_object_set_new(out, "checks", checks);
	if (d) {
		number = d->number;
		hash = d->hash;
	}
	json_object_set_new(out, "number", number ? json_string(number) : json_null());
	if (d && d->problem) {
		json_object_set_new(out, "reason", json_string(M(r, d->problem)));
		return out;
	}
	struct cert c;
	int rc = number ? cert_get(r->db, a, number, &c) : GH_ENOTFOUND;
	if (rc == GH_ENOTFOUND && d && verify_foreign(r, d, out))
		return out;
	if (rc) {
		json_object_set_new(out, "reason", json_string(M(r, "certs_no_certificate_number_issued_hall")));
		return out;
	}
	if (!hash || strcmp(hash, c.hash) != 0) {
		json_object_set_new(out, "reason",
				    json_string(M(r, "certs_copy_differs_certificate_hall_issued")));
		return out;
	}
	/* Signature: the stored document under the issuing key (and the uploaded copy's own). */
	struct cert_key key;
	unsigned char pk[32];
	bool sig_ok = cert_key_get(r->db, a, c.key_id, &key) == 0 && cert_unb64(key.public_key, pk, 32) == 0;
	unsigned char sig[64];
	sig_ok = sig_ok && cert_unb64(c.signature, sig, 64) == 0 &&
		 crypto_sign_verify_detached(sig, (const unsigned char *)c.document, strlen(c.document), pk) == 0;
	/* The copy's own signature, under the key it names: that must be the key the hall
	 * signed this certificate with. */
	bool key_ok = !d || strcmp(d->key_id, c.key_id) == 0;
	if (sig_ok && d)
		sig_ok = key_ok && cert_doc_check_signature(d, pk) == 0;
	json_object_set_new(checks, "signature", json_boolean(sig_ok));
	json_object_set_new(checks, "key_id", json_string(c.key_id));
	/* The log: an inclusion proof of the leaf this row gives, checked here. */
	bool log_ok = false;
	struct ledger_proof p;
	const char *leaf;
	if (c.leaf_index >= 0 && ledger_prove(r->db, a, c.leaf_index, &p) == 0 &&
	    ledger_leaf_text(r->db, a, c.leaf_index, &leaf) == 0) {
		/* The stored leaf (with the rows the log added) must say what this row says. */
		unsigned char lh[LEDGER_HASH_LEN];
		ledger_leaf_hash(leaf, strlen(leaf), lh);
		log_ok = ledger_leaf_says(a, leaf, cert_leaf(a, &c)) && sodium_memcmp(lh, p.leaf_hash, LEDGER_HASH_LEN) == 0 &&
			 ledger_verify_inclusion((uint64_t)p.index, (uint64_t)p.tree_size, lh,
						 (const unsigned char(*)[LEDGER_HASH_LEN])p.path, p.n, p.root) == 0;
		json_object_set_new(checks, "leaf_index", json_integer(p.index));
		json_object_set_new(checks, "tree_size", json_integer(p.tree_size));
		json_object_set_new(checks, "root", json_string(cert_b64(a, p.root, LEDGER_HASH_LEN)));
	}
	json_object_set_new(checks, "inclusion", json_boolean(log_ok));
	json_t *doc = json_loads(c.document, 0, NULL);
	if (doc)
		json_object_set_new(out, "certificate", doc);
	json_object_set_new(out, "hash", json_string(c.hash));
	if (!key_ok) {
		json_object_set_new(out, "reason", json_string(view_msg(r->app->view, r->lang, "certs_verify_key_unknown")));
		return out;
	}
	if (!sig_ok || !log_ok) {
		json_object_set_new(out, "reason",
				    json_string(M(r, "certs_certificate_s_signature_record_transparency")));
		return out;
	}
	if (strcmp(c.status, "revoked") == 0) {
		json_object_set_new(out, "status", json_string("revoked"));
		json_object_set_new(out, "revoked_at", json_integer(c.revoked_at));
		json_object_set_new(out, "revoke_reason", json_string(c.revoke_reason ? c.revoke_reason : ""));
		return out;
	}
	json_object_set_new(out, "status", json_string("valid"));
	return out;
}

/* ---- documents of other domains --------------------------------------------------------- */

int certs_sign(struct db *db, struct arena *a, const char *department, const char *text, const char **key_id,
	       const char **sig)
{
	struct cert_key key;
	unsigned char sk[64], s[64];
	int rc = cert_key_current(db, ring, a, department, &key, sk);
	if (rc)
		return rc;
	crypto_sign_detached(s, NULL, (const unsigned char *)text, strlen(text), sk);
	sodium_memzero(sk, sizeof(sk));
	*key_id = key.key_id;
	*sig = cert_b64(a, s, sizeof(s));
	return 0;
}

int certs_check(struct db *db, struct arena *a, const char *department, const char *key_id, int64_t at, const char *text,
		const char *sig)
{
	struct cert_key key;
	unsigned char pk[32], s[64];
	if (!key_id || !sig || !text || cert_key_get(db, a, key_id, &key) || strcmp(key.department, department) != 0 ||
	    at < key.valid_from || (key.valid_until && at > key.valid_until) || cert_unb64(key.public_key, pk, 32) ||
	    cert_unb64(sig, s, 64))
		return GH_EINVAL;
	return crypto_sign_verify_detached(s, (const unsigned char *)text, strlen(text), pk) == 0 ? 0 : GH_EINVAL;
}
