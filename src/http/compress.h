/* compress.h: content codings of responses (RFC 9110 §8.4, §12.5.3).
 *
 * A text response (HTML, JSON, CSS, JavaScript, SVG, CSV, XML) goes out compressed with
 * Brotli or gzip when the client's Accept-Encoding prefers one of them to identity and the
 * body is worth it (compress-min-bytes). Event streams and already compressed types (PDF,
 * images, fonts, archives) never are. The server decides in one place (server.c's finish);
 * the response cache and the static files hand it ready-made encoded bodies, so a cached page
 * is compressed once per coding, not once per request.
 *
 * Invariants:
 * - The parsers take any bytes and never fail: what they cannot read they ignore (an element
 *   of Accept-Encoding that is not `token[;q=qvalue]`), so a malformed header means identity.
 * - A compressed body decompresses to exactly the plain one; gzip output carries no time or
 *   name, so the same input gives the same bytes (ETags of encoded variants stay stable). */
#ifndef GH_COMPRESS_H
#define GH_COMPRESS_H
#include <stdbool.h>
#include <stddef.h>

#include "base/sb.h"

enum coding { CODING_IDENTITY = 0, CODING_GZIP = 1, CODING_BR = 2, CODING_N = 3 };

/* What a client accepts: each coding's q-value in thousandths (0 = not acceptable). */
struct accept_enc {
	unsigned short q[CODING_N];
};

/* Parses an Accept-Encoding field value of len bytes (value NULL: no such field: identity
 * only). Unknown codings are skipped; `*` stands for every coding not named; x-gzip means
 * gzip. Identity is acceptable unless refused by `identity;q=0` or `*;q=0`; when the field
 * names neither it nor `*` it is the least preferred (q=0.001): a client that lists only
 * codings with q below 1 still prefers them to none. */
void accept_enc_parse(const char *value, size_t len, struct accept_enc *out);

/* The coding to answer in: the acceptable one with the highest q (ties: br, then gzip, then
 * identity). A compressed coding only when worth is true (the body is large enough), unless
 * the client refused identity. CODING_IDENTITY when nothing else is acceptable (RFC 9110:
 * a response without content coding is then sent). */
enum coding accept_enc_choose(const struct accept_enc *a, bool worth);

/* The coding's name in Content-Encoding ("gzip", "br"); NULL for identity. */
const char *coding_name(enum coding c);

/* Whether responses of this Content-Type are worth compressing: text/... (but not
 * text/event-stream), JSON, JavaScript, XML and their +json/+xml kinds, SVG. NULL: no. */
bool compress_type_ok(const char *content_type);

/* Appends in[0..len) compressed with c to out. best: the stronger (slower) level, for a body
 * compressed once and served many times (the response cache); otherwise the fast level of a
 * body compressed for one answer. 0, or GH_EINTERNAL (out is then as it was). */
int compress_buf(enum coding c, bool best, const void *in, size_t len, struct sb *out);

/* The entity tag of etag's variant in coding c: "abc" -> "abc-gz" / "abc-br"
 * (W/ kept); etag itself for identity. Written to buf (at least strlen(etag) + 4 bytes). */
const char *etag_variant(const char *etag, enum coding c, char *buf, size_t buflen);

/* If-None-Match (RFC 9110 §13.1.2): whether the field value list (`*` or entity tags) names
 * etag, by weak comparison (W/ ignored on both sides). Malformed lists match nothing past
 * the first malformed element. */
bool etag_list_match(const char *list, size_t len, const char *etag);

#endif
