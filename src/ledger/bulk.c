/* bulk.c: the log's leaves, nodes and ledger_refs rows made in memory for a bulk writer
 * (`govhall bench-scale`), which writes them with COPY. Each leaf is the text an append would
 * store (ledger.c's decision leaves, the "change" leaves of db_commit's hook), its nodes those
 * merkle_frontier_push completes, and the head what ledger_append_text leaves: the audit cannot
 * tell them from leaves the hall appended one by one. */
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

struct ledger_bulk {
	struct merkle_frontier f;
	struct ledger_bulk_sink sink;
};

int ledger_bulk_open(struct db *db, const struct ledger_bulk_sink *sink, struct ledger_bulk **out)
{
	struct ledger_bulk *b = xcalloc(1, sizeof(*b));
	struct arena *a = arena_new(4096);
	int rc = ledger_head_read(db, a, false, &b->f, NULL);
	arena_free(a);
	if (rc) {
		free(b);
		return rc;
	}
	b->sink = *sink;
	*out = b;
	return 0;
}

void ledger_bulk_free(struct ledger_bulk *b)
{
	free(b);
}

int64_t ledger_bulk_size(const struct ledger_bulk *b)
{
	return (int64_t)b->f.size;
}

static int put_node(void *ctx, unsigned level, uint64_t idx, const unsigned char h[H32])
{
	struct ledger_bulk *b = ctx;
	return b->sink.node(b->sink.ctx, level, (int64_t)idx, h);
}

int ledger_bulk_emit(struct ledger_bulk *b, const char *kind, const char *ref, const char *salt, const char *text,
		     size_t len, const struct ledger_rows *rows, int64_t at)
{
	unsigned char h[H32];
	ledger_leaf_hash(text, len, h);
	int64_t idx = (int64_t)b->f.size;
	int rc = b->sink.leaf(b->sink.ctx, idx, kind, ref, salt, text, len, h, at);
	for (size_t i = 0; !rc && rows && i < rows->n; i++)
		rc = b->sink.ref(b->sink.ctx, idx, rows->v[i].table, rows->v[i].key);
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
	return rc ? rc : ledger_bulk_emit(b, "change", NULL, salt, text, len, &lr, at);
}

int ledger_bulk_head(struct ledger_bulk *b, struct db *db)
{
	unsigned char root[H32];
	merkle_frontier_root(&b->f, root);
	int rc = db_exec(db, &q_bulk_head,
			 DB_ARGS(DB_INT((int64_t)b->f.size), DB_BLOB(b->f.h, b->f.n * H32), DB_BLOB(root, H32)), NULL);
	if (!rc && b->f.size)
		ledger_set_appended();
	return rc;
}
