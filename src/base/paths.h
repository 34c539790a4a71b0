/* paths.h: where govhall finds the read-only files it ships (templates, static files, data),
 * so the binary runs from any working directory.
 *
 * The share directory is, in this order:
 *  1. the source tree, when the binary runs from the build directory it was built in (builds
 *     configured with -Ddevtree=true, the default; packages turn it off);
 *  2. <directory of the binary>/<bindir-to-datadir>/govhall (e.g. ../share/govhall), when
 *     that directory holds templates/: an installed tree still works when moved or unpacked
 *     under another root (DESTDIR, dpkg-deb -x);
 *  3. the directory set at build time: <prefix>/<datadir>/govhall (e.g. /usr/share/govhall).
 * The settings templates-dir, static-dir and data-dir default to <share>/templates, <share>/static
 * and <share>/data; a config file, GOVHALL_* variable or flag still overrides each. */
#ifndef GH_PATHS_H
#define GH_PATHS_H

/* The share directory (see above); computed once, thread-safe, never NULL. */
const char *paths_share_dir(void);

#endif
