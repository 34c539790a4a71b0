/* kinds.c: the kinds of messages a receiving hall acts on (federation.h: fed_kind_register).
 * The registry is filled at start, before any thread, and only read afterwards. */
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/err.h"
#include "federation/dir.h"
#include "federation/fed_impl.h"

#define KINDS_MAX 16

static const struct fed_kind *kinds[KINDS_MAX];
static size_t nkinds;

/* "note": a message whose record is all it does (`govhall federation send`). */
static const struct fed_kind note = { .kind = "note" };

void fed_kind_register(const struct fed_kind *k)
{
	for (size_t i = 0; i < nkinds; i++)
		if (!strcmp(kinds[i]->kind, k->kind)) {
			kinds[i] = k;
			return;
		}
	if (nkinds < KINDS_MAX)
		kinds[nkinds++] = k;
}

const struct fed_kind *fed_kind_find(const char *kind)
{
	if (!strcmp(kind, note.kind))
		return &note;
	for (size_t i = 0; i < nkinds; i++)
		if (!strcmp(kinds[i]->kind, kind))
			return kinds[i];
	return NULL;
}

const char *fed_self(void)
{
	if (fed_cfg.hub)
		return FED_HUB_ID;
	const char *id = fed_cfg.app ? fed_cfg.app->cfg.fed_client_id : NULL;
	return id ? id : "";
}

bool fed_is_hub(void)
{
	return fed_cfg.hub;
}

bool fed_hall_known(const char *id)
{
	char url[512];
	return id && fed_dir_id_ok(id) && strcmp(id, fed_self()) && strcmp(id, FED_HUB_ID) &&
	       fed_member_peer_url(id, url, sizeof(url)) == 0;
}

const char *fed_hall_name(struct arena *a, const char *id)
{
	struct fed_dir_hall *h;
	size_t n;
	const char *name = NULL;
	if (!id || fed_member_halls(&h, &n))
		return NULL;
	for (size_t i = 0; i < n && !name; i++)
		if (!strcmp(h[i].id, id) && h[i].name[0])
			name = arena_strdup(a, h[i].name);
	free(h);
	return name;
}
