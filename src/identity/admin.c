/* admin.c: administrators' pages and API for accounts, roles and security events. */
#include <string.h>

#include "base/err.h"
#include "http/server.h"
#include "identity/identity_impl.h"
#include "store/db.h"

DB_SQL(q_events, "SELECT id, at, kind, account_id, actor_id, ip, detail FROM security_events "
		 "ORDER BY id DESC LIMIT ? OFFSET ?");

static int events(struct req *r)
{
	long page, per;
	int rc = req_query_long(r, "page", 1, 1, 100000, &page);
	if (!rc)
		rc = req_query_long(r, "per_page", 50, 1, 200, &per);
	if (rc)
		return rc;
	struct db_rows rows;
	if ((rc = db_query(r->db, r->arena, &q_events, DB_ARGS(DB_INT(per), DB_INT((page - 1) * per)), &rows)))
		return rc;
	json_t *arr = json_array();
	for (size_t i = 0; i < rows.nrows; i++)
		json_array_append_new(arr, json_pack("{s:I,s:I,s:s,s:I,s:I,s:s?,s:s?}", "id",
						     (json_int_t)db_cell_int(&rows, i, 0), "at",
						     (json_int_t)db_cell_int(&rows, i, 1), "kind", db_cell(&rows, i, 2),
						     "account", (json_int_t)db_cell_int(&rows, i, 3), "actor",
						     (json_int_t)db_cell_int(&rows, i, 4), "ip", db_cell(&rows, i, 5),
						     "detail", db_cell(&rows, i, 6)));
	if (r->api)
		return resp_json(r, 200, json_pack("{s:o,s:i}", "events", arr, "page", (int)page));
	resp_header(r, "Cache-Control", "no-store");
	return resp_page(r, 200, "identity/admin_events",
			 json_pack("{s:s,s:o}", "title", strcmp(r->lang, "en") == 0 ? "Security events" : "安全事件",
				   "events", arr));
}

const struct route identity_admin_routes[] = {
	{ HTTP_GET, "/admin/events", events, ROLE_ADMIN, 0, "identity.admin_events" },
	{ HTTP_GET, "/api/v1/admin/events", events, ROLE_ADMIN, 0, "identity.api_admin_events", NULL, SCOPE_ADMIN },
};
const size_t identity_admin_routes_n = sizeof(identity_admin_routes) / sizeof(identity_admin_routes[0]);
