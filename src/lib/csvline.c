#include <csv.h>
#include <stdlib.h>
#include <string.h>

#include "tally/csvline.h"

struct csvline {
	struct csv_parser p;
	unsigned char delim;
	char *buf;		/* every field of the line, each NUL-terminated */
	size_t used, cap;
	size_t *off, *len;	/* per field: offset into buf, length */
	int n, fcap;
	int oom;
	char *line, *rec;	/* csvline_read: the last physical line, the record */
	size_t linecap, reccap;
};

/* Spaces around an unquoted field are dropped; tabs are not, so that a
 * TAB-separated file keeps its empty fields. */
static int
is_space(unsigned char ch)
{
	return ch == ' ';
}

static int
parser_init(struct csvline *c)
{
	if (csv_init(&c->p, CSV_STRICT | CSV_STRICT_FINI) != 0)
		return -1;
	csv_set_delim(&c->p, c->delim);
	csv_set_space_func(&c->p, is_space);
	return 0;
}

struct csvline *
csvline_new(unsigned char delim)
{
	struct csvline *c = calloc(1, sizeof *c);

	if (c == NULL)
		return NULL;
	c->delim = delim;
	if (parser_init(c) != 0) {
		free(c);
		return NULL;
	}
	return c;
}

void
csvline_free(struct csvline *c)
{
	if (c == NULL)
		return;
	csv_free(&c->p);
	free(c->buf);
	free(c->off);
	free(c->len);
	free(c->line);
	free(c->rec);
	free(c);
}

static void
on_field(void *data, size_t len, void *ctx)
{
	struct csvline *c = ctx;

	if (c->oom)
		return;
	if (c->n == c->fcap) {
		int ncap = c->fcap ? c->fcap * 2 : 32;
		size_t *o = realloc(c->off, ncap * sizeof *o);
		size_t *l = o ? realloc(c->len, ncap * sizeof *l) : NULL;

		if (o)
			c->off = o;
		if (l == NULL) {
			c->oom = 1;
			return;
		}
		c->len = l;
		c->fcap = ncap;
	}
	if (c->used + len + 1 > c->cap) {
		size_t ncap = (c->used + len + 1) * 2;
		char *b = realloc(c->buf, ncap);

		if (b == NULL) {
			c->oom = 1;
			return;
		}
		c->buf = b;
		c->cap = ncap;
	}
	if (len)
		memcpy(c->buf + c->used, data, len);
	c->buf[c->used + len] = '\0';
	c->off[c->n] = c->used;
	c->len[c->n] = len;
	c->used += len + 1;
	c->n++;
}

int
csvline_split(struct csvline *c, const char *line, size_t len)
{
	c->n = 0;
	c->used = 0;
	c->oom = 0;
	/* libcsv calls back per field; a line always yields at least one. */
	if (csv_parse(&c->p, line, len, on_field, NULL, c) != len ||
	    csv_fini(&c->p, on_field, NULL, c) != 0 || c->oom) {
		/* After a parse error libcsv keeps its error state; start a
		 * fresh parser (rare: only for broken lines). */
		csv_free(&c->p);
		if (parser_init(c) != 0)
			c->oom = 1;
		return -1;
	}
	if (c->n == 0)	/* an empty line: libcsv reports no field at all */
		on_field("", 0, c);
	return c->oom ? -1 : c->n;
}

const char *
csvline_field(const struct csvline *c, int i)
{
	return c->buf + c->off[i];
}

size_t
csvline_field_len(const struct csvline *c, int i)
{
	return c->len[i];
}

int
csvline_read(struct csvline *c, FILE *f)
{
	size_t len = 0;
	ssize_t n;

	while ((n = getline(&c->line, &c->linecap, f)) > 0) {
		size_t l;
		int fields;

		if (len + (size_t)n + 1 > c->reccap) {
			size_t cap = (len + (size_t)n + 1) * 2;
			char *v = realloc(c->rec, cap);

			if (v == NULL)
				return -1;
			c->rec = v, c->reccap = cap;
		}
		memcpy(c->rec + len, c->line, (size_t)n);
		len += (size_t)n;
		c->rec[len] = '\0';
		for (l = len; l > 0 && (c->rec[l - 1] == '\n' || c->rec[l - 1] == '\r'); l--)
			;
		/* a quoted field holding a line end goes on in the next line */
		if ((fields = csvline_split(c, c->rec, l)) >= 0)
			return fields;
	}
	return len ? -1 : 0;
}
