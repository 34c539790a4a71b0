/* h1.h: the HTTP/1.1 request parser (RFC 9112), strict where the RFC says reject, because a
 * server that reads a message differently from the proxy in front of it can be smuggled
 * requests past the proxy.
 *
 * llhttp (Debian's node-llhttp, compiled in from the system's sources) tokenizes the request
 * line and fields and decodes Content-Length and chunked framing. In front of it runs a
 * line scanner over the head and the trailer section that refuses what llhttp 8 lets through:
 * bare CR or LF, obs-fold, whitespace before a colon, empty field names, control bytes, a
 * request line with other than two single spaces, a version not "HTTP/<digit>.<digit>".
 * When the head is complete the fields are checked: exactly one Host in HTTP/1.1; at most one
 * Content-Length, Content-Type, Authorization and Host; Transfer-Encoding only in HTTP/1.1,
 * with chunked last and once (else 400) and no other coding (501); never with Content-Length
 * (400); Expect only 100-continue (417); a method we serve (501 otherwise). Chunk extensions
 * are accepted and ignored, trailer fields are checked and dropped.
 *
 * One parser per connection; it holds at most one request at a time. Bytes go in through
 * h1_feed in whatever pieces they arrive; what a request needs (target, fields, body) is
 * copied into the parser, so the caller may reuse its read buffer. Limits bound every copy:
 * the target (414), the head's fields in bytes and number (431), the body (413). After an
 * error the connection must be closed once the error is answered.
 */
#ifndef GH_H1_H
#define GH_H1_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct h1;

struct h1_limits {
	size_t max_target; /* bytes of the request target */
	size_t max_head;   /* bytes of the field lines (the head without its request line) */
	size_t max_fields; /* number of field lines */
	size_t max_body;   /* bytes of the body (decoded) */
};

struct h1_field {
	const char *name;  /* as sent (case kept), NUL-terminated */
	const char *value; /* without surrounding whitespace, NUL-terminated */
	size_t value_len;
};

/* The request being parsed. Fields are valid from H1_HEAD, the body and keep_alive from
 * H1_DONE, until h1_next(). */
struct h1_request {
	const char *method;  /* "GET", "POST", ...: one we serve (others are a 501 error) */
	const char *target;  /* the request target as sent, NUL-terminated */
	size_t target_len;
	int minor;           /* HTTP/1.<minor>: 0 or 1 */
	const struct h1_field *fields;
	size_t nfields;
	bool has_body;        /* a Content-Length > 0 or chunked */
	bool chunked;
	bool expect_continue; /* "Expect: 100-continue" in HTTP/1.1 */
	uint64_t content_length; /* when !chunked */
	const char *body;     /* NUL-terminated (the NUL not counted) */
	size_t body_len;
	bool keep_alive;      /* the connection may carry another request after this one */
};

enum h1_status {
	H1_MORE,  /* every byte consumed; the request needs more */
	H1_HEAD,  /* the head just completed (once per request): check it, maybe send 100 Continue,
		   * then call h1_feed again with the rest (even when nothing is left) */
	H1_DONE,  /* the request is complete; bytes after *used belong to the next one */
	H1_ERROR, /* h1_error() has the status; answer it and close the connection */
};

struct h1 *h1_new(const struct h1_limits *lim);
void h1_free(struct h1 *h);
/* Parses len bytes; *used is how many were consumed. */
enum h1_status h1_feed(struct h1 *h, const char *data, size_t len, size_t *used);
/* Starts the next request on the same connection (after H1_DONE). Large buffers are freed. */
void h1_next(struct h1 *h);
/* True once any byte of the current request (leading empty lines included) has arrived. */
bool h1_started(const struct h1 *h);
/* True once the head is complete (the body, if any, is being read). */
bool h1_in_body(const struct h1 *h);
const struct h1_request *h1_request(const struct h1 *h);
/* The request target as soon as the request line has been parsed (also when the request
 * failed later, so that an error under /api/ can answer in JSON); when the request failed
 * before that, the first bytes of the target seen, if any (enough to tell /api/); else NULL. */
const char *h1_target(const struct h1 *h);
/* The first field with this name (case-insensitive), or NULL. */
const char *h1_field(const struct h1 *h, const char *name);
/* After H1_ERROR: the HTTP status to answer (400, 413, 414, 417, 431, 501, 505) and a short
 * reason for the log (*why, may be NULL). */
int h1_error(const struct h1 *h, const char **why);

#endif
