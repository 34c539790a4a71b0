/* dir.c: reading and checking the hub's signed directory of halls. See dir.h. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/err.h"
#include "base/str.h"
#include "federation/dir.h"
#include "federation/fed_impl.h"

bool fed_dir_id_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n < 2 || n > 64)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.'))
			return false;
	return true;
}

void fed_dir_free(struct fed_dir *d)
{
	if (!d)
		return;
	free(d->halls);
	json_decref(d->docs);
	free(d);
}

/* A UTF-8 string of 1..max-1 bytes without control characters into dst. */
static bool text_into(char *dst, size_t max, const json_t *v)
{
	const char *s = json_string_value(v);
	size_t n = s ? json_string_length(v) : 0;
	if (!s || n == 0 || n >= max || strlen(s) != n || !str_utf8_valid(s, n))
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	memcpy(dst, s, n + 1);
	return true;
}

static bool url_into(char *dst, size_t max, const json_t *v)
{
	const char *s = json_string_value(v);
	if (!text_into(dst, max, v) || (strncmp(s, "http://", 7) && strncmp(s, "https://", 8)))
		return false;
	for (const char *p = s; *p; p++)
		if (*p == ' ' || (unsigned char)*p >= 0x7f)
			return false;
	size_t n = strlen(dst);
	while (n && dst[n - 1] == '/')
		dst[--n] = 0;
	return true;
}

const char *fed_dir_hall_from_json(struct arena *a, const json_t *j, struct fed_dir_hall *h)
{
	if (!json_is_object(j))
		return "a hall of the directory is not an object";
	const char *id = json_string_value(json_object_get(j, "id"));
	if (!fed_dir_id_ok(id))
		return "a hall's id is not an identifier";
	memcpy(h->id, id, strlen(id) + 1);
	if (!text_into(h->name, sizeof(h->name), json_object_get(j, "name")) ||
	    !text_into(h->region, sizeof(h->region), json_object_get(j, "region")))
		return "a hall's name or region is missing or not text";
	if (!url_into(h->base_url, sizeof(h->base_url), json_object_get(j, "base_url")))
		return "a hall's base_url is not an http(s) address";
	const json_t *ks = json_object_get(j, "keys");
	if (!json_is_array(ks) || json_array_size(ks) == 0 || json_array_size(ks) > FED_DIR_KEYS_MAX)
		return "a hall has no keys or too many";
	h->nkeys = 0;
	size_t i;
	const json_t *k;
	json_array_foreach(ks, i, k)
	{
		const char *kid = json_string_value(json_object_get(k, "kid"));
		const char *x = json_string_value(json_object_get(k, "x"));
		unsigned char *pk;
		size_t len;
		if (!kid || !*kid || strlen(kid) > JWT_KID_MAX || !x || jwt_b64url_decode(a, x, strlen(x), &pk, &len) || len != 32)
			return "a hall's key is not a key id and a 32-byte Ed25519 key";
		for (const char *p = kid; *p; p++)
			if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e)
				return "a hall's key id is not printable ASCII";
		memcpy(h->keys[h->nkeys].kid, kid, strlen(kid) + 1);
		memcpy(h->keys[h->nkeys++].pk, pk, 32);
	}
	h->log_origin[0] = 0;
	h->nlog = 0;
	const json_t *lg = json_object_get(j, "log");
	if (!lg)
		return NULL;
	const json_t *lk = json_object_get(lg, "keys");
	if (!json_is_object(lg) || !text_into(h->log_origin, sizeof(h->log_origin), json_object_get(lg, "origin")) ||
	    !json_is_array(lk) || json_array_size(lk) == 0 || json_array_size(lk) > FED_DIR_KEYS_MAX)
		return "a hall's log is not an origin and one to four keys";
	json_array_foreach(lk, i, k) {
		const char *x = json_string_value(k);
		size_t len;
		if (!x || sodium_base642bin(h->log_keys[h->nlog], 32, x, strlen(x), NULL, &len, NULL,
					     sodium_base64_VARIANT_ORIGINAL) ||
		    len != 32)
			return "a hall's log key is not a base64 32-byte Ed25519 key";
		h->nlog++;
	}
	return NULL;
}

void fed_dir_witness_name(const char *base_url, char *out, size_t n)
{
	const char *s = strstr(base_url, "://");
	snprintf(out, n, "%s/witness", s ? s + 3 : base_url);
}

int fed_dir_parse(const char *text, size_t len, const struct jwk *keys, size_t nkeys, const char *issuer, int64_t now,
		  struct fed_dir **out, const char **why)
{
	*out = NULL;
	if (len > FED_DIR_MAX) {
		*why = "the directory is too long";
		return GH_EINVAL;
	}
	json_t *c = NULL;
	int vrc = jwt_verify(text, len, keys, nkeys, &c, why);
	if (vrc)
		return vrc == GH_ENOTFOUND ? GH_ENOTFOUND : GH_EINVAL;
	int rc = fed_dir_from_claims(c, issuer, now, out, why);
	json_decref(c);
	return rc;
}

/* Whether hall h shares an id or a key id with one of the n halls of hs. */
static bool clash(const struct fed_dir_hall *h, const struct fed_dir_hall *hs, size_t n)
{
	unsigned char pk[32];
	for (size_t k = 0; k < n; k++) {
		if (!strcmp(hs[k].id, h->id))
			return true;
		for (size_t q = 0; q < h->nkeys; q++)
			if (fed_dir_key(&(struct fed_dir){ .n = 1, .halls = (struct fed_dir_hall *)&hs[k] }, h->keys[q].kid, pk))
				return true;
	}
	return false;
}

int fed_dir_from_claims(const json_t *c, const char *issuer, int64_t now, struct fed_dir **out, const char **why)
{
	*out = NULL;
	int rc = GH_EINVAL;
	struct arena *a = arena_new(0);
	struct fed_dir *d = calloc(1, sizeof(*d));
	const char *iss = json_string_value(json_object_get(c, "iss"));
	const json_t *iat = json_object_get(c, "iat"), *exp = json_object_get(c, "exp"), *halls = json_object_get(c, "halls");
	if (!iss || strcmp(iss, issuer)) {
		*why = "the directory is of another issuer";
		goto out;
	}
	if (!json_is_integer(iat) || !json_is_integer(exp)) {
		*why = "the directory lacks iat or exp";
		goto out;
	}
	d->iat = json_integer_value(iat);
	d->exp = json_integer_value(exp);
	if (d->exp <= now) {
		*why = "the directory has expired";
		goto out;
	}
	if (d->iat > now + FED_SKEW || d->exp <= d->iat || d->exp - d->iat > FED_DIR_TTL_MAX) {
		*why = "the directory's times are not plausible";
		goto out;
	}
	if (!json_is_array(halls) || json_array_size(halls) > FED_DIR_HALLS_MAX) {
		*why = "the directory's halls are not a list of at most 512";
		goto out;
	}
	d->n = json_array_size(halls);
	d->halls = calloc(d->n ? d->n : 1, sizeof(*d->halls));
	d->docs = json_object();
	for (size_t i = 0; i < d->n; i++) {
		if ((*why = fed_dir_hall_from_json(a, json_array_get(halls, i), &d->halls[i])))
			goto out;
		if (clash(&d->halls[i], d->halls, i)) {
			*why = "two halls share an id or a key id";
			goto out;
		}
		for (size_t k = 0; k < i; k++) {
			if (d->halls[i].nlog && d->halls[k].nlog && !strcmp(d->halls[i].log_origin, d->halls[k].log_origin)) {
				*why = "two halls name logs of one origin";
				goto out;
			}
		}
		/* The hall's keys document (its certificates' keys), by its log's origin. */
		json_t *kd = json_object_get(json_array_get(halls, i), "keys_document");
		if (kd && (!json_is_object(kd) || !d->halls[i].nlog)) {
			*why = "a hall's keys_document is not an object beside its log";
			goto out;
		}
		if (kd)
			json_object_set(d->docs, d->halls[i].log_origin, kd);
	}
	const json_t *hub = json_object_get(c, "hub");
	if (hub) {
		if ((*why = fed_dir_hall_from_json(a, hub, &d->hub)))
			goto out;
		if (d->hub.nlog || clash(&d->hub, d->halls, d->n)) {
			*why = "the hub's entry has a log, or an id or key id of a hall";
			goto out;
		}
		d->has_hub = true;
	}
	*out = d;
	d = NULL;
	*why = NULL;
	rc = 0;
out:
	fed_dir_free(d);
	arena_free(a);
	return rc;
}

const struct fed_dir_hall *fed_dir_key(const struct fed_dir *d, const char *kid, unsigned char pk[32])
{
	for (size_t i = 0; d && i < d->n; i++)
		for (size_t k = 0; k < d->halls[i].nkeys; k++)
			if (!strcmp(d->halls[i].keys[k].kid, kid)) {
				memcpy(pk, d->halls[i].keys[k].pk, 32);
				return &d->halls[i];
			}
	for (size_t k = 0; d && d->has_hub && k < d->hub.nkeys; k++)
		if (!strcmp(d->hub.keys[k].kid, kid)) {
			memcpy(pk, d->hub.keys[k].pk, 32);
			return &d->hub;
		}
	return NULL;
}

const struct fed_dir_hall *fed_dir_hall(const struct fed_dir *d, const char *id)
{
	for (size_t i = 0; d && i < d->n; i++)
		if (!strcmp(d->halls[i].id, id))
			return &d->halls[i];
	return d && d->has_hub && !strcmp(d->hub.id, id) ? &d->hub : NULL;
}

json_t *fed_dir_hall_json(const struct fed_dir_hall *h)
{
	json_t *ks = json_array();
	struct arena *a = arena_new(0);
	for (size_t i = 0; i < h->nkeys; i++)
		json_array_append_new(ks, json_pack("{s:s,s:s}", "kid", h->keys[i].kid, "x", jwt_b64url(a, h->keys[i].pk, 32)));
	arena_free(a);
	json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:o}", "id", h->id, "name", h->name, "region", h->region, "base_url",
			      h->base_url, "keys", ks);
	if (h->nlog) {
		json_t *lk = json_array();
		for (size_t i = 0; i < h->nlog; i++) {
			char b[64];
			sodium_bin2base64(b, sizeof(b), h->log_keys[i], 32, sodium_base64_VARIANT_ORIGINAL);
			json_array_append_new(lk, json_string(b));
		}
		json_object_set_new(j, "log", json_pack("{s:s,s:o}", "origin", h->log_origin, "keys", lk));
	}
	return j;
}
