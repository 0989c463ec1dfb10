/*
 * format.h - parse switch CDR lines into canonical CDRs.
 *
 * One parser per input format (asterisk, freeswitch, kamailio, csv), all
 * behind this interface; the rules each follows are in tally-cdr(5).  The
 * module is format.c (the interface and the helpers every format shares)
 * plus one fmt_<name>.c per format, whose entry points are declared at the
 * bottom of this header for format.c alone.
 *
 * A parser is a per-file state machine: call format_begin_file() before each
 * file.  Formats with a header line (csv) want the first line through
 * format_header(); format_needs_header() says whether one is pending.
 */
#ifndef TALLY_FORMAT_H
#define TALLY_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "tally/cdr.h"
#include "tally/csvline.h"
#include "tally/numnorm.h"
#include "tally/terr.h"
#include "tally/tz.h"

#define FORMAT_MAX_COLUMNS 21	/* the widest asterisk layout */

enum format_kind {
	FORMAT_ASTERISK,
	FORMAT_FREESWITCH,
	FORMAT_KAMAILIO,
	FORMAT_CSV,
};

/* Kamailio: which key=value pair carries each field. */
enum kam_field { KAM_CALLER, KAM_CALLEE, KAM_CALLID, KAM_ACCOUNT, KAM_NFIELDS };

struct format_opts {
	const char *tz;		/* NULL: UTC, or for csv the map's tz */
	const char *map_path;	/* csv only, required there */
	const char *kam_keys[KAM_NFIELDS];	/* NULL: the default key */
	const struct numnorm *numbering;	/* NULL: numbers kept as they are */
	int mixed_layouts;	/* asterisk: lines of one file may differ in columns */
};

/* csv: the map file, resolved against the header. */
enum csv_field {
	CSVF_KEY, CSVF_ACCOUNT, CSVF_CALLER, CSVF_CALLEE, CSVF_START,
	CSVF_ANSWER, CSVF_END, CSVF_DURATION, CSVF_BILLSEC, CSVF_DISPOSITION,
	CSVF_TYPE, CSVF_N
};

struct format {
	enum format_kind kind;
	struct tz *tz;
	const struct numnorm *numbering;
	struct csvline *csv;
	/* per-line scratch that the returned struct cdr points into */
	char caller[NUMNORM_MAX], callee[NUMNORM_MAX];
	char *key;
	size_t keycap;
	char *legacy;		/* the leg's key before schema 7 */
	size_t legacycap;
	char *scratch;		/* freeswitch fallback split, kamailio pairs */
	size_t scratchcap;
	/* kamailio */
	char *kam_keys[KAM_NFIELDS];
	/* csv */
	char time_format[64];
	char map_tz[128];	/* the map's tz; --tz wins over it */
	int epoch_times;
	unsigned char delim;
	char *colname[CSVF_N];	/* header text per mapped field, or NULL */
	int col[CSVF_N];	/* column index after the header, -1 unmapped */
	int ncols;
	int header_pending;
	/* asterisk: the file's layout (its column count, 0 until known), and
	 * how many lines of each count the scan saw, and the first of them */
	int mixed_layouts;
	int layout;
	uint64_t layout_lines[FORMAT_MAX_COLUMNS + 1];
	uint64_t layout_first[FORMAT_MAX_COLUMNS + 1];
	uint64_t scanned;
	/* the switch's own seconds of the current line (tally-cdr(5)): NULL
	 * names when the format or the line carries none */
	const char *sw_duration_name, *sw_billsec_name;
	int64_t sw_duration, sw_billsec;
};

/* Look up a format by name; -1 if unknown. */
int format_kind_parse(const char *name, enum format_kind *out);
const char *format_kind_name(enum format_kind k);

struct format *format_open(enum format_kind kind, const struct format_opts *o,
    struct terr *e);
void format_free(struct format *f);

void format_begin_file(struct format *f);
int format_needs_header(const struct format *f);

/* Take the header line; -1 when it does not fit the map (the whole file is
 * then refused, message in e). */
int format_header(struct format *f, const char *line, size_t len, struct terr *e);

/*
 * Formats whose lines must agree with the other lines of their file
 * (asterisk: the column count, unless mixed_layouts) want to see every line
 * of the file, after format_begin_file() and before the first
 * format_parse(): format_scan() each one in order.  The file's layout is
 * then the column count most of its lines have, on a tie the one that came
 * first.  Without a scan it is the first parsed line's.
 */
int format_wants_scan(const struct format *f);
void format_scan(struct format *f, const char *line, size_t len);

/*
 * Parse one data line (no terminator, no NUL bytes) into *c.  Returns 0, or
 * -1 with *r naming the field and the reason.  The strings of *c live in f
 * until the next call.
 */
int format_parse(struct format *f, const char *line, size_t len, struct cdr *c,
    struct cdr_reject *r);

/* --- shared by the fmt_*.c parsers ------------------------------------ */

/* A "YYYY-MM-DD HH:MM:SS" (or csv time_format) reading in f's zone.  Empty
 * text is an error here; callers test for optional fields first. */
int format_time(struct format *f, const char *field, const char *text,
    int64_t *out, struct cdr_reject *r);
/* Switch files that carry start, answer (empty when not answered) and end
 * readings plus duration and billsec columns (asterisk, freeswitch): read
 * the times into c and the two numbers into f as the switch's own seconds
 * (format_switch_seconds), by their column names. */
enum { SWT_START, SWT_ANSWER, SWT_END, SWT_DURATION, SWT_BILLSEC, SWT_N };
int format_switch_times(struct format *f, const char *const name[SWT_N],
    const char *const text[SWT_N], struct cdr *c, struct cdr_reject *r);
/* Record the switch's duration and/or billsec (NULL name: not carried).
 * After the common checks format_parse() bills them instead of the
 * timestamps' differences, and rejects the line when the two disagree by
 * more than a second (tally-cdr(5)). */
void format_switch_seconds(struct format *f, const char *duration_name,
    int64_t duration, const char *billsec_name, int64_t billsec);
/* The file's layout (asterisk): decided at the first call from the scan,
 * or n when there was none. */
int format_file_layout(struct format *f, int n);
/* A whole non-negative number of seconds. */
int format_seconds(const char *field, const char *text, int64_t *out,
    struct cdr_reject *r);
/* Normalize caller and callee into f's buffers and point c at them.  A
 * number too long to keep (NUMNORM_MAX) is a reject, never a cut. */
int format_numbers(struct format *f, struct cdr *c, const char *caller,
    const char *callee, struct cdr_reject *r);
/* printf into f->legacy and point c->legacy_key at it. */
int format_legacy_key(struct format *f, struct cdr *c, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* printf into f->key (grown as needed) and point c->record_key at it. */
int format_key(struct format *f, struct cdr *c, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Make sure f->scratch holds at least n bytes; -1 when out of memory. */
int format_scratch(struct format *f, size_t n);

int fmt_asterisk_parse(struct format *f, const char *line, size_t len,
    struct cdr *c, struct cdr_reject *r);
int fmt_freeswitch_parse(struct format *f, const char *line, size_t len,
    struct cdr *c, struct cdr_reject *r);
int fmt_kamailio_parse(struct format *f, const char *line, size_t len,
    struct cdr *c, struct cdr_reject *r);
int fmt_csv_open(struct format *f, const char *map_path, struct terr *e);
int fmt_csv_header(struct format *f, const char *line, size_t len, struct terr *e);
int fmt_csv_parse(struct format *f, const char *line, size_t len,
    struct cdr *c, struct cdr_reject *r);

#endif
