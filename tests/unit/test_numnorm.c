/* numnorm: ordered rewrite rules; the shipped Vietnam and China rules. */
#include <criterion/criterion.h>
#include <string.h>

#include "tally/numnorm.h"

static const char *
norm(const struct numnorm *n, const char *in)
{
	static char out[NUMNORM_MAX];

	cr_assert_eq(numnorm_apply(n, in, out), 0);
	return out;
}

Test(numnorm, stop_and_next_in_order)
{
	static const char rules[] =
	    "match,replace,action\n"
	    "# comments are allowed\n"
	    "-,,next\n"
	    "^0(\\d+)$,+84$1,stop\n"
	    "^\\+84(.*)$,never-reached$1,stop\n";
	struct terr e;
	struct numnorm *n = numnorm_parse("t", rules, sizeof rules - 1, &e);

	cr_assert_not_null(n, "%s", e.msg);
	cr_expect_str_eq(norm(n, "090-123-4567"), "+84901234567");
	cr_expect_str_eq(norm(n, "101"), "101");	/* no rule matched */
	numnorm_free(n);
}

Test(numnorm, without_rules_number_is_kept)
{
	cr_expect_str_eq(norm(NULL, "0901234567"), "0901234567");
}

Test(numnorm, bad_rules_name_line_and_field)
{
	static const char badre[] = "match,replace,action\n^(\\d+$,x,stop\n";
	static const char badact[] = "match,replace,action\n^1,2,later\n";
	static const char badhdr[] = "pattern,replace,action\n";
	struct terr e;

	cr_expect_null(numnorm_parse("r.csv", badre, sizeof badre - 1, &e));
	cr_expect(strstr(e.msg, "r.csv:2: match:") != NULL, "%s", e.msg);
	cr_expect_null(numnorm_parse("r.csv", badact, sizeof badact - 1, &e));
	cr_expect(strstr(e.msg, "r.csv:2: action:") != NULL, "%s", e.msg);
	cr_expect_null(numnorm_parse("r.csv", badhdr, sizeof badhdr - 1, &e));
	cr_expect(strstr(e.msg, "header") != NULL, "%s", e.msg);
}

/* The shipped rules, against the forms DOMAIN.md lists. */
Test(numnorm, vietnam_forms_become_e164)
{
	struct terr e;
	struct numnorm *n = numnorm_load("tariffs/numbering/vn.csv", &e);

	cr_assert_not_null(n, "%s", e.msg);
	cr_expect_str_eq(norm(n, "0901234567"), "+84901234567");
	cr_expect_str_eq(norm(n, "84901234567"), "+84901234567");
	cr_expect_str_eq(norm(n, "+84901234567"), "+84901234567");
	cr_expect_str_eq(norm(n, "0084901234567"), "+84901234567");
	cr_expect_str_eq(norm(n, "090 123 4567"), "+84901234567");
	cr_expect_str_eq(norm(n, "02812345678"), "+842812345678");
	cr_expect_str_eq(norm(n, "18001234"), "+8418001234");
	cr_expect_str_eq(norm(n, "101"), "101");
	numnorm_free(n);
}

Test(numnorm, china_forms_become_e164)
{
	struct terr e;
	struct numnorm *n = numnorm_load("tariffs/numbering/cn.csv", &e);

	cr_assert_not_null(n, "%s", e.msg);
	cr_expect_str_eq(norm(n, "13800138000"), "+8613800138000");
	cr_expect_str_eq(norm(n, "8613800138000"), "+8613800138000");
	cr_expect_str_eq(norm(n, "008613800138000"), "+8613800138000");
	cr_expect_str_eq(norm(n, "1795113800138000"), "+8613800138000");
	cr_expect_str_eq(norm(n, "01012345678"), "+861012345678");
	cr_expect_str_eq(norm(n, "4009292888"), "+864009292888");
	cr_expect_str_eq(norm(n, "400-9292-888"), "+864009292888");
	cr_expect_str_eq(norm(n, "8001"), "8001");
	numnorm_free(n);
}
