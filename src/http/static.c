/* static.c: files under the static directory, served at /static/, and the installable web
 * app's service worker (/sw.js) and manifest (/manifest.webmanifest). Paths arrive decoded and
 * free of dot segments (path_decode), and are also checked here, so nothing outside the
 * directory can be named. Files are read per request; in production a proxy in front serves
 * /static/ itself (deploy/nginx.conf). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "base/err.h"
#include "base/util.h"
#include "http/http.h"
#include "http/ops.h"
#include "view/view.h"

#define STATIC_MAX (8u << 20)

static const struct {
	const char *ext, *type;
} mime[] = {
	{ ".css", "text/css; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".jpg", "image/jpeg" },
	{ ".jpeg", "image/jpeg" },
	{ ".gif", "image/gif" },
	{ ".ico", "image/x-icon" },
	{ ".webp", "image/webp" },
	{ ".woff2", "font/woff2" },
	{ ".woff", "font/woff" },
	{ ".json", "application/json" },
	{ ".webmanifest", "application/manifest+json" },
	{ ".txt", "text/plain; charset=utf-8" },
	{ ".html", "text/html; charset=utf-8" },
	{ ".pdf", "application/pdf" },
	{ ".xml", "application/xml" },
	{ ".yaml", "text/yaml; charset=utf-8" },
};

const char *static_mime(const char *path)
{
	const char *dot = strrchr(path, '.');
	if (dot && !strchr(dot, '/'))
		for (size_t i = 0; i < ARRAY_LEN(mime); i++)
			if (strcasecmp(dot, mime[i].ext) == 0)
				return mime[i].type;
	return "application/octet-stream";
}

static void http_date(time_t t, char *buf, size_t len)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, len, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* Sends static_dir/rel with validators and the given Cache-Control. */
static int send_file(struct req *r, const char *rel, const char *cache_control)
{
	char *full = arena_printf(r->arena, "%s/%s", r->app->cfg.static_dir, rel);
	int fd = open(full, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return GH_ENOTFOUND;
	struct stat st;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > (off_t)STATIC_MAX) {
		close(fd);
		return GH_ENOTFOUND;
	}
	char etag[64], lm[64];
	snprintf(etag, sizeof(etag), "\"%llx-%llx\"", (unsigned long long)st.st_size,
		 (unsigned long long)st.st_mtime);
	http_date(st.st_mtime, lm, sizeof(lm));
	resp_header(r, "ETag", etag);
	resp_header(r, "Last-Modified", lm);
	resp_header(r, "Cache-Control", cache_control);
	const char *inm = req_header(r, "If-None-Match");
	const char *ims = req_header(r, "If-Modified-Since");
	if ((inm && strcmp(inm, etag) == 0) || (!inm && ims && strcmp(ims, lm) == 0)) {
		close(fd);
		return resp_body(r, 304, NULL, NULL, 0);
	}
	size_t n = (size_t)st.st_size;
	char *buf = arena_alloc(r->arena, n ? n : 1);
	size_t got = 0;
	while (got < n) {
		ssize_t k = read(fd, buf + got, n - got);
		if (k <= 0) {
			close(fd);
			return GH_EIO;
		}
		got += (size_t)k;
	}
	close(fd);
	return resp_body(r, 200, static_mime(rel), buf, n);
}

static int static_file(struct req *r)
{
	const char *rel = req_param(r, "path");
	if (!rel || strstr(rel, "..") || rel[0] == '/' || strchr(rel, '\\'))
		return GH_ENOTFOUND;
	/* Versioned links (?v=...) may be cached for a year; others revalidate after an hour. */
	return send_file(r, rel, req_query(r, "v") ? "public, max-age=31536000, immutable" : "public, max-age=3600");
}

/* The service worker (static/js/sw.js) at the root, so that its scope is the whole hall.
 * Browsers look for a new one on every visit (no-cache: push-free updates). */
static int service_worker(struct req *r)
{
	resp_header(r, "Service-Worker-Allowed", "/");
	return send_file(r, "js/sw.js", "no-cache");
}

/* The web app manifest in the visitor's language: what installs the hall on a phone. */
static int web_manifest(struct req *r)
{
	const struct view *v = r->app->view;
	json_t *icons = json_array();
	static const struct {
		const char *src, *sizes, *type, *purpose;
	} icon[] = {
		{ "/static/icons/icon-192.png", "192x192", "image/png", "any" },
		{ "/static/icons/icon-512.png", "512x512", "image/png", "any" },
		{ "/static/icons/icon-512.png", "512x512", "image/png", "maskable" },
		{ "/static/icons/icon.svg", "any", "image/svg+xml", "any" },
	};
	for (size_t i = 0; i < ARRAY_LEN(icon); i++)
		json_array_append_new(icons, json_pack("{s:s,s:s,s:s,s:s}", "src", icon[i].src, "sizes", icon[i].sizes,
						       "type", icon[i].type, "purpose", icon[i].purpose));
	json_t *m = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:o}", "id", "/", "name",
			      view_msg(v, r->lang, "site_name"), "short_name", view_msg(v, r->lang, "site_short_name"),
			      "description", view_msg(v, r->lang, "site_tagline"), "lang",
			      view_msg(v, r->lang, "html_lang"), "start_url", "/", "scope", "/", "display", "standalone",
			      "background_color", "#f4f6f9", "theme_color", "#0b4f9c", "icons", icons);
	char *body = json_dumps(m, JSON_COMPACT);
	json_decref(m);
	if (!body)
		return GH_EINTERNAL;
	char *out = arena_strdup(r->arena, body);
	free(body);
	resp_header(r, "Cache-Control", "public, max-age=3600");
	return resp_body(r, 200, "application/manifest+json", out, strlen(out));
}

/* The page the service worker shows offline: without a session, so nothing personal. */
static int offline_page(struct req *r)
{
	json_t *ctx = json_pack("{s:s}", "title", view_msg(r->app->view, r->lang, "offline_title"));
	resp_header(r, "Cache-Control", "no-cache");
	return resp_page(r, 200, "layout/offline", ctx);
}

const struct route static_routes[] = {
	{ HTTP_GET, "/static/{path*}", static_file, ROLE_PUBLIC, ROUTE_NOLOG | ROUTE_NOAUTH, "static.file" },
	{ HTTP_GET, "/sw.js", service_worker, ROLE_PUBLIC, ROUTE_NOLOG | ROUTE_NOAUTH, "static.service_worker" },
	{ HTTP_GET, "/manifest.webmanifest", web_manifest, ROLE_PUBLIC, ROUTE_NOLOG | ROUTE_NOAUTH, "static.manifest" },
	{ HTTP_GET, "/offline", offline_page, ROLE_PUBLIC, ROUTE_NOAUTH, "static.offline" },
};
const size_t static_routes_n = ARRAY_LEN(static_routes);
