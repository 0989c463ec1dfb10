#include <stdio.h>
#include <string.h>

#include "tally/money.h"

int
money_parse(const char *s, money *out)
{
	int neg = 0, digits = 0, decimals = -1, whole = 0;
	money v = 0;

	if (*s == '-') {
		neg = 1;
		s++;
	}
	for (; *s; s++) {
		if (*s == '.' && decimals < 0) {
			decimals = 0;
			continue;
		}
		if (*s < '0' || *s > '9')
			return -1;
		if (decimals >= 0 && ++decimals > 6)
			return -1;
		/* at most 12 whole digits: 1e12 units is 1e18 micro-units, inside
		 * int64 with the decimals still to come */
		if (decimals < 0 && (whole || *s != '0') && ++whole > 12)
			return -1;
		v = v * 10 + (*s - '0');
		digits++;
	}
	if (digits == 0 || decimals == 0)
		return -1;
	for (int d = decimals < 0 ? 0 : decimals; d < 6; d++)
		v *= 10;
	*out = neg ? -v : v;
	return 0;
}

void
money_format(money m, int min_decimals, char *buf)
{
	uint64_t a = m < 0 ? (uint64_t)0 - (uint64_t)m : (uint64_t)m;
	uint64_t units = a / MONEY_SCALE, frac = a % MONEY_SCALE;
	char f[8];
	int nd = 6;

	snprintf(f, sizeof f, "%06llu", (unsigned long long)frac);
	while (nd > min_decimals && f[nd - 1] == '0')
		nd--;
	f[nd] = '\0';
	snprintf(buf, 32, "%s%llu%s%s", m < 0 ? "-" : "", (unsigned long long)units,
	    nd ? "." : "", f);
}

/* floor(a / b) for b > 0 */
static __int128
floor_div(__int128 a, __int128 b)
{
	__int128 q = a / b;

	return (a % b != 0 && a < 0) ? q - 1 : q;
}

/* Round a / b (b > 0) to an integer by rule. */
static __int128
round_div(__int128 a, __int128 b, enum money_rounding rule)
{
	switch (rule) {
	case ROUND_UP:
		return -floor_div(-a, b);
	case ROUND_DOWN:
		return floor_div(a, b);
	case ROUND_FULL:
	case ROUND_HALF_UP:
	default:
		return floor_div(2 * a + b, 2 * b);
	}
}

money
money_round(money_x60 exact, enum money_rounding rule, int decimals)
{
	money m;

	/* callers pass amounts that validation bounds (one call's charge):
	 * beyond money, the nearest end, never a wrapped figure */
	if (money_round_checked(exact, rule, decimals, &m) != 0)
		return exact < 0 ? INT64_MIN : INT64_MAX;
	return m;
}

int
money_round_checked(money_x60 exact, enum money_rounding rule, int decimals, money *out)
{
	__int128 quantum = 60, q;

	if (rule == ROUND_FULL)
		return money_narrow(round_div(exact, quantum, ROUND_HALF_UP), out);
	for (int d = decimals; d < 6; d++)
		quantum *= 10;
	/* |exact| < 2^127 and quantum >= 60, so q * (quantum / 60) cannot
	 * overflow 128 bits; only the narrowing can fail */
	q = round_div(exact, quantum, rule);
	return money_narrow(q * (quantum / 60), out);
}

int
money_narrow(__int128 v, money *out)
{
	if (v > INT64_MAX || v < INT64_MIN)
		return -1;
	*out = (money)v;
	return 0;
}

int
money_add_checked(money a, money b, money *out)
{
	money r;

	if (__builtin_add_overflow(a, b, &r))
		return -1;
	*out = r;
	return 0;
}

int
money_sub_checked(money a, money b, money *out)
{
	money r;

	if (__builtin_sub_overflow(a, b, &r))
		return -1;
	*out = r;
	return 0;
}

int
money_mul_checked(money a, int64_t b, money *out)
{
	money r;

	if (__builtin_mul_overflow(a, b, &r))
		return -1;
	*out = r;
	return 0;
}

static const char *const rounding_names[] = {
	[ROUND_FULL] = "full",
	[ROUND_HALF_UP] = "half-up",
	[ROUND_UP] = "up",
	[ROUND_DOWN] = "down",
};

int
money_rounding_parse(const char *s, enum money_rounding *out)
{
	for (int r = ROUND_FULL; r <= ROUND_DOWN; r++) {
		if (strcmp(s, rounding_names[r]) == 0) {
			*out = (enum money_rounding)r;
			return 0;
		}
	}
	return -1;
}

const char *
money_rounding_name(enum money_rounding r)
{
	return rounding_names[r];
}

int
money_currency_decimals(const char *code)
{
	static const struct {
		const char *code;
		int decimals;
	} known[] = {
		{ "VND", 0 }, { "CNY", 2 }, { "USD", 2 }, { "EUR", 2 }, { "JPY", 0 },
		{ "KRW", 0 }, { "THB", 2 }, { "SGD", 2 }, { "HKD", 2 }, { "TWD", 2 },
		{ "GBP", 2 },
	};

	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (strcmp(code, known[i].code) == 0)
			return known[i].decimals;
	return -1;
}

/*
 * Grouping and sign as a reader of that currency expects: Vietnam writes
 * 1.234.567 ₫ (dot groups, comma decimals, sign after), most others
 * ¥1,234.56.  The digits are money_format's, so nothing is rounded here.
 */
struct style {
	const char *code, *sign;
	char group, point;
	int after;
};

static const struct style styles[] = {
	{ "VND", "\xe2\x82\xab", '.', ',', 1 }, { "CNY", "\xc2\xa5", ',', '.', 0 },
	{ "JPY", "\xc2\xa5", ',', '.', 0 }, { "USD", "$", ',', '.', 0 },
	{ "EUR", "\xe2\x82\xac", '.', ',', 1 }, { "GBP", "\xc2\xa3", ',', '.', 0 },
	{ "KRW", "\xe2\x82\xa9", ',', '.', 0 },
};

static struct style
style_of(const char *currency)
{
	struct style st = { currency, currency, ',', '.', 1 };

	for (size_t i = 0; i < sizeof styles / sizeof styles[0]; i++)
		if (strcmp(currency, styles[i].code) == 0)
			st = styles[i];
	return st;
}

char
money_point(const char *currency)
{
	return style_of(currency).point;
}

void
money_display(money m, const char *currency, int min_decimals, char *buf)
{
	struct style st = style_of(currency);
	const char *p;
	char digits[32];
	int n = 0, intlen;

	money_format(m, min_decimals, digits);
	p = digits;
	if (*p == '-')
		buf[n++] = *p++;
	if (!st.after)
		n += sprintf(buf + n, "%s", st.sign);
	intlen = (int)strcspn(p, ".");
	for (int i = 0; i < intlen; i++) {
		if (i > 0 && (intlen - i) % 3 == 0)
			buf[n++] = st.group;
		buf[n++] = p[i];
	}
	if (p[intlen] == '.') {
		buf[n++] = st.point;
		n += sprintf(buf + n, "%s", p + intlen + 1);
	}
	if (st.after)
		n += sprintf(buf + n, " %s", st.sign);
	buf[n] = '\0';
}
