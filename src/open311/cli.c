/* cli.c: `govhall open311 key add NAME | list | revoke ID` — administrators manage the API
 * keys of Open311 clients. A key is shown once, when it is made; only its keyed hash is kept. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/calendar.h"
#include "base/err.h"
#include "base/str.h"
#include "identity/crypto.h"
#include "open311/open311.h"
#include "open311/open311_impl.h"
#include "store/db.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: govhall open311 key add NAME     issue a key for an Open311 client (shown once)\n"
		   "       govhall open311 key list         list keys (never the keys themselves)\n"
		   "       govhall open311 key revoke ID    revoke a key at once\n");
}

static void when(int64_t t, char out[26])
{
	if (!t) {
		snprintf(out, 26, "-");
		return;
	}
	open311_format_time(t, out);
}

int open311_cli(struct app *app, struct db *db, int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[0], "key") != 0) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	struct arena *a = arena_new(4096);
	int64_t now = (int64_t)time(NULL);
	int ret = 1, rc;
	if (strcmp(cmd, "add") == 0) {
		if (argc != 3 || !*argv[2] || strlen(argv[2]) > 100 || !str_utf8_valid(argv[2], strlen(argv[2]))) {
			fprintf(stderr, "govhall: give the client's name (1..100 characters): govhall open311 key add NAME\n");
			ret = 2;
			goto out;
		}
		int64_t applicant, id;
		if ((rc = open311_applicant_ensure(db, a, now, &applicant))) {
			fprintf(stderr, "govhall: the Open311 applicant account could not be made (%s)\n", err_name(rc));
			goto out;
		}
		char key[CRYPTO_TOKEN_LEN + 1], hash[CRYPTO_HASH_HEX + 1], hint[7];
		crypto_new_token(key);
		crypto_token_hash(app->keys, key, hash);
		snprintf(hint, sizeof(hint), "%.6s", key);
		if ((rc = open311_key_add(db, a, argv[2], hash, hint, now, &id))) {
			fprintf(stderr, "govhall: the key could not be stored (%s)\n", err_name(rc));
			goto out;
		}
		printf("key %lld for %s: %s\n(shown only now; give it to the client over a safe channel)\n", (long long)id,
		       argv[2], key);
		ret = 0;
	} else if (strcmp(cmd, "list") == 0 && argc == 2) {
		struct open311_key *v;
		size_t n;
		if ((rc = open311_key_list(db, a, &v, &n))) {
			fprintf(stderr, "govhall: keys could not be read (%s)\n", err_name(rc));
			goto out;
		}
		printf("%-6s %-8s %-9s %-25s %-25s %s\n", "id", "status", "starts", "created", "last used", "name");
		for (size_t i = 0; i < n; i++) {
			char c[26], u[26];
			when(v[i].created_at, c);
			when(v[i].last_used, u);
			printf("%-6lld %-8s %-9s %-25s %-25s %s\n", (long long)v[i].id, v[i].revoked_at ? "revoked" : "active",
			       v[i].hint, c, u, v[i].name);
		}
		ret = 0;
	} else if (strcmp(cmd, "revoke") == 0 && argc == 3) {
		long id;
		if (str_to_long(str_c(argv[2]), 1, 1L << 53, &id)) {
			fprintf(stderr, "govhall: give the key's id (see govhall open311 key list)\n");
			ret = 2;
			goto out;
		}
		rc = open311_key_revoke(db, id, now);
		if (rc == GH_ENOTFOUND)
			fprintf(stderr, "govhall: there is no active key %ld\n", id);
		else if (rc)
			fprintf(stderr, "govhall: the key could not be revoked (%s)\n", err_name(rc));
		else
			printf("key %ld revoked\n", id);
		ret = rc ? 1 : 0;
	} else {
		usage(stderr);
		ret = 2;
	}
out:
	arena_free(a);
	return ret;
}
