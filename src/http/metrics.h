/* metrics.h: request counters and latency histograms per route, rendered in the Prometheus
 * text format with the database and job-pool figures. Counters are atomics: workers update
 * them without locks. Route index n (one past the last route) counts requests that matched no
 * route. */
#ifndef GH_METRICS_H
#define GH_METRICS_H
#include <stddef.h>
#include <stdint.h>

#include "app.h"
#include "base/sb.h"

struct metrics *metrics_new(size_t nroutes);
void metrics_free(struct metrics *m);
void metrics_observe(struct metrics *m, size_t route, int status, uint64_t dur_ns);
void metrics_conn(struct metrics *m, int delta);
/* Registers a domain's own gauges (e.g. the search index's memory): fn appends Prometheus
 * text to out at every render. At start only, before the server runs; at most 8; a function
 * registered twice is kept once. */
void metrics_add_source(void (*fn)(struct sb *out));
/* Appends the exposition text for the whole process. */
void metrics_render(struct metrics *m, const struct app *app, struct sb *out);

#endif
