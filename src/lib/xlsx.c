/*
 * xlsx.c - invoices and reports as XLSX with libxlsxwriter.  See xlsx.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xlsxwriter.h>

#include "tally/csvline.h"
#include "tally/money.h"
#include "tally/report.h"
#include "tally/timefmt.h"
#include "tally/xlsx.h"

/*
 * The one door from tally's exact decimals to the spreadsheet.
 * SpreadsheetML keeps a numeric cell as an IEEE double (ECMA-376) and
 * libxlsxwriter takes one, so a number must become a double here and
 * nowhere else.  It is made from the exact decimal text by strtod()
 * (correctly rounded, no arithmetic on it) and used only when it prints
 * back as that same decimal at 15 significant digits, which every amount
 * tally handles has; nothing is ever computed with it.  Returns 0, or -1
 * when the decimal would not survive: the caller writes the text instead,
 * so no amount is ever shown rounded.
 */
static int
exact_double(const char *dec, double *out)
{
	char want[48], back[48], *end;
	size_t n;

	if (strlen(dec) >= sizeof want)
		return -1;
	/* the canonical form %.15g prints: no trailing zeros, no bare point */
	snprintf(want, sizeof want, "%s", dec);
	if (strchr(want, '.')) {
		n = strlen(want);
		while (want[n - 1] == '0')
			want[--n] = '\0';
		if (want[n - 1] == '.')
			want[--n] = '\0';
	}
	if (strcmp(want, "-0") == 0)
		snprintf(want, sizeof want, "0");
	*out = strtod(dec, &end);
	if (*end != '\0' || end == dec)
		return -1;
	snprintf(back, sizeof back, "%.15g", *out);
	return strcmp(back, want) == 0 ? 0 : -1;
}

/* A decimal as a number cell, or as text when it cannot be one exactly. */
static void
put_decimal(lxw_worksheet *ws, lxw_row_t r, lxw_col_t c, const char *dec, lxw_format *f)
{
	double v;

	if (exact_double(dec, &v) == 0)
		worksheet_write_number(ws, r, c, v, f);
	else
		worksheet_write_string(ws, r, c, dec, f);
}

static void
put_money(lxw_worksheet *ws, lxw_row_t r, lxw_col_t c, money m, lxw_format *f)
{
	char dec[32];

	money_format(m, 0, dec);
	put_decimal(ws, r, c, dec, f);
}

static void
put_count(lxw_worksheet *ws, lxw_row_t r, lxw_col_t c, int64_t n, lxw_format *f)
{
	char dec[32];

	snprintf(dec, sizeof dec, "%lld", (long long)n);
	put_decimal(ws, r, c, dec, f);
}

/* A tax rate (hundredths of a percent) as the fraction a % format shows. */
static void
put_rate(lxw_worksheet *ws, lxw_row_t r, lxw_col_t c, int rate, lxw_format *f)
{
	put_money(ws, r, c, (money)rate * 100, f);	/* 1000 (10%) -> 0.1 */
}

/* A formula with the invoice's own figure as its cached value; without
 * one when the figure cannot be a double exactly (the spreadsheet
 * computes it on opening). */
static void
put_formula(lxw_worksheet *ws, lxw_row_t r, lxw_col_t c, const char *formula, money m,
    lxw_format *f)
{
	char dec[32];
	double v;

	money_format(m, 0, dec);
	if (exact_double(dec, &v) == 0)
		worksheet_write_formula_num(ws, r, c, formula, f, v);
	else
		worksheet_write_formula(ws, r, c, formula, f);
}

/* Text XML can hold (report_text_plain) is written as it is; anything else
 * (a rejected line's raw bytes) as the terminal reports show it, or the
 * sheet would not open. */
static void
put_text(lxw_worksheet *ws, lxw_row_t r, lxw_col_t c, const char *s, lxw_format *f)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m;

	if (report_text_plain(s) || (m = open_memstream(&buf, &len)) == NULL) {
		worksheet_write_string(ws, r, c, s, f);
		return;
	}
	report_escaped(m, s, strlen(s), 8000);
	fclose(m);
	worksheet_write_string(ws, r, c, buf ? buf : "", f);
	free(buf);
}

/* A workbook written aside and renamed into place when whole. */
struct book {
	lxw_workbook *wb;
	char path[PATH_MAX], tmp[PATH_MAX];
};

static int
book_open(struct book *b, const char *path, const char *date, const char *title,
    struct terr *e)
{
	lxw_workbook_options opt = { .constant_memory = LXW_TRUE };
	lxw_doc_properties props = { 0 };
	struct civil c = { 0 };
	int fd;

	snprintf(b->path, sizeof b->path, "%s", path);
	snprintf(b->tmp, sizeof b->tmp, "%s.tmp", path);
	/* libxlsxwriter creates the file only at workbook_close(), and says why
	 * it cannot on stderr itself: create it here first, so that a missing
	 * folder is tally's one message with the reason. */
	if ((fd = open(b->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666)) < 0 ||
	    close(fd) != 0) {
		terr_set(e, "%s: %s", b->tmp, strerror(errno));
		return -1;
	}
	if ((b->wb = workbook_new_opt(b->tmp, &opt)) == NULL) {
		terr_set(e, "%s: libxlsxwriter cannot start a workbook", b->tmp);
		unlink(b->tmp);
		return -1;
	}
	/* The document's own date, never the clock: the same bytes every time. */
	if (date && sscanf(date, "%4d-%2d-%2d", &c.year, &c.mon, &c.day) == 3)
		props.created = (time_t)civil_as_utc(&c);
	else
		props.created = 1;
	props.title = (char *)title;
	props.comments = (char *)"tally " TALLY_VERSION;
	workbook_set_properties(b->wb, &props);
	return 0;
}

static int
book_close(struct book *b, struct terr *e)
{
	lxw_error rc = workbook_close(b->wb);

	if (rc != LXW_NO_ERROR) {
		terr_set(e, "%s: %s", b->tmp, lxw_strerror(rc));
		unlink(b->tmp);
		return -1;
	}
	if (rename(b->tmp, b->path) != 0) {
		terr_set(e, "%s: %s", b->path, strerror(errno));
		unlink(b->tmp);
		return -1;
	}
	return 0;
}

/* ---- invoices --------------------------------------------------------------- */

struct ivx {
	const struct invdoc *d;
	lxw_worksheet *calls;
	lxw_format *head, *money, *price, *date, *when, *pct, *count;
	money minor;		/* the currency's minor unit in micro-units */
	lxw_row_t row;
};

/* "#,##0 [$₫]" for VND, "[$¥]#,##0.00" for CNY: the currency's decimals. */
static void
money_format_code(const struct invdoc *d, int extra, char *buf, size_t len)
{
	char zeros[16] = "";
	int n = 0;

	if (d->r.decimals > 0 || extra) {
		zeros[n++] = '.';
		for (int i = 0; i < d->r.decimals && n < 8; i++)
			zeros[n++] = '0';
		for (int i = 0; i < extra && n < 14; i++)
			zeros[n++] = '#';
		zeros[n] = '\0';
	}
	snprintf(buf, len, "#,##0%s \"%s\"", zeros, d->r.currency);
}

static lxw_format *
fmt(lxw_workbook *wb, const char *code, int bold)
{
	lxw_format *f = workbook_add_format(wb);

	if (code)
		format_set_num_format(f, code);
	if (bold)
		format_set_bold(f);
	return f;
}

static void
write_date(lxw_worksheet *ws, lxw_row_t r, lxw_col_t c, const char *text, lxw_format *f)
{
	lxw_datetime dt = { 0 };

	if (sscanf(text, "%4d-%2d-%2d %2d:%2d:%lf", &dt.year, &dt.month, &dt.day, &dt.hour,
	    &dt.min, &dt.sec) >= 3)
		worksheet_write_datetime(ws, r, c, &dt, f);
	else
		put_text(ws, r, c, text, NULL);
}

static int
call_row(const struct invdoc_call *ic, void *arg)
{
	struct ivx *x = arg;
	lxw_row_t r = ++x->row;

	write_date(x->calls, r, 0, ic->local, x->when);
	put_text(x->calls, r, 1, ic->c->caller, NULL);
	put_text(x->calls, r, 2, ic->c->callee, NULL);
	put_text(x->calls, r, 3, ic->c->destination, NULL);
	put_text(x->calls, r, 4, ic->c->class, NULL);
	put_count(x->calls, r, 5, ic->c->seconds, x->count);
	put_count(x->calls, r, 6, ic->c->billed_seconds, x->count);
	put_money(x->calls, r, 7, ic->c->amount, x->price);
	return 0;
}

static const char *const line_cols[] = { "Kind", "Description", "Quantity", "Unit price",
	"Amount", "Tax rate", "Tax", "Tax amount", "Net" };
static const int line_widths[] = { 10, 56, 10, 16, 16, 9, 10, 14, 16 };
static const char *const call_cols[] = { "Time", "Caller", "Called", "Destination",
	"Class", "Seconds", "Billed seconds", "Charge" };
static const int call_widths[] = { 20, 16, 16, 28, 12, 10, 14, 14 };

static void
invoice_sheet(lxw_workbook *wb, struct ivx *x)
{
	const struct invdoc *d = x->d;
	lxw_worksheet *ws = workbook_add_worksheet(wb, "Invoice");
	const char *fields[][2] = { { "Number", d->r.number }, { "Kind", d->r.kind },
		{ "Date", d->r.date }, { "Period", d->r.period },
		{ "Period start", d->r.first_day }, { "Period end", d->r.last_day },
		{ "Seller", d->seller }, { "Seller address", d->seller_address },
		{ "Seller tax ID", d->seller_tax_id }, { "Customer", d->customer },
		{ "Account", d->r.account }, { "Currency", d->r.currency },
		{ "Refers to", d->r.refers_number }, { "Reason", d->r.reason } };
	lxw_row_t r = 0, head, first, last;
	char f[128];

	for (size_t i = 0; i < sizeof line_widths / sizeof *line_widths; i++)
		worksheet_set_column(ws, (lxw_col_t)i, (lxw_col_t)i, line_widths[i], NULL);
	for (size_t i = 0; i < sizeof fields / sizeof *fields; i++, r++) {
		put_text(ws, r, 0, fields[i][0], x->head);
		if (strstr(fields[i][0], "Date") || strstr(fields[i][0], "Period "))
			write_date(ws, r, 1, fields[i][1], x->date);
		else
			put_text(ws, r, 1, fields[i][1], NULL);
	}
	head = ++r;
	for (size_t i = 0; i < sizeof line_cols / sizeof *line_cols; i++)
		put_text(ws, r, (lxw_col_t)i, line_cols[i], x->head);
	first = r + 1;
	for (int i = 0; i < d->nlines; i++) {
		const struct bill_line *l = &d->lines[i];
		r++;
		put_text(ws, r, 0, bill_kind_name(l->kind), NULL);
		put_text(ws, r, 1, l->description, NULL);
		put_decimal(ws, r, 2, l->quantity, x->count);
		/* a price in the minor unit shows as money, a finer one with its digits */
		put_money(ws, r, 3, l->unit_price, l->unit_price % x->minor == 0 ? x->money :
		    x->price);
		put_money(ws, r, 4, l->amount, x->money);
		put_rate(ws, r, 5, l->tax_rate, x->pct);
		put_text(ws, r, 6, l->tax_included ? "included" : "excluded", NULL);
		put_money(ws, r, 7, l->tax, x->money);
		put_money(ws, r, 8, l->net, x->money);
	}
	last = r;
	worksheet_freeze_panes(ws, head + 1, 0);
	worksheet_autofilter(ws, head, 0, last > head ? last : head,
	    (lxw_col_t)(sizeof line_cols / sizeof *line_cols - 1));
	r++;
	for (int i = 0; i < d->ntaxes; i++) {
		const struct bill_taxgroup *g = &d->taxes[i];

		r++;
		put_text(ws, r, 1, "Tax group: base and tax", NULL);
		put_rate(ws, r, 5, g->rate, x->pct);
		put_text(ws, r, 6, g->included ? "included" : "excluded", NULL);
		put_money(ws, r, 7, g->tax, x->money);
		put_money(ws, r, 8, g->base, x->money);
	}
	/* Sums of the printed columns: the spreadsheet recomputes the invoice. */
	r += 2;
	put_text(ws, r, 1, "Subtotal", x->head);
	snprintf(f, sizeof f, "=SUM(I%u:I%u)", (unsigned)first + 1, (unsigned)last + 1);
	put_formula(ws, r, 8, last >= first ? f : "=0", d->r.subtotal, x->money);
	r++;
	put_text(ws, r, 1, "Tax", x->head);
	snprintf(f, sizeof f, "=SUM(H%u:H%u)", (unsigned)first + 1, (unsigned)last + 1);
	put_formula(ws, r, 8, last >= first ? f : "=0", d->r.tax, x->money);
	r++;
	put_text(ws, r, 1, "Total", x->head);
	snprintf(f, sizeof f, "=I%u+I%u", (unsigned)r - 1, (unsigned)r);
	put_formula(ws, r, 8, f, d->r.total, x->money);
	if (*d->r.kind == 'i') {
		/* owed as the PDF shows it: total + owed - payments = due */
		r++;
		put_text(ws, r, 1, "Previous balance owed", NULL);
		put_money(ws, r, 8, -d->r.previous, x->money);
		r++;
		put_text(ws, r, 1, "Payments", NULL);
		put_money(ws, r, 8, d->r.payments, x->money);
		r++;
		put_text(ws, r, 1, "Amount due", x->head);
		snprintf(f, sizeof f, "=I%u+I%u-I%u", (unsigned)r - 2, (unsigned)r - 1,
		    (unsigned)r);
		put_formula(ws, r, 8, f, d->r.due, x->money);
	}
}

int
xlsx_invoice(struct invdoc_set *set, const struct invdoc *d, const char *path,
    struct terr *e)
{
	struct ivx x = { .d = d };
	struct book b;
	char title[160], mf[64], pf[64];
	int rc;

	snprintf(title, sizeof title, "%s %s", *d->r.kind == 'c' ? "Credit note" : "Invoice",
	    d->r.number);
	if (book_open(&b, path, d->r.date, title, e) != 0)
		return -1;
	money_format_code(d, 0, mf, sizeof mf);
	money_format_code(d, 6 - d->r.decimals, pf, sizeof pf);
	x.head = fmt(b.wb, NULL, 1);
	x.money = fmt(b.wb, mf, 0);
	x.price = fmt(b.wb, pf, 0);
	x.date = fmt(b.wb, "yyyy-mm-dd", 0);
	x.when = fmt(b.wb, "yyyy-mm-dd hh:mm:ss", 0);
	x.pct = fmt(b.wb, "0.##%", 0);
	x.count = fmt(b.wb, "General", 0);
	x.minor = 1;
	for (int i = d->r.decimals; i < 6; i++)
		x.minor *= 10;
	invoice_sheet(b.wb, &x);

	x.calls = workbook_add_worksheet(b.wb, "Calls");
	for (size_t i = 0; i < sizeof call_cols / sizeof *call_cols; i++) {
		worksheet_set_column(x.calls, (lxw_col_t)i, (lxw_col_t)i, call_widths[i], NULL);
		put_text(x.calls, 0, (lxw_col_t)i, call_cols[i], x.head);
	}
	worksheet_freeze_panes(x.calls, 1, 0);
	rc = invdoc_each_call(set, d, call_row, &x, e);
	worksheet_autofilter(x.calls, 0, 0, x.row,
	    (lxw_col_t)(sizeof call_cols / sizeof *call_cols - 1));
	if (rc != 0) {
		workbook_close(b.wb);
		unlink(b.tmp);
		return -1;
	}
	return book_close(&b, e);
}

/* ---- reports ---------------------------------------------------------------- */

/* "12", "-3.5", "0.25": not "007", "1e5", "", "+1", "1.". */
static int
plain_number(const char *s)
{
	const char *p = *s == '-' ? s + 1 : s;
	size_t n = strspn(p, "0123456789");

	if (n == 0 || (p[0] == '0' && n > 1))
		return 0;
	p += n;
	if (*p == '.') {
		n = strspn(p + 1, "0123456789");
		if (n == 0)
			return 0;
		p += 1 + n;
	}
	return *p == '\0';
}

int
xlsx_from_csv(FILE *csv, const char *sheet, const char *path, struct terr *e)
{
	struct csvline *cl = csvline_new(',');
	char *numeric = NULL;
	int ncols = 0, n, rc = -1;
	struct book b;
	lxw_worksheet *ws;
	lxw_format *head, *number;
	lxw_row_t r = 0;
	int *widths = NULL;	/* column widths in characters */
	unsigned long rows = 0;	/* below the header */

	if (cl == NULL) {
		terr_set(e, "out of memory");
		return -1;
	}
	/* First pass: which columns are numbers throughout. */
	if ((ncols = csvline_read(cl, csv)) <= 0) {
		terr_set(e, "the report is empty");
		goto out;
	}
	numeric = calloc((size_t)ncols, 1);
	widths = calloc((size_t)ncols, sizeof *widths);
	if (numeric == NULL || widths == NULL) {
		terr_set(e, "out of memory");
		goto out;
	}
	for (int i = 0; i < ncols; i++) {
		numeric[i] = !report_text_column(csvline_field(cl, i));
		widths[i] = (int)csvline_field_len(cl, i) + 2;
	}
	while ((n = csvline_read(cl, csv)) > 0) {
		/* a sheet holds LXW_ROW_MAX rows: more is an error, never a sheet
		 * that silently lacks the rest (tally-report cdrs of a month) */
		if (++rows >= LXW_ROW_MAX) {
			terr_set(e, "%s: more than %lu rows, the most a sheet holds; use"
			    " --format csv", sheet, (unsigned long)LXW_ROW_MAX - 1);
			goto out;
		}
		for (int i = 0; i < ncols; i++) {
			const char *v = i < n ? csvline_field(cl, i) : "";
			int wdt = (int)(i < n && csvline_field_len(cl, i) < 60 ?
			    csvline_field_len(cl, i) : 60) + 2;

			if (numeric[i] && *v && !plain_number(v))
				numeric[i] = 0;
			if (wdt > widths[i])
				widths[i] = wdt > 60 ? 60 : wdt;
		}
	}
	rewind(csv);
	if (book_open(&b, path, NULL, sheet, e) != 0)
		goto out;
	head = fmt(b.wb, NULL, 1);
	number = fmt(b.wb, "General", 0);
	ws = workbook_add_worksheet(b.wb, sheet);
	for (int i = 0; i < ncols; i++)
		worksheet_set_column(ws, (lxw_col_t)i, (lxw_col_t)i, widths[i], NULL);
	while ((n = csvline_read(cl, csv)) > 0) {
		for (int i = 0; i < n && i < ncols; i++) {
			const char *v = csvline_field(cl, i);
			if (r == 0)
				put_text(ws, r, (lxw_col_t)i, v, head);
			else if (numeric[i] && *v)
				put_decimal(ws, r, (lxw_col_t)i, v, number);
			else
				put_text(ws, r, (lxw_col_t)i, v, NULL);
		}
		r++;
	}
	worksheet_freeze_panes(ws, 1, 0);
	worksheet_autofilter(ws, 0, 0, r ? r - 1 : 0, (lxw_col_t)(ncols - 1));
	rc = book_close(&b, e);
out:
	csvline_free(cl);
	free(numeric);
	free(widths);
	return rc;
}
