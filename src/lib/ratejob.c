#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tally/bundle.h"
#include "tally/rate.h"
#include "tally/ratejob.h"
#include "tally/timefmt.h"

/* ---- the current tariffs ------------------------------------------------ */

struct tariff *
tariff_load_version(struct store *s, int64_t version, struct terr *e)
{
	struct tariff_pkg p;
	struct tariff_errors errs;
	struct tariff *t;

	if (store_tariff_files(s, version, &p, e) != 0)
		return NULL;
	t = tariff_parse(&p, &errs);
	tariff_pkg_release(&p);
	if (t == NULL) {
		terr_set(e, "tariff version %lld does not parse: %s", (long long)version,
		    errs.n ? errs.msg[0] : "no files");
		tariff_errors_release(&errs);
	}
	return t;
}

static int
by_acct(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int
tariff_set_load(struct store *s, struct tariff_set *ts, struct terr *e)
{
	int total = 0;

	memset(ts, 0, sizeof *ts);
	if (store_tariff_current(s, &ts->version, &ts->n, e) != 0)
		return -1;
	if ((ts->t = calloc((size_t)ts->n + 1, sizeof *ts->t)) == NULL)
		return terr_set(e, "out of memory");
	for (int i = 0; i < ts->n; i++) {
		if ((ts->t[i] = tariff_load_version(s, ts->version[i], e)) == NULL)
			return -1;
		total += ts->t[i]->naccounts;
	}
	if ((ts->acct = calloc((size_t)total + 1, sizeof *ts->acct)) == NULL)
		return terr_set(e, "out of memory");
	for (int i = 0; i < ts->n; i++) {
		for (int a = 0; a < ts->t[i]->naccounts; a++) {
			ts->acct[ts->nacct].id = ts->t[i]->accounts[a].id;
			ts->acct[ts->nacct].t = i;
			ts->acct[ts->nacct].a = a;
			ts->nacct++;
		}
	}
	if (ts->nacct > 0)
		qsort(ts->acct, (size_t)ts->nacct, sizeof *ts->acct, by_acct);
	return 0;
}

void
tariff_set_release(struct tariff_set *ts)
{
	for (int i = 0; ts->t && i < ts->n; i++)
		tariff_free(ts->t[i]);
	free(ts->t);
	free(ts->version);
	free(ts->acct);
	memset(ts, 0, sizeof *ts);
}

int
tariff_set_find(const struct tariff_set *ts, const char *account, int *acct)
{
	int lo = 0, hi = ts->nacct - 1;

	while (lo <= hi) {
		int mid = (lo + hi) / 2, c = strcmp(account, ts->acct[mid].id);

		if (c == 0) {
			*acct = ts->acct[mid].a;
			return ts->acct[mid].t;
		}
		if (c < 0)
			hi = mid - 1;
		else
			lo = mid + 1;
	}
	return -1;
}

void
rate_period(const struct taccount *a, int64_t t, char out[8])
{
	struct civil c;

	if (a)
		tz_from_utc(a->tz, t, &c);
	else
		civil_from_utc(t, &c);
	/* a period starting on day d holds the days before d of the next month */
	if (a && c.day < a->billing_day && --c.mon == 0) {
		c.mon = 12;
		c.year--;
	}
	snprintf(out, 8, "%04u-%02u", (unsigned)c.year % 10000u, (unsigned)c.mon % 100u);
}

/* ---- the groups to rate ------------------------------------------------- */

struct group {
	char *payer;
	char period[8];
	/* the group's ratings before the run, to tell whether it changed */
	struct group_summary was;
	int rated;		/* rated in this run */
};

/* Groups already listed, by hash (open addressing, a power of two). */
struct group_set {
	struct group *slot;
	size_t cap, n;
};

/* A payer whose bundle windows are rebuilt in this run. */
struct bpayer {
	const char *id;		/* the tariff's string */
	int t, a;
	int done;
};

struct job {
	struct store *s;
	struct tariff_set ts;
	const char *only_period, *only_account;
	struct group *groups;
	int ngroups, cap;
	struct group_set seen;	/* the groups, to list each once */
	char horizon[8];	/* windows are worked out to this period's end */
	const char *through;	/* ... at least; NULL: the last rated period */
	int new_windows;	/* a payer's windows are worked out the first time */
	int pending;		/* periods left by a migration are rated again */
	int any_issued;		/* else no period keeps an older version */
	struct old_version {
		int64_t version, current;	/* ... and the one it stands in for */
		struct tariff *t;
		int same;	/* can stand in (interchangeable) */
	} *old;			/* versions loaded */
	int nold;
	struct bpayer *bp;	/* sorted by id */
	int nbp;
	struct rate_summary *sum;
	struct terr *e;
};

/* FNV-1a of a group's payer and period. */
static size_t
group_hash(const char *payer, const char *period)
{
	uint64_t h = 14695981039346656037u;

	for (const char *p = payer; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211u;
	h = (h ^ 0xff) * 1099511628211u;	/* no payer+period pair aliases another */
	for (const char *p = period; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211u;
	return (size_t)h;
}

/* Is (payer, period) in the set; if not, add it: 1 added, 0 there, -1. */
static int
group_set_add(struct group_set *gs, const char *payer, const char *period)
{
	size_t i;

	if (2 * (gs->n + 1) > gs->cap) {
		size_t cap = gs->cap ? 2 * gs->cap : 1024;
		struct group *slot = calloc(cap, sizeof *slot);

		if (slot == NULL)
			return -1;
		for (size_t k = 0; k < gs->cap; k++) {
			if (gs->slot[k].payer == NULL)
				continue;
			for (i = group_hash(gs->slot[k].payer, gs->slot[k].period) & (cap - 1);
			    slot[i].payer; i = (i + 1) & (cap - 1))
				;
			slot[i] = gs->slot[k];
		}
		free(gs->slot);
		gs->slot = slot;
		gs->cap = cap;
	}
	for (i = group_hash(payer, period) & (gs->cap - 1); gs->slot[i].payer;
	    i = (i + 1) & (gs->cap - 1))
		if (strcmp(gs->slot[i].payer, payer) == 0 &&
		    strcmp(gs->slot[i].period, period) == 0)
			return 0;
	if ((gs->slot[i].payer = strdup(payer)) == NULL)
		return -1;
	tally_strlcpy(gs->slot[i].period, period, sizeof gs->slot[i].period);
	gs->n++;
	return 1;
}

static void
group_set_release(struct group_set *gs)
{
	for (size_t k = 0; k < gs->cap; k++)
		free(gs->slot[k].payer);
	free(gs->slot);
}

/* Add a group to re-rate, once: a run may hold millions of CDRs but only
 * payers times periods groups. */
static int
add_group(struct job *j, const char *payer, const char *period)
{
	int fresh = group_set_add(&j->seen, payer, period);

	if (fresh <= 0)
		return fresh == 0 ? 0 : terr_set(j->e, "out of memory");
	if (j->ngroups == j->cap) {
		int cap = j->cap ? j->cap * 2 : 64;
		struct group *g = realloc(j->groups, (size_t)cap * sizeof *g);

		if (g == NULL)
			return terr_set(j->e, "out of memory");
		j->groups = g;
		j->cap = cap;
	}
	memset(&j->groups[j->ngroups], 0, sizeof *j->groups);
	if ((j->groups[j->ngroups].payer = strdup(payer)) == NULL)
		return terr_set(j->e, "out of memory");
	tally_strlcpy(j->groups[j->ngroups].period, period, 8);
	j->ngroups++;
	return 0;
}

static int
by_group(const void *a, const void *b)
{
	const struct group *x = a, *y = b;
	int c = strcmp(x->payer, y->payer);

	return c ? c : strcmp(x->period, y->period);
}

/* The owner who pays for a call with no known account: the account index
 * in tariff *ti, or -1 when no tariff's owner-pays numbers hold the called
 * number, or more than one does (then nobody can say who pays). */
static int
owner_of(const struct job *j, const struct cdr *c, int *ti)
{
	struct rate_result res;
	int found = -1;

	for (int i = 0; i < j->ts.n; i++) {
		int p;

		if (!j->ts.t[i]->owner_classes || (p = rate_payer(j->ts.t[i], c, &res)) < 0)
			continue;
		if (found >= 0)
			return -1;
		found = p;
		*ti = i;
	}
	return found;
}

/* A call with no known account whose called number two resellers' owners
 * pay for (owner_of: nobody can say who pays) is unrated naming both, so
 * the clerk sees which numbers.csv to fix. */
static void
owners_disputed(const struct job *j, const struct cdr *c, struct rate_result *res)
{
	const struct tariff *t[2];
	char why[512];
	int who[2], n = 0;

	for (int i = 0; i < j->ts.n && n < 2; i++) {
		struct rate_result r;

		if (j->ts.t[i]->owner_classes && (who[n] = rate_payer(j->ts.t[i], c, &r)) >= 0)
			t[n++] = j->ts.t[i];
	}
	if (n < 2)
		return;
	/* cut to the reason's size, as every reason is */
	snprintf(why, sizeof why, "%.40s is the number of %.64s (%.64s) and of %.64s (%.64s):"
	    " nobody can say who pays", c->callee, t[0]->accounts[who[0]].id, t[0]->reseller,
	    t[1]->accounts[who[1]].id, t[1]->reseller);
	tally_strlcpy(res->reason, why, sizeof res->reason);
}

/* Where a CDR belongs: its payer and the payer's period. */
static void
place(const struct job *j, const struct cdr *c, const char **payer, char period[8])
{
	struct rate_result res;
	int a, ti = tariff_set_find(&j->ts, c->account, &a);

	if (ti < 0) {
		/* no account the tariffs know: a call to a number whose owner pays
		 * is the owner's whatever the switch wrote (tally-tariff(5)) */
		int owner = owner_of(j, c, &ti);

		if (owner < 0) {
			*payer = c->account;
			rate_period(NULL, c->start, period);
			return;
		}
		*payer = j->ts.t[ti]->accounts[owner].id;
		rate_period(&j->ts.t[ti]->accounts[owner], c->start, period);
		return;
	}
	/* Only a class paid by the called number's owner can move a CDR to
	 * another payer: without one, no need to classify it here. */
	if (j->ts.t[ti]->owner_classes) {
		int p = rate_payer(j->ts.t[ti], c, &res);

		if (p >= 0)
			a = p;
	}
	*payer = j->ts.t[ti]->accounts[a].id;
	rate_period(&j->ts.t[ti]->accounts[a], c->start, period);
}

static int
on_candidate(const struct stored_cdr *sc, void *arg)
{
	struct job *j = arg;
	const char *payer;
	char period[8];

	place(j, &sc->c, &payer, period);
	/* The filters narrow the rating of new and unrated CDRs.  A CDR rated
	 * with a version that is no longer current is re-rated whatever they
	 * say: its group is re-rated whole, and it may belong elsewhere now. */
	int moved = sc->rated && (strcmp(sc->payer, payer) != 0 ||
	    strcmp(sc->period, period) != 0);

	/* ... and so is one that now belongs to another group (an account
	 * the tariff has learnt, a number with a new owner): its old group may
	 * be re-rated, and must not keep it */
	if (!sc->stale && !moved && ((j->only_period && strcmp(period, j->only_period) != 0) ||
	    (j->only_account && strcmp(payer, j->only_account) != 0)))
		return 0;
	if (store_work_add(j->s, sc->id, payer, period, j->e) != 0 ||
	    add_group(j, payer, period) != 0)
		return -1;
	/* It leaves the group it was rated in: that group changes too. */
	if (moved)
		return add_group(j, sc->payer, sc->period);
	return 0;
}

struct cascade {
	struct job *j;
	const char *payer;
};

static int
on_test_period(const char *period, void *arg)
{
	struct cascade *c = arg;

	return add_group(c->j, c->payer, period);
}

/* A period a migration left to rate again whole. */
static int
on_pending(const char *payer, const char *period, void *arg)
{
	struct job *j = arg;

	j->pending = 1;
	return add_group(j, payer, period);
}

/* ---- rating one group --------------------------------------------------- */

struct member {
	int64_t id;
	const char *source;
	struct cdr c;
	char *buf;		/* the strings of c and source */
};

/* Rating order within a group: start, source, record key. */
static int
by_start(const void *a, const void *b)
{
	const struct member *x = a, *y = b;
	int c;

	if (x->c.start != y->c.start)
		return x->c.start < y->c.start ? -1 : 1;
	if ((c = strcmp(x->source, y->source)) != 0)
		return c;
	return strcmp(x->c.record_key, y->c.record_key);
}

struct members {
	struct member *m;
	int n, cap;
	struct terr *e;
};

static char *
put(char **p, const char *s)
{
	char *d = *p;
	size_t n = strlen(s) + 1;

	memcpy(d, s, n);
	*p += n;
	return d;
}

static int
on_member(const struct stored_cdr *sc, void *arg)
{
	struct members *ms = arg;
	struct member *m;
	const struct cdr *c = &sc->c;
	size_t need = strlen(sc->source) + strlen(c->record_key) + strlen(c->account) +
	    strlen(c->caller_raw) + strlen(c->caller) + strlen(c->callee_raw) +
	    strlen(c->callee) + 7;
	char *p;

	if (ms->n == ms->cap) {
		int cap = ms->cap ? ms->cap * 2 : 256;
		struct member *nm = realloc(ms->m, (size_t)cap * sizeof *nm);

		if (nm == NULL)
			return terr_set(ms->e, "out of memory");
		ms->m = nm;
		ms->cap = cap;
	}
	m = &ms->m[ms->n];
	if ((m->buf = p = malloc(need)) == NULL)
		return terr_set(ms->e, "out of memory");
	m->id = sc->id;
	m->source = put(&p, sc->source);
	m->c = *c;
	m->c.record_key = put(&p, c->record_key);
	m->c.account = put(&p, c->account);
	m->c.caller_raw = put(&p, c->caller_raw);
	m->c.caller = put(&p, c->caller);
	m->c.callee_raw = put(&p, c->callee_raw);
	m->c.callee = put(&p, c->callee);
	ms->n++;
	return 0;
}

static void
members_release(struct members *ms)
{
	for (int i = 0; i < ms->n; i++)
		free(ms->m[i].buf);
	free(ms->m);
}

static int
has_volume(const struct tariff *t)
{
	for (int i = 0; i < t->ntiers; i++)
		if (t->tiers[i].mode == TIER_VOLUME)
			return 1;
	return 0;
}

/*
 * The package files that decide more than prices: who pays and in which
 * period (classes, numbers, accounts), and the state that runs from one
 * period into the next (test minutes in plans, bundle windows).  An older
 * version can rate a period in the current one's place only when these are
 * byte for byte the same: it then differs in prices alone (rates, tiers,
 * bands, fees, minimums), and the bundle timeline, worked out with the
 * current version, and the test minutes carried between periods mean the
 * same in both.
 */
static const char *const structure_files[] = {
	"classes.csv", "numbers.csv", "accounts.csv", "plans.csv", "subscriptions.csv",
	"bundles.csv",
};

/* Tariff version `version`, loaded once per run, and whether it can stand
 * in for `current`; NULL on error. */
static const struct old_version *
old_version(struct job *j, int64_t version, int64_t current)
{
	struct old_version *o;
	struct tariff *t;
	void *v;
	int same = 1;

	for (int i = 0; i < j->nold; i++)
		if (j->old[i].version == version && j->old[i].current == current)
			return &j->old[i];
	for (size_t i = 0; same == 1 && i < sizeof structure_files / sizeof *structure_files;
	    i++)
		same = store_tariff_file_same(j->s, version, current, structure_files[i], j->e);
	if (same < 0)
		return NULL;
	if ((t = same ? tariff_load_version(j->s, version, j->e) : NULL) == NULL && same)
		return NULL;
	if ((v = realloc(j->old, (size_t)(j->nold + 1) * sizeof *j->old)) == NULL) {
		tariff_free(t);
		terr_set(j->e, "out of memory");
		return NULL;
	}
	j->old = v;
	o = &j->old[j->nold++];
	*o = (struct old_version){ version, current, t, same };
	return o;
}

/*
 * The tariff a payer's period is rated with.  Once calls of a period are on
 * an issued invoice, the period keeps the version they were rated with: a
 * late call is rated with the prices its period was invoiced at, and a new
 * version never re-prices invoiced calls (tally-invoice(1), LATE CALLS).
 * Otherwise, and when that version cannot stand in (structure_files), the
 * current one.
 */
static int
period_tariff(struct job *j, const char *payer, const char *period, int ti,
    const struct tariff **t, int *a, int64_t *version)
{
	const struct old_version *o;
	int64_t v;
	int oa;

	*t = j->ts.t[ti];
	*version = j->ts.version[ti];
	if (!j->any_issued)
		return 0;
	if (store_period_version(j->s, payer, period, &v, j->e) != 0)
		return -1;
	if (v == 0 || v == *version)
		return 0;
	if ((o = old_version(j, v, *version)) == NULL)
		return -1;
	if (!o->same || (oa = tariff_account(o->t, payer)) < 0)
		return 0;
	*t = o->t;
	*a = oa;
	*version = v;
	return 0;
}

/* The group of the run's list (sorted by then), or NULL. */
static struct group *
find_group(struct job *j, const char *payer, const char *period)
{
	struct group key = { .payer = (char *)payer };

	tally_strlcpy(key.period, period, sizeof key.period);
	return j->ngroups ? bsearch(&key, j->groups, (size_t)j->ngroups, sizeof key,
	    by_group) : NULL;
}

/* Rate one group's CDRs (in rating order) and store the results. */
static int
rate_group(struct job *j, const char *payer, const char *period, struct members *ms,
    struct bundle_state *bs)
{
	struct rate_state st = { 0 };
	struct bundle_state pass1;
	struct rate_result res;
	int a = -1, ti = tariff_set_find(&j->ts, payer, &a), rc = -1;
	const struct tariff *t = ti >= 0 ? j->ts.t[ti] : NULL;
	int64_t test_before = 0, version = 0;
	struct group_summary now = { 0 };
	struct group *g;
	int changed = 1;

	if (t && period_tariff(j, payer, period, ti, &t, &a, &version) != 0)
		goto out;
	/* test minutes carry over from earlier periods (already re-rated in
	 * this run: groups come in payer, period order) */
	if (t && t->plans[t->accounts[a].plan].test_seconds > 0 &&
	    store_test_used_before(j->s, payer, period, &test_before, j->e) != 0)
		goto out;
	if (t && has_volume(t)) {
		/* pass 1: the period's totals, which volume tiers price by */
		st.counting_only = 1;
		st.test_used = test_before;
		/* on a copy of the bundles: pass 2 takes the same seconds again */
		if (bs) {
			pass1 = *bs;
			st.bundle = &pass1;
		}
		for (int i = 0; i < ms->n; i++)
			rate_cdr(t, &ms->m[i].c, &st, NULL, &res);
		for (int i = 0; i < st.ncounters; i++)
			st.counters[i].seconds = 0;
		st.counting_only = 0;
	}
	st.test_used = test_before;
	st.bundle = bs;
	for (int i = 0; i < ms->n; i++) {
		const char *cls = NULL;

		if (t) {
			rate_cdr(t, &ms->m[i].c, &st, NULL, &res);
			cls = res.cls >= 0 ? t->classes[res.cls].name : NULL;
			/* every CDR was placed by the same rules: a mismatch is a bug,
			 * and storing it would bill the wrong account */
			if (res.payer >= 0) {
				char p[8];

				rate_period(&t->accounts[res.payer], ms->m[i].c.start, p);
				if (res.payer != a || strcmp(p, period) != 0) {
					terr_set(j->e, "CDR %lld belongs to %s %s, not %s %s: "
					    "not rated", (long long)ms->m[i].id,
					    t->accounts[res.payer].id, p, payer, period);
					goto out;
				}
			}
		} else {
			rate_payer(&(struct tariff){ 0 }, &ms->m[i].c, &res);
			owners_disputed(j, &ms->m[i].c, &res);
		}
		if (store_rating_put(j->s, ms->m[i].id, version, payer,
		    period, cls, &res, j->e) != 0)
			goto out;
		now.cdrs++;
		now.amount += res.amount;	/* one call's: bounded, RATE_MAX_SECONDS */
		now.billed_seconds += res.billed_seconds;
		if (res.status == RS_RATED)
			now.rated++;
		j->sum->cdrs++;
		if (res.status == RS_RATED)
			j->sum->rated++;
		else if (res.status == RS_FREE)
			j->sum->free++;
		else
			j->sum->unrated++;
	}
	/* its next invoice charges what changed since it was last invoiced:
	 * only when it changed (a run that moves the bundle horizon re-rates
	 * every period of a subscriber, mostly to the same figures) */
	if ((g = find_group(j, payer, period)) != NULL) {
		g->rated = 1;
		changed = memcmp(&now, &g->was, sizeof now) != 0;
	}
	if (t && changed && store_usage_dirty_add(j->s, payer, period, j->e) != 0)
		goto out;
	j->sum->groups++;
	rc = 0;
out:
	rate_state_release(&st);
	return rc;
}

/* ---- bundle windows ----------------------------------------------------- */

static int
by_bpayer(const void *a, const void *b)
{
	return strcmp(((const struct bpayer *)a)->id, ((const struct bpayer *)b)->id);
}

static struct bpayer *
find_bpayer(const struct job *j, const char *payer)
{
	struct bpayer key = { .id = payer };

	return j->nbp ? bsearch(&key, j->bp, (size_t)j->nbp, sizeof key, by_bpayer) : NULL;
}

static int
has_group(const struct job *j, int n, const char *payer)
{
	int lo = 0, hi = n - 1;

	while (lo <= hi) {
		int mid = (lo + hi) / 2, c = strcmp(payer, j->groups[mid].payer);

		if (c == 0)
			return 1;
		if (c < 0)
			hi = mid - 1;
		else
			lo = mid + 1;
	}
	return 0;
}

static int
on_bundle_period(const char *period, void *arg)
{
	struct cascade *c = arg;

	return add_group(c->j, c->payer, period);
}

/*
 * Which payers' windows to rebuild: a bundle's state runs through all of a
 * payer's months, so a payer with subscriptions is re-rated whole when any
 * of its CDRs changes, when its tariff version changes, or when the store's
 * last period moves (its windows must reach it).  Payers whose windows are
 * stored but who hold no subscription any more lose them.
 */
static int
plan_bundles(struct job *j)
{
	int ngrouped = j->ngroups;

	if (store_last_period(j->s, j->horizon, j->e) != 0)
		return -1;
	for (int i = 0; i < j->ngroups; i++)
		if (strcmp(j->groups[i].period, j->horizon) > 0)
			tally_strlcpy(j->horizon, j->groups[i].period, sizeof j->horizon);
	if (j->through && strcmp(j->through, j->horizon) > 0)
		tally_strlcpy(j->horizon, j->through, sizeof j->horizon);
	if (ngrouped > 0)
		qsort(j->groups, (size_t)ngrouped, sizeof *j->groups, by_group);
	for (int ti = 0; ti < j->ts.n; ti++) {
		const struct tariff *t = j->ts.t[ti];

		for (int k = 0; k < t->nsubs; k++) {
			const char *id = t->accounts[t->subs[k].account].id;
			int64_t version = 0;
			char period[8] = "";
			int dirty, rc;

			if (k > 0 && t->subs[k - 1].account == t->subs[k].account)
				continue;
			if ((rc = store_bundle_horizon(j->s, id, &version, period, j->e)) < 0)
				return -1;
			dirty = rc == 0 || version != j->ts.version[ti] ||
			    strcmp(period, j->horizon) != 0 || has_group(j, ngrouped, id);
			/* a run that only moves the horizon leaves a new tariff
			 * version to tally-rate: it re-rates nothing differently,
			 * so drafts closed before it stay good */
			if (j->through && rc > 0 && version != j->ts.version[ti])
				continue;
			if (!dirty || j->horizon[0] == '\0')
				continue;
			if (rc == 0)
				j->new_windows = 1;
			struct bpayer *b = realloc(j->bp, (size_t)(j->nbp + 1) * sizeof *b);

			if (b == NULL)
				return terr_set(j->e, "out of memory");
			j->bp = b;
			j->bp[j->nbp++] = (struct bpayer){ id, ti, t->subs[k].account, 0 };
			{
				struct cascade c = { j, id };

				if (store_periods_after(j->s, id, "", on_bundle_period, &c,
				    j->e) != 0)
					return -1;
			}
		}
	}
	if (j->nbp > 0)
		qsort(j->bp, (size_t)j->nbp, sizeof *j->bp, by_bpayer);
	return 0;
}

struct names {
	char **v;
	int n;
	struct terr *e;
};

static int
on_stored_bundle_payer(const char *payer, void *arg)
{
	struct names *nm = arg;
	char **v = realloc(nm->v, (size_t)(nm->n + 1) * sizeof *v);

	if (v == NULL)
		return terr_set(nm->e, "out of memory");
	nm->v = v;
	if ((v[nm->n] = strdup(payer)) == NULL)
		return terr_set(nm->e, "out of memory");
	nm->n++;
	return 0;
}

/* Payers with stored windows who hold no subscription now lose them. */
static int
drop_old_windows(struct job *j)
{
	struct names nm = { NULL, 0, j->e };
	int rc = store_each_bundle_payer(j->s, on_stored_bundle_payer, &nm, j->e);

	for (int i = 0; i < nm.n; i++) {
		int a, first, ti = tariff_set_find(&j->ts, nm.v[i], &a);

		if (rc == 0 && (ti < 0 || tariff_subscriptions(j->ts.t[ti], a, &first) == 0))
			rc = store_bundle_reset(j->s, nm.v[i], j->e);
		free(nm.v[i]);
	}
	free(nm.v);
	return rc;
}

int64_t
rate_period_end(const struct taccount *a, const char *period)
{
	return rate_period_start(a, period, 1);
}

int64_t
rate_period_start(const struct taccount *a, const char *period, int after)
{
	int year = atoi(period), mon = atoi(period + 5) + after;

	if (mon == 13) {
		year++;
		mon = 1;
	}
	return tz_day_start(a->tz, year, mon, a->billing_day);
}

static void
local_text(struct tz *z, int64_t t, char out[20])
{
	struct civil c;

	tz_from_utc(z, t, &c);
	snprintf(out, 20, "%04u-%02u-%02u %02u:%02u:%02u", (unsigned)c.year % 10000u,
	    (unsigned)c.mon % 100u, (unsigned)c.day % 100u, (unsigned)c.hour % 100u,
	    (unsigned)c.min % 100u, (unsigned)c.sec % 100u);
}

/* Finish a payer's timeline at the horizon and store its windows. */
static int
store_windows(struct job *j, const struct bpayer *b, struct bundle_state *bs)
{
	const struct tariff *t = j->ts.t[b->t];
	const struct taccount *a = &t->accounts[b->a];

	bundle_finish(bs, rate_period_end(a, j->horizon));
	if (bs->failed)
		return terr_set(j->e, "out of memory");
	if (store_bundle_reset(j->s, b->id, j->e) != 0)
		return -1;
	for (int i = 0; i < bs->nlog; i++) {
		const struct bundle_window *w = &bs->log->w[i];
		const struct subscription *sub = &t->subs[w->sub];
		const struct bundle *bd = &t->bundles[sub->bundle];
		char from[8], to[8], sl[20], el[20];
		struct window_row r = {
			.payer = b->id, .seq = w->seq, .version = j->ts.version[b->t],
			.bundle = bd->name, .cls = t->classes[bd->cls].name,
			.activated = sub->activated, .start = w->start, .end = w->end,
			.start_local = sl, .end_local = el, .ended = bundle_end_name(w->ended),
			.granted = w->granted, .rolled_in = w->rolled_in, .used = w->used,
			.rolled_out = w->rolled_out, .forfeited = w->forfeited,
			.price = bd->price, .tax_included = bd->tax_included,
			.period_from = from, .period_to = to,
		};

		rate_period(a, w->start, from);
		/* the month of its last second (a window cut at its start has none) */
		rate_period(a, w->end > w->start ? w->end - 1 : w->start, to);
		local_text(a->tz, w->start, sl);
		local_text(a->tz, w->end, el);
		if (store_bundle_window_put(j->s, &r, j->e) != 0)
			return -1;
	}
	j->sum->windows += (uint64_t)bs->nlog;
	return store_bundle_horizon_put(j->s, b->id, j->ts.version[b->t], j->horizon, j->e);
}

/* ---- the stream of work ------------------------------------------------- */

/* The work list arrives in group order: gather a group, rate it, go on.
 * A payer's groups come together, in period order: its bundle timeline
 * runs through them and is stored when the next payer begins. */
struct stream {
	struct job *j;
	struct members ms;
	char *payer;
	char period[8];
	struct bpayer *bp;	/* the payer's windows are being rebuilt */
	struct bundle_state bs;
	struct bundle_log log;
};

static int
flush_group(struct stream *sm)
{
	int rc = 0;

	if (sm->ms.n > 0) {
		/* the work list comes by group; within one, in memory, by start */
		qsort(sm->ms.m, (size_t)sm->ms.n, sizeof *sm->ms.m, by_start);
		rc = rate_group(sm->j, sm->payer, sm->period, &sm->ms, sm->bp ? &sm->bs : NULL);
	}
	members_release(&sm->ms);
	memset(&sm->ms, 0, sizeof sm->ms);
	sm->ms.e = sm->j->e;
	return rc;
}

static int
end_payer(struct stream *sm)
{
	int rc = 0;

	if (sm->bp) {
		rc = store_windows(sm->j, sm->bp, &sm->bs);
		sm->bp->done = 1;
		sm->bp = NULL;
	}
	return rc;
}

static int
on_work(const struct stored_cdr *sc, void *arg)
{
	struct stream *sm = arg;
	int new_payer = sm->payer == NULL || strcmp(sm->payer, sc->payer) != 0;

	if (new_payer || strcmp(sm->period, sc->period) != 0) {
		if (flush_group(sm) != 0 || (new_payer && end_payer(sm) != 0))
			return -1;
		free(sm->payer);
		if ((sm->payer = strdup(sc->payer)) == NULL)
			return terr_set(sm->j->e, "out of memory");
		tally_strlcpy(sm->period, sc->period, sizeof sm->period);
		if (new_payer && (sm->bp = find_bpayer(sm->j, sc->payer)) != NULL)
			bundle_begin(&sm->bs, sm->j->ts.t[sm->bp->t], sm->bp->a, &sm->log);
	}
	return on_member(sc, &sm->ms);
}

/* Rate the work list, then the windows of bundle payers without CDRs. */
static int
rate_work(struct job *j)
{
	struct stream sm = { .j = j, .ms = { NULL, 0, 0, j->e } };
	int rc = store_each_work_cdr(j->s, on_work, &sm, j->e);

	if (rc == 0)
		rc = flush_group(&sm);
	else
		members_release(&sm.ms);
	if (rc == 0)
		rc = end_payer(&sm);
	for (int i = 0; rc == 0 && i < j->nbp; i++) {
		if (j->bp[i].done)
			continue;
		bundle_begin(&sm.bs, j->ts.t[j->bp[i].t], j->bp[i].a, &sm.log);
		sm.bp = &j->bp[i];
		rc = end_payer(&sm);
	}
	free(sm.payer);
	bundle_log_release(&sm.log);
	return rc;
}

/* Does this payer's plan give test minutes (whose use carries over)? */
static int
has_test_minutes(const struct job *j, const char *payer)
{
	int a, ti = tariff_set_find(&j->ts, payer, &a);

	return ti >= 0 && j->ts.t[ti]->plans[j->ts.t[ti]->accounts[a].plan].test_seconds > 0;
}

static int rate_job(struct store *s, const char *period, const char *account,
    const char *through, struct rate_summary *sum, struct terr *e);

int
rate_run(struct store *s, const char *period, const char *account,
    struct rate_summary *sum, struct terr *e)
{
	return rate_job(s, period, account, NULL, sum, e);
}

int
rate_windows_through(struct store *s, const char *period, struct terr *e)
{
	struct rate_summary sum;

	return rate_job(s, NULL, NULL, period, &sum, e);
}

/* through: only work out bundle windows to that period (no new CDRs). */
static int
rate_job(struct store *s, const char *period, const char *account, const char *through,
    struct rate_summary *sum, struct terr *e)
{
	struct job j = { .s = s, .only_period = period, .only_account = account,
		.through = through, .sum = sum, .e = e };
	int rc = -1;

	memset(sum, 0, sizeof *sum);
	if (tariff_set_load(s, &j.ts, e) != 0)
		goto out;
	if (store_begin(s, e) != 0)
		goto out;
	if ((j.any_issued = store_any_issued(s, e)) < 0)
		goto fail;
	if (store_work_reset(s, e) != 0 ||
	    (!through && store_each_rating_candidate(s, on_candidate, &j, e) != 0))
		goto fail;
	if (store_each_rate_pending(s, on_pending, &j, e) != 0)
		goto fail;
	/* Later periods of a payer with test minutes: how many are left there
	 * follows from these ones (up or down), so they are re-rated too. */
	for (int i = 0, n = j.ngroups; i < n; i++) {
		/* the payer string stays put when j.groups grows */
		struct cascade c = { &j, j.groups[i].payer };
		char p[8];

		if (!has_test_minutes(&j, c.payer))
			continue;
		tally_strlcpy(p, j.groups[i].period, sizeof p);
		if (store_periods_after(s, c.payer, p, on_test_period, &c, e) != 0)
			goto fail;
	}
	if (plan_bundles(&j) != 0)
		goto fail;
	if (drop_old_windows(&j) != 0)
		goto fail;
	/* Each dirty group is re-rated whole: its other CDRs join the work. */
	if (j.ngroups > 0)
		qsort(j.groups, (size_t)j.ngroups, sizeof *j.groups, by_group);
	for (int i = 0; i < j.ngroups; i++) {
		if (i > 0 && by_group(&j.groups[i - 1], &j.groups[i]) == 0)
			continue;
		if (store_work_add_group(s, j.groups[i].payer, j.groups[i].period, e) != 0 ||
		    store_group_summary(s, j.groups[i].payer, j.groups[i].period,
		    &j.groups[i].was, e) != 0)
			goto fail;
	}
	if (store_work_clear_pieces(s, e) != 0)
		goto fail;
	if (rate_work(&j) != 0)
		goto fail;
	/* a group all of whose CDRs went to another payer or period changed */
	for (int i = 0; i < j.ngroups; i++)
		if (!j.groups[i].rated && j.groups[i].was.cdrs > 0 &&
		    store_usage_dirty_add(s, j.groups[i].payer, j.groups[i].period, e) != 0)
			goto fail;
	/* drafts closed before this run may no longer be what would be billed */
	if ((sum->cdrs > 0 || sum->windows > 0) && (!through || j.new_windows || j.pending) &&
	    store_bump_generation(s, e) != 0)
		goto fail;
	if (store_commit(s, e) != 0)
		goto fail;
	rc = 0;
	goto out;
fail:
	store_rollback(s);
out:
	for (int i = 0; i < j.ngroups; i++)
		free(j.groups[i].payer);
	free(j.groups);
	group_set_release(&j.seen);
	free(j.bp);
	for (int i = 0; i < j.nold; i++)
		tariff_free(j.old[i].t);
	free(j.old);
	tariff_set_release(&j.ts);
	return rc;
}
