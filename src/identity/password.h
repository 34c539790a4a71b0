/* password.h: password policy and Argon2id hashing (libsodium crypto_pwhash_str).
 *
 * Parameters: Argon2id, memory 19 MiB, 2 passes, 1 lane (OWASP's minimum). Hashing and
 * verification take tens of milliseconds and 19 MiB: call them only from the job pool, never
 * on an event loop. The common-password list is loaded once (data/common-passwords.txt, one
 * password per line, compared case-insensitively) and read-only afterwards. */
#ifndef GH_PASSWORD_H
#define GH_PASSWORD_H
#include <stdbool.h>
#include <stddef.h>

#define PASSWORD_MIN_CHARS 12
#define PASSWORD_MAX_BYTES 1024
#define PASSWORD_HASH_MAX 128 /* crypto_pwhash_STRBYTES */
#define PASSWORD_MEMLIMIT (19u << 20)
#define PASSWORD_OPSLIMIT 2u

enum password_problem {
	PASSWORD_OK = 0,
	PASSWORD_TOO_SHORT,   /* fewer than PASSWORD_MIN_CHARS characters (not bytes) */
	PASSWORD_TOO_LONG,    /* more than PASSWORD_MAX_BYTES bytes */
	PASSWORD_COMMON,      /* on the common-password list, or trivial: one character repeated,
			       * a run like "123456789012", "abcdefghijkl", "987654321098" */
	PASSWORD_BAD_UTF8,    /* not valid UTF-8 */
	PASSWORD_LIKE_ID,     /* contains the account's ID number or phone (any avoid string of
			       * 6 bytes or more, ASCII case-insensitively) */
};

/* Loads the list (lines starting with '#' and blank lines are skipped; entries are lower-cased
 * as ASCII), replacing any list loaded before: call it at start, before threads use
 * password_check. A missing file is an error (GH_EIO, message in err). */
int password_list_load(const char *path, char *err, size_t errlen);
void password_list_free(void);

/* Checks a new password; avoid (may be NULL, or a NULL-terminated array of strings) lists
 * values it must not contain (the account's ID number, phone). Problems are reported in the
 * order TOO_LONG, BAD_UTF8, TOO_SHORT, LIKE_ID, COMMON. Without a loaded list only the
 * trivial patterns count as COMMON. */
enum password_problem password_check(const char *pw, const char *const *avoid);
/* The message key (data/i18n: M(r, key)) of a sentence for citizens. A static string. */
const char *password_problem_text(enum password_problem p);

/* Hashes pw into out (PASSWORD_HASH_MAX bytes). Slow. Returns 0 or GH_EINTERNAL. */
int password_hash(const char *pw, char out[PASSWORD_HASH_MAX]);
/* Verifies pw against a stored hash. Slow. Returns true on a match. */
bool password_verify(const char *hash, const char *pw);
/* True when the stored hash was made with other parameters (rehash at login). */
bool password_needs_rehash(const char *hash);
/* Spends the time of one verification without a hash to compare against, so that an unknown
 * account takes as long to refuse as a wrong password. */
void password_dummy_verify(const char *pw);

#endif
