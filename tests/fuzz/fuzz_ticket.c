/* Fuzzes the counter intake ticket parser (cases/ticket.h). Invariants: an accepted ticket
 * has positive numbers and a lowercase hex mac, and prints back to exactly the input (so no
 * two spellings name one ticket). */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cases/ticket.h"

static void check(int ok)
{
	if (!ok)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct intake_ticket t;
	if (ticket_parse((const char *)data, size, &t))
		return 0;
	check(t.account > 0 && t.expires > 0 && strlen(t.mac) == TICKET_MAC);
	char back[TICKET_MAX + 64];
	int n = snprintf(back, sizeof(back), "%" PRId64 ".%" PRId64 ".%s", t.account, t.expires, t.mac);
	check(n > 0 && (size_t)n == size && memcmp(back, data, size) == 0);
	return 0;
}
