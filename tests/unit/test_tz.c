/* tz: local readings to instants, including DST gaps and folds. */
#include <criterion/criterion.h>

#include "tally/tz.h"

/* 2026-01-01T00:00:00Z */
#define Y2026 1767225600LL
#define DAY 86400LL

static int64_t
to_utc(const char *zone, int y, int mo, int d, int h, int mi, int s, int *rc)
{
	struct terr e;
	struct tz *z = tz_open(zone, &e);
	struct civil c = { y, mo, d, h, mi, s };
	int64_t t = 0;

	cr_assert_not_null(z, "%s", e.msg);
	*rc = tz_to_utc(z, &c, &t);
	tz_free(z);
	return t;
}

Test(tz, vietnam_is_utc_plus_7)
{
	int rc;
	/* 2026-11-21 = day 324 of 2026 (0-based); 10:00 +07 = 03:00Z */
	int64_t t = to_utc("Asia/Ho_Chi_Minh", 2026, 11, 21, 10, 0, 0, &rc);

	cr_expect_eq(rc, 0);
	cr_expect_eq(t, Y2026 + 324 * DAY + 3 * 3600);
}

Test(tz, shanghai_just_after_local_midnight_is_previous_utc_day)
{
	int rc;
	/* 2026-11-22 00:10 +08 = 2026-11-21 16:10Z */
	int64_t t = to_utc("Asia/Shanghai", 2026, 11, 22, 0, 10, 0, &rc);

	cr_expect_eq(rc, 0);
	cr_expect_eq(t, Y2026 + 324 * DAY + 16 * 3600 + 600);
}

Test(tz, london_spring_gap_does_not_exist)
{
	int rc;

	/* 2026-03-29 (Sunday): clocks go 01:00 GMT -> 02:00 BST */
	to_utc("Europe/London", 2026, 3, 29, 1, 30, 0, &rc);
	cr_expect_eq(rc, -1);
}

Test(tz, london_autumn_fold_takes_the_earlier_instant)
{
	int rc;
	/* 2026-10-25 (Sunday, day 297): 01:30 happens at 00:30Z (BST) and
	 * 01:30Z (GMT); the earlier is chosen. */
	int64_t t = to_utc("Europe/London", 2026, 10, 25, 1, 30, 0, &rc);

	cr_expect_eq(rc, 0);
	cr_expect_eq(t, Y2026 + 297 * DAY + 1800);
	/* 02:30 that day is GMT only */
	t = to_utc("Europe/London", 2026, 10, 25, 2, 30, 0, &rc);
	cr_expect_eq(t, Y2026 + 297 * DAY + 2 * 3600 + 1800);
	/* summer: BST, UTC+1 */
	t = to_utc("Europe/London", 2026, 7, 1, 12, 0, 0, &rc);
	cr_expect_eq(t, Y2026 + 181 * DAY + 11 * 3600);
}

Test(tz, cached_slots_do_not_leak_between_zones)
{
	struct terr e;
	struct tz *vn = tz_open("Asia/Ho_Chi_Minh", &e), *cn = tz_open("Asia/Shanghai", &e);
	struct civil c = { 2026, 11, 21, 10, 0, 0 };
	int64_t a, b, a2;

	cr_assert(vn && cn);
	cr_assert_eq(tz_to_utc(vn, &c, &a), 0);
	cr_assert_eq(tz_to_utc(cn, &c, &b), 0);
	cr_assert_eq(tz_to_utc(vn, &c, &a2), 0);
	cr_expect_eq(a - b, 3600);	/* +07 vs +08 */
	cr_expect_eq(a, a2);
	tz_free(vn);
	tz_free(cn);
}

Test(tz, unknown_zone_is_refused)
{
	struct terr e;

	cr_expect_null(tz_open("Asia/Nowhere", &e));
	cr_expect(strstr(e.msg, "Asia/Nowhere") != NULL);
	cr_expect_null(tz_open("../etc/passwd", &e));
	struct tz *utc = tz_open("UTC", &e);
	cr_expect_not_null(utc);
	tz_free(utc);
}

Test(tz, change_at_an_odd_minute_is_exact)
{
	int rc;
	/* Antarctica/Casey moved from +08 to +11 at 2020-10-04 00:01 local
	 * (tzdata): 03:01 local that day is 16:01Z on 3 October = 1601740860
	 * (worked from 2020-10-03T00:00Z = 1601683200 + 16 h + 60 s). */
	int64_t t = to_utc("Antarctica/Casey", 2020, 10, 4, 3, 1, 0, &rc);

	cr_expect_eq(rc, 0);
	cr_expect_eq(t, 1601683200LL + 16 * 3600 + 60);
}
