#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tally/rate.h"
#include "tally/timefmt.h"

void
rate_local(const struct tz *z, int64_t t, int32_t *date, int *weekday, int *minute)
{
	struct civil c;

	tz_from_utc((struct tz *)z, t, &c);
	*date = c.year * 10000 + c.mon * 100 + c.day;
	/* 1970-01-01 was a Thursday: weekday 3 with Monday = 0 */
	*weekday = (int)(((civil_days(c.year, c.mon, c.day) % 7) + 7 + 3) % 7);
	*minute = c.hour * 60 + c.min;
}

/* YYYYMMDD plus n days */
static int32_t
date_add(int32_t date, int n)
{
	struct civil c;

	civil_from_utc((civil_days(date / 10000, date / 100 % 100, date % 100) + n) * 86400, &c);
	return c.year * 10000 + c.mon * 100 + c.day;
}

int
rate_piece_kind_parse(const char *name, enum piece_kind *out)
{
	for (int k = PK_TEST; k <= PK_BUNDLE; k++)
		if (strcmp(name, rate_piece_kind_name((enum piece_kind)k)) == 0) {
			*out = (enum piece_kind)k;
			return 0;
		}
	return -1;
}

int64_t
rate_billed(int64_t secs, int initial, int increment, int min_duration)
{
	int64_t b;

	if (secs <= 0)
		return 0;
	if (secs <= initial)
		b = initial;
	else
		b = initial + (secs - initial + increment - 1) / increment * increment;
	return b < min_duration ? min_duration : b;
}

void
rate_state_release(struct rate_state *st)
{
	free(st->counters);
	free(st->index);
	memset(st, 0, sizeof *st);
}

static uint64_t
counter_hash(int cls, const char *line)
{
	uint64_t h = 1469598103934665603ULL ^ (uint64_t)cls;	/* FNV-1a */

	for (; *line; line++)
		h = (h ^ (unsigned char)*line) * 1099511628211ULL;
	return h;
}

/* The counter of a class and line, created at 0; NULL when out of memory.
 * A call centre has thousands of lines: a hash, not a scan. */
static struct rate_counter *
counter(struct rate_state *st, int cls, const char *line)
{
	uint64_t h = counter_hash(cls, line);
	size_t mask, i;
	struct rate_counter *c;

	if (st->ncounters == st->cap) {
		int cap = st->cap ? st->cap * 2 : 8;
		struct rate_counter *n = realloc(st->counters, (size_t)cap * sizeof *n);
		int *idx = n ? malloc((size_t)cap * 2 * sizeof *idx) : NULL;

		if (n)
			st->counters = n;
		if (idx == NULL)
			return NULL;
		free(st->index);
		st->index = idx;
		st->cap = cap;
		memset(idx, 0xff, (size_t)cap * 2 * sizeof *idx);	/* -1: empty */
		for (int k = 0; k < st->ncounters; k++) {
			size_t m = (size_t)cap * 2 - 1;
			size_t at = counter_hash(st->counters[k].cls, st->counters[k].line) & m;

			while (idx[at] >= 0)
				at = (at + 1) & m;
			idx[at] = k;
		}
	}
	mask = (size_t)st->cap * 2 - 1;
	for (i = h & mask; st->index[i] >= 0; i = (i + 1) & mask) {
		c = &st->counters[st->index[i]];
		if (c->cls == cls && strcmp(c->line, line) == 0)
			return c;
	}
	st->index[i] = st->ncounters;
	c = &st->counters[st->ncounters++];
	memset(c, 0, sizeof *c);
	c->cls = cls;
	tally_strlcpy(c->line, line, sizeof c->line);
	return c;
}

__attribute__((format(printf, 3, 4)))
static void
set_status(struct rate_result *res, enum rate_status s, const char *fmt, ...)
{
	va_list ap;

	res->status = s;
	if (s == RS_UNRATED)
		res->npieces = 0;	/* no partial breakdown of a charge not made */
	va_start(ap, fmt);
	vsnprintf(res->reason, sizeof res->reason, fmt, ap);
	va_end(ap);
}

static struct rate_piece *
add_piece(struct rate_result *res, enum piece_kind kind, const char *label,
    int64_t seconds, money price, money_x60 exact)
{
	struct rate_piece *p;

	if (res->npieces == RATE_MAX_PIECES) {
		set_status(res, RS_UNRATED, "the call needs more than %d pieces (tiers, "
		    "bands, test minutes, connection fee)", RATE_MAX_PIECES);
		return NULL;
	}
	p = &res->pieces[res->npieces++];
	p->kind = kind;
	tally_strlcpy(p->label, label, sizeof p->label);
	p->seconds = seconds;
	p->price = price;
	p->exact = exact;
	return p;
}

int
rate_payer(const struct tariff *t, const struct cdr *c, struct rate_result *res)
{
	int acct, cls, owner;

	memset(res, 0, sizeof *res);
	res->before.bundle_sub = -1;
	res->cls = -1;
	res->payer = -1;
	res->destination = res->prefix = "";
	res->seconds = c->billsec;
	if ((acct = tariff_account(t, c->account)) < 0) {
		/* a call to a number whose owner pays is the owner's, whatever
		 * account field the switch wrote (a hotline's incoming calls
		 * often carry none) */
		if (t->owner_classes && (owner = tariff_number_owner(t, c->callee)) >= 0 &&
		    (cls = tariff_classify(t, c->type, c->caller, c->callee)) >= 0 &&
		    t->classes[cls].payer == PAYER_OWNER) {
			res->payer = owner;
			if (c->disposition != CDR_ANSWERED) {
				set_status(res, RS_FREE, "unanswered");
				return owner;
			}
			res->cls = cls;
			return owner;
		}
		if (c->account[0] == '\0')
			set_status(res, RS_UNRATED, "no account");
		else
			set_status(res, RS_UNRATED, "unknown account \"%.64s\"", c->account);
		return -1;
	}
	res->payer = acct;
	if (c->disposition != CDR_ANSWERED) {
		set_status(res, RS_FREE, "unanswered");
		return acct;
	}
	if ((cls = tariff_classify(t, c->type, c->caller, c->callee)) < 0) {
		set_status(res, RS_UNRATED, "no class matches");
		return acct;
	}
	res->cls = cls;
	if (t->classes[cls].payer == PAYER_OWNER &&
	    (owner = tariff_number_owner(t, c->callee)) >= 0)
		res->payer = owner;
	return res->payer;
}

/* The rate of a prefix's chain for a band on a date: the band's own row,
 * else the prefix's row for all times; -1 when neither is in effect. */
static int
rate_for_band(const struct tariff *t, int chain, int band, int32_t date)
{
	int any = -1;

	for (int r = chain; r >= 0; r = t->rates[r].next) {
		const struct rate *rt = &t->rates[r];

		if (rt->from > date || (rt->to != 0 && date >= rt->to))
			continue;
		if (rt->band == band && band >= 0)
			return r;
		if (rt->band < 0)
			any = r;
	}
	return any;
}

/*
 * Price `secs` charged seconds from instant `from` by a deck's bands.  The
 * rows are those in effect on the call's start date (`date`) for its whole
 * length; each piece's own time chooses only its band.
 */
static int
price_by_bands(const struct tariff *t, const struct taccount *a, int chain,
    int32_t date, int64_t from, int64_t secs, struct rate_result *res,
    money_x60 *exact)
{
	while (secs > 0) {
		int32_t d;
		int wd, min, band, r;
		int64_t run = 0, at = from;

		rate_local(a->tz, at, &d, &wd, &min);
		band = t->nband_rows ? tariff_band_at(t, d, wd, min) : -1;
		if (t->nband_rows == 0) {
			run = secs;
		} else {
			/* extend the piece minute by minute while the band holds */
			while (run < secs) {
				struct civil c;

				tz_from_utc(a->tz, at, &c);
				run += 60 - c.sec;	/* to the next minute boundary */
				at = from + run;
				rate_local(a->tz, at, &d, &wd, &min);
				if (tariff_band_at(t, d, wd, min) != band)
					break;
			}
			if (run > secs)
				run = secs;
		}
		if ((r = rate_for_band(t, chain, band, date)) < 0) {
			set_status(res, RS_UNRATED, "no rate for %s in band %s",
			    t->rates[chain].prefix[0] ? t->rates[chain].prefix : "(catch-all)",
			    band >= 0 ? t->bands[band] : "(none)");
			return -1;
		}
		money_x60 x = (money_x60)t->rates[r].price * run;
		if (add_piece(res, PK_BAND, band >= 0 ? t->bands[band] : "all", run,
		    t->rates[r].price, x) == NULL)
			return -1;
		*exact += x;
		from += run;
		secs -= run;
	}
	return 0;
}

static void
tier_label(const struct tier *tr, char *buf, size_t len)
{
	if (tr->upto < 0)
		snprintf(buf, len, "%lld-", (long long)tr->above);
	else
		snprintf(buf, len, "%lld-%lld", (long long)tr->above, (long long)tr->upto);
}

/* Price `secs` seconds by a tier set from counter position `pos`. */
static int
price_by_tiers(const struct tier_set *ts, const struct rate_counter *ctr,
    int64_t pos, int64_t secs, struct rate_result *res, money_x60 *exact)
{
	char label[64];

	if (secs == 0)
		return 0;
	if (ts->mode == TIER_VOLUME) {
		int64_t minutes = (ctr->volume_total + 59) / 60;
		const struct tier *tr = &ts->tiers[0];

		for (int i = 0; i < ts->ntiers; i++)
			if (ts->tiers[i].above < minutes &&
			    (ts->tiers[i].upto < 0 || minutes <= ts->tiers[i].upto))
				tr = &ts->tiers[i];
		tier_label(tr, label, sizeof label);
		*exact += (money_x60)tr->price * secs;
		return add_piece(res, PK_TIER, label, secs, tr->price,
		    (money_x60)tr->price * secs) ? 0 : -1;
	}
	for (int i = 0; i < ts->ntiers && secs > 0; i++) {
		const struct tier *tr = &ts->tiers[i];
		int64_t hi = tr->upto < 0 ? INT64_MAX : tr->upto * 60, take;

		if (pos >= hi)
			continue;
		take = hi - pos < secs ? hi - pos : secs;
		tier_label(tr, label, sizeof label);
		if (add_piece(res, PK_TIER, label, take, tr->price,
		    (money_x60)tr->price * take) == NULL)
			return -1;
		*exact += (money_x60)tr->price * take;
		pos += take;
		secs -= take;
	}
	return 0;
}

static void rate_cdr_body(const struct tariff *t, const struct cdr *c,
    struct rate_state *st, const struct rate_snapshot *snap, struct rate_result *res);

void
rate_cdr(const struct tariff *t, const struct cdr *c, struct rate_state *st,
    const struct rate_snapshot *snap, struct rate_result *res)
{
	int64_t test_before = st->test_used;
	struct bundle_state bundle_before;

	if (st->bundle)
		bundle_before = *st->bundle;
	rate_cdr_body(t, c, st, snap, res);
	/* A CDR that ends unrated charges nothing and uses nothing: give back
	 * any test seconds and bundle seconds it took, and bill no seconds. */
	if (res->status == RS_UNRATED) {
		if (snap == NULL)
			st->test_used = test_before;
		if (snap == NULL && st->bundle)
			*st->bundle = bundle_before;
		res->billed_seconds = 0;
		res->amount = 0;
	}
}

static void
rate_cdr_body(const struct tariff *t, const struct cdr *c, struct rate_state *st,
    const struct rate_snapshot *snap, struct rate_result *res)
{
	const struct tclass *cls;
	const struct taccount *a;
	const struct plan *pl;
	const struct plan_class *pc;
	struct rate_counter *ctr = NULL;
	money_x60 exact = 0;
	int32_t date;
	int wd, min, chain = -1, row = -1;
	int64_t billed, test = 0, covered = 0, overage;
	int64_t answer = c->has_answer ? c->answer : c->start;
	struct bundle_state replay_bundle, *bs = st->bundle;
	const struct bundle *bp = NULL;

	if (rate_payer(t, c, res) < 0 || res->status != RS_RATED)
		return;
	cls = &t->classes[res->cls];
	if (cls->payer == PAYER_NONE) {
		set_status(res, RS_FREE, "class %s is free", cls->name);
		return;
	}
	a = &t->accounts[res->payer];
	pl = &t->plans[a->plan];
	if ((pc = tariff_plan_class(t, a->plan, res->cls)) == NULL) {
		set_status(res, RS_UNRATED, "plan %s does not price class %s", pl->name,
		    cls->name);
		return;
	}
	if (pc->kind == PRICE_FREE) {
		set_status(res, RS_FREE, "plan %s: class %s is free", pl->name, cls->name);
		return;
	}
	rate_local(a->tz, c->start, &date, &wd, &min);
	if (snap != NULL) {
		st->test_used = snap->test_used;
		/* the window the call found, and nothing else of the timeline */
		bs = NULL;
		if (snap->bundle_sub >= 0) {
			bundle_restore(&replay_bundle, t, res->payer, snap->bundle_sub,
			    snap->bundle_seq, snap->bundle_left, NULL);
			bs = &replay_bundle;
		}
	}
	res->before.test_used = st->test_used;

	if (pc->kind == PRICE_DECK) {
		if ((chain = tariff_deck_lookup(t, pc->ref, c->callee, date)) < 0) {
			set_status(res, RS_UNRATED, "no prefix matches %.64s", c->callee);
			return;
		}
		/* increments and fees: the prefix's row (of the start date) for
		 * the band in force when the call is answered */
		{
			int32_t ad;
			int awd, amin;

			rate_local(a->tz, c->has_answer ? c->answer : c->start, &ad, &awd, &amin);
			row = rate_for_band(t, chain, t->nband_rows ?
			    tariff_band_at(t, ad, awd, amin) : -1, date);
		}
		if (row < 0)
			row = rate_for_band(t, chain, -1, date);
		if (row < 0) {
			set_status(res, RS_UNRATED, "no rate for %s at the answer time",
			    t->rates[chain].prefix[0] ? t->rates[chain].prefix : "(catch-all)");
			return;
		}
		res->destination = t->rates[row].destination;
		res->prefix = t->rates[row].prefix;
	}

	/* a bound that keeps price * seconds of every piece inside 64 bits
	 * (prices are at most a million units a minute) */
	if (c->billsec > RATE_MAX_SECONDS) {
		set_status(res, RS_UNRATED, "call longer than %d seconds", RATE_MAX_SECONDS);
		return;
	}
	if (c->type == CDR_SMS) {
		money p;

		if (row < 0) {
			set_status(res, RS_UNRATED, "class %s: messages need a deck", cls->name);
			return;
		}
		p = t->rates[row].price;
		res->billed_seconds = 0;
		add_piece(res, PK_MESSAGE, "message", 0, p, (money_x60)p * 60);
		res->amount = money_round((money_x60)p * 60, pl->rounding, pl->decimals);
		return;
	}

	if (pc->kind == PRICE_DECK) {
		const struct rate *rt = &t->rates[row];

		billed = rate_billed(c->billsec, rt->initial, rt->increment, rt->min_duration);
	} else {
		const struct tier_set *ts = &t->tiers[pc->ref];
		const char *line = ts->count == COUNT_LINE ?
		    (cls->payer == PAYER_OWNER ? c->callee : c->caller) : "";

		billed = rate_billed(c->billsec, ts->initial, ts->increment, 0);
		if ((ctr = counter(st, res->cls, line)) == NULL) {
			set_status(res, RS_UNRATED, "out of memory");
			return;
		}
		if (snap != NULL) {
			ctr->seconds = snap->tier_pos;
			ctr->volume_total = snap->volume_total;
		}
		res->before.tier_pos = ctr->seconds;
		res->before.volume_total = ctr->volume_total;
	}
	res->billed_seconds = billed;

	/* Test minutes first, while they last and the account is new. */
	if (pl->test_seconds > st->test_used && billed > 0 &&
	    date < date_add(a->created, pl->test_days)) {
		test = pl->test_seconds - st->test_used;
		if (test > billed)
			test = billed;
		st->test_used += test;
		if (add_piece(res, PK_TEST, "test", test, 0, 0) == NULL)
			return;
	}

	/* Then the bundle in force when the call started, if it covers the
	 * class; the plan prices what is left (overage). */
	if (bs && billed > test && bundle_in_force(bs, res->cls, c->start,
	    &res->before.bundle_sub, &res->before.bundle_seq, &res->before.bundle_left)) {
		struct bundle_take takes[BUNDLE_MAX_TAKES];
		int nt;

		bp = &t->bundles[t->subs[res->before.bundle_sub].bundle];
		covered = bundle_cover(bs, billed - test, answer + test, answer + c->billsec,
		    takes, &nt);
		if (covered < 0) {
			set_status(res, RS_UNRATED, "the call needs more than %d bundle windows",
			    BUNDLE_MAX_TAKES);
			return;
		}
		for (int i = 0; i < nt; i++) {
			char label[64];

			snprintf(label, sizeof label, "%s #%d", bp->name, takes[i].seq);
			if (add_piece(res, PK_BUNDLE, label, takes[i].seconds, 0, 0) == NULL)
				return;
		}
		/* at minute granularity the bundle takes the last minute whole */
		if (test + covered > billed)
			res->billed_seconds = test + covered;
	}
	overage = billed - test - covered > 0 ? billed - test - covered : 0;

	if (pc->kind == PRICE_DECK) {
		if (price_by_bands(t, a, chain, date, answer + test + covered, overage, res,
		    &exact) != 0)
			return;
		if (t->rates[row].connection_fee > 0 && billed > 0) {
			money f = t->rates[row].connection_fee;

			if (add_piece(res, PK_CONNECTION, "connection", 0, f,
			    (money_x60)f * 60) == NULL)
				return;
			exact += (money_x60)f * 60;
		}
	} else {
		const struct tier_set *ts = &t->tiers[pc->ref];
		/* bundle seconds move the tier position only if the bundle says so */
		int64_t counted = bp && bp->counts_toward_tiers ? covered : 0;

		if (st->counting_only) {
			ctr->volume_total += counted + overage;
		} else if (price_by_tiers(ts, ctr, ctr->seconds + counted, overage, res,
		    &exact) != 0) {
			return;
		}
		ctr->seconds += counted + overage;
	}
	res->amount = money_round(exact, pl->rounding, pl->decimals);
}
