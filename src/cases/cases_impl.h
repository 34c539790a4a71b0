/* cases_impl.h: the cases module's private interface.
 *
 * - workflow.c: states and actions as data; deadline.c: working-day limits and lights;
 *   forms.c: form validation; attach.c: files on disk.
 * - store.c: the applications, events and attachments tables; transitions run in one
 *   transaction guarded by the row's version, so two concurrent actions on one application
 *   serialise and the loser gets GH_ECONFLICT.
 * - apply.c, detail.c, console.c, counter.c (pages, pages_impl.h) / api.c: citizens' and
 *   staff's pages and the JSON API.
 */
#ifndef GH_CASES_IMPL_H
#define GH_CASES_IMPL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/arena.h"
#include "base/calendar.h"
#include "cases/attach.h"
#include "cases/cases.h"
#include "cases/deadline.h"
#include "cases/workflow.h"
#include "http/http.h"

struct db;

struct application {
	int64_t id;
	const char *number;       /* NULL for drafts */
	const char *query_code;
	const char *item_code;
	int64_t item_version;
	const char *department;
	int64_t applicant_id, enterprise_id, filed_by, assigned_to;
	const char *channel, *state, *return_state;
	const char *form;         /* JSON object text as stored: personal fields sealed (sealed.c) */
	const char *materials;    /* JSON array text */
	int64_t form_key_id;      /* the key form's personal fields are sealed under (0: none) */
	const char *form_plain;   /* when the caller has it: form's plaintext, for the observers */
	/* When the write that made it has them: what case_json shows of form (masks for sealed
	 * values) and the keys masked (case_form_seal_shown), and materials as JSON, borrowed;
	 * else read from the texts. */
	json_t *form_shown, *form_masked_keys, *materials_shown;
	int64_t submitted_at, accepted_at, decided_at, completed_at, created_at, updated_at;
	struct clock_state clock;
	int32_t due_day, legal_due_day, yellow_day;
	int64_t version;
	/* joined for display */
	const char *item_name_zh, *item_name_en, *applicant_name, *dept_name_zh, *dept_name_en;
	const char *assigned_name; /* NULL when nobody has it */
	/* Only for an application not stored yet (id 0) that case_transition files and submits
	 * at once: the key of its idempotent submission (may be NULL). */
	const char *idempotency_key;
};

struct app_event {
	int64_t id, at, actor_id;
	const char *action, *from_state, *to_state, *reason, *detail, *actor_name;
};

/* What a new draft is filed under. */
struct case_new {
	const char *item_code;
	int64_t item_version;
	const char *department;
	int limit_days, legal_limit_days;
	int64_t applicant_id, enterprise_id, filed_by;
	const char *channel;
	const char *form;      /* JSON text, sealed (case_form_seal) */
	int64_t form_key_id;   /* what case_form_seal said */
	const char *materials; /* JSON text */
	const char *idempotency_key; /* may be NULL */
};

/* Creates a draft. With an idempotency key already used by this applicant, returns the id of
 * the existing application and sets *existed (a double submit creates one application). */
int case_create(struct db *db, struct arena *a, const struct case_new *in, int64_t *id, bool *existed);
int case_update_draft(struct db *db, int64_t id, int64_t version, const char *form, int64_t form_key_id,
		      const char *materials);
int case_get(struct db *db, struct arena *a, int64_t id, struct application *out);
int case_get_by_number(struct db *db, struct arena *a, const char *number, struct application *out);

/* Applies action to app (as loaded, with its version) on day `today`, in one transaction:
 * state, clock, number and query code at submission, the event with reason and detail (JSON
 * text or NULL). GH_ECONFLICT when the application changed meanwhile or the action does not
 * apply to its state. app is updated in place.
 * An application with id 0 is one not stored yet, submitted as it is filed: "submit" then
 * inserts the row already submitted (one write instead of an insert and an update);
 * GH_ECONFLICT with app->id still 0 when its idempotency key was used before. */
int case_transition(struct db *db, const struct calendar *cal, struct arena *a, struct application *app,
		    const struct wf_action *action, int64_t actor, const char *reason, const char *detail,
		    int32_t today, int64_t *event_id);

int case_events(struct db *db, struct arena *a, int64_t id, struct app_event **out, size_t *n);
/* Gives the application to a staff member (0: to nobody), recording action ("claim" or
 * "assign") in its history; version-guarded like a transition (GH_ECONFLICT). */
int case_assign(struct db *db, struct arena *a, struct application *app, int64_t assignee, int64_t actor,
		const char *action);

struct case_filter {
	int64_t applicant_id;  /* with enterprise_id 0: the applicant's own */
	int64_t enterprise_id; /* an enterprise's applications (by it or its agents) */
	const char *department;
	const char *state;     /* NULL = any (drafts excluded; a department queue: the running ones) */
	const char *light;     /* "green", "yellow", "red" or NULL */
	const char *item_code;
	bool overdue;          /* red only, any department when department is NULL */
	int64_t assigned_to;   /* only those assigned to this staff member */
	bool unassigned;       /* only those nobody has claimed */
	int32_t today;
};
int case_list(struct db *db, struct arena *a, const struct case_filter *f, long page, long per_page,
	      struct application **out, size_t *n, long *total);
/* Only the number of applications f's list would show (a covering index answers it). */
int case_count(struct db *db, struct arena *a, const struct case_filter *f, long *total);
/* A department's queue (f->department, ignoring f->light) counted by light in one pass over
 * the covering index: counts[0] green, [1] yellow, [2] red. */
int case_queue_lights(struct db *db, struct arena *a, const struct case_filter *f, long counts[3]);

/* Attachments (table attachments; files via attach.h). */
struct attachment {
	int64_t id, owner_id, application_id, size, created_at;
	int64_t enterprise_id; /* uploaded while acting for this enterprise (0: for oneself) */
	int slot;
	const char *sha256, *mime, *filename;
};
int attachment_add(struct db *db, struct arena *a, const struct attachment *in, int64_t *id);
int attachment_get(struct db *db, struct arena *a, int64_t id, struct attachment *out);
int attachment_link(struct db *db, int64_t id, int64_t owner, int64_t application, int slot, int64_t event);
int attachments_of(struct db *db, struct arena *a, int64_t application, struct attachment **out, size_t *n);

/* ---- the service layer (cases.c), shared by pages and API ------------------------------ */

int32_t cases_today(void);
bool case_is_applicant(const struct req *r, const struct application *app);
/* Fills f's applicant_id / enterprise_id with the caller's "mine" (identity_owner_of). */
void case_filter_mine(const struct req *r, struct case_filter *f);
/* An upload the caller may attach: their own, made in the capacity they act in now. */
bool case_attachment_mine(const struct req *r, const struct attachment *at);
bool case_is_department_staff(const struct req *r, const struct application *app);
/* Applicant (or agent of the applying enterprise), staff of its department, administrators. */
bool case_can_view(const struct req *r, const struct application *app);
/* The WF_* roles the caller holds for this application. */
unsigned case_actor_bits(const struct req *r, const struct application *app);
/* Loads an application by number if the caller may see it; GH_ENOTFOUND (with a detail)
 * otherwise, the same for someone else's application as for none. */
int case_load_visible(struct req *r, const char *number, struct application *app);
/* Files uploaded with a request: checked on the loop (cases_check_uploads: size and type),
 * written on the writer with what they belong to (cases_write_uploads: the blob and the
 * attachment row, owned by the caller, id set). */
struct case_upload {
	long slot;
	int64_t id;               /* set by cases_write_uploads */
	const char *filename;
	const void *data;         /* the bytes, in the request's body */
	struct attach_info info;  /* what attach_check found */
};
int cases_write_uploads(struct req *w, struct case_upload *ups, size_t n);
/* A write of the uploads alone, their ids resolved in kept afterwards, for a form refused
 * (the files are kept for the next try); then(r, arg, rc). REQ_DEFERRED, or then's result
 * when there is nothing to write. */
int cases_keep_uploads(struct req *r, struct case_upload *ups, size_t n, json_t *kept,
		       int (*then)(struct req *r, void *arg, int rc), void *arg);

/* An action on an application: a workflow action (code, reason, detail: JSON text of an
 * object), or "claim" (the caller takes it) or "assign" (a department head gives it to
 * assignee, a staff member of the department; 0 = nobody; from detail's "assignee" when
 * 0). ups: files uploaded with it, stored and linked to its event. */
struct case_act_in {
	const char *code, *reason, *detail;
	int64_t assignee;
	struct case_upload *ups;
	size_t nups;
};
/* Takes the action as the caller: checks the role, the state and the reason on the loop,
 * then writes it through the writer (http/write.h); done(r, app, ctx, rc) follows with app as
 * it is now (rc GH_EFORBIDDEN, GH_ECONFLICT (state, or changed meanwhile), GH_EVALIDATION,
 * with details, or another GH_E code). Returns what done returns, or REQ_DEFERRED. */
int case_act_async(struct req *r, const struct application *app, const struct case_act_in *in,
		   int (*done)(struct req *r, struct application *app, void *ctx, int rc), void *ctx);

struct case_apply_in {
	const char *item_code;
	json_t *input;         /* flat object of strings: the form fields */
	json_t *materials;     /* array of {slot, attachments: [ids]} or {slot, ecert} */
	bool submit;           /* false: save as a draft */
	const char *idempotency_key;
	const char *channel;
	int64_t applicant_id, enterprise_id, filed_by;
	int64_t draft_id;      /* continue this draft (0: a new application) */
	void *ctx;             /* the caller's, for case_apply_async's done */
	/* Files uploaded with the form, not yet stored: materials name upload k by the id -(k+1)
	 * (cases_upload_ref); the write stores them with the application (cases_write_uploads,
	 * then the ids resolved: cases_uploads_resolve). */
	struct case_upload *ups;
	size_t nups;
};
/* The provisional id of upload k, until it is written. */
static inline int64_t cases_upload_ref(size_t k)
{
	return -(int64_t)k - 1;
}
/* Replaces, anywhere in v, an object's integer "id" that is a provisional id of ups by the
 * id that upload was written under. */
void cases_uploads_resolve(json_t *v, const struct case_upload *ups, size_t n);
/* The form values of a JSON request ({"key": value}) as a flat object of strings, as a web
 * form sends them: numbers become text; other kinds are left out (and then reported missing
 * or invalid by the validation). Lives in r's arena. */
json_t *cases_form_values(struct req *r, json_t *form);

/* A draft's input with its saved values put back: each personal field of def left blank in
 * input takes the value sealed in stored (the draft as stored). New object owned by r's arena. */
json_t *cases_keep_saved(struct req *r, json_t *def, json_t *input, const char *stored);

/* Applying is read on the loop, written on the writer (http/write.h):
 * case_apply_prepare validates in (form, materials, whether the item takes applications
 * through the channel; a continued draft is read and must still be the caller's draft) and
 * makes what is to be written: 0, or GH_EVALIDATION with *errors (field -> message;
 * material_<i> for missing materials; owned by r's arena), or another code. *out lives in r's
 * arena and holds a copy of in. */
struct case_apply_prep;
int case_apply_prepare(struct req *r, const struct case_apply_in *in, struct case_apply_prep **out, json_t **errors);
/* Inside a write (w: the writer's copy of the request that prepared p): saves (and with
 * submit, submits) the application, filed under key when key is not NULL; *app is the
 * application written (p's, valid as long as p). Outputs are overwritten when the write
 * reruns. */
int case_apply_write(struct req *w, struct case_apply_prep *p, const char *key, struct application **app);
/* Only the checks of case_apply_prepare, nothing written. */
int case_apply_check(struct req *r, const struct case_apply_in *in, json_t **errors);
/* Links application id to bundle application bundle_id (bundles.c); GH_ECONFLICT when it
 * belongs to another bundle. */
int case_set_bundle(struct db *db, int64_t id, int64_t bundle_id);
/* Prepares in and writes it through req_write: returns REQ_DEFERRED (done runs later on r's
 * loop), or GH_EBUSY when the writer's queue is full; when the preparation fails done runs
 * before it returns and its result is returned. done gets rc (0, GH_EVALIDATION with errors,
 * or another GH_E code; GH_ECONFLICT for a draft submitted or changed meanwhile); it must
 * respond or return a GH_E code. in is copied (done's in is the copy). */
int case_apply_async(struct req *r, const struct case_apply_in *in,
		     int (*done)(struct req *r, const struct case_apply_in *in, struct application *app, json_t *errors, int rc));

/* The application a number and query code designate, for anonymous progress queries (rate
 * limited per address; a wrong code answers like an unknown number). */
int cases_progress_lookup(struct req *r, const char *number, const char *code, struct application *app);

/* JSON of an application for pages and the API (lang picks names; today for the light). Its
 * form shows personal fields masked ("masked_fields" lists their keys). */
json_t *case_json(const struct application *app, const struct calendar *cal, int32_t today, struct req *r);
/* case_json without the form and the materials (a row of a list: nothing parsed or masked). */
json_t *case_json_summary(const struct application *app, const struct calendar *cal, int32_t today, struct req *r);
/* The progress an anonymous holder of the number and query code sees: the item, the
 * department, states and dates; no names, reasons, details nor form content. */
json_t *case_progress_json(struct req *r, const struct application *app);

/* ---- sealed personal fields (sealed.c) --------------------------------------------------- */

/* case_form_seal: cases.h */
/* A stored form's values with masks for personal fields (new reference; {} for a malformed
 * text); *masked_keys (may be NULL) gets the array of their keys (new reference). */
json_t *case_form_masked(const char *stored, json_t **masked_keys);
/* case_form_seal, and what case_form_masked would show of *stored (new references, in the
 * order of the stored text), made from the values without reading the text back. */
int case_form_seal_shown(const struct keyring *k, struct arena *a, json_t *def, json_t *values, const char **stored,
			 int64_t *key_id, json_t **shown, json_t **masked_keys);
/* The full value of field key of a stored form, in a; GH_ENOTFOUND when it has none, GH_EINVAL
 * when its seal cannot be opened. */
int case_form_reveal(const struct keyring *k, struct arena *a, const char *stored, const char *key, const char **value);
/* True when field key of the stored form is sealed. */
bool case_form_is_sealed(const char *stored, const char *key);
/* What pages show of a personal value of field (a definition object), in a: never the value. */
const char *case_form_mask(struct arena *a, json_t *field, const char *value);
/* The definition a bundle's draft is sealed by: every field of its items, under its own key
 * and as "<item code>__<key>" (new reference). */
json_t *case_bundle_seal_def(struct db *db, struct arena *a, const char *code);
/* Seals up to one batch of forms stored before sealing existed (form_key_id NULL) and then
 * the bundle drafts of that kind, in one transaction; *count grows by the rows changed, *more
 * says whether a batch was full. */
int cases_forms_seal_legacy(const struct keyring *k, struct db *db, size_t *count, bool *more);
/* `govhall key rotate` and `reseal`: forms stored before sealing first, then every form and
 * bundle draft under another key than k's current one, in transactions of a few hundred rows
 * (an interrupted run is finished by running it again); *count: the rows changed. */
int cases_forms_reseal(const struct keyring *k, struct db *db, size_t *count);

/* ---- access to applicants' data (access.c) ----------------------------------------------- */

/* Records that the caller (staff or administrator) saw the application's detail: one row per
 * person, application and day, the first time only (later calls cost no write on this
 * thread), written along with the request (req_write_also). Applicants viewing their own are
 * not recorded. Errors are logged, not returned. */
void case_access_view(struct req *r, const struct application *app);
/* Reveals field key of the application's form to the caller: its applicant (not recorded) or
 * department staff with a duty (recorded as an access event the applicant sees, with the
 * reason, which may be NULL, at most 200 characters). *label and *value in r's arena.
 * GH_EFORBIDDEN, GH_ENOTFOUND (no such personal field), GH_EVALIDATION (reason too long),
 * GH_ERATELIMIT, with details. *record (r's arena) is NULL, or the access event the caller
 * writes through the writer (case_reveal_record in its req_write) before the value is shown:
 * no record, no reveal. */
struct case_reveal_rec;
int case_reveal(struct req *r, const struct application *app, const char *key, const char *reason, const char **label,
		const char **value, struct case_reveal_rec **record);
int case_reveal_record(struct db *db, const struct case_reveal_rec *rec);

/* ---- decision rules at submission (rules.c) ------------------------------------------------ */

/* The judgement of an item version's rules on a submission. */
struct case_rules {
	bool present;       /* the item version has rules */
	bool approve;       /* every condition holds and the rules decide at once (instant) */
	long version;       /* the rule version: the item version */
	const char *detail; /* {"rules": {item, version, outcome, instant, failed: [...]}}, in r's arena */
};
/* Registers the identity facts with the catalog's rules (cases_register calls it). */
void cases_rules_register(void);
/* Judges rules (of item version (code, version); NULL: it has none, and out->present is false)
 * for the applicant on r->db with the form's values (flat object of strings). */
int case_rules_judge(struct req *r, const char *code, long version, json_t *rules, json_t *values, int64_t applicant,
		     int64_t enterprise, struct case_rules *out);
/* Inside the submission's write, after the submit transition: the system's instant approval
 * when rules->approve and app is still submitted (a logged decision naming the rule version). */
int case_rules_follow(struct db *db, const struct calendar *cal, struct arena *a, struct application *app,
		      const struct case_rules *rules, int32_t today);
/* An event detail's judgement in words for the timeline: rules_note (the rule version, and
 * whether every condition held), rules_failed [{text, status}], has_rules_failed (set on out;
 * nothing when detail has none). */
void case_rules_words(struct req *r, json_t *detail, json_t *out);
/* GET /api/v1/services/{code}/eligibility */
extern const struct route cases_rules_routes[];
extern const size_t cases_rules_routes_n;

#endif
