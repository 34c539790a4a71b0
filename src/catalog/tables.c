/* tables.c: the catalog's fixed vocabularies, as codes; their words are in the message
 * catalogs: catalog_theme_<code> and catalog_theme_icon_<code> (the tile's character),
 * cases_ecert_<code>, item_type_<code>. data/catalog/themes.json and ecert_types.json publish
 * the same lists for other tools; tests/unit/test_catalog.c checks they agree. */
#include "catalog/catalog_impl.h"
#include "catalog/fields.h"

#include <string.h>

#include "base/util.h"

#define I CATALOG_AUD_INDIVIDUAL
#define E CATALOG_AUD_ENTERPRISE

const struct catalog_theme catalog_themes[] = {
	{ "birth", I },
	{ "household", I },
	{ "education", I },
	{ "employment", I },
	{ "social_security", I },
	{ "medical", I },
	{ "marriage", I },
	{ "housing", I },
	{ "transport", I },
	{ "travel_abroad", I },
	{ "retirement", I },
	{ "social_assistance", I },
	{ "veterans", I },
	{ "death", I },
	{ "agriculture", I },
	{ "business_startup", E },
	{ "business_operation", E },
	{ "construction", E },
	{ "tax", E },
	{ "legal", I | E },
};
const size_t catalog_themes_n = ARRAY_LEN(catalog_themes);

#undef I
#undef E

const struct catalog_label catalog_ecerts[] = {
	{ "resident_id" },
	{ "household_register" },
	{ "marriage_cert" },
	{ "divorce_cert" },
	{ "birth_medical_cert" },
	{ "business_license" },
	{ "real_estate_cert" },
	{ "driver_license" },
	{ "vehicle_license" },
	{ "social_security_card" },
	{ "degree_cert" },
	{ "disability_cert" },
	{ "residence_permit" },
	{ "food_business_license" },
	{ "construction_permit" },
	{ "no_criminal_record" },
	{ "veteran_card" },
};
const size_t catalog_ecerts_n = ARRAY_LEN(catalog_ecerts);

const struct catalog_label catalog_item_types[] = {
	{ "licensing" },
	{ "confirmation" },
	{ "payment" },
	{ "public_service" },
	{ "other" },
};
const size_t catalog_item_types_n = ARRAY_LEN(catalog_item_types);

const struct catalog_theme *catalog_theme_find(const char *code)
{
	for (size_t i = 0; code && i < catalog_themes_n; i++)
		if (strcmp(catalog_themes[i].code, code) == 0)
			return &catalog_themes[i];
	return NULL;
}

static const struct catalog_label *label_find(const struct catalog_label *t, size_t n, const char *code)
{
	for (size_t i = 0; code && i < n; i++)
		if (strcmp(t[i].code, code) == 0)
			return &t[i];
	return NULL;
}

const struct catalog_label *catalog_ecert_find(const char *code)
{
	return label_find(catalog_ecerts, catalog_ecerts_n, code);
}

const struct catalog_label *catalog_item_type_find(const char *code)
{
	return label_find(catalog_item_types, catalog_item_types_n, code);
}

bool catalog_field_type_ok(const char *type)
{
	return catalog_field_type(type) != NULL;
}
