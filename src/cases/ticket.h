/* ticket.h: the counter intake ticket, "<account>.<expiry>.<mac>", which the pages after a
 * citizen's look-up carry instead of the ID number (counter.c). Parsing is strict: decimal
 * digits without sign, spaces or leading zeros, both numbers positive and at most 18 digits,
 * and exactly TICKET_MAC lowercase hex digits of mac; anything else is refused. Pure (no
 * keys, no clock): counter.c checks the mac and the expiry. */
#ifndef GOVHALL_CASES_TICKET_H
#define GOVHALL_CASES_TICKET_H

#include <stddef.h>
#include <stdint.h>

#define TICKET_MAC 32  /* hex digits of the ticket's mac */
#define TICKET_MAX 80  /* the longest ticket accepted */

struct intake_ticket {
	int64_t account;
	int64_t expires;
	char mac[TICKET_MAC + 1];
};

/* 0 and *out filled, or GH_EINVAL for anything but a well-formed ticket of len bytes. */
int ticket_parse(const char *s, size_t len, struct intake_ticket *out);

#endif
