/* eval.c: `govhall search-eval FILE.json` — the quality of the search on a query set, beside
 * SQLite FTS5 over the same documents.
 *
 * The baseline: one FTS5 table (trigram tokenizer, so Chinese needs no segmenter) holding,
 * per document, the same text the index reads (every field, both languages). A query is
 * normalised the same way (NFKC case-fold, Traditional -> Simplified), cut into the trigrams of
 * its Chinese runs and its Latin words of three letters or more, OR-ed, and ranked by bm25(). */
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "base/err.h"
#include "base/util.h"
#include "search/search.h"
#include "search/search_eval.h"
#include "search/search_impl.h"
#include "store/db.h"

double search_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ---- FTS5 baseline ------------------------------------------------------------------------ */

static void fts_tap(void *ctx, const struct sdoc_in *d)
{
	struct fts *f = ctx;
	struct sb body = SB_INIT;
	const char *parts[] = { d->name_zh, d->name_en, d->dept_name_zh, d->dept_name_en };
	for (size_t i = 0; i < ARRAY_LEN(parts); i++)
		if (parts[i]) {
			sb_adds(&body, parts[i]);
			sb_addch(&body, '\n');
		}
	for (int k = 0; k < F_N; k++)
		for (int l = 0; l < 2; l++)
			if (d->text[k][l]) {
				sb_adds(&body, d->text[k][l]);
				sb_addch(&body, '\n');
			}
	struct sb norm = SB_INIT;
	lex_normalize(f->lx, body.buf, body.len, false, &norm);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(f->db, "INSERT INTO docs(code, body) VALUES (?, ?)", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, d->code, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, norm.buf, (int)norm.len, SQLITE_TRANSIENT);
		sqlite3_step(st);
		sqlite3_finalize(st);
	}
	sb_release(&norm);
	sb_release(&body);
}

int fts_open(struct fts *f, const char *path, const struct lex *lx)
{
	memset(f, 0, sizeof(*f));
	f->lx = lx;
	if (sqlite3_open(path, &f->db) != SQLITE_OK)
		return GH_EIO;
	char *msg = NULL;
	if (sqlite3_exec(f->db,
			 "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; DROP TABLE IF EXISTS docs; "
			 "CREATE VIRTUAL TABLE docs USING fts5(code UNINDEXED, body, tokenize='trigram'); BEGIN;",
			 NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "govhall: FTS5: %s\n", msg ? msg : "?");
		sqlite3_free(msg);
		return GH_EIO;
	}
	return 0;
}

void fts_finish(struct fts *f)
{
	sqlite3_exec(f->db, "COMMIT", NULL, NULL, NULL);
}

void fts_close(struct fts *f)
{
	if (f->db)
		sqlite3_close(f->db);
	f->db = NULL;
}

sdoc_tap_fn fts_tap_fn(void)
{
	return fts_tap;
}

/* The FTS5 MATCH expression for q: its trigrams and long Latin words, OR-ed. */
void fts_match(const struct lex *lx, const char *q, struct sb *out)
{
	struct sb t = SB_INIT;
	lex_normalize(lx, q, strlen(q) > SEARCH_QUERY_MAX ? SEARCH_QUERY_MAX : strlen(q), true, &t);
	size_t i = 0;
	while (i < t.len) {
		size_t s = i;
		uint32_t c = u8_next(t.buf, t.len, &i);
		if (cp_is_han(c)) {
			size_t off[SEARCH_QUERY_MAX + 1], nc = 0, e = s;
			off[0] = s;
			while (e < t.len && nc < SEARCH_QUERY_MAX) {
				size_t k = e;
				if (!cp_is_han(u8_next(t.buf, t.len, &k)))
					break;
				e = k;
				off[++nc] = e;
			}
			for (size_t a = 0; a + 3 <= nc; a++) {
				sb_adds(out, out->len ? " OR \"" : "\"");
				sb_add(out, t.buf + off[a], off[a + 3] - off[a]);
				sb_addch(out, '"');
			}
			i = e;
		} else if (cp_is_alnum_ascii(c)) {
			size_t e = i;
			while (e < t.len && cp_is_alnum_ascii((unsigned char)t.buf[e]))
				e++;
			if (e - s >= 3 && !lex_stopword(lx, t.buf + s, e - s)) {
				sb_adds(out, out->len ? " OR \"" : "\"");
				sb_add(out, t.buf + s, e - s);
				sb_addch(out, '"');
			}
			i = e;
		}
	}
	sb_release(&t);
}

/* Runs the baseline on connection db; codes[] gets up to max codes, best first. */
size_t fts_search(sqlite3 *db, sqlite3_stmt **stp, const struct lex *lx, const char *q, char codes[][32], size_t max)
{
	struct sb m = SB_INIT;
	fts_match(lx, q, &m);
	size_t n = 0;
	if (!m.len) {
		sb_release(&m);
		return 0;
	}
	if (!*stp && sqlite3_prepare_v2(db, "SELECT code FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT 10", -1,
					stp, NULL) != SQLITE_OK) {
		sb_release(&m);
		return 0;
	}
	sqlite3_bind_text(*stp, 1, m.buf, (int)m.len, SQLITE_TRANSIENT);
	while (n < max && sqlite3_step(*stp) == SQLITE_ROW)
		snprintf(codes[n++], 32, "%s", (const char *)sqlite3_column_text(*stp, 0));
	sqlite3_reset(*stp);
	sb_release(&m);
	return n;
}

/* ---- metrics ------------------------------------------------------------------------------ */

struct kindstat {
	char kind[32];
	size_t n;
	double rr[2], r1[2], r10[2]; /* per engine: govhall, FTS5 */
};

/* The rank (1-10) of the first code of codes in expect, 0 when none. */
static size_t first_hit(json_t *expect, char codes[][32], size_t n)
{
	for (size_t i = 0; i < n && i < 10; i++) {
		size_t k;
		json_t *e;
		json_array_foreach(expect, k, e)
		{
			const char *c = json_string_value(e);
			if (c && !strcmp(c, codes[i]))
				return i + 1;
		}
	}
	return 0;
}

static void stat_add(struct kindstat *k, int engine, size_t rank)
{
	k->rr[engine] += rank ? 1.0 / (double)rank : 0;
	k->r1[engine] += rank == 1;
	k->r10[engine] += rank >= 1;
}

static void stat_print(const struct kindstat *k)
{
	double d = k->n ? (double)k->n : 1;
	printf("%-12s %5zu | %7.3f %6.3f %6.3f | %7.3f %6.3f %6.3f\n", k->kind, k->n, k->rr[0] / d, k->r1[0] / d,
	       k->r10[0] / d, k->rr[1] / d, k->r1[1] / d, k->r10[1] / d);
}

static struct kindstat *kind_get(struct kindstat *ks, size_t *nk, size_t max, const char *kind)
{
	for (size_t i = 0; i < *nk; i++)
		if (!strcmp(ks[i].kind, kind))
			return &ks[i];
	if (*nk == max)
		return NULL;
	struct kindstat *k = &ks[(*nk)++];
	memset(k, 0, sizeof(*k));
	snprintf(k->kind, sizeof(k->kind), "%s", kind);
	return k;
}

/* ---- fitting the ranking's factors, with k-fold cross-validation --------------------------- */

#define FIT_DIMS 4
#define FIT_VALUES 8

struct fit {
	size_t ndims, nvals[FIT_DIMS], ncombos;
	char names[FIT_DIMS][32];
	double vals[FIT_DIMS][FIT_VALUES];
};

/* "name=v,v,...;name=v,..." */
static int fit_parse(const char *spec, struct fit *f)
{
	memset(f, 0, sizeof(*f));
	char buf[512];
	snprintf(buf, sizeof(buf), "%s", spec);
	for (char *p = buf; *p && f->ndims < FIT_DIMS;) {
		char *end = strchr(p, ';'), *eq = strchr(p, '=');
		if (end)
			*end = 0;
		if (!eq || (end && eq > end))
			return -1;
		*eq = 0;
		snprintf(f->names[f->ndims], sizeof(f->names[0]), "%.31s", p);
		if (sindex_param(p, NAN, NULL))
			return -1;
		for (char *v = eq + 1; *v && f->nvals[f->ndims] < FIT_VALUES;) {
			char *e;
			f->vals[f->ndims][f->nvals[f->ndims]++] = strtod(v, &e);
			if (e == v)
				return -1;
			v = *e == ',' ? e + 1 : e;
		}
		f->ndims++;
		p = end ? end + 1 : p + strlen(p);
	}
	f->ncombos = 1;
	for (size_t d = 0; d < f->ndims; d++)
		f->ncombos *= f->nvals[d];
	return f->ndims ? 0 : -1;
}

static void fit_set(const struct fit *f, size_t c, struct sb *desc)
{
	for (size_t d = 0; d < f->ndims; d++) {
		double v = f->vals[d][c % f->nvals[d]];
		c /= f->nvals[d];
		sindex_param(f->names[d], v, NULL);
		if (desc)
			sb_addf(desc, "%s%s=%g", d ? " " : "", f->names[d], v);
	}
}

/* Every combination of the grid on every query, then per fold: the combination best on the
 * other folds, scored on this one. The held-out figures estimate how the fitted factors do
 * on queries they were not fitted on. */
static void fit_run(const struct fit *f, size_t folds, const struct sindex *ix, const struct lex *lx, struct arena *a,
		    json_t *qs)
{
	size_t nq = json_array_size(qs);
	double *rr = xcalloc(f->ncombos * (nq ? nq : 1), sizeof(double));
	for (size_t c = 0; c < f->ncombos; c++) {
		fit_set(f, c, NULL);
		for (size_t i = 0; i < nq; i++) {
			json_t *q = json_array_get(qs, i);
			const char *text = json_string_value(json_object_get(q, "q"));
			json_t *expect = json_object_get(q, "expect");
			if (!text || !json_is_array(expect))
				continue;
			struct shit hits[10];
			size_t total;
			char codes[10][32];
			struct squery *sq = squery_parse(ix, lx, a, text, strlen(text));
			size_t n = sindex_search(ix, sq, NULL, hits, 10, &total);
			for (size_t k = 0; k < n; k++) {
				struct sdoc_view v;
				sindex_doc(ix, hits[k].doc, &v);
				snprintf(codes[k], 32, "%s", v.code);
			}
			size_t rank = first_hit(expect, codes, n);
			rr[c * nq + i] = rank ? 1.0 / (double)rank : 0;
			arena_reset(a);
		}
	}
	printf("fitting %zu combinations on %zu queries, %zu folds (query i in fold i mod %zu)\n", f->ncombos, nq, folds,
	       folds);
	double cv_rr = 0, cv_r1 = 0;
	size_t cv_n = 0;
	for (size_t fo = 0; fo < folds; fo++) {
		size_t best = 0;
		double bestv = -1;
		for (size_t c = 0; c < f->ncombos; c++) {
			double s = 0;
			for (size_t i = 0; i < nq; i++)
				if (i % folds != fo)
					s += rr[c * nq + i];
			if (s > bestv + 1e-9) {
				bestv = s;
				best = c;
			}
		}
		double h = 0, h1 = 0;
		size_t hn = 0;
		for (size_t i = fo; i < nq; i += folds) {
			h += rr[best * nq + i];
			h1 += rr[best * nq + i] >= 1.0;
			hn++;
		}
		struct sb d = SB_INIT;
		fit_set(f, best, &d);
		printf("  fold %zu: fitted %s; held out %zu: MRR@10 %.3f R@1 %.3f\n", fo + 1, d.buf, hn, hn ? h / (double)hn : 0,
		       hn ? h1 / (double)hn : 0);
		sb_release(&d);
		cv_rr += h;
		cv_r1 += h1;
		cv_n += hn;
	}
	size_t best = 0;
	double bestv = -1;
	for (size_t c = 0; c < f->ncombos; c++) {
		double s = 0;
		for (size_t i = 0; i < nq; i++)
			s += rr[c * nq + i];
		if (s > bestv + 1e-9) {
			bestv = s;
			best = c;
		}
	}
	struct sb d = SB_INIT;
	fit_set(f, best, &d);
	printf("cross-validated (held-out) MRR@10 %.3f R@1 %.3f; fitted on all: %s, MRR@10 %.3f\n",
	       cv_n ? cv_rr / (double)cv_n : 0, cv_n ? cv_r1 / (double)cv_n : 0, d.buf, nq ? bestv / (double)nq : 0);
	sb_release(&d);
	free(rr);
}

int search_cli_eval(const char *db_url, const char *data_dir, int nargs, char **args)
{
	bool verbose = false;
	const char *file = NULL, *explain = NULL, *fitspec = NULL;
	long folds = 5;
	for (int i = 0; i < nargs; i++) {
		if (!strcmp(args[i], "-v") || !strcmp(args[i], "--verbose")) {
			verbose = true;
		} else if (!strcmp(args[i], "--query") && i + 1 < nargs) {
			explain = args[++i];
		} else if (!strcmp(args[i], "--fit") && i + 1 < nargs) {
			fitspec = args[++i];
		} else if (!strcmp(args[i], "--folds") && i + 1 < nargs) {
			folds = strtol(args[++i], NULL, 10);
		} else if (!strcmp(args[i], "--param") && i + 1 < nargs) {
			char *eq = strchr(args[++i], '=');
			if (!eq)
				goto usage;
			*eq = 0;
			if (sindex_param(args[i], strtod(eq + 1, NULL), NULL)) {
				fprintf(stderr, "govhall: no ranking factor \"%s\"\n", args[i]);
				return 2;
			}
		} else {
			file = args[i];
		}
	}
	struct fit fit;
	if ((!file && !explain) || folds < 2 || folds > 20 || (fitspec && (!file || fit_parse(fitspec, &fit)))) {
	usage:
		fprintf(stderr, "usage: govhall search-eval [-v] [--param NAME=V]... FILE.json\n"
				"       govhall search-eval --query TEXT\n"
				"       govhall search-eval --fit 'NAME=V,V...;NAME=V,...' [--folds K] FILE.json\n");
		return 2;
	}
	json_error_t jerr;
	json_t *qs = explain ? json_pack("[{s:s,s:s,s:[]}]", "q", explain, "kind", "query", "expect")
			     : json_load_file(file, 0, &jerr);
	if (!json_is_array(qs)) {
		fprintf(stderr, "govhall: %s: not a JSON array of queries (%s, line %d)\n", file, jerr.text, jerr.line);
		json_decref(qs);
		return 1;
	}
	char err[512];
	struct db *db = NULL;
	if (db_open(db_url, &db, err, sizeof(err)) || db_migrate(db, err, sizeof(err))) {
		fprintf(stderr, "govhall: %s\n", err);
		db_close(db);
		json_decref(qs);
		return 1;
	}
	struct lex *lx;
	struct search_labels lb = { 0 };
	if (lex_load(data_dir, NULL, &lx, err, sizeof(err)) || search_labels_load(data_dir, &lb)) {
		fprintf(stderr, "govhall: %s\n", err);
		db_close(db);
		json_decref(qs);
		return 1;
	}
	struct fts f;
	struct arena *a = arena_new(64 * 1024);
	struct lex *rules = NULL;
	struct sindex *ix = NULL;
	struct leak_set *leaks = NULL;
	struct sb misses = SB_INIT, close = SB_INIT;
	int rc = fts_open(&f, ":memory:", lx);
	if (!rc)
		rc = search_rules_load(db, a, lx, &rules);
	double t0 = search_now_ms();
	if (!rc)
		rc = search_docs_build(db, lx, rules, &lb, 0, fts_tap, &f, &ix);
	double build_ms = search_now_ms() - t0;
	fts_finish(&f);
	if (rc) {
		fprintf(stderr, "govhall: the documents could not be read (%s)\n", err_name(rc));
		goto done;
	}
	if (!sindex_ndocs(ix)) {
		fprintf(stderr, "govhall: the database has no service items to search; load a catalog first "
				"(govhall init --demo, or govhall import catalog FILE) or name the database with --db URL\n");
		rc = GH_ENOTFOUND;
		goto done;
	}
	printf("documents: %zu; index built in %.1f ms (with the FTS5 copy), %.1f KiB\n", sindex_ndocs(ix), build_ms,
	       (double)sindex_bytes(ix) / 1024.0);
	if (fitspec) {
		fit_run(&fit, (size_t)folds, ix, lx, a, qs);
		goto done;
	}
	if (!explain)
		leaks = search_leak_load(lx, data_dir);
	{
		struct sb pd = SB_INIT;
		sindex_params_describe(&pd);
		printf("ranking factors: %s\n", pd.buf);
		sb_release(&pd);
	}
	struct kindstat ks[32], all = { .kind = "overall" }, clean = { .kind = "overall*" };
	size_t nk = 0, nclose = 0;
	sqlite3_stmt *st = NULL;
	size_t qi;
	json_t *q;
	json_array_foreach(qs, qi, q)
	{
		const char *text = json_string_value(json_object_get(q, "q"));
		const char *kind = json_string_value(json_object_get(q, "kind"));
		json_t *expect = json_object_get(q, "expect");
		if (!text || !json_is_array(expect))
			continue;
		if (!kind)
			kind = "-";
		char codes[2][10][32];
		size_t n[2];
		struct shit hits[10];
		size_t total;
		struct squery *sq = squery_parse(ix, lx, a, text, strlen(text));
		n[0] = sindex_search(ix, sq, NULL, hits, 10, &total);
		for (size_t i = 0; i < n[0]; i++) {
			struct sdoc_view v;
			sindex_doc(ix, hits[i].doc, &v);
			snprintf(codes[0][i], 32, "%s", v.code);
		}
		n[1] = fts_search(f.db, &st, lx, text, codes[1], 10);
		if (explain) {
			struct sb d = SB_INIT;
			squery_describe(sq, &d);
			printf("%s\n", d.buf ? d.buf : "");
			sb_release(&d);
			for (size_t i = 0; i < n[0]; i++) {
				struct sdoc_view v;
				sindex_doc(ix, hits[i].doc, &v);
				struct sb x = SB_INIT;
				squery_explain(ix, sq, hits[i].doc, &x);
				printf("%2zu %-22s %8.3f ops %#04x %s |%s\n", i + 1, v.code, (double)hits[i].score, v.ops, v.name_zh,
				       x.buf ? x.buf : "");
				sb_release(&x);
			}
			arena_reset(a);
			continue;
		}
		struct kindstat *k = kind_get(ks, &nk, ARRAY_LEN(ks), kind);
		struct leak_hit lh[3];
		size_t nl = search_leak_find(leaks, text, lh, 3);
		for (int e = 0; e < 2; e++) {
			size_t rank = first_hit(expect, codes[e], n[e]);
			stat_add(&all, e, rank);
			if (k)
				stat_add(k, e, rank);
			if (!nl)
				stat_add(&clean, e, rank);
			if (e == 0 && rank != 1) {
				struct sdoc_view v = { 0 };
				if (n[0])
					sindex_doc(ix, hits[0].doc, &v);
				sb_addf(&misses, "  %-11s %s -> %s; first: %s %s\n", kind, text,
					rank ? (const char *)arena_printf(a, "rank %zu", rank) : "not in the top 10",
					n[0] ? v.code : "-", n[0] && v.name_zh ? v.name_zh : "");
				if (verbose) {
					struct sb d = SB_INIT;
					squery_describe(sq, &d);
					sb_addf(&misses, "              terms: %s\n", d.buf ? d.buf : "");
					sb_release(&d);
				}
			}
		}
		if (nl) {
			nclose++;
			sb_addf(&close, "  %-11s %s ~ %s (%s)%s\n", kind, text, lh[0].entry, lh[0].source,
				nl > 1 ? arena_printf(a, " and %zu more", nl - 1) : "");
		}
		all.n++;
		if (k)
			k->n++;
		if (!nl)
			clean.n++;
		arena_reset(a);
	}
	if (st)
		sqlite3_finalize(st);
	if (explain)
		goto done;
	printf("\n%-12s %5s | %-22s | %-22s\n", "", "", "govhall", "SQLite FTS5 (trigram)");
	printf("%-12s %5s | %7s %6s %6s | %7s %6s %6s\n", "kind", "n", "MRR@10", "R@1", "R@10", "MRR@10", "R@1", "R@10");
	printf("--------------------------------------------------------------------\n");
	for (size_t i = 0; i < nk; i++)
		stat_print(&ks[i]);
	printf("--------------------------------------------------------------------\n");
	stat_print(&all);
	if (nclose)
		stat_print(&clean);
	double d = all.n ? (double)all.n : 1;
	printf("\ntargets: MRR@10 >= 0.90 (%s), Recall@1 >= 0.85 (%s)\n", all.rr[0] / d >= 0.90 ? "met" : "NOT met",
	       all.r1[0] / d >= 0.85 ? "met" : "NOT met");
	printf("\nqueries not ranked first by govhall: %zu of %zu\n%s", (size_t)(all.n - all.r1[0]), all.n,
	       misses.buf ? misses.buf : "");
	printf("\nqueries close to a rule, word list or alias under %s (%zu entries compared): %zu%s\n%s", data_dir,
	       search_leak_size(leaks), nclose, nclose ? "; overall* above leaves them out" : "",
	       close.buf ? close.buf : "");
done:
	sb_release(&misses);
	sb_release(&close);
	search_leak_free(leaks);
	sindex_free(ix);
	fts_close(&f);
	arena_free(a);
	lex_free(lx);
	search_labels_release(&lb);
	db_close(db);
	json_decref(qs);
	return rc ? 1 : 0;
}
