/* router.h: matches a method and decoded path against the route tables.
 * Invariants: tables are registered before the server starts and never change afterwards, so
 * lookups need no lock. Patterns are literal segments and "{name}" segments; a final
 * "{name*}" matches the rest of the path (at least one segment). Literal matches win over
 * parameters when several routes match one path (the most specific route wins). */
#ifndef GH_ROUTER_H
#define GH_ROUTER_H
#include "http/http.h"

struct router;

struct router *router_new(void);
void router_free(struct router *rt);
/* Adds a table of n routes. Returns GH_EINVAL (with a message on stderr) for a route without
 * roles, without a name or with a malformed pattern. */
int router_add(struct router *rt, const struct route *routes, size_t n);

enum router_result { ROUTER_FOUND, ROUTER_NOT_FOUND, ROUTER_METHOD };

/* Finds the route for method+path. ROUTER_FOUND fills *out and params (in arena);
 * ROUTER_METHOD sets *allowed to the methods the path accepts. */
enum router_result router_match(const struct router *rt, struct arena *a, unsigned method,
				const char *path, const struct route **out, struct kvlist *params,
				unsigned *allowed);

/* Matches one pattern against a path; returns true and fills params on a match. */
bool route_match(struct arena *a, const char *pattern, const char *path, struct kvlist *params);

/* The position of a registered route in the table (for per-route metrics), or
 * router_count() for NULL or an unknown route. O(1). */
size_t router_index(const struct router *rt, const struct route *r);

/* Iterates the registered routes (for docs, metrics and the authorisation matrix). */
size_t router_count(const struct router *rt);
const struct route *router_at(const struct router *rt, size_t i);

/* Whether a caller of role (one ROLE_* bit) with staff duties (STAFF_* bits) may call route:
 * the route's roles hold the role, and a staff caller has one of the route's duties. An
 * anonymous visitor may follow every route a citizen's, agent's or enterprise's log-in opens
 * (the server asks them to log in first); staff and administrators' pages are not offered. */
bool router_allows(const struct route *route, unsigned role, unsigned duties);

/* What a caller may call, for templates: an object with one member per route name, nested at
 * its dots ("cases.apply" -> {"cases": {"apply": true}}), holding the routes router_allows for
 * role and duties (duties count for ROLE_STAFF only). Built once per role and duties on first
 * use and kept until router_free: read-only, shared by all threads (borrowed; json_incref to
 * keep it in a context). */
json_t *router_can(struct router *rt, unsigned role, unsigned duties);

/* "GET, HEAD, POST" for a method mask, into a static string. */
const char *http_methods_str(unsigned methods, char *buf, size_t len);
const char *http_method_name(unsigned method);

#endif
