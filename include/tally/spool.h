/*
 * spool.h - the durable spool of live switch feeds.
 *
 * A source's spool is a folder of append-only files: NNNNNNNNNNNN.open
 * while written, renamed NNNNNNNNNNNN.cdr when closed (rotation, shutdown),
 * NNNNNNNNNNNN.done once ingested.  Each record is one CDR line, framed:
 *
 *	"TSR1" | length (u32, little-endian) | CRC-32 of the payload (u32 LE) | payload
 *
 * A crash can leave the last record of the file being written short or
 * with a wrong checksum: a reader stops at the first record that is not
 * whole and reports the bytes it cut, so a torn record is never half
 * ingested.  A record is durable once spool_sync() has returned: what a
 * feed acknowledges.
 */
#ifndef TALLY_SPOOL_H
#define TALLY_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "tally/terr.h"

#define SPOOL_RECORD_MAX (1u << 20)	/* a CDR line is far shorter */
#define SPOOL_HEADER 12

struct spool_writer;

/* Open the source's spool in dir (made when missing) for appending: a new
 * .open file numbered after every file there.  An .open file left by a
 * crash is closed first (cut to its last whole record, renamed .cdr). */
struct spool_writer *spool_open(const char *dir, struct terr *e);
/* Append a record (buffered: durable only after spool_sync). */
int spool_append(struct spool_writer *w, const void *payload, size_t len, struct terr *e);
/* Make every record appended so far durable (write, fdatasync). */
int spool_sync(struct spool_writer *w, struct terr *e);
/* Bytes in the current file. */
uint64_t spool_size(const struct spool_writer *w);
/* Close the current file (sync, rename .cdr, sync the folder) and start
 * the next. */
int spool_rotate(struct spool_writer *w, struct terr *e);
/* Sync and close the current file (renamed .cdr unless empty: removed). */
int spool_close(struct spool_writer *w, struct terr *e);

/* Reading a closed file (or a torn .open one). */
struct spool_reader;

struct spool_reader *spool_read_open(const char *path, struct terr *e);
/* The next record: 1 and *payload, *len (valid until the next call), 0 at
 * the end of the whole records (spool_read_cut tells how many bytes
 * followed them), -1 on a read error. */
int spool_read_next(struct spool_reader *r, const void **payload, size_t *len,
    struct terr *e);
uint64_t spool_read_cut(const struct spool_reader *r);
void spool_read_close(struct spool_reader *r);

/* Close the .open files a crash left in dir: cut each to its whole records
 * and rename it .cdr.  *cut gets the bytes removed.  Returns the number of
 * files closed, or -1. */
int spool_recover(const char *dir, uint64_t *cut, struct terr *e);

/* A closed file's records as the lines of a new plain file (one of that
 * name is unlinked first, never rewritten in place), which ingest_file()
 * reads like any switch file (the same content gives the same batch hash,
 * so a spool file ingested twice is skipped the second time).  *records
 * and *cut (bytes after the whole records) are set. */
int spool_extract(const char *path, const char *lines, uint64_t *records, uint64_t *cut,
    struct terr *e);

#endif
