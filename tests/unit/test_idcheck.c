/* Unit tests for src/identity/idcheck: resident ID numbers (GB 11643), unified social credit
 * codes (GB 32100), mobile phone numbers, normalisation, masking and the reasons shown to
 * citizens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/util.h"
#include "identity/idcheck.h"
#include "view/view.h"

/* The project's catalogs, where the reasons' sentences are. */
static struct view *V;

static const char *const valid_ids[] = {
	"11010519491231002X",
	"34052419800101001X",
};
/* The standard's own example: born 1880, after our 1800 floor. */
static const char id_1880[] = "440524188001010014";

static const char *const valid_usccs[] = {
	"91310110666007217T",
	"91110000802100433B",
	"91350200776049653A",
	"91350100M000100Y43", /* letters inside the organisation code */
};

static const char id_alphabet[] = "0123456789X";
static const char uscc_alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";

static enum idcheck_err id(const char *s)
{
	return idcheck_id_number(s, strlen(s));
}

static enum idcheck_err uscc(const char *s)
{
	return idcheck_uscc(s, strlen(s));
}

static enum idcheck_err phone(const char *s)
{
	return idcheck_phone(s, strlen(s));
}

/* Builds an ID number from a 6-digit region, an 8-digit date and a 3-digit sequence with the
 * right check character. */
static const char *make_id(char out[19], const char *region, const char *date, const char *seq)
{
	assert_int_equal(strlen(region), 6);
	assert_int_equal(strlen(date), 8);
	assert_int_equal(strlen(seq), 3);
	memcpy(out, region, 6);
	memcpy(out + 6, date, 8);
	memcpy(out + 14, seq, 3);
	out[17] = '0';
	out[18] = '\0';
	char c = idcheck_id_check_char(out);
	assert_true(c != 0);
	out[17] = c;
	return out;
}

static void test_id_valid(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(valid_ids); i++) {
		assert_int_equal(id(valid_ids[i]), IDCHECK_OK);
		assert_int_equal(idcheck_id_check_char(valid_ids[i]), valid_ids[i][17]);
	}
	/* Not NUL-terminated: only len bytes are read. */
	char buf[18];
	memcpy(buf, valid_ids[0], 18);
	assert_int_equal(idcheck_id_number(buf, 18), IDCHECK_OK);

	/* The checksum of the 1880 example is right; only the birth date floor refuses it. */
	assert_int_equal(idcheck_id_check_char(id_1880), '4');
	assert_int_equal(id(id_1880), IDCHECK_OK);

	assert_int_equal(idcheck_id_check_char("1101051949123100A"), 0);
	assert_int_equal(idcheck_id_check_char("11010519491231002"), 'X');
}

static void test_id_mutations(void **state)
{
	(void)state;
	const char *all[ARRAY_LEN(valid_ids) + 1];
	for (size_t i = 0; i < ARRAY_LEN(valid_ids); i++)
		all[i] = valid_ids[i];
	all[ARRAY_LEN(valid_ids)] = id_1880;
	int tried = 0;
	for (size_t v = 0; v < ARRAY_LEN(all); v++) {
		for (size_t pos = 0; pos < 18; pos++) {
			for (const char *a = id_alphabet; *a; a++) {
				char m[19];
				memcpy(m, all[v], 19);
				if (m[pos] == *a)
					continue;
				m[pos] = *a;
				if (id(m) == IDCHECK_OK)
					fail_msg("mutation %s of %s accepted", m, all[v]);
				tried++;
			}
		}
	}
	assert_int_equal(tried, 3 * 18 * 10);
	/* A change that keeps the date real is caught by the checksum. */
	assert_int_equal(id("11010519491230002X"), IDCHECK_CHECKSUM);
	assert_int_equal(id("11010519491231003X"), IDCHECK_CHECKSUM);
	assert_int_equal(id("110105194912310020"), IDCHECK_CHECKSUM);
	assert_int_equal(id("11010519491231002A"), IDCHECK_CHARS);
	assert_int_equal(id("1101051949123100X2"), IDCHECK_CHARS);
}

static void test_lengths(void **state)
{
	(void)state;
	const char *longest = "11010519491231002X00";
	const char *ulongest = "91310110666007217T00";
	const char *plongest = "13800138000000000000";
	for (size_t len = 0; len <= 20; len++) {
		enum idcheck_err e = idcheck_id_number(longest, len);
		assert_int_equal(e, len == 18 ? IDCHECK_OK : IDCHECK_LENGTH);
		e = idcheck_uscc(ulongest, len);
		assert_int_equal(e, len == 18 ? IDCHECK_OK : IDCHECK_LENGTH);
		e = idcheck_phone(plongest, len);
		assert_int_equal(e, len == 11 ? IDCHECK_OK : IDCHECK_LENGTH);
	}
	assert_int_equal(idcheck_id_number(NULL, 0), IDCHECK_LENGTH);
	assert_int_equal(idcheck_uscc(NULL, 0), IDCHECK_LENGTH);
	assert_int_equal(idcheck_phone(NULL, 0), IDCHECK_LENGTH);
}

static void test_normalize(void **state)
{
	(void)state;
	char out[64];
	/* The validators take the canonical form only. */
	assert_int_equal(id("11010519491231002x"), IDCHECK_CHARS);
	assert_int_equal(id(" 11010519491231002X"), IDCHECK_LENGTH);
	assert_int_equal(uscc("91310110666007217t"), IDCHECK_CHARS);

	size_t n = idcheck_normalize(" \t11010519491231002x\r\n", 22, out, sizeof(out));
	assert_int_equal(n, 18);
	assert_string_equal(out, "11010519491231002X");
	assert_int_equal(idcheck_id_number(out, n), IDCHECK_OK);

	const char *full = "\xE3\x80\x80" "91350100m000100y43" "\xE3\x80\x80 ";
	n = idcheck_normalize(full, strlen(full), out, sizeof(out));
	assert_int_equal(n, 18);
	assert_string_equal(out, "91350100M000100Y43");
	assert_int_equal(idcheck_uscc(out, n), IDCHECK_OK);

	/* Inner spaces stay (and the validators refuse them); non-ASCII bytes are copied. */
	n = idcheck_normalize(" a b ", 5, out, sizeof(out));
	assert_int_equal(n, 3);
	assert_string_equal(out, "A B");
	n = idcheck_normalize("\xE4\xB8\xAD" "x", 4, out, sizeof(out));
	assert_int_equal(n, 4);
	assert_string_equal(out, "\xE4\xB8\xAD" "X");

	/* Does not fit: needs len + 1 bytes. */
	n = idcheck_normalize("11010519491231002x", 18, out, 18);
	assert_int_equal(n, 0);
	assert_string_equal(out, "");
	n = idcheck_normalize("  11010519491231002x  ", 22, out, 19);
	assert_int_equal(n, 18);
	n = idcheck_normalize("abc", 3, out, 0);
	assert_int_equal(n, 0);
	/* Nothing but spaces, or nothing at all. */
	n = idcheck_normalize(" \t\xE3\x80\x80 ", 6, out, sizeof(out));
	assert_int_equal(n, 0);
	assert_string_equal(out, "");
	n = idcheck_normalize("", 0, out, sizeof(out));
	assert_int_equal(n, 0);
	/* A torn ideographic space is not a space. */
	n = idcheck_normalize("\xE3\x80", 2, out, sizeof(out));
	assert_int_equal(n, 2);
}

static void test_dates(void **state)
{
	(void)state;
	char b[19];
	const long today = 20250101;
#define ON(s) idcheck_id_number_on((s), 18, today)
	assert_int_equal(ON(make_id(b, "110105", "20000229", "001")), IDCHECK_OK);
	assert_int_equal(ON(make_id(b, "110105", "20240229", "001")), IDCHECK_OK);
	assert_int_equal(ON(make_id(b, "110105", "19040229", "001")), IDCHECK_OK);
	assert_int_equal(ON(make_id(b, "110105", "20230229", "001")), IDCHECK_BIRTHDATE);
	assert_int_equal(ON(make_id(b, "110105", "19000229", "001")), IDCHECK_BIRTHDATE); /* 1900: no leap year */
	assert_int_equal(ON(make_id(b, "110105", "21000229", "001")), IDCHECK_BIRTHDATE);
	assert_int_equal(ON(make_id(b, "110105", "18000101", "001")), IDCHECK_OK);
	assert_int_equal(ON(make_id(b, "110105", "17991231", "001")), IDCHECK_BIRTHDATE);
	assert_int_equal(ON(make_id(b, "110105", "19491231", "001")), IDCHECK_OK);
	assert_int_equal(ON(make_id(b, "110105", "19490431", "001")), IDCHECK_BIRTHDATE);
	assert_int_equal(ON(make_id(b, "110105", "19491301", "001")), IDCHECK_BIRTHDATE);
	assert_int_equal(ON(make_id(b, "110105", "19490001", "001")), IDCHECK_BIRTHDATE);
	assert_int_equal(ON(make_id(b, "110105", "19490100", "001")), IDCHECK_BIRTHDATE);
	assert_int_equal(ON(make_id(b, "110105", "19490132", "001")), IDCHECK_BIRTHDATE);
	assert_int_equal(ON(make_id(b, "110105", "00000000", "001")), IDCHECK_BIRTHDATE);
	/* Today is fine, tomorrow is in the future. */
	assert_int_equal(ON(make_id(b, "110105", "20250101", "001")), IDCHECK_OK);
	assert_int_equal(ON(make_id(b, "110105", "20250102", "001")), IDCHECK_BIRTHDATE);
	assert_int_equal(ON(make_id(b, "110105", "20241231", "001")), IDCHECK_OK);
#undef ON
	/* With the real clock: a date two days ahead (China Standard Time) and far ahead. */
	time_t t = time(NULL) + 8 * 3600 + 2 * 86400;
	struct tm tm;
	assert_non_null(gmtime_r(&t, &tm));
	char date[16];
	snprintf(date, sizeof(date), "%04d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1,
		tm.tm_mday);
	assert_int_equal(id(make_id(b, "110105", date, "001")), IDCHECK_BIRTHDATE);
	assert_int_equal(id(make_id(b, "110105", "29991231", "001")), IDCHECK_BIRTHDATE);
	t = time(NULL) + 8 * 3600 - 2 * 86400;
	assert_non_null(gmtime_r(&t, &tm));
	snprintf(date, sizeof(date), "%04d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1,
		tm.tm_mday);
	assert_int_equal(id(make_id(b, "110105", date, "001")), IDCHECK_OK);
}

static void test_regions(void **state)
{
	(void)state;
	char b[19];
	static const char *const ok[] = {
		"110105", "150102", "210102", "230102", "310101", "370102", "410102", "460105",
		"500101", "540102", "610102", "650102", "710101", "810101", "820101",
		"810000", "820000", "830000", /* residence permits */
	};
	static const char *const bad[] = {
		"110000", "440000", "910101", "100101", "000000", "160101", "240101", "380101",
		"470101", "550101", "660101", "700101", "720101", "800101", "830101", "840000",
		"990101", "710000",
	};
	for (size_t i = 0; i < ARRAY_LEN(ok); i++)
		assert_int_equal(id(make_id(b, ok[i], "19800101", "001")), IDCHECK_OK);
	for (size_t i = 0; i < ARRAY_LEN(bad); i++)
		assert_int_equal(id(make_id(b, bad[i], "19800101", "001")), IDCHECK_REGION);
}

/* A credit code with the given first 16 characters and the right organisation and MOD 31
 * check characters. */
static const char *make_uscc(char out[19], const char *first16)
{
	memcpy(out, first16, 16);
	out[16] = idcheck_orgcode_check_char(out + 8);
	assert_true(out[16] != 0);
	out[17] = idcheck_uscc_check_char(out);
	assert_true(out[17] != 0);
	out[18] = '\0';
	return out;
}

static void test_uscc_valid(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(valid_usccs); i++) {
		const char *s = valid_usccs[i];
		assert_int_equal(uscc(s), IDCHECK_OK);
		assert_int_equal(idcheck_uscc_check_char(s), s[17]);
		assert_int_equal(idcheck_orgcode_check_char(s + 8), s[16]);
	}
	assert_int_equal(idcheck_uscc_check_char("91310110666007I17"), 0);
	assert_int_equal(idcheck_orgcode_check_char("6660072a"), 0);
	/* GB 11714: 10 -> X, 11 -> 0. */
	char b[19];
	int seen_x = 0, seen_0 = 0;
	for (int i = 0; i < 200 && !(seen_x && seen_0); i++) {
		char body[16];
		snprintf(body, sizeof(body), "%08d", 10000000 + i);
		char c = idcheck_orgcode_check_char(body);
		seen_x |= c == 'X';
		seen_0 |= c == '0';
		if (c == 'X' || c == '0') {
			char first16[17];
			memcpy(first16, "91110000", 8);
			memcpy(first16 + 8, body, 8);
			first16[16] = '\0';
			assert_int_equal(uscc(make_uscc(b, first16)), IDCHECK_OK);
		}
	}
	assert_true(seen_x && seen_0);
	/* National-level registration (region 100000). */
	assert_int_equal(uscc(make_uscc(b, "1110000000001312")), IDCHECK_OK);
}

static void test_uscc_mutations(void **state)
{
	(void)state;
	int tried = 0;
	for (size_t v = 0; v < ARRAY_LEN(valid_usccs); v++) {
		for (size_t pos = 0; pos < 18; pos++) {
			for (const char *a = uscc_alphabet; *a; a++) {
				char m[19];
				memcpy(m, valid_usccs[v], 19);
				if (m[pos] == *a)
					continue;
				m[pos] = *a;
				if (uscc(m) == IDCHECK_OK)
					fail_msg("mutation %s of %s accepted", m, valid_usccs[v]);
				tried++;
			}
			/* Letters outside the alphabet, and lower case. */
			for (const char *a = "IOZSVaiz -"; *a; a++) {
				char m[19];
				memcpy(m, valid_usccs[v], 19);
				m[pos] = *a;
				assert_int_equal(uscc(m), IDCHECK_CHARS);
			}
		}
	}
	assert_int_equal(tried, (int)ARRAY_LEN(valid_usccs) * 18 * 30);
}

static void test_uscc_parts(void **state)
{
	(void)state;
	char b[19];
	/* Authority / type pairs of GB 32100-2015 appendix A. */
	static const char *const kinds_ok[] = {
		"11", "12", "13", "19", "21", "29", "31", "34", "35", "39", "41", "51", "53", "59",
		"61", "62", "71", "72", "81", "89", "91", "92", "93", "99", "A1", "A9", "N1", "N3",
		"N9", "Y1",
	};
	static const char *const kinds_bad[] = {
		"10", "14", "22", "36", "42", "54", "63", "73", "82", "94", "A2", "N4", "Y2", "Y9",
		"B1", "01", "C1", "X1", "1A",
	};
	for (size_t i = 0; i < ARRAY_LEN(kinds_ok); i++) {
		char first16[17];
		snprintf(first16, sizeof(first16), "%s31011066600721", kinds_ok[i]);
		assert_int_equal(uscc(make_uscc(b, first16)), IDCHECK_OK);
	}
	for (size_t i = 0; i < ARRAY_LEN(kinds_bad); i++) {
		char first16[17];
		snprintf(first16, sizeof(first16), "%s31011066600721", kinds_bad[i]);
		assert_int_equal(uscc(make_uscc(b, first16)), IDCHECK_KIND);
	}
	/* Region: six digits with a plausible prefix. */
	assert_int_equal(uscc(make_uscc(b, "9131A11066600721")), IDCHECK_REGION);
	assert_int_equal(uscc(make_uscc(b, "9199011066600721")), IDCHECK_REGION);
	assert_int_equal(uscc(make_uscc(b, "9100000066600721")), IDCHECK_REGION);
	assert_int_equal(uscc(make_uscc(b, "9182000066600721")), IDCHECK_OK);

	/* A pilot code: its MOD 31 check is right but its organisation code's is not. */
	memcpy(b, "91310110666007218", 17);
	b[17] = idcheck_uscc_check_char(b);
	b[18] = '\0';
	assert_int_equal(uscc(b), IDCHECK_ORGCODE);
	/* With both wrong, the MOD 31 check is what is reported. */
	assert_int_equal(uscc("91310110666007218T"), IDCHECK_CHECKSUM);
}

static void test_phone(void **state)
{
	(void)state;
	static const char *const ok[] = {
		"13800138000", "13912345678", "14700000000", "15012345678", "16612345678",
		"17012345678", "18612345678", "19912345678",
	};
	for (size_t i = 0; i < ARRAY_LEN(ok); i++)
		assert_int_equal(phone(ok[i]), IDCHECK_OK);
	assert_int_equal(phone("10012345678"), IDCHECK_KIND);
	assert_int_equal(phone("11012345678"), IDCHECK_KIND);
	assert_int_equal(phone("12345678901"), IDCHECK_KIND);
	assert_int_equal(phone("23800138000"), IDCHECK_KIND);
	assert_int_equal(phone("03800138000"), IDCHECK_KIND);
	assert_int_equal(phone("1380013800a"), IDCHECK_CHARS);
	assert_int_equal(phone("138 0013800"), IDCHECK_CHARS);
	assert_int_equal(phone("+8613800138"), IDCHECK_CHARS);
	assert_int_equal(phone("1380013800"), IDCHECK_LENGTH);
	assert_int_equal(phone("138001380000"), IDCHECK_LENGTH);
	assert_int_equal(phone("+8613800138000"), IDCHECK_LENGTH);
	assert_int_equal(idcheck_phone("13800138000\0", 12), IDCHECK_LENGTH);
}

static void test_mask(void **state)
{
	(void)state;
	char out[64];
	assert_string_equal(idcheck_mask("11010519491231002X", 18, out, sizeof(out)),
		"1101**********002X");
	assert_string_equal(idcheck_mask("91310110666007217T", 18, out, sizeof(out)),
		"9131**********217T");
	assert_string_equal(idcheck_mask("13800138000", 11, out, sizeof(out)), "138****8000");
	assert_string_equal(idcheck_mask("13812345678", 11, out, sizeof(out)), "138****5678");
	/* Only len bytes are read. */
	assert_string_equal(idcheck_mask("13812345678999", 11, out, sizeof(out)), "138****5678");
	assert_ptr_equal(idcheck_mask("x", 1, out, sizeof(out)), out);
	/* Other lengths: 12+ keep 4 + 4, shorter are masked entirely. */
	assert_string_equal(idcheck_mask("123456789012", 12, out, sizeof(out)), "1234****9012");
	assert_string_equal(idcheck_mask("1234567890123", 13, out, sizeof(out)), "1234*****0123");
	assert_string_equal(idcheck_mask("1234567890", 10, out, sizeof(out)), "**********");
	assert_string_equal(idcheck_mask("1234", 4, out, sizeof(out)), "****");
	assert_string_equal(idcheck_mask("", 0, out, sizeof(out)), "");
	/* Anything outside '!'..'~' (spaces, control bytes, UTF-8): all masked, one '*' per byte. */
	assert_string_equal(idcheck_mask("\xE4\xB8\xAD" "1234567890123456", 19, out, sizeof(out)),
		"*******************");
	assert_string_equal(idcheck_mask("1101 5194912310020", 18, out, sizeof(out)),
		"******************");
	/* Too small: empty, never a partial value. */
	memset(out, 'z', sizeof(out));
	assert_string_equal(idcheck_mask("11010519491231002X", 18, out, 18), "");
	assert_ptr_equal(idcheck_mask("11010519491231002X", 18, out, 0), out);
	assert_int_equal(out[0], '\0');
}

/* The sentence of a reason in lang, from the project's catalogs. */
static const char *reason(enum idcheck_err e, const char *what, const char *lang)
{
	const char *key = idcheck_reason(e, what);
	assert_non_null(key);
	assert_true(view_has(V, key));
	return view_msg(V, lang, key);
}

static void test_reasons(void **state)
{
	(void)state;
	static const char *const whats[] = {"id_number", "uscc", "phone", "other", NULL};
	static const char *const langs[] = {"zh", "en", NULL, "fr"};
	for (int e = IDCHECK_OK; e <= IDCHECK_ERR_MAX + 1; e++) {
		for (size_t w = 0; w < ARRAY_LEN(whats); w++) {
			for (size_t l = 0; l < ARRAY_LEN(langs); l++) {
				const char *r = reason((enum idcheck_err)e, whats[w], langs[l]);
				assert_true(strlen(r) > 0);
				bool en = langs[l] && strcmp(langs[l], "en") == 0;
				bool ascii = true;
				for (const char *p = r; *p; p++)
					ascii &= (unsigned char)*p < 0x80;
				assert_int_equal(ascii, en);
			}
		}
	}
	assert_string_equal(reason(IDCHECK_CHECKSUM, "id_number", "zh"),
		"身份证号码的校验位不正确，请核对后重新输入。");
	assert_string_equal(reason(IDCHECK_CHECKSUM, "id_number", "en"),
		"The check character of the ID number is wrong; please check the number and enter it again.");
	/* Every error a validator can return has its own sentence for its field. */
	const char *generic_id = reason(IDCHECK_ORGCODE, "id_number", "zh");
	for (int e = IDCHECK_LENGTH; e <= IDCHECK_CHECKSUM; e++)
		assert_string_not_equal(reason((enum idcheck_err)e, "id_number", "zh"), generic_id);
	const char *generic_uscc = reason(IDCHECK_BIRTHDATE, "uscc", "en");
	for (int e = IDCHECK_LENGTH; e <= IDCHECK_KIND; e++)
		if (e != IDCHECK_BIRTHDATE)
			assert_string_not_equal(reason((enum idcheck_err)e, "uscc", "en"), generic_uscc);
	const char *generic_phone = reason(IDCHECK_REGION, "phone", "zh");
	assert_string_not_equal(reason(IDCHECK_LENGTH, "phone", "zh"), generic_phone);
	assert_string_not_equal(reason(IDCHECK_CHARS, "phone", "zh"), generic_phone);
	assert_string_not_equal(reason(IDCHECK_KIND, "phone", "zh"), generic_phone);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_id_valid),
		cmocka_unit_test(test_id_mutations),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_regions),
		cmocka_unit_test(test_uscc_valid),
		cmocka_unit_test(test_uscc_mutations),
		cmocka_unit_test(test_uscc_parts),
		cmocka_unit_test(test_phone),
		cmocka_unit_test(test_mask),
		cmocka_unit_test(test_reasons),
	};
	char err[512];
	if (view_load("templates", "data/i18n", &V, err, sizeof(err))) {
		fprintf(stderr, "view_load: %s\n", err);
		return 1;
	}
	int rc = cmocka_run_group_tests_name("idcheck", tests, NULL, NULL);
	view_free(V);
	return rc;
}
