/* Unit tests for src/identity/password.c: the password policy and Argon2id hashing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "base/arena.h"
#include "base/err.h"
#include "base/util.h"
#include "identity/crypto.h"
#include "identity/password.h"
#include "identity/totp.h"


/* ---- password ---- */

static void test_password_policy(void **state)
{
	(void)state;
	/* Without a list, patterns still count. */
	password_list_free();
	assert_int_equal(password_check("aaaaaaaaaaaa", NULL), PASSWORD_COMMON);

	char err[256] = "";
	assert_int_equal(password_list_load("no/such/list.txt", err, sizeof err), GH_EIO);
	if (password_list_load("data/common-passwords.txt", err, sizeof err) != 0)
		fail_msg("%s", err);

	assert_int_equal(password_check("Tr0ub4dor&3", NULL), PASSWORD_TOO_SHORT); /* 11 */
	assert_int_equal(password_check("Tr0ub4dor&3x", NULL), PASSWORD_OK);      /* 12 */
	assert_int_equal(password_check("", NULL), PASSWORD_TOO_SHORT);
	/* Characters, not bytes: 12 Chinese characters pass, 11 do not (33 bytes). */
	assert_int_equal(password_check("春眠不觉晓处处闻啼鸟夜来", NULL), PASSWORD_OK);
	assert_int_equal(password_check("春眠不觉晓处处闻啼鸟夜", NULL), PASSWORD_TOO_SHORT);
	assert_int_equal(password_check("\xff\xfe bad utf-8 here", NULL), PASSWORD_BAD_UTF8);
	char *big = xmalloc(PASSWORD_MAX_BYTES + 2);
	memset(big, 'k', PASSWORD_MAX_BYTES + 1);
	big[PASSWORD_MAX_BYTES + 1] = 0;
	assert_int_equal(password_check(big, NULL), PASSWORD_TOO_LONG);
	big[PASSWORD_MAX_BYTES] = 0;
	big[0] = 'x';
	assert_int_equal(password_check(big, NULL), PASSWORD_OK);
	free(big);

	/* The list, whatever the case. */
	assert_int_equal(password_check("password1234", NULL), PASSWORD_COMMON);
	assert_int_equal(password_check("PassWord1234", NULL), PASSWORD_COMMON);
	assert_int_equal(password_check("WoAiNi1314520", NULL), PASSWORD_COMMON);
	assert_int_equal(password_check("1QAZ2WSX3EDC", NULL), PASSWORD_COMMON);
	assert_int_equal(password_check("password1234 and more", NULL), PASSWORD_OK);

	/* Trivial patterns. */
	assert_int_equal(password_check("zzzzzzzzzzzzzzzz", NULL), PASSWORD_COMMON);
	assert_int_equal(password_check("ZZZZZZZZZZZZzzz", NULL), PASSWORD_COMMON);
	assert_int_equal(password_check("哈哈哈哈哈哈哈哈哈哈哈哈", NULL), PASSWORD_COMMON);
	assert_int_equal(password_check("234567890123", NULL), PASSWORD_COMMON);
	assert_int_equal(password_check("987654321098", NULL), PASSWORD_COMMON);
	assert_int_equal(password_check("bcdefghijklm", NULL), PASSWORD_COMMON);
	assert_int_equal(password_check("ZYXWVUTSRQPO", NULL), PASSWORD_COMMON);
	assert_int_equal(password_check("xyzabcdefghi", NULL), PASSWORD_COMMON);
	assert_int_equal(password_check("123456789010", NULL), PASSWORD_OK); /* breaks the run */
	assert_int_equal(password_check("1212121212121", NULL), PASSWORD_OK); /* not a run, not listed */

	/* The account's own identifiers. */
	const char *const avoid[] = { "11010519491231002X", "13800138000", "12345", NULL };
	assert_int_equal(password_check("my11010519491231002x!", avoid), PASSWORD_LIKE_ID);
	assert_int_equal(password_check("phone13800138000", avoid), PASSWORD_LIKE_ID);
	assert_int_equal(password_check("x12345 is short avoid", avoid), PASSWORD_OK);
	assert_int_equal(password_check("quiet river stone", avoid), PASSWORD_OK);

	for (int p = PASSWORD_OK; p <= PASSWORD_LIKE_ID; p++) {
		assert_true(strlen(password_problem_text(p, "zh")) > 0);
		assert_true(strlen(password_problem_text(p, "en")) > 0);
		assert_string_not_equal(password_problem_text(p, "zh"),
					password_problem_text(p, "en"));
	}
	assert_non_null(strstr(password_problem_text(PASSWORD_TOO_SHORT, "zh"), "12"));
	assert_non_null(strstr(password_problem_text(PASSWORD_TOO_SHORT, "en"), "12"));
}

static void test_password_hash(void **state)
{
	(void)state;
	/* The one hash at the real parameters in this suite. */
	char h[PASSWORD_HASH_MAX];
	assert_int_equal(password_hash("正确 horse battery", h), 0);
	assert_true(strncmp(h, "$argon2id$v=19$m=19456,t=2,p=1$", 31) == 0);
	assert_true(password_verify(h, "正确 horse battery"));
	assert_false(password_verify(h, "正确 horse batterY"));
	assert_false(password_verify(h, ""));
	assert_false(password_verify("not a hash", "x"));
	assert_false(password_needs_rehash(h));

	/* Other parameters: more passes; less memory (cheap). */
	char old[crypto_pwhash_STRBYTES];
	assert_int_equal(crypto_pwhash_str_alg(old, "pw", 2, 3, PASSWORD_MEMLIMIT,
					       crypto_pwhash_ALG_ARGON2ID13), 0);
	assert_true(password_needs_rehash(old));
	assert_true(password_verify(old, "pw"));
	assert_int_equal(crypto_pwhash_str_alg(old, "pw", 2, PASSWORD_OPSLIMIT, 1u << 16,
					       crypto_pwhash_ALG_ARGON2ID13), 0);
	assert_true(password_needs_rehash(old));
	assert_true(password_needs_rehash("garbage"));

	/* Runs (the first call computes the dummy hash), twice. */
	password_dummy_verify("whatever");
	password_dummy_verify("whatever again");
}

int main(void)
{
	if (crypto_global_init() != 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_password_policy),
		cmocka_unit_test(test_password_hash),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	password_list_free();
	return rc;
}
