/* bulk.c: the log's leaves and ledger_refs rows made in memory for a bulk writer (`govhall
 * bench-scale`), which writes them with COPY, and the tiles they fill, written whole with the
 * head. Each leaf is the text an append would store (ledger.c's decision leaves, the "change"
 * leaves of db_commit's hook), the tiles hold what appends one by one would have added to them
 * (tiles.c), and the head is what ledger_append_text leaves: the audit cannot tell them from
 * leaves the hall appended one by one. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/util.h"
#include "ledger/ledger_impl.h"
#include "ledger/log_impl.h"
#include "store/cover.h"
#include "store/db.h"

DB_SQL(q_bulk_head, "UPDATE ledger_head SET size = ?, frontier = ?, root = ? WHERE id = 1");

#define TILE_LEVELS 8 /* tile levels 0..7: trees of up to 2^64 leaves */

/* A tile in memory: the rightmost of its level, or a full one not yet written. */
struct btile {
	unsigned level;
	uint64_t idx;
	size_t n;
	bool dirty;
	unsigned char h[LEDGER_TILE_W][H32];
};

struct ledger_bulk {
	struct merkle_frontier f;
	struct ledger_bulk_sink sink;
	struct btile *cur[TILE_LEVELS]; /* the rightmost tile of each level */
	struct btile **full;            /* filled since the last ledger_bulk_head */
	size_t nfull, capfull;
};

/* The rightmost tile of level tl as stored for a tree of size leaves. */
static int tile_load(struct ledger_bulk *b, struct db *db, struct arena *a, unsigned tl)
{
	struct btile *t = xcalloc(1, sizeof(*t));
	uint64_t nodes = tl * LEDGER_TILE_H >= 64 ? 0 : b->f.size >> (tl * LEDGER_TILE_H);
	t->level = tl;
	t->idx = nodes / LEDGER_TILE_W;
	b->cur[tl] = t;
	size_t want = nodes % LEDGER_TILE_W;
	if (want == 0)
		return 0;
	struct ledger_dbctx c = { db, a, 0 };
	const unsigned char *h;
	size_t n;
	int rc = ledger_tile_read(&c, tl, t->idx, &h, &n);
	if (!rc && n != want)
		rc = GH_EINTERNAL;
	if (rc)
		return rc == GH_ENOTFOUND ? GH_EINTERNAL : rc;
	memcpy(t->h, h, n * H32);
	t->n = n;
	return 0;
}

int ledger_bulk_open(struct db *db, const struct ledger_bulk_sink *sink, struct ledger_bulk **out)
{
	struct ledger_bulk *b = xcalloc(1, sizeof(*b));
	struct arena *a = arena_new(1 << 16);
	int rc = ledger_head_read(db, a, false, &b->f, NULL);
	for (unsigned tl = 0; !rc && tl < TILE_LEVELS; tl++)
		rc = tile_load(b, db, a, tl);
	arena_free(a);
	if (rc) {
		ledger_bulk_free(b);
		return rc;
	}
	b->sink = *sink;
	*out = b;
	return 0;
}

void ledger_bulk_free(struct ledger_bulk *b)
{
	if (!b)
		return;
	for (unsigned tl = 0; tl < TILE_LEVELS; tl++)
		free(b->cur[tl]);
	for (size_t i = 0; i < b->nfull; i++)
		free(b->full[i]);
	free(b->full);
	free(b);
}

/* The node (level, idx) into its tile when level is a tile level (see ledger_tile_append). */
static int tile_add(struct ledger_bulk *b, unsigned level, uint64_t idx, const unsigned char h[H32])
{
	if (level % LEDGER_TILE_H)
		return 0;
	unsigned tl = level / LEDGER_TILE_H;
	if (tl >= TILE_LEVELS)
		return GH_EINTERNAL;
	struct btile *t = b->cur[tl];
	if (t->idx != idx / LEDGER_TILE_W || t->n != idx % LEDGER_TILE_W)
		return GH_EINTERNAL;
	memcpy(t->h[t->n++], h, H32);
	t->dirty = true;
	if (t->n == LEDGER_TILE_W) {
		if (b->nfull == b->capfull) {
			b->capfull = b->capfull ? 2 * b->capfull : 64;
			b->full = xrealloc(b->full, b->capfull * sizeof(*b->full));
		}
		b->full[b->nfull++] = t;
		b->cur[tl] = xcalloc(1, sizeof(*t));
		b->cur[tl]->level = tl;
		b->cur[tl]->idx = t->idx + 1;
	}
	return 0;
}

int64_t ledger_bulk_size(const struct ledger_bulk *b)
{
	return (int64_t)b->f.size;
}

static int put_node(void *ctx, unsigned level, uint64_t idx, const unsigned char h[H32])
{
	return tile_add(ctx, level, idx, h);
}

int ledger_bulk_emit(struct ledger_bulk *b, struct arena *a, const char *kind, const char *ref, const char *salt,
		     const char *text, size_t len, const struct ledger_rows *rows, int64_t at)
{
	unsigned char h[H32];
	ledger_leaf_hash(text, len, h);
	int64_t idx = (int64_t)b->f.size;
	const unsigned char *stored;
	size_t slen;
	ledger_leaf_pack(a, text, len, &stored, &slen);
	int rc = b->sink.leaf(b->sink.ctx, idx, kind, ref, salt, stored, slen, at);
	for (size_t i = 0; !rc && rows && i < rows->n; i++)
		rc = b->sink.ref(b->sink.ctx, idx, rows->v[i].table, rows->v[i].key);
	if (!rc)
		rc = tile_add(b, 0, (uint64_t)idx, h);
	if (!rc)
		rc = merkle_frontier_push(&b->f, h, put_node, b);
	return rc;
}

int ledger_bulk_change(struct ledger_bulk *b, struct arena *a, const char *action, int64_t at,
		       const struct cover_entry *rows, size_t n)
{
	if (n == 0 || n > 200)
		return GH_EINVAL;
	char salt[LEDGER_SALT_HEX + 1];
	ledger_salt_new(salt);
	struct ledger_rows lr;
	char *text;
	size_t len;
	int rc = ledger_rows_prepare(NULL, a, salt, rows, n, &lr);
	if (!rc)
		rc = ledger_rows_text(a, "change", NULL,
				      json_pack("{s:s,s:I}", "action", action ? action : "change", "at", (json_int_t)at), &lr,
				      &text, &len);
	return rc ? rc : ledger_bulk_emit(b, a, "change", NULL, salt, text, len, &lr, at);
}

int ledger_bulk_head(struct ledger_bulk *b, struct db *db)
{
	unsigned char root[H32];
	merkle_frontier_root(&b->f, root);
	int rc = 0;
	/* the tiles filled since the last head, then the rightmost ones that grew */
	for (size_t i = 0; !rc && i < b->nfull; i++)
		rc = ledger_tile_put(db, b->full[i]->level, b->full[i]->idx, &b->full[i]->h[0][0], LEDGER_TILE_W);
	for (unsigned tl = 0; !rc && tl < TILE_LEVELS; tl++)
		if (b->cur[tl]->dirty && b->cur[tl]->n)
			rc = ledger_tile_put(db, tl, b->cur[tl]->idx, &b->cur[tl]->h[0][0], b->cur[tl]->n);
	if (rc)
		return rc;
	for (size_t i = 0; i < b->nfull; i++)
		free(b->full[i]);
	b->nfull = 0;
	for (unsigned tl = 0; tl < TILE_LEVELS; tl++)
		b->cur[tl]->dirty = false;
	rc = db_exec(db, &q_bulk_head,
			 DB_ARGS(DB_INT((int64_t)b->f.size), DB_BLOB(b->f.h, b->f.n * H32), DB_BLOB(root, H32)), NULL);
	if (!rc && b->f.size)
		ledger_set_appended();
	return rc;
}
