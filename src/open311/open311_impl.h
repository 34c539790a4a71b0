/* open311_impl.h: the Open311 module's private interface.
 *
 * - format.c: pure functions (no I/O), fuzzed by tests/fuzz/fuzz_open311.c: the ".json" /
 *   ".xml" suffix of a resource, ISO 8601 times, coordinates, attribute[...] keys, comma
 *   lists, and the writer that turns a jansson value into the spec's JSON or XML.
 * - store.c: the tables open311_keys, open311_applicant, open311_requests; the observer.
 * - api.c: the routes; cli.c: `govhall open311 key ...`.
 */
#ifndef GH_OPEN311_IMPL_H
#define GH_OPEN311_IMPL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/arena.h"
#include "base/sb.h"

struct db;
struct keyring;

enum open311_fmt { OPEN311_JSON = 1, OPEN311_XML = 2 };

/* Limits on what a client controls. */
#define OPEN311_IDS_MAX 100        /* service_request_id values in one GET requests */
#define OPEN311_RESULTS_MAX 1000   /* requests in one GET requests answer */
#define OPEN311_RANGE_DAYS 90      /* default and widest span of start_date..end_date */
#define OPEN311_TEXT_MAX 2000      /* characters of description */
#define OPEN311_FIELD_MAX 200      /* characters of names, address_string, address_id, email, phone */
#define OPEN311_URL_MAX 1000       /* bytes of media_url */
#define OPEN311_POSTS_PER_HOUR 3600 /* requests one api_key may post per hour (then 429) */

/* Splits "name.json" / "name.xml" (a path segment) into name (in a) and format. Returns 0,
 * or GH_EINVAL when the segment has no such suffix or the name is empty. */
int open311_split_format(struct arena *a, const char *seg, const char **name, enum open311_fmt *fmt);

/* Parses an ISO 8601 date-time (the W3C profile the spec names): YYYY-MM-DD, optionally
 * followed by Thh:mm, :ss, a fraction (ignored), and Z or ±hh:mm / ±hhmm. Without a zone the
 * time is China Standard Time. Returns 0 with unix seconds in *out, or GH_EINVAL. */
int open311_parse_time(const char *s, int64_t *out);
/* Writes t as "YYYY-MM-DDThh:mm:ss+08:00" (China Standard Time; 26 bytes with the NUL). */
void open311_format_time(int64_t t, char out[26]);

/* A decimal coordinate in [min, max] (no hex, no inf/nan, at most 32 bytes). 0 or GH_EINVAL. */
int open311_parse_coord(const char *s, double min, double max, double *out);

/* "attribute[CODE]" -> CODE (in a), *multi = false; "attribute[CODE][]" -> CODE, *multi =
 * true. Returns 0, or GH_EINVAL for anything else (including an empty or over-long code). */
int open311_attr_key(struct arena *a, const char *key, const char **code, bool *multi);

/* Splits a comma-separated list (spaces around items dropped, empty items skipped) into at
 * most max items in a. GH_ETOOBIG beyond max, GH_EINVAL when no item is left. */
int open311_split_list(struct arena *a, const char *s, size_t max, const char ***items, size_t *n);

/* Appends text as XML character data: & < > " ' escaped; bytes that are not valid UTF-8 and
 * characters XML 1.0 forbids (C0 controls but tab, LF and CR; U+FFFE, U+FFFF) become U+FFFD,
 * so the output is always well-formed. */
void open311_xml_text(struct sb *sb, const char *s, size_t n);

/* Appends v as an XML element named name: objects give one child per member (in insertion
 * order), arrays one child per item named after the array (services -> service,
 * service_requests -> request, attributes -> attribute, values -> value, endpoints ->
 * endpoint, formats -> format, errors -> error, keywords -> keyword, anything else -> item),
 * strings their escaped text, numbers their decimal form, true/false their word, null an
 * empty element. Member names that are not XML names are skipped. Depth is capped at 16. */
void open311_xml(struct sb *sb, const char *name, json_t *v);

/* The whole document: the XML declaration and open311_xml(root, v), or v as compact JSON. */
void open311_render(struct sb *sb, enum open311_fmt fmt, const char *root, json_t *v);

/* ---- store.c ------------------------------------------------------------------------ */

/* A key's row by the keyed hash of the key. GH_ENOTFOUND for no key or a revoked one. Reads
 * only: *stale says its last use is due to be written (open311_key_touch, along with the
 * request: req_write_also with the key's id). */
int open311_key_check(struct db *db, struct arena *a, const struct keyring *k, const char *key, int64_t *key_id,
		      bool *stale);
/* Sets the last use of the key whose id (int64_t) key_id points to, to now. */
int open311_key_touch(struct db *db, void *key_id);
/* The applicant account Open311 requests are filed for; GH_ENOTFOUND when no key was ever
 * added (`govhall open311 key add` creates it). */
int open311_applicant(struct db *db, struct arena *a, int64_t *account);

struct open311_request {
	const char *number, *token, *service_code, *department;
	const char *lat, *lon;          /* decimal text or NULL */
	const char *address_string, *address_id, *description, *media_url;
	const char *state, *status_notes;
	const char *merged_into;        /* the primary's number once staff merged it (state "merged") */
	bool closed;
	int32_t expected_day;           /* 0: not accepted yet */
	int64_t requested_at, updated_at;
};

struct open311_new {
	int64_t key_id, application_id;
	const char *number, *service_code, *department, *state;
	const char *lat, *lon, *address_string, *address_id, *description, *media_url;
	const unsigned char *contact_enc;
	size_t contact_len;
	int64_t now;
};
/* Records a posted request; *token (in a) gets its new token. */
int open311_request_add(struct db *db, struct arena *a, const struct open311_new *in, const char **token);
int open311_request_get(struct db *db, struct arena *a, const char *number, struct open311_request *out);
/* The number of the request a token names; GH_ENOTFOUND when none. */
int open311_token_get(struct db *db, struct arena *a, const char *token, const char **number);

struct open311_query {
	int64_t from, to;              /* requested_at in [from, to] */
	const char *service_code;      /* NULL = any */
	int closed;                    /* -1 any, 0 open, 1 closed */
	long limit;
};
int open311_request_list(struct db *db, struct arena *a, const struct open311_query *q, struct open311_request **out,
			 size_t *n);

struct open311_message;
/* Duplicate requests: number merged into into (both exist; the caller checked who and what)
 * by account by, in one transaction: the open311_merges row, and the request closed with
 * state "merged" (its application's later steps no longer change it); its followers follow
 * into and are told told. GH_ECONFLICT when it was closed meanwhile. */
int open311_request_merge(struct db *db, struct arena *a, const char *number, const char *into, int64_t by, int64_t now,
			  const struct open311_message *told);
/* What the followers of a merged duplicate are told (both languages). */
struct open311_message {
	const char *title_zh, *title_en, *body_zh, *body_en;
};
/* "This is my problem too" (extension): account (for enterprise, 0: none) follows request
 * number (the caller checked it exists and is open), in a covered report_followers row;
 * following twice is following. Followers are told of each later change of the request, as
 * its reporter would be (open311_observe), and of its merge; they follow the primary then. */
int open311_request_follow(struct db *db, struct arena *a, const char *number, int64_t account, int64_t enterprise,
			   int64_t now);
bool open311_following(struct db *db, struct arena *a, const char *number, int64_t account);
/* What followers are told of change c of a request they follow (api.c: the words). */
struct case_change;
const struct open311_message *open311_followed_news(struct arena *a, const struct case_change *c);
struct req;
/* Registers the application page's link to /staff/open311/{number} (admin.c). */
void open311_annotate_init(void);
/* The request as GET requests answers it (JSON object, the caller's language). */
json_t *open311_request_public(struct req *r, const struct open311_request *q);
/* The open requests of q's service that may be the same problem as q (within
 * OPEN311_RADIUS_DEFAULT of it when it has a location, description alike; q itself left out),
 * most alike first, at most OPEN311_SIMILAR_MAX, each as GET requests answers it. */
int open311_alike(struct req *r, const struct open311_request *q, json_t **out);
/* Limits of the duplicate look-up (GET requests with lat, long, radius, description). */
#define OPEN311_RADIUS_DEFAULT 200   /* metres */
#define OPEN311_RADIUS_MAX 2000      /* metres */
#define OPEN311_SIMILAR_MAX 10       /* requests answered when a description is given */

/* Keys for the command line. */
struct open311_key {
	int64_t id, created_at, last_used, revoked_at;
	const char *name, *hint;
};
int open311_key_add(struct db *db, struct arena *a, const char *name, const char *hash, const char *hint, int64_t now,
		    int64_t *id);
int open311_key_list(struct db *db, struct arena *a, struct open311_key **out, size_t *n);
/* GH_ENOTFOUND when there is no such key or it was revoked already. */
int open311_key_revoke(struct db *db, int64_t id, int64_t now);
/* Creates the applicant account (in one transaction) unless it exists. */
int open311_applicant_ensure(struct db *db, struct arena *a, int64_t now, int64_t *account);

/* admin.c: the keys page and API. */
struct router;
int open311_add_admin_routes(struct router *rt);

/* The cases observer (registered by open311_init). */
struct case_change;
int open311_observe(struct db *db, struct arena *a, const struct case_change *c);

#endif
