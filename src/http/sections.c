/* sections.c: the page section registry (sections.h). */
#include "http/sections.h"

#include <string.h>

#include "base/util.h"

static struct {
	const char *page;
	int order;
	page_section_fn fn;
} table[PAGE_SECTIONS_MAX];
static size_t n_table;

void page_section_add(const char *page, int order, page_section_fn fn)
{
	for (size_t i = 0; i < n_table; i++)
		if (table[i].fn == fn && !strcmp(table[i].page, page))
			return;
	if (n_table == PAGE_SECTIONS_MAX)
		die("http: more than %d page sections", PAGE_SECTIONS_MAX);
	/* Kept sorted by order, ties in registration order: the new one goes after every entry
	 * of its order or earlier. */
	size_t at = n_table;
	while (at > 0 && table[at - 1].order > order) {
		table[at] = table[at - 1];
		at--;
	}
	table[at].page = page;
	table[at].order = order;
	table[at].fn = fn;
	n_table++;
}

int page_sections_run(struct req *r, const char *page, const void *subject, json_t *ctx)
{
	for (size_t i = 0; i < n_table; i++) {
		if (strcmp(table[i].page, page) != 0)
			continue;
		int rc = table[i].fn(r, subject, ctx);
		if (rc)
			return rc;
	}
	return 0;
}

size_t page_sections(const char *page, page_section_fn *out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < n_table; i++)
		if (!strcmp(table[i].page, page)) {
			if (n < max)
				out[n] = table[i].fn;
			n++;
		}
	return n;
}

void page_sections_reset(void)
{
	n_table = 0;
}
