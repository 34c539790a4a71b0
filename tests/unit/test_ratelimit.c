/* Unit tests for src/identity/ratelimit.c: the log-in throttle's rules and its counters in the
 * database, driven with an injected clock, on SQLite and PostgreSQL. The figures asserted here
 * are the ones docs/security.md states. */
#include "identity_fx.h"

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

int main(void)
{
	crypto_global_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules),
		cmocka_unit_test_setup_teardown(test_pair, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_ceiling, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_factor, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_clear_account, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_good_address, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_pair, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_ceiling, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_factor, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_clear_account, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_good_address, setup_pg, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
