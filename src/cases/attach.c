/* attach.c: attachment files on disk, content-addressed by SHA-256 (see attach.h). */
#include "cases/attach.h"

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
#include <unistd.h>

#include "base/err.h"
#include "base/log.h"
#include "base/util.h"
#include "http/http.h"
#include "http/multipart.h"

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

/* ---- names and paths ---- */

bool attach_name_valid(const char *s)
{
	if (!s)
		return false;
	size_t i = 0;
	for (; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false; /* also stops at the NUL of a short name */
	return s[64] == 0;
}

/* dir/ab/cd/<hex> into buf; false when it does not fit. */
static bool file_path(char *buf, size_t size, const char *dir, const char *hex)
{
	int n = snprintf(buf, size, "%s/%.2s/%.2s/%s", dir, hex, hex + 2, hex);
	return n > 0 && (size_t)n < size;
}

static int mkdir_one(const char *path)
{
	if (mkdir(path, 0750) == 0 || errno == EEXIST)
		return 0;
	log_error("attach: mkdir %s: %s", path, strerror(errno));
	return GH_EIO;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Writes the file atomically into directory sub as final. */
static int write_file(struct arena *a, const char *sub, const char *final, const char *hex, const void *data,
		      size_t len)
{
	char *tmp = arena_printf(a, "%s/.%s.XXXXXX", sub, hex);
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		log_error("attach: cannot create a file in %s: %s", sub, strerror(errno));
		return GH_EIO;
	}
	const char *step = "fchmod";
	int rc, dfd;
	if (fchmod(fd, 0640))
		goto fail;
	step = "write";
	if (write_all(fd, data, len))
		goto fail;
	step = "fsync";
	if (fsync(fd))
		goto fail;
	step = "close";
	rc = close(fd);
	fd = -1;
	if (rc)
		goto fail;
	step = "rename";
	if (rename(tmp, final))
		goto fail;
	/* Make the rename itself durable. */
	dfd = open(sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		if (fsync(dfd))
			log_warn("attach: fsync of %s: %s", sub, strerror(errno));
		close(dfd);
	}
	return 0;
fail:
	log_error("attach: %s of %s: %s", step, tmp, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return GH_EIO;
}

int attach_store(const char *dir, struct arena *a, const void *data, size_t len, size_t max,
		 struct attach_info *out)
{
	memset(out, 0, sizeof(*out));
	if (len > max)
		return GH_ETOOBIG;
	const char *mime, *detected;
	int rc = attach_sniff(a, data, len, &mime, &detected);
	out->detected = detected;
	if (rc) {
		if (rc == GH_EUNSUPPORTED)
			log_info("attach: refused a file of %zu bytes, type %s", len, detected ? detected : "?");
		return rc;
	}
	unsigned char hash[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(hash, data, len);
	sodium_bin2hex(out->sha256, sizeof(out->sha256), hash, sizeof(hash));
	out->mime = mime;
	out->size = len;

	const char *hex = out->sha256;
	char *d1 = arena_printf(a, "%s/%.2s", dir, hex);
	char *d2 = arena_printf(a, "%s/%.2s", d1, hex + 2);
	char *final = arena_printf(a, "%s/%s", d2, hex);
	struct stat st;
	if (lstat(final, &st) == 0) {
		if (S_ISREG(st.st_mode) && (size_t)st.st_size == len) {
			out->existed = true;
			return 0;
		}
		/* Cannot happen unless someone touched the directory: replace it with good bytes. */
		log_error("attach: %s is not a regular file of %zu bytes; rewriting it", final, len);
	} else if (errno != ENOENT) {
		log_error("attach: stat %s: %s", final, strerror(errno));
		return GH_EIO;
	}
	if ((rc = mkdir_one(dir)) || (rc = mkdir_one(d1)) || (rc = mkdir_one(d2)))
		return rc;
	return write_file(a, d2, final, hex, data, len);
}

int attach_open(const char *dir, const char *sha256, int *fd, size_t *size)
{
	*fd = -1;
	*size = 0;
	if (!attach_name_valid(sha256))
		return GH_EINVAL;
	char path[PATH_MAX];
	if (!dir || !file_path(path, sizeof(path), dir, sha256))
		return GH_EIO;
	int f = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (f < 0)
		return errno == ENOENT || errno == ENOTDIR ? GH_ENOTFOUND : GH_EIO;
	struct stat st;
	if (fstat(f, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(f);
		return GH_ENOTFOUND;
	}
	*fd = f;
	*size = (size_t)st.st_size;
	return 0;
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

int attach_send(struct req *r, const char *dir, const char *sha256, const char *mime, const char *filename)
{
	if (!attach_name_valid(sha256)) {
		log_error("attach: malformed stored name for request %s", r->id);
		return GH_ENOTFOUND;
	}
	int fd;
	size_t n;
	int rc = attach_open(dir, sha256, &fd, &n);
	if (rc == GH_ENOTFOUND)
		log_error("attach: %s is recorded but missing from %s", sha256, dir);
	if (rc)
		return rc;
	if (n > SEND_MAX) {
		close(fd);
		log_error("attach: %s has %zu bytes, more than any upload may", sha256, n);
		return GH_EIO;
	}
	char *buf = arena_alloc(r->arena, n ? n : 1);
	size_t got = 0;
	while (got < n) {
		ssize_t k = read(fd, buf + got, n - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			log_error("attach: read %s: %s", sha256, k < 0 ? strerror(errno) : "short file");
			close(fd);
			return GH_EIO;
		}
		got += (size_t)k;
	}
	close(fd);
	const char *type = "application/octet-stream";
	for (size_t i = 0; mime && i < ARRAY_LEN(allowed); i++)
		if (strcmp(mime, allowed[i].mime) == 0)
			type = allowed[i].mime;
	resp_header(r, "Content-Disposition", attach_disposition(r->arena, filename));
	resp_header(r, "Cache-Control", "private, no-store");
	return resp_body(r, 200, type, buf, n);
}
