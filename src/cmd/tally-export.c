/*
 * tally-export - an issued invoice or credit note in a stable machine form.
 * See tally-export(1).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "tally/billing.h"
#include "tally/store.h"

static const char *progname = "tally-export";

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: tally-export [--db FILE] --invoice NUMBER --format json|csv\n"
	    "       tally-export --help | --version\n");
}

/* A JSON string: quotes, backslashes and control bytes escaped; UTF-8 as is. */
static void
jstr(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* A CSV field, quoted when it must be. */
static void
cstr(FILE *f, const char *s)
{
	if (strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

struct doc {
	struct invoice_row r;
	char strs[16][256];
	int found, csv, nlines, ntaxes;
	FILE *out;
};

static int
on_invoice(const struct invoice_row *r, void *arg)
{
	struct doc *d = arg;
	const char **f[] = { &d->r.kind, &d->r.number, &d->r.status, &d->r.issuer,
		&d->r.account, &d->r.name, &d->r.period, &d->r.first_day, &d->r.last_day,
		&d->r.date, &d->r.currency, &d->r.reason, &d->r.refers_number };

	d->r = *r;
	for (size_t i = 0; i < sizeof f / sizeof *f; i++) {
		snprintf(d->strs[i], sizeof d->strs[i], "%s", *f[i] ? *f[i] : "");
		*f[i] = d->strs[i];
	}
	d->found = 1;
	return 1;
}

static int
on_line(const struct bill_line *l, void *arg)
{
	struct doc *d = arg;
	char up[32], amt[32], tax[32], net[32], rate[16];
	int dec = d->r.decimals;

	money_format(l->unit_price, dec, up);
	money_format(l->amount, dec, amt);
	money_format(l->tax, dec, tax);
	money_format(l->net, dec, net);
	bill_rate_text(l->tax_rate, rate);
	if (d->csv) {
		fputs("line,", d->out);
		cstr(d->out, bill_kind_name(l->kind));
		fputc(',', d->out);
		cstr(d->out, l->description);
		fprintf(d->out, ",%s,%s,%s,%s,%s,%s,%s\n", l->quantity, up, amt, rate,
		    l->tax_included ? "included" : "excluded", tax, net);
		return 0;
	}
	fprintf(d->out, "%s\n    {\"kind\": \"%s\", \"description\": ", d->nlines++ ? "," : "",
	    bill_kind_name(l->kind));
	jstr(d->out, l->description);
	fprintf(d->out, ", \"quantity\": \"%s\", \"unit_price\": \"%s\", \"amount\": \"%s\","
	    " \"tax_rate\": \"%s\", \"tax_included\": %s, \"tax\": \"%s\", \"net\": \"%s\"}",
	    l->quantity, up, amt, rate, l->tax_included ? "true" : "false", tax, net);
	return 0;
}

static int
on_tax(const struct bill_taxgroup *g, void *arg)
{
	struct doc *d = arg;
	char base[32], tax[32], rate[16];

	money_format(g->base, d->r.decimals, base);
	money_format(g->tax, d->r.decimals, tax);
	bill_rate_text(g->rate, rate);
	if (d->csv)
		fprintf(d->out, "tax,%s,%s,%s,%s\n", rate, g->included ? "included" : "excluded",
		    base, tax);
	else
		fprintf(d->out, "%s\n    {\"rate\": \"%s\", \"tax_included\": %s, \"base\": \"%s\","
		    " \"amount\": \"%s\"}", d->ntaxes++ ? "," : "", rate,
		    g->included ? "true" : "false", base, tax);
	return 0;
}

static int
export(struct store *s, struct doc *d, struct terr *e)
{
	static const char *const keys[] = { "subtotal", "tax", "total", "previous_balance",
		"payments", "amount_due" };
	money vals[6] = { d->r.subtotal, d->r.tax, d->r.total, d->r.previous, d->r.payments,
		d->r.due };
	const char *head[][2] = { { "number", d->r.number }, { "kind", d->r.kind },
		{ "status", d->r.status }, { "issuer", d->r.issuer },
		{ "account", d->r.account }, { "name", d->r.name }, { "period", d->r.period },
		{ "period_start", d->r.first_day }, { "period_end", d->r.last_day },
		{ "date", d->r.date }, { "currency", d->r.currency },
		{ "refers_to", d->r.refers_number }, { "reason", d->r.reason } };
	char buf[32];

	if (d->csv) {
		fputs("record,kind,description,quantity,unit_price,amount,tax_rate,tax,"
		    "tax_amount,net\n", d->out);
		for (size_t i = 0; i < sizeof head / sizeof *head; i++) {
			fprintf(d->out, "field,%s,", head[i][0]);
			cstr(d->out, head[i][1]);
			fputc('\n', d->out);
		}
	} else {
		fputs("{", d->out);
		for (size_t i = 0; i < sizeof head / sizeof *head; i++) {
			fprintf(d->out, "%s\n  \"%s\": ", i ? "," : "", head[i][0]);
			jstr(d->out, head[i][1]);
		}
		fputs(",\n  \"lines\": [", d->out);
	}
	if (store_each_invoice_line(s, d->r.id, on_line, d, e) != 0)
		return -1;
	if (!d->csv)
		fputs("\n  ],\n  \"taxes\": [", d->out);
	if (store_each_invoice_tax(s, d->r.id, on_tax, d, e) != 0)
		return -1;
	if (!d->csv)
		fputs("\n  ]", d->out);
	for (int i = 0; i < 6; i++) {
		money_format(vals[i], d->r.decimals, buf);
		if (d->csv)
			fprintf(d->out, "field,%s,%s\n", keys[i], buf);
		else
			fprintf(d->out, ",\n  \"%s\": \"%s\"", keys[i], buf);
	}
	if (!d->csv)
		fputs("\n}\n", d->out);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "invoice", required_argument, NULL, 'i' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *db = store_default_path(), *number = NULL, *format = NULL;
	struct invoice_filter f = { 0 };
	static struct doc d;
	struct store *s;
	struct terr e;
	int ch;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': db = optarg; break;
		case 'i': number = optarg; break;
		case 'f': format = optarg; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("tally-export %s\n", TALLY_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || !number || !format ||
	    (strcmp(format, "json") != 0 && strcmp(format, "csv") != 0)) {
		usage(stderr);
		return 2;
	}
	d.csv = strcmp(format, "csv") == 0;
	d.out = stdout;
	f.number = number;
	if ((s = store_open(db, STORE_EXISTING, &e)) == NULL) {
		fprintf(stderr, "%s: %s\n", progname, e.msg);
		return 1;
	}
	if (store_each_invoice(s, &f, on_invoice, &d, &e) < 0 ||
	    (d.found && export(s, &d, &e) != 0)) {
		fprintf(stderr, "%s: %s\n", progname, e.msg);
		store_close(s);
		return 1;
	}
	store_close(s);
	if (!d.found) {
		fprintf(stderr, "%s: no invoice or credit note numbered \"%s\" (drafts have no "
		    "number: issue them first)\n", progname, number);
		return 1;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "%s: error writing standard output\n", progname);
		return 1;
	}
	return 0;
}
