/* rules.c: an item's decision rules (秒批 instant decisions, 免申即享 benefits offered without
 * applying) — their check at import, their storage with the item version, the facts the hall
 * holds about a person, and their evaluation.
 *
 * A rule set is the item record's "rules" member (docs/api.md, "Decision rules"): a list of
 * conditions, each on one fact the hall holds (age and division from the resident ID number,
 * the kind of applicant, an e-certificate in the wallet) or on one form field, with its words
 * in both languages. Each condition is met, not met, or unknown (the fact is not held, the
 * field not given); the set holds only when every condition is met. Rules are versioned with
 * the item: the rule version is the item version. */
#include "catalog/catalog.h"
#include "catalog/catalog_impl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/str.h"
#include "base/util.h"
#include "base/jsonout.h"
#include "store/cover.h"
#include "store/db.h"

#define RULES_MAX_CONDITIONS 10

DB_SQL(q_insert_rules, "INSERT INTO item_rules (code, version, rules, proactive) VALUES (?, ?, ?, ?)");
DB_SQL(q_item_rules, "SELECT rules FROM item_rules WHERE code = ? AND version = ?");
DB_SQL(q_proactive, "SELECT r.code, r.version, r.rules FROM item_rules r JOIN service_items s "
		    "ON s.code = r.code AND s.version = r.version WHERE r.proactive = 1 AND s.is_current = 1 "
		    "ORDER BY r.code");

/* The facts a condition may name, and how it may test them. */
static const struct fact_kind {
	const char *name;
	const char *ops[3]; /* the operators it takes */
} fact_kinds[] = {
	{ "age", { "at_least", "at_most", NULL } },
	{ "division", { "in", NULL } },
	{ "applicant_kind", { "equals", NULL } },
	{ "ecert", { "holds", NULL } },
};

static const char *const all_ops[] = { "equals", "in", "at_least", "at_most", "holds" };

/* ---- the check at import ------------------------------------------------------------- */

struct rcheck {
	void (*err)(void *ctx, const char *path, const char *msg);
	void *ctx;
};

static void rerr(struct rcheck *c, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void rerr(struct rcheck *c, const char *path, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->err(c->ctx, path, msg);
}

/* A JSON path for a message; paths are bounded by the format's nesting, far below the
 * buffers, and a longer one would only be cut short. */
static void pathf(char *out, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void pathf(char *out, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out, size, fmt, ap);
	va_end(ap);
}

/* A value quoted in a message: at most 40 bytes of printable ASCII, the rest '?'. */
static const char *q40(const char *s, char buf[48])
{
	size_t n = 0;
	for (; s && *s && n < 40; s++)
		buf[n++] = (*s >= 0x20 && *s < 0x7f && *s != '"' && *s != '\\') ? *s : '?';
	buf[n] = 0;
	return buf;
}

static bool text_ok(json_t *j, size_t max)
{
	const char *s = json_string_value(j);
	size_t len = json_string_length(j);
	return s && len && str_utf8_valid(s, len) && str_utf8_chars(s, len) <= max;
}

static json_t *form_field(json_t *rec, const char *key)
{
	size_t i;
	json_t *f;
	json_array_foreach(json_object_get(rec, "form"), i, f)
	{
		const char *k = json_string_value(json_object_get(f, "key"));
		if (k && !strcmp(k, key))
			return f;
	}
	return NULL;
}

static bool has_option(json_t *field, const char *value)
{
	size_t i;
	json_t *o;
	json_array_foreach(json_object_get(field, "options"), i, o)
	{
		const char *v = json_string_value(json_object_get(o, "value"));
		if (v && value && !strcmp(v, value))
			return true;
	}
	return false;
}

/* The operand of op in cond, checked against what is tested: kind "number" (a number), "kind"
 * (individual or enterprise), "division" (2, 4 or 6 digits), "ecert" (a known type), "text",
 * or "option" (an option of field). */
static void check_operand(struct rcheck *c, json_t *cond, const char *op, const char *kind, json_t *field,
			  const char *path)
{
	char p[600], q[48];
	pathf(p, sizeof(p), "%s.%s", path, op);
	json_t *v = json_object_get(cond, op);
	if (!strcmp(op, "at_least") || !strcmp(op, "at_most")) {
		if (!strcmp(kind, "age")) {
			if (!(json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= 150))
				rerr(c, p, "expected whole years from 0 to 150");
		} else if (!json_is_number(v) || json_number_value(v) < -1e12 || json_number_value(v) > 1e12) {
			rerr(c, p, "expected a number");
		}
		return;
	}
	if (!strcmp(op, "holds")) {
		if (!json_is_string(v) || !catalog_ecert_find(json_string_value(v)))
			rerr(c, p, "expected the code of a known e-certificate type");
		return;
	}
	json_t *list = v;
	if (!strcmp(op, "equals")) {
		list = json_array();
		json_array_append(list, v);
	} else if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > 50) {
		rerr(c, p, "expected a list of 1 to 50 values");
		return;
	}
	size_t i;
	json_t *e;
	json_array_foreach(list, i, e)
	{
		const char *s = json_string_value(e);
		if (!s || !*s || json_string_length(e) > 200 || !str_utf8_valid(s, json_string_length(e)))
			rerr(c, p, "expected text (at most 200 characters)");
		else if (!strcmp(kind, "kind") && strcmp(s, "individual") && strcmp(s, "enterprise"))
			rerr(c, p, "expected \"individual\" or \"enterprise\"");
		else if (!strcmp(kind, "division") &&
			 !((strlen(s) == 2 || strlen(s) == 4 || strlen(s) == 6) && strspn(s, "0123456789") == strlen(s)))
			rerr(c, p, "\"%s\" is not a division code of 2, 4 or 6 digits", q40(s, q));
		else if (!strcmp(kind, "option") && !has_option(field, s))
			rerr(c, p, "\"%s\" is not an option of the field", q40(s, q));
	}
	if (list != v)
		json_decref(list);
}

static void check_condition(struct rcheck *c, json_t *rec, json_t *cond, const char *path, json_t *codes,
			    bool *has_field)
{
	static const char *const keys[] = { "code", "fact", "field", "equals", "in", "at_least", "at_most", "holds",
					    "text_zh", "text_en", NULL };
	char p[600], q[48];
	if (!json_is_object(cond)) {
		rerr(c, path, "expected an object");
		return;
	}
	const char *k;
	json_t *val;
	json_object_foreach(cond, k, val)
	{
		bool known = false;
		for (size_t i = 0; keys[i]; i++)
			known |= !strcmp(keys[i], k);
		if (!known) {
			pathf(p, sizeof(p), "%s.%s", path, q40(k, q));
			rerr(c, p, "unknown field");
		}
	}
	const char *code = json_string_value(json_object_get(cond, "code"));
	pathf(p, sizeof(p), "%s.code", path);
	if (!code || !*code || strlen(code) > 32 || strspn(code, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(code))
		rerr(c, p, "expected a lower-case code of letters, digits and '_' (at most 32)");
	else if (json_object_get(codes, code))
		rerr(c, p, "\"%s\" is listed twice", code);
	else
		json_object_set_new(codes, code, json_true());
	static const char *const texts[] = { "text_zh", "text_en" };
	for (size_t i = 0; i < 2; i++)
		if (!text_ok(json_object_get(cond, texts[i]), 200)) {
			pathf(p, sizeof(p), "%s.%s", path, texts[i]);
			rerr(c, p, "required: the condition in people's words (at most 200 characters)");
		}

	/* Exactly one operator. */
	const char *op = NULL;
	size_t nops = 0;
	for (size_t i = 0; i < ARRAY_LEN(all_ops); i++)
		if (json_object_get(cond, all_ops[i])) {
			op = all_ops[i];
			nops++;
		}
	if (nops != 1) {
		rerr(c, path, "give exactly one of equals, in, at_least, at_most and holds");
		return;
	}
	json_t *fact = json_object_get(cond, "fact"), *fkey = json_object_get(cond, "field");
	if ((fact != NULL) == (fkey != NULL)) {
		rerr(c, path, "give exactly one of fact (what the hall holds) and field (a form field)");
		return;
	}
	if (fact) {
		pathf(p, sizeof(p), "%s.fact", path);
		const struct fact_kind *fk = NULL;
		for (size_t i = 0; json_is_string(fact) && i < ARRAY_LEN(fact_kinds); i++)
			if (!strcmp(fact_kinds[i].name, json_string_value(fact)))
				fk = &fact_kinds[i];
		if (!fk) {
			rerr(c, p, "unknown fact \"%s\" (age, division, applicant_kind or ecert)",
			     q40(json_string_value(fact), q));
			return;
		}
		bool op_ok = false;
		for (size_t i = 0; fk->ops[i]; i++)
			op_ok |= !strcmp(fk->ops[i], op);
		if (!op_ok) {
			rerr(c, path, "the fact %s cannot be tested with %s", fk->name, op);
			return;
		}
		const char *kind = !strcmp(fk->name, "age") ? "age" : !strcmp(fk->name, "applicant_kind") ? "kind" : fk->name;
		check_operand(c, cond, op, kind, NULL, path);
		return;
	}
	*has_field = true;
	pathf(p, sizeof(p), "%s.field", path);
	const char *key = json_string_value(fkey);
	json_t *f = key ? form_field(rec, key) : NULL;
	if (!f) {
		rerr(c, p, "no field \"%s\" in the item's form", q40(key, q));
		return;
	}
	const char *type = json_string_value(json_object_get(f, "type"));
	type = type ? type : "";
	if (!strcmp(type, "number")) {
		if (strcmp(op, "at_least") && strcmp(op, "at_most"))
			rerr(c, path, "a number field is tested with at_least or at_most");
		else
			check_operand(c, cond, op, "number", f, path);
	} else if (!strcmp(type, "select")) {
		if (strcmp(op, "equals") && strcmp(op, "in"))
			rerr(c, path, "a select field is tested with equals or in");
		else
			check_operand(c, cond, op, "option", f, path);
	} else if (!strcmp(type, "text")) {
		if (strcmp(op, "equals") && strcmp(op, "in"))
			rerr(c, path, "a text field is tested with equals or in");
		else
			check_operand(c, cond, op, "text", f, path);
	} else {
		rerr(c, p, "the field \"%s\" is of type %s; rules test number, select and text fields", q40(key, q), type);
	}
}

void catalog_rules_check(json_t *rec, const char *path, void (*err)(void *ctx, const char *path, const char *msg),
			 void *ctx)
{
	struct rcheck c = { err, ctx };
	char p[600];
	pathf(p, sizeof(p), "%s.rules", path);
	json_t *rules = json_object_get(rec, "rules");
	if (!json_is_object(rules)) {
		rerr(&c, p, "expected an object");
		return;
	}
	const char *k;
	json_t *val;
	json_object_foreach(rules, k, val)
	{
		char q[48], kp[600];
		if (strcmp(k, "instant") && strcmp(k, "proactive") && strcmp(k, "conditions")) {
			pathf(kp, sizeof(kp), "%s.%s", p, q40(k, q));
			rerr(&c, kp, "unknown field");
		} else if (strcmp(k, "conditions") && !json_is_boolean(val)) {
			pathf(kp, sizeof(kp), "%s.%s", p, k);
			rerr(&c, kp, "expected true or false");
		}
	}
	json_t *conds = json_object_get(rules, "conditions");
	char cp[600];
	pathf(cp, sizeof(cp), "%s.conditions", p);
	if (!json_is_array(conds) || json_array_size(conds) == 0 || json_array_size(conds) > RULES_MAX_CONDITIONS) {
		rerr(&c, cp, "expected a list of 1 to %d conditions, all of which must hold", RULES_MAX_CONDITIONS);
		return;
	}
	json_t *codes = json_object();
	bool has_field = false;
	size_t i;
	json_t *cond;
	json_array_foreach(conds, i, cond)
	{
		char ip[600];
		pathf(ip, sizeof(ip), "%s[%zu]", cp, i);
		check_condition(&c, rec, cond, ip, codes, &has_field);
	}
	json_decref(codes);
	if (json_is_true(json_object_get(rules, "proactive")) && has_field)
		rerr(&c, p, "a benefit offered without applying (proactive) can only test facts the hall holds, not form fields");
	/* An instant decision follows the submission at once: a fee due before acceptance would
	 * stand in its way. */
	const char *point = json_string_value(json_object_get(json_object_get(rec, "fee"), "point"));
	if (json_is_true(json_object_get(rules, "instant")) && point && !strcmp(point, "before_acceptance"))
		rerr(&c, p, "an instant decision cannot follow a fee due before acceptance (use after_approval)");
}

/* ---- storage ----------------------------------------------------------------------------- */

/* An item version's rules, written with the version (the decisions name it). */
static const struct cover_table cover_rules = {
	.table = "item_rules", .key = "code, version", .cols = "rules, proactive",
};

void catalog_rules_register(void)
{
	cover_declare(&cover_rules);
}

int catalog_rules_write(struct db *db, struct arena *a, const char *code, long version, json_t *rules)
{
	if (!rules)
		return 0;
	char *text = jsonout_dumps(rules, JSON_COMPACT | JSON_SORT_KEYS);
	if (!text)
		die("catalog: out of memory");
	int rc = db_exec(db, &q_insert_rules,
			 DB_ARGS(DB_TEXT(code), DB_INT(version), DB_TEXT(text),
				 DB_INT(json_is_true(json_object_get(rules, "proactive")) ? 1 : 0)),
			 NULL);
	free(text);
	if (!rc)
		rc = cover_touch(db, "item_rules", arena_printf(a, "%s:%ld", code, version), "catalog.rules");
	return rc;
}

int catalog_item_rules(struct db *db, struct arena *a, const char *code, long version, json_t **rules)
{
	struct db_rows rows;
	*rules = NULL;
	int rc = db_query(db, a, &q_item_rules, DB_ARGS(DB_TEXT(code), DB_INT(version)), &rows);
	if (rc || !rows.nrows)
		return rc;
	*rules = json_loads(db_cell(&rows, 0, 0), 0, NULL);
	if (!*rules)
		return GH_EINTERNAL;
	arena_cleanup(a, (void (*)(void *))json_decref, *rules);
	return 0;
}

int catalog_rules_proactive(struct db *db, struct arena *a, struct catalog_rules_item **out, size_t *n)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_proactive, DB_NOARGS, &rows);
	if (rc)
		return rc;
	*out = arena_array(a, rows.nrows ? rows.nrows : 1, sizeof(**out));
	*n = 0;
	for (size_t i = 0; i < rows.nrows; i++) {
		json_t *r = json_loads(db_cell(&rows, i, 2), 0, NULL);
		if (!r)
			continue;
		arena_cleanup(a, (void (*)(void *))json_decref, r);
		(*out)[(*n)++] = (struct catalog_rules_item){ db_cell(&rows, i, 0), (long)db_cell_int(&rows, i, 1), r };
	}
	return 0;
}

/* ---- facts --------------------------------------------------------------------------- */

#define MAX_SOURCES 4
static catalog_fact_fn sources[MAX_SOURCES];
static size_t n_sources;

void catalog_rules_source(catalog_fact_fn fn)
{
	for (size_t i = 0; i < n_sources; i++)
		if (sources[i] == fn)
			return;
	if (n_sources == MAX_SOURCES)
		die("catalog: more than %d fact sources", MAX_SOURCES);
	sources[n_sources++] = fn;
}

static struct catalog_news_source news[MAX_SOURCES];
static size_t n_news;

void catalog_rules_news(const char *name, catalog_news_fn fn)
{
	for (size_t i = 0; i < n_news; i++) {
		if (news[i].fn == fn)
			return;
		if (!strcmp(news[i].name, name))
			die("catalog: two sources of news named %s", name);
	}
	if (n_news == MAX_SOURCES)
		die("catalog: more than %d sources of news", MAX_SOURCES);
	news[n_news++] = (struct catalog_news_source){ name, fn };
}

size_t catalog_rules_news_sources(const struct catalog_news_source **v)
{
	*v = news;
	return n_news;
}

int catalog_rules_facts(struct db *db, struct arena *a, int64_t account, int64_t enterprise, json_t **out)
{
	json_t *f = json_object();
	arena_cleanup(a, (void (*)(void *))json_decref, f);
	*out = f;
	for (size_t i = 0; i < n_sources; i++) {
		int rc = sources[i](db, a, account, enterprise, f);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- evaluation ------------------------------------------------------------------------ */

static bool in_list(json_t *list, const char *s, bool prefix)
{
	size_t i;
	json_t *e;
	json_array_foreach(list, i, e)
	{
		const char *v = json_string_value(e);
		if (v && (prefix ? !strncmp(s, v, strlen(v)) : !strcmp(s, v)))
			return true;
	}
	return false;
}

/* A number of a form's text ("12", "3.5"); false for anything else. */
static bool text_number(const char *s, double *out)
{
	char *end;
	if (!s || !*s)
		return false;
	*out = strtod(s, &end);
	while (*end == ' ')
		end++;
	return !*end && *out == *out;
}

enum catalog_rule_status catalog_rule_eval(const json_t *cond, const json_t *facts, const json_t *form)
{
	const char *fact = json_string_value(json_object_get(cond, "fact"));
	const char *field = json_string_value(json_object_get(cond, "field"));
	json_t *v = NULL;
	if (fact && !strcmp(fact, "ecert")) {
		json_t *held = json_object_get(facts, "ecerts");
		if (!json_is_array(held))
			return CATALOG_RULE_UNKNOWN;
		return in_list(held, json_string_value(json_object_get(cond, "holds")), false) ? CATALOG_RULE_MET
											     : CATALOG_RULE_NOT_MET;
	}
	if (fact)
		v = json_object_get(facts, fact);
	else if (field)
		v = json_object_get(form, field);
	if (!v || json_is_null(v) || (json_is_string(v) && !json_string_length(v)))
		return CATALOG_RULE_UNKNOWN;
	json_t *op;
	bool ok;
	if ((op = json_object_get(cond, "at_least")) || (op = json_object_get(cond, "at_most"))) {
		double x;
		if (json_is_number(v))
			x = json_number_value(v);
		else if (!text_number(json_string_value(v), &x))
			return CATALOG_RULE_NOT_MET; /* given, but not a number */
		bool least = json_object_get(cond, "at_least") != NULL;
		ok = least ? x >= json_number_value(op) : x <= json_number_value(op);
	} else if ((op = json_object_get(cond, "equals"))) {
		ok = json_is_string(v) && json_equal(v, op);
	} else if ((op = json_object_get(cond, "in"))) {
		/* Divisions match by their leading digits: "3201" holds every county of 320100. */
		ok = json_is_string(v) && in_list(op, json_string_value(v), fact && !strcmp(fact, "division"));
	} else {
		return CATALOG_RULE_UNKNOWN;
	}
	return ok ? CATALOG_RULE_MET : CATALOG_RULE_NOT_MET;
}

static const char *const status_names[] = { "unknown", "met", "not_met" };

const char *catalog_rule_status_name(enum catalog_rule_status s)
{
	return status_names[s <= CATALOG_RULE_NOT_MET ? s : 0];
}

enum catalog_rule_status catalog_rules_eval(const json_t *rules, const json_t *facts, const json_t *form,
					    json_t **results)
{
	enum catalog_rule_status all = CATALOG_RULE_MET;
	json_t *out = results ? json_array() : NULL;
	size_t i;
	json_t *cond;
	json_array_foreach(json_object_get(rules, "conditions"), i, cond)
	{
		enum catalog_rule_status s = catalog_rule_eval(cond, facts, form);
		if (s == CATALOG_RULE_NOT_MET)
			all = CATALOG_RULE_NOT_MET;
		else if (s == CATALOG_RULE_UNKNOWN && all == CATALOG_RULE_MET)
			all = CATALOG_RULE_UNKNOWN;
		if (out)
			json_array_append_new(out, json_pack("{s:O?,s:s,s:O?,s:O?}", "code", json_object_get(cond, "code"),
							     "status", catalog_rule_status_name(s), "text_zh",
							     json_object_get(cond, "text_zh"), "text_en",
							     json_object_get(cond, "text_en")));
	}
	if (!json_array_size(json_object_get(rules, "conditions")))
		all = CATALOG_RULE_UNKNOWN;
	if (results)
		*results = out;
	return all;
}
