/* store: schema creation and versioning, duplicates, all-or-nothing. */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tally/store.h"

static char path[64];

static void
fresh(void)
{
	snprintf(path, sizeof path, "/tmp/tally-store-%d.db", (int)getpid());
	unlink(path);
}

static void
cleanup(void)
{
	char side[80];

	unlink(path);
	snprintf(side, sizeof side, "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof side, "%s-shm", path);
	unlink(side);
}

static void
raw_sql(const char *sql)
{
	sqlite3 *db;

	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK, "%s",
	    sqlite3_errmsg(db));
	sqlite3_close(db);
}

static int64_t
count(const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t n;

	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

static struct cdr
sample_cdr(const char *key)
{
	struct cdr c = {
		.record_key = key, .account = "acc1", .caller_raw = "0901",
		.caller = "+84901", .callee_raw = "0902", .callee = "+84902",
		.start = 100, .answer = 105, .end = 165, .has_answer = 1,
		.duration = 65, .billsec = 60, .disposition = CDR_ANSWERED,
	};
	return c;
}

Test(store, new_store_is_current_and_in_wal_mode, .init = fresh, .fini = cleanup)
{
	struct terr e;
	struct store *s = store_open(path, STORE_CREATE, &e);

	cr_assert_not_null(s, "%s", e.msg);
	cr_expect_eq(store_schema_version(s), STORE_SCHEMA_VERSION);
	store_close(s);
	cr_expect_eq(count("SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = 'wal'"), 1);
	cr_expect_eq(count("SELECT count(*) FROM sqlite_schema WHERE name IN "
	    "('batch','cdr','reject','duplicate')"), 4);
}

Test(store, empty_older_store_is_upgraded, .init = fresh, .fini = cleanup)
{
	struct terr e;
	struct store *s;

	raw_sql("PRAGMA user_version = 0");	/* a version-0 SQLite file */
	s = store_open(path, STORE_CREATE, &e);
	cr_assert_not_null(s, "%s", e.msg);
	cr_expect_eq(store_schema_version(s), STORE_SCHEMA_VERSION);
	store_close(s);
}

Test(store, newer_store_is_refused, .init = fresh, .fini = cleanup)
{
	struct terr e;
	struct store *s = store_open(path, STORE_CREATE, &e);

	cr_assert_not_null(s);
	store_close(s);
	raw_sql("PRAGMA user_version = 99");
	cr_expect_null(store_open(path, STORE_CREATE, &e));
	cr_expect(strstr(e.msg, "schema version 99 is newer") != NULL, "%s", e.msg);
}

Test(store, foreign_sqlite_file_is_refused, .init = fresh, .fini = cleanup)
{
	struct terr e;

	raw_sql("CREATE TABLE customers (id)");
	cr_expect_null(store_open(path, STORE_CREATE, &e));
	cr_expect(strstr(e.msg, "not a tally store") != NULL, "%s", e.msg);
}

/* The bytes of the file at path, in a buffer the caller frees; *len set. */
static char *
slurp(size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf = malloc(1 << 20);

	cr_assert_not_null(fp);
	*len = fread(buf, 1, 1 << 20, fp);
	fclose(fp);
	return buf;
}

/* Issue 16, part 7: another program's database is refused before anything
 * is written to it: same bytes, still in its own journal mode.  (The first
 * version switched it to WAL, then refused it.) */
Test(store, foreign_database_is_left_as_it_was, .init = fresh, .fini = cleanup)
{
	static const enum store_mode modes[] = { STORE_CREATE, STORE_EXISTING, STORE_READONLY };
	size_t before_len, after_len;
	char *before, *after;
	struct terr e;

	raw_sql("PRAGMA journal_mode = DELETE; CREATE TABLE customers (id);"
	    " INSERT INTO customers VALUES (1)");
	before = slurp(&before_len);
	for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
		cr_expect_null(store_open(path, modes[i], &e), "mode %zu", i);
		cr_expect(strstr(e.msg, "not a tally store") != NULL, "%s", e.msg);
	}
	after = slurp(&after_len);
	cr_expect_eq(after_len, before_len);
	cr_expect(memcmp(before, after, before_len) == 0, "the file changed");
	cr_expect_eq(count("SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = "
	    "'delete'"), 1);
	free(before);
	free(after);
}

/* A user_version alone (no tables, no application_id) is another
 * program's mark: the first version took it for a tally schema version
 * and ran the migrations from there. */
Test(store, foreign_user_version_is_not_a_schema_version, .init = fresh, .fini = cleanup)
{
	struct terr e;

	raw_sql("PRAGMA user_version = 3");
	cr_expect_null(store_open(path, STORE_CREATE, &e));
	cr_expect(strstr(e.msg, "not a tally store") != NULL, "%s", e.msg);
	cr_expect_eq(count("SELECT count(*) FROM sqlite_schema"), 0);
}

/* Only a creating command makes a store of an empty file; the others
 * refuse it, naming it, and leave it 0 bytes. */
Test(store, empty_file_is_made_a_store_only_by_create, .init = fresh, .fini = cleanup)
{
	struct terr e;
	struct store *s;
	struct stat st;
	FILE *fp = fopen(path, "w");

	cr_assert_not_null(fp);
	fclose(fp);
	cr_expect_null(store_open(path, STORE_READONLY, &e));
	cr_expect(strstr(e.msg, "not a tally store: an empty file") != NULL, "%s", e.msg);
	cr_expect(strstr(e.msg, path) != NULL, "%s", e.msg);
	cr_expect_null(store_open(path, STORE_EXISTING, &e));
	cr_expect(strstr(e.msg, "not a tally store: an empty file") != NULL, "%s", e.msg);
	cr_assert_eq(stat(path, &st), 0);
	cr_expect_eq(st.st_size, 0);
	s = store_open(path, STORE_CREATE, &e);
	cr_assert_not_null(s, "%s", e.msg);
	cr_expect_eq(store_schema_version(s), STORE_SCHEMA_VERSION);
	store_close(s);
}

Test(store, missing_file_is_made_a_store_only_by_create, .init = fresh, .fini = cleanup)
{
	struct terr e;
	struct stat st;

	cr_expect_null(store_open(path, STORE_READONLY, &e));
	cr_expect(strstr(e.msg, "no such store") != NULL, "%s", e.msg);
	cr_expect_null(store_open(path, STORE_EXISTING, &e));
	cr_expect(strstr(e.msg, "no such store") != NULL, "%s", e.msg);
	cr_expect_neq(stat(path, &st), 0);
}

/* A reader writes nothing: it neither upgrades an older store nor
 * starts a transaction. */
Test(store, reader_does_not_upgrade_nor_write, .init = fresh, .fini = cleanup)
{
	struct terr e;
	struct store *s = store_open(path, STORE_CREATE, &e);
	int64_t b;

	cr_assert_not_null(s, "%s", e.msg);
	store_close(s);
	s = store_open(path, STORE_READONLY, &e);
	cr_assert_not_null(s, "%s", e.msg);
	cr_expect_eq(store_batch_add(s, "src", "asterisk", "f", "h", 10, &b, &e), -1);
	cr_expect(strstr(e.msg, "readonly") != NULL, "%s", e.msg);
	store_close(s);
	cr_expect_eq(count("SELECT count(*) FROM batch"), 0);

	raw_sql("PRAGMA user_version = 6");
	cr_expect_null(store_open(path, STORE_READONLY, &e));
	cr_expect(strstr(e.msg, "older than this program's") != NULL, "%s", e.msg);
	cr_expect(strstr(e.msg, "tally-rate") != NULL, "%s", e.msg);
	cr_expect_eq(count("PRAGMA user_version"), 6);
}

/* A file of another source with this content, and one that held CDRs:
 * what ingest refuses under a second source. */
Test(store, batch_found_under_another_source, .init = fresh, .fini = cleanup)
{
	struct terr e;
	struct store *s = store_open(path, STORE_CREATE, &e);
	struct batch_counts one = { 1, 1, 0, 0 }, none = { 1, 0, 1, 0 };
	char other[16];
	int64_t b, id;

	cr_assert_not_null(s, "%s", e.msg);
	cr_assert_eq(store_begin(s, &e), 0);
	cr_assert_eq(store_batch_add(s, "a", "asterisk", "f", "h", 10, &b, &e), 0);
	cr_assert_eq(store_batch_set_counts(s, b, &one, &e), 0, "%s", e.msg);
	cr_assert_eq(store_batch_add(s, "b", "asterisk", "g", "all-rejected", 10, &b, &e), 0);
	cr_assert_eq(store_batch_set_counts(s, b, &none, &e), 0, "%s", e.msg);
	cr_assert_eq(store_commit(s, &e), 0);
	cr_expect_eq(store_batch_find_elsewhere(s, "a", "h", &id, other, sizeof other, &e), 0);
	cr_expect_eq(store_batch_find_elsewhere(s, "c", "h", &id, other, sizeof other, &e), 1);
	cr_expect_eq(id, 1);
	cr_expect_str_eq(other, "a");
	cr_expect_eq(store_batch_find_elsewhere(s, "c", "all-rejected", &id, other,
	    sizeof other, &e), 0);
	store_close(s);
}

Test(store, same_key_twice_is_a_duplicate, .init = fresh, .fini = cleanup)
{
	struct terr e;
	struct store *s = store_open(path, STORE_CREATE, &e);
	struct cdr c = sample_cdr("k1");
	int64_t b;

	cr_assert_not_null(s);
	cr_assert_eq(store_begin(s, &e), 0);
	cr_assert_eq(store_batch_add(s, "src", "asterisk", "f", "h", 10, &b, &e), 0);
	cr_expect_eq(store_cdr_add(s, "src", b, 1, &c, &e), 1);
	cr_expect_eq(store_cdr_add(s, "src", b, 2, &c, &e), 0);
	cr_expect_eq(store_cdr_add(s, "other", b, 3, &c, &e), 1);	/* per source */
	cr_assert_eq(store_commit(s, &e), 0);
	store_close(s);
	cr_expect_eq(count("SELECT count(*) FROM cdr"), 2);
	cr_expect_eq(count("SELECT cdr_id FROM duplicate WHERE line = 2"),
	    count("SELECT id FROM cdr WHERE source = 'src'"));
}

Test(store, rollback_leaves_nothing, .init = fresh, .fini = cleanup)
{
	struct terr e;
	struct store *s = store_open(path, STORE_CREATE, &e);
	struct cdr c = sample_cdr("k1");
	int64_t b;

	cr_assert_eq(store_begin(s, &e), 0);
	cr_assert_eq(store_batch_add(s, "src", "asterisk", "f", "h", 10, &b, &e), 0);
	cr_assert_eq(store_cdr_add(s, "src", b, 1, &c, &e), 1);
	store_rollback(s);
	cr_expect_eq(store_batch_find(s, "src", "h", &b, &e), 0);
	store_close(s);
	cr_expect_eq(count("SELECT count(*) FROM cdr"), 0);
}

Test(store, counts_must_reconcile, .init = fresh, .fini = cleanup)
{
	struct terr e;
	struct store *s = store_open(path, STORE_CREATE, &e);
	struct batch_counts bad = { 3, 1, 1, 0 };
	int64_t b;

	cr_assert_eq(store_begin(s, &e), 0);
	cr_assert_eq(store_batch_add(s, "src", "asterisk", "f", "h", 10, &b, &e), 0);
	cr_expect_eq(store_batch_set_counts(s, b, &bad, &e), -1);
	store_rollback(s);
	store_close(s);
}

/* What schema 7 added (late calls, old Asterisk keys), dropped to make an
 * older store. */
#define DROP_V7 "DROP TABLE invoice_usage; DROP TABLE usage_dirty; DROP TABLE rate_pending;" \
	" DROP TABLE legacy_key_source; "
/* What schema 4 added (invoices and the ledger), dropped to make an older store. */
#define DROP_V4 DROP_V7 "DROP TABLE invoice_cdr; DROP TABLE invoice_line; DROP TABLE invoice_tax; DROP TABLE ledger;" \
	" DROP TABLE invoice; DROP TABLE sequence; DROP TABLE generation; "

Test(store, version_3_store_is_upgraded_with_invoice_tables, .init = fresh, .fini = cleanup)
{
	struct terr e;
	struct store *s = store_open(path, STORE_CREATE, &e);

	cr_assert_not_null(s);
	store_close(s);
	raw_sql(DROP_V4 "PRAGMA user_version = 3");
	s = store_open(path, STORE_CREATE, &e);
	cr_assert_not_null(s, "%s", e.msg);
	cr_expect_eq(store_schema_version(s), STORE_SCHEMA_VERSION);
	store_close(s);
	cr_expect_eq(count("SELECT count(*) FROM sqlite_schema WHERE name IN ('invoice',"
	    " 'invoice_line', 'invoice_tax', 'invoice_cdr', 'sequence', 'ledger', 'generation')"), 7);
	cr_expect_eq(count("SELECT value FROM generation"), 0);
}

/* Schema 5 keeps each invoice call's rating in invoice_cdr. */
Test(store, version_4_store_gains_the_frozen_call_columns, .init = fresh, .fini = cleanup)
{
	struct terr e;
	struct store *s = store_open(path, STORE_CREATE, &e);

	cr_assert_not_null(s);
	store_close(s);
	raw_sql(DROP_V7 "ALTER TABLE invoice_cdr DROP COLUMN seconds; ALTER TABLE invoice_cdr DROP COLUMN"
	    " billed_seconds; ALTER TABLE invoice_cdr DROP COLUMN amount; ALTER TABLE invoice_cdr"
	    " DROP COLUMN destination; ALTER TABLE invoice_cdr DROP COLUMN class;"
	    " PRAGMA user_version = 4");
	cr_expect_eq(count("SELECT count(*) FROM pragma_table_info('invoice_cdr')"), 2);
	s = store_open(path, STORE_CREATE, &e);
	cr_assert_not_null(s, "%s", e.msg);
	cr_expect_eq(store_schema_version(s), STORE_SCHEMA_VERSION);
	store_close(s);
	cr_expect_eq(count("SELECT count(*) FROM pragma_table_info('invoice_cdr') WHERE name IN"
	    " ('seconds', 'billed_seconds', 'amount', 'destination', 'class')"), 5);
}

/* Schema 6 drops the CDR index by account and start that no query used. */
Test(store, version_5_store_loses_the_unused_account_index, .init = fresh, .fini = cleanup)
{
	struct terr e;
	struct store *s = store_open(path, STORE_CREATE, &e);

	cr_assert_not_null(s);
	store_close(s);
	cr_expect_eq(count("SELECT count(*) FROM sqlite_schema WHERE name = 'cdr_account_start'"), 0);
	raw_sql(DROP_V7 "CREATE INDEX cdr_account_start ON cdr(account, start_ts);"
	    " PRAGMA user_version = 5");
	s = store_open(path, STORE_CREATE, &e);
	cr_assert_not_null(s, "%s", e.msg);
	cr_expect_eq(store_schema_version(s), STORE_SCHEMA_VERSION);
	store_close(s);
	cr_expect_eq(count("SELECT count(*) FROM sqlite_schema WHERE name = 'cdr_account_start'"), 0);
}

Test(store, version_1_store_is_upgraded_keeping_its_cdrs, .init = fresh, .fini = cleanup)
{
	struct terr e;
	struct store *s = store_open(path, STORE_CREATE, &e);
	struct cdr c = sample_cdr("k1");
	int64_t b;

	cr_assert_not_null(s);
	cr_assert_eq(store_begin(s, &e), 0);
	cr_assert_eq(store_batch_add(s, "src", "asterisk", "f", "h", 10, &b, &e), 0);
	cr_assert_eq(store_cdr_add(s, "src", b, 1, &c, &e), 1);
	cr_assert_eq(store_commit(s, &e), 0);
	store_close(s);
	/* make it what version 1 wrote: no tariff or rating tables */
	raw_sql(DROP_V4 "DROP TABLE bundle_window; DROP TABLE bundle_horizon;"
	    " DROP TABLE rating_piece; DROP TABLE rating; DROP TABLE account;"
	    " DROP TABLE tariff_file; DROP TABLE tariff_version; PRAGMA user_version = 1");
	cr_assert_eq(count("SELECT count(*) FROM sqlite_schema WHERE name = 'rating'"), 0);
	s = store_open(path, STORE_CREATE, &e);
	cr_assert_not_null(s, "%s", e.msg);
	cr_expect_eq(store_schema_version(s), STORE_SCHEMA_VERSION);
	store_close(s);
	cr_expect_eq(count("SELECT count(*) FROM sqlite_schema WHERE name IN ('rating',"
	    " 'rating_piece', 'tariff_version', 'tariff_file', 'account', 'bundle_window',"
	    " 'bundle_horizon')"), 7);
	cr_expect_eq(count("SELECT count(*) FROM cdr"), 1);
}

Test(store, version_2_store_is_upgraded_keeping_its_ratings, .init = fresh, .fini = cleanup)
{
	struct terr e;
	struct store *s = store_open(path, STORE_CREATE, &e);

	cr_assert_not_null(s);
	store_close(s);
	/* what version 2 wrote: no bundle tables, ratings without the window */
	raw_sql(DROP_V4 "DROP TABLE bundle_window; DROP TABLE bundle_horizon;"
	    " ALTER TABLE rating DROP COLUMN bundle_sub; ALTER TABLE rating DROP COLUMN"
	    " bundle_seq; ALTER TABLE rating DROP COLUMN bundle_left;"
	    " INSERT INTO rating (cdr_id, payer, period, status, destination, prefix, seconds,"
	    " billed_seconds, amount, reason, tier_pos, test_used, volume_total) VALUES"
	    " (1, 'a', '2026-11', 'rated', '', '', 60, 60, 500000000, '', 0, 0, 0);"
	    " PRAGMA user_version = 2");
	s = store_open(path, STORE_CREATE, &e);
	cr_assert_not_null(s, "%s", e.msg);
	cr_expect_eq(store_schema_version(s), STORE_SCHEMA_VERSION);
	store_close(s);
	cr_expect_eq(count("SELECT count(*) FROM rating WHERE bundle_sub IS NULL AND"
	    " amount = 500000000"), 1);
	cr_expect_eq(count("SELECT count(*) FROM sqlite_schema WHERE name IN"
	    " ('bundle_window', 'bundle_horizon')"), 2);
}

/* Schema 7: what invoices charged of each period, by group; the periods to
 * settle; the Asterisk sources whose legs have keys of the old forms. */
Test(store, version_6_store_gains_the_late_call_tables, .init = fresh, .fini = cleanup)
{
	struct terr e;
	struct store *s = store_open(path, STORE_CREATE, &e);
	struct cdr c = sample_cdr("k1");
	int64_t b;

	cr_assert_not_null(s);
	cr_assert_eq(store_begin(s, &e), 0);
	cr_assert_eq(store_batch_add(s, "ast", "asterisk", "f", "h", 10, &b, &e), 0);
	cr_assert_eq(store_cdr_add(s, "ast", b, 1, &c, &e), 1);
	cr_assert_eq(store_batch_add(s, "fs", "freeswitch", "g", "i", 10, &b, &e), 0);
	cr_assert_eq(store_commit(s, &e), 0);
	store_close(s);
	raw_sql(DROP_V7 "PRAGMA user_version = 6");
	s = store_open(path, STORE_CREATE, &e);
	cr_assert_not_null(s, "%s", e.msg);
	cr_expect_eq(store_schema_version(s), STORE_SCHEMA_VERSION);
	store_close(s);
	cr_expect_eq(count("SELECT count(*) FROM sqlite_schema WHERE name IN ('invoice_usage',"
	    " 'usage_dirty', 'rate_pending', 'legacy_key_source')"), 4);
	/* only the Asterisk source can hold keys of the old forms */
	cr_expect_eq(count("SELECT count(*) FROM legacy_key_source WHERE source = 'ast'"), 1);
	cr_expect_eq(count("SELECT count(*) FROM legacy_key_source"), 1);
}

/* A leg stored under its key of before schema 7 is a duplicate of it. */
Test(store, a_leg_under_its_old_key_is_a_duplicate, .init = fresh, .fini = cleanup)
{
	struct terr e;
	struct store *s = store_open(path, STORE_CREATE, &e);
	struct cdr old = sample_cdr("uid-1/0"), now = sample_cdr("SIP/1-a|SIP/2-b|...");
	int64_t b;

	cr_assert_not_null(s);
	cr_assert_eq(store_begin(s, &e), 0);
	cr_assert_eq(store_batch_add(s, "ast", "asterisk", "f", "h", 10, &b, &e), 0);
	cr_assert_eq(store_cdr_add(s, "ast", b, 1, &old, &e), 1);
	cr_assert_eq(store_commit(s, &e), 0);
	store_close(s);
	raw_sql(DROP_V7 "PRAGMA user_version = 6");
	s = store_open(path, STORE_CREATE, &e);
	cr_assert_not_null(s, "%s", e.msg);
	now.legacy_key = "uid-1/0";
	cr_assert_eq(store_begin(s, &e), 0);
	cr_assert_eq(store_batch_add(s, "ast", "asterisk", "f2", "h2", 10, &b, &e), 0);
	cr_expect_eq(store_cdr_add(s, "ast", b, 1, &now, &e), 0, "stored twice");
	now.legacy_key = "uid-2/0";
	cr_expect_eq(store_cdr_add(s, "ast", b, 2, &now, &e), 1, "a new leg is stored");
	cr_assert_eq(store_commit(s, &e), 0);
	store_close(s);
	cr_expect_eq(count("SELECT count(*) FROM cdr"), 2);
	cr_expect_eq(count("SELECT count(*) FROM duplicate WHERE record_key = 'uid-1/0'"), 1);
}
