/* store.c: the publish_documents and publish_attachments tables, validation, permissions and
 * the workflow. */
#include <string.h>
#include <time.h>

#include "app.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/str.h"
#include "base/util.h"
#include "catalog/catalog.h"
#include "publish/publish_impl.h"
#include "search/search.h"
#include "store/cover.h"
#include "store/db.h"
#include "http/msg.h"

const char *const pub_categories[] = { "announcement", "policy", "interpretation", "news" };
const size_t pub_categories_n = ARRAY_LEN(pub_categories);

bool pub_category_ok(const char *c)
{
	for (size_t i = 0; c && i < pub_categories_n; i++)
		if (!strcmp(c, pub_categories[i]))
			return true;
	return false;
}

static bool text_ok(const char *s, size_t max_chars, bool required)
{
	if (!s || !*s)
		return !required;
	size_t len = strlen(s);
	if (!str_utf8_valid(s, len) || str_utf8_chars(s, len) > max_chars)
		return false;
	if (required) {
		/* Not only spaces. */
		bool blank = true;
		for (size_t i = 0; i < len && blank; i++)
			blank = s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n';
		return !blank;
	}
	return true;
}

static bool body_ok(const char *s, bool required)
{
	if (!s || !*s)
		return !required;
	size_t len = strlen(s);
	return len <= PUBLISH_MAX_BODY && str_utf8_valid(s, len) && text_ok(s, PUBLISH_MAX_BODY, required);
}

int pub_validate(struct db *db, struct arena *a, struct pub_input *in, json_t **errors)
{
	json_t *e = json_object();
	if (!pub_category_ok(in->category))
		json_object_set_new(e, "category", json_string("publish_err_category"));
	struct catalog_department dept;
	if (!in->department || strlen(in->department) > 64 || catalog_department_get(db, a, in->department, &dept))
		json_object_set_new(e, "department", json_string("publish_err_department"));
	if (!text_ok(in->title_zh, PUB_MAX_TITLE, true))
		json_object_set_new(e, "title_zh", json_string("publish_err_title"));
	if (!text_ok(in->title_en, PUB_MAX_TITLE, false))
		json_object_set_new(e, "title_en", json_string("publish_err_title"));
	if (!body_ok(in->body_zh, true))
		json_object_set_new(e, "body_zh", json_string("publish_err_body"));
	if (!body_ok(in->body_en, false))
		json_object_set_new(e, "body_en", json_string("publish_err_body"));
	if (!in->title_en)
		in->title_en = "";
	if (!in->body_en)
		in->body_en = "";
	/* An English body without an English title (or the reverse) would show half a page. */
	if (!json_object_size(e) && (!*in->title_en) != (!*in->body_en))
		json_object_set_new(e, *in->title_en ? "body_en" : "title_en", json_string("publish_err_en_pair"));
	if (json_object_size(e)) {
		*errors = e;
		return GH_EVALIDATION;
	}
	json_decref(e);
	*errors = NULL;
	return 0;
}

#define DOC_COLS                                                                                          \
	"d.id, d.category, d.department, d.title_zh, d.title_en, d.body_zh, d.body_en, d.state, d.author_id, " \
	"d.approver_id, d.note, d.created_at, d.updated_at, d.published_at, d.withdrawn_at, d.version, "     \
	"p.name_zh, p.name_en, u.name "
#define DOC_FROM "FROM publish_documents d JOIN departments p ON p.code = d.department JOIN accounts u ON u.id = d.author_id "

DB_SQL(q_insert, "INSERT INTO publish_documents (category, department, title_zh, title_en, body_zh, body_en, state, "
		 "author_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'draft', ?, ?, ?) RETURNING id");
DB_SQL(q_update, "UPDATE publish_documents SET category = ?, department = ?, title_zh = ?, title_en = ?, body_zh = ?, "
		 "body_en = ?, updated_at = ?, version = version + 1 WHERE id = ? AND version = ? AND state = 'draft'");
DB_SQL(q_get, "SELECT " DOC_COLS DOC_FROM "WHERE d.id = ?");
DB_SQL(q_move, "UPDATE publish_documents SET state = ?, note = ?, updated_at = ?, version = version + 1, "
	       "approver_id = CASE WHEN CAST(? AS TEXT) = 'published' THEN CAST(? AS BIGINT) ELSE approver_id END, "
	       "published_at = CASE WHEN CAST(? AS TEXT) = 'published' THEN CAST(? AS BIGINT) ELSE published_at END, "
	       "withdrawn_at = CASE WHEN CAST(? AS TEXT) = 'withdrawn' THEN CAST(? AS BIGINT) ELSE withdrawn_at END "
	       "WHERE id = ? AND version = ? AND state = ?");
#define PUB_FILTERS                                                                       \
	"AND (CAST(? AS TEXT) IS NULL OR d.category = ?) "                                  \
	"AND (CAST(? AS TEXT) IS NULL OR d.department = ?) "                                \
	"AND (CAST(? AS TEXT) IS NULL OR d.state = ?) "
DB_SQL(q_list_public, "SELECT " DOC_COLS DOC_FROM "WHERE d.state = 'published' " PUB_FILTERS
		      "ORDER BY d.published_at DESC, d.id DESC LIMIT ? OFFSET ?");
DB_SQL(q_count_public, "SELECT COUNT(*) FROM publish_documents d WHERE d.state = 'published' " PUB_FILTERS);
DB_SQL(q_list_all, "SELECT " DOC_COLS DOC_FROM "WHERE 1 = 1 " PUB_FILTERS "ORDER BY d.updated_at DESC, d.id DESC "
		   "LIMIT ? OFFSET ?");
DB_SQL(q_count_all, "SELECT COUNT(*) FROM publish_documents d WHERE 1 = 1 " PUB_FILTERS);
DB_SQL(q_att_add, "INSERT INTO publish_attachments (document_id, sha256, mime, size, filename, created_at) "
		  "VALUES (?, ?, ?, ?, ?, ?) RETURNING id");
DB_SQL(q_att_count, "SELECT COUNT(*) FROM publish_attachments WHERE document_id = ?");
DB_SQL(q_att_list, "SELECT id, document_id, sha256, mime, size, filename, created_at FROM publish_attachments "
		   "WHERE document_id = ? ORDER BY id");
DB_SQL(q_att_get, "SELECT id, document_id, sha256, mime, size, filename, created_at FROM publish_attachments "
		  "WHERE document_id = ? AND id = ?");

/* ---- what the transparency log covers (store/cover.h) ------------------------------------
 * Every document, from its draft to its withdrawal, and its attachments: each write below
 * touches the row in its transaction (its own when the caller has none). */
static const struct cover_table cover_docs = {
	.table = "publish_documents", .key = "id",
	.cols = "category, department, title_zh, title_en, body_zh, body_en, state, author_id, approver_id, note, "
		"created_at, updated_at, published_at, withdrawn_at, version",
};
static const struct cover_table cover_atts = {
	.table = "publish_attachments", .key = "id", .cols = "document_id, sha256, mime, size, filename, created_at",
};

void publish_register(void)
{
	cover_declare(&cover_docs);
	cover_declare(&cover_atts);
}


int pub_create(struct db *db, struct arena *a, const struct pub_input *in, int64_t author, int64_t *id)
{
	int64_t now = clock_now();
	struct db_rows rows;
	bool own;
	int rc = cover_tx_begin(db, &own);
	if (!rc)
		rc = db_query(db, a, &q_insert,
			      DB_ARGS(DB_TEXT(in->category), DB_TEXT(in->department), DB_TEXT(in->title_zh),
				      DB_TEXT(in->title_en), DB_TEXT(in->body_zh), DB_TEXT(in->body_en), DB_INT(author),
				      DB_INT(now), DB_INT(now)),
			      &rows);
	if (!rc)
		*id = db_cell_int(&rows, 0, 0);
	return cover_tx_end_id(db, own, rc, "publish_documents", rc ? 0 : *id, "publication.draft");
}

DB_SQL(q_contrib_add, "INSERT INTO publish_contributors (document_id, account_id) VALUES (?, ?) ON CONFLICT DO NOTHING");
DB_SQL(q_contributed, "SELECT 1 FROM publish_documents d WHERE d.id = ? AND (d.author_id = ? OR EXISTS "
		      "(SELECT 1 FROM publish_contributors c WHERE c.document_id = d.id AND c.account_id = ?))");

int pub_contributor_add(struct db *db, int64_t doc, int64_t account)
{
	return db_exec(db, &q_contrib_add, DB_ARGS(DB_INT(doc), DB_INT(account)), NULL);
}

int pub_contributed(struct db *db, int64_t doc, int64_t account, bool *out)
{
	struct arena *a = arena_new(256);
	struct db_rows rows;
	int rc = db_query(db, a, &q_contributed, DB_ARGS(DB_INT(doc), DB_INT(account), DB_INT(account)), &rows);
	*out = rc || rows.nrows > 0; /* in doubt, a contributor */
	arena_free(a);
	return rc;
}

int pub_update(struct db *db, int64_t id, int64_t version, const struct pub_input *in, int64_t editor)
{
	/* The editor is recorded first: should the edit then fail, they merely may not approve. */
	int rc = pub_contributor_add(db, id, editor);
	if (rc)
		return rc;
	int64_t changed = 0;
	bool own;
	rc = cover_tx_begin(db, &own);
	if (!rc)
		rc = db_exec(db, &q_update,
			     DB_ARGS(DB_TEXT(in->category), DB_TEXT(in->department), DB_TEXT(in->title_zh),
				     DB_TEXT(in->title_en), DB_TEXT(in->body_zh), DB_TEXT(in->body_en),
				     DB_INT(clock_now()), DB_INT(id), DB_INT(version)),
			     &changed);
	if (!rc && changed != 1)
		rc = GH_ECONFLICT;
	return cover_tx_end_id(db, own, rc, "publish_documents", id, "publication.edit");
}

static void from_row(const struct db_rows *r, size_t i, struct pub_doc *d)
{
	d->id = db_cell_int(r, i, 0);
	d->category = db_cell(r, i, 1);
	d->department = db_cell(r, i, 2);
	d->title_zh = db_cell(r, i, 3);
	d->title_en = db_cell(r, i, 4);
	d->body_zh = db_cell(r, i, 5);
	d->body_en = db_cell(r, i, 6);
	d->state = db_cell(r, i, 7);
	d->author_id = db_cell_int(r, i, 8);
	d->approver_id = db_cell_int(r, i, 9);
	d->note = db_cell(r, i, 10);
	d->created_at = db_cell_int(r, i, 11);
	d->updated_at = db_cell_int(r, i, 12);
	d->published_at = db_cell_int(r, i, 13);
	d->withdrawn_at = db_cell_int(r, i, 14);
	d->version = db_cell_int(r, i, 15);
	d->dept_name_zh = db_cell(r, i, 16);
	d->dept_name_en = db_cell(r, i, 17);
	d->author_name = db_cell(r, i, 18);
}

int pub_get(struct db *db, struct arena *a, int64_t id, struct pub_doc *out)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_get, DB_ARGS(DB_INT(id)), &rows);
	if (rc)
		return rc;
	if (rows.nrows != 1)
		return GH_ENOTFOUND;
	from_row(&rows, 0, out);
	return 0;
}

int pub_move(struct db *db, int64_t id, int64_t version, const char *from, const char *to, int64_t actor,
	     const char *note)
{
	int64_t now = clock_now(), changed = 0;
	bool own;
	int rc = cover_tx_begin(db, &own);
	if (!rc)
		rc = db_exec(db, &q_move,
			     DB_ARGS(DB_TEXT(to), DB_TEXT(note ? note : ""), DB_INT(now), DB_TEXT(to), DB_INT(actor),
				     DB_TEXT(to), DB_INT(now), DB_TEXT(to), DB_INT(now), DB_INT(id), DB_INT(version),
				     DB_TEXT(from)),
			     &changed);
	if (!rc && changed != 1)
		rc = GH_ECONFLICT;
	char action[48];
	snprintf(action, sizeof(action), "publication.%s", to);
	return cover_tx_end_id(db, own, rc, "publish_documents", id, action);
}

int pub_list(struct db *db, struct arena *a, const struct pub_filter *f, long page, long per_page,
	     struct pub_doc **out, size_t *n, long *total)
{
	struct db_val args[] = { DB_TEXT(f->category), DB_TEXT(f->category), DB_TEXT(f->department),
				 DB_TEXT(f->department), DB_TEXT(f->state), DB_TEXT(f->state),
				 DB_INT(per_page), DB_INT((page - 1) * per_page) };
	struct db_rows rows, cnt;
	int rc = db_query(db, a, f->public_only ? &q_count_public : &q_count_all, args, 6, &cnt);
	if (!rc)
		rc = db_query(db, a, f->public_only ? &q_list_public : &q_list_all, args, 8, &rows);
	if (rc)
		return rc;
	*total = (long)db_cell_int(&cnt, 0, 0);
	struct pub_doc *v = arena_array(a, rows.nrows ? rows.nrows : 1, sizeof(*v));
	for (size_t i = 0; i < rows.nrows; i++)
		from_row(&rows, i, &v[i]);
	*out = v;
	*n = rows.nrows;
	return 0;
}

int pub_attach_add(struct db *db, int64_t doc, const char *sha256, const char *mime, int64_t size,
		   const char *filename, int64_t uploader, int64_t *id)
{
	struct arena *a = arena_new(1024);
	struct db_rows rows;
	int rc = db_begin(db);
	if (!rc)
		rc = pub_contributor_add(db, doc, uploader);
	if (!rc)
		rc = db_query(db, a, &q_att_count, DB_ARGS(DB_INT(doc)), &rows);
	if (!rc && db_cell_int(&rows, 0, 0) >= PUB_MAX_ATTACHMENTS)
		rc = GH_ETOOBIG;
	if (!rc)
		rc = db_query(db, a, &q_att_add,
			      DB_ARGS(DB_INT(doc), DB_TEXT(sha256), DB_TEXT(mime), DB_INT(size), DB_TEXT(filename),
				      DB_INT(clock_now())),
			      &rows);
	if (!rc) {
		*id = db_cell_int(&rows, 0, 0);
		rc = cover_touch_id(db, "publish_attachments", *id, "publication.attach");
	}
	if (!rc)
		rc = db_commit(db);
	if (rc)
		db_rollback(db);
	arena_free(a);
	return rc;
}

static void att_row(const struct db_rows *r, size_t i, struct pub_attachment *t)
{
	t->id = db_cell_int(r, i, 0);
	t->document_id = db_cell_int(r, i, 1);
	t->sha256 = db_cell(r, i, 2);
	t->mime = db_cell(r, i, 3);
	t->size = db_cell_int(r, i, 4);
	t->filename = db_cell(r, i, 5);
	t->created_at = db_cell_int(r, i, 6);
}

int pub_attachments(struct db *db, struct arena *a, int64_t doc, struct pub_attachment **out, size_t *n)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_att_list, DB_ARGS(DB_INT(doc)), &rows);
	if (rc)
		return rc;
	struct pub_attachment *v = arena_array(a, rows.nrows ? rows.nrows : 1, sizeof(*v));
	for (size_t i = 0; i < rows.nrows; i++)
		att_row(&rows, i, &v[i]);
	*out = v;
	*n = rows.nrows;
	return 0;
}

int pub_attachment_get(struct db *db, struct arena *a, int64_t doc, int64_t id, struct pub_attachment *out)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_att_get, DB_ARGS(DB_INT(doc), DB_INT(id)), &rows);
	if (rc)
		return rc;
	if (rows.nrows != 1)
		return GH_ENOTFOUND;
	att_row(&rows, 0, out);
	return 0;
}

bool pub_can_write(const struct req *r, const char *department)
{
	if (r->role == ROLE_ADMIN)
		return true;
	return r->role == ROLE_STAFF && r->who.department && department && !strcmp(r->who.department, department) &&
	       (r->who.staff_roles & (STAFF_REVIEWER | STAFF_HEAD));
}

bool pub_can_approve(const struct req *r, const char *department)
{
	if (r->role == ROLE_ADMIN)
		return true;
	return r->role == ROLE_STAFF && r->who.department && department && !strcmp(r->who.department, department) &&
	       (r->who.staff_roles & STAFF_HEAD);
}

bool pub_can_see(const struct req *r, const struct pub_doc *d)
{
	if (!strcmp(d->state, "published"))
		return true;
	if (r->role == ROLE_ADMIN)
		return true;
	return r->role == ROLE_STAFF && r->who.department && !strcmp(r->who.department, d->department);
}

static const struct pub_action actions[] = {
	{ "submit", "draft", "review", false, false },
	{ "approve", "review", "published", true, false },
	{ "return", "review", "draft", true, true },
	{ "withdraw", "published", "withdrawn", true, true },
};

const struct pub_action *pub_action(const char *code)
{
	for (size_t i = 0; code && i < ARRAY_LEN(actions); i++)
		if (!strcmp(actions[i].code, code))
			return &actions[i];
	return NULL;
}

int pub_act(struct req *r, struct pub_doc *d, const char *code, const char *note)
{
	const struct pub_action *act = pub_action(code);
	if (!act)
		return GH_ENOTFOUND;
	if (!(act->head ? pub_can_approve(r, d->department) : pub_can_write(r, d->department)))
		return GH_EFORBIDDEN;
	if (strcmp(d->state, act->from) != 0) {
		req_error_detail(r, "%s", M(r, "publish_document_longer_state_action_needs"));
		return GH_ECONFLICT;
	}
	if (note && (strlen(note) > PUB_MAX_NOTE * 4 || !str_utf8_valid(note, strlen(note)) ||
		     str_utf8_chars(note, strlen(note)) > PUB_MAX_NOTE)) {
		req_error_detail(r, "%s", M(r, "publish_reason_too_long_1000_characters"));
		return GH_EVALIDATION;
	}
	if (act->need_note && (!note || !*note)) {
		req_error_detail(r, "%s", M(r, "publish_give_reason"));
		return GH_EVALIDATION;
	}
	/* Separation of duties: no one approves what they wrote any part of, administrators
	 * included; another head of the department, or an administrator, does. */
	int rc;
	if (!strcmp(act->code, "approve")) {
		bool contributed = true;
		if ((rc = pub_contributed(r->db, d->id, r->who.account, &contributed)))
			return rc;
		if (contributed) {
			req_error_detail(r, "%s", M(r, "publish_wrote_edited_document_another_head"));
			return GH_EFORBIDDEN;
		}
	}
	/* Whoever sends it for review answers for its content. */
	if (!strcmp(act->code, "submit") && (rc = pub_contributor_add(r->db, d->id, r->who.account)))
		return rc;
	/* Publishing and withdrawing change what search finds: every node's index is rebuilt. */
	bool searchable = !strcmp(act->to, "published") || !strcmp(act->from, "published");
	rc = searchable ? db_begin(r->db) : 0;
	if (rc)
		return rc;
	rc = pub_move(r->db, d->id, d->version, act->from, act->to, r->who.account, note);
	if (!rc && searchable)
		rc = search_content_changed(r->db);
	if (searchable) {
		if (!rc)
			rc = db_commit(r->db);
		else
			db_rollback(r->db);
	}
	if (rc)
		return rc;
	return pub_get(r->db, r->arena, d->id, d);
}

const char *pub_title(const struct pub_doc *d, const char *lang, const char **doc_lang)
{
	if (!strcmp(lang, "en") && d->title_en && *d->title_en) {
		*doc_lang = "en";
		return d->title_en;
	}
	*doc_lang = "zh-CN";
	return d->title_zh;
}

const char *pub_body(const struct pub_doc *d, const char *lang, const char **doc_lang)
{
	if (!strcmp(lang, "en") && d->body_en && *d->body_en) {
		*doc_lang = "en";
		return d->body_en;
	}
	*doc_lang = "zh-CN";
	return d->body_zh;
}
