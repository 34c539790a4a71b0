/* Fuzzes what the national catalog and national supervision read from a hall and a citizen
 * (src/federation/nat.h, src/search/search.h). The first byte chooses:
 *   0: a feed cursor: what parses is a number of at least 0 that prints back as the cursor;
 *   1: a feed page's claims (JSON): accepted only with at most NAT_PAGE_MAX items and
 *      withdrawals, each item with a code and a guide under the hall's address, each withdrawal
 *      with a code and a version; refused always with a reason;
 *   2: a statistics document (JSON): accepted only when no part exceeds its whole;
 *   3: a search query naming a place: the place found is one of the names and is in the query,
 *      and the rest is shorter than the query by at least the name. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/arena.h"
#include "federation/nat.h"
#include "search/search.h"

static void check(int ok)
{
	if (!ok)
		abort();
}

static void cursor(struct arena *a, const char *s)
{
	int64_t seq;
	if (nat_cursor_parse(s, &seq))
		return;
	check(seq >= 0);
	if (!*s) {
		check(seq == 0);
		return;
	}
	check(!strcmp(arena_printf(a, "%lld", (long long)seq), s));
}

static void feed(const char *s, size_t n)
{
	json_t *j = json_loadb(s, n, 0, NULL);
	if (!j)
		return;
	const char *why = nat_feed_check(j, "c0", "http://hall.example");
	if (!why) {
		const json_t *items = json_object_get(j, "items"), *wd = json_object_get(j, "withdrawn");
		check(json_array_size(items) + json_array_size(wd) <= NAT_PAGE_MAX);
		size_t k;
		const json_t *w;
		json_array_foreach(wd, k, w)
		{
			const char *code = json_string_value(json_object_get(w, "code"));
			check(code && *code && json_integer_value(json_object_get(w, "version")) >= 1);
		}
		size_t i;
		const json_t *it;
		json_array_foreach(items, i, it)
		{
			check(json_string_value(json_object_get(it, "code")) != NULL);
			check(!strncmp(json_string_value(json_object_get(it, "url")), "http://hall.example/", 20));
		}
	}
	json_decref(j);
}

static void stats(const char *s, size_t n)
{
	json_t *j = json_loadb(s, n, 0, NULL);
	if (!j)
		return;
	if (!nat_stats_check(j)) {
		size_t i;
		const json_t *d;
		json_array_foreach(json_object_get(j, "departments"), i, d)
		{
			check(json_integer_value(json_object_get(d, "on_time")) <= json_integer_value(json_object_get(d, "concluded")));
			check(json_integer_value(json_object_get(d, "bad")) <= json_integer_value(json_object_get(d, "evals")));
		}
	}
	json_decref(j);
}

static void place(struct arena *a, const char *q)
{
	static const char *const names[] = { "兰山", "清河", "x" };
	const char *rest;
	int k = search_place(a, q, names, 3, &rest);
	check(k >= -1 && k < 3);
	if (k < 0) {
		check(rest == q);
		return;
	}
	check(strstr(q, names[k]) != NULL);
	check(strlen(rest) + strlen(names[k]) <= strlen(q) + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 65536)
		return 0;
	struct arena *a = arena_new(0);
	char *s = arena_strndup(a, (const char *)data + 1, size - 1);
	size_t n = strlen(s);
	switch (data[0] % 4) {
	case 0: cursor(a, s); break;
	case 1: feed(s, n); break;
	case 2: stats(s, n); break;
	default: place(a, s); break;
	}
	arena_free(a);
	return 0;
}
