/*
 * rate: the rating rules of tally-tariff(5), one case each, with expected
 * amounts worked by hand.  Times: 2026-01-01T00:00Z = 1767225600; the
 * account's zone is Asia/Ho_Chi_Minh (UTC+7, no DST).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tally/rate.h"

#define Y2026 1767225600LL
#define DAY 86400LL
/* local (UTC+7) day d of 2026 (0-based) at h:m:s, as UTC epoch */
#define LOCAL(d, h, m, s) (Y2026 + (d) * DAY + (h) * 3600 + (m) * 60 + (s) - 7 * 3600)
#define VND(x) ((money)(x) * 1000000)

static struct tariff_pkg pkg;
static struct tariff *t;

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
	set(TF_PACKAGE, "key,value\nreseller,r1\ncurrency,VND\n");
	set(TF_CLASSES, "class,priority,type,caller,callee,payer\n"
	    "internal,10,voice,\"^\\d{3,4}$\",\"^\\d{3,4}$\",none\n"
	    "sms,20,sms,,,caller\n"
	    "onnet,30,voice,,^\\+849,caller\n"
	    "landline,40,voice,,^\\+8428,caller\n"
	    "tollfree,45,voice,,^\\+841800,owner\n"
	    "peakonly,46,voice,,^\\+8426,caller\n"
	    "offnet,50,voice,,^\\+84,caller\n");
	set(TF_BANDS, "band,days,from,to\npeak,Mon-Fri,08:00,18:00\n"
	    "offpeak,Mon-Fri,00:00,08:00\noffpeak,Mon-Fri,18:00,24:00\n"
	    "offpeak,Sat-Sun,00:00,24:00\noffpeak,holiday,00:00,24:00\n");
	set(TF_RATES, "deck,prefix,destination,price,connection_fee,initial,increment,"
	    "min_duration,band,effective_from,effective_to\n"
	    /* effective-date switch on 1 December, local midnight */
	    "d,+84,Vietnam,100,,1,1,,,2026-01-01,2026-12-01\n"
	    "d,+84,Vietnam,200,,1,1,,,2026-12-01,\n"
	    /* longer and dearer beats shorter and cheaper */
	    "d,+8470,Mobile 70,900,,1,1,,,2026-01-01,\n"
	    "d,+8471,Mobile 71,600,100,60,60,,,2026-01-01,\n"
	    "d,+8429,Half,150,,1,1,,,2026-01-01,\n"
	    /* time-of-week bands */
	    "land,+8428,HCM,600,,1,1,,peak,2026-01-01,\n"
	    "land,+8428,HCM,300,,1,1,,offpeak,2026-01-01,\n"
	    "free,+841800,Toll-free,150,,30,6,,,2026-01-01,\n"
	    "peak,+8426,Peak only,600,,1,1,,peak,2026-01-01,\n"
	    "msg,,Any,290,,1,1,,,2026-01-01,\n");
	set(TF_TIERS, "tiers,mode,count,initial,increment,above,upto,price\n"
	    "hot,graduated,line,1,1,0,1000,500\nhot,graduated,line,1,1,1000,5000,480\n"
	    "hot,graduated,line,1,1,5000,10000,460\nhot,graduated,line,1,1,10000,,440\n"
	    "vol,volume,account,1,1,0,1000,500\nvol,volume,account,1,1,1000,5000,480\n"
	    "vol,volume,account,1,1,5000,10000,460\nvol,volume,account,1,1,10000,,440\n");
	set(TF_PLANS, "plan,rounding,decimals,test_minutes,test_days\n"
	    "grad,half-up,0,1,30\nvolp,half-up,0,,\nup,up,0,,\ndown,down,0,,\n");
	set(TF_PLAN_CLASSES, "plan,class,pricing\n"
	    "grad,onnet,tiers:hot\ngrad,offnet,deck:d\ngrad,landline,deck:land\n"
	    "grad,sms,deck:msg\ngrad,tollfree,deck:free\ngrad,peakonly,deck:peak\n"
	    "volp,onnet,tiers:vol\nup,offnet,deck:d\ndown,offnet,deck:d\n");
	set(TF_ACCOUNTS, "account,plan,timezone,created\n"
	    "g,grad,Asia/Ho_Chi_Minh,2026-11-01\nv,volp,Asia/Ho_Chi_Minh,2026-01-01\n"
	    "u,up,Asia/Ho_Chi_Minh,2026-01-01\nw,down,Asia/Ho_Chi_Minh,2026-01-01\n"
	    "owner1,grad,Asia/Ho_Chi_Minh,2026-01-01\n");
	set(TF_NUMBERS, "number,account\n+8418001234,owner1\n");
	t = tariff_parse(&pkg, &e);
	cr_assert_not_null(t, "%s", e.n ? e.msg[0] : "");
}

static void
teardown(void)
{
	tariff_free(t);
	tariff_pkg_release(&pkg);
}

static struct cdr
call(const char *account, const char *callee, int64_t answer, int64_t secs)
{
	struct cdr c = {
		.record_key = "k", .account = account, .caller_raw = "0901000001",
		.caller = "+84901000001", .callee_raw = callee, .callee = callee,
		.start = answer - 5, .answer = answer, .end = answer + secs,
		.has_answer = 1, .duration = secs + 5, .billsec = secs,
		.disposition = CDR_ANSWERED, .type = CDR_VOICE,
	};
	return c;
}

/* 2026-11-20 is a Friday: day 323 of 2026 */
#define NOV20 323
#define NOV30 333

Test(rate, increments_at_their_edges)
{
	/* 60/60 */
	cr_expect_eq(rate_billed(0, 60, 60, 0), 0);
	cr_expect_eq(rate_billed(1, 60, 60, 0), 60);
	cr_expect_eq(rate_billed(60, 60, 60, 0), 60);
	cr_expect_eq(rate_billed(61, 60, 60, 0), 120);
	/* 30/6 */
	cr_expect_eq(rate_billed(1, 30, 6, 0), 30);
	cr_expect_eq(rate_billed(30, 30, 6, 0), 30);
	cr_expect_eq(rate_billed(31, 30, 6, 0), 36);
	cr_expect_eq(rate_billed(36, 30, 6, 0), 36);
	cr_expect_eq(rate_billed(37, 30, 6, 0), 42);
	/* 1/1 */
	cr_expect_eq(rate_billed(1, 1, 1, 0), 1);
	cr_expect_eq(rate_billed(61, 1, 1, 0), 61);
	/* minimum charged duration */
	cr_expect_eq(rate_billed(5, 1, 1, 10), 10);
	cr_expect_eq(rate_billed(0, 1, 1, 10), 0);
}

Test(rate, longer_prefix_beats_cheaper_shorter, .init = setup, .fini = teardown)
{
	struct rate_state st = { 0 };
	struct rate_result r;
	struct cdr c = call("g", "+84701234567", LOCAL(NOV20, 10, 0, 0), 60);

	st.test_used = 60;	/* test minute already used */
	rate_cdr(t, &c, &st, NULL, &r);
	cr_assert_eq(r.status, RS_RATED, "%s", r.reason);
	cr_expect_str_eq(r.prefix, "8470");
	cr_expect_eq(r.amount, VND(900));	/* 60 s at 900/min, not 100/min */
	rate_state_release(&st);
}

Test(rate, connection_fee_and_60_60, .init = setup, .fini = teardown)
{
	struct rate_state st = { .test_used = 60 };
	struct rate_result r;
	struct cdr c = call("g", "+84711234567", LOCAL(NOV20, 10, 0, 0), 61);

	rate_cdr(t, &c, &st, NULL, &r);
	/* 61 s at 60/60 -> 120 s at 600/min = 1200, + 100 connection */
	cr_expect_eq(r.billed_seconds, 120);
	cr_expect_eq(r.amount, VND(1300));
	rate_state_release(&st);
}

Test(rate, effective_date_switch_at_local_midnight, .init = setup, .fini = teardown)
{
	struct rate_state st = { .test_used = 60 };
	struct rate_result r;
	/* 23:59:59 local on 30 Nov = 16:59:59Z: the November price */
	struct cdr c = call("g", "+842438123456", LOCAL(NOV30, 23, 59, 59), 60);

	c.start = c.answer;
	rate_cdr(t, &c, &st, NULL, &r);
	cr_expect_eq(c.start, 1796057999);
	cr_expect_eq(r.amount, VND(100));
	/* 00:00:00 local on 1 December = 17:00:00Z on 30 Nov: the new price */
	c = call("g", "+842438123456", LOCAL(NOV30 + 1, 0, 0, 0), 60);
	c.start = c.answer;
	rate_cdr(t, &c, &st, NULL, &r);
	cr_expect_eq(c.start, 1796058000);
	cr_expect_eq(r.amount, VND(200));
	rate_state_release(&st);
}

Test(rate, rows_of_the_start_date_for_the_whole_call, .init = setup, .fini = teardown)
{
	struct rate_state st = { .test_used = 60 };
	struct rate_result r;
	/* rings from 23:59:50 on 30 Nov, answered 00:00:10 on 1 Dec, 60 s: the
	 * November row (100/min) prices all of it, not December's 200 */
	struct cdr c = call("g", "+842438123456", LOCAL(NOV30 + 1, 0, 0, 10), 60);

	c.start = LOCAL(NOV30, 23, 59, 50);
	rate_cdr(t, &c, &st, NULL, &r);
	cr_assert_eq(r.status, RS_RATED, "%s", r.reason);
	cr_expect_eq(r.amount, VND(100));
	rate_state_release(&st);
}

Test(rate, time_of_week_split, .init = setup, .fini = teardown)
{
	struct rate_state st = { .test_used = 60 };
	struct rate_result r;
	/* Friday 17:58:30 local, 180 s: 90 s peak (600/min) + 90 s offpeak (300/min)
	 * = 900 + 450 = 1350 */
	struct cdr c = call("g", "+842838123456", LOCAL(NOV20, 17, 58, 30), 180);

	rate_cdr(t, &c, &st, NULL, &r);
	cr_assert_eq(r.status, RS_RATED, "%s", r.reason);
	cr_assert_eq(r.npieces, 2);
	cr_expect_str_eq(r.pieces[0].label, "peak");
	cr_expect_eq(r.pieces[0].seconds, 90);
	cr_expect_str_eq(r.pieces[1].label, "offpeak");
	cr_expect_eq(r.pieces[1].seconds, 90);
	cr_expect_eq(r.amount, VND(1350));
	rate_state_release(&st);
}

Test(rate, tier_boundary_graduated, .init = setup, .fini = teardown)
{
	struct rate_state st = { .test_used = 60 };
	struct rate_result r;
	/* 999 minutes on the line already, then a 120 s call: 60 s at 500 and
	 * 60 s at 480 = 980 */
	struct cdr a = call("g", "+84901112222", LOCAL(NOV20, 1, 0, 0), 999 * 60);
	struct cdr b = call("g", "+84903334444", LOCAL(NOV20, 20, 0, 0), 120);

	rate_cdr(t, &a, &st, NULL, &r);
	cr_expect_eq(r.amount, VND(999 * 500));
	rate_cdr(t, &b, &st, NULL, &r);
	cr_assert_eq(r.npieces, 2);
	cr_expect_str_eq(r.pieces[0].label, "0-1000");
	cr_expect_eq(r.pieces[0].seconds, 60);
	cr_expect_str_eq(r.pieces[1].label, "1000-5000");
	cr_expect_eq(r.pieces[1].seconds, 60);
	cr_expect_eq(r.amount, VND(980));
	cr_expect_eq(r.before.tier_pos, 999 * 60);
	rate_state_release(&st);
}

Test(rate, tier_boundary_volume, .init = setup, .fini = teardown)
{
	struct rate_state st = { 0 };
	struct rate_result r;
	/* the same two calls, volume: the period reaches ceil(60060 / 60) = 1001
	 * minutes, so every second is priced at 480: 999 * 480 = 479520 and
	 * 2 * 480 = 960 */
	struct cdr a = call("v", "+84901112222", LOCAL(NOV20, 1, 0, 0), 999 * 60);
	struct cdr b = call("v", "+84903334444", LOCAL(NOV20, 20, 0, 0), 120);

	st.counting_only = 1;
	rate_cdr(t, &a, &st, NULL, &r);
	rate_cdr(t, &b, &st, NULL, &r);
	for (int i = 0; i < st.ncounters; i++)
		st.counters[i].seconds = 0;
	st.counting_only = 0;
	rate_cdr(t, &a, &st, NULL, &r);
	cr_expect_eq(r.amount, VND(479520));
	rate_cdr(t, &b, &st, NULL, &r);
	cr_expect_eq(r.amount, VND(960));
	cr_expect_eq(r.before.volume_total, 60060);
	rate_state_release(&st);
}

Test(rate, test_minutes_partly_cover_a_call, .init = setup, .fini = teardown)
{
	struct rate_state st = { .test_used = 50 };	/* 10 s of the minute left */
	struct rate_result r;
	/* 70 s to +8490 (onnet, tiers 1/1): 10 s test, 60 s at 500 = 500 */
	struct cdr c = call("g", "+84901112222", LOCAL(NOV20, 10, 0, 0), 70);

	rate_cdr(t, &c, &st, NULL, &r);
	cr_assert_eq(r.npieces, 2);
	cr_expect_eq(r.pieces[0].kind, PK_TEST);
	cr_expect_eq(r.pieces[0].seconds, 10);
	cr_expect_eq(r.pieces[1].seconds, 60);
	cr_expect_eq(r.amount, VND(500));
	cr_expect_eq(st.test_used, 60);
	cr_expect_eq(r.before.tier_pos, 0);
	/* test seconds do not move the tier position */
	cr_expect_eq(st.counters[0].seconds, 60);
	rate_state_release(&st);
}

Test(rate, test_minutes_end_after_test_days, .init = setup, .fini = teardown)
{
	struct rate_state st = { 0 };
	struct rate_result r;
	/* created 2026-11-01, 30 days: test minutes until 1 Dec local */
	struct cdr c = call("g", "+84901112222", LOCAL(NOV30 + 1, 0, 0, 10), 60);

	rate_cdr(t, &c, &st, NULL, &r);
	cr_expect_eq(r.amount, VND(500));
	cr_expect_eq(st.test_used, 0);
	rate_state_release(&st);
}

Test(rate, rounding_at_exactly_half, .init = setup, .fini = teardown)
{
	struct rate_state st = { .test_used = 60 };
	struct rate_result r;
	/* 1 s at 150/min = 2.5 VND exactly, rounded once per CDR to 0 decimals */
	struct cdr c = call("g", "+842912345678", LOCAL(NOV20, 10, 0, 0), 1);

	rate_cdr(t, &c, &st, NULL, &r);
	cr_expect_eq(r.amount, VND(3));	/* half-up: 2.5 -> 3 */
	c.account = "u";
	rate_cdr(t, &c, &st, NULL, &r);
	cr_expect_eq(r.amount, VND(3));	/* up: 2.5 -> 3 */
	c.account = "w";
	rate_cdr(t, &c, &st, NULL, &r);
	cr_expect_eq(r.amount, VND(2));	/* down: 2.5 -> 2 */
	/* and off the half: 1 s at 100/min = 1.666... */
	c = call("u", "+842438123456", LOCAL(NOV20, 10, 0, 0), 1);
	rate_cdr(t, &c, &st, NULL, &r);
	cr_expect_eq(r.amount, VND(2));	/* up */
	c.account = "w";
	rate_cdr(t, &c, &st, NULL, &r);
	cr_expect_eq(r.amount, VND(1));	/* down */
	c.account = "g";
	rate_cdr(t, &c, &st, NULL, &r);
	cr_expect_eq(r.amount, VND(2));	/* half-up */
	rate_state_release(&st);
}

Test(rate, statuses_and_reasons, .init = setup, .fini = teardown)
{
	struct rate_state st = { .test_used = 60 };
	struct rate_result r;
	struct cdr c = call("g", "102", LOCAL(NOV20, 10, 0, 0), 60);

	c.caller = "101";
	rate_cdr(t, &c, &st, NULL, &r);
	cr_expect_eq(r.status, RS_FREE);
	cr_expect_str_eq(r.reason, "class internal is free");
	c = call("g", "+84901112222", LOCAL(NOV20, 10, 0, 0), 60);
	c.disposition = CDR_BUSY;
	rate_cdr(t, &c, &st, NULL, &r);
	cr_expect_eq(r.status, RS_FREE);
	cr_expect_str_eq(r.reason, "unanswered");
	c = call("nobody", "+84901112222", LOCAL(NOV20, 10, 0, 0), 60);
	rate_cdr(t, &c, &st, NULL, &r);
	cr_expect_eq(r.status, RS_UNRATED);
	cr_expect_str_eq(r.reason, "unknown account \"nobody\"");
	c = call("g", "+8613800138000", LOCAL(NOV20, 10, 0, 0), 60);
	rate_cdr(t, &c, &st, NULL, &r);
	cr_expect_str_eq(r.reason, "no class matches");
	c = call("v", "+842438123456", LOCAL(NOV20, 10, 0, 0), 60);
	rate_cdr(t, &c, &st, NULL, &r);
	cr_expect_eq(r.status, RS_UNRATED);
	cr_expect_str_eq(r.reason, "plan volp does not price class offnet");
	rate_state_release(&st);
}

Test(rate, sms_per_message_and_toll_free_owner, .init = setup, .fini = teardown)
{
	struct rate_state st = { .test_used = 60 };
	struct rate_result r;
	struct cdr c = call("g", "+84901112222", LOCAL(NOV20, 10, 0, 0), 0);

	c.type = CDR_SMS;
	rate_cdr(t, &c, &st, NULL, &r);
	cr_expect_eq(r.amount, VND(290));
	cr_expect_eq(r.billed_seconds, 0);
	/* a caller of account u rings owner1's toll-free number: owner1 pays,
	 * 31 s at 30/6 -> 36 s at 150/min = 90 */
	c = call("u", "+8418001234", LOCAL(NOV20, 10, 0, 0), 31);
	rate_cdr(t, &c, &st, NULL, &r);
	cr_expect_str_eq(t->accounts[r.payer].id, "owner1");
	cr_expect_eq(r.billed_seconds, 36);
	cr_expect_eq(r.amount, VND(90));
	rate_state_release(&st);
}

Test(rate, replay_from_a_snapshot_gives_the_same_charge, .init = setup, .fini = teardown)
{
	struct rate_state st = { .test_used = 60 }, fresh = { 0 };
	struct rate_result r1, r2;
	struct cdr a = call("g", "+84901112222", LOCAL(NOV20, 1, 0, 0), 999 * 60);
	struct cdr b = call("g", "+84903334444", LOCAL(NOV20, 20, 0, 0), 120);

	rate_cdr(t, &a, &st, NULL, &r1);
	rate_cdr(t, &b, &st, NULL, &r1);
	rate_cdr(t, &b, &fresh, &r1.before, &r2);	/* b alone, from its snapshot */
	cr_expect_eq(r2.amount, r1.amount);
	cr_expect_eq(r2.npieces, r1.npieces);
	rate_state_release(&st);
	rate_state_release(&fresh);
}

Test(rate, thousands_of_lines_keep_their_own_tier_position, .init = setup, .fini = teardown)
{
	struct rate_state st = { .test_used = 60 };
	struct rate_result r;
	char caller[32];

	/* 5000 lines of account g make a 60 s on-net call each; then line 7
	 * calls again: its own position is 60 s, not 5000 minutes */
	for (int i = 0; i < 5000; i++) {
		struct cdr c = call("g", "+84901112222", LOCAL(NOV20, 1, 0, 0) + i, 60);

		snprintf(caller, sizeof caller, "+8490100%04d", i);
		c.caller = caller;
		rate_cdr(t, &c, &st, NULL, &r);
	}
	cr_expect_eq(st.ncounters, 5000);
	struct cdr c = call("g", "+84901112222", LOCAL(NOV20, 9, 0, 0), 60);

	c.caller = "+84901000007";
	rate_cdr(t, &c, &st, NULL, &r);
	cr_expect_eq(r.before.tier_pos, 60);
	cr_expect_eq(r.amount, VND(500));
	rate_state_release(&st);
}

Test(rate, absurdly_long_call_is_unrated_not_overflowed, .init = setup, .fini = teardown)
{
	struct rate_state st = { .test_used = 60 };
	struct rate_result r;
	struct cdr c = call("g", "+842438123456", LOCAL(NOV20, 10, 0, 0), 1000001);

	rate_cdr(t, &c, &st, NULL, &r);
	cr_expect_eq(r.status, RS_UNRATED);
	cr_expect_str_eq(r.reason, "call longer than 1000000 seconds");
	cr_expect_eq(r.amount, 0);
	rate_state_release(&st);
}

Test(rate, a_call_unrated_after_its_test_seconds_gives_them_back, .init = setup, .fini = teardown)
{
	struct rate_state st = { .test_used = 30 };	/* 30 test seconds left */
	struct rate_result r;
	/* answered Friday 17:59:00 for 120 s to a peak-only deck: 30 s of test
	 * minutes, then 30 s of peak, then 18:00 offpeak has no rate */
	struct cdr c = call("g", "+842612345678", LOCAL(NOV20, 17, 59, 0), 120);

	rate_cdr(t, &c, &st, NULL, &r);
	cr_assert_eq(r.status, RS_UNRATED);
	cr_expect_str_eq(r.reason, "no rate for 8426 in band offpeak");
	cr_expect_eq(r.billed_seconds, 0);
	cr_expect_eq(st.test_used, 30, "the 30 test seconds are given back");
	/* so the next call still gets them: 60 s on-net, 30 s test + 30 s at 500 */
	c = call("g", "+84901112222", LOCAL(NOV20, 19, 0, 0), 60);
	rate_cdr(t, &c, &st, NULL, &r);
	cr_expect_eq(r.pieces[0].kind, PK_TEST);
	cr_expect_eq(r.pieces[0].seconds, 30);
	cr_expect_eq(r.amount, VND(250));
	rate_state_release(&st);
}

Test(rate, an_unrated_call_bills_and_uses_nothing, .init = setup, .fini = teardown)
{
	struct rate_state st = { .test_used = 0 };
	struct rate_result r;
	/* account g is new (60 test seconds left): a call it cannot be charged
	 * for takes none of them, and bills no seconds */
	struct cdr c = call("g", "+842838123456", LOCAL(NOV20, 10, 0, 0), 1000001);

	rate_cdr(t, &c, &st, NULL, &r);
	cr_expect_eq(r.status, RS_UNRATED);
	cr_expect_eq(r.billed_seconds, 0);
	cr_expect_eq(st.test_used, 0);
	rate_state_release(&st);
}
