/* nav.h: the site's navigation, as data, shown to each caller as the route table allows.
 *
 * One table (nav.c) lists the sections of the hall and the pages of each kind of account:
 * the address, the message key of its label, the page flag that marks it current, and whom
 * it is meant for. What a caller is shown is decided by the route table alone
 * (router_allows: the route's roles and duties), so a link in the navigation never answers
 * 403. Every address must be a GET route: nav_new refuses a table that names another.
 *
 * Invariants: built once at start from the router, read-only afterwards (worker threads
 * share it). */
#ifndef GH_NAV_H
#define GH_NAV_H
#include <stddef.h>

#include <jansson.h>

struct router;
struct req;
struct nav;

/* Resolves every entry of the table against rt. NULL with a message in err when an address
 * matches no GET route. */
struct nav *nav_new(struct router *rt, char *err, size_t errlen);
void nav_free(struct nav *n);

/* Adds to a page's context what the header needs for r's caller:
 *   menu_main:    the hall's sections [{href, label, current}]
 *   menu_account: the caller's own pages (logged in), or log-in and registration (anonymous);
 *                 each entry has nav_count (false, or the number its NAV_PAGE_COUNT sections
 *                 counted: the unread messages beside the inbox, for logged-in callers only)
 *                 and nav_count_label
 *   can:          router_can for the caller (links inside pages: {{#can.cases.apply}})
 * "current" is true for the entry whose flag the page set in ctx, or whose route answered. */
void nav_ctx(const struct nav *n, struct req *r, json_t *ctx);
/* The page section (http/sections.h) that counts beside a navigation entry: subject the
 * entry's href (const char *); a section sets the integer "count" in its ctx (none: no
 * number). */
#define NAV_PAGE_COUNT "nav.count"

/* The HTML of a text written for everyone (a help page rendered by cmark) as r's caller is
 * offered it: a site-relative link <a href="/...">words</a> to a page the caller may not
 * follow (router_allows, as the navigation) keeps its words and loses the link, so no page
 * links where it would answer 403. Other links and everything else are kept byte for byte.
 * In r's arena (html itself when out of memory). */
const char *nav_offered_html(struct req *r, const char *html);

#endif
