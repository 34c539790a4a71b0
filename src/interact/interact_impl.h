/* interact_impl.h: the interact module's private interface.
 *
 * - evaluations.c: reason tags, the rating parser, rating a case, the cases observer, and the
 *   one place each for figures (statistics) and the transparency log.
 * - rectify.c: rectification tasks of bad reviews, the citizen's rating of them, appeals.
 * - consult.c: consultations and the items' FAQ. complaints.c: complaints and suggestions.
 * - duties.c: invitations, overdue warnings, escalation; the thread and the command.
 * - api.c / pages.c: the JSON API and the pages, both thin over the functions below, which
 *   check who may do what and return GH_E codes with a client detail (req_error_detail).
 */
#ifndef GH_INTERACT_IMPL_H
#define GH_INTERACT_IMPL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "http/http.h"
#include "interact/interact.h"

struct db;
struct calendar;

/* Sizes a client controls, in characters (UTF-8 code points). */
#define INTERACT_COMMENT_MAX 500
#define INTERACT_TAGS_MAX 6
#define INTERACT_SUBJECT_MAX 100
#define INTERACT_TEXT_MAX 2000
#define INTERACT_ANSWER_MAX 4000
#define INTERACT_NOTES_MAX 2000
#define INTERACT_PER_PAGE 20

static inline bool ia_en(const struct req *r)
{
	return strcmp(r->lang, "en") == 0;
}

static inline void ia_set(json_t *o, const char *k, const char *v)
{
	if (v)
		json_object_set_new(o, k, json_string(v));
}

/* ---- the one write path (common.c) -----------------------------------------------------
 * Every change of this module runs on the group-commit writer (http/write.h): the public
 * function (ia_rate, ia_rect_step, ...) takes the caller's inputs and an answer, and returns
 * REQ_DEFERRED (or GH_EBUSY / GH_EUNAVAILABLE when the writer cannot take it). The change
 * itself runs on the writer with the writer's copy of the request (its checks too, so they
 * see what they guard); answer(r, rc, id, ctx) then runs on the request's loop after the
 * COMMIT, with rc the change's result (its detail in r->error_detail) and id the subject it
 * made or changed. The notifier is nudged after every committed change. */
typedef int (*ia_answer)(struct req *r, int rc, int64_t id, const void *ctx);

/* The head of every change's inputs (the first member of each operation's own struct). */
struct ia_write {
	int (*fn)(struct req *w, struct ia_write *x); /* the change, on the writer */
	ia_answer answer;
	const void *ctx;
	int64_t id; /* the subject: set by fn (perhaps more than once; the last run counts) */
};
/* size bytes of zeroed inputs in r's arena, headed by a struct ia_write with answer and ctx. */
void *ia_write_args(struct req *r, size_t size, ia_answer answer, const void *ctx);
/* Queues x->fn = fn on the writer; see above. */
int ia_write(struct req *r, struct ia_write *x, int (*fn)(struct req *w, struct ia_write *x));

/* ---- evaluations.c -------------------------------------------------------------------- */

struct ia_tag {
	const char *code; /* its words: the catalogs' interact_tag_<code> */
	int group; /* 3 good (5, 4), 2 fair (3), 1 bad (2, 1) */
};
extern const struct ia_tag ia_tags[];
extern const size_t ia_tags_n;
const struct ia_tag *ia_tag_find(const char *code, size_t len);
/* The tag group of a level: 3 for 5 and 4, 2 for 3, 1 for 2 and 1. */
int ia_level_group(int level);
/* The message key naming a rating level 1..5 ("" for another). */
const char *ia_level_key(int level);
/* The message key naming the citizen's rating of a rectification (3 satisfied .. 1 not). */
const char *ia_rect_level_key(int level);

/* Registers the cases observer that makes ended applications rateable (evaluations.c). */
void ia_evaluations_init(void);
/* The FAQ section of an item's guide page (CATALOG_PAGE_GUIDE; consult.c). */
int ia_faq_section(struct req *r, const void *item_code, json_t *ctx);

/* A rating as the API or a form sends it. */
struct ia_rating {
	int level;                          /* 1..5 */
	const char *tags[INTERACT_TAGS_MAX];
	size_t ntags;
	const char *comment;                /* "" when none */
	const char *channel;                /* NULL: the caller's default */
};
/* Parses a rating from a JSON object's text ({level, tags: [..], comment, channel}) into out
 * (strings in a) and checks it with ia_rating_check. Returns 0, or GH_EINVAL / GH_EVALIDATION
 * with *why the message key of the reason (M() it). Never reads beyond len. */
int ia_rating_parse(struct arena *a, const char *text, size_t len, struct ia_rating *out, const char **why);
/* Checks level 1..5, tags known, distinct, at most INTERACT_TAGS_MAX and of the level's group,
 * a bad review with at least one tag, the comment's size and UTF-8, the channel's name. */
int ia_rating_check(const struct ia_rating *in, const char **why);
/* Adds one tag to in (deduplicated); GH_EVALIDATION when full. */
int ia_rating_add_tag(struct ia_rating *in, const char *code, const char **why);

struct ia_eval {
	int64_t id, subject_id, rater_id, entered_by, created_at;
	int64_t enterprise_id; /* the rated case was the enterprise's (0: the rater's own) */
	const char *subject_kind, *subject_ref, *department, *item_code, *channel, *tags, *comment;
	int level, day;
	bool bad, excluded;
	/* joined */
	const char *dept_zh, *dept_en, *item_zh, *item_en, *rater_name;
	int64_t rect_id, appeal_id;
	const char *rect_state, *appeal_state;
};

/* Rates a case as the caller. kind "application" (ref = number), "consultation" or
 * "complaint" (ref = id). Checks: the case exists and belongs to the caller (GH_ENOTFOUND
 * otherwise), or the caller is staff of the handling department rating on a counter device
 * for a walk-in application (channel counter); it is finished or answered (GH_ECONFLICT);
 * not rated yet (GH_ECONFLICT). A bad review opens the rectification task. *id gets the
 * evaluation. */
int ia_rate(struct req *r, const char *kind, const char *ref, const struct ia_rating *in, ia_answer answer, const void *ctx);
/* The checks of ia_rate alone (nothing written): 0 when the caller may rate the case now;
 * GH_ENOTFOUND, GH_ECONFLICT (not ended or answered yet, or rated already), GH_EFORBIDDEN
 * with a detail otherwise. For the rating form. When the case was rated already, *rated (may
 * be NULL) gets the evaluation's id (0 otherwise). */
int ia_rate_precheck(struct req *r, const char *kind, const char *ref, int64_t *rated);
int ia_eval_get(struct db *db, struct arena *a, int64_t id, struct ia_eval *out);
/* The evaluation if the caller may see it (rater, staff of its department, administrators);
 * GH_ENOTFOUND otherwise. */
int ia_eval_load_visible(struct req *r, int64_t id, struct ia_eval *out);
/* The caller's own evaluations (identity_owner_of: an enterprise's for its agents while
 * authorised), newest first. */
int ia_evals_mine(struct req *r, struct ia_eval **out, size_t *n);
json_t *ia_eval_json(struct req *r, const struct ia_eval *e);
/* Cases the caller may still rate: [{kind, ref, title, department, closed}] (applications
 * ended, consultations and complaints answered, not rated yet). */
json_t *ia_pending_json(struct req *r);
/* The history of a subject as a JSON array [{at, action, actor, detail}]. */
json_t *ia_events_json(struct req *r, const char *kind, int64_t id);
int ia_event(struct db *db, const char *kind, int64_t id, int64_t actor, const char *action, json_t *detail);
/* The words of key in Chinese and in English with its placeholders filled in, for messages
 * stored in both languages (inbox). */
#define IA_ZH(r, key, ...) VF((r)->app->view, "zh", (r)->arena, key, __VA_ARGS__)
#define IA_EN(r, key, ...) VF((r)->app->view, "en", (r)->arena, key, __VA_ARGS__)
#define IA_WORD(r, lang, key) view_msg((r)->app->view, lang, key)
/* The hooks for other modules, each the one place that calls them (see evaluations.c). */
int interact_figures_evaluation(struct db *db, struct arena *a, const struct ia_eval *e, bool excluded);
int interact_figures_rectification(struct db *db, struct arena *a, const char *department, const char *item_code,
				   int32_t day, bool rectified);
int interact_ledger(struct db *db, struct arena *a, const char *kind, json_t *canonical);

/* Whether the caller is active staff of department (any duty) / a head of it. */
bool ia_is_staff_of(const struct req *r, const char *department);
bool ia_is_head_of(const struct req *r, const char *department);
/* An inbox message in both languages. */
struct ia_message {
	const char *title_zh, *title_en, *body_zh, *body_en;
};
struct view;
struct msg_arg;
/* The words of title_key, and of body_key with args[0..nargs) filled in, in both languages
 * (strings in a). IA_MESSAGE takes the arguments as MA(name, value), ... */
struct ia_message ia_message(const struct view *v, struct arena *a, const char *title_key, const char *body_key,
			     const struct msg_arg *args, size_t nargs);
#define IA_MESSAGE(v, a, title_key, body_key, ...)                                                          \
	ia_message(v, a, title_key, body_key, (const struct msg_arg[]){ __VA_ARGS__ },                      \
		   sizeof((const struct msg_arg[]){ __VA_ARGS__ }) / sizeof(struct msg_arg))
/* m to a department's active staff (heads_only: only its heads) / to every active
 * administrator; *n (may be NULL) counts the messages. */
int ia_tell_department(struct db *db, struct arena *a, const char *department, bool heads_only, const char *kind,
		       const struct ia_message *m, int *n);
int ia_tell_admins(struct db *db, struct arena *a, const char *kind, const struct ia_message *m, int *n);
/* Working day n after from on app's calendar (weekends only when none is loaded). */
int32_t ia_add_workdays(const struct app *app, int32_t from, int n);
int32_t ia_today(void);
/* The route's {id}: a positive number, or 0 (which no subject has). */
int64_t ia_param_id(const struct req *r);
/* en in English when there is one, else zh. */
const char *ia_pick(const struct req *r, const char *zh, const char *en);
/* The message key in the request's language, or fallback when the catalogs lack it. */
const char *ia_msg(struct req *r, const char *key, const char *fallback);
const char *ia_day_str(struct arena *a, int32_t day);
const char *ia_when(struct arena *a, int64_t t);
/* Text of at most max characters, valid UTF-8, without NUL; GH_EVALIDATION otherwise. */
bool ia_text_ok(const char *s, size_t max_chars, bool required);

/* The evaluation with its rectification task, appeal, history and the actions the caller may
 * take (api.c; the detail page shares it). */
json_t *ia_eval_detail_json(struct req *r, const struct ia_eval *e);

/* ---- rectify.c ------------------------------------------------------------------------ */

struct ia_rect {
	int64_t id, evaluation_id, visit_at, visited_by, rectified_at, feedback_at, citizen_rated_at, created_at;
	const char *department, *state, *visit_method, *visit_notes, *rectify_notes, *feedback;
	int32_t due_day;
	int citizen_level;
};
int ia_rect_get(struct db *db, struct arena *a, int64_t evaluation_id, struct ia_rect *out);
json_t *ia_rect_json(struct req *r, const struct ia_rect *t);
/* step "visit" (method, notes, when: unix seconds or 0 for now), "rectify" (notes), "feedback"
 * (notes = the text to the citizen) by staff of the department; "rate" (level 1..3) by the
 * rater. GH_EFORBIDDEN / GH_ECONFLICT (wrong order) / GH_EVALIDATION with details. */
int ia_rect_step(struct req *r, int64_t evaluation_id, const char *step, const char *method, const char *notes,
		 int64_t when, int level, ia_answer answer, const void *ctx);
/* Tasks of a department (NULL: all, for administrators) in state (NULL: not closed). */
int ia_rect_list(struct req *r, const char *department, const char *state, json_t **out);
/* Appeal by a head of the department (reason); decision by an administrator ("upheld" or
 * "rejected", note). */
int ia_appeal_file(struct req *r, int64_t evaluation_id, const char *reason, ia_answer answer, const void *ctx);
int ia_appeal_decide(struct req *r, int64_t appeal_id, const char *decision, const char *note, ia_answer answer,
		     const void *ctx);
int ia_appeal_list(struct req *r, const char *state, json_t **out);

/* ---- threads.c: what consultations and complaints share --------------------------------- */

/* A new consultation or complaint as the API or a form sends it. */
struct ia_thread_in {
	const char *kind;        /* complaints: "complaint" or "suggestion" */
	const char *department;  /* or derived from item_code */
	const char *item_code;
	const char *subject, *text;
	bool consent_public;     /* consultations */
	const char *channel;
};

struct db_rows;
struct db_sql;
/* A consultation or complaint as its queries read it: the columns ia_thread_get reads first
 * (IA_THREAD_COLS), then the kind's own. */
struct ia_thread {
	int64_t id, person, enterprise, answered_at, created_at, evaluation_id;
	const char *department, *item_code, *subject, *text, *state, *answer;
	const char *dept_name, *item_name, *person_name; /* in the caller's language */
	int32_t due_day;
	bool mine, staff, open; /* the caller's (or their enterprise's); staff of its department; not answered */
	bool following;         /* not the caller's, but followed by them (duplicate reports: dupes.c) */
};
/* The first columns of a thread's query on table c (a person's column, its text column, the
 * subject kind its evaluations name); d, s and a are joined by IA_THREAD_FROM. */
#define IA_THREAD_COLS(person, text, kind)                                                                        \
	"SELECT c.id, c." person ", COALESCE(c.enterprise_id, 0), c.department, c.item_code, c.subject, c." text ", " \
	"c.state, c.due_day, c.answer, c.answered_at, c.created_at, d.name_zh, d.name_en, s.name_zh, s.name_en, "     \
	"a.name, (SELECT e.id FROM evaluations e WHERE e.subject_kind = '" kind "' AND e.subject_id = c.id)"
#define IA_THREAD_FROM(table, person)                                                                             \
	" FROM " table " c LEFT JOIN departments d ON d.code = c.department "                                        \
	"LEFT JOIN service_items s ON s.code = c.item_code AND s.is_current = 1 "                                    \
	"LEFT JOIN accounts a ON a.id = c." person " WHERE c.id = ?"
#define IA_THREAD_OWN_COL 18 /* the first of the kind's own columns */
/* A new thread of a kind: fn (the kind's change, reading in from struct ia_thread_args) on
 * the writer with a copy of in; see ia_write. */
struct ia_thread_args {
	struct ia_write x;
	struct ia_thread_in in;
};
int ia_thread_submit(struct req *r, const struct ia_thread_in *in, ia_answer answer, const void *ctx,
		     int (*fn)(struct req *w, struct ia_write *x));
/* The checks of a new thread, on the writer: subject, text and channel (GH_EVALIDATION /
 * GH_EINVAL with a detail), the department (the item's when an item is named), the person's
 * budget of new threads of this kind (a rate limit named budget); then its due day, days
 * working days from today, and its channel. */
int ia_thread_open(struct req *r, struct ia_thread_in *in, const char *budget, long days, int32_t *due,
		   const char **channel);
/* Runs q (IA_THREAD_COLS ... IA_THREAD_FROM) for id into t, and *rows for the kind's own
 * columns: GH_ENOTFOUND with the message key missing when there is none or the caller may not
 * see it (the person, staff of its department, administrators may; and its followers when
 * follow_kind names a kind that has them: t->following). */
int ia_thread_get(struct req *r, struct db_sql *q, int64_t id, const char *missing, const char *follow_kind,
		  struct ia_thread *t, struct db_rows *rows);
/* After a new thread's row, in its change: its first event (action with detail, stolen) and
 * the department's staff told (title_key, body_key with {due} and {id}; inbox kind tell_kind). */
int ia_thread_opened(struct req *r, const char *kind, int64_t id, int64_t person, const char *action, json_t *detail,
		     const char *department, int32_t due, const char *title_key, const char *body_key, const char *tell_kind);
/* The checks of a new thread's texts, department and item, without the budget (for the
 * candidates offered before one is filed): 0, or GH_EVALIDATION / GH_EINVAL with a detail. */
int ia_thread_check(struct req *r, struct ia_thread_in *in);
/* What every thread shows (the kind adds its own): subject, state, due day, answer, events. */
json_t *ia_thread_json(struct req *r, const struct ia_thread *t, const char *kind);
/* Answering t, inside its change on the writer: checks the answer's text, runs q (answer,
 * answered_by, answered_at, id; it must change one row, else it was answered already:
 * GH_ECONFLICT with the message key answered as the detail), records the "answer" event. */
int ia_thread_answer(struct req *r, struct db_sql *q, const char *kind, const struct ia_thread *t, const char *text,
		     const char *answered);
/* An inbox message to t's person (their enterprise's inbox when it was the enterprise's):
 * title_key, and body_key with {subject} and {id}. */
int ia_thread_tell(struct req *r, const struct ia_thread *t, const char *kind, const char *title_key,
		   const char *body_key);
/* A list's state filter: "", "open" or "answered" (GH_EINVAL with a detail otherwise). */
int ia_thread_state(struct req *r, const char *state, const char **out);
/* Row i of a list whose first columns are id, subject, state, due_day, created_at,
 * department, its names zh and en; base is the pages' path ("/consultations"). */
json_t *ia_thread_item(struct req *r, const struct db_rows *rows, size_t i, const char *base);

/* ---- consult.c ------------------------------------------------------------------------ */
int ia_consult_create(struct req *r, const struct ia_thread_in *in, ia_answer answer, const void *ctx);
/* The consultation if the caller may see it (asker, staff of its department, administrators). */
int ia_consult_json(struct req *r, int64_t id, json_t **out);
/* Staff of the department answer (once); publish (only with the asker's consent) puts the
 * public version (both texts required, staff remove personal data) into the item's FAQ. */
int ia_consult_answer(struct req *r, int64_t id, const char *text, bool publish, const char *pub_q, const char *pub_a,
		      ia_answer answer, const void *ctx);
int ia_consult_publish(struct req *r, int64_t id, bool publish, const char *pub_q, const char *pub_a, ia_answer answer,
		       const void *ctx);
/* mine: the caller's; otherwise the department's (state NULL = all). */
int ia_consult_list(struct req *r, bool mine, const char *state, json_t **out);

/* ---- complaints.c --------------------------------------------------------------------- */

int ia_complaint_create(struct req *r, const struct ia_thread_in *in, ia_answer answer, const void *ctx);
int ia_complaint_json(struct req *r, int64_t id, json_t **out);
int ia_complaint_answer(struct req *r, int64_t id, const char *text, ia_answer answer, const void *ctx);
/* mine: the caller's; staff: the department's; administrators: those escalated to them. */
int ia_complaint_list(struct req *r, bool mine, const char *state, json_t **out);

/* Files a checked thread (in: department resolved, texts checked) for person with due day
 * and channel, inside a change on the writer: the row, its first event ("ask" / "file", with
 * detail's members added; detail is stolen, may be NULL), the department's staff told. *id gets
 * it. The API's and the forms' change and a thread forwarded from another hall (forward.c). */
int ia_consult_file(struct req *r, const struct ia_thread_in *in, int64_t asker, int32_t due, const char *channel,
		    json_t *detail, int64_t *id);
int ia_complaint_file(struct req *r, const struct ia_thread_in *in, int64_t complainant, int32_t due, const char *channel,
		      json_t *detail, int64_t *id);

/* ---- forward.c: threads forwarded to the hall they belong to (docs/federation.md) ----------
 * Staff of thread (kind "consultation" | "complaint", id)'s department (administrators for a
 * complaint escalated to them) forward it, open, to hall (another hall of the directory) with
 * reason (for the person; 1..500 characters), optionally naming item_code, the other hall's
 * item (default: the thread's). 422 for a hall not in the directory or no reason; 409 when
 * not open, away already, come from another hall, or an enterprise's; 403 for other staff. */
int ia_forward(struct req *r, const char *kind, int64_t id, const char *hall, const char *reason, const char *item_code,
	       ia_answer answer, const void *ctx);
/* Whether the thread is away at another hall now (its answer comes from there). */
int ia_forward_pending(struct req *r, const char *kind, int64_t id, bool *pending);
/* Inside an answer's change: when the thread came from another hall, queues the answer back
 * to it and sets *received (the person is told there, not here). */
int ia_forward_answered(struct req *r, const char *kind, const struct ia_thread *t, const char *text, bool *received);
/* Whether thread (kind, id) came from another hall. */
bool ia_forward_received(struct req *r, const char *kind, int64_t id);
/* What a thread's JSON adds: forwarded {hall, hall_name, reason, at, state, state_name,
 * due_day, note}, received_from (staff), can_forward, forward_suggested {hall, hall_name}
 * (staff: its words name another hall's region), can_answer false while away. */
void ia_forward_json(struct req *r, const char *kind, const struct ia_thread *t, json_t *j);
/* The shapes of the two messages (pure; fuzzed by tests/fuzz/fuzz_fedask.c): NULL when body
 * is one of subject (its "number"), its parts in out (borrowed from body); else why not. */
struct ia_forward_msg {
	bool complaint, consent_public;
	const char *type, *item_code, *department, *subject, *text, *name, *id_number;
};
const char *ia_forward_msg_check(const json_t *body, const char *subject, struct ia_forward_msg *out);
struct ia_forward_state {
	const char *action, *answer, *note, *due_day; /* action: received | answered | returned */
	int64_t remote_id, answered_at;
};
const char *ia_forward_state_check(const json_t *body, const char *subject, struct ia_forward_state *out);
/* Registers the kinds of message "interact.forward" and "interact.state" (interact_init). */
void ia_forward_init(void);

/* ---- dupes.c: duplicate reports ------------------------------------------------------------
 * Before a complaint is filed, open reports of the same department (and item, when one is
 * named) whose text is alike (base/similar.h) are offered; "this is my problem too" makes the
 * caller a follower, told what the reporter is told. Staff of the department merge a
 * duplicate into its primary: the duplicate closes (state answered, merged_into set), its
 * reporter and followers follow the primary and are told; both histories record it. */
#define INTERACT_CANDIDATES_MAX 5    /* reports offered */
#define INTERACT_CANDIDATES_SCAN 300 /* newest open reports of the place compared */
#define INTERACT_EXCERPT_CHARS 120   /* characters of another person's text shown */

/* The open complaints like in (department or item, subject, text; checked as a new one):
 * a JSON array of at most INTERACT_CANDIDATES_MAX {id, subject, excerpt (masked), kind,
 * created, followers, score, mine, following, href}, most alike first. */
int ia_complaint_candidates(struct req *r, struct ia_thread_in *in, json_t **out);
/* The caller follows open complaint id (not their own), one of the candidates for in (the
 * report they were about to file): GH_ENOTFOUND for none such (whatever the reason, so that
 * following reads nothing one was not offered), GH_ECONFLICT with a detail for one's own or
 * a closed one. Following twice is following. */
int ia_complaint_follow(struct req *r, int64_t id, const struct ia_thread_in *in, ia_answer answer, const void *ctx);
/* Staff of complaint id's department merge it into complaint into (open, same department). */
int ia_complaint_merge(struct req *r, int64_t id, int64_t into, ia_answer answer, const void *ctx);
/* Another person's words (s) as a follower or a candidate shows them: their registered name
 * (name, may be NULL) masked, then runs of four or more digits and e-mail addresses
 * (similar_mask), cut to max_chars. In a. */
const char *ia_others_words(struct arena *a, const char *s, size_t max_chars, const char *name);
/* Whether the caller follows report id of kind. */
bool ia_following(struct req *r, const char *kind, int64_t id);
/* m to every follower of report id of kind (their enterprise's inbox when they followed for
 * it), as notify_message of kind msg_kind. */
int ia_followers_tell(struct req *r, const char *kind, int64_t id, const char *msg_kind, const struct ia_message *m);
/* What a complaint's JSON adds for duplicates: merged_into, merged_from, followers,
 * following, can_merge; and for a follower, the other person's words masked and
 * the history without names. */
void ia_complaint_dupes_json(struct req *r, const struct ia_thread *t, int64_t merged_into, json_t *j);

/* Route tables. */
extern const struct route interact_api_routes[];
extern const size_t interact_api_routes_n;
extern const struct route interact_page_routes[];
extern const size_t interact_page_routes_n;

#endif
