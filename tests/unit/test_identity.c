/* Unit tests for src/identity/ratelimit.c (the log-in throttle: its rules and its counters in
 * the database, driven with an injected clock) and src/identity/otp.c (one-time codes), on
 * SQLite and PostgreSQL. The figures asserted here are the ones docs/security.md states. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "base/arena.h"
#include "base/err.h"
#include "base/util.h"
#include "identity/identity_impl.h"
#include "store/db.h"
#include "testdb.h"

struct fx {
	struct testdb t;
	bool skip;
	struct keyring *keys;
	char keydir[64], keypath[128];
	int64_t account, other;
};

DB_SQL(q_acct, "INSERT INTO accounts (kind, name, password_hash, key_id, created_at, password_changed_at) "
	       "VALUES ('individual', ?, 'x', 1, 0, 0) RETURNING id");
DB_SQL(q_codes, "SELECT salt, code_hash, attempts, used_at FROM one_time_codes WHERE account_id = ? ORDER BY id");

static int setup(void **state, enum db_kind kind)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	*state = f;
	int rc = testdb_open(&f->t, kind, "identity");
	if (rc == 1) {
		f->skip = true;
		return 0;
	}
	if (rc)
		return -1;
	char err[256];
	if (db_migrate(f->t.db, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	snprintf(f->keydir, sizeof(f->keydir), "/tmp/govhall-identity-key-XXXXXX");
	if (!mkdtemp(f->keydir))
		return -1;
	snprintf(f->keypath, sizeof(f->keypath), "%s/govhall.key", f->keydir);
	if (keyring_create(f->keypath, err, sizeof(err)) || keyring_load(f->keypath, &f->keys, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	struct arena *a = arena_new(1024);
	struct db_rows rows;
	if (db_query(f->t.db, a, &q_acct, DB_ARGS(DB_TEXT("甲")), &rows))
		return -1;
	f->account = db_cell_int(&rows, 0, 0);
	if (db_query(f->t.db, a, &q_acct, DB_ARGS(DB_TEXT("乙")), &rows))
		return -1;
	f->other = db_cell_int(&rows, 0, 0);
	arena_free(a);
	return 0;
}

static int setup_sqlite(void **state)
{
	return setup(state, DB_SQLITE);
}

static int setup_pg(void **state)
{
	return setup(state, DB_POSTGRES);
}

static int teardown(void **state)
{
	struct fx *f = *state;
	testdb_close(&f->t);
	if (f->keys)
		keyring_free(f->keys);
	if (f->keypath[0]) {
		unlink(f->keypath);
		rmdir(f->keydir);
	}
	free(f);
	return 0;
}

#define SKIP_IF_NEEDED(f)                                                                          \
	do {                                                                                       \
		if ((f)->skip) {                                                                   \
			skip();                                                                    \
			return;                                                                    \
		}                                                                                  \
	} while (0)

/* ---- the rules ------------------------------------------------------------------------- */

static void test_rules(void **state)
{
	(void)state;
	/* Per (account, address): 5 free, then 30 s doubling to 15 minutes. */
	for (int n = 0; n <= 5; n++)
		assert_int_equal(throttle_delay(&throttle_pair, n), 0);
	int64_t pair[] = { 30, 60, 120, 240, 480, 900, 900 };
	for (int i = 0; i < 7; i++)
		assert_int_equal(throttle_delay(&throttle_pair, 6 + i), pair[i]);
	assert_int_equal(throttle_delay(&throttle_pair, 1000), 900);
	/* Per address: 50 free, then the same. */
	assert_int_equal(throttle_delay(&throttle_address, 50), 0);
	assert_int_equal(throttle_delay(&throttle_address, 51), 30);
	assert_int_equal(throttle_delay(&throttle_address, 52), 60);
	/* A second factor: 9 free, the 10th refuses it for 15 minutes, doubling up to a day. */
	for (int n = 0; n <= 9; n++)
		assert_int_equal(throttle_delay(&throttle_factor, n), 0);
	int64_t factor[] = { 900, 1800, 3600, 7200, 14400, 28800, 57600, 86400, 86400 };
	for (int i = 0; i < 9; i++)
		assert_int_equal(throttle_delay(&throttle_factor, 10 + i), factor[i]);
	/* The account's ceiling never blocks: it asks for the second factor instead. */
	assert_int_equal(throttle_delay(&throttle_account, 100), 0);
	assert_int_equal(throttle_delay(&throttle_account, 100000), 0);
	assert_int_equal(LOGIN_CEILING, 100);
}

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

/* ---- the counters ---------------------------------------------------------------------- */

static int64_t count_fail(struct fx *f, const char *key, const struct throttle_rule *rule, int64_t now, int64_t *blocked)
{
	int64_t n = -1;
	assert_int_equal(throttle_fail(f->t.db, key, rule, now, &n, blocked), 0);
	return n;
}

static int64_t wait_of(struct fx *f, const char *key, int64_t now)
{
	int64_t wait = -1;
	assert_int_equal(throttle_state(f->t.db, key, now, NULL, &wait), 0);
	return wait;
}

static int64_t count_of(struct fx *f, const char *key, int64_t now)
{
	int64_t n = -1;
	assert_int_equal(throttle_state(f->t.db, key, now, &n, NULL), 0);
	return n;
}

/* A guesser at one address is slowed down; the same account from another address is not. */
static void test_pair(void **state)
{
	struct fx *f = *state;
	SKIP_IF_NEEDED(f);
	const char *a = "login:pair:acct:7:10.0.0.1", *b = "login:pair:acct:7:10.0.0.2";
	int64_t t = 1700000000, blocked = -1;
	for (int i = 1; i <= 5; i++) {
		assert_int_equal(count_fail(f, a, &throttle_pair, t, &blocked), i);
		assert_int_equal(blocked, 0);
		assert_int_equal(wait_of(f, a, t), 0);
	}
	assert_int_equal(count_fail(f, a, &throttle_pair, t, &blocked), 6);
	assert_int_equal(blocked, 30);
	assert_int_equal(wait_of(f, a, t), 30);
	assert_int_equal(wait_of(f, a, t + 29), 1);
	assert_int_equal(wait_of(f, a, t + 30), 0);
	assert_int_equal(wait_of(f, b, t), 0); /* the owner elsewhere */
	assert_int_equal(count_fail(f, a, &throttle_pair, t + 30, &blocked), 7);
	assert_int_equal(blocked, 60);
	assert_int_equal(wait_of(f, a, t + 31), 59);
	/* A day without failures and the pair starts again. */
	assert_int_equal(count_of(f, a, t + 30 + 86400), 7);
	assert_int_equal(count_of(f, a, t + 30 + 86401), 0);
	assert_int_equal(count_fail(f, a, &throttle_pair, t + 30 + 86401, &blocked), 1);
	assert_int_equal(blocked, 0);
	throttle_clear(f->t.db, a);
	assert_int_equal(count_of(f, a, t), 0);
}

/* The account's count is of consecutive failures, from anywhere, however spread in time, and
 * never blocks; a success clears it. */
static void test_ceiling(void **state)
{
	struct fx *f = *state;
	SKIP_IF_NEEDED(f);
	const char *k = "login:acct:acct:7";
	int64_t t = 1700000000, blocked = -1;
	for (int i = 1; i <= LOGIN_CEILING + 5; i++) {
		assert_int_equal(count_fail(f, k, &throttle_account, t + (int64_t)i * 3 * 86400, &blocked), i);
		assert_int_equal(blocked, 0);
	}
	assert_int_equal(count_of(f, k, t + 1000 * 86400), LOGIN_CEILING + 5);
	assert_int_equal(wait_of(f, k, t + 1000 * 86400), 0);
	throttle_clear(f->t.db, k);
	assert_int_equal(count_of(f, k, t), 0);
}

/* Ten wrong codes refuse the factor for 15 minutes; the next wrong one (after the wait) for
 * 30; nothing but a right code (clear) ends the count. */
static void test_factor(void **state)
{
	struct fx *f = *state;
	SKIP_IF_NEEDED(f);
	const char *k = "login:2fa:totp:7";
	int64_t t = 1700000000, blocked = -1;
	for (int i = 1; i <= 9; i++)
		assert_int_equal(count_fail(f, k, &throttle_factor, t + i, &blocked), i);
	assert_int_equal(blocked, 0);
	assert_int_equal(count_fail(f, k, &throttle_factor, t + 10, &blocked), 10);
	assert_int_equal(blocked, 900);
	assert_int_equal(wait_of(f, k, t + 10), 900);
	assert_int_equal(wait_of(f, k, t + 909), 1);
	assert_int_equal(wait_of(f, k, t + 910), 0);
	int64_t later = t + 10 * 86400; /* consecutive: time alone forgets nothing */
	assert_int_equal(count_fail(f, k, &throttle_factor, later, &blocked), 11);
	assert_int_equal(blocked, 1800);
	assert_int_equal(count_fail(f, k, &throttle_factor, later + 1800, &blocked), 12);
	assert_int_equal(blocked, 3600);
	/* Another account's factor, and another factor, are untouched. */
	assert_int_equal(count_of(f, "login:2fa:totp:8", later), 0);
	assert_int_equal(count_of(f, "login:2fa:sms:7", later), 0);
	throttle_clear(f->t.db, k);
	assert_int_equal(count_of(f, k, later), 0);
}

/* Many nodes failing at once all count: the increment is one statement, so concurrent
 * failures on separate connections are never lost (a lost one would let a guesser past the
 * ceiling unnoticed). */
struct racer {
	const char *url;
	int n, errors;
};

static void *race(void *p)
{
	struct racer *r = p;
	struct db *db;
	char err[256];
	if (db_open(r->url, &db, err, sizeof(err))) {
		r->errors = r->n;
		return NULL;
	}
	for (int i = 0; i < r->n; i++) {
		int rc;
		/* SQLite: a busy file waits up to its busy timeout; count what still fails. */
		if ((rc = throttle_fail(db, "login:acct:acct:9", &throttle_account, 1700000000 + i, NULL, NULL)))
			r->errors++;
	}
	db_close(db);
	return NULL;
}

static void test_concurrent(void **state)
{
	struct fx *f = *state;
	SKIP_IF_NEEDED(f);
	enum { THREADS = 4, EACH = 30 };
	pthread_t th[THREADS];
	struct racer rr[THREADS];
	for (int i = 0; i < THREADS; i++) {
		rr[i] = (struct racer){ f->t.url, EACH, 0 };
		assert_int_equal(pthread_create(&th[i], NULL, race, &rr[i]), 0);
	}
	int errors = 0;
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		errors += rr[i].errors;
	}
	assert_int_equal(errors, 0);
	assert_int_equal(count_of(f, "login:acct:acct:9", 1700000000), THREADS * EACH);
}

static void test_clear_account(void **state)
{
	struct fx *f = *state;
	SKIP_IF_NEEDED(f);
	int64_t t = 1700000000;
	count_fail(f, "login:acct:acct:7", &throttle_account, t, NULL);
	count_fail(f, "login:2fa:sms:7", &throttle_factor, t, NULL);
	count_fail(f, "login:pair:acct:7:10.0.0.9", &throttle_pair, t, NULL);
	count_fail(f, "login:pair:acct:77:10.0.0.9", &throttle_pair, t, NULL);
	count_fail(f, "login:acct:acct:70", &throttle_account, t, NULL);
	assert_int_equal(throttle_clear_account(f->t.db, 7), 0);
	assert_int_equal(count_of(f, "login:acct:acct:7", t), 0);
	assert_int_equal(count_of(f, "login:2fa:sms:7", t), 0);
	assert_int_equal(count_of(f, "login:pair:acct:7:10.0.0.9", t), 0);
	assert_int_equal(count_of(f, "login:pair:acct:77:10.0.0.9", t), 1);
	assert_int_equal(count_of(f, "login:acct:acct:70", t), 1);
	assert_int_equal(throttle_clear_account(f->t.db, 7), GH_ENOTFOUND);
}

/* Addresses a log-in succeeded from are good for GOOD_ADDRESS_DAYS. */
static void test_good_address(void **state)
{
	struct fx *f = *state;
	SKIP_IF_NEEDED(f);
	int64_t t = 1700000000;
	bool good = true;
	assert_int_equal(throttle_is_good(f->t.db, "10.1.1.1", t, &good), 0);
	assert_false(good);
	throttle_good_address(f->t.db, "10.1.1.1", t);
	assert_int_equal(throttle_is_good(f->t.db, "10.1.1.1", t + GOOD_ADDRESS_DAYS * 86400, &good), 0);
	assert_true(good);
	assert_int_equal(throttle_is_good(f->t.db, "10.1.1.1", t + GOOD_ADDRESS_DAYS * 86400 + 1, &good), 0);
	assert_false(good);
	assert_int_equal(throttle_is_good(f->t.db, "10.1.1.2", t, &good), 0);
	assert_false(good);
	throttle_good_address(f->t.db, "10.1.1.1", t + 40 * 86400); /* renewed */
	assert_int_equal(throttle_is_good(f->t.db, "10.1.1.1", t + 41 * 86400, &good), 0);
	assert_true(good);
}

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
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_owns),
		cmocka_unit_test_setup_teardown(test_pair, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_ceiling, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_factor, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_clear_account, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_good_address, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_otp_once, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_otp_expiry_and_attempts, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_otp_resend, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_sealed_text, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_pair, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_ceiling, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_factor, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_clear_account, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_good_address, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_otp_once, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_otp_expiry_and_attempts, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_otp_resend, setup_pg, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
