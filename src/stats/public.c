/* public.c: the public statistics page's figures by department as one JSON document, for
 * national supervision (src/federation/natstats.c signs and publishes it to the hub). */
#include <time.h>

#include "base/calendar.h"
#include "base/err.h"
#include "stats/stats_impl.h"

int stats_department_figures(struct db *db, struct arena *a, const char *from, const char *to, json_t **out,
			     const char **why_key)
{
	struct stats_range range;
	struct stats_figures f;
	*out = NULL;
	int rc = stats_parse_range(from, to, NULL, calendar_day_of(time(NULL)), &range, why_key);
	if (!rc)
		rc = stats_figures(db, a, &range, &f);
	if (rc)
		return rc;
	json_t *depts = json_array();
	for (size_t i = 0; i < f.ndepartments; i++) {
		const struct stats_row *d = &f.departments[i];
		const struct stats_counts *c = &d->c;
		json_array_append_new(
			depts, json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "code", d->code, "name_zh",
					 d->name_zh ? d->name_zh : d->code, "name_en", d->name_en ? d->name_en : d->code,
					 "submitted", (json_int_t)c->submitted, "concluded", (json_int_t)c->concluded,
					 "on_time", (json_int_t)c->on_time, "online", (json_int_t)c->online, "evals",
					 (json_int_t)c->evals, "bad", (json_int_t)c->bad, "rect_closed",
					 (json_int_t)c->rect_closed, "rect_done", (json_int_t)c->rect_done));
	}
	char f1[11], f2[11];
	calendar_format_day(range.from, f1);
	calendar_format_day(range.to, f2);
	*out = json_pack("{s:s,s:s,s:o}", "from", f1, "to", f2, "departments", depts);
	return 0;
}
