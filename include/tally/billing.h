/*
 * billing.h - what an invoice charges besides usage, and how its lines and
 * tax add up (tally-invoice(1)): fees and add-ons, rented numbers, minimum
 * spend, and the tax of an invoice distributed to its lines.
 *
 * Pure: a tariff, local dates and amounts in; lines out.  No store, no
 * clock.  Dates are local calendar dates as YYYYMMDD integers; a period is
 * the half-open range of days [first, end).
 */
#ifndef TALLY_BILLING_H
#define TALLY_BILLING_H

#include <stdint.h>

#include "tally/money.h"
#include "tally/tariff.h"

enum bill_kind {
	BL_USAGE, BL_PRIOR, BL_BUNDLE, BL_FEE, BL_RENT, BL_HELD, BL_RELEASED,
	BL_MINIMUM, BL_CREDIT
};

const char *bill_kind_name(enum bill_kind k);	/* "usage", "fee"... */

struct bill_line {
	enum bill_kind kind;
	char description[240];
	char quantity[24];	/* as printed: "3", "12.50" */
	money unit_price;
	money exact;		/* the line's exact amount as priced, micro-units */
	int tax_rate;		/* hundredths of a percent */
	int tax_included;	/* exact includes the tax */
	char ref[96];		/* what it charges, so that it is charged once */
	/* set by bill_tax(): printed, in whole minor units */
	money amount, tax, net;
};

struct bill_lines {
	struct bill_line *v;
	int n, cap;
};

/* A new zeroed line at the end; NULL when out of memory. */
struct bill_line *bill_add(struct bill_lines *ls, enum bill_kind kind);
void bill_lines_release(struct bill_lines *ls);

/* ---- dates -------------------------------------------------------------- */

int32_t bill_date_add_days(int32_t date, int days);
/* Day d of the month n months later, or that month's last day. */
int32_t bill_date_add_months(int32_t date, int months);
int bill_days_between(int32_t from, int32_t to);	/* to - from */
void bill_date_text(int32_t date, char out[11]);	/* "2026-11-30" */
int bill_date_parse(const char *s, int32_t *out);	/* 0, or -1 */
/* A tax rate in hundredths of a percent as text: 1000 -> "10", 550 -> "5.5". */
void bill_rate_text(int rate, char out[16]);

/* ---- charges ------------------------------------------------------------ */

/*
 * What bill_fees() and bill_rent() return besides 0, and -1 (out of memory):
 * an amount of a line does not fit in money.  Every product of a price and
 * a quantity and every sum of them is checked, never wrapped; the caller
 * names the account and period ("H6 2026-11: the amounts overflow ...").
 */
#define BILL_OVERFLOW (-2)

/* The lines of an account's fees and add-ons for the period [first, end):
 * 0, -1 or BILL_OVERFLOW. */
int bill_fees(const struct tariff *t, int account, int32_t first, int32_t end,
    struct bill_lines *out);

/* A payment recorded for a rented number. */
struct bill_payment {
	int32_t date;
	money amount;
};

/* The rent lines of one rental for the period [first, end), from the
 * payments for its number in date order (tally-invoice(1), RENTED NUMBERS):
 * 0, -1 or BILL_OVERFLOW. */
int bill_rent(const struct tariff *t, const struct rental *r,
    const struct bill_payment *pay, int npay, int32_t first, int32_t end,
    struct bill_lines *out);

/* The monthly minimum in force on `first`: 1 and *amount, or 0 when none. */
int bill_monthly_minimum(const struct tariff *t, int account, int32_t first,
    money *amount);
/* The contract year of an account's annual minimum whose last day falls in
 * [first, end): 1 with the year [*from, *to) and the amount in force on its
 * last day, or 0. */
int bill_annual_minimum(const struct tariff *t, int account, int32_t first, int32_t end,
    int32_t *from, int32_t *to, money *amount);

/* ---- tax ---------------------------------------------------------------- */

struct bill_taxgroup {
	int rate, included;
	money exact;		/* the exact sum of its lines */
	money base, tax;	/* printed: the net and its tax */
};

#define BILL_MAX_TAXGROUPS 16

struct bill_totals {
	struct bill_taxgroup g[BILL_MAX_TAXGROUPS];
	int ng;
	money subtotal, tax, total;
};

/*
 * Tax each group of lines with one rate and tax terms once on its exact
 * sum, and distribute the printed amounts and the tax to the lines by
 * largest remainder (tally-invoice(1), TAX AND ROUNDING).  The lines of a
 * group may have either sign (a late call's correction can be negative).
 * Returns 0, -1 when there are too many groups, or BILL_OVERFLOW when a
 * sum does not fit in money.
 */
int bill_tax(struct bill_line *l, int n, int decimals, struct bill_totals *tot);

#endif
