/* federated.c: what the national identity (src/federation) asks of identity: on the hub, when
 * and as whom the caller logged in; on a hall, the local account a national log-in links to or
 * creates, and its session. */
#include <string.h>

#include "base/err.h"
#include "identity/identity_impl.h"
#include "store/db.h"

DB_SQL(q_session_started, "SELECT created_at FROM sessions WHERE id = ?");

int identity_session_auth_time(struct req *r, int64_t *t)
{
	if (!r->who.session || r->who.token || r->who.mfa_pending)
		return GH_ENOTFOUND;
	struct db_rows rows;
	int rc = db_query(r->db, r->arena, &q_session_started, DB_ARGS(DB_INT(r->who.session)), &rows);
	if (rc)
		return rc;
	if (rows.nrows != 1)
		return GH_ENOTFOUND;
	*t = db_cell_int(&rows, 0, 0);
	return 0;
}

int identity_person_claims(struct db *db, struct arena *a, int64_t account, struct identity_claims *out)
{
	struct account acc;
	int rc = account_get(db, a, account, &acc);
	if (rc)
		return rc;
	if (strcmp(acc.kind, "individual") || strcmp(acc.status, "active"))
		return GH_ENOTFOUND;
	char *ident = NULL, *phone = NULL;
	if ((rc = account_plain_ids(db, identity_keyring(), a, account, &ident, &phone)))
		return rc;
	if (!ident)
		return GH_ENOTFOUND;
	*out = (struct identity_claims){ .name = acc.name, .id_number = ident,
					 .level = IDENTITY_LEVEL_SELF_DECLARED };
	return 0;
}

int identity_session_end(struct req *w)
{
	return session_end(w, false);
}

void identity_session_cookie(struct req *r, const char *tok)
{
	session_cookie(r, tok);
}

int identity_external_person(struct req *w, const char *id_number, const char *name, int64_t *account, bool *created)
{
	const struct keyring *k = identity_keyring();
	if (!k)
		return GH_EUNAVAILABLE;
	char norm[64];
	size_t n = idcheck_normalize(id_number, strlen(id_number), norm, sizeof(norm));
	if (!n || idcheck_id_number(norm, n) != IDCHECK_OK || !name || !*name || strlen(name) > 100)
		return GH_EINVAL;
	struct account acc;
	int rc = account_find_individual(w->db, k, w->arena, norm, &acc);
	*created = false;
	if (rc == GH_ENOTFOUND) {
		/* No password ("!" matches none): the account is reached through the hub until its
		 * owner sets one at the counter. */
		struct account_new in = { .kind = "individual", .name = name, .id_number = norm, .password_hash = "!" };
		if ((rc = account_create(w->db, k, w->arena, &in, &acc.id)))
			return rc;
		acc.status = "active";
		*created = true;
	} else if (rc)
		return rc;
	if (strcmp(acc.status, "active"))
		return GH_EFORBIDDEN;
	*account = acc.id;
	return 0;
}

int identity_external_login(struct req *w, const char *id_number, const char *name, char *tok,
			    int64_t *account, bool *created)
{
	int rc = identity_external_person(w, id_number, name, account, created);
	if (rc)
		return rc;
	identity_event(w->db, *created ? "national_register" : "national_login", *account, *account, w->ip, "");
	return session_create(w, *account, 0, false, tok);
}
