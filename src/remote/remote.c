/* remote.c: 跨省通办 (remote.h): forwarding applications to the hall that owns the item, and
 * B's state changes flowing back. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/calendar.h"
#include "base/err.h"
#include "base/jsonout.h"
#include "catalog/catalog.h"
#include "cases/cases.h"
#include "federation/federation.h"
#include "http/handler.h"
#include "http/msg.h"
#include "http/router.h"
#include "http/sections.h"
#include "http/server.h"
#include "http/write.h"
#include "identity/crypto.h"
#include "identity/identity.h"
#include "notify/notify.h"
#include "remote/remote.h"
#include "remote/remote_impl.h"
#include "store/cover.h"
#include "store/db.h"
#include "store/personal.h"
#include "view/view.h"

#define FORM_MAX (64 * 1024)         /* the form's JSON text */
#define TEXT_MAX 200                 /* item codes, names, states, reasons as taken from a message */

static const struct cover_table cover_forwarded = {
	.table = "fed_forwarded", .key = "number",
	.cols = "dest, item_code, applicant_id, filed_by, channel, delivery, consent_at, remote_number, state, reason, last_seq",
};
static const struct cover_table cover_forwarded_events = {
	.table = "fed_forwarded_events", .key = "forwarded_id, seq", .cols = "action, state, reason, at",
};
static const struct cover_table cover_received = {
	.table = "fed_received", .key = "application_id", .cols = "origin, origin_number, delivery, received_at",
};

void remote_register(void)
{
	remote_joint_register();
	cover_declare(&cover_forwarded);
	cover_declare(&cover_forwarded_events);
	cover_declare(&cover_received);
}

/* The person's applications forwarded to other halls (store/personal.h): kept at closure, as
 * the applications they are. What went with them lives at the other hall, under its rules. */
DB_SQL(q_personal, "SELECT number, dest AS hall, item_code, channel, delivery, remote_number, state, consent_at, created_at, "
		   "updated_at FROM fed_forwarded WHERE applicant_id = ? ORDER BY id DESC LIMIT 2000");
static const struct personal_part part = { .name = "forwarded", .kept = true, .query = &q_personal };

void remote_personal_declare(void)
{
	personal_declare(&part);
}

bool remote_word_ok(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > max)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_' ||
		      *s == '-' || *s == '.'))
			return false;
	return true;
}

/* ---- at A: forwarding --------------------------------------------------------------------- */

struct fwd {
	const char *dest, *item_code, *channel, *delivery;
	int64_t applicant_id;         /* 0 at the counter until the write finds or makes the account */
	int64_t filed_by;
	const char *name, *id_number; /* the person (sent to dest; never logged) */
	json_t *msg;                  /* the message's body (r's arena) */
	/* out */
	const char *number;
	int64_t now;
};

DB_SQL(q_fwd_insert, "INSERT INTO fed_forwarded (number, dest, item_code, applicant_id, filed_by, channel, delivery, "
		     "consent_at, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'forwarded', ?, ?)");
DB_SQL(q_fwd_id, "SELECT id FROM fed_forwarded WHERE number = ?");
DB_SQL(q_event_insert, "INSERT INTO fed_forwarded_events (forwarded_id, seq, action, state, reason, at) VALUES (?, ?, ?, ?, ?, ?)");

int remote_forward_record(struct db *db, struct arena *a, const struct remote_forward *f, const char **number,
			  int64_t *id)
{
	/* The number: the hall's own, readable, unique (a clash is a unique violation: 409). */
	unsigned char rnd[4];
	randombytes_buf(rnd, sizeof(rnd));
	struct tm tm;
	time_t t = (time_t)f->now;
	gmtime_r(&t, &tm);
	*number = arena_printf(a, "KS%04d%02d%02d%02X%02X%02X%02X", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, rnd[0],
			       rnd[1], rnd[2], rnd[3]);
	json_object_set_new(f->msg, "number", json_string(*number));
	bool own;
	int rc = cover_tx_begin(db, &own);
	if (rc)
		return rc;
	rc = db_exec(db, &q_fwd_insert,
		     DB_ARGS(DB_TEXT(*number), DB_TEXT(f->dest), DB_TEXT(f->item_code), DB_INT(f->applicant_id),
			     f->filed_by ? DB_INT(f->filed_by) : DB_NULL, DB_TEXT(f->channel), DB_TEXT(f->delivery),
			     DB_INT(f->consent_at), DB_INT(f->now), DB_INT(f->now)),
		     NULL);
	struct db_rows rows;
	if (!rc)
		rc = db_query(db, a, &q_fwd_id, DB_ARGS(DB_TEXT(*number)), &rows);
	if (!rc) {
		*id = db_cell_int(&rows, 0, 0);
		rc = db_exec(db, &q_event_insert,
			     DB_ARGS(DB_INT(*id), DB_INT(0), DB_TEXT("forward"), DB_TEXT("forwarded"), DB_NULL, DB_INT(f->now)), NULL);
		if (!rc)
			rc = cover_touch(db, "fed_forwarded_events", arena_printf(a, "%lld:0", (long long)*id), "remote.forward");
	}
	if (!rc)
		rc = cover_touch(db, "fed_forwarded", *number, "remote.forward");
	/* The message goes iff the record commits. */
	if (!rc)
		rc = fed_outbox_add(db, fed_self(), f->dest, *number, "application.forward", f->msg);
	return cover_tx_end(db, own, rc);
}

json_t *remote_file_json(struct arena *a, int slot, const char *filename, const char *sha256, const void *data, size_t len)
{
	size_t b64n = sodium_base64_encoded_len(len, sodium_base64_VARIANT_ORIGINAL);
	char *b64 = arena_alloc(a, b64n);
	sodium_bin2base64(b64, b64n, data, len, sodium_base64_VARIANT_ORIGINAL);
	return json_pack("{s:i,s:s,s:s,s:s}", "slot", slot, "filename", filename, "sha256", sha256, "data", b64);
}

static int fwd_write(struct req *w, void *arg)
{
	struct fwd *f = arg;
	int rc;
	int64_t applicant = f->applicant_id, id;
	if (!applicant) {
		bool created;
		if ((rc = identity_external_person(w, f->id_number, f->name, &applicant, &created)))
			return rc;
	}
	struct remote_forward rf = { .dest = f->dest, .item_code = f->item_code, .channel = f->channel, .delivery = f->delivery,
				     .applicant_id = applicant, .filed_by = f->filed_by, .consent_at = f->now, .now = f->now,
				     .msg = f->msg };
	return remote_forward_record(w->db, w->arena, &rf, &f->number, &id);
}

static int fwd_done(struct req *r, void *arg, int rc)
{
	struct fwd *f = arg;
	if (rc == GH_EINVAL && !f->applicant_id) {
		req_error_detail(r, "%s", M(r, "remote_person_invalid"));
		return GH_EVALIDATION;
	}
	if (rc)
		return rc;
	resp_header(r, "Location", arena_printf(r->arena, "/api/v1/federation/applications/%s", f->number));
	return resp_json(r, 201, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s*}", "number", f->number, "hall", f->dest, "item_code",
					   f->item_code, "state", "forwarded", "channel", f->channel, "delivery", f->delivery));
}

static int refuse(struct req *r, int code, const char *why)
{
	req_error_detail(r, "%s", why);
	return code;
}

/* What a forwarding asks, from the API or the page. */
struct fwd_ask {
	const char *dest, *item_code, *name, *id_number, *delivery;
	json_t *form, *mats; /* an object, an array (may be NULL) */
	bool consent;
};

/* Checks a forwarding and queues its write; done answers. */
static int fwd_start(struct req *r, const struct fwd_ask *q, int (*done)(struct req *r, void *arg, int rc))
{
	struct fwd *f = arena_zalloc(r->arena, sizeof(*f));
	f->dest = q->dest;
	f->item_code = q->item_code;
	json_t *form = q->form, *mats = q->mats;
	int rc;
	if (!*fed_self())
		return refuse(r, GH_ENOTFOUND, M(r, "remote_not_federated"));
	if (!f->dest || !f->item_code || !remote_word_ok(f->item_code, 64) || (form && !json_is_object(form)) ||
	    (mats && !json_is_array(mats)))
		return refuse(r, GH_EINVAL, M(r, "remote_request_malformed"));
	if (!fed_hall_known(f->dest))
		return refuse(r, GH_EVALIDATION, M(r, "remote_hall_unknown"));
	/* Nothing leaves this hall without the person's explicit consent. */
	if (!q->consent)
		return refuse(r, GH_EVALIDATION, M(r, "remote_consent_needed"));
	bool clerk = r->who.kind && !strcmp(r->who.kind, "staff");
	f->now = time(NULL);
	if (clerk) {
		/* 异地代收代办: the clerk checked the person's identity at the counter. */
		f->name = q->name;
		f->id_number = q->id_number;
		f->delivery = q->delivery;
		if (!f->name || !f->id_number || strlen(f->name) > 100 || strlen(f->id_number) > 32)
			return refuse(r, GH_EVALIDATION, M(r, "remote_person_invalid"));
		if (!f->delivery || (strcmp(f->delivery, "post") && strcmp(f->delivery, "online")))
			return refuse(r, GH_EVALIDATION, M(r, "remote_delivery_needed"));
		f->channel = "counter";
		f->filed_by = r->who.account;
	} else {
		if (r->who.enterprise)
			return refuse(r, GH_EFORBIDDEN, M(r, "remote_individuals_only"));
		struct identity_claims c;
		if ((rc = identity_person_claims(r->db, r->arena, r->who.account, &c)))
			return rc == GH_ENOTFOUND ? refuse(r, GH_EFORBIDDEN, M(r, "remote_individuals_only")) : rc;
		f->name = c.name;
		f->id_number = c.id_number;
		f->applicant_id = r->who.account;
		f->channel = "web";
	}
	/* The files: the caller's own uploads, their bytes and SHA-256 in the message. */
	json_t *files = json_array();
	arena_cleanup(r->arena, (void (*)(void *))json_decref, files);
	size_t total = 0, i, k;
	json_t *m, *id;
	json_array_foreach(mats, i, m)
	{
		json_t *slot = json_object_get(m, "slot");
		json_array_foreach(json_object_get(m, "attachments"), k, id)
		{
			const char *fn, *sha;
			const void *data;
			size_t len;
			if (!json_is_integer(slot) || json_integer_value(slot) < 0 || json_integer_value(slot) > 64 ||
			    !json_is_integer(id) || json_array_size(files) >= FILES_MAX)
				return refuse(r, GH_EVALIDATION, M(r, "remote_files_malformed"));
			if (cases_attachment_bytes(r, json_integer_value(id), &fn, &sha, &data, &len))
				return refuse(r, GH_EVALIDATION, M(r, "cases_attached_file_unknown_yours"));
			if ((total += len) > FILES_BYTES)
				return refuse(r, GH_ETOOBIG, M(r, "remote_files_too_large"));
			json_array_append_new(files, remote_file_json(r->arena, (int)json_integer_value(slot), fn, sha, data, len));
		}
	}
	json_t *empty = json_object();
	arena_cleanup(r->arena, (void (*)(void *))json_decref, empty);
	char *form_s = jsonout_dumps(form ? form : empty, JSON_COMPACT);
	size_t form_n = form_s ? strlen(form_s) : 0;
	free(form_s);
	if (!form_n || form_n > FORM_MAX)
		return refuse(r, GH_ETOOBIG, M(r, "remote_form_too_large"));
	f->msg = json_pack("{s:s,s:s,s:s*,s:I,s:{s:s,s:s},s:O,s:O}", "item_code", f->item_code, "channel", f->channel,
			   "delivery", f->delivery, "consent_at", (json_int_t)f->now, "applicant", "name", f->name, "id_number",
			   f->id_number, "form", form ? form : empty, "files", files);
	if (!f->msg)
		return GH_EINTERNAL;
	arena_cleanup(r->arena, (void (*)(void *))json_decref, f->msg);
	return req_write(r, fwd_write, done, f);
}

/* POST /api/v1/federation/applications: {hall, item_code, form, materials: [{slot,
 * attachments: [ids]}], consent: true} from a citizen; a counter clerk adds {applicant: {name,
 * id_number}, delivery: "post"|"online"}. */
static int api_forward(struct req *r)
{
	json_t *in;
	int rc = req_body_object(r, &in);
	if (rc)
		return rc;
	json_t *p = json_object_get(in, "applicant");
	struct fwd_ask q = { .dest = json_string_value(json_object_get(in, "hall")),
			     .item_code = json_string_value(json_object_get(in, "item_code")),
			     .name = json_string_value(json_object_get(p, "name")),
			     .id_number = json_string_value(json_object_get(p, "id_number")),
			     .delivery = json_string_value(json_object_get(in, "delivery")),
			     .form = json_object_get(in, "form"),
			     .mats = json_object_get(in, "materials"),
			     .consent = json_is_true(json_object_get(in, "consent")) };
	return fwd_start(r, &q, fwd_done);
}

DB_SQL(q_fwd_get, "SELECT id, number, dest, item_code, COALESCE(item_name, ''), applicant_id, COALESCE(filed_by, 0), "
		  "channel, COALESCE(delivery, ''), remote_number, state, COALESCE(reason, ''), created_at, updated_at "
		  "FROM fed_forwarded WHERE number = ?");
DB_SQL(q_fwd_mine, "SELECT id, number, dest, item_code, COALESCE(item_name, ''), applicant_id, COALESCE(filed_by, 0), "
		   "channel, COALESCE(delivery, ''), remote_number, state, COALESCE(reason, ''), created_at, updated_at "
		   "FROM fed_forwarded WHERE (applicant_id = ? OR filed_by = ?) AND id NOT IN (SELECT forwarded_id FROM fed_joint) "
		   "ORDER BY id DESC LIMIT 100");
DB_SQL(q_events, "SELECT seq, action, state, COALESCE(reason, ''), at FROM fed_forwarded_events WHERE forwarded_id = ? "
		 "ORDER BY seq");

const char *remote_state_label(const struct req *r, const char *state)
{
	const char *key = arena_printf(r->arena, "case_state_%s", state);
	const char *s = M(r, key);
	return strcmp(s, key) ? s : state;
}

json_t *remote_fwd_json(struct req *r, const struct db_rows *rows, size_t i)
{
	const char *state = db_cell(rows, i, 10), *dl = db_cell(rows, i, 8), *name = db_cell(rows, i, 4);
	return json_pack("{s:s,s:s,s:s,s:s*,s:s,s:s*,s:s*,s:s,s:s,s:s*,s:I,s:I}", "number", db_cell(rows, i, 1), "hall",
			 db_cell(rows, i, 2), "item_code", db_cell(rows, i, 3), "item_name", *name ? name : NULL, "channel",
			 db_cell(rows, i, 7), "delivery", *dl ? dl : NULL, "remote_number", db_cell(rows, i, 9), "state", state,
			 "state_label", remote_state_label(r, state), "reason", *db_cell(rows, i, 11) ? db_cell(rows, i, 11) : NULL,
			 "created_at", (json_int_t)db_cell_int(rows, i, 12), "updated_at", (json_int_t)db_cell_int(rows, i, 13));
}

/* The forwarded application {number} of the path with its timeline's rows, for its applicant,
 * the clerk who filed it and administrators; GH_ENOTFOUND for anyone else (the same answer as
 * for none). *app is fwd_json's (a new reference). */
static int fwd_load(struct req *r, json_t **app, struct db_rows *ev)
{
	struct db_rows rows;
	int rc = db_query(r->db, r->arena, &q_fwd_get, DB_ARGS(DB_TEXT(req_param(r, "number"))), &rows);
	if (rc)
		return rc;
	bool admin = r->who.kind && !strcmp(r->who.kind, "admin");
	if (rows.nrows != 1 ||
	    !(admin || db_cell_int(&rows, 0, 5) == r->who.account || db_cell_int(&rows, 0, 6) == r->who.account))
		return GH_ENOTFOUND;
	if ((rc = db_query(r->db, r->arena, &q_events, DB_ARGS(DB_INT(db_cell_int(&rows, 0, 0))), ev)))
		return rc;
	*app = remote_fwd_json(r, &rows, 0);
	return 0;
}

json_t *remote_events_json(struct req *r, const struct db_rows *ev)
{
	json_t *events = json_array();
	for (size_t i = 0; i < ev->nrows; i++) {
		const char *st = db_cell(ev, i, 2), *why = db_cell(ev, i, 3);
		json_array_append_new(events, json_pack("{s:I,s:s,s:s,s:s,s:s*,s:I}", "seq", (json_int_t)db_cell_int(ev, i, 0),
							"action", db_cell(ev, i, 1), "state", st, "state_label",
							remote_state_label(r, st), "reason", *why ? why : NULL, "at",
							(json_int_t)db_cell_int(ev, i, 4)));
	}
	return events;
}

DB_SQL(q_fwd_by_id, "SELECT id, number, dest, item_code, COALESCE(item_name, ''), applicant_id, COALESCE(filed_by, 0), "
		    "channel, COALESCE(delivery, ''), remote_number, state, COALESCE(reason, ''), created_at, updated_at "
		    "FROM fed_forwarded WHERE id = ?");

int remote_forwarded_get(struct req *r, int64_t id, json_t **out)
{
	struct db_rows rows, ev;
	int rc = db_query(r->db, r->arena, &q_fwd_by_id, DB_ARGS(DB_INT(id)), &rows);
	if (!rc && rows.nrows != 1)
		rc = GH_ENOTFOUND;
	if (!rc)
		rc = db_query(r->db, r->arena, &q_events, DB_ARGS(DB_INT(id)), &ev);
	if (rc)
		return rc;
	*out = remote_fwd_json(r, &rows, 0);
	json_object_set_new(*out, "events", remote_events_json(r, &ev));
	return 0;
}

/* GET /api/v1/federation/applications/{number}: the person, the clerk who filed it,
 * administrators. The same answer for someone else's as for none. */
static int api_forwarded(struct req *r)
{
	struct db_rows ev;
	json_t *j;
	int rc = fwd_load(r, &j, &ev);
	if (rc)
		return rc;
	json_object_set_new(j, "events", remote_events_json(r, &ev));
	resp_header(r, "Cache-Control", "no-store");
	return resp_json(r, 200, j);
}

/* GET /api/v1/federation/applications: the caller's forwarded applications (and a clerk's). */
static int api_forwarded_mine(struct req *r)
{
	struct db_rows rows;
	int rc = db_query(r->db, r->arena, &q_fwd_mine, DB_ARGS(DB_INT(r->who.account), DB_INT(r->who.account)), &rows);
	if (rc)
		return rc;
	json_t *items = json_array();
	for (size_t i = 0; i < rows.nrows; i++)
		json_array_append_new(items, remote_fwd_json(r, &rows, i));
	resp_header(r, "Cache-Control", "no-store");
	return resp_json(r, 200, json_pack("{s:o}", "applications", items));
}

/* ---- at A: the pages ---------------------------------------------------------------------- */

/* GET /federation/items/{code}, asked by another hall (a signed request, fed_request_sender):
 * the guide of this hall's item, as the other hall shows it to a person applying there. */
static int item_guide(struct req *r)
{
	char hall[65];
	const char *why;
	int rc = fed_request_sender(r, "GET", hall, &why);
	if (rc == GH_ENOTFOUND)
		return rc;
	if (rc) {
		resp_header(r, "Cache-Control", "no-store");
		return resp_json(r, 401, json_pack("{s:s,s:s}", "error", "invalid_signature", "error_description", why));
	}
	const struct catalog_service_parsed *item;
	if ((rc = catalog_service_cached(r, req_param(r, "code"), &item)))
		return rc;
	const struct catalog_service *v = &item->svc;
	resp_header(r, "Cache-Control", "no-store");
	return resp_json(r, 200, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s*,s:s*,s:I,s:I,s:I,s:O,s:O}", "hall", fed_self(), "code", v->code,
					   "name_zh", v->name_zh, "name_en", v->name_en ? v->name_en : v->name_zh, "department",
					   v->department, "department_name_zh", item->dept_name_zh, "department_name_en",
					   item->dept_name_en, "online_depth", (json_int_t)v->online_depth, "promised_limit_days",
					   (json_int_t)v->promised_limit_days, "legal_limit_days", (json_int_t)v->legal_limit_days,
					   "form", item->def, "materials", item->mdefs));
}

#define GUIDE_MAX (256 * 1024)

struct lookup {
	const char *hall, *code, *path;
	struct arena *a;
	int rc;
	long status;
	const char *body;
	size_t len;
};

static void lookup_work(void *arg)
{
	struct lookup *l = arg;
	l->rc = fed_peer_get(l->a, l->hall, l->path, GUIDE_MAX, &l->status, &l->body, &l->len);
}

/* The apply page from the other hall's guide. */
static int lookup_done(struct req *r, void *arg)
{
	struct lookup *l = arg;
	if (l->rc == GH_ENOTFOUND || (!l->rc && l->status == 404))
		return refuse(r, GH_ENOTFOUND, M(r, "remote_item_unknown"));
	json_t *g = l->rc || l->status != 200 ? NULL : json_loadb(l->body, l->len, JSON_REJECT_DUPLICATES, NULL);
	if (g)
		arena_cleanup(r->arena, (void (*)(void *))json_decref, g);
	const char *name = json_string_value(json_object_get(g, strcmp(r->lang, "en") ? "name_zh" : "name_en"));
	json_t *def = json_object_get(g, "form"), *mdefs = json_object_get(g, "materials");
	if (!name || !json_is_array(def) || !json_is_array(mdefs))
		return refuse(r, GH_EUNAVAILABLE, M(r, "remote_hall_unreachable"));
	bool en = !strcmp(r->lang, "en");
	json_t *fields = json_array(), *mats = json_array();
	size_t i, k;
	json_t *f, *o;
	json_array_foreach(def, i, f)
	{
		const char *type = json_string_value(json_object_get(f, "type"));
		const char *key = json_string_value(json_object_get(f, "key"));
		if (!type || !key || !remote_word_ok(key, 64) || !strcmp(type, "file"))
			continue;
		json_t *opts = json_array();
		json_array_foreach(json_object_get(f, "options"), k, o)
			json_array_append_new(opts, json_pack("{s:s,s:s}", "value", json_string_value(json_object_get(o, "value")) ?: "",
							      "label", json_string_value(json_object_get(o, en ? "label_en" : "label_zh")) ?: ""));
		json_array_append_new(fields, json_pack("{s:s,s:s,s:b,s:b,s:b,s:b,s:o}", "key", key, "label",
							json_string_value(json_object_get(f, en ? "label_en" : "label_zh")) ?: key,
							"required", json_is_true(json_object_get(f, "required")), "select",
							!strcmp(type, "select"), "textarea", !strcmp(type, "textarea"), "date",
							!strcmp(type, "date"), "options", opts));
	}
	json_array_foreach(mdefs, i, f)
		json_array_append_new(mats, json_pack("{s:s,s:b}", "name",
						      json_string_value(json_object_get(f, en ? "name_en" : "name_zh")) ?: "", "required",
						      json_is_true(json_object_get(f, "required"))));
	json_t *ctx = json_pack("{s:s,s:s,s:s,s:s,s:o,s:o,s:b,s:I}", "title", M(r, "remote_apply_title"), "hall", l->hall, "code",
				l->code, "item_name", name, "fields", fields, "materials", mats, "has_materials",
				json_array_size(mats) > 0, "promised_limit_days",
				(json_int_t)json_integer_value(json_object_get(g, "promised_limit_days")));
	jset(ctx, "department_name",
	     json_string_value(json_object_get(g, en ? "department_name_en" : "department_name_zh")));
	jset(ctx, "csrf", identity_csrf_token(r));
	resp_header(r, "Cache-Control", "no-store");
	return resp_page(r, 200, "remote/apply", ctx);
}

/* GET /federation/apply/{hall}/{code}: the other hall's guide (asked of it, signed), its form,
 * and the consent to send it there. */
static int apply_page(struct req *r)
{
	struct lookup *l = arena_zalloc(r->arena, sizeof(*l));
	l->hall = req_param(r, "hall");
	l->code = req_param(r, "code");
	if (!*fed_self() || !fed_hall_known(l->hall))
		return refuse(r, GH_ENOTFOUND, M(r, "remote_hall_unknown"));
	if (!remote_word_ok(l->code, 64))
		return refuse(r, GH_ENOTFOUND, M(r, "remote_item_unknown"));
	l->a = r->arena;
	l->path = arena_printf(r->arena, "/federation/items/%s", l->code);
	return req_job(r, lookup_work, lookup_done, l);
}

static int page_done(struct req *r, void *arg, int rc)
{
	struct fwd *f = arg;
	if (rc)
		return fwd_done(r, arg, rc);
	return resp_redirect(r, 303, arena_printf(r->arena, "/federation/applications/%s", f->number));
}

/* POST /federation/apply/{hall}/{code}: field_<key> values (the other hall checks them
 * against its form), consent=yes. */
static int apply_post(struct req *r)
{
	struct kvlist in;
	int rc = req_form(r, &in);
	if (rc)
		return rc;
	json_t *form = json_object();
	arena_cleanup(r->arena, (void (*)(void *))json_decref, form);
	for (size_t i = 0; i < in.n; i++) {
		const char *k = in.v[i].key, *v = in.v[i].val;
		if (!strncmp(k, "field_", 6) && remote_word_ok(k + 6, 64) && v && *v && json_object_size(form) < 100)
			json_object_set_new(form, k + 6, json_string(v));
	}
	const char *consent = kv_get(&in, "consent");
	struct fwd_ask q = { .dest = req_param(r, "hall"), .item_code = req_param(r, "code"), .form = form,
			     .consent = consent && !strcmp(consent, "yes") };
	return fwd_start(r, &q, page_done);
}

/* GET /federation/applications/{number}: the forwarded application as the person follows it. */
static int status_page(struct req *r)
{
	struct db_rows ev;
	json_t *app;
	int rc = fwd_load(r, &app, &ev);
	if (rc)
		return rc;
	json_t *events = json_array();
	for (size_t i = 0; i < ev.nrows; i++) {
		const char *why = db_cell(&ev, i, 3);
		char at[CALENDAR_MINUTE_LEN], iso[CALENDAR_ISO_LEN];
		calendar_format_minute(db_cell_int(&ev, i, 4), at);
		calendar_format_iso(db_cell_int(&ev, i, 4), iso);
		json_array_append_new(events, json_pack("{s:s,s:s,s:s*,s:s,s:s}", "state", db_cell(&ev, i, 2), "state_label",
							remote_state_label(r, db_cell(&ev, i, 2)), "reason", *why ? why : NULL, "at", at,
							"at_iso", iso));
	}
	json_object_set_new(app, "events", events);
	json_t *ctx = json_pack("{s:s,s:o}", "title", M(r, "remote_status_title"), "app", app);
	resp_header(r, "Cache-Control", "no-store");
	return resp_page(r, 200, "remote/status", ctx);
}

/* "My applications" lists the caller's applications at other halls beside their own
 * (CASES_PAGE_MINE), each with its state and the page it is followed on. */
static int mine_forwarded(struct req *r, const void *subject, json_t *ctx)
{
	(void)subject;
	if (!r->who.account || r->who.enterprise)
		return 0;
	struct db_rows rows;
	int rc = db_query(r->db, r->arena, &q_fwd_mine, DB_ARGS(DB_INT(r->who.account), DB_INT(r->who.account)), &rows);
	if (rc)
		return rc;
	json_t *list = json_array();
	for (size_t i = 0; i < rows.nrows; i++) {
		json_t *j = remote_fwd_json(r, &rows, i);
		json_object_set_new(j, "href", json_sprintf("/federation/applications/%s", db_cell(&rows, i, 1)));
		json_array_append_new(list, j);
	}
	json_object_set_new(ctx, "forwarded", list);
	json_object_set_new(ctx, "has_forwarded", json_boolean(rows.nrows > 0));
	return 0;
}

/* ---- at B: the kind "application.forward" ---------------------------------------------------- */

struct fwd_in {
	const char *number, *name, *id_number, *delivery, *channel;
	struct case_apply_prep *prep;
	const char *refused; /* B's reason when it cannot file it (then nothing is filed) */
	const char *item_code;
	const json_t *prior; /* the first step's decision at the sending hall (多地联办), or NULL */
};

static int forward_prepare(struct req *r, const struct fed_message *m, void **ctx, const char **why)
{
	struct fwd_in *x = arena_zalloc(r->arena, sizeof(*x));
	*ctx = x;
	if (fed_is_hub()) {
		*why = "the hub works no items: forward the application to the hall that owns the item";
		return GH_EVALIDATION;
	}
	const json_t *b = m->body, *p = json_object_get(b, "applicant");
	x->number = m->subject;
	x->item_code = json_string_value(json_object_get(b, "item_code"));
	x->name = json_string_value(json_object_get(p, "name"));
	x->id_number = json_string_value(json_object_get(p, "id_number"));
	x->delivery = json_string_value(json_object_get(b, "delivery"));
	const char *channel = json_string_value(json_object_get(b, "channel"));
	json_t *form = json_object_get(b, "form"), *files = json_object_get(b, "files");
	const char *num = json_string_value(json_object_get(b, "number"));
	if (!x->item_code || !remote_word_ok(x->item_code, 64) || !x->name || !x->id_number || !json_is_object(form) ||
	    !json_is_array(files) || json_array_size(files) > FILES_MAX || !num || strcmp(num, m->subject) || !channel ||
	    (strcmp(channel, "web") && strcmp(channel, "counter")) ||
	    (x->delivery && strcmp(x->delivery, "post") && strcmp(x->delivery, "online"))) {
		*why = "application.forward takes {number (= the subject), item_code, channel (web|counter), delivery, "
		       "consent_at, applicant: {name, id_number}, form: {}, files: [{slot, filename, sha256, data}]}";
		return GH_EVALIDATION;
	}
	/* Without the person's consent nothing of theirs is taken. */
	if (!json_is_integer(json_object_get(b, "consent_at"))) {
		*why = "application.forward needs consent_at: the time the person agreed to send it";
		return GH_EVALIDATION;
	}
	x->channel = channel;
	x->prior = json_object_get(b, "prior");
	if (x->prior && (*why = remote_joint_prior_check(x->prior, m->from)))
		return GH_EVALIDATION;
	/* The files: each must hash to the SHA-256 it names (content addressed). */
	struct cases_file_upload *ups = arena_array(r->arena, json_array_size(files) + 1, sizeof(*ups));
	size_t i, n = 0;
	json_t *fj;
	json_array_foreach(files, i, fj)
	{
		const char *data = json_string_value(json_object_get(fj, "data")),
			   *sha = json_string_value(json_object_get(fj, "sha256")),
			   *fn = json_string_value(json_object_get(fj, "filename"));
		json_t *slot = json_object_get(fj, "slot");
		size_t dn = data ? strlen(data) : 0, len = 0;
		unsigned char *bin = arena_alloc(r->arena, dn / 4 * 3 + 4);
		if (!data || !sha || !fn || !*fn || strlen(fn) > 255 || !json_is_integer(slot) || json_integer_value(slot) < 0 ||
		    json_integer_value(slot) > 64 ||
		    sodium_base642bin(bin, dn / 4 * 3 + 4, data, dn, NULL, &len, NULL, sodium_base64_VARIANT_ORIGINAL)) {
			*why = "a file of application.forward is not {slot, filename, sha256, data (base64)}";
			return GH_EVALIDATION;
		}
		char h[65];
		crypto_sha256_hex(bin, len, h);
		if (strcmp(h, sha)) {
			*why = arena_printf(r->arena, "file %zu (%s) does not hash to the SHA-256 it names", i, fn);
			return GH_EVALIDATION;
		}
		ups[n++] = (struct cases_file_upload){ .slot = json_integer_value(slot), .filename = arena_strdup(r->arena, fn),
						       .data = bin, .len = len };
	}
	/* B's own rules: its catalog, its form, the materials it asks for. What they refuse goes
	 * back to the person as the state "not_filed" with the reason. */
	struct cases_filing in = { .item_code = x->item_code, .channel = channel, .form = form, .ups = ups, .nups = n };
	json_t *errors = NULL;
	int rc = cases_file_prepare_for(r, &in, &x->prep, &errors);
	if (rc == GH_EVALIDATION) {
		const char *k, *joined = "";
		json_t *v;
		json_object_foreach(errors, k, v)
			joined = arena_printf(r->arena, "%s%s%s", joined, *joined ? " " : "", json_string_value(v) ?: k);
		x->refused = joined;
	} else if (rc == GH_ENOTFOUND)
		x->refused = arena_printf(r->arena, "%s", M(r, "remote_item_unknown"));
	else if (rc == GH_ECONFLICT || rc == GH_ETOOBIG || rc == GH_EUNSUPPORTED)
		x->refused = r->error_detail ? arena_strdup(r->arena, r->error_detail) : M(r, "remote_files_refused");
	else if (rc)
		return rc;
	return 0;
}

DB_SQL(q_recv_insert, "INSERT INTO fed_received (application_id, origin, origin_number, delivery, received_at) VALUES (?, ?, ?, ?, ?)");

/* The message back to A about its application number: one step of B's. */
static int state_back(struct db *db, const char *origin, const char *number, const char *remote_number,
		      const char *item_name, const char *action, const char *state, const char *reason, int64_t at)
{
	json_t *b = json_pack("{s:s,s:s*,s:s*,s:s,s:s,s:s*,s:I}", "number", number, "remote_number", remote_number,
			      "item_name", item_name, "action", action, "state", state, "reason", reason && *reason ? reason : NULL,
			      "at", (json_int_t)at);
	int rc = b ? fed_outbox_add(db, fed_self(), origin, number, "application.state", b) : GH_EINTERNAL;
	json_decref(b);
	return rc;
}

static int forward_write(struct req *w, const struct fed_message *m, void *ctx)
{
	struct fwd_in *x = ctx;
	int64_t now = time(NULL);
	if (x->refused)
		return state_back(w->db, m->from, x->number, NULL, NULL, "not_filed", "not_filed", x->refused, now);
	int64_t account, id;
	bool created;
	int rc = identity_external_person(w, x->id_number, x->name, &account, &created);
	if (rc == GH_EINVAL || rc == GH_EFORBIDDEN)
		return state_back(w->db, m->from, x->number, NULL, NULL, "not_filed", "not_filed",
				  view_msg(w->app->view, w->lang, "remote_person_invalid"), now);
	if (rc)
		return rc;
	const char *number, *state;
	if ((rc = cases_file_write_for(w, x->prep, account, &id, &number, &state)))
		return rc;
	if ((rc = db_exec(w->db, &q_recv_insert,
			  DB_ARGS(DB_INT(id), DB_TEXT(m->from), DB_TEXT(x->number), DB_TEXT(x->delivery), DB_INT(now)), NULL)))
		return rc;
	if ((rc = cover_touch_id(w->db, "fed_received", id, "remote.receive")))
		return rc;
	if (x->prior && (rc = remote_joint_prior_record(w->db, w->arena, id, m->from, x->prior)))
		return rc;
	/* Its state after the filing (steps the hall took at once included); later steps follow
	 * through the observer below. */
	return state_back(w->db, m->from, x->number, number, NULL, "submit", state, NULL, now);
}

static const struct fed_kind kind_forward = { "application.forward", forward_prepare, forward_write };

/* A step of an application that came from another hall: told to that hall, in the step's
 * transaction. */
DB_SQL(q_recv_get, "SELECT origin, origin_number FROM fed_received WHERE application_id = ?");

static int on_transition(struct db *db, struct arena *a, const struct case_change *c)
{
	struct db_rows rows;
	int rc = remote_joint_transition(db, a, c);
	if (!rc)
		rc = db_query(db, a, &q_recv_get, DB_ARGS(DB_INT(c->application_id)), &rows);
	if (rc || rows.nrows != 1)
		return rc;
	return state_back(db, db_cell(&rows, 0, 0), db_cell(&rows, 0, 1), c->number, c->item_name_zh, c->action, c->to_state,
			  c->reason, c->at);
}

/* ---- at A: the kind "application.state" ---------------------------------------------------- */

struct state_in {
	int64_t id, applicant;
	const char *number, *remote_number, *item_name, *action, *state, *reason;
	int64_t at;
};

DB_SQL(q_fwd_for, "SELECT id, applicant_id, dest FROM fed_forwarded WHERE number = ?");

static int state_prepare(struct req *r, const struct fed_message *m, void **ctx, const char **why)
{
	struct state_in *x = arena_zalloc(r->arena, sizeof(*x));
	*ctx = x;
	const json_t *b = m->body;
	x->number = json_string_value(json_object_get(b, "number"));
	x->remote_number = json_string_value(json_object_get(b, "remote_number"));
	x->item_name = json_string_value(json_object_get(b, "item_name"));
	x->action = json_string_value(json_object_get(b, "action"));
	x->state = json_string_value(json_object_get(b, "state"));
	x->reason = json_string_value(json_object_get(b, "reason"));
	json_t *at = json_object_get(b, "at");
	if (!x->number || strcmp(x->number, m->subject) || !remote_word_ok(x->action, 64) || !remote_word_ok(x->state, 64) ||
	    !json_is_integer(at) || (x->remote_number && !remote_word_ok(x->remote_number, 64)) ||
	    (x->item_name && strlen(x->item_name) > TEXT_MAX) || (x->reason && strlen(x->reason) > 4 * TEXT_MAX)) {
		*why = "application.state takes {number (= the subject), remote_number, item_name, action, state, reason, at}";
		return GH_EVALIDATION;
	}
	x->at = json_integer_value(at);
	struct db_rows rows;
	int rc = db_query(r->db, r->arena, &q_fwd_for, DB_ARGS(DB_TEXT(x->number)), &rows);
	if (rc)
		return rc;
	/* Only the hall it was forwarded to speaks of it. */
	if (rows.nrows != 1 || strcmp(db_cell(&rows, 0, 2), m->from)) {
		*why = arena_printf(r->arena, "no application %s was forwarded from this hall to %s", x->number, m->from);
		return GH_EVALIDATION;
	}
	x->id = db_cell_int(&rows, 0, 0);
	x->applicant = db_cell_int(&rows, 0, 1);
	return 0;
}

DB_SQL(q_fwd_update, "UPDATE fed_forwarded SET state = ?, reason = ?, remote_number = COALESCE(?, remote_number), "
		     "item_name = COALESCE(?, item_name), last_seq = ?, updated_at = ? WHERE id = ?");

static int state_write(struct req *w, const struct fed_message *m, void *ctx)
{
	struct state_in *x = ctx;
	int64_t now = time(NULL);
	int rc = db_exec(w->db, &q_fwd_update,
			 DB_ARGS(DB_TEXT(x->state), DB_TEXT(x->reason), DB_TEXT(x->remote_number), DB_TEXT(x->item_name),
				 DB_INT(m->seq), DB_INT(now), DB_INT(x->id)),
			 NULL);
	if (!rc)
		rc = cover_touch(w->db, "fed_forwarded", x->number, "remote.state");
	if (!rc)
		rc = db_exec(w->db, &q_event_insert,
			     DB_ARGS(DB_INT(x->id), DB_INT(m->seq), DB_TEXT(x->action), DB_TEXT(x->state), DB_TEXT(x->reason),
				     DB_INT(x->at)),
			     NULL);
	if (!rc)
		rc = cover_touch(w->db, "fed_forwarded_events", arena_printf(w->arena, "%lld:%lld", (long long)x->id, (long long)m->seq),
				 "remote.state");
	if (!rc)
		rc = remote_joint_state(w, x->id, x->state, x->reason);
	if (rc)
		return rc;
	/* The person hears of it as of any application of theirs. */
	const struct view *v = w->app->view;
	const char *zkey = arena_printf(w->arena, "case_state_%s", x->state);
	const char *zh = view_msg(v, "zh", zkey), *en = view_msg(v, "en", zkey);
	if (!strcmp(zh, zkey))
		zh = en = x->state;
	return notify_message(w->db, w->arena, x->applicant, 0, "remote_state", view_msg(v, "zh", "remote_msg_state_title"),
			      view_msg(v, "en", "remote_msg_state_title"),
			      VF(v, "zh", w->arena, "remote_msg_state_body", MA("number", x->number), MA("hall", m->from),
				 MA("state", zh)),
			      VF(v, "en", w->arena, "remote_msg_state_body", MA("number", x->number), MA("hall", m->from),
				 MA("state", en)));
}

static const struct fed_kind kind_state = { "application.state", state_prepare, state_write };

void remote_init(struct app *app)
{
	(void)app;
	fed_kind_register(&kind_forward);
	fed_kind_register(&kind_state);
	cases_observe(on_transition);
	remote_joint_init(app);
	cases_observe_commits(notify_nudge);
	page_section_add(CASES_PAGE_MINE, 20, mine_forwarded);
}

#define APPLICANTS (ROLE_CITIZEN | ROLE_AGENT | ROLE_ENTERPRISE)

static const struct route remote_routes[] = {
	{ HTTP_POST, "/api/v1/federation/applications", api_forward, ROLE_CITIZEN | ROLE_STAFF, 0, "remote.api_forward", NULL,
	  SCOPE_APPLY, STAFF_COUNTER },
	{ HTTP_GET, "/api/v1/federation/applications", api_forwarded_mine, ROLE_CITIZEN | ROLE_STAFF, 0, "remote.api_mine", NULL,
	  SCOPE_APPLY, 0 },
	{ HTTP_GET, "/federation/items/{code}", item_guide, ROLE_PUBLIC, ROUTE_NOAUTH, "remote.item_guide" },
	{ HTTP_GET, "/federation/apply/{hall}/{code}", apply_page, ROLE_CITIZEN, 0, "remote.apply_page" },
	{ HTTP_POST, "/federation/apply/{hall}/{code}", apply_post, ROLE_CITIZEN, ROUTE_CSRF, "remote.apply" },
	{ HTTP_GET, "/federation/applications/{number}", status_page, APPLICANTS | ROLE_STAFF | ROLE_ADMIN, 0, "remote.status_page" },
	{ HTTP_GET, "/api/v1/federation/applications/{number}", api_forwarded, APPLICANTS | ROLE_STAFF | ROLE_ADMIN, 0,
	  "remote.api_get", NULL, SCOPE_APPLY, 0 },
};

int remote_add_routes(struct router *rt)
{
	return router_add(rt, remote_routes, sizeof(remote_routes) / sizeof(remote_routes[0])) || remote_joint_add_routes(rt)
		       ? GH_EINVAL
		       : 0;
}
