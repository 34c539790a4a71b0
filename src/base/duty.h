/* duty.h: background duties — a thread that runs a pass now and then, off every event loop
 * (notification delivery, deadline warnings, calendar refresh).
 *
 * A pass runs at start, then every period seconds; sooner when nudged; at once again when it
 * says more is waiting; and after a failure it waits longer each time (up to 30 s), logging the
 * first failure of a streak and the recovery. Passes never overlap. duty_stop wakes the thread
 * and joins it; a pass in progress finishes first. Whatever the pass needs (its own database
 * connection) lives in arg and belongs to the caller. */
#ifndef GH_DUTY_H
#define GH_DUTY_H
#include <stdbool.h>

struct duty;

/* One pass: returns 0 or a GH_E code; sets *more when work is left for an immediate pass. */
typedef int (*duty_pass)(void *arg, bool *more);

/* Starts the thread. name is for the log. Returns NULL when the thread cannot start. */
struct duty *duty_start(const char *name, duty_pass pass, void *arg, int period_s);
/* Asks for a pass as soon as the current one (if any) is over. Thread-safe; d may be NULL. */
void duty_nudge(struct duty *d);
/* Stops and joins the thread, and frees d (may be NULL). */
void duty_stop(struct duty *d);

#endif
