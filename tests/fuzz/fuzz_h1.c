/* Fuzzes the HTTP/1.1 request parser (http/h1.c) as a connection would use it: a stream of
 * pipelined requests. The first byte picks the size of the pieces the rest is fed in; the
 * verdicts (each request's method, target, fields, body and keep-alive, or the error status)
 * must not depend on how the bytes were cut, and every limit must hold. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/sb.h"
#include "http/h1.h"

static const struct h1_limits lim = { .max_target = 256, .max_head = 1024, .max_fields = 16, .max_body = 4096 };

/* Parses the whole stream in pieces of step bytes; appends a transcript to out. */
static void run(const uint8_t *data, size_t size, size_t step, struct sb *out)
{
	struct h1 *h = h1_new(&lim);
	size_t off = 0, fed = 0;
	bool need = true; /* everything fed was taken: feed the next piece */
	for (int guard = 0; guard < 1000000; guard++) {
		if (need) {
			if (fed >= size)
				break;
			fed = fed + step < size ? fed + step : size;
		}
		need = false;
		size_t used;
		enum h1_status st = h1_feed(h, (const char *)data + off, fed - off, &used);
		if (used > fed - off)
			abort();
		off += used;
		if (st == H1_ERROR) {
			sb_addf(out, "E%d;", h1_error(h, NULL));
			break;
		}
		if (st == H1_HEAD) {
			const struct h1_request *q = h1_request(h);
			if (q->target_len > lim.max_target || q->nfields > lim.max_fields || strlen(q->target) != q->target_len)
				abort();
			continue;
		}
		if (st == H1_DONE) {
			const struct h1_request *q = h1_request(h);
			if (q->body_len > lim.max_body || q->body[q->body_len] != 0)
				abort();
			sb_addf(out, "%s %s %d %zu ka%d;", q->method, q->target, q->minor, q->body_len, q->keep_alive);
			for (size_t i = 0; i < q->nfields; i++) {
				sb_adds(out, q->fields[i].name);
				sb_addch(out, ':');
				sb_add(out, q->fields[i].value, q->fields[i].value_len);
				sb_addch(out, ';');
			}
			sb_add(out, q->body, q->body_len);
			if (!q->keep_alive)
				break;
			h1_next(h);
			continue;
		}
		/* H1_MORE: everything fed so far was taken. */
		if (off != fed)
			abort();
		need = true;
	}
	h1_free(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t step = data[0] ? data[0] : 1;
	struct sb whole = SB_INIT, pieces = SB_INIT;
	run(data + 1, size - 1, size, &whole);
	run(data + 1, size - 1, step, &pieces);
	if (whole.len != pieces.len || memcmp(whole.buf, pieces.buf, whole.len) != 0)
		abort();
	sb_release(&whole);
	sb_release(&pieces);
	return 0;
}
