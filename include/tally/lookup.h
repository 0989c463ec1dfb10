/*
 * lookup.h - do the batch, account and reseller a command line names
 * exist in the store?  A name that does not is an error the program
 * reports, never an empty report or a run over nothing that exits 0
 * (a typo would look like "no calls").
 *
 * Each returns 0 when the thing exists (a NULL name or batch 0: nothing
 * asked), else -1 with a message naming it, or the store's error.
 */
#ifndef TALLY_LOOKUP_H
#define TALLY_LOOKUP_H

#include <stdint.h>

#include "tally/store.h"
#include "tally/terr.h"

/* A batch of tally-ingest: one row of tally-report reconcile.  Walks the
 * batches: a row each. */
int lookup_batch(struct store *s, int64_t batch, struct terr *e);
/* An account of any loaded tariff version, current or older (so the
 * invoices and usage of an account a newer version dropped stay found). */
int lookup_account(struct store *s, const char *account, struct terr *e);
/* An account of lookup_account(), or a payer some rating names (the
 * unrated calls of an account no tariff knows): what the audit reports
 * can find. */
int lookup_payer(struct store *s, const char *payer, struct terr *e);
/* A reseller with a loaded tariff version. */
int lookup_reseller(struct store *s, const char *reseller, struct terr *e);

#endif
