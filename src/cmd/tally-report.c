/*
 * tally-report - reports over the tally store.  See tally-report(1).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tally/lookup.h"
#include "tally/report.h"
#include "tally/store.h"
#include "tally/xlsx.h"
#include "tally/timefmt.h"

static const char *progname = "tally-report";

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: tally-report [--db FILE] reconcile [--format FMT]\n"
	    "       tally-report [--db FILE] rejects [--batch ID] [--format FMT]\n"
	    "       tally-report [--db FILE] usage --period YYYY-MM [--account ID]\n"
	    "                    [--reseller R] [--format FMT]\n"
	    "       tally-report [--db FILE] bundles --period YYYY-MM [--account ID]\n"
	    "                    [--reseller R] [--format FMT]\n"
	    "       tally-report [--db FILE] unrated [--period YYYY-MM] [--format FMT]\n"
	    "       tally-report [--db FILE] balances [--below AMOUNT] [--reseller R]\n"
	    "                    [--format FMT]\n"
	    "       tally-report [--db FILE] revenue --period YYYY-MM [--reseller R]\n"
	    "                    [--format FMT]\n"
	    "       tally-report [--db FILE] top --period YYYY-MM [--reseller R]\n"
	    "                    [--limit N] [--format FMT]\n"
	    "       tally-report [--db FILE] feed [--format FMT]\n"
	    "       tally-report [--db FILE] cdrs [--batch ID] [--period YYYY-MM]\n"
	    "                    [--account ID] [--format FMT]\n"
	    "       tally-report [--db FILE] ratings [--batch ID] [--period YYYY-MM]\n"
	    "                    [--account ID] [--format FMT]\n"
	    "       tally-report --help | --version\n"
	    "FMT: text, csv, json, or xlsx with --out FILE\n");
}

/* Which options go with which report. */
static int
check_args(const char *name, long long batch,
    const char *period, const char *account, const char *reseller)
{
	static const char *const names[] = { "reconcile", "rejects", "usage", "bundles",
		"unrated", "balances", "revenue", "top", "feed", "cdrs", "ratings" };
	int by_account = strcmp(name, "usage") == 0 || strcmp(name, "bundles") == 0;
	int by_reseller = strcmp(name, "revenue") == 0 || strcmp(name, "top") == 0;
	int audit = strcmp(name, "cdrs") == 0 || strcmp(name, "ratings") == 0;
	struct civil c;
	int known = 0;

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		known |= strcmp(name, names[i]) == 0;
	if (!known) {
		fprintf(stderr, "%s: unknown report \"%s\"; expected reconcile, rejects, "
		    "usage, bundles, unrated, balances, revenue, top, feed, cdrs or ratings\n",
		    progname, name);
		return -1;
	}
	if (batch != 0 && strcmp(name, "rejects") != 0 && !audit) {
		fprintf(stderr, "%s: --batch goes with rejects, cdrs and ratings\n", progname);
		return -1;
	}
	if (audit) {
		/* any of --batch, --period, --account, or none: every CDR */
		if (reseller) {
			fprintf(stderr, "%s: %s takes --batch, --period, --account and --format\n",
			    progname, name);
			return -1;
		}
		by_account = 1;	/* the same period check below */
	} else if (strcmp(name, "balances") == 0) {
		if (account || period) {
			fprintf(stderr, "%s: balances takes --below, --reseller and --format\n",
			    progname);
			return -1;
		}
		return 0;
	}
	if (by_reseller) {
		if (account) {
			fprintf(stderr, "%s: %s takes --period, --reseller and --format\n",
			    progname, name);
			return -1;
		}
		by_account = 1;	/* the same period and format rules */
	}
	if ((account || reseller) && !by_account) {
		fprintf(stderr, "%s: --account and --reseller go with usage and bundles"
		    " (--account also with cdrs and ratings, --reseller with balances,"
		    " revenue and top)\n", progname);
		return -1;
	}
	if (by_account && period == NULL && !audit) {
		fprintf(stderr, "%s: %s needs --period YYYY-MM\n", progname, name);
		return -1;
	}
	if (period && (strlen(period) != 7 || timefmt_parse("%Y-%m", period, &c) != 0)) {
		fprintf(stderr, "%s: --period %s: expected YYYY-MM\n", progname, period);
		return -1;
	}
	if (period && !by_account && strcmp(name, "unrated") != 0) {
		fprintf(stderr, "%s: --period goes with usage, bundles, unrated, cdrs and"
		    " ratings\n", progname);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "format", required_argument, NULL, 'f' },
		{ "batch", required_argument, NULL, 'b' },
		{ "period", required_argument, NULL, 'p' },
		{ "account", required_argument, NULL, 'a' },
		{ "reseller", required_argument, NULL, 'r' },
		{ "below", required_argument, NULL, 'B' },
		{ "limit", required_argument, NULL, 'l' },
		{ "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *db = store_default_path(), *name;
	const char *period = NULL, *account = NULL, *reseller = NULL;
	enum report_format fmt = REPORT_TEXT;
	long long batch = 0;
	money below = 0;
	int has_below = 0, xlsx = 0, plain_json = 0;
	long limit = 0;
	const char *outpath = NULL;
	FILE *out = stdout;
	struct store *s;
	struct audit_filter audit;
	struct terr e;
	char *end;
	int ch, rc;

	/* Options may come before or after the report name. */
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': db = optarg; break;
		case 'f':
			/* XLSX is the CSV form laid into a sheet (xlsx.h). */
			if ((xlsx = strcmp(optarg, "xlsx") == 0))
				fmt = REPORT_CSV;
			else if (report_format_parse(optarg, &fmt) != 0) {
				fprintf(stderr, "%s: --format %s: expected text, csv, json or xlsx\n",
				    progname, optarg);
				return 2;
			}
			break;
		case 'b':
			errno = 0;
			batch = strtoll(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || errno != 0 || batch < 1) {
				fprintf(stderr, "%s: --batch %s: expected 1 to %lld\n",
				    progname, optarg, (long long)INT64_MAX);
				return 2;
			}
			break;
		case 'l':
			errno = 0;
			limit = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || errno != 0 || limit < 1 ||
			    limit > 100000) {
				fprintf(stderr, "%s: --limit %s: expected 1 to 100000\n", progname,
				    optarg);
				return 2;
			}
			break;
		case 'o': outpath = optarg; break;
		case 'p': period = optarg; break;
		case 'a': account = optarg; break;
		case 'r': reseller = optarg; break;
		case 'B':
			if (money_parse(optarg, &below) != 0) {
				fprintf(stderr, "%s: --below %s: expected an amount\n", progname,
				    optarg);
				return 2;
			}
			has_below = 1;
			break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("tally-report %s\n", TALLY_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	name = argv[optind];
	if (check_args(name, batch, period, account, reseller) != 0)
		return 2;
	if (has_below && strcmp(name, "balances") != 0) {
		fprintf(stderr, "%s: --below goes with balances\n", progname);
		return 2;
	}
	if (limit && strcmp(name, "top") != 0) {
		fprintf(stderr, "%s: --limit goes with top\n", progname);
		return 2;
	}
	if (xlsx != (outpath != NULL)) {
		fprintf(stderr, "%s: --format xlsx needs --out FILE, and --out goes with xlsx\n",
		    progname);
		return 2;
	}
	if ((s = store_open(db, STORE_READONLY, &e)) == NULL) {
		fprintf(stderr, "%s: %s\n", progname, e.msg);
		return 1;
	}
	/* a name that is not in the store is an error, not an empty report */
	if (lookup_batch(s, batch, &e) != 0 || lookup_reseller(s, reseller, &e) != 0 ||
	    (strcmp(name, "cdrs") == 0 || strcmp(name, "ratings") == 0 ?
	    lookup_payer(s, account, &e) : lookup_account(s, account, &e)) != 0) {
		fprintf(stderr, "%s: %s\n", progname, e.msg);
		store_close(s);
		return 1;
	}
	audit.batch = batch, audit.period = period, audit.payer = account;
	/* reconcile, rejects and unrated write JSON from their CSV form */
	plain_json = fmt == REPORT_JSON && (strcmp(name, "reconcile") == 0 ||
	    strcmp(name, "rejects") == 0 || strcmp(name, "unrated") == 0);
	if (plain_json)
		fmt = REPORT_CSV;
	if ((xlsx || plain_json) && (out = tmpfile()) == NULL) {
		fprintf(stderr, "%s: temporary file: %s\n", progname, strerror(errno));
		store_close(s);
		return 1;
	}
	if (strcmp(name, "reconcile") == 0)
		rc = report_reconcile(s, out, fmt, &e);
	else if (strcmp(name, "rejects") == 0)
		rc = report_rejects(s, out, fmt, batch, &e);
	else if (strcmp(name, "usage") == 0)
		rc = report_usage(s, out, fmt, period, account, reseller, &e);
	else if (strcmp(name, "bundles") == 0)
		rc = report_bundles(s, out, fmt, period, account, reseller, &e);
	else if (strcmp(name, "balances") == 0)
		rc = report_balances(s, out, fmt, has_below ? &below : NULL, reseller, &e);
	else if (strcmp(name, "revenue") == 0)
		rc = report_revenue(s, out, fmt, period, reseller, &e);
	else if (strcmp(name, "feed") == 0)
		rc = report_feed(s, out, fmt, &e);
	else if (strcmp(name, "top") == 0)
		rc = report_top(s, out, fmt, period, reseller, limit ? (int)limit : 20, &e);
	else if (strcmp(name, "cdrs") == 0)
		rc = report_cdrs(s, out, fmt, &audit, &e);
	else if (strcmp(name, "ratings") == 0)
		rc = report_ratings(s, out, fmt, &audit, &e);
	else
		rc = report_unrated(s, out, fmt, period, &e);
	store_close(s);
	if (rc == 0 && (xlsx || plain_json)) {
		if (fflush(out) != 0 || ferror(out)) {
			snprintf(e.msg, sizeof e.msg, "temporary file: write error");
			rc = -1;
		} else {
			rewind(out);
			rc = xlsx ? xlsx_from_csv(out, name, outpath, &e) :
			    report_csv_to_json(out, name, stdout, &e);
		}
	}
	if (out != stdout)
		fclose(out);
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
