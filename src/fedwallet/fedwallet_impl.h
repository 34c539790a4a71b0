/* fedwallet_impl.h: what the files of src/fedwallet share. */
#ifndef GH_FEDWALLET_IMPL_H
#define GH_FEDWALLET_IMPL_H
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "http/http.h"

struct db;
struct arena;

/* fedwallet.c */
/* Answers r with code and why as the error's detail. */
int fw_refuse(struct req *r, int code, const char *why);
/* A number, type, hash or subject as taken from another hall: 1..200 bytes, no control
 * characters, nothing that changes a path or a query. */
bool fw_text_ok(const char *s);
/* When account's consent stands: 0 with *at; GH_ENOTFOUND without one. */
int fw_consent(struct db *db, struct arena *a, int64_t account, int64_t *at);
/* A kept copy's document from its sealed text: 0 with *doc (json_decref it). */
int fw_copy_open(struct arena *a, const char *sealed, json_t **doc);

/* materials.c: a copy used for a material of an application */
void fw_materials_init(void);
extern const struct route fw_material_routes[];
extern const size_t fw_material_routes_n;
/* The wallet page's message for a check's result (?check=CODE; NULL for an unknown code). */
const char *fw_check_message(struct req *r, const char *code);

#endif
