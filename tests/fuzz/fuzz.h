/*
 * fuzz.h - what every libFuzzer harness of tests/fuzz/ shares: a scratch
 * folder of its own, files written from the input, and a loud death when
 * an invariant does not hold.
 *
 * Harnesses run the library's real file paths (ingest, tariff folders,
 * spool files), so inputs become files.  The scratch folder is on tmpfs
 * when there is one: the store syncs every commit, and a disk would make
 * each input cost a real fsync.  It is removed at exit; a crash leaves it
 * behind under /dev/shm/tally-fuzz-* (or $TMPDIR) for a look.
 */
#ifndef TALLY_FUZZ_H
#define TALLY_FUZZ_H

#include <dirent.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* FUZZ_TOP: the source tree, for the samples and numbering plans the
 * harnesses open (set by the Makefile). */
#ifndef FUZZ_TOP
#define FUZZ_TOP "."
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant broke: say which, then abort() so libFuzzer keeps the input. */
static inline void __attribute__((noreturn, format(printf, 1, 2)))
fuzz_die(const char *fmt, ...)
{
	va_list ap;

	fputs("fuzz: invariant broken: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

static char fuzz_scratch_dir[256];

/* Remove the files of a folder (not its subfolders' files), then it. */
static inline void
fuzz_rmdir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[512];

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		if (unlink(path) != 0)
			fuzz_rmdir(path);
	}
	closedir(d);
	rmdir(dir);
}

static inline void
fuzz_scratch_remove(void)
{
	fuzz_rmdir(fuzz_scratch_dir);
}

/* The process's scratch folder, made at the first call. */
static inline const char *
fuzz_scratch(void)
{
	struct stat st;
	const char *tmp;

	if (fuzz_scratch_dir[0] != '\0')
		return fuzz_scratch_dir;
	if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0)
		tmp = "/dev/shm";
	else if ((tmp = getenv("TMPDIR")) == NULL || *tmp == '\0')
		tmp = "/tmp";
	snprintf(fuzz_scratch_dir, sizeof fuzz_scratch_dir, "%s/tally-fuzz-XXXXXX", tmp);
	if (mkdtemp(fuzz_scratch_dir) == NULL) {
		perror(fuzz_scratch_dir);
		abort();
	}
	atexit(fuzz_scratch_remove);
	return fuzz_scratch_dir;
}

/* The path of a file `name` in the scratch folder, into out. */
static inline void
fuzz_path(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", fuzz_scratch(), name);
}

/* Write n bytes as the whole content of path; the harness's own failure is
 * fatal, never a finding. */
static inline void
fuzz_write(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL || (n > 0 && fwrite(data, 1, n, f) != n) || fclose(f) != 0) {
		perror(path);
		abort();
	}
}

#endif
