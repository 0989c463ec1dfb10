/*
 * Generic CSV with a header row, mapped to canonical fields by a small
 * "name = value" file (tally-cdr(5)).  Columns are found by header text,
 * so an export that reorders its columns keeps working.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tally/format.h"
#include "tally/timefmt.h"

static const char *const field_names[CSVF_N] = {
	[CSVF_KEY] = "key",
	[CSVF_ACCOUNT] = "account",
	[CSVF_CALLER] = "caller",
	[CSVF_CALLEE] = "callee",
	[CSVF_START] = "start",
	[CSVF_ANSWER] = "answer",
	[CSVF_END] = "end",
	[CSVF_DURATION] = "duration",
	[CSVF_BILLSEC] = "billsec",
	[CSVF_DISPOSITION] = "disposition",
	[CSVF_TYPE] = "type",
};

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int
map_setting(struct format *f, const char *path, int lineno, const char *name,
    const char *val, struct terr *e)
{
	if (strcmp(name, "delimiter") == 0) {
		if (strcmp(val, "tab") == 0)
			f->delim = '\t';
		else if (strlen(val) == 1 && val[0] != '"')
			f->delim = (unsigned char)val[0];
		else
			return terr_set(e, "%s:%d: delimiter: one character or \"tab\"",
			    path, lineno);
		return 0;
	}
	if (strcmp(name, "time_format") == 0) {
		f->epoch_times = strcmp(val, "epoch") == 0;
		if (!f->epoch_times && (timefmt_valid(val) != 0 ||
		    tally_strlcpy(f->time_format, val, sizeof f->time_format) >=
		    sizeof f->time_format))
			return terr_set(e, "%s:%d: time_format: \"%s\" uses a directive "
			    "other than %%Y %%m %%d %%H %%M %%S %%%%", path, lineno, val);
		return 0;
	}
	if (strcmp(name, "tz") == 0) {
		if (tally_strlcpy(f->map_tz, val, sizeof f->map_tz) >= sizeof f->map_tz)
			return terr_set(e, "%s:%d: tz: too long", path, lineno);
		return 0;
	}
	for (int i = 0; i < CSVF_N; i++) {
		if (strcmp(name, field_names[i]) == 0) {
			free(f->colname[i]);
			if ((f->colname[i] = strdup(val)) == NULL)
				return terr_set(e, "out of memory");
			return 0;
		}
	}
	return terr_set(e, "%s:%d: unknown name \"%s\"", path, lineno, name);
}

int
fmt_csv_open(struct format *f, const char *path, struct terr *e)
{
	FILE *fp = fopen(path, "r");
	char buf[1024];
	int lineno = 0, rc = 0;

	if (fp == NULL)
		return terr_set(e, "%s: cannot open column map", path);
	while (rc == 0 && fgets(buf, sizeof buf, fp) != NULL) {
		char *hash = strchr(buf, '#'), *eq, *name, *val;

		lineno++;
		if (hash)
			*hash = '\0';
		name = trim(buf);
		if (*name == '\0')
			continue;
		if ((eq = strchr(name, '=')) == NULL) {
			rc = terr_set(e, "%s:%d: expected \"name = value\"", path, lineno);
			break;
		}
		*eq = '\0';
		val = trim(eq + 1);
		name = trim(name);
		if (*val == '\0')
			rc = terr_set(e, "%s:%d: %s: empty value", path, lineno, name);
		else
			rc = map_setting(f, path, lineno, name, val, e);
	}
	fclose(fp);
	if (rc != 0)
		return -1;
	if (!f->colname[CSVF_CALLER] || !f->colname[CSVF_CALLEE] ||
	    !f->colname[CSVF_START])
		return terr_set(e, "%s: the map must name caller, callee and start", path);
	if (!f->colname[CSVF_END] && !f->colname[CSVF_DURATION])
		return terr_set(e, "%s: the map must name end or duration", path);
	return 0;
}

int
fmt_csv_header(struct format *f, const char *line, size_t len, struct terr *e)
{
	int n = csvline_split(f->csv, line, len);

	if (n < 0)
		return terr_set(e, "malformed CSV quoting in the header");
	f->ncols = n;
	for (int i = 0; i < CSVF_N; i++) {
		f->col[i] = -1;
		if (f->colname[i] == NULL)
			continue;
		for (int j = 0; j < n; j++) {
			if (strcmp(csvline_field(f->csv, j), f->colname[i]) != 0)
				continue;
			if (f->col[i] >= 0)
				return terr_set(e, "the header has column \"%s\" twice",
				    f->colname[i]);
			f->col[i] = j;
		}
		if (f->col[i] < 0)
			return terr_set(e, "map names column \"%s\" which the header lacks",
			    f->colname[i]);
	}
	return 0;
}

/* The column's text, or NULL when the map does not name it. */
static const char *
col(const struct format *f, enum csv_field which)
{
	return f->col[which] < 0 ? NULL : csvline_field(f->csv, f->col[which]);
}

int
fmt_csv_parse(struct format *f, const char *line, size_t len,
    struct cdr *c, struct cdr_reject *r)
{
	int n = csvline_split(f->csv, line, len);
	const char *answer, *end, *duration_text, *billsec_text, *disp, *type, *key;
	int64_t duration = 0, billsec = 0;

	if (n < 0)
		return cdr_reject(r, "line", "malformed CSV quoting");
	if (n != f->ncols)
		return cdr_reject(r, "line", "%d columns, expected %d", n, f->ncols);

	if (format_time(f, f->colname[CSVF_START], col(f, CSVF_START), &c->start, r) != 0)
		return -1;
	if ((duration_text = col(f, CSVF_DURATION)) != NULL &&
	    format_seconds(f->colname[CSVF_DURATION], duration_text, &duration, r) != 0)
		return -1;
	if ((end = col(f, CSVF_END)) != NULL) {
		if (format_time(f, f->colname[CSVF_END], end, &c->end, r) != 0)
			return -1;
	} else
		c->end = c->start + duration;
	if ((billsec_text = col(f, CSVF_BILLSEC)) != NULL &&
	    format_seconds(f->colname[CSVF_BILLSEC], billsec_text, &billsec, r) != 0)
		return -1;

	if ((disp = col(f, CSVF_DISPOSITION)) != NULL &&
	    cdr_disposition_parse(disp, &c->disposition) != 0)
		return cdr_reject(r, f->colname[CSVF_DISPOSITION],
		    "unknown disposition \"%.64s\"", disp);

	if ((answer = col(f, CSVF_ANSWER)) != NULL) {
		if (*answer != '\0') {
			if (format_time(f, f->colname[CSVF_ANSWER], answer, &c->answer, r) != 0)
				return -1;
			c->has_answer = 1;
		}
	} else if (billsec_text != NULL &&
	    (disp ? c->disposition == CDR_ANSWERED : billsec > 0)) {
		/* No answer column: the talk time says when it was answered. */
		c->answer = c->end - billsec;
		c->has_answer = 1;
	}
	if (disp == NULL)
		c->disposition = c->has_answer ? CDR_ANSWERED : CDR_NO_ANSWER;
	/* The export's own seconds, when mapped, are what is billed. */
	format_switch_seconds(f, duration_text ? f->colname[CSVF_DURATION] : NULL,
	    duration, billsec_text ? f->colname[CSVF_BILLSEC] : NULL, billsec);

	if ((type = col(f, CSVF_TYPE)) != NULL && *type != '\0') {
		if (strcasecmp(type, "sms") == 0)
			c->type = CDR_SMS;
		else if (strcasecmp(type, "voice") != 0)
			return cdr_reject(r, f->colname[CSVF_TYPE], "unknown type \"%.64s\"", type);
	}
	c->account = col(f, CSVF_ACCOUNT) ? col(f, CSVF_ACCOUNT) : "";
	if (format_numbers(f, c, col(f, CSVF_CALLER), col(f, CSVF_CALLEE), r) != 0)
		return -1;

	if ((key = col(f, CSVF_KEY)) != NULL) {
		if (*key == '\0')
			return cdr_reject(r, f->colname[CSVF_KEY], "empty");
		return format_key(f, c, "%s", key);
	}
	return format_key(f, c, "%s|%s|%s|%s", c->caller_raw, c->callee_raw,
	    col(f, CSVF_START), end ? end : col(f, CSVF_DURATION));
}
