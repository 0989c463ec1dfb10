/*
 * store_rating.c - what tally-rate reads and writes: the CDRs to rate, the
 * run's work list (temp.rate_work), ratings and their pieces, the periods
 * rated since an invoice settled them (usage_dirty) or left to rate again
 * (rate_pending), and the stored ratings tally-replay reads back.  Cut
 * here because a rating run is one unit of work over these tables: its
 * per-CDR statements keep slots of their own, and the rules that decide
 * what to rate again (STALE) sit beside the query that uses them.
 */
#include <string.h>

#include "store_impl.h"

/* Fill a stored_cdr from the DB_CDR_COLUMNS of a row (strings live until
 * the next step). */
void
db_row_cdr(struct db_stmt *q, struct stored_cdr *sc)
{
	memset(sc, 0, sizeof *sc);
	sc->id = db_int64(q, 0);
	sc->batch = db_int64(q, 1);
	sc->source = db_text(q, 2);
	sc->c.record_key = db_text(q, 3);
	sc->c.account = db_text(q, 4);
	sc->c.caller_raw = db_text(q, 5);
	sc->c.caller = db_text(q, 6);
	sc->c.callee_raw = db_text(q, 7);
	sc->c.callee = db_text(q, 8);
	sc->c.start = db_int64(q, 9);
	sc->c.has_answer = !db_is_null(q, 10);
	sc->c.answer = db_int64(q, 10);
	sc->c.end = db_int64(q, 11);
	sc->c.duration = db_int64(q, 12);
	sc->c.billsec = db_int64(q, 13);
	if (cdr_disposition_parse(db_text(q, 14), &sc->c.disposition) != 0)
		sc->c.disposition = CDR_FAILED;
	sc->c.type = strcmp(db_text(q, 15), "sms") == 0 ? CDR_SMS : CDR_VOICE;
}

/* A rating is stale when its version is not its reseller's current one,
 * nor the one its period keeps because calls of it on issued invoices were
 * rated with it (store_period_version: such a period is rated with that
 * version). */
#define STALE "(CASE WHEN r.version_id IS NULL OR r.version_id IN (SELECT max(id) FROM" \
	" tariff_version GROUP BY reseller) THEN 0 ELSE NOT EXISTS (SELECT 1 FROM rating o" \
	" JOIN invoice_cdr ic ON ic.cdr_id = o.cdr_id JOIN invoice i ON i.id = ic.invoice_id" \
	" WHERE o.payer = r.payer AND o.period = r.period AND o.version_id = r.version_id" \
	" AND i.status = 'issued') END)"

int
store_each_rating_candidate(struct store *s,
    int (*fn)(const struct stored_cdr *, void *), void *arg, struct terr *e)
{
	struct db_stmt q;

	if (db_prep(&q, s, "SELECT " DB_CDR_COLUMNS ", r.payer, r.period, " STALE
	    " FROM cdr c LEFT JOIN rating r ON r.cdr_id = c.id"
	    " WHERE (r.cdr_id IS NULL OR r.status = 'unrated' OR " STALE ") AND NOT EXISTS"
	    " (SELECT 1 FROM invoice_cdr ic JOIN invoice i ON i.id = ic.invoice_id"
	    " WHERE ic.cdr_id = c.id AND i.status = 'issued') ORDER BY c.id", e) != 0)
		return -1;
	while (db_next(&q)) {
		struct stored_cdr sc;

		db_row_cdr(&q, &sc);
		sc.rated = !db_is_null(&q, DB_CDR_NCOLUMNS);
		sc.payer = db_text(&q, DB_CDR_NCOLUMNS);
		sc.period = db_text(&q, DB_CDR_NCOLUMNS + 1);
		sc.stale = db_int(&q, DB_CDR_NCOLUMNS + 2);
		q.stop = fn(&sc, arg);
	}
	return db_end(&q, "list CDRs to rate");
}

/* --- the work list of one run ------------------------------------------ */

int
store_work_reset(struct store *s, struct terr *e)
{
	return db_exec(s, "CREATE TEMP TABLE IF NOT EXISTS rate_work (cdr_id INTEGER PRIMARY"
	    " KEY, payer TEXT NOT NULL, period TEXT NOT NULL);"
	    " CREATE INDEX IF NOT EXISTS temp.rate_work_group ON rate_work(payer, period);"
	    " DELETE FROM temp.rate_work", e);
}

/* The two statements on temp.rate_work are prepared on first use, after
 * store_work_reset made the table. */
int
store_work_add(struct store *s, int64_t cdr, const char *payer, const char *period,
    struct terr *e)
{
	struct db_stmt q;

	if (db_kept(&q, s, DB_WORK_ADD, "INSERT OR REPLACE INTO temp.rate_work (cdr_id,"
	    " payer, period) VALUES (?1, ?2, ?3)", e) != 0)
		return -1;
	db_bind_int64(&q, 1, cdr);
	db_bind_text(&q, 2, payer);
	db_bind_text(&q, 3, period);
	return db_done(&q, "add work");
}

int
store_payer_rated(struct store *s, const char *payer, struct terr *e)
{
	struct db_stmt q;
	int64_t found;

	if (db_prep(&q, s, "SELECT 1 FROM rating WHERE payer = ?1 LIMIT 1", e) != 0)
		return -1;
	db_bind_text(&q, 1, payer);
	if (db_first_int64(&q, &found, "find payer") != 0)
		return -1;
	return found > 0;
}

int
store_work_add_group(struct store *s, const char *payer, const char *period,
    struct terr *e)
{
	struct db_stmt q;

	if (db_kept(&q, s, DB_WORK_GROUP, "INSERT OR IGNORE INTO temp.rate_work (cdr_id,"
	    " payer, period) SELECT cdr_id, payer, period FROM rating WHERE payer = ?1"
	    " AND period = ?2", e) != 0)
		return -1;
	db_bind_text(&q, 1, payer);
	db_bind_text(&q, 2, period);
	return db_done(&q, "add group to work");
}

int
store_work_clear_pieces(struct store *s, struct terr *e)
{
	return db_exec(s, "DELETE FROM rating_piece WHERE cdr_id IN"
	    " (SELECT cdr_id FROM temp.rate_work)", e);
}

int
store_each_work_cdr(struct store *s, int (*fn)(const struct stored_cdr *, void *),
    void *arg, struct terr *e)
{
	struct db_stmt q;

	if (db_prep(&q, s, "SELECT " DB_CDR_COLUMNS ", w.payer, w.period FROM"
	    " temp.rate_work w JOIN cdr c ON c.id = w.cdr_id"
	    " ORDER BY w.payer, w.period", e) != 0)
		return -1;
	while (db_next(&q)) {
		struct stored_cdr sc;

		db_row_cdr(&q, &sc);
		sc.payer = db_text(&q, DB_CDR_NCOLUMNS);
		sc.period = db_text(&q, DB_CDR_NCOLUMNS + 1);
		q.stop = fn(&sc, arg);
	}
	return db_end(&q, "list work");
}

/* --- a payer's periods ------------------------------------------------- */

/* Walk the periods a statement of (payer ?1, period ?2) lists. */
static int
each_period(struct store *s, const char *sql, const char *payer, const char *period,
    int (*fn)(const char *, void *), void *arg, const char *what, struct terr *e)
{
	struct db_stmt q;

	if (db_prep(&q, s, sql, e) != 0)
		return -1;
	db_bind_text(&q, 1, payer);
	db_bind_text(&q, 2, period);
	while (db_next(&q))
		q.stop = fn(db_text(&q, 0), arg);
	return db_end(&q, what);
}

int
store_periods_after(struct store *s, const char *payer, const char *period,
    int (*fn)(const char *, void *), void *arg, struct terr *e)
{
	return each_period(s, "SELECT DISTINCT period FROM rating WHERE payer = ?1"
	    " AND period > ?2 ORDER BY 1", payer, period, fn, arg, "list later periods", e);
}

int
store_test_used_before(struct store *s, const char *payer, const char *period,
    int64_t *out, struct terr *e)
{
	struct db_stmt q;

	if (db_prep(&q, s, "SELECT coalesce(sum(p.seconds), 0) FROM rating r JOIN"
	    " rating_piece p ON p.cdr_id = r.cdr_id WHERE r.payer = ?1 AND r.period < ?2"
	    " AND p.kind = 'test'", e) != 0)
		return -1;
	db_bind_text(&q, 1, payer);
	db_bind_text(&q, 2, period);
	return db_first_int64(&q, out, "sum test seconds");
}

int
store_period_version(struct store *s, const char *payer, const char *period,
    int64_t *version, struct terr *e)
{
	struct db_stmt q;

	if (db_prep(&q, s, "SELECT r.version_id FROM rating r JOIN invoice_cdr ic ON"
	    " ic.cdr_id = r.cdr_id JOIN invoice i ON i.id = ic.invoice_id WHERE r.payer = ?1"
	    " AND r.period = ?2 AND i.status = 'issued' AND r.version_id IS NOT NULL"
	    " ORDER BY i.id LIMIT 1", e) != 0)
		return -1;
	db_bind_text(&q, 1, payer);
	db_bind_text(&q, 2, period);
	return db_first_int64(&q, version, "query");
}

int
store_any_issued(struct store *s, struct terr *e)
{
	struct db_stmt q;
	int64_t n;

	if (db_prep(&q, s, "SELECT EXISTS (SELECT 1 FROM invoice WHERE status = 'issued'"
	    " AND kind = 'invoice')", e) != 0 || db_first_int64(&q, &n, "query") != 0)
		return -1;
	return n != 0;
}

int
store_group_summary(struct store *s, const char *payer, const char *period,
    struct group_summary *out, struct terr *e)
{
	struct db_stmt q;

	if (db_prep(&q, s, "SELECT count(*), count(*) FILTER (WHERE status = 'rated'),"
	    " coalesce(sum(amount), 0), coalesce(sum(billed_seconds), 0) FROM rating"
	    " WHERE payer = ?1 AND period = ?2", e) != 0)
		return -1;
	db_bind_text(&q, 1, payer);
	db_bind_text(&q, 2, period);
	if (db_next(&q)) {
		out->cdrs = db_int64(&q, 0);
		out->rated = db_int64(&q, 1);
		out->amount = db_int64(&q, 2);
		out->billed_seconds = db_int64(&q, 3);
	}
	return db_end(&q, "sum a period's ratings");
}

/* --- ratings and their pieces ------------------------------------------ */

int
store_rating_put(struct store *s, int64_t cdr, int64_t version, const char *payer,
    const char *period, const char *cls, const struct rate_result *r, struct terr *e)
{
	struct db_stmt q;

	if (db_kept(&q, s, DB_RATING_PUT, "INSERT OR REPLACE INTO rating (cdr_id, version_id,"
	    " payer, period, status, class, destination, prefix, seconds, billed_seconds,"
	    " amount, reason, tier_pos, test_used, volume_total, bundle_sub, bundle_seq,"
	    " bundle_left) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
	    " ?14, ?15, ?16, ?17, ?18)", e) != 0)
		return -1;
	db_bind_int64(&q, 1, cdr);
	db_bind_id_or_null(&q, 2, version);
	db_bind_text(&q, 3, payer);
	db_bind_text(&q, 4, period);
	db_bind_text(&q, 5, rate_status_name(r->status));
	db_bind_text(&q, 6, cls);
	db_bind_text(&q, 7, r->destination);
	db_bind_text(&q, 8, r->prefix);
	db_bind_int64(&q, 9, r->seconds);
	db_bind_int64(&q, 10, r->billed_seconds);
	db_bind_money(&q, 11, r->amount);
	db_bind_text(&q, 12, r->reason);
	db_bind_int64(&q, 13, r->before.tier_pos);
	db_bind_int64(&q, 14, r->before.test_used);
	db_bind_int64(&q, 15, r->before.volume_total);
	if (r->before.bundle_sub >= 0) {	/* else the three stay NULL */
		db_bind_int64(&q, 16, r->before.bundle_sub);
		db_bind_int64(&q, 17, r->before.bundle_seq);
		db_bind_int64(&q, 18, r->before.bundle_left);
	}
	if (db_done(&q, "put rating") != 0)
		return -1;
	for (int i = 0; i < r->npieces; i++) {
		const struct rate_piece *p = &r->pieces[i];

		if (db_kept(&q, s, DB_PIECE_ADD, "INSERT INTO rating_piece (cdr_id, seq, kind,"
		    " label, seconds, price, exact) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", e) != 0)
			return -1;
		db_bind_int64(&q, 1, cdr);
		db_bind_int64(&q, 2, i);
		db_bind_text(&q, 3, rate_piece_kind_name(p->kind));
		db_bind_text(&q, 4, p->label);
		db_bind_int64(&q, 5, p->seconds);
		db_bind_money(&q, 6, p->price);
		db_bind_int64(&q, 7, (int64_t)p->exact);
		if (db_done(&q, "put piece") != 0)
			return -1;
	}
	return 0;
}

/* --- periods to settle or to rate again -------------------------------- */

int
store_usage_dirty_add(struct store *s, const char *payer, const char *period,
    struct terr *e)
{
	struct db_stmt q;

	if (db_prep(&q, s, "INSERT OR IGNORE INTO usage_dirty (payer, period) VALUES"
	    " (?1, ?2)", e) != 0)
		return -1;
	db_bind_text(&q, 1, payer);
	db_bind_text(&q, 2, period);
	return db_done(&q, "query");
}

int
store_each_dirty_period(struct store *s, const char *payer, const char *before,
    int (*fn)(const char *, void *), void *arg, struct terr *e)
{
	return each_period(s, "SELECT period FROM usage_dirty WHERE payer = ?1"
	    " AND period < ?2 ORDER BY period", payer, before, fn, arg,
	    "list re-rated periods", e);
}

int
store_usage_settle(struct store *s, const char *payer, const char *upto, struct terr *e)
{
	struct db_stmt q;

	if (db_prep(&q, s, "DELETE FROM usage_dirty WHERE payer = ?1 AND period <= ?2",
	    e) != 0)
		return -1;
	db_bind_text(&q, 1, payer);
	db_bind_text(&q, 2, upto);
	return db_done(&q, "query");
}

int
store_each_rate_pending(struct store *s, int (*fn)(const char *, const char *, void *),
    void *arg, struct terr *e)
{
	struct db_stmt q;
	int rc;

	if (db_prep(&q, s, "SELECT payer, period FROM rate_pending ORDER BY 1, 2", e) != 0)
		return -1;
	while (db_next(&q))
		q.stop = fn(db_text(&q, 0), db_text(&q, 1), arg);
	rc = db_end(&q, "list periods to rate again");
	return rc == 0 ? db_exec(s, "DELETE FROM rate_pending", e) : rc;
}

/* --- replay: ratings as stored ----------------------------------------- */

static int
load_pieces(struct store *s, int64_t cdr, struct stored_rating *sr, struct terr *e)
{
	struct db_stmt q;

	if (db_prep(&q, s, "SELECT kind, label, seconds, price, exact FROM"
	    " rating_piece WHERE cdr_id = ?1 ORDER BY seq", e) != 0)
		return -1;
	db_bind_int64(&q, 1, cdr);
	sr->npieces = 0;
	/* rating never stores more than RATE_MAX_PIECES: the rest is ignored */
	while (db_next(&q) && sr->npieces < RATE_MAX_PIECES) {
		struct rate_piece *p = &sr->pieces[sr->npieces++];

		if (rate_piece_kind_parse(db_text(&q, 0), &p->kind) != 0)
			p->kind = PK_TEST;
		tally_strlcpy(p->label, db_text(&q, 1), sizeof p->label);
		p->seconds = db_int64(&q, 2);
		p->price = db_int64(&q, 3);
		p->exact = db_int64(&q, 4);
	}
	return db_end(&q, "read pieces");
}

int
store_each_batch_rating(struct store *s, int64_t batch,
    int (*fn)(const struct stored_cdr *, const struct stored_rating *, void *),
    void *arg, struct terr *e)
{
	enum { R = DB_CDR_NCOLUMNS };	/* the rating's columns follow the CDR's */
	struct db_stmt q;

	if (db_prep(&q, s, "SELECT " DB_CDR_COLUMNS ", coalesce(r.version_id, 0),"
	    " r.status, r.class, r.payer, r.reason, r.billed_seconds, r.amount, r.tier_pos,"
	    " r.test_used, r.volume_total, r.destination, r.prefix, coalesce(v.reseller, ''),"
	    " coalesce(r.bundle_sub, -1), coalesce(r.bundle_seq, 0), coalesce(r.bundle_left, 0)"
	    " FROM cdr c JOIN rating r ON r.cdr_id = c.id"
	    " LEFT JOIN tariff_version v ON v.id = r.version_id"
	    " WHERE c.batch_id = ?1 ORDER BY c.id", e) != 0)
		return -1;
	db_bind_int64(&q, 1, batch);
	while (db_next(&q)) {
		struct stored_cdr sc;
		struct stored_rating sr;

		db_row_cdr(&q, &sc);
		memset(&sr, 0, sizeof sr);
		sr.version = db_int64(&q, R);
		sr.status = db_text(&q, R + 1);
		sr.cls = db_text_or_null(&q, R + 2);
		sr.payer = db_text(&q, R + 3);
		sr.reason = db_text(&q, R + 4);
		sr.billed_seconds = db_int64(&q, R + 5);
		sr.amount = db_int64(&q, R + 6);
		sr.before.tier_pos = db_int64(&q, R + 7);
		sr.before.test_used = db_int64(&q, R + 8);
		sr.before.volume_total = db_int64(&q, R + 9);
		sr.destination = db_text(&q, R + 10);
		sr.prefix = db_text(&q, R + 11);
		sr.reseller = db_text(&q, R + 12);
		sr.before.bundle_sub = db_int(&q, R + 13);
		sr.before.bundle_seq = db_int(&q, R + 14);
		sr.before.bundle_left = db_int64(&q, R + 15);
		if (load_pieces(s, sc.id, &sr, e) != 0)
			q.stop = -1;
		else
			q.stop = fn(&sc, &sr, arg);
	}
	return db_end(&q, "list batch ratings");
}
