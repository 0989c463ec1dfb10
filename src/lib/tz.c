#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tally/tz.h"

#define SLOT_SECONDS 900	/* offsets change on quarter hours at worst */
/* A month is 2976 slots and CDR files mix a month's calls in any order:
 * 8192 slots (128 KiB per zone) keep three months without evictions. */
#define CACHE_SIZE 8192

struct slot {
	int64_t key;		/* slot number + 1; 0 = empty */
	int32_t offset;		/* local - UTC, seconds */
	int gap;		/* the slot's readings never happen */
	int irregular;		/* the offset changes inside the slot: no caching */
};

struct tz {
	char name[128];
	int utc;		/* fast path: no rules to consult */
	struct slot cache[CACHE_SIZE];	/* by local slot: local -> UTC */
	struct slot ucache[CACHE_SIZE];	/* by UTC slot: UTC -> local */
};

static int
zone_file_ok(const char *name)
{
	const char *dir = getenv("TZDIR");
	char path[512], magic[4];
	FILE *f;
	int ok;

	if (name[0] == '\0' || name[0] == '/' || strstr(name, "..") != NULL)
		return 0;
	snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", name);
	if ((f = fopen(path, "rb")) == NULL)
		return 0;
	ok = fread(magic, 1, 4, f) == 4 && memcmp(magic, "TZif", 4) == 0;
	fclose(f);
	return ok;
}

struct tz *
tz_open(const char *name, struct terr *e)
{
	struct tz *z;
	int utc = strcmp(name, "UTC") == 0 || strcmp(name, "Etc/UTC") == 0;

	if (strlen(name) >= sizeof z->name || (!utc && !zone_file_ok(name))) {
		terr_set(e, "unknown time zone \"%s\"", name);
		return NULL;
	}
	if ((z = calloc(1, sizeof *z)) == NULL) {
		terr_set(e, "out of memory");
		return NULL;
	}
	tally_strlcpy(z->name, name, sizeof z->name);
	z->utc = utc;
	return z;
}

void
tz_free(struct tz *z)
{
	free(z);
}

const char *
tz_name(const struct tz *z)
{
	return z->name;
}

/* Point the C library at zone z (only when it changes: tzset is slow). */
static void
use_zone(const struct tz *z)
{
	static char current[sizeof z->name];

	if (strcmp(current, z->name) != 0) {
		setenv("TZ", z->name, 1);
		tzset();
		tally_strlcpy(current, z->name, sizeof current);
	}
}

/* Does instant t read exactly as c in the current TZ? */
static int
reads_as(time_t t, const struct civil *c)
{
	struct tm tm;

	return localtime_r(&t, &tm) != NULL && tm.tm_year + 1900 == c->year &&
	    tm.tm_mon + 1 == c->mon && tm.tm_mday == c->day &&
	    tm.tm_hour == c->hour && tm.tm_min == c->min && tm.tm_sec == c->sec;
}

/*
 * The offset (and gap) of one local reading L.  Every instant that reads as
 * L is L - o for an offset o in force near L, so: gather the offsets in
 * force within two days of L (no rule changes twice in less), keep those o
 * for which L - o reads back as L, and take the earliest instant.  This
 * relies on localtime_r() only; mktime() does not converge across some old
 * transitions at odd minutes.
 */
static void
reading_compute(struct tz *z, const struct civil *c, struct slot *s)
{
	int64_t L = civil_as_utc(c), best = 0;
	long offs[24];
	int n = 0, found = 0;

	use_zone(z);
	for (int k = -8; k <= 8; k++) {
		time_t probe = (time_t)(L + k * 6 * 3600);
		struct tm tm;
		int seen = 0;

		if (localtime_r(&probe, &tm) == NULL)
			continue;
		for (int i = 0; i < n; i++)
			seen |= offs[i] == tm.tm_gmtoff;
		if (!seen && n < (int)(sizeof offs / sizeof offs[0]))
			offs[n++] = tm.tm_gmtoff;
	}
	for (int i = 0; i < n; i++) {
		int64_t t = L - offs[i];

		if (reads_as((time_t)t, c) && (!found || t < best)) {
			best = t;
			found = 1;
		}
	}
	s->gap = !found;
	s->offset = found ? (int32_t)(L - best) : 0;
}

/* A slot: the offset of its first reading, unless its last reading has a
 * different one (an old rule changing at an odd minute), then irregular. */
static void
slot_compute(struct tz *z, int64_t slotno, struct slot *s)
{
	struct civil first, last;
	struct slot end;

	civil_from_utc(slotno * SLOT_SECONDS, &first);
	civil_from_utc(slotno * SLOT_SECONDS + SLOT_SECONDS - 1, &last);
	reading_compute(z, &first, s);
	reading_compute(z, &last, &end);
	s->irregular = end.gap != s->gap || end.offset != s->offset;
}

int
tz_to_utc(struct tz *z, const struct civil *local, int64_t *out)
{
	int64_t lsec = civil_as_utc(local), slotno;
	struct slot *s, exact;

	if (z->utc) {
		*out = lsec;
		return 0;
	}
	slotno = lsec >= 0 ? lsec / SLOT_SECONDS : -((-lsec + SLOT_SECONDS - 1) / SLOT_SECONDS);
	s = &z->cache[(uint64_t)slotno % CACHE_SIZE];
	if (s->key != slotno + 1) {
		slot_compute(z, slotno, s);
		s->key = slotno + 1;
	}
	if (s->irregular) {
		reading_compute(z, local, &exact);
		s = &exact;
	}
	if (s->gap)
		return -1;
	*out = lsec - s->offset;
	return 0;
}

void
tz_from_utc(struct tz *z, int64_t t, struct civil *out)
{
	int64_t slotno = t >= 0 ? t / SLOT_SECONDS : -((-t + SLOT_SECONDS - 1) / SLOT_SECONDS);
	struct slot *s = &z->ucache[(uint64_t)slotno % CACHE_SIZE];

	if (!z->utc && s->key != slotno + 1) {
		time_t first = (time_t)(slotno * SLOT_SECONDS), last = first + SLOT_SECONDS - 1;
		struct tm tm;

		use_zone(z);
		localtime_r(&last, &tm);
		s->irregular = tm.tm_gmtoff;
		localtime_r(&first, &tm);
		s->offset = (int32_t)tm.tm_gmtoff;
		s->irregular = s->irregular != tm.tm_gmtoff;
		s->key = slotno + 1;
	}
	if (!z->utc && s->irregular) {
		time_t tt = (time_t)t;
		struct tm tm;

		use_zone(z);
		localtime_r(&tt, &tm);
		civil_from_utc(t + tm.tm_gmtoff, out);
		return;
	}
	civil_from_utc(t + (z->utc ? 0 : s->offset), out);
}

int64_t
tz_day_start(struct tz *z, int year, int mon, int day)
{
	struct civil c = { .year = year, .mon = mon, .day = day };
	int64_t t = 0;

	for (int i = 0; i < 24 * 60 && tz_to_utc(z, &c, &t) != 0; i++)
		civil_from_utc(civil_as_utc(&c) + 60, &c);
	return t;
}
