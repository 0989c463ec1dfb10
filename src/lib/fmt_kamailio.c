/*
 * Kamailio acc module, dialog CDRs (cdr_enable):
 *   ... start_time=1763719205.123; end_time=1763719265.800; duration=60.677; k=v; ...
 * usually behind a syslog prefix.  Pairs are separated by "; ": a value may
 * hold a bare ';' (SIP URI parameters).  Dialog CDRs exist only for calls
 * that were answered: start_time is the moment the dialog was confirmed.
 * Times are epoch seconds with a fraction, parsed as integers.
 */
#include <string.h>

#include "tally/format.h"
#include "tally/timefmt.h"

#define USEC 1000000

/* The values wanted from a line, found in one scan of its pairs. */
struct wanted {
	const char *start, *end, *field[KAM_NFIELDS];
};

/* Take one "key=value" pair: keep the value when the key is wanted. */
static void
take(struct format *f, char *pair, struct wanted *w)
{
	char *eq = strchr(pair, '=');

	if (eq == NULL)
		return;
	*eq = '\0';
	/* the first pair with a key wins: a repeated key cannot change the
	 * record key of a CDR already stored */
	if (strcmp(pair, "start_time") == 0 && w->start == NULL)
		w->start = eq + 1;
	else if (strcmp(pair, "end_time") == 0 && w->end == NULL)
		w->end = eq + 1;
	for (int i = 0; i < KAM_NFIELDS; i++)
		if (strcmp(pair, f->kam_keys[i]) == 0 && w->field[i] == NULL)
			w->field[i] = eq + 1;
}

static int
kam_time(const char *field, const char *val, int64_t *usec, struct cdr_reject *r)
{
	int64_t s;
	int32_t us;

	if (val == NULL)
		return cdr_reject(r, field, "missing");
	if (timefmt_parse_epoch(val, &s, &us) != 0)
		return cdr_reject(r, field, "bad time \"%.64s\"", val);
	*usec = s * USEC + us;
	return 0;
}

int
fmt_kamailio_parse(struct format *f, const char *line, size_t len,
    struct cdr *c, struct cdr_reject *r)
{
	static const char marker[] = "start_time=";
	const char *at = memmem(line, len, marker, sizeof marker - 1);
	struct wanted w = { 0 };
	char *s, *end;
	int64_t start_us, end_us, span;
	const char *callid, *caller, *callee, *account;

	if (at == NULL)
		return cdr_reject(r, "line", "not an acc CDR line");
	len -= (size_t)(at - line);
	if (format_scratch(f, len + 1) != 0)
		return cdr_reject(r, "line", "out of memory");
	s = f->scratch;
	memcpy(s, at, len);
	s[len] = '\0';
	/* trailing blanks and the last ';' */
	end = s + len;
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == ';'))
		*--end = '\0';

	/* pairs are separated by "; " (a value may hold a bare ';') */
	while (*s) {
		char *sep = strstr(s, "; ");

		if (sep)
			*sep = '\0';
		take(f, s, &w);
		if (sep == NULL)
			break;
		s = sep + 2;
		while (*s == ' ')
			s++;
	}

	if (kam_time("start_time", w.start, &start_us, r) != 0 ||
	    kam_time("end_time", w.end, &end_us, r) != 0)
		return -1;
	if (end_us < start_us)
		return cdr_reject(r, "end_time", "end before start");
	if ((callid = w.field[KAM_CALLID]) == NULL || *callid == '\0')
		return cdr_reject(r, "callid", "missing");
	caller = w.field[KAM_CALLER];
	callee = w.field[KAM_CALLEE];
	account = w.field[KAM_ACCOUNT];

	/* Whole seconds: the answer time is truncated, the talk time rounded
	 * up, and the end put where those two say (tally-cdr(5)). */
	span = end_us - start_us;
	c->start = start_us / USEC;
	c->answer = c->start;
	c->has_answer = 1;
	c->billsec = (span + USEC - 1) / USEC;
	c->end = c->answer + c->billsec;
	c->disposition = CDR_ANSWERED;
	c->account = account ? account : "";
	if (format_numbers(f, c, caller ? caller : "", callee ? callee : "", r) != 0)
		return -1;
	return format_key(f, c, "%s", callid);
}
