/* fedwallet.h: the wallet across halls (docs/federation.md, "Certificates across halls").
 *
 * At the hall where the person is (A): with their consent (recorded, revocable:
 * wallet_fed_consents), A asks the hub for the person's certificates at other halls, naming
 * the person by the national subject its link to the hub gives (fed_links, never a name or a
 * number); the hub asks each hall at which that subject logged in; each hall (B) answers with
 * the certificates it issued to the local account linked to that subject, as issued, in a
 * document signed by its message key. A checks each document (B's key in the directory, for A,
 * for that subject) and each certificate (its signature and log proof under B's keys from the
 * directory) and keeps the copies (sealed) for the wallet, marked with the issuing hall.
 * Without consent nothing is asked; revoking it deletes the copies.
 *
 * A copy replaces an upload in an application at A (cases' e-certificate source): A asks B,
 * by a signed request, whether it still stands and is the applicant's (B's signed answer);
 * revoked, unknown or another person's is refused with the reason, and B out of reach is
 * refused with "cannot check now", never taken unchecked.
 *
 * Invariants: the federation domain knows nothing of this one; a hall answers only the hub's
 * signed requests and only for a subject linked to one of its accounts. */
#ifndef GH_FEDWALLET_H
#define GH_FEDWALLET_H
#include "app.h"

struct router;

/* Installs the e-certificate source for materials; call once at start, before serving. */
void fedwallet_init(struct app *app);
int fedwallet_add_routes(struct router *rt);
/* The table this module covers with the transparency log (store/cover.h): the consents. */
void fedwallet_register(void);
/* The person's consent and copies, for the my-data pages (store/personal.h). */
void fedwallet_personal_declare(void);

#endif
