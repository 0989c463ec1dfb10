/*
 * store_invoice.c - invoices and credit notes with their lines, tax groups
 * and calls (invoice_cdr), their numbers (sequence), the generation that
 * tells a stale draft, and what each invoice charged of a period's usage
 * (invoice_usage) for late calls.  Cut here because tally-invoice is the
 * one stage that writes these, and the questions it asks while closing a
 * period (what was charged before, what a draft overlaps) are about these
 * tables; the revenue report that sums them is in store_report.c.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "store_impl.h"

int
store_generation(struct store *s, int64_t *gen, struct terr *e)
{
	struct db_stmt q;

	if (db_prep(&q, s, "SELECT value FROM generation", e) != 0)
		return -1;
	return db_first_int64(&q, gen, "query");
}

int
store_bump_generation(struct store *s, struct terr *e)
{
	return db_exec(s, "UPDATE generation SET value = value + 1", e);
}

/* --- adding an invoice ------------------------------------------------- */

/* Is `number` its prefix and at least six digits, nothing cut? */
static int
number_whole(const char *number, const char *prefix)
{
	size_t n = strlen(number), p = prefix ? strlen(prefix) : 0;

	return n < TARIFF_NUMBER_SIZE && (prefix == NULL || (p <= TARIFF_PREFIX_MAX &&
	    strncmp(number, prefix, p) == 0 && n >= p + 6 &&
	    strspn(number + p, "0123456789") == n - p));
}

/* Why an invoice may not be stored: its numbers would be cut.  0, or -1
 * with the reason. */
static int
invoice_check(const struct invoice_row *r, struct terr *e)
{
	/* a number is never cut: refuse a prefix that leaves no room for the
	 * digits (a tariff version loaded before validation refused them) */
	if ((r->prefix && strlen(r->prefix) > TARIFF_PREFIX_MAX) ||
	    (r->credit_prefix && strlen(r->credit_prefix) > TARIFF_PREFIX_MAX))
		return terr_set(e, "%s %s: invoice_prefix \"%s\" or credit_prefix \"%s\" is "
		    "longer than %d characters, and its numbers would be cut: load a tariff "
		    "version with a shorter one; nothing stored", r->account, r->period,
		    r->prefix ? r->prefix : "", r->credit_prefix ? r->credit_prefix : "",
		    TARIFF_PREFIX_MAX);
	if (r->number && !number_whole(r->number, r->credit_prefix))
		return terr_set(e, "%s %s: number \"%s\" is not its prefix and six or more "
		    "digits: a number is never cut; nothing stored", r->account, r->period,
		    r->number);
	return 0;
}

static int
invoice_lines_add(struct store *s, int64_t id, const struct bill_line *l, int n,
    struct terr *e)
{
	struct db_stmt q;

	if (db_prep(&q, s, "INSERT INTO invoice_line (invoice_id, seq, kind, description,"
	    " quantity, unit_price, exact, amount, tax_rate, tax_included, tax, net, ref)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)", e) != 0)
		return -1;
	for (int i = 0; i < n && q.stop == 0; i++) {
		db_bind_int64(&q, 1, id);
		db_bind_int64(&q, 2, i + 1);
		db_bind_text(&q, 3, bill_kind_name(l[i].kind));
		db_bind_text(&q, 4, l[i].description);
		db_bind_text(&q, 5, l[i].quantity);
		db_bind_money(&q, 6, l[i].unit_price);
		db_bind_money(&q, 7, l[i].exact);
		db_bind_money(&q, 8, l[i].amount);
		db_bind_int64(&q, 9, l[i].tax_rate);
		db_bind_int64(&q, 10, l[i].tax_included);
		db_bind_money(&q, 11, l[i].tax);
		db_bind_money(&q, 12, l[i].net);
		db_bind_text(&q, 13, l[i].ref);
		q.stop = db_run(&q, "add an invoice line");
	}
	return db_end(&q, "add an invoice line");
}

static int
invoice_taxes_add(struct store *s, int64_t id, const struct bill_totals *t, struct terr *e)
{
	struct db_stmt q;

	if (db_prep(&q, s, "INSERT INTO invoice_tax (invoice_id, seq, rate, included, exact,"
	    " base, tax) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", e) != 0)
		return -1;
	for (int g = 0; g < t->ng && q.stop == 0; g++) {
		db_bind_int64(&q, 1, id);
		db_bind_int64(&q, 2, g + 1);
		db_bind_int64(&q, 3, t->g[g].rate);
		db_bind_int64(&q, 4, t->g[g].included);
		db_bind_money(&q, 5, t->g[g].exact);
		db_bind_money(&q, 6, t->g[g].base);
		db_bind_money(&q, 7, t->g[g].tax);
		q.stop = db_run(&q, "add an invoice tax");
	}
	return db_end(&q, "add an invoice tax");
}

int
store_invoice_add(struct store *s, const struct invoice_row *r,
    const struct bill_line *l, int n, const struct bill_totals *t, int64_t *id,
    struct terr *e)
{
	struct db_stmt q;

	if (invoice_check(r, e) != 0)
		return -1;
	if (db_prep(&q, s, "INSERT INTO invoice (kind, number, status, issuer,"
	    " account, name, period, first_day, last_day, date, version_id, currency,"
	    " decimals, prefix, credit_prefix, subtotal, tax, total, previous, payments,"
	    " due, refers_to, reason, generation, issued_at) VALUES (?1, ?2, ?3, ?4, ?5,"
	    " ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21,"
	    " ?22, ?23, ?24, ?25)", e) != 0)
		return -1;
	db_bind_text(&q, 1, r->kind);
	db_bind_text(&q, 2, r->number);
	db_bind_text(&q, 3, r->status);
	db_bind_text(&q, 4, r->issuer);
	db_bind_text(&q, 5, r->account);
	db_bind_text(&q, 6, r->name);
	db_bind_text(&q, 7, r->period);
	db_bind_text(&q, 8, r->first_day);
	db_bind_text(&q, 9, r->last_day);
	db_bind_text(&q, 10, r->date);
	db_bind_int64(&q, 11, r->version);
	db_bind_text(&q, 12, r->currency);
	db_bind_int64(&q, 13, r->decimals);
	db_bind_text(&q, 14, r->prefix);
	db_bind_text(&q, 15, r->credit_prefix);
	db_bind_money(&q, 16, t->subtotal);
	db_bind_money(&q, 17, t->tax);
	db_bind_money(&q, 18, t->total);
	db_bind_money(&q, 19, r->previous);
	db_bind_money(&q, 20, r->payments);
	db_bind_money(&q, 21, r->due);
	db_bind_id_or_null(&q, 22, r->refers_to);
	db_bind_text(&q, 23, r->reason ? r->reason : "");
	db_bind_int64(&q, 24, r->generation);
	if (r->number)		/* else issued_at stays NULL */
		db_bind_int64(&q, 25, (int64_t)time(NULL));
	if (db_done(&q, "add an invoice") != 0)
		return -1;
	*id = sqlite3_last_insert_rowid(s->db);
	if (invoice_lines_add(s, *id, l, n, e) != 0)
		return -1;
	return invoice_taxes_add(s, *id, t, e);
}

int
store_invoice_add_cdr(struct store *s, int64_t invoice, int64_t cdr, struct terr *e)
{
	struct db_stmt q;

	if (db_kept(&q, s, DB_INVOICE_CDR, "INSERT INTO invoice_cdr (cdr_id, invoice_id,"
	    " seconds, billed_seconds, amount, destination, class) SELECT ?1, ?2, r.seconds,"
	    " r.billed_seconds, r.amount, r.destination, coalesce(r.class, '') FROM"
	    " (SELECT 1) LEFT JOIN rating r ON r.cdr_id = ?1", e) != 0)
		return -1;
	db_bind_int64(&q, 1, cdr);
	db_bind_int64(&q, 2, invoice);
	return db_done(&q, "add an invoice's call");
}

int
store_invoice_add_usage(struct store *s, int64_t invoice, const struct usage_group *g,
    int64_t basis, struct terr *e)
{
	struct db_stmt q;

	if (db_prep(&q, s, "INSERT INTO invoice_usage (invoice_id, period, class,"
	    " destination, kind, label, price, seconds, count, exact, basis)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)", e) != 0)
		return -1;
	db_bind_int64(&q, 1, invoice);
	db_bind_text(&q, 2, g->period);
	db_bind_text(&q, 3, g->cls);
	db_bind_text(&q, 4, g->destination);
	db_bind_text(&q, 5, g->kind);
	db_bind_text(&q, 6, g->label);
	db_bind_money(&q, 7, g->price);
	db_bind_int64(&q, 8, g->seconds);
	db_bind_int64(&q, 9, g->count);
	db_bind_money(&q, 10, g->exact);
	db_bind_int64(&q, 11, basis);
	return db_done(&q, "add an invoice's usage");
}

/* Run a statement of (account ?1, period ?2) that returns no row. */
static int
run_account_period(struct store *s, const char *sql, const char *account,
    const char *period, struct terr *e)
{
	struct db_stmt q;

	if (db_prep(&q, s, sql, e) != 0)
		return -1;
	db_bind_text(&q, 1, account);
	db_bind_text(&q, 2, period);
	return db_done(&q, "query");
}

int
store_invoice_drop_draft(struct store *s, const char *account, const char *period,
    struct terr *e)
{
	static const char *const sql[] = {
		"DELETE FROM invoice_cdr WHERE invoice_id IN (SELECT id FROM invoice"
		" WHERE account = ?1 AND period = ?2 AND status = 'draft')",
		"DELETE FROM invoice_usage WHERE invoice_id IN (SELECT id FROM invoice"
		" WHERE account = ?1 AND period = ?2 AND status = 'draft')",
		"DELETE FROM invoice_line WHERE invoice_id IN (SELECT id FROM invoice"
		" WHERE account = ?1 AND period = ?2 AND status = 'draft')",
		"DELETE FROM invoice_tax WHERE invoice_id IN (SELECT id FROM invoice"
		" WHERE account = ?1 AND period = ?2 AND status = 'draft')",
		"DELETE FROM invoice WHERE account = ?1 AND period = ?2 AND status = 'draft'",
	};

	for (size_t i = 0; i < sizeof sql / sizeof *sql; i++)
		if (run_account_period(s, sql[i], account, period, e) != 0)
			return -1;
	return 0;
}

/* --- numbers, status and balance --------------------------------------- */

int
store_invoice_issued_for(struct store *s, const char *account, const char *period,
    int64_t *id, struct terr *e)
{
	struct db_stmt q;

	if (db_prep(&q, s, "SELECT id FROM invoice WHERE account = ?1 AND period = ?2"
	    " AND kind = 'invoice' AND status = 'issued'", e) != 0)
		return -1;
	db_bind_text(&q, 1, account);
	db_bind_text(&q, 2, period);
	if (db_first_int64(&q, id, "query") != 0)
		return -1;
	return *id != 0;
}

int
store_sequence_next(struct store *s, const char *issuer, const char *kind,
    int64_t *next, struct terr *e)
{
	struct db_stmt q;

	if (db_prep(&q, s, "INSERT INTO sequence (issuer, kind, last) VALUES (?1, ?2, 1)"
	    " ON CONFLICT (issuer, kind) DO UPDATE SET last = last + 1", e) != 0)
		return -1;
	db_bind_text(&q, 1, issuer);
	db_bind_text(&q, 2, kind);
	if (db_done(&q, "query") != 0 ||
	    db_prep(&q, s, "SELECT last FROM sequence WHERE issuer = ?1 AND kind = ?2",
	    e) != 0)
		return -1;
	db_bind_text(&q, 1, issuer);
	db_bind_text(&q, 2, kind);
	return db_first_int64(&q, next, "query");
}

int
store_invoice_set_issued(struct store *s, int64_t id, const char *number,
    int64_t issued_at, struct terr *e)
{
	struct db_stmt q;
	int64_t cut;

	/* 1 when the draft's number would not fit (a row), else no row: 0 */
	if (db_prep(&q, s, "SELECT 1 FROM invoice WHERE id = ?1"
	    " AND status = 'draft' AND (length(prefix) > ?3 OR length(?2) >= ?4"
	    " OR substr(?2, 1, length(prefix)) <> prefix OR length(?2) < length(prefix) + 6"
	    " OR substr(?2, length(prefix) + 1) GLOB '*[^0-9]*')", e) != 0)
		return -1;
	db_bind_int64(&q, 1, id);
	db_bind_text(&q, 2, number);
	db_bind_int64(&q, 3, TARIFF_PREFIX_MAX);
	db_bind_int64(&q, 4, TARIFF_NUMBER_SIZE);
	if (db_first_int64(&q, &cut, "query") != 0)
		return -1;
	if (cut)	/* a number is never cut: refuse rather than store it */
		return terr_set(e, "invoice number \"%s\" is not its prefix and six or more "
		    "digits in fewer than %d characters: load a tariff version with a shorter "
		    "invoice_prefix; nothing issued", number, TARIFF_NUMBER_SIZE);
	if (db_prep(&q, s, "UPDATE invoice SET number = ?2, status = 'issued', issued_at = ?3"
	    " WHERE id = ?1 AND status = 'draft'", e) != 0)
		return -1;
	db_bind_int64(&q, 1, id);
	db_bind_text(&q, 2, number);
	db_bind_int64(&q, 3, issued_at);
	return db_done(&q, "query");
}

int
store_invoice_set_status(struct store *s, int64_t id, const char *status, struct terr *e)
{
	struct db_stmt q;

	if (db_prep(&q, s, "UPDATE invoice SET status = ?2 WHERE id = ?1", e) != 0)
		return -1;
	db_bind_int64(&q, 1, id);
	db_bind_text(&q, 2, status);
	return db_done(&q, "query");
}

int
store_invoice_set_balance(struct store *s, int64_t id, money previous, money payments,
    money due, struct terr *e)
{
	struct db_stmt q;

	if (db_prep(&q, s, "UPDATE invoice SET previous = ?2, payments = ?3, due = ?4"
	    " WHERE id = ?1", e) != 0)
		return -1;
	db_bind_int64(&q, 1, id);
	db_bind_money(&q, 2, previous);
	db_bind_money(&q, 3, payments);
	db_bind_money(&q, 4, due);
	return db_done(&q, "set an invoice's balance");
}

int
store_invoice_credited(struct store *s, int64_t id, money *sum, struct terr *e)
{
	struct db_stmt q;

	if (db_prep(&q, s, "SELECT coalesce(sum(total), 0) FROM invoice WHERE kind = 'credit'"
	    " AND refers_to = ?1", e) != 0)
		return -1;
	db_bind_int64(&q, 1, id);
	return db_first_int64(&q, sum, "query");
}

/* --- reading invoices back --------------------------------------------- */

#define INVOICE_COLUMNS "i.id, i.kind, i.number, i.status, i.issuer, i.account, i.name," \
	" i.period, i.first_day, i.last_day, i.date, i.currency, i.prefix, i.credit_prefix," \
	" i.reason, r.number, i.version_id, i.refers_to, i.generation, i.decimals," \
	" i.subtotal, i.tax, i.total, i.previous, i.payments, i.due"

int
store_each_invoice(struct store *s, const struct invoice_filter *f,
    int (*fn)(const struct invoice_row *, void *), void *arg, struct terr *e)
{
	struct db_stmt q;

	if (db_prep(&q, s, "SELECT " INVOICE_COLUMNS " FROM invoice i"
	    " LEFT JOIN invoice r ON r.id = i.refers_to"
	    " WHERE (?1 IS NULL OR i.number = ?1) AND (?2 IS NULL OR i.period = ?2)"
	    " AND (?3 IS NULL OR i.account = ?3) AND (?4 IS NULL OR i.issuer = ?4)"
	    " AND (?5 IS NULL OR i.status = ?5) AND (?6 IS NULL OR i.kind = ?6)"
	    " AND (?7 = 0 OR i.id = ?7)"
	    " ORDER BY i.issuer, i.period, i.account, i.id", e) != 0)
		return -1;
	db_bind_text(&q, 1, f->number);
	db_bind_text(&q, 2, f->period);
	db_bind_text(&q, 3, f->account);
	db_bind_text(&q, 4, f->issuer);
	db_bind_text(&q, 5, f->status);
	db_bind_text(&q, 6, f->kind);
	db_bind_int64(&q, 7, f->id);
	while (db_next(&q)) {
		struct invoice_row r = {
			.id = db_int64(&q, 0), .kind = db_text(&q, 1),
			.number = db_text_or_null(&q, 2),
			.status = db_text(&q, 3), .issuer = db_text(&q, 4),
			.account = db_text(&q, 5), .name = db_text(&q, 6),
			.period = db_text(&q, 7), .first_day = db_text(&q, 8),
			.last_day = db_text(&q, 9), .date = db_text(&q, 10),
			.currency = db_text(&q, 11), .prefix = db_text(&q, 12),
			.credit_prefix = db_text(&q, 13), .reason = db_text(&q, 14),
			.refers_number = db_text(&q, 15), .version = db_int64(&q, 16),
			.refers_to = db_int64(&q, 17), .generation = db_int64(&q, 18),
			.decimals = db_int(&q, 19), .subtotal = db_int64(&q, 20),
			.tax = db_int64(&q, 21), .total = db_int64(&q, 22),
			.previous = db_int64(&q, 23), .payments = db_int64(&q, 24),
			.due = db_int64(&q, 25),
		};
		q.stop = fn(&r, arg);
	}
	return db_end(&q, "list invoices");
}

int
store_each_invoice_line(struct store *s, int64_t invoice,
    int (*fn)(const struct bill_line *, void *), void *arg, struct terr *e)
{
	struct db_stmt q;

	if (db_prep(&q, s, "SELECT kind, description, quantity, unit_price, exact,"
	    " amount, tax_rate, tax_included, tax, net, ref FROM invoice_line"
	    " WHERE invoice_id = ?1 ORDER BY seq", e) != 0)
		return -1;
	db_bind_int64(&q, 1, invoice);
	while (db_next(&q)) {
		struct bill_line l = { 0 };

		for (int k = 0; k <= BL_CREDIT; k++)
			if (strcmp(db_text(&q, 0), bill_kind_name((enum bill_kind)k)) == 0)
				l.kind = (enum bill_kind)k;
		tally_strlcpy(l.description, db_text(&q, 1), sizeof l.description);
		tally_strlcpy(l.quantity, db_text(&q, 2), sizeof l.quantity);
		l.unit_price = db_int64(&q, 3);
		l.exact = db_int64(&q, 4);
		l.amount = db_int64(&q, 5);
		l.tax_rate = db_int(&q, 6);
		l.tax_included = db_int(&q, 7);
		l.tax = db_int64(&q, 8);
		l.net = db_int64(&q, 9);
		tally_strlcpy(l.ref, db_text(&q, 10), sizeof l.ref);
		q.stop = fn(&l, arg);
	}
	return db_end(&q, "list invoice lines");
}

int
store_each_invoice_tax(struct store *s, int64_t invoice,
    int (*fn)(const struct bill_taxgroup *, void *), void *arg, struct terr *e)
{
	struct db_stmt q;

	if (db_prep(&q, s, "SELECT rate, included, exact, base, tax FROM invoice_tax"
	    " WHERE invoice_id = ?1 ORDER BY seq", e) != 0)
		return -1;
	db_bind_int64(&q, 1, invoice);
	while (db_next(&q)) {
		struct bill_taxgroup g = {
			.rate = db_int(&q, 0), .included = db_int(&q, 1),
			.exact = db_int64(&q, 2), .base = db_int64(&q, 3),
			.tax = db_int64(&q, 4),
		};
		q.stop = fn(&g, arg);
	}
	return db_end(&q, "list invoice taxes");
}

int
store_each_invoice_call(struct store *s, int64_t invoice,
    int (*fn)(const struct invoice_call *, void *), void *arg, struct terr *e)
{
	struct db_stmt q;

	if (db_prep(&q, s, "SELECT c.id, c.start_ts, coalesce(i.seconds, r.seconds, 0),"
	    " coalesce(i.billed_seconds, r.billed_seconds, 0), c.caller, c.callee,"
	    " coalesce(i.destination, r.destination, ''), coalesce(i.class, r.class, ''),"
	    " coalesce(r.period, ''), coalesce(i.amount, r.amount, 0)"
	    " FROM invoice_cdr i JOIN cdr c ON c.id = i.cdr_id"
	    " LEFT JOIN rating r ON r.cdr_id = i.cdr_id"
	    " WHERE i.invoice_id = ?1 ORDER BY c.start_ts, c.id", e) != 0)
		return -1;
	db_bind_int64(&q, 1, invoice);
	while (db_next(&q)) {
		struct invoice_call c = {
			.cdr = db_int64(&q, 0), .start_ts = db_int64(&q, 1),
			.seconds = db_int64(&q, 2), .billed_seconds = db_int64(&q, 3),
			.caller = db_text(&q, 4), .callee = db_text(&q, 5),
			.destination = db_text(&q, 6), .class = db_text(&q, 7),
			.period = db_text(&q, 8), .amount = db_int64(&q, 9),
		};
		q.stop = fn(&c, arg);
	}
	return db_end(&q, "list invoice calls");
}

/* --- what issued invoices charged --------------------------------------- */

int
store_ref_charged(struct store *s, const char *ref, struct terr *e)
{
	struct db_stmt q;
	int64_t n;

	if (db_prep(&q, s, "SELECT count(*) FROM invoice_line l JOIN invoice i ON i.id ="
	    " l.invoice_id WHERE l.ref = ?1 AND l.ref <> '' AND i.status = 'issued'"
	    " AND i.kind = 'invoice'", e) != 0)
		return -1;
	db_bind_text(&q, 1, ref);
	if (db_first_int64(&q, &n, "query") != 0)
		return -1;
	return n > 0;
}

int
store_ref_sum(struct store *s, const char *account, const char *ref, money *sum,
    struct terr *e)
{
	struct db_stmt q;

	if (db_prep(&q, s, "SELECT coalesce(sum(l.exact), 0) FROM invoice_line l JOIN invoice i"
	    " ON i.id = l.invoice_id WHERE l.ref = ?1 AND l.ref <> '' AND i.status = 'issued'"
	    " AND i.kind = 'invoice' AND i.account = ?2", e) != 0)
		return -1;
	db_bind_text(&q, 1, ref);
	db_bind_text(&q, 2, account);
	return db_first_int64(&q, sum, "query");
}

int
store_lines_sum(struct store *s, const char *account, const char *period, const char *kind,
    money *sum, struct terr *e)
{
	struct db_stmt q;

	if (db_prep(&q, s, "SELECT coalesce(sum(l.exact), 0) FROM invoice i JOIN invoice_line l"
	    " ON l.invoice_id = i.id WHERE i.account = ?1 AND i.period = ?2 AND i.kind ="
	    " 'invoice' AND i.status = 'issued' AND l.kind = ?3", e) != 0)
		return -1;
	db_bind_text(&q, 1, account);
	db_bind_text(&q, 2, period);
	db_bind_text(&q, 3, kind);
	return db_first_int64(&q, sum, "query");
}

int
store_invoice_overlaps(struct store *s, int64_t invoice, struct terr *e)
{
	struct db_stmt q;
	int64_t n;

	/* o.ref <> '' lets SQLite use the partial index invoice_line_ref:
	 * without it every draft scans every line (quadratic at issue). */
	if (db_prep(&q, s, "SELECT (SELECT count(*) FROM invoice_cdr ic JOIN invoice_cdr o ON"
	    " o.cdr_id = ic.cdr_id AND o.invoice_id <> ic.invoice_id JOIN invoice i ON i.id ="
	    " o.invoice_id AND i.status = 'issued' WHERE ic.invoice_id = ?1)"
	    " + (SELECT count(*) FROM invoice_line l JOIN invoice_line o ON o.ref = l.ref AND"
	    " o.ref <> '' AND o.invoice_id <> l.invoice_id JOIN invoice i ON i.id = o.invoice_id AND i.status ="
	    " 'issued' AND i.kind = 'invoice' WHERE l.invoice_id = ?1 AND"
	    " l.ref <> '' AND l.kind <> 'minimum')", e) != 0)
		return -1;
	db_bind_int64(&q, 1, invoice);
	if (db_first_int64(&q, &n, "query") != 0)
		return -1;
	return n > 0;
}

/* --- late calls: a period's usage as invoiced ---------------------------- */

int
store_each_bill_piece(struct store *s, const char *payer, const char *period,
    int (*fn)(const struct bill_piece *, void *), void *arg, struct terr *e)
{
	struct db_stmt q;

	if (db_prep(&q, s, "SELECT r.cdr_id, r.period, coalesce(r.class, ''),"
	    " r.destination, p.kind, p.label, p.seq, p.seconds, p.price, r.amount, p.exact,"
	    " EXISTS (SELECT 1 FROM invoice_cdr ic JOIN invoice i ON i.id = ic.invoice_id"
	    " WHERE ic.cdr_id = r.cdr_id AND i.status = 'issued')"
	    " FROM rating r JOIN rating_piece p ON p.cdr_id = r.cdr_id"
	    " WHERE r.payer = ?1 AND r.period = ?2 AND r.status = 'rated'"
	    " ORDER BY r.cdr_id, p.seq", e) != 0)
		return -1;
	db_bind_text(&q, 1, payer);
	db_bind_text(&q, 2, period);
	while (db_next(&q)) {
		struct bill_piece p = {
			.cdr = db_int64(&q, 0), .period = db_text(&q, 1),
			.cls = db_text(&q, 2), .destination = db_text(&q, 3),
			.kind = db_text(&q, 4), .label = db_text(&q, 5), .seq = db_int(&q, 6),
			.seconds = db_int64(&q, 7), .price = db_int64(&q, 8),
			.amount = db_int64(&q, 9), .exact = db_int64(&q, 10),
			.invoiced = db_int(&q, 11),
		};
		q.stop = fn(&p, arg);
	}
	return db_end(&q, "list a payer's usage");
}

int
store_each_invoiced_usage(struct store *s, const char *payer, const char *period,
    int (*fn)(const struct usage_group *, void *), void *arg, struct terr *e)
{
	struct db_stmt q;

	if (db_prep(&q, s, "SELECT u.period, u.class, u.destination, u.kind, u.label,"
	    " u.price, sum(u.seconds), sum(u.count), sum(u.exact)"
	    " FROM invoice i JOIN invoice_usage u ON u.invoice_id = i.id"
	    " WHERE i.account = ?1 AND i.kind = 'invoice' AND i.status = 'issued'"
	    " AND u.period = ?2 GROUP BY u.class, u.destination, u.kind, u.label, u.price"
	    " ORDER BY u.class, u.destination, u.kind, u.label, u.price", e) != 0)
		return -1;
	db_bind_text(&q, 1, payer);
	db_bind_text(&q, 2, period);
	while (db_next(&q)) {
		struct usage_group g = {
			.period = db_text(&q, 0), .cls = db_text(&q, 1),
			.destination = db_text(&q, 2), .kind = db_text(&q, 3),
			.label = db_text(&q, 4), .price = db_int64(&q, 5),
			.seconds = db_int64(&q, 6), .count = db_int64(&q, 7),
			.exact = db_int64(&q, 8),
		};
		q.stop = fn(&g, arg);
	}
	return db_end(&q, "list a period's invoiced usage");
}

int
store_usage_basis(struct store *s, const char *payer, const char *period, int64_t *n,
    struct terr *e)
{
	struct db_stmt q;

	if (db_prep(&q, s, "SELECT count(DISTINCT i.id) FROM invoice i JOIN invoice_usage u"
	    " ON u.invoice_id = i.id WHERE i.account = ?1 AND i.kind = 'invoice'"
	    " AND i.status = 'issued' AND u.period = ?2", e) != 0)
		return -1;
	db_bind_text(&q, 1, payer);
	db_bind_text(&q, 2, period);
	return db_first_int64(&q, n, "query");
}

int
store_usage_moved(struct store *s, int64_t invoice, struct terr *e)
{
	struct db_stmt q;
	int64_t n;

	if (db_prep(&q, s, "SELECT count(*) FROM (SELECT DISTINCT u.period, u.basis FROM"
	    " invoice_usage u WHERE u.invoice_id = ?1) d WHERE d.basis <>"
	    " (SELECT count(DISTINCT i.id) FROM invoice i JOIN invoice_usage o ON o.invoice_id ="
	    " i.id WHERE i.account = (SELECT account FROM invoice WHERE id = ?1)"
	    " AND i.kind = 'invoice' AND i.status = 'issued' AND o.period = d.period)", e) != 0)
		return -1;
	db_bind_int64(&q, 1, invoice);
	if (db_first_int64(&q, &n, "compare a draft's periods") != 0)
		return -1;
	return n > 0;
}

int
store_usage_reopen(struct store *s, int64_t invoice, struct terr *e)
{
	struct db_stmt q;

	if (db_prep(&q, s, "INSERT OR IGNORE INTO usage_dirty (payer, period) SELECT"
	    " DISTINCT i.account, u.period FROM invoice i JOIN invoice_usage u ON u.invoice_id ="
	    " i.id WHERE i.id = ?1", e) != 0)
		return -1;
	db_bind_int64(&q, 1, invoice);
	return db_done(&q, "give a void invoice's periods back");
}

int
store_count_unrated(struct store *s, const char *payer, const char *period, int64_t *n,
    struct terr *e)
{
	struct db_stmt q;

	if (db_prep(&q, s, "SELECT count(*) FROM rating WHERE payer = ?1 AND period = ?2"
	    " AND status = 'unrated'", e) != 0)
		return -1;
	db_bind_text(&q, 1, payer);
	db_bind_text(&q, 2, period);
	return db_first_int64(&q, n, "query");
}

/* The sum a query of (payer ?1, epoch seconds from ?2 to before ?3) finds. */
static int
sum_between(struct store *s, const char *sql, const char *payer, int64_t from,
    int64_t to, int64_t *out, struct terr *e)
{
	struct db_stmt q;

	if (db_prep(&q, s, sql, e) != 0)
		return -1;
	db_bind_text(&q, 1, payer);
	db_bind_int64(&q, 2, from);
	db_bind_int64(&q, 3, to);
	return db_first_int64(&q, out, "query");
}

int
store_spend_between(struct store *s, const char *payer, int64_t from, int64_t to,
    money *sum, struct terr *e)
{
	char a[24], b[24];	/* the bounds as messages say them */
	int64_t calls, windows;

	snprintf(a, sizeof a, "%lld", (long long)from);
	snprintf(b, sizeof b, "%lld", (long long)to);
	if (sum_between(s, "SELECT coalesce(sum(r.amount), 0) FROM rating r JOIN cdr c ON"
	    " c.id = r.cdr_id WHERE r.payer = ?1 AND r.status = 'rated' AND c.start_ts >= ?2"
	    " AND c.start_ts < ?3", payer, from, to, &calls, e) != 0 ||
	    sum_between(s, "SELECT coalesce(sum(price), 0) FROM bundle_window WHERE"
	    " payer = ?1 AND start_ts >= ?2 AND start_ts < ?3", payer, from, to, &windows,
	    e) != 0)
		return db_sum_error(s, e, payer, "spend from epoch second", a, b);
	if (money_add_checked(calls, windows, sum) != 0)
		return terr_set(e, "account %s, spend from epoch second %s to %s: calls and "
		    "bundles do not fit in 64-bit micro-units (overflow)", payer, a, b);
	return 0;
}
