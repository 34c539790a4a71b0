/* fields.h: the one list of form field types. Forms belong to the catalog: a service's form
 * definition (service_items.form) names a type for each field, and this table gives each
 * type everything the hall does with it: what a definition of it carries (catalog/validate.c
 * accepts service definitions by it), how a citizen's input is parsed and checked
 * (cases/forms.c: forms_validate), how the field is drawn (forms_view) and the JSON Schema of
 * its value in the API (the service's form_schema). A new type is one entry in
 * catalog_field_types[] (fields.c) and its words in the message catalogs;
 * tests/unit/test_catalog.c checks every entry has all four.
 *
 * Pure functions: no database, no I/O. */
#ifndef GH_CATALOG_FIELDS_H
#define GH_CATALOG_FIELDS_H
#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "base/str.h"

#define CATALOG_FIELD_TEXT_MAX 200      /* characters of a text or address field */
#define CATALOG_FIELD_TEXTAREA_MAX 2000 /* characters of a textarea */
#define CATALOG_FIELD_EMAIL_MAX STR_EMAIL_MAX

/* Parses a citizen's input for one field: s is the input with the white space around it
 * trimmed, never empty; def the field's definition (select: its options). Returns NULL and
 * sets *value (a new JSON string: the value as stored, normalised), or returns the message
 * key of the problem (forms_err_*, naming the field by {label}) and may set *reason to the
 * message key of a more precise reason. */
typedef const char *(*catalog_field_parse_fn)(json_t *def, struct str s, json_t **value, const char **reason);

struct catalog_field_type {
	const char *name;
	/* The definition: whether it lists options (select), and whether the values are
	 * personal data (sealed at rest, masked on screen) whatever "personal" says. */
	bool options, personal;
	/* The input: its parser, the message key when a required value is absent, and the
	 * largest value in bytes re-shown in the form after an error. */
	catalog_field_parse_fn parse;
	const char *missing;
	size_t shown_max;
	/* Drawing: the control ("text", "date", ... for <input>; "textarea", "select"), whether it
	 * is an <input>, its attributes (NULL / 0: none) and the message key of a format hint. */
	const char *control;
	bool is_input;
	const char *inputmode, *autocomplete;
	int maxlength;
	const char *accept, *hint;
	/* The API: the JSON Schema of the value, as JSON text. */
	const char *schema;
};

extern const struct catalog_field_type catalog_field_types[];
extern const size_t catalog_field_types_n;

/* The type named name, or NULL. */
const struct catalog_field_type *catalog_field_type(const char *name);

/* The names of every type, "a, b or c" (for a message; static storage). */
const char *catalog_field_type_names(void);

/* The JSON Schema of the input a form definition takes (an object of the fields' values by
 * key, the required ones listed), as a new object; NULL when def is not an array of fields
 * of known types. */
json_t *catalog_form_schema(json_t *def);

#endif
