/* centres.c: service centres (政务服务中心), their counters (窗口), the items each counter
 * serves and the places per slot, per channel.
 *
 * The import reads a JSON document (docs/api.md; data/catalog/centres.json for the demo),
 * checks every record and reports each problem with its path; with any problem nothing is
 * written. Otherwise, in one transaction, each centre is written and its counters, their items
 * and its places are replaced. A centre serves the items of its counters; each of them gets
 * the centre's places per slot ("capacity") unless "items" gives it its own. Bookings and
 * tickets name centres and counters by code, so a counter removed by an import leaves its
 * history readable. Messages of the import are for operators (English). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "base/str.h"
#include "base/util.h"
#include "booking/booking_impl.h"
#include "catalog/catalog.h"
#include "store/db.h"

#define CENTRES_MAX 200
#define COUNTERS_MAX 100
#define ITEMS_MAX 500
#define CAPACITY_MAX 1000
#define FILE_MAX (4u << 20)

const char *const bk_channel_names[3] = { "online", "phone", "counter" };

int bk_channel_of(const char *s)
{
	for (int i = 0; s && i < 3; i++)
		if (!strcmp(s, bk_channel_names[i]))
			return i;
	return -1;
}

/* ---- the parser ------------------------------------------------------------------------- */

struct check {
	FILE *errors;
	size_t problems;
};

static void problem(struct check *k, const char *path, const char *fmt, const char *arg)
{
	k->problems++;
	if (!k->errors)
		return;
	fprintf(k->errors, "%s: ", path);
	fprintf(k->errors, fmt, arg ? arg : "");
	fputc('\n', k->errors);
}

static bool code_ok(const char *s, size_t max, bool upper)
{
	size_t n = s ? strlen(s) : 0;
	if (!n || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == '-' && i > 0) || (upper && c >= 'A' && c <= 'Z');
		if (!ok)
			return false;
	}
	return true;
}

/* Only the keys listed (NULL-terminated) may appear in o. */
static void keys_known(struct check *k, const char *path, json_t *o, const char *const *known)
{
	const char *key;
	json_t *v;
	json_object_foreach(o, key, v)
	{
		size_t i = 0;
		while (known[i] && strcmp(known[i], key))
			i++;
		if (!known[i]) {
			char p[256];
			snprintf(p, sizeof(p), "%.200s.%s", path, key);
			problem(k, p, "unknown key (a typo?)", NULL);
		}
	}
}

/* A text member: required or not, at most max characters. */
static void text(struct check *k, const char *path, json_t *o, const char *key, bool required, size_t max)
{
	json_t *v = json_object_get(o, key);
	char p[256];
	snprintf(p, sizeof(p), "%.200s.%s", path, key);
	if (!v) {
		if (required)
			problem(k, p, "missing", NULL);
		return;
	}
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v)) {
		problem(k, p, "expected a string", NULL);
		return;
	}
	size_t chars = str_utf8_chars(json_string_value(v), json_string_length(v));
	if (required && chars == 0)
		problem(k, p, "must not be empty", NULL);
	if (chars > max)
		problem(k, p, "too long", NULL);
}

static int hhmm_of(json_t *v, int *min)
{
	return json_is_string(v) ? bk_parse_hhmm(json_string_value(v), json_string_length(v), min) : -1;
}

/* {"online": n, "phone": n, "counter": n}, each 0 .. CAPACITY_MAX. */
static void capacity(struct check *k, const char *path, json_t *v)
{
	if (!json_is_object(v)) {
		problem(k, path, "expected an object {\"online\", \"phone\", \"counter\"}", NULL);
		return;
	}
	static const char *const known[] = { "online", "phone", "counter", NULL };
	keys_known(k, path, v, known);
	for (int c = 0; c < 3; c++) {
		json_t *n = json_object_get(v, bk_channel_names[c]);
		char p[256];
		snprintf(p, sizeof(p), "%.200s.%s", path, bk_channel_names[c]);
		if (!json_is_integer(n) || json_integer_value(n) < 0 || json_integer_value(n) > CAPACITY_MAX)
			problem(k, p, "expected a whole number of places from 0 to 1000", NULL);
	}
}

static void hours(struct check *k, const char *path, json_t *c)
{
	json_t *h = json_object_get(c, "hours");
	char p[256];
	snprintf(p, sizeof(p), "%.200s.hours", path);
	if (!json_is_object(h)) {
		problem(k, p, "expected an object {\"open\": \"HH:MM\", \"close\": \"HH:MM\", \"break\": [from, to]}", NULL);
		return;
	}
	static const char *const known[] = { "open", "close", "break", NULL };
	keys_known(k, p, h, known);
	int open, close, bs = -1, be = -1;
	bool ok = true;
	if (hhmm_of(json_object_get(h, "open"), &open)) {
		problem(k, p, "open: expected a time \"HH:MM\"", NULL);
		ok = false;
	}
	if (hhmm_of(json_object_get(h, "close"), &close)) {
		problem(k, p, "close: expected a time \"HH:MM\"", NULL);
		ok = false;
	}
	json_t *b = json_object_get(h, "break");
	if (b && (!json_is_array(b) || json_array_size(b) != 2 || hhmm_of(json_array_get(b, 0), &bs) ||
		  hhmm_of(json_array_get(b, 1), &be))) {
		problem(k, p, "break: expected [\"HH:MM\", \"HH:MM\"]", NULL);
		ok = false;
	}
	if (!ok)
		return;
	if (open >= close)
		problem(k, p, "the centre must open before it closes", NULL);
	else if (b && !(open <= bs && bs < be && be <= close))
		problem(k, p, "the break must lie within the opening hours", NULL);
	json_t *sm = json_object_get(c, "slot_minutes");
	if (json_is_integer(sm) && json_integer_value(sm) > close - open)
		problem(k, p, "the opening hours are shorter than one slot", NULL);
}

/* Checks one counter; adds its items to served (a JSON object used as a set). */
static void counter(struct check *k, const char *path, json_t *v, json_t *codes, json_t *served)
{
	if (!json_is_object(v)) {
		problem(k, path, "expected an object", NULL);
		return;
	}
	static const char *const known[] = { "code", "name_zh", "name_en", "items", "active", NULL };
	keys_known(k, path, v, known);
	const char *code = json_string_value(json_object_get(v, "code"));
	char p[256];
	snprintf(p, sizeof(p), "%.200s.code", path);
	if (!code_ok(code, 16, true))
		problem(k, p, "expected 1 to 16 letters, digits or '-'", NULL);
	else if (json_object_get(codes, code))
		problem(k, p, "counter %s is listed twice", code);
	else
		json_object_set_new(codes, code, json_true());
	text(k, path, v, "name_zh", true, 60);
	text(k, path, v, "name_en", true, 120);
	json_t *act = json_object_get(v, "active");
	snprintf(p, sizeof(p), "%.200s.active", path);
	if (act && !json_is_boolean(act))
		problem(k, p, "expected true or false", NULL);
	json_t *items = json_object_get(v, "items");
	snprintf(p, sizeof(p), "%.200s.items", path);
	if (!json_is_array(items) || json_array_size(items) == 0 || json_array_size(items) > ITEMS_MAX) {
		problem(k, p, "expected a list of 1 to 500 item codes", NULL);
		return;
	}
	json_t *seen = json_object();
	size_t i;
	json_t *it;
	json_array_foreach(items, i, it)
	{
		snprintf(p, sizeof(p), "%.200s.items[%zu]", path, i);
		const char *s = json_string_value(it);
		if (!s || !code_ok(s, BK_CODE_MAX, false))
			problem(k, p, "expected an item code", NULL);
		else if (json_object_get(seen, s))
			problem(k, p, "item %s is listed twice", s);
		else {
			json_object_set_new(seen, s, json_true());
			json_object_set_new(served, s, json_true());
		}
	}
	json_decref(seen);
}

static void centre(struct check *k, const char *path, json_t *c, json_t *codes)
{
	if (!json_is_object(c)) {
		problem(k, path, "expected an object", NULL);
		return;
	}
	static const char *const known[] = { "code", "name_zh", "name_en", "address_zh", "address_en", "phone", "hours",
					     "slot_minutes", "capacity", "items", "counters", "active", NULL };
	keys_known(k, path, c, known);
	const char *code = json_string_value(json_object_get(c, "code"));
	char p[256];
	snprintf(p, sizeof(p), "%.200s.code", path);
	if (!code_ok(code, 32, false))
		problem(k, p, "expected 1 to 32 lower-case letters, digits or '-'", NULL);
	else if (json_object_get(codes, code))
		problem(k, p, "centre %s is listed twice", code);
	else
		json_object_set_new(codes, code, json_true());
	text(k, path, c, "name_zh", true, 100);
	text(k, path, c, "name_en", true, 200);
	text(k, path, c, "address_zh", false, 200);
	text(k, path, c, "address_en", false, 300);
	text(k, path, c, "phone", false, 40);
	json_t *act = json_object_get(c, "active");
	snprintf(p, sizeof(p), "%.200s.active", path);
	if (act && !json_is_boolean(act))
		problem(k, p, "expected true or false", NULL);
	json_t *sm = json_object_get(c, "slot_minutes");
	snprintf(p, sizeof(p), "%.200s.slot_minutes", path);
	if (!json_is_integer(sm) || json_integer_value(sm) < 5 || json_integer_value(sm) > 240)
		problem(k, p, "expected the minutes of a slot, from 5 to 240", NULL);
	hours(k, path, c);
	snprintf(p, sizeof(p), "%.200s.capacity", path);
	capacity(k, p, json_object_get(c, "capacity"));
	json_t *counters = json_object_get(c, "counters"), *served = json_object(), *ccodes = json_object();
	snprintf(p, sizeof(p), "%.200s.counters", path);
	if (!json_is_array(counters) || json_array_size(counters) == 0 || json_array_size(counters) > COUNTERS_MAX) {
		problem(k, p, "expected a list of 1 to 100 counters", NULL);
	} else {
		size_t i;
		json_t *v;
		json_array_foreach(counters, i, v)
		{
			snprintf(p, sizeof(p), "%.200s.counters[%zu]", path, i);
			counter(k, p, v, ccodes, served);
		}
	}
	json_t *items = json_object_get(c, "items");
	if (items && !json_is_object(items)) {
		snprintf(p, sizeof(p), "%.200s.items", path);
		problem(k, p, "expected an object of item code -> places", NULL);
	} else if (items) {
		const char *ic;
		json_t *v;
		json_object_foreach(items, ic, v)
		{
			snprintf(p, sizeof(p), "%.200s.items.%s", path, ic);
			if (!json_object_get(served, ic))
				problem(k, p, "no counter of the centre serves this item", NULL);
			capacity(k, p, v);
		}
	}
	json_decref(served);
	json_decref(ccodes);
}

int bk_centres_parse(const char *text_, size_t len, FILE *errors, size_t *n, json_t **doc)
{
	struct check k = { .errors = errors };
	json_error_t e;
	*n = 0;
	if (doc)
		*doc = NULL;
	json_t *d = json_loadb(text_, len, JSON_REJECT_DUPLICATES, &e);
	if (!d) {
		if (errors)
			fprintf(errors, "line %d, column %d: %s\n", e.line, e.column, e.text);
		return GH_EINVAL;
	}
	json_t *list = json_is_object(d) ? json_object_get(d, "centres") : NULL;
	if (json_is_object(d)) {
		static const char *const known[] = { "centres", "note", NULL };
		keys_known(&k, "$", d, known);
	}
	if (!json_is_array(list) || json_array_size(list) == 0 || json_array_size(list) > CENTRES_MAX) {
		problem(&k, "centres", "expected a list of 1 to 200 centres", NULL);
	} else {
		json_t *codes = json_object();
		size_t i;
		json_t *c;
		json_array_foreach(list, i, c)
		{
			char p[64];
			snprintf(p, sizeof(p), "centres[%zu]", i);
			centre(&k, p, c, codes);
		}
		json_decref(codes);
		*n = json_array_size(list);
	}
	if (k.problems) {
		json_decref(d);
		*n = 0;
		return GH_EVALIDATION;
	}
	if (doc)
		*doc = d;
	else
		json_decref(d);
	return 0;
}

/* ---- the import --------------------------------------------------------------------------- */

DB_SQL2(q_centre_put,
	"INSERT INTO booking_centres (code, name_zh, name_en, address_zh, address_en, phone, open_min, close_min, "
	"break_start, break_end, slot_minutes, active, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
	"ON CONFLICT (code) DO UPDATE SET name_zh = excluded.name_zh, name_en = excluded.name_en, "
	"address_zh = excluded.address_zh, address_en = excluded.address_en, phone = excluded.phone, "
	"open_min = excluded.open_min, close_min = excluded.close_min, break_start = excluded.break_start, "
	"break_end = excluded.break_end, slot_minutes = excluded.slot_minutes, active = excluded.active, "
	"updated_at = excluded.updated_at",
	"INSERT INTO booking_centres (code, name_zh, name_en, address_zh, address_en, phone, open_min, close_min, "
	"break_start, break_end, slot_minutes, active, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
	"ON CONFLICT (code) DO UPDATE SET name_zh = EXCLUDED.name_zh, name_en = EXCLUDED.name_en, "
	"address_zh = EXCLUDED.address_zh, address_en = EXCLUDED.address_en, phone = EXCLUDED.phone, "
	"open_min = EXCLUDED.open_min, close_min = EXCLUDED.close_min, break_start = EXCLUDED.break_start, "
	"break_end = EXCLUDED.break_end, slot_minutes = EXCLUDED.slot_minutes, active = EXCLUDED.active, "
	"updated_at = EXCLUDED.updated_at");
DB_SQL(q_centre_clear_items, "DELETE FROM booking_counter_items WHERE centre = ?");
DB_SQL(q_centre_clear_counters, "DELETE FROM booking_counters WHERE centre = ?");
DB_SQL(q_centre_clear_capacity, "DELETE FROM booking_capacity WHERE centre = ?");
DB_SQL(q_counter_add, "INSERT INTO booking_counters (centre, code, name_zh, name_en, active) VALUES (?, ?, ?, ?, ?)");
DB_SQL(q_counter_item_add, "INSERT INTO booking_counter_items (centre, counter, item_code) VALUES (?, ?, ?)");
DB_SQL(q_capacity_add,
       "INSERT INTO booking_capacity (centre, item_code, online, phone, counter) VALUES (?, ?, ?, ?, ?) "
       "ON CONFLICT (centre, item_code) DO NOTHING");
DB_SQL(q_display_add, "INSERT INTO booking_display (centre, seq) VALUES (?, 0) ON CONFLICT (centre) DO NOTHING");

static const char *str_of(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static int cap_of(json_t *o, int c)
{
	return (int)json_integer_value(json_object_get(o, bk_channel_names[c]));
}

static int put_centre(struct db *db, struct arena *a, json_t *c, FILE *errors, size_t *missing, const char *path)
{
	const char *code = str_of(c, "code");
	json_t *h = json_object_get(c, "hours"), *b = json_object_get(h, "break");
	int open = 0, close = 0, bs = -1, be = -1;
	hhmm_of(json_object_get(h, "open"), &open);
	hhmm_of(json_object_get(h, "close"), &close);
	if (b) {
		hhmm_of(json_array_get(b, 0), &bs);
		hhmm_of(json_array_get(b, 1), &be);
	}
	json_t *act = json_object_get(c, "active");
	int rc = db_exec(db, &q_centre_put,
			 DB_ARGS(DB_TEXT(code), DB_TEXT(str_of(c, "name_zh")), DB_TEXT(str_of(c, "name_en")),
				 DB_TEXT(str_of(c, "address_zh")), DB_TEXT(str_of(c, "address_en")), DB_TEXT(str_of(c, "phone")),
				 DB_INT(open), DB_INT(close), b ? DB_INT(bs) : DB_NULL, b ? DB_INT(be) : DB_NULL,
				 DB_INT(json_integer_value(json_object_get(c, "slot_minutes"))),
				 DB_INT(act && json_is_false(act) ? 0 : 1), DB_INT(time(NULL))),
			 NULL);
	if (!rc)
		rc = db_exec(db, &q_centre_clear_items, DB_ARGS(DB_TEXT(code)), NULL);
	if (!rc)
		rc = db_exec(db, &q_centre_clear_counters, DB_ARGS(DB_TEXT(code)), NULL);
	if (!rc)
		rc = db_exec(db, &q_centre_clear_capacity, DB_ARGS(DB_TEXT(code)), NULL);
	if (!rc)
		rc = db_exec(db, &q_display_add, DB_ARGS(DB_TEXT(code)), NULL);
	json_t *caps = json_object_get(c, "capacity"), *own = json_object_get(c, "items");
	size_t i, j;
	json_t *k, *it;
	json_array_foreach(json_object_get(c, "counters"), i, k)
	{
		if (rc)
			break;
		const char *kc = str_of(k, "code");
		json_t *ka = json_object_get(k, "active");
		rc = db_exec(db, &q_counter_add,
			     DB_ARGS(DB_TEXT(code), DB_TEXT(kc), DB_TEXT(str_of(k, "name_zh")), DB_TEXT(str_of(k, "name_en")),
				     DB_INT(ka && json_is_false(ka) ? 0 : 1)),
			     NULL);
		json_array_foreach(json_object_get(k, "items"), j, it)
		{
			if (rc)
				break;
			const char *item = json_string_value(it);
			struct catalog_service svc;
			int src = catalog_service_get(db, a, item, 0, &svc);
			if (src == GH_ENOTFOUND) {
				(*missing)++;
				if (errors)
					fprintf(errors, "%s.counters[%zu].items[%zu]: %s is not an item of the catalog\n", path, i, j, item);
				continue;
			}
			if ((rc = src))
				break;
			rc = db_exec(db, &q_counter_item_add, DB_ARGS(DB_TEXT(code), DB_TEXT(kc), DB_TEXT(item)), NULL);
			json_t *cap = json_object_get(own, item);
			if (!cap)
				cap = caps;
			if (!rc)
				rc = db_exec(db, &q_capacity_add,
					     DB_ARGS(DB_TEXT(code), DB_TEXT(item), DB_INT(cap_of(cap, BK_ONLINE)),
						     DB_INT(cap_of(cap, BK_PHONE)), DB_INT(cap_of(cap, BK_COUNTER))),
					     NULL);
		}
	}
	return rc;
}

static int import_text(struct db *db, const char *text_, size_t len, FILE *errors, size_t *n)
{
	json_t *doc;
	int rc = bk_centres_parse(text_, len, errors, n, &doc);
	if (rc)
		return rc;
	struct arena *a = arena_new(16384);
	size_t missing = 0;
	rc = db_begin(db);
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(doc, "centres"), i, c)
	{
		if (rc)
			break;
		char path[64];
		snprintf(path, sizeof(path), "centres[%zu]", i);
		rc = put_centre(db, a, c, errors, &missing, path);
	}
	if (!rc && missing)
		rc = GH_EVALIDATION;
	if (!rc) /* the guides' booking sections (bk_guide_section) follow which centres serve an item */
		rc = catalog_changed(db);
	if (!rc)
		rc = db_commit(db);
	else
		db_rollback(db);
	if (rc)
		*n = 0;
	arena_free(a);
	json_decref(doc);
	return rc;
}

int booking_import_file(struct db *db, const char *path, FILE *errors, size_t *n)
{
	size_t len;
	char *t = read_file(path, FILE_MAX, &len);
	*n = 0;
	if (!t) {
		if (errors)
			fprintf(errors, "%s: cannot read the file (missing, unreadable or larger than 4 MiB)\n", path);
		return GH_EIO;
	}
	int rc = import_text(db, t, len, errors, n);
	free(t);
	return rc;
}

int booking_import_demo(struct db *db, const char *data_dir, FILE *errors, size_t *n)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/catalog/centres.json", data_dir);
	return booking_import_file(db, path, errors, n);
}

/* ---- queries ------------------------------------------------------------------------------ */

#define CENTRE_COLS \
	"code, name_zh, name_en, address_zh, address_en, phone, open_min, close_min, break_start, break_end, " \
	"slot_minutes, active"

DB_SQL(q_centre_get, "SELECT " CENTRE_COLS " FROM booking_centres WHERE code = ?");
DB_SQL(q_centres_all, "SELECT " CENTRE_COLS " FROM booking_centres WHERE active = 1 ORDER BY code");
DB_SQL(q_centres_item, "SELECT " CENTRE_COLS " FROM booking_centres WHERE active = 1 AND code IN "
		       "(SELECT centre FROM booking_capacity WHERE item_code = ?) ORDER BY code");
DB_SQL(q_counters, "SELECT code, name_zh, name_en, active FROM booking_counters WHERE centre = ? ORDER BY code");
DB_SQL(q_counter_items, "SELECT counter, item_code FROM booking_counter_items WHERE centre = ? ORDER BY counter, item_code");
DB_SQL(q_capacity, "SELECT online, phone, counter FROM booking_capacity WHERE centre = ? AND item_code = ?");
DB_SQL(q_centre_items, "SELECT item_code FROM booking_capacity WHERE centre = ? ORDER BY item_code");

static void centre_row(const struct db_rows *rows, size_t i, struct bk_centre *c)
{
	*c = (struct bk_centre){
		.code = db_cell(rows, i, 0), .name_zh = db_cell(rows, i, 1), .name_en = db_cell(rows, i, 2),
		.address_zh = db_cell(rows, i, 3), .address_en = db_cell(rows, i, 4), .phone = db_cell(rows, i, 5),
		.open_min = (int)db_cell_int(rows, i, 6), .close_min = (int)db_cell_int(rows, i, 7),
		.break_start = db_cell(rows, i, 8) ? (int)db_cell_int(rows, i, 8) : -1,
		.break_end = db_cell(rows, i, 9) ? (int)db_cell_int(rows, i, 9) : -1,
		.slot_minutes = (int)db_cell_int(rows, i, 10), .active = db_cell_int(rows, i, 11) == 1,
	};
}

int bk_centre_param(struct req *r, struct bk_centre *c)
{
	int rc = bk_centre_get(r->db, r->arena, req_param(r, "code"), c);
	if (rc == GH_ENOTFOUND || (!rc && !c->active))
		return bk_fail(r, GH_ENOTFOUND, "booking_err_no_centre");
	return rc;
}

int bk_centre_get(struct db *db, struct arena *a, const char *code, struct bk_centre *out)
{
	struct db_rows rows;
	if (!code || strlen(code) > BK_CODE_MAX)
		return GH_ENOTFOUND;
	int rc = db_query(db, a, &q_centre_get, DB_ARGS(DB_TEXT(code)), &rows);
	if (rc)
		return rc;
	if (rows.nrows != 1)
		return GH_ENOTFOUND;
	centre_row(&rows, 0, out);
	return 0;
}

int bk_centres(struct db *db, struct arena *a, const char *item, struct bk_centre **out, size_t *n)
{
	struct db_rows rows;
	int rc = item ? db_query(db, a, &q_centres_item, DB_ARGS(DB_TEXT(item)), &rows)
		      : db_query(db, a, &q_centres_all, DB_NOARGS, &rows);
	if (rc)
		return rc;
	*out = arena_array(a, rows.nrows ? rows.nrows : 1, sizeof(**out));
	for (size_t i = 0; i < rows.nrows; i++)
		centre_row(&rows, i, &(*out)[i]);
	*n = rows.nrows;
	return 0;
}

int bk_counters(struct db *db, struct arena *a, const char *centre, struct bk_counter **out, size_t *n)
{
	struct db_rows rows, items;
	int rc = db_query(db, a, &q_counters, DB_ARGS(DB_TEXT(centre)), &rows);
	if (!rc)
		rc = db_query(db, a, &q_counter_items, DB_ARGS(DB_TEXT(centre)), &items);
	if (rc)
		return rc;
	struct bk_counter *v = arena_array(a, rows.nrows ? rows.nrows : 1, sizeof(*v));
	size_t j = 0;
	for (size_t i = 0; i < rows.nrows; i++) {
		v[i] = (struct bk_counter){ .centre = centre, .code = db_cell(&rows, i, 0), .name_zh = db_cell(&rows, i, 1),
					    .name_en = db_cell(&rows, i, 2), .active = db_cell_int(&rows, i, 3) == 1 };
		/* Both lists are ordered by counter code. */
		while (j < items.nrows && strcmp(db_cell(&items, j, 0), v[i].code) < 0)
			j++;
		size_t k = j;
		while (k < items.nrows && !strcmp(db_cell(&items, k, 0), v[i].code))
			k++;
		v[i].items = arena_array(a, k - j ? k - j : 1, sizeof(*v[i].items));
		for (size_t m = j; m < k; m++)
			v[i].items[v[i].nitems++] = db_cell(&items, m, 1);
		j = k;
	}
	*out = v;
	*n = rows.nrows;
	return 0;
}

int bk_counter_get(struct db *db, struct arena *a, const char *centre, const char *code, struct bk_counter *out)
{
	struct bk_counter *v;
	size_t n;
	int rc = bk_counters(db, a, centre, &v, &n);
	if (rc)
		return rc;
	for (size_t i = 0; code && i < n; i++)
		if (!strcmp(v[i].code, code)) {
			*out = v[i];
			return 0;
		}
	return GH_ENOTFOUND;
}

int bk_capacity(struct db *db, struct arena *a, const char *centre, const char *item, int cap[3])
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_capacity, DB_ARGS(DB_TEXT(centre), DB_TEXT(item)), &rows);
	if (rc)
		return rc;
	if (rows.nrows != 1)
		return GH_ENOTFOUND;
	for (int c = 0; c < 3; c++)
		cap[c] = (int)db_cell_int(&rows, 0, (size_t)c);
	return 0;
}

int bk_centre_items(struct db *db, struct arena *a, const char *centre, const char ***out, size_t *n)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_centre_items, DB_ARGS(DB_TEXT(centre)), &rows);
	if (rc)
		return rc;
	*out = arena_array(a, rows.nrows ? rows.nrows : 1, sizeof(**out));
	for (size_t i = 0; i < rows.nrows; i++)
		(*out)[i] = db_cell(&rows, i, 0);
	*n = rows.nrows;
	return 0;
}

const char *bk_centre_name(const struct req *r, const struct bk_centre *c)
{
	return bk_en(r) && c->name_en && *c->name_en ? c->name_en : c->name_zh;
}

json_t *bk_centre_json(struct req *r, const struct bk_centre *c)
{
	char o[6], cl[6];
	bk_hhmm(c->open_min, o);
	bk_hhmm(c->close_min, cl);
	json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:{s:s,s:s},s:i}", "code", c->code, "name", bk_centre_name(r, c),
			      "name_zh", c->name_zh, "name_en", c->name_en, "address",
			      bk_en(r) && *c->address_en ? c->address_en : c->address_zh, "phone", c->phone, "hours", "open", o,
			      "close", cl, "slot_minutes", c->slot_minutes);
	if (c->break_start >= 0) {
		char bs[6], be[6];
		bk_hhmm(c->break_start, bs);
		bk_hhmm(c->break_end, be);
		json_object_set_new(json_object_get(j, "hours"), "break", json_pack("[s,s]", bs, be));
	}
	return j;
}
