/*
 * store_ingest.c - what tally-ingest writes: batches (one per file of a
 * source), CDRs, rejects, duplicates, and the look-up of legs stored under
 * their keys of before schema 7.  Cut here because ingest is the one stage
 * that writes CDRs: its statements run once per line, on slots of their
 * own.  The reports that read batches and rejects back are in
 * store_report.c.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store_impl.h"

int
store_batch_find(struct store *s, const char *source, const char *sha256,
    int64_t *id, struct terr *e)
{
	return db_find_id(s, DB_BATCH_FIND, "SELECT id FROM batch WHERE source = ?1 AND"
	    " sha256 = ?2", source, sha256, id, e);
}

/*
 * The batch table has no index on the hash alone (one would take a schema
 * version), and scanning it cost 25 ms a file at 100,000 batches.  Its
 * UNIQUE (source, sha256) index serves instead, one source at a time: the
 * recursive query steps from each source to the next one in the index,
 * then looks the hash up under each, a few index seeks per source (under
 * 1 ms with 50 sources and 100,000 batches).
 */
int
store_batch_find_elsewhere(struct store *s, const char *source, const char *sha256,
    int64_t *id, char *other, size_t len, struct terr *e)
{
	struct db_stmt q;

	if (db_prep(&q, s, "WITH RECURSIVE src (name) AS ("
	    " SELECT min(source) FROM batch UNION ALL"
	    " SELECT (SELECT min(source) FROM batch WHERE source > src.name) FROM src"
	    " WHERE src.name IS NOT NULL)"
	    " SELECT b.id, b.source FROM src JOIN batch b ON b.source = src.name AND"
	    " b.sha256 = ?2 WHERE src.name <> ?1 AND b.accepted + b.duplicates > 0"
	    " ORDER BY b.id LIMIT 1", e) != 0)
		return -1;
	db_bind_text(&q, 1, source);
	db_bind_text(&q, 2, sha256);
	if (db_next(&q)) {
		*id = db_int64(&q, 0);
		tally_strlcpy(other, db_text(&q, 1), len);
		q.stop = 1;
	}
	return db_end(&q, "find batch");
}

int
store_batch_add(struct store *s, const char *source, const char *format,
    const char *file, const char *sha256, uint64_t bytes, int64_t *id,
    struct terr *e)
{
	struct db_stmt q;

	if (db_kept(&q, s, DB_BATCH_ADD, "INSERT INTO batch (source, format, file, sha256,"
	    " bytes, ingested_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)", e) != 0)
		return -1;
	db_bind_text(&q, 1, source);
	db_bind_text(&q, 2, format);
	db_bind_text(&q, 3, file);
	db_bind_text(&q, 4, sha256);
	db_bind_int64(&q, 5, (int64_t)bytes);
	db_bind_int64(&q, 6, (int64_t)time(NULL));
	if (db_done(&q, "add batch") != 0)
		return -1;
	*id = sqlite3_last_insert_rowid(s->db);
	return 0;
}

int
store_batch_set_counts(struct store *s, int64_t id, const struct batch_counts *c,
    struct terr *e)
{
	struct db_stmt q;

	if (db_kept(&q, s, DB_BATCH_COUNTS, "UPDATE batch SET read = ?2, accepted = ?3,"
	    " rejected = ?4, duplicates = ?5 WHERE id = ?1", e) != 0)
		return -1;
	db_bind_int64(&q, 1, id);
	db_bind_int64(&q, 2, (int64_t)c->read);
	db_bind_int64(&q, 3, (int64_t)c->accepted);
	db_bind_int64(&q, 4, (int64_t)c->rejected);
	db_bind_int64(&q, 5, (int64_t)c->duplicates);
	return db_done(&q, "update batch");
}

static int
duplicate_add(struct store *s, const char *source, int64_t batch, uint64_t line,
    const char *key, struct terr *e)
{
	struct db_stmt q;
	int64_t original = 0;

	/* ON CONFLICT said the key is there: its CDR must be found */
	if (db_find_id(s, DB_CDR_FIND, "SELECT id FROM cdr WHERE source = ?1 AND"
	    " record_key = ?2", source, key, &original, e) != 1)
		return -1;
	if (db_kept(&q, s, DB_DUP_ADD, "INSERT INTO duplicate (batch_id, line, record_key,"
	    " cdr_id) VALUES (?1, ?2, ?3, ?4)", e) != 0)
		return -1;
	db_bind_int64(&q, 1, batch);
	db_bind_int64(&q, 2, (int64_t)line);
	db_bind_text(&q, 3, key);
	db_bind_int64(&q, 4, original);
	return db_done(&q, "add duplicate");
}

/* Does the source hold keys of before schema 7 (legacy_key_source)?  Asked
 * once per source in a row, not per CDR: 1, 0, -1. */
static int
source_has_legacy_keys(struct store *s, const char *source, struct terr *e)
{
	struct db_stmt q;
	int64_t n;

	if (s->legacy_source && strcmp(s->legacy_source, source) == 0)
		return s->legacy_has;
	free(s->legacy_source);
	if ((s->legacy_source = strdup(source)) == NULL)
		return terr_set(e, "out of memory");
	if (db_prep(&q, s, "SELECT count(*) FROM legacy_key_source WHERE source = ?1",
	    e) == 0) {
		db_bind_text(&q, 1, source);
		if (db_first_int64(&q, &n, "query") == 0)
			return s->legacy_has = n > 0;
	}
	free(s->legacy_source);
	s->legacy_source = NULL;
	return -1;
}

/* A leg stored under its key of before schema 7: recorded as a duplicate of
 * it, 1; not there (or the source never had such keys), 0; -1. */
static int
legacy_duplicate(struct store *s, const char *source, int64_t batch, uint64_t line,
    const char *key, struct terr *e)
{
	struct db_stmt q;
	int64_t n;
	int has = source_has_legacy_keys(s, source, e);

	if (has <= 0)
		return has;
	if (db_prep(&q, s, "SELECT count(*) FROM cdr WHERE source = ?1 AND record_key = ?2",
	    e) != 0)
		return -1;
	db_bind_text(&q, 1, source);
	db_bind_text(&q, 2, key);
	if (db_first_int64(&q, &n, "query") != 0)
		return -1;
	if (n == 0)
		return 0;
	return duplicate_add(s, source, batch, line, key, e) == 0 ? 1 : -1;
}

int
store_cdr_add(struct store *s, const char *source, int64_t batch, uint64_t line,
    const struct cdr *c, struct terr *e)
{
	struct db_stmt q;

	if (c->legacy_key) {
		int rc = legacy_duplicate(s, source, batch, line, c->legacy_key, e);

		if (rc != 0)
			return rc < 0 ? -1 : 0;
	}
	if (db_kept(&q, s, DB_CDR_ADD, "INSERT INTO cdr (source, record_key, account,"
	    " caller_raw, caller, callee_raw, callee, start_ts, answer_ts, end_ts, duration,"
	    " billsec, disposition, type, batch_id, line) VALUES (?1, ?2, ?3, ?4,"
	    " ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"
	    " ON CONFLICT (source, record_key) DO NOTHING", e) != 0)
		return -1;
	db_bind_text(&q, 1, source);
	db_bind_text(&q, 2, c->record_key);
	db_bind_text(&q, 3, c->account);
	db_bind_text(&q, 4, c->caller_raw);
	db_bind_text(&q, 5, c->caller);
	db_bind_text(&q, 6, c->callee_raw);
	db_bind_text(&q, 7, c->callee);
	db_bind_int64(&q, 8, c->start);
	if (c->has_answer)
		db_bind_int64(&q, 9, c->answer);
	db_bind_int64(&q, 10, c->end);
	db_bind_int64(&q, 11, c->duration);
	db_bind_int64(&q, 12, c->billsec);
	db_bind_text(&q, 13, cdr_disposition_name(c->disposition));
	db_bind_text(&q, 14, cdr_type_name(c->type));
	db_bind_int64(&q, 15, batch);
	db_bind_int64(&q, 16, (int64_t)line);
	if (db_done(&q, "add cdr") != 0)
		return -1;
	if (sqlite3_changes(s->db) == 1)
		return 1;
	return duplicate_add(s, source, batch, line, c->record_key, e) == 0 ? 0 : -1;
}

int
store_reject_add(struct store *s, int64_t batch, uint64_t line,
    const struct cdr_reject *r, const char *raw, size_t rawlen, struct terr *e)
{
	struct db_stmt q;

	if (db_kept(&q, s, DB_REJECT_ADD, "INSERT INTO reject (batch_id, line, field, reason,"
	    " raw) VALUES (?1, ?2, ?3, ?4, ?5)", e) != 0)
		return -1;
	db_bind_int64(&q, 1, batch);
	db_bind_int64(&q, 2, (int64_t)line);
	db_bind_text(&q, 3, r->field);
	db_bind_text(&q, 4, r->reason);
	db_bind_blob(&q, 5, raw, rawlen);
	return db_done(&q, "add reject");
}
