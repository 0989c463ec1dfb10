/* tariff: the package format, every error reported at once, lookups. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "tally/tariff.h"

static struct tariff_pkg pkg;

static void
set(enum tariff_fileid f, const char *text)
{
	free(pkg.data[f]);
	pkg.data[f] = strdup(text);
	pkg.len[f] = strlen(text);
}

/* A small valid package; tests change one file at a time. */
static void
base(void)
{
	memset(&pkg, 0, sizeof pkg);
	set(TF_PACKAGE, "key,value\nreseller,r1\ncurrency,VND\n");
	set(TF_CLASSES, "class,priority,type,caller,callee,payer\n"
	    "internal,10,voice,\"^\\d{3,4}$\",\"^\\d{3,4}$\",none\n"
	    "onnet,20,voice,,^\\+849,caller\n"
	    "offnet,30,voice,,^\\+84,caller\n"
	    "sms,40,sms,,,caller\n");
	set(TF_RATES, "deck,prefix,destination,price,connection_fee,initial,increment,"
	    "min_duration,band,effective_from,effective_to\n"
	    "vn,+84,Vietnam,100,,1,1,,,2026-01-01,2026-12-01\n"
	    "vn,+84,Vietnam,200,,1,1,,,2026-12-01,\n"
	    "vn,+8490,Mobile 90,900,,1,1,,,2026-01-01,\n"
	    "sms,,Any,290,,1,1,,,2026-01-01,\n");
	set(TF_TIERS, "tiers,mode,count,initial,increment,above,upto,price\n"
	    "hot,graduated,line,1,1,0,1000,500\n"
	    "hot,graduated,line,1,1,1000,5000,480\n"
	    "hot,graduated,line,1,1,5000,,460\n");
	set(TF_PLANS, "plan,rounding,decimals,test_minutes,test_days\np1,half-up,0,,\n");
	set(TF_PLAN_CLASSES, "plan,class,pricing\np1,onnet,tiers:hot\np1,offnet,deck:vn\n"
	    "p1,sms,deck:sms\n");
	set(TF_ACCOUNTS, "account,plan,timezone,created\nacme,p1,Asia/Ho_Chi_Minh,2026-01-01\n");
}

static void
done(void)
{
	tariff_pkg_release(&pkg);
}

static struct tariff *
parse_ok(void)
{
	struct tariff_errors errs;
	struct tariff *t = tariff_parse(&pkg, &errs);

	cr_assert_not_null(t, "%d errors, first: %s", errs.n, errs.n ? errs.msg[0] : "");
	return t;
}

/* Is `want` among the errors? */
static int
has(const struct tariff_errors *e, const char *want)
{
	for (int i = 0; i < e->n; i++)
		if (strstr(e->msg[i], want))
			return 1;
	return 0;
}

Test(tariff, valid_package_parses, .init = base, .fini = done)
{
	struct tariff *t = parse_ok();

	cr_expect_str_eq(t->reseller, "r1");
	cr_expect_eq(t->currency_decimals, 0);
	cr_expect_eq(t->nclasses, 4);
	cr_expect_eq(t->nrates, 4);
	cr_expect_eq(t->tiers[0].ntiers, 3);
	tariff_free(t);
}

Test(tariff, every_error_at_once_with_file_line_column, .init = base, .fini = done)
{
	struct tariff_errors e;

	set(TF_PACKAGE, "key,value\nreseller,r1\ncurrency,XYZ\n");
	set(TF_RATES, "deck,prefix,destination,price,initial,increment,effective_from\n"
	    "vn,+84,Vietnam,100,1,1,2026-01-01\n"
	    "vn,+84,Vietnam again,120,1,1,2026-06-01\n"	/* same prefix, overlapping */
	    "vn,+8490,Mobile,9x0,1,1,2026-01-01\n"	/* bad number */
	    "vn,84a,Bad,1,1,1,2026-01-01\n");
	set(TF_TIERS, "tiers,mode,count,initial,increment,above,upto,price\n"
	    "hot,graduated,line,1,1,0,1000,500\n"
	    "hot,graduated,line,1,1,900,5000,480\n"	/* overlaps 0-1000 */
	    "hot,graduated,line,1,1,6000,,460\n");	/* gap after 5000 */
	set(TF_PLAN_CLASSES, "plan,class,pricing\np1,onnet,tiers:hot\np1,roaming,deck:vn\n");
	cr_assert_null(tariff_parse(&pkg, &e));
	cr_expect(has(&e, "package.csv:3:value: unknown currency \"XYZ\""));
	cr_expect(has(&e, "rates.csv:3:prefix: prefix \"+84\" already has a rate for these "
	    "dates in deck \"vn\" (line 2)"));
	cr_expect(has(&e, "rates.csv:4:price: \"9x0\" is not an amount"));
	cr_expect(has(&e, "rates.csv:5:prefix: \"84a\" is not a prefix"));
	cr_expect(has(&e, "tiers.csv:3:above: overlapping tiers"));
	cr_expect(has(&e, "tiers.csv:4:above: gap between tiers"));
	cr_expect(has(&e, "plan_classes.csv:3:class: unknown class \"roaming\""));
	cr_expect_eq(e.n, 7, "%d errors", e.n);
	tariff_errors_release(&e);
}

Test(tariff, missing_files_and_columns, .init = base, .fini = done)
{
	struct tariff_errors e;

	free(pkg.data[TF_ACCOUNTS]);
	pkg.data[TF_ACCOUNTS] = NULL;
	set(TF_PLANS, "plan,decimals\np1,0\n");
	cr_assert_null(tariff_parse(&pkg, &e));
	cr_expect(has(&e, "accounts.csv: missing"));
	cr_expect(has(&e, "plans.csv:1: header lacks the column \"rounding\""));
	tariff_errors_release(&e);
}

Test(tariff, other_validations, .init = base, .fini = done)
{
	struct tariff_errors e;

	set(TF_ACCOUNTS, "account,plan,timezone,created\nacme,p9,Mars/Base,2026-02-30\n");
	set(TF_CLASSES, "class,priority,type,caller,callee,payer\n"
	    "a,10,voice,(,,caller\nb,20,voice,,,caller\nc,20,fax,,,someone\n");
	cr_assert_null(tariff_parse(&pkg, &e));
	cr_expect(has(&e, "accounts.csv:2:plan: unknown plan \"p9\""));
	cr_expect(has(&e, "accounts.csv:2:timezone: unknown time zone \"Mars/Base\""));
	cr_expect(has(&e, "accounts.csv:2:created: \"2026-02-30\" is not a date"));
	cr_expect(has(&e, "classes.csv:2:caller: bad pattern"));
	cr_expect(has(&e, "classes.csv:4:priority: priority 20 already used by class \"b\""));
	cr_expect(has(&e, "classes.csv:4:type: \"fax\" is not voice, sms or any"));
	cr_expect(has(&e, "classes.csv:4:payer: \"someone\" is not caller, owner or none"));
	tariff_errors_release(&e);
}

Test(tariff, ambiguous_input_is_refused, .init = base, .fini = done)
{
	struct tariff_errors e;
	static const char nul_row[] = "plan,rounding,decimals,test_minutes,test_days\n"
	    "p1,half-up,0,,\np\0,up,0,,\n";

	set(TF_PACKAGE, "key,value\nreseller,r1\ncurrency,VND\nreseller,r2\n");
	set(TF_RATES, "deck,prefix,destination,price,price,initial,increment,effective_from\n"
	    "vn,+84,Vietnam,100,999,1,1,2026-01-01\n");
	set(TF_TIERS, "tiers,mode,count,initial,increment,above,upto,price\n"
	    "hot,graduated,line,+1,1,0,,-0\n");
	free(pkg.data[TF_PLANS]);
	pkg.data[TF_PLANS] = malloc(sizeof nul_row);
	memcpy(pkg.data[TF_PLANS], nul_row, sizeof nul_row);
	pkg.len[TF_PLANS] = sizeof nul_row - 1;
	cr_assert_null(tariff_parse(&pkg, &e));
	cr_expect(has(&e, "package.csv:4:key: key \"reseller\" given twice"));
	cr_expect(has(&e, "rates.csv:1: the header has column \"price\" twice"));
	cr_expect(has(&e, "tiers.csv:2:initial: \"+1\" is not a whole number"));
	cr_expect(has(&e, "tiers.csv:2:price: \"-0\" is not an amount"));
	cr_expect(has(&e, "plans.csv:3: NUL byte or bare CR in line"));
	tariff_errors_release(&e);
}

Test(tariff, a_lone_plus_is_no_prefix, .init = base, .fini = done)
{
	struct tariff_errors e;

	set(TF_RATES, "deck,prefix,destination,price,initial,increment,effective_from\n"
	    "vn,+,Everything,100,1,1,2026-01-01\n");
	cr_assert_null(tariff_parse(&pkg, &e));
	cr_expect(has(&e, "rates.csv:2:prefix: \"+\" is not a prefix"));
	tariff_errors_release(&e);
}

Test(tariff, numbers_must_be_normalized_and_listed_once, .init = base, .fini = done)
{
	struct tariff_errors e;

	set(TF_NUMBERS, "number,account\n1800 1234,acme\n+8418001234,acme\n"
	    "+8418001234,acme\n");
	cr_assert_null(tariff_parse(&pkg, &e));
	cr_expect(has(&e, "numbers.csv:2:number: \"1800 1234\" is not a normalized number"));
	cr_expect(has(&e, "numbers.csv:4:number: number \"+8418001234\" listed twice "
	    "(first on line 3)"));
	tariff_errors_release(&e);
}

Test(tariff, longest_prefix_beats_a_cheaper_shorter_one, .init = base, .fini = done)
{
	struct tariff *t = parse_ok();
	int r = tariff_deck_lookup(t, 0, "+84901234567", 20261122);

	cr_assert_geq(r, 0);
	cr_expect_str_eq(t->rates[r].prefix, "8490");
	cr_expect_eq(t->rates[r].price, 900000000);
	r = tariff_deck_lookup(t, 0, "+842838123456", 20261122);
	cr_expect_str_eq(t->rates[r].prefix, "84");
	cr_expect_eq(tariff_deck_lookup(t, 0, "+861380013800", 20261122), -1);
	tariff_free(t);
}

Test(tariff, effective_dates_pick_the_rate, .init = base, .fini = done)
{
	struct tariff *t = parse_ok();
	int r1 = tariff_deck_lookup(t, 0, "+842838123456", 20261130);
	int r2 = tariff_deck_lookup(t, 0, "+842838123456", 20261201);

	/* the chain holds both; rating picks the row in effect (test_rate) */
	cr_assert_geq(r1, 0);
	cr_assert_geq(r2, 0);
	int n = 0;
	for (int r = r1; r >= 0; r = t->rates[r].next) {
		/* 100 until 2026-12-01 (exclusive), 200 from then */
		if (t->rates[r].price == 100000000)
			cr_expect(t->rates[r].from == 20260101 && t->rates[r].to == 20261201);
		else
			cr_expect(t->rates[r].price == 200000000 && t->rates[r].from == 20261201 &&
			    t->rates[r].to == 0);
		n++;
	}
	cr_expect_eq(n, 2);
	cr_expect_eq(tariff_deck_lookup(t, 0, "+842838123456", 20251231), -1);
	tariff_free(t);
}

Test(tariff, classes_by_priority, .init = base, .fini = done)
{
	struct tariff *t = parse_ok();

	cr_expect_str_eq(t->classes[tariff_classify(t, CDR_VOICE, "101", "102")].name, "internal");
	cr_expect_str_eq(t->classes[tariff_classify(t, CDR_VOICE, "101", "+84901234567")].name, "onnet");
	cr_expect_str_eq(t->classes[tariff_classify(t, CDR_VOICE, "101", "+842838123456")].name, "offnet");
	cr_expect_str_eq(t->classes[tariff_classify(t, CDR_SMS, "101", "+84901234567")].name, "sms");
	cr_expect_eq(tariff_classify(t, CDR_VOICE, "101", "+8613800138000"), -1);
	tariff_free(t);
}

Test(tariff, diff_compares_rows, .init = base, .fini = done)
{
	struct tariff_pkg b = { 0 };
	int n;

	for (int i = 0; i < TF_NFILES; i++)
		if (pkg.data[i]) {
			b.data[i] = strdup(pkg.data[i]);
			b.len[i] = pkg.len[i];
		}
	cr_expect_eq(tariff_pkg_diff(&pkg, &b, NULL, NULL), 0);
	free(b.data[TF_PLANS]);
	b.data[TF_PLANS] = strdup("plan,rounding,decimals,test_minutes,test_days\np1,up,0,,\n");
	b.len[TF_PLANS] = strlen(b.data[TF_PLANS]);
	n = tariff_pkg_diff(&pkg, &b, NULL, NULL);
	cr_expect_eq(n, 2);	/* one row out, one in */
	tariff_pkg_release(&b);
}

/* A number is never cut (tally-tariff(5), invoice_prefix): the default
 * prefixes, reseller + "-" and reseller + "-CN-", are held to the 40
 * characters of an explicit one.  A 36-character reseller gives 37 and 40:
 * both fit; a 37-character one gives 38 and 41: the credit prefix is refused. */
Test(tariff, default_prefixes_are_length_checked, .init = base, .fini = done)
{
	struct tariff_errors e;
	struct tariff *t;

	set(TF_PACKAGE, "key,value\nreseller,abcdefghijklmnopqrstuvwxyz0123456789\n"
	    "currency,VND\n");
	t = parse_ok();
	cr_expect_str_eq(t->invoice_prefix, "abcdefghijklmnopqrstuvwxyz0123456789-");
	cr_expect_str_eq(t->credit_prefix, "abcdefghijklmnopqrstuvwxyz0123456789-CN-");
	tariff_free(t);

	set(TF_PACKAGE, "key,value\nreseller,abcdefghijklmnopqrstuvwxyz0123456789x\n"
	    "currency,VND\n");
	cr_expect_null(tariff_parse(&pkg, &e));
	cr_expect_eq(e.n, 1);
	cr_expect(has(&e, "package.csv: credit_prefix: the default, reseller "
	    "\"abcdefghijklmnopqrstuvwxyz0123456789x\" and \"-CN-\", is 41 characters"));
	tariff_errors_release(&e);

	/* an explicit credit prefix makes it valid */
	set(TF_PACKAGE, "key,value\nreseller,abcdefghijklmnopqrstuvwxyz0123456789x\n"
	    "currency,VND\ncredit_prefix,CN-\n");
	t = parse_ok();
	cr_expect_str_eq(t->invoice_prefix, "abcdefghijklmnopqrstuvwxyz0123456789x-");
	tariff_free(t);
}
