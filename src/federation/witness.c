/* witness.c: halls witness each other's transparency logs (C2SP tlog-witness, tlog-cosignature).
 *
 * - The witness: POST /add-checkpoint on every hall of the federation takes a checkpoint of
 *   another hall's log (known from the hub's directory: its origin and log keys) with the old
 *   size and a consistency proof, and answers as the specification says: 400 for a malformed
 *   body or an old size above the checkpoint's, 404 for a log the directory does not name, 403
 *   when no signature of its keys verifies, 409 (text/x.tlog.size: the size it holds) when the
 *   old size is not the size it cosigned last, or the sizes are equal and the roots are not,
 *   422 for a consistency proof that does not verify, and 200 with its cosignature line
 *   (cosignature/v1, Ed25519, with the hall's message key, as "<base URL without scheme>/witness").
 *   The check and the new state (witness_logs, covered by the transparency log) are one write.
 * - The collector: the duty "federation witness" (own thread, every fed-witness-period seconds)
 *   asks every other hall of the directory that registered a log to cosign this hall's latest
 *   checkpoint, from the size it cosigned last (a 409 tells it the size: it asks again once),
 *   and keeps the cosignatures that verify (ledger_cosignatures); GET /ledger/checkpoint then
 *   carries them.
 * - Split views: two different checkpoints of one size, both signed by the log, are recorded in
 *   witness_splits (covered) with both notes, logged, sent to the administrators' inboxes, and
 *   listed publicly (GET /witness/splits, /api/v1/witness/splits). A witness sees one when a
 *   submitted checkpoint has the size it holds and another root; the collector sees one when
 *   another hall's published view (GET /witness/logs: the latest checkpoint it cosigned of each
 *   log) differs from this hall's at the same size, for another hall's log or for its own. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/duty.h"
#include "base/err.h"
#include "base/log.h"
#include "federation/dir.h"
#include "federation/fed_impl.h"
#include "http/client.h"
#include "http/msg.h"
#include "http/server.h"
#include "http/write.h"
#include "ledger/witness.h"
#include "notify/notify.h"
#include "store/cover.h"
#include "store/db.h"

#define VIEW_MAX (256 * 1024) /* longest GET /witness/logs answer read from another hall */
#define SPLITS_MAX 200        /* split views listed on the page */

static const struct cover_table cover_logs = {
	.table = "witness_logs", .key = "origin", .cols = "hall_id, size, root, note",
};
static const struct cover_table cover_splits = {
	.table = "witness_splits", .key = "id",
	.cols = "origin, hall_id, size, root_a, note_a, root_b, note_b, source, reported_by, seen_at",
};

void fed_witness_register(void)
{
	cover_declare(&cover_logs);
	cover_declare(&cover_splits);
}

static void self_name(char *out, size_t n)
{
	fed_dir_witness_name(fed_cfg.self_url, out, n);
}

static void b64(const unsigned char h[32], char out[48])
{
	sodium_bin2base64(out, 48, h, 32, sodium_base64_VARIANT_ORIGINAL);
}

json_t *fed_witness_log_json(struct db *db, const struct config *cfg)
{
	char origin[256];
	unsigned char keys[WITNESS_KEYS_MAX][32];
	size_t n = 0;
	if (ledger_log_identity(db, cfg, origin, sizeof(origin), keys, WITNESS_KEYS_MAX, &n) || n == 0 || !*origin)
		return NULL;
	json_t *ks = json_array();
	for (size_t i = 0; i < n; i++) {
		char b[48];
		b64(keys[i], b);
		json_array_append_new(ks, json_string(b));
	}
	return json_pack("{s:s,s:o}", "origin", origin, "keys", ks);
}

/* The hall of the directory whose log is origin (not this hall), copied into h. */
static bool log_hall(const char *origin, struct fed_dir_hall *h)
{
	struct fed_dir_hall *all;
	size_t n;
	bool found = false;
	if (fed_member_halls(&all, &n))
		return false;
	for (size_t i = 0; i < n && !found; i++)
		if (all[i].nlog && !strcmp(all[i].log_origin, origin) && strcmp(all[i].id, fed_cfg.app->cfg.fed_client_id)) {
			*h = all[i];
			found = true;
		}
	free(all);
	return found;
}

/* ---- split views ---- */

DB_SQL(q_split_ins, "INSERT INTO witness_splits (origin, hall_id, size, root_a, note_a, root_b, note_b, source, "
		    "reported_by, seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
		    "ON CONFLICT (origin, size, root_a, root_b) DO NOTHING RETURNING id");
DB_SQL(q_admins, "SELECT id FROM accounts WHERE kind = 'admin' AND status = 'active'");

struct split {
	const char *origin, *hall, *root_a, *note_a, *root_b, *note_b, *source, *reported_by;
	int64_t size;
};

/* Records a split view in db's open transaction (or one of its own): once per pair of roots,
 * with a message to every administrator. *recorded tells whether it was new. */
static int split_record(struct db *db, struct arena *a, const struct split *s, bool *recorded)
{
	bool own;
	int rc = cover_tx_begin(db, &own);
	if (rc)
		return rc;
	struct db_rows rows;
	rc = db_query(db, a, &q_split_ins,
		      DB_ARGS(DB_TEXT(s->origin), DB_TEXT(s->hall), DB_INT(s->size), DB_TEXT(s->root_a), DB_TEXT(s->note_a),
			      DB_TEXT(s->root_b), DB_TEXT(s->note_b), DB_TEXT(s->source), DB_TEXT(s->reported_by),
			      DB_INT(time(NULL))),
		      &rows);
	*recorded = !rc && rows.nrows == 1;
	if (*recorded)
		rc = cover_touch_id(db, "witness_splits", db_cell_int(&rows, 0, 0), "witness.split");
	if (*recorded && !rc) {
		const struct view *v = fed_cfg.app ? fed_cfg.app->view : NULL;
		char size[24];
		snprintf(size, sizeof(size), "%lld", (long long)s->size);
		struct db_rows admins;
		if (v && !(rc = db_query(db, a, &q_admins, DB_NOARGS, &admins)))
			for (size_t i = 0; i < admins.nrows && !rc; i++)
				rc = notify_inbox_message(
					db, a, db_cell_int(&admins, i, 0), 0, "witness_split",
					VF(v, "zh", a, "witness_msg_split_title", MA("hall", s->hall)),
					VF(v, "en", a, "witness_msg_split_title", MA("hall", s->hall)),
					VF(v, "zh", a, "witness_msg_split_body", MA("hall", s->hall), MA("size", size)),
					VF(v, "en", a, "witness_msg_split_body", MA("hall", s->hall), MA("size", size)));
	}
	rc = cover_tx_end(db, own, rc);
	if (!rc && *recorded)
		log_error("witness: a split view of %s's log (%s): two checkpoints of size %lld, roots %s and %s (%s%s%s)", s->hall,
			  s->origin, (long long)s->size, s->root_a, s->root_b, s->source, *s->reported_by ? " by " : "",
			  s->reported_by);
	return rc;
}

/* ---- POST /add-checkpoint ---- */

DB_SQL(q_state, "SELECT size, root, note FROM witness_logs WHERE origin = ?");
DB_SQL(q_state_put, "INSERT INTO witness_logs (origin, hall_id, size, root, note, updated_at) VALUES (?, ?, ?, ?, ?, ?) "
		    "ON CONFLICT (origin) DO UPDATE SET hall_id = excluded.hall_id, size = excluded.size, "
		    "root = excluded.root, note = excluded.note, updated_at = excluded.updated_at");

struct add {
	struct witness_req q;
	struct fed_dir_hall hall;
	const char *origin;
	uint64_t size;
	unsigned char root[32];
	int status;         /* the answer */
	int64_t held;       /* 409: the size held */
	const char *answer; /* 200: the cosignature line; otherwise why */
};

static int plain(struct req *r, int status, const char *text)
{
	resp_header(r, "Cache-Control", "no-store");
	return resp_body(r, status, "text/plain; charset=utf-8", text, strlen(text));
}

static int sign_cb(const unsigned char *msg, size_t len, unsigned char sig[64])
{
	return fed_member_cosign(msg, len, sig);
}

static int add_write(struct req *w, void *arg)
{
	struct add *x = arg;
	struct db_rows rows;
	int rc = db_query(w->db, w->arena, &q_state, DB_ARGS(DB_TEXT(x->origin)), &rows);
	if (rc)
		return rc;
	int64_t held = rows.nrows ? db_cell_int(&rows, 0, 0) : 0;
	unsigned char held_root[32];
	char nb[48];
	b64(x->root, nb);
	if (rows.nrows && witness_unb64(db_cell(&rows, 0, 1), held_root)) {
		/* The witness's own state is unreadable: refuse rather than cosign blindly. */
		return GH_EINTERNAL;
	}
	x->held = held;
	if (rows.nrows && (int64_t)x->size == held && memcmp(held_root, x->root, 32)) {
		/* Another checkpoint of the size cosigned, signed by the same log: a split view. */
		struct split s = { .origin = x->origin, .hall = x->hall.id, .size = held, .root_a = db_cell(&rows, 0, 1),
				   .note_a = db_cell(&rows, 0, 2), .root_b = arena_strdup(w->arena, nb), .note_b = x->q.note,
				   .source = "witness", .reported_by = "" };
		bool rec;
		if ((rc = split_record(w->db, w->arena, &s, &rec)))
			return rc;
		x->status = 409;
		return 0;
	}
	if ((int64_t)x->q.old != held) {
		x->status = 409;
		return 0;
	}
	if (held == 0 ? x->q.n != 0
		      : !ledger_consistency_ok((uint64_t)held, x->size, held_root, x->root,
					       (const unsigned char(*)[32])x->q.proof, x->q.n)) {
		x->status = 422;
		x->answer = "the consistency proof does not lead from the checkpoint this witness holds to this one";
		return 0;
	}
	if (held != (int64_t)x->size || !rows.nrows) {
		bool own;
		if ((rc = cover_tx_begin(w->db, &own)))
			return rc;
		rc = db_exec(w->db, &q_state_put,
			     DB_ARGS(DB_TEXT(x->origin), DB_TEXT(x->hall.id), DB_INT((int64_t)x->size), DB_TEXT(nb),
				     DB_TEXT(x->q.note), DB_INT(time(NULL))),
			     NULL);
		if (!rc)
			rc = cover_touch(w->db, "witness_logs", x->origin, "witness.cosign");
		if ((rc = cover_tx_end(w->db, own, rc)))
			return rc;
	}
	char name[600];
	self_name(name, sizeof(name));
	unsigned char pk[32];
	if (fed_member_own_key(pk) || !(x->answer = witness_cosign(w->arena, name, pk, sign_cb, x->q.note, time(NULL))))
		return GH_EUNAVAILABLE;
	x->status = 200;
	return 0;
}

static int add_done(struct req *r, void *arg, int rc)
{
	struct add *x = arg;
	if (rc)
		return rc;
	if (x->status == 409) {
		char b[32];
		snprintf(b, sizeof(b), "%lld\n", (long long)x->held);
		resp_header(r, "Cache-Control", "no-store");
		return resp_body(r, 409, "text/x.tlog.size", b, strlen(b));
	}
	return plain(r, x->status, x->answer);
}

static int add_checkpoint(struct req *r)
{
	if (!fed_cfg.rp)
		return GH_ENOTFOUND;
	size_t len;
	const char *body = req_body(r, &len), *why;
	struct add *x = arena_zalloc(r->arena, sizeof(*x));
	size_t body_len;
	if (witness_req_parse(r->arena, body, len, &x->q, &why) ||
	    witness_note_open(r->arena, x->q.note, &x->origin, &x->size, x->root, &body_len, &why))
		return plain(r, 400, arena_printf(r->arena, "%s\n", why));
	if (!log_hall(x->origin, &x->hall))
		return plain(r, 404, "this witness knows no log of that origin in the hub's directory\n");
	if (witness_note_signed(r->arena, x->q.note, x->origin, (const unsigned char(*)[32])x->hall.log_keys, x->hall.nlog))
		return plain(r, 403, "no signature of the checkpoint verifies under the log's keys in the hub's directory\n");
	if (x->q.old > x->size)
		return plain(r, 400, "the old size is larger than the checkpoint's size\n");
	return req_write(r, add_write, add_done, x);
}

/* ---- GET /witness/logs: what this witness holds, for the others' comparison ---- */

DB_SQL(q_states, "SELECT origin, hall_id, size, note, updated_at FROM witness_logs ORDER BY origin LIMIT 512");

static int witness_logs(struct req *r)
{
	if (!fed_cfg.rp)
		return GH_ENOTFOUND;
	struct db_rows rows;
	int rc = db_query(r->db, r->arena, &q_states, DB_NOARGS, &rows);
	if (rc)
		return rc;
	json_t *arr = json_array();
	for (size_t i = 0; i < rows.nrows; i++)
		json_array_append_new(arr, json_pack("{s:s,s:s,s:I,s:s,s:I}", "origin", db_cell(&rows, i, 0), "hall",
						     db_cell(&rows, i, 1), "size", (json_int_t)db_cell_int(&rows, i, 2), "checkpoint",
						     db_cell(&rows, i, 3), "updated_at", (json_int_t)db_cell_int(&rows, i, 4)));
	char name[600];
	self_name(name, sizeof(name));
	resp_header(r, "Cache-Control", "no-store");
	return resp_json(r, 200, json_pack("{s:s,s:o}", "witness", name, "logs", arr));
}

/* ---- GET /witness/splits, /api/v1/witness/splits ---- */

DB_SQL(q_splits, "SELECT id, origin, hall_id, size, root_a, note_a, root_b, note_b, source, reported_by, seen_at "
		 "FROM witness_splits ORDER BY id DESC LIMIT 200");

static json_t *splits_json(struct req *r, int *rc)
{
	struct db_rows rows;
	if ((*rc = db_query(r->db, r->arena, &q_splits, DB_NOARGS, &rows)))
		return NULL;
	json_t *arr = json_array();
	for (size_t i = 0; i < rows.nrows; i++)
		json_array_append_new(
			arr, json_pack("{s:I,s:s,s:s,s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:I}", "id", (json_int_t)db_cell_int(&rows, i, 0),
				       "origin", db_cell(&rows, i, 1), "hall", db_cell(&rows, i, 2), "size",
				       (json_int_t)db_cell_int(&rows, i, 3), "root_a", db_cell(&rows, i, 4), "checkpoint_a",
				       db_cell(&rows, i, 5), "root_b", db_cell(&rows, i, 6), "checkpoint_b", db_cell(&rows, i, 7),
				       "source", db_cell(&rows, i, 8), "reported_by", db_cell(&rows, i, 9), "seen_at",
				       (json_int_t)db_cell_int(&rows, i, 10)));
	return arr;
}

static int api_splits(struct req *r)
{
	int rc;
	json_t *arr = splits_json(r, &rc);
	if (!arr)
		return rc;
	resp_header(r, "Cache-Control", "no-store");
	return resp_json(r, 200, json_pack("{s:o}", "splits", arr));
}

static int page_splits(struct req *r)
{
	int rc;
	json_t *arr = splits_json(r, &rc);
	if (!arr)
		return rc;
	size_t i;
	json_t *s;
	json_array_foreach(arr, i, s) {
		const char *src = json_string_value(json_object_get(s, "source"));
		json_object_set_new(s, "source_text",
				    json_string(M(r, !strcmp(src, "witness") ? "witness_source_witness" : "witness_source_gossip")));
		time_t t = (time_t)json_integer_value(json_object_get(s, "seen_at"));
		struct tm tm;
		char when[32];
		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", &tm);
		json_object_set_new(s, "when", json_string(when));
	}
	json_t *ctx = json_pack("{s:s,s:b,s:o}", "title", M(r, "witness_splits_title"), "has_splits", json_array_size(arr) > 0,
				"splits", arr);
	json_object_set_new(ctx, "nav_ledger", json_true());
	resp_header(r, "Cache-Control", "no-store");
	return resp_page(r, 200, "ledger/splits", ctx);
}

const struct route fed_witness_routes[] = {
	{ HTTP_POST, "/add-checkpoint", add_checkpoint, ROLE_PUBLIC, ROUTE_NOAUTH, "federation.witness_add_checkpoint" },
	{ HTTP_GET, "/witness/logs", witness_logs, ROLE_PUBLIC, ROUTE_NOAUTH, "federation.witness_logs" },
	{ HTTP_GET, "/witness/splits", page_splits, ROLE_PUBLIC, 0, "federation.witness_splits" },
	{ HTTP_GET, "/api/v1/witness/splits", api_splits, ROLE_PUBLIC, 0, "federation.witness_api_splits" },
};
const size_t fed_witness_routes_n = sizeof(fed_witness_routes) / sizeof(fed_witness_routes[0]);

/* ---- the duty: collect cosignatures, compare views ---- */

struct wrun {
	struct app *app;
	struct db *db;
	struct duty *duty;
	struct arena *a;
};
static struct wrun wr;

/* The witness keys of hall h: its message keys under its witness name. */
static size_t hall_witness_keys(struct arena *a, const struct fed_dir_hall *h, struct witness_key *w)
{
	char name[600];
	fed_dir_witness_name(h->base_url, name, sizeof(name));
	for (size_t k = 0; k < h->nkeys; k++) {
		w[k].name = arena_strdup(a, name);
		w[k].hall = h->id;
		memcpy(w[k].pk, h->keys[k].pk, 32);
	}
	return h->nkeys;
}

/* One add-checkpoint to h of this hall's checkpoint note (size) from old: the HTTP status, and
 * on 200 the cosignature stored; on 409 *held is the witness's size. */
static long ask(struct wrun *m, const struct fed_dir_hall *h, const char *note, int64_t size, int64_t old, int64_t *held)
{
	struct arena *a = m->a;
	unsigned char (*path)[32] = arena_array(a, 64, 32);
	size_t n = 0;
	if (old > 0 && old < size && ledger_consistency_lines(m->db, a, (uint64_t)old, (uint64_t)size, path, &n))
		return -1;
	size_t cap = 32 + n * 46 + strlen(note) + 2, off;
	char *body = arena_alloc(a, cap);
	off = (size_t)snprintf(body, cap, "old %lld\n", (long long)old);
	for (size_t i = 0; i < n; i++) {
		char b[48];
		b64(path[i], b);
		off += (size_t)snprintf(body + off, cap - off, "%s\n", b);
	}
	off += (size_t)snprintf(body + off, cap - off, "\n%s", note);
	const char *url = arena_printf(a, "%s/add-checkpoint", h->base_url);
	const char *headers[] = { "Content-Type: text/plain; charset=utf-8", NULL };
	struct http_client_resp resp;
	char err[256];
	if (http_client("POST", url, headers, body, off, m->app->cfg.fed_timeout, 65536, NULL, &resp, err, sizeof(err))) {
		log_debug("witness: %s cannot be reached (%s)", h->id, err);
		return -1;
	}
	long st = resp.status;
	if (st == 409) {
		char *end;
		long long v = strtoll(resp.body, &end, 10);
		*held = end != resp.body && *end == '\n' && v >= 0 ? v : -1;
	} else if (st == 200) {
		struct witness_key w[FED_DIR_KEYS_MAX];
		size_t nw = hall_witness_keys(a, h, w);
		bool ok[FED_DIR_KEYS_MAX];
		int64_t ts[FED_DIR_KEYS_MAX];
		const char *line[FED_DIR_KEYS_MAX], *why;
		int got = witness_cosigs_check(a, note, resp.body, resp.len, w, nw, ok, ts, line, &why);
		for (size_t k = 0; got > 0 && k < nw; k++)
			if (ok[k]) {
				if (ledger_cosig_put(m->db, size, h->id, line[k], ts[k]))
					log_warn("witness: the cosignature of %s cannot be stored: %s", h->id, db_last_error(m->db));
				break;
			}
		if (got <= 0) {
			log_warn("witness: %s answered without a valid cosignature (%s)", h->id, got < 0 ? why : "none of its keys");
			st = -1;
		}
	} else
		log_warn("witness: %s refused this hall's checkpoint %lld (%ld): %.*s", h->id, (long long)size, st,
			 (int)(resp.len > 200 ? 200 : resp.len), resp.body);
	http_client_resp_free(&resp);
	return st;
}

DB_SQL(q_have_cosig, "SELECT 1 FROM ledger_cosignatures WHERE size = ? AND witness = ?");

static void collect(struct wrun *m, const struct fed_dir_hall *h, int64_t size, const char *note)
{
	struct db_rows rows;
	if (db_query(m->db, m->a, &q_have_cosig, DB_ARGS(DB_INT(size), DB_TEXT(h->id)), &rows) || rows.nrows)
		return;
	int64_t old = 0, held = -1;
	if (ledger_cosig_last(m->db, m->a, h->id, &old))
		return;
	if (old > size)
		old = 0;
	long st = ask(m, h, note, size, old, &held);
	/* The witness holds another size (it lost its state, or cosigned for another node first). */
	if (st == 409 && held >= 0 && held <= size && held != old)
		ask(m, h, note, size, held, &held);
}

/* Compares hall h's published view with this hall's: its own log, and the logs both witness. */
DB_SQL(q_state_of, "SELECT size, root, note FROM witness_logs WHERE origin = ?");

static void compare(struct wrun *m, const struct fed_dir_hall *h, const struct fed_dir_hall *all, size_t nall,
		    const char *own_origin, const unsigned char (*own_keys)[32], size_t nown, int64_t own_size)
{
	struct arena *a = m->a;
	const char *url = arena_printf(a, "%s/witness/logs", h->base_url);
	const char *headers[] = { "Accept: application/json", NULL };
	struct http_client_resp resp;
	char err[256];
	if (http_client("GET", url, headers, NULL, 0, m->app->cfg.fed_timeout, VIEW_MAX, NULL, &resp, err, sizeof(err)))
		return;
	json_t *j = resp.status == 200 ? json_loadb(resp.body, resp.len, 0, NULL) : NULL;
	http_client_resp_free(&resp);
	json_t *e;
	size_t i;
	json_array_foreach(json_object_get(j, "logs"), i, e) {
		const char *note = json_string_value(json_object_get(e, "checkpoint")), *origin, *why;
		uint64_t size;
		unsigned char root[32], mine[32];
		size_t bl;
		if (!note || strlen(note) > 8192 || witness_note_open(a, note, &origin, &size, root, &bl, &why))
			continue;
		const char *hall = NULL, *mine_note = NULL;
		bool have = false;
		if (!strcmp(origin, own_origin)) {
			/* This hall's own log as another hall cosigned it. */
			if (witness_note_signed(a, note, origin, own_keys, nown) || (int64_t)size > own_size ||
			    ledger_own_root(m->db, a, size, mine))
				continue;
			hall = fed_cfg.app->cfg.fed_client_id;
			have = true;
			mine_note = arena_printf(a, "(this hall's own tree at size %llu)", (unsigned long long)size);
		} else {
			const struct fed_dir_hall *lh = NULL;
			for (size_t k = 0; k < nall; k++)
				if (all[k].nlog && !strcmp(all[k].log_origin, origin))
					lh = &all[k];
			struct db_rows rows;
			if (!lh || witness_note_signed(a, note, origin, (const unsigned char(*)[32])lh->log_keys, lh->nlog) ||
			    db_query(m->db, a, &q_state_of, DB_ARGS(DB_TEXT(origin)), &rows) || rows.nrows != 1 ||
			    db_cell_int(&rows, 0, 0) != (int64_t)size || witness_unb64(db_cell(&rows, 0, 1), mine))
				continue;
			hall = lh->id;
			have = true;
			mine_note = db_cell(&rows, 0, 2);
		}
		if (!have || !memcmp(mine, root, 32))
			continue;
		char ra[48], rb[48];
		b64(mine, ra);
		b64(root, rb);
		struct split s = { .origin = origin, .hall = hall, .size = (int64_t)size, .root_a = ra, .note_a = mine_note,
				   .root_b = rb, .note_b = note, .source = "gossip", .reported_by = h->id };
		bool rec;
		if (split_record(m->db, a, &s, &rec))
			log_warn("witness: a split view cannot be recorded: %s", db_last_error(m->db));
	}
	json_decref(j);
}

static int wpass(void *arg, bool *more)
{
	struct wrun *m = arg;
	*more = false;
	arena_reset(m->a);
	struct fed_dir_hall *all;
	size_t n;
	if (fed_member_halls(&all, &n))
		return 0; /* no directory yet */
	int64_t size = 0;
	const char *note = NULL;
	int rc = ledger_latest_checkpoint(m->db, m->a, &size, &note);
	char origin[256] = "";
	unsigned char keys[WITNESS_KEYS_MAX][32];
	size_t nk = 0;
	ledger_log_identity(m->db, &m->app->cfg, origin, sizeof(origin), keys, WITNESS_KEYS_MAX, &nk);
	for (size_t i = 0; i < n; i++) {
		const struct fed_dir_hall *h = &all[i];
		if (!h->nlog || !strcmp(h->id, m->app->cfg.fed_client_id))
			continue;
		if (!rc && note)
			collect(m, h, size, note);
		compare(m, h, all, n, origin, (const unsigned char(*)[32])keys, nk, rc ? 0 : size);
	}
	free(all);
	return 0;
}

int fed_witness_start(struct app *app, char *err, size_t errlen)
{
	if (!fed_cfg.rp || wr.duty)
		return 0;
	wr.app = app;
	if (db_open_named(app->cfg.db, "govhall federation witness", &wr.db, err, errlen))
		return GH_EUNAVAILABLE;
	wr.a = arena_new(64 * 1024);
	if (!(wr.duty = duty_start_alone("federation witness", wpass, &wr, (int)app->cfg.fed_witness_period))) {
		db_close(wr.db);
		arena_free(wr.a);
		wr = (struct wrun){ 0 };
		snprintf(err, errlen, "federation: cannot start the witness's duty");
		return GH_EINTERNAL;
	}
	return 0;
}

void fed_witness_stop(void)
{
	duty_stop(wr.duty);
	if (wr.db)
		db_close(wr.db);
	arena_free(wr.a);
	wr = (struct wrun){ 0 };
}
