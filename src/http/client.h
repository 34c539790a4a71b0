/* client.h: one outgoing HTTP request, for the hall's calls to other services (the payment
 * gateway, the simulator's notifications, the national hub) (libcurl; blocking: call from the
 * job pool or a duty's thread, never from an event loop). */
#ifndef GH_HTTP_CLIENT_H
#define GH_HTTP_CLIENT_H
#include <stddef.h>

struct http_client_resp {
	long status;
	char *body;        /* malloc'd, NUL-terminated (may hold NULs); http_client_resp_free */
	size_t len;
	char captured[200]; /* the answer header named by capture, "" when absent or longer */
};

/* Sends method to url with headers (NULL-terminated list of "Name: value", may be NULL) and
 * body (may be NULL), giving up after timeout_ms in all. Bodies over max_resp bytes are cut
 * short and fail. capture (may be NULL) names one answer header field whose value is kept. 0 when an answer came (any status), GH_EUNAVAILABLE when none did (refused,
 * timed out, reset), with the reason in err. */
int http_client(const char *method, const char *url, const char *const *headers, const char *body, size_t len,
		long timeout_ms, size_t max_resp, const char *capture, struct http_client_resp *out, char *err,
		size_t errlen);
void http_client_resp_free(struct http_client_resp *r);

#endif
