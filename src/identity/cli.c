/* cli.c: `govhall user ...` (accounts for staff and administrators, who do not register
 * themselves) and `govhall key ...` (rotation of the personal-data key). */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "base/util.h"
#include "identity/identity_impl.h"
#include "store/db.h"
#include "store/hallkeys.h"

static const char *opt(int argc, char **argv, const char *name)
{
	for (int i = 0; i + 1 < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return argv[i + 1];
	return NULL;
}

static void user_usage(void)
{
	fprintf(stderr,
		"usage:\n"
		"  govhall user add --kind staff|admin --name NAME --phone PHONE [--id-number ID]\n"
		"                   [--department CODE --roles counter,reviewer,head] [--totp]\n"
		"      Creates a staff or administrator account. The password is read from standard input\n"
		"      when it is not a terminal, else a random one is generated and printed once.\n"
		"      Administrators always get a TOTP second factor (--totp gives staff one too); its\n"
		"      secret is printed once as an otpauth:// URI for an authenticator app.\n"
		"  govhall user list [--kind KIND]\n"
		"  govhall user disable ID | enable ID\n"
		"  govhall user unblock ID\n"
		"      Forgets the account's failed log-ins (the ceiling past which a code is needed, wrong\n"
		"      codes, per-address counts): for an owner who can receive no code.\n"
		"  govhall user roles ID --department CODE --roles counter,reviewer,head\n");
}


static int user_add(struct app *app, struct db *db, int argc, char **argv)
{
	const char *kind = opt(argc, argv, "--kind"), *name = opt(argc, argv, "--name");
	const char *phone_in = opt(argc, argv, "--phone"), *id_in = opt(argc, argv, "--id-number");
	const char *dept = opt(argc, argv, "--department"), *roles_in = opt(argc, argv, "--roles");
	bool want_totp = false;
	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], "--totp") == 0)
			want_totp = true;
	if (!kind || (strcmp(kind, "staff") && strcmp(kind, "admin")) || !name || !phone_in) {
		user_usage();
		return 2;
	}
	char phone[32], idn[32];
	size_t pl = idcheck_normalize(phone_in, strlen(phone_in), phone, sizeof(phone));
	if (!pl || idcheck_phone(phone, pl) != IDCHECK_OK) {
		fputs("govhall: --phone: not a mainland mobile number (11 digits, starting 13 to 19)\n", stderr);
		return 2;
	}
	if (id_in) {
		size_t il = idcheck_normalize(id_in, strlen(id_in), idn, sizeof(idn));
		enum idcheck_err e = il ? idcheck_id_number(idn, il) : IDCHECK_LENGTH;
		if (e != IDCHECK_OK) {
			fprintf(stderr, "govhall: --id-number: not a valid resident ID number (%s)\n",
				e == IDCHECK_LENGTH ? "18 characters" : e == IDCHECK_CHARS ? "17 digits and a digit or X"
				: e == IDCHECK_REGION ? "region code" : e == IDCHECK_BIRTHDATE ? "date of birth" : "check character");
			return 2;
		}
	}
	unsigned roles = 0;
	if (strcmp(kind, "staff") == 0) {
		if (!dept || !roles_in || account_parse_staff_roles(roles_in, &roles) || !roles) {
			fprintf(stderr, "govhall: staff need --department CODE and --roles (counter, reviewer, head)\n");
			return 2;
		}
	}
	char pw[PASSWORD_MAX_BYTES + 2], gen[ACCOUNT_INITIAL_PASSWORD_LEN + 1];
	bool generated = isatty(STDIN_FILENO);
	if (generated) {
		account_random_password(gen);
		snprintf(pw, sizeof(pw), "%s", gen);
	} else {
		if (!fgets(pw, sizeof(pw), stdin)) {
			fprintf(stderr, "govhall: no password on standard input\n");
			return 2;
		}
		pw[strcspn(pw, "\r\n")] = 0;
	}
	const char *avoid[] = { phone, id_in ? idn : NULL, NULL };
	enum password_problem p = password_check(pw, avoid);
	if (p != PASSWORD_OK) {
		fprintf(stderr, "govhall: password refused (%s)\n",
			p == PASSWORD_TOO_SHORT ? "at least 12 characters" : p == PASSWORD_TOO_LONG ? "at most 1024 bytes"
			: p == PASSWORD_COMMON ? "too common" : p == PASSWORD_LIKE_ID ? "holds the phone or ID number"
			: "not UTF-8");
		return 2;
	}
	struct arena *a = arena_new(4096);
	struct account_new in = { .kind = kind, .name = name, .phone = phone, .id_number = id_in ? idn : NULL,
				  .department = dept, .staff_roles = roles };
	char hash[PASSWORD_HASH_MAX], secret[TOTP_BASE32_LEN + 1];
	int rc = password_hash(pw, hash);
	sodium_memzero(pw, sizeof(pw));
	if (strcmp(kind, "admin") == 0 || want_totp) {
		totp_new_secret(secret);
		in.totp_secret = secret;
	}
	in.password_hash = hash;
	int64_t id = 0;
	if (!rc)
		rc = account_create(db, app->keys, a, &in, &id);
	if (rc == GH_ECONFLICT) {
		fprintf(stderr, "govhall: an account with this phone or ID number exists already\n");
	} else if (rc) {
		fprintf(stderr, "govhall: the account could not be created (%s)\n", err_name(rc));
	} else {
		identity_event(db, "account.create", id, 0, "cli", kind);
		printf("created %s account %lld (%s)\n", kind, (long long)id, name);
		if (generated)
			printf("initial password (shown once): %s\n", gen);
		if (in.totp_secret)
			printf("second factor (add to an authenticator app, shown once):\n  %s\n",
			       totp_uri(a, secret, name));
	}
	sodium_memzero(gen, sizeof(gen));
	sodium_memzero(secret, sizeof(secret));
	arena_free(a);
	return rc ? 1 : 0;
}

static int user_list(struct db *db, int argc, char **argv)
{
	struct arena *a = arena_new(4096);
	struct account *v;
	size_t n;
	long total;
	int rc = account_list(db, a, opt(argc, argv, "--kind"), 1, 1000, &v, &n, &total);
	for (size_t i = 0; !rc && i < n; i++)
		printf("%-6lld %-10s %-8s %-14s %-20s %-8s %s\n", (long long)v[i].id, v[i].kind, v[i].status,
		       v[i].phone_mask ? v[i].phone_mask : "-", v[i].id_mask ? v[i].id_mask : "-",
		       v[i].department ? v[i].department : "-", v[i].name);
	arena_free(a);
	return rc ? 1 : 0;
}

static int parse_id(const char *s, int64_t *id)
{
	long v;
	if (!s || str_to_long(str_c(s), 1, 1L << 62, &v)) {
		fprintf(stderr, "govhall: expected an account number, got '%s'\n", s ? s : "");
		return -1;
	}
	*id = v;
	return 0;
}

int identity_cli_user(struct app *app, struct db *db, int argc, char **argv)
{
	if (argc < 1) {
		user_usage();
		return 2;
	}
	const char *sub = argv[0];
	int64_t id;
	if (!strcmp(sub, "add"))
		return user_add(app, db, argc - 1, argv + 1);
	if (!strcmp(sub, "list"))
		return user_list(db, argc - 1, argv + 1);
	if (!strcmp(sub, "disable") || !strcmp(sub, "enable")) {
		if (argc < 2 || parse_id(argv[1], &id))
			return 2;
		bool off = !strcmp(sub, "disable");
		int rc = account_set_status(db, id, off ? "disabled" : "active");
		if (!rc && off)
			rc = session_end_account(db, id, 0);
		if (rc) {
			fprintf(stderr, "govhall: account %lld: %s\n", (long long)id,
				rc == GH_ENOTFOUND ? "no such account" : err_name(rc));
			return 1;
		}
		identity_event(db, off ? "account.disable" : "account.enable", id, 0, "cli", "");
		printf("account %lld %sd\n", (long long)id, sub);
		return 0;
	}
	if (!strcmp(sub, "unblock")) {
		if (argc < 2 || parse_id(argv[1], &id))
			return 2;
		int rc = throttle_clear_account(db, id);
		if (rc && rc != GH_ENOTFOUND) {
			fprintf(stderr, "govhall: account %lld: %s\n", (long long)id, err_name(rc));
			return 1;
		}
		if (!rc)
			identity_event(db, "login.unblock", id, 0, "cli", "");
		printf(rc ? "account %lld: no failed log-ins to forget\n" : "account %lld: failed log-ins forgotten\n",
		       (long long)id);
		return 0;
	}
	if (!strcmp(sub, "roles")) {
		unsigned roles;
		const char *dept = opt(argc, argv, "--department"), *r = opt(argc, argv, "--roles");
		if (argc < 2 || parse_id(argv[1], &id) || !dept || !r || account_parse_staff_roles(r, &roles)) {
			user_usage();
			return 2;
		}
		int rc = account_set_staff(db, id, dept, roles);
		if (rc) {
			fprintf(stderr, "govhall: account %lld: %s\n", (long long)id,
				rc == GH_ENOTFOUND ? "no such staff account" : err_name(rc));
			return 1;
		}
		identity_event(db, "account.roles", id, 0, "cli", r);
		printf("account %lld: department %s, roles %s\n", (long long)id, dept, r);
		return 0;
	}
	user_usage();
	return 2;
}

/* ---- keys ----------------------------------------------------------------------------- */

DB_SQL(q_sealed, "SELECT id, id_enc, phone_enc, totp_enc, email_enc FROM accounts WHERE key_id <> ? ORDER BY id");
DB_SQL(q_reseal, "UPDATE accounts SET id_enc = ?, phone_enc = ?, totp_enc = ?, email_enc = ?, key_id = ? WHERE id = ?");
DB_SQL(q_key_counts, "SELECT key_id, COUNT(*) FROM accounts GROUP BY key_id ORDER BY key_id");

/* Re-seals one column value under the current key (NULL stays NULL). */
static int reseal(const struct keyring *k, struct arena *a, const char *field, const struct db_rows *rows,
		  size_t i, size_t col, struct db_val *out)
{
	const char *cell = db_cell(rows, i, col);
	if (!cell) {
		*out = DB_NULL;
		return 0;
	}
	char *plain;
	size_t n;
	unsigned char *sealed;
	size_t sl;
	int rc = crypto_open(k, a, field, (const unsigned char *)cell, rows->lens[i * rows->ncols + col], &plain, &n, NULL);
	if (!rc)
		rc = crypto_seal(k, a, field, plain, n, &sealed, &sl);
	if (!rc)
		sodium_memzero(plain, n);
	*out = rc ? DB_NULL : DB_BLOB(sealed, sl);
	return rc;
}

#define SEALED_STORES_MAX 8
static const struct identity_sealed_store *sealed_stores[SEALED_STORES_MAX];
static size_t n_sealed_stores;

void identity_sealed_store_add(const struct identity_sealed_store *s)
{
	if (n_sealed_stores == SEALED_STORES_MAX)
		die("identity: more than %d sealed stores", SEALED_STORES_MAX);
	sealed_stores[n_sealed_stores++] = s;
}

/* Re-seals the other domains' stores (after the accounts); prints what each did. */
static int reseal_stores(struct app *app, struct db *db)
{
	for (size_t i = 0; i < n_sealed_stores; i++) {
		size_t n = 0;
		int rc = sealed_stores[i]->reseal(app->keys, db, &n);
		if (rc) {
			fprintf(stderr, "govhall: re-encrypting the %s failed (%s)\n", sealed_stores[i]->what, err_name(rc));
			return rc;
		}
		printf("%zu %s re-encrypted under key %u\n", n, sealed_stores[i]->what, keyring_current_id(app->keys));
	}
	return 0;
}

/* Re-encrypts every sealed value not under the current key, in one transaction. */
static int reseal_all(struct app *app, struct db *db, size_t *count)
{
	struct arena *a = arena_new(1 << 16);
	uint32_t cur = keyring_current_id(app->keys);
	struct db_rows rows;
	int rc = db_begin(db);
	if (!rc)
		rc = db_query(db, a, &q_sealed, DB_ARGS(DB_INT(cur)), &rows);
	for (size_t i = 0; !rc && i < rows.nrows; i++) {
		struct db_val idv, phv, tov, emv;
		rc = reseal(app->keys, a, "id", &rows, i, 1, &idv);
		if (!rc)
			rc = reseal(app->keys, a, "phone", &rows, i, 2, &phv);
		if (!rc)
			rc = reseal(app->keys, a, "totp", &rows, i, 3, &tov);
		if (!rc)
			rc = reseal(app->keys, a, "email", &rows, i, 4, &emv);
		if (!rc)
			rc = db_exec(db, &q_reseal,
				     DB_ARGS(idv, phv, tov, emv, DB_INT(cur), DB_INT(db_cell_int(&rows, i, 0))), NULL);
	}
	if (!rc) {
		rc = db_commit(db);
		*count = rows.nrows;
	} else {
		db_rollback(db);
	}
	arena_free(a);
	return rc;
}

int identity_cli_key(struct app *app, struct db *db, int argc, char **argv)
{
	char err[512];
	if (argc >= 1 && !strcmp(argv[0], "list")) {
		struct arena *a = arena_new(1024);
		struct db_rows rows;
		int rc = db_query(db, a, &q_key_counts, DB_NOARGS, &rows);
		printf("current key: %u\n", keyring_current_id(app->keys));
		for (size_t i = 0; !rc && i < rows.nrows; i++)
			printf("key %lld: %lld account(s)\n", (long long)db_cell_int(&rows, i, 0),
			       (long long)db_cell_int(&rows, i, 1));
		for (size_t s = 0; !rc && s < n_sealed_stores; s++) {
			int64_t *ids, *counts;
			size_t n;
			rc = sealed_stores[s]->counts(db, a, &ids, &counts, &n);
			for (size_t i = 0; !rc && i < n; i++)
				printf("key %lld: %lld %s\n", (long long)ids[i], (long long)counts[i], sealed_stores[s]->what);
		}
		arena_free(a);
		return rc ? 1 : 0;
	}
	if (argc >= 1 && !strcmp(argv[0], "rotate")) {
		uint32_t id;
		if (keyring_add_key(app->cfg.key_file, &id, err, sizeof(err))) {
			fprintf(stderr, "govhall: %s\n", err);
			return 1;
		}
		keyring_free(app->keys);
		app->keys = NULL;
		if (keyring_load(app->cfg.key_file, &app->keys, err, sizeof(err))) {
			fprintf(stderr, "govhall: %s\n", err);
			return 1;
		}
		/* The database publishes the new key's check value first: nodes still on the old
		 * file refuse to start rather than seal under a key the others lack. */
		char check[65];
		uint32_t cid = keyring_check(app->keys, keyring_count(app->keys) - 1, check);
		if (hallkeys_record(db, "data", cid, check, (int64_t)time(NULL))) {
			fprintf(stderr, "govhall: key %u was added to %s, but the database did not record it (%s); run "
					"`govhall init` with this key file to record it, then `govhall key reseal`\n",
				id, app->cfg.key_file, db_last_error(db));
			return 1;
		}
		size_t n = 0;
		int rc = reseal_all(app, db, &n);
		if (!rc) {
			printf("%zu account(s) re-encrypted under key %u\n", n, id);
			rc = reseal_stores(app, db);
		}
		if (rc) {
			fprintf(stderr, "govhall: key %u was added, but re-encryption failed (%s); run "
					"`govhall key reseal` to finish\n", id, err_name(rc));
			return 1;
		}
		identity_event(db, "key.rotate", 0, 0, "cli", "");
		printf("new key %u is current. Restart every node so they load it.\n", id);
		return 0;
	}
	if (argc >= 1 && !strcmp(argv[0], "reseal")) {
		size_t n = 0;
		int rc = reseal_all(app, db, &n);
		if (rc) {
			fprintf(stderr, "govhall: re-encryption failed (%s)\n", err_name(rc));
			return 1;
		}
		printf("%zu account(s) re-encrypted under key %u\n", n, keyring_current_id(app->keys));
		if (reseal_stores(app, db))
			return 1;
		identity_event(db, "key.reseal", 0, 0, "cli", "");
		return 0;
	}
	fprintf(stderr, "usage: govhall key list | rotate | reseal\n"
			"  rotate: add a new key to the key file, make it current and re-encrypt every\n"
			"          ID number, phone, e-mail address, TOTP secret and personal field of\n"
			"          application forms under it (blind indexes are kept)\n"
			"  reseal: re-encrypt what is still under an older key\n");
	return 2;
}

/* ---- demo accounts -------------------------------------------------------------------- */

/* The demo hall's people (`govhall init --demo`): one of each kind, with published
 * passwords, so that a visitor can try every role. Never use --demo for a real hall. */
static const struct demo_account {
	const char *kind, *name, *id_number, *uscc, *phone, *legal_rep, *department, *roles, *totp;
} demo_accounts[] = {
	{ "individual", "张三", "11010519491231002X", NULL, "13800000001", NULL, NULL, NULL, NULL },
	{ "individual", "李四", "440524188001010014", NULL, "13800000002", NULL, NULL, NULL, NULL },
	{ "enterprise", "清河示范科技有限公司", NULL, "91310110666007217T", "13800000003", "王五", NULL, NULL, NULL },
	{ "staff", "赵六", NULL, NULL, "13800000004", NULL, "psb", "counter,reviewer", NULL },
	{ "staff", "钱七", NULL, NULL, "13800000005", NULL, "civ", "counter,reviewer,head", NULL },
	{ "admin", "孙八", NULL, NULL, "13800000006", NULL, NULL, NULL, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP" },
};

#define DEMO_PASSWORD "Qinghe-demo-2026"

int identity_demo_people(struct app *app, struct db *db, const struct identity_demo_person *ps, size_t n,
			 int64_t *ids)
{
	/* A password nobody knows: these people are the history's, not log-ins to try. One hash
	 * for all of them, made at the first call (a command's single thread). */
	static char hash[PASSWORD_HASH_MAX];
	int rc = 0;
	if (!hash[0]) {
		unsigned char secret[24];
		char pw[64];
		randombytes_buf(secret, sizeof(secret));
		sodium_bin2base64(pw, sizeof(pw), secret, sizeof(secret), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		sodium_memzero(secret, sizeof(secret));
		rc = password_hash(pw, hash);
		sodium_memzero(pw, sizeof(pw));
		if (rc)
			hash[0] = 0;
	}
	struct arena *a = arena_new(4096);
	for (size_t i = 0; !rc && i < n; i++) {
		const struct identity_demo_person *p = &ps[i];
		unsigned roles = 0;
		if (p->roles && account_parse_staff_roles(p->roles, &roles))
			rc = GH_EINVAL;
		struct account_new in = { .kind = p->kind, .name = p->name, .id_number = p->id_number,
					  .phone = p->phone, .department = p->department, .staff_roles = roles,
					  .password_hash = hash, .phone_verified = true };
		if (!rc)
			rc = account_create(db, app->keys, a, &in, &ids[i]);
	}
	arena_free(a);
	return rc;
}

int identity_demo_accounts(struct app *app, struct db *db)
{
	struct arena *a = arena_new(4096);
	char hash[PASSWORD_HASH_MAX];
	int rc = password_hash(DEMO_PASSWORD, hash);
	int64_t ids[ARRAY_LEN(demo_accounts)] = { 0 };
	size_t created = 0;
	for (size_t i = 0; !rc && i < ARRAY_LEN(demo_accounts); i++) {
		const struct demo_account *d = &demo_accounts[i];
		unsigned roles = 0;
		if (d->roles)
			account_parse_staff_roles(d->roles, &roles);
		struct account_new in = { .kind = d->kind, .name = d->name, .id_number = d->id_number, .uscc = d->uscc,
					  .phone = d->phone, .legal_rep = d->legal_rep, .department = d->department,
					  .staff_roles = roles, .password_hash = hash, .totp_secret = d->totp,
					  .phone_verified = true };
		rc = account_create(db, app->keys, a, &in, &ids[i]);
		if (rc == GH_ECONFLICT) {
			rc = 0; /* already there from an earlier --demo */
			continue;
		}
		created++;
	}
	/* 李四 is an agent of the demo enterprise. */
	if (!rc && ids[1] && ids[2])
		rc = agent_add(db, ids[2], ids[1], identity_now());
	if (!rc && created) {
		printf("demo accounts (password %s; log in with the phone number):\n", DEMO_PASSWORD);
		for (size_t i = 0; i < ARRAY_LEN(demo_accounts); i++)
			printf("  %-10s %s %s%s%s\n", demo_accounts[i].kind, demo_accounts[i].phone, demo_accounts[i].name,
			       demo_accounts[i].totp ? "  TOTP secret " : "", demo_accounts[i].totp ? demo_accounts[i].totp : "");
	}
	arena_free(a);
	return rc;
}
