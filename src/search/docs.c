/* docs.c: where the search's documents come from. Each source is one function: one query,
 * rows turned into struct sdoc_in and handed to the builder. A new kind of document (FAQ
 * answers, published information) is one more function in `sources` below, plus its kind in
 * search_impl.h (enum sdoc_kind) and its page address in search.c (search_doc_href). */
#include <string.h>

#include <jansson.h>

#include "base/err.h"
#include "base/sb.h"
#include "base/util.h"
#include "search/search.h"
#include "search/search_impl.h"
#include "store/db.h"

/* The label of code in a JSON array of {code, name_zh, name_en} (themes, e-certificates). */
static const char *label(json_t *list, const char *code, bool en)
{
	size_t i;
	json_t *v;
	if (!code || !list)
		return NULL;
	json_array_foreach(list, i, v)
	{
		const char *c = json_string_value(json_object_get(v, "code"));
		if (c && !strcmp(c, code))
			return json_string_value(json_object_get(v, en ? "name_en" : "name_zh"));
	}
	return NULL;
}

/* Joins the names of a JSON array of objects (materials) or strings (keywords). */
static const char *join(struct arena *a, const char *json, const char *key)
{
	if (!json)
		return NULL;
	json_t *arr = json_loads(json, 0, NULL);
	if (!json_is_array(arr)) {
		json_decref(arr);
		return NULL;
	}
	struct sb sb = SB_INIT;
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
	{
		const char *s = key ? json_string_value(json_object_get(v, key)) : json_string_value(v);
		if (s) {
			sb_adds(&sb, s);
			sb_adds(&sb, "；");
		}
	}
	json_decref(arr);
	const char *r = arena_strndup(a, sb.buf, sb.len);
	sb_release(&sb);
	return r;
}

static unsigned audience_bits(const char *s)
{
	unsigned b = 0;
	if (s && strstr(s, "individual"))
		b |= 1;
	if (s && strstr(s, "enterprise"))
		b |= 2;
	return b;
}

DB_SQL(q_items,
       "SELECT s.code, s.name_zh, s.name_en, s.department, d.name_zh, d.name_en, s.audience, s.theme, "
       "s.conditions_zh, s.conditions_en, s.materials, s.outcome_ecert, s.keywords_zh, COALESCE(u.n, 0), "
       "s.item_type, s.online_depth, s.aliases_zh, s.aliases_en "
       "FROM service_items s JOIN departments d ON d.code = s.department "
       "LEFT JOIN (SELECT item_code, count(*) AS n FROM applications GROUP BY item_code) u ON u.item_code = s.code "
       "WHERE s.is_current = 1 ORDER BY s.code");

static int source_items(struct db *db, struct arena *a, const struct search_labels *lb, struct sindex_builder *b)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_items, DB_NOARGS, &rows);
	if (rc)
		return rc;
	for (size_t r = 0; r < rows.nrows; r++) {
		const char *theme = db_cell(&rows, r, 7), *ecert = db_cell(&rows, r, 11);
		const char *materials = db_cell(&rows, r, 10);
		struct sdoc_in d = {
			.kind = SDOC_ITEM, .code = db_cell(&rows, r, 0), .name_zh = db_cell(&rows, r, 1),
			.name_en = db_cell(&rows, r, 2), .department = db_cell(&rows, r, 3),
			.dept_name_zh = db_cell(&rows, r, 4), .dept_name_en = db_cell(&rows, r, 5),
			.audience = audience_bits(db_cell(&rows, r, 6)), .theme = theme,
			.summary_zh = db_cell(&rows, r, 8), .summary_en = db_cell(&rows, r, 9),
			.usage = (double)db_cell_int(&rows, r, 13), .item_type = db_cell(&rows, r, 14),
			.outcome = ecert, .online_depth = (int)db_cell_int(&rows, r, 15),
		};
		d.text[F_KEYWORDS][0] = join(a, db_cell(&rows, r, 12), NULL);
		d.text[F_ALIAS][0] = join(a, db_cell(&rows, r, 16), NULL);
		d.text[F_ALIAS][1] = join(a, db_cell(&rows, r, 17), NULL);
		d.text[F_OUTCOME][0] = label(lb->ecerts, ecert, false);
		d.text[F_OUTCOME][1] = label(lb->ecerts, ecert, true);
		d.text[F_MATERIALS][0] = join(a, materials, "name_zh");
		d.text[F_MATERIALS][1] = join(a, materials, "name_en");
		d.text[F_CONDITIONS][0] = d.summary_zh;
		d.text[F_CONDITIONS][1] = d.summary_en;
		d.text[F_DEPT][0] = label(lb->themes, theme, false);
		d.text[F_DEPT][1] = label(lb->themes, theme, true);
		sindex_builder_add(b, &d);
	}
	return 0;
}

DB_SQL(q_bundles, "SELECT code, name_zh, name_en, description_zh, description_en, aliases_zh, aliases_en "
		  "FROM bundles ORDER BY position, code");
DB_SQL(q_bundle_items,
       "SELECT bi.bundle, s.name_zh, s.name_en, s.department, s.audience, s.theme, d.name_zh, d.name_en "
       "FROM bundle_items bi JOIN service_items s ON s.code = bi.item AND s.is_current = 1 "
       "JOIN departments d ON d.code = s.department ORDER BY bi.bundle, bi.position");

static int source_bundles(struct db *db, struct arena *a, const struct search_labels *lb, struct sindex_builder *b)
{
	struct db_rows rows, items;
	int rc = db_query(db, a, &q_bundles, DB_NOARGS, &rows);
	if (!rc)
		rc = db_query(db, a, &q_bundle_items, DB_NOARGS, &items);
	if (rc)
		return rc;
	for (size_t r = 0; r < rows.nrows; r++) {
		const char *code = db_cell(&rows, r, 0);
		struct sb zh = SB_INIT, en = SB_INIT;
		struct sdoc_in d = {
			.kind = SDOC_BUNDLE, .code = code, .name_zh = db_cell(&rows, r, 1),
			.name_en = db_cell(&rows, r, 2), .summary_zh = db_cell(&rows, r, 3),
			.summary_en = db_cell(&rows, r, 4),
		};
		/* A bundle belongs to the department and theme of its first item and to every
		 * audience of its items; its items' names are part of its text. */
		for (size_t i = 0; i < items.nrows; i++) {
			if (strcmp(db_cell(&items, i, 0), code))
				continue;
			sb_adds(&zh, db_cell(&items, i, 1));
			sb_adds(&zh, "；");
			sb_adds(&en, db_cell(&items, i, 2));
			sb_adds(&en, "; ");
			d.audience |= audience_bits(db_cell(&items, i, 4));
			if (!d.department) {
				d.department = db_cell(&items, i, 3);
				d.theme = db_cell(&items, i, 5);
				d.dept_name_zh = db_cell(&items, i, 6);
				d.dept_name_en = db_cell(&items, i, 7);
			}
		}
		d.text[F_BODY][0] = d.summary_zh;
		d.text[F_BODY][1] = d.summary_en;
		d.text[F_ALIAS][0] = join(a, db_cell(&rows, r, 5), NULL);
		d.text[F_ALIAS][1] = join(a, db_cell(&rows, r, 6), NULL);
		d.text[F_MATERIALS][0] = arena_strndup(a, zh.buf, zh.len);
		d.text[F_MATERIALS][1] = arena_strndup(a, en.buf, en.len);
		d.text[F_DEPT][0] = label(lb->themes, d.theme, false);
		d.text[F_DEPT][1] = label(lb->themes, d.theme, true);
		sb_release(&zh);
		sb_release(&en);
		sindex_builder_add(b, &d);
	}
	return 0;
}

DB_SQL(q_published, "SELECT p.id, p.title_zh, p.title_en, p.body_zh, p.body_en, p.department, d.name_zh, d.name_en "
		   "FROM publish_documents p JOIN departments d ON d.code = p.department "
		   "WHERE p.state = 'published' ORDER BY p.id");

/* Markdown as plain words for a summary: marks of emphasis, headings, quotes, lists and the
 * link syntax dropped (the text is escaped when shown). */
static const char *plain(struct arena *a, const char *md)
{
	if (!md)
		return NULL;
	struct sb out = SB_INIT;
	bool line_start = true;
	for (const char *p = md; *p; p++) {
		char c = *p;
		if (line_start && (c == '#' || c == '>' || c == '-' || c == '+' || c == ' '))
			continue;
		line_start = c == '\n';
		if (c == '*' || c == '_' || c == '`' || c == '[' || c == ']')
			continue;
		if (c == '(' && p > md && p[-1] == ']') { /* a link's address */
			const char *e = strchr(p, ')');
			if (e) {
				p = e;
				continue;
			}
		}
		sb_addch(&out, c == '\n' || c == '\r' ? ' ' : c);
	}
	char *r = arena_strndup(a, out.buf, out.len);
	sb_release(&out);
	return r;
}

/* Published information (信息公开): announcements and policy documents, for everyone. */
static int source_published(struct db *db, struct arena *a, const struct search_labels *lb, struct sindex_builder *b)
{
	(void)lb;
	struct db_rows rows;
	int rc = db_query(db, a, &q_published, DB_NOARGS, &rows);
	if (rc)
		return rc;
	for (size_t r = 0; r < rows.nrows; r++) {
		const char *en_title = db_cell(&rows, r, 2), *en_body = db_cell(&rows, r, 4);
		struct sdoc_in d = {
			.kind = SDOC_INFO, .code = db_cell(&rows, r, 0), .name_zh = db_cell(&rows, r, 1),
			.name_en = en_title && *en_title ? en_title : NULL, .department = db_cell(&rows, r, 5),
			.dept_name_zh = db_cell(&rows, r, 6), .dept_name_en = db_cell(&rows, r, 7), .audience = 1 | 2,
		};
		d.summary_zh = plain(a, db_cell(&rows, r, 3));
		d.summary_en = en_body && *en_body ? plain(a, en_body) : NULL;
		d.text[F_BODY][0] = d.summary_zh;
		d.text[F_BODY][1] = d.summary_en;
		d.text[F_DEPT][0] = d.dept_name_zh;
		d.text[F_DEPT][1] = d.dept_name_en;
		sindex_builder_add(b, &d);
	}
	return 0;
}

DB_SQL(q_faq, "SELECT c.item_code, c.public_question, c.public_answer, s.name_zh, s.name_en, s.department, "
	      "d.name_zh, d.name_en, s.audience, s.theme FROM consultations c "
	      "JOIN service_items s ON s.code = c.item_code AND s.is_current = 1 "
	      "JOIN departments d ON d.code = s.department WHERE c.published = 1 ORDER BY c.id");

/* FAQ answers (a consultation's public version, published on its item's guide page): found by
 * the question and the answer, and by the item's name. */
static int source_faq(struct db *db, struct arena *a, const struct search_labels *lb, struct sindex_builder *b)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_faq, DB_NOARGS, &rows);
	if (rc)
		return rc;
	for (size_t r = 0; r < rows.nrows; r++) {
		const char *question = db_cell(&rows, r, 1), *answer = db_cell(&rows, r, 2);
		const char *theme = db_cell(&rows, r, 9);
		struct sdoc_in d = {
			.kind = SDOC_FAQ, .code = db_cell(&rows, r, 0), .name_zh = question, .name_en = NULL,
			.department = db_cell(&rows, r, 5), .dept_name_zh = db_cell(&rows, r, 6),
			.dept_name_en = db_cell(&rows, r, 7), .theme = theme,
			.audience = audience_bits(db_cell(&rows, r, 8)), .summary_zh = answer,
		};
		d.text[F_BODY][0] = answer;
		d.text[F_MATERIALS][0] = db_cell(&rows, r, 3); /* the item's name */
		d.text[F_MATERIALS][1] = db_cell(&rows, r, 4);
		d.text[F_DEPT][0] = label(lb->themes, theme, false);
		d.text[F_DEPT][1] = label(lb->themes, theme, true);
		sindex_builder_add(b, &d);
	}
	return 0;
}

typedef int (*source_fn)(struct db *db, struct arena *a, const struct search_labels *lb, struct sindex_builder *b);
/* Document sources, in order. */
static const source_fn sources[] = { source_items, source_bundles, source_published, source_faq };

int search_docs_build(struct db *db, const struct lex *lx, struct lex *rules, const struct search_labels *lb,
		      uint64_t generation, sdoc_tap_fn tap, void *tapctx, struct sindex **out)
{
	struct arena *a = arena_new(256 * 1024);
	struct sindex_builder *b = sindex_builder_new(lx);
	sindex_builder_set_rules(b, rules);
	int rc = 0;
	sindex_builder_set_tap(b, tap, tapctx);
	for (size_t i = 0; i < ARRAY_LEN(sources) && !rc; i++) {
		rc = sources[i](db, a, lb, b);
		arena_reset(a);
	}
	struct sindex *ix = sindex_builder_finish(b, generation);
	arena_free(a);
	if (rc) {
		sindex_free(ix);
		return rc;
	}
	*out = ix;
	return 0;
}
