/*
 * store.h - the tally store: one SQLite file in WAL mode.  All SQL lives in
 * src/lib/store_*.c (one file per stage, behind the private store_impl.h),
 * so that the rest of tally never builds a query and a later server
 * database needs one new module, not a hunt through the code.
 *
 * Schema: versioned by PRAGMA user_version and marked as tally's by
 * PRAGMA application_id.  store_open() reads both before it writes
 * anything: it refuses a SQLite file that is not a tally store (leaving it
 * byte for byte as it was) and a newer store; then a writer upgrades an
 * older store in one transaction, and only a creating writer makes a new
 * store of a missing or empty file.  Tables are documented in tally-cdr(5).
 *
 * Units of work: store_begin() .. store_commit() (or store_rollback());
 * a step that fails part-way rolls back, leaving the store as it was.
 */
#ifndef TALLY_STORE_H
#define TALLY_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "tally/billing.h"
#include "tally/cdr.h"
#include "tally/rate.h"
#include "tally/tariff.h"
#include "tally/terr.h"

#define STORE_SCHEMA_VERSION 7

struct store;

/* $TALLY_DB if set and not empty, else "./tally.db". */
const char *store_default_path(void);

/*
 * How a command uses the store.  A missing file, a 0-byte file and a
 * database with nothing in it are made a store only by STORE_CREATE (the
 * commands that bring data in: tally-ingest, tally-tariff load); the
 * other modes refuse them, naming the file.
 */
enum store_mode {
	STORE_CREATE,		/* writes; makes a new store of a missing or empty file */
	STORE_EXISTING,		/* writes an existing store (rate, close, pay...) */
	/* only reads (reports, lists, exports): SQLITE_OPEN_READONLY, so it
	 * works on a read-only file system; an older store is refused, not
	 * upgraded; every write fails */
	STORE_READONLY,
};

struct store *store_open(const char *path, enum store_mode mode, struct terr *e);
void store_close(struct store *s);
int store_schema_version(struct store *s);

int store_begin(struct store *s, struct terr *e);	/* BEGIN IMMEDIATE */
int store_commit(struct store *s, struct terr *e);
void store_rollback(struct store *s);

/* --- ingest ----------------------------------------------------------- */

struct batch_counts {
	uint64_t read, accepted, rejected, duplicates;
};

/* The batch that already holds a file with this content for this source:
 * returns 1 and sets *id, 0 when there is none, -1 on error. */
int store_batch_find(struct store *s, const char *source, const char *sha256,
    int64_t *id, struct terr *e);
/* The first batch of another source whose file had this content and held
 * CDRs (accepted or duplicates; an empty or header-only file holds none):
 * returns 1 and sets *id and other (its source, cut to len), 0 when there
 * is none, -1 on error. */
int store_batch_find_elsewhere(struct store *s, const char *source,
    const char *sha256, int64_t *id, char *other, size_t len, struct terr *e);
/* Inside a transaction: a new batch with zero counts. */
int store_batch_add(struct store *s, const char *source, const char *format,
    const char *file, const char *sha256, uint64_t bytes, int64_t *id,
    struct terr *e);
int store_batch_set_counts(struct store *s, int64_t id,
    const struct batch_counts *c, struct terr *e);

/*
 * Store a CDR.  Returns 1 when stored, 0 when (source, record_key) is
 * already stored (the line is then recorded as a duplicate of that CDR),
 * -1 on error.
 */
int store_cdr_add(struct store *s, const char *source, int64_t batch,
    uint64_t line, const struct cdr *c, struct terr *e);
int store_reject_add(struct store *s, int64_t batch, uint64_t line,
    const struct cdr_reject *r, const char *raw, size_t rawlen, struct terr *e);

/* --- tariffs ----------------------------------------------------------- */

/* The version of this reseller with this content: 1 and *id, 0 none, -1. */
int store_tariff_find(struct store *s, const char *reseller, const char *sha256,
    int64_t *id, struct terr *e);
/* Inside a transaction: a new version holding the package's files. */
int store_tariff_add(struct store *s, const struct tariff *t, const char *sha256,
    const char *source, const struct tariff_pkg *p, int64_t *id, struct terr *e);
/* The reseller that owns an account: 1 with owner filled, 0 unowned, -1. */
int store_account_owner(struct store *s, const char *account, char *owner,
    size_t len, struct terr *e);
int store_account_claim(struct store *s, const char *account, const char *reseller,
    int64_t version, struct terr *e);
/* The files of a version (release with tariff_pkg_release()). */
int store_tariff_files(struct store *s, int64_t version, struct tariff_pkg *p,
    struct terr *e);
/* The current (newest) version of every reseller, by id. */
int store_tariff_current(struct store *s, int64_t **ids, int *n, struct terr *e);

struct version_row {
	int64_t id;
	const char *reseller, *currency, *sha256, *source;
	int64_t loaded_at, nrates, naccounts;
	int current;
};
int store_each_version(struct store *s, const char *reseller,
    int (*fn)(const struct version_row *, void *), void *arg, struct terr *e);

/* --- rating ------------------------------------------------------------ */

/* A stored CDR with what rating needs. */
struct stored_cdr {
	int64_t id, batch;
	const char *source;
	struct cdr c;
	/* its current rating, when it has one */
	int rated;
	int stale;		/* rated with a version that is no longer current */
	const char *payer, *period;
};

/*
 * CDRs that need rating: none yet, unrated, or rated with a version that is
 * no longer its reseller's current one.  fn sees each once.
 */
int store_each_rating_candidate(struct store *s,
    int (*fn)(const struct stored_cdr *, void *), void *arg, struct terr *e);
/* Work list of one run: the CDR goes to (payer, period). */
int store_work_reset(struct store *s, struct terr *e);
int store_work_add(struct store *s, int64_t cdr, const char *payer, const char *period,
    struct terr *e);
/* Later periods of a payer that have ratings. */
int store_periods_after(struct store *s, const char *payer, const char *period,
    int (*fn)(const char *period, void *), void *arg, struct terr *e);
/* Test seconds a payer used in periods before `period`. */
int store_test_used_before(struct store *s, const char *payer, const char *period,
    int64_t *out, struct terr *e);
/* Add a group's already rated CDRs to the work list (those not there). */
/* Does some rating name `payer` (an unknown account's calls too)?  1, 0, -1. */
int store_payer_rated(struct store *s, const char *payer, struct terr *e);
int store_work_add_group(struct store *s, const char *payer, const char *period,
    struct terr *e);
/* Drop the pieces of every CDR on the work list, before rating puts new
 * ones (one statement instead of one per CDR). */
int store_work_clear_pieces(struct store *s, struct terr *e);
/* Every CDR of the work list with its group, a group's CDRs together:
 * by payer and period (the caller orders a group's CDRs; sorting all of
 * them here cost more than the rating). */
int store_each_work_cdr(struct store *s,
    int (*fn)(const struct stored_cdr *, void *), void *arg, struct terr *e);
/* Replace a CDR's rating and add its pieces (clear old pieces first with
 * store_work_clear_pieces).  version 0 = none (unknown account). */
int store_rating_put(struct store *s, int64_t cdr, int64_t version, const char *payer,
    const char *period, const char *cls, const struct rate_result *r, struct terr *e);

/* --- bundles ----------------------------------------------------------- */

/* The latest period with ratings ("" when none): how far windows are
 * worked out. */
int store_last_period(struct store *s, char out[8], struct terr *e);

/* A payer's windows were worked out with this version up to this period:
 * 1 and both, 0 when never, -1 on error. */
int store_bundle_horizon(struct store *s, const char *payer, int64_t *version,
    char period[8], struct terr *e);
int store_bundle_horizon_put(struct store *s, const char *payer, int64_t version,
    const char *period, struct terr *e);
/* Payers with windows (a horizon), by id. */
int store_each_bundle_payer(struct store *s, int (*fn)(const char *payer, void *),
    void *arg, struct terr *e);
/* Drop a payer's windows and horizon, before they are rebuilt. */
int store_bundle_reset(struct store *s, const char *payer, struct terr *e);

/* One window (tally-cdr(5), bundle_window); seconds and micro-units. */
struct window_row {
	const char *payer;
	int seq;
	int64_t version;
	const char *bundle, *cls;
	int64_t activated, start, end;
	const char *start_local, *end_local, *ended;
	int64_t granted, rolled_in, used, rolled_out, forfeited;
	money price;
	int tax_included;
	const char *period_from, *period_to;	/* months of its first and last second */
	const char *currency;	/* read back only */
};
int store_bundle_window_put(struct store *s, const struct window_row *w, struct terr *e);
/* Windows in force during a period (NULL: all), by payer and number. */
int store_each_window(struct store *s, const char *period, const char *account,
    const char *reseller, int (*fn)(const struct window_row *, void *), void *arg,
    struct terr *e);

/* A payer's rated CDRs in rating order (period, start, source, key). */
int store_each_payer_cdr(struct store *s, const char *payer,
    int (*fn)(const struct stored_cdr *, void *), void *arg, struct terr *e);

/* --- replay ------------------------------------------------------------ */

struct stored_rating {
	int64_t version;
	const char *reseller;	/* of that version; "" when none */
	const char *status, *cls, *payer, *reason, *destination, *prefix;
	int64_t billed_seconds;
	money amount;
	struct rate_snapshot before;
	struct rate_piece pieces[RATE_MAX_PIECES];
	int npieces;
};
/* Each rated CDR of a batch with its stored rating, in CDR order. */
int store_each_batch_rating(struct store *s, int64_t batch,
    int (*fn)(const struct stored_cdr *, const struct stored_rating *, void *),
    void *arg, struct terr *e);

/* --- reports ---------------------------------------------------------- */

struct batch_row {
	int64_t id;
	const char *source, *format, *file;
	struct batch_counts n;
};

struct reject_row {
	int64_t batch;
	const char *file;
	int64_t line;
	const char *field, *reason;
	const void *raw;
	size_t rawlen;
};

/* Call fn for each batch in id order; fn returning non-zero stops the walk
 * and becomes the result.  Strings live for the call only. */
int store_each_batch(struct store *s,
    int (*fn)(const struct batch_row *, void *), void *arg, struct terr *e);
struct usage_row {
	const char *account, *cls, *currency;
	int64_t calls, seconds, billed_seconds;
	money amount;
};
struct usage_piece_row {
	const char *account, *cls, *kind, *label;
	int64_t seconds;
	money_x60 exact;
};
/* Usage of a period by payer and class (rated and free, answered calls);
 * account and reseller NULL for all. */
int store_each_usage(struct store *s, const char *period, const char *account,
    const char *reseller, int (*fn)(const struct usage_row *, void *), void *arg,
    struct terr *e);
int store_each_usage_piece(struct store *s, const char *period, const char *account,
    const char *reseller, int (*fn)(const struct usage_piece_row *, void *),
    void *arg, struct terr *e);

struct unrated_row {
	int64_t cdr;
	const char *source, *record_key, *account, *callee, *reason;
	int64_t start;
};
int store_each_unrated(struct store *s, const char *period,
    int (*fn)(const struct unrated_row *, void *), void *arg, struct terr *e);

/* --- audit: the stored CDRs and ratings as they are (tally-report cdrs,
 * ratings) ---------------------------------------------------------------- */

/* Which CDRs: batch 0, period and payer NULL for any; those given must all
 * match.  A period or payer is that of the CDR's current rating, so a CDR
 * not rated yet is found only by batch (or with no filter). */
struct audit_filter {
	int64_t batch;
	const char *period, *payer;
};

/* A stored CDR and the line of its batch's file it came from. */
struct audit_cdr_row {
	struct stored_cdr sc;	/* rated, stale, payer, period unset */
	int64_t line;
};
/* The CDRs in CDR id order, one call each; rows stream from the store
 * (constant memory); strings live for the call only. */
int store_each_audit_cdr(struct store *s, const struct audit_filter *f,
    int (*fn)(const struct audit_cdr_row *, void *), void *arg, struct terr *e);

/* One piece of a rating as rating_piece keeps it. */
struct audit_piece {
	int64_t seq;
	enum piece_kind kind;
	const char *label;
	int64_t seconds;
	money price;		/* per minute, per message or per call */
	money_x60 exact;	/* the piece's charge in sixtieths of a micro-unit */
};

/* A CDR's current rating (tally-cdr(5), rating) with one of its pieces. */
struct audit_rating_row {
	int64_t cdr, version;	/* version 0: none (no account to price with) */
	const char *source, *record_key;	/* of the CDR */
	const char *currency;	/* of the version, "" without one */
	const char *payer, *period, *cls;	/* cls NULL: not classified */
	const char *destination, *prefix, *reason;
	enum rate_status status;
	int64_t seconds, billed_seconds;
	money amount;
	struct rate_snapshot before;	/* bundle_sub -1: no window */
	const struct audit_piece *piece;	/* NULL: the rating has no piece */
};
/* The ratings in CDR id order, each as many calls as it has pieces (in
 * piece order, the rating's fields repeated) or one with piece NULL.  Rows
 * stream from the store (constant memory, any number of pieces); strings
 * live for the call only. */
int store_each_audit_rating(struct store *s, const struct audit_filter *f,
    int (*fn)(const struct audit_rating_row *, void *), void *arg, struct terr *e);

/* Rejects in (batch, line) order; batch 0 means every batch. */
int store_each_reject(struct store *s, int64_t batch,
    int (*fn)(const struct reject_row *, void *), void *arg, struct terr *e);

/* --- invoices (tally-invoice(1)) --------------------------------------- */

/* The generation: bumped by every change that can change a draft (rating,
 * tariffs, the ledger, a void).  Inside the caller's transaction. */
int store_generation(struct store *s, int64_t *gen, struct terr *e);
int store_bump_generation(struct store *s, struct terr *e);

struct invoice_row {
	int64_t id;
	const char *kind, *number, *status, *issuer, *account, *name, *period;
	const char *first_day, *last_day, *date, *currency, *prefix, *credit_prefix;
	const char *reason, *refers_number;	/* refers_number: read back */
	int64_t version, refers_to, generation;
	int decimals;
	money subtotal, tax, total, previous, payments, due;
};

/* Store a new invoice (a draft, or an issued credit note when row->number
 * is set) with its lines and tax groups: *id. */
int store_invoice_add(struct store *s, const struct invoice_row *row,
    const struct bill_line *l, int n, const struct bill_totals *t, int64_t *id,
    struct terr *e);
int store_invoice_add_cdr(struct store *s, int64_t invoice, int64_t cdr, struct terr *e);
/* Drop an account's draft for a period, if any. */
int store_invoice_drop_draft(struct store *s, const char *account, const char *period,
    struct terr *e);
/* An account's issued invoice for a period: 1 and *id, 0 none, -1. */
int store_invoice_issued_for(struct store *s, const char *account, const char *period,
    int64_t *id, struct terr *e);
/* Take the next number of an issuer's sequence ("invoice" or "credit"). */
int store_sequence_next(struct store *s, const char *issuer, const char *kind,
    int64_t *next, struct terr *e);
int store_invoice_set_issued(struct store *s, int64_t id, const char *number,
    int64_t issued_at, struct terr *e);
int store_invoice_set_status(struct store *s, int64_t id, const char *status,
    struct terr *e);
int store_invoice_set_balance(struct store *s, int64_t id, money previous, money payments,
    money due, struct terr *e);
/* The totals of the credit notes referring to an invoice (negative). */
int store_invoice_credited(struct store *s, int64_t id, money *sum, struct terr *e);

/* Invoices by number (or id when number is NULL and id > 0), else by the
 * filters (NULL: any), in issuer, period, account, id order. */
struct invoice_filter {
	const char *number, *period, *account, *issuer, *status, *kind;
	int64_t id;
};
int store_each_invoice(struct store *s, const struct invoice_filter *f,
    int (*fn)(const struct invoice_row *, void *), void *arg, struct terr *e);
int store_each_invoice_line(struct store *s, int64_t invoice,
    int (*fn)(const struct bill_line *, void *), void *arg, struct terr *e);
int store_each_invoice_tax(struct store *s, int64_t invoice,
    int (*fn)(const struct bill_taxgroup *, void *), void *arg, struct terr *e);
/* The calls an invoice holds (its itemized list), in start, id order, as
 * they were rated when it was closed. */
struct invoice_call {
	int64_t cdr, start_ts, seconds, billed_seconds;
	const char *caller, *callee, *destination, *class, *period;
	money amount;		/* as rated, micro-units */
};
int store_each_invoice_call(struct store *s, int64_t invoice,
    int (*fn)(const struct invoice_call *, void *), void *arg, struct terr *e);
/* Revenue of a period's numbered documents (invoices, void or not, and
 * credit notes) by issuer, currency, version, account, line kind and tax. */
struct revenue_row {
	const char *issuer, *currency, *account, *kind;
	int64_t version, lines;
	int tax_rate, tax_included, decimals;
	money net, tax, amount;
};
int store_each_revenue(struct store *s, const char *period, const char *issuer,
    int (*fn)(const struct revenue_row *, void *), void *arg, struct terr *e);

/* The `limit` destinations of a period with the most charged, per reseller. */
struct top_row {
	const char *reseller, *destination;
	int64_t calls, seconds, billed_seconds;
	money amount;
};
int store_each_top(struct store *s, const char *period, const char *reseller, int limit,
    int (*fn)(const struct top_row *, void *), void *arg, struct terr *e);

/* Per source fed through a spool (batches of NNN.lines files): the files,
 * the CDR lines read, accepted, duplicates, rejected, and the start of the
 * source's latest CDR (0 when none). */
struct feed_row {
	const char *source;
	int64_t files, read, accepted, duplicates, rejected, last_start;
};
int store_each_feed(struct store *s, int (*fn)(const struct feed_row *, void *), void *arg,
    struct terr *e);

/* Does a draft charge a call or a ref that an issued invoice holds?  1, 0, -1. */
int store_invoice_overlaps(struct store *s, int64_t invoice, struct terr *e);
/* Is `ref` charged by a line of an issued invoice?  1, 0, -1. */
int store_ref_charged(struct store *s, const char *ref, struct terr *e);

/*
 * Late calls (tally-invoice(1), LATE CALLS).  Ratings are always a payer's
 * whole period rated at once; an invoice keeps, by group, what it charged
 * of each period's usage (invoice_usage), and a later invoice charges a
 * period as rated now less what issued invoices charged of it.  A rating
 * run marks the periods it rated (usage_dirty); issuing an invoice of a
 * period settles that period and the ones before it.
 */

/* A piece of a rated call of a payer's period, in CDR then piece order;
 * invoiced: the call is on an issued invoice. */
struct bill_piece {
	int64_t cdr;
	const char *period, *cls, *destination, *kind, *label;
	int seq, invoiced;
	int64_t seconds;
	money price, amount;	/* amount: the call's, as rated */
	money_x60 exact;
};
int store_each_bill_piece(struct store *s, const char *payer, const char *period,
    int (*fn)(const struct bill_piece *, void *), void *arg, struct terr *e);
/* A group of a period's usage: one class, destination, piece kind, label
 * and unit price; its seconds, pieces and exact amount (micro-units). */
struct usage_group {
	const char *period, *cls, *destination, *kind, *label;
	money price, exact;
	int64_t seconds, count;
};
/* What the issued invoices of a payer charged of a period's usage, summed
 * by group. */
int store_each_invoiced_usage(struct store *s, const char *payer, const char *period,
    int (*fn)(const struct usage_group *, void *), void *arg, struct terr *e);
/* How many issued invoices charged some of a payer's period. */
int store_usage_basis(struct store *s, const char *payer, const char *period, int64_t *n,
    struct terr *e);
/* Keep a group an invoice charges; basis: store_usage_basis at its close. */
int store_invoice_add_usage(struct store *s, int64_t invoice, const struct usage_group *g,
    int64_t basis, struct terr *e);
/* Has an invoice that charges some of the same periods been issued since
 * this draft was closed (a basis moved)?  1, 0, -1. */
int store_usage_moved(struct store *s, int64_t invoice, struct terr *e);
/* Do two tariff versions hold the same bytes for package file `name`
 * (both lacking it counts as the same)?  1, 0, -1. */
int store_tariff_file_same(struct store *s, int64_t v1, int64_t v2, const char *name,
    struct terr *e);
/* Is any invoice issued (1, 0, -1)?  Until one is, no period keeps a version. */
int store_any_issued(struct store *s, struct terr *e);
/* The tariff version a payer's period was invoiced at: that of the
 * ratings of its calls on issued invoices (what priced them); 0 none. */
int store_period_version(struct store *s, const char *payer, const char *period,
    int64_t *version, struct terr *e);
/* What a payer's period's ratings add up to: to tell whether re-rating it
 * changed anything. */
struct group_summary {
	int64_t cdrs, rated, amount, billed_seconds;
};
int store_group_summary(struct store *s, const char *payer, const char *period,
    struct group_summary *out, struct terr *e);
/* Mark a payer's period as rated since it was last settled. */
int store_usage_dirty_add(struct store *s, const char *payer, const char *period,
    struct terr *e);
/* A payer's marked periods before `before`, in order. */
int store_each_dirty_period(struct store *s, const char *payer, const char *before,
    int (*fn)(const char *, void *), void *arg, struct terr *e);
/* Unmark a payer's periods up to `upto` (an invoice of `upto` was issued). */
int store_usage_settle(struct store *s, const char *payer, const char *upto,
    struct terr *e);
/* The payers' periods to rate again whole (left by the migration from
 * schema 6, whose ratings of late calls counted invoiced calls frozen);
 * they are forgotten as they are listed (the caller's transaction). */
int store_each_rate_pending(struct store *s, int (*fn)(const char *, const char *, void *),
    void *arg, struct terr *e);
/* Mark again the periods a voided invoice charged usage of. */
int store_usage_reopen(struct store *s, int64_t invoice, struct terr *e);
/* The exact sum of the lines with this ref on an account's issued invoices. */
int store_ref_sum(struct store *s, const char *account, const char *ref, money *sum,
    struct terr *e);
/* The exact sum of the lines of one kind ("bundle") on the issued invoices
 * of an account's period. */
int store_lines_sum(struct store *s, const char *account, const char *period,
    const char *kind, money *sum, struct terr *e);
/* Unrated CDRs of a payer's period (they are on no invoice). */
int store_count_unrated(struct store *s, const char *payer, const char *period,
    int64_t *n, struct terr *e);
/* Rated charges of a payer's calls started in [from, to), and the prices
 * of its bundle windows started then. */
int store_spend_between(struct store *s, const char *payer, int64_t from, int64_t to,
    money *sum, struct terr *e);
/* A payer's bundle windows charged in `period` or before. */
int store_each_window_upto(struct store *s, const char *payer, const char *period,
    int (*fn)(const struct window_row *, void *), void *arg, struct terr *e);

/* --- the ledger -------------------------------------------------------- */

struct ledger_row {
	int64_t id;
	const char *account, *date, *kind, *number, *reference, *invoice_number;
	money amount;		/* credits positive, debits negative */
};
int store_ledger_add(struct store *s, const struct ledger_row *r, int64_t invoice,
    struct terr *e);
/* The sum of an account's entries dated in [from, to) (NULL: unbounded);
 * credits_only: deposits, payments and credit notes. */
int store_ledger_sum(struct store *s, const char *account, const char *from,
    const char *to, int credits_only, money *sum, struct terr *e);
/* Payments and deposits recorded for a number, by date. */
int store_ledger_number_payments(struct store *s, const char *account,
    const char *number, struct bill_payment **out, int *n, struct terr *e);
int store_each_ledger(struct store *s, const char *account,
    int (*fn)(const struct ledger_row *, void *), void *arg, struct terr *e);

#endif
