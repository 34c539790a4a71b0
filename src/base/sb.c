#include "base/sb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

char sb_empty_[1];

void sb_init(struct sb *sb, size_t hint)
{
	*sb = (struct sb)SB_INIT;
	if (hint)
		sb_grow(sb, hint);
}

void sb_set_cap(struct sb *sb, size_t cap)
{
	sb->_cap = cap;
}

void sb_release(struct sb *sb)
{
	if (sb->alloc)
		free(sb->buf);
	*sb = (struct sb)SB_INIT;
}

char *sb_detach(struct sb *sb, size_t *len)
{
	char *r;
	if (len)
		*len = sb->len;
	if (sb->alloc) {
		r = sb->buf;
	} else {
		r = xmalloc(1);
		r[0] = 0;
	}
	*sb = (struct sb)SB_INIT;
	return r;
}

void sb_reset(struct sb *sb)
{
	sb->len = 0;
	sb->_err = false;
	if (sb->alloc)
		sb->buf[0] = 0;
}

void sb_grow(struct sb *sb, size_t extra)
{
	if (extra > SIZE_MAX / 2 - sb->len - 1)
		die("sb: size overflow");
	size_t need = sb->len + extra + 1;
	if (need <= sb->alloc)
		return;
	size_t n = sb->alloc ? sb->alloc : 64;
	while (n < need)
		n *= 2;
	char *old = sb->alloc ? sb->buf : NULL;
	sb->buf = xrealloc(old, n);
	if (!old)
		sb->buf[0] = 0;
	sb->alloc = n;
}

static bool over_cap(struct sb *sb, size_t n)
{
	if (sb->_err)
		return true;
	if (sb->_cap && (n > sb->_cap || sb->len > sb->_cap - n)) {
		sb->_err = true;
		return true;
	}
	return false;
}

void sb_add(struct sb *sb, const void *p, size_t n)
{
	if (n == 0 || over_cap(sb, n))
		return;
	sb_grow(sb, n);
	memcpy(sb->buf + sb->len, p, n);
	sb->len += n;
	sb->buf[sb->len] = 0;
}

void sb_adds(struct sb *sb, const char *s)
{
	sb_add(sb, s, strlen(s));
}

void sb_addstr(struct sb *sb, struct str s)
{
	sb_add(sb, s.p, s.len);
}

void sb_addch(struct sb *sb, char c)
{
	sb_add(sb, &c, 1);
}

void sb_vaddf(struct sb *sb, const char *fmt, va_list ap)
{
	va_list cp;
	if (sb->_err)
		return;
	va_copy(cp, ap);
	int n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0) {
		sb->_err = true;
		return;
	}
	if (over_cap(sb, (size_t)n))
		return;
	sb_grow(sb, (size_t)n);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	sb->len += (size_t)n;
}

void sb_addf(struct sb *sb, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sb_vaddf(sb, fmt, ap);
	va_end(ap);
}

void sb_add_html(struct sb *sb, const char *s, size_t n)
{
	size_t start = 0;
	for (size_t i = 0; i < n; i++) {
		const char *rep;
		switch (s[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		case '`': rep = "&#96;"; break;
		case '=': rep = "&#61;"; break;
		default: continue;
		}
		sb_add(sb, s + start, i - start);
		sb_adds(sb, rep);
		start = i + 1;
	}
	sb_add(sb, s + start, n - start);
}

void sb_add_json_str(struct sb *sb, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	sb_addch(sb, '"');
	size_t start = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[7];
		const char *rep = NULL;
		if (c == '"')
			rep = "\\\"";
		else if (c == '\\')
			rep = "\\\\";
		else if (c == '\n')
			rep = "\\n";
		else if (c == '\r')
			rep = "\\r";
		else if (c == '\t')
			rep = "\\t";
		else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
			esc[0] = '\\', esc[1] = 'u', esc[2] = '0', esc[3] = '0';
			esc[4] = hex[c >> 4], esc[5] = hex[c & 15], esc[6] = 0;
			rep = esc;
		} else
			continue;
		sb_add(sb, s + start, i - start);
		sb_adds(sb, rep);
		start = i + 1;
	}
	sb_add(sb, s + start, n - start);
	sb_addch(sb, '"');
}

void sb_add_urlenc(struct sb *sb, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~') {
			sb_addch(sb, (char)c);
		} else {
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };
			sb_add(sb, e, 3);
		}
	}
}
