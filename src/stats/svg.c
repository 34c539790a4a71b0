/* svg.c: server-rendered charts. Each chart is an <svg role="img"> whose <title> and <desc>
 * (referenced by aria-labelledby) say what it shows; the numbers themselves are in a table
 * beside it on the page, so the chart is never the only way to read them. Series differ by
 * dash pattern and marker as well as colour. All text is escaped here. */
#include <math.h>
#include <string.h>

#include "base/sb.h"
#include "stats/stats_impl.h"

static void text(struct sb *out, const char *s)
{
	sb_add_html(out, s ? s : "", s ? strlen(s) : 0);
}

static void open_svg(struct sb *out, const char *id, const char *title, const char *desc, double w, double h)
{
	sb_addf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" role=\"img\" viewBox=\"0 0 %.0f %.0f\" "
		     "width=\"100%%\" preserveAspectRatio=\"xMinYMin meet\" aria-labelledby=\"",
		w, h);
	text(out, id);
	sb_adds(out, "-title ");
	text(out, id);
	sb_adds(out, "-desc\"><title id=\"");
	text(out, id);
	sb_adds(out, "-title\">");
	text(out, title);
	sb_adds(out, "</title><desc id=\"");
	text(out, id);
	sb_adds(out, "-desc\">");
	text(out, desc);
	sb_adds(out, "</desc>");
}

/* A round number at least v (1, 2, 5 × 10^k), so axes read easily. */
static double nice_max(double v)
{
	if (v <= 0)
		return 1;
	double p = pow(10, floor(log10(v)));
	for (int i = 0; i < 3; i++) {
		double m = p * (i == 0 ? 1 : i == 1 ? 2 : 5);
		if (m >= v)
			return m;
	}
	return p * 10;
}

static void fmt_value(struct sb *out, double v)
{
	if (v == floor(v) && fabs(v) < 1e15)
		sb_addf(out, "%.0f", v);
	else
		sb_addf(out, "%.2f", v);
}

void stats_svg_bars(struct sb *out, const char *id, const char *title, const char *desc, const char **labels,
		    const double *values, size_t n)
{
	const double w = 640, label_w = 190, bar_h = 22, gap = 8, top = 8;
	double h = top * 2 + (double)n * (bar_h + gap);
	if (n == 0)
		h = 40;
	double max = 0;
	for (size_t i = 0; i < n; i++)
		if (values[i] > max)
			max = values[i];
	max = nice_max(max);
	open_svg(out, id, title, desc, w, h);
	double span = w - label_w - 70;
	for (size_t i = 0; i < n; i++) {
		double y = top + (double)i * (bar_h + gap);
		double bw = values[i] > 0 ? values[i] / max * span : 0;
		sb_addf(out, "<g><text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" class=\"chart-label\">", label_w - 8,
			y + bar_h * 0.7);
		/* Long names are cut for the drawing only; the table has them whole. */
		const char *l = labels[i] ? labels[i] : "";
		size_t len = strlen(l), cut = 0, chars = 0;
		while (cut < len && chars < 14) {
			unsigned char c = (unsigned char)l[cut];
			cut += c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
			chars++;
		}
		if (cut > len)
			cut = len;
		sb_add_html(out, l, cut);
		if (cut < len)
			sb_adds(out, "…");
		sb_addf(out, "</text><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" class=\"chart-bar\"/>",
			label_w, y, bw, bar_h);
		sb_addf(out, "<text x=\"%.1f\" y=\"%.1f\" class=\"chart-value\">", label_w + bw + 6, y + bar_h * 0.7);
		fmt_value(out, values[i]);
		sb_adds(out, "</text></g>");
	}
	sb_adds(out, "</svg>");
}

static const char *const dashes[] = { "", "6 4", "2 3", "10 3 2 3" };

void stats_svg_lines(struct sb *out, const char *id, const char *title, const char *desc, const char **labels,
		     size_t n, const struct stats_series_def *series, size_t nseries)
{
	const double w = 640, h = 280, left = 48, right = 40, top = 16, bottom = 70;
	open_svg(out, id, title, desc, w, h);
	double max = 0;
	for (size_t s = 0; s < nseries; s++)
		for (size_t i = 0; i < n; i++)
			if (series[s].values[i] > max)
				max = series[s].values[i];
	max = nice_max(max);
	double pw = w - left - right, ph = h - top - bottom;
	/* Axes and four grid lines with their values. */
	for (int g = 0; g <= 4; g++) {
		double y = top + ph - ph * g / 4.0;
		sb_addf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"chart-grid\"/>", left, y, w - right,
			y);
		sb_addf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" class=\"chart-axis\">", left - 4, y + 4);
		fmt_value(out, max * g / 4.0);
		sb_adds(out, "</text>");
	}
	size_t step = n > 12 ? (n + 11) / 12 : 1;
	for (size_t i = 0; i < n; i += step) {
		double x = n > 1 ? left + pw * (double)i / (double)(n - 1) : left + pw / 2;
		sb_addf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" class=\"chart-axis\">", x, top + ph + 16);
		text(out, labels[i]);
		sb_adds(out, "</text>");
	}
	for (size_t s = 0; s < nseries; s++) {
		sb_addf(out, "<g class=\"chart-series chart-series-%zu\"><polyline fill=\"none\"", s % 4);
		if (*dashes[s % 4])
			sb_addf(out, " stroke-dasharray=\"%s\"", dashes[s % 4]);
		sb_adds(out, " points=\"");
		for (size_t i = 0; i < n; i++) {
			double x = n > 1 ? left + pw * (double)i / (double)(n - 1) : left + pw / 2;
			double y = top + ph - (series[s].values[i] / max) * ph;
			sb_addf(out, "%s%.1f,%.1f", i ? " " : "", x, y);
		}
		sb_adds(out, "\"/>");
		if (n <= 60)
			for (size_t i = 0; i < n; i++) {
				double x = n > 1 ? left + pw * (double)i / (double)(n - 1) : left + pw / 2;
				double y = top + ph - (series[s].values[i] / max) * ph;
				sb_addf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\"/>", x, y);
			}
		/* Legend. */
		double lx = left + (double)s * 150, ly = h - 22;
		sb_addf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"", lx, ly, lx + 24, ly);
		if (*dashes[s % 4])
			sb_addf(out, " stroke-dasharray=\"%s\"", dashes[s % 4]);
		sb_addf(out, "/><text x=\"%.1f\" y=\"%.1f\" class=\"chart-legend\">", lx + 30, ly + 4);
		text(out, series[s].name);
		sb_adds(out, "</text></g>");
	}
	sb_adds(out, "</svg>");
}
