/*
 * ingest.h - switch CDR files into the store, every line accounted for.
 *
 * Each file is one unit of work: its batch row, CDRs, rejects and
 * duplicates are written in one transaction, so an error or a crash
 * part-way leaves nothing of the file behind and a rerun completes it.  A
 * file whose content (SHA-256) this source already delivered is skipped;
 * one another source delivered is refused unless the caller allows it.
 * Every line ends exactly once as accepted, rejected or duplicate:
 * read = accepted + rejected + duplicates, checked by the store itself.
 *
 * Memory is bounded by the longest line kept (INGEST_LINE_MAX), not by the
 * size of the file.
 */
#ifndef TALLY_INGEST_H
#define TALLY_INGEST_H

#include <stdint.h>

#include "tally/cdr.h"
#include "tally/format.h"
#include "tally/store.h"
#include "tally/terr.h"

#define INGEST_LINE_MAX 65536	/* longer lines are rejected, this much kept */

struct ingest_hooks {
	/* each rejected line, as it is rejected */
	void (*on_reject)(void *arg, const char *file, uint64_t line,
	    const struct cdr_reject *r);
	/* every INGEST_PROGRESS_LINES lines */
	void (*on_progress)(void *arg, const char *file, uint64_t lines,
	    uint64_t bytes);
	void *arg;
};

#define INGEST_PROGRESS_LINES 65536

struct ingest_result {
	int64_t batch;		/* the new batch, or the one it duplicates */
	int skipped;		/* content already ingested as `batch` */
	struct batch_counts n;
};

/* What the caller allows beyond the rules (tally-ingest's options). */
struct ingest_opts {
	/* store content that another source already delivered under this
	 * source too, its calls then billed under both (--also-under-source) */
	int also_under_source;
};

/*
 * Ingest one file as `source` with parser f.  Returns 0 (ingested or
 * skipped, see res), or -1 when the file could not be read or stored, or
 * was refused: the store is then as it was before the call.  Content that
 * another source already delivered with CDRs in it is refused, naming that
 * source, unless o->also_under_source (o may be NULL: nothing allowed).
 */
int ingest_file_with(struct store *s, struct format *f, const char *source,
    const char *path, const struct ingest_opts *o, const struct ingest_hooks *h,
    struct ingest_result *res, struct terr *e);
/* ingest_file_with() with nothing allowed beyond the rules. */
int ingest_file(struct store *s, struct format *f, const char *source,
    const char *path, const struct ingest_hooks *h, struct ingest_result *res,
    struct terr *e);

/*
 * Would ingest_file() store this line (no terminator) as a CDR, in a file of
 * its own read by f?  0, or -1 with *r naming the field and the reason.
 * What depends on the other lines of a file (duplicates, an Asterisk
 * file's layout) is not checked: tally-feedd(8) asks before acknowledging.
 */
int ingest_line_check(struct format *f, const char *text, size_t len,
    struct cdr_reject *r);

/* Valid source names: 1-64 of [A-Za-z0-9_.-], the first a letter or digit. */
int ingest_source_valid(const char *name);

#endif
