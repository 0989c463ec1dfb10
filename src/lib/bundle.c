#include <stdlib.h>
#include <string.h>

#include "tally/bundle.h"
#include "tally/timefmt.h"

const char *
bundle_end_name(enum window_end e)
{
	static const char *const names[] = { "open", "expired", "exhausted", "cancelled" };

	return names[e];
}

static const struct subscription *
sub_of(const struct bundle_state *bs)
{
	return &bs->t->subs[bs->w.sub];
}

static const struct bundle *
product(const struct bundle_state *bs)
{
	return &bs->t->bundles[sub_of(bs)->bundle];
}

/* `start` plus `days` days of the account's wall clock: 31 days from
 * 09:00 ends at 09:00 whatever the clocks did in between.  A reading the
 * clocks skip (set forward) moves to the first minute that happens. */
static int64_t
add_local_days(const struct tariff *t, int account, int64_t start, int days)
{
	struct tz *z = t->accounts[account].tz;
	struct civil c;
	int64_t out, day;

	tz_from_utc(z, start, &c);
	day = civil_days(c.year, c.mon, c.day) + days;
	for (int minutes = 0; minutes <= 24 * 60; minutes++) {
		struct civil d;
		int64_t at = day * 86400 + (int64_t)c.hour * 3600 + (int64_t)c.min * 60 + c.sec +
		    (int64_t)minutes * 60;

		civil_from_utc(at, &d);
		if (tz_to_utc(z, &d, &out) == 0)
			return out;
	}
	return start + (int64_t)days * 86400;	/* no zone skips a whole day */
}

static void
log_window(struct bundle_state *bs)
{
	struct bundle_log *lg = bs->log;

	if (lg == NULL)
		return;
	if (bs->nlog == lg->cap) {
		int cap = lg->cap ? lg->cap * 2 : 16;
		struct bundle_window *w = realloc(lg->w, (size_t)cap * sizeof *w);

		if (w == NULL) {
			bs->failed = 1;
			return;
		}
		lg->w = w;
		lg->cap = cap;
	}
	lg->w[bs->nlog++] = bs->w;
}

static void
open_window(struct bundle_state *bs, int sub, int64_t start, int64_t rolled_in)
{
	const struct subscription *s = &bs->t->subs[sub];
	const struct bundle *b = &bs->t->bundles[s->bundle];

	memset(&bs->w, 0, sizeof bs->w);
	bs->has_window = 1;
	bs->w.sub = sub;
	bs->w.seq = ++bs->seq;
	bs->w.start = start;
	bs->w.end = add_local_days(bs->t, s->account, start, b->validity_days);
	bs->w.ended = WE_OPEN;
	bs->w.granted = b->seconds;
	bs->w.rolled_in = rolled_in;
}

static int64_t
left_of(const struct bundle_window *w)
{
	return w->granted + w->rolled_in - w->used;
}

/* The window reached its end with minutes left: roll some over when a
 * next window follows, forfeit the rest. */
static void
expire(struct bundle_state *bs)
{
	const struct subscription *s = sub_of(bs);
	const struct bundle *b = product(bs);
	struct bundle_window *w = &bs->w;
	int renews = b->renewal == RENEW_AUTO && !(s->cancelled && s->cancelled <= w->end);
	/* rolled-in seconds are taken first, and live one window only */
	int64_t fresh_used = w->used > w->rolled_in ? w->used - w->rolled_in : 0;
	int64_t unused = w->granted - fresh_used, carry = 0;

	if (renews && b->rollover_percent > 0 && unused > 0) {
		carry = unused * b->rollover_percent / 100;
		if (b->granularity == GRAIN_MINUTE)
			carry -= carry % 60;
		if (b->rollover_max >= 0 && carry > b->rollover_max)
			carry = b->rollover_max;
	}
	w->ended = WE_EXPIRED;
	w->rolled_out = carry;
	w->forfeited = left_of(w) - carry;
	log_window(bs);
	bs->has_window = 0;
	if (renews)
		open_window(bs, w->sub, w->end, carry);
}

void
bundle_advance(struct bundle_state *bs, int64_t now)
{
	for (;;) {
		if (bs->has_window) {
			const struct subscription *s = sub_of(bs);

			if (s->cancelled && s->cancelled < bs->w.end && s->cancelled <= now) {
				/* cancelled: what is left is lost, nothing follows */
				bs->w.end = s->cancelled;
				bs->w.ended = WE_CANCELLED;
				bs->w.forfeited = left_of(&bs->w);
				log_window(bs);
				bs->has_window = 0;
				continue;
			}
			if (bs->w.end <= now) {
				expire(bs);
				continue;
			}
			return;
		}
		if (bs->next_sub < bs->first + bs->nsubs &&
		    bs->t->subs[bs->next_sub].activated <= now) {
			const struct subscription *s = &bs->t->subs[bs->next_sub++];

			open_window(bs, (int)(s - bs->t->subs), s->activated, 0);
			continue;
		}
		return;
	}
}

void
bundle_begin(struct bundle_state *bs, const struct tariff *t, int account,
    struct bundle_log *log)
{
	memset(bs, 0, sizeof *bs);
	bs->t = t;
	bs->log = log;
	bs->nsubs = tariff_subscriptions(t, account, &bs->first);
	bs->next_sub = bs->first;
}

void
bundle_restore(struct bundle_state *bs, const struct tariff *t, int account, int sub,
    int seq, int64_t left, struct bundle_log *log)
{
	bundle_begin(bs, t, account, log);
	bs->next_sub = bs->first + bs->nsubs;	/* only the window found */
	if (sub < 0 || sub >= t->nsubs)
		return;
	bs->has_window = 1;
	bs->seq = seq;
	bs->w.sub = sub;
	bs->w.seq = seq;
	bs->w.start = INT64_MIN;
	bs->w.end = INT64_MAX;
	bs->w.granted = left;
}

int
bundle_in_force(struct bundle_state *bs, int cls, int64_t start, int *sub, int *seq,
    int64_t *left)
{
	bundle_advance(bs, start);
	if (!bs->has_window || product(bs)->cls != cls)
		return 0;
	*sub = bs->w.sub;
	*seq = bs->w.seq;
	*left = left_of(&bs->w);
	return 1;
}

int64_t
bundle_cover(struct bundle_state *bs, int64_t rest, int64_t from, int64_t call_end,
    struct bundle_take *takes, int *ntakes)
{
	int64_t covered = 0;

	*ntakes = 0;
	while (bs->has_window && covered < rest) {
		const struct bundle *b = product(bs);
		int64_t left = left_of(&bs->w), need = rest - covered, take, at;

		if (left <= 0)
			break;	/* exhausted, priced as overage until it ends */
		if (*ntakes == BUNDLE_MAX_TAKES)
			return -1;	/* never overage while a window has seconds */
		if (b->granularity == GRAIN_MINUTE)
			need = (need + 59) / 60 * 60;
		take = need < left ? need : left;
		bs->w.used += take;
		covered += take;
		takes[*ntakes].sub = bs->w.sub;
		takes[*ntakes].seq = bs->w.seq;
		takes[(*ntakes)++].seconds = take;
		if (take < left || sub_of(bs)->on_exhaustion != EXHAUST_RENEW)
			continue;
		/* run out, and the customer chose to renew at once: the window
		 * ends now and a new one starts, whatever days were left */
		at = from + covered < call_end ? from + covered : call_end;
		bs->w.end = at;
		bs->w.ended = WE_EXHAUSTED;
		log_window(bs);
		bs->has_window = 0;
		if (!(sub_of(bs)->cancelled && sub_of(bs)->cancelled <= at))
			open_window(bs, bs->w.sub, at, 0);
	}
	return covered;
}

void
bundle_finish(struct bundle_state *bs, int64_t horizon)
{
	bundle_advance(bs, horizon - 1);
	if (bs->has_window) {
		bs->w.ended = WE_OPEN;
		log_window(bs);
	}
}

void
bundle_log_release(struct bundle_log *log)
{
	free(log->w);
	memset(log, 0, sizeof *log);
}
