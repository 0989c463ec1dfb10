/*
 * tally-tariff - validate, load, list and compare tariff packages.
 * See tally-tariff(1) and tally-tariff(5).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tally/lookup.h"
#include "tally/ratejob.h"
#include "tally/store.h"
#include "tally/tariff.h"

static const char *progname = "tally-tariff";

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: tally-tariff [--db FILE] validate DIR\n"
	    "       tally-tariff [--db FILE] load DIR\n"
	    "       tally-tariff [--db FILE] list [--reseller R]\n"
	    "       tally-tariff [--db FILE] diff VERSION VERSION\n"
	    "       tally-tariff --help | --version\n");
}

/* Read and parse a package directory; every problem on stderr. */
static struct tariff *
parse_dir(const char *dir, struct tariff_pkg *p)
{
	struct tariff_errors errs;
	struct tariff *t;
	struct terr e;

	if (tariff_pkg_read_dir(dir, p, &e) != 0) {
		fprintf(stderr, "%s: %s\n", progname, e.msg);
		return NULL;
	}
	if ((t = tariff_parse(p, &errs)) == NULL) {
		for (int i = 0; i < errs.n; i++)
			fprintf(stderr, "%s/%s\n", dir, errs.msg[i]);
		if (errs.more)
			fprintf(stderr, "%s: ... and %d more\n", dir, errs.more);
		fprintf(stderr, "%s: %s: %d problem%s\n", progname, dir, errs.n + errs.more,
		    errs.n + errs.more == 1 ? "" : "s");
		tariff_errors_release(&errs);
		tariff_pkg_release(p);
	}
	return t;
}

static int
cmd_validate(const char *dir)
{
	struct tariff_pkg p;
	struct tariff *t = parse_dir(dir, &p);

	if (t == NULL)
		return 1;
	printf("%s: valid: reseller %s, %s, %d classes, %d rates, %d plans, %d accounts",
	    dir, t->reseller, t->currency, t->nclasses, t->nrates, t->nplans, t->naccounts);
	if (t->nbundles || t->nsubs)
		printf(", %d bundles, %d subscriptions", t->nbundles, t->nsubs);
	putchar('\n');
	tariff_free(t);
	tariff_pkg_release(&p);
	return 0;
}

static int
first_invoice(const struct invoice_row *r, void *arg)
{
	snprintf(arg, 64, "%s, period %s", r->number ? r->number : "?", r->period);
	return 1;
}

/*
 * An account's periods are cut by its billing day in its time zone, and an
 * issued invoice charged periods cut that way: a version that moved either
 * would re-cut them under the invoice (calls of one invoiced period falling
 * in two others), so it is refused for an account with an issued invoice.
 * Returns the number of such accounts, each said on stderr; -1.
 */
static int
periods_kept(struct store *s, const struct tariff *old, const struct tariff *t,
    const char *dir, struct terr *e)
{
	int moved = 0;

	for (int i = 0; i < t->naccounts; i++) {
		const struct taccount *a = &t->accounts[i], *o;
		struct invoice_filter f = { .account = a->id, .status = "issued",
			.kind = "invoice" };
		char inv[64];
		int k = tariff_account(old, a->id), rc;

		if (k < 0)
			continue;
		o = &old->accounts[k];
		if (o->billing_day == a->billing_day && strcmp(o->tzname, a->tzname) == 0)
			continue;
		if ((rc = store_each_invoice(s, &f, first_invoice, inv, e)) < 0)
			return -1;
		if (rc == 0)
			continue;	/* never invoiced: its periods may be cut anew */
		fprintf(stderr, "%s/accounts.csv:%d:%s: account %s: billing day %d in %s"
		    " would become %d in %s, re-cutting periods already invoiced (%s):"
		    " an invoiced account keeps both\n", dir, a->line,
		    o->billing_day != a->billing_day ? "billing_day" : "timezone", a->id,
		    o->billing_day, o->tzname, a->billing_day, a->tzname, inv);
		moved++;
	}
	return moved;
}

/* Exit 1: the package is invalid or refused; 2: the store failed. */
/* The reseller's current version, if any, must keep its minimum rows, and
 * the billing day and zone of every account it has invoiced: 0, 1 refused
 * (said), -1 the store failed. */
static int
check_history(struct store *s, const struct tariff *t, const char *dir, struct terr *e)
{
	int64_t *ids = NULL;
	int n = 0, missing = 0, moved = 0;

	if (store_tariff_current(s, &ids, &n, e) != 0)
		return -1;
	for (int i = 0; i < n && missing == 0 && moved == 0; i++) {
		struct tariff *old = tariff_load_version(s, ids[i], e);
		struct tariff_errors errs = { 0 };

		if (old == NULL) {
			free(ids);
			return -1;
		}
		if (strcmp(old->reseller, t->reseller) == 0 &&
		    (missing = tariff_minimums_kept(old, t, &errs)) > 0) {
			for (int k = 0; k < errs.n; k++)
				fprintf(stderr, "%s/%s\n", dir, errs.msg[k]);
			terr_set(e, "%s: %d minimum row%s of version %lld missing; nothing loaded",
			    dir, missing, missing == 1 ? "" : "s", (long long)ids[i]);
		} else if (strcmp(old->reseller, t->reseller) == 0 &&
		    (moved = periods_kept(s, old, t, dir, e)) > 0) {
			terr_set(e, "%s: %d invoiced account%s would change billing day or time"
			    " zone; nothing loaded", dir, moved, moved == 1 ? "" : "s");
		}
		tariff_errors_release(&errs);
		tariff_free(old);
		if (moved < 0)
			break;
	}
	free(ids);
	return moved < 0 ? -1 : missing || moved ? 1 : 0;
}

static int
cmd_load(const char *db, const char *dir)
{
	struct tariff_pkg p;
	struct tariff *t = parse_dir(dir, &p);
	struct store *s = NULL;
	struct terr e;
	char sha[65], owner[128];
	int64_t id;
	int found = -1, rc = 2;

	if (t == NULL)
		return 1;	/* invalid: the store is not even opened */
	if ((s = store_open(db, STORE_CREATE, &e)) == NULL)
		goto out;
	tariff_pkg_hash(&p, sha);
	if ((found = store_tariff_find(s, t->reseller, sha, &id, &e)) != 0) {
		if (found > 0) {
			printf("%s: already loaded as version %lld\n", dir, (long long)id);
			rc = 0;
		}
		goto out;
	}
	if (store_begin(s, &e) != 0)
		goto out;
	/* A reseller's package touches only that reseller's accounts. */
	for (int i = 0; i < t->naccounts; i++) {
		int own = store_account_owner(s, t->accounts[i].id, owner, sizeof owner, &e);

		if (own < 0)
			goto fail;
		if (own > 0 && strcmp(owner, t->reseller) != 0) {
			terr_set(&e, "%s/accounts.csv:%d:account: account %s belongs to "
			    "reseller %s, not %s; nothing loaded", dir, t->accounts[i].line,
			    t->accounts[i].id, owner, t->reseller);
			rc = 1;
			goto fail;
		}
	}
	if ((found = check_history(s, t, dir, &e)) != 0) {
		rc = found > 0 ? 1 : 2;
		goto fail;
	}
	if (store_tariff_add(s, t, sha, dir, &p, &id, &e) != 0 ||
	    store_bump_generation(s, &e) != 0)
		goto fail;
	for (int i = 0; i < t->naccounts; i++)
		if (store_account_claim(s, t->accounts[i].id, t->reseller, id, &e) != 0)
			goto fail;
	if (store_commit(s, &e) != 0)
		goto fail;
	printf("version %lld: %s, sha256 %.12s, %d rates, %d accounts\n", (long long)id,
	    t->reseller, sha, t->nrates, t->naccounts);
	rc = 0;
	goto out;
fail:
	store_rollback(s);
out:
	if (rc != 0)
		fprintf(stderr, "%s: %s\n", progname, e.msg);
	store_close(s);
	tariff_free(t);
	tariff_pkg_release(&p);
	return rc;
}

static int
list_row(const struct version_row *v, void *arg)
{
	char when[32];
	time_t t = (time_t)v->loaded_at;
	struct tm tm;

	(void)arg;
	gmtime_r(&t, &tm);
	strftime(when, sizeof when, "%Y-%m-%d %H:%M:%SZ", &tm);
	printf("%6lld  %-16s %-4s %s  %.12s  %8lld rates %6lld accounts%s\n",
	    (long long)v->id, v->reseller, v->currency, when, v->sha256,
	    (long long)v->nrates, (long long)v->naccounts, v->current ? "  current" : "");
	return 0;
}

static void
diff_row(char sign, const char *file, const char *row, void *arg)
{
	(void)arg;
	printf("%c %s: %s\n", sign, file, row);
}

static int
cmd_diff(struct store *s, const char *v1, const char *v2)
{
	struct tariff_pkg a, b;
	struct terr e;
	char *end1, *end2;
	long long x, y;
	int n, range;

	errno = 0;
	x = strtoll(v1, &end1, 10);
	range = errno;
	y = strtoll(v2, &end2, 10);
	if (*v1 == '\0' || *v2 == '\0' || *end1 || *end2 || range || errno || x <= 0 ||
	    y <= 0) {
		fprintf(stderr, "%s: diff %s %s: takes two version numbers, 1 to %lld\n",
		    progname, v1, v2, (long long)INT64_MAX);
		return 2;
	}
	if (store_tariff_files(s, x, &a, &e) != 0) {
		fprintf(stderr, "%s: %s\n", progname, e.msg);
		return 2;
	}
	if (store_tariff_files(s, y, &b, &e) != 0) {
		fprintf(stderr, "%s: %s\n", progname, e.msg);
		tariff_pkg_release(&a);
		return 2;
	}
	n = tariff_pkg_diff(&a, &b, diff_row, NULL);
	tariff_pkg_release(&a);
	tariff_pkg_release(&b);
	return n ? 1 : 0;
}

/* Every program checks that its output really reached its destination. */
static int
finish(int rc)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "%s: error writing standard output\n", progname);
		return 2;
	}
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "reseller", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *db = store_default_path(), *reseller = NULL, *cmd;
	struct store *s = NULL;
	struct terr e;
	int ch, rc, nargs;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': db = optarg; break;
		case 'r': reseller = optarg; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("tally-tariff %s\n", TALLY_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind == argc) {
		usage(stderr);
		return 2;
	}
	cmd = argv[optind];
	nargs = argc - optind - 1;
	if (!((strcmp(cmd, "validate") == 0 && nargs == 1) ||
	    (strcmp(cmd, "load") == 0 && nargs == 1) ||
	    (strcmp(cmd, "list") == 0 && nargs == 0) ||
	    (strcmp(cmd, "diff") == 0 && nargs == 2)) ||
	    (reseller && strcmp(cmd, "list") != 0)) {
		usage(stderr);
		return 2;
	}
	if (strcmp(cmd, "validate") == 0)
		return cmd_validate(argv[optind + 1]);
	if (strcmp(cmd, "load") == 0)
		return finish(cmd_load(db, argv[optind + 1]));
	if ((s = store_open(db, STORE_READONLY, &e)) == NULL) {	/* list, diff */
		fprintf(stderr, "%s: %s\n", progname, e.msg);
		return 2;
	}
	if (strcmp(cmd, "diff") == 0)
		rc = cmd_diff(s, argv[optind + 1], argv[optind + 2]);
	else if (lookup_reseller(s, reseller, &e) != 0 ||
	    store_each_version(s, reseller, list_row, NULL, &e) < 0) {
		fprintf(stderr, "%s: %s\n", progname, e.msg);
		rc = 2;
	} else
		rc = 0;
	store_close(s);
	return finish(rc);
}
