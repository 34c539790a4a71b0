/* linkify.c: the addresses in a plain text as link runs (linkify.h). */
#include "view/linkify.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

/* The ASCII characters an address may hold: unreserved, reserved except ' ( ) and %. */
static bool url_char(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c && strchr("-._~:/?#[]@!$&*+,;=%", c) != NULL;
}

static bool alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Whether a site-relative path may start after byte `prev` (the text's start: prev = 0). */
static bool path_may_follow(unsigned char prev)
{
	return prev == 0 || prev >= 0x80 || strchr(" \t\r\n([{\"'", prev) != NULL;
}

/* The length of the address at s[i..len), or 0 when none starts there. */
static size_t address_at(const char *s, size_t i, size_t len)
{
	size_t start = i, scheme = 0;
	if (len - i > 8 && strncasecmp(s + i, "https://", 8) == 0)
		scheme = 8;
	else if (len - i > 7 && strncasecmp(s + i, "http://", 7) == 0)
		scheme = 7;
	if (scheme) {
		if (i > 0 && alnum((unsigned char)s[i - 1]))
			return 0; /* "xhttp://": part of a word */
		i += scheme;
		if (i >= len || !alnum((unsigned char)s[i]))
			return 0; /* a host starts with a letter or digit */
	} else {
		if (s[i] != '/' || i + 1 >= len || !alnum((unsigned char)s[i + 1]) ||
		    !path_may_follow(i ? (unsigned char)s[i - 1] : 0))
			return 0;
	}
	while (i < len && url_char((unsigned char)s[i]))
		i++;
	/* Trailing punctuation ends the sentence, not the address. */
	while (i > start + scheme + 1 && strchr(".,;:!?]", s[i - 1]))
		i--;
	return i - start;
}

static void add_run(json_t *runs, const char *s, size_t n, bool link)
{
	if (!n)
		return;
	json_t *t = json_stringn(s, n);
	if (!t)
		return; /* not UTF-8: nothing to show safely */
	json_t *o = json_object();
	json_object_set_new(o, "text", t);
	/* Always set: a template looking up "href" in a text run must not find an outer one. */
	json_object_set(o, "href", link ? t : json_false());
	json_array_append_new(runs, o);
}

json_t *view_linkify(const char *text, size_t len)
{
	json_t *runs = json_array();
	if (!text)
		return runs;
	size_t plain = 0, links = 0;
	for (size_t i = 0; i < len && links < LINKIFY_MAX_LINKS;) {
		size_t n = (text[i] == '/' || text[i] == 'h' || text[i] == 'H') ? address_at(text, i, len) : 0;
		if (!n) {
			i++;
			continue;
		}
		add_run(runs, text + plain, i - plain, false);
		add_run(runs, text + i, n, true);
		links++;
		i += n;
		plain = i;
	}
	add_run(runs, text + plain, len - plain, false);
	return runs;
}
