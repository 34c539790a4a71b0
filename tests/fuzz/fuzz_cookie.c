/* Fuzzes Cookie header parsing. */
#include <stdint.h>
#include <string.h>

#include "http/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = arena_new(4096);
	struct kvlist l;
	if (cookie_parse(a, (const char *)data, size, 32, &l) == 0)
		for (size_t i = 0; i < l.n; i++)
			(void)strlen(l.v[i].val);
	arena_free(a);
	return 0;
}
