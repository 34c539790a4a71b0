/* attach.h: attachment files (申请材料) on disk, content-addressed.
 *
 * Invariants:
 * - A stored file is named by the lower-case hex SHA-256 of its bytes: dir/ab/cd/<64 hex>,
 *   where ab and cd are the first two byte pairs of the name. The same bytes stored twice
 *   are one file; a file is never changed once written.
 * - Files are written atomically: a temporary file ".<hex>.XXXXXX" in the final directory,
 *   fsync, rename, fsync of the directory. A crash leaves at worst a stale temporary file
 *   (safe to delete when older than a day). Files have mode 0640, directories 0750 (less the
 *   umask). dir is the setting upload-dir, which must lie outside the web root.
 * - Only PDF, JPEG and PNG are stored, judged by the content (libmagic, and the type's
 *   signature at offset 0), never by the file name or the type a client claims.
 * - No database here: the cases module records who attached what (table attachments).
 *
 * Threads: libmagic handles are not thread-safe, so each thread gets its own, opened on first
 * use and closed when the thread exits (a pthread key with a destructor). Everything else is
 * reentrant.
 */
#ifndef GH_ATTACH_H
#define GH_ATTACH_H
#include <stdbool.h>
#include <stddef.h>

#include "base/arena.h"

/* What citizens are told when a file is refused for its type (GH_EUNSUPPORTED). */
#define ATTACH_TYPES_ZH "只接受 PDF、JPEG、PNG 文件。"
#define ATTACH_TYPES_EN "Only PDF, JPEG and PNG files are accepted."

struct attach_info {
	char sha256[65];      /* lower-case hex, NUL-terminated */
	const char *mime;     /* static: "application/pdf", "image/jpeg" or "image/png" */
	size_t size;          /* bytes */
	bool existed;         /* the same bytes were stored before: nothing was written */
	const char *detected; /* the type libmagic reported (arena), for logs only; also set
			       * when the file is refused with GH_EUNSUPPORTED */
};

struct req;

/* Initialises libsodium and the per-thread libmagic key. Idempotent and thread-safe; the
 * functions below call it themselves, main.c may call it at start to fail early. */
void attach_global_init(void);

/* Sniffs the type of [data, data+len). Returns 0 with *mime set to the allowed type (a static
 * string), or GH_EUNSUPPORTED for anything else, GH_EINTERNAL when libmagic cannot start
 * (logged). *detected (may be NULL) gets what libmagic said, in a, for logs. No I/O. */
int attach_sniff(struct arena *a, const void *data, size_t len, const char **mime, const char **detected);

/* Stores [data, data+len) under dir: checks the size (len > max: GH_ETOOBIG, before anything
 * else), the type (GH_EUNSUPPORTED, logged at info with the detected type; callers show
 * ATTACH_TYPES_*), hashes it and writes the file unless the same bytes are there already.
 * Creates dir and its subdirectories as needed. GH_EIO (logged) when the disk fails.
 * out is filled on success; out->detected also on GH_EUNSUPPORTED. Temporary strings live in
 * a. */
int attach_store(const char *dir, struct arena *a, const void *data, size_t len, size_t max,
		 struct attach_info *out);

/* True when s is a well-formed stored name: exactly 64 lower-case hex digits. */
bool attach_name_valid(const char *sha256);

/* Opens the file named sha256 under dir for reading. The name is checked with
 * attach_name_valid before the file system is touched (GH_EINVAL otherwise). Returns 0 with
 * *fd (O_CLOEXEC; the caller closes it) and *size, GH_ENOTFOUND when there is no such
 * regular file, GH_EIO for other failures. */
int attach_open(const char *dir, const char *sha256, int *fd, size_t *size);

/* The Content-Disposition value for downloading a file called filename (any text; NULL,
 * invalid or empty names become "file"): attachment; filename="<ASCII fallback>";
 * filename*=UTF-8''<percent-encoded> (RFC 6266, RFC 8187). In a. */
const char *attach_disposition(struct arena *a, const char *filename);

/* Answers r with the stored file as a download only: Content-Disposition as above,
 * Content-Type mime when it is one of the allowed types (else application/octet-stream),
 * Cache-Control: private, no-store (the server adds X-Content-Type-Options: nosniff). The file
 * is read into r->arena. Returns 0, GH_ENOTFOUND for a malformed or missing name (a missing
 * file that the database knows is logged as an error), GH_EIO. Authorisation is the caller's
 * job. */
int attach_send(struct req *r, const char *dir, const char *sha256, const char *mime, const char *filename);

#endif
