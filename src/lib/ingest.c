#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "tally/ingest.h"
#include "tally/lreader.h"

int
ingest_source_valid(const char *name)
{
	size_t n = strlen(name);

	/* it names a folder of the feed's spool: never "." or "..", never
	 * hidden, never an option */
	if (n == 0 || n > 64 || !isalnum((unsigned char)name[0]))
		return 0;
	return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_.-") == n;
}

static void
hex(const uint8_t *d, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 15];
	}
	out[2 * n] = '\0';
}

/* SHA-256 of the first `size` bytes of the file, from its start. */
static int
file_sha256(FILE *fp, uint64_t size, char out[2 * SHA256_DIGEST_SIZE + 1])
{
	struct sha256_ctx ctx;
	uint8_t digest[SHA256_DIGEST_SIZE];
	char buf[65536];
	uint64_t left = size;
	size_t n;

	rewind(fp);
	sha256_init(&ctx);
	while (left > 0 && (n = fread(buf, 1, left < sizeof buf ? (size_t)left : sizeof buf,
	    fp)) > 0) {
		sha256_update(&ctx, n, (const uint8_t *)buf);
		left -= n;
	}
	if (ferror(fp) || left > 0)
		return -1;
	sha256_digest(&ctx, sizeof digest, digest);
	hex(digest, sizeof digest, out);
	return 0;
}

/* Why a line can be no CDR before any format looks at it, or NULL. */
static int
line_unusable(const struct lline *l, struct cdr_reject *r)
{
	if (l->too_long)
		return cdr_reject(r, "line", "line too long (%llu bytes)",
		    (unsigned long long)l->full_len);
	if (l->len == 0)
		return cdr_reject(r, "line", "empty line");
	if (memchr(l->text, '\0', l->len) != NULL)
		return cdr_reject(r, "line", "NUL byte in line");
	/* CSV parsers end a row at a lone CR: the line would split silently */
	if (memchr(l->text, '\r', l->len) != NULL)
		return cdr_reject(r, "line", "bare CR in line (a file with CR line ends?)");
	return 0;
}

int
ingest_line_check(struct format *f, const char *text, size_t len, struct cdr_reject *r)
{
	struct lline l = { .text = text, .len = len, .full_len = len, .lineno = 1,
		.too_long = len > INGEST_LINE_MAX };
	struct cdr c;

	if (line_unusable(&l, r) != 0)
		return -1;
	format_begin_file(f);
	if (format_wants_scan(f))
		format_scan(f, text, len);
	return format_parse(f, text, len, &c, r);
}

/* A first pass over the file for formats whose lines must agree with
 * the file's other lines (format_wants_scan), the same lines the second
 * pass parses; then back to the start. */
static int
scan_lines(struct format *f, const char *path, FILE *fp, uint64_t size,
    struct terr *e)
{
	struct lreader *lr = lreader_new(fp, INGEST_LINE_MAX);
	struct lline l;
	struct cdr_reject r;
	int rc;

	if (lr == NULL)
		return terr_set(e, "out of memory");
	lreader_set_max_bytes(lr, size);
	while ((rc = lreader_next(lr, &l)) == 1)
		if (line_unusable(&l, &r) == 0)
			format_scan(f, l.text, l.len);
	lreader_free(lr);
	if (rc < 0)
		return terr_set(e, "%s: read error: %s", path, strerror(errno));
	rewind(fp);
	return 0;
}

/* The lines of an open file into batch `batch`; inside the transaction. */
static int
ingest_lines(struct store *s, struct format *f, const char *source,
    const char *path, FILE *fp, uint64_t size, int64_t batch,
    const struct ingest_hooks *h, struct batch_counts *n, struct terr *e)
{
	struct lreader *lr;
	struct lline l;
	struct cdr c;
	struct cdr_reject r;
	int rc;

	format_begin_file(f);
	if (format_wants_scan(f) && scan_lines(f, path, fp, size, e) != 0)
		return -1;
	if ((lr = lreader_new(fp, INGEST_LINE_MAX)) == NULL)
		return terr_set(e, "out of memory");
	lreader_set_max_bytes(lr, size);
	while ((rc = lreader_next(lr, &l)) == 1) {
		if (format_needs_header(f)) {
			int cr = memchr(l.text, '\r', l.len) != NULL;

			if (cr)
				terr_set(e, "bare CR in the header (a file with CR line ends?)");
			if (cr || format_header(f, l.text, l.len, e) != 0) {
				char msg[sizeof e->msg];

				tally_strlcpy(msg, e->msg, sizeof msg);
				terr_set(e, "%s:%llu: %s", path,
				    (unsigned long long)l.lineno, msg);
				goto fail;
			}
			continue;
		}
		n->read++;
		if (line_unusable(&l, &r) == 0 &&
		    format_parse(f, l.text, l.len, &c, &r) == 0) {
			int stored = store_cdr_add(s, source, batch, l.lineno, &c, e);

			if (stored < 0)
				goto fail;
			if (stored)
				n->accepted++;
			else
				n->duplicates++;
		} else {
			n->rejected++;
			if (store_reject_add(s, batch, l.lineno, &r, l.text, l.len, e) != 0)
				goto fail;
			if (h && h->on_reject)
				h->on_reject(h->arg, path, l.lineno, &r);
		}
		if (h && h->on_progress && l.lineno % INGEST_PROGRESS_LINES == 0)
			h->on_progress(h->arg, path, l.lineno, lreader_offset(lr));
	}
	if (rc < 0) {
		terr_set(e, "%s: read error: %s", path, strerror(errno));
		goto fail;
	}
	lreader_free(lr);
	return 0;
fail:
	lreader_free(lr);
	return -1;
}

/* Open a regular file for reading without blocking on a FIFO or device. */
static FILE *
open_regular(const char *path, uint64_t *size, struct terr *e)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	FILE *fp;

	if (fd < 0) {
		terr_set(e, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		terr_set(e, "%s: not a regular file", path);
		return NULL;
	}
	if ((fp = fdopen(fd, "rb")) == NULL) {
		close(fd);
		terr_set(e, "%s: %s", path, strerror(errno));
		return NULL;
	}
	*size = (uint64_t)st.st_size;
	return fp;
}

/*
 * Whether the store already holds this content: 1 when this source
 * delivered it (res->batch says as which batch), -1 with e when another
 * source did and the caller has not said it is meant (the same calls
 * would be billed twice, once under each source), 0 when it is new here.
 */
static int
already_stored(struct store *s, const char *source, const char *path,
    const char *sha, const struct ingest_opts *o, struct ingest_result *res,
    struct terr *e)
{
	char other[128];
	int64_t id;
	int found;

	if ((found = store_batch_find(s, source, sha, &res->batch, e)) != 0)
		return found;
	if (o != NULL && o->also_under_source)
		return 0;
	if ((found = store_batch_find_elsewhere(s, source, sha, &id, other, sizeof other,
	    e)) <= 0)
		return found;
	return terr_set(e, "%s: the same content is already stored under source %s "
	    "(batch %lld): refused under source %s, which would bill its calls a "
	    "second time (--also-under-source if that is meant)", path, other,
	    (long long)id, source);
}

int
ingest_file(struct store *s, struct format *f, const char *source,
    const char *path, const struct ingest_hooks *h, struct ingest_result *res,
    struct terr *e)
{
	return ingest_file_with(s, f, source, path, NULL, h, res, e);
}

int
ingest_file_with(struct store *s, struct format *f, const char *source,
    const char *path, const struct ingest_opts *o, const struct ingest_hooks *h,
    struct ingest_result *res, struct terr *e)
{
	char sha[2 * SHA256_DIGEST_SIZE + 1], sha2[sizeof sha];
	uint64_t size;
	FILE *fp;
	int found;

	memset(res, 0, sizeof *res);
	/* A switch may append to the file while we read it: the batch is the
	 * file as it was at open (its size then), and what is appended later
	 * arrives with the next run, its lines already stored as duplicates. */
	if ((fp = open_regular(path, &size, e)) == NULL)
		return -1;
	if (file_sha256(fp, size, sha) != 0) {
		fclose(fp);
		return terr_set(e, "%s: read error: %s", path, strerror(errno));
	}
	if ((found = already_stored(s, source, path, sha, o, res, e)) != 0)
		goto skip;
	if (store_begin(s, e) != 0) {
		fclose(fp);
		return -1;
	}
	/* Again under the write lock: an overlapping run may have just done it. */
	if ((found = already_stored(s, source, path, sha, o, res, e)) != 0) {
		store_rollback(s);
		goto skip;
	}
	rewind(fp);
	if (store_batch_add(s, source, format_kind_name(f->kind), path, sha, size,
	    &res->batch, e) != 0 ||
	    ingest_lines(s, f, source, path, fp, size, res->batch, h, &res->n, e) != 0)
		goto fail;
	/* Those bytes must not have changed while we parsed them: the batch
	 * would claim content it does not hold. */
	if (file_sha256(fp, size, sha2) != 0 || strcmp(sha, sha2) != 0) {
		terr_set(e, "%s: file changed while being ingested", path);
		goto fail;
	}
	if (store_batch_set_counts(s, res->batch, &res->n, e) != 0 ||
	    store_commit(s, e) != 0)
		goto fail;
	fclose(fp);
	return 0;
skip:
	fclose(fp);
	res->skipped = found > 0;
	return found > 0 ? 0 : -1;
fail:
	store_rollback(s);
	fclose(fp);
	return -1;
}
