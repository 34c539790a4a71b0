/* forms.h: application forms generated from an item's form definition, and their validation.
 *
 * A form definition is the item's "form" JSON array (service_items.form): objects with key,
 * label_zh, label_en, type (text, textarea, number, date, select, id_number, uscc, phone,
 * email, address, file), required, personal (optional: true marks a field of another type as
 * personal data), and for select a list of options {value, label_zh, label_en}. Input arrives as a flat object of strings (a posted form or a JSON body, see
 * identity_read_input) keyed by field key.
 *
 * Pure functions over jansson values: no database, no I/O. Fuzzed by tests/fuzz/fuzz_forms.c.
 */
#ifndef GH_FORMS_H
#define GH_FORMS_H
#include <stdbool.h>

#include <jansson.h>

#include "base/str.h"
#include "catalog/fields.h"

struct view;

#define FORMS_TEXT_MAX CATALOG_FIELD_TEXT_MAX         /* characters of a text or address field */
#define FORMS_TEXTAREA_MAX CATALOG_FIELD_TEXTAREA_MAX /* characters of a textarea */
#define FORMS_EMAIL_MAX CATALOG_FIELD_EMAIL_MAX

/* Checks a definition: an array of at most 100 objects, each with a key ([A-Za-z0-9_-],
 * 1..64, unique), a known type, required and personal absent or boolean, and for select a non-empty
 * array of at most 200 options, each an object with a string value. Returns 0 or GH_EINVAL.
 * Allocates only transiently. */
int forms_def_check(json_t *def);

/* True when field (one object of a definition) holds personal data, which is sealed wherever
 * it is stored and masked wherever it is shown: the types id_number, uscc, phone, email and
 * address, and any field with "personal": true. */
bool forms_field_personal(json_t *field);

/* Validates input against the definition. Returns 0 and sets *values (new reference: the
 * normalised values of the known fields only — trimmed, upper-cased ID numbers and credit
 * codes, numbers in canonical form, dates as YYYY-MM-DD) and *errors (new reference: an
 * object field key -> message in lang for a citizen from the catalogs v (view.h; NULL: the
 * messages are their keys), empty when all is well). File fields are
 * checked only for presence when required; their value is an attachment reference that the
 * caller checks. GH_EINVAL when the definition itself is malformed (forms_def_check); then
 * *values and *errors are NULL.
 *
 * Per type: text and address 1..FORMS_TEXT_MAX characters, textarea up to
 * FORMS_TEXTAREA_MAX (line breaks kept as LF), none with control characters; number a
 * non-negative decimal, at most 12 digits before the point and 2 after ("007.50" -> "7.5");
 * date a real YYYY-MM-DD in 1900..2100; select one of the option values; id_number, uscc and
 * phone as idcheck.h (spaces and hyphens inside dropped, phone "+86" dropped); email a
 * practical check (domain lower-cased); file a reference of 64 lower-case hex digits.
 * Surrounding white space (including U+3000) is trimmed and full-width ASCII folded for the
 * non-text types. Optional empty fields are left out of *values; input keys that are not
 * fields are ignored; input that is NULL or not an object counts as empty. Messages name the
 * field by its label and never repeat the input. */
int forms_validate(json_t *def, json_t *input, const struct view *v, const char *lang, json_t **values,
		   json_t **errors);

/* The form as a template context: an array of fields, each with key, label (in lang), type,
 * required, the HTML input type and attributes that fit (inputmode, autocomplete, maxlength,
 * pattern hints), the current value (from values), its error (from errors) and, for select,
 * options with a "selected" flag. New reference; NULL when the definition is malformed.
 *
 * Each field: key, name (= key), id ("f_<key>", for <label for>), label, type, required,
 * input_type ("text", "textarea", "date", "select", "tel", "email", "file"), a true flag
 * is_<type> (is_text, is_textarea, is_number, is_date, is_select, is_id_number, is_uscc,
 * is_phone, is_email, is_address, is_file), is_input (rendered as <input>: not textarea,
 * select nor file), and when they apply inputmode, autocomplete, maxlength (integer), accept,
 * hint (format hint in lang), error and has_error; select fields have options [{value,
 * label, selected}]. value is values[key] when it is a string of plausible size for the type
 * (so the raw input may be passed to re-show a form with errors), else "". */
json_t *forms_view(json_t *def, json_t *values, json_t *errors, const struct view *v, const char *lang);

#endif
