/* http.h: one outgoing HTTP request, for the hall's calls to the payment gateway and the
 * simulator's notifications (libcurl; blocking: call from the job pool or a duty's thread,
 * never from an event loop). */
#ifndef GH_PAY_HTTP_H
#define GH_PAY_HTTP_H
#include <stddef.h>

struct pay_http_resp {
	long status;
	char *body;        /* malloc'd, NUL-terminated (may hold NULs); pay_http_resp_free */
	size_t len;
	char signature[200]; /* the Govpay-Signature answer header, "" when absent */
};

/* Sends method to url with headers (NULL-terminated list of "Name: value", may be NULL) and
 * body (may be NULL), giving up after timeout_ms in all. Bodies over max_resp bytes are cut
 * short and fail. 0 when an answer came (any status), GH_EUNAVAILABLE when none did (refused,
 * timed out, reset), with the reason in err. */
int pay_http(const char *method, const char *url, const char *const *headers, const char *body, size_t len,
	     long timeout_ms, size_t max_resp, struct pay_http_resp *out, char *err, size_t errlen);
void pay_http_resp_free(struct pay_http_resp *r);

#endif
