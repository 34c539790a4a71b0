/* lex.c: lexical resources of the search (loaded once, read-only afterwards) and the text
 * operations built on them: normalisation (ICU NFKC case-fold, OpenCC to Simplified),
 * segmentation (jieba's dictionary), pinyin (ICU Han-Latin), stop words, synonyms, stemming. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <libstemmer.h>
#include <opencc/opencc.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/utrans.h>

#include "base/err.h"
#include "base/util.h"
#include "search/search_impl.h"

#define PY_FIRST 0x4E00
#define PY_LAST 0x9FFF
#define SEG_MAXW 10 /* longest dictionary word tried, in characters */

struct syn_ent {
	const char *terms;
	float w; /* 1 for an equivalence (another form of the same word), else QW_SYN */
	uint32_t next; /* index + 1 of the next rule of the same phrase; 0 = none */
};

struct lex {
	struct smap dict; /* jieba word -> frequency; proper prefixes of words -> 0 */
	float *logp;      /* per dict entry: log(frequency / total) */
	double log_total;
	struct smap stop;
	struct smap syn; /* phrase -> index + 1 of its first rule */
	struct syn_ent *rules;
	size_t nrules, rulecap;
	size_t syn_maxchars;
	char **owned; /* the rules' term strings */
	size_t nowned;
	struct smap cues;
	struct smap ops; /* word (Chinese, or an English stem) -> SOP_* bits */
	struct smap syll; /* pinyin syllables */
	uint16_t *py;     /* per code point PY_FIRST..PY_LAST: syllable index + 1 (0 = none) */
	opencc_t cc_tw, cc_hk;
	pthread_mutex_t cc_mu;
	bool cc_ready;
	uint8_t *trad; /* bitmap TRAD_FIRST..TRAD_LAST: characters OpenCC changes */
	/* Standard Simplified characters the Taiwan and Hong Kong converters would still change
	 * (tw2sp takes 么 for a variant of 幺): kept as they are through a conversion. */
	uint32_t keep[16];
	size_t nkeep;
};

/* ---- loading ------------------------------------------------------------------------------ */

static char *next_line(char **p)
{
	char *s = *p;
	if (!*s)
		return NULL;
	char *e = strchr(s, '\n');
	if (e) {
		*e = 0;
		*p = e + 1;
	} else {
		*p = s + strlen(s);
	}
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = 0;
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

static int load_dict(struct lex *lx, const char *path, char *err, size_t errlen)
{
	size_t len;
	char *buf = read_file(path, 64u << 20, &len);
	if (!buf) {
		snprintf(err, errlen, "cannot read the segmentation dictionary %s", path);
		return GH_EIO;
	}
	double total = 0;
	char *p = buf, *line;
	while ((line = next_line(&p))) {
		char *sp = strchr(line, ' ');
		if (!sp || sp == line)
			continue;
		long f = strtol(sp + 1, NULL, 10);
		if (f <= 0)
			f = 1;
		/* Words are stored normalised the way text is (lower-case Latin). */
		for (char *c = line; c < sp; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
		bool existed;
		uint32_t e = smap_put(&lx->dict, line, (size_t)(sp - line), (uint32_t)f, &existed);
		if (existed && lx->dict.ent[e].val < (uint32_t)f)
			lx->dict.ent[e].val = (uint32_t)f;
		total += (double)f;
	}
	free(buf);
	lx->log_total = log(total > 1 ? total : 1);
	/* Every proper prefix of a word, so segmentation stops extending a candidate as soon as
	 * no word starts that way. */
	size_t nwords = lx->dict.n;
	for (size_t e = 0; e < nwords; e++) {
		char w[256];
		size_t n = lx->dict.ent[e].len, i = 0;
		if (n >= sizeof(w))
			continue;
		memcpy(w, smap_key(&lx->dict, (uint32_t)e), n); /* smap_put may move the pool */
		u8_next(w, n, &i);
		while (i < n) {
			smap_put(&lx->dict, w, i, 0, NULL);
			u8_next(w, n, &i);
		}
	}
	lx->logp = xmalloc((lx->dict.n ? lx->dict.n : 1) * sizeof(float));
	for (size_t e = 0; e < lx->dict.n; e++)
		lx->logp[e] = (float)(log(lx->dict.ent[e].val ? (double)lx->dict.ent[e].val : 1.0) - lx->log_total);
	return 0;
}

/* Loads a word list: words separated by spaces or lines. */
static void add_words(struct smap *m, const char *path)
{
	size_t len;
	char *buf = read_file(path, 4u << 20, &len);
	char *p = buf, *line;
	while (buf && (line = next_line(&p))) {
		if (*line == '#')
			continue;
		for (char *s = line; *s;) {
			while (*s == ' ' || *s == '\t')
				s++;
			char *e = s;
			while (*e && *e != ' ' && *e != '\t')
				e++;
			if (e > s)
				smap_put(m, s, (size_t)(e - s), 1, NULL);
			s = e;
		}
	}
	free(buf);
}

/* A "kind: word word ..." line's words: Chinese normalised, English stemmed ("renewing" and
 * "renewal" meet "renew"; '_' joins the words of an English phrase: can_not_find). Calls fn
 * for each. */
static void each_entry(struct lex *lx, char *s, bool stem, void (*fn)(struct lex *lx, const char *w, size_t n, unsigned v),
		       unsigned v)
{
	struct sb w = SB_INIT;
	while (*s) {
		while (*s == ' ' || *s == '\t')
			s++;
		char *e = s;
		while (*e && *e != ' ' && *e != '\t')
			e++;
		if (e > s) {
			sb_reset(&w);
			if (cp_is_alnum_ascii((unsigned char)*s)) {
				for (char *c = s; c < e; c++)
					if (*c == '_')
						*c = ' ';
				if (stem)
					lex_stem_words(s, (size_t)(e - s), &w);
				else
					lex_normalize(lx, s, (size_t)(e - s), false, &w);
			} else {
				lex_normalize(lx, s, (size_t)(e - s), true, &w);
			}
			fn(lx, w.buf, w.len, v);
		}
		s = e;
	}
	sb_release(&w);
}

static void put_op(struct lex *lx, const char *w, size_t n, unsigned bit)
{
	bool existed;
	uint32_t k = smap_put(&lx->ops, w, n, bit, &existed);
	if (existed)
		lx->ops.ent[k].val |= bit;
}

static void put_cue(struct lex *lx, const char *w, size_t n, unsigned bit)
{
	bool existed;
	uint32_t k = smap_put(&lx->cues, w, n, bit, &existed);
	if (existed)
		lx->cues.ent[k].val |= bit;
}

struct kind_name {
	const char *name;
	unsigned bit;
};

/* A "kind: word word ..." file (life_events.txt, actions.txt): each word of a line whose kind
 * is in kinds goes to put with the kind's bit. */
static void load_kinds(struct lex *lx, const char *path, const struct kind_name *kinds, size_t nkinds, bool stem,
		       void (*put)(struct lex *lx, const char *w, size_t n, unsigned bit))
{
	size_t len;
	char *buf = read_file(path, 4u << 20, &len);
	if (!buf)
		return;
	char *p = buf, *line;
	while ((line = next_line(&p))) {
		char *colon = strchr(line, ':');
		if (!*line || *line == '#' || !colon)
			continue;
		*colon = 0;
		for (size_t i = 0; i < nkinds; i++)
			if (!strcmp(line, kinds[i].name))
				each_entry(lx, colon + 1, stem, put, kinds[i].bit);
	}
	free(buf);
}

/* data/search/life_events.txt: "phrase: ...", "noun: ...", "marker: ..." lines. */
static void load_cues(struct lex *lx, const char *path)
{
	static const struct kind_name kinds[] = { { "phrase", LEX_CUE_PHRASE }, { "noun", LEX_CUE_NOUN },
						  { "marker", LEX_CUE_MARKER }, { "material", LEX_CUE_MATERIAL } };
	load_kinds(lx, path, kinds, ARRAY_LEN(kinds), false, put_cue);
}

/* data/search/actions.txt: "operation: word word ..." lines. */
static void load_ops(struct lex *lx, const char *path)
{
	static const struct kind_name kinds[] = { { "new", SOP_NEW },	    { "replace", SOP_REPLACE },
						  { "renew", SOP_RENEW },	    { "change", SOP_CHANGE },
						  { "close", SOP_CLOSE },	    { "transfer", SOP_TRANSFER },
						  { "query", SOP_QUERY } };
	load_kinds(lx, path, kinds, ARRAY_LEN(kinds), true, put_op);
}

static void add_rule(struct lex *lx, const char *phrase, size_t n, const char *terms, float w)
{
	if (!n)
		return;
	if (lx->nrules == lx->rulecap) {
		lx->rulecap = lx->rulecap ? lx->rulecap * 2 : 256;
		lx->rules = xrealloc(lx->rules, lx->rulecap * sizeof(*lx->rules));
	}
	bool existed;
	uint32_t e = smap_put(&lx->syn, phrase, n, 0, &existed);
	lx->rules[lx->nrules] = (struct syn_ent){ .terms = terms, .w = w, .next = lx->syn.ent[e].val };
	lx->syn.ent[e].val = (uint32_t)++lx->nrules;
	size_t chars = str_utf8_chars(phrase, n);
	if (chars > lx->syn_maxchars)
		lx->syn_maxchars = chars;
}

/* One rule line: "phrase, phrase ... => term term ..."; phrases are normalised like queries.
 * Phrases are separated by commas, tabs, or a space not followed by a Latin letter (so
 * "housing fund" stays one phrase while "驾照 驾驶本" are two). "phrase = term" says the two
 * are forms of one word (register = registration): searched at full weight. */
static void parse_rules(struct lex *lx, const struct lex *norm, char *text)
{
	char *p = text, *line;
	while ((line = next_line(&p))) {
		if (!*line || *line == '#')
			continue;
		char *arrow = strstr(line, "=>");
		float w = LEX_RULE_WEIGHT;
		size_t alen = 2;
		if (!arrow && (arrow = strstr(line, " = "))) {
			w = 1.0f;
			alen = 3;
		}
		if (!arrow)
			continue;
		*arrow = 0;
		const char *rhs = arrow + alen;
		while (*rhs == ' ' || *rhs == '\t')
			rhs++;
		if (!*rhs)
			continue;
		struct sb t = SB_INIT;
		lex_normalize(norm, rhs, strlen(rhs), true, &t);
		char *terms = sb_detach(&t, NULL);
		lx->owned = xrealloc(lx->owned, (lx->nowned + 1) * sizeof(char *));
		lx->owned[lx->nowned++] = terms;
		char *s = line;
		while (*s) {
			while (*s == ' ' || *s == '\t' || *s == ',')
				s++;
			char *e = s;
			while (*e && *e != ',' && *e != '\t' &&
			       !(*e == ' ' && (e[1] == ' ' || !cp_is_alnum_ascii((unsigned char)e[1]))))
				e++;
			if (e > s) {
				struct sb ph = SB_INIT, st = SB_INIT;
				lex_normalize(norm, s, (size_t)(e - s), true, &ph);
				while (ph.len && ph.buf[ph.len - 1] == ' ')
					ph.buf[--ph.len] = 0;
				if (ph.len && cp_is_alnum_ascii((unsigned char)ph.buf[0])) {
					/* English phrases are matched by their words' stems ("marry" meets
					 * "married" and "marrying"). */
					lex_stem_words(ph.buf, ph.len, &st);
					add_rule(lx, st.buf, st.len, terms, w);
				} else {
					add_rule(lx, ph.buf, ph.len, terms, w);
				}
				sb_release(&ph);
				sb_release(&st);
			}
			s = e;
		}
	}
}

static int load_opencc(struct lex *lx, char *err, size_t errlen);
static bool needs_cc(const struct lex *lx, const char *s, size_t n);

static int load_pinyin(struct lex *lx, char *err, size_t errlen)
{
	UErrorCode e = U_ZERO_ERROR;
	UChar id[64];
	u_uastrcpy(id, "Han-Latin; Latin-ASCII; Lower");
	UTransliterator *t = utrans_openU(id, -1, UTRANS_FORWARD, NULL, 0, NULL, &e);
	if (U_FAILURE(e)) {
		snprintf(err, errlen, "ICU Han-Latin transliterator: %s", u_errorName(e));
		return GH_EINTERNAL;
	}
	lx->py = xcalloc(PY_LAST - PY_FIRST + 1, sizeof(*lx->py));
	for (uint32_t c = PY_FIRST; c <= PY_LAST; c++) {
		UChar b[32];
		b[0] = (UChar)c;
		int32_t len = 1, lim = 1;
		e = U_ZERO_ERROR;
		utrans_transUChars(t, b, &len, 32, 0, &lim, &e);
		if (U_FAILURE(e) || len < 1 || len > 8)
			continue;
		char s[16];
		int32_t n = 0;
		bool ok = true;
		for (int32_t k = 0; k < len; k++) {
			if (b[k] < 'a' || b[k] > 'z') {
				ok = false;
				break;
			}
			s[n++] = (char)b[k];
		}
		if (!ok || !n)
			continue;
		uint32_t si = smap_put(&lx->syll, s, (size_t)n, 0, NULL);
		lx->py[c - PY_FIRST] = (uint16_t)(si + 1);
	}
	utrans_close(t);
	return 0;
}

int lex_load(const char *data_dir, const char *extra_synonyms, struct lex **out, char *err, size_t errlen)
{
	struct lex *lx = xcalloc(1, sizeof(*lx));
	char path[4096];
	int rc;
	snprintf(path, sizeof(path), "%s/search/dict.txt", data_dir);
	if ((rc = load_dict(lx, path, err, errlen)) || (rc = load_pinyin(lx, err, errlen)) ||
	    (rc = load_opencc(lx, err, errlen))) {
		lex_free(lx);
		return rc;
	}
	snprintf(path, sizeof(path), "%s/search/stopwords.txt", data_dir);
	add_words(&lx->stop, path);
	snprintf(path, sizeof(path), "%s/search/life_events.txt", data_dir);
	load_cues(lx, path);
	snprintf(path, sizeof(path), "%s/search/actions.txt", data_dir);
	load_ops(lx, path);
	/* General rules, then Taiwan and Hong Kong wording: the same format. */
	static const char *const rule_files[] = { "synonyms.txt", "regional.txt" };
	for (size_t f = 0; f < ARRAY_LEN(rule_files); f++) {
		snprintf(path, sizeof(path), "%s/search/%s", data_dir, rule_files[f]);
		size_t len;
		char *buf = read_file(path, 4u << 20, &len);
		if (!buf) {
			snprintf(err, errlen, "cannot read the rule dictionary %s", path);
			lex_free(lx);
			return GH_EIO;
		}
		parse_rules(lx, lx, buf);
		free(buf);
	}
	if (extra_synonyms) {
		char *x = xstrdup(extra_synonyms);
		parse_rules(lx, lx, x);
		free(x);
	}
	*out = lx;
	return 0;
}

struct lex *lex_rules_new(const struct lex *base, const char *text)
{
	struct lex *lx = xcalloc(1, sizeof(*lx));
	char *x = xstrdup(text ? text : "");
	parse_rules(lx, base ? base : lx, x);
	free(x);
	return lx;
}

void lex_free(struct lex *lx)
{
	if (!lx)
		return;
	smap_release(&lx->dict);
	smap_release(&lx->stop);
	smap_release(&lx->syn);
	smap_release(&lx->cues);
	smap_release(&lx->ops);
	smap_release(&lx->syll);
	for (size_t i = 0; i < lx->nowned; i++)
		free(lx->owned[i]);
	free(lx->owned);
	free(lx->rules);
	free(lx->py);
	free(lx->logp);
	free(lx->trad);
	if (lx->cc_ready) {
		opencc_close(lx->cc_tw);
		opencc_close(lx->cc_hk);
		pthread_mutex_destroy(&lx->cc_mu);
	}
	free(lx);
}

size_t lex_bytes(const struct lex *lx)
{
	if (!lx)
		return 0;
	return smap_bytes(&lx->dict) + smap_bytes(&lx->stop) + smap_bytes(&lx->syn) + smap_bytes(&lx->cues) +
	       smap_bytes(&lx->ops) +
	       smap_bytes(&lx->syll) + (PY_LAST - PY_FIRST + 1) * sizeof(uint16_t) +
	       lx->rulecap * sizeof(struct syn_ent);
}

/* ---- normalisation ------------------------------------------------------------------------ */

/* OpenCC: the two converters are opened once and shared under a mutex; they run only for
 * text holding a character they would change (a bitmap made at load time), so Simplified
 * queries never wait for them. */
#define TRAD_FIRST 0x3400
#define TRAD_LAST 0xFAFF

static opencc_t cc_open(const char *name)
{
	opencc_t o = opencc_open(name);
	if (o == (opencc_t)-1) {
		char path[256];
		snprintf(path, sizeof(path), "/usr/share/opencc/%s", name);
		o = opencc_open(path);
	}
	return o;
}

static void cc_convert(opencc_t o, struct sb *s)
{
	if (o == (opencc_t)-1 || !s->len)
		return;
	char *r = opencc_convert_utf8(o, s->buf, s->len);
	if (!r)
		return;
	sb_reset(s);
	sb_adds(s, r);
	opencc_convert_utf8_free(r);
}

static int load_opencc(struct lex *lx, char *err, size_t errlen)
{
	/* Taiwan phrases and variants first (身分證 → 身分证, 計程車 → 出租车), then Hong Kong
	 * variants; both end in Simplified. */
	lx->cc_tw = cc_open("tw2sp.json");
	lx->cc_hk = cc_open("hk2s.json");
	if (lx->cc_tw == (opencc_t)-1 || lx->cc_hk == (opencc_t)-1) {
		snprintf(err, errlen, "OpenCC configurations tw2sp.json and hk2s.json not found");
		return GH_EIO;
	}
	pthread_mutex_init(&lx->cc_mu, NULL);
	lx->cc_ready = true;
	lx->trad = xcalloc((TRAD_LAST - TRAD_FIRST) / 8 + 1, 1);
	struct sb all = SB_INIT;
	for (uint32_t c = TRAD_FIRST; c <= TRAD_LAST; c++)
		if (cp_is_han(c)) {
			u8_put(&all, c);
			sb_addch(&all, '\n');
		}
	/* Each character on its own line through: the two converters; the standard
	 * Traditional -> Simplified one (t2s) and its reverse (s2t), which tell a standard
	 * Simplified character (kept by t2s, changed by s2t). */
	opencc_t t2s = cc_open("t2s.json"), s2t = cc_open("s2t.json");
	struct sb conv = SB_INIT, ts = SB_INIT, st = SB_INIT;
	sb_add(&conv, all.buf, all.len);
	cc_convert(lx->cc_tw, &conv);
	cc_convert(lx->cc_hk, &conv);
	sb_add(&ts, all.buf, all.len);
	cc_convert(t2s, &ts);
	sb_add(&st, all.buf, all.len);
	cc_convert(s2t, &st);
	if (t2s != (opencc_t)-1)
		opencc_close(t2s);
	if (s2t != (opencc_t)-1)
		opencc_close(s2t);
	size_t i = 0, j = 0, a = 0, b = 0;
	while (i < all.len && j < conv.len) {
		size_t ie = i, je = j, ae = a, be = b;
		while (ie < all.len && all.buf[ie] != '\n')
			ie++;
		while (je < conv.len && conv.buf[je] != '\n')
			je++;
		while (ae < ts.len && ts.buf[ae] != '\n')
			ae++;
		while (be < st.len && st.buf[be] != '\n')
			be++;
		size_t k = i;
		uint32_t c = u8_next(all.buf, all.len, &k);
		bool changed = ie - i != je - j || memcmp(all.buf + i, conv.buf + j, ie - i);
		bool simplified = a < ts.len && b < st.len && ae - a == ie - i && !memcmp(all.buf + i, ts.buf + a, ie - i) &&
				  (be - b != ie - i || memcmp(all.buf + i, st.buf + b, ie - i));
		if (changed && simplified && lx->nkeep < ARRAY_LEN(lx->keep))
			lx->keep[lx->nkeep++] = c;
		else if (changed && c >= TRAD_FIRST && c <= TRAD_LAST)
			lx->trad[(c - TRAD_FIRST) / 8] |= (uint8_t)(1u << ((c - TRAD_FIRST) % 8));
		i = ie + 1;
		j = je + 1;
		a = ae + 1;
		b = be + 1;
	}
	sb_release(&all);
	sb_release(&conv);
	sb_release(&ts);
	sb_release(&st);
	return 0;
}

/* Converts t to Simplified (Taiwan phrases and variants, then Hong Kong variants), keeping
 * the standard Simplified characters the converters would change: each is parked on a
 * private-use code point, which OpenCC leaves alone, and put back afterwards. */
static void cc_to_simplified(const struct lex *lx, struct sb *t)
{
	struct sb p = SB_INIT;
	bool parked = false;
	for (size_t i = 0; i < t->len;) {
		size_t s = i;
		uint32_t c = u8_next(t->buf, t->len, &i);
		size_t k = 0;
		while (k < lx->nkeep && lx->keep[k] != c)
			k++;
		if (k < lx->nkeep) {
			u8_put(&p, 0xE000 + (uint32_t)k);
			parked = true;
		} else {
			sb_add(&p, t->buf + s, i - s);
		}
	}
	cc_convert(lx->cc_tw, &p);
	cc_convert(lx->cc_hk, &p);
	sb_reset(t);
	for (size_t i = 0; i < p.len;) {
		size_t s = i;
		uint32_t c = u8_next(p.buf, p.len, &i);
		if (parked && c >= 0xE000 && c < 0xE000 + lx->nkeep)
			u8_put(t, lx->keep[c - 0xE000]);
		else
			sb_add(t, p.buf + s, i - s);
	}
	sb_release(&p);
}

static bool needs_cc(const struct lex *lx, const char *s, size_t n)
{
	if (!lx->trad)
		return false;
	for (size_t i = 0; i < n;) {
		uint32_t c = u8_next(s, n, &i);
		if (c >= TRAD_FIRST && c <= TRAD_LAST && (lx->trad[(c - TRAD_FIRST) / 8] >> ((c - TRAD_FIRST) % 8) & 1))
			return true;
	}
	return false;
}

void lex_normalize(const struct lex *lx, const char *s, size_t n, bool convert_traditional, struct sb *out)
{
	bool ascii = true;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80 || !s[i]) {
			ascii = false;
			break;
		}
	if (ascii) {
		for (size_t i = 0; i < n; i++) {
			char c = s[i];
			sb_addch(out, (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : (c < 0x20 ? ' ' : c));
		}
		return;
	}
	UErrorCode e = U_ZERO_ERROR;
	const UNormalizer2 *nf = unorm2_getNFKCCasefoldInstance(&e);
	int32_t ulen = 0;
	UChar stackbuf[512], *u = stackbuf, *v = NULL;
	if (n > 100000)
		n = 100000;
	u_strFromUTF8Lenient(u, 512, &ulen, s, (int32_t)n, &e);
	if (e == U_BUFFER_OVERFLOW_ERROR) {
		e = U_ZERO_ERROR;
		u = xmalloc(((size_t)ulen + 1) * sizeof(UChar));
		u_strFromUTF8Lenient(u, ulen + 1, &ulen, s, (int32_t)n, &e);
	}
	struct sb t = SB_INIT;
	if (U_SUCCESS(e) && nf) {
		int32_t cap = ulen * 3 + 16, vlen;
		v = xmalloc((size_t)cap * sizeof(UChar));
		vlen = unorm2_normalize(nf, u, ulen, v, cap, &e);
		if (U_SUCCESS(e)) {
			int32_t blen = 0;
			UErrorCode e2 = U_ZERO_ERROR;
			u_strToUTF8(NULL, 0, &blen, v, vlen, &e2);
			sb_grow(&t, (size_t)blen + 1);
			e2 = U_ZERO_ERROR;
			u_strToUTF8(t.buf, (int32_t)t.alloc, &blen, v, vlen, &e2);
			if (U_SUCCESS(e2) || e2 == U_STRING_NOT_TERMINATED_WARNING) {
				t.len = (size_t)blen;
				t.buf[t.len] = 0;
			}
		}
	}
	if (!t.len)
		sb_add(&t, s, n);
	if (u != stackbuf)
		free(u);
	free(v);
	/* Control characters (NFKC keeps them) become spaces. */
	for (size_t i = 0; i < t.len; i++)
		if ((unsigned char)t.buf[i] < 0x20)
			t.buf[i] = ' ';
	if (convert_traditional && lx && lx->cc_ready && needs_cc(lx, t.buf, t.len)) {
		pthread_mutex_lock((pthread_mutex_t *)&lx->cc_mu);
		cc_to_simplified(lx, &t);
		pthread_mutex_unlock((pthread_mutex_t *)&lx->cc_mu);
	}
	sb_add(out, t.buf, t.len);
	sb_release(&t);
}

/* ---- segmentation ------------------------------------------------------------------------- */

uint32_t lex_dict_freq(const struct lex *lx, const char *w, size_t n)
{
	int64_t e = smap_find(&lx->dict, w, n);
	return e >= 0 ? lx->dict.ent[e].val : 0;
}

/* Aspect particles and resultative or directional complements that may follow a verb
 * inside one word (丢了, 卖掉, 转过去, 迁回来): the verb says the operation. */
static const char *const complements[] = { "过来", "过去", "回来", "回去", "出来", "出去", "了", "掉", "给",
					   "到", "回", "出", "走", "过", "完", "好", "去", "来" };

unsigned lex_ops(const struct lex *lx, const char *w, size_t n)
{
	if (!lx || !n)
		return 0;
	int64_t e = smap_find(&lx->ops, w, n);
	if (e >= 0)
		return lx->ops.ent[e].val;
	if (cp_is_alnum_ascii((unsigned char)w[0]))
		return 0;
	for (size_t i = 0; i < ARRAY_LEN(complements); i++) {
		size_t k = strlen(complements[i]);
		if (n > k && !memcmp(w + n - k, complements[i], k) && (e = smap_find(&lx->ops, w, n - k)) >= 0)
			return lx->ops.ent[e].val;
	}
	return 0;
}

struct ops_ctx {
	const struct lex *lx;
	const char *base;
	size_t from[64], to[64];
	size_t n;
};

static void ops_word(void *ctx, const char *w, size_t n)
{
	struct ops_ctx *c = ctx;
	if (c->n < ARRAY_LEN(c->from)) {
		c->from[c->n] = (size_t)(w - c->base);
		c->to[c->n++] = (size_t)(w - c->base) + n;
	}
}

unsigned lex_text_ops(const struct lex *lx, const char *s)
{
	if (!s)
		return 0;
	/* Names are already Simplified text: normalise only what is not plain Simplified. */
	struct sb t = SB_INIT;
	size_t n = strlen(s);
	if (needs_cc(lx, s, n))
		lex_normalize(lx, s, n, true, &t);
	else
		sb_add(&t, s, n);
	unsigned ops = 0;
	for (size_t i = 0; i < t.len;) {
		size_t st = i;
		uint32_t c = u8_next(t.buf, t.len, &i);
		if (!cp_is_han(c))
			continue;
		size_t e = u8_han_run_end(t.buf, t.len, i);
		/* Whole words and runs of up to three words, never part of a word. */
		struct ops_ctx oc = { .lx = lx, .base = t.buf };
		lex_segment(lx, t.buf + st, e - st, false, ops_word, &oc);
		for (size_t a = 0; a < oc.n; a++)
			for (size_t b = a; b < oc.n && b < a + 3; b++)
				ops |= lex_ops(lx, t.buf + oc.from[a], oc.to[b] - oc.from[a]);
		i = e;
	}
	sb_release(&t);
	return ops;
}

bool lex_in_dict(const struct lex *lx, const char *w, size_t n)
{
	return lex_dict_freq(lx, w, n) > 0;
}

void lex_segment(const struct lex *lx, const char *s, size_t n, bool search_mode, lex_emit_fn emit, void *ctx)
{
	/* Work in slices of at most 256 characters (sentences are shorter; long text is cut at a
	 * slice boundary, which costs at most one word). */
	size_t off[257];
	double route[257];
	uint8_t next[257];
	size_t pos = 0;
	while (pos < n) {
		size_t nc = 0;
		off[0] = pos;
		while (pos < n && nc < 256) {
			u8_next(s, n, &pos);
			off[++nc] = pos;
		}
		route[nc] = 0;
		for (size_t i = nc; i-- > 0;) {
			double best = -1e300;
			size_t bj = i + 1;
			double single = -lx->log_total; /* an unknown character: frequency 1 */
			for (size_t j = i + 1; j <= nc && j - i <= SEG_MAXW; j++) {
				int64_t e = smap_find(&lx->dict, s + off[i], off[j] - off[i]);
				double lp;
				if (e < 0 && j > i + 1)
					break; /* no word starts this way */
				if (e < 0 || !lx->dict.ent[e].val) {
					if (j > i + 1)
						continue; /* a prefix only */
					lp = single;
				} else {
					lp = lx->logp[e];
				}
				double v = lp + route[j];
				if (v >= best) {
					best = v;
					bj = j;
				}
			}
			route[i] = best;
			next[i] = (uint8_t)(bj - i);
		}
		for (size_t i = 0; i < nc; i += next[i]) {
			size_t j = i + next[i];
			if (search_mode && j - i > 2) {
				for (size_t k = i; k + 2 <= j; k++)
					if (lex_in_dict(lx, s + off[k], off[k + 2] - off[k]))
						emit(ctx, s + off[k], off[k + 2] - off[k]);
				if (j - i > 3)
					for (size_t k = i; k + 3 <= j; k++)
						if (lex_in_dict(lx, s + off[k], off[k + 3] - off[k]))
							emit(ctx, s + off[k], off[k + 3] - off[k]);
			}
			emit(ctx, s + off[i], off[j] - off[i]);
		}
	}
}

/* ---- pinyin, stop words, synonyms --------------------------------------------------------- */

const char *lex_pinyin(const struct lex *lx, uint32_t cp)
{
	if (!lx->py || cp < PY_FIRST || cp > PY_LAST || !lx->py[cp - PY_FIRST])
		return NULL;
	return smap_key(&lx->syll, lx->py[cp - PY_FIRST] - 1u);
}

bool lex_stopword(const struct lex *lx, const char *w, size_t n)
{
	return smap_find(&lx->stop, w, n) >= 0;
}

unsigned lex_cue(const struct lex *lx, const char *w, size_t n)
{
	int64_t e = smap_find(&lx->cues, w, n);
	return e >= 0 ? lx->cues.ent[e].val : 0;
}

size_t lex_synonyms(const struct lex *lx, const char *w, size_t n, const char **terms, size_t max)
{
	return lex_rules(lx, w, n, terms, NULL, max);
}

size_t lex_rules(const struct lex *lx, const char *w, size_t n, const char **terms, float *weights, size_t max)
{
	if (!lx)
		return 0;
	int64_t e = smap_find(&lx->syn, w, n);
	size_t k = 0;
	if (e < 0)
		return 0;
	for (uint32_t r = lx->syn.ent[e].val; r && k < max; r = lx->rules[r - 1].next, k++) {
		terms[k] = lx->rules[r - 1].terms;
		if (weights)
			weights[k] = lx->rules[r - 1].w;
	}
	return k;
}

size_t lex_syn_maxchars(const struct lex *lx)
{
	if (!lx)
		return 0;
	return lx->syn_maxchars;
}

void lex_each_syn_word(const struct lex *lx, lex_emit_fn emit, void *ctx)
{
	for (size_t i = 0; i < lx->syn.n; i++)
		emit(ctx, smap_key(&lx->syn, (uint32_t)i), lx->syn.ent[i].len);
	/* operation words, so pinyin reaches them too (guoqi: 过期) */
	for (size_t i = 0; i < lx->ops.n; i++)
		if (!cp_is_alnum_ascii((unsigned char)smap_key(&lx->ops, (uint32_t)i)[0]))
			emit(ctx, smap_key(&lx->ops, (uint32_t)i), lx->ops.ent[i].len);
	for (size_t i = 0; i < lx->nrules; i++) {
		const char *t = lx->rules[i].terms;
		while (*t) {
			while (*t == ' ')
				t++;
			const char *e = t;
			while (*e && *e != ' ')
				e++;
			if (e > t)
				emit(ctx, t, (size_t)(e - t));
			t = e;
		}
	}
}

/* ---- English ------------------------------------------------------------------------------ */

/* Snowball's English stemmer (libstemmer); a stemmer is not thread-safe, so each thread has
 * its own, freed when the thread ends. */
static pthread_key_t stem_key;
static pthread_once_t stem_once = PTHREAD_ONCE_INIT;

static void stem_free(void *p)
{
	sb_stemmer_delete(p);
}

static void stem_key_make(void)
{
	pthread_key_create(&stem_key, stem_free);
}

void lex_stem(const char *w, size_t n, struct sb *out)
{
	pthread_once(&stem_once, stem_key_make);
	struct sb_stemmer *st = pthread_getspecific(stem_key);
	if (!st) {
		st = sb_stemmer_new("english", "UTF_8");
		if (!st) {
			sb_add(out, w, n);
			return;
		}
		pthread_setspecific(stem_key, st);
	}
	if (n > 64) {
		sb_add(out, w, n);
		return;
	}
	const sb_symbol *r = sb_stemmer_stem(st, (const sb_symbol *)w, (int)n);
	if (!r) {
		sb_add(out, w, n);
		return;
	}
	sb_add(out, (const char *)r, (size_t)sb_stemmer_length(st));
}

void lex_stem_words(const char *s, size_t n, struct sb *out)
{
	struct sb t0 = SB_INIT;
	lex_contractions(s, n, &t0);
	bool first = true;
	for (size_t i = 0; i < t0.len;) {
		while (i < t0.len && !cp_is_alnum_ascii((unsigned char)t0.buf[i]))
			i++;
		size_t e = i;
		while (e < t0.len && cp_is_alnum_ascii((unsigned char)t0.buf[e]))
			e++;
		if (e > i) {
			if (!first)
				sb_addch(out, ' ');
			lex_stem(t0.buf + i, e - i, out);
			first = false;
		}
		i = e;
	}
	sb_release(&t0);
}

/* English contractions spelled out (normalised, lower-case text): n't -> not, 're -> are,
 * 've -> have, 'm -> am, 'll -> will, 'd -> would; the possessive or "is" 's is dropped;
 * can't and won't become can not and will not. Curly apostrophes count as straight ones. */
void lex_contractions(const char *s, size_t n, struct sb *out)
{
	static const struct {
		const char *suf, *rep;
	} tails[] = { { "n't", " not" }, { "'re", " are" }, { "'ve", " have" }, { "'m", " am" },
		      { "'ll", " will" }, { "'d", " would" }, { "'s", "" } };
	for (size_t i = 0; i < n;) {
		size_t k = i;
		uint32_t c = u8_next(s, n, &k);
		bool apos = c == '\'' || c == 0x2019 || c == 0x2018 || c == 0x02BC;
		bool word_before = i > 0 && cp_is_alnum_ascii((unsigned char)s[i - 1]);
		if (!apos || !word_before) {
			sb_add(out, s + i, k - i);
			i = k;
			continue;
		}
		/* the letters after the apostrophe */
		size_t e = k;
		while (e < n && cp_is_alnum_ascii((unsigned char)s[e]))
			e++;
		size_t tl = e - k;
		bool done = false;
		if (tl == 1 && s[k] == 't' && out->len && out->buf[out->len - 1] == 'n') {
			/* n't: "can't" -> "can not", "won't" -> "will not", "don't" -> "do not" */
			out->len--;
			if (out->len >= 2 && !memcmp(out->buf + out->len - 2, "wo", 2)) {
				out->len -= 2;
				sb_adds(out, "will");
			} else if (out->len >= 2 && !memcmp(out->buf + out->len - 2, "ca", 2)) {
				sb_adds(out, "n");
			}
			out->buf[out->len] = 0;
			sb_adds(out, " not");
			done = true;
		} else {
			for (size_t t = 1; t < ARRAY_LEN(tails) && !done; t++) {
				size_t sl = strlen(tails[t].suf) - 1;
				if (tl == sl && !memcmp(s + k, tails[t].suf + 1, sl)) {
					sb_adds(out, tails[t].rep);
					done = true;
				}
			}
		}
		if (!done) { /* any other apostrophe stays (it separates words anyway) */
			sb_add(out, s + i, k - i);
			i = k;
			continue;
		}
		i = e;
	}
}
