/* personal.c: what interact holds about a person (store/personal.h): their evaluations,
 * consultations and complaints, kept at closure (evaluations are covered by the transparency
 * log and counted in published results; consultations and complaints are records of the
 * hall's answers). */
#include "base/util.h"
#include "interact/interact.h"
#include "store/db.h"
#include "store/personal.h"

#define OWNER(col) "(enterprise_id = ? OR (" col " = ? AND enterprise_id IS NULL))"

DB_SQL(q_evals, "SELECT id, subject_kind, subject_ref, department, item_code, channel, level, tags, comment, created_at "
		"FROM evaluations WHERE " OWNER("rater_id") " ORDER BY id DESC LIMIT 2000");
DB_SQL(q_consults, "SELECT id, department, item_code, subject, question, consent_public, state, answer, answered_at, "
		   "created_at FROM consultations WHERE " OWNER("asker_id") " ORDER BY id DESC LIMIT 2000");
DB_SQL(q_complaints, "SELECT id, kind, department, item_code, application_number, subject, body, state, answer, "
		     "answered_at, created_at FROM complaints WHERE " OWNER("complainant_id") " ORDER BY id DESC LIMIT 2000");

static const struct personal_part parts[] = {
	{ .name = "evaluations", .kept = true, .query = &q_evals, .words = "level=interact_level_,channel=interact_channel_" },
	{ .name = "consultations", .kept = true, .query = &q_consults },
	{ .name = "complaints", .kept = true, .query = &q_complaints },
};

void interact_personal_declare(void)
{
	for (size_t i = 0; i < ARRAY_LEN(parts); i++)
		personal_declare(&parts[i]);
}
