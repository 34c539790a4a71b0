/* demo.c: applying and acting as people do, for the demo hall's history (`govhall init --demo`
 * plays a year of it; src/demo). Both go through the functions the pages and the API use
 * (case_apply_async, case_act_async): the same checks, the same writes through req_write, the
 * same observers (the transparency log, statistics, certificates, evaluations, messages). */
#include <stdio.h>
#include <string.h>

#include "base/arena.h"
#include "base/err.h"
#include "base/jsonout.h"
#include "base/util.h"
#include "cases/attach.h"
#include "cases/cases.h"
#include "cases/cases_impl.h"
#include "catalog/catalog.h"
#include "http/http.h"
#include "http/write.h"

/* A one-page PDF: what a scanned material stands for. */
static const char demo_pdf[] = "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
			       "2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
			       "3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
			       "trailer<</Root 1 0 R>>\n%%EOF\n";

/* A value for field f of the person's form; NULL leaves an optional field empty. */
static const char *field_value(struct req *r, json_t *f, const struct cases_demo_person *p, uint64_t pick)
{
	const char *type = json_string_value(json_object_get(f, "type"));
	const char *key = json_string_value(json_object_get(f, "key"));
	bool required = json_is_true(json_object_get(f, "required"));
	if (!type)
		type = "text";
	if (!strcmp(type, "id_number"))
		return p->id_number;
	if (!strcmp(type, "phone"))
		return p->phone;
	if (!strcmp(type, "select")) {
		json_t *opts = json_object_get(f, "options");
		size_t n = json_array_size(opts);
		return n ? json_string_value(json_object_get(json_array_get(opts, pick % n), "value")) : NULL;
	}
	if (!strcmp(type, "date")) {
		char *d = arena_alloc(r->arena, 11);
		snprintf(d, 11, "%s", p->date);
		return d;
	}
	if (!strcmp(type, "number"))
		return pick % 2 ? "2" : "1";
	if (!strcmp(type, "email"))
		return "demo@example.com";
	if (!strcmp(type, "uscc"))
		return required ? p->uscc : NULL;
	if (!strcmp(type, "address"))
		return p->address;
	if (!strcmp(type, "textarea"))
		return required ? p->note : NULL;
	/* A person's name where the field asks for one (the applicant, an owner, a holder). */
	if (key && (strstr(key, "name") || strstr(key, "owner") || strstr(key, "holder")) && !strstr(key, "company") &&
	    !strstr(key, "enterprise") && !strstr(key, "baby") && !strstr(key, "child"))
		return p->name;
	return required ? p->text : NULL;
}

struct apply_out {
	int64_t *id;
	const char **number, **state;
};

static int applied(struct req *r, const struct case_apply_in *in, struct application *app, json_t *errors, int rc)
{
	struct apply_out *o = in->ctx;
	if (rc && errors) {
		char *s = jsonout_dumps(errors, JSON_COMPACT);
		req_error_detail(r, "%s", s ? s : "invalid");
		free(s);
	}
	if (!rc) {
		*o->id = app->id;
		*o->number = app->number ? arena_strdup(r->arena, app->number) : NULL;
		*o->state = arena_strdup(r->arena, app->state);
	}
	return rc;
}

int cases_demo_apply(struct req *r, const char *item_code, const char *channel, const struct cases_demo_person *p,
		     bool submit, uint64_t pick, int64_t *id, const char **number, const char **state)
{
	const struct catalog_service_parsed *item;
	int rc = catalog_service_cached(r, item_code, &item);
	if (rc)
		return rc;
	json_t *form = json_object();
	arena_cleanup(r->arena, (void (*)(void *))json_decref, form);
	size_t i;
	json_t *f;
	json_array_foreach(item->def, i, f)
	{
		const char *key = json_string_value(json_object_get(f, "key"));
		const char *v = key ? field_value(r, f, p, pick + i) : NULL;
		if (v)
			json_object_set_new(form, key, json_string(v));
	}
	/* One file for each material asked for. */
	size_t nm = json_array_size(item->mdefs), nups = 0;
	struct case_upload *ups = arena_array(r->arena, nm ? nm : 1, sizeof(*ups));
	json_t *mats = json_array();
	arena_cleanup(r->arena, (void (*)(void *))json_decref, mats);
	json_t *m;
	json_array_foreach(item->mdefs, i, m)
	{
		if (!json_is_true(json_object_get(m, "required")))
			continue;
		struct case_upload *u = &ups[nups];
		*u = (struct case_upload){ .slot = (long)i, .filename = "material.pdf", .data = demo_pdf };
		if ((rc = attach_check(r->arena, demo_pdf, sizeof(demo_pdf) - 1, sizeof(demo_pdf), &u->info)))
			return rc;
		json_array_append_new(mats, json_pack("{s:I,s:[I]}", "slot", (json_int_t)i, "attachments",
						      (json_int_t)cases_upload_ref(nups)));
		nups++;
	}
	struct apply_out o = { id, number, state };
	struct case_apply_in in = { .item_code = item_code, .input = form, .materials = mats, .submit = submit,
				    .channel = channel, .applicant_id = r->who.account, .enterprise_id = r->who.enterprise,
				    .ctx = &o, .ups = ups, .nups = nups };
	return case_apply_async(r, &in, applied);
}

static int acted(struct req *r, struct application *app, void *ctx, int rc)
{
	const char **state = ctx;
	if (!rc && state)
		*state = arena_strdup(r->arena, app->state);
	return rc;
}

int cases_demo_act(struct req *r, const char *number, const char *action, const char *reason, const char **state)
{
	struct application app;
	int rc = case_load_visible(r, number, &app);
	if (rc)
		return rc;
	struct case_act_in in = { .code = action, .reason = reason };
	return case_act_async(r, &app, &in, acted, (void *)state);
}
