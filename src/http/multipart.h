/* multipart.h: a parser for multipart/form-data request bodies (RFC 7578), in place.
 *
 * The body is parsed where it lies (no copy of the file data): each part is a view into the
 * body. Limits bound everything a client controls: the number of parts, the size of each
 * part's headers, the length of field names and file names. Field values (parts without a
 * filename) must be valid UTF-8 without NUL bytes; file contents may be anything.
 *
 * Fuzzed by tests/fuzz/fuzz_multipart.c.
 */
#ifndef GH_MULTIPART_H
#define GH_MULTIPART_H
#include <stdbool.h>
#include <stddef.h>

#include "base/arena.h"

#define MULTIPART_MAX_PARTS 64
#define MULTIPART_MAX_HEADER 2048  /* bytes of one part's headers */
#define MULTIPART_MAX_NAME 128     /* bytes of a field name or file name */

struct multipart_part {
	const char *name;         /* field name (NUL-terminated, arena) */
	const char *filename;     /* NULL for ordinary fields; sanitised base name otherwise */
	const char *content_type; /* as sent (NULL when absent); never trusted for file types */
	const char *data;         /* view into the body (not NUL-terminated for files) */
	size_t len;
	const char *value;        /* ordinary fields: NUL-terminated copy in the arena */
};

struct multipart {
	struct multipart_part *parts;
	size_t n;
};

/* Extracts the boundary from a Content-Type header value ("multipart/form-data;
 * boundary=..."), into the arena. GH_EUNSUPPORTED when it is not multipart/form-data,
 * GH_EINVAL when the boundary is missing or malformed (RFC 2046: 1-70 characters). */
int multipart_boundary(struct arena *a, const char *content_type, const char **boundary);

/* Parses body (len bytes; need not be NUL-terminated, never read past len) with boundary into
 * out. GH_EINVAL for a malformed body (with a short reason in *why, static text, for logs;
 * why may be NULL), GH_ETOOBIG when a limit is exceeded. Line breaks must be CRLF as RFC 2046
 * requires (browsers and curl send nothing else): a body with bare LF breaks is refused.
 * The preamble and epilogue are ignored; a body with only the closing delimiter has no parts.
 * A part with a filename (or filename*=UTF-8''..., which wins) is a file: filename is set,
 * value is NULL, data may hold any bytes. A file input left empty by the user arrives with
 * filename "file" and len 0: callers skip zero-length files. Other parts are fields: value is
 * a NUL-terminated copy, valid UTF-8 without NUL (else GH_EINVAL). out->parts and all strings
 * live in a; data points into body, which must outlive out. */
int multipart_parse(struct arena *a, const char *body, size_t len, const char *boundary, struct multipart *out,
		    const char **why);

/* The safe display name for a file name a client sent ([raw, raw+len), any bytes): the base
 * name only (after the last '/' or '\\'), without control characters or bidirectional
 * overrides, trimmed of spaces, at most MULTIPART_MAX_NAME bytes (cut on a character
 * boundary, keeping an extension of up to 16 bytes), never empty, "." or "..": "file" stands
 * in for names that are empty or not valid UTF-8. Returns an arena copy or a static string. */
const char *multipart_filename(struct arena *a, const char *raw, size_t len);

/* The first part named name, or NULL. */
const struct multipart_part *multipart_get(const struct multipart *m, const char *name);

#endif
