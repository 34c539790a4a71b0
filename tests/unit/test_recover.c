/* Unit tests for what account recovery rests on, on SQLite and PostgreSQL, with an injected
 * clock: one-time codes of a subject that may serve nobody (src/identity/otp.c: otp_match,
 * otp_use, otp_end_all, the number a code proves, the sealed number of an SMS), the phone
 * number that belongs to whoever proves it (accounts.c: account_create, account_set_phone),
 * and an administrator's reset with its renewal (account_reset, account_renewed). */
#include "identity_fx.h"

#define T0 1700000000

/* The arena of the running test (the shared fixture has none). */
static struct arena *A;

static int setup_r(void **state, enum db_kind kind)
{
	A = arena_new(4096);
	return setup(state, kind);
}

static int setup_r_sqlite(void **state)
{
	return setup_r(state, DB_SQLITE);
}

static int setup_r_pg(void **state)
{
	return setup_r(state, DB_POSTGRES);
}

static int teardown_r(void **state)
{
	arena_free(A);
	A = NULL;
	return teardown(state);
}

/* An individual with phone (may be NULL), proved or not; its id. */
static int64_t person(struct fx *f, const char *id_number, const char *phone, bool verified, int64_t *released)
{
	struct account_new in = { .kind = "individual", .name = "测试", .id_number = id_number, .phone = phone,
				  .password_hash = "x", .phone_verified = verified };
	int64_t id = 0;
	int rc = account_create(f->t.db, f->keys, A, &in, &id);
	if (released)
		*released = in.released;
	return rc ? -rc : id;
}

static struct account get(struct fx *f, int64_t id)
{
	struct account acc;
	assert_int_equal(account_get(f->t.db, A, id, &acc), 0);
	return acc;
}

/* ---- codes ---------------------------------------------------------------------------- */

/* A code of a name without an account serves nobody: typed right, it is still wrong. */
static void test_code_for_nobody(void **state)
{
	struct fx *f = *state;
	SKIP_IF_NEEDED(f);
	char code[OTP_DIGITS + 1];
	struct otp_code c = { .subject = "name:0123abcd" };
	assert_int_equal(otp_issue_code(f->t.db, f->keys, &c, "recovery", T0, code), 0);
	struct otp_match m;
	for (int i = 0; i < OTP_ATTEMPTS; i++)
		assert_int_equal(otp_match(f->t.db, f->keys, A, c.subject, "recovery", code, T0 + 1, &m), GH_EINVAL);
	/* Each try counted like a wrong one: the code is dead now. */
	assert_int_equal(otp_match(f->t.db, f->keys, A, c.subject, "recovery", code, T0 + 2, &m), GH_ENOTFOUND);
	/* The same limits as an account's: one a minute. */
	assert_int_equal(otp_issue_code(f->t.db, f->keys, &c, "recovery", T0 + 30, code), GH_ERATELIMIT);
}

/* A right code is matched without being used; otp_use uses it once, before it expires. */
static void test_match_then_use(void **state)
{
	struct fx *f = *state;
	SKIP_IF_NEEDED(f);
	int64_t id = person(f, "11010519491231002X", "13912345670", true, NULL);
	assert_true(id > 0);
	char subject[OTP_SUBJECT_MAX], code[OTP_DIGITS + 1];
	otp_subject(subject, id);
	assert_string_equal(subject, arena_printf(A, "acct:%lld", (long long)id));
	struct otp_code c = { .subject = subject, .account = id };
	assert_int_equal(otp_issue_code(f->t.db, f->keys, &c, "recovery", T0, code), 0);
	struct otp_match m, m2;
	assert_int_equal(otp_match(f->t.db, f->keys, A, subject, "recovery", code, T0 + 10, &m), 0);
	assert_int_equal(m.account, id);
	assert_null(m.target);
	/* Matched twice (a form refused for its password keeps the code), used once. */
	assert_int_equal(otp_match(f->t.db, f->keys, A, subject, "recovery", code, T0 + 20, &m2), 0);
	assert_int_equal(m2.id, m.id);
	assert_int_equal(otp_use(f->t.db, m.id, T0 + 30), 0);
	assert_int_equal(otp_use(f->t.db, m.id, T0 + 31), GH_ENOTFOUND);
	assert_int_equal(otp_match(f->t.db, f->keys, A, subject, "recovery", code, T0 + 32, &m), GH_ENOTFOUND);
	/* A used code does not delay the next; an unused one does, for a minute. */
	assert_int_equal(otp_issue_code(f->t.db, f->keys, &c, "recovery", T0 + 33, code), 0);
	assert_int_equal(otp_issue_code(f->t.db, f->keys, &c, "recovery", T0 + 33 + OTP_RESEND_AFTER - 1, code),
			 GH_ERATELIMIT);
	/* Matched in time but used too late: refused. */
	assert_int_equal(otp_match(f->t.db, f->keys, A, subject, "recovery", code, T0 + 33 + OTP_TTL - 1, &m), 0);
	assert_int_equal(otp_use(f->t.db, m.id, T0 + 33 + OTP_TTL), GH_ENOTFOUND);
}

DB_SQL(q_target, "SELECT target_enc FROM one_time_codes WHERE purpose = 'phone'");

/* A code proving a number carries it sealed; otp_end_all ends an account's codes of a purpose. */
static void test_target_and_end_all(void **state)
{
	struct fx *f = *state;
	SKIP_IF_NEEDED(f);
	int64_t id = person(f, "11010519491231002X", "13912345671", false, NULL);
	char subject[OTP_SUBJECT_MAX], code[OTP_DIGITS + 1], login[OTP_DIGITS + 1];
	otp_subject(subject, id);
	struct otp_code c = { .subject = subject, .account = id, .target = "13987654321" };
	assert_int_equal(otp_issue_code(f->t.db, f->keys, &c, "phone", T0, code), 0);
	struct db_rows rows;
	assert_int_equal(db_query(f->t.db, A, &q_target, DB_NOARGS, &rows), 0);
	assert_int_equal(rows.nrows, 1);
	assert_null(memmem(db_cell(&rows, 0, 0), rows.lens[0], "13987654321", 11));
	struct otp_match m;
	assert_int_equal(otp_match(f->t.db, f->keys, A, subject, "phone", code, T0 + 1, &m), 0);
	assert_string_equal(m.target, "13987654321");
	assert_int_equal(otp_issue(f->t.db, f->keys, id, "login", T0, login), 0);
	assert_int_equal(otp_end_all(f->t.db, id, "phone", T0 + 2), 0);
	assert_int_equal(otp_match(f->t.db, f->keys, A, subject, "phone", code, T0 + 3, &m), GH_ENOTFOUND);
	assert_int_equal(otp_check(f->t.db, f->keys, id, "login", login, T0 + 3), 0);
}

/* The number of an SMS is sealed at a fixed width; blank opens as "" (a message to nobody). */
static void test_sealed_number(void **state)
{
	struct fx *f = *state;
	SKIP_IF_NEEDED(f);
	static const char *const numbers[] = { "13912345678                 ", "                        " };
	static const char *const want[] = { "13912345678", "" };
	size_t lens[2];
	for (int i = 0; i < 2; i++) {
		unsigned char *sealed;
		assert_int_equal(crypto_seal(f->keys, A, "outbox_sms_to", numbers[i], 24, &sealed, &lens[i]), 0);
		char *hex = arena_alloc(A, 2 * lens[i] + 1), *out;
		sodium_bin2hex(hex, 2 * lens[i] + 1, sealed, lens[i]);
		assert_int_equal(identity_open_number(f->keys, A, hex, &out), 0);
		assert_string_equal(out, want[i]);
		/* Not a text: the two are sealed apart. */
		assert_int_equal(identity_open_text(f->keys, A, hex, &out), GH_EINVAL);
	}
	assert_int_equal(lens[0], lens[1]);
	char *out;
	assert_int_equal(identity_open_number(f->keys, A, "00ff", &out), GH_EINVAL);
}

/* ---- phone numbers ---------------------------------------------------------------------- */

static void test_phone_belongs_to_who_proves_it(void **state)
{
	struct fx *f = *state;
	SKIP_IF_NEEDED(f);
	const char *p = "13912345672";
	int64_t released = -1;
	int64_t squatter = person(f, "11010519491231002X", p, false, &released);
	assert_true(squatter > 0);
	assert_int_equal(released, 0);
	/* A new registration with a number held unproved takes it. */
	int64_t owner = person(f, "440524188001010014", p, false, &released);
	assert_true(owner > 0);
	assert_int_equal(released, squatter);
	struct account s = get(f, squatter);
	assert_null(s.phone_mask);
	assert_int_equal(s.phone_verified_at, 0);
	/* Proving it keeps it; a later claim is refused, by registration or by proof. */
	assert_int_equal(account_set_phone(f->t.db, f->keys, A, owner, p, T0, &released), 0);
	assert_int_equal(released, 0);
	assert_int_equal(get(f, owner).phone_verified_at, T0);
	assert_int_equal(person(f, "110105195001010011", p, false, &released), -GH_ECONFLICT);
	assert_int_equal(account_set_phone(f->t.db, f->keys, A, squatter, p, T0 + 1, &released), GH_ECONFLICT);
	/* The owner moves to another number held unproved: that holder loses it. */
	const char *q = "13912345673";
	int64_t other = person(f, "110105195101010017", q, false, NULL);
	assert_true(other > 0);
	assert_int_equal(account_set_phone(f->t.db, f->keys, A, owner, q, T0 + 2, &released), 0);
	assert_int_equal(released, other);
	assert_null(get(f, other).phone_mask);
	struct account o = get(f, owner);
	assert_string_equal(o.phone_mask, "139****5673");
	assert_int_equal(o.phone_verified_at, T0 + 2);
	/* The first number is free again. */
	assert_true(person(f, "110105195201010013", p, true, NULL) > 0);
}

/* ---- an administrator's reset ------------------------------------------------------------ */

static void test_reset_and_renewal(void **state)
{
	struct fx *f = *state;
	SKIP_IF_NEEDED(f);
	struct account_new in = { .kind = "staff", .name = "职员", .phone = "13912345674", .password_hash = "old",
				  .totp_secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP" };
	int64_t id;
	assert_int_equal(account_create(f->t.db, f->keys, A, &in, &id), 0);
	assert_int_equal(account_totp_use(f->t.db, id, 1000), 0);
	assert_int_equal(account_renewed(f->t.db, id, "new", T0), GH_ENOTFOUND); /* nothing due */
	assert_int_equal(account_reset(f->t.db, id, "temp", ACCOUNT_RENEW_TOTP, T0), 0);
	struct account acc = get(f, id);
	assert_int_equal(acc.must_renew, ACCOUNT_RENEW_TOTP);
	assert_false(acc.totp_enabled);
	assert_null(acc.totp_enc);
	assert_string_equal(acc.password_hash, "temp");
	/* The new app's codes are not refused for the old app's time steps. */
	assert_int_equal(account_totp_use(f->t.db, id, 999), 0);
	/* Renewal needs the new secret first. */
	assert_int_equal(account_renewed(f->t.db, id, "new", T0 + 1), GH_ENOTFOUND);
	assert_int_equal(account_set_totp(f->t.db, f->keys, A, id, "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU", false), 0);
	assert_int_equal(account_renewed(f->t.db, id, "new", T0 + 2), 0);
	acc = get(f, id);
	assert_int_equal(acc.must_renew, ACCOUNT_RENEW_NONE);
	assert_true(acc.totp_enabled);
	assert_string_equal(acc.password_hash, "new");
	assert_int_equal(acc.password_changed_at, T0 + 2);
	assert_int_equal(account_renewed(f->t.db, id, "again", T0 + 3), GH_ENOTFOUND);
	/* A password-only reset keeps the second factor as it is. */
	assert_int_equal(account_reset(f->t.db, id, "temp2", ACCOUNT_RENEW_PASSWORD, T0 + 4), 0);
	acc = get(f, id);
	assert_true(acc.totp_enabled);
	assert_int_equal(account_renewed(f->t.db, id, "newer", T0 + 5), 0);
}

int main(void)
{
	crypto_global_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_code_for_nobody, setup_r_sqlite, teardown_r),
		cmocka_unit_test_setup_teardown(test_match_then_use, setup_r_sqlite, teardown_r),
		cmocka_unit_test_setup_teardown(test_target_and_end_all, setup_r_sqlite, teardown_r),
		cmocka_unit_test_setup_teardown(test_sealed_number, setup_r_sqlite, teardown_r),
		cmocka_unit_test_setup_teardown(test_phone_belongs_to_who_proves_it, setup_r_sqlite, teardown_r),
		cmocka_unit_test_setup_teardown(test_reset_and_renewal, setup_r_sqlite, teardown_r),
		cmocka_unit_test_setup_teardown(test_code_for_nobody, setup_r_pg, teardown_r),
		cmocka_unit_test_setup_teardown(test_match_then_use, setup_r_pg, teardown_r),
		cmocka_unit_test_setup_teardown(test_target_and_end_all, setup_r_pg, teardown_r),
		cmocka_unit_test_setup_teardown(test_phone_belongs_to_who_proves_it, setup_r_pg, teardown_r),
		cmocka_unit_test_setup_teardown(test_reset_and_renewal, setup_r_pg, teardown_r),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
