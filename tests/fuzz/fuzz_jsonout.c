/* Fuzzes base/jsonout.h against jansson: input = a JSON text (any value) or, when it does not
 * parse, the bytes of one string. jsonout must give jansson's text byte for byte, in insertion
 * and in sorted order, and fail exactly where jansson fails (a string that is not UTF-8). */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/jsonout.h"

static void same(const json_t *j, size_t flags)
{
	char *want = json_dumps(j, flags), *got = jsonout_dumps(j, flags);
	if ((want == NULL) != (got == NULL) || (want && strcmp(want, got) != 0))
		abort();
	free(want);
	free(got);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	if (!j) /* the raw bytes as a string, UTF-8 or not */
		j = json_stringn_nocheck((const char *)data, size);
	same(j, JSON_COMPACT | JSON_ENCODE_ANY);
	same(j, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
	json_t *wrapped = json_pack("[O]", j); /* as an element (no JSON_ENCODE_ANY needed) */
	same(wrapped, JSON_COMPACT);
	json_decref(wrapped);
	json_decref(j);
	return 0;
}
