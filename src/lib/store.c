#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tally/store.h"

#define APPLICATION_ID 0x54414c59	/* "TALY" */

/*
 * Migrations: entry i takes a store from version i to i + 1.  Never edit a
 * released entry; append a new one and bump STORE_SCHEMA_VERSION.
 */
static const char *const migrations[STORE_SCHEMA_VERSION] = {
	/* 0 -> 1: ingest */
	"CREATE TABLE batch ("
	"  id INTEGER PRIMARY KEY,"
	"  source TEXT NOT NULL,"
	"  format TEXT NOT NULL,"
	"  file TEXT NOT NULL,"
	"  sha256 TEXT NOT NULL,"
	"  bytes INTEGER NOT NULL,"
	"  read INTEGER NOT NULL DEFAULT 0,"
	"  accepted INTEGER NOT NULL DEFAULT 0,"
	"  rejected INTEGER NOT NULL DEFAULT 0,"
	"  duplicates INTEGER NOT NULL DEFAULT 0,"
	"  ingested_at INTEGER NOT NULL,"
	"  UNIQUE (source, sha256),"
	"  CHECK (read = accepted + rejected + duplicates));"
	"CREATE TABLE cdr ("
	"  id INTEGER PRIMARY KEY,"
	"  source TEXT NOT NULL,"
	"  record_key TEXT NOT NULL,"
	"  account TEXT NOT NULL,"
	"  caller_raw TEXT NOT NULL,"
	"  caller TEXT NOT NULL,"
	"  callee_raw TEXT NOT NULL,"
	"  callee TEXT NOT NULL,"
	"  start_ts INTEGER NOT NULL,"
	"  answer_ts INTEGER,"
	"  end_ts INTEGER NOT NULL,"
	"  duration INTEGER NOT NULL,"
	"  billsec INTEGER NOT NULL,"
	"  disposition TEXT NOT NULL CHECK (disposition IN ('answered',"
	"    'no-answer','busy','failed','cancelled','congestion')),"
	"  type TEXT NOT NULL CHECK (type IN ('voice','sms')),"
	"  batch_id INTEGER NOT NULL REFERENCES batch(id),"
	"  line INTEGER NOT NULL,"
	"  UNIQUE (source, record_key));"
	"CREATE INDEX cdr_account_start ON cdr(account, start_ts);"
	"CREATE TABLE reject ("
	"  batch_id INTEGER NOT NULL REFERENCES batch(id),"
	"  line INTEGER NOT NULL,"
	"  field TEXT NOT NULL,"
	"  reason TEXT NOT NULL,"
	"  raw BLOB NOT NULL,"
	"  PRIMARY KEY (batch_id, line));"
	"CREATE TABLE duplicate ("
	"  batch_id INTEGER NOT NULL REFERENCES batch(id),"
	"  line INTEGER NOT NULL,"
	"  record_key TEXT NOT NULL,"
	"  cdr_id INTEGER NOT NULL REFERENCES cdr(id),"
	"  PRIMARY KEY (batch_id, line));",
};

enum stmt {
	S_BATCH_FIND, S_BATCH_ADD, S_BATCH_COUNTS, S_CDR_ADD, S_CDR_FIND,
	S_REJECT_ADD, S_DUP_ADD, S_NSTMT
};

static const char *const stmt_sql[S_NSTMT] = {
	[S_BATCH_FIND] = "SELECT id FROM batch WHERE source = ?1 AND sha256 = ?2",
	[S_BATCH_ADD] = "INSERT INTO batch (source, format, file, sha256, bytes,"
	    " ingested_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[S_BATCH_COUNTS] = "UPDATE batch SET read = ?2, accepted = ?3,"
	    " rejected = ?4, duplicates = ?5 WHERE id = ?1",
	[S_CDR_ADD] = "INSERT INTO cdr (source, record_key, account, caller_raw,"
	    " caller, callee_raw, callee, start_ts, answer_ts, end_ts, duration,"
	    " billsec, disposition, type, batch_id, line) VALUES (?1, ?2, ?3, ?4,"
	    " ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"
	    " ON CONFLICT (source, record_key) DO NOTHING",
	[S_CDR_FIND] = "SELECT id FROM cdr WHERE source = ?1 AND record_key = ?2",
	[S_REJECT_ADD] = "INSERT INTO reject (batch_id, line, field, reason, raw)"
	    " VALUES (?1, ?2, ?3, ?4, ?5)",
	[S_DUP_ADD] = "INSERT INTO duplicate (batch_id, line, record_key, cdr_id)"
	    " VALUES (?1, ?2, ?3, ?4)",
};

struct store {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *st[S_NSTMT];	/* prepared on first use, reused */
};

const char *
store_default_path(void)
{
	const char *p = getenv("TALLY_DB");

	return p && *p ? p : "./tally.db";
}

static int
db_error(struct store *s, struct terr *e, const char *what)
{
	return terr_set(e, "%s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
}

static int
exec(struct store *s, const char *sql, struct terr *e)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		terr_set(e, "%s: %s", s->path, msg ? msg : sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/* Read a single-integer pragma or query. */
static int
query_int(struct store *s, const char *sql, int64_t *out, struct terr *e)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return db_error(s, e, "prepare");
	rc = sqlite3_step(st);
	*out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_error(s, e, "query");
	return 0;
}

static int
migrate(struct store *s, struct terr *e)
{
	int64_t version, appid, ntables;
	char sql[128];

	if (query_int(s, "PRAGMA user_version", &version, e) != 0 ||
	    query_int(s, "PRAGMA application_id", &appid, e) != 0 ||
	    query_int(s, "SELECT count(*) FROM sqlite_schema", &ntables, e) != 0)
		return -1;
	if (appid != APPLICATION_ID && (appid != 0 || ntables != 0))
		return terr_set(e, "%s: not a tally store", s->path);
	if (version > STORE_SCHEMA_VERSION)
		return terr_set(e, "%s: store schema version %lld is newer than this "
		    "program supports (%d); use a newer tally", s->path,
		    (long long)version, STORE_SCHEMA_VERSION);
	if (version == STORE_SCHEMA_VERSION)
		return 0;
	if (exec(s, "BEGIN IMMEDIATE", e) != 0)
		return -1;
	/* Re-read under the write lock: another process may have migrated. */
	if (query_int(s, "PRAGMA user_version", &version, e) != 0)
		goto fail;
	for (; version < STORE_SCHEMA_VERSION; version++)
		if (exec(s, migrations[version], e) != 0)
			goto fail;
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d; PRAGMA application_id = %d",
	    STORE_SCHEMA_VERSION, APPLICATION_ID);
	if (exec(s, sql, e) != 0 || exec(s, "COMMIT", e) != 0)
		goto fail;
	return 0;
fail:
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

struct store *
store_open(const char *path, enum store_mode mode, struct terr *e)
{
	int flags = SQLITE_OPEN_READWRITE | (mode == STORE_CREATE ? SQLITE_OPEN_CREATE : 0);
	struct store *s = calloc(1, sizeof *s);

	if (s == NULL || (s->path = strdup(path)) == NULL) {
		free(s);
		terr_set(e, "out of memory");
		return NULL;
	}
	if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
		db_error(s, e, "cannot open");
		goto fail;
	}
	sqlite3_busy_timeout(s->db, 10000);
	/* FULL: a committed batch survives power loss, not just a crash.
	 * A 32 MiB page cache keeps a big file's index pages in memory
	 * during its one transaction (3x faster ingest); it is also the
	 * bound on the store's memory, whatever the size of the file. */
	if (exec(s, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
	    " PRAGMA foreign_keys = ON; PRAGMA cache_size = -32768", e) != 0 ||
	    migrate(s, e) != 0)
		goto fail;
	return s;
fail:
	store_close(s);
	return NULL;
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	for (int i = 0; i < S_NSTMT; i++)
		sqlite3_finalize(s->st[i]);
	sqlite3_close(s->db);
	free(s->path);
	free(s);
}

int
store_schema_version(struct store *s)
{
	int64_t v = -1;

	query_int(s, "PRAGMA user_version", &v, NULL);
	return (int)v;
}

int
store_begin(struct store *s, struct terr *e)
{
	return exec(s, "BEGIN IMMEDIATE", e);
}

int
store_commit(struct store *s, struct terr *e)
{
	return exec(s, "COMMIT", e);
}

void
store_rollback(struct store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

/* The prepared statement, reset and cleared for new bindings. */
static sqlite3_stmt *
stmt(struct store *s, enum stmt which, struct terr *e)
{
	sqlite3_stmt *st = s->st[which];

	if (st == NULL) {
		if (sqlite3_prepare_v3(s->db, stmt_sql[which], -1,
		    SQLITE_PREPARE_PERSISTENT, &s->st[which], NULL) != SQLITE_OK) {
			db_error(s, e, "prepare");
			return NULL;
		}
		return s->st[which];
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

/* Step a statement that returns no row. */
static int
step_done(struct store *s, sqlite3_stmt *st, const char *what, struct terr *e)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return db_error(s, e, what);
	return 0;
}

int
store_batch_find(struct store *s, const char *source, const char *sha256,
    int64_t *id, struct terr *e)
{
	sqlite3_stmt *st = stmt(s, S_BATCH_FIND, e);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, source, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, sha256, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_error(s, e, "find batch");
	return rc == SQLITE_ROW;
}

int
store_batch_add(struct store *s, const char *source, const char *format,
    const char *file, const char *sha256, uint64_t bytes, int64_t *id,
    struct terr *e)
{
	sqlite3_stmt *st = stmt(s, S_BATCH_ADD, e);

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, source, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, format, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, file, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, sha256, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)bytes);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)time(NULL));
	if (step_done(s, st, "add batch", e) != 0)
		return -1;
	*id = sqlite3_last_insert_rowid(s->db);
	return 0;
}

int
store_batch_set_counts(struct store *s, int64_t id, const struct batch_counts *c,
    struct terr *e)
{
	sqlite3_stmt *st = stmt(s, S_BATCH_COUNTS, e);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)c->read);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)c->accepted);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)c->rejected);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)c->duplicates);
	return step_done(s, st, "update batch", e);
}

static int
duplicate_add(struct store *s, const char *source, int64_t batch, uint64_t line,
    const char *key, struct terr *e)
{
	sqlite3_stmt *st = stmt(s, S_CDR_FIND, e);
	int64_t original;
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, source, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	original = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return db_error(s, e, "find duplicate");
	if ((st = stmt(s, S_DUP_ADD, e)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, batch);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)line);
	sqlite3_bind_text(st, 3, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, original);
	return step_done(s, st, "add duplicate", e);
}

int
store_cdr_add(struct store *s, const char *source, int64_t batch, uint64_t line,
    const struct cdr *c, struct terr *e)
{
	sqlite3_stmt *st = stmt(s, S_CDR_ADD, e);

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, source, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->record_key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, c->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, c->caller_raw, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, c->caller, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, c->callee_raw, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, c->callee, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, c->start);
	if (c->has_answer)
		sqlite3_bind_int64(st, 9, c->answer);
	sqlite3_bind_int64(st, 10, c->end);
	sqlite3_bind_int64(st, 11, c->duration);
	sqlite3_bind_int64(st, 12, c->billsec);
	sqlite3_bind_text(st, 13, cdr_disposition_name(c->disposition), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 14, cdr_type_name(c->type), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 15, batch);
	sqlite3_bind_int64(st, 16, (sqlite3_int64)line);
	if (step_done(s, st, "add cdr", e) != 0)
		return -1;
	if (sqlite3_changes(s->db) == 1)
		return 1;
	return duplicate_add(s, source, batch, line, c->record_key, e) == 0 ? 0 : -1;
}

int
store_reject_add(struct store *s, int64_t batch, uint64_t line,
    const struct cdr_reject *r, const char *raw, size_t rawlen, struct terr *e)
{
	sqlite3_stmt *st = stmt(s, S_REJECT_ADD, e);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, batch);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)line);
	sqlite3_bind_text(st, 3, r->field, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, r->reason, -1, SQLITE_STATIC);
	sqlite3_bind_blob64(st, 5, rawlen ? raw : "", rawlen, SQLITE_STATIC);
	return step_done(s, st, "add reject", e);
}

static const char *
text(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return t ? (const char *)t : "";
}

int
store_each_batch(struct store *s, int (*fn)(const struct batch_row *, void *),
    void *arg, struct terr *e)
{
	sqlite3_stmt *st;
	int rc, stop = 0;

	if (sqlite3_prepare_v2(s->db, "SELECT id, source, format, file, read,"
	    " accepted, rejected, duplicates FROM batch ORDER BY id", -1, &st,
	    NULL) != SQLITE_OK)
		return db_error(s, e, "prepare");
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct batch_row b = {
			.id = sqlite3_column_int64(st, 0),
			.source = text(st, 1),
			.format = text(st, 2),
			.file = text(st, 3),
			.n.read = (uint64_t)sqlite3_column_int64(st, 4),
			.n.accepted = (uint64_t)sqlite3_column_int64(st, 5),
			.n.rejected = (uint64_t)sqlite3_column_int64(st, 6),
			.n.duplicates = (uint64_t)sqlite3_column_int64(st, 7),
		};
		stop = fn(&b, arg);
	}
	if (!stop && rc != SQLITE_DONE)
		db_error(s, e, "list batches"), stop = -1;
	sqlite3_finalize(st);
	return stop;
}

int
store_each_reject(struct store *s, int64_t batch,
    int (*fn)(const struct reject_row *, void *), void *arg, struct terr *e)
{
	sqlite3_stmt *st;
	int rc, stop = 0;

	if (sqlite3_prepare_v2(s->db, "SELECT r.batch_id, b.file, r.line, r.field,"
	    " r.reason, r.raw FROM reject r JOIN batch b ON b.id = r.batch_id"
	    " WHERE ?1 = 0 OR r.batch_id = ?1 ORDER BY r.batch_id, r.line", -1,
	    &st, NULL) != SQLITE_OK)
		return db_error(s, e, "prepare");
	sqlite3_bind_int64(st, 1, batch);
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct reject_row r = {
			.batch = sqlite3_column_int64(st, 0),
			.file = text(st, 1),
			.line = sqlite3_column_int64(st, 2),
			.field = text(st, 3),
			.reason = text(st, 4),
			.raw = sqlite3_column_blob(st, 5),
			.rawlen = (size_t)sqlite3_column_bytes(st, 5),
		};
		stop = fn(&r, arg);
	}
	if (!stop && rc != SQLITE_DONE)
		db_error(s, e, "list rejects"), stop = -1;
	sqlite3_finalize(st);
	return stop;
}
