/* help.c: the help centre's pages (help.h). */
#include "help/help.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app.h"
#include "base/err.h"
#include "base/str.h"
#include "base/util.h"
#include "http/handler.h"
#include "http/msg.h"
#include "http/nav.h"
#include "http/router.h"
#include "http/server.h"
#include "publish/publish.h"
#include "view/view.h"

#define HELP_MAX_BYTES (64 * 1024) /* of one topic's file */
#define QUERY_MAX 100              /* characters of a search */

/* The topics, in the order shown; the files are DATA_DIR/help/<lang>/<slug>.md. */
static const char *const topics[] = { "register", "apply", "pay", "book", "verify", "complain" };

static bool topic_known(const char *slug)
{
	for (size_t i = 0; slug && i < ARRAY_LEN(topics); i++)
		if (strcmp(topics[i], slug) == 0)
			return true;
	return false;
}

/* The Markdown of a topic in the request's language (in r's arena), or NULL. */
static char *topic_text(struct req *r, const char *slug, size_t *len)
{
	char *path = arena_printf(r->arena, "%s/help/%s/%s.md", r->app->cfg.data_dir, en(r) ? "en" : "zh", slug);
	char *text = read_file(path, HELP_MAX_BYTES, len);
	if (!text)
		return NULL;
	char *copy = arena_strndup(r->arena, text, *len);
	free(text);
	return copy;
}

/* The title: the text of the first line when it is "# Title", else the slug. */
static const char *topic_title(struct req *r, const char *text, const char *slug)
{
	if (!text || strncmp(text, "# ", 2) != 0)
		return slug;
	size_t n = strcspn(text + 2, "\r\n");
	return arena_strndup(r->arena, text + 2, n);
}

/* Whether text holds every space-separated word of q (ASCII letters folded). */
static bool matches(const char *text, const char *q)
{
	while (*q) {
		q += strspn(q, " \t");
		size_t n = strcspn(q, " \t");
		if (!n)
			break;
		bool found = false;
		for (const char *p = text; *p && !found; p++)
			found = strncasecmp(p, q, n) == 0;
		if (!found)
			return false;
		q += n;
	}
	return true;
}

/* GET /help[?q=] */
static int help_index(struct req *r)
{
	const char *q = req_query(r, "q");
	if (q && (!str_utf8_valid(q, strlen(q)) || str_utf8_chars(q, strlen(q)) > QUERY_MAX))
		return GH_EVALIDATION;
	if (q && !*q)
		q = NULL;
	json_t *list = json_array();
	for (size_t i = 0; i < ARRAY_LEN(topics); i++) {
		size_t len;
		const char *text = topic_text(r, topics[i], &len);
		if (!text || (q && !matches(text, q)))
			continue;
		json_array_append_new(list, json_pack("{s:s,s:s,s:s}", "slug", topics[i], "title",
						      topic_title(r, text, topics[i]), "href",
						      arena_printf(r->arena, "/help/%s", topics[i])));
	}
	json_t *ctx = json_pack("{s:s,s:b,s:o,s:b}", "title", M(r, "help_title"), "nav_help", 1, "topics", list,
				"has_topics", json_array_size(list) > 0);
	if (q) {
		json_object_set_new(ctx, "q", json_string(q));
		json_object_set_new(ctx, "result_count",
				    json_string(MF(r, "help_search_count", MA("n", (long)json_array_size(list)))));
	}
	return resp_page(r, 200, "help/index", ctx);
}

/* GET /help/{topic} */
static int help_topic(struct req *r)
{
	const char *slug = req_param(r, "topic");
	if (!topic_known(slug))
		return GH_ENOTFOUND;
	size_t len;
	const char *text = topic_text(r, slug, &len);
	if (!text)
		return GH_ENOTFOUND;
	/* The title line is the page's heading; the rest is the body. */
	const char *body = text;
	if (strncmp(text, "# ", 2) == 0) {
		body = text + strcspn(text, "\n");
		body += *body == '\n';
	}
	char *html;
	int rc = publish_markdown_html(r->arena, body, len - (size_t)(body - text), &html);
	if (rc)
		return rc == GH_EINVAL ? GH_EINTERNAL : rc; /* the operator's file, not the visitor's input */
	json_t *others = json_array();
	for (size_t i = 0; i < ARRAY_LEN(topics); i++) {
		size_t l;
		const char *t = strcmp(topics[i], slug) ? topic_text(r, topics[i], &l) : NULL;
		if (t)
			json_array_append_new(others, json_pack("{s:s,s:s}", "title", topic_title(r, t, topics[i]), "href",
								arena_printf(r->arena, "/help/%s", topics[i])));
	}
	/* Links to pages this caller may not open (a citizen's pages, for staff) become words. */
	json_t *ctx = json_pack("{s:s,s:s,s:b,s:s,s:o}", "title", topic_title(r, text, slug), "slug", slug, "nav_help", 1,
				"html", nav_offered_html(r, html), "others", others);
	return resp_page(r, 200, "help/topic", ctx);
}

static const struct route routes[] = {
	{ HTTP_GET, "/help", help_index, ROLE_PUBLIC, 0, "help.index" },
	{ HTTP_GET, "/help/{topic}", help_topic, ROLE_PUBLIC, 0, "help.topic" },
};

int help_add_routes(struct router *rt)
{
	return router_add(rt, routes, ARRAY_LEN(routes));
}
