/* bundles.c: bundle applications (一件事一次办). One form for all the items of a catalog bundle
 * (shared fields asked once), fanned out into one child application per item applied for
 * online; the bundle shows the children's combined progress.
 *
 * - The form: the union of the online items' fields by key (the first item's definition of a
 *   key is shown; required when any item requires it); a key two items define differently
 *   (another type, other options) is asked again for the later item as "<item code>__<key>",
 *   labelled with the item's name. Then every online item's materials one
 *   after the other (global slot = the item's first slot + its own slot). Items below online
 *   depth 3 are listed as handled at the counter and get no child.
 * - Submission: every child is checked first (case_apply_prepare on the shared values, each
 *   item reading only its own fields); any error shows the whole form again with all errors.
 *   Then the bundle row (idempotent: applicant + key), then one child per online item through
 *   case_apply_write with the key "b<bundle id>:<item code>", linked by applications.bundle_id. A
 *   repeated submission finds the bundle and its children again (and completes a fan-out that
 *   an earlier request could not finish).
 * - Drafts: "save as draft" keeps the form's values and the materials (over the bundle's
 *   global slots) in the bundle row (submitted_at NULL), found again by the form's key or by
 *   ?draft=<id>; submitting the draft files the children and clears it.
 * - Who sees a bundle: its applicant (or the applying enterprise's agents) and administrators.
 *   Department staff see only their own child applications, through the normal pages.
 * - Overall status: in_progress while a child is open; completed when every child is;
 *   partly_refused when all are closed and some were not accepted, denied or withdrawn (with
 *   each one's reason). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/jsonout.h"
#include "base/util.h"
#include "cases/cases_impl.h"
#include "cases/pages_impl.h"
#include "catalog/catalog.h"
#include "http/handler.h"
#include "http/msg.h"
#include "http/server.h"
#include "http/write.h"
#include "identity/identity.h"
#include "store/db.h"
#include "view/view.h"

#define APPLICANTS (ROLE_CITIZEN | ROLE_AGENT | ROLE_ENTERPRISE)
#define MAX_BUNDLE_SLOTS 50 /* materials of all the items of a bundle (the apply reader's limit) */
#define MINE_MAX 20

/* ---- the table ------------------------------------------------------------------------- */

struct bundle_app {
	int64_t id, applicant_id, enterprise_id, created_at, submitted_at; /* submitted_at 0: a draft */
	const char *code, *number;
	const char *draft_form, *draft_materials; /* JSON text of a draft (NULL once submitted) */
};

DB_SQL(q_b_insert, "INSERT INTO bundle_applications (bundle_code, applicant_id, enterprise_id, idempotency_key, "
		   "created_at) VALUES (?, ?, ?, ?, ?) RETURNING id");
/* A key names one bundle of one owner (see q_by_idem in store.c). */
DB_SQL(q_b_by_idem, "SELECT id FROM bundle_applications WHERE applicant_id = ? AND idempotency_key = ? "
		    "AND COALESCE(enterprise_id, 0) = ?");
#define B_COLS "id, bundle_code, applicant_id, enterprise_id, number, created_at, submitted_at, draft_form, draft_materials "
DB_SQL(q_b_get, "SELECT " B_COLS "FROM bundle_applications WHERE id = ?");
DB_SQL(q_b_draft, "UPDATE bundle_applications SET draft_form = ?, draft_key_id = ?, draft_materials = ? "
		  "WHERE id = ? AND submitted_at IS NULL");
DB_SQL(q_b_submitted, "UPDATE bundle_applications SET submitted_at = ?, draft_form = NULL, draft_materials = NULL, "
		      "draft_key_id = 0 "
		      "WHERE id = ? AND submitted_at IS NULL");
DB_SQL(q_b_number, "UPDATE bundle_applications SET number = ? WHERE id = ? AND number IS NULL");
DB_SQL(q_b_children, "SELECT id FROM applications WHERE bundle_id = ? ORDER BY id");
DB_SQL(q_b_mine, "SELECT " B_COLS "FROM bundle_applications WHERE applicant_id = ? AND enterprise_id IS NULL "
		 "ORDER BY id DESC LIMIT ?");
DB_SQL(q_b_ent, "SELECT " B_COLS "FROM bundle_applications WHERE enterprise_id = ? ORDER BY id DESC LIMIT ?");

static void b_row(const struct db_rows *rows, size_t i, struct bundle_app *o)
{
	o->id = db_cell_int(rows, i, 0);
	o->code = db_cell(rows, i, 1);
	o->applicant_id = db_cell_int(rows, i, 2);
	o->enterprise_id = db_cell_int(rows, i, 3);
	o->number = db_cell(rows, i, 4);
	o->created_at = db_cell_int(rows, i, 5);
	o->submitted_at = db_cell_int(rows, i, 6);
	o->draft_form = db_cell(rows, i, 7);
	o->draft_materials = db_cell(rows, i, 8);
}

/* Creates the bundle row, or finds the one this applicant's key made (*existed). */
static int b_create(struct db *db, struct arena *a, const char *code, int64_t applicant, int64_t enterprise,
		    const char *key, int64_t *id, bool *existed)
{
	struct db_rows rows;
	*existed = false;
	int rc;
	if (key) {
		if ((rc = db_query(db, a, &q_b_by_idem, DB_ARGS(DB_INT(applicant), DB_TEXT(key), DB_INT(enterprise)), &rows)))
			return rc;
		if (rows.nrows == 1) {
			*id = db_cell_int(&rows, 0, 0);
			*existed = true;
			return 0;
		}
	}
	rc = db_query(db, a, &q_b_insert,
		      DB_ARGS(DB_TEXT(code), DB_INT(applicant), enterprise ? DB_INT(enterprise) : DB_NULL, DB_TEXT(key),
			      DB_INT(clock_now())),
		      &rows);
	if (rc == GH_ECONFLICT && key) {
		/* The same key raced in from another request: that one wins. */
		rc = db_query(db, a, &q_b_by_idem, DB_ARGS(DB_INT(applicant), DB_TEXT(key), DB_INT(enterprise)), &rows);
		if (!rc && rows.nrows == 1) {
			*id = db_cell_int(&rows, 0, 0);
			*existed = true;
			return 0;
		}
		return rc ? rc : GH_ECONFLICT;
	}
	if (rc)
		return rc;
	*id = db_cell_int(&rows, 0, 0);
	return 0;
}

static int b_get(struct db *db, struct arena *a, int64_t id, struct bundle_app *out)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_b_get, DB_ARGS(DB_INT(id)), &rows);
	if (rc)
		return rc;
	if (rows.nrows != 1)
		return GH_ENOTFOUND;
	b_row(&rows, 0, out);
	return 0;
}

static int b_children(struct db *db, struct arena *a, int64_t id, struct application **out, size_t *n)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_b_children, DB_ARGS(DB_INT(id)), &rows);
	if (rc)
		return rc;
	struct application *v = arena_array(a, rows.nrows ? rows.nrows : 1, sizeof(*v));
	for (size_t i = 0; i < rows.nrows; i++)
		if ((rc = case_get(db, a, db_cell_int(&rows, i, 0), &v[i])))
			return rc;
	*out = v;
	*n = rows.nrows;
	return 0;
}

static bool bundle_is_applicant(const struct req *r, const struct bundle_app *b)
{
	return identity_owns(r, b->applicant_id, b->enterprise_id);
}

/* ---- the bundle's form ------------------------------------------------------------------ */

struct bundle_item {
	struct catalog_service svc;
	json_t *def, *mdefs; /* borrowed from the arena */
	size_t slot0;        /* its first slot in the bundle's materials */
	json_t *alias;       /* its keys asked under another name: key -> form name (NULL: none) */
	bool online;
};

struct bundle_form {
	const char *code, *name_zh, *name_en;
	struct bundle_item *items;
	size_t n, nonline;
	json_t *def, *mdefs; /* the union of the fields, the materials one item after another */
};

static const char *pick(const struct req *r, const char *zh, const char *en_)
{
	return en(r) && en_ && *en_ ? en_ : zh;
}

/* True when two field definitions can share one answer: same type and, for a select, the
 * same option values. */
static bool same_field(json_t *a, json_t *b)
{
	if (!json_equal(json_object_get(a, "type"), json_object_get(b, "type")))
		return false;
	json_t *oa = json_object_get(a, "options"), *ob = json_object_get(b, "options");
	if (json_array_size(oa) != json_array_size(ob))
		return false;
	for (size_t i = 0; i < json_array_size(oa); i++)
		if (!json_equal(json_object_get(json_array_get(oa, i), "value"), json_object_get(json_array_get(ob, i), "value")))
			return false;
	return true;
}

/* Loads bundle code and builds its form. GH_ENOTFOUND with a detail for an unknown bundle. */
static int bundle_load(struct req *r, const char *code, struct bundle_form *b)
{
	memset(b, 0, sizeof(*b));
	struct catalog_service *svcs;
	int rc = catalog_bundle_services(r->db, r->arena, code, &b->name_zh, &b->name_en, &svcs, &b->n);
	if (rc == GH_ENOTFOUND)
		req_error_detail(r, "%s", M(r, "cases_there_such_bundle"));
	if (rc)
		return rc;
	b->code = code;
	b->items = arena_array(r->arena, b->n ? b->n : 1, sizeof(*b->items));
	b->def = arena_json(r, json_array());
	b->mdefs = arena_json(r, json_array());
	json_t *seen = arena_json(r, json_object()); /* key -> its field in def */
	for (size_t i = 0; i < b->n; i++) {
		struct bundle_item *it = &b->items[i];
		it->svc = svcs[i];
		it->online = svcs[i].online_depth >= 3;
		if (!it->online)
			continue;
		it->def = arena_json(r, json_loads(it->svc.form ? it->svc.form : "[]", 0, NULL));
		it->mdefs = arena_json(r, json_loads(it->svc.materials ? it->svc.materials : "[]", 0, NULL));
		if (!json_is_array(it->def) || !json_is_array(it->mdefs))
			return GH_EINTERNAL;
		if (json_array_size(b->mdefs) + json_array_size(it->mdefs) > MAX_BUNDLE_SLOTS)
			return GH_EINTERNAL; /* the catalog's bundles are far below */
		b->nonline++;
		size_t k;
		json_t *f;
		json_array_foreach(it->def, k, f)
		{
			const char *key = json_string_value(json_object_get(f, "key"));
			if (!key)
				continue;
			json_t *had = json_object_get(seen, key);
			if (had && same_field(had, f)) {
				if (json_is_true(json_object_get(f, "required")))
					json_object_set_new(had, "required", json_true());
				continue;
			}
			json_t *copy = json_deep_copy(f);
			if (had) {
				/* The same key meaning something else here: asked again for this item. */
				const char *alias = arena_printf(r->arena, "%s__%s", it->svc.code, key);
				if (!it->alias)
					it->alias = arena_json(r, json_object());
				json_object_set_new(it->alias, key, json_string(alias));
				json_object_set_new(copy, "key", json_string(alias));
				const char *lz = json_string_value(json_object_get(f, "label_zh"));
				const char *le = json_string_value(json_object_get(f, "label_en"));
				json_object_set_new(copy, "label_zh", json_sprintf("%s（%s）", lz ? lz : key, it->svc.name_zh));
				json_object_set_new(copy, "label_en", json_sprintf("%s (%s)", le ? le : key,
										   it->svc.name_en ? it->svc.name_en : it->svc.name_zh));
				json_array_append_new(b->def, copy);
				continue;
			}
			json_array_append(b->def, copy);
			json_object_set_new(seen, key, copy);
		}
		it->slot0 = json_array_size(b->mdefs);
		const char *name = cases_item_name(r, &it->svc);
		json_t *m;
		json_array_foreach(it->mdefs, k, m)
		{
			json_t *copy = json_deep_copy(m);
			json_object_set_new(copy, "_item", json_string(name));
			json_array_append_new(b->mdefs, copy);
		}
	}
	return 0;
}

/* The apply view of the bundle's form (for cases_apply_render and cases_apply_read). */
static void bundle_view(struct req *r, const struct bundle_form *b, struct apply_view *v)
{
	memset(v, 0, sizeof(*v));
	v->svc = (struct catalog_service){ .code = b->code, .name_zh = b->name_zh, .name_en = b->name_en };
	v->def = b->def;
	v->mdefs = b->mdefs;
	v->action = arena_printf(r->arena, "/bundles/%s/apply", b->code);
	json_t *bundle = arena_json(r, json_object());
	jset(bundle, "code", b->code);
	json_t *online = json_array(), *counter = json_array();
	for (size_t i = 0; i < b->n; i++) {
		json_t *o = json_pack("{s:s,s:s}", "name", cases_item_name(r, &b->items[i].svc), "href",
				      arena_printf(r->arena, "/services/%s", b->items[i].svc.code));
		json_array_append_new(b->items[i].online ? online : counter, o);
	}
	json_object_set_new(bundle, "online_items", online);
	json_object_set_new(bundle, "counter_items", counter);
	json_object_set_new(bundle, "has_counter_items", json_boolean(json_array_size(counter) > 0));
	v->bundle = bundle;
}

/* ---- applying --------------------------------------------------------------------------- */

struct bundle_apply_in {
	json_t *input;      /* flat object of strings: the shared fields */
	json_t *global;     /* the materials over the bundle's slots (kept with a draft) */
	int64_t draft_id;   /* the draft this continues (0: none; then key finds one) */
	bool submit;        /* false: save as a draft, nothing is checked or filed */
	json_t **materials; /* per item of the bundle (NULL for counter items): case_apply_in's materials */
	const char *key;    /* idempotency key; may be NULL */
	const char *channel;
	struct case_upload *ups; /* files posted with the form, stored with it (case_apply_in) */
	size_t nups;
};

/* The values item it reads: the shared ones, with its own answers to keys it asks under
 * another name (borrowed or owned by r's arena). */
static json_t *child_input(struct req *r, const struct bundle_item *it, json_t *input)
{
	if (!it->alias)
		return input;
	json_t *own = arena_json(r, json_copy(input));
	const char *k;
	json_t *alias;
	json_object_foreach(it->alias, k, alias)
	{
		json_t *v = json_object_get(input, json_string_value(alias));
		if (v)
			json_object_set(own, k, v);
		else
			json_object_del(own, k);
	}
	return own;
}

/* The draft id of the caller's for bundle b, still a draft; GH_ENOTFOUND (with a detail) for
 * none of theirs, GH_ECONFLICT when it was submitted meanwhile. */
static int draft_of(struct req *r, const struct bundle_form *b, int64_t id, struct bundle_app *out)
{
	int rc = b_get(r->db, r->arena, id, out);
	if (rc == GH_ENOTFOUND || (!rc && (!bundle_is_applicant(r, out) || strcmp(out->code, b->code) != 0))) {
		req_error_detail(r, "%s", M(r, "cases_there_draft_yours_continue"));
		return GH_ENOTFOUND;
	}
	if (!rc && out->submitted_at) {
		req_error_detail(r, "%s", M(r, "cases_draft_submitted_already"));
		return GH_ECONFLICT;
	}
	return rc;
}

/* What a draft keeps (nothing is checked: a draft may be incomplete; its size is bounded by
 * the request's), personal fields sealed: made on the loop, written by save_draft. */
struct bundle_draft {
	const char *form, *mats;
	int64_t key_id;
};

static int seal_draft(struct req *r, const struct bundle_form *b, const struct bundle_apply_in *in, struct bundle_draft *d)
{
	json_t *def = arena_json(r, case_bundle_seal_def(r->db, r->arena, b->code));
	int rc = case_form_seal(r->app->keys, r->arena, def, in->input ? in->input : arena_json(r, json_object()),
				&d->form, &d->key_id);
	if (rc)
		return rc;
	char *mats = jsonout_dumps(in->global ? in->global : json_array(), JSON_COMPACT);
	if (!mats)
		return GH_EINTERNAL;
	d->mats = arena_strdup(r->arena, mats);
	free(mats);
	return 0;
}

static int save_draft(struct db *db, int64_t id, const struct bundle_draft *d)
{
	int64_t changed = 0;
	int rc = db_exec(db, &q_b_draft, DB_ARGS(DB_TEXT(d->form), DB_INT(d->key_id), DB_TEXT(d->mats), DB_INT(id)),
			 &changed);
	return rc ? rc : changed ? 0 : GH_ECONFLICT;
}

/* The draft this submission or save continues (by id, or the one its key saved), with its
 * sealed personal values put back where the input leaves them blank. *in_out is replaced by a
 * copy (in *copy) when a draft was found. */
static int continue_draft(struct req *r, const struct bundle_form *b, const struct bundle_apply_in **in_out,
			  struct bundle_apply_in *copy)
{
	const struct bundle_apply_in *in = *in_out;
	struct bundle_app d;
	int rc;
	if (in->draft_id) {
		if ((rc = draft_of(r, b, in->draft_id, &d)))
			return rc;
	} else {
		struct db_rows rows;
		if (!in->key)
			return 0;
		if ((rc = db_query(r->db, r->arena, &q_b_by_idem, DB_ARGS(DB_INT(r->who.account), DB_TEXT(in->key), DB_INT(r->who.enterprise)), &rows)))
			return rc;
		if (rows.nrows != 1 || b_get(r->db, r->arena, db_cell_int(&rows, 0, 0), &d) || d.submitted_at ||
		    strcmp(d.code, b->code) != 0)
			return 0;
	}
	*copy = *in;
	copy->input = cases_keep_saved(r, arena_json(r, case_bundle_seal_def(r->db, r->arena, b->code)), in->input,
				       d.draft_form);
	*in_out = copy;
	return 0;
}

/* A bundle application on its way to the writer: checked on the loop (bundle_prepare),
 * written in one write (bundle_write), answered by done on the loop. */
struct bundle_job {
	struct bundle_form b;
	struct bundle_apply_in in;
	struct bundle_draft draft;       /* !in.submit */
	struct case_apply_prep **preps;  /* in.submit: per item of the bundle (NULL when not online) */
	void *ctx;                       /* the caller's */
	int (*done)(struct req *r, struct bundle_job *j, json_t *errors, int rc);
	int64_t id;   /* out: the bundle */
	bool existed; /* out: the key (or draft) had been submitted before */
};

/* Checks every child (or, with in->submit false, seals the draft): GH_EVALIDATION with *errors
 * (field key -> message; material_<global slot>) when any child has an error. */
static int bundle_prepare(struct req *r, struct bundle_job *j, json_t **errors)
{
	const struct bundle_form *b = &j->b;
	*errors = arena_json(r, json_object());
	if (!b->nonline) {
		req_error_detail(r, "%s", M(r, "cases_every_item_bundle_handled_counter"));
		return GH_ECONFLICT;
	}
	const struct bundle_apply_in *in = &j->in;
	struct bundle_apply_in kept;
	int rc;
	if ((rc = continue_draft(r, b, &in, &kept)))
		return rc;
	j->in = *in;
	if (!in->submit)
		return seal_draft(r, b, in, &j->draft);
	j->preps = arena_array(r->arena, b->n ? b->n : 1, sizeof(*j->preps));
	for (size_t i = 0; i < b->n; i++) {
		const struct bundle_item *it = &b->items[i];
		if (!it->online)
			continue;
		struct case_apply_in ai = { .item_code = it->svc.code, .input = child_input(r, it, in->input),
					    .materials = in->materials[i], .submit = true, .channel = in->channel,
					    .applicant_id = r->who.account, .enterprise_id = r->who.enterprise,
					    .ups = in->ups, .nups = in->nups };
		json_t *e = NULL;
		rc = case_apply_prepare(r, &ai, &j->preps[i], &e);
		if (rc && rc != GH_EVALIDATION)
			return rc;
		const char *k;
		json_t *msg;
		json_object_foreach(e, k, msg)
		{
			long slot;
			if (strncmp(k, "material_", 9) == 0 && !str_to_long(str_c(k + 9), 0, MAX_BUNDLE_SLOTS, &slot))
				json_object_set(*errors, arena_printf(r->arena, "material_%zu", it->slot0 + (size_t)slot), msg);
			else if (strcmp(k, "materials") == 0)
				json_object_set_new(*errors, "materials",
						    json_sprintf("%s: %s", cases_item_name(r, &it->svc), json_string_value(msg)));
			else if (json_is_string(json_object_get(it->alias, k)))
				json_object_set(*errors, json_string_value(json_object_get(it->alias, k)), msg);
			else if (!json_object_get(*errors, k))
				json_object_set(*errors, k, msg);
		}
	}
	return json_object_size(*errors) ? GH_EVALIDATION : 0;
}

/* The write: the bundle row (idempotent: applicant + key), then, with submit, one child per
 * online item under the key "b<bundle id>:<item code>"; or the draft saved. */
static int bundle_write(struct req *w, void *arg)
{
	struct bundle_job *j = arg;
	const struct bundle_form *b = &j->b;
	const struct bundle_apply_in *in = &j->in;
	struct bundle_app before;
	bool had = false;
	int rc;
	j->existed = false;
	j->id = in->draft_id;
	if (!j->id && (rc = b_create(w->db, w->arena, b->code, w->who.account, w->who.enterprise, in->key, &j->id, &had)))
		return rc;
	if ((rc = cases_write_uploads(w, in->ups, in->nups)))
		return rc;
	if (!in->submit) {
		if (had && (rc = draft_of(w, b, j->id, &before)))
			return rc;
		struct bundle_draft d = j->draft;
		if (in->nups) {
			/* The draft names the files uploaded with it by the ids they were written under. */
			json_t *global = in->global ? json_deep_copy(in->global) : json_array();
			cases_uploads_resolve(global, in->ups, in->nups);
			char *mats = jsonout_dumps(global, JSON_COMPACT);
			json_decref(global);
			if (!mats)
				return GH_EINTERNAL;
			d.mats = arena_strdup(w->arena, mats);
			free(mats);
		}
		return save_draft(w->db, j->id, &d);
	}
	/* The key may have made a draft, or the whole bundle, before. */
	if (had && (rc = b_get(w->db, w->arena, j->id, &before)))
		return rc;
	j->existed = had && before.submitted_at;
	const char *first = NULL;
	for (size_t i = 0; i < b->n; i++) {
		const struct bundle_item *it = &b->items[i];
		if (!it->online)
			continue;
		struct application *app;
		const char *key = arena_printf(w->arena, "b%lld:%s", (long long)j->id, it->svc.code);
		if ((rc = case_apply_write(w, j->preps[i], key, &app)))
			return rc;
		if ((rc = case_set_bundle(w->db, app->id, j->id)))
			return rc;
		if (!first && app->number)
			first = app->number;
	}
	if (first && strlen(first) > 2) {
		int64_t changed = 0;
		if ((rc = db_exec(w->db, &q_b_number, DB_ARGS(DB_TEXT(arena_printf(w->arena, "QB%s", first + 2)),
							     DB_INT(j->id)), &changed)))
			return rc;
	}
	return db_exec(w->db, &q_b_submitted, DB_ARGS(DB_INT(clock_now()), DB_INT(j->id)), NULL);
}

static int bundle_written(struct req *r, void *arg, int rc)
{
	struct bundle_job *j = arg;
	return j->done(r, j, NULL, rc);
}

/* Files the bundle and its children, or saves a draft (see bundle_job): prepared now, written
 * through req_write; done(r, j, errors, rc) answers (errors with GH_EVALIDATION). REQ_DEFERRED,
 * or done's result when the preparation fails. b and in are copied. */
static int bundle_apply(struct req *r, const struct bundle_form *b, const struct bundle_apply_in *in, void *ctx,
			int (*done)(struct req *r, struct bundle_job *j, json_t *errors, int rc))
{
	struct bundle_job *j = arena_zalloc(r->arena, sizeof(*j));
	j->b = *b;
	j->in = *in;
	j->ctx = ctx;
	j->done = done;
	json_t *errors = NULL;
	int rc = bundle_prepare(r, j, &errors);
	if (rc)
		return done(r, j, errors, rc);
	return req_write(r, bundle_write, bundle_written, j);
}

/* ---- progress --------------------------------------------------------------------------- */

/* Loads bundle application id if the caller may see it (GH_ENOTFOUND with a detail, the same
 * for someone else's as for none). */
static int bundle_load_visible(struct req *r, const char *id_s, struct bundle_app *b)
{
	long id = 0;
	int rc = id_s && !str_to_long(str_c(id_s), 1, (1L << 53), &id) ? b_get(r->db, r->arena, id, b) : GH_ENOTFOUND;
	if (rc == GH_ENOTFOUND || (!rc && r->role != ROLE_ADMIN && !bundle_is_applicant(r, b))) {
		req_error_detail(r, "%s", M(r, "cases_there_bundle_application_see"));
		return GH_ENOTFOUND;
	}
	return rc;
}

/* Why a closed child was not granted: the reason of the event that closed it. */
static const char *closing_reason(struct req *r, const struct application *app)
{
	struct app_event *ev;
	size_t n;
	if (case_events(r->db, r->arena, app->id, &ev, &n))
		return NULL;
	for (size_t i = n; i-- > 0;)
		if (ev[i].to_state && strcmp(ev[i].to_state, app->state) == 0)
			return ev[i].reason && *ev[i].reason ? ev[i].reason : NULL;
	return NULL;
}

/* The bundle as JSON (for the API and, with its words, the page). New reference. */
static json_t *bundle_json(struct req *r, const struct bundle_app *b, const struct application *kids, size_t n)
{
	const char *name_zh = NULL, *name_en = NULL;
	struct catalog_service *svcs;
	size_t ns;
	if (catalog_bundle_services(r->db, r->arena, b->code, &name_zh, &name_en, &svcs, &ns))
		name_zh = name_en = b->code;
	int32_t today = cases_today();
	size_t open = 0, completed = 0;
	json_t *children = json_array(), *refused = json_array();
	for (size_t i = 0; i < n; i++) {
		const struct application *a = &kids[i];
		const struct wf_state *st = wf_state(a->state);
		json_t *cj = case_json(a, r->app->calendar, today, r);
		json_object_del(cj, "form");
		json_object_del(cj, "materials");
		if (!st || !st->terminal)
			open++;
		else if (strcmp(a->state, "completed") == 0)
			completed++;
		else {
			const char *why = closing_reason(r, a);
			json_object_set_new(cj, "reason", why ? json_string(why) : json_null());
			json_array_append_new(refused, json_pack("{s:s?,s:s?,s:s,s:s?,s:s?}", "number", a->number, "item_name",
								 pick(r, a->item_name_zh, a->item_name_en), "state", a->state,
								 "state_name", MC(r, "case_state_", a->state),
								 "reason", why));
		}
		json_array_append_new(children, cj);
	}
	const char *status = !b->submitted_at ? "draft" : open ? "in_progress" : completed == n ? "completed" : "partly_refused";
	json_t *j = json_object();
	json_object_set_new(j, "id", json_integer(b->id));
	json_object_set_new(j, "number", b->number ? json_string(b->number) : json_null());
	json_object_set_new(j, "bundle_code", json_string(b->code));
	json_object_set_new(j, "name", json_string(pick(r, name_zh, name_en)));
	json_object_set_new(j, "status", json_string(status));
	json_object_set_new(j, "completed", json_integer((json_int_t)completed));
	json_object_set_new(j, "total", json_integer((json_int_t)n));
	json_object_set_new(j, "created_at", json_integer(b->created_at));
	json_object_set_new(j, "children", children);
	json_object_set_new(j, "refused", refused);
	if (!b->submitted_at) {
		/* What the draft holds, to continue it: personal values masked (left out or sent back
		 * as they are, they keep the value saved). */
		json_t *masked;
		json_object_set_new(j, "form", case_form_masked(b->draft_form, &masked));
		json_object_set_new(j, "masked_fields", masked);
		json_object_set_new(j, "materials", json_loads(b->draft_materials ? b->draft_materials : "[]", 0, NULL));
	}
	return j;
}

static const char *status_text(struct req *r, const char *status)
{
	if (strcmp(status, "draft") == 0)
		return view_msg(r->app->view, r->lang, "bundle_status_draft");
	if (strcmp(status, "completed") == 0)
		return view_msg(r->app->view, r->lang, "bundle_status_completed");
	if (strcmp(status, "partly_refused") == 0)
		return view_msg(r->app->view, r->lang, "bundle_status_partly_refused");
	return view_msg(r->app->view, r->lang, "bundle_status_in_progress");
}

static const char *progress_text(struct req *r, json_t *bj)
{
	long done = (long)json_integer_value(json_object_get(bj, "completed"));
	long total = (long)json_integer_value(json_object_get(bj, "total"));
	return MF(r, "cases_done_total_completed", MA("done", done), MA("total", total));
}

int bundles_mine_rows(struct req *r, json_t **out)
{
	struct db_rows rows;
	struct identity_owner o = identity_owner_of(r);
	int rc = o.enterprise ? db_query(r->db, r->arena, &q_b_ent, DB_ARGS(DB_INT(o.enterprise), DB_INT(MINE_MAX)), &rows)
			      : db_query(r->db, r->arena, &q_b_mine, DB_ARGS(DB_INT(o.person), DB_INT(MINE_MAX)), &rows);
	if (rc)
		return rc;
	json_t *list = json_array();
	for (size_t i = 0; i < rows.nrows; i++) {
		struct bundle_app b;
		struct application *kids;
		size_t n;
		b_row(&rows, i, &b);
		if ((rc = b_children(r->db, r->arena, b.id, &kids, &n))) {
			json_decref(list);
			return rc;
		}
		json_t *bj = arena_json(r, bundle_json(r, &b, kids, n));
		const char *status = json_string_value(json_object_get(bj, "status"));
		json_t *row = json_pack("{s:s?,s:s,s:s,s:s,s:s}", "number", b.number, "href",
					arena_printf(r->arena, "/bundles/applications/%lld", (long long)b.id), "name",
					json_string_value(json_object_get(bj, "name")), "status", status, "status_text",
					status_text(r, status));
		if (b.submitted_at)
			jset(row, "progress", progress_text(r, bj));
		else
			jset(row, "draft_href", arena_printf(r->arena, "/bundles/%s/apply?draft=%lld", b.code, (long long)b.id));
		json_array_append_new(list, row);
	}
	*out = list;
	return 0;
}

/* ---- pages ------------------------------------------------------------------------------ */

/* GET /bundles/{code}/apply */
static int page_apply_get(struct req *r)
{
	struct bundle_form b;
	int rc = bundle_load(r, req_param(r, "code"), &b);
	if (rc)
		return rc;
	if (!b.nonline) {
		req_error_detail(r, "%s", M(r, "cases_every_item_bundle_handled_counter"));
		return GH_ECONFLICT;
	}
	struct apply_view v;
	bundle_view(r, &b, &v);
	v.key = cases_new_key(r);
	const char *draft = req_query(r, "draft");
	if (draft) {
		long id = 0;
		struct bundle_app d;
		if (str_to_long(str_c(draft), 1, (1L << 53), &id)) {
			req_error_detail(r, "%s", M(r, "cases_there_draft_yours_continue"));
			return GH_ENOTFOUND;
		}
		if ((rc = draft_of(r, &b, id, &d)))
			return rc;
		v.draft_id = id;
		cases_apply_resume(r, &v, d.draft_form, d.draft_materials);
	}
	return cases_apply_render(r, 200, &v);
}

/* After the write of page_apply_post: the form again with what is wrong, or on to the bundle
 * (or its draft). */
static int page_apply_done(struct req *r, struct bundle_job *j, json_t *errors, int rc)
{
	struct apply_view *v = j->ctx;
	if (rc == GH_EVALIDATION) {
		struct bundle_app d;
		v->errors = errors;
		if (v->draft_id && draft_of(r, &j->b, v->draft_id, &d) == 0)
			cases_apply_saved(r, v, d.draft_form);
		return cases_apply_render_refused(r, v);
	}
	if (rc)
		return rc;
	if (!j->in.submit)
		return resp_redirect(r, 303, arena_printf(r->arena, "/bundles/%s/apply?draft=%lld&done=draft", j->b.code,
							 (long long)j->id));
	return resp_redirect(r, 303, arena_printf(r->arena, "/bundles/applications/%lld?done=submitted", (long long)j->id));
}

/* POST /bundles/{code}/apply (multipart/form-data, as the item's apply form). */
static int page_apply_post(struct req *r)
{
	struct bundle_form b;
	int rc = bundle_load(r, req_param(r, "code"), &b);
	if (rc)
		return rc;
	struct apply_view v;
	bundle_view(r, &b, &v);
	json_t *materials;
	bool submit;
	int refused;
	if ((rc = cases_apply_read(r, &v, &materials, &submit, &refused)))
		return rc;
	if (refused)
		return cases_apply_render(r, err_status(refused), &v);
	/* The posted materials (global slots) split per item (its own slots). */
	json_t **per = arena_array(r->arena, b.n ? b.n : 1, sizeof(*per));
	for (size_t i = 0; i < b.n; i++) {
		if (!b.items[i].online)
			continue;
		per[i] = arena_json(r, json_array());
		size_t k;
		json_t *m;
		size_t lo = b.items[i].slot0, hi = lo + json_array_size(b.items[i].mdefs);
		json_array_foreach(materials, k, m)
		{
			json_int_t s = json_integer_value(json_object_get(m, "slot"));
			if (s < (json_int_t)lo || s >= (json_int_t)hi)
				continue;
			json_t *c = json_copy(m);
			json_object_set_new(c, "slot", json_integer(s - (json_int_t)lo));
			json_array_append_new(per[i], c);
		}
	}
	/* A draft keeps the files with their names, to show them when it is continued. */
	json_t *global = arena_json(r, json_array());
	for (size_t slot = 0; slot < json_array_size(v.kept); slot++) {
		json_t *files = json_array_get(v.kept, slot);
		const char *ec = json_string_value(json_array_get(v.ecerts, slot));
		if (!json_array_size(files) && !(ec && *ec))
			continue;
		json_t *e = json_pack("{s:I,s:O}", "slot", (json_int_t)slot, "attachments", files);
		if (ec && *ec)
			json_object_set_new(e, "ecert", json_string(ec));
		json_array_append_new(global, e);
	}
	struct bundle_apply_in in = { .input = v.values, .materials = per, .global = global, .key = v.key,
				      .draft_id = v.draft_id, .submit = submit, .channel = cases_kiosk(r) ? "kiosk" : "web",
				      .ups = v.ups, .nups = v.nups };
	struct apply_view *keep = arena_alloc(r->arena, sizeof(*keep));
	*keep = v;
	return bundle_apply(r, &b, &in, keep, page_apply_done);
}

/* GET /bundles/applications/{id} */
static int page_progress(struct req *r)
{
	struct bundle_app b;
	int rc = bundle_load_visible(r, req_param(r, "id"), &b);
	if (rc)
		return rc;
	if (!b.submitted_at)
		return resp_redirect(r, 303, arena_printf(r->arena, "/bundles/%s/apply?draft=%lld", b.code, (long long)b.id));
	struct application *kids;
	size_t n;
	if ((rc = b_children(r->db, r->arena, b.id, &kids, &n)))
		return rc;
	json_t *bj = arena_json(r, bundle_json(r, &b, kids, n));
	const char *name = json_string_value(json_object_get(bj, "name"));
	const char *status = json_string_value(json_object_get(bj, "status"));
	json_t *ctx = cases_page_ctx(r, name);
	json_object_set_new(ctx, "nav_mine", json_true());
	jset(ctx, "name", name);
	jset(ctx, "code", b.code);
	jset(ctx, "number", b.number);
	jset(ctx, "status", status);
	jset(ctx, "status_text", status_text(r, status));
	jset(ctx, "progress", progress_text(r, bj));
	/* A refusal is shown as soon as it happens, not only when the last item closes. */
	json_object_set_new(ctx, "has_refused", json_boolean(json_array_size(json_object_get(bj, "refused")) > 0));
	json_object_set(ctx, "refused", json_object_get(bj, "refused"));
	int32_t today = cases_today();
	json_t *rows = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(rows, cases_row_view(r, &kids[i], today));
	json_object_set_new(ctx, "rows", rows);
	const char *done = req_query(r, "done");
	if (done && strcmp(done, "submitted") == 0)
		jset(ctx, "notice", view_msg(r->app->view, r->lang, "bundle_submitted_notice"));
	resp_header(r, "Cache-Control", "no-store");
	return resp_page(r, 200, "cases/bundle_progress", ctx);
}

/* ---- API -------------------------------------------------------------------------------- */

/* After the write of api_apply: the bundle, or what is wrong with it (materials by item and
 * slot, as they were sent). */
static int api_apply_done(struct req *r, struct bundle_job *j, json_t *errors, int rc)
{
	const struct bundle_form *bf = &j->b;
	if (rc == GH_EVALIDATION) {
		json_t *fields = json_object();
		const char *ek;
		json_t *ev;
		json_object_foreach(errors, ek, ev)
		{
			long slot;
			const char *name = ek;
			if (strncmp(ek, "material_", 9) == 0 && !str_to_long(str_c(ek + 9), 0, MAX_BUNDLE_SLOTS, &slot))
				for (size_t k = 0; k < bf->n; k++)
					if (bf->items[k].online && (size_t)slot >= bf->items[k].slot0 &&
					    (size_t)slot < bf->items[k].slot0 + json_array_size(bf->items[k].mdefs))
						name = arena_printf(r->arena, "material_%s_%zu", bf->items[k].svc.code,
								    (size_t)slot - bf->items[k].slot0);
			json_object_set(fields, name, ev);
		}
		json_t *e = json_pack("{s:{s:s,s:s,s:o}}", "error", "code", err_slug(GH_EVALIDATION), "message",
				      M_err(r, GH_EVALIDATION), "fields", fields);
		return resp_json(r, err_status(GH_EVALIDATION), e);
	}
	if (rc)
		return rc;
	struct bundle_app ba;
	struct application *kids;
	size_t n;
	if ((rc = b_get(r->db, r->arena, j->id, &ba)) || (rc = b_children(r->db, r->arena, j->id, &kids, &n)))
		return rc;
	return resp_json(r, j->existed || !j->in.submit ? 200 : 201, bundle_json(r, &ba, kids, n));
}

/* POST /api/v1/bundles/{code}/applications: {form: {...}, materials: [{item, slot,
 * attachments: [ids]} or {item, slot, ecert}], submit (default true), idempotency_key}. 201 with
 * the bundle (200 when the key submitted it before); 422 with fields (material_<item>_<slot>).
 * submit: false saves (or updates) the draft the key names, unchecked: 200 with status
 * "draft", its form and materials; the same key with submit: true files it. */
static int api_apply(struct req *r)
{
	json_t *in;
	int rc = req_body_object(r, &in);
	if (rc)
		return rc;
	json_t *form = json_object_get(in, "form"), *mats = json_object_get(in, "materials");
	json_t *submit = json_object_get(in, "submit");
	const char *key = json_string_value(json_object_get(in, "idempotency_key"));
	if ((form && !json_is_object(form)) || (mats && !json_is_array(mats)) || (key && (!*key || strlen(key) > 64)) ||
	    (submit && !json_is_boolean(submit)) || (json_is_false(submit) && !key)) {
		req_error_detail(r, "%s", M(r, "cases_form_must_object_materials_array_2"));
		return GH_EINVAL;
	}
	struct bundle_form b;
	if ((rc = bundle_load(r, req_param(r, "code"), &b)))
		return rc;
	json_t *flat = cases_form_values(r, form);
	json_t **per = arena_array(r->arena, b.n ? b.n : 1, sizeof(*per));
	for (size_t i = 0; i < b.n; i++)
		per[i] = b.items[i].online ? arena_json(r, json_array()) : NULL;
	json_t *global = arena_json(r, json_array());
	size_t i;
	json_t *m;
	json_array_foreach(mats, i, m)
	{
		const char *item = json_string_value(json_object_get(m, "item"));
		size_t at = b.n;
		for (size_t j = 0; item && j < b.n; j++)
			if (b.items[j].online && strcmp(b.items[j].svc.code, item) == 0)
				at = j;
		if (at == b.n || i >= 200) {
			req_error_detail(r, "materials[%zu].item must be the code of an online item of the bundle / 材料所属事项有误", i);
			return GH_EINVAL;
		}
		json_t *c = json_copy(m);
		json_object_del(c, "item");
		json_array_append_new(per[at], c);
		/* A draft keeps them over the bundle's slots, as the page does. */
		json_t *g = json_copy(c);
		json_t *slot = json_object_get(g, "slot");
		if (json_is_integer(slot) && json_integer_value(slot) >= 0 &&
		    (size_t)json_integer_value(slot) < json_array_size(b.items[at].mdefs))
			json_object_set_new(g, "slot", json_integer(json_integer_value(slot) + (json_int_t)b.items[at].slot0));
		else
			json_object_del(g, "slot");
		json_array_append_new(global, g);
	}
	struct bundle_apply_in bi = { .input = flat, .materials = per, .global = global, .key = key,
				      .submit = !json_is_false(submit), .channel = "app" };
	return bundle_apply(r, &b, &bi, NULL, api_apply_done);
}

/* GET /api/v1/bundles/applications/{id} */
static int api_get(struct req *r)
{
	struct bundle_app b;
	int rc = bundle_load_visible(r, req_param(r, "id"), &b);
	if (rc)
		return rc;
	struct application *kids;
	size_t n;
	if ((rc = b_children(r->db, r->arena, b.id, &kids, &n)))
		return rc;
	return resp_json(r, 200, bundle_json(r, &b, kids, n));
}

const struct route cases_bundle_routes[] = {
	{ HTTP_GET, "/bundles/{code}/apply", page_apply_get, APPLICANTS, 0, "cases.bundle_apply" },
	{ HTTP_POST, "/bundles/{code}/apply", page_apply_post, APPLICANTS, ROUTE_CSRF, "cases.bundle_apply_post" },
	{ HTTP_GET, "/bundles/applications/{id}", page_progress, APPLICANTS | ROLE_ADMIN, 0, "cases.bundle_progress" },
	{ HTTP_POST, "/api/v1/bundles/{code}/applications", api_apply, APPLICANTS, 0, "cases.api_bundle_apply", NULL,
	  SCOPE_APPLY },
	{ HTTP_GET, "/api/v1/bundles/applications/{id}", api_get, APPLICANTS | ROLE_ADMIN, 0, "cases.api_bundle_get", NULL,
	  SCOPE_APPLY },
};
const size_t cases_bundle_routes_n = ARRAY_LEN(cases_bundle_routes);
