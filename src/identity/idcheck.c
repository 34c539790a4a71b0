#include "identity/idcheck.h"

#include <string.h>
#include <time.h>

#include "base/calendar.h"
#include "base/util.h"

/* Birth dates before this are refused (a plausibility rule of ours, see idcheck.h). */
#define IDCHECK_MIN_BIRTH 18000101L

static const int id_weights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
static const char id_check_map[] = "10X98765432";

static const char uscc_alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
/* 3^(i-1) mod 31 for i = 1..17. */
static const int uscc_weights[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};

static const int org_weights[8] = {3, 7, 9, 10, 5, 8, 4, 2};

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Value of c in the credit-code alphabet, or -1. */
static int uscc_value(char c)
{
	if (c == '\0')
		return -1;
	const char *p = memchr(uscc_alphabet, c, sizeof(uscc_alphabet) - 1);
	return p ? (int)(p - uscc_alphabet) : -1;
}

/* Province-level codes of GB/T 2260 (the first two digits of a region code). */
static bool province_ok(int p)
{
	return (p >= 11 && p <= 15) || (p >= 21 && p <= 23) || (p >= 31 && p <= 37) ||
		(p >= 41 && p <= 46) || (p >= 50 && p <= 54) || (p >= 61 && p <= 65) ||
		p == 71 || p == 81 || p == 82;
}

static int two_digits(const char *s)
{
	return (s[0] - '0') * 10 + (s[1] - '0');
}

/* s: 6 digits. */
static bool id_region_ok(const char *s)
{
	/* Residence permits for Hong Kong, Macao and Taiwan residents. */
	if (memcmp(s, "810000", 6) == 0 || memcmp(s, "820000", 6) == 0 ||
	    memcmp(s, "830000", 6) == 0)
		return true;
	return province_ok(two_digits(s)) && memcmp(s + 2, "0000", 4) != 0;
}

static bool leap_year(long y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* s: 8 digits YYYYMMDD. */
static bool birth_date_ok(const char *s, long today)
{
	long v = 0;
	for (int i = 0; i < 8; i++)
		v = v * 10 + (s[i] - '0');
	long y = v / 10000, m = v / 100 % 100, d = v % 100;
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (m < 1 || m > 12 || d < 1)
		return false;
	int dim = mdays[m - 1] + (m == 2 && leap_year(y));
	if (d > dim)
		return false;
	return v >= IDCHECK_MIN_BIRTH && v <= today;
}

/* Today's date in China Standard Time as YYYYMMDD; 0 if the clock cannot be read. */
static long today_cst(void)
{
	time_t now = time(NULL);
	if (now == (time_t)-1)
		return 0;
	int y, m, d;
	calendar_ymd(calendar_day_of(now), &y, &m, &d);
	return y * 10000L + m * 100 + d;
}

char idcheck_id_check_char(const char *first17)
{
	int sum = 0;
	for (int i = 0; i < 17; i++) {
		if (!is_digit(first17[i]))
			return 0;
		sum += (first17[i] - '0') * id_weights[i];
	}
	return id_check_map[sum % 11];
}

enum idcheck_err idcheck_id_number_on(const char *s, size_t len, long today)
{
	if (len != 18)
		return IDCHECK_LENGTH;
	for (size_t i = 0; i < 17; i++)
		if (!is_digit(s[i]))
			return IDCHECK_CHARS;
	if (!is_digit(s[17]) && s[17] != 'X')
		return IDCHECK_CHARS;
	if (!id_region_ok(s))
		return IDCHECK_REGION;
	if (!birth_date_ok(s + 6, today))
		return IDCHECK_BIRTHDATE;
	if (idcheck_id_check_char(s) != s[17])
		return IDCHECK_CHECKSUM;
	return IDCHECK_OK;
}

enum idcheck_err idcheck_id_number(const char *s, size_t len)
{
	return idcheck_id_number_on(s, len, today_cst());
}

char idcheck_uscc_check_char(const char *first17)
{
	int sum = 0;
	for (int i = 0; i < 17; i++) {
		int v = uscc_value(first17[i]);
		if (v < 0)
			return 0;
		sum += v * uscc_weights[i];
	}
	return uscc_alphabet[(31 - sum % 31) % 31];
}

char idcheck_orgcode_check_char(const char *first8)
{
	int sum = 0;
	for (int i = 0; i < 8; i++) {
		char c = first8[i];
		int v;
		if (is_digit(c))
			v = c - '0';
		else if (c >= 'A' && c <= 'Z')
			v = c - 'A' + 10;
		else
			return 0;
		sum += v * org_weights[i];
	}
	int check = 11 - sum % 11;
	if (check == 10)
		return 'X';
	if (check == 11)
		return '0';
	return (char)('0' + check);
}

/* Organisation type codes (position 2) allowed for each registration authority (position 1),
 * from GB 32100-2015 appendix A. */
static const struct {
	char authority;
	const char *types;
} uscc_kinds[] = {
	{'1', "1239"}, /* institutional establishment: organs, public institutions, ... */
	{'2', "19"},   /* foreign affairs: foreign press offices */
	{'3', "123459"}, /* justice: law firms, notaries, legal services, forensics, arbitration */
	{'4', "19"},   /* culture: foreign cultural centres */
	{'5', "1239"}, /* civil affairs: associations, private non-enterprise units, foundations */
	{'6', "129"},  /* tourism: representative offices */
	{'7', "129"},  /* religion: venues, colleges */
	{'8', "19"},   /* trade unions */
	{'9', "1239"}, /* industry and commerce: enterprises, individual businesses, cooperatives */
	{'A', "19"},   /* Central Military Commission: military public institutions */
	{'N', "1239"}, /* agriculture: rural collective economic organisations */
	{'Y', "1"},    /* other */
};

static bool uscc_kind_ok(char authority, char type)
{
	for (size_t i = 0; i < ARRAY_LEN(uscc_kinds); i++)
		if (uscc_kinds[i].authority == authority)
			return type != '\0' && strchr(uscc_kinds[i].types, type) != NULL;
	return false;
}

enum idcheck_err idcheck_uscc(const char *s, size_t len)
{
	if (len != 18)
		return IDCHECK_LENGTH;
	for (size_t i = 0; i < 18; i++)
		if (uscc_value(s[i]) < 0)
			return IDCHECK_CHARS;
	if (!uscc_kind_ok(s[0], s[1]))
		return IDCHECK_KIND;
	for (size_t i = 2; i < 8; i++)
		if (!is_digit(s[i]))
			return IDCHECK_REGION;
	int p = two_digits(s + 2);
	if (!province_ok(p) && p != 10)
		return IDCHECK_REGION;
	if (idcheck_uscc_check_char(s) != s[17])
		return IDCHECK_CHECKSUM;
	/* Last, so that IDCHECK_ORGCODE means "a pilot code" (see idcheck.h). */
	if (idcheck_orgcode_check_char(s + 8) != s[16])
		return IDCHECK_ORGCODE;
	return IDCHECK_OK;
}

enum idcheck_err idcheck_phone(const char *s, size_t len)
{
	if (len != 11)
		return IDCHECK_LENGTH;
	for (size_t i = 0; i < 11; i++)
		if (!is_digit(s[i]))
			return IDCHECK_CHARS;
	if (s[0] != '1' || s[1] < '3')
		return IDCHECK_KIND;
	return IDCHECK_OK;
}

/* Length of the space at the start of s[0..len), 0 if none. */
static size_t space_at(const char *s, size_t len)
{
	if (len >= 1 && (s[0] == ' ' || s[0] == '\t' || s[0] == '\n' || s[0] == '\r' ||
			 s[0] == '\f' || s[0] == '\v'))
		return 1;
	if (len >= 3 && memcmp(s, "\xE3\x80\x80", 3) == 0)
		return 3;
	return 0;
}

/* Length of the space at the end of s[0..len), 0 if none. */
static size_t space_before(const char *s, size_t len)
{
	if (len >= 3 && memcmp(s + len - 3, "\xE3\x80\x80", 3) == 0)
		return 3;
	return len >= 1 ? space_at(s + len - 1, 1) : 0;
}

size_t idcheck_normalize(const char *s, size_t len, char *out, size_t outlen)
{
	if (outlen > 0)
		out[0] = '\0';
	size_t n;
	while ((n = space_at(s, len)) > 0)
		s += n, len -= n;
	while ((n = space_before(s, len)) > 0)
		len -= n;
	if (len == 0 || outlen <= len)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		out[i] = c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
	}
	out[len] = '\0';
	return len;
}

char *idcheck_mask(const char *s, size_t len, char *out, size_t outlen)
{
	if (outlen == 0)
		return out;
	if (outlen <= len) {
		out[0] = '\0';
		return out;
	}
	size_t head = 0, tail = 0;
	if (len == 11)
		head = 3, tail = 4;
	else if (len >= 12)
		head = 4, tail = 4;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x21 || c > 0x7E) {
			head = tail = 0;
			break;
		}
	}
	for (size_t i = 0; i < len; i++)
		out[i] = i < head || i >= len - tail ? s[i] : '*';
	out[len] = '\0';
	return out;
}

char *idcheck_mask_email(const char *s, size_t len, char *out, size_t outlen)
{
	const char *at = memchr(s, '@', len);
	size_t dom = at ? len - (size_t)(at - s) : 0;
	/* The first character whole (a UTF-8 lead byte and its continuation bytes). */
	size_t first = 1;
	while (at && first < (size_t)(at - s) && ((unsigned char)s[first] & 0xC0) == 0x80)
		first++;
	if (!at || at == s || first + 3 + dom + 1 > outlen) {
		if (outlen >= 4)
			memcpy(out, "***", 4);
		else if (outlen)
			out[0] = '\0';
		return out;
	}
	memcpy(out, s, first);
	memcpy(out + first, "***", 3);
	memcpy(out + first + 3, at, dom);
	out[first + 3 + dom] = '\0';
	return out;
}

/* Sentences per field and error; NULL falls back to the field's generic sentence. */
enum { LANG_ZH, LANG_EN };
enum { WHAT_ID, WHAT_USCC, WHAT_PHONE, WHAT_OTHER };

static const char *const reasons[4][IDCHECK_ERR_MAX + 1][2] = {
	[WHAT_ID] = {
		[IDCHECK_OK] = {"身份证号码格式正确。", "The ID number is valid."},
		[IDCHECK_LENGTH] = {"身份证号码应为18位，请核对后重新输入。",
			"The ID number must have 18 characters; please check the number and enter it again."},
		[IDCHECK_CHARS] = {"身份证号码的前17位应为数字，最后一位为数字或字母X，请核对后重新输入。",
			"The first 17 characters of the ID number must be digits and the last one a digit or the letter X; please check the number and enter it again."},
		[IDCHECK_REGION] = {"身份证号码的前6位（地区代码）不正确，请核对后重新输入。",
			"The first six digits of the ID number (the region code) are not valid; please check the number and enter it again."},
		[IDCHECK_BIRTHDATE] = {"身份证号码中的出生日期（第7至14位）不正确，请核对后重新输入。",
			"The date of birth in the ID number (digits 7 to 14) is not valid; please check the number and enter it again."},
		[IDCHECK_CHECKSUM] = {"身份证号码的校验位不正确，请核对后重新输入。",
			"The check character of the ID number is wrong; please check the number and enter it again."},
	},
	[WHAT_USCC] = {
		[IDCHECK_OK] = {"统一社会信用代码格式正确。", "The unified social credit code is valid."},
		[IDCHECK_LENGTH] = {"统一社会信用代码应为18位，请核对后重新输入。",
			"The unified social credit code must have 18 characters; please check the code and enter it again."},
		[IDCHECK_CHARS] = {"统一社会信用代码只能包含数字和大写字母（不含I、O、Z、S、V），请核对后重新输入。",
			"The unified social credit code may contain only digits and capital letters other than I, O, Z, S and V; please check the code and enter it again."},
		[IDCHECK_REGION] = {"统一社会信用代码的第3至8位（登记机关所在地区代码）不正确，请核对后重新输入。",
			"Characters 3 to 8 of the unified social credit code (the region code) are not valid; please check the code and enter it again."},
		[IDCHECK_CHECKSUM] = {"统一社会信用代码的校验位（最后一位）不正确，请核对后重新输入。",
			"The check character (the last one) of the unified social credit code is wrong; please check the code and enter it again."},
		[IDCHECK_ORGCODE] = {"统一社会信用代码中的组织机构代码（第9至17位）校验不通过，请核对后重新输入；如您的代码确由登记机关颁发，请联系窗口工作人员。",
			"The organisation code inside the unified social credit code (characters 9 to 17) does not pass its check; please check the code and enter it again. If the registration authority really issued this code, please contact our staff."},
		[IDCHECK_KIND] = {"统一社会信用代码的前两位（登记管理部门和机构类别）不正确，请核对后重新输入。",
			"The first two characters of the unified social credit code (registration authority and organisation type) are not valid; please check the code and enter it again."},
	},
	[WHAT_PHONE] = {
		[IDCHECK_OK] = {"手机号码格式正确。", "The mobile phone number is valid."},
		[IDCHECK_LENGTH] = {"手机号码应为11位数字，请核对后重新输入。",
			"The mobile phone number must have 11 digits; please check the number and enter it again."},
		[IDCHECK_CHARS] = {"手机号码只能包含数字，请核对后重新输入。",
			"The mobile phone number may contain only digits; please check the number and enter it again."},
		[IDCHECK_KIND] = {"手机号码应以13至19开头，请核对后重新输入。",
			"The mobile phone number must start with 13 to 19; please check the number and enter it again."},
	},
	[WHAT_OTHER] = {
		[IDCHECK_OK] = {"号码格式正确。", "The number is valid."},
	},
};

static const char *const generic[4][2] = {
	[WHAT_ID] = {"身份证号码不正确，请核对后重新输入。",
		"The ID number is not valid; please check the number and enter it again."},
	[WHAT_USCC] = {"统一社会信用代码不正确，请核对后重新输入。",
		"The unified social credit code is not valid; please check the code and enter it again."},
	[WHAT_PHONE] = {"手机号码不正确，请核对后重新输入。",
		"The mobile phone number is not valid; please check the number and enter it again."},
	[WHAT_OTHER] = {"输入的号码不正确，请核对后重新输入。",
		"The number you entered is not valid; please check it and enter it again."},
};

const char *idcheck_reason(enum idcheck_err err, const char *what, const char *lang)
{
	int l = lang && strcmp(lang, "en") == 0 ? LANG_EN : LANG_ZH;
	int w = WHAT_OTHER;
	if (what && strcmp(what, "id_number") == 0)
		w = WHAT_ID;
	else if (what && strcmp(what, "uscc") == 0)
		w = WHAT_USCC;
	else if (what && strcmp(what, "phone") == 0)
		w = WHAT_PHONE;
	unsigned e = (unsigned)err;
	if (e <= IDCHECK_ERR_MAX && reasons[w][e][l])
		return reasons[w][e][l];
	return generic[w][l];
}
