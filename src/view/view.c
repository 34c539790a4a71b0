/* view.c: loads the page templates and message catalogs once; renders pages by name.
 *
 * Templates are kept in an array sorted by name and found by binary search, both for
 * view_render and as the partial resolver. The "en" catalog is the "zh" catalog with the
 * English messages laid over it, so an untranslated key shows the Chinese text.
 */
#include "view/view.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/arena.h"
#include "base/err.h"
#include "base/sb.h"
#include "base/util.h"
#include "view/mustache.h"

#define VIEW_MAX_TEMPLATE (4u << 20) /* bytes per template file */
#define VIEW_MAX_DIR_DEPTH 16

struct view_tpl {
	char *name; /* relative path without ".mustache" */
	struct mustache *t;
};

struct view {
	struct view_tpl *tpls;
	size_t n, alloc;
	json_t *zh, *en; /* flat objects key -> string; en includes zh as fall-back */
};

static int verr(char *err, size_t errlen, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int verr(char *err, size_t errlen, int code, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

/* Compiles the template file at path and adds it as name. */
static int load_template(struct view *v, const char *path, const char *name, char *err,
			 size_t errlen)
{
	size_t len;
	char *src = read_file(path, VIEW_MAX_TEMPLATE, &len);
	if (!src)
		return verr(err, errlen, GH_EIO, "%s: %s", path, strerror(errno));
	char cerr[256];
	struct mustache *t;
	int rc = mustache_compile(src, len, &t, cerr, sizeof(cerr));
	free(src);
	if (rc)
		return verr(err, errlen, rc, "%s: %s", path, cerr);
	if (v->n == v->alloc) {
		v->alloc = v->alloc ? v->alloc * 2 : 32;
		v->tpls = xrealloc(v->tpls, v->alloc * sizeof(*v->tpls));
	}
	v->tpls[v->n].name = xstrdup(name);
	v->tpls[v->n].t = t;
	v->n++;
	return 0;
}

/* Walks dir (rel is its path below the template root, "" at the top) for *.mustache files.
 * Hidden entries are skipped; symlinks are followed (stat) but depth is bounded. */
static int walk(struct view *v, const char *dir, const char *rel, int depth, char *err,
		size_t errlen)
{
	if (depth > VIEW_MAX_DIR_DEPTH)
		return verr(err, errlen, GH_EINVAL, "%s: directories nested too deeply", dir);
	DIR *d = opendir(dir);
	if (!d)
		return verr(err, errlen, GH_EIO, "%s: %s", dir, strerror(errno));
	int rc = 0;
	struct dirent *e;
	while (!rc && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[4096], name[4096];
		int n1 = snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		int n2 = snprintf(name, sizeof(name), "%s%s%s", rel, *rel ? "/" : "", e->d_name);
		if (n1 < 0 || (size_t)n1 >= sizeof(path) || n2 < 0 || (size_t)n2 >= sizeof(name)) {
			rc = verr(err, errlen, GH_EINVAL, "%s/%s: path too long", dir, e->d_name);
			break;
		}
		struct stat st;
		if (stat(path, &st) != 0) {
			rc = verr(err, errlen, GH_EIO, "%s: %s", path, strerror(errno));
			break;
		}
		if (S_ISDIR(st.st_mode)) {
			rc = walk(v, path, name, depth + 1, err, errlen);
		} else if (S_ISREG(st.st_mode) && has_suffix(name, ".mustache")) {
			name[strlen(name) - strlen(".mustache")] = 0;
			rc = load_template(v, path, name, err, errlen);
		}
	}
	closedir(d);
	return rc;
}

static int tpl_cmp(const void *a, const void *b)
{
	return strcmp(((const struct view_tpl *)a)->name, ((const struct view_tpl *)b)->name);
}

/* Loads one catalog file into *out: a flat object of strings. */
static int load_file(const char *path, json_t **out, char *err, size_t errlen)
{
	json_error_t je;
	json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	*out = NULL;
	if (!j)
		return verr(err, errlen, GH_EINVAL, "%s: line %d: %s", path, je.line, je.text);
	if (!json_is_object(j)) {
		json_decref(j);
		return verr(err, errlen, GH_EINVAL, "%s: not a JSON object", path);
	}
	const char *key;
	json_t *val;
	json_object_foreach(j, key, val) {
		if (!json_is_string(val)) {
			int rc = verr(err, errlen, GH_EINVAL, "%s: message \"%.64s\" is not a string",
				      path, key);
			json_decref(j);
			return rc;
		}
	}
	*out = j;
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Loads i18n_dir/<lang>.json and then every i18n_dir/<lang>/<domain>.json (in name order)
 * into *out: one flat object of strings. Each domain keeps its messages in its own file; a
 * key defined in two files is an error naming the second. Missing files are empty. */
static int load_catalog(const char *i18n_dir, const char *lang, json_t **out, char *err,
			size_t errlen)
{
	char path[4096];
	int rc = 0;
	*out = json_object();
	if (!*out)
		die("view: out of memory");
	if (!i18n_dir)
		return 0;
	int n = snprintf(path, sizeof(path), "%s/%s.json", i18n_dir, lang);
	if (n < 0 || (size_t)n >= sizeof(path))
		return verr(err, errlen, GH_EINVAL, "%s: path too long", i18n_dir);
	struct stat st;
	if (stat(path, &st) == 0 || errno != ENOENT) {
		json_decref(*out);
		rc = load_file(path, out, err, errlen);
		if (rc)
			return rc;
	}
	snprintf(path, sizeof(path), "%s/%s", i18n_dir, lang);
	DIR *d = opendir(path);
	if (!d)
		return 0;
	char **names = NULL;
	size_t nn = 0, alloc = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len < 6 || e->d_name[0] == '.' || strcmp(e->d_name + len - 5, ".json") != 0)
			continue;
		if (nn == alloc) {
			alloc = alloc ? alloc * 2 : 8;
			names = xrealloc(names, alloc * sizeof(*names));
		}
		names[nn++] = xstrdup(e->d_name);
	}
	closedir(d);
	if (nn)
		qsort(names, nn, sizeof(*names), name_cmp);
	for (size_t i = 0; i < nn && !rc; i++) {
		char file[4096];
		n = snprintf(file, sizeof(file), "%s/%s/%s", i18n_dir, lang, names[i]);
		if (n < 0 || (size_t)n >= sizeof(file)) {
			rc = verr(err, errlen, GH_EINVAL, "%s: path too long", i18n_dir);
			break;
		}
		json_t *j;
		rc = load_file(file, &j, err, errlen);
		if (rc)
			break;
		const char *key;
		json_t *val;
		json_object_foreach(j, key, val) {
			if (json_object_get(*out, key)) {
				rc = verr(err, errlen, GH_EINVAL, "%s: message \"%.64s\" is already defined",
					  file, key);
				break;
			}
			json_object_set(*out, key, val);
		}
		json_decref(j);
	}
	for (size_t i = 0; i < nn; i++)
		free(names[i]);
	free(names);
	if (rc) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

static const json_t *extra_words;

void view_extra_messages(const json_t *words)
{
	extra_words = words;
}

/* The extra messages of lang added to *cat; a key already there is an error. */
static int add_extra(json_t *cat, const char *lang, char *err, size_t errlen)
{
	const char *key;
	json_t *val;
	json_object_foreach(json_object_get(extra_words, lang), key, val) {
		if (json_object_get(cat, key))
			return verr(err, errlen, GH_EINVAL, "the workflow's words: message \"%.64s\" is already defined "
				    "in the catalogs", key);
		json_object_set(cat, key, val);
	}
	return 0;
}

static int load(const char *tpl_dir, const char *i18n_dir, struct view **out, char *err, size_t errlen)
{
	struct view *v = xcalloc(1, sizeof(*v));
	json_t *en = NULL;
	int rc;

	*out = NULL;
	if (err && errlen)
		err[0] = 0;
	rc = tpl_dir ? walk(v, tpl_dir, "", 0, err, errlen) : 0;
	if (rc)
		goto fail;
	if (v->n)
		qsort(v->tpls, v->n, sizeof(*v->tpls), tpl_cmp);
	rc = load_catalog(i18n_dir, "zh", &v->zh, err, errlen);
	if (rc)
		goto fail;
	rc = load_catalog(i18n_dir, "en", &en, err, errlen);
	if (!rc)
		rc = add_extra(v->zh, "zh", err, errlen);
	if (!rc)
		rc = add_extra(en, "en", err, errlen);
	if (rc) {
		json_decref(en);
		goto fail;
	}
	v->en = json_copy(v->zh);
	if (!v->en || json_object_update(v->en, en) != 0)
		die("view: out of memory");
	json_decref(en);
	*out = v;
	return 0;
fail:
	view_free(v);
	return rc;
}

int view_load(const char *tpl_dir, const char *i18n_dir, struct view **out, char *err, size_t errlen)
{
	return load(tpl_dir, i18n_dir, out, err, errlen);
}

int view_load_messages(const char *i18n_dir, struct view **out, char *err, size_t errlen)
{
	return load(NULL, i18n_dir, out, err, errlen);
}

void view_free(struct view *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->n; i++) {
		free(v->tpls[i].name);
		mustache_free(v->tpls[i].t);
	}
	free(v->tpls);
	json_decref(v->zh);
	json_decref(v->en);
	free(v);
}

/* Binary search by (name, len), name not necessarily NUL-terminated. */
static const struct view_tpl *find(const struct view *v, const char *name, size_t len)
{
	size_t lo = 0, hi = v->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *m = v->tpls[mid].name;
		int c = strncmp(m, name, len);
		if (c == 0 && m[len] != 0)
			c = 1;
		if (c == 0)
			return &v->tpls[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static const struct mustache *resolve_partial(void *ud, const char *name, size_t len)
{
	const struct view_tpl *tp = find(ud, name, len);
	return tp ? tp->t : NULL;
}

static bool is_en(const char *lang)
{
	return lang && strcmp(lang, "en") == 0;
}

json_t *view_messages(const struct view *v, const char *lang)
{
	return is_en(lang) ? v->en : v->zh;
}

const char *view_msg(const struct view *v, const char *lang, const char *key)
{
	if (!v)
		return key;
	const char *s = json_string_value(json_object_get(view_messages(v, lang), key));
	return s ? s : key;
}

bool view_has(const struct view *v, const char *key)
{
	return v && json_object_get(v->zh, key) != NULL;
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static const struct msg_arg *find_arg(const struct msg_arg *args, size_t n, const char *name, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (args[i].name && strlen(args[i].name) == len && memcmp(args[i].name, name, len) == 0)
			return &args[i];
	return NULL;
}

const char *msg_format(struct arena *a, const char *text, const struct msg_arg *args, size_t n)
{
	if (!text)
		return "";
	if (!strchr(text, '{'))
		return text;
	struct sb out = SB_INIT;
	const char *p = text;
	while (*p) {
		const char *open = strchr(p, '{');
		if (!open) {
			sb_adds(&out, p);
			break;
		}
		sb_add(&out, p, (size_t)(open - p));
		const char *q = open + 1;
		while (name_char(*q))
			q++;
		const struct msg_arg *x = *q == '}' && q > open + 1 ? find_arg(args, n, open + 1, (size_t)(q - open - 1)) : NULL;
		if (!x) { /* not a placeholder, or one without a value: the text as written */
			sb_addch(&out, '{');
			p = open + 1;
			continue;
		}
		if (x->kind == MSG_ARG_STR)
			sb_adds(&out, x->s ? x->s : "");
		else if (x->kind == MSG_ARG_INT)
			sb_addf(&out, "%lld", x->i);
		else
			sb_addf(&out, "%g", x->d);
		p = q + 1;
	}
	char *r = arena_strndup(a, out.buf ? out.buf : "", out.len);
	sb_release(&out);
	return r;
}

const char *view_fmt(const struct view *v, const char *lang, struct arena *a, const char *key,
		     const struct msg_arg *args, size_t n)
{
	return msg_format(a, view_msg(v, lang, key), args, n);
}

/* ctx must be an object or NULL (an empty context); anything else is GH_EINVAL. A missing
 * "t" or "lang" is added to ctx itself, which the caller owns. */
int view_render(const struct view *v, const char *name, const char *lang, json_t *ctx, struct sb *out)
{
	const struct view_tpl *tp = find(v, name, strlen(name));
	if (!tp)
		return GH_ENOTFOUND;
	if (ctx && !json_is_object(ctx))
		return GH_EINVAL;
	json_t *own = NULL;
	if (!ctx)
		ctx = own = json_object();
	if (!json_object_get(ctx, "t"))
		json_object_set(ctx, "t", view_messages(v, lang));
	if (!json_object_get(ctx, "lang"))
		json_object_set_new(ctx, "lang", json_string(is_en(lang) ? "en" : "zh"));
	int rc = mustache_render(tp->t, ctx, resolve_partial, (void *)v, out);
	json_decref(own);
	return rc;
}
