/* display.c: the hall's screen (叫号屏) — the tickets called at a centre today, newest first,
 * with masked names and their counters, and how many wait.
 *
 * Every call, recall, transfer and close moves the centre's counter in booking_display in its
 * own transaction. A screen (GET /centres/{code}/display/events, Server-Sent Events through
 * the HTTP layer's req_stream) looks at that counter every booking-display-poll milliseconds,
 * and at once when a call is made on the same node (bk_display_wake after the commit); when it
 * moved, the whole state is sent as one event, so a screen that missed events or reconnects is
 * right again with the next one. The counters of one centre are read at most once per half
 * poll per worker, however many screens show it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/calendar.h"
#include "base/err.h"
#include "base/sb.h"
#include "base/util.h"
#include "base/jsonout.h"
#include "booking/booking_impl.h"
#include "http/server.h"
#include "store/db.h"

#define MEMO 8

DB_SQL(q_seq, "SELECT seq FROM booking_display WHERE centre = ?");
DB_SQL(q_called, "SELECT t.number, t.name_masked, t.counter, t.called_at, t.state, k.name_zh, k.name_en "
		 "FROM booking_tickets t LEFT JOIN booking_counters k ON k.centre = t.centre AND k.code = t.counter "
		 "WHERE t.centre = ? AND t.day = ? AND t.called_at IS NOT NULL AND t.state <> 'waiting' "
		 "ORDER BY t.called_at DESC, t.id DESC LIMIT ?");

static int seq_of(struct db *db, struct arena *a, const char *centre, int64_t *seq)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_seq, DB_ARGS(DB_TEXT(centre)), &rows);
	*seq = !rc && rows.nrows == 1 ? db_cell_int(&rows, 0, 0) : 0;
	return rc;
}

/* The state of the screen in lang. */
static int display_json(struct db *db, struct arena *a, const char *lang, const struct bk_centre *c, json_t **out)
{
	bool en = !strcmp(lang, "en");
	int64_t now = (int64_t)time(NULL), seq;
	int32_t today = calendar_day_of((time_t)now);
	struct db_rows rows;
	int rc = seq_of(db, a, c->code, &seq);
	if (!rc)
		rc = db_query(db, a, &q_called, DB_ARGS(DB_TEXT(c->code), DB_INT(today), DB_INT(BK_DISPLAY_ROWS)), &rows);
	long waiting = 0;
	if (!rc)
		rc = bk_waiting(db, a, c->code, NULL, today, &waiting);
	if (rc)
		return rc;
	json_t *called = json_array();
	for (size_t i = 0; i < rows.nrows; i++) {
		char hm[6];
		bk_hhmm(bk_minute_of(db_cell_int(&rows, i, 3), NULL), hm);
		const char *kzh = db_cell(&rows, i, 5), *ken = db_cell(&rows, i, 6), *counter = db_cell(&rows, i, 2);
		const char *kname = en && ken && *ken ? ken : kzh ? kzh : counter;
		json_array_append_new(called, json_pack("{s:s,s:s,s:s?,s:s?,s:s,s:b}", "number", db_cell(&rows, i, 0), "name",
							db_cell(&rows, i, 1), "counter", counter, "counter_name", kname, "at",
							hm, "current", !strcmp(db_cell(&rows, i, 4), "called")));
	}
	*out = json_pack("{s:s,s:s,s:o,s:i,s:I,s:s}", "centre", c->code, "centre_name",
			 en && *c->name_en ? c->name_en : c->name_zh, "called", called, "waiting", (int)waiting, "seq",
			 (json_int_t)seq, "day", bk_day_str(a, today));
	return 0;
}

int bk_display_json(struct req *r, struct db *db, const char *centre, json_t **out)
{
	struct bk_centre c;
	int rc = bk_centre_get(db, r->arena, centre, &c);
	if (rc == GH_ENOTFOUND)
		return bk_fail(r, GH_ENOTFOUND, "booking_err_no_centre");
	if (rc)
		return rc;
	return display_json(db, r->arena, r->lang, &c, out);
}

void bk_display_wake(void)
{
	server_stream_wake();
}

/* ---- the stream ------------------------------------------------------------------------------ */

struct screen {
	char centre[BK_CODE_MAX + 1];
	char lang[3];
	int64_t seq; /* last sent; -1: nothing yet */
};

/* The counter of a centre as this worker saw it lately (per thread: each worker is one). */
static __thread struct memo {
	char centre[BK_CODE_MAX + 1];
	int64_t seq;
	struct timespec at;
} memo[MEMO];

static int64_t ms_since(const struct timespec *t)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)(now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

static int memo_seq(struct db *db, struct arena *a, const char *centre, bool fresh, int64_t *seq)
{
	long ttl = bk_app ? bk_app->cfg.booking_display_poll / 2 : 500;
	struct memo *m = NULL, *oldest = &memo[0];
	for (size_t i = 0; i < MEMO; i++) {
		if (!strcmp(memo[i].centre, centre)) {
			m = &memo[i];
			break;
		}
		if (memo[i].at.tv_sec < oldest->at.tv_sec)
			oldest = &memo[i];
	}
	if (m && !fresh && ms_since(&m->at) < ttl) {
		*seq = m->seq;
		return 0;
	}
	int rc = seq_of(db, a, centre, seq);
	if (rc)
		return rc;
	if (!m) {
		m = oldest;
		snprintf(m->centre, sizeof(m->centre), "%s", centre);
	}
	m->seq = *seq;
	clock_gettime(CLOCK_MONOTONIC, &m->at);
	return 0;
}

static int screen_poll(struct stream *s, void *arg)
{
	struct screen *sc = arg;
	struct db *db = stream_db(s);
	struct arena *a = stream_arena(s);
	int64_t seq;
	/* A first answer and a wake-up read the database; timer polls may share a recent look. */
	if (memo_seq(db, a, sc->centre, sc->seq < 0, &seq))
		return 0; /* the database is away for a moment: try at the next poll */
	if (seq == sc->seq)
		return 0;
	struct bk_centre c;
	json_t *state;
	if (bk_centre_get(db, a, sc->centre, &c) || display_json(db, a, sc->lang, &c, &state))
		return 0;
	char *data = jsonout_dumps(state, JSON_COMPACT);
	json_decref(state);
	if (!data)
		return 0;
	struct sb sb = SB_INIT;
	sb_addf(&sb, "id: %lld\nevent: display\ndata: %s\n\n", (long long)seq, data);
	free(data);
	int rc = stream_send(s, sb.buf, sb.len);
	sb_release(&sb);
	if (!rc)
		sc->seq = seq;
	return rc;
}

static void screen_free(void *arg)
{
	free(arg);
}

static struct stream_ops screen_ops = { .poll = screen_poll, .release = screen_free, .poll_ms = 1000 };

void bk_display_init(const struct app *app)
{
	screen_ops.poll_ms = (int)app->cfg.booking_display_poll;
}

int bk_display_stream(struct req *r)
{
	struct bk_centre c;
	int rc = bk_centre_param(r, &c);
	if (rc)
		return rc;
	struct screen *sc = xcalloc(1, sizeof(*sc));
	snprintf(sc->centre, sizeof(sc->centre), "%s", c.code);
	snprintf(sc->lang, sizeof(sc->lang), "%s", r->lang);
	sc->seq = -1;
	return req_stream(r, "text/event-stream; charset=utf-8", &screen_ops, sc);
}
