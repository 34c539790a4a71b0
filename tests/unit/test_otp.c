/* Unit tests for src/identity/otp.c: one-time codes (hashed at rest, used once, expiring,
 * limited attempts and resends), on SQLite and PostgreSQL. */
#include "identity_fx.h"

DB_SQL(q_codes, "SELECT salt, code_hash, attempts, used_at FROM one_time_codes WHERE account_id = ? ORDER BY id");

/* ---- one-time codes -------------------------------------------------------------------- */

static void test_otp_once(void **state)
{
	struct fx *f = *state;
	SKIP_IF_NEEDED(f);
	int64_t t = 1700000000;
	char code[OTP_DIGITS + 1], wrong[OTP_DIGITS + 1];
	assert_int_equal(otp_issue(f->t.db, f->keys, f->account, "login", t, code), 0);
	assert_int_equal(strlen(code), 6);
	assert_int_equal(strspn(code, "0123456789"), 6);
	snprintf(wrong, sizeof(wrong), "%06u", (unsigned)(atoi(code) + 1) % 1000000u);
	/* Stored as a salted keyed hash only. */
	struct arena *a = arena_new(1024);
	struct db_rows rows;
	assert_int_equal(db_query(f->t.db, a, &q_codes, DB_ARGS(DB_INT(f->account)), &rows), 0);
	assert_int_equal(rows.nrows, 1);
	assert_int_equal(strlen(db_cell(&rows, 0, 1)), CRYPTO_HASH_HEX);
	assert_null(strstr(db_cell(&rows, 0, 1), code));
	assert_null(strstr(db_cell(&rows, 0, 0), code));
	/* Another account's or another purpose's check finds nothing. */
	assert_int_equal(otp_check(f->t.db, f->keys, f->other, "login", code, t + 1), GH_ENOTFOUND);
	assert_int_equal(otp_check(f->t.db, f->keys, f->account, "recovery", code, t + 1), GH_ENOTFOUND);
	assert_int_equal(otp_check(f->t.db, f->keys, f->account, "login", wrong, t + 1), GH_EINVAL);
	assert_int_equal(otp_check(f->t.db, f->keys, f->account, "login", "12345", t + 1), GH_EINVAL);
	char spaced[16];
	snprintf(spaced, sizeof(spaced), "%.3s %s", code, code + 3);
	assert_int_equal(otp_check(f->t.db, f->keys, f->account, "login", spaced, t + 2), 0);
	/* Single use. */
	assert_int_equal(otp_check(f->t.db, f->keys, f->account, "login", code, t + 3), GH_ENOTFOUND);
	assert_int_equal(db_query(f->t.db, a, &q_codes, DB_ARGS(DB_INT(f->account)), &rows), 0);
	assert_int_equal(db_cell_int(&rows, 0, 2), 2);
	assert_non_null(db_cell(&rows, 0, 3));
	arena_free(a);
}

static void test_otp_expiry_and_attempts(void **state)
{
	struct fx *f = *state;
	SKIP_IF_NEEDED(f);
	int64_t t = 1700000000;
	char code[OTP_DIGITS + 1];
	assert_int_equal(otp_issue(f->t.db, f->keys, f->account, "login", t, code), 0);
	assert_int_equal(otp_check(f->t.db, f->keys, f->account, "login", code, t + OTP_TTL), GH_ENOTFOUND);
	/* A new one (after the resend interval): five wrong tries kill it, the right one then fails. */
	assert_int_equal(otp_issue(f->t.db, f->keys, f->account, "login", t + OTP_TTL, code), 0);
	for (int i = 0; i < OTP_ATTEMPTS; i++)
		assert_int_equal(otp_check(f->t.db, f->keys, f->account, "login", "000000", t + OTP_TTL + 1),
				 strcmp(code, "000000") ? GH_EINVAL : 0);
	if (strcmp(code, "000000") != 0)
		assert_int_equal(otp_check(f->t.db, f->keys, f->account, "login", code, t + OTP_TTL + 2), GH_ENOTFOUND);
	assert_int_equal(OTP_TTL, 600);
	assert_int_equal(OTP_ATTEMPTS, 5);
}

static void test_otp_resend(void **state)
{
	struct fx *f = *state;
	SKIP_IF_NEEDED(f);
	int64_t t = 1700000000;
	char first[OTP_DIGITS + 1], code[OTP_DIGITS + 1];
	assert_int_equal(otp_issue(f->t.db, f->keys, f->account, "login", t, first), 0);
	assert_int_equal(otp_issue(f->t.db, f->keys, f->account, "login", t + OTP_RESEND_AFTER - 1, code), GH_ERATELIMIT);
	/* A new one ends the first: the first is now just a wrong code. */
	assert_int_equal(otp_issue(f->t.db, f->keys, f->account, "login", t + OTP_RESEND_AFTER, code), 0);
	if (strcmp(first, code) != 0)
		assert_int_equal(otp_check(f->t.db, f->keys, f->account, "login", first, t + 61), GH_EINVAL);
	assert_int_equal(otp_check(f->t.db, f->keys, f->account, "login", code, t + 62), 0);
	/* At most OTP_PER_HOUR in an hour. */
	int64_t at = t + 2 * OTP_RESEND_AFTER;
	for (int i = 2; i < OTP_PER_HOUR; i++, at += OTP_RESEND_AFTER)
		assert_int_equal(otp_issue(f->t.db, f->keys, f->account, "login", at, code), 0);
	assert_int_equal(otp_issue(f->t.db, f->keys, f->account, "login", at, code), GH_ERATELIMIT);
	assert_int_equal(otp_issue(f->t.db, f->keys, f->account, "login", t + 3601, code), 0);
	/* Another account is not limited by this one. */
	assert_int_equal(otp_issue(f->t.db, f->keys, f->other, "login", t + 1, code), 0);
}

/* The SMS text travels sealed and opens with the key file only. */
int main(void)
{
	crypto_global_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_otp_once, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_otp_expiry_and_attempts, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_otp_resend, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_otp_once, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_otp_expiry_and_attempts, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_otp_resend, setup_pg, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
