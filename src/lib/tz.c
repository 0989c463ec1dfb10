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
	int64_t key;		/* local slot number + 1; 0 = empty */
	int32_t offset;		/* local - UTC, seconds */
	int gap;		/* the slot's readings never happen */
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

/* Fill a cache slot from the C library's rules, for the slot's first reading. */
static void
slot_compute(struct tz *z, const struct civil *first, struct slot *s)
{
	static const int isdst_tries[] = { 0, 1, -1 };
	int found = 0;
	time_t best = 0;

	use_zone(z);
	for (size_t i = 0; i < sizeof isdst_tries / sizeof isdst_tries[0]; i++) {
		struct tm tm = { 0 };
		time_t t;

		tm.tm_year = first->year - 1900;
		tm.tm_mon = first->mon - 1;
		tm.tm_mday = first->day;
		tm.tm_hour = first->hour;
		tm.tm_min = first->min;
		tm.tm_isdst = isdst_tries[i];
		t = mktime(&tm);
		if (t == (time_t)-1 || !reads_as(t, first))
			continue;
		if (!found || t < best)
			best = t;
		found = 1;
	}
	s->gap = !found;
	s->offset = found ? (int32_t)(civil_as_utc(first) - (int64_t)best) : 0;
}

int
tz_to_utc(struct tz *z, const struct civil *local, int64_t *out)
{
	int64_t lsec = civil_as_utc(local), slotno;
	struct slot *s;

	if (z->utc) {
		*out = lsec;
		return 0;
	}
	slotno = lsec >= 0 ? lsec / SLOT_SECONDS : -((-lsec + SLOT_SECONDS - 1) / SLOT_SECONDS);
	s = &z->cache[(uint64_t)slotno % CACHE_SIZE];
	if (s->key != slotno + 1) {
		struct civil first;

		civil_from_utc(slotno * SLOT_SECONDS, &first);
		slot_compute(z, &first, s);
		s->key = slotno + 1;
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
		time_t first = (time_t)(slotno * SLOT_SECONDS);
		struct tm tm;

		use_zone(z);
		localtime_r(&first, &tm);
		s->offset = (int32_t)tm.tm_gmtoff;
		s->key = slotno + 1;
	}
	civil_from_utc(t + (z->utc ? 0 : s->offset), out);
}
