#include "base/err.h"


struct err_info {
	int code, status;
	const char *name, *slug;
};

static const struct err_info table[] = {
#define GH_ERR_ROW(name, status, slug) { GH_E##name, status, #name, slug },
	GH_ERRORS(GH_ERR_ROW)
#undef GH_ERR_ROW
};

static const struct err_info *find(int code)
{
	if (code > GH_E_FIRST_ && code < GH_E_LAST_)
		return &table[code - GH_E_FIRST_ - 1];
	return &table[GH_EINTERNAL - GH_E_FIRST_ - 1];
}

int err_status(int code)
{
	return find(code)->status;
}

const char *err_slug(int code)
{
	return find(code)->slug;
}

const char *err_name(int code)
{
	return find(code)->name;
}
