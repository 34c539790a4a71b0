/* cases.h: online applications (办件) under legal deadlines — the public interface for main.c
 * and other domains. */
#ifndef GH_CASES_H
#define GH_CASES_H
#include <stddef.h>

#include "app.h"

struct router;

/* Loads the working-day calendar (data/catalog/holidays.json) into app and checks the
 * workflow table. GH_E code with a message in err. */
int cases_init(struct app *app, char *err, size_t errlen);
void cases_release(struct app *app);
int cases_add_routes(struct router *rt);

#endif
