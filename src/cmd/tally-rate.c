/*
 * tally-rate - rate every CDR that needs it.  See tally-rate(1).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "tally/lookup.h"
#include "tally/ratejob.h"
#include "tally/store.h"
#include "tally/timefmt.h"

static const char *progname = "tally-rate";

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: tally-rate [--db FILE] [--period YYYY-MM] [--account ID]\n"
	    "       tally-rate --help | --version\n");
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "period", required_argument, NULL, 'p' },
		{ "account", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *db = store_default_path(), *period = NULL, *account = NULL;
	struct rate_summary sum;
	struct store *s;
	struct civil c;
	struct terr e;
	int ch;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': db = optarg; break;
		case 'p': period = optarg; break;
		case 'a': account = optarg; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("tally-rate %s\n", TALLY_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (period && (strlen(period) != 7 || timefmt_parse("%Y-%m", period, &c) != 0)) {
		fprintf(stderr, "%s: --period %s: expected YYYY-MM\n", progname, period);
		return 2;
	}
	if ((s = store_open(db, STORE_EXISTING, &e)) == NULL) {
		fprintf(stderr, "%s: %s\n", progname, e.msg);
		return 1;
	}
	/* an account not in the store is an error, not "rated 0 CDRs" */
	if (lookup_account(s, account, &e) != 0) {
		fprintf(stderr, "%s: %s; nothing was changed\n", progname, e.msg);
		store_close(s);
		return 1;
	}
	if (rate_run(s, period, account, &sum, &e) != 0) {
		fprintf(stderr, "%s: %s; nothing was changed\n", progname, e.msg);
		store_close(s);
		return 1;
	}
	store_close(s);
	printf("rated %llu CDRs in %llu periods: %llu rated, %llu free, %llu unrated\n",
	    (unsigned long long)sum.cdrs, (unsigned long long)sum.groups,
	    (unsigned long long)sum.rated, (unsigned long long)sum.free,
	    (unsigned long long)sum.unrated);
	if (sum.windows)
		printf("bundle windows: %llu (see tally-report bundles)\n",
		    (unsigned long long)sum.windows);
	if (sum.unrated)
		fprintf(stderr, "%s: %llu CDRs could not be rated: see tally-report unrated\n",
		    progname, (unsigned long long)sum.unrated);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "%s: error writing standard output\n", progname);
		return 1;
	}
	return 0;
}
