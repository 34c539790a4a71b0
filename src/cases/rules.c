/* rules.c: decision rules at submission (秒批). On the loop, case_rules_judge evaluates the
 * item version's rules (catalog/rules.c) against what the hall holds about the applicant and
 * the form as submitted; inside the submission's write, case_rules_follow takes the system's
 * "instant_approve" when every condition holds and the rules say so. Either way the judgement
 * (rule version, outcome, the conditions not met) is the submission's event detail, so staff
 * see which condition failed, and the approval's, so the log commits it. */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/jsonout.h"
#include "base/util.h"
#include "cases/cases_impl.h"
#include "http/msg.h"
#include "http/router.h"
#include "http/sections.h"
#include "http/server.h"
#include "catalog/catalog.h"
#include "identity/identity.h"
#include "store/db.h"

static int rules_section(struct req *r, const void *item_code, json_t *ctx);

void cases_rules_register(void)
{
	catalog_rules_source(identity_account_facts);
	catalog_rules_news("accounts", identity_individuals_news);
	page_section_add(CATALOG_PAGE_GUIDE, 10, rules_section);
}

int case_rules_judge(struct req *r, const char *code, long version, json_t *rules, json_t *values, int64_t applicant,
		     int64_t enterprise, struct case_rules *out)
{
	memset(out, 0, sizeof(*out));
	json_t *facts, *results;
	if (!rules)
		return 0;
	int rc;
	if ((rc = catalog_rules_facts(r->db, r->arena, applicant, enterprise, &facts)))
		return rc;
	enum catalog_rule_status s = catalog_rules_eval(rules, facts, values, &results);
	arena_cleanup(r->arena, (void (*)(void *))json_decref, results);
	json_t *failed = json_array();
	size_t i;
	json_t *e;
	json_array_foreach(results, i, e)
		if (strcmp(json_string_value(json_object_get(e, "status")), "met") != 0)
			json_array_append(failed, e);
	json_t *d = json_pack("{s:{s:s,s:I,s:s,s:b,s:o}}", "rules", "item", code, "version", (json_int_t)version,
			      "outcome", catalog_rule_status_name(s), "instant",
			      json_is_true(json_object_get(rules, "instant")), "failed", failed);
	char *text = jsonout_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(d);
	if (!text)
		return GH_EINTERNAL;
	out->detail = arena_strdup(r->arena, text);
	free(text);
	out->present = true;
	out->version = version;
	out->approve = s == CATALOG_RULE_MET && json_is_true(json_object_get(rules, "instant"));
	return 0;
}

int case_rules_follow(struct db *db, const struct calendar *cal, struct arena *a, struct application *app,
		      const struct case_rules *rules, int32_t today)
{
	if (!rules->approve || !app->state || strcmp(app->state, "submitted") != 0)
		return 0;
	int64_t ev = 0;
	return case_transition(db, cal, a, app, wf_action("instant_approve"), 0, NULL, rules->detail, today, &ev);
}

void case_rules_words(struct req *r, json_t *detail, json_t *out)
{
	json_t *rules = json_object_get(detail, "rules");
	if (!json_is_object(rules))
		return;
	bool en = strcmp(r->lang, "en") == 0;
	json_t *failed = json_array();
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(rules, "failed"), i, e)
	{
		const char *text = json_string_value(json_object_get(e, en ? "text_en" : "text_zh"));
		const char *st = json_string_value(json_object_get(e, "status"));
		if (text)
			json_array_append_new(failed, json_pack("{s:s,s:s}", "text", text, "status",
								M(r, st && !strcmp(st, "not_met") ? "rules_not_met" : "rules_unknown")));
	}
	long version = (long)json_integer_value(json_object_get(rules, "version"));
	json_object_set_new(out, "rules_note", json_string(MF(r, json_array_size(failed) ? "rules_failed_heading" : "rules_all_held",
							       MA("version", version))));
	json_object_set_new(out, "rules_failed", failed);
	json_object_set_new(out, "has_rules_failed", json_boolean(json_array_size(failed) > 0));
}

/* ---- eligibility before applying ------------------------------------------------------------ */

/* The rules of item code's current version judged for the caller (nothing when anonymous or
 * not an applicant: *results NULL): GH_ENOTFOUND for an unknown item; *rules NULL when the
 * version has none. */
static int eligibility(struct req *r, const char *code, long *version, json_t **rules, json_t **results,
		       enum catalog_rule_status *all)
{
	struct catalog_service svc;
	int rc = catalog_service_get(r->db, r->arena, code, 0, &svc);
	if (rc)
		return rc;
	*version = svc.version;
	*results = NULL;
	*all = CATALOG_RULE_UNKNOWN;
	if ((rc = catalog_item_rules(r->db, r->arena, code, svc.version, rules)) || !*rules)
		return rc;
	struct identity_owner o = identity_owner_of(r);
	if (!o.person)
		return 0; /* anonymous, staff, administrators: nothing of theirs to check */
	json_t *facts;
	if ((rc = catalog_rules_facts(r->db, r->arena, o.person, o.enterprise, &facts)))
		return rc;
	*all = catalog_rules_eval(*rules, facts, NULL, results);
	arena_cleanup(r->arena, (void (*)(void *))json_decref, *results);
	return 0;
}

/* The guide page's section: the conditions in words, each met / not met / unknown for a
 * signed-in applicant (pages of applicants are never cached; anonymous visitors see the
 * conditions and a word on signing in). */
static int rules_section(struct req *r, const void *item_code, json_t *ctx)
{
	long version;
	json_t *rules, *results;
	enum catalog_rule_status all;
	if (json_is_true(json_object_get(ctx, "old_version")) ||
	    eligibility(r, item_code, &version, &rules, &results, &all) || !rules)
		return 0;
	bool en = strcmp(r->lang, "en") == 0;
	json_t *list = json_array();
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(rules, "conditions"), i, c)
	{
		json_t *o = json_pack("{s:O?}", "text", json_object_get(c, en ? "text_en" : "text_zh"));
		const char *st = results ? json_string_value(json_object_get(json_array_get(results, i), "status")) : NULL;
		if (st) {
			json_object_set_new(o, "status", json_string(st));
			json_object_set_new(o, "status_label", json_string(M(r, !strcmp(st, "met")       ? "rules_met"
										: !strcmp(st, "not_met") ? "rules_not_met"
													 : "rules_unknown")));
			json_object_set_new(o, arena_printf(r->arena, "is_%s", st), json_true());
		}
		json_array_append_new(list, o);
	}
	json_object_set_new(ctx, "rules", json_true());
	json_object_set_new(ctx, "rules_conditions", list);
	json_object_set_new(ctx, "rules_checked", json_boolean(results != NULL));
	json_object_set_new(ctx, "rules_sign_in", json_boolean(!r->who.account)); /* staff have nothing to check */
	json_object_set_new(ctx, "rules_all_met", json_boolean(results && all == CATALOG_RULE_MET));
	json_object_set_new(ctx, "rules_intro", json_string(MF(r, "rules_intro", MA("version", version))));
	json_object_set_new(ctx, "rules_instant", json_boolean(json_is_true(json_object_get(rules, "instant"))));
	json_object_set_new(ctx, "rules_proactive", json_boolean(json_is_true(json_object_get(rules, "proactive"))));
	return 0;
}

/* GET /api/v1/services/{code}/eligibility */
static int api_eligibility(struct req *r)
{
	const char *code = req_param(r, "code");
	long version;
	json_t *rules, *results;
	enum catalog_rule_status all;
	int rc = eligibility(r, code, &version, &rules, &results, &all);
	if (rc == GH_ENOTFOUND)
		req_error_detail(r, "%s", MF(r, "catalog_no_such_item", MA("code", code)));
	if (rc)
		return rc;
	json_t *conds = results ? json_incref(results) : json_array();
	json_t *out = json_pack("{s:s,s:I,s:b,s:b,s:b,s:s,s:o}", "item", code, "version", (json_int_t)version, "has_rules",
				rules != NULL, "instant", json_is_true(json_object_get(rules, "instant")), "proactive",
				json_is_true(json_object_get(rules, "proactive")), "outcome",
				rules ? catalog_rule_status_name(all) : "unknown", "conditions", conds);
	return resp_json(r, 200, out);
}

#define APPLICANT_ROLES (ROLE_CITIZEN | ROLE_AGENT | ROLE_ENTERPRISE)

const struct route cases_rules_routes[] = {
	{ HTTP_GET, "/api/v1/services/{code}/eligibility", api_eligibility, APPLICANT_ROLES, 0, "cases.api_eligibility",
	  NULL, SCOPE_APPLY },
};
const size_t cases_rules_routes_n = ARRAY_LEN(cases_rules_routes);
