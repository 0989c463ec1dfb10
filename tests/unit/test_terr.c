/* terr: messages and the small string helpers. */
#include <criterion/criterion.h>

#include "tally/terr.h"

Test(terr, utf8_trim_cuts_a_broken_last_character)
{
	char a[] = "H\xc3", b[] = "x\xe5\x8c", c[] = "H\xc3\xa0", d[] = "\xe5\x8c\x97",
	    e[] = "ab", f[] = "\xf0\x9f\x98";

	tally_utf8_trim(a);	/* "Hà" cut after the lead byte */
	cr_expect_str_eq(a, "H");
	tally_utf8_trim(b);	/* "x北" cut one byte short */
	cr_expect_str_eq(b, "x");
	tally_utf8_trim(c);	/* whole */
	cr_expect_str_eq(c, "H\xc3\xa0");
	tally_utf8_trim(d);
	cr_expect_str_eq(d, "\xe5\x8c\x97");
	tally_utf8_trim(e);
	cr_expect_str_eq(e, "ab");
	tally_utf8_trim(f);	/* a 4-byte character with 3 */
	cr_expect_str_eq(f, "");
}
