#include "http/ops.h"

#include "app.h"
#include "base/err.h"
#include "base/util.h"
#include "http/metrics.h"
#include "store/db.h"

static int healthz(struct req *r)
{
	resp_header(r, "Cache-Control", "no-store");
	return resp_body(r, 200, "text/plain; charset=utf-8", "ok\n", 3);
}

static int readyz(struct req *r)
{
	resp_header(r, "Cache-Control", "no-store");
	if (db_ping(r->db)) {
		resp_header(r, "Retry-After", "5");
		return resp_body(r, 503, "text/plain; charset=utf-8", "database unreachable\n", 21);
	}
	return resp_body(r, 200, "text/plain; charset=utf-8", "ready\n", 6);
}

static int metrics(struct req *r)
{
	struct sb sb = SB_INIT;
	metrics_render(r->app->metrics, r->app, &sb);
	resp_header(r, "Cache-Control", "no-store");
	resp_body(r, 200, "text/plain; version=0.0.4; charset=utf-8", sb.buf, sb.len);
	sb_release(&sb);
	return 0;
}

/* /metrics is public here like on most exporters; deploy/nginx.conf keeps it internal. */
const struct route ops_routes[] = {
	{ HTTP_GET, "/healthz", healthz, ROLE_PUBLIC, ROUTE_NOLOG | ROUTE_NOAUTH, "ops.healthz" },
	{ HTTP_GET, "/readyz", readyz, ROLE_PUBLIC, ROUTE_NOLOG | ROUTE_NOAUTH, "ops.readyz" },
	{ HTTP_GET, "/metrics", metrics, ROLE_PUBLIC, ROUTE_NOLOG | ROUTE_NOAUTH, "ops.metrics" },
};
const size_t ops_routes_n = ARRAY_LEN(ops_routes);
