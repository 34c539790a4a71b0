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
#include "base/jsonout.h"
#include "http/compress.h"
#include "http/http.h"
#include "http/server.h"
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

/* Opens a regular file of at most STATIC_MAX bytes; -1 when there is none. */
static int open_regular(const char *path, struct stat *st)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	if (fstat(fd, st) || !S_ISREG(st->st_mode) || st->st_size > (off_t)STATIC_MAX) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Reads the whole of fd (n bytes) into r's arena, and closes it. */
static char *read_all(struct req *r, int fd, size_t n)
{
	char *buf = arena_alloc(r->arena, n ? n : 1);
	size_t got = 0;
	while (got < n) {
		ssize_t k = read(fd, buf + got, n - got);
		if (k <= 0) {
			close(fd);
			return NULL;
		}
		got += (size_t)k;
	}
	close(fd);
	return buf;
}

/* The file compressed at build time beside full (full.gz, full.br: scripts/precompress.sh),
 * when the client takes that coding and it is no older than the file; -1 otherwise. */
static int open_coded(struct req *r, const char *full, const struct stat *plain, enum coding cd, struct stat *st)
{
	if (cd == CODING_IDENTITY)
		return -1;
	int fd = open_regular(arena_printf(r->arena, "%s.%s", full, cd == CODING_GZIP ? "gz" : "br"), st);
	if (fd >= 0 && st->st_mtime < plain->st_mtime) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* Sends static_dir/rel with validators and the given Cache-Control; compressed from its
 * precompressed copy when there is one (otherwise the server compresses it as it goes). */
static int send_file(struct req *r, const char *rel, const char *cache_control)
{
	char *full = arena_printf(r->arena, "%s/%s", r->app->cfg.static_dir, rel);
	struct stat st, cst;
	int fd = open_regular(full, &st);
	if (fd < 0)
		return GH_ENOTFOUND;
	const char *type = static_mime(rel);
	enum coding cd = req_coding(r, type, (size_t)st.st_size, true);
	int cfd = open_coded(r, full, &st, cd, &cst);
	if (cfd < 0 && cd == CODING_BR) {
		/* no .br made (no brotli at install): the .gz, when gzip is acceptable too */
		const char *ae = req_header(r, "Accept-Encoding");
		struct accept_enc a;
		accept_enc_parse(ae, ae ? strlen(ae) : 0, &a);
		if (a.q[CODING_GZIP] && (cfd = open_coded(r, full, &st, CODING_GZIP, &cst)) >= 0)
			cd = CODING_GZIP;
	}
	char etag[64], vtag[72], lm[64];
	snprintf(etag, sizeof(etag), "\"%llx-%llx\"", (unsigned long long)st.st_size,
		 (unsigned long long)st.st_mtime);
	/* The copy made at install has an ETag of its own; a file the server compresses as it goes
	 * has the file's, weak (as finish makes it), on its 304s too. */
	const char *tag = etag;
	if (cfd >= 0) {
		tag = etag_variant(etag, cd, vtag, sizeof(vtag));
	} else if (cd != CODING_IDENTITY) {
		snprintf(vtag, sizeof(vtag), "W/%s", etag);
		tag = vtag;
	}
	http_date(st.st_mtime, lm, sizeof(lm));
	resp_header(r, "ETag", tag);
	resp_header(r, "Last-Modified", lm);
	resp_header(r, "Cache-Control", cache_control);
	if (compress_type_ok(type))
		resp_header(r, "Vary", "Accept-Encoding");
	const char *inm = req_header(r, "If-None-Match");
	const char *ims = req_header(r, "If-Modified-Since");
	if (req_not_modified(r, tag) || (!inm && ims && strcmp(ims, lm) == 0)) {
		close(fd);
		if (cfd >= 0)
			close(cfd);
		return resp_body(r, 304, NULL, NULL, 0);
	}
	if (cfd >= 0) {
		close(fd);
		char *buf = read_all(r, cfd, (size_t)cst.st_size);
		if (!buf)
			return GH_EIO;
		resp_header(r, "Content-Encoding", coding_name(cd));
		return resp_body(r, 200, type, buf, (size_t)cst.st_size);
	}
	char *buf = read_all(r, fd, (size_t)st.st_size);
	if (!buf)
		return GH_EIO;
	return resp_body(r, 200, type, buf, (size_t)st.st_size);
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
	char *body = jsonout_dumps(m, JSON_COMPACT);
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
