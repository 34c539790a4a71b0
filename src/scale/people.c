/* people.c: the identities of generated accounts, deterministic from an index, so a resumed
 * generation makes the same people again. Every number passes the hall's own checks
 * (identity/idcheck.h), which gen.c asserts. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/calendar.h"
#include "identity/idcheck.h"
#include "scale/scale.h"

static const char *const surnames[] = { "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周",
					 "徐", "孙", "马", "朱", "胡", "郭", "何", "林", "高", "罗" };
static const char *const given[] = { "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳",
				      "杰", "娟", "涛", "明", "超", "秀", "霞", "平", "刚", "桂", "英", "华",
				      "建", "文", "玲", "辉", "鹏", "宇", "欣", "婷", "晨", "浩", "雪", "琳" };
static const char *const regions[] = { "110101", "310104", "440305", "330106", "320102",
					"510107", "420106", "370102", "610113", "500103" };
static const char *const trades[] = { "科技", "商贸", "建筑", "餐饮", "物流", "医药", "教育", "文化", "农业", "机械" };

/* SplitMix64's finaliser: spreads consecutive indexes over the tables. */
static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

#define N(t) (sizeof(t) / sizeof((t)[0]))

void scale_person_name(uint64_t i, char *out, size_t len)
{
	uint64_t h = mix(i);
	const char *s = surnames[h % N(surnames)];
	const char *g1 = given[(h >> 8) % N(given)];
	if ((h >> 16) % 3 == 0)
		snprintf(out, len, "%s%s", s, g1);
	else
		snprintf(out, len, "%s%s%s", s, g1, given[(h >> 24) % N(given)]);
}

void scale_id_number(uint64_t i, char out[19])
{
	const char *region = regions[i % N(regions)];
	uint64_t j = i / N(regions);
	int32_t born = calendar_day(1950, 1, 1) + (int32_t)(j % 20000);
	unsigned seq = (unsigned)((j / 20000) % 1000);
	int y, m, d;
	calendar_ymd(born, &y, &m, &d);
	char first[18];
	snprintf(first, sizeof(first), "%s%04d%02d%02d%03u", region, y, m, d, seq);
	memcpy(out, first, 17);
	out[17] = idcheck_id_check_char(first);
	out[18] = 0;
}

void scale_phone(const char *prefix, uint64_t i, char out[12])
{
	snprintf(out, 12, "%.3s%08llu", prefix, (unsigned long long)(i % 100000000ull));
}

void scale_uscc(uint64_t i, char out[19])
{
	char first[18];
	char org[9];
	snprintf(org, sizeof(org), "%08llu", (unsigned long long)(i % 100000000ull));
	snprintf(first, sizeof(first), "91%s%s%c", regions[i % N(regions)], org, idcheck_orgcode_check_char(org));
	memcpy(out, first, 17);
	out[17] = idcheck_uscc_check_char(first);
	out[18] = 0;
}

void scale_company_name(uint64_t i, char *out, size_t len)
{
	char person[16];
	scale_person_name(i ^ 0x5555, person, sizeof(person));
	/* The founder's surname, a trade and a number keep names distinct. */
	snprintf(out, len, "清河%.3s%s%llu号有限公司", person, trades[mix(i) % N(trades)], (unsigned long long)i);
}
