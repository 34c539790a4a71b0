/* client.c: one outgoing HTTP request with libcurl (client.h). */
#include "http/client.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/err.h"
#include "base/sb.h"
#include "base/util.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init_once(void)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		die("curl_global_init failed");
}

struct sink {
	struct sb body;
	size_t max;
	bool over;
	const char *capture; /* "Name:" or NULL */
	char *captured;
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;
	size_t k = size * n;
	if (s->body.len + k > s->max) {
		s->over = true;
		return 0; /* aborts the transfer */
	}
	sb_add(&s->body, p, k);
	return k;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;
	size_t k = size * n;
	size_t nl = s->capture ? strlen(s->capture) : 0;
	if (nl && k > nl && strncasecmp(p, s->capture, nl) == 0) {
		const char *v = p + nl;
		size_t vl = k - nl;
		while (vl && (*v == ' ' || *v == '\t'))
			v++, vl--;
		while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
			vl--;
		if (vl < 200) {
			memcpy(s->captured, v, vl);
			s->captured[vl] = 0;
		}
	}
	return k;
}

int http_client(const char *method, const char *url, const char *const *headers, const char *body, size_t len,
		long timeout_ms, size_t max_resp, const char *capture, struct http_client_resp *out, char *err,
		size_t errlen)
{
	pthread_once(&once, init_once);
	*out = (struct http_client_resp){ 0 };
	CURL *c = curl_easy_init();
	if (!c) {
		snprintf(err, errlen, "curl_easy_init failed");
		return GH_EUNAVAILABLE;
	}
	char name[64];
	snprintf(name, sizeof(name), "%s:", capture ? capture : "");
	struct sink s = { .body = SB_INIT, .max = max_resp, .capture = capture ? name : NULL, .captured = out->captured };
	char cerr[CURL_ERROR_SIZE] = "";
	struct curl_slist *h = NULL;
	for (size_t i = 0; headers && headers[i]; i++)
		h = curl_slist_append(h, headers[i]);
	h = curl_slist_append(h, "Expect:");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "govhall/" GOVHALL_VERSION);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &s);
	if (!strcmp(method, "POST")) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? len : 0));
	} else if (strcmp(method, "GET") != 0) {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	}
	CURLcode cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	if (cc != CURLE_OK || s.over) {
		snprintf(err, errlen, "%s", s.over ? "answer too large" : (*cerr ? cerr : curl_easy_strerror(cc)));
		sb_release(&s.body);
		out->status = 0;
		return GH_EUNAVAILABLE;
	}
	out->body = sb_detach(&s.body, &out->len);
	return 0;
}

void http_client_resp_free(struct http_client_resp *r)
{
	free(r->body);
	r->body = NULL;
	r->len = 0;
}
