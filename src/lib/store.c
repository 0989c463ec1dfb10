#include <ctype.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

	/* 1 -> 2: tariffs and rating */
	"CREATE TABLE tariff_version ("
	"  id INTEGER PRIMARY KEY,"
	"  reseller TEXT NOT NULL,"
	"  currency TEXT NOT NULL,"
	"  sha256 TEXT NOT NULL,"
	"  source TEXT NOT NULL,"
	"  loaded_at INTEGER NOT NULL,"
	"  nrates INTEGER NOT NULL,"
	"  naccounts INTEGER NOT NULL,"
	"  UNIQUE (reseller, sha256));"
	"CREATE TABLE tariff_file ("
	"  version_id INTEGER NOT NULL REFERENCES tariff_version(id),"
	"  name TEXT NOT NULL,"
	"  content BLOB NOT NULL,"
	"  PRIMARY KEY (version_id, name));"
	"CREATE TABLE account ("
	"  id TEXT PRIMARY KEY,"
	"  reseller TEXT NOT NULL,"
	"  version_id INTEGER NOT NULL REFERENCES tariff_version(id));"
	/* Rows are appended in rating order (payer, period, start), not CDR
	 * order: a rowid key keeps those appends sequential, the small index
	 * on cdr_id takes the random part. */
	"CREATE TABLE rating ("
	"  id INTEGER PRIMARY KEY,"
	"  cdr_id INTEGER NOT NULL UNIQUE REFERENCES cdr(id),"
	"  version_id INTEGER REFERENCES tariff_version(id),"
	"  payer TEXT NOT NULL,"
	"  period TEXT NOT NULL,"
	"  status TEXT NOT NULL CHECK (status IN ('rated','free','unrated')),"
	"  class TEXT,"
	"  destination TEXT NOT NULL,"
	"  prefix TEXT NOT NULL,"
	"  seconds INTEGER NOT NULL,"
	"  billed_seconds INTEGER NOT NULL,"
	"  amount INTEGER NOT NULL,"
	"  reason TEXT NOT NULL,"
	"  tier_pos INTEGER NOT NULL,"
	"  test_used INTEGER NOT NULL,"
	"  volume_total INTEGER NOT NULL);"
	"CREATE INDEX rating_payer_period ON rating(payer, period);"
	"CREATE TABLE rating_piece ("
	"  cdr_id INTEGER NOT NULL REFERENCES rating(cdr_id),"
	"  seq INTEGER NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  label TEXT NOT NULL,"
	"  seconds INTEGER NOT NULL,"
	"  price INTEGER NOT NULL,"
	"  exact INTEGER NOT NULL);"
	"CREATE UNIQUE INDEX rating_piece_cdr ON rating_piece(cdr_id, seq);",

	/* 2 -> 3: minute bundles.  A rating keeps the window its call found
	 * (for replay); each payer's windows are rebuilt whole when rated. */
	"ALTER TABLE rating ADD COLUMN bundle_sub INTEGER;"
	"ALTER TABLE rating ADD COLUMN bundle_seq INTEGER;"
	"ALTER TABLE rating ADD COLUMN bundle_left INTEGER;"
	"CREATE TABLE bundle_window ("
	"  payer TEXT NOT NULL,"
	"  seq INTEGER NOT NULL,"
	"  version_id INTEGER NOT NULL REFERENCES tariff_version(id),"
	"  bundle TEXT NOT NULL,"
	"  class TEXT NOT NULL,"
	"  activated INTEGER NOT NULL,"
	"  start_ts INTEGER NOT NULL,"
	"  end_ts INTEGER NOT NULL,"
	"  start_local TEXT NOT NULL,"
	"  end_local TEXT NOT NULL,"
	"  ended TEXT NOT NULL CHECK (ended IN ('open','expired','exhausted','cancelled')),"
	"  granted INTEGER NOT NULL,"
	"  rolled_in INTEGER NOT NULL,"
	"  used INTEGER NOT NULL,"
	"  rolled_out INTEGER NOT NULL,"
	"  forfeited INTEGER NOT NULL,"
	"  price INTEGER NOT NULL,"
	"  tax_included INTEGER NOT NULL,"
	"  period_from TEXT NOT NULL,"
	"  period_to TEXT NOT NULL,"
	"  PRIMARY KEY (payer, seq),"
	"  CHECK (ended = 'open' OR granted + rolled_in = used + rolled_out + forfeited));"
	"CREATE INDEX bundle_window_period ON bundle_window(period_from, period_to);"
	"CREATE TABLE bundle_horizon ("
	"  payer TEXT PRIMARY KEY,"
	"  version_id INTEGER NOT NULL REFERENCES tariff_version(id),"
	"  period TEXT NOT NULL);",

	/* 3 -> 4: invoices, credit notes, their numbers, and the ledger */
	"CREATE TABLE invoice ("
	"  id INTEGER PRIMARY KEY,"
	"  kind TEXT NOT NULL CHECK (kind IN ('invoice','credit')),"
	"  number TEXT UNIQUE,"
	"  status TEXT NOT NULL CHECK (status IN ('draft','issued','void')),"
	"  issuer TEXT NOT NULL,"
	"  account TEXT NOT NULL,"
	"  name TEXT NOT NULL,"
	"  period TEXT NOT NULL,"
	"  first_day TEXT NOT NULL,"
	"  last_day TEXT NOT NULL,"
	"  date TEXT NOT NULL,"
	"  version_id INTEGER NOT NULL REFERENCES tariff_version(id),"
	"  currency TEXT NOT NULL,"
	"  decimals INTEGER NOT NULL,"
	"  prefix TEXT NOT NULL,"
	"  credit_prefix TEXT NOT NULL,"
	"  subtotal INTEGER NOT NULL,"
	"  tax INTEGER NOT NULL,"
	"  total INTEGER NOT NULL,"
	"  previous INTEGER NOT NULL,"
	"  payments INTEGER NOT NULL,"
	"  due INTEGER NOT NULL,"
	"  refers_to INTEGER REFERENCES invoice(id),"
	"  reason TEXT NOT NULL DEFAULT '',"
	"  generation INTEGER NOT NULL,"
	"  issued_at INTEGER,"
	"  CHECK ((status = 'draft') = (number IS NULL)));"
	"CREATE INDEX invoice_account_period ON invoice(account, period);"
	"CREATE TABLE invoice_line ("
	"  invoice_id INTEGER NOT NULL REFERENCES invoice(id),"
	"  seq INTEGER NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  description TEXT NOT NULL,"
	"  quantity TEXT NOT NULL,"
	"  unit_price INTEGER NOT NULL,"
	"  exact INTEGER NOT NULL,"
	"  amount INTEGER NOT NULL,"
	"  tax_rate INTEGER NOT NULL,"
	"  tax_included INTEGER NOT NULL,"
	"  tax INTEGER NOT NULL,"
	"  net INTEGER NOT NULL,"
	"  ref TEXT NOT NULL,"
	"  PRIMARY KEY (invoice_id, seq));"
	"CREATE INDEX invoice_line_ref ON invoice_line(ref) WHERE ref <> '';"
	"CREATE TABLE invoice_tax ("
	"  invoice_id INTEGER NOT NULL REFERENCES invoice(id),"
	"  seq INTEGER NOT NULL,"
	"  rate INTEGER NOT NULL,"
	"  included INTEGER NOT NULL,"
	"  exact INTEGER NOT NULL,"
	"  base INTEGER NOT NULL,"
	"  tax INTEGER NOT NULL,"
	"  PRIMARY KEY (invoice_id, seq));"
	/* the calls an invoice charges: its itemized list, and what an issued
	 * invoice freezes */
	"CREATE TABLE invoice_cdr ("
	"  cdr_id INTEGER NOT NULL REFERENCES cdr(id),"
	"  invoice_id INTEGER NOT NULL REFERENCES invoice(id),"
	"  PRIMARY KEY (cdr_id, invoice_id)) WITHOUT ROWID;"
	"CREATE INDEX invoice_cdr_invoice ON invoice_cdr(invoice_id);"
	"CREATE TABLE sequence ("
	"  issuer TEXT NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  last INTEGER NOT NULL,"
	"  PRIMARY KEY (issuer, kind));"
	"CREATE TABLE ledger ("
	"  id INTEGER PRIMARY KEY,"
	"  account TEXT NOT NULL,"
	"  date TEXT NOT NULL,"
	"  kind TEXT NOT NULL CHECK (kind IN ('deposit','payment','invoice','credit')),"
	"  amount INTEGER NOT NULL,"
	"  number TEXT NOT NULL DEFAULT '',"
	"  reference TEXT NOT NULL DEFAULT '',"
	"  invoice_id INTEGER REFERENCES invoice(id),"
	"  recorded_at INTEGER NOT NULL);"
	"CREATE INDEX ledger_account_date ON ledger(account, date);"
	/* bumped by every change that can change a draft: a draft closed
	 * before the last bump is not issued */
	"CREATE TABLE generation (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL);"
	"INSERT INTO generation VALUES (1, 0);",

	/* 4 -> 5: an invoice keeps its calls as they were rated when it was
	 * closed, so that its itemized list never changes, even after a void
	 * lets the calls be rated again for another invoice.  Rows of older
	 * stores stay NULL and read the rating. */
	"ALTER TABLE invoice_cdr ADD COLUMN seconds INTEGER;"
	"ALTER TABLE invoice_cdr ADD COLUMN billed_seconds INTEGER;"
	"ALTER TABLE invoice_cdr ADD COLUMN amount INTEGER;"
	"ALTER TABLE invoice_cdr ADD COLUMN destination TEXT;"
	"ALTER TABLE invoice_cdr ADD COLUMN class TEXT;",

	/* 5 -> 6: no query looks CDRs up by account and start (reports and
	 * invoices go through rating's payer and period); the index only
	 * slowed every insert, a third of an ingest's time. */
	"DROP INDEX IF EXISTS cdr_account_start;",

	/* 6 -> 7: late calls are charged the difference they make.  Ratings
	 * are always the whole period rated at once; what each invoice charged
	 * of a period's usage is kept by group (invoice_usage), so that a later
	 * invoice charges the period as rated now less what was charged
	 * (tally-invoice(1), LATE CALLS).  usage_dirty lists the payers'
	 * periods rated since an invoice last settled them.  Backfill: what
	 * the old code froze (an invoiced call's rating never changed), shared
	 * among a call's pieces the way invoice.c shares it; the periods with
	 * calls on no issued invoice; bundle windows charged by sequence, not by
	 * start (a late call can move a window's start); minimum true-ups by
	 * their period. */
	"CREATE TABLE invoice_usage ("
	"  invoice_id INTEGER NOT NULL REFERENCES invoice(id),"
	"  period TEXT NOT NULL,"
	"  class TEXT NOT NULL,"
	"  destination TEXT NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  label TEXT NOT NULL,"
	"  price INTEGER NOT NULL,"
	"  seconds INTEGER NOT NULL,"
	"  count INTEGER NOT NULL,"
	"  exact INTEGER NOT NULL,"
	"  basis INTEGER NOT NULL);"
	"CREATE INDEX invoice_usage_invoice ON invoice_usage(invoice_id);"
	"CREATE TABLE usage_dirty ("
	"  payer TEXT NOT NULL,"
	"  period TEXT NOT NULL,"
	"  PRIMARY KEY (payer, period)) WITHOUT ROWID;"
	"INSERT INTO invoice_usage (invoice_id, period, class, destination, kind, label, price,"
	"  seconds, count, exact, basis)"
	" WITH pc AS (SELECT ic.invoice_id AS inv, r.cdr_id AS cdr, r.period AS period,"
	"  coalesce(r.class, '') AS cls, r.destination AS dest, p.seq AS seq, p.kind AS kind,"
	"  p.label AS label, p.price AS price, p.seconds AS secs,"
	"  (2 * p.exact + 60) / 120 AS share, r.amount AS amount"
	"  FROM invoice_cdr ic JOIN invoice i ON i.id = ic.invoice_id AND i.kind = 'invoice'"
	"  JOIN rating r ON r.cdr_id = ic.cdr_id AND r.status = 'rated'"
	"  JOIN rating_piece p ON p.cdr_id = r.cdr_id),"
	" last AS (SELECT inv, cdr, coalesce(max(CASE WHEN price > 0 THEN seq END), max(seq))"
	"  AS lseq, sum(share) AS s, max(amount) AS amount FROM pc GROUP BY inv, cdr)"
	" SELECT pc.inv, pc.period, pc.cls, pc.dest, pc.kind, pc.label, pc.price, sum(pc.secs),"
	"  count(*), sum(pc.share + CASE WHEN pc.seq = last.lseq THEN last.amount - last.s"
	"  ELSE 0 END), 0"
	" FROM pc JOIN last ON last.inv = pc.inv AND last.cdr = pc.cdr"
	" GROUP BY pc.inv, pc.period, pc.cls, pc.dest, pc.kind, pc.label, pc.price;"
	"INSERT OR IGNORE INTO usage_dirty SELECT DISTINCT payer, period FROM rating r"
	" WHERE status = 'rated' AND NOT EXISTS (SELECT 1 FROM invoice_cdr ic JOIN invoice i"
	" ON i.id = ic.invoice_id WHERE ic.cdr_id = r.cdr_id AND i.status = 'issued');"
	/* Asterisk record keys no longer depend on the optional columns
	 * (tally-cdr(5)); the sources that hold keys of the old forms look up
	 * each leg's old key too, so that reading a Master.csv again after the
	 * upgrade stores no leg twice. */
	"CREATE TABLE legacy_key_source (source TEXT PRIMARY KEY) WITHOUT ROWID;"
	"INSERT INTO legacy_key_source SELECT DISTINCT source FROM batch WHERE format ="
	" 'asterisk';"
	/* the old code rated a late call with its period's invoiced calls
	 * frozen: those periods are rated again, whole, by the next run */
	"CREATE TABLE rate_pending ("
	"  payer TEXT NOT NULL,"
	"  period TEXT NOT NULL,"
	"  PRIMARY KEY (payer, period)) WITHOUT ROWID;"
	"INSERT INTO rate_pending SELECT payer, period FROM usage_dirty;"
	"CREATE TEMP TABLE window_ref (old TEXT PRIMARY KEY, new TEXT NOT NULL) WITHOUT ROWID;"
	"INSERT OR IGNORE INTO temp.window_ref SELECT 'window:' || payer || ':' || start_ts ||"
	" ':' || bundle, 'window:' || payer || ':#' || seq || ':' || bundle FROM bundle_window;"
	"UPDATE invoice_line SET ref = (SELECT new FROM temp.window_ref WHERE old ="
	" invoice_line.ref) WHERE ref IN (SELECT old FROM temp.window_ref);"
	"DROP TABLE temp.window_ref;"
	"UPDATE invoice_line SET ref = (SELECT 'monthly-minimum:' || account || ':' || period"
	" FROM invoice WHERE id = invoice_id) WHERE kind = 'minimum' AND ref = '' AND"
	" description LIKE 'Monthly minimum spend%';"
	"UPDATE invoice_line SET ref = (SELECT 'annual-minimum:' || account || ':' FROM invoice"
	" WHERE id = invoice_id) || substr(description, instr(description, 'contract year ') +"
	" 14, 10) WHERE kind = 'minimum' AND ref = '' AND description LIKE"
	" 'Annual minimum spend%';",
};

enum stmt {
	S_BATCH_FIND, S_BATCH_ADD, S_BATCH_COUNTS, S_CDR_ADD, S_CDR_FIND,
	S_REJECT_ADD, S_DUP_ADD, S_TARIFF_FIND, S_RATING_PUT, S_PIECE_ADD,
	S_WORK_ADD, S_WORK_GROUP, S_INVOICE_CDR, S_NSTMT
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
	[S_TARIFF_FIND] = "SELECT id FROM tariff_version WHERE reseller = ?1 AND sha256 = ?2",
	[S_RATING_PUT] = "INSERT OR REPLACE INTO rating (cdr_id, version_id, payer, period,"
	    " status, class, destination, prefix, seconds, billed_seconds, amount, reason,"
	    " tier_pos, test_used, volume_total, bundle_sub, bundle_seq, bundle_left)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,"
	    " ?17, ?18)",
	[S_PIECE_ADD] = "INSERT INTO rating_piece (cdr_id, seq, kind, label, seconds, price,"
	    " exact) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	/* these two need the run's temp table: prepared on first use, after it */
	[S_WORK_ADD] = "INSERT OR REPLACE INTO temp.rate_work (cdr_id, payer, period)"
	    " VALUES (?1, ?2, ?3)",
	[S_WORK_GROUP] = "INSERT OR IGNORE INTO temp.rate_work (cdr_id, payer, period)"
	    " SELECT cdr_id, payer, period FROM rating WHERE payer = ?1 AND period = ?2",
	[S_INVOICE_CDR] = "INSERT INTO invoice_cdr (cdr_id, invoice_id, seconds, billed_seconds,"
	    " amount, destination, class) SELECT ?1, ?2, r.seconds, r.billed_seconds, r.amount,"
	    " r.destination, coalesce(r.class, '') FROM (SELECT 1) LEFT JOIN rating r"
	    " ON r.cdr_id = ?1",
};

/* Statements of prep(), by the address of their SQL. */
#define STORE_PREP_CACHE 128
struct cached {
	const char *sql;
	sqlite3_stmt *st;
	int busy;		/* handed out, not yet given back */
};

struct store {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *st[S_NSTMT];	/* prepared on first use, reused */
	struct cached cache[STORE_PREP_CACHE];
	/* the last source asked about in legacy_key_source (one query per
	 * batch, not per CDR); legacy_has -1: not asked yet */
	char *legacy_source;
	int legacy_has;
};

static sqlite3_stmt *prep(struct store *s, const char *sql, struct terr *e);
static void unprep(struct store *s, sqlite3_stmt *st);
static const char *text(sqlite3_stmt *st, int col);

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

/* Take an older store to the current schema, in one transaction. */
static int
migrate(struct store *s, struct terr *e)
{
	int64_t version;
	char sql[128];

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

/* What a file holds, as its header says. */
enum content {
	CONTENT_EMPTY,		/* 0 bytes, or a database with nothing in it */
	CONTENT_TALLY,
	CONTENT_OTHER,		/* another program's database */
};

struct identity {
	enum content what;
	int64_t version;	/* PRAGMA user_version */
	int64_t pages;		/* 0: a 0-byte file */
};

/*
 * What the file is, read on a connection that has written nothing: a
 * tally store carries tally's application_id (every migration sets it in
 * the transaction that makes the schema).  A file with no schema, no
 * application_id and no user_version is empty: a 0-byte file, or what an
 * interrupted creation by an older tally left (it switched to WAL first).
 * Anything else belongs to another program.
 */
static int
identify(struct store *s, struct identity *id, struct terr *e)
{
	int64_t appid, nschema;

	if (query_int(s, "PRAGMA application_id", &appid, e) != 0 ||
	    query_int(s, "PRAGMA user_version", &id->version, e) != 0 ||
	    query_int(s, "PRAGMA page_count", &id->pages, e) != 0 ||
	    query_int(s, "SELECT count(*) FROM sqlite_schema", &nschema, e) != 0)
		return -1;
	if (appid == APPLICATION_ID)
		id->what = CONTENT_TALLY;
	else if (appid == 0 && id->version == 0 && nschema == 0)
		id->what = CONTENT_EMPTY;
	else
		id->what = CONTENT_OTHER;
	return 0;
}

/* Whether a command opening the store in this mode may use the file. */
static int
check_identity(struct store *s, const struct identity *id, enum store_mode mode,
    struct terr *e)
{
	if (id->what == CONTENT_OTHER)
		return terr_set(e, "%s: not a tally store (another program's SQLite "
		    "database); left as it was", s->path);
	if (id->what == CONTENT_EMPTY && mode != STORE_CREATE)
		return terr_set(e, "%s: not a tally store: %s; tally-ingest or "
		    "tally-tariff load makes one", s->path,
		    id->pages == 0 ? "an empty file" : "an empty database");
	if (id->version > STORE_SCHEMA_VERSION)
		return terr_set(e, "%s: store schema version %lld is newer than this "
		    "program supports (%d); use a newer tally", s->path,
		    (long long)id->version, STORE_SCHEMA_VERSION);
	if (mode == STORE_READONLY && id->version < STORE_SCHEMA_VERSION)
		return terr_set(e, "%s: store schema version %lld is older than this "
		    "program's (%d) and this command only reads: run a command that "
		    "writes (tally-rate, tally-ingest) to upgrade it", s->path,
		    (long long)id->version, STORE_SCHEMA_VERSION);
	return 0;
}

/* Why a file could not be opened: a missing store, or a missing folder
 * for a new one, said as such. */
static int
open_error(struct store *s, enum store_mode mode, struct terr *e)
{
	struct stat st;

	if (stat(s->path, &st) != 0 && errno == ENOENT)
		return terr_set(e, mode == STORE_CREATE ? "%s: cannot make a store there:"
		    " no such folder" : "%s: no such store; tally-ingest or tally-tariff load"
		    " makes one", s->path);
	if (S_ISDIR(st.st_mode))
		return terr_set(e, "%s: a folder, not a store", s->path);
	return db_error(s, e, "cannot open");
}

/* A writer's connection: only STORE_CREATE creates a missing file. */
static int
connect_writer(struct store *s, enum store_mode mode, struct terr *e)
{
	int flags = SQLITE_OPEN_READWRITE | (mode == STORE_CREATE ? SQLITE_OPEN_CREATE : 0);

	if (sqlite3_open_v2(s->path, &s->db, flags, NULL) != SQLITE_OK)
		return open_error(s, mode, e);
	/* SQLite quietly opens a file it may not write read-only */
	if (sqlite3_db_readonly(s->db, "main") == 1)
		return terr_set(e, "%s: cannot be written here (a read-only file or file "
		    "system), and this command writes the store", s->path);
	/* The -wal and -shm files stay when the last writer closes (see
	 * connect_reader), the -wal cut to 64 MiB at most. */
	if (sqlite3_file_control(s->db, "main", SQLITE_FCNTL_PERSIST_WAL, &(int){ 1 }) !=
	    SQLITE_OK)
		return db_error(s, e, "keep the write-ahead log");
	return 0;
}

/*
 * A reader's connection, SQLITE_OPEN_READONLY: it cannot write the store.
 * SQLite reads a WAL database (every store is one) through its -wal and
 * -shm files, with locks, and a reader that cannot write the folder cannot
 * make them (sqlite.org/wal.html, "Read-Only Databases").  So writers keep
 * both when they close (connect_writer): a reader on a read-only file
 * system or in a folder it may not write finds them and reads with the
 * same locks as everyone, seeing each commit whole even while a writer
 * works elsewhere.  Without them (a store last closed by an older tally,
 * or copied without them) it is refused, saying how to make them; it is
 * never read through immutable=1, which a writer elsewhere would tear.
 */
static int
connect_reader(struct store *s, struct terr *e)
{
	int64_t appid;

	if (sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		return open_error(s, STORE_READONLY, e);
	sqlite3_busy_timeout(s->db, 10000);	/* a writer may hold the log */
	if (query_int(s, "PRAGMA application_id", &appid, e) == 0)
		return 0;
	if ((sqlite3_extended_errcode(s->db) & 0xff) != SQLITE_CANTOPEN &&
	    sqlite3_extended_errcode(s->db) != SQLITE_READONLY_DIRECTORY)
		return -1;
	return terr_set(e, "%s: cannot be read here: its -wal and -shm files are missing,"
	    " and this user cannot make them in its folder; run a command that writes"
	    " the store (tally-rate) once where it can, and they stay", s->path);
}

/*
 * Connection settings; none of them writes to the file.  FULL: a
 * committed batch survives power loss, not just a crash.  A 128 MiB page
 * cache keeps the record-key index of a million-line batch in memory
 * during its one transaction (at 32 MiB it thrashed: 13 s for 500k lines,
 * 30 s for 1M).  Temporary tables (a rating run's work list) go to files
 * with a 16 MiB cache rather than growing in memory; the sorter's buffers
 * are sized by the main cache.  So memory is bounded by these caches, not
 * by the CDRs in the store or the file.  One helper thread lets SQLite's
 * sorter use the second core.
 */
static int
tune(struct store *s, struct terr *e)
{
	sqlite3_busy_timeout(s->db, 10000);
	return exec(s, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;"
	    " PRAGMA cache_size = -131072; PRAGMA temp_store = FILE;"
	    " PRAGMA temp.cache_size = -16384; PRAGMA threads = 1", e);
}

/*
 * Nothing is written before the file is known to be a tally store, or an
 * empty file a creating command may make one: only then does a writer
 * switch it to WAL (persistent: a no-op on a store, the first write of a
 * new one) and bring an older schema up to date.
 */
struct store *
store_open(const char *path, enum store_mode mode, struct terr *e)
{
	struct store *s = calloc(1, sizeof *s);
	struct identity id;

	if (s == NULL || (s->path = strdup(path)) == NULL) {
		free(s);
		terr_set(e, "out of memory");
		return NULL;
	}
	if ((mode == STORE_READONLY ? connect_reader(s, e) : connect_writer(s, mode, e)) != 0 ||
	    tune(s, e) != 0 || identify(s, &id, e) != 0 ||
	    check_identity(s, &id, mode, e) != 0)
		goto fail;
	if (mode != STORE_READONLY &&
	    (exec(s, "PRAGMA journal_mode = WAL; PRAGMA journal_size_limit = 67108864", e) != 0 ||
	    (id.version < STORE_SCHEMA_VERSION && migrate(s, e) != 0)))
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
	for (int i = 0; i < STORE_PREP_CACHE; i++)
		sqlite3_finalize(s->cache[i].st);
	sqlite3_close(s->db);
	free(s->path);
	free(s->legacy_source);
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

/* The id a two-key lookup statement finds: 1 with *id, 0 none, -1 error. */
static int
find_id(struct store *s, enum stmt which, const char *k1, const char *k2,
    int64_t *id, struct terr *e)
{
	sqlite3_stmt *st = stmt(s, which, e);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, k1, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, k2, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_error(s, e, "look up");
	return rc == SQLITE_ROW;
}

int
store_batch_find(struct store *s, const char *source, const char *sha256,
    int64_t *id, struct terr *e)
{
	return find_id(s, S_BATCH_FIND, source, sha256, id, e);
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
	sqlite3_stmt *st = prep(s, "WITH RECURSIVE src (name) AS ("
	    " SELECT min(source) FROM batch UNION ALL"
	    " SELECT (SELECT min(source) FROM batch WHERE source > src.name) FROM src"
	    " WHERE src.name IS NOT NULL)"
	    " SELECT b.id, b.source FROM src JOIN batch b ON b.source = src.name AND"
	    " b.sha256 = ?2 WHERE src.name <> ?1 AND b.accepted + b.duplicates > 0"
	    " ORDER BY b.id LIMIT 1", e);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, source, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, sha256, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		tally_strlcpy(other, text(st, 1), len);
	}
	unprep(s, st);
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
	sqlite3_stmt *st;
	int64_t original = 0;

	/* ON CONFLICT said the key is there: its CDR must be found */
	if (find_id(s, S_CDR_FIND, source, key, &original, e) != 1)
		return -1;
	if ((st = stmt(s, S_DUP_ADD, e)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, batch);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)line);
	sqlite3_bind_text(st, 3, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, original);
	return step_done(s, st, "add duplicate", e);
}

static int run_sql(struct store *s, const char *sql, int64_t *out, struct terr *e, int n,
    ...);

/* A leg stored under its key of before schema 7: recorded as a duplicate of
 * it, 1; not there (or the source never had such keys), 0; -1. */
static int
legacy_duplicate(struct store *s, const char *source, int64_t batch, uint64_t line,
    const char *key, struct terr *e)
{
	int64_t n;

	if (s->legacy_source == NULL || strcmp(s->legacy_source, source) != 0) {
		free(s->legacy_source);
		if ((s->legacy_source = strdup(source)) == NULL)
			return terr_set(e, "out of memory");
		if (run_sql(s, "SELECT count(*) FROM legacy_key_source WHERE source = ?1", &n, e,
		    1, source) != 0) {
			free(s->legacy_source);
			s->legacy_source = NULL;
			return -1;
		}
		s->legacy_has = n > 0;
	}
	if (!s->legacy_has)
		return 0;
	if (run_sql(s, "SELECT count(*) FROM cdr WHERE source = ?1 AND record_key = ?2", &n, e,
	    2, source, key) != 0)
		return -1;
	if (n == 0)
		return 0;
	return duplicate_add(s, source, batch, line, key, e) == 0 ? 1 : -1;
}

int
store_cdr_add(struct store *s, const char *source, int64_t batch, uint64_t line,
    const struct cdr *c, struct terr *e)
{
	sqlite3_stmt *st = stmt(s, S_CDR_ADD, e);

	if (st == NULL)
		return -1;
	if (c->legacy_key) {
		int rc = legacy_duplicate(s, source, batch, line, c->legacy_key, e);

		if (rc != 0)
			return rc < 0 ? -1 : 0;
	}
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

/* ---- helpers for one-off statements ------------------------------------- */

/*
 * A statement for this SQL, given back with unprep().  Closing a month
 * runs the same dozen queries for every account: each is compiled once
 * and kept, keyed by the address of its text (always a literal or a
 * static array here, never a built string).  A statement still in use
 * (a walk whose callback runs the same query) gets a fresh one.
 */
static sqlite3_stmt *
prep(struct store *s, const char *sql, struct terr *e)
{
	size_t h = ((uintptr_t)sql >> 3) % STORE_PREP_CACHE;
	sqlite3_stmt *st;

	for (size_t k = 0; k < STORE_PREP_CACHE; k++) {
		struct cached *c = &s->cache[(h + k) % STORE_PREP_CACHE];

		if (c->sql == sql && c->busy)
			break;
		if (c->sql == sql) {
			c->busy = 1;
			return c->st;
		}
		if (c->sql == NULL) {
			if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
			    &c->st, NULL) != SQLITE_OK) {
				db_error(s, e, "prepare");
				return NULL;
			}
			c->sql = sql;
			c->busy = 1;
			return c->st;
		}
	}
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		db_error(s, e, "prepare");
		return NULL;
	}
	return st;
}

/* Give back a statement of prep(): kept ones are reset for the next use. */
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

/* Bind text, or NULL for a NULL pointer. */
static void
bind_opt(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

/* Finish a walk: finalize, and turn a step error into -1. */
static int
walk_end(struct store *s, sqlite3_stmt *st, int rc, int stop, const char *what,
    struct terr *e)
{
	if (!stop && rc != SQLITE_DONE) {
		db_error(s, e, what);
		stop = -1;
	}
	unprep(s, st);
	return stop;
}

/* ---- tariffs ------------------------------------------------------------ */

int
store_tariff_find(struct store *s, const char *reseller, const char *sha256,
    int64_t *id, struct terr *e)
{
	return find_id(s, S_TARIFF_FIND, reseller, sha256, id, e);
}

int
store_tariff_add(struct store *s, const struct tariff *t, const char *sha256,
    const char *source, const struct tariff_pkg *p, int64_t *id, struct terr *e)
{
	sqlite3_stmt *st = prep(s, "INSERT INTO tariff_version (reseller, currency, sha256,"
	    " source, loaded_at, nrates, naccounts) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", e);

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, t->reseller, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, t->currency, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, sha256, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, source, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)time(NULL));
	sqlite3_bind_int64(st, 6, t->nrates);
	sqlite3_bind_int64(st, 7, t->naccounts);
	if (sqlite3_step(st) != SQLITE_DONE) {
		unprep(s, st);
		return db_error(s, e, "add tariff version");
	}
	unprep(s, st);
	*id = sqlite3_last_insert_rowid(s->db);
	if ((st = prep(s, "INSERT INTO tariff_file (version_id, name, content)"
	    " VALUES (?1, ?2, ?3)", e)) == NULL)
		return -1;
	for (int i = 0; i < TF_NFILES; i++) {
		if (p->data[i] == NULL)
			continue;
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, *id);
		sqlite3_bind_text(st, 2, tariff_file_name((enum tariff_fileid)i), -1, SQLITE_STATIC);
		sqlite3_bind_blob64(st, 3, p->len[i] ? p->data[i] : "", p->len[i], SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			unprep(s, st);
			return db_error(s, e, "add tariff file");
		}
	}
	unprep(s, st);
	return 0;
}

int
store_account_owner(struct store *s, const char *account, char *owner, size_t len,
    struct terr *e)
{
	sqlite3_stmt *st = prep(s, "SELECT reseller FROM account WHERE id = ?1", e);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		tally_strlcpy(owner, text(st, 0), len);
	unprep(s, st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_error(s, e, "find account");
	return rc == SQLITE_ROW;
}

int
store_account_claim(struct store *s, const char *account, const char *reseller,
    int64_t version, struct terr *e)
{
	sqlite3_stmt *st = prep(s, "INSERT INTO account (id, reseller, version_id)"
	    " VALUES (?1, ?2, ?3) ON CONFLICT (id) DO UPDATE SET version_id = ?3"
	    " WHERE reseller = ?2", e);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, reseller, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, version);
	rc = sqlite3_step(st);
	unprep(s, st);
	return rc == SQLITE_DONE ? 0 : db_error(s, e, "claim account");
}

int
store_tariff_files(struct store *s, int64_t version, struct tariff_pkg *p,
    struct terr *e)
{
	sqlite3_stmt *st = prep(s, "SELECT name, content FROM tariff_file"
	    " WHERE version_id = ?1", e);
	int rc, nfiles = 0;

	memset(p, 0, sizeof *p);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, version);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		nfiles++;
		for (int i = 0; i < TF_NFILES; i++) {
			size_t n = (size_t)sqlite3_column_bytes(st, 1);

			if (strcmp(text(st, 0), tariff_file_name((enum tariff_fileid)i)) != 0)
				continue;
			if ((p->data[i] = malloc(n + 1)) == NULL) {
				unprep(s, st);
				tariff_pkg_release(p);
				return terr_set(e, "out of memory");
			}
			if (n)
				memcpy(p->data[i], sqlite3_column_blob(st, 1), n);
			p->len[i] = n;
		}
	}
	unprep(s, st);
	if (rc != SQLITE_DONE) {
		tariff_pkg_release(p);
		return db_error(s, e, "read tariff files");
	}
	if (nfiles == 0)
		return terr_set(e, "%s: no tariff version %lld", s->path, (long long)version);
	return 0;
}

int
store_tariff_current(struct store *s, int64_t **ids, int *n, struct terr *e)
{
	sqlite3_stmt *st = prep(s, "SELECT max(id) FROM tariff_version GROUP BY reseller"
	    " ORDER BY 1", e);
	int rc;

	*ids = NULL;
	*n = 0;
	if (st == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t *ni = realloc(*ids, (size_t)(*n + 1) * sizeof *ni);

		if (ni == NULL) {
			unprep(s, st);
			return terr_set(e, "out of memory");
		}
		*ids = ni;
		(*ids)[(*n)++] = sqlite3_column_int64(st, 0);
	}
	return walk_end(s, st, rc, 0, "list current tariffs", e);
}

int
store_each_version(struct store *s, const char *reseller,
    int (*fn)(const struct version_row *, void *), void *arg, struct terr *e)
{
	sqlite3_stmt *st = prep(s, "SELECT v.id, v.reseller, v.currency, v.sha256,"
	    " v.source, v.loaded_at, v.nrates, v.naccounts, v.id = (SELECT max(id) FROM"
	    " tariff_version w WHERE w.reseller = v.reseller) FROM tariff_version v"
	    " WHERE ?1 IS NULL OR v.reseller = ?1 ORDER BY v.id", e);
	int rc, stop = 0;

	if (st == NULL)
		return -1;
	bind_opt(st, 1, reseller);
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct version_row v = {
			.id = sqlite3_column_int64(st, 0), .reseller = text(st, 1),
			.currency = text(st, 2), .sha256 = text(st, 3), .source = text(st, 4),
			.loaded_at = sqlite3_column_int64(st, 5),
			.nrates = sqlite3_column_int64(st, 6),
			.naccounts = sqlite3_column_int64(st, 7),
			.current = sqlite3_column_int(st, 8),
		};
		stop = fn(&v, arg);
	}
	return walk_end(s, st, rc, stop, "list tariff versions", e);
}

/* ---- rating ------------------------------------------------------------- */

#define CDR_COLUMNS "c.id, c.batch_id, c.source, c.record_key, c.account, c.caller_raw," \
	" c.caller, c.callee_raw, c.callee, c.start_ts, c.answer_ts, c.end_ts, c.duration," \
	" c.billsec, c.disposition, c.type"

/* Fill a stored_cdr from the CDR_COLUMNS of a row (strings live until the
 * next step). */
static void
row_cdr(sqlite3_stmt *st, struct stored_cdr *sc)
{
	memset(sc, 0, sizeof *sc);
	sc->id = sqlite3_column_int64(st, 0);
	sc->batch = sqlite3_column_int64(st, 1);
	sc->source = text(st, 2);
	sc->c.record_key = text(st, 3);
	sc->c.account = text(st, 4);
	sc->c.caller_raw = text(st, 5);
	sc->c.caller = text(st, 6);
	sc->c.callee_raw = text(st, 7);
	sc->c.callee = text(st, 8);
	sc->c.start = sqlite3_column_int64(st, 9);
	sc->c.has_answer = sqlite3_column_type(st, 10) != SQLITE_NULL;
	sc->c.answer = sqlite3_column_int64(st, 10);
	sc->c.end = sqlite3_column_int64(st, 11);
	sc->c.duration = sqlite3_column_int64(st, 12);
	sc->c.billsec = sqlite3_column_int64(st, 13);
	if (cdr_disposition_parse(text(st, 14), &sc->c.disposition) != 0)
		sc->c.disposition = CDR_FAILED;
	sc->c.type = strcmp(text(st, 15), "sms") == 0 ? CDR_SMS : CDR_VOICE;
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
	sqlite3_stmt *st = prep(s, "SELECT " CDR_COLUMNS ", r.payer, r.period, " STALE
	    " FROM cdr c LEFT JOIN rating r ON r.cdr_id = c.id"
	    " WHERE (r.cdr_id IS NULL OR r.status = 'unrated' OR " STALE ") AND NOT EXISTS"
	    " (SELECT 1 FROM invoice_cdr ic JOIN invoice i ON i.id = ic.invoice_id"
	    " WHERE ic.cdr_id = c.id AND i.status = 'issued') ORDER BY c.id", e);
	int rc, stop = 0;

	if (st == NULL)
		return -1;
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct stored_cdr sc;

		row_cdr(st, &sc);
		sc.rated = sqlite3_column_type(st, 16) != SQLITE_NULL;
		sc.payer = text(st, 16);
		sc.period = text(st, 17);
		sc.stale = sqlite3_column_int(st, 18);
		stop = fn(&sc, arg);
	}
	return walk_end(s, st, rc, stop, "list CDRs to rate", e);
}

int
store_work_reset(struct store *s, struct terr *e)
{
	return exec(s, "CREATE TEMP TABLE IF NOT EXISTS rate_work (cdr_id INTEGER PRIMARY"
	    " KEY, payer TEXT NOT NULL, period TEXT NOT NULL);"
	    " CREATE INDEX IF NOT EXISTS temp.rate_work_group ON rate_work(payer, period);"
	    " DELETE FROM temp.rate_work", e);
}

int
store_work_add(struct store *s, int64_t cdr, const char *payer, const char *period,
    struct terr *e)
{
	sqlite3_stmt *st = stmt(s, S_WORK_ADD, e);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, cdr);
	sqlite3_bind_text(st, 2, payer, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, period, -1, SQLITE_STATIC);
	return step_done(s, st, "add work", e);
}

/* Walk the periods a statement of (payer, period) lists. */
static int
each_period(struct store *s, const char *sql, const char *payer, const char *period,
    int (*fn)(const char *, void *), void *arg, const char *what, struct terr *e)
{
	sqlite3_stmt *st = prep(s, sql, e);
	int rc, stop = 0;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, payer, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, period, -1, SQLITE_STATIC);
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW)
		stop = fn(text(st, 0), arg);
	return walk_end(s, st, rc, stop, what, e);
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
	sqlite3_stmt *st = prep(s, "SELECT coalesce(sum(p.seconds), 0) FROM rating r JOIN"
	    " rating_piece p ON p.cdr_id = r.cdr_id WHERE r.payer = ?1 AND r.period < ?2"
	    " AND p.kind = 'test'", e);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, payer, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, period, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	*out = sqlite3_column_int64(st, 0);
	unprep(s, st);
	return rc == SQLITE_ROW ? 0 : db_error(s, e, "sum test seconds");
}

int
store_work_add_group(struct store *s, const char *payer, const char *period,
    struct terr *e)
{
	sqlite3_stmt *st = stmt(s, S_WORK_GROUP, e);

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, payer, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, period, -1, SQLITE_STATIC);
	return step_done(s, st, "add group to work", e);
}

int
store_work_clear_pieces(struct store *s, struct terr *e)
{
	return exec(s, "DELETE FROM rating_piece WHERE cdr_id IN"
	    " (SELECT cdr_id FROM temp.rate_work)", e);
}

int
store_each_work_cdr(struct store *s, int (*fn)(const struct stored_cdr *, void *),
    void *arg, struct terr *e)
{
	sqlite3_stmt *st = prep(s, "SELECT " CDR_COLUMNS ", w.payer, w.period FROM"
	    " temp.rate_work w JOIN cdr c ON c.id = w.cdr_id"
	    " ORDER BY w.payer, w.period", e);
	int rc, stop = 0;

	if (st == NULL)
		return -1;
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct stored_cdr sc;

		row_cdr(st, &sc);
		sc.payer = text(st, 16);
		sc.period = text(st, 17);
		stop = fn(&sc, arg);
	}
	return walk_end(s, st, rc, stop, "list work", e);
}

static const char *const status_names[] = {
	[RS_RATED] = "rated", [RS_FREE] = "free", [RS_UNRATED] = "unrated",
};
static const char *const piece_names[] = {
	[PK_TEST] = "test", [PK_TIER] = "tier", [PK_BAND] = "band",
	[PK_MESSAGE] = "message", [PK_CONNECTION] = "connection", [PK_BUNDLE] = "bundle",
};

int
store_rating_put(struct store *s, int64_t cdr, int64_t version, const char *payer,
    const char *period, const char *cls, const struct rate_result *r, struct terr *e)
{
	sqlite3_stmt *st, *ins;

	if ((st = stmt(s, S_RATING_PUT, e)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, cdr);
	if (version)
		sqlite3_bind_int64(st, 2, version);
	else
		sqlite3_bind_null(st, 2);
	sqlite3_bind_text(st, 3, payer, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, period, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, status_names[r->status], -1, SQLITE_STATIC);
	bind_opt(st, 6, cls);
	sqlite3_bind_text(st, 7, r->destination, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, r->prefix, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, r->seconds);
	sqlite3_bind_int64(st, 10, r->billed_seconds);
	sqlite3_bind_int64(st, 11, r->amount);
	sqlite3_bind_text(st, 12, r->reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 13, r->before.tier_pos);
	sqlite3_bind_int64(st, 14, r->before.test_used);
	sqlite3_bind_int64(st, 15, r->before.volume_total);
	if (r->before.bundle_sub >= 0) {
		sqlite3_bind_int(st, 16, r->before.bundle_sub);
		sqlite3_bind_int(st, 17, r->before.bundle_seq);
		sqlite3_bind_int64(st, 18, r->before.bundle_left);
	} else {
		for (int i = 16; i <= 18; i++)
			sqlite3_bind_null(st, i);
	}
	if (step_done(s, st, "put rating", e) != 0)
		return -1;
	for (int i = 0; i < r->npieces; i++) {
		const struct rate_piece *p = &r->pieces[i];

		if ((ins = stmt(s, S_PIECE_ADD, e)) == NULL)
			return -1;
		sqlite3_bind_int64(ins, 1, cdr);
		sqlite3_bind_int(ins, 2, i);
		sqlite3_bind_text(ins, 3, piece_names[p->kind], -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 4, p->label, -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 5, p->seconds);
		sqlite3_bind_int64(ins, 6, p->price);
		sqlite3_bind_int64(ins, 7, (sqlite3_int64)p->exact);
		if (step_done(s, ins, "put piece", e) != 0)
			return -1;
	}
	return 0;
}

/* ---- replay ------------------------------------------------------------- */

static int
load_pieces(struct store *s, int64_t cdr, struct stored_rating *sr, struct terr *e)
{
	sqlite3_stmt *st = prep(s, "SELECT kind, label, seconds, price, exact FROM"
	    " rating_piece WHERE cdr_id = ?1 ORDER BY seq", e);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, cdr);
	sr->npieces = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && sr->npieces < RATE_MAX_PIECES) {
		struct rate_piece *p = &sr->pieces[sr->npieces++];

		p->kind = PK_TEST;
		for (int k = PK_TEST; k <= PK_BUNDLE; k++)
			if (strcmp(text(st, 0), piece_names[k]) == 0)
				p->kind = (enum piece_kind)k;
		tally_strlcpy(p->label, text(st, 1), sizeof p->label);
		p->seconds = sqlite3_column_int64(st, 2);
		p->price = sqlite3_column_int64(st, 3);
		p->exact = sqlite3_column_int64(st, 4);
	}
	return walk_end(s, st, rc == SQLITE_ROW ? SQLITE_DONE : rc, 0, "read pieces", e);
}

int
store_each_batch_rating(struct store *s, int64_t batch,
    int (*fn)(const struct stored_cdr *, const struct stored_rating *, void *),
    void *arg, struct terr *e)
{
	sqlite3_stmt *st = prep(s, "SELECT " CDR_COLUMNS ", coalesce(r.version_id, 0),"
	    " r.status, r.class, r.payer, r.reason, r.billed_seconds, r.amount, r.tier_pos,"
	    " r.test_used, r.volume_total, r.destination, r.prefix, coalesce(v.reseller, ''),"
	    " coalesce(r.bundle_sub, -1), coalesce(r.bundle_seq, 0), coalesce(r.bundle_left, 0)"
	    " FROM cdr c JOIN rating r ON r.cdr_id = c.id"
	    " LEFT JOIN tariff_version v ON v.id = r.version_id"
	    " WHERE c.batch_id = ?1 ORDER BY c.id", e);
	int rc, stop = 0;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, batch);
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct stored_cdr sc;
		struct stored_rating sr;

		row_cdr(st, &sc);
		memset(&sr, 0, sizeof sr);
		sr.version = sqlite3_column_int64(st, 16);
		sr.status = text(st, 17);
		sr.cls = sqlite3_column_type(st, 18) == SQLITE_NULL ? NULL : text(st, 18);
		sr.payer = text(st, 19);
		sr.reason = text(st, 20);
		sr.billed_seconds = sqlite3_column_int64(st, 21);
		sr.amount = sqlite3_column_int64(st, 22);
		sr.before.tier_pos = sqlite3_column_int64(st, 23);
		sr.before.test_used = sqlite3_column_int64(st, 24);
		sr.before.volume_total = sqlite3_column_int64(st, 25);
		sr.destination = text(st, 26);
		sr.prefix = text(st, 27);
		sr.reseller = text(st, 28);
		sr.before.bundle_sub = sqlite3_column_int(st, 29);
		sr.before.bundle_seq = sqlite3_column_int(st, 30);
		sr.before.bundle_left = sqlite3_column_int64(st, 31);
		if (load_pieces(s, sc.id, &sr, e) != 0) {
			stop = -1;
			break;
		}
		stop = fn(&sc, &sr, arg);
	}
	if (stop == -1) {
		unprep(s, st);
		return -1;
	}
	return walk_end(s, st, rc, stop, "list batch ratings", e);
}

/* ---- usage and unrated reports ----------------------------------------- */

/* A usage query: ?1 the period, ?2 an account or NULL, ?3 a reseller or NULL. */
static sqlite3_stmt *
usage_query(struct store *s, const char *sql, const char *period,
    const char *account, const char *reseller, struct terr *e)
{
	sqlite3_stmt *st = prep(s, sql, e);

	if (st) {
		sqlite3_bind_text(st, 1, period, -1, SQLITE_STATIC);
		bind_opt(st, 2, account);
		bind_opt(st, 3, reseller);
	}
	return st;
}

int
store_each_usage(struct store *s, const char *period, const char *account,
    const char *reseller, int (*fn)(const struct usage_row *, void *), void *arg,
    struct terr *e)
{
	sqlite3_stmt *st = usage_query(s, "SELECT r.payer, r.class, v.currency, count(*),"
	    " sum(r.seconds), sum(r.billed_seconds), sum(r.amount) FROM rating r"
	    " JOIN tariff_version v ON v.id = r.version_id"
	    " WHERE r.period = ?1 AND r.class IS NOT NULL AND r.status <> 'unrated'"
	    " AND (?2 IS NULL OR r.payer = ?2) AND (?3 IS NULL OR v.reseller = ?3)"
	    " GROUP BY r.payer, r.class ORDER BY r.payer, r.class", period, account,
	    reseller, e);
	int rc, stop = 0;

	if (st == NULL)
		return -1;
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct usage_row u = {
			.account = text(st, 0), .cls = text(st, 1), .currency = text(st, 2),
			.calls = sqlite3_column_int64(st, 3),
			.seconds = sqlite3_column_int64(st, 4),
			.billed_seconds = sqlite3_column_int64(st, 5),
			.amount = sqlite3_column_int64(st, 6),
		};
		stop = fn(&u, arg);
	}
	if ((stop = walk_end(s, st, rc, stop, "usage", e)) < 0 &&
	    strstr(e->msg, "integer overflow"))
		return terr_set(e, "usage of %s%s%s: the sum of an account's charges does not "
		    "fit in 64-bit micro-units (overflow); nothing computed", period,
		    account ? ", account " : "", account ? account : "");
	return stop;
}

int
store_each_usage_piece(struct store *s, const char *period, const char *account,
    const char *reseller, int (*fn)(const struct usage_piece_row *, void *),
    void *arg, struct terr *e)
{
	sqlite3_stmt *st = usage_query(s, "SELECT r.payer, r.class, p.kind, p.label,"
	    " sum(p.seconds), sum(p.exact) FROM rating r JOIN rating_piece p ON"
	    " p.cdr_id = r.cdr_id JOIN tariff_version v ON v.id = r.version_id"
	    " WHERE r.period = ?1 AND r.status = 'rated'"
	    " AND (?2 IS NULL OR r.payer = ?2) AND (?3 IS NULL OR v.reseller = ?3)"
	    " GROUP BY r.payer, r.class, p.kind, p.label"
	    " ORDER BY r.payer, r.class, p.kind, p.label", period, account, reseller, e);
	int rc, stop = 0;

	if (st == NULL)
		return -1;
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct usage_piece_row u = {
			.account = text(st, 0), .cls = text(st, 1), .kind = text(st, 2),
			.label = text(st, 3), .seconds = sqlite3_column_int64(st, 4),
			.exact = sqlite3_column_int64(st, 5),
		};
		stop = fn(&u, arg);
	}
	if ((stop = walk_end(s, st, rc, stop, "usage pieces", e)) < 0 &&
	    strstr(e->msg, "integer overflow"))
		return terr_set(e, "usage pieces of %s%s%s: the sum of an account's charges does not "
		    "fit in 64-bit micro-units (overflow); nothing computed", period,
		    account ? ", account " : "", account ? account : "");
	return stop;
}

int
store_each_unrated(struct store *s, const char *period,
    int (*fn)(const struct unrated_row *, void *), void *arg, struct terr *e)
{
	sqlite3_stmt *st = prep(s, "SELECT c.id, c.source, c.record_key, c.account,"
	    " c.callee, r.reason, c.start_ts FROM rating r JOIN cdr c ON c.id = r.cdr_id"
	    " WHERE r.status = 'unrated' AND (?1 IS NULL OR r.period = ?1) ORDER BY c.id", e);
	int rc, stop = 0;

	if (st == NULL)
		return -1;
	bind_opt(st, 1, period);
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct unrated_row u = {
			.cdr = sqlite3_column_int64(st, 0), .source = text(st, 1),
			.record_key = text(st, 2), .account = text(st, 3),
			.callee = text(st, 4), .reason = text(st, 5),
			.start = sqlite3_column_int64(st, 6),
		};
		stop = fn(&u, arg);
	}
	return walk_end(s, st, rc, stop, "unrated", e);
}

/* ---- bundles ------------------------------------------------------------ */

int
store_last_period(struct store *s, char out[8], struct terr *e)
{
	sqlite3_stmt *st = prep(s, "SELECT coalesce(max(p), '') FROM (SELECT max(period) AS p"
	    " FROM rating UNION ALL SELECT max(period) FROM bundle_horizon)", e);
	int rc;

	if (st == NULL)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		tally_strlcpy(out, text(st, 0), 8);
	unprep(s, st);
	return rc == SQLITE_ROW ? 0 : db_error(s, e, "find the last period");
}

int
store_bundle_horizon(struct store *s, const char *payer, int64_t *version, char period[8],
    struct terr *e)
{
	sqlite3_stmt *st = prep(s, "SELECT version_id, period FROM bundle_horizon"
	    " WHERE payer = ?1", e);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, payer, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*version = sqlite3_column_int64(st, 0);
		tally_strlcpy(period, text(st, 1), 8);
	}
	unprep(s, st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_error(s, e, "read bundle horizon");
	return rc == SQLITE_ROW;
}

int
store_each_bundle_payer(struct store *s, int (*fn)(const char *payer, void *), void *arg,
    struct terr *e)
{
	sqlite3_stmt *st = prep(s, "SELECT payer FROM bundle_horizon ORDER BY payer", e);
	int rc, stop = 0;

	if (st == NULL)
		return -1;
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW)
		stop = fn(text(st, 0), arg);
	return walk_end(s, st, rc, stop, "list bundle payers", e);
}

int
store_bundle_reset(struct store *s, const char *payer, struct terr *e)
{
	static const char *const sql[] = {
		"DELETE FROM bundle_window WHERE payer = ?1",
		"DELETE FROM bundle_horizon WHERE payer = ?1",
	};

	for (int i = 0; i < 2; i++) {
		sqlite3_stmt *st = prep(s, sql[i], e);

		if (st == NULL)
			return -1;
		sqlite3_bind_text(st, 1, payer, -1, SQLITE_STATIC);
		if (step_done(s, st, "reset bundle windows", e) != 0) {
			unprep(s, st);
			return -1;
		}
		unprep(s, st);
	}
	return 0;
}

int
store_bundle_horizon_put(struct store *s, const char *payer, int64_t version,
    const char *period, struct terr *e)
{
	sqlite3_stmt *st = prep(s, "INSERT OR REPLACE INTO bundle_horizon (payer, version_id,"
	    " period) VALUES (?1, ?2, ?3)", e);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, payer, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, version);
	sqlite3_bind_text(st, 3, period, -1, SQLITE_STATIC);
	rc = step_done(s, st, "put bundle horizon", e);
	unprep(s, st);
	return rc;
}

#define WINDOW_COLUMNS "payer, seq, version_id, bundle, class, activated, start_ts, end_ts," \
	" start_local, end_local, ended, granted, rolled_in, used, rolled_out, forfeited," \
	" price, tax_included, period_from, period_to"

/* A bundle_window row of WINDOW_COLUMNS (the strings live until the next
 * step). */
static void
row_window(sqlite3_stmt *st, struct window_row *w)
{
	*w = (struct window_row){
		.payer = text(st, 0), .seq = sqlite3_column_int(st, 1),
		.version = sqlite3_column_int64(st, 2), .bundle = text(st, 3),
		.cls = text(st, 4), .activated = sqlite3_column_int64(st, 5),
		.start = sqlite3_column_int64(st, 6), .end = sqlite3_column_int64(st, 7),
		.start_local = text(st, 8), .end_local = text(st, 9),
		.ended = text(st, 10), .granted = sqlite3_column_int64(st, 11),
		.rolled_in = sqlite3_column_int64(st, 12), .used = sqlite3_column_int64(st, 13),
		.rolled_out = sqlite3_column_int64(st, 14),
		.forfeited = sqlite3_column_int64(st, 15), .price = sqlite3_column_int64(st, 16),
		.tax_included = sqlite3_column_int(st, 17),
		.period_from = text(st, 18), .period_to = text(st, 19),
	};
}

int
store_bundle_window_put(struct store *s, const struct window_row *w, struct terr *e)
{
	sqlite3_stmt *st = prep(s, "INSERT INTO bundle_window (" WINDOW_COLUMNS ") VALUES"
	    " (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,"
	    " ?18, ?19, ?20)", e);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, w->payer, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, w->seq);
	sqlite3_bind_int64(st, 3, w->version);
	sqlite3_bind_text(st, 4, w->bundle, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, w->cls, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, w->activated);
	sqlite3_bind_int64(st, 7, w->start);
	sqlite3_bind_int64(st, 8, w->end);
	sqlite3_bind_text(st, 9, w->start_local, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 10, w->end_local, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 11, w->ended, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 12, w->granted);
	sqlite3_bind_int64(st, 13, w->rolled_in);
	sqlite3_bind_int64(st, 14, w->used);
	sqlite3_bind_int64(st, 15, w->rolled_out);
	sqlite3_bind_int64(st, 16, w->forfeited);
	sqlite3_bind_int64(st, 17, w->price);
	sqlite3_bind_int(st, 18, w->tax_included);
	sqlite3_bind_text(st, 19, w->period_from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 20, w->period_to, -1, SQLITE_STATIC);
	rc = step_done(s, st, "put bundle window", e);
	unprep(s, st);
	return rc;
}

int
store_each_window(struct store *s, const char *period, const char *account,
    const char *reseller, int (*fn)(const struct window_row *, void *), void *arg,
    struct terr *e)
{
	/* the windows in force during the period, and those charged in it */
	sqlite3_stmt *st = usage_query(s, "SELECT " WINDOW_COLUMNS ", v.currency FROM"
	    " bundle_window w JOIN tariff_version v ON v.id = w.version_id"
	    " WHERE (?1 IS NULL OR (w.period_from <= ?1 AND w.period_to >= ?1))"
	    " AND (?2 IS NULL OR w.payer = ?2) AND (?3 IS NULL OR v.reseller = ?3)"
	    " ORDER BY w.payer, w.seq", period, account, reseller, e);
	int rc, stop = 0;

	if (st == NULL)
		return -1;
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct window_row w;

		row_window(st, &w);
		w.currency = text(st, 20);
		stop = fn(&w, arg);
	}
	return walk_end(s, st, rc, stop, "bundle windows", e);
}

int
store_each_payer_cdr(struct store *s, const char *payer,
    int (*fn)(const struct stored_cdr *, void *), void *arg, struct terr *e)
{
	sqlite3_stmt *st = prep(s, "SELECT " CDR_COLUMNS ", r.payer, r.period FROM"
	    " rating r JOIN cdr c ON c.id = r.cdr_id WHERE r.payer = ?1"
	    " ORDER BY r.period, c.start_ts, c.source, c.record_key", e);
	int rc, stop = 0;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, payer, -1, SQLITE_STATIC);
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct stored_cdr sc;

		row_cdr(st, &sc);
		sc.rated = 1;
		sc.payer = text(st, 16);
		sc.period = text(st, 17);
		stop = fn(&sc, arg);
	}
	return walk_end(s, st, rc, stop, "list a payer's CDRs", e);
}

/* ---- invoices ----------------------------------------------------------- */

/* Run a one-off statement with its text binds (NULL binds NULL) to the end;
 * with `out`, read the first column of the first row (0 when none). */
static int
run_sql(struct store *s, const char *sql, int64_t *out, struct terr *e, int n, ...)
{
	sqlite3_stmt *st = prep(s, sql, e);
	va_list ap;
	int rc;

	if (st == NULL)
		return -1;
	va_start(ap, n);
	for (int i = 1; i <= n; i++)
		bind_opt(st, i, va_arg(ap, const char *));
	va_end(ap);
	if (out)
		*out = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (out)
			*out = sqlite3_column_int64(st, 0), out = NULL;
	unprep(s, st);
	if (rc != SQLITE_DONE)
		return db_error(s, e, "query");
	return 0;
}

int
store_generation(struct store *s, int64_t *gen, struct terr *e)
{
	return query_int(s, "SELECT value FROM generation", gen, e);
}

int
store_bump_generation(struct store *s, struct terr *e)
{
	return exec(s, "UPDATE generation SET value = value + 1", e);
}

/* Is `number` its prefix and at least six digits, nothing cut? */
static int
number_whole(const char *number, const char *prefix)
{
	size_t n = strlen(number), p = prefix ? strlen(prefix) : 0;

	return n < TARIFF_NUMBER_SIZE && (prefix == NULL || (p <= TARIFF_PREFIX_MAX &&
	    strncmp(number, prefix, p) == 0 && n >= p + 6 &&
	    strspn(number + p, "0123456789") == n - p));
}

int
store_invoice_add(struct store *s, const struct invoice_row *r,
    const struct bill_line *l, int n, const struct bill_totals *t, int64_t *id,
    struct terr *e)
{
	sqlite3_stmt *st = prep(s, "INSERT INTO invoice (kind, number, status, issuer,"
	    " account, name, period, first_day, last_day, date, version_id, currency,"
	    " decimals, prefix, credit_prefix, subtotal, tax, total, previous, payments,"
	    " due, refers_to, reason, generation, issued_at) VALUES (?1, ?2, ?3, ?4, ?5,"
	    " ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21,"
	    " ?22, ?23, ?24, ?25)", e);

	if (st == NULL)
		return -1;
	/* a number is never cut: refuse a prefix that leaves no room for the
	 * digits (a tariff version loaded before validation refused them) */
	if ((r->prefix && strlen(r->prefix) > TARIFF_PREFIX_MAX) ||
	    (r->credit_prefix && strlen(r->credit_prefix) > TARIFF_PREFIX_MAX)) {
		unprep(s, st);
		return terr_set(e, "%s %s: invoice_prefix \"%s\" or credit_prefix \"%s\" is "
		    "longer than %d characters, and its numbers would be cut: load a tariff "
		    "version with a shorter one; nothing stored", r->account, r->period,
		    r->prefix ? r->prefix : "", r->credit_prefix ? r->credit_prefix : "",
		    TARIFF_PREFIX_MAX);
	}
	if (r->number && !number_whole(r->number, r->credit_prefix)) {
		unprep(s, st);
		return terr_set(e, "%s %s: number \"%s\" is not its prefix and six or more "
		    "digits: a number is never cut; nothing stored", r->account, r->period,
		    r->number);
	}
	bind_opt(st, 1, r->kind);
	bind_opt(st, 2, r->number);
	bind_opt(st, 3, r->status);
	bind_opt(st, 4, r->issuer);
	bind_opt(st, 5, r->account);
	bind_opt(st, 6, r->name);
	bind_opt(st, 7, r->period);
	bind_opt(st, 8, r->first_day);
	bind_opt(st, 9, r->last_day);
	bind_opt(st, 10, r->date);
	sqlite3_bind_int64(st, 11, r->version);
	bind_opt(st, 12, r->currency);
	sqlite3_bind_int(st, 13, r->decimals);
	bind_opt(st, 14, r->prefix);
	bind_opt(st, 15, r->credit_prefix);
	sqlite3_bind_int64(st, 16, t->subtotal);
	sqlite3_bind_int64(st, 17, t->tax);
	sqlite3_bind_int64(st, 18, t->total);
	sqlite3_bind_int64(st, 19, r->previous);
	sqlite3_bind_int64(st, 20, r->payments);
	sqlite3_bind_int64(st, 21, r->due);
	if (r->refers_to)
		sqlite3_bind_int64(st, 22, r->refers_to);
	else
		sqlite3_bind_null(st, 22);
	bind_opt(st, 23, r->reason ? r->reason : "");
	sqlite3_bind_int64(st, 24, r->generation);
	if (r->number)
		sqlite3_bind_int64(st, 25, (int64_t)time(NULL));
	else
		sqlite3_bind_null(st, 25);
	if (sqlite3_step(st) != SQLITE_DONE) {
		unprep(s, st);
		return db_error(s, e, "add an invoice");
	}
	unprep(s, st);
	*id = sqlite3_last_insert_rowid(s->db);
	if ((st = prep(s, "INSERT INTO invoice_line (invoice_id, seq, kind, description,"
	    " quantity, unit_price, exact, amount, tax_rate, tax_included, tax, net, ref)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)", e)) == NULL)
		return -1;
	for (int i = 0; i < n; i++) {
		sqlite3_bind_int64(st, 1, *id);
		sqlite3_bind_int(st, 2, i + 1);
		sqlite3_bind_text(st, 3, bill_kind_name(l[i].kind), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, l[i].description, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, l[i].quantity, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 6, l[i].unit_price);
		sqlite3_bind_int64(st, 7, l[i].exact);
		sqlite3_bind_int64(st, 8, l[i].amount);
		sqlite3_bind_int(st, 9, l[i].tax_rate);
		sqlite3_bind_int(st, 10, l[i].tax_included);
		sqlite3_bind_int64(st, 11, l[i].tax);
		sqlite3_bind_int64(st, 12, l[i].net);
		sqlite3_bind_text(st, 13, l[i].ref, -1, SQLITE_STATIC);
		if (step_done(s, st, "add an invoice line", e) != 0) {
			unprep(s, st);
			return -1;
		}
	}
	unprep(s, st);
	if ((st = prep(s, "INSERT INTO invoice_tax (invoice_id, seq, rate, included, exact,"
	    " base, tax) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", e)) == NULL)
		return -1;
	for (int g = 0; g < t->ng; g++) {
		sqlite3_bind_int64(st, 1, *id);
		sqlite3_bind_int(st, 2, g + 1);
		sqlite3_bind_int(st, 3, t->g[g].rate);
		sqlite3_bind_int(st, 4, t->g[g].included);
		sqlite3_bind_int64(st, 5, t->g[g].exact);
		sqlite3_bind_int64(st, 6, t->g[g].base);
		sqlite3_bind_int64(st, 7, t->g[g].tax);
		if (step_done(s, st, "add an invoice tax", e) != 0) {
			unprep(s, st);
			return -1;
		}
	}
	unprep(s, st);
	return 0;
}

int
store_invoice_add_cdr(struct store *s, int64_t invoice, int64_t cdr, struct terr *e)
{
	sqlite3_stmt *st = stmt(s, S_INVOICE_CDR, e);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, cdr);
	sqlite3_bind_int64(st, 2, invoice);
	return step_done(s, st, "add an invoice's call", e);
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
		if (run_sql(s, sql[i], NULL, e, 2, account, period) != 0)
			return -1;
	return 0;
}

int
store_invoice_issued_for(struct store *s, const char *account, const char *period,
    int64_t *id, struct terr *e)
{
	if (run_sql(s, "SELECT id FROM invoice WHERE account = ?1 AND period = ?2"
	    " AND kind = 'invoice' AND status = 'issued'", id, e, 2, account, period) != 0)
		return -1;
	return *id != 0;
}

int
store_sequence_next(struct store *s, const char *issuer, const char *kind,
    int64_t *next, struct terr *e)
{
	if (run_sql(s, "INSERT INTO sequence (issuer, kind, last) VALUES (?1, ?2, 1)"
	    " ON CONFLICT (issuer, kind) DO UPDATE SET last = last + 1", NULL, e, 2,
	    issuer, kind) != 0)
		return -1;
	return run_sql(s, "SELECT last FROM sequence WHERE issuer = ?1 AND kind = ?2",
	    next, e, 2, issuer, kind);
}

int
store_invoice_set_issued(struct store *s, int64_t id, const char *number,
    int64_t issued_at, struct terr *e)
{
	char a[24], b[24], pmax[8], nmax[8];
	int64_t cut;

	snprintf(pmax, sizeof pmax, "%d", TARIFF_PREFIX_MAX);
	snprintf(nmax, sizeof nmax, "%d", TARIFF_NUMBER_SIZE);

	snprintf(a, sizeof a, "%lld", (long long)id);
	snprintf(b, sizeof b, "%lld", (long long)issued_at);
	if (run_sql(s, "SELECT prefix FROM invoice WHERE id = CAST(?1 AS INTEGER)"
	    " AND status = 'draft' AND (length(prefix) > CAST(?3 AS INTEGER)"
	    " OR length(?2) >= CAST(?4 AS INTEGER)"
	    " OR substr(?2, 1, length(prefix)) <> prefix OR length(?2) < length(prefix) + 6"
	    " OR substr(?2, length(prefix) + 1) GLOB '*[^0-9]*')", &cut, e, 4, a, number,
	    pmax, nmax) != 0)
		return -1;
	if (cut)	/* a number is never cut: refuse rather than store it */
		return terr_set(e, "invoice number \"%s\" is not its prefix and six or more "
		    "digits in fewer than %d characters: load a tariff version with a shorter "
		    "invoice_prefix; nothing issued", number, TARIFF_NUMBER_SIZE);
	return run_sql(s, "UPDATE invoice SET number = ?2, status = 'issued', issued_at ="
	    " CAST(?3 AS INTEGER) WHERE id = CAST(?1 AS INTEGER) AND status = 'draft'",
	    NULL, e, 3, a, number, b);
}

int
store_invoice_set_status(struct store *s, int64_t id, const char *status, struct terr *e)
{
	char a[24];

	snprintf(a, sizeof a, "%lld", (long long)id);
	return run_sql(s, "UPDATE invoice SET status = ?2 WHERE id = CAST(?1 AS INTEGER)",
	    NULL, e, 2, a, status);
}

int
store_invoice_credited(struct store *s, int64_t id, money *sum, struct terr *e)
{
	char a[24];

	snprintf(a, sizeof a, "%lld", (long long)id);
	return run_sql(s, "SELECT coalesce(sum(total), 0) FROM invoice WHERE kind = 'credit'"
	    " AND refers_to = CAST(?1 AS INTEGER)", sum, e, 1, a);
}

#define INVOICE_COLUMNS "i.id, i.kind, i.number, i.status, i.issuer, i.account, i.name," \
	" i.period, i.first_day, i.last_day, i.date, i.currency, i.prefix, i.credit_prefix," \
	" i.reason, r.number, i.version_id, i.refers_to, i.generation, i.decimals," \
	" i.subtotal, i.tax, i.total, i.previous, i.payments, i.due"

int
store_each_invoice(struct store *s, const struct invoice_filter *f,
    int (*fn)(const struct invoice_row *, void *), void *arg, struct terr *e)
{
	sqlite3_stmt *st = prep(s, "SELECT " INVOICE_COLUMNS " FROM invoice i"
	    " LEFT JOIN invoice r ON r.id = i.refers_to"
	    " WHERE (?1 IS NULL OR i.number = ?1) AND (?2 IS NULL OR i.period = ?2)"
	    " AND (?3 IS NULL OR i.account = ?3) AND (?4 IS NULL OR i.issuer = ?4)"
	    " AND (?5 IS NULL OR i.status = ?5) AND (?6 IS NULL OR i.kind = ?6)"
	    " AND (?7 = 0 OR i.id = ?7)"
	    " ORDER BY i.issuer, i.period, i.account, i.id", e);
	int rc, stop = 0;

	if (st == NULL)
		return -1;
	bind_opt(st, 1, f->number);
	bind_opt(st, 2, f->period);
	bind_opt(st, 3, f->account);
	bind_opt(st, 4, f->issuer);
	bind_opt(st, 5, f->status);
	bind_opt(st, 6, f->kind);
	sqlite3_bind_int64(st, 7, f->id);
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct invoice_row r = {
			.id = sqlite3_column_int64(st, 0), .kind = text(st, 1),
			.number = sqlite3_column_type(st, 2) == SQLITE_NULL ? NULL : text(st, 2),
			.status = text(st, 3), .issuer = text(st, 4), .account = text(st, 5),
			.name = text(st, 6), .period = text(st, 7), .first_day = text(st, 8),
			.last_day = text(st, 9), .date = text(st, 10), .currency = text(st, 11),
			.prefix = text(st, 12), .credit_prefix = text(st, 13),
			.reason = text(st, 14), .refers_number = text(st, 15),
			.version = sqlite3_column_int64(st, 16),
			.refers_to = sqlite3_column_int64(st, 17),
			.generation = sqlite3_column_int64(st, 18),
			.decimals = sqlite3_column_int(st, 19),
			.subtotal = sqlite3_column_int64(st, 20),
			.tax = sqlite3_column_int64(st, 21), .total = sqlite3_column_int64(st, 22),
			.previous = sqlite3_column_int64(st, 23),
			.payments = sqlite3_column_int64(st, 24), .due = sqlite3_column_int64(st, 25),
		};
		stop = fn(&r, arg);
	}
	return walk_end(s, st, rc, stop, "list invoices", e);
}

int
store_each_invoice_line(struct store *s, int64_t invoice,
    int (*fn)(const struct bill_line *, void *), void *arg, struct terr *e)
{
	sqlite3_stmt *st = prep(s, "SELECT kind, description, quantity, unit_price, exact,"
	    " amount, tax_rate, tax_included, tax, net, ref FROM invoice_line"
	    " WHERE invoice_id = ?1 ORDER BY seq", e);
	int rc, stop = 0;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, invoice);
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct bill_line l = { 0 };

		for (int k = 0; k <= BL_CREDIT; k++)
			if (strcmp(text(st, 0), bill_kind_name((enum bill_kind)k)) == 0)
				l.kind = (enum bill_kind)k;
		tally_strlcpy(l.description, text(st, 1), sizeof l.description);
		tally_strlcpy(l.quantity, text(st, 2), sizeof l.quantity);
		l.unit_price = sqlite3_column_int64(st, 3);
		l.exact = sqlite3_column_int64(st, 4);
		l.amount = sqlite3_column_int64(st, 5);
		l.tax_rate = sqlite3_column_int(st, 6);
		l.tax_included = sqlite3_column_int(st, 7);
		l.tax = sqlite3_column_int64(st, 8);
		l.net = sqlite3_column_int64(st, 9);
		tally_strlcpy(l.ref, text(st, 10), sizeof l.ref);
		stop = fn(&l, arg);
	}
	return walk_end(s, st, rc, stop, "list invoice lines", e);
}

int
store_each_invoice_tax(struct store *s, int64_t invoice,
    int (*fn)(const struct bill_taxgroup *, void *), void *arg, struct terr *e)
{
	sqlite3_stmt *st = prep(s, "SELECT rate, included, exact, base, tax FROM invoice_tax"
	    " WHERE invoice_id = ?1 ORDER BY seq", e);
	int rc, stop = 0;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, invoice);
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct bill_taxgroup g = {
			.rate = sqlite3_column_int(st, 0), .included = sqlite3_column_int(st, 1),
			.exact = sqlite3_column_int64(st, 2), .base = sqlite3_column_int64(st, 3),
			.tax = sqlite3_column_int64(st, 4),
		};
		stop = fn(&g, arg);
	}
	return walk_end(s, st, rc, stop, "list invoice taxes", e);
}

int
store_each_invoice_call(struct store *s, int64_t invoice,
    int (*fn)(const struct invoice_call *, void *), void *arg, struct terr *e)
{
	sqlite3_stmt *st = prep(s, "SELECT c.id, c.start_ts, coalesce(i.seconds, r.seconds, 0),"
	    " coalesce(i.billed_seconds, r.billed_seconds, 0), c.caller, c.callee,"
	    " coalesce(i.destination, r.destination, ''), coalesce(i.class, r.class, ''),"
	    " coalesce(r.period, ''), coalesce(i.amount, r.amount, 0)"
	    " FROM invoice_cdr i JOIN cdr c ON c.id = i.cdr_id"
	    " LEFT JOIN rating r ON r.cdr_id = i.cdr_id"
	    " WHERE i.invoice_id = ?1 ORDER BY c.start_ts, c.id", e);
	int rc, stop = 0;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, invoice);
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct invoice_call c = {
			.cdr = sqlite3_column_int64(st, 0), .start_ts = sqlite3_column_int64(st, 1),
			.seconds = sqlite3_column_int64(st, 2),
			.billed_seconds = sqlite3_column_int64(st, 3),
			.caller = (const char *)sqlite3_column_text(st, 4),
			.callee = (const char *)sqlite3_column_text(st, 5),
			.destination = (const char *)sqlite3_column_text(st, 6),
			.class = (const char *)sqlite3_column_text(st, 7),
			.period = (const char *)sqlite3_column_text(st, 8),
			.amount = sqlite3_column_int64(st, 9),
		};
		stop = fn(&c, arg);
	}
	return walk_end(s, st, rc, stop, "list invoice calls", e);
}

int
store_each_revenue(struct store *s, const char *period, const char *issuer,
    int (*fn)(const struct revenue_row *, void *), void *arg, struct terr *e)
{
	sqlite3_stmt *st = prep(s, "SELECT i.issuer, i.currency, i.account, l.kind,"
	    " i.version_id, count(*), l.tax_rate, l.tax_included, i.decimals, sum(l.net),"
	    " sum(l.tax), sum(l.amount)"
	    " FROM invoice i JOIN invoice_line l ON l.invoice_id = i.id"
	    " WHERE i.period = ?1 AND i.number IS NOT NULL AND (?2 IS NULL OR i.issuer = ?2)"
	    " GROUP BY i.issuer, i.currency, i.account, l.kind, i.version_id, l.tax_rate,"
	    " l.tax_included ORDER BY 1, 2, 3, 4, 5, 7, 8", e);
	int rc, stop = 0;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, period, -1, SQLITE_STATIC);
	bind_opt(st, 2, issuer);
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct revenue_row r = {
			.issuer = (const char *)sqlite3_column_text(st, 0),
			.currency = (const char *)sqlite3_column_text(st, 1),
			.account = (const char *)sqlite3_column_text(st, 2),
			.kind = (const char *)sqlite3_column_text(st, 3),
			.version = sqlite3_column_int64(st, 4), .lines = sqlite3_column_int64(st, 5),
			.tax_rate = sqlite3_column_int(st, 6), .tax_included = sqlite3_column_int(st, 7),
			.decimals = sqlite3_column_int(st, 8), .net = sqlite3_column_int64(st, 9),
			.tax = sqlite3_column_int64(st, 10), .amount = sqlite3_column_int64(st, 11),
		};
		stop = fn(&r, arg);
	}
	if ((stop = walk_end(s, st, rc, stop, "sum revenue", e)) < 0 &&
	    strstr(e->msg, "integer overflow"))
		return terr_set(e, "revenue of %s%s%s: the sum of an account's invoice lines "
		    "does not fit in 64-bit micro-units (overflow); nothing computed", period,
		    issuer ? ", reseller " : "", issuer ? issuer : "");
	return stop;
}

int
store_each_top(struct store *s, const char *period, const char *reseller, int limit,
    int (*fn)(const struct top_row *, void *), void *arg, struct terr *e)
{
	sqlite3_stmt *st = prep(s, "SELECT reseller, destination, calls, seconds, billed, amount"
	    " FROM (SELECT a.reseller, CASE WHEN r.destination <> '' THEN r.destination"
	    "   ELSE coalesce(r.class, '') END AS destination, count(*) AS calls,"
	    "   sum(r.seconds) AS seconds, sum(r.billed_seconds) AS billed,"
	    "   sum(r.amount) AS amount, row_number() OVER (PARTITION BY a.reseller"
	    "   ORDER BY sum(r.amount) DESC, count(*) DESC, CASE WHEN r.destination <> ''"
	    "   THEN r.destination ELSE coalesce(r.class, '') END) AS n"
	    "   FROM rating r JOIN account a ON a.id = r.payer"
	    "   WHERE r.period = ?1 AND r.status = 'rated' AND (?2 IS NULL OR a.reseller = ?2)"
	    "   GROUP BY a.reseller, 2)"
	    " WHERE n <= ?3 ORDER BY reseller, n", e);
	int rc, stop = 0;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, period, -1, SQLITE_STATIC);
	bind_opt(st, 2, reseller);
	sqlite3_bind_int(st, 3, limit);
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct top_row r = {
			.reseller = (const char *)sqlite3_column_text(st, 0),
			.destination = (const char *)sqlite3_column_text(st, 1),
			.calls = sqlite3_column_int64(st, 2), .seconds = sqlite3_column_int64(st, 3),
			.billed_seconds = sqlite3_column_int64(st, 4),
			.amount = sqlite3_column_int64(st, 5),
		};
		stop = fn(&r, arg);
	}
	return walk_end(s, st, rc, stop, "list top destinations", e);
}

int
store_each_feed(struct store *s, int (*fn)(const struct feed_row *, void *), void *arg,
    struct terr *e)
{
	sqlite3_stmt *st = prep(s, "SELECT b.source, count(*), sum(b.read), sum(b.accepted),"
	    " sum(b.duplicates), sum(b.rejected), (SELECT coalesce(max(c.start_ts), 0) FROM cdr c"
	    " WHERE c.source = b.source) FROM batch b WHERE b.file LIKE '%.lines'"
	    " GROUP BY b.source ORDER BY b.source", e);
	int rc, stop = 0;

	if (st == NULL)
		return -1;
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct feed_row r = {
			.source = (const char *)sqlite3_column_text(st, 0),
			.files = sqlite3_column_int64(st, 1), .read = sqlite3_column_int64(st, 2),
			.accepted = sqlite3_column_int64(st, 3),
			.duplicates = sqlite3_column_int64(st, 4),
			.rejected = sqlite3_column_int64(st, 5),
			.last_start = sqlite3_column_int64(st, 6),
		};
		stop = fn(&r, arg);
	}
	return walk_end(s, st, rc, stop, "list feeds", e);
}

int
store_ref_charged(struct store *s, const char *ref, struct terr *e)
{
	int64_t n;

	if (run_sql(s, "SELECT count(*) FROM invoice_line l JOIN invoice i ON i.id ="
	    " l.invoice_id WHERE l.ref = ?1 AND l.ref <> '' AND i.status = 'issued'"
	    " AND i.kind = 'invoice'",
	    &n, e, 1, ref) != 0)
		return -1;
	return n > 0;
}

int
store_each_bill_piece(struct store *s, const char *payer, const char *period,
    int (*fn)(const struct bill_piece *, void *), void *arg, struct terr *e)
{
	sqlite3_stmt *st = prep(s, "SELECT r.cdr_id, r.period, coalesce(r.class, ''),"
	    " r.destination, p.kind, p.label, p.seq, p.seconds, p.price, r.amount, p.exact,"
	    " EXISTS (SELECT 1 FROM invoice_cdr ic JOIN invoice i ON i.id = ic.invoice_id"
	    " WHERE ic.cdr_id = r.cdr_id AND i.status = 'issued')"
	    " FROM rating r JOIN rating_piece p ON p.cdr_id = r.cdr_id"
	    " WHERE r.payer = ?1 AND r.period = ?2 AND r.status = 'rated'"
	    " ORDER BY r.cdr_id, p.seq", e);
	int rc, stop = 0;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, payer, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, period, -1, SQLITE_STATIC);
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct bill_piece p = {
			.cdr = sqlite3_column_int64(st, 0), .period = text(st, 1),
			.cls = text(st, 2), .destination = text(st, 3), .kind = text(st, 4),
			.label = text(st, 5), .seq = sqlite3_column_int(st, 6),
			.seconds = sqlite3_column_int64(st, 7), .price = sqlite3_column_int64(st, 8),
			.amount = sqlite3_column_int64(st, 9), .exact = sqlite3_column_int64(st, 10),
			.invoiced = sqlite3_column_int(st, 11),
		};
		stop = fn(&p, arg);
	}
	return walk_end(s, st, rc, stop, "list a payer's usage", e);
}

int
store_each_invoiced_usage(struct store *s, const char *payer, const char *period,
    int (*fn)(const struct usage_group *, void *), void *arg, struct terr *e)
{
	sqlite3_stmt *st = prep(s, "SELECT u.period, u.class, u.destination, u.kind, u.label,"
	    " u.price, sum(u.seconds), sum(u.count), sum(u.exact)"
	    " FROM invoice i JOIN invoice_usage u ON u.invoice_id = i.id"
	    " WHERE i.account = ?1 AND i.kind = 'invoice' AND i.status = 'issued'"
	    " AND u.period = ?2 GROUP BY u.class, u.destination, u.kind, u.label, u.price"
	    " ORDER BY u.class, u.destination, u.kind, u.label, u.price", e);
	int rc, stop = 0;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, payer, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, period, -1, SQLITE_STATIC);
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct usage_group g = {
			.period = text(st, 0), .cls = text(st, 1), .destination = text(st, 2),
			.kind = text(st, 3), .label = text(st, 4), .price = sqlite3_column_int64(st, 5),
			.seconds = sqlite3_column_int64(st, 6), .count = sqlite3_column_int64(st, 7),
			.exact = sqlite3_column_int64(st, 8),
		};
		stop = fn(&g, arg);
	}
	return walk_end(s, st, rc, stop, "list a period's invoiced usage", e);
}

int
store_usage_basis(struct store *s, const char *payer, const char *period, int64_t *n,
    struct terr *e)
{
	return run_sql(s, "SELECT count(DISTINCT i.id) FROM invoice i JOIN invoice_usage u"
	    " ON u.invoice_id = i.id WHERE i.account = ?1 AND i.kind = 'invoice'"
	    " AND i.status = 'issued' AND u.period = ?2", n, e, 2, payer, period);
}

int
store_invoice_add_usage(struct store *s, int64_t invoice, const struct usage_group *g,
    int64_t basis, struct terr *e)
{
	sqlite3_stmt *st = prep(s, "INSERT INTO invoice_usage (invoice_id, period, class,"
	    " destination, kind, label, price, seconds, count, exact, basis)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)", e);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, invoice);
	sqlite3_bind_text(st, 2, g->period, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, g->cls, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, g->destination, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, g->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, g->label, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, g->price);
	sqlite3_bind_int64(st, 8, g->seconds);
	sqlite3_bind_int64(st, 9, g->count);
	sqlite3_bind_int64(st, 10, g->exact);
	sqlite3_bind_int64(st, 11, basis);
	rc = sqlite3_step(st);
	unprep(s, st);
	return rc == SQLITE_DONE ? 0 : db_error(s, e, "add an invoice's usage");
}

int
store_tariff_file_same(struct store *s, int64_t v1, int64_t v2, const char *name,
    struct terr *e)
{
	sqlite3_stmt *st = prep(s, "SELECT (SELECT content FROM tariff_file WHERE version_id = ?1"
	    " AND name = ?3) IS (SELECT content FROM tariff_file WHERE version_id = ?2"
	    " AND name = ?3)", e);
	int rc, same = 0;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, v1);
	sqlite3_bind_int64(st, 2, v2);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		same = sqlite3_column_int(st, 0);
	unprep(s, st);
	return rc == SQLITE_ROW ? same : db_error(s, e, "compare tariff versions");
}

int
store_any_issued(struct store *s, struct terr *e)
{
	int64_t n;

	if (run_sql(s, "SELECT EXISTS (SELECT 1 FROM invoice WHERE status = 'issued'"
	    " AND kind = 'invoice')", &n, e, 0) != 0)
		return -1;
	return n != 0;
}

int
store_period_version(struct store *s, const char *payer, const char *period,
    int64_t *version, struct terr *e)
{
	return run_sql(s, "SELECT r.version_id FROM rating r JOIN invoice_cdr ic ON ic.cdr_id ="
	    " r.cdr_id JOIN invoice i ON i.id = ic.invoice_id WHERE r.payer = ?1 AND"
	    " r.period = ?2 AND i.status = 'issued' AND r.version_id IS NOT NULL"
	    " ORDER BY i.id LIMIT 1", version, e, 2, payer, period);
}

int
store_group_summary(struct store *s, const char *payer, const char *period,
    struct group_summary *out, struct terr *e)
{
	sqlite3_stmt *st = prep(s, "SELECT count(*), count(*) FILTER (WHERE status = 'rated'),"
	    " coalesce(sum(amount), 0), coalesce(sum(billed_seconds), 0) FROM rating"
	    " WHERE payer = ?1 AND period = ?2", e);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, payer, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, period, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		out->cdrs = sqlite3_column_int64(st, 0);
		out->rated = sqlite3_column_int64(st, 1);
		out->amount = sqlite3_column_int64(st, 2);
		out->billed_seconds = sqlite3_column_int64(st, 3);
	}
	unprep(s, st);
	return rc == SQLITE_ROW ? 0 : db_error(s, e, "sum a period's ratings");
}

int
store_usage_dirty_add(struct store *s, const char *payer, const char *period,
    struct terr *e)
{
	return run_sql(s, "INSERT OR IGNORE INTO usage_dirty (payer, period) VALUES (?1, ?2)",
	    NULL, e, 2, payer, period);
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
	return run_sql(s, "DELETE FROM usage_dirty WHERE payer = ?1 AND period <= ?2", NULL,
	    e, 2, payer, upto);
}

int
store_ref_sum(struct store *s, const char *account, const char *ref, money *sum,
    struct terr *e)
{
	return run_sql(s, "SELECT coalesce(sum(l.exact), 0) FROM invoice_line l JOIN invoice i"
	    " ON i.id = l.invoice_id WHERE l.ref = ?1 AND l.ref <> '' AND i.status = 'issued'"
	    " AND i.kind = 'invoice' AND i.account = ?2", sum, e, 2, ref, account);
}

int
store_lines_sum(struct store *s, const char *account, const char *period, const char *kind,
    money *sum, struct terr *e)
{
	return run_sql(s, "SELECT coalesce(sum(l.exact), 0) FROM invoice i JOIN invoice_line l"
	    " ON l.invoice_id = i.id WHERE i.account = ?1 AND i.period = ?2 AND i.kind ="
	    " 'invoice' AND i.status = 'issued' AND l.kind = ?3", sum, e, 3, account, period,
	    kind);
}

int
store_each_rate_pending(struct store *s, int (*fn)(const char *, const char *, void *),
    void *arg, struct terr *e)
{
	sqlite3_stmt *st = prep(s, "SELECT payer, period FROM rate_pending ORDER BY 1, 2", e);
	int rc, stop = 0;

	if (st == NULL)
		return -1;
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW)
		stop = fn(text(st, 0), text(st, 1), arg);
	rc = walk_end(s, st, rc, stop, "list periods to rate again", e);
	return rc == 0 ? exec(s, "DELETE FROM rate_pending", e) : rc;
}

int
store_usage_reopen(struct store *s, int64_t invoice, struct terr *e)
{
	sqlite3_stmt *st = prep(s, "INSERT OR IGNORE INTO usage_dirty (payer, period) SELECT"
	    " DISTINCT i.account, u.period FROM invoice i JOIN invoice_usage u ON u.invoice_id ="
	    " i.id WHERE i.id = ?1", e);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, invoice);
	rc = sqlite3_step(st);
	unprep(s, st);
	return rc == SQLITE_DONE ? 0 : db_error(s, e, "give a void invoice's periods back");
}

int
store_usage_moved(struct store *s, int64_t invoice, struct terr *e)
{
	sqlite3_stmt *st = prep(s, "SELECT count(*) FROM (SELECT DISTINCT u.period, u.basis FROM"
	    " invoice_usage u WHERE u.invoice_id = ?1) d WHERE d.basis <>"
	    " (SELECT count(DISTINCT i.id) FROM invoice i JOIN invoice_usage o ON o.invoice_id ="
	    " i.id WHERE i.account = (SELECT account FROM invoice WHERE id = ?1)"
	    " AND i.kind = 'invoice' AND i.status = 'issued' AND o.period = d.period)", e);
	int64_t n = 0;
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, invoice);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	unprep(s, st);
	return rc == SQLITE_ROW ? n > 0 : db_error(s, e, "compare a draft's periods");
}

int
store_count_unrated(struct store *s, const char *payer, const char *period, int64_t *n,
    struct terr *e)
{
	return run_sql(s, "SELECT count(*) FROM rating WHERE payer = ?1 AND period = ?2"
	    " AND status = 'unrated'", n, e, 2, payer, period);
}

/*
 * SQLite's sum() of integers stops with "integer overflow" rather than wrap;
 * say whose sum it was.  Returns -1.
 */
static int
sum_error(struct store *s, struct terr *e, const char *account, const char *what,
    const char *from, const char *to)
{
	if (strstr(sqlite3_errmsg(s->db), "integer overflow") == NULL)
		return -1;	/* run_sql's message stands */
	return terr_set(e, "account %s, %s %s to %s: the sum of its amounts does not fit in "
	    "64-bit micro-units (overflow); nothing computed", account, what,
	    from ? from : "the start", to ? to : "the end");
}

int
store_spend_between(struct store *s, const char *payer, int64_t from, int64_t to,
    money *sum, struct terr *e)
{
	char a[24], b[24];
	int64_t calls, windows;

	snprintf(a, sizeof a, "%lld", (long long)from);
	snprintf(b, sizeof b, "%lld", (long long)to);
	if (run_sql(s, "SELECT coalesce(sum(r.amount), 0) FROM rating r JOIN cdr c ON c.id ="
	    " r.cdr_id WHERE r.payer = ?1 AND r.status = 'rated' AND c.start_ts >="
	    " CAST(?2 AS INTEGER) AND c.start_ts < CAST(?3 AS INTEGER)", &calls, e, 3,
	    payer, a, b) != 0 ||
	    run_sql(s, "SELECT coalesce(sum(price), 0) FROM bundle_window WHERE payer = ?1"
	    " AND start_ts >= CAST(?2 AS INTEGER) AND start_ts < CAST(?3 AS INTEGER)",
	    &windows, e, 3, payer, a, b) != 0)
		return sum_error(s, e, payer, "spend from epoch second", a, b);
	if (money_add_checked(calls, windows, sum) != 0)
		return terr_set(e, "account %s, spend from epoch second %s to %s: calls and "
		    "bundles do not fit in 64-bit micro-units (overflow)", payer, a, b);
	return 0;
}

int
store_each_window_upto(struct store *s, const char *payer, const char *period,
    int (*fn)(const struct window_row *, void *), void *arg, struct terr *e)
{
	sqlite3_stmt *st = prep(s, "SELECT " WINDOW_COLUMNS " FROM bundle_window"
	    " WHERE payer = ?1 AND period_from <= ?2 ORDER BY seq", e);
	int rc, stop = 0;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, payer, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, period, -1, SQLITE_STATIC);
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct window_row w;

		row_window(st, &w);
		stop = fn(&w, arg);
	}
	return walk_end(s, st, rc, stop, "list a payer's windows", e);
}

/* ---- the ledger --------------------------------------------------------- */

int
store_ledger_add(struct store *s, const struct ledger_row *r, int64_t invoice,
    struct terr *e)
{
	sqlite3_stmt *st = prep(s, "INSERT INTO ledger (account, date, kind, amount, number,"
	    " reference, invoice_id, recorded_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", e);
	int rc;

	if (st == NULL)
		return -1;
	bind_opt(st, 1, r->account);
	bind_opt(st, 2, r->date);
	bind_opt(st, 3, r->kind);
	sqlite3_bind_int64(st, 4, r->amount);
	bind_opt(st, 5, r->number ? r->number : "");
	bind_opt(st, 6, r->reference ? r->reference : "");
	if (invoice)
		sqlite3_bind_int64(st, 7, invoice);
	else
		sqlite3_bind_null(st, 7);
	sqlite3_bind_int64(st, 8, (int64_t)time(NULL));
	rc = sqlite3_step(st);
	unprep(s, st);
	return rc == SQLITE_DONE ? 0 : db_error(s, e, "add a ledger entry");
}

int
store_ledger_sum(struct store *s, const char *account, const char *from, const char *to,
    int credits_only, money *sum, struct terr *e)
{
	if (run_sql(s, "SELECT coalesce(sum(amount), 0) FROM ledger WHERE account = ?1"
	    " AND (?2 IS NULL OR date >= ?2) AND (?3 IS NULL OR date < ?3)"
	    " AND (?4 IS NULL OR kind <> 'invoice')", sum, e, 4, account, from, to,
	    credits_only ? "1" : NULL) != 0)
		return sum_error(s, e, account, "ledger from", from, to);
	return 0;
}

int
store_ledger_number_payments(struct store *s, const char *account, const char *number,
    struct bill_payment **out, int *n, struct terr *e)
{
	sqlite3_stmt *st = prep(s, "SELECT date, amount FROM ledger WHERE account = ?1"
	    " AND number = ?2 AND kind IN ('payment', 'deposit') ORDER BY date, id", e);
	int rc, cap = 0;

	*out = NULL;
	*n = 0;
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, number, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			struct bill_payment *v = realloc(*out, (size_t)(cap = cap ? cap * 2 : 8) *
			    sizeof *v);

			if (v == NULL) {
				unprep(s, st);
				return terr_set(e, "out of memory");
			}
			*out = v;
		}
		(*out)[*n].amount = sqlite3_column_int64(st, 1);
		if (bill_date_parse(text(st, 0), &(*out)[*n].date) == 0)
			(*n)++;
	}
	return walk_end(s, st, rc, 0, "list a number's payments", e);
}

int
store_each_ledger(struct store *s, const char *account,
    int (*fn)(const struct ledger_row *, void *), void *arg, struct terr *e)
{
	sqlite3_stmt *st = prep(s, "SELECT l.id, l.account, l.date, l.kind, l.number,"
	    " l.reference, i.number, l.amount FROM ledger l LEFT JOIN invoice i ON"
	    " i.id = l.invoice_id WHERE ?1 IS NULL OR l.account = ?1"
	    " ORDER BY l.account, l.date, l.id", e);
	int rc, stop = 0;

	if (st == NULL)
		return -1;
	bind_opt(st, 1, account);
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct ledger_row r = {
			.id = sqlite3_column_int64(st, 0), .account = text(st, 1),
			.date = text(st, 2), .kind = text(st, 3), .number = text(st, 4),
			.reference = text(st, 5), .invoice_number = text(st, 6),
			.amount = sqlite3_column_int64(st, 7),
		};
		stop = fn(&r, arg);
	}
	return walk_end(s, st, rc, stop, "list the ledger", e);
}

int
store_invoice_overlaps(struct store *s, int64_t invoice, struct terr *e)
{
	char a[24];
	int64_t n;

	/* o.ref <> '' lets SQLite use the partial index invoice_line_ref:
	 * without it every draft scans every line (quadratic at issue). */
	snprintf(a, sizeof a, "%lld", (long long)invoice);
	if (run_sql(s, "SELECT (SELECT count(*) FROM invoice_cdr ic JOIN invoice_cdr o ON"
	    " o.cdr_id = ic.cdr_id AND o.invoice_id <> ic.invoice_id JOIN invoice i ON i.id ="
	    " o.invoice_id AND i.status = 'issued' WHERE ic.invoice_id = CAST(?1 AS INTEGER))"
	    " + (SELECT count(*) FROM invoice_line l JOIN invoice_line o ON o.ref = l.ref AND"
	    " o.ref <> '' AND o.invoice_id <> l.invoice_id JOIN invoice i ON i.id = o.invoice_id AND i.status ="
	    " 'issued' AND i.kind = 'invoice' WHERE l.invoice_id = CAST(?1 AS INTEGER) AND"
	    " l.ref <> '' AND l.kind <> 'minimum')", &n, e, 1, a) != 0)
		return -1;
	return n > 0;
}

int
store_invoice_set_balance(struct store *s, int64_t id, money previous, money payments,
    money due, struct terr *e)
{
	sqlite3_stmt *st = prep(s, "UPDATE invoice SET previous = ?2, payments = ?3, due = ?4"
	    " WHERE id = ?1", e);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, previous);
	sqlite3_bind_int64(st, 3, payments);
	sqlite3_bind_int64(st, 4, due);
	rc = sqlite3_step(st);
	unprep(s, st);
	return rc == SQLITE_DONE ? 0 : db_error(s, e, "set an invoice's balance");
}
