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
#include "base/jsonout.h"
#include "ledger/ledger_ext.h"
#include "ledger/witness.h"
#include "store/db.h"
#include "store/hallkeys.h"
#include "view/view.h"

#define DOC_MAX (4 * 1024 * 1024)

static int open_db(const struct config *cfg, struct db **db)
{
	return db_open_migrated(cfg->db, db);
}

/* The log keys under the log's own origin (stored with the log; store: fix it now when the log
 * has none yet). */
static int load_keys(const struct config *cfg, struct db *db, bool store, struct ledger_keys **k)
{
	char path[4096], origin[300], err[512];
	ledger_key_path(cfg, path, sizeof(path));
	if (ledger_origin_fixed(db, cfg, store, origin, sizeof(origin))) {
		fprintf(stderr, "govhall: cannot read the log's origin: %s\n", db_last_error(db));
		return -1;
	}
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
		struct db *db;
		if (open_db(cfg, &db))
			return 1;
		int bad = load_keys(cfg, db, false, &k);
		db_close(db);
		if (bad)
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
		int rc = load_keys(cfg, db, false, &k);
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

static int seed_node(void *ctx, unsigned level, uint64_t idx, const unsigned char h[H32])
{
	return ledger_tile_append(ctx, level, idx, h, 1);
}

/* `ledger leaf INDEX...`: each leaf's text (what is hashed and proved) on a line of its own,
 * read from its stored form (src/ledger/pack.c). */
static int leaf_cmd(const struct config *cfg, int nargs, char **args)
{
	struct db *db;
	if (open_db(cfg, &db))
		return 1;
	struct arena *a = arena_new(1 << 16);
	int status = 0;
	for (int i = 0; i < nargs && !status; i++) {
		char *end;
		long long idx = strtoll(args[i], &end, 10);
		struct ledger_leaf l;
		int rc = *end || idx < 0 ? GH_EINVAL : ledger_leaf_read(db, a, idx, &l);
		if (rc == GH_EINVAL)
			fprintf(stderr, "govhall: ledger leaf: %s is not a leaf index (0, 1, 2 ...)\n", args[i]);
		else if (rc == GH_ENOTFOUND)
			fprintf(stderr, "govhall: ledger leaf: the log has no leaf %lld\n", idx);
		else if (rc)
			fprintf(stderr, "govhall: ledger leaf %lld: %s (%s)\n", idx, err_name(rc), db_last_error(db));
		else
			printf("%s\n", l.leaf);
		status = rc ? 1 : 0;
		arena_reset(a);
	}
	arena_free(a);
	db_close(db);
	return status;
}

/* Appends n synthetic leaves quickly (benchmarks only): one transaction per 500,000 leaves. */
static int bench_seed(const struct config *cfg, long long n)
{
	DB_SQL(q_leaf, "INSERT INTO ledger_leaves (idx, kind, ref, salt, leaf, created_at) VALUES (?, 'bench', NULL, NULL, ?, ?)");
	DB_SQL(q_head, "UPDATE ledger_head SET size = ?, frontier = ?, root = ? WHERE id = 1");
	db_sqlite_set_synchronous(false); /* a benchmark's throwaway database */
	struct db *db;
	if (open_db(cfg, &db))
		return 1;
	struct arena *a = arena_new(1 << 16);
	struct arena *pa = arena_new(1 << 12);
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
		const unsigned char *stored;
		size_t slen;
		arena_reset(pa);
		ledger_leaf_pack(pa, leaf, (size_t)len, &stored, &slen);
		rc = db_exec(db, &q_leaf, DB_ARGS(DB_INT((int64_t)f->size), DB_BLOB(stored, slen), DB_INT(now)),
			     NULL);
		/* its hash and the perfect subtrees it completes, into their tiles */
		if (!rc)
			rc = ledger_tile_append(db, 0, f->size, h, 1);
		if (!rc)
			rc = merkle_frontier_push(f, h, seed_node, db);
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
	arena_free(pa);
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

/* govhall ledger correct TABLE:KEY... --reason TEXT [--erasure]: an operator corrected covered
 * rows by hand (or erased personal data from them); this records that change in the log, with
 * a salted hash of the reason, so the audit accepts the rows as they are now. */
static int correct_cmd(const struct config *cfg, int nargs, char **args)
{
	const char *reason = NULL, *action = "correction";
	const char **refs = calloc((size_t)nargs + 1, sizeof(*refs));
	size_t n = 0;
	for (int i = 0; i < nargs; i++) {
		if (!strcmp(args[i], "--reason") && i + 1 < nargs)
			reason = args[++i];
		else if (!strncmp(args[i], "--reason=", 9))
			reason = args[i] + 9;
		else if (!strcmp(args[i], "--erasure"))
			action = "erasure";
		else if (strncmp(args[i], "--", 2) != 0)
			refs[n++] = args[i];
		else
			n = 0, i = nargs; /* unknown option: usage */
	}
	if (!n || !reason || !*reason || strlen(reason) > 2000) {
		fprintf(stderr, "usage: govhall ledger correct TABLE:KEY... --reason TEXT [--erasure]\n"
				"  re-commits the named covered rows as they are now (after a correction made by hand,\n"
				"  or --erasure: after personal data was erased), with the reason; see govhall audit --coverage\n");
		free(refs);
		return 2;
	}
	struct db *db;
	if (open_db(cfg, &db)) {
		free(refs);
		return 1;
	}
	struct arena *a = arena_new(1 << 16);
	int rc = db_begin(db);
	if (!rc)
		rc = ledger_correct(db, a, refs, n, action, reason, stderr);
	if (!rc)
		rc = db_commit(db);
	if (rc) {
		db_rollback(db);
		if (rc != GH_EINVAL)
			fprintf(stderr, "govhall: ledger correct failed: %s (%s)\n", err_name(rc), db_last_error(db));
	} else {
		printf("logged the %s of %zu row(s)\n", action, n);
	}
	arena_free(a);
	db_close(db);
	free(refs);
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
		if (open_db(cfg, &db))
			return 1;
		if (cp && load_keys(cfg, db, true, &k)) {
			db_close(db);
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
			size_t items = 0, decisions = 0, rows = 0;
			rc = db_begin(db);
			if (!rc)
				rc = ledger_backfill(db, a, &items, &decisions, &rows);
			rc = rc ? rc : db_commit(db);
			if (rc)
				db_rollback(db);
			else
				printf("logged %zu catalog item version(s), %zu decision(s) and %zu other covered row(s) stored "
				       "before the log covered them\n",
				       items, decisions, rows);
		}
		if (rc)
			fprintf(stderr, "govhall: ledger %s failed: %s (%s)\n", args[0], err_name(rc), db_last_error(db));
		arena_free(a);
		db_close(db);
		ledger_keys_free(k);
		return rc ? 1 : 0;
	}
	if (nargs >= 1 && strcmp(args[0], "correct") == 0)
		return correct_cmd(cfg, nargs - 1, args + 1);
	if (nargs >= 2 && strcmp(args[0], "leaf") == 0)
		return leaf_cmd(cfg, nargs - 1, args + 1);
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
	fprintf(stderr, "usage: govhall ledger key list|rotate | checkpoint | backfill | correct TABLE:KEY... --reason TEXT "
			"[--erasure] | leaf INDEX... | bench-seed N | bench-append SECONDS\n");
	return 2;
}

/* The text of the file at path (what it is, for messages), at most DOC_MAX bytes, NUL-terminated
 * and malloc'd, its length in *n; NULL with a message. */
static char *read_small(const char *path, const char *what, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "govhall: cannot open %s %s\n", what, path);
		return NULL;
	}
	char *buf = malloc(DOC_MAX + 1);
	*n = fread(buf, 1, DOC_MAX + 1, f);
	fclose(f);
	if (*n > DOC_MAX) {
		fprintf(stderr, "govhall: %s %s is larger than %d bytes\n", what, path, DOC_MAX);
		free(buf);
		return NULL;
	}
	buf[*n] = 0;
	return buf;
}

static json_t *load_doc(const char *path, const char *what)
{
	json_error_t e;
	size_t n;
	char *buf = read_small(path, what, &n);
	if (!buf)
		return NULL;
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
struct view *ledger_cli_words(const struct config *cfg)
{
	char dir[4096], err[512];
	struct view *v = NULL;
	snprintf(dir, sizeof(dir), "%s/i18n", cfg->data_dir);
	if (view_load_messages(dir, &v, err, sizeof(err)))
		fprintf(stderr, "govhall: the message catalogs: %s\n", err);
	return v;
}

#define VERIFY_USAGE "usage: govhall verify FILE [--keys KEYS.json] [--directory DIRECTORY.json [--cosigned K]]\n"

static int verify_cmd(const struct config *cfg, int nargs, char **args)
{
	const char *file = NULL, *keys_path = NULL, *dir_path = NULL;
	long k = 0;
	for (int i = 0; i < nargs; i++) {
		char *end;
		if (strcmp(args[i], "--keys") == 0 && i + 1 < nargs)
			keys_path = args[++i];
		else if (strncmp(args[i], "--keys=", 7) == 0)
			keys_path = args[i] + 7;
		else if (strcmp(args[i], "--directory") == 0 && i + 1 < nargs)
			dir_path = args[++i];
		else if (strcmp(args[i], "--cosigned") == 0 && i + 1 < nargs && (k = strtol(args[i + 1], &end, 10)) >= 0 &&
			 k <= 512 && *args[i + 1] && !*end)
			i++;
		else if (!file && strncmp(args[i], "--", 2) != 0)
			file = args[i];
		else {
			fprintf(stderr, VERIFY_USAGE "  --cosigned K: a whole number 0..512\n");
			return 2;
		}
	}
	if (!file || (k && !dir_path)) {
		fprintf(stderr, VERIFY_USAGE "  KEYS.json: the hall's /.well-known/govhall-keys.json\n"
				"  DIRECTORY.json: the hub's directory of halls, as a hall's /federation/directory shows it\n"
				"  --cosigned K: require K cosignatures of the directory's witnesses (needs --directory)\n");
		return 2;
	}
	json_t *dir = NULL;
	if (dir_path && !(dir = load_doc(dir_path, "directory"))) {
		return 1;
	}
	size_t tlen;
	char *text = read_small(file, "document", &tlen);
	if (!text) {
		json_decref(dir);
		return 1;
	}
	size_t lead = strspn(text, " \t\r\n");
	if (text[lead] != '{') {
		/* A checkpoint (a signed note): its log's signature and its cosignatures. */
		int rc = 1;
		if (!dir)
			fprintf(stderr, "govhall: a checkpoint is verified against the hub's directory: add --directory\n");
		else {
			struct arena *a = arena_new(1 << 16);
			rc = witness_verify_note(a, text, dir, (int)k, stdout);
			arena_free(a);
		}
		free(text);
		json_decref(dir);
		return rc;
	}
	free(text);
	json_t *doc = load_doc(file, "document"), *keys = NULL;
	if (!doc) {
		json_decref(dir);
		return 1;
	}
	if (keys_path && !(keys = load_doc(keys_path, "keys document"))) {
		json_decref(doc);
		json_decref(dir);
		return 1;
	}
	const char *type = json_string_value(json_object_get(doc, "type"));
	ledger_verify_fn fn = type ? ledger_verifier_of(type) : NULL;
	/* The checkpoint the document carries (a receipt's, a certificate's log proof). */
	const char *cp = json_string_value(json_object_get(doc, "checkpoint"));
	if (!cp)
		cp = json_string_value(json_object_get(json_object_get(doc, "log"), "checkpoint"));
	/* Without --keys, the keys document of the hall whose log it names, from the directory. */
	if (!keys && dir && cp) {
		size_t n = strcspn(cp, "\n"), i;
		json_t *h;
		json_array_foreach(json_object_get(dir, "halls"), i, h) {
			const char *o = json_string_value(json_object_get(json_object_get(h, "log"), "origin"));
			json_t *kd = json_object_get(h, "keys_document");
			if (o && strlen(o) == n && !strncmp(o, cp, n) && json_is_object(kd))
				keys = json_incref(kd);
		}
	}
	int rc;
	if (!fn) {
		printf("INVALID: %s is not a document this program knows (type %s)\n", file, type ? type : "missing");
		rc = 1;
	} else {
		struct arena *a = arena_new(1 << 16);
		struct view *words = ledger_cli_words(cfg);
		rc = fn(a, doc, keys, words, stdout) ? 1 : 0;
		/* With a directory, the document's checkpoint must also carry k cosignatures. */
		if (!rc && dir && cp)
			rc = witness_verify_note(a, cp, dir, (int)k, stdout);
		view_free(words);
		arena_free(a);
	}
	json_decref(doc);
	json_decref(keys);
	json_decref(dir);
	return rc;
}

#define AUDIT_SAVED_MAX 16
#define AUDIT_GRACE 300

void ledger_cli_help(const char *cmd)
{
	if (strcmp(cmd, "audit") != 0) {
		printf("Usage: govhall ledger key list|rotate | checkpoint | backfill | correct TABLE:KEY... --reason TEXT "
		       "[--erasure]\n       govhall verify FILE [--keys KEYS.json] [--directory DIRECTORY.json [--cosigned K]]\n\nSee docs/operations.md (Transparency log).\n");
		return;
	}
	printf("Usage: govhall audit [--db URL] [--key-file FILE] [--checkpoint FILE]... [--keys KEYS.json]\n"
	       "                     [--grace SECONDS] [--coverage]\n\n"
	       "Recomputes the transparency log from the stored leaves and checks every covered row against\n"
	       "its latest leaf; prints one line per problem and exits 0 (none), 1 (problems) or 2 (could not\n"
	       "finish). It only reads.\n\n"
	       "  --checkpoint FILE   a checkpoint saved earlier (the note, as /ledger/checkpoint serves it, or\n"
	       "                      the JSON of /api/v1/ledger/checkpoint or of a receipt): it must be a\n"
	       "                      prefix of the log (consistency proof). May be given up to %d times.\n"
	       "  --keys KEYS.json    the published keys document to check signatures against (default: the\n"
	       "                      log key file, KEY-FILE.ledger)\n"
	       "  --grace SECONDS     leaves appended longer ago than the signing period (%d s) plus this, that\n"
	       "                      no checkpoint covers, are a problem (default %d)\n"
	       "  --coverage          print the covered tables and columns as JSON, and exit\n"
	       "\nThe personal-data key file (--key-file) is needed to read sealed columns.\n",
	       AUDIT_SAVED_MAX, LEDGER_CHECKPOINT_PERIOD, AUDIT_GRACE);
}

/* A saved checkpoint: the note itself, or a JSON document holding it ("checkpoint"). */
static char *saved_note(const char *path)
{
	size_t n;
	char *buf = read_small(path, "the checkpoint", &n);
	if (!buf)
		return NULL;
	size_t skip = strspn(buf, " \t\r\n");
	if (buf[skip] != '{')
		return buf;
	json_t *j = json_loadb(buf, n, JSON_REJECT_DUPLICATES, NULL);
	const char *note = json_string_value(json_object_get(j, "checkpoint"));
	char *out = note ? strdup(note) : NULL;
	if (!out)
		fprintf(stderr, "govhall: %s holds no \"checkpoint\"\n", path);
	json_decref(j);
	free(buf);
	return out;
}

static int audit_cmd(const struct config *cfg, int nargs, char **args)
{
	const char *keys_path = NULL, *saved_paths[AUDIT_SAVED_MAX];
	size_t nsaved = 0;
	long grace = AUDIT_GRACE;
	for (int i = 0; i < nargs; i++) {
		const char *v = i + 1 < nargs ? args[i + 1] : NULL;
		if (!strcmp(args[i], "--coverage")) {
			json_t *j = ledger_coverage_json();
			char *s = jsonout_dumps(j, JSON_INDENT(1));
			json_decref(j);
			puts(s ? s : "[]");
			free(s);
			return 0;
		} else if (!strcmp(args[i], "--checkpoint") && v && nsaved < AUDIT_SAVED_MAX) {
			saved_paths[nsaved++] = v;
			i++;
		} else if (!strcmp(args[i], "--keys") && v) {
			keys_path = v;
			i++;
		} else if (!strcmp(args[i], "--grace") && v) {
			char *end;
			grace = strtol(v, &end, 10);
			if (*end || grace < 0 || grace > 366L * 86400) {
				fprintf(stderr, "govhall: --grace takes seconds, 0 .. 31622400\n");
				return 2;
			}
			i++;
		} else {
			fprintf(stderr, "govhall: unknown or incomplete option %s (see govhall audit --help)\n", args[i]);
			return 2;
		}
	}
	char *saved[AUDIT_SAVED_MAX];
	for (size_t i = 0; i < nsaved; i++)
		if (!(saved[i] = saved_note(saved_paths[i]))) {
			while (i--)
				free(saved[i]);
			return 2;
		}
	int ret = 2;
	struct ledger_keys *k = NULL;
	json_t *kd = NULL;
	struct db *db;
	if (open_db(cfg, &db))
		goto done;
	char origin[300];
	if (ledger_origin_fixed(db, cfg, false, origin, sizeof(origin))) {
		fprintf(stderr, "govhall: cannot read the log's origin: %s\n", db_last_error(db));
		db_close(db);
		goto done;
	}
	if (keys_path) {
		if (!(kd = load_doc(keys_path, "keys document"))) {
			db_close(db);
			goto done;
		}
	} else if (load_keys(cfg, db, false, &k) == 0) {
		kd = json_pack("{s:o}", "log", ledger_keys_json(k));
	} else {
		fprintf(stderr, "govhall: checkpoint signatures are not checked without the log key file (or --keys)\n");
	}
	struct ledger_audit_opts o = { .keys_doc = kd, .origin = origin, .saved = (const char *const *)saved,
				       .nsaved = nsaved, .now = (int64_t)time(NULL), .grace = grace };
	size_t leaves = 0, rows = 0, problems = 0;
	int rc = ledger_audit(db, &o, stdout, &leaves, &rows, &problems);
	if (rc)
		fprintf(stderr, "govhall: the audit could not finish: %s (%s)\n", err_name(rc), db_last_error(db));
	else
		printf("audit: %zu leaves and %zu covered rows checked, %zu problem(s)%s\n", leaves, rows, problems,
		       problems ? ": the stored rows or the log were altered" : "");
	db_close(db);
	ret = rc ? 2 : problems ? 1 : 0;
done:
	json_decref(kd);
	ledger_keys_free(k);
	for (size_t i = 0; i < nsaved; i++)
		free(saved[i]);
	return ret;
}

void ledger_finish(const struct config *cfg)
{
	if (!ledger_appended())
		return;
	/* Checkpoints are signed on a schedule by a running hall; a command that appended leaves
	 * signs one itself, so the log does not wait for the next start. */
	struct ledger_keys *k = NULL;
	struct db *db;
	if (open_db(cfg, &db))
		return;
	if (load_keys(cfg, db, true, &k) == 0) {
		struct arena *a = arena_new(1 << 16);
		int64_t size;
		if (ledger_checkpoint_now(db, a, k, &size))
			fprintf(stderr, "govhall: no checkpoint was signed (%s); the running hall signs one within a minute\n",
				db_last_error(db));
		arena_free(a);
	}
	ledger_keys_free(k);
	db_close(db);
}

int ledger_cli(const struct config *cfg, const char *cmd, int nargs, char **args)
{
	if (sodium_init() < 0)
		return 1;
	ledger_register_observers();
	if (strcmp(cmd, "verify") == 0)
		return verify_cmd(cfg, nargs, args);
	if (strcmp(cmd, "audit") == 0)
		return audit_cmd(cfg, nargs, args);
	return ledger_cmd(cfg, nargs, args);
}
