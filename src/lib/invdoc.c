/*
 * invdoc.c - an issued invoice gathered for rendering, and its JSON and
 * CSV forms.  See invdoc.h.
 */
#include <stdlib.h>
#include <string.h>

#include "tally/invdoc.h"
#include "tally/ratejob.h"
#include "tally/report.h"
#include "tally/tariff.h"
#include "tally/tz.h"

#define MAX_VERSIONS 16

struct invdoc_set {
	struct store *s;
	struct tariff *t[MAX_VERSIONS];
	int64_t version[MAX_VERSIONS];
	int n, next;		/* next: the slot to reuse when full */
};

struct invdoc_set *
invdoc_set_new(struct store *s)
{
	struct invdoc_set *set = calloc(1, sizeof *set);

	if (set)
		set->s = s;
	return set;
}

void
invdoc_set_free(struct invdoc_set *set)
{
	if (set == NULL)
		return;
	for (int i = 0; i < set->n; i++)
		tariff_free(set->t[i]);
	free(set);
}

static struct tariff *
version_of(struct invdoc_set *set, int64_t version, struct terr *e)
{
	struct tariff *t;
	int slot;

	for (int i = 0; i < set->n; i++)
		if (set->version[i] == version)
			return set->t[i];
	if ((t = tariff_load_version(set->s, version, e)) == NULL)
		return NULL;
	if (set->n < MAX_VERSIONS) {
		slot = set->n++;
	} else {
		slot = set->next;
		set->next = (set->next + 1) % MAX_VERSIONS;
		tariff_free(set->t[slot]);
	}
	set->t[slot] = t;
	set->version[slot] = version;
	return t;
}

/* Keep a copy of *p in the document; NULL becomes "". */
static int
keep(struct invdoc *d, int i, const char **p)
{
	if ((d->strs[i] = strdup(*p ? *p : "")) == NULL)
		return -1;
	*p = d->strs[i];
	return 0;
}

static int
add_line(const struct bill_line *l, void *arg)
{
	struct invdoc *d = arg;
	struct bill_line *v = realloc(d->lines, (size_t)(d->nlines + 1) * sizeof *v);

	if (v == NULL)
		return -1;
	d->lines = v;
	d->lines[d->nlines++] = *l;
	return 0;
}

static int
add_tax(const struct bill_taxgroup *g, void *arg)
{
	struct invdoc *d = arg;

	if (d->ntaxes == BILL_MAX_TAXGROUPS)
		return -1;
	d->taxes[d->ntaxes++] = *g;
	return 0;
}

int
invdoc_load(struct invdoc_set *set, const struct invoice_row *r, struct invdoc *d,
    struct terr *e)
{
	const char **own[] = { &d->r.kind, &d->r.number, &d->r.status, &d->r.issuer,
		&d->r.account, &d->r.name, &d->r.period, &d->r.first_day, &d->r.last_day,
		&d->r.date, &d->r.currency, &d->r.prefix, &d->r.credit_prefix, &d->r.reason,
		&d->r.refers_number, &d->seller, &d->seller_address, &d->seller_tax_id,
		&d->tzname };
	struct tariff *t;
	int a, rc;

	memset(d, 0, sizeof *d);
	d->r = *r;
	*e->msg = '\0';
	if ((t = version_of(set, r->version, e)) == NULL)
		return -1;
	a = tariff_account(t, r->account);
	d->seller = t->issuer ? t->issuer : t->name ? t->name : t->reseller;
	d->seller_address = t->issuer_address;
	d->seller_tax_id = t->issuer_tax_id;
	d->tzname = a >= 0 ? t->accounts[a].tzname : "UTC";
	for (size_t i = 0; i < sizeof own / sizeof *own; i++) {
		if (keep(d, (int)i, own[i]) != 0) {
			terr_set(e, "out of memory");
			invdoc_release(d);
			return -1;
		}
	}
	d->customer = *d->r.name ? d->r.name : d->r.account;
	if ((d->tz = tz_open(d->tzname, e)) == NULL) {
		invdoc_release(d);
		return -1;
	}
	rc = store_each_invoice_line(set->s, r->id, add_line, d, e);
	if (rc == 0)
		rc = store_each_invoice_tax(set->s, r->id, add_tax, d, e);
	if (rc != 0) {
		/* a walk stopped by add_line or add_tax left no message */
		if (*e->msg == '\0')
			terr_set(e, "invoice %s: out of memory or too many tax groups", r->number);
		invdoc_release(d);
		return -1;
	}
	return 0;
}

void
invdoc_release(struct invdoc *d)
{
	for (size_t i = 0; i < sizeof d->strs / sizeof *d->strs; i++)
		free(d->strs[i]);
	free(d->lines);
	if (d->tz)
		tz_free(d->tz);
	memset(d, 0, sizeof *d);
}

struct call_walk {
	const struct invdoc *d;
	int (*fn)(const struct invdoc_call *, void *);
	void *arg;
};

static int
one_call(const struct invoice_call *c, void *arg)
{
	struct call_walk *w = arg;
	struct invdoc_call ic = { .c = c };
	struct civil l;

	tz_from_utc(w->d->tz, c->start_ts, &l);
	snprintf(ic.local, sizeof ic.local, "%04u-%02u-%02u %02u:%02u:%02u",
	    (unsigned)l.year % 10000, (unsigned)l.mon % 100, (unsigned)l.day % 100,
	    (unsigned)l.hour % 100, (unsigned)l.min % 100, (unsigned)l.sec % 100);
	return w->fn(&ic, w->arg);
}

int
invdoc_each_call(struct invdoc_set *set, const struct invdoc *d,
    int (*fn)(const struct invdoc_call *, void *), void *arg, struct terr *e)
{
	struct call_walk w = { d, fn, arg };

	return store_each_invoice_call(set->s, d->r.id, one_call, &w, e);
}

/* ---- plain forms ---------------------------------------------------------- */

struct plain {
	const struct invdoc *d;
	FILE *out;
	int n;
};

static void
csv(FILE *f, const char *s)
{
	report_csv_field(f, s, strlen(s));
}

static const char *const total_keys[] = { "subtotal", "tax", "total", "previous_balance",
	"payments", "amount_due" };

/* A line's and a tax group's figures as both plain forms print them. */
struct figures {
	char unit[32], amount[32], tax[32], net[32], rate[16];
};

static void
line_figures(const struct invdoc *d, const struct bill_line *l, struct figures *f)
{
	money_format(l->unit_price, d->r.decimals, f->unit);
	money_format(l->amount, d->r.decimals, f->amount);
	money_format(l->tax, d->r.decimals, f->tax);
	money_format(l->net, d->r.decimals, f->net);
	bill_rate_text(l->tax_rate, f->rate);
}

static void
tax_figures(const struct invdoc *d, const struct bill_taxgroup *g, struct figures *f)
{
	money_format(g->base, d->r.decimals, f->net);
	money_format(g->tax, d->r.decimals, f->tax);
	bill_rate_text(g->rate, f->rate);
}

static void
totals(const struct invdoc *d, money v[6])
{
	v[0] = d->r.subtotal, v[1] = d->r.tax, v[2] = d->r.total;
	v[3] = d->r.previous, v[4] = d->r.payments, v[5] = d->r.due;
}

/* The header fields, name and value, in the order both forms print them. */
static int
header(const struct invdoc *d, const char *kv[][2])
{
	const char *h[][2] = { { "number", d->r.number }, { "kind", d->r.kind },
		{ "status", d->r.status }, { "issuer", d->r.issuer },
		{ "seller", d->seller }, { "seller_address", d->seller_address },
		{ "seller_tax_id", d->seller_tax_id },
		{ "account", d->r.account }, { "name", d->r.name }, { "period", d->r.period },
		{ "period_start", d->r.first_day }, { "period_end", d->r.last_day },
		{ "date", d->r.date }, { "currency", d->r.currency },
		{ "timezone", d->tzname },
		{ "refers_to", d->r.refers_number }, { "reason", d->r.reason } };
	int n = (int)(sizeof h / sizeof *h);

	memcpy(kv, h, sizeof h);
	return n;
}

static int
json_call(const struct invdoc_call *ic, void *arg)
{
	struct plain *p = arg;
	char amt[32];

	money_format(ic->c->amount, p->d->r.decimals, amt);
	fprintf(p->out, "%s\n    {\"time\": \"%s\", \"caller\": ", p->n++ ? "," : "", ic->local);
	report_json_string(p->out, ic->c->caller);
	fputs(", \"callee\": ", p->out);
	report_json_string(p->out, ic->c->callee);
	fputs(", \"destination\": ", p->out);
	report_json_string(p->out, ic->c->destination);
	fputs(", \"class\": ", p->out);
	report_json_string(p->out, ic->c->class);
	fprintf(p->out, ", \"seconds\": %lld, \"billed_seconds\": %lld, \"charge\": \"%s\"}",
	    (long long)ic->c->seconds, (long long)ic->c->billed_seconds, amt);
	return 0;
}

int
invdoc_json(struct invdoc_set *set, const struct invdoc *d, FILE *out, struct terr *e)
{
	const char *kv[32][2];
	int nh = header(d, kv);
	struct plain p = { d, out, 0 };
	struct figures f;
	money v[6];
	char a[32];

	fputc('{', out);
	for (int i = 0; i < nh; i++) {
		fprintf(out, "%s\n  \"%s\": ", i ? "," : "", kv[i][0]);
		report_json_string(out, kv[i][1]);
	}
	fputs(",\n  \"lines\": [", out);
	for (int i = 0; i < d->nlines; i++) {
		const struct bill_line *l = &d->lines[i];

		line_figures(d, l, &f);
		fprintf(out, "%s\n    {\"kind\": \"%s\", \"description\": ", i ? "," : "",
		    bill_kind_name(l->kind));
		report_json_string(out, l->description);
		fprintf(out, ", \"quantity\": \"%s\", \"unit_price\": \"%s\", \"amount\": \"%s\","
		    " \"tax_rate\": \"%s\", \"tax_included\": %s, \"tax\": \"%s\", \"net\": \"%s\"}",
		    l->quantity, f.unit, f.amount, f.rate, l->tax_included ? "true" : "false", f.tax,
		    f.net);
	}
	fputs("\n  ],\n  \"taxes\": [", out);
	for (int i = 0; i < d->ntaxes; i++) {
		tax_figures(d, &d->taxes[i], &f);
		fprintf(out, "%s\n    {\"rate\": \"%s\", \"tax_included\": %s, \"base\": \"%s\","
		    " \"amount\": \"%s\"}", i ? "," : "", f.rate,
		    d->taxes[i].included ? "true" : "false", f.net, f.tax);
	}
	fputs("\n  ]", out);
	totals(d, v);
	for (int i = 0; i < 6; i++) {
		money_format(v[i], d->r.decimals, a);
		fprintf(out, ",\n  \"%s\": \"%s\"", total_keys[i], a);
	}
	fputs(",\n  \"calls\": [", out);
	if (invdoc_each_call(set, d, json_call, &p, e) != 0)
		return -1;
	fputs("\n  ]\n}\n", out);
	return 0;
}

static int
csv_call(const struct invdoc_call *ic, void *arg)
{
	struct plain *p = arg;
	char amt[32];

	money_format(ic->c->amount, p->d->r.decimals, amt);
	fprintf(p->out, "call,%s,", ic->local);
	csv(p->out, ic->c->caller);
	fputc(',', p->out);
	csv(p->out, ic->c->callee);
	fputc(',', p->out);
	csv(p->out, ic->c->destination);
	fputc(',', p->out);
	csv(p->out, ic->c->class);
	fprintf(p->out, ",%lld,%lld,%s\n", (long long)ic->c->seconds,
	    (long long)ic->c->billed_seconds, amt);
	return 0;
}

int
invdoc_csv(struct invdoc_set *set, const struct invdoc *d, FILE *out, struct terr *e)
{
	const char *kv[32][2];
	int nh = header(d, kv);
	struct plain p = { d, out, 0 };
	struct figures f;
	money v[6];
	char a[32];

	fputs("record,kind,description,quantity,unit_price,amount,tax_rate,tax,"
	    "tax_amount,net\n", out);
	for (int i = 0; i < nh; i++) {
		fprintf(out, "field,%s,", kv[i][0]);
		csv(out, kv[i][1]);
		fputc('\n', out);
	}
	for (int i = 0; i < d->nlines; i++) {
		const struct bill_line *l = &d->lines[i];

		line_figures(d, l, &f);
		fprintf(out, "line,%s,", bill_kind_name(l->kind));
		csv(out, l->description);
		fprintf(out, ",%s,%s,%s,%s,%s,%s,%s\n", l->quantity, f.unit, f.amount, f.rate,
		    l->tax_included ? "included" : "excluded", f.tax, f.net);
	}
	for (int i = 0; i < d->ntaxes; i++) {
		tax_figures(d, &d->taxes[i], &f);
		fprintf(out, "tax,%s,%s,%s,%s\n", f.rate,
		    d->taxes[i].included ? "included" : "excluded", f.net, f.tax);
	}
	totals(d, v);
	for (int i = 0; i < 6; i++) {
		money_format(v[i], d->r.decimals, a);
		fprintf(out, "field,%s,%s\n", total_keys[i], a);
	}
	return invdoc_each_call(set, d, csv_call, &p, e);
}
