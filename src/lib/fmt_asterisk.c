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
	/* columns A_START..A_BILLSEC, in the order format_switch_times wants */
	static const char *const names[SWT_N] = {
		"start", "answer", "end", "duration", "billsec"
	};

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

	if (format_switch_times(f, names, fld + A_START, c, r) != 0)
		return -1;
	if (cdr_disposition_parse(fld[A_DISPOSITION], &disp) != 0)
		return cdr_reject(r, "disposition", "unknown disposition \"%.64s\"",
		    fld[A_DISPOSITION]);
	c->disposition = disp;
	c->account = fld[A_ACCOUNTCODE];
	if (strcasecmp(fld[A_LASTAPP], "MessageSend") == 0 ||
	    strcasecmp(fld[A_LASTAPP], "SMS") == 0)
		c->type = CDR_SMS;
	if (format_numbers(f, c, fld[A_SRC], fld[A_DST], r) != 0)
		return -1;

	/* One call dialled to several targets writes a row per leg, all with
	 * the caller's uniqueid: the key must tell the legs apart. */
	if (sequence >= 0)
		return format_key(f, c, "%s/%s", uniqueid >= 0 && fld[uniqueid][0] ?
		    fld[uniqueid] : fld[linkedid], fld[sequence]);
	return format_key(f, c, "%s|%s|%s|%s|%s|%s",
	    uniqueid >= 0 ? fld[uniqueid] : "", fld[A_CHANNEL], fld[A_DSTCHANNEL],
	    fld[A_START], fld[A_ANSWER], fld[A_END]);
}
