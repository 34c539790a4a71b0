/* proxy.h: who the client is. Addresses and CIDR lists, the PROXY protocol (v1 text and v2
 * binary, HAProxy's proxy-protocol.txt) and X-Forwarded-For, believed only from configured
 * proxies.
 *
 * Invariants: every function here is pure (no I/O, no globals) and bounded by its input, so
 * each is fuzzed (tests/fuzz/fuzz_proxy.c). An IPv4 address is kept as IPv4 whether it came
 * as 1.2.3.4 or as ::ffff:1.2.3.4, so a client has one spelling in logs, rate limits and
 * security events. */
#ifndef GH_PROXY_H
#define GH_PROXY_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct net_addr {
	uint8_t family; /* 4, 6, or 0 = unknown */
	uint8_t a[16];  /* IPv4 in a[0..3] */
};

struct net_cidr {
	struct net_addr addr;
	unsigned bits;
};

/* Parses a numeric IPv4 or IPv6 address (no port, no brackets, no zone). 0 or -1. */
int net_addr_parse(const char *s, size_t len, struct net_addr *out);
/* From a socket address (AF_INET / AF_INET6; v4-mapped IPv6 becomes IPv4). 0 or -1. */
int net_addr_from_sockaddr(const struct sockaddr *sa, socklen_t len, struct net_addr *out);
/* The text form ("203.0.113.7", "2001:db8::1") into buf (at least 46 bytes). */
void net_addr_format(const struct net_addr *a, char *buf, size_t len);
bool net_addr_equal(const struct net_addr *x, const struct net_addr *y);
/* The key connections are counted under per client: the address, or its /64 for IPv6 (one
 * subscriber usually has a whole /64). */
struct net_addr net_addr_client_key(const struct net_addr *a);

/* Parses "10.0.0.0/8, 192.168.1.7, ::1, fd00::/8" (commas and/or spaces). A bare address is
 * a /32 or /128. *out is malloc'ed (NULL when the list is empty; free it). 0, or -1 with a
 * message in err naming the bad entry. */
int net_cidrs_parse(const char *list, struct net_cidr **out, size_t *n, char *err, size_t errlen);
bool net_cidrs_match(const struct net_cidr *v, size_t n, const struct net_addr *a);

/* PROXY protocol header at the start of a connection. */
enum proxy_result {
	PROXY_DONE,  /* *used bytes were the header; out filled */
	PROXY_MORE,  /* a valid beginning: read more (a header is at most 536 bytes) */
	PROXY_BAD,   /* not a PROXY header, or a malformed one */
};
struct proxy_info {
	bool local;          /* v2 LOCAL (a health check) or v1 UNKNOWN: use the peer's address */
	struct net_addr src; /* the client, when !local */
	uint16_t src_port;
};
#define PROXY_MAX_HEADER 536
enum proxy_result proxy_parse(const uint8_t *buf, size_t len, struct proxy_info *out, size_t *used);

/* The client named by X-Forwarded-For (all its headers joined with ',' in order), as seen from
 * a peer that is itself a trusted proxy: the rightmost entry that is not a trusted proxy. A
 * malformed entry ends the search (what lies left of it is not vouched for by anyone
 * trusted), as does running out of entries; then the last trusted entry passed is the
 * answer. Returns 0 with *out set, or -1 when the header names nobody (empty or malformed
 * rightmost entry): then the peer is the client. */
int xff_client(const char *xff, size_t len, const struct net_cidr *trusted, size_t n, struct net_addr *out);

#endif
