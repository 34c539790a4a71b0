/* Unit tests for src/notify/notify.c on SQLite and PostgreSQL: queueing (one inbox row, one
 * outbox row per configured channel, no plain phone number in the outbox), and delivery
 * passes against a local HTTP endpoint (an evhttp server in a thread answering 200 or 500 on
 * demand): success, back-off, giving up, signatures, durability across connections, and the
 * PostgreSQL advisory lock. No thread of notify's own and no sleeping: the tests call
 * notify_deliver_due with chosen times. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "base/config.h"
#include "base/err.h"
#include "base/util.h"
#include "notify/notify.h"
#include "identity/crypto.h"
#include "identity/identity.h"
#include "store/db.h"
#include "testdb.h"

#define SECRET "test-secret-0123456789abcdef"
#define PHONE "13800138000"

/* ---- a tiny HTTP endpoint ---- */

struct hit {
	char path[64], sig[128], ts[32], delivery[32];
	char *body;
};

static struct {
	struct event_base *base;
	struct evhttp *http;
	pthread_t thread;
	int port;
	atomic_int status;
	pthread_mutex_t mu;
	pthread_cond_t arrived; /* broadcast on every request */
	struct hit hits[64];
	size_t n;
} srv = { .mu = PTHREAD_MUTEX_INITIALIZER, .arrived = PTHREAD_COND_INITIALIZER };

static void copy_header(struct evkeyvalq *h, const char *name, char *out, size_t len)
{
	const char *v = evhttp_find_header(h, name);
	snprintf(out, len, "%s", v ? v : "");
}

static void on_request(struct evhttp_request *req, void *arg)
{
	(void)arg;
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	char *body = xmalloc(len + 1);
	evbuffer_remove(in, body, len);
	body[len] = 0;
	pthread_mutex_lock(&srv.mu);
	if (srv.n < ARRAY_LEN(srv.hits)) {
		struct hit *h = &srv.hits[srv.n++];
		struct evkeyvalq *hd = evhttp_request_get_input_headers(req);
		snprintf(h->path, sizeof(h->path), "%s", evhttp_request_get_uri(req));
		copy_header(hd, "X-Govhall-Signature", h->sig, sizeof(h->sig));
		copy_header(hd, "X-Govhall-Timestamp", h->ts, sizeof(h->ts));
		copy_header(hd, "X-Govhall-Delivery", h->delivery, sizeof(h->delivery));
		h->body = body;
	} else
		free(body);
	pthread_cond_broadcast(&srv.arrived);
	pthread_mutex_unlock(&srv.mu);
	int status = atomic_load(&srv.status);
	evhttp_send_reply(req, status, status == 200 ? "OK" : "Internal Server Error", NULL);
}

static void *serve(void *arg)
{
	(void)arg;
	event_base_dispatch(srv.base);
	return NULL;
}

static void server_start(void)
{
	atomic_store(&srv.status, 200);
	srv.base = event_base_new();
	srv.http = evhttp_new(srv.base);
	evhttp_set_gencb(srv.http, on_request, NULL);
	struct evhttp_bound_socket *s = evhttp_bind_socket_with_handle(srv.http, "127.0.0.1", 0);
	if (!s)
		fail_msg("cannot bind the test endpoint");
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	getsockname(evhttp_bound_socket_get_fd(s), (struct sockaddr *)&sin, &sl);
	srv.port = ntohs(sin.sin_port);
	pthread_create(&srv.thread, NULL, serve, NULL);
}

static void hits_clear(void)
{
	pthread_mutex_lock(&srv.mu);
	for (size_t i = 0; i < srv.n; i++)
		free(srv.hits[i].body);
	srv.n = 0;
	pthread_mutex_unlock(&srv.mu);
}

static size_t hits_n(void)
{
	pthread_mutex_lock(&srv.mu);
	size_t n = srv.n;
	pthread_mutex_unlock(&srv.mu);
	return n;
}

/* Waits until the endpoint has had at least n requests (a condition, not a time), giving up
 * after a minute so that a delivery that never comes fails the test instead of hanging it.
 * Returns the number of requests. */
static size_t hits_wait(size_t n)
{
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 60;
	pthread_mutex_lock(&srv.mu);
	while (srv.n < n && pthread_cond_timedwait(&srv.arrived, &srv.mu, &deadline) == 0)
		;
	size_t got = srv.n;
	pthread_mutex_unlock(&srv.mu);
	return got;
}

static void server_stop(void)
{
	event_base_loopbreak(srv.base);
	pthread_join(srv.thread, NULL);
	evhttp_free(srv.http);
	event_base_free(srv.base);
	hits_clear();
}

/* ---- fixture ---- */

struct fx {
	struct testdb t;
	struct arena *a;
	struct app app;
	char keydir[64], keypath[128];
	int64_t citizen, enterprise, application;
	bool skip;
};

DB_SQL(q_dept, "INSERT INTO departments (code, name_zh, name_en) VALUES ('psb', '公安局', 'Police')");
DB_SQL(q_item, "INSERT INTO service_items (code, version, department, audience, theme, item_type, level, name_zh, "
	       "name_en, legal_limit_days, promised_limit_days, fee_yuan, online_depth, visits_required, materials, "
	       "form, keywords_zh, content_hash, created_at) VALUES ('psb-0001', 1, 'psb', 'individual', 'household', "
	       "'licensing', 'city', '事项', 'Item', 20, 10, 0, 4, 0, '[]', '[]', '[]', 'h', '2026-01-01')");
DB_SQL(q_acct, "INSERT INTO accounts (kind, name, phone_enc, password_hash, key_id, created_at, password_changed_at) "
	       "VALUES (?, ?, ?, 'x', 1, 0, 0) RETURNING id");
DB_SQL(q_app, "INSERT INTO applications (number, item_code, item_version, department, applicant_id, channel, state, "
	      "form, materials, limit_days, legal_limit_days, created_at, updated_at) VALUES ('QH20260301000001', "
	      "'psb-0001', 1, 'psb', ?, 'web', 'submitted', '{}', '[]', 10, 20, 0, 0) RETURNING id");
DB_SQL(q_inbox, "SELECT account_id, application_id, kind, title_zh, title_en, body_zh, body_en, read_at FROM inbox "
		"ORDER BY id");
DB_SQL(q_outbox, "SELECT id, channel, account_id, payload, attempts, next_at, sent_at, last_error FROM outbox "
		 "ORDER BY id");
DB_SQL(q_set_attempts, "UPDATE outbox SET attempts = ?");
DB_SQL(q_pg_lock, "SELECT pg_advisory_lock(4711020401)");
DB_SQL(q_pg_unlock, "SELECT pg_advisory_unlock(4711020401)");

static void configure(struct fx *f, const char *webhook, const char *sms)
{
	char err[256];
	assert_int_equal(config_set(&f->app.cfg, "notify-webhook-url", webhook, err, sizeof(err)), 0);
	assert_int_equal(config_set(&f->app.cfg, "notify-sms-url", sms, err, sizeof(err)), 0);
	notify_configure(&f->app.cfg);
}

static char *url(const char *path)
{
	static char buf[2][128];
	static int k;
	k ^= 1;
	snprintf(buf[k], sizeof(buf[k]), "http://127.0.0.1:%d%s", srv.port, path);
	return buf[k];
}

static int setup(void **state, enum db_kind kind)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	*state = f;
	int rc = testdb_open(&f->t, kind, "notify");
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
	f->a = arena_new(4096);
	snprintf(f->keydir, sizeof(f->keydir), "/tmp/govhall-notify-key-XXXXXX");
	if (!mkdtemp(f->keydir))
		return -1;
	snprintf(f->keypath, sizeof(f->keypath), "%s/govhall.key", f->keydir);
	if (keyring_create(f->keypath, err, sizeof(err)) || keyring_load(f->keypath, &f->app.keys, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	config_defaults(&f->app.cfg);
	if (config_set(&f->app.cfg, "db", f->t.url, err, sizeof(err)) ||
	    config_set(&f->app.cfg, "notify-webhook-secret", SECRET, err, sizeof(err)))
		return -1;
	unsigned char *enc;
	size_t enc_len;
	crypto_seal(f->app.keys, f->a, "phone", PHONE, strlen(PHONE), &enc, &enc_len);
	struct db_rows rows;
	if (db_exec(f->t.db, &q_dept, DB_NOARGS, NULL) || db_exec(f->t.db, &q_item, DB_NOARGS, NULL) ||
	    db_query(f->t.db, f->a, &q_acct, DB_ARGS(DB_TEXT("individual"), DB_TEXT("张三"), DB_BLOB(enc, enc_len)),
		     &rows))
		return -1;
	f->citizen = db_cell_int(&rows, 0, 0);
	if (db_query(f->t.db, f->a, &q_acct, DB_ARGS(DB_TEXT("enterprise"), DB_TEXT("清河公司"), DB_NULL), &rows))
		return -1;
	f->enterprise = db_cell_int(&rows, 0, 0);
	if (db_query(f->t.db, f->a, &q_app, DB_ARGS(DB_INT(f->citizen)), &rows))
		return -1;
	f->application = db_cell_int(&rows, 0, 0);
	hits_clear();
	atomic_store(&srv.status, 200);
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
	if (f->a)
		arena_free(f->a);
	if (f->app.keys)
		keyring_free(f->app.keys);
	if (f->keypath[0]) {
		unlink(f->keypath);
		rmdir(f->keydir);
	}
	config_release(&f->app.cfg);
	struct config none = { 0 };
	notify_configure(&none);
	free(f);
	return 0;
}

#define SKIP_IF_NEEDED(f)                 \
	do {                              \
		if ((f)->skip) {          \
			skip();           \
			return;           \
		}                         \
	} while (0)

static void event(struct fx *f, int64_t account, const char *kind, const char *reason)
{
	assert_int_equal(notify_application_event(f->t.db, f->a, account, f->application, "QH20260301000001", kind,
						  "居民身份证申领", "Resident ID card", "不予受理", "Not accepted", reason),
			 0);
}

static struct db_rows outbox(struct fx *f)
{
	struct db_rows rows;
	assert_int_equal(db_query(f->t.db, f->a, &q_outbox, DB_NOARGS, &rows), 0);
	return rows;
}

/* ---- tests ---- */

static void test_queue(void **state)
{
	struct fx *f = *state;
	SKIP_IF_NEEDED(f);
	/* Nothing configured: the inbox only. */
	event(f, f->citizen, "accept", NULL);
	struct db_rows rows = outbox(f);
	assert_int_equal(rows.nrows, 0);
	/* Both channels, inside the caller's transaction. */
	configure(f, "http://127.0.0.1:9/hook", "http://127.0.0.1:9/sms");
	assert_int_equal(db_begin(f->t.db), 0);
	event(f, f->citizen, "refuse", "材料不齐全");
	assert_int_equal(db_commit(f->t.db), 0);
	assert_int_equal(db_query(f->t.db, f->a, &q_inbox, DB_NOARGS, &rows), 0);
	assert_int_equal(rows.nrows, 2);
	assert_int_equal(db_cell_int(&rows, 1, 0), f->citizen);
	assert_int_equal(db_cell_int(&rows, 1, 1), f->application);
	assert_string_equal(db_cell(&rows, 1, 2), "refuse");
	assert_string_equal(db_cell(&rows, 1, 3), "办件不予受理");
	assert_non_null(strstr(db_cell(&rows, 1, 5), "您的办件 QH20260301000001（居民身份证申领）不予受理。"));
	assert_non_null(strstr(db_cell(&rows, 1, 5), "理由：材料不齐全"));
	assert_non_null(strstr(db_cell(&rows, 1, 6), "Your application QH20260301000001 (Resident ID card)"));
	assert_non_null(strstr(db_cell(&rows, 1, 6), "Reason: 材料不齐全"));
	assert_null(db_cell(&rows, 1, 7));
	assert_non_null(strstr(db_cell(&rows, 0, 5), "已受理"));

	rows = outbox(f);
	assert_int_equal(rows.nrows, 2);
	assert_string_equal(db_cell(&rows, 0, 1), "webhook");
	assert_string_equal(db_cell(&rows, 1, 1), "sms");
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(db_cell_int(&rows, i, 2), f->citizen);
		assert_int_equal(db_cell_int(&rows, i, 4), 0);
		assert_null(db_cell(&rows, i, 6));
		const char *p = db_cell(&rows, i, 3);
		assert_null(strstr(p, PHONE)); /* no plain personal data */
		json_t *j = json_loads(p, 0, NULL);
		assert_non_null(j);
		assert_int_equal(json_integer_value(json_object_get(j, "to")), f->citizen);
		assert_string_equal(json_string_value(json_object_get(j, "number")), "QH20260301000001");
		assert_string_equal(json_string_value(json_object_get(j, "kind")), "refuse");
		assert_non_null(json_string_value(json_object_get(j, "body_en")));
		json_decref(j);
	}

	/* No phone number: no SMS row. A kind without its own text uses the state name. */
	event(f, f->enterprise, "reopen", NULL);
	rows = outbox(f);
	assert_int_equal(rows.nrows, 3);
	assert_string_equal(db_cell(&rows, 2, 1), "webhook");
	assert_int_equal(db_query(f->t.db, f->a, &q_inbox, DB_NOARGS, &rows), 0);
	assert_non_null(strstr(db_cell(&rows, 2, 5), "当前状态：不予受理"));

	long unread;
	assert_int_equal(notify_unread_count(f->t.db, f->a, f->citizen, &unread), 0);
	assert_int_equal(unread, 2);
	assert_int_equal(notify_unread_count(f->t.db, f->a, f->enterprise, &unread), 0);
	assert_int_equal(unread, 1);
}

static void verify_signature(const struct hit *h)
{
	crypto_auth_hmacsha256_state st;
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	char hex[65], want[80];
	crypto_auth_hmacsha256_init(&st, (const unsigned char *)SECRET, strlen(SECRET));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)h->body, strlen(h->body));
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
	snprintf(want, sizeof(want), "sha256=%s", hex);
	assert_string_equal(h->sig, want);
	assert_true(h->ts[0] != 0);
	assert_true(h->delivery[0] != 0);
}

static void test_deliver(void **state)
{
	struct fx *f = *state;
	SKIP_IF_NEEDED(f);
	configure(f, url("/hook"), url("/sms"));
	event(f, f->citizen, "deny", "不符合法定条件");
	int64_t now = (int64_t)time(NULL) + 5;
	int sent = -1;

	/* The endpoint fails: both rows are rescheduled 30 s later. */
	atomic_store(&srv.status, 500);
	assert_int_equal(notify_deliver_due(&f->app, f->t.db, now, &sent), 0);
	assert_int_equal(sent, 0);
	assert_int_equal(hits_n(), 2);
	struct db_rows rows = outbox(f);
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(db_cell_int(&rows, i, 4), 1);
		assert_int_equal(db_cell_int(&rows, i, 5), now + 30);
		assert_null(db_cell(&rows, i, 6));
		assert_string_equal(db_cell(&rows, i, 7), "HTTP 500");
	}
	/* Not due yet: nothing is tried. */
	assert_int_equal(notify_deliver_due(&f->app, f->t.db, now + 29, &sent), 0);
	assert_int_equal(hits_n(), 2);
	/* Second failure: twice the wait. */
	assert_int_equal(notify_deliver_due(&f->app, f->t.db, now + 30, &sent), 0);
	rows = outbox(f);
	assert_int_equal(db_cell_int(&rows, 0, 4), 2);
	assert_int_equal(db_cell_int(&rows, 0, 5), now + 30 + 60);
	hits_clear();

	/* The endpoint recovers: both delivered, signed. */
	atomic_store(&srv.status, 200);
	assert_int_equal(notify_deliver_due(&f->app, f->t.db, now + 90, &sent), 0);
	assert_int_equal(sent, 2);
	rows = outbox(f);
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(db_cell_int(&rows, i, 6), now + 90);
		assert_int_equal(db_cell_int(&rows, i, 4), 3);
		assert_null(db_cell(&rows, i, 7));
	}
	assert_int_equal(hits_n(), 2);
	bool saw_hook = false, saw_sms = false;
	for (size_t i = 0; i < 2; i++) {
		const struct hit *h = &srv.hits[i];
		verify_signature(h);
		json_t *j = json_loads(h->body, 0, NULL);
		assert_non_null(j);
		char ts[32];
		snprintf(ts, sizeof(ts), "%lld", (long long)json_integer_value(json_object_get(j, "timestamp")));
		assert_string_equal(ts, h->ts);
		if (strcmp(h->path, "/hook") == 0) {
			saw_hook = true;
			assert_string_equal(json_string_value(json_object_get(j, "number")), "QH20260301000001");
			assert_int_equal(json_integer_value(json_object_get(j, "to")), f->citizen);
			assert_null(strstr(h->body, PHONE));
			assert_non_null(strstr(json_string_value(json_object_get(j, "body_zh")), "不符合法定条件"));
		} else {
			assert_string_equal(h->path, "/sms");
			saw_sms = true;
			assert_string_equal(json_string_value(json_object_get(j, "phone")), PHONE);
			assert_non_null(strstr(json_string_value(json_object_get(j, "text")), "不予许可"));
		}
		json_decref(j);
	}
	assert_true(saw_hook && saw_sms);
	/* Delivered rows are not sent again. */
	hits_clear();
	assert_int_equal(notify_deliver_due(&f->app, f->t.db, now + 100000, &sent), 0);
	assert_int_equal(sent, 0);
	assert_int_equal(hits_n(), 0);
}

static void test_give_up(void **state)
{
	struct fx *f = *state;
	SKIP_IF_NEEDED(f);
	configure(f, url("/hook"), "");
	event(f, f->citizen, "approve", NULL);
	assert_int_equal(db_exec(f->t.db, &q_set_attempts, DB_ARGS(DB_INT(NOTIFY_MAX_ATTEMPTS - 1)), NULL), 0);
	int64_t now = (int64_t)time(NULL) + 5;
	int sent;
	atomic_store(&srv.status, 500);
	assert_int_equal(notify_deliver_due(&f->app, f->t.db, now, &sent), 0);
	struct db_rows rows = outbox(f);
	assert_int_equal(rows.nrows, 1);
	assert_int_equal(db_cell_int(&rows, 0, 4), NOTIFY_MAX_ATTEMPTS);
	assert_true(db_cell_int(&rows, 0, 5) > now + 100L * 365 * 86400);
	assert_null(db_cell(&rows, 0, 6));
	/* Kept, but never tried again. */
	hits_clear();
	atomic_store(&srv.status, 200);
	assert_int_equal(notify_deliver_due(&f->app, f->t.db, INT64_C(300000000000), &sent), 0);
	assert_int_equal(hits_n(), 0);

	/* A receiver that is not there: the error names no secret. */
	configure(f, "http://127.0.0.1:1/hook", "");
	event(f, f->citizen, "complete", NULL);
	assert_int_equal(notify_deliver_due(&f->app, f->t.db, now, &sent), 0);
	assert_int_equal(sent, 0);
	rows = outbox(f);
	assert_int_equal(rows.nrows, 2);
	assert_int_equal(db_cell_int(&rows, 1, 4), 1);
	assert_non_null(db_cell(&rows, 1, 7));
	assert_null(strstr(db_cell(&rows, 1, 7), SECRET));
	assert_int_equal(db_cell_int(&rows, 1, 5), now + 30);
}

static void test_durable(void **state)
{
	struct fx *f = *state;
	SKIP_IF_NEEDED(f);
	configure(f, url("/hook"), url("/sms"));
	assert_int_equal(db_begin(f->t.db), 0);
	event(f, f->citizen, "request_supplement", "缺少户口簿复印件");
	assert_int_equal(db_commit(f->t.db), 0);
	/* The server stops before delivering; a new process (connection) finds the rows. */
	db_close(f->t.db);
	f->t.db = NULL;
	char err[256];
	assert_int_equal(db_open(f->t.url, &f->t.db, err, sizeof(err)), 0);
	int sent;
	assert_int_equal(notify_deliver_due(&f->app, f->t.db, (int64_t)time(NULL) + 1, &sent), 0);
	assert_int_equal(sent, 2);
	assert_int_equal(hits_n(), 2);
	/* Channels turned off later: rows of other channels wait, untouched. */
	configure(f, url("/hook"), "");
	event(f, f->citizen, "resubmit", NULL);
	configure(f, "", url("/sms"));
	hits_clear();
	assert_int_equal(notify_deliver_due(&f->app, f->t.db, (int64_t)time(NULL) + 1, &sent), 0);
	assert_int_equal(sent, 0);
	struct db_rows rows = outbox(f);
	assert_int_equal(rows.nrows, 3);
	assert_int_equal(db_cell_int(&rows, 2, 4), 0);
}

static void test_pg_lock(void **state)
{
	struct fx *f = *state;
	SKIP_IF_NEEDED(f);
	configure(f, url("/hook"), "");
	event(f, f->citizen, "accept", NULL);
	/* Another node holds the lock: this one does not deliver. */
	struct db *other;
	char err[256];
	assert_int_equal(db_open(f->t.url, &other, err, sizeof(err)), 0);
	struct db_rows rows;
	assert_int_equal(db_query(other, f->a, &q_pg_lock, DB_NOARGS, &rows), 0);
	int sent = -1;
	assert_int_equal(notify_deliver_due(&f->app, f->t.db, (int64_t)time(NULL) + 1, &sent), 0);
	assert_int_equal(sent, 0);
	assert_int_equal(hits_n(), 0);
	assert_int_equal(db_query(other, f->a, &q_pg_unlock, DB_NOARGS, &rows), 0);
	/* Released: this one delivers, and releases the lock after its pass. */
	assert_int_equal(notify_deliver_due(&f->app, f->t.db, (int64_t)time(NULL) + 1, &sent), 0);
	assert_int_equal(sent, 1);
	assert_int_equal(db_query(other, f->a, &q_pg_lock, DB_NOARGS, &rows), 0);
	db_close(other);
}

/* The thread: started, nudged (the test waits for the delivery to arrive), stopped: one delivery. */
static void test_thread(void **state)
{
	struct fx *f = *state;
	SKIP_IF_NEEDED(f);
	char err[256];
	configure(f, url("/hook"), "");
	/* The duties thread's connection (the warnings duty runs there), as serve opens it. */
	assert_int_equal(db_open(f->t.url, &f->app.duty_db, err, sizeof(err)), 0);
	assert_int_equal(notify_start(&f->app, err, sizeof(err)), 0);
	event(f, f->citizen, "start_review", NULL);
	notify_nudge();
	assert_int_equal(hits_wait(1), 1);
	notify_stop();
	db_close(f->app.duty_db);
	f->app.duty_db = NULL;
	assert_int_equal(hits_n(), 1);
	/* Bad settings are refused. */
	assert_int_equal(config_set(&f->app.cfg, "notify-webhook-secret", "", err, sizeof(err)), 0);
	assert_int_equal(notify_start(&f->app, err, sizeof(err)), GH_EINVAL);
	assert_non_null(strstr(err, "notify-webhook-secret"));
}

int main(void)
{
	evthread_use_pthreads();
	crypto_global_init();
	server_start();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_queue, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_deliver, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_give_up, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_durable, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_thread, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_queue, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_deliver, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_give_up, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_durable, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_pg_lock, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_thread, setup_pg, teardown),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	server_stop();
	return rc;
}
