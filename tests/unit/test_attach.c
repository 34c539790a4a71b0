/* Unit tests for src/cases/attach.c and src/store/blob.c: type sniffing, content-addressed
 * storage in the database (chunks, damage, collection, import of the old on-disk layout) on
 * SQLite and PostgreSQL, names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "cases/attach.h"
#include "store/blob.h"
#include "store/db.h"
#include "testdb.h"

static const char pdf[] = "%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
			  "trailer\n<< /Root 1 0 R >>\n%%EOF\n";
static const unsigned char png[] = {
	0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n',      /* signature */
	0, 0, 0, 13, 'I', 'H', 'D', 'R', 0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, /* 1x1 RGBA */
	0x1f, 0x15, 0xc4, 0x89,                           /* CRC */
};
static const unsigned char jpeg[] = {
	0xFF, 0xD8, 0xFF, 0xE0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 0xFF, 0xD9,
};
static const char text[] = "This is a plain text file that someone renamed to proof.pdf.\n";
static const char html[] = "<!DOCTYPE html>\n<html><head><title>x</title></head>"
			   "<body><script>alert(document.cookie)</script></body></html>\n";

struct fixture {
	char dir[64];
	struct arena *a;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/gh-attach-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	f->a = arena_new(4096);
	umask(022);
	*state = f;
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	arena_free(f->a);
	free(f);
	return 0;
}

static void test_sniff(void **state)
{
	struct fixture *f = *state;
	const char *mime, *det;
	assert_int_equal(attach_sniff(f->a, pdf, sizeof(pdf) - 1, &mime, &det), 0);
	assert_string_equal(mime, "application/pdf");
	assert_int_equal(attach_sniff(f->a, png, sizeof(png), &mime, &det), 0);
	assert_string_equal(mime, "image/png");
	assert_int_equal(attach_sniff(f->a, jpeg, sizeof(jpeg), &mime, &det), 0);
	assert_string_equal(mime, "image/jpeg");
	assert_int_equal(attach_sniff(f->a, text, sizeof(text) - 1, &mime, &det), GH_EUNSUPPORTED);
	assert_null(mime);
	assert_non_null(det);
	assert_string_not_equal(det, "application/pdf");
	assert_int_equal(attach_sniff(f->a, html, sizeof(html) - 1, &mime, &det), GH_EUNSUPPORTED);
	assert_int_equal(attach_sniff(f->a, "", 0, &mime, &det), GH_EUNSUPPORTED);
	/* A PDF with junk in front is not accepted, whatever libmagic thinks of it. */
	char junk[200];
	memset(junk, ' ', 100);
	memcpy(junk + 100, pdf, 60);
	assert_int_equal(attach_sniff(f->a, junk, 160, &mime, NULL), GH_EUNSUPPORTED);
	/* An SVG (script-capable image) is refused. */
	static const char svg[] = "<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>\n";
	assert_int_equal(attach_sniff(f->a, svg, sizeof(svg) - 1, &mime, NULL), GH_EUNSUPPORTED);
}

/* ---- storage in the database, on both backends ---- */

struct dbfx {
	struct testdb t;
	struct arena *a;
	char dir[64];
};

static enum db_kind kind_sqlite = DB_SQLITE, kind_pg = DB_POSTGRES;

static int db_setup(void **state)
{
	enum db_kind kind = *(enum db_kind *)*state;
	struct dbfx *f = calloc(1, sizeof(*f));
	*state = f;
	int rc = testdb_open(&f->t, kind, "attach");
	if (rc == 1)
		return 0;
	char err[256];
	if (rc || db_migrate(f->t.db, err, sizeof(err)))
		return -1;
	f->a = arena_new(4096);
	snprintf(f->dir, sizeof(f->dir), "/tmp/gh-attach-XXXXXX");
	return mkdtemp(f->dir) ? 0 : -1;
}

static int db_teardown(void **state)
{
	struct dbfx *f = *state;
	if (f->t.db)
		testdb_close(&f->t);
	if (f->dir[0])
		nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	if (f->a)
		arena_free(f->a);
	free(f);
	return 0;
}

#define DBFX()                   \
	struct dbfx *f = *state; \
	if (!f->t.db)            \
		skip();          \
	(void)f

static int64_t count(struct dbfx *f, const char *sql)
{
	struct db_sql q = { .sql = sql };
	struct db_rows rows;
	assert_int_equal(db_query(f->t.db, f->a, &q, DB_NOARGS, &rows), 0);
	return db_cell_int(&rows, 0, 0);
}

struct collect {
	unsigned char *buf;
	size_t len, cap, calls;
};

static int collect(void *ctx, const void *p, size_t n)
{
	struct collect *c = ctx;
	if (n > c->cap - c->len)
		return GH_ETOOBIG;
	memcpy(c->buf + c->len, p, n);
	c->len += n;
	c->calls++;
	return 0;
}

static void test_store(void **state)
{
	DBFX();
	struct attach_info info;
	assert_int_equal(attach_store(f->t.db, f->a, pdf, sizeof(pdf) - 1, 1 << 20, &info), 0);
	assert_string_equal(info.mime, "application/pdf");
	assert_int_equal(info.size, sizeof(pdf) - 1);
	assert_false(info.existed);
	assert_true(attach_name_valid(info.sha256));
	/* The name is the SHA-256 of the bytes. */
	unsigned char h[32];
	char hex[65];
	crypto_hash_sha256(h, (const unsigned char *)pdf, sizeof(pdf) - 1);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	assert_string_equal(info.sha256, hex);

	/* The same bytes again: one blob. */
	struct attach_info again;
	assert_int_equal(attach_store(f->t.db, f->a, pdf, sizeof(pdf) - 1, 1 << 20, &again), 0);
	assert_true(again.existed);
	assert_string_equal(again.sha256, info.sha256);
	assert_int_equal(count(f, "SELECT COUNT(*) FROM blobs"), 1);

	assert_int_equal(attach_store(f->t.db, f->a, png, sizeof(png), 1 << 20, &info), 0);
	assert_string_equal(info.mime, "image/png");
	assert_int_equal(attach_store(f->t.db, f->a, jpeg, sizeof(jpeg), 1 << 20, &info), 0);
	assert_string_equal(info.mime, "image/jpeg");

	/* Refused: nothing is stored. */
	assert_int_equal(attach_store(f->t.db, f->a, text, sizeof(text) - 1, 1 << 20, &info), GH_EUNSUPPORTED);
	assert_non_null(info.detected);
	assert_int_equal(attach_store(f->t.db, f->a, html, sizeof(html) - 1, 1 << 20, &info), GH_EUNSUPPORTED);
	assert_int_equal(attach_store(f->t.db, f->a, pdf, sizeof(pdf) - 1, sizeof(pdf) - 2, &info), GH_ETOOBIG);
	assert_int_equal(count(f, "SELECT COUNT(*) FROM blobs"), 3);
}

/* A file larger than a chunk: cut into rows of at most BLOB_CHUNK bytes, read back in order,
 * byte for byte, one chunk at a time. */
static void test_chunks(void **state)
{
	DBFX();
	size_t n = 2 * BLOB_CHUNK + 12345;
	unsigned char *big = malloc(n);
	memcpy(big, "%PDF-1.7\n", 9);
	for (size_t i = 9; i < n; i++)
		big[i] = (unsigned char)(i * 2654435761u >> 13);
	struct attach_info info;
	assert_int_equal(attach_store(f->t.db, f->a, big, n, n, &info), 0);
	assert_int_equal(count(f, "SELECT COUNT(*) FROM blob_chunks"), 3);
	assert_int_equal(count(f, "SELECT MAX(LENGTH(data)) FROM blob_chunks"), BLOB_CHUNK);
	size_t size = 0;
	assert_int_equal(blob_size(f->t.db, f->a, info.sha256, &size), 0);
	assert_int_equal(size, n);
	struct collect c = { malloc(n), 0, n, 0 };
	assert_int_equal(blob_read(f->t.db, info.sha256, collect, &c), 0);
	assert_int_equal(c.len, n);
	assert_int_equal(c.calls, 3);
	assert_memory_equal(c.buf, big, n);

	/* A damaged chunk is found by the hash, not served. */
	struct db_sql q = { .sql = "UPDATE blob_chunks SET data = ? WHERE seq = 1" };
	memset(big + BLOB_CHUNK, 'x', BLOB_CHUNK);
	assert_int_equal(db_exec(f->t.db, &q, DB_ARGS(DB_BLOB(big + BLOB_CHUNK, BLOB_CHUNK)), NULL), 0);
	c.len = c.calls = 0;
	assert_int_equal(blob_read(f->t.db, info.sha256, collect, &c), GH_EIO);
	/* A missing chunk too. */
	struct db_sql del = { .sql = "DELETE FROM blob_chunks WHERE seq = 2" };
	assert_int_equal(db_exec(f->t.db, &del, DB_NOARGS, NULL), 0);
	c.len = c.calls = 0;
	assert_int_equal(blob_read(f->t.db, info.sha256, collect, &c), GH_EIO);
	assert_int_equal(blob_read(f->t.db, "0000000000000000000000000000000000000000000000000000000000000000",
				   collect, &c), GH_ENOTFOUND);
	free(c.buf);
	free(big);
}

/* The collection removes blobs no row names, and only after the grace period. */
static void test_gc(void **state)
{
	DBFX();
	struct attach_info named, pub, loose, young;
	assert_int_equal(attach_store(f->t.db, f->a, pdf, sizeof(pdf) - 1, 1 << 20, &named), 0);
	assert_int_equal(attach_store(f->t.db, f->a, png, sizeof(png), 1 << 20, &pub), 0);
	assert_int_equal(attach_store(f->t.db, f->a, jpeg, sizeof(jpeg), 1 << 20, &loose), 0);
	struct db_sql acc = { .sql = "INSERT INTO accounts (kind, name, password_hash, key_id, created_at, "
				     "password_changed_at) VALUES ('individual', 'x', '', 1, 0, 0)" };
	assert_int_equal(db_exec(f->t.db, &acc, DB_NOARGS, NULL), 0);
	struct db_sql att = { .sql = "INSERT INTO attachments (sha256, mime, size, filename, owner_id, created_at) "
				     "VALUES (?, 'application/pdf', 1, 'a.pdf', (SELECT MIN(id) FROM accounts), 0)" };
	assert_int_equal(db_exec(f->t.db, &att, DB_ARGS(DB_TEXT(named.sha256)), NULL), 0);
	struct db_sql doc = { .sql = "INSERT INTO publish_documents (category, department, title_zh, body_zh, state, "
				     "author_id, created_at, updated_at) VALUES ('news', 'd1', 't', 'b', 'draft', "
				     "(SELECT MIN(id) FROM accounts), 0, 0)" };
	struct db_sql dep = { .sql = "INSERT INTO departments (code, name_zh, name_en) VALUES ('d1', '部门', 'Dept')" };
	assert_int_equal(db_exec(f->t.db, &dep, DB_NOARGS, NULL), 0);
	assert_int_equal(db_exec(f->t.db, &doc, DB_NOARGS, NULL), 0);
	struct db_sql patt = { .sql = "INSERT INTO publish_attachments (document_id, sha256, mime, size, filename, "
				      "created_at) VALUES ((SELECT MIN(id) FROM publish_documents), ?, 'image/png', 1, "
				      "'p.png', 0)" };
	assert_int_equal(db_exec(f->t.db, &patt, DB_ARGS(DB_TEXT(pub.sha256)), NULL), 0);

	/* Within the grace period nothing goes, named or not. */
	long removed = -1;
	assert_int_equal(blob_gc(f->t.db, 0, 100, &removed), 0);
	assert_int_equal(removed, 0);
	assert_int_equal(count(f, "SELECT COUNT(*) FROM blobs"), 3);

	/* A fourth blob stored "now", then the cutoff between the first three and it. */
	struct db_sql age = { .sql = "UPDATE blobs SET touched_at = 1000" };
	assert_int_equal(db_exec(f->t.db, &age, DB_NOARGS, NULL), 0);
	static const unsigned char png2[] = {
		0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R',
		0, 0, 0, 2, 0, 0, 0, 2, 8, 6, 0, 0, 0, 0x72, 0xb6, 0x0d, 0x24,
	};
	assert_int_equal(attach_store(f->t.db, f->a, png2, sizeof(png2), 1 << 20, &young), 0);
	assert_int_equal(blob_gc(f->t.db, 2000, 100, &removed), 0);
	assert_int_equal(removed, 1);
	size_t size;
	assert_int_equal(blob_size(f->t.db, f->a, loose.sha256, &size), GH_ENOTFOUND);
	assert_int_equal(count(f, "SELECT COUNT(*) FROM blob_chunks c WHERE NOT EXISTS "
				  "(SELECT 1 FROM blobs b WHERE b.sha256 = c.sha256)"), 0);
	assert_int_equal(blob_size(f->t.db, f->a, named.sha256, &size), 0);
	assert_int_equal(blob_size(f->t.db, f->a, pub.sha256, &size), 0);
	assert_int_equal(blob_size(f->t.db, f->a, young.sha256, &size), 0);

	/* Storing a blob again touches it: an old unnamed blob about to be named stays. */
	assert_int_equal(db_exec(f->t.db, &age, DB_NOARGS, NULL), 0);
	assert_int_equal(attach_store(f->t.db, f->a, png2, sizeof(png2), 1 << 20, &young), 0);
	assert_true(young.existed);
	assert_int_equal(blob_gc(f->t.db, 2000, 100, &removed), 0);
	assert_int_equal(removed, 0);
	/* And stored again after it was collected, it is complete again. */
	assert_int_equal(blob_gc(f->t.db, INT64_MAX, 100, &removed), 0);
	assert_int_equal(removed, 1);
	assert_int_equal(attach_store(f->t.db, f->a, png2, sizeof(png2), 1 << 20, &young), 0);
	assert_false(young.existed);
	struct collect c = { malloc(64), 0, 64, 0 };
	assert_int_equal(blob_read(f->t.db, young.sha256, collect, &c), 0);
	assert_int_equal(c.len, sizeof(png2));
	free(c.buf);
}

static void write_old(const char *dir, const char *hex, const void *data, size_t n)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%.2s", dir, hex);
	mkdir(p, 0750);
	snprintf(p, sizeof(p), "%s/%.2s/%.2s", dir, hex, hex + 2);
	mkdir(p, 0750);
	snprintf(p, sizeof(p), "%s/%.2s/%.2s/%s", dir, hex, hex + 2, hex);
	FILE *fp = fopen(p, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, n, fp), n);
	fclose(fp);
}

/* Files an earlier version kept on disk move into the database; damaged or foreign files
 * are named and skipped. */
static void test_import(void **state)
{
	DBFX();
	unsigned char h[32];
	char hpdf[65], hpng[65];
	crypto_hash_sha256(h, (const unsigned char *)pdf, sizeof(pdf) - 1);
	sodium_bin2hex(hpdf, sizeof(hpdf), h, sizeof(h));
	crypto_hash_sha256(h, png, sizeof(png));
	sodium_bin2hex(hpng, sizeof(hpng), h, sizeof(h));
	write_old(f->dir, hpdf, pdf, sizeof(pdf) - 1);
	write_old(f->dir, hpng, png, sizeof(png));
	/* A file whose bytes no longer match its name, and a stray temporary file. */
	char wrong[65];
	memcpy(wrong, hpng, 65);
	wrong[63] = wrong[63] == '0' ? '1' : '0';
	write_old(f->dir, wrong, pdf, sizeof(pdf) - 1);
	char tmp[512];
	snprintf(tmp, sizeof(tmp), "%s/%.2s/%.2s/.%s.abc123", f->dir, hpdf, hpdf + 2, hpdf);
	FILE *fp = fopen(tmp, "w");
	fputs("half", fp);
	fclose(fp);

	/* The PNG is in the database already. */
	struct attach_info info;
	assert_int_equal(attach_store(f->t.db, f->a, png, sizeof(png), 1 << 20, &info), 0);
	long copied, present, bad;
	FILE *errs = tmpfile();
	assert_int_equal(attach_import_dir(f->t.db, f->dir, errs, &copied, &present, &bad), 0);
	assert_int_equal(copied, 1);
	assert_int_equal(present, 1);
	assert_int_equal(bad, 1);
	fclose(errs);
	struct collect c = { malloc(4096), 0, 4096, 0 };
	assert_int_equal(blob_read(f->t.db, hpdf, collect, &c), 0);
	assert_int_equal(c.len, sizeof(pdf) - 1);
	assert_memory_equal(c.buf, pdf, c.len);
	free(c.buf);
	size_t size;
	assert_int_equal(blob_size(f->t.db, f->a, wrong, &size), GH_ENOTFOUND);
	/* Twice is harmless. */
	errs = tmpfile();
	assert_int_equal(attach_import_dir(f->t.db, f->dir, errs, &copied, &present, &bad), 0);
	assert_int_equal(copied, 0);
	assert_int_equal(present, 2);
	fclose(errs);
	errs = tmpfile();
	assert_int_equal(attach_import_dir(f->t.db, "/proc/nonexistent", errs, &copied, &present, &bad), GH_EIO);
	fclose(errs);
}

static void test_names(void **state)
{
	(void)state;
	char ok[65];
	memset(ok, 'a', 64);
	ok[64] = 0;
	assert_true(attach_name_valid(ok));
	char upper[65];
	memcpy(upper, ok, 65);
	upper[3] = 'A';
	char longer[70];
	snprintf(longer, sizeof(longer), "%s0", ok);
	char slash[65];
	memcpy(slash, ok, 65);
	slash[10] = '/';
	const char *bad[] = { "../x", "", "abc", upper, longer, slash,
			      "../../../../../../../../../../../../../../../../../../../../etc/passwd",
			      "0000000000000000000000000000000000000000000000000000000000000g00" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(attach_name_valid(bad[i]));
	assert_false(attach_name_valid(NULL));
}

static void test_disposition(void **state)
{
	struct fixture *f = *state;
	assert_string_equal(attach_disposition(f->a, "证明.pdf"),
			    "attachment; filename=\"__.pdf\"; filename*=UTF-8''%E8%AF%81%E6%98%8E.pdf");
	assert_string_equal(attach_disposition(f->a, "a \"b\"%d;e.png"),
			    "attachment; filename=\"a _b__d;e.png\"; filename*=UTF-8''a%20%22b%22%25d%3Be.png");
	assert_string_equal(attach_disposition(f->a, "C:\\dir\\x.pdf"), "attachment; filename=\"x.pdf\"; filename*=UTF-8''x.pdf");
	assert_string_equal(attach_disposition(f->a, NULL), "attachment; filename=\"file\"; filename*=UTF-8''file");
	assert_string_equal(attach_disposition(f->a, "\xff.pdf"), "attachment; filename=\"file\"; filename*=UTF-8''file");
	assert_string_equal(attach_disposition(f->a, "x\r\nSet-Cookie: a=b"),
			    "attachment; filename=\"xSet-Cookie: a=b\"; filename*=UTF-8''xSet-Cookie%3A%20a%3Db");
}

/* libmagic handles are per thread: sniffing from several threads at once is safe. */
static void *sniff_loop(void *arg)
{
	struct arena *a = arena_new(4096);
	intptr_t bad = 0;
	for (int i = 0; i < 50; i++) {
		const char *mime;
		if (attach_sniff(a, png, sizeof(png), &mime, NULL) || strcmp(mime, "image/png"))
			bad++;
		if (attach_sniff(a, pdf, sizeof(pdf) - 1, &mime, NULL) || strcmp(mime, "application/pdf"))
			bad++;
	}
	arena_free(a);
	(void)arg;
	return (void *)bad;
}

static void test_threads(void **state)
{
	(void)state;
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, sniff_loop, NULL), 0);
	for (int i = 0; i < 4; i++) {
		void *bad;
		pthread_join(t[i], &bad);
		assert_null(bad);
	}
}

#define BOTH(fn)                                                       \
	{ #fn " [sqlite]", fn, db_setup, db_teardown, &kind_sqlite },  \
	{                                                              \
		#fn " [postgres]", fn, db_setup, db_teardown, &kind_pg \
	}

int main(void)
{
	attach_global_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sniff, setup, teardown),
		BOTH(test_store),
		BOTH(test_chunks),
		BOTH(test_gc),
		BOTH(test_import),
		cmocka_unit_test(test_names),
		cmocka_unit_test_setup_teardown(test_disposition, setup, teardown),
		cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
