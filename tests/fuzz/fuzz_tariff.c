/*
 * fuzz_tariff.c - a tariff package folder through tariff_pkg_read_dir() and
 * tariff_parse(), as tally-tariff validate and load take it.
 *
 * The input is a whole package, its files one after another, each after a
 * line "==> NAME <==" (what head(1) prints between files; tests/fuzz/seeds
 * makes the seeds so from tariffs/).  Only the package's own file names are
 * written, into a folder emptied before each input; text before the first
 * such line is ignored.  Then:
 *
 *   - a package that does not parse comes back as errors, never a crash;
 *   - one that parses holds what its lookups promise: each account and
 *     numbers.csv number is found again, a deck lookup gives a rate whose
 *     prefix starts the number, a package keeps its own minimums and has no
 *     difference from itself.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tally/tariff.h"
#include "fuzz.h"

#define MARK_OPEN "==> "
#define MARK_CLOSE " <=="

static char pkg_dir[512];

/* Write the package's file `file` (none when -1). */
static void
write_file(int file, const char *body, const char *end)
{
	char path[600];

	if (file < 0)
		return;
	snprintf(path, sizeof path, "%s/%s", pkg_dir, tariff_file_name(file));
	fuzz_write(path, body, (size_t)(end - body));
}

/* The file a line "==> NAME <==" starts, or -1. */
static int
marked_file(const char *line, size_t len)
{
	size_t head = strlen(MARK_OPEN), tail = strlen(MARK_CLOSE);

	if (len <= head + tail || memcmp(line, MARK_OPEN, head) != 0 ||
	    memcmp(line + len - tail, MARK_CLOSE, tail) != 0)
		return -1;
	for (int i = 0; i < TF_NFILES; i++)
		if (strlen(tariff_file_name(i)) == len - head - tail &&
		    memcmp(tariff_file_name(i), line + head, len - head - tail) == 0)
			return i;
	return -1;
}

/* Each file of the package out of the input; the others are removed. */
static void
write_package(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *body = p;
	int file = -1;
	char path[600];

	for (int i = 0; i < TF_NFILES; i++) {
		snprintf(path, sizeof path, "%s/%s", pkg_dir, tariff_file_name(i));
		unlink(path);
	}
	while (size > 0) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		int mark = marked_file(p, (size_t)((nl ? nl : end) - p));

		if (mark >= 0) {
			write_file(file, body, p);	/* up to the mark's line */
			file = mark;
			body = nl ? nl + 1 : end;
		}
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	write_file(file, body, end);
}

static void
count_diff(char sign, const char *file, const char *row, void *arg)
{
	(void)sign, (void)file, (void)row;
	++*(int *)arg;
}

/* What a parsed package's lookups promise. */
static void
check_lookups(const struct tariff_pkg *p, const struct tariff *t)
{
	struct tariff_errors errs = { 0 };
	int ndiff = 0, n;

	for (int i = 0; i < t->naccounts; i++)
		if (tariff_account(t, t->accounts[i].id) != i)
			fuzz_die("account %s is not found at its place", t->accounts[i].id);
	for (int i = 0; i < t->nnumbers; i++)
		if (tariff_number_owner(t, t->numbers[i].number) != t->numbers[i].account)
			fuzz_die("number %s is not owned by its account", t->numbers[i].number);
	for (int i = 0; i < t->nrates; i++) {
		const struct rate *r = &t->rates[i];
		int hit = tariff_deck_lookup(t, r->deck, r->prefix, r->from);

		if (hit >= t->nrates || (hit >= 0 && strncmp(t->rates[hit].prefix, r->prefix,
		    strlen(t->rates[hit].prefix)) != 0))
			fuzz_die("deck lookup of %s gave rate %d", r->prefix, hit);
		tariff_classify(t, CDR_VOICE, r->prefix, r->prefix);
		tariff_classify(t, CDR_SMS, "", r->prefix);
	}
	for (int minute = 0; minute < 1440; minute += 97)
		tariff_band_at(t, 20261121, minute % 7, minute);
	for (int i = 0; i < t->naccounts; i++) {
		int first;

		tariff_account_tax_rate(t, i);
		tariff_holdings(t, i, &first);
		tariff_minimums(t, i, &first);
		tariff_rentals(t, i, &first);
		tariff_subscriptions(t, i, &first);
	}
	if ((n = tariff_minimums_kept(t, t, &errs)) != 0)
		fuzz_die("a package misses %d of its own minimum rows", n);
	tariff_errors_release(&errs);
	if (tariff_pkg_diff(p, p, count_diff, &ndiff) != 0 || ndiff != 0)
		fuzz_die("a package differs from itself in %d rows", ndiff);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tariff_pkg p;
	struct tariff_errors errs;
	struct tariff *t;
	struct terr e;

	if (pkg_dir[0] == '\0') {
		fuzz_path(pkg_dir, sizeof pkg_dir, "package");
		if (mkdir(pkg_dir, 0700) != 0)
			abort();
	}
	write_package(data, size);
	e.msg[0] = '\0';
	if (tariff_pkg_read_dir(pkg_dir, &p, &e) != 0) {
		if (e.msg[0] == '\0')
			fuzz_die("tariff_pkg_read_dir failed without a message");
		return 0;
	}
	if ((t = tariff_parse(&p, &errs)) == NULL) {
		if (errs.n == 0)
			fuzz_die("tariff_parse failed without an error");
	} else {
		if (errs.n != 0)
			fuzz_die("tariff_parse succeeded with %d errors", errs.n);
		check_lookups(&p, t);
		tariff_free(t);
	}
	tariff_errors_release(&errs);
	tariff_pkg_release(&p);
	return 0;
}
