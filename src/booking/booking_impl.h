/* booking_impl.h: the booking module's private interface.
 *
 * - centres.c: centres, counters, the items they serve and their places per slot: the import
 *   (parse and check, then write in one transaction) and the queries.
 * - slots.c: times of day, the days one may book, the slots of a centre and their free places.
 * - book.c: bookings: hold, confirm, cancel, reschedule, the limits against abuse (active
 *   bookings per person and item, the pause after no-shows), the history, the sealed contact.
 * - tickets.c: tickets (取号) for walk-ins and checked-in bookings, calling (叫号), served,
 *   missed, transferred; the hall's display and its event stream.
 * - duties.c: lapsed holds, no-shows and pauses, reminders, tickets of past days; the thread
 *   and the `govhall booking` command.
 * - api.c / pages.c: the JSON API and the pages, thin over the functions below, which check who
 *   may do what and return GH_E codes with a detail in the caller's language (bk_fail).
 * Words people read come from data/i18n/{zh,en}/booking.json (M, MF, VF of http/msg.h), never from C.
 */
#ifndef GH_BOOKING_IMPL_H
#define GH_BOOKING_IMPL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "booking/booking.h"
#include "http/http.h"

struct db;
struct arena;
struct catalog_service;
struct view;

#define BK_CODE_MAX 64     /* bytes of a centre, counter or item code */
#define BK_NAME_MAX 60     /* characters of a name typed by staff */
#define BK_REF_LEN 10      /* a booking's reference: B + 9 symbols */
#define BK_DAYS_MAX 31     /* days of slots one request may ask for */
#define BK_DISPLAY_ROWS 10 /* called tickets the hall's screen shows */
#define BK_PER_PAGE 50

/* The app the module was started with (booking_init), for the duties and streams. */
extern struct app *bk_app;

/* ---- words ------------------------------------------------------------------------------ */

/* Sets the client detail of code to the message key and returns code. */
int bk_fail(struct req *r, int code, const char *key);
int bk_failf(struct req *r, int code, const char *key, ...) __attribute__((sentinel));
static inline bool bk_en(const struct req *r)
{
	return strcmp(r->lang, "en") == 0;
}
static inline void bk_set(json_t *o, const char *k, const char *v)
{
	if (v)
		json_object_set_new(o, k, json_string(v));
}

/* ---- times (slots.c) ---------------------------------------------------------------------- */

/* Unix seconds of minute min (China Standard Time) of day. */
int64_t bk_at(int32_t day, int min);
/* The minute of the day (China Standard Time) of moment t, and its day. */
int bk_minute_of(int64_t t, int32_t *day);
/* "HH:MM" of a minute of the day into out (6 bytes). */
void bk_hhmm(int min, char out[6]);
/* Parses "HH:MM" (00:00 .. 24:00); 0 or -1. */
int bk_parse_hhmm(const char *s, size_t len, int *min);
/* "YYYY-MM-DD HH:MM" China Standard Time of t, in a (NULL for 0). */
const char *bk_when(struct arena *a, int64_t t);
const char *bk_day_str(struct arena *a, int32_t day);
/* The working-day calendar of the app (weekends only when none is loaded). */
bool bk_workday(int32_t day);
int bk_workdays_between(int32_t from, int32_t to);
int32_t bk_add_workdays(int32_t from, int n);

/* ---- centres (centres.c) ------------------------------------------------------------------ */

enum bk_channel { BK_ONLINE, BK_PHONE, BK_COUNTER };
extern const char *const bk_channel_names[3];
/* The channel named s, or -1. */
int bk_channel_of(const char *s);

struct bk_centre {
	const char *code, *name_zh, *name_en, *address_zh, *address_en, *phone;
	int open_min, close_min, break_start, break_end; /* break_start -1: no break */
	int slot_minutes;
	bool active;
};
struct bk_counter {
	const char *centre, *code, *name_zh, *name_en;
	bool active;
	const char **items;
	size_t nitems;
};

int bk_centre_get(struct db *db, struct arena *a, const char *code, struct bk_centre *out);
/* The active centre named by the route's {code}; GH_ENOTFOUND with the reason otherwise. */
int bk_centre_param(struct req *r, struct bk_centre *c);
/* Active centres (serving item when not NULL), by code. */
int bk_centres(struct db *db, struct arena *a, const char *item, struct bk_centre **out, size_t *n);
/* The counters of a centre with the items each serves, by code. */
int bk_counters(struct db *db, struct arena *a, const char *centre, struct bk_counter **out, size_t *n);
int bk_counter_get(struct db *db, struct arena *a, const char *centre, const char *code, struct bk_counter *out);
/* The places per slot of item at centre, per channel; GH_ENOTFOUND when the centre does not
 * serve the item. */
int bk_capacity(struct db *db, struct arena *a, const char *centre, const char *item, int cap[3]);
/* The items a centre serves, by code. */
int bk_centre_items(struct db *db, struct arena *a, const char *centre, const char ***out, size_t *n);
const char *bk_centre_name(const struct req *r, const struct bk_centre *c);
json_t *bk_centre_json(struct req *r, const struct bk_centre *c);

/* The import's parser, for the command and the fuzz target: checks a centres document (text of
 * len bytes) and writes each problem to errors as "PATH: reason"; *n gets the centres. Returns
 * 0, GH_EINVAL (not JSON) or GH_EVALIDATION. Nothing else is read. *doc (may be NULL) gets the
 * parsed document when it is valid (the caller decrefs). */
int bk_centres_parse(const char *text, size_t len, FILE *errors, size_t *n, json_t **doc);

/* ---- slots (slots.c) ---------------------------------------------------------------------- */

/* The starts of a centre's slots in a day, in order, into starts (at most max); the count. */
size_t bk_slot_starts(const struct bk_centre *c, int *starts, size_t max);
bool bk_slot_valid(const struct bk_centre *c, int start);
/* The first and last days one may book on today (booking-min-days .. booking-max-days working
 * days ahead). */
void bk_window(int32_t today, int32_t *first, int32_t *last);
bool bk_day_bookable(int32_t today, int32_t day);
/* The free places of item at centre for channel, on the bookable days from `from` (at most
 * days of them): [{day, weekday, slots: [{start, end, at, free}]}]. */
int bk_availability(struct req *r, const struct bk_centre *c, const char *item, int channel, int32_t from, int days,
		    json_t **out);

/* ---- bookings (book.c) -------------------------------------------------------------------- */

struct bk_booking {
	int64_t id, account_id, enterprise_id, booked_by, application_id, slot_id;
	const char *ref, *centre, *item_code, *department, *channel, *via, *state, *name_masked, *phone_masked;
	int32_t day;
	int start_min, end_min;
	int64_t hold_until, version, created_at, confirmed_at, cancelled_at, checked_in_at, missed_at, updated_at;
	/* joined */
	const char *application_number, *item_zh, *item_en, *centre_zh, *centre_en, *ticket_number;
};

struct bk_hold_in {
	const char *centre, *item;
	int32_t day;
	int start;
	int channel;                    /* BK_ONLINE unless staff book by phone or at the counter */
	const char *via;                /* web, app, kiosk, phone, counter */
	const char *application;        /* an application number of the caller's (may be NULL) */
	const char *for_id_number;      /* staff: the citizen's ID number */
	const char *idempotency_key;    /* may be NULL */
};
/* Parses a booking request (JSON object text of len bytes: centre, item, day "YYYY-MM-DD",
 * start "HH:MM", and optionally application, channel, for_id_number) into out, strings in a.
 * 0, or GH_EINVAL with *why_key a message key. Never reads beyond len; the fuzz target calls it. */
int bk_hold_parse(struct arena *a, const char *text, size_t len, struct bk_hold_in *out, const char **why_key);
/* A day "YYYY-MM-DD" and a time "HH:MM" as the forms and the API send them: 0 or -1. */
int bk_parse_slot(const char *day, const char *start, int32_t *d, int *m);
/* Holds a place: checks the centre, item, day and time, the caller's pause of online booking
 * and limit of active bookings, takes the place with one conditional write and writes the
 * booking as held until now + booking-hold. GH_ECONFLICT when the slot is full (or the hold
 * was made already with this key: the booking is that one, with replayed set). The checks
 * are read on r's loop; the write goes to the group-commit writer (store/group.h), many holds
 * to one COMMIT; done(r, rc, booking, replayed) then runs on r's loop and answers (booking is NULL
 * when rc is not 0). Returns what done returned, or REQ_DEFERRED. */
int bk_hold_async(struct req *r, const struct bk_hold_in *in,
		  int (*done)(struct req *r, const struct bk_hold_in *in, int rc, const struct bk_booking *b, bool replayed));
/* The changes bk_op_write runs on the writer. bk_confirm of a hold past its time lapses it and
 * gives 0 with out->state "lapsed". */
int bk_confirm(struct req *r, const char *ref, struct bk_booking *out);
int bk_cancel(struct req *r, const char *ref, struct bk_booking *out);
int bk_reschedule(struct req *r, const char *ref, int32_t day, int start, struct bk_booking *out);
/* The booking if the caller may see it (its person or enterprise, staff of its department,
 * administrators); GH_ENOTFOUND otherwise. */
int bk_load_visible(struct req *r, const char *ref, struct bk_booking *out);
int bk_get(struct db *db, struct arena *a, const char *ref, struct bk_booking *out);
int bk_get_id(struct db *db, struct arena *a, int64_t id, struct bk_booking *out);
/* The caller's bookings (identity_owner_of), newest first; with active only held, booked and
 * checked in ones. */
int bk_mine(struct req *r, bool active, struct bk_booking **out, size_t *n);
/* The active (held, booked, checked in) bookings made for an application, soonest first. */
int bk_of_application(struct db *db, struct arena *a, int64_t application_id, struct bk_booking **out, size_t *n);
/* Registers the bookings' parts of the application page and of "my applications" (cases.h). */
void bk_cases_sections(void);
bool bk_owns(const struct req *r, const struct bk_booking *b);
json_t *bk_booking_json(struct req *r, const struct bk_booking *b);
json_t *bk_history_json(struct req *r, int64_t booking_id, int64_t ticket_id);
/* The pause of online booking of account at now: 0 with *until = 0 when none. */
int bk_pause_of(struct db *db, struct arena *a, int64_t account, int64_t now, int64_t *until, int64_t *noshows);
/* A pause as JSON {until, reason} for the caller, or NULL. */
json_t *bk_pause_json(struct req *r, int64_t until, int64_t noshows);

/* Writes one event (inside the caller's transaction) and touches it for the log. */
int bk_event(struct db *db, int64_t booking_id, int64_t ticket_id, const char *action, int64_t actor, json_t *detail);
/* Ends an active booking in the caller's transaction: state from -> to with the time column
 * set, the quota given back (and the slot's place when release). Changes == 0: GH_ECONFLICT. */
int bk_end(struct db *db, int64_t id, const char *from, const char *to, int64_t now, bool release);
/* Counts one no-show of account (its booking just became missed) and pauses online booking
 * when it makes booking-noshow-limit in the window; tells the person. *paused (may be NULL).
 * Inside the caller's transaction. */
int bk_noshow(struct app *app, struct db *db, struct arena *a, int64_t account, int64_t now, bool *paused);
/* The guide page's booking section (CATALOG_PAGE_GUIDE): book_visit (true) when a centre
 * serves the item: the page links to /book?item=CODE. booking import calls catalog_changed, so cached guides follow. */
int bk_guide_section(struct req *r, const void *item_code, json_t *ctx);
/* The catalog's item code as r may read it: through the worker's cache on r's loop, from the
 * database (r->db) on the writer. GH_ENOTFOUND when there is none. */
int bk_item(struct req *r, const char *code, struct catalog_service *out);
/* The route's {id} as a positive number, or 0 (then nothing has it). */
int64_t bk_param_id(struct req *r);
/* Sealing names and phones (identity's key ring): key_id, sealed bytes, masks. */
int bk_seal(struct arena *a, const char *field, const char *plain, const unsigned char **out, size_t *len,
	    int64_t *key_id);
const char *bk_mask_name(struct arena *a, const char *name);
const char *bk_mask_phone(struct arena *a, const char *phone);

/* ---- tickets (tickets.c) ------------------------------------------------------------------ */

struct bk_ticket {
	int64_t id, booking_id, account_id, slot_at, issued_at, issued_by, calls, called_at, closed_at, version;
	const char *centre, *number, *kind, *item_code, *department, *name_masked, *via, *state, *counter,
		*transferred_from;
	int32_t day;
	const char *booking_ref; /* joined */
};
/* A walk-in ticket for item at centre: the caller's own (citizens, at a kiosk or in the app;
 * asking again while it is open gives the same ticket, *fresh false), or staff's for someone
 * at the desk (name may be NULL). */
int bk_ticket_walkin(struct req *r, const char *centre, const char *item, const char *name, struct bk_ticket *out,
		     bool *fresh);
/* Checks in booking ref at centre (its day, from booking-checkin-early minutes before its slot
 * to the slot's end) and issues its ticket; again for a checked-in booking: its ticket (*fresh
 * false). */
int bk_ticket_checkin(struct req *r, const char *centre, const char *ref, struct bk_ticket *out, bool *fresh);
/* Calls the next ticket for counter: transferred to it first, then booked tickets whose slot
 * has begun, then the rest by the time they were issued. GH_ENOTFOUND when nobody waits. */
int bk_call_next(struct req *r, const char *centre, const char *counter, struct bk_ticket *out);
/* action: "served", "missed", "recall" or "transfer" (to_counter). */
int bk_ticket_act(struct req *r, int64_t id, const char *action, const char *to_counter, struct bk_ticket *out);
int bk_ticket_get(struct db *db, struct arena *a, int64_t id, struct bk_ticket *out);
/* The ticket if the caller may see it (its person, staff, administrators). */
int bk_ticket_visible(struct req *r, int64_t id, struct bk_ticket *out);
/* The caller's tickets of today, newest first. */
int bk_tickets_mine(struct req *r, struct bk_ticket **out, size_t *n);
/* The tickets waiting ahead of t. */
int bk_ahead(struct db *db, struct arena *a, const struct bk_ticket *t, long *ahead);
json_t *bk_ticket_json(struct req *r, const struct bk_ticket *t);
/* May the caller work this counter (staff with the counter duty whose department has an item
 * the counter serves; administrators)? 0 or GH_EFORBIDDEN with a detail. */
int bk_counter_check(struct req *r, const struct bk_counter *k);
/* The counter's current ticket (called, not closed), if any: 0, or GH_ENOTFOUND. */
int bk_counter_current(struct db *db, struct arena *a, const char *centre, const char *counter, int32_t day,
		       struct bk_ticket *out);
/* Tickets waiting at a centre today (for a counter when not NULL: those it may call). */
int bk_waiting(struct db *db, struct arena *a, const char *centre, const char *counter, int32_t day, long *n);

/* The hall's screen: {centre, called: [{number, name, counter, counter_name, at, current}],
 * waiting, seq}. */
int bk_display_json(struct req *r, struct db *db, const char *centre, json_t **out);
/* Moves the centre's display counter (inside the caller's transaction); bk_display_wake after
 * the commit tells this node's screens at once (others follow within booking-display-poll). */
int bk_display_bump(struct db *db, const char *centre);
void bk_display_wake(void);
/* Takes booking-display-poll from app for every screen (booking_init). */
void bk_display_init(const struct app *app);
/* GET /centres/{code}/display/events: the stream. */
int bk_display_stream(struct req *r);

/* ---- the write path (common.c) ----------------------------------------------------------- */

/* One change of a booking or a ticket, run whole (its checks and its writes, through the
 * functions below with the writer's request w) on the group-commit writer by req_write
 * (http/write.h): the checks see what the batch before wrote, and no loop writes. answer then
 * runs on r's loop with the outcome: rc is the function's result, or kept (an error to answer
 * though what was written stays: a hold found lapsed on confirming is lapsed). */
enum bk_op_kind { BK_OP_CONFIRM, BK_OP_CANCEL, BK_OP_RESCHEDULE, BK_OP_WALKIN, BK_OP_CHECKIN, BK_OP_CALL, BK_OP_TICKET };
struct bk_op {
	enum bk_op_kind kind;
	/* in */
	const char *ref, *centre, *item, *name, *counter, *action;
	int32_t day;
	int start;
	int64_t id;
	const void *ctx; /* the caller's, for answer */
	/* out */
	struct bk_booking b;
	struct bk_ticket t;
	bool fresh;
	int kept;
	int (*answer)(struct req *r, struct bk_op *op, int rc);
};
/* A new operation of kind in r's arena; answer as above. */
struct bk_op *bk_op_new(struct req *r, enum bk_op_kind kind, int (*answer)(struct req *r, struct bk_op *op, int rc));
/* Queues op on the writer (runs it on r's loop when the app has none): REQ_DEFERRED, or what
 * answer returned. */
int bk_op_write(struct req *r, struct bk_op *op);

#endif
