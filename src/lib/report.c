#include <stdlib.h>
#include <string.h>

#include "tally/csvline.h"
#include "tally/money.h"
#include "tally/timefmt.h"

#include "tally/ratejob.h"
#include "tally/report.h"

int
report_format_parse(const char *name, enum report_format *out)
{
	if (strcmp(name, "text") == 0)
		*out = REPORT_TEXT;
	else if (strcmp(name, "csv") == 0)
		*out = REPORT_CSV;
	else if (strcmp(name, "json") == 0)
		*out = REPORT_JSON;
	else
		return -1;
	return 0;
}

void
report_csv_field(FILE *out, const char *s, size_t len)
{
	int quote = 0;

	for (size_t i = 0; i < len && !quote; i++)
		quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
	if (!quote) {
		fwrite(s, 1, len, out);
		return;
	}
	fputc('"', out);
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"')
			fputc('"', out);
		fputc(s[i], out);
	}
	fputc('"', out);
}

/* Length of the valid UTF-8 sequence at s (of n bytes), or 0. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	size_t need;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		need = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		need = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		need = 4;
	else
		return 0;
	if (need > n)
		return 0;
	for (size_t i = 1; i < need; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* overlong forms, UTF-16 surrogates, beyond U+10FFFF */
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
		return 0;
	return need;
}

int
report_text_plain(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t len = strlen(str), u;

	for (size_t i = 0; i < len; i += u) {
		if ((u = utf8_len(s + i, len - i)) == 0 ||
		    (u == 1 && (s[i] < 0x20 || s[i] == 0x7f || s[i] == '\\')))
			return 0;
	}
	return 1;
}

int
report_text_column(const char *name)
{
	static const char *const names[] = { "account", "reseller", "period", "class",
		"destination", "prefix", "source", "file", "kind", "label", "caller", "callee",
		"reason", "raw", "field", "bundle", "name", "number", "status", "date", "plan",
		"fee", "currency", "tax_rate", "tax", "start", "end", "ended", "issuer",
		"record_key", "charged_in_period", "caller_raw", "callee_raw", "answer",
		"disposition", "type", "payer", "piece_kind", "piece_label", NULL };

	for (int i = 0; names[i]; i++)
		if (strcmp(name, names[i]) == 0)
			return 1;
	return 0;
}

/* A JSON value of a CSV field: a whole number in a column of numbers as
 * a number, else a string (report_json_string). */
static void
json_value(FILE *out, const char *v, int numeric)
{
	const char *d = v + (*v == '-');

	if (numeric && *d && strspn(d, "0123456789") == strlen(d) && (d[0] != '0' || !d[1])) {
		fputs(v, out);
		return;
	}
	report_json_string(out, v);
}

int
report_csv_to_json(FILE *csv, const char *name, FILE *out, struct terr *e)
{
	struct csvline *cl = csvline_new(',');
	char **cols = NULL;
	int ncols, n, rows = 0, rc = -1;

	if (cl == NULL)
		return terr_set(e, "out of memory");
	if ((ncols = csvline_read(cl, csv)) <= 0) {
		terr_set(e, "the report is empty");
		goto out;
	}
	if ((cols = calloc((size_t)ncols, sizeof *cols)) == NULL) {
		terr_set(e, "out of memory");
		goto out;
	}
	for (int i = 0; i < ncols; i++)
		if ((cols[i] = strdup(csvline_field(cl, i))) == NULL) {
			terr_set(e, "out of memory");
			goto out;
		}
	fprintf(out, "{\"%s\": [", name);
	while ((n = csvline_read(cl, csv)) > 0) {
		fprintf(out, "%s\n  {", rows++ ? "," : "");
		for (int i = 0; i < ncols; i++) {
			fprintf(out, "%s\"%s\": ", i ? ", " : "", cols[i]);
			json_value(out, i < n ? csvline_field(cl, i) : "",
			    !report_text_column(cols[i]));
		}
		fputc('}', out);
	}
	fputs("\n]}\n", out);
	rc = n < 0 ? terr_set(e, "the report's CSV is malformed") : 0;
out:
	for (int i = 0; cols && i < ncols; i++)
		free(cols[i]);
	free(cols);
	csvline_free(cl);
	return rc;
}

void
report_escaped(FILE *out, const void *raw, size_t len, size_t max)
{
	const unsigned char *s = raw;
	size_t i = 0;

	while (i < len && i < max) {
		size_t u = utf8_len(s + i, len - i);

		if (u == 1 && s[i] >= 0x20 && s[i] != 0x7f && s[i] != '\\') {
			fputc(s[i], out);
		} else if (u > 1) {
			fwrite(s + i, 1, u, out);
		} else {
			fprintf(out, "\\x%02x", s[i]);
			u = 1;
		}
		i += u;
	}
	if (len > max)
		fprintf(out, "... (%zu bytes)", len);
}

struct widths {
	int batch, source, file;
	struct batch_counts total;
	int rows;
};

static int
measure(const struct batch_row *b, void *arg)
{
	struct widths *w = arg;
	int n = snprintf(NULL, 0, "%lld", (long long)b->id);

	if (n > w->batch)
		w->batch = n;
	if ((int)strlen(b->source) > w->source)
		w->source = (int)strlen(b->source);
	if ((int)strlen(b->file) > w->file)
		w->file = (int)strlen(b->file);
	w->total.read += b->n.read;
	w->total.accepted += b->n.accepted;
	w->total.rejected += b->n.rejected;
	w->total.duplicates += b->n.duplicates;
	w->rows++;
	return 0;
}

struct reconcile_ctx {
	FILE *out;
	enum report_format fmt;
	const struct widths *w;
};

static void
text_row(FILE *out, const struct widths *w, const char *batch, const char *source,
    const char *file, const struct batch_counts *n)
{
	fprintf(out, "%*s  %-*s  %-*s  %10llu %10llu %10llu %10llu\n", w->batch, batch,
	    w->source, source, w->file, file, (unsigned long long)n->read,
	    (unsigned long long)n->accepted, (unsigned long long)n->rejected,
	    (unsigned long long)n->duplicates);
}

static int
reconcile_row(const struct batch_row *b, void *arg)
{
	struct reconcile_ctx *c = arg;

	if (c->fmt == REPORT_CSV) {
		fprintf(c->out, "%lld,", (long long)b->id);
		report_csv_field(c->out, b->source, strlen(b->source));
		fputc(',', c->out);
		report_csv_field(c->out, b->file, strlen(b->file));
		fprintf(c->out, ",%llu,%llu,%llu,%llu\n", (unsigned long long)b->n.read,
		    (unsigned long long)b->n.accepted, (unsigned long long)b->n.rejected,
		    (unsigned long long)b->n.duplicates);
	} else {
		char id[24];

		snprintf(id, sizeof id, "%lld", (long long)b->id);
		text_row(c->out, c->w, id, b->source, b->file, &b->n);
	}
	return 0;
}

int
report_reconcile(struct store *s, FILE *out, enum report_format fmt,
    struct terr *e)
{
	struct widths w = { 5, 6, 4, { 0, 0, 0, 0 }, 0 };
	struct reconcile_ctx c = { out, fmt, &w };

	if (fmt == REPORT_CSV) {
		fputs("batch,source,file,read,accepted,rejected,duplicates\n", out);
		return store_each_batch(s, reconcile_row, &c, e) < 0 ? -1 : 0;
	}
	if (store_each_batch(s, measure, &w, e) < 0)
		return -1;
	fprintf(out, "%*s  %-*s  %-*s  %10s %10s %10s %10s\n", w.batch, "batch",
	    w.source, "source", w.file, "file", "read", "accepted", "rejected",
	    "duplicates");
	if (store_each_batch(s, reconcile_row, &c, e) < 0)
		return -1;
	text_row(out, &w, "total", "", "", &w.total);
	return 0;
}

struct rejects_ctx {
	FILE *out;
	enum report_format fmt;
};

static int
reject_row(const struct reject_row *r, void *arg)
{
	struct rejects_ctx *c = arg;

	if (c->fmt == REPORT_CSV) {
		fprintf(c->out, "%lld,", (long long)r->batch);
		report_csv_field(c->out, r->file, strlen(r->file));
		fprintf(c->out, ",%lld,", (long long)r->line);
		report_csv_field(c->out, r->field, strlen(r->field));
		fputc(',', c->out);
		report_csv_field(c->out, r->reason, strlen(r->reason));
		fputc(',', c->out);
		report_csv_field(c->out, r->raw, r->rawlen);
		fputc('\n', c->out);
	} else {
		/* the reason may quote the input: escape it like the raw line */
		fprintf(c->out, "%s:%lld: %s: ", r->file, (long long)r->line, r->field);
		report_escaped(c->out, r->reason, strlen(r->reason), 1000);
		fputs("\n    ", c->out);
		report_escaped(c->out, r->raw, r->rawlen, 1000);
		fputc('\n', c->out);
	}
	return 0;
}

int
report_rejects(struct store *s, FILE *out, enum report_format fmt,
    int64_t batch, struct terr *e)
{
	struct rejects_ctx c = { out, fmt };

	if (fmt == REPORT_CSV)
		fputs("batch,file,line,field,reason,raw\n", out);
	return store_each_reject(s, batch, reject_row, &c, e) < 0 ? -1 : 0;
}

/* ---- usage -------------------------------------------------------------- */

/*
 * JSON holds only UTF-8 text, and the store holds what switches wrote: a
 * string is given as the text form shows it (report_escaped), each byte
 * that is not UTF-8, a control byte or a backslash as \xNN, a quote
 * escaped for JSON.  So in the decoded string a backslash always starts an
 * escape, and two different stored strings never print the same.
 */
void
report_json_string(FILE *out, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t len = strlen(str), u;

	fputc('"', out);
	for (size_t i = 0; i < len; i += u) {
		u = utf8_len(s + i, len - i);
		if (u > 1)
			fwrite(s + i, 1, u, out);
		else if (u == 1 && s[i] == '"')
			fputs("\\\"", out);
		else if (u == 1 && s[i] >= 0x20 && s[i] != 0x7f && s[i] != '\\')
			fputc(s[i], out);
		else
			fprintf(out, "\\\\x%02x", s[i]), u = 1;
	}
	fputc('"', out);
}

struct usage_ctx {
	FILE *out;
	enum report_format fmt;
	struct store *s;
	const char *period, *account, *reseller;
	int first;
	struct terr *e;
};

struct piece_ctx {
	struct usage_ctx *u;
	const char *account, *cls;
	int decimals, first;
};

static int
usage_piece(const struct usage_piece_row *p, void *arg)
{
	struct piece_ctx *c = arg;
	char amount[32];

	if (strcmp(p->account, c->account) != 0 || strcmp(p->cls, c->cls) != 0)
		return 0;
	/* an exact sum: shown to the micro-unit, rounded half-up */
	money_format(money_round(p->exact, ROUND_FULL, 6), c->decimals, amount);
	if (c->u->fmt == REPORT_JSON) {
		fprintf(c->u->out, "%s{\"kind\": ", c->first ? "" : ", ");
		report_json_string(c->u->out, p->kind);
		fputs(", \"label\": ", c->u->out);
		report_json_string(c->u->out, p->label);
		fprintf(c->u->out, ", \"seconds\": %lld, \"amount\": \"%s\"}",
		    (long long)p->seconds, amount);
	} else {
		fprintf(c->u->out, "    %-10s %-18s %10lld s %16s\n", p->kind, p->label,
		    (long long)p->seconds, amount);
	}
	c->first = 0;
	return 0;
}

static int
usage_row(const struct usage_row *r, void *arg)
{
	struct usage_ctx *u = arg;
	struct piece_ctx pc = { u, r->account, r->cls, money_currency_decimals(r->currency), 1 };
	char amount[32];

	if (pc.decimals < 0)
		pc.decimals = 2;
	money_format(r->amount, pc.decimals, amount);
	if (u->fmt == REPORT_CSV) {
		report_csv_field(u->out, r->account, strlen(r->account));
		fputc(',', u->out);
		report_csv_field(u->out, r->cls, strlen(r->cls));
		fprintf(u->out, ",%lld,%lld,%lld,%s\n", (long long)r->calls,
		    (long long)r->seconds, (long long)r->billed_seconds, amount);
		return 0;
	}
	if (u->fmt == REPORT_JSON) {
		fprintf(u->out, "%s\n    {\"account\": ", u->first ? "" : ",");
		report_json_string(u->out, r->account);
		fputs(", \"class\": ", u->out);
		report_json_string(u->out, r->cls);
		fprintf(u->out, ", \"currency\": \"%s\", \"calls\": %lld, \"seconds\": %lld,"
		    " \"billed_seconds\": %lld, \"amount\": \"%s\", \"pieces\": [",
		    r->currency, (long long)r->calls, (long long)r->seconds,
		    (long long)r->billed_seconds, amount);
	} else {
		fprintf(u->out, "%-16s %-12s %8lld %10lld %10lld %16s %s\n", r->account,
		    r->cls, (long long)r->calls, (long long)r->seconds,
		    (long long)r->billed_seconds, amount, r->currency);
	}
	u->first = 0;
	if (store_each_usage_piece(u->s, u->period, r->account, u->reseller, usage_piece,
	    &pc, u->e) < 0)
		return -1;
	if (u->fmt == REPORT_JSON)
		fputs("]}", u->out);
	return 0;
}

int
report_usage(struct store *s, FILE *out, enum report_format fmt,
    const char *period, const char *account, const char *reseller, struct terr *e)
{
	struct usage_ctx u = { out, fmt, s, period, account, reseller, 1, e };
	int rc;

	if (fmt == REPORT_CSV)
		fputs("account,class,calls,seconds,billed_seconds,amount\n", out);
	else if (fmt == REPORT_JSON)
		fprintf(out, "{\"period\": \"%s\", \"usage\": [", period);
	else
		fprintf(out, "%-16s %-12s %8s %10s %10s %16s\n", "account", "class", "calls",
		    "seconds", "billed", "amount");
	rc = store_each_usage(s, period, account, reseller, usage_row, &u, e);
	if (fmt == REPORT_JSON)
		fputs("\n]}\n", out);
	return rc < 0 ? -1 : 0;
}

struct unrated_ctx {
	FILE *out;
	enum report_format fmt;
};

static int
unrated_row(const struct unrated_row *r, void *arg)
{
	struct unrated_ctx *c = arg;
	struct civil cv;
	char when[32];

	civil_from_utc(r->start, &cv);
	snprintf(when, sizeof when, "%04u-%02u-%02uT%02u:%02u:%02uZ", (unsigned)cv.year % 10000u,
	    (unsigned)cv.mon % 100u, (unsigned)cv.day % 100u, (unsigned)cv.hour % 100u,
	    (unsigned)cv.min % 100u, (unsigned)cv.sec % 100u);
	if (c->fmt == REPORT_CSV) {
		fprintf(c->out, "%lld,", (long long)r->cdr);
		report_csv_field(c->out, r->source, strlen(r->source));
		fputc(',', c->out);
		report_csv_field(c->out, r->record_key, strlen(r->record_key));
		fputc(',', c->out);
		report_csv_field(c->out, r->account, strlen(r->account));
		fprintf(c->out, ",%s,", when);
		report_csv_field(c->out, r->callee, strlen(r->callee));
		fputc(',', c->out);
		report_csv_field(c->out, r->reason, strlen(r->reason));
		fputc('\n', c->out);
	} else {
		fprintf(c->out, "cdr %lld %s %s account \"%s\" to %s: %s\n", (long long)r->cdr,
		    r->source, when, r->account, r->callee, r->reason);
	}
	return 0;
}

int
report_unrated(struct store *s, FILE *out, enum report_format fmt,
    const char *period, struct terr *e)
{
	struct unrated_ctx c = { out, fmt };

	if (fmt == REPORT_CSV)
		fputs("cdr,source,record_key,account,start,callee,reason\n", out);
	return store_each_unrated(s, period, unrated_row, &c, e) < 0 ? -1 : 0;
}

/* ---- bundles ------------------------------------------------------------ */

struct bundles_ctx {
	FILE *out;
	enum report_format fmt;
	const char *period;
	int first;
	/* the charges of the period, by currency */
	struct { char currency[8]; money sum; int n, overflow; } tot[8];
	int ntot;
};

/* Seconds as minutes:seconds, the way a customer counts bundle minutes. */
static void
min_sec(int64_t s, char buf[32])
{
	snprintf(buf, 32, "%lld:%02lld", (long long)(s / 60), (long long)(s % 60));
}

static int
window_row(const struct window_row *w, void *arg)
{
	struct bundles_ctx *c = arg;
	int decimals = money_currency_decimals(w->currency);
	int charged = strcmp(w->period_from, c->period) == 0;
	int64_t left = strcmp(w->ended, "open") == 0 ?
	    w->granted + w->rolled_in - w->used : 0;
	char price[32];

	money_format(w->price, decimals < 0 ? 2 : decimals, price);
	if (charged) {
		int i;

		for (i = 0; i < c->ntot && strcmp(c->tot[i].currency, w->currency) != 0; i++)
			;
		if (i == c->ntot && c->ntot < 8)
			tally_strlcpy(c->tot[c->ntot++].currency, w->currency, 8);
		/* an absurd sum is reported as such, never wrapped */
		if (i < c->ntot) {
			if (__builtin_add_overflow(c->tot[i].sum, w->price, &c->tot[i].sum))
				c->tot[i].overflow = 1;
			c->tot[i].n++;
		}
	}
	if (c->fmt == REPORT_CSV) {
		report_csv_field(c->out, w->payer, strlen(w->payer));
		fprintf(c->out, ",%d,%s,%s,%s,%s,%s,%lld,%lld,%lld,%lld,%lld,%lld,%s,%s,%s,%s\n",
		    w->seq, w->bundle, w->cls, w->start_local, w->end_local, w->ended,
		    (long long)w->granted, (long long)w->rolled_in, (long long)w->used,
		    (long long)left, (long long)w->rolled_out, (long long)w->forfeited, price,
		    w->tax_included ? "included" : "excluded", charged ? "yes" : "no",
		    w->currency);
	} else if (c->fmt == REPORT_JSON) {
		fprintf(c->out, "%s\n    {\"account\": ", c->first ? "" : ",");
		report_json_string(c->out, w->payer);
		fprintf(c->out, ", \"window\": %d, \"bundle\": \"%s\", \"class\": \"%s\","
		    " \"start\": \"%s\", \"end\": \"%s\", \"ended\": \"%s\", \"granted_seconds\":"
		    " %lld, \"rolled_in_seconds\": %lld, \"used_seconds\": %lld, \"left_seconds\":"
		    " %lld, \"rolled_out_seconds\": %lld, \"forfeited_seconds\": %lld,"
		    " \"price\": \"%s\", \"tax\": \"%s\", \"charged_in_period\": %s,"
		    " \"currency\": \"%s\"}", w->seq, w->bundle, w->cls, w->start_local,
		    w->end_local, w->ended, (long long)w->granted, (long long)w->rolled_in,
		    (long long)w->used, (long long)left, (long long)w->rolled_out,
		    (long long)w->forfeited, price, w->tax_included ? "included" : "excluded",
		    charged ? "true" : "false", w->currency);
	} else {
		char g[32], ri[32], u[32], l[32], ro[32], f[32];

		min_sec(w->granted, g);
		min_sec(w->rolled_in, ri);
		min_sec(w->used, u);
		min_sec(left, l);
		min_sec(w->rolled_out, ro);
		min_sec(w->forfeited, f);
		fprintf(c->out, "%-16s %3d %-12s %-19s %-19s %-9s %10s %10s %10s %10s %10s %10s"
		    " %16s %s\n", w->payer, w->seq, w->bundle, w->start_local, w->end_local,
		    w->ended, g, ri, u, l, ro, f, charged ? price : "-", w->currency);
	}
	c->first = 0;
	return 0;
}

int
report_bundles(struct store *s, FILE *out, enum report_format fmt, const char *period,
    const char *account, const char *reseller, struct terr *e)
{
	struct bundles_ctx c = { .out = out, .fmt = fmt, .period = period, .first = 1 };
	int rc;

	if (fmt == REPORT_CSV)
		fputs("account,window,bundle,class,start,end,ended,granted_seconds,"
		    "rolled_in_seconds,used_seconds,left_seconds,rolled_out_seconds,"
		    "forfeited_seconds,price,tax,charged_in_period,currency\n", out);
	else if (fmt == REPORT_JSON)
		fprintf(out, "{\"period\": \"%s\", \"windows\": [", period);
	else
		fprintf(out, "%-16s %3s %-12s %-19s %-19s %-9s %10s %10s %10s %10s %10s %10s %16s\n",
		    "account", "#", "bundle", "start", "end", "ended", "granted", "rolled in",
		    "used", "left", "rolled out", "forfeited", "charge");
	rc = store_each_window(s, period, account, reseller, window_row, &c, e);
	if (fmt == REPORT_JSON) {
		fputs("\n]}\n", out);
	} else if (fmt == REPORT_TEXT) {
		/* minutes as minutes:seconds; a charge belongs to the period the
		 * window starts in */
		for (int i = 0; i < c.ntot; i++) {
			char sum[32];
			int d = money_currency_decimals(c.tot[i].currency);

			money_format(c.tot[i].sum, d < 0 ? 2 : d, sum);
			if (c.tot[i].overflow)
				tally_strlcpy(sum, "(too large)", sizeof sum);
			fprintf(out, "charged in %s: %d windows, %s %s\n", period, c.tot[i].n,
			    sum, c.tot[i].currency);
		}
	}
	return rc < 0 ? -1 : 0;
}

/* ---- balances ----------------------------------------------------------- */

int
report_balances(struct store *s, FILE *out, enum report_format fmt, const money *below,
    const char *reseller, struct terr *e)
{
	struct tariff_set ts;
	int n = 0;

	if (tariff_set_load(s, &ts, e) != 0) {
		tariff_set_release(&ts);
		return -1;
	}
	if (fmt == REPORT_CSV)
		fputs("account,reseller,currency,balance\n", out);
	else if (fmt == REPORT_JSON)
		fputs("{\"balances\": [", out);
	else
		fprintf(out, "%-16s %-16s %-8s %16s\n", "account", "reseller", "currency",
		    "balance");
	for (int i = 0; i < ts.nacct; i++) {
		const struct tariff *t = ts.t[ts.acct[i].t];
		const char *id = ts.acct[i].id;
		char bal[32];
		money b;

		if (reseller && strcmp(reseller, t->reseller) != 0)
			continue;
		if (store_ledger_sum(s, id, NULL, NULL, 0, &b, e) != 0) {
			tariff_set_release(&ts);
			return -1;
		}
		if (below && b >= *below)
			continue;
		money_format(b, t->currency_decimals, bal);
		if (fmt == REPORT_CSV) {
			report_csv_field(out, id, strlen(id));
			fprintf(out, ",%s,%s,%s\n", t->reseller, t->currency, bal);
		} else if (fmt == REPORT_JSON) {
			/* ids and reseller names are of A-Z a-z 0-9 _ . -: nothing to escape */
			fprintf(out, "%s\n  {\"account\": \"%s\", \"reseller\": \"%s\", "
			    "\"currency\": \"%s\", \"balance\": \"%s\"}", n ? "," : "", id,
			    t->reseller, t->currency, bal);
		} else {
			fprintf(out, "%-16s %-16s %-8s %16s\n", id, t->reseller, t->currency, bal);
		}
		n++;
	}
	if (fmt == REPORT_JSON)
		fputs("\n]}\n", out);
	tariff_set_release(&ts);
	return 0;
}

/* ---- revenue ------------------------------------------------------------ */

struct rev_group {
	char issuer[72], currency[8], plan[72], kind[16];
	int tax_rate, tax_included, decimals;
	int64_t lines;
	money net, tax, amount;
};

struct rev_ctx {
	struct store *s;
	struct tariff *t[8];
	int64_t version[8];
	int nt;
	struct rev_group *g;
	int n, cap;
	const char *period;
	struct terr *e;
};

/* The plan an account held in the version its invoice was built with. */
static const char *
plan_of(struct rev_ctx *c, int64_t version, const char *account)
{
	struct tariff *t = NULL;
	int a;

	for (int i = 0; i < c->nt; i++)
		if (c->version[i] == version)
			t = c->t[i];
	if (t == NULL) {
		if (c->nt == 8) {
			tariff_free(c->t[0]);
			memmove(c->t, c->t + 1, 7 * sizeof *c->t);
			memmove(c->version, c->version + 1, 7 * sizeof *c->version);
			c->nt--;
		}
		if ((t = tariff_load_version(c->s, version, c->e)) == NULL)
			return NULL;
		c->t[c->nt] = t;
		c->version[c->nt++] = version;
	}
	a = tariff_account(t, account);
	return a >= 0 ? t->plans[t->accounts[a].plan].name : "";
}

static int
rev_row(const struct revenue_row *r, void *arg)
{
	struct rev_ctx *c = arg;
	const char *plan = plan_of(c, r->version, r->account);
	struct rev_group *g = NULL;

	if (plan == NULL)
		return -1;
	for (int i = 0; i < c->n && !g; i++)
		if (strcmp(c->g[i].issuer, r->issuer) == 0 &&
		    strcmp(c->g[i].currency, r->currency) == 0 &&
		    strcmp(c->g[i].plan, plan) == 0 && strcmp(c->g[i].kind, r->kind) == 0 &&
		    c->g[i].tax_rate == r->tax_rate && c->g[i].tax_included == r->tax_included)
			g = &c->g[i];
	if (g == NULL) {
		if (c->n == c->cap) {
			int cap = c->cap ? c->cap * 2 : 32;
			struct rev_group *v = realloc(c->g, (size_t)cap * sizeof *v);

			if (v == NULL) {
				terr_set(c->e, "out of memory");
				return -1;
			}
			c->g = v, c->cap = cap;
		}
		g = &c->g[c->n++];
		memset(g, 0, sizeof *g);
		tally_strlcpy(g->issuer, r->issuer, sizeof g->issuer);
		tally_strlcpy(g->currency, r->currency, sizeof g->currency);
		tally_strlcpy(g->plan, plan, sizeof g->plan);
		tally_strlcpy(g->kind, r->kind, sizeof g->kind);
		g->tax_rate = r->tax_rate, g->tax_included = r->tax_included;
		g->decimals = r->decimals;
	}
	g->lines += r->lines;
	if (money_add_checked(g->net, r->net, &g->net) != 0 ||
	    money_add_checked(g->tax, r->tax, &g->tax) != 0 ||
	    money_add_checked(g->amount, r->amount, &g->amount) != 0) {
		terr_set(c->e, "revenue of %s, reseller %s, plan %s: adding account %s's %s "
		    "lines does not fit in 64-bit micro-units (overflow); nothing reported",
		    c->period, r->issuer, plan, r->account, r->kind);
		return -1;
	}
	return 0;
}

static int
rev_cmp(const void *a, const void *b)
{
	const struct rev_group *x = a, *y = b;
	int d;

	if ((d = strcmp(x->issuer, y->issuer)) || (d = strcmp(x->currency, y->currency)) ||
	    (d = strcmp(x->plan, y->plan)) || (d = strcmp(x->kind, y->kind)))
		return d;
	if (x->tax_rate != y->tax_rate)
		return x->tax_rate < y->tax_rate ? -1 : 1;
	return x->tax_included - y->tax_included;
}

int
report_revenue(struct store *s, FILE *out, enum report_format fmt, const char *period,
    const char *reseller, struct terr *e)
{
	struct rev_ctx c = { .s = s, .period = period, .e = e };
	int rc = store_each_revenue(s, period, reseller, rev_row, &c, e);

	if (rc == 0 && c.n > 0)
		qsort(c.g, (size_t)c.n, sizeof *c.g, rev_cmp);
	/* every total printed below is checked first: an error, never a
	 * wrapped figure, and nothing half printed */
	for (int i = 0, start = 0; rc == 0 && i < c.n; i++) {
		money net = 0, tax = 0, x;
		const struct rev_group *g = &c.g[i];

		if (i + 1 < c.n && strcmp(c.g[i + 1].issuer, g->issuer) == 0 &&
		    strcmp(c.g[i + 1].currency, g->currency) == 0)
			continue;
		for (int k = start; k <= i && rc == 0; k++)
			if (money_add_checked(c.g[k].net, c.g[k].tax, &x) != 0 ||
			    money_add_checked(net, c.g[k].net, &net) != 0 ||
			    money_add_checked(tax, c.g[k].tax, &tax) != 0 ||
			    money_add_checked(net, tax, &x) != 0)
				rc = terr_set(e, "revenue of %s, reseller %s, %s: the totals do "
				    "not fit in 64-bit micro-units (overflow); nothing reported",
				    period, g->issuer, g->currency);
		start = i + 1;
	}
	if (rc == 0) {
		money net = 0, tax = 0;

		if (fmt == REPORT_CSV)
			fputs("reseller,currency,plan,kind,tax_rate,tax,lines,net,tax_amount,"
			    "total\n", out);
		else if (fmt == REPORT_JSON)
			fputs("{\"revenue\": [", out);
		else
			fprintf(out, "%-14s %-4s %-14s %-9s %6s %-8s %6s %16s %14s %16s\n",
			    "reseller", "cur", "plan", "kind", "rate", "tax", "lines", "net",
			    "tax_amount", "total");
		for (int i = 0; i < c.n; i++) {
			const struct rev_group *g = &c.g[i];
			char a[32], b[32], t[32], rate[16];
			const char *terms = g->tax_included ? "included" : "excluded";

			money_format(g->net, g->decimals, a);
			money_format(g->tax, g->decimals, b);
			money_format(g->net + g->tax, g->decimals, t);
			bill_rate_text(g->tax_rate, rate);
			if (fmt == REPORT_CSV) {
				fprintf(out, "%s,%s,", g->issuer, g->currency);
				report_csv_field(out, g->plan, strlen(g->plan));
				fprintf(out, ",%s,%s,%s,%lld,%s,%s,%s\n", g->kind, rate, terms,
				    (long long)g->lines, a, b, t);
			} else if (fmt == REPORT_JSON) {
				fprintf(out, "%s\n  {\"reseller\": \"%s\", \"currency\": \"%s\","
				    " \"plan\": ", i ? "," : "", g->issuer, g->currency);
				report_json_string(out, g->plan);
				fprintf(out, ", \"kind\": \"%s\", \"tax_rate\": \"%s\", \"tax\": \"%s\","
				    " \"lines\": %lld, \"net\": \"%s\", \"tax_amount\": \"%s\","
				    " \"total\": \"%s\"}", g->kind, rate, terms, (long long)g->lines,
				    a, b, t);
			} else {
				fprintf(out, "%-14s %-4s %-14s %-9s %5s%% %-8s %6lld %16s %14s %16s\n",
				    g->issuer, g->currency, g->plan, g->kind, rate, terms,
				    (long long)g->lines, a, b, t);
			}
			net += g->net, tax += g->tax;
			/* A total per reseller and currency closes its rows. */
			if (fmt == REPORT_TEXT && (i + 1 == c.n ||
			    strcmp(c.g[i + 1].issuer, g->issuer) != 0 ||
			    strcmp(c.g[i + 1].currency, g->currency) != 0)) {
				money_format(net, g->decimals, a);
				money_format(tax, g->decimals, b);
				money_format(net + tax, g->decimals, t);
				fprintf(out, "%-14s %-4s %-14s %-9s %6s %-8s %6s %16s %14s %16s\n",
				    g->issuer, g->currency, "(all)", "", "", "", "", a, b, t);
				net = tax = 0;
			}
		}
		if (fmt == REPORT_JSON)
			fputs("\n]}\n", out);
	}
	for (int i = 0; i < c.nt; i++)
		tariff_free(c.t[i]);
	free(c.g);
	return rc == 0 ? 0 : -1;
}

/* ---- top destinations --------------------------------------------------- */

struct top_ctx {
	FILE *out;
	enum report_format fmt;
	struct tariff_set ts;
	int n;
};

static int
top_row(const struct top_row *r, void *arg)
{
	struct top_ctx *c = arg;
	int decimals = 0;
	const char *currency = "";
	char amt[32];

	/* The reseller's currency, from any of its current accounts. */
	for (int i = 0; i < c->ts.n; i++) {
		if (strcmp(c->ts.t[i]->reseller, r->reseller) == 0) {
			currency = c->ts.t[i]->currency;
			decimals = c->ts.t[i]->currency_decimals;
		}
	}
	money_format(r->amount, decimals, amt);
	if (c->fmt == REPORT_CSV) {
		fprintf(c->out, "%s,%s,", r->reseller, currency);
		report_csv_field(c->out, r->destination, strlen(r->destination));
		fprintf(c->out, ",%lld,%lld,%lld,%s\n", (long long)r->calls, (long long)r->seconds,
		    (long long)r->billed_seconds, amt);
	} else if (c->fmt == REPORT_JSON) {
		fprintf(c->out, "%s\n  {\"reseller\": \"%s\", \"currency\": \"%s\","
		    " \"destination\": ", c->n ? "," : "", r->reseller, currency);
		report_json_string(c->out, r->destination);
		fprintf(c->out, ", \"calls\": %lld, \"seconds\": %lld, \"billed_seconds\": %lld,"
		    " \"amount\": \"%s\"}", (long long)r->calls, (long long)r->seconds,
		    (long long)r->billed_seconds, amt);
	} else {
		fprintf(c->out, "%-14s %-4s %-32.32s %8lld %10lld %10lld %16s\n", r->reseller,
		    currency, r->destination, (long long)r->calls, (long long)r->seconds,
		    (long long)r->billed_seconds, amt);
	}
	c->n++;
	return 0;
}

int
report_top(struct store *s, FILE *out, enum report_format fmt, const char *period,
    const char *reseller, int limit, struct terr *e)
{
	struct top_ctx c = { .out = out, .fmt = fmt };
	int rc;

	if (tariff_set_load(s, &c.ts, e) != 0) {
		tariff_set_release(&c.ts);
		return -1;
	}
	if (fmt == REPORT_CSV)
		fputs("reseller,currency,destination,calls,seconds,billed_seconds,amount\n", out);
	else if (fmt == REPORT_JSON)
		fputs("{\"top\": [", out);
	else
		fprintf(out, "%-14s %-4s %-32s %8s %10s %10s %16s\n", "reseller", "cur",
		    "destination", "calls", "seconds", "billed", "amount");
	rc = store_each_top(s, period, reseller, limit, top_row, &c, e);
	if (rc == 0 && fmt == REPORT_JSON)
		fputs("\n]}\n", out);
	tariff_set_release(&c.ts);
	return rc == 0 ? 0 : -1;
}

/* ---- live feeds ----------------------------------------------------------- */

struct feed_ctx {
	FILE *out;
	enum report_format fmt;
	int n;
};

static int
feed_row(const struct feed_row *r, void *arg)
{
	struct feed_ctx *c = arg;
	char last[32] = "";
	struct civil t;

	if (r->last_start) {
		civil_from_utc(r->last_start, &t);
		snprintf(last, sizeof last, "%04u-%02u-%02uT%02u:%02u:%02uZ", (unsigned)t.year % 10000,
		    (unsigned)t.mon % 100, (unsigned)t.day % 100, (unsigned)t.hour % 100,
		    (unsigned)t.min % 100, (unsigned)t.sec % 100);
	}
	if (c->fmt == REPORT_CSV)
		fprintf(c->out, "%s,%lld,%lld,%lld,%lld,%lld,%s\n", r->source, (long long)r->files,
		    (long long)r->read, (long long)r->accepted, (long long)r->duplicates,
		    (long long)r->rejected, last);
	else if (c->fmt == REPORT_JSON)
		fprintf(c->out, "%s\n  {\"source\": \"%s\", \"files\": %lld, \"received\": %lld,"
		    " \"accepted\": %lld, \"duplicates\": %lld, \"rejected\": %lld,"
		    " \"last_cdr\": \"%s\"}", c->n ? "," : "", r->source, (long long)r->files,
		    (long long)r->read, (long long)r->accepted, (long long)r->duplicates,
		    (long long)r->rejected, last);
	else
		fprintf(c->out, "%-16s %6lld %10lld %10lld %10lld %8lld  %s\n", r->source,
		    (long long)r->files, (long long)r->read, (long long)r->accepted,
		    (long long)r->duplicates, (long long)r->rejected, *last ? last : "-");
	c->n++;
	return 0;
}

int
report_feed(struct store *s, FILE *out, enum report_format fmt, struct terr *e)
{
	struct feed_ctx c = { out, fmt, 0 };

	if (fmt == REPORT_CSV)
		fputs("source,files,received,accepted,duplicates,rejected,last_cdr\n", out);
	else if (fmt == REPORT_JSON)
		fputs("{\"feed\": [", out);
	else
		fprintf(out, "%-16s %6s %10s %10s %10s %8s  %s\n", "source", "files", "received",
		    "accepted", "duplicates", "rejected", "last CDR (start, UTC)");
	if (store_each_feed(s, feed_row, &c, e) != 0)
		return -1;
	if (fmt == REPORT_JSON)
		fputs("\n]}\n", out);
	return 0;
}

/* ---- audit: stored CDRs and ratings --------------------------------------- */

/* UTC ISO-8601 of epoch seconds ("" for none). */
static void
iso_utc(int64_t t, char buf[32])
{
	struct civil c;

	civil_from_utc(t, &c);
	snprintf(buf, 32, "%04u-%02u-%02uT%02u:%02u:%02uZ", (unsigned)c.year % 10000u,
	    (unsigned)c.mon % 100u, (unsigned)c.day % 100u, (unsigned)c.hour % 100u,
	    (unsigned)c.min % 100u, (unsigned)c.sec % 100u);
}

static void
csv_text(FILE *out, const char *s, int comma)
{
	report_csv_field(out, s, strlen(s));
	if (comma)
		fputc(',', out);
}

/* A string of a text report, quoted, bytes shown as report_escaped() and
 * a quote as \x22: a value cannot end its quotes early and pass for the
 * next field (a record key is what a switch wrote). */
static void
text_quoted(FILE *out, const char *s)
{
	fputc('"', out);
	for (const char *q; (q = strchr(s, '"')) != NULL; s = q + 1) {
		report_escaped(out, s, (size_t)(q - s), (size_t)-1);
		fputs("\\x22", out);
	}
	report_escaped(out, s, strlen(s), (size_t)-1);
	fputc('"', out);
}

struct audit_ctx {
	FILE *out;
	enum report_format fmt;
	int64_t n;		/* rows (CDRs, ratings) so far */
	int64_t cdr;		/* the rating being printed, 0 none */
};

static int
audit_cdr_row(const struct audit_cdr_row *r, void *arg)
{
	struct audit_ctx *c = arg;
	const struct stored_cdr *sc = &r->sc;
	char start[32], answer[32] = "", end[32];

	iso_utc(sc->c.start, start);
	if (sc->c.has_answer)
		iso_utc(sc->c.answer, answer);
	iso_utc(sc->c.end, end);
	if (c->fmt == REPORT_CSV) {
		fprintf(c->out, "%lld,%lld,%lld,", (long long)sc->id, (long long)sc->batch,
		    (long long)r->line);
		csv_text(c->out, sc->source, 1);
		csv_text(c->out, sc->c.record_key, 1);
		csv_text(c->out, sc->c.account, 1);
		csv_text(c->out, sc->c.caller_raw, 1);
		csv_text(c->out, sc->c.caller, 1);
		csv_text(c->out, sc->c.callee_raw, 1);
		csv_text(c->out, sc->c.callee, 1);
		fprintf(c->out, "%s,%lld,%s,", start, (long long)sc->c.start, answer);
		if (sc->c.has_answer)
			fprintf(c->out, "%lld", (long long)sc->c.answer);
		fprintf(c->out, ",%s,%lld,%lld,%lld,%s,%s\n", end, (long long)sc->c.end,
		    (long long)sc->c.duration, (long long)sc->c.billsec,
		    cdr_disposition_name(sc->c.disposition), cdr_type_name(sc->c.type));
	} else if (c->fmt == REPORT_JSON) {
		fprintf(c->out, "%s\n  {\"id\": %lld, \"batch_id\": %lld, \"line\": %lld,"
		    " \"source\": ", c->n ? "," : "", (long long)sc->id, (long long)sc->batch,
		    (long long)r->line);
		report_json_string(c->out, sc->source);
		fputs(", \"record_key\": ", c->out);
		report_json_string(c->out, sc->c.record_key);
		fputs(", \"account\": ", c->out);
		report_json_string(c->out, sc->c.account);
		fputs(", \"caller_raw\": ", c->out);
		report_json_string(c->out, sc->c.caller_raw);
		fputs(", \"caller\": ", c->out);
		report_json_string(c->out, sc->c.caller);
		fputs(", \"callee_raw\": ", c->out);
		report_json_string(c->out, sc->c.callee_raw);
		fputs(", \"callee\": ", c->out);
		report_json_string(c->out, sc->c.callee);
		fprintf(c->out, ", \"start\": \"%s\", \"start_ts\": %lld", start,
		    (long long)sc->c.start);
		if (sc->c.has_answer)
			fprintf(c->out, ", \"answer\": \"%s\", \"answer_ts\": %lld", answer,
			    (long long)sc->c.answer);
		else
			fputs(", \"answer\": null, \"answer_ts\": null", c->out);
		fprintf(c->out, ", \"end\": \"%s\", \"end_ts\": %lld, \"duration\": %lld,"
		    " \"billsec\": %lld, \"disposition\": \"%s\", \"type\": \"%s\"}", end,
		    (long long)sc->c.end, (long long)sc->c.duration, (long long)sc->c.billsec,
		    cdr_disposition_name(sc->c.disposition), cdr_type_name(sc->c.type));
	} else {
		fprintf(c->out, "cdr %lld batch %lld line %lld source ", (long long)sc->id,
		    (long long)sc->batch, (long long)r->line);
		text_quoted(c->out, sc->source);
		fputs(" key ", c->out);
		text_quoted(c->out, sc->c.record_key);
		fputs(" account ", c->out);
		text_quoted(c->out, sc->c.account);
		fputs(" caller ", c->out);
		text_quoted(c->out, sc->c.caller_raw);
		fputs(" = ", c->out);
		text_quoted(c->out, sc->c.caller);
		fputs(" callee ", c->out);
		text_quoted(c->out, sc->c.callee_raw);
		fputs(" = ", c->out);
		text_quoted(c->out, sc->c.callee);
		fprintf(c->out, " start %s (%lld)", start, (long long)sc->c.start);
		if (sc->c.has_answer)
			fprintf(c->out, " answer %s (%lld)", answer, (long long)sc->c.answer);
		else
			fputs(" answer -", c->out);
		fprintf(c->out, " end %s (%lld) duration %lld billsec %lld %s %s\n", end,
		    (long long)sc->c.end, (long long)sc->c.duration, (long long)sc->c.billsec,
		    cdr_disposition_name(sc->c.disposition), cdr_type_name(sc->c.type));
	}
	c->n++;
	return 0;
}

int
report_cdrs(struct store *s, FILE *out, enum report_format fmt,
    const struct audit_filter *f, struct terr *e)
{
	struct audit_ctx c = { out, fmt, 0, 0 };

	if (fmt == REPORT_CSV)
		fputs("id,batch_id,line,source,record_key,account,caller_raw,caller,callee_raw,"
		    "callee,start,start_ts,answer,answer_ts,end,end_ts,duration,billsec,"
		    "disposition,type\n", out);
	else if (fmt == REPORT_JSON)
		fputs("{\"cdrs\": [", out);
	if (store_each_audit_cdr(s, f, audit_cdr_row, &c, e) < 0)
		return -1;
	if (fmt == REPORT_JSON)
		fputs("\n]}\n", out);
	return 0;
}

/* Decimals of a rating's amounts: the currency's; none without a version
 * (no currency: the amount is printed whole, or with the decimals it has). */
static int
audit_decimals(const char *currency)
{
	int d = money_currency_decimals(currency);

	return d >= 0 ? d : *currency ? 2 : 0;
}

static void
rating_head(struct audit_ctx *c, const struct audit_rating_row *r)
{
	int d = audit_decimals(r->currency);
	const struct rate_snapshot *b = &r->before;
	char amount[32];

	money_format(r->amount, d, amount);
	if (c->fmt == REPORT_JSON) {
		fprintf(c->out, "%s\n  {\"cdr_id\": %lld, \"source\": ", c->n ? "," : "",
		    (long long)r->cdr);
		report_json_string(c->out, r->source);
		fputs(", \"record_key\": ", c->out);
		report_json_string(c->out, r->record_key);
		if (r->version)
			fprintf(c->out, ", \"version_id\": %lld", (long long)r->version);
		else
			fputs(", \"version_id\": null", c->out);
		fprintf(c->out, ", \"currency\": \"%s\", \"payer\": ", r->currency);
		report_json_string(c->out, r->payer);
		fprintf(c->out, ", \"period\": \"%s\", \"class\": ", r->period);
		if (r->cls)
			report_json_string(c->out, r->cls);
		else
			fputs("null", c->out);
		fprintf(c->out, ", \"status\": \"%s\", \"destination\": ",
		    rate_status_name(r->status));
		report_json_string(c->out, r->destination);
		fputs(", \"prefix\": ", c->out);
		report_json_string(c->out, r->prefix);
		fprintf(c->out, ", \"seconds\": %lld, \"billed_seconds\": %lld, \"amount\": \"%s\","
		    " \"reason\": ", (long long)r->seconds, (long long)r->billed_seconds, amount);
		report_json_string(c->out, r->reason);
		fprintf(c->out, ", \"tier_pos\": %lld, \"test_used\": %lld, \"volume_total\": %lld",
		    (long long)b->tier_pos, (long long)b->test_used, (long long)b->volume_total);
		if (b->bundle_sub >= 0)
			fprintf(c->out, ", \"bundle_sub\": %d, \"bundle_seq\": %d, \"bundle_left\":"
			    " %lld", b->bundle_sub, b->bundle_seq, (long long)b->bundle_left);
		else
			fputs(", \"bundle_sub\": null, \"bundle_seq\": null, \"bundle_left\": null",
			    c->out);
		fputs(", \"pieces\": [", c->out);
		return;
	}
	/* text */
	fprintf(c->out, "cdr %lld source ", (long long)r->cdr);
	text_quoted(c->out, r->source);
	fputs(" key ", c->out);
	text_quoted(c->out, r->record_key);
	fprintf(c->out, " %s payer ", rate_status_name(r->status));
	text_quoted(c->out, r->payer);
	fprintf(c->out, " period %s version ", r->period);
	if (r->version)
		fprintf(c->out, "%lld", (long long)r->version);
	else
		fputc('-', c->out);
	fputs(" class ", c->out);
	if (r->cls)
		text_quoted(c->out, r->cls);
	else
		fputc('-', c->out);
	fputs(" destination ", c->out);
	text_quoted(c->out, r->destination);
	fputs(" prefix ", c->out);
	text_quoted(c->out, r->prefix);
	fprintf(c->out, " seconds %lld billed %lld amount %s%s%s reason ",
	    (long long)r->seconds, (long long)r->billed_seconds, amount,
	    *r->currency ? " " : "", r->currency);
	text_quoted(c->out, r->reason);
	fprintf(c->out, " before tier_pos %lld test_used %lld volume_total %lld",
	    (long long)b->tier_pos, (long long)b->test_used, (long long)b->volume_total);
	if (b->bundle_sub >= 0)
		fprintf(c->out, " bundle %d #%d left %lld\n", b->bundle_sub, b->bundle_seq,
		    (long long)b->bundle_left);
	else
		fputs(" bundle -\n", c->out);
}

static void
rating_csv(struct audit_ctx *c, const struct audit_rating_row *r, const char *amount)
{
	const struct rate_snapshot *b = &r->before;

	fprintf(c->out, "%lld,", (long long)r->cdr);
	csv_text(c->out, r->source, 1);
	csv_text(c->out, r->record_key, 1);
	if (r->version)
		fprintf(c->out, "%lld", (long long)r->version);
	fprintf(c->out, ",%s,", r->currency);
	csv_text(c->out, r->payer, 1);
	fprintf(c->out, "%s,", r->period);
	csv_text(c->out, r->cls ? r->cls : "", 1);
	fprintf(c->out, "%s,", rate_status_name(r->status));
	csv_text(c->out, r->destination, 1);
	csv_text(c->out, r->prefix, 1);
	fprintf(c->out, "%lld,%lld,%s,", (long long)r->seconds, (long long)r->billed_seconds,
	    amount);
	csv_text(c->out, r->reason, 1);
	fprintf(c->out, "%lld,%lld,%lld,", (long long)b->tier_pos, (long long)b->test_used,
	    (long long)b->volume_total);
	if (b->bundle_sub >= 0)
		fprintf(c->out, "%d,%d,%lld,", b->bundle_sub, b->bundle_seq,
		    (long long)b->bundle_left);
	else
		fputs(",,,", c->out);
}

static int
audit_rating_row(const struct audit_rating_row *r, void *arg)
{
	struct audit_ctx *c = arg;
	const struct audit_piece *p = r->piece;
	int d = audit_decimals(r->currency), first = r->cdr != c->cdr;
	char amount[32], price[32] = "", pamount[32] = "";

	if (p) {
		money_format(p->price, d, price);
		/* the exact charge shown to the micro-unit, half-up, as usage does */
		money_format(money_round(p->exact, ROUND_FULL, 6), d, pamount);
	}
	if (c->fmt == REPORT_CSV) {
		money_format(r->amount, d, amount);
		rating_csv(c, r, amount);
		if (p) {
			fprintf(c->out, "%lld,%s,", (long long)p->seq, rate_piece_kind_name(p->kind));
			csv_text(c->out, p->label, 1);
			fprintf(c->out, "%lld,%s,%s,%lld\n", (long long)p->seconds, price, pamount,
			    (long long)p->exact);
		} else {
			fputs(",,,,,,\n", c->out);
		}
		c->n += first;
		c->cdr = r->cdr;
		return 0;
	}
	if (first) {
		if (c->fmt == REPORT_JSON && c->cdr != 0)
			fputs("]}", c->out);
		rating_head(c, r);
		c->n++;
		c->cdr = r->cdr;
	}
	if (p == NULL)
		return 0;
	if (c->fmt == REPORT_JSON) {
		/* exact as a string: sixtieths of a micro-unit pass 2^53 */
		fprintf(c->out, "%s{\"seq\": %lld, \"kind\": \"%s\", \"label\": ",
		    first ? "" : ", ", (long long)p->seq, rate_piece_kind_name(p->kind));
		report_json_string(c->out, p->label);
		fprintf(c->out, ", \"seconds\": %lld, \"price\": \"%s\", \"amount\": \"%s\","
		    " \"exact\": \"%lld\"}", (long long)p->seconds, price, pamount,
		    (long long)p->exact);
	} else {
		fprintf(c->out, "    piece %lld %s ", (long long)p->seq,
		    rate_piece_kind_name(p->kind));
		text_quoted(c->out, p->label);
		fprintf(c->out, " %lld s price %s amount %s exact_x60 %lld\n",
		    (long long)p->seconds, price, pamount, (long long)p->exact);
	}
	return 0;
}

int
report_ratings(struct store *s, FILE *out, enum report_format fmt,
    const struct audit_filter *f, struct terr *e)
{
	struct audit_ctx c = { out, fmt, 0, 0 };

	if (fmt == REPORT_CSV)
		fputs("cdr_id,source,record_key,version_id,currency,payer,period,class,status,"
		    "destination,prefix,seconds,billed_seconds,amount,reason,tier_pos,test_used,"
		    "volume_total,bundle_sub,bundle_seq,bundle_left,piece_seq,piece_kind,"
		    "piece_label,piece_seconds,piece_price,piece_amount,piece_exact\n", out);
	else if (fmt == REPORT_JSON)
		fputs("{\"ratings\": [", out);
	if (store_each_audit_rating(s, f, audit_rating_row, &c, e) < 0)
		return -1;
	if (fmt == REPORT_JSON)
		fputs(c.cdr ? "]}\n]}\n" : "\n]}\n", out);
	return 0;
}
