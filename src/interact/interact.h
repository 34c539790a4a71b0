/* interact.h: evaluations (好差评) with the rectification of bad reviews and appeals,
 * consultations (咨询) with the items' FAQ, and complaints and suggestions (投诉建议) — the
 * public interface for main.c and other domains.
 *
 * Invariants:
 * - A case (an application in a decided terminal state, an answered consultation or complaint)
 *   is rated once, by the person served: UNIQUE (subject_kind, subject_id) in `evaluations`.
 * - Every state change of an evaluation, rectification, appeal, consultation or complaint is an
 *   `interact_events` row written in the same transaction as the change, and is committed to
 *   the transparency log with it (the event and its subject are covered rows).
 * - A bad review (level 2 不满意 or 1 非常不满意) opens exactly one rectification task for the
 *   department that handled the case, in the rating's transaction.
 * - The FAQ shows only the staff's public version of an answer the asker consented to publish:
 *   never the asker, the original question or the original answer.
 */
#ifndef GH_INTERACT_H
#define GH_INTERACT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "app.h"

struct router;
struct db;
struct arena;

/* Registers the cases observer that records applications as rateable when they end and the
 * FAQ section of the catalog's guide pages (call at start, before any transition: serve calls
 * it). Returns 0. */
int interact_init(struct app *app, char *err, size_t errlen);
/* Declares the tables this module covers with the transparency log (store/cover.h): call at
 * start of every command. */
void interact_register(void);
/* Declares the personal parts of interact (store/personal.h): evaluations, consultations and complaints (kept). Call at start. */
void interact_personal_declare(void);

/* The pages and the JSON API (see docs/api.md). */
int interact_add_routes(struct router *rt);

/* The published FAQ of an item (answers to public consultations), newest first, at most max
 * entries: a JSON array of {question, answer, answered} owned by the caller, or NULL on a
 * database error. For the catalog's guide page (its section, registered by interact_init;
 * templates/interact/faq.mustache) and the API. Publishing
 * an entry bumps catalog_generation, so cached guide pages refresh. Allocates in a. */
json_t *interact_item_faq(struct db *db, struct arena *a, const char *item_code, const char *lang, int max);

/* One pass of the duties on db for day `today` (China Standard Time day number): invitations
 * to rate cases ended evaluate-invite-days ago and still unrated (once per case), overdue
 * warnings of rectification tasks to department heads (once per task) and of consultations to
 * the department's staff (once per consultation), escalation of overdue
 * complaints to the department heads and then to administrators (once per level). On
 * PostgreSQL only when this connection wins the duties' advisory lock. *sent (may be NULL)
 * gets the number of inbox messages written. Returns 0 or a database error. */
int interact_duties_run(struct app *app, struct db *db, int32_t today, int *sent);

/* Starts / stops the duties thread (serve): a pass at start and every 60 s. GH_E code with a
 * message in err. */
int interact_start(struct app *app, char *err, size_t errlen);
void interact_stop(void);

/* `govhall interact-duties [YYYY-MM-DD]`: one pass of the duties for that day (default
 * today), for operators and tests. Returns the process exit code. */
int interact_cli_duties(struct app *app, int argc, char **argv);

/* ---- The demo hall's history (`govhall init --demo`, src/demo) ----------------------------
 * r is a request of a command (http/server.h: server_offline_worker, with a direct group): the
 * write is done when these return, with the codes and details the API answers with. */
struct req;
/* Rates application number as r's caller (its applicant): level 1..5, one tag (NULL: none; a
 * bad review needs one of its group), a comment. *evaluation_id gets the evaluation. */
int interact_demo_rate(struct req *r, const char *number, int level, const char *tag, const char *comment,
		       int64_t *evaluation_id);
/* One step of a bad review's rectification: "visit" (by phone), "rectify", "feedback" (notes)
 * as staff of the department, "rate" (level 1..3) as the rater. */
int interact_demo_rect_step(struct req *r, int64_t evaluation_id, const char *step, const char *notes, int level);
/* A consultation (a public one) or a complaint about item_code, as r's caller; *id gets it. */
int interact_demo_ask(struct req *r, bool complaint, const char *item_code, const char *subject, const char *text,
		      int64_t *id);
/* Its answer by staff of the department; a consultation's with pub_q is published as a FAQ
 * entry (question pub_q, answer text). */
int interact_demo_answer(struct req *r, bool complaint, int64_t id, const char *text, const char *pub_q);

#endif
