/*
 * lreader.h - stream a file as physical lines, in bounded memory.
 *
 * LF or CRLF ends a line; a last line without a terminator still counts; a
 * UTF-8 byte order mark at the start of the file is dropped.  A line longer
 * than the reader's limit is returned cut to the limit with `too_long` set
 * and its full length reported, and the rest of it is skipped: memory stays
 * at one buffer of the limit whatever the input.
 */
#ifndef TALLY_LREADER_H
#define TALLY_LREADER_H

#include <stdint.h>
#include <stdio.h>

struct lreader;

struct lline {
	const char *text;	/* not NUL-terminated; valid until the next call */
	size_t len;		/* bytes in text, without the terminator */
	uint64_t full_len;	/* the line's real length (> len when too_long) */
	uint64_t lineno;	/* 1-based physical line number */
	int too_long;
};

/* Read from f (not closed by the reader), keeping at most `limit` bytes of
 * one line. */
struct lreader *lreader_new(FILE *f, size_t limit);
void lreader_free(struct lreader *r);

/* Read no more than n bytes of the stream (a file that grows while being
 * read is taken as it was when it was opened). */
void lreader_set_max_bytes(struct lreader *r, uint64_t n);

/* Next line: returns 1 with *out filled, 0 at end of file, -1 on a read
 * error (errno set). */
int lreader_next(struct lreader *r, struct lline *out);

/* Bytes consumed so far (for progress). */
uint64_t lreader_offset(const struct lreader *r);

#endif
