/* demo.c: rating, putting a bad review right, asking and complaining as people do, for the
 * demo hall's history (`govhall init --demo`, src/demo): through ia_rate, ia_rect_step,
 * ia_consult_* and ia_complaint_* as the pages and the API call them. */
#include <string.h>

#include "base/err.h"
#include "http/http.h"
#include "interact/interact.h"
#include "interact/interact_impl.h"

static int got_id(struct req *r, int rc, int64_t id, const void *ctx)
{
	(void)r;
	int64_t *out = (int64_t *)ctx;
	if (!rc && out)
		*out = id;
	return rc;
}

int interact_demo_rate(struct req *r, const char *number, int level, const char *tag, const char *comment,
		       int64_t *evaluation_id)
{
	struct ia_rating in = { .level = level, .comment = comment ? comment : "" };
	const char *why = NULL;
	if (tag && ia_rating_add_tag(&in, tag, &why))
		return GH_EVALIDATION;
	if (ia_rating_check(&in, &why)) {
		req_error_detail(r, "%s", why ? why : "rating");
		return GH_EVALIDATION;
	}
	return ia_rate(r, "application", number, &in, got_id, evaluation_id);
}

int interact_demo_rect_step(struct req *r, int64_t evaluation_id, const char *step, const char *notes, int level)
{
	return ia_rect_step(r, evaluation_id, step, !strcmp(step, "visit") ? "phone" : NULL, notes, 0, level, got_id,
			    NULL);
}

int interact_demo_ask(struct req *r, bool complaint, const char *item_code, const char *subject, const char *text,
		      int64_t *id)
{
	struct ia_thread_in in = { .kind = complaint ? "complaint" : NULL, .item_code = item_code, .subject = subject,
				   .text = text, .consent_public = !complaint, .channel = "web" };
	return complaint ? ia_complaint_create(r, &in, got_id, id) : ia_consult_create(r, &in, got_id, id);
}

int interact_demo_answer(struct req *r, bool complaint, int64_t id, const char *text, const char *pub_q)
{
	if (complaint)
		return ia_complaint_answer(r, id, text, got_id, NULL);
	return ia_consult_answer(r, id, text, pub_q != NULL, pub_q, pub_q ? text : NULL, got_id, NULL);
}
