/* Unit tests for src/identity/totp.c: RFC 6238 vectors, verification with a step either side
 * and the otpauth URI. */
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


/* ---- TOTP ---- */

#define RFC_SECRET "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" /* "12345678901234567890" */

static void test_totp_vectors(void **state)
{
	(void)state;
	static const struct {
		time_t t;
		const char *code;
	} v[] = {
		{ 59, "287082" },         { 1111111109, "081804" }, { 1111111111, "050471" },
		{ 1234567890, "005924" }, { 2000000000, "279037" },
	};
	char out[7];
	for (size_t i = 0; i < ARRAY_LEN(v); i++) {
		assert_int_equal(totp_code(RFC_SECRET, v[i].t, out), 0);
		assert_string_equal(out, v[i].code);
		int64_t step = -1;
		assert_int_equal(totp_verify(RFC_SECRET, v[i].code, v[i].t, &step), 0);
		assert_int_equal(step, (int64_t)(v[i].t / 30));
	}
	/* Lower case secrets decode too. */
	assert_int_equal(totp_code("gezdgnbvgy3tqojqgezdgnbvgy3tqojq", 59, out), 0);
	assert_string_equal(out, "287082");
	assert_int_equal(totp_code("not base32!", 59, out), GH_EINVAL);
	assert_int_equal(totp_code("", 59, out), GH_EINVAL);
}

static void test_totp_verify(void **state)
{
	(void)state;
	time_t t = 1234567890; /* exactly the start of step 41152263 */
	char code[7];
	assert_int_equal(totp_code(RFC_SECRET, t, code), 0);
	int64_t step = 0;
	assert_int_equal(totp_verify(RFC_SECRET, code, t + 30, &step), 0);
	assert_int_equal(step, t / 30);
	assert_int_equal(totp_verify(RFC_SECRET, code, t - 30, &step), 0);
	assert_int_equal(step, t / 30);
	assert_int_equal(totp_verify(RFC_SECRET, code, t + 90, NULL), GH_EINVAL);
	assert_int_equal(totp_verify(RFC_SECRET, code, t - 90, NULL), GH_EINVAL);
	assert_int_equal(totp_verify(RFC_SECRET, "005924", t, NULL), 0);
	assert_int_equal(totp_verify(RFC_SECRET, "005925", t, NULL), GH_EINVAL);
	assert_int_equal(totp_verify(RFC_SECRET, "05924", t, NULL), GH_EINVAL);
	assert_int_equal(totp_verify(RFC_SECRET, "0059240", t, NULL), GH_EINVAL);
	assert_int_equal(totp_verify(RFC_SECRET, "00592a", t, NULL), GH_EINVAL);
	assert_int_equal(totp_verify(RFC_SECRET, " 005924", t, NULL), GH_EINVAL);
	assert_int_equal(totp_verify(RFC_SECRET, "", t, NULL), GH_EINVAL);
	assert_int_equal(totp_verify("###", "005924", t, NULL), GH_EINVAL);

	/* New secrets: 32 base32 characters, decode to 20 bytes, generate and verify. */
	char s1[TOTP_BASE32_LEN + 1], s2[TOTP_BASE32_LEN + 1];
	totp_new_secret(s1);
	totp_new_secret(s2);
	assert_int_equal(strlen(s1), TOTP_BASE32_LEN);
	assert_string_not_equal(s1, s2);
	for (const char *p = s1; *p; p++)
		assert_true((*p >= 'A' && *p <= 'Z') || (*p >= '2' && *p <= '7'));
	assert_int_equal(totp_code(s1, t, code), 0);
	assert_int_equal(totp_verify(s1, code, t, NULL), 0);
}

static void test_totp_uri(void **state)
{
	(void)state;
	struct arena *a = arena_new(1024);
	char *u = totp_uri(a, RFC_SECRET, "张三 a@b.cn");
	assert_string_equal(u, "otpauth://totp/govhall:%E5%BC%A0%E4%B8%89%20a%40b.cn?secret=" RFC_SECRET
			       "&issuer=govhall&algorithm=SHA1&digits=6&period=30");
	arena_free(a);
}

int main(void)
{
	if (crypto_global_init() != 0 || totp_global_init() != 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_totp_vectors),
		cmocka_unit_test(test_totp_verify),
		cmocka_unit_test(test_totp_uri),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
