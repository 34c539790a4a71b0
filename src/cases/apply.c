/* apply.c: applying online — the apply form generated from the item's definition, its
 * uploads and drafts, for the citizen's own application; counter intake (counter.c) and a
 * bundle's one form (bundles.c) render and read the same form (pages_impl.h).
 *
 * Every decision goes through the service layer shared with the JSON API (cases.c:
 * case_apply_async). Forms with files are multipart/form-data (http/multipart.h): the server's
 * max-body bounds the body, cfg.max_upload each file and cfg.max_upload_total all files of one
 * request. Files already uploaded when a form comes back with errors are offered again
 * (kept_<slot> fields naming the caller's attachments, which case_apply_prepare checks again), so
 * nobody uploads twice. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/util.h"
#include "cases/attach.h"
#include "cases/cases_impl.h"
#include "cases/forms.h"
#include "cases/pages_impl.h"
#include "http/multipart.h"
#include "http/server.h"

#define MAX_SLOTS 50         /* material slots an item may have (the catalog allows fewer) */
#define MAX_KEPT 10          /* files per material slot (case_apply_prepare's limit) */

static const char *material_form_label(struct req *r, const char *form)
{
	if (!form)
		return NULL;
	if (strcmp(form, "original") == 0)
		return M(r, "material_form_original");
	if (strcmp(form, "copy") == 0)
		return M(r, "material_form_copy");
	if (strcmp(form, "electronic") == 0)
		return M(r, "cases_electronic_file");
	return form;
}

/* ---- uploads ------------------------------------------------------------------------- */

/* The parsed multipart body of the request. GH_EUNSUPPORTED for another content type. */
int cases_read_multipart(struct req *r, struct multipart *mp)
{
	const struct multipart *parsed;
	int rc = req_multipart(r, &parsed, NULL);
	if (!rc)
		*mp = *parsed; /* the parts live in the request's arena */
	if (rc == GH_EUNSUPPORTED)
		req_error_detail(r, "%s", M(r, "cases_send_form_from_page_multipart"));
	else if (rc == GH_EINVAL)
		req_error_detail(r, "%s", M(r, "cases_form_data_malformed"));
	else if (rc == GH_ETOOBIG)
		req_error_detail(r, "%s", M(r, "cases_too_many_fields_files_form"));
	return rc;
}

/* The slot a part name "material_<i>" designates, or -1. */
static long slot_of(const char *name, const char *prefix, size_t nslots)
{
	size_t pl = strlen(prefix);
	long v;
	if (strncmp(name, prefix, pl) != 0 || str_to_long(str_c(name + pl), 0, MAX_SLOTS - 1, &v) || (size_t)v >= nslots)
		return -1;
	return v;
}

/* pages_impl.h */
int cases_check_uploads(struct req *r, const struct multipart *mp, size_t nslots, json_t *errs, struct case_upload **ups,
			size_t *nups)
{
	size_t total = 0, n = 0;
	for (size_t i = 0; i < mp->n; i++) {
		const struct multipart_part *p = &mp->parts[i];
		if (p->filename && p->len > 0 && slot_of(p->name, "material_", nslots) >= 0) {
			total += p->len;
			n++;
		}
	}
	*ups = arena_array(r->arena, n ? n : 1, sizeof(**ups));
	*nups = 0;
	if (r->app->cfg.max_upload_total > 0 && total > (size_t)r->app->cfg.max_upload_total) {
		json_object_set_new(errs, "materials",
				    json_string(MF(r, "cases_files_together_too_large_most",
						   MA("max_upload_total", cases_size_label(r, r->app->cfg.max_upload_total)))));
		return GH_ETOOBIG;
	}
	for (size_t i = 0; i < mp->n; i++) {
		const struct multipart_part *p = &mp->parts[i];
		long slot = p->filename && p->len > 0 ? slot_of(p->name, "material_", nslots) : -1;
		if (slot < 0)
			continue;
		char key[32];
		snprintf(key, sizeof(key), "material_%ld", slot);
		struct case_upload *u = &(*ups)[*nups];
		int rc = attach_check(r->arena, p->data, p->len, (size_t)r->app->cfg.max_upload, &u->info);
		if (rc == GH_ETOOBIG) {
			json_object_set_new(errs, key,
					    json_string(MF(r, "cases_file_filename_too_large_most", MA("filename", p->filename),
							   MA("max_upload", cases_size_label(r, r->app->cfg.max_upload)))));
			return rc;
		}
		if (rc == GH_EUNSUPPORTED) {
			json_object_set_new(errs, key,
					    json_string(MF(r, "cases_filename_only_pdf_jpeg_png", MA("filename", p->filename))));
			return rc;
		}
		if (rc)
			return rc;
		u->slot = slot;
		u->filename = p->filename;
		u->data = p->data;
		(*nups)++;
	}
	return 0;
}

/* ---- the apply form ------------------------------------------------------------------- */

/* struct apply_view: pages_impl.h. */

const char *cases_new_key(struct req *r)
{
	unsigned char raw[16];
	randombytes_buf(raw, sizeof(raw));
	char *hex = arena_alloc(r->arena, 2 * sizeof(raw) + 1);
	sodium_bin2hex(hex, 2 * sizeof(raw) + 1, raw, sizeof(raw));
	return hex;
}

static const char *keep(struct req *r, const char *s)
{
	return s ? arena_strdup(r->arena, s) : NULL;
}

int cases_apply_load(struct req *r, const char *code, struct apply_view *v)
{
	memset(v, 0, sizeof(*v));
	/* The worker's parsed copy of the item (the one case_apply_async validates against): no
	 * query and no parsing of the form per request. Kept in the request's own memory, since
	 * a request parked for the writer may outlive the worker's cache; the lists are read only
	 * and shared by reference. */
	const struct catalog_service_parsed *item;
	int rc = catalog_service_cached(r, code, &item);
	if (rc == GH_ENOTFOUND)
		req_error_detail(r, "%s", M(r, "cases_there_such_service"));
	if (rc)
		return rc;
	const struct catalog_service *s = &item->svc;
	v->svc = *s;
	v->svc.code = keep(r, s->code);
	v->svc.department = keep(r, s->department);
	v->svc.name_zh = keep(r, s->name_zh);
	v->svc.name_en = keep(r, s->name_en);
	v->svc.audience = keep(r, s->audience);
	v->svc.materials = keep(r, s->materials);
	v->svc.form = keep(r, s->form);
	v->svc.outcome_ecert = keep(r, s->outcome_ecert);
	v->def = arena_json(r, json_incref(item->def));
	v->mdefs = arena_json(r, json_incref(item->mdefs));
	return 0;
}

const char *cases_item_name(struct req *r, const struct catalog_service *s)
{
	return en(r) && s->name_en && *s->name_en ? s->name_en : s->name_zh;
}

/* The page saying that the item cannot be applied for online. */
static int not_online(struct req *r, const struct apply_view *v)
{
	json_t *ctx = cases_page_ctx(r, M(r, "cases_available_online"));
	jset(ctx, "code", v->svc.code);
	jset(ctx, "item_name", cases_item_name(r, &v->svc));
	json_object_set_new(ctx, "nav_services", json_true());
	return resp_page(r, 409, "cases/not_online", ctx);
}

static const char *error_anchor(struct req *r, json_t *def, const char *key)
{
	size_t i;
	json_t *f;
	json_array_foreach(def, i, f)
	{
		const char *k = json_string_value(json_object_get(f, "key"));
		if (k && strcmp(k, key) == 0)
			return arena_printf(r->arena, "f_%s", key);
	}
	if (strncmp(key, "material_", 9) == 0)
		return key;
	return "materials";
}

int cases_apply_render(struct req *r, int status, const struct apply_view *v)
{
	const char *name = cases_item_name(r, &v->svc);
	json_t *ctx = cases_page_ctx(r, v->intake ? (MF(r, "cases_counter_intake_name", MA("name", name)))
					 : (MF(r, "cases_apply_name", MA("name", name))));
	if (v->bundle)
		json_object_set(ctx, "bundle", v->bundle);
	jset(ctx, "code", v->svc.code);
	jset(ctx, "item_name", name);
	jset(ctx, "idempotency_key", v->key);
	jset(ctx, "notice", v->notice);
	jset(ctx, "form_action", v->action ? v->action : arena_printf(r->arena, "/services/%s/apply", v->svc.code));
	if (v->intake)
		json_object_set(ctx, "intake", v->intake);
	else
		json_object_set_new(ctx, "nav_services", json_true());
	if (v->draft_id)
		jset(ctx, "draft_id", arena_printf(r->arena, "%lld", (long long)v->draft_id));
	if (!v->bundle) /* a bundle's items have limits of their own */
		jset(ctx, "promised_limit",
		     MF(r, "cases_promised_limit_days", MA("n", (long)v->svc.promised_limit_days)));

	json_t *fields = forms_view(v->def, v->values, v->errors, r->app->view, r->lang);
	if (!fields)
		return GH_EINTERNAL;
	size_t i;
	json_t *f;
	json_array_foreach(fields, i, f)
	{
		const char *id = json_string_value(json_object_get(f, "id"));
		struct sb d = SB_INIT;
		if (json_object_get(f, "hint"))
			sb_addf(&d, "%s-hint ", id);
		if (json_is_true(json_object_get(f, "has_error")))
			sb_addf(&d, "%s-error", id);
		const char *saved = json_string_value(json_object_get(v->saved, json_string_value(json_object_get(f, "key"))));
		const char *cur = json_string_value(json_object_get(f, "value"));
		if (saved && (!cur || !*cur)) {
			jset(f, "saved_mask", saved);
			sb_addf(&d, "%s%s-saved", d.len ? " " : "", id);
		}
		if (d.len)
			json_object_set_new(f, "describedby", json_stringn(d.buf, d.len));
		sb_release(&d);
	}
	json_object_set_new(ctx, "fields", fields);

	json_t *mats = json_array();
	json_t *m;
	const char *prev_item = NULL;
	json_array_foreach(v->mdefs, i, m)
	{
		json_t *o = json_object();
		/* A bundle's materials come item after item: a heading where the item changes. */
		const char *item = json_string_value(json_object_get(m, "_item"));
		if (item && (!prev_item || strcmp(item, prev_item) != 0))
			jset(o, "item_heading", item);
		prev_item = item;
		const char *input = arena_printf(r->arena, "material_%zu", i);
		jset(o, "slot", arena_printf(r->arena, "%zu", i));
		jset(o, "input_id", input);
		jset(o, "name", cases_material_name(r, v->mdefs, (json_int_t)i));
		json_object_set_new(o, "required", json_boolean(json_is_true(json_object_get(m, "required"))));
		jset(o, "form_label", material_form_label(r, json_string_value(json_object_get(m, "form"))));
		const char *ec = json_string_value(json_object_get(m, "ecert"));
		/* Other halls' copies of that type, from the wallet across halls: offered on the
		 * citizen's own form (not at the counter, not in a bundle), each checked with its
		 * issuing hall when the form is sent. */
		case_ecert_copies_fn copies_fn = cases_ecert_copies();
		json_t *copies = ec && *ec && copies_fn && !v->intake && !v->bundle && !r->who.enterprise
					 ? arena_json(r, copies_fn(r, r->who.account, ec))
					 : NULL;
		/* With a wallet, offered only when the applicant holds one (intake: checked on
		 * submission, for the citizen at the counter). */
		const char *held_no = NULL;
		case_ecert_held_fn held = cases_ecert_held();
		const char *type = ec;
		if (ec && *ec && held && !v->intake &&
		    held(r->db, r->arena, r->who.account, r->who.enterprise, ec, &held_no))
			ec = NULL;
		const char *chosen = json_string_value(json_array_get(v->ecerts, i));
		if (ec && *ec) {
			jset(o, "ecert", ec);
			const char *en_ = cases_ecert_name(r, ec);
			jset(o, "ecert_label", held_no ? MF(r, "cases_ecert_use_number", MA("name", en_), MA("number", held_no))
						       : MF(r, "cases_ecert_use", MA("name", en_)));
			json_object_set_new(o, "ecert_checked", json_boolean(chosen && strcmp(chosen, ec) == 0));
		}
		if (json_array_size(copies)) {
			bool any = ec && *ec && chosen && strcmp(chosen, ec) == 0;
			size_t ci;
			json_t *c;
			json_array_foreach(copies, ci, c)
			{
				const char *value = arena_printf(r->arena, "%s/%s", json_string_value(json_object_get(c, "hall")),
								 json_string_value(json_object_get(c, "number")));
				bool on = chosen && strcmp(chosen, value) == 0;
				any = any || on;
				jset(c, "value", value);
				jset(c, "id", arena_printf(r->arena, "ecert_%zu_%zu", i, ci));
				jset(c, "label", MF(r, "cases_ecert_use_copy", MA("name", cases_ecert_name(r, type)),
						    MA("hall", json_string_value(json_object_get(c, "hall_name"))),
						    MA("number", json_string_value(json_object_get(c, "number")))));
				json_object_set_new(c, "checked", json_boolean(on));
			}
			json_object_set(o, "copies", copies);
			json_object_set_new(o, "has_copies", json_true());
			json_object_set_new(o, "none_checked", json_boolean(!any));
		}
		json_t *kept = json_array_get(v->kept, i);
		if (json_array_size(kept)) {
			json_t *k = json_deep_copy(kept);
			size_t ki;
			json_t *ke;
			json_array_foreach(k, ki, ke)
			{
				json_object_set_new(ke, "slot", json_sprintf("%zu", i));
				json_object_set_new(ke, "kept_id", json_sprintf("kept_%zu_%lld", i,
										 (long long)json_integer_value(json_object_get(ke, "id"))));
			}
			json_object_set_new(o, "kept", k);
			json_object_set_new(o, "has_kept", json_true());
		}
		json_t *err = json_object_get(v->errors, input);
		struct sb d = SB_INIT;
		sb_addf(&d, "%s-hint", input);
		if (json_is_string(err)) {
			json_object_set(o, "error", err);
			json_object_set_new(o, "has_error", json_true());
			sb_addf(&d, " %s-error", input);
		}
		json_object_set_new(o, "describedby", json_stringn(d.buf, d.len));
		sb_release(&d);
		json_array_append_new(mats, o);
	}
	json_object_set_new(ctx, "has_materials", json_boolean(json_array_size(mats) > 0));
	json_object_set_new(ctx, "materials", mats);
	const char *merr = json_string_value(json_object_get(v->errors, "materials"));
	jset(ctx, "materials_error", merr);

	json_t *list = json_array();
	const char *k;
	json_t *e;
	json_object_foreach(v->errors, k, e)
	{
		if (json_is_string(e))
			cases_add_error(list, error_anchor(r, v->def, k), json_string_value(e));
	}
	cases_set_errors(ctx, list);
	resp_header(r, "Cache-Control", "no-store");
	return resp_page(r, status, "cases/apply", ctx);
}

/* Kept files and e-certificates of a draft's (or a posted form's) materials array. */
static void materials_view(struct req *r, json_t *materials, size_t nslots, json_t **kept, json_t **ecerts)
{
	*kept = arena_json(r, json_array());
	*ecerts = arena_json(r, json_array());
	for (size_t i = 0; i < nslots; i++) {
		json_array_append_new(*kept, json_array());
		json_array_append_new(*ecerts, json_null());
	}
	size_t i;
	json_t *m;
	json_array_foreach(materials, i, m)
	{
		json_t *s = json_object_get(m, "slot");
		if (!json_is_integer(s) || json_integer_value(s) < 0 || (size_t)json_integer_value(s) >= nslots)
			continue;
		size_t slot = (size_t)json_integer_value(s);
		const char *ec = json_string_value(json_object_get(m, "ecert"));
		const char *hall = json_string_value(json_object_get(m, "ecert_hall"));
		const char *no = json_string_value(json_object_get(m, "ecert_number"));
		if (ec && hall && no)
			json_array_set_new(*ecerts, slot, json_sprintf("%s/%s", hall, no));
		else if (ec)
			json_array_set_new(*ecerts, slot, json_string(ec));
		size_t k;
		json_t *a;
		json_array_foreach(json_object_get(m, "attachments"), k, a)
		{
			json_t *id = json_is_object(a) ? json_object_get(a, "id") : a;
			const char *fn = json_string_value(json_object_get(a, "filename"));
			if (json_is_integer(id))
				json_array_append_new(json_array_get(*kept, slot),
						      json_pack("{s:I,s:s}", "id", json_integer_value(id), "filename", fn ? fn : "file"));
		}
	}
}

void cases_apply_saved(struct req *r, struct apply_view *v, const char *form)
{
	json_t *masked;
	json_t *vals = arena_json(r, case_form_masked(form, &masked));
	arena_json(r, masked);
	v->saved = arena_json(r, json_object());
	size_t i;
	json_t *k;
	json_array_foreach(masked, i, k)
		json_object_set(v->saved, json_string_value(k), json_object_get(vals, json_string_value(k)));
}

void cases_apply_resume(struct req *r, struct apply_view *v, const char *form, const char *materials)
{
	/* The values as the page may show them: a sealed one never goes back into an input. */
	cases_apply_saved(r, v, form);
	v->values = arena_json(r, case_form_masked(form, NULL));
	const char *k;
	json_t *m;
	json_object_foreach(v->saved, k, m)
		json_object_del(v->values, k);
	materials_view(r, arena_json(r, json_loads(materials ? materials : "[]", 0, NULL)), json_array_size(v->mdefs),
		       &v->kept, &v->ecerts);
	if (req_query(r, "done") && strcmp(req_query(r, "done"), "draft") == 0)
		v->notice = M(r, "cases_draft_saved_continue_later_from");
}

/* GET /services/{code}/apply[?draft=<id>] */
static int apply_get(struct req *r)
{
	struct apply_view v;
	int rc = cases_apply_load(r, req_param(r, "code"), &v);
	if (rc)
		return rc;
	if (v.svc.online_depth < 3)
		return not_online(r, &v);
	v.key = cases_new_key(r);
	const char *draft = req_query(r, "draft");
	if (draft) {
		struct application app;
		v.draft_id = cases_parse_id(draft);
		rc = v.draft_id ? case_get(r->db, r->arena, v.draft_id, &app) : GH_ENOTFOUND;
		if (rc == GH_ENOTFOUND || (!rc && (!case_is_applicant(r, &app) || strcmp(app.state, "draft") != 0 ||
						   strcmp(app.item_code, v.svc.code) != 0))) {
			req_error_detail(r, "%s", M(r, "cases_there_draft_yours_continue"));
			return GH_ENOTFOUND;
		}
		if (rc)
			return rc;
		cases_apply_resume(r, &v, app.form, app.materials);
	}
	return cases_apply_render(r, 200, &v);
}

int cases_apply_read(struct req *r, struct apply_view *v, json_t **materials, bool *submit, int *refused)
{
	*refused = 0;
	struct multipart mp;
	int rc = cases_read_multipart(r, &mp);
	if (rc)
		return rc;
	size_t nslots = json_array_size(v->mdefs);
	if (nslots > MAX_SLOTS)
		nslots = MAX_SLOTS;

	/* Ordinary fields: the form's values, the buttons and the bookkeeping. */
	json_t *input = arena_json(r, json_object());
	*materials = arena_json(r, json_array());
	const char *action = "", *key = NULL;
	json_t *kept_ids = arena_json(r, json_array()), *ecerts = arena_json(r, json_array());
	for (size_t i = 0; i < nslots; i++) {
		json_array_append_new(kept_ids, json_array());
		json_array_append_new(ecerts, json_null());
	}
	for (size_t i = 0; i < mp.n; i++) {
		const struct multipart_part *p = &mp.parts[i];
		if (p->filename || !p->value)
			continue;
		long slot;
		if (strcmp(p->name, "action") == 0)
			action = p->value;
		else if (strcmp(p->name, "idempotency_key") == 0)
			key = p->value;
		else if (strcmp(p->name, "draft") == 0)
			v->draft_id = cases_parse_id(p->value);
		else if ((slot = slot_of(p->name, "kept_", nslots)) >= 0) {
			int64_t id = cases_parse_id(p->value);
			json_t *arr = json_array_get(kept_ids, (size_t)slot);
			if (id && json_array_size(arr) < MAX_KEPT)
				json_array_append_new(arr, json_integer(id));
		} else if ((slot = slot_of(p->name, "ecert_", nslots)) >= 0) {
			json_array_set_new(ecerts, (size_t)slot, json_string(p->value));
		} else if (strcmp(p->name, "_csrf") != 0 && strncmp(p->name, "material_", 9) != 0)
			json_object_set_new(input, p->name, json_string(p->value));
	}
	if (key && (!*key || strlen(key) > 64))
		key = NULL;
	v->key = key ? key : cases_new_key(r);
	*submit = strcmp(action, "draft") != 0;

	json_t *errs = arena_json(r, json_object());
	struct case_upload *ups;
	size_t nups;
	int up_rc = cases_check_uploads(r, &mp, nslots, errs, &ups, &nups);
	if (up_rc && up_rc != GH_ETOOBIG && up_rc != GH_EUNSUPPORTED)
		return up_rc;
	if (up_rc)
		nups = 0; /* a file refused: the form again, nothing of it stored */
	v->ups = ups;
	v->nups = nups;

	/* The files of each slot: kept ones (if still the caller's) and new ones. */
	json_t *kept_view = arena_json(r, json_array());
	for (size_t s = 0; s < nslots; s++) {
		json_t *ids = json_array(), *shown = json_array();
		size_t k;
		json_t *id;
		json_array_foreach(json_array_get(kept_ids, s), k, id)
		{
			struct attachment at;
			if (attachment_get(r->db, r->arena, json_integer_value(id), &at) || !case_attachment_mine(r, &at))
				continue;
			json_array_append(ids, id);
			json_array_append_new(shown, json_pack("{s:I,s:s}", "id", (json_int_t)at.id, "filename", at.filename));
		}
		for (size_t u = 0; u < nups; u++) {
			if ((size_t)ups[u].slot != s)
				continue;
			json_array_append_new(ids, json_integer(cases_upload_ref(u)));
			json_array_append_new(shown, json_pack("{s:I,s:s}", "id", (json_int_t)cases_upload_ref(u), "filename",
							       ups[u].filename));
		}
		json_array_append_new(kept_view, shown);
		json_t *entry = json_pack("{s:I}", "slot", (json_int_t)s);
		if (json_array_size(ids))
			json_object_set(entry, "attachments", ids);
		const char *ec = json_string_value(json_array_get(ecerts, s));
		const char *sep = ec ? strchr(ec, '/') : NULL;
		const char *type = json_string_value(json_object_get(json_array_get(v->mdefs, s), "ecert"));
		if (sep && type && sep > ec && sep[1]) {
			/* Another hall's copy from the wallet: "hall/number", of the type the material names. */
			json_object_set_new(entry, "ecert", json_string(type));
			json_object_set_new(entry, "ecert_hall", json_stringn(ec, (size_t)(sep - ec)));
			json_object_set_new(entry, "ecert_number", json_string(sep + 1));
		} else if (ec && *ec && !sep)
			json_object_set_new(entry, "ecert", json_string(ec));
		json_decref(ids);
		if (json_object_size(entry) > 1)
			json_array_append_new(*materials, entry);
		else
			json_decref(entry);
	}
	v->values = input;
	v->kept = kept_view;
	v->ecerts = ecerts;
	if (up_rc) {
		v->errors = errs;
		*refused = up_rc;
	}
	return 0;
}

static int render_refused(struct req *r, void *arg, int rc)
{
	return rc ? rc : cases_apply_render(r, 422, arg);
}

int cases_apply_render_refused(struct req *r, struct apply_view *v)
{
	return cases_keep_uploads(r, v->ups, v->nups, v->kept, render_refused, v);
}

/* After the write of apply_post: the form again with what is wrong, or on to the application
 * (the receipt in kiosk mode), or to the draft saved. */
static int apply_post_done(struct req *r, const struct case_apply_in *ai, struct application *app, json_t *errors,
			   int rc)
{
	struct apply_view *v = ai->ctx;
	if (rc == GH_EVALIDATION) {
		struct application draft;
		v->errors = errors;
		if (v->draft_id && case_get(r->db, r->arena, v->draft_id, &draft) == 0 && case_is_applicant(r, &draft))
			cases_apply_saved(r, v, draft.form);
		return cases_apply_render_refused(r, v);
	}
	if (rc == GH_ENOTFOUND && v->draft_id) {
		req_error_detail(r, "%s", M(r, "cases_there_draft_yours_continue"));
		return rc;
	}
	if (rc == GH_ECONFLICT && v->draft_id) {
		req_error_detail(r, "%s", M(r, "cases_draft_submitted_already"));
		return rc;
	}
	if (rc)
		return rc;
	if (!app->number) /* a draft saved (or a key that made a draft before) */
		return resp_redirect(r, 303, arena_printf(r->arena, "/services/%s/apply?draft=%lld&done=draft", v->svc.code,
							  (long long)app->id));
	return resp_redirect(r, 303, arena_printf(r->arena, strcmp(ai->channel, "kiosk") == 0 ? "/applications/%s/receipt?done=submitted"
											     : "/applications/%s?done=submitted", app->number));
}

struct apply_post {
	struct apply_view v;
	struct case_apply_in ai;
};

/* After the check of the copies the form names (case_ecert_then_fn): the form again with why
 * at the material refused (the files sent with it kept), or on to the application. */
static int apply_confirmed(struct req *r, void *arg, long slot, const char *why)
{
	struct apply_post *p = arg;
	if (slot < 0)
		return case_apply_async(r, &p->ai, apply_post_done);
	p->v.errors = arena_json(r, json_object());
	json_object_set_new(p->v.errors, arena_printf(r->arena, "material_%ld", slot), json_string(why));
	return cases_apply_render_refused(r, &p->v);
}

/* POST /services/{code}/apply (multipart/form-data). In kiosk mode the application is filed
 * through the kiosk channel and a submission ends on the printable receipt. */
static int apply_post(struct req *r)
{
	struct apply_view v;
	int rc = cases_apply_load(r, req_param(r, "code"), &v);
	if (rc)
		return rc;
	if (v.svc.online_depth < 3)
		return not_online(r, &v);
	json_t *materials;
	bool submit;
	int refused;
	if ((rc = cases_apply_read(r, &v, &materials, &submit, &refused)))
		return rc;
	if (refused)
		return cases_apply_render(r, err_status(refused), &v);
	bool kiosk = cases_kiosk(r);
	json_t *input = v.values;

	struct case_apply_in ai = { .item_code = v.svc.code, .input = input, .materials = materials, .submit = submit,
				    .idempotency_key = v.draft_id ? NULL : v.key, .channel = kiosk ? "kiosk" : "web",
				    .applicant_id = r->who.account, .enterprise_id = r->who.enterprise,
				    .draft_id = v.draft_id, .ups = v.ups, .nups = v.nups };
	struct apply_post *keep = arena_alloc(r->arena, sizeof(*keep));
	keep->v = v;
	keep->ai = ai;
	keep->ai.ctx = &keep->v;
	/* Another hall's copy chosen for a material: checked with its issuing hall first. */
	case_ecert_confirm_fn confirm = cases_ecert_confirm();
	size_t i;
	json_t *e;
	json_array_foreach(materials, i, e)
		if (confirm && json_object_get(e, "ecert_hall"))
			return confirm(r, materials, apply_confirmed, keep);
	return case_apply_async(r, &keep->ai, apply_post_done);
}

const struct route cases_apply_routes[] = {
	{ HTTP_GET, "/services/{code}/apply", apply_get, APPLICANTS, 0, "cases.apply" },
	{ HTTP_POST, "/services/{code}/apply", apply_post, APPLICANTS, ROUTE_CSRF, "cases.apply_post" },
};
const size_t cases_apply_routes_n = ARRAY_LEN(cases_apply_routes);
