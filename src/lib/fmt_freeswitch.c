/*
 * FreeSWITCH mod_cdr_csv, "example" template: 15 quoted columns.
 * FreeSWITCH writes values between quotes without escaping quotes inside
 * them, so a caller name like  John "JJ" Doe  breaks strict CSV, and a ""
 * inside a value must not be read as an escaped quote.  So a line wholly
 * in quotes is split on its "," separators first.  The split is kept when
 * it gives exactly 15 pieces and none of them starts with '"' or ',' or
 * ends with ',': those are the only ways a value can move a separator, so
 * what is kept cannot be read two ways.  Otherwise the line is read as
 * strict CSV, and rejected when that fails too.
 */
#include <string.h>

#include "tally/format.h"

enum {
	F_CID_NAME, F_CID_NUMBER, F_DEST, F_CONTEXT, F_START, F_ANSWER, F_END,
	F_DURATION, F_BILLSEC, F_CAUSE, F_UUID, F_BLEG_UUID, F_ACCOUNTCODE,
	F_READ_CODEC, F_WRITE_CODEC, F_NCOLS
};

/* Q.850 cause names as FreeSWITCH spells them, and the disposition of a
 * call that ended with the cause before being answered. */
static const struct cause {
	const char *name;
	enum cdr_disposition disp;
} causes[] = {
	{ "UNSPECIFIED", CDR_FAILED },
	{ "UNALLOCATED_NUMBER", CDR_FAILED },
	{ "UNALLOCATED", CDR_FAILED },		/* older releases' name for 1 */
	{ "NO_ROUTE_TRANSIT_NET", CDR_FAILED },
	{ "NO_ROUTE_DESTINATION", CDR_FAILED },
	{ "CHANNEL_UNACCEPTABLE", CDR_FAILED },
	{ "CALL_AWARDED_DELIVERED", CDR_FAILED },
	{ "NORMAL_CLEARING", CDR_NO_ANSWER },
	{ "USER_BUSY", CDR_BUSY },
	{ "NO_USER_RESPONSE", CDR_NO_ANSWER },
	{ "NO_ANSWER", CDR_NO_ANSWER },
	{ "SUBSCRIBER_ABSENT", CDR_NO_ANSWER },
	{ "CALL_REJECTED", CDR_FAILED },
	{ "NUMBER_CHANGED", CDR_FAILED },
	{ "REDIRECTION_TO_NEW_DESTINATION", CDR_FAILED },
	{ "EXCHANGE_ROUTING_ERROR", CDR_FAILED },
	{ "DESTINATION_OUT_OF_ORDER", CDR_FAILED },
	{ "INVALID_NUMBER_FORMAT", CDR_FAILED },
	{ "FACILITY_REJECTED", CDR_FAILED },
	{ "RESPONSE_TO_STATUS_ENQUIRY", CDR_FAILED },
	{ "NORMAL_UNSPECIFIED", CDR_FAILED },
	{ "NORMAL_CIRCUIT_CONGESTION", CDR_CONGESTION },
	{ "NETWORK_OUT_OF_ORDER", CDR_FAILED },
	{ "NORMAL_TEMPORARY_FAILURE", CDR_FAILED },
	{ "SWITCH_CONGESTION", CDR_CONGESTION },
	{ "ACCESS_INFO_DISCARDED", CDR_FAILED },
	{ "REQUESTED_CHAN_UNAVAIL", CDR_CONGESTION },
	{ "PRE_EMPTED", CDR_FAILED },
	{ "FACILITY_NOT_SUBSCRIBED", CDR_FAILED },
	{ "OUTGOING_CALL_BARRED", CDR_FAILED },
	{ "INCOMING_CALL_BARRED", CDR_FAILED },
	{ "BEARERCAPABILITY_NOTAUTH", CDR_FAILED },
	{ "BEARERCAPABILITY_NOTAVAIL", CDR_FAILED },
	{ "SERVICE_UNAVAILABLE", CDR_FAILED },
	{ "BEARERCAPABILITY_NOTIMPL", CDR_FAILED },
	{ "CHAN_NOT_IMPLEMENTED", CDR_FAILED },
	{ "FACILITY_NOT_IMPLEMENTED", CDR_FAILED },
	{ "SERVICE_NOT_IMPLEMENTED", CDR_FAILED },
	{ "INVALID_CALL_REFERENCE", CDR_FAILED },
	{ "INCOMPATIBLE_DESTINATION", CDR_FAILED },
	{ "INVALID_MSG_UNSPECIFIED", CDR_FAILED },
	{ "MANDATORY_IE_MISSING", CDR_FAILED },
	{ "MESSAGE_TYPE_NONEXIST", CDR_FAILED },
	{ "WRONG_MESSAGE", CDR_FAILED },
	{ "IE_NONEXIST", CDR_FAILED },
	{ "INVALID_IE_CONTENTS", CDR_FAILED },
	{ "WRONG_CALL_STATE", CDR_FAILED },
	{ "RECOVERY_ON_TIMER_EXPIRE", CDR_FAILED },
	{ "MANDATORY_IE_LENGTH_ERROR", CDR_FAILED },
	{ "PROTOCOL_ERROR", CDR_FAILED },
	{ "INTERWORKING", CDR_FAILED },
	{ "SUCCESS", CDR_FAILED },
	{ "ORIGINATOR_CANCEL", CDR_CANCELLED },
	{ "CRASH", CDR_FAILED },
	{ "SYSTEM_SHUTDOWN", CDR_FAILED },
	{ "LOSE_RACE", CDR_CANCELLED },
	{ "MANAGER_REQUEST", CDR_CANCELLED },
	{ "BLIND_TRANSFER", CDR_FAILED },
	{ "ATTENDED_TRANSFER", CDR_FAILED },
	{ "ALLOTTED_TIMEOUT", CDR_NO_ANSWER },
	{ "USER_CHALLENGE", CDR_FAILED },
	{ "MEDIA_TIMEOUT", CDR_FAILED },
	{ "PICKED_OFF", CDR_CANCELLED },
	{ "USER_NOT_REGISTERED", CDR_FAILED },
	{ "PROGRESS_TIMEOUT", CDR_NO_ANSWER },
	{ "INVALID_GATEWAY", CDR_FAILED },
	{ "GATEWAY_DOWN", CDR_FAILED },
	{ "INVALID_URL", CDR_FAILED },
	{ "INVALID_PROFILE", CDR_FAILED },
	{ "NO_PICKUP", CDR_NO_ANSWER },
	{ "SRTP_READ_ERROR", CDR_FAILED },
	{ "BOWOUT", CDR_FAILED },
	{ "BUSY_EVERYWHERE", CDR_BUSY },
	{ "DECLINE", CDR_FAILED },
	{ "DOES_NOT_EXIST_ANYWHERE", CDR_FAILED },
	{ "NOT_ACCEPTABLE", CDR_FAILED },
	{ "UNWANTED", CDR_FAILED },
	{ "NO_IDENTITY", CDR_FAILED },
	{ "BAD_IDENTITY_INFO", CDR_FAILED },
	{ "UNSUPPORTED_CERTIFICATE", CDR_FAILED },
	{ "INVALID_IDENTITY", CDR_FAILED },
	{ "STALE_DATE", CDR_FAILED },
	{ "REJECT_ALL", CDR_FAILED },
};

static const struct cause *
cause_lookup(const char *name)
{
	for (size_t i = 0; i < sizeof causes / sizeof causes[0]; i++)
		if (strcmp(causes[i].name, name) == 0)
			return &causes[i];
	return NULL;
}

/* Split "v1","v2",...,"v15" on the "," separators into f->scratch.
 * Returns the number of pieces, or -1 when the line is not wholly quoted. */
static int
split_unescaped(struct format *f, const char *line, size_t len,
    const char *fld[F_NCOLS])
{
	char *s, *p;
	int n = 0;

	if (len < 2 || line[0] != '"' || line[len - 1] != '"')
		return -1;
	if (format_scratch(f, len) != 0)
		return -1;
	s = f->scratch;
	memcpy(s, line + 1, len - 2);
	s[len - 2] = '\0';
	for (p = s;; p += 3) {
		char *sep = strstr(p, "\",\"");

		if (n == F_NCOLS)
			return -1;	/* too many: not this way */
		fld[n++] = p;
		if (sep == NULL)
			break;
		*sep = '\0';
		p = sep;
	}
	for (int i = 0; i < n; i++) {
		size_t plen = strlen(fld[i]);

		if (fld[i][0] == '"' || fld[i][0] == ',' || (plen && fld[i][plen - 1] == ','))
			return -1;	/* ambiguous */
	}
	return n;
}

int
fmt_freeswitch_parse(struct format *f, const char *line, size_t len,
    struct cdr *c, struct cdr_reject *r)
{
	const char *fld[F_NCOLS];
	const struct cause *cause;
	int n;
	/* columns F_START..F_BILLSEC, in the order format_switch_times wants */
	static const char *const names[SWT_N] = {
		"start_stamp", "answer_stamp", "end_stamp", "duration", "billsec"
	};

	if (split_unescaped(f, line, len, fld) != F_NCOLS) {
		if ((n = csvline_split(f->csv, line, len)) < 0)
			return cdr_reject(r, "line", "malformed CSV quoting");
		if (n != F_NCOLS)
			return cdr_reject(r, "line", "%d columns, expected 15", n);
		for (int i = 0; i < n; i++)
			fld[i] = csvline_field(f->csv, i);
	}

	if (format_switch_times(f, names, fld + F_START, c, r) != 0)
		return -1;
	if ((cause = cause_lookup(fld[F_CAUSE])) == NULL)
		return cdr_reject(r, "hangup_cause", "unknown hangup cause \"%.64s\"",
		    fld[F_CAUSE]);
	c->disposition = c->has_answer ? CDR_ANSWERED : cause->disp;
	if (fld[F_UUID][0] == '\0')
		return cdr_reject(r, "uuid", "empty");
	c->account = fld[F_ACCOUNTCODE];
	if (format_numbers(f, c, fld[F_CID_NUMBER], fld[F_DEST], r) != 0)
		return -1;
	return format_key(f, c, "%s", fld[F_UUID]);
}
