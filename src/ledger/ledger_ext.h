/* ledger_ext.h: functions shared by ledger.c, api.c, cli.c and audit.c. */
#ifndef GH_LEDGER_EXT_H
#define GH_LEDGER_EXT_H
#include "ledger/log_impl.h"

/* struct ledger_decision: ledger.h */
bool ledger_is_decision(const char *action);
char *ledger_decision_leaf(struct arena *a, const char *salt, const struct ledger_decision *d);
/* The same leaf with its rows (format 2) written without jansson, as on_transition appends it;
 * NULL when a value is not plain ASCII. For the unit test that compares it with the jansson
 * text of the same leaf. */
char *ledger_decision_text(struct arena *a, const char *salt, const struct ledger_decision *d, const char *ref,
			   const struct ledger_rows *rows, size_t *len);
ledger_recompute_fn ledger_source_of(const char *kind);
ledger_verify_fn ledger_verifier_of(const char *type);
int ledger_wellknown_extend(struct db *db, struct arena *a, json_t *keys);
/* Logs what has no leaf (stored before the log existed, or before it covered its table), in
 * the caller's transaction: catalog item versions, application steps (each with its receipt),
 * then every covered row without a leaf, as "change" leaves with the action "backfill". */
int ledger_backfill(struct db *db, struct arena *a, size_t *items, size_t *decisions, size_t *rows);
/* rows.c: the covered rows without a leaf, touched for the next leaves (action "backfill"). */
int ledger_backfill_rows(struct db *db, struct arena *a, size_t *rows);
/* db_commit's hook (store/cover.h): "change" leaves for the rows no other leaf took. */
int ledger_change_logger(struct db *db);
/* Uses k as this process's keys (commands and tests without ledger_init). */
void ledger_use_keys(const struct ledger_keys *k);
json_t *ledger_hashes_json(const unsigned char (*path)[H32], size_t n);
/* Checks a receipt document; GH_EINVAL with the reason in err. */
int ledger_receipt_check(struct arena *a, const json_t *doc, const json_t *keys_doc, char *err, size_t errlen,
			 int64_t *index, int64_t *size);
int ledger_verify_receipt(struct arena *a, const json_t *doc, const json_t *keys_doc, const struct view *words,
			  FILE *out);

/* audit.c: writes one line per problem to out. Returns 0 (problems counted in *problems) or a
 * GH_E code. */
struct ledger_audit_opts {
	const json_t *keys_doc;      /* the log keys to check checkpoint signatures (NULL: not checked) */
	const char *origin;          /* the log's origin (NULL: not checked) */
	const char *const *saved;    /* checkpoints saved earlier (note texts), nsaved of them */
	size_t nsaved;
	int64_t now, grace;          /* leaves older than now - LEDGER_CHECKPOINT_PERIOD - grace need a checkpoint */
};
int ledger_audit(struct db *db, const struct ledger_audit_opts *o, FILE *out, size_t *leaves, size_t *rows,
		 size_t *problems);

/* rows.c */
typedef void (*ledger_report_fn)(void *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Checks every covered row against its latest leaf (see rows.c); *rows gets how many. */
int ledger_audit_rows(struct db *db, ledger_report_fn report, void *ctx, size_t *rows);
/* The declarations as JSON: [{table, key, columns, where, pointers}]. */
json_t *ledger_coverage_json(void);
/* `govhall ledger correct`: re-commits the rows named "table:key" as they are now, in a
 * "change" leaf with action and a salted hash of reason, in the caller's transaction. */
int ledger_correct(struct db *db, struct arena *a, const char *const *refs, size_t n, const char *action,
		   const char *reason, FILE *err);

/* The log's origin (checkpoint.c): stored with the log head; when none is stored yet (a new
 * log), derived from cfg's public-url (and stored when store). Into buf. */
int ledger_origin_fixed(struct db *db, const struct config *cfg, bool store, char *buf, size_t size);

#endif
