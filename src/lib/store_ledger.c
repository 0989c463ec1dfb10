/*
 * store_ledger.c - the ledger: deposits, payments, and the invoices and
 * credit notes that move an account's balance, with the sums invoices
 * print (balance brought forward, payments of a number).  Cut here because
 * tally-account writes it and tally-invoice only sums it: it is the one
 * table that holds money the customer moved, not money tally worked out.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store_impl.h"

/*
 * SQLite's sum() of integers stops with "integer overflow" rather than wrap;
 * say whose sum it was.  Returns -1.
 */
int
db_sum_error(struct store *s, struct terr *e, const char *account, const char *what,
    const char *from, const char *to)
{
	if (strstr(sqlite3_errmsg(s->db), "integer overflow") == NULL)
		return -1;	/* the query's message stands */
	return terr_set(e, "account %s, %s %s to %s: the sum of its amounts does not fit in "
	    "64-bit micro-units (overflow); nothing computed", account, what,
	    from ? from : "the start", to ? to : "the end");
}

int
store_ledger_add(struct store *s, const struct ledger_row *r, int64_t invoice,
    struct terr *e)
{
	struct db_stmt q;

	if (db_prep(&q, s, "INSERT INTO ledger (account, date, kind, amount, number,"
	    " reference, invoice_id, recorded_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	    e) != 0)
		return -1;
	db_bind_text(&q, 1, r->account);
	db_bind_text(&q, 2, r->date);
	db_bind_text(&q, 3, r->kind);
	db_bind_money(&q, 4, r->amount);
	db_bind_text(&q, 5, r->number ? r->number : "");
	db_bind_text(&q, 6, r->reference ? r->reference : "");
	db_bind_id_or_null(&q, 7, invoice);
	db_bind_int64(&q, 8, (int64_t)time(NULL));
	return db_done(&q, "add a ledger entry");
}

int
store_ledger_sum(struct store *s, const char *account, const char *from, const char *to,
    int credits_only, money *sum, struct terr *e)
{
	struct db_stmt q;

	if (db_prep(&q, s, "SELECT coalesce(sum(amount), 0) FROM ledger WHERE account = ?1"
	    " AND (?2 IS NULL OR date >= ?2) AND (?3 IS NULL OR date < ?3)"
	    " AND (?4 = 0 OR kind <> 'invoice')", e) != 0)
		return db_sum_error(s, e, account, "ledger from", from, to);
	db_bind_text(&q, 1, account);
	db_bind_text(&q, 2, from);
	db_bind_text(&q, 3, to);
	db_bind_int64(&q, 4, credits_only != 0);
	if (db_first_int64(&q, sum, "query") != 0)
		return db_sum_error(s, e, account, "ledger from", from, to);
	return 0;
}

int
store_ledger_number_payments(struct store *s, const char *account, const char *number,
    struct bill_payment **out, int *n, struct terr *e)
{
	struct db_stmt q;
	int cap = 0;

	*out = NULL;
	*n = 0;
	if (db_prep(&q, s, "SELECT date, amount FROM ledger WHERE account = ?1"
	    " AND number = ?2 AND kind IN ('payment', 'deposit') ORDER BY date, id", e) != 0)
		return -1;
	db_bind_text(&q, 1, account);
	db_bind_text(&q, 2, number);
	while (db_next(&q)) {
		if (*n == cap) {
			struct bill_payment *v = realloc(*out, (size_t)(cap = cap ? cap * 2 : 8) *
			    sizeof *v);

			if (v == NULL) {
				q.stop = terr_set(e, "out of memory");
				break;
			}
			*out = v;
		}
		(*out)[*n].amount = db_int64(&q, 1);
		if (bill_date_parse(db_text(&q, 0), &(*out)[*n].date) == 0)
			(*n)++;
	}
	return db_end(&q, "list a number's payments");
}

int
store_each_ledger(struct store *s, const char *account,
    int (*fn)(const struct ledger_row *, void *), void *arg, struct terr *e)
{
	struct db_stmt q;

	if (db_prep(&q, s, "SELECT l.id, l.account, l.date, l.kind, l.number,"
	    " l.reference, i.number, l.amount FROM ledger l LEFT JOIN invoice i ON"
	    " i.id = l.invoice_id WHERE ?1 IS NULL OR l.account = ?1"
	    " ORDER BY l.account, l.date, l.id", e) != 0)
		return -1;
	db_bind_text(&q, 1, account);
	while (db_next(&q)) {
		struct ledger_row r = {
			.id = db_int64(&q, 0), .account = db_text(&q, 1),
			.date = db_text(&q, 2), .kind = db_text(&q, 3), .number = db_text(&q, 4),
			.reference = db_text(&q, 5), .invoice_number = db_text(&q, 6),
			.amount = db_int64(&q, 7),
		};
		q.stop = fn(&r, arg);
	}
	return db_end(&q, "list the ledger");
}
