/*
 * invdoc.h - an issued invoice or credit note gathered for rendering
 * (tally-export(1)): its stored header, lines and tax groups, the seller
 * and customer blocks and the account's zone from the tariff version it
 * was built with, and its calls walked from the store.  Everything printed
 * comes from the store as issued, so the same invoice renders the same
 * bytes in every format, at any later time.
 *
 * The JSON and CSV renderers live here too: they are the document's plain
 * form, and the PDF and XLSX writers (pdf.h, xlsx.h) lay out the same
 * fields.
 */
#ifndef TALLY_INVDOC_H
#define TALLY_INVDOC_H

#include <stdint.h>
#include <stdio.h>

#include "tally/billing.h"
#include "tally/store.h"
#include "tally/terr.h"

struct invdoc {
	struct invoice_row r;	/* strings owned by the document */
	const char *seller;	/* issuer, else the package name */
	const char *seller_address, *seller_tax_id;	/* "" when not given */
	const char *customer;	/* the account's name, else its id */
	const char *tzname;	/* the account's zone, for call times */
	struct bill_line *lines;
	int nlines;
	struct bill_taxgroup taxes[BILL_MAX_TAXGROUPS];
	int ntaxes;
	/* private */
	struct tz *tz;
	char *strs[20];
};

/* One call of the itemized list, its start in the account's zone. */
struct invdoc_call {
	const struct invoice_call *c;
	char local[20];		/* "2026-11-03 14:05:09" */
};

/* The tariff versions loaded so far: many invoices share a few. */
struct invdoc_set;

struct invdoc_set *invdoc_set_new(struct store *s);
void invdoc_set_free(struct invdoc_set *set);

/* Gather the invoice `r` (a row from store_each_invoice). */
int invdoc_load(struct invdoc_set *set, const struct invoice_row *r, struct invdoc *d,
    struct terr *e);
void invdoc_release(struct invdoc *d);

/* The invoice's calls in start order; fn returns non-zero to stop. */
int invdoc_each_call(struct invdoc_set *set, const struct invdoc *d,
    int (*fn)(const struct invdoc_call *, void *), void *arg, struct terr *e);

/* The plain forms (tally-export(1) describes their fields). */
int invdoc_json(struct invdoc_set *set, const struct invdoc *d, FILE *out, struct terr *e);
int invdoc_csv(struct invdoc_set *set, const struct invdoc *d, FILE *out, struct terr *e);

#endif
