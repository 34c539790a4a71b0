/* Fuzzes the JSON input of the identity API (identity_input_from_json). */
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "identity/identity_impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *o = json_object();
	struct input_problem why;
	if (identity_input_from_json((const char *)data, size, o, &why) == 0) {
		const char *k;
		json_t *v;
		json_object_foreach(o, k, v)
		{
			if (!json_is_string(v))
				__builtin_trap();
		}
	}
	json_decref(o);
	return 0;
}
