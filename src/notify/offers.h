/* offers.h: benefits offered without applying (免申即享, see offers.c). */
#ifndef GH_NOTIFY_OFFERS_H
#define GH_NOTIFY_OFFERS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app.h"

struct db;

/* Accounts one pass judges at most. */
#define OFFERS_BATCH 200
/* News sources followed (catalog_rules_news). */
#define OFFERS_NEWS_MAX 4

/* One pass on db (the caller's connection): the OFFERS_BATCH active individual accounts after
 * *cursor judged against every proactive item version, in one transaction; each new offer is
 * recorded and written to the inbox (texts from app->view; app may be NULL: keys as texts).
 * *cursor moves on (0 at the end: *more false); *offered grows by the messages written. 0 or a
 * database error (nothing of the pass is kept). */
int notify_offers_pass(const struct app *app, struct db *db, int64_t *cursor, size_t *offered, bool *more);
/* One pass over the news: for each source i of catalog_rules_news, the accounts it names after
 * cursors[i] judged (one transaction per source), cursors[i] moved on; cursors[i] < 0 (not
 * begun) or no proactive rules: cursors[i] set to the newest entry, nothing judged. *more when
 * a source has more. 0 or a database error. */
int notify_offers_news(const struct app *app, struct db *db, int64_t *cursors, size_t *offered, bool *more);
/* Starts / stops the duty on the duties thread (app->duty_db). GH_E code with a message in err. */
int notify_offers_start(struct app *app, char *err, size_t errlen);
void notify_offers_stop(void);
/* `govhall offers`: one full sweep now, recorded in the schedule the nodes share (they sweep
 * again only when its period has passed or the rules change); prints how many were offered.
 * 0 or 1. */
int notify_offers_cli(struct app *app, struct db *db);

#endif
