#include <stdarg.h>
#include <stdio.h>
#include <strings.h>

#include "tally/cdr.h"
#include "tally/terr.h"

static const char *const disposition_names[] = {
	[CDR_ANSWERED] = "answered",
	[CDR_NO_ANSWER] = "no-answer",
	[CDR_BUSY] = "busy",
	[CDR_FAILED] = "failed",
	[CDR_CANCELLED] = "cancelled",
	[CDR_CONGESTION] = "congestion",
};

/* Asterisk's spellings, index-aligned with disposition_names. */
static const char *const asterisk_names[] = {
	[CDR_ANSWERED] = "ANSWERED",
	[CDR_NO_ANSWER] = "NO ANSWER",
	[CDR_BUSY] = "BUSY",
	[CDR_FAILED] = "FAILED",
	[CDR_CANCELLED] = "CANCEL",
	[CDR_CONGESTION] = "CONGESTION",
};

int
cdr_reject(struct cdr_reject *r, const char *field, const char *fmt, ...)
{
	va_list ap;

	tally_strlcpy(r->field, field, sizeof r->field);
	va_start(ap, fmt);
	vsnprintf(r->reason, sizeof r->reason, fmt, ap);
	va_end(ap);
	return -1;
}

const char *
cdr_disposition_name(enum cdr_disposition d)
{
	return disposition_names[d];
}

const char *
cdr_type_name(enum cdr_type t)
{
	return t == CDR_SMS ? "sms" : "voice";
}

int
cdr_disposition_parse(const char *s, enum cdr_disposition *out)
{
	for (int d = CDR_ANSWERED; d <= CDR_CONGESTION; d++) {
		if (strcasecmp(s, disposition_names[d]) == 0 ||
		    strcasecmp(s, asterisk_names[d]) == 0) {
			*out = (enum cdr_disposition)d;
			return 0;
		}
	}
	return -1;
}

int
cdr_finish(struct cdr *c, struct cdr_reject *r)
{
	if (c->callee_raw[0] == '\0')
		return cdr_reject(r, "callee", "empty");
	if (c->end < c->start)
		return cdr_reject(r, "end", "end before start");
	if (c->disposition != CDR_ANSWERED)
		c->has_answer = 0;
	else if (!c->has_answer)
		return cdr_reject(r, "answer", "answered call without answer time");
	if (c->has_answer) {
		if (c->answer < c->start)
			return cdr_reject(r, "answer", "answer before start");
		if (c->end < c->answer)
			return cdr_reject(r, "end", "end before answer");
	}
	c->duration = c->end - c->start;
	c->billsec = c->has_answer ? c->end - c->answer : 0;
	return 0;
}
