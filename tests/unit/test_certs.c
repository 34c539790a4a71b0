/* test_certs: the certificate document (parse, hash, signature, published keys and their
 * validity, tampering), its PDF rendition (the document embedded and extracted again), long
 * documents on as many pages as they take (certs_book_render), and
 * departments' keys in the database (first key, rotation, sealing, the published list) on
 * SQLite and PostgreSQL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "base/arena.h"
#include "base/err.h"
#include "certs/certs_impl.h"
#include "identity/crypto.h"
#include "store/db.h"
#include "testdb.h"
#include "view/view.h"

/* The project's catalogs: the reasons are their keys. */
static struct view *V;

/* ---- a document signed here ---------------------------------------------------------------- */

struct signed_doc {
	unsigned char pk[32], sk[64];
	char *text; /* the whole document (malloc) */
	json_t *keys;
};

static json_t *content(void)
{
	return json_pack("{s:s,s:s,s:{s:s,s:s},s:{s:s,s:s,s:s},s:I,s:s,s:[{s:s,s:s,s:s,s:s}]}", "number",
			 "CIV-20260105-000001", "cert_type", "marriage_cert", "holder", "name", "张三", "id_masked",
			 "1101**********002X", "issuer", "code", "civ", "name_zh", "清河市民政局", "name_en", "Civil Affairs",
			 "issued_at", (json_int_t)1767600000, "issued_on", "2026-01-05", "content", "key", "bride_name",
			 "label_zh", "女方姓名", "label_en", "Bride", "value", "王五");
}

/* Signs cert (stolen) as key "k1" of department dept valid from `from`. */
static void make_doc(struct signed_doc *s, json_t *cert, const char *dept, long long from, bool with_hash)
{
	crypto_sign_keypair(s->pk, s->sk);
	char *canon = json_dumps(cert, JSON_COMPACT | JSON_SORT_KEYS);
	unsigned char sig[64];
	crypto_sign_detached(sig, NULL, (unsigned char *)canon, strlen(canon), s->sk);
	char hash[65], sig64[100], pk64[60];
	cert_sha256_hex(canon, strlen(canon), hash);
	sodium_bin2base64(sig64, sizeof(sig64), sig, 64, sodium_base64_VARIANT_ORIGINAL);
	sodium_bin2base64(pk64, sizeof(pk64), s->pk, 32, sodium_base64_VARIANT_ORIGINAL);
	json_t *doc = json_pack("{s:s,s:o,s:{s:s,s:s,s:s}}", "type", CERT_DOC_TYPE, "certificate", cert, "signature",
				"algorithm", "Ed25519", "key_id", "k1", "value", sig64);
	if (with_hash)
		json_object_set_new(doc, "hash", json_string(hash));
	s->text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	free(canon);
	s->keys = json_pack("{s:[{s:s,s:s,s:s,s:s,s:I,s:n}]}", "departments", "key_id", "k1", "department", dept,
			    "algorithm", "Ed25519", "public_key", pk64, "valid_from", (json_int_t)from, "valid_until");
}

static void free_doc(struct signed_doc *s)
{
	free(s->text);
	json_decref(s->keys);
}

static void test_parse_and_sign(void **state)
{
	(void)state;
	struct arena *a = arena_new(0);
	struct signed_doc s;
	make_doc(&s, content(), "civ", 1767000000, true);
	struct cert_doc d;
	struct cert_why err;
	assert_int_equal(cert_doc_parse(a, s.text, strlen(s.text), &d, &err), 0);
	assert_string_equal(d.number, "CIV-20260105-000001");
	assert_string_equal(d.department, "civ");
	assert_string_equal(d.key_id, "k1");
	assert_int_equal(d.issued_at, 1767600000);
	assert_false(d.has_log);
	unsigned char pk[32];
	assert_int_equal(cert_keys_find(s.keys, &d, pk, &err), 0);
	assert_memory_equal(pk, s.pk, 32);
	assert_int_equal(cert_doc_check_signature(&d, pk), 0);
	/* Offline verification needs the log's proof: without it, not valid. */
	FILE *null = fopen("/dev/null", "w");
	json_t *root = json_loads(s.text, 0, NULL);
	assert_int_equal(cert_verify_offline(a, root, s.keys, V, null), 1);
	assert_int_equal(cert_doc_check_log(a, &d, s.keys, &err), GH_EINVAL);
	json_decref(root);
	fclose(null);
	free_doc(&s);
	arena_free(a);
}

static void test_tampering(void **state)
{
	(void)state;
	struct arena *a = arena_new(0);
	struct signed_doc s;
	make_doc(&s, content(), "civ", 1767000000, true);
	char *alt = strstr(s.text, "王五");
	assert_non_null(alt);
	memcpy(alt, "赵六", strlen("赵六"));
	struct cert_doc d;
	struct cert_why err;
	/* With its hash: a certificate in form (it parses), whose problem is that the hash no
	 * longer matches: a verdict, not a parse failure. */
	assert_int_equal(cert_doc_parse(a, s.text, strlen(s.text), &d, &err), 0);
	assert_non_null(d.problem);
	assert_non_null(strstr(view_msg(V, "en", d.problem), "altered"));
	assert_non_null(strstr(view_msg(V, "zh", d.problem), "改动"));
	free_doc(&s);
	/* Without its hash: parses, but the signature fails. */
	make_doc(&s, content(), "civ", 1767000000, false);
	alt = strstr(s.text, "王五");
	memcpy(alt, "赵六", strlen("赵六"));
	assert_int_equal(cert_doc_parse(a, s.text, strlen(s.text), &d, &err), 0);
	assert_null(d.problem);
	unsigned char pk[32];
	assert_int_equal(cert_keys_find(s.keys, &d, pk, &err), 0);
	assert_int_equal(cert_doc_check_signature(&d, pk), GH_EINVAL);
	free_doc(&s);
	arena_free(a);
}

static void test_key_validity(void **state)
{
	(void)state;
	struct arena *a = arena_new(0);
	struct signed_doc s;
	struct cert_doc d;
	struct cert_why err;
	unsigned char pk[32];
	/* A key of another department. */
	make_doc(&s, content(), "psb", 1767000000, true);
	assert_int_equal(cert_doc_parse(a, s.text, strlen(s.text), &d, &err), 0);
	assert_int_equal(cert_keys_find(s.keys, &d, pk, &err), GH_EINVAL);
	free_doc(&s);
	/* A key that was not yet valid at the issue date. */
	make_doc(&s, content(), "civ", 1767600001, true);
	assert_int_equal(cert_doc_parse(a, s.text, strlen(s.text), &d, &err), 0);
	assert_int_equal(cert_keys_find(s.keys, &d, pk, &err), GH_EINVAL);
	/* An ended key still verifies what it signed while valid. */
	json_object_set_new(json_array_get(json_object_get(s.keys, "departments"), 0), "valid_from", json_integer(1));
	json_object_set_new(json_array_get(json_object_get(s.keys, "departments"), 0), "valid_until",
			    json_integer(1767600000));
	assert_int_equal(cert_keys_find(s.keys, &d, pk, &err), 0);
	json_object_set_new(json_array_get(json_object_get(s.keys, "departments"), 0), "valid_until",
			    json_integer(1767599999));
	assert_int_equal(cert_keys_find(s.keys, &d, pk, &err), GH_EINVAL);
	/* An unpublished key. */
	json_t *empty = json_object();
	assert_int_equal(cert_keys_find(empty, &d, pk, &err), GH_EINVAL);
	json_decref(empty);
	free_doc(&s);
	arena_free(a);
}

static void test_bad_documents(void **state)
{
	(void)state;
	struct arena *a = arena_new(0);
	struct cert_doc d;
	struct cert_why err;
	const char *bad[] = {
		"", "null", "[]", "{\"type\":\"govhall.receipt/v1\"}", "{\"type\":\"govhall.certificate/v1\"}",
		"{\"type\":\"govhall.certificate/v1\",\"certificate\":{\"number\":\"a b\",\"cert_type\":\"x\",\"issuer\":{\"code\":\"c\"},\"issued_at\":1}}",
		"{\"type\":\"govhall.certificate/v1\",\"type\":\"govhall.certificate/v1\"}",
		"%PDF-1.7\n%%EOF", "%PDF-1.7 govhall-certificate:!!!",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err.key = NULL;
		assert_int_equal(cert_doc_parse(a, bad[i], strlen(bad[i]), &d, &err), GH_EINVAL);
		assert_true(view_has(V, err.key));
	}
	/* Certificates in form whose signature or log proof is not well-formed parse, with the
	 * problem named (a verdict of unknown online, INVALID offline). */
	const char *flawed[][2] = {
		{ "{\"type\":\"govhall.certificate/v1\",\"certificate\":{\"number\":\"A-1\",\"cert_type\":\"x\",\"issuer\":{\"code\":\"c\"},\"issued_at\":1},\"signature\":{\"algorithm\":\"RSA\",\"key_id\":\"k\",\"value\":\"AAAA\"}}",
		  "signature" },
		{ "{\"type\":\"govhall.certificate/v1\",\"certificate\":{\"number\":\"A-1\",\"cert_type\":\"x\",\"issuer\":{\"code\":\"c\"},\"issued_at\":1}}",
		  "signature" },
		{ "{\"type\":\"govhall.certificate/v1\",\"certificate\":{\"number\":\"A-1\",\"cert_type\":\"x\",\"issuer\":{\"code\":\"c\"},\"issued_at\":1},\"signature\":{\"algorithm\":\"Ed25519\",\"key_id\":\"k\",\"value\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\"},\"log\":{\"leaf_index\":-1}}",
		  "log proof" },
	};
	for (size_t i = 0; i < sizeof(flawed) / sizeof(flawed[0]); i++) {
		assert_int_equal(cert_doc_parse(a, flawed[i][0], strlen(flawed[i][0]), &d, &err), 0);
		assert_non_null(d.problem);
		assert_true(view_has(V, d.problem));
		assert_non_null(strstr(view_msg(V, "en", d.problem), flawed[i][1]));
		assert_non_null(d.key_id);
		assert_false(d.has_log);
	}
	arena_free(a);
}

static void test_pdf_roundtrip(void **state)
{
	(void)state;
	struct arena *a = arena_new(0);
	struct signed_doc s;
	make_doc(&s, content(), "civ", 1767000000, true);
	unsigned char *pdf = NULL;
	size_t len = 0;
	assert_int_equal(cert_pdf_render(s.text, V, &pdf, &len), 0);
	assert_true(len > 1000);
	assert_memory_equal(pdf, "%PDF-", 5);
	assert_non_null(memmem(pdf, len, "FontFile", 8));
	char *json;
	size_t jlen;
	assert_int_equal(cert_pdf_extract(a, (const char *)pdf, len, &json, &jlen), 0);
	assert_int_equal(jlen, strlen(s.text));
	assert_string_equal(json, s.text);
	struct cert_doc d;
	struct cert_why err;
	assert_int_equal(cert_doc_parse(a, (const char *)pdf, len, &d, &err), 0);
	assert_string_equal(d.number, "CIV-20260105-000001");
	assert_int_equal(cert_pdf_extract(a, "{}", 2, &json, &jlen), GH_ENOTFOUND);
	free(pdf);
	free_doc(&s);
	arena_free(a);
}

/* ---- long documents (certs_book_render) ---------------------------------------------------- */

/* The page count of a PDF cairo wrote (its page tree's /Count), or -1. */
static long pdf_pages(const unsigned char *pdf, size_t len)
{
	const unsigned char *p = memmem(pdf, len, "/Type /Pages", 12);
	const unsigned char *c = p ? memmem(p, len - (size_t)(p - pdf), "/Count ", 7) : NULL;
	return c ? strtol((const char *)c + 7, NULL, 10) : -1;
}

/* A book of one section of n records of three lines (one of them long: it wraps), as JSON. */
static char *book_of(size_t n)
{
	json_t *records = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(records,
				      json_pack("[{s:s,s:s},{s:s,s:s},{s:s,s:s}]", "label", "办件编号", "value",
						"QH-20260105-000001", "label", "状态", "value", "已受理", "label", "用途",
						"value", "一二三四五六七八九十 一二三四五六七八九十 一二三四五六七八九十 "
							 "一二三四五六七八九十 一二三四五六七八九十 一二三四五六七八九十"));
	json_t *doc = json_pack("{s:s,s:s,s:[{s:s,s:s,s:o}]}", "title", "我的数据", "subtitle", "生成时间", "sections",
				"title", "办件", "note", "注销后保留", "records", records);
	char *text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	return text;
}

static void test_book_pages(void **state)
{
	(void)state;
	long pages[2];
	size_t sizes[2] = { 2, 400 };
	for (int i = 0; i < 2; i++) {
		char *doc = book_of(sizes[i]);
		unsigned char *pdf = NULL;
		size_t len = 0;
		assert_int_equal(certs_book_render(doc, V, &pdf, &len), 0);
		assert_memory_equal(pdf, "%PDF-", 5);
		pages[i] = pdf_pages(pdf, len);
		free(pdf);
		free(doc);
	}
	assert_int_equal(pages[0], 1);
	/* 400 records of four lines and a rule: far more than one A4 page holds, none lost */
	assert_true(pages[1] > 10);
	unsigned char *pdf = NULL;
	size_t len = 0;
	assert_int_equal(certs_book_render("{not json", V, &pdf, &len), GH_EINTERNAL);
	assert_null(pdf);
	assert_int_equal(certs_book_render("{}", V, &pdf, &len), 0); /* nothing to say: one page */
	assert_int_equal(pdf_pages(pdf, len), 1);
	free(pdf);
}

/* ---- keys in the database ------------------------------------------------------------------ */

struct fx {
	struct testdb t;
	struct keyring *k;
	char dir[64];
	bool skip;
};

static int setup(void **state, enum db_kind kind)
{
	struct fx *f = calloc(1, sizeof(*f));
	*state = f;
	int rc = testdb_open(&f->t, kind, "certs");
	if (rc == 1) {
		f->skip = true;
		return 0;
	}
	char err[256];
	if (rc || db_migrate(f->t.db, err, sizeof(err)))
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/certs-keys-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	char path[128];
	snprintf(path, sizeof(path), "%s/k", f->dir);
	if (keyring_create(path, err, sizeof(err)) || keyring_load(path, &f->k, err, sizeof(err)))
		return -1;
	DB_SQL(q_dept, "INSERT INTO departments (code, name_zh, name_en) VALUES ('civ', '民政局', 'Civil Affairs')");
	return db_exec(f->t.db, &q_dept, DB_NOARGS, NULL) ? -1 : 0;
}

static int setup_sqlite(void **state)
{
	return setup(state, DB_SQLITE);
}

static int setup_pg(void **state)
{
	return setup(state, DB_POSTGRES);
}

static int teardown(void **state)
{
	struct fx *f = *state;
	if (f->k)
		keyring_free(f->k);
	if (!f->skip)
		testdb_close(&f->t);
	if (f->dir[0]) {
		char path[128];
		snprintf(path, sizeof(path), "%s/k", f->dir);
		unlink(path);
		rmdir(f->dir);
	}
	free(f);
	return 0;
}

static void test_keys(void **state)
{
	struct fx *f = *state;
	if (f->skip)
		skip();
	struct arena *a = arena_new(0);
	struct db *db = f->t.db;
	struct cert_key k1, k2, cur;
	unsigned char sk[64];
	/* The first certificate makes the department's key; the same key comes back after. */
	assert_int_equal(cert_key_current(db, f->k, a, "civ", &k1, sk), 0);
	unsigned char pk[32], sig[64];
	assert_int_equal(cert_unb64(k1.public_key, pk, 32), 0);
	crypto_sign_detached(sig, NULL, (const unsigned char *)"x", 1, sk);
	assert_int_equal(crypto_sign_verify_detached(sig, (const unsigned char *)"x", 1, pk), 0);
	assert_int_equal(cert_key_current(db, f->k, a, "civ", &cur, sk), 0);
	assert_string_equal(cur.key_id, k1.key_id);
	/* The secret is sealed at rest: not in the row in clear. */
	DB_SQL(q_secret, "SELECT secret_sealed FROM cert_keys WHERE key_id = ?");
	struct db_rows rows;
	assert_int_equal(db_query(db, a, &q_secret, DB_ARGS(DB_TEXT(k1.key_id)), &rows), 0);
	assert_int_equal(rows.lens[0], 64 + CRYPTO_SEAL_OVERHEAD);
	assert_null(memmem(rows.cells[0], rows.lens[0], sk, 64));
	/* Rotation: a new current key; the old one ends and stays listed and published. */
	assert_int_equal(cert_key_new(db, f->k, a, "civ", &k2), 0);
	assert_string_not_equal(k2.key_id, k1.key_id);
	assert_int_equal(cert_key_current(db, f->k, a, "civ", &cur, sk), 0);
	assert_string_equal(cur.key_id, k2.key_id);
	struct cert_key *v;
	size_t n;
	assert_int_equal(cert_keys_list(db, a, "civ", &v, &n), 0);
	assert_int_equal(n, 2);
	assert_true(v[0].valid_until > 0);
	assert_int_equal(v[1].valid_until, 0);
	json_t *keys = json_object();
	assert_int_equal(cert_keys_wellknown(db, a, keys), 0);
	json_t *list = json_object_get(keys, "departments");
	assert_int_equal(json_array_size(list), 2);
	assert_true(json_is_false(json_object_get(json_array_get(list, 0), "current")));
	assert_true(json_is_true(json_object_get(json_array_get(list, 1), "current")));
	json_decref(keys);
	/* Unknown department: nothing made. */
	assert_int_equal(cert_key_new(db, f->k, a, "nope", &k2), GH_ENOTFOUND);
	/* Without the key file nothing is signed. */
	assert_int_equal(cert_key_current(db, NULL, a, "civ", &cur, sk), GH_EUNAVAILABLE);
	sodium_memzero(sk, sizeof(sk));
	arena_free(a);
}

int main(void)
{
	crypto_global_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_and_sign),
		cmocka_unit_test(test_tampering),
		cmocka_unit_test(test_key_validity),
		cmocka_unit_test(test_bad_documents),
		cmocka_unit_test(test_pdf_roundtrip),
		cmocka_unit_test(test_book_pages),
		cmocka_unit_test_setup_teardown(test_keys, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_keys, setup_pg, teardown),
	};
	char verr[512];
	if (view_load("templates", "data/i18n", &V, verr, sizeof(verr))) {
		fprintf(stderr, "view_load: %s\n", verr);
		return 1;
	}
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	view_free(V);
	return rc;
}
