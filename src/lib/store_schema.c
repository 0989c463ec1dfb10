/*
 * store_schema.c - the store's schema and its migrations, and opening it:
 * what a file is (identify), who may use it in which mode, the connection
 * settings, the upgrade of an older store; then close, the schema
 * version and the transaction of a unit of work.  Cut here because this
 * is the one part every command runs before any stage, and the part that
 * decides whether a file is touched at all (tally/store.h, store_open).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store_impl.h"

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

const char *
store_default_path(void)
{
	const char *p = getenv("TALLY_DB");

	return p && *p ? p : "./tally.db";
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

	if (db_exec(s, "BEGIN IMMEDIATE", e) != 0)
		return -1;
	/* Re-read under the write lock: another process may have migrated. */
	if (query_int(s, "PRAGMA user_version", &version, e) != 0)
		goto fail;
	for (; version < STORE_SCHEMA_VERSION; version++)
		if (db_exec(s, migrations[version], e) != 0)
			goto fail;
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d; PRAGMA application_id = %d",
	    STORE_SCHEMA_VERSION, APPLICATION_ID);
	if (db_exec(s, sql, e) != 0 || db_exec(s, "COMMIT", e) != 0)
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
	return db_exec(s, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;"
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
	    (db_exec(s, "PRAGMA journal_mode = WAL; PRAGMA journal_size_limit = 67108864", e) != 0 ||
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
	for (int i = 0; i < DB_NSLOTS; i++)
		sqlite3_finalize(s->kept[i]);
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
	return db_exec(s, "BEGIN IMMEDIATE", e);
}

int
store_commit(struct store *s, struct terr *e)
{
	return db_exec(s, "COMMIT", e);
}

void
store_rollback(struct store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}
