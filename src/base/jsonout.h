/* jsonout.h: JSON text of a jansson value, written straight into a string builder.
 *
 * The text is byte for byte what jansson's json_dumps(j, JSON_COMPACT | flags) gives (the same
 * escapes, the same key order: insertion order, or sorted with JSON_SORT_KEYS; reals by
 * jansson itself), at a tenth of its instructions: jansson calls its output function for
 * every piece, decodes every character of every string and records every object it enters
 * to detect cycles. Answers (resp_json) and the texts a submission stores go through here.
 *
 * Flags as json_dumps takes them, with the same result for every flag: JSON_COMPACT with
 * JSON_SORT_KEYS and JSON_ENCODE_ANY is written here; any other flag (indentation, ASCII only,
 * escaped slashes, a real precision), or no JSON_COMPACT, is jansson's own output, through
 * json_dumps. This is the one way the code writes JSON text (tests/lint/one-way.test.mjs). Fails (GH_EINTERNAL, nothing appended) where jansson fails: a
 * string that is not UTF-8, a non-container top value without JSON_ENCODE_ANY, a structure
 * nested deeper than JSONOUT_MAX_DEPTH (which a cycle would be). */
#ifndef GH_JSONOUT_H
#define GH_JSONOUT_H
#include <jansson.h>
#include <stddef.h>

#include "base/sb.h"

#define JSONOUT_MAX_DEPTH 2048

int jsonout_sb(struct sb *sb, const json_t *j, size_t flags);
/* As json_dumps: a malloc'd NUL-terminated text, or NULL. */
char *jsonout_dumps(const json_t *j, size_t flags);

#endif
