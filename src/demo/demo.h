/* demo.h: the demo hall's year of history (`govhall init --demo --history DAYS`).
 *
 * Invariants:
 * - Everything is done as people do it, through the functions the pages and the API use
 *   (cases_demo_apply / cases_demo_act, interact_demo_*, publish_demo_*), each write through
 *   req_write on a direct group (store/group.h) with the domains' observers in place: the
 *   transparency log, statistics, certificates, rateable cases and messages are what real use
 *   would have made, so `govhall audit` passes afterwards.
 * - Each step happens at its own time: the clock (base/clock.h) is set to the step's moment,
 *   steps of every kind in time order over the DAYS days before today, staff acting on working
 *   days in office hours, deadlines counted on the hall's calendar from those dates. What was
 *   planned for after now has not happened yet: those applications, answers and tasks are
 *   still open (some of them overdue). The clock is given back before it returns.
 * - Deterministic: one seeded random stream plans everything, so two halls seeded alike hold
 *   the same history (the cryptography's nonces and salts aside).
 * - A hall that holds any application already is left alone (nothing is played twice).
 */
#ifndef GH_DEMO_H
#define GH_DEMO_H
#include <stdio.h>

#include "app.h"

struct db;

/* Plays DAYS days of history into db (initialised, with the demo catalog and accounts), with
 * app's configuration (app->cfg). Prints a summary to out. 0, or a GH_E code with the reason
 * printed to err. */
int demo_history(const struct config *cfg, struct db *db, int days, FILE *out, FILE *err);

#endif
