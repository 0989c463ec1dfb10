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

struct pair {
	const char *key, *val;
};

/* Find the value of key among the pairs; NULL if absent. */
static const char *
lookup(const struct pair *p, int n, const char *key)
{
	for (int i = 0; i < n; i++)
		if (strcmp(p[i].key, key) == 0)
			return p[i].val;
	return NULL;
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
	struct pair pairs[64];
	int npairs = 0;
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

	while (*s && npairs < (int)(sizeof pairs / sizeof pairs[0])) {
		char *sep = strstr(s, "; "), *eq;

		if (sep)
			*sep = '\0';
		if ((eq = strchr(s, '=')) != NULL) {
			*eq = '\0';
			pairs[npairs].key = s;
			pairs[npairs].val = eq + 1;
			npairs++;
		}
		if (sep == NULL)
			break;
		s = sep + 2;
		while (*s == ' ')
			s++;
	}

	if (kam_time("start_time", lookup(pairs, npairs, "start_time"), &start_us, r) != 0 ||
	    kam_time("end_time", lookup(pairs, npairs, "end_time"), &end_us, r) != 0)
		return -1;
	if (end_us < start_us)
		return cdr_reject(r, "end_time", "end before start");
	if ((callid = lookup(pairs, npairs, f->kam_keys[KAM_CALLID])) == NULL ||
	    *callid == '\0')
		return cdr_reject(r, "callid", "missing");
	caller = lookup(pairs, npairs, f->kam_keys[KAM_CALLER]);
	callee = lookup(pairs, npairs, f->kam_keys[KAM_CALLEE]);
	account = lookup(pairs, npairs, f->kam_keys[KAM_ACCOUNT]);

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
	format_numbers(f, c, caller ? caller : "", callee ? callee : "");
	return format_key(f, c, "%s", callid);
}
