/* Fuzzes publish_markdown_html, the renderer of published documents: it must never crash,
 * and what it renders must never carry raw HTML or a script link: no "<script", no element
 * with an on* handler attribute, no javascript:/vbscript: URL in an href or src. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/arena.h"
#include "base/err.h"
#include "publish/publish.h"

static void check(int ok)
{
	if (!ok)
		abort();
}

/* True when needle occurs in s ignoring ASCII case. */
static int has(const char *s, const char *needle)
{
	size_t n = strlen(needle);
	for (; *s; s++)
		if (strncasecmp(s, needle, n) == 0)
			return 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = arena_new(4096);
	char *html = NULL;
	int rc = publish_markdown_html(a, (const char *)data, size, &html);
	if (rc == 0) {
		check(html != NULL);
		check(!has(html, "<script"));
		check(!has(html, "href=\"javascript:"));
		check(!has(html, "src=\"javascript:"));
		check(!has(html, "href=\"vbscript:"));
		/* Every '<' cmark writes opens one of its own tags or a comment, never raw input:
		 * so no "<" is followed by an attribute named on... inside a tag. */
		for (const char *p = html; (p = strchr(p, '<')) != NULL; p++) {
			const char *end = strchr(p, '>');
			if (!end)
				break;
			for (const char *q = p; q < end; q++)
				if ((*q == ' ') && (q[1] == 'o' || q[1] == 'O') && (q[2] == 'n' || q[2] == 'N') &&
				    strncmp(p, "<!--", 4) != 0) {
					const char *eq = q + 3;
					while (eq < end && ((*eq >= 'a' && *eq <= 'z') || (*eq >= 'A' && *eq <= 'Z')))
						eq++;
					check(*eq != '=');
				}
		}
	} else {
		check(rc == GH_EINVAL);
	}
	arena_free(a);
	return 0;
}
