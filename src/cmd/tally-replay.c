/*
 * tally-replay - re-rate a batch as it was rated, or with another tariff
 * version, and show every difference.  See tally-replay(1).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tally/lookup.h"
#include "tally/replay.h"
#include "tally/report.h"
#include "tally/store.h"

static const char *progname = "tally-replay";

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: tally-replay [--db FILE] --batch ID [--tariff VERSION] [--format text|csv]\n"
	    "       tally-replay --help | --version\n");
}

/* An id: 1 to INT64_MAX, all digits; one out of range is not cut to fit. */
static int
number(const char *opt, const char *s, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < 1) {
		fprintf(stderr, "%s: %s %s: expected 1 to %lld\n", progname, opt, s,
		    (long long)INT64_MAX);
		return -1;
	}
	*out = v;
	return 0;
}

static void
print_diff(const struct replay_diff *d, void *arg)
{
	const enum report_format *fmt = arg;

	if (*fmt == REPORT_CSV) {
		printf("%lld,", (long long)d->cdr);
		report_csv_field(stdout, d->record_key, strlen(d->record_key));
		printf(",%s,", d->field);
		report_csv_field(stdout, d->stored, strlen(d->stored));
		putchar(',');
		report_csv_field(stdout, d->replayed, strlen(d->replayed));
		putchar('\n');
	} else if (d->cdr == 0) {	/* a bundle window */
		printf("%s: %s: stored %s, replayed %s\n", d->record_key, d->field,
		    d->stored, d->replayed);
	} else {
		printf("cdr %lld (%s): %s: stored %s, replayed %s\n", (long long)d->cdr,
		    d->record_key, d->field, d->stored[0] ? d->stored : "(none)",
		    d->replayed[0] ? d->replayed : "(none)");
	}
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "batch", required_argument, NULL, 'b' },
		{ "tariff", required_argument, NULL, 't' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *db = store_default_path();
	enum report_format fmt = REPORT_TEXT;
	int64_t batch = 0, version = 0;
	struct replay_summary sum;
	struct store *s;
	struct terr e;
	int ch;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': db = optarg; break;
		case 'b': if (number("--batch", optarg, &batch) != 0) return 2; break;
		case 't': if (number("--tariff", optarg, &version) != 0) return 2; break;
		case 'f':
			if (report_format_parse(optarg, &fmt) != 0 || fmt == REPORT_JSON) {
				fprintf(stderr, "%s: --format %s: expected text or csv\n",
				    progname, optarg);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("tally-replay %s\n", TALLY_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || batch == 0) {
		usage(stderr);
		return 2;
	}
	if ((s = store_open(db, STORE_READONLY, &e)) == NULL) {
		fprintf(stderr, "%s: %s\n", progname, e.msg);
		return 2;
	}
	/* An error, not "0 CDRs replayed, 0 differ"; 2, as 1 means they differ. */
	if (lookup_batch(s, batch, &e) != 0) {
		fprintf(stderr, "%s: %s\n", progname, e.msg);
		store_close(s);
		return 2;
	}
	if (fmt == REPORT_CSV)
		puts("cdr,record_key,field,stored,replayed");
	if (replay_batch(s, batch, version, print_diff, &fmt, &sum, &e) != 0) {
		fprintf(stderr, "%s: %s\n", progname, e.msg);
		store_close(s);
		return 2;
	}
	store_close(s);
	fprintf(stderr, "%s: batch %lld: %llu CDRs replayed, %llu differ", progname,
	    (long long)batch, (unsigned long long)sum.cdrs,
	    (unsigned long long)sum.differing);
	if (sum.skipped)
		fprintf(stderr, " (%llu not this reseller's, left out)",
		    (unsigned long long)sum.skipped);
	if (sum.windows)
		fprintf(stderr, "; %llu bundle windows, %llu payers' differ",
		    (unsigned long long)sum.windows,
		    (unsigned long long)sum.windows_differing);
	fputc('\n', stderr);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "%s: error writing standard output\n", progname);
		return 2;
	}
	return sum.differing || sum.windows_differing ? 1 : 0;
}
