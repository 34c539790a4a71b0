/* paths.c: the share directory (see paths.h). */
#include "base/paths.h"

#include <limits.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef GOVHALL_SHAREDIR
#define GOVHALL_SHAREDIR "/usr/local/share/govhall"
#endif
#ifndef GOVHALL_SHAREDIR_REL
#define GOVHALL_SHAREDIR_REL ""
#endif

static char share[PATH_MAX];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static bool is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static void find_share(void)
{
	snprintf(share, sizeof(share), "%s", GOVHALL_SHAREDIR);
	char exe[PATH_MAX];
	if (!realpath("/proc/self/exe", exe))
		return;
	char *slash = strrchr(exe, '/');
	if (!slash)
		return;
	*slash = 0; /* the binary's directory */
#if defined(GOVHALL_DEVTREE_BUILD) && defined(GOVHALL_DEVTREE_SOURCE)
	char build[PATH_MAX];
	if (realpath(GOVHALL_DEVTREE_BUILD, build) && strcmp(build, exe) == 0) {
		snprintf(share, sizeof(share), "%s", GOVHALL_DEVTREE_SOURCE);
		return;
	}
#endif
	if (GOVHALL_SHAREDIR_REL[0]) {
		char cand[PATH_MAX + 64], real[PATH_MAX];
		snprintf(cand, sizeof(cand), "%s/%s/templates", exe, GOVHALL_SHAREDIR_REL);
		if (is_dir(cand) && realpath(cand, real)) {
			char *s = strrchr(real, '/');
			if (s) {
				*s = 0;
				snprintf(share, sizeof(share), "%s", real);
			}
		}
	}
}

const char *paths_share_dir(void)
{
	pthread_once(&once, find_share);
	return share;
}
