/* fuzz_mustache.c: compiles the input as a Mustache template and renders it against a fixed
 * context. Partials "item" and "list" are fixed templates; "self" is the input itself, so
 * recursion and the depth limit are exercised. Rendering is bounded in steps and output size
 * so exponential templates ({{#a}}{{#a}}... over arrays) are cut short, not timeouts. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/sb.h"
#include "base/util.h"
#include "view/mustache.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char context_json[] =
	"{\"name\": \"<b>Zhang & Li</b>\", \"n\": 42, \"pi\": 3.14159, \"yes\": true, \"no\": false,"
	" \"none\": null, \"empty\": [], \"list\": [1, \"two\", {\"name\": \"three\"}, [4]],"
	" \"items\": [{\"title\": \"a\", \"tags\": [\"x\", \"y\"]}, {\"title\": \"b\", \"tags\": []}],"
	" \"a\": {\"b\": {\"c\": \"deep\"}}, \"t\": {\"hello\": \"你好\"}, \"lang\": \"zh\"}";

static json_t *ctx;
static struct mustache *p_item, *p_list;
static const struct mustache *p_self;

static struct mustache *must_compile(const char *src)
{
	struct mustache *t;
	char err[128];
	if (mustache_compile(src, strlen(src), &t, err, sizeof(err)) != 0)
		die("fuzz_mustache: fixed partial: %s", err);
	return t;
}

static void init(void)
{
	json_error_t je;
	ctx = json_loads(context_json, 0, &je);
	if (!ctx)
		die("fuzz_mustache: context: %s", je.text);
	p_item = must_compile("<li>{{title}}{{#tags}} [{{.}}]{{/tags}}</li>\n");
	p_list = must_compile("<ul>\n  {{#items}}\n  {{>item}}\n  {{/items}}\n</ul>\n");
}

static const struct mustache *resolve(void *ud, const char *name, size_t len)
{
	if (len == 4 && memcmp(name, "item", 4) == 0)
		return p_item;
	if (len == 4 && memcmp(name, "list", 4) == 0)
		return p_list;
	if (len == 4 && memcmp(name, "self", 4) == 0)
		return p_self;
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ctx)
		init();
	struct mustache *t;
	char err[128];
	if (mustache_compile((const char *)data, size, &t, err, sizeof(err)) != 0) {
		if (strncmp(err, "line ", 5) != 0)
			abort(); /* every compile error names its line */
		return 0;
	}
	struct sb out = SB_INIT;
	sb_set_cap(&out, 1u << 20);
	p_self = t;
	mustache_render_limit(t, ctx, resolve, NULL, &out, 200000);
	p_self = NULL;
	sb_release(&out);
	mustache_free(t);
	return 0;
}
