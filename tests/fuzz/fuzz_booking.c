/* Fuzzes the booking request parser (src/booking/api.c, bk_hold_parse): any bytes as the JSON
 * body of POST /api/v1/bookings. Checks what booking_impl.h promises of an accepted request: a
 * centre and an item of 1..BK_CODE_MAX bytes, a day and a start time that bk_parse_slot gives
 * back unchanged from their own text, a known channel, optional members within their limits;
 * and that every refusal is GH_EINVAL with a message key. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/arena.h"
#include "base/calendar.h"
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
	if (size > 1 << 16)
		return 0;
	struct arena *a = arena_new(4096);
	struct bk_hold_in in;
	const char *why = NULL;
	int rc = bk_hold_parse(a, (const char *)data, size, &in, &why);
	if (rc) {
		check(rc == GH_EINVAL);
		check(why && !strncmp(why, "booking_err_", 12));
	} else {
		check(in.centre && *in.centre && strlen(in.centre) <= BK_CODE_MAX);
		check(in.item && *in.item && strlen(in.item) <= BK_CODE_MAX);
		check(in.channel == BK_ONLINE || in.channel == BK_PHONE || in.channel == BK_COUNTER);
		check(in.start >= 0 && in.start < 24 * 60);
		check(!in.application || strlen(in.application) <= 32);
		check(!in.for_id_number || strlen(in.for_id_number) <= 32);
		/* The day and time read back as text parse to the same values. */
		char day[32], hm[16];
		int y, m, d;
		calendar_ymd(in.day, &y, &m, &d);
		snprintf(day, sizeof(day), "%04d-%02d-%02d", y, m, d);
		snprintf(hm, sizeof(hm), "%02d:%02d", in.start / 60, in.start % 60);
		int32_t day2;
		int start2;
		check(bk_parse_slot(day, hm, &day2, &start2) == 0 && day2 == in.day && start2 == in.start);
	}
	arena_free(a);
	return 0;
}
