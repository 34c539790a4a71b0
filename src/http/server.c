/* server.c: libevent evhttp glue. Everything libevent-specific lives here; handlers see only
 * struct req (http.h). */
#include "http/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "base/jobs.h"
#include "base/log.h"
#include "base/util.h"
#include "http/cache.h"
#include "http/metrics.h"
#include "http/multipart.h"
#include "http/router.h"
#include "store/db.h"
#include "store/group.h"
#include "view/view.h"

#define GRACE_SECONDS 10
#define MAX_QUERY_PAIRS 64
#define MAX_COOKIES 32

struct worker {
	int index;
	struct app *app;
	struct event_base *base;
	struct evhttp *http;
	struct evhttp_bound_socket *bound;
	struct db *db;
	struct arena *spare; /* reused by synchronous requests */
	struct cache *cache; /* responses of routes that declare a generation */
	struct gen_memo {
		int (*fn)(struct req *, uint64_t *);
		uint64_t gen, checked_ns;
	} gens[8]; /* last generation seen per generation function */
	struct worker_local {
		void *(*make)(void);
		void (*release)(void *);
		void *p;
	} locals[8]; /* domains' per-worker state (req_worker_local) */
	pthread_t thread;
	int fd;
	long conns;
	long inflight;
	bool stopping;
	struct event *stop_ev, *drain_ev;
	time_t stop_deadline;
	/* connections seen, for the connection limit (open addressing over pointers) */
	void **conn_set;
	size_t conn_cap;
};

struct deferred {
	struct req *r;
	int (*done)(struct req *, void *);
	void *arg;
};

static _Atomic uint64_t request_seq;
static _Atomic uint64_t cache_hits, cache_misses;
static uint64_t boot_id;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static struct evhttp_request *ev_of(const struct req *r)
{
	return r->_ev;
}

/* ---- connection tracking ---- */

static size_t conn_slot(struct worker *w, void *c)
{
	uintptr_t h = (uintptr_t)c;
	h ^= h >> 17;
	h *= 0x9E3779B97F4A7C15ull;
	return (size_t)(h >> 20) & (w->conn_cap - 1);
}

static bool conn_has(struct worker *w, void *c)
{
	for (size_t i = conn_slot(w, c);; i = (i + 1) & (w->conn_cap - 1)) {
		if (w->conn_set[i] == c)
			return true;
		if (!w->conn_set[i])
			return false;
	}
}

static void conn_rehash(struct worker *w, size_t cap);

static void conn_add(struct worker *w, void *c)
{
	if ((size_t)(w->conns + 1) * 2 > w->conn_cap)
		conn_rehash(w, w->conn_cap * 2);
	size_t i = conn_slot(w, c);
	while (w->conn_set[i])
		i = (i + 1) & (w->conn_cap - 1);
	w->conn_set[i] = c;
	w->conns++;
}

static void conn_del(struct worker *w, void *c)
{
	size_t i = conn_slot(w, c);
	while (w->conn_set[i] != c) {
		if (!w->conn_set[i])
			return;
		i = (i + 1) & (w->conn_cap - 1);
	}
	w->conn_set[i] = NULL;
	w->conns--;
	/* Re-insert the rest of the cluster (linear probing deletion). */
	for (i = (i + 1) & (w->conn_cap - 1); w->conn_set[i]; i = (i + 1) & (w->conn_cap - 1)) {
		void *x = w->conn_set[i];
		w->conn_set[i] = NULL;
		w->conns--;
		conn_add(w, x);
	}
}

static void conn_rehash(struct worker *w, size_t cap)
{
	void **old = w->conn_set;
	size_t oldcap = w->conn_cap;
	w->conn_set = xcalloc(cap, sizeof(void *));
	w->conn_cap = cap;
	w->conns = 0;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i])
			conn_add(w, old[i]);
	free(old);
}

static void on_conn_close(struct evhttp_connection *evcon, void *p)
{
	struct worker *w = p;
	conn_del(w, evcon);
	metrics_conn(w->app->metrics, -1);
	if (w->bound && !w->stopping && w->conns < w->app->cfg.max_conns)
		evconnlistener_enable(evhttp_bound_socket_get_listener(w->bound));
}

/* ---- request accessors ---- */

const char *req_param(const struct req *r, const char *name)
{
	return kv_get(&r->params, name);
}

const char *req_query(const struct req *r, const char *name)
{
	return kv_get(&r->query, name);
}

const char *req_cookie(const struct req *r, const char *name)
{
	return kv_get(&r->cookies, name);
}

const char *req_header(const struct req *r, const char *name)
{
	return evhttp_find_header(evhttp_request_get_input_headers(ev_of(r)), name);
}

void req_error_detail(struct req *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	r->error_detail = arena_vprintf(r->arena, fmt, ap);
	va_end(ap);
}

int req_query_long(struct req *r, const char *name, long def, long min, long max, long *out)
{
	const char *v = req_query(r, name);
	if (!v || !*v) {
		*out = def;
		return 0;
	}
	if (str_to_long(str_c(v), min, max, out)) {
		if (strcmp(r->lang, "en") == 0)
			req_error_detail(r, "Parameter '%s' must be a whole number from %ld to %ld.", name, min, max);
		else
			req_error_detail(r, "参数 %s 应为 %ld 到 %ld 之间的整数。", name, min, max);
		return GH_EINVAL;
	}
	return 0;
}

const char *req_body(struct req *r, size_t *len)
{
	if (!r->_body) {
		struct evbuffer *in = evhttp_request_get_input_buffer(ev_of(r));
		size_t n = evbuffer_get_length(in);
		char *p = arena_alloc(r->arena, n + 1);
		evbuffer_copyout(in, p, n);
		p[n] = 0;
		r->_body = p;
		r->_body_len = n;
	}
	if (len)
		*len = r->_body_len;
	return r->_body;
}

int req_multipart(struct req *r, const struct multipart **out, const char **why)
{
	if (!r->_mp) {
		r->_mp = arena_zalloc(r->arena, sizeof(*r->_mp));
		const char *boundary;
		r->_mp_rc = multipart_boundary(r->arena, req_header(r, "Content-Type"), &boundary);
		if (!r->_mp_rc) {
			size_t len;
			const char *body = req_body(r, &len);
			r->_mp_rc = multipart_parse(r->arena, body, len, boundary, r->_mp, &r->_mp_why);
		}
	}
	if (why)
		*why = r->_mp_why;
	*out = r->_mp;
	return r->_mp_rc;
}

int req_form(struct req *r, struct kvlist *out)
{
	const char *ct = req_header(r, "Content-Type");
	if (!ct || strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0)
		return GH_EUNSUPPORTED;
	size_t n;
	const char *b = req_body(r, &n);
	int rc = form_decode(r->arena, b, n, 256, out);
	if (rc == GH_EINVAL)
		req_error_detail(r, strcmp(r->lang, "en") == 0 ? "The form data is not valid UTF-8 or is malformed."
							      : "表单数据格式有误。");
	return rc;
}

/* ---- responses ---- */

void resp_header(struct req *r, const char *name, const char *value)
{
	evhttp_add_header(evhttp_request_get_output_headers(ev_of(r)), name, value);
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 503: return "Service Unavailable";
	default: return status >= 500 ? "Internal Server Error" : "OK";
	}
}

static void security_headers(struct evkeyvalq *h)
{
	evhttp_add_header(h, "Content-Security-Policy",
			  "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
			  "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	/* A page may ask for less (no-referrer on pages whose address carries a code). */
	if (!evhttp_find_header(h, "Referrer-Policy"))
		evhttp_add_header(h, "Referrer-Policy", "strict-origin-when-cross-origin");
	evhttp_add_header(h, "X-Frame-Options", "DENY");
}

int resp_body(struct req *r, int status, const char *content_type, const char *body, size_t len)
{
	struct evhttp_request *ev = ev_of(r);
	struct evkeyvalq *h = evhttp_request_get_output_headers(ev);
	if (content_type)
		evhttp_add_header(h, "Content-Type", content_type);
	struct evbuffer *out = evhttp_request_get_output_buffer(ev);
	if (len)
		evbuffer_add(out, body, len);
	r->status = status;
	r->responded = true;
	return 0;
}

static void free_json(void *p)
{
	json_decref(p);
}

int resp_json(struct req *r, int status, json_t *j)
{
	if (!j)
		return GH_EINTERNAL;
	arena_cleanup(r->arena, free_json, j);
	char *s = json_dumps(j, JSON_COMPACT);
	if (!s)
		return GH_EINTERNAL;
	arena_cleanup(r->arena, free, s);
	return resp_body(r, status, "application/json; charset=utf-8", s, strlen(s));
}

int resp_html(struct req *r, int status, struct sb *html)
{
	resp_body(r, status, "text/html; charset=utf-8", html->buf, html->len);
	sb_release(html);
	return 0;
}

/* The address of this page in the other language: path and query kept, lang flipped. */
static const char *other_lang_href(struct req *r)
{
	struct sb sb = SB_INIT;
	for (const char *p = r->path; *p; p++) {
		/* The path was decoded: encode what is not plain again, keeping the slashes. */
		unsigned char c = (unsigned char)*p;
		if (c == '/' || c == '-' || c == '_' || c == '.' || c == '~' || (c >= '0' && c <= '9') ||
		    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
			sb_addch(&sb, (char)c);
		else
			sb_add_urlenc(&sb, p, 1);
	}
	char sep = '?';
	for (size_t i = 0; i < r->query.n; i++) {
		if (strcmp(r->query.v[i].key, "lang") == 0)
			continue;
		sb_addch(&sb, sep);
		sep = '&';
		sb_add_urlenc(&sb, r->query.v[i].key, strlen(r->query.v[i].key));
		sb_addch(&sb, '=');
		sb_add_urlenc(&sb, r->query.v[i].val, strlen(r->query.v[i].val));
	}
	sb_addch(&sb, sep);
	sb_adds(&sb, strcmp(r->lang, "en") == 0 ? "lang=zh" : "lang=en");
	char *out = arena_strndup(r->arena, sb.buf, sb.len);
	sb_release(&sb);
	return out;
}

/* What every page may show: the other-language link, and who is logged in (with the CSRF
 * token for the log-out form). Pages of anonymous visitors carry nothing personal, so they
 * can be cached and shared. */
static void page_common(struct req *r, json_t *ctx)
{
	if (!json_object_get(ctx, "lang_href"))
		json_object_set_new(ctx, "lang_href", json_string(other_lang_href(r)));
	if (!r->who.account || json_object_get(ctx, "me"))
		return;
	const char *kind = r->who.kind ? r->who.kind : "";
	json_t *me = json_pack("{s:s?,s:s,s:b,s:b,s:b,s:b,s:b}", "name", r->who.name, "kind", kind,
			       "is_admin", r->role == ROLE_ADMIN, "is_staff", r->role == ROLE_STAFF,
			       "is_enterprise", r->role == ROLE_ENTERPRISE, "is_agent", r->role == ROLE_AGENT,
			       "is_citizen", r->role == ROLE_CITIZEN);
	if (r->app->csrf_token)
		json_object_set_new(me, "csrf", json_string(r->app->csrf_token(r)));
	json_object_set_new(ctx, "me", me);
}

int resp_page(struct req *r, int status, const char *tpl, json_t *ctx)
{
	if (!ctx)
		return GH_EINTERNAL;
	arena_cleanup(r->arena, free_json, ctx);
	page_common(r, ctx);
	struct sb out = SB_INIT;
	int rc = view_render(r->app->view, tpl, r->lang, ctx, &out);
	if (rc) {
		sb_release(&out);
		log_error("template %s failed to render (%s)", tpl, err_name(rc));
		return GH_EINTERNAL;
	}
	return resp_html(r, status, &out);
}

int resp_redirect(struct req *r, int status, const char *location)
{
	resp_header(r, "Location", location);
	return resp_body(r, status, NULL, NULL, 0);
}

int resp_error(struct req *r, int code)
{
	int status = err_status(code);
	const char *msg = err_message(code, r->lang);
	if ((code == GH_EBUSY || code == GH_EUNAVAILABLE) && !evhttp_find_header(evhttp_request_get_output_headers(ev_of(r)), "Retry-After"))
		resp_header(r, "Retry-After", "5");
	if (r->api || !r->app->view) {
		json_t *j = json_pack("{s:{s:s,s:s,s:s*}}", "error", "code", err_slug(code), "message", msg,
				      "detail", r->error_detail);
		return resp_json(r, status, j);
	}
	json_t *ctx = json_pack("{s:i,s:s,s:s*,s:s}", "status", status, "message", msg, "detail",
				r->error_detail, "request_id", r->id);
	if (r->path)
		page_common(r, ctx);
	struct sb out = SB_INIT;
	int rc = view_render(r->app->view, "layout/error", r->lang, ctx, &out);
	json_decref(ctx);
	if (rc) {
		sb_release(&out);
		return resp_body(r, status, "text/plain; charset=utf-8", msg, strlen(msg));
	}
	return resp_html(r, status, &out);
}

/* ---- the request cycle ---- */

static unsigned method_bit(enum evhttp_cmd_type t)
{
	switch (t) {
	case EVHTTP_REQ_GET: return HTTP_GET;
	case EVHTTP_REQ_HEAD: return HTTP_HEAD;
	case EVHTTP_REQ_POST: return HTTP_POST;
	case EVHTTP_REQ_PUT: return HTTP_PUT;
	case EVHTTP_REQ_DELETE: return HTTP_DELETE;
	case EVHTTP_REQ_PATCH: return HTTP_PATCH;
	case EVHTTP_REQ_OPTIONS: return HTTP_OPTIONS;
	default: return 0;
	}
}

static const char *pick_lang(struct req *r)
{
	const char *q = req_query(r, "lang");
	if (q && (strcmp(q, "en") == 0 || strcmp(q, "zh") == 0)) {
		char cookie[64];
		snprintf(cookie, sizeof(cookie), "lang=%s; Path=/; Max-Age=31536000; SameSite=Lax", q);
		resp_header(r, "Set-Cookie", cookie);
		return strcmp(q, "en") == 0 ? "en" : "zh";
	}
	const char *c = req_cookie(r, "lang");
	if (c && strcmp(c, "en") == 0)
		return "en";
	if (c && strcmp(c, "zh") == 0)
		return "zh";
	const char *al = req_header(r, "Accept-Language");
	if (al && strncasecmp(al, "en", 2) == 0)
		return "en";
	return "zh";
}

static void log_request(struct req *r, uint64_t dur_ns, size_t bytes)
{
	if (r->route && (r->route->flags & ROUTE_NOLOG) && r->status < 400)
		return;
	int lvl = r->status >= 500 && r->status != 503 ? LOG_ERROR : LOG_INFO; /* 503: load shed on purpose */
	if (!log_enabled(lvl))
		return;
	static const char *lvls[] = { "debug", "info", "warn", "error" };
	struct sb sb = SB_INIT;
	sb_adds(&sb, "{\"ts\":\"");
	log_add_time(&sb);
	sb_addf(&sb, "\",\"level\":\"%s\",\"req\":\"%s\",\"method\":\"%s\",\"path\":", lvls[lvl], r->id,
		http_method_name(r->method ? r->method : HTTP_GET));
	/* The path only: query strings may carry personal data. */
	const char *path = r->path ? r->path : "?";
	sb_add_json_str(&sb, path, strnlen(path, 256));
	sb_addf(&sb, ",\"route\":\"%s\",\"status\":%d,\"ms\":%.3f,\"bytes\":%zu,\"worker\":%d",
		r->route ? r->route->name : "-", r->status, (double)dur_ns / 1e6, bytes, r->worker->index);
	if (r->who.account)
		sb_addf(&sb, ",\"user\":%lld%s", (long long)r->who.account, r->who.token ? ",\"via\":\"token\"" : "");
	if (r->error_detail && r->status >= 500) {
		sb_adds(&sb, ",\"detail\":");
		sb_add_json_str(&sb, r->error_detail, strlen(r->error_detail));
	}
	sb_addch(&sb, '}');
	log_line(&sb);
	sb_release(&sb);
}

static void on_complete(struct evhttp_request *ev, void *p)
{
	struct worker *w = p;
	(void)ev;
	w->inflight--;
}

static void finish(struct req *r)
{
	struct worker *w = r->worker;
	struct evhttp_request *ev = ev_of(r);
	if (!r->responded) {
		log_error("handler %s returned without a response", r->route ? r->route->name : "-");
		resp_error(r, GH_EINTERNAL);
	}
	struct evkeyvalq *h = evhttp_request_get_output_headers(ev);
	security_headers(h);
	evhttp_add_header(h, "X-Request-Id", r->id);
	if (w->stopping)
		evhttp_add_header(h, "Connection", "close");
	struct evbuffer *out = evhttp_request_get_output_buffer(ev);
	size_t bytes = evbuffer_get_length(out);
	if (r->method == HTTP_HEAD && bytes) {
		/* libevent 2.1 sends a HEAD body if there is one: keep the length, drop the bytes. */
		char len[32];
		snprintf(len, sizeof(len), "%zu", bytes);
		evhttp_remove_header(h, "Content-Length");
		evhttp_add_header(h, "Content-Length", len);
		evbuffer_drain(out, bytes);
	}
	evhttp_request_set_on_complete_cb(ev, on_complete, w);
	evhttp_send_reply(ev, r->status, reason(r->status), NULL);
	uint64_t dur = now_ns() - r->_start_ns;
	metrics_observe(w->app->metrics, router_index(w->app->router, r->route), r->status, dur);
	log_request(r, dur, bytes);
	struct arena *a = r->arena;
	if (!w->spare) {
		arena_reset(a);
		w->spare = a;
	} else {
		arena_free(a);
	}
}

void server_cache_stats(uint64_t *hits, uint64_t *misses)
{
	*hits = atomic_load_explicit(&cache_hits, memory_order_relaxed);
	*misses = atomic_load_explicit(&cache_misses, memory_order_relaxed);
}

static int serve_entry(struct req *r, const struct cache_entry *e)
{
	resp_header(r, "ETag", e->etag);
	resp_header(r, "Cache-Control", "no-cache");
	const char *inm = req_header(r, "If-None-Match");
	if (inm && strcmp(inm, e->etag) == 0)
		return resp_body(r, 304, NULL, NULL, 0);
	return resp_body(r, 200, e->content_type, e->body, e->len);
}

/* The route's data generation, asked of the database at most once per cache-recheck
 * milliseconds per worker (so a page served from the cache costs no query), and always when
 * the recheck interval is 0. */
int req_generation(struct req *r, int (*fn)(struct req *r, uint64_t *gen), uint64_t *gen)
{
	struct worker *w = r->worker;
	uint64_t now = r->_start_ns, ttl = (uint64_t)w->app->cfg.cache_recheck_ms * 1000000u;
	struct gen_memo *m = NULL;
	for (size_t i = 0; i < ARRAY_LEN(w->gens); i++) {
		if (w->gens[i].fn == fn || !w->gens[i].fn) {
			m = &w->gens[i];
			break;
		}
	}
	if (m && m->fn && ttl && now - m->checked_ns < ttl) {
		*gen = m->gen;
		return 0;
	}
	int rc = fn(r, gen);
	if (!rc && m)
		*m = (struct gen_memo){ fn, *gen, now };
	return rc;
}

void *req_worker_local(struct req *r, void *(*make)(void), void (*release)(void *))
{
	struct worker *w = r->worker;
	for (size_t i = 0; i < ARRAY_LEN(w->locals); i++) {
		struct worker_local *l = &w->locals[i];
		if (l->make == make)
			return l->p;
		if (!l->make) {
			*l = (struct worker_local){ make, release, make() };
			return l->p;
		}
	}
	die("server: more than %zu kinds of per-worker state", ARRAY_LEN(w->locals));
}

/* Runs a cacheable route: serves the stored response of this generation, or runs the handler
 * and stores what it produced. */
static int cached(struct req *r, const struct route *route)
{
	uint64_t gen;
	if (req_generation(r, route->cache, &gen))
		return route->fn(r);
	struct sb key = SB_INIT;
	sb_adds(&key, r->lang);
	sb_addch(&key, '\x1f');
	sb_adds(&key, r->path);
	if (r->raw_query) {
		sb_addch(&key, '?');
		sb_adds(&key, r->raw_query);
	}
	struct cache *c = r->worker->cache;
	struct cache_entry e;
	int rc;
	if (cache_get(c, key.buf, key.len, gen, &e) == 0) {
		atomic_fetch_add_explicit(&cache_hits, 1, memory_order_relaxed);
		rc = serve_entry(r, &e);
		goto out;
	}
	atomic_fetch_add_explicit(&cache_misses, 1, memory_order_relaxed);
	rc = route->fn(r);
	if (rc || !r->responded || r->status != 200)
		goto out;
	struct evhttp_request *ev = ev_of(r);
	struct evbuffer *outbuf = evhttp_request_get_output_buffer(ev);
	size_t len = evbuffer_get_length(outbuf);
	const char *body = (const char *)evbuffer_pullup(outbuf, -1);
	const char *ct = evhttp_find_header(evhttp_request_get_output_headers(ev), "Content-Type");
	cache_put(c, key.buf, key.len, gen, body ? body : "", len, ct);
	if (cache_get(c, key.buf, key.len, gen, &e) == 0) {
		resp_header(r, "ETag", e.etag);
		resp_header(r, "Cache-Control", "no-cache");
	}
out:
	sb_release(&key);
	return rc;
}

/* login_path?next=<this page's path and query>, percent-encoded. */
static const char *login_redirect(struct req *r, const char *login_path)
{
	struct sb sb = SB_INIT;
	sb_adds(&sb, login_path);
	sb_adds(&sb, "?next=");
	sb_add_urlenc(&sb, r->path, strlen(r->path));
	if (r->raw_query) {
		sb_add_urlenc(&sb, "?", 1);
		sb_add_urlenc(&sb, r->raw_query, strlen(r->raw_query));
	}
	char *out = arena_strndup(r->arena, sb.buf, sb.len);
	sb_release(&sb);
	return out;
}

static int dispatch(struct req *r, struct evhttp_request *ev)
{
	struct worker *w = r->worker;
	const char *uri = evhttp_request_get_uri(ev);
	if (strlen(uri) > (size_t)w->app->cfg.max_uri)
		return GH_EURITOOLONG;
	r->method = method_bit(evhttp_request_get_command(ev));
	const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(ev);
	const char *rawpath = u ? evhttp_uri_get_path(u) : NULL;
	if (!rawpath || !*rawpath)
		rawpath = "/";
	char *path;
	if (path_decode(r->arena, rawpath, strlen(rawpath), &path)) {
		r->api = strncmp(rawpath, "/api/", 5) == 0;
		req_error_detail(r, "Malformed path / 网址格式有误");
		return GH_EINVAL;
	}
	r->path = path;
	r->api = strncmp(path, "/api/", 5) == 0 || strcmp(path, "/api") == 0;
	r->raw_query = u ? evhttp_uri_get_query(u) : NULL;
	int rc = 0;
	if (r->raw_query)
		rc = form_decode(r->arena, r->raw_query, strlen(r->raw_query), MAX_QUERY_PAIRS, &r->query);
	const char *cookie = req_header(r, "Cookie");
	if (!rc && cookie && cookie_parse(r->arena, cookie, strlen(cookie), MAX_COOKIES, &r->cookies))
		r->cookies.n = 0; /* a broken Cookie header is ignored, not fatal */
	r->lang = pick_lang(r);
	if (rc) {
		req_error_detail(r, strcmp(r->lang, "en") == 0 ? "The query string is malformed."
							      : "查询参数格式有误。");
		return rc == GH_ETOOBIG ? GH_EINVAL : rc;
	}
	if (!r->method)
		return GH_EMETHOD;

	const struct route *route;
	unsigned allowed = 0;
	switch (router_match(w->app->router, r->arena, r->method, path, &route, &r->params, &allowed)) {
	case ROUTER_NOT_FOUND:
		return GH_ENOTFOUND;
	case ROUTER_METHOD: {
		char buf[96];
		resp_header(r, "Allow", http_methods_str(allowed, buf, sizeof(buf)));
		if (r->method == HTTP_OPTIONS)
			return resp_body(r, 204, NULL, NULL, 0);
		return GH_EMETHOD;
	}
	case ROUTER_FOUND:
		break;
	}
	r->route = route;
	const struct app *app = w->app;
	if (app->authenticate && !(route->flags & ROUTE_NOAUTH) && (rc = app->authenticate(r)))
		return rc;
	if (!(route->roles & r->role)) {
		if (r->role != ROLE_ANON)
			return GH_EFORBIDDEN;
		/* A page that needs a log-in: go there and come back. */
		if (!r->api && (r->method & (HTTP_GET | HTTP_HEAD)) && app->login_path && !(route->roles & ROLE_ANON))
			return resp_redirect(r, 303, login_redirect(r, app->login_path));
		return GH_EUNAUTH;
	}
	if (r->who.token && (route->scopes & ~r->who.scopes)) {
		req_error_detail(r, "This token lacks a scope the request needs / 令牌权限不足");
		return GH_EFORBIDDEN;
	}
	if ((route->flags & ROUTE_CSRF) && !(r->method & (HTTP_GET | HTTP_HEAD))) {
		if (!app->csrf_check)
			return GH_ECSRF;
		if ((rc = app->csrf_check(r)))
			return rc;
	}
	/* Pages are shared between visitors only when nobody is logged in. */
	if (route->cache && !r->who.account && (r->method & (HTTP_GET | HTTP_HEAD)))
		return cached(r, route);
	return route->fn(r);
}

/* The client's address: the peer, or behind a trusted proxy the last X-Forwarded-For hop. */
static const char *peer_address(struct req *r, struct evhttp_request *ev, struct evhttp_connection *evcon)
{
	if (r->app->cfg.trust_proxy) {
		const char *xff = evhttp_find_header(evhttp_request_get_input_headers(ev), "X-Forwarded-For");
		if (xff && *xff) {
			const char *last = strrchr(xff, ',');
			last = last ? last + 1 : xff;
			while (*last == ' ')
				last++;
			size_t n = strcspn(last, " ,");
			if (n > 0 && n < 64)
				return arena_strndup(r->arena, last, n);
		}
	}
	char *addr = NULL;
	ev_uint16_t port = 0;
	if (evcon)
		evhttp_connection_get_peer(evcon, &addr, &port);
	return arena_strdup(r->arena, addr ? addr : "-");
}

static void on_request(struct evhttp_request *ev, void *p)
{
	struct worker *w = p;
	uint64_t start = now_ns();
	w->inflight++;

	struct evhttp_connection *evcon = evhttp_request_get_connection(ev);
	bool over = false;
	if (evcon && !conn_has(w, evcon)) {
		conn_add(w, evcon);
		metrics_conn(w->app->metrics, 1);
		evhttp_connection_set_closecb(evcon, on_conn_close, w);
		if (w->conns >= w->app->cfg.max_conns && w->bound)
			evconnlistener_disable(evhttp_bound_socket_get_listener(w->bound));
		over = w->conns > w->app->cfg.max_conns;
	}

	struct arena *a = w->spare ? w->spare : arena_new(8192);
	w->spare = NULL;
	struct req *r = arena_zalloc(a, sizeof(*r));
	r->arena = a;
	r->app = w->app;
	r->db = w->db;
	r->worker = w;
	r->role = ROLE_ANON;
	r->lang = "zh";
	r->status = 500;
	r->_ev = ev;
	r->_start_ns = start;
	r->ip = peer_address(r, ev, evcon);
	snprintf(r->id, sizeof(r->id), "%08llx%08llx", (unsigned long long)(boot_id & 0xffffffffu),
		 (unsigned long long)atomic_fetch_add(&request_seq, 1));

	int rc = over ? GH_EBUSY : dispatch(r, ev);
	if (rc == REQ_DEFERRED)
		return;
	if (rc) {
		if (r->responded) {
			/* A handler that responded and then failed: keep its response. */
		} else {
			if (err_status(rc) >= 500 && rc != GH_EBUSY)
				log_error("request %s failed: %s", r->id, err_name(rc));
			resp_error(r, rc);
		}
	}
	finish(r);
}

/* ---- deferred work ---- */

static void deferred_done(void *p)
{
	struct deferred *d = p;
	struct req *r = d->r;
	int rc = d->done(r, d->arg);
	if (rc && !r->responded)
		resp_error(r, rc);
	finish(r);
}

struct job_thunk {
	struct deferred d;
	void (*work)(void *);
};

static void thunk_work(void *p)
{
	struct job_thunk *t = p;
	t->work(t->d.arg);
}

static void thunk_done(void *p)
{
	struct job_thunk *t = p;
	deferred_done(&t->d);
}

int req_job(struct req *r, void (*work)(void *), int (*done)(struct req *, void *), void *arg)
{
	/* The request arena must outlive this call: it is not returned to the worker's spare
	 * slot, because finish() runs later from thunk_done. */
	struct job_thunk *t = arena_zalloc(r->arena, sizeof(*t));
	t->d.r = r;
	t->d.done = done;
	t->d.arg = arg;
	t->work = work;
	unsigned retry = 0; /* the pool serves client addresses in turn and refuses long waits */
	int rc = jobs_submit_keyed(r->app->jobs, r->worker->base, r->ip, JOBS_NORMAL, thunk_work, thunk_done, t, &retry);
	if (rc == GH_EBUSY)
		resp_header(r, "Retry-After", arena_printf(r->arena, "%u", retry));
	return rc ? rc : REQ_DEFERRED;
}

int req_defer(struct req *r, int (*submit)(void *, struct event_base *, void (*)(void *), void *), void *ctx,
	      int (*done)(struct req *, void *), void *arg)
{
	struct deferred *d = arena_zalloc(r->arena, sizeof(*d));
	d->r = r;
	d->done = done;
	d->arg = arg;
	int rc = submit(ctx, r->worker->base, deferred_done, d);
	return rc ? rc : REQ_DEFERRED;
}

/* ---- workers ---- */

static int listen_socket(const char *host, const char *port, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res;
	int e = getaddrinfo(*host ? host : NULL, port, &hints, &res);
	if (e) {
		snprintf(err, errlen, "cannot resolve %s: %s", host, gai_strerror(e));
		return -1;
	}
	int fd = socket(res->ai_family, res->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) ||
	    bind(fd, res->ai_addr, res->ai_addrlen) || listen(fd, 1024)) {
		snprintf(err, errlen, "cannot listen on %s:%s: %s", host, port, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(res);
		return -1;
	}
	freeaddrinfo(res);
	return fd;
}

static void on_drain(evutil_socket_t fd, short what, void *p)
{
	struct worker *w = p;
	(void)fd, (void)what;
	if (w->inflight <= 0 || time(NULL) >= w->stop_deadline)
		event_base_loopbreak(w->base);
}

static void on_stop(evutil_socket_t fd, short what, void *p)
{
	struct worker *w = p;
	(void)fd, (void)what;
	w->stopping = true;
	if (w->bound) {
		evhttp_del_accept_socket(w->http, w->bound);
		w->bound = NULL;
	}
	w->stop_deadline = time(NULL) + GRACE_SECONDS;
	struct timeval tv = { 0, 20000 };
	w->drain_ev = event_new(w->base, -1, EV_PERSIST, on_drain, w);
	event_add(w->drain_ev, &tv);
}

static void *worker_main(void *p)
{
	struct worker *w = p;
	event_base_dispatch(w->base);
	return NULL;
}

static int worker_init(struct worker *w, struct app *app, int index, int fd, char *err, size_t errlen)
{
	w->index = index;
	w->app = app;
	w->fd = fd;
	w->conn_cap = 64;
	w->conn_set = xcalloc(w->conn_cap, sizeof(void *));
	w->cache = cache_new(1024, 64u << 20);
	w->base = event_base_new();
	w->http = evhttp_new(w->base);
	if (!w->base || !w->http)
		die("libevent: cannot create event base");
	evhttp_set_max_headers_size(w->http, app->cfg.max_headers);
	evhttp_set_max_body_size(w->http, app->cfg.max_body);
	evhttp_set_timeout(w->http, (int)app->cfg.idle_timeout);
	evhttp_set_allowed_methods(w->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
						    EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_PATCH |
						    EVHTTP_REQ_OPTIONS);
	evhttp_set_default_content_type(w->http, "text/plain; charset=utf-8");
	evhttp_set_gencb(w->http, on_request, w);
	w->bound = evhttp_accept_socket_with_handle(w->http, fd);
	if (!w->bound) {
		snprintf(err, errlen, "cannot accept on socket");
		return GH_EUNAVAILABLE;
	}
	int rc = db_open_named(app->cfg.db, "govhall worker", &w->db, err, errlen);
	if (rc)
		return rc;
	w->stop_ev = event_new(w->base, -1, 0, on_stop, w);
	return 0;
}

static void worker_release(struct worker *w)
{
	if (w->drain_ev)
		event_free(w->drain_ev);
	if (w->stop_ev)
		event_free(w->stop_ev);
	if (w->http)
		evhttp_free(w->http);
	if (w->base)
		event_base_free(w->base);
	if (w->db)
		db_close(w->db);
	arena_free(w->spare);
	cache_free(w->cache);
	for (size_t i = 0; i < ARRAY_LEN(w->locals); i++)
		if (w->locals[i].make && w->locals[i].release)
			w->locals[i].release(w->locals[i].p);
	free(w->conn_set);
}

int server_run(struct app *app)
{
	char err[512];
	evthread_use_pthreads();
	boot_id = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20);

	char host[256];
	const char *colon = strrchr(app->cfg.listen, ':');
	size_t hl = (size_t)(colon - app->cfg.listen);
	if (hl >= sizeof(host)) {
		fprintf(stderr, "govhall: listen address too long\n");
		return GH_EINVAL;
	}
	memcpy(host, app->cfg.listen, hl);
	host[hl] = 0;
	if (host[0] == '[' && hl > 1 && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = 0;
	}
	char port[16];
	snprintf(port, sizeof(port), "%s", colon + 1);

	long n = app->cfg.threads > 0 ? app->cfg.threads : sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		n = 1;

	/* Block the stop signals in every thread; the main thread waits for them. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct worker *ws = xcalloc((size_t)n, sizeof(*ws));
	int rc = 0;
	long started = 0;
	for (long i = 0; i < n; i++) {
		int fd = listen_socket(host, port, err, sizeof(err));
		if (fd < 0) {
			fprintf(stderr, "govhall: %s\n", err);
			rc = GH_EUNAVAILABLE;
			break;
		}
		if (i == 0) {
			/* With port 0 the kernel picks one; the other workers share it. */
			struct sockaddr_storage ss;
			socklen_t sl = sizeof(ss);
			getsockname(fd, (struct sockaddr *)&ss, &sl);
			int p = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
							       : ((struct sockaddr_in *)&ss)->sin_port);
			snprintf(port, sizeof(port), "%d", p);
		}
		rc = worker_init(&ws[i], app, (int)i, fd, err, sizeof(err));
		started = i + 1;
		if (rc) {
			fprintf(stderr, "govhall: %s\n", err);
			break;
		}
	}
	if (rc) {
		for (long i = 0; i < started; i++)
			worker_release(&ws[i]);
		free(ws);
		return rc;
	}
	for (long i = 0; i < n; i++)
		if (pthread_create(&ws[i].thread, NULL, worker_main, &ws[i]))
			die("cannot start worker thread");

	printf("listening on http://%s%s%s:%s\n", strchr(host, ':') ? "[" : "", host,
	       strchr(host, ':') ? "]" : "", port);
	fflush(stdout);
	log_info("govhall %s serving on %s:%s with %ld workers, database %s", GOVHALL_VERSION, host, port,
		 n, db_kind_name(ws[0].db));

	int sig = 0;
	sigwait(&set, &sig);
	log_info("signal %d: stopping (finishing requests in flight)", sig);
	for (long i = 0; i < n; i++)
		event_active(ws[i].stop_ev, 0, 0);
	for (long i = 0; i < n; i++)
		pthread_join(ws[i].thread, NULL);
	/* Requests still waiting for the job pool or the writer when the grace period ended: let
	 * that work finish and run its completions on the (stopped) loops from here, so nothing
	 * signals a freed loop and every accepted submission is answered or at least written.
	 * A completion may queue more work, hence the rounds. */
	for (int round = 0; round < 4; round++) {
		jobs_drain(app->jobs);
		group_drain(app->group);
		for (long i = 0; i < n; i++)
			event_base_loop(ws[i].base, EVLOOP_NONBLOCK);
	}
	for (long i = 0; i < n; i++)
		worker_release(&ws[i]);
	free(ws);
	log_info("stopped");
	return 0;
}
