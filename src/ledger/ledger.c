/* ledger.c: what goes into the log — application decisions (a cases observer) and catalog item
 * versions (a catalog observer), how their leaves are built (the same code rebuilds them for
 * audit) — the registries other domains use (audit sources, verify types, keys document
 * sections), and receipts. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/config.h"
#include "base/err.h"
#include "base/log.h"
#include "base/sb.h"
#include "base/util.h"
#include "cases/cases.h"
#include "cases/workflow.h"
#include "catalog/catalog.h"
#include "ledger/ledger_ext.h"
#include "ledger/log_impl.h"
#include "store/cover.h"
#include "store/db.h"

/* ---- registries ---- */

#define MAX_HOOKS 8

static struct {
	const char *kind;
	ledger_recompute_fn fn;
} sources[MAX_HOOKS];
static size_t n_sources;

static struct {
	const char *type;
	ledger_verify_fn fn;
} verifiers[MAX_HOOKS];
static size_t n_verifiers;

static ledger_wellknown_fn wellknown[MAX_HOOKS];
static size_t n_wellknown;

static size_t source_slot(const char *kind)
{
	for (size_t i = 0; i < n_sources; i++)
		if (strcmp(sources[i].kind, kind) == 0)
			return i;
	if (n_sources == MAX_HOOKS)
		die("ledger: more than %d audit sources", MAX_HOOKS);
	sources[n_sources].kind = kind;
	return n_sources++;
}

void ledger_audit_source(const char *kind, ledger_recompute_fn fn)
{
	sources[source_slot(kind)].fn = fn;
}

ledger_recompute_fn ledger_source_of(const char *kind)
{
	for (size_t i = 0; i < n_sources; i++)
		if (strcmp(sources[i].kind, kind) == 0)
			return sources[i].fn;
	return NULL;
}

void ledger_verify_type(const char *type, ledger_verify_fn fn)
{
	for (size_t i = 0; i < n_verifiers; i++)
		if (strcmp(verifiers[i].type, type) == 0) {
			verifiers[i].fn = fn;
			return;
		}
	if (n_verifiers == MAX_HOOKS)
		die("ledger: more than %d document types to verify", MAX_HOOKS);
	verifiers[n_verifiers].type = type;
	verifiers[n_verifiers++].fn = fn;
}

ledger_verify_fn ledger_verifier_of(const char *type)
{
	for (size_t i = 0; i < n_verifiers; i++)
		if (strcmp(verifiers[i].type, type) == 0)
			return verifiers[i].fn;
	return NULL;
}

void ledger_wellknown_add(ledger_wellknown_fn fn)
{
	if (n_wellknown == MAX_HOOKS)
		die("ledger: more than %d keys document sections", MAX_HOOKS);
	wellknown[n_wellknown++] = fn;
}

int ledger_wellknown_extend(struct db *db, struct arena *a, json_t *keys)
{
	for (size_t i = 0; i < n_wellknown; i++) {
		int rc = wellknown[i](db, a, keys);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- decisions ---- */

bool ledger_is_decision(const char *action)
{
	const struct wf_action *w = action ? wf_action(action) : NULL; /* the workflow table says */
	return w && w->logged;
}

static void set_hash(json_t *o, const char *salt, const char *field, const char *value)
{
	char h[65];
	ledger_personal_hash(salt, field, value, h);
	json_object_set_new(o, field, json_string(h));
}

/* An instant decision (秒批) names in clear the rules it applied: {"item", "version"} of the
 * event's detail (the catalog's rule version, nothing personal); NULL for any other step. */
static json_t *rules_version(const struct ledger_decision *d)
{
	if (!d->action || strcmp(d->action, "instant_approve") != 0 || !d->detail)
		return NULL;
	json_t *detail = json_loads(d->detail, 0, NULL);
	json_t *r = json_object_get(detail, "rules");
	json_t *out = json_is_object(r) ? json_pack("{s:O?,s:O?}", "item", json_object_get(r, "item"), "version",
						    json_object_get(r, "version"))
					: NULL;
	json_decref(detail);
	return out;
}

static json_t *decision_obj(const char *salt, const struct ledger_decision *d)
{
	char buf[32];
	json_t *o = json_object();
	/* The five decisions, and the other steps (submission, supplement, withdrawal...). */
	json_object_set_new(o, "kind", json_string(ledger_is_decision(d->action) ? "decision" : "transition"));
	json_object_set_new(o, "event", json_integer(d->event_id));
	json_object_set_new(o, "application", d->number ? json_string(d->number) : json_null());
	json_object_set_new(o, "item", json_string(d->item_code ? d->item_code : ""));
	json_object_set_new(o, "department", json_string(d->department ? d->department : ""));
	json_object_set_new(o, "action", json_string(d->action ? d->action : ""));
	json_object_set_new(o, "from", json_string(d->from_state ? d->from_state : ""));
	json_object_set_new(o, "to", json_string(d->to_state ? d->to_state : ""));
	json_object_set_new(o, "at", json_integer(d->at));
	snprintf(buf, sizeof(buf), "%lld", (long long)d->applicant_id);
	set_hash(o, salt, "applicant", buf);
	if (d->enterprise_id) {
		snprintf(buf, sizeof(buf), "%lld", (long long)d->enterprise_id);
		set_hash(o, salt, "enterprise", buf);
	}
	snprintf(buf, sizeof(buf), "%lld", (long long)d->actor_id);
	set_hash(o, salt, "actor", buf);
	set_hash(o, salt, "reason", d->reason ? d->reason : "");
	set_hash(o, salt, "detail", d->detail ? d->detail : "{}");
	json_t *rv = rules_version(d);
	if (rv)
		json_object_set_new(o, "rules", rv);
	return o;
}

char *ledger_decision_leaf(struct arena *a, const char *salt, const struct ledger_decision *d)
{
	json_t *o = decision_obj(salt, d);
	char *s = ledger_canonical(a, o);
	json_decref(o);
	return s;
}

/* Printable ASCII without quote or backslash: written into JSON as it is. */
static bool plain(const char *s)
{
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e || *s == '"' || *s == '\\')
			return false;
	return true;
}

/* Decimal text of v into buf (32 bytes); returns buf. */
static char *num(char buf[32], int64_t v)
{
	char tmp[24];
	size_t n = 0;
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	do
		tmp[n++] = (char)('0' + u % 10);
	while (u /= 10);
	size_t k = 0;
	if (v < 0)
		buf[k++] = '-';
	while (n)
		buf[k++] = tmp[--n];
	buf[k] = 0;
	return buf;
}

/* prefix, then value as a JSON string (value is plain()). */
static void member(struct sb *sb, const char *prefix, const char *value)
{
	sb_adds(sb, prefix);
	sb_addch(sb, '"');
	sb_adds(sb, value);
	sb_addch(sb, '"');
}

/* The decision leaf's canonical text with its rows, written directly in the canonical key order
 * (what ledger_canonical gives for decision_obj with "ref", "rows" and "v": the unit test
 * compares them): every transition runs this on the group-commit writer, where jansson's
 * sorting dump cost more than the rest of the leaf. NULL when a value is not plain(): the
 * caller takes the jansson path. */
static char *decision_text(struct arena *a, const char *salt, const struct ledger_decision *d, const char *ref,
			   const struct ledger_rows *rows, size_t *len)
{
	const char *kind = ledger_is_decision(d->action) ? "decision" : "transition";
	const char *strs[] = { d->number ? d->number : "", d->item_code ? d->item_code : "",
			       d->department ? d->department : "", d->action ? d->action : "",
			       d->from_state ? d->from_state : "", d->to_state ? d->to_state : "", ref };
	for (size_t i = 0; i < ARRAY_LEN(strs); i++)
		if (!plain(strs[i]))
			return NULL;
	if (d->action && !strcmp(d->action, "instant_approve"))
		return NULL; /* its "rules" member: decision_obj's path */
	char buf[32], actor[65], applicant[65], enterprise[65], reason[65], detail[65];
	num(buf, d->applicant_id);
	ledger_personal_hash(salt, "applicant", buf, applicant);
	num(buf, d->enterprise_id);
	ledger_personal_hash(salt, "enterprise", buf, enterprise);
	num(buf, d->actor_id);
	ledger_personal_hash(salt, "actor", buf, actor);
	ledger_personal_hash(salt, "reason", d->reason ? d->reason : "", reason);
	ledger_personal_hash(salt, "detail", d->detail ? d->detail : "{}", detail);
	struct sb sb;
	sb_init(&sb, 1024);
	/* members in the byte order of their names, as ledger_canonical writes them */
	member(&sb, "{\"action\":", strs[3]);
	member(&sb, ",\"actor\":", actor);
	member(&sb, ",\"applicant\":", applicant);
	if (d->number)
		member(&sb, ",\"application\":", d->number);
	else
		sb_adds(&sb, ",\"application\":null");
	sb_adds(&sb, ",\"at\":");
	sb_adds(&sb, num(buf, d->at));
	member(&sb, ",\"department\":", strs[2]);
	member(&sb, ",\"detail\":", detail);
	if (d->enterprise_id)
		member(&sb, ",\"enterprise\":", enterprise);
	sb_adds(&sb, ",\"event\":");
	sb_adds(&sb, num(buf, d->event_id));
	member(&sb, ",\"from\":", strs[4]);
	member(&sb, ",\"item\":", strs[1]);
	member(&sb, ",\"kind\":", kind);
	member(&sb, ",\"reason\":", reason);
	if (rows->n) {
		member(&sb, ",\"ref\":", ref);
		sb_adds(&sb, ",\"rows\":{");
		for (size_t i = 0; i < rows->n; i++) {
			member(&sb, i ? "," : "", rows->v[i].id);
			member(&sb, ":", rows->v[i].content);
		}
		sb_addch(&sb, '}');
	}
	member(&sb, ",\"to\":", strs[5]);
	sb_adds(&sb, rows->n ? ",\"v\":2}" : "}");
	char *out = sb_failed(&sb) ? NULL : arena_strndup(a, sb.buf, sb.len);
	*len = sb.len;
	sb_release(&sb);
	return out;
}

char *ledger_decision_text(struct arena *a, const char *salt, const struct ledger_decision *d, const char *ref,
			   const struct ledger_rows *rows, size_t *len)
{
	return decision_text(a, salt, d, ref, rows, len);
}

/* Every transition is logged, so that each gives the applicant a receipt: the five decisions
 * as kind "decision", the other steps as "transition" (both with the ref "decision:<event>").
 * The leaf commits the application's row as the transition left it and the event's row (the
 * cases module touched both with the values it wrote: nothing is read again). */
static int on_transition(struct db *db, struct arena *a, const struct case_change *c)
{
	struct ledger_decision d = {
		.event_id = c->event_id, .number = c->number, .item_code = c->item_code,
		.department = c->department, .action = c->action, .from_state = c->from_state,
		.to_state = c->to_state, .at = c->at, .applicant_id = c->applicant_id,
		.enterprise_id = c->enterprise_id, .actor_id = c->actor_id, .reason = c->reason,
		.detail = c->detail,
	};
	const char *kind = ledger_is_decision(c->action) ? "decision" : "transition";
	char salt[LEDGER_SALT_HEX + 1], ref[48];
	ledger_salt_new(salt);
	snprintf(ref, sizeof(ref), "decision:%lld", (long long)c->event_id);
	struct cover_entry *rows;
	struct ledger_rows lr;
	size_t n, len;
	char *text = NULL;
	int rc = cover_take(db, a, &rows, &n, NULL);
	if (!rc)
		rc = ledger_rows_prepare(db, a, salt, rows, n, &lr);
	if (!rc && (text = decision_text(a, salt, &d, ref, &lr, &len)))
		rc = ledger_append_text(db, a, kind, ref, salt, text, len, &lr, NULL);
	else if (!rc)
		rc = ledger_append_rows(db, a, kind, ref, salt, decision_obj(salt, &d), rows, n, NULL);
	if (rc)
		log_error("ledger: the decision %s of application %s could not be logged: %s", c->action,
			  c->number ? c->number : "-", err_name(rc));
	return rc;
}

int ledger_bulk_decision(struct ledger_bulk *b, struct arena *a, const struct ledger_decision *d,
			 const struct cover_entry *rows, size_t n)
{
	const char *kind = ledger_is_decision(d->action) ? "decision" : "transition";
	char salt[LEDGER_SALT_HEX + 1], ref[48];
	ledger_salt_new(salt);
	snprintf(ref, sizeof(ref), "decision:%lld", (long long)d->event_id);
	struct ledger_rows lr;
	size_t len;
	char *text = NULL;
	int rc = ledger_rows_prepare(NULL, a, salt, rows, n, &lr);
	if (!rc && !(text = decision_text(a, salt, d, ref, &lr, &len)))
		rc = ledger_rows_text(a, kind, ref, decision_obj(salt, d), &lr, &text, &len);
	return rc ? rc : ledger_bulk_emit(b, a, kind, ref, salt, text, len, &lr, d->at);
}

/* The leaf of changes of covered rows that no other leaf of their transaction took
 * (store/cover.h): kind "change", the action named at the first touch, at most
 * LEDGER_ROWS_PER_LEAF rows per leaf. Installed as db_commit's hook. */
#define LEDGER_ROWS_PER_LEAF 200

int ledger_change_logger(struct db *db)
{
	struct arena *a = arena_new(1 << 16);
	struct cover_entry *rows;
	size_t n;
	const char *action;
	int rc = cover_take(db, a, &rows, &n, &action);
	int64_t now = clock_now();
	for (size_t i = 0; !rc && i < n; i += LEDGER_ROWS_PER_LEAF) {
		json_t *o = json_pack("{s:s,s:I}", "action", action ? action : "change", "at", (json_int_t)now);
		rc = ledger_append_rows(db, a, "change", NULL, NULL, o, rows + i,
					n - i < LEDGER_ROWS_PER_LEAF ? n - i : LEDGER_ROWS_PER_LEAF, NULL);
	}
	if (rc)
		log_error("ledger: a change of %zu covered row(s) could not be logged: %s", n, err_name(rc));
	arena_free(a);
	return rc;
}

DB_SQL(q_decision_src,
       "SELECT e.id, a.number, a.item_code, a.department, e.action, e.from_state, e.to_state, e.at, "
       "a.applicant_id, a.enterprise_id, e.actor_id, e.reason, e.detail "
       "FROM application_events e JOIN applications a ON a.id = e.application_id WHERE e.id = ?");
DB_SQL(q_decision_missing,
       "SELECT e.id, e.action, e.application_id FROM application_events e WHERE e.action NOT IN ('claim', 'assign') "
       "AND NOT EXISTS (SELECT 1 FROM ledger_leaves l WHERE l.ref = 'decision:' || CAST(e.id AS TEXT)) ORDER BY e.id");

static int decision_recompute(struct db *db, struct arena *a, const char *ref, const char *salt, char **json)
{
	char *end;
	if (strncmp(ref, "decision:", 9) != 0)
		return GH_EINVAL;
	long long id = strtoll(ref + 9, &end, 10);
	if (*end || id <= 0)
		return GH_EINVAL;
	struct db_rows r;
	int rc = db_query(db, a, &q_decision_src, DB_ARGS(DB_INT(id)), &r);
	if (rc)
		return rc;
	if (r.nrows != 1)
		return GH_ENOTFOUND;
	struct ledger_decision d = {
		.event_id = db_cell_int(&r, 0, 0), .number = db_cell(&r, 0, 1), .item_code = db_cell(&r, 0, 2),
		.department = db_cell(&r, 0, 3), .action = db_cell(&r, 0, 4), .from_state = db_cell(&r, 0, 5),
		.to_state = db_cell(&r, 0, 6), .at = db_cell_int(&r, 0, 7), .applicant_id = db_cell_int(&r, 0, 8),
		.enterprise_id = db_cell(&r, 0, 9) ? db_cell_int(&r, 0, 9) : 0,
		.actor_id = db_cell(&r, 0, 10) ? db_cell_int(&r, 0, 10) : 0, .reason = db_cell(&r, 0, 11),
		.detail = db_cell(&r, 0, 12),
	};
	*json = ledger_decision_leaf(a, salt, &d);
	return *json ? 0 : GH_EINTERNAL;
}

/* ---- catalog item versions ---- */

DB_SQL(q_item_src,
       "SELECT code, version, department, audience, theme, item_type, level, name_zh, name_en, "
       "legal_limit_days, promised_limit_days, fee_yuan, online_depth, visits_required, conditions_zh, "
       "conditions_en, legal_basis_zh, materials, form, outcome_ecert, keywords_zh, content_hash, created_at "
       "FROM service_items WHERE code = ? AND version = ?");
DB_SQL(q_item_missing,
       "SELECT s.code, s.version FROM service_items s WHERE NOT EXISTS (SELECT 1 FROM ledger_leaves l "
       "WHERE l.ref = 'catalog_item:' || s.code || ':' || CAST(s.version AS TEXT)) ORDER BY s.code, s.version");

/* The leaf of one stored item version: its identity in clear, and a digest of every column
 * (is_current excepted: it changes when a newer version arrives). */
static int item_leaf(struct db *db, struct arena *a, const char *code, long version, char **json)
{
	struct db_rows r;
	int rc = db_query(db, a, &q_item_src, DB_ARGS(DB_TEXT(code), DB_INT(version)), &r);
	if (rc)
		return rc;
	if (r.nrows != 1)
		return GH_ENOTFOUND;
	json_t *cols = json_array();
	for (size_t c = 0; c < r.ncols; c++) {
		const char *v = db_cell(&r, 0, c);
		if (c == 11 && v) { /* REAL prints differently on the two backends */
			char buf[64];
			snprintf(buf, sizeof(buf), "%.15g", strtod(v, NULL));
			json_array_append_new(cols, json_string(buf));
		} else {
			json_array_append_new(cols, v ? json_string(v) : json_null());
		}
	}
	char *text = ledger_canonical(a, cols);
	json_decref(cols);
	if (!text)
		return GH_EINTERNAL;
	unsigned char h[32];
	char hex[65];
	crypto_hash_sha256(h, (const unsigned char *)text, strlen(text));
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	json_t *o = json_pack("{s:s,s:s,s:I,s:s,s:s,s:s,s:s,s:s}", "kind", "catalog_item", "code", code, "version",
			      (json_int_t)version, "department", db_cell(&r, 0, 2), "name_zh", db_cell(&r, 0, 7),
			      "name_en", db_cell(&r, 0, 8), "content_hash", db_cell(&r, 0, 21), "row_sha256", hex);
	if (!o)
		return GH_EINTERNAL;
	*json = ledger_canonical(a, o);
	json_decref(o);
	return *json ? 0 : GH_EINTERNAL;
}

/* A new item version: its leaf commits the new row and the one it retired (is_current). */
static int on_item_version(struct db *db, struct arena *a, const char *code, long version)
{
	char *leaf;
	int rc = cover_touch(db, "service_items", arena_printf(a, "%s:%ld", code, version), NULL);
	if (!rc && version > 1)
		rc = cover_touch(db, "service_items", arena_printf(a, "%s:%ld", code, version - 1), NULL);
	if (!rc)
		rc = item_leaf(db, a, code, version, &leaf);
	if (!rc)
		rc = ledger_append_ref(db, a, "catalog_item", arena_printf(a, "catalog_item:%s:%ld", code, version), NULL,
				       leaf, NULL);
	if (rc)
		log_error("ledger: the catalog item %s version %ld could not be logged: %s", code, version, err_name(rc));
	return rc;
}

static int item_recompute(struct db *db, struct arena *a, const char *ref, const char *salt, char **json)
{
	(void)salt;
	const char *p = strncmp(ref, "catalog_item:", 13) == 0 ? ref + 13 : NULL;
	const char *colon = p ? strrchr(p, ':') : NULL;
	if (!colon)
		return GH_EINVAL;
	char *end;
	long v = strtol(colon + 1, &end, 10);
	if (*end || v <= 0)
		return GH_EINVAL;
	return item_leaf(db, a, arena_strndup(a, p, (size_t)(colon - p)), v, json);
}

int ledger_backfill(struct db *db, struct arena *a, size_t *items, size_t *decisions, size_t *rows)
{
	struct db_rows r;
	*items = *decisions = *rows = 0;
	int rc = db_query(db, a, &q_item_missing, DB_NOARGS, &r);
	for (size_t i = 0; !rc && i < r.nrows; i++) {
		rc = on_item_version(db, a, db_cell(&r, i, 0), (long)db_cell_int(&r, i, 1));
		if (!rc)
			(*items)++;
	}
	if (!rc)
		rc = db_query(db, a, &q_decision_missing, DB_NOARGS, &r);
	for (size_t i = 0; !rc && i < r.nrows; i++) {
		char salt[LEDGER_SALT_HEX + 1], *leaf;
		ledger_salt_new(salt);
		const char *ref = arena_printf(a, "decision:%s", db_cell(&r, i, 0));
		rc = decision_recompute(db, a, ref, salt, &leaf);
		/* With the rows of the event and its application, as a transition commits them now. */
		if (!rc)
			rc = cover_touch(db, "application_events", db_cell(&r, i, 0), NULL);
		if (!rc)
			rc = cover_touch(db, "applications", db_cell(&r, i, 2), NULL);
		if (!rc)
			rc = ledger_append_ref(db, a, ledger_is_decision(db_cell(&r, i, 1)) ? "decision" : "transition", ref,
					       salt, leaf, NULL);
		if (!rc)
			(*decisions)++;
	}
	if (!rc)
		rc = ledger_backfill_rows(db, a, rows);
	return rc;
}

void ledger_register_observers(void)
{
	static bool done;
	if (done)
		return;
	done = true;
	cases_observe(on_transition);
	catalog_observe_versions(on_item_version);
	cover_set_logger(ledger_change_logger);
	/* Leaves of the first format (before "rows") are checked by rebuilding them. */
	ledger_audit_source("decision", decision_recompute);
	ledger_audit_source("transition", decision_recompute);
	ledger_audit_source("catalog_item", item_recompute);
	ledger_verify_type(LEDGER_RECEIPT_TYPE, ledger_verify_receipt);
}

/* ---- start ---- */

static struct ledger_keys *keys;
static char public_url[512];

int ledger_init(struct app *app, char *err, size_t errlen)
{
	char path[4096], origin[300];
	ledger_key_path(&app->cfg, path, sizeof(path));
	/* The origin the log was created with, whatever public-url says now. */
	struct db *db;
	int rc = db_open(app->cfg.db, &db, err, errlen);
	if (rc)
		return rc;
	rc = ledger_origin_fixed(db, &app->cfg, true, origin, sizeof(origin));
	if (rc)
		snprintf(err, errlen, "ledger: cannot read the log's origin: %s", db_last_error(db));
	db_close(db);
	if (!rc)
		rc = ledger_keys_load(path, origin, &keys, err, errlen);
	if (rc)
		return rc;
	snprintf(public_url, sizeof(public_url), "%s", app->cfg.public_url ? app->cfg.public_url : "");
	size_t l = strlen(public_url);
	while (l && public_url[l - 1] == '/')
		public_url[--l] = 0;
	ledger_loaded_keys = keys;
	ledger_register_observers();
	return 0;
}

void ledger_release(struct app *app)
{
	(void)app;
	ledger_loaded_keys = NULL;
	ledger_keys_free(keys);
	keys = NULL;
}

void ledger_use_keys(const struct ledger_keys *k)
{
	ledger_loaded_keys = k;
}

/* ---- proofs and receipts ---- */

int ledger_prove(struct db *db, struct arena *a, int64_t index, struct ledger_proof *out)
{
	if (index < 0)
		return GH_ENOTFOUND;
	struct ledger_leaf leaf;
	int rc = ledger_leaf_read(db, a, index, &leaf);
	if (rc)
		return rc;
	int64_t size;
	unsigned char root[H32];
	const char *note;
	rc = ledger_checkpoint_latest(db, a, &size, root, &note);
	if (rc == GH_ENOTFOUND || (!rc && size <= index)) {
		if ((rc = ledger_checkpoint_now(db, a, ledger_loaded_keys, NULL)))
			return rc;
		rc = ledger_checkpoint_latest(db, a, &size, root, &note);
	}
	if (rc)
		return rc;
	if (size <= index)
		return GH_EINTERNAL;
	out->index = index;
	out->tree_size = size;
	memcpy(out->leaf_hash, leaf.hash, H32);
	memcpy(out->root, root, H32);
	out->checkpoint = note;
	out->path = arena_alloc(a, LEDGER_PROOF_MAX * H32);
	struct ledger_dbctx c = { db, a, 0 };
	return merkle_inclusion_proof(ledger_db_get, &c, (uint64_t)index, (uint64_t)size, out->path, &out->n);
}

json_t *ledger_hashes_json(const unsigned char (*path)[H32], size_t n)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		char b[64];
		ledger_b64(path[i], H32, b, sizeof(b));
		json_array_append_new(arr, json_string(b));
	}
	return arr;
}

int ledger_receipt(struct db *db, struct arena *a, int64_t index, json_t **out)
{
	struct ledger_proof p;
	int rc = ledger_prove(db, a, index, &p);
	if (rc)
		return rc;
	struct ledger_leaf leaf;
	if ((rc = ledger_leaf_read(db, a, index, &leaf)))
		return rc;
	char lh[64], root[64];
	ledger_b64(p.leaf_hash, H32, lh, sizeof(lh));
	ledger_b64(p.root, H32, root, sizeof(root));
	size_t ol = strcspn(p.checkpoint, "\n");
	*out = json_pack("{s:s,s:s%,s:I,s:s,s:s,s:s,s:I,s:s,s:s,s:o,s:s}", "type", LEDGER_RECEIPT_TYPE, "origin",
			 p.checkpoint, ol, "leaf_index", (json_int_t)index, "kind", leaf.kind, "leaf", leaf.leaf,
			 "leaf_hash", lh, "tree_size", (json_int_t)p.tree_size, "root", root, "checkpoint", p.checkpoint,
			 "inclusion_proof", ledger_hashes_json((const unsigned char(*)[H32])p.path, p.n), "keys_url",
			 arena_printf(a, "%s/.well-known/govhall-keys.json", public_url));
	return *out ? 0 : GH_EINTERNAL;
}

/* ---- verifying a receipt (no database) ---- */

int ledger_receipt_check(struct arena *a, const json_t *doc, const json_t *keys_doc, char *err, size_t errlen,
			 int64_t *index_out, int64_t *size_out)
{
#define BAD(...)                                    \
	do {                                        \
		snprintf(err, errlen, __VA_ARGS__); \
		return GH_EINVAL;                   \
	} while (0)
	if (!json_is_object(doc))
		BAD("the receipt is not a JSON object");
	const char *type = json_string_value(json_object_get(doc, "type"));
	if (!type || strcmp(type, LEDGER_RECEIPT_TYPE) != 0)
		BAD("the document is not a receipt (type %s)", LEDGER_RECEIPT_TYPE);
	json_t *ji = json_object_get(doc, "leaf_index"), *js = json_object_get(doc, "tree_size");
	const char *leaf = json_string_value(json_object_get(doc, "leaf"));
	const char *lh64 = json_string_value(json_object_get(doc, "leaf_hash"));
	const char *note = json_string_value(json_object_get(doc, "checkpoint"));
	json_t *proof = json_object_get(doc, "inclusion_proof");
	if (!json_is_integer(ji) || json_integer_value(ji) < 0 || !json_is_integer(js) || !leaf || !lh64 || !note ||
	    !json_is_array(proof))
		BAD("the receipt lacks leaf_index, tree_size, leaf, leaf_hash, checkpoint or inclusion_proof");
	if (json_array_size(proof) > LEDGER_PROOF_MAX)
		BAD("the inclusion proof is too long");
	unsigned char lh[H32], computed[H32];
	if (ledger_unb64_hash(lh64, lh))
		BAD("leaf_hash is not a base64 SHA-256 hash");
	if (strlen(leaf) > LEDGER_LEAF_MAX)
		BAD("the leaf is too long");
	ledger_leaf_hash(leaf, strlen(leaf), computed);
	if (sodium_memcmp(lh, computed, H32) != 0)
		BAD("the leaf does not hash to leaf_hash: the record was altered");
	if (!keys_doc)
		BAD("no keys document to check the checkpoint's signature against (give --keys FILE)");
	const char *origin;
	int64_t size;
	unsigned char root[H32];
	char cerr[256];
	if (ledger_checkpoint_verify(a, note, keys_doc, &origin, &size, root, cerr, sizeof(cerr)))
		BAD("the checkpoint is not valid: %s", cerr);
	if (size != json_integer_value(js))
		BAD("tree_size is not the checkpoint's size");
	const char *r64 = json_string_value(json_object_get(doc, "root"));
	unsigned char r2[H32];
	if (r64 && (ledger_unb64_hash(r64, r2) || sodium_memcmp(r2, root, H32) != 0))
		BAD("root is not the checkpoint's root");
	unsigned char(*path)[H32] = arena_alloc(a, (json_array_size(proof) + 1) * H32);
	size_t i;
	json_t *e;
	json_array_foreach(proof, i, e) {
		if (ledger_unb64_hash(json_string_value(e), path[i]))
			BAD("inclusion_proof[%zu] is not a base64 SHA-256 hash", i);
	}
	if (ledger_verify_inclusion((uint64_t)json_integer_value(ji), (uint64_t)size, lh,
				    (const unsigned char(*)[H32])path, json_array_size(proof), root))
		BAD("the inclusion proof does not lead to the checkpoint's root");
	if (index_out)
		*index_out = json_integer_value(ji);
	if (size_out)
		*size_out = size;
	return 0;
#undef BAD
}

int ledger_verify_receipt(struct arena *a, const json_t *doc, const json_t *keys_doc, const struct view *words,
			  FILE *out)
{
	char err[512];
	int64_t idx, size;
	if (ledger_receipt_check(a, doc, keys_doc, err, sizeof(err), &idx, &size)) {
		fprintf(out, "INVALID receipt: %s\n", err);
		return 1;
	}
	fprintf(out, "valid receipt: leaf %lld (%s) is in the log %s of %lld leaves, signed by a published log key\n",
		(long long)idx, json_string_value(json_object_get(doc, "kind")) ? json_string_value(json_object_get(doc, "kind")) : "?",
		json_string_value(json_object_get(doc, "origin")) ? json_string_value(json_object_get(doc, "origin")) : "?",
		(long long)size);
	return 0;
}
