/*
 * store_sql.c - how the store runs a statement: the cache of prepared
 * statements, the kept slots of the hot ones, and stepping to the end with
 * one way to report a failure.  Cut from the stages because every stage
 * runs statements the same way and none of them owns it (store_impl.h
 * says how a walk reads).
 */
#include <stdint.h>

#include "store_impl.h"

int
db_error(struct store *s, struct terr *e, const char *what)
{
	return terr_set(e, "%s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
}

int
db_exec(struct store *s, const char *sql, struct terr *e)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		terr_set(e, "%s: %s", s->path, msg ? msg : sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static void
start(struct db_stmt *q, struct store *s, sqlite3_stmt *st, int slot, struct terr *e)
{
	*q = (struct db_stmt){ .s = s, .st = st, .e = e, .slot = slot, .rc = SQLITE_DONE };
}

int
db_prep(struct db_stmt *q, struct store *s, const char *sql, struct terr *e)
{
	size_t h = ((uintptr_t)sql >> 3) % STORE_PREP_CACHE;
	sqlite3_stmt *st;

	for (size_t k = 0; k < STORE_PREP_CACHE; k++) {
		struct db_cached *c = &s->cache[(h + k) % STORE_PREP_CACHE];

		if (c->sql == sql && c->busy)
			break;
		if (c->sql == sql) {
			c->busy = 1;
			start(q, s, c->st, -1, e);
			return 0;
		}
		if (c->sql == NULL) {
			if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
			    &c->st, NULL) != SQLITE_OK)
				return db_error(s, e, "prepare");
			c->sql = sql;
			c->busy = 1;
			start(q, s, c->st, -1, e);
			return 0;
		}
	}
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return db_error(s, e, "prepare");
	start(q, s, st, -1, e);
	return 0;
}

int
db_kept(struct db_stmt *q, struct store *s, enum db_slot slot, const char *sql,
    struct terr *e)
{
	sqlite3_stmt *st = s->kept[slot];

	if (st == NULL) {
		if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
		    &s->kept[slot], NULL) != SQLITE_OK)
			return db_error(s, e, "prepare");
		st = s->kept[slot];
	} else {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
	start(q, s, st, (int)slot, e);
	return 0;
}

/* Give back a statement of db_prep(): kept ones are reset for the next use,
 * others finalized. */
static void
unprep(struct store *s, sqlite3_stmt *st)
{
	for (size_t k = 0; k < STORE_PREP_CACHE; k++)
		if (s->cache[k].st == st && st != NULL) {
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			s->cache[k].busy = 0;
			return;
		}
	sqlite3_finalize(st);
}

int
db_run(struct db_stmt *q, const char *what)
{
	int rc;

	while ((rc = sqlite3_step(q->st)) == SQLITE_ROW)
		;
	sqlite3_reset(q->st);
	q->live = 0;
	q->rc = SQLITE_DONE;
	return rc == SQLITE_DONE ? 0 : db_error(q->s, q->e, what);
}

int
db_end(struct db_stmt *q, const char *what)
{
	int stop = q->stop;

	if (!stop && q->rc != SQLITE_DONE && q->rc != SQLITE_ROW)
		stop = db_error(q->s, q->e, what);
	if (q->slot < 0)
		unprep(q->s, q->st);
	else if (q->live)
		sqlite3_reset(q->st);
	q->st = NULL;
	return stop;
}

int
db_done(struct db_stmt *q, const char *what)
{
	int rc = db_run(q, what);

	db_end(q, what);
	return rc;
}

int
db_first_int64(struct db_stmt *q, int64_t *out, const char *what)
{
	*out = 0;
	if (db_next(q)) {
		*out = db_int64(q, 0);
		while (db_next(q))
			;
	}
	return db_end(q, what);
}

int
db_find_id(struct store *s, enum db_slot slot, const char *sql, const char *k1,
    const char *k2, int64_t *id, struct terr *e)
{
	struct db_stmt q;

	if (db_kept(&q, s, slot, sql, e) != 0)
		return -1;
	db_bind_text(&q, 1, k1);
	db_bind_text(&q, 2, k2);
	if (db_next(&q)) {
		*id = db_int64(&q, 0);
		q.stop = 1;
	}
	return db_end(&q, "look up");
}
