/* password.c: the password policy (length in characters, the common-password list, trivial
 * patterns, the account's own identifiers) and Argon2id hashing. */
#include "identity/password.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/err.h"
#include "base/str.h"
#include "base/util.h"
#include "identity/crypto.h"
#include "view/view.h"

_Static_assert(PASSWORD_HASH_MAX == crypto_pwhash_STRBYTES, "PASSWORD_HASH_MAX");

#define LIST_MAX_BYTES (64u << 20)
#define LIKE_ID_MIN 6 /* shorter avoid strings would refuse too many good passwords */

/* The common-password list: lower-cased (ASCII), sorted, without duplicates. */
static char **common;
static size_t ncommon;

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void ascii_lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

void password_list_free(void)
{
	for (size_t i = 0; i < ncommon; i++)
		free(common[i]);
	free(common);
	common = NULL;
	ncommon = 0;
}

int password_list_load(const char *path, char *err, size_t errlen)
{
	if (crypto_global_init() != 0) {
		snprintf(err, errlen, "libsodium failed to initialise");
		return GH_EINTERNAL;
	}
	size_t len;
	char *text = read_file(path, LIST_MAX_BYTES, &len);
	if (!text) {
		snprintf(err, errlen, "cannot read the common-password list %s: %s", path,
			 strerror(errno));
		return GH_EIO;
	}
	size_t n = 0, cap = 1024;
	char **list = xmalloc(cap * sizeof *list);
	char *p = text, *end = text + len;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *e = nl ? nl : end;
		char *line = p;
		p = nl ? nl + 1 : end;
		while (e > line && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (e == line || *line == '#')
			continue;
		if (n == cap) {
			cap *= 2;
			list = xrealloc(list, cap * sizeof *list);
		}
		list[n] = xstrndup(line, (size_t)(e - line));
		ascii_lower(list[n]);
		n++;
	}
	free(text);
	qsort(list, n, sizeof *list, cmp_str);
	size_t w = 0;
	for (size_t i = 0; i < n; i++) {
		if (w > 0 && strcmp(list[w - 1], list[i]) == 0)
			free(list[i]);
		else
			list[w++] = list[i];
	}
	password_list_free();
	common = list;
	ncommon = w;
	return 0;
}

/* ---- policy ---- */

/* Decodes one code point of valid UTF-8 at *p, advancing it. */
static uint32_t next_cp(const unsigned char **p)
{
	const unsigned char *s = *p;
	uint32_t c = s[0];
	size_t n = 1;
	if (c >= 0xf0) {
		c &= 0x07;
		n = 4;
	} else if (c >= 0xe0) {
		c &= 0x0f;
		n = 3;
	} else if (c >= 0xc0) {
		c &= 0x1f;
		n = 2;
	}
	for (size_t i = 1; i < n; i++)
		c = c << 6 | (s[i] & 0x3f);
	*p = s + n;
	return c;
}

/* True for one character repeated ("aaaaaaaaaaaa", "哈哈哈…"); pw is valid UTF-8, lower-cased. */
static bool all_same(const char *pw)
{
	const unsigned char *p = (const unsigned char *)pw;
	uint32_t first = next_cp(&p);
	while (*p)
		if (next_cp(&p) != first)
			return false;
	return true;
}

/* True for a run of ASCII digits or letters where each character is the next (or the
 * previous) one, wrapping 9 -> 0 and z -> a: "123456789012", "abcdefghijkl", "987654321098".
 * pw is lower-cased and at least two bytes. */
static bool simple_run(const char *pw)
{
	bool digits = pw[0] >= '0' && pw[0] <= '9';
	bool letters = pw[0] >= 'a' && pw[0] <= 'z';
	if (!digits && !letters)
		return false;
	int base = digits ? '0' : 'a', mod = digits ? 10 : 26;
	int dir = 0;
	for (size_t i = 1; pw[i]; i++) {
		int c = (unsigned char)pw[i];
		if (c < base || c >= base + mod)
			return false;
		int d = ((c - base) - (pw[i - 1] - base) + mod) % mod;
		int step = d == 1 ? 1 : d == mod - 1 ? -1 : 0;
		if (step == 0 || (dir != 0 && step != dir))
			return false;
		dir = step;
	}
	return true;
}

static bool on_list(const char *lower)
{
	return ncommon &&
	       bsearch(&lower, common, ncommon, sizeof *common, cmp_str) != NULL;
}

static unsigned char lower_ch(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* ASCII case-insensitive substring search (locale-independent, unlike strcasestr). */
static bool contains_nocase(const char *hay, size_t hlen, const char *needle, size_t nlen)
{
	if (nlen > hlen)
		return false;
	for (size_t i = 0; i + nlen <= hlen; i++) {
		size_t j = 0;
		while (j < nlen && lower_ch((unsigned char)hay[i + j]) ==
					   lower_ch((unsigned char)needle[j]))
			j++;
		if (j == nlen)
			return true;
	}
	return false;
}

enum password_problem password_check(const char *pw, const char *const *avoid)
{
	size_t len = strnlen(pw, PASSWORD_MAX_BYTES + 1); /* bounded: pw comes from a client */
	if (len > PASSWORD_MAX_BYTES)
		return PASSWORD_TOO_LONG;
	if (!str_utf8_valid(pw, len))
		return PASSWORD_BAD_UTF8;
	size_t chars = str_utf8_chars(pw, len);
	if (chars < PASSWORD_MIN_CHARS)
		return PASSWORD_TOO_SHORT;
	for (size_t i = 0; avoid && avoid[i]; i++) {
		size_t alen = strlen(avoid[i]);
		if (alen >= LIKE_ID_MIN && contains_nocase(pw, len, avoid[i], alen))
			return PASSWORD_LIKE_ID;
	}
	char *lower = xstrndup(pw, len);
	ascii_lower(lower);
	bool bad = all_same(lower) || simple_run(lower) || on_list(lower);
	sodium_memzero(lower, len);
	free(lower);
	return bad ? PASSWORD_COMMON : PASSWORD_OK;
}

const char *password_problem_text(enum password_problem p)
{
	switch (p) {
	case PASSWORD_OK:
		return N_("password_ok");
	case PASSWORD_TOO_SHORT:
		return N_("password_too_short");
	case PASSWORD_TOO_LONG:
		return N_("password_too_long");
	case PASSWORD_COMMON:
		return N_("password_common");
	case PASSWORD_BAD_UTF8:
		return N_("password_bad_utf8");
	case PASSWORD_LIKE_ID:
		return N_("password_like_id");
	}
	return N_("password_unusable");
}

/* ---- hashing ---- */

int password_hash(const char *pw, char out[PASSWORD_HASH_MAX])
{
	if (crypto_pwhash_str_alg(out, pw, strlen(pw), PASSWORD_OPSLIMIT, PASSWORD_MEMLIMIT,
				  crypto_pwhash_ALG_ARGON2ID13) != 0)
		return GH_EINTERNAL; /* out of memory */
	return 0;
}

/* A stored hash must be a NUL-terminated string that fits the libsodium buffer. */
static bool hash_ok(const char *hash)
{
	return hash && memchr(hash, 0, PASSWORD_HASH_MAX) != NULL;
}

bool password_verify(const char *hash, const char *pw)
{
	if (!hash_ok(hash))
		return false;
	return crypto_pwhash_str_verify(hash, pw, strlen(pw)) == 0;
}

bool password_needs_rehash(const char *hash)
{
	if (!hash_ok(hash))
		return true;
	/* 1: other parameters; -1: not an Argon2id hash at all. Both want a new hash. */
	return crypto_pwhash_str_needs_rehash(hash, PASSWORD_OPSLIMIT, PASSWORD_MEMLIMIT) != 0;
}

static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static char dummy_hash[PASSWORD_HASH_MAX];

static void make_dummy(void)
{
	if (crypto_global_init() != 0)
		die("libsodium failed to initialise");
	unsigned char r[16];
	char hex[2 * sizeof r + 1];
	randombytes_buf(r, sizeof r);
	sodium_bin2hex(hex, sizeof hex, r, sizeof r);
	if (password_hash(hex, dummy_hash) != 0)
		die("out of memory hashing the dummy password");
	sodium_memzero(hex, sizeof hex);
}

void password_dummy_verify(const char *pw)
{
	pthread_once(&dummy_once, make_dummy);
	/* Nobody knows the random string, so this cannot match; only its cost matters. */
	volatile int r = crypto_pwhash_str_verify(dummy_hash, pw, strlen(pw));
	(void)r;
}
