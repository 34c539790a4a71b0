/* evaluations.c: rating a case (好差评): reason tags, the rating parser, the rule "the person
 * served rates once", the cases observer that makes ended applications rateable, and the one
 * place each where figures (statistics) and the transparency log are told.
 *
 * Levels are stored as numbers: 5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意; 2 and 1
 * are bad reviews. Reason tags come from a fixed bilingual list in three groups (good for 5
 * and 4, fair for 3, bad for 2 and 1); a rating's tags must belong to its level's group, and
 * a bad review needs at least one (the department must know what to put right). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/calendar.h"
#include "base/err.h"
#include "base/str.h"
#include "base/util.h"
#include "base/jsonout.h"
#include "cases/cases.h"
#include "identity/identity.h"
#include "ledger/ledger.h"
#include "stats/stats.h"
#include "interact/interact_impl.h"
#include "store/cover.h"
#include "store/db.h"
#include "view/view.h"
#include "http/msg.h"
#include "http/sections.h"

const struct ia_tag ia_tags[] = {
	{ "efficient", 3 },
	{ "courteous", 3 },
	{ "clear_guide", 3 },
	{ "fewer_trips", 3 },
	{ "online_easy", 3 },
	{ "mostly_met", 2 },
	{ "a_bit_slow", 2 },
	{ "guide_vague", 2 },
	{ "too_slow", 1 },
	{ "many_trips", 1 },
	{ "unhelpful", 1 },
	{ "not_told_once", 1 },
	{ "extra_materials", 1 },
	{ "system_fault", 1 },
};
const size_t ia_tags_n = ARRAY_LEN(ia_tags);

const struct ia_tag *ia_tag_find(const char *code, size_t len)
{
	for (size_t i = 0; i < ia_tags_n; i++)
		if (strlen(ia_tags[i].code) == len && memcmp(ia_tags[i].code, code, len) == 0)
			return &ia_tags[i];
	return NULL;
}

int ia_level_group(int level)
{
	return level >= 4 ? 3 : level == 3 ? 2 : 1;
}

const char *ia_level_key(int level)
{
	static const char *const keys[] = { "", N_("interact_level_1"), N_("interact_level_2"), N_("interact_level_3"),
					    N_("interact_level_4"), N_("interact_level_5") };
	return level >= 1 && level <= 5 ? keys[level] : "";
}

const char *ia_rect_level_key(int level)
{
	static const char *const keys[] = { "", N_("interact_rect_level_1"), N_("interact_rect_level_2"),
					    N_("interact_rect_level_3") };
	return level >= 1 && level <= 3 ? keys[level] : "";
}

/* ---- the rating parser ---------------------------------------------------------------- */

static bool channel_ok(const char *c)
{
	return !strcmp(c, "web") || !strcmp(c, "app") || !strcmp(c, "kiosk") || !strcmp(c, "counter");
}

int ia_rating_add_tag(struct ia_rating *in, const char *code, const char **why)
{
	for (size_t i = 0; i < in->ntags; i++)
		if (strcmp(in->tags[i], code) == 0)
			return 0;
	if (in->ntags == INTERACT_TAGS_MAX) {
		*why = N_("interact_choose_most_6_reasons");
		return GH_EVALIDATION;
	}
	in->tags[in->ntags++] = code;
	return 0;
}

int ia_rating_check(const struct ia_rating *in, const char **why)
{
	if (in->level < 1 || in->level > 5) {
		*why = N_("interact_choose_level_from_1_very");
		return GH_EVALIDATION;
	}
	int group = ia_level_group(in->level);
	for (size_t i = 0; i < in->ntags; i++) {
		const struct ia_tag *t = ia_tag_find(in->tags[i], strlen(in->tags[i]));
		if (!t) {
			*why = N_("interact_unknown_reason");
			return GH_EVALIDATION;
		}
		if (t->group != group) {
			*why = N_("interact_reason_does_fit_level_chosen");
			return GH_EVALIDATION;
		}
	}
	if (in->level <= 2 && in->ntags == 0) {
		*why = N_("interact_choose_least_one_reason_dissatisfied");
		return GH_EVALIDATION;
	}
	if (!ia_text_ok(in->comment, INTERACT_COMMENT_MAX, false)) {
		*why = N_("interact_comment_most_500_characters");
		return GH_EVALIDATION;
	}
	if (in->channel && !channel_ok(in->channel)) {
		*why = N_("interact_channel_web_app_kiosk_counter");
		return GH_EINVAL;
	}
	return 0;
}

int ia_rating_parse(struct arena *a, const char *text, size_t len, struct ia_rating *out, const char **why)
{
	memset(out, 0, sizeof(*out));
	out->comment = "";
	json_error_t e;
	json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e);
	int rc = GH_EINVAL;
	if (!j || !json_is_object(j)) {
		*why = N_("interact_body_json_object");
		goto out;
	}
	json_t *lv = json_object_get(j, "level"), *tags = json_object_get(j, "tags");
	json_t *cm = json_object_get(j, "comment"), *ch = json_object_get(j, "channel");
	if (!json_is_integer(lv) || (tags && !json_is_array(tags)) || (cm && !json_is_string(cm) && !json_is_null(cm)) ||
	    (ch && !json_is_string(ch))) {
		*why = N_("interact_level_must_whole_number_tags");
		goto out;
	}
	json_int_t l = json_integer_value(lv);
	out->level = l >= 0 && l <= 100 ? (int)l : -1;
	size_t i;
	json_t *t;
	json_array_foreach(tags, i, t) {
		if (!json_is_string(t) || i >= 32) {
			*why = N_("interact_tags_must_array_most_6");
			rc = GH_EINVAL; /* rc may hold the 0 of an earlier tag */
			goto out;
		}
		const struct ia_tag *tag = ia_tag_find(json_string_value(t), json_string_length(t));
		if (!tag) {
			*why = N_("interact_unknown_reason");
			rc = GH_EVALIDATION;
			goto out;
		}
		if ((rc = ia_rating_add_tag(out, tag->code, why)))
			goto out;
	}
	if (json_is_string(cm)) {
		if (json_string_length(cm) > INTERACT_COMMENT_MAX * 4) {
			*why = N_("interact_comment_most_500_characters");
			rc = GH_EVALIDATION;
			goto out;
		}
		out->comment = arena_strndup(a, json_string_value(cm), json_string_length(cm));
		if (strlen(out->comment) != json_string_length(cm)) {
			*why = N_("interact_comment_contains_nul_character");
			rc = GH_EVALIDATION;
			goto out;
		}
	}
	if (ch)
		out->channel = arena_strndup(a, json_string_value(ch), json_string_length(ch) > 16 ? 16 : json_string_length(ch));
	rc = ia_rating_check(out, why);
out:
	json_decref(j);
	return rc;
}

/* ---- the cases observer ------------------------------------------------------------------ */

DB_SQL(q_rateable_add, "INSERT INTO rateable_cases (application_id, number, applicant_id, enterprise_id, department, "
		       "item_code, channel, state, closed_at, closed_day) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
		       "ON CONFLICT (application_id) DO NOTHING");

/* An application reaching a decided terminal state (completed, not accepted, denied) may be
 * rated by its applicant from now on; a withdrawn one may not (nobody served it). */
static int on_case_change(struct db *db, struct arena *a, const struct case_change *c)
{
	(void)a;
	if (!c->terminal || !c->decided || !c->number)
		return 0;
	return db_exec(db, &q_rateable_add,
		       DB_ARGS(DB_INT(c->application_id), DB_TEXT(c->number), DB_INT(c->applicant_id),
			       c->enterprise_id ? DB_INT(c->enterprise_id) : DB_NULL, DB_TEXT(c->department),
			       DB_TEXT(c->item_code), DB_TEXT(c->channel), DB_TEXT(c->to_state), DB_INT(c->at),
			       DB_INT(c->today)),
		       NULL);
}

DB_SQL(q_rating_of, "SELECT id, level FROM evaluations WHERE subject_kind = 'application' AND subject_id = ?");

/* The application page shows the rating given instead of the button (CASES_PAGE_DETAIL). */
static int annotate(struct req *r, const void *subject, json_t *ctx)
{
	const struct case_page_ref *ref = subject;
	struct db_rows rows;
	int rc = db_query(r->db, r->arena, &q_rating_of, DB_ARGS(DB_INT(ref->id)), &rows);
	if (rc || !rows.nrows)
		return rc;
	json_object_del(ctx, "rate_href");
	json_object_set_new(ctx, "rated",
			    json_pack("{s:s,s:s}", "level_name", M(r, ia_level_key((int)db_cell_int(&rows, 0, 1))), "href",
				      arena_printf(r->arena, "/evaluations/%lld", (long long)db_cell_int(&rows, 0, 0))));
	return 0;
}

void ia_evaluations_init(void)
{
	cases_observe(on_case_change);
	page_section_add(CASES_PAGE_DETAIL, 20, annotate);
}

DB_SQL(q_rect_add, "INSERT INTO rectifications (evaluation_id, department, state, due_day, created_at, updated_at) "
		   "VALUES (?, ?, 'open', ?, ?, ?) RETURNING id");

/* A bad review opens its rectification task (整改) for the department, due in rectify-days
 * working days (rectify.c takes it from there). */
static int rect_open(struct req *r, const struct ia_eval *e)
{
	int64_t now = clock_now();
	int32_t due = ia_add_workdays(r->app, e->day, (int)r->app->cfg.rectify_days);
	struct db_rows rows;
	int rc = db_query(r->db, r->arena, &q_rect_add,
			  DB_ARGS(DB_INT(e->id), DB_TEXT(e->department), DB_INT(due), DB_INT(now), DB_INT(now)), &rows);
	if (rc)
		return rc;
	int64_t id = db_cell_int(&rows, 0, 0);
	if ((rc = ia_event(r->db, "rectification", id, 0, "open",
			   json_pack("{s:I,s:s}", "evaluation", (json_int_t)e->id, "due_day", ia_day_str(r->arena, due)))))
		return rc;
	const char *due_s = ia_day_str(r->arena, due);
	/* The level is named in each language, so the body is filled in per language. */
	struct ia_message m = {
		.title_zh = IA_WORD(r, "zh", N_("interact_rect_task_title")),
		.title_en = IA_WORD(r, "en", N_("interact_rect_task_title")),
		.body_zh = IA_ZH(r, N_("interact_rect_task_body"), MA("level", IA_WORD(r, "zh", ia_level_key(e->level))),
				 MA("due", due_s), MA("id", (long long)e->id)),
		.body_en = IA_EN(r, N_("interact_rect_task_body"), MA("level", IA_WORD(r, "en", ia_level_key(e->level))),
				 MA("due", due_s), MA("id", (long long)e->id)),
	};
	return ia_tell_department(r->db, r->arena, e->department, false, "rectify_task", &m, NULL);
}

/* ---- rating ------------------------------------------------------------------------------ */

DB_SQL(q_rateable_by_number, "SELECT application_id, applicant_id, COALESCE(enterprise_id, 0), department, item_code, "
			     "channel FROM rateable_cases WHERE number = ?");
DB_SQL(q_app_owner, "SELECT applicant_id, COALESCE(enterprise_id, 0), department FROM applications WHERE number = ?");
DB_SQL(q_consult_for_rating, "SELECT asker_id, department, item_code, state, COALESCE(enterprise_id, 0) "
			     "FROM consultations WHERE id = ?");
/* A merged complaint is answered with its primary (rated there, by its reporter): its state
 * reads as 'merged' here. */
DB_SQL(q_complaint_for_rating, "SELECT complainant_id, department, item_code, "
			       "CASE WHEN merged_into IS NULL THEN state ELSE 'merged' END, COALESCE(enterprise_id, 0) "
			       "FROM complaints WHERE id = ?");
DB_SQL(q_eval_add, "INSERT INTO evaluations (subject_kind, subject_id, subject_ref, rater_id, entered_by, department, "
		   "item_code, channel, level, tags, comment, bad, day, created_at, enterprise_id) "
		   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id");

/* Whether the caller owns an application: the person who filed it for themself, or the
 * enterprise (or its agent, while authorised) it was filed for. */
static bool owns_application(const struct req *r, int64_t applicant, int64_t enterprise)
{
	return identity_owns(r, applicant, enterprise);
}

static const char *tags_json(const struct ia_rating *in)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < in->ntags; i++)
		json_array_append_new(arr, json_string(in->tags[i]));
	char *s = jsonout_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	return s;
}

/* What is rated, by whom, on which channel: the checks of ia_rate before anything is written. */
struct subject {
	int64_t subject_id, rater, entered_by, enterprise;
	const char *department, *item, *subject_ref, *channel;
};

static int resolve(struct req *r, const char *kind, const char *ref, const char *channel_in, struct subject *out)
{
	struct db_rows rows;
	int rc;
	int64_t subject_id = 0, rater = r->who.account, entered_by = 0, owner_enterprise = 0;
	const char *department = NULL, *item = NULL, *subject_ref = ref;
	const char *channel = channel_in;
	bool counter = r->role == ROLE_STAFF;
	if (!ref || !*ref || strlen(ref) > 64)
		return GH_ENOTFOUND;
	if (counter && strcmp(kind, "application") != 0)
		return GH_EFORBIDDEN;
	if (!strcmp(kind, "application")) {
		if ((rc = db_query(r->db, r->arena, &q_rateable_by_number, DB_ARGS(DB_TEXT(ref)), &rows)))
			return rc;
		if (rows.nrows == 0) {
			/* Not rateable: someone else's (or no) application is "not found"; the caller's
			 * own still in progress is a conflict they can understand. */
			if ((rc = db_query(r->db, r->arena, &q_app_owner, DB_ARGS(DB_TEXT(ref)), &rows)))
				return rc;
			if (rows.nrows == 1 && (owns_application(r, db_cell_int(&rows, 0, 0), db_cell_int(&rows, 0, 1)) ||
						(counter && ia_is_staff_of(r, db_cell(&rows, 0, 2))))) {
				req_error_detail(r, "%s", M(r, "interact_application_rated_once_been_concluded"));
				return GH_ECONFLICT;
			}
			req_error_detail(r, "%s", M(r, "interact_such_application_yours"));
			return GH_ENOTFOUND;
		}
		subject_id = db_cell_int(&rows, 0, 0);
		department = db_cell(&rows, 0, 3);
		item = db_cell(&rows, 0, 4);
		int64_t applicant = db_cell_int(&rows, 0, 1), enterprise = db_cell_int(&rows, 0, 2);
		owner_enterprise = enterprise;
		if (counter) {
			/* A counter rating device: staff of the department that handled a walk-in
			 * application enter the applicant's own rating, on the channel counter. */
			if (!ia_is_staff_of(r, department)) {
				req_error_detail(r, "%s", M(r, "interact_such_application_department"));
				return GH_ENOTFOUND;
			}
			if (strcmp(db_cell(&rows, 0, 5), "counter") != 0 || (channel && strcmp(channel, "counter") != 0)) {
				req_error_detail(r, "%s", M(r, "interact_counter_rating_device_rates_applications"));
				return GH_EFORBIDDEN;
			}
			channel = "counter";
			entered_by = r->who.account;
			rater = applicant;
		} else if (!owns_application(r, applicant, enterprise)) {
			req_error_detail(r, "%s", M(r, "interact_such_application_yours"));
			return GH_ENOTFOUND;
		}
	} else if (!strcmp(kind, "consultation") || !strcmp(kind, "complaint")) {
		long v;
		if (str_to_long(str_c(ref), 1, 1L << 53, &v))
			return GH_ENOTFOUND;
		subject_id = v;
		bool consult = strcmp(kind, "consultation") == 0;
		if ((rc = db_query(r->db, r->arena, consult ? &q_consult_for_rating : &q_complaint_for_rating,
				   DB_ARGS(DB_INT(v)), &rows)))
			return rc;
		if (rows.nrows == 0 || !identity_owns(r, db_cell_int(&rows, 0, 0), db_cell_int(&rows, 0, 4))) {
			req_error_detail(r, "%s", M(r, "interact_nothing_yours_number"));
			return GH_ENOTFOUND;
		}
		if (strcmp(db_cell(&rows, 0, 3), "answered") != 0) {
			req_error_detail(r, "%s", M(r, "interact_rated_once_been_answered"));
			return GH_ECONFLICT;
		}
		department = db_cell(&rows, 0, 1);
		item = db_cell(&rows, 0, 2);
		owner_enterprise = db_cell_int(&rows, 0, 4);
		subject_ref = arena_printf(r->arena, "%lld", (long long)v);
	} else {
		return GH_ENOTFOUND;
	}
	if (!channel)
		channel = r->api ? "app" : "web";
	if (!counter && !strcmp(channel, "counter")) {
		req_error_detail(r, "%s", M(r, "interact_only_counter_rating_device_uses"));
		return GH_EINVAL;
	}
	*out = (struct subject){ .subject_id = subject_id, .rater = rater, .entered_by = entered_by,
				 .enterprise = owner_enterprise, .department = department,
				 .item = item, .subject_ref = subject_ref, .channel = channel };
	return 0;
}

DB_SQL(q_rated, "SELECT id FROM evaluations WHERE subject_kind = ? AND subject_id = ?");

int ia_rate_precheck(struct req *r, const char *kind, const char *ref, int64_t *rated)
{
	if (rated)
		*rated = 0;
	struct subject x;
	int rc = resolve(r, kind, ref, r->role == ROLE_STAFF ? "counter" : NULL, &x);
	if (rc)
		return rc;
	struct db_rows rows;
	if ((rc = db_query(r->db, r->arena, &q_rated, DB_ARGS(DB_TEXT(kind), DB_INT(x.subject_id)), &rows)))
		return rc;
	if (rows.nrows) {
		if (rated)
			*rated = db_cell_int(&rows, 0, 0);
		req_error_detail(r, "%s", M(r, "interact_already_been_rated_each_case"));
		return GH_ECONFLICT;
	}
	return 0;
}

struct rate_args {
	struct ia_write x;
	const char *kind, *ref;
	struct ia_rating in;
};

/* On the writer (r is its copy of the request): the rating, with its event, the
 * rectification task of a bad review, the figures and the transparency log. */
static int rate_write(struct req *r, struct ia_write *x)
{
	const struct rate_args *a = (const struct rate_args *)x;
	const struct ia_rating *in = &a->in;
	const char *kind = a->kind;
	struct subject s;
	const char *why = NULL;
	int rc = ia_rating_check(in, &why); /* callers checked already; a rating is never stored unchecked */
	if (rc) {
		req_error_detail(r, "%s", M(r, why));
		return rc;
	}
	if ((rc = resolve(r, kind, a->ref, in->channel, &s)))
		return rc;
	struct ia_eval e = { .subject_kind = kind, .subject_id = s.subject_id, .subject_ref = s.subject_ref,
			     .rater_id = s.rater, .entered_by = s.entered_by, .department = s.department,
			     .item_code = s.item, .channel = s.channel, .level = in->level, .bad = in->level <= 2,
			     .day = ia_today(), .created_at = clock_now(), .comment = in->comment ? in->comment : "",
			     .enterprise_id = s.enterprise };
	char *tags = (char *)tags_json(in);
	arena_cleanup(r->arena, free, tags);
	e.tags = tags;
	struct db_rows rows;
	rc = db_query(r->db, r->arena, &q_eval_add,
		      DB_ARGS(DB_TEXT(kind), DB_INT(e.subject_id), DB_TEXT(e.subject_ref), DB_INT(e.rater_id),
			      e.entered_by ? DB_INT(e.entered_by) : DB_NULL, DB_TEXT(e.department), DB_TEXT(e.item_code),
			      DB_TEXT(e.channel), DB_INT(e.level), DB_TEXT(tags), DB_TEXT(e.comment), DB_INT(e.bad ? 1 : 0),
			      DB_INT(e.day), DB_INT(e.created_at), e.enterprise_id ? DB_INT(e.enterprise_id) : DB_NULL),
		      &rows);
	if (rc == GH_ECONFLICT)
		req_error_detail(r, "%s", M(r, "interact_already_been_rated_each_case"));
	if (!rc)
		x->id = e.id = db_cell_int(&rows, 0, 0);
	if (!rc)
		rc = ia_event(r->db, "evaluation", e.id, r->who.account, "rate",
			      json_pack("{s:i,s:s,s:o}", "level", e.level, "channel", e.channel, "tags", json_loads(tags, 0, NULL)));
	if (!rc && e.bad)
		rc = rect_open(r, &e);
	if (!rc)
		rc = interact_figures_evaluation(r->db, r->arena, &e, false);
	if (!rc)
		rc = interact_ledger(r->db, r->arena, "evaluation",
				     json_pack("{s:I,s:s,s:s,s:s,s:s?,s:s,s:i,s:s}", "id", (json_int_t)e.id, "subject", kind,
					       "ref", e.subject_ref, "department", e.department, "item", e.item_code, "channel",
					       e.channel, "level", e.level, "day", ia_day_str(r->arena, e.day)));
	return rc;
}

int ia_rate(struct req *r, const char *kind, const char *ref, const struct ia_rating *in, ia_answer answer, const void *ctx)
{
	struct rate_args *a = ia_write_args(r, sizeof(*a), answer, ctx);
	a->kind = kind;
	a->ref = ref;
	a->in = *in;
	return ia_write(r, &a->x, rate_write);
}

/* ---- reading ----------------------------------------------------------------------------- */

#define EVAL_COLS                                                                                         \
	"SELECT e.id, e.subject_kind, e.subject_id, e.subject_ref, e.rater_id, COALESCE(e.entered_by, 0), "     \
	"e.department, e.item_code, e.channel, e.level, e.tags, e.comment, e.bad, e.excluded, e.day, "          \
	"e.created_at, d.name_zh, d.name_en, s.name_zh, s.name_en, a.name, COALESCE(t.id, 0), t.state, "       \
	"COALESCE(p.id, 0), p.state, COALESCE(e.enterprise_id, 0) FROM evaluations e "                           \
	"LEFT JOIN departments d ON d.code = e.department "                                                     \
	"LEFT JOIN service_items s ON s.code = e.item_code AND s.is_current = 1 "                               \
	"LEFT JOIN accounts a ON a.id = e.rater_id "                                                             \
	"LEFT JOIN rectifications t ON t.evaluation_id = e.id LEFT JOIN appeals p ON p.evaluation_id = e.id "

DB_SQL(q_eval_get, EVAL_COLS "WHERE e.id = ?");
DB_SQL(q_eval_mine, EVAL_COLS "WHERE " IDENTITY_OWNER_SQL("e.rater_id", "e.enterprise_id") " ORDER BY e.id DESC LIMIT 200");

static void eval_row(const struct db_rows *rows, size_t i, struct ia_eval *e)
{
	memset(e, 0, sizeof(*e));
	e->id = db_cell_int(rows, i, 0);
	e->subject_kind = db_cell(rows, i, 1);
	e->subject_id = db_cell_int(rows, i, 2);
	e->subject_ref = db_cell(rows, i, 3);
	e->rater_id = db_cell_int(rows, i, 4);
	e->entered_by = db_cell_int(rows, i, 5);
	e->department = db_cell(rows, i, 6);
	e->item_code = db_cell(rows, i, 7);
	e->channel = db_cell(rows, i, 8);
	e->level = (int)db_cell_int(rows, i, 9);
	e->tags = db_cell(rows, i, 10);
	e->comment = db_cell(rows, i, 11);
	e->bad = db_cell_int(rows, i, 12) == 1;
	e->excluded = db_cell_int(rows, i, 13) == 1;
	e->day = (int)db_cell_int(rows, i, 14);
	e->created_at = db_cell_int(rows, i, 15);
	e->dept_zh = db_cell(rows, i, 16);
	e->dept_en = db_cell(rows, i, 17);
	e->item_zh = db_cell(rows, i, 18);
	e->item_en = db_cell(rows, i, 19);
	e->rater_name = db_cell(rows, i, 20);
	e->rect_id = db_cell_int(rows, i, 21);
	e->rect_state = db_cell(rows, i, 22);
	e->appeal_id = db_cell_int(rows, i, 23);
	e->appeal_state = db_cell(rows, i, 24);
	e->enterprise_id = db_cell_int(rows, i, 25);
}

int ia_eval_get(struct db *db, struct arena *a, int64_t id, struct ia_eval *out)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_eval_get, DB_ARGS(DB_INT(id)), &rows);
	if (rc)
		return rc;
	if (rows.nrows == 0)
		return GH_ENOTFOUND;
	eval_row(&rows, 0, out);
	return 0;
}

int ia_eval_load_visible(struct req *r, int64_t id, struct ia_eval *out)
{
	int rc = ia_eval_get(r->db, r->arena, id, out);
	if (rc && rc != GH_ENOTFOUND)
		return rc;
	if (!rc && (r->role == ROLE_ADMIN || ia_is_staff_of(r, out->department) ||
		    identity_owns(r, out->rater_id, out->enterprise_id)))
		return 0;
	req_error_detail(r, "%s", M(r, "interact_such_evaluation"));
	return GH_ENOTFOUND;
}

int ia_evals_mine(struct req *r, struct ia_eval **out, size_t *n)
{
	struct db_rows rows;
	int rc = db_query(r->db, r->arena, &q_eval_mine, DB_ARGS(IDENTITY_OWNER_ARGS(identity_owner_of(r))), &rows);
	if (rc)
		return rc;
	*out = arena_array(r->arena, rows.nrows ? rows.nrows : 1, sizeof(**out));
	for (size_t i = 0; i < rows.nrows; i++)
		eval_row(&rows, i, &(*out)[i]);
	*n = rows.nrows;
	return 0;
}

/* Where a subject is seen on the pages. */
static const char *subject_href(struct req *r, const char *kind, const char *ref)
{
	if (!strcmp(kind, "application"))
		return arena_printf(r->arena, "/applications/%s", ref);
	return arena_printf(r->arena, "/%ss/%s", kind, ref);
}

json_t *ia_eval_json(struct req *r, const struct ia_eval *e)
{
	json_t *tags = json_array(), *raw = json_loads(e->tags ? e->tags : "[]", 0, NULL);
	size_t i;
	json_t *t;
	json_array_foreach(raw, i, t) {
		const char *c = json_string_value(t);
		const struct ia_tag *tag = c ? ia_tag_find(c, strlen(c)) : NULL;
		if (tag)
			json_array_append_new(tags, json_pack("{s:s,s:s}", "code", tag->code, "name", MC(r, "interact_tag_", tag->code)));
	}
	json_decref(raw);
	json_t *j = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s?,s:s?,s:s?,s:s,s:i,s:s,s:o,s:s,s:b,s:b,s:s,s:s?,s:s}", "id",
			      (json_int_t)e->id, "subject", e->subject_kind, "ref", e->subject_ref, "subject_href",
			      subject_href(r, e->subject_kind, e->subject_ref), "department", e->department, "department_name",
			      ia_pick(r, e->dept_zh, e->dept_en), "item_code", e->item_code, "item_name",
			      ia_pick(r, e->item_zh, e->item_en), "channel", e->channel, "level", e->level, "level_name",
			      M(r, ia_level_key(e->level)), "tags", tags, "comment", e->comment ? e->comment : "", "bad",
			      e->bad, "excluded", e->excluded, "day", ia_day_str(r->arena, e->day), "created",
			      ia_when(r->arena, e->created_at), "href", arena_printf(r->arena, "/evaluations/%lld", (long long)e->id));
	char ckey[48];
	snprintf(ckey, sizeof(ckey), "interact_channel_%s", e->channel ? e->channel : "");
	ia_set(j, "channel_name", ia_msg(r, ckey, e->channel));
	if (e->rect_id)
		ia_set(j, "rectification_state", e->rect_state);
	if (e->appeal_id)
		ia_set(j, "appeal_state", e->appeal_state);
	return j;
}

DB_SQL(q_pending_apps, "SELECT c.number, c.department, c.closed_at, s.name_zh, s.name_en FROM rateable_cases c "
		       "LEFT JOIN service_items s ON s.code = c.item_code AND s.is_current = 1 "
		       "WHERE ((? = 0 AND c.applicant_id = ? AND c.enterprise_id IS NULL) OR (? <> 0 AND c.enterprise_id = ?)) "
		       "AND NOT EXISTS (SELECT 1 FROM evaluations e WHERE e.subject_kind = 'application' "
		       "AND e.subject_id = c.application_id) ORDER BY c.closed_at DESC LIMIT 50");
DB_SQL(q_pending_consults, "SELECT c.id, c.subject, c.answered_at FROM consultations c WHERE "
			   IDENTITY_OWNER_SQL("c.asker_id", "c.enterprise_id") " "
			   "AND c.state = 'answered' AND NOT EXISTS (SELECT 1 FROM evaluations e WHERE "
			   "e.subject_kind = 'consultation' AND e.subject_id = c.id) ORDER BY c.id DESC LIMIT 50");
DB_SQL(q_pending_complaints, "SELECT c.id, c.subject, c.answered_at FROM complaints c WHERE "
			     IDENTITY_OWNER_SQL("c.complainant_id", "c.enterprise_id") " "
			     "AND c.state = 'answered' AND c.merged_into IS NULL AND NOT EXISTS (SELECT 1 FROM evaluations e WHERE "
			     "e.subject_kind = 'complaint' AND e.subject_id = c.id) ORDER BY c.id DESC LIMIT 50");

json_t *ia_pending_json(struct req *r)
{
	json_t *arr = json_array();
	struct db_rows rows;
	struct identity_owner o = identity_owner_of(r);
	int64_t ent = o.enterprise, me = o.person;
	if (!db_query(r->db, r->arena, &q_pending_apps, DB_ARGS(DB_INT(ent), DB_INT(me), DB_INT(ent), DB_INT(ent)), &rows))
		for (size_t i = 0; i < rows.nrows; i++) {
			const char *num = db_cell(&rows, i, 0);
			json_array_append_new(arr, json_pack("{s:s,s:s,s:s?,s:s?,s:s}", "kind", "application", "ref", num, "title",
							     ia_pick(r, db_cell(&rows, i, 3), db_cell(&rows, i, 4)), "closed",
							     ia_when(r->arena, db_cell_int(&rows, i, 2)), "rate_href",
							     arena_printf(r->arena, "/evaluate/application/%s", num)));
		}
	struct db_sql *qs[2] = { &q_pending_consults, &q_pending_complaints };
	const char *kinds[2] = { "consultation", "complaint" };
	for (int k = 0; k < 2; k++) {
		if (db_query(r->db, r->arena, qs[k], DB_ARGS(IDENTITY_OWNER_ARGS(identity_owner_of(r))), &rows))
			continue;
		for (size_t i = 0; i < rows.nrows; i++) {
			const char *id = db_cell(&rows, i, 0);
			json_array_append_new(arr, json_pack("{s:s,s:s,s:s?,s:s?,s:s}", "kind", kinds[k], "ref", id, "title",
							     db_cell(&rows, i, 1), "closed", ia_when(r->arena, db_cell_int(&rows, i, 2)),
							     "rate_href", arena_printf(r->arena, "/evaluate/%s/%s", kinds[k], id)));
		}
	}
	return arr;
}
