/*
 * invoice.h - tally-invoice's work over the store: close a period into
 * draft invoices, issue them with gapless numbers, void and credit issued
 * ones (tally-invoice(1)).  Each call is one transaction: it is stored
 * whole or not at all.
 */
#ifndef TALLY_INVOICE_H
#define TALLY_INVOICE_H

#include <stdint.h>

#include "tally/money.h"
#include "tally/store.h"
#include "tally/terr.h"

struct close_summary {
	int drafts;		/* built */
	int kept;		/* already issued: left as they are */
	int64_t calls;		/* rated calls on the drafts */
	int64_t unrated;	/* unrated CDRs of the period: on no invoice */
};

/* account and reseller narrow the run (NULL: all). */
int invoice_close(struct store *s, const char *period, const char *account,
    const char *reseller, struct close_summary *sum, struct terr *e);

/* Close, for every account (of one reseller when not NULL), the period its
 * billing day closed last by local date `date` (YYYYMMDD; 0: today in the
 * account's zone), unless issued: what a nightly run does. */
int invoice_close_due(struct store *s, int32_t date, const char *reseller,
    struct close_summary *sum, struct terr *e);

/* Number and freeze the period's drafts.  *first and *last get the first
 * and last number given ("" when none).  Returns 0, 1 when refused
 * (nothing issued), -1 on error. */
int invoice_issue(struct store *s, const char *period, const char *account,
    const char *reseller, int *issued, char first[64], char last[64], struct terr *e);

/* Issue the drafts of the periods invoice_close_due() closes at `date`. */
int invoice_issue_due(struct store *s, int32_t date, const char *reseller, int *issued,
    char first[64], char last[64], struct terr *e);

/* A credit note for a whole issued invoice, which becomes void; date NULL:
 * today in the account's zone.  Returns 0, 1 when refused, -1. */
int invoice_void(struct store *s, const char *number, const char *reason,
    const char *date, char credit[64], struct terr *e);
/* A credit note of `amount` (in the invoice's tax terms) for part of one. */
int invoice_credit(struct store *s, const char *number, money amount,
    const char *reason, const char *date, char credit[64], struct terr *e);

#endif
