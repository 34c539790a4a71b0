/* keycheck.c: a node opens its database only with the keys the database publishes (ops.h). */
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/arena.h"
#include "base/config.h"
#include "base/err.h"
#include "base/log.h"
#include "base/util.h"
#include "identity/crypto.h"
#include "identity/identity.h"
#include "ledger/ledger.h"
#include "ops/ops.h"
#include "store/db.h"
#include "store/hallkeys.h"

#define MAX_KEYS 2048

/* The keys this node's files hold. */
struct mine {
	size_t n;
	struct hallkey k[MAX_KEYS];
	char fp[MAX_KEYS][65];
};

static void add_ledger(void *ctx, uint32_t id, const char *pk_hex)
{
	struct mine *m = ctx;
	if (m->n == MAX_KEYS)
		return;
	snprintf(m->fp[m->n], sizeof(m->fp[m->n]), "%s", pk_hex);
	m->k[m->n] = (struct hallkey){ "ledger", id, m->fp[m->n] };
	m->n++;
}

/* The key file's absolute path (its folder resolved), for advice that works from anywhere. */
static void absolute(const char *file, char *buf, size_t size)
{
	char dir[PATH_MAX], real[PATH_MAX];
	const char *slash = strrchr(file, '/');
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - file) : 1, slash ? (slash == file ? "/" : file) : ".");
	if (realpath(dir, real))
		snprintf(buf, size, "%s/%s", strcmp(real, "/") ? real : "", slash ? slash + 1 : file);
	else
		snprintf(buf, size, "%s", file);
}

/* The advice every refusal ends with. */
static void copy_advice(const struct config *cfg, const char *why, char *err, size_t errlen)
{
	char kf[PATH_MAX + 256];
	absolute(cfg->key_file, kf, sizeof(kf));
	snprintf(err, errlen,
		 "%s. Copy the key files of a node that serves this database to this one (both, mode 0600, owned by the "
		 "user govhall runs as), e.g.\n  scp -p NODE:%s %s\n  scp -p NODE:%s.ledger %s.ledger\n"
		 "`govhall init` never makes keys for an initialised database; new keys come only from "
		 "`govhall key rotate` and `govhall ledger key rotate`",
		 why, kf, kf, kf, kf);
}

static const struct hallkey *find(const struct hallkey *ks, size_t n, const char *kind, uint32_t id)
{
	for (size_t i = 0; i < n; i++)
		if (ks[i].id == id && strcmp(ks[i].kind, kind) == 0)
			return &ks[i];
	return NULL;
}

static const char *file_of(const struct config *cfg, const char *kind, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s", cfg->key_file, strcmp(kind, "ledger") == 0 ? ".ledger" : "");
	return buf;
}

static const char *what(const char *kind)
{
	return strcmp(kind, "ledger") == 0 ? "log signing key" : "key";
}

int ops_open_db(const struct config *cfg, enum ops_open mode, struct db **out, char *err, size_t errlen)
{
	*out = NULL;
	char path[4200], why[2400];
	struct db *db;
	int rc = db_open(cfg->db, &db, err, errlen);
	if (rc)
		return rc;
	int version = db_schema_version(db);
	if (version < 0) {
		snprintf(err, errlen, "cannot read the database's schema version: %s", db_last_error(db));
		db_close(db);
		return version;
	}
	bool fresh = version == 0;
	char ledger_path[4200];
	ledger_key_path(cfg, ledger_path, sizeof(ledger_path));
	if (fresh && mode == OPS_INIT &&
	    ((rc = keyring_create(cfg->key_file, err, errlen)) || (rc = ledger_key_create(cfg, err, errlen)))) {
		db_close(db);
		return rc;
	}
	if (access(cfg->key_file, F_OK) != 0 || access(ledger_path, F_OK) != 0) {
		const char *missing = access(cfg->key_file, F_OK) != 0 ? cfg->key_file : ledger_path;
		if (fresh)
			snprintf(err, errlen, "there is no key file %s: run `govhall init` first", missing);
		else {
			snprintf(why, sizeof(why), "the database is initialised, but there is no key file %.1000s here", missing);
			copy_advice(cfg, why, err, errlen);
		}
		db_close(db);
		return GH_EUNAVAILABLE;
	}

	struct keyring *ring = NULL;
	struct mine *mp = xcalloc(1, sizeof(*mp));
	if ((rc = keyring_load(cfg->key_file, &ring, err, errlen)) ||
	    (rc = ledger_key_publics(cfg, add_ledger, mp, err, errlen))) {
		keyring_free(ring);
		free(mp);
		db_close(db);
		return rc;
	}
	for (size_t i = 0; i < keyring_count(ring) && mp->n < MAX_KEYS; i++) {
		uint32_t id = keyring_check(ring, i, mp->fp[mp->n]);
		mp->k[mp->n] = (struct hallkey){ "data", id, mp->fp[mp->n] };
		mp->n++;
	}
	struct mine *const m = mp;

	struct arena *a = arena_new(4096);
	struct hallkey *pub;
	size_t npub;
	bool record_all = false;
	why[0] = 0;
	if ((rc = hallkeys_list(db, a, &pub, &npub))) {
		snprintf(err, errlen, "cannot read the keys the database publishes: %s", db_last_error(db));
		goto out;
	}
	if (npub) {
		/* Every published key must be here, unchanged; of the key file's keys, an old one that
		 * seals nothing any more may have been removed (docs/security.md), but never the first
		 * (blind indexes, tokens) nor the current one. */
		for (size_t i = 0; i < npub && !why[0]; i++) {
			const struct hallkey *k = find(m->k, m->n, pub[i].kind, pub[i].id);
			bool data = strcmp(pub[i].kind, "data") == 0;
			bool edge = (i == 0 || strcmp(pub[i - 1].kind, pub[i].kind) != 0) ||
				    (i + 1 == npub || strcmp(pub[i + 1].kind, pub[i].kind) != 0);
			if (!k && data && !edge)
				continue;
			if (!k)
				snprintf(why, sizeof(why), "%.1000s lacks %s %u, which the database publishes",
					 file_of(cfg, pub[i].kind, path, sizeof(path)), what(pub[i].kind), pub[i].id);
			else if (strcmp(k->fingerprint, pub[i].fingerprint) != 0)
				snprintf(why, sizeof(why), "%s %u in %.1000s is not the one the database publishes",
					 what(pub[i].kind), pub[i].id, file_of(cfg, pub[i].kind, path, sizeof(path)));
		}
		/* And nothing here that the database does not publish: a node would seal or sign
		 * with it. init records keys a rotation could not record. */
		for (size_t i = 0; i < m->n && !why[0]; i++) {
			if (find(pub, npub, m->k[i].kind, m->k[i].id))
				continue;
			if (mode == OPS_INIT)
				continue;
			snprintf(why, sizeof(why),
				 "%.1000s holds %s %u, which the database does not publish (a rotation against another "
				 "database, or one that `govhall init` should record)",
				 file_of(cfg, m->k[i].kind, path, sizeof(path)), what(m->k[i].kind), m->k[i].id);
		}
	} else if (!fresh) {
		/* Initialised before the database published its keys: the key file must open what
		 * the database sealed. */
		rc = identity_keys_fit(ring, db);
		if (rc == GH_EINVAL)
			snprintf(why, sizeof(why), "the key file %.1000s does not open the personal data this database holds",
				 cfg->key_file);
		else if (rc) {
			snprintf(err, errlen, "cannot read the database: %s", db_last_error(db));
			goto out;
		}
		record_all = true;
	} else {
		record_all = true;
	}
	if (why[0]) {
		copy_advice(cfg, why, err, errlen);
		rc = GH_EUNAVAILABLE;
		goto out;
	}
	if ((rc = db_migrate(db, err, errlen)))
		goto out;
	int64_t now = (int64_t)time(NULL);
	for (size_t i = 0; i < m->n && !rc; i++)
		if (record_all || !find(pub, npub, m->k[i].kind, m->k[i].id)) {
			rc = hallkeys_record(db, m->k[i].kind, m->k[i].id, m->k[i].fingerprint, now);
			if (rc == GH_ECONFLICT) {
				/* Another node initialised the same database at the same moment with keys of
				 * its own: this one's lost. */
				snprintf(why, sizeof(why), "another node has just published other keys for this database");
				copy_advice(cfg, why, err, errlen);
			} else if (rc) {
				snprintf(err, errlen, "cannot record the keys: %s", db_last_error(db));
			} else if (!record_all) {
				log_info("keys: recorded %s %u of %s", what(m->k[i].kind), m->k[i].id,
					 file_of(cfg, m->k[i].kind, path, sizeof(path)));
			}
		}
out:
	arena_free(a);
	keyring_free(ring);
	free(mp);
	if (rc)
		db_close(db);
	else
		*out = db;
	return rc;
}
