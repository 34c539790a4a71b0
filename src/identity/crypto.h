/* crypto.h: keys and the cryptography of personal data, tokens and CSRF (libsodium).
 *
 * The key file (default ./govhall.key, mode 0600, created by `govhall init`) holds one or more
 * 32-byte master keys, one per line as "<id> <64 hex digits>"; the highest id is current.
 * Lines starting with '#' and blank lines are ignored; ids are decimal, 1 .. 2^32-1, unique.
 * Subkeys (32 bytes) are derived from each master key with crypto_kdf_derive_from_key, subkey
 * id 1, and the 8-byte contexts "ghfield_", "ghindex_", "ghtoken_", "ghcsrf__":
 * - field encryption: XChaCha20-Poly1305 (IETF AEAD) under the current key; a sealed value is
 *   1 byte version (1) + 4 bytes key id (big endian) + 24-byte nonce + ciphertext + 16-byte
 *   tag, with the field name as associated data, so values cannot be swapped between columns;
 * - blind index: keyed BLAKE2b-256 of field name, one NUL byte, then the value (normalised by
 *   the caller), hex, under the index subkey of the *first* (lowest id) key, so indexes stay
 *   stable across encryption-key rotation and differ between columns; rotating the index key
 *   means re-indexing: see docs/security.md;
 * - token hashes: keyed BLAKE2b-256 of session and API tokens (only hashes are stored), hex,
 *   under the first key's "ghtoken_" subkey (stable across rotation, so sessions survive it);
 * - CSRF tokens: keyed BLAKE2b-128 of the session (or pre-session) cookie value, base64url
 *   without padding, under the first key's "ghcsrf__" subkey.
 *
 * Invariants: a struct keyring is loaded once at start and read-only afterwards (threads share
 * it); key material lives in sodium_malloc'd memory, locked and wiped on free.
 */
#ifndef GH_CRYPTO_H
#define GH_CRYPTO_H
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"

#define CRYPTO_TOKEN_BYTES 32   /* random bytes in a session or API token */
#define CRYPTO_TOKEN_LEN 43     /* base64url length of such a token, without padding */
#define CRYPTO_HASH_HEX 64      /* hex length of a blind index or token hash */
#define CRYPTO_CSRF_LEN 22      /* base64url length of a CSRF token */
#define CRYPTO_SEAL_OVERHEAD (1 + 4 + 24 + 16) /* version, key id, nonce, tag */

struct keyring;

/* Initialises libsodium (sodium_init) once; idempotent and thread-safe. Returns 0 or
 * GH_EINTERNAL. keyring_load/keyring_create call it; call it at start before any other
 * function here (or in password.h / totp.h) runs. */
int crypto_global_init(void);

/* Loads the key file. GH_EUNAVAILABLE with a message (missing file, bad mode: group/other may
 * not read it, malformed line with its number, no key) in err. *out is freed with
 * keyring_free(). */
int keyring_load(const char *path, struct keyring **out, char *err, size_t errlen);
/* Creates the key file with one new random key (id 1, mode 0600 whatever the umask, fsynced)
 * unless it exists; returns 0 when it exists already or was created, GH_EIO with a message. */
int keyring_create(const char *path, char *err, size_t errlen);
/* Appends a new random key with the next id to the file (rotation, step 1): the file is
 * checked like keyring_load, rewritten to a temporary file (0600) and renamed over the old
 * one, so readers see the old or the new file, never half of one. GH_EUNAVAILABLE / GH_EIO
 * with a message. Running processes keep their loaded ring until restarted. */
int keyring_add_key(const char *path, uint32_t *new_id, char *err, size_t errlen);
void keyring_free(struct keyring *k);
uint32_t keyring_current_id(const struct keyring *k);
/* The number of keys in the ring (>= 1). */
size_t keyring_count(const struct keyring *k);
/* The check value of the i-th key (ascending ids, i < keyring_count): 64 hex digits of the
 * BLAKE2b-256 of its "ghcheck_" subkey, into hex. It shows that two key files hold the same key
 * without revealing anything of it, so the database may publish it. Returns the key's id. */
uint32_t keyring_check(const struct keyring *k, size_t i, char hex[65]);

/* Seals plaintext (len bytes) for column `field` under the current key into arena memory
 * (*outlen = len + CRYPTO_SEAL_OVERHEAD). Returns 0. */
int crypto_seal(const struct keyring *k, struct arena *a, const char *field, const void *plain,
		size_t len, unsigned char **out, size_t *outlen);
/* Opens a sealed value (any key of the ring) into a NUL-terminated arena string. GH_EINVAL for
 * a value that is corrupt, of another field, or under an unknown key. *key_id (may be NULL)
 * gets the id of the key that sealed it. */
int crypto_open(const struct keyring *k, struct arena *a, const char *field, const unsigned char *in,
		size_t inlen, char **out, size_t *outlen, uint32_t *key_id);
/* The same as text, for a TEXT column or a JSON string: plain sealed for field, as base64url
 * without padding in a; and opened again (GH_EINVAL for text that is not base64url or does not
 * open; *key_id may be NULL). */
char *crypto_seal_text(const struct keyring *k, struct arena *a, const char *field, const char *plain);
int crypto_open_text(const struct keyring *k, struct arena *a, const char *field, const char *text, size_t len,
		     char **out, uint32_t *key_id);

/* SHA-256 of n bytes as 64 lowercase hex digits and a NUL. */
void crypto_sha256_hex(const void *p, size_t n, char out[65]);

/* Blind index of value for column field: 64 hex characters into out (65 bytes). */
void crypto_blind_index(const struct keyring *k, const char *field, const char *value, size_t len,
			char out[CRYPTO_HASH_HEX + 1]);
/* A new random token (base64url, 43 characters) into out (44 bytes). */
void crypto_new_token(char out[CRYPTO_TOKEN_LEN + 1]);
/* Keyed hash of a token, hex, for storage and look-up. */
void crypto_token_hash(const struct keyring *k, const char *token, char out[CRYPTO_HASH_HEX + 1]);
/* The CSRF token bound to a cookie value (session token or pre-session nonce). */
void crypto_csrf_token(const struct keyring *k, const char *cookie, char out[CRYPTO_CSRF_LEN + 1]);
/* Comparison of two NUL-terminated strings in time that depends only on their lengths
 * (sodium_memcmp); 1 when equal, 0 otherwise (also when the lengths differ). */
int crypto_str_equal(const char *a, const char *b);

#endif
