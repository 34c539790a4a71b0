/* Fuzzes the catalog record validator (src/catalog/validate.c) with JSON input, without a
 * database: the input is parsed as jansson would parse an import file and validated against
 * a small set of "existing" departments and items. */
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "base/err.h"
#include "catalog/catalog.h"
#include "catalog/catalog_impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t je;
	json_t *root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
	if (!root)
		return 0;
	json_t *depts = json_pack("{s:b,s:b}", "psb", 1, "gsa", 1);
	json_t *items = json_pack("{s:b}", "psb-0001", 1);
	struct catalog_known known = { .departments = depts, .items = items };
	struct catalog_set set;
	size_t nerr = 0, nrec = 0;
	if (catalog_validate(root, &known, NULL, &nerr, &nrec, &set) == 0) {
		/* what import.c hashes for each valid item */
		size_t i;
		json_t *it;
		json_array_foreach(set.services, i, it) {
			char *s = json_dumps(it, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY);
			free(s);
			/* valid rules evaluate against any facts and form: one status per condition */
			json_t *rules = json_object_get(it, "rules");
			for (int k = 0; rules && k < 2; k++) {
				json_t *facts = k ? json_pack("{s:i,s:s,s:s,s:[s]}", "age", 70, "division", "110105",
							      "applicant_kind", "individual", "ecerts", "household_register")
						  : json_object();
				json_t *form = json_object(), *f, *results = NULL;
				size_t j;
				json_array_foreach(json_object_get(it, "form"), j, f)
					json_object_set_new(form, json_string_value(json_object_get(f, "key")),
							    json_string(k ? "1" : "x"));
				enum catalog_rule_status st = catalog_rules_eval(rules, facts, k ? form : NULL, &results);
				if (json_array_size(results) != json_array_size(json_object_get(rules, "conditions")) ||
				    !catalog_rule_status_name(st))
					__builtin_trap();
				json_decref(results);
				json_decref(form);
				json_decref(facts);
			}
		}
		/* a valid withdrawal names each known item once */
		json_t *w, *seen = json_object();
		json_array_foreach(set.withdrawn, i, w) {
			const char *code = json_string_value(w);
			if (!code || !json_object_get(items, code) || json_object_get(seen, code))
				__builtin_trap();
			json_object_set_new(seen, code, json_true());
		}
		json_decref(seen);
		catalog_set_release(&set);
	} else if (nerr == 0 || nrec == 0) {
		__builtin_trap(); /* a rejection must say why */
	}
	json_decref(items);
	json_decref(depts);
	json_decref(root);
	return 0;
}
