/* remote_impl.h: what remote.c and joint.c (多地联办) share inside src/remote. */
#ifndef GH_REMOTE_IMPL_H
#define GH_REMOTE_IMPL_H
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct app;
struct arena;
struct db;
struct db_rows;
struct req;
struct router;

#define FILES_MAX 10             /* files forwarded with one application */
#define FILES_BYTES (640 * 1024) /* their bytes together: the message (base64) stays under 1 MiB */

/* A forwarding as it is recorded: the message body msg (its "number" is set here). */
struct remote_forward {
	const char *dest, *item_code, *channel, *delivery;
	int64_t applicant_id, filed_by; /* filed_by 0: none */
	int64_t consent_at, now;
	json_t *msg;
};
/* Records a forwarding at this hall (fed_forwarded with its event 0) and queues its message
 * "application.forward" to f->dest, in db's open transaction or one of its own: the one way an
 * application leaves this hall. *number (in a) and *id name the record. */
int remote_forward_record(struct db *db, struct arena *a, const struct remote_forward *f, const char **number,
			  int64_t *id);
/* One file of a forwarding's message: {slot, filename, sha256, data (base64)}; a new reference. */
json_t *remote_file_json(struct arena *a, int slot, const char *filename, const char *sha256, const void *data, size_t len);
bool remote_word_ok(const char *s, size_t max);
const char *remote_state_label(const struct req *r, const char *state);
/* A forwarded application's row of q_fwd_get's columns, and its timeline's rows, as JSON. */
json_t *remote_fwd_json(struct req *r, const struct db_rows *rows, size_t i);
json_t *remote_events_json(struct req *r, const struct db_rows *ev);
/* The forwarded application id as the API shows it (with "events"), for callers that checked
 * who may see it; GH_ENOTFOUND when there is none. */
int remote_forwarded_get(struct req *r, int64_t id, json_t **out);

/* ---- joint.c: 多地联办 --------------------------------------------------------------------- */
void remote_joint_register(void);
void remote_joint_init(struct app *app);
/* At A, a step of an application (remote.c's cases observer calls it): joint_forward sends it
 * to its second hall, in the step's transaction. */
struct case_change;
int remote_joint_transition(struct db *db, struct arena *a, const struct case_change *c);
int remote_joint_add_routes(struct router *rt);
/* At B: NULL when a message's "prior" (the first step's decision) is well formed and names
 * the sending hall from, else why. */
const char *remote_joint_prior_check(const json_t *prior, const char *from);
/* At B: records the first step's decision with application id, received from hall origin. */
int remote_joint_prior_record(struct db *db, struct arena *a, int64_t id, const char *origin, const json_t *prior);
/* At A: the state the second step of forwarded application forwarded_id reached at the other
 * hall; its end (approved or refused there) is the application's, in w's write. */
int remote_joint_state(struct req *w, int64_t forwarded_id, const char *state, const char *reason);

#endif
