/* Fuzzes the service centres import's parser (src/booking/centres.c, bk_centres_parse): any
 * bytes as the file of `govhall booking import`. Checks what booking_impl.h promises: the answer
 * is 0, GH_EINVAL (not JSON) or GH_EVALIDATION; a refusal names at least one problem and an
 * accepted document none; an accepted document has 1 to 200 centres and, written out again,
 * is accepted again with the same count. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/err.h"
#include "booking/booking_impl.h"

static void check(int ok)
{
	if (!ok)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1 << 18)
		return 0;
	char *msgs = NULL;
	size_t msglen = 0;
	FILE *errors = open_memstream(&msgs, &msglen);
	check(errors != NULL);
	size_t n = 0;
	json_t *doc = NULL;
	int rc = bk_centres_parse((const char *)data, size, errors, &n, &doc);
	fclose(errors);
	check(rc == 0 || rc == GH_EINVAL || rc == GH_EVALIDATION);
	if (rc) {
		check(msglen > 0 && doc == NULL && n == 0);
	} else {
		check(msglen == 0 && json_is_object(doc) && n >= 1 && n <= 200);
		char *again = json_dumps(doc, JSON_COMPACT);
		check(again != NULL);
		size_t n2 = 0;
		check(bk_centres_parse(again, strlen(again), NULL, &n2, NULL) == 0 && n2 == n);
		free(again);
		json_decref(doc);
	}
	free(msgs);
	return 0;
}
