/* totp.h: time-based one-time passwords (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits)
 * through liboath. */
#ifndef GH_TOTP_H
#define GH_TOTP_H
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "base/arena.h"

#define TOTP_SECRET_BYTES 20
#define TOTP_BASE32_LEN 32 /* base32 of 20 bytes */

/* Initialises liboath once (call at start; thread-safe afterwards). */
int totp_global_init(void);

/* A new random secret as base32 (RFC 4648, no padding) into out (33 bytes). */
void totp_new_secret(char out[TOTP_BASE32_LEN + 1]);
/* The otpauth:// URI an authenticator app scans (issuer "govhall", label = account label,
 * percent-encoded) into an arena string. */
char *totp_uri(struct arena *a, const char *secret_b32, const char *label);
/* Verifies a 6-digit code for secret at time now, accepting one step either side. Returns
 * 0, or GH_EINVAL. *step (may be NULL) gets the matched time step, so a caller can refuse a
 * code used twice. */
int totp_verify(const char *secret_b32, const char *code, time_t now, int64_t *step);
/* s in groups of four ("ABCD EFGH ...") for reading aloud and typing, in a. */
char *totp_grouped(struct arena *a, const char *s);
/* The code for secret at time now (for tests and the CLI). */
int totp_code(const char *secret_b32, time_t now, char out[7]);

#endif
