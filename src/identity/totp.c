/* totp.c: RFC 6238 one-time passwords through liboath; secrets in base32 (RFC 4648). */
#include "identity/totp.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <liboath/oath.h>
#include <sodium.h>

#include "base/err.h"
#include "base/sb.h"
#include "base/util.h"
#include "identity/crypto.h"

#define TOTP_STEP 30
#define TOTP_DIGITS 6
#define TOTP_WINDOW 1
#define SECRET_MAX_B32 128 /* a generous bound on secrets we accept for decoding */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_rc;

static void do_init(void)
{
	if (oath_init() != OATH_OK || crypto_global_init() != 0)
		init_rc = GH_EINTERNAL;
}

int totp_global_init(void)
{
	pthread_once(&init_once, do_init);
	return init_rc;
}

void totp_new_secret(char out[TOTP_BASE32_LEN + 1])
{
	unsigned char raw[TOTP_SECRET_BYTES];
	char *b32 = NULL;
	size_t len = 0;
	totp_global_init();
	randombytes_buf(raw, sizeof raw);
	if (oath_base32_encode((const char *)raw, sizeof raw, &b32, &len) != OATH_OK ||
	    len != TOTP_BASE32_LEN)
		die("oath_base32_encode failed");
	memcpy(out, b32, TOTP_BASE32_LEN);
	out[TOTP_BASE32_LEN] = 0;
	sodium_memzero(raw, sizeof raw);
	sodium_memzero(b32, len);
	free(b32);
}

/* Decodes a base32 secret into a malloc'd buffer (caller wipes and frees). Returns 0 or
 * GH_EINVAL. */
static int decode_secret(const char *b32, char **secret, size_t *len)
{
	size_t n = strlen(b32);
	*secret = NULL;
	if (n == 0 || n > SECRET_MAX_B32)
		return GH_EINVAL;
	if (oath_base32_decode(b32, n, secret, len) != OATH_OK || *len == 0) {
		if (*secret) {
			sodium_memzero(*secret, *len);
			free(*secret);
			*secret = NULL;
		}
		return GH_EINVAL;
	}
	return 0;
}

static void free_secret(char *secret, size_t len)
{
	if (secret) {
		sodium_memzero(secret, len);
		free(secret);
	}
}

char *totp_grouped(struct arena *a, const char *s)
{
	size_t n = strlen(s);
	char *out = arena_alloc(a, n + n / 4 + 1), *p = out;
	for (size_t i = 0; i < n; i++) {
		if (i && i % 4 == 0)
			*p++ = ' ';
		*p++ = s[i];
	}
	*p = 0;
	return out;
}

char *totp_uri(struct arena *a, const char *secret_b32, const char *label)
{
	struct sb sb = SB_INIT;
	sb_adds(&sb, "otpauth://totp/govhall:");
	sb_add_urlenc(&sb, label, strlen(label));
	sb_adds(&sb, "?secret=");
	sb_add_urlenc(&sb, secret_b32, strlen(secret_b32));
	sb_addf(&sb, "&issuer=govhall&algorithm=SHA1&digits=%d&period=%d", TOTP_DIGITS, TOTP_STEP);
	char *r = arena_strndup(a, sb.buf, sb.len);
	sb_release(&sb);
	return r;
}

int totp_code(const char *secret_b32, time_t now, char out[7])
{
	char *secret;
	size_t len;
	totp_global_init();
	if (decode_secret(secret_b32, &secret, &len))
		return GH_EINVAL;
	int rc = oath_totp_generate(secret, len, now, TOTP_STEP, OATH_TOTP_DEFAULT_START_TIME,
				    TOTP_DIGITS, out);
	free_secret(secret, len);
	return rc == OATH_OK ? 0 : GH_EINVAL;
}

/* liboath's comparison callback: 0 on a match, compared in constant time. */
static int otp_cmp(void *handle, const char *test_otp)
{
	const char *code = handle;
	return sodium_memcmp(code, test_otp, TOTP_DIGITS) == 0 ? 0 : 1;
}

int totp_verify(const char *secret_b32, const char *code, time_t now, int64_t *step)
{
	for (size_t i = 0; i < TOTP_DIGITS; i++)
		if (code[i] < '0' || code[i] > '9')
			return GH_EINVAL; /* also stops at the NUL of a short code */
	if (code[TOTP_DIGITS] != 0)
		return GH_EINVAL;
	char *secret;
	size_t len;
	totp_global_init();
	if (decode_secret(secret_b32, &secret, &len))
		return GH_EINVAL;
	int pos = 0;
	uint64_t counter = 0;
	int rc = oath_totp_validate3_callback(secret, len, now, TOTP_STEP,
					      OATH_TOTP_DEFAULT_START_TIME, TOTP_DIGITS, TOTP_WINDOW,
					      &pos, &counter, otp_cmp, (void *)code);
	free_secret(secret, len);
	if (rc < 0)
		return GH_EINVAL;
	if (step)
		*step = (int64_t)counter;
	return 0;
}
