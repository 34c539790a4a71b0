/* open311.h: Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2) over the catalog and
 * applications, mounted at /open311/v2/ — the public interface for main.c.
 *
 * Invariants: every posted service request is an ordinary application (channel "open311")
 * filed for the hall's Open311 applicant account, so departments work it in their usual
 * queue; the Open311 row of a request follows its application through a cases observer, in
 * the transition's own transaction. API keys are stored only as keyed hashes. */
#ifndef GH_OPEN311_H
#define GH_OPEN311_H
#include <stddef.h>

#include "app.h"

struct router;
struct db;

/* Registers the cases observer that keeps Open311 statuses current. Call once at start,
 * before the server (or any transition) runs. Returns 0. */
int open311_init(struct app *app);
/* Declares the table this module covers with the transparency log (store/cover.h): call at
 * start of every command. */
void open311_register(void);
int open311_add_routes(struct router *rt);

/* `govhall open311 key add NAME | list | revoke ID` (argv after "open311"); needs app->keys.
 * Prints to stdout, problems to stderr; returns the process exit code. */
int open311_cli(struct app *app, struct db *db, int argc, char **argv);

#endif
