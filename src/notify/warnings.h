/* warnings.h: deadline warnings to staff (yellow: little time left; red: overdue), and the
 * background thread of the cases module's duties.
 *
 * Invariants:
 * - One warning per application and colour, ever: the row in `warnings` is inserted (ON
 *   CONFLICT DO NOTHING) in the same transaction as the inbox messages, and only the
 *   connection that inserted it sends them; so passes, restarts and nodes never repeat one.
 * - Only applications whose clock runs are warned: accepted (a due day), not completed (no
 *   terminal state) and not paused (supplement, special procedure).
 * - Yellow goes to the active staff of the application's department with the counter or
 *   reviewer duty; red to those and the department heads. Messages go to the site inbox only
 *   (notify_staff_warning): staff are at their desks, and an SMS per overdue file is noise.
 * - An application found red before any yellow warning gets the red one only (the yellow row
 *   is recorded without messages, so it is not sent late).
 */
#ifndef GH_WARNINGS_H
#define GH_WARNINGS_H
#include <stddef.h>
#include <stdint.h>

#include "app.h"

struct db;

/* Applications one pass handles at most (the next pass takes the rest). */
#define WARNINGS_BATCH 200
/* Seconds between warning passes. */
#define WARNINGS_PERIOD_S 60

/* One pass on db (a connection of the caller's thread) for day `today`: on PostgreSQL only
 * when this connection wins the warnings' advisory lock (otherwise 0 with *sent = 0). Counts
 * days left on app->calendar (weekends only when none is loaded). *sent (may be NULL) gets
 * the number of inbox messages written. Returns 0 or a database error (the application at
 * fault is left for the next pass). */
int warnings_run(struct app *app, struct db *db, int32_t today, int *sent);

/* Starts / stops the warning duty on the duties thread (base/duty.h, app->duty_db): a pass at
 * start and every WARNINGS_PERIOD_S seconds. Starting twice is a no-op. GH_E code with a
 * message in err. */
int warnings_start(struct app *app, char *err, size_t errlen);
void warnings_stop(void);

#endif
