/* publish.h: published information (信息公开) — announcements and policy documents written by
 * department staff in Markdown, reviewed by the department head, published, withdrawn; list
 * and detail pages, an Atom feed, the JSON API.
 *
 * Invariants:
 * - Markdown is rendered by cmark in safe mode: raw HTML is replaced by a comment and links
 *   or images with javascript:, vbscript:, file: or (non-image) data: URLs are dropped. The
 *   rendered HTML is the only unescaped text any publish template prints.
 * - States: draft -> review -> published -> withdrawn, and review -> draft (sent back). Only
 *   drafts are edited. Every change is guarded by the row's version (409 on a race).
 * - Who: staff with the reviewer or head duty write their own department's documents and
 *   send them for review; the department head (or an administrator) publishes, sends back or
 *   withdraws. Anyone reads what is published.
 */
#ifndef GH_PUBLISH_H
#define GH_PUBLISH_H
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"

struct router;

int publish_add_routes(struct router *rt);
/* Declares the tables this module covers with the transparency log (store/cover.h): call at
 * start of every command. */
void publish_register(void);

/* Largest Markdown body accepted, in bytes. */
#define PUBLISH_MAX_BODY (200 * 1024)

/* Renders Markdown text[0..len) to safe HTML in a (NUL-terminated). Text longer than
 * PUBLISH_MAX_BODY or not valid UTF-8 gives GH_EINVAL. */
int publish_markdown_html(struct arena *a, const char *text, size_t len, char **html);

/* ---- The demo hall's history (`govhall init --demo`, src/demo) ----------------------------
 * r is a request of a command (http/server.h: server_offline_worker, with a direct group): the
 * write is done when these return, with the codes the API answers with. */
struct req;
/* A draft of r's caller (staff who may write for their department): *id, *version. */
int publish_demo_write(struct req *r, const char *category, const char *title_zh, const char *title_en,
		       const char *body_zh, const char *body_en, int64_t *id, int64_t *version);
/* A workflow action ("submit", "approve", ...) on document id at version as r's caller;
 * *new_version (may be NULL) the version after. */
int publish_demo_act(struct req *r, int64_t id, int64_t version, const char *action, int64_t *new_version);

#endif
