/*
 * fuzz_spool.c - the spool's record framing, on whatever bytes a crash, a
 * full disk or a stray editor could leave in a spool file.
 *
 * The input is written as a closed spool file and read back with
 * spool_read_open() / spool_read_next(); the same bytes as a crash would
 * leave them (NNNNNNNNNNNN.open, in a spool folder of their own) go through
 * spool_recover(), and the file through spool_extract().  Then:
 *
 *   - each record is the input's bytes at its place: header, then payload
 *     with the CRC-32 the header says;
 *   - records * header + payload bytes + cut = the file's size;
 *   - recovery cuts the same bytes and leaves a .cdr file of exactly the
 *     whole records (none at all when there were none), which reads back
 *     as the same records with nothing cut;
 *   - extraction gives each record as one line, and the same counts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "tally/spool.h"
#include "fuzz.h"

static char closed_path[512], spool_dir[512], open_path[600], recovered_path[600],
    lines_path[512];

static uint32_t
get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static void
paths_init(void)
{
	fuzz_path(closed_path, sizeof closed_path, "000000000001.cdr");
	fuzz_path(spool_dir, sizeof spool_dir, "spool");
	snprintf(open_path, sizeof open_path, "%s/000000000007.open", spool_dir);
	snprintf(recovered_path, sizeof recovered_path, "%s/000000000007.cdr", spool_dir);
	fuzz_path(lines_path, sizeof lines_path, "spool.lines");
	if (mkdir(spool_dir, 0700) != 0)
		abort();
}

/*
 * Read a spool file, holding each record against `data` (the bytes the
 * file was written from).  Returns the records; *whole gets the bytes of
 * whole records, *cut what the reader cut.
 */
static uint64_t
read_records(const char *path, const uint8_t *data, size_t size, uint64_t *whole,
    uint64_t *cut)
{
	struct spool_reader *r;
	struct terr e;
	const void *payload;
	size_t len;
	uint64_t records = 0, off = 0;
	int rc;

	if ((r = spool_read_open(path, &e)) == NULL)
		fuzz_die("spool_read_open: %s", e.msg);
	while ((rc = spool_read_next(r, &payload, &len, &e)) == 1) {
		if (off + SPOOL_HEADER + len > size)
			fuzz_die("record %llu runs past the end of the file",
			    (unsigned long long)records);
		if (memcmp(data + off, "TSR1", 4) != 0 || get_u32(data + off + 4) != len ||
		    (len > 0 && memcmp(payload, data + off + SPOOL_HEADER, len) != 0))
			fuzz_die("record %llu is not the file's bytes at %llu",
			    (unsigned long long)records, (unsigned long long)off);
		if (crc32(0L, payload, (uInt)len) != get_u32(data + off + 8))
			fuzz_die("record %llu passed with a wrong CRC", (unsigned long long)records);
		off += SPOOL_HEADER + len;
		records++;
	}
	if (rc < 0)
		fuzz_die("spool_read_next: %s", e.msg);
	if (spool_read_next(r, &payload, &len, &e) != 0)
		fuzz_die("a record after the end");
	*whole = off;
	*cut = spool_read_cut(r);
	spool_read_close(r);
	if (off + *cut != size)
		fuzz_die("whole records %llu + cut %llu != file size %zu",
		    (unsigned long long)off, (unsigned long long)*cut, size);
	return records;
}

static void
check_recovery(const uint8_t *data, size_t size, uint64_t records, uint64_t whole,
    uint64_t cut)
{
	struct terr e;
	struct stat st;
	uint64_t rcut, again_whole, again_cut;
	int n;

	unlink(recovered_path);
	fuzz_write(open_path, data, size);
	if ((n = spool_recover(spool_dir, &rcut, &e)) != 1)
		fuzz_die("spool_recover closed %d files: %s", n, n < 0 ? e.msg : "");
	if (rcut != cut)
		fuzz_die("recovery cut %llu bytes, the reader %llu", (unsigned long long)rcut,
		    (unsigned long long)cut);
	if (stat(open_path, &st) == 0)
		fuzz_die("the .open file is left after recovery");
	if (records == 0) {
		if (stat(recovered_path, &st) == 0)
			fuzz_die("a .cdr file of no records");
		return;
	}
	if (stat(recovered_path, &st) != 0 || (uint64_t)st.st_size != whole)
		fuzz_die("the recovered file is not the %llu bytes of whole records",
		    (unsigned long long)whole);
	if (read_records(recovered_path, data, whole, &again_whole, &again_cut) != records ||
	    again_cut != 0)
		fuzz_die("the recovered file reads as other records, or cut");
}

/* The extracted lines: each record, then LF. */
static void
check_extract(const uint8_t *data, uint64_t records, uint64_t whole, uint64_t cut)
{
	uint64_t n, c, off = 0;
	struct terr e;
	FILE *f;
	char *buf;
	size_t got;

	if (spool_extract(closed_path, lines_path, &n, &c, &e) != 0)
		fuzz_die("spool_extract: %s", e.msg);
	if (n != records || c != cut)
		fuzz_die("spool_extract: %llu records cut %llu, the reader %llu cut %llu",
		    (unsigned long long)n, (unsigned long long)c,
		    (unsigned long long)records, (unsigned long long)cut);
	if ((f = fopen(lines_path, "rb")) == NULL || (buf = malloc(whole + 1)) == NULL)
		abort();
	got = fread(buf, 1, whole + 1, f);
	fclose(f);
	for (uint64_t i = 0, at = 0; i < records; i++) {
		uint32_t len = get_u32(data + off + 4);

		if (at + len + 1 > got || memcmp(buf + at, data + off + SPOOL_HEADER, len) != 0 ||
		    buf[at + len] != '\n')
			fuzz_die("extracted line %llu is not record %llu", (unsigned long long)i + 1,
			    (unsigned long long)i + 1);
		at += len + 1;
		off += SPOOL_HEADER + len;
	}
	if (got != whole - records * (SPOOL_HEADER - 1))
		fuzz_die("extracted %zu bytes for %llu records", got, (unsigned long long)records);
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t records, whole, cut;

	if (spool_dir[0] == '\0')
		paths_init();
	fuzz_write(closed_path, data, size);
	records = read_records(closed_path, data, size, &whole, &cut);
	check_recovery(data, size, records, whole, cut);
	check_extract(data, records, whole, cut);
	return 0;
}
