/* pages_impl.h: what the cases module's page files share, one file per screen: apply.c
 * (applying: the form, uploads, drafts), detail.c (my applications, one application's page
 * with its timeline and action forms, the public progress query),
 * console.c (the staff queue and the overdue list), counter.c (counter intake, kiosk mode and
 * the printable receipt), bundles.c (a bundle's one form and progress).
 *
 * - Every page context starts with cases_page_ctx(): the title, the CSRF token for forms and,
 *   in kiosk mode (the kiosk cookie), "kiosk": true, which the layout turns into a "kiosk"
 *   class on <body> and the idle log-out script (static/js/kiosk.js).
 * - The apply form is one renderer (cases_apply_render) and one reader of its posted
 *   multipart body (cases_apply_read) for both the citizen's own application and the counter
 *   clerk's intake on a citizen's behalf; struct apply_view says which.
 * - JSON values made here are owned by r->arena (arena_json) unless said otherwise.
 */
#ifndef GH_CASES_PAGES_IMPL_H
#define GH_CASES_PAGES_IMPL_H
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "catalog/catalog.h"
#include "http/handler.h"
#include "http/http.h"

#define KIOSK_COOKIE "kiosk"
/* Who may call the page routes. */
#define APPLICANTS (ROLE_CITIZEN | ROLE_AGENT | ROLE_ENTERPRISE)
#define CASE_VIEWERS (APPLICANTS | ROLE_STAFF | ROLE_ADMIN)

/* Hands j to the request's arena (decref when the request ends); returns j. */
static inline json_t *arena_json(struct req *r, json_t *j)
{
	if (j)
		arena_cleanup(r->arena, (void (*)(void *))json_decref, j);
	return j;
}

/* True when the browser is a self-service kiosk (the kiosk cookie set by GET /kiosk). */
bool cases_kiosk(const struct req *r);

/* A new page context (owned by the caller, stolen by resp_page): title, csrf, kiosk. */
json_t *cases_page_ctx(struct req *r, const char *title);

/* The error summary: ctx.errors [{field, message}] and ctx.has_errors. set steals list. */
void cases_set_errors(json_t *ctx, json_t *list);
void cases_add_error(json_t *list, const char *anchor, const char *message);

/* The item's name in the request's language. */
const char *cases_item_name(struct req *r, const struct catalog_service *s);

/* The apply form of one item, as shown and as posted. */
struct apply_view {
	struct catalog_service svc;
	json_t *def, *mdefs;  /* the item's form and materials (borrowed) */
	json_t *values;       /* what to show in the fields (borrowed; may be NULL) */
	json_t *errors;       /* key -> message (borrowed; may be NULL) */
	json_t *kept;         /* per slot: array of {id, filename} (borrowed; may be NULL) */
	json_t *ecerts;       /* per slot: e-certificate chosen (string) or null (borrowed; may be NULL) */
	json_t *saved;        /* a draft's sealed personal fields: key -> mask; left empty, a field
			       * keeps its saved value (borrowed; may be NULL) */
	int64_t draft_id;
	const char *key;      /* idempotency key */
	const char *notice;
	/* Counter intake (counter.c): the form posts to `action` and carries `intake` (borrowed:
	 * {applicant_name, id_mask, ticket, code}) into the template; no drafts. NULL for a
	 * citizen's own application (posts to /services/{code}/apply). */
	const char *action;
	json_t *intake;
	/* A bundle's one form (bundles.c): `bundle` (borrowed: {code, counter_items: [{name,
	 * href}]}) goes into the template; svc carries the bundle's code and names; def is the
	 * union of the items' fields and mdefs their materials one after the other, each with
	 * "_item" (the item's name) for a heading; the form posts to `action`; drafts are kept in the
	 * bundle's row (draft_id is then the bundle application's id). */
	json_t *bundle;
	/* Files posted with the form (cases_apply_read), not yet stored: in kept and the
	 * materials by their provisional ids (cases_upload_ref). */
	struct case_upload *ups;
	size_t nups;
};

/* Loads the current version of item code and its form and material definitions into v
 * (zeroed first). GH_ENOTFOUND (with a detail) for an unknown item. */
int cases_apply_load(struct req *r, const char *code, struct apply_view *v);

/* A fresh idempotency key for one rendering of the form (32 hex digits, arena). */
const char *cases_new_key(struct req *r);

/* Fills v with a draft's form values and materials (JSON texts as stored, NULL = none): the
 * values (sealed personal values stay out of the page: v->saved gets their masks), the kept
 * files and e-certificates per slot, and the "draft saved" notice after ?done=draft. */
void cases_apply_resume(struct req *r, struct apply_view *v, const char *form, const char *materials);
/* Only v->saved, from a draft's stored form: for showing the form again after an error. */
void cases_apply_saved(struct req *r, struct apply_view *v, const char *form);

/* Renders the apply form (templates/cases/apply) with status. */
int cases_apply_render(struct req *r, int status, const struct apply_view *v);

/* Reads the posted apply form (multipart/form-data) for v's item: the fields into v->values,
 * the idempotency key into v->key, a draft id into v->draft_id, kept files (still the
 * caller's) and new uploads (stored as attachments owned by the caller) into v->kept and
 * *materials (case_apply_in's shape), e-certificates into v->ecerts; *submit is false for the
 * "save as draft" button. A refused file (too large, wrong type) is not an error: *refused
 * gets GH_ETOOBIG or GH_EUNSUPPORTED and v->errors says which, for the caller to show the
 * form again with err_status(*refused); else *refused is 0. Returns 0, or a code (with a
 * detail) for a body that is not a well-formed multipart form, or a store error. Field names
 * other than the item's (_csrf aside: intake_* ...) are left in v->values for the caller. */
int cases_apply_read(struct req *r, struct apply_view *v, json_t **materials, bool *submit, int *refused);
/* The form again (422) with v->errors, after the files posted with it are stored, so they are
 * offered again as kept (cases_keep_uploads). */
int cases_apply_render_refused(struct req *r, struct apply_view *v);

/* One application as a row of a list ("My applications", a bundle's progress): number, href,
 * item_name, state, state_name, due_day, submitted, light, light_text ... (new reference). */
json_t *cases_row_view(struct req *r, const struct application *app, int32_t today);

/* The caller's bundle applications (the enterprise's when acting for one), newest first, at
 * most 20, as rows {number, href, name, status, status_text, progress} (new reference). */
int bundles_mine_rows(struct req *r, json_t **out);

/* Shared view helpers (page.c). */
/* The light of a case as words and a class ("light_text", "light" in out), from case_json's
 * light, working_days_left and paused in cj. */
void cases_light_view(struct req *r, json_t *cj, json_t *out);
/* A positive decimal id, or 0 when s is absent or malformed. */
int64_t cases_parse_id(const char *s);
/* "12 bytes", "3.4 KB", "1.2 MB" (arena). */
const char *cases_size_label(struct req *r, int64_t size);
/* The name of material slot `slot` of mdefs in the request's language ("#n" when unnamed). */
const char *cases_material_name(struct req *r, json_t *mdefs, json_int_t slot);
/* The name of an e-certificate type (its code when the catalogs lack it). */
const char *cases_ecert_name(struct req *r, const char *code);
/* Previous / next links of a list page at base, keeping the other query parameters; false
 * when there is one page (new reference). */
json_t *cases_pagination(struct req *r, const char *base, long page, long per, long total);

/* Uploads (apply.c). */
struct multipart;
struct case_upload;

/* The parsed multipart body of the request (parts in its arena). GH_EUNSUPPORTED for another
 * content type, GH_EINVAL / GH_ETOOBIG, each with a detail. */
int cases_read_multipart(struct req *r, struct multipart *mp);
/* Checks every non-empty file part named material_<slot> (slot < nslots), to be stored as an
 * attachment of the caller with what it comes with (cases_write_uploads, on the writer).
 * Limits: cfg.max_upload per file, cfg.max_upload_total over all. On a refused file returns
 * GH_ETOOBIG or GH_EUNSUPPORTED with errs[material_<slot>] set; on success *ups lists the
 * files (arena). Reads nothing, writes nothing. */
int cases_check_uploads(struct req *r, const struct multipart *mp, size_t nslots, json_t *errs, struct case_upload **ups,
			size_t *nups);

#endif
