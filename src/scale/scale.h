/* scale.h: `govhall bench-scale` — national-scale data for `make bench-scale`.
 *
 * `bench-scale generate --scale N` writes, into a PostgreSQL database made with `govhall init
 * --demo`, N citizens, N/100 enterprises and N applications over the last --days days (730:
 * two years), with their steps (about five each), as the hall itself would have written them:
 * accounts with their personal data sealed and blind-indexed, application rows and events as
 * case_transition stores them, one transparency-log leaf per logged step and per account
 * (with the tree tiles and ledger_refs rows they make, the head, and a signed checkpoint),
 * statistics rollups (the cases observer's figures; registrations through the accounts
 * trigger), rateable cases, application numbers and deadline warnings of the running
 * applications, so `govhall audit` passes on the result. Rows go in with COPY, one transaction
 * per day; a run that stops resumes at the first day not committed (the parameters are kept in
 * catalog_meta under "bench_scale"). Every generated account shares one password hash of a
 * random password, except the bench accounts (scale_bench_accounts), which log in with
 * SCALE_BENCH_PASSWORD.
 *
 * Not generated: uploaded files (a stored file's bytes would dominate any size figure), inbox
 * and outbox messages, certificates, evaluations, consultations and complaints.
 */
#ifndef GH_SCALE_H
#define GH_SCALE_H
#include "app.h"

struct db;

#define SCALE_BENCH_PASSWORD "Qinghe-bench-2026"

/* `govhall bench-scale generate|accounts ...` (args after the command word), on db with app's
 * keys (identity_init) and calendar (cases_init). Returns the exit status. */
int scale_cli(struct app *app, struct db *db, int nargs, char **args);

/* ---- people.c: generated identities (pure, deterministic from the index) ---------------- */

/* A Chinese personal name (2 or 3 characters) into out (at least 16 bytes). */
void scale_person_name(uint64_t i, char *out, size_t len);
/* A valid resident ID number (GB 11643) unique per i < 10^9, born 1950..2006, into out[19]. */
void scale_id_number(uint64_t i, char out[19]);
/* A valid mobile number: the 3-digit prefix and i (< 10^8) in 8 digits, into out[12]. */
void scale_phone(const char *prefix, uint64_t i, char out[12]);
/* A valid unified social credit code (GB 32100) unique per i < 10^8, into out[19]. */
void scale_uscc(uint64_t i, char out[19]);
/* An enterprise's name into out (at least 64 bytes). */
void scale_company_name(uint64_t i, char *out, size_t len);

#endif
