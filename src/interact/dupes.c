/* dupes.c: duplicate reports of complaints and suggestions (see interact_impl.h).
 *
 * - Candidates: the newest INTERACT_CANDIDATES_SCAN open, unmerged complaints of the new
 *   one's department (and item, when it names one) are compared with it by base/similar.h
 *   (subject and text together); those at SIMILAR_THRESHOLD or more, most alike first, at
 *   most INTERACT_CANDIDATES_MAX. Another person's words are shown masked and cut
 *   (ia_others_words: numbers, e-mail addresses and their registered name), never who they
 *   are.
 * - Following: a report_followers row (covered by the transparency log); the "follow" event
 *   of the report names nobody (the row does, for the audit), so the reporter's history does
 *   not show who else has the problem.
 * - Merging: on the writer, in one transaction: the duplicate closes with merged_into, its
 *   reporter and followers become followers of the primary (via 'merge'), both reports record
 *   the merge as events ("merge" and "merge_in"), and each person moved is told. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/similar.h"
#include "base/util.h"
#include "http/msg.h"
#include "identity/identity.h"
#include "interact/interact_impl.h"
#include "notify/notify.h"
#include "store/cover.h"
#include "store/db.h"

DB_SQL(q_candidates,
       "SELECT c.id, c.subject, c.body, c.kind, c.created_at, c.complainant_id, COALESCE(c.enterprise_id, 0), "
       "(SELECT COUNT(*) FROM report_followers f WHERE f.subject_kind = 'complaint' AND f.subject_id = c.id), "
       "(SELECT COUNT(*) FROM report_followers f WHERE f.subject_kind = 'complaint' AND f.subject_id = c.id "
       "AND f.account_id = ?), a.name FROM complaints c LEFT JOIN accounts a ON a.id = c.complainant_id "
       "WHERE c.department = ? AND (CAST(? AS TEXT) IS NULL OR c.item_code = ?) "
       "AND c.state = 'open' AND c.merged_into IS NULL ORDER BY c.id DESC LIMIT ?");
DB_SQL(q_report, "SELECT c.id, c.department, c.state, c.merged_into, c.complainant_id, COALESCE(c.enterprise_id, 0), "
		 "c.subject, a.name, c.body, c.item_code FROM complaints c LEFT JOIN accounts a ON a.id = c.complainant_id WHERE c.id = ?");
DB_SQL(q_follow_add, "INSERT INTO report_followers (subject_kind, subject_id, account_id, enterprise_id, via, created_at) "
		     "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id");
DB_SQL(q_following, "SELECT 1 FROM report_followers WHERE subject_kind = ? AND subject_id = ? AND account_id = ?");
DB_SQL(q_followers, "SELECT account_id, COALESCE(enterprise_id, 0) FROM report_followers WHERE subject_kind = ? "
		    "AND subject_id = ? ORDER BY id LIMIT 10000");
DB_SQL(q_follower_count, "SELECT COUNT(*) FROM report_followers WHERE subject_kind = ? AND subject_id = ?");
DB_SQL(q_move, "INSERT INTO report_followers (subject_kind, subject_id, account_id, enterprise_id, via, created_at) "
	       "SELECT f.subject_kind, ?, f.account_id, f.enterprise_id, 'merge', ? FROM report_followers f "
	       "WHERE f.subject_kind = 'complaint' AND f.subject_id = ? AND f.account_id <> ? "
	       "ON CONFLICT DO NOTHING RETURNING id");
DB_SQL(q_close, "UPDATE complaints SET state = 'answered', merged_into = ?, answered_by = ?, answered_at = ? "
		"WHERE id = ? AND state = 'open' AND merged_into IS NULL");
DB_SQL(q_merged_from, "SELECT id FROM complaints WHERE merged_into = ? ORDER BY id LIMIT 100");

const char *ia_others_words(struct arena *a, const char *s, size_t max_chars, const char *name)
{
	return similar_mask(a, similar_mask_word(a, s, name), max_chars);
}

/* ---- candidates ----------------------------------------------------------------------------- */

/* The features of a report's subject and text together. */
static void features(struct arena *a, const char *subject, const char *text, struct similar_set *out)
{
	const char *s = arena_printf(a, "%s\n%s", subject ? subject : "", text ? text : "");
	similar_features(a, s, strlen(s), out);
}

int ia_complaint_candidates(struct req *r, struct ia_thread_in *in, json_t **out)
{
	int rc = ia_thread_check(r, in);
	if (rc)
		return rc;
	struct db_rows rows;
	if ((rc = db_query(r->db, r->arena, &q_candidates,
			   DB_ARGS(DB_INT(r->who.account), DB_TEXT(in->department), DB_TEXT(in->item_code),
				   DB_TEXT(in->item_code), DB_INT(INTERACT_CANDIDATES_SCAN)),
			   &rows)))
		return rc;
	struct similar_set mine, other;
	features(r->arena, in->subject, in->text, &mine);
	struct similar_ranked *c = arena_array(r->arena, rows.nrows + 1, sizeof(*c));
	size_t n = 0;
	for (size_t i = 0; i < rows.nrows; i++) {
		features(r->arena, db_cell(&rows, i, 1), db_cell(&rows, i, 2), &other);
		double s = similar_score(&mine, &other);
		if (s >= SIMILAR_THRESHOLD)
			c[n++] = (struct similar_ranked){ s, i };
	}
	qsort(c, n, sizeof(*c), similar_by_score);
	json_t *arr = json_array();
	for (size_t k = 0; k < n && k < INTERACT_CANDIDATES_MAX; k++) {
		size_t i = c[k].i;
		int64_t id = db_cell_int(&rows, i, 0);
		bool own = identity_owns(r, db_cell_int(&rows, i, 5), db_cell_int(&rows, i, 6));
		const char *name = db_cell(&rows, i, 9);
		json_t *j = json_pack("{s:I,s:s,s:s,s:s,s:s,s:I,s:f,s:b,s:b,s:s}", "id", (json_int_t)id, "subject",
				      own ? db_cell(&rows, i, 1) : ia_others_words(r->arena, db_cell(&rows, i, 1), INTERACT_SUBJECT_MAX, name),
				      "excerpt", own ? similar_mask(r->arena, db_cell(&rows, i, 2), INTERACT_EXCERPT_CHARS)
						     : ia_others_words(r->arena, db_cell(&rows, i, 2), INTERACT_EXCERPT_CHARS, name),
				      "kind",
				      db_cell(&rows, i, 3), "created", ia_when(r->arena, db_cell_int(&rows, i, 4)), "followers",
				      (json_int_t)db_cell_int(&rows, i, 7), "score", (double)(int)(c[k].score * 100 + 0.5) / 100,
				      "mine", own, "following", db_cell_int(&rows, i, 8) > 0, "href",
				      arena_printf(r->arena, "/complaints/%lld", (long long)id));
		json_array_append_new(arr, j);
	}
	*out = arr;
	return 0;
}

/* ---- followers ------------------------------------------------------------------------------ */

bool ia_following(struct req *r, const char *kind, int64_t id)
{
	struct db_rows rows;
	return !db_query(r->db, r->arena, &q_following, DB_ARGS(DB_TEXT(kind), DB_INT(id), DB_INT(r->who.account)), &rows) &&
	       rows.nrows > 0;
}

/* Adds account (for enterprise, 0: none) as a follower of complaint id; covered. */
static int follower_add(struct req *r, int64_t id, int64_t account, int64_t enterprise, const char *via)
{
	struct db_rows rows;
	int rc = db_query(r->db, r->arena, &q_follow_add,
			  DB_ARGS(DB_TEXT("complaint"), DB_INT(id), DB_INT(account), enterprise ? DB_INT(enterprise) : DB_NULL,
				  DB_TEXT(via), DB_INT(clock_now())),
			  &rows);
	for (size_t i = 0; !rc && i < rows.nrows; i++)
		rc = cover_touch(r->db, "report_followers", db_cell(&rows, i, 0), "complaint.follow");
	return rc;
}

int ia_followers_tell(struct req *r, const char *kind, int64_t id, const char *msg_kind, const struct ia_message *m)
{
	struct db_rows rows;
	int rc = db_query(r->db, r->arena, &q_followers, DB_ARGS(DB_TEXT(kind), DB_INT(id)), &rows);
	for (size_t i = 0; !rc && i < rows.nrows; i++) {
		int64_t to = db_cell_int(&rows, i, 1) ? db_cell_int(&rows, i, 1) : db_cell_int(&rows, i, 0);
		rc = notify_message(r->db, r->arena, to, 0, msg_kind, m->title_zh, m->title_en, m->body_zh, m->body_en);
	}
	return rc;
}

struct report {
	int64_t id, merged_into, person, enterprise;
	const char *department, *state, *subject, *name, *body, *item_code;
};

/* Complaint id as this file needs it: GH_ENOTFOUND with detail missing when there is none. */
static int report_get(struct req *r, int64_t id, const char *missing, struct report *o)
{
	struct db_rows rows;
	int rc = db_query(r->db, r->arena, &q_report, DB_ARGS(DB_INT(id)), &rows);
	if (rc)
		return rc;
	if (rows.nrows != 1) {
		req_error_detail(r, "%s", M(r, missing));
		return GH_ENOTFOUND;
	}
	*o = (struct report){ .id = id, .department = db_cell(&rows, 0, 1), .state = db_cell(&rows, 0, 2),
			      .merged_into = db_cell_int(&rows, 0, 3), .person = db_cell_int(&rows, 0, 4),
			      .enterprise = db_cell_int(&rows, 0, 5), .subject = db_cell(&rows, 0, 6),
			      .name = db_cell(&rows, 0, 7), .body = db_cell(&rows, 0, 8), .item_code = db_cell(&rows, 0, 9) };
	return 0;
}

struct follow_args {
	struct ia_write x;
	struct ia_thread_in in;
};

/* On the writer: the caller follows complaint x->id, one of those offered for the report
 * they were about to file (a->in): the same department (and item, when they named one) and
 * text alike. Any other is "not found", so following cannot read reports one was not
 * offered. */
static int follow_write(struct req *r, struct ia_write *x)
{
	struct follow_args *a = (struct follow_args *)x;
	struct report p;
	const char *offered = N_("interact_follow_offered_only");
	/* what was typed passes the checks of filing, or nothing was offered for it: "not
	 * found", the check's words saying why */
	int rc = ia_thread_check(r, &a->in);
	if (rc == GH_EVALIDATION || rc == GH_EINVAL)
		return GH_ENOTFOUND;
	if (!rc)
		rc = report_get(r, x->id, offered, &p);
	if (rc)
		return rc;
	struct similar_set mine, theirs;
	bool alike = !strcmp(a->in.department, p.department) &&
		     (!a->in.item_code || (p.item_code && !strcmp(a->in.item_code, p.item_code)));
	if (alike) {
		features(r->arena, a->in.subject, a->in.text, &mine);
		features(r->arena, p.subject, p.body, &theirs);
		alike = similar_score(&mine, &theirs) >= SIMILAR_THRESHOLD;
	}
	if (!alike) {
		req_error_detail(r, "%s", M(r, offered));
		return GH_ENOTFOUND;
	}
	if (identity_owns(r, p.person, p.enterprise)) {
		req_error_detail(r, "%s", M(r, "interact_follow_own"));
		return GH_ECONFLICT;
	}
	if (strcmp(p.state, "open") || p.merged_into) {
		req_error_detail(r, "%s", M(r, "interact_follow_not_open"));
		return GH_ECONFLICT;
	}
	if (ia_following(r, "complaint", p.id))
		return 0;
	rc = follower_add(r, p.id, r->who.account, r->who.enterprise, "follow");
	/* the history says someone has the same problem, not who (the row says it, for the audit) */
	return rc ? rc : ia_event(r->db, "complaint", p.id, 0, "follow", NULL);
}

int ia_complaint_follow(struct req *r, int64_t id, const struct ia_thread_in *in, ia_answer answer, const void *ctx)
{
	struct follow_args *a = ia_write_args(r, sizeof(*a), answer, ctx);
	a->x.id = id;
	a->in = *in;
	return ia_write(r, &a->x, follow_write);
}

/* ---- merging -------------------------------------------------------------------------------- */

struct merge_args {
	struct ia_write x;
	int64_t into;
};

/* Tells account (for enterprise) that report d was merged into p. */
static int tell_merged(struct req *r, const struct report *d, int64_t into, int64_t account, int64_t enterprise,
		       bool own)
{
	const char *subject = own ? d->subject : ia_others_words(r->arena, d->subject, INTERACT_SUBJECT_MAX, d->name);
	struct ia_message m = IA_MESSAGE(r->app->view, r->arena, N_("interact_complaint_merged_title"),
					 N_("interact_complaint_merged_body"), MA("subject", subject),
					 MA("id", (long long)d->id), MA("into", (long long)into));
	return notify_message(r->db, r->arena, enterprise ? enterprise : account, 0, "complaint_merged", m.title_zh,
			      m.title_en, m.body_zh, m.body_en);
}

/* On the writer: complaint x->id merged into a->into by staff of its department. */
static int merge_write(struct req *r, struct ia_write *x)
{
	const struct merge_args *a = (const struct merge_args *)x;
	struct report d, p;
	int rc = report_get(r, x->id, N_("interact_such_complaint_suggestion"), &d);
	if (rc)
		return rc;
	if (!ia_is_staff_of(r, d.department)) {
		req_error_detail(r, "%s", M(r, "interact_merge_only_staff"));
		return GH_EFORBIDDEN;
	}
	if (a->into <= 0) {
		req_error_detail(r, "%s", M(r, "interact_merge_give_number"));
		return GH_EVALIDATION;
	}
	if ((rc = report_get(r, a->into, N_("interact_merge_same_department"), &p)))
		return rc == GH_ENOTFOUND ? GH_EVALIDATION : rc;
	if (p.id == d.id || strcmp(p.department, d.department) || strcmp(p.state, "open") || p.merged_into ||
	    strcmp(d.state, "open") || d.merged_into) {
		req_error_detail(r, "%s", M(r, "interact_merge_same_department"));
		return strcmp(d.state, "open") || d.merged_into ? GH_ECONFLICT : GH_EVALIDATION;
	}
	/* One away at another hall, or come from one, is answered there, on its own. */
	bool away;
	if ((rc = ia_forward_pending(r, "complaint", d.id, &away)))
		return rc;
	if (away || ia_forward_received(r, "complaint", d.id)) {
		req_error_detail(r, "%s", M(r, "interact_forward_no_merge"));
		return GH_ECONFLICT;
	}
	int64_t now = clock_now(), changes = 0;
	if ((rc = db_exec(r->db, &q_close, DB_ARGS(DB_INT(p.id), DB_INT(r->who.account), DB_INT(now), DB_INT(d.id)), &changes)))
		return rc;
	if (changes != 1) {
		req_error_detail(r, "%s", M(r, "interact_merge_same_department"));
		return GH_ECONFLICT;
	}
	/* the duplicate's reporter, unless it is the primary's too, and its followers */
	bool same = d.person == p.person && d.enterprise == p.enterprise;
	if (!same)
		rc = follower_add(r, p.id, d.person, d.enterprise, "merge");
	struct db_rows rows;
	if (!rc)
		rc = db_query(r->db, r->arena, &q_move, DB_ARGS(DB_INT(p.id), DB_INT(now), DB_INT(d.id), DB_INT(p.person)), &rows);
	for (size_t i = 0; !rc && i < rows.nrows; i++)
		rc = cover_touch(r->db, "report_followers", db_cell(&rows, i, 0), "complaint.merge");
	if (!rc)
		rc = ia_event(r->db, "complaint", d.id, r->who.account, "merge", json_pack("{s:I}", "into", (json_int_t)p.id));
	if (!rc)
		rc = ia_event(r->db, "complaint", p.id, r->who.account, "merge_in", json_pack("{s:I}", "from", (json_int_t)d.id));
	/* everybody moved is told: the reporter (their own words) and the followers (masked) */
	if (!rc)
		rc = tell_merged(r, &d, p.id, d.person, d.enterprise, true);
	if (!rc)
		rc = db_query(r->db, r->arena, &q_followers, DB_ARGS(DB_TEXT("complaint"), DB_INT(d.id)), &rows);
	for (size_t i = 0; !rc && i < rows.nrows; i++)
		rc = tell_merged(r, &d, p.id, db_cell_int(&rows, i, 0), db_cell_int(&rows, i, 1), false);
	return rc;
}

int ia_complaint_merge(struct req *r, int64_t id, int64_t into, ia_answer answer, const void *ctx)
{
	struct merge_args *a = ia_write_args(r, sizeof(*a), answer, ctx);
	a->x.id = id;
	a->into = into;
	return ia_write(r, &a->x, merge_write);
}

/* ---- what a complaint shows of it ----------------------------------------------------------- */

void ia_complaint_dupes_json(struct req *r, const struct ia_thread *t, int64_t merged_into, json_t *j)
{
	if (merged_into) {
		json_object_set_new(j, "merged_into", json_integer((json_int_t)merged_into));
		ia_set(j, "state", "merged");
		ia_set(j, "state_name", M(r, "interact_thread_merged"));
		json_object_set_new(j, "can_rate", json_false());
	}
	struct db_rows rows;
	json_t *from = json_array();
	if (!db_query(r->db, r->arena, &q_merged_from, DB_ARGS(DB_INT(t->id)), &rows))
		for (size_t i = 0; i < rows.nrows; i++)
			json_array_append_new(from, json_integer((json_int_t)db_cell_int(&rows, i, 0)));
	json_object_set_new(j, "merged_from", from);
	int64_t n = 0;
	if (!db_query(r->db, r->arena, &q_follower_count, DB_ARGS(DB_TEXT("complaint"), DB_INT(t->id)), &rows) && rows.nrows)
		n = db_cell_int(&rows, 0, 0);
	json_object_set_new(j, "followers", json_integer((json_int_t)n));
	json_object_set_new(j, "following", json_boolean(t->following));
	json_object_set_new(j, "can_merge", json_boolean(t->open && t->staff && r->role == ROLE_STAFF));
	if (!t->following)
		return;
	/* a follower reads another person's report: their words masked, no names in the history */
	ia_set(j, "subject", ia_others_words(r->arena, t->subject, INTERACT_SUBJECT_MAX, t->person_name));
	ia_set(j, "body", ia_others_words(r->arena, t->text, INTERACT_TEXT_MAX, t->person_name));
	if (t->answer && !t->open)
		ia_set(j, "answer", ia_others_words(r->arena, t->answer, INTERACT_ANSWER_MAX, t->person_name));
	json_t *ev = json_object_get(j, "events"), *e;
	size_t i;
	json_array_foreach(ev, i, e) json_object_set_new(e, "actor", json_null());
}
