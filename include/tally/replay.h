/*
 * replay.h - re-rate a batch's CDRs one by one, each from the state stored
 * with its rating, and compare with what is stored.
 *
 * With version 0 each CDR is re-rated with the tariff version it was rated
 * with: any difference means the store or the program changed.  With a
 * version, it is a what-if: the same CDRs from the same positions, priced
 * by that version.
 */
#ifndef TALLY_REPLAY_H
#define TALLY_REPLAY_H

#include <stdint.h>

#include "tally/store.h"
#include "tally/terr.h"

struct replay_diff {
	int64_t cdr;
	const char *record_key;
	const char *field;	/* status, class, billed_seconds, amount, piece N */
	char stored[160], replayed[160];
};

struct replay_summary {
	uint64_t cdrs, differing, differences;
};

int replay_batch(struct store *s, int64_t batch, int64_t version,
    void (*fn)(const struct replay_diff *, void *), void *arg,
    struct replay_summary *sum, struct terr *e);

#endif
