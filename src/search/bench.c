/* bench.c: `govhall search-bench` — the search index beside SQLite FTS5 under load.
 *
 * Generates N items (the demo catalog's items cloned with varied names, codes and
 * departments' numbering) into a fresh SQLite database in a temporary folder, imports them
 * like any catalog, builds the index from the database (timed: the build-time budget is one
 * second for 10,000 items), fills an FTS5 table with the same documents, then runs the same
 * query mix from C concurrent clients (threads) for S seconds against each: the index
 * (analyse + rank top 10) and FTS5 (MATCH + bm25 top 10, one connection per thread). The
 * clients are served by as many threads as cores (--threads), the way the server's workers
 * serve connections; a query's latency runs from the moment a thread picks it up.
 * Prints one line per engine with queries/s, p50 and p99, and the ratio; exits 0. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "base/err.h"
#include "base/util.h"
#include "base/jsonout.h"
#include "catalog/catalog.h"
#include "search/search.h"
#include "search/search_eval.h"
#include "search/search_impl.h"
#include "store/db.h"

/* The query mix: every kind the dev set has, none of its exact wording. */
static const char *const queries[] = {
	"护照丢了怎么补", "驾驶证丢了", "二手房过户", "退休了公积金怎么取", "劳动仲裁怎么申请", "孩子转学",
	"gongjijin daikuan", "sbk", "hukou qianru", "jiehun dengji", "護照過期", "離婚登記", "申請低收入戶補助",
	"report a lost passport", "dog registration", "certificate of no criminal record",
	"how do I get a business licence", "居住正怎么办", "社保卡挂识", "结婚要办哪些手续", "退休要办哪些手续",
	"请问在哪里可以办理老年人乘车优惠卡", "营业执照", "公积金", "身份证", "出生证明", "低保", "残疾证",
	"开饭店", "新车上牌", "养老金", "失业金", "医保报销", "发票", "个税", "工伤", "法律援助", "居住证",
	"港澳通行证", "教师资格",
};

struct lat {
	uint32_t *us;
	size_t n, cap;
};

static void lat_add(struct lat *l, double ms)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 4096;
		l->us = xrealloc(l->us, l->cap * sizeof(*l->us));
	}
	l->us[l->n++] = (uint32_t)(ms * 1000.0 + 0.5);
}

static int u32cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

struct client {
	int id;
	size_t nthreads, share; /* threads, clients served by each */
	const struct sindex *ix;
	const struct lex *lx;
	const char *fts_path;
	bool fts;
	double until;
	struct lat lat;
	size_t errors;
};

static void *run_client(void *arg)
{
	struct client *c = arg;
	struct arena *a = arena_new(64 * 1024);
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	if (c->fts && sqlite3_open_v2(c->fts_path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		c->errors++;
		return NULL;
	}
	/* This thread serves its share of the clients in turn, one query each. */
	size_t turn = 0;
	while (search_now_ms() < c->until) {
		size_t client = (size_t)c->id + c->nthreads * (turn++ % c->share);
		const char *q = queries[(client * 7 + turn) % ARRAY_LEN(queries)];
		double t0 = search_now_ms();
		if (c->fts) {
			char codes[10][32];
			fts_search(db, &st, c->lx, q, codes, 10);
		} else {
			struct squery *sq = squery_parse(c->ix, c->lx, a, q, strlen(q));
			struct shit hits[10];
			size_t total;
			sindex_search(c->ix, sq, NULL, hits, 10, &total);
			arena_reset(a);
		}
		lat_add(&c->lat, search_now_ms() - t0);
	}
	if (st)
		sqlite3_finalize(st);
	if (db)
		sqlite3_close(db);
	arena_free(a);
	return NULL;
}

struct figures {
	double qps, p50, p99;
	size_t n;
};

/* clients concurrent clients served by threads worker threads (as the server's workers serve
 * its connections); a query's latency is the time from picking it up to its answer. */
static struct figures load(const struct sindex *ix, const struct lex *lx, const char *fts_path, bool fts, int clients,
			   int threads, double seconds)
{
	if (threads > clients)
		threads = clients;
	struct client *c = xcalloc((size_t)threads, sizeof(*c));
	pthread_t *t = xcalloc((size_t)threads, sizeof(*t));
	double start = search_now_ms(), until = start + seconds * 1000.0;
	for (int i = 0; i < threads; i++) {
		c[i] = (struct client){ .id = i, .nthreads = (size_t)threads,
					.share = (size_t)((clients + threads - 1 - i) / threads), .ix = ix, .lx = lx,
					.fts_path = fts_path, .fts = fts, .until = until };
		pthread_create(&t[i], NULL, run_client, &c[i]);
	}
	struct lat all = { 0 };
	for (int i = 0; i < threads; i++) {
		pthread_join(t[i], NULL);
		for (size_t k = 0; k < c[i].lat.n; k++)
			lat_add(&all, c[i].lat.us[k] / 1000.0);
		free(c[i].lat.us);
	}
	double elapsed = (search_now_ms() - start) / 1000.0;
	struct figures f = { 0 };
	if (all.n) {
		qsort(all.us, all.n, sizeof(*all.us), u32cmp);
		f.n = all.n;
		f.qps = (double)all.n / elapsed;
		f.p50 = all.us[all.n / 2] / 1000.0;
		f.p99 = all.us[(size_t)((double)all.n * 0.99)] / 1000.0;
	}
	free(all.us);
	free(c);
	free(t);
	return f;
}

/* Writes n items cloned from the demo catalog (with its departments) into path. */
static int generate(const char *data_dir, const char *path, long n)
{
	char p[4096];
	snprintf(p, sizeof(p), "%s/catalog/services.json", data_dir);
	json_t *svc = json_load_file(p, 0, NULL);
	snprintf(p, sizeof(p), "%s/catalog/departments.json", data_dir);
	json_t *dep = json_load_file(p, 0, NULL);
	if (!json_is_array(svc) || !json_array_size(svc) || !json_is_array(dep)) {
		json_decref(svc);
		json_decref(dep);
		return GH_EIO;
	}
	static const char *const zh[] = { "", "（东城区）", "（西城区）", "（南湖区）", "（试点）", "（延伸服务）",
					  "（跨省通办）", "（容缺受理）", "（告知承诺）", "（自助办理）" };
	static const char *const en[] = { "", " (Dongcheng)", " (Xicheng)", " (Nanhu)", " (pilot)", " (extended)",
					  " (inter-provincial)", " (tolerance of missing documents)", " (notification and commitment)",
					  " (self-service)" };
	json_t *out = json_array();
	size_t ns = json_array_size(svc);
	json_t *depts = json_object();
	for (long i = 0; i < n; i++) {
		json_t *s = json_deep_copy(json_array_get(svc, (size_t)i % ns));
		long round = i / (long)ns;
		const char *dept = json_string_value(json_object_get(s, "department"));
		/* a sequence per department (codes are department + 4 digits) */
		json_t *d = json_object_get(depts, dept);
		if (!d) {
			d = json_integer(0);
			json_object_set_new(depts, dept, d);
		}
		long next = (long)json_integer_value(d) + 1;
		json_integer_set(d, next);
		char code[32];
		snprintf(code, sizeof(code), "%s-%04ld", dept, next);
		json_object_set_new(s, "code", json_string(code));
		if (round) {
			char name[512], num[24] = "";
			if (round >= (long)ARRAY_LEN(zh))
				snprintf(num, sizeof(num), "%ld", round / (long)ARRAY_LEN(zh));
			snprintf(name, sizeof(name), "%s%s%s", json_string_value(json_object_get(s, "name_zh")),
				 zh[round % ARRAY_LEN(zh)], num);
			json_object_set_new(s, "name_zh", json_string(name));
			snprintf(name, sizeof(name), "%s%s", json_string_value(json_object_get(s, "name_en")),
				 en[round % ARRAY_LEN(en)]);
			json_object_set_new(s, "name_en", json_string(name));
		}
		json_array_append_new(out, s);
	}
	json_t *root = json_pack("{s:O,s:o}", "departments", dep, "services", out);
	char *text = jsonout_dumps(root, JSON_COMPACT);
	FILE *f = text ? fopen(path, "w") : NULL;
	int rc = f && fputs(text, f) >= 0 ? 0 : GH_EIO;
	if (f && fclose(f))
		rc = GH_EIO;
	free(text);
	json_decref(root);
	json_decref(depts);
	json_decref(svc);
	json_decref(dep);
	return rc;
}

int search_cli_bench(const char *data_dir, int nargs, char **args)
{
	long items = 10000, clients = 64, threads = sysconf(_SC_NPROCESSORS_ONLN);
	double seconds = 5;
	for (int i = 0; i + 1 < nargs; i += 2) {
		if (!strcmp(args[i], "--items"))
			items = strtol(args[i + 1], NULL, 10);
		else if (!strcmp(args[i], "--clients"))
			clients = strtol(args[i + 1], NULL, 10);
		else if (!strcmp(args[i], "--threads"))
			threads = strtol(args[i + 1], NULL, 10);
		else if (!strcmp(args[i], "--seconds"))
			seconds = strtod(args[i + 1], NULL);
		else {
			fprintf(stderr, "usage: govhall search-bench [--items N] [--clients N] [--threads N] [--seconds S]\n");
			return 2;
		}
	}
	if (nargs % 2 || items < 1 || items > 200000 || clients < 1 || clients > 1024 || seconds <= 0 || seconds > 600 ||
	    threads < 1 || threads > 1024) {
		fprintf(stderr, "usage: govhall search-bench [--items N (1-200000)] [--clients N (1-1024)] [--seconds S]\n");
		return 2;
	}
	char dir[] = "/tmp/govhall-search-bench-XXXXXX";
	if (!mkdtemp(dir)) {
		perror("govhall: mkdtemp");
		return 1;
	}
	char cat[256], dbp[256], fts_path[256], err[512];
	snprintf(cat, sizeof(cat), "%s/catalog.json", dir);
	snprintf(dbp, sizeof(dbp), "%s/bench.db", dir);
	snprintf(fts_path, sizeof(fts_path), "%s/fts.db", dir);
	int rc = 1;
	struct db *db = NULL;
	struct lex *lx = NULL;
	struct sindex *ix = NULL, *ix2 = NULL;
	struct search_labels lb = { 0 };
	struct fts f = { 0 };
	struct catalog_import_report rep = { 0 };
	fprintf(stderr, "search-bench: generating %ld items\n", items);
	if (generate(data_dir, cat, items)) {
		fprintf(stderr, "govhall: cannot read the demo catalog in %s/catalog\n", data_dir);
		goto done;
	}
	if (db_open(dbp, &db, err, sizeof(err)) || db_migrate(db, err, sizeof(err))) {
		fprintf(stderr, "govhall: %s\n", err);
		goto done;
	}
	if (catalog_import_file(db, cat, false, stderr, &rep)) {
		fprintf(stderr, "govhall: the generated catalog was not imported\n");
		goto done;
	}
	double t0 = search_now_ms();
	if (lex_load(data_dir, NULL, &lx, err, sizeof(err)) || search_labels_load(data_dir, &lb)) {
		fprintf(stderr, "govhall: %s\n", err);
		goto done;
	}
	double lex_ms = search_now_ms() - t0;
	t0 = search_now_ms();
	if (search_docs_build(db, lx, NULL, &lb, 1, NULL, NULL, &ix)) {
		fprintf(stderr, "govhall: the index could not be built\n");
		goto done;
	}
	double build_ms = search_now_ms() - t0;
	if (fts_open(&f, fts_path, lx) || search_docs_build(db, lx, NULL, &lb, 1, fts_tap_fn(), &f, &ix2)) {
		fprintf(stderr, "govhall: the FTS5 table could not be filled\n");
		goto done;
	}
	fts_finish(&f);
	fts_close(&f);
	sindex_free(ix2);
	ix2 = NULL;
	fprintf(stderr, "search-bench: %ld clients on %ld threads, %.0f s each, %zu queries in the mix\n", clients, threads,
		seconds, ARRAY_LEN(queries));
	struct figures g = load(ix, lx, fts_path, false, (int)clients, (int)threads, seconds);
	struct figures s = load(ix, lx, fts_path, true, (int)clients, (int)threads, seconds);
	printf("documents %zu (items %ld + bundles); dictionaries loaded in %.0f ms\n", sindex_ndocs(ix), items, lex_ms);
	printf("index build %.1f ms (budget < 1000 ms for 10000 items: %s); index memory %.1f MiB\n", build_ms,
	       build_ms < 1000.0 * (double)items / 10000.0 ? "PASS" : "OVER", (double)sindex_bytes(ix) / (1 << 20));
	printf("govhall q/s %.0f p50 %.3f ms p99 %.3f ms (%zu queries)\n", g.qps, g.p50, g.p99, g.n);
	printf("fts5 q/s %.0f p50 %.3f ms p99 %.3f ms (%zu queries)\n", s.qps, s.p50, s.p99, s.n);
	printf("ratio %.2f\n", s.qps > 0 ? g.qps / s.qps : 0);
	rc = 0;
done:
	sindex_free(ix);
	sindex_free(ix2);
	fts_close(&f);
	lex_free(lx);
	search_labels_release(&lb);
	db_close(db);
	unlink(cat);
	unlink(dbp);
	char w[300];
	snprintf(w, sizeof(w), "%s-wal", dbp);
	unlink(w);
	snprintf(w, sizeof(w), "%s-shm", dbp);
	unlink(w);
	unlink(fts_path);
	rmdir(dir);
	return rc;
}
