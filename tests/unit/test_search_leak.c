/* test_search_leak.c: no query of the dev set (tests/search/queries-dev.json), nor a close
 * variant of one, is written into the search's rules, word lists or the catalog's aliases
 * under data/ (src/search/leak.c says what "close" means). The check itself is tested first:
 * it must catch a query copied into an entry, with or without its question words, in
 * Traditional characters or another case, and must not call an entry close merely because a
 * query mentions it. Runs from the project root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "base/util.h"
#include "search/search_impl.h"

static struct lex *lx;

static size_t close_to(struct leak_set *ls, const char *q)
{
	struct leak_hit h[4];
	return search_leak_find(ls, q, h, 4);
}

static void test_the_check_catches_copies(void **state)
{
	(void)state;
	struct leak_set *ls = search_leak_load(lx, NULL);
	search_leak_add(ls, "叉车操作证", "test");
	search_leak_add(ls, "身份证丢了", "test");
	search_leak_add(ls, "renew driving licence", "test");
	search_leak_add(ls, "社保卡", "test");
	assert_int_equal(search_leak_size(ls), 4);
	/* the entry itself, with question words, in Traditional, in capitals */
	assert_int_equal(close_to(ls, "叉车操作证"), 1);
	assert_int_equal(close_to(ls, "身份证丢了怎么办"), 1);
	assert_int_equal(close_to(ls, "請問身份證丟了怎麼辦"), 1);
	assert_int_equal(close_to(ls, "Renew my Driving Licence"), 1);
	/* mentioning an entry is not being one */
	assert_int_equal(close_to(ls, "社保卡丢了"), 0);
	assert_int_equal(close_to(ls, "公积金贷款"), 0);
	assert_int_equal(close_to(ls, ""), 0);
	search_leak_free(ls);
}

static void test_no_dev_query_in_the_rules(void **state)
{
	(void)state;
	struct leak_set *ls = search_leak_load(lx, "data");
	assert_true(search_leak_size(ls) > 1000); /* rules, word lists and every alias were read */
	json_error_t jerr;
	json_t *qs = json_load_file("tests/search/queries-dev.json", 0, &jerr);
	assert_true(json_is_array(qs));
	assert_true(json_array_size(qs) >= 80);
	size_t i, bad = 0;
	json_t *q;
	json_array_foreach(qs, i, q)
	{
		const char *text = json_string_value(json_object_get(q, "q"));
		struct leak_hit h[4];
		size_t n = search_leak_find(ls, text, h, 4);
		for (size_t k = 0; k < n && k < 4; k++)
			fprintf(stderr, "dev query \"%s\" is close to \"%s\" (%s, overlap %.2f)\n", text, h[k].entry,
				h[k].source, h[k].jaccard);
		bad += n;
	}
	json_decref(qs);
	search_leak_free(ls);
	assert_int_equal(bad, 0);
}

int main(void)
{
	char err[256];
	if (lex_load("data", NULL, &lx, err, sizeof(err))) {
		fprintf(stderr, "test_search_leak: %s\n", err);
		return 1;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_check_catches_copies),
		cmocka_unit_test(test_no_dev_query_in_the_rules),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	lex_free(lx);
	return rc;
}
