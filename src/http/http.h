/* http.h: requests, responses and routes as handlers see them.
 *
 * A handler is `int fn(struct req *r)`. It either produces a response (resp_*) and returns 0,
 * or returns a GH_E* code and produces nothing: the server then answers with that code's
 * status and public message, as JSON under /api/ and as an HTML page elsewhere (an optional
 * detail string set with req_error_detail() is shown to the client). Handlers never see
 * libevent.
 *
 * Memory: everything reachable from a struct req (decoded path, parameters, query, form,
 * cookies) lives in r->arena and dies with the request. Handlers allocate from r->arena too.
 *
 * Routes are data: each domain exports a table of struct route; main.c hands the tables to
 * the router. A route declares who may call it (roles) and whether it changes state (CSRF).
 */
#ifndef GH_HTTP_H
#define GH_HTTP_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/arena.h"
#include "base/sb.h"
#include "base/str.h"

enum http_method {
	HTTP_GET = 1 << 0,
	HTTP_HEAD = 1 << 1,
	HTTP_POST = 1 << 2,
	HTTP_PUT = 1 << 3,
	HTTP_DELETE = 1 << 4,
	HTTP_PATCH = 1 << 5,
	HTTP_OPTIONS = 1 << 6,
};

/* Who may call a route. The identity module (app->authenticate) sets the caller's role from
 * the session cookie (pages) or the bearer token (/api/); everyone else is ROLE_ANON. */
enum role {
	ROLE_ANON = 1 << 0,
	ROLE_CITIZEN = 1 << 1,
	ROLE_AGENT = 1 << 2,
	ROLE_ENTERPRISE = 1 << 3,
	ROLE_STAFF = 1 << 4,
	ROLE_ADMIN = 1 << 5,
	ROLE_SYSTEM = 1 << 6, /* other systems with API keys */
};
#define ROLE_PUBLIC (ROLE_ANON | ROLE_CITIZEN | ROLE_AGENT | ROLE_ENTERPRISE | ROLE_STAFF | ROLE_ADMIN | ROLE_SYSTEM)
/* Anyone logged in as a person or an enterprise. */
#define ROLE_USER (ROLE_CITIZEN | ROLE_AGENT | ROLE_ENTERPRISE | ROLE_STAFF | ROLE_ADMIN)

/* Staff duties within a department (struct caller.staff_roles). */
enum staff_role {
	STAFF_COUNTER = 1 << 0,  /* 窗口受理: counter clerk */
	STAFF_REVIEWER = 1 << 1, /* 审核: reviewer */
	STAFF_HEAD = 1 << 2,     /* 部门负责人: department head */
};

/* The authenticated caller (all zero for anonymous visitors). Ownership checks use these
 * fields: a citizen owns rows with their account id, an agent and an enterprise those of
 * `enterprise`, staff those of `department`, administrators everything. */
struct caller {
	int64_t account;        /* the account logged in */
	int64_t enterprise;     /* the enterprise acted for (enterprise account, or agent) */
	const char *kind;       /* "individual", "enterprise", "staff", "admin" */
	const char *name;       /* display name */
	const char *department; /* staff: department code */
	unsigned staff_roles;   /* STAFF_* bits */
	unsigned scopes;        /* bearer tokens: SCOPE_* bits granted; sessions: all */
	int64_t session;        /* id of the session or API token */
	bool token;             /* authenticated by a bearer token (/api/) */
	bool mfa_pending;       /* password accepted, second factor still due */
};

enum route_flag {
	ROUTE_CSRF = 1 << 0,     /* state-changing form: requires the CSRF token */
	ROUTE_NOLOG = 1 << 1,    /* health probes: not logged per request */
	ROUTE_NOAUTH = 1 << 2,   /* no session look-up (static files, probes) */
};

struct req;
typedef int (*route_fn)(struct req *r);

struct route {
	unsigned methods;    /* HTTP_* bits; GET implies HEAD */
	const char *pattern; /* "/services/{code}"; a final "{rest*}" matches the remaining path */
	route_fn fn;
	unsigned roles;      /* ROLE_* bits; 0 is a programming error (refused at start) */
	unsigned flags;      /* ROUTE_* bits */
	const char *name;    /* stable name for logs and metrics, e.g. "catalog.item" */
	/* Optional: makes GET responses cacheable on each node (http/cache.h). Sets *gen to the
	 * current generation of the data the page shows; returns 0, or a GH_E code to bypass
	 * the cache. The response must not depend on anything but language, path and query. */
	int (*cache)(struct req *r, uint64_t *gen);
	/* SCOPE_* bits a bearer token must carry to call this route (0 = any token). */
	unsigned scopes;
	/* STAFF_* bits: a staff caller needs one of these duties (0 = none needed). The server
	 * answers 403 before the handler; navigation and page links follow it (router_can). */
	unsigned duties;
};

/* Scopes of API tokens: what an app, mini-program or kiosk may do with a token. */
enum scope {
	SCOPE_PROFILE = 1 << 0,      /* read the account's own profile */
	SCOPE_ACCOUNT = 1 << 1,      /* change the account: password, agents, tokens */
	SCOPE_APPLY = 1 << 2,        /* file and follow applications */
	SCOPE_ADMIN = 1 << 3,        /* administrators' API */
};
#define SCOPE_ALL (SCOPE_PROFILE | SCOPE_ACCOUNT | SCOPE_APPLY | SCOPE_ADMIN)

struct kv {
	const char *key, *val;
	size_t val_len;
};

struct multipart;

struct kvlist {
	struct kv *v;
	size_t n;
};

struct app;
struct db;
struct worker;

struct req {
	struct arena *arena;
	struct app *app;
	struct db *db;          /* this worker's connection */
	struct worker *worker;
	unsigned method;        /* one HTTP_* bit */
	const char *path;       /* percent-decoded, valid UTF-8, starts with '/' */
	const char *raw_query;  /* undecoded, may be NULL */
	struct kvlist query;    /* decoded */
	struct kvlist params;   /* route parameters, decoded */
	struct kvlist cookies;
	const char *lang;       /* "zh" or "en" */
	bool elder;             /* elder-friendly pages (长辈版): ?elder=1, then the elder cookie */
	bool api;               /* path under /api/: errors answer in JSON */
	unsigned role;          /* ROLE_* bit of the caller */
	struct caller who;      /* who the caller is (zero for anonymous) */
	const char *ip;         /* peer address */
	char id[20];            /* request id (also sent as X-Request-Id) */
	uint64_t seq;           /* this request's number, unique in the process and never 0 (tells
				   apart two requests at one address, as caches kept per worker need) */
	const struct route *route;
	/* response, filled by resp_* */
	int status;
	bool responded;
	const char *error_detail;
	int64_t retry_after;    /* seconds; > 0: the answer carries Retry-After (req_retry_after) */
	void *_ev;              /* the libevent request; server.c only */
	const char *_body;      /* req_body's copy, made once */
	size_t _body_len;
	struct multipart *_mp;  /* req_multipart's result, parsed once */
	int _mp_rc;
	const char *_mp_why;
	uint64_t _start_ns;
};

/* Parameter access: NULL when absent. */
const char *req_param(const struct req *r, const char *name);
const char *req_query(const struct req *r, const char *name);
const char *req_cookie(const struct req *r, const char *name);
const char *req_header(const struct req *r, const char *name);

/* Reads query parameter name as an integer in [min, max]; absent gives def. A present but
 * malformed or out-of-range value returns GH_EINVAL and sets a client-facing detail. */
int req_query_long(struct req *r, const char *name, long def, long min, long max, long *out);

/* Sets the client-facing detail for the error the handler is about to return. */
void req_error_detail(struct req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The answer will carry Retry-After: seconds (at least 1), unless a handler set the field
 * itself. Like req_error_detail, callable from a write on the writer thread (http/write.h). */
void req_retry_after(struct req *r, int64_t seconds);

/* Responses. Each returns 0 so handlers can `return resp_...(...)`. */
void resp_header(struct req *r, const char *name, const char *value);
int resp_body(struct req *r, int status, const char *content_type, const char *body, size_t len);
int resp_json(struct req *r, int status, json_t *j); /* steals j */
int resp_html(struct req *r, int status, struct sb *html); /* releases html */
/* Renders template tpl of the app's view with ctx (stolen) as an HTML page. */
int resp_page(struct req *r, int status, const char *tpl, json_t *ctx);
int resp_redirect(struct req *r, int status, const char *location);
/* Answers with the error page or JSON error of code (GH_E*). */
int resp_error(struct req *r, int code);

/* Decoding (http/form.c). All are strict: bad percent escapes, invalid UTF-8 or NUL bytes
 * give GH_EINVAL; more than max_pairs pairs gives GH_ETOOBIG. Results live in arena. */
int form_decode(struct arena *a, const char *s, size_t len, size_t max_pairs, struct kvlist *out);
/* Percent-decodes a path; '+' stays '+'. Rejects NUL, invalid UTF-8, and ".." segments. */
int path_decode(struct arena *a, const char *s, size_t len, char **out);
/* Parses a Cookie header (RFC 6265 cookie-string, lenient about spaces). */
int cookie_parse(struct arena *a, const char *s, size_t len, size_t max_pairs, struct kvlist *out);
const char *kv_get(const struct kvlist *l, const char *key);

#endif
