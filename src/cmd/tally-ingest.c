/*
 * tally-ingest - switch CDR files into the tally store.  See tally-ingest(1).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tally/ingest.h"
#include "tally/numnorm.h"
#include "tally/report.h"
#include "tally/spool.h"
#include "tally/store.h"

#define REJECTS_SHOWN 10	/* per file on stderr; the store keeps them all */

static const char *progname = "tally-ingest";

struct run {
	struct store *store;
	struct format *fmt;
	const char *source;
	struct ingest_opts opts;
	/* The rejects of the current file: how many, and the first
	 * REJECTS_SHOWN kept to print once its batch is stored (a batch that
	 * fails stores no reject, and its lines would only mislead). */
	uint64_t shown;
	struct kept_reject {
		char *file, *field, *reason;	/* owned; NULL: out of memory */
		uint64_t line;
	} kept[REJECTS_SHOWN];
	int tty;
	int failed;
};

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: tally-ingest [--db FILE] --source NAME --format FMT [--tz ZONE]\n"
	    "                    [--numbering FILE] [--map FILE] [--key FIELD=NAME]...\n"
	    "                    [--mixed-layouts] [--also-under-source] FILE|DIR...\n"
	    "       tally-ingest [--db FILE] --source NAME --format FMT [--tz ZONE]\n"
	    "                    [--numbering FILE] [--map FILE] [--mixed-layouts]\n"
	    "                    [--also-under-source] --spool DIR\n"
	    "       tally-ingest --help | --version\n"
	    "FMT is asterisk, freeswitch, kamailio or csv; see tally-ingest(1).\n");
}

static void
on_reject(void *arg, const char *file, uint64_t line, const struct cdr_reject *r)
{
	struct run *run = arg;

	if (run->shown < REJECTS_SHOWN) {
		struct kept_reject *k = &run->kept[run->shown];

		k->file = strdup(file);
		k->field = strdup(r->field);
		k->reason = strdup(r->reason);
		k->line = line;
	}
	run->shown++;
}

/* The kept rejects of a file, printed (its batch was stored) or not. */
static void
kept_rejects_flush(struct run *run, int print)
{
	for (uint64_t i = 0; i < run->shown && i < REJECTS_SHOWN; i++) {
		struct kept_reject *k = &run->kept[i];

		if (print) {
			/* reasons quote the input: keep its bytes off the terminal */
			fprintf(stderr, "%s: %s:%llu: %s: ", progname,
			    k->file ? k->file : "?", (unsigned long long)k->line,
			    k->field ? k->field : "?");
			if (k->reason)
				report_escaped(stderr, k->reason, strlen(k->reason), 1000);
			else
				fputs("(out of memory)", stderr);
			fputc('\n', stderr);
		}
		free(k->file);
		free(k->field);
		free(k->reason);
		*k = (struct kept_reject){ 0 };
	}
}

static void
on_progress(void *arg, const char *file, uint64_t lines, uint64_t bytes)
{
	struct run *run = arg;

	if (run->tty)
		fprintf(stderr, "\r%s: %llu lines, %llu MB", file,
		    (unsigned long long)lines, (unsigned long long)(bytes >> 20));
}

static int
ingest_one(struct run *run, const char *path)
{
	struct ingest_hooks h = { on_reject, on_progress, run };
	struct ingest_result res;
	struct terr e;

	run->shown = 0;
	if (ingest_file_with(run->store, run->fmt, run->source, path, &run->opts, &h, &res,
	    &e) != 0) {
		if (run->tty)
			fputc('\n', stderr);
		fprintf(stderr, "%s: %s; nothing of it was stored\n", progname, e.msg);
		kept_rejects_flush(run, 0);	/* rolled back: no reject is stored */
		run->failed = 1;
		return -1;
	}
	if (run->tty && res.n.read >= INGEST_PROGRESS_LINES)
		fputc('\n', stderr);
	kept_rejects_flush(run, 1);
	if (run->shown > REJECTS_SHOWN)
		fprintf(stderr, "%s: %s: ... and %llu more, see tally-report rejects\n",
		    progname, path, (unsigned long long)(run->shown - REJECTS_SHOWN));
	if (res.skipped)
		printf("%s: already ingested as batch %lld, skipped\n", path,
		    (long long)res.batch);
	else
		printf("batch %lld: %s: read %llu, accepted %llu, rejected %llu, "
		    "duplicates %llu\n", (long long)res.batch, path,
		    (unsigned long long)res.n.read, (unsigned long long)res.n.accepted,
		    (unsigned long long)res.n.rejected,
		    (unsigned long long)res.n.duplicates);
	fflush(stdout);
	return 0;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The regular files directly in dir whose names end in suffix ("": all),
 * in byte order of their names.  Returns how many, or -1. */
static ssize_t
list_files(const char *dir, const char *suffix, char ***out)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0, sl = strlen(suffix);

	*out = NULL;
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		char path[4096];
		struct stat st;
		size_t l = strlen(de->d_name);

		if (de->d_name[0] == '.' || l < sl || strcmp(de->d_name + l - sl, suffix) != 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		if (n == cap) {
			char **nn = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof *nn);

			if (nn == NULL)
				break;
			names = nn;
		}
		if ((names[n] = strdup(path)) != NULL)
			n++;
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof *names, by_name);
	*out = names;
	return (ssize_t)n;
}

static void
ingest_dir(struct run *run, const char *dir)
{
	char **names;
	ssize_t n = list_files(dir, "", &names);

	if (n < 0) {
		fprintf(stderr, "%s: %s: cannot open directory\n", progname, dir);
		run->failed = 1;
		return;
	}
	if (n == 0)
		fprintf(stderr, "%s: %s: no files to ingest\n", progname, dir);
	for (ssize_t i = 0; i < n; i++) {
		ingest_one(run, names[i]);
		free(names[i]);
	}
	free(names);
}

/*
 * The closed files of the source's spool (tally-feedd(8)): each one's
 * records become NNN.lines beside it, ingested like a file, and the spool
 * file is renamed NNN.done.  A run stopped between the two finds the
 * batch by its hash the next time and only renames.  Files being written
 * (.open) are left to the daemon.
 *
 * Two runs on one spool must not overlap: the second would write the
 * .lines file the first is reading, and the first would store a short
 * batch and mark the whole spool file done.  So a run holds a lock on the
 * source's spool folder throughout (waiting for the other run to end),
 * and a .lines file is always made new (unlinked, then created
 * exclusively), never rewritten in place.
 */
static int
lock_spool(const char *dir, int tty)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), errno_keep;

	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno != EWOULDBLOCK)
			goto fail;
		if (tty)	/* quiet under cron: waiting is no error */
			fprintf(stderr, "%s: %s: waiting for the tally-ingest already"
			    " reading it\n", progname, dir);
		if (flock(fd, LOCK_EX) != 0)
			goto fail;
	}
	return fd;
fail:
	errno_keep = errno;	/* for the caller's message */
	close(fd);
	errno = errno_keep;
	return -1;
}

static void
ingest_spool(struct run *run, const char *spool)
{
	char dir[4096], **names;
	ssize_t n;
	int lock;

	snprintf(dir, sizeof dir, "%s/%s", spool, run->source);
	if ((lock = lock_spool(dir, run->tty)) < 0 || (n = list_files(dir, ".cdr", &names)) < 0) {
		fprintf(stderr, "%s: %s: cannot open or lock the source's spool: %s\n", progname,
		    dir, strerror(errno));
		run->failed = 1;
		if (lock >= 0)
			close(lock);
		return;
	}
	for (ssize_t i = 0; i < n; i++) {
		char lines[4200], done[4200];
		size_t l = strlen(names[i]) - 4;
		uint64_t records, cut;
		struct terr e;

		snprintf(lines, sizeof lines, "%.*s.lines", (int)l, names[i]);
		snprintf(done, sizeof done, "%.*s.done", (int)l, names[i]);
		if (spool_extract(names[i], lines, &records, &cut, &e) != 0) {
			fprintf(stderr, "%s: %s\n", progname, e.msg);
			run->failed = 1;
		} else {
			if (cut > 0)
				fprintf(stderr, "%s: %s: %llu bytes after the last whole record cut"
				    " (a torn write)\n", progname, names[i], (unsigned long long)cut);
			if (ingest_one(run, lines) == 0 && rename(names[i], done) != 0) {
				fprintf(stderr, "%s: %s: cannot rename to .done\n", progname,
				    names[i]);
				run->failed = 1;
			}
			unlink(lines);
		}
		free(names[i]);
	}
	free(names);
	close(lock);
}

static int
set_kam_key(struct format_opts *o, const char *arg)
{
	static const char *const fields[KAM_NFIELDS] = {
		[KAM_CALLER] = "caller", [KAM_CALLEE] = "callee",
		[KAM_CALLID] = "callid", [KAM_ACCOUNT] = "account",
	};
	const char *eq = strchr(arg, '=');

	for (int i = 0; eq && eq[1] && i < KAM_NFIELDS; i++) {
		if (strlen(fields[i]) == (size_t)(eq - arg) &&
		    strncmp(arg, fields[i], (size_t)(eq - arg)) == 0) {
			o->kam_keys[i] = eq + 1;
			return 0;
		}
	}
	return -1;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "source", required_argument, NULL, 's' },
		{ "format", required_argument, NULL, 'f' },
		{ "tz", required_argument, NULL, 'z' },
		{ "numbering", required_argument, NULL, 'n' },
		{ "map", required_argument, NULL, 'm' },
		{ "key", required_argument, NULL, 'k' },
		{ "spool", required_argument, NULL, 'S' },
		{ "mixed-layouts", no_argument, NULL, 'M' },
		{ "also-under-source", no_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *db = store_default_path(), *fmtname = NULL, *numbering = NULL;
	const char *spool = NULL;
	struct format_opts fo = { 0 };
	struct numnorm *nn = NULL;
	struct run run = { 0 };
	enum format_kind kind;
	struct terr e;
	int ch;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': db = optarg; break;
		case 's': run.source = optarg; break;
		case 'f': fmtname = optarg; break;
		case 'z': fo.tz = optarg; break;
		case 'n': numbering = optarg; break;
		case 'm': fo.map_path = optarg; break;
		case 'S': spool = optarg; break;
		case 'M': fo.mixed_layouts = 1; break;
		case 'A': run.opts.also_under_source = 1; break;
		case 'k':
			if (set_kam_key(&fo, optarg) != 0) {
				fprintf(stderr, "%s: --key %s: expected caller|callee|callid|"
				    "account=NAME\n", progname, optarg);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("tally-ingest %s\n", TALLY_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (run.source == NULL || fmtname == NULL || (optind == argc) == !spool) {
		usage(stderr);
		return 2;
	}
	if (!ingest_source_valid(run.source)) {
		fprintf(stderr, "%s: --source %s: use 1 to 64 of A-Z a-z 0-9 _ . -,"
		    " the first a letter or digit\n",
		    progname, run.source);
		return 2;
	}
	if (format_kind_parse(fmtname, &kind) != 0) {
		fprintf(stderr, "%s: --format %s: expected asterisk, freeswitch, "
		    "kamailio or csv\n", progname, fmtname);
		return 2;
	}
	for (int i = 0; i < KAM_NFIELDS; i++) {
		if (fo.kam_keys[i] && kind != FORMAT_KAMAILIO) {
			fprintf(stderr, "%s: --key is only for format kamailio\n", progname);
			return 2;
		}
		/* tally-feedd acknowledged the spool's records as read with the
		 * default keys: others would reject what it promised to bill */
		if (fo.kam_keys[i] && spool) {
			fprintf(stderr, "%s: --key is not for --spool: a feed's Kamailio"
			    " records carry the default keys\n", progname);
			return 2;
		}
	}
	if (fo.mixed_layouts && kind != FORMAT_ASTERISK) {
		fprintf(stderr, "%s: --mixed-layouts is only for format asterisk\n", progname);
		return 2;
	}
	if ((numbering && (fo.numbering = nn = numnorm_load(numbering, &e)) == NULL) ||
	    (run.fmt = format_open(kind, &fo, &e)) == NULL ||
	    (run.store = store_open(db, STORE_CREATE, &e)) == NULL) {
		fprintf(stderr, "%s: %s\n", progname, e.msg);
		format_free(run.fmt);
		numnorm_free(nn);
		return 2;
	}
	run.tty = isatty(STDERR_FILENO);
	if (spool)
		ingest_spool(&run, spool);
	for (int i = optind; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
			ingest_dir(&run, argv[i]);
		else
			ingest_one(&run, argv[i]);
	}
	store_close(run.store);
	format_free(run.fmt);
	numnorm_free(nn);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "%s: error writing standard output\n", progname);
		return 1;
	}
	return run.failed ? 1 : 0;
}
