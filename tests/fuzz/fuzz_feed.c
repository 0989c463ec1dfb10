/*
 * fuzz_feed.c - the bodies tally-feedd takes from the network, through
 * feed_fs_json_line(): the input as raw JSON, and the same JSON as the form
 * "cdr=<url-encoded JSON>" that mod_json_cdr also posts.
 *
 *   - a body that is refused says why (the daemon's 400);
 *   - a line that comes back holds no CR or LF: the spool keeps records
 *     as lines, so one would split into two CDRs at ingest;
 *   - the form, url-encoded or (with no '%' or '+' in it) verbatim, gives
 *     what the raw JSON gives: the same line, or a refusal;
 *   - the line goes through ingest_line_check() with the freeswitch parser
 *     (what the feed asks before acknowledging, and what tally-ingest --spool
 *     later parses) without a crash.
 *
 * The same bytes as a CSV body (POST /cdr/csv), through feed_csv_records():
 * a refusal says why; each record is a non-empty part of the body, in
 * order, without a LF (nor a CR at its end), and every non-empty line of
 * the body is one record.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tally/feed.h"
#include "tally/format.h"
#include "tally/ingest.h"
#include "tally/numnorm.h"
#include "fuzz.h"

static struct format *fs;

int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The parser tally-ingest --spool uses for the feed's FreeSWITCH sources in
 * tests/cli/t_feedd.sh. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct format_opts o = { .tz = "Asia/Shanghai" };
	struct terr e;

	(void)argc, (void)argv;
	if ((o.numbering = numnorm_load(FUZZ_TOP "/tariffs/numbering/cn.csv", &e)) == NULL ||
	    (fs = format_open(FORMAT_FREESWITCH, &o, &e)) == NULL) {
		fprintf(stderr, "fuzz: %s\n", e.msg);
		abort();
	}
	return 0;
}

/* The body as a form: "cdr=" and every byte but [A-Za-z0-9_.~-] as %XX. */
static char *
form_encoded(const uint8_t *data, size_t size, size_t *len)
{
	static const char hexd[] = "0123456789ABCDEF";
	char *out = malloc(4 + 3 * size + 1), *o = out;

	if (out == NULL)
		abort();
	o += sprintf(o, "cdr=");
	for (size_t i = 0; i < size; i++) {
		if (strchr("_.~-", data[i]) != NULL && data[i] != '\0')
			*o++ = (char)data[i];
		else if ((data[i] | 0x20) >= 'a' && (data[i] | 0x20) <= 'z')
			*o++ = (char)data[i];
		else if (data[i] >= '0' && data[i] <= '9')
			*o++ = (char)data[i];
		else
			*o++ = '%', *o++ = hexd[data[i] >> 4], *o++ = hexd[data[i] & 15];
	}
	*o = '\0';
	*len = (size_t)(o - out);
	return out;
}

/* The body as a form, its bytes as they are. */
static char *
form_verbatim(const uint8_t *data, size_t size, size_t *len)
{
	char *out = malloc(4 + size + 1);

	if (out == NULL)
		abort();
	memcpy(out, "cdr=", 4);
	if (size > 0)
		memcpy(out + 4, data, size);
	out[4 + size] = '\0';
	*len = 4 + size;
	return out;
}

/* The same outcome as the raw body's: the same line, or a refusal. */
static void
check_same(const char *how, const char *raw_line, const char *body, size_t len)
{
	struct terr e = { "" };
	char *line = feed_fs_json_line(body, len, &e);

	if ((raw_line == NULL) != (line == NULL))
		fuzz_die("the raw JSON is %s, the %s form %s%s", raw_line ? "accepted" :
		    "refused", how, line ? "accepted" : "refused: ", line ? "" : e.msg);
	if (line != NULL && strcmp(line, raw_line) != 0)
		fuzz_die("the %s form gives another line:\n%s\n%s", how, raw_line, line);
	free(line);
}

/* The input as a CSV body: its records are exactly its non-empty lines. */
static void
check_csv_body(const uint8_t *data, size_t size)
{
	char *body = malloc(size + 1), **rec = NULL;
	size_t *rlen = NULL, lines = 0, at = 0;
	struct terr e = { "" };
	int n;

	if (body == NULL)
		abort();
	memcpy(body, data, size);
	body[size] = '\0';
	/* count the non-empty lines independently */
	for (size_t i = 0; i <= size; i++) {
		if (i == size || body[i] == '\n') {
			size_t l = i - at;

			if (l > 0 && body[i - 1] == '\r')
				l--;
			lines += l > 0;
			at = i + 1;
		}
	}
	if (feed_csv_records(body, size, &rec, &rlen, &n, &e) != 0) {
		if (e.msg[0] == '\0')
			fuzz_die("a CSV body was refused without a reason");
		if (memchr(body, '\0', size) == NULL && lines > 0)
			fuzz_die("a CSV body of %zu lines refused: %s", lines, e.msg);
	} else {
		const char *prev = body;

		if ((size_t)n != lines)
			fuzz_die("%d records of a body of %zu non-empty lines", n, lines);
		for (int i = 0; i < n; i++) {
			const char *end = rec[i] + rlen[i], *stop = body + size;

			/* after a record: the body's end, LF, or CR then LF or the end */
			if (rlen[i] == 0 || rec[i] < prev || end > stop ||
			    memchr(rec[i], '\n', rlen[i]) != NULL ||
			    !(end == stop || *end == '\n' ||
			    (*end == '\r' && (end + 1 == stop || end[1] == '\n'))))
				fuzz_die("record %d is not one line of the body", i + 1);
			prev = end;
		}
	}
	free(rec);
	free(rlen);
	free(body);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct terr e = { "" };
	char *line = feed_fs_json_line((const char *)data, size, &e);
	struct cdr_reject r;

	if (line == NULL && e.msg[0] == '\0')
		fuzz_die("a body was refused without a reason");
	if (line != NULL && strpbrk(line, "\r\n") != NULL)
		fuzz_die("a line with a line break: %s", line);
	/* a body that is itself a form is raw JSON only inside it */
	if (size < 4 || memcmp(data, "cdr=", 4) != 0) {
		size_t len;
		char *form = form_encoded(data, size, &len);

		check_same("url-encoded", line, form, len);
		free(form);
		if (memchr(data, '%', size) == NULL && memchr(data, '+', size) == NULL) {
			form = form_verbatim(data, size, &len);
			check_same("verbatim", line, form, len);
			free(form);
		}
	}
	if (line != NULL)
		ingest_line_check(fs, line, strlen(line), &r);
	free(line);
	check_csv_body(data, size);
	return 0;
}
