/* Fuzzes what names the client (http/proxy.c): the PROXY protocol header (v1 and v2), an
 * X-Forwarded-For value and a trusted-proxies list. A header that parses is never longer than
 * the input, and each of its prefixes asks for more. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/proxy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxy_info pi;
	size_t used;
	enum proxy_result r = proxy_parse(data, size, &pi, &used);
	if (r == PROXY_DONE) {
		if (used == 0 || used > size || used > PROXY_MAX_HEADER)
			abort();
		if (!pi.local && pi.src.family != 4 && pi.src.family != 6)
			abort();
		size_t u2;
		struct proxy_info p2;
		if (proxy_parse(data, used - 1, &p2, &u2) != PROXY_MORE)
			abort();
	}

	static struct net_cidr *trusted;
	static size_t ntrusted;
	if (!trusted) {
		char err[128];
		if (net_cidrs_parse("10.0.0.0/8, 127.0.0.1, fd00::/8", &trusted, &ntrusted, err, sizeof(err)))
			abort();
	}
	struct net_addr a;
	if (xff_client((const char *)data, size, trusted, ntrusted, &a) == 0) {
		char buf[64];
		net_addr_format(&a, buf, sizeof(buf));
		if (a.family != 4 && a.family != 6)
			abort();
	}

	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = 0;
	struct net_cidr *v;
	size_t n;
	char err[256];
	if (net_cidrs_parse(s, &v, &n, err, sizeof(err)) == 0) {
		for (size_t i = 0; i < n; i++)
			if (v[i].bits > (v[i].addr.family == 4 ? 32u : 128u))
				abort();
		free(v);
	}
	free(s);
	return 0;
}
