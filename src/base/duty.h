/* duty.h: background duties — passes run now and then, off every event loop (deadline
 * warnings, calendar refresh, checkpoints, evaluation duties, collection of unnamed files,
 * notification delivery).
 *
 * Every duty started with duty_start runs on one shared thread, "the duties thread", one pass
 * at a time, so the duties can share one database connection (struct app's duty_db). A duty
 * whose passes may block for long (notification delivery waits on other servers) gets a thread
 * of its own with duty_start_alone, and then needs a connection of its own too.
 *
 * A pass runs at start, then every period seconds; sooner when nudged; at once again when it
 * says more is waiting; and after a failure it waits longer each time (up to 30 s), logging the
 * first failure of a streak and the recovery. Passes of one duty never overlap. duty_stop
 * waits for a pass in progress, removes the duty and, when it was the last, stops the thread.
 * Whatever the pass needs lives in arg and belongs to the caller. */
#ifndef GH_DUTY_H
#define GH_DUTY_H
#include <stdbool.h>
#include <stddef.h>

struct duty;

/* One pass: returns 0 or a GH_E code; sets *more when work is left for an immediate pass. */
typedef int (*duty_pass)(void *arg, bool *more);

/* Adds the duty to the duties thread (starting it with the first duty). name is for the log.
 * Returns NULL when the thread cannot start. */
struct duty *duty_start(const char *name, duty_pass pass, void *arg, int period_s);
/* The same on a thread of the duty's own. */
struct duty *duty_start_alone(const char *name, duty_pass pass, void *arg, int period_s);
/* Asks for a pass as soon as possible (after the pass in progress). Thread-safe; d may be NULL. */
void duty_nudge(struct duty *d);
/* Removes the duty (waiting for its pass in progress) and frees d (may be NULL); stops and
 * joins the thread when no duty is left on it. Not from a pass. */
void duty_stop(struct duty *d);

/* A domain's periodic duty on the duties thread, with what its passes read: the app and the
 * duties' shared database connection (the app's duty_db). The pass gets the struct as its
 * arg. Started once (a second start is 0); stopped any number of times. */
struct app;
struct db;
struct duty_run {
	struct duty *duty;
	struct app *app;
	struct db *db;
};
/* 0, or GH_EINTERNAL with "<name>: why" in err when db is NULL or the thread cannot start. */
int duty_run_start(struct duty_run *run, const char *name, duty_pass pass, struct app *app, struct db *db, int period_s,
		   char *err, size_t errlen);
void duty_run_stop(struct duty_run *run);

#endif
