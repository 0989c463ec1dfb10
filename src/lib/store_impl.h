/*
 * store_impl.h - what the store_*.c files share, and nothing else
 * includes: struct store, the statements it keeps, and the one way they
 * run a statement (struct db_stmt): get it, bind typed values, step its
 * rows, end it.
 *
 * The store is cut by stage, one file each, so that a stage's SQL sits
 * beside the code that needs it: store_schema.c (schema, migrations,
 * open), store_ingest.c, store_tariff.c, store_rating.c, store_bundle.c,
 * store_invoice.c, store_ledger.c, store_report.c; store_sql.c runs the
 * statements.  What two stages share lives here.  The db_ prefix keeps
 * these helpers apart from the public store_ API of tally/store.h.
 *
 * A walk, the shape most functions take:
 *
 *	struct db_stmt q;
 *
 *	if (db_prep(&q, s, "SELECT a, b FROM t WHERE c = ?1", e) != 0)
 *		return -1;
 *	db_bind_text(&q, 1, c);
 *	while (db_next(&q)) {
 *		struct row r = { .a = db_int64(&q, 0), .b = db_text(&q, 1) };
 *		q.stop = fn(&r, arg);
 *	}
 *	return db_end(&q, "list t");
 *
 * q.stop non-zero ends the walk and becomes db_end's result (a callback's
 * answer, 1 for "found", or -1 with the error already set); a failed step
 * makes it -1 with "<path>: <what>: <SQLite's message>".
 */
#ifndef TALLY_STORE_IMPL_H
#define TALLY_STORE_IMPL_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "tally/store.h"

/*
 * Statements a stage runs once per CDR, rating, piece or invoiced call
 * (and the lookups next to them): each keeps a slot of its own, prepared
 * on first use and reused, with no search of the cache on the hot path.
 * The SQL stays in the stage's file, passed to db_kept().
 */
enum db_slot {
	DB_BATCH_FIND, DB_BATCH_ADD, DB_BATCH_COUNTS, DB_CDR_ADD, DB_CDR_FIND,
	DB_REJECT_ADD, DB_DUP_ADD, DB_TARIFF_FIND, DB_RATING_PUT, DB_PIECE_ADD,
	DB_WORK_ADD, DB_WORK_GROUP, DB_INVOICE_CDR, DB_NSLOTS
};

/* Statements of db_prep(), by the address of their SQL. */
#define STORE_PREP_CACHE 128
struct db_cached {
	const char *sql;
	sqlite3_stmt *st;
	int busy;		/* handed out, not yet given back */
};

struct store {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *kept[DB_NSLOTS];	/* prepared on first use, reused */
	struct db_cached cache[STORE_PREP_CACHE];
	/* the last source asked about in legacy_key_source (one query per
	 * batch, not per CDR); legacy_has -1: not asked yet */
	char *legacy_source;
	int legacy_has;
};

/* A statement being run: from db_prep() or db_kept() to db_end(). */
struct db_stmt {
	struct store *s;
	sqlite3_stmt *st;
	struct terr *e;
	int slot;		/* its enum db_slot, or -1: from the cache */
	int live;		/* stepped since it was last reset */
	int rc;			/* the last step's result */
	int stop;		/* non-zero ends a walk and is its result */
};

/* "<path>: <what>: <SQLite's message>"; returns -1. */
int db_error(struct store *s, struct terr *e, const char *what);
/* Run SQL without binds or rows (pragmas, BEGIN, fixed statements). */
int db_exec(struct store *s, const char *sql, struct terr *e);

/*
 * A statement for this SQL, ready for binds: 0, or -1 (the prepare failed,
 * nothing to end).  Closing a month runs the same dozen queries for every
 * account: each is compiled once and kept, keyed by the address of its
 * text, which must therefore be a literal or a static array, never a built
 * string.  A statement still in use (a walk whose callback runs the same
 * query) gets a fresh one.
 */
int db_prep(struct db_stmt *q, struct store *s, const char *sql, struct terr *e);
/* The statement of a slot, reset with its bindings cleared: 0, or -1. */
int db_kept(struct db_stmt *q, struct store *s, enum db_slot slot, const char *sql,
    struct terr *e);

/* Step to the next row: 1 while there is one and nothing said stop. */
static inline int
db_next(struct db_stmt *q)
{
	q->live = 1;
	return !q->stop && (q->rc = sqlite3_step(q->st)) == SQLITE_ROW;
}

/* Run the statement to its end (rows ignored) and reset it for another
 * run with new binds: 0, or -1 with the error set. */
int db_run(struct db_stmt *q, const char *what);
/* Give the statement back; the walk's result: q->stop, or -1 when a step
 * failed (a walk stopped early by choice is no error). */
int db_end(struct db_stmt *q, const char *what);
/* db_run, then db_end: a statement that returns no row. */
int db_done(struct db_stmt *q, const char *what);
/* Run to the end, reading the first column of the first row into *out (0
 * when there is none), and give the statement back: 0, or -1. */
int db_first_int64(struct db_stmt *q, int64_t *out, const char *what);

/* The id a slot's lookup by two text keys (?1, ?2) finds: 1 with *id, 0
 * when there is none, -1 on error. */
int db_find_id(struct store *s, enum db_slot slot, const char *sql, const char *k1,
    const char *k2, int64_t *id, struct terr *e);

/* Typed binds, by the 1-based number of the ?N. */
static inline void
db_bind_int64(struct db_stmt *q, int i, int64_t v)
{
	sqlite3_bind_int64(q->st, i, (sqlite3_int64)v);
}

static inline void
db_bind_money(struct db_stmt *q, int i, money v)
{
	sqlite3_bind_int64(q->st, i, (sqlite3_int64)v);
}

/* An id, or NULL for 0 (no tariff version, no invoice). */
static inline void
db_bind_id_or_null(struct db_stmt *q, int i, int64_t id)
{
	if (id)
		sqlite3_bind_int64(q->st, i, (sqlite3_int64)id);
	else
		sqlite3_bind_null(q->st, i);
}

/* Text, or NULL for a NULL pointer; the text must outlive the run. */
static inline void
db_bind_text(struct db_stmt *q, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(q->st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(q->st, i);
}

/* Bytes (never NULL: an empty value is an empty blob). */
static inline void
db_bind_blob(struct db_stmt *q, int i, const void *p, size_t n)
{
	sqlite3_bind_blob64(q->st, i, n ? p : "", (sqlite3_uint64)n, SQLITE_STATIC);
}

/* Columns of the current row, by 0-based number; strings and blobs live
 * until the next step. */
static inline int64_t
db_int64(struct db_stmt *q, int col)
{
	return sqlite3_column_int64(q->st, col);
}

static inline int
db_int(struct db_stmt *q, int col)
{
	return sqlite3_column_int(q->st, col);
}

static inline int
db_is_null(struct db_stmt *q, int col)
{
	return sqlite3_column_type(q->st, col) == SQLITE_NULL;
}

/* Text, "" for NULL. */
static inline const char *
db_text(struct db_stmt *q, int col)
{
	const unsigned char *t = sqlite3_column_text(q->st, col);

	return t ? (const char *)t : "";
}

/* Text, NULL for NULL. */
static inline const char *
db_text_or_null(struct db_stmt *q, int col)
{
	return db_is_null(q, col) ? NULL : db_text(q, col);
}

static inline const void *
db_blob(struct db_stmt *q, int col)
{
	return sqlite3_column_blob(q->st, col);
}

static inline size_t
db_bytes(struct db_stmt *q, int col)
{
	return (size_t)sqlite3_column_bytes(q->st, col);
}

/* --- shared between stages ------------------------------------------- */

/* The columns of a stored CDR, c the cdr table (16 columns), and the
 * reader of a row that starts with them (store_rating.c). */
#define DB_CDR_COLUMNS "c.id, c.batch_id, c.source, c.record_key, c.account, c.caller_raw," \
	" c.caller, c.callee_raw, c.callee, c.start_ts, c.answer_ts, c.end_ts, c.duration," \
	" c.billsec, c.disposition, c.type"
#define DB_CDR_NCOLUMNS 16
void db_row_cdr(struct db_stmt *q, struct stored_cdr *sc);

/* The columns of a bundle window (20), and their reader (store_bundle.c). */
#define DB_WINDOW_COLUMNS "payer, seq, version_id, bundle, class, activated, start_ts," \
	" end_ts, start_local, end_local, ended, granted, rolled_in, used, rolled_out," \
	" forfeited, price, tax_included, period_from, period_to"
#define DB_WINDOW_NCOLUMNS 20
void db_row_window(struct db_stmt *q, struct window_row *w);

/* A query of (period, account, reseller), ?1 to ?3, NULL for any: the
 * usage reports and the bundle windows in force (store_report.c). */
int db_prep_usage(struct db_stmt *q, struct store *s, const char *sql,
    const char *period, const char *account, const char *reseller, struct terr *e);

/* Say whose sum overflowed (store_ledger.c): returns -1. */
int db_sum_error(struct store *s, struct terr *e, const char *account, const char *what,
    const char *from, const char *to);

#endif
