/*
 * replay.h - re-rate a batch's CDRs one by one, each from the state stored
 * with its rating, and compare with what is stored.
 *
 * With version 0 each CDR is re-rated with the tariff version it was rated
 * with: any difference means the store or the program changed.  With a
 * version, it is a what-if: the same CDRs from the same positions, priced
 * by that version; CDRs that another reseller's versions priced are left
 * out (counted in `skipped`).
 *
 * Bundle windows run through all of a payer's CDRs, not one batch: without
 * a what-if, the windows of every payer of the batch that has some are
 * worked out again from all its stored CDRs and compared with the stored
 * ones (record key "window PAYER #N").
 */
#ifndef TALLY_REPLAY_H
#define TALLY_REPLAY_H

#include <stdint.h>

#include "tally/store.h"
#include "tally/terr.h"

struct replay_diff {
	int64_t cdr;
	const char *record_key;
	/* status, reason, payer, class, destination, billed_seconds, amount,
	 * piece N; for a window: count, bundle, start, end, ended, granted,
	 * rolled_in, used, rolled_out, forfeited, price */
	const char *field;
	char stored[512], replayed[512];
};

struct replay_summary {
	uint64_t cdrs, differing, differences;
	uint64_t skipped;	/* what-if: CDRs priced by another reseller */
	uint64_t windows, windows_differing;
};

int replay_batch(struct store *s, int64_t batch, int64_t version,
    void (*fn)(const struct replay_diff *, void *), void *arg,
    struct replay_summary *sum, struct terr *e);

#endif
