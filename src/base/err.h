/* err.h: the project's error codes. Functions return int: 0 on success, a negative
 * GH_E* code on failure. One X-macro table maps each code to an HTTP status, a stable JSON
 * slug and a public message in both languages (after libuv's UV_ERRNO_MAP). Public messages
 * are for citizens; details for operators go to the log only. */
#ifndef GH_ERR_H
#define GH_ERR_H

#define GH_ERRORS(X)                                                                          \
	X(INVAL, 400, "bad_request", "请求有误，请检查后重试。",                                 \
	  "The request is not valid. Please check it and try again.")                             \
	X(VALIDATION, 422, "validation_failed", "提交的内容有误，请按提示修改。",               \
	  "Some of the information is not valid. Please correct it as shown.")                    \
	X(UNAUTH, 401, "unauthenticated", "请先登录。", "Please log in first.")                  \
	X(FORBIDDEN, 403, "forbidden", "您没有权限执行此操作。",                                 \
	  "You do not have permission to do this.")                                               \
	X(CSRF, 403, "csrf_failed", "页面已过期，请刷新后重试。",                                \
	  "This page has expired. Please reload it and try again.")                               \
	X(NOTFOUND, 404, "not_found", "找不到您要的页面或数据。",                                \
	  "We could not find what you were looking for.")                                         \
	X(METHOD, 405, "method_not_allowed", "不支持该请求方法。",                               \
	  "This method is not allowed here.")                                                     \
	X(CONFLICT, 409, "conflict", "数据已存在或已被修改，请刷新后重试。",                    \
	  "This already exists or was changed meanwhile. Please reload and try again.")           \
	X(TOOBIG, 413, "too_large", "提交的内容过大。", "What you sent is too large.")          \
	X(URITOOLONG, 414, "uri_too_long", "网址过长。", "The address is too long.")             \
	X(TIMEOUT, 408, "request_timeout", "请求未能及时送达，请重试。",                        \
	  "The request did not arrive in time. Please try again.")                                \
	X(HEADERS, 431, "headers_too_large", "请求头过大。", "The request headers are too large.") \
	X(EXPECT, 417, "expectation_failed", "不支持该 Expect 请求头。",                         \
	  "This expectation is not supported.")                                                   \
	X(NOTIMPL, 501, "not_implemented", "服务器不支持该请求方式。",                           \
	  "The server does not support this kind of request.")                                    \
	X(VERSION, 505, "http_version_not_supported", "不支持该 HTTP 版本。",                    \
	  "This HTTP version is not supported.")                                                  \
	X(UNSUPPORTED, 415, "unsupported_media_type", "不支持该内容格式。",                      \
	  "This content type is not supported.")                                                  \
	X(RATELIMIT, 429, "rate_limited", "操作过于频繁，请稍后再试。",                          \
	  "Too many attempts. Please wait a moment and try again.")                               \
	X(BUSY, 503, "busy", "系统繁忙，请稍后再试。",                                           \
	  "The service is busy. Please try again shortly.")                                       \
	X(UNAVAILABLE, 503, "unavailable", "服务暂不可用，请稍后再试。",                         \
	  "The service is temporarily unavailable. Please try again later.")                      \
	X(DB, 500, "internal_error", "系统出错，我们已记录，请稍后再试。",                      \
	  "Something went wrong on our side. It has been logged; please try again later.")       \
	X(IO, 500, "internal_error", "系统出错，我们已记录，请稍后再试。",                      \
	  "Something went wrong on our side. It has been logged; please try again later.")       \
	X(INTERNAL, 500, "internal_error", "系统出错，我们已记录，请稍后再试。",                \
	  "Something went wrong on our side. It has been logged; please try again later.")

enum gh_err {
	GH_OK = 0,
	GH_E_FIRST_ = -1000,
#define GH_ERR_ENUM(name, status, slug, zh, en) GH_E##name,
	GH_ERRORS(GH_ERR_ENUM)
#undef GH_ERR_ENUM
	GH_E_LAST_
};

/* For a GH_E* code (anything else counts as GH_EINTERNAL): */
int err_status(int code);
const char *err_slug(int code);
const char *err_message(int code, const char *lang); /* lang "en" or anything else = zh */
const char *err_name(int code);

#endif
