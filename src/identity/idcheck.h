/* idcheck.h: validators for the identifiers of real-name identity, and masking for display.
 * Pure functions: no allocation, no I/O (the ID number check reads the clock); every one is
 * fuzzed (tests/fuzz/fuzz_idcheck.c). Inputs are byte strings with an explicit length and need
 * not be NUL-terminated; the validators accept exactly the canonical form (upper case, no
 * spaces): run what a citizen typed through idcheck_normalize() first.
 *
 * - Resident identity numbers (GB 11643-1999): 18 characters, 6-digit administrative region
 *   code (a plausible province prefix), 8-digit birth date (a real date, not in the future,
 *   not before 1800-01-01), 3-digit sequence, ISO 7064 MOD 11-2 check character (0-9 or X).
 *   Only an upper-case 'X' is accepted as the check character; a lower-case 'x' is
 *   IDCHECK_CHARS until normalised.
 *   Region: the first two digits are a province-level code (11-15, 21-23, 31-37, 41-46,
 *   50-54, 61-65, 71, 81, 82) and the prefecture and county digits (3-6) are not all zero.
 *   This is a plausibility check, not a GB/T 2260 table: codes abolished or renamed since
 *   remain on old cards. Exception: 810000, 820000 and 830000 are accepted, the prefixes of
 *   the residence permits for Hong Kong, Macao and Taiwan residents (GB 11643 format, issued
 *   since 2018).
 *   Birth date floor: 1800-01-01 is our plausibility rule (the standard sets none); it is
 *   low enough for the standard's own worked example 440524188001010014 (born 1880), which
 *   test suites and vendors use. "Today" is the calendar date
 *   in China Standard Time (UTC+8), so a baby registered just after midnight in Beijing is
 *   not "born in the future".
 * - Unified social credit codes (GB 32100-2015): 18 characters from the 31-symbol alphabet
 *   0-9 A-H J-N P-R T U W-Y, registration authority and organisation type codes, 6-digit region
 *   code, 9-character organisation code (GB 11714 check character) and the MOD 31 check
 *   character with weights 3^(i-1) mod 31.
 *   Authority and type (positions 1 and 2) are checked against the pairs of GB 32100-2015
 *   appendix A (e.g. 9 industry and commerce: 1 enterprise, 2 individual business,
 *   3 farmers' cooperative, 9 other; 3 justice: 1-5, 9; Y other: 1 only), else IDCHECK_KIND.
 *   Region (positions 3-8): six digits with a province prefix as above or 10 (national level).
 *   Pilot codes: some codes issued in the early pilots carry an organisation code (positions
 *   9-17) whose GB 11714 check character is wrong although the code's own MOD 31 check is
 *   right. The national standard requires the embedded check, so we reject them with
 *   IDCHECK_ORGCODE. That error is returned only when every other check (including the MOD
 *   31 check) passes, so a caller that must accept such codes (e.g. an officer's override)
 *   can treat IDCHECK_ORGCODE as "valid, pilot code" without any other API.
 * - Mainland mobile phone numbers: 11 digits starting with 1[3-9] (IDCHECK_KIND otherwise).
 *
 * Check order (the first failure is reported): ID number length, characters, region, birth
 * date, check character; credit code length, characters, authority/type, region, MOD 31
 * check character, organisation code; phone length, characters, prefix.
 */
#ifndef GH_IDCHECK_H
#define GH_IDCHECK_H
#include <stdbool.h>
#include <stddef.h>

/* Why a value was refused; idcheck_reason() gives a sentence for citizens. */
enum idcheck_err {
	IDCHECK_OK = 0,
	IDCHECK_LENGTH,     /* wrong number of characters */
	IDCHECK_CHARS,      /* a character outside the allowed set */
	IDCHECK_REGION,     /* region code is not plausible */
	IDCHECK_BIRTHDATE,  /* not a real date, or in the future, or before 1800 */
	IDCHECK_CHECKSUM,   /* the check character does not match */
	IDCHECK_ORGCODE,    /* the embedded organisation code's check fails (USCC) */
	IDCHECK_KIND,       /* registration authority / organisation type code unknown (USCC),
	                     * or not a mobile prefix (phone) */
};
#define IDCHECK_ERR_MAX IDCHECK_KIND

/* s need not be NUL-terminated; len is its length in bytes. Lower-case letters (a 'x' check
 * character in an ID number, any letter in a credit code) and surrounding spaces are refused
 * (IDCHECK_CHARS / IDCHECK_LENGTH): normalise with idcheck_normalize() first. */
enum idcheck_err idcheck_id_number(const char *s, size_t len);
enum idcheck_err idcheck_uscc(const char *s, size_t len);
enum idcheck_err idcheck_phone(const char *s, size_t len);

/* idcheck_id_number() with "today" given as YYYYMMDD (e.g. 20240229) instead of read from the
 * clock, for tests and for checking a number as of a past date. */
enum idcheck_err idcheck_id_number_on(const char *s, size_t len, long today);

/* Copies s into out (size outlen, at least len + 1) upper-cased with surrounding spaces
 * removed; returns the new length, or 0 when it does not fit. Spaces are ASCII white space
 * and the ideographic space U+3000 that Chinese input methods produce; only ASCII a-z is
 * upper-cased, other bytes are copied unchanged. An input of nothing but spaces also
 * returns 0. out is always NUL-terminated when outlen > 0 ("" on failure). */
size_t idcheck_normalize(const char *s, size_t len, char *out, size_t outlen);

/* The check character an ID number's first 17 digits call for ('0'-'9' or 'X'), or 0 when
 * one of them is not a digit. Reads exactly 17 bytes. */
char idcheck_id_check_char(const char *first17);
/* The check character a credit code's first 17 characters call for, or 0 when one of them is
 * outside the alphabet. Reads exactly 17 bytes. */
char idcheck_uscc_check_char(const char *first17);
/* The GB 11714 check character ('0'-'9' or 'X') of an organisation code's first 8 characters
 * (digits or upper-case letters A-Z), or 0. Reads exactly 8 bytes. */
char idcheck_orgcode_check_char(const char *first8);

/* Masks for display into out (outlen >= len + 1): ID numbers keep the first 4 and last 4
 * characters (1101**********002X), credit codes the first 4 and last 4, phones the first 3
 * and last 4 (138****5678). Returns out. The kind is told by the length: 11 bytes is a phone,
 * 12 or more keep 4 + 4; anything shorter, or anything holding a byte outside '!'..'~'
 * (space, control, UTF-8), is masked entirely, so the output is always len printable ASCII
 * bytes and never a torn UTF-8 sequence. When outlen < len + 1, out becomes "" (if outlen > 0). */
char *idcheck_mask(const char *s, size_t len, char *out, size_t outlen);
/* An e-mail address for display into out: its first character and its domain
 * (z***@example.com); "***" when it has no local part or no '@', or when out (outlen bytes)
 * cannot hold the result. Never the whole address. Returns out. */
char *idcheck_mask_email(const char *s, size_t len, char *out, size_t outlen);

/* The message key (data/i18n: M(r, key)) of a sentence for citizens explaining err for the
 * field named what ("id_number", "uscc" or "phone"; anything else gives a generic sentence).
 * Never NULL; a static string. */
const char *idcheck_reason(enum idcheck_err err, const char *what);

#endif
