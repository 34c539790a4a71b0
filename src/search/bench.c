#include "search/search.h"
int search_cli_bench(const char *data_dir, int nargs, char **args) { (void)data_dir; (void)nargs; (void)args; return 1; }
