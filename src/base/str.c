#include "base/str.h"

#include <limits.h>

bool str_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	while (p < end) {
		unsigned c = *p;
		if (c == 0)
			return false;
		if (c < 0x80) {
			p++;
			continue;
		}
		size_t n;
		unsigned cp, min;
		if ((c & 0xE0) == 0xC0) {
			n = 1, cp = c & 0x1F, min = 0x80;
		} else if ((c & 0xF0) == 0xE0) {
			n = 2, cp = c & 0x0F, min = 0x800;
		} else if ((c & 0xF8) == 0xF0) {
			n = 3, cp = c & 0x07, min = 0x10000;
		} else {
			return false;
		}
		if ((size_t)(end - p) <= n)
			return false;
		for (size_t i = 1; i <= n; i++) {
			if ((p[i] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		p += n + 1;
	}
	return true;
}

size_t str_utf8_chars(const char *p, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		n += ((unsigned char)p[i] & 0xC0) != 0x80;
	return n;
}

int str_to_long(struct str s, long min, long max, long *out)
{
	if (s.len == 0 || s.len > 19)
		return -1;
	size_t i = 0;
	int neg = 0;
	if (s.p[0] == '-' || s.p[0] == '+') {
		neg = s.p[0] == '-';
		if (++i == s.len)
			return -1;
	}
	long v = 0;
	for (; i < s.len; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return -1;
		if (v > (LONG_MAX - 9) / 10)
			return -1;
		v = v * 10 + (s.p[i] - '0');
	}
	if (neg)
		v = -v;
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static bool email_label_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

bool str_email_norm(char *s, size_t len)
{
	if (len > STR_EMAIL_MAX)
		return false;
	char *at = memchr(s, '@', len);
	if (!at || memchr(at + 1, '@', len - (size_t)(at - s) - 1))
		return false;
	size_t local = (size_t)(at - s);
	if (local < 1 || local > 64)
		return false;
	for (size_t i = 0; i < local; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return false;
	char *d = at + 1, *end = s + len;
	bool dot = false;
	while (d <= end) {
		char *lb = d;
		while (d < end && *d != '.')
			d++;
		size_t ll = (size_t)(d - lb);
		if (ll < 1 || ll > 63 || lb[0] == '-' || lb[ll - 1] == '-')
			return false;
		for (size_t i = 0; i < ll; i++) {
			if (!email_label_char(lb[i]))
				return false;
			if (lb[i] >= 'A' && lb[i] <= 'Z')
				lb[i] = (char)(lb[i] - 'A' + 'a');
		}
		if (d == end)
			break;
		dot = true;
		d++; /* past the dot; a trailing dot leaves an empty label, refused above */
	}
	return dot;
}
