/*
 * store.h - the tally store: one SQLite file in WAL mode.  All SQL lives in
 * store.c, so that the rest of tally never builds a query and a later
 * server database needs one new module, not a hunt through the code.
 *
 * Schema: versioned by PRAGMA user_version and marked as tally's by
 * PRAGMA application_id.  store_open() creates a new store, upgrades an
 * older one in one transaction, and refuses a newer one or a SQLite file
 * that is not a tally store.  Tables are documented in tally-cdr(5).
 *
 * Units of work: store_begin() .. store_commit() (or store_rollback());
 * a step that fails part-way rolls back, leaving the store as it was.
 */
#ifndef TALLY_STORE_H
#define TALLY_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "tally/cdr.h"
#include "tally/terr.h"

#define STORE_SCHEMA_VERSION 1

struct store;

/* $TALLY_DB if set and not empty, else "./tally.db". */
const char *store_default_path(void);

enum store_mode {
	STORE_CREATE,		/* create the file if it does not exist */
	STORE_EXISTING,		/* a missing file is an error (reports) */
};

struct store *store_open(const char *path, enum store_mode mode, struct terr *e);
void store_close(struct store *s);
int store_schema_version(struct store *s);

int store_begin(struct store *s, struct terr *e);	/* BEGIN IMMEDIATE */
int store_commit(struct store *s, struct terr *e);
void store_rollback(struct store *s);

/* --- ingest ----------------------------------------------------------- */

struct batch_counts {
	uint64_t read, accepted, rejected, duplicates;
};

/* The batch that already holds a file with this content for this source:
 * returns 1 and sets *id, 0 when there is none, -1 on error. */
int store_batch_find(struct store *s, const char *source, const char *sha256,
    int64_t *id, struct terr *e);
/* Inside a transaction: a new batch with zero counts. */
int store_batch_add(struct store *s, const char *source, const char *format,
    const char *file, const char *sha256, uint64_t bytes, int64_t *id,
    struct terr *e);
int store_batch_set_counts(struct store *s, int64_t id,
    const struct batch_counts *c, struct terr *e);

/*
 * Store a CDR.  Returns 1 when stored, 0 when (source, record_key) is
 * already stored (the line is then recorded as a duplicate of that CDR),
 * -1 on error.
 */
int store_cdr_add(struct store *s, const char *source, int64_t batch,
    uint64_t line, const struct cdr *c, struct terr *e);
int store_reject_add(struct store *s, int64_t batch, uint64_t line,
    const struct cdr_reject *r, const char *raw, size_t rawlen, struct terr *e);

/* --- reports ---------------------------------------------------------- */

struct batch_row {
	int64_t id;
	const char *source, *format, *file;
	struct batch_counts n;
};

struct reject_row {
	int64_t batch;
	const char *file;
	int64_t line;
	const char *field, *reason;
	const void *raw;
	size_t rawlen;
};

/* Call fn for each batch in id order; fn returning non-zero stops the walk
 * and becomes the result.  Strings live for the call only. */
int store_each_batch(struct store *s,
    int (*fn)(const struct batch_row *, void *), void *arg, struct terr *e);
/* Rejects in (batch, line) order; batch 0 means every batch. */
int store_each_reject(struct store *s, int64_t batch,
    int (*fn)(const struct reject_row *, void *), void *arg, struct terr *e);

#endif
