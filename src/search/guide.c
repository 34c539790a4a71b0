#include "http/http.h"
#include "base/util.h"
#include "search/search_impl.h"
const struct route guide_routes[] = { { HTTP_GET, "/guide", NULL, ROLE_PUBLIC, 0, "guide.page" } };
const size_t guide_routes_n = 0;
