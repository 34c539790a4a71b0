/* markdown.c: Markdown to HTML with cmark's safe mode (see publish.h). */
#include <cmark.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/str.h"
#include "publish/publish.h"

int publish_markdown_html(struct arena *a, const char *text, size_t len, char **html)
{
	if (len > PUBLISH_MAX_BODY || !str_utf8_valid(text, len) || memchr(text, 0, len))
		return GH_EINVAL;
	/* CMARK_OPT_SAFE is the default since cmark 0.29 (CMARK_OPT_UNSAFE turns it off); it is
	 * passed anyway so an older library is safe too. */
	char *out = cmark_markdown_to_html(text, len, CMARK_OPT_SAFE | CMARK_OPT_VALIDATE_UTF8);
	if (!out)
		return GH_EINTERNAL;
	*html = arena_strdup(a, out);
	free(out);
	return 0;
}
