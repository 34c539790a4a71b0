/* publish_impl.h: what the files of src/publish share. */
#ifndef GH_PUBLISH_IMPL_H
#define GH_PUBLISH_IMPL_H
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "http/http.h"
#include "publish/publish.h"

struct db;

#define PUB_MAX_TITLE 200 /* characters */
#define PUB_MAX_NOTE 1000 /* characters */

struct pub_doc {
	int64_t id, author_id, approver_id, created_at, updated_at, published_at, withdrawn_at, version;
	const char *category, *department, *title_zh, *title_en, *body_zh, *body_en, *state, *note;
	const char *dept_name_zh, *dept_name_en, *author_name;
};

struct pub_attachment {
	int64_t id, document_id, size, created_at;
	const char *sha256, *mime, *filename;
};

/* What a writer gives; validated by pub_validate. */
struct pub_input {
	const char *category, *department, *title_zh, *title_en, *body_zh, *body_en;
};

extern const char *const pub_categories[];
extern const size_t pub_categories_n;
bool pub_category_ok(const char *c);

/* Checks in (trims nothing; NULL optional fields become ""). Returns 0, or GH_EVALIDATION
 * with *errors = {field: message key}. */
int pub_validate(struct db *db, struct arena *a, struct pub_input *in, json_t **errors);

int pub_create(struct db *db, struct arena *a, const struct pub_input *in, int64_t author, int64_t *id);
/* Only a draft at version `version`: GH_ECONFLICT otherwise. editor is recorded among the
 * document's contributors. */
int pub_update(struct db *db, int64_t id, int64_t version, const struct pub_input *in, int64_t editor);
/* Contributors: the author and whoever edited the document, added a file or sent it for
 * review. None of them may approve it (pub_act). pub_contributed answers true also when the
 * database cannot say (and returns its error). */
int pub_contributor_add(struct db *db, int64_t doc, int64_t account);
int pub_contributed(struct db *db, int64_t doc, int64_t account, bool *out);
int pub_get(struct db *db, struct arena *a, int64_t id, struct pub_doc *out);
/* from -> to at version; note stored (may be ""). GH_ECONFLICT when the state or version moved. */
int pub_move(struct db *db, int64_t id, int64_t version, const char *from, const char *to, int64_t actor,
	     const char *note);

struct pub_filter {
	const char *category, *department, *state; /* NULL = any */
	bool public_only;                           /* published documents, newest first */
};
int pub_list(struct db *db, struct arena *a, const struct pub_filter *f, long page, long per_page,
	     struct pub_doc **out, size_t *n, long *total);

int pub_attach_add(struct db *db, int64_t doc, const char *sha256, const char *mime, int64_t size,
		   const char *filename, int64_t uploader, int64_t *id);
int pub_attachments(struct db *db, struct arena *a, int64_t doc, struct pub_attachment **out, size_t *n);
int pub_attachment_get(struct db *db, struct arena *a, int64_t doc, int64_t id, struct pub_attachment *out);
#define PUB_MAX_ATTACHMENTS 20

/* Who may do what (see publish.h). */
bool pub_can_write(const struct req *r, const char *department);
bool pub_can_approve(const struct req *r, const char *department);
/* Published documents: everyone; others: the department's staff and administrators. */
bool pub_can_see(const struct req *r, const struct pub_doc *d);

/* An action of the workflow. */
struct pub_action {
	const char *code, *from, *to;
	bool head;       /* the head (or an administrator) only; else writers */
	bool need_note;
};
const struct pub_action *pub_action(const char *code);
/* Takes action on d for r (checks who, state and note). */
int pub_act(struct req *r, struct pub_doc *d, const char *action, const char *note);

/* The title and body in lang (en falls back to zh); *doc_lang the language they are in. */
const char *pub_title(const struct pub_doc *d, const char *lang, const char **doc_lang);
const char *pub_body(const struct pub_doc *d, const char *lang, const char **doc_lang);

/* ---- the changes (write.c): each runs on the one writer (http/write.h) ---- */
struct multipart_part;
struct pub_change {
	int64_t id;                             /* the document (update, act, upload) */
	struct pub_input in;                    /* create, update: validated by the handler */
	int64_t version;                        /* update, act: the version the change applies to */
	const char *action, *note;              /* act */
	const struct multipart_part *file;      /* upload */
	struct pub_doc doc;                     /* out: the document as written */
	int64_t attachment;                     /* out: upload's new attachment */
	int rc;                                 /* out: the change's outcome when part of it was kept */
	int (*answer)(struct req *r, struct pub_change *c, int rc); /* on the loop after the COMMIT */
};
/* A change in r's arena that answer(r, c, rc) completes. */
struct pub_change *pub_change_new(struct req *r, int (*answer)(struct req *r, struct pub_change *c, int rc));
/* Each returns REQ_DEFERRED, or a GH_E code (then answer is not called). create: c->in as
 * the author; update: c->in into draft c->id at c->version (the editor becomes a
 * contributor even when the draft moved on: GH_ECONFLICT); act: c->action with c->note on
 * document c->id at c->version (pub_act's checks, on the writer); upload: the multipart part
 * "file" of r, attached to draft d (who may write and the form are checked here, first). */
int pub_change_create(struct req *r, struct pub_change *c);
int pub_change_update(struct req *r, struct pub_change *c);
int pub_change_act(struct req *r, struct pub_change *c);
int pub_change_upload(struct req *r, const struct pub_doc *d, struct pub_change *c);

/* The document of the route if r may see it (GH_ENOTFOUND otherwise, or for a malformed id:
 * unpublished documents are not revealed); a list's filters from the query (GH_EINVAL with a
 * detail). For the pages and the API. */
int pub_load(struct req *r, struct pub_doc *d);
int pub_read_filter(struct req *r, struct pub_filter *f, long *page, long *per);
/* A page of a list: the filters and page the query gives (pub_read_filter; a page set in p
 * before, per != 0, is kept), staff limited to their own department unless f->public_only,
 * read with pub_list. */
struct pub_page {
	long page, per, total;
	struct pub_doc *v;
	size_t n;
};
int pub_list_read(struct req *r, struct pub_filter *f, struct pub_page *p);

/* JSON of a document (body as Markdown and as HTML when full). */
json_t *pub_doc_json(struct req *r, const struct pub_doc *d, bool full);

extern const struct route publish_page_routes[];
extern const size_t publish_page_routes_n;
extern const struct route publish_api_routes[];
extern const size_t publish_api_routes_n;

#endif
