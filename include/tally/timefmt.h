/*
 * timefmt.h - calendar times as text and as epoch seconds, without the C
 * library's locale or time zone state.
 *
 * A `struct civil` is a wall-clock reading (year, month, day, hour, minute,
 * second) with no zone attached; tz.h turns one into an instant.  All
 * arithmetic is on integers (proleptic Gregorian calendar).
 */
#ifndef TALLY_TIMEFMT_H
#define TALLY_TIMEFMT_H

#include <stdint.h>

struct civil {
	int year, mon, day;	/* mon 1-12, day 1-31 */
	int hour, min, sec;	/* 0-23, 0-59, 0-59 */
};

/* Days from 1970-01-01 to the given date (negative before it). */
int64_t civil_days(int year, int mon, int day);

/* The civil reading as if it were UTC: seconds since the epoch. */
int64_t civil_as_utc(const struct civil *c);

/* The UTC civil reading of an epoch instant. */
void civil_from_utc(int64_t t, struct civil *out);

/*
 * Parse text by fmt, where fmt holds %Y (4 digits), %m %d %H %M %S (1 or 2
 * digits), %% and literal characters that must match exactly.  The whole
 * text must be consumed and every field be in range (day within its month).
 * Fields fmt does not mention are 0 (time) or 1 (date).  Returns 0 or -1.
 */
int timefmt_parse(const char *fmt, const char *text, struct civil *out);

/* Check that fmt uses only the directives timefmt_parse knows. */
int timefmt_valid(const char *fmt);

/*
 * Parse "SECONDS[.FRACTION]" (non-negative, at most 12 integer and 6 fraction
 * digits, so that microseconds fit in 64 bits) into
 * whole seconds and microseconds.  Returns 0 or -1.
 */
int timefmt_parse_epoch(const char *text, int64_t *sec, int32_t *usec);

#endif
