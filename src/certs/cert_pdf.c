/* cert_pdf.c: the printable rendition of a certificate — an A4 PDF drawn with cairo and pango
 * (Noto CJK, embedded as subsets by cairo), with a QR code (libqrencode) of the verification
 * URL and the certificate's hash, and the whole signed document embedded in the Keywords
 * metadata (CERT_PDF_MARK + base64url) so the PDF alone verifies, online or offline. Slow
 * (font loading, subsetting): called on the job pool only. Thread-safe: pango's cairo font
 * map is per thread, everything else is local. */
#include <cairo-pdf.h>
#include <cairo.h>
#include <pango/pangocairo.h>
#include <qrencode.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/sb.h"
#include "base/util.h"
#include "certs/certs_impl.h"
#include "view/view.h"

#define PAGE_W 595.0 /* A4 in points */
#define PAGE_H 842.0
#define MARGIN 56.0
#define LABEL_W 190.0            /* label column */
#define VALUE_X 205.0            /* values start here (from the margin) */
#define QR_SIZE 118.0
#define QR_Y (PAGE_H - 180.0)    /* top of the verification block; it ends above the border */

struct membuf {
	unsigned char *p;
	size_t len, cap;
	bool failed;
};

static cairo_status_t write_mem(void *closure, const unsigned char *data, unsigned int n)
{
	struct membuf *m = closure;
	if (m->len + n > m->cap) {
		size_t cap = m->cap ? m->cap : 65536;
		while (cap < m->len + n)
			cap *= 2;
		unsigned char *p = realloc(m->p, cap);
		if (!p) {
			m->failed = true;
			return CAIRO_STATUS_WRITE_ERROR;
		}
		m->p = p;
		m->cap = cap;
	}
	memcpy(m->p + m->len, data, n);
	m->len += n;
	return CAIRO_STATUS_SUCCESS;
}

/* Draws text (UTF-8, plain) at x,y in width w; returns the height used. */
static double text(cairo_t *cr, const char *font, double x, double y, double w, const char *s, PangoAlignment align)
{
	PangoLayout *l = pango_cairo_create_layout(cr);
	PangoFontDescription *fd = pango_font_description_from_string(font);
	pango_layout_set_font_description(l, fd);
	pango_layout_set_width(l, (int)(w * PANGO_SCALE));
	pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR);
	pango_layout_set_alignment(l, align);
	pango_layout_set_text(l, s ? s : "", -1);
	cairo_move_to(cr, x, y);
	pango_cairo_show_layout(cr, l);
	int pw, ph;
	pango_layout_get_size(l, &pw, &ph);
	pango_font_description_free(fd);
	g_object_unref(l);
	return (double)ph / PANGO_SCALE;
}

static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static void qr(cairo_t *cr, const char *payload, double x, double y, double size)
{
	QRcode *q = QRcode_encodeString(payload, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	if (!q)
		return;
	double quiet = 4, cell = size / (q->width + 2 * quiet);
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_rectangle(cr, x, y, size, size);
	cairo_fill(cr);
	cairo_set_source_rgb(cr, 0, 0, 0);
	for (int r = 0; r < q->width; r++)
		for (int c = 0; c < q->width; c++)
			if (q->data[r * q->width + c] & 1)
				cairo_rectangle(cr, x + (c + quiet) * cell, y + (r + quiet) * cell, cell, cell);
	cairo_fill(cr);
	QRcode_free(q);
}

/* The catalog's words for key in both languages: "持证人 Holder", into sb (reset first). */
static const char *both(struct sb *sb, const struct view *v, const char *key)
{
	sb_reset(sb);
	sb_addf(sb, "%s %s", view_msg(v, "zh", key), view_msg(v, "en", key));
	return sb->buf;
}

/* A drawing context on s with the page's red border of the given width drawn. */
static cairo_t *bordered(cairo_surface_t *s, double width)
{
	cairo_t *cr = cairo_create(s);
	cairo_set_source_rgb(cr, 0.62, 0.11, 0.11);
	cairo_set_line_width(cr, width);
	cairo_rectangle(cr, 28, 28, PAGE_W - 56, PAGE_H - 56);
	cairo_stroke(cr);
	return cr;
}

/* Embeds the JSON document doc in the PDF's keywords after mark (base64url, no padding):
 * certs_pdf_embedded reads it back. */
static void embed(cairo_surface_t *s, const char *mark, const char *doc)
{
	size_t dl = strlen(doc), ml = strlen(mark);
	size_t cap = sodium_base64_ENCODED_LEN(dl, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	char *kw = xmalloc(ml + cap);
	memcpy(kw, mark, ml);
	sodium_bin2base64(kw + ml, cap, (const unsigned char *)doc, dl, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_KEYWORDS, kw);
	free(kw);
}

int cert_pdf_render(const char *doc_json, const struct view *v, unsigned char **pdf, size_t *len)
{
	/* The certificate is bilingual whatever the reader's language. */
	json_t *doc = json_loads(doc_json, 0, NULL);
	json_t *c = json_object_get(doc, "certificate");
	if (!json_is_object(c)) {
		json_decref(doc);
		return GH_EINTERNAL;
	}
	struct membuf m = { 0 };
	cairo_surface_t *s = cairo_pdf_surface_create_for_stream(write_mem, &m, PAGE_W, PAGE_H);
	json_t *tn = json_object_get(c, "cert_type_name");
	struct sb title = SB_INIT;
	sb_addf(&title, "%s %s", jstr(tn, "zh"), jstr(c, "number"));
	cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_TITLE, title.buf ? title.buf : "");
	cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATOR, "govhall");
	struct sb line = SB_INIT;
	cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_SUBJECT, both(&line, v, N_("certs_pdf_subject")));
	/* The signed document itself, for verification from the file alone. */
	embed(s, CERT_PDF_MARK, doc_json);

	/* A border like a printed certificate's. */
	cairo_t *cr = bordered(s, 3);
	double w = PAGE_W - 2 * MARGIN, y = MARGIN;
	cairo_set_line_width(cr, 0.8);
	cairo_rectangle(cr, 34, 34, PAGE_W - 68, PAGE_H - 68);
	cairo_stroke(cr);

	cairo_set_source_rgb(cr, 0.62, 0.11, 0.11);
	y += text(cr, "Noto Serif CJK SC Bold 26", MARGIN, y, w, jstr(tn, "zh"), PANGO_ALIGN_CENTER);
	y += text(cr, "Noto Sans CJK SC 13", MARGIN, y, w, jstr(tn, "en"), PANGO_ALIGN_CENTER) + 6;
	cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
	both(&line, v, N_("certs_pdf_number"));
	sb_addf(&line, "  %s", jstr(c, "number"));
	y += text(cr, "Noto Sans CJK SC 11", MARGIN, y, w, line.buf, PANGO_ALIGN_CENTER) + 12;

	json_t *h = json_object_get(c, "holder"), *iss = json_object_get(c, "issuer"), *item = json_object_get(c, "item");
	struct {
		const char *label, *value; /* label: a message key, NULL for none */
	} rows[] = {
		{ N_("certs_pdf_holder"), jstr(h, "name") },
		{ N_("certs_pdf_id"), jstr(h, "id_masked") },
		{ N_("certs_pdf_issuer"), jstr(iss, "name_zh") },
		{ NULL, jstr(iss, "name_en") },
		{ N_("certs_pdf_issued_on"), jstr(c, "issued_on") },
		{ N_("certs_pdf_service"), jstr(item, "name_zh") },
		{ N_("certs_pdf_application"), jstr(c, "application") },
	};
	struct sb label = SB_INIT;
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		if (!*rows[i].value)
			continue;
		const char *l = rows[i].label ? both(&label, v, rows[i].label) : "";
		double lh = text(cr, "Noto Sans CJK SC 10", MARGIN + 10, y + 1, LABEL_W, l, PANGO_ALIGN_LEFT);
		double vh = text(cr, "Noto Serif CJK SC 12", MARGIN + VALUE_X, y, w - VALUE_X - 10, rows[i].value, PANGO_ALIGN_LEFT);
		y += (lh > vh ? lh : vh) + 3;
	}
	json_t *content = json_object_get(c, "content");
	if (json_array_size(content)) {
		y += 8;
		cairo_set_source_rgb(cr, 0.62, 0.11, 0.11);
		y += text(cr, "Noto Sans CJK SC Bold 11", MARGIN + 10, y, w, both(&label, v, N_("certs_pdf_particulars")),
			  PANGO_ALIGN_LEFT) + 4;
		cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
		size_t i;
		json_t *f;
		json_array_foreach(content, i, f)
		{
			if (y > QR_Y - 24) {
				/* the rest is in the embedded document and on the verification page */
				text(cr, "Noto Sans CJK SC 8", MARGIN + 10, y, w, both(&label, v, N_("certs_pdf_more")), PANGO_ALIGN_LEFT);
				break;
			}
			sb_reset(&line);
			sb_addf(&line, "%s %s", jstr(f, "label_zh"), jstr(f, "label_en"));
			double lh = text(cr, "Noto Sans CJK SC 9", MARGIN + 10, y + 1, LABEL_W, line.buf, PANGO_ALIGN_LEFT);
			sb_reset(&line);
			sb_adds(&line, jstr(f, "value"));
			if (*jstr(f, "value_en"))
				sb_addf(&line, " (%s)", jstr(f, "value_en"));
			double vh = text(cr, "Noto Serif CJK SC 11", MARGIN + VALUE_X, y, w - VALUE_X - 10, line.buf, PANGO_ALIGN_LEFT);
			y += (lh > vh ? lh : vh) + 3;
		}
	}

	/* The verification block: QR code of the URL with the hash, and the same in words. */
	double qs = QR_SIZE, qy = QR_Y;
	sb_reset(&line);
	sb_addf(&line, "%s?h=%s", jstr(c, "verify_url"), jstr(doc, "hash"));
	qr(cr, line.buf, PAGE_W - MARGIN - qs, qy, qs);
	cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
	double ty = qy;
	ty += text(cr, "Noto Sans CJK SC Bold 10", MARGIN + 10, ty, w - qs - 30, both(&label, v, N_("certs_pdf_scan")),
		   PANGO_ALIGN_LEFT) + 4;
	ty += text(cr, "DejaVu Sans Mono 6.5", MARGIN + 10, ty, w - qs - 30, line.buf, PANGO_ALIGN_LEFT) + 5;
	json_t *sig = json_object_get(doc, "signature"), *log = json_object_get(doc, "log");
	bool logged = json_is_integer(json_object_get(log, "leaf_index"));
	struct arena *a = arena_new(1024);
	const struct msg_arg args[] = { MA("key_id", jstr(sig, "key_id")),
					MA("leaf", (long long)json_integer_value(json_object_get(log, "leaf_index"))) };
	const char *how = logged ? N_("certs_pdf_signed_logged") : N_("certs_pdf_signed");
	ty += text(cr, "Noto Sans CJK SC 7.5", MARGIN + 10, ty, w - qs - 30, view_fmt(v, "zh", a, how, args, ARRAY_LEN(args)),
		   PANGO_ALIGN_LEFT) + 2;
	text(cr, "Noto Sans CJK SC 7.5", MARGIN + 10, ty, w - qs - 30, view_fmt(v, "en", a, how, args, ARRAY_LEN(args)),
	     PANGO_ALIGN_LEFT);
	arena_free(a);
	sb_release(&label);

	cairo_show_page(cr);
	cairo_destroy(cr);
	cairo_surface_finish(s);
	cairo_status_t st = cairo_surface_status(s);
	cairo_surface_destroy(s);
	sb_release(&line);
	sb_release(&title);
	json_decref(doc);
	if (st != CAIRO_STATUS_SUCCESS || m.failed) {
		free(m.p);
		return GH_EINTERNAL;
	}
	*pdf = m.p;
	*len = m.len;
	return 0;
}

/* ---- sheets of other domains' documents (certs.h certs_sheet_pdf) ------------------------ */

int certs_sheet_pdf(const struct certs_sheet *sh, unsigned char **pdf, size_t *len)
{
	struct membuf m = { 0 };
	cairo_surface_t *s = cairo_pdf_surface_create_for_stream(write_mem, &m, PAGE_W, PAGE_H);
	struct sb line = SB_INIT;
	sb_addf(&line, "%s %s", sh->title_zh ? sh->title_zh : "", sh->subtitle ? sh->subtitle : "");
	cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_TITLE, line.buf);
	cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATOR, "govhall");
	cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_SUBJECT, sh->subject ? sh->subject : "");
	if (sh->mark && sh->document)
		embed(s, sh->mark, sh->document);
	cairo_t *cr = bordered(s, 1.5);
	double w = PAGE_W - 2 * MARGIN, y = MARGIN;
	y += text(cr, "Noto Serif CJK SC Bold 24", MARGIN, y, w, sh->title_zh, PANGO_ALIGN_CENTER);
	y += text(cr, "Noto Sans CJK SC 12", MARGIN, y, w, sh->title_en, PANGO_ALIGN_CENTER) + 4;
	cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
	if (sh->subtitle)
		y += text(cr, "Noto Sans CJK SC 11", MARGIN, y, w, sh->subtitle, PANGO_ALIGN_CENTER);
	y += 16;
	for (size_t i = 0; i < sh->nrows; i++) {
		if (y > QR_Y - 24)
			break; /* the rest is in the embedded document */
		const char *v = sh->rows[i].value ? sh->rows[i].value : "";
		double lh = text(cr, "Noto Sans CJK SC 10", MARGIN + 10, y + 1, LABEL_W, sh->rows[i].label, PANGO_ALIGN_LEFT);
		double vh = text(cr, "Noto Serif CJK SC 12", MARGIN + VALUE_X, y, w - VALUE_X - 10, v, PANGO_ALIGN_LEFT);
		y += (lh > vh ? lh : vh) + 4;
	}
	double qs = QR_SIZE, qy = QR_Y, ty = qy;
	if (sh->qr)
		qr(cr, sh->qr, PAGE_W - MARGIN - qs, qy, qs);
	cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
	if (sh->qr_caption)
		ty += text(cr, "Noto Sans CJK SC Bold 10", MARGIN + 10, ty, w - qs - 30, sh->qr_caption, PANGO_ALIGN_LEFT) + 4;
	if (sh->qr)
		ty += text(cr, "DejaVu Sans Mono 6.5", MARGIN + 10, ty, w - qs - 30, sh->qr, PANGO_ALIGN_LEFT) + 5;
	if (sh->note_zh)
		ty += text(cr, "Noto Sans CJK SC 7.5", MARGIN + 10, ty, w - qs - 30, sh->note_zh, PANGO_ALIGN_LEFT) + 2;
	if (sh->note_en)
		text(cr, "Noto Sans CJK SC 7.5", MARGIN + 10, ty, w - qs - 30, sh->note_en, PANGO_ALIGN_LEFT);
	cairo_show_page(cr);
	cairo_destroy(cr);
	cairo_surface_finish(s);
	cairo_status_t st = cairo_surface_status(s);
	cairo_surface_destroy(s);
	sb_release(&line);
	if (st != CAIRO_STATUS_SUCCESS || m.failed) {
		free(m.p);
		return GH_EINTERNAL;
	}
	*pdf = m.p;
	*len = m.len;
	return 0;
}

/* ---- long documents on as many pages as they take (certs.h certs_book_render) ------------ */

#define BOOK_BOTTOM (PAGE_H - MARGIN - 14.0) /* the page number sits below */

struct book {
	cairo_surface_t *s;
	cairo_t *cr;
	double y;
	int page;
};

static void book_page_end(struct book *b)
{
	char no[24];
	snprintf(no, sizeof(no), "- %d -", b->page);
	cairo_set_source_rgb(b->cr, 0.35, 0.35, 0.35);
	text(b->cr, "Noto Sans CJK SC 8", MARGIN, PAGE_H - MARGIN, PAGE_W - 2 * MARGIN, no, PANGO_ALIGN_CENTER);
	cairo_show_page(b->cr);
}

/* A layout of s in font, w points wide (the caller unrefs it); *h its height. */
static PangoLayout *book_layout(struct book *b, const char *font, double w, const char *s, double *h)
{
	PangoLayout *l = pango_cairo_create_layout(b->cr);
	PangoFontDescription *fd = pango_font_description_from_string(font);
	pango_layout_set_font_description(l, fd);
	pango_font_description_free(fd);
	pango_layout_set_width(l, (int)(w * PANGO_SCALE));
	pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR);
	pango_layout_set_text(l, s ? s : "", -1);
	int pw, ph;
	pango_layout_get_size(l, &pw, &ph);
	*h = (double)ph / PANGO_SCALE;
	return l;
}

/* Starts a new page unless h more points fit on this one. */
static void book_room(struct book *b, double h)
{
	if (b->y + h <= BOOK_BOTTOM || b->y <= MARGIN)
		return;
	book_page_end(b);
	b->page++;
	b->y = MARGIN;
}

/* Draws s as a paragraph across the page, on a new page if it does not fit; advances. */
static void book_text(struct book *b, const char *font, double grey, const char *s, double after)
{
	double h;
	PangoLayout *l = book_layout(b, font, PAGE_W - 2 * MARGIN, s, &h);
	book_room(b, h);
	cairo_set_source_rgb(b->cr, grey, grey, grey);
	cairo_move_to(b->cr, MARGIN, b->y);
	pango_cairo_show_layout(b->cr, l);
	g_object_unref(l);
	b->y += h + after;
}

/* One record: its label/value pairs in two columns, kept on one page when it fits. */
static void book_record(struct book *b, json_t *pairs)
{
	double lw = 130, vx = MARGIN + lw + 10, vw = PAGE_W - MARGIN - vx, total = 0;
	size_t i, n = json_array_size(pairs);
	PangoLayout **ls = xcalloc(2 * n + 1, sizeof(*ls));
	double *hs = xcalloc(n + 1, sizeof(*hs));
	for (i = 0; i < n; i++) {
		json_t *p = json_array_get(pairs, i);
		double lh, vh;
		ls[2 * i] = book_layout(b, "Noto Sans CJK SC 8.5", lw, jstr(p, "label"), &lh);
		ls[2 * i + 1] = book_layout(b, "Noto Sans CJK SC 9.5", vw, jstr(p, "value"), &vh);
		hs[i] = (lh > vh ? lh : vh) + 2;
		total += hs[i];
	}
	book_room(b, total < BOOK_BOTTOM - MARGIN ? total + 6 : hs[0]);
	cairo_set_source_rgb(b->cr, 0.75, 0.75, 0.75);
	cairo_set_line_width(b->cr, 0.5);
	cairo_move_to(b->cr, MARGIN, b->y);
	cairo_line_to(b->cr, PAGE_W - MARGIN, b->y);
	cairo_stroke(b->cr);
	b->y += 4;
	for (i = 0; i < n; i++) {
		book_room(b, hs[i]);
		cairo_set_source_rgb(b->cr, 0.3, 0.3, 0.3);
		cairo_move_to(b->cr, MARGIN, b->y + 1);
		pango_cairo_show_layout(b->cr, ls[2 * i]);
		cairo_set_source_rgb(b->cr, 0, 0, 0);
		cairo_move_to(b->cr, vx, b->y);
		pango_cairo_show_layout(b->cr, ls[2 * i + 1]);
		b->y += hs[i];
		g_object_unref(ls[2 * i]);
		g_object_unref(ls[2 * i + 1]);
	}
	b->y += 2;
	free(ls);
	free(hs);
}

int certs_book_render(const char *doc_json, const struct view *v, unsigned char **pdf, size_t *len)
{
	(void)v;
	json_t *doc = json_loads(doc_json, 0, NULL);
	if (!doc)
		return GH_EINTERNAL;
	struct membuf m = { 0 };
	struct book b = { .s = cairo_pdf_surface_create_for_stream(write_mem, &m, PAGE_W, PAGE_H), .y = MARGIN, .page = 1 };
	cairo_pdf_surface_set_metadata(b.s, CAIRO_PDF_METADATA_TITLE, jstr(doc, "title"));
	cairo_pdf_surface_set_metadata(b.s, CAIRO_PDF_METADATA_CREATOR, "govhall");
	b.cr = cairo_create(b.s);
	book_text(&b, "Noto Sans CJK SC Bold 18", 0, jstr(doc, "title"), 4);
	book_text(&b, "Noto Sans CJK SC 9.5", 0.2, jstr(doc, "subtitle"), 14);
	size_t i, k;
	json_t *sec, *rec;
	json_array_foreach(json_object_get(doc, "sections"), i, sec) {
		book_room(&b, 60); /* a heading is not left alone at the foot of a page */
		book_text(&b, "Noto Sans CJK SC Bold 13", 0, jstr(sec, "title"), 2);
		book_text(&b, "Noto Sans CJK SC 8.5", 0.3, jstr(sec, "note"), 6);
		json_array_foreach(json_object_get(sec, "records"), k, rec)
			book_record(&b, rec);
		b.y += 10;
	}
	book_page_end(&b);
	cairo_destroy(b.cr);
	cairo_surface_finish(b.s);
	cairo_status_t st = cairo_surface_status(b.s);
	cairo_surface_destroy(b.s);
	json_decref(doc);
	if (st != CAIRO_STATUS_SUCCESS || m.failed) {
		free(m.p);
		return GH_EINTERNAL;
	}
	*pdf = m.p;
	*len = m.len;
	return 0;
}
