/*
 * Asterisk cdr_csv (Master.csv).  The first 16 columns never move; what
 * follows depends on cdr.conf: loguniqueid and loguserfield add one column
 * each, newcdrcolumns adds peeraccount, linkedid and sequence.  None of
 * those optional columns goes into the record key: the same leg written
 * with 16 or with 21 columns (cdr.conf changed, or a file cut short) must
 * be one CDR, never two.  A line whose column count is not its file's
 * layout is rejected unless the source is declared to mix layouts.
 */
#include <string.h>
#include <strings.h>

#include "tally/format.h"

enum {
	A_ACCOUNTCODE, A_SRC, A_DST, A_DCONTEXT, A_CLID, A_CHANNEL,
	A_DSTCHANNEL, A_LASTAPP, A_LASTDATA, A_START, A_ANSWER, A_END,
	A_DURATION, A_BILLSEC, A_DISPOSITION, A_AMAFLAGS, A_BASE
};

static int legacy_key(struct format *f, struct cdr *c, int n, const char *const *fld);

int
fmt_asterisk_parse(struct format *f, const char *line, size_t len,
    struct cdr *c, struct cdr_reject *r)
{
	int n = csvline_split(f->csv, line, len), layout;
	const char *fld[FORMAT_MAX_COLUMNS];
	enum cdr_disposition disp;
	/* columns A_START..A_BILLSEC, in the order format_switch_times wants */
	static const char *const names[SWT_N] = {
		"start", "answer", "end", "duration", "billsec"
	};

	if (n < 0)
		return cdr_reject(r, "line", "malformed CSV quoting");
	if (n < 16 || n > 21)
		return cdr_reject(r, "line", "%d columns, expected 16 to 21", n);
	if (!f->mixed_layouts && (layout = format_file_layout(f, n)) != n)
		return cdr_reject(r, "line", "%d columns, but the file's lines have %d "
		    "(a source that mixes layouts: --mixed-layouts)", n, layout);
	for (int i = 0; i < n; i++)
		fld[i] = csvline_field(f->csv, i);

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

	/* From the 16 columns every layout has.  The channel names carry
	 * Asterisk's per-channel sequence number, so the two of them and the
	 * times tell the legs of one call apart (a ring group's legs share the
	 * caller's channel and uniqueid, not the callee's channel); src and dst
	 * tell apart messages sent through the one Message/ast_msg_queue
	 * channel in the same second. */
	if (format_key(f, c, "%s|%s|%s|%s|%s|%s|%s",
	    fld[A_CHANNEL], fld[A_DSTCHANNEL], fld[A_SRC], fld[A_DST],
	    fld[A_START], fld[A_ANSWER], fld[A_END]) != 0)
		return -1;
	return legacy_key(f, c, n, fld);
}

/*
 * The key this leg had before store schema 7, which depended on the
 * optional columns: uniqueid (or linkedid) and sequence with 19 to 21
 * columns, else uniqueid (17, 18: empty with 16), the channels and the
 * times.  A store written then holds its legs under it, and a switch's
 * growing Master.csv is read again every night: the store looks this key
 * up too, so that the upgrade does not store a second copy of every leg.
 */
static int
legacy_key(struct format *f, struct cdr *c, int n, const char *const *fld)
{
	int uniqueid = n == 17 || n == 18 || n == 20 || n == 21 ? A_BASE : -1;

	if (n >= 19)
		return format_legacy_key(f, c, "%s/%s", uniqueid >= 0 && fld[uniqueid][0] ?
		    fld[uniqueid] : fld[n - 2], fld[n - 1]);
	return format_legacy_key(f, c, "%s|%s|%s|%s|%s|%s", uniqueid >= 0 ? fld[uniqueid] : "",
	    fld[A_CHANNEL], fld[A_DSTCHANNEL], fld[A_START], fld[A_ANSWER], fld[A_END]);
}
