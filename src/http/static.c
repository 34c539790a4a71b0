/* static.c: files under the static directory, served at /static/. Paths arrive decoded and
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

static int static_file(struct req *r)
{
	const char *rel = req_param(r, "path");
	if (!rel || strstr(rel, "..") || rel[0] == '/' || strchr(rel, '\\'))
		return GH_ENOTFOUND;
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
	/* Versioned links (?v=...) may be cached for a year; others revalidate after an hour. */
	resp_header(r, "Cache-Control", req_query(r, "v") ? "public, max-age=31536000, immutable"
							   : "public, max-age=3600");
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

const struct route static_routes[] = {
	{ HTTP_GET, "/static/{path*}", static_file, ROLE_PUBLIC, ROUTE_NOLOG | ROUTE_NOAUTH, "static.file" },
};
const size_t static_routes_n = ARRAY_LEN(static_routes);
