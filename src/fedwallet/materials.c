/* materials.c: a certificate of another hall, from the wallet, used for a material of an
 * application at this hall (fedwallet.h). Two steps, as the application's check reads only:
 * the person has the copy checked (its signature and log proof here, then a signed status
 * request to the issuing hall, which answers, signed, whether it stands and whether the person
 * holds it); an application may then name the copy for a material within CHECK_TTL of a check
 * that found it valid and theirs. The department sees the copy and its checks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "base/log.h"
#include "cases/cases.h"
#include "certs/certs.h"
#include "federation/federation.h"
#include "fedwallet/fedwallet_impl.h"
#include "http/handler.h"
#include "http/msg.h"
#include "http/server.h"
#include "http/write.h"
#include "store/db.h"

#define CHECK_TTL 600              /* seconds a check at the issuing hall stands for a material */
#define STATUS_MAX (16 * 1024)     /* the issuing hall's signed answer */

DB_SQL(q_copy, "SELECT cert_type, hash, status, document, checked_at, check_status FROM wallet_fed_certs "
	       "WHERE account_id = ? AND hall = ? AND number = ?");
DB_SQL(q_copies_of, "SELECT hall, number FROM wallet_fed_certs WHERE account_id = ? AND cert_type = ? AND status <> 'revoked' "
		    "ORDER BY hall, number LIMIT 20");
DB_SQL(q_checked, "UPDATE wallet_fed_certs SET checked_at = ?, check_status = ?, status = ? "
		  "WHERE account_id = ? AND hall = ? AND number = ?");

struct copy {
	const char *type, *hash, *status, *sealed, *check_status;
	int64_t checked_at;
};

static int copy_get(struct db *db, struct arena *a, int64_t account, const char *hall, const char *number, struct copy *c)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_copy, DB_ARGS(DB_INT(account), DB_TEXT(hall), DB_TEXT(number)), &rows);
	if (rc)
		return rc;
	if (rows.nrows != 1)
		return GH_ENOTFOUND;
	*c = (struct copy){ .type = db_cell(&rows, 0, 0),
			    .hash = db_cell(&rows, 0, 1),
			    .status = db_cell(&rows, 0, 2),
			    .sealed = db_cell(&rows, 0, 3),
			    .checked_at = db_cell(&rows, 0, 4) ? db_cell_int(&rows, 0, 4) : 0,
			    .check_status = db_cell(&rows, 0, 5) };
	return 0;
}

/* The copy's document checked here again (signature and log proof under the issuing hall's
 * keys from the directory): the verdict (new), or NULL with the copy's document unreadable. */
static json_t *copy_verdict(struct req *r, const struct copy *c, json_t **doc)
{
	if (fw_copy_open(r->arena, c->sealed, doc))
		return NULL;
	arena_cleanup(r->arena, (void (*)(void *))json_decref, *doc);
	json_t *v = certs_verify_copy(r, *doc);
	arena_cleanup(r->arena, (void (*)(void *))json_decref, v);
	return v;
}

static bool verdict_valid(const json_t *v)
{
	const char *s = json_string_value(json_object_get(v, "status"));
	return s && !strcmp(s, "valid") && json_string_value(json_object_get(v, "issuer_log"));
}

/* The message for a check's result other than "valid". */
static const char *result_why(struct req *r, const char *result)
{
	return !strcmp(result, "revoked")    ? M(r, "fedwallet_copy_revoked")
	       : !strcmp(result, "not_held") ? M(r, "fedwallet_copy_not_yours")
					     : M(r, "fedwallet_copy_not_known");
}

/* ---- the check at the issuing hall ------------------------------------------------------------ */

struct check;
/* What follows a check: rc 0 when the issuing hall found the copy valid and the person's, else
 * GH_EVALIDATION, GH_ENOTFOUND, GH_ECONFLICT or GH_EUNAVAILABLE with why (and k->result, when
 * the issuing hall answered). */
typedef int (*check_then)(struct req *r, struct check *k, int rc, const char *why);

struct check {
	struct arena *a;
	int64_t account, now;
	const char *hall, *number, *hash, *subject, *path;
	json_t *verdict;
	int rc;
	long status;
	const char *body;
	size_t len;
	const char *result, *copy_status;
	check_then then;
	void *arg;
	json_t *materials; /* the web form's: the copies it names, checked one after another */
	size_t next;
	long slot;
	case_ecert_then_fn form_then;
	void *form_arg;
};

static void check_work(void *arg)
{
	struct check *k = arg;
	k->rc = fed_peer_get(k->a, k->hall, k->path, STATUS_MAX, &k->status, &k->body, &k->len);
}

static int check_write(struct req *w, void *arg)
{
	struct check *k = arg;
	return db_exec(w->db, &q_checked,
		       DB_ARGS(DB_INT(k->now), DB_TEXT(k->result), DB_TEXT(k->copy_status), DB_INT(k->account), DB_TEXT(k->hall),
			       DB_TEXT(k->number)),
		       NULL);
}

static int check_stored(struct req *r, void *arg, int rc)
{
	struct check *k = arg;
	if (rc)
		return rc;
	if (strcmp(k->result, "valid"))
		return k->then(r, k, GH_EVALIDATION, result_why(r, k->result));
	return k->then(r, k, 0, NULL);
}

static int check_done(struct req *r, void *arg)
{
	struct check *k = arg;
	json_t *claims = NULL;
	const char *why = "no answer";
	if (k->rc || k->status != 200 ||
	    fed_peer_doc_check(r->arena, k->hall, k->body, k->len, STATUS_MAX, &claims, &why)) {
		if (!k->rc)
			log_warn("wallet: the status of a certificate of %s cannot be had (%ld, %s)", k->hall, k->status, why);
		return k->then(r, k, GH_EUNAVAILABLE, M(r, "fedwallet_issuer_unreachable"));
	}
	arena_cleanup(r->arena, (void (*)(void *))json_decref, claims);
	const char *st = json_string_value(json_object_get(claims, "status"));
	const char *no = json_string_value(json_object_get(claims, "number"));
	const char *hash = json_string_value(json_object_get(claims, "hash"));
	const char *sub = json_string_value(json_object_get(claims, "sub"));
	if (!st || !no || !hash || !sub || strcmp(no, k->number) || strcmp(hash, k->hash) || strcmp(sub, k->subject)) {
		log_warn("wallet: %s answered about another certificate or person than asked", k->hall);
		return k->then(r, k, GH_EUNAVAILABLE, M(r, "fedwallet_issuer_unreachable"));
	}
	bool held = json_is_true(json_object_get(claims, "held"));
	k->result = !strcmp(st, "valid") ? (held ? "valid" : "not_held") : !strcmp(st, "revoked") ? "revoked" : "unknown";
	k->copy_status = !strcmp(st, "revoked") ? "revoked" : "valid";
	return req_write(r, check_write, check_stored, k);
}

/* The copy k->hall / k->number of the person checked here (signature, log proof, their name)
 * and then, by a signed request, at its issuing hall; the result stored with the copy. Ends in
 * k->then whatever happens, or returns an internal error. */
static int check_start(struct req *r, struct check *k)
{
	k->a = r->arena;
	k->account = r->who.account;
	k->now = time(NULL);
	k->result = NULL;
	struct copy c;
	int rc = fw_text_ok(k->hall) && fw_text_ok(k->number) ? copy_get(r->db, r->arena, k->account, k->hall, k->number, &c)
							       : GH_ENOTFOUND;
	if (rc == GH_ENOTFOUND)
		return k->then(r, k, GH_ENOTFOUND, M(r, "fedwallet_copy_unknown"));
	if (rc)
		return rc;
	json_t *doc;
	k->verdict = copy_verdict(r, &c, &doc);
	if (!k->verdict)
		return GH_EINTERNAL;
	if (!verdict_valid(k->verdict))
		return k->then(r, k, GH_EVALIDATION, M(r, "fedwallet_copy_invalid"));
	/* Issued to this person by name (the issuing hall answers for the account behind the link). */
	const char *holder = json_string_value(json_object_get(json_object_get(json_object_get(doc, "certificate"), "holder"), "name"));
	if (!holder || !r->who.name || strcmp(holder, r->who.name))
		return k->then(r, k, GH_EVALIDATION, M(r, "fedwallet_copy_not_yours"));
	if ((rc = fed_link_subject(r->db, r->arena, k->account, &k->subject)) == GH_ENOTFOUND)
		return k->then(r, k, GH_ECONFLICT, M(r, "fedwallet_national_first"));
	if (rc)
		return rc;
	k->hash = c.hash;
	if (!fw_text_ok(k->subject) || !fw_text_ok(k->hash))
		return GH_EINTERNAL;
	k->path = arena_printf(r->arena, "/federation/certificates/%s/status?hash=%s&subject=%s", k->number, k->hash, k->subject);
	rc = req_job(r, check_work, check_done, k);
	if (rc == GH_EBUSY)
		return k->then(r, k, GH_EUNAVAILABLE, M(r, "fedwallet_issuer_unreachable"));
	return rc;
}

/* A check of the copy the route names ({hall}, {number}), answered by then. */
static int check_route(struct req *r, check_then then)
{
	struct check *k = arena_zalloc(r->arena, sizeof(*k));
	k->hall = req_param(r, "hall");
	k->number = req_param(r, "number");
	k->then = then;
	return check_start(r, k);
}

/* The API's answer to a check. */
static int check_answer(struct req *r, struct check *k, int rc, const char *why)
{
	if (rc)
		return fw_refuse(r, rc, why);
	resp_header(r, "Cache-Control", "no-store");
	return resp_json(r, 200, json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:O,s:O}", "hall", k->hall, "number", k->number, "hash",
					   k->hash, "status", "valid", "checked_at", (json_int_t)k->now, "valid_for",
					   (json_int_t)CHECK_TTL, "checks", json_object_get(k->verdict, "checks"), "issuer_log",
					   json_object_get(k->verdict, "issuer_log")));
}

/* POST /api/v1/wallet/federation/certificates/{hall}/{number}/check: the copy checked here and
 * at its issuing hall, so that it may stand for a material. */
static int check(struct req *r)
{
	return check_route(r, check_answer);
}

/* The wallet page's answer: back to the page, which says how the check went. */
static int check_page_answer(struct req *r, struct check *k, int rc, const char *why)
{
	/* Not a copy of this person's: not found, as any other person's resource (no redirect). */
	if (rc == GH_ENOTFOUND && !k->result)
		return fw_refuse(r, rc, why);
	const char *code = !rc				? "valid"
			   : k->result			? k->result
			   : rc == GH_EUNAVAILABLE	? "unavailable"
			   : rc == GH_ECONFLICT		? "national"
							: "invalid";
	return resp_redirect(r, 303, arena_printf(r->arena, "/wallet?check=%s#fed-wallet-title", code));
}

/* POST /wallet/federation/certificates/{hall}/{number}/check: the wallet page's button. */
static int check_page(struct req *r)
{
	return check_route(r, check_page_answer);
}

/* The wallet page's message for ?check=CODE (NULL for a code it does not know). */
const char *fw_check_message(struct req *r, const char *code)
{
	if (!code)
		return NULL;
	if (!strcmp(code, "valid"))
		return M(r, "fedwallet_checked_valid");
	if (!strcmp(code, "unavailable"))
		return M(r, "fedwallet_issuer_unreachable");
	if (!strcmp(code, "national"))
		return M(r, "fedwallet_national_first");
	if (!strcmp(code, "invalid"))
		return M(r, "fedwallet_copy_invalid");
	if (!strcmp(code, "revoked") || !strcmp(code, "not_held") || !strcmp(code, "unknown"))
		return result_why(r, code);
	return NULL;
}

/* ---- the web application form ----------------------------------------------------------------- */

/* cases' list of copies for a material on the web form (case_ecert_copies_fn). */
static json_t *copies_of(struct req *r, int64_t applicant, const char *type)
{
	struct db_rows rows;
	if (db_query(r->db, r->arena, &q_copies_of, DB_ARGS(DB_INT(applicant), DB_TEXT(type)), &rows) || !rows.nrows)
		return NULL;
	json_t *out = json_array();
	for (size_t i = 0; i < rows.nrows; i++) {
		const char *hall = db_cell(&rows, i, 0);
		json_array_append_new(out, json_pack("{s:s,s:s,s:s}", "hall", hall, "hall_name", fed_hall_name(r->arena, hall) ?: hall,
						     "number", db_cell(&rows, i, 1)));
	}
	return out;
}

/* The next copy the form names, checked; then the form goes on. */
static int confirm_next(struct req *r, struct check *k)
{
	json_t *e;
	while ((e = json_array_get(k->materials, k->next++))) {
		const char *hall = json_string_value(json_object_get(e, "ecert_hall"));
		if (!hall)
			continue;
		k->slot = json_integer_value(json_object_get(e, "slot"));
		k->hall = hall;
		k->number = json_string_value(json_object_get(e, "ecert_number"));
		return check_start(r, k);
	}
	return k->form_then(r, k->form_arg, -1, NULL);
}

static int confirm_then(struct req *r, struct check *k, int rc, const char *why)
{
	if (rc)
		return k->form_then(r, k->form_arg, k->slot, why);
	return confirm_next(r, k);
}

/* cases' check of the copies a web form names (case_ecert_confirm_fn). */
static int confirm(struct req *r, json_t *materials, case_ecert_then_fn then, void *arg)
{
	struct check *k = arena_zalloc(r->arena, sizeof(*k));
	k->materials = materials;
	k->form_then = then;
	k->form_arg = arg;
	k->then = confirm_then;
	return confirm_next(r, k);
}

/* ---- in an application ------------------------------------------------------------------------ */

/* cases' e-certificate source for another hall's copy (case_ecert_remote_fn). */
static int use_copy(struct req *r, int64_t applicant, const char *type, const char *hall, const char *number, json_t *entry,
		    const char **why)
{
	struct copy c;
	int rc = fw_text_ok(hall) && fw_text_ok(number) ? copy_get(r->db, r->arena, applicant, hall, number, &c) : GH_ENOTFOUND;
	if (rc) {
		*why = M(r, rc == GH_ENOTFOUND ? "fedwallet_copy_unknown" : "cases_do_hold_valid_e_certificate");
		return GH_EVALIDATION;
	}
	if (strcmp(c.type, type)) {
		*why = M(r, "cases_e_certificate_given_material_does");
		return GH_EVALIDATION;
	}
	if (!c.check_status || c.checked_at + CHECK_TTL < time(NULL)) {
		*why = M(r, "fedwallet_check_first");
		return GH_EVALIDATION;
	}
	if (strcmp(c.check_status, "valid")) {
		*why = result_why(r, c.check_status);
		return GH_EVALIDATION;
	}
	json_object_set_new(entry, "ecert_hall", json_string(hall));
	json_object_set_new(entry, "ecert_hall_name", json_string(fed_hall_name(r->arena, hall) ?: hall));
	json_object_set_new(entry, "ecert_number", json_string(number));
	json_object_set_new(entry, "ecert_hash", json_string(c.hash));
	json_object_set_new(entry, "ecert_checked_at", json_integer(c.checked_at));
	return 0;
}

void fw_materials_init(void)
{
	cases_ecert_remote_source(use_copy);
	cases_ecert_web_source(copies_of, confirm);
}

/* GET /api/v1/applications/{number}/materials/{slot}/certificate: another hall's certificate
 * given for a material, for whoever sees the application (its applicant, its department):
 * the copy, checked here again now, and the check at the issuing hall when it was given. */
static int material(struct req *r)
{
	struct case_brief b;
	int rc = cases_brief(r, req_param(r, "number"), &b);
	if (rc)
		return rc;
	int64_t slot;
	if (req_param_id(r, "slot", &slot))
		return GH_ENOTFOUND;
	json_t *mats = json_loads(b.materials ? b.materials : "[]", 0, NULL);
	arena_cleanup(r->arena, (void (*)(void *))json_decref, mats);
	json_t *entry = NULL, *e;
	size_t i;
	json_array_foreach(mats, i, e)
	{
		json_t *s = json_object_get(e, "slot");
		if (json_is_integer(s) && json_integer_value(s) == slot && json_string_value(json_object_get(e, "ecert_hall")))
			entry = e;
	}
	if (!entry)
		return GH_ENOTFOUND;
	const char *hall = json_string_value(json_object_get(entry, "ecert_hall"));
	const char *number = json_string_value(json_object_get(entry, "ecert_number"));
	const char *hash = json_string_value(json_object_get(entry, "ecert_hash"));
	json_t *out = json_pack("{s:s,s:s?,s:s?,s:s?,s:I,s:s,s:n,s:n}", "hall", hall, "number", number, "hash", hash, "cert_type",
				json_string_value(json_object_get(entry, "ecert")), "checked_at",
				json_integer_value(json_object_get(entry, "ecert_checked_at")), "check_status", "valid", "document",
				"verification");
	struct copy c;
	if (number && (rc = copy_get(r->db, r->arena, b.applicant_id, hall, number, &c)) == 0 && hash && !strcmp(c.hash, hash)) {
		json_t *doc, *v = copy_verdict(r, &c, &doc);
		if (v) {
			json_object_set(out, "document", doc);
			json_object_set(out, "verification", v);
		}
	} else if (rc && rc != GH_ENOTFOUND) {
		json_decref(out);
		return rc;
	}
	resp_header(r, "Cache-Control", "no-store");
	return resp_json(r, 200, out);
}

#define APPLICANTS (ROLE_CITIZEN | ROLE_AGENT | ROLE_ENTERPRISE)

const struct route fw_material_routes[] = {
	{ HTTP_POST, "/api/v1/wallet/federation/certificates/{hall}/{number}/check", check, ROLE_CITIZEN, 0,
	  "fedwallet.api_check", NULL, SCOPE_APPLY },
	{ HTTP_POST, "/wallet/federation/certificates/{hall}/{number}/check", check_page, ROLE_CITIZEN, ROUTE_CSRF,
	  "fedwallet.check" },
	{ HTTP_GET, "/api/v1/applications/{number}/materials/{slot}/certificate", material, APPLICANTS | ROLE_STAFF | ROLE_ADMIN,
	  0, "fedwallet.api_material", NULL, SCOPE_APPLY },
};
const size_t fw_material_routes_n = sizeof(fw_material_routes) / sizeof(fw_material_routes[0]);
