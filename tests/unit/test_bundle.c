/*
 * bundle: the window timeline of tally-tariff(5) BUNDLES, one rule each,
 * with expected values worked by hand.  Instants come from GNU date, e.g.
 * TZ=Europe/Berlin date -d '2026-03-20 09:00' +%s = 1773993600.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "tally/bundle.h"

#define H 3600LL
#define DAY 86400LL

static struct tariff_pkg pkg;
static struct tariff *t;
static struct bundle_log lg;

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
	struct tariff_errors e;

	memset(&pkg, 0, sizeof pkg);
	memset(&lg, 0, sizeof lg);
	set(TF_PACKAGE, "key,value\nreseller,r\ncurrency,EUR\n");
	set(TF_CLASSES, "class,priority,type,caller,callee,payer\nv,1,voice,,,caller\n");
	set(TF_TIERS, "tiers,mode,count,initial,increment,above,upto,price\n"
	    "t,graduated,account,1,1,0,,1\n");
	set(TF_PLANS, "plan,rounding,decimals\np,half-up,2\n");
	set(TF_PLAN_CLASSES, "plan,class,pricing\np,v,tiers:t\n");
	set(TF_ACCOUNTS, "account,plan,timezone,created\nber,p,Europe/Berlin,2025-01-01\n"
	    "cut,p,Europe/Berlin,2025-01-01\nmin,p,Europe/Berlin,2025-01-01\n"
	    "ren,p,Europe/Berlin,2025-01-01\n");
	set(TF_BUNDLES, "bundle,class,minutes,price,tax,validity_days,renewal,on_exhaustion,"
	    "counts_toward_tiers,rollover_percent,rollover_max_minutes,granularity\n"
	    "half,v,10,5,excluded,31,auto,overage,,50,,second\n"
	    "one,v,1,1,excluded,31,auto,overage,,,,minute\n"
	    "again,v,1,1,excluded,31,auto,renew,,,,second\n");
	/* ber: from 20 March 09:00 CET; cut: cancelled exactly at its first
	 * window's end (20 April 09:00 CEST) */
	set(TF_SUBSCRIPTIONS, "account,bundle,activated,cancelled\n"
	    "ber,half,2026-03-20 09:00,\n"
	    "cut,half,2026-03-20 09:00,2026-04-20 09:00\n"
	    "min,one,2026-03-20 09:00,\n"
	    "ren,again,2026-03-20 09:00,\n");
	t = tariff_parse(&pkg, &e);
	cr_assert_not_null(t, "%s", e.n ? e.msg[0] : "?");
}

static void
teardown(void)
{
	tariff_free(t);
	tariff_pkg_release(&pkg);
	bundle_log_release(&lg);
}

TestSuite(bundle, .init = setup, .fini = teardown);

#define START 1773993600LL	/* 2026-03-20 09:00 CET */
#define NEXT 1776668400LL	/* 2026-04-20 09:00 CEST: 31 days less the lost hour */

Test(bundle, window_keeps_the_wall_clock_across_a_clock_change)
{
	struct bundle_state bs;
	int sub, seq;
	int64_t left;

	bundle_begin(&bs, t, tariff_account(t, "ber"), &lg);
	cr_assert_eq(bundle_in_force(&bs, 0, START + H, &sub, &seq, &left), 1);
	cr_expect_eq(bs.w.start, START);
	cr_expect_eq(bs.w.end, NEXT);
	cr_expect_eq(NEXT - START, 31 * DAY - H);
	cr_expect_eq(left, 600);
}

Test(bundle, rollover_percent_rounds_down_to_the_second)
{
	struct bundle_state bs;
	struct bundle_take tk[BUNDLE_MAX_TAKES];
	int sub, seq, n;
	int64_t left;

	bundle_begin(&bs, t, tariff_account(t, "ber"), &lg);
	cr_assert_eq(bundle_in_force(&bs, 0, START + H, &sub, &seq, &left), 1);
	cr_expect_eq(bundle_cover(&bs, 61, START + H, START + H + 61, tk, &n), 61);
	/* the next window: 600 - 61 = 539 unused, 50% = 269.5 -> 269 carried */
	cr_assert_eq(bundle_in_force(&bs, 0, NEXT, &sub, &seq, &left), 1);
	cr_expect_eq(seq, 2);
	cr_expect_eq(left, 600 + 269);
	cr_assert_eq(bs.nlog, 1);
	cr_expect_eq(lg.w[0].ended, WE_EXPIRED);
	cr_expect_eq(lg.w[0].rolled_out, 269);
	cr_expect_eq(lg.w[0].forfeited, 270);
}

Test(bundle, cancelled_at_the_end_renews_nothing_and_carries_nothing)
{
	struct bundle_state bs;
	int sub, seq;
	int64_t left;

	bundle_begin(&bs, t, tariff_account(t, "cut"), &lg);
	cr_assert_eq(bundle_in_force(&bs, 0, START, &sub, &seq, &left), 1);
	cr_expect_eq(bundle_in_force(&bs, 0, NEXT, &sub, &seq, &left), 0);
	cr_assert_eq(bs.nlog, 1);
	/* it reached its end (expired), no next window: all 600 s forfeited */
	cr_expect_eq(lg.w[0].ended, WE_EXPIRED);
	cr_expect_eq(lg.w[0].end, NEXT);
	cr_expect_eq(lg.w[0].rolled_out, 0);
	cr_expect_eq(lg.w[0].forfeited, 600);
}

Test(bundle, minute_granularity_takes_whole_minutes)
{
	struct bundle_state bs;
	struct bundle_take tk[BUNDLE_MAX_TAKES];
	int sub, seq, n;
	int64_t left;

	bundle_begin(&bs, t, tariff_account(t, "min"), &lg);
	cr_assert_eq(bundle_in_force(&bs, 0, START + H, &sub, &seq, &left), 1);
	/* 61 s need 2 minutes; the window has 1: it covers 60 s, 1 s is overage */
	cr_expect_eq(bundle_cover(&bs, 61, START + H, START + H + 61, tk, &n), 60);
	cr_expect_eq(n, 1);
	/* empty, priced as overage until its end */
	cr_assert_eq(bundle_in_force(&bs, 0, START + 2 * H, &sub, &seq, &left), 1);
	cr_expect_eq(left, 0);
	cr_expect_eq(bundle_cover(&bs, 10, START + 2 * H, START + 2 * H + 10, tk, &n), 0);
}

Test(bundle, running_out_at_a_calls_end_renews_at_that_instant)
{
	struct bundle_state bs;
	struct bundle_take tk[BUNDLE_MAX_TAKES];
	int sub, seq, n;
	int64_t left, call = START + H;

	bundle_begin(&bs, t, tariff_account(t, "ren"), &lg);
	cr_assert_eq(bundle_in_force(&bs, 0, call, &sub, &seq, &left), 1);
	/* exactly the 60 s it has: exhausted at the call's end, #2 starts then */
	cr_expect_eq(bundle_cover(&bs, 60, call, call + 60, tk, &n), 60);
	cr_assert_eq(bs.nlog, 1);
	cr_expect_eq(lg.w[0].ended, WE_EXHAUSTED);
	cr_expect_eq(lg.w[0].end, call + 60);
	cr_expect_eq(bs.w.seq, 2);
	cr_expect_eq(bs.w.start, call + 60);
	/* a 150 s call drains #2 and #3, 60 s each, and #4 covers the last 30 */
	cr_expect_eq(bundle_cover(&bs, 150, call + H, call + H + 150, tk, &n), 150);
	cr_expect_eq(n, 3);
	cr_expect_eq(tk[0].seq, 2);
	cr_expect_eq(tk[1].seq, 3);
	cr_expect_eq(tk[2].seq, 4);
	cr_expect_eq(tk[2].seconds, 30);
	cr_expect_eq(lg.w[2].end, call + H + 120);
}
