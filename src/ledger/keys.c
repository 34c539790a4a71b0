/* keys.c: the log's Ed25519 signing keys.
 *
 * The log key file lives next to the personal-data key file (its path with ".ledger"
 * appended; mode 0600, created by `govhall init`). One key per line: "<id> <created unix
 * seconds> <64 hex digits of the Ed25519 seed>"; '#' lines and blank lines are ignored; ids
 * ascend; the highest is current and signs new checkpoints. Rotation appends a key (the file
 * is rewritten to a temporary file and renamed over the old one); old keys stay in the file
 * and in the published keys document, so checkpoints they signed keep verifying. Every node
 * serving the hall needs the same file. */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/config.h"
#include "base/err.h"
#include "base/util.h"
#include "ledger/log_impl.h"

#define HEADER "# govhall transparency log signing keys (Ed25519): <id> <created> <seed hex>. Keep secret.\n"
#define MAX_KEYS 1000

const struct ledger_keys *ledger_loaded_keys;

void ledger_key_path(const struct config *cfg, char *buf, size_t size)
{
	snprintf(buf, size, "%s.ledger", cfg->key_file);
}

void ledger_origin(const struct config *cfg, char *buf, size_t size)
{
	const char *u = cfg->public_url ? cfg->public_url : "";
	const char *p = strstr(u, "://");
	p = p ? p + 3 : u;
	size_t n = strcspn(p, "/?#");
	if (n == 0 || n > 200)
		snprintf(buf, size, "govhall/ledger");
	else
		snprintf(buf, size, "%.*s/ledger", (int)n, p);
}

void ledger_note_key_hash(const char *name, const unsigned char pk[32], unsigned char out[4])
{
	crypto_hash_sha256_state st;
	unsigned char h[32], nl = '\n', alg = 0x01;
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const unsigned char *)name, strlen(name));
	crypto_hash_sha256_update(&st, &nl, 1);
	crypto_hash_sha256_update(&st, &alg, 1);
	crypto_hash_sha256_update(&st, pk, 32);
	crypto_hash_sha256_final(&st, h);
	memcpy(out, h, 4);
}

/* Reads the whole file (at most 1 MiB) after checking its mode. */
static int read_keyfile(const char *path, char **text, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open the log key file %s: %s (run `govhall init`)", path, strerror(errno));
		return GH_EUNAVAILABLE;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || (st.st_mode & 077) || st.st_size > (1 << 20)) {
		snprintf(err, errlen, "the log key file %s must be a small file readable by its owner only (chmod 600)", path);
		close(fd);
		return GH_EUNAVAILABLE;
	}
	char *buf = sodium_malloc((size_t)st.st_size + 1);
	if (!buf)
		die("out of memory (sodium_malloc)");
	ssize_t got = read(fd, buf, (size_t)st.st_size);
	close(fd);
	if (got != st.st_size) {
		sodium_free(buf);
		snprintf(err, errlen, "cannot read the log key file %s", path);
		return GH_EUNAVAILABLE;
	}
	buf[got] = 0;
	*text = buf;
	return 0;
}

int ledger_keys_load(const char *path, const char *origin, struct ledger_keys **out, char *err, size_t errlen)
{
	*out = NULL;
	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium failed to initialise");
		return GH_EUNAVAILABLE;
	}
	char *text;
	int rc = read_keyfile(path, &text, err, errlen);
	if (rc)
		return rc;
	struct ledger_keys *k = sodium_malloc(sizeof(*k));
	if (!k)
		die("out of memory (sodium_malloc)");
	memset(k, 0, sizeof(*k));
	k->k = sodium_allocarray(MAX_KEYS, sizeof(struct ledger_key));
	if (!k->k)
		die("out of memory (sodium_malloc)");
	snprintf(k->origin, sizeof(k->origin), "%s", origin);
	char *p = text;
	int lineno = 0;
	while (*p) {
		char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		lineno++;
		if (len && p[0] != '#') {
			char seedhex[65];
			unsigned long id;
			long long created;
			int used = 0;
			char line[256];
			if (len >= sizeof(line))
				goto bad;
			memcpy(line, p, len);
			line[len] = 0;
			if (sscanf(line, "%lu %lld %64s%n", &id, &created, seedhex, &used) != 3 || (size_t)used != len ||
			    strlen(seedhex) != 64 || id == 0 || id > UINT32_MAX || k->n == MAX_KEYS ||
			    (k->n && id <= k->k[k->n - 1].id))
				goto bad;
			unsigned char seed[32];
			if (sodium_hex2bin(seed, 32, seedhex, 64, NULL, NULL, NULL) != 0)
				goto bad;
			struct ledger_key *key = &k->k[k->n++];
			key->id = (uint32_t)id;
			key->created = created;
			crypto_sign_seed_keypair(key->pk, key->sk, seed);
			sodium_memzero(seed, sizeof(seed));
			sodium_memzero(seedhex, sizeof(seedhex));
			sodium_memzero(line, sizeof(line));
			ledger_note_key_hash(origin, key->pk, key->key_hash);
		}
		p = nl ? nl + 1 : p + len;
	}
	sodium_free(text);
	if (k->n == 0) {
		snprintf(err, errlen, "the log key file %s holds no key", path);
		ledger_keys_free(k);
		return GH_EUNAVAILABLE;
	}
	*out = k;
	return 0;
bad:
	sodium_free(text);
	ledger_keys_free(k);
	snprintf(err, errlen, "the log key file %s: line %d is not \"<id> <created> <64 hex digits>\" with ascending ids",
		 path, lineno);
	return GH_EUNAVAILABLE;
}

void ledger_keys_free(struct ledger_keys *k)
{
	if (!k)
		return;
	sodium_free(k->k);
	sodium_free(k);
}

static size_t key_line(uint32_t id, char *buf, size_t size)
{
	unsigned char seed[32];
	char hex[65];
	randombytes_buf(seed, sizeof(seed));
	sodium_bin2hex(hex, sizeof(hex), seed, sizeof(seed));
	int n = snprintf(buf, size, "%u %lld %s\n", id, (long long)time(NULL), hex);
	sodium_memzero(seed, sizeof(seed));
	sodium_memzero(hex, sizeof(hex));
	return (size_t)n;
}

static int write_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(fd, s, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Writes text to path (O_EXCL) with mode 0600 and fsyncs it. */
static int write_new(const char *path, const char *a, size_t alen, const char *b, size_t blen, char *err,
		     size_t errlen)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
		return errno == EEXIST ? 1 : GH_EIO;
	}
	int rc = 0;
	if (fchmod(fd, 0600) != 0 || write_all(fd, a, alen) || write_all(fd, b, blen) || fsync(fd) != 0) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		rc = GH_EIO;
	}
	if (close(fd) != 0 && !rc) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		rc = GH_EIO;
	}
	if (rc)
		unlink(path);
	return rc;
}

int ledger_keys_create(const char *path, char *err, size_t errlen)
{
	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium failed to initialise");
		return GH_EIO;
	}
	char line[160];
	size_t n = key_line(1, line, sizeof(line));
	int rc = write_new(path, HEADER, sizeof HEADER - 1, line, n, err, errlen);
	sodium_memzero(line, sizeof(line));
	return rc == 1 ? 0 : rc;
}

int ledger_key_create(const struct config *cfg, char *err, size_t errlen)
{
	char path[4096];
	ledger_key_path(cfg, path, sizeof(path));
	return ledger_keys_create(path, err, errlen);
}

int ledger_key_publics(const struct config *cfg, void (*fn)(void *ctx, uint32_t id, const char *pk_hex), void *ctx,
		       char *err, size_t errlen)
{
	char path[4096], origin[300];
	ledger_key_path(cfg, path, sizeof(path));
	ledger_origin(cfg, origin, sizeof(origin));
	struct ledger_keys *k;
	int rc = ledger_keys_load(path, origin, &k, err, errlen);
	if (rc)
		return rc;
	for (size_t i = 0; i < k->n; i++) {
		char hex[65];
		sodium_bin2hex(hex, sizeof(hex), k->k[i].pk, 32);
		fn(ctx, k->k[i].id, hex);
	}
	ledger_keys_free(k);
	return 0;
}

int ledger_keys_rotate(const char *path, uint32_t *new_id, char *err, size_t errlen)
{
	struct ledger_keys *k;
	int rc = ledger_keys_load(path, "check", &k, err, errlen);
	if (rc)
		return rc;
	uint32_t id = k->k[k->n - 1].id + 1;
	ledger_keys_free(k);
	char *text;
	if ((rc = read_keyfile(path, &text, err, errlen)))
		return rc;
	char tmp[4200];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	unlink(tmp);
	char line[160];
	size_t n = key_line(id, line, sizeof(line));
	size_t tl = strlen(text);
	bool needs_nl = tl && text[tl - 1] != '\n';
	char *joined = sodium_malloc(tl + 2);
	if (!joined)
		die("out of memory (sodium_malloc)");
	memcpy(joined, text, tl);
	if (needs_nl)
		joined[tl++] = '\n';
	sodium_free(text);
	rc = write_new(tmp, joined, tl, line, n, err, errlen);
	sodium_free(joined);
	sodium_memzero(line, sizeof(line));
	if (rc)
		return rc == 1 ? GH_EIO : rc;
	if (rename(tmp, path) != 0) {
		snprintf(err, errlen, "cannot replace %s: %s", path, strerror(errno));
		unlink(tmp);
		return GH_EIO;
	}
	*new_id = id;
	return 0;
}

json_t *ledger_keys_json(const struct ledger_keys *k)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < k->n; i++) {
		const struct ledger_key *key = &k->k[i];
		char pk[64], kh[16], vkey[512];
		ledger_b64(key->pk, 32, pk, sizeof(pk));
		sodium_bin2hex(kh, sizeof(kh), key->key_hash, 4);
		/* The note verifier key in the C2SP form: name+hash+base64(0x01 || pk). */
		unsigned char alg_pk[33];
		alg_pk[0] = 0x01;
		memcpy(alg_pk + 1, key->pk, 32);
		char b[64];
		ledger_b64(alg_pk, 33, b, sizeof(b));
		snprintf(vkey, sizeof(vkey), "%s+%s+%s", k->origin, kh, b);
		json_array_append_new(arr, json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:I,s:b}", "id", (json_int_t)key->id, "name",
						     k->origin, "algorithm", "Ed25519", "public_key", pk, "key_hash", kh,
						     "verifier_key", vkey, "created", (json_int_t)key->created, "current",
						     i + 1 == k->n));
	}
	return json_pack("{s:s,s:o}", "origin", k->origin, "keys", arr);
}
