#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tally/lreader.h"

#define CHUNK 65536

struct lreader {
	FILE *f;
	size_t limit;
	char *line;		/* the current line, up to limit bytes */
	char chunk[CHUNK];	/* read-ahead */
	size_t pos, fill;
	uint64_t lineno, offset;
	uint64_t max_bytes, read_bytes;	/* max 0: no bound */
	int eof, started;
};

struct lreader *
lreader_new(FILE *f, size_t limit)
{
	struct lreader *r = calloc(1, sizeof *r);

	/* limit + 1: room for the CR of a CRLF line that is exactly at the limit */
	if (r == NULL || (r->line = malloc(limit + 2)) == NULL) {
		free(r);
		return NULL;
	}
	r->f = f;
	r->limit = limit;
	return r;
}

void
lreader_free(struct lreader *r)
{
	if (r) {
		free(r->line);
		free(r);
	}
}

void
lreader_set_max_bytes(struct lreader *r, uint64_t n)
{
	r->max_bytes = n;
}

uint64_t
lreader_offset(const struct lreader *r)
{
	return r->offset;
}

/* Refill the read-ahead; 1 = data, 0 = EOF, -1 = error. */
static int
refill(struct lreader *r)
{
	size_t want = CHUNK;

	if (r->eof)
		return 0;
	if (r->max_bytes) {
		if (r->read_bytes >= r->max_bytes) {
			r->eof = 1;
			return 0;
		}
		if (r->max_bytes - r->read_bytes < want)
			want = (size_t)(r->max_bytes - r->read_bytes);
	}
	r->fill = fread(r->chunk, 1, want, r->f);
	r->read_bytes += r->fill;
	r->pos = 0;
	if (r->fill == 0) {
		if (ferror(r->f))
			return -1;
		r->eof = 1;
		return 0;
	}
	return 1;
}

int
lreader_next(struct lreader *r, struct lline *out)
{
	size_t kept = 0;
	uint64_t full = 0;
	int got = 0;

	for (;;) {
		char *nl;
		size_t avail, take;

		if (r->pos == r->fill) {
			int rc = refill(r);

			if (rc < 0)
				return -1;
			if (rc == 0)
				break;
			if (!r->started) {
				r->started = 1;
				/* A BOM split across reads is not worth handling:
				 * the first read is CHUNK bytes or the whole file. */
				if (r->fill >= 3 && memcmp(r->chunk, "\xEF\xBB\xBF", 3) == 0) {
					r->pos = 3;
					r->offset += 3;
				}
			}
			if (r->pos == r->fill)
				continue;	/* a file that is only a BOM */
		}
		got = 1;
		avail = r->fill - r->pos;
		nl = memchr(r->chunk + r->pos, '\n', avail);
		take = nl ? (size_t)(nl - (r->chunk + r->pos)) : avail;
		if (kept < r->limit + 1) {
			size_t room = r->limit + 1 - kept;
			size_t c = take < room ? take : room;

			memcpy(r->line + kept, r->chunk + r->pos, c);
			kept += c;
		}
		full += take;
		r->pos += take;
		r->offset += take;
		if (nl) {
			r->pos++;	/* the LF */
			r->offset++;
			goto line_done;
		}
	}
	if (!got)
		return 0;
line_done:
	/* CR of a CRLF pair: only when the line was kept whole. */
	if (full > 0 && kept == full && r->line[kept - 1] == '\r') {
		kept--;
		full--;
	}
	if (kept > r->limit)
		kept = r->limit;
	r->lineno++;
	out->text = r->line;
	out->len = kept;
	out->full_len = full;
	out->too_long = full > r->limit;
	out->lineno = r->lineno;
	return 1;
}
