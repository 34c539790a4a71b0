/* pay.h: fees and payment (缴费) — the public interface for main.c and other domains.
 *
 * An item's fee is catalog data (the item record's "fee" member: fixed, per unit of a form
 * field, or by the option chosen, with exemptions by rule; docs/payments.md). When an
 * application reaches the item's payment point (submitted: before acceptance; approved: after
 * approval), the fee is assessed once (pay_fees) and, when something is due, the hall requests
 * payment (the workflow's request_payment: 待缴费) and makes an order. The citizen pays it
 * through the payment gateway (an interface with one built-in implementation, the simulator
 * `govhall paysim`); the hall believes a payment only from the gateway's signed notification or
 * its answer to a query, never from the browser coming back, and then moves the application on
 * (payment_received), issues a signed electronic receipt and counts the revenue.
 *
 * Invariants:
 * - Money is integers of fen everywhere.
 * - Every change of an order, a refund, a fee, a receipt or a reconciliation task is a covered
 *   row of the transparency log (store/cover.h), written in one transaction with what caused it.
 * - The hall's calls to the gateway never run on an event loop: those a request makes go
 *   through the job pool, those of the background duty run on its own thread; all have
 *   timeouts (pay-gateway-timeout).
 * - Refunds never exceed what was paid, however many are asked for at once: each reserves its
 *   amount with one conditional write before the gateway is called.
 */
#ifndef GH_PAY_H
#define GH_PAY_H
#include <stdio.h>

#include "app.h"

struct router;
struct db;

/* Registers what the module does in every command: the workflow follower (a fee falling due)
 * and observer (an order made), the kiosk's list of the citizen's fees due (booking), the staff queue's fee column, the verify handler for receipts ("govhall.payreceipt/v1"), and
 * what it covers with the log. Call once at start (not thread-safe), before any transition. */
void pay_register(void);
/* Declares the covered tables alone (store/cover.h), for tools and tests without the rest. */
void pay_cover_declare(void);
/* Declares the personal parts of pay (store/personal.h): payment orders and receipts (kept). Call at start. */
void pay_personal_declare(void);
/* Reads the gateway settings of app's configuration (pay-*): GH_EINVAL with a message in err
 * when they are inconsistent. Without pay-gateway-url nothing is collected online: fees stay
 * on the guide, to be paid at the counter, and no application waits for a payment. */
int pay_init(struct app *app, char *err, size_t errlen);
/* Starts / stops the payment duty (a thread of its own with its own connection: it waits on the
 * gateway): pending orders queried, expired ones closed, refunds retried, the day's settlement
 * reconciled. Nothing runs without a gateway. */
int pay_start(struct app *app, char *err, size_t errlen);
void pay_stop(void);
int pay_add_routes(struct router *rt);

/* `govhall pay duties [--at UNIX]` (one pass of the duty as at a moment) and `govhall pay
 * reconcile YYYY-MM-DD` (reconcile one day now). argv after "pay". Returns the exit status. */
int pay_cli(struct app *app, struct db *db, int argc, char **argv);
void pay_cli_usage(FILE *f);

/* `govhall paysim ...` (argv after "paysim"): the gateway simulator, until SIGTERM. */
struct config;
int pay_sim_cli(const struct config *cfg, int argc, char **argv);
void pay_sim_usage(FILE *f);

/* `govhall verify FILE.pdf`: a receipt's PDF, verified from the document it embeds. 1 when FILE
 * is not such a PDF (the caller tries the others), otherwise 0 with *status the exit status. */
int pay_verify_pdf_cli(const struct config *cfg, int nargs, char **args, int *status);

#endif
