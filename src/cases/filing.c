/* filing.c: applications filed for another hall (跨省通办, cases.h: cases_file_prepare_for),
 * and the bytes of a caller's attachment that go with a forwarded one. */
#include <string.h>

#include "base/err.h"
#include "cases/attach.h"
#include "cases/cases_impl.h"
#include "http/server.h"
#include "store/blob.h"
#include "store/db.h"

int cases_file_prepare_for(struct req *r, const struct cases_filing *in, struct case_apply_prep **f, json_t **errors)
{
	*errors = NULL;
	struct case_upload *ups = arena_array(r->arena, in->nups ? in->nups : 1, sizeof(*ups));
	json_t *mats = json_array();
	arena_cleanup(r->arena, (void (*)(void *))json_decref, mats);
	for (size_t k = 0; k < in->nups; k++) {
		const struct cases_file_upload *u = &in->ups[k];
		int rc = attach_check(r->arena, u->data, u->len, (size_t)r->app->cfg.max_upload, &ups[k].info);
		if (rc)
			return rc; /* GH_ETOOBIG, GH_EUNSUPPORTED */
		ups[k].slot = u->slot;
		ups[k].filename = u->filename;
		ups[k].data = u->data;
		json_t *slot = NULL, *e;
		size_t i;
		json_array_foreach(mats, i, e)
			if (json_integer_value(json_object_get(e, "slot")) == u->slot)
				slot = e;
		if (!slot) {
			slot = json_pack("{s:I,s:[]}", "slot", (json_int_t)u->slot, "attachments");
			json_array_append_new(mats, slot);
		}
		json_array_append_new(json_object_get(slot, "attachments"), json_integer(cases_upload_ref(k)));
	}
	struct case_apply_in ai = { .item_code = in->item_code, .input = cases_form_values(r, in->form), .materials = mats,
				    .submit = true, .channel = in->channel, .ups = ups, .nups = in->nups };
	return case_apply_prepare(r, &ai, f, errors);
}

struct sink {
	struct arena *a;
	char *buf;
	size_t len, cap;
};

static int sink_put(void *ctx, const void *p, size_t n)
{
	struct sink *s = ctx;
	if (s->len + n > s->cap)
		return GH_ETOOBIG;
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	return 0;
}

static int bytes_of(struct db *db, struct arena *a, const struct attachment *at, const void **data, size_t *len)
{
	struct sink s = { .a = a, .cap = (size_t)(at->size > 0 ? at->size : 0) };
	s.buf = arena_alloc(a, s.cap + 1);
	int rc = blob_read(db, at->sha256, sink_put, &s);
	*data = s.buf;
	*len = s.len;
	return rc;
}

int cases_attachment_bytes(struct req *r, int64_t id, const char **filename, const char **sha256, const void **data,
			   size_t *len)
{
	struct attachment at;
	if (attachment_get(r->db, r->arena, id, &at) || !case_attachment_mine(r, &at) || at.application_id)
		return GH_ENOTFOUND;
	int rc = bytes_of(r->db, r->arena, &at, data, len);
	if (rc)
		return rc;
	*filename = at.filename;
	*sha256 = at.sha256;
	return 0;
}

int cases_application_files(struct db *db, struct arena *a, int64_t id, size_t max, size_t max_bytes,
			    struct cases_file_copy **out, size_t *n)
{
	struct attachment *at;
	size_t na, total = 0;
	*n = 0;
	int rc = attachments_of(db, a, id, &at, &na);
	if (rc)
		return rc;
	*out = arena_array(a, na + 1, sizeof(**out));
	for (size_t i = 0; i < na && *n < max; i++) {
		if (at[i].size < 0 || total + (size_t)at[i].size > max_bytes)
			continue;
		struct cases_file_copy *c = &(*out)[*n];
		if ((rc = bytes_of(db, a, &at[i], &c->data, &c->len)))
			return rc;
		total += c->len;
		c->slot = at[i].slot;
		c->filename = at[i].filename;
		c->sha256 = at[i].sha256;
		(*n)++;
	}
	return 0;
}
