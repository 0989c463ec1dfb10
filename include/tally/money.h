/*
 * money.h - exact amounts: integers in micro-units (1e-6 of the currency).
 *
 * No floating point touches money.  A per-minute price applied to seconds is
 * not a whole number of micro-units (500 VND/min for 7 s is 58.333... VND),
 * so charges are accumulated exactly as "sixtieths of a micro-unit"
 * (money_x60: price * seconds) and rounded once, at a named place, by a
 * named rule.  Accumulators are 128-bit: a month of a large operator's
 * calls in sixtieths of micro-dong does not fit in 64 bits.
 */
#ifndef TALLY_MONEY_H
#define TALLY_MONEY_H

#include <stddef.h>
#include <stdint.h>

#define MONEY_SCALE 1000000	/* micro-units per currency unit */

typedef int64_t money;		/* micro-units */
typedef __int128 money_x60;	/* exact: micro-units * 60 */

enum money_rounding {
	ROUND_FULL,		/* half-up to micro-units; the invoice rounds later */
	ROUND_HALF_UP,
	ROUND_UP,		/* toward +infinity */
	ROUND_DOWN,		/* toward -infinity */
};

/* Parse "123", "0.13", "-4.5" (at most 6 decimals) into micro-units.
 * Returns 0, or -1 for anything else (empty, exponent, 7 decimals...). */
int money_parse(const char *s, money *out);

/*
 * Write m as decimal text: at least `min_decimals` decimals (the currency's
 * minor unit), more only when the amount has them (0.001666 CNY prints as
 * "0.001666", 500 VND as "500", 0.1 CNY as "0.10").  buf must hold 32 bytes.
 */
void money_format(money m, int min_decimals, char *buf);

/* Round an exact amount in sixtieths of a micro-unit to micro-units, then
 * to `decimals` places of the currency unit by the rule (decimals ignored
 * for ROUND_FULL).  Exact at .5: half-up goes up. */
money money_round(money_x60 exact, enum money_rounding rule, int decimals);
/* The same, checked: 0 and *out, or -1 when the rounded amount does not
 * fit in money (the 128-bit exact amount is never narrowed unchecked).
 * money_round() is for amounts bounded by validation, such as one call's
 * charge (RATE_MAX_SECONDS at the largest price); sums use this one. */
int money_round_checked(money_x60 exact, enum money_rounding rule, int decimals,
    money *out);

/*
 * Checked arithmetic for every sum of money: 0 and *out, or -1 when the
 * result does not fit in 64 bits (*out is then left alone).  The caller
 * turns -1 into an error naming the account and period; a wrapped figure
 * is never used.
 */
int money_add_checked(money a, money b, money *out);
int money_sub_checked(money a, money b, money *out);
int money_mul_checked(money a, int64_t b, money *out);
/* A wider accumulator narrowed to money: 0, or -1 when it does not fit. */
int money_narrow(__int128 v, money *out);

int money_rounding_parse(const char *s, enum money_rounding *out);
const char *money_rounding_name(enum money_rounding r);

/* ISO 4217 codes tally knows, with their minor units (VND 0, CNY 2...).
 * Returns the number of decimals, or -1 for an unknown code. */
int money_currency_decimals(const char *code);

/* m for a person reading that currency: "1.234.567 \u20ab", "\u00a51,234.56",
 * "-$3.10"; an unknown code is written after the amount.  buf: 64 bytes. */
void money_display(money m, const char *currency, int min_decimals, char *buf);
/* The decimal point its readers write: ',' for VND and EUR, else '.'. */
char money_point(const char *currency);

#endif
