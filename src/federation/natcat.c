/* natcat.c: the national catalog (一体化: one catalog).
 *
 * - A hall publishes its catalog's item versions as a signed feed, GET /federation/catalog
 *   ?after=CURSOR&limit=N: every item version and withdrawal (the import file's "withdrawn")
 *   written after the cursor, in the order the catalog wrote them (catalog_feed's numbers), at
 *   most NAT_PAGE_MAX a page, signed (nat.h) with the claims {"iss", "kind": "catalog", "iat",
 *   "exp", "after", "next", "more", "items": [...], "withdrawn": [{"code", "version"}]}. The
 *   cursor is the number of the last entry taken; neither a version nor a withdrawal is
 *   changed once written and a number is visible only after every smaller one, so the hub
 *   asks only for what is new and misses nothing.
 * - The hub's duty "federation national" reads the feed of every approved hall from where it
 *   stopped, and the halls' statistics (natstats.c), every fed-directory-period seconds; it
 *   keeps the newest version of each (hall, item) in fed_nat_items, drops an item withdrawn
 *   (a withdrawal of the version it holds or a newer one) and every item of a hall no longer
 *   approved (whose feed it then reads again from the start if it returns), and rebuilds the
 *   national index (search_set_build: the catalog search's own ranking) when they changed.
 * - The hub serves GET /api/v1/national/search and the page /national/search: items sharing a
 *   national item code (the item code) are one service with a variant per hall, each linking
 *   to its hall's guide; a query naming a region of the directory ("兰山 户口迁移", "in
 *   Lanshan") is limited to that region's halls. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/duty.h"
#include "base/err.h"
#include "base/log.h"
#include "base/util.h"
#include "federation/fed_impl.h"
#include "federation/jwt.h"
#include "federation/nat.h"
#include "http/client.h"
#include "http/handler.h"
#include "http/msg.h"
#include "http/server.h"
#include "search/search.h"
#include "store/db.h"

#define NAT_PAGES_PER_PASS 50 /* feed pages one hall gets per pass */
#define NAT_HITS_MAX 400      /* ranked variants looked at for one search */
#define NAT_LIMIT_MAX 50      /* services in one answer */
#define NAT_QUERY_MAX 1000    /* bytes of a query */

/* ---- a signed document: the hall's side --------------------------------------------------------- */

int nat_doc_answer(struct req *r, json_t *claims)
{
	int64_t now = time(NULL);
	json_object_set_new(claims, "iss", json_string(r->app->cfg.fed_client_id));
	json_object_set_new(claims, "iat", json_integer(now));
	json_object_set_new(claims, "exp", json_integer(now + NAT_DOC_TTL));
	char *tok;
	int rc = fed_member_sign_doc(r->arena, claims, &tok);
	json_decref(claims);
	if (rc)
		return rc;
	resp_header(r, "Cache-Control", "no-store");
	return resp_body(r, 200, "application/jwt", tok, strlen(tok));
}

/* ---- the hall's feed ------------------------------------------------------------------------------ */

/* Entries after a cursor in the feed's order (catalog_feed, written by the catalog's import
 * in the transaction of the version or withdrawal it numbers); a withdrawal has no item
 * columns. */
DB_SQL(q_feed, "SELECT f.seq, f.withdrawal, f.code, f.version, s.department, d.name_zh, d.name_en, s.name_zh, "
	       "s.name_en, s.keywords_zh, s.aliases_zh, COALESCE(s.conditions_zh, ''), COALESCE(s.conditions_en, ''), "
	       "s.online_depth, s.materials "
	       "FROM catalog_feed f LEFT JOIN service_items s ON f.withdrawal = 0 AND s.code = f.code AND "
	       "s.version = f.version LEFT JOIN departments d ON d.code = s.department "
	       "WHERE f.seq > ? ORDER BY f.seq LIMIT ?");

int nat_cursor_parse(const char *c, int64_t *seq)
{
	*seq = 0;
	if (!c || !*c)
		return 0;
	size_t n = strlen(c);
	if (n > 18 || strspn(c, "0123456789") != n || (c[0] == '0' && n > 1))
		return GH_EINVAL;
	*seq = strtoll(c, NULL, 10);
	return 0;
}

/* Words of a JSON array of strings (or of the member key of its objects), space-separated,
 * appended to sb. */
static void add_words(struct sb *sb, const char *json, const char *key)
{
	json_t *j = json_loads(json ? json : "[]", 0, NULL);
	size_t i;
	json_t *e;
	json_array_foreach(j, i, e)
	{
		json_t *v = key ? json_object_get(e, key) : e;
		if (json_is_string(v)) {
			if (sb->len)
				sb_addch(sb, ' ');
			sb_adds(sb, json_string_value(v));
		}
	}
	json_decref(j);
}

/* Entry i of q_feed as the feed's item. */
static json_t *feed_item(struct req *r, const struct db_rows *rows, size_t i)
{
	struct sb kw = SB_INIT, mat = SB_INIT;
	add_words(&kw, db_cell(rows, i, 9), NULL);
	add_words(&kw, db_cell(rows, i, 10), NULL);
	add_words(&mat, db_cell(rows, i, 14), "name_zh");
	json_t *it = json_pack("{s:s,s:I,s:s,s:s,s:s,s:s,s:s,s:s%,s:s%,s:s,s:s,s:I,s:s}", "code", db_cell(rows, i, 2),
			       "version", (json_int_t)db_cell_int(rows, i, 3), "department", db_cell(rows, i, 4),
			       "dept_zh", db_cell(rows, i, 5), "dept_en", db_cell(rows, i, 6), "name_zh",
			       db_cell(rows, i, 7), "name_en", db_cell(rows, i, 8), "keywords", kw.buf ? kw.buf : "",
			       kw.len, "materials", mat.buf ? mat.buf : "", mat.len, "summary_zh", db_cell(rows, i, 11),
			       "summary_en", db_cell(rows, i, 12), "online_depth", (json_int_t)db_cell_int(rows, i, 13),
			       "url", arena_printf(r->arena, "%s/services/%s", fed_cfg.self_url, db_cell(rows, i, 2)));
	sb_release(&kw);
	sb_release(&mat);
	return it;
}

/* GET /federation/catalog: a page of this hall's signed catalog feed. */
static int feed(struct req *r)
{
	if (!fed_cfg.rp)
		return GH_ENOTFOUND;
	long limit;
	const char *after = req_query(r, "after");
	int64_t seq;
	if (req_query_long(r, "limit", 100, 1, NAT_PAGE_MAX, &limit))
		return GH_EINVAL;
	if (nat_cursor_parse(after, &seq)) {
		req_error_detail(r, "%s", M(r, "nat_feed_bad_cursor"));
		return GH_EINVAL;
	}
	struct db_rows rows;
	int rc = db_query(r->db, r->arena, &q_feed, DB_ARGS(DB_INT(seq), DB_INT(limit + 1)), &rows);
	if (rc)
		return rc;
	size_t n = rows.nrows < (size_t)limit ? rows.nrows : (size_t)limit;
	json_t *items = json_array(), *withdrawn = json_array();
	for (size_t i = 0; i < n; i++) {
		if (db_cell_int(&rows, i, 1))
			json_array_append_new(withdrawn, json_pack("{s:s,s:I}", "code", db_cell(&rows, i, 2), "version",
								   (json_int_t)db_cell_int(&rows, i, 3)));
		else if (db_cell(&rows, i, 4)) /* a version row is never deleted; skipped if it were */
			json_array_append_new(items, feed_item(r, &rows, i));
	}
	const char *next = n ? db_cell(&rows, n - 1, 0) : after ? after : "";
	return nat_doc_answer(r, json_pack("{s:s,s:s,s:s,s:b,s:o,s:o}", "kind", "catalog", "after", after ? after : "",
					   "next", next, "more", rows.nrows > n, "items", items, "withdrawn", withdrawn));
}

/* ---- a signed document: the hub's side ---------------------------------------------------------- */

/* The keys of a registration ([{"kid", "x"}]) as a key set. */
static size_t keys_of(struct arena *a, const char *json, struct jwk *keys, size_t max)
{
	json_t *j = json_loads(json ? json : "[]", 0, NULL);
	size_t n = 0, i;
	json_t *k;
	json_array_foreach(j, i, k)
	{
		const char *kid = json_string_value(json_object_get(k, "kid")), *x = json_string_value(json_object_get(k, "x"));
		unsigned char *pk;
		size_t len;
		if (n < max && kid && x && strlen(kid) <= JWT_KID_MAX && !jwt_b64url_decode(a, x, strlen(x), &pk, &len) &&
		    len == 32) {
			snprintf(keys[n].kid, sizeof(keys[n].kid), "%s", kid);
			memcpy(keys[n].pk, pk, 32);
			n++;
		}
	}
	json_decref(j);
	return n;
}

int nat_doc_fetch(struct app *app, const char *url, const char *hall, const char *keys_json, const char *kind,
		  json_t **claims, const char **raw, const char **why, struct arena *a)
{
	*claims = NULL;
	char err[256];
	const char *headers[] = { "Accept: application/jwt", NULL };
	struct http_client_resp resp;
	if (http_client("GET", url, headers, NULL, 0, app->cfg.fed_timeout, NAT_DOC_MAX + 1, NULL, &resp, err,
			sizeof(err))) {
		*why = arena_strdup(a, err);
		return GH_EUNAVAILABLE;
	}
	int rc = GH_EINVAL;
	if (resp.status != 200) {
		*why = arena_printf(a, "the hall answered %ld", resp.status);
		rc = resp.status >= 500 ? GH_EUNAVAILABLE : GH_EINVAL;
		goto out;
	}
	struct jwk keys[JWKS_KEYS_MAX];
	size_t n = keys_of(a, keys_json, keys, JWKS_KEYS_MAX);
	json_t *c = NULL;
	if (jwt_verify_max(resp.body, resp.len, NAT_DOC_MAX, keys, n, &c, why))
		goto out;
	int64_t now = time(NULL), iat = json_integer_value(json_object_get(c, "iat")),
		exp = json_integer_value(json_object_get(c, "exp"));
	const char *iss = json_string_value(json_object_get(c, "iss")), *k = json_string_value(json_object_get(c, "kind"));
	if (!iss || strcmp(iss, hall))
		*why = "the document names another hall";
	else if (!k || strcmp(k, kind))
		*why = "the document is of another kind";
	else if (!json_is_integer(json_object_get(c, "exp")) || exp <= now || exp - iat > NAT_DOC_TTL * 2)
		*why = "the document is expired or lives too long";
	else if (!json_is_integer(json_object_get(c, "iat")) || iat > now + FED_SKEW)
		*why = "the document is issued in the future";
	else {
		*claims = c;
		c = NULL;
		if (raw)
			*raw = arena_strndup(a, resp.body, resp.len);
		rc = 0;
	}
	json_decref(c);
out:
	http_client_resp_free(&resp);
	return rc;
}

DB_SQL(q_source_error, "INSERT INTO fed_nat_sources (hall_id, error) VALUES (?, ?) "
		       "ON CONFLICT (hall_id) DO UPDATE SET error = excluded.error");

void nat_source_error(struct db *db, const char *hall, const char *why)
{
	db_exec(db, &q_source_error, DB_ARGS(DB_TEXT(hall), why ? DB_TEXT(why) : DB_NULL), NULL);
}

/* ---- the hub's duty ------------------------------------------------------------------------------- */

DB_SQL(q_halls, "SELECT hall_id, base_url, keys FROM fed_halls WHERE state = 'approved' ORDER BY hall_id");
DB_SQL(q_cursor, "SELECT feed_cursor FROM fed_nat_sources WHERE hall_id = ?");
DB_SQL(q_cursor_put, "INSERT INTO fed_nat_sources (hall_id, feed_cursor, feed_at, error) VALUES (?, ?, ?, NULL) "
		     "ON CONFLICT (hall_id) DO UPDATE SET feed_cursor = excluded.feed_cursor, feed_at = excluded.feed_at, "
		     "error = NULL");
DB_SQL(q_item_put, "INSERT INTO fed_nat_items (hall_id, code, version, department, dept_zh, dept_en, name_zh, name_en, "
		   "keywords, materials, summary_zh, summary_en, online_depth, url) "
		   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
		   "ON CONFLICT (hall_id, code) DO UPDATE SET version = excluded.version, department = excluded.department, "
		   "dept_zh = excluded.dept_zh, dept_en = excluded.dept_en, name_zh = excluded.name_zh, "
		   "name_en = excluded.name_en, keywords = excluded.keywords, materials = excluded.materials, "
		   "summary_zh = excluded.summary_zh, "
		   "summary_en = excluded.summary_en, online_depth = excluded.online_depth, url = excluded.url "
		   "WHERE fed_nat_items.version <= excluded.version");
/* A withdrawal drops the version it names or an older one, never a newer one (an item brought
 * back by a new version after its withdrawal stays). */
DB_SQL(q_item_drop, "DELETE FROM fed_nat_items WHERE hall_id = ? AND code = ? AND version <= ?");
/* Halls no longer in the directory (refused, or changed and waiting): their items leave the
 * national catalog, and their feed is read from its start if they come back. */
DB_SQL(q_gone_items, "DELETE FROM fed_nat_items WHERE hall_id NOT IN (SELECT hall_id FROM fed_halls "
		     "WHERE state = 'approved')");
DB_SQL(q_gone_sources, "UPDATE fed_nat_sources SET feed_cursor = '' WHERE feed_cursor <> '' AND hall_id NOT IN "
		       "(SELECT hall_id FROM fed_halls WHERE state = 'approved')");

static const char *str_of(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* Whether url lies under the hall's address (an item's guide must be the hall's own page). */
static bool under(const char *url, const char *base)
{
	size_t n = strlen(base);
	return url && !strncmp(url, base, n) && url[n] == '/';
}

const char *nat_feed_check(const json_t *c, const char *asked, const char *base)
{
	const json_t *items = json_object_get(c, "items"), *wd = json_object_get(c, "withdrawn");
	const char *after = str_of(c, "after"), *next = str_of(c, "next");
	bool more = json_is_true(json_object_get(c, "more"));
	if (!after || strcmp(after, asked))
		return "the feed's page is not the one asked for";
	size_t entries = json_array_size(items) + json_array_size(wd);
	if (!next || !json_is_array(items) || (wd && !json_is_array(wd)) || entries > NAT_PAGE_MAX || strlen(next) > 512 ||
	    (more && !entries))
		return "the feed's page is malformed";
	size_t i;
	const json_t *it;
	json_array_foreach(wd, i, it)
	{
		const char *code = str_of(it, "code");
		if (!code || !*code || strlen(code) > 40 || json_integer_value(json_object_get(it, "version")) < 1)
			return "a withdrawal of the feed is malformed";
	}
	json_array_foreach(items, i, it)
	{
		const char *code = str_of(it, "code"), *url = str_of(it, "url");
		json_int_t v = json_integer_value(json_object_get(it, "version"));
		if (!code || !*code || strlen(code) > 40 || v < 1 || !str_of(it, "name_zh") || !str_of(it, "name_en") ||
		    !str_of(it, "department") || !str_of(it, "dept_zh") || !str_of(it, "dept_en") ||
		    !str_of(it, "keywords") || !str_of(it, "summary_zh") || !str_of(it, "summary_en") ||
		    (json_object_get(it, "materials") && !str_of(it, "materials")) ||
		    !json_is_integer(json_object_get(it, "online_depth")) || !under(url, base))
			return "an item of the feed is malformed";
	}
	return NULL;
}

/* Takes one page of a feed: 0 with *more, or why it was refused. */
static int take_page(struct db *db, const char *hall, const char *base, const json_t *c, const char *asked, bool *more,
		     const char **next, const char **why)
{
	const json_t *items = json_object_get(c, "items");
	*next = str_of(c, "next");
	*more = json_is_true(json_object_get(c, "more"));
	if ((*why = nat_feed_check(c, asked, base)))
		return GH_EINVAL;
	size_t i;
	const json_t *it;
	int rc = db_begin(db);
	json_array_foreach(items, i, it)
	{
		if (rc)
			break;
		rc = db_exec(db, &q_item_put,
			     DB_ARGS(DB_TEXT(hall), DB_TEXT(str_of(it, "code")),
				     DB_INT(json_integer_value(json_object_get(it, "version"))),
				     DB_TEXT(str_of(it, "department")), DB_TEXT(str_of(it, "dept_zh")),
				     DB_TEXT(str_of(it, "dept_en")), DB_TEXT(str_of(it, "name_zh")),
				     DB_TEXT(str_of(it, "name_en")), DB_TEXT(str_of(it, "keywords")),
				     DB_TEXT(str_of(it, "materials") ? str_of(it, "materials") : ""),
				     DB_TEXT(str_of(it, "summary_zh")), DB_TEXT(str_of(it, "summary_en")),
				     DB_INT(json_integer_value(json_object_get(it, "online_depth"))),
				     DB_TEXT(str_of(it, "url"))),
			     NULL);
	}
	json_array_foreach(json_object_get(c, "withdrawn"), i, it)
	{
		if (rc)
			break;
		rc = db_exec(db, &q_item_drop,
			     DB_ARGS(DB_TEXT(hall), DB_TEXT(str_of(it, "code")),
				     DB_INT(json_integer_value(json_object_get(it, "version")))),
			     NULL);
	}
	if (!rc)
		rc = db_exec(db, &q_cursor_put, DB_ARGS(DB_TEXT(hall), DB_TEXT(*next), DB_INT(time(NULL))), NULL);
	if (!rc)
		rc = db_commit(db);
	if (rc) {
		db_rollback(db);
		*why = "the hub could not store the feed";
	}
	return rc;
}

static int pull_feed(struct app *app, struct db *db, struct arena *a, const char *hall, const char *base,
		     const char *keys)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_cursor, DB_ARGS(DB_TEXT(hall)), &rows);
	if (rc)
		return rc;
	const char *cursor = rows.nrows ? db_cell(&rows, 0, 0) : "";
	bool more = true;
	for (int page = 0; more && page < NAT_PAGES_PER_PASS; page++) {
		struct sb url = SB_INIT;
		sb_addf(&url, "%s/federation/catalog?limit=%d&after=", base, NAT_PAGE_MAX);
		sb_add_urlenc(&url, cursor, strlen(cursor));
		json_t *c;
		const char *why, *next;
		rc = nat_doc_fetch(app, url.buf, hall, keys, "catalog", &c, NULL, &why, a);
		sb_release(&url);
		if (!rc) {
			rc = take_page(db, hall, base, c, cursor, &more, &next, &why);
			if (!rc)
				cursor = arena_strdup(a, next);
			json_decref(c);
		}
		if (rc) {
			log_warn("federation: the catalog feed of %s is refused (%s); what the hub holds of it stays", hall, why);
			nat_source_error(db, hall, why);
			return rc;
		}
	}
	return 0;
}

/* ---- the national index ----------------------------------------------------------------------- */

DB_SQL(q_nat_items, "SELECT i.hall_id, h.name, h.region, i.code, i.version, i.department, i.dept_zh, i.dept_en, "
		    "i.name_zh, i.name_en, i.keywords, i.summary_zh, i.summary_en, i.online_depth, i.url, i.materials "
		    "FROM fed_nat_items i JOIN fed_halls h ON h.hall_id = i.hall_id AND h.state = 'approved' "
		    "ORDER BY i.code, h.region, i.hall_id");

DB_SQL(q_nat_regions, "SELECT DISTINCT region FROM fed_halls WHERE state = 'approved' ORDER BY region");

struct nat_item {
	const char *hall, *hall_name, *region, *code, *dept, *dept_zh, *dept_en, *name_zh, *name_en, *url;
	long version;
	int online_depth;
};

/* One built index with the items it was built from; readers hold a reference. */
struct nat_index {
	struct search_set *set;
	struct nat_item *items;
	size_t n;
	const char **regions; /* the directory's regions, for place names */
	size_t nregions;
	struct arena *a;
	uint64_t gen;
	int refs;
};

static struct {
	pthread_mutex_t mu;
	struct nat_index *cur;
} nat = { .mu = PTHREAD_MUTEX_INITIALIZER };

static void index_put(struct nat_index *x)
{
	if (!x)
		return;
	pthread_mutex_lock(&nat.mu);
	bool last = --x->refs == 0;
	pthread_mutex_unlock(&nat.mu);
	if (last) {
		search_set_free(x->set);
		arena_free(x->a);
		free(x);
	}
}

static struct nat_index *index_get(void)
{
	pthread_mutex_lock(&nat.mu);
	struct nat_index *x = nat.cur;
	if (x)
		x->refs++;
	pthread_mutex_unlock(&nat.mu);
	return x;
}

/* Rebuilds the index from fed_nat_items when they differ from the one in use. */
static int index_refresh(struct db *db)
{
	struct arena *a = arena_new(0);
	struct db_rows rows, regs;
	int rc = db_query(db, a, &q_nat_items, DB_NOARGS, &rows);
	if (!rc)
		rc = db_query(db, a, &q_nat_regions, DB_NOARGS, &regs);
	if (rc) {
		arena_free(a);
		return rc;
	}
	/* The generation: FNV-1a over what makes the index (halls, codes, versions, regions). */
	uint64_t gen = 1469598103934665603ULL;
	for (size_t i = 0; i < rows.nrows; i++)
		for (int c = 0; c < 5; c++)
			for (const char *p = db_cell(&rows, i, c); *p; p++)
				gen = (gen ^ (unsigned char)*p) * 1099511628211ULL;
	for (size_t i = 0; i < regs.nrows; i++)
		for (const char *p = db_cell(&regs, i, 0); *p; p++)
			gen = (gen ^ (unsigned char)*p) * 1099511628211ULL;
	struct nat_index *old = index_get();
	bool same = old && old->gen == gen;
	index_put(old);
	if (same) {
		arena_free(a);
		return 0;
	}
	struct nat_index *x = xcalloc(1, sizeof(*x));
	x->a = a;
	x->gen = gen;
	x->refs = 1;
	x->n = rows.nrows;
	x->items = arena_array(a, rows.nrows ? rows.nrows : 1, sizeof(*x->items));
	x->regions = arena_array(a, regs.nrows ? regs.nrows : 1, sizeof(*x->regions));
	for (size_t i = 0; i < regs.nrows; i++)
		x->regions[x->nregions++] = db_cell(&regs, i, 0);
	struct search_item *si = arena_array(a, rows.nrows ? rows.nrows : 1, sizeof(*si));
	for (size_t i = 0; i < rows.nrows; i++) {
		struct nat_item *it = &x->items[i];
		*it = (struct nat_item){ .hall = db_cell(&rows, i, 0), .hall_name = db_cell(&rows, i, 1),
					 .region = db_cell(&rows, i, 2), .code = db_cell(&rows, i, 3),
					 .version = (long)db_cell_int(&rows, i, 4), .dept = db_cell(&rows, i, 5),
					 .dept_zh = db_cell(&rows, i, 6), .dept_en = db_cell(&rows, i, 7),
					 .name_zh = db_cell(&rows, i, 8), .name_en = db_cell(&rows, i, 9),
					 .online_depth = (int)db_cell_int(&rows, i, 13), .url = db_cell(&rows, i, 14) };
		si[i] = (struct search_item){ .name_zh = it->name_zh, .name_en = it->name_en, .department = it->dept,
					      .dept_zh = it->dept_zh, .dept_en = it->dept_en,
					      .keywords = db_cell(&rows, i, 10), .summary_zh = db_cell(&rows, i, 11),
					      .summary_en = db_cell(&rows, i, 12), .materials = db_cell(&rows, i, 15),
					      .online_depth = it->online_depth };
	}
	x->set = search_set_build(si, rows.nrows, gen);
	pthread_mutex_lock(&nat.mu);
	old = nat.cur;
	nat.cur = x;
	pthread_mutex_unlock(&nat.mu);
	index_put(old);
	log_debug("federation: the national catalog indexed: %zu item(s) of %zu region(s)", x->n, x->nregions);
	return 0;
}

static struct {
	struct app *app;
	struct db *db;
	struct duty *duty;
} hub_run;

static int pass(void *arg, bool *more)
{
	(void)arg;
	*more = false;
	struct arena *a = arena_new(0);
	struct db_rows rows;
	int rc = db_exec(hub_run.db, &q_gone_items, DB_NOARGS, NULL);
	if (!rc)
		rc = db_exec(hub_run.db, &q_gone_sources, DB_NOARGS, NULL);
	if (!rc)
		rc = db_query(hub_run.db, a, &q_halls, DB_NOARGS, &rows);
	for (size_t i = 0; !rc && i < rows.nrows; i++) {
		const char *hall = db_cell(&rows, i, 0), *base = db_cell(&rows, i, 1), *keys = db_cell(&rows, i, 2);
		/* One hall's failure holds up no other. */
		pull_feed(hub_run.app, hub_run.db, a, hall, base, keys);
		nat_stats_pull(hub_run.app, hub_run.db, hall, base, keys);
	}
	if (!rc)
		rc = index_refresh(hub_run.db);
	arena_free(a);
	return rc;
}

static const char *place_of(struct arena *a, const char *q);

int nat_start(struct app *app, char *err, size_t errlen)
{
	if (fed_cfg.rp)
		search_set_places(place_of);
	if (!fed_cfg.hub || hub_run.duty)
		return 0;
	hub_run.app = app;
	if (db_open_named(app->cfg.db, "govhall federation national", &hub_run.db, err, errlen))
		return GH_EUNAVAILABLE;
	index_refresh(hub_run.db);
	if (!(hub_run.duty = duty_start_alone("federation national", pass, NULL, (int)app->cfg.fed_directory_period))) {
		db_close(hub_run.db);
		hub_run.db = NULL;
		snprintf(err, errlen, "federation: cannot start the national catalog's duty");
		return GH_EINTERNAL;
	}
	return 0;
}

void nat_stop(void)
{
	search_set_places(NULL);
	duty_stop(hub_run.duty);
	if (hub_run.db)
		db_close(hub_run.db);
	hub_run.db = NULL;
	hub_run.duty = NULL;
	pthread_mutex_lock(&nat.mu);
	struct nat_index *x = nat.cur;
	nat.cur = NULL;
	pthread_mutex_unlock(&nat.mu);
	index_put(x);
}

/* ---- the national search ------------------------------------------------------------------------- */

struct nat_answer {
	const char *q, *region;
	json_t *services;
	size_t total;
};

static json_t *variant_json(struct req *r, const struct nat_item *it)
{
	bool en = !strcmp(r->lang, "en");
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:i,s:s}", "hall", it->hall, "hall_name", it->hall_name, "region",
			 it->region, "name", en ? it->name_en : it->name_zh, "department", it->dept, "department_name",
			 en ? it->dept_en : it->dept_zh, "code", it->code, "version", (json_int_t)it->version,
			 "online_depth", it->online_depth, "url", it->url);
}

/* Adds variant i to its service (by national code) in order of first appearance. */
static void group_add(struct req *r, json_t *services, const struct nat_item *items, size_t i)
{
	size_t k;
	json_t *s;
	json_array_foreach(services, k, s) if (!strcmp(json_string_value(json_object_get(s, "code")), items[i].code))
	{
		json_array_append_new(json_object_get(s, "variants"), variant_json(r, &items[i]));
		return;
	}
	bool en = !strcmp(r->lang, "en");
	json_array_append_new(services, json_pack("{s:s,s:s,s:[o]}", "code", items[i].code, "name",
						  en ? items[i].name_en : items[i].name_zh, "variants",
						  variant_json(r, &items[i])));
}

static int nat_query(struct req *r, struct nat_answer *out)
{
	const char *q = req_query(r, "q"), *region = req_query(r, "region");
	long limit;
	if (req_query_long(r, "limit", 20, 1, NAT_LIMIT_MAX, &limit))
		return GH_EINVAL;
	if (q && strlen(q) > NAT_QUERY_MAX) {
		req_error_detail(r, "%s", M(r, "nat_search_too_long"));
		return GH_EINVAL;
	}
	if (region && (!*region || strlen(region) > 128)) {
		req_error_detail(r, "%s", M(r, "nat_search_bad_region"));
		return GH_EINVAL;
	}
	struct nat_index *x = index_get();
	out->q = q ? q : "";
	out->services = json_array();
	out->region = region;
	if (!x || !q || !*q) {
		index_put(x);
		return 0;
	}
	/* A place the query names limits it to that region's halls (unless one is chosen). */
	const char *rest = q;
	if (!region) {
		int k = search_place(r->arena, q, (const char *const *)x->regions, x->nregions, &rest);
		if (k >= 0)
			out->region = arena_strdup(r->arena, x->regions[k]);
	}
	size_t *idx = arena_array(r->arena, NAT_HITS_MAX, sizeof(*idx)), total;
	size_t n = search_set_query(x->set, r->arena, rest, idx, NAT_HITS_MAX, &total);
	for (size_t i = 0; i < n; i++)
		if (!out->region || !strcmp(x->items[idx[i]].region, out->region))
			group_add(r, out->services, x->items, idx[i]);
	/* Only a place named ("在兰山办"): that region's services. */
	if (!n && out->region && rest != q)
		for (size_t i = 0; i < x->n; i++)
			if (!strcmp(x->items[i].region, out->region))
				group_add(r, out->services, x->items, i);
	index_put(x);
	out->total = json_array_size(out->services);
	while (json_array_size(out->services) > (size_t)limit)
		json_array_remove(out->services, json_array_size(out->services) - 1);
	return 0;
}

/* The search page from an answer (the hub's own, or the one a hall fetched from the hub). */
static int search_page_of(struct req *r, const char *q, const char *region, json_t *services, size_t total)
{
	/* At the hub a person applies for an item applied for online (online_depth 3 or 4) right
	 * there: the application goes to the item's hall (src/remote, 全程网办). */
	size_t i, k;
	json_t *s, *v;
	json_array_foreach(services, i, s) json_array_foreach(json_object_get(s, "variants"), k, v)
	{
		const char *hall = json_string_value(json_object_get(v, "hall")), *code = json_string_value(json_object_get(v, "code"));
		if (fed_cfg.hub && hall && code && json_integer_value(json_object_get(v, "online_depth")) >= 3)
			json_object_set_new(v, "apply_href", json_sprintf("/federation/apply/%s/%s", hall, code));
	}
	json_t *ctx = json_pack("{s:s,s:s,s:o,s:b,s:b}", "title", M(r, "nat_search_title"), "q", q, "services", services,
				"asked", *q != 0, "found", total > 0);
	jset(ctx, "region", region);
	jset(ctx, "summary", region ? MF(r, "nat_search_summary_region", MA("n", (long long)total), MA("region", region))
				    : MF(r, "nat_search_summary", MA("n", (long long)total)));
	return resp_page(r, 200, "federation/national_search", ctx);
}

/* ---- a hall: the national search through the hub ---------------------------------------------- */

#define HUB_ANSWER_MAX (1024 * 1024)

struct hub_search {
	bool api;
	const char *url;
	long timeout;
	int rc;
	char err[256];
	struct http_client_resp resp;
};

static void hub_search_work(void *arg)
{
	struct hub_search *h = arg;
	const char *headers[] = { "Accept: application/json", NULL };
	h->rc = http_client("GET", h->url, headers, NULL, 0, h->timeout, HUB_ANSWER_MAX, NULL, &h->resp, h->err,
			    sizeof(h->err));
}

static int hub_search_done(struct req *r, void *arg)
{
	struct hub_search *h = arg;
	json_t *j = NULL;
	if (!h->rc && (h->resp.status == 200 || h->resp.status == 400))
		j = json_loadb(h->resp.body, h->resp.len, 0, NULL);
	long status = h->rc ? 0 : h->resp.status;
	if (!h->rc)
		http_client_resp_free(&h->resp);
	if (status == 400) {
		/* The hub's words for the citizen's mistake (a bad limit, region or query). */
		const char *why = json_string_value(json_object_get(json_object_get(j, "error"), "detail"));
		req_error_detail(r, "%s", why ? arena_strdup(r->arena, why) : M(r, "nat_search_bad_region"));
		json_decref(j);
		return GH_EINVAL;
	}
	json_t *services = json_object_get(j, "services");
	if (!json_is_array(services) || !json_is_string(json_object_get(j, "query"))) {
		log_warn("federation: the hub's national search cannot be read (%s)", h->rc ? h->err : "not its answer");
		json_decref(j);
		req_error_detail(r, "%s", M(r, "nat_search_hub_down"));
		return GH_EUNAVAILABLE;
	}
	if (h->api)
		return resp_json(r, 200, j);
	const char *region = json_string_value(json_object_get(j, "region"));
	int rc = search_page_of(r, arena_strdup(r->arena, json_string_value(json_object_get(j, "query"))),
				region ? arena_strdup(r->arena, region) : NULL, json_incref(services),
				(size_t)json_integer_value(json_object_get(j, "total")));
	json_decref(j);
	return rc;
}

/* A hall passes the national search to the hub (on the job pool) and shows its answer. */
static int hub_search(struct req *r, bool api)
{
	struct hub_search *h = arena_zalloc(r->arena, sizeof(*h));
	h->api = api;
	h->timeout = r->app->cfg.fed_timeout;
	struct sb url = SB_INIT;
	sb_addf(&url, "%s/api/v1/national/search?lang=%s", fed_cfg.issuer, r->lang);
	static const char *const params[] = { "q", "region", "limit" };
	for (size_t i = 0; i < 3; i++) {
		const char *v = req_query(r, params[i]);
		if (v) {
			sb_addf(&url, "&%s=", params[i]);
			sb_add_urlenc(&url, v, strlen(v));
		}
	}
	h->url = arena_strndup(r->arena, url.buf, url.len);
	sb_release(&url);
	return req_job(r, hub_search_work, hub_search_done, h);
}

/* The place a query names among the directory's other regions (search_set_places). */
static const char *place_of(struct arena *a, const char *q)
{
	const char **names;
	size_t n = fed_member_regions(a, &names);
	const char *rest;
	int k = n ? search_place(a, q, names, n, &rest) : -1;
	return k >= 0 ? names[k] : NULL;
}

/* The national search, as JSON (api) or a page; a hall passes it to the hub. */
static int national_search(struct req *r, bool api)
{
	if (fed_cfg.rp)
		return hub_search(r, api);
	if (!fed_cfg.hub)
		return GH_ENOTFOUND;
	struct nat_answer ans;
	int rc = nat_query(r, &ans);
	if (rc || !api)
		return rc ? rc : search_page_of(r, ans.q, ans.region, ans.services, ans.total);
	json_t *j = json_pack("{s:s,s:I,s:o}", "query", ans.q, "total", (json_int_t)ans.total, "services", ans.services);
	json_object_set_new(j, "region", ans.region ? json_string(ans.region) : json_null());
	return resp_json(r, 200, j);
}

/* GET /api/v1/national/search?q=&region=&limit= */
static int api_search(struct req *r)
{
	return national_search(r, true);
}

/* GET /national/search */
static int page_search(struct req *r)
{
	return national_search(r, false);
}

const struct route nat_cat_routes[] = {
	{ HTTP_GET, "/federation/catalog", feed, ROLE_PUBLIC, ROUTE_NOAUTH, "federation.catalog_feed" },
	{ HTTP_GET, "/api/v1/national/search", api_search, ROLE_PUBLIC, 0, "federation.national_search_api" },
	{ HTTP_GET, "/national/search", page_search, ROLE_PUBLIC, 0, "federation.national_search" },
};
const size_t nat_cat_routes_n = sizeof(nat_cat_routes) / sizeof(nat_cat_routes[0]);
