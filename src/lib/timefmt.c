#include <stddef.h>

#include "tally/timefmt.h"

/* Howard Hinnant's days_from_civil: exact for every Gregorian date. */
int64_t
civil_days(int year, int mon, int day)
{
	int64_t y = (int64_t)year - (mon <= 2);
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t mp = (mon + 9) % 12;
	int64_t doy = (153 * mp + 2) / 5 + day - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

int64_t
civil_as_utc(const struct civil *c)
{
	return civil_days(c->year, c->mon, c->day) * 86400 +
	    c->hour * 3600 + c->min * 60 + c->sec;
}

void
civil_from_utc(int64_t t, struct civil *out)
{
	int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
	int64_t secs = t - days * 86400;
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int64_t d = doy - (153 * mp + 2) / 5 + 1;
	int64_t m = mp < 10 ? mp + 3 : mp - 9;

	out->year = (int)(yoe + era * 400 + (m <= 2));
	out->mon = (int)m;
	out->day = (int)d;
	out->hour = (int)(secs / 3600);
	out->min = (int)(secs / 60 % 60);
	out->sec = (int)(secs % 60);
}

static int
days_in_month(int year, int mon)
{
	static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return mon == 2 && leap ? 29 : dm[mon - 1];
}

/* Read between min and max decimal digits; returns chars consumed or -1. */
static int
digits(const char *s, int min, int max, int *out)
{
	int n = 0, v = 0;

	while (n < max && s[n] >= '0' && s[n] <= '9')
		v = v * 10 + (s[n++] - '0');
	if (n < min)
		return -1;
	*out = v;
	return n;
}

static int
known_directive(char c)
{
	return c == 'Y' || c == 'm' || c == 'd' || c == 'H' || c == 'M' ||
	    c == 'S' || c == '%';
}

int
timefmt_valid(const char *fmt)
{
	for (; *fmt; fmt++)
		if (*fmt == '%' && !known_directive(*++fmt))
			return -1;
	return 0;
}

int
timefmt_parse(const char *fmt, const char *text, struct civil *out)
{
	struct civil c = { 1970, 1, 1, 0, 0, 0 };
	const char *s = text;

	for (; *fmt; fmt++) {
		int n = 0, *field = NULL, width = 2;

		if (*fmt != '%') {
			if (*s++ != *fmt)
				return -1;
			continue;
		}
		switch (*++fmt) {
		case 'Y': field = &c.year; width = 4; break;
		case 'm': field = &c.mon; break;
		case 'd': field = &c.day; break;
		case 'H': field = &c.hour; break;
		case 'M': field = &c.min; break;
		case 'S': field = &c.sec; break;
		case '%':
			if (*s++ != '%')
				return -1;
			continue;
		default:
			return -1;
		}
		n = digits(s, width == 4 ? 4 : 1, width, field);
		if (n < 0)
			return -1;
		s += n;
	}
	if (*s != '\0')
		return -1;
	if (c.mon < 1 || c.mon > 12 || c.day < 1 ||
	    c.day > days_in_month(c.year, c.mon) || c.hour > 23 ||
	    c.min > 59 || c.sec > 59)
		return -1;
	*out = c;
	return 0;
}

int
timefmt_parse_epoch(const char *text, int64_t *sec, int32_t *usec)
{
	const char *s = text;
	int64_t v = 0;
	int32_t frac = 0;
	int n = 0;

	for (; *s >= '0' && *s <= '9'; s++, n++) {
		if (n >= 12)	/* year 33658: beyond any CDR; v * 1e6 stays in int64 */
			return -1;
		v = v * 10 + (*s - '0');
	}
	if (n == 0)
		return -1;
	if (*s == '.') {
		int fd = 0;

		for (s++; *s >= '0' && *s <= '9'; s++, fd++) {
			if (fd >= 6)
				return -1;
			frac = frac * 10 + (*s - '0');
		}
		if (fd == 0)
			return -1;
		for (; fd < 6; fd++)
			frac *= 10;
	}
	if (*s != '\0')
		return -1;
	*sec = v;
	*usec = frac;
	return 0;
}
