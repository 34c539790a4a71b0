/* Unit tests for src/identity/crypto.c: the key file, sealing and key rotation, blind indexes,
 * tokens and CSRF (password.c and totp.c: test_password, test_totp). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "base/arena.h"
#include "base/err.h"
#include "base/util.h"
#include "identity/crypto.h"

/* A fresh temporary folder per test, holding the key file. */
struct fixture {
	char dir[64];
	char path[128];
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof *f);
	snprintf(f->dir, sizeof f->dir, "/tmp/gh-crypto-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof f->path, "%s/govhall.key", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[160];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static void write_text(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static struct keyring *load_ok(const char *path)
{
	struct keyring *k = NULL;
	char err[256] = "";
	int rc = keyring_load(path, &k, err, sizeof err);
	if (rc)
		fail_msg("keyring_load: %s", err);
	return k;
}

#define HEX_A "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define HEX_B "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"

/* ---- key file ---- */

static void test_keyfile_create(void **state)
{
	struct fixture *f = *state;
	char err[256] = "";
	mode_t old = umask(0); /* a permissive umask must not widen the mode */
	int rc = keyring_create(f->path, err, sizeof err);
	umask(old);
	assert_int_equal(rc, 0);
	struct stat st;
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	/* Exists already: still 0, file untouched. */
	struct keyring *k = load_ok(f->path);
	assert_int_equal(keyring_current_id(k), 1);
	char before[CRYPTO_HASH_HEX + 1], after[CRYPTO_HASH_HEX + 1];
	crypto_token_hash(k, "t", before);
	keyring_free(k);
	assert_int_equal(keyring_create(f->path, err, sizeof err), 0);
	k = load_ok(f->path);
	crypto_token_hash(k, "t", after);
	assert_string_equal(before, after);
	keyring_free(k);
}

static void test_keyfile_refused(void **state)
{
	struct fixture *f = *state;
	struct keyring *k = (struct keyring *)1;
	char err[256] = "";

	/* Missing. */
	assert_int_equal(keyring_load(f->path, &k, err, sizeof err), GH_EUNAVAILABLE);
	assert_null(k);
	assert_non_null(strstr(err, "govhall init"));

	/* Readable by others. */
	char line[200];
	snprintf(line, sizeof line, "1 %s\n", HEX_A);
	write_text(f->path, line, 0644);
	assert_int_equal(keyring_load(f->path, &k, err, sizeof err), GH_EUNAVAILABLE);
	assert_non_null(strstr(err, "readable by others"));
	assert_non_null(strstr(err, "chmod 600"));
	chmod(f->path, 0640);
	assert_int_equal(keyring_load(f->path, &k, err, sizeof err), GH_EUNAVAILABLE);
	chmod(f->path, 0600);
	k = load_ok(f->path);
	keyring_free(k);

	/* Malformed lines report their number. */
	static const char *const bad[] = {
		"# keys\n\n1 00112233\n",                       /* short hex */
		"# keys\n\nx " HEX_A "\n",                     /* id not a number */
		"# keys\n\n0 " HEX_A "\n",                     /* id 0 */
		"# keys\n\n1 " HEX_A "zz\n",                   /* trailing garbage */
		"# keys\n\n1" HEX_A "\n",                      /* no space */
		"# keys\n\n4294967296 " HEX_A "\n",            /* id too large */
		"# keys\n\n1 " HEX_A "\n1 " HEX_B "\n",        /* duplicate id (line 4) */
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		write_text(f->path, bad[i], 0600);
		err[0] = 0;
		assert_int_equal(keyring_load(f->path, &k, err, sizeof err), GH_EUNAVAILABLE);
		assert_non_null(strstr(err, i == 6 ? "line 4" : "line 3"));
	}
	/* Comments only: no key. */
	write_text(f->path, "# nothing here\n", 0600);
	assert_int_equal(keyring_load(f->path, &k, err, sizeof err), GH_EUNAVAILABLE);
}

static void test_keyfile_multiple(void **state)
{
	struct fixture *f = *state;
	/* Out of order, CRLF, blanks, comments and no final newline all load. */
	write_text(f->path, "# two keys\r\n7 " HEX_B "\r\n\n  2 " HEX_A "  \n# end", 0600);
	struct keyring *k = load_ok(f->path);
	assert_int_equal(keyring_current_id(k), 7);
	struct arena *a = arena_new(4096);
	unsigned char *s;
	size_t slen;
	char *p;
	uint32_t id = 0;
	assert_int_equal(crypto_seal(k, a, "phone", "13800138000", 11, &s, &slen), 0);
	assert_int_equal(crypto_open(k, a, "phone", s, slen, &p, NULL, &id), 0);
	assert_int_equal(id, 7);
	keyring_free(k);

	/* The same keys in another order give the same subkeys. */
	write_text(f->path, "2 " HEX_A "\n7 " HEX_B "\n", 0600);
	k = load_ok(f->path);
	assert_int_equal(crypto_open(k, a, "phone", s, slen, &p, NULL, &id), 0);
	assert_string_equal(p, "13800138000");
	keyring_free(k);
	arena_free(a);
}

/* ---- sealing ---- */

static void test_seal_open(void **state)
{
	struct fixture *f = *state;
	char err[256];
	assert_int_equal(keyring_create(f->path, err, sizeof err), 0);
	struct keyring *k = load_ok(f->path);
	struct arena *a = arena_new(4096);
	const char *id_no = "11010519491231002X";
	unsigned char *s, *s2;
	size_t slen, slen2;
	assert_int_equal(crypto_seal(k, a, "id_number", id_no, strlen(id_no), &s, &slen), 0);
	assert_int_equal(slen, strlen(id_no) + CRYPTO_SEAL_OVERHEAD);
	assert_int_equal(s[0], 1);
	assert_int_equal(s[1] | s[2] | s[3], 0);
	assert_int_equal(s[4], 1);
	/* Fresh nonce: the same value seals differently. */
	assert_int_equal(crypto_seal(k, a, "id_number", id_no, strlen(id_no), &s2, &slen2), 0);
	assert_int_equal(slen, slen2);
	assert_memory_not_equal(s, s2, slen);

	char *p;
	size_t plen;
	uint32_t kid = 0;
	assert_int_equal(crypto_open(k, a, "id_number", s, slen, &p, &plen, &kid), 0);
	assert_int_equal(plen, strlen(id_no));
	assert_string_equal(p, id_no);
	assert_int_equal(kid, 1);

	/* Another column's name as AD: refused. */
	assert_int_equal(crypto_open(k, a, "phone", s, slen, &p, &plen, NULL), GH_EINVAL);
	/* Any flipped byte: refused. */
	unsigned char *t = arena_alloc(a, slen);
	for (size_t i = 0; i < slen; i++) {
		memcpy(t, s, slen);
		t[i] ^= 0x40;
		assert_int_equal(crypto_open(k, a, "id_number", t, slen, &p, &plen, NULL), GH_EINVAL);
	}
	/* Truncated: refused. */
	for (size_t n = 0; n < CRYPTO_SEAL_OVERHEAD + 2; n++)
		assert_int_equal(crypto_open(k, a, "id_number", s, n, &p, &plen, NULL), GH_EINVAL);
	/* Empty plaintext round-trips. */
	assert_int_equal(crypto_seal(k, a, "x", "", 0, &s, &slen), 0);
	assert_int_equal(crypto_open(k, a, "x", s, slen, &p, &plen, NULL), 0);
	assert_int_equal(plen, 0);
	assert_string_equal(p, "");
	keyring_free(k);
	arena_free(a);
}

static void test_rotation(void **state)
{
	struct fixture *f = *state;
	char err[256];
	assert_int_equal(keyring_create(f->path, err, sizeof err), 0);
	struct keyring *k1 = load_ok(f->path);
	struct arena *a = arena_new(4096);
	unsigned char *s1;
	size_t s1len;
	assert_int_equal(crypto_seal(k1, a, "phone", "13912345678", 11, &s1, &s1len), 0);
	char bi1[CRYPTO_HASH_HEX + 1], th1[CRYPTO_HASH_HEX + 1], cs1[CRYPTO_CSRF_LEN + 1];
	crypto_blind_index(k1, "phone", "13912345678", 11, bi1);
	crypto_token_hash(k1, "tok", th1);
	crypto_csrf_token(k1, "cookie", cs1);

	uint32_t nid = 0;
	if (keyring_add_key(f->path, &nid, err, sizeof err) != 0)
		fail_msg("keyring_add_key: %s", err);
	assert_int_equal(nid, 2);
	struct stat st;
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	/* No temporary file left behind. */
	char cmd[200];
	snprintf(cmd, sizeof cmd, "test $(ls -A '%s' | wc -l) -eq 1", f->dir);
	assert_int_equal(system(cmd), 0);

	struct keyring *k2 = load_ok(f->path);
	assert_int_equal(keyring_current_id(k2), 2);
	char *p;
	uint32_t kid = 0;
	assert_int_equal(crypto_open(k2, a, "phone", s1, s1len, &p, NULL, &kid), 0);
	assert_string_equal(p, "13912345678");
	assert_int_equal(kid, 1);
	unsigned char *s2;
	size_t s2len;
	assert_int_equal(crypto_seal(k2, a, "phone", "13912345678", 11, &s2, &s2len), 0);
	assert_int_equal(crypto_open(k2, a, "phone", s2, s2len, &p, NULL, &kid), 0);
	assert_int_equal(kid, 2);
	/* The old ring does not know key 2. */
	assert_int_equal(crypto_open(k1, a, "phone", s2, s2len, &p, NULL, &kid), GH_EINVAL);

	/* Blind index, token hash and CSRF stay the same across rotation. */
	char bi2[CRYPTO_HASH_HEX + 1], th2[CRYPTO_HASH_HEX + 1], cs2[CRYPTO_CSRF_LEN + 1];
	crypto_blind_index(k2, "phone", "13912345678", 11, bi2);
	crypto_token_hash(k2, "tok", th2);
	crypto_csrf_token(k2, "cookie", cs2);
	assert_string_equal(bi1, bi2);
	assert_string_equal(th1, th2);
	assert_string_equal(cs1, cs2);

	/* A third key, then the ring holds three. */
	assert_int_equal(keyring_add_key(f->path, &nid, err, sizeof err), 0);
	assert_int_equal(nid, 3);
	struct keyring *k3 = load_ok(f->path);
	assert_int_equal(crypto_open(k3, a, "phone", s1, s1len, &p, NULL, &kid), 0);
	assert_int_equal(kid, 1);
	keyring_free(k3);
	keyring_free(k2);
	keyring_free(k1);
	arena_free(a);

	/* Rotation refuses a key file with a bad mode, and a missing one. */
	chmod(f->path, 0644);
	assert_int_equal(keyring_add_key(f->path, &nid, err, sizeof err), GH_EUNAVAILABLE);
	unlink(f->path);
	assert_int_equal(keyring_add_key(f->path, &nid, err, sizeof err), GH_EUNAVAILABLE);
}

static bool is_hex64(const char *s)
{
	if (strlen(s) != CRYPTO_HASH_HEX)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

static bool is_b64url(const char *s, size_t len)
{
	if (strlen(s) != len)
		return false;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			return false;
	return true;
}

static void test_hashes_tokens(void **state)
{
	struct fixture *f = *state;
	write_text(f->path, "1 " HEX_A "\n", 0600);
	struct keyring *k = load_ok(f->path);

	char a[CRYPTO_HASH_HEX + 1], b[CRYPTO_HASH_HEX + 1];
	crypto_blind_index(k, "phone", "13800138000", 11, a);
	assert_true(is_hex64(a));
	crypto_blind_index(k, "phone", "13800138000", 11, b);
	assert_string_equal(a, b);
	crypto_blind_index(k, "id_number", "13800138000", 11, b);
	assert_string_not_equal(a, b);
	crypto_blind_index(k, "phone", "13800138001", 11, b);
	assert_string_not_equal(a, b);
	/* The field/value boundary is unambiguous. */
	crypto_blind_index(k, "ab", "c", 1, a);
	crypto_blind_index(k, "a", "bc", 2, b);
	assert_string_not_equal(a, b);

	/* Tokens: 43 base64url characters, all different. */
	char t1[CRYPTO_TOKEN_LEN + 1], t2[CRYPTO_TOKEN_LEN + 1];
	for (int i = 0; i < 50; i++) {
		crypto_new_token(t1);
		assert_true(is_b64url(t1, CRYPTO_TOKEN_LEN));
	}
	crypto_new_token(t2);
	assert_string_not_equal(t1, t2);
	crypto_token_hash(k, t1, a);
	crypto_token_hash(k, t1, b);
	assert_true(is_hex64(a));
	assert_string_equal(a, b);
	crypto_token_hash(k, t2, b);
	assert_string_not_equal(a, b);
	/* The token hash is keyed: not the plain BLAKE2b of the token. */
	unsigned char h[32];
	char plain[65];
	crypto_generichash(h, sizeof h, (const unsigned char *)t1, strlen(t1), NULL, 0);
	sodium_bin2hex(plain, sizeof plain, h, sizeof h);
	assert_string_not_equal(a, plain);

	/* CSRF: deterministic per cookie, different between cookies. */
	char c1[CRYPTO_CSRF_LEN + 1], c2[CRYPTO_CSRF_LEN + 1];
	crypto_csrf_token(k, "cookie-one", c1);
	assert_true(is_b64url(c1, CRYPTO_CSRF_LEN));
	crypto_csrf_token(k, "cookie-one", c2);
	assert_string_equal(c1, c2);
	crypto_csrf_token(k, "cookie-two", c2);
	assert_string_not_equal(c1, c2);
	keyring_free(k);

	/* Another key gives other hashes. */
	write_text(f->path, "1 " HEX_B "\n", 0600);
	k = load_ok(f->path);
	crypto_csrf_token(k, "cookie-one", c2);
	assert_string_not_equal(c1, c2);
	keyring_free(k);
}

static void test_str_equal(void **state)
{
	(void)state;
	assert_true(crypto_str_equal("", ""));
	assert_true(crypto_str_equal("abc", "abc"));
	assert_false(crypto_str_equal("abc", "abd"));
	assert_false(crypto_str_equal("abc", "ab"));
	assert_false(crypto_str_equal("", "a"));
	assert_false(crypto_str_equal("abc", "abcd"));
}


int main(void)
{
	if (crypto_global_init() != 0 || crypto_global_init() != 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_keyfile_create, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keyfile_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keyfile_multiple, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seal_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hashes_tokens, setup, teardown),
		cmocka_unit_test(test_str_equal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
