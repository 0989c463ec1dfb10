/*
 * tally-export - issued invoices and credit notes as PDF, XLSX, CSV or
 * JSON.  See tally-export(1).
 *
 * Many documents are shared among worker processes (one per core): each
 * opens its own store connection and writes whole files, so the output
 * does not depend on how the work was split.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tally/invdoc.h"
#include "tally/lookup.h"
#include "tally/pdf.h"
#include "tally/store.h"
#include "tally/timefmt.h"
#include "tally/xlsx.h"

static const char *progname = "tally-export";

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: tally-export [--db FILE] --invoice NUMBER --format pdf|xlsx|csv|json\n"
	    "                    [--out DIR]\n"
	    "       tally-export [--db FILE] --period YYYY-MM [--account ID] [--reseller NAME]\n"
	    "                    --format pdf|xlsx|csv|json --out DIR [--skip-existing]\n"
	    "                    [--jobs N]\n"
	    "       tally-export [--db FILE] --all [--reseller NAME] --format pdf|xlsx|csv|json\n"
	    "                    --out DIR [--skip-existing] [--jobs N]\n"
	    "       tally-export --help | --version\n");
}

enum fmt { F_PDF, F_XLSX, F_CSV, F_JSON };
static const char *const exts[] = { "pdf", "xlsx", "csv", "json" };

struct ids {
	int64_t *v;
	size_t n, cap;
};

static int
collect(const struct invoice_row *r, void *arg)
{
	struct ids *ids = arg;

	if (r->number == NULL || *r->number == '\0')
		return 0;	/* a draft: nothing to send */
	if (ids->n == ids->cap) {
		size_t cap = ids->cap ? ids->cap * 2 : 256;
		int64_t *v = realloc(ids->v, cap * sizeof *v);

		if (v == NULL)
			return -1;
		ids->v = v, ids->cap = cap;
	}
	ids->v[ids->n++] = r->id;
	return 0;
}

/* mkdir -p: the folder and its missing parents. */
static int
make_dirs(const char *dir)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0777) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(path, 0777) != 0 && errno != EEXIST ? -1 : 0;
}

struct job {
	struct store *s;
	struct invdoc_set *set;
	struct pdf_writer *pdf;
	enum fmt fmt;
	const char *dir;	/* NULL: standard output */
	int skip_existing;
	int progress_fd;	/* a byte per document, -1: none */
	int done, skipped;
	struct terr *e;
};

/* The file of a document: its number, with the '/' prefixes may hold as
 * "%2F" ('%' is not allowed in a number), so that two numbers never share
 * a file. */
static void
file_name(const struct job *j, const char *number, char out[PATH_MAX])
{
	char name[256];
	size_t n = 0;

	for (const char *p = number; *p && n < sizeof name - 4; p++) {
		if (*p == '/') {
			memcpy(name + n, "%2F", 3);
			n += 3;
		} else {
			name[n++] = *p;
		}
	}
	name[n] = '\0';
	snprintf(out, PATH_MAX, "%s/%s.%s", j->dir, name, exts[j->fmt]);
}

static int
plain_to(const struct job *j, const struct invdoc *d, const char *path)
{
	char tmp[PATH_MAX + 8];
	FILE *f = stdout;
	int rc;

	if (path) {
		snprintf(tmp, sizeof tmp, "%s.tmp", path);
		if ((f = fopen(tmp, "w")) == NULL) {
			terr_set(j->e, "%s: %s", tmp, strerror(errno));
			return -1;
		}
	}
	rc = j->fmt == F_CSV ? invdoc_csv(j->set, d, f, j->e) : invdoc_json(j->set, d, f, j->e);
	if (fflush(f) != 0 || ferror(f)) {
		if (rc == 0)
			terr_set(j->e, "%s: write error", path ? tmp : "standard output");
		rc = -1;
	}
	if (path) {
		if (fclose(f) != 0 && rc == 0) {
			terr_set(j->e, "%s: %s", tmp, strerror(errno));
			rc = -1;
		}
		if (rc == 0 && rename(tmp, path) != 0) {
			terr_set(j->e, "%s: %s", path, strerror(errno));
			rc = -1;
		}
		if (rc != 0)
			unlink(tmp);
	}
	return rc;
}

static int
one(const struct invoice_row *r, void *arg)
{
	struct job *j = arg;
	struct invdoc d;
	char path[PATH_MAX];
	int rc;

	if (j->dir) {
		file_name(j, r->number, path);
		if (j->skip_existing && access(path, F_OK) == 0) {
			j->skipped++;
			goto done;
		}
	}
	if (invdoc_load(j->set, r, &d, j->e) != 0)
		return -1;
	switch (j->fmt) {
	case F_PDF:
		rc = pdf_invoice(j->pdf, j->set, &d, path, j->e);
		break;
	case F_XLSX:
		rc = xlsx_invoice(j->set, &d, path, j->e);
		break;
	default:
		rc = plain_to(j, &d, j->dir ? path : NULL);
		break;
	}
	invdoc_release(&d);
	if (rc != 0)
		return -1;
	j->done++;
done:
	if (j->progress_fd >= 0 && write(j->progress_fd, "", 1) < 0)
		j->progress_fd = -1;
	return 0;
}

/* Export ids[k], ids[k + step]... over the store at db. */
static int
run(const char *db, const struct ids *ids, size_t k, size_t step, struct job *j)
{
	struct terr *e = j->e;
	int rc = 0;

	if ((j->s = store_open(db, STORE_READONLY, e)) == NULL)
		return -1;
	if ((j->set = invdoc_set_new(j->s)) == NULL) {
		terr_set(e, "out of memory");
		rc = -1;
	} else if (j->fmt == F_PDF && (j->pdf = pdf_writer_new(e)) == NULL) {
		rc = -1;
	}
	for (size_t i = k; rc == 0 && i < ids->n; i += step) {
		struct invoice_filter f = { .id = ids->v[i] };

		if (store_each_invoice(j->s, &f, one, j, e) != 0)
			rc = -1;
	}
	pdf_writer_free(j->pdf);
	invdoc_set_free(j->set);
	store_close(j->s);
	return rc;
}

/* Workers share the documents; the parent counts their progress bytes. */
static int
run_parallel(const char *db, const struct ids *ids, int jobs, struct job *proto)
{
	int fds[2], failed = 0, tty = isatty(2);
	pid_t pids[64];
	size_t seen = 0;
	char buf[256];
	ssize_t n;

	if (pipe(fds) != 0) {
		fprintf(stderr, "%s: pipe: %s\n", progname, strerror(errno));
		return 1;
	}
	fflush(NULL);
	for (int k = 0; k < jobs; k++) {
		if ((pids[k] = fork()) < 0) {
			fprintf(stderr, "%s: fork: %s\n", progname, strerror(errno));
			jobs = k;
			failed = 1;
			break;
		}
		if (pids[k] == 0) {
			struct job j = *proto;
			struct terr e = { "" };

			close(fds[0]);
			j.progress_fd = fds[1];
			j.e = &e;
			if (run(db, ids, (size_t)k, (size_t)jobs, &j) != 0) {
				fprintf(stderr, "%s: %s\n", progname, e.msg);
				_exit(1);
			}
			_exit(0);
		}
	}
	close(fds[1]);
	while ((n = read(fds[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
		if (n < 0)
			continue;
		seen += (size_t)n;
		if (tty)
			fprintf(stderr, "\r%s: %zu/%zu", progname, seen, ids->n);
	}
	if (tty)
		fputc('\n', stderr);
	close(fds[0]);
	for (int k = 0; k < jobs; k++) {
		int st;

		while (waitpid(pids[k], &st, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			failed = 1;
	}
	return failed;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "invoice", required_argument, NULL, 'i' },
		{ "period", required_argument, NULL, 'p' },
		{ "all", no_argument, NULL, 'l' },
		{ "account", required_argument, NULL, 'a' },
		{ "reseller", required_argument, NULL, 'r' },
		{ "format", required_argument, NULL, 'f' },
		{ "out", required_argument, NULL, 'o' },
		{ "skip-existing", no_argument, NULL, 's' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *db = store_default_path(), *number = NULL, *format = NULL;
	struct invoice_filter f = { 0 };
	struct job j = { .progress_fd = -1 };
	struct ids ids = { 0 };
	struct store *s;
	struct terr e = { "" };
	long jobs = 0;
	int ch, fi = -1, all = 0;
	char *end;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': db = optarg; break;
		case 'i': number = optarg; break;
		case 'p': f.period = optarg; break;
		case 'l': all = 1; break;
		case 'a': f.account = optarg; break;
		case 'r': f.issuer = optarg; break;
		case 'f': format = optarg; break;
		case 'o': j.dir = optarg; break;
		case 's': j.skip_existing = 1; break;
		case 'j':
			jobs = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || jobs < 1 || jobs > 64) {
				fprintf(stderr, "%s: --jobs: \"%s\" is not 1 to 64\n", progname, optarg);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("tally-export %s\n", TALLY_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	for (int i = 0; format && i < 4; i++)
		if (strcmp(format, exts[i]) == 0)
			fi = i;
	/* One of --invoice, --period and --all; files need a folder, as do many. */
	if (optind != argc || fi < 0 || !!number + !!f.period + all != 1 ||
	    (number && (f.account || f.issuer)) || (all && f.account) ||
	    (!j.dir && (fi <= F_XLSX || !number)) || (j.skip_existing && !j.dir)) {
		usage(stderr);
		return 2;
	}
	if (f.period && (strlen(f.period) != 7 ||
	    timefmt_parse("%Y-%m", f.period, &(struct civil){ 0 }) != 0)) {
		fprintf(stderr, "%s: --period %s: expected YYYY-MM\n", progname, f.period);
		return 2;
	}
	j.fmt = (enum fmt)fi;
	f.number = number;
	if (j.dir && make_dirs(j.dir) != 0) {
		fprintf(stderr, "%s: %s: %s\n", progname, j.dir, strerror(errno));
		return 1;
	}
	if ((s = store_open(db, STORE_READONLY, &e)) == NULL) {
		fprintf(stderr, "%s: %s\n", progname, e.msg);
		return 1;
	}
	/* a name that is not in the store is an error, not nothing exported */
	if (lookup_account(s, f.account, &e) != 0 || lookup_reseller(s, f.issuer, &e) != 0) {
		fprintf(stderr, "%s: %s\n", progname, e.msg);
		store_close(s);
		return 1;
	}
	if (store_each_invoice(s, &f, collect, &ids, &e) != 0) {
		fprintf(stderr, "%s: %s\n", progname, *e.msg ? e.msg : "out of memory");
		store_close(s);
		return 1;
	}
	store_close(s);
	if (number && ids.n == 0) {
		fprintf(stderr, "%s: no invoice or credit note numbered \"%s\" (drafts have no "
		    "number: issue them first)\n", progname, number);
		return 1;
	}
	if (jobs == 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);

		jobs = cpus < 1 ? 1 : cpus > 8 ? 8 : cpus;
	}
	if ((size_t)jobs > ids.n / 8 + 1)
		jobs = (long)(ids.n / 8 + 1);	/* a worker is worth it from 8 documents */
	if (jobs > 1) {
		int rc = run_parallel(db, &ids, (int)jobs, &j);

		free(ids.v);
		return rc;
	}
	j.e = &e;
	if (run(db, &ids, 0, 1, &j) != 0) {
		fprintf(stderr, "%s: %s\n", progname, e.msg);
		free(ids.v);
		return 1;
	}
	free(ids.v);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "%s: error writing standard output\n", progname);
		return 1;
	}
	return 0;
}
