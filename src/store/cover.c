/* cover.c: the registry of covered tables and the touches of each connection (cover.h). */
#include "store/cover.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "base/sb.h"
#include "base/util.h"
#include "store/db_impl.h"

#define MAX_TABLES 64

struct tab {
	struct cover_info info;
	struct db_sql q_read; /* SELECT <in scope>, <cols> FROM t WHERE <key> */
};

static struct tab tabs[MAX_TABLES];
static size_t ntabs;
static int (*logger)(struct db *db);

/* Splits a comma-separated list into trimmed, heap-allocated names (kept for the process). */
static size_t split(const char *s, const char **out, size_t max, const char *what, const char *table)
{
	size_t n = 0;
	while (s && *s) {
		while (*s == ' ')
			s++;
		size_t len = strcspn(s, ",");
		size_t l = len;
		while (l && s[l - 1] == ' ')
			l--;
		if (!l || n == max)
			die("cover: %s of %s: empty or too many names", what, table);
		char *name = xmalloc(l + 1);
		memcpy(name, s, l);
		name[l] = 0;
		out[n++] = name;
		s += len;
		if (*s == ',')
			s++;
	}
	return n;
}

void cover_declare(const struct cover_table *t)
{
	if (ntabs == MAX_TABLES)
		die("cover: more than %d covered tables", MAX_TABLES);
	if (!t->table || !t->key || !t->cols)
		die("cover: a declaration without table, key or columns");
	for (size_t i = 0; i < ntabs; i++)
		if (!strcmp(tabs[i].info.table, t->table)) {
			if (tabs[i].info.t == t)
				return; /* declared again by a second start of the same module */
			die("cover: table %s declared twice", t->table);
		}
	struct tab *tb = &tabs[ntabs];
	struct cover_info *ci = &tb->info;
	memset(tb, 0, sizeof(*tb));
	ci->t = t;
	ci->table = t->table;
	ci->ncols = split(t->cols, ci->cols, COVER_COLS_MAX, "columns", t->table);
	ci->nkeys = split(t->key, ci->keys, 2, "key", t->table);
	const char *ptrs[8];
	size_t np = t->pointers ? split(t->pointers, ptrs, 4, "pointers", t->table) : 0;
	for (size_t i = 0; i < np; i++) {
		const char *eq = strchr(ptrs[i], '=');
		if (!eq)
			die("cover: pointer %s of %s is not col=kind", ptrs[i], t->table);
		ci->ptr_col[i] = xstrndup(ptrs[i], (size_t)(eq - ptrs[i]));
		ci->ptr_kind[i] = xstrdup(eq + 1);
		free((char *)ptrs[i]);
	}
	ci->nptr = np;
	const char *pc[COVER_COLS_MAX];
	size_t npc = t->plain_cols ? split(t->plain_cols, pc, COVER_COLS_MAX, "plain columns", t->table) : 0;
	for (size_t i = 0; i < npc; i++) {
		bool found = false;
		for (size_t c = 0; c < ci->ncols; c++)
			if (!strcmp(ci->cols[c], pc[i]))
				ci->plain[c] = found = true;
		if (!found || !t->plain)
			die("cover: plain column %s of %s is not a covered column, or there is no plain function", pc[i],
			    t->table);
		free((char *)pc[i]);
	}
	struct sb sb = SB_INIT;
	for (size_t i = 0; i < ci->nkeys; i++)
		sb_addf(&sb, "%sCAST(%s AS TEXT)", i ? " || ':' || " : "", ci->keys[i]);
	ci->key_sql = sb_detach(&sb, NULL);
	sb_addf(&sb, "SELECT %s%s%s", t->where ? "CASE WHEN (" : "", t->where ? t->where : "1",
		t->where ? ") THEN 1 ELSE 0 END" : "");
	for (size_t i = 0; i < ci->ncols; i++)
		sb_addf(&sb, ", %s", ci->cols[i]);
	sb_addf(&sb, " FROM %s WHERE ", t->table);
	for (size_t i = 0; i < ci->nkeys; i++)
		sb_addf(&sb, "%s%s = ?", i ? " AND " : "", ci->keys[i]);
	tb->q_read.sql = sb_detach(&sb, NULL);
	ntabs++;
}

size_t cover_count(void)
{
	return ntabs;
}

const struct cover_info *cover_at(size_t i)
{
	return i < ntabs ? &tabs[i].info : NULL;
}

static struct tab *tab_find(const char *table)
{
	for (size_t i = 0; i < ntabs; i++) /* callers mostly pass the declaration's own string */
		if (tabs[i].info.table == table)
			return &tabs[i];
	for (size_t i = 0; i < ntabs; i++)
		if (!strcmp(tabs[i].info.table, table))
			return &tabs[i];
	return NULL;
}

const struct cover_info *cover_find(const char *table)
{
	struct tab *tb = tab_find(table);
	return tb ? &tb->info : NULL;
}

/* ---- digests ---- */

/* content: the cells are the content already (the table's plain function is not applied). */
static int digest(const struct cover_info *ci, struct arena *a, const char *const *cells, const size_t *lens,
		  bool content, unsigned char out[COVER_DIGEST_LEN])
{
	/* BLAKE2b-256 (libsodium's crypto_generichash) over a tag, then each column: 0x00 for NULL,
	 * or 0x01, its length (8 bytes, big-endian) and its bytes. */
	static const char tag[] = "govhall.row/1";
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, COVER_DIGEST_LEN);
	crypto_generichash_update(&st, (const unsigned char *)tag, sizeof(tag)); /* with its NUL */
	for (size_t i = 0; i < ci->ncols; i++) {
		const char *v = cells[i];
		size_t len = v ? lens[i] : 0;
		if (v && ci->plain[i] && !content) {
			int rc = ci->t->plain(a, ci->cols[i], v, len, &v, &len);
			if (rc)
				return rc;
		}
		unsigned char head[9] = { 0 };
		if (v) {
			head[0] = 1;
			for (int b = 0; b < 8; b++)
				head[1 + b] = (unsigned char)((uint64_t)len >> (56 - 8 * b));
		}
		crypto_generichash_update(&st, head, v ? 9 : 1);
		if (v && len)
			crypto_generichash_update(&st, (const unsigned char *)v, len);
	}
	crypto_generichash_final(&st, out, COVER_DIGEST_LEN);
	return 0;
}

int cover_digest(const struct cover_info *ci, struct arena *a, const char *const *cells, const size_t *lens,
		 unsigned char out[COVER_DIGEST_LEN])
{
	return digest(ci, a, cells, lens, false, out);
}

/* Splits key text into the values of the key columns (the last ':' separates two). */
static int key_parts(const struct cover_info *ci, struct arena *a, const char *key, struct db_val v[2])
{
	if (ci->nkeys == 1) {
		v[0] = DB_TEXT(key);
		return 0;
	}
	const char *c = strrchr(key, ':');
	if (!c)
		return GH_EINVAL;
	v[0] = DB_TEXT(arena_strndup(a, key, (size_t)(c - key)));
	v[1] = DB_TEXT(c + 1);
	return 0;
}

int cover_read(struct db *db, struct arena *a, const struct cover_info *ci, const char *key, bool *present,
	       unsigned char out[COVER_DIGEST_LEN])
{
	struct tab *tb = (struct tab *)ci;
	struct db_val v[2];
	int rc = key_parts(ci, a, key, v);
	if (rc)
		return rc;
	struct db_rows rows;
	if ((rc = db_query(db, a, &tb->q_read, v, ci->nkeys, &rows)))
		return rc;
	*present = rows.nrows == 1 && db_cell_int(&rows, 0, 0) == 1;
	if (!*present)
		return 0;
	return cover_digest(ci, a, (const char *const *)rows.cells + 1, rows.lens + 1, out);
}

/* ---- touches ---- */

struct item {
	const struct cover_info *ci;
	char *key;
	bool have; /* digest computed from values given at the touch */
	unsigned char digest[COVER_DIGEST_LEN];
};

struct pending {
	struct item *v;
	size_t n, cap;
	char *action;
	struct arena *a; /* for the plain functions of touches with values; reset when taken */
};

static struct pending *pend(struct db *db)
{
	if (!db->_cover)
		db->_cover = xcalloc(1, sizeof(struct pending));
	return db->_cover;
}

static int touch(struct db *db, const char *table, const char *key, const char *action, struct item **out)
{
	struct tab *tb = tab_find(table);
	if (!tb || !key || !*key || strlen(key) > COVER_KEY_MAX) {
		log_error("cover: a change of %s:%s, which is not a covered row", table, key ? key : "-");
		return GH_EINTERNAL;
	}
	if (!db_in_transaction(db)) {
		log_error("cover: %s:%s changed outside a transaction: its log leaf cannot commit with it", table, key);
		return GH_EINTERNAL;
	}
	struct pending *p = pend(db);
	if (action && !p->action)
		p->action = xstrdup(action);
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].ci == &tb->info && !strcmp(p->v[i].key, key)) {
			*out = &p->v[i];
			return 0;
		}
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 8;
		p->v = xrealloc(p->v, p->cap * sizeof(*p->v));
	}
	struct item *it = &p->v[p->n++];
	*it = (struct item){ .ci = &tb->info, .key = xstrdup(key) };
	*out = it;
	return 0;
}

int cover_touch(struct db *db, const char *table, const char *key, const char *action)
{
	struct item *it;
	int rc = touch(db, table, key, action, &it);
	if (!rc)
		it->have = false; /* read again when taken: the latest content */
	return rc;
}

int cover_touch_id(struct db *db, const char *table, int64_t id, const char *action)
{
	char key[24];
	snprintf(key, sizeof(key), "%lld", (long long)id);
	return cover_touch(db, table, key, action);
}

int cover_touch_row(struct db *db, const char *table, const char *key, const char *const *cells, const size_t *lens,
		    size_t n, bool content)
{
	struct item *it;
	int rc = touch(db, table, key, NULL, &it);
	if (rc)
		return rc;
	if (n != it->ci->ncols) {
		log_error("cover: %zu values given for the %zu covered columns of %s", n, it->ci->ncols, table);
		it->have = false;
		return GH_EINTERNAL;
	}
	struct pending *p = db->_cover;
	if (!p->a)
		p->a = arena_new(4096);
	rc = digest(it->ci, p->a, cells, lens, content, it->digest);
	it->have = rc == 0;
	return rc;
}

bool cover_pending(const struct db *db)
{
	const struct pending *p = db->_cover;
	return p && p->n;
}

void cover_discard(struct db *db)
{
	struct pending *p = db->_cover;
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i].key);
	free(p->action);
	p->action = NULL;
	p->n = 0; /* the array and the arena stay for the next transaction */
	if (p->a)
		arena_reset(p->a);
}

void cover_release(struct db *db)
{
	struct pending *p = db->_cover;
	if (!p)
		return;
	cover_discard(db);
	free(p->v);
	arena_free(p->a);
	free(p);
	db->_cover = NULL;
}

int cover_take(struct db *db, struct arena *a, struct cover_entry **out, size_t *n, const char **action)
{
	struct pending *p = db->_cover;
	*out = NULL;
	*n = 0;
	if (action)
		*action = NULL;
	if (!p || !p->n)
		return 0;
	struct cover_entry *v = arena_array(a, p->n, sizeof(*v));
	int rc = 0;
	for (size_t i = 0; !rc && i < p->n; i++) {
		struct item *it = &p->v[i];
		v[i] = (struct cover_entry){ .ci = it->ci, .key = arena_strdup(a, it->key), .present = true };
		if (it->have)
			memcpy(v[i].digest, it->digest, COVER_DIGEST_LEN);
		else
			rc = cover_read(db, a, it->ci, it->key, &v[i].present, v[i].digest);
	}
	if (action && p->action)
		*action = arena_strdup(a, p->action);
	size_t count = p->n;
	cover_discard(db);
	if (rc)
		return rc;
	*out = v;
	*n = count;
	return 0;
}

void cover_set_logger(int (*fn)(struct db *db))
{
	logger = fn;
}

int cover_before_commit(struct db *db)
{
	if (!cover_pending(db))
		return 0;
	if (!logger) {
		cover_discard(db);
		return 0;
	}
	return logger(db);
}

int cover_tx_begin(struct db *db, bool *own)
{
	*own = !db_in_transaction(db);
	return *own ? db_begin(db) : 0;
}

int cover_tx_end(struct db *db, bool own, int rc)
{
	if (!own)
		return rc;
	if (!rc)
		rc = db_commit(db);
	if (rc)
		db_rollback(db);
	return rc;
}

int cover_tx_end_id(struct db *db, bool own, int rc, const char *table, int64_t id, const char *action)
{
	if (!rc)
		rc = cover_touch_id(db, table, id, action);
	return cover_tx_end(db, own, rc);
}
