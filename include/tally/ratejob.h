/*
 * ratejob.h - tally-rate's work over the store: decide what needs rating,
 * re-rate each affected payer's whole period with the rating core (rate.h),
 * and store the results, all in one transaction.
 *
 * What needs rating: CDRs with no rating, unrated ones, and ones rated with
 * a tariff version that is no longer their reseller's current version (nor
 * the one their period keeps).  A payer's period is re-rated whole, so that
 * tier positions never depend on the order CDRs arrived in; later periods
 * whose test minutes depend on it are re-rated too.  A period an issued
 * invoice charged some of keeps that invoice's tariff version, so that a
 * new version never re-prices invoiced calls.  The result is a function of
 * the CDRs, the current tariff versions and the versions invoiced periods
 * keep.  A period whose ratings changed is marked for its next invoice to
 * settle (tally-invoice(1), LATE CALLS).
 */
#ifndef TALLY_RATEJOB_H
#define TALLY_RATEJOB_H

#include <stdint.h>

#include "tally/store.h"
#include "tally/terr.h"

struct rate_summary {
	uint64_t cdrs, groups, rated, free, unrated;
	uint64_t windows;	/* bundle windows stored */
};

/* period ("YYYY-MM") and account (payer) narrow the run; NULL for all. */
int rate_run(struct store *s, const char *period, const char *account,
    struct rate_summary *sum, struct terr *e);

/* Work the bundle windows of every subscribed payer out to the end of
 * `period` at least, so that a period with no CDRs is invoiced its windows
 * (tally-invoice close does this first).  Rates no new CDR. */
int rate_windows_through(struct store *s, const char *period, struct terr *e);

/* The tariffs of the store's current versions, with an account index. */
struct tariff_set {
	struct tariff **t;
	int64_t *version;
	int n;
	struct { const char *id; int t, a; } *acct;	/* sorted by id */
	int nacct;
};

int tariff_set_load(struct store *s, struct tariff_set *ts, struct terr *e);
/* One stored version, for replay what-ifs. */
struct tariff *tariff_load_version(struct store *s, int64_t version, struct terr *e);
void tariff_set_release(struct tariff_set *ts);
/* The tariff and account index of an account id; -1 if unknown. */
int tariff_set_find(const struct tariff_set *ts, const char *account, int *acct);

/* "YYYY-MM" of instant t in account a's zone (UTC when a is NULL): the
 * period starting on the account's billing day of that month or before. */
void rate_period(const struct taccount *a, int64_t t, char out[8]);
/* The first instant after period "YYYY-MM" in account a's zone. */
int64_t rate_period_end(const struct taccount *a, const char *period);
/* The first instant of period "YYYY-MM" (after 0), or of the next one (1). */
int64_t rate_period_start(const struct taccount *a, const char *period, int after);

#endif
