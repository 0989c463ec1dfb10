/*
 * tally-account - accounts, their payments and deposits, and their ledger.
 * See tally-account(1).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tally/billing.h"
#include "tally/lookup.h"
#include "tally/ratejob.h"
#include "tally/store.h"
#include "tally/timefmt.h"
#include "tally/tz.h"

static const char *progname = "tally-account";

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: tally-account [--db FILE] list [--reseller NAME]\n"
	    "       tally-account [--db FILE] show ID\n"
	    "       tally-account [--db FILE] pay|deposit ID AMOUNT [--date YYYY-MM-DD]\n"
	    "                     [--for NUMBER] [--reference TEXT]\n"
	    "       tally-account [--db FILE] ledger ID\n"
	    "       tally-account --help | --version\n");
}

/*
 * getopt_long() with options and operands in any order, as its own
 * permuting would take them, except that an operand that is a '-' and a
 * digit ("-100", an amount) stays an operand instead of being read as the
 * options -1 -0 -0; "--" ends the options.  getopt_long() runs in
 * "+" (stop at the first operand) mode and each operand is stepped over
 * here.  Invariant: argv[1 .. *first) are the options read and
 * argv[*first .. optind) the operands passed, so that at the end (-1) the
 * operands are argv[optind .. argc), in their order.
 */
static void
rotate(char **argv, int lo, int mid, int hi)
{
	for (; mid < hi; mid++, lo++) {
		char *moved = argv[mid];

		memmove(argv + lo + 1, argv + lo, (size_t)(mid - lo) * sizeof *argv);
		argv[lo] = moved;
	}
}

static int
next_option(int argc, char **argv, const struct option *longopts, int *first)
{
	for (;;) {
		const char *a = optind < argc ? argv[optind] : NULL;
		int at = optind, ch;

		if (a == NULL) {
			optind = *first;
			return -1;
		}
		if (a[0] != '-' || a[1] == '\0' || (a[1] >= '0' && a[1] <= '9') || a[1] == '.') {
			optind++;	/* an operand */
			continue;
		}
		ch = getopt_long(argc, argv, "+", longopts, NULL);
		rotate(argv, *first, at, optind);	/* the option before the operands */
		*first += optind - at;
		if (ch == -1) {		/* "--": the rest are operands */
			optind = *first;
			return -1;
		}
		return ch;
	}
}

static int
balance(struct store *s, const char *id, money *b, struct terr *e)
{
	return store_ledger_sum(s, id, NULL, NULL, 0, b, e);
}

static int
list(struct store *s, const struct tariff_set *ts, const char *reseller, struct terr *e)
{
	for (int i = 0; i < ts->nacct; i++) {
		const struct tariff *t = ts->t[ts->acct[i].t];
		const struct taccount *a = &t->accounts[ts->acct[i].a];
		char bal[32], rate[16];
		money b;

		if (reseller && strcmp(reseller, t->reseller) != 0)
			continue;
		if (balance(s, a->id, &b, e) != 0)
			return -1;
		money_format(b, t->currency_decimals, bal);
		bill_rate_text(tariff_account_tax_rate(t, ts->acct[i].a), rate);
		printf("%-16s %-12s %-12s %s %-20s day %-2d tax %5s%% balance %s\n", a->id,
		    t->reseller, t->plans[a->plan].name, t->currency, a->tzname,
		    a->billing_day, rate, bal);
	}
	return 0;
}

static int
show(struct store *s, const struct tariff *t, int ai, struct terr *e)
{
	const struct taccount *a = &t->accounts[ai];
	int d = t->currency_decimals, first, n;
	char bal[32], rate[16], buf[32], buf2[32], dt[11];
	money b;

	if (balance(s, a->id, &b, e) != 0)
		return -1;
	money_format(b, d, bal);
	bill_rate_text(tariff_account_tax_rate(t, ai), rate);
	bill_date_text(a->created, dt);
	printf("account %s (%s)\nreseller %s, currency %s, zone %s\nplan %s, created %s, "
	    "billing day %d, tax %s%% (prices %s tax)\nbalance %s\n", a->id,
	    a->name[0] ? a->name : "no name", t->reseller, t->currency, a->tzname,
	    t->plans[a->plan].name, dt, a->billing_day, rate,
	    t->tax_included ? "include" : "exclude", bal);
	n = tariff_holdings(t, ai, &first);
	for (int i = 0; i < n; i++) {
		const struct holding *h = &t->holdings[first + i];
		char c[11] = "";

		bill_date_text(h->activated, dt);
		if (h->cancelled)
			bill_date_text(h->cancelled, c);
		printf("fee %s x%lld from %s%s%s\n", t->fees[h->fee].name, (long long)h->quantity,
		    dt, h->cancelled ? " to " : "", c);
	}
	n = tariff_minimums(t, ai, &first);
	for (int i = 0; i < n; i++) {
		const struct minimum *m = &t->minimums[first + i];

		money_format(m->amount, d, buf);
		money_format(m->rate, d, buf2);
		bill_date_text(m->from, dt);
		printf("minimum %s %s at %s/min from %s\n", m->annual ? "annual" : "monthly",
		    buf, buf2, dt);
	}
	n = tariff_rentals(t, ai, &first);
	for (int i = 0; i < n; i++) {
		bill_date_text(t->rentals[first + i].activated, dt);
		printf("rents %s (%s) from %s\n", t->rentals[first + i].number,
		    t->fees[t->rentals[first + i].fee].name, dt);
	}
	return 0;
}

struct running {
	int decimals;
	money balance;
	const char *account;
	struct terr *e;
};

static int
on_entry(const struct ledger_row *r, void *arg)
{
	struct running *run = arg;
	char amt[32], bal[32];

	if (money_add_checked(run->balance, r->amount, &run->balance) != 0)
		return terr_set(run->e, "account %s, ledger up to %s: the running balance "
		    "does not fit in 64-bit micro-units (overflow)", run->account, r->date);
	money_format(r->amount, run->decimals, amt);
	money_format(run->balance, run->decimals, bal);
	printf("%s %-8s %14s %14s %s%s%s\n", r->date, r->kind, amt, bal, r->invoice_number,
	    r->number[0] ? " for " : "", r->number);
	if (r->reference[0])
		printf("           %s\n", r->reference);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "reseller", required_argument, NULL, 'r' },
		{ "date", required_argument, NULL, 'D' },
		{ "for", required_argument, NULL, 'f' },
		{ "reference", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *db = store_default_path(), *reseller = NULL, *date = NULL;
	const char *number = NULL, *reference = NULL, *cmd;
	struct tariff_set ts;
	struct store *s;
	struct terr e;
	int ch, nargs, rc = -1, ti = -1, ai = -1, opts_end = 1;
	int32_t dd;
	money amount = 0;

	while ((ch = next_option(argc, argv, longopts, &opts_end)) != -1) {
		switch (ch) {
		case 'd': db = optarg; break;
		case 'r': reseller = optarg; break;
		case 'D': date = optarg; break;
		case 'f': number = optarg; break;
		case 'R': reference = optarg; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("tally-account %s\n", TALLY_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	cmd = argv[optind];
	nargs = argc - optind - 1;
	if (!((strcmp(cmd, "list") == 0 && nargs == 0 && !date && !number && !reference) ||
	    ((strcmp(cmd, "show") == 0 || strcmp(cmd, "ledger") == 0) && nargs == 1 &&
	    !reseller && !date && !number && !reference) ||
	    ((strcmp(cmd, "pay") == 0 || strcmp(cmd, "deposit") == 0) && nargs == 2 &&
	    !reseller))) {
		usage(stderr);
		return 2;
	}
	if (nargs == 2 && money_parse(argv[optind + 2], &amount) != 0) {
		fprintf(stderr, "%s: %s: expected an amount greater than 0\n", progname,
		    argv[optind + 2]);
		return 2;
	}
	/* Money goes one way here; there is no negative entry to undo one. */
	if (nargs == 2 && amount <= 0) {
		fprintf(stderr, "%s: %s %s: a %s is an amount greater than 0 (to credit a "
		    "customer for an invoice, issue a credit note: tally-invoice credit "
		    "NUMBER --amount AMOUNT --reason TEXT)\n", progname, cmd,
		    argv[optind + 2], cmd[0] == 'p' ? "payment" : "deposit");
		return 2;
	}
	if (date && bill_date_parse(date, &dd) != 0) {
		fprintf(stderr, "%s: --date %s: expected YYYY-MM-DD\n", progname, date);
		return 2;
	}
	/* pay and deposit write; list, show and ledger only read */
	if ((s = store_open(db, nargs == 2 ? STORE_EXISTING : STORE_READONLY, &e)) == NULL) {
		fprintf(stderr, "%s: %s\n", progname, e.msg);
		return 1;
	}
	if (tariff_set_load(s, &ts, &e) != 0 || lookup_reseller(s, reseller, &e) != 0)
		goto out;
	if (nargs >= 1 && (ti = tariff_set_find(&ts, argv[optind + 1], &ai)) < 0) {
		terr_set(&e, "account \"%s\" is in no loaded tariff", argv[optind + 1]);
		goto out;
	}
	if (strcmp(cmd, "list") == 0) {
		rc = list(s, &ts, reseller, &e);
	} else if (strcmp(cmd, "show") == 0) {
		rc = show(s, ts.t[ti], ai, &e);
	} else if (strcmp(cmd, "ledger") == 0) {
		struct running run = { .decimals = ts.t[ti]->currency_decimals,
			.account = argv[optind + 1], .e = &e };

		rc = store_each_ledger(s, argv[optind + 1], on_entry, &run, &e);
	} else {
		const struct tariff *t = ts.t[ti];
		struct ledger_row r = { .account = t->accounts[ai].id,
			.kind = cmd[0] == 'p' ? "payment" : "deposit",
			.amount = amount, .number = number, .reference = reference };
		char today[11], amt[32];

		money unit = 1;

		for (int i = t->currency_decimals; i < 6; i++)
			unit *= 10;
		if (amount % unit != 0) {
			terr_set(&e, "%s: more decimals than %s has", argv[optind + 2], t->currency);
			goto out;
		}
		if (number) {
			int first, n = tariff_rentals(t, ai, &first), found = 0;

			for (int i = 0; i < n; i++)
				found |= strcmp(t->rentals[first + i].number, number) == 0;
			if (!found) {
				terr_set(&e, "account %s rents no number \"%s\" (rentals.csv)",
				    r.account, number);
				goto out;
			}
		}
		if (date == NULL) {
			struct civil c;

			tz_from_utc(t->accounts[ai].tz, (int64_t)time(NULL), &c);
			bill_date_text(c.year * 10000 + c.mon * 100 + c.day, today);
		}
		r.date = date ? date : today;
		if (store_begin(s, &e) != 0)
			goto out;
		if (store_ledger_add(s, &r, 0, &e) != 0 || store_bump_generation(s, &e) != 0 ||
		    store_commit(s, &e) != 0) {
			store_rollback(s);
			goto out;
		}
		money_format(amount, t->currency_decimals, amt);
		printf("%s %s %s %s on %s\n", cmd, r.account, amt, t->currency, r.date);
		rc = 0;
	}
out:
	tariff_set_release(&ts);
	store_close(s);
	if (rc != 0) {
		fprintf(stderr, "%s: %s\n", progname, e.msg);
		return 1;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "%s: error writing standard output\n", progname);
		return 1;
	}
	return 0;
}
