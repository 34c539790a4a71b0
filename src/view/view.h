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

#include "base/sb.h"

struct view;

/* Loads every template under tpl_dir and the catalogs under i18n_dir. On error returns a GH_E
 * code and a message naming the file and line in err. */
int view_load(const char *tpl_dir, const char *i18n_dir, struct view **out, char *err, size_t errlen);
void view_free(struct view *v);

/* Renders template name with ctx into out. The context gets "t" (the message catalog of
 * lang) and "lang" added when absent. Returns GH_ENOTFOUND for an unknown template. */
int view_render(const struct view *v, const char *name, const char *lang, json_t *ctx, struct sb *out);

/* The message for key in lang (falls back to zh, then to the key itself). */
const char *view_msg(const struct view *v, const char *lang, const char *key);

/* The catalog of lang as a JSON object (borrowed). */
json_t *view_messages(const struct view *v, const char *lang);

#endif
