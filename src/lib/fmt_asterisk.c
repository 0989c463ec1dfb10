/*
 * Asterisk cdr_csv (Master.csv).  The first 16 columns never move; what
 * follows depends on cdr.conf: loguniqueid and loguserfield add one column
 * each, newcdrcolumns adds peeraccount, linkedid and sequence.  With 17 or
 * 20 columns we cannot tell uniqueid from userfield and take uniqueid, the
 * one operators switch on.
 */
#include <string.h>
#include <strings.h>

#include "tally/format.h"

enum {
	A_ACCOUNTCODE, A_SRC, A_DST, A_DCONTEXT, A_CLID, A_CHANNEL,
	A_DSTCHANNEL, A_LASTAPP, A_LASTDATA, A_START, A_ANSWER, A_END,
	A_DURATION, A_BILLSEC, A_DISPOSITION, A_AMAFLAGS, A_BASE
};

int
fmt_asterisk_parse(struct format *f, const char *line, size_t len,
    struct cdr *c, struct cdr_reject *r)
{
	int n = csvline_split(f->csv, line, len);
	int uniqueid = -1, linkedid = -1, sequence = -1;
	const char *fld[21];
	enum cdr_disposition disp;
	int64_t secs;

	if (n < 0)
		return cdr_reject(r, "line", "malformed CSV quoting");
	if (n < 16 || n > 21)
		return cdr_reject(r, "line", "%d columns, expected 16 to 21", n);
	for (int i = 0; i < n; i++)
		fld[i] = csvline_field(f->csv, i);
	if (n == 17 || n == 18 || n == 20 || n == 21)
		uniqueid = A_BASE;
	if (n >= 19) {
		sequence = n - 1;
		linkedid = n - 2;
	}

	if (format_time(f, "start", fld[A_START], &c->start, r) != 0 ||
	    format_time(f, "end", fld[A_END], &c->end, r) != 0)
		return -1;
	if (fld[A_ANSWER][0] != '\0') {
		if (format_time(f, "answer", fld[A_ANSWER], &c->answer, r) != 0)
			return -1;
		c->has_answer = 1;
	}
	/* Checked so that a garbled row is caught, but the canonical values
	 * are recomputed from the times (tally-cdr(5)). */
	if (format_seconds("duration", fld[A_DURATION], &secs, r) != 0 ||
	    format_seconds("billsec", fld[A_BILLSEC], &secs, r) != 0)
		return -1;
	if (cdr_disposition_parse(fld[A_DISPOSITION], &disp) != 0)
		return cdr_reject(r, "disposition", "unknown disposition \"%.64s\"",
		    fld[A_DISPOSITION]);
	c->disposition = disp;
	c->account = fld[A_ACCOUNTCODE];
	if (strcasecmp(fld[A_LASTAPP], "MessageSend") == 0 ||
	    strcasecmp(fld[A_LASTAPP], "SMS") == 0)
		c->type = CDR_SMS;
	format_numbers(f, c, fld[A_SRC], fld[A_DST]);

	/* One call dialled to several targets writes a row per leg, all with
	 * the caller's uniqueid: the key must tell the legs apart. */
	if (sequence >= 0)
		return format_key(f, c, "%s/%s", uniqueid >= 0 && fld[uniqueid][0] ?
		    fld[uniqueid] : fld[linkedid], fld[sequence]);
	return format_key(f, c, "%s|%s|%s|%s|%s|%s",
	    uniqueid >= 0 ? fld[uniqueid] : "", fld[A_CHANNEL], fld[A_DSTCHANNEL],
	    fld[A_START], fld[A_ANSWER], fld[A_END]);
}
