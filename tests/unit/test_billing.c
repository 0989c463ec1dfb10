/*
 * billing: fee steps, proration, anniversaries, rented-number terms,
 * minimum spend and the tax of an invoice (tally-invoice(1)), each with
 * values worked by hand in the comments.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tally/billing.h"

#define U 1000000LL	/* micro-units per unit */

static struct tariff_pkg pkg;
static struct tariff *t;
static struct bill_lines ls;

static void
set(enum tariff_fileid f, const char *text)
{
	free(pkg.data[f]);
	pkg.data[f] = strdup(text);
	pkg.len[f] = strlen(text);
}

static void
setup(void)
{
	memset(&pkg, 0, sizeof pkg);
	memset(&ls, 0, sizeof ls);
	set(TF_PACKAGE, "key,value\nreseller,r\ncurrency,VND\ntax_rate,10\ntax,included\n");
	set(TF_CLASSES, "class,priority,type,caller,callee,payer\nv,1,voice,,,caller\n");
	set(TF_PLANS, "plan,rounding,decimals\np,half-up,0\n");
	set(TF_PLAN_CLASSES, "plan,class,pricing\np,v,free\n");
	set(TF_ACCOUNTS, "account,plan,timezone,created,tax_rate\n"
	    "a,p,Asia/Ho_Chi_Minh,2025-01-01,\nb,p,Asia/Ho_Chi_Minh,2025-01-01,8\n");
	set(TF_FEES, "fee,charge,count,proration,tax,tax_rate\n"
	    "hot,monthly,graduated,whole,,\nvol,monthly,volume,whole,,\n"
	    "day,monthly,graduated,days,,\nyear,annual,graduated,,excluded,5\n"
	    "rent,rent,,,,\n");
	set(TF_FEE_PRICES, "fee,from,price\nhot,1,299000\nhot,2,49000\nhot,5,39000\n"
	    "hot,20,29000\nhot,50,19000\nvol,1,400\nvol,10,300\nday,1,3100\n"
	    "year,1,0\nyear,3,30\nrent,1,100000\n");
	set(TF_MINIMUMS, "account,kind,amount,rate,from\n"
	    "a,monthly,50000,500,2026-01-01\na,monthly,60000,500,2026-06-01\n"
	    "a,annual,1200000,500,2024-02-29\n");
	set(TF_RENTALS, "account,number,fee,activated\na,+8418001234,rent,2026-01-31\n");
}

static void
parse(const char *holdings)
{
	struct tariff_errors e;

	set(TF_ACCOUNT_FEES, holdings);
	t = tariff_parse(&pkg, &e);
	cr_assert_not_null(t, "%s", e.n ? e.msg[0] : "?");
}

static void
teardown(void)
{
	tariff_free(t);
	tariff_pkg_release(&pkg);
	bill_lines_release(&ls);
}

TestSuite(billing, .init = setup, .fini = teardown);

Test(billing, dates_clamp_to_month_ends)
{
	cr_expect_eq(bill_date_add_months(20260131, 1), 20260228);
	cr_expect_eq(bill_date_add_months(20240229, 12), 20250228);
	cr_expect_eq(bill_date_add_months(20261115, 2), 20270115);
	cr_expect_eq(bill_date_add_days(20261231, 1), 20270101);
	cr_expect_eq(bill_days_between(20261101, 20261201), 30);
}

Test(billing, graduated_steps_one_line_each)
{
	/* 6 hotlines: 299,000 + 3 x 49,000 + 2 x 39,000 = 524,000 */
	parse("account,fee,quantity,activated\na,hot,6,2026-01-01\n");
	cr_assert_eq(bill_fees(t, 0, 20261101, 20261201, &ls), 0);
	cr_assert_eq(ls.n, 3);
	cr_expect_str_eq(ls.v[0].quantity, "1");
	cr_expect_eq(ls.v[0].exact, 299000 * U);
	cr_expect_str_eq(ls.v[1].quantity, "3");
	cr_expect_eq(ls.v[1].exact, 147000 * U);
	cr_expect_str_eq(ls.v[2].quantity, "2");
	cr_expect_eq(ls.v[2].unit_price, 39000 * U);
	cr_expect_eq(ls.v[0].tax_rate, 1000);
	cr_expect_eq(ls.v[0].tax_included, 1);
}

Test(billing, every_hotline_boundary)
{
	/* 51: 1 x 299,000, 3 x 49,000, 15 x 39,000, 30 x 29,000, 2 x 19,000 */
	static const money want[] = { 299000, 147000, 585000, 870000, 38000 };

	parse("account,fee,quantity,activated\na,hot,51,2026-01-01\n");
	cr_assert_eq(bill_fees(t, 0, 20261101, 20261201, &ls), 0);
	cr_assert_eq(ls.n, 5);
	for (int i = 0; i < 5; i++)
		cr_expect_eq(ls.v[i].exact, want[i] * U, "step %d", i);
	cr_expect_str_eq(ls.v[4].description, "hot, units 50 and on");
}

Test(billing, volume_prices_all_units_at_the_step_reached)
{
	/* 10 units reach the step from 10: all 10 at 300 = 3,000 */
	parse("account,fee,quantity,activated\na,vol,10,2026-01-01\n");
	cr_assert_eq(bill_fees(t, 0, 20261101, 20261201, &ls), 0);
	cr_assert_eq(ls.n, 1);
	cr_expect_eq(ls.v[0].exact, 3000 * U);
}

Test(billing, whole_period_charges_the_peak)
{
	/* 4 all month and 2 more for two days: the peak, 6 */
	parse("account,fee,quantity,activated,cancelled\na,hot,4,2026-01-01,\n"
	    "a,hot,2,2026-11-10,2026-11-12\n");
	cr_assert_eq(bill_fees(t, 0, 20261101, 20261201, &ls), 0);
	cr_assert_eq(ls.n, 3);
	cr_expect_str_eq(ls.v[2].quantity, "2");
}

Test(billing, days_proration_is_one_exact_rounding)
{
	/* 1 unit at 3,100 from 2026-11-21 (10 of November's 30 days):
	 * 10 x 3,100 / 30 = 1,033.333333... -> 1,033.333333 (half-up to a
	 * micro-unit) */
	parse("account,fee,quantity,activated\na,day,1,2026-11-21\n");
	cr_assert_eq(bill_fees(t, 0, 20261101, 20261201, &ls), 0);
	cr_assert_eq(ls.n, 1);
	cr_expect_eq(ls.v[0].exact, 1033333333LL);
}

Test(billing, annual_on_activation_and_each_anniversary)
{
	/* activated 2024-02-29; 2 units free, the 3rd on at 30: 4 units = 60
	 * a year.  Charged in February 2024, 2025 (on the 28th), 2026. */
	parse("account,fee,quantity,activated\na,year,4,2024-02-29\n");
	cr_assert_eq(bill_fees(t, 0, 20250201, 20250301, &ls), 0);
	cr_assert_eq(ls.n, 2);
	cr_expect_eq(ls.v[1].exact, 60 * U);
	cr_expect_str_eq(ls.v[1].description, "year, units 3 and on (year from 2025-02-28)");
	cr_expect_eq(ls.v[1].tax_rate, 500);	/* the fee's own rate */
	cr_expect_eq(ls.v[1].tax_included, 0);
	bill_lines_release(&ls);
	cr_assert_eq(bill_fees(t, 0, 20250301, 20250401, &ls), 0);
	cr_expect_eq(ls.n, 0, "nothing the month after");
}

Test(billing, a_later_row_is_numbered_after_the_units_held)
{
	/* 2 free units held since 2025; 1 more activated 2026-06-10 is the
	 * 3rd: 30 on its own date */
	parse("account,fee,quantity,activated\na,year,2,2025-01-01\na,year,1,2026-06-10\n");
	cr_assert_eq(bill_fees(t, 0, 20260601, 20260701, &ls), 0);
	cr_assert_eq(ls.n, 1);
	cr_expect_eq(ls.v[0].exact, 30 * U);
}

Test(billing, rent_renewed_late_runs_from_the_payment)
{
	/* term 1 from 01-31, due 02-28; paid 03-10 (late): term 2 from 03-10,
	 * due 04-10; unpaid: held 04-10, released 05-10.  Rent 100,000 with
	 * 10% included: a payment of 100,000 renews. */
	struct bill_payment pay[] = { { 20260310, 100000 * U } };

	parse("account,fee,quantity,activated\n");
	cr_assert_eq(bill_rent(t, &t->rentals[0], pay, 1, 20260201, 20260301, &ls), 0);
	cr_assert_eq(ls.n, 1);
	cr_expect_eq(ls.v[0].kind, BL_HELD, "held from 02-28, on February's invoice");
	cr_expect(strstr(ls.v[0].description, "held from 2026-02-28") != NULL);
	bill_lines_release(&ls);
	cr_assert_eq(bill_rent(t, &t->rentals[0], pay, 1, 20260301, 20260401, &ls), 0);
	cr_assert_eq(ls.n, 1);
	cr_expect_eq(ls.v[0].kind, BL_RENT);
	cr_expect_str_eq(ls.v[0].ref, "rent:+8418001234:20260310");
	cr_expect_eq(ls.v[0].exact, 100000 * U);
	bill_lines_release(&ls);
	cr_assert_eq(bill_rent(t, &t->rentals[0], pay, 1, 20260501, 20260601, &ls), 0);
	cr_assert_eq(ls.n, 1);
	cr_expect_eq(ls.v[0].kind, BL_RELEASED);
	cr_expect(strstr(ls.v[0].description, "released on 2026-05-10") != NULL);
}

Test(billing, minimums_in_force)
{
	money m;
	int32_t from, to;

	parse("account,fee,quantity,activated\n");
	cr_expect_eq(bill_monthly_minimum(t, 0, 20260501, &m), 1);
	cr_expect_eq(m, 50000 * U);
	cr_expect_eq(bill_monthly_minimum(t, 0, 20260601, &m), 1);
	cr_expect_eq(m, 60000 * U);
	cr_expect_eq(bill_monthly_minimum(t, 1, 20260601, &m), 0);
	/* contract years from 2024-02-29: the second ends 2026-02-27 (the day
	 * before 2026-02-28) */
	cr_expect_eq(bill_annual_minimum(t, 0, 20260201, 20260301, &from, &to, &m), 1);
	cr_expect_eq(from, 20250228);
	cr_expect_eq(to, 20260228);
	cr_expect_eq(bill_annual_minimum(t, 0, 20260301, 20260401, &from, &to, &m), 0);
}

static struct bill_line
line(money exact, int rate, int included)
{
	struct bill_line l = { .exact = exact, .tax_rate = rate, .tax_included = included };

	return l;
}

Test(billing, tax_included_backed_out_of_the_exact_sum)
{
	/* 524,000 VND with 10% VAT: 524,000 / 11 = 47,636.36 -> 47,636 */
	struct bill_line l[] = { line(524000 * U, 1000, 1) };
	struct bill_totals tot;

	cr_assert_eq(bill_tax(l, 1, 0, &tot), 0);
	cr_expect_eq(tot.tax, 47636 * U);
	cr_expect_eq(tot.subtotal, 476364 * U);
	cr_expect_eq(tot.total, 524000 * U);
	cr_expect_eq(l[0].net, 476364 * U);
}

Test(billing, half_a_dong_rounds_up_included)
{
	/* 115.5 VND: printed 116; tax 115.5 / 11 = 10.5 -> 11; net 105 */
	struct bill_line l[] = { line(115500000, 1000, 1) };
	struct bill_totals tot;

	cr_assert_eq(bill_tax(l, 1, 0, &tot), 0);
	cr_expect_eq(l[0].amount, 116 * U);
	cr_expect_eq(tot.tax, 11 * U);
	cr_expect_eq(tot.subtotal, 105 * U);
}

Test(billing, half_a_fen_rounds_up_excluded)
{
	/* 12.5625 CNY at 8%: base 12.56, tax 1.005 -> 1.01, total 13.57 */
	struct bill_line l[] = { line(12562500, 800, 0) };
	struct bill_totals tot;

	cr_assert_eq(bill_tax(l, 1, 2, &tot), 0);
	cr_expect_eq(tot.subtotal, 12560000);
	cr_expect_eq(tot.tax, 1010000);
	cr_expect_eq(tot.total, 13570000);
}

Test(billing, largest_remainder_to_the_lines)
{
	/* three lines of 0.333333 CNY at 8% excluded: sum 0.999999 -> 1.00;
	 * floors 0.33 each, the fen left to the first (ties: earlier line):
	 * 0.34, 0.33, 0.33.  Tax 0.07999992 -> 0.08; shares of 8 fen by
	 * 34:33:33 are 2.72, 2.64, 2.64 -> 2, 2, 2 and the 2 fen left go to
	 * the first two: 0.03, 0.03, 0.02. */
	struct bill_line l[] = { line(333333, 800, 0), line(333333, 800, 0),
		line(333333, 800, 0) };
	struct bill_totals tot;

	cr_assert_eq(bill_tax(l, 3, 2, &tot), 0);
	cr_expect_eq(l[0].amount, 340000);
	cr_expect_eq(l[1].amount, 330000);
	cr_expect_eq(l[2].amount, 330000);
	cr_expect_eq(l[0].tax, 30000);
	cr_expect_eq(l[1].tax, 30000);
	cr_expect_eq(l[2].tax, 20000);
	cr_expect_eq(tot.total, 1080000);
}

Test(billing, one_tax_per_rate)
{
	/* 100 at 10% included and 100 at 8% excluded: two groups, 9.09 and
	 * 8.00 of tax (CNY) */
	struct bill_line l[] = { line(100 * U, 1000, 1), line(100 * U, 800, 0) };
	struct bill_totals tot;

	cr_assert_eq(bill_tax(l, 2, 2, &tot), 0);
	cr_assert_eq(tot.ng, 2);
	cr_expect_eq(tot.g[0].tax, 9090000);
	cr_expect_eq(tot.g[1].tax, 8 * U);
	cr_expect_eq(tot.subtotal, 90910000 + 100 * U);
	cr_expect_eq(tot.total, 208 * U);
}

Test(billing, a_credit_note_negates)
{
	/* -115.5 VND included: -116, tax -11 */
	struct bill_line l[] = { line(-115500000, 1000, 1) };
	struct bill_totals tot;

	cr_assert_eq(bill_tax(l, 1, 0, &tot), 0);
	cr_expect_eq(l[0].amount, -116 * U);
	cr_expect_eq(tot.tax, -11 * U);
	cr_expect_eq(tot.total, -116 * U);
}

/* n holdings of 1,000,000 units of a fee of 100,000 VND: each holding is
 * 10^11 VND, the most validation accepts, and all of them are one line. */
static void
big_holdings(const char *fee, const char *count, const char *proration, int n)
{
	char fees[256], *h = malloc((size_t)n * 64 + 64);
	size_t len;

	cr_assert_not_null(h);
	snprintf(fees, sizeof fees, "fee,charge,count,proration\nbig,monthly,%s,%s\n",
	    count, proration);
	set(TF_FEES, fees);
	set(TF_FEE_PRICES, "fee,from,price\nbig,1,100000\n");
	set(TF_MINIMUMS, "account,kind,amount,rate,from\n");
	set(TF_RENTALS, "account,number,fee,activated\n");
	len = (size_t)sprintf(h, "account,fee,quantity,activated\n");
	for (int i = 0; i < n; i++)
		len += (size_t)sprintf(h + len, "a,%s,1000000,2026-01-01\n", fee);
	parse(h);
	free(h);
}

Test(billing, fee_sums_are_checked_never_wrapped)
{
	/* 92 holdings: 92,000,000 units x 100,000 VND = 9.2 x 10^12 VND =
	 * 9,200,000,000,000,000,000 micro-units, below 2^63 - 1 =
	 * 9,223,372,036,854,775,807: one exact line */
	big_holdings("big", "graduated", "whole", 92);
	cr_assert_eq(bill_fees(t, 0, 20261101, 20261201, &ls), 0);
	cr_assert_eq(ls.n, 1);
	cr_expect_eq(ls.v[0].exact, 9200000000000000000LL);
}

Test(billing, a_fee_beyond_64_bits_is_an_overflow)
{
	/* 93 holdings: 9.3 x 10^18 micro-units does not fit; today's code
	 * wrapped it to a negative line */
	big_holdings("big", "graduated", "whole", 93);
	cr_expect_eq(bill_fees(t, 0, 20261101, 20261201, &ls), BILL_OVERFLOW);
}

Test(billing, a_volume_fee_beyond_64_bits_is_an_overflow)
{
	big_holdings("big", "volume", "whole", 93);
	cr_expect_eq(bill_fees(t, 0, 20261101, 20261201, &ls), BILL_OVERFLOW);
}

Test(billing, a_prorated_fee_beyond_64_bits_is_an_overflow)
{
	/* one day of 93 holdings already overflows */
	big_holdings("big", "graduated", "days", 93);
	cr_expect_eq(bill_fees(t, 0, 20261101, 20261201, &ls), BILL_OVERFLOW);
}

Test(billing, lines_of_both_signs_add_up)
{
	/* A late call's correction can be negative beside positive lines of
	 * the same rate.  0.011 + 0.011 - 0.019 CNY at 8% excluded: the exact
	 * sum 0.003 prints as 0.00.  Floored to the fen the lines are 0.01,
	 * 0.01, -0.02 (remainders 0.001, 0.001, 0.001), which already add up
	 * to 0.00: nothing left to give.  (Cut toward zero they were 0.01,
	 * 0.01, -0.01: lines adding up to 0.01 under a subtotal of 0.00.) */
	struct bill_line l[] = { line(11000, 800, 0), line(11000, 800, 0),
		line(-19000, 800, 0) };
	struct bill_totals tot;

	cr_assert_eq(bill_tax(l, 3, 2, &tot), 0);
	cr_expect_eq(l[0].amount, 10000);
	cr_expect_eq(l[1].amount, 10000);
	cr_expect_eq(l[2].amount, -20000);
	cr_expect_eq(l[0].amount + l[1].amount + l[2].amount, tot.subtotal);
	cr_expect_eq(tot.subtotal, 0);
	cr_expect_eq(tot.tax, 0);
}

Test(billing, a_negative_minimum_adjustment_is_taxed_in_proportion)
{
	/* tests/cli/late.expect.notes, lvn-000007: 2700 - 2700 + 20000 VND,
	 * 10% included: tax 20000 / 11 = 1818.18 -> 1818; shares 245.43,
	 * -245.43, 1818 floor to 245, -246, 1818 (1817), the dong left to
	 * the largest remainder (.57, the negative line): 245, -245, 1818. */
	struct bill_line l[] = { line(2700 * U, 1000, 1), line(-2700 * U, 1000, 1),
		line(20000 * U, 1000, 1) };
	struct bill_totals tot;

	cr_assert_eq(bill_tax(l, 3, 0, &tot), 0);
	cr_expect_eq(l[0].tax, 245 * U);
	cr_expect_eq(l[1].tax, -245 * U);
	cr_expect_eq(l[2].tax, 1818 * U);
	cr_expect_eq(l[1].net, -2455 * U);
	cr_expect_eq(tot.tax, 1818 * U);
	cr_expect_eq(tot.total, 20000 * U);
}
