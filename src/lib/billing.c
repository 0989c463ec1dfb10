#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tally/billing.h"
#include "tally/timefmt.h"

static const char *const kind_names[] = {
	[BL_USAGE] = "usage", [BL_PRIOR] = "prior", [BL_BUNDLE] = "bundle",
	[BL_FEE] = "fee", [BL_RENT] = "rent", [BL_HELD] = "held",
	[BL_RELEASED] = "released", [BL_MINIMUM] = "minimum", [BL_CREDIT] = "credit",
};

const char *
bill_kind_name(enum bill_kind k)
{
	return kind_names[k];
}

struct bill_line *
bill_add(struct bill_lines *ls, enum bill_kind kind)
{
	struct bill_line *l;

	if (ls->n == ls->cap) {
		int cap = ls->cap ? ls->cap * 2 : 16;
		struct bill_line *v = realloc(ls->v, (size_t)cap * sizeof *v);

		if (v == NULL)
			return NULL;
		ls->v = v;
		ls->cap = cap;
	}
	l = &ls->v[ls->n++];
	memset(l, 0, sizeof *l);
	l->kind = kind;
	return l;
}

void
bill_lines_release(struct bill_lines *ls)
{
	free(ls->v);
	memset(ls, 0, sizeof *ls);
}

/* ---- dates -------------------------------------------------------------- */

static int64_t
days_of(int32_t d)
{
	return civil_days(d / 10000, d / 100 % 100, d % 100);
}

static int32_t
date_of(int64_t days)
{
	struct civil c;

	civil_from_utc(days * 86400, &c);
	return c.year * 10000 + c.mon * 100 + c.day;
}

int32_t
bill_date_add_days(int32_t date, int days)
{
	return date_of(days_of(date) + days);
}

static int
month_days(int y, int m)
{
	static const int n[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0) ? 29 : n[m - 1];
}

int32_t
bill_date_add_months(int32_t date, int months)
{
	int y = date / 10000, m = date / 100 % 100, d = date % 100;
	int k = y * 12 + (m - 1) + months;

	y = k / 12;
	m = k % 12 + 1;
	if (d > month_days(y, m))
		d = month_days(y, m);
	return y * 10000 + m * 100 + d;
}

int
bill_days_between(int32_t from, int32_t to)
{
	return (int)(days_of(to) - days_of(from));
}

void
bill_date_text(int32_t date, char out[11])
{
	unsigned d = (unsigned)date;

	snprintf(out, 11, "%04u-%02u-%02u", d / 10000 % 10000, d / 100 % 100 % 13,
	    d % 100 % 32);
}

int
bill_date_parse(const char *s, int32_t *out)
{
	struct civil c;

	if (strlen(s) != 10 || timefmt_parse("%Y-%m-%d", s, &c) != 0)
		return -1;
	*out = c.year * 10000 + c.mon * 100 + c.day;
	return 0;
}

void
bill_rate_text(int r, char out[16])
{
	if (r % 100 == 0)
		snprintf(out, 16, "%d", r / 100);
	else if (r % 10 == 0)
		snprintf(out, 16, "%d.%d", r / 100, r / 10 % 10);
	else
		snprintf(out, 16, "%d.%02d", r / 100, r % 100);
}

/* ---- fees --------------------------------------------------------------- */

static int
held_on(const struct holding *h, int32_t day)
{
	return h->activated <= day && (h->cancelled == 0 || day < h->cancelled);
}

/* The price of units offset+1 .. offset+q of a fee in *out: 0, or
 * BILL_OVERFLOW when it does not fit in money. */
static int
fee_amount(const struct fee *f, int64_t offset, int64_t q, money *out)
{
	money sum = 0, part;

	*out = 0;
	if (q <= 0)
		return 0;
	if (f->count == TIER_VOLUME) {
		int s = 0;

		while (s + 1 < f->nsteps && f->steps[s + 1].from <= offset + q)
			s++;
		return money_mul_checked(f->steps[s].price, q, out) != 0 ? BILL_OVERFLOW : 0;
	}
	for (int s = 0; s < f->nsteps; s++) {
		int64_t lo = f->steps[s].from, hi = s + 1 < f->nsteps ?
		    f->steps[s + 1].from - 1 : INT64_MAX;
		int64_t a = lo > offset + 1 ? lo : offset + 1, b = hi < offset + q ? hi : offset + q;

		if (a <= b && (money_mul_checked(f->steps[s].price, b - a + 1, &part) != 0 ||
		    money_add_checked(sum, part, &sum) != 0))
			return BILL_OVERFLOW;
	}
	*out = sum;
	return 0;
}

static void
set_tax(const struct tariff *t, int account, const struct fee *f, struct bill_line *l)
{
	l->tax_rate = f->tax_rate >= 0 ? f->tax_rate : tariff_account_tax_rate(t, account);
	l->tax_included = f->tax_included;
}

/* Lines for units offset+1 .. offset+q of a fee: one per step used
 * (graduated), or one (volume). */
static int
step_lines(const struct tariff *t, int account, const struct fee *f, int64_t offset,
    int64_t q, const char *when, const char *ref, struct bill_lines *out)
{
	if (f->count == TIER_VOLUME || f->nsteps == 1) {
		struct bill_line *l = bill_add(out, BL_FEE);

		if (l == NULL)
			return -1;
		snprintf(l->description, sizeof l->description, "%s%s", f->description, when);
		snprintf(l->quantity, sizeof l->quantity, "%lld", (long long)q);
		if (fee_amount(f, offset, q, &l->exact) != 0)
			return BILL_OVERFLOW;
		l->unit_price = l->exact / q;
		snprintf(l->ref, sizeof l->ref, "%s", ref);
		set_tax(t, account, f, l);
		return 0;
	}
	for (int s = 0; s < f->nsteps; s++) {
		int64_t lo = f->steps[s].from, hi = s + 1 < f->nsteps ?
		    f->steps[s + 1].from - 1 : INT64_MAX;
		int64_t a = lo > offset + 1 ? lo : offset + 1, b = hi < offset + q ? hi : offset + q;
		struct bill_line *l;
		char units[64];

		if (a > b)
			continue;
		if ((l = bill_add(out, BL_FEE)) == NULL)
			return -1;
		if (hi == INT64_MAX)
			snprintf(units, sizeof units, "units %lld and on", (long long)lo);
		else if (lo == hi)
			snprintf(units, sizeof units, "unit %lld", (long long)lo);
		else
			snprintf(units, sizeof units, "units %lld-%lld", (long long)lo,
			    (long long)hi);
		snprintf(l->description, sizeof l->description, "%s, %s%s", f->description,
		    units, when);
		snprintf(l->quantity, sizeof l->quantity, "%lld", (long long)(b - a + 1));
		l->unit_price = f->steps[s].price;
		if (money_mul_checked(f->steps[s].price, b - a + 1, &l->exact) != 0)
			return BILL_OVERFLOW;
		snprintf(l->ref, sizeof l->ref, "%s/%d", ref, s);
		set_tax(t, account, f, l);
	}
	return 0;
}

/* A monthly fee for the period: the peak quantity, or the days. */
static int
monthly_fee(const struct tariff *t, int account, int fi, const struct holding *h, int nh,
    int32_t first, int32_t end, struct bill_lines *out)
{
	const struct fee *f = &t->fees[fi];
	int days = bill_days_between(first, end);
	int64_t peak = 0, unit_days = 0;
	__int128 sum = 0;
	char ref[96];

	for (int32_t d = first; d < end; d = bill_date_add_days(d, 1)) {
		int64_t q = 0;
		money day;

		/* quantities are at most 10^6 a holding: no overflow */
		for (int i = 0; i < nh; i++)
			if (h[i].fee == fi && held_on(&h[i], d))
				q += h[i].quantity;
		if (q > peak)
			peak = q;
		unit_days += q;
		if (fee_amount(f, 0, q, &day) != 0)
			return BILL_OVERFLOW;
		sum += day;	/* 128 bits: at most 31 days of 64-bit amounts */
	}
	if (peak == 0)
		return 0;
	snprintf(ref, sizeof ref, "fee:%s:%s:%d", t->accounts[account].id, f->name, first);
	if (!f->prorate_days)
		return step_lines(t, account, f, 0, peak, "", ref, out);

	/* by days: the exact sum of the days' shares, rounded once (half-up
	 * to a micro-unit) */
	struct bill_line *l = bill_add(out, BL_FEE);

	if (l == NULL)
		return -1;
	snprintf(l->description, sizeof l->description, "%s, by day: %lld unit-days over "
	    "%d days", f->description, (long long)unit_days, days);
	snprintf(l->quantity, sizeof l->quantity, "1");
	if (money_narrow((sum * 2 + days) / (2 * days), &l->exact) != 0)
		return BILL_OVERFLOW;
	l->unit_price = l->exact;
	snprintf(l->ref, sizeof l->ref, "%s", ref);
	set_tax(t, account, f, l);
	return 0;
}

/* Units of the same fee held on `day` by rows before h[k] (date, line). */
static int64_t
held_before(const struct holding *h, int k, int32_t day)
{
	int64_t q = 0;

	for (int i = 0; i < k; i++)
		if (h[i].fee == h[k].fee && held_on(&h[i], day))
			q += h[i].quantity;
	return q;
}

int
bill_fees(const struct tariff *t, int account, int32_t first, int32_t end,
    struct bill_lines *out)
{
	int hf, nh = tariff_holdings(t, account, &hf);
	const struct holding *h = t->holdings + hf;

	for (int fi = 0; fi < t->nfees; fi++) {
		const struct fee *f = &t->fees[fi];

		if (f->charge == FEE_MONTHLY) {
			int rc = monthly_fee(t, account, fi, h, nh, first, end, out);

			if (rc != 0)
				return rc;
			continue;
		}
		for (int k = 0; k < nh; k++) {
			char when[40], ref[96], dt[11];
			int32_t day = h[k].activated;
			int rc;

			if (h[k].fee != fi || f->charge == FEE_RENT)
				continue;
			if (f->charge == FEE_ANNUAL) {
				/* the anniversary that falls in the period, if any */
				int years = first / 10000 - day / 10000;

				for (int y = years - 1 > 0 ? years - 1 : 0; y <= years + 1; y++) {
					int32_t a = bill_date_add_months(day, 12 * y);

					if (a >= first && a < end) {
						day = a;
						goto charge;
					}
				}
				continue;
			}
			if (day < first || day >= end)
				continue;
charge:
			if (!held_on(&h[k], day))
				continue;
			bill_date_text(day, dt);
			snprintf(when, sizeof when, " (%s %s)", f->charge == FEE_ANNUAL ?
			    "year from" : "on", dt);
			snprintf(ref, sizeof ref, "fee:%s:%s:%d:%d", t->accounts[account].id, f->name,
			    h[k].line, day);
			rc = step_lines(t, account, f, held_before(h, k, day), h[k].quantity,
			    when, ref, out);
			if (rc != 0)
				return rc;
		}
	}
	return 0;
}

/* ---- rented numbers ----------------------------------------------------- */

/* half-up to the currency's minor unit */
static money
round_minor(__int128 num, __int128 den, int decimals)
{
	__int128 unit = 1;
	int neg = (num < 0) != (den < 0);

	for (int i = decimals; i < 6; i++)
		unit *= 10;
	if (num < 0)
		num = -num;
	if (den < 0)
		den = -den;
	/* round(num / (den * unit)) * unit */
	__int128 q = (num * 2 + den * unit) / (2 * den * unit) * unit;

	return (money)(neg ? -q : q);
}

int
bill_rent(const struct tariff *t, const struct rental *r,
    const struct bill_payment *pay, int npay, int32_t first, int32_t end,
    struct bill_lines *out)
{
	const struct fee *f = &t->fees[r->fee];
	money rent = f->steps[0].price, gross = rent;
	int rate = f->tax_rate >= 0 ? f->tax_rate : tariff_account_tax_rate(t, r->account);
	int32_t start = r->activated;
	int p = 0;

	if (!f->tax_included && money_add_checked(rent, round_minor((__int128)rent * rate,
	    10000, t->currency_decimals), &gross) != 0)
		return BILL_OVERFLOW;
	while (start < end) {
		int32_t due = bill_date_add_months(start, 1), limit = bill_date_add_months(due, 1);
		int32_t next = 0;
		char s1[11], s2[11];

		if (start >= first) {
			struct bill_line *l = bill_add(out, BL_RENT);

			if (l == NULL)
				return -1;
			bill_date_text(start, s1);
			bill_date_text(due, s2);
			snprintf(l->description, sizeof l->description, "%s %s, %s to %s",
			    f->description, r->number, s1, s2);
			snprintf(l->quantity, sizeof l->quantity, "1");
			l->unit_price = l->exact = rent;
			l->tax_rate = rate;
			l->tax_included = f->tax_included;
			snprintf(l->ref, sizeof l->ref, "rent:%s:%d", r->number, start);
		}
		/* the renewal: the first payment of the rent after this term's start */
		while (p < npay && (pay[p].date <= start || pay[p].amount < gross))
			p++;
		if (p < npay && pay[p].date <= limit) {
			next = pay[p].date <= due ? due : pay[p].date;
			p++;
		}
		if (next == 0 || next > due) {
			/* held from the due date, until paid or released: shown on the
			 * invoice of the period the hold starts in */
			int32_t until = next ? next : limit;

			if (due >= first && due < end) {
				struct bill_line *l = bill_add(out, BL_HELD);

				if (l == NULL)
					return -1;
				bill_date_text(due, s1);
				bill_date_text(until, s2);
				snprintf(l->description, sizeof l->description, "Number %s held "
				    "from %s (rent unpaid)%s%s", r->number, s1, next ? ", renewed " :
				    "", next ? s2 : "");
				snprintf(l->quantity, sizeof l->quantity, "1");
				l->tax_rate = rate;
				l->tax_included = f->tax_included;
			}
		}
		if (next == 0) {
			if (limit >= first && limit < end) {
				struct bill_line *l = bill_add(out, BL_RELEASED);

				if (l == NULL)
					return -1;
				bill_date_text(limit, s1);
				snprintf(l->description, sizeof l->description, "Number %s released "
				    "on %s (rent unpaid one month after its due date)", r->number, s1);
				snprintf(l->quantity, sizeof l->quantity, "1");
				l->tax_rate = rate;
				l->tax_included = f->tax_included;
			}
			break;
		}
		start = next;
	}
	return 0;
}

/* ---- minimum spend ------------------------------------------------------ */

/* The row of a history in force on `day`, or NULL. */
static const struct minimum *
in_force(const struct tariff *t, int account, int annual, int32_t day)
{
	int mf, nm = tariff_minimums(t, account, &mf);
	const struct minimum *found = NULL;

	for (int i = 0; i < nm; i++) {
		const struct minimum *m = &t->minimums[mf + i];

		if (m->annual == annual && m->from <= day)
			found = m;
	}
	return found;
}

int
bill_monthly_minimum(const struct tariff *t, int account, int32_t first, money *amount)
{
	const struct minimum *m = in_force(t, account, 0, first);

	if (m == NULL)
		return 0;
	*amount = m->amount;
	return 1;
}

int
bill_annual_minimum(const struct tariff *t, int account, int32_t first, int32_t end,
    int32_t *from, int32_t *to, money *amount)
{
	int mf, nm = tariff_minimums(t, account, &mf);
	int32_t anchor = 0;

	for (int i = 0; i < nm && anchor == 0; i++)
		if (t->minimums[mf + i].annual)
			anchor = t->minimums[mf + i].from;
	if (anchor == 0)
		return 0;
	for (int y = 0; y < 10000; y++) {
		int32_t ys = bill_date_add_months(anchor, 12 * y);
		int32_t ye = bill_date_add_months(anchor, 12 * (y + 1));
		int32_t last = bill_date_add_days(ye, -1);
		const struct minimum *m;

		if (last >= end)
			return 0;
		if (last < first)
			continue;
		if ((m = in_force(t, account, 1, last)) == NULL)
			return 0;
		*from = ys;
		*to = ye;
		*amount = m->amount;
		return 1;
	}
	return 0;
}

/* ---- tax ---------------------------------------------------------------- */

static int
group_of(struct bill_totals *tot, int rate, int included)
{
	for (int g = 0; g < tot->ng; g++)
		if (tot->g[g].rate == rate && tot->g[g].included == included)
			return g;
	if (tot->ng == BILL_MAX_TAXGROUPS)
		return -1;
	tot->g[tot->ng].rate = rate;
	tot->g[tot->ng].included = included;
	return tot->ng++;
}

/* Does v fit in money? */
static int
fits(__int128 v)
{
	money m;

	return money_narrow(v, &m) == 0;
}

/* a / b rounded down (b > 0), for lines of either sign */
static __int128
floor_div128(__int128 a, __int128 b)
{
	__int128 q = a / b;

	return q * b > a ? q - 1 : q;
}

/* Give one more unit to `left` lines of group g: the largest remainders
 * first, the earlier line on a tie. */
static void
give_left(const int *grp, int g, int n, const __int128 *rem, int64_t *units,
    char *given, __int128 left)
{
	memset(given, 0, (size_t)n);
	while (left-- > 0) {
		int best = -1;

		for (int i = 0; i < n; i++)
			if (grp[i] == g && !given[i] && (best < 0 || rem[i] > rem[best]))
				best = i;
		if (best < 0)
			return;
		given[best] = 1;
		units[best]++;
	}
}

int
bill_tax(struct bill_line *l, int n, int decimals, struct bill_totals *tot)
{
	money unit = 1;
	int *grp = calloc((size_t)n + 1, sizeof *grp);
	__int128 *rem = calloc((size_t)n + 1, sizeof *rem);
	int64_t *amt = calloc((size_t)n + 1, sizeof *amt), *tx = calloc((size_t)n + 1, sizeof *tx);
	char *given = calloc((size_t)n + 1, 1);
	int rc = -1;

	for (int i = decimals; i < 6; i++)
		unit *= 10;
	memset(tot, 0, sizeof *tot);
	if (!grp || !rem || !amt || !tx || !given)
		goto out;
	for (int i = 0; i < n; i++) {
		if ((grp[i] = group_of(tot, l[i].tax_rate, l[i].tax_included)) < 0)
			goto out;
		if (money_add_checked(tot->g[grp[i]].exact, l[i].exact, &tot->g[grp[i]].exact))
			goto overflow;
	}
	for (int g = 0; g < tot->ng; g++) {
		struct bill_taxgroup *G = &tot->g[g];
		int sign = G->exact < 0 ? -1 : 1;
		__int128 S = (__int128)G->exact * sign, printed, tax, given_sum = 0;

		/* one rounding each: the printed sum and its tax */
		printed = (S * 2 + unit) / (2 * unit);
		tax = round_minor(S * G->rate, G->included ? 10000 + G->rate : 10000,
		    decimals) / unit;
		/* every printed figure below is at most printed or tax units, or
		 * a line's exact amount and one unit */
		if (!fits(printed * unit + unit) || !fits(tax * unit + unit))
			goto overflow;
		/* lines: exact amounts floored to the minor unit, the units left
		 * by largest remainder.  A group may hold lines of both signs (a
		 * late call that makes its period cheaper): flooring, not
		 * truncating, keeps every remainder in [0, unit) and what is left
		 * to give between 0 and the number of lines. */
		for (int i = 0; i < n; i++) {
			__int128 e;

			if (grp[i] != g)
				continue;
			e = (__int128)l[i].exact * sign;
			if (!fits(floor_div128(e, unit) * unit - unit) ||
			    !fits(floor_div128(e, unit) * unit + unit))
				goto overflow;
			amt[i] = (int64_t)floor_div128(e, unit);
			rem[i] = e - (__int128)amt[i] * unit;
			given_sum += amt[i];
		}
		give_left(grp, g, n, rem, amt, given, printed - given_sum);
		/* the tax in proportion to the printed amounts, the same way */
		given_sum = 0;
		for (int i = 0; i < n; i++) {
			if (grp[i] != g)
				continue;
			tx[i] = printed ? (int64_t)floor_div128(tax * amt[i], printed) : 0;
			rem[i] = printed ? tax * amt[i] - (__int128)tx[i] * printed : 0;
			given_sum += tx[i];
		}
		give_left(grp, g, n, rem, tx, given, tax - given_sum);
		for (int i = 0; i < n; i++) {
			if (grp[i] != g)
				continue;
			l[i].amount = (money)amt[i] * unit * sign;
			l[i].tax = (money)tx[i] * unit * sign;
			l[i].net = G->included ? l[i].amount - l[i].tax : l[i].amount;
		}
		G->tax = (money)tax * unit * sign;
		G->base = (money)printed * unit * sign - (G->included ? G->tax : 0);
		if (money_add_checked(tot->subtotal, G->base, &tot->subtotal) ||
		    money_add_checked(tot->tax, G->tax, &tot->tax))
			goto overflow;
	}
	if (money_add_checked(tot->subtotal, tot->tax, &tot->total))
		goto overflow;
	rc = 0;
	goto out;
overflow:
	rc = BILL_OVERFLOW;
out:
	free(grp);
	free(rem);
	free(amt);
	free(tx);
	free(given);
	return rc;
}
