/* cli.c: `govhall ledger key list|rotate`, `govhall ledger checkpoint`, `govhall ledger
 * backfill`, `govhall ledger bench-seed N|bench-append SECONDS` (benchmarks), `govhall verify FILE --keys KEYS.json` (no
 * database) and `govhall audit`. */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/arena.h"
#include "base/config.h"
#include "base/err.h"
#include "ledger/ledger_ext.h"
#include "store/db.h"
#include "store/hallkeys.h"

#define DOC_MAX (4 * 1024 * 1024)

static int open_db(const struct config *cfg, struct db **db)
{
	char err[512];
	if (db_open(cfg->db, db, err, sizeof(err))) {
		fprintf(stderr, "govhall: cannot open database %s: %s\n", cfg->db, err);
		return -1;
	}
	if (db_migrate(*db, err, sizeof(err))) {
		fprintf(stderr, "govhall: %s\n", err);
		db_close(*db);
		return -1;
	}
	return 0;
}

static int load_keys(const struct config *cfg, struct ledger_keys **k)
{
	char path[4096], origin[300], err[512];
	ledger_key_path(cfg, path, sizeof(path));
	ledger_origin(cfg, origin, sizeof(origin));
	if (ledger_keys_load(path, origin, k, err, sizeof(err))) {
		fprintf(stderr, "govhall: %s\n", err);
		return -1;
	}
	return 0;
}

static int key_cmd(const struct config *cfg, int nargs, char **args)
{
	char path[4096], err[512];
	ledger_key_path(cfg, path, sizeof(path));
	if (nargs == 1 && strcmp(args[0], "list") == 0) {
		struct ledger_keys *k;
		if (load_keys(cfg, &k))
			return 1;
		printf("log key file %s, origin %s\n", path, k->origin);
		for (size_t i = 0; i < k->n; i++) {
			char pk[64], kh[16], when[32];
			time_t t = (time_t)k->k[i].created;
			struct tm tm;
			ledger_b64(k->k[i].pk, 32, pk, sizeof(pk));
			sodium_bin2hex(kh, sizeof(kh), k->k[i].key_hash, 4);
			if (!gmtime_r(&t, &tm) || !strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm))
				snprintf(when, sizeof(when), "?");
			printf("%u  %s  Ed25519 %s  key hash %s%s\n", k->k[i].id, when, pk, kh,
			       i + 1 == k->n ? "  (current: signs new checkpoints)" : "");
		}
		ledger_keys_free(k);
		return 0;
	}
	if (nargs == 1 && strcmp(args[0], "rotate") == 0) {
		uint32_t id;
		struct db *db;
		if (open_db(cfg, &db))
			return 1;
		if (ledger_keys_rotate(path, &id, err, sizeof(err))) {
			fprintf(stderr, "govhall: %s\n", err);
			db_close(db);
			return 1;
		}
		/* The database publishes the new public key: nodes still on the old file refuse to
		 * start until they have the new one. */
		struct ledger_keys *k;
		int rc = load_keys(cfg, &k);
		if (!rc) {
			char hex[65];
			sodium_bin2hex(hex, sizeof(hex), k->k[k->n - 1].pk, 32);
			rc = hallkeys_record(db, "ledger", id, hex, (int64_t)time(NULL));
			ledger_keys_free(k);
			if (rc)
				fprintf(stderr, "govhall: the database did not record log key %u (%s); run `govhall init` "
						"with this key file to record it\n", id, db_last_error(db));
		}
		db_close(db);
		if (rc)
			return 1;
		printf("log key %u added to %s; it signs checkpoints once the hall is restarted with it (every node).\n"
		       "Older keys stay published so the checkpoints they signed keep verifying.\n",
		       id, path);
		return 0;
	}
	fprintf(stderr, "usage: govhall ledger key list|rotate\n");
	return 2;
}

/* Appends n synthetic leaves quickly (benchmarks only): one transaction per 500,000 leaves. */
static int bench_seed(const struct config *cfg, long long n)
{
	DB_SQL(q_leaf, "INSERT INTO ledger_leaves (idx, kind, ref, salt, leaf, hash, created_at) VALUES (?, 'bench', NULL, NULL, ?, ?, ?)");
	DB_SQL(q_node, "INSERT INTO ledger_nodes (level, idx, hash) VALUES (?, ?, ?)");
	DB_SQL(q_head, "UPDATE ledger_head SET size = ?, frontier = ?, root = ? WHERE id = 1");
	db_sqlite_set_synchronous(false); /* a benchmark's throwaway database */
	struct db *db;
	if (open_db(cfg, &db))
		return 1;
	struct arena *a = arena_new(1 << 16);
	struct merkle_frontier *f = arena_zalloc(a, sizeof(*f));
	int rc = db_begin(db);
	if (!rc)
		rc = ledger_head_read(db, a, true, f, NULL);
	int64_t now = time(NULL);
	for (long long i = 0; !rc && i < n; i++) {
		char leaf[64];
		int len = snprintf(leaf, sizeof(leaf), "{\"kind\":\"bench\",\"n\":%lld}", (long long)f->size);
		unsigned char h[H32];
		ledger_leaf_hash(leaf, (size_t)len, h);
		rc = db_exec(db, &q_leaf, DB_ARGS(DB_INT((int64_t)f->size), DB_TEXT(leaf), DB_BLOB(h, H32), DB_INT(now)), NULL);
		/* the perfect subtrees this leaf completes */
		unsigned char cur[H32];
		memcpy(cur, h, H32);
		uint64_t s = f->size;
		unsigned level = 0;
		while (!rc && ((s >> level) & 1)) {
			merkle_node_hash(f->h[--f->n], cur, cur);
			level++;
			rc = db_exec(db, &q_node, DB_ARGS(DB_INT(level), DB_INT((int64_t)(s >> level)), DB_BLOB(cur, H32)), NULL);
		}
		memcpy(f->h[f->n++], cur, H32);
		f->size = s + 1;
		if (!rc && ((i + 1) % 500000 == 0 || i + 1 == n)) {
			unsigned char root[H32];
			merkle_frontier_root(f, root);
			rc = db_exec(db, &q_head, DB_ARGS(DB_INT((int64_t)f->size), DB_BLOB(f->h, f->n * H32), DB_BLOB(root, H32)),
				     NULL);
			if (!rc)
				rc = db_commit(db);
			if (!rc && i + 1 < n)
				rc = db_begin(db);
		}
	}
	if (rc) {
		fprintf(stderr, "govhall: seeding failed: %s (%s)\n", err_name(rc), db_last_error(db));
		db_rollback(db);
	} else {
		printf("the log holds %llu leaves\n", (unsigned long long)f->size);
	}
	arena_free(a);
	db_close(db);
	return rc ? 1 : 0;
}

/* Appends leaves one transaction each (as a decision does) for secs seconds; prints the rate.
 * Benchmarks only. */
static int bench_append(const struct config *cfg, double secs)
{
	db_sqlite_set_synchronous(strcmp(cfg->sqlite_synchronous, "normal") != 0);
	struct db *db;
	if (open_db(cfg, &db))
		return 1;
	struct arena *a = arena_new(1 << 16);
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	long n = 0;
	int rc = 0;
	double el = 0;
	while (!rc && el < secs) {
		arena_reset(a);
		char leaf[96];
		snprintf(leaf, sizeof(leaf), "{\"kind\":\"bench\",\"n\":%ld,\"t\":%lld}", n, (long long)t0.tv_nsec);
		rc = db_begin(db);
		if (!rc)
			rc = ledger_append(db, a, "bench", leaf, NULL);
		if (!rc)
			rc = db_commit(db);
		else
			db_rollback(db);
		n++;
		clock_gettime(CLOCK_MONOTONIC, &t);
		el = (double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9;
	}
	if (rc)
		fprintf(stderr, "govhall: append failed: %s (%s)\n", err_name(rc), db_last_error(db));
	else
		printf("%.1f appends/s (%ld appends in %.1f s, one transaction each)\n", (double)n / el, n, el);
	arena_free(a);
	db_close(db);
	return rc ? 1 : 0;
}

static int ledger_cmd(const struct config *cfg, int nargs, char **args)
{
	if (nargs >= 1 && strcmp(args[0], "key") == 0)
		return key_cmd(cfg, nargs - 1, args + 1);
	if (nargs == 1 && (strcmp(args[0], "checkpoint") == 0 || strcmp(args[0], "backfill") == 0)) {
		struct ledger_keys *k = NULL;
		struct db *db;
		bool cp = strcmp(args[0], "checkpoint") == 0;
		if ((cp && load_keys(cfg, &k)) || open_db(cfg, &db)) {
			ledger_keys_free(k);
			return 1;
		}
		struct arena *a = arena_new(1 << 16);
		int rc;
		if (cp) {
			int64_t size;
			const char *note;
			unsigned char root[H32];
			rc = ledger_checkpoint_now(db, a, k, &size);
			if (!rc)
				rc = ledger_checkpoint_latest(db, a, &size, root, &note);
			if (!rc)
				fputs(note, stdout);
		} else {
			size_t items = 0, decisions = 0;
			rc = db_begin(db);
			if (!rc)
				rc = ledger_backfill(db, a, &items, &decisions);
			rc = rc ? rc : db_commit(db);
			if (rc)
				db_rollback(db);
			else
				printf("logged %zu catalog item version(s) and %zu decision(s) stored before the log existed\n",
				       items, decisions);
		}
		if (rc)
			fprintf(stderr, "govhall: ledger %s failed: %s (%s)\n", args[0], err_name(rc), db_last_error(db));
		arena_free(a);
		db_close(db);
		ledger_keys_free(k);
		return rc ? 1 : 0;
	}
	if (nargs == 2 && strcmp(args[0], "bench-seed") == 0) {
		char *end;
		long long n = strtoll(args[1], &end, 10);
		if (*end || n < 1 || n > 100000000) {
			fprintf(stderr, "usage: govhall ledger bench-seed N (1 .. 100000000)\n");
			return 2;
		}
		return bench_seed(cfg, n);
	}
	if (nargs == 2 && strcmp(args[0], "bench-append") == 0) {
		double secs = strtod(args[1], NULL);
		if (!(secs > 0 && secs <= 3600)) {
			fprintf(stderr, "usage: govhall ledger bench-append SECONDS\n");
			return 2;
		}
		return bench_append(cfg, secs);
	}
	fprintf(stderr, "usage: govhall ledger key list|rotate | checkpoint | backfill | bench-seed N | bench-append SECONDS\n");
	return 2;
}

static json_t *load_doc(const char *path, const char *what)
{
	json_error_t e;
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "govhall: cannot open %s %s\n", what, path);
		return NULL;
	}
	char *buf = malloc(DOC_MAX + 1);
	size_t n = fread(buf, 1, DOC_MAX + 1, f);
	fclose(f);
	if (n > DOC_MAX) {
		fprintf(stderr, "govhall: %s %s is larger than %d bytes\n", what, path, DOC_MAX);
		free(buf);
		return NULL;
	}
	json_t *j = json_loadb(buf, n, JSON_REJECT_DUPLICATES, &e);
	free(buf);
	if (!j || !json_is_object(j)) {
		fprintf(stderr, "govhall: %s %s is not a JSON object (line %d: %s)\n", what, path, e.line, e.text);
		json_decref(j);
		return NULL;
	}
	return j;
}

/* govhall verify FILE [--keys KEYS.json] */
static int verify_cmd(int nargs, char **args)
{
	const char *file = NULL, *keys_path = NULL;
	for (int i = 0; i < nargs; i++) {
		if (strcmp(args[i], "--keys") == 0 && i + 1 < nargs)
			keys_path = args[++i];
		else if (strncmp(args[i], "--keys=", 7) == 0)
			keys_path = args[i] + 7;
		else if (!file && strncmp(args[i], "--", 2) != 0)
			file = args[i];
		else {
			fprintf(stderr, "usage: govhall verify FILE --keys KEYS.json\n");
			return 2;
		}
	}
	if (!file) {
		fprintf(stderr, "usage: govhall verify FILE --keys KEYS.json\n"
				"  KEYS.json: the hall's /.well-known/govhall-keys.json\n");
		return 2;
	}
	json_t *doc = load_doc(file, "document"), *keys = NULL;
	if (!doc)
		return 1;
	if (keys_path && !(keys = load_doc(keys_path, "keys document"))) {
		json_decref(doc);
		return 1;
	}
	const char *type = json_string_value(json_object_get(doc, "type"));
	ledger_verify_fn fn = type ? ledger_verifier_of(type) : NULL;
	int rc;
	if (!fn) {
		printf("INVALID: %s is not a document this program knows (type %s)\n", file, type ? type : "missing");
		rc = 1;
	} else {
		struct arena *a = arena_new(1 << 16);
		rc = fn(a, doc, keys, stdout) ? 1 : 0;
		arena_free(a);
	}
	json_decref(doc);
	json_decref(keys);
	return rc;
}

static int audit_cmd(const struct config *cfg, int nargs)
{
	if (nargs) {
		fprintf(stderr, "usage: govhall audit\n");
		return 2;
	}
	struct ledger_keys *k = NULL;
	if (load_keys(cfg, &k))
		fprintf(stderr, "govhall: checkpoint signatures are not checked without the log key file\n");
	struct db *db;
	if (open_db(cfg, &db)) {
		ledger_keys_free(k);
		return 1;
	}
	size_t leaves = 0, problems = 0;
	int rc = ledger_audit(db, k, stdout, &leaves, &problems);
	if (rc)
		fprintf(stderr, "govhall: the audit could not finish: %s (%s)\n", err_name(rc), db_last_error(db));
	else
		printf("audit: %zu leaves checked, %zu problem(s)%s\n", leaves, problems,
		       problems ? ": the stored rows or the log were altered" : "");
	db_close(db);
	ledger_keys_free(k);
	return rc ? 2 : problems ? 1 : 0;
}

int ledger_cli(const struct config *cfg, const char *cmd, int nargs, char **args)
{
	if (sodium_init() < 0)
		return 1;
	ledger_register_observers();
	if (strcmp(cmd, "verify") == 0)
		return verify_cmd(nargs, args);
	if (strcmp(cmd, "audit") == 0)
		return audit_cmd(cfg, nargs);
	return ledger_cmd(cfg, nargs, args);
}
