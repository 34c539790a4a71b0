/* linkify.h: the addresses in a plain text (a message, an inbox item) as links.
 *
 * A message's text is written by the hall (catalog words with an address in them, "…：
 * /evaluations/12") or by people (a staff member's answer naming a web page). view_linkify
 * splits it into runs a template renders with the usual escaping:
 *   [{"text": "…：", "href": false}, {"text": "/evaluations/12", "href": "/evaluations/12"}, ...]
 * so nothing in the text becomes markup. Only two kinds of address become links:
 *   - http:// and https:// URLs (the scheme in any case; at least one character after it);
 *   - site-relative paths: "/" and a letter or digit, at the start of the text or after a
 *     space, an opening bracket, a quote or a non-ASCII character (so "10/12" stays text, and "//host"
 *     never becomes a link to another site).
 * An address runs over the ASCII characters a URL may hold (RFC 3986 unreserved, reserved
 * except quotes, and "%"); trailing punctuation (. , ; : ! ? ) ]) is left to the text. Any
 * other scheme (javascript:, data:, mailto:, …) stays text. Runs are at most
 * LINKIFY_MAX_LINKS links per text (the rest stays text). */
#ifndef GH_LINKIFY_H
#define GH_LINKIFY_H
#include <stddef.h>

#include <jansson.h>

#define LINKIFY_MAX_LINKS 32

/* The runs of text (len bytes; need not be NUL-terminated; invalid UTF-8 is kept as it is,
 * jansson then refuses it and the run is dropped). New reference; never NULL. */
json_t *view_linkify(const char *text, size_t len);

#endif
