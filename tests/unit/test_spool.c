/* spool: framed records survive, a torn tail is cut and never read. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tally/spool.h"

static char dir[64];

static void
fresh(void)
{
	snprintf(dir, sizeof dir, "/tmp/tally-spool-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void
cleanup(void)
{
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	cr_expect_eq(system(cmd), 0);
}

static int
exists(const char *name)
{
	char p[128];

	snprintf(p, sizeof p, "%s/%s", dir, name);
	return access(p, F_OK) == 0;
}

/* Read every whole record of a file into one "a|b|c" string. */
static uint64_t
read_all(const char *name, char *out, size_t cap)
{
	char p[128];
	struct terr e;
	struct spool_reader *r;
	const void *v;
	size_t n;
	uint64_t cut;

	snprintf(p, sizeof p, "%s/%s", dir, name);
	r = spool_read_open(p, &e);
	cr_assert_not_null(r, "%s", e.msg);
	out[0] = '\0';
	while (spool_read_next(r, &v, &n, &e) == 1) {
		if (out[0])
			strncat(out, "|", cap - strlen(out) - 1);
		strncat(out, v, n < cap - strlen(out) - 1 ? n : cap - strlen(out) - 1);
	}
	cut = spool_read_cut(r);
	spool_read_close(r);
	return cut;
}

Test(spool, records_come_back_in_order, .init = fresh, .fini = cleanup)
{
	struct terr e;
	struct spool_writer *w = spool_open(dir, &e);
	char got[256];

	cr_assert_not_null(w, "%s", e.msg);
	cr_assert_eq(spool_append(w, "one", 3, &e), 0);
	cr_assert_eq(spool_append(w, "two,2", 5, &e), 0);
	cr_assert_eq(spool_sync(w, &e), 0);
	cr_assert_eq(spool_append(w, "", 0, &e), 0);
	cr_expect_eq(spool_size(w), 3 * 12 + 3 + 5);
	cr_assert_eq(spool_close(w, &e), 0);
	cr_expect(exists("000000000001.cdr"));
	cr_expect(!exists("000000000001.open"));
	cr_expect_eq(read_all("000000000001.cdr", got, sizeof got), 0);
	cr_expect_str_eq(got, "one|two,2|");
}

Test(spool, a_torn_tail_is_cut_when_the_spool_reopens, .init = fresh, .fini = cleanup)
{
	struct terr e;
	struct spool_writer *w;
	char p[128], got[256];
	int fd, status;
	pid_t pid = fork();

	/* a writer that dies (as a killed daemon does) after one durable record */
	cr_assert(pid >= 0);
	if (pid == 0) {
		w = spool_open(dir, &e);
		if (w == NULL || spool_append(w, "kept", 4, &e) != 0 || spool_sync(w, &e) != 0)
			_exit(1);
		_exit(0);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* and was in the middle of the next record: its header and 3 of 10
	 * payload bytes reached the disk */
	snprintf(p, sizeof p, "%s/000000000001.open", dir);
	fd = open(p, O_WRONLY | O_APPEND);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, "TSR1\x0a\0\0\0\0\0\0\0abc", 15), 15);
	close(fd);
	/* read as it is: the whole record, then 15 bytes cut */
	cr_expect_eq(read_all("000000000001.open", got, sizeof got), 15);
	cr_expect_str_eq(got, "kept");
	/* the daemon restarts: the old file is cut and closed, a new one opens */
	w = spool_open(dir, &e);
	cr_assert_not_null(w, "%s", e.msg);
	cr_expect(exists("000000000001.cdr"));
	cr_expect(exists("000000000002.open"));
	cr_expect_eq(read_all("000000000001.cdr", got, sizeof got), 0);
	cr_expect_str_eq(got, "kept");
	{
		struct stat st;

		snprintf(p, sizeof p, "%s/000000000001.cdr", dir);
		cr_assert_eq(stat(p, &st), 0);
		cr_expect_eq(st.st_size, 12 + 4);
	}
	cr_expect_eq(spool_close(w, &e), 0);
	cr_expect(!exists("000000000002.open"));	/* empty: removed */
	cr_expect(!exists("000000000002.cdr"));
}

Test(spool, a_wrong_checksum_ends_the_records, .init = fresh, .fini = cleanup)
{
	struct terr e;
	struct spool_writer *w = spool_open(dir, &e);
	char p[128], got[256];
	int fd;

	cr_assert_not_null(w);
	spool_append(w, "good", 4, &e);
	spool_append(w, "flip", 4, &e);
	spool_append(w, "after", 5, &e);
	cr_assert_eq(spool_close(w, &e), 0);
	/* one bit of the second payload flips on the disk */
	snprintf(p, sizeof p, "%s/000000000001.cdr", dir);
	fd = open(p, O_WRONLY);
	cr_assert(fd >= 0);
	cr_assert_eq(pwrite(fd, "g", 1, 16 + 12), 1);
	close(fd);
	cr_expect_eq(read_all("000000000001.cdr", got, sizeof got), 16 + 17);
	cr_expect_str_eq(got, "good");
}

Test(spool, rotation_numbers_files_on, .init = fresh, .fini = cleanup)
{
	struct terr e;
	struct spool_writer *w = spool_open(dir, &e);
	char got[64];

	cr_assert_not_null(w);
	spool_append(w, "a", 1, &e);
	cr_assert_eq(spool_rotate(w, &e), 0);
	spool_append(w, "b", 1, &e);
	cr_assert_eq(spool_close(w, &e), 0);
	w = spool_open(dir, &e);
	cr_assert_not_null(w);
	spool_append(w, "c", 1, &e);
	cr_assert_eq(spool_close(w, &e), 0);
	read_all("000000000001.cdr", got, sizeof got);
	cr_expect_str_eq(got, "a");
	read_all("000000000002.cdr", got, sizeof got);
	cr_expect_str_eq(got, "b");
	read_all("000000000003.cdr", got, sizeof got);
	cr_expect_str_eq(got, "c");
}

Test(spool, an_oversized_record_is_refused, .init = fresh, .fini = cleanup)
{
	struct terr e;
	struct spool_writer *w = spool_open(dir, &e);

	cr_assert_not_null(w);
	cr_expect_eq(spool_append(w, "", SPOOL_RECORD_MAX + 1, &e), -1);
	cr_expect(strstr(e.msg, "over the spool") != NULL, "%s", e.msg);
	cr_expect_eq(spool_size(w), 0);
	spool_close(w, &e);
}
