/* xlsx: numbers reach the sheet exactly, or as text, never rounded. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tally/xlsx.h"

/* The first sheet's XML of a workbook made from csv. */
static char *
sheet_of(const char *csv)
{
	static char xml[65536];
	char path[64], cmd[160];
	FILE *in = tmpfile(), *p;
	struct terr e;
	size_t n;

	cr_assert_not_null(in);
	fputs(csv, in);
	rewind(in);
	snprintf(path, sizeof path, "/tmp/tally-xlsx-%d.xlsx", (int)getpid());
	cr_assert_eq(xlsx_from_csv(in, "t", path, &e), 0, "%s", e.msg);
	fclose(in);
	snprintf(cmd, sizeof cmd, "unzip -p %s xl/worksheets/sheet1.xml", path);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	n = fread(xml, 1, sizeof xml - 1, p);
	xml[n] = '\0';
	pclose(p);
	unlink(path);
	return xml;
}

Test(xlsx, decimals_are_written_as_their_own_digits)
{
	const char *x = sheet_of("amount\n0.1\n524000\n-1.08\n0.001666\n129.60\n");

	cr_expect(strstr(x, "<v>0.1</v>") != NULL, "%s", x);
	cr_expect(strstr(x, "<v>524000</v>") != NULL, "%s", x);
	cr_expect(strstr(x, "<v>-1.08</v>") != NULL, "%s", x);
	cr_expect(strstr(x, "<v>0.001666</v>") != NULL, "%s", x);
	cr_expect(strstr(x, "<v>129.6</v>") != NULL, "%s", x);
}

/* 17 significant digits cannot be a double exactly: the cell keeps the text. */
Test(xlsx, a_decimal_no_double_holds_stays_text)
{
	const char *x = sheet_of("amount\n12345678901234567\n1\n");

	cr_expect(strstr(x, "<t>12345678901234567</t>") != NULL, "%s", x);
	cr_expect(strstr(x, "<v>1</v>") != NULL, "%s", x);
}
