/* booking.h: appointments and queueing (预约 · 取号 · 叫号) — service centres with counters,
 * appointment slots, bookings, tickets and their calling, the hall's display — the public
 * interface for main.c and other domains.
 *
 * Invariants:
 * - A place in a slot is taken by one conditional write (UPDATE ... WHERE taken < capacity), so
 *   two people racing for the last place cannot both get it, on either backend. The per-person
 *   limit of active bookings is one conditional upsert in the same transaction.
 * - Every change of a booking or a ticket records a booking_events row in the same transaction,
 *   and bookings (from their confirmation on), tickets, their events and the pauses of online
 *   booking are covered rows of the transparency log (store/cover.h).
 * - Names and phone numbers are stored sealed (identity's key ring) beside a masked copy; pages,
 *   the API and the hall's screen show only the masks.
 * - Slots exist only on working days of the calendar (base/calendar.h), within the centre's
 *   opening hours, from booking-min-days to booking-max-days working days ahead.
 */
#ifndef GH_BOOKING_H
#define GH_BOOKING_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "app.h"

struct db;
struct router;

/* Declares the covered tables (store/cover.h). Call at the start of every command. */
void booking_register(void);
/* Declares the personal parts of booking (store/personal.h): appointments (kept). Call at start. */
void booking_personal_declare(void);
/* Registers the sealed names and phones with identity's key commands (key rotate, reseal,
 * list); main.c calls it at start, beside cases_register_sealed. */
void booking_register_sealed(void);

/* Keeps app for the pages, the API and the duties. Call once at start. */
int booking_init(struct app *app);
int booking_add_routes(struct router *rt);
/* A centre's kiosk page, for the sections of later domains (http/sections.h) shown to a
 * citizen signed in there (pay: their fees due): a section adds members to the page's context,
 * which templates/booking/kiosk.mustache shows; subject NULL; a failing one is left out. */
#define BOOKING_PAGE_KIOSK "booking.kiosk"

/* Imports centres, counters, the items they serve and the places per slot from a JSON file
 * (format: docs/api.md; data/catalog/centres.json for the demo). Every record is checked
 * (items must be in the catalog); each problem is written to errors as "PATH: reason" and then
 * nothing is imported (GH_EVALIDATION). *n gets the number of centres imported. */
int booking_import_file(struct db *db, const char *path, FILE *errors, size_t *n);
/* The demo's centres: data_dir/catalog/centres.json. */
int booking_import_demo(struct db *db, const char *data_dir, FILE *errors, size_t *n);

/* What one pass of the duties did. */
struct booking_pass {
	int lapsed;    /* holds not confirmed in time, released */
	int missed;    /* bookings whose slot ended without a check-in (no-shows) */
	int paused;    /* people whose online booking was paused for their no-shows */
	int reminded;  /* reminders of the day before sent */
	int expired;   /* tickets left at the end of their day */
};
/* One pass of the duties at time now (Unix seconds): releases lapsed holds, marks no-shows and
 * pauses online booking after too many, sends the reminders of the day before through the
 * notification outbox, closes the tickets of past days. On PostgreSQL only when this connection
 * wins the duties' advisory lock. 0 or a database error. */
int booking_duties_run(struct app *app, struct db *db, int64_t now, struct booking_pass *out);

/* Starts / stops the duties (serve): a pass at start and every 60 s on the duties thread. */
int booking_start(struct app *app, char *err, size_t errlen);
void booking_stop(void);

/* `govhall booking import FILE.json | duties [YYYY-MM-DDTHH:MM]` (argv after the command
 * word): the exit code. */
int booking_cli(struct app *app, int argc, char **argv);

#endif
