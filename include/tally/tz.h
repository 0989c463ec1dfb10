/*
 * tz.h - IANA time zones: a switch's local wall-clock time to UTC.
 *
 * The zone rules come from the system's tzdata (TZif files under $TZDIR or
 * /usr/share/zoneinfo), through the C library's mktime().  That keeps tally
 * in step with every rule change Debian ships, at the price of process-wide
 * state: converting a reading sets the TZ environment variable.  Results
 * are cached per 15-minute slot of local time (today's rules change offset
 * only on such a boundary; a slot whose start and end disagree, as under
 * some historic rules, is computed reading by reading), so mktime() runs a
 * few times per day of CDRs, not per CDR.  Not thread-safe: use one thread for conversions.
 */
#ifndef TALLY_TZ_H
#define TALLY_TZ_H

#include <stdint.h>

#include "tally/terr.h"
#include "tally/timefmt.h"

struct tz;

/* Open a zone by IANA name ("Asia/Ho_Chi_Minh", "UTC").  An unknown name
 * is an error, never a silent fall-back to UTC. */
struct tz *tz_open(const char *name, struct terr *e);
void tz_free(struct tz *z);
const char *tz_name(const struct tz *z);

/*
 * The instant at which clocks in the zone read `local`.  A reading that
 * happens twice (clocks set back) gives the earlier instant.  Returns 0, or
 * -1 for a reading that never happens (clocks set forward over it).
 */
int tz_to_utc(struct tz *z, const struct civil *local, int64_t *out);

/* The wall-clock reading of instant t in the zone. */
void tz_from_utc(struct tz *z, int64_t t, struct civil *out);
/* The first instant of a local date: its midnight, or the first minute
 * that happens where clocks skip midnight. */
int64_t tz_day_start(struct tz *z, int year, int mon, int day);

#endif
