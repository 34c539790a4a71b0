/* certs.c: the module's start (registration of observers and hooks), its routes, and its
 * commands: `govhall cert key generate|rotate|list [--department CODE]` and the PDF half of
 * `govhall verify`. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/calendar.h"
#include "base/err.h"
#include "base/util.h"
#include "certs/certs.h"
#include "certs/certs_impl.h"
#include "http/router.h"
#include "store/db.h"
#include "view/view.h"

void certs_register(void)
{
	cert_store_register();
	certs_register_facts();
}

void certs_init(struct app *app)
{
	cert_store_init(app->keys, app->cfg.public_url);
	certs_load_types(app->cfg.data_dir);
}

int certs_add_routes(struct router *rt)
{
	return router_add(rt, cert_routes, cert_routes_n);
}

/* ---- commands --------------------------------------------------------------------------- */

static const char *opt(int argc, char **argv, const char *name)
{
	for (int i = 0; i + 1 < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return argv[i + 1];
	return NULL;
}

static void cli_usage(FILE *f)
{
	fprintf(f, "usage: govhall cert key list [--department CODE]\n"
		   "       govhall cert key generate [--department CODE]   a first key (every department without one\n"
		   "                                                      when no department is given)\n"
		   "       govhall cert key rotate --department CODE       a new key; the old one ends now and stays\n"
		   "                                                      published, so what it signed still verifies\n");
}

static void when(int64_t t, char out[32])
{
	if (!t || !calendar_format_minute(t, out))
		snprintf(out, 32, "-");
}

DB_SQL(q_depts, "SELECT code FROM departments ORDER BY code");

static int key_new(struct db *db, struct app *app, struct arena *a, const char *dept, bool rotate)
{
	struct cert_key *v;
	size_t n;
	int rc = cert_keys_list(db, a, dept, &v, &n);
	if (rc)
		return rc;
	bool current = false;
	for (size_t i = 0; i < n; i++)
		current |= v[i].valid_until == 0;
	if (current && !rotate) {
		printf("%s: has a current key already (use `govhall cert key rotate --department %s`)\n", dept, dept);
		return 0;
	}
	struct cert_key k;
	if ((rc = db_begin(db)))
		return rc;
	rc = cert_key_new(db, app->keys, a, dept, &k);
	if (rc || (rc = db_commit(db))) {
		db_rollback(db);
		if (rc == GH_ENOTFOUND)
			fprintf(stderr, "govhall: no department %s in the catalog\n", dept);
		return rc;
	}
	printf("%s: new key %s (Ed25519, public %s)%s\n", dept, k.key_id, k.public_key,
	       current ? "; the previous key ended now and stays published" : "");
	return 0;
}

int certs_cli(struct app *app, struct db *db, int nargs, char **args)
{
	if (nargs < 2 || strcmp(args[0], "key") != 0) {
		cli_usage(stderr);
		return 2;
	}
	const char *cmd = args[1], *dept = opt(nargs, args, "--department");
	struct arena *a = arena_new(0);
	int rc = 0;
	if (!strcmp(cmd, "list")) {
		struct cert_key *v;
		size_t n;
		if ((rc = cert_keys_list(db, a, dept, &v, &n)) == 0) {
			printf("%-10s %-18s %-17s %-17s %s\n", "DEPT", "KEY ID", "VALID FROM", "VALID UNTIL", "PUBLIC KEY");
			for (size_t i = 0; i < n; i++) {
				char f[32], u[32];
				when(v[i].valid_from, f);
				when(v[i].valid_until, u);
				printf("%-10s %-18s %-17s %-17s %s\n", v[i].department, v[i].key_id, f,
				       v[i].valid_until ? u : "(current)", v[i].public_key);
			}
			if (n == 0)
				printf("no keys yet: `govhall cert key generate` makes them (a department also gets one at its first certificate)\n");
		}
	} else if (!strcmp(cmd, "generate") || !strcmp(cmd, "rotate")) {
		bool rotate = !strcmp(cmd, "rotate");
		if (!app->keys) {
			fprintf(stderr, "govhall: the key file is needed to seal department keys\n");
			rc = GH_EUNAVAILABLE;
		} else if (dept) {
			rc = key_new(db, app, a, dept, rotate);
		} else if (rotate) {
			fprintf(stderr, "govhall: rotate needs --department CODE\n");
			arena_free(a);
			return 2;
		} else {
			struct db_rows rows;
			if ((rc = db_query(db, a, &q_depts, DB_NOARGS, &rows)) == 0)
				for (size_t i = 0; i < rows.nrows && !rc; i++)
					rc = key_new(db, app, a, db_cell(&rows, i, 0), false);
		}
	} else {
		cli_usage(stderr);
		arena_free(a);
		return 2;
	}
	arena_free(a);
	if (rc) {
		fprintf(stderr, "govhall: cert key %s failed (%s)\n", cmd, err_slug(rc));
		return 1;
	}
	return 0;
}

/* ---- offline verification of a PDF ------------------------------------------------------ */

static char *slurp(const char *path, size_t max, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = malloc(max + 1);
	if (!buf)
		abort();
	size_t n = fread(buf, 1, max + 1, f);
	fclose(f);
	if (n > max) {
		free(buf);
		return NULL;
	}
	buf[n] = 0;
	*len = n;
	return buf;
}

int certs_verify_pdf_cli(const struct config *cfg, int nargs, char **args, int *status)
{
	const char *file = NULL, *keys_path = opt(nargs, args, "--keys");
	for (int i = 0; i < nargs; i++) {
		if (strncmp(args[i], "--", 2) == 0) {
			i++;
			continue;
		}
		file = args[i];
		break;
	}
	if (!file)
		return 1;
	size_t len = 0;
	char *buf = slurp(file, (size_t)CERT_DOC_MAX * 64, &len);
	if (!buf || len < 5 || memcmp(buf, "%PDF-", 5) != 0) {
		free(buf);
		return 1; /* not ours: the log's verify reads it */
	}
	struct arena *a = arena_new(0);
	char *json;
	size_t jlen;
	json_t *doc = NULL, *keys = NULL;
	*status = 2;
	if (cert_pdf_extract(a, buf, len, &json, &jlen)) {
		printf("%s: INVALID: this PDF carries no certificate issued by a hall\n", file);
	} else if (!(doc = json_loadb(json, jlen, JSON_REJECT_DUPLICATES, NULL))) {
		printf("%s: INVALID: the certificate embedded in this PDF cannot be read\n", file);
	} else {
		if (keys_path && !(keys = json_load_file(keys_path, 0, NULL)))
			printf("%s: cannot read the keys document %s\n", file, keys_path);
		else {
			struct view *words = ledger_cli_words(cfg);
			*status = cert_verify_offline(a, doc, keys, words, stdout) ? 2 : 0;
			view_free(words);
		}
	}
	json_decref(doc);
	json_decref(keys);
	arena_free(a);
	free(buf);
	return 0;
}
