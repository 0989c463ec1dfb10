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
	free(f->legacy);
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
	if (o->mixed_layouts && kind != FORMAT_ASTERISK) {
		terr_set(e, "mixed layouts are only for format asterisk");
		goto fail;
	}
	f->mixed_layouts = o->mixed_layouts;
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
	f->layout = 0;
	f->scanned = 0;
	memset(f->layout_lines, 0, sizeof f->layout_lines);
	memset(f->layout_first, 0, sizeof f->layout_first);
}

int
format_wants_scan(const struct format *f)
{
	return f->kind == FORMAT_ASTERISK && !f->mixed_layouts;
}

void
format_scan(struct format *f, const char *line, size_t len)
{
	int n = csvline_split(f->csv, line, len);

	f->scanned++;
	/* only the layouts a line may have (asterisk's 16 to 21 columns) */
	if (n >= 16 && n <= FORMAT_MAX_COLUMNS && f->layout_lines[n]++ == 0)
		f->layout_first[n] = f->scanned;
}

int
format_file_layout(struct format *f, int n)
{
	if (f->layout != 0)
		return f->layout;
	f->layout = n;
	for (int i = 1; i <= FORMAT_MAX_COLUMNS; i++) {
		uint64_t best = f->layout_lines[f->layout];

		if (f->layout_lines[i] > best || (f->layout_lines[i] == best &&
		    best > 0 && f->layout_first[i] < f->layout_first[f->layout]))
			f->layout = i;
	}
	return f->layout;
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

/*
 * Where the line carries the switch's own seconds, they are what is billed:
 * the switch measured them at sub-second precision and wrote the times cut
 * to whole seconds, so the times' differences may be one more or one less
 * (Asterisk's main/cdr.c, cdr_object_get_duration() and
 * cdr_object_get_billsec(): milliseconds between the timevals / 1000,
 * billsec rounded half up instead with cdr.conf initiatedseconds, while
 * cdr_csv prints each time's whole seconds; FreeSWITCH's
 * switch_channel_set_timestamps() subtracts the whole-second times, so
 * they agree exactly).  More than one second apart, the line contradicts
 * itself and is rejected.  A call that was not answered bills nothing.
 */
static int
switch_seconds(struct format *f, struct cdr *c, struct cdr_reject *r)
{
	if (f->sw_duration_name != NULL) {
		if (c->duration - f->sw_duration > 1 || f->sw_duration - c->duration > 1)
			return cdr_reject(r, f->sw_duration_name, "%s is %lld seconds but "
			    "end - start is %lld: more than 1 second apart",
			    f->sw_duration_name, (long long)f->sw_duration,
			    (long long)c->duration);
		c->duration = f->sw_duration;
	}
	if (f->sw_billsec_name != NULL && c->has_answer) {
		if (c->billsec - f->sw_billsec > 1 || f->sw_billsec - c->billsec > 1)
			return cdr_reject(r, f->sw_billsec_name, "%s is %lld seconds but "
			    "end - answer is %lld: more than 1 second apart",
			    f->sw_billsec_name, (long long)f->sw_billsec,
			    (long long)c->billsec);
		c->billsec = f->sw_billsec;
	}
	return 0;
}

void
format_switch_seconds(struct format *f, const char *duration_name,
    int64_t duration, const char *billsec_name, int64_t billsec)
{
	f->sw_duration_name = duration_name;
	f->sw_duration = duration;
	f->sw_billsec_name = billsec_name;
	f->sw_billsec = billsec;
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
	f->sw_duration_name = f->sw_billsec_name = NULL;
	if (parsers[f->kind](f, line, len, c, r) != 0 || cdr_finish(c, r) != 0)
		return -1;
	return switch_seconds(f, c, r);
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
	int64_t duration, billsec;

	if (format_time(f, name[SWT_START], text[SWT_START], &c->start, r) != 0 ||
	    format_time(f, name[SWT_END], text[SWT_END], &c->end, r) != 0)
		return -1;
	if (text[SWT_ANSWER][0] != '\0') {
		if (format_time(f, name[SWT_ANSWER], text[SWT_ANSWER], &c->answer, r) != 0)
			return -1;
		c->has_answer = 1;
	}
	if (format_seconds(name[SWT_DURATION], text[SWT_DURATION], &duration, r) != 0 ||
	    format_seconds(name[SWT_BILLSEC], text[SWT_BILLSEC], &billsec, r) != 0)
		return -1;
	format_switch_seconds(f, name[SWT_DURATION], duration, name[SWT_BILLSEC], billsec);
	return 0;
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

/* vsnprintf into *buf, growing it as needed. */
static int key_print(char **buf, size_t *cap, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static int
key_print(char **buf, size_t *cap, const char *fmt, va_list ap)
{
	for (;;) {
		va_list aq;
		int n;

		va_copy(aq, ap);
		n = vsnprintf(*buf, *cap, fmt, aq);
		va_end(aq);
		if (n < 0)
			return -1;
		if ((size_t)n < *cap)
			return 0;
		char *k = realloc(*buf, (size_t)n + 1);
		if (k == NULL)
			return -1;
		*buf = k;
		*cap = (size_t)n + 1;
	}
}

int
format_key(struct format *f, struct cdr *c, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = key_print(&f->key, &f->keycap, fmt, ap);
	va_end(ap);
	if (rc == 0)
		c->record_key = f->key;
	return rc;
}

int
format_legacy_key(struct format *f, struct cdr *c, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = key_print(&f->legacy, &f->legacycap, fmt, ap);
	va_end(ap);
	if (rc == 0)
		c->legacy_key = f->legacy;
	return rc;
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
