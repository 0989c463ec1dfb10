/*
 * store_bundle.c - minute bundles: each payer's windows (bundle_window),
 * rebuilt whole up to a horizon (bundle_horizon) when the payer is rated,
 * and the payer's rated CDRs in the order they are worked out in.  Cut
 * here because the windows are their own unit of work inside a rating run
 * (reset, then put one by one), and invoices and reports read them back
 * through the same columns (DB_WINDOW_COLUMNS, db_row_window).
 */
#include "store_impl.h"

int
store_last_period(struct store *s, char out[8], struct terr *e)
{
	struct db_stmt q;

	if (db_prep(&q, s, "SELECT coalesce(max(p), '') FROM (SELECT max(period) AS p"
	    " FROM rating UNION ALL SELECT max(period) FROM bundle_horizon)", e) != 0)
		return -1;
	if (db_next(&q))
		tally_strlcpy(out, db_text(&q, 0), 8);
	return db_end(&q, "find the last period");
}

int
store_bundle_horizon(struct store *s, const char *payer, int64_t *version, char period[8],
    struct terr *e)
{
	struct db_stmt q;

	if (db_prep(&q, s, "SELECT version_id, period FROM bundle_horizon"
	    " WHERE payer = ?1", e) != 0)
		return -1;
	db_bind_text(&q, 1, payer);
	if (db_next(&q)) {
		*version = db_int64(&q, 0);
		tally_strlcpy(period, db_text(&q, 1), 8);
		q.stop = 1;
	}
	return db_end(&q, "read bundle horizon");
}

int
store_bundle_horizon_put(struct store *s, const char *payer, int64_t version,
    const char *period, struct terr *e)
{
	struct db_stmt q;

	if (db_prep(&q, s, "INSERT OR REPLACE INTO bundle_horizon (payer, version_id,"
	    " period) VALUES (?1, ?2, ?3)", e) != 0)
		return -1;
	db_bind_text(&q, 1, payer);
	db_bind_int64(&q, 2, version);
	db_bind_text(&q, 3, period);
	return db_done(&q, "put bundle horizon");
}

int
store_each_bundle_payer(struct store *s, int (*fn)(const char *payer, void *), void *arg,
    struct terr *e)
{
	struct db_stmt q;

	if (db_prep(&q, s, "SELECT payer FROM bundle_horizon ORDER BY payer", e) != 0)
		return -1;
	while (db_next(&q))
		q.stop = fn(db_text(&q, 0), arg);
	return db_end(&q, "list bundle payers");
}

int
store_bundle_reset(struct store *s, const char *payer, struct terr *e)
{
	static const char *const sql[] = {
		"DELETE FROM bundle_window WHERE payer = ?1",
		"DELETE FROM bundle_horizon WHERE payer = ?1",
	};

	for (int i = 0; i < 2; i++) {
		struct db_stmt q;

		if (db_prep(&q, s, sql[i], e) != 0)
			return -1;
		db_bind_text(&q, 1, payer);
		if (db_done(&q, "reset bundle windows") != 0)
			return -1;
	}
	return 0;
}

/* A bundle_window row of DB_WINDOW_COLUMNS (the strings live until the
 * next step). */
void
db_row_window(struct db_stmt *q, struct window_row *w)
{
	*w = (struct window_row){
		.payer = db_text(q, 0), .seq = db_int(q, 1),
		.version = db_int64(q, 2), .bundle = db_text(q, 3),
		.cls = db_text(q, 4), .activated = db_int64(q, 5),
		.start = db_int64(q, 6), .end = db_int64(q, 7),
		.start_local = db_text(q, 8), .end_local = db_text(q, 9),
		.ended = db_text(q, 10), .granted = db_int64(q, 11),
		.rolled_in = db_int64(q, 12), .used = db_int64(q, 13),
		.rolled_out = db_int64(q, 14), .forfeited = db_int64(q, 15),
		.price = db_int64(q, 16), .tax_included = db_int(q, 17),
		.period_from = db_text(q, 18), .period_to = db_text(q, 19),
	};
}

int
store_bundle_window_put(struct store *s, const struct window_row *w, struct terr *e)
{
	struct db_stmt q;

	if (db_prep(&q, s, "INSERT INTO bundle_window (" DB_WINDOW_COLUMNS ") VALUES"
	    " (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,"
	    " ?18, ?19, ?20)", e) != 0)
		return -1;
	db_bind_text(&q, 1, w->payer);
	db_bind_int64(&q, 2, w->seq);
	db_bind_int64(&q, 3, w->version);
	db_bind_text(&q, 4, w->bundle);
	db_bind_text(&q, 5, w->cls);
	db_bind_int64(&q, 6, w->activated);
	db_bind_int64(&q, 7, w->start);
	db_bind_int64(&q, 8, w->end);
	db_bind_text(&q, 9, w->start_local);
	db_bind_text(&q, 10, w->end_local);
	db_bind_text(&q, 11, w->ended);
	db_bind_int64(&q, 12, w->granted);
	db_bind_int64(&q, 13, w->rolled_in);
	db_bind_int64(&q, 14, w->used);
	db_bind_int64(&q, 15, w->rolled_out);
	db_bind_int64(&q, 16, w->forfeited);
	db_bind_money(&q, 17, w->price);
	db_bind_int64(&q, 18, w->tax_included);
	db_bind_text(&q, 19, w->period_from);
	db_bind_text(&q, 20, w->period_to);
	return db_done(&q, "put bundle window");
}

int
store_each_window(struct store *s, const char *period, const char *account,
    const char *reseller, int (*fn)(const struct window_row *, void *), void *arg,
    struct terr *e)
{
	struct db_stmt q;

	/* the windows in force during the period, and those charged in it */
	if (db_prep_usage(&q, s, "SELECT " DB_WINDOW_COLUMNS ", v.currency FROM"
	    " bundle_window w JOIN tariff_version v ON v.id = w.version_id"
	    " WHERE (?1 IS NULL OR (w.period_from <= ?1 AND w.period_to >= ?1))"
	    " AND (?2 IS NULL OR w.payer = ?2) AND (?3 IS NULL OR v.reseller = ?3)"
	    " ORDER BY w.payer, w.seq", period, account, reseller, e) != 0)
		return -1;
	while (db_next(&q)) {
		struct window_row w;

		db_row_window(&q, &w);
		w.currency = db_text(&q, DB_WINDOW_NCOLUMNS);
		q.stop = fn(&w, arg);
	}
	return db_end(&q, "bundle windows");
}

int
store_each_window_upto(struct store *s, const char *payer, const char *period,
    int (*fn)(const struct window_row *, void *), void *arg, struct terr *e)
{
	struct db_stmt q;

	if (db_prep(&q, s, "SELECT " DB_WINDOW_COLUMNS " FROM bundle_window"
	    " WHERE payer = ?1 AND period_from <= ?2 ORDER BY seq", e) != 0)
		return -1;
	db_bind_text(&q, 1, payer);
	db_bind_text(&q, 2, period);
	while (db_next(&q)) {
		struct window_row w;

		db_row_window(&q, &w);
		q.stop = fn(&w, arg);
	}
	return db_end(&q, "list a payer's windows");
}

int
store_each_payer_cdr(struct store *s, const char *payer,
    int (*fn)(const struct stored_cdr *, void *), void *arg, struct terr *e)
{
	struct db_stmt q;

	if (db_prep(&q, s, "SELECT " DB_CDR_COLUMNS ", r.payer, r.period FROM"
	    " rating r JOIN cdr c ON c.id = r.cdr_id WHERE r.payer = ?1"
	    " ORDER BY r.period, c.start_ts, c.source, c.record_key", e) != 0)
		return -1;
	db_bind_text(&q, 1, payer);
	while (db_next(&q)) {
		struct stored_cdr sc;

		db_row_cdr(&q, &sc);
		sc.rated = 1;
		sc.payer = db_text(&q, DB_CDR_NCOLUMNS);
		sc.period = db_text(&q, DB_CDR_NCOLUMNS + 1);
		q.stop = fn(&sc, arg);
	}
	return db_end(&q, "list a payer's CDRs");
}
