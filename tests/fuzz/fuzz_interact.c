/* Fuzzes the rating parser (src/interact/evaluations.c, ia_rating_parse): any bytes as the
 * JSON body of POST /api/v1/evaluations. Checks what interact_impl.h promises of an accepted
 * rating: a level 1..5, at most INTERACT_TAGS_MAX distinct known tags of the level's group,
 * at least one for a bad review, a comment of valid UTF-8 within the limit; and that every
 * refusal is GH_EINVAL or GH_EVALIDATION with a message. */
#include <stdint.h>
#include <string.h>

#include "base/arena.h"
#include "base/err.h"
#include "base/str.h"
#include "interact/interact_impl.h"

static void check(int ok)
{
	if (!ok)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1 << 16)
		return 0;
	struct arena *a = arena_new(4096);
	struct ia_rating r;
	const char *why = NULL;
	int rc = ia_rating_parse(a, (const char *)data, size, &r, &why);
	if (rc) {
		check(rc == GH_EINVAL || rc == GH_EVALIDATION);
		check(why && *why);
	} else {
		check(r.level >= 1 && r.level <= 5);
		check(r.ntags <= INTERACT_TAGS_MAX);
		check(r.level > 2 || r.ntags >= 1);
		for (size_t i = 0; i < r.ntags; i++) {
			const struct ia_tag *t = ia_tag_find(r.tags[i], strlen(r.tags[i]));
			check(t && t->group == ia_level_group(r.level));
			for (size_t k = 0; k < i; k++)
				check(strcmp(r.tags[k], r.tags[i]) != 0);
		}
		check(r.comment && str_utf8_valid(r.comment, strlen(r.comment)));
		check(str_utf8_chars(r.comment, strlen(r.comment)) <= INTERACT_COMMENT_MAX);
		check(ia_rating_check(&r, &why) == 0);
	}
	arena_free(a);
	return 0;
}
