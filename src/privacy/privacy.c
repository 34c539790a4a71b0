/* privacy.c: the "my data" pages and API (privacy.h). */
#include "privacy/privacy.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "base/err.h"
#include "base/str.h"
#include "base/util.h"
#include "catalog/catalog.h"
#include "certs/certs.h"
#include "http/handler.h"
#include "http/msg.h"
#include "http/router.h"
#include "http/server.h"
#include "http/write.h"
#include "identity/identity.h"
#include "store/cover.h"
#include "store/db.h"
#include "store/personal.h"
#include "view/view.h"

#define FORMAT "govhall-mydata/1"
#define CELL_SHOWN_MAX 300 /* characters of one value on the page (the JSON has it whole) */

/* Columns holding ids and moments become JSON integers; every other value is text as stored. */
static bool integer_column(const char *name)
{
	size_t n = strlen(name);
	return strcmp(name, "id") == 0 || (n > 3 && (strcmp(name + n - 3, "_at") == 0 || strcmp(name + n - 3, "_id") == 0));
}

/* The name the catalog gives the code v of column col in the reader's language: a
 * department's ("department") or a service item's ("item_code"; its current version), the code
 * itself when the catalog no longer has it; NULL for any other column. *key is the export's
 * column for it. Memoised in names (one request's). */
static const char *catalog_name(struct req *r, json_t *names, const char *col, const char *v, const char **key)
{
	bool dept = strcmp(col, "department") == 0;
	if ((!dept && strcmp(col, "item_code") != 0) || !v || !*v)
		return NULL;
	*key = dept ? "department_name" : "item_name";
	const char *memo = arena_printf(r->arena, "%c%s", dept ? 'd' : 'i', v);
	const char *known = json_string_value(json_object_get(names, memo));
	if (known)
		return known;
	const char *zh = NULL, *en_name = NULL;
	struct catalog_department d;
	struct catalog_service svc;
	if (dept && catalog_department_get(r->db, r->arena, v, &d) == 0)
		zh = d.name_zh, en_name = d.name_en;
	else if (!dept && catalog_service_get(r->db, r->arena, v, 0, &svc) == 0)
		zh = svc.name_zh, en_name = svc.name_en;
	const char *name = en(r) && en_name && *en_name ? en_name : zh && *zh ? zh : v;
	json_t *j = json_string(name);
	if (!j)
		return v;
	json_object_set_new(names, memo, j); /* names keeps j, and so the text, until the request ends */
	return json_string_value(j);
}

/* The rows of a part as an array of objects by column name, with the catalog's names of codes
 * beside them (new reference). */
static json_t *rows_json(struct req *r, json_t *names, const struct db_rows *rows)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < rows->nrows; i++) {
		json_t *o = json_object();
		for (size_t c = 0; c < rows->ncols; c++) {
			const char *v = db_cell(rows, i, c), *key;
			json_t *j = !v ? json_null()
				       : integer_column(rows->names[c]) ? json_integer((json_int_t)strtoll(v, NULL, 10))
									 : json_stringn(v, rows->lens[i * rows->ncols + c]);
			json_object_set_new(o, rows->names[c], j ? j : json_string("\xEF\xBF\xBD"));
			const char *name = catalog_name(r, names, rows->names[c], v, &key);
			if (name)
				json_object_set_new(o, key, json_string(name));
		}
		json_array_append_new(arr, o);
	}
	return arr;
}

/* What closure does to each part: {erased: [...], kept: [...]} of {name, title, why} (new). */
static json_t *fates(struct req *r)
{
	json_t *erased = json_array(), *kept = json_array();
	for (size_t i = 0; i < personal_count(); i++) {
		const struct personal_part *p = personal_at(i);
		json_array_append_new(p->kept ? kept : erased,
				      json_pack("{s:s,s:s,s:s}", "name", p->name, "title", MC(r, "mydata_part_", p->name),
						"why", MC(r, "mydata_why_", p->name)));
	}
	return json_pack("{s:o,s:o}", "erased", erased, "kept", kept);
}

/* fn's object for every part of the caller's rows, in registry order (a new array); names
 * memoises the catalog's names (catalog_name) across the parts. */
typedef json_t *(*part_fn)(struct req *r, const struct personal_part *p, const struct db_rows *rows, json_t *names);
static int each_part(struct req *r, part_fn fn, json_t **out)
{
	json_t *parts = json_array(), *names = json_object();
	arena_cleanup(r->arena, (void (*)(void *))json_decref, names);
	for (size_t i = 0; i < personal_count(); i++) {
		struct db_rows rows;
		int rc = personal_rows(r->db, r->arena, personal_at(i), r->who.account, &rows);
		if (rc) {
			json_decref(parts);
			return rc;
		}
		json_array_append_new(parts, fn(r, personal_at(i), &rows, names));
	}
	*out = parts;
	return 0;
}

/* A part in the export's JSON. */
static json_t *export_part(struct req *r, const struct personal_part *p, const struct db_rows *rows, json_t *names)
{
	return json_pack("{s:s,s:s,s:b,s:s,s:i,s:b,s:o}", "name", p->name, "title", MC(r, "mydata_part_", p->name), "kept",
			 p->kept, "on_closure", MC(r, "mydata_why_", p->name), "count", (int)rows->nrows, "truncated",
			 rows->nrows >= PERSONAL_ROWS_MAX, "rows", rows_json(r, names, rows));
}

/* Everything, as the export's JSON (new reference). */
static int export_json(struct req *r, json_t **out)
{
	json_t *parts;
	int rc = each_part(r, export_part, &parts);
	if (rc)
		return rc;
	*out = json_pack("{s:s,s:I,s:I,s:s,s:o}", "format", FORMAT, "generated_at", (json_int_t)time(NULL), "account_id",
			 (json_int_t)r->who.account, "language", en(r) ? "en" : "zh", "parts", parts);
	return *out ? 0 : GH_EINTERNAL;
}

/* The message prefix naming the values of column col of part p for people, or NULL. */
static const char *words_of(struct req *r, const struct personal_part *p, const char *col)
{
	const char *s = p->words;
	size_t n = strlen(col);
	while (s && *s) {
		size_t len = strcspn(s, ",");
		if (len > n + 1 && strncmp(s, col, n) == 0 && s[n] == '=')
			return arena_strndup(r->arena, s + n + 1, len - n - 1);
		s += len + (s[len] == ',');
	}
	return NULL;
}

/* A value as the page shows it: moments in China time, code words in words, departments and
 * items by name, long text cut. */
static const char *cell_text(struct req *r, json_t *names, const struct personal_part *p, const char *col,
			     const char *v)
{
	if (!v)
		return "";
	const char *key, *name = catalog_name(r, names, col, v, &key);
	if (name)
		return name;
	size_t n = strlen(col);
	if (n > 3 && strcmp(col + n - 3, "_at") == 0)
		return req_when(r, strtoll(v, NULL, 10));
	const char *prefix = words_of(r, p, col);
	if (prefix && *v)
		return MC(r, prefix, v);
	/* the first CELL_SHOWN_MAX characters (UTF-8: a character starts at a byte not 10xxxxxx) */
	size_t chars = 0, i = 0;
	for (; v[i]; i++)
		if (((unsigned char)v[i] & 0xC0) != 0x80 && ++chars > CELL_SHOWN_MAX)
			return arena_printf(r->arena, "%s…", arena_strndup(r->arena, v, i));
	return v;
}

/* A column written in both languages (title_zh, title_en) that is not in the reader's: the page
 * shows the reader's one (the JSON has both). */
static bool other_language(struct req *r, const char *col)
{
	size_t n = strlen(col);
	return n > 3 && strcmp(col + n - 3, en(r) ? "_zh" : "_en") == 0;
}

/* A part as people read it (the page's and the PDF's): {name, title, kept, why, count, has_rows,
 * cols [{label}], rows [{cells [{text}]}], truncated}. */
static json_t *readable_part(struct req *r, const struct personal_part *p, const struct db_rows *rows,
			     json_t *names)
{
	json_t *cols = json_array(), *trs = json_array();
	for (size_t c = 0; c < rows->ncols; c++)
		if (!other_language(r, rows->names[c]))
			json_array_append_new(cols, json_pack("{s:s}", "label", MC(r, "mydata_col_", rows->names[c])));
	for (size_t k = 0; k < rows->nrows; k++) {
		json_t *cells = json_array();
		for (size_t c = 0; c < rows->ncols; c++)
			if (!other_language(r, rows->names[c]))
				json_array_append_new(cells, json_pack("{s:s}", "text", cell_text(r, names, p, rows->names[c],
												  db_cell(rows, k, c))));
		json_array_append_new(trs, json_pack("{s:o}", "cells", cells));
	}
	return json_pack("{s:s,s:s,s:b,s:s,s:s,s:b,s:o,s:o,s:b}", "name", p->name, "title", MC(r, "mydata_part_", p->name),
			 "kept", p->kept, "why", MC(r, "mydata_why_", p->name), "count",
			 MF(r, "mydata_count", MA("n", (long)rows->nrows)), "has_rows", rows->nrows > 0, "cols", cols,
			 "rows", trs, "truncated", rows->nrows >= PERSONAL_ROWS_MAX);
}

/* The readable parts as a book for certs_book_render: a section per part, a record per row
 * (its empty values left out). Takes parts (new reference). */
static json_t *book(struct req *r, json_t *parts)
{
	json_t *sections = json_array(), *part;
	size_t i;
	json_array_foreach(parts, i, part) {
		json_t *cols = json_object_get(part, "cols"), *records = json_array(), *row;
		size_t k;
		json_array_foreach(json_object_get(part, "rows"), k, row) {
			json_t *pairs = json_array(), *cell;
			size_t c;
			json_array_foreach(json_object_get(row, "cells"), c, cell) {
				json_t *text = json_object_get(cell, "text");
				if (json_string_length(text))
					json_array_append_new(pairs, json_pack("{s:O,s:O}", "label",
									       json_object_get(json_array_get(cols, c), "label"),
									       "value", text));
			}
			json_array_append_new(records, pairs);
		}
		const char *fate = M(r, json_is_true(json_object_get(part, "kept")) ? "mydata_kept" : "mydata_erased");
		json_array_append_new(sections, json_pack("{s:O,s:s,s:o}", "title", json_object_get(part, "title"), "note",
							  arena_printf(r->arena, "%s · %s %s%s%s",
								       json_string_value(json_object_get(part, "count")), fate,
								       json_string_value(json_object_get(part, "why")),
								       json_is_true(json_object_get(part, "truncated")) ? " " : "",
								       json_is_true(json_object_get(part, "truncated"))
									       ? M(r, "mydata_truncated") : ""),
							  "records", records));
	}
	json_decref(parts);
	return json_pack("{s:s,s:s,s:o}", "title", M(r, "mydata_title"), "subtitle",
			 arena_printf(r->arena, "%s %s · %s", M(r, "mydata_generated"), req_when(r, (int64_t)time(NULL)),
				      r->who.name ? r->who.name : ""),
			 "sections", sections);
}

/* GET /me/data, GET /me/data/export.json, GET /me/data/export.pdf, GET /api/v1/me/data */
static int data_get(struct req *r)
{
	resp_header(r, "Cache-Control", "no-store");
	bool page = strcmp(r->path, "/me/data") == 0, pdf = strcmp(r->path, "/me/data/export.pdf") == 0;
	if (!page && !pdf) {
		json_t *j;
		int rc = export_json(r, &j);
		if (rc)
			return rc;
		if (!r->api)
			resp_header(r, "Content-Disposition", "attachment; filename=\"my-data.json\"");
		return resp_json(r, 200, j);
	}
	json_t *parts;
	int rc = each_part(r, readable_part, &parts);
	if (rc)
		return rc;
	if (pdf)
		return certs_pdf_download(r, book(r, parts), certs_book_render, "my-data.pdf");
	json_t *ctx = json_pack("{s:s,s:b,s:o}", "title", M(r, "mydata_title"), "nav_mydata", 1, "parts", parts);
	json_object_set_new(ctx, "may_close", json_boolean(r->role == ROLE_CITIZEN || r->role == ROLE_ENTERPRISE));
	json_object_set_new(ctx, "generated", json_string(req_when(r, (int64_t)time(NULL))));
	return resp_page(r, 200, "privacy/data", ctx);
}

/* ---- closing the account ---------------------------------------------------------------- */

static json_t *close_ctx(struct req *r)
{
	json_t *ctx = json_pack("{s:s,s:s,s:b,s:o}", "title", M(r, "mydata_close_title"), "csrf", identity_csrf_token(r),
				"nav_mydata", 1, "fates", fates(r));
	return ctx;
}

/* GET /me/data/close: what closing keeps and erases, and the form. */
static int close_get(struct req *r)
{
	resp_header(r, "Cache-Control", "no-store");
	return resp_page(r, 200, "privacy/close", close_ctx(r));
}

/* One write: the account closed, then every erased part erased (covered rows touched). */
static int close_write(struct req *w, void *arg)
{
	(void)arg;
	bool own;
	int rc = cover_tx_begin(w->db, &own);
	if (!rc)
		rc = identity_account_close(w);
	for (size_t i = 0; !rc && i < personal_count(); i++)
		rc = personal_erase(w->db, w->arena, personal_at(i), w->who.account);
	return cover_tx_end(w->db, own, rc);
}

static int close_answer(struct req *r, void *arg, int rc)
{
	(void)arg;
	if (rc == GH_ECONFLICT)
		req_error_detail(r, "%s", M(r, "mydata_close_already"));
	if (rc)
		return rc;
	json_t *f = fates(r);
	json_object_set_new(f, "closed", json_true());
	json_object_set_new(f, "closed_at", json_integer((json_int_t)time(NULL)));
	if (r->api)
		return resp_json(r, 200, f);
	identity_session_cookie(r, NULL);
	resp_header(r, "Cache-Control", "no-store");
	json_t *ctx = json_pack("{s:s,s:o}", "title", M(r, "mydata_closed_title"), "fates", f);
	/* The page is the last one of the session: shown as to a visitor. */
	memset(&r->who, 0, sizeof(r->who));
	r->role = ROLE_ANON;
	return resp_page(r, 200, "privacy/closed", ctx);
}

static int close_invalid(struct req *r, const char *msg)
{
	json_t *errs = json_pack("{s:s}", "password", msg);
	arena_cleanup(r->arena, (void (*)(void *))json_decref, errs); /* req_invalid borrows it */
	return req_invalid(r, "privacy/close", r->api ? NULL : close_ctx(r), errs);
}

static int close_confirmed(struct req *r, void *arg, bool ok)
{
	if (!ok)
		return close_invalid(r, M(r, "mydata_close_wrong_password"));
	return req_write(r, close_write, close_answer, arg);
}

/* POST /me/data/close (form: password), POST /api/v1/me/close ({"password": "..."}) */
static int close_post(struct req *r)
{
	const char *pw = NULL;
	int rc;
	if (r->api) {
		json_t *in;
		if ((rc = req_body_object(r, &in)))
			return rc;
		pw = json_string_value(json_object_get(in, "password"));
	} else {
		struct kvlist form;
		if ((rc = req_form(r, &form)))
			return rc;
		pw = kv_get(&form, "password");
	}
	if (!pw || !*pw)
		return close_invalid(r, M(r, "mydata_close_enter_password"));
	return identity_password_confirm(r, pw, close_confirmed, NULL);
}

#define APPLICANTS (ROLE_CITIZEN | ROLE_AGENT | ROLE_ENTERPRISE)
#define OWNERS (ROLE_CITIZEN | ROLE_ENTERPRISE) /* acting as oneself */

static const struct route routes[] = {
	{ HTTP_GET, "/me/data", data_get, APPLICANTS, 0, "privacy.data" },
	{ HTTP_GET, "/me/data/export.json", data_get, APPLICANTS, 0, "privacy.export" },
	{ HTTP_GET, "/me/data/export.pdf", data_get, APPLICANTS, 0, "privacy.export_pdf" },
	{ HTTP_GET, "/me/data/close", close_get, OWNERS, 0, "privacy.close" },
	{ HTTP_POST, "/me/data/close", close_post, OWNERS, ROUTE_CSRF, "privacy.close_post" },
	{ HTTP_GET, "/api/v1/me/data", data_get, APPLICANTS, 0, "privacy.api_data", NULL, SCOPE_PROFILE },
	{ HTTP_POST, "/api/v1/me/close", close_post, OWNERS, 0, "privacy.api_close", NULL, SCOPE_ACCOUNT },
};

int privacy_add_routes(struct router *rt)
{
	return router_add(rt, routes, ARRAY_LEN(routes));
}
