/* err.h: the project's error codes. Functions return int: 0 on success, a negative
 * GH_E* code on failure. One X-macro table maps each code to an HTTP status and a stable JSON
 * slug (after libuv's UV_ERRNO_MAP); the public message for citizens is the catalog's
 * "err_<slug>" (data/i18n, http/msg.h: M_err). Details for operators go to the log only. */
#ifndef GH_ERR_H
#define GH_ERR_H

#define GH_ERRORS(X)                                  \
	X(INVAL, 400, "bad_request")                  \
	X(VALIDATION, 422, "validation_failed")       \
	X(UNAUTH, 401, "unauthenticated")             \
	X(FORBIDDEN, 403, "forbidden")                \
	X(CSRF, 403, "csrf_failed")                   \
	X(NOTFOUND, 404, "not_found")                 \
	X(METHOD, 405, "method_not_allowed")          \
	X(CONFLICT, 409, "conflict")                  \
	X(TOOBIG, 413, "too_large")                   \
	X(URITOOLONG, 414, "uri_too_long")            \
	X(TIMEOUT, 408, "request_timeout")            \
	X(HEADERS, 431, "headers_too_large")          \
	X(EXPECT, 417, "expectation_failed")          \
	X(NOTIMPL, 501, "not_implemented")            \
	X(VERSION, 505, "http_version_not_supported") \
	X(UNSUPPORTED, 415, "unsupported_media_type") \
	X(RATELIMIT, 429, "rate_limited")             \
	X(BUSY, 503, "busy")                          \
	X(UNAVAILABLE, 503, "unavailable")            \
	X(DB, 500, "internal_error")                  \
	X(IO, 500, "internal_error")                  \
	X(INTERNAL, 500, "internal_error")

enum gh_err {
	GH_OK = 0,
	GH_E_FIRST_ = -1000,
#define GH_ERR_ENUM(name, status, slug) GH_E##name,
	GH_ERRORS(GH_ERR_ENUM)
#undef GH_ERR_ENUM
	GH_E_LAST_
};

/* For a GH_E* code (anything else counts as GH_EINTERNAL): */
int err_status(int code);
const char *err_slug(int code);
const char *err_name(int code);

#endif
