/*
 * fuzz_ingest.c - one switch CDR format through the real ingest path.
 *
 * Built once per format (FUZZ_FORMAT: asterisk, freeswitch, kamailio, csv),
 * with the options tests/cli/samples.expect gives that format's samples.
 * Each input is written as a switch file and ingested into a store on
 * tmpfs under a source name of its own, as --also-under-source does: the
 * batch-hash skip and the second-source refusal would otherwise hide an
 * input whose bytes an earlier one had.  Then, whatever the parser made of
 * the input:
 *
 *   - ingest stored one batch, or failed and left nothing of the file in the
 *     store; only csv may fail, and only at its header (line 1);
 *   - read = accepted + rejected + duplicates, read is the file's line count
 *     as tally-cdr(5) counts lines (less the csv header), and the batch row
 *     in the store says the same;
 *   - the store holds one reject per rejected line, at that line, with the
 *     line's bytes;
 *   - ingest_line_check(), what the feed asks before it acknowledges, passes
 *     each line the file stored as a CDR, and (formats whose lines do not
 *     depend on the others: freeswitch, kamailio) only those;
 *   - the same file again is skipped as the same batch; under yet another
 *     source, without --also-under-source, it is refused when it held CDRs
 *     and leaves nothing behind, else stored again.
 *
 * Any of these broken is an abort(), which libFuzzer keeps as a crash.  The
 * store is replaced every STORE_INPUTS inputs so that it stays small.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tally/format.h"
#include "tally/ingest.h"
#include "tally/numnorm.h"
#include "tally/store.h"
#include "fuzz.h"

#ifndef FUZZ_FORMAT
#error "build with -DFUZZ_FORMAT='\"asterisk\"' (or freeswitch, kamailio, csv)"
#endif

#define STORE_INPUTS 512

/* The options of each format's samples in tests/cli/samples.expect. */
static const struct sample_opts {
	const char *format, *tz, *numbering, *map;
} sample_opts[] = {
	{ "asterisk", "Asia/Ho_Chi_Minh", "tariffs/numbering/vn.csv", NULL },
	{ "freeswitch", "Asia/Shanghai", "tariffs/numbering/cn.csv", NULL },
	{ "kamailio", NULL, "tariffs/numbering/vn.csv", NULL },
	{ "csv", NULL, "tariffs/numbering/vn.csv", "samples/csv/calls.map" },
};

static const struct sample_opts *opts;
static enum format_kind kind;
static struct numnorm *numbering;
static char map_path[512], store_path[512], input_path[512];
static struct store *store;
static unsigned long inputs;

/* A physical line of the input: where its bytes are. */
struct span {
	size_t off, len;
};

/*
 * The input's lines as lreader.h cuts them: LF or CRLF ends a line, a last
 * line without one still counts, a UTF-8 byte order mark at the start is
 * not part of the first line.  An independent count, to hold ingest's
 * "read" against.  Returns the number of lines; *out is malloc'd.
 */
static size_t
split_lines(const uint8_t *d, size_t n, struct span **out)
{
	size_t pos = n >= 3 && memcmp(d, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
	size_t count = 0;
	struct span *v = malloc((n + 1) * sizeof *v);

	if (v == NULL)
		abort();
	while (pos < n) {
		const uint8_t *nl = memchr(d + pos, '\n', n - pos);
		size_t end = nl ? (size_t)(nl - d) : n;

		v[count].off = pos;
		v[count].len = end - pos;
		if (v[count].len > 0 && d[end - 1] == '\r')
			v[count].len--;
		count++;
		pos = nl ? end + 1 : n;
	}
	*out = v;
	return count;
}

static void
store_remove_files(void)
{
	static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
	char path[600];

	for (size_t i = 0; i < sizeof suffix / sizeof *suffix; i++) {
		snprintf(path, sizeof path, "%s%s", store_path, suffix[i]);
		unlink(path);
	}
}

/* A new, empty store in place of the old one. */
static void
store_renew(void)
{
	struct terr e;

	store_close(store);
	store_remove_files();
	if ((store = store_open(store_path, STORE_CREATE, &e)) == NULL) {
		fprintf(stderr, "fuzz: %s\n", e.msg);
		abort();
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[512];
	struct terr e;

	(void)argc, (void)argv;
	for (size_t i = 0; i < sizeof sample_opts / sizeof *sample_opts; i++)
		if (strcmp(sample_opts[i].format, FUZZ_FORMAT) == 0)
			opts = &sample_opts[i];
	if (opts == NULL || format_kind_parse(opts->format, &kind) != 0)
		abort();
	snprintf(path, sizeof path, "%s/%s", FUZZ_TOP, opts->numbering);
	if ((numbering = numnorm_load(path, &e)) == NULL) {
		fprintf(stderr, "fuzz: %s\n", e.msg);
		abort();
	}
	if (opts->map != NULL)
		snprintf(map_path, sizeof map_path, "%s/%s", FUZZ_TOP, opts->map);
	fuzz_path(store_path, sizeof store_path, "store.db");
	fuzz_path(input_path, sizeof input_path, "switch.cdr");
	atexit(store_remove_files);
	store_renew();
	return 0;
}

/* The batches of one source, as the store has them. */
struct batches_of {
	const char *source;
	int n;
	struct batch_row row;	/* the last one; its strings are not kept */
};

static int
batch_of_source(const struct batch_row *b, void *arg)
{
	struct batches_of *w = arg;

	if (strcmp(b->source, w->source) == 0) {
		w->n++;
		w->row = *b;
		w->row.source = w->row.format = w->row.file = NULL;
	}
	return 0;
}

/* The rejects of one batch against the lines of the input. */
struct rejects_seen {
	const uint8_t *data;
	const struct span *lines;
	size_t nlines;
	uint64_t n;
	int64_t last_line;
	char *rejected;		/* per line: 1 when rejected */
};

static int
reject_matches_line(const struct reject_row *r, void *arg)
{
	struct rejects_seen *w = arg;
	const struct span *l;

	if (r->line <= w->last_line || r->line < 1 || (uint64_t)r->line > w->nlines)
		fuzz_die("reject at line %lld after line %lld, of %zu lines",
		    (long long)r->line, (long long)w->last_line, w->nlines);
	if (kind == FORMAT_CSV && r->line == 1)
		fuzz_die("the csv header was rejected as a CDR");
	l = &w->lines[r->line - 1];
	/* a line over INGEST_LINE_MAX keeps only its start: not compared */
	if (l->len < INGEST_LINE_MAX && (r->rawlen != l->len ||
	    (l->len > 0 && memcmp(r->raw, w->data + l->off, l->len) != 0)))
		fuzz_die("reject at line %lld: raw bytes (%zu) are not the line's (%zu)",
		    (long long)r->line, r->rawlen, l->len);
	w->last_line = r->line;
	w->rejected[r->line - 1] = 1;
	w->n++;
	return 0;
}

static struct format *
format_for_input(void)
{
	struct format_opts o = { .tz = opts->tz, .numbering = numbering };
	struct format *f;
	struct terr e;

	if (opts->map != NULL)
		o.map_path = map_path;
	/* a parser per input: what one input leaves in it cannot change the
	 * next, so a crash file reproduces on its own */
	if ((f = format_open(kind, &o, &e)) == NULL) {
		fprintf(stderr, "fuzz: %s\n", e.msg);
		abort();
	}
	return f;
}

/* Each line alone through ingest_line_check() against its fate in the file. */
static void
check_lines(struct format *f, const uint8_t *data, const struct span *lines, size_t nlines,
    const char *rejected)
{
	/* freeswitch and kamailio lines stand alone; an Asterisk line is
	 * also held to its file's layout, which a line alone cannot know */
	int alone = kind == FORMAT_FREESWITCH || kind == FORMAT_KAMAILIO;
	struct cdr_reject r;

	if (kind == FORMAT_CSV)
		return;		/* its lines need the header before them */
	for (size_t i = 0; i < nlines; i++) {
		int ok = ingest_line_check(f, (const char *)data + lines[i].off, lines[i].len,
		    &r) == 0;

		if (!rejected[i] && !ok)
			fuzz_die("line %zu was stored, yet ingest_line_check refuses it: %s: %s",
			    i + 1, r.field, r.reason);
		if (alone && rejected[i] && ok)
			fuzz_die("line %zu was rejected, yet ingest_line_check passes it", i + 1);
	}
}

/* The batch ingest stored for `source`, or that it left none (ingested 0). */
static void
check_batch(struct format *f, const char *source, int ingested,
    const struct ingest_result *res, const uint8_t *data, size_t size)
{
	struct batches_of b = { .source = source };
	struct span *lines;
	size_t nlines = split_lines(data, size, &lines);
	uint64_t want_read = kind == FORMAT_CSV ? (nlines ? nlines - 1 : 0) : nlines;
	const struct batch_counts *n = &res->n;
	struct rejects_seen rs = { .data = data, .lines = lines, .nlines = nlines };
	struct terr e;

	if (store_each_batch(store, batch_of_source, &b, &e) != 0)
		fuzz_die("store_each_batch: %s", e.msg);
	if (!ingested) {
		if (b.n != 0)
			fuzz_die("a failed ingest left %d batch(es) behind", b.n);
		free(lines);
		return;
	}
	if (res->skipped)
		fuzz_die("a new source's first file was skipped as batch %lld",
		    (long long)res->batch);
	if (n->read != n->accepted + n->rejected + n->duplicates)
		fuzz_die("read %llu != accepted %llu + rejected %llu + duplicates %llu",
		    (unsigned long long)n->read, (unsigned long long)n->accepted,
		    (unsigned long long)n->rejected, (unsigned long long)n->duplicates);
	if (n->read != want_read)
		fuzz_die("read %llu lines of a file of %llu", (unsigned long long)n->read,
		    (unsigned long long)want_read);
	if (b.n != 1 || b.row.id != res->batch)
		fuzz_die("%d batch(es) in the store for the source, not batch %lld", b.n,
		    (long long)res->batch);
	if (memcmp(&b.row.n, n, sizeof *n) != 0)
		fuzz_die("the batch row's counts are not ingest's");
	if ((rs.rejected = calloc(nlines + 1, 1)) == NULL)
		abort();
	if (store_each_reject(store, res->batch, reject_matches_line, &rs, &e) != 0)
		fuzz_die("store_each_reject: %s", e.msg);
	if (rs.n != n->rejected)
		fuzz_die("%llu reject rows for %llu rejected lines", (unsigned long long)rs.n,
		    (unsigned long long)n->rejected);
	check_lines(f, data, lines, nlines, rs.rejected);
	free(rs.rejected);
	free(lines);
}

/* The file once more, under its own source and under a second one. */
static void
check_again(struct format *f, const char *source, const struct ingest_result *res,
    const uint8_t *data, size_t size)
{
	struct ingest_result again;
	char second[40];
	struct terr e;
	int rc, held_cdrs = res->n.accepted + res->n.duplicates > 0;

	if (ingest_file(store, f, source, input_path, NULL, &again, &e) != 0)
		fuzz_die("the same file again: %s", e.msg);
	if (!again.skipped || again.batch != res->batch)
		fuzz_die("the same file again was not skipped as batch %lld",
		    (long long)res->batch);
	snprintf(second, sizeof second, "%s-again", source);
	rc = ingest_file(store, f, second, input_path, NULL, &again, &e);
	if (held_cdrs != (rc != 0))
		fuzz_die("a file %s CDRs under a second source was %s: %s",
		    held_cdrs ? "with" : "without", rc ? "refused" : "stored",
		    rc ? e.msg : "");
	check_batch(f, second, rc == 0, &again, data, size);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct ingest_opts also_under_source = { .also_under_source = 1 };
	struct format *f = format_for_input();
	struct ingest_result res;
	char source[32];
	struct terr e;
	int rc;

	if (++inputs % STORE_INPUTS == 0)
		store_renew();
	snprintf(source, sizeof source, "f%lu", inputs);
	fuzz_write(input_path, data, size);
	rc = ingest_file_with(store, f, source, input_path, &also_under_source, NULL, &res, &e);
	if (rc != 0) {
		char at_header[600];

		/* a bad line never stops a batch; a csv header that does not
		 * fit the map refuses the whole file */
		snprintf(at_header, sizeof at_header, "%s:1: ", input_path);
		if (kind != FORMAT_CSV || strncmp(e.msg, at_header, strlen(at_header)) != 0)
			fuzz_die("ingest_file failed: %s", e.msg);
	}
	check_batch(f, source, rc == 0, &res, data, size);
	if (rc == 0)
		check_again(f, source, &res, data, size);
	format_free(f);
	return 0;
}
