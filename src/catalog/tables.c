/* tables.c: the catalog's fixed vocabularies. data/catalog/themes.json and ecert_types.json
 * publish the same lists for other tools; tests/unit/test_catalog.c checks they agree. */
#include "catalog/catalog_impl.h"

#include <string.h>

#include "base/util.h"

#define I CATALOG_AUD_INDIVIDUAL
#define E CATALOG_AUD_ENTERPRISE

const struct catalog_theme catalog_themes[] = {
	{ "birth", "生育收养", "Birth and adoption", I, "生" },
	{ "household", "户籍证件", "Household registration and ID documents", I, "户" },
	{ "education", "教育", "Education", I, "教" },
	{ "employment", "就业创业", "Employment and entrepreneurship", I, "就" },
	{ "social_security", "社会保险", "Social insurance", I, "社" },
	{ "medical", "医疗保障", "Medical care and insurance", I, "医" },
	{ "marriage", "婚姻登记", "Marriage", I, "婚" },
	{ "housing", "住房", "Housing", I, "住" },
	{ "transport", "交通出行", "Transport and driving", I, "交" },
	{ "travel_abroad", "出境入境", "Exit, entry and foreigners", I, "出" },
	{ "retirement", "退休养老", "Retirement and old age", I, "老" },
	{ "social_assistance", "社会救助与残疾人服务", "Social assistance and disability services", I, "助" },
	{ "veterans", "退役军人与优抚", "Veterans and entitled groups", I, "军" },
	{ "death", "身后事", "Death and after-life affairs", I, "后" },
	{ "agriculture", "农林牧渔", "Agriculture and rural affairs", I, "农" },
	{ "business_startup", "企业开办", "Starting a business", E, "企" },
	{ "business_operation", "经营许可与企业经营", "Business licensing and operation", E, "营" },
	{ "construction", "工程建设", "Construction projects", E, "建" },
	{ "tax", "税费办理", "Taxes and fees", E, "税" },
	{ "legal", "法律服务与权益保障", "Legal services and rights protection", I | E, "法" },
};
const size_t catalog_themes_n = ARRAY_LEN(catalog_themes);

#undef I
#undef E

const struct catalog_label catalog_ecerts[] = {
	{ "resident_id", "居民身份证", "Resident identity card" },
	{ "household_register", "居民户口簿", "Household register booklet (hukou)" },
	{ "marriage_cert", "结婚证", "Marriage certificate" },
	{ "divorce_cert", "离婚证", "Divorce certificate" },
	{ "birth_medical_cert", "出生医学证明", "Medical certificate of birth" },
	{ "business_license", "营业执照", "Business license" },
	{ "real_estate_cert", "不动产权证书", "Real estate title certificate" },
	{ "driver_license", "机动车驾驶证", "Motor vehicle driving licence" },
	{ "vehicle_license", "机动车行驶证", "Motor vehicle licence (registration card)" },
	{ "social_security_card", "社会保障卡", "Social security card" },
	{ "degree_cert", "学历学位证书", "Diploma and degree certificate" },
	{ "disability_cert", "残疾人证", "Disability certificate" },
	{ "residence_permit", "居住证", "Residence permit" },
	{ "food_business_license", "食品经营许可证", "Food business licence" },
	{ "construction_permit", "建筑工程施工许可证", "Construction permit" },
	{ "no_criminal_record", "无犯罪记录证明", "Certificate of no criminal record" },
	{ "veteran_card", "优待证", "Veteran preferential treatment card" },
};
const size_t catalog_ecerts_n = ARRAY_LEN(catalog_ecerts);

const struct catalog_label catalog_item_types[] = {
	{ "licensing", "行政许可", "Administrative licensing" },
	{ "confirmation", "行政确认", "Administrative confirmation" },
	{ "payment", "行政给付", "Administrative payment (benefits)" },
	{ "public_service", "公共服务", "Public service" },
	{ "other", "其他行政权力（备案、裁决、征收等）",
	  "Other administrative power (filing, adjudication, collection, etc.)" },
};
const size_t catalog_item_types_n = ARRAY_LEN(catalog_item_types);

static const char *const field_types[] = {
	"text", "textarea", "number", "date", "select", "id_number",
	"uscc", "phone", "email", "address", "file",
};

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
	for (size_t i = 0; type && i < ARRAY_LEN(field_types); i++)
		if (strcmp(field_types[i], type) == 0)
			return true;
	return false;
}
