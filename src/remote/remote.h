/* remote.h: 跨省通办 — applying at one hall for an item of another (docs/federation.md).
 *
 * At the hall where the person applies (A): POST /api/v1/federation/applications records the
 * application as forwarded (fed_forwarded, with the person's explicit consent to send the form
 * and the files to the other hall) and queues it, form and files (bytes with their SHA-256),
 * in the same write, as a message of kind "application.forward" to the hall that owns the item
 * (B) through the federation's outbox. A citizen files it online (全程网办); a counter clerk files
 * it for a person whose identity they checked, with the way the result is returned (异地代收代办).
 *
 * At B, the kind "application.forward" checks the files against their hashes, files a real
 * application of B (its catalog, its form rules, its workflow and working-day deadlines) for
 * the local account of the person (found by ID number or made), in the inbox's write; B's staff
 * work it as any other. Every state change of it (a cases observer, in the transition's
 * transaction) queues a message of kind "application.state" back to A, in order per
 * application; A's kind "application.state" records it on the forwarded application, its
 * timeline and the person's notifications. A refusal at B (the form or a file does not pass
 * B's rules) comes back the same way, as the state "not_filed" with B's reason.
 *
 * Invariants: the federation domain knows nothing of this one (it registers kinds into
 * federation.h's table); every effect commits with the message that causes it; a state message
 * is taken only from the hall the application was forwarded to. */
#ifndef GH_REMOTE_H
#define GH_REMOTE_H
#include "app.h"

struct router;

/* Registers the message kinds and the cases observer; call once at start, before serving. */
void remote_init(struct app *app);
int remote_add_routes(struct router *rt);
/* The tables this module covers with the transparency log (store/cover.h). */
void remote_register(void);
/* The person's forwarded applications, for the my-data pages (store/personal.h). */
void remote_personal_declare(void);

#endif
