/* sections.h: the page section registry: what other domains add to a page they do not own.
 *
 * A page (named by an id its owner declares: "catalog.guide", "cases.detail", ...) asks the
 * registry for its sections when it renders; a domain registers, at start, (page id, order,
 * callback). Sections run in ascending order, those of equal order in the order they were
 * registered; registering the same callback for the same page again changes nothing. A
 * section adds members to the page's context (or, for a list, to its rows) and only reads;
 * `subject` is what the page is about, as its owner documents (an item code, an application,
 * a navigation entry's href; NULL for none).
 *
 * Invariants: registration happens before any thread serves (main.c, the domains' _init and
 * _register functions); afterwards the registry is read-only, so worker threads read it
 * without locks.
 */
#ifndef GH_HTTP_SECTIONS_H
#define GH_HTTP_SECTIONS_H
#include <stddef.h>

#include <jansson.h>

struct req;

/* A section: adds to ctx what it has for subject. Returns 0, or a GH_E code that ends the
 * page (an error page in its place). */
typedef int (*page_section_fn)(struct req *r, const void *subject, json_t *ctx);

#define PAGE_SECTIONS_MAX 64 /* registrations in all, over every page */

/* Registers fn as a section of page at order. Dies past PAGE_SECTIONS_MAX (a programming
 * error, found at start). page must live for the whole run (a string literal). */
void page_section_add(const char *page, int order, page_section_fn fn);

/* Runs page's sections in order on (subject, ctx) until one fails; returns 0 or its code. A
 * page without sections returns 0 and leaves ctx as it was. */
int page_sections_run(struct req *r, const char *page, const void *subject, json_t *ctx);

/* The number of page's sections, and the first max of them in the order they run. */
size_t page_sections(const char *page, page_section_fn *out, size_t max);

/* Forgets every registration (tests). */
void page_sections_reset(void);

#endif
