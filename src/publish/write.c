/* write.c: every change of a document — written, edited, moved along the workflow, a file
 * attached — through the one writer (http/write.h), for the pages and the API alike. The
 * handler checks what it can on its loop (the input, who may write); the change runs on the
 * writer with the writer's copy of the request and reads the document there again; the
 * caller's answer runs on the loop after the COMMIT with the document as written. */
#include <string.h>

#include "app.h"
#include "base/err.h"
#include "base/util.h"
#include "cases/attach.h"
#include "http/handler.h"
#include "http/msg.h"
#include "http/multipart.h"
#include "http/server.h"
#include "http/write.h"
#include "publish/publish_impl.h"
#include "store/db.h"

/* A contributor recorded before the change itself lost a race (GH_ECONFLICT) stays recorded:
 * whoever tried to edit or send the document may not approve it. So that outcome is kept in
 * c->rc and the write commits what it did. */
static int kept(struct pub_change *c, int rc)
{
	c->rc = rc;
	return rc == GH_ECONFLICT ? 0 : rc;
}

static int create_write(struct req *w, void *p)
{
	struct pub_change *c = p;
	c->rc = 0;
	int rc = pub_create(w->db, w->arena, &c->in, w->who.account, &c->doc.id);
	return rc ? rc : pub_get(w->db, w->arena, c->doc.id, &c->doc);
}

static int update_write(struct req *w, void *p)
{
	struct pub_change *c = p;
	int rc = kept(c, pub_update(w->db, c->id, c->version, &c->in, w->who.account));
	return rc || c->rc ? rc : pub_get(w->db, w->arena, c->id, &c->doc);
}

static int act_write(struct req *w, void *p)
{
	struct pub_change *c = p;
	struct pub_doc d;
	int rc = pub_get(w->db, w->arena, c->id, &d);
	if (!rc && d.version != c->version)
		rc = GH_ECONFLICT; /* changed since the handler read it */
	if (!rc)
		rc = pub_act(w, &d, c->action, c->note);
	if (!rc)
		c->doc = d;
	return kept(c, rc);
}

static int upload_write(struct req *w, void *p)
{
	struct pub_change *c = p;
	c->rc = 0;
	struct attach_info info;
	int rc = attach_store(w->db, w->arena, c->file->data, c->file->len, (size_t)w->app->cfg.max_upload, &info);
	if (rc == GH_EUNSUPPORTED)
		req_error_detail(w, "%s", en(w) ? ATTACH_TYPES_EN : ATTACH_TYPES_ZH);
	else if (rc == GH_ETOOBIG)
		req_error_detail(w, "%s", M(w, "publish_err_file_big"));
	if (!rc)
		rc = pub_attach_add(w->db, c->id, info.sha256, info.mime, (int64_t)info.size, c->file->filename,
				    w->who.account, &c->attachment);
	if (rc == GH_ETOOBIG && !w->error_detail)
		req_error_detail(w, "%s", M(w, "publish_err_too_many"));
	return rc;
}

static int answered(struct req *r, void *p, int rc)
{
	struct pub_change *c = p;
	return c->answer(r, c, rc ? rc : c->rc);
}

struct pub_change *pub_change_new(struct req *r, int (*answer)(struct req *r, struct pub_change *c, int rc))
{
	struct pub_change *c = arena_zalloc(r->arena, sizeof(*c));
	c->answer = answer;
	return c;
}

int pub_change_create(struct req *r, struct pub_change *c)
{
	return req_write(r, create_write, answered, c);
}

int pub_change_update(struct req *r, struct pub_change *c)
{
	return req_write(r, update_write, answered, c);
}

int pub_change_act(struct req *r, struct pub_change *c)
{
	return req_write(r, act_write, answered, c);
}

int pub_change_upload(struct req *r, const struct pub_doc *d, struct pub_change *c)
{
	if (!pub_can_write(r, d->department))
		return GH_EFORBIDDEN;
	if (strcmp(d->state, "draft") != 0) {
		req_error_detail(r, "%s", M(r, "publish_err_not_draft"));
		return GH_ECONFLICT;
	}
	int rc = req_form_part(r, "file", &c->file);
	if (rc)
		return rc;
	if (!c->file || !c->file->filename || !c->file->len) {
		req_error_detail(r, "%s", M(r, "publish_err_file"));
		return GH_EINVAL;
	}
	c->id = d->id;
	return req_write(r, upload_write, answered, c);
}
