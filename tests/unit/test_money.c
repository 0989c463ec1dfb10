/* money: exact decimal parsing, formatting, and the named roundings. */
#include <criterion/criterion.h>

#include "tally/money.h"

Test(money, parse_decimal_text)
{
	money m;

	cr_assert_eq(money_parse("0.13", &m), 0);
	cr_expect_eq(m, 130000);
	cr_assert_eq(money_parse("500", &m), 0);
	cr_expect_eq(m, 500000000);
	cr_assert_eq(money_parse("1.234567", &m), 0);
	cr_expect_eq(m, 1234567);
	cr_assert_eq(money_parse("-4.5", &m), 0);
	cr_expect_eq(m, -4500000);
	cr_expect_eq(money_parse("1.2345678", &m), -1);	/* 7 decimals */
	cr_expect_eq(money_parse("", &m), -1);
	cr_expect_eq(money_parse("1.", &m), -1);
	cr_expect_eq(money_parse("1e3", &m), -1);
	cr_expect_eq(money_parse("1,5", &m), -1);
	cr_expect_eq(money_parse("9223372036855", &m), -1);	/* 13 whole digits */
	cr_assert_eq(money_parse("999999999999.999999", &m), 0);	/* the largest */
	cr_expect_eq(m, 999999999999999999LL);
}

Test(money, format_keeps_minor_unit_and_real_digits)
{
	char b[32];

	money_format(500000000, 0, b);
	cr_expect_str_eq(b, "500");
	money_format(100000, 2, b);
	cr_expect_str_eq(b, "0.10");
	money_format(1666, 2, b);
	cr_expect_str_eq(b, "0.001666");
	money_format(-1500000, 2, b);
	cr_expect_str_eq(b, "-1.50");
	money_format(0, 0, b);
	cr_expect_str_eq(b, "0");
}

/* x60: an exact amount in sixtieths of a micro-unit (price * seconds). */
Test(money, per_second_charge_rounds_once)
{
	/* 500 VND/min for 7 s = 3500/60 VND = 58.333... VND */
	money_x60 x = (money_x60)500000000 * 7;

	cr_expect_eq(money_round(x, ROUND_FULL, 0), 58333333);
	cr_expect_eq(money_round(x, ROUND_HALF_UP, 0), 58000000);
	cr_expect_eq(money_round(x, ROUND_UP, 0), 59000000);
	cr_expect_eq(money_round(x, ROUND_DOWN, 0), 58000000);
	/* 0.13 CNY/min for 7 s = 0.91/60 CNY = 0.0151666... CNY */
	x = (money_x60)130000 * 7;
	cr_expect_eq(money_round(x, ROUND_HALF_UP, 2), 20000);
	cr_expect_eq(money_round(x, ROUND_UP, 2), 20000);
	cr_expect_eq(money_round(x, ROUND_DOWN, 2), 10000);
	cr_expect_eq(money_round(x, ROUND_FULL, 2), 15167);	/* 15166.67 half-up */
}

Test(money, exactly_half)
{
	/* 30 VND/min for 1 s = 0.5 VND */
	money_x60 x = (money_x60)30000000 * 1;

	cr_expect_eq(money_round(x, ROUND_HALF_UP, 0), 1000000);
	cr_expect_eq(money_round(x, ROUND_UP, 0), 1000000);
	cr_expect_eq(money_round(x, ROUND_DOWN, 0), 0);
	/* 0.10 CNY/min for 3 s = 0.005 CNY: half a fen */
	x = (money_x60)100000 * 3;
	cr_expect_eq(money_round(x, ROUND_HALF_UP, 2), 10000);
	cr_expect_eq(money_round(x, ROUND_DOWN, 2), 0);
	/* half a micro-unit under "full": 1 s at 0.00003 per minute */
	x = (money_x60)30 * 1;
	cr_expect_eq(money_round(x, ROUND_FULL, 0), 1);
}

Test(money, currencies)
{
	cr_expect_eq(money_currency_decimals("VND"), 0);
	cr_expect_eq(money_currency_decimals("CNY"), 2);
	cr_expect_eq(money_currency_decimals("XXX"), -1);
}

/* As the currency's readers write amounts (tally-export(1)). */
Test(money, display_per_currency)
{
	char b[64];

	money_display(1234567 * (money)MONEY_SCALE, "VND", 0, b);
	cr_expect_str_eq(b, "1.234.567 \xe2\x82\xab");
	money_display(123456 * (money)10000, "CNY", 2, b);	/* 1234.56 */
	cr_expect_str_eq(b, "\xc2\xa5" "1,234.56");
	money_display(-3100000, "USD", 2, b);
	cr_expect_str_eq(b, "-$3.10");
	money_display(0, "VND", 0, b);
	cr_expect_str_eq(b, "0 \xe2\x82\xab");
	money_display(999 * (money)MONEY_SCALE, "VND", 0, b);	/* no group below 1000 */
	cr_expect_str_eq(b, "999 \xe2\x82\xab");
	money_display(1666, "CNY", 2, b);	/* a per-second price keeps its digits */
	cr_expect_str_eq(b, "\xc2\xa5" "0.001666");
	money_display(12500000, "XYZ", 2, b);
	cr_expect_str_eq(b, "12.50 XYZ");
}

/* Every sum of money is checked: 2^63 - 1 = 9,223,372,036,854,775,807 is the
 * largest amount, -2^63 the smallest. */
Test(money, checked_arithmetic_refuses_what_does_not_fit)
{
	money m = 7;

	cr_expect_eq(money_add_checked(INT64_MAX - 1, 1, &m), 0);
	cr_expect_eq(m, INT64_MAX);
	m = 7;
	cr_expect_eq(money_add_checked(INT64_MAX, 1, &m), -1);
	cr_expect_eq(m, 7);	/* untouched */
	cr_expect_eq(money_add_checked(INT64_MIN, -1, &m), -1);
	cr_expect_eq(money_sub_checked(INT64_MIN + 1, 1, &m), 0);
	cr_expect_eq(m, INT64_MIN);
	cr_expect_eq(money_sub_checked(0, INT64_MIN, &m), -1);
	/* 92,233 x 10^14 fits, 92,234 x 10^14 does not */
	cr_expect_eq(money_mul_checked(100000000000000LL, 92233, &m), 0);
	cr_expect_eq(m, 9223300000000000000LL);
	cr_expect_eq(money_mul_checked(100000000000000LL, 92234, &m), -1);
	cr_expect_eq(money_narrow((__int128)INT64_MAX + 1, &m), -1);
	cr_expect_eq(money_narrow((__int128)INT64_MIN, &m), 0);
	cr_expect_eq(m, INT64_MIN);
}

Test(money, a_128_bit_exact_amount_is_not_narrowed_unchecked)
{
	money m = 7;
	/* 2^63 micro-units in sixtieths: one past the largest amount */
	money_x60 x = ((money_x60)INT64_MAX + 1) * 60;

	cr_expect_eq(money_round_checked(x, ROUND_FULL, 6, &m), -1);
	cr_expect_eq(m, 7);
	cr_expect_eq(money_round_checked(-x, ROUND_FULL, 6, &m), 0);	/* -2^63 fits */
	cr_expect_eq(m, INT64_MIN);
	cr_expect_eq(money_round_checked(x - 60, ROUND_DOWN, 6, &m), 0);
	cr_expect_eq(m, INT64_MAX);
	/* 9,223,372,036,854.775807 VND rounds up to whole dong:
	 * 9,223,372,036,855 x 10^6 is beyond 2^63 - 1 */
	cr_expect_eq(money_round_checked(x - 60, ROUND_UP, 0, &m), -1);
	/* the same with the unchecked call where it fits: 58.333... -> 58 */
	cr_expect_eq(money_round_checked((money_x60)500 * 1000000 * 7, ROUND_HALF_UP, 0, &m), 0);
	cr_expect_eq(m, 58000000);
}
