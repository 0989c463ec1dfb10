/*
 * tally-report - reports over the tally store.  See tally-report(1).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tally/report.h"
#include "tally/store.h"

static const char *progname = "tally-report";

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: tally-report [--db FILE] reconcile [--format text|csv]\n"
	    "       tally-report [--db FILE] rejects [--batch ID] [--format text|csv]\n"
	    "       tally-report --help | --version\n");
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "format", required_argument, NULL, 'f' },
		{ "batch", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *db = store_default_path(), *name;
	enum report_format fmt = REPORT_TEXT;
	long long batch = 0;
	struct store *s;
	struct terr e;
	char *end;
	int ch, rc;

	/* Options may come before or after the report name. */
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': db = optarg; break;
		case 'f':
			if (report_format_parse(optarg, &fmt) != 0) {
				fprintf(stderr, "%s: --format %s: expected text or csv\n",
				    progname, optarg);
				return 2;
			}
			break;
		case 'b':
			batch = strtoll(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || batch <= 0) {
				fprintf(stderr, "%s: --batch %s: expected a batch number\n",
				    progname, optarg);
				return 2;
			}
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
	if (strcmp(name, "reconcile") != 0 && strcmp(name, "rejects") != 0) {
		fprintf(stderr, "%s: unknown report \"%s\"; expected reconcile or "
		    "rejects\n", progname, name);
		return 2;
	}
	if (batch != 0 && strcmp(name, "rejects") != 0) {
		fprintf(stderr, "%s: --batch goes with rejects\n", progname);
		return 2;
	}
	if ((s = store_open(db, STORE_EXISTING, &e)) == NULL) {
		fprintf(stderr, "%s: %s\n", progname, e.msg);
		return 1;
	}
	if (strcmp(name, "reconcile") == 0)
		rc = report_reconcile(s, stdout, fmt, &e);
	else
		rc = report_rejects(s, stdout, fmt, batch, &e);
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
