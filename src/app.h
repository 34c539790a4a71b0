/* app.h: what every handler can reach: the settings, the templates, the routes, the job pool.
 * main.c builds one struct app at start; it is read-only while the server runs (worker
 * threads share it), except for the counters inside the modules that own them. */
#ifndef GH_APP_H
#define GH_APP_H
#include <stdint.h>
#include <time.h>

#include "base/config.h"

struct view;
struct router;
struct jobs;
struct metrics;

struct app {
	struct config cfg;
	struct view *view;
	struct router *router;
	struct jobs *jobs;
	struct metrics *metrics;
	time_t started;
};

#endif
