#include "http/http.h"
#include "base/util.h"
#include "search/search_impl.h"
const struct route search_routes[] = { { HTTP_GET, "/search", NULL, ROLE_PUBLIC, 0, "search.page" } };
const size_t search_routes_n = 0;
