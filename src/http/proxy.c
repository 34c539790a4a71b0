/* proxy.c: client addresses through trusted proxies (see proxy.h). */
#include "http/proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

static const uint8_t v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

static void from_v6(const uint8_t b[16], struct net_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (memcmp(b, v4_mapped, 12) == 0) {
		out->family = 4;
		memcpy(out->a, b + 12, 4);
	} else {
		out->family = 6;
		memcpy(out->a, b, 16);
	}
}

int net_addr_parse(const char *s, size_t len, struct net_addr *out)
{
	char buf[64];
	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = 0;
	if (memchr(buf, 0, len))
		return -1;
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, buf, out->a) == 1) {
		out->family = 4;
		return 0;
	}
	uint8_t b[16];
	if (inet_pton(AF_INET6, buf, b) == 1) {
		from_v6(b, out);
		return 0;
	}
	return -1;
}

int net_addr_from_sockaddr(const struct sockaddr *sa, socklen_t len, struct net_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		out->family = 4;
		memcpy(out->a, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		from_v6((const uint8_t *)&((const struct sockaddr_in6 *)sa)->sin6_addr, out);
		return 0;
	}
	return -1;
}

void net_addr_format(const struct net_addr *a, char *buf, size_t len)
{
	if (!len)
		return;
	if ((a->family != 4 && a->family != 6) ||
	    !inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->a, buf, (socklen_t)len))
		snprintf(buf, len, "-");
}

bool net_addr_equal(const struct net_addr *x, const struct net_addr *y)
{
	return x->family == y->family && memcmp(x->a, y->a, x->family == 4 ? 4 : 16) == 0;
}

struct net_addr net_addr_client_key(const struct net_addr *a)
{
	struct net_addr k = *a;
	if (k.family == 6)
		memset(k.a + 8, 0, 8);
	return k;
}

static bool prefix_match(const struct net_addr *net, unsigned bits, const struct net_addr *a)
{
	if (net->family != a->family)
		return false;
	unsigned full = bits / 8, rest = bits % 8;
	if (memcmp(net->a, a->a, full) != 0)
		return false;
	if (!rest)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (net->a[full] & mask) == (a->a[full] & mask);
}

bool net_cidrs_match(const struct net_cidr *v, size_t n, const struct net_addr *a)
{
	for (size_t i = 0; i < n; i++)
		if (prefix_match(&v[i].addr, v[i].bits, a))
			return true;
	return false;
}

int net_cidrs_parse(const char *list, struct net_cidr **out, size_t *n, char *err, size_t errlen)
{
	*out = NULL;
	*n = 0;
	size_t cap = 0;
	const char *p = list ? list : "";
	while (*p) {
		p += strspn(p, " ,\t");
		size_t len = strcspn(p, " ,\t");
		if (!len)
			break;
		const char *slash = memchr(p, '/', len);
		size_t alen = slash ? (size_t)(slash - p) : len;
		struct net_cidr c;
		long bits = -1;
		int bad = net_addr_parse(p, alen, &c.addr);
		if (!bad && slash) {
			char *end;
			char num[8];
			size_t bl = len - alen - 1;
			if (bl == 0 || bl >= sizeof(num) || strspn(slash + 1, "0123456789") < bl) {
				bad = 1;
			} else {
				memcpy(num, slash + 1, bl);
				num[bl] = 0;
				bits = strtol(num, &end, 10);
			}
		}
		unsigned max = c.addr.family == 4 ? 32 : 128;
		/* "::ffff:10.0.0.0/104" names IPv4 addresses: their prefix counts from the IPv4 part. */
		if (!bad && slash && c.addr.family == 4 && memchr(p, ':', alen))
			bits -= 96;
		if (bad || (slash && (bits < 0 || bits > (long)max))) {
			snprintf(err, errlen, "'%.*s' is not an address or a CIDR (e.g. 10.0.0.0/8 or fd00::/8)", (int)len, p);
			free(*out);
			*out = NULL;
			*n = 0;
			return -1;
		}
		c.bits = slash ? (unsigned)bits : max;
		if (*n == cap) {
			cap = cap ? cap * 2 : 4;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		(*out)[(*n)++] = c;
		p += len;
	}
	return 0;
}

/* ---- PROXY protocol ---- */

static const uint8_t v2_sig[12] = { 0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A };

/* A decimal port without sign or leading zeros, 0..65535. */
static int parse_port(const char *s, size_t len, uint16_t *out)
{
	if (len == 0 || len > 5 || (len > 1 && s[0] == '0'))
		return -1;
	unsigned v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

/* "PROXY TCP4 src dst sport dport\r\n" (at most 107 bytes with the CRLF). */
static enum proxy_result parse_v1(const uint8_t *buf, size_t len, struct proxy_info *out, size_t *used)
{
	const size_t max = 107;
	const uint8_t *crlf = NULL;
	for (size_t i = 0; i < len && i + 1 < max; i++)
		if (buf[i] == '\r') {
			if (i + 1 == len)
				return PROXY_MORE;
			if (buf[i + 1] != '\n')
				return PROXY_BAD;
			crlf = buf + i;
			break;
		} else if (buf[i] == '\n' || buf[i] == 0) {
			return PROXY_BAD;
		}
	if (!crlf)
		return len >= max ? PROXY_BAD : PROXY_MORE;
	const char *line = (const char *)buf;
	size_t n = (size_t)(crlf - buf);
	if (n >= 13 && memcmp(line, "PROXY UNKNOWN", 13) == 0) {
		/* "PROXY UNKNOWN" and anything up to the CRLF: the receiver uses the real peer. */
		memset(out, 0, sizeof(*out));
		out->local = true;
		*used = n + 2;
		return PROXY_DONE;
	}
	/* Five fields after "PROXY", each separated by exactly one space. */
	const char *f[6];
	size_t fl[6], k = 0;
	const char *p = line, *end = line + n;
	while (p < end && k < 6) {
		const char *sp = memchr(p, ' ', (size_t)(end - p));
		size_t l = sp ? (size_t)(sp - p) : (size_t)(end - p);
		if (l == 0)
			return PROXY_BAD;
		f[k] = p;
		fl[k++] = l;
		p += l + (sp ? 1 : 0);
		if (sp && p == end)
			return PROXY_BAD; /* a trailing space */
	}
	if (k != 6 || p != end || fl[0] != 5 || memcmp(f[0], "PROXY", 5) != 0 || fl[1] != 4)
		return PROXY_BAD;
	int fam;
	if (memcmp(f[1], "TCP4", 4) == 0)
		fam = 4;
	else if (memcmp(f[1], "TCP6", 4) == 0)
		fam = 6;
	else
		return PROXY_BAD;
	struct net_addr src, dst;
	uint16_t sport, dport;
	/* TCP6 names IPv6 addresses; a v4-mapped one is still IPv6 text, and fine. */
	if (net_addr_parse(f[2], fl[2], &src) || net_addr_parse(f[3], fl[3], &dst) ||
	    (fam == 4 && (src.family != 4 || dst.family != 4 || memchr(f[2], ':', fl[2]) || memchr(f[3], ':', fl[3]))) ||
	    (fam == 6 && (!memchr(f[2], ':', fl[2]) || !memchr(f[3], ':', fl[3]))) ||
	    parse_port(f[4], fl[4], &sport) || parse_port(f[5], fl[5], &dport))
		return PROXY_BAD;
	memset(out, 0, sizeof(*out));
	out->src = src;
	out->src_port = sport;
	*used = n + 2;
	return PROXY_DONE;
}

static enum proxy_result parse_v2(const uint8_t *buf, size_t len, struct proxy_info *out, size_t *used)
{
	if (len < 16)
		return PROXY_MORE;
	uint8_t ver = buf[12] >> 4, cmd = buf[12] & 0x0f, fam = buf[13] >> 4, proto = buf[13] & 0x0f;
	size_t body = ((size_t)buf[14] << 8) | buf[15];
	if (ver != 2 || cmd > 1 || fam > 3 || proto > 2 || 16 + body > PROXY_MAX_HEADER)
		return PROXY_BAD;
	if (len < 16 + body)
		return PROXY_MORE;
	memset(out, 0, sizeof(*out));
	*used = 16 + body;
	const uint8_t *a = buf + 16;
	if (cmd == 0) { /* LOCAL: the proxy's own connection (health checks) */
		out->local = true;
		return PROXY_DONE;
	}
	if (fam == 1) { /* INET: src, dst, sport, dport */
		if (body < 12 || proto != 1)
			return PROXY_BAD;
		out->src.family = 4;
		memcpy(out->src.a, a, 4);
		out->src_port = (uint16_t)((a[8] << 8) | a[9]);
		return PROXY_DONE;
	}
	if (fam == 2) {
		if (body < 36 || proto != 1)
			return PROXY_BAD;
		from_v6(a, &out->src);
		out->src_port = (uint16_t)((a[32] << 8) | a[33]);
		return PROXY_DONE;
	}
	/* UNSPEC or UNIX: nothing we can name a client by; the peer stands for it. */
	if (fam == 3 && body < 216)
		return PROXY_BAD;
	out->local = true;
	return PROXY_DONE;
}

enum proxy_result proxy_parse(const uint8_t *buf, size_t len, struct proxy_info *out, size_t *used)
{
	static const char v1[] = "PROXY ";
	*used = 0;
	if (len == 0)
		return PROXY_MORE;
	size_t k = len < 12 ? len : 12;
	if (memcmp(buf, v2_sig, k) == 0)
		return len < 12 ? PROXY_MORE : parse_v2(buf, len, out, used);
	k = len < 6 ? len : 6;
	if (memcmp(buf, v1, k) == 0)
		return len < 6 ? PROXY_MORE : parse_v1(buf, len, out, used);
	return PROXY_BAD;
}

/* ---- X-Forwarded-For ---- */

int xff_client(const char *xff, size_t len, const struct net_cidr *trusted, size_t n, struct net_addr *out)
{
	bool any = false;
	size_t end = len;
	while (end > 0) {
		size_t start = end;
		while (start > 0 && xff[start - 1] != ',')
			start--;
		size_t a = start, b = end;
		while (a < b && (xff[a] == ' ' || xff[a] == '\t'))
			a++;
		while (b > a && (xff[b - 1] == ' ' || xff[b - 1] == '\t'))
			b--;
		end = start ? start - 1 : 0;
		if (a == b) {
			if (!start)
				break;
			continue; /* an empty list element */
		}
		struct net_addr x;
		if (net_addr_parse(xff + a, b - a, &x))
			break;
		*out = x;
		any = true;
		if (!net_cidrs_match(trusted, n, &x))
			return 0;
		if (!start)
			break;
	}
	return any ? 0 : -1;
}
