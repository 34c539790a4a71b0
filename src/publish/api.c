/* api.c: the JSON API of published information, the Atom feed and attachment downloads.
 * Parameters read: category, department, state, page, per_page (lists); the route's id and
 * action; JSON bodies {category, department, title_zh, title_en, body_zh, body_en, version}
 * and {note, version}; a multipart part "file". */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app.h"
#include "base/calendar.h"
#include "base/err.h"
#include "base/sb.h"
#include "base/str.h"
#include "base/util.h"
#include "cases/attach.h"
#include "http/handler.h"
#include "http/msg.h"
#include "http/server.h"
#include "publish/publish_impl.h"
#include "store/db.h"
#include "view/view.h"

/* RFC 3339 in China Standard Time. */
static const char *iso_time(struct arena *a, int64_t t)
{
	char buf[CALENDAR_ISO_LEN];
	calendar_format_iso(t, buf);
	return arena_strdup(a, buf);
}

json_t *pub_doc_json(struct req *r, const struct pub_doc *d, bool full)
{
	json_t *o = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:I}", "id", (json_int_t)d->id, "category", d->category,
			      "department", d->department, "department_name",
			      en(r) && d->dept_name_en && *d->dept_name_en ? d->dept_name_en : d->dept_name_zh, "title_zh",
			      d->title_zh, "title_en", d->title_en, "state", d->state, "version", (json_int_t)d->version);
	json_object_set_new(o, "published_at", d->published_at ? json_string(iso_time(r->arena, d->published_at)) : json_null());
	json_object_set_new(o, "updated_at", json_string(iso_time(r->arena, d->updated_at)));
	json_object_set_new(o, "href", json_string(arena_printf(r->arena, "/publish/%lld", (long long)d->id)));
	if (!strcmp(d->state, "withdrawn")) {
		json_object_set_new(o, "withdrawn_at", json_string(iso_time(r->arena, d->withdrawn_at)));
		json_object_set_new(o, "note", json_string(d->note));
	} else if (strcmp(d->state, "published") != 0) {
		json_object_set_new(o, "note", json_string(d->note));
	}
	if (!full)
		return o;
	json_object_set_new(o, "body_zh", json_string(d->body_zh));
	json_object_set_new(o, "body_en", json_string(d->body_en));
	char *html = NULL;
	if (!publish_markdown_html(r->arena, d->body_zh, strlen(d->body_zh), &html))
		json_object_set_new(o, "html_zh", json_string(html));
	if (*d->body_en && !publish_markdown_html(r->arena, d->body_en, strlen(d->body_en), &html))
		json_object_set_new(o, "html_en", json_string(html));
	struct pub_attachment *at;
	size_t n;
	json_t *arr = json_array();
	if (!pub_attachments(r->db, r->arena, d->id, &at, &n))
		for (size_t i = 0; i < n; i++)
			json_array_append_new(arr, json_pack("{s:I,s:s,s:s,s:I,s:s}", "id", (json_int_t)at[i].id, "filename",
							     at[i].filename, "mime", at[i].mime, "size",
							     (json_int_t)at[i].size, "href",
							     arena_printf(r->arena, "/publish/%lld/attachments/%lld",
									  (long long)d->id, (long long)at[i].id)));
	json_object_set_new(o, "attachments", arr);
	return o;
}

int pub_load(struct req *r, struct pub_doc *d)
{
	int64_t id;
	int rc = req_param_id(r, "id", &id);
	if (!rc)
		rc = pub_get(r->db, r->arena, id, d);
	if (!rc && !pub_can_see(r, d))
		rc = GH_ENOTFOUND;
	return rc;
}

int pub_read_filter(struct req *r, struct pub_filter *f, long *page, long *per)
{
	f->category = req_query(r, "category");
	f->department = req_query(r, "department");
	if (f->category && !*f->category)
		f->category = NULL;
	if (f->department && !*f->department)
		f->department = NULL;
	if (f->category && !pub_category_ok(f->category)) {
		req_error_detail(r, "%s", M(r, "publish_err_category"));
		return GH_EINVAL;
	}
	if (f->department && strlen(f->department) > 64) {
		req_error_detail(r, "%s", M(r, "publish_err_department"));
		return GH_EINVAL;
	}
	int rc = req_query_long(r, "page", 1, 1, 100000, page);
	if (!rc)
		rc = req_query_long(r, "per_page", 20, 1, 100, per);
	return rc;
}

int pub_list_read(struct req *r, struct pub_filter *f, struct pub_page *p)
{
	long page, per;
	int rc = pub_read_filter(r, f, &page, &per);
	if (!p->per)
		p->page = page, p->per = per;
	/* Staff see their own department's documents only (administrators all). */
	if (!f->public_only && r->role == ROLE_STAFF)
		f->department = r->who.department ? r->who.department : "";
	if (!rc)
		rc = pub_list(r->db, r->arena, f, p->page, p->per, &p->v, &p->n, &p->total);
	return rc;
}

static int list_json(struct req *r, struct pub_filter *f)
{
	struct pub_page p = { 0 };
	int rc = pub_list_read(r, f, &p);
	if (rc)
		return rc;
	json_t *arr = json_array();
	for (size_t i = 0; i < p.n; i++)
		json_array_append_new(arr, pub_doc_json(r, &p.v[i], false));
	return resp_json(r, 200, json_pack("{s:o,s:i,s:i,s:i}", "items", arr, "page", (int)p.page, "per_page",
					   (int)p.per, "total", (int)p.total));
}

static int api_list(struct req *r)
{
	struct pub_filter f = { .public_only = true };
	return list_json(r, &f);
}

static int api_staff_list(struct req *r)
{
	struct pub_filter f = { 0 };
	f.state = req_query(r, "state");
	if (f.state && !*f.state)
		f.state = NULL;
	if (f.state && strcmp(f.state, "draft") && strcmp(f.state, "review") && strcmp(f.state, "published") &&
	    strcmp(f.state, "withdrawn")) {
		req_error_detail(r, "%s", M(r, "publish_state_draft_review_published_withdrawn"));
		return GH_EINVAL;
	}
	return list_json(r, &f);
}

static int api_get(struct req *r)
{
	struct pub_doc d;
	int rc = pub_load(r, &d);
	if (rc)
		return rc;
	return resp_json(r, 200, pub_doc_json(r, &d, true));
}

/* A string member, or NULL when absent; GH_EINVAL (with a detail) when present but not a string. */
static int member(struct req *r, json_t *j, const char *key, const char **out)
{
	json_t *v = json_object_get(j, key);
	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		req_error_detail(r, "%s", MF(r, "publish_key_must_string", MA("key", key)));
		return GH_EINVAL;
	}
	*out = json_string_value(v);
	return 0;
}

static int validation_error(struct req *r, json_t *errors)
{
	/* Field -> message in the caller's language. */
	json_t *fields = json_object();
	const char *k;
	json_t *v;
	json_object_foreach(errors, k, v)
		json_object_set_new(fields, k, json_string(M(r, json_string_value(v))));
	json_decref(errors);
	json_t *j = json_pack("{s:{s:s,s:s,s:o}}", "error", "code", err_slug(GH_EVALIDATION), "message",
			      M_err(r, GH_EVALIDATION), "fields", fields);
	return resp_json(r, err_status(GH_EVALIDATION), j);
}

static int read_input(struct req *r, json_t *j, struct pub_input *in, const struct pub_doc *old)
{
	int rc = member(r, j, "category", &in->category);
	if (!rc)
		rc = member(r, j, "department", &in->department);
	if (!rc)
		rc = member(r, j, "title_zh", &in->title_zh);
	if (!rc)
		rc = member(r, j, "title_en", &in->title_en);
	if (!rc)
		rc = member(r, j, "body_zh", &in->body_zh);
	if (!rc)
		rc = member(r, j, "body_en", &in->body_en);
	if (rc || !old)
		return rc;
	/* PATCH: absent members keep their value. */
	if (!in->category)
		in->category = old->category;
	if (!in->department)
		in->department = old->department;
	if (!in->title_zh)
		in->title_zh = old->title_zh;
	if (!json_object_get(j, "title_en"))
		in->title_en = old->title_en;
	if (!in->body_zh)
		in->body_zh = old->body_zh;
	if (!json_object_get(j, "body_en"))
		in->body_en = old->body_en;
	return 0;
}

/* The document a change wrote: 201 with its address, or 200. */
static int created(struct req *r, struct pub_change *c, int rc)
{
	if (rc)
		return rc;
	resp_header(r, "Location", arena_printf(r->arena, "/api/v1/publish/%lld", (long long)c->doc.id));
	return resp_json(r, 201, pub_doc_json(r, &c->doc, true));
}

static int changed(struct req *r, struct pub_change *c, int rc)
{
	return rc ? rc : resp_json(r, 200, pub_doc_json(r, &c->doc, true));
}

static int api_create(struct req *r)
{
	json_t *j;
	int rc = req_body_object(r, &j);
	struct pub_input in = { 0 };
	if (!rc)
		rc = read_input(r, j, &in, NULL);
	if (rc)
		return rc;
	/* Staff write for their own department; it may be left out. */
	if (!in.department && r->role == ROLE_STAFF)
		in.department = r->who.department;
	json_t *errors;
	if ((rc = pub_validate(r->db, r->arena, &in, &errors)))
		return validation_error(r, errors);
	if (!pub_can_write(r, in.department))
		return GH_EFORBIDDEN;
	struct pub_change *c = pub_change_new(r, created);
	c->in = in;
	return pub_change_create(r, c);
}

static int read_version(struct req *r, json_t *j, const struct pub_doc *d, int64_t *version)
{
	json_t *v = json_object_get(j, "version");
	if (!v) {
		*version = d->version;
		return 0;
	}
	if (!json_is_integer(v)) {
		req_error_detail(r, "%s", M(r, "publish_version_must_integer"));
		return GH_EINVAL;
	}
	*version = json_integer_value(v);
	return 0;
}

/* The document of the route and the request's JSON body. */
static int load_with_body(struct req *r, struct pub_doc *d, json_t **j)
{
	int rc = pub_load(r, d);
	return rc ? rc : req_body_object(r, j);
}

static int api_update(struct req *r)
{
	struct pub_doc d;
	json_t *j;
	int rc = load_with_body(r, &d, &j);
	if (rc)
		return rc;
	if (!pub_can_write(r, d.department))
		return GH_EFORBIDDEN;
	int64_t version;
	struct pub_input in = { 0 };
	if ((rc = read_version(r, j, &d, &version)) || (rc = read_input(r, j, &in, &d)))
		return rc;
	json_t *errors;
	if ((rc = pub_validate(r->db, r->arena, &in, &errors)))
		return validation_error(r, errors);
	if (!pub_can_write(r, in.department))
		return GH_EFORBIDDEN;
	if (strcmp(d.state, "draft") != 0) {
		req_error_detail(r, "%s", M(r, "publish_only_drafts_edited"));
		return GH_ECONFLICT;
	}
	struct pub_change *c = pub_change_new(r, changed);
	c->id = d.id;
	c->version = version;
	c->in = in;
	return pub_change_update(r, c);
}

static int api_act(struct req *r)
{
	struct pub_doc d;
	json_t *j;
	int rc = load_with_body(r, &d, &j);
	if (rc)
		return rc;
	const char *note;
	int64_t version;
	if ((rc = member(r, j, "note", &note)) || (rc = read_version(r, j, &d, &version)))
		return rc;
	if (version != d.version)
		return GH_ECONFLICT;
	struct pub_change *c = pub_change_new(r, changed);
	c->id = d.id;
	c->version = version;
	c->action = req_param(r, "action");
	c->note = note;
	return pub_change_act(r, c);
}

static int uploaded(struct req *r, struct pub_change *c, int rc)
{
	struct pub_attachment at;
	if (!rc)
		rc = pub_attachment_get(r->db, r->arena, c->id, c->attachment, &at);
	if (rc)
		return rc;
	return resp_json(r, 201, json_pack("{s:I,s:s,s:s,s:I,s:s}", "id", (json_int_t)at.id, "filename", at.filename,
					   "mime", at.mime, "size", (json_int_t)at.size, "href",
					   arena_printf(r->arena, "/publish/%lld/attachments/%lld", (long long)c->id,
							(long long)at.id)));
}

static int api_upload(struct req *r)
{
	struct pub_doc d;
	int rc = pub_load(r, &d);
	return rc ? rc : pub_change_upload(r, &d, pub_change_new(r, uploaded));
}

static int attachment_download(struct req *r)
{
	struct pub_doc d;
	int rc = pub_load(r, &d);
	if (rc)
		return rc;
	int64_t aid;
	struct pub_attachment at;
	if ((rc = req_param_id(r, "aid", &aid)) || (rc = pub_attachment_get(r->db, r->arena, d.id, aid, &at)))
		return rc;
	return attach_send(r, at.sha256, at.mime, at.filename);
}

/* ---- Atom 1.0 (RFC 4287) -------------------------------------------------------------- */

static void xml_text(struct sb *out, const char *s)
{
	/* XML 1.0 forbids most control characters even as references: they are dropped. */
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
			continue;
		switch (c) {
		case '<': sb_adds(out, "&lt;"); break;
		case '>': sb_adds(out, "&gt;"); break;
		case '&': sb_adds(out, "&amp;"); break;
		case '"': sb_adds(out, "&quot;"); break;
		case '\'': sb_adds(out, "&apos;"); break;
		default: sb_addch(out, (char)c);
		}
	}
}

static int feed(struct req *r)
{
	struct pub_filter f = { .public_only = true };
	struct pub_page p = { .page = 1, .per = 50 }; /* the newest, whatever the query's page */
	int rc = pub_list_read(r, &f, &p);
	if (rc)
		return rc;
	struct pub_doc *v = p.v;
	size_t n = p.n;
	const char *base = r->app->cfg.public_url ? r->app->cfg.public_url : "";
	size_t bl = strlen(base);
	while (bl && base[bl - 1] == '/')
		bl--;
	base = arena_strndup(r->arena, base, bl);
	struct sb out = SB_INIT;
	sb_adds(&out, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"");
	sb_adds(&out, en(r) ? "en" : "zh-CN");
	sb_adds(&out, "\">\n<title>");
	xml_text(&out, M(r, "publish_feed_title"));
	sb_adds(&out, "</title>\n<id>");
	xml_text(&out, base);
	sb_adds(&out, "/publish/feed.atom</id>\n<link rel=\"self\" type=\"application/atom+xml\" href=\"");
	xml_text(&out, base);
	sb_adds(&out, "/publish/feed.atom\"/>\n<link rel=\"alternate\" type=\"text/html\" href=\"");
	xml_text(&out, base);
	sb_adds(&out, "/publish\"/>\n<updated>");
	sb_adds(&out, iso_time(r->arena, n ? v[0].published_at : r->app->started));
	sb_adds(&out, "</updated>\n<author><name>");
	xml_text(&out, M(r, "site_name"));
	sb_adds(&out, "</name></author>\n");
	for (size_t i = 0; i < n; i++) {
		const char *tl, *bl2;
		const char *title = pub_title(&v[i], r->lang, &tl);
		const char *body = pub_body(&v[i], r->lang, &bl2);
		char *html = NULL;
		if (publish_markdown_html(r->arena, body, strlen(body), &html))
			html = "";
		const char *href = arena_printf(r->arena, "%s/publish/%lld", base, (long long)v[i].id);
		sb_adds(&out, "<entry>\n<title xml:lang=\"");
		sb_adds(&out, tl);
		sb_adds(&out, "\">");
		xml_text(&out, title);
		sb_adds(&out, "</title>\n<id>");
		xml_text(&out, href);
		sb_adds(&out, "</id>\n<link rel=\"alternate\" type=\"text/html\" href=\"");
		xml_text(&out, href);
		sb_adds(&out, "\"/>\n<published>");
		sb_adds(&out, iso_time(r->arena, v[i].published_at));
		sb_adds(&out, "</published>\n<updated>");
		sb_adds(&out, iso_time(r->arena, v[i].published_at));
		sb_adds(&out, "</updated>\n<author><name>");
		xml_text(&out, en(r) && *v[i].dept_name_en ? v[i].dept_name_en : v[i].dept_name_zh);
		sb_adds(&out, "</name></author>\n<category term=\"");
		xml_text(&out, v[i].category);
		sb_adds(&out, "\" label=\"");
		xml_text(&out, M(r, arena_printf(r->arena, "publish_cat_%s", v[i].category)));
		sb_adds(&out, "\"/>\n<content type=\"html\" xml:lang=\"");
		sb_adds(&out, bl2);
		sb_adds(&out, "\">");
		xml_text(&out, html);
		sb_adds(&out, "</content>\n</entry>\n");
	}
	sb_adds(&out, "</feed>\n");
	resp_header(r, "Cache-Control", "public, max-age=300");
	rc = resp_body(r, 200, "application/atom+xml; charset=utf-8", out.buf, out.len);
	sb_release(&out);
	return rc;
}

#define WRITERS (ROLE_STAFF | ROLE_ADMIN)

const struct route publish_api_routes[] = {
	{ HTTP_GET, "/publish/feed.atom", feed, ROLE_PUBLIC, 0, "publish.feed" },
	{ HTTP_GET, "/publish/{id}/attachments/{aid}", attachment_download, ROLE_PUBLIC, 0, "publish.attachment" },
	{ HTTP_GET, "/api/v1/publish", api_list, ROLE_PUBLIC, 0, "publish.api_list" },
	{ HTTP_POST, "/api/v1/publish", api_create, WRITERS, 0, "publish.api_create", NULL, SCOPE_APPLY },
	{ HTTP_GET, "/api/v1/publish/{id}", api_get, ROLE_PUBLIC, 0, "publish.api_get" },
	{ HTTP_PATCH, "/api/v1/publish/{id}", api_update, WRITERS, 0, "publish.api_update", NULL, SCOPE_APPLY },
	{ HTTP_POST, "/api/v1/publish/{id}/actions/{action}", api_act, WRITERS, 0, "publish.api_act", NULL, SCOPE_APPLY },
	{ HTTP_POST, "/api/v1/publish/{id}/attachments", api_upload, WRITERS, 0, "publish.api_upload", NULL, SCOPE_APPLY },
	{ HTTP_GET, "/api/v1/staff/publish", api_staff_list, WRITERS, 0, "publish.api_staff_list", NULL, SCOPE_APPLY },
};
const size_t publish_api_routes_n = ARRAY_LEN(publish_api_routes);
