/* personal.c: what cases holds about a person (store/personal.h): applications with their form
 * values (masks of sealed values, as pages show them), their events and attachments, the
 * access events of staff (all kept: records the archives rules require, and the account of
 * who saw them), and drafts (erased at closure: nothing was filed). An individual's parts are
 * what they filed for themself, an enterprise's what was filed for it. */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/jsonout.h"
#include "base/util.h"
#include "cases/cases_impl.h"
#include "store/db.h"
#include "store/personal.h"

#define OWNER(t) "(" t "enterprise_id = ? OR (" t "applicant_id = ? AND " t "enterprise_id IS NULL))"

DB_SQL(q_apps, "SELECT id, number, item_code, item_version, department, channel, state, form, submitted_at, "
	       "accepted_at, decided_at, completed_at, created_at FROM applications "
	       "WHERE state <> 'draft' AND " OWNER("") " ORDER BY id DESC LIMIT 2000");
DB_SQL(q_events, "SELECT e.id, a.number AS application, e.at AS happened_at, e.action, e.from_state, e.to_state, "
		 "e.reason FROM application_events e JOIN applications a ON a.id = e.application_id "
		 "WHERE a.state <> 'draft' AND e.action NOT IN ('claim', 'assign') AND " OWNER("a.")
		 " ORDER BY e.id DESC LIMIT 2000");
DB_SQL(q_atts, "SELECT t.id, a.number AS application, t.filename, t.mime, t.size, t.sha256, t.created_at "
	       "FROM attachments t LEFT JOIN applications a ON a.id = t.application_id "
	       "WHERE (t.enterprise_id = ? OR (t.owner_id = ? AND t.enterprise_id IS NULL)) ORDER BY t.id DESC LIMIT 2000");
DB_SQL(q_access, "SELECT e.id, e.at AS happened_at, e.kind, e.department, e.actor_role AS duty, a.number AS application, "
		 "e.field, e.reason FROM access_events e JOIN applications a ON a.id = e.application_id "
		 "WHERE e.subject_id = ? ORDER BY e.id DESC LIMIT 2000");
DB_SQL(q_drafts, "SELECT id, item_code, item_version, form, created_at, updated_at FROM applications "
		 "WHERE state = 'draft' AND " OWNER("") " ORDER BY id DESC LIMIT 2000");
DB_SQL(q_drafts_erase, "DELETE FROM applications WHERE state = 'draft' AND " OWNER(""));
DB_SQL(q_bundle_drafts, "SELECT id, bundle_code, draft_form AS form, created_at FROM bundle_applications "
			"WHERE submitted_at IS NULL AND draft_form IS NOT NULL AND " OWNER("") " ORDER BY id DESC LIMIT 2000");
DB_SQL(q_bundle_drafts_erase, "UPDATE bundle_applications SET draft_form = NULL, draft_materials = NULL "
			      "WHERE submitted_at IS NULL AND " OWNER(""));

/* The column "form": its masks (case_form_masked), as pages show the form. */
static int form_masks(struct arena *a, struct db_rows *rows)
{
	size_t c = 0;
	while (c < rows->ncols && strcmp(rows->names[c], "form") != 0)
		c++;
	for (size_t i = 0; c < rows->ncols && i < rows->nrows; i++) {
		char **cell = &rows->cells[i * rows->ncols + c];
		json_t *m = case_form_masked(*cell ? *cell : "{}", NULL);
		char *text = jsonout_dumps(m, JSON_COMPACT | JSON_SORT_KEYS);
		json_decref(m);
		if (!text)
			return GH_EINTERNAL;
		*cell = arena_strdup(a, text);
		rows->lens[i * rows->ncols + c] = strlen(text);
		free(text);
	}
	return 0;
}

static const struct personal_part parts[] = {
	{ .name = "applications", .kept = true, .query = &q_apps, .fix = form_masks,
	  .words = "state=case_state_,channel=stats_channel_" },
	{ .name = "application_events", .kept = true, .query = &q_events,
	  .words = "action=case_event_,from_state=case_state_,to_state=case_state_" },
	{ .name = "attachments", .kept = true, .query = &q_atts },
	{ .name = "access_events", .kept = true, .query = &q_access, .words = "kind=privacy_kind_" },
	{ .name = "drafts", .query = &q_drafts, .fix = form_masks, .erase_sql = { &q_drafts_erase } },
	{ .name = "bundle_drafts", .query = &q_bundle_drafts, .fix = form_masks, .erase_sql = { &q_bundle_drafts_erase } },
};

void cases_personal_declare(void)
{
	for (size_t i = 0; i < ARRAY_LEN(parts); i++)
		personal_declare(&parts[i]);
}
