/* Fuzzes urlencoded form and query decoding. */
#include <stdint.h>
#include <string.h>

#include "http/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = arena_new(4096);
	struct kvlist l;
	if (form_decode(a, (const char *)data, size, 256, &l) == 0)
		for (size_t i = 0; i < l.n; i++)
			(void)kv_get(&l, l.v[i].key);
	arena_free(a);
	return 0;
}
