/* inbox.c: the site inbox as people read it — the page and the API (see notify.h): the
 * caller's messages newest first, marking one or all read. Whose inbox: the owner the caller
 * acts as (an enterprise's messages reach its agents while their authorisation stands). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/util.h"
#include "http/handler.h"
#include "http/router.h"
#include "http/server.h"
#include "http/write.h"
#include "identity/identity.h"
#include "notify/notify.h"
#include "notify/prefs.h"
#include "store/db.h"
#include "view/linkify.h"
#include "http/msg.h"

#define PER_PAGE 20

/* ---- the inbox ------------------------------------------------------------------------- */

DB_SQL(q_list, "SELECT i.id, i.application_id, p.number, i.kind, i.title_zh, i.title_en, i.body_zh, i.body_en, "
	       "i.created_at, i.read_at FROM inbox i LEFT JOIN applications p ON p.id = i.application_id "
	       "WHERE i.account_id = ? ORDER BY i.id DESC LIMIT ? OFFSET ?");
DB_SQL(q_counts, "SELECT COUNT(*), COALESCE(SUM(CASE WHEN read_at IS NULL THEN 1 ELSE 0 END), 0) FROM inbox "
		 "WHERE account_id = ?");
DB_SQL(q_unread, "SELECT COUNT(*) FROM inbox WHERE account_id = ? AND read_at IS NULL");
DB_SQL(q_read, "UPDATE inbox SET read_at = ? WHERE id = ? AND account_id = ? AND read_at IS NULL");
DB_SQL(q_read_at, "SELECT read_at FROM inbox WHERE id = ? AND account_id = ?");
DB_SQL(q_read_all, "UPDATE inbox SET read_at = ? WHERE account_id = ? AND read_at IS NULL");

int notify_unread_count(struct db *db, struct arena *a, int64_t account, long *n)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_unread, DB_ARGS(DB_INT(account)), &rows);
	if (rc)
		return rc;
	*n = rows.nrows ? (long)db_cell_int(&rows, 0, 0) : 0;
	return 0;
}

/* Whose inbox the caller reads: the owner it acts as (an enterprise's messages reach its
 * agents while their authorisation stands, identity_owner_id), staff and administrators
 * their own. */
static int64_t inbox_of(const struct req *r)
{
	int64_t owner = identity_owner_id(r);
	return owner ? owner : r->who.account;
}

struct message {
	int64_t id, application_id, created_at, read_at;
	const char *number, *kind, *title_zh, *title_en, *body_zh, *body_en;
};

static int list(struct req *r, long page, long per, struct message **out, size_t *n, long *total, long *unread)
{
	struct db_rows rows;
	int rc = db_query(r->db, r->arena, &q_counts, DB_ARGS(DB_INT(inbox_of(r))), &rows);
	if (rc)
		return rc;
	*total = rows.nrows ? (long)db_cell_int(&rows, 0, 0) : 0;
	*unread = rows.nrows ? (long)db_cell_int(&rows, 0, 1) : 0;
	if ((rc = db_query(r->db, r->arena, &q_list,
			   DB_ARGS(DB_INT(inbox_of(r)), DB_INT(per), DB_INT((int64_t)(page - 1) * per)), &rows)))
		return rc;
	struct message *v = arena_array(r->arena, rows.nrows ? rows.nrows : 1, sizeof(*v));
	for (size_t i = 0; i < rows.nrows; i++) {
		v[i].id = db_cell_int(&rows, i, 0);
		v[i].application_id = db_cell(&rows, i, 1) ? db_cell_int(&rows, i, 1) : 0;
		v[i].number = db_cell(&rows, i, 2);
		v[i].kind = db_cell(&rows, i, 3);
		v[i].title_zh = db_cell(&rows, i, 4);
		v[i].title_en = db_cell(&rows, i, 5);
		v[i].body_zh = db_cell(&rows, i, 6);
		v[i].body_en = db_cell(&rows, i, 7);
		v[i].created_at = db_cell_int(&rows, i, 8);
		v[i].read_at = db_cell(&rows, i, 9) ? db_cell_int(&rows, i, 9) : 0;
	}
	*out = v;
	*n = rows.nrows;
	return 0;
}

static json_t *message_json(struct req *r, const struct message *m)
{
	json_t *j = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I}", "id", (json_int_t)m->id, "kind", m->kind,
			      "title", (en(r) ? m->title_en : m->title_zh), "body", (en(r) ? m->body_en : m->body_zh), "title_zh",
			      m->title_zh, "title_en", m->title_en, "body_zh", m->body_zh, "body_en", m->body_en,
			      "created_at", (json_int_t)m->created_at);
	json_object_set_new(j, "application_id", m->application_id ? json_integer(m->application_id) : json_null());
	json_object_set_new(j, "number", m->number ? json_string(m->number) : json_null());
	json_object_set_new(j, "read_at", m->read_at ? json_integer(m->read_at) : json_null());
	return j;
}

/* Splits a body into its lines (the reason comes after a line break), each as runs of text
 * and links (view/linkify.h; layout/linked renders them). */
static json_t *lines(const char *s)
{
	json_t *a = json_array();
	while (s && *s) {
		size_t n = strcspn(s, "\n");
		json_array_append_new(a, json_pack("{s:o}", "runs", view_linkify(s, n)));
		s += n;
		if (*s == '\n')
			s++;
	}
	return a;
}

int notify_nav_section(struct req *r, const void *subject, json_t *ctx)
{
	const char *href = subject;
	long n = 0;
	if (!r->who.account || !href || strcmp(href, "/inbox") != 0 || notify_unread_count(r->db, r->arena, inbox_of(r), &n))
		return 0;
	json_object_set_new(ctx, "count", json_integer(n));
	return 0;
}

/* GET /inbox, GET /api/v1/me/inbox */
static int inbox_get(struct req *r)
{
	long page, per = PER_PAGE;
	int rc = req_query_long(r, "page", 1, 1, 100000, &page);
	if (!rc && r->api)
		rc = req_query_long(r, "per_page", PER_PAGE, 1, 100, &per);
	if (rc)
		return rc;
	struct message *v;
	size_t n;
	long total, unread;
	if ((rc = list(r, page, per, &v, &n, &total, &unread)))
		return rc;
	resp_header(r, "Cache-Control", "no-store");
	if (r->api) {
		json_t *arr = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(arr, message_json(r, &v[i]));
		return resp_json(r, 200, json_pack("{s:o,s:I,s:I,s:I,s:I}", "messages", arr, "total", (json_int_t)total,
						   "unread", (json_int_t)unread, "page", (json_int_t)page, "per_page",
						   (json_int_t)per));
	}
	json_t *ctx = json_object();
	jset(ctx, "title", M(r, "inbox_title"));
	jset(ctx, "csrf", identity_csrf_token(r));
	json_object_set_new(ctx, "nav_inbox", json_true());
	json_t *rows = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "id", json_integer(v[i].id));
		jset(o, "title", (en(r) ? v[i].title_en : v[i].title_zh));
		json_object_set_new(o, "lines", lines((en(r) ? v[i].body_en : v[i].body_zh)));
		jset(o, "created", req_when(r, v[i].created_at));
		jset(o, "created_iso", req_when_iso(r, v[i].created_at));
		json_object_set_new(o, "unread", json_boolean(!v[i].read_at));
		if (v[i].number) {
			jset(o, "href", arena_printf(r->arena, "/applications/%s", v[i].number));
			jset(o, "number", v[i].number);
		}
		json_array_append_new(rows, o);
	}
	json_object_set_new(ctx, "rows", rows);
	json_object_set_new(ctx, "has_rows", json_boolean(n > 0));
	json_object_set_new(ctx, "has_unread", json_boolean(unread > 0));
	json_object_set_new(ctx, "page", json_integer(page));
	jset(ctx, "count", MF(r, "inbox_count_total_unread", MA("total", total), MA("unread", unread)));
	const char *done = req_query(r, "done");
	if (done && strcmp(done, "read") == 0)
		jset(ctx, "notice", M(r, "notify_marked_read"));
	else if (done && strcmp(done, "read_all") == 0)
		jset(ctx, "notice", M(r, "notify_all_messages_marked_read"));
	json_object_set_new(ctx, "pagination", req_pagination(r, "/inbox?", page, per, total));
	return resp_page(r, 200, "notify/inbox", ctx);
}

/* The page to go back to after a page action: the form's "page" when it is a small number. */
static long back_page(struct req *r)
{
	struct kvlist form;
	if (req_form(r, &form))
		return 1;
	const char *s = kv_get(&form, "page");
	if (!s || *s < '1' || *s > '9' || strlen(s) > 6)
		return 1;
	char *end;
	long v = strtol(s, &end, 10);
	return *end ? 1 : v;
}

static const char *back(struct req *r, const char *done)
{
	long page = back_page(r);
	return page > 1 ? arena_printf(r->arena, "/inbox?page=%ld&done=%s", page, done)
			: arena_printf(r->arena, "/inbox?done=%s", done);
}

/* A mark as read on the writer (http/write.h): one message (id) or all (id 0) of the inbox
 * `owner`; read_at or marked is what the answer tells. */
struct mark {
	int64_t owner, id, read_at, marked;
};

static int mark_write(struct req *w, void *p)
{
	struct mark *m = p;
	int64_t now = clock_now();
	m->read_at = m->marked = 0;
	if (!m->id)
		return db_exec(w->db, &q_read_all, DB_ARGS(DB_INT(now), DB_INT(m->owner)), &m->marked);
	int rc = db_exec(w->db, &q_read, DB_ARGS(DB_INT(now), DB_INT(m->id), DB_INT(m->owner)), NULL);
	struct db_rows rows;
	if (!rc)
		rc = db_query(w->db, w->arena, &q_read_at, DB_ARGS(DB_INT(m->id), DB_INT(m->owner)), &rows);
	if (!rc && rows.nrows == 0)
		rc = GH_ENOTFOUND; /* none, or someone else's: the same answer */
	if (!rc)
		m->read_at = db_cell_int(&rows, 0, 0);
	return rc;
}

static int mark_answer(struct req *r, void *p, int rc)
{
	struct mark *m = p;
	if (rc)
		return rc;
	if (!r->api)
		return resp_redirect(r, 303, back(r, m->id ? "read" : "read_all"));
	resp_header(r, "Cache-Control", "no-store");
	if (m->id)
		return resp_json(r, 200, json_pack("{s:I,s:I}", "id", (json_int_t)m->id, "read_at", (json_int_t)m->read_at));
	return resp_json(r, 200, json_pack("{s:I}", "marked", (json_int_t)m->marked));
}

static int mark(struct req *r, int64_t id)
{
	struct mark *m = arena_zalloc(r->arena, sizeof(*m));
	m->owner = inbox_of(r);
	m->id = id;
	return req_write(r, mark_write, mark_answer, m);
}

/* POST /inbox/{id}/read, POST /api/v1/me/inbox/{id}/read: idempotent. */
static int read_one(struct req *r)
{
	int64_t id;
	int rc = req_param_id(r, "id", &id);
	return rc ? rc : mark(r, id);
}

/* POST /inbox/read-all, POST /api/v1/me/inbox/read-all */
static int read_all(struct req *r)
{
	return mark(r, 0);
}

/* ---- settings: which channel for which topic (prefs.h) ----------------------------------- */

static const char *const channels[] = { "inbox", "email", "sms" };

static bool pref_on(const struct notify_pref *p, size_t channel)
{
	return channel == 0 ? p->inbox : channel == 1 ? p->email : p->sms;
}

/* GET /inbox/settings */
static int settings_get(struct req *r)
{
	struct notify_pref prefs[NOTIFY_TOPICS];
	int rc = notify_prefs_all(r->db, r->arena, inbox_of(r), prefs);
	if (rc)
		return rc;
	json_t *topics = json_array();
	for (size_t i = 0; i < NOTIFY_TOPICS; i++) {
		json_t *chs = json_array();
		for (size_t c = 0; c < ARRAY_LEN(channels); c++)
			json_array_append_new(chs, json_pack("{s:s,s:s,s:b}", "name",
							     arena_printf(r->arena, "%s_%s", notify_topics[i], channels[c]),
							     "label", MC(r, "inbox_channel_", channels[c]), "on",
							     pref_on(&prefs[i], c)));
		json_array_append_new(topics, json_pack("{s:s,s:s,s:s,s:o}", "topic", notify_topics[i], "label",
							MC(r, "inbox_topic_", notify_topics[i]), "hint",
							MC(r, "inbox_topic_hint_", notify_topics[i]), "channels", chs));
	}
	json_t *ctx = json_pack("{s:s,s:s,s:b,s:o}", "title", M(r, "inbox_settings_title"), "csrf",
				identity_csrf_token(r), "nav_inbox", 1, "topics", topics);
	const char *done = req_query(r, "done");
	if (done && !strcmp(done, "saved"))
		jset(ctx, "notice", M(r, "inbox_settings_saved"));
	resp_header(r, "Cache-Control", "no-store");
	return resp_page(r, 200, "notify/settings", ctx);
}

struct settings_job {
	int64_t account;
	struct notify_pref prefs[NOTIFY_TOPICS];
};

static int settings_write(struct req *w, void *p)
{
	struct settings_job *j = p;
	return notify_prefs_set(w->db, j->account, j->prefs, clock_now());
}

/* POST /inbox/settings: a checkbox <topic>_<channel> = 1 for each channel on; an unchecked
 * box is off. Any other field, or another value, is refused (422) and changes nothing. */
static int settings_post(struct req *r)
{
	struct kvlist form;
	int rc = req_form(r, &form);
	if (rc)
		return rc;
	struct settings_job *j = arena_zalloc(r->arena, sizeof(*j));
	j->account = inbox_of(r);
	for (size_t k = 0; k < form.n; k++) {
		const char *key = form.v[k].key, *val = form.v[k].val;
		if (!strcmp(key, "_csrf"))
			continue;
		bool known = false;
		for (size_t i = 0; i < NOTIFY_TOPICS && !known; i++)
			for (size_t c = 0; c < ARRAY_LEN(channels) && !known; c++) {
				size_t tl = strlen(notify_topics[i]);
				if (strncmp(key, notify_topics[i], tl) || key[tl] != '_' || strcmp(key + tl + 1, channels[c]))
					continue;
				known = true;
				bool *on = c == 0 ? &j->prefs[i].inbox : c == 1 ? &j->prefs[i].email : &j->prefs[i].sms;
				*on = true;
			}
		if (!known || strcmp(val, "1") != 0) {
			req_error_detail(r, "%s", M(r, "inbox_settings_unknown"));
			return GH_EVALIDATION;
		}
	}
	resp_redirect(r, 303, "/inbox/settings?done=saved");
	return req_write(r, settings_write, NULL, j);
}

/* The settings as JSON: {"topics": {"<topic>": {"inbox": b, "email": b, "sms": b}, ...}}. */
static json_t *settings_json(const struct notify_pref prefs[NOTIFY_TOPICS])
{
	json_t *topics = json_object();
	for (size_t i = 0; i < NOTIFY_TOPICS; i++)
		json_object_set_new(topics, notify_topics[i],
				    json_pack("{s:b,s:b,s:b}", "inbox", prefs[i].inbox, "email", prefs[i].email, "sms",
					      prefs[i].sms));
	return json_pack("{s:o}", "topics", topics);
}

/* GET /api/v1/me/notification-settings */
static int settings_api_get(struct req *r)
{
	struct notify_pref prefs[NOTIFY_TOPICS];
	int rc = notify_prefs_all(r->db, r->arena, inbox_of(r), prefs);
	if (rc)
		return rc;
	resp_header(r, "Cache-Control", "no-store");
	return resp_json(r, 200, settings_json(prefs));
}

static int settings_api_answer(struct req *r, void *p, int rc)
{
	struct settings_job *j = p;
	if (rc)
		return rc;
	resp_header(r, "Cache-Control", "no-store");
	return resp_json(r, 200, settings_json(j->prefs));
}

/* PUT /api/v1/me/notification-settings: {"topics": {"<topic>": {"inbox"|"email"|"sms": bool}}};
 * a topic or channel left out keeps its setting. Anything else: 422, nothing changed. */
static int settings_api_put(struct req *r)
{
	json_t *in;
	int rc = req_body_object(r, &in);
	if (rc)
		return rc;
	struct settings_job *j = arena_zalloc(r->arena, sizeof(*j));
	j->account = inbox_of(r);
	if ((rc = notify_prefs_all(r->db, r->arena, j->account, j->prefs)))
		return rc;
	json_t *topics = json_object_get(in, "topics");
	bool ok = json_is_object(topics) && json_object_size(in) == 1;
	const char *tk, *ck;
	json_t *tv, *cv;
	json_object_foreach(ok ? topics : NULL, tk, tv)
	{
		size_t i = 0;
		while (i < NOTIFY_TOPICS && strcmp(tk, notify_topics[i]))
			i++;
		ok = ok && i < NOTIFY_TOPICS && json_is_object(tv);
		json_object_foreach(ok ? tv : NULL, ck, cv)
		{
			size_t c = 0;
			while (c < ARRAY_LEN(channels) && strcmp(ck, channels[c]))
				c++;
			ok = ok && c < ARRAY_LEN(channels) && json_is_boolean(cv);
			if (ok)
				*(c == 0 ? &j->prefs[i].inbox : c == 1 ? &j->prefs[i].email : &j->prefs[i].sms) = json_is_true(cv);
		}
	}
	if (!ok) {
		req_error_detail(r, "%s", M(r, "inbox_settings_api_invalid"));
		return GH_EVALIDATION;
	}
	return req_write(r, settings_write, settings_api_answer, j);
}

const struct route notify_routes[] = {
	{ HTTP_GET, "/inbox", inbox_get, ROLE_USER, 0, "notify.inbox" },
	{ HTTP_GET, "/inbox/settings", settings_get, ROLE_USER, 0, "notify.settings" },
	{ HTTP_POST, "/inbox/settings", settings_post, ROLE_USER, ROUTE_CSRF, "notify.settings_post" },
	{ HTTP_POST, "/inbox/read-all", read_all, ROLE_USER, ROUTE_CSRF, "notify.read_all" },
	{ HTTP_POST, "/inbox/{id}/read", read_one, ROLE_USER, ROUTE_CSRF, "notify.read" },
	{ HTTP_GET, "/api/v1/me/inbox", inbox_get, ROLE_USER, 0, "notify.api_inbox", NULL, SCOPE_PROFILE },
	{ HTTP_POST, "/api/v1/me/inbox/read-all", read_all, ROLE_USER, 0, "notify.api_read_all", NULL,
	  SCOPE_PROFILE },
	{ HTTP_POST, "/api/v1/me/inbox/{id}/read", read_one, ROLE_USER, 0, "notify.api_read", NULL, SCOPE_PROFILE },
	{ HTTP_GET, "/api/v1/me/notification-settings", settings_api_get, ROLE_USER, 0, "notify.api_settings", NULL,
	  SCOPE_PROFILE },
	{ HTTP_PUT, "/api/v1/me/notification-settings", settings_api_put, ROLE_USER, 0, "notify.api_settings_put", NULL,
	  SCOPE_PROFILE },
};
const size_t notify_routes_n = ARRAY_LEN(notify_routes);

int notify_add_routes(struct router *rt)
{
	return router_add(rt, notify_routes, notify_routes_n) ? GH_EINVAL : 0;
}
