/*
 * store_report.c - the queries of tally-report that read across stages
 * and write nothing: batches and rejects, usage by payer and class and by
 * piece, unrated calls, revenue of numbered documents, top destinations,
 * and what each feed brought in.  Cut here because these only sum and
 * list what the other stages stored, and report.c is their one caller;
 * the sums that close an invoice stay with the invoices.
 */
#include <string.h>

#include "store_impl.h"

int
store_each_batch(struct store *s, int (*fn)(const struct batch_row *, void *),
    void *arg, struct terr *e)
{
	struct db_stmt q;

	if (db_prep(&q, s, "SELECT id, source, format, file, read,"
	    " accepted, rejected, duplicates FROM batch ORDER BY id", e) != 0)
		return -1;
	while (db_next(&q)) {
		struct batch_row b = {
			.id = db_int64(&q, 0),
			.source = db_text(&q, 1),
			.format = db_text(&q, 2),
			.file = db_text(&q, 3),
			.n.read = (uint64_t)db_int64(&q, 4),
			.n.accepted = (uint64_t)db_int64(&q, 5),
			.n.rejected = (uint64_t)db_int64(&q, 6),
			.n.duplicates = (uint64_t)db_int64(&q, 7),
		};
		q.stop = fn(&b, arg);
	}
	return db_end(&q, "list batches");
}

int
store_each_reject(struct store *s, int64_t batch,
    int (*fn)(const struct reject_row *, void *), void *arg, struct terr *e)
{
	struct db_stmt q;

	if (db_prep(&q, s, "SELECT r.batch_id, b.file, r.line, r.field,"
	    " r.reason, r.raw FROM reject r JOIN batch b ON b.id = r.batch_id"
	    " WHERE ?1 = 0 OR r.batch_id = ?1 ORDER BY r.batch_id, r.line", e) != 0)
		return -1;
	db_bind_int64(&q, 1, batch);
	while (db_next(&q)) {
		struct reject_row r = {
			.batch = db_int64(&q, 0),
			.file = db_text(&q, 1),
			.line = db_int64(&q, 2),
			.field = db_text(&q, 3),
			.reason = db_text(&q, 4),
			.raw = db_blob(&q, 5),
			.rawlen = db_bytes(&q, 5),
		};
		q.stop = fn(&r, arg);
	}
	return db_end(&q, "list rejects");
}

/* --- usage -------------------------------------------------------------- */

int
db_prep_usage(struct db_stmt *q, struct store *s, const char *sql, const char *period,
    const char *account, const char *reseller, struct terr *e)
{
	if (db_prep(q, s, sql, e) != 0)
		return -1;
	db_bind_text(q, 1, period);
	db_bind_text(q, 2, account);
	db_bind_text(q, 3, reseller);
	return 0;
}

/* A usage walk's result, with an overflow of SQLite's sum() said as whose
 * sum it was. */
static int
usage_end(struct db_stmt *q, const char *what, const char *period, const char *account)
{
	int stop = db_end(q, what);

	if (stop < 0 && strstr(q->e->msg, "integer overflow"))
		return terr_set(q->e, "%s of %s%s%s: the sum of an account's charges does not "
		    "fit in 64-bit micro-units (overflow); nothing computed", what, period,
		    account ? ", account " : "", account ? account : "");
	return stop;
}

int
store_each_usage(struct store *s, const char *period, const char *account,
    const char *reseller, int (*fn)(const struct usage_row *, void *), void *arg,
    struct terr *e)
{
	struct db_stmt q;

	if (db_prep_usage(&q, s, "SELECT r.payer, r.class, v.currency, count(*),"
	    " sum(r.seconds), sum(r.billed_seconds), sum(r.amount) FROM rating r"
	    " JOIN tariff_version v ON v.id = r.version_id"
	    " WHERE r.period = ?1 AND r.class IS NOT NULL AND r.status <> 'unrated'"
	    " AND (?2 IS NULL OR r.payer = ?2) AND (?3 IS NULL OR v.reseller = ?3)"
	    " GROUP BY r.payer, r.class ORDER BY r.payer, r.class", period, account,
	    reseller, e) != 0)
		return -1;
	while (db_next(&q)) {
		struct usage_row u = {
			.account = db_text(&q, 0), .cls = db_text(&q, 1),
			.currency = db_text(&q, 2), .calls = db_int64(&q, 3),
			.seconds = db_int64(&q, 4), .billed_seconds = db_int64(&q, 5),
			.amount = db_int64(&q, 6),
		};
		q.stop = fn(&u, arg);
	}
	return usage_end(&q, "usage", period, account);
}

int
store_each_usage_piece(struct store *s, const char *period, const char *account,
    const char *reseller, int (*fn)(const struct usage_piece_row *, void *),
    void *arg, struct terr *e)
{
	struct db_stmt q;

	if (db_prep_usage(&q, s, "SELECT r.payer, r.class, p.kind, p.label,"
	    " sum(p.seconds), sum(p.exact) FROM rating r JOIN rating_piece p ON"
	    " p.cdr_id = r.cdr_id JOIN tariff_version v ON v.id = r.version_id"
	    " WHERE r.period = ?1 AND r.status = 'rated'"
	    " AND (?2 IS NULL OR r.payer = ?2) AND (?3 IS NULL OR v.reseller = ?3)"
	    " GROUP BY r.payer, r.class, p.kind, p.label"
	    " ORDER BY r.payer, r.class, p.kind, p.label", period, account, reseller, e) != 0)
		return -1;
	while (db_next(&q)) {
		struct usage_piece_row u = {
			.account = db_text(&q, 0), .cls = db_text(&q, 1),
			.kind = db_text(&q, 2), .label = db_text(&q, 3),
			.seconds = db_int64(&q, 4), .exact = db_int64(&q, 5),
		};
		q.stop = fn(&u, arg);
	}
	return usage_end(&q, "usage pieces", period, account);
}

int
store_each_unrated(struct store *s, const char *period,
    int (*fn)(const struct unrated_row *, void *), void *arg, struct terr *e)
{
	struct db_stmt q;

	if (db_prep(&q, s, "SELECT c.id, c.source, c.record_key, c.account,"
	    " c.callee, r.reason, c.start_ts FROM rating r JOIN cdr c ON c.id = r.cdr_id"
	    " WHERE r.status = 'unrated' AND (?1 IS NULL OR r.period = ?1) ORDER BY c.id",
	    e) != 0)
		return -1;
	db_bind_text(&q, 1, period);
	while (db_next(&q)) {
		struct unrated_row u = {
			.cdr = db_int64(&q, 0), .source = db_text(&q, 1),
			.record_key = db_text(&q, 2), .account = db_text(&q, 3),
			.callee = db_text(&q, 4), .reason = db_text(&q, 5),
			.start = db_int64(&q, 6),
		};
		q.stop = fn(&u, arg);
	}
	return db_end(&q, "unrated");
}

/* --- revenue, top destinations, feeds ----------------------------------- */

int
store_each_revenue(struct store *s, const char *period, const char *issuer,
    int (*fn)(const struct revenue_row *, void *), void *arg, struct terr *e)
{
	struct db_stmt q;
	int stop;

	if (db_prep(&q, s, "SELECT i.issuer, i.currency, i.account, l.kind,"
	    " i.version_id, count(*), l.tax_rate, l.tax_included, i.decimals, sum(l.net),"
	    " sum(l.tax), sum(l.amount)"
	    " FROM invoice i JOIN invoice_line l ON l.invoice_id = i.id"
	    " WHERE i.period = ?1 AND i.number IS NOT NULL AND (?2 IS NULL OR i.issuer = ?2)"
	    " GROUP BY i.issuer, i.currency, i.account, l.kind, i.version_id, l.tax_rate,"
	    " l.tax_included ORDER BY 1, 2, 3, 4, 5, 7, 8", e) != 0)
		return -1;
	db_bind_text(&q, 1, period);
	db_bind_text(&q, 2, issuer);
	while (db_next(&q)) {
		struct revenue_row r = {
			.issuer = db_text(&q, 0), .currency = db_text(&q, 1),
			.account = db_text(&q, 2), .kind = db_text(&q, 3),
			.version = db_int64(&q, 4), .lines = db_int64(&q, 5),
			.tax_rate = db_int(&q, 6), .tax_included = db_int(&q, 7),
			.decimals = db_int(&q, 8), .net = db_int64(&q, 9),
			.tax = db_int64(&q, 10), .amount = db_int64(&q, 11),
		};
		q.stop = fn(&r, arg);
	}
	if ((stop = db_end(&q, "sum revenue")) < 0 && strstr(e->msg, "integer overflow"))
		return terr_set(e, "revenue of %s%s%s: the sum of an account's invoice lines "
		    "does not fit in 64-bit micro-units (overflow); nothing computed", period,
		    issuer ? ", reseller " : "", issuer ? issuer : "");
	return stop;
}

int
store_each_top(struct store *s, const char *period, const char *reseller, int limit,
    int (*fn)(const struct top_row *, void *), void *arg, struct terr *e)
{
	struct db_stmt q;

	if (db_prep(&q, s, "SELECT reseller, destination, calls, seconds, billed, amount"
	    " FROM (SELECT a.reseller, CASE WHEN r.destination <> '' THEN r.destination"
	    "   ELSE coalesce(r.class, '') END AS destination, count(*) AS calls,"
	    "   sum(r.seconds) AS seconds, sum(r.billed_seconds) AS billed,"
	    "   sum(r.amount) AS amount, row_number() OVER (PARTITION BY a.reseller"
	    "   ORDER BY sum(r.amount) DESC, count(*) DESC, CASE WHEN r.destination <> ''"
	    "   THEN r.destination ELSE coalesce(r.class, '') END) AS n"
	    "   FROM rating r JOIN account a ON a.id = r.payer"
	    "   WHERE r.period = ?1 AND r.status = 'rated' AND (?2 IS NULL OR a.reseller = ?2)"
	    "   GROUP BY a.reseller, 2)"
	    " WHERE n <= ?3 ORDER BY reseller, n", e) != 0)
		return -1;
	db_bind_text(&q, 1, period);
	db_bind_text(&q, 2, reseller);
	db_bind_int64(&q, 3, limit);
	while (db_next(&q)) {
		struct top_row r = {
			.reseller = db_text(&q, 0), .destination = db_text(&q, 1),
			.calls = db_int64(&q, 2), .seconds = db_int64(&q, 3),
			.billed_seconds = db_int64(&q, 4), .amount = db_int64(&q, 5),
		};
		q.stop = fn(&r, arg);
	}
	return db_end(&q, "list top destinations");
}

int
store_each_feed(struct store *s, int (*fn)(const struct feed_row *, void *), void *arg,
    struct terr *e)
{
	struct db_stmt q;

	if (db_prep(&q, s, "SELECT b.source, count(*), sum(b.read), sum(b.accepted),"
	    " sum(b.duplicates), sum(b.rejected), (SELECT coalesce(max(c.start_ts), 0) FROM cdr c"
	    " WHERE c.source = b.source) FROM batch b WHERE b.file LIKE '%.lines'"
	    " GROUP BY b.source ORDER BY b.source", e) != 0)
		return -1;
	while (db_next(&q)) {
		struct feed_row r = {
			.source = db_text(&q, 0), .files = db_int64(&q, 1),
			.read = db_int64(&q, 2), .accepted = db_int64(&q, 3),
			.duplicates = db_int64(&q, 4), .rejected = db_int64(&q, 5),
			.last_start = db_int64(&q, 6),
		};
		q.stop = fn(&r, arg);
	}
	return db_end(&q, "list feeds");
}

/* --- audit: stored CDRs and ratings as they are ------------------------- */

/* The CDRs of a filter (?1 batch, 0 any; ?2 period, ?3 payer, NULL any),
 * through their rating for a period or payer. */
#define AUDIT_WHERE " WHERE (?1 = 0 OR c.batch_id = ?1) AND ((?2 IS NULL AND ?3 IS NULL)" \
	" OR EXISTS (SELECT 1 FROM rating f WHERE f.cdr_id = c.id" \
	" AND (?2 IS NULL OR f.period = ?2) AND (?3 IS NULL OR f.payer = ?3)))"

static int
audit_prep(struct db_stmt *q, struct store *s, const char *sql,
    const struct audit_filter *f, struct terr *e)
{
	if (db_prep(q, s, sql, e) != 0)
		return -1;
	db_bind_int64(q, 1, f->batch);
	db_bind_text(q, 2, f->period);
	db_bind_text(q, 3, f->payer);
	return 0;
}

int
store_each_audit_cdr(struct store *s, const struct audit_filter *f,
    int (*fn)(const struct audit_cdr_row *, void *), void *arg, struct terr *e)
{
	struct db_stmt q;

	/* the rowid order: a walk of the table, nothing sorted or held */
	if (audit_prep(&q, s, "SELECT " DB_CDR_COLUMNS ", c.line FROM cdr c" AUDIT_WHERE
	    " ORDER BY c.id", f, e) != 0)
		return -1;
	while (db_next(&q)) {
		struct audit_cdr_row r;

		db_row_cdr(&q, &r.sc);
		r.line = db_int64(&q, DB_CDR_NCOLUMNS);
		q.stop = fn(&r, arg);
	}
	return db_end(&q, "list CDRs");
}

static int
status_parse(const char *name, enum rate_status *out)
{
	for (int i = RS_RATED; i <= RS_UNRATED; i++)
		if (strcmp(name, rate_status_name((enum rate_status)i)) == 0) {
			*out = (enum rate_status)i;
			return 0;
		}
	return -1;
}

int
store_each_audit_rating(struct store *s, const struct audit_filter *f,
    int (*fn)(const struct audit_rating_row *, void *), void *arg, struct terr *e)
{
	struct db_stmt q;

	/* a rating joined with each of its pieces, in (CDR, piece) order:
	 * rating_piece_cdr is the order of the pieces, cdr's rowid that of
	 * the CDRs, so the rows stream without a sort */
	if (audit_prep(&q, s, "SELECT c.id, c.source, c.record_key,"
	    " coalesce(r.version_id, 0), coalesce(v.currency, ''), r.payer, r.period, r.class,"
	    " r.destination, r.prefix, r.reason, r.status, r.seconds, r.billed_seconds,"
	    " r.amount, r.tier_pos, r.test_used, r.volume_total, coalesce(r.bundle_sub, -1),"
	    " coalesce(r.bundle_seq, 0), coalesce(r.bundle_left, 0),"
	    " p.seq, p.kind, p.label, p.seconds, p.price, p.exact"
	    " FROM cdr c CROSS JOIN rating r ON r.cdr_id = c.id"
	    " LEFT JOIN tariff_version v ON v.id = r.version_id"
	    " LEFT JOIN rating_piece p ON p.cdr_id = c.id" AUDIT_WHERE
	    " ORDER BY c.id, p.seq", f, e) != 0)
		return -1;
	while (db_next(&q)) {
		struct audit_piece p;
		struct audit_rating_row r = {
			.cdr = db_int64(&q, 0), .source = db_text(&q, 1),
			.record_key = db_text(&q, 2), .version = db_int64(&q, 3),
			.currency = db_text(&q, 4), .payer = db_text(&q, 5),
			.period = db_text(&q, 6), .cls = db_text_or_null(&q, 7),
			.destination = db_text(&q, 8), .prefix = db_text(&q, 9),
			.reason = db_text(&q, 10), .seconds = db_int64(&q, 12),
			.billed_seconds = db_int64(&q, 13), .amount = db_int64(&q, 14),
			.before.tier_pos = db_int64(&q, 15), .before.test_used = db_int64(&q, 16),
			.before.volume_total = db_int64(&q, 17),
			.before.bundle_sub = db_int(&q, 18), .before.bundle_seq = db_int(&q, 19),
			.before.bundle_left = db_int64(&q, 20),
		};

		if (status_parse(db_text(&q, 11), &r.status) != 0) {
			q.stop = terr_set(e, "rating of CDR %lld: unknown status \"%s\"",
			    (long long)r.cdr, db_text(&q, 11));
			break;
		}
		if (!db_is_null(&q, 21)) {
			p.seq = db_int64(&q, 21);
			if (rate_piece_kind_parse(db_text(&q, 22), &p.kind) != 0) {
				q.stop = terr_set(e, "piece %lld of CDR %lld: unknown kind \"%s\"",
				    (long long)p.seq, (long long)r.cdr, db_text(&q, 22));
				break;
			}
			p.label = db_text(&q, 23);
			p.seconds = db_int64(&q, 24);
			p.price = db_int64(&q, 25);
			p.exact = db_int64(&q, 26);
			r.piece = &p;
		}
		q.stop = fn(&r, arg);
	}
	return db_end(&q, "list ratings");
}
