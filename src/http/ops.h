/* ops.h: routes for operators and the server's own files: /healthz, /readyz, /metrics,
 * /static/. */
#ifndef GH_OPS_H
#define GH_OPS_H
#include <stddef.h>

#include "http/http.h"

extern const struct route ops_routes[];
extern const size_t ops_routes_n;
extern const struct route static_routes[];
extern const size_t static_routes_n;

const char *static_mime(const char *path);

#endif
