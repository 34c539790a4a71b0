/* ticket.c: the counter intake ticket's strict parser (ticket.h). */
#include "cases/ticket.h"

#include <string.h>

#include "base/err.h"

/* A positive decimal of 1..18 digits, no leading zero, ending at '.'; *pos moves past the dot. */
static int number(const char *s, size_t len, size_t *pos, int64_t *out)
{
	size_t i = *pos, start = i;
	int64_t v = 0;
	while (i < len && s[i] >= '0' && s[i] <= '9') {
		if (i - start == 18)
			return GH_EINVAL;
		v = v * 10 + (s[i] - '0');
		i++;
	}
	if (i == start || s[start] == '0' || i >= len || s[i] != '.')
		return GH_EINVAL;
	*pos = i + 1;
	*out = v;
	return 0;
}

int ticket_parse(const char *s, size_t len, struct intake_ticket *out)
{
	size_t pos = 0;
	if (!s || len > TICKET_MAX || number(s, len, &pos, &out->account) || number(s, len, &pos, &out->expires) ||
	    len - pos != TICKET_MAC)
		return GH_EINVAL;
	for (size_t i = 0; i < TICKET_MAC; i++) {
		char c = s[pos + i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return GH_EINVAL;
		out->mac[i] = c;
	}
	out->mac[TICKET_MAC] = 0;
	return 0;
}
