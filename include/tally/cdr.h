/*
 * cdr.h - the canonical call detail record.
 *
 * Every input format is parsed into this one shape; the rest of tally never
 * sees a switch's own columns.  Times are UTC epoch seconds.  tally-cdr(5)
 * documents each field.
 *
 * Strings point into buffers owned by whoever filled the record (usually
 * the format parser's per-line scratch space): a `struct cdr` is valid only
 * until the next line is parsed.
 */
#ifndef TALLY_CDR_H
#define TALLY_CDR_H

#include <stdint.h>

enum cdr_disposition {
	CDR_ANSWERED,
	CDR_NO_ANSWER,
	CDR_BUSY,
	CDR_FAILED,
	CDR_CANCELLED,
	CDR_CONGESTION,
};

enum cdr_type {
	CDR_VOICE,
	CDR_SMS,
};

struct cdr {
	const char *record_key;	/* the switch's key, unique per source */
	/* the key tally gave the same leg before store schema 7 (Asterisk), or
	 * NULL: a store written then holds its legs under it */
	const char *legacy_key;
	const char *account;	/* "" when the switch gave none */
	const char *caller_raw;	/* "" for an anonymous caller */
	const char *caller;	/* normalized (E.164 where a rule applied) */
	const char *callee_raw;
	const char *callee;
	int64_t start;		/* call set-up began */
	int64_t answer;		/* meaningful only when has_answer */
	int64_t end;
	int has_answer;
	int64_t duration;	/* end - start */
	int64_t billsec;	/* end - answer when answered, else 0 */
	enum cdr_disposition disposition;
	enum cdr_type type;
};

/* A line that could not become a CDR: the field at fault and why.  The
 * field is a column name of the input format, or "line" for the whole line. */
struct cdr_reject {
	char field[64];
	char reason[512];
};

/* Set a reject; returns -1 so parsers can `return cdr_reject(r, ...)`. */
int cdr_reject(struct cdr_reject *r, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Canonical names: "answered", "no-answer", ...; "voice", "sms". */
const char *cdr_disposition_name(enum cdr_disposition d);
const char *cdr_type_name(enum cdr_type t);

/* Parse a disposition as a canonical name or as Asterisk spells it
 * (ANSWERED, NO ANSWER, BUSY, FAILED, CONGESTION, CANCEL), ignoring case.
 * Returns 0, or -1 when the text is none of them. */
int cdr_disposition_parse(const char *s, enum cdr_disposition *out);

/*
 * The checks every format shares, run after a parser has filled start,
 * answer/has_answer, end, disposition, callee: orders the times, drops the
 * answer time of a call that was not answered, and computes duration and
 * billsec.  Returns 0, or -1 with the reject filled in.
 */
int cdr_finish(struct cdr *c, struct cdr_reject *r);

#endif
