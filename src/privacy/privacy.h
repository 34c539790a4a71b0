/* privacy.h: a person's own data (个人信息权益): what the hall holds about them, read from
 * every domain's personal parts (store/personal.h) and never from their tables directly.
 *
 * - GET /me/data: a readable, printable page of everything, part by part, with what closing
 *   the account would keep and erase and why; links to correct contact data and to the access
 *   log (who saw my data: cases/access.c).
 * - GET /me/data/export.json and GET /api/v1/me/data: the same as JSON (docs/openapi.yaml,
 *   MyData): masks of sealed values as pages show them, never a secret.
 * - GET /me/data/close, POST /me/data/close (CSRF, the password), POST /api/v1/me/close: closes
 *   the caller's own account: every erased part erased and the account disabled for good, in
 *   one write; the answer lists what was erased and what was kept, and why. */
#ifndef GH_PRIVACY_H
#define GH_PRIVACY_H

struct router;

int privacy_add_routes(struct router *rt);

#endif
