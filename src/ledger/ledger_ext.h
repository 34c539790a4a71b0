/* ledger_ext.h: functions shared by ledger.c, api.c, cli.c and audit.c. */
#ifndef GH_LEDGER_EXT_H
#define GH_LEDGER_EXT_H
#include "ledger/log_impl.h"

struct ledger_decision {
	int64_t event_id, at, applicant_id, enterprise_id, actor_id;
	const char *number, *item_code, *department, *action, *from_state, *to_state, *reason, *detail;
};
bool ledger_is_decision(const char *action);
char *ledger_decision_leaf(struct arena *a, const char *salt, const struct ledger_decision *d);
ledger_recompute_fn ledger_source_of(const char *kind);
size_t ledger_expects(const char **kinds, ledger_expect_fn *fns, size_t max);
ledger_verify_fn ledger_verifier_of(const char *type);
int ledger_wellknown_extend(struct db *db, struct arena *a, json_t *keys);
/* Logs the catalog item versions and decisions that have no leaf (stored before the log
 * existed), in the caller's transaction. */
int ledger_backfill(struct db *db, struct arena *a, size_t *items, size_t *decisions);
/* Uses k as this process's keys (commands and tests without ledger_init). */
void ledger_use_keys(const struct ledger_keys *k);
json_t *ledger_hashes_json(const unsigned char (*path)[H32], size_t n);
/* Checks a receipt document; GH_EINVAL with the reason in err. */
int ledger_receipt_check(struct arena *a, const json_t *doc, const json_t *keys_doc, char *err, size_t errlen,
			 int64_t *index, int64_t *size);
int ledger_verify_receipt(struct arena *a, const json_t *doc, const json_t *keys_doc, FILE *out);

/* audit.c: writes one line per problem to out; keys (may be NULL) check checkpoint
 * signatures. Returns 0 (problems counted in *problems) or a GH_E code. */
int ledger_audit(struct db *db, const struct ledger_keys *keys, FILE *out, size_t *leaves, size_t *problems);

#endif
