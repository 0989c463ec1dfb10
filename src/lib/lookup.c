/*
 * lookup.c - names from the command line checked against the store.
 * See lookup.h.
 */
#include "tally/lookup.h"

static int
is_batch(const struct batch_row *b, void *arg)
{
	return b->id == *(const int64_t *)arg;
}

int
lookup_batch(struct store *s, int64_t batch, struct terr *e)
{
	int rc;

	if (batch == 0 || (rc = store_each_batch(s, is_batch, &batch, e)) > 0)
		return 0;
	if (rc == 0)
		terr_set(e, "no batch %lld (tally-report reconcile lists them)",
		    (long long)batch);
	return -1;
}

int
lookup_account(struct store *s, const char *account, struct terr *e)
{
	char owner[256];
	int rc;

	if (account == NULL || (rc = store_account_owner(s, account, owner, sizeof owner,
	    e)) > 0)
		return 0;
	if (rc == 0)
		terr_set(e, "account \"%s\" is in no loaded tariff", account);
	return -1;
}

int
lookup_payer(struct store *s, const char *payer, struct terr *e)
{
	char owner[256];
	int rc;

	if (payer == NULL || (rc = store_account_owner(s, payer, owner, sizeof owner, e)) > 0 ||
	    (rc == 0 && (rc = store_payer_rated(s, payer, e)) > 0))
		return 0;
	if (rc == 0)
		terr_set(e, "\"%s\" is no account of a loaded tariff and pays for no rated"
		    " call", payer);
	return -1;
}

static int
any_version(const struct version_row *v, void *arg)
{
	(void)v;
	(void)arg;
	return 1;
}

int
lookup_reseller(struct store *s, const char *reseller, struct terr *e)
{
	int rc;

	if (reseller == NULL || (rc = store_each_version(s, reseller, any_version, NULL,
	    e)) > 0)
		return 0;
	if (rc == 0)
		terr_set(e, "reseller \"%s\" has no loaded tariff", reseller);
	return -1;
}
