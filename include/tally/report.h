/*
 * report.h - reports over the store, written to a stream the caller owns.
 * Text is for people (aligned, escaped), CSV for machines (RFC 4180, bytes
 * as stored).  Output depends only on the store's content: the same store
 * gives the same bytes.
 */
#ifndef TALLY_REPORT_H
#define TALLY_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "tally/store.h"
#include "tally/terr.h"

enum report_format {
	REPORT_TEXT,
	REPORT_CSV,
	REPORT_JSON,
};

int report_format_parse(const char *name, enum report_format *out);

/* One row per batch: batch,source,file,read,accepted,rejected,duplicates;
 * text adds a total row. */
int report_reconcile(struct store *s, FILE *out, enum report_format fmt,
    struct terr *e);

/* Rejected lines with file, line, field, reason and the raw line; batch 0
 * for all batches. */
int report_rejects(struct store *s, FILE *out, enum report_format fmt,
    int64_t batch, struct terr *e);

/* Usage of a period per payer account and class; text adds the pieces
 * (tiers, bands, test minutes) under each.  CSV header:
 * account,class,calls,seconds,billed_seconds,amount. */
int report_usage(struct store *s, FILE *out, enum report_format fmt,
    const char *period, const char *account, const char *reseller, struct terr *e);

/* Bundle windows in force during a period, with their seconds (granted,
 * rolled in, used, left, rolled out, forfeited) and the charges of those
 * that start in it; text adds the period's total charges per currency. */
int report_bundles(struct store *s, FILE *out, enum report_format fmt,
    const char *period, const char *account, const char *reseller, struct terr *e);

/* Accounts of the current tariffs with their ledger balance (tally-account(1)),
 * those below `below` only when it is not NULL; one reseller when not NULL. */
int report_balances(struct store *s, FILE *out, enum report_format fmt,
    const money *below, const char *reseller, struct terr *e);

/* Revenue of a period's numbered invoices and credit notes per reseller,
 * currency, plan (as invoiced), line kind and tax rate; text closes each
 * reseller and currency with its total.  CSV header:
 * reseller,currency,plan,kind,tax_rate,tax,lines,net,tax_amount,total. */
int report_revenue(struct store *s, FILE *out, enum report_format fmt,
    const char *period, const char *reseller, struct terr *e);

/* The `limit` destinations of a period with the most charged, per reseller.
 * CSV header: reseller,currency,destination,calls,seconds,billed_seconds,amount. */
int report_top(struct store *s, FILE *out, enum report_format fmt, const char *period,
    const char *reseller, int limit, struct terr *e);

/* The sources fed through tally-feedd's spool: files, CDR lines received,
 * accepted, duplicates (a switch's retries), rejected, and the start of the
 * latest CDR.  CSV header:
 * source,files,received,accepted,duplicates,rejected,last_cdr. */
int report_feed(struct store *s, FILE *out, enum report_format fmt, struct terr *e);

/* CDRs that could not be rated, and why. */
int report_unrated(struct store *s, FILE *out, enum report_format fmt,
    const char *period, struct terr *e);

/* The stored CDRs of a filter (store.h, struct audit_filter), by CDR id,
 * every column of the cdr table, times also as UTC ISO-8601: one text line,
 * CSV row or JSON object each.  CSV header:
 * id,batch_id,line,source,record_key,account,caller_raw,caller,callee_raw,
 * callee,start,start_ts,answer,answer_ts,end,end_ts,duration,billsec,
 * disposition,type.  Streams: memory does not grow with the store. */
int report_cdrs(struct store *s, FILE *out, enum report_format fmt,
    const struct audit_filter *f, struct terr *e);

/* The current ratings of a filter's CDRs, by CDR id, with their pieces.
 * CSV: a row per piece, the rating's columns repeated on each, and one row
 * with empty piece columns for a rating without pieces; JSON: the pieces
 * as an array in the rating's object; text: a line per rating, its pieces
 * indented under it.  Streams like report_cdrs(). */
int report_ratings(struct store *s, FILE *out, enum report_format fmt,
    const struct audit_filter *f, struct terr *e);

/* Text for a terminal: valid UTF-8 as it is, control characters and any
 * other byte as \xNN; cut after max bytes with "... (N bytes)". */
void report_escaped(FILE *out, const void *s, size_t len, size_t max);

/* A JSON string: quotes, backslashes and control bytes escaped, UTF-8 as is. */
void report_json_string(FILE *out, const char *s);

/* Is s valid UTF-8 without control characters (text any viewer shows)? */
int report_text_plain(const char *s);

/* Is a report column one of names and codes (account, period, destination,
 * reason...), text whatever its digits look like? */
int report_text_column(const char *name);

/* A report's CSV form (header row first) as {"NAME": [{"column": value}]}:
 * whole numbers of the other columns as numbers, the rest as strings, bytes
 * that are not UTF-8 as report_escaped() shows them. */
int report_csv_to_json(FILE *csv, const char *name, FILE *out, struct terr *e);

/* Write a CSV field, quoted when it must be. */
void report_csv_field(FILE *out, const char *s, size_t len);

#endif
