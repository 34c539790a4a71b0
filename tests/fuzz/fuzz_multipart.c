/* Fuzzes multipart/form-data parsing. The input's first line is a Content-Type header value
 * (or, when it does not start with "multipart/", a bare boundary); the rest, after the LF, is
 * the body. The body is copied to an exact-size buffer so reads past its end are caught. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/util.h"
#include "http/multipart.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	if (!nl)
		return 0;
	size_t hl = (size_t)(nl - data);
	if (hl > 256)
		return 0;
	struct arena *a = arena_new(4096);
	char *head = arena_strndup(a, (const char *)data, hl);
	const char *boundary = head;
	if (strncmp(head, "multipart/", 10) == 0 && multipart_boundary(a, head, &boundary) != 0)
		boundary = NULL;
	size_t len = size - hl - 1;
	char *body = xmalloc(len ? len : 1);
	memcpy(body, nl + 1, len);
	struct multipart m;
	const char *why = NULL;
	int rc = boundary ? multipart_parse(a, body, len, boundary, &m, &why) : GH_EINVAL;
	if (rc == 0) {
		for (size_t i = 0; i < m.n; i++) {
			const struct multipart_part *p = &m.parts[i];
			if (!p->name || multipart_get(&m, p->name) == NULL)
				abort();
			if (p->data < body || p->data + p->len > body + len)
				abort(); /* views stay inside the body */
			if (p->filename) {
				size_t fl = strlen(p->filename);
				if (fl == 0 || fl > MULTIPART_MAX_NAME || !str_utf8_valid(p->filename, fl) ||
				    strchr(p->filename, '/') || strchr(p->filename, '\\'))
					abort();
				if (p->value)
					abort();
			} else if (!p->value || strlen(p->value) != p->len || !str_utf8_valid(p->value, p->len)) {
				abort();
			}
		}
	} else if (rc != GH_EINVAL && rc != GH_ETOOBIG) {
		abort();
	} else if (!why && boundary) {
		abort(); /* every refusal says why */
	}
	free(body);
	arena_free(a);
	return 0;
}
