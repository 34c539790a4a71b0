/* cases.h: online applications (办件) under legal deadlines — the public interface for main.c
 * and other domains. */
#ifndef GH_CASES_H
#define GH_CASES_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "app.h"

struct router;
struct db;
struct arena;
struct calendar;

struct config;

/* Puts the workflow definition in force (the setting workflow, or workflow.json in the data
 * directory: cases/workflow.h) and hands the words it brings to the message catalogs (loaded
 * after this). Once at start, before any thread. GH_EINVAL / GH_EIO with the problem, naming
 * the bad entry, in err. */
int cases_workflow_load(const struct config *cfg, char *err, size_t errlen);
/* Loads the working-day calendar (data/catalog/holidays.json) into app; the workflow must be
 * loaded. GH_E code with a message in err. */
int cases_init(struct app *app, char *err, size_t errlen);
void cases_release(struct app *app);
/* Seconds between passes of the cases module's duty. */
#define CASES_DUTY_S 5
/* Starts / stops the cases module's duty on the duties thread (base/duty.h, app->duty_db):
 * first the personal fields of forms stored before sealing existed are sealed, in batches;
 * then every CASES_DUTY_S seconds the working-day calendar is reloaded when an administrator
 * changed it on any node. Starting twice is a no-op. GH_E code with a message in err. */
int cases_start(struct app *app, char *err, size_t errlen);
void cases_stop(void);
int cases_add_routes(struct router *rt);
/* Declares the tables this module covers with the transparency log (store/cover.h): call at
 * start of every command. */
void cases_register(void);
/* Declares the personal parts of cases (store/personal.h): applications, their events,
 * attachments and access events (kept), drafts (erased at closure). */
void cases_personal_declare(void);

/* One state change of an application, as other domains (the transparency log, statistics,
 * evaluations) learn of it. Strings live at least as long as the observer call. */
struct case_change {
	int64_t application_id, event_id;
	int64_t actor_id;                    /* 0: the system */
	int64_t applicant_id, enterprise_id; /* enterprise_id 0: filed by a person for themself */
	const char *number;                  /* 办件编号 (set from the submission on) */
	const char *item_code, *department, *channel;
	const char *action, *from_state, *to_state;
	const char *reason;                  /* "" when none was given */
	const char *detail;                  /* JSON object text, "{}" when none */
	int64_t at;                          /* unix seconds */
	int64_t submitted_at, accepted_at;   /* 0 = not yet */
	int32_t today;                       /* days since 1970-01-01, China Standard Time */
	int32_t accepted_day, due_day;       /* 0 = the clock has not started */
	int32_t paused_workdays;
	bool terminal, decided, paused;      /* of the new state */
	int64_t item_version;                /* the item version the application was filed under */
	const char *applicant_name;
	const char *item_name_zh, *item_name_en; /* the item's names (en may be empty) */
	const char *form;                    /* JSON object text of the form values */
	const char *materials;               /* JSON array text: {slot, attachments} or {slot, ecert, ecert_number} */
};

/* Called inside the transition's transaction, after its event is recorded, with the same
 * connection: what an observer writes commits or rolls back with the transition, and a
 * non-zero return (a GH_E code) rolls the transition back and is returned to its caller.
 * Observers must be quick and must not open transactions of their own. */
typedef int (*case_observer_fn)(struct db *db, struct arena *a, const struct case_change *c);

/* Registers fn; call at start, before any transition (not thread-safe). At most 8. */
void cases_observe(case_observer_fn fn);
/* Registers fn, called after a transition's transaction committed (not for one rolled back):
 * to wake a thread that delivers what an observer queued (notify's outbox). Quick, no
 * database work. Call at start (not thread-safe); registering fn again is a no-op. At most 8. */
void cases_observe_commits(void (*fn)(void));

/* Followers decide whether the hall itself takes a step right after a transition (a fee falls
 * due when the workflow reaches an item's payment point): called after the observers, inside
 * the transaction, with the same change; they set *next to the code of a workflow action the
 * system may take (WF_SYSTEM) from the new state, or leave it NULL, and return 0 or a GH_E
 * code (which rolls the transition back). The first that names one wins; its step runs in the
 * same transaction (observers and followers again, to a depth of 2). What a follower writes
 * commits or rolls back with the transition. At most 8; call at start. */
typedef int (*case_follow_fn)(struct db *db, struct arena *a, const struct case_change *c, const char **next);
void cases_follow(case_follow_fn fn);

/* The pages of cases/ other domains add sections to (http/sections.h page ids):
 * - CASES_PAGE_QUEUE: a later domain's column of the staff queue (pay: the fee, paid or due):
 *   the section adds members to each row of its ctx, the page's rows ([{number, item_code,
 *   state, ...}]), which templates/cases/queue.mustache shows; subject NULL. A failing section
 *   leaves its column out.
 * - CASES_PAGE_DETAIL: what followed from an application (the certificate it produced, the
 *   rating its applicant gave, its bookings); subject: the struct case_page_ref below; members
 *   of the page's context (cases/detail.mustache documents them). A GH_E code fails the page.
 * - CASES_PAGE_MINE: the caller's "my applications" page (GET /applications): what other
 *   domains list beside the applications (the bookings of visits to come); subject NULL;
 *   members of the page's context (cases/mine.mustache). A GH_E code fails the page. */
#define CASES_PAGE_QUEUE "cases.queue"
#define CASES_PAGE_DETAIL "cases.detail"
#define CASES_PAGE_MINE "cases.mine"
struct req;

/* Takes the system's action (a workflow action the hall takes, WF_SYSTEM: "payment_received")
 * on application id, inside the caller's open transaction on db: observers and followers run,
 * the event's actor is the system, detail (JSON object text or NULL) is recorded with it. The
 * caller commits or rolls back. GH_ECONFLICT when the action does not apply to the state,
 * GH_ENOTFOUND, GH_EINTERNAL outside a transaction or for an action the hall may not take. */
struct calendar;
int cases_system_act(struct db *db, const struct calendar *cal, struct arena *a, int64_t application_id,
		     const char *action, const char *detail);
/* The same with the step's reason (another hall's refusal, NULL: none), recorded on its event. */
int cases_system_act_reason(struct db *db, const struct calendar *cal, struct arena *a, int64_t application_id,
			    const char *action, const char *reason, const char *detail);

/* Files and submits an application on behalf of another system (Open311): for applicant
 * applicant_id, through channel, with form (a flat object of strings keyed by field key, as a
 * web form sends them) and no materials; the actor of its events is the system (0). Two
 * steps, as every write (http/write.h): cases_file_prepare on the loop checks it (*f in r's
 * arena): GH_EVALIDATION with *errors (field key or material_<i> -> message in r->lang,
 * owned by r's arena) when the form or a required material is missing; GH_ECONFLICT when the
 * item cannot be applied for online; GH_ENOTFOUND for an unknown item. cases_file_write,
 * inside a write (w: the writer's copy of the request), files it: *id, *number and *state (in
 * r's arena) describe it. */
struct req;
struct case_apply_prep;
int cases_file_prepare(struct req *r, const char *item_code, json_t *form, const char *channel, int64_t applicant_id,
		       struct case_apply_prep **f, json_t **errors);
int cases_file_write(struct req *w, struct case_apply_prep *f, int64_t *id, const char **number, const char **state);

/* One of the caller's own applications (identity_owns), by number, for other domains (a
 * visit booked for it): *id, *item_code and *state (in r's arena; any may be NULL).
 * GH_ENOTFOUND when there is no such application of the caller's. */
int cases_mine_get(struct req *r, const char *number, int64_t *id, const char **item_code, const char **state);
/* An application as other domains' pages need it: loaded by number when the caller may see it
 * (its applicant, an agent of its enterprise, its department's staff, administrators), else
 * GH_ENOTFOUND with r's detail set (the same answer for someone else's application as for
 * none). Strings in r's arena. */
struct case_brief {
	int64_t id, applicant_id, enterprise_id;
	const char *number, *state, *state_zh, *state_en, *item_code, *item_name_zh, *item_name_en, *department,
		*channel;
	const char *materials; /* JSON array text, as struct application's */
	bool applicant; /* the caller is its applicant (or acts for its enterprise) */
	bool staff;     /* the caller is staff of its department */
};
struct req;
int cases_brief(struct req *r, const char *number, struct case_brief *out);

/* The plaintext of a stored application form (the text of applications.form, or of a bundle
 * draft's draft_form; NULL counts as "{}"): its personal fields, which are stored sealed, opened
 * with k (pass NULL when no key file is loaded: a form with a sealed field is then GH_EINVAL).
 * *out is the form as a JSON object text with sorted keys and no white space, in a: the same
 * text the form was validated into, whatever key it is sealed under now (rotating the key
 * never changes it). This is the one way to a form's content in full (the transparency log
 * commits to it, store/cover.h); pages and the API show masks. GH_EINVAL when the text is not a JSON object or a sealed value cannot be opened
 * (another key file). Personal data: never log it or store it elsewhere. */
struct keyring;
int case_form_plain(const struct keyring *k, struct arena *a, const char *stored, const char **out);

/* Lets `govhall key rotate` / `reseal` re-seal application forms and bundle drafts (identity's
 * key commands); main.c calls it at start. */
void cases_register_sealed(void);
/* An identity_sealed_store's counts for a store of another domain too: query q (no
 * parameters) gives rows (key id, how many values are sealed under it); they go into *keys and
 * *counts (in a), *n of each. */
struct db_sql;
int cases_sealed_key_counts(struct db *db, struct arena *a, struct db_sql *q, int64_t **keys, int64_t **counts,
			    size_t *n);

/* Seals the personal fields (forms.h: forms_field_personal, by def: the item's form definition)
 * of values (an object of strings, as forms_validate gives them) into *stored, a JSON object
 * text in a; *key_id is the key they are sealed under, 0 when there were none. GH_EUNAVAILABLE
 * when there is something to seal and k is NULL. */
int case_form_seal(const struct keyring *k, struct arena *a, json_t *def, json_t *values, const char **stored,
		   int64_t *key_id);

/* ---- Applications as plain data (`govhall bench-scale`, which writes with COPY) ----------
 * What case_transition computes and stores for a step, without a database, so that data made
 * in bulk is what the hall would have written. Strings are borrowed (the caller keeps them). */
struct case_row {
	int64_t id;
	const char *number, *query_code;      /* set by the caller at the submission */
	const char *item_code, *department, *channel;
	const char *state, *return_state;     /* "draft" before the submission; return_state NULL */
	const char *form, *materials;         /* stored texts: the form sealed (case_form_seal) */
	int64_t item_version, applicant_id, enterprise_id, filed_by, form_key_id, bundle_id; /* 0 = NULL */
	int64_t submitted_at, accepted_at, decided_at, completed_at, created_at, updated_at, version;
	int limit_days, legal_limit_days, paused_workdays;
	int32_t accepted_day, paused_since, due_day, legal_due_day, yellow_day; /* 0 = NULL */
};
/* Takes the workflow action named action at now (day today, China Standard Time) on row, as
 * case_transition does: state, return state, clock and due days, times, version. *change gets
 * what the observers would be told (its ids, number, names and texts are the caller's to
 * fill: application_id, event_id, actor_id, reason, detail, form). GH_ECONFLICT when the action
 * does not apply to the row's state, GH_EINVAL for an unknown action. */
int case_row_step(const struct calendar *cal, struct case_row *row, const char *action, int64_t now, int32_t today,
		  struct case_change *change);
/* The row's covered columns (store/cover.h) as the database stores them, in declaration order,
 * for cover_digest: cells and lens must hold CASE_COVERED_MAX entries, nums (decimal texts)
 * as many. Returns the count. The form is the stored (sealed) text. */
#define CASE_COVERED_MAX 32
size_t case_row_cells(const struct case_row *row, char (*nums)[24], const char **cells, size_t *lens);
/* The same for an event row: application, time, actor (0 = NULL), action, states, reason and
 * detail as written. */
size_t case_event_cells(int64_t application_id, int64_t at, int64_t actor_id, const char *action, const char *from,
			const char *to, const char *reason, const char *detail, char (*nums)[24], const char **cells,
			size_t *lens);

/* CASES_PAGE_DETAIL's subject: the application, and whether the caller is its applicant. */
struct case_page_ref {
	int64_t id;
	const char *number, *state;
	bool applicant, ended; /* ended: a final state with a decision (the workflow's terminal and decided) */
};

/* Where e-certificates that replace materials (免提交) come from: the citizen's wallet, kept by
 * another domain, which installs the function at start (not thread-safe; NULL: none). held
 * finds the newest valid certificate of `type` held by the applicant (enterprise_id 0) or by
 * the enterprise (enterprise_id != 0) and sets *number (in a); GH_ENOTFOUND when there is none.
 * When installed, a material slot's e-certificate must be held, and the slot records its
 * number ("ecert_number") beside the type. */
typedef int (*case_ecert_held_fn)(struct db *db, struct arena *a, int64_t applicant_id, int64_t enterprise_id,
				  const char *type, const char **number);
void cases_ecert_source(case_ecert_held_fn held);
/* The installed function, or NULL. */
case_ecert_held_fn cases_ecert_held(void);
/* A certificate another hall issued, from the applicant's wallet, for a material: a slot
 * {"slot", "ecert": type, "ecert_hall": hall, "ecert_number": number} goes to the function
 * another domain installs at start (NULL: such a slot is refused), which checks that the
 * applicant holds that copy, of that type, checked with its issuing hall as valid and theirs
 * a short while ago: 0 with what the department sees added to entry ("ecert_hall",
 * "ecert_hall_name", "ecert_number", "ecert_hash", "ecert_checked_at"), or GH_EVALIDATION with *why (a message
 * for the applicant, in r's language). Reads only. */
typedef int (*case_ecert_remote_fn)(struct req *r, int64_t applicant_id, const char *type, const char *hall,
				    const char *number, json_t *entry, const char **why);
void cases_ecert_remote_source(case_ecert_remote_fn fn);
case_ecert_remote_fn cases_ecert_remote(void);
/* The web form's side of those copies, installed by the same domain (NULL: none). copies: the
 * applicant's copies of `type` from other halls, a new array of {hall, hall_name, number}
 * (NULL when none), offered beside the upload. confirm: has each copy that materials name
 * ({"slot", "ecert_hall", "ecert_number"}) checked with its issuing hall now, one after
 * another, then calls then(r, arg, slot, why): slot -1 and why NULL when every one stands,
 * else the first slot refused and a message for the applicant (revoked, unknown, not theirs,
 * or the issuing hall out of reach: upload the file or try later). */
typedef json_t *(*case_ecert_copies_fn)(struct req *r, int64_t applicant_id, const char *type);
typedef int (*case_ecert_then_fn)(struct req *r, void *arg, long slot, const char *why);
typedef int (*case_ecert_confirm_fn)(struct req *r, json_t *materials, case_ecert_then_fn then, void *arg);
void cases_ecert_web_source(case_ecert_copies_fn copies, case_ecert_confirm_fn confirm);
case_ecert_copies_fn cases_ecert_copies(void);
case_ecert_confirm_fn cases_ecert_confirm(void);

/* ---- The demo hall's history (`govhall init --demo`, src/demo) ----------------------------
 * r is a request of a command (http/server.h: server_offline_worker, with a direct group), so
 * the write is done when these return. A person as the demo's history names them. */
struct cases_demo_person {
	const char *name, *id_number, *phone, *address, *uscc;
	const char *date; /* YYYY-MM-DD, for date fields */
	const char *note; /* for a required long text field */
	const char *text; /* for any other required text field */
};
/* Files an application for item_code as r's caller (a citizen), through channel, as the apply
 * page does: the form filled from p (pick varies the choices), a one-page PDF for each
 * material asked for; submitted, or with submit false kept as a draft. *id, *number (NULL for a
 * draft) and *state (r's arena) describe it. The codes of case_apply_async (GH_EVALIDATION
 * with the errors as r's detail). */
int cases_demo_apply(struct req *r, const char *item_code, const char *channel, const struct cases_demo_person *p,
		     bool submit, uint64_t pick, int64_t *id, const char **number, const char **state);
/* Takes workflow action (or "claim") on application number as r's caller, as the staff's
 * page does (reason where the action needs one); *state (may be NULL) gets the state after.
 * The codes of case_act_async. */
int cases_demo_act(struct req *r, const char *number, const char *action, const char *reason, const char **state);

/* ---- Filing for another hall (跨省通办: src/remote) ------------------------------------------
 * An application another hall forwarded, filed here as the applicant's own (its events' actor
 * the system), with the files that came with it. As cases_file_prepare / cases_file_write:
 * prepare on the loop checks the form (a JSON object of values, as the API takes it), the
 * files (attach_check's size and type rules) and the materials they fill (upload k fills slot
 * ups[k].slot); write inside a write stores the files as the applicant's, then files and
 * submits it. applicant_id is the local account of the person (found or made in the same
 * write); filed_by 0 or the local account that typed it. */
struct cases_file_upload {
	long slot;
	const char *filename;
	const void *data;
	size_t len;
};
struct cases_filing {
	const char *item_code, *channel;
	json_t *form;
	const struct cases_file_upload *ups;
	size_t nups;
};
int cases_file_prepare_for(struct req *r, const struct cases_filing *in, struct case_apply_prep **f, json_t **errors);
int cases_file_write_for(struct req *w, struct case_apply_prep *f, int64_t applicant_id, int64_t *id,
			 const char **number, const char **state);
/* The caller's own attachment id (uploaded by them, not yet part of anything they cannot
 * see), its bytes read into a: *filename, *sha256 (hex), *data, *len. GH_ENOTFOUND when it is
 * not the caller's or there is none. */
int cases_attachment_bytes(struct req *r, int64_t id, const char **filename, const char **sha256, const void **data,
			   size_t *len);
/* The files of application id as they are stored (its materials' attachments, in slot order),
 * their bytes read into a, for the hall to send them on with the application (多地联办): at
 * most max files and max_bytes together, the first that fit; *n of them in *out (in a). */
struct cases_file_copy {
	int slot;
	const char *filename, *sha256;
	const void *data;
	size_t len;
};
int cases_application_files(struct db *db, struct arena *a, int64_t id, size_t max, size_t max_bytes,
			    struct cases_file_copy **out, size_t *n);

#endif
