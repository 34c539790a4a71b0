/* calendar_admin.h: the working-day calendar as administrators edit it (table calendar_days)
 * and the copy every node holds in app->calendar.
 *
 * Invariants:
 * - The database is the source of truth: calendar_days lists holidays and adjusted working
 *   weekend days (one kind per day); catalog_meta 'calendar_generation' counts changes (0 =
 *   never seeded nor edited). Every change bumps it in the same transaction.
 * - app->calendar is an atomic pointer to an immutable struct calendar (base/calendar.h).
 *   A node replaces it when the generation it loaded differs from the database's
 *   (cases_calendar_refresh, from the cases module's duty, cases_start, every CASES_DUTY_S).
 *   Readers load the pointer once and use the calendar for microseconds; the replaced
 *   calendar is freed only at the next swap (at least one refresh period later) or at
 *   cases_release, so no reader can still hold it.
 * - Changing the calendar does not move due days already stored: they were promised to the
 *   applicant when the clock started or resumed. New acceptances and resumptions use it.
 */
#ifndef GH_CALENDAR_ADMIN_H
#define GH_CALENDAR_ADMIN_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "app.h"
#include "base/arena.h"
#include "http/http.h"

struct db;
struct calendar;
struct router;

struct calendar_entry {
	int32_t day;
	const char *kind; /* "holiday" or "workday" */
	const char *note; /* "" when none */
};

/* Seeds calendar_days from the holidays file at path (validated with calendar_load_json
 * first) when the calendar was never seeded nor edited (generation 0 and no rows), in one
 * transaction, and sets the generation to 1. *added (may be NULL) gets the number of days
 * inserted (0 when there was nothing to do). GH_EIO / GH_EVALIDATION with a message in err
 * for an unreadable or bad file, or a database error. */
int calendar_db_seed(struct db *db, const char *path, int *added, char *err, size_t errlen);

/* For `govhall init`: seeds from DATA_DIR/catalog/holidays.json, reporting on out. 0 or -1. */
int cases_calendar_seed(struct db *db, const char *data_dir, FILE *out);

/* The current generation (0 when never seeded). */
int calendar_db_generation(struct db *db, struct arena *a, int64_t *gen);

/* Builds a calendar from calendar_days (new; free with calendar_free) and the generation it
 * reflects (both read in one transaction). GH_ENOTFOUND when never seeded nor edited. */
int calendar_db_load(struct db *db, struct arena *a, struct calendar **out, int64_t *gen);

/* Listed days in [from, to] in order, into a. */
int calendar_db_list(struct db *db, struct arena *a, int32_t from, int32_t to, struct calendar_entry **out,
		     size_t *n);

/* Adds a day (kind "holiday" or "workday"; note may be NULL) and bumps the generation.
 * GH_EVALIDATION for an unknown kind or a working day that is not a Saturday or Sunday,
 * GH_ECONFLICT when the day is already listed (as either kind). */
int calendar_db_add(struct db *db, int32_t day, const char *kind, const char *note);
/* Removes a listed day and bumps the generation; GH_ENOTFOUND when it is not listed. */
int calendar_db_remove(struct db *db, int32_t day);

/* Loads app->calendar at start: from the database (seeding it from the file first when it
 * was never seeded), or from DATA_DIR/catalog/holidays.json when the database cannot be
 * read. GH_E code with a message in err. */
int cases_calendar_load(struct app *app, char *err, size_t errlen);
/* Reloads and swaps app->calendar when the database's generation changed since the last
 * load; no-op while no calendar was loaded by cases_calendar_load. Call from one thread. */
int cases_calendar_refresh(struct app *app, struct db *db);
/* Frees app->calendar and the one kept from the last swap. */
void cases_calendar_release(struct app *app);

/* GET/POST /admin/calendar, GET/POST/DELETE /api/v1/admin/calendar (ROLE_ADMIN). */
extern const struct route calendar_admin_routes[];
extern const size_t calendar_admin_routes_n;

#endif
