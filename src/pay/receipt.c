/* receipt.c: electronic receipts (电子票据) for every payment and every refund.
 *
 * A receipt is signed like an e-certificate: its content (canonical JSON, ledger_canonical) is
 * signed with the collecting department's certificate key (certs.h certs_sign), stored
 * (pay_receipts, a covered row) and appended to the transparency log as a "pay_receipt" leaf
 * naming its number and hash, in the transaction of the payment or refund it records. The
 * downloadable document wraps content, hash, signature and the log's inclusion proof:
 *   {"type": "govhall.payreceipt/v1", "receipt": {...}, "hash": "<hex SHA-256>",
 *    "signature": {"algorithm": "Ed25519", "key_id", "value"}, "log": {leaf_index, leaf,
 *    tree_size, root, inclusion_proof, checkpoint}}
 * so it verifies online (/verify, its QR code's /verify/receipts/{number}?h=) and offline
 * (`govhall verify receipt.json|pdf --keys KEYS.json`); the PDF embeds the document. */
#include <inttypes.h>
#include <qrencode.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/calendar.h"
#include "base/err.h"
#include "base/log.h"
#include "base/sb.h"
#include "base/util.h"
#include "catalog/catalog.h"
#include "certs/certs.h"
#include "http/msg.h"
#include "identity/crypto.h"
#include "identity/identity.h"
#include "ledger/ledger.h"
#include "pay/pay.h"
#include "pay/pay_impl.h"
#include "store/cover.h"
#include "store/db.h"
#include "view/view.h"

#define RECEIPT_DOC_MAX (256 * 1024)
#define PROOF_MAX 64

static const struct cover_table cover_receipts = {
	.table = "pay_receipts", .key = "id",
	.cols = "number, kind, order_id, refund_id, department, payer_id, key_id, document, signature, hash, issued_at",
	.pointers = "leaf_index=pay_receipt",
};

#define RECEIPT_COLS "id, number, kind, order_id, refund_id, department, payer_id, key_id, document, signature, hash, " \
		     "leaf_index, issued_at"
DB_SQL(q_insert, "INSERT INTO pay_receipts (number, kind, order_id, refund_id, department, payer_id, key_id, document, "
		 "signature, hash, issued_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id");
DB_SQL(q_set_leaf, "UPDATE pay_receipts SET leaf_index = ? WHERE id = ?");
DB_SQL(q_get, "SELECT " RECEIPT_COLS " FROM pay_receipts WHERE number = ?");
DB_SQL(q_of_order, "SELECT " RECEIPT_COLS " FROM pay_receipts WHERE order_id = ? ORDER BY id");
DB_SQL(q_next_no, "INSERT INTO pay_numbers (kind, day, last) VALUES ('PR', ?, 1) "
		  "ON CONFLICT (kind, day) DO UPDATE SET last = pay_numbers.last + 1 RETURNING last");

static void row(const struct db_rows *r, size_t i, struct pay_receipt *o)
{
	size_t k = 0;
	o->id = db_cell_int(r, i, k++);
	o->number = db_cell(r, i, k++);
	o->kind = db_cell(r, i, k++);
	o->order_id = db_cell_int(r, i, k++);
	o->refund_id = db_cell(r, i, k) ? db_cell_int(r, i, k) : 0;
	k++;
	o->department = db_cell(r, i, k++);
	o->payer_id = db_cell_int(r, i, k++);
	o->key_id = db_cell(r, i, k++);
	o->document = db_cell(r, i, k++);
	o->signature = db_cell(r, i, k++);
	o->hash = db_cell(r, i, k++);
	o->leaf_index = db_cell(r, i, k) ? db_cell_int(r, i, k) : -1;
	k++;
	o->issued_at = db_cell_int(r, i, k++);
}

int pay_receipt_get(struct db *db, struct arena *a, const char *number, struct pay_receipt *out)
{
	if (!pay_id_ok(number))
		return GH_ENOTFOUND;
	struct db_rows rows;
	int rc = db_query(db, a, &q_get, DB_ARGS(DB_TEXT(number)), &rows);
	if (rc)
		return rc;
	if (!rows.nrows)
		return GH_ENOTFOUND;
	row(&rows, 0, out);
	return 0;
}

int pay_receipts_of(struct db *db, struct arena *a, int64_t order_id, struct pay_receipt **out, size_t *n)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_of_order, DB_ARGS(DB_INT(order_id)), &rows);
	if (rc)
		return rc;
	*out = arena_array(a, rows.nrows ? rows.nrows : 1, sizeof(**out));
	for (size_t i = 0; i < rows.nrows; i++)
		row(&rows, i, &(*out)[i]);
	*n = rows.nrows;
	return 0;
}

static char *b64(struct arena *a, const unsigned char *p, size_t n)
{
	size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
	char *s = arena_alloc(a, cap);
	sodium_bin2base64(s, cap, p, n, sodium_base64_VARIANT_ORIGINAL);
	return s;
}

/* The leaf that commits a receipt: its number, kind, hash and signature, and what it is for. */
static char *leaf_of(struct arena *a, const struct pay_receipt *rc, const char *order, int64_t amount)
{
	json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:I}", "kind", "pay_receipt", "number", rc->number,
			      "receipt_kind", rc->kind, "hash", rc->hash, "signature", rc->signature, "key_id", rc->key_id,
			      "department", rc->department, "order", order, "amount_fen", (json_int_t)amount, "issued_at",
			      (json_int_t)rc->issued_at);
	char *s = ledger_canonical(a, j);
	json_decref(j);
	return s;
}

int pay_receipt_issue(struct db *db, struct arena *a, const struct pay_order *o, const struct pay_refund *refund)
{
	int64_t now = (int64_t)time(NULL);
	char day[11];
	calendar_format_day(calendar_day_of((time_t)now), day);
	char compact[9] = { day[0], day[1], day[2], day[3], day[5], day[6], day[8], day[9], 0 };
	struct db_rows rows;
	int rc = db_query(db, a, &q_next_no, DB_ARGS(DB_TEXT(compact)), &rows);
	if (rc)
		return rc;
	const char *number = arena_printf(a, "PR%s%06" PRId64, compact, db_cell_int(&rows, 0, 0));
	struct catalog_department dept;
	struct catalog_service svc;
	struct identity_person payer;
	struct pay_fee fee;
	if ((rc = catalog_department_get(db, a, o->department, &dept)) || (rc = identity_person_get(db, a, o->payer_id, &payer)) ||
	    (rc = pay_fee_get(db, a, o->application_id, &fee)) ||
	    (rc = catalog_service_get(db, a, o->item_code, (long)fee.item_version, &svc)))
		return rc;
	char yuan[32];
	int64_t amount = refund ? refund->amount : o->paid_amount;
	pay_yuan(amount, yuan);
	const char *kind = refund ? "refund" : "payment";
	json_t *content = json_pack("{s:s,s:s,s:{s:s,s:s,s:s},s:{s:s,s:s?},s:{s:s,s:s,s:s},s:s,s:s,s:s?,s:I,s:s,s:s,"
				    "s:s,s:s,s:I,s:I,s:s,s:s}",
				    "number", number, "kind", kind, "payee", "code", dept.code, "name_zh", dept.name_zh, "name_en",
				    dept.name_en, "payer", "name", payer.name, "id_masked", payer.id_mask, "item", "code", svc.code,
				    "name_zh", svc.name_zh, "name_en", svc.name_en, "application",
				    o->application_number ? o->application_number : "", "order", o->number, "gateway_payment",
				    o->gateway_id, "amount_fen", (json_int_t)amount, "amount", yuan, "currency", "CNY", "basis_zh",
				    fee.basis_zh, "basis_en", fee.basis_en, "paid_at", (json_int_t)(refund ? refund->done_at : o->paid_at),
				    "issued_at", (json_int_t)now, "issued_on", day, "verify_url",
				    arena_printf(a, "%s/verify/receipts/%s", pay_cfg.public_url ? pay_cfg.public_url : "", number));
	if (!content)
		return GH_EINTERNAL;
	if (refund) {
		json_object_set_new(content, "refund", json_string(refund->number));
		json_object_set_new(content, "refund_reason", json_string(refund->reason ? refund->reason : ""));
	}
	char *text = ledger_canonical(a, content);
	json_decref(content);
	if (!text)
		return GH_EINTERNAL;
	struct pay_receipt r = { .number = number, .kind = kind, .order_id = o->id, .refund_id = refund ? refund->id : 0,
				 .department = o->department, .payer_id = o->payer_id, .document = text, .issued_at = now };
	char hash[65];
	crypto_sha256_hex(text, strlen(text), hash);
	r.hash = arena_strdup(a, hash);
	if ((rc = certs_sign(db, a, o->department, text, &r.key_id, &r.signature))) {
		log_error("pay: receipt %s could not be signed for department %s (%s)", number, o->department, err_slug(rc));
		return rc;
	}
	if ((rc = db_query(db, a, &q_insert,
			   DB_ARGS(DB_TEXT(number), DB_TEXT(kind), DB_INT(o->id), refund ? DB_INT(refund->id) : DB_NULL,
				   DB_TEXT(o->department), DB_INT(o->payer_id), DB_TEXT(r.key_id), DB_TEXT(text),
				   DB_TEXT(r.signature), DB_TEXT(r.hash), DB_INT(now)),
			   &rows)))
		return rc;
	r.id = db_cell_int(&rows, 0, 0);
	if ((rc = cover_touch_id(db, "pay_receipts", r.id, NULL)))
		return rc;
	int64_t index = -1;
	if ((rc = ledger_append_ref(db, a, "pay_receipt", arena_printf(a, "pay_receipt:%s", number), NULL,
				    leaf_of(a, &r, o->number, amount), &index)))
		return rc;
	return db_exec(db, &q_set_leaf, DB_ARGS(DB_INT(index), DB_INT(r.id)), NULL);
}

json_t *pay_receipt_document(struct db *db, struct arena *a, const struct pay_receipt *rc)
{
	json_t *content = json_loads(rc->document, 0, NULL);
	json_t *doc = json_pack("{s:s,s:o,s:s,s:{s:s,s:s,s:s},s:n}", "type", PAY_RECEIPT_TYPE, "receipt",
				content ? content : json_object(), "hash", rc->hash, "signature", "algorithm", "Ed25519", "key_id",
				rc->key_id, "value", rc->signature, "log");
	struct ledger_proof p;
	const char *leaf;
	if (rc->leaf_index >= 0 && ledger_prove(db, a, rc->leaf_index, &p) == 0 &&
	    ledger_leaf_text(db, a, rc->leaf_index, &leaf) == 0) {
		json_t *path = json_array();
		for (size_t i = 0; i < p.n; i++)
			json_array_append_new(path, json_string(b64(a, p.path[i], LEDGER_HASH_LEN)));
		json_object_set_new(doc, "log", json_pack("{s:I,s:s,s:I,s:s,s:o,s:s}", "leaf_index", (json_int_t)p.index, "leaf",
							  leaf, "tree_size", (json_int_t)p.tree_size, "root",
							  b64(a, p.root, LEDGER_HASH_LEN), "inclusion_proof", path,
							  "checkpoint", p.checkpoint));
	}
	return doc;
}

/* ---- reading a document ----------------------------------------------------------------- */

struct rdoc {
	json_t *content;
	const char *canonical, *number, *kind, *department, *key_id, *sig, *stated_hash;
	char hash[65];
	int64_t issued_at;
	json_t *log;
};

/* The shape of a receipt document: GH_EINVAL with a reason for people ("中文|English"). */
static int rdoc_parse(struct arena *a, const json_t *doc, struct rdoc *d, const char **why)
{
	*d = (struct rdoc){ 0 };
	const char *type = json_string_value(json_object_get(doc, "type"));
	*why = N_("pay_rdoc_not_receipt");
	if (!json_is_object(doc) || !type || strcmp(type, PAY_RECEIPT_TYPE) != 0)
		return GH_EINVAL;
	d->content = json_object_get(doc, "receipt");
	json_t *sig = json_object_get(doc, "signature");
	d->number = json_string_value(json_object_get(d->content, "number"));
	d->kind = json_string_value(json_object_get(d->content, "kind"));
	d->department = json_string_value(json_object_get(json_object_get(d->content, "payee"), "code"));
	d->key_id = json_string_value(json_object_get(sig, "key_id"));
	d->sig = json_string_value(json_object_get(sig, "value"));
	d->stated_hash = json_string_value(json_object_get(doc, "hash"));
	json_t *at = json_object_get(d->content, "issued_at");
	*why = N_("pay_rdoc_incomplete");
	if (!json_is_object(d->content) || !pay_id_ok(d->number) || !d->kind || !d->department || !d->key_id || !d->sig ||
	    !d->stated_hash || !json_is_integer(at))
		return GH_EINVAL;
	d->issued_at = json_integer_value(at);
	d->canonical = ledger_canonical(a, d->content);
	*why = N_("pay_rdoc_unreadable");
	if (!d->canonical)
		return GH_EINVAL;
	crypto_sha256_hex(d->canonical, strlen(d->canonical), d->hash);
	d->log = json_object_get(doc, "log");
	*why = NULL;
	return 0;
}

/* ---- online ------------------------------------------------------------------------------ */

static json_t *field(struct arena *a, struct req *r, const char *key, const char *value)
{
	return json_pack("{s:s,s:s}", "label", M(r, key), "value", value ? value : "");
}

static json_t *check(struct req *r, const char *key, bool ok)
{
	return json_pack("{s:b,s:s}", "ok", ok, "label", M(r, key));
}

/* The verdict on a stored receipt named by number, against a copy's hash. */
json_t *pay_receipt_verdict_link(struct req *r, const char *number, const char *hash)
{
	struct arena *a = r->arena;
	bool en = strcmp(r->lang, "en") == 0;
	json_t *out = json_pack("{s:s,s:s,s:s,s:o}", "kind", "payment_receipt", "status", "unknown", "title",
				M(r, "pay_receipt_title"), "number", number ? json_string(number) : json_null());
	struct pay_receipt rc;
	if (!number || pay_receipt_get(r->db, a, number, &rc)) {
		json_object_set_new(out, "reason", json_string(M(r, "pay_verify_unknown")));
		return out;
	}
	if (!hash || strcmp(hash, rc.hash) != 0) {
		json_object_set_new(out, "reason", json_string(M(r, "pay_verify_altered")));
		return out;
	}
	json_t *c = json_loads(rc.document, 0, NULL);
	arena_cleanup(a, (void (*)(void *))json_decref, c);
	int64_t at = json_integer_value(json_object_get(c, "issued_at"));
	bool sig_ok = certs_check(r->db, a, rc.department, rc.key_id, at, rc.document, rc.signature) == 0;
	bool log_ok = false;
	struct ledger_proof p;
	const char *leaf;
	if (rc.leaf_index >= 0 && ledger_prove(r->db, a, rc.leaf_index, &p) == 0 &&
	    ledger_leaf_text(r->db, a, rc.leaf_index, &leaf) == 0) {
		unsigned char lh[LEDGER_HASH_LEN];
		ledger_leaf_hash(leaf, strlen(leaf), lh);
		json_t *lj = json_loads(leaf, 0, NULL);
		const char *ln = json_string_value(json_object_get(lj, "number")), *lhx = json_string_value(json_object_get(lj, "hash"));
		log_ok = ln && lhx && !strcmp(ln, rc.number) && !strcmp(lhx, rc.hash) &&
			 sodium_memcmp(lh, p.leaf_hash, LEDGER_HASH_LEN) == 0 &&
			 ledger_verify_inclusion((uint64_t)p.index, (uint64_t)p.tree_size, lh,
						 (const unsigned char(*)[LEDGER_HASH_LEN])p.path, p.n, p.root) == 0;
		json_decref(lj);
	}
	const char *kind = json_string_value(json_object_get(c, "kind"));
	json_t *payee = json_object_get(c, "payee"), *item = json_object_get(c, "item");
	json_t *fields = json_array();
	json_array_append_new(fields, field(a, r, N_("pay_receipt_kind"),
					    M(r, kind && !strcmp(kind, "refund") ? "pay_receipt_kind_refund" : "pay_receipt_kind_payment")));
	json_array_append_new(fields, field(a, r, N_("pay_receipt_amount"),
					    arena_printf(a, "¥%s", json_string_value(json_object_get(c, "amount")))));
	json_array_append_new(fields, field(a, r, N_("pay_receipt_payer"),
					    json_string_value(json_object_get(json_object_get(c, "payer"), "name"))));
	json_array_append_new(fields, field(a, r, N_("pay_receipt_payee"),
					    json_string_value(json_object_get(payee, en ? "name_en" : "name_zh"))));
	json_array_append_new(fields, field(a, r, N_("pay_receipt_item"),
					    json_string_value(json_object_get(item, en ? "name_en" : "name_zh"))));
	json_array_append_new(fields, field(a, r, N_("pay_receipt_application"),
					    json_string_value(json_object_get(c, "application"))));
	json_array_append_new(fields, field(a, r, N_("pay_receipt_issued_on"), json_string_value(json_object_get(c, "issued_on"))));
	json_object_set_new(out, "fields", fields);
	json_t *checks = json_array();
	json_array_append_new(checks, check(r, N_("pay_verify_check_signature"), sig_ok));
	json_array_append_new(checks, check(r, N_("pay_verify_check_log"), log_ok));
	json_object_set_new(out, "checks", checks);
	json_object_set_new(out, "hash", json_string(rc.hash));
	if (!sig_ok || !log_ok) {
		json_object_set_new(out, "reason", json_string(M(r, "pay_verify_unconfirmed")));
		return out;
	}
	json_object_set_new(out, "status", json_string("valid"));
	return out;
}

int pay_receipt_verdict(struct req *r, const json_t *doc, json_t **out)
{
	struct rdoc d;
	const char *why;
	if (rdoc_parse(r->arena, doc, &d, &why)) {
		req_error_detail(r, "%s", M(r, why));
		return GH_EVALIDATION;
	}
	/* The copy must be the receipt the hall issued under its number, and its own signature
	 * must hold. */
	*out = pay_receipt_verdict_link(r, d.number, d.hash);
	if (strcmp(d.stated_hash, d.hash) != 0 || !pay_id_ok(d.number)) {
		json_object_set_new(*out, "status", json_string("unknown"));
		json_object_set_new(*out, "reason", json_string(M(r, "pay_verify_altered")));
	}
	return 0;
}

/* ---- offline ----------------------------------------------------------------------------- */

static int proof_of(struct arena *a, json_t *log, int64_t *index, int64_t *size, const char **leaf, const char **cp,
		    unsigned char (**path)[LEDGER_HASH_LEN], size_t *n)
{
	json_t *pi = json_object_get(log, "inclusion_proof");
	*leaf = json_string_value(json_object_get(log, "leaf"));
	*cp = json_string_value(json_object_get(log, "checkpoint"));
	json_t *i = json_object_get(log, "leaf_index"), *s = json_object_get(log, "tree_size");
	if (!*leaf || !*cp || !json_is_integer(i) || !json_is_integer(s) || !json_is_array(pi) ||
	    json_array_size(pi) > PROOF_MAX)
		return GH_EINVAL;
	*index = json_integer_value(i);
	*size = json_integer_value(s);
	*n = json_array_size(pi);
	*path = arena_array(a, *n ? *n : 1, LEDGER_HASH_LEN);
	for (size_t k = 0; k < *n; k++) {
		const char *h = json_string_value(json_array_get(pi, k));
		size_t got = 0;
		if (!h || sodium_base642bin((*path)[k], LEDGER_HASH_LEN, h, strlen(h), NULL, &got, NULL,
					    sodium_base64_VARIANT_ORIGINAL) ||
		    got != LEDGER_HASH_LEN)
			return GH_EINVAL;
	}
	return 0;
}

static int verify_offline(struct arena *a, const json_t *doc, const json_t *keys, const struct view *words, FILE *out)
{
	struct rdoc d;
	const char *why;
	if (rdoc_parse(a, doc, &d, &why)) {
		fprintf(out, "receipt: INVALID: %s\n", view_msg(words, "en", why));
		return 1;
	}
	fprintf(out, "payment receipt %s (%s), issued by %s at %" PRId64 "\n", d.number, d.kind, d.department, d.issued_at);
	if (strcmp(d.stated_hash, d.hash) != 0) {
		fprintf(out, "content: INVALID: the content does not hash to the stated hash (it was altered)\n");
		return 1;
	}
	fprintf(out, "content: hash %s\n", d.hash);
	if (!keys) {
		fprintf(out, "signature: not checked (no keys document: --keys KEYS.json)\n");
		return 1;
	}
	char err[512];
	if (certs_check_offline(keys, d.department, d.key_id, d.issued_at, d.canonical, d.sig, a, words, err,
				sizeof(err))) {
		fprintf(out, "signature: INVALID: %s\n", err);
		return 1;
	}
	fprintf(out, "signature: valid (department %s, key %s)\n", d.department, d.key_id);
	int64_t index, size, csize;
	const char *leaf, *cp, *origin;
	unsigned char(*path)[LEDGER_HASH_LEN], root[LEDGER_HASH_LEN], lh[LEDGER_HASH_LEN];
	size_t n;
	if (!d.log || proof_of(a, d.log, &index, &size, &leaf, &cp, &path, &n)) {
		fprintf(out, "log: INVALID: the receipt carries no readable proof of logging\n");
		return 1;
	}
	json_t *lj = json_loads(leaf, 0, NULL);
	const char *lk = json_string_value(json_object_get(lj, "kind")), *ln = json_string_value(json_object_get(lj, "number")),
		   *lhx = json_string_value(json_object_get(lj, "hash"));
	bool match = lk && ln && lhx && !strcmp(lk, "pay_receipt") && !strcmp(ln, d.number) && !strcmp(lhx, d.hash);
	json_decref(lj);
	if (!match) {
		fprintf(out, "log: INVALID: the log leaf does not match the receipt\n");
		return 1;
	}
	if (ledger_checkpoint_verify(a, cp, keys, &origin, &csize, root, err, sizeof(err)) || csize != size) {
		fprintf(out, "log: INVALID: the tree head is not validly signed or not of the proof's size (%s)\n", err);
		return 1;
	}
	ledger_leaf_hash(leaf, strlen(leaf), lh);
	if (ledger_verify_inclusion((uint64_t)index, (uint64_t)size, lh, (const unsigned char(*)[LEDGER_HASH_LEN])path, n, root)) {
		fprintf(out, "log: INVALID: the inclusion proof fails\n");
		return 1;
	}
	fprintf(out, "log: leaf %" PRId64 " of %" PRId64 " in %s, inclusion proof valid\n", index, size, origin);
	fprintf(out, "valid\n");
	return 0;
}

int pay_verify_pdf_cli(const struct config *cfg, int nargs, char **args, int *status)
{
	const char *file = NULL, *keys_path = NULL;
	for (int i = 0; i < nargs; i++) {
		if (!strcmp(args[i], "--keys") && i + 1 < nargs) {
			keys_path = args[++i];
			continue;
		}
		if (!file && strncmp(args[i], "--", 2) != 0)
			file = args[i];
	}
	size_t len = 0;
	char *buf = file ? read_file(file, (size_t)RECEIPT_DOC_MAX * 64, &len) : NULL;
	struct arena *a = arena_new(0);
	char *json;
	size_t jlen;
	if (!buf || certs_pdf_embedded(a, buf, len, PAY_RECEIPT_MARK, &json, &jlen)) {
		free(buf);
		arena_free(a);
		return 1; /* not a receipt's PDF */
	}
	json_t *doc = json_loadb(json, jlen, JSON_REJECT_DUPLICATES, NULL), *keys = NULL;
	*status = 2;
	if (!doc)
		printf("%s: INVALID: the receipt embedded in this PDF cannot be read\n", file);
	else if (keys_path && !(keys = json_load_file(keys_path, 0, NULL)))
		printf("%s: cannot read the keys document %s\n", file, keys_path);
	else {
		struct view *words = ledger_cli_words(cfg);
		*status = verify_offline(a, doc, keys, words, stdout) ? 2 : 0;
		view_free(words);
	}
	json_decref(doc);
	json_decref(keys);
	arena_free(a);
	free(buf);
	return 0;
}

/* ---- the PDF ------------------------------------------------------------------------------ */

static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

int pay_receipt_pdf(const char *doc_json, unsigned char **pdf, size_t *len)
{
	json_t *doc = json_loads(doc_json, 0, NULL), *c = json_object_get(doc, "receipt");
	if (!json_is_object(c)) {
		json_decref(doc);
		return GH_EINTERNAL;
	}
	bool refund = !strcmp(jstr(c, "kind"), "refund");
	json_t *payee = json_object_get(c, "payee"), *item = json_object_get(c, "item"), *payer = json_object_get(c, "payer");
	struct arena *a = arena_new(0);
	/* A bilingual document, whoever downloads it: words for people come from the catalogs. */
	const char *title_zh = view_msg(pay_view(), "zh", refund ? "pay_receipt_title_refund" : "pay_receipt_title_payment");
	const char *title_en = view_msg(pay_view(), "en", refund ? "pay_receipt_title_refund" : "pay_receipt_title_payment");
#define ROW(key, v) { arena_printf(a, "%s %s", view_msg(pay_view(), "zh", key), view_msg(pay_view(), "en", key)), (v) }
	struct certs_sheet_row rows[] = {
		ROW(N_("pay_receipt_number"), jstr(c, "number")),
		ROW(N_("pay_receipt_payer"), arena_printf(a, "%s %s", jstr(payer, "name"), jstr(payer, "id_masked"))),
		ROW(N_("pay_receipt_payee"), arena_printf(a, "%s\n%s", jstr(payee, "name_zh"), jstr(payee, "name_en"))),
		ROW(N_("pay_receipt_item"), arena_printf(a, "%s\n%s", jstr(item, "name_zh"), jstr(item, "name_en"))),
		ROW(N_("pay_receipt_amount"), arena_printf(a, "¥%s (CNY)", jstr(c, "amount"))),
		ROW(N_("pay_receipt_application"), jstr(c, "application")),
		ROW(N_("pay_receipt_order"), jstr(c, "order")),
		ROW(N_("pay_receipt_gateway"), jstr(c, "gateway_payment")),
		ROW(N_("pay_receipt_refund"), refund ? jstr(c, "refund") : ""),
		ROW(N_("pay_receipt_basis"), arena_printf(a, "%s\n%s", jstr(c, "basis_zh"), jstr(c, "basis_en"))),
		ROW(N_("pay_receipt_issued_on"), jstr(c, "issued_on")),
	};
#undef ROW
	json_t *sig = json_object_get(doc, "signature"), *log = json_object_get(doc, "log");
	const char *verify = arena_printf(a, "%s?h=%s", jstr(c, "verify_url"), jstr(doc, "hash"));
	char idx[32] = "-";
	if (json_is_integer(json_object_get(log, "leaf_index")))
		snprintf(idx, sizeof(idx), "%lld", (long long)json_integer_value(json_object_get(log, "leaf_index")));
	const struct msg_arg vars[] = { MA("key", jstr(sig, "key_id")), MA("leaf", idx) };
	struct certs_sheet sh = {
		.title_zh = title_zh, .title_en = title_en, .subtitle = jstr(c, "number"), .subject = title_en,
		.rows = rows, .nrows = ARRAY_LEN(rows), .qr = verify,
		.qr_caption = arena_printf(a, "%s %s", view_msg(pay_view(), "zh", "pay_receipt_scan"),
					   view_msg(pay_view(), "en", "pay_receipt_scan")),
		.note_zh = view_fmt(pay_view(), "zh", a, "pay_receipt_note", vars, ARRAY_LEN(vars)),
		.note_en = view_fmt(pay_view(), "en", a, "pay_receipt_note", vars, ARRAY_LEN(vars)),
		.mark = PAY_RECEIPT_MARK, .document = doc_json,
	};
	/* Rows without a value (no refund on a payment's receipt) are left out. */
	size_t k = 0;
	for (size_t i = 0; i < sh.nrows; i++)
		if (rows[i].value && *rows[i].value)
			rows[k++] = rows[i];
	sh.nrows = k;
	int rc = certs_sheet_pdf(&sh, pdf, len);
	arena_free(a);
	json_decref(doc);
	return rc;
}

/* ---- QR codes on pages ------------------------------------------------------------------- */

const char *pay_qr_svg(struct arena *a, const char *text)
{
	QRcode *q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	if (!q)
		return "";
	int quiet = 4, size = q->width + 2 * quiet;
	struct sb s = SB_INIT;
	sb_addf(&s, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" class=\"qr\" aria-hidden=\"true\" "
		    "shape-rendering=\"crispEdges\"><rect width=\"%d\" height=\"%d\" fill=\"#fff\"/><path fill=\"#000\" d=\"",
		size, size, size, size);
	for (int y = 0; y < q->width; y++)
		for (int x = 0; x < q->width; x++)
			if (q->data[y * q->width + x] & 1)
				sb_addf(&s, "M%d %dh1v1h-1z", x + quiet, y + quiet);
	sb_adds(&s, "\"/></svg>");
	QRcode_free(q);
	const char *out = arena_strndup(a, s.buf, s.len);
	sb_release(&s);
	return out;
}

/* ---- registration ------------------------------------------------------------------------ */

void pay_receipt_register(void)
{
	cover_declare(&cover_receipts);
}

void pay_receipt_verify_types(void);
void pay_receipt_verify_types(void)
{
	ledger_verify_type(PAY_RECEIPT_TYPE, verify_offline);
	certs_verify_type(PAY_RECEIPT_TYPE, PAY_RECEIPT_MARK, pay_receipt_verdict);
}
