/*
 * tally-invoice - close periods into invoices, issue, void and credit them.
 * See tally-invoice(1).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "tally/invoice.h"
#include "tally/lookup.h"
#include "tally/store.h"
#include "tally/timefmt.h"

static const char *progname = "tally-invoice";

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: tally-invoice [--db FILE] close --period YYYY-MM [--account ID]"
	    " [--reseller NAME]\n"
	    "       tally-invoice [--db FILE] issue --period YYYY-MM [--account ID]"
	    " [--reseller NAME]\n"
	    "       tally-invoice [--db FILE] close|issue --due [--date YYYY-MM-DD]"
	    " [--reseller NAME]\n"
	    "       tally-invoice [--db FILE] void NUMBER --reason TEXT [--date YYYY-MM-DD]\n"
	    "       tally-invoice [--db FILE] credit NUMBER --amount AMOUNT --reason TEXT\n"
	    "                     [--date YYYY-MM-DD]\n"
	    "       tally-invoice [--db FILE] list [--period YYYY-MM] [--account ID]"
	    " [--reseller NAME]\n"
	    "       tally-invoice --help | --version\n");
}

static int
on_list(const struct invoice_row *r, void *arg)
{
	char total[32];

	(void)arg;
	money_format(r->total, r->decimals, total);
	printf("%-20s %-12s %s %-6s %s %s%s%s\n", r->number ? r->number : "draft",
	    r->account, r->period, r->status, r->currency, total,
	    r->kind[0] == 'c' ? " credit note for " : "",
	    r->kind[0] == 'c' ? r->refers_number : "");
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "period", required_argument, NULL, 'p' },
		{ "account", required_argument, NULL, 'a' },
		{ "reseller", required_argument, NULL, 'r' },
		{ "reason", required_argument, NULL, 'R' },
		{ "date", required_argument, NULL, 'D' },
		{ "amount", required_argument, NULL, 'A' },
		{ "due", no_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *db = store_default_path(), *period = NULL, *account = NULL;
	const char *reseller = NULL, *reason = NULL, *date = NULL, *amount = NULL, *cmd;
	struct store *s;
	struct terr e;
	int ch, rc, nargs, due = 0;
	int32_t due_date = 0;
	money m = 0;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': db = optarg; break;
		case 'p': period = optarg; break;
		case 'a': account = optarg; break;
		case 'r': reseller = optarg; break;
		case 'R': reason = optarg; break;
		case 'D': date = optarg; break;
		case 'A': amount = optarg; break;
		case 'u': due = 1; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("tally-invoice %s\n", TALLY_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	cmd = argv[optind];
	nargs = argc - optind - 1;
	if (!(((strcmp(cmd, "close") == 0 || strcmp(cmd, "issue") == 0) && nargs == 0 &&
	    period && !reason && !date && !amount && !due) ||
	    ((strcmp(cmd, "close") == 0 || strcmp(cmd, "issue") == 0) && nargs == 0 &&
	    due && !period && !account && !reason && !amount) ||
	    (strcmp(cmd, "void") == 0 && nargs == 1 && reason && !amount && !period &&
	    !account && !reseller) ||
	    (strcmp(cmd, "credit") == 0 && nargs == 1 && reason && amount && !period &&
	    !account && !reseller) ||
	    (strcmp(cmd, "list") == 0 && nargs == 0 && !reason && !date && !amount && !due))) {
		usage(stderr);
		return 2;
	}
	/* fen at most: the invoice's currency is checked against it too */
	if (amount && (money_parse(amount, &m) != 0 || m <= 0 || m % 10000 != 0)) {
		fprintf(stderr, "%s: --amount %s: expected an amount greater than 0, at most 2 decimals\n", progname,
		    amount);
		return 2;
	}
	if (reason && (reason[0] == '\0' || strlen(reason) > 200)) {
		fprintf(stderr, "%s: --reason: give 1 to 200 bytes\n", progname);
		return 2;
	}
	if (period && !due && (strlen(period) != 7 ||
	    timefmt_parse("%Y-%m", period, &(struct civil){ 0 }) != 0)) {
		fprintf(stderr, "%s: --period %s: expected YYYY-MM\n", progname, period);
		return 2;
	}
	if (due && date) {
		struct civil c;

		if (strlen(date) != 10 || timefmt_parse("%Y-%m-%d", date, &c) != 0) {
			fprintf(stderr, "%s: --date %s: expected YYYY-MM-DD\n", progname, date);
			return 2;
		}
		due_date = c.year * 10000 + c.mon * 100 + c.day;
	}
	if (due)
		period = "the due periods";
	/* list only reads; close, issue, void and credit write */
	if ((s = store_open(db, strcmp(cmd, "list") == 0 ? STORE_READONLY : STORE_EXISTING,
	    &e)) == NULL) {
		fprintf(stderr, "%s: %s\n", progname, e.msg);
		return 1;
	}
	/* a name that is not in the store is an error, not an empty list */
	if (lookup_account(s, account, &e) != 0 || lookup_reseller(s, reseller, &e) != 0) {
		fprintf(stderr, "%s: %s\n", progname, e.msg);
		store_close(s);
		return 1;
	}
	if (strcmp(cmd, "close") == 0) {
		struct close_summary sum;

		rc = due ? invoice_close_due(s, due_date, reseller, &sum, &e) :
		    invoice_close(s, period, account, reseller, &sum, &e);
		if (rc == 0) {
			printf("closed %s: %d drafts with %lld calls, %d already issued\n", period,
			    sum.drafts, (long long)sum.calls, sum.kept);
			if (sum.unrated)
				fprintf(stderr, "%s: %lld unrated CDRs of %s are on no invoice: see "
				    "tally-report unrated\n", progname, (long long)sum.unrated, period);
		}
	} else if (strcmp(cmd, "issue") == 0) {
		char first[64], last[64];
		int n;

		rc = due ? invoice_issue_due(s, due_date, reseller, &n, first, last, &e) :
		    invoice_issue(s, period, account, reseller, &n, first, last, &e);
		if (rc == 0) {
			if (n == 0)
				printf("issued nothing: no drafts of %s\n", period);
			else
				printf("issued %d invoice%s: %s%s%s\n", n, n == 1 ? "" : "s", first,
				    n > 1 ? " to " : "", n > 1 ? last : "");
		}
	} else if (strcmp(cmd, "void") == 0 || strcmp(cmd, "credit") == 0) {
		char credit[64];

		rc = cmd[0] == 'v' ?
		    invoice_void(s, argv[optind + 1], reason, date, credit, &e) :
		    invoice_credit(s, argv[optind + 1], m, reason, date, credit, &e);
		if (rc == 0)
			printf("credit note %s for %s%s\n", credit, argv[optind + 1],
			    cmd[0] == 'v' ? " (void)" : "");
	} else {
		struct invoice_filter f = { .period = period, .account = account,
			.issuer = reseller };

		rc = store_each_invoice(s, &f, on_list, NULL, &e);
	}
	store_close(s);
	if (rc != 0) {
		fprintf(stderr, "%s: %s%s\n", progname, e.msg, rc < 0 ? "; nothing was changed" :
		    "");
		return 1;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "%s: error writing standard output\n", progname);
		return 1;
	}
	return 0;
}
