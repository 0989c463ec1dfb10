/*
 * tariff.h - tariff packages: a directory of CSV files a reseller edits in a
 * spreadsheet (tally-tariff(5)), parsed and validated into memory.
 *
 * A package is held as the exact bytes of its files (struct tariff_pkg):
 * that is what a loaded version stores, so a version is immutable by
 * construction and its content hash identifies it.  tariff_parse() turns
 * the bytes into the structures rating needs, and reports every problem at
 * once as "file:line:column: reason".
 */
#ifndef TALLY_TARIFF_H
#define TALLY_TARIFF_H

#include <stddef.h>
#include <stdint.h>

#include "tally/cdr.h"
#include "tally/money.h"
#include "tally/terr.h"
#include "tally/tz.h"

/*
 * An invoice or credit-note number is its prefix and at least six digits of
 * a 64-bit sequence (at most 19), and every number is kept in a buffer of
 * TARIFF_NUMBER_SIZE bytes: a prefix of at most TARIFF_PREFIX_MAX bytes is
 * what makes a number never cut.  Validation refuses a longer prefix, the
 * default one (reseller + "-" or "-CN-") as well as an explicit one.
 */
#define TARIFF_PREFIX_MAX 40
#define TARIFF_NUMBER_SIZE 64
_Static_assert(TARIFF_PREFIX_MAX + 19 < TARIFF_NUMBER_SIZE, "a number fits its buffer");

/* ---- raw package -------------------------------------------------------- */

enum tariff_fileid {
	TF_PACKAGE, TF_CLASSES, TF_RATES, TF_BANDS, TF_HOLIDAYS, TF_TIERS,
	TF_PLANS, TF_PLAN_CLASSES, TF_ACCOUNTS, TF_NUMBERS, TF_BUNDLES,
	TF_SUBSCRIPTIONS, TF_FEES, TF_FEE_PRICES, TF_ACCOUNT_FEES, TF_MINIMUMS,
	TF_RENTALS, TF_NFILES
};

struct tariff_pkg {
	char *data[TF_NFILES];	/* NULL: the file is absent */
	size_t len[TF_NFILES];
};

const char *tariff_file_name(enum tariff_fileid f);	/* "rates.csv" */

/* Read the package files of a directory (absent optional files stay NULL). */
int tariff_pkg_read_dir(const char *dir, struct tariff_pkg *p, struct terr *e);
void tariff_pkg_release(struct tariff_pkg *p);
/* SHA-256 over the files in a fixed order, with their names: hex in out[65]. */
void tariff_pkg_hash(const struct tariff_pkg *p, char out[65]);

/*
 * Compare two packages file by file, rows as sets (the header, comments and
 * blank lines aside): fn gets '-' for a row only a has, '+' for one only b
 * has, in file order then byte order.  Returns the number of differences.
 */
int tariff_pkg_diff(const struct tariff_pkg *a, const struct tariff_pkg *b,
    void (*fn)(char sign, const char *file, const char *row, void *arg), void *arg);

/* ---- parsed package ----------------------------------------------------- */

enum class_type { CT_VOICE, CT_SMS, CT_ANY };
enum payer { PAYER_CALLER, PAYER_OWNER, PAYER_NONE };
enum pricing_kind { PRICE_DECK, PRICE_TIERS, PRICE_FREE };
enum tier_mode { TIER_GRADUATED, TIER_VOLUME };
enum tier_count { COUNT_ACCOUNT, COUNT_LINE };

struct tclass {
	char *name;
	long priority;
	enum class_type type;
	void *caller_re, *callee_re;	/* pcre2_code *, NULL = any */
	enum payer payer;
};

struct rate {
	int deck;
	char *prefix;		/* digits only, '+' removed */
	char *destination;
	money price;		/* per minute, or per message */
	money connection_fee;
	int initial, increment, min_duration;
	int band;		/* -1: all times */
	int32_t from, to;	/* local dates YYYYMMDD; to 0 = open */
	int next;		/* next rate with the same deck and prefix, -1 */
	int line;
};

struct deck {
	char *name;
	int root;		/* trie node */
};

struct band_row {
	int band;
	int days;		/* bit 0 = Monday .. bit 6 = Sunday; 0 = holiday row */
	int from, to;		/* minutes of the day, to <= 1440 */
};

struct tier {
	int64_t above, upto;	/* minutes; upto -1 = unbounded */
	money price;
};

struct tier_set {
	char *name;
	enum tier_mode mode;
	enum tier_count count;
	int initial, increment;
	struct tier *tiers;
	int ntiers;
	int broken;		/* a row had an error: skip the whole-set checks */
};

struct plan_class {
	int cls;
	enum pricing_kind kind;
	int ref;		/* deck or tier set index */
};

struct plan {
	char *name;
	enum money_rounding rounding;
	int decimals;
	int64_t test_seconds;
	int test_days;
	struct plan_class *classes;
	int nclasses;
};

struct taccount {
	char *id;
	int plan;
	char *tzname;
	struct tz *tz;		/* shared by accounts of one zone: tariff->zones */
	int32_t created;	/* YYYYMMDD */
	char *name;		/* the customer's name, "" = none */
	int billing_day;	/* 1..28: the day its periods start */
	int tax_rate;		/* hundredths of a percent, -1 = the package's */
	int line;		/* in accounts.csv, for messages */
};

struct tnumber {
	char *number;
	int account;
	int line;		/* in numbers.csv, for messages */
};

enum bundle_renewal { RENEW_AUTO, RENEW_NONE };
enum bundle_exhaustion { EXHAUST_RENEW, EXHAUST_OVERAGE };
enum bundle_granularity { GRAIN_SECOND, GRAIN_MINUTE };

/* A minute bundle on sale (bundles.csv). */
struct bundle {
	char *name;
	int cls;		/* the class it covers */
	int64_t seconds;	/* granted per window */
	money price;		/* per window, charged when it starts */
	int tax_included;	/* the price includes tax */
	int validity_days;
	enum bundle_renewal renewal;	/* at the end of validity */
	enum bundle_exhaustion on_exhaustion;
	int counts_toward_tiers;	/* covered seconds move the tier position */
	int rollover_percent;	/* of unused granted seconds; 0 = none */
	int64_t rollover_max;	/* seconds, -1 = no cap */
	enum bundle_granularity granularity;
};

/* An account's subscription to a bundle (subscriptions.csv). */
struct subscription {
	int account;
	int bundle;
	int64_t activated;	/* UTC instant */
	int64_t cancelled;	/* UTC instant, 0 = not cancelled */
	enum bundle_exhaustion on_exhaustion;	/* the customer's choice, else the bundle's */
	int line;		/* in subscriptions.csv, for messages */
};

enum fee_charge { FEE_ONCE, FEE_MONTHLY, FEE_ANNUAL, FEE_RENT };

struct fee_step {
	int64_t from;		/* the first unit (1-based) at this price */
	money price;		/* per unit */
};

/* A recurring fee or add-on (fees.csv, fee_prices.csv). */
struct fee {
	char *name, *description;
	enum fee_charge charge;
	enum tier_mode count;	/* graduated or volume */
	int prorate_days;	/* monthly: by days, else the whole period */
	int tax_included;	/* resolved: the fee's, else the package's */
	int tax_rate;		/* hundredths of a percent, -1 = the account's */
	struct fee_step *steps;	/* by from, the first from 1 */
	int nsteps;
	int line;
};

/* Units of a fee an account holds (account_fees.csv). */
struct holding {
	int account, fee;
	int64_t quantity;
	int32_t activated, cancelled;	/* local YYYYMMDD; cancelled 0 = held */
	int line;		/* sorted by account, fee, activated, line */
};

/* One row of an account's minimum-spend history (minimums.csv). */
struct minimum {
	int account;
	int annual;		/* 0 monthly, 1 annual */
	money amount, rate;
	int32_t from;		/* local YYYYMMDD */
	int line;		/* sorted by account, kind, from */
};

/* A rented number (rentals.csv). */
struct rental {
	int account;
	char *number;
	int fee;		/* a FEE_RENT fee */
	int32_t activated;
	int line;		/* sorted by account, number */
};

struct trie_node {
	int32_t child[10];
	int32_t rates;		/* first rate with exactly this prefix, -1 */
};

struct tariff {
	char *reseller, *currency, *name;
	int currency_decimals;
	int tax_rate;		/* hundredths of a percent */
	int tax_included;	/* the package's prices include tax */
	char *invoice_prefix, *credit_prefix;	/* at most TARIFF_PREFIX_MAX bytes */
	char *issuer, *issuer_address, *issuer_tax_id;	/* on invoices; NULL: none */
	struct tclass *classes;	int nclasses;	/* sorted by priority */
	int owner_classes;	/* some class is paid by the called number's owner */
	struct rate *rates;	int nrates;
	struct deck *decks;	int ndecks;
	char **bands;		int nbands;
	struct band_row *band_rows; int nband_rows;
	int32_t *holidays;	int nholidays;	/* sorted YYYYMMDD */
	struct tier_set *tiers;	int ntiers;
	struct plan *plans;	int nplans;
	struct taccount *accounts; int naccounts;	/* sorted by id */
	struct tnumber *numbers; int nnumbers;	/* sorted by number */
	struct bundle *bundles;	int nbundles;
	struct subscription *subs; int nsubs;	/* sorted by account, activation */
	struct fee *fees;	int nfees;
	struct holding *holdings; int nholdings;
	struct minimum *minimums; int nminimums;
	struct rental *rentals;	int nrentals;
	struct tz **zones;	int nzones;	/* one per zone name in use */
	struct trie_node *nodes; int nnodes, nodecap;
	void *md;		/* pcre2_match_data * */
};

/* Problems found while parsing: every one, not just the first. */
struct tariff_errors {
	char **msg;
	int n, cap;
	int more;		/* problems found beyond the first 200, not kept */
};

void tariff_errors_release(struct tariff_errors *e);

/* Parse and validate.  Returns the tariff, or NULL with errs->n > 0. */
struct tariff *tariff_parse(const struct tariff_pkg *p, struct tariff_errors *errs);
void tariff_free(struct tariff *t);

/* ---- lookups for rating ------------------------------------------------- */

int tariff_account(const struct tariff *t, const char *id);	/* index or -1 */
int tariff_number_owner(const struct tariff *t, const char *number);	/* account or -1 */
/* The class of a call: index or -1. */
int tariff_classify(const struct tariff *t, enum cdr_type type, const char *caller,
    const char *callee);
const struct plan_class *tariff_plan_class(const struct tariff *t, int plan, int cls);
/* The holdings, minimums and rentals of an account: *first and the count. */
int tariff_holdings(const struct tariff *t, int account, int *first);
int tariff_minimums(const struct tariff *t, int account, int *first);
int tariff_rentals(const struct tariff *t, int account, int *first);
/* An account's tax rate: its own, else the package's (hundredths of %). */
int tariff_account_tax_rate(const struct tariff *t, int account);
/* A new version must keep every minimum row of the version it replaces
 * (history may grow, never be rewritten).  Reports each missing row;
 * returns their number. */
int tariff_minimums_kept(const struct tariff *old, const struct tariff *new,
    struct tariff_errors *errs);
/* The subscriptions of an account: *first and the count (0 when none). */
int tariff_subscriptions(const struct tariff *t, int account, int *first);
/* The longest prefix of `number` in `deck` with a rate in effect on local
 * date `date`: the first rate of that prefix's chain, or -1. */
int tariff_deck_lookup(const struct tariff *t, int deck, const char *number,
    int32_t date);
/* The band in force at local date and minute of day, or -1. */
int tariff_band_at(const struct tariff *t, int32_t date, int weekday, int minute);

#endif
