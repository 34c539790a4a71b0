/* catalog.h: departments, regions, service items (versioned), bundles; their import, their
 * guide pages and their JSON API.
 *
 * Invariants: the catalog is read-only to citizens; it changes only through import (and, in a
 * later issue, administrators' pages). An item's change creates a new version; the current
 * version is served; older versions stay readable by (code, version). Import is all or
 * nothing: one bad record and nothing is written. */
#ifndef GH_CATALOG_H
#define GH_CATALOG_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "base/arena.h"
#include "http/http.h"

struct db;

struct catalog_import_report {
	size_t departments, regions, items_new, items_changed, items_unchanged, bundles;
	size_t items_withdrawn; /* current items the file's "withdrawn" took out of the catalog */
	size_t errors; /* records rejected (nothing imported when > 0) */
};

/* Imports a catalog file. The file is either a JSON object with any of the keys
 * "departments", "regions", "services", "bundles" (arrays in the formats of
 * data/catalog/ files) and "withdrawn" (codes of current items the hall no longer offers: their
 * current version is retired with no newer one and the withdrawal recorded; a later import of
 * the item makes it current again as a new version), or a bare array of service items. Every record is validated; each bad
 * one is reported on `errors` as "PATH: reason" (e.g. "services[3].materials[0].required:
 * expected true or false"). progress: print a progress line on stderr (for terminals).
 * Returns 0, GH_EVALIDATION when any record is bad (nothing written), GH_EINVAL for a file
 * that is not JSON (reported with line and column), or a database error. */
int catalog_import_file(struct db *db, const char *path, bool progress, FILE *errors,
			struct catalog_import_report *rep);

/* Called inside the import's transaction, with its connection, for each new item version
 * after its row is written (the transparency log); a non-zero GH_E code rolls the import
 * back. Register at start, before any import (not thread-safe); one observer. */
typedef int (*catalog_version_fn)(struct db *db, struct arena *a, const char *code, long version);
/* Declares the table this module covers with the transparency log (store/cover.h): every
 * version of every item, whether it is current included. Call at start of every command. */
void catalog_register(void);
void catalog_observe_versions(catalog_version_fn fn);

/* Loads the demo catalog from data_dir/catalog/ (departments, regions, services, bundles). */
int catalog_import_demo(struct db *db, const char *data_dir, FILE *errors,
			struct catalog_import_report *rep);

/* What other domains need of a service item (applications are filed under a version). */
struct catalog_service {
	const char *code;
	long version;
	const char *department, *name_zh, *name_en, *audience; /* audience: "individual,enterprise" */
	long legal_limit_days, promised_limit_days, online_depth;
	long visits_required;         /* visits in person (0-2): a visit is booked at a centre */
	const char *materials, *form; /* JSON arrays as text */
	const char *outcome_ecert;    /* NULL when none */
};
/* The current version of an item (version 0) or a given one; GH_ENOTFOUND when unknown. */
int catalog_service_get(struct db *db, struct arena *a, const char *code, long version,
			struct catalog_service *out);

/* The fee rule of item version (code, version): the item record's "fee" member as JSON text
 * (sorted keys, compact; validated at import, docs/payments.md), or *rule NULL when the
 * version has none. In a. */
int catalog_item_fee(struct db *db, struct arena *a, const char *code, long version, const char **rule);
/* The second step of item version (code, version) at another hall (多地联办: the record's
 * "joint" member, docs/federation.md): *hall (a directory id) and *item_code (the national
 * code of its item there), both NULL when the version has none. In a. */
int catalog_item_joint(struct db *db, struct arena *a, const char *code, long version, const char **hall,
		       const char **item_code);

/* The current version of an item as catalog_service_get gives it, with its form and material
 * lists parsed and its department's names, from a cache kept per worker thread and dropped
 * when the catalog changes (src/catalog/cached.c). Read-only, valid until the request ends,
 * for the worker's thread only: copy what other threads need. GH_ENOTFOUND when unknown. */
struct catalog_service_parsed {
	struct catalog_service svc;
	json_t *def, *mdefs; /* the form's fields and the materials (JSON arrays; borrowed) */
	json_t *rules;       /* the version's decision rules (catalog_item_rules; NULL: none; borrowed) */
	const char *dept_name_zh, *dept_name_en;
};
struct req;
int catalog_service_cached(struct req *r, const char *code, const struct catalog_service_parsed **out);

/* The catalog's generation: it changes whenever items, departments or bundles change (an
 * import on any node). Shape of a route's cache function (http/router.h). */
int catalog_generation(struct req *r, uint64_t *gen);
/* Bumps the catalog's generation, in the caller's transaction when there is one: every node
 * drops its cached catalog pages and items. For the catalog's own writes and for other
 * domains whose guide sections (CATALOG_PAGE_GUIDE) changed; the table stays the
 * catalog's. Returns 0 or a database error. */
int catalog_changed(struct db *db);

/* Sections other domains add to an item's guide page (interact adds the FAQ of public
 * consultations) through the page section registry (http/sections.h), so the catalog knows no
 * domain above it: a section sets its keys in ctx, the page's context, which
 * templates/catalog/service.mustache names. Called on the request's worker thread after the
 * catalog's own keys are set; a section that cannot be read is left out (the page still
 * serves). Whoever changes what a section shows calls catalog_changed. */
#define CATALOG_PAGE_GUIDE "catalog.guide" /* http/sections.h page id; subject: the item code (const char *) */

/* A bundle (一件事) for other domains: its names and its current items in order, as services
 * (items the catalog no longer has are skipped). Everything lives in a. GH_ENOTFOUND for an
 * unknown bundle. */
int catalog_bundle_services(struct db *db, struct arena *a, const char *bundle_code, const char **name_zh,
			    const char **name_en, struct catalog_service **out, size_t *n);

/* A department, for other domains' pages (receipts, intake). */
struct catalog_department {
	const char *code, *name_zh, *name_en, *phone, *address_zh, *address_en;
};
int catalog_department_get(struct db *db, struct arena *a, const char *code, struct catalog_department *out);
/* The current services of a department (at most max, by code); dept NULL: of every department. */
int catalog_department_services(struct db *db, struct arena *a, const char *dept, long max,
				struct catalog_service **out, size_t *n);

/* ---- decision rules (rules.c): 秒批 and 免申即享 --------------------------------------------
 * An item version may carry rules (the record's "rules" member, checked at import:
 * docs/api.md "Decision rules"): conditions on facts the hall holds about a person and on form
 * fields, each with its words in both languages. The rule version is the item version. */
enum catalog_rule_status { CATALOG_RULE_UNKNOWN = 0, CATALOG_RULE_MET, CATALOG_RULE_NOT_MET };
/* "unknown", "met" or "not_met". */
const char *catalog_rule_status_name(enum catalog_rule_status s);
/* The rules of item version (code, version) as a JSON object (owned by a), *rules NULL when the
 * version has none. 0 or a database error. */
int catalog_item_rules(struct db *db, struct arena *a, const char *code, long version, json_t **rules);
/* Evaluates one condition / a rule set against facts (catalog_rules_facts) and form (a flat
 * object of strings, or NULL before applying: field conditions are then unknown). The set is
 * met when every condition is, not met when any is not, else unknown. results (may be NULL)
 * gets a new array of {code, status, text_zh, text_en}, one per condition in order. */
enum catalog_rule_status catalog_rule_eval(const json_t *cond, const json_t *facts, const json_t *form);
enum catalog_rule_status catalog_rules_eval(const json_t *rules, const json_t *facts, const json_t *form,
					    json_t **results);
/* A source of facts about account (acting for enterprise, 0: for themself): sets members of
 * facts ("age", "division", "applicant_kind": identity; "ecerts": the wallet) and leaves out
 * what it does not hold (those conditions are unknown). 0 or a GH_E code. Domains above the
 * catalog register theirs at start (not thread-safe; again is a no-op; at most 4). */
typedef int (*catalog_fact_fn)(struct db *db, struct arena *a, int64_t account, int64_t enterprise, json_t *facts);
void catalog_rules_source(catalog_fact_fn fn);
/* A source of news about facts: the accounts whose facts may have changed by its entries
 * numbered after `after` (a new account, a certificate issued), at most limit entries in their
 * order; *last the number of the last entry read (after when none). after < 0: nothing read,
 * *last the number of the newest entry. Accounts in a (active individuals only). The 免申即享
 * duty judges them again between its sweeps. Registered as catalog_rules_source (at most 4). */
typedef int (*catalog_news_fn)(struct db *db, struct arena *a, int64_t after, long limit, int64_t *last,
			       int64_t **accounts, size_t *n);
/* name: what readers keep their place in it by (letters, digits, '_'; unique). */
struct catalog_news_source {
	const char *name;
	catalog_news_fn fn;
};
void catalog_rules_news(const char *name, catalog_news_fn fn);
/* The sources of news registered, in the order of registration. */
size_t catalog_rules_news_sources(const struct catalog_news_source **v);
/* Every registered source's facts about account, in a new object owned by a. */
int catalog_rules_facts(struct db *db, struct arena *a, int64_t account, int64_t enterprise, json_t **facts);
/* The current item versions whose rules are proactive (免申即享), by code; in a. */
struct catalog_rules_item {
	const char *code;
	long version;
	json_t *rules;
};
int catalog_rules_proactive(struct db *db, struct arena *a, struct catalog_rules_item **out, size_t *n);

extern const struct route catalog_routes[];
extern const size_t catalog_routes_n;

#endif
