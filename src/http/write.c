/* write.c: req_write and friends (see write.h): the writer (store/group.c) hands each outcome
 * to a completion callback on its own thread; this file turns that into an event on the
 * waiting loop, and the event into the request's deferred completion (server.c's req_defer). */
#include "http/write.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "base/err.h"
#include "base/log.h"
#include "base/util.h"
#include "http/http.h"
#include "http/server.h"
#include "store/db.h"
#include "store/group.h"

/* ---- the loop adapter ---- */

struct on_loop {
	int (*fn)(struct db *, void *);
	void (*done)(void *, int);
	void *arg;
	int rc;
	struct event *ev;
};

static int on_loop_fn(struct db *db, void *p)
{
	struct on_loop *o = p;
	return o->fn(db, o->arg);
}

/* On the writer thread: wake the loop. Nothing of o is touched after event_active. */
static void on_loop_complete(void *p, int rc)
{
	struct on_loop *o = p;
	o->rc = rc;
	event_active(o->ev, 0, 0);
}

/* On the loop. */
static void on_loop_run(evutil_socket_t fd, short what, void *p)
{
	struct on_loop *o = p;
	(void)fd, (void)what;
	o->done(o->arg, o->rc);
	event_free(o->ev);
	free(o);
}

int write_submit(struct group *g, struct event_base *base, int (*fn)(struct db *, void *), void (*done)(void *, int),
		 void *arg)
{
	struct on_loop *o = xcalloc(1, sizeof(*o));
	o->fn = fn;
	o->done = done;
	o->arg = arg;
	o->ev = event_new(base, -1, 0, on_loop_run, o);
	if (!o->ev)
		die("write: cannot create an event");
	int rc = group_submit(g, on_loop_fn, on_loop_complete, o);
	if (rc) {
		event_free(o->ev);
		free(o);
	}
	return rc;
}

/* ---- requests ---- */

struct req_w {
	struct group *g;
	struct req *r;
	int (*fn)(struct req *, void *);
	int (*done)(struct req *, void *, int);
	void *arg;
	int rc;
	const char *detail; /* what fn said with req_error_detail */
	int64_t retry_after; /* ... and with req_retry_after */
	void (*resume)(void *);
	void *token;
};

/* On the writer thread, r parked: fn gets a copy of r with the writer's connection and no
 * worker (which is what makes responses and per-worker state refuse it). */
static int req_w_fn(struct db *db, void *p)
{
	struct req_w *w = p;
	struct req shadow = *w->r;
	shadow.db = db;
	shadow.worker = NULL;
	shadow.error_detail = NULL;
	shadow.retry_after = 0;
	int rc = w->fn(&shadow, w->arg);
	w->detail = shadow.error_detail;
	w->retry_after = shadow.retry_after;
	return rc;
}

static void req_w_done(void *p, int rc)
{
	struct req_w *w = p;
	w->rc = rc;
	w->resume(w->token);
}

static int req_w_submit(void *ctx, struct event_base *base, void (*resume)(void *), void *token)
{
	struct req_w *w = ctx;
	w->resume = resume;
	w->token = token;
	return write_submit(w->g, base, req_w_fn, req_w_done, w);
}

static int req_w_finish(struct req *r, void *p)
{
	struct req_w *w = p;
	if (w->detail)
		r->error_detail = w->detail;
	if (w->retry_after)
		r->retry_after = w->retry_after;
	if (w->done)
		return w->done(r, w->arg, w->rc);
	if (w->rc)
		resp_discard(r); /* what the handler prepared did not happen */
	return w->rc;
}

int req_write(struct req *r, int (*fn)(struct req *, void *), int (*done)(struct req *, void *, int), void *arg)
{
	if (!r->worker)
		die("http: req_write called on the writer thread (route %s)", r->route ? r->route->name : "-");
	if (!r->app->group)
		return GH_EUNAVAILABLE;
	if (group_is_direct(r->app->group)) {
		/* A command's request (server_offline_worker): written now, done at once. */
		struct req_w now = { .r = r, .fn = fn };
		now.arg = arg;
		int rc = group_run(r->app->group, req_w_fn, &now);
		if (now.detail)
			r->error_detail = now.detail;
		return done ? done(r, arg, rc) : rc;
	}
	/* In the request arena: it lives until the deferred response is finished. */
	struct req_w *w = arena_zalloc(r->arena, sizeof(*w));
	w->g = r->app->group;
	w->r = r;
	w->fn = fn;
	w->done = done;
	w->arg = arg;
	return req_defer(r, req_w_submit, w, req_w_finish, w);
}

bool req_on_loop(const struct req *r)
{
	return r->worker != NULL;
}

/* ---- a run on the loop: one snapshot, no writes ---- */

void req_loop_run(struct req *r, bool on)
{
	/* Only where there is a writer to write instead (a process without one, like `govhall
	 * paysim`, writes on its loop). */
	if (!r->app->group)
		return;
	if (on) {
		db_read_snapshot(r->db);
	} else if (db_read_end(r->db)) {
		log_warn("write: the read snapshot of %s did not end cleanly", r->route ? r->route->name : "-");
	}
#ifdef GOVHALL_GUARD_LOOP_WRITES
	db_guard_writes(r->db, on && r->route ? r->route->name : NULL);
#endif
}

/* ---- bookkeeping along with a request ---- */

struct also {
	struct req *r;
	int (*fn)(struct db *, void *);
	max_align_t arg[]; /* the copy */
};

static int also_fn(struct db *db, void *p)
{
	struct also *a = p;
	return a->fn(db, a->arg);
}

/* On r's loop. */
static void also_done(void *p, int rc)
{
	struct also *a = p;
	struct req *r = a->r;
	if (rc)
		log_warn("write: a bookkeeping write of %s failed (%s)", r->route ? r->route->name : "-", err_name(rc));
	free(a);
	req_unhold(r);
}

int req_write_also(struct req *r, int (*fn)(struct db *, void *), const void *arg, size_t len)
{
	if (!r->worker)
		die("http: req_write_also called on the writer thread (route %s)", r->route ? r->route->name : "-");
	if (!r->app->group)
		return GH_EUNAVAILABLE;
	if (group_is_direct(r->app->group))
		return group_run(r->app->group, fn, (void *)arg);
	struct also *a = xmalloc(sizeof(*a) + len);
	a->r = r;
	a->fn = fn;
	memcpy(a->arg, arg, len);
	req_hold(r);
	int rc = write_submit(r->app->group, req_event_base(r), also_fn, also_done, a);
	if (rc) {
		free(a);
		req_unhold(r);
		log_warn("write: a bookkeeping write of %s was dropped (%s)", r->route ? r->route->name : "-", err_name(rc));
	}
	return rc;
}
