/* Fuzzes application forms (src/cases/forms.c): the input is the JSON text of
 * {"def": [...], "input": {...}}, or a definition and an input as two JSON texts split at the
 * first NUL or newline. Runs forms_validate and forms_view on whatever parses and checks what
 * forms.h promises: only the definition's keys come back, each field is a value or an error
 * (never both), errors are non-empty messages, normalisation is idempotent, the view has one
 * entry per field. */
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "base/err.h"
#include "cases/forms.h"

/* No catalogs: each message is its key, which is never empty either. */
static const struct view *const V = NULL;

static void check(int ok)
{
	if (!ok)
		__builtin_trap();
}

static int is_def_key(json_t *def, const char *k)
{
	size_t i;
	json_t *f;
	json_array_foreach(def, i, f) {
		if (strcmp(json_string_value(json_object_get(f, "key")), k) == 0)
			return 1;
	}
	return 0;
}

static void run(json_t *def, json_t *input)
{
	static const char *const langs[] = { "zh", "en" };
	int defok = forms_def_check(def) == 0;
	for (int l = 0; l < 2; l++) {
		json_t *values = NULL, *errors = NULL;
		int rc = forms_validate(def, input, V, langs[l], &values, &errors);
		check(rc == 0 || rc == GH_EINVAL);
		check((rc == 0) == defok);
		/* The view is shown with normalised values, or with the raw input after errors. */
		json_t *view = forms_view(def, rc == 0 && l == 0 ? values : input, errors, V, langs[l]);
		if (rc != 0) {
			check(!values && !errors && !view);
			continue;
		}
		check(json_is_object(values) && json_is_object(errors));
		check(json_array_size(view) == json_array_size(def));
		const char *k;
		json_t *v;
		json_object_foreach(values, k, v) {
			check(json_is_string(v) && json_string_length(v) > 0);
			check(!json_object_get(errors, k));
			check(is_def_key(def, k));
		}
		json_object_foreach(errors, k, v) {
			check(json_is_string(v) && json_string_length(v) > 0 &&
			      json_string_length(v) < 4096);
			check(is_def_key(def, k));
		}
		/* Normalised values validate to themselves. */
		json_t *values2, *errors2;
		check(forms_validate(def, values, V, langs[l], &values2, &errors2) == 0);
		check(json_equal(values, values2));
		json_object_foreach(errors2, k, v)
			check(json_object_get(errors, k) != NULL);
		size_t i;
		json_t *f;
		json_array_foreach(view, i, f) {
			check(json_is_string(json_object_get(f, "key")));
			check(json_is_string(json_object_get(f, "label")));
			check(json_is_string(json_object_get(f, "value")));
		}
		json_decref(values2);
		json_decref(errors2);
		json_decref(view);
		json_decref(values);
		json_decref(errors);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	json_t *root = json_loadb(s, size, JSON_DECODE_ANY, NULL);
	if (root && json_is_object(root)) {
		run(json_object_get(root, "def"), json_object_get(root, "input"));
		json_decref(root);
		return 0;
	}
	json_decref(root);
	const char *sep = memchr(s, '\0', size);
	const char *nl = memchr(s, '\n', size);
	if (!sep || (nl && nl < sep))
		sep = nl;
	if (!sep)
		return 0;
	json_t *def = json_loadb(s, (size_t)(sep - s), JSON_DECODE_ANY, NULL);
	json_t *input = json_loadb(sep + 1, size - (size_t)(sep - s) - 1, JSON_DECODE_ANY, NULL);
	if (def)
		run(def, input);
	json_decref(def);
	json_decref(input);
	return 0;
}
