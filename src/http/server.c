/* server.c: the HTTP/1.1 server on libevent. Everything libevent-specific lives here;
 * handlers see only struct req (http.h).
 *
 * Each worker thread has its own event loop, SO_REUSEPORT listening socket and database
 * connection. A connection is a non-blocking socket with three events (readable, writable, a
 * deadline); bytes are parsed by http/h1.c (llhttp behind a strict line scanner), one request
 * at a time per connection, so pipelined requests are answered in order. A connection is
 * always in one state, and the state decides its deadline:
 *
 *   PROXY  waiting for the PROXY header (trusted proxies with proxy-protocol on)   header-timeout
 *   HEAD   waiting for a request's line and fields (from its first byte, or from
 *          the connection's opening for the first request)                         header-timeout
 *   BODY   reading the body                                                       body-timeout
 *   BUSY   the handler has the request (perhaps on the job pool): no reading      none
 *   WRITE  the response waits for the client to read it                           body-timeout
 *   IDLE   kept alive, waiting for the next request                               idle-timeout
 *   LINGER answered with close while the client may still send: read and drop     LINGER_SECONDS
 *   STREAM a long-lived response (req_stream): what the client sends is dropped   stream-max-age
 *
 * Deadlines are total: they are set when a state begins and no byte moves them. Every open
 * connection counts against the worker's limit, which is also bounded by the descriptors the
 * process may open (RLIMIT_NOFILE, raised to the hard limit at start). At the limit the oldest
 * connection that holds no request (IDLE, HEAD, PROXY, LINGER) is closed to admit the new one;
 * when there is none the new one gets a 503 and is closed. Connections per client address are
 * capped across the workers. If accept() runs out of descriptors anyway, a descriptor held in
 * reserve is given up to accept and shed the waiting connections, and accepting pauses with a
 * growing back-off instead of spinning. */
#include "http/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/thread.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "base/jobs.h"
#include "base/jsonout.h"
#include "base/log.h"
#include "base/util.h"
#include "http/cache.h"
#include "http/compress.h"
#include "http/h1.h"
#include "http/metrics.h"
#include "http/msg.h"
#include "http/multipart.h"
#include "http/nav.h"
#include "http/proxy.h"
#include "http/router.h"
#include "store/db.h"
#include "http/write.h"
#include "store/group.h"
#include "view/view.h"

#define GRACE_SECONDS 10
#define LINGER_SECONDS 2
#define MAX_QUERY_PAIRS 64
#define MAX_COOKIES 32
#define MAX_FIELDS 100
#define READ_CHUNK (64u << 10)
#define ACCEPT_BATCH 64
#define BACKOFF_MIN_MS 10
#define BACKOFF_MAX_MS 1000
#define STREAM_MAX_PENDING (256u << 10) /* bytes a stream's reader may leave unread */
#define SPARE_ARENAS 64

enum conn_state { C_PROXY, C_HEAD, C_BODY, C_BUSY, C_WRITE, C_IDLE, C_LINGER, C_STREAM };

struct stream;

struct conn {
	struct worker *w;
	int fd;
	enum conn_state state;
	struct event rev, wev, tev;
	struct h1 *h1;
	struct evbuffer *out;   /* bytes on their way to the client */
	struct evbuffer *body;  /* the response body being built */
	struct sb pending;      /* bytes read but not parsed yet (a pipelined request, the rest
				 * after a PROXY header) */
	struct net_addr peer;   /* the TCP peer */
	struct net_addr client; /* the peer, or the client a PROXY header named */
	struct net_addr key;    /* counted under this key per address, if counted */
	bool counted;
	bool trusted;           /* client is a trusted proxy: X-Forwarded-For is believed */
	char client_text[48];
	bool close_after;       /* close once the current response is out */
	bool linger;            /* ... after reading what the client still sends */
	bool pumping, resume, dead;
	struct req *r;          /* the request in BUSY */
	struct stream *stream;  /* in STREAM */
	TAILQ_ENTRY(conn) idle;  /* in the worker's list of connections holding no request */
	bool listed;
	LIST_ENTRY(conn) all;    /* in the worker's list of every connection */
};

struct worker {
	int index;
	struct app *app;
	struct event_base *base;
	int lfd;                  /* listening socket (-1 once closed) */
	struct event lev, backoff_ev, tick_ev;
	int backoff_ms;
	int reserve_fd;           /* given up to accept() when descriptors run out */
	struct db *db;
	struct arena *spare[SPARE_ARENAS]; /* request arenas kept for reuse (requests waiting for
					     * the writer or the pool each hold one meanwhile) */
	size_t nspare;
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
	long conns, max_conns;
	long inflight;
	bool stopping;
	struct event *stop_ev, *drain_ev;
	time_t stop_deadline;
	TAILQ_HEAD(, conn) idle; /* connections holding no request, oldest first */
	LIST_HEAD(, conn) all;   /* every connection */
	const struct timeval *tv_header, *tv_body, *tv_idle, *tv_linger, *tv_stream;
	LIST_HEAD(, stream) streams; /* open long-lived responses */
	struct event *wake_ev;       /* server_stream_wake: poll every stream now */
	char *rbuf;               /* READ_CHUNK bytes for recv() */
	struct sb head;           /* a response head being composed */
	char date[40];
	time_t date_sec;
	struct h1_limits limits;
};

/* Per request, in its arena: what the handler has answered so far. */
struct exchange {
	struct conn *c;
	struct kv *hdrs; /* response header fields */
	size_t nh, caph;
	struct stream *stream; /* req_stream: the response goes on as a stream */
	unsigned holds;  /* req_hold: the answer waits for these */
	bool held;       /* finished while held: sent at the last req_unhold */
};

struct deferred {
	struct req *r;
	int (*done)(struct req *, void *);
	void *arg;
};

static _Atomic uint64_t request_seq;
static _Atomic uint64_t cache_hits, cache_misses;
static _Atomic uint64_t conn_shed[3], conn_evicted, conn_timeouts;
static _Atomic long streams_open;       /* long-lived responses (req_stream) */
static _Atomic uint64_t streams_refused;
static uint64_t boot_id;
/* The body of a quick 503 (shed): the catalog's words in both languages, made at start. */
static char shed_body[512];
static struct net_cidr *trusted;
static size_t ntrusted;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static struct exchange *x_of(const struct req *r)
{
	return r->_ev;
}

/* The writer's copy of a request (http/write.c: no worker) neither responds nor reaches the
 * worker's state: that is a bug in the caller, found here rather than as a race. */
static void on_loop_only(const struct req *r, const char *what)
{
	if (!r->worker)
		die("http: %s on the writer thread (route %s)", what, r->route ? r->route->name : "-");
}

/* ---- connections per client address, across workers ---- */

struct addr_slot {
	struct net_addr key;
	uint32_t n; /* 0 = free */
};

static struct {
	pthread_mutex_t lock;
	struct addr_slot *v;
	size_t cap, used;
} addrs = { .lock = PTHREAD_MUTEX_INITIALIZER };

static size_t addr_hash(const struct net_addr *a)
{
	uint64_t h = 1469598103934665603ull ^ a->family;
	for (size_t i = 0; i < 16; i++)
		h = (h ^ a->a[i]) * 1099511628211ull;
	return (size_t)(h ^ (h >> 29));
}

static struct addr_slot *addr_find(const struct net_addr *k, bool add)
{
	if (add && (addrs.used + 1) * 2 > addrs.cap) {
		struct addr_slot *old = addrs.v;
		size_t oldcap = addrs.cap;
		addrs.cap = oldcap ? oldcap * 2 : 256;
		addrs.v = xcalloc(addrs.cap, sizeof(*addrs.v));
		for (size_t i = 0; i < oldcap; i++)
			if (old[i].n) {
				size_t j = addr_hash(&old[i].key) & (addrs.cap - 1);
				while (addrs.v[j].n)
					j = (j + 1) & (addrs.cap - 1);
				addrs.v[j] = old[i];
			}
		free(old);
	}
	if (!addrs.cap)
		return NULL;
	for (size_t i = addr_hash(k) & (addrs.cap - 1);; i = (i + 1) & (addrs.cap - 1)) {
		if (!addrs.v[i].n) {
			if (!add)
				return NULL;
			addrs.v[i].key = *k;
			addrs.used++;
			return &addrs.v[i];
		}
		if (net_addr_equal(&addrs.v[i].key, k))
			return &addrs.v[i];
	}
}

/* Counts one more connection of client a; false (nothing counted) when it has max already. */
static bool addr_acquire(const struct net_addr *a, long max, struct net_addr *key)
{
	*key = net_addr_client_key(a);
	pthread_mutex_lock(&addrs.lock);
	struct addr_slot *s = addr_find(key, true);
	bool ok = (long)s->n < max; /* max >= 1: a new slot always takes its first connection */
	if (ok)
		s->n++;
	pthread_mutex_unlock(&addrs.lock);
	return ok;
}

static void addr_release(const struct net_addr *key)
{
	pthread_mutex_lock(&addrs.lock);
	struct addr_slot *s = addr_find(key, false);
	if (s && s->n && --s->n == 0) {
		/* Free the slot and re-insert the rest of its cluster (linear probing). */
		size_t i = (size_t)(s - addrs.v);
		addrs.used--;
		for (i = (i + 1) & (addrs.cap - 1); addrs.v[i].n; i = (i + 1) & (addrs.cap - 1)) {
			struct addr_slot x = addrs.v[i];
			addrs.v[i].n = 0;
			size_t j = addr_hash(&x.key) & (addrs.cap - 1);
			while (addrs.v[j].n)
				j = (j + 1) & (addrs.cap - 1);
			addrs.v[j] = x;
		}
	}
	pthread_mutex_unlock(&addrs.lock);
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
	const struct exchange *x = x_of(r);
	return x && x->c->h1 ? h1_field(x->c->h1, name) : NULL;
}

void req_error_detail(struct req *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	r->error_detail = arena_vprintf(r->arena, fmt, ap);
	va_end(ap);
}

void req_retry_after(struct req *r, int64_t seconds)
{
	r->retry_after = seconds > 0 ? seconds : 1;
}

int req_query_long(struct req *r, const char *name, long def, long min, long max, long *out)
{
	const char *v = req_query(r, name);
	if (!v || !*v) {
		*out = def;
		return 0;
	}
	if (str_to_long(str_c(v), min, max, out)) {
		req_error_detail(r, "%s", MF(r, "http_param_int", MA("name", name), MA("min", min), MA("max", max)));
		return GH_EINVAL;
	}
	return 0;
}

const char *req_body(struct req *r, size_t *len)
{
	if (!r->_body) {
		/* The parser keeps the body, NUL-terminated, until the response is sent. */
		const struct h1_request *q = h1_request(x_of(r)->c->h1);
		r->_body = q->body ? q->body : "";
		r->_body_len = q->body ? q->body_len : 0;
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
		req_error_detail(r, "%s", M(r, "http_form_malformed"));
	return rc;
}

/* ---- responses ---- */

static const char *resp_find(const struct exchange *x, const char *name)
{
	for (size_t i = 0; i < x->nh; i++)
		if (strcasecmp(x->hdrs[i].key, name) == 0)
			return x->hdrs[i].val;
	return NULL;
}

static void resp_remove(struct exchange *x, const char *name)
{
	size_t k = 0;
	for (size_t i = 0; i < x->nh; i++)
		if (strcasecmp(x->hdrs[i].key, name) != 0)
			x->hdrs[k++] = x->hdrs[i];
	x->nh = k;
}

void resp_discard(struct req *r)
{
	on_loop_only(r, "resp_discard");
	struct exchange *x = x_of(r);
	x->nh = 0;
	evbuffer_drain(x->c->body, evbuffer_get_length(x->c->body));
	r->status = 500;
	r->responded = false;
}

void resp_header(struct req *r, const char *name, const char *value)
{
	on_loop_only(r, "resp_header");
	struct exchange *x = x_of(r);
	if (x->nh == x->caph) {
		size_t cap = x->caph ? x->caph * 2 : 16;
		struct kv *v = arena_alloc(r->arena, cap * sizeof(*v));
		if (x->nh)
			memcpy(v, x->hdrs, x->nh * sizeof(*v));
		x->hdrs = v;
		x->caph = cap;
	}
	x->hdrs[x->nh++] = (struct kv){ arena_strdup(r->arena, name), arena_strdup(r->arena, value), 0 };
}

/* Whether the response already carries a header of that name (set by the handler). */
static bool resp_has_header(struct req *r, const char *name)
{
	const struct exchange *x = x_of(r);
	for (size_t i = 0; i < x->nh; i++)
		if (strcasecmp(x->hdrs[i].key, name) == 0)
			return true;
	return false;
}

static const char *reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
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
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 417: return "Expectation Failed";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return status >= 500 ? "Internal Server Error" : status >= 400 ? "Bad Request" : "OK";
	}
}

#define CSP "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; " \
	    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"

static void security_headers(struct req *r)
{
	resp_header(r, "Content-Security-Policy", CSP);
	resp_header(r, "X-Content-Type-Options", "nosniff");
	/* A page may ask for less (no-referrer on pages whose address carries a code). */
	if (!resp_find(x_of(r), "Referrer-Policy"))
		resp_header(r, "Referrer-Policy", "strict-origin-when-cross-origin");
	resp_header(r, "X-Frame-Options", "DENY");
	/* What a logged-in caller is answered is theirs: no cache keeps it (the service worker,
	 * static/js/sw.js, stores only answers that say nothing of the kind). */
	if (r->who.account && !resp_find(x_of(r), "Cache-Control"))
		resp_header(r, "Cache-Control", "private, no-store");
}

int resp_body(struct req *r, int status, const char *content_type, const char *body, size_t len)
{
	on_loop_only(r, "resp_body");
	struct exchange *x = x_of(r);
	if (content_type)
		resp_header(r, "Content-Type", content_type);
	if (len)
		evbuffer_add(x->c->body, body, len);
	r->status = status;
	r->responded = true;
	return 0;
}

static void free_json(void *p)
{
	json_decref(p);
}

static void free_text(const void *data, size_t len, void *extra)
{
	(void)len, (void)extra;
	free((void *)data);
}

/* Written by base/jsonout.h (jansson's text, without its cost), then handed to the response
 * body as it is: no copy. */
int resp_json(struct req *r, int status, json_t *j)
{
	if (!j)
		return GH_EINTERNAL;
	arena_cleanup(r->arena, free_json, j);
	on_loop_only(r, "resp_json");
	struct evbuffer *body = x_of(r)->c->body;
	struct sb sb = SB_INIT;
	sb_grow(&sb, 1000); /* 1 KiB with its NUL: most answers, and glibc's per-thread cache has it */
	if (jsonout_sb(&sb, j, JSON_COMPACT)) {
		sb_release(&sb);
		return GH_EINTERNAL;
	}
	size_t len;
	char *text = sb_detach(&sb, &len);
	if (evbuffer_add_reference(body, text, len, free_text, NULL)) {
		free(text);
		return GH_EINTERNAL;
	}
	return resp_body(r, status, "application/json; charset=utf-8", NULL, 0);
}

int resp_html(struct req *r, int status, struct sb *html)
{
	resp_body(r, status, "text/html; charset=utf-8", html->buf, html->len);
	sb_release(html);
	return 0;
}

/* The address of this page with query parameter key set to val (the other language, the
 * other mode): path and the rest of the query kept. */
static const char *switch_href(struct req *r, const char *key, const char *val)
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
		if (strcmp(r->query.v[i].key, key) == 0)
			continue;
		sb_addch(&sb, sep);
		sep = '&';
		sb_add_urlenc(&sb, r->query.v[i].key, strlen(r->query.v[i].key));
		sb_addch(&sb, '=');
		sb_add_urlenc(&sb, r->query.v[i].val, strlen(r->query.v[i].val));
	}
	sb_addf(&sb, "%c%s=%s", sep, key, val);
	char *out = arena_strndup(r->arena, sb.buf, sb.len);
	sb_release(&sb);
	return out;
}

/* What every page may show: the other-language and elder-mode switches, the navigation the
 * caller may follow (http/nav.h), and who is logged in (with the CSRF token for the log-out
 * form). Pages of anonymous visitors carry nothing personal, so they can be cached and
 * shared (the cache keys them by language and mode). */
static void page_common(struct req *r, json_t *ctx)
{
	if (!json_object_get(ctx, "lang_href"))
		json_object_set_new(ctx, "lang_href",
				    json_string(switch_href(r, "lang", strcmp(r->lang, "en") == 0 ? "zh" : "en")));
	json_object_set_new(ctx, "elder_href", json_string(switch_href(r, "elder", r->elder ? "0" : "1")));
	if (r->elder)
		json_object_set_new(ctx, "elder", json_true());
	if (r->app->nav && !json_object_get(ctx, "menu_main"))
		nav_ctx(r->app->nav, r, ctx);
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
	const char *msg = M_err(r, code);
	if ((code == GH_EBUSY || code == GH_EUNAVAILABLE) && !resp_has_header(r, "Retry-After") && !r->retry_after)
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

static unsigned method_bit(const char *m)
{
	static const struct {
		const char *name;
		unsigned bit;
	} t[] = { { "GET", HTTP_GET }, { "HEAD", HTTP_HEAD }, { "POST", HTTP_POST }, { "PUT", HTTP_PUT },
		  { "DELETE", HTTP_DELETE }, { "PATCH", HTTP_PATCH }, { "OPTIONS", HTTP_OPTIONS } };
	for (size_t i = 0; m && i < ARRAY_LEN(t); i++)
		if (strcmp(m, t[i].name) == 0)
			return t[i].bit;
	return 0;
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

/* Elder-friendly mode (长辈版): ?elder=1 turns it on and ?elder=0 off for this visitor (a
 * cookie for a year, like the language); otherwise the cookie says. */
static bool pick_elder(struct req *r)
{
	const char *q = req_query(r, "elder");
	if (q && (strcmp(q, "1") == 0 || strcmp(q, "0") == 0)) {
		resp_header(r, "Set-Cookie", q[0] == '1' ? "elder=1; Path=/; Max-Age=31536000; SameSite=Lax"
							  : "elder=; Path=/; Max-Age=0; SameSite=Lax");
		return q[0] == '1';
	}
	const char *c = req_cookie(r, "elder");
	return c && strcmp(c, "1") == 0;
}

/* The 403 detail for a staff member who lacks the duty a route needs: names the duties
 * ("needs one of these duties: counter, reviewer") in the caller's language. */
static void duty_needed(struct req *r, unsigned duties)
{
	static const struct {
		unsigned bit;
		const char *key;
	} names[] = { { STAFF_COUNTER, "admin_duty_counter" }, { STAFF_REVIEWER, "admin_duty_reviewer" },
		      { STAFF_HEAD, "admin_duty_head" } };
	const struct view *v = r->app->view;
	struct sb sb = SB_INIT;
	for (size_t i = 0; i < ARRAY_LEN(names); i++) {
		if (!(duties & names[i].bit))
			continue;
		if (sb.len)
			sb_adds(&sb, view_msg(v, r->lang, "nav_duty_sep"));
		sb_adds(&sb, view_msg(v, r->lang, names[i].key));
	}
	req_error_detail(r, "%s%s%s", view_msg(v, r->lang, "nav_duty_needed"), sb.buf ? sb.buf : "",
			 view_msg(v, r->lang, "nav_duty_ask"));
	sb_release(&sb);
}

static void log_request(struct req *r, uint64_t dur_ns, size_t bytes)
{
	if (r->route && (r->route->flags & ROUTE_NOLOG) && r->status < 400)
		return;
	/* 503: load shed on purpose; 501, 505: what the client asked for is not implemented */
	int lvl = r->status >= 500 && r->status != 503 && r->status != 501 && r->status != 505 ? LOG_ERROR : LOG_INFO;
	if (!log_enabled(lvl))
		return;
	static const char *lvls[] = { "debug", "info", "warn", "error" };
	struct sb sb = SB_INIT;
	sb_adds(&sb, "{\"ts\":\"");
	log_add_time(&sb);
	sb_addf(&sb, "\",\"level\":\"%s\",\"req\":\"%s\",\"method\":\"%s\",\"path\":", lvls[lvl], r->id,
		r->method ? http_method_name(r->method) : "-");
	/* The path only: query strings may carry personal data. */
	const char *path = r->path ? r->path : "?";
	sb_add_json_str(&sb, path, strnlen(path, 256));
	sb_addf(&sb, ",\"route\":\"%s\",\"status\":%d,\"ms\":%.3f,\"bytes\":%zu,\"worker\":%d,\"ip\":",
		r->route ? r->route->name : "-", r->status, (double)dur_ns / 1e6, bytes, r->worker->index);
	/* The client's address as resolved through trusted proxies (what rate limits use). */
	sb_add_json_str(&sb, r->ip, strlen(r->ip));
	if (r->who.account)
		sb_addf(&sb, ",\"user\":%lld%s", (long long)r->who.account, r->who.token ? ",\"via\":\"token\"" : "");
	/* Why a request was refused before routing (malformed framing, limits, deadlines): our
	 * own words, never the client's bytes. */
	if (r->error_detail && (r->status >= 500 || !r->route)) {
		sb_adds(&sb, ",\"detail\":");
		sb_add_json_str(&sb, r->error_detail, strlen(r->error_detail));
	}
	sb_addch(&sb, '}');
	log_line(&sb);
	sb_release(&sb);
}

static void conn_after_response(struct conn *c);
static void stream_start(struct conn *c, struct stream *s);
static void stream_drop(struct stream *s);
static void conn_close(struct conn *c);
static void conn_free(struct conn *c);
static void conn_enter(struct conn *c, enum conn_state s);
static void conn_pump(struct conn *c, const char *data, size_t n);
static bool conn_flush(struct conn *c);

static const char *http_date(struct worker *w)
{
	struct timeval tv;
	event_base_gettimeofday_cached(w->base, &tv);
	if (tv.tv_sec != w->date_sec) {
		struct tm tm;
		time_t t = tv.tv_sec;
		gmtime_r(&t, &tm);
		strftime(w->date, sizeof(w->date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		w->date_sec = tv.tv_sec;
	}
	return w->date;
}

/* Appends a header field, dropping CR and LF from the value: a value made from what a client
 * sent (a Location with its ?next=) can never split the response. */
static void add_field(struct sb *sb, const char *name, const char *value)
{
	sb_adds(sb, name);
	sb_add(sb, ": ", 2);
	for (const char *p = value;;) {
		size_t n = strcspn(p, "\r\n");
		sb_add(sb, p, n);
		if (!p[n])
			break;
		p += n + 1;
	}
	sb_add(sb, "\r\n", 2);
}

/* ---- content coding ---- */

int req_coding(struct req *r, const char *content_type, size_t len, bool shared)
{
	const struct config *cfg = &r->app->cfg;
	if (!cfg->compress || !compress_type_ok(content_type))
		return CODING_IDENTITY;
	if (!shared && req_header(r, "Cookie")) {
		const char *site = req_header(r, "Sec-Fetch-Site");
		if (!site || (strcasecmp(site, "same-origin") != 0 && strcasecmp(site, "none") != 0))
			return CODING_IDENTITY;
	}
	const char *ae = req_header(r, "Accept-Encoding");
	struct accept_enc a;
	accept_enc_parse(ae, ae ? strlen(ae) : 0, &a);
	return accept_enc_choose(&a, len >= (size_t)cfg->compress_min_bytes);
}

bool req_not_modified(struct req *r, const char *etag)
{
	const char *inm = req_header(r, "If-None-Match");
	return inm && etag_list_match(inm, strlen(inm), etag);
}

/* Vary: Accept-Encoding, added to a Vary the handler set (once). */
static void vary_encoding(struct req *r)
{
	struct exchange *x = x_of(r);
	for (size_t i = 0; i < x->nh; i++) {
		if (strcasecmp(x->hdrs[i].key, "Vary") != 0)
			continue;
		if (!strcasestr(x->hdrs[i].val, "Accept-Encoding") && strcmp(x->hdrs[i].val, "*") != 0)
			x->hdrs[i].val = arena_printf(r->arena, "%s, Accept-Encoding", x->hdrs[i].val);
		return;
	}
	resp_header(r, "Vary", "Accept-Encoding");
}

/* A compressible answer says it varies with Accept-Encoding, and goes out in the coding
 * req_coding picks unless the handler sent a coded body itself. A strong ETag of the plain
 * body becomes weak (the coded bytes differ; If-None-Match compares weakly). Returns the
 * body's length now. */
static size_t encode_body(struct req *r, struct evbuffer *body, size_t len)
{
	struct exchange *x = x_of(r);
	const char *ct = resp_find(x, "Content-Type");
	if (!compress_type_ok(ct))
		return len;
	vary_encoding(r);
	if (resp_find(x, "Content-Encoding"))
		return len;
	enum coding cd = req_coding(r, ct, len, false);
	if (cd == CODING_IDENTITY)
		return len;
	struct sb z = SB_INIT;
	const char *plain = (const char *)evbuffer_pullup(body, -1);
	if (plain && compress_buf(cd, false, plain, len, &z) == 0) {
		evbuffer_drain(body, len);
		evbuffer_add(body, z.buf, z.len);
		resp_header(r, "Content-Encoding", coding_name(cd));
		for (size_t i = 0; i < x->nh; i++)
			if (strcasecmp(x->hdrs[i].key, "ETag") == 0 && x->hdrs[i].val[0] == '"')
				x->hdrs[i].val = arena_printf(r->arena, "W/%s", x->hdrs[i].val);
	}
	sb_release(&z);
	return evbuffer_get_length(body);
}

/* Sends r's response: status line, fields, body; logs it; frees the request. While r is held
 * (req_hold), only notes that it is ready: the last req_unhold sends it. */
static void finish(struct req *r)
{
	struct worker *w = r->worker;
	struct exchange *x = x_of(r);
	if (x->holds) {
		x->held = true;
		return;
	}
	struct conn *c = x->c;
	if (!r->responded) {
		log_error("handler %s returned without a response", r->route ? r->route->name : "-");
		resp_error(r, GH_EINTERNAL);
	}
	security_headers(r);
	resp_header(r, "X-Request-Id", r->id);
	const struct h1_request *q = h1_request(c->h1);
	/* A stream's head goes out now, its body as it comes; it never ends in keep-alive. */
	struct stream *stream = x->stream;
	if (stream && (r->status != 200 || w->stopping)) {
		stream_drop(stream);
		stream = x->stream = NULL;
		if (r->status == 200) {
			r->status = 503;
			resp_header(r, "Retry-After", "5");
		}
	}
	if (stream) {
		resp_remove(x, "Transfer-Encoding");
		if (q->minor >= 1)
			resp_header(r, "Transfer-Encoding", "chunked");
		c->close_after = true;
	}
	if (r->retry_after && !resp_find(x, "Retry-After"))
		resp_header(r, "Retry-After", arena_printf(r->arena, "%lld", (long long)r->retry_after));
	if (w->stopping)
		c->close_after = true;

	size_t bytes = evbuffer_get_length(c->body);
	bool bodiless = r->status < 200 || r->status == 204 || r->status == 304 || stream;
	if (bodiless && bytes) {
		evbuffer_drain(c->body, bytes);
		bytes = 0;
	}
	if (!bodiless && bytes)
		bytes = encode_body(r, c->body, bytes);
	struct sb *h = &w->head;
	sb_reset(h);
	sb_addf(h, "HTTP/1.1 %d %s\r\n", r->status, reason(r->status));
	add_field(h, "Date", http_date(w));
	resp_remove(x, "Content-Length");
	resp_remove(x, "Connection");
	if (bytes && !resp_find(x, "Content-Type"))
		resp_header(r, "Content-Type", "text/plain; charset=utf-8");
	for (size_t i = 0; i < x->nh; i++)
		add_field(h, x->hdrs[i].key, x->hdrs[i].val);
	if (!bodiless)
		sb_addf(h, "Content-Length: %zu\r\n", bytes);
	if (c->close_after)
		sb_adds(h, "Connection: close\r\n");
	else if (q->minor == 0)
		sb_adds(h, "Connection: keep-alive\r\n");
	sb_add(h, "\r\n", 2);
	evbuffer_add(c->out, h->buf, h->len);
	if (r->method == HTTP_HEAD)
		/* A HEAD answer says how long the body would be, and sends none. */
		evbuffer_drain(c->body, bytes);
	else
		evbuffer_add_buffer(c->out, c->body);

	uint64_t dur = now_ns() - r->_start_ns;
	metrics_observe(w->app->metrics, router_index(w->app->router, r->route), r->status, dur);
	log_request(r, dur, bytes);
	struct arena *a = r->arena;
	if (w->nspare < SPARE_ARENAS) {
		arena_reset(a);
		w->spare[w->nspare++] = a;
	} else {
		arena_free(a);
	}
	c->r = NULL;
	w->inflight--;
	if (stream)
		stream_start(c, stream);
	else
		conn_after_response(c);
}

struct event_base *req_event_base(struct req *r)
{
	on_loop_only(r, "req_event_base");
	return r->worker->base;
}

void req_hold(struct req *r)
{
	on_loop_only(r, "req_hold");
	x_of(r)->holds++;
}

void req_unhold(struct req *r)
{
	struct exchange *x = x_of(r);
	if (--x->holds == 0 && x->held) {
		x->held = false;
		finish(r);
	}
}

void server_cache_stats(uint64_t *hits, uint64_t *misses)
{
	*hits = atomic_load_explicit(&cache_hits, memory_order_relaxed);
	*misses = atomic_load_explicit(&cache_misses, memory_order_relaxed);
}

void server_conn_stats(struct server_conn_stats *s)
{
	s->shed_per_address = atomic_load_explicit(&conn_shed[0], memory_order_relaxed);
	s->shed_limit = atomic_load_explicit(&conn_shed[1], memory_order_relaxed);
	s->shed_descriptors = atomic_load_explicit(&conn_shed[2], memory_order_relaxed);
	s->evicted = atomic_load_explicit(&conn_evicted, memory_order_relaxed);
	s->timeouts = atomic_load_explicit(&conn_timeouts, memory_order_relaxed);
	s->streams = atomic_load_explicit(&streams_open, memory_order_relaxed);
	s->streams_refused = atomic_load_explicit(&streams_refused, memory_order_relaxed);
}

/* The strong copy of a cached body in a coding, made on the job pool and handed back to the
 * worker's cache on its loop (cache_encoded's upgrade). */
struct recode {
	struct cache *c;
	char *key, *plain;
	size_t keylen, plain_len;
	uint64_t gen;
	char etag[24];
	enum coding coding;
	struct sb out;
	int rc;
};

static void recode_work(void *p)
{
	struct recode *t = p;
	t->rc = compress_buf(t->coding, true, t->plain, t->plain_len, &t->out);
}

static void recode_done(void *p)
{
	struct recode *t = p;
	size_t n = 0;
	char *b = t->rc ? NULL : sb_detach(&t->out, &n);
	cache_upgrade(t->c, t->key, t->keylen, t->gen, t->etag, t->coding, b, n);
	sb_release(&t->out);
	free(t->key);
	free(t->plain);
	free(t);
}

static void recode_later(struct req *r, struct cache *c, const struct cache_entry *e, const struct sb *key,
			 uint64_t gen, enum coding cd)
{
	struct recode *t = xcalloc(1, sizeof(*t));
	*t = (struct recode){ .c = c, .key = xstrndup(key->buf, key->len), .keylen = key->len, .gen = gen,
			      .coding = cd, .out = SB_INIT, .plain = xmalloc(e->len ? e->len : 1), .plain_len = e->len };
	memcpy(t->plain, e->body, e->len);
	snprintf(t->etag, sizeof(t->etag), "%s", e->etag);
	if (jobs_submit(r->app->jobs, r->worker->base, recode_work, recode_done, t)) {
		t->rc = GH_EBUSY;
		recode_done(t);
	}
}

/* Answers from a cache entry, in the coding the client prefers: each coded body is made once
 * and kept with the entry, under an ETag of its own (weak while it is the fast level's copy,
 * whose bytes the strong one replaces). replace: the handler has just made this response (a
 * miss): its body gives way to the entry's. */
static int serve_entry(struct req *r, const struct cache_entry *e, bool replace, const struct sb *key, uint64_t gen)
{
	struct cache *c = r->worker->cache;
	enum coding cd = req_coding(r, e->content_type, e->len, true);
	const char *body = e->body;
	size_t len = e->len;
	bool best = true, upgrade = false;
	if (cd != CODING_IDENTITY && cache_encoded(c, e, cd, &body, &len, &best, &upgrade))
		cd = CODING_IDENTITY;
	char vbuf[40], wbuf[48];
	const char *etag = etag_variant(e->etag, cd, vbuf, sizeof(vbuf));
	if (!best) {
		snprintf(wbuf, sizeof(wbuf), "W/%s", etag);
		etag = wbuf;
	}
	resp_header(r, "ETag", etag);
	resp_header(r, "Cache-Control", "no-cache");
	if (cd != CODING_IDENTITY)
		resp_header(r, "Content-Encoding", coding_name(cd));
	if (compress_type_ok(e->content_type))
		vary_encoding(r);
	struct evbuffer *out = x_of(r)->c->body;
	if (replace)
		evbuffer_drain(out, evbuffer_get_length(out));
	int rc = 0;
	if (req_not_modified(r, etag))
		rc = resp_body(r, 304, NULL, NULL, 0);
	else if (replace)
		evbuffer_add(out, body, len);
	else
		rc = resp_body(r, 200, e->content_type, body, len);
	if (upgrade && r->app->jobs)
		recode_later(r, c, e, key, gen, cd); /* e and body are not used after this */
	else if (upgrade)
		cache_upgrade(c, key->buf, key->len, gen, e->etag, cd, NULL, 0);
	return rc;
}

/* The route's data generation, asked of the database at most once per cache-recheck
 * milliseconds per worker (so a page served from the cache costs no query), and always when
 * the recheck interval is 0. */
int req_generation(struct req *r, int (*fn)(struct req *r, uint64_t *gen), uint64_t *gen)
{
	on_loop_only(r, "req_generation");
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
	on_loop_only(r, "req_worker_local");
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

struct worker *server_offline_worker(struct app *app, struct db *db)
{
	struct worker *w = xcalloc(1, sizeof(*w));
	w->index = -1;
	w->app = app;
	w->db = db;
	w->lfd = -1;
	w->reserve_fd = -1;
	return w;
}

void server_offline_worker_free(struct worker *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < ARRAY_LEN(w->locals); i++)
		if (w->locals[i].make && w->locals[i].release)
			w->locals[i].release(w->locals[i].p);
	free(w);
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
	if (r->elder)
		sb_adds(&key, "+elder");
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
		rc = serve_entry(r, &e, false, &key, gen);
		goto out;
	}
	atomic_fetch_add_explicit(&cache_misses, 1, memory_order_relaxed);
	rc = route->fn(r);
	if (rc || !r->responded || r->status != 200)
		goto out;
	struct evbuffer *body = x_of(r)->c->body;
	size_t len = evbuffer_get_length(body);
	const char *b = (const char *)evbuffer_pullup(body, -1);
	cache_put(c, key.buf, key.len, gen, b ? b : "", len, resp_find(x_of(r), "Content-Type"));
	if (cache_get(c, key.buf, key.len, gen, &e) == 0)
		rc = serve_entry(r, &e, true, &key, gen);
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

/* The path part of a request target: origin-form "/p?q", or absolute-form
 * "http://host/p?q" (RFC 9112 §3.2.2), whose authority the Host field already gave. */
static const char *target_path(const char *t)
{
	if (t[0] == '/')
		return t;
	const char *p = NULL;
	if (strncasecmp(t, "http://", 7) == 0)
		p = t + 7;
	else if (strncasecmp(t, "https://", 8) == 0)
		p = t + 8;
	if (!p || !*p || *p == '/')
		return NULL;
	p += strcspn(p, "/?");
	return *p == '/' ? p : *p == '?' ? NULL : "/";
}

static int dispatch(struct req *r)
{
	struct worker *w = r->worker;
	const struct h1_request *q = h1_request(x_of(r)->c->h1);
	if (q->target_len > (size_t)w->app->cfg.max_uri)
		return GH_EURITOOLONG;
	r->method = method_bit(q->method);
	/* Until the query and cookies are read (pick_lang), errors speak the header's language. */
	const char *al = req_header(r, "Accept-Language");
	if (al && strncasecmp(al, "en", 2) == 0)
		r->lang = "en";
	if (strcmp(q->target, "*") == 0) {
		/* OPTIONS * asks about the server as a whole. */
		if (r->method != HTTP_OPTIONS)
			return GH_EINVAL;
		char buf[96];
		resp_header(r, "Allow", http_methods_str(HTTP_GET | HTTP_HEAD | HTTP_POST | HTTP_PUT | HTTP_DELETE |
								 HTTP_PATCH | HTTP_OPTIONS, buf, sizeof(buf)));
		return resp_body(r, 204, NULL, NULL, 0);
	}
	const char *t = target_path(q->target);
	if (!t) {
		req_error_detail(r, "%s", M(r, "http_target_malformed"));
		return GH_EINVAL;
	}
	size_t plen = strcspn(t, "?#");
	if (t[plen] == '#') {
		req_error_detail(r, "%s", M(r, "http_target_malformed"));
		return GH_EINVAL;
	}
	const char *rawpath = arena_strndup(r->arena, t, plen);
	char *path;
	if (path_decode(r->arena, rawpath, plen, &path)) {
		r->api = strncmp(rawpath, "/api/", 5) == 0;
		req_error_detail(r, "%s", M(r, "http_path_malformed"));
		return GH_EINVAL;
	}
	r->path = path;
	r->api = strncmp(path, "/api/", 5) == 0 || strcmp(path, "/api") == 0;
	r->raw_query = t[plen] == '?' ? arena_strdup(r->arena, t + plen + 1) : NULL;
	int rc = 0;
	if (r->raw_query)
		rc = form_decode(r->arena, r->raw_query, strlen(r->raw_query), MAX_QUERY_PAIRS, &r->query);
	const char *cookie = req_header(r, "Cookie");
	if (!rc && cookie && cookie_parse(r->arena, cookie, strlen(cookie), MAX_COOKIES, &r->cookies))
		r->cookies.n = 0; /* a broken Cookie header is ignored, not fatal */
	r->lang = pick_lang(r);
	r->elder = pick_elder(r);
	if (rc) {
		req_error_detail(r, "%s", M(r, "http_query_malformed"));
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
	req_loop_run(r, true); /* handlers read here, in one snapshot, and write through req_write */
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
	if (r->role == ROLE_STAFF && route->duties && !(route->duties & r->who.staff_roles)) {
		if (app->view)
			duty_needed(r, route->duties);
		return GH_EFORBIDDEN;
	}
	if (r->who.token && (route->scopes & ~r->who.scopes)) {
		req_error_detail(r, "%s", M(r, "http_token_scope"));
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

/* The client's address: the connection's client (the peer, or whom a PROXY header named);
 * when that is a trusted proxy, the rightmost X-Forwarded-For hop that is not one. */
static const char *client_address(struct req *r, struct conn *c)
{
	if (c->trusted) {
		const struct h1_request *q = h1_request(c->h1);
		struct sb xff = SB_INIT;
		for (size_t i = 0; i < q->nfields; i++)
			if (strcasecmp(q->fields[i].name, "X-Forwarded-For") == 0) {
				if (xff.len)
					sb_addch(&xff, ',');
				sb_add(&xff, q->fields[i].value, q->fields[i].value_len);
			}
		struct net_addr a;
		int rc = xff.len ? xff_client(xff.buf, xff.len, trusted, ntrusted, &a) : -1;
		sb_release(&xff);
		if (!rc) {
			char buf[64];
			net_addr_format(&a, buf, sizeof(buf));
			return arena_strdup(r->arena, buf);
		}
	}
	return c->client_text;
}

/* A request object for what the connection's parser holds (complete, or cut short by an
 * error or a deadline). */
static struct req *req_begin(struct conn *c)
{
	struct worker *w = c->w;
	struct arena *a = w->nspare ? w->spare[--w->nspare] : arena_new(8192);
	struct req *r = arena_zalloc(a, sizeof(*r));
	struct exchange *x = arena_zalloc(a, sizeof(*x));
	x->c = c;
	r->arena = a;
	r->app = w->app;
	r->db = w->db;
	r->worker = w;
	r->role = ROLE_ANON;
	r->lang = "zh";
	r->status = 500;
	r->_ev = x;
	r->_start_ns = now_ns();
	r->ip = client_address(r, c);
	uint64_t seq = atomic_fetch_add(&request_seq, 1);
	r->seq = seq + 1; /* never 0, which a cache's "none yet" may be */
	snprintf(r->id, sizeof(r->id), "%08llx%08llx", (unsigned long long)(boot_id & 0xffffffffu),
		 (unsigned long long)seq);
	c->r = r;
	w->inflight++;
	evbuffer_drain(c->body, evbuffer_get_length(c->body));
	return r;
}

/* A complete request: route it. The response is sent now, or later by a deferred completion. */
static void request_run(struct conn *c)
{
	struct req *r = req_begin(c);
	int rc = dispatch(r);
	req_loop_run(r, false);
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

static int status_code(int status)
{
	switch (status) {
	case 408: return GH_ETIMEOUT;
	case 413: return GH_ETOOBIG;
	case 414: return GH_EURITOOLONG;
	case 417: return GH_EEXPECT;
	case 431: return GH_EHEADERS;
	case 501: return GH_ENOTIMPL;
	case 503: return GH_EBUSY;
	case 505: return GH_EVERSION;
	default: return GH_EINVAL;
	}
}

/* Answers a request refused before routing (malformed, over a limit, too slow) with the same
 * fields as every response, JSON under /api/, and closes the connection after it. */
static void request_refuse(struct conn *c, int status, const char *why)
{
	struct req *r = req_begin(c);
	const struct h1_request *q = h1_request(c->h1);
	const char *target = h1_target(c->h1);
	if (target) {
		const char *t = target_path(target);
		r->api = t && strncmp(t, "/api/", 5) == 0;
	}
	r->method = method_bit(q->method);
	if (q->fields) {
		const char *al = h1_field(c->h1, "Accept-Language");
		if (al && strncasecmp(al, "en", 2) == 0)
			r->lang = "en";
	}
	r->error_detail = why ? arena_strdup(r->arena, why) : NULL;
	c->close_after = true;
	c->linger = true;
	resp_error(r, status_code(status));
	finish(r);
}

/* ---- deferred work ---- */

static void deferred_done(void *p)
{
	struct deferred *d = p;
	struct req *r = d->r;
	req_loop_run(r, true);
	int rc = d->done(r, d->arg);
	req_loop_run(r, false);
	if (rc == REQ_DEFERRED)
		return; /* done deferred more work (a write after a job, say): that completes it */
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
	on_loop_only(r, "req_job");
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
	on_loop_only(r, "req_defer");
	struct deferred *d = arena_zalloc(r->arena, sizeof(*d));
	d->r = r;
	d->done = done;
	d->arg = arg;
	int rc = submit(ctx, r->worker->base, deferred_done, d);
	return rc ? rc : REQ_DEFERRED;
}

/* ---- long-lived responses (req_stream) ----
 * A stream belongs to its connection (c->stream) and to its worker's list. The request that
 * opened it is answered and logged when its head is sent; from then on the connection is in
 * STREAM: what the client sends is read and dropped (so its going away is seen at once), its
 * deadline is stream-max-age, and the stream's own timers poll the domain and send heartbeats.
 * Streams count per node and per client address; they hold no request, so a stop closes them
 * at once instead of waiting for them. */

struct stream {
	struct conn *c;
	const struct stream_ops *ops;
	void *arg;
	struct arena *arena;    /* reset before each poll */
	struct event poll_ev, beat_ev;
	bool chunked;           /* HTTP/1.1: each send is a chunk */
	bool said;              /* something was sent since the last heartbeat */
	bool counted;
	char ip[48];            /* the client address it counts against */
	LIST_ENTRY(stream) link;
};

static struct worker *_Atomic stream_workers; /* for server_stream_wake, while serving */
static _Atomic long stream_nworkers;

/* Open streams per client address: few (stream-max at most), so a small list does. */
static struct {
	pthread_mutex_t lock;
	struct stream_addr {
		char ip[48];
		long n;
	} *v;
	size_t n, cap;
} stream_addrs = { .lock = PTHREAD_MUTEX_INITIALIZER };

static bool stream_acquire(const char *ip, long max_total, long max_ip)
{
	bool ok = false;
	pthread_mutex_lock(&stream_addrs.lock);
	struct stream_addr *e = NULL;
	for (size_t i = 0; i < stream_addrs.n; i++)
		if (!strcmp(stream_addrs.v[i].ip, ip))
			e = &stream_addrs.v[i];
	if (atomic_load(&streams_open) < max_total && (!e || e->n < max_ip)) {
		if (!e) {
			if (stream_addrs.n == stream_addrs.cap) {
				stream_addrs.cap = stream_addrs.cap ? stream_addrs.cap * 2 : 16;
				stream_addrs.v = xrealloc(stream_addrs.v, stream_addrs.cap * sizeof(*stream_addrs.v));
			}
			e = &stream_addrs.v[stream_addrs.n++];
			snprintf(e->ip, sizeof(e->ip), "%s", ip);
			e->n = 0;
		}
		e->n++;
		atomic_fetch_add(&streams_open, 1);
		ok = true;
	}
	pthread_mutex_unlock(&stream_addrs.lock);
	return ok;
}

static void stream_release_addr(const char *ip)
{
	pthread_mutex_lock(&stream_addrs.lock);
	for (size_t i = 0; i < stream_addrs.n; i++)
		if (!strcmp(stream_addrs.v[i].ip, ip)) {
			if (--stream_addrs.v[i].n <= 0)
				stream_addrs.v[i] = stream_addrs.v[--stream_addrs.n];
			break;
		}
	atomic_fetch_sub(&streams_open, 1);
	pthread_mutex_unlock(&stream_addrs.lock);
}

/* Frees a stream that never started or whose connection is gone: its timers, its place in the
 * counts, the domain's state. */
static void stream_drop(struct stream *s)
{
	if (!s)
		return;
	if (s->c) {
		event_del(&s->poll_ev);
		event_del(&s->beat_ev);
		LIST_REMOVE(s, link);
	}
	if (s->counted)
		stream_release_addr(s->ip);
	if (s->ops->release)
		s->ops->release(s->arg);
	arena_free(s->arena);
	free(s);
}

int req_stream(struct req *r, const char *content_type, const struct stream_ops *ops, void *arg)
{
	const struct config *cfg = &r->app->cfg;
	resp_header(r, "Cache-Control", "no-store, no-transform");
	/* nginx would buffer the events; tell it not to. */
	resp_header(r, "X-Accel-Buffering", "no");
	if (r->method == HTTP_HEAD) {
		if (ops->release)
			ops->release(arg);
		return resp_body(r, 200, content_type, NULL, 0);
	}
	if (r->worker->stopping || !stream_acquire(r->ip, cfg->stream_max, cfg->stream_max_per_ip)) {
		atomic_fetch_add_explicit(&streams_refused, 1, memory_order_relaxed);
		if (ops->release)
			ops->release(arg);
		resp_header(r, "Retry-After", "10");
		return GH_EBUSY;
	}
	struct stream *s = xcalloc(1, sizeof(*s));
	s->ops = ops;
	s->arg = arg;
	s->counted = true;
	snprintf(s->ip, sizeof(s->ip), "%s", r->ip);
	s->arena = arena_new(8192);
	x_of(r)->stream = s;
	return resp_body(r, 200, content_type, NULL, 0);
}

struct arena *stream_arena(struct stream *s)
{
	return s->arena;
}

struct db *stream_db(struct stream *s)
{
	return s->c->w->db;
}

static void stream_end(struct conn *c);

int stream_send(struct stream *s, const char *data, size_t len)
{
	struct conn *c = s->c;
	if (!c || c->dead)
		return GH_EIO;
	if (!len)
		return 0;
	if (s->chunked)
		evbuffer_add_printf(c->out, "%zx\r\n", len);
	evbuffer_add(c->out, data, len);
	if (s->chunked)
		evbuffer_add(c->out, "\r\n", 2);
	s->said = true;
	if (!conn_flush(c))
		return GH_EIO;
	if (evbuffer_get_length(c->out) > STREAM_MAX_PENDING) {
		/* The client does not read: it is gone or too slow to be worth the memory. */
		conn_close(c);
		return GH_EIO;
	}
	return 0;
}

/* Runs the domain's poll, its reads in one snapshot as a handler's (write.h); the connection
 * survives it even if it closes meanwhile. */
static void stream_poll(struct stream *s)
{
	struct conn *c = s->c;
	if (!c || c->dead)
		return;
	arena_reset(s->arena);
	c->pumping = true;
	struct db *db = c->w->db;
	db_read_snapshot(db);
	int rc = s->ops->poll(s, s->arg);
	db_read_end(db);
	c->pumping = false;
	if (c->dead)
		conn_free(c);
	else if (rc)
		stream_end(c);
}

static void on_stream_poll(evutil_socket_t fd, short what, void *p)
{
	(void)fd, (void)what;
	stream_poll(p);
}

static void on_stream_beat(evutil_socket_t fd, short what, void *p)
{
	struct stream *s = p;
	(void)fd, (void)what;
	if (!s->said)
		stream_send(s, ":\n\n", 3); /* an SSE comment: proxies keep the stream, a dead client shows */
	else
		s->said = false;
}

static void stream_start(struct conn *c, struct stream *s)
{
	struct worker *w = c->w;
	const struct config *cfg = &w->app->cfg;
	s->c = c;
	s->chunked = !c->close_after || h1_request(c->h1)->minor >= 1;
	c->stream = s;
	LIST_INSERT_HEAD(&w->streams, s, link);
	event_assign(&s->poll_ev, w->base, -1, EV_PERSIST, on_stream_poll, s);
	event_assign(&s->beat_ev, w->base, -1, EV_PERSIST, on_stream_beat, s);
	struct timeval beat = { cfg->stream_heartbeat, 0 };
	event_add(&s->beat_ev, &beat);
	if (s->ops->poll_ms > 0) {
		struct timeval tv = { s->ops->poll_ms / 1000, (s->ops->poll_ms % 1000) * 1000 };
		event_add(&s->poll_ev, &tv);
	}
	conn_enter(c, C_STREAM);
	event_add(&c->rev, NULL);
	if (!conn_flush(c))
		return;
	stream_poll(s); /* the first answer at once */
}

/* Ends a stream: the last chunk, then the connection is closed. */
static void stream_end(struct conn *c)
{
	struct stream *s = c->stream;
	if (s && s->chunked && !c->dead)
		evbuffer_add(c->out, "0\r\n\r\n", 5);
	if (!c->dead && conn_flush(c))
		shutdown(c->fd, SHUT_WR);
	conn_close(c);
}

static void on_stream_wake(evutil_socket_t fd, short what, void *p)
{
	struct worker *w = p;
	(void)fd, (void)what;
	for (struct stream *s = LIST_FIRST(&w->streams), *next; s; s = next) {
		next = LIST_NEXT(s, link);
		stream_poll(s);
	}
}

void server_stream_wake(void)
{
	struct worker *ws = atomic_load(&stream_workers);
	long n = atomic_load(&stream_nworkers);
	if (!ws || atomic_load(&streams_open) == 0)
		return;
	for (long i = 0; i < n; i++)
		if (ws[i].wake_ev)
			event_active(ws[i].wake_ev, 0, 0);
}

/* ---- connections ---- */

static void list_remove(struct conn *c)
{
	if (c->listed)
		TAILQ_REMOVE(&c->w->idle, c, idle);
	c->listed = false;
}

static void list_append(struct conn *c)
{
	list_remove(c);
	TAILQ_INSERT_TAIL(&c->w->idle, c, idle);
	c->listed = true;
}

/* Enters a state, with its deadline counted from now. */
static void conn_enter(struct conn *c, enum conn_state s)
{
	struct worker *w = c->w;
	c->state = s;
	const struct timeval *tv = NULL;
	switch (s) {
	case C_PROXY:
	case C_HEAD: tv = w->tv_header; break;
	case C_BODY: tv = w->tv_body; break;
	case C_WRITE: tv = w->tv_body; break;
	case C_IDLE: tv = w->tv_idle; break;
	case C_LINGER: tv = w->tv_linger; break;
	case C_STREAM: tv = w->tv_stream; break;
	case C_BUSY: break;
	}
	/* Connections holding no request may be closed to admit others, oldest first. */
	if (s == C_PROXY || s == C_HEAD || s == C_IDLE || s == C_LINGER)
		list_append(c);
	else
		list_remove(c);
	if (tv)
		event_add(&c->tev, tv);
	else
		event_del(&c->tev);
}

static void conn_free(struct conn *c)
{
	struct worker *w = c->w;
	stream_drop(c->stream);
	LIST_REMOVE(c, all);
	h1_free(c->h1);
	evbuffer_free(c->out);
	evbuffer_free(c->body);
	sb_release(&c->pending);
	free(c);
	w->conns--;
	metrics_conn(w->app->metrics, -1);
}

/* Closes the socket at once; the memory goes when nothing on the stack uses it any more. */
static void conn_close(struct conn *c)
{
	if (c->dead)
		return;
	c->dead = true;
	event_del(&c->rev);
	event_del(&c->wev);
	event_del(&c->tev);
	list_remove(c);
	if (c->stream) { /* off the worker's list now; freed with the connection */
		struct stream *s = c->stream;
		event_del(&s->poll_ev);
		event_del(&s->beat_ev);
		LIST_REMOVE(s, link);
		s->c = NULL;
	}
	if (c->counted)
		addr_release(&c->key);
	c->counted = false;
	close(c->fd);
	c->fd = -1;
	if (!c->pumping && !c->r)
		conn_free(c);
}

/* Writes what is queued. False when the connection failed and was closed. */
static bool conn_flush(struct conn *c)
{
	while (evbuffer_get_length(c->out)) {
		int n = evbuffer_write(c->out, c->fd);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				break;
			conn_close(c);
			return false;
		}
		if (n == 0)
			break;
	}
	if (evbuffer_get_length(c->out))
		event_add(&c->wev, NULL);
	else
		event_del(&c->wev);
	return true;
}

static void conn_ready_for_next(struct conn *c)
{
	h1_next(c->h1);
	conn_enter(c, c->pending.len ? C_HEAD : C_IDLE);
	c->resume = true;
	conn_pump(c, NULL, 0);
}

/* The response is out of our hands (written, or queued for a slow reader). */
static void conn_after_response(struct conn *c)
{
	if (c->dead) {
		if (!c->pumping)
			conn_free(c);
		return;
	}
	if (!conn_flush(c))
		return;
	if (evbuffer_get_length(c->out)) {
		conn_enter(c, C_WRITE);
		return;
	}
	if (c->close_after) {
		if (c->linger) {
			/* The client may still be sending (an answer before its body ended): stop
			 * writing, read and drop what comes for a moment, so that our answer is not
			 * destroyed by a reset before it is read. */
			shutdown(c->fd, SHUT_WR);
			conn_enter(c, C_LINGER);
			event_add(&c->rev, NULL);
		} else {
			conn_close(c);
		}
		return;
	}
	conn_ready_for_next(c);
}

static void on_write(evutil_socket_t fd, short what, void *p)
{
	struct conn *c = p;
	(void)fd, (void)what;
	if (!conn_flush(c))
		return;
	if (!evbuffer_get_length(c->out) && c->state == C_WRITE)
		conn_after_response(c);
}

static void conn_timeout(struct conn *c)
{
	atomic_fetch_add_explicit(&conn_timeouts, 1, memory_order_relaxed);
	switch (c->state) {
	case C_HEAD:
		if (!h1_started(c->h1))
			break; /* nothing asked: close quietly */
		/* fall through */
	case C_BODY:
		event_del(&c->rev);
		request_refuse(c, 408, c->state == C_HEAD ? "the request head did not arrive in time"
							  : "the request body did not arrive in time");
		return;
	case C_STREAM:
		stream_end(c); /* its age is up: the client reconnects */
		return;
	default:
		break;
	}
	conn_close(c);
}


static void on_timer(evutil_socket_t fd, short what, void *p)
{
	(void)fd, (void)what;
	conn_timeout(p);
}

/* Parses data in the reading states; stashes what belongs to the next request. */
static void conn_input(struct conn *c, const char *data, size_t n)
{
	struct worker *w = c->w;
	if (c->state == C_LINGER || c->state == C_STREAM)
		return; /* dropped */
	if (c->state == C_PROXY) {
		/* Bounded: proxy_parse asks for more only while a header could still fit. */
		sb_add(&c->pending, data, n);
		struct proxy_info pi;
		size_t used;
		switch (proxy_parse((const uint8_t *)c->pending.buf, c->pending.len, &pi, &used)) {
		case PROXY_MORE:
			return;
		case PROXY_BAD:
			log_warn("a trusted proxy (%s) sent no valid PROXY header: connection closed", c->client_text);
			conn_close(c);
			return;
		case PROXY_DONE:
			break;
		}
		if (!pi.local) {
			c->client = pi.src;
			net_addr_format(&c->client, c->client_text, sizeof(c->client_text));
			c->trusted = net_cidrs_match(trusted, ntrusted, &c->client);
			if (!c->trusted) {
				if (!addr_acquire(&c->client, w->app->cfg.max_conns_per_ip, &c->key)) {
					atomic_fetch_add_explicit(&conn_shed[0], 1, memory_order_relaxed);
					conn_close(c);
					return;
				}
				c->counted = true;
			}
		}
		memmove(c->pending.buf, c->pending.buf + used, c->pending.len - used);
		c->pending.len -= used;
		c->pending.buf[c->pending.len] = 0;
		conn_enter(c, C_HEAD);
		c->resume = true; /* the rest is the first request */
		return;
	}
	while (!c->dead) {
		if (c->state == C_IDLE) {
			if (!n)
				return;
			conn_enter(c, C_HEAD); /* the next request's first byte: its deadline starts */
		}
		if (c->state != C_HEAD && c->state != C_BODY)
			return;
		size_t used;
		enum h1_status st = h1_feed(c->h1, data, n, &used);
		data += used;
		n -= used;
		switch (st) {
		case H1_MORE:
			return;
		case H1_HEAD: {
			const struct h1_request *q = h1_request(c->h1);
			if (!q->has_body)
				continue; /* complete: the next h1_feed says so */
			conn_enter(c, C_BODY);
			/* The client waits for this before it sends the body (unless it already did). */
			if (q->expect_continue && q->has_body && !n) {
				evbuffer_add(c->out, "HTTP/1.1 100 Continue\r\n\r\n", 25);
				if (!conn_flush(c))
					return;
			}
			continue;
		}
		case H1_DONE:
			if (n)
				sb_add(&c->pending, data, n);
			c->close_after = !h1_request(c->h1)->keep_alive;
			/* Reading stops while the handler has the request: conn_pump takes the read
			 * event off only if the answer is not out by then (a deferred handler, a slow
			 * reader), so the usual request costs no epoll_ctl. */
			conn_enter(c, C_BUSY);
			request_run(c);
			return;
		case H1_ERROR: {
			const char *why;
			int status = h1_error(c->h1, &why);
			event_del(&c->rev);
			conn_enter(c, C_BUSY);
			request_refuse(c, status, why);
			return;
		}
		}
	}
}

/* Feeds bytes, then what is pending, until the connection waits for something. Never
 * re-entered for one connection: a response completed from inside (a synchronous handler)
 * sets c->resume, and this loop takes the pending bytes up. */
static void conn_pump(struct conn *c, const char *data, size_t n)
{
	if (c->pumping) {
		c->resume = true;
		return;
	}
	c->pumping = true;
	if (n)
		conn_input(c, data, n);
	while (!c->dead && c->resume) {
		c->resume = false;
		if (c->pending.len && (c->state == C_HEAD || c->state == C_IDLE || c->state == C_BODY)) {
			struct sb p = c->pending;
			c->pending = (struct sb)SB_INIT;
			conn_input(c, p.buf, p.len);
			sb_release(&p);
		}
	}
	c->pumping = false;
	if (c->dead) {
		if (!c->r)
			conn_free(c);
		return;
	}
	if (c->state == C_BUSY || c->state == C_WRITE)
		event_del(&c->rev);
	else
		event_add(&c->rev, NULL);
}

static void on_read(evutil_socket_t fd, short what, void *p)
{
	struct conn *c = p;
	struct worker *w = c->w;
	(void)what;
	ssize_t n = recv(fd, w->rbuf, READ_CHUNK, 0);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		conn_close(c);
		return;
	}
	if (n == 0) {
		/* The client is gone (or half-closed with nothing more to ask). */
		conn_close(c);
		return;
	}
	conn_pump(c, w->rbuf, (size_t)n);
}

/* A quick 503 for a connection we will not serve, then close: written straight to the new
 * socket, whose send buffer is empty. The request is never read, so the body is plain text
 * in both languages; the fields are those of every response. */
static void shed(int fd, int kind)
{
	atomic_fetch_add_explicit(&conn_shed[kind], 1, memory_order_relaxed);
	char id[20], msg[1024];
	snprintf(id, sizeof(id), "%08llx%08llx", (unsigned long long)(boot_id & 0xffffffffu),
		 (unsigned long long)atomic_fetch_add(&request_seq, 1));
	int len = snprintf(msg, sizeof(msg),
			   "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
			   "Content-Length: %zu\r\nRetry-After: 5\r\nConnection: close\r\n"
			   "Content-Security-Policy: " CSP "\r\nX-Content-Type-Options: nosniff\r\n"
			   "Referrer-Policy: strict-origin-when-cross-origin\r\nX-Frame-Options: DENY\r\n"
			   "X-Request-Id: %s\r\n\r\n%s",
			   strlen(shed_body), id, shed_body);
	if (len > 0 && (size_t)len < sizeof(msg)) {
		ssize_t k = send(fd, msg, (size_t)len, MSG_DONTWAIT | MSG_NOSIGNAL);
		(void)k;
	}
	/* Half-close and let the kernel finish: a reset could destroy the answer unread. */
	shutdown(fd, SHUT_WR);
	close(fd);
}

/* Closes the oldest connection holding no request, to make room. */
static bool evict_one(struct worker *w)
{
	struct conn *c = TAILQ_FIRST(&w->idle);
	if (!c)
		return false;
	atomic_fetch_add_explicit(&conn_evicted, 1, memory_order_relaxed);
	conn_close(c);
	return true;
}

static void admit(struct worker *w, int fd, const struct sockaddr *sa, socklen_t sl)
{
	struct net_addr peer;
	if (net_addr_from_sockaddr(sa, sl, &peer))
		memset(&peer, 0, sizeof(peer));
	bool is_trusted = peer.family && net_cidrs_match(trusted, ntrusted, &peer);
	struct net_addr key;
	bool counted = false;
	/* A trusted proxy carries many clients: they are counted once its PROXY header names
	 * them, or not at all. */
	if (!is_trusted) {
		if (!addr_acquire(&peer, w->app->cfg.max_conns_per_ip, &key)) {
			shed(fd, 0);
			return;
		}
		counted = true;
	}
	if (w->conns >= w->max_conns && !evict_one(w)) {
		if (counted)
			addr_release(&key);
		shed(fd, 1);
		return;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	struct conn *c = xcalloc(1, sizeof(*c));
	c->w = w;
	c->fd = fd;
	c->peer = c->client = peer;
	c->key = key;
	c->counted = counted;
	c->trusted = is_trusted;
	net_addr_format(&peer, c->client_text, sizeof(c->client_text));
	c->h1 = h1_new(&w->limits);
	c->out = evbuffer_new();
	c->body = evbuffer_new();
	c->pending = (struct sb)SB_INIT;
	event_assign(&c->rev, w->base, fd, EV_READ | EV_PERSIST, on_read, c);
	event_assign(&c->wev, w->base, fd, EV_WRITE | EV_PERSIST, on_write, c);
	evtimer_assign(&c->tev, w->base, on_timer, c);
	LIST_INSERT_HEAD(&w->all, c, all);
	w->conns++;
	metrics_conn(w->app->metrics, 1);
	conn_enter(c, is_trusted && w->app->cfg.proxy_protocol ? C_PROXY : C_HEAD);
	event_add(&c->rev, NULL);
}

static void accept_pause(struct worker *w)
{
	if (w->lfd < 0)
		return;
	event_del(&w->lev);
	w->backoff_ms = w->backoff_ms ? w->backoff_ms * 2 : BACKOFF_MIN_MS;
	if (w->backoff_ms > BACKOFF_MAX_MS)
		w->backoff_ms = BACKOFF_MAX_MS;
	struct timeval tv = { w->backoff_ms / 1000, (w->backoff_ms % 1000) * 1000 };
	evtimer_add(&w->backoff_ev, &tv);
}

static void on_backoff(evutil_socket_t fd, short what, void *p)
{
	struct worker *w = p;
	(void)fd, (void)what;
	if (w->reserve_fd < 0)
		w->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (w->lfd >= 0 && !w->stopping)
		event_add(&w->lev, NULL);
}

/* Out of descriptors: give the reserve up to take the waiting connections and shed them, so
 * clients get an answer instead of hanging in the backlog, then pause accepting. */
static void shed_waiting(struct worker *w)
{
	int shed_n = 0;
	while (w->reserve_fd >= 0 && shed_n < ACCEPT_BATCH) {
		close(w->reserve_fd);
		w->reserve_fd = -1;
		int fd = accept4(w->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			shed(fd, 2);
			shed_n++;
		}
		w->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			break;
	}
	log_warn("accept: out of file descriptors (RLIMIT_NOFILE): shedding new connections and pausing");
	accept_pause(w);
}

static void on_accept(evutil_socket_t lfd, short what, void *p)
{
	struct worker *w = p;
	(void)what;
	for (int i = 0; i < ACCEPT_BATCH && !w->stopping; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
				continue;
			if (errno == EMFILE || errno == ENFILE) {
				shed_waiting(w);
				return;
			}
			/* ENOBUFS, ENOMEM and the like: try again a little later, not at once. */
			log_warn("accept: %s: pausing", strerror(errno));
			accept_pause(w);
			return;
		}
		w->backoff_ms = 0;
		admit(w, fd, (struct sockaddr *)&ss, sl);
	}
}

/* ---- workers ---- */

static void close_listener(struct worker *w)
{
	if (w->lfd < 0)
		return;
	event_del(&w->lev);
	event_del(&w->backoff_ev);
	close(w->lfd);
	w->lfd = -1;
}

static void on_tick(evutil_socket_t fd, short what, void *p)
{
	struct worker *w = p;
	(void)fd, (void)what;
	if (w->index == 0)
		log_repeats_flush(false);
}

/* True when no request is in flight, half received or half sent. */
static bool drained(struct worker *w)
{
	if (w->inflight > 0)
		return false;
	struct conn *c;
	LIST_FOREACH(c, &w->all, all)
		if (c->state == C_BODY || c->state == C_BUSY || c->state == C_WRITE ||
		    (c->state == C_HEAD && h1_started(c->h1)))
			return false;
	return true;
}

static void on_drain(evutil_socket_t fd, short what, void *p)
{
	struct worker *w = p;
	(void)fd, (void)what;
	/* Connections that hold nothing are closed; the others finish their request (its response
	 * carries Connection: close) until the grace period ends. */
	for (struct conn *c = TAILQ_FIRST(&w->idle), *next; c; c = next) {
		next = TAILQ_NEXT(c, idle);
		if (c->state != C_HEAD || !h1_started(c->h1))
			conn_close(c);
	}
	if (drained(w) || time(NULL) >= w->stop_deadline)
		event_base_loopbreak(w->base);
}

static void on_stop(evutil_socket_t fd, short what, void *p)
{
	struct worker *w = p;
	(void)fd, (void)what;
	w->stopping = true;
	close_listener(w);
	/* Streams hold no request: they end now (their clients reconnect to another node). */
	while (!LIST_EMPTY(&w->streams))
		stream_end(LIST_FIRST(&w->streams)->c);
	w->stop_deadline = time(NULL) + GRACE_SECONDS;
	struct timeval tv = { 0, 20000 };
	w->drain_ev = event_new(w->base, -1, EV_PERSIST, on_drain, w);
	event_add(w->drain_ev, &tv);
}

static void *worker_main(void *p)
{
	struct worker *w = p;
	char name[16];
	snprintf(name, sizeof(name), "gh-worker-%d", w->index);
	pthread_setname_np(pthread_self(), name); /* top -H, perf --sort comm */
	event_base_dispatch(w->base);
	return NULL;
}

static const struct timeval *common_timeout(struct event_base *base, long seconds)
{
	struct timeval tv = { seconds, 0 };
	return event_base_init_common_timeout(base, &tv);
}

static int worker_init(struct worker *w, struct app *app, int index, int fd, long max_conns, char *err,
		       size_t errlen)
{
	w->index = index;
	w->app = app;
	w->lfd = fd;
	TAILQ_INIT(&w->idle);
	LIST_INIT(&w->all);
	LIST_INIT(&w->streams);
	w->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	w->max_conns = max_conns;
	w->cache = cache_new(1024, 64u << 20);
	w->rbuf = xmalloc(READ_CHUNK);
	w->head = (struct sb)SB_INIT;
	w->limits = (struct h1_limits){ .max_target = (size_t)app->cfg.max_uri,
					.max_head = (size_t)app->cfg.max_headers,
					.max_fields = MAX_FIELDS,
					.max_body = (size_t)app->cfg.max_body };
	w->base = event_base_new();
	if (!w->base)
		die("libevent: cannot create event base");
	w->tv_header = common_timeout(w->base, app->cfg.header_timeout);
	w->tv_body = common_timeout(w->base, app->cfg.body_timeout);
	w->tv_idle = common_timeout(w->base, app->cfg.idle_timeout);
	w->tv_linger = common_timeout(w->base, LINGER_SECONDS);
	w->tv_stream = common_timeout(w->base, app->cfg.stream_max_age);
	w->wake_ev = event_new(w->base, -1, 0, on_stream_wake, w);
	event_assign(&w->lev, w->base, fd, EV_READ | EV_PERSIST, on_accept, w);
	evtimer_assign(&w->backoff_ev, w->base, on_backoff, w);
	event_assign(&w->tick_ev, w->base, -1, EV_PERSIST, on_tick, w);
	struct timeval sec = { 1, 0 };
	event_add(&w->tick_ev, &sec);
	event_add(&w->lev, NULL);
	int rc = db_open_named(app->cfg.db, "govhall worker", &w->db, err, errlen);
	if (rc)
		return rc;
	/* Loops read; with a writer, their connections refuse writes in every build (write.h). */
	if (app->group && (rc = db_refuse_writes(w->db))) {
		snprintf(err, errlen, "cannot make the worker's database connection read-only: %s", db_last_error(w->db));
		return rc;
	}
	w->stop_ev = event_new(w->base, -1, 0, on_stop, w);
	return 0;
}

static void worker_release(struct worker *w)
{
	/* Every connection still open: their requests were answered, or abandoned when the
	 * grace period ended. */
	while (!LIST_EMPTY(&w->all)) {
		struct conn *c = LIST_FIRST(&w->all);
		conn_close(c);
		if (LIST_FIRST(&w->all) == c) { /* still holding a request that never completed */
			arena_free(c->r->arena);
			w->inflight--;
			c->r = NULL;
			c->pumping = false;
			conn_free(c);
		}
	}
	if (w->base) {
		close_listener(w);
		event_del(&w->tick_ev);
	}
	if (w->drain_ev)
		event_free(w->drain_ev);
	if (w->wake_ev)
		event_free(w->wake_ev);
	if (w->stop_ev)
		event_free(w->stop_ev);
	if (w->base)
		event_base_free(w->base);
	if (w->db)
		db_close(w->db);
	if (w->reserve_fd >= 0)
		close(w->reserve_fd);
	while (w->nspare)
		arena_free(w->spare[--w->nspare]);
	cache_free(w->cache);
	for (size_t i = 0; i < ARRAY_LEN(w->locals); i++)
		if (w->locals[i].make && w->locals[i].release)
			w->locals[i].release(w->locals[i].p);
	sb_release(&w->head);
	free(w->rbuf);
}

/* A listening socket on host:port shared by the workers (SO_REUSEPORT). */
static int listen_socket(const struct addrinfo *ai, char *err, size_t errlen)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) || bind(fd, ai->ai_addr, ai->ai_addrlen) ||
	    listen(fd, 4096)) {
		snprintf(err, errlen, "cannot listen: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* SO_REUSEPORT lets any process of the same user bind the port too, and the kernel would
 * split connections between it and us. So before the workers bind, one socket without
 * SO_REUSEPORT tries the address: it fails if anything listens there already. */
static int port_free(const struct addrinfo *ai, char *err, size_t errlen)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0) {
		snprintf(err, errlen, "cannot create a socket: %s", strerror(errno));
		return -1;
	}
	/* SO_REUSEADDR only lets us past connections of an earlier run in TIME_WAIT. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	int rc = bind(fd, ai->ai_addr, ai->ai_addrlen);
	int e = errno;
	close(fd);
	if (rc) {
		if (e == EADDRINUSE)
			snprintf(err, errlen, "the address is already in use by another process (another govhall, or "
					      "another server): stop it or choose another --listen");
		else
			snprintf(err, errlen, "cannot listen: %s", strerror(e));
		return -1;
	}
	return 0;
}

/* Raises the descriptor limit (to the hard limit, or to max-open-files) and returns it. */
static long raise_nofile(long want)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl))
		return 1024;
	rlim_t target = want > 0 ? (rlim_t)want : rl.rlim_max;
	if (target == RLIM_INFINITY)
		target = 1u << 20;
	struct rlimit next = { target, rl.rlim_max };
	if (target > rl.rlim_max)
		next.rlim_max = target; /* may work as root; otherwise the hard limit is the most */
	if (setrlimit(RLIMIT_NOFILE, &next)) {
		next = (struct rlimit){ target < rl.rlim_max ? target : rl.rlim_max, rl.rlim_max };
		if (setrlimit(RLIMIT_NOFILE, &next))
			log_warn("cannot set the descriptor limit to %llu: %s", (unsigned long long)target, strerror(errno));
	}
	getrlimit(RLIMIT_NOFILE, &rl);
	return rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (rlim_t)LONG_MAX ? LONG_MAX : (long)rl.rlim_cur;
}

static void libevent_log(int severity, const char *msg)
{
	enum log_level l = severity >= EVENT_LOG_ERR ? LOG_ERROR : severity >= EVENT_LOG_WARN ? LOG_WARN
						: severity >= EVENT_LOG_MSG ? LOG_INFO : LOG_DEBUG;
	log_msg(l, "libevent: %s", msg);
}

int server_run(struct app *app)
{
	char err[512];
	evthread_use_pthreads();
	event_set_log_callback(libevent_log);
	boot_id = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20);
	snprintf(shed_body, sizeof(shed_body), "%s %s\n", app->view ? view_msg(app->view, "zh", "err_busy") : "",
		 app->view ? view_msg(app->view, "en", "err_busy") : "503");

	const char *list = app->cfg.trusted_proxies;
	if ((!list || !*list) && app->cfg.trust_proxy)
		list = "127.0.0.0/8, ::1";
	if (net_cidrs_parse(list, &trusted, &ntrusted, err, sizeof(err))) {
		fprintf(stderr, "govhall: trusted-proxies: %s\n", err);
		return GH_EINVAL;
	}
	if (app->cfg.proxy_protocol && !ntrusted) {
		fprintf(stderr, "govhall: proxy-protocol needs trusted-proxies (the addresses of the proxies that send it)\n");
		free(trusted);
		return GH_EINVAL;
	}

	char host[256];
	const char *colon = strrchr(app->cfg.listen, ':');
	size_t hl = (size_t)(colon - app->cfg.listen);
	if (hl >= sizeof(host)) {
		fprintf(stderr, "govhall: listen address too long\n");
		free(trusted);
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

	/* Connections get what the descriptor limit leaves after a reserve for the database,
	 * templates, static files, the job pool's sockets and the listeners. */
	long nofile = raise_nofile(app->cfg.max_open_files);
	long reserve = 64 + 8 * n + 2 * app->cfg.job_threads;
	long per_worker = nofile > reserve ? (nofile - reserve) / n : 1;
	if (per_worker < 1)
		per_worker = 1;
	long max_conns = app->cfg.max_conns < per_worker ? app->cfg.max_conns : per_worker;

	/* Block the stop signals in every thread; the main thread waits for them. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res;
	int e = getaddrinfo(*host ? host : NULL, port, &hints, &res);
	if (e) {
		fprintf(stderr, "govhall: cannot resolve %s: %s\n", host, gai_strerror(e));
		free(trusted);
		return GH_EUNAVAILABLE;
	}
	if (strcmp(port, "0") != 0 && port_free(res, err, sizeof(err))) {
		fprintf(stderr, "govhall: cannot listen on %s:%s: %s\n", host, port, err);
		freeaddrinfo(res);
		free(trusted);
		return GH_EUNAVAILABLE;
	}

	struct worker *ws = xcalloc((size_t)n, sizeof(*ws));
	int rc = 0;
	long started = 0;
	for (long i = 0; i < n; i++) {
		int fd = listen_socket(res, err, sizeof(err));
		if (fd < 0) {
			fprintf(stderr, "govhall: %s:%s: %s\n", host, port, err);
			rc = GH_EUNAVAILABLE;
			break;
		}
		if (i == 0 && strcmp(port, "0") == 0) {
			/* With port 0 the kernel picks one; the other workers share it. */
			struct sockaddr_storage ss;
			socklen_t sl = sizeof(ss);
			getsockname(fd, (struct sockaddr *)&ss, &sl);
			int p = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
							       : ((struct sockaddr_in *)&ss)->sin_port);
			snprintf(port, sizeof(port), "%d", p);
			freeaddrinfo(res);
			if (getaddrinfo(*host ? host : NULL, port, &hints, &res)) {
				close(fd);
				res = NULL;
				rc = GH_EUNAVAILABLE;
				break;
			}
		}
		rc = worker_init(&ws[i], app, (int)i, fd, max_conns, err, sizeof(err));
		started = i + 1;
		if (rc) {
			fprintf(stderr, "govhall: %s\n", err);
			break;
		}
	}
	if (res)
		freeaddrinfo(res);
	if (rc) {
		for (long i = 0; i < started; i++)
			worker_release(&ws[i]);
		free(ws);
		free(trusted);
		return rc;
	}
	atomic_store(&stream_nworkers, n);
	atomic_store(&stream_workers, ws);
	log_async_start(); /* no loop waits for stderr (base/log.h) */
	for (long i = 0; i < n; i++)
		if (pthread_create(&ws[i].thread, NULL, worker_main, &ws[i]))
			die("cannot start worker thread");

	printf("listening on http://%s%s%s:%s\n", strchr(host, ':') ? "[" : "", host,
	       strchr(host, ':') ? "]" : "", port);
	fflush(stdout);
	log_info("govhall %s serving on %s:%s with %ld workers, database %s; %ld file descriptors, at most %ld "
		 "connections per worker, %ld per client address",
		 GOVHALL_VERSION, host, port, n, db_kind_name(ws[0].db), nofile, max_conns, app->cfg.max_conns_per_ip);

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
	atomic_store(&stream_workers, NULL);
	for (long i = 0; i < n; i++)
		worker_release(&ws[i]);
	free(ws);
	free(trusted);
	trusted = NULL;
	ntrusted = 0;
	log_info("stopped");
	log_repeats_flush(true);
	log_async_stop();
	return 0;
}
