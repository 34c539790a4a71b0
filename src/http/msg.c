/* msg.c: messages from the catalogs in the request's language (msg.h). */
#include "http/msg.h"

#include <string.h>

#include "app.h"
#include "base/arena.h"
#include "base/err.h"
#include "http/http.h"

const char *M(const struct req *r, const char *key)
{
	return r->app && r->app->view ? view_msg(r->app->view, r->lang, key) : key;
}

const char *req_msgf(struct req *r, const char *key, const struct msg_arg *args, size_t n)
{
	return msg_format(r->arena, M(r, key), args, n);
}

const char *MC(struct req *r, const char *prefix, const char *code)
{
	if (!code)
		return "";
	return M(r, arena_printf(r->arena, "%s%s", prefix, code));
}

const char *M_err(struct req *r, int code)
{
	return MC(r, "err_", err_slug(code));
}
