/* ingest: whole files, every line accounted for, idempotent, all or nothing. */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tally/ingest.h"

static char db[64], file[64], map[64];
static struct store *st;

static void
write_file(const char *p, const char *text, size_t len)
{
	FILE *fp = fopen(p, "wb");

	cr_assert_not_null(fp);
	cr_assert_eq(fwrite(text, 1, len, fp), len);
	fclose(fp);
}

static void
setup(void)
{
	struct terr e;

	snprintf(db, sizeof db, "/tmp/tally-ingest-%d.db", (int)getpid());
	snprintf(file, sizeof file, "/tmp/tally-ingest-%d.csv", (int)getpid());
	snprintf(map, sizeof map, "/tmp/tally-ingest-%d.map", (int)getpid());
	unlink(db);
	st = store_open(db, STORE_CREATE, &e);
	cr_assert_not_null(st, "%s", e.msg);
}

static void
teardown(void)
{
	char side[80];

	store_close(st);
	unlink(file);
	unlink(map);
	unlink(db);
	snprintf(side, sizeof side, "%s-wal", db);
	unlink(side);
	snprintf(side, sizeof side, "%s-shm", db);
	unlink(side);
}

static struct format *
fmt(enum format_kind k, const char *mappath)
{
	struct format_opts o = { 0 };
	struct terr e;
	struct format *f;

	o.map_path = mappath;
	f = format_open(k, &o, &e);
	cr_assert_not_null(f, "%s", e.msg);
	return f;
}

static int64_t
q(const char *sql)
{
	sqlite3 *h;
	sqlite3_stmt *s;
	int64_t n = -1;

	cr_assert_eq(sqlite3_open(db, &h), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(h, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(h);
	return n;
}

/* The uniqueid is in the channel name too, as Asterisk's channel sequence
 * number would be: the record key is made of the 16 common columns. */
#define L(uid, disp) "\"a\",\"1001\",\"0901234567\",\"c\",\"x\",\"SIP/1-" uid "\",\"SIP/2\",\"Dial\"," \
	"\"x\",\"2026-11-21 10:00:00\",\"2026-11-21 10:00:01\",\"2026-11-21 10:00:31\",31,30," \
	"\"" disp "\",\"DOCUMENTATION\",\"" uid "\"\n"

Test(ingest, every_line_is_accepted_rejected_or_duplicate, .init = setup, .fini = teardown)
{
	/* lines: 1 ok, 2 ok, 3 duplicate of 1, 4 bad disposition, 5 empty,
	 * 6 NUL byte, 7 ok (no final newline) */
	static const char text[] = L("u1", "ANSWERED") L("u2", "ANSWERED")
	    L("u1", "ANSWERED") L("u3", "PERHAPS") "\n" "\"a\0b\"\n"
	    "\"a\",\"1001\",\"0901234567\",\"c\",\"x\",\"SIP/1\",\"\",\"Dial\",\"x\","
	    "\"2026-11-21 10:00:00\",,\"2026-11-21 10:00:31\",31,0,\"NO ANSWER\","
	    "\"DOCUMENTATION\",\"u4\"";
	struct format *f = fmt(FORMAT_ASTERISK, NULL);
	struct ingest_result r;
	struct terr e;

	write_file(file, text, sizeof text - 1);
	cr_assert_eq(ingest_file(st, f, "pbx", file, NULL, &r, &e), 0, "%s", e.msg);
	cr_expect_eq(r.n.read, 7);
	cr_expect_eq(r.n.accepted, 3);
	cr_expect_eq(r.n.duplicates, 1);
	cr_expect_eq(r.n.rejected, 3);
	cr_expect_eq(q("SELECT count(*) FROM cdr"), 3);
	cr_expect_eq(q("SELECT line FROM duplicate"), 3);
	cr_expect_eq(q("SELECT group_concat(line) = '4,5,6' FROM reject"), 1);
	cr_expect_eq(q("SELECT count(*) FROM reject WHERE line = 6 AND field = 'line'"
	    " AND reason = 'NUL byte in line' AND length(raw) = 5"), 1);
	format_free(f);
}

Test(ingest, same_content_twice_is_skipped, .init = setup, .fini = teardown)
{
	static const char text[] = L("u1", "ANSWERED");
	struct format *f = fmt(FORMAT_ASTERISK, NULL);
	struct ingest_result r1, r2;
	struct terr e;

	write_file(file, text, sizeof text - 1);
	cr_assert_eq(ingest_file(st, f, "pbx", file, NULL, &r1, &e), 0);
	cr_assert_eq(ingest_file(st, f, "pbx", file, NULL, &r2, &e), 0);
	cr_expect_eq(r2.skipped, 1);
	cr_expect_eq(r2.batch, r1.batch);
	cr_expect_eq(q("SELECT count(*) FROM batch"), 1);
	format_free(f);
}

/* Issue 16, part 8: the same bytes under a second source would bill the
 * same calls twice; refused, naming both sources, unless it is meant. */
Test(ingest, same_content_under_another_source_is_refused, .init = setup,
    .fini = teardown)
{
	static const char text[] = L("u1", "ANSWERED");
	struct ingest_opts meant = { .also_under_source = 1 };
	struct format *f = fmt(FORMAT_ASTERISK, NULL);
	struct ingest_result r;
	struct terr e;

	write_file(file, text, sizeof text - 1);
	cr_assert_eq(ingest_file(st, f, "pbx", file, NULL, &r, &e), 0, "%s", e.msg);
	cr_expect_eq(ingest_file(st, f, "pbx2", file, NULL, &r, &e), -1);
	cr_expect(strstr(e.msg, "under source pbx (batch 1)") != NULL, "%s", e.msg);
	cr_expect(strstr(e.msg, "refused under source pbx2") != NULL, "%s", e.msg);
	cr_expect_eq(q("SELECT count(*) FROM batch"), 1);
	cr_expect_eq(q("SELECT count(*) FROM cdr"), 1);
	/* meant: its CDRs are its own (record keys are unique per source) */
	cr_assert_eq(ingest_file_with(st, f, "pbx2", file, &meant, NULL, &r, &e), 0, "%s",
	    e.msg);
	cr_expect_eq(r.skipped, 0);
	cr_expect_eq(r.n.accepted, 1);
	cr_expect_eq(q("SELECT count(*) FROM cdr"), 2);
	format_free(f);
}

/* A file that held no CDR (empty, or a header alone) bills nothing twice. */
Test(ingest, empty_content_under_another_source_goes_in, .init = setup,
    .fini = teardown)
{
	struct format *f = fmt(FORMAT_ASTERISK, NULL);
	struct ingest_result r;
	struct terr e;

	write_file(file, "", 0);
	cr_assert_eq(ingest_file(st, f, "pbx", file, NULL, &r, &e), 0, "%s", e.msg);
	cr_assert_eq(ingest_file(st, f, "pbx2", file, NULL, &r, &e), 0, "%s", e.msg);
	cr_expect_eq(q("SELECT count(*) FROM batch"), 2);
	format_free(f);
}

Test(ingest, overlapping_file_counts_duplicates, .init = setup, .fini = teardown)
{
	static const char one[] = L("u1", "ANSWERED") L("u2", "ANSWERED");
	static const char two[] = L("u2", "ANSWERED") L("u3", "ANSWERED");
	struct format *f = fmt(FORMAT_ASTERISK, NULL);
	struct ingest_result r;
	struct terr e;

	write_file(file, one, sizeof one - 1);
	cr_assert_eq(ingest_file(st, f, "pbx", file, NULL, &r, &e), 0);
	write_file(file, two, sizeof two - 1);
	cr_assert_eq(ingest_file(st, f, "pbx", file, NULL, &r, &e), 0);
	cr_expect_eq(r.n.accepted, 1);
	cr_expect_eq(r.n.duplicates, 1);
	cr_expect_eq(q("SELECT count(*) FROM cdr"), 3);
	format_free(f);
}

/* Issue 15, part 5: the file's layout is what most of its lines have, even
 * when the odd line comes first; declared mixed, every line goes in. */
Test(ingest, a_line_of_another_layout_is_rejected, .init = setup, .fini = teardown)
{
	/* L() lines have 17 columns; u0 is cut to 16 (no uniqueid) */
	static const char text[] = "\"a\",\"1001\",\"0901234567\",\"c\",\"x\","
	    "\"SIP/1-u0\",\"SIP/2\",\"Dial\",\"x\",\"2026-11-21 10:00:00\","
	    "\"2026-11-21 10:00:01\",\"2026-11-21 10:00:31\",31,30,\"ANSWERED\","
	    "\"DOCUMENTATION\"\n" L("u1", "ANSWERED") L("u2", "ANSWERED");
	struct format_opts o = { 0 };
	struct format *f = fmt(FORMAT_ASTERISK, NULL);
	struct ingest_result r;
	struct terr e;

	write_file(file, text, sizeof text - 1);
	cr_assert_eq(ingest_file(st, f, "pbx", file, NULL, &r, &e), 0, "%s", e.msg);
	cr_expect_eq(r.n.read, 3);
	cr_expect_eq(r.n.accepted, 2);
	cr_expect_eq(r.n.rejected, 1);
	cr_expect_eq(q("SELECT line FROM reject"), 1);
	format_free(f);

	o.mixed_layouts = 1;
	cr_assert_not_null(f = format_open(FORMAT_ASTERISK, &o, &e), "%s", e.msg);
	cr_assert_eq(ingest_file_with(st, f, "pbx2", file,
	    &(struct ingest_opts){ .also_under_source = 1 }, NULL, &r, &e), 0, "%s", e.msg);
	cr_expect_eq(r.n.accepted, 3);
	format_free(f);
}

Test(ingest, failed_file_leaves_store_unchanged, .init = setup, .fini = teardown)
{
	static const char csv[] = "from,to,started\n1,2,2026-11-21 10:00:00\n";
	struct format *f;
	struct ingest_result r;
	struct terr e;

	{
		static const char m[] = "caller = from\ncallee = to\nstart = started\nend = ended\n";

		write_file(map, m, sizeof m - 1);
	}
	f = fmt(FORMAT_CSV, map);
	write_file(file, csv, sizeof csv - 1);
	cr_expect_eq(ingest_file(st, f, "web", file, NULL, &r, &e), -1);
	cr_expect(strstr(e.msg, ":1: map names column \"ended\"") != NULL, "%s", e.msg);
	cr_expect_eq(q("SELECT count(*) FROM batch"), 0);
	format_free(f);
}

Test(ingest, missing_file_is_an_error, .init = setup, .fini = teardown)
{
	struct format *f = fmt(FORMAT_ASTERISK, NULL);
	struct ingest_result r;
	struct terr e;

	cr_expect_eq(ingest_file(st, f, "pbx", "/nonexistent/x.csv", NULL, &r, &e), -1);
	cr_expect(strstr(e.msg, "/nonexistent/x.csv") != NULL);
	format_free(f);
}

Test(ingest, source_names)
{
	cr_expect(ingest_source_valid("hcm-ast.1_b"));
	cr_expect(!ingest_source_valid(""));
	cr_expect(!ingest_source_valid("a b"));
	cr_expect(!ingest_source_valid("a/b"));
}
