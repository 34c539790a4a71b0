/* fee.c: applying an item's fee rule to an application's form (fee.h). */
#include "pay/fee.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/calendar.h"
#include "base/err.h"
#include "pay/proto.h"

int pay_age_on(const char *id, int32_t today)
{
	if (!id || strlen(id) != 18)
		return -1;
	int v[8];
	for (int i = 0; i < 8; i++) {
		char c = id[6 + i];
		if (c < '0' || c > '9')
			return -1;
		v[i] = c - '0';
	}
	int y = v[0] * 1000 + v[1] * 100 + v[2] * 10 + v[3], m = v[4] * 10 + v[5], d = v[6] * 10 + v[7];
	if (y < 1850 || m < 1 || m > 12 || d < 1 || d > 31)
		return -1;
	int ty, tm, td;
	calendar_ymd(today, &ty, &tm, &td);
	int age = ty - y - ((tm < m || (tm == m && td < d)) ? 1 : 0);
	return age < 0 ? -1 : age;
}

static const char *field(json_t *form, const char *key)
{
	return key ? json_string_value(json_object_get(form, key)) : NULL;
}

static int64_t int_of(json_t *o, const char *key, int64_t def)
{
	json_t *v = json_object_get(o, key);
	return json_is_integer(v) ? (int64_t)json_integer_value(v) : def;
}

/* Whether every condition of an exemption holds for the form. */
static bool exempt(json_t *when, json_t *form, int32_t today)
{
	if (!json_is_array(when) || json_array_size(when) == 0)
		return false;
	size_t i;
	json_t *c;
	json_array_foreach(when, i, c)
	{
		const char *v = field(form, json_string_value(json_object_get(c, "field")));
		json_t *eq = json_object_get(c, "equals"), *age = json_object_get(c, "age_at_least");
		if (json_is_string(eq)) {
			if (!v || strcmp(v, json_string_value(eq)) != 0)
				return false;
		} else if (json_is_integer(age)) {
			int years = pay_age_on(v, today);
			if (years < 0 || years < json_integer_value(age))
				return false;
		} else {
			return false;
		}
	}
	return true;
}

static const char *sdup(struct arena *a, json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return arena_strdup(a, s ? s : "");
}

/* Units from a number field's text: a whole count, rounded up, 0 for nothing or less. */
static int64_t units_of(const char *v, int64_t max)
{
	if (!v || !*v)
		return 0;
	char *end;
	double x = strtod(v, &end);
	if (end == v || *end || !isfinite(x) || x <= 0)
		return 0;
	if (x >= (double)max)
		return max;
	return (int64_t)ceil(x);
}

int pay_fee_assess(struct arena *a, const char *rule, const char *form_text, int32_t today, struct pay_assessment *out)
{
	*out = (struct pay_assessment){ 0 };
	json_t *r = json_loads(rule ? rule : "", JSON_REJECT_DUPLICATES, NULL);
	json_t *form = json_loads(form_text ? form_text : "{}", 0, NULL);
	int rc = GH_EINVAL;
	if (!json_is_object(r) || !json_is_object(form))
		goto out;
	const char *point = json_string_value(json_object_get(r, "point"));
	const char *bz = json_string_value(json_object_get(r, "basis_zh")), *be = json_string_value(json_object_get(r, "basis_en"));
	if (!point || (strcmp(point, "before_acceptance") && strcmp(point, "after_approval")) || !bz || !be)
		goto out;
	out->point = !strcmp(point, "before_acceptance") ? "before_acceptance" : "after_approval";
	out->basis_zh = arena_strdup(a, bz);
	out->basis_en = arena_strdup(a, be);
	json_t *fixed = json_object_get(r, "amount_fen"), *pu = json_object_get(r, "per_unit"),
	       *bo = json_object_get(r, "by_option");
	if ((fixed != NULL) + (pu != NULL) + (bo != NULL) != 1)
		goto out;
	int64_t gross;
	if (fixed) {
		if (pay_amount_get(fixed, &gross))
			goto out;
		out->how = "fixed";
	} else if (pu) {
		int64_t unit = int_of(pu, "unit_fen", -1), base = int_of(pu, "base_fen", 0), max = int_of(pu, "max_units", -1);
		if (unit < 1 || unit > PAY_AMOUNT_MAX || base < 0 || base > PAY_AMOUNT_MAX || max < 1 || max > 100000)
			goto out;
		out->units = units_of(field(form, json_string_value(json_object_get(pu, "field"))), max);
		gross = base + unit * out->units;
		if (gross > PAY_AMOUNT_MAX)
			gross = PAY_AMOUNT_MAX;
		out->how = "per_unit";
	} else {
		json_t *amounts = json_object_get(bo, "amounts_fen");
		if (!json_is_object(amounts))
			goto out;
		const char *v = field(form, json_string_value(json_object_get(bo, "field")));
		json_t *price = v ? json_object_get(amounts, v) : NULL;
		if (!price) {
			/* The catalog requires the field and prices every option: a value outside them is
			 * charged at the dearest option rather than let through free. */
			const char *k;
			json_t *p;
			gross = 0;
			json_object_foreach(amounts, k, p)
			{
				int64_t x;
				if (pay_amount_get(p, &x))
					goto out;
				if (x > gross)
					gross = x;
			}
		} else if (pay_amount_get(price, &gross)) {
			goto out;
		}
		out->how = "by_option";
	}
	out->gross = out->amount = gross;
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(r, "exemptions"), i, e)
	{
		if (exempt(json_object_get(e, "when"), form, today)) {
			out->amount = 0;
			out->exemption = sdup(a, e, "code");
			out->exemption_zh = sdup(a, e, "name_zh");
			out->exemption_en = sdup(a, e, "name_en");
			break;
		}
	}
	rc = 0;
out:
	json_decref(r);
	json_decref(form);
	return rc;
}
