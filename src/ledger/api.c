/* api.c: the log's HTTP surface — the JSON API (latest signed tree head, leaf by index,
 * inclusion and consistency proofs), the published keys (/.well-known/govhall-keys.json), the
 * public pages in both languages, and applicants' receipts (pages and API). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "base/calendar.h"
#include "base/err.h"
#include "base/util.h"
#include "http/handler.h"
#include "http/http.h"
#include "http/msg.h"
#include "http/router.h"
#include "http/server.h"
#include "http/write.h"
#include "identity/identity.h"
#include "ledger/ledger_ext.h"
#include "ledger/witness.h"
#include "store/db.h"
#include "view/view.h"

#define APPLICANTS (ROLE_CITIZEN | ROLE_AGENT | ROLE_ENTERPRISE)
#define CASE_VIEWERS (APPLICANTS | ROLE_STAFF | ROLE_ADMIN)
#define RECENT 20

DB_SQL(q_recent, "SELECT idx, kind, created_at FROM ledger_leaves ORDER BY idx DESC LIMIT 20");
DB_SQL(q_app, "SELECT id, applicant_id, enterprise_id, department FROM applications WHERE number = ?");
DB_SQL(q_app_leaves,
       "SELECT l.idx, e.action, e.at FROM application_events e JOIN ledger_leaves l "
       "ON l.ref = 'decision:' || CAST(e.id AS TEXT) WHERE e.application_id = ? ORDER BY l.idx");

static json_t *owned(struct req *r, json_t *j)
{
	arena_cleanup(r->arena, (void (*)(void *))json_decref, j);
	return j;
}

static const char *b64(struct req *r, const unsigned char h[H32])
{
	char *s = arena_alloc(r->arena, 64);
	ledger_b64(h, H32, s, 64);
	return s;
}

static const char *when(struct req *r, int64_t t)
{
	char buf[CALENDAR_MINUTE_LEN];
	calendar_format_minute(t, buf); /* "" for an impossible t */
	return arena_strdup(r->arena, buf);
}

/* A path parameter holding a leaf index: decimal, no sign, at most 18 digits. */
static int index_param(struct req *r, const char *name, int64_t *out)
{
	const char *s = req_param(r, name);
	size_t n = s ? strlen(s) : 0;
	bool ok = n > 0 && n <= 18 && !(s[0] == '0' && n > 1);
	for (size_t i = 0; ok && i < n; i++)
		ok = s[i] >= '0' && s[i] <= '9';
	if (!ok) {
		req_error_detail(r, "%s", M(r, "ledger_leaf_index_whole_number_from"));
		return GH_EINVAL;
	}
	*out = strtoll(s, NULL, 10);
	return 0;
}

static int no_leaf(struct req *r, int64_t idx)
{
	req_error_detail(r, "%s", MF(r, "ledger_log_leaf_idx", MA("idx", (long long)idx)));
	return GH_ENOTFOUND;
}

static int tree_size(struct req *r, int64_t *size)
{
	struct merkle_frontier *f = arena_alloc(r->arena, sizeof(*f));
	int rc = ledger_head_read(r->db, r->arena, false, f, NULL);
	*size = (int64_t)f->size;
	return rc;
}

/* ---- signing before answering (ledger.h) ---- */

struct signed_then {
	int (*then)(struct req *, void *);
	void *arg;
};

static int sign_write(struct req *w, void *p)
{
	(void)p;
	return ledger_checkpoint_now(w->db, w->arena, ledger_loaded_keys, NULL);
}

static int signed_done(struct req *r, void *p, int rc)
{
	struct signed_then *s = p;
	return rc ? rc : s->then(r, s->arg);
}

/* Whether signing would not help: the latest checkpoint covers leaves already, or (but for
 * LEDGER_HEAD) the tree does not hold that many (no checkpoint proves a leaf not yet in the
 * log: the handler finds none). 0 and *yes, or a GH_E code. */
static int covered(struct req *r, int64_t leaves, bool *yes)
{
	int64_t size = -1, head;
	int rc = ledger_checkpoint_latest(r->db, r->arena, &size, NULL, NULL);
	*yes = false;
	if (rc && rc != GH_ENOTFOUND)
		return rc;
	if (!rc && size >= leaves) {
		*yes = true;
		return 0;
	}
	if (leaves == 0) /* there is none */
		return 0;
	if ((rc = tree_size(r, &head)))
		return rc;
	*yes = leaves == LEDGER_HEAD ? size >= head : leaves > head;
	return 0;
}

static int sign_then(struct req *r, int (*then)(struct req *, void *), void *arg)
{
	struct signed_then *s = arena_zalloc(r->arena, sizeof(*s));
	s->then = then;
	s->arg = arg;
	return req_write(r, sign_write, signed_done, s);
}

int ledger_signed_then(struct req *r, int64_t leaves, int (*then)(struct req *, void *), void *arg)
{
	bool yes;
	int rc = covered(r, leaves, &yes);
	return rc ? rc : yes ? then(r, arg) : sign_then(r, then, arg);
}

/* ledger_signed_rerun's then: the handler again. */
struct rerun {
	int (*handler)(struct req *);
};

static int rerun(struct req *r, void *arg)
{
	return ((struct rerun *)arg)->handler(r);
}

int ledger_signed_rerun(struct req *r, int64_t leaves, int (*handler)(struct req *))
{
	bool yes;
	int rc = covered(r, leaves, &yes);
	if (rc || yes)
		return rc;
	struct rerun *h = arena_zalloc(r->arena, sizeof(*h));
	h->handler = handler;
	return sign_then(r, rerun, h);
}

int ledger_leaf_signed(struct req *r, int loaded, const int64_t *leaf_index, int (*handler)(struct req *r))
{
	if (loaded || *leaf_index < 0)
		return loaded;
	return ledger_signed_rerun(r, *leaf_index + 1, handler);
}

/* The latest signed checkpoint. */
struct head {
	int64_t size;
	unsigned char root[H32];
	const char *note;
};

/* The latest checkpoint once there is one: with self, signed first when there is none
 * (ledger_signed_rerun(r, 0, self)). 0 and *h, or REQ_DEFERRED or a GH_E code for self to
 * return. */
static int signed_head(struct req *r, int (*self)(struct req *), struct head *h)
{
	int rc = self ? ledger_signed_rerun(r, 0, self) : 0;
	return rc ? rc : ledger_checkpoint_latest(r->db, r->arena, &h->size, h->root, &h->note);
}

static json_t *checkpoint_json(struct req *r, int64_t size, const unsigned char root[H32], const char *note)
{
	return json_pack("{s:s%,s:I,s:s,s:s}", "origin", note, strcspn(note, "\n"), "tree_size", (json_int_t)size,
			 "root", b64(r, root), "checkpoint", note);
}

/* h's note with the cosignatures other halls' witnesses gave it (witness.h), when it has any. */
static int with_cosignatures(struct req *r, struct head *h)
{
	const char *cosigs = "";
	int rc = ledger_cosig_lines(r->db, r->arena, h->size, &cosigs);
	if (!rc && *cosigs)
		h->note = arena_printf(r->arena, "%s%s", h->note, cosigs);
	return rc;
}

static int checkpoint_answer(struct req *r, void *arg)
{
	(void)arg;
	struct head h;
	int rc = signed_head(r, NULL, &h);
	if (!rc)
		rc = with_cosignatures(r, &h);
	return rc ? rc : resp_json(r, 200, checkpoint_json(r, h.size, h.root, h.note));
}

/* GET /api/v1/ledger/checkpoint[?fresh=1]: the latest checkpoint, signing one first when
 * there is none (or, with fresh, when the tree grew). */
static int api_checkpoint(struct req *r)
{
	long fresh;
	int rc = req_query_long(r, "fresh", 0, 0, 1, &fresh);
	if (rc)
		return rc;
	return ledger_signed_then(r, fresh ? LEDGER_HEAD : 0, checkpoint_answer, NULL);
}

/* GET /ledger/checkpoint: the note itself, for note tooling. */
static int text_checkpoint(struct req *r)
{
	struct head h;
	int rc = signed_head(r, text_checkpoint, &h);
	if (!rc)
		rc = with_cosignatures(r, &h);
	return rc ? rc : resp_body(r, 200, "text/plain; charset=utf-8", h.note, strlen(h.note));
}

static json_t *leaf_json(struct req *r, const struct ledger_leaf *l)
{
	return json_pack("{s:I,s:s,s:s,s:s,s:I}", "index", (json_int_t)l->index, "kind", l->kind, "leaf", l->leaf,
			 "leaf_hash", b64(r, l->hash), "created_at", (json_int_t)l->created_at);
}

/* GET /api/v1/ledger/leaves/{index} */
static int api_leaf(struct req *r)
{
	int64_t idx;
	int rc = index_param(r, "index", &idx);
	if (rc)
		return rc;
	struct ledger_leaf l;
	rc = ledger_leaf_read(r->db, r->arena, idx, &l);
	if (rc == GH_ENOTFOUND)
		return no_leaf(r, idx);
	if (rc)
		return rc;
	return resp_json(r, 200, leaf_json(r, &l));
}

/* GET /api/v1/ledger/proofs/inclusion?index=I[&size=N]: N defaults to the latest
 * checkpoint's size (a new checkpoint is signed when it does not cover I). */
static int api_inclusion(struct req *r)
{
	long idx, size;
	int64_t head;
	int rc;
	if ((rc = req_query_long(r, "index", -1, 0, INT64_MAX / 2, &idx)) ||
	    (rc = req_query_long(r, "size", 0, 1, INT64_MAX / 2, &size)) || (rc = tree_size(r, &head)))
		return rc;
	if (idx < 0) {
		req_error_detail(r, "%s", M(r, "ledger_give_leaf_s_index_index"));
		return GH_EINVAL;
	}
	if (idx >= head)
		return no_leaf(r, idx);
	unsigned char root[H32];
	if (size == 0) {
		struct ledger_proof p;
		if ((rc = ledger_signed_rerun(r, idx + 1, api_inclusion)) || (rc = ledger_prove(r->db, r->arena, idx, &p)))
			return rc;
		return resp_json(r, 200,
				 json_pack("{s:I,s:I,s:s,s:s,s:s,s:o}", "index", (json_int_t)idx, "tree_size",
					   (json_int_t)p.tree_size, "leaf_hash", b64(r, p.leaf_hash), "root",
					   b64(r, p.root), "checkpoint", p.checkpoint, "proof",
					   ledger_hashes_json((const unsigned char(*)[H32])p.path, p.n)));
	}
	if (size > head || idx >= size) {
		req_error_detail(r, "%s", MF(r, "ledger_size_must_larger_than_index", MA("head", (long long)head)));
		return GH_EINVAL;
	}
	struct ledger_leaf l;
	if ((rc = ledger_leaf_read(r->db, r->arena, idx, &l)) ||
	    (rc = ledger_root_at(r->db, r->arena, (uint64_t)size, root)))
		return rc;
	unsigned char(*path)[H32] = arena_alloc(r->arena, LEDGER_PROOF_MAX * H32);
	size_t n;
	if ((rc = ledger_inclusion_at(r->db, r->arena, (uint64_t)idx, (uint64_t)size, path, &n, NULL)))
		return rc;
	return resp_json(r, 200,
			 json_pack("{s:I,s:I,s:s,s:s,s:o}", "index", (json_int_t)idx, "tree_size", (json_int_t)size,
				   "leaf_hash", b64(r, l.hash), "root", b64(r, root), "proof",
				   ledger_hashes_json((const unsigned char(*)[H32])path, n)));
}

/* GET /api/v1/ledger/proofs/consistency?first=A[&second=B]: B defaults to the latest
 * checkpoint's size. */
static int api_consistency(struct req *r)
{
	long first, second;
	int64_t head;
	int rc;
	if ((rc = req_query_long(r, "first", 0, 1, INT64_MAX / 2, &first)) ||
	    (rc = req_query_long(r, "second", 0, 1, INT64_MAX / 2, &second)) || (rc = tree_size(r, &head)))
		return rc;
	if (first == 0) {
		req_error_detail(r, "%s", M(r, "ledger_give_older_tree_size_first"));
		return GH_EINVAL;
	}
	if (second == 0) {
		struct head h;
		if ((rc = signed_head(r, api_consistency, &h)))
			return rc;
		second = (long)h.size;
	}
	if (first > second || second > head) {
		req_error_detail(r, "%s", MF(r, "ledger_sizes_must_satisfy_1_first", MA("head", (long long)head)));
		return GH_EINVAL;
	}
	unsigned char r1[H32], r2[H32];
	unsigned char(*path)[H32] = arena_alloc(r->arena, LEDGER_PROOF_MAX * H32);
	size_t n;
	if ((rc = ledger_root_at(r->db, r->arena, (uint64_t)first, r1)) ||
	    (rc = ledger_root_at(r->db, r->arena, (uint64_t)second, r2)) ||
	    (rc = ledger_consistency_at(r->db, r->arena, (uint64_t)first, (uint64_t)second, path, &n, NULL)))
		return rc;
	return resp_json(r, 200,
			 json_pack("{s:I,s:I,s:s,s:s,s:o}", "first", (json_int_t)first, "second", (json_int_t)second,
				   "first_root", b64(r, r1), "second_root", b64(r, r2), "proof",
				   ledger_hashes_json((const unsigned char(*)[H32])path, n)));
}

/* ---- verifying a receipt online ---- */

int ledger_receipt_verdict(struct req *r, const json_t *doc, json_t **out)
{
	const char *type = json_string_value(json_object_get(doc, "type"));
	json_t *ji = json_object_get(doc, "leaf_index"), *js = json_object_get(doc, "tree_size");
	json_t *proof = json_object_get(doc, "inclusion_proof");
	const char *origin = json_string_value(json_object_get(doc, "origin"));
	const char *leaf = json_string_value(json_object_get(doc, "leaf"));
	const char *lh64 = json_string_value(json_object_get(doc, "leaf_hash"));
	const char *r64 = json_string_value(json_object_get(doc, "root"));
	const char *note = json_string_value(json_object_get(doc, "checkpoint"));
	const char *kind = json_string_value(json_object_get(doc, "kind"));
	unsigned char lh[H32], root[H32];
	/* Not a receipt at all: 422. Everything after this is a verdict. */
	if (!json_is_object(doc) || !type || strcmp(type, LEDGER_RECEIPT_TYPE) != 0 || !json_is_integer(ji) ||
	    json_integer_value(ji) < 0 || !json_is_integer(js) || json_integer_value(js) <= json_integer_value(ji) ||
	    !origin || !leaf || strlen(leaf) > LEDGER_LEAF_MAX || !lh64 || ledger_unb64_hash(lh64, lh) || !r64 ||
	    ledger_unb64_hash(r64, root) || !note || strlen(note) > 8192 || !json_is_array(proof) ||
	    json_array_size(proof) > LEDGER_PROOF_MAX) {
		req_error_detail(r, "%s", M(r, "ledger_receipt_malformed"));
		return GH_EVALIDATION;
	}
	size_t np = json_array_size(proof);
	unsigned char(*path)[H32] = arena_alloc(r->arena, (np + 1) * H32);
	for (size_t i = 0; i < np; i++)
		if (ledger_unb64_hash(json_string_value(json_array_get(proof, i)), path[i])) {
			req_error_detail(r, "%s", M(r, "ledger_receipt_malformed"));
			return GH_EVALIDATION;
		}
	int64_t index = json_integer_value(ji), size = json_integer_value(js);
	if (!ledger_loaded_keys)
		return GH_EUNAVAILABLE;
	const char *ours = ledger_loaded_keys->origin;
	json_t *keys = owned(r, json_pack("{s:o}", "log", ledger_keys_json(ledger_loaded_keys)));

	unsigned char computed[H32];
	ledger_leaf_hash(leaf, strlen(leaf), computed);
	bool hash_ok = sodium_memcmp(computed, lh, H32) == 0;
	/* The receipt's origin and the first line of its checkpoint both name this hall's log. */
	size_t ol = strcspn(note, "\n");
	bool origin_ok = strcmp(origin, ours) == 0 && ol == strlen(ours) && strncmp(note, ours, ol) == 0;
	const char *signed_origin = NULL;
	int64_t signed_size = -1;
	unsigned char signed_root[H32];
	char err[256];
	bool sig_ok = origin_ok &&
		      ledger_checkpoint_verify(r->arena, note, keys, &signed_origin, &signed_size, signed_root, err, sizeof(err)) == 0 &&
		      signed_size == size && sodium_memcmp(signed_root, root, H32) == 0;
	bool incl_ok = ledger_verify_inclusion((uint64_t)index, (uint64_t)size, lh, (const unsigned char(*)[H32])path, np,
					       root) == 0;
	/* The log itself: the same leaf at index, and the same root at that size (no fork). */
	bool in_log = false;
	if (origin_ok) {
		struct ledger_leaf stored;
		unsigned char at_size[H32];
		int rc = ledger_leaf_read(r->db, r->arena, index, &stored);
		if (rc && rc != GH_ENOTFOUND)
			return rc;
		in_log = !rc && sodium_memcmp(stored.hash, lh, H32) == 0;
		struct merkle_frontier *head = arena_alloc(r->arena, sizeof(*head));
		if (in_log && (rc = ledger_head_read(r->db, r->arena, false, head, NULL)))
			return rc;
		in_log = in_log && (uint64_t)size <= head->size;
		if (in_log) {
			if ((rc = ledger_root_at(r->db, r->arena, (uint64_t)size, at_size)))
				return rc;
			in_log = sodium_memcmp(at_size, root, H32) == 0;
		}
	}
	const char *why = !hash_ok	 ? "ledger_receipt_altered"
			  : !origin_ok ? "ledger_receipt_other_log"
			  : !sig_ok    ? "ledger_receipt_signature"
			  : !incl_ok   ? "ledger_receipt_inclusion"
			  : !in_log    ? "ledger_receipt_not_in_log"
				       : NULL;
	json_t *v = json_pack("{s:s,s:s,s:s,s:I,s:I,s:s,s:{s:b,s:b,s:b,s:b,s:b}}", "kind", "receipt", "status",
			      why ? "unknown" : "valid", "origin", origin, "leaf_index", (json_int_t)index, "tree_size",
			      (json_int_t)size, "leaf_kind", kind ? kind : "", "checks", "leaf_hash", hash_ok, "origin",
			      origin_ok, "signature", sig_ok, "inclusion", incl_ok, "in_log", in_log);
	if (!v)
		return GH_EINTERNAL;
	if (why)
		json_object_set_new(v, "reason", json_string(M(r, why)));
	*out = v;
	return 0;
}

/* GET /.well-known/govhall-keys.json */
static int wellknown_keys(struct req *r)
{
	if (!ledger_loaded_keys)
		return GH_EUNAVAILABLE;
	json_t *doc = owned(r, json_object());
	json_object_set_new(doc, "log", ledger_keys_json(ledger_loaded_keys));
	int rc = ledger_wellknown_extend(r->db, r->arena, doc);
	if (rc)
		return rc;
	resp_header(r, "Cache-Control", "public, max-age=300");
	resp_header(r, "Access-Control-Allow-Origin", "*");
	return resp_json(r, 200, json_incref(doc));
}

/* ---- pages ---- */

static json_t *page_ctx(struct req *r, const char *title)
{
	json_t *ctx = json_object();
	jset(ctx, "title", title);
	json_object_set_new(ctx, "nav_ledger", json_true());
	return ctx;
}

/* The words for a kind of leaf: the catalogs' ledger_kind_<kind>. */
static const char *kind_name(struct req *r, const char *kind)
{
	return MC(r, "ledger_kind_", kind);
}

/* GET /ledger: the latest signed tree head, the keys, the newest leaves, a look-up form. */
static int ledger_page(struct req *r)
{
	struct head h;
	int rc = signed_head(r, ledger_page, &h);
	if (rc)
		return rc;
	json_t *ctx = page_ctx(r, M(r, "ledger_title"));
	json_t *head = json_object();
	json_object_set_new(head, "size", json_integer(h.size));
	jset(head, "root", b64(r, h.root));
	jset(head, "note", h.note);
	json_object_set_new(ctx, "head", head);
	json_t *keys = json_array();
	for (size_t i = 0; ledger_loaded_keys && i < ledger_loaded_keys->n; i++) {
		const struct ledger_key *k = &ledger_loaded_keys->k[ledger_loaded_keys->n - 1 - i];
		char pk[64];
		ledger_b64(k->pk, 32, pk, sizeof(pk));
		json_array_append_new(keys, json_pack("{s:I,s:s,s:s,s:b}", "id", (json_int_t)k->id, "public_key", pk,
						      "created", when(r, k->created), "current", i == 0));
	}
	json_object_set_new(ctx, "keys", keys);
	struct db_rows rows;
	if ((rc = db_query(r->db, r->arena, &q_recent, DB_NOARGS, &rows)))
		return rc;
	json_t *leaves = json_array();
	for (size_t i = 0; i < rows.nrows; i++)
		json_array_append_new(leaves, json_pack("{s:s,s:s,s:s}", "index", db_cell(&rows, i, 0), "kind",
							kind_name(r, db_cell(&rows, i, 1)), "at",
							when(r, db_cell_int(&rows, i, 2))));
	json_object_set_new(ctx, "leaves", leaves);
	json_object_set_new(ctx, "has_leaves", json_boolean(rows.nrows > 0));
	resp_header(r, "Cache-Control", "no-cache");
	return resp_page(r, 200, "ledger/index", ctx);
}

/* GET /ledger/leaves/{index} (also ?index=N from the look-up form on /ledger/leaf) */
static int leaf_page_of(struct req *r, int64_t idx)
{
	struct ledger_proof p;
	int rc = ledger_prove(r->db, r->arena, idx, &p);
	if (rc == GH_ENOTFOUND)
		return no_leaf(r, idx);
	if (rc)
		return rc;
	struct ledger_leaf l;
	if ((rc = ledger_leaf_read(r->db, r->arena, idx, &l)))
		return rc;
	json_t *ctx = page_ctx(r, arena_printf(r->arena, "%s %lld", M(r, "ledger_leaf_title"), (long long)idx));
	json_t *lj = json_object();
	json_object_set_new(lj, "index", json_integer(idx));
	jset(lj, "kind", kind_name(r, l.kind));
	jset(lj, "leaf", l.leaf);
	jset(lj, "hash", b64(r, l.hash));
	jset(lj, "at", when(r, l.created_at));
	json_object_set_new(ctx, "leaf", lj);
	json_object_set_new(ctx, "tree_size", json_integer(p.tree_size));
	jset(ctx, "root", b64(r, p.root));
	jset(ctx, "note", p.checkpoint);
	json_t *proof = json_array();
	for (size_t i = 0; i < p.n; i++)
		json_array_append_new(proof, json_string(b64(r, p.path[i])));
	json_object_set_new(ctx, "proof", proof);
	return resp_page(r, 200, "ledger/leaf", ctx);
}

static int leaf_page(struct req *r)
{
	int64_t idx;
	int rc = index_param(r, "index", &idx);
	if (!rc)
		rc = ledger_signed_rerun(r, idx + 1, leaf_page);
	return rc ? rc : leaf_page_of(r, idx);
}

static int leaf_lookup(struct req *r)
{
	long idx;
	int rc = req_query_long(r, "index", -1, 0, INT64_MAX / 2, &idx);
	if (rc)
		return rc;
	if (idx < 0)
		return resp_redirect(r, 303, "/ledger");
	return resp_redirect(r, 303, arena_printf(r->arena, "/ledger/leaves/%ld", idx));
}

/* ---- receipts ---- */

/* The application numbered by the path, if the caller may see it (the rule of the cases
 * module: administrators, the applicant — or the enterprise it was filed for — and staff of
 * the handling department). Someone else's application answers like none. */
static int visible_app(struct req *r, int64_t *id)
{
	const char *number = req_param(r, "number");
	struct db_rows rows;
	int rc = number && strlen(number) <= 64 ? db_query(r->db, r->arena, &q_app, DB_ARGS(DB_TEXT(number)), &rows) : 0;
	if (rc)
		return rc;
	bool ok = false;
	if (number && strlen(number) <= 64 && rows.nrows == 1) {
		int64_t applicant = db_cell_int(&rows, 0, 1);
		int64_t enterprise = db_cell(&rows, 0, 2) ? db_cell_int(&rows, 0, 2) : 0;
		const char *dept = db_cell(&rows, 0, 3);
		if (r->role == ROLE_ADMIN)
			ok = true;
		else
			ok = identity_owns(r, applicant, enterprise);
		if (!ok && r->role == ROLE_STAFF && r->who.department && dept)
			ok = strcmp(r->who.department, dept) == 0;
		*id = db_cell_int(&rows, 0, 0);
	}
	if (!ok) {
		req_error_detail(r, "%s", MF(r, "ledger_there_application_number_see", MA("number", number ? number : "")));
		return GH_ENOTFOUND;
	}
	return 0;
}

static int app_receipts(struct req *r, int64_t app_id, struct db_rows *rows)
{
	return db_query(r->db, r->arena, &q_app_leaves, DB_ARGS(DB_INT(app_id)), rows);
}

/* What a receipt records, in words: the workflow's case_event_<action>, as on the timeline. */
static const char *action_name(struct req *r, const char *action)
{
	return MC(r, "case_event_", action);
}

/* The receipt of leaf {index} of application {number}, as a JSON download. */
static int receipt_download(struct req *r)
{
	int64_t id, idx;
	struct db_rows rows;
	int rc = visible_app(r, &id);
	if (rc || (rc = index_param(r, "index", &idx)) || (rc = app_receipts(r, id, &rows)))
		return rc;
	bool mine = false;
	for (size_t i = 0; i < rows.nrows; i++)
		mine |= db_cell_int(&rows, i, 0) == idx;
	if (!mine) {
		req_error_detail(r, "%s", MF(r, "ledger_application_receipt_idx", MA("idx", (long long)idx)));
		return GH_ENOTFOUND;
	}
	json_t *doc;
	if ((rc = ledger_signed_rerun(r, idx + 1, receipt_download)) || (rc = ledger_receipt(r->db, r->arena, idx, &doc)))
		return rc;
	resp_header(r, "Content-Disposition",
		    arena_printf(r->arena, "attachment; filename=\"receipt-%s-%lld.json\"", req_param(r, "number"),
				 (long long)idx));
	resp_header(r, "Cache-Control", "no-store");
	return resp_json(r, 200, doc);
}

/* The receipts of application {number} for the API. */
static int receipts_json(struct req *r, const char *number, const struct db_rows *rows)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < rows->nrows; i++)
		json_array_append_new(arr, json_pack("{s:I,s:s,s:I,s:s}", "leaf_index", (json_int_t)db_cell_int(rows, i, 0),
						     "action", db_cell(rows, i, 1), "at", (json_int_t)db_cell_int(rows, i, 2),
						     "href", arena_printf(r->arena, "/api/v1/applications/%s/receipts/%s", number,
									  db_cell(rows, i, 0))));
	return resp_json(r, 200, json_pack("{s:s,s:o}", "number", number, "receipts", arr));
}

/* GET /applications/{number}/receipts (the receipts of an application, to download) and
 * /api/v1/applications/{number}/receipts. */
static int receipts_page(struct req *r)
{
	int64_t id;
	struct db_rows rows;
	int rc = visible_app(r, &id);
	if (rc || (rc = app_receipts(r, id, &rows)))
		return rc;
	const char *number = req_param(r, "number");
	if (r->api)
		return receipts_json(r, number, &rows);
	json_t *ctx = page_ctx(r, arena_printf(r->arena, "%s %s", M(r, "ledger_receipts_title"), number));
	jset(ctx, "number", number);
	json_t *arr = json_array();
	for (size_t i = 0; i < rows.nrows; i++)
		json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s}", "index", db_cell(&rows, i, 0), "action",
						     action_name(r, db_cell(&rows, i, 1)), "at",
						     when(r, db_cell_int(&rows, i, 2)), "href",
						     arena_printf(r->arena, "/applications/%s/receipts/%s", number,
								  db_cell(&rows, i, 0))));
	json_object_set_new(ctx, "receipts", arr);
	json_object_set_new(ctx, "has_receipts", json_boolean(rows.nrows > 0));
	resp_header(r, "Cache-Control", "no-store");
	return resp_page(r, 200, "ledger/receipts", ctx);
}

static const struct route ledger_routes[] = {
	{ HTTP_GET, "/api/v1/ledger/checkpoint", api_checkpoint, ROLE_PUBLIC, 0, "ledger.api_checkpoint" },
	{ HTTP_GET, "/api/v1/ledger/leaves/{index}", api_leaf, ROLE_PUBLIC, 0, "ledger.api_leaf" },
	{ HTTP_GET, "/api/v1/ledger/proofs/inclusion", api_inclusion, ROLE_PUBLIC, 0, "ledger.api_inclusion" },
	{ HTTP_GET, "/api/v1/ledger/proofs/consistency", api_consistency, ROLE_PUBLIC, 0, "ledger.api_consistency" },
	{ HTTP_GET, "/.well-known/govhall-keys.json", wellknown_keys, ROLE_PUBLIC, 0, "ledger.keys" },
	{ HTTP_GET, "/ledger", ledger_page, ROLE_PUBLIC, 0, "ledger.page" },
	{ HTTP_GET, "/ledger/checkpoint", text_checkpoint, ROLE_PUBLIC, 0, "ledger.checkpoint_text" },
	{ HTTP_GET, "/ledger/leaf", leaf_lookup, ROLE_PUBLIC, 0, "ledger.leaf_lookup" },
	{ HTTP_GET, "/ledger/leaves/{index}", leaf_page, ROLE_PUBLIC, 0, "ledger.leaf" },
	{ HTTP_GET, "/applications/{number}/receipts", receipts_page, CASE_VIEWERS, 0, "ledger.receipts" },
	{ HTTP_GET, "/applications/{number}/receipts/{index}", receipt_download, CASE_VIEWERS, 0, "ledger.receipt" },
	{ HTTP_GET, "/api/v1/applications/{number}/receipts", receipts_page, CASE_VIEWERS, 0, "ledger.api_receipts", NULL,
	  SCOPE_APPLY },
	{ HTTP_GET, "/api/v1/applications/{number}/receipts/{index}", receipt_download, CASE_VIEWERS, 0,
	  "ledger.api_receipt", NULL, SCOPE_APPLY },
};

int ledger_add_routes(struct router *rt)
{
	return router_add(rt, ledger_routes, ARRAY_LEN(ledger_routes)) ? GH_EINVAL : 0;
}
