/* lreader: physical lines, terminators, BOM, and the length bound. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "tally/lreader.h"

static struct lreader *lr;
static FILE *fp;

static void
open_text(const char *text, size_t len, size_t limit)
{
	fp = fmemopen((void *)text, len, "rb");
	cr_assert_not_null(fp);
	lr = lreader_new(fp, limit);
	cr_assert_not_null(lr);
}

static void
done(void)
{
	lreader_free(lr);
	fclose(fp);
}

static void
expect_line(const char *want, uint64_t lineno)
{
	struct lline l;

	cr_assert_eq(lreader_next(lr, &l), 1);
	cr_expect_eq(l.len, strlen(want));
	cr_expect_eq(memcmp(l.text, want, l.len), 0, "line %llu",
	    (unsigned long long)lineno);
	cr_expect_eq(l.lineno, lineno);
	cr_expect_eq(l.too_long, 0);
}

Test(lreader, lf_crlf_and_missing_final_newline)
{
	static const char text[] = "a\nbb\r\n\nlast";
	struct lline l;

	open_text(text, sizeof text - 1, 100);
	expect_line("a", 1);
	expect_line("bb", 2);
	expect_line("", 3);
	expect_line("last", 4);
	cr_expect_eq(lreader_next(lr, &l), 0);
	done();
}

Test(lreader, final_newline_adds_no_empty_line)
{
	static const char text[] = "a\n";
	struct lline l;

	open_text(text, sizeof text - 1, 100);
	expect_line("a", 1);
	cr_expect_eq(lreader_next(lr, &l), 0);
	done();
}

Test(lreader, bom_dropped_only_at_start)
{
	static const char text[] = "\xEF\xBB\xBFh1,h2\n\xEF\xBB\xBFx\n";

	open_text(text, sizeof text - 1, 100);
	expect_line("h1,h2", 1);
	expect_line("\xEF\xBB\xBFx", 2);
	done();
}

Test(lreader, long_line_is_cut_and_the_rest_skipped)
{
	static char text[200000];
	struct lline l;

	memset(text, 'x', 150000);
	memcpy(text + 150000, "\nok\n", 4);
	open_text(text, 150004, 1000);
	cr_assert_eq(lreader_next(lr, &l), 1);
	cr_expect_eq(l.too_long, 1);
	cr_expect_eq(l.len, 1000);
	cr_expect_eq(l.full_len, 150000);
	expect_line("ok", 2);
	done();
}

Test(lreader, empty_input_has_no_lines)
{
	struct lline l;

	open_text("", 0, 10);
	cr_expect_eq(lreader_next(lr, &l), 0);
	done();
}

Test(lreader, crlf_line_exactly_at_the_limit_is_whole)
{
	static char text[20];
	struct lline l;

	memset(text, 'x', 10);
	memcpy(text + 10, "\r\nok\n", 5);
	open_text(text, 15, 10);
	cr_assert_eq(lreader_next(lr, &l), 1);
	cr_expect_eq(l.too_long, 0);
	cr_expect_eq(l.len, 10);
	expect_line("ok", 2);
	done();
}

Test(lreader, one_past_the_limit_is_too_long_with_or_without_cr)
{
	static char text[20];
	struct lline l;

	memset(text, 'x', 11);
	memcpy(text + 11, "\r\n", 2);
	open_text(text, 13, 10);
	cr_assert_eq(lreader_next(lr, &l), 1);
	cr_expect_eq(l.too_long, 1);
	cr_expect_eq(l.len, 10);
	cr_expect_eq(l.full_len, 12);	/* the CR is kept: the line was cut */
	done();
}

Test(lreader, bom_only_file_has_no_lines)
{
	struct lline l;

	open_text("\xEF\xBB\xBF", 3, 10);
	cr_expect_eq(lreader_next(lr, &l), 0);
	done();
}

Test(lreader, lone_cr_stays_inside_the_line)
{
	static const char text[] = "a\rb\nc\n";

	open_text(text, sizeof text - 1, 100);
	expect_line("a\rb", 1);	/* ingest rejects it; the reader does not split */
	expect_line("c", 2);
	done();
}
