/* Unit tests for src/pay/fee.c: the amounts the demo catalog's fee rules assess (run from the
 * source root: the rules are read from data/catalog/services.json, as import stores them). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/err.h"
#include "pay/fee.h"

#define SERVICES "data/catalog/services.json"

/* The "fee" member of the demo item code, as JSON text in a. */
static const char *rule_of(struct arena *a, const char *code)
{
	json_t *all = json_load_file(SERVICES, 0, NULL);
	assert_non_null(all);
	json_t *items = json_is_array(all) ? all : json_object_get(all, "items");
	size_t i;
	json_t *it;
	const char *out = NULL;
	json_array_foreach(items, i, it)
	{
		if (!strcmp(json_string_value(json_object_get(it, "code")), code)) {
			char *s = json_dumps(json_object_get(it, "fee"), JSON_COMPACT);
			out = arena_strdup(a, s);
			free(s);
		}
	}
	json_decref(all);
	assert_non_null(out);
	return out;
}

/* The amount rule assesses for a form whose field `units` holds v. */
static int64_t units_amount(struct arena *a, const char *rule, const char *v, int64_t *units)
{
	json_t *form = json_pack("{s:s}", "units", v);
	char *text = json_dumps(form, JSON_COMPACT);
	json_decref(form);
	struct pay_assessment as;
	assert_int_equal(pay_fee_assess(a, rule, text, 0, &as), 0);
	free(text);
	assert_string_equal(as.how, "per_unit");
	assert_string_equal(as.point, "after_approval");
	assert_int_equal(as.amount, as.gross);
	*units = as.units;
	return as.amount;
}

/* nrb-0001 (first registration of a new building): CNY 80 per unit, at most 10000 units, due
 * after approval. A part unit counts whole; nothing, zero, a negative or a non-number: none. */
static void test_per_unit(void **state)
{
	(void)state;
	struct arena *a = arena_new(8192);
	const char *rule = rule_of(a, "nrb-0001");
	static const struct {
		const char *v;
		int64_t units, amount;
	} cases[] = {
		{ "1", 1, 8000 },	  { "3", 3, 24000 },	 { "2.5", 3, 24000 },
		{ "120", 120, 960000 },	  { "10000", 10000, 80000000 }, { "99999999", 10000, 80000000 },
		{ "0", 0, 0 },		  { "-4", 0, 0 },		 { "", 0, 0 },
		{ "three", 0, 0 },	  { "4x", 0, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t units = -1;
		int64_t amount = units_amount(a, rule, cases[i].v, &units);
		if (amount != cases[i].amount || units != cases[i].units)
			fail_msg("units \"%s\": %lld units, %lld fen (want %lld, %lld)", cases[i].v, (long long)units,
				 (long long)amount, (long long)cases[i].units, (long long)cases[i].amount);
	}
	arena_free(a);
}

/* A per-unit rule with a base, a unit price and a cap on units: base + unit * units. */
static void test_per_unit_base(void **state)
{
	(void)state;
	struct arena *a = arena_new(4096);
	const char *rule = "{\"point\":\"before_acceptance\",\"basis_zh\":\"z\",\"basis_en\":\"e\","
			   "\"per_unit\":{\"field\":\"units\",\"unit_fen\":250,\"base_fen\":1000,\"max_units\":4}}";
	struct pay_assessment as;
	assert_int_equal(pay_fee_assess(a, rule, "{\"units\":\"3\"}", 0, &as), 0);
	assert_int_equal(as.amount, 1750);
	assert_int_equal(pay_fee_assess(a, rule, "{\"units\":\"9\"}", 0, &as), 0);
	assert_int_equal(as.amount, 2000);
	assert_int_equal(as.units, 4);
	assert_int_equal(pay_fee_assess(a, rule, "{}", 0, &as), 0);
	assert_int_equal(as.amount, 1000);
	/* Malformed rules are refused, never guessed. */
	assert_int_equal(pay_fee_assess(a,
					"{\"point\":\"before_acceptance\",\"basis_zh\":\"z\",\"basis_en\":\"e\","
					"\"per_unit\":{\"field\":\"units\",\"unit_fen\":0,\"max_units\":4}}",
					"{}", 0, &as),
			 GH_EINVAL);
	assert_int_equal(pay_fee_assess(a, "{\"point\":\"later\",\"basis_zh\":\"z\",\"basis_en\":\"e\",\"amount_fen\":1}",
					"{}", 0, &as),
			 GH_EINVAL);
	arena_free(a);
}

/* A fixed fee due after approval (psb-0013) and one before acceptance (psb-0001). */
static void test_points(void **state)
{
	(void)state;
	struct arena *a = arena_new(8192);
	struct pay_assessment as;
	assert_int_equal(pay_fee_assess(a, rule_of(a, "psb-0013"), "{}", 0, &as), 0);
	assert_string_equal(as.point, "after_approval");
	assert_string_equal(as.how, "fixed");
	assert_int_equal(as.amount, 1000);
	assert_int_equal(pay_fee_assess(a, rule_of(a, "psb-0001"), "{}", 0, &as), 0);
	assert_string_equal(as.point, "before_acceptance");
	assert_int_equal(as.amount, 2000);
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_per_unit),
		cmocka_unit_test(test_per_unit_base),
		cmocka_unit_test(test_points),
	};
	return cmocka_run_group_tests_name("pay", tests, NULL, NULL);
}
