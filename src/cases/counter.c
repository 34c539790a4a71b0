/* counter.c: the hall's in-person channels and the printable receipt.
 *
 * - Counter intake (窗口收件): a clerk with the counter duty takes in a walk-in citizen's
 *   application for an item of the clerk's own department. GET /staff/intake shows the form
 *   for the item and the citizen's ID number; POST /staff/intake finds the citizen's account
 *   (never creates one: the citizen registers at a kiosk or online first) and sends the clerk
 *   on to GET /staff/intake/{code}?applicant=<ticket>, which shows the masked ID number and
 *   name to confirm, and the item's apply form; POST /staff/intake/{code} files it through
 *   case_apply_async with the citizen as applicant, the clerk as filer and channel "counter". The
 *   uploaded scans belong to the clerk until linked, which is what case_apply_prepare checks.
 * - Kiosk mode (自助终端): GET /kiosk sets the kiosk cookie (a session cookie, so a kiosk's
 *   browser sets it again from its start address) and shows the start page; pages built with
 *   cases_page_ctx then carry the kiosk flag (large targets, the idle log-out script);
 *   applications filed from a kiosk get channel "kiosk" (apply.c). GET /kiosk/exit clears it.
 * - The receipt (受理回执): GET /applications/{number}/receipt, for the applicant and staff
 *   of the department (administrators too, as the detail page); print stylesheet in site.css.
 *
 * The ID number is typed once, posted, and never shown back nor put in an address (where
 * browser histories and proxies' logs would keep it): the pages after the look-up carry a
 * ticket instead, "<account>.<expiry>.<mac>", the mac a keyed hash (crypto_blind_index, field
 * "intake-ticket") of the clerk, the account and the expiry, so only the clerk who looked the
 * citizen up can use it, for TICKET_TTL seconds.
 *
 * Other domains are reached through their public headers only (identity_find_individual,
 * catalog_department_get, catalog_department_services). */
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/sb.h"
#include "base/util.h"
#include "cases/cases_impl.h"
#include "cases/pages_impl.h"
#include "cases/ticket.h"
#include "catalog/catalog.h"
#include "http/msg.h"
#include "http/server.h"
#include "identity/crypto.h"
#include "identity/idcheck.h"
#include "identity/identity.h"
#include "view/view.h"

#define INTAKE_LOOKUPS_PER_HOUR 600 /* ID-number look-ups per clerk: a busy counter, not a scraper */
#define INTAKE_ITEMS_MAX 500        /* items listed in the picker (a department has far fewer) */
#define TICKET_FIELD "intake_applicant" /* the hidden field of the intake form */
#define TICKET_TTL 7200                  /* seconds a look-up stays good for its form */

static void no_store(struct req *r)
{
	resp_header(r, "Cache-Control", "no-store");
}

/* ---- counter intake ------------------------------------------------------------------- */

/* 0 when the caller is a clerk with the counter duty; GH_EFORBIDDEN with a detail else. */
static int clerk_check(struct req *r)
{
	if (r->role == ROLE_STAFF && r->who.department && (r->who.staff_roles & STAFF_COUNTER))
		return 0;
	req_error_detail(r, "%s", M(r, "cases_counter_intake_needs_counter_duty"));
	return GH_EFORBIDDEN;
}

/* Loads item code into v; GH_ENOTFOUND, or GH_EFORBIDDEN when it is another department's
 * (both with a detail). */
static int intake_item(struct req *r, const char *code, struct apply_view *v)
{
	if (!code || !*code || strlen(code) > 64) {
		req_error_detail(r, "%s", M(r, "cases_there_such_service"));
		return GH_ENOTFOUND;
	}
	int rc = cases_apply_load(r, code, v);
	if (rc)
		return rc;
	if (!v->svc.department || strcmp(v->svc.department, r->who.department) != 0) {
		req_error_detail(r, "%s", M(r, "cases_service_belongs_another_department_cannot"));
		return GH_EFORBIDDEN;
	}
	return 0;
}

/* 0 for an active account; GH_ECONFLICT with *why for a disabled one. */
static int intake_active(struct req *r, const struct identity_person *acc, const char **why)
{
	if (acc->status && strcmp(acc->status, "active") == 0)
		return 0;
	*why = M(r, "cases_applicant_s_account_disabled_so");
	return GH_ECONFLICT;
}

/* The citizen an ID number designates. norm gets the normalised number. GH_EINVAL (not a
 * valid ID number), GH_ENOTFOUND (no individual account) or GH_ECONFLICT (account disabled),
 * each with *why set for the form; other codes are errors. */
static int intake_citizen(struct req *r, const char *idn, char norm[32], struct identity_person *acc, const char **why)
{
	size_t n = idn ? idcheck_normalize(idn, strlen(idn), norm, 32) : 0;
	enum idcheck_err ie = n ? idcheck_id_number(norm, n) : IDCHECK_LENGTH;
	if (!idn || !*idn) {
		*why = M(r, "cases_enter_applicant_s_resident_id");
		return GH_EINVAL;
	}
	if (ie != IDCHECK_OK) {
		*why = M(r, idcheck_reason(ie, "id_number"));
		return GH_EINVAL;
	}
	char key[64];
	snprintf(key, sizeof(key), "intake:%lld", (long long)r->who.account);
	int rc = identity_rate_limit(r, key, INTAKE_LOOKUPS_PER_HOUR, 3600);
	if (rc)
		return rc;
	rc = identity_find_individual(r->app, r->db, r->arena, norm, acc);
	if (rc == GH_ENOTFOUND) {
		*why = M(r, "cases_individual_account_registered_id_number");
		return rc;
	}
	return rc ? rc : intake_active(r, acc, why);
}

/* The mac of a ticket for account, valid until expires, for the calling clerk. */
static void ticket_mac(struct req *r, int64_t account, int64_t expires, char out[CRYPTO_HASH_HEX + 1])
{
	char msg[96];
	int n = snprintf(msg, sizeof(msg), "%lld.%lld.%lld", (long long)r->who.account, (long long)account,
			 (long long)expires);
	crypto_blind_index(r->app->keys, "intake-ticket", msg, (size_t)n, out);
}

static const char *ticket_make(struct req *r, int64_t account)
{
	int64_t expires = (int64_t)time(NULL) + TICKET_TTL;
	char mac[CRYPTO_HASH_HEX + 1];
	ticket_mac(r, account, expires, mac);
	return arena_printf(r->arena, "%lld.%lld.%.*s", (long long)account, (long long)expires, TICKET_MAC, mac);
}

/* The account a ticket names, when it is this clerk's and still good. */
static int ticket_check(struct req *r, const char *t, int64_t *account)
{
	struct intake_ticket tk;
	if (!t || ticket_parse(t, strlen(t), &tk) || tk.expires < (int64_t)time(NULL))
		return GH_EINVAL;
	char mac[CRYPTO_HASH_HEX + 1];
	ticket_mac(r, tk.account, tk.expires, mac);
	mac[TICKET_MAC] = 0;
	if (!crypto_str_equal(mac, tk.mac))
		return GH_EINVAL;
	*account = tk.account;
	return 0;
}

/* The citizen a ticket names, active. GH_EINVAL (no good ticket) or GH_ECONFLICT (account
 * disabled) with *why set for the start page; other codes are errors. */
static int intake_ticket(struct req *r, const char *ticket, struct identity_person *acc, const char **why)
{
	int64_t id;
	if (ticket_check(r, ticket, &id)) {
		*why = M(r, "cases_enter_applicant_s_resident_id_2");
		return GH_EINVAL;
	}
	int rc = identity_person_get(r->db, r->arena, id, acc);
	if (rc == GH_ENOTFOUND) {
		*why = M(r, "cases_enter_applicant_s_resident_id_2");
		return GH_EINVAL;
	}
	return rc ? rc : intake_active(r, acc, why);
}

struct intake_start {
	const char *item, *id_number;  /* what was entered (may be NULL) */
	const char *err_item, *err_id; /* messages (NULL: none) */
};

/* The start page: the department's items and the citizen's ID number. */
static int intake_start_render(struct req *r, int status, const struct intake_start *f)
{
	json_t *ctx = cases_page_ctx(r, M(r, "counter_title"));
	json_object_set_new(ctx, "nav_intake", json_true());
	struct catalog_department d;
	int rc = catalog_department_get(r->db, r->arena, r->who.department, &d);
	if (rc && rc != GH_ENOTFOUND) {
		json_decref(ctx);
		return rc;
	}
	if (!rc)
		jset(ctx, "department_name", en(r) && d.name_en && *d.name_en ? d.name_en : d.name_zh);
	struct catalog_service *items;
	size_t n;
	if ((rc = catalog_department_services(r->db, r->arena, r->who.department, INTAKE_ITEMS_MAX, &items, &n))) {
		json_decref(ctx);
		return rc;
	}
	json_t *opts = json_array();
	for (size_t i = 0; i < n; i++) {
		if (items[i].online_depth < 1)
			continue;
		const char *name = en(r) && items[i].name_en && *items[i].name_en ? items[i].name_en : items[i].name_zh;
		json_array_append_new(opts, json_pack("{s:s,s:s,s:b}", "value", items[i].code, "label",
						      arena_printf(r->arena, "%s（%s）", name, items[i].code), "selected",
						      f->item && strcmp(f->item, items[i].code) == 0));
	}
	json_object_set_new(ctx, "has_items", json_boolean(json_array_size(opts) > 0));
	json_object_set_new(ctx, "items", opts);
	jset(ctx, "err_item", f->err_item);
	jset(ctx, "err_id", f->err_id);
	json_t *v = json_object();
	jset(v, "id_number", f->id_number && strlen(f->id_number) <= 32 ? f->id_number : NULL);
	json_object_set_new(ctx, "v", v);
	json_t *list = json_array();
	if (f->err_item)
		cases_add_error(list, "item", f->err_item);
	if (f->err_id)
		cases_add_error(list, "id_number", f->err_id);
	cases_set_errors(ctx, list);
	no_store(r);
	return resp_page(r, status, "cases/intake", ctx);
}

/* The status a look-up failure shows the start page with. */
static int lookup_status(int rc)
{
	return rc == GH_EINVAL ? 422 : err_status(rc);
}

/* GET /staff/intake[?item=]: the form (the item preselected). */
static int cases_intake_start(struct req *r)
{
	int rc = clerk_check(r);
	if (rc)
		return rc;
	struct intake_start f = { .item = req_query(r, "item") };
	return intake_start_render(r, 200, &f);
}

/* POST /staff/intake: item, id_number -> the citizen looked up, on to the item's intake form. */
static int cases_intake_lookup(struct req *r)
{
	int rc = clerk_check(r);
	if (rc)
		return rc;
	struct kvlist form;
	if ((rc = req_form(r, &form)))
		return rc;
	const char *item = kv_get(&form, "item"), *idn = kv_get(&form, "id_number");
	struct intake_start f = { .item = item, .id_number = idn };
	int status = 422;
	struct apply_view v;
	if (!item || !*item) {
		f.err_item = M(r, "cases_choose_service_take");
	} else if ((rc = intake_item(r, item, &v))) {
		if (rc != GH_ENOTFOUND && rc != GH_EFORBIDDEN)
			return rc;
		f.err_item = r->error_detail;
		r->error_detail = NULL;
		status = err_status(rc);
	}
	char norm[32];
	struct identity_person acc;
	if (!f.err_item && (rc = intake_citizen(r, idn, norm, &acc, &f.err_id))) {
		if (rc != GH_EINVAL && rc != GH_ENOTFOUND && rc != GH_ECONFLICT)
			return rc;
		status = lookup_status(rc);
	} else if (f.err_item && (!idn || !*idn)) {
		f.err_id = M(r, "cases_enter_applicant_s_resident_id");
	}
	if (f.err_item || f.err_id)
		return intake_start_render(r, status, &f);
	struct sb loc = SB_INIT;
	sb_adds(&loc, "/staff/intake/");
	sb_add_urlenc(&loc, v.svc.code, strlen(v.svc.code));
	sb_adds(&loc, "?applicant=");
	sb_adds(&loc, ticket_make(r, acc.id));
	const char *to = arena_strndup(r->arena, loc.buf, loc.len);
	sb_release(&loc);
	no_store(r);
	return resp_redirect(r, 303, to);
}

/* The intake bits of the apply form: whom it is for, where it posts. */
static void intake_view(struct req *r, struct apply_view *v, const struct identity_person *acc, const char *ticket)
{
	v->action = arena_printf(r->arena, "/staff/intake/%s", v->svc.code);
	v->intake = arena_json(r, json_pack("{s:s,s:s,s:s,s:s}", "applicant_name", acc->name ? acc->name : "", "id_mask",
					    acc->id_mask ? acc->id_mask : "", "ticket", ticket, "code", v->svc.code));
}

/* GET /staff/intake/{code}?applicant=<ticket>: confirms the citizen, shows the form. */
static int cases_intake_form(struct req *r)
{
	int rc = clerk_check(r);
	if (rc)
		return rc;
	struct apply_view v;
	if ((rc = intake_item(r, req_param(r, "code"), &v)))
		return rc;
	const char *ticket = req_query(r, "applicant");
	struct intake_start f = { .item = v.svc.code };
	if (!ticket)
		return intake_start_render(r, 200, &f);
	struct identity_person acc;
	if ((rc = intake_ticket(r, ticket, &acc, &f.err_id))) {
		if (rc != GH_EINVAL && rc != GH_ECONFLICT)
			return rc;
		return intake_start_render(r, lookup_status(rc), &f);
	}
	v.key = cases_new_key(r);
	intake_view(r, &v, &acc, ticket);
	no_store(r);
	return cases_apply_render(r, 200, &v);
}

/* After the write of cases_intake_post: the form again with what is wrong, or on to the
 * application filed. */
static int intake_post_done(struct req *r, const struct case_apply_in *ai, struct application *app, json_t *errors,
			    int rc)
{
	struct apply_view *v = ai->ctx;
	if (rc == GH_EVALIDATION) {
		v->errors = errors;
		return cases_apply_render_refused(r, v);
	}
	if (rc == GH_ECONFLICT && r->error_detail) {
		/* The service layer refuses the item through this channel (e.g. not applicable
		 * online): say why on the form rather than on an error page. */
		v->errors = arena_json(r, json_pack("{s:s}", "materials", r->error_detail));
		r->error_detail = NULL;
		return cases_apply_render(r, 409, v);
	}
	if (rc)
		return rc;
	if (!app->number)
		return GH_ECONFLICT;
	return resp_redirect(r, 303, arena_printf(r->arena, "/applications/%s?done=intake", app->number));
}

/* POST /staff/intake/{code} (multipart/form-data): files the application for the citizen. */
static int cases_intake_post(struct req *r)
{
	int rc = clerk_check(r);
	if (rc)
		return rc;
	struct apply_view v;
	if ((rc = intake_item(r, req_param(r, "code"), &v)))
		return rc;
	json_t *materials;
	bool submit;
	int refused;
	if ((rc = cases_apply_read(r, &v, &materials, &submit, &refused)))
		return rc;
	/* Whom it is for: the hidden field, checked again (it is only what the page sent). */
	const char *ticket = json_string_value(json_object_get(v.values, TICKET_FIELD));
	ticket = ticket ? arena_strdup(r->arena, ticket) : NULL;
	json_object_del(v.values, TICKET_FIELD);
	struct intake_start f = { .item = v.svc.code };
	struct identity_person acc;
	if ((rc = intake_ticket(r, ticket, &acc, &f.err_id))) {
		if (rc != GH_EINVAL && rc != GH_ECONFLICT)
			return rc;
		return intake_start_render(r, lookup_status(rc), &f);
	}
	intake_view(r, &v, &acc, ticket);
	if (refused)
		return cases_apply_render(r, err_status(refused), &v);

	/* The counter files complete applications only: no drafts in somebody else's name. */
	struct case_apply_in ai = { .item_code = v.svc.code, .input = v.values, .materials = materials, .submit = true,
				    .idempotency_key = v.key, .channel = "counter", .applicant_id = acc.id,
				    .filed_by = r->who.account, .ups = v.ups, .nups = v.nups };
	struct apply_view *keep = arena_alloc(r->arena, sizeof(*keep));
	*keep = v;
	ai.ctx = keep;
	return case_apply_async(r, &ai, intake_post_done);
}

/* ---- kiosk mode ----------------------------------------------------------------------- */

static void kiosk_cookie(struct req *r, bool on)
{
	resp_header(r, "Set-Cookie",
		    arena_printf(r->arena, "%s=%s; Path=/; HttpOnly; SameSite=Strict%s%s", KIOSK_COOKIE, on ? "1" : "",
				 r->app->cfg.behind_tls ? "; Secure" : "", on ? "" : "; Max-Age=0"));
}

/* GET /kiosk: turns this browser into a kiosk and shows the start page. */
static int cases_kiosk_start(struct req *r)
{
	kiosk_cookie(r, true);
	json_t *ctx = cases_page_ctx(r, M(r, "kiosk_title"));
	json_object_set_new(ctx, "kiosk", json_true()); /* the cookie arrives with the next request */
	json_object_set_new(ctx, "logged_in", json_boolean(r->who.account != 0));
	no_store(r);
	return resp_page(r, 200, "cases/kiosk", ctx);
}

/* GET /kiosk/exit: back to an ordinary browser. */
static int cases_kiosk_exit(struct req *r)
{
	kiosk_cookie(r, false);
	no_store(r);
	return resp_redirect(r, 303, "/");
}

/* ---- the receipt ---------------------------------------------------------------------- */

/* GET /applications/{number}/receipt */
static int cases_receipt_page(struct req *r)
{
	struct application app;
	int rc = case_load_visible(r, req_param(r, "number"), &app);
	if (rc)
		return rc;
	bool applicant = case_is_applicant(r, &app);
	bool staff = case_is_department_staff(r, &app) || r->role == ROLE_ADMIN;
	json_t *cj = arena_json(r, case_json(&app, r->app->calendar, cases_today(), r));
	json_t *ctx = cases_page_ctx(r, MF(r, "cases_receipt_number", MA("number", app.number)));
	jset(ctx, "number", app.number);
	/* The query code lets its holder follow the progress: the applicant's, and the counter's
	 * to hand over on the printed receipt. */
	if (applicant || staff)
		jset(ctx, "query_code", app.query_code);
	jset(ctx, "item_name", json_string_value(json_object_get(cj, "item_name")));
	jset(ctx, "item_code", app.item_code);
	jset(ctx, "applicant_name", app.applicant_name);
	jset(ctx, "state_name", json_string_value(json_object_get(cj, "state_name")));
	jset(ctx, "submitted", req_when(r, app.submitted_at));
	jset(ctx, "department_name", json_string_value(json_object_get(cj, "department_name")));
	jset(ctx, "promised_limit", MF(r, "cases_limit_days_working_days", MA("limit_days", app.clock.limit_days)));
	const char *ch = app.channel;
	jset(ctx, "channel_name", !ch ? NULL
				  : strcmp(ch, "counter") == 0 ? M(r, "cases_counter")
				  : strcmp(ch, "kiosk") == 0   ? M(r, "interact_channel_kiosk")
							       : M(r, "cases_online"));
	struct catalog_department d;
	if ((rc = catalog_department_get(r->db, r->arena, app.department, &d)) && rc != GH_ENOTFOUND) {
		json_decref(ctx);
		return rc;
	}
	if (!rc) {
		jset(ctx, "department_phone", d.phone && *d.phone ? d.phone : NULL);
		jset(ctx, "department_address", en(r) && d.address_en && *d.address_en ? d.address_en : d.address_zh);
	}
	jset(ctx, "detail_href", arena_printf(r->arena, "/applications/%s", app.number));
	json_object_set_new(ctx, "is_applicant", json_boolean(applicant));
	json_object_set_new(ctx, "is_staff_view", json_boolean(staff));
	const char *done = req_query(r, "done");
	if (done && strcmp(done, "submitted") == 0)
		jset(ctx, "notice", M(r, "cases_application_submitted_print_photograph_receipt"));
	if (applicant)
		json_object_set_new(ctx, "nav_mine", json_true());
	no_store(r);
	return resp_page(r, 200, "cases/receipt", ctx);
}

const struct route cases_counter_routes[] = {
	{ HTTP_GET, "/staff/intake", cases_intake_start, ROLE_STAFF, 0, "cases.intake", .duties = STAFF_COUNTER },
	{ HTTP_POST, "/staff/intake", cases_intake_lookup, ROLE_STAFF, ROUTE_CSRF, "cases.intake_lookup", .duties = STAFF_COUNTER },
	{ HTTP_GET, "/staff/intake/{code}", cases_intake_form, ROLE_STAFF, 0, "cases.intake_form", .duties = STAFF_COUNTER },
	{ HTTP_POST, "/staff/intake/{code}", cases_intake_post, ROLE_STAFF, ROUTE_CSRF, "cases.intake_post", .duties = STAFF_COUNTER },
	{ HTTP_GET, "/applications/{number}/receipt", cases_receipt_page, CASE_VIEWERS, 0, "cases.receipt" },
	{ HTTP_GET, "/kiosk", cases_kiosk_start, ROLE_PUBLIC, 0, "cases.kiosk" },
	{ HTTP_GET, "/kiosk/exit", cases_kiosk_exit, ROLE_PUBLIC, 0, "cases.kiosk_exit" },
};
const size_t cases_counter_routes_n = ARRAY_LEN(cases_counter_routes);
