/* util.h: allocation that never returns NULL, fatal errors, and the banned-function list
 * (after git's banned.h). Out of memory is not an error we handle: it aborts. */
#ifndef GH_UTIL_H
#define GH_UTIL_H
#include <stddef.h>
#include <stdint.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
_Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Reads a whole file into a malloc'd, NUL-terminated buffer. Returns NULL (errno set) on
 * failure or when the file exceeds max bytes (errno = EFBIG). */
char *read_file(const char *path, size_t max, size_t *len);

/* A banned function's name turns into an undeclared one: any call fails to compile (implicit
 * declarations are errors in this build) and names the reason. */
#undef strcpy
#define strcpy sorry_strcpy_is_banned
#undef strcat
#define strcat sorry_strcat_is_banned
#undef sprintf
#define sprintf sorry_sprintf_is_banned
#undef vsprintf
#define vsprintf sorry_vsprintf_is_banned
#undef strtok
#define strtok sorry_strtok_is_banned
#undef gmtime
#define gmtime sorry_gmtime_is_banned
#undef localtime
#define localtime sorry_localtime_is_banned
#undef ctime
#define ctime sorry_ctime_is_banned
#undef asctime
#define asctime sorry_asctime_is_banned

#endif
