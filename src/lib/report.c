#include <string.h>

#include "tally/report.h"

int
report_format_parse(const char *name, enum report_format *out)
{
	if (strcmp(name, "text") == 0)
		*out = REPORT_TEXT;
	else if (strcmp(name, "csv") == 0)
		*out = REPORT_CSV;
	else
		return -1;
	return 0;
}

void
report_csv_field(FILE *out, const char *s, size_t len)
{
	int quote = 0;

	for (size_t i = 0; i < len && !quote; i++)
		quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
	if (!quote) {
		fwrite(s, 1, len, out);
		return;
	}
	fputc('"', out);
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"')
			fputc('"', out);
		fputc(s[i], out);
	}
	fputc('"', out);
}

/* Length of the valid UTF-8 sequence at s (of n bytes), or 0. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	size_t need;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		need = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		need = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		need = 4;
	else
		return 0;
	if (need > n)
		return 0;
	for (size_t i = 1; i < need; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return need;
}

/* Text for a terminal: valid UTF-8 as it is, anything else as \xNN. */
static void
print_escaped(FILE *out, const void *raw, size_t len, size_t max)
{
	const unsigned char *s = raw;
	size_t i = 0;

	while (i < len && i < max) {
		size_t u = utf8_len(s + i, len - i);

		if (u == 1 && s[i] >= 0x20 && s[i] != 0x7f && s[i] != '\\') {
			fputc(s[i], out);
		} else if (u > 1) {
			fwrite(s + i, 1, u, out);
		} else {
			fprintf(out, "\\x%02x", s[i]);
			u = 1;
		}
		i += u;
	}
	if (len > max)
		fprintf(out, "... (%zu bytes)", len);
}

struct widths {
	int batch, source, file;
	struct batch_counts total;
	int rows;
};

static int
measure(const struct batch_row *b, void *arg)
{
	struct widths *w = arg;
	int n = snprintf(NULL, 0, "%lld", (long long)b->id);

	if (n > w->batch)
		w->batch = n;
	if ((int)strlen(b->source) > w->source)
		w->source = (int)strlen(b->source);
	if ((int)strlen(b->file) > w->file)
		w->file = (int)strlen(b->file);
	w->total.read += b->n.read;
	w->total.accepted += b->n.accepted;
	w->total.rejected += b->n.rejected;
	w->total.duplicates += b->n.duplicates;
	w->rows++;
	return 0;
}

struct reconcile_ctx {
	FILE *out;
	enum report_format fmt;
	const struct widths *w;
};

static void
text_row(FILE *out, const struct widths *w, const char *batch, const char *source,
    const char *file, const struct batch_counts *n)
{
	fprintf(out, "%*s  %-*s  %-*s  %10llu %10llu %10llu %10llu\n", w->batch, batch,
	    w->source, source, w->file, file, (unsigned long long)n->read,
	    (unsigned long long)n->accepted, (unsigned long long)n->rejected,
	    (unsigned long long)n->duplicates);
}

static int
reconcile_row(const struct batch_row *b, void *arg)
{
	struct reconcile_ctx *c = arg;

	if (c->fmt == REPORT_CSV) {
		fprintf(c->out, "%lld,", (long long)b->id);
		report_csv_field(c->out, b->source, strlen(b->source));
		fputc(',', c->out);
		report_csv_field(c->out, b->file, strlen(b->file));
		fprintf(c->out, ",%llu,%llu,%llu,%llu\n", (unsigned long long)b->n.read,
		    (unsigned long long)b->n.accepted, (unsigned long long)b->n.rejected,
		    (unsigned long long)b->n.duplicates);
	} else {
		char id[24];

		snprintf(id, sizeof id, "%lld", (long long)b->id);
		text_row(c->out, c->w, id, b->source, b->file, &b->n);
	}
	return 0;
}

int
report_reconcile(struct store *s, FILE *out, enum report_format fmt,
    struct terr *e)
{
	struct widths w = { 5, 6, 4, { 0, 0, 0, 0 }, 0 };
	struct reconcile_ctx c = { out, fmt, &w };

	if (fmt == REPORT_CSV) {
		fputs("batch,source,file,read,accepted,rejected,duplicates\n", out);
		return store_each_batch(s, reconcile_row, &c, e) < 0 ? -1 : 0;
	}
	if (store_each_batch(s, measure, &w, e) < 0)
		return -1;
	fprintf(out, "%*s  %-*s  %-*s  %10s %10s %10s %10s\n", w.batch, "batch",
	    w.source, "source", w.file, "file", "read", "accepted", "rejected",
	    "duplicates");
	if (store_each_batch(s, reconcile_row, &c, e) < 0)
		return -1;
	text_row(out, &w, "total", "", "", &w.total);
	return 0;
}

struct rejects_ctx {
	FILE *out;
	enum report_format fmt;
};

static int
reject_row(const struct reject_row *r, void *arg)
{
	struct rejects_ctx *c = arg;

	if (c->fmt == REPORT_CSV) {
		fprintf(c->out, "%lld,", (long long)r->batch);
		report_csv_field(c->out, r->file, strlen(r->file));
		fprintf(c->out, ",%lld,", (long long)r->line);
		report_csv_field(c->out, r->field, strlen(r->field));
		fputc(',', c->out);
		report_csv_field(c->out, r->reason, strlen(r->reason));
		fputc(',', c->out);
		report_csv_field(c->out, r->raw, r->rawlen);
		fputc('\n', c->out);
	} else {
		fprintf(c->out, "%s:%lld: %s: %s\n    ", r->file, (long long)r->line,
		    r->field, r->reason);
		print_escaped(c->out, r->raw, r->rawlen, 1000);
		fputc('\n', c->out);
	}
	return 0;
}

int
report_rejects(struct store *s, FILE *out, enum report_format fmt,
    int64_t batch, struct terr *e)
{
	struct rejects_ctx c = { out, fmt };

	if (fmt == REPORT_CSV)
		fputs("batch,file,line,field,reason,raw\n", out);
	return store_each_reject(s, batch, reject_row, &c, e) < 0 ? -1 : 0;
}
