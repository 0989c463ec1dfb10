/* timefmt: calendar arithmetic and strict time parsing. */
#include <criterion/criterion.h>

#include "tally/timefmt.h"

Test(timefmt, days_from_epoch_known_dates)
{
	cr_expect_eq(civil_days(1970, 1, 1), 0);
	cr_expect_eq(civil_days(1969, 12, 31), -1);
	/* 2000-03-01: 30 years of 365 days + 7 leap days (72..96) = 10957,
	 * plus January 31 and a leap February 29 = 11017. */
	cr_expect_eq(civil_days(2000, 3, 1), 11017);
	/* 2026-01-01T00:00Z is 1767225600 s = 20454 days. */
	cr_expect_eq(civil_days(2026, 1, 1), 20454);
}

Test(timefmt, utc_round_trip)
{
	struct civil c = { 2026, 11, 21, 23, 59, 30 }, back;
	int64_t t = civil_as_utc(&c);

	/* 20454 + 324 days (Jan..Oct = 304, + 20) = 20778 days; + 86370 s */
	cr_expect_eq(t, 20778LL * 86400 + 86370);
	civil_from_utc(t, &back);
	cr_expect(back.year == 2026 && back.mon == 11 && back.day == 21 &&
	    back.hour == 23 && back.min == 59 && back.sec == 30);
	civil_from_utc(-1, &back);
	cr_expect(back.year == 1969 && back.mon == 12 && back.day == 31 &&
	    back.hour == 23 && back.min == 59 && back.sec == 59);
}

Test(timefmt, parse_asterisk_style)
{
	struct civil c;

	cr_assert_eq(timefmt_parse("%Y-%m-%d %H:%M:%S", "2026-02-28 07:05:09", &c), 0);
	cr_expect(c.year == 2026 && c.mon == 2 && c.day == 28 && c.hour == 7 &&
	    c.min == 5 && c.sec == 9);
	cr_assert_eq(timefmt_parse("%d/%m/%Y %H:%M:%S", "1/3/2026 7:05:09", &c), 0);
	cr_expect(c.day == 1 && c.mon == 3 && c.hour == 7);
}

Test(timefmt, parse_rejects_impossible_and_trailing)
{
	struct civil c;
	const char *f = "%Y-%m-%d %H:%M:%S";

	cr_expect_eq(timefmt_parse(f, "2026-02-29 00:00:00", &c), -1); /* not leap */
	cr_expect_eq(timefmt_parse(f, "2024-02-29 00:00:00", &c), 0);
	cr_expect_eq(timefmt_parse(f, "2026-13-01 00:00:00", &c), -1);
	cr_expect_eq(timefmt_parse(f, "2026-04-31 00:00:00", &c), -1);
	cr_expect_eq(timefmt_parse(f, "2026-01-01 24:00:00", &c), -1);
	cr_expect_eq(timefmt_parse(f, "2026-01-01 00:00:00Z", &c), -1);
	cr_expect_eq(timefmt_parse(f, "2026-01-01", &c), -1);
	cr_expect_eq(timefmt_parse(f, "", &c), -1);
	cr_expect_eq(timefmt_valid("%Y-%m-%dT%H:%M:%S"), 0);
	cr_expect_eq(timefmt_valid("%Y %b"), -1);
}

Test(timefmt, epoch_with_fraction_is_exact)
{
	int64_t s;
	int32_t us;

	cr_assert_eq(timefmt_parse_epoch("1763719205.123", &s, &us), 0);
	cr_expect_eq(s, 1763719205);
	cr_expect_eq(us, 123000);
	cr_assert_eq(timefmt_parse_epoch("5.000001", &s, &us), 0);
	cr_expect_eq(us, 1);
	cr_assert_eq(timefmt_parse_epoch("42", &s, &us), 0);
	cr_expect(s == 42 && us == 0);
	cr_expect_eq(timefmt_parse_epoch("1.1234567", &s, &us), -1);
	cr_expect_eq(timefmt_parse_epoch("1.", &s, &us), -1);
	cr_expect_eq(timefmt_parse_epoch("-1", &s, &us), -1);
	cr_expect_eq(timefmt_parse_epoch("12a", &s, &us), -1);
}
