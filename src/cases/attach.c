/* attach.c: attachment files in the database, content-addressed by SHA-256 (see attach.h). */
#include "cases/attach.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <magic.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/util.h"
#include "http/http.h"
#include "http/multipart.h"
#include "store/blob.h"

#define SNIFF_BYTES (256u << 10) /* libmagic looks at no more than this */
#define SEND_MAX (1ul << 30)     /* the largest max-upload; anything bigger is not ours */

static const struct {
	const char *mime;
	const char *sig;
	size_t sig_len;
} allowed[] = {
	{ "application/pdf", "%PDF-", 5 },
	{ "image/jpeg", "\xFF\xD8\xFF", 3 },
	{ "image/png", "\x89PNG\r\n\x1a\n", 8 },
};

/* ---- libmagic, one handle per thread ---- */

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_key_t magic_key;

static void magic_release(void *p)
{
	magic_close(p);
}

static void init_once(void)
{
	if (sodium_init() < 0)
		die("attach: libsodium failed to initialise");
	if (pthread_key_create(&magic_key, magic_release))
		die("attach: pthread_key_create failed");
	/* The rows that name stored files: the collection keeps what they name. */
	blob_ref_table("attachments");
	blob_ref_table("publish_attachments");
}

void attach_global_init(void)
{
	pthread_once(&once, init_once);
}

static magic_t thread_magic(void)
{
	attach_global_init();
	magic_t m = pthread_getspecific(magic_key);
	if (m)
		return m;
	/* No decompression (it may run external programs), no archive, executable or document
	 * container parsing: we only need to tell three formats from everything else. */
	m = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR | MAGIC_NO_CHECK_COMPRESS | MAGIC_NO_CHECK_TAR |
		       MAGIC_NO_CHECK_ELF | MAGIC_NO_CHECK_CDF | MAGIC_NO_CHECK_APPTYPE);
	if (!m) {
		log_error("attach: magic_open failed: %s", strerror(errno));
		return NULL;
	}
	if (magic_load(m, NULL) != 0) {
		log_error("attach: magic_load failed: %s", magic_error(m) ? magic_error(m) : "unknown error");
		magic_close(m);
		return NULL;
	}
	size_t bytes = SNIFF_BYTES;
	magic_setparam(m, MAGIC_PARAM_BYTES_MAX, &bytes);
	if (pthread_setspecific(magic_key, m)) {
		magic_close(m);
		return NULL;
	}
	return m;
}

int attach_sniff(struct arena *a, const void *data, size_t len, const char **mime, const char **detected)
{
	*mime = NULL;
	if (detected)
		*detected = NULL;
	magic_t m = thread_magic();
	if (!m)
		return GH_EINTERNAL;
	const char *t = magic_buffer(m, data, len);
	if (!t) {
		/* libmagic gave up on this input: it is nothing we accept. */
		if (detected)
			*detected = arena_printf(a, "(error: %s)", magic_error(m) ? magic_error(m) : "unknown");
		return GH_EUNSUPPORTED;
	}
	if (detected)
		*detected = arena_strdup(a, t);
	for (size_t i = 0; i < ARRAY_LEN(allowed); i++)
		/* Both must agree: libmagic's verdict and the format's signature at offset 0 (a PDF
		 * with junk in front, which libmagic may still call a PDF, is refused). */
		if (strcmp(t, allowed[i].mime) == 0 && len >= allowed[i].sig_len &&
		    memcmp(data, allowed[i].sig, allowed[i].sig_len) == 0) {
			*mime = allowed[i].mime;
			return 0;
		}
	return GH_EUNSUPPORTED;
}

/* ---- names and storage ---- */

static bool hex_digit(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

bool attach_name_valid(const char *s)
{
	if (!s)
		return false;
	size_t i = 0;
	for (; i < 64; i++)
		if (!hex_digit(s[i]))
			return false; /* also stops at the NUL of a short name */
	return s[64] == 0;
}

int attach_check(struct arena *a, const void *data, size_t len, size_t max, struct attach_info *out)
{
	memset(out, 0, sizeof(*out));
	if (len > max)
		return GH_ETOOBIG;
	attach_global_init();
	const char *mime, *detected;
	int rc = attach_sniff(a, data, len, &mime, &detected);
	out->detected = detected;
	if (rc) {
		if (rc == GH_EUNSUPPORTED)
			log_info("attach: refused a file of %zu bytes, type %s", len, detected ? detected : "?");
		return rc;
	}
	out->mime = mime;
	out->size = len;
	return 0;
}

int attach_put(struct db *db, const void *data, struct attach_info *info)
{
	return blob_put(db, data, info->size, clock_now(), info->sha256, &info->existed);
}

int attach_store(struct db *db, struct arena *a, const void *data, size_t len, size_t max,
		 struct attach_info *out)
{
	int rc = attach_check(a, data, len, max, out);
	return rc ? rc : attach_put(db, data, out);
}

/* Reads a whole regular file of at most max bytes (O_NOFOLLOW). NULL with errno set. */
static char *read_regular(int dirfd, const char *name, size_t max, size_t *len)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return NULL;
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
		close(fd);
		errno = EFBIG;
		return NULL;
	}
	size_t n = (size_t)st.st_size, got = 0;
	char *buf = xmalloc(n ? n : 1);
	while (got < n) {
		ssize_t k = read(fd, buf + got, n - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			free(buf);
			close(fd);
			errno = EIO;
			return NULL;
		}
		got += (size_t)k;
	}
	close(fd);
	*len = n;
	return buf;
}

/* Imports the files of one leaf directory dir/ab/cd. */
static int import_leaf(struct db *db, const char *path, FILE *err_out, long *copied, long *present, long *bad)
{
	DIR *d = opendir(path);
	if (!d)
		return 0;
	int rc = 0;
	struct dirent *e;
	while (!rc && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue; /* ".", "..", and temporary files of interrupted writes */
		size_t len = 0;
		char *buf = attach_name_valid(e->d_name) ? read_regular(dirfd(d), e->d_name, SEND_MAX, &len) : NULL;
		char hex[65] = "";
		if (buf) {
			unsigned char h[crypto_hash_sha256_BYTES];
			crypto_hash_sha256(h, (const unsigned char *)buf, len);
			sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
		}
		if (!buf || strcmp(hex, e->d_name) != 0) {
			fprintf(err_out, "govhall: %s/%s: not a stored attachment (name or content), skipped\n", path,
				e->d_name);
			(*bad)++;
			free(buf);
			continue;
		}
		bool existed = false;
		rc = blob_put(db, buf, len, clock_now(), hex, &existed);
		free(buf);
		if (!rc)
			(*(existed ? present : copied))++;
	}
	closedir(d);
	return rc;
}

/* A directory level of the old layout: two lower-case hex digits. */
static bool two_hex(const char *s)
{
	return hex_digit(s[0]) && hex_digit(s[1]) && !s[2];
}

int attach_import_dir(struct db *db, const char *dir, FILE *err_out, long *copied, long *present, long *bad)
{
	attach_global_init();
	*copied = *present = *bad = 0;
	DIR *top = opendir(dir);
	if (!top) {
		fprintf(err_out, "govhall: cannot read %s: %s\n", dir, strerror(errno));
		return GH_EIO;
	}
	int rc = 0;
	struct dirent *a;
	while (!rc && (a = readdir(top))) {
		if (!two_hex(a->d_name))
			continue;
		char p1[PATH_MAX];
		snprintf(p1, sizeof(p1), "%s/%.2s", dir, a->d_name);
		DIR *mid = opendir(p1);
		if (!mid)
			continue;
		struct dirent *b;
		while (!rc && (b = readdir(mid))) {
			if (!two_hex(b->d_name))
				continue;
			char p2[PATH_MAX + 8];
			snprintf(p2, sizeof(p2), "%s/%.2s", p1, b->d_name);
			rc = import_leaf(db, p2, err_out, copied, present, bad);
		}
		closedir(mid);
	}
	closedir(top);
	return rc;
}

/* ---- downloads ---- */

/* RFC 8187 attr-char: what may stand unencoded in filename*. */
static bool attr_char(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c && strchr("!#$&+-.^_`|~", c));
}

const char *attach_disposition(struct arena *a, const char *filename)
{
	/* Stored names were sanitised on upload; do it again, as the name comes from the
	 * database and ends up in a header. */
	const char *fn = filename ? multipart_filename(a, filename, strlen(filename)) : "file";
	size_t n = strlen(fn);
	struct sb sb = SB_INIT;
	sb_adds(&sb, "attachment; filename=\"");
	/* ASCII fallback for old clients: one '_' per non-ASCII character; '"', '\\' and '%'
	 * (which some browsers decode) become '_' too. */
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)fn[i];
		if (c >= 0x80) {
			if ((c & 0xC0) != 0x80)
				sb_addch(&sb, '_');
		} else if (c == '"' || c == '\\' || c == '%') {
			sb_addch(&sb, '_');
		} else if (c >= 0x20 && c != 0x7F) {
			sb_addch(&sb, (char)c);
		}
	}
	sb_adds(&sb, "\"; filename*=UTF-8''");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)fn[i];
		if (attr_char(c))
			sb_addch(&sb, (char)c);
		else
			sb_addf(&sb, "%%%02X", c);
	}
	char *s = arena_strndup(a, sb.buf, sb.len);
	sb_release(&sb);
	return s;
}

struct sendbuf {
	char *buf;
	size_t len, cap;
};

static int append_chunk(void *ctx, const void *p, size_t n)
{
	struct sendbuf *b = ctx;
	if (n > b->cap - b->len)
		return GH_EIO; /* more than the stored size said: blob_read reports it */
	memcpy(b->buf + b->len, p, n);
	b->len += n;
	return 0;
}

int attach_send(struct req *r, const char *sha256, const char *mime, const char *filename)
{
	if (!attach_name_valid(sha256)) {
		log_error("attach: malformed stored name for request %s", r->id);
		return GH_ENOTFOUND;
	}
	size_t n;
	int rc = blob_size(r->db, r->arena, sha256, &n);
	if (rc == GH_ENOTFOUND)
		log_error("attach: %s is named by a row but not stored (run `govhall uploads import`?)", sha256);
	if (rc)
		return rc;
	if (n > SEND_MAX) {
		log_error("attach: %s has %zu bytes, more than any upload may", sha256, n);
		return GH_EIO;
	}
	struct sendbuf b = { arena_alloc(r->arena, n ? n : 1), 0, n };
	if ((rc = blob_read(r->db, sha256, append_chunk, &b)))
		return rc == GH_ENOTFOUND ? GH_ENOTFOUND : rc;
	if (b.len != n)
		return GH_EIO;
	const char *type = "application/octet-stream";
	for (size_t i = 0; mime && i < ARRAY_LEN(allowed); i++)
		if (strcmp(mime, allowed[i].mime) == 0)
			type = allowed[i].mime;
	resp_header(r, "Content-Disposition", attach_disposition(r->arena, filename));
	resp_header(r, "Cache-Control", "private, no-store");
	return resp_body(r, 200, type, b.buf, n);
}
