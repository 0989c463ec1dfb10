/* format: each switch format into the canonical CDR, and its rejects.
 * Expected instants are worked by hand from 2026-01-01T00:00Z = 1767225600. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tally/format.h"

#define Y2026 1767225600LL
#define DAY 86400LL
#define NOV21 (Y2026 + 324 * DAY)	/* 2026-11-21T00:00Z */

static struct format *
open_fmt(enum format_kind k, const char *tz, const char *map)
{
	struct format_opts o = { 0 };
	struct terr e;
	struct format *f;

	o.tz = tz;
	o.map_path = map;
	f = format_open(k, &o, &e);
	cr_assert_not_null(f, "%s", e.msg);
	return f;
}

static int
parse(struct format *f, const char *line, struct cdr *c, struct cdr_reject *r)
{
	return format_parse(f, line, strlen(line), c, r);
}

/* ---- asterisk ---------------------------------------------------------- */

#define AST_HEAD "\"acc1\",\"0901234567\",\"0281234567\",\"ctx\",\"\"\"A\"\" <0901>\"," \
	"\"SIP/a-1\",\"SIP/b-2\",\"Dial\",\"SIP/b\","

Test(asterisk, answered_call_across_local_midnight)
{
	struct format *f = open_fmt(FORMAT_ASTERISK, "Asia/Ho_Chi_Minh", NULL);
	struct cdr c;
	struct cdr_reject r;
	const char *line = AST_HEAD "\"2026-11-21 23:59:30\",\"2026-11-21 23:59:40\","
	    "\"2026-11-22 00:01:10\",100,90,\"ANSWERED\",\"DOCUMENTATION\","
	    "\"1700000000.1\",\"uf\"";

	cr_assert_eq(parse(f, line, &c, &r), 0, "%s: %s", r.field, r.reason);
	/* 23:59:30 +07 = 16:59:30Z */
	cr_expect_eq(c.start, NOV21 + 16 * 3600 + 59 * 60 + 30);
	cr_expect_eq(c.answer, c.start + 10);
	cr_expect_eq(c.end, c.start + 100);
	cr_expect_eq(c.duration, 100);
	cr_expect_eq(c.billsec, 90);
	cr_expect_eq(c.disposition, CDR_ANSWERED);
	cr_expect_str_eq(c.account, "acc1");
	cr_expect_str_eq(c.caller_raw, "0901234567");
	cr_expect_str_eq(c.callee_raw, "0281234567");
	/* channel|dstchannel|src|dst|start|answer|end, the uniqueid left out */
	cr_expect_str_eq(c.record_key, "SIP/a-1|SIP/b-2|0901234567|0281234567|"
	    "2026-11-21 23:59:30|2026-11-21 23:59:40|2026-11-22 00:01:10");
	format_free(f);
}

static struct format *
open_mixed(void)
{
	struct format_opts o = { 0 };
	struct terr e;
	struct format *f;

	o.mixed_layouts = 1;
	f = format_open(FORMAT_ASTERISK, &o, &e);
	cr_assert_not_null(f, "%s", e.msg);
	return f;
}

/* Issue 15, part 5: the same leg written in each of the six layouts is one
 * record key, the one of its 16 common columns (written out by hand). */
Test(asterisk, key_is_the_same_in_every_layout)
{
	struct format *f = open_mixed();
	struct cdr c;
	struct cdr_reject r;
	const char *base = AST_HEAD "\"2026-11-21 10:00:00\",,\"2026-11-21 10:00:20\",20,0,"
	    "\"NO ANSWER\",\"DOCUMENTATION\"";
	static const char *const extra[] = {
		"",					/* 16 */
		",\"u.1\"",				/* 17 */
		",\"u.1\",\"uf\"",			/* 18 */
		",\"peer\",\"l.1\",7",			/* 19 */
		",\"u.1\",\"peer\",\"l.1\",7",		/* 20 */
		",\"u.1\",\"uf\",\"peer\",\"l.1\",7",	/* 21 */
	};
	char line[1024];

	for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++) {
		snprintf(line, sizeof line, "%s%s", base, extra[i]);
		cr_assert_eq(parse(f, line, &c, &r), 0, "%zu: %s", 16 + i, r.reason);
		cr_expect_str_eq(c.record_key, "SIP/a-1|SIP/b-2|0901234567|0281234567|"
		    "2026-11-21 10:00:00||2026-11-21 10:00:20", "%zu columns", 16 + i);
		cr_expect_eq(c.disposition, CDR_NO_ANSWER);
		cr_expect_eq(c.has_answer, 0);
		cr_expect_eq(c.billsec, 0);
	}
	/* 15 columns */
	cr_expect_eq(parse(f, AST_HEAD "\"a\",\"b\",\"c\",1,2,\"X\"", &c, &r), -1);
	cr_expect_str_eq(r.field, "line");
	cr_expect_str_eq(r.reason, "15 columns, expected 16 to 21");
	format_free(f);
}

/* Issue 15, part 5: one layout per file.  Without a scan the first line
 * decides; after a scan, the count most lines have (on a tie the first). */
Test(asterisk, a_line_of_another_layout_is_rejected)
{
	struct format *f = open_fmt(FORMAT_ASTERISK, NULL, NULL);
	struct cdr c;
	struct cdr_reject r;
	const char *l16 = AST_HEAD "\"2026-11-21 10:00:00\",,\"2026-11-21 10:00:20\",20,0,"
	    "\"NO ANSWER\",\"DOCUMENTATION\"";
	char l18[1024];

	snprintf(l18, sizeof l18, "%s,\"u.1\",\"uf\"", l16);
	cr_assert(format_wants_scan(f));
	format_begin_file(f);
	cr_assert_eq(parse(f, l18, &c, &r), 0, "%s", r.reason);
	cr_expect_eq(parse(f, l16, &c, &r), -1);
	cr_expect_str_eq(r.field, "line");
	cr_expect_str_eq(r.reason, "16 columns, but the file's lines have 18 "
	    "(a source that mixes layouts: --mixed-layouts)");

	/* a scan of 16, 18, 18: the first line is the odd one out */
	format_begin_file(f);
	format_scan(f, l16, strlen(l16));
	format_scan(f, l18, strlen(l18));
	format_scan(f, l18, strlen(l18));
	cr_expect_eq(parse(f, l16, &c, &r), -1);
	cr_expect_str_eq(r.reason, "16 columns, but the file's lines have 18 "
	    "(a source that mixes layouts: --mixed-layouts)");
	cr_expect_eq(parse(f, l18, &c, &r), 0, "%s", r.reason);

	/* a tie, 18 then 16: the first wins */
	format_begin_file(f);
	format_scan(f, l18, strlen(l18));
	format_scan(f, l16, strlen(l16));
	cr_expect_eq(parse(f, l16, &c, &r), -1);
	cr_expect_eq(parse(f, l18, &c, &r), 0, "%s", r.reason);
	format_free(f);

	/* declared mixed: both go in, under one key */
	f = open_mixed();
	cr_expect_not(format_wants_scan(f));
	cr_assert_eq(parse(f, l18, &c, &r), 0, "%s", r.reason);
	cr_expect_eq(parse(f, l16, &c, &r), 0, "%s", r.reason);
	format_free(f);
}

Test(asterisk, mixed_layouts_only_for_asterisk)
{
	struct format_opts o = { 0 };
	struct terr e;

	o.mixed_layouts = 1;
	cr_expect_null(format_open(FORMAT_FREESWITCH, &o, &e));
	cr_expect_str_eq(e.msg, "mixed layouts are only for format asterisk");
}

/* Issue 15, part 4: the switch's own duration and billsec are billed; the
 * whole-second times may differ from them by one, not more.  Times
 * 10:00:00, answer 10:00:05, end 10:01:05 give 65 and 60 by subtraction. */
Test(asterisk, switch_seconds_are_billed)
{
	struct format *f = open_fmt(FORMAT_ASTERISK, NULL, NULL);
	struct cdr c;
	struct cdr_reject r;
	char line[1024];
	static const char *const fmt = AST_HEAD "\"2026-11-21 10:00:00\",\"2026-11-21 10:00:05\","
	    "\"2026-11-21 10:01:05\",%d,%d,\"ANSWERED\",\"DOCUMENTATION\",\"u.1\",\"\"";

	/* one less each: the switch's figures */
	snprintf(line, sizeof line, fmt, 64, 59);
	cr_assert_eq(parse(f, line, &c, &r), 0, "%s: %s", r.field, r.reason);
	cr_expect_eq(c.duration, 64);
	cr_expect_eq(c.billsec, 59);
	cr_expect_eq(c.end - c.answer, 60);	/* the times stay as written */
	/* one more (cdr.conf initiatedseconds rounds billsec half up) */
	snprintf(line, sizeof line, fmt, 66, 61);
	cr_assert_eq(parse(f, line, &c, &r), 0, "%s: %s", r.field, r.reason);
	cr_expect_eq(c.duration, 66);
	cr_expect_eq(c.billsec, 61);
	/* two apart: inconsistent, both figures named */
	snprintf(line, sizeof line, fmt, 65, 58);
	cr_expect_eq(parse(f, line, &c, &r), -1);
	cr_expect_str_eq(r.field, "billsec");
	cr_expect_str_eq(r.reason, "billsec is 58 seconds but end - answer is 60: "
	    "more than 1 second apart");
	snprintf(line, sizeof line, fmt, 67, 60);
	cr_expect_eq(parse(f, line, &c, &r), -1);
	cr_expect_str_eq(r.field, "duration");
	cr_expect_str_eq(r.reason, "duration is 67 seconds but end - start is 65: "
	    "more than 1 second apart");
	format_free(f);
}

/* The real line of stepherg/bbfdm libbbfdm/dmtree/tr104/common.c (see
 * samples/asterisk/README): answer 11:09:45, end 11:20:40 is 655 s by
 * subtraction, Asterisk wrote billsec 654; tally bills 654. */
Test(asterisk, real_line_bills_the_switch_billsec)
{
	struct format *f = open_fmt(FORMAT_ASTERISK, NULL, NULL);
	struct cdr c;
	struct cdr_reject r;
	const char *line = "\"\",\"7001\",\"8001\",\"call_line\",\"\"\"\"\" <7001>\","
	    "\"SIP/sip0-00000015\",\"TELCHAN/5/25\",\"Dial\",\"TELCHAN\\/5,,tF(hangup,h,2)\","
	    "\"2020-08-27 11:09:40\",\"2020-08-27 11:09:45\",\"2020-08-27 11:20:40\","
	    "660,654,\"ANSWERED\",\"DOCUMENTATION\",\"1598519380.114\",\"\"";

	cr_assert_eq(parse(f, line, &c, &r), 0, "%s: %s", r.field, r.reason);
	cr_expect_eq(c.end - c.answer, 655);
	cr_expect_eq(c.billsec, 654);
	cr_expect_eq(c.duration, 660);
	format_free(f);
}

Test(freeswitch, switch_seconds_are_billed)
{
	struct format *f = open_fmt(FORMAT_FREESWITCH, NULL, NULL);
	struct cdr c;
	struct cdr_reject r;
	/* times: 70 and 60 by subtraction; the columns say 69 and 59 */
	const char *line = "\"A\",\"1001\",\"1002\",\"default\",\"2026-11-21 10:00:00\","
	    "\"2026-11-21 10:00:10\",\"2026-11-21 10:01:10\",\"69\",\"59\","
	    "\"NORMAL_CLEARING\",\"uuid-s\",\"\",\"acc\",\"PCMA\",\"PCMA\"";
	const char *bad = "\"A\",\"1001\",\"1002\",\"default\",\"2026-11-21 10:00:00\","
	    "\"2026-11-21 10:00:10\",\"2026-11-21 10:01:10\",\"70\",\"62\","
	    "\"NORMAL_CLEARING\",\"uuid-t\",\"\",\"acc\",\"PCMA\",\"PCMA\"";

	cr_assert_eq(parse(f, line, &c, &r), 0, "%s: %s", r.field, r.reason);
	cr_expect_eq(c.duration, 69);
	cr_expect_eq(c.billsec, 59);
	cr_expect_eq(parse(f, bad, &c, &r), -1);
	cr_expect_str_eq(r.field, "billsec");
	cr_expect_str_eq(r.reason, "billsec is 62 seconds but end - answer is 60: "
	    "more than 1 second apart");
	format_free(f);
}

Test(asterisk, answer_time_of_unanswered_call_is_dropped)
{
	struct format *f = open_fmt(FORMAT_ASTERISK, NULL, NULL);
	struct cdr c;
	struct cdr_reject r;

	cr_assert_eq(parse(f, AST_HEAD "\"2026-11-21 10:00:00\",\"2026-11-21 10:00:05\","
	    "\"2026-11-21 10:00:20\",20,15,\"BUSY\",\"DOCUMENTATION\"", &c, &r), 0);
	cr_expect_eq(c.disposition, CDR_BUSY);
	cr_expect_eq(c.has_answer, 0);
	cr_expect_eq(c.billsec, 0);
	cr_expect_eq(c.duration, 20);
	format_free(f);
}

Test(asterisk, rejects_name_the_field)
{
	struct format *f = open_fmt(FORMAT_ASTERISK, NULL, NULL);
	struct cdr c;
	struct cdr_reject r;
	static const struct { const char *tail, *field, *reason; } cases[] = {
		{ "\"2026-11-21 10:00:00\",\"2026-11-21 10:00:05\",\"2026-11-21 10:00:03\","
		  "3,0,\"ANSWERED\",\"DOCUMENTATION\"", "end", "end before answer" },
		{ "\"2026-11-21 10:00:00\",,\"2026-11-21 10:00:03\",3x,0,\"NO ANSWER\","
		  "\"DOCUMENTATION\"", "duration", "not a number: \"3x\"" },
		{ "\"2026-11-21 10:00:00\",,\"2026-11-21 10:00:03\",3,0,\"MAYBE\","
		  "\"DOCUMENTATION\"", "disposition", "unknown disposition \"MAYBE\"" },
		{ "\"2026-11-21 10:00:00\",,\"2026-11-21 10:00:03\",3,0,\"ANSWERED\","
		  "\"DOCUMENTATION\"", "answer", "answered call without answer time" },
		{ "\"2026-11-31 10:00:00\",,\"2026-11-21 10:00:03\",3,0,\"BUSY\","
		  "\"DOCUMENTATION\"", "start", "bad time \"2026-11-31 10:00:00\"" },
		{ "\"2026-11-21 10:00:09\",,\"2026-11-21 10:00:03\",3,0,\"BUSY\","
		  "\"DOCUMENTATION\"", "end", "end before start" },
	};
	char line[1024];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(line, sizeof line, AST_HEAD "%s", cases[i].tail);
		cr_expect_eq(parse(f, line, &c, &r), -1, "case %zu", i);
		cr_expect_str_eq(r.field, cases[i].field, "case %zu", i);
		cr_expect_str_eq(r.reason, cases[i].reason, "case %zu", i);
	}
	cr_expect_eq(parse(f, "\"acc1\",\"09\",\"x", &c, &r), -1);
	cr_expect_str_eq(r.reason, "malformed CSV quoting");
	format_free(f);
}

Test(asterisk, dst_gap_is_rejected)
{
	struct format *f = open_fmt(FORMAT_ASTERISK, "Europe/London", NULL);
	struct cdr c;
	struct cdr_reject r;

	cr_expect_eq(parse(f, AST_HEAD "\"2026-03-29 01:30:00\",,\"2026-03-29 03:00:03\","
	    "3,0,\"BUSY\",\"DOCUMENTATION\"", &c, &r), -1);
	cr_expect_str_eq(r.field, "start");
	cr_expect_str_eq(r.reason, "time does not exist in Europe/London");
	format_free(f);
}

/* ---- freeswitch -------------------------------------------------------- */

Test(freeswitch, unescaped_quotes_in_name_are_tolerated)
{
	struct format *f = open_fmt(FORMAT_FREESWITCH, "Asia/Shanghai", NULL);
	struct cdr c;
	struct cdr_reject r;
	const char *line = "\"Wang \"Xiao\" Ming\",\"13800138000\",\"4009292888\",\"default\","
	    "\"2026-11-22 00:00:50\",\"2026-11-22 00:01:00\",\"2026-11-22 00:02:01\","
	    "\"71\",\"61\",\"NORMAL_CLEARING\",\"uuid-1\",\"\",\"acc-cn\",\"PCMA\",\"PCMA\"";

	cr_assert_eq(parse(f, line, &c, &r), 0, "%s: %s", r.field, r.reason);
	/* 2026-11-22 00:00:50 +08 = 2026-11-21 16:00:50Z */
	cr_expect_eq(c.start, NOV21 + 16 * 3600 + 50);
	cr_expect_eq(c.billsec, 61);
	cr_expect_eq(c.duration, 71);
	cr_expect_eq(c.disposition, CDR_ANSWERED);
	cr_expect_str_eq(c.record_key, "uuid-1");
	cr_expect_str_eq(c.account, "acc-cn");
	format_free(f);
}

Test(freeswitch, causes_map_to_dispositions)
{
	struct format *f = open_fmt(FORMAT_FREESWITCH, NULL, NULL);
	struct cdr c;
	struct cdr_reject r;
	static const struct { const char *cause; int disp; } cases[] = {
		{ "USER_BUSY", CDR_BUSY }, { "NO_ANSWER", CDR_NO_ANSWER },
		{ "ORIGINATOR_CANCEL", CDR_CANCELLED },
		{ "NORMAL_CIRCUIT_CONGESTION", CDR_CONGESTION },
		{ "UNALLOCATED_NUMBER", CDR_FAILED },
	};
	char line[512];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(line, sizeof line, "\"n\",\"1\",\"2\",\"d\",\"2026-11-21 10:00:00\","
		    "\"\",\"2026-11-21 10:00:09\",\"9\",\"0\",\"%s\",\"u%zu\",\"\",\"a\","
		    "\"PCMU\",\"PCMU\"", cases[i].cause, i);
		cr_assert_eq(parse(f, line, &c, &r), 0, "%s", r.reason);
		cr_expect_eq((int)c.disposition, cases[i].disp, "%s", cases[i].cause);
		cr_expect_eq(c.billsec, 0);
	}
	cr_expect_eq(parse(f, "\"n\",\"1\",\"2\",\"d\",\"2026-11-21 10:00:00\",\"\","
	    "\"2026-11-21 10:00:09\",\"9\",\"0\",\"HUNG_UP_ANGRILY\",\"u\",\"\",\"a\","
	    "\"PCMU\",\"PCMU\"", &c, &r), -1);
	cr_expect_str_eq(r.field, "hangup_cause");
	cr_expect_eq(parse(f, "\"n\",\"1\",\"2\"", &c, &r), -1);
	cr_expect_str_eq(r.reason, "3 columns, expected 15");
	format_free(f);
}

/* ---- kamailio ---------------------------------------------------------- */

Test(kamailio, subsecond_times_round_talk_time_up)
{
	struct format *f = open_fmt(FORMAT_KAMAILIO, NULL, NULL);
	struct cdr c;
	struct cdr_reject r;
	const char *line = "Nov 21 10:00:05 sbc1 kamailio[2345]: NOTICE: acc: "
	    "start_time=1763719205.123; end_time=1763719265.800; duration=60.677; "
	    "callid=abc@10.0.0.1; src_user=0901234567; "
	    "dst_user=0281234567; account=acc1; ruri=sip:x@y;transport=udp;";

	cr_assert_eq(parse(f, line, &c, &r), 0, "%s: %s", r.field, r.reason);
	cr_expect_eq(c.start, 1763719205);
	cr_expect_eq(c.answer, 1763719205);
	cr_expect_eq(c.billsec, 61);	/* 60.677 s rounded up */
	cr_expect_eq(c.end, 1763719266);
	cr_expect_str_eq(c.record_key, "abc@10.0.0.1");
	cr_expect_str_eq(c.caller_raw, "0901234567");
	cr_expect_str_eq(c.callee_raw, "0281234567");
	cr_expect_str_eq(c.account, "acc1");
	format_free(f);
}

Test(kamailio, rejects)
{
	struct format *f = open_fmt(FORMAT_KAMAILIO, NULL, NULL);
	struct cdr c;
	struct cdr_reject r;

	cr_expect_eq(parse(f, "Nov 21 sbc1 kamailio: INFO: dialog created", &c, &r), -1);
	cr_expect_str_eq(r.reason, "not an acc CDR line");
	cr_expect_eq(parse(f, "start_time=5.5; duration=1; callid=x; dst_user=1", &c, &r), -1);
	cr_expect_str_eq(r.field, "end_time");
	cr_expect_str_eq(r.reason, "missing");
	cr_expect_eq(parse(f, "start_time=5.5; end_time=4; callid=x; dst_user=1", &c, &r), -1);
	cr_expect_str_eq(r.reason, "end before start");
	cr_expect_eq(parse(f, "start_time=5; end_time=6; dst_user=1", &c, &r), -1);
	cr_expect_str_eq(r.field, "callid");
	format_free(f);
}

/* ---- csv --------------------------------------------------------------- */

static char mappath[64];

static void
write_map(const char *text)
{
	FILE *fp;

	snprintf(mappath, sizeof mappath, "/tmp/tally-map-%d", (int)getpid());
	fp = fopen(mappath, "w");
	cr_assert_not_null(fp);
	fputs(text, fp);
	fclose(fp);
}

Test(csv, mapped_columns_duration_and_talk_time)
{
	struct format *f;
	struct cdr c;
	struct cdr_reject r;
	struct terr e;
	static const char hdr[] = "id,cust,from,to,started,dur,talk,kind";

	write_map("# export of the web switch\n"
	    "time_format = %d/%m/%Y %H:%M:%S\ntz = Asia/Ho_Chi_Minh\n"
	    "key = id\naccount = cust\ncaller = from\ncallee = to\nstart = started\n"
	    "duration = dur\nbillsec = talk\ntype = kind\n");
	f = open_fmt(FORMAT_CSV, NULL, mappath);
	cr_assert_eq(format_header(f, hdr, sizeof hdr - 1, &e), 0, "%s", e.msg);
	cr_assert_eq(parse(f, "c1,acc9,0901234567,0281234567,21/11/2026 10:00:00,75,60,voice",
	    &c, &r), 0, "%s: %s", r.field, r.reason);
	cr_expect_eq(c.start, NOV21 + 3 * 3600);
	cr_expect_eq(c.end, c.start + 75);
	cr_expect_eq(c.answer, c.end - 60);
	cr_expect_eq(c.billsec, 60);
	cr_expect_eq(c.disposition, CDR_ANSWERED);
	cr_expect_str_eq(c.record_key, "c1");
	/* no talk time, no disposition column: not answered */
	cr_assert_eq(parse(f, "c2,acc9,0901234567,0281234567,21/11/2026 10:00:00,30,0,voice",
	    &c, &r), 0);
	cr_expect_eq(c.disposition, CDR_NO_ANSWER);
	cr_assert_eq(parse(f, "c3,acc9,0901234567,0281234567,21/11/2026 10:00:00,0,0,SMS",
	    &c, &r), 0);
	cr_expect_eq(c.type, CDR_SMS);
	cr_expect_eq(parse(f, "c4,acc9,0901234567,0281234567,21/11/2026 10:00:00,0,0,fax",
	    &c, &r), -1);
	cr_expect_str_eq(r.field, "kind");
	cr_expect_eq(parse(f, "c5,acc9,0901234567", &c, &r), -1);
	cr_expect_str_eq(r.reason, "3 columns, expected 8");
	format_free(f);
	unlink(mappath);
}

/* Issue 15, part 4: a map that names both the times and the seconds bills
 * the seconds.  10:00:00 / 10:00:05 / 10:01:05 is 65 and 60 by subtraction. */
Test(csv, mapped_seconds_are_billed)
{
	struct format *f;
	struct cdr c;
	struct cdr_reject r;
	struct terr e;
	static const char hdr[] = "from,to,s,a,e,dur,talk";

	write_map("caller = from\ncallee = to\nstart = s\nanswer = a\nend = e\n"
	    "duration = dur\nbillsec = talk\n");
	f = open_fmt(FORMAT_CSV, NULL, mappath);
	cr_assert_eq(format_header(f, hdr, sizeof hdr - 1, &e), 0, "%s", e.msg);
	cr_assert_eq(parse(f, "1,2,2026-11-21 10:00:00,2026-11-21 10:00:05,"
	    "2026-11-21 10:01:05,64,59", &c, &r), 0, "%s: %s", r.field, r.reason);
	cr_expect_eq(c.duration, 64);
	cr_expect_eq(c.billsec, 59);
	cr_expect_eq(parse(f, "1,2,2026-11-21 10:00:00,2026-11-21 10:00:05,"
	    "2026-11-21 10:01:05,65,62", &c, &r), -1);
	cr_expect_str_eq(r.field, "talk");
	cr_expect_str_eq(r.reason, "talk is 62 seconds but end - answer is 60: "
	    "more than 1 second apart");
	format_free(f);
	unlink(mappath);
}

Test(csv, header_missing_a_mapped_column_fails_the_file)
{
	struct format *f;
	struct terr e;
	static const char hdr[] = "from,to,started";

	write_map("caller = from\ncallee = to\nstart = started\nend = ended\n");
	f = open_fmt(FORMAT_CSV, NULL, mappath);
	cr_expect_eq(format_header(f, hdr, sizeof hdr - 1, &e), -1);
	cr_expect(strstr(e.msg, "\"ended\"") != NULL, "%s", e.msg);
	format_free(f);
	unlink(mappath);
}

Test(csv, bad_maps_are_refused)
{
	struct format_opts o = { 0 };
	struct terr e;

	write_map("caller = from\ncallee = to\n");
	o.map_path = mappath;
	cr_expect_null(format_open(FORMAT_CSV, &o, &e));
	cr_expect(strstr(e.msg, "start") != NULL, "%s", e.msg);
	write_map("caller = from\ncallee = to\nstart = s\nend = e\ncolour = red\n");
	cr_expect_null(format_open(FORMAT_CSV, &o, &e));
	cr_expect(strstr(e.msg, ":5: unknown name \"colour\"") != NULL, "%s", e.msg);
	o.map_path = NULL;
	cr_expect_null(format_open(FORMAT_CSV, &o, &e));
	unlink(mappath);
}

Test(kamailio, many_pairs_and_keys_named_by_options)
{
	struct format_opts o = { 0 };
	struct terr e;
	struct format *f;
	struct cdr c;
	struct cdr_reject r;
	char line[8192];
	size_t n = 0;

	o.kam_keys[KAM_CALLEE] = "dst_ouser";
	f = format_open(FORMAT_KAMAILIO, &o, &e);
	cr_assert_not_null(f, "%s", e.msg);
	n += (size_t)snprintf(line + n, sizeof line - n, "start_time=10.5; end_time=20.25; ");
	for (int i = 0; i < 100; i++)	/* padding pairs: the wanted ones come last */
		n += (size_t)snprintf(line + n, sizeof line - n, "x%d=v%d; ", i, i);
	snprintf(line + n, sizeof line - n,
	    "dst_user=111; dst_ouser=222; account=acc7; callid=late-key");
	cr_assert_eq(parse(f, line, &c, &r), 0, "%s: %s", r.field, r.reason);
	cr_expect_str_eq(c.callee_raw, "222");	/* --key callee=dst_ouser */
	cr_expect_str_eq(c.account, "acc7");
	cr_expect_str_eq(c.record_key, "late-key");
	cr_expect_eq(c.billsec, 10);	/* 9.75 s rounded up */
	format_free(f);
}

Test(kamailio, absurd_epoch_is_a_bad_time)
{
	struct format *f = open_fmt(FORMAT_KAMAILIO, NULL, NULL);
	struct cdr c;
	struct cdr_reject r;

	cr_expect_eq(parse(f, "start_time=999999999999999.5; end_time=1; callid=x", &c, &r), -1);
	cr_expect_str_eq(r.field, "start_time");
	cr_expect_str_eq(r.reason, "bad time \"999999999999999.5\"");
	format_free(f);
}

Test(freeswitch, doubled_quotes_are_not_unescaped_and_ambiguous_lines_rejected)
{
	struct format *f = open_fmt(FORMAT_FREESWITCH, NULL, NULL);
	struct cdr c;
	struct cdr_reject r;
	const char *tail = "\"d\",\"2026-11-21 10:00:00\",\"\",\"2026-11-21 10:00:09\",\"9\","
	    "\"0\",\"NO_ANSWER\",\"u1\",\"\",\"ac\"\"c\",\"PCMU\",\"PCMU\"";
	char line[512];

	/* FreeSWITCH writes the value ac""c between quotes as it is; strict
	 * CSV would read ac"c.  The value is kept as the switch had it. */
	snprintf(line, sizeof line, "\"n\",\"1\",\"2\",%s", tail);
	cr_assert_eq(parse(f, line, &c, &r), 0, "%s", r.reason);
	cr_expect_str_eq(c.account, "ac\"\"c");
	/* a name ending in "," would shift every field after it */
	snprintf(line, sizeof line, "\"a\",\",\"1\",\"2\",%s", tail);
	cr_expect_eq(parse(f, line, &c, &r), -1);
	cr_expect_str_eq(r.field, "line");
	format_free(f);
}
