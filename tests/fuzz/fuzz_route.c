/* Fuzzes path decoding and route matching: input = a request path. */
#include <stdint.h>
#include <string.h>

#include "http/http.h"
#include "http/router.h"

static int h(struct req *r)
{
	(void)r;
	return 0;
}

static const struct route routes[] = {
	{ HTTP_GET, "/", h, ROLE_PUBLIC, 0, "home" },
	{ HTTP_GET, "/services/{code}", h, ROLE_PUBLIC, 0, "item" },
	{ HTTP_GET, "/services/{code}/versions/{v}", h, ROLE_PUBLIC, 0, "ver" },
	{ HTTP_POST, "/services/{code}/apply", h, ROLE_PUBLIC, 0, "apply" },
	{ HTTP_GET, "/static/{path*}", h, ROLE_PUBLIC, 0, "static" },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct router *rt;
	if (!rt) {
		rt = router_new();
		router_add(rt, routes, sizeof(routes) / sizeof(routes[0]));
	}
	struct arena *a = arena_new(4096);
	char *path;
	if (path_decode(a, (const char *)data, size, &path) == 0) {
		const struct route *r;
		struct kvlist p;
		unsigned allowed;
		for (unsigned m = HTTP_GET; m <= HTTP_OPTIONS; m <<= 1)
			router_match(rt, a, m, path, &r, &p, &allowed);
	}
	arena_free(a);
	return 0;
}
