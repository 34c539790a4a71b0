/* events.c: the security event record (log-ins and failures, password and role changes, key
 * use, token issue and revoke), visible to administrators. */
#include "base/log.h"
#include "identity/identity_impl.h"
#include "store/db.h"

DB_SQL(q_event, "INSERT INTO security_events (at, kind, account_id, actor_id, ip, detail) VALUES (?, ?, ?, ?, ?, ?)");

void identity_event(struct db *db, const char *kind, int64_t account, int64_t actor, const char *ip,
		    const char *detail)
{
	int rc = db_exec(db, &q_event,
			 DB_ARGS(DB_INT(identity_now()), DB_TEXT(kind), account ? DB_INT(account) : DB_NULL,
				 actor ? DB_INT(actor) : DB_NULL, DB_TEXT(ip), DB_TEXT(detail ? detail : "")),
			 NULL);
	if (rc)
		log_error("security event %s could not be recorded", kind);
}
