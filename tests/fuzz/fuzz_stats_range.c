/* Fuzzes stats_parse_range, the reader of the statistics page's from, to and period query
 * parameters. The input is split at the first two newlines into from, to and period (a
 * missing part is NULL). When it accepts, the range must be ordered, within the limits of
 * stats_impl.h, and its periods must tile it: each starts where the previous ends, the first
 * holds `from`, and there are at most STATS_MAX_BUCKETS of them. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/calendar.h"
#include "base/err.h"
#include "stats/stats_impl.h"

static void check(int ok)
{
	if (!ok)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 256)
		return 0;
	char buf[257];
	memcpy(buf, data, size);
	buf[size] = 0;
	char *parts[3] = { NULL, NULL, NULL };
	char *p = buf;
	for (int i = 0; i < 3 && p; i++) {
		parts[i] = p;
		char *nl = strchr(p, '\n');
		if (nl)
			*nl = 0;
		p = nl ? nl + 1 : NULL;
	}
	struct stats_range r;
	const char *why = NULL;
	int32_t today = calendar_day(2026, 11, 27);
	int rc = stats_parse_range(parts[0], parts[1], parts[2], today, &r, &why);
	if (rc) {
		check(rc == GH_EINVAL && why != NULL);
		return 0;
	}
	check(r.from <= r.to && (int64_t)r.to - r.from < STATS_MAX_DAYS);
	check(r.period >= PERIOD_DAY && r.period <= PERIOD_YEAR);
	int32_t start = stats_period_start(r.period, r.from);
	check(start <= r.from);
	size_t n = 0;
	for (int32_t d = start; d <= r.to; d = stats_period_next(r.period, d)) {
		int32_t next = stats_period_next(r.period, d);
		check(next > d);
		check(stats_period_start(r.period, next - 1) == d);
		n++;
	}
	check(n >= 1 && n <= STATS_MAX_BUCKETS);
	return 0;
}
