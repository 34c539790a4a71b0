/* nav.c: the navigation table and what each caller is shown of it (nav.h). */
#include "http/nav.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "base/arena.h"
#include "base/sb.h"
#include "base/util.h"
#include "http/http.h"
#include "http/msg.h"
#include "http/router.h"
#include "http/sections.h"
#include "view/view.h"

enum nav_bar { NAV_MAIN, NAV_ACCOUNT };

/* The hall's navigation. `who` says whom an entry is meant for (log-in and registration are
 * for visitors who are not logged in); whether a caller may follow it is the route table's
 * business alone. Order is the order shown. */
static const struct nav_item {
	enum nav_bar bar;
	const char *href, *label, *flag;
	unsigned who;
} items[] = {
	{ NAV_MAIN, "/", N_("nav_home"), "nav_home", ROLE_PUBLIC },
	{ NAV_MAIN, "/services", N_("nav_services"), "nav_services", ROLE_PUBLIC },
	{ NAV_MAIN, "/departments", N_("nav_departments"), "nav_departments", ROLE_PUBLIC },
	{ NAV_MAIN, "/bundles", N_("nav_bundles"), "nav_bundles", ROLE_PUBLIC },
	{ NAV_MAIN, "/guide", N_("daoban_nav"), "nav_guide", ROLE_PUBLIC },
	{ NAV_MAIN, "/progress", N_("nav_progress"), NULL, ROLE_PUBLIC },
	{ NAV_MAIN, "/publish", N_("nav_publish"), "nav_publish", ROLE_PUBLIC },
	{ NAV_MAIN, "/stats", N_("nav_stats"), "nav_stats", ROLE_PUBLIC },
	{ NAV_MAIN, "/ledger", N_("nav_ledger"), NULL, ROLE_PUBLIC },
	{ NAV_MAIN, "/verify", N_("nav_verify"), NULL, ROLE_PUBLIC },
	{ NAV_MAIN, "/help", N_("nav_help"), "nav_help", ROLE_PUBLIC },

	{ NAV_ACCOUNT, "/applications", N_("cases_nav_mine"), "nav_mine", ROLE_USER },
	{ NAV_ACCOUNT, "/wallet", N_("certs_nav_wallet"), "nav_wallet", ROLE_USER },
	{ NAV_ACCOUNT, "/evaluations", N_("interact_nav_citizen"), NULL, ROLE_USER },
	{ NAV_ACCOUNT, "/staff/queue", N_("cases_nav_queue"), "nav_queue", ROLE_USER },
	{ NAV_ACCOUNT, "/staff/intake", N_("nav_intake"), NULL, ROLE_USER },
	{ NAV_ACCOUNT, "/overdue", N_("nav_overdue"), NULL, ROLE_USER },
	{ NAV_ACCOUNT, "/staff/rectifications", N_("interact_nav_staff"), NULL, ROLE_USER },
	{ NAV_ACCOUNT, "/staff/publish", N_("publish_nav_staff"), NULL, ROLE_USER },
	{ NAV_ACCOUNT, "/staff/payments", N_("pay_nav_staff"), "nav_payments", ROLE_USER },
	{ NAV_ACCOUNT, "/admin/payments", N_("pay_nav_admin"), "nav_payments", ROLE_USER },
	{ NAV_ACCOUNT, "/admin/appeals", N_("interact_nav_admin"), NULL, ROLE_USER },
	{ NAV_ACCOUNT, "/admin", N_("account_nav_admin"), "nav_admin", ROLE_USER },
	{ NAV_ACCOUNT, "/inbox", N_("inbox_nav"), "nav_inbox", ROLE_USER },
	{ NAV_ACCOUNT, "/me/data", N_("mydata_nav"), "nav_mydata", ROLE_USER },
	{ NAV_ACCOUNT, "/account", N_("account_nav_mine"), "nav_account", ROLE_USER },
	{ NAV_ACCOUNT, "/login", N_("account_nav_login"), "nav_login", ROLE_ANON },
	{ NAV_ACCOUNT, "/register", N_("account_nav_register"), "nav_register", ROLE_ANON },
};

struct nav {
	const struct route *route[ARRAY_LEN(items)];
	struct router *rt;
};

struct nav *nav_new(struct router *rt, char *err, size_t errlen)
{
	struct nav *n = xcalloc(1, sizeof(*n));
	struct arena *a = arena_new(4096);
	n->rt = rt;
	for (size_t i = 0; i < ARRAY_LEN(items); i++) {
		struct kvlist params = { 0 };
		unsigned allowed = 0;
		if (router_match(rt, a, HTTP_GET, items[i].href, &n->route[i], &params, &allowed) != ROUTER_FOUND) {
			snprintf(err, errlen, "navigation: %s is not a page (no GET route)", items[i].href);
			arena_free(a);
			nav_free(n);
			return NULL;
		}
	}
	arena_free(a);
	return n;
}

void nav_free(struct nav *n)
{
	free(n);
}

static bool flag_set(json_t *ctx, const char *flag)
{
	json_t *v = flag ? json_object_get(ctx, flag) : NULL;
	return v && !json_is_false(v) && !json_is_null(v);
}

/* The number beside the entry href: what its sections (NAV_PAGE_COUNT) counted. */
static long entry_count(struct req *r, const char *href)
{
	json_t *c = json_object();
	long n = 0;
	if (!page_sections_run(r, NAV_PAGE_COUNT, href, c))
		n = (long)json_integer_value(json_object_get(c, "count"));
	json_decref(c);
	return n;
}

void nav_ctx(const struct nav *n, struct req *r, json_t *ctx)
{
	/* Pages answered before routing (404, 405) have not looked at the session. */
	unsigned role = r->role ? r->role : ROLE_ANON;
	unsigned duties = role == ROLE_STAFF ? r->who.staff_roles : 0;
	json_t *bars[2] = { json_array(), json_array() };
	for (size_t i = 0; i < ARRAY_LEN(items); i++) {
		const struct nav_item *it = &items[i];
		if (!(it->who & role) || !router_allows(n->route[i], role, duties))
			continue;
		bool current = flag_set(ctx, it->flag) || (r->route && r->route == n->route[i]);
		/* nav_count is always set, so an entry without one never shows a page's own member. */
		json_t *o = json_pack("{s:s,s:s,s:b,s:b}", "href", it->href, "label",
				      view_msg(r->app->view, r->lang, it->label), "current", current, "nav_count", 0);
		/* A count beside the entry (the unread messages), for logged-in callers only: anonymous
		 * pages are cached and shared. */
		long count = r->who.account ? entry_count(r, it->href) : 0;
		if (count > 0) {
			char num[24];
			snprintf(num, sizeof(num), "%ld", count > 99 ? 99 : count);
			json_object_set_new(o, "nav_count", json_string(count > 99 ? "99+" : num));
			json_object_set_new(o, "nav_count_label", json_string(MF(r, "nav_count_unread", MA("n", count))));
		}
		json_array_append_new(bars[it->bar], o);
	}
	json_object_set_new(ctx, "menu_main", bars[NAV_MAIN]);
	json_object_set_new(ctx, "menu_account", bars[NAV_ACCOUNT]);
	json_object_set(ctx, "can", router_can(n->rt, role, duties));
}

/* Whether r's caller may follow the site-relative address href (len bytes; its query and
 * fragment aside). */
static bool may_follow(struct req *r, const char *href, size_t len)
{
	size_t n = strcspn(href, "?#\"");
	if (n > len)
		n = len;
	const char *path = arena_strndup(r->arena, href, n);
	unsigned role = r->role ? r->role : ROLE_ANON;
	unsigned duties = role == ROLE_STAFF ? r->who.staff_roles : 0;
	const struct route *route;
	struct kvlist params = { 0 };
	unsigned allowed = 0;
	return router_match(r->app->router, r->arena, HTTP_GET, path, &route, &params, &allowed) == ROUTER_FOUND &&
	       router_allows(route, role, duties);
}

const char *nav_offered_html(struct req *r, const char *html)
{
	struct sb out = SB_INIT;
	const char *p = html;
	for (;;) {
		const char *a = strstr(p, "<a href=\"/");
		if (!a) {
			sb_adds(&out, p);
			break;
		}
		const char *href = a + 9, *q = strchr(href, '"'), *gt = q ? strchr(q, '>') : NULL;
		const char *end = gt ? strstr(gt, "</a>") : NULL;
		if (!end) { /* not a link cmark writes: leave the rest as it is */
			sb_adds(&out, p);
			break;
		}
		if (href[1] == '/' || may_follow(r, href, (size_t)(q - href))) {
			sb_add(&out, p, (size_t)(end + 4 - p)); /* kept as it is */
		} else {
			sb_add(&out, p, (size_t)(a - p)); /* the link's words, without the link */
			sb_add(&out, gt + 1, (size_t)(end - gt - 1));
		}
		p = end + 4;
	}
	size_t len;
	char *s = sb_detach(&out, &len);
	char *copy = s ? arena_strndup(r->arena, s, len) : NULL;
	free(s);
	return copy ? copy : html;
}
