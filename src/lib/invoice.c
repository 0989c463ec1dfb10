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

/*
 * A period's usage is charged as the difference between the period rated
 * now, whole and in call order, and what issued invoices already charged of
 * it, group by group (class, destination, piece kind, label, unit price).
 * For the period closed, nothing is charged yet: the difference is all of
 * it.  For an earlier period that a rating run changed since it was last
 * invoiced (a late call, test minutes it moved), it is what the late calls
 * really cost: tally-invoice(1), LATE CALLS.
 */
struct ugroup {
	char cls[64], dest[128], kind[16], label[64];
	money price, exact;
	int64_t seconds, count;
};

struct pusage {
	char period[8];
	struct ugroup *g;
	int ng, cap;
	int64_t late;		/* its calls on no issued invoice */
	int64_t basis;		/* issued invoices that charged some of it */
	money now;		/* its usage as rated now */
};

struct usage {
	const char *period;	/* the period closed */
	struct pusage *p;	/* the periods charged: earlier ones, then it */
	int np, pcap;
	int64_t *cdrs;		/* the calls to itemize: on no issued invoice */
	int ncdrs, cdrcap;
	/* the pieces of the call being read */
	struct bill_piece pc[RATE_MAX_PIECES];
	char strs[RATE_MAX_PIECES][5][128];
	int npc;
	struct terr *e;
};

static int
add_to_group(struct usage *u, const char *cls, const char *dest, const char *kind,
    const char *label, money price, int64_t seconds, int64_t count, money exact)
{
	struct pusage *pu = &u->p[u->np - 1];
	struct ugroup *g = NULL;

	for (int i = pu->ng - 1; i >= 0 && !g; i--) {
		struct ugroup *x = &pu->g[i];

		if (x->price == price && strcmp(x->cls, cls) == 0 &&
		    strcmp(x->dest, dest) == 0 && strcmp(x->kind, kind) == 0 &&
		    strcmp(x->label, label) == 0)
			g = x;
	}
	if (g == NULL) {
		if (pu->ng == pu->cap) {
			int cap = pu->cap ? pu->cap * 2 : 16;
			struct ugroup *v = realloc(pu->g, (size_t)cap * sizeof *v);

			if (v == NULL)
				return terr_set(u->e, "out of memory");
			pu->g = v;
			pu->cap = cap;
		}
		g = &pu->g[pu->ng++];
		memset(g, 0, sizeof *g);
		tally_strlcpy(g->cls, cls, sizeof g->cls);
		tally_strlcpy(g->dest, dest, sizeof g->dest);
		tally_strlcpy(g->kind, kind, sizeof g->kind);
		tally_strlcpy(g->label, label, sizeof g->label);
		g->price = price;
	}
	if (money_add_checked(g->exact, exact, &g->exact) != 0 ||
	    __builtin_add_overflow(g->seconds, seconds, &g->seconds) ||
	    __builtin_add_overflow(g->count, count, &g->count))
		return terr_set(u->e, "%s: usage of %s overflows", u->p[u->np - 1].period,
		    cls);
	return 0;
}

/* A call's pieces are all read: share its rated amount among them.  Each
 * piece gets its exact charge to the micro-unit; what the call's rounding
 * added or took goes to its last piece with a price. */
static int
flush_call(struct usage *u)
{
	money shares[RATE_MAX_PIECES], sum = 0;
	struct pusage *pu = &u->p[u->np - 1];
	int last = u->npc - 1;

	if (u->npc == 0)
		return 0;
	for (int i = 0; i < u->npc; i++) {
		shares[i] = money_round(u->pc[i].exact, ROUND_FULL, 6);
		sum += shares[i];
		if (u->pc[i].price > 0)
			last = i;
	}
	shares[last] += u->pc[0].amount - sum;
	for (int i = 0; i < u->npc; i++) {
		const struct bill_piece *p = &u->pc[i];

		if (add_to_group(u, p->cls, p->destination, p->kind, p->label, p->price,
		    p->seconds, 1, shares[i]) != 0)
			return -1;
	}
	if (money_add_checked(pu->now, u->pc[0].amount, &pu->now) != 0)
		return terr_set(u->e, "%s: usage overflows", pu->period);
	if (!u->pc[0].invoiced) {
		if (u->ncdrs == u->cdrcap) {
			int cap = u->cdrcap ? u->cdrcap * 2 : 64;
			int64_t *v = realloc(u->cdrs, (size_t)cap * sizeof *v);

			if (v == NULL)
				return terr_set(u->e, "out of memory");
			u->cdrs = v;
			u->cdrcap = cap;
		}
		u->cdrs[u->ncdrs++] = u->pc[0].cdr;
		pu->late++;
	}
	u->npc = 0;
	return 0;
}

static int
on_piece(const struct bill_piece *p, void *arg)
{
	struct usage *u = arg;
	const char *src[5] = { p->period, p->cls, p->destination, p->kind, p->label };
	char (*dst)[128];
	struct bill_piece *q;

	if (u->npc > 0 && u->pc[0].cdr != p->cdr && flush_call(u) != 0)
		return -1;
	if (u->npc == RATE_MAX_PIECES)
		return terr_set(u->e, "CDR %lld has more than %d pieces", (long long)p->cdr,
		    RATE_MAX_PIECES);
	/* the row's strings live only until the next row: keep copies */
	q = &u->pc[u->npc];
	dst = u->strs[u->npc];
	*q = *p;
	for (int k = 0; k < 5; k++)
		tally_strlcpy(dst[k], src[k], sizeof dst[k]);
	q->period = dst[0];
	q->cls = dst[1];
	q->destination = dst[2];
	q->kind = dst[3];
	q->label = dst[4];
	u->npc++;
	return 0;
}

/* What issued invoices charged of the period is taken off. */
static int
on_invoiced(const struct usage_group *g, void *arg)
{
	struct usage *u = arg;

	return add_to_group(u, g->cls, g->destination, g->kind, g->label, g->price,
	    -g->seconds, -g->count, -g->exact);
}

/* Read one period of a payer: its usage as rated now less what was charged. */
static int
read_period(struct store *s, struct usage *u, const char *payer, const char *period)
{
	struct pusage *pu;

	if (u->np == u->pcap) {
		int cap = u->pcap ? u->pcap * 2 : 4;
		struct pusage *v = realloc(u->p, (size_t)cap * sizeof *v);

		if (v == NULL)
			return terr_set(u->e, "out of memory");
		u->p = v;
		u->pcap = cap;
	}
	pu = &u->p[u->np++];
	memset(pu, 0, sizeof *pu);
	tally_strlcpy(pu->period, period, sizeof pu->period);
	if (store_each_bill_piece(s, payer, period, on_piece, u, u->e) != 0 ||
	    flush_call(u) != 0 || store_usage_basis(s, payer, period, &pu->basis, u->e) != 0)
		return -1;
	/* nothing of it invoiced yet (the usual period closed): nothing to take off */
	if (pu->basis == 0)
		return 0;
	return store_each_invoiced_usage(s, payer, period, on_invoiced, u, u->e);
}

struct period_list {
	char (*v)[8];
	int n;
	struct terr *e;
};

static int
on_dirty(const char *period, void *arg)
{
	struct period_list *pl = arg;
	char (*v)[8] = realloc(pl->v, (size_t)(pl->n + 1) * sizeof *v);

	if (v == NULL)
		return terr_set(pl->e, "out of memory");
	pl->v = v;
	tally_strlcpy(v[pl->n++], period, 8);
	return 0;
}

/* The periods to charge usage of: the earlier ones re-rated since they were
 * last invoiced, then the one closed. */
static int
read_usage(struct store *s, struct usage *u, const char *payer)
{
	struct period_list pl = { NULL, 0, u->e };
	int rc = store_each_dirty_period(s, payer, u->period, on_dirty, &pl, u->e);

	for (int i = 0; rc == 0 && i < pl.n; i++)
		rc = read_period(s, u, payer, pl.v[i]);
	free(pl.v);
	return rc == 0 ? read_period(s, u, payer, u->period) : -1;
}

static void
usage_release(struct usage *u)
{
	for (int i = 0; i < u->np; i++)
		free(u->p[i].g);
	free(u->p);
	free(u->cdrs);
}

static int
by_ugroup(const void *a, const void *b)
{
	const struct ugroup *x = a, *y = b;
	int c;

	if ((c = strcmp(x->cls, y->cls)) || (c = strcmp(x->dest, y->dest)) ||
	    (c = strcmp(x->kind, y->kind)) || (c = strcmp(x->label, y->label)))
		return c;
	return (x->price > y->price) - (x->price < y->price);
}

static int
counted_kind(const char *kind)
{
	return strcmp(kind, "message") == 0 || strcmp(kind, "connection") == 0;
}

/* Is a group a line?  Of the period closed, every group (test minutes at
 * 0 too); of an earlier one, only what changed in minutes or money (a
 * piece split in two is no news to the customer). */
static int
ugroup_shown(const struct ugroup *g, int prior)
{
	if (g->seconds != 0 || g->exact != 0 || (counted_kind(g->kind) && g->count != 0))
		return 1;
	return !prior && g->count != 0;
}

/* Does the invoice keep a group (so that what invoices keep adds up to
 * the period as rated)? */
static int
ugroup_kept(const struct ugroup *g)
{
	return g->seconds != 0 || g->exact != 0 || g->count != 0;
}

/* Minutes to two decimals, half away from zero: "12.50", "-3.00". */
static void
minutes_text(int64_t seconds, char out[24])
{
	int64_t a = seconds < 0 ? -seconds : seconds, h = (a * 100 * 2 + 60) / 120;

	snprintf(out, 24, "%s%lld.%02lld", seconds < 0 ? "-" : "", (long long)(h / 100),
	    (long long)(h % 100));
}

static int
usage_lines(struct usage *u, int tax_rate, int tax_included, struct bill_lines *out)
{
	for (int k = 0; k < u->np; k++) {
		struct pusage *pu = &u->p[k];
		int prior = strcmp(pu->period, u->period) < 0;
		char pre[96] = "";

		if (pu->ng > 1)
			qsort(pu->g, (size_t)pu->ng, sizeof *pu->g, by_ugroup);
		if (prior && pu->late > 0)
			snprintf(pre, sizeof pre, "prior period %s, re-rated with %lld call%s "
			    "not invoiced before: ", pu->period, (long long)pu->late,
			    pu->late == 1 ? "" : "s");
		else if (prior)
			snprintf(pre, sizeof pre, "prior period %s, re-rated: ", pu->period);
		for (int i = 0; i < pu->ng; i++) {
			const struct ugroup *g = &pu->g[i];
			struct bill_line *l;
			char what[96], text[512];

			if (!ugroup_shown(g, prior))
				continue;
			if ((l = bill_add(out, prior ? BL_PRIOR : BL_USAGE)) == NULL)
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
			snprintf(text, sizeof text, "%s%s%s%s, %s", pre, g->cls, g->dest[0] ? ", " : "",
			    g->dest, what);
			tally_strlcpy(l->description, text, sizeof l->description);
			if (counted_kind(g->kind))
				snprintf(l->quantity, sizeof l->quantity, "%lld", (long long)g->count);
			else
				minutes_text(g->seconds, l->quantity);
			l->unit_price = g->price;
			l->exact = g->exact;
			l->tax_rate = tax_rate;
			l->tax_included = tax_included;
		}
	}
	return 0;
}

/* Keep with the invoice what it charges of each period's usage.  A
 * period it settles with nothing to charge gets an empty row all the same:
 * the draft must still be refused if another invoice settles that period
 * before it is issued (store_usage_moved), its minimum too. */
static int
usage_keep(struct store *s, const struct usage *u, int64_t invoice, struct terr *e)
{
	for (int k = 0; k < u->np; k++) {
		const struct pusage *pu = &u->p[k];
		struct usage_group row = { .period = pu->period, .cls = "", .destination = "",
			.kind = "", .label = "" };
		int kept = 0;

		for (int i = 0; i < pu->ng; i++) {
			const struct ugroup *g = &pu->g[i];

			if (!ugroup_kept(g))
				continue;
			row = (struct usage_group){ .period = pu->period, .cls = g->cls,
				.destination = g->dest, .kind = g->kind, .label = g->label,
				.price = g->price, .exact = g->exact, .seconds = g->seconds,
				.count = g->count };
			if (store_invoice_add_usage(s, invoice, &row, pu->basis, e) != 0)
				return -1;
			kept++;
		}
		if (!kept && store_invoice_add_usage(s, invoice, &row, pu->basis, e) != 0)
			return -1;
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

	/* by its place in the payer's timeline, not its start: a late call can
	 * move a window's start, and the window is still charged once */
	snprintf(ref, sizeof ref, "window:%s:#%d:%s", w->payer, w->seq, w->bundle);
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

static struct bill_line *
minimum_line(struct closing *c, money exact, const char *ref, struct bill_lines *out)
{
	struct bill_line *l = bill_add(out, BL_MINIMUM);

	if (l == NULL) {
		terr_set(c->e, "out of memory");
		return NULL;
	}
	snprintf(l->quantity, sizeof l->quantity, "1");
	l->unit_price = l->exact = exact;
	l->tax_rate = c->tax_rate;
	l->tax_included = c->t->tax_included;
	tally_strlcpy(l->ref, ref, sizeof l->ref);
	return l;
}

/*
 * A period's monthly true-up, settled: the minimum in force on its first
 * day less its usage as rated now and the bundle windows charged for it,
 * when positive, less what issued invoices already charged of it.  For the
 * period closed (`windows_here`: the bundle lines of this invoice) that is
 * its true-up; for an earlier one re-rated since (a late call), the
 * correction.  One line when it is not 0.
 */
static int
monthly_line(struct closing *c, const char *period, money now, money windows_here,
    struct bill_lines *out)
{
	const struct taccount *acct = &c->t->accounts[c->a];
	int32_t first = local_date(acct->tz, rate_period_start(acct, period, 0));
	int prior = strcmp(period, c->period) < 0;
	money amount, windows, charged, owed, diff;
	char ref[96], buf[32], left[32];
	struct bill_line *l;

	if (!bill_monthly_minimum(c->t, c->a, first, &amount))
		return 0;
	snprintf(ref, sizeof ref, "monthly-minimum:%s:%s", acct->id, period);
	if (store_lines_sum(c->s, acct->id, period, "bundle", &windows, c->e) != 0 ||
	    store_ref_sum(c->s, acct->id, ref, &charged, c->e) != 0)
		return -1;
	if (money_add_checked(windows, windows_here, &windows) != 0 ||
	    money_sub_checked(amount, now, &owed) != 0 ||
	    money_sub_checked(owed, windows, &owed) != 0 ||
	    money_sub_checked(owed < 0 ? 0 : owed, charged, &diff) != 0)
		return terr_set(c->e, "account %s, period %s: the true-up of %s does not fit in "
		    "64-bit micro-units (overflow)", acct->id, c->period, period);
	if (owed < 0)
		owed = 0;
	if (diff == 0)
		return 0;
	if ((l = minimum_line(c, diff, ref, out)) == NULL)
		return -1;
	money_format(amount, c->t->currency_decimals, buf);
	money_format(owed, c->t->currency_decimals, left);
	if (!prior && charged == 0)
		snprintf(l->description, sizeof l->description, "Monthly minimum spend %s: "
		    "true-up", buf);
	else
		snprintf(l->description, sizeof l->description, "%s%s%s: Monthly minimum spend "
		    "%s: true-up now %s", prior ? "prior period " : "", prior ? period : "",
		    prior ? ", re-rated" : "re-rated", buf, left);
	return 0;
}

/*
 * The annual true-up of contract year [ys, ye), settled the same way: the
 * minimum in force on its last day less the year's spend as rated now, when
 * positive, less what was charged of it.  Charged on the invoice of the
 * period holding its last day; corrected by a later one when a late call
 * falls in it.
 */
static int
annual_line(struct closing *c, int32_t ys, int32_t ye, money amount, struct bill_lines *out)
{
	struct tz *z = c->t->accounts[c->a].tz;
	const char *id = c->t->accounts[c->a].id;
	money spent, charged, owed, diff;
	char ref[96], buf[32], left[32], d1[11], d2[11];
	struct bill_line *l;

	bill_date_text(ys, d1);
	bill_date_text(bill_date_add_days(ye, -1), d2);
	snprintf(ref, sizeof ref, "annual-minimum:%s:%s", id, d1);
	if (store_spend_between(c->s, id, local_midnight(z, ys), local_midnight(z, ye), &spent,
	    c->e) != 0 || store_ref_sum(c->s, id, ref, &charged, c->e) != 0)
		return -1;
	if (money_sub_checked(amount, spent, &owed) != 0 ||
	    money_sub_checked(owed < 0 ? 0 : owed, charged, &diff) != 0)
		return terr_set(c->e, "account %s, period %s: the annual true-up does not fit in "
		    "64-bit micro-units (overflow)", id, c->period);
	if (owed < 0)
		owed = 0;
	if (diff == 0)
		return 0;
	if ((l = minimum_line(c, diff, ref, out)) == NULL)
		return -1;
	money_format(amount, c->t->currency_decimals, buf);
	money_format(owed, c->t->currency_decimals, left);
	if (charged == 0)
		snprintf(l->description, sizeof l->description, "Annual minimum spend %s, "
		    "contract year %s to %s: true-up", buf, d1, d2);
	else
		snprintf(l->description, sizeof l->description, "Annual minimum spend %s, "
		    "contract year %s to %s, re-rated: true-up now %s", buf, d1, d2, left);
	return 0;
}

/*
 * The minimums (tally-invoice(1), MINIMUM SPEND): the period's own, then
 * the corrections of the earlier periods re-rated since they were invoiced
 * (LATE CALLS).  What counts toward a monthly minimum is the period's usage
 * as rated now, whatever invoice charges it, and its bundle windows.
 */
static int
minimum_lines(struct closing *c, const struct usage *u, int32_t first, int32_t end,
    struct bill_lines *out)
{
	const struct taccount *acct = &c->t->accounts[c->a];
	money amount, windows = 0;
	int32_t ys, ye, done_year = 0;

	for (int i = 0; i < out->n; i++)
		if (out->v[i].kind == BL_BUNDLE &&
		    money_add_checked(windows, out->v[i].exact, &windows) != 0)
			return terr_set(c->e, "account %s, period %s: the bundle windows do not "
			    "fit in 64-bit micro-units (overflow)", acct->id, c->period);
	/* the period closed is the last of u->p */
	if (monthly_line(c, c->period, u->p[u->np - 1].now, windows, out) != 0)
		return -1;
	if (bill_annual_minimum(c->t, c->a, first, end, &ys, &ye, &amount)) {
		if (annual_line(c, ys, ye, amount, out) != 0)
			return -1;
		done_year = ys;
	}
	for (int k = 0; k < u->np - 1; k++) {
		const struct pusage *pu = &u->p[k];
		int32_t pf = local_date(acct->tz, rate_period_start(acct, pu->period, 0));

		if (monthly_line(c, pu->period, pu->now, 0, out) != 0)
			return -1;
		/* the contract year holding the period, when it ended before this
		 * one: its true-up is settled again */
		if (!bill_annual_minimum(c->t, c->a, pf, bill_date_add_months(pf, 12), &ys, &ye,
		    &amount) || ys > pf || ys == done_year || ye > first)
			continue;
		done_year = ys;
		if (annual_line(c, ys, ye, amount, out) != 0)
			return -1;
	}
	return 0;
}

/* What a failed bill_*() call means, naming whose invoice it stopped. */
static void
overflow_or_memory(struct terr *e, int rc, const char *account, const char *period,
    const char *what)
{
	if (rc == BILL_OVERFLOW)
		terr_set(e, "account %s, period %s: %s does not fit in 64-bit micro-units "
		    "(overflow); nothing was changed", account, period, what);
	else
		terr_set(e, "out of memory");
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
	if (read_usage(s, &u, acct->id) != 0 ||
	    usage_lines(&u, c.tax_rate, t->tax_included, &lines) != 0)
		goto out;
	if (store_each_window_upto(s, acct->id, period, on_window, &c, e) != 0)
		goto out;
	if ((rc = bill_fees(t, a, first, end, &lines)) != 0) {
		overflow_or_memory(e, rc, acct->id, period, "the sum of its fees");
		rc = -1;
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
			overflow_or_memory(e, rc, acct->id, period, "the sum of its rents");
			rc = -1;
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
	if (minimum_lines(&c, &u, first, end, &lines) != 0)
		goto out;
	if (lines.n == 0) {
		rc = 0;
		goto out;
	}
	if ((rc = bill_tax(lines.v, lines.n, t->currency_decimals, &tot)) != 0) {
		if (rc == BILL_OVERFLOW)
			overflow_or_memory(e, rc, acct->id, period, "the invoice's total");
		else
			terr_set(e, "%s %s: more than %d tax rates on one invoice", acct->id,
			    period, BILL_MAX_TAXGROUPS);
		rc = -1;
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
	if (money_sub_checked(tot.total, row.previous, &row.due) != 0 ||
	    money_sub_checked(row.due, row.payments, &row.due) != 0) {
		overflow_or_memory(e, BILL_OVERFLOW, acct->id, period, "the amount due");
		goto out;
	}
	for (int i = 0; i < lines.n; i++)
		tally_utf8_trim(lines.v[i].description);	/* cut at 240 bytes */
	if (store_invoice_add(s, &row, lines.v, lines.n, &tot, &id, e) != 0)
		goto out;
	for (int i = 0; i < u.ncdrs; i++)
		if (store_invoice_add_cdr(s, id, u.cdrs[i], e) != 0)
			goto out;
	if (usage_keep(s, &u, id, e) != 0)
		goto out;
	sum->drafts++;
	sum->calls += u.ncdrs;
	rc = 0;
out:
	usage_release(&u);
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
	char through[8] = "";

	memset(sum, 0, sizeof *sum);
	if (tariff_set_load(s, &ts, e) != 0) {
		tariff_set_release(&ts);
		return -1;
	}
	/* a bundle bought in a month with no calls (or a store with none) is
	 * invoiced all the same: its windows must reach the period closed */
	if (period)
		tally_strlcpy(through, period, sizeof through);
	for (int i = 0; !period && i < ts.n; i++)
		for (int a = 0; a < ts.t[i]->naccounts; a++) {
			char p[8];

			if (due_period(&ts.t[i]->accounts[a], due, p) && strcmp(p, through) > 0)
				tally_strlcpy(through, p, sizeof through);
		}
	if (through[0] && rate_windows_through(s, through, e) != 0) {
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
	money due;

	if (money_sub_checked(x->total, previous, &due) != 0 ||
	    money_sub_checked(due, payments, &due) != 0)
		return terr_set(e, "account %s, period %s: the amount due does not fit in 64-bit "
		    "micro-units (overflow)", x->account, x->period);
	return store_invoice_set_balance(s, x->id, previous, payments, due, e);
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
		if ((rc = store_invoice_overlaps(s, x->id, e)) != 0 ||
		    (rc = store_usage_moved(s, x->id, e)) != 0) {
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
		/* a number is never cut (tally-tariff(5): prefixes are at most
		 * TARIFF_PREFIX_MAX) */
		if ((size_t)snprintf(number, sizeof number, "%s%06lld", x->prefix,
		    (long long)seq) >= sizeof number) {
			terr_set(e, "invoice prefix \"%s\" leaves no room for the number", x->prefix);
			goto fail;
		}
		/* what it charges of its period and the re-rated earlier ones settles
		 * them, until a rating run changes them again */
		if (store_invoice_set_issued(s, x->id, number, (int64_t)time(NULL), e) != 0 ||
		    store_ledger_add(s, &lr, x->id, e) != 0 ||
		    store_usage_settle(s, x->account, x->period, e) != 0)
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
	if (money_add_checked(f->r.total, credited, left) != 0)
		return terr_set(e, "invoice %s: what its credit notes leave does not fit in "
		    "64-bit micro-units (overflow)", number);
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
	if ((size_t)snprintf(credit, 64, "%s%06lld", f->r.credit_prefix, (long long)seq) >= 64)
		return terr_set(e, "credit-note prefix \"%s\" leaves no room for the number",
		    f->r.credit_prefix);
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
	    store_invoice_set_status(s, f.r.id, "void", e) != 0 ||
	    store_usage_reopen(s, f.r.id, e) != 0 || store_commit(s, e) != 0)
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
	if (bill_tax(lines.v, lines.n, f.r.decimals, &tot) != 0) {
		terr_set(e, "invoice %s: the credit's tax does not fit in 64-bit micro-units "
		    "(overflow)", number);
		goto fail;
	}
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
