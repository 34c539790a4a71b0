/* view.h: the set of page templates and the message catalogs.
 *
 * Templates are the *.mustache files under a directory (default "templates"), named by their
 * path without the extension ("catalog/item", "layout/page"); any template can be used as a
 * partial by that name. Message catalogs are data/i18n/<lang>.json (flat objects of
 * key -> text); languages are "zh" (default) and "en".
 *
 * Invariants: a struct view is loaded once at start and then read-only, so all worker threads
 * share it.
 */
#ifndef GH_VIEW_H
#define GH_VIEW_H
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/sb.h"

struct arena;

struct view;

/* Marks a message key kept in a table, for the catalog lint (tests/lint/i18n.mjs), as
 * gettext's N_() marks a string: the value is the key itself. */
#define N_(key) key

/* Loads every template under tpl_dir and the catalogs under i18n_dir. On error returns a GH_E
 * code and a message naming the file and line in err. */
int view_load(const char *tpl_dir, const char *i18n_dir, struct view **out, char *err, size_t errlen);
void view_free(struct view *v);
/* The catalogs alone, for commands that print words and render no page. */
int view_load_messages(const char *i18n_dir, struct view **out, char *err, size_t errlen);
/* Messages a data file other than the catalogs brings (the workflow definition's words:
 * {"zh": {key: text}, "en": {key: text}}, borrowed, NULL for none): every later view_load and
 * view_load_messages adds them, refusing one whose key the catalogs already define. Call
 * before threads start. */
void view_extra_messages(const json_t *words);

/* Renders template name with ctx into out. The context gets "t" (the message catalog of
 * lang) and "lang" added when absent. Returns GH_ENOTFOUND for an unknown template. */
int view_render(const struct view *v, const char *name, const char *lang, json_t *ctx, struct sb *out);

/* The message for key in lang (falls back to zh, then to the key itself; v NULL: the key). */
const char *view_msg(const struct view *v, const char *lang, const char *key);

/* A value for a named placeholder of a message. Catalog texts name their parameters in
 * braces: "办件 {number} 已受理。" / "Application {number} was accepted."; both languages name
 * the same placeholders (tests/lint/i18n.test.mjs checks it). Build one with MA(name, value):
 * strings, integers and floating-point numbers ("%g") are accepted. */
struct msg_arg {
	const char *name;
	enum { MSG_ARG_STR, MSG_ARG_INT, MSG_ARG_NUM } kind;
	const char *s;
	long long i;
	double d;
};

static inline struct msg_arg msg_arg_str(const char *name, const char *s)
{
	return (struct msg_arg){ .name = name, .kind = MSG_ARG_STR, .s = s };
}

static inline struct msg_arg msg_arg_int(const char *name, long long i)
{
	return (struct msg_arg){ .name = name, .kind = MSG_ARG_INT, .i = i };
}

static inline struct msg_arg msg_arg_num(const char *name, double d)
{
	return (struct msg_arg){ .name = name, .kind = MSG_ARG_NUM, .d = d };
}

#define MA(name, v)                                                                          \
	_Generic((v), char *: msg_arg_str, const char *: msg_arg_str, double: msg_arg_num,   \
		 float: msg_arg_num, default: msg_arg_int)(name, v)

/* The message for key in lang with each {name} replaced by the value of the argument of that
 * name (args[0..n)), in a copy allocated from a. A placeholder without an argument stays as
 * written (the lint test finds those); a brace that opens no placeholder is text. A NULL
 * string value is empty. */
const char *view_fmt(const struct view *v, const char *lang, struct arena *a, const char *key,
		     const struct msg_arg *args, size_t n);

/* The same for a text in hand (a message already looked up). */
const char *msg_format(struct arena *a, const char *text, const struct msg_arg *args, size_t n);

/* True when the catalogs hold key (in the "zh" catalog; "en" carries every "zh" key). */
bool view_has(const struct view *v, const char *key);

/* The catalog of lang as a JSON object (borrowed). */
json_t *view_messages(const struct view *v, const char *lang);

#endif
