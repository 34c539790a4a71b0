/* cert_fed.c: what the wallet across halls needs of certificates (certs.h, "Certificates across
 * halls"): a holder's documents as issued, the status of one for another hall, and the check of
 * a copy another hall issued. */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/jsonout.h"
#include "certs/certs_impl.h"

int certs_held_documents(struct db *db, struct arena *a, int64_t holder, json_t **out)
{
	struct cert *cs;
	size_t n;
	int rc = cert_list_held(db, a, holder, &cs, &n);
	if (rc)
		return rc;
	*out = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(*out, json_pack("{s:s,s:o}", "status", cs[i].status, "document", cert_document(db, a, &cs[i])));
	return 0;
}

int certs_status_for(struct db *db, struct arena *a, const char *number, const char *hash, int64_t holder,
		     const char **status, bool *held)
{
	struct cert c;
	*status = "unknown";
	*held = false;
	int rc = number ? cert_get(db, a, number, &c) : GH_ENOTFOUND;
	if (rc == GH_ENOTFOUND)
		return 0;
	if (rc)
		return rc;
	if (!hash || strcmp(hash, c.hash))
		return 0;
	*status = c.status;
	*held = c.holder_id == holder;
	return 0;
}

json_t *certs_verify_copy(struct req *r, const json_t *doc)
{
	char *text = jsonout_dumps(doc, JSON_COMPACT);
	struct cert_doc d;
	struct cert_why why;
	int rc = text ? cert_doc_parse(r->arena, text, strlen(text), &d, &why) : GH_EINVAL;
	free(text);
	if (rc)
		return json_pack("{s:s,s:s,s:s}", "kind", "certificate", "status", "unknown", "reason",
				 cert_why_text(r->arena, r->app->view, r->lang, &why));
	return cert_verify_online(r, NULL, NULL, &d);
}
