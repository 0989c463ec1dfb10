/* feed: credentials, FreeSWITCH mod_json_cdr bodies, url decoding. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tally/feed.h"

static char path[64];

static void
creds(const char *text, mode_t mode)
{
	FILE *f;

	snprintf(path, sizeof path, "/tmp/tally-creds-%d", (int)getpid());
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

static void
cleanup(void)
{
	unlink(path);
}

Test(feed, credentials_are_read_and_checked, .fini = cleanup)
{
	struct feed_sources s;
	struct terr e;

	creds("# switches\nsh-fs s3cret freeswitch\n\nhcm-ast pw asterisk\n", 0600);
	cr_assert_eq(feed_sources_load(path, &s, &e), 0, "%s", e.msg);
	cr_expect_eq(s.n, 2);
	cr_expect_not_null(feed_auth(&s, "sh-fs", "s3cret"));
	cr_expect_str_eq(feed_auth(&s, "hcm-ast", "pw")->format, "asterisk");
	cr_expect_null(feed_auth(&s, "sh-fs", "s3cre"));
	cr_expect_null(feed_auth(&s, "sh-fs", "s3crett"));
	cr_expect_null(feed_auth(&s, "nobody", "s3cret"));
	cr_expect_null(feed_auth(&s, NULL, NULL));
	feed_sources_release(&s);
}

Test(feed, credentials_readable_by_others_are_refused, .fini = cleanup)
{
	struct feed_sources s;
	struct terr e;

	creds("sh-fs s3cret freeswitch\n", 0644);
	cr_expect_eq(feed_sources_load(path, &s, &e), -1);
	cr_expect(strstr(e.msg, "mode 0644") != NULL, "%s", e.msg);
}

Test(feed, a_bad_credentials_line_is_named, .fini = cleanup)
{
	struct feed_sources s;
	struct terr e;

	creds("sh-fs s3cret freeswitch\nbad line\n", 0600);
	cr_expect_eq(feed_sources_load(path, &s, &e), -1);
	cr_expect(strstr(e.msg, ":2: expected SOURCE PASSWORD FORMAT") != NULL, "%s", e.msg);
	creds("a p csv\n", 0600);	/* csv needs a column map: not a feed format */
	cr_expect_eq(feed_sources_load(path, &s, &e), -1);
}

/* The 15 quoted columns of mod_cdr_csv's example template, in order. */
static const char want[] = "\"Ann\",\"1002\",\"+8613987654321\",\"default\","
    "\"2026-11-21 10:00:00\",\"2026-11-21 10:00:05\",\"2026-11-21 10:01:05\","
    "\"65\",\"60\",\"NORMAL_CLEARING\",\"u-1\",\"\",\"sh-office\",\"PCMA\",\"PCMA\"";

static const char json[] = "{\"variables\": {\"uuid\": \"u-1\", \"caller_id_name\": \"Ann\","
    " \"caller_id_number\": \"1002\", \"destination_number\": \"%2B8613987654321\","
    " \"context\": \"default\", \"start_stamp\": \"2026-11-21%2010%3A00%3A00\","
    " \"answer_stamp\": \"2026-11-21%2010%3A00%3A05\","
    " \"end_stamp\": \"2026-11-21%2010%3A01%3A05\", \"duration\": \"65\", \"billsec\": 60,"
    " \"hangup_cause\": \"NORMAL_CLEARING\", \"accountcode\": \"sh-office\","
    " \"read_codec\": \"PCMA\", \"write_codec\": \"PCMA\"}}";

Test(feed, a_json_cdr_becomes_a_mod_cdr_csv_line)
{
	struct terr e;
	char *l = feed_fs_json_line(json, strlen(json), &e);

	cr_assert_not_null(l, "%s", e.msg);
	cr_expect_str_eq(l, want);
	free(l);
}

Test(feed, the_form_body_is_decoded_first)
{
	struct terr e;
	char form[4096], *l;
	size_t n = (size_t)snprintf(form, sizeof form, "cdr=");

	/* the JSON url-encoded once more, as a form: ' ' as '+', '%' as %25 */
	for (const char *p = json; *p; p++)
		n += (size_t)snprintf(form + n, sizeof form - n, *p == ' ' ? "+" : *p == '%' ?
		    "%%25" : *p == '"' ? "%%22" : "%c", *p);
	l = feed_fs_json_line(form, n, &e);
	cr_assert_not_null(l, "%s", e.msg);
	cr_expect_str_eq(l, want);
	free(l);
}

Test(feed, caller_and_destination_may_come_from_the_caller_profile)
{
	const char *j = "{\"variables\": {\"uuid\": \"u-2\"}, \"callflow\": [{\"caller_profile\":"
	    " {\"caller_id_number\": \"1003\", \"destination_number\": \"100\"}}]}";
	struct terr e;
	char *l = feed_fs_json_line(j, strlen(j), &e);

	cr_assert_not_null(l, "%s", e.msg);
	cr_expect(strncmp(l, "\"\",\"1003\",\"100\",", 15) == 0, "%s", l);
	free(l);
}

Test(feed, bodies_that_are_not_cdrs_are_refused_with_a_reason)
{
	struct terr e;

	cr_expect_null(feed_fs_json_line("{\"variables\":", 13, &e));
	cr_expect(strstr(e.msg, "malformed JSON at line 1") != NULL, "%s", e.msg);
	cr_expect_null(feed_fs_json_line("{\"a\": 1}", 8, &e));
	cr_expect(strstr(e.msg, "no \"variables\"") != NULL, "%s", e.msg);
	cr_expect_null(feed_fs_json_line("cdr=%zz", 7, &e));
	cr_expect_null(feed_fs_json_line("{\"variables\": {\"uuid\": \"a%22b\"}}", 32, &e));
	cr_expect(strstr(e.msg, "quote") != NULL, "%s", e.msg);
}

Test(feed, url_decoding)
{
	char a[] = "a%20b+c%2B", b[] = "a%2", c[] = "x+y", d[] = "ab%00cd";

	cr_assert_eq(feed_url_decode(a, 1), 0);
	cr_expect_str_eq(a, "a b c+");
	cr_expect_eq(feed_url_decode(b, 0), -1);
	cr_assert_eq(feed_url_decode(c, 0), 0);
	cr_expect_str_eq(c, "x+y");
	cr_expect_eq(feed_url_decode(d, 0), -1);	/* a NUL would cut the value */
}
