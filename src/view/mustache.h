/* mustache.h: a Mustache template engine (https://mustache.github.io/mustache.5.html).
 *
 * Passes the official spec modules comments, delimiters, interpolation, inverted, partials
 * and sections. The data model is jansson's json_t: objects are contexts, arrays iterate,
 * false/null/empty arrays are falsy. {{name}} escapes HTML (& < > " ' ` =); {{{name}}} and
 * {{& name}} do not. Lambdas are not supported.
 *
 * Invariants: a compiled template is immutable and may be rendered from many threads at once.
 * Compilation reports the first syntax error with its line; rendering never fails on data
 * (missing names render as empty) except for a partial recursion deeper than
 * MUSTACHE_MAX_DEPTH, which returns GH_EINVAL.
 */
#ifndef GH_MUSTACHE_H
#define GH_MUSTACHE_H
#include <stddef.h>

#include <jansson.h>

#include "base/sb.h"

#define MUSTACHE_MAX_DEPTH 64

struct mustache;

/* Looks up a partial by name; returns NULL when there is none (renders as empty). */
typedef const struct mustache *(*mustache_partial_fn)(void *ud, const char *name, size_t len);

/* Compiles src. On error returns GH_EINVAL and writes "line N: reason" into err. */
int mustache_compile(const char *src, size_t len, struct mustache **out, char *err, size_t errlen);
void mustache_free(struct mustache *t);

/* Appends the rendering of t with context ctx to out. partials may be NULL. */
int mustache_render(const struct mustache *t, json_t *ctx, mustache_partial_fn partials, void *ud,
		    struct sb *out);

/* As mustache_render, but gives up with GH_ETOOBIG after max_steps template nodes (counted
 * over all iterations and partials), for untrusted templates such as fuzz inputs. Rendering
 * also stops early, returning 0, once out's size cap is exceeded (check sb_failed). */
int mustache_render_limit(const struct mustache *t, json_t *ctx, mustache_partial_fn partials,
			  void *ud, struct sb *out, size_t max_steps);

#endif
