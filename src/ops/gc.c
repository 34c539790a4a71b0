/* gc.c: the collection of stored files that nothing names any more (ops.h, store/blob.h), a
 * duty of the duties thread: hourly, on one node at a time (blob_gc takes a PostgreSQL lock). */
#include <stdio.h>
#include <time.h>

#include "app.h"
#include "base/duty.h"
#include "base/err.h"
#include "base/log.h"
#include "cases/attach.h"
#include "ops/ops.h"
#include "store/blob.h"
#include "store/db.h"

#define GC_PERIOD_S 3600
#define GC_BATCH 200

static struct duty *duty;
static struct app *gc_app;

static int gc_pass(void *arg, bool *more)
{
	(void)arg;
	long removed = 0;
	int64_t cutoff = (int64_t)time(NULL) - gc_app->cfg.blob_grace;
	int rc = blob_gc(gc_app->duty_db, cutoff, GC_BATCH, &removed);
	if (rc)
		log_debug("files: collection failed: %s", db_last_error(gc_app->duty_db));
	else if (removed)
		log_info("files: removed %ld stored file%s that nothing names", removed, removed == 1 ? "" : "s");
	*more = !rc && removed == GC_BATCH;
	return rc;
}

int ops_start(struct app *app, char *err, size_t errlen)
{
	if (duty)
		return 0;
	if (!app->duty_db) {
		snprintf(err, errlen, "files: the duties' database connection is not open");
		return GH_EINTERNAL;
	}
	attach_global_init(); /* registers the tables that name stored files */
	gc_app = app;
	if (!(duty = duty_start("files", gc_pass, NULL, GC_PERIOD_S))) {
		snprintf(err, errlen, "files: cannot start the duties thread");
		return GH_EINTERNAL;
	}
	return 0;
}

void ops_stop(void)
{
	duty_stop(duty);
	duty = NULL;
	gc_app = NULL;
}
