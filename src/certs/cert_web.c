/* cert_web.c: pages and JSON API of e-certificates and the wallet — the wallet, a
 * certificate's page (holder, issuing department, departments it was shared with), its PDF
 * (rendered on the job pool) and JSON document, revocation by the issuing department's heads,
 * and the public verification page and API (upload a PDF or JSON, or follow the QR code).
 *
 * Who sees a certificate: its holder (the person, or the enterprise and its agents), staff of
 * the issuing department, staff of a department it was shared with through an application,
 * administrators. Anyone else gets the same 404 as for an unknown number. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "base/util.h"
#include "base/jsonout.h"
#include "cases/cases.h"
#include "catalog/catalog.h"
#include "certs/certs.h"
#include "certs/certs_impl.h"
#include "http/handler.h"
#include "http/msg.h"
#include "http/multipart.h"
#include "http/sections.h"
#include "http/server.h"
#include "http/write.h"
#include "identity/identity.h"
#include "store/db.h"
#include "view/view.h"

#define APPLICANTS (ROLE_CITIZEN | ROLE_AGENT | ROLE_ENTERPRISE)
#define REASON_MAX 500
#define VERIFY_PER_HOUR 600 /* verifications per address and hour */

static json_t *aj(struct req *r, json_t *j)
{
	arena_cleanup(r->arena, (void (*)(void *))json_decref, j);
	return j;
}

/* The holder the caller acts as: the enterprise acted for (while its authorisation stands),
 * else the person; 0 for staff and administrators (identity_owner_id). */
static int64_t holder_of(const struct req *r)
{
	return identity_owner_id(r);
}

static bool is_holder(const struct req *r, const struct cert *c)
{
	int64_t me = holder_of(r);
	return me && me == c->holder_id;
}

/* Loads certificate number if the caller may see it (see the file comment). */
static int load_visible(struct req *r, const char *number, struct cert *c)
{
	int rc = cert_get(r->db, r->arena, number, c);
	if (rc == 0 && (is_holder(r, c) || r->role == ROLE_ADMIN ||
			(r->role == ROLE_STAFF && cert_shared_with(r->db, r->arena, c, r->who.department))))
		return 0;
	if (rc && rc != GH_ENOTFOUND)
		return rc;
	req_error_detail(r, "%s", M(r, "certs_no_such_certificate_not_see"));
	return GH_ENOTFOUND;
}

/* The certificate r's path names, if the caller may see it, once the log has signed a
 * checkpoint that proves its leaf: 0 and *c; or, while one is signed first on the writer
 * (signing is a write: ledger_signed_rerun), REQ_DEFERRED, and handler runs again after; or
 * a GH_E code. */
static int cert_ready(struct req *r, int (*handler)(struct req *r), struct cert *c)
{
	return ledger_leaf_signed(r, load_visible(r, req_param(r, "number"), c), &c->leaf_index, handler);
}

/* Staff of the issuing department (who also see where it was shared). */
static bool issuing_staff(const struct req *r, const struct cert *c)
{
	return r->role == ROLE_STAFF && r->who.department && strcmp(r->who.department, c->department) == 0;
}

static bool may_revoke(const struct req *r, const struct cert *c)
{
	return r->role == ROLE_STAFF && (r->who.staff_roles & STAFF_HEAD) && r->who.department &&
	       strcmp(r->who.department, c->department) == 0 && strcmp(c->status, "valid") == 0;
}

/* A department's name for people (its code when the catalog has no such department). */
static const char *dept_label(struct req *r, const char *code)
{
	struct catalog_department d;
	if (!code || catalog_department_get(r->db, r->arena, code, &d))
		return code;
	const char *name = en(r) ? d.name_en : d.name_zh;
	return name && *name ? name : code;
}

/* A certificate as a summary (wallet rows, API lists). */
static json_t *cert_summary(struct req *r, const struct cert *c)
{
	json_t *doc = aj(r, json_loads(c->document, 0, NULL));
	json_t *tn = json_object_get(doc, "cert_type_name"), *iss = json_object_get(doc, "issuer");
	json_t *o = json_pack("{s:s,s:s,s:O,s:O,s:s,s:O,s:I,s:O,s:s,s:s}", "number", c->number, "cert_type", c->cert_type,
			      "cert_type_name", json_object_get(tn, en(r) ? "en" : "zh"), "issuer_name",
			      json_object_get(iss, en(r) ? "name_en" : "name_zh"), "department", c->department, "issued_on",
			      json_object_get(doc, "issued_on"), "issued_at", (json_int_t)c->issued_at, "holder_name",
			      json_object_get(json_object_get(doc, "holder"), "name"), "status", c->status, "application",
			      c->application_number);
	if (!o)
		o = json_pack("{s:s,s:s,s:s}", "number", c->number, "cert_type", c->cert_type, "status", c->status);
	json_object_set_new(o, "hash", json_string(c->hash));
	json_object_set_new(o, "leaf_index", c->leaf_index >= 0 ? json_integer(c->leaf_index) : json_null());
	if (c->revoked_at) {
		json_object_set_new(o, "revoked_at", json_integer(c->revoked_at));
		json_object_set_new(o, "revoke_reason", json_string(c->revoke_reason ? c->revoke_reason : ""));
	}
	return o;
}

static json_t *page_ctx(struct req *r, const char *title)
{
	json_t *ctx = json_object();
	json_object_set_new(ctx, "title", json_string(title));
	const char *csrf = identity_csrf_token(r);
	if (csrf)
		json_object_set_new(ctx, "csrf", json_string(csrf));
	return ctx;
}

/* ---- wallet ----------------------------------------------------------------------------- */

static json_t *wallet_rows(struct req *r, int *rc)
{
	struct cert *v;
	size_t n;
	json_t *rows = aj(r, json_array());
	if ((*rc = cert_list_held(r->db, r->arena, holder_of(r), &v, &n)))
		return rows;
	for (size_t i = 0; i < n; i++)
		json_array_append_new(rows, cert_summary(r, &v[i]));
	return rows;
}

static int wallet_page(struct req *r)
{
	int rc;
	json_t *rows = wallet_rows(r, &rc);
	if (rc)
		return rc;
	size_t i;
	json_t *o;
	json_array_foreach(rows, i, o)
	{
		const char *no = json_string_value(json_object_get(o, "number"));
		json_object_set_new(o, "href", json_sprintf("/certs/%s", no));
		json_object_set_new(o, "pdf_href", json_sprintf("/certs/%s/pdf", no));
		json_object_set_new(o, "json_href", json_sprintf("/certs/%s/json", no));
		json_object_set_new(o, "is_revoked", json_boolean(!strcmp(json_string_value(json_object_get(o, "status")), "revoked")));
	}
	json_t *ctx = page_ctx(r, M(r, "certs_wallet_title"));
	json_object_set_new(ctx, "nav_wallet", json_true());
	json_object_set(ctx, "rows", rows);
	json_object_set_new(ctx, "has_rows", json_boolean(json_array_size(rows) > 0));
	/* Other domains' parts of the wallet (src/fedwallet: other halls' certificates). */
	if ((rc = page_sections_run(r, "certs.wallet", NULL, ctx))) {
		json_decref(ctx);
		return rc;
	}
	return resp_page(r, 200, "certs/wallet", ctx);
}

static int api_wallet(struct req *r)
{
	int rc;
	json_t *rows = wallet_rows(r, &rc);
	if (rc)
		return rc;
	return resp_json(r, 200, json_pack("{s:O,s:I}", "items", rows, "total", (json_int_t)json_array_size(rows)));
}

/* ---- one certificate -------------------------------------------------------------------- */

static const char *status_text(struct req *r, const char *status)
{
	if (!strcmp(status, "valid"))
		return M(r, "certs_status_valid");
	if (!strcmp(status, "revoked"))
		return M(r, "certs_status_revoked");
	return M(r, "certs_unknown");
}

/* The verification result as template context (shared by the certificate and verify pages). */
static json_t *result_view(struct req *r, json_t *res)
{
	json_t *v = json_deep_copy(res);
	const char *st = json_string_value(json_object_get(res, "status"));
	json_object_set_new(v, "status_text", json_string(status_text(r, st)));
	json_object_set_new(v, "is_valid", json_boolean(!strcmp(st, "valid")));
	json_object_set_new(v, "is_revoked", json_boolean(!strcmp(st, "revoked")));
	json_object_set_new(v, "is_unknown", json_boolean(!strcmp(st, "unknown")));
	const char *kind = json_string_value(json_object_get(res, "kind"));
	if (kind && !strcmp(kind, "receipt")) {
		/* A receipt: what it records, where, and each check of the log. */
		static const char *const names[][2] = { { "leaf_hash", "certs_check_leaf_hash" },
							{ "origin", "certs_check_origin" },
							{ "signature", "certs_check_checkpoint" },
							{ "inclusion", "certs_check_inclusion" },
							{ "in_log", "certs_check_in_log" } };
		json_t *rc = json_object_get(res, "checks"), *list = json_array();
		for (size_t i = 0; i < ARRAY_LEN(names); i++)
			json_array_append_new(list, json_pack("{s:b,s:s}", "ok", json_is_true(json_object_get(rc, names[i][0])),
							      "label", view_msg(r->app->view, r->lang, names[i][1])));
		json_object_set_new(v, "is_receipt", json_true());
		json_object_set_new(v, "receipt_checks", list);
		const char *lk = json_string_value(json_object_get(res, "leaf_kind"));
		const char *key = arena_printf(r->arena, "ledger_kind_%s", lk ? lk : "");
		const char *name = view_msg(r->app->view, r->lang, key);
		json_object_set_new(v, "leaf_kind_name", json_string(name && strcmp(name, key) ? name : (lk ? lk : "")));
		return aj(r, v);
	}
	if (kind && strcmp(kind, "certificate") != 0) {
		/* Another domain's document: its fields and checks as it gives them. */
		json_object_set_new(v, "is_document", json_true());
		return aj(r, v);
	}
	json_t *c = json_object_get(res, "certificate");
	if (c) {
		json_t *tn = json_object_get(c, "cert_type_name"), *iss = json_object_get(c, "issuer");
		json_object_set(v, "type_name", json_object_get(tn, en(r) ? "en" : "zh"));
		json_object_set(v, "issuer_name", json_object_get(iss, en(r) ? "name_en" : "name_zh"));
		json_t *fields = json_array();
		size_t i;
		json_t *f;
		json_array_foreach(json_object_get(c, "content"), i, f)
		{
			const char *val = json_string_value(json_object_get(f, en(r) && json_object_get(f, "value_en") ? "value_en" : "value"));
			json_array_append_new(fields, json_pack("{s:O,s:s}", "label", json_object_get(f, en(r) ? "label_en" : "label_zh"),
								"value", val ? val : ""));
		}
		json_object_set_new(v, "fields", fields);
	}
	json_t *checks = json_object_get(res, "checks");
	json_object_set_new(v, "sig_ok", json_boolean(json_is_true(json_object_get(checks, "signature"))));
	json_object_set_new(v, "log_ok", json_boolean(json_is_true(json_object_get(checks, "inclusion"))));
	if (json_object_get(res, "revoked_at"))
		json_object_set_new(v, "revoked_when", json_string(req_when(r, json_integer_value(json_object_get(res, "revoked_at")))));
	return aj(r, v);
}

int cert_page_annotate(struct req *r, const void *subject, json_t *ctx)
{
	const struct case_page_ref *ref = subject;
	const char **nums;
	size_t n;
	int rc = cert_numbers_of_application(r->db, r->arena, ref->id, &nums, &n);
	if (rc || n == 0)
		return rc;
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		struct cert c;
		if ((rc = cert_get(r->db, r->arena, nums[i], &c))) {
			json_decref(arr);
			return rc;
		}
		json_t *sum = aj(r, cert_summary(r, &c));
		json_t *o = json_pack("{s:s,s:s}", "number", c.number, "href", arena_printf(r->arena, "/certs/%s", c.number));
		json_object_set(o, "type_name", json_object_get(sum, "cert_type_name"));
		json_object_set_new(o, "revoked", json_boolean(strcmp(c.status, "valid") != 0));
		json_array_append_new(arr, o);
	}
	json_object_set_new(ctx, "certificates", arr);
	return 0;
}

static int cert_page(struct req *r)
{
	struct cert c;
	int rc = cert_ready(r, cert_page, &c);
	if (rc)
		return rc;
	json_t *res = aj(r, cert_verify_online(r, c.number, c.hash, NULL));
	json_t *ctx = page_ctx(r, M(r, "certs_e_certificate"));
	json_object_set(ctx, "cert", result_view(r, res));
	json_object_set_new(ctx, "number", json_string(c.number));
	json_object_set_new(ctx, "pdf_href", json_sprintf("/certs/%s/pdf", c.number));
	json_object_set_new(ctx, "json_href", json_sprintf("/certs/%s/json", c.number));
	json_object_set_new(ctx, "verify_href", json_sprintf("/verify/certificates/%s?h=%s", c.number, c.hash));
	json_object_set_new(ctx, "hash", json_string(c.hash));
	json_object_set_new(ctx, "is_holder", json_boolean(is_holder(r, &c)));
	/* The application that produced it, for those who may open that application. */
	if (c.application_number && (is_holder(r, &c) || r->role == ROLE_ADMIN || issuing_staff(r, &c)))
		json_object_set_new(ctx, "issued_for", json_pack("{s:s,s:s}", "number", c.application_number, "href",
								 arena_printf(r->arena, "/applications/%s",
									      c.application_number)));
	json_object_set_new(ctx, "nav_wallet", json_boolean(is_holder(r, &c)));
	const char *app = req_query(r, "application");
	if (app && strlen(app) <= 32)
		json_object_set_new(ctx, "from_application", json_pack("{s:s,s:s}", "number", app, "href",
									 arena_printf(r->arena, "/applications/%s", app)));
	if (may_revoke(r, &c))
		json_object_set_new(ctx, "may_revoke", json_true());
	if (is_holder(r, &c) || r->role == ROLE_ADMIN || issuing_staff(r, &c)) {
		struct cert_share *s;
		size_t n;
		if ((rc = cert_shares_of(r->db, r->arena, c.id, &s, &n)))
			return rc;
		json_t *shares = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(shares, json_pack("{s:s,s:s,s:s}", "application", s[i].application_number,
								"department", dept_label(r, s[i].department), "at",
								req_when(r, s[i].shared_at)));
		json_object_set_new(ctx, "has_shares", json_boolean(n > 0));
		json_object_set_new(ctx, "shares", shares);
	}
	const char *err = req_query(r, "error");
	if (err && !strcmp(err, "reason"))
		json_object_set_new(ctx, "revoke_error", json_string(M(r, "certs_give_reason_revoking")));
	return resp_page(r, 200, "certs/view", ctx);
}

static int api_cert(struct req *r)
{
	struct cert c;
	int rc = cert_ready(r, api_cert, &c);
	if (rc)
		return rc;
	json_t *doc = cert_document(r->db, r->arena, &c);
	json_t *out = cert_summary(r, &c);
	json_object_set_new(out, "document", doc);
	json_t *res = cert_verify_online(r, c.number, c.hash, NULL);
	json_object_set(out, "verification", json_object_get(res, "checks"));
	json_decref(res);
	if (is_holder(r, &c) || r->role == ROLE_ADMIN || issuing_staff(r, &c)) {
		struct cert_share *s;
		size_t n;
		if ((rc = cert_shares_of(r->db, r->arena, c.id, &s, &n))) {
			json_decref(out);
			return rc;
		}
		json_t *shares = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(shares, json_pack("{s:s,s:s,s:i,s:I,s:o}", "application", s[i].application_number,
								"department", s[i].department, "slot", s[i].slot, "shared_at",
								(json_int_t)s[i].shared_at, "leaf_index",
								s[i].leaf_index >= 0 ? json_integer(s[i].leaf_index) : json_null()));
		json_object_set_new(out, "shares", shares);
	}
	return resp_json(r, 200, out);
}

static int json_download(struct req *r)
{
	struct cert c;
	int rc = cert_ready(r, json_download, &c);
	if (rc)
		return rc;
	return certs_json_download(r, cert_document(r->db, r->arena, &c),
				   arena_printf(r->arena, "certificate-%s.json", c.number));
}

int certs_json_download(struct req *r, json_t *doc, const char *filename)
{
	char *s = jsonout_dumps(doc, JSON_INDENT(2));
	json_decref(doc);
	if (!s)
		return GH_EINTERNAL;
	arena_cleanup(r->arena, free, s);
	resp_header(r, "Content-Disposition", arena_printf(r->arena, "attachment; filename=\"%s\"", filename));
	resp_header(r, "Cache-Control", "private, no-store");
	return resp_body(r, 200, "application/json", s, strlen(s));
}

/* PDF downloads (certs.h): the document is read on the loop, drawn on the job pool, sent back
 * on the loop. */
struct pdf_job {
	char *doc;
	const struct view *v;
	certs_render_fn render;
	const char *filename;
	unsigned char *pdf;
	size_t len;
	int rc;
};

static void pdf_work(void *arg)
{
	struct pdf_job *j = arg;
	j->rc = j->render(j->doc, j->v, &j->pdf, &j->len);
}

static int pdf_done(struct req *r, void *arg)
{
	struct pdf_job *j = arg;
	if (j->rc)
		return j->rc;
	arena_cleanup(r->arena, free, j->pdf);
	resp_header(r, "Content-Disposition", arena_printf(r->arena, "attachment; filename=\"%s\"", j->filename));
	resp_header(r, "Cache-Control", "private, no-store");
	return resp_body(r, 200, "application/pdf", (const char *)j->pdf, j->len);
}

int certs_pdf_download(struct req *r, json_t *doc, certs_render_fn render, const char *filename)
{
	struct pdf_job *j = arena_zalloc(r->arena, sizeof(*j));
	j->doc = jsonout_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	if (!j->doc)
		return GH_EINTERNAL;
	arena_cleanup(r->arena, free, j->doc);
	j->v = r->app->view;
	j->render = render;
	j->filename = filename;
	return req_job(r, pdf_work, pdf_done, j);
}

static int pdf_download(struct req *r)
{
	struct cert c;
	int rc = cert_ready(r, pdf_download, &c);
	if (rc)
		return rc;
	return certs_pdf_download(r, cert_document(r->db, r->arena, &c), cert_pdf_render,
				  arena_printf(r->arena, "certificate-%s.pdf", c.number));
}

/* ---- revocation ------------------------------------------------------------------------- */

/* A revocation on the writer (write.h): the certificate as the handler found it, and the
 * reason; the writer's copy of the certificate, revoked, is answered. */
struct revocation {
	struct cert cert, done;
	const char *why;
};

static int revoke_write(struct req *w, void *p)
{
	struct revocation *v = p;
	v->done = v->cert;
	int rc = cert_revoke(w->db, w->arena, &v->done, w->who.account, v->why);
	if (!rc)
		identity_event(w->db, "cert_revoke", v->done.holder_id, w->who.account, w->ip,
			       arena_printf(w->arena, "{\"number\":\"%s\"}", v->done.number));
	return rc;
}

static int revoked(struct req *r, void *p, int rc)
{
	struct revocation *v = p;
	if (rc)
		return rc;
	if (r->api)
		return resp_json(r, 200, cert_summary(r, &v->done));
	return resp_redirect(r, 303, arena_printf(r->arena, "/certs/%s", v->done.number));
}

static int revoke(struct req *r, const char *reason)
{
	struct cert c;
	int rc = load_visible(r, req_param(r, "number"), &c);
	if (rc)
		return rc;
	if (!may_revoke(r, &c)) {
		if (strcmp(c.status, "valid") != 0) {
			req_error_detail(r, "%s", M(r, "certs_certificate_already_revoked"));
			return GH_ECONFLICT;
		}
		req_error_detail(r, "%s", M(r, "certs_only_head_issuing_department_revoke"));
		return GH_EFORBIDDEN;
	}
	size_t n = reason ? strlen(reason) : 0;
	while (n && (reason[n - 1] == ' ' || reason[n - 1] == '\n' || reason[n - 1] == '\r'))
		n--;
	if (n == 0 || n > REASON_MAX) {
		req_error_detail(r, "%s", M(r, "certs_give_reason_revoking_most_500"));
		return GH_EVALIDATION;
	}
	struct revocation *v = arena_zalloc(r->arena, sizeof(*v));
	v->cert = c;
	v->why = arena_printf(r->arena, "%.*s", (int)n, reason);
	return req_write(r, revoke_write, revoked, v);
}

static int revoke_post(struct req *r)
{
	struct kvlist f;
	int rc = req_form(r, &f);
	if (rc == GH_EUNSUPPORTED) {
		const struct multipart *m;
		if ((rc = req_multipart(r, &m, NULL)))
			return rc;
		const struct multipart_part *p = multipart_get(m, "reason");
		const char *reason = p ? p->value : NULL;
		if (!reason || !*reason)
			return resp_redirect(r, 303, arena_printf(r->arena, "/certs/%s?error=reason", req_param(r, "number")));
		return revoke(r, reason);
	}
	if (rc)
		return rc;
	const char *reason = kv_get(&f, "reason");
	if (!reason || !*reason) {
		struct cert c;
		if ((rc = load_visible(r, req_param(r, "number"), &c)))
			return rc;
		return resp_redirect(r, 303, arena_printf(r->arena, "/certs/%s?error=reason", c.number));
	}
	return revoke(r, reason);
}

static int api_revoke(struct req *r)
{
	size_t len;
	const char *body = req_body(r, &len);
	json_t *in = body && len ? json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL) : NULL;
	if (!json_is_object(in)) {
		json_decref(in);
		req_error_detail(r, "%s", M(r, "certs_body_must_json_object_reason"));
		return GH_EINVAL;
	}
	aj(r, in);
	return revoke(r, json_string_value(json_object_get(in, "reason")));
}

/* ---- verification ----------------------------------------------------------------------- */

/* Other domains' documents (certs.h certs_verify_type). */
static struct {
	const char *type, *mark;
	certs_verdict_fn fn;
} doc_types[4];
static size_t n_doc_types;

void certs_verify_type(const char *type, const char *pdf_mark, certs_verdict_fn fn)
{
	if (n_doc_types == ARRAY_LEN(doc_types))
		die("certs: more than %zu document types to verify", ARRAY_LEN(doc_types));
	doc_types[n_doc_types++] = (typeof(doc_types[0])){ type, pdf_mark, fn };
}

/* Another domain's document in buf (its JSON, or a PDF embedding it): 0 with *res from its
 * verdict function, GH_ENOTFOUND when buf is none of them. */
static int other_document(struct req *r, const char *buf, size_t len, json_t *j, json_t **res)
{
	const char *type = json_string_value(json_object_get(j, "type"));
	for (size_t i = 0; type && i < n_doc_types; i++)
		if (!strcmp(type, doc_types[i].type))
			return doc_types[i].fn(r, j, res);
	for (size_t i = 0; !j && i < n_doc_types; i++) {
		char *json;
		size_t jl;
		if (certs_pdf_embedded(r->arena, buf, len, doc_types[i].mark, &json, &jl))
			continue;
		json_t *d = json_loadb(json, jl, JSON_REJECT_DUPLICATES, NULL);
		if (!d)
			continue;
		arena_cleanup(r->arena, (void (*)(void *))json_decref, d);
		return doc_types[i].fn(r, d, res);
	}
	return GH_ENOTFOUND;
}

static int verify_limit(struct req *r)
{
	return identity_rate_limit(r, arena_printf(r->arena, "certverify:ip:%s", r->ip), VERIFY_PER_HOUR, 3600);
}

static bool hex64(const char *s)
{
	if (!s || strlen(s) != 64)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

static int verify_render(struct req *r, int status, json_t *res, const char *error)
{
	json_t *ctx = page_ctx(r, M(r, "certs_verify_e_certificate"));
	json_object_set_new(ctx, "nav_verify", json_true());
	if (res)
		json_object_set(ctx, "result", result_view(r, res));
	if (error)
		json_object_set_new(ctx, "error", json_string(error));
	return resp_page(r, status, "certs/verify", ctx);
}

static int verify_page(struct req *r)
{
	return verify_render(r, 200, NULL, NULL);
}

/* The uploaded file (multipart "file"), or the raw body for the API. */
static int uploaded(struct req *r, const char **buf, size_t *len)
{
	const struct multipart *m;
	int rc = req_multipart(r, &m, NULL);
	if (rc == 0) {
		const struct multipart_part *p = multipart_get(m, "file");
		if (!p || !p->filename || p->len == 0) {
			req_error_detail(r, "%s", M(r, "certs_choose_certificate_file_verify_pdf"));
			return GH_EVALIDATION;
		}
		*buf = p->data;
		*len = p->len;
		return 0;
	}
	if (rc != GH_EUNSUPPORTED || !r->api)
		return rc;
	*buf = req_body(r, len);
	if (!*buf || !*len) {
		req_error_detail(r, "%s", M(r, "certs_body_must_certificate_s_pdf"));
		return GH_EINVAL;
	}
	return 0;
}

static int verify_upload(struct req *r, json_t **res)
{
	int rc;
	const char *buf;
	size_t len;
	if ((rc = uploaded(r, &buf, &len)))
		return rc;
	/* A receipt is JSON of the receipt type: the log checks it. Anything else is read as a
	 * certificate (JSON or PDF), whose parser says what a file that is neither lacks. */
	json_t *j = len <= CERT_DOC_MAX ? json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL) : NULL;
	if (j) {
		arena_cleanup(r->arena, (void (*)(void *))json_decref, j);
		const char *type = json_string_value(json_object_get(j, "type"));
		if (json_is_object(j) && type && strcmp(type, LEDGER_RECEIPT_TYPE) == 0)
			return ledger_receipt_verdict(r, j, res);
	}
	if ((rc = other_document(r, buf, len, json_is_object(j) ? j : NULL, res)) != GH_ENOTFOUND)
		return rc;
	struct cert_doc d;
	struct cert_why why;
	if (cert_doc_parse(r->arena, buf, len, &d, &why)) {
		req_error_detail(r, "%s", cert_why_text(r->arena, r->app->view, r->lang, &why));
		return GH_EVALIDATION;
	}
	*res = cert_verify_online(r, NULL, NULL, &d);
	return 0;
}

static int verify_link(struct req *r, json_t **res)
{
	const char *number = req_param(r, "number"), *h = req_query(r, "h");
	if (!hex64(h)) {
		req_error_detail(r, "%s", M(r, "certs_verification_link_incomplete_certificate_s"));
		return GH_EVALIDATION;
	}
	*res = cert_verify_online(r, number, h, NULL);
	return 0;
}

/* Every verifying route: the caller's limit first; then, once the log has signed every leaf
 * it holds (the leaf of the document uploaded or linked is known only inside:
 * ledger_signed_then), the verdict on the document uploaded (POST) or linked ({number}), as
 * JSON for the API, else on the page (422 with the problem for a document that is none). */
static int verify_answer(struct req *r, void *arg)
{
	(void)arg;
	json_t *res = NULL;
	bool link = req_param(r, "number") != NULL;
	int rc = link ? verify_link(r, &res) : verify_upload(r, &res);
	if (r->api)
		return rc ? rc : resp_json(r, 200, res);
	if (rc == GH_EVALIDATION)
		return verify_render(r, 422, NULL, r->error_detail);
	if (rc)
		return rc;
	aj(r, res);
	if (link)
		resp_header(r, "Referrer-Policy", "no-referrer");
	return verify_render(r, 200, res, NULL);
}

static int verify(struct req *r)
{
	int rc = verify_limit(r);
	return rc ? rc : ledger_signed_then(r, LEDGER_HEAD, verify_answer, NULL);
}

const struct route cert_routes[] = {
	{ HTTP_GET, "/wallet", wallet_page, APPLICANTS, 0, "certs.wallet" },
	{ HTTP_GET, "/certs/{number}", cert_page, ROLE_USER, 0, "certs.view" },
	{ HTTP_GET, "/certs/{number}/pdf", pdf_download, ROLE_USER, 0, "certs.pdf" },
	{ HTTP_GET, "/certs/{number}/json", json_download, ROLE_USER, 0, "certs.json" },
	{ HTTP_POST, "/certs/{number}/revoke", revoke_post, ROLE_STAFF, ROUTE_CSRF, "certs.revoke" },
	{ HTTP_GET, "/verify", verify_page, ROLE_PUBLIC, 0, "certs.verify" },
	{ HTTP_POST, "/verify", verify, ROLE_PUBLIC, ROUTE_CSRF, "certs.verify_post" },
	{ HTTP_GET, "/verify/certificates/{number}", verify, ROLE_PUBLIC, 0, "certs.verify_link" },
	{ HTTP_GET, "/api/v1/wallet", api_wallet, APPLICANTS, 0, "certs.api_wallet", NULL, SCOPE_APPLY },
	{ HTTP_GET, "/api/v1/certs/{number}", api_cert, ROLE_USER, 0, "certs.api_get", NULL, SCOPE_APPLY },
	{ HTTP_GET, "/api/v1/certs/{number}/pdf", pdf_download, ROLE_USER, 0, "certs.api_pdf", NULL, SCOPE_APPLY },
	{ HTTP_POST, "/api/v1/certs/{number}/revoke", api_revoke, ROLE_STAFF, 0, "certs.api_revoke", NULL, SCOPE_APPLY },
	{ HTTP_POST, "/api/v1/verify", verify, ROLE_PUBLIC, 0, "certs.api_verify" },
	{ HTTP_GET, "/api/v1/verify/certificates/{number}", verify, ROLE_PUBLIC, 0, "certs.api_verify_link" },
};
const size_t cert_routes_n = ARRAY_LEN(cert_routes);
