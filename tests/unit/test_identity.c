/* Unit tests for what src/identity/ shares across its modules: the ownership rule
 * (identity_owns: an enterprise's things seen by its agents while authorised) and sealed texts
 * (identity_open_text). The log-in throttle, one-time codes, passwords, TOTP and ID checks have
 * programs of their own (test_ratelimit, test_otp, test_password, test_totp, test_idcheck). */
#include "identity_fx.h"

/* ---- ownership -------------------------------------------------------------------------- */

static void test_owns(void **state)
{
	(void)state;
	struct req citizen = { .role = ROLE_CITIZEN, .who = { .account = 7 } };
	struct req agent = { .role = ROLE_AGENT, .who = { .account = 7, .enterprise = 50 } };
	struct req ent = { .role = ROLE_ENTERPRISE, .who = { .account = 50, .enterprise = 50 } };
	struct req staff = { .role = ROLE_STAFF, .who = { .account = 7, .department = "psb" } };
	struct req anon = { .role = ROLE_ANON };
	/* What 7 filed for themself: theirs as themself only. */
	assert_true(identity_owns(&citizen, 7, 0));
	assert_false(identity_owns(&agent, 7, 0));
	assert_false(identity_owns(&ent, 7, 0));
	assert_false(identity_owns(&staff, 7, 0));
	assert_false(identity_owns(&anon, 0, 0));
	/* What anyone filed for enterprise 50: the enterprise's and its agent's while acting. */
	assert_true(identity_owns(&agent, 7, 50));
	assert_true(identity_owns(&agent, 8, 50));
	assert_true(identity_owns(&ent, 7, 50));
	assert_false(identity_owns(&citizen, 7, 50)); /* a former agent, or the agent as themself */
	assert_false(identity_owns(&agent, 7, 51));
	assert_int_equal(identity_owner_id(&citizen), 7);
	assert_int_equal(identity_owner_id(&agent), 50);
	assert_int_equal(identity_owner_id(&ent), 50);
	assert_int_equal(identity_owner_id(&staff), 0);
	struct identity_owner o = identity_owner_of(&agent);
	assert_int_equal(o.person, 7);
	assert_int_equal(o.enterprise, 50);
}

static void test_sealed_text(void **state)
{
	struct fx *f = *state;
	SKIP_IF_NEEDED(f);
	struct arena *a = arena_new(1024);
	const char *text = "【政务服务】您的登录验证码为 123456";
	unsigned char *sealed;
	size_t len;
	assert_int_equal(crypto_seal(f->keys, a, "outbox_sms", text, strlen(text), &sealed, &len), 0);
	char *hex = arena_alloc(a, 2 * len + 1);
	sodium_bin2hex(hex, 2 * len + 1, sealed, len);
	assert_null(strstr(hex, "123456"));
	char *out = NULL;
	assert_int_equal(identity_open_text(f->keys, a, hex, &out), 0);
	assert_string_equal(out, text);
	hex[10] = hex[10] == 'a' ? 'b' : 'a';
	assert_int_equal(identity_open_text(f->keys, a, hex, &out), GH_EINVAL);
	assert_int_equal(identity_open_text(f->keys, a, "abc", &out), GH_EINVAL);
	/* Sealed for another column: refused. */
	assert_int_equal(crypto_seal(f->keys, a, "phone", text, strlen(text), &sealed, &len), 0);
	sodium_bin2hex(hex, 2 * len + 1, sealed, len);
	assert_int_equal(identity_open_text(f->keys, a, hex, &out), GH_EINVAL);
	arena_free(a);
}

int main(void)
{
	crypto_global_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_owns),
		cmocka_unit_test_setup_teardown(test_sealed_text, setup_sqlite, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
