/* csvline: one physical line into fields, broken lines isolated. */
#include <criterion/criterion.h>
#include <string.h>

#include "tally/csvline.h"

static struct csvline *cl;

static void setup(void) { cl = csvline_new(','); }
static void teardown(void) { csvline_free(cl); }

#define SPLIT(s) csvline_split(cl, (s), strlen(s))

Test(csvline, quoted_unquoted_and_empty_fields, .init = setup, .fini = teardown)
{
	cr_assert_eq(SPLIT("\"a\",b,,\"\",\"x,y\""), 5);
	cr_expect_str_eq(csvline_field(cl, 0), "a");
	cr_expect_str_eq(csvline_field(cl, 1), "b");
	cr_expect_str_eq(csvline_field(cl, 2), "");
	cr_expect_str_eq(csvline_field(cl, 3), "");
	cr_expect_str_eq(csvline_field(cl, 4), "x,y");
}

Test(csvline, doubled_quotes_inside_quotes, .init = setup, .fini = teardown)
{
	/* cdr_csv writes the clid "Nguyen "Bo" Van" <0901> like this: */
	cr_assert_eq(SPLIT("\"\"\"Nguyen \"\"Bo\"\" Van\"\" <0901>\",1"), 2);
	cr_expect_str_eq(csvline_field(cl, 0), "\"Nguyen \"Bo\" Van\" <0901>");
}

Test(csvline, trailing_empty_field_counts, .init = setup, .fini = teardown)
{
	cr_expect_eq(SPLIT("a,b,"), 3);
	cr_expect_eq(SPLIT(""), 1);
}

Test(csvline, broken_quoting_fails_and_next_line_parses, .init = setup, .fini = teardown)
{
	cr_expect_eq(SPLIT("a,\"unterminated,b"), -1);
	cr_expect_eq(SPLIT("\"ab\"c,d"), -1);
	cr_assert_eq(SPLIT("x,y"), 2);
	cr_expect_str_eq(csvline_field(cl, 1), "y");
}

Test(csvline, bytes_that_are_not_utf8_are_kept, .init = setup, .fini = teardown)
{
	cr_assert_eq(SPLIT("\"\xe9\xff\",1"), 2);
	cr_expect_eq(csvline_field_len(cl, 0), 2);
	cr_expect_eq(memcmp(csvline_field(cl, 0), "\xe9\xff", 2), 0);
}

Test(csvline, tab_delimiter_keeps_empty_fields)
{
	struct csvline *t = csvline_new('\t');

	cr_assert_eq(csvline_split(t, "a\t\tc", 4), 3);
	cr_expect_str_eq(csvline_field(t, 1), "");
	cr_expect_str_eq(csvline_field(t, 2), "c");
	csvline_free(t);
}
