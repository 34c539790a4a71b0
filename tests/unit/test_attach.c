/* Unit tests for src/cases/attach.c: type sniffing, content-addressed storage, names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
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

static size_t count_files(const char *dir)
{
	DIR *d = opendir(dir);
	size_t n = 0;
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	if (d)
		closedir(d);
	return n;
}

static void test_store(void **state)
{
	struct fixture *f = *state;
	struct attach_info info;
	assert_int_equal(attach_store(f->dir, f->a, pdf, sizeof(pdf) - 1, 1 << 20, &info), 0);
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
	/* dir/ab/cd/<hex>, mode 0640, directories 0750, the same bytes. */
	char path[512], sub[256];
	snprintf(sub, sizeof(sub), "%s/%.2s/%.2s", f->dir, hex, hex + 2);
	snprintf(path, sizeof(path), "%s/%s", sub, hex);
	struct stat st;
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0640);
	assert_int_equal(st.st_size, sizeof(pdf) - 1);
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0750);
	FILE *fp = fopen(path, "rb");
	char buf[512];
	size_t n = fread(buf, 1, sizeof(buf), fp);
	fclose(fp);
	assert_int_equal(n, sizeof(pdf) - 1);
	assert_memory_equal(buf, pdf, n);

	/* Twice: one file, nothing written, no temporary left behind. */
	struct attach_info again;
	assert_int_equal(attach_store(f->dir, f->a, pdf, sizeof(pdf) - 1, 1 << 20, &again), 0);
	assert_true(again.existed);
	assert_string_equal(again.sha256, info.sha256);
	assert_int_equal(count_files(sub), 1);
	assert_int_equal(count_files(f->dir), 1);

	/* The other types. */
	assert_int_equal(attach_store(f->dir, f->a, png, sizeof(png), 1 << 20, &info), 0);
	assert_string_equal(info.mime, "image/png");
	assert_int_equal(attach_store(f->dir, f->a, jpeg, sizeof(jpeg), 1 << 20, &info), 0);
	assert_string_equal(info.mime, "image/jpeg");

	/* Refused types and sizes write nothing. */
	size_t before = count_files(f->dir);
	assert_int_equal(attach_store(f->dir, f->a, text, sizeof(text) - 1, 1 << 20, &info), GH_EUNSUPPORTED);
	assert_non_null(info.detected);
	assert_int_equal(attach_store(f->dir, f->a, html, sizeof(html) - 1, 1 << 20, &info), GH_EUNSUPPORTED);
	assert_int_equal(attach_store(f->dir, f->a, pdf, sizeof(pdf) - 1, sizeof(pdf) - 2, &info), GH_ETOOBIG);
	assert_int_equal(attach_store(f->dir, f->a, pdf, sizeof(pdf) - 1, sizeof(pdf) - 1, &again), 0);
	assert_int_equal(count_files(f->dir), before);

	/* A directory that cannot be created. */
	assert_int_equal(attach_store("/proc/nonexistent/x", f->a, png, sizeof(png), 1 << 20, &info), GH_EIO);
}

static void test_open(void **state)
{
	struct fixture *f = *state;
	struct attach_info info;
	assert_int_equal(attach_store(f->dir, f->a, png, sizeof(png), 1 << 20, &info), 0);
	int fd;
	size_t size;
	assert_int_equal(attach_open(f->dir, info.sha256, &fd, &size), 0);
	assert_true(fd >= 0);
	assert_int_equal(size, sizeof(png));
	unsigned char buf[64];
	assert_int_equal(read(fd, buf, sizeof(buf)), sizeof(png));
	assert_memory_equal(buf, png, sizeof(png));
	close(fd);

	char upper[65];
	memcpy(upper, info.sha256, 65);
	for (int i = 0; i < 64; i++)
		if (upper[i] >= 'a')
			upper[i] = (char)(upper[i] - 'a' + 'A');
	char longer[70];
	snprintf(longer, sizeof(longer), "%s0", info.sha256);
	char slash[65];
	memcpy(slash, info.sha256, 65);
	slash[10] = '/';
	const char *bad[] = { "../x", "", "abc", upper, longer, slash,
			      "../../../../../../../../../../../../../../../../../../../../etc/passwd",
			      "0000000000000000000000000000000000000000000000000000000000000g00" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(attach_name_valid(bad[i]));
		assert_int_equal(attach_open(f->dir, bad[i], &fd, &size), GH_EINVAL);
		assert_int_equal(fd, -1);
	}
	assert_false(attach_name_valid(NULL));
	assert_int_equal(attach_open(f->dir, "0000000000000000000000000000000000000000000000000000000000000000", &fd, &size),
			 GH_ENOTFOUND);
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

int main(void)
{
	attach_global_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sniff, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disposition, setup, teardown),
		cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
