/* export.c: a table as CSV or as an XLSX workbook. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xlsxwriter.h>

#include "base/err.h"
#include "base/log.h"
#include "base/sb.h"
#include "base/util.h"
#include "stats/stats_impl.h"

static void csv_cell(struct sb *out, const char *s)
{
	/* A spreadsheet would run a cell starting with = + - @ (or a tab / CR) as a formula:
	 * such cells are prefixed with a quote. Every cell is quoted, quotes doubled. */
	sb_addch(out, '"');
	if (*s == '=' || *s == '+' || *s == '-' || *s == '@' || *s == '\t' || *s == '\r')
		sb_addch(out, '\'');
	for (; *s; s++) {
		if (*s == '"')
			sb_addch(out, '"');
		sb_addch(out, *s);
	}
	sb_addch(out, '"');
}

int stats_csv(const struct stats_table *t, struct sb *out)
{
	sb_adds(out, "\xEF\xBB\xBF");
	for (size_t c = 0; c < t->ncols; c++) {
		if (c)
			sb_addch(out, ',');
		csv_cell(out, t->head[c]);
	}
	sb_adds(out, "\r\n");
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			if (c)
				sb_addch(out, ',');
			csv_cell(out, t->cells[r * t->ncols + c]);
		}
		sb_adds(out, "\r\n");
	}
	return sb_failed(out) ? GH_ETOOBIG : 0;
}

int stats_xlsx(struct arena *a, const struct stats_table *t, size_t max, char **data, size_t *len)
{
	const char *tmpdir = getenv("TMPDIR");
	char path[512];
	snprintf(path, sizeof(path), "%s/govhall-stats-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
	int fd = mkstemp(path);
	if (fd < 0) {
		log_error("stats: cannot create a temporary file in %s: %s", tmpdir ? tmpdir : "/tmp", strerror(errno));
		return GH_EIO;
	}
	close(fd);
	int rc = 0;
	lxw_workbook_options opt = { .constant_memory = LXW_TRUE, .tmpdir = NULL };
	lxw_workbook *wb = workbook_new_opt(path, &opt);
	if (!wb) {
		unlink(path);
		return GH_EIO;
	}
	lxw_worksheet *ws = workbook_add_worksheet(wb, t->name);
	lxw_format *bold = workbook_add_format(wb);
	format_set_bold(bold);
	for (size_t c = 0; c < t->ncols; c++) {
		worksheet_write_string(ws, 0, (lxw_col_t)c, t->head[c], bold);
		worksheet_set_column(ws, (lxw_col_t)c, (lxw_col_t)c, c == 0 ? 24 : 14, NULL);
	}
	for (size_t r = 0; r < t->nrows && r < 1000000; r++)
		for (size_t c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];
			char *end;
			double v = t->numeric[c] && *s ? strtod(s, &end) : 0;
			if (t->numeric[c] && *s && !*end)
				worksheet_write_number(ws, (lxw_row_t)(r + 1), (lxw_col_t)c, v, NULL);
			else if (*s)
				worksheet_write_string(ws, (lxw_row_t)(r + 1), (lxw_col_t)c, s, NULL);
		}
	lxw_error e = workbook_close(wb);
	if (e != LXW_NO_ERROR) {
		log_error("stats: the workbook could not be written: %s", lxw_strerror(e));
		rc = GH_EIO;
	}
	size_t n = 0;
	char *buf = rc ? NULL : read_file(path, max, &n);
	int saved = errno;
	unlink(path);
	errno = saved;
	if (rc)
		return rc;
	if (!buf)
		return errno == EFBIG ? GH_ETOOBIG : GH_EIO;
	*data = arena_alloc(a, n ? n : 1);
	memcpy(*data, buf, n);
	free(buf);
	*len = n;
	return 0;
}
