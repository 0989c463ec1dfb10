#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tally/format.h"

static const char *const kind_names[] = {
	[FORMAT_ASTERISK] = "asterisk",
	[FORMAT_FREESWITCH] = "freeswitch",
	[FORMAT_KAMAILIO] = "kamailio",
	[FORMAT_CSV] = "csv",
};

static const char *const kam_default_keys[KAM_NFIELDS] = {
	[KAM_CALLER] = "src_user",
	[KAM_CALLEE] = "dst_user",
	[KAM_CALLID] = "callid",
	[KAM_ACCOUNT] = "account",
};

int
format_kind_parse(const char *name, enum format_kind *out)
{
	for (int k = FORMAT_ASTERISK; k <= FORMAT_CSV; k++) {
		if (strcmp(name, kind_names[k]) == 0) {
			*out = (enum format_kind)k;
			return 0;
		}
	}
	return -1;
}

const char *
format_kind_name(enum format_kind k)
{
	return kind_names[k];
}

void
format_free(struct format *f)
{
	if (f == NULL)
		return;
	tz_free(f->tz);
	csvline_free(f->csv);
	free(f->key);
	free(f->scratch);
	for (int i = 0; i < KAM_NFIELDS; i++)
		free(f->kam_keys[i]);
	for (int i = 0; i < CSVF_N; i++)
		free(f->colname[i]);
	free(f);
}

struct format *
format_open(enum format_kind kind, const struct format_opts *o, struct terr *e)
{
	struct format *f = calloc(1, sizeof *f);
	const char *zone = o->tz;

	if (f == NULL) {
		terr_set(e, "out of memory");
		return NULL;
	}
	f->kind = kind;
	f->numbering = o->numbering;
	f->delim = ',';
	if (kind == FORMAT_CSV) {
		if (o->map_path == NULL) {
			terr_set(e, "format csv needs a column map (--map FILE)");
			goto fail;
		}
		if (fmt_csv_open(f, o->map_path, e) != 0)
			goto fail;
		if (zone == NULL && f->map_tz[0] != '\0')
			zone = f->map_tz;
	} else if (o->map_path != NULL) {
		terr_set(e, "a column map (--map) is only for format csv");
		goto fail;
	}
	if (kind == FORMAT_KAMAILIO) {
		for (int i = 0; i < KAM_NFIELDS; i++) {
			const char *k = o->kam_keys[i] ? o->kam_keys[i] : kam_default_keys[i];

			if ((f->kam_keys[i] = strdup(k)) == NULL) {
				terr_set(e, "out of memory");
				goto fail;
			}
		}
	}
	if ((f->tz = tz_open(zone ? zone : "UTC", e)) == NULL)
		goto fail;
	if ((f->csv = csvline_new(f->delim)) == NULL) {
		terr_set(e, "out of memory");
		goto fail;
	}
	format_begin_file(f);
	return f;
fail:
	format_free(f);
	return NULL;
}

void
format_begin_file(struct format *f)
{
	f->header_pending = f->kind == FORMAT_CSV;
}

int
format_needs_header(const struct format *f)
{
	return f->header_pending;
}

int
format_header(struct format *f, const char *line, size_t len, struct terr *e)
{
	f->header_pending = 0;
	return fmt_csv_header(f, line, len, e);
}

int
format_parse(struct format *f, const char *line, size_t len, struct cdr *c,
    struct cdr_reject *r)
{
	static int (*const parsers[])(struct format *, const char *, size_t,
	    struct cdr *, struct cdr_reject *) = {
		[FORMAT_ASTERISK] = fmt_asterisk_parse,
		[FORMAT_FREESWITCH] = fmt_freeswitch_parse,
		[FORMAT_KAMAILIO] = fmt_kamailio_parse,
		[FORMAT_CSV] = fmt_csv_parse,
	};

	memset(c, 0, sizeof *c);
	c->type = CDR_VOICE;
	if (parsers[f->kind](f, line, len, c, r) != 0)
		return -1;
	return cdr_finish(c, r);
}

int
format_time(struct format *f, const char *field, const char *text,
    int64_t *out, struct cdr_reject *r)
{
	struct civil cv;

	if (f->epoch_times) {
		int32_t usec;

		if (timefmt_parse_epoch(text, out, &usec) != 0)
			return cdr_reject(r, field, "bad time \"%.64s\"", text);
		return 0;
	}
	if (timefmt_parse(f->time_format[0] ? f->time_format : "%Y-%m-%d %H:%M:%S",
	    text, &cv) != 0)
		return cdr_reject(r, field, "bad time \"%.64s\"", text);
	if (tz_to_utc(f->tz, &cv, out) != 0)
		return cdr_reject(r, field, "time does not exist in %s", tz_name(f->tz));
	return 0;
}

int
format_switch_times(struct format *f, const char *const name[SWT_N],
    const char *const text[SWT_N], struct cdr *c, struct cdr_reject *r)
{
	int64_t secs;

	if (format_time(f, name[SWT_START], text[SWT_START], &c->start, r) != 0 ||
	    format_time(f, name[SWT_END], text[SWT_END], &c->end, r) != 0)
		return -1;
	if (text[SWT_ANSWER][0] != '\0') {
		if (format_time(f, name[SWT_ANSWER], text[SWT_ANSWER], &c->answer, r) != 0)
			return -1;
		c->has_answer = 1;
	}
	/* Checked so that a garbled row is caught, but the canonical values
	 * are recomputed from the times (tally-cdr(5)). */
	return format_seconds(name[SWT_DURATION], text[SWT_DURATION], &secs, r) != 0 ||
	    format_seconds(name[SWT_BILLSEC], text[SWT_BILLSEC], &secs, r) != 0 ? -1 : 0;
}

int
format_seconds(const char *field, const char *text, int64_t *out,
    struct cdr_reject *r)
{
	int64_t v = 0;
	const char *s = text;

	if (*s == '\0')
		return cdr_reject(r, field, "not a number: \"\"");
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > 100000000000LL)
			return cdr_reject(r, field, "not a number: \"%.64s\"", text);
		v = v * 10 + (*s - '0');
	}
	*out = v;
	return 0;
}

int
format_numbers(struct format *f, struct cdr *c, const char *caller,
    const char *callee, struct cdr_reject *r)
{
	c->caller_raw = caller;
	c->callee_raw = callee;
	if (numnorm_apply(f->numbering, caller, f->caller) != 0)
		return cdr_reject(r, "caller", "longer than %d characters", NUMNORM_MAX - 1);
	if (numnorm_apply(f->numbering, callee, f->callee) != 0)
		return cdr_reject(r, "callee", "longer than %d characters", NUMNORM_MAX - 1);
	c->caller = f->caller;
	c->callee = f->callee;
	return 0;
}

int
format_key(struct format *f, struct cdr *c, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(f->key, f->keycap, fmt, ap);
		va_end(ap);
		if (n < 0)
			return -1;
		if ((size_t)n < f->keycap)
			break;
		char *k = realloc(f->key, (size_t)n + 1);
		if (k == NULL)
			return -1;
		f->key = k;
		f->keycap = (size_t)n + 1;
	}
	c->record_key = f->key;
	return 0;
}

int
format_scratch(struct format *f, size_t n)
{
	if (n > f->scratchcap) {
		char *s = realloc(f->scratch, n);

		if (s == NULL)
			return -1;
		f->scratch = s;
		f->scratchcap = n;
	}
	return 0;
}
