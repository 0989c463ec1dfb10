#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tally/billing.h"
#include "tally/invoice.h"
#include "tally/ratejob.h"
#include "tally/timefmt.h"
#include "tally/tz.h"

static int64_t
local_midnight(struct tz *z, int32_t date)
{
	return tz_day_start(z, date / 10000, date / 100 % 100, date % 100);
}

static int32_t
local_date(struct tz *z, int64_t t)
{
	struct civil c;

	tz_from_utc(z, t, &c);
	return c.year * 10000 + c.mon * 100 + c.day;
}

/* ---- usage lines -------------------------------------------------------- */

struct ugroup {
	char period[8], cls[64], dest[128], kind[16], label[64];
	money price, exact;
	int64_t seconds, count;
};

struct usage {
	const char *period;	/* the period closed */
	struct ugroup *g;
	int ng, cap;
	int64_t *cdrs;		/* the calls, for invoice_cdr */
	int ncdrs, cdrcap;
	/* the pieces of the call being read */
	struct bill_piece p[RATE_MAX_PIECES];
	char strs[RATE_MAX_PIECES][5][128];
	int np;
	struct terr *e;
};

static int
add_to_group(struct usage *u, const struct bill_piece *p, money share)
{
	struct ugroup *g = NULL;

	for (int i = u->ng - 1; i >= 0 && !g; i--) {
		struct ugroup *x = &u->g[i];

		if (x->price == p->price && strcmp(x->period, p->period) == 0 &&
		    strcmp(x->cls, p->cls) == 0 && strcmp(x->dest, p->destination) == 0 &&
		    strcmp(x->kind, p->kind) == 0 && strcmp(x->label, p->label) == 0)
			g = x;
	}
	if (g == NULL) {
		if (u->ng == u->cap) {
			int cap = u->cap ? u->cap * 2 : 16;
			struct ugroup *v = realloc(u->g, (size_t)cap * sizeof *v);

			if (v == NULL)
				return terr_set(u->e, "out of memory");
			u->g = v;
			u->cap = cap;
		}
		g = &u->g[u->ng++];
		memset(g, 0, sizeof *g);
		tally_strlcpy(g->period, p->period, sizeof g->period);
		tally_strlcpy(g->cls, p->cls, sizeof g->cls);
		tally_strlcpy(g->dest, p->destination, sizeof g->dest);
		tally_strlcpy(g->kind, p->kind, sizeof g->kind);
		tally_strlcpy(g->label, p->label, sizeof g->label);
		g->price = p->price;
	}
	g->seconds += p->seconds;
	g->count++;
	g->exact += share;
	return 0;
}

/* A call's pieces are all read: share its rated amount among them.  Each
 * piece gets its exact charge to the micro-unit; what the call's rounding
 * added or took goes to its last piece with a price. */
static int
flush_call(struct usage *u)
{
	money shares[RATE_MAX_PIECES], sum = 0;
	int last = u->np - 1;

	if (u->np == 0)
		return 0;
	for (int i = 0; i < u->np; i++) {
		shares[i] = money_round(u->p[i].exact, ROUND_FULL, 6);
		sum += shares[i];
		if (u->p[i].price > 0)
			last = i;
	}
	shares[last] += u->p[0].amount - sum;
	for (int i = 0; i < u->np; i++)
		if (add_to_group(u, &u->p[i], shares[i]) != 0)
			return -1;
	if (u->ncdrs == u->cdrcap) {
		int cap = u->cdrcap ? u->cdrcap * 2 : 64;
		int64_t *v = realloc(u->cdrs, (size_t)cap * sizeof *v);

		if (v == NULL)
			return terr_set(u->e, "out of memory");
		u->cdrs = v;
		u->cdrcap = cap;
	}
	u->cdrs[u->ncdrs++] = u->p[0].cdr;
	u->np = 0;
	return 0;
}

static int
on_piece(const struct bill_piece *p, void *arg)
{
	struct usage *u = arg;
	const char *src[5] = { p->period, p->cls, p->destination, p->kind, p->label };
	char (*dst)[128];
	struct bill_piece *q;

	if (u->np > 0 && u->p[0].cdr != p->cdr && flush_call(u) != 0)
		return -1;
	if (u->np == RATE_MAX_PIECES)
		return terr_set(u->e, "CDR %lld has more than %d pieces", (long long)p->cdr,
		    RATE_MAX_PIECES);
	/* the row's strings live only until the next row: keep copies */
	q = &u->p[u->np];
	dst = u->strs[u->np];
	*q = *p;
	for (int k = 0; k < 5; k++)
		tally_strlcpy(dst[k], src[k], sizeof dst[k]);
	q->period = dst[0];
	q->cls = dst[1];
	q->destination = dst[2];
	q->kind = dst[3];
	q->label = dst[4];
	u->np++;
	return 0;
}

static int
by_ugroup(const void *a, const void *b)
{
	const struct ugroup *x = a, *y = b;
	int c;

	if ((c = strcmp(x->period, y->period)) || (c = strcmp(x->cls, y->cls)) ||
	    (c = strcmp(x->dest, y->dest)) || (c = strcmp(x->kind, y->kind)) ||
	    (c = strcmp(x->label, y->label)))
		return c;
	return (x->price > y->price) - (x->price < y->price);
}

static int
usage_lines(struct usage *u, int tax_rate, int tax_included, struct bill_lines *out)
{
	if (u->ng > 1)
		qsort(u->g, (size_t)u->ng, sizeof *u->g, by_ugroup);
	for (int i = 0; i < u->ng; i++) {
		const struct ugroup *g = &u->g[i];
		int prior = strcmp(g->period, u->period) < 0;
		struct bill_line *l = bill_add(out, prior ? BL_PRIOR : BL_USAGE);
		char what[96], pre[40] = "", text[512];

		if (l == NULL)
			return terr_set(u->e, "out of memory");
		if (strcmp(g->kind, "tier") == 0)
			snprintf(what, sizeof what, "tier %s", g->label);
		else if (strcmp(g->kind, "test") == 0)
			snprintf(what, sizeof what, "test minutes");
		else if (strcmp(g->kind, "bundle") == 0)
			snprintf(what, sizeof what, "in bundle %s", g->label);
		else if (strcmp(g->kind, "message") == 0)
			snprintf(what, sizeof what, "messages");
		else if (strcmp(g->kind, "connection") == 0)
			snprintf(what, sizeof what, "connection fees");
		else
			snprintf(what, sizeof what, "%s", g->label);
		if (prior)
			snprintf(pre, sizeof pre, "prior period %s: ", g->period);
		snprintf(text, sizeof text, "%s%s%s%s, %s", pre, g->cls, g->dest[0] ? ", " : "",
		    g->dest, what);
		tally_strlcpy(l->description, text, sizeof l->description);
		if (strcmp(g->kind, "message") == 0 || strcmp(g->kind, "connection") == 0)
			snprintf(l->quantity, sizeof l->quantity, "%lld", (long long)g->count);
		else {
			int64_t h = (g->seconds * 100 * 2 + 60) / 120;	/* minutes, half-up */

			snprintf(l->quantity, sizeof l->quantity, "%lld.%02lld",
			    (long long)(h / 100), (long long)(h % 100));
		}
		l->unit_price = g->price;
		l->exact = g->exact;
		l->tax_rate = tax_rate;
		l->tax_included = tax_included;
	}
	return 0;
}

/* ---- closing one account ------------------------------------------------ */

struct closing {
	struct store *s;
	const struct tariff *t;
	int a;
	const char *period;
	struct bill_lines *lines;
	int tax_rate;
	struct terr *e;
};

static int
on_window(const struct window_row *w, void *arg)
{
	struct closing *c = arg;
	struct bill_line *l;
	char ref[96];
	int charged;

	snprintf(ref, sizeof ref, "window:%s:%lld:%s", w->payer, (long long)w->start, w->bundle);
	if ((charged = store_ref_charged(c->s, ref, c->e)) < 0)
		return -1;
	if (charged || w->price == 0)
		return 0;
	if ((l = bill_add(c->lines, BL_BUNDLE)) == NULL)
		return terr_set(c->e, "out of memory");
	snprintf(l->description, sizeof l->description, "Bundle %s #%d, %.16s to %.16s",
	    w->bundle, w->seq, w->start_local, w->end_local);
	snprintf(l->quantity, sizeof l->quantity, "1");
	l->unit_price = l->exact = w->price;
	l->tax_rate = c->tax_rate;
	l->tax_included = w->tax_included;
	tally_strlcpy(l->ref, ref, sizeof l->ref);
	return 0;
}

static int
minimum_lines(struct closing *c, int32_t first, int32_t end, struct bill_lines *out)
{
	const struct tariff *t = c->t;
	int d = t->currency_decimals;
	money amount, counted = 0;
	int32_t ys, ye;
	char buf[32], d1[11], d2[11];

	for (int i = 0; i < out->n; i++)
		if (out->v[i].kind == BL_USAGE || out->v[i].kind == BL_BUNDLE)
			counted += out->v[i].exact;
	if (bill_monthly_minimum(t, c->a, first, &amount) && amount > counted) {
		struct bill_line *l = bill_add(out, BL_MINIMUM);

		if (l == NULL)
			return terr_set(c->e, "out of memory");
		money_format(amount, d, buf);
		snprintf(l->description, sizeof l->description, "Monthly minimum spend %s: "
		    "true-up", buf);
		snprintf(l->quantity, sizeof l->quantity, "1");
		l->unit_price = l->exact = amount - counted;
		l->tax_rate = c->tax_rate;
		l->tax_included = t->tax_included;
	}
	if (bill_annual_minimum(t, c->a, first, end, &ys, &ye, &amount)) {
		struct tz *z = t->accounts[c->a].tz;
		money spent;

		if (store_spend_between(c->s, t->accounts[c->a].id, local_midnight(z, ys),
		    local_midnight(z, ye), &spent, c->e) != 0)
			return -1;
		if (amount > spent) {
			struct bill_line *l = bill_add(out, BL_MINIMUM);

			if (l == NULL)
				return terr_set(c->e, "out of memory");
			money_format(amount, d, buf);
			bill_date_text(ys, d1);
			bill_date_text(bill_date_add_days(ye, -1), d2);
			snprintf(l->description, sizeof l->description, "Annual minimum spend %s, "
			    "contract year %s to %s: true-up", buf, d1, d2);
			snprintf(l->quantity, sizeof l->quantity, "1");
			l->unit_price = l->exact = amount - spent;
			l->tax_rate = c->tax_rate;
			l->tax_included = t->tax_included;
		}
	}
	return 0;
}

static int
close_account(struct store *s, const struct tariff *t, int64_t version, int a,
    const char *period, int64_t gen, struct close_summary *sum, struct terr *e)
{
	const struct taccount *acct = &t->accounts[a];
	struct bill_lines lines = { 0 };
	struct usage u = { .period = period, .e = e };
	struct closing c = { .s = s, .t = t, .a = a, .period = period, .lines = &lines,
		.tax_rate = tariff_account_tax_rate(t, a), .e = e };
	struct bill_totals tot;
	struct invoice_row row = { 0 };
	int32_t first = local_date(acct->tz, rate_period_start(acct, period, 0));
	int32_t end = local_date(acct->tz, rate_period_start(acct, period, 1));
	char fd[11], ld[11], ed[11];
	int64_t id, unrated;
	int rc = -1, rf, nr;

	if ((rc = store_invoice_issued_for(s, acct->id, period, &id, e)) != 0) {
		if (rc > 0)
			sum->kept++;
		return rc < 0 ? -1 : 0;
	}
	rc = -1;
	if (store_invoice_drop_draft(s, acct->id, period, e) != 0 ||
	    store_count_unrated(s, acct->id, period, &unrated, e) != 0)
		goto out;
	sum->unrated += unrated;
	/* usage, then bundles, fees, rents, minimums: the order of the man page */
	if (store_each_bill_piece(s, acct->id, period, on_piece, &u, e) != 0 ||
	    flush_call(&u) != 0 || usage_lines(&u, c.tax_rate, t->tax_included, &lines) != 0)
		goto out;
	if (store_each_window_upto(s, acct->id, period, on_window, &c, e) != 0)
		goto out;
	if (bill_fees(t, a, first, end, &lines) != 0) {
		terr_set(e, "out of memory");
		goto out;
	}
	nr = tariff_rentals(t, a, &rf);
	for (int i = 0; i < nr; i++) {
		struct bill_payment *pay;
		int npay;

		if (store_ledger_number_payments(s, acct->id, t->rentals[rf + i].number, &pay,
		    &npay, e) != 0)
			goto out;
		rc = bill_rent(t, &t->rentals[rf + i], pay, npay, first, end, &lines);
		free(pay);
		if (rc != 0) {
			rc = -1;
			terr_set(e, "out of memory");
			goto out;
		}
		rc = -1;
	}
	/* fees and rents charged already (an issued invoice of another period
	 * after a billing-day change) are not charged again */
	for (int i = 0; i < lines.n; i++) {
		int charged;

		if (lines.v[i].ref[0] == '\0' || lines.v[i].kind == BL_BUNDLE)
			continue;
		if ((charged = store_ref_charged(s, lines.v[i].ref, e)) < 0)
			goto out;
		if (charged)
			memmove(&lines.v[i], &lines.v[i + 1], (size_t)(lines.n-- - i - 1) *
			    sizeof *lines.v), i--;
	}
	if (minimum_lines(&c, first, end, &lines) != 0)
		goto out;
	if (lines.n == 0) {
		rc = 0;
		goto out;
	}
	if (bill_tax(lines.v, lines.n, t->currency_decimals, &tot) != 0) {
		terr_set(e, "%s %s: more than %d tax rates on one invoice", acct->id, period,
		    BILL_MAX_TAXGROUPS);
		goto out;
	}
	bill_date_text(first, fd);
	bill_date_text(bill_date_add_days(end, -1), ld);
	bill_date_text(end, ed);
	row = (struct invoice_row){ .kind = "invoice", .status = "draft",
		.issuer = t->reseller, .account = acct->id,
		.name = acct->name[0] ? acct->name : acct->id, .period = period,
		.first_day = fd, .last_day = ld, .date = ld, .version = version,
		.currency = t->currency, .decimals = t->currency_decimals,
		.prefix = t->invoice_prefix, .credit_prefix = t->credit_prefix,
		.generation = gen };
	if (store_ledger_sum(s, acct->id, NULL, fd, 0, &row.previous, e) != 0 ||
	    store_ledger_sum(s, acct->id, fd, ed, 1, &row.payments, e) != 0)
		goto out;
	row.due = tot.total - row.previous - row.payments;
	for (int i = 0; i < lines.n; i++)
		tally_utf8_trim(lines.v[i].description);	/* cut at 240 bytes */
	if (store_invoice_add(s, &row, lines.v, lines.n, &tot, &id, e) != 0)
		goto out;
	for (int i = 0; i < u.ncdrs; i++)
		if (store_invoice_add_cdr(s, id, u.cdrs[i], e) != 0)
			goto out;
	sum->drafts++;
	sum->calls += u.ncdrs;
	rc = 0;
out:
	free(u.g);
	free(u.cdrs);
	bill_lines_release(&lines);
	return rc;
}

static int
valid_period(const char *p)
{
	return strlen(p) == 7 && p[4] == '-' && strspn(p, "0123456789-") == 7 &&
	    atoi(p + 5) >= 1 && atoi(p + 5) <= 12 && atoi(p) >= 1970;
}

/*
 * The period that an account's billing day closed last by local date
 * `date` (0: today in its zone): the one before the period holding that
 * date.  0 when the account was created after it ended.
 */
static int
due_period(const struct taccount *a, int32_t date, char out[8])
{
	int64_t start;
	char cur[8];

	if (date == 0)
		date = local_date(a->tz, (int64_t)time(NULL));
	rate_period(a, local_midnight(a->tz, date), cur);
	start = rate_period_start(a, cur, 0);
	if (local_date(a->tz, start - 1) < a->created)
		return 0;
	rate_period(a, start - 1, out);
	return 1;
}

static int close_run(struct store *s, const char *period, int32_t due, const char *account,
    const char *reseller, struct close_summary *sum, struct terr *e);

int
invoice_close(struct store *s, const char *period, const char *account,
    const char *reseller, struct close_summary *sum, struct terr *e)
{
	if (!valid_period(period))
		return terr_set(e, "period \"%s\" is not YYYY-MM", period);
	return close_run(s, period, 0, account, reseller, sum, e);
}

int
invoice_close_due(struct store *s, int32_t date, const char *reseller,
    struct close_summary *sum, struct terr *e)
{
	return close_run(s, NULL, date, NULL, reseller, sum, e);
}

static int
close_run(struct store *s, const char *period, int32_t due, const char *account,
    const char *reseller, struct close_summary *sum, struct terr *e)
{
	struct tariff_set ts;
	int64_t gen;
	int found = account == NULL;

	memset(sum, 0, sizeof *sum);
	if (tariff_set_load(s, &ts, e) != 0) {
		tariff_set_release(&ts);
		return -1;
	}
	if (store_begin(s, e) != 0 || store_generation(s, &gen, e) != 0)
		goto fail;
	for (int i = 0; i < ts.n; i++) {
		const struct tariff *t = ts.t[i];

		if (reseller && strcmp(reseller, t->reseller) != 0)
			continue;
		for (int a = 0; a < t->naccounts; a++) {
			if (account && strcmp(account, t->accounts[a].id) != 0)
				continue;
			char p[8];

			found = 1;
			if (period == NULL && !due_period(&t->accounts[a], due, p))
				continue;
			if (close_account(s, t, ts.version[i], a, period ? period : p, gen, sum,
			    e) != 0)
				goto fail;
		}
	}
	if (!found) {
		terr_set(e, "account \"%s\" is in no loaded tariff%s%s", account,
		    reseller ? " of reseller " : "", reseller ? reseller : "");
		goto fail;
	}
	if (store_commit(s, e) != 0)
		goto fail;
	tariff_set_release(&ts);
	return 0;
fail:
	store_rollback(s);
	tariff_set_release(&ts);
	return -1;
}

/* ---- issue -------------------------------------------------------------- */

struct draft {
	int64_t id, generation;
	char issuer[80], account[80], prefix[48], first[11], date[11], period[8];
	money total;
};

struct drafts {
	struct draft *v;
	int n, cap;
};

static int
on_draft(const struct invoice_row *r, void *arg)
{
	struct drafts *d = arg;
	struct draft *x;

	if (d->n == d->cap) {
		int cap = d->cap ? d->cap * 2 : 64;
		struct draft *v = realloc(d->v, (size_t)cap * sizeof *v);

		if (v == NULL)
			return -1;
		d->v = v;
		d->cap = cap;
	}
	x = &d->v[d->n++];
	x->id = r->id;
	x->generation = r->generation;
	x->total = r->total;
	tally_strlcpy(x->issuer, r->issuer, sizeof x->issuer);
	tally_strlcpy(x->account, r->account, sizeof x->account);
	tally_strlcpy(x->prefix, r->prefix, sizeof x->prefix);
	tally_strlcpy(x->date, r->date, sizeof x->date);
	tally_strlcpy(x->first, r->first_day, sizeof x->first);
	tally_strlcpy(x->period, r->period, sizeof x->period);
	return 0;
}

/* The ledger figures as they are when the draft is issued: an invoice
 * issued since the close (an earlier period's) is in them. */
static int
issue_balance(struct store *s, const struct draft *x, struct terr *e)
{
	money previous, payments;
	int32_t last;
	char end[11];

	if (bill_date_parse(x->date, &last) != 0)
		return terr_set(e, "invoice %lld: bad date \"%s\"", (long long)x->id, x->date);
	bill_date_text(bill_date_add_days(last, 1), end);
	if (store_ledger_sum(s, x->account, NULL, x->first, 0, &previous, e) != 0 ||
	    store_ledger_sum(s, x->account, x->first, end, 1, &payments, e) != 0)
		return -1;
	return store_invoice_set_balance(s, x->id, previous, payments,
	    x->total - previous - payments, e);
}

/* For tests: die between numbering and commit (tally-invoice(1)). */
static void
fault(const char *where)
{
	const char *f = getenv("TALLY_FAULT");

	if (f && strcmp(f, where) == 0)
		raise(SIGKILL);
}

/* Keep the drafts of the periods due at `date` (due_period). */
static int
keep_due(struct store *s, struct drafts *d, int32_t date, struct terr *e)
{
	struct tariff_set ts;
	int n = 0;

	if (tariff_set_load(s, &ts, e) != 0) {
		tariff_set_release(&ts);
		return -1;
	}
	for (int i = 0; i < d->n; i++) {
		int a, t = tariff_set_find(&ts, d->v[i].account, &a);
		char p[8];

		if (t >= 0 && due_period(&ts.t[t]->accounts[a], date, p) &&
		    strcmp(p, d->v[i].period) == 0)
			d->v[n++] = d->v[i];
	}
	d->n = n;
	tariff_set_release(&ts);
	return 0;
}

static int issue_run(struct store *s, const char *period, int32_t due, const char *account,
    const char *reseller, int *issued, char first[64], char last[64], struct terr *e);

int
invoice_issue(struct store *s, const char *period, const char *account,
    const char *reseller, int *issued, char first[64], char last[64], struct terr *e)
{
	*issued = 0;
	first[0] = last[0] = '\0';
	if (!valid_period(period))
		return terr_set(e, "period \"%s\" is not YYYY-MM", period);
	return issue_run(s, period, 0, account, reseller, issued, first, last, e);
}

int
invoice_issue_due(struct store *s, int32_t date, const char *reseller, int *issued,
    char first[64], char last[64], struct terr *e)
{
	*issued = 0;
	first[0] = last[0] = '\0';
	return issue_run(s, NULL, date, NULL, reseller, issued, first, last, e);
}

static int
issue_run(struct store *s, const char *period, int32_t due, const char *account,
    const char *reseller, int *issued, char first[64], char last[64], struct terr *e)
{
	struct invoice_filter f = { .period = period, .account = account,
		.issuer = reseller, .status = "draft", .kind = "invoice" };
	struct drafts d = { 0 };
	int64_t gen;
	int rc = -1;

	if (store_begin(s, e) != 0)
		return -1;
	if (store_generation(s, &gen, e) != 0 || store_each_invoice(s, &f, on_draft, &d, e) != 0)
		goto fail;
	if (period == NULL && keep_due(s, &d, due, e) != 0)
		goto fail;
	/* issue order: by issuer, then account */
	for (int i = 0; i < d.n; i++) {
		struct draft *x = &d.v[i];
		struct ledger_row lr = { .account = x->account, .date = x->date,
			.kind = "invoice", .amount = -x->total };
		char number[64];
		int64_t seq;

		if (x->generation != gen) {
			terr_set(e, "the draft of %s for %s was closed before the last change to "
			    "the ratings, tariffs or ledger: close the period again; nothing "
			    "issued", x->period, x->account);
			rc = 1;
			goto fail;
		}
		/* a draft closed before another one of its calls or charges was
		 * issued would bill them twice */
		if ((rc = store_invoice_overlaps(s, x->id, e)) != 0) {
			if (rc > 0)
				terr_set(e, "the draft of %s for %s charges calls or fees that another "
				    "invoice issued since: close the period again; nothing issued",
				    x->period, x->account);
			goto fail;
		}
		rc = -1;
		if (issue_balance(s, x, e) != 0 ||
		    store_sequence_next(s, x->issuer, "invoice", &seq, e) != 0)
			goto fail;
		snprintf(number, sizeof number, "%s%06lld", x->prefix, (long long)seq);
		if (store_invoice_set_issued(s, x->id, number, (int64_t)time(NULL), e) != 0 ||
		    store_ledger_add(s, &lr, x->id, e) != 0)
			goto fail;
		if (i == 0)
			tally_strlcpy(first, number, 64);
		tally_strlcpy(last, number, 64);
	}
	fault("issue-before-commit");
	if (store_commit(s, e) != 0)
		goto fail;
	*issued = d.n;
	free(d.v);
	return 0;
fail:
	store_rollback(s);
	first[0] = last[0] = '\0';
	free(d.v);
	return rc;
}

/* ---- credit notes ------------------------------------------------------- */

struct found {
	struct invoice_row r;
	char strs[16][256];
	int n;
};

static int
on_found(const struct invoice_row *r, void *arg)
{
	struct found *f = arg;
	const char **fld[] = { &f->r.kind, &f->r.number, &f->r.status, &f->r.issuer,
		&f->r.account, &f->r.name, &f->r.period, &f->r.first_day, &f->r.last_day,
		&f->r.date, &f->r.currency, &f->r.prefix, &f->r.credit_prefix, &f->r.reason,
		&f->r.refers_number };

	if (f->n++ > 0)
		return 0;
	/* the row's strings live only during the walk: keep every one */
	f->r = *r;
	for (size_t i = 0; i < sizeof fld / sizeof *fld; i++) {
		tally_strlcpy(f->strs[i], *fld[i] ? *fld[i] : "", sizeof f->strs[i]);
		*fld[i] = f->strs[i];
	}
	return 0;
}

static int
on_line(const struct bill_line *l, void *arg)
{
	struct bill_lines *ls = arg;
	struct bill_line *x = bill_add(ls, l->kind);

	if (x == NULL)
		return -1;
	*x = *l;
	return 0;
}

static int
on_tax(const struct bill_taxgroup *g, void *arg)
{
	struct bill_totals *t = arg;

	if (t->ng == BILL_MAX_TAXGROUPS)
		return -1;
	t->g[t->ng++] = *g;
	return 0;
}

/* The issued invoice `number` and what its credit notes leave of it. */
static int
find_issued(struct store *s, const char *number, struct found *f, money *left,
    struct terr *e)
{
	struct invoice_filter flt = { .number = number, .kind = "invoice" };
	money credited;

	memset(f, 0, sizeof *f);
	if (store_each_invoice(s, &flt, on_found, f, e) != 0)
		return -1;
	if (f->n == 0) {
		terr_set(e, "no invoice numbered \"%s\"", number);
		return 1;
	}
	if (strcmp(f->r.status, "issued") != 0) {
		terr_set(e, "invoice %s is %s, not issued", number, f->r.status);
		return 1;
	}
	if (store_invoice_credited(s, f->r.id, &credited, e) != 0)
		return -1;
	*left = f->r.total + credited;
	return 0;
}

/* Today in the invoice's account zone, from the version it was built with. */
static int
today_for(struct store *s, const struct found *f, char out[11], struct terr *e)
{
	struct tariff *t = tariff_load_version(s, f->r.version, e);
	int a;

	if (t == NULL)
		return -1;
	if ((a = tariff_account(t, f->r.account)) >= 0) {
		bill_date_text(local_date(t->accounts[a].tz, (int64_t)time(NULL)), out);
	} else {
		struct civil c;

		civil_from_utc((int64_t)time(NULL), &c);
		bill_date_text(c.year * 10000 + c.mon * 100 + c.day, out);
	}
	tariff_free(t);
	return 0;
}

static int
add_credit_note(struct store *s, const struct found *f, const char *reason,
    const char *date, struct bill_lines *lines, const struct bill_totals *tot,
    char credit[64], struct terr *e)
{
	struct invoice_row row = f->r;
	struct ledger_row lr = { .account = f->r.account, .kind = "credit" };
	int64_t seq, id;
	int64_t gen;

	if (store_sequence_next(s, f->r.issuer, "credit", &seq, e) != 0 ||
	    store_generation(s, &gen, e) != 0)
		return -1;
	snprintf(credit, 64, "%s%06lld", f->r.credit_prefix, (long long)seq);
	row.kind = "credit";
	row.status = "issued";
	row.number = credit;
	row.refers_to = f->r.id;
	row.reason = reason;
	row.date = date;
	row.previous = row.payments = row.due = 0;
	row.generation = gen;
	for (int i = 0; i < lines->n; i++)
		tally_utf8_trim(lines->v[i].description);
	if (store_invoice_add(s, &row, lines->v, lines->n, tot, &id, e) != 0)
		return -1;
	lr.date = date;
	lr.amount = -tot->total;
	lr.reference = reason;
	return store_ledger_add(s, &lr, id, e) != 0 || store_bump_generation(s, e) != 0 ? -1 : 0;
}

static int
check_date(const char *date, struct terr *e)
{
	int32_t d;

	if (date && bill_date_parse(date, &d) != 0)
		return terr_set(e, "date \"%s\" is not YYYY-MM-DD", date);
	return 0;
}

int
invoice_void(struct store *s, const char *number, const char *reason, const char *date,
    char credit[64], struct terr *e)
{
	struct found f;
	struct bill_lines lines = { 0 };
	struct bill_totals tot = { 0 };
	char today[11];
	money left;
	int rc;

	credit[0] = '\0';
	if (check_date(date, e) != 0)
		return 1;
	if (store_begin(s, e) != 0)
		return -1;
	if ((rc = find_issued(s, number, &f, &left, e)) != 0)
		goto fail;
	rc = -1;
	if (left != f.r.total) {
		terr_set(e, "invoice %s has credit notes already: credit what is left with "
		    "tally-invoice credit", number);
		rc = 1;
		goto fail;
	}
	if (date == NULL && today_for(s, &f, today, e) != 0)
		goto fail;
	if (store_each_invoice_line(s, f.r.id, on_line, &lines, e) != 0 ||
	    store_each_invoice_tax(s, f.r.id, on_tax, &tot, e) != 0)
		goto fail;
	/* the same lines and taxes, negated */
	for (int i = 0; i < lines.n; i++) {
		struct bill_line *l = &lines.v[i];

		l->exact = -l->exact;
		l->amount = -l->amount;
		l->tax = -l->tax;
		l->net = -l->net;
		l->ref[0] = '\0';
	}
	for (int g = 0; g < tot.ng; g++) {
		tot.g[g].exact = -tot.g[g].exact;
		tot.g[g].base = -tot.g[g].base;
		tot.g[g].tax = -tot.g[g].tax;
	}
	tot.subtotal = -f.r.subtotal;
	tot.tax = -f.r.tax;
	tot.total = -f.r.total;
	if (add_credit_note(s, &f, reason, date ? date : today, &lines, &tot, credit, e) != 0 ||
	    store_invoice_set_status(s, f.r.id, "void", e) != 0 || store_commit(s, e) != 0)
		goto fail;
	bill_lines_release(&lines);
	return 0;
fail:
	store_rollback(s);
	bill_lines_release(&lines);
	credit[0] = '\0';
	return rc;
}

int
invoice_credit(struct store *s, const char *number, money amount, const char *reason,
    const char *date, char credit[64], struct terr *e)
{
	struct found f;
	struct bill_lines lines = { 0 };
	struct bill_totals tot = { 0 }, inv = { 0 };
	struct bill_line *l;
	char today[11], a[32], b[32];
	money left;
	int rc;

	credit[0] = '\0';
	if (check_date(date, e) != 0)
		return 1;
	if (amount <= 0)
		return terr_set(e, "the amount of a credit note is greater than 0"), 1;
	if (store_begin(s, e) != 0)
		return -1;
	if ((rc = find_issued(s, number, &f, &left, e)) != 0)
		goto fail;
	rc = -1;
	{
		money unit = 1;

		for (int i = f.r.decimals; i < 6; i++)
			unit *= 10;
		if (amount % unit != 0) {
			terr_set(e, "the amount has more decimals than %s", f.r.currency);
			rc = 1;
			goto fail;
		}
	}
	if (store_each_invoice_tax(s, f.r.id, on_tax, &inv, e) != 0)
		goto fail;
	/* A group of nothing but zero lines (a number held at no charge, at
	 * another rate) taxes nothing: it does not make the invoice mixed. */
	{
		int n = 0;

		for (int i = 0; i < inv.ng; i++)
			if (inv.g[i].exact != 0 || inv.g[i].base != 0 || inv.g[i].tax != 0)
				inv.g[n++] = inv.g[i];
		inv.ng = n;
	}
	if (inv.ng != 1) {
		terr_set(e, "invoice %s has %d tax rates: a partial credit needs one", number,
		    inv.ng);
		rc = 1;
		goto fail;
	}
	if (date == NULL && today_for(s, &f, today, e) != 0)
		goto fail;
	if ((l = bill_add(&lines, BL_CREDIT)) == NULL) {
		terr_set(e, "out of memory");
		goto fail;
	}
	snprintf(l->description, sizeof l->description, "Credit: %s", reason);
	snprintf(l->quantity, sizeof l->quantity, "1");
	l->exact = l->unit_price = -amount;
	l->tax_rate = inv.g[0].rate;
	l->tax_included = inv.g[0].included;
	if (bill_tax(lines.v, lines.n, f.r.decimals, &tot) != 0)
		goto fail;
	if (-tot.total > left) {
		money_format(-tot.total, f.r.decimals, a);
		money_format(left, f.r.decimals, b);
		terr_set(e, "a credit of %s is more than the %s invoice %s has left", a, b,
		    number);
		rc = 1;
		goto fail;
	}
	if (add_credit_note(s, &f, reason, date ? date : today, &lines, &tot, credit, e) != 0 ||
	    store_commit(s, e) != 0)
		goto fail;
	bill_lines_release(&lines);
	return 0;
fail:
	store_rollback(s);
	bill_lines_release(&lines);
	credit[0] = '\0';
	return rc;
}
