/* server.h: the HTTP/1.1 server: N worker threads, each with its own libevent loop,
 * SO_REUSEPORT listening socket and database connection (see server.c for connections, their
 * deadlines and limits).
 *
 * server_run() blocks until SIGTERM or SIGINT, then stops accepting, lets in-flight requests
 * finish (up to a grace period), closes connections and database handles, and returns. */
#ifndef GH_SERVER_H
#define GH_SERVER_H
#include "app.h"

/* Runs the server. Prints "listening on http://HOST:PORT" to stdout (with the real port when
 * the configured one is 0) once every worker is ready. Returns 0 after a clean shutdown, or a
 * GH_E code when it could not start (message on stderr). */
int server_run(struct app *app);

/* Deferred responses: a handler that has slow work calls req_job() and returns its result.
 * work(arg) runs on the job pool; then done(r, arg) runs on the request's event loop and must
 * respond (or return a GH_E code). When the pool is full, req_job returns GH_EBUSY, which
 * becomes 503 with Retry-After. */
#include "http/http.h"
#define REQ_DEFERRED 1
int req_job(struct req *r, void (*work)(void *arg), int (*done)(struct req *r, void *arg), void *arg);
/* The same for modules with a queue of their own (http/write.c's req_write): calls
 * submit(ctx, base, resume, token) with r's event loop; submit queues the work and returns 0
 * (then it must make resume(token) run once on base when the work is done) or a GH_E code
 * (nothing is deferred). After resume, done(r, arg) runs as with req_job. Returns
 * REQ_DEFERRED or submit's error. A done may itself defer more work and return REQ_DEFERRED:
 * the request then waits for that. */
struct event_base;
int req_defer(struct req *r, int (*submit)(void *ctx, struct event_base *base, void (*resume)(void *token), void *token),
	      void *ctx, int (*done)(struct req *r, void *arg), void *arg);

/* Long-lived responses (Server-Sent Events). A handler calls req_stream() and returns its
 * result. The server then sends the status line and fields (200, content_type; chunked in
 * HTTP/1.1, until the close in HTTP/1.0; Cache-Control: no-store, no-transform, so neither a
 * proxy nor this server compresses or buffers it), logs the request, and keeps the connection
 * as a stream. On the worker's loop it calls ops->poll(s, arg) at once, then every
 * ops->poll_ms milliseconds (0: never on a timer) and whenever server_stream_wake() is called
 * (from any thread); poll may stream_send() and returns 0, or non-zero to end the stream.
 * After stream-heartbeat seconds without a send the server sends an SSE comment (":\n\n").
 * The stream ends after stream-max-age seconds (the client reconnects), when the client goes
 * or leaves more than 256 KiB unread, and at once when the server stops; ops->release(arg)
 * then runs on the worker's loop (also when req_stream fails: arg always belongs to the
 * stream from the call on). Limits: stream-max open streams per node, stream-max-per-ip per
 * client address; beyond them req_stream returns GH_EBUSY (503 with Retry-After). A HEAD
 * request gets the head alone. A stream holds no request: it never delays a stop, and it
 * counts as one of the node's connections. */
struct stream;
struct stream_ops {
	int (*poll)(struct stream *s, void *arg);
	void (*release)(void *arg);
	int poll_ms;
};
int req_stream(struct req *r, const char *content_type, const struct stream_ops *ops, void *arg);
/* Sends bytes on the stream (from poll); GH_EIO when the stream is gone (poll should then
 * return non-zero). */
int stream_send(struct stream *s, const char *data, size_t len);
/* The worker's database connection and a scratch arena reset before each poll. */
struct db *stream_db(struct stream *s);
struct arena *stream_arena(struct stream *s);
/* Polls every stream of this process now (after a change its streams show). Thread-safe;
 * nothing when no stream is open or no server runs. */
void server_stream_wake(void);
/* Holds r's answer back: once the handler (or its deferred completion) is done, the answer
 * is sent at the last req_unhold, on r's loop. For work the answer waits for without
 * depending on it (http/write.h's req_write_also). */
void req_hold(struct req *r);
void req_unhold(struct req *r);
/* r's event loop (for completions that must run there, with req_hold). */
struct event_base *req_event_base(struct req *r);

/* Drops the response made so far (status, header fields, body), so that another can be made:
 * for a deferred completion whose work failed after the handler had prepared its answer. */
void resp_discard(struct req *r);

/* A domain's data generation (fn asks the database, e.g. catalog_generation), asked at most
 * once per cache-recheck milliseconds per worker and memoised with the response cache's:
 * for node-local caches of database rows. 0 or fn's error. */
int req_generation(struct req *r, int (*fn)(struct req *r, uint64_t *gen), uint64_t *gen);

/* State a domain keeps per worker thread (a cache of parsed rows, say), made by make() on
 * the worker's first call with this make and freed by release(p) when the worker stops. Only
 * the worker's own thread may use it: nothing there may be handed to the job pool or the
 * group-commit writer (copy what they need into the request's arena). */
void *req_worker_local(struct req *r, void *(*make)(void), void (*release)(void *p));

/* A worker without a loop or a socket, for a command that acts as people do through the
 * domains' request functions (`govhall init --demo` playing its history): its requests have
 * r->worker set to it and r->db = db (the caller's, not closed here), so per-worker state and
 * generations work; their writes (req_write) run at once when app->group is a direct group
 * (store/group.h). They cannot respond: their completions must not call resp_*. */
struct worker *server_offline_worker(struct app *app, struct db *db);
void server_offline_worker_free(struct worker *w);

/* Content coding (http/compress.h). The coding r's answer goes out in, for a body of this
 * Content-Type and length: what Accept-Encoding prefers, when compression is on and the body is
 * worth it. shared: the body is the same for every client (a cached catalog page, a static
 * file); otherwise a request that carries cookies is answered compressed only when the browser
 * says it comes from the hall itself (Sec-Fetch-Site same-origin or none), so a page with a
 * secret is never compressed beside what another site made the browser send (BREACH). The
 * server compresses every other answer itself (finish); a handler that sends a ready-made
 * encoded body sets Content-Encoding and the variant's ETag (etag_variant). */
int req_coding(struct req *r, const char *content_type, size_t len, bool shared);
/* Whether If-None-Match names etag (weak comparison): the caller answers 304. */
bool req_not_modified(struct req *r, const char *etag);

/* Hits and misses of the response caches of all workers (for /metrics). */
void server_cache_stats(uint64_t *hits, uint64_t *misses);

/* Connections refused or cut short, since start (for /metrics). */
struct server_conn_stats {
	uint64_t shed_per_address; /* over max-conns-per-ip: 503 and closed at once */
	uint64_t shed_limit;       /* at the worker's limit with nothing to close for it: 503 */
	uint64_t shed_descriptors; /* accepted on the reserve descriptor when out of them: 503 */
	uint64_t evicted;          /* holding no request, closed to admit a new connection */
	uint64_t timeouts;         /* a deadline passed (header, body, idle, sending, linger) */
	long streams;              /* long-lived responses open now (req_stream) */
	uint64_t streams_refused;  /* refused over stream-max or stream-max-per-ip */
};
void server_conn_stats(struct server_conn_stats *s);

/* The request body (NUL-terminated copy in r->arena, made once per request); *len may be
 * NULL. */
const char *req_body(struct req *r, size_t *len);
/* The multipart/form-data body, parsed once per request however often it is asked for (the
 * CSRF check and the handler both read it). GH_EUNSUPPORTED for another content type,
 * GH_EINVAL / GH_ETOOBIG for a malformed or oversized one (*why, may be NULL: a short reason). */
struct multipart;
int req_multipart(struct req *r, const struct multipart **out, const char **why);
/* Decodes an application/x-www-form-urlencoded body; GH_EUNSUPPORTED for another type. */
int req_form(struct req *r, struct kvlist *out);

#endif
