/* pages.c: the HTML pages of published information — the public list and detail pages, and
 * the staff pages where documents are written, sent for review, published and withdrawn.
 * Parameters read: category, department, page (lists); the route's id and action; form fields
 * category, department, title_zh, title_en, body_zh, body_en, version, note; multipart "file". */
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "base/calendar.h"
#include "base/err.h"
#include "base/sb.h"
#include "base/str.h"
#include "base/util.h"
#include "http/handler.h"
#include "http/msg.h"
#include "http/router.h"
#include "http/server.h"
#include "publish/publish_impl.h"
#include "store/db.h"
#include "view/view.h"

static const char *date_of(struct req *r, int64_t t)
{
	char d[11];
	calendar_format_day(calendar_day_of((time_t)t), d);
	return arena_strdup(r->arena, d);
}

DB_SQL(q_departments, "SELECT code, name_zh, name_en FROM departments ORDER BY code");

static json_t *department_options(struct req *r, const char *selected, const char *only)
{
	json_t *arr = json_array();
	struct db_rows rows;
	if (db_query(r->db, r->arena, &q_departments, DB_NOARGS, &rows))
		return arr;
	for (size_t i = 0; i < rows.nrows; i++) {
		const char *code = db_cell(&rows, i, 0);
		if (only && strcmp(only, code) != 0)
			continue;
		const char *name = en(r) && *db_cell(&rows, i, 2) ? db_cell(&rows, i, 2) : db_cell(&rows, i, 1);
		json_array_append_new(arr, json_pack("{s:s,s:s,s:b}", "value", code, "label", name, "selected",
						     selected && !strcmp(selected, code)));
	}
	return arr;
}

static json_t *category_options(struct req *r, const char *selected)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < pub_categories_n; i++)
		json_array_append_new(arr, json_pack("{s:s,s:s,s:b}", "value", pub_categories[i], "label",
						     M(r, arena_printf(r->arena, "publish_cat_%s", pub_categories[i])),
						     "selected", selected && !strcmp(selected, pub_categories[i])));
	return arr;
}

static json_t *doc_card(struct req *r, const struct pub_doc *d, bool staff)
{
	const char *tl;
	json_t *o = json_object();
	jset(o, "title", pub_title(d, r->lang, &tl));
	jset(o, "title_lang", tl);
	jset(o, "href", arena_printf(r->arena, staff ? "/staff/publish/%lld" : "/publish/%lld", (long long)d->id));
	jset(o, "category", M(r, arena_printf(r->arena, "publish_cat_%s", d->category)));
	jset(o, "department", en(r) && *d->dept_name_en ? d->dept_name_en : d->dept_name_zh);
	jset(o, "date", date_of(r, d->published_at ? d->published_at : d->updated_at));
	jset(o, "state", M(r, arena_printf(r->arena, "publish_state_%s", d->state)));
	jset(o, "state_code", d->state);
	return o;
}

static int page_list(struct req *r)
{
	struct pub_filter f = { .public_only = true };
	struct pub_page p = { 0 };
	int rc = pub_list_read(r, &f, &p);
	if (rc)
		return rc;
	struct pub_doc *v = p.v;
	size_t n = p.n;
	long page = p.page, per = p.per, total = p.total;
	json_t *ctx = json_object();
	jset(ctx, "title", M(r, "publish_title"));
	json_object_set_new(ctx, "nav_publish", json_true());
	jset(ctx, "feed_href", "/publish/feed.atom");
	json_t *items = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(items, doc_card(r, &v[i], false));
	json_object_set_new(ctx, "items", items);
	json_object_set_new(ctx, "categories", category_options(r, f.category));
	json_object_set_new(ctx, "departments", department_options(r, f.department, NULL));
	json_object_set_new(ctx, "filtered", json_boolean(f.category || f.department));
	struct sb q = SB_INIT;
	if (f.category) {
		sb_adds(&q, "category=");
		sb_add_urlenc(&q, f.category, strlen(f.category));
		sb_addch(&q, '&');
	}
	if (f.department) {
		sb_adds(&q, "department=");
		sb_add_urlenc(&q, f.department, strlen(f.department));
		sb_addch(&q, '&');
	}
	json_object_set_new(ctx, "pagination", req_pagination(r, arena_printf(r->arena, "/publish?%s", q.buf ? q.buf : ""), page, per, total));
	sb_release(&q);
	jset(ctx, "count", MF(r, "publish_total_documents", MA("total", total)));
	return resp_page(r, 200, "publish/list", ctx);
}

static json_t *attachments_json(struct req *r, const struct pub_doc *d)
{
	struct pub_attachment *at;
	size_t n;
	json_t *arr = json_array();
	if (pub_attachments(r->db, r->arena, d->id, &at, &n))
		return arr;
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_pack("{s:s,s:s,s:s}", "filename", at[i].filename, "href",
						     arena_printf(r->arena, "/publish/%lld/attachments/%lld",
								  (long long)d->id, (long long)at[i].id),
						     "size", arena_printf(r->arena, "%.1f KB", (double)at[i].size / 1024.0)));
	return arr;
}

/* Title, meta and the rendered body of d, into ctx. */
static void doc_view(struct req *r, const struct pub_doc *d, json_t *ctx)
{
	const char *tl, *bl;
	const char *title = pub_title(d, r->lang, &tl), *body = pub_body(d, r->lang, &bl);
	jset(ctx, "title", title);
	jset(ctx, "doc_title", title);
	jset(ctx, "title_lang", tl);
	jset(ctx, "body_lang", bl);
	json_object_set_new(ctx, "zh_only", json_boolean(en(r) && strcmp(bl, "en") != 0));
	char *html;
	if (publish_markdown_html(r->arena, body, strlen(body), &html))
		html = "";
	jset(ctx, "html", html);
	jset(ctx, "category", M(r, arena_printf(r->arena, "publish_cat_%s", d->category)));
	jset(ctx, "department", en(r) && *d->dept_name_en ? d->dept_name_en : d->dept_name_zh);
	jset(ctx, "department_href", arena_printf(r->arena, "/publish?department=%s", d->department));
	if (d->published_at)
		jset(ctx, "published", date_of(r, d->published_at));
	json_t *att = attachments_json(r, d);
	json_object_set_new(ctx, "has_attachments", json_boolean(json_array_size(att) > 0));
	json_object_set_new(ctx, "attachments", att);
	json_object_set_new(ctx, "nav_publish", json_true());
}

static int page_detail(struct req *r)
{
	struct pub_doc d;
	int rc = pub_load(r, &d);
	if (rc)
		return rc;
	if (strcmp(d.state, "published") != 0)
		return resp_redirect(r, 303, arena_printf(r->arena, "/staff/publish/%lld", (long long)d.id));
	json_t *ctx = json_object();
	doc_view(r, &d, ctx);
	return resp_page(r, 200, "publish/detail", ctx);
}

/* ---- staff ---------------------------------------------------------------------------- */

static int staff_list(struct req *r)
{
	struct pub_filter f = { 0 };
	if (r->role == ROLE_STAFF)
		f.department = r->who.department ? r->who.department : "";
	long page;
	int rc = req_query_long(r, "page", 1, 1, 100000, &page);
	struct pub_doc *v;
	size_t n;
	long total;
	if (!rc)
		rc = pub_list(r->db, r->arena, &f, page, 50, &v, &n, &total);
	if (rc)
		return rc;
	json_t *ctx = json_object();
	jset(ctx, "title", M(r, "publish_staff_title"));
	json_t *items = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(items, doc_card(r, &v[i], true));
	json_object_set_new(ctx, "items", items);
	json_object_set_new(ctx, "can_write", json_boolean(r->role == ROLE_ADMIN || pub_can_write(r, r->who.department)));
	return resp_page(r, 200, "publish/staff_list", ctx);
}

/* The edit form's context: values (from in), errors (field -> message). */
static json_t *form_ctx(struct req *r, const struct pub_input *in, json_t *errors, const char *action, int64_t version)
{
	json_t *form = json_object();
	jset(form, "action", action);
	json_object_set_new(form, "version", json_integer(version));
	jset(form, "title_zh", in->title_zh);
	jset(form, "title_en", in->title_en);
	jset(form, "body_zh", in->body_zh);
	jset(form, "body_en", in->body_en);
	json_object_set_new(form, "categories", category_options(r, in->category));
	json_object_set_new(form, "departments",
			    department_options(r, in->department, r->role == ROLE_STAFF ? r->who.department : NULL));
	if (errors) {
		json_t *list = json_array();
		const char *k;
		json_t *v;
		json_object_foreach(errors, k, v) {
			const char *msg = M(r, json_string_value(v));
			json_object_set_new(form, arena_printf(r->arena, "err_%s", k), json_string(msg));
			json_array_append_new(list, json_pack("{s:s,s:s}", "field", k, "message", msg));
		}
		json_object_set_new(form, "errors", list);
		json_decref(errors);
	}
	return form;
}

static int staff_new(struct req *r)
{
	if (!pub_can_write(r, r->role == ROLE_STAFF ? r->who.department : NULL) && r->role != ROLE_ADMIN)
		return GH_EFORBIDDEN;
	struct pub_input in = { .category = "announcement", .department = r->who.department };
	json_t *ctx = json_object();
	jset(ctx, "title", M(r, "publish_new_title"));
	json_object_set_new(ctx, "form", form_ctx(r, &in, NULL, "/staff/publish", 0));
	return resp_page(r, 200, "publish/new", ctx);
}

static int read_form(struct req *r, struct pub_input *in, int64_t *version, struct kvlist *form)
{
	int rc = req_form(r, form);
	if (rc)
		return rc;
	in->category = kv_get(form, "category");
	in->department = kv_get(form, "department");
	in->title_zh = kv_get(form, "title_zh");
	in->title_en = kv_get(form, "title_en");
	in->body_zh = kv_get(form, "body_zh");
	in->body_en = kv_get(form, "body_en");
	if (!in->department && r->role == ROLE_STAFF)
		in->department = r->who.department;
	const char *v = kv_get(form, "version");
	long lv = 0;
	if (version && v && str_to_long(str_c(v), 0, 1L << 53, &lv))
		return GH_EINVAL;
	if (version)
		*version = lv;
	return 0;
}

/* A draft written or edited: its page, saying so. */
static int saved(struct req *r, struct pub_change *c, int rc)
{
	if (rc == GH_ECONFLICT)
		req_error_detail(r, "%s", M(r, "publish_err_conflict"));
	if (rc)
		return rc;
	return resp_redirect(r, 303, arena_printf(r->arena, "/staff/publish/%lld?saved=1", (long long)c->doc.id));
}

static int staff_create(struct req *r)
{
	struct pub_input in = { 0 };
	struct kvlist form;
	int rc = read_form(r, &in, NULL, &form);
	if (rc)
		return rc;
	json_t *errors;
	if ((rc = pub_validate(r->db, r->arena, &in, &errors))) {
		json_t *ctx = json_object();
		jset(ctx, "title", M(r, "publish_new_title"));
		json_object_set_new(ctx, "form", form_ctx(r, &in, errors, "/staff/publish", 0));
		return resp_page(r, 422, "publish/new", ctx);
	}
	if (!pub_can_write(r, in.department))
		return GH_EFORBIDDEN;
	struct pub_change *c = pub_change_new(r, saved);
	c->in = in;
	return pub_change_create(r, c);
}

static int manage_page(struct req *r, struct pub_doc *d, int status, json_t *form_override, const char *notice)
{
	json_t *ctx = json_object();
	doc_view(r, d, ctx);
	json_object_del(ctx, "nav_publish");
	const char *tl;
	jset(ctx, "title", arena_printf(r->arena, "%s: %s", M(r, "publish_manage_title"), pub_title(d, r->lang, &tl)));
	jset(ctx, "state", M(r, arena_printf(r->arena, "publish_state_%s", d->state)));
	jset(ctx, "state_code", d->state);
	jset(ctx, "author", d->author_name);
	jset(ctx, "id", arena_printf(r->arena, "%lld", (long long)d->id));
	json_object_set_new(ctx, "version", json_integer(d->version));
	if (d->note && *d->note)
		jset(ctx, "note", d->note);
	jset(ctx, "notice", notice);
	bool draft = !strcmp(d->state, "draft");
	bool writer = pub_can_write(r, d->department), head = pub_can_approve(r, d->department);
	if (draft && writer) {
		if (form_override) {
			json_object_set_new(ctx, "form", form_override);
		} else {
			struct pub_input in = { d->category, d->department, d->title_zh, d->title_en, d->body_zh, d->body_en };
			json_object_set_new(ctx, "form", form_ctx(r, &in, NULL, arena_printf(r->arena, "/staff/publish/%lld",
											      (long long)d->id),
								  d->version));
		}
		jset(ctx, "upload_action", arena_printf(r->arena, "/staff/publish/%lld/attachments", (long long)d->id));
	} else if (form_override) {
		json_decref(form_override);
	}
	json_t *actions = json_array();
	static const char *const codes[] = { "submit", "approve", "return", "withdraw" };
	bool contributed = true;
	if (head && !strcmp(d->state, "review"))
		pub_contributed(r->db, d->id, r->who.account, &contributed);
	for (size_t i = 0; i < ARRAY_LEN(codes); i++) {
		const struct pub_action *a = pub_action(codes[i]);
		if (strcmp(d->state, a->from) != 0 || !(a->head ? head : writer))
			continue;
		if (!strcmp(a->code, "approve") && contributed) {
			/* Not one's own work: another head or an administrator approves it. */
			jset(ctx, "approve_elsewhere", M(r, "publish_sod_hint"));
			continue;
		}
		json_array_append_new(actions, json_pack("{s:s,s:s,s:b,s:s}", "label",
							 M(r, arena_printf(r->arena, "publish_act_%s", a->code)), "href",
							 arena_printf(r->arena, "/staff/publish/%lld/actions/%s",
								      (long long)d->id, a->code),
							 "need_note", a->need_note, "code", a->code));
	}
	json_object_set_new(ctx, "actions", actions);
	if (!strcmp(d->state, "published"))
		jset(ctx, "public_href", arena_printf(r->arena, "/publish/%lld", (long long)d->id));
	return resp_page(r, status, "publish/manage", ctx);
}

static int staff_doc(struct req *r)
{
	struct pub_doc d;
	int rc = pub_load(r, &d);
	if (rc)
		return rc;
	/* Staff of other departments see the public page. */
	if (r->role == ROLE_STAFF && strcmp(r->who.department ? r->who.department : "", d.department) != 0)
		return GH_ENOTFOUND;
	const char *saved = req_query(r, "saved");
	return manage_page(r, &d, 200, NULL, saved && !strcmp(saved, "1") ? M(r, "publish_saved") : NULL);
}

static int staff_update(struct req *r)
{
	struct pub_doc d;
	int rc = pub_load(r, &d);
	if (rc)
		return rc;
	if (!pub_can_write(r, d.department))
		return GH_EFORBIDDEN;
	struct pub_input in = { 0 };
	struct kvlist form;
	int64_t version;
	if ((rc = read_form(r, &in, &version, &form)))
		return rc;
	json_t *errors;
	if ((rc = pub_validate(r->db, r->arena, &in, &errors)))
		return manage_page(r, &d, 422,
				   form_ctx(r, &in, errors, arena_printf(r->arena, "/staff/publish/%lld", (long long)d.id),
					    version),
				   NULL);
	if (!pub_can_write(r, in.department))
		return GH_EFORBIDDEN;
	struct pub_change *c = pub_change_new(r, saved);
	c->id = d.id;
	c->version = version;
	c->in = in;
	return pub_change_update(r, c);
}

/* A step of the workflow: a published document's public page, else its staff page. */
static int acted(struct req *r, struct pub_change *c, int rc)
{
	if (rc == GH_ECONFLICT && !r->error_detail)
		req_error_detail(r, "%s", M(r, "publish_err_conflict")); /* it moved since the form was read */
	if (rc)
		return rc;
	if (!strcmp(c->doc.state, "published"))
		return resp_redirect(r, 303, arena_printf(r->arena, "/publish/%lld", (long long)c->id));
	return resp_redirect(r, 303, arena_printf(r->arena, "/staff/publish/%lld", (long long)c->id));
}

static int staff_act(struct req *r)
{
	struct pub_doc d;
	int rc = pub_load(r, &d);
	struct kvlist form;
	if (!rc)
		rc = req_form(r, &form);
	if (rc)
		return rc;
	const char *v = kv_get(&form, "version");
	long version;
	if (!v || str_to_long(str_c(v), 0, 1L << 53, &version))
		return GH_EINVAL;
	if (version != d.version) {
		req_error_detail(r, "%s", M(r, "publish_err_conflict"));
		return GH_ECONFLICT;
	}
	struct pub_change *c = pub_change_new(r, acted);
	c->id = d.id;
	c->version = version;
	c->action = req_param(r, "action");
	c->note = kv_get(&form, "note");
	return pub_change_act(r, c);
}

static int uploaded(struct req *r, struct pub_change *c, int rc)
{
	return rc ? rc : resp_redirect(r, 303, arena_printf(r->arena, "/staff/publish/%lld", (long long)c->id));
}

static int staff_upload(struct req *r)
{
	struct pub_doc d;
	int rc = pub_load(r, &d);
	return rc ? rc : pub_change_upload(r, &d, pub_change_new(r, uploaded));
}

#define WRITERS (ROLE_STAFF | ROLE_ADMIN)

const struct route publish_page_routes[] = {
	{ HTTP_GET, "/publish", page_list, ROLE_PUBLIC, 0, "publish.list" },
	{ HTTP_GET, "/publish/{id}", page_detail, ROLE_PUBLIC, 0, "publish.detail" },
	{ HTTP_GET, "/staff/publish", staff_list, WRITERS, 0, "publish.staff_list" },
	/* Staff write with the reviewer or head duty (pub_can_write); the route says so too, for
	 * the navigation (http/nav.h). */
	{ HTTP_GET, "/staff/publish/new", staff_new, WRITERS, 0, "publish.staff_new", .duties = STAFF_REVIEWER | STAFF_HEAD },
	{ HTTP_POST, "/staff/publish", staff_create, WRITERS, ROUTE_CSRF, "publish.staff_create", .duties = STAFF_REVIEWER | STAFF_HEAD },
	{ HTTP_GET, "/staff/publish/{id}", staff_doc, WRITERS, 0, "publish.staff_doc" },
	{ HTTP_POST, "/staff/publish/{id}", staff_update, WRITERS, ROUTE_CSRF, "publish.staff_update" },
	{ HTTP_POST, "/staff/publish/{id}/actions/{action}", staff_act, WRITERS, ROUTE_CSRF, "publish.staff_act" },
	{ HTTP_POST, "/staff/publish/{id}/attachments", staff_upload, WRITERS, ROUTE_CSRF, "publish.staff_upload" },
};
const size_t publish_page_routes_n = ARRAY_LEN(publish_page_routes);

int publish_add_routes(struct router *rt)
{
	if (router_add(rt, publish_page_routes, publish_page_routes_n) ||
	    router_add(rt, publish_api_routes, publish_api_routes_n))
		return GH_EINVAL;
	return 0;
}
