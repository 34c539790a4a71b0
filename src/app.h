/* app.h: what every handler can reach: the settings, the templates, the routes, the job pool.
 * main.c builds one struct app at start; it is read-only while the server runs (worker
 * threads share it), except for the counters inside the modules that own them and the
 * calendar pointer. */
#ifndef GH_APP_H
#define GH_APP_H
#include <stdint.h>
#include <time.h>

#include "base/config.h"

struct view;
struct router;
struct nav;
struct jobs;
struct group;
struct db;
struct metrics;
struct keyring;
struct calendar;
struct req;

struct app {
	struct config cfg;
	struct view *view;
	struct router *router;
	struct nav *nav;     /* the header's navigation (http/nav.h); NULL = none */
	struct jobs *jobs;
	struct group *group; /* group commit of submissions (store/group.h); NULL = write inline */
	struct db *duty_db;  /* the connection of the duties thread (base/duty.h): its duties only */
	struct metrics *metrics;
	struct keyring *keys;
	/* Working days (cases_init). Swapped atomically when administrators change the calendar;
	 * load it once per use, never free it (src/cases/calendar_admin.h). */
	struct calendar *_Atomic calendar;
	time_t started;
	/* Hooks the identity module provides (main.c wires them; NULL = everyone anonymous).
	 * authenticate fills r->role and r->who from the session cookie or bearer token, and may
	 * set cookies; it returns 0 or a GH_E code (e.g. a revoked token on /api/ = GH_EUNAUTH).
	 * csrf_check returns 0 when a state-changing form carries the caller's CSRF token. */
	int (*authenticate)(struct req *r);
	int (*csrf_check)(struct req *r);
	/* The CSRF token for forms on r's page (pages of logged-in callers get it in "me"). */
	const char *(*csrf_token)(struct req *r);
	/* Where anonymous visitors of a page that needs a log-in are sent (with ?next=). */
	const char *login_path;
};

/* Declares what every domain covers with the transparency log (src/cover_all.c): call at the
 * start of every command, before any connection is opened. */
void app_cover_declare(void);

#endif
