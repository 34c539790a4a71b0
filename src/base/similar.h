/* similar.h: how alike two short texts are, in Chinese and English, for offering reports
 * that may be the same problem (duplicate reports), and the masked copy of a text shown to
 * other people.
 *
 * A text's features are character n-grams of its normalised form: full-width forms folded to
 * ASCII, letters lower-cased; each run of Han characters gives its characters and their
 * bigrams; each Latin word (a few English stop words dropped, a plural or -ing/-ed ending
 * cut) gives the word and its character trigrams (so "streetlights" and "street light"
 * share most). Punctuation and spaces only separate. Two texts' similarity is the Dice
 * coefficient of their feature sets: 2|A∩B| / (|A| + |B|), in [0, 1].
 * Nothing here does I/O; memory comes from the caller's arena. */
#ifndef GH_SIMILAR_H
#define GH_SIMILAR_H
#include <stddef.h>
#include <stdint.h>

struct arena;

/* Features read from one text at most (its first characters count; the rest is ignored). */
#define SIMILAR_FEATURES_MAX 2048
/* The similarity from which two reports are offered as the same problem, measured on the
 * pairs of tests/unit/test_base.c (alike ones score 0.3 and more, unrelated ones below
 * 0.1). */
#define SIMILAR_THRESHOLD 0.25

struct similar_set {
	uint32_t *h; /* sorted, distinct feature hashes */
	size_t n;
};

/* The features of [s, s+len) (need not be valid UTF-8: bad bytes separate) into out, in a. */
void similar_features(struct arena *a, const char *s, size_t len, struct similar_set *out);
/* The Dice coefficient of x and y: 0 when either is empty. */
double similar_score(const struct similar_set *x, const struct similar_set *y);
/* A copy of s (valid UTF-8) of at most max_chars characters (an ellipsis marks a cut) for
 * people other than its writer: every run of four or more digits (phone, ID, account
 * numbers) and every word with an '@' (e-mail addresses) becomes asterisks. In a. */
char *similar_mask(struct arena *a, const char *s, size_t max_chars);
/* s with every occurrence of word (at least two characters; a person's name) replaced by
 * one asterisk per character; s itself when word is shorter or absent. In a. */
const char *similar_mask_word(struct arena *a, const char *s, const char *word);
/* One compared thing: its score and its index among those compared. */
struct similar_ranked {
	double score;
	size_t i;
};
/* qsort order of struct similar_ranked: most alike first, then by index. */
int similar_by_score(const void *a, const void *b);
/* The great-circle distance in metres between two points (degrees; WGS 84 mean radius). */
double similar_distance_m(double lat1, double lon1, double lat2, double lon2);

#endif
