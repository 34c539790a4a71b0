/* Fuzzes Open311 request parsing and the XML writer: input = a form body as an Open311 client
 * posts it (or a query string). Every pair goes through the parsers of src/open311/format.c;
 * the raw bytes (valid UTF-8 or not) go through the XML writer, whose output must stay
 * well-formed: valid UTF-8, no forbidden control characters, '<' only in our tags, '&' only
 * starting an entity. A parsed time must survive formatting and parsing again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/arena.h"
#include "base/sb.h"
#include "base/str.h"
#include "http/http.h"
#include "open311/open311_impl.h"

static void check_text(const char *s, size_t n)
{
	if (!str_utf8_valid(s, n))
		__builtin_trap();
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == '<' || c == '>' || c == '"')
			__builtin_trap();
		if (c == '&') {
			static const char *ents[] = { "&amp;", "&lt;", "&gt;", "&quot;", "&apos;" };
			int ok = 0;
			for (size_t k = 0; k < 5; k++)
				ok |= strncmp(s + i, ents[k], strlen(ents[k])) == 0;
			if (!ok)
				__builtin_trap();
		}
	}
}

static void parse_value(struct arena *a, const char *v)
{
	int64_t t;
	if (open311_parse_time(v, &t) == 0) {
		char out[26];
		int64_t again;
		open311_format_time(t, out);
		if (open311_parse_time(out, &again) || again != t)
			__builtin_trap();
	}
	double d;
	if (open311_parse_coord(v, -180, 180, &d) == 0 && (d < -180 || d > 180))
		__builtin_trap();
	const char **items;
	size_t n;
	if (open311_split_list(a, v, 100, &items, &n) == 0 && (n == 0 || n > 100))
		__builtin_trap();
	const char *name;
	enum open311_fmt fmt;
	open311_split_format(a, v, &name, &fmt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = arena_new(4096);
	struct kvlist form;
	if (form_decode(a, (const char *)data, size, 256, &form) == 0) {
		for (size_t i = 0; i < form.n; i++) {
			const char *code;
			bool multi;
			if (open311_attr_key(a, form.v[i].key, &code, &multi) == 0 && (!*code || strlen(code) > 64))
				__builtin_trap();
			parse_value(a, form.v[i].val);
		}
	}
	/* The raw input through the writer, as a value and inside a list. */
	struct sb sb = SB_INIT;
	open311_xml_text(&sb, (const char *)data, size);
	check_text(sb.buf ? sb.buf : "", sb.len);
	sb_release(&sb);
	json_t *v = json_pack("[{s:o,s:i,s:n}]", "description", json_stringn_nocheck((const char *)data, size), "code", 400,
			      "media_url");
	sb_init(&sb, 0);
	open311_render(&sb, OPEN311_XML, "service_requests", v);
	if (!str_utf8_valid(sb.buf, sb.len))
		__builtin_trap();
	const char *open = "<description>", *close = "</description>";
	const char *b = strstr(sb.buf, open), *e = b ? strstr(b, close) : NULL;
	if (!b || !e)
		__builtin_trap();
	check_text(b + strlen(open), (size_t)(e - b - strlen(open)));
	sb_release(&sb);
	json_decref(v);
	arena_free(a);
	return 0;
}
