/* demo.c: a document written by a department's clerk and published by its head, as the
 * pages and the API do it (pub_validate, then pub_change_create and pub_change_act through
 * the one writer), for the demo hall's history (`govhall init --demo`, src/demo). */
#include <string.h>

#include "base/err.h"
#include "http/http.h"
#include "publish/publish.h"
#include "publish/publish_impl.h"

static int written(struct req *r, struct pub_change *c, int rc)
{
	(void)r, (void)c;
	return rc;
}

int publish_demo_write(struct req *r, const char *category, const char *title_zh, const char *title_en,
		       const char *body_zh, const char *body_en, int64_t *id, int64_t *version)
{
	struct pub_input in = { .category = category, .department = r->who.department, .title_zh = title_zh,
				.title_en = title_en, .body_zh = body_zh, .body_en = body_en };
	json_t *errors = NULL;
	int rc = pub_validate(r->db, r->arena, &in, &errors);
	json_decref(errors);
	if (rc)
		return rc;
	if (!pub_can_write(r, in.department))
		return GH_EFORBIDDEN;
	struct pub_change *c = pub_change_new(r, written);
	c->in = in;
	if ((rc = pub_change_create(r, c)))
		return rc;
	*id = c->doc.id;
	*version = c->doc.version;
	return 0;
}

int publish_demo_act(struct req *r, int64_t id, int64_t version, const char *action, int64_t *new_version)
{
	struct pub_doc d;
	int rc = pub_get(r->db, r->arena, id, &d);
	if (rc)
		return rc;
	const struct pub_action *a = pub_action(action);
	if (!a)
		return GH_EINVAL;
	if (!(a->head ? pub_can_approve(r, d.department) : pub_can_write(r, d.department)))
		return GH_EFORBIDDEN;
	struct pub_change *c = pub_change_new(r, written);
	c->id = id;
	c->version = version;
	c->action = action;
	c->note = "";
	if ((rc = pub_change_act(r, c)))
		return rc;
	if (new_version)
		*new_version = c->doc.version;
	return 0;
}
