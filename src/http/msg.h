/* msg.h: the words a request's reader sees, from the message catalogs (data/i18n).
 *
 * Every text shown to people comes from the catalogs by key in the request's language:
 *   M(r, "key")                              the message
 *   MF(r, "key", MA("n", 3), MA("item", s))  the message with its {n} and {item} filled in
 *   MC(r, "case_state_", code)               the message named by a prefix and a code word
 *                                            (workflow states and actions, event kinds...)
 * A key missing from the catalogs shows as the key itself; tests/lint/i18n.test.mjs fails on
 * any key used here that the catalogs lack. Keys in tables are marked N_("key") so that the
 * lint finds them too. Results are borrowed from the catalogs or allocated from r->arena.
 */
#ifndef GH_HTTP_MSG_H
#define GH_HTTP_MSG_H
#include <stddef.h>

#include "view/view.h"

struct req;

const char *M(const struct req *r, const char *key);
const char *req_msgf(struct req *r, const char *key, const struct msg_arg *args, size_t n);
const char *MC(struct req *r, const char *prefix, const char *code);
/* The public message of a GH_E* code (base/err.h): the catalog's "err_<slug>". */
const char *M_err(struct req *r, int code);

#define MF(r, key, ...)                                                                       \
	req_msgf(r, key, (const struct msg_arg[]){ __VA_ARGS__ },                                 \
		 sizeof((const struct msg_arg[]){ __VA_ARGS__ }) / sizeof(struct msg_arg))

/* The same in a given language, for texts stored in both (notifications, receipts): */
#define VF(v, lang, a, key, ...)                                                              \
	view_fmt(v, lang, a, key, (const struct msg_arg[]){ __VA_ARGS__ },                       \
		 sizeof((const struct msg_arg[]){ __VA_ARGS__ }) / sizeof(struct msg_arg))

#endif
