/* personal.c: what certs holds about a person (store/personal.h): the e-certificates issued
 * to them, kept at closure (issued documents, logged in the transparency log). The signed
 * document itself is on each certificate's page; the export names and dates it. */
#include "base/util.h"
#include "certs/certs.h"
#include "store/db.h"
#include "store/personal.h"

DB_SQL(q_certs, "SELECT id, number, cert_type, department, hash, issued_at, status, revoked_at FROM certificates "
		"WHERE holder_id = ? ORDER BY id DESC LIMIT 2000");

static const struct personal_part part = {
	.name = "certificates", .kept = true, .query = &q_certs, .words = "status=certs_status_",
};

void certs_personal_declare(void)
{
	personal_declare(&part);
}
