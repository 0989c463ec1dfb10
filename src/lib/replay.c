#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tally/rate.h"
#include "tally/ratejob.h"
#include "tally/replay.h"

#define VCACHE 8	/* tariff versions kept parsed at once */

struct replay {
	struct store *s;
	int64_t version;
	struct { int64_t id; struct tariff *t; } cache[VCACHE];
	int ncache, next;
	void (*fn)(const struct replay_diff *, void *);
	void *arg;
	struct replay_summary *sum;
	struct terr *e;
};

static const struct tariff *
version_tariff(struct replay *r, int64_t id)
{
	static struct tariff none;	/* version 0: rated without a tariff */

	if (id == 0)
		return &none;
	for (int i = 0; i < r->ncache; i++)
		if (r->cache[i].id == id)
			return r->cache[i].t;
	if (r->ncache == VCACHE) {
		tariff_free(r->cache[r->next].t);
		r->ncache--;
		r->cache[r->next] = r->cache[r->ncache];
		r->next = (r->next + 1) % VCACHE;
	}
	if ((r->cache[r->ncache].t = tariff_load_version(r->s, id, r->e)) == NULL)
		return NULL;
	r->cache[r->ncache].id = id;
	return r->cache[r->ncache++].t;
}

static const char *const status_names[] = { "rated", "free", "unrated" };
static const char *const kind_names[] = { "test", "tier", "band", "message", "connection",
	"bundle" };

static void
piece_text(const struct rate_piece *p, char *buf, size_t len)
{
	char price[32];

	money_format(p->price, 0, price);
	snprintf(buf, len, "%s %s: %lld s at %s", kind_names[p->kind], p->label,
	    (long long)p->seconds, price);
}

static void
report(struct replay *r, const struct stored_cdr *sc, const char *field,
    const char *stored, const char *replayed, int *n)
{
	struct replay_diff d = { sc->id, sc->c.record_key, field, "", "" };

	tally_strlcpy(d.stored, stored, sizeof d.stored);
	tally_strlcpy(d.replayed, replayed, sizeof d.replayed);
	r->fn(&d, r->arg);
	(*n)++;
}

static int
on_rating(const struct stored_cdr *sc, const struct stored_rating *sr, void *arg)
{
	struct replay *r = arg;
	const struct tariff *t = version_tariff(r, r->version ? r->version : sr->version);
	struct rate_state st = { 0 };
	struct rate_result res;
	const char *cls, *payer;
	char a[512], b[512];
	int n = 0;

	if (t == NULL)
		return -1;
	/* a what-if compares only what that reseller's versions priced */
	if (r->version && (*sr->reseller ? strcmp(sr->reseller, t->reseller) != 0 :
	    tariff_account(t, sc->c.account) < 0)) {
		/* another reseller's CDR, or one rated without a tariff whose
		 * account this version does not know either */
		r->sum->skipped++;
		return 0;
	}
	rate_cdr(t, &sc->c, &st, &sr->before, &res);
	rate_state_release(&st);
	cls = res.cls >= 0 ? t->classes[res.cls].name : "";
	payer = res.payer >= 0 ? t->accounts[res.payer].id : sc->c.account;
	r->sum->cdrs++;
	if (strcmp(sr->status, status_names[res.status]) != 0) {
		/* a new status comes with its reason: say it */
		snprintf(a, sizeof a, "%s%s%s", sr->status, *sr->reason ? ": " : "", sr->reason);
		snprintf(b, sizeof b, "%s%s%s", status_names[res.status],
		    *res.reason ? ": " : "", res.reason);
		report(r, sc, "status", a, b, &n);
	} else if (strcmp(sr->reason, res.reason) != 0) {
		report(r, sc, "reason", sr->reason, res.reason, &n);
	}
	if (strcmp(sr->payer, payer) != 0)
		report(r, sc, "payer", sr->payer, payer, &n);
	if (strcmp(sr->cls ? sr->cls : "", cls) != 0)
		report(r, sc, "class", sr->cls ? sr->cls : "", cls, &n);
	if (strcmp(sr->prefix, res.prefix) != 0 || strcmp(sr->destination, res.destination) != 0) {
		snprintf(a, sizeof a, "%s%s%s", sr->prefix, *sr->prefix ? " " : "",
		    sr->destination);
		snprintf(b, sizeof b, "%s%s%s", res.prefix, *res.prefix ? " " : "",
		    res.destination);
		report(r, sc, "destination", a, b, &n);
	}
	if (sr->billed_seconds != res.billed_seconds) {
		snprintf(a, sizeof a, "%lld", (long long)sr->billed_seconds);
		snprintf(b, sizeof b, "%lld", (long long)res.billed_seconds);
		report(r, sc, "billed_seconds", a, b, &n);
	}
	if (sr->amount != res.amount) {
		money_format(sr->amount, 0, a);
		money_format(res.amount, 0, b);
		report(r, sc, "amount", a, b, &n);
	}
	/* The pieces say why an amount moved: which tier, band or price. */
	for (int i = 0; i < sr->npieces || i < res.npieces; i++) {
		const struct rate_piece *x = i < sr->npieces ? &sr->pieces[i] : NULL;
		const struct rate_piece *y = i < res.npieces ? &res.pieces[i] : NULL;
		char field[24];

		if (x && y && x->kind == y->kind && strcmp(x->label, y->label) == 0 &&
		    x->seconds == y->seconds && x->price == y->price && x->exact == y->exact)
			continue;
		a[0] = b[0] = '\0';
		if (x)
			piece_text(x, a, sizeof a);
		if (y)
			piece_text(y, b, sizeof b);
		snprintf(field, sizeof field, "piece %d", i + 1);
		report(r, sc, field, a, b, &n);
	}
	if (n) {
		r->sum->differing++;
		r->sum->differences += (uint64_t)n;
	}
	return 0;
}

int
replay_batch(struct store *s, int64_t batch, int64_t version,
    void (*fn)(const struct replay_diff *, void *), void *arg,
    struct replay_summary *sum, struct terr *e)
{
	struct replay r = { .s = s, .version = version, .fn = fn, .arg = arg,
		.sum = sum, .e = e };
	int rc;

	memset(sum, 0, sizeof *sum);
	if (version && version_tariff(&r, version) == NULL)
		return -1;
	rc = store_each_batch_rating(s, batch, on_rating, &r, e);
	for (int i = 0; i < r.ncache; i++)
		tariff_free(r.cache[i].t);
	return rc == 0 ? 0 : -1;
}
