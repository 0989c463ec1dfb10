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
	char **payers;		/* of the batch, to check their windows */
	int npayers;
	struct terr *e;
};

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

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

static void
piece_text(const struct rate_piece *p, char *buf, size_t len)
{
	char price[32];

	money_format(p->price, 0, price);
	snprintf(buf, len, "%s %s: %lld s at %s", rate_piece_kind_name(p->kind), p->label,
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
	if (r->version == 0 && (r->npayers == 0 || strcmp(r->payers[r->npayers - 1],
	    sr->payer) != 0)) {
		char **p = realloc(r->payers, (size_t)(r->npayers + 1) * sizeof *p);

		if (p == NULL || (p[r->npayers] = strdup(sr->payer)) == NULL) {
			if (p)
				r->payers = p;
			return terr_set(r->e, "out of memory");
		}
		r->payers = p;
		r->npayers++;
	}
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
	if (strcmp(sr->status, rate_status_name(res.status)) != 0) {
		/* a new status comes with its reason: say it */
		snprintf(a, sizeof a, "%s%s%s", sr->status, *sr->reason ? ": " : "", sr->reason);
		snprintf(b, sizeof b, "%s%s%s", rate_status_name(res.status),
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

/* ---- bundle windows ----------------------------------------------------- */

/* A payer's timeline, rated again call by call as tally-rate does: the
 * tier counters start afresh each period, test minutes carry over. */
struct timeline {
	const struct tariff *t;
	struct rate_state st;
	struct bundle_state bs;
	char period[8];
	struct terr *e;
};

static int
on_payer_cdr(const struct stored_cdr *sc, void *arg)
{
	struct timeline *tl = arg;
	struct rate_result res;

	if (strcmp(tl->period, sc->period) != 0) {
		int64_t test = tl->st.test_used;

		rate_state_release(&tl->st);
		tl->st.test_used = test;
		tl->st.bundle = &tl->bs;
		tally_strlcpy(tl->period, sc->period, sizeof tl->period);
	}
	rate_cdr(tl->t, &sc->c, &tl->st, NULL, &res);
	return 0;
}

struct stored_windows {
	struct window_row *w;
	char **strs;		/* copies of each row's strings */
	int n;
	struct terr *e;
};

static int
on_stored_window(const struct window_row *w, void *arg)
{
	struct stored_windows *sw = arg;
	struct window_row *nw = realloc(sw->w, (size_t)(sw->n + 1) * sizeof *nw);
	char **ns = realloc(sw->strs, (size_t)(sw->n + 1) * sizeof *ns);
	char *buf;

	if (nw)
		sw->w = nw;
	if (ns)
		sw->strs = ns;
	if (nw == NULL || ns == NULL ||
	    asprintf(&buf, "%s%c%s%c%s%c%s", w->bundle, 0, w->start_local, 0, w->end_local,
	    0, w->ended) < 0)
		return terr_set(sw->e, "out of memory");
	sw->w[sw->n] = *w;
	sw->w[sw->n].bundle = buf;
	sw->w[sw->n].start_local = buf += strlen(buf) + 1;
	sw->w[sw->n].end_local = buf += strlen(buf) + 1;
	sw->w[sw->n].ended = buf + strlen(buf) + 1;
	sw->strs[sw->n] = (char *)sw->w[sw->n].bundle;
	sw->n++;
	return 0;
}

static void
window_diff(struct replay *r, const char *payer, int seq, const char *field,
    int64_t stored, int64_t replayed, int *n)
{
	char key[96];
	struct replay_diff d = { 0, key, field, "", "" };

	if (stored == replayed)
		return;
	snprintf(key, sizeof key, "window %s #%d", payer, seq);
	snprintf(d.stored, sizeof d.stored, "%lld", (long long)stored);
	snprintf(d.replayed, sizeof d.replayed, "%lld", (long long)replayed);
	r->fn(&d, r->arg);
	(*n)++;
}

/* Work out a payer's windows again and compare them with the stored ones. */
static int
replay_windows(struct replay *r, const char *payer)
{
	struct stored_windows sw = { .e = r->e };
	struct bundle_log log = { 0 };
	struct timeline tl = { .e = r->e };
	int64_t version;
	char horizon[8];
	int a, rc, n = 0;

	if ((rc = store_bundle_horizon(r->s, payer, &version, horizon, r->e)) <= 0)
		return rc;
	if ((tl.t = version_tariff(r, version)) == NULL ||
	    (a = tariff_account(tl.t, payer)) < 0)
		return tl.t ? terr_set(r->e, "version %lld does not list %s", (long long)version,
		    payer) : -1;
	bundle_begin(&tl.bs, tl.t, a, &log);
	tl.st.bundle = &tl.bs;
	rc = store_each_payer_cdr(r->s, payer, on_payer_cdr, &tl, r->e);
	rate_state_release(&tl.st);
	if (rc == 0) {
		bundle_finish(&tl.bs, rate_period_end(&tl.t->accounts[a], horizon));
		rc = store_each_window(r->s, NULL, payer, NULL, on_stored_window, &sw, r->e);
	}
	if (rc == 0 && tl.bs.failed)
		rc = terr_set(r->e, "out of memory");
	for (int i = 0; rc == 0 && i < sw.n && i < tl.bs.nlog; i++) {
		const struct window_row *s = &sw.w[i];
		const struct bundle_window *w = &log.w[i];
		const struct bundle *b = &tl.t->bundles[tl.t->subs[w->sub].bundle];

		if (strcmp(s->bundle, b->name) != 0 ||
		    strcmp(s->ended, bundle_end_name(w->ended)) != 0) {
			char key[96];
			struct replay_diff d = { 0, key, "bundle, ended", "", "" };

			snprintf(key, sizeof key, "window %s #%d", payer, s->seq);
			snprintf(d.stored, sizeof d.stored, "%s, %s", s->bundle, s->ended);
			snprintf(d.replayed, sizeof d.replayed, "%s, %s", b->name,
			    bundle_end_name(w->ended));
			r->fn(&d, r->arg);
			n++;
		}
		window_diff(r, payer, s->seq, "start", s->start, w->start, &n);
		window_diff(r, payer, s->seq, "end", s->end, w->end, &n);
		window_diff(r, payer, s->seq, "granted", s->granted, w->granted, &n);
		window_diff(r, payer, s->seq, "rolled_in", s->rolled_in, w->rolled_in, &n);
		window_diff(r, payer, s->seq, "used", s->used, w->used, &n);
		window_diff(r, payer, s->seq, "rolled_out", s->rolled_out, w->rolled_out, &n);
		window_diff(r, payer, s->seq, "forfeited", s->forfeited, w->forfeited, &n);
		window_diff(r, payer, s->seq, "price", s->price, b->price, &n);
	}
	if (rc == 0)
		window_diff(r, payer, 0, "count", sw.n, tl.bs.nlog, &n);
	r->sum->windows += (uint64_t)sw.n;
	if (n) {
		r->sum->windows_differing++;
		r->sum->differences += (uint64_t)n;
	}
	for (int i = 0; i < sw.n; i++)
		free(sw.strs[i]);
	free(sw.strs);
	free(sw.w);
	bundle_log_release(&log);
	return rc;
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
	if (r.npayers > 1)
		qsort(r.payers, (size_t)r.npayers, sizeof *r.payers, by_name);
	for (int i = 0; rc == 0 && i < r.npayers; i++)
		if (i == 0 || strcmp(r.payers[i - 1], r.payers[i]) != 0)
			rc = replay_windows(&r, r.payers[i]);
	for (int i = 0; i < r.npayers; i++)
		free(r.payers[i]);
	free(r.payers);
	for (int i = 0; i < r.ncache; i++)
		tariff_free(r.cache[i].t);
	return rc == 0 ? 0 : -1;
}
