/*
 * terr.h - error reporting for libtally.
 *
 * Library functions never print or exit.  A function that can fail takes a
 * `struct terr *` as its last argument, returns -1 (or NULL) on failure and
 * leaves a one-line, human-readable message in it.  The message names what
 * failed and why ("store.db: schema version 7 is newer than this program
 * (2)"); the caller adds its own prefix and prints it.
 */
#ifndef TALLY_TERR_H
#define TALLY_TERR_H

#include <stddef.h>

struct terr {
	char msg[1024];
};

/* Overwrite the message with a printf-style text.  Always returns -1 so a
 * caller can write `return terr_set(e, "...")`. */
int terr_set(struct terr *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Copy at most dstlen-1 bytes of src into dst and NUL-terminate it; returns
 * the length of src, so a result >= dstlen means the copy was cut. */
size_t tally_strlcpy(char *dst, const char *src, size_t dstlen);
/* Cut a UTF-8 character that a fixed-size buffer cut in the middle. */
void tally_utf8_trim(char *s);

#endif
