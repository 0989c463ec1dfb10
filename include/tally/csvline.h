/*
 * csvline.h - split one physical line into CSV fields with libcsv.
 *
 * Switch CDR files put one record on each line, so tally parses them line
 * by line: a line with broken quoting is rejected on its own instead of
 * swallowing every line after it into one quoted field.
 *
 * The splitter owns one growing buffer for all fields of the current line
 * (no allocation per field once it has grown to the longest line).  Field
 * pointers stay valid until the next csvline_split() or csvline_free().
 */
#ifndef TALLY_CSVLINE_H
#define TALLY_CSVLINE_H

#include <stddef.h>
#include <stdio.h>

struct csvline;

struct csvline *csvline_new(unsigned char delim);
void csvline_free(struct csvline *c);

/*
 * Split line[0..len) (no line terminator).  Returns the number of fields,
 * or -1 when the quoting is malformed (an unterminated quote, a quote in
 * the middle of an unquoted field).  Fields are NUL-terminated.
 */
int csvline_split(struct csvline *c, const char *line, size_t len);

/*
 * Read and split the next record of a CSV file (a report, not a switch
 * file): lines are joined while a quoted field is open.  Returns the number
 * of fields, 0 at the end, -1 for a record that never closes its quote or
 * out of memory.
 */
int csvline_read(struct csvline *c, FILE *f);

const char *csvline_field(const struct csvline *c, int i);
size_t csvline_field_len(const struct csvline *c, int i);

#endif
