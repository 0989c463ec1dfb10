/*
 * bundle.h - minute bundles over time: an account's windows (activation,
 * renewal, exhaustion, rollover, cancellation) and the seconds calls take
 * from them.  The rules are those of tally-tariff(5), BUNDLES.
 *
 * Pure: no I/O, no clock.  A payer's calls are fed in start order; the
 * state moves forward in time only, and each window that closes is
 * appended to a log the caller stores.  The state is a plain value: a copy
 * taken before a call can be put back (a call that ends unrated takes
 * nothing), and log entries past a restored count are simply rewritten.
 */
#ifndef TALLY_BUNDLE_H
#define TALLY_BUNDLE_H

#include <stdint.h>

#include "tally/tariff.h"

enum window_end { WE_OPEN, WE_EXPIRED, WE_EXHAUSTED, WE_CANCELLED };

struct bundle_window {
	int sub;		/* subscription index in the tariff */
	int seq;		/* the account's window number, from 1 */
	int64_t start;		/* UTC */
	int64_t end;		/* when it ended, or (open) when it will */
	enum window_end ended;
	/* seconds: granted + rolled_in = used + rolled_out + forfeited once
	 * closed, and = used + what is left while open */
	int64_t granted, rolled_in, used, rolled_out, forfeited;
};

struct bundle_log {
	struct bundle_window *w;
	int cap;
};

struct bundle_state {
	const struct tariff *t;
	int first, nsubs;	/* the account's subscriptions */
	int next_sub;		/* the next one to activate */
	int has_window;
	struct bundle_window w;	/* the window in force, when has_window */
	int seq;		/* windows opened so far */
	struct bundle_log *log;	/* closed windows: log->w[0 .. nlog) */
	int nlog;
	int failed;		/* out of memory while logging */
};

/* What a call found and took: for tally-replay, and for its pieces. */
struct bundle_take {
	int sub, seq;
	int64_t seconds;
};

#define BUNDLE_MAX_TAKES 30	/* windows one call may draw on (renewals); a rating has 32 pieces */

/* Start an account's timeline, before any of its subscriptions. */
void bundle_begin(struct bundle_state *bs, const struct tariff *t, int account,
    struct bundle_log *log);

/*
 * Restore the state a call found (tally-replay): the window `seq` of
 * subscription `sub` with `left` seconds, in force for the whole call.
 * sub -1: no window was in force.
 */
void bundle_restore(struct bundle_state *bs, const struct tariff *t, int account,
    int sub, int seq, int64_t left, struct bundle_log *log);

/* Close and open windows up to instant `now` (calls must come in order). */
void bundle_advance(struct bundle_state *bs, int64_t now);

/*
 * The window a call of class `cls` starting at `start` would draw on:
 * returns 1 with its subscription, number and seconds left (0 when
 * exhausted and priced as overage), or 0 when no bundle of that class is in
 * force.  Advances the state to `start`.
 */
int bundle_in_force(struct bundle_state *bs, int cls, int64_t start, int *sub, int *seq,
    int64_t *left);

/*
 * Cover up to `rest` billed seconds of the call found in force by
 * bundle_in_force(), drawing from the window and, when it runs out and the
 * bundle renews at once, from the windows that follow.  `from` is the
 * instant the covered part begins, `call_end` the call's end: a window that
 * runs out ends at min(from + covered, call_end).  Returns the seconds
 * covered (at minute granularity they may exceed rest: the call's last
 * minute is taken whole) and fills takes[] (at most BUNDLE_MAX_TAKES), or
 * -1 when the call would need more windows than that (it is then unrated).
 */
int64_t bundle_cover(struct bundle_state *bs, int64_t rest, int64_t from, int64_t call_end,
    struct bundle_take *takes, int *ntakes);

/* Close what ends before `horizon` (exclusive), open what starts before it,
 * and log the window then in force as open. */
void bundle_finish(struct bundle_state *bs, int64_t horizon);

void bundle_log_release(struct bundle_log *log);

/* "open", "expired", "exhausted", "cancelled" */
const char *bundle_end_name(enum window_end e);

#endif
