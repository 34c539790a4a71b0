/* Fuzzes the content-coding parsers: Accept-Encoding and If-None-Match lists. */
#include <stdint.h>
#include <string.h>

#include "http/compress.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct accept_enc a;
	accept_enc_parse((const char *)data, size, &a);
	for (int c = 0; c < CODING_N; c++)
		if (a.q[c] > 1000)
			__builtin_trap();
	enum coding got = accept_enc_choose(&a, size & 1);
	if (got != CODING_IDENTITY && a.q[got] == 0)
		__builtin_trap();
	(void)etag_list_match((const char *)data, size, "\"abc-gz\"");
	(void)etag_list_match((const char *)data, size, "W/\"\"");
	return 0;
}
