/* crypto.c: the key file, subkeys, field sealing, blind indexes, tokens and CSRF tokens.
 * See crypto.h for the formats; they are stored in databases and must not change. */
#include "identity/crypto.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "base/err.h"
#include "base/util.h"

#define KEY_BYTES 32
#define SUBKEY_BYTES 32
#define SEAL_VERSION 1
#define SEAL_HDR (1 + 4 + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES)
#define KEYFILE_MAX (1u << 20) /* a key file is a few lines; refuse anything absurd */

_Static_assert(crypto_kdf_KEYBYTES == KEY_BYTES, "master key size");
_Static_assert(crypto_kdf_CONTEXTBYTES == 8, "kdf context size");
_Static_assert(crypto_aead_xchacha20poly1305_ietf_KEYBYTES == SUBKEY_BYTES, "aead key size");
_Static_assert(CRYPTO_SEAL_OVERHEAD ==
		       SEAL_HDR + crypto_aead_xchacha20poly1305_ietf_ABYTES, "seal overhead");
_Static_assert(sodium_base64_ENCODED_LEN(CRYPTO_TOKEN_BYTES,
		       sodium_base64_VARIANT_URLSAFE_NO_PADDING) == CRYPTO_TOKEN_LEN + 1, "token len");
_Static_assert(sodium_base64_ENCODED_LEN(16, sodium_base64_VARIANT_URLSAFE_NO_PADDING) ==
		       CRYPTO_CSRF_LEN + 1, "csrf len");

/* The exact kdf contexts (8 bytes each, no NUL in the derivation). */
static const char CTX_FIELD[] = "ghfield_";
static const char CTX_INDEX[] = "ghindex_";
static const char CTX_TOKEN[] = "ghtoken_";
static const char CTX_CSRF[] = "ghcsrf__";
static const char CTX_CHECK[] = "ghcheck_";

/* Subkeys of one master key; the master key itself is wiped once they are derived. Lives in
 * sodium_malloc'd memory, read-only after loading. */
struct ring_key {
	uint32_t id;
	unsigned char field[SUBKEY_BYTES];
	unsigned char index[SUBKEY_BYTES];
	unsigned char token[SUBKEY_BYTES];
	unsigned char csrf[SUBKEY_BYTES];
	unsigned char check[32]; /* BLAKE2b-256 of the "ghcheck_" subkey: public (keyring_check) */
};

struct keyring {
	size_t n;
	struct ring_key *keys; /* sodium_malloc'd, sorted by id ascending, n >= 1 */
};

int crypto_global_init(void)
{
	/* sodium_init is thread-safe and returns 1 when it already ran. */
	return sodium_init() < 0 ? GH_EINTERNAL : 0;
}

/* ---- key file ---- */

/* A parsed key file line: the master key stays in caller-provided (locked) memory. */
struct key_line {
	uint32_t id;
	unsigned char key[KEY_BYTES];
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Parses the file text (len bytes) into keys (sodium_malloc'd array, caller frees) sorted by
 * id. Returns 0 or GH_EUNAVAILABLE with a message. */
static int parse_keyfile(const char *path, const char *text, size_t len, struct key_line **out,
			 size_t *nout, char *err, size_t errlen)
{
	size_t n = 0, cap = 0;
	struct key_line *keys = NULL;
	int lineno = 0;
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		lineno++;
		const char *q = p;
		while (q < le && is_space(*q))
			q++;
		const char *e = le;
		while (e > q && is_space(e[-1]))
			e--;
		p = nl ? nl + 1 : end;
		if (q == e || *q == '#')
			continue;
		/* "<id> <64 hex>" */
		uint64_t id = 0;
		const char *d = q;
		while (d < e && *d >= '0' && *d <= '9' && id <= UINT32_MAX)
			id = id * 10 + (uint64_t)(*d++ - '0');
		const char *h = d;
		while (h < e && is_space(*h))
			h++;
		unsigned char key[KEY_BYTES];
		size_t klen = 0;
		const char *hend = NULL;
		if (d == q || id == 0 || id > UINT32_MAX || h == d || e - h != 2 * KEY_BYTES ||
		    sodium_hex2bin(key, sizeof key, h, (size_t)(e - h), NULL, &klen, &hend) != 0 ||
		    klen != KEY_BYTES || hend != e) {
			sodium_memzero(key, sizeof key);
			snprintf(err, errlen,
				 "key file %s, line %d: expected \"<id> <64 hex digits>\" with an id "
				 "from 1 to 4294967295",
				 path, lineno);
			goto fail;
		}
		for (size_t i = 0; i < n; i++) {
			if (keys[i].id == id) {
				sodium_memzero(key, sizeof key);
				snprintf(err, errlen, "key file %s, line %d: key id %u appears twice",
					 path, lineno, (unsigned)id);
				goto fail;
			}
		}
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 4;
			struct key_line *nk = sodium_malloc(ncap * sizeof *nk);
			if (!nk)
				die("out of memory (sodium_malloc)");
			if (n)
				memcpy(nk, keys, n * sizeof *nk);
			sodium_free(keys);
			keys = nk;
			cap = ncap;
		}
		/* Insertion keeps the array sorted by id. */
		size_t at = n;
		while (at > 0 && keys[at - 1].id > id) {
			keys[at] = keys[at - 1];
			at--;
		}
		keys[at].id = (uint32_t)id;
		memcpy(keys[at].key, key, KEY_BYTES);
		sodium_memzero(key, sizeof key);
		n++;
	}
	if (n == 0) {
		snprintf(err, errlen, "key file %s holds no key: run `govhall init` to create one",
			 path);
		goto fail;
	}
	*out = keys;
	*nout = n;
	return 0;
fail:
	sodium_free(keys); /* wipes */
	return GH_EUNAVAILABLE;
}

/* Opens and reads the key file after checking its mode on the open descriptor (no race
 * between the check and the read). *text is sodium_malloc'd (caller sodium_frees, which
 * wipes it). Returns 0 or GH_EUNAVAILABLE with a message. */
static int read_keyfile(const char *path, char **text, size_t *len, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			snprintf(err, errlen, "key file %s not found: run `govhall init` to create it",
				 path);
		else
			snprintf(err, errlen, "cannot open key file %s: %s", path, strerror(errno));
		return GH_EUNAVAILABLE;
	}
	struct stat st;
	if (fstat(fd, &st) != 0) {
		snprintf(err, errlen, "cannot stat key file %s: %s", path, strerror(errno));
		close(fd);
		return GH_EUNAVAILABLE;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "key file %s is not a regular file", path);
		close(fd);
		return GH_EUNAVAILABLE;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen, "key file %s is readable by others: chmod 600 %s", path, path);
		close(fd);
		return GH_EUNAVAILABLE;
	}
	if (st.st_size < 0 || (uint64_t)st.st_size > KEYFILE_MAX) {
		snprintf(err, errlen, "key file %s is too large to be a key file", path);
		close(fd);
		return GH_EUNAVAILABLE;
	}
	/* One spare byte beyond the size fstat saw detects a file growing under us. */
	size_t cap = (size_t)st.st_size + 2;
	char *buf = sodium_malloc(cap);
	if (!buf)
		die("out of memory (sodium_malloc)");
	size_t n = 0;
	for (;;) {
		ssize_t r = read(fd, buf + n, cap - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || n + (size_t)r == cap - 1) {
			if (r < 0)
				snprintf(err, errlen, "cannot read key file %s: %s", path,
					 strerror(errno));
			else
				snprintf(err, errlen, "key file %s changed while being read", path);
			sodium_free(buf);
			close(fd);
			return GH_EUNAVAILABLE;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = 0;
	*text = buf;
	*len = n;
	return 0;
}

/* Reads and parses the key file. */
static int load_lines(const char *path, struct key_line **keys, size_t *n, char **text,
		      size_t *textlen, char *err, size_t errlen)
{
	char *buf;
	size_t len;
	int rc = read_keyfile(path, &buf, &len, err, errlen);
	if (rc)
		return rc;
	rc = parse_keyfile(path, buf, len, keys, n, err, errlen);
	if (rc == 0 && text) {
		*text = buf;
		*textlen = len;
	} else {
		sodium_free(buf);
	}
	return rc;
}

static void derive(unsigned char sub[SUBKEY_BYTES], const char ctx[8],
		   const unsigned char master[KEY_BYTES])
{
	if (crypto_kdf_derive_from_key(sub, SUBKEY_BYTES, 1, ctx, master) != 0)
		die("crypto_kdf_derive_from_key failed");
}

int keyring_load(const char *path, struct keyring **out, char *err, size_t errlen)
{
	*out = NULL;
	if (crypto_global_init() != 0) {
		snprintf(err, errlen, "libsodium failed to initialise");
		return GH_EUNAVAILABLE;
	}
	struct key_line *lines;
	size_t n;
	int rc = load_lines(path, &lines, &n, NULL, NULL, err, errlen);
	if (rc)
		return rc;
	struct ring_key *keys = sodium_allocarray(n, sizeof *keys);
	if (!keys)
		die("out of memory (sodium_malloc)");
	for (size_t i = 0; i < n; i++) {
		keys[i].id = lines[i].id;
		derive(keys[i].field, CTX_FIELD, lines[i].key);
		derive(keys[i].index, CTX_INDEX, lines[i].key);
		derive(keys[i].token, CTX_TOKEN, lines[i].key);
		derive(keys[i].csrf, CTX_CSRF, lines[i].key);
		unsigned char sub[SUBKEY_BYTES];
		derive(sub, CTX_CHECK, lines[i].key);
		crypto_generichash(keys[i].check, sizeof(keys[i].check), sub, sizeof(sub), NULL, 0);
		sodium_memzero(sub, sizeof(sub));
	}
	sodium_free(lines); /* wipes the master keys */
	sodium_mprotect_readonly(keys);
	struct keyring *k = xcalloc(1, sizeof *k);
	k->n = n;
	k->keys = keys;
	*out = k;
	return 0;
}

void keyring_free(struct keyring *k)
{
	if (!k)
		return;
	sodium_mprotect_readwrite(k->keys);
	sodium_free(k->keys); /* wipes and unlocks */
	free(k);
}

uint32_t keyring_current_id(const struct keyring *k)
{
	return k->keys[k->n - 1].id;
}

size_t keyring_count(const struct keyring *k)
{
	return k->n;
}

uint32_t keyring_check(const struct keyring *k, size_t i, char hex[65])
{
	sodium_bin2hex(hex, 65, k->keys[i].check, sizeof(k->keys[i].check));
	return k->keys[i].id;
}

/* Writes all of buf to fd. Returns 0 or -1 (errno set). */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t w = write(fd, buf, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

/* fsyncs the directory holding path, so a new or renamed entry survives a crash. Errors are
 * ignored (some file systems refuse fsync on directories). */
static void sync_parent_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? (slash == path ? xstrdup("/") : xstrndup(path, (size_t)(slash - path)))
			  : xstrdup(".");
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	free(dir);
}

/* Appends "<id> <64 hex>\n" for a new random key to a sodium_malloc'd line buffer (at least
 * 12 + 64 + 2 bytes). Returns its length. */
static size_t new_key_line(uint32_t id, char *line, size_t cap)
{
	unsigned char key[KEY_BYTES];
	crypto_kdf_keygen(key);
	int n = snprintf(line, cap, "%u ", (unsigned)id);
	if (n < 0 || (size_t)n + 2 * KEY_BYTES + 2 > cap)
		die("key line buffer too small");
	sodium_bin2hex(line + n, cap - (size_t)n, key, KEY_BYTES);
	sodium_memzero(key, sizeof key);
	size_t len = (size_t)n + 2 * KEY_BYTES;
	line[len++] = '\n';
	line[len] = 0;
	return len;
}

static const char KEYFILE_HEADER[] =
	"# govhall master keys: \"<id> <64 hex digits>\" per line; the highest id encrypts new\n"
	"# values, the lowest keys blind indexes and token hashes. Keep this file secret (mode\n"
	"# 0600) and backed up: without it, encrypted personal data cannot be read.\n";

int keyring_create(const char *path, char *err, size_t errlen)
{
	if (crypto_global_init() != 0) {
		snprintf(err, errlen, "libsodium failed to initialise");
		return GH_EIO;
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (errno == EEXIST)
			return 0;
		snprintf(err, errlen, "cannot create key file %s: %s", path, strerror(errno));
		return GH_EIO;
	}
	char *line = sodium_malloc(128);
	if (!line)
		die("out of memory (sodium_malloc)");
	size_t len = new_key_line(1, line, 128);
	int rc = 0;
	/* fchmod: the umask may have cleared bits of 0600 but can never add any; make it exact. */
	if (fchmod(fd, 0600) != 0 || write_all(fd, KEYFILE_HEADER, sizeof KEYFILE_HEADER - 1) ||
	    write_all(fd, line, len) || fsync(fd) != 0) {
		snprintf(err, errlen, "cannot write key file %s: %s", path, strerror(errno));
		rc = GH_EIO;
	}
	sodium_free(line);
	if (close(fd) != 0 && rc == 0) {
		snprintf(err, errlen, "cannot write key file %s: %s", path, strerror(errno));
		rc = GH_EIO;
	}
	if (rc) {
		unlink(path); /* never leave a half-written key file that looks valid */
		return rc;
	}
	sync_parent_dir(path);
	return 0;
}

int keyring_add_key(const char *path, uint32_t *new_id, char *err, size_t errlen)
{
	if (crypto_global_init() != 0) {
		snprintf(err, errlen, "libsodium failed to initialise");
		return GH_EIO;
	}
	struct key_line *lines;
	size_t n;
	char *text;
	size_t textlen;
	int rc = load_lines(path, &lines, &n, &text, &textlen, err, errlen);
	if (rc)
		return rc;
	uint32_t last = lines[n - 1].id;
	sodium_free(lines);
	if (last == UINT32_MAX) {
		sodium_free(text);
		snprintf(err, errlen, "key file %s: no key id left after %u", path, (unsigned)last);
		return GH_EUNAVAILABLE;
	}
	uint32_t id = last + 1;

	size_t tlen = strlen(path) + 16;
	char *tmp = xmalloc(tlen);
	snprintf(tmp, tlen, "%s.XXXXXX", path);
	int fd = mkostemp(tmp, O_CLOEXEC); /* creates with mode 0600 */
	if (fd < 0) {
		snprintf(err, errlen, "cannot create a temporary file next to %s: %s", path,
			 strerror(errno));
		sodium_free(text);
		free(tmp);
		return GH_EIO;
	}
	char *line = sodium_malloc(128);
	if (!line)
		die("out of memory (sodium_malloc)");
	size_t len = new_key_line(id, line, 128);
	bool need_nl = textlen > 0 && text[textlen - 1] != '\n';
	if (fchmod(fd, 0600) != 0 || write_all(fd, text, textlen) ||
	    (need_nl && write_all(fd, "\n", 1)) || write_all(fd, line, len) || fsync(fd) != 0) {
		snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
		rc = GH_EIO;
	}
	sodium_free(line);
	sodium_free(text);
	if (close(fd) != 0 && rc == 0) {
		snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
		rc = GH_EIO;
	}
	if (rc == 0 && rename(tmp, path) != 0) {
		snprintf(err, errlen, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
		rc = GH_EIO;
	}
	if (rc) {
		unlink(tmp);
		free(tmp);
		return rc;
	}
	free(tmp);
	sync_parent_dir(path);
	if (new_id)
		*new_id = id;
	return 0;
}

/* ---- sealing ---- */

static const struct ring_key *find_key(const struct keyring *k, uint32_t id)
{
	size_t lo = 0, hi = k->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (k->keys[mid].id == id)
			return &k->keys[mid];
		if (k->keys[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

int crypto_seal(const struct keyring *k, struct arena *a, const char *field, const void *plain,
		size_t len, unsigned char **out, size_t *outlen)
{
	const struct ring_key *key = &k->keys[k->n - 1];
	if (len > SIZE_MAX - CRYPTO_SEAL_OVERHEAD)
		die("crypto_seal: size overflow");
	size_t total = len + CRYPTO_SEAL_OVERHEAD;
	unsigned char *buf = arena_alloc(a, total);
	buf[0] = SEAL_VERSION;
	buf[1] = (unsigned char)(key->id >> 24);
	buf[2] = (unsigned char)(key->id >> 16);
	buf[3] = (unsigned char)(key->id >> 8);
	buf[4] = (unsigned char)key->id;
	unsigned char *nonce = buf + 5;
	randombytes_buf(nonce, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
	unsigned long long clen = 0;
	crypto_aead_xchacha20poly1305_ietf_encrypt(buf + SEAL_HDR, &clen, plain, len,
						   (const unsigned char *)field, strlen(field),
						   NULL, nonce, key->field);
	*out = buf;
	*outlen = SEAL_HDR + (size_t)clen;
	return 0;
}

int crypto_open(const struct keyring *k, struct arena *a, const char *field, const unsigned char *in,
		size_t inlen, char **out, size_t *outlen, uint32_t *key_id)
{
	if (inlen < CRYPTO_SEAL_OVERHEAD || in[0] != SEAL_VERSION)
		return GH_EINVAL;
	uint32_t id = (uint32_t)in[1] << 24 | (uint32_t)in[2] << 16 | (uint32_t)in[3] << 8 | in[4];
	const struct ring_key *key = find_key(k, id);
	if (!key)
		return GH_EINVAL;
	size_t plen = inlen - CRYPTO_SEAL_OVERHEAD;
	char *buf = arena_alloc(a, plen + 1);
	unsigned long long mlen = 0;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		    (unsigned char *)buf, &mlen, NULL, in + SEAL_HDR, inlen - SEAL_HDR,
		    (const unsigned char *)field, strlen(field), in + 5, key->field) != 0)
		return GH_EINVAL;
	buf[mlen] = 0;
	*out = buf;
	if (outlen)
		*outlen = (size_t)mlen;
	if (key_id)
		*key_id = id;
	return 0;
}

/* ---- hashes and tokens ---- */

char *crypto_seal_text(const struct keyring *k, struct arena *a, const char *field, const char *plain)
{
	unsigned char *enc;
	size_t enc_len;
	crypto_seal(k, a, field, plain, strlen(plain), &enc, &enc_len);
	size_t b64 = sodium_base64_ENCODED_LEN(enc_len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	char *text = arena_alloc(a, b64);
	sodium_bin2base64(text, b64, enc, enc_len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return text;
}

int crypto_open_text(const struct keyring *k, struct arena *a, const char *field, const char *text, size_t len,
		     char **out, uint32_t *key_id)
{
	unsigned char *bin = arena_alloc(a, len + 1);
	size_t blen = 0;
	if (sodium_base642bin(bin, len + 1, text, len, NULL, &blen, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
		return GH_EINVAL;
	return crypto_open(k, a, field, bin, blen, out, NULL, key_id);
}

void crypto_sha256_hex(const void *p, size_t n, char out[65])
{
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(h, p, n);
	sodium_bin2hex(out, 65, h, sizeof(h));
}

void crypto_blind_index(const struct keyring *k, const char *field, const char *value, size_t len,
			char out[CRYPTO_HASH_HEX + 1])
{
	unsigned char h[CRYPTO_HASH_HEX / 2];
	crypto_generichash_state st;
	crypto_generichash_init(&st, k->keys[0].index, SUBKEY_BYTES, sizeof h);
	/* field, NUL, value: field names hold no NUL, so the encoding is unambiguous. */
	crypto_generichash_update(&st, (const unsigned char *)field, strlen(field) + 1);
	crypto_generichash_update(&st, (const unsigned char *)value, len);
	crypto_generichash_final(&st, h, sizeof h);
	sodium_bin2hex(out, CRYPTO_HASH_HEX + 1, h, sizeof h);
}

void crypto_new_token(char out[CRYPTO_TOKEN_LEN + 1])
{
	unsigned char b[CRYPTO_TOKEN_BYTES];
	randombytes_buf(b, sizeof b);
	sodium_bin2base64(out, CRYPTO_TOKEN_LEN + 1, b, sizeof b,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(b, sizeof b);
}

void crypto_token_hash(const struct keyring *k, const char *token, char out[CRYPTO_HASH_HEX + 1])
{
	unsigned char h[CRYPTO_HASH_HEX / 2];
	crypto_generichash(h, sizeof h, (const unsigned char *)token, strlen(token),
			   k->keys[0].token, SUBKEY_BYTES);
	sodium_bin2hex(out, CRYPTO_HASH_HEX + 1, h, sizeof h);
}

void crypto_csrf_token(const struct keyring *k, const char *cookie, char out[CRYPTO_CSRF_LEN + 1])
{
	unsigned char h[16];
	crypto_generichash(h, sizeof h, (const unsigned char *)cookie, strlen(cookie),
			   k->keys[0].csrf, SUBKEY_BYTES);
	sodium_bin2base64(out, CRYPTO_CSRF_LEN + 1, h, sizeof h,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

int crypto_str_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la != lb)
		return 0;
	return la == 0 || sodium_memcmp(a, b, la) == 0;
}
