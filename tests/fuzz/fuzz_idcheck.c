/* Fuzzes the identity validators (ID number, credit code, phone), normalisation, masking and
 * the check-character functions, and asserts the invariants idcheck.h promises. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "identity/idcheck.h"

static void check(int ok)
{
	if (!ok)
		abort();
}

static void validate(const char *s, size_t len)
{
	enum idcheck_err e;
	const char *what[] = {"id_number", "uscc", "phone"};
	enum idcheck_err es[3];
	es[0] = idcheck_id_number(s, len);
	es[1] = idcheck_uscc(s, len);
	es[2] = idcheck_phone(s, len);
	for (int i = 0; i < 3; i++) {
		e = es[i];
		check((unsigned)e <= IDCHECK_ERR_MAX);
		const char *r = idcheck_reason(e, what[i]);
		check(r && r[0]);
	}
	/* A valid value matches its check character. */
	if (es[0] == IDCHECK_OK)
		check(len == 18 && idcheck_id_check_char(s) == s[17]);
	if (es[1] == IDCHECK_OK)
		check(len == 18 && idcheck_uscc_check_char(s) == s[17] &&
			idcheck_orgcode_check_char(s + 8) == s[16]);
	if (es[1] == IDCHECK_ORGCODE)
		check(idcheck_uscc_check_char(s) == s[17]);
	if (es[2] == IDCHECK_OK)
		check(len == 11 && s[0] == '1' && s[1] >= '3' && s[1] <= '9');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	validate(s, size);

	if (size >= 8)
		(void)idcheck_orgcode_check_char(s);
	if (size >= 17) {
		char c = idcheck_id_check_char(s);
		check(c == 0 || (c >= '0' && c <= '9') || c == 'X');
		c = idcheck_uscc_check_char(s);
		check(c == 0 || strchr("0123456789ABCDEFGHJKLMNPQRTUWXY", c));
	}

	if (size > 4096)
		return 0;
	char *out = malloc(size + 1);
	if (!out)
		return 0;
	size_t n = idcheck_normalize(s, size, out, size + 1);
	check(n <= size && out[n] == '\0');
	if (n > 0) {
		validate(out, n);
		/* Normalising is idempotent. */
		char *again = malloc(n + 1);
		if (again) {
			check(idcheck_normalize(out, n, again, n + 1) == n && memcmp(again, out, n) == 0);
			free(again);
		}
	}
	/* Too small a buffer: 0 and "". */
	if (size > 0 && size < 64) {
		char small[64];
		check(idcheck_normalize(s, size, small, 1) == 0 && small[0] == '\0');
	}

	check(idcheck_mask(s, size, out, size + 1) == out);
	check(strlen(out) == size);
	for (size_t i = 0; i < size; i++)
		check(out[i] >= '!' && out[i] <= '~');
	/* A masked 18-character value never shows its middle. */
	if (size == 18)
		for (size_t i = 4; i < 14; i++)
			check(out[i] == '*');
	free(out);
	return 0;
}
