/* fee.h: what an application owes — an item's fee rule (catalog data, the item record's "fee"
 * member, validated at import by the catalog: docs/payments.md, "Fees in the catalog") applied
 * to the form an application was filed with. Pure functions, no I/O (fuzzed with the
 * notification parser, tests/fuzz/fuzz_pay.c).
 *
 * Invariants: amounts are integers of fen; an assessment never exceeds PAY_AMOUNT_MAX; a rule
 * that is malformed (which import refuses) assesses as GH_EINVAL, never as a guess. */
#ifndef GH_PAY_FEE_H
#define GH_PAY_FEE_H
#include <stdbool.h>
#include <stdint.h>

#include "base/arena.h"

struct pay_assessment {
	int64_t amount;        /* fen due; 0 when an exemption applies or the rule prices it at 0 */
	int64_t gross;         /* fen before any exemption */
	const char *how;       /* "fixed", "per_unit", "by_option" */
	int64_t units;         /* per_unit: the units counted */
	const char *exemption; /* the code of the exemption applied, or NULL */
	const char *exemption_zh, *exemption_en;
	const char *point;     /* "before_acceptance" or "after_approval" */
	const char *basis_zh, *basis_en;
};

/* Applies rule (the "fee" object's JSON text) to form (the form's plaintext as a JSON object
 * of strings, cases.h case_form_plain) on day `today` (China Standard Time day number, for
 * ages). Strings in *out live in a. GH_EINVAL for a malformed rule. */
int pay_fee_assess(struct arena *a, const char *rule, const char *form, int32_t today, struct pay_assessment *out);

/* The age in whole years on day `today` of the holder of a resident ID number (GB 11643, 18
 * characters; the birth date is characters 7 to 14), or -1 when it has no readable birth date. */
int pay_age_on(const char *id_number, int32_t today);

#endif
