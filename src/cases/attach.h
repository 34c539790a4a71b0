/* attach.h: attachment files (申请材料 and the files of published information), kept in the
 * database so that any node serves any file.
 *
 * Invariants:
 * - A stored file is a blob (store/blob.h): named by the lower-case hex SHA-256 of its bytes,
 *   chunked, written in one transaction; the same bytes stored twice are one blob, never
 *   changed once written. Unnamed blobs are collected after a grace period; the tables that
 *   name them (attachments, publish_attachments) are registered by attach_global_init.
 * - Only PDF, JPEG and PNG are stored, judged by the content (libmagic, and the type's
 *   signature at offset 0), never by the file name or the type a client claims.
 * - The cases module records who attached what (table attachments), publish what a document
 *   carries (publish_attachments).
 *
 * Threads: libmagic handles are not thread-safe, so each thread gets its own, opened on first
 * use and closed when the thread exits (a pthread key with a destructor). Everything else is
 * reentrant.
 */
#ifndef GH_ATTACH_H
#define GH_ATTACH_H
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

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
struct db;

/* Initialises libsodium and the per-thread libmagic key, and registers the tables that name
 * blobs. Idempotent and thread-safe; the functions below call it themselves, main.c may call
 * it at start to fail early. */
void attach_global_init(void);

/* Sniffs the type of [data, data+len). Returns 0 with *mime set to the allowed type (a static
 * string), or GH_EUNSUPPORTED for anything else, GH_EINTERNAL when libmagic cannot start
 * (logged). *detected (may be NULL) gets what libmagic said, in a, for logs. No I/O. */
int attach_sniff(struct arena *a, const void *data, size_t len, const char **mime, const char **detected);

/* Stores [data, data+len) in db: checks the size (len > max: GH_ETOOBIG, before anything
 * else), the type (GH_EUNSUPPORTED, logged at info with the detected type; callers show
 * ATTACH_TYPES_*), then writes the blob unless the same bytes are there already (blob_put, in
 * a transaction of its own: db must not be in one). Database failures give their GH_E code.
 * out is filled on success; out->detected also on GH_EUNSUPPORTED. Temporary strings live in
 * a. */
int attach_store(struct db *db, struct arena *a, const void *data, size_t len, size_t max,
		 struct attach_info *out);
/* attach_store in two: attach_check checks the size and the type as above (no I/O: on an
 * event loop), attach_put then writes the blob of the bytes it checked (on the writer:
 * http/write.h), filling info's sha256 and existed. */
int attach_check(struct arena *a, const void *data, size_t len, size_t max, struct attach_info *out);
int attach_put(struct db *db, const void *data, struct attach_info *info);

/* True when s is a well-formed stored name: exactly 64 lower-case hex digits. */
bool attach_name_valid(const char *sha256);

/* Copies the attachment files stored on disk by earlier versions (dir/ab/cd/<64 hex>, the
 * setting upload-dir) into db: every file whose name is well formed and whose bytes hash to it
 * (others are counted in *bad and named on err_out). *copied gets the files stored now,
 * *present those already in the database. The files are left in place. GH_EIO when dir cannot
 * be read, database codes otherwise. */
int attach_import_dir(struct db *db, const char *dir, FILE *err_out, long *copied, long *present, long *bad);

/* The Content-Disposition value for downloading a file called filename (any text; NULL,
 * invalid or empty names become "file"): attachment; filename="<ASCII fallback>";
 * filename*=UTF-8''<percent-encoded> (RFC 6266, RFC 8187). In a. */
const char *attach_disposition(struct arena *a, const char *filename);

/* Answers r with the stored file as a download only: Content-Disposition as above,
 * Content-Type mime when it is one of the allowed types (else application/octet-stream),
 * Cache-Control: private, no-store (the server adds X-Content-Type-Options: nosniff). The blob
 * is read from r->db chunk by chunk into one response buffer in r->arena (the HTTP layer
 * sends whole bodies). Returns 0, GH_ENOTFOUND for a malformed or missing name (a missing
 * blob that the database names is logged as an error), GH_EIO for a damaged one. Authorisation
 * is the caller's job. */
int attach_send(struct req *r, const char *sha256, const char *mime, const char *filename);

#endif
