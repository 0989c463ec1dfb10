/*
 * spool.c - framed, checksummed, append-only spool files.  See spool.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "tally/spool.h"

static const unsigned char magic[4] = { 'T', 'S', 'R', '1' };

struct spool_writer {
	char dir[PATH_MAX - 32];
	uint64_t seq;		/* the current file's number */
	int fd;
	unsigned char *buf;	/* appended, not yet written */
	size_t used, cap;
	uint64_t size;		/* of the current file, buffered bytes included */
};

static void
put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16), p[3] = (unsigned char)(v >> 24);
}

static uint32_t
get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static void
file_path(const char *dir, uint64_t seq, const char *ext, char out[PATH_MAX])
{
	snprintf(out, PATH_MAX, "%s/%012llu.%s", dir, (unsigned long long)seq, ext);
}

/* A rename or a new file is durable once its folder is synced. */
static int
sync_dir(const char *dir, struct terr *e)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || fsync(fd) != 0) {
		terr_set(e, "%s: sync: %s", dir, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* The highest file number in dir (0 when none). */
static int
last_seq(const char *dir, uint64_t *seq, struct terr *e)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	*seq = 0;
	if (d == NULL)
		return terr_set(e, "%s: %s", dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		char *end;
		unsigned long long n = strtoull(de->d_name, &end, 10);

		if (end == de->d_name + 12 && *end == '.' && n > *seq)
			*seq = n;
	}
	closedir(d);
	return 0;
}

/* ---- reading --------------------------------------------------------------- */

struct spool_reader {
	FILE *f;
	char path[PATH_MAX];
	uint64_t good, size;	/* bytes of whole records so far; the file's */
	unsigned char *buf;
	size_t cap;
	int ended;
};

struct spool_reader *
spool_read_open(const char *path, struct terr *e)
{
	struct spool_reader *r = calloc(1, sizeof *r);
	struct stat st;

	if (r == NULL) {
		terr_set(e, "out of memory");
		return NULL;
	}
	snprintf(r->path, sizeof r->path, "%s", path);
	if ((r->f = fopen(path, "rb")) == NULL || fstat(fileno(r->f), &st) != 0) {
		terr_set(e, "%s: %s", path, strerror(errno));
		if (r->f)
			fclose(r->f);
		free(r);
		return NULL;
	}
	r->size = (uint64_t)st.st_size;
	return r;
}

int
spool_read_next(struct spool_reader *r, const void **payload, size_t *len, struct terr *e)
{
	unsigned char h[SPOOL_HEADER];
	uint32_t n;

	if (r->ended)
		return 0;
	/* Anything short of a whole, matching record ends the file: the tail
	 * a crash tore, never to be half ingested. */
	if (fread(h, 1, sizeof h, r->f) != sizeof h || memcmp(h, magic, 4) != 0 ||
	    (n = get_u32(h + 4)) > SPOOL_RECORD_MAX)
		goto end;
	if (n > r->cap) {
		unsigned char *b = realloc(r->buf, n ? n : 1);

		if (b == NULL)
			return terr_set(e, "out of memory");
		r->buf = b, r->cap = n;
	}
	if (fread(r->buf, 1, n, r->f) != n ||
	    crc32(0L, r->buf, n) != get_u32(h + 8))
		goto end;
	r->good += SPOOL_HEADER + (uint64_t)n;
	*payload = r->buf;
	*len = n;
	return 1;
end:
	if (ferror(r->f))
		return terr_set(e, "%s: read error", r->path);
	r->ended = 1;
	return 0;
}

uint64_t
spool_read_cut(const struct spool_reader *r)
{
	return r->size - r->good;
}

void
spool_read_close(struct spool_reader *r)
{
	if (r == NULL)
		return;
	fclose(r->f);
	free(r->buf);
	free(r);
}

/* ---- recovery -------------------------------------------------------------- */

/* Cut an .open file to its whole records and close it as .cdr. */
static int
recover_file(const char *dir, const char *name, uint64_t *cut, struct terr *e)
{
	char path[PATH_MAX], done[PATH_MAX];
	struct spool_reader *r;
	const void *p;
	size_t n;
	uint64_t good;
	int rc, fd;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	if ((r = spool_read_open(path, e)) == NULL)
		return -1;
	while ((rc = spool_read_next(r, &p, &n, e)) == 1)
		;
	good = r->good;
	*cut += spool_read_cut(r);
	spool_read_close(r);
	if (rc < 0)
		return -1;
	if (good == 0)
		return unlink(path) == 0 ? 0 : terr_set(e, "%s: %s", path, strerror(errno));
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0 || ftruncate(fd, (off_t)good) != 0 ||
	    fsync(fd) != 0) {
		terr_set(e, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	snprintf(done, sizeof done, "%.*s.cdr", (int)(strlen(path) - 5), path);
	if (rename(path, done) != 0)
		return terr_set(e, "%s: %s", path, strerror(errno));
	return 0;
}

int
spool_recover(const char *dir, uint64_t *cut, struct terr *e)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	*cut = 0;
	if (d == NULL)
		return terr_set(e, "%s: %s", dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);

		if (l == 17 && strcmp(de->d_name + 12, ".open") == 0) {
			if (recover_file(dir, de->d_name, cut, e) != 0) {
				closedir(d);
				return -1;
			}
			n++;
		}
	}
	closedir(d);
	if (n > 0 && sync_dir(dir, e) != 0)
		return -1;
	return n;
}

/* ---- writing --------------------------------------------------------------- */

static int
open_next(struct spool_writer *w, struct terr *e)
{
	char path[PATH_MAX];

	w->seq++;
	file_path(w->dir, w->seq, "open", path);
	if ((w->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600)) < 0)
		return terr_set(e, "%s: %s", path, strerror(errno));
	w->size = 0;
	return sync_dir(w->dir, e);
}

struct spool_writer *
spool_open(const char *dir, struct terr *e)
{
	struct spool_writer *w;
	uint64_t cut;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		terr_set(e, "%s: %s", dir, strerror(errno));
		return NULL;
	}
	if ((w = calloc(1, sizeof *w)) == NULL) {
		terr_set(e, "out of memory");
		return NULL;
	}
	w->fd = -1;
	if (strlen(dir) >= sizeof w->dir) {
		terr_set(e, "%s: path too long", dir);
		free(w);
		return NULL;
	}
	snprintf(w->dir, sizeof w->dir, "%s", dir);
	if (spool_recover(dir, &cut, e) < 0 || last_seq(dir, &w->seq, e) != 0 ||
	    open_next(w, e) != 0) {
		free(w);
		return NULL;
	}
	return w;
}

int
spool_append(struct spool_writer *w, const void *payload, size_t len, struct terr *e)
{
	if (len > SPOOL_RECORD_MAX)
		return terr_set(e, "a record of %zu bytes is over the spool's %u", len,
		    SPOOL_RECORD_MAX);
	if (w->used + SPOOL_HEADER + len > w->cap) {
		size_t cap = (w->used + SPOOL_HEADER + len) * 2;
		unsigned char *b = realloc(w->buf, cap);

		if (b == NULL)
			return terr_set(e, "out of memory");
		w->buf = b, w->cap = cap;
	}
	memcpy(w->buf + w->used, magic, 4);
	put_u32(w->buf + w->used + 4, (uint32_t)len);
	put_u32(w->buf + w->used + 8, (uint32_t)crc32(0L, payload, (uInt)len));
	memcpy(w->buf + w->used + SPOOL_HEADER, payload, len);
	w->used += SPOOL_HEADER + len;
	w->size += SPOOL_HEADER + len;
	return 0;
}

int
spool_sync(struct spool_writer *w, struct terr *e)
{
	size_t off = 0;

	while (off < w->used) {
		ssize_t n = write(w->fd, w->buf + off, w->used - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return terr_set(e, "%s: write: %s", w->dir, strerror(errno));
		off += (size_t)n;
	}
	w->used = 0;
	if (fdatasync(w->fd) != 0)
		return terr_set(e, "%s: fdatasync: %s", w->dir, strerror(errno));
	return 0;
}

uint64_t
spool_size(const struct spool_writer *w)
{
	return w->size;
}

/* Sync and close the current file: .cdr, or removed when empty. */
static int
close_current(struct spool_writer *w, struct terr *e)
{
	char open_path[PATH_MAX], cdr_path[PATH_MAX];

	if (spool_sync(w, e) != 0)
		return -1;
	close(w->fd);
	w->fd = -1;
	file_path(w->dir, w->seq, "open", open_path);
	file_path(w->dir, w->seq, "cdr", cdr_path);
	if (w->size == 0 ? unlink(open_path) != 0 : rename(open_path, cdr_path) != 0)
		return terr_set(e, "%s: %s", open_path, strerror(errno));
	return sync_dir(w->dir, e);
}

int
spool_rotate(struct spool_writer *w, struct terr *e)
{
	if (close_current(w, e) != 0)
		return -1;
	return open_next(w, e);
}

int
spool_close(struct spool_writer *w, struct terr *e)
{
	int rc = 0;

	if (w == NULL)
		return 0;
	if (w->fd >= 0 && (rc = close_current(w, e)) != 0 && w->fd >= 0)
		close(w->fd);	/* left .open: the next spool_open recovers it */
	free(w->buf);
	free(w);
	return rc;
}

/* ---- to the batch path ----------------------------------------------------- */

int
spool_extract(const char *path, const char *lines, uint64_t *records, uint64_t *cut,
    struct terr *e)
{
	struct spool_reader *r = spool_read_open(path, e);
	FILE *out;
	const void *p;
	size_t n;
	int rc, fd = -1;

	*records = *cut = 0;
	if (r == NULL)
		return -1;
	/* A new file, never the old one rewritten: a reader still holding the
	 * old one (a run of a version before the spool lock) keeps its bytes. */
	if ((unlink(lines) != 0 && errno != ENOENT) ||
	    (fd = open(lines, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0 ||
	    (out = fdopen(fd, "w")) == NULL) {
		terr_set(e, "%s: %s", lines, strerror(errno));
		if (fd >= 0)
			close(fd);
		spool_read_close(r);
		return -1;
	}
	while ((rc = spool_read_next(r, &p, &n, e)) == 1) {
		fwrite(p, 1, n, out);
		fputc('\n', out);
		(*records)++;
	}
	*cut = spool_read_cut(r);
	spool_read_close(r);
	/* a full disk must not pass for the end of the records */
	if ((fflush(out) != 0 || ferror(out)) && rc == 0)
		rc = terr_set(e, "%s: write error: %s", lines, strerror(errno));
	if (fclose(out) != 0 && rc == 0)
		rc = terr_set(e, "%s: %s", lines, strerror(errno));
	if (rc != 0)
		unlink(lines);
	return rc;
}
