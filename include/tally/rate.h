/*
 * rate.h - the rating core: one CDR, a tariff, the payer's state before the
 * call -> the charge, its pieces, and the state after.
 *
 * Pure: no I/O, no clock.  A payer's period is rated by feeding its CDRs in
 * order (start, source, record key) through rate_cdr() with one struct
 * rate_state; tally-replay re-rates a single CDR from the state stored with
 * it.  The rules are those of tally-tariff(5).
 */
#ifndef TALLY_RATE_H
#define TALLY_RATE_H

#include <stdint.h>

#include "tally/bundle.h"
#include "tally/cdr.h"
#include "tally/money.h"
#include "tally/numnorm.h"
#include "tally/tariff.h"

enum rate_status { RS_RATED, RS_FREE, RS_UNRATED };

/* The name of a status, as the store keeps it and reports print it
 * (tally-cdr(5), rating.status): the one table of these names. */
static inline const char *
rate_status_name(enum rate_status status)
{
	static const char *const names[] = {
		[RS_RATED] = "rated", [RS_FREE] = "free", [RS_UNRATED] = "unrated",
	};

	return names[status];
}

enum piece_kind { PK_TEST, PK_TIER, PK_BAND, PK_MESSAGE, PK_CONNECTION, PK_BUNDLE };

/* The name of a piece kind, as the store keeps it (rating_piece.kind) and
 * invoices group by it: the one table of these names. */
static inline const char *
rate_piece_kind_name(enum piece_kind kind)
{
	static const char *const names[] = {
		[PK_TEST] = "test", [PK_TIER] = "tier", [PK_BAND] = "band",
		[PK_MESSAGE] = "message", [PK_CONNECTION] = "connection",
		[PK_BUNDLE] = "bundle",
	};

	return names[kind];
}

/* The kind a name says: 0 with *out, or -1 when it names none. */
int rate_piece_kind_parse(const char *name, enum piece_kind *out);

#define RATE_MAX_SECONDS 1000000	/* 11.5 days: longer calls are unrated */
#define RATE_MAX_PIECES 32	/* pieces of one call: tiers and bands it crosses, + test + fee */

struct rate_piece {
	enum piece_kind kind;
	char label[64];		/* tier "1000-5000", band "peak", "test", bundle "goi1 #3" */
	int64_t seconds;	/* 0 for message and connection pieces */
	money price;		/* per minute, per message or per call */
	money_x60 exact;	/* price * seconds, or price * 60 */
};

/* One counter: billed seconds of the period for a class and, when the tier
 * set counts per line, one line. */
struct rate_counter {
	int cls;
	char line[NUMNORM_MAX];
	int64_t seconds;	/* position: billed seconds so far */
	int64_t volume_total;	/* volume mode: the period's total (pass 1) */
};

struct rate_state {
	int64_t test_used;	/* test seconds used before, all periods */
	struct rate_counter *counters;
	int ncounters, cap;
	int *index;		/* open addressing over counters, 2 * cap slots */
	int counting_only;	/* pass 1 of a volume period: totals only */
	struct bundle_state *bundle;	/* the payer's bundles, NULL: none */
};

/* The state before one CDR, as stored with its rating for replay. */
struct rate_snapshot {
	int64_t tier_pos, test_used, volume_total;
	int bundle_sub, bundle_seq;	/* the window in force; sub -1: none */
	int64_t bundle_left;		/* its seconds left */
};

struct rate_result {
	enum rate_status status;
	int cls;		/* -1 when unrated before classification */
	int payer;		/* account index in the tariff, -1 unknown */
	const char *destination, *prefix;	/* deck rates, else "" */
	int64_t seconds, billed_seconds;
	money amount;
	char reason[160];
	struct rate_piece pieces[RATE_MAX_PIECES];
	int npieces;
	struct rate_snapshot before;
};

/* The payer of a CDR and its class, without pricing (to group CDRs by
 * payer and period).  Returns the payer's account index, or -1 with
 * res->status RS_UNRATED and the reason. */
int rate_payer(const struct tariff *t, const struct cdr *c, struct rate_result *res);

/* Rate one CDR, advancing st.  `snap`, when not NULL, replaces the state
 * the CDR starts from (replay). */
void rate_cdr(const struct tariff *t, const struct cdr *c, struct rate_state *st,
    const struct rate_snapshot *snap, struct rate_result *res);

void rate_state_release(struct rate_state *st);

/* The local calendar date (YYYYMMDD), weekday (0 = Monday) and minute of
 * day of instant t in zone z. */
void rate_local(const struct tz *z, int64_t t, int32_t *date, int *weekday, int *minute);

/* Billed seconds from answered seconds by increments (tally-tariff(5)). */
int64_t rate_billed(int64_t secs, int initial, int increment, int min_duration);

#endif
