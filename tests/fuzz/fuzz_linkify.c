/* Fuzzes view_linkify: for any text, the runs put back together are the text (when it is
 * UTF-8), and every link is an http(s) URL or a site-relative path of URL characters only. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "view/linkify.h"

static void check(int ok)
{
	if (!ok)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536)
		return 0;
	const char *s = (const char *)data;
	json_t *runs = view_linkify(s, size);
	check(json_is_array(runs));
	json_t *whole = json_stringn(s, size);
	size_t at = 0, links = 0, i;
	json_t *run;
	json_array_foreach(runs, i, run) {
		const char *t = json_string_value(json_object_get(run, "text"));
		size_t n = json_string_length(json_object_get(run, "text"));
		check(t != NULL && n > 0);
		const char *h = json_string_value(json_object_get(run, "href"));
		if (h) {
			links++;
			check(strcmp(h, t) == 0);
			check(strncasecmp(h, "http://", 7) == 0 || strncasecmp(h, "https://", 8) == 0 ||
			      (h[0] == '/' && h[1] != '/' && h[1] != '\\' && h[1] != 0));
			for (const char *p = h; *p; p++)
				check((unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f && !strchr("\"'<>\\`{}|^ ", *p));
		}
		if (whole) {
			check(at + n <= size && memcmp(s + at, t, n) == 0);
			at += n;
		}
	}
	check(!whole || at == size);
	check(links <= LINKIFY_MAX_LINKS);
	json_decref(whole);
	json_decref(runs);
	return 0;
}
