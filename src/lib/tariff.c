#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <errno.h>
#include <nettle/sha2.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tally/csvline.h"
#include "tally/lreader.h"
#include "tally/tariff.h"
#include "tally/timefmt.h"

static const char *const file_names[TF_NFILES] = {
	[TF_PACKAGE] = "package.csv",
	[TF_CLASSES] = "classes.csv",
	[TF_RATES] = "rates.csv",
	[TF_BANDS] = "bands.csv",
	[TF_HOLIDAYS] = "holidays.csv",
	[TF_TIERS] = "tiers.csv",
	[TF_PLANS] = "plans.csv",
	[TF_PLAN_CLASSES] = "plan_classes.csv",
	[TF_ACCOUNTS] = "accounts.csv",
	[TF_NUMBERS] = "numbers.csv",
	[TF_BUNDLES] = "bundles.csv",
	[TF_SUBSCRIPTIONS] = "subscriptions.csv",
	[TF_FEES] = "fees.csv",
	[TF_FEE_PRICES] = "fee_prices.csv",
	[TF_ACCOUNT_FEES] = "account_fees.csv",
	[TF_MINIMUMS] = "minimums.csv",
	[TF_RENTALS] = "rentals.csv",
};

/* Files a package cannot do without. */
static const int file_required[TF_NFILES] = {
	[TF_PACKAGE] = 1, [TF_CLASSES] = 1, [TF_PLANS] = 1,
	[TF_PLAN_CLASSES] = 1, [TF_ACCOUNTS] = 1,
};

const char *
tariff_file_name(enum tariff_fileid f)
{
	return file_names[f];
}

/* ---- raw package -------------------------------------------------------- */

static int
read_file(const char *path, char **data, size_t *len, struct terr *e)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0, got;

	if (fp == NULL)
		return errno == ENOENT ? 0 : terr_set(e, "%s: %s", path, strerror(errno));
	do {
		if (n + 65536 > cap) {
			char *nb = realloc(buf, cap = (n + 65536) * 2);

			if (nb == NULL) {
				free(buf);
				fclose(fp);
				return terr_set(e, "%s: out of memory", path);
			}
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n, fp);
		n += got;
	} while (got > 0);
	if (ferror(fp)) {
		free(buf);
		fclose(fp);
		return terr_set(e, "%s: read error", path);
	}
	fclose(fp);
	*data = buf;
	*len = n;
	return 1;
}

int
tariff_pkg_read_dir(const char *dir, struct tariff_pkg *p, struct terr *e)
{
	memset(p, 0, sizeof *p);
	for (int i = 0; i < TF_NFILES; i++) {
		char path[4096];

		snprintf(path, sizeof path, "%s/%s", dir, file_names[i]);
		if (read_file(path, &p->data[i], &p->len[i], e) < 0) {
			tariff_pkg_release(p);
			return -1;
		}
	}
	return 0;
}

void
tariff_pkg_release(struct tariff_pkg *p)
{
	for (int i = 0; i < TF_NFILES; i++) {
		free(p->data[i]);
		p->data[i] = NULL;
	}
}

void
tariff_pkg_hash(const struct tariff_pkg *p, char out[65])
{
	static const char hexd[] = "0123456789abcdef";
	struct sha256_ctx ctx;
	uint8_t d[SHA256_DIGEST_SIZE];

	sha256_init(&ctx);
	for (int i = 0; i < TF_NFILES; i++) {
		char head[64];
		int n;

		if (p->data[i] == NULL)
			continue;
		n = snprintf(head, sizeof head, "%s %zu\n", file_names[i], p->len[i]);
		sha256_update(&ctx, (size_t)n, (const uint8_t *)head);
		sha256_update(&ctx, p->len[i], (const uint8_t *)p->data[i]);
	}
	sha256_digest(&ctx, sizeof d, d);
	for (int i = 0; i < SHA256_DIGEST_SIZE; i++) {
		out[2 * i] = hexd[d[i] >> 4];
		out[2 * i + 1] = hexd[d[i] & 15];
	}
	out[64] = '\0';
}

/* ---- errors ------------------------------------------------------------- */

void
tariff_errors_release(struct tariff_errors *e)
{
	for (int i = 0; i < e->n; i++)
		free(e->msg[i]);
	free(e->msg);
	memset(e, 0, sizeof *e);
}

/* Errors beyond this many are counted, not kept: a wrong delimiter must
 * not produce 100k messages. */
#define MAX_ERRORS 200

__attribute__((format(printf, 5, 6)))
static void
perr(struct tariff_errors *e, enum tariff_fileid f, uint64_t line, const char *col,
    const char *fmt, ...)
{
	char buf[1024];
	int n;
	va_list ap;

	if (e->n >= MAX_ERRORS) {
		e->more++;
		return;
	}
	if (line)
		n = snprintf(buf, sizeof buf, "%s:%llu:%s%s", file_names[f],
		    (unsigned long long)line, col ? col : "", col ? ": " : " ");
	else
		n = snprintf(buf, sizeof buf, "%s: ", file_names[f]);
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof buf - (size_t)n, fmt, ap);
	va_end(ap);
	if (e->n == e->cap) {
		char **m = realloc(e->msg, (size_t)(e->cap = e->cap ? e->cap * 2 : 16) * sizeof *m);

		if (m == NULL)
			return;
		e->msg = m;
	}
	if ((e->msg[e->n] = strdup(buf)) != NULL)
		e->n++;
}

/* ---- rows of a CSV file by column name ---------------------------------- */

struct rows {
	enum tariff_fileid f;
	FILE *fp;
	struct lreader *lr;
	struct csvline *cl;
	const char *const *cols;	/* expected column names, NULL-terminated */
	int idx[16];			/* header position of each, -1 absent */
	int ncols;			/* columns in the header */
	uint64_t line;
	struct tariff_errors *err;
};

/* Open a file's rows; cols[i] ending in '?' is optional.  Returns 0, or -1
 * (absent file, or a header lacking a required column: reported). */
static int
rows_open(struct rows *r, const struct tariff_pkg *p, enum tariff_fileid f,
    const char *const *cols, struct tariff_errors *err)
{
	struct lline l;

	memset(r, 0, sizeof *r);
	r->f = f;
	r->cols = cols;
	r->err = err;
	if (p->data[f] == NULL) {
		if (file_required[f])
			perr(err, f, 0, NULL, "missing");
		return -1;
	}
	if (p->len[f] == 0 || (r->fp = fmemopen(p->data[f], p->len[f], "rb")) == NULL ||
	    (r->lr = lreader_new(r->fp, 65536)) == NULL || (r->cl = csvline_new(',')) == NULL) {
		perr(err, f, 0, NULL, "empty, or no header row");
		goto fail;
	}
	do {
		if (lreader_next(r->lr, &l) != 1) {
			perr(err, f, 0, NULL, "no header row");
			goto fail;
		}
	} while (l.len == 0 || l.text[0] == '#');
	r->line = l.lineno;
	if ((r->ncols = csvline_split(r->cl, l.text, l.len)) < 0) {
		perr(err, f, l.lineno, NULL, "malformed CSV quoting in the header");
		goto fail;
	}
	for (int a = 0; a < r->ncols; a++) {
		for (int b = a + 1; b < r->ncols; b++) {
			if (strcmp(csvline_field(r->cl, a), csvline_field(r->cl, b)) == 0) {
				perr(err, f, l.lineno, NULL, "the header has column \"%s\" twice",
				    csvline_field(r->cl, a));
				goto fail;
			}
		}
	}
	for (int i = 0; cols[i]; i++) {
		size_t n = strlen(cols[i]);
		int optional = cols[i][n - 1] == '?';

		r->idx[i] = -1;
		for (int j = 0; j < r->ncols; j++)
			if (strlen(csvline_field(r->cl, j)) == n - (size_t)optional &&
			    strncmp(csvline_field(r->cl, j), cols[i], n - (size_t)optional) == 0)
				r->idx[i] = j;
		if (r->idx[i] < 0 && !optional) {
			perr(err, f, l.lineno, NULL, "header lacks the column \"%s\"", cols[i]);
			goto fail;
		}
	}
	return 0;
fail:
	csvline_free(r->cl);
	lreader_free(r->lr);
	if (r->fp)
		fclose(r->fp);
	memset(r, 0, sizeof *r);
	return -1;
}

static void
rows_close(struct rows *r)
{
	csvline_free(r->cl);
	lreader_free(r->lr);
	if (r->fp)
		fclose(r->fp);
}

/* Next data row; 0 at the end.  Bad rows are reported and skipped. */
static int
rows_next(struct rows *r)
{
	struct lline l;

	while (r->lr && lreader_next(r->lr, &l) == 1) {
		int n;

		r->line = l.lineno;
		if (l.len == 0 || l.text[0] == '#')
			continue;
		if (l.too_long) {
			perr(r->err, r->f, l.lineno, NULL, "line too long");
			continue;
		}
		if (memchr(l.text, '\0', l.len) || memchr(l.text, '\r', l.len)) {
			perr(r->err, r->f, l.lineno, NULL, "NUL byte or bare CR in line");
			continue;
		}
		if ((n = csvline_split(r->cl, l.text, l.len)) < 0) {
			perr(r->err, r->f, l.lineno, NULL, "malformed CSV quoting");
			continue;
		}
		if (n != r->ncols) {
			perr(r->err, r->f, l.lineno, NULL, "%d columns, expected %d", n, r->ncols);
			continue;
		}
		return 1;
	}
	return 0;
}

/* The row's text for expected column i ("" when an optional one is absent). */
static const char *
col(const struct rows *r, int i)
{
	return r->idx[i] < 0 ? "" : csvline_field(r->cl, r->idx[i]);
}

/* Column name without the optional marker, for messages. */
static const char *
cname(const struct rows *r, int i, char *buf, size_t len)
{
	tally_strlcpy(buf, r->cols[i], len);
	if (buf[0] && buf[strlen(buf) - 1] == '?')
		buf[strlen(buf) - 1] = '\0';
	return buf;
}

/* Report a problem with column i of the current row. */
__attribute__((format(printf, 3, 4)))
static void
ERR(struct rows *r, int i, const char *fmt, ...)
{
	char cn[32], buf[900];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	perr(r->err, r->f, r->line, cname(r, i, cn, sizeof cn), "%s", buf);
}

static int
valid_name(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 64 && strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

/* Whole number in [min, max]. */
static int
get_int(struct rows *r, int i, long min, long max, long *out)
{
	const char *s = col(r, i);
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < min || v > max ||
	    !(isdigit((unsigned char)*s) || (*s == '-' && min < 0))) {
		ERR(r, i, "\"%s\" is not a whole number from %ld to %ld", s, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

static int
get_money(struct rows *r, int i, int allow_empty, money *out)
{
	const char *s = col(r, i);

	if (*s == '\0' && allow_empty) {
		*out = 0;
		return 0;
	}
	/* a per-minute price above a million units is a typo, and keeps
	 * price * seconds of any call well inside 64 bits */
	if (*s == '-' || money_parse(s, out) != 0 || *out > (money)1000000 * MONEY_SCALE) {
		ERR(r, i, "\"%s\" is not an amount from 0 to 1000000 (at most 6 decimals)", s);
		return -1;
	}
	return 0;
}

static int
get_date(struct rows *r, int i, int32_t *out)
{
	struct civil c;

	if (timefmt_parse("%Y-%m-%d", col(r, i), &c) != 0 || strlen(col(r, i)) != 10) {
		ERR(r, i, "\"%s\" is not a date YYYY-MM-DD", col(r, i));
		return -1;
	}
	*out = c.year * 10000 + c.mon * 100 + c.day;
	return 0;
}

static char *
dup(const char *s)
{
	char *d = strdup(s);

	if (d == NULL) {
		fputs("tally: out of memory\n", stderr);
		abort();
	}
	return d;
}

/* Grow an array by one element: *arr has *n elements; returns the new one. */
static void *
grow(void *arrp, int *n, size_t size)
{
	void **arr = arrp;
	void *na;

	/* doubling at powers of two */
	if ((*n & (*n - 1)) == 0) {
		na = realloc(*arr, (size_t)(*n ? *n * 2 : 1) * size);
		if (na == NULL) {
			fputs("tally: out of memory\n", stderr);
			abort();
		}
		*arr = na;
	}
	memset((char *)*arr + (size_t)*n * size, 0, size);
	return (char *)*arr + (size_t)(*n)++ * size;
}

/* ---- lookups by name ---------------------------------------------------- */

static int
find_name(char *const *names, int n, size_t stride, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(*(char *const *)((const char *)names + (size_t)i * stride), name) == 0)
			return i;
	return -1;
}

#define FIND(arr, n, key) ((n) > 0 ? find_name((char *const *)&(arr)[0].name, (n), \
	sizeof (arr)[0], (key)) : -1)

static int
find_str(char **arr, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (strcmp(arr[i], s) == 0)
			return i;
	return -1;
}

/* ---- the files ---------------------------------------------------------- */

/* "10", "8", "5.25" percent -> hundredths of a percent. */
static int
tax_rate_parse(const char *s, int *out)
{
	money m;

	if (*s == '-' || money_parse(s, &m) != 0 || m % 10000 != 0 ||
	    m > (money)100 * MONEY_SCALE)
		return -1;
	*out = (int)(m / 10000);
	return 0;
}

static void
parse_package(struct tariff *t, const struct tariff_pkg *p, struct tariff_errors *err)
{
	static const char *const cols[] = { "key", "value", NULL };
	struct rows r;
	int currency_seen = 0;

	if (rows_open(&r, p, TF_PACKAGE, cols, err) != 0)
		return;
	while (rows_next(&r)) {
		const char *k = col(&r, 0), *v = col(&r, 1);

		if ((strcmp(k, "reseller") == 0 && t->reseller) ||
		    (strcmp(k, "currency") == 0 && currency_seen) ||
		    (strcmp(k, "name") == 0 && t->name)) {
			ERR(&r, 0, "key \"%s\" given twice", k);
			continue;
		}
		if (strcmp(k, "reseller") == 0) {
			if (!valid_name(v))
				ERR(&r, 1, "reseller \"%s\": use 1 to 64 of A-Z a-z 0-9 _ . -", v);
			else
				t->reseller = dup(v);
		} else if (strcmp(k, "currency") == 0) {
			currency_seen = 1;
			if ((t->currency_decimals = money_currency_decimals(v)) < 0)
				ERR(&r, 1, "unknown currency \"%s\"", v);
			else
				t->currency = dup(v);
		} else if (strcmp(k, "name") == 0) {
			t->name = dup(v);
		} else if (strcmp(k, "tax_rate") == 0) {
			if (tax_rate_parse(v, &t->tax_rate) != 0)
				ERR(&r, 1, "\"%s\" is not a tax rate in percent from 0 to 100 "
				    "(at most 2 decimals)", v);
		} else if (strcmp(k, "tax") == 0) {
			if (strcmp(v, "included") == 0 || strcmp(v, "excluded") == 0)
				t->tax_included = strcmp(v, "included") == 0;
			else
				ERR(&r, 1, "\"%s\" is not included or excluded", v);
		} else if (strcmp(k, "invoice_prefix") == 0 || strcmp(k, "credit_prefix") == 0) {
			char **pp = k[0] == 'i' ? &t->invoice_prefix : &t->credit_prefix;

			if (*v == '\0' || strlen(v) > TARIFF_PREFIX_MAX || strspn(v,
			    "abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-/") != strlen(v))
				ERR(&r, 1, "\"%s\": use 1 to %d of A-Z a-z 0-9 _ . - /", v,
				    TARIFF_PREFIX_MAX);
			else if (*pp)
				ERR(&r, 0, "key \"%s\" given twice", k);
			else
				*pp = dup(v);
		} else if (strcmp(k, "issuer") == 0 || strcmp(k, "issuer_address") == 0 ||
		    strcmp(k, "issuer_tax_id") == 0) {
			char **pp = k[6] == '\0' ? &t->issuer : k[7] == 'a' ? &t->issuer_address :
			    &t->issuer_tax_id;

			if (*pp)
				ERR(&r, 0, "key \"%s\" given twice", k);
			else if (strlen(v) > 200)
				ERR(&r, 1, "longer than 200 bytes");
			else
				*pp = dup(v);
		} else {
			ERR(&r, 0, "unknown key \"%s\"", k);
		}
	}
	if (t->reseller == NULL)
		perr(err, TF_PACKAGE, 0, NULL, "no reseller");
	if (!currency_seen)
		perr(err, TF_PACKAGE, 0, NULL, "no currency");
	/* The defaults are checked like explicit prefixes: a number is never cut
	 * (TARIFF_PREFIX_MAX), so a prefix that cannot fit is refused here. */
	if (t->reseller && t->invoice_prefix == NULL) {
		char buf[80];

		snprintf(buf, sizeof buf, "%s-", t->reseller);
		if (strlen(buf) > TARIFF_PREFIX_MAX)
			perr(err, TF_PACKAGE, 0, NULL, "invoice_prefix: the default, reseller "
			    "\"%s\" and a dash, is %zu characters; at most %d fit before the "
			    "digits of an invoice number: give a shorter invoice_prefix",
			    t->reseller, strlen(buf), TARIFF_PREFIX_MAX);
		else
			t->invoice_prefix = dup(buf);
	}
	if (t->reseller && t->credit_prefix == NULL) {
		char buf[80];

		snprintf(buf, sizeof buf, "%s-CN-", t->reseller);
		if (strlen(buf) > TARIFF_PREFIX_MAX)
			perr(err, TF_PACKAGE, 0, NULL, "credit_prefix: the default, reseller "
			    "\"%s\" and \"-CN-\", is %zu characters; at most %d fit before the "
			    "digits of a credit-note number: give a shorter credit_prefix",
			    t->reseller, strlen(buf), TARIFF_PREFIX_MAX);
		else
			t->credit_prefix = dup(buf);
	}
	if (t->invoice_prefix && t->credit_prefix &&
	    strcmp(t->invoice_prefix, t->credit_prefix) == 0)
		perr(err, TF_PACKAGE, 0, NULL, "credit_prefix equals invoice_prefix: credit notes"
		    " and invoices would share numbers");
	rows_close(&r);
}

static void *
compile_pattern(struct rows *r, int i)
{
	const char *s = col(r, i);
	PCRE2_SIZE off;
	int ec;
	pcre2_code *re;

	if (*s == '\0')
		return NULL;
	if ((re = pcre2_compile((PCRE2_SPTR)s, PCRE2_ZERO_TERMINATED, 0, &ec, &off, NULL)) == NULL) {
		PCRE2_UCHAR msg[200];

		pcre2_get_error_message(ec, msg, sizeof msg);
		ERR(r, i, "bad pattern: %s at offset %zu", (char *)msg, (size_t)off);
		return NULL;
	}
	pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	return re;
}

static int
by_priority(const void *a, const void *b)
{
	const struct tclass *x = a, *y = b;

	return (x->priority > y->priority) - (x->priority < y->priority);
}

static void
parse_classes(struct tariff *t, const struct tariff_pkg *p, struct tariff_errors *err)
{
	static const char *const cols[] = { "class", "priority", "type", "caller", "callee",
		"payer", NULL };
	struct rows r;

	if (rows_open(&r, p, TF_CLASSES, cols, err) != 0)
		return;
	while (rows_next(&r)) {
		struct tclass c = { 0 };
		const char *type = col(&r, 2), *payer = col(&r, 5);
		int bad = 0;

		if (!valid_name(col(&r, 0)))
			ERR(&r, 0, "\"%s\" is not a class name", col(&r, 0)), bad = 1;
		else if (FIND(t->classes, t->nclasses, col(&r, 0)) >= 0)
			ERR(&r, 0, "class \"%s\" defined twice", col(&r, 0)), bad = 1;
		if (get_int(&r, 1, -1000000, 1000000, &c.priority) != 0)
			bad = 1;
		for (int i = 0; i < t->nclasses && !bad; i++)
			if (t->classes[i].priority == c.priority)
				ERR(&r, 1, "priority %ld already used by class \"%s\"", c.priority,
				    t->classes[i].name), bad = 1;
		if (strcmp(type, "voice") == 0)
			c.type = CT_VOICE;
		else if (strcmp(type, "sms") == 0)
			c.type = CT_SMS;
		else if (strcmp(type, "any") == 0)
			c.type = CT_ANY;
		else
			ERR(&r, 2, "\"%s\" is not voice, sms or any", type), bad = 1;
		if (strcmp(payer, "caller") == 0)
			c.payer = PAYER_CALLER;
		else if (strcmp(payer, "owner") == 0)
			c.payer = PAYER_OWNER;
		else if (strcmp(payer, "none") == 0)
			c.payer = PAYER_NONE;
		else
			ERR(&r, 5, "\"%s\" is not caller, owner or none", payer), bad = 1;
		c.caller_re = compile_pattern(&r, 3);
		c.callee_re = compile_pattern(&r, 4);
		if ((col(&r, 3)[0] && !c.caller_re) || (col(&r, 4)[0] && !c.callee_re))
			bad = 1;
		if (bad) {
			pcre2_code_free(c.caller_re);
			pcre2_code_free(c.callee_re);
			continue;
		}
		c.name = dup(col(&r, 0));
		t->owner_classes |= c.payer == PAYER_OWNER;
		*(struct tclass *)grow(&t->classes, &t->nclasses, sizeof c) = c;
	}
	if (t->nclasses > 0)
		qsort(t->classes, (size_t)t->nclasses, sizeof *t->classes, by_priority);
	rows_close(&r);
}

static void
parse_bands(struct tariff *t, const struct tariff_pkg *p, struct tariff_errors *err)
{
	static const char *const cols[] = { "band", "days", "from", "to", NULL };
	static const char *const dnames[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
	struct rows r;

	if (p->data[TF_BANDS] == NULL || rows_open(&r, p, TF_BANDS, cols, err) != 0)
		return;
	while (rows_next(&r)) {
		struct band_row b = { 0 };
		const char *days = col(&r, 1);
		int times[2], bad = 0;

		if (!valid_name(col(&r, 0))) {
			ERR(&r, 0, "\"%s\" is not a band name", col(&r, 0));
			continue;
		}
		if (strcmp(days, "holiday") != 0) {
			int d0 = -1, d1 = -1;

			for (int i = 0; i < 7; i++) {
				if (strncmp(days, dnames[i], 3) == 0)
					d0 = i;
				if (strlen(days) == 7 && days[3] == '-' && strcmp(days + 4, dnames[i]) == 0)
					d1 = i;
			}
			if (strlen(days) == 3 && d0 >= 0)
				d1 = d0;
			if (d0 < 0 || d1 < 0 || d1 < d0) {
				ERR(&r, 1, "\"%s\" is not a day (Mon..Sun), a range like Mon-Fri, "
				    "or holiday", days);
				continue;
			}
			for (int i = d0; i <= d1; i++)
				b.days |= 1 << i;
		}
		for (int i = 0; i < 2; i++) {
			struct civil c;
			const char *s = col(&r, 2 + i);

			if (strcmp(s, "24:00") == 0 && i == 1)
				times[i] = 1440;
			else if (strlen(s) == 5 && timefmt_parse("%H:%M", s, &c) == 0)
				times[i] = c.hour * 60 + c.min;
			else
				ERR(&r, 2 + i, "\"%s\" is not a time HH:MM", s), bad = 1;
		}
		if (bad)
			continue;
		if (times[0] >= times[1]) {
			ERR(&r, 3, "\"%s\" is not after \"%s\"", col(&r, 3), col(&r, 2));
			continue;
		}
		b.from = times[0];
		b.to = times[1];
		if ((b.band = find_str(t->bands, t->nbands, col(&r, 0))) < 0) {
			b.band = t->nbands;
			*(char **)grow(&t->bands, &t->nbands, sizeof(char *)) = dup(col(&r, 0));
		}
		for (int i = 0; i < t->nband_rows; i++) {
			const struct band_row *o = &t->band_rows[i];
			int same_days = (o->days == 0 && b.days == 0) || (o->days & b.days);

			if (same_days && o->from < b.to && b.from < o->to) {
				ERR(&r, 0, "band \"%s\" overlaps band \"%s\"", col(&r, 0),
				    t->bands[o->band]);
				bad = 1;
				break;
			}
		}
		if (!bad)
			*(struct band_row *)grow(&t->band_rows, &t->nband_rows, sizeof b) = b;
	}
	rows_close(&r);
}

static int
cmp_i32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return (x > y) - (x < y);
}

static void
parse_holidays(struct tariff *t, const struct tariff_pkg *p, struct tariff_errors *err)
{
	static const char *const cols[] = { "date", "name?", NULL };
	struct rows r;

	if (p->data[TF_HOLIDAYS] == NULL || rows_open(&r, p, TF_HOLIDAYS, cols, err) != 0)
		return;
	while (rows_next(&r)) {
		int32_t d;

		if (get_date(&r, 0, &d) == 0)
			*(int32_t *)grow(&t->holidays, &t->nholidays, sizeof d) = d;
	}
	if (t->nholidays > 0)
		qsort(t->holidays, (size_t)t->nholidays, sizeof *t->holidays, cmp_i32);
	rows_close(&r);
}

/* ---- rate decks and their prefix trie ----------------------------------- */

static int
trie_node_new(struct tariff *t)
{
	struct trie_node *n;

	if (t->nnodes == t->nodecap) {
		int cap = t->nodecap ? t->nodecap * 2 : 1024;
		struct trie_node *nn = realloc(t->nodes, (size_t)cap * sizeof *nn);

		if (nn == NULL) {
			fputs("tally: out of memory\n", stderr);
			abort();
		}
		t->nodes = nn;
		t->nodecap = cap;
	}
	n = &t->nodes[t->nnodes];
	memset(n->child, 0xff, sizeof n->child);	/* -1 */
	n->rates = -1;
	return t->nnodes++;
}

/* The node of a prefix in a deck, created when absent. */
static int
trie_insert(struct tariff *t, int deck, const char *prefix)
{
	int node = t->decks[deck].root;

	for (; *prefix; prefix++) {
		int d = *prefix - '0', next = t->nodes[node].child[d];

		if (next < 0) {
			next = trie_node_new(t);	/* may move t->nodes */
			t->nodes[node].child[d] = next;
		}
		node = next;
	}
	return node;
}

static int
dates_overlap(const struct rate *a, const struct rate *b)
{
	return (a->to == 0 || b->from < a->to) && (b->to == 0 || a->from < b->to);
}

static void
parse_rates(struct tariff *t, const struct tariff_pkg *p, struct tariff_errors *err)
{
	static const char *const cols[] = { "deck", "prefix", "destination", "price",
		"connection_fee?", "initial", "increment", "min_duration?", "band?",
		"effective_from", "effective_to?", NULL };
	struct rows r;

	if (p->data[TF_RATES] == NULL || rows_open(&r, p, TF_RATES, cols, err) != 0)
		return;
	while (rows_next(&r)) {
		struct rate rt = { 0 };
		const char *prefix = col(&r, 1);
		long v;
		int bad = 0, node;

		if (!valid_name(col(&r, 0)))
			ERR(&r, 0, "\"%s\" is not a deck name", col(&r, 0)), bad = 1;
		if (*prefix == '+')
			prefix++;
		if ((prefix != col(&r, 1) && *prefix == '\0') ||
		    strspn(prefix, "0123456789") != strlen(prefix) || strlen(prefix) > 32)
			ERR(&r, 1, "\"%s\" is not a prefix (digits, an optional leading +)",
			    col(&r, 1)), bad = 1;
		bad |= get_money(&r, 3, 0, &rt.price) != 0;
		bad |= get_money(&r, 4, 1, &rt.connection_fee) != 0;
		bad |= get_int(&r, 5, 1, 86400, &v) != 0;
		rt.initial = (int)v;
		bad |= get_int(&r, 6, 1, 86400, &v) != 0;
		rt.increment = (int)v;
		if (col(&r, 7)[0] == '\0')
			v = 0;
		else
			bad |= get_int(&r, 7, 0, 86400, &v) != 0;
		rt.min_duration = (int)v;
		rt.band = -1;
		if (col(&r, 8)[0] && (rt.band = find_str(t->bands, t->nbands, col(&r, 8))) < 0)
			ERR(&r, 8, "unknown band \"%s\"", col(&r, 8)), bad = 1;
		bad |= get_date(&r, 9, &rt.from) != 0;
		if (col(&r, 10)[0]) {
			bad |= get_date(&r, 10, &rt.to) != 0;
			if (!bad && rt.to <= rt.from)
				ERR(&r, 10, "effective_to is not after effective_from"), bad = 1;
		}
		if (bad)
			continue;
		if ((rt.deck = FIND(t->decks, t->ndecks, col(&r, 0))) < 0) {
			struct deck *d = grow(&t->decks, &t->ndecks, sizeof *d);

			d->name = dup(col(&r, 0));
			d->root = trie_node_new(t);
			rt.deck = t->ndecks - 1;
		}
		node = trie_insert(t, rt.deck, prefix);
		for (int o = t->nodes[node].rates; o >= 0; o = t->rates[o].next) {
			if (t->rates[o].band == rt.band && dates_overlap(&t->rates[o], &rt)) {
				ERR(&r, 1, "prefix \"%s\" already has a rate for these dates in "
				    "deck \"%s\" (line %d)", col(&r, 1), col(&r, 0), t->rates[o].line);
				bad = 1;
				break;
			}
		}
		if (bad)
			continue;
		rt.prefix = dup(prefix);
		rt.destination = dup(col(&r, 2));
		rt.line = (int)r.line;
		rt.next = t->nodes[node].rates;
		t->nodes[node].rates = t->nrates;
		*(struct rate *)grow(&t->rates, &t->nrates, sizeof rt) = rt;
	}
	rows_close(&r);
}

/* ---- tiers -------------------------------------------------------------- */

static void
parse_tiers(struct tariff *t, const struct tariff_pkg *p, struct tariff_errors *err)
{
	static const char *const cols[] = { "tiers", "mode", "count", "initial",
		"increment", "above", "upto", "price", NULL };
	struct rows r;

	if (p->data[TF_TIERS] == NULL || rows_open(&r, p, TF_TIERS, cols, err) != 0)
		return;
	while (rows_next(&r)) {
		struct tier_set s = { 0 };
		struct tier tr = { 0 };
		const char *mode = col(&r, 1), *count = col(&r, 2);
		long v;
		int bad = 0, si;

		if (!valid_name(col(&r, 0))) {
			ERR(&r, 0, "\"%s\" is not a tier set name", col(&r, 0));
			continue;
		}
		if (strcmp(mode, "graduated") == 0)
			s.mode = TIER_GRADUATED;
		else if (strcmp(mode, "volume") == 0)
			s.mode = TIER_VOLUME;
		else
			ERR(&r, 1, "\"%s\" is not graduated or volume", mode), bad = 1;
		if (strcmp(count, "account") == 0)
			s.count = COUNT_ACCOUNT;
		else if (strcmp(count, "line") == 0)
			s.count = COUNT_LINE;
		else
			ERR(&r, 2, "\"%s\" is not account or line", count), bad = 1;
		bad |= get_int(&r, 3, 1, 86400, &v) != 0;
		s.initial = (int)v;
		bad |= get_int(&r, 4, 1, 86400, &v) != 0;
		s.increment = (int)v;
		bad |= get_int(&r, 5, 0, 1000000000, &v) != 0;
		tr.above = v;
		tr.upto = -1;
		if (col(&r, 6)[0]) {
			bad |= get_int(&r, 6, 1, 1000000000, &v) != 0;
			tr.upto = v;
			if (!bad && tr.upto <= tr.above)
				ERR(&r, 6, "upto %lld is not above %lld", (long long)tr.upto,
				    (long long)tr.above), bad = 1;
		}
		bad |= get_money(&r, 7, 0, &tr.price) != 0;
		if (bad) {
			if ((si = FIND(t->tiers, t->ntiers, col(&r, 0))) >= 0)
				t->tiers[si].broken = 1;
			continue;
		}
		if ((si = FIND(t->tiers, t->ntiers, col(&r, 0))) < 0) {
			s.name = dup(col(&r, 0));
			*(struct tier_set *)grow(&t->tiers, &t->ntiers, sizeof s) = s;
			si = t->ntiers - 1;
		} else {
			const struct tier_set *o = &t->tiers[si];

			if (o->mode != s.mode || o->count != s.count || o->initial != s.initial ||
			    o->increment != s.increment) {
				ERR(&r, 1, "mode, count, initial and increment must be the same on "
				    "every row of tier set \"%s\"", o->name);
				continue;
			}
		}
		struct tier_set *ts = &t->tiers[si];
		int64_t expect = ts->ntiers ? ts->tiers[ts->ntiers - 1].upto : 0;

		if (ts->ntiers && expect < 0)
			ERR(&r, 5, "tier set \"%s\" already has an unbounded last tier",
			    ts->name), ts->broken = 1;
		else if (tr.above < expect)
			ERR(&r, 5, "overlapping tiers: %lld is below the previous upto %lld",
			    (long long)tr.above, (long long)expect), ts->broken = 1;
		else if (tr.above > expect)
			ERR(&r, 5, "gap between tiers: %lld does not follow %lld",
			    (long long)tr.above, (long long)expect), ts->broken = 1;
		else if (!ts->broken)
			*(struct tier *)grow(&ts->tiers, &ts->ntiers, sizeof tr) = tr;
	}
	rows_close(&r);
}

/* ---- plans, accounts, numbers ------------------------------------------ */

static void
parse_plans(struct tariff *t, const struct tariff_pkg *p, struct tariff_errors *err)
{
	static const char *const cols[] = { "plan", "rounding", "decimals?",
		"test_minutes?", "test_days?", NULL };
	struct rows r;

	if (rows_open(&r, p, TF_PLANS, cols, err) != 0)
		return;
	while (rows_next(&r)) {
		struct plan pl = { 0 };
		long v = 0;
		int bad = 0;

		if (!valid_name(col(&r, 0)))
			ERR(&r, 0, "\"%s\" is not a plan name", col(&r, 0)), bad = 1;
		else if (FIND(t->plans, t->nplans, col(&r, 0)) >= 0)
			ERR(&r, 0, "plan \"%s\" defined twice", col(&r, 0)), bad = 1;
		if (money_rounding_parse(col(&r, 1), &pl.rounding) != 0)
			ERR(&r, 1, "\"%s\" is not full, half-up, up or down", col(&r, 1)), bad = 1;
		if (pl.rounding != ROUND_FULL || col(&r, 2)[0]) {
			bad |= get_int(&r, 2, 0, 6, &v) != 0;
			pl.decimals = (int)v;
		}
		v = 0;
		if (col(&r, 3)[0])
			bad |= get_int(&r, 3, 0, 1000000, &v) != 0;
		pl.test_seconds = (int64_t)v * 60;
		v = 0;
		if (col(&r, 4)[0])
			bad |= get_int(&r, 4, 0, 36500, &v) != 0;
		pl.test_days = (int)v;
		if (!bad && pl.test_seconds > 0 && pl.test_days == 0)
			ERR(&r, 4, "test minutes need test_days (how long they last)"), bad = 1;
		if (bad)
			continue;
		pl.name = dup(col(&r, 0));
		*(struct plan *)grow(&t->plans, &t->nplans, sizeof pl) = pl;
	}
	rows_close(&r);
}

static void
parse_plan_classes(struct tariff *t, const struct tariff_pkg *p, struct tariff_errors *err)
{
	static const char *const cols[] = { "plan", "class", "pricing", NULL };
	struct rows r;

	if (rows_open(&r, p, TF_PLAN_CLASSES, cols, err) != 0)
		return;
	while (rows_next(&r)) {
		struct plan_class pc = { 0 };
		const char *pricing = col(&r, 2);
		int plan = FIND(t->plans, t->nplans, col(&r, 0)), bad = 0;

		if (plan < 0)
			ERR(&r, 0, "unknown plan \"%s\"", col(&r, 0)), bad = 1;
		if ((pc.cls = FIND(t->classes, t->nclasses, col(&r, 1))) < 0)
			ERR(&r, 1, "unknown class \"%s\"", col(&r, 1)), bad = 1;
		if (strcmp(pricing, "free") == 0) {
			pc.kind = PRICE_FREE;
		} else if (strncmp(pricing, "deck:", 5) == 0) {
			pc.kind = PRICE_DECK;
			if ((pc.ref = FIND(t->decks, t->ndecks, pricing + 5)) < 0)
				ERR(&r, 2, "unknown deck \"%s\"", pricing + 5), bad = 1;
		} else if (strncmp(pricing, "tiers:", 6) == 0) {
			pc.kind = PRICE_TIERS;
			if ((pc.ref = FIND(t->tiers, t->ntiers, pricing + 6)) < 0)
				ERR(&r, 2, "unknown tier set \"%s\"", pricing + 6), bad = 1;
			else if (pc.cls >= 0 && t->classes[pc.cls].type == CT_SMS)
				ERR(&r, 2, "sms class \"%s\" cannot be priced by tiers",
				    col(&r, 1)), bad = 1;
		} else {
			ERR(&r, 2, "\"%s\" is not deck:NAME, tiers:NAME or free", pricing), bad = 1;
		}
		if (bad)
			continue;
		if (tariff_plan_class(t, plan, pc.cls) != NULL) {
			ERR(&r, 1, "plan \"%s\" prices class \"%s\" twice", col(&r, 0), col(&r, 1));
			continue;
		}
		*(struct plan_class *)grow(&t->plans[plan].classes, &t->plans[plan].nclasses,
		    sizeof pc) = pc;
	}
	rows_close(&r);
}

static int
by_account(const void *a, const void *b)
{
	const struct taccount *x = a, *y = b;
	int c = strcmp(x->id, y->id);

	return c ? c : (x->line > y->line) - (x->line < y->line);
}

static void
parse_accounts(struct tariff *t, const struct tariff_pkg *p, struct tariff_errors *err)
{
	static const char *const cols[] = { "account", "plan", "timezone", "created",
		"name?", "billing_day?", "tax_rate?", NULL };
	struct rows r;

	if (rows_open(&r, p, TF_ACCOUNTS, cols, err) != 0)
		return;
	while (rows_next(&r)) {
		struct taccount a = { .billing_day = 1, .tax_rate = -1 };
		long v;
		struct terr te;
		int bad = 0;

		if (!valid_name(col(&r, 0)))
			ERR(&r, 0, "\"%s\" is not an account id", col(&r, 0)), bad = 1;
		if ((a.plan = FIND(t->plans, t->nplans, col(&r, 1))) < 0)
			ERR(&r, 1, "unknown plan \"%s\"", col(&r, 1)), bad = 1;
		/* one zone object per name: each holds 256 KiB of caches */
		for (int i = 0; i < t->nzones && !a.tz; i++)
			if (strcmp(tz_name(t->zones[i]), col(&r, 2)) == 0)
				a.tz = t->zones[i];
		if (a.tz == NULL) {
			if ((a.tz = tz_open(col(&r, 2), &te)) == NULL)
				ERR(&r, 2, "%s", te.msg), bad = 1;
			else
				*(struct tz **)grow(&t->zones, &t->nzones, sizeof a.tz) = a.tz;
		}
		bad |= get_date(&r, 3, &a.created) != 0;
		if (col(&r, 5)[0]) {
			bad |= get_int(&r, 5, 1, 28, &v) != 0;
			a.billing_day = (int)v;
		}
		if (col(&r, 6)[0] && tax_rate_parse(col(&r, 6), &a.tax_rate) != 0)
			ERR(&r, 6, "\"%s\" is not a tax rate in percent from 0 to 100 (at "
			    "most 2 decimals)", col(&r, 6)), bad = 1;
		if (bad)
			continue;
		a.name = dup(col(&r, 4));
		a.id = dup(col(&r, 0));
		a.tzname = dup(col(&r, 2));
		a.line = (int)r.line;
		*(struct taccount *)grow(&t->accounts, &t->naccounts, sizeof a) = a;
	}
	/* sorted, twice-listed accounts are neighbours (stable by line: the
	 * sort compares lines for equal ids) */
	if (t->naccounts > 0)
		qsort(t->accounts, (size_t)t->naccounts, sizeof *t->accounts, by_account);
	for (int i = 1; i < t->naccounts; i++)
		if (strcmp(t->accounts[i - 1].id, t->accounts[i].id) == 0)
			perr(err, TF_ACCOUNTS, (uint64_t)t->accounts[i].line, "account",
			    "account \"%s\" listed twice (first on line %d)",
			    t->accounts[i].id, t->accounts[i - 1].line);
	rows_close(&r);
}

static int
by_number(const void *a, const void *b)
{
	const struct tnumber *x = a, *y = b;
	int c = strcmp(x->number, y->number);

	return c ? c : (x->line > y->line) - (x->line < y->line);
}

static void
parse_numbers(struct tariff *t, const struct tariff_pkg *p, struct tariff_errors *err)
{
	static const char *const cols[] = { "number", "account", NULL };
	struct rows r;

	if (p->data[TF_NUMBERS] == NULL || rows_open(&r, p, TF_NUMBERS, cols, err) != 0)
		return;
	while (rows_next(&r)) {
		struct tnumber n = { 0 };

		{
			const char *num = col(&r, 0), *d = num + (*num == '+');

			if (*d == '\0' || strspn(d, "0123456789") != strlen(d)) {
				ERR(&r, 0, "\"%s\" is not a normalized number (digits, an "
				    "optional leading +)", num);
				continue;
			}
		}
		if ((n.account = tariff_account(t, col(&r, 1))) < 0) {
			ERR(&r, 1, "unknown account \"%s\"", col(&r, 1));
			continue;
		}
		n.number = dup(col(&r, 0));
		n.line = (int)r.line;
		*(struct tnumber *)grow(&t->numbers, &t->nnumbers, sizeof n) = n;
	}
	/* sorted once: tariff_number_owner() is a binary search, and a number
	 * listed twice sits beside itself */
	if (t->nnumbers > 0)
		qsort(t->numbers, (size_t)t->nnumbers, sizeof *t->numbers, by_number);
	for (int i = 1; i < t->nnumbers; i++)
		if (strcmp(t->numbers[i - 1].number, t->numbers[i].number) == 0)
			perr(err, TF_NUMBERS, (uint64_t)t->numbers[i].line, "number",
			    "number \"%s\" listed twice (first on line %d)",
			    t->numbers[i].number, t->numbers[i - 1].line);
	rows_close(&r);
}

/* ---- bundles and subscriptions ------------------------------------------ */

/* A price of a whole product (a bundle, a fee): up to a trillion units,
 * which is 1e18 micro-units: one fits 64 bits, and sums of them are checked. */
static int
get_amount(struct rows *r, int i, money *out)
{
	const char *s = col(r, i);

	if (*s == '-' || money_parse(s, out) != 0 || *out > (money)1000000000000 * MONEY_SCALE) {
		ERR(r, i, "\"%s\" is not an amount from 0 to 1000000000000 (at most 6 "
		    "decimals)", s);
		return -1;
	}
	return 0;
}

/* One of the words of `words` (NULL-terminated): its index, or -1 reported. */
static int
get_word(struct rows *r, int i, const char *const *words, const char *what)
{
	for (int k = 0; words[k]; k++)
		if (strcmp(col(r, i), words[k]) == 0)
			return k;
	ERR(r, i, "\"%s\" is not %s", col(r, i), what);
	return -1;
}

static void
parse_bundles(struct tariff *t, const struct tariff_pkg *p, struct tariff_errors *err)
{
	static const char *const cols[] = { "bundle", "class", "minutes", "price", "tax",
		"validity_days", "renewal", "on_exhaustion", "counts_toward_tiers?",
		"rollover_percent?", "rollover_max_minutes?", "granularity", NULL };
	static const char *const tax[] = { "excluded", "included", NULL };
	static const char *const renewal[] = { "auto", "none", NULL };
	static const char *const exhaustion[] = { "renew", "overage", NULL };
	static const char *const yesno[] = { "no", "yes", NULL };
	static const char *const grain[] = { "second", "minute", NULL };
	struct rows r;

	if (p->data[TF_BUNDLES] == NULL || rows_open(&r, p, TF_BUNDLES, cols, err) != 0)
		return;
	while (rows_next(&r)) {
		struct bundle b = { .rollover_max = -1 };
		long v;
		int k, bad = 0;

		/* 40: the name and a window number fit a piece's label */
		if (!valid_name(col(&r, 0)) || strlen(col(&r, 0)) > 40)
			ERR(&r, 0, "\"%s\" is not a bundle name (at most 40 characters)",
			    col(&r, 0)), bad = 1;
		else if (FIND(t->bundles, t->nbundles, col(&r, 0)) >= 0)
			ERR(&r, 0, "bundle \"%s\" defined twice", col(&r, 0)), bad = 1;
		if ((b.cls = FIND(t->classes, t->nclasses, col(&r, 1))) < 0)
			ERR(&r, 1, "unknown class \"%s\"", col(&r, 1)), bad = 1;
		else if (t->classes[b.cls].type == CT_SMS)
			ERR(&r, 1, "sms class \"%s\" has no minutes", col(&r, 1)), bad = 1;
		else if (t->classes[b.cls].payer == PAYER_NONE)
			ERR(&r, 1, "class \"%s\" is free (payer none)", col(&r, 1)), bad = 1;
		if (get_int(&r, 2, 1, 100000000, &v) == 0)
			b.seconds = (int64_t)v * 60;
		else
			bad = 1;
		bad |= get_amount(&r, 3, &b.price) != 0;
		bad |= (k = get_word(&r, 4, tax, "included or excluded")) < 0;
		b.tax_included = k == 1;
		if (get_int(&r, 5, 1, 3660, &v) == 0)
			b.validity_days = (int)v;
		else
			bad = 1;
		bad |= (k = get_word(&r, 6, renewal, "auto or none")) < 0;
		b.renewal = k == 1 ? RENEW_NONE : RENEW_AUTO;
		bad |= (k = get_word(&r, 7, exhaustion, "renew or overage")) < 0;
		b.on_exhaustion = k == 1 ? EXHAUST_OVERAGE : EXHAUST_RENEW;
		if (col(&r, 8)[0]) {
			bad |= (k = get_word(&r, 8, yesno, "yes or no")) < 0;
			b.counts_toward_tiers = k == 1;
		}
		if (col(&r, 9)[0]) {
			bad |= get_int(&r, 9, 0, 100, &v) != 0;
			b.rollover_percent = (int)v;
		}
		if (col(&r, 10)[0]) {
			if (get_int(&r, 10, 0, 100000000, &v) == 0)
				b.rollover_max = (int64_t)v * 60;
			else
				bad = 1;
			/* a cap alone carries everything up to the cap */
			if (!col(&r, 9)[0])
				b.rollover_percent = 100;
		}
		bad |= (k = get_word(&r, 11, grain, "second or minute")) < 0;
		b.granularity = k == 1 ? GRAIN_MINUTE : GRAIN_SECOND;
		if (bad)
			continue;
		b.name = dup(col(&r, 0));
		*(struct bundle *)grow(&t->bundles, &t->nbundles, sizeof b) = b;
	}
	rows_close(&r);
}

static int
by_subscription(const void *a, const void *b)
{
	const struct subscription *x = a, *y = b;

	if (x->account != y->account)
		return (x->account > y->account) - (x->account < y->account);
	if (x->activated != y->activated)
		return (x->activated > y->activated) - (x->activated < y->activated);
	return (x->line > y->line) - (x->line < y->line);
}

/* A local date and time "YYYY-MM-DD[ HH:MM[:SS]]" of an account's zone. */
static int
get_local_time(struct rows *r, int i, struct tz *z, int64_t *out)
{
	static const char *const fmts[] = { "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M",
		"%Y-%m-%d", NULL };
	const char *s = col(r, i);
	struct civil c;

	for (int k = 0; fmts[k]; k++) {
		/* fixed widths: 2026-11-20 09:00:00 */
		static const size_t len[] = { 19, 16, 10 };

		if (strlen(s) != len[k] || timefmt_parse(fmts[k], s, &c) != 0)
			continue;
		if (tz_to_utc(z, &c, out) != 0) {
			ERR(r, i, "\"%s\" never happens in %s (clocks go forward over it)", s,
			    tz_name(z));
			return -1;
		}
		return 0;
	}
	ERR(r, i, "\"%s\" is not a local time YYYY-MM-DD[ HH:MM[:SS]]", s);
	return -1;
}

static void
parse_subscriptions(struct tariff *t, const struct tariff_pkg *p, struct tariff_errors *err)
{
	static const char *const cols[] = { "account", "bundle", "activated", "cancelled?",
		"on_exhaustion?", NULL };
	static const char *const exhaustion[] = { "renew", "overage", NULL };
	struct rows r;

	if (p->data[TF_SUBSCRIPTIONS] == NULL ||
	    rows_open(&r, p, TF_SUBSCRIPTIONS, cols, err) != 0)
		return;
	while (rows_next(&r)) {
		struct subscription sub = { .line = (int)r.line };
		int bad = 0;

		if ((sub.account = tariff_account(t, col(&r, 0))) < 0) {
			ERR(&r, 0, "unknown account \"%s\"", col(&r, 0));
			continue;
		}
		if ((sub.bundle = FIND(t->bundles, t->nbundles, col(&r, 1))) < 0)
			ERR(&r, 1, "unknown bundle \"%s\"", col(&r, 1)), bad = 1;
		bad |= get_local_time(&r, 2, t->accounts[sub.account].tz, &sub.activated) != 0;
		if (col(&r, 3)[0] &&
		    get_local_time(&r, 3, t->accounts[sub.account].tz, &sub.cancelled) != 0)
			bad = 1;
		else if (!bad && col(&r, 3)[0] && sub.cancelled <= sub.activated)
			ERR(&r, 3, "cancelled at or before its activation"), bad = 1;
		if (!bad)
			sub.on_exhaustion = t->bundles[sub.bundle].on_exhaustion;
		if (col(&r, 4)[0]) {
			int k = get_word(&r, 4, exhaustion, "renew or overage");

			bad |= k < 0;
			sub.on_exhaustion = k == 1 ? EXHAUST_OVERAGE : EXHAUST_RENEW;
		}
		if (bad)
			continue;
		*(struct subscription *)grow(&t->subs, &t->nsubs, sizeof sub) = sub;
	}
	if (t->nsubs > 0)
		qsort(t->subs, (size_t)t->nsubs, sizeof *t->subs, by_subscription);
	/* one bundle at a time: each subscription ends before the next starts */
	for (int i = 1; i < t->nsubs; i++) {
		const struct subscription *a = &t->subs[i - 1], *b = &t->subs[i];

		if (a->account == b->account && (a->cancelled == 0 || a->cancelled > b->activated))
			perr(err, TF_SUBSCRIPTIONS, (uint64_t)b->line, "activated",
			    "account \"%s\" holds the bundle of line %d then: one bundle at a "
			    "time (cancel that one first)", t->accounts[b->account].id, a->line);
	}
	rows_close(&r);
}

/* ---- fees, holdings, minimums, rentals ----------------------------------- */

static void
parse_fees(struct tariff *t, const struct tariff_pkg *p, struct tariff_errors *err)
{
	static const char *const cols[] = { "fee", "charge", "description?", "count?",
		"proration?", "tax?", "tax_rate?", NULL };
	static const char *const charge[] = { "once", "monthly", "annual", "rent", NULL };
	static const char *const count[] = { "graduated", "volume", NULL };
	static const char *const proration[] = { "whole", "days", NULL };
	static const char *const tax[] = { "excluded", "included", NULL };
	struct rows r;

	if (p->data[TF_FEES] == NULL || rows_open(&r, p, TF_FEES, cols, err) != 0)
		return;
	while (rows_next(&r)) {
		struct fee f = { .tax_included = t->tax_included, .tax_rate = -1,
			.line = (int)r.line };
		int k, bad = 0;

		if (!valid_name(col(&r, 0)))
			ERR(&r, 0, "\"%s\" is not a fee name", col(&r, 0)), bad = 1;
		else if (FIND(t->fees, t->nfees, col(&r, 0)) >= 0)
			ERR(&r, 0, "fee \"%s\" defined twice", col(&r, 0)), bad = 1;
		bad |= (k = get_word(&r, 1, charge, "once, monthly, annual or rent")) < 0;
		f.charge = (enum fee_charge)(k < 0 ? 0 : k);
		if (col(&r, 3)[0]) {
			bad |= (k = get_word(&r, 3, count, "graduated or volume")) < 0;
			f.count = k == 1 ? TIER_VOLUME : TIER_GRADUATED;
		}
		if (col(&r, 4)[0]) {
			bad |= (k = get_word(&r, 4, proration, "whole or days")) < 0;
			f.prorate_days = k == 1;
			if (k == 1 && f.charge != FEE_MONTHLY)
				ERR(&r, 4, "only monthly fees are prorated by days"), bad = 1;
		}
		if (col(&r, 5)[0]) {
			bad |= (k = get_word(&r, 5, tax, "included or excluded")) < 0;
			f.tax_included = k == 1;
		}
		if (col(&r, 6)[0] && tax_rate_parse(col(&r, 6), &f.tax_rate) != 0)
			ERR(&r, 6, "\"%s\" is not a tax rate in percent from 0 to 100 (at most "
			    "2 decimals)", col(&r, 6)), bad = 1;
		if (strlen(col(&r, 2)) > 200)
			ERR(&r, 2, "longer than 200 bytes"), bad = 1;
		if (bad)
			continue;
		f.name = dup(col(&r, 0));
		f.description = dup(col(&r, 2)[0] ? col(&r, 2) : col(&r, 0));
		*(struct fee *)grow(&t->fees, &t->nfees, sizeof f) = f;
	}
	rows_close(&r);
}

static int
by_step(const void *a, const void *b)
{
	const struct fee_step *x = a, *y = b;

	return (x->from > y->from) - (x->from < y->from);
}

static void
parse_fee_prices(struct tariff *t, const struct tariff_pkg *p, struct tariff_errors *err)
{
	static const char *const cols[] = { "fee", "from", "price", NULL };
	struct rows r;

	if (p->data[TF_FEE_PRICES] == NULL) {
		if (p->data[TF_FEES])
			perr(err, TF_FEE_PRICES, 0, NULL, "missing (fees.csv needs it)");
		return;
	}
	if (rows_open(&r, p, TF_FEE_PRICES, cols, err) != 0)
		return;
	while (rows_next(&r)) {
		struct fee_step st;
		struct fee *f;
		long v;
		int fi, bad = 0;

		if ((fi = FIND(t->fees, t->nfees, col(&r, 0))) < 0) {
			ERR(&r, 0, "unknown fee \"%s\"", col(&r, 0));
			continue;
		}
		f = &t->fees[fi];
		bad |= get_int(&r, 1, 1, 1000000000, &v) != 0;
		st.from = v;
		bad |= get_amount(&r, 2, &st.price) != 0;
		for (int i = 0; !bad && i < f->nsteps; i++)
			if (f->steps[i].from == st.from)
				ERR(&r, 1, "fee \"%s\" has a step from %ld already", f->name, v), bad = 1;
		if (!bad && f->charge == FEE_RENT && (st.from != 1 || f->nsteps > 0))
			ERR(&r, 1, "rent fee \"%s\" has one price, from 1", f->name), bad = 1;
		if (bad)
			continue;
		*(struct fee_step *)grow(&f->steps, &f->nsteps, sizeof st) = st;
	}
	for (int i = 0; i < t->nfees; i++) {
		struct fee *f = &t->fees[i];

		if (f->nsteps > 0)
			qsort(f->steps, (size_t)f->nsteps, sizeof *f->steps, by_step);
		if (f->nsteps == 0 || f->steps[0].from != 1)
			perr(err, TF_FEE_PRICES, 0, NULL, "fee \"%s\" (fees.csv line %d) has no "
			    "price from unit 1", f->name, f->line);
	}
	rows_close(&r);
}

static int
by_holding(const void *a, const void *b)
{
	const struct holding *x = a, *y = b;

	if (x->account != y->account)
		return (x->account > y->account) - (x->account < y->account);
	if (x->fee != y->fee)
		return (x->fee > y->fee) - (x->fee < y->fee);
	if (x->activated != y->activated)
		return (x->activated > y->activated) - (x->activated < y->activated);
	return (x->line > y->line) - (x->line < y->line);
}

static void
parse_account_fees(struct tariff *t, const struct tariff_pkg *p, struct tariff_errors *err)
{
	static const char *const cols[] = { "account", "fee", "quantity", "activated",
		"cancelled?", NULL };
	struct rows r;

	if (p->data[TF_ACCOUNT_FEES] == NULL ||
	    rows_open(&r, p, TF_ACCOUNT_FEES, cols, err) != 0)
		return;
	while (rows_next(&r)) {
		struct holding h = { .line = (int)r.line };
		long v;
		int bad = 0;

		if ((h.account = tariff_account(t, col(&r, 0))) < 0)
			ERR(&r, 0, "unknown account \"%s\"", col(&r, 0)), bad = 1;
		if ((h.fee = FIND(t->fees, t->nfees, col(&r, 1))) < 0)
			ERR(&r, 1, "unknown fee \"%s\"", col(&r, 1)), bad = 1;
		else if (t->fees[h.fee].charge == FEE_RENT)
			ERR(&r, 1, "rent fee \"%s\" is held through rentals.csv", col(&r, 1)),
			    bad = 1;
		bad |= get_int(&r, 2, 1, 1000000, &v) != 0;
		h.quantity = v;
		/* Every amount of an invoice must fit in money with room for sums:
		 * a line of 10^11 currency units is more than any real fee. */
		for (int i = 0; !bad && i < t->fees[h.fee].nsteps; i++) {
			if ((__int128)t->fees[h.fee].steps[i].price * h.quantity >
			    (__int128)100000000000 * MONEY_SCALE) {
				ERR(&r, 2, "%ld units at %s's price would charge more than 10^11"
				    " currency units", v, t->fees[h.fee].name);
				bad = 1;
			}
		}
		bad |= get_date(&r, 3, &h.activated) != 0;
		if (col(&r, 4)[0]) {
			if (get_date(&r, 4, &h.cancelled) != 0)
				bad = 1;
			else if (!bad && h.cancelled <= h.activated)
				ERR(&r, 4, "cancelled on or before its activation"), bad = 1;
		}
		if (bad)
			continue;
		*(struct holding *)grow(&t->holdings, &t->nholdings, sizeof h) = h;
	}
	if (t->nholdings > 0)
		qsort(t->holdings, (size_t)t->nholdings, sizeof *t->holdings, by_holding);
	rows_close(&r);
}

static int
by_minimum(const void *a, const void *b)
{
	const struct minimum *x = a, *y = b;

	if (x->account != y->account)
		return (x->account > y->account) - (x->account < y->account);
	if (x->annual != y->annual)
		return x->annual - y->annual;
	if (x->from != y->from)
		return (x->from > y->from) - (x->from < y->from);
	return (x->line > y->line) - (x->line < y->line);
}

/* The adjustment rule between two successive rows of one history: raised
 * (or kept), or lowered with a lower rate by no more than in proportion. */
static void
check_adjustment(const struct tariff *t, const struct minimum *a, const struct minimum *b,
    struct tariff_errors *err)
{
	char oa[32], orate[32], na[32], nr[32], floor[32];
	int d = t->currency_decimals;
	__int128 lhs = (__int128)b->amount * a->rate, rhs = (__int128)a->amount * b->rate;

	if (b->from == a->from) {
		perr(err, TF_MINIMUMS, (uint64_t)b->line, "from", "account \"%s\" has two "
		    "%s minimums from the same date (line %d)", t->accounts[b->account].id,
		    b->annual ? "annual" : "monthly", a->line);
		return;
	}
	if (b->amount >= a->amount)
		return;		/* raised or kept: always allowed */
	money_format(a->amount, d, oa);
	money_format(a->rate, d, orate);
	money_format(b->amount, d, na);
	money_format(b->rate, d, nr);
	if (b->rate >= a->rate) {
		perr(err, TF_MINIMUMS, (uint64_t)b->line, "amount", "account \"%s\": the %s "
		    "minimum may not fall from %s to %s without a lower rate (line %d has "
		    "%s, this row %s)", t->accounts[b->account].id,
		    b->annual ? "annual" : "monthly", oa, na, a->line, orate, nr);
		return;
	}
	if (lhs < rhs) {
		/* the least allowed: old amount / old rate * new rate, rounded up */
		__int128 q = rhs / a->rate + (rhs % a->rate != 0);

		money_format((money)q, d, floor);
		perr(err, TF_MINIMUMS, (uint64_t)b->line, "amount", "account \"%s\": with the "
		    "rate lowered from %s to %s the %s minimum may fall from %s to no less "
		    "than %s (%s / %s x %s); %s refused", t->accounts[b->account].id, orate,
		    nr, b->annual ? "annual" : "monthly", oa, floor, oa, orate, nr, na);
	}
}

static void
parse_minimums(struct tariff *t, const struct tariff_pkg *p, struct tariff_errors *err)
{
	static const char *const cols[] = { "account", "kind", "amount", "rate", "from", NULL };
	static const char *const kind[] = { "monthly", "annual", NULL };
	struct rows r;

	if (p->data[TF_MINIMUMS] == NULL || rows_open(&r, p, TF_MINIMUMS, cols, err) != 0)
		return;
	while (rows_next(&r)) {
		struct minimum m = { .line = (int)r.line };
		int k, bad = 0;

		if ((m.account = tariff_account(t, col(&r, 0))) < 0)
			ERR(&r, 0, "unknown account \"%s\"", col(&r, 0)), bad = 1;
		bad |= (k = get_word(&r, 1, kind, "monthly or annual")) < 0;
		m.annual = k == 1;
		bad |= get_amount(&r, 2, &m.amount) != 0;
		if (get_money(&r, 3, 0, &m.rate) != 0)
			bad = 1;
		else if (m.rate == 0)
			ERR(&r, 3, "the rate of a minimum is greater than 0"), bad = 1;
		bad |= get_date(&r, 4, &m.from) != 0;
		if (bad)
			continue;
		*(struct minimum *)grow(&t->minimums, &t->nminimums, sizeof m) = m;
	}
	if (t->nminimums > 0)
		qsort(t->minimums, (size_t)t->nminimums, sizeof *t->minimums, by_minimum);
	for (int i = 1; i < t->nminimums; i++) {
		const struct minimum *a = &t->minimums[i - 1], *b = &t->minimums[i];

		if (a->account == b->account && a->annual == b->annual)
			check_adjustment(t, a, b, err);
	}
	rows_close(&r);
}

static int
by_rental(const void *a, const void *b)
{
	const struct rental *x = a, *y = b;

	if (x->account != y->account)
		return (x->account > y->account) - (x->account < y->account);
	return strcmp(x->number, y->number);
}

static void
parse_rentals(struct tariff *t, const struct tariff_pkg *p, struct tariff_errors *err)
{
	static const char *const cols[] = { "account", "number", "fee", "activated", NULL };
	struct rows r;

	if (p->data[TF_RENTALS] == NULL || rows_open(&r, p, TF_RENTALS, cols, err) != 0)
		return;
	while (rows_next(&r)) {
		struct rental rt = { .line = (int)r.line };
		const char *n = col(&r, 1);
		int bad = 0;

		if ((rt.account = tariff_account(t, col(&r, 0))) < 0)
			ERR(&r, 0, "unknown account \"%s\"", col(&r, 0)), bad = 1;
		if (*n == '+')
			n++;
		if (*n == '\0' || strlen(n) > 20 || strspn(n, "0123456789") != strlen(n))
			ERR(&r, 1, "\"%s\" is not a normalized number", col(&r, 1)), bad = 1;
		/* "+8641..." and "8641..." are one number */
		for (int i = 0; !bad && i < t->nrentals; i++)
			if (strcmp(t->rentals[i].number + (t->rentals[i].number[0] == '+'), n) == 0)
				ERR(&r, 1, "number \"%s\" rented twice (line %d)", col(&r, 1),
				    t->rentals[i].line), bad = 1;
		if ((rt.fee = FIND(t->fees, t->nfees, col(&r, 2))) < 0)
			ERR(&r, 2, "unknown fee \"%s\"", col(&r, 2)), bad = 1;
		else if (t->fees[rt.fee].charge != FEE_RENT)
			ERR(&r, 2, "fee \"%s\" is not a rent fee", col(&r, 2)), bad = 1;
		bad |= get_date(&r, 3, &rt.activated) != 0;
		if (bad)
			continue;
		rt.number = dup(col(&r, 1));
		*(struct rental *)grow(&t->rentals, &t->nrentals, sizeof rt) = rt;
	}
	if (t->nrentals > 0)
		qsort(t->rentals, (size_t)t->nrentals, sizeof *t->rentals, by_rental);
	rows_close(&r);
}

/* ---- the whole package -------------------------------------------------- */

struct tariff *
tariff_parse(const struct tariff_pkg *p, struct tariff_errors *errs)
{
	struct tariff *t = calloc(1, sizeof *t);

	if (t == NULL)
		return NULL;
	memset(errs, 0, sizeof *errs);
	parse_package(t, p, errs);
	parse_classes(t, p, errs);
	parse_bands(t, p, errs);
	parse_holidays(t, p, errs);
	parse_rates(t, p, errs);
	parse_tiers(t, p, errs);
	for (int i = 0; i < t->ntiers; i++)
		if (!t->tiers[i].broken && t->tiers[i].ntiers &&
		    t->tiers[i].tiers[t->tiers[i].ntiers - 1].upto >= 0)
			perr(errs, TF_TIERS, 0, NULL, "tier set \"%s\": the last tier needs an "
			    "empty upto (no upper bound)", t->tiers[i].name);
	parse_plans(t, p, errs);
	parse_plan_classes(t, p, errs);
	parse_accounts(t, p, errs);
	parse_numbers(t, p, errs);
	parse_bundles(t, p, errs);
	parse_subscriptions(t, p, errs);
	parse_fees(t, p, errs);
	parse_fee_prices(t, p, errs);
	parse_account_fees(t, p, errs);
	parse_minimums(t, p, errs);
	parse_rentals(t, p, errs);
	if (errs->n > 0) {
		tariff_free(t);
		return NULL;
	}
	t->md = pcre2_match_data_create(4, NULL);
	return t;
}

void
tariff_free(struct tariff *t)
{
	if (t == NULL)
		return;
	free(t->reseller);
	free(t->currency);
	free(t->name);
	for (int i = 0; i < t->nclasses; i++) {
		free(t->classes[i].name);
		pcre2_code_free(t->classes[i].caller_re);
		pcre2_code_free(t->classes[i].callee_re);
	}
	free(t->classes);
	for (int i = 0; i < t->nrates; i++) {
		free(t->rates[i].prefix);
		free(t->rates[i].destination);
	}
	free(t->rates);
	for (int i = 0; i < t->ndecks; i++)
		free(t->decks[i].name);
	free(t->decks);
	for (int i = 0; i < t->nbands; i++)
		free(t->bands[i]);
	free(t->bands);
	free(t->band_rows);
	free(t->holidays);
	for (int i = 0; i < t->ntiers; i++) {
		free(t->tiers[i].name);
		free(t->tiers[i].tiers);
	}
	free(t->tiers);
	for (int i = 0; i < t->nplans; i++) {
		free(t->plans[i].name);
		free(t->plans[i].classes);
	}
	free(t->plans);
	for (int i = 0; i < t->naccounts; i++) {
		free(t->accounts[i].id);
		free(t->accounts[i].tzname);
		free(t->accounts[i].name);
	}
	free(t->accounts);
	for (int i = 0; i < t->nzones; i++)
		tz_free(t->zones[i]);
	free(t->zones);
	for (int i = 0; i < t->nnumbers; i++)
		free(t->numbers[i].number);
	free(t->numbers);
	for (int i = 0; i < t->nbundles; i++)
		free(t->bundles[i].name);
	free(t->bundles);
	free(t->subs);
	for (int i = 0; i < t->nfees; i++) {
		free(t->fees[i].name);
		free(t->fees[i].description);
		free(t->fees[i].steps);
	}
	free(t->fees);
	free(t->holdings);
	free(t->minimums);
	for (int i = 0; i < t->nrentals; i++)
		free(t->rentals[i].number);
	free(t->rentals);
	free(t->invoice_prefix);
	free(t->issuer);
	free(t->issuer_address);
	free(t->issuer_tax_id);
	free(t->credit_prefix);
	free(t->nodes);
	pcre2_match_data_free(t->md);
	free(t);
}

/* ---- lookups ------------------------------------------------------------ */

int
tariff_account(const struct tariff *t, const char *id)
{
	int lo = 0, hi = t->naccounts - 1;

	while (lo <= hi) {
		int mid = (lo + hi) / 2, c = strcmp(id, t->accounts[mid].id);

		if (c == 0)
			return mid;
		if (c < 0)
			hi = mid - 1;
		else
			lo = mid + 1;
	}
	return -1;
}

int
tariff_subscriptions(const struct tariff *t, int account, int *first)
{
	int lo = 0, hi = t->nsubs;

	/* the first subscription of the account: subs are sorted by account */
	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (t->subs[mid].account < account)
			lo = mid + 1;
		else
			hi = mid;
	}
	*first = lo;
	for (hi = lo; hi < t->nsubs && t->subs[hi].account == account; hi++)
		;
	return hi - lo;
}

/* The run of rows of `account` in an array sorted by account first; each
 * element starts with its int account (holding, minimum, rental). */
static int
run_of(const void *arr, int n, size_t size, int account, int *first)
{
	int lo = 0, hi = n, end;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (*(const int *)((const char *)arr + (size_t)mid * size) < account)
			lo = mid + 1;
		else
			hi = mid;
	}
	*first = lo;
	for (end = lo; end < n && *(const int *)((const char *)arr + (size_t)end * size) ==
	    account; end++)
		;
	return end - lo;
}

int
tariff_holdings(const struct tariff *t, int account, int *first)
{
	return run_of(t->holdings, t->nholdings, sizeof *t->holdings, account, first);
}

int
tariff_minimums(const struct tariff *t, int account, int *first)
{
	return run_of(t->minimums, t->nminimums, sizeof *t->minimums, account, first);
}

int
tariff_rentals(const struct tariff *t, int account, int *first)
{
	return run_of(t->rentals, t->nrentals, sizeof *t->rentals, account, first);
}

int
tariff_account_tax_rate(const struct tariff *t, int account)
{
	int r = t->accounts[account].tax_rate;

	return r >= 0 ? r : t->tax_rate;
}

int
tariff_minimums_kept(const struct tariff *old, const struct tariff *new,
    struct tariff_errors *errs)
{
	int missing = 0;

	for (int i = 0; i < old->nminimums; i++) {
		const struct minimum *m = &old->minimums[i];
		const char *id = old->accounts[m->account].id;
		int a = tariff_account(new, id), first, n = a < 0 ? 0 :
		    tariff_minimums(new, a, &first), found = 0;

		for (int k = 0; k < n && !found; k++) {
			const struct minimum *x = &new->minimums[first + k];

			found = x->annual == m->annual && x->from == m->from &&
			    x->amount == m->amount && x->rate == m->rate;
		}
		if (!found) {
			char amt[32], rate[32];

			money_format(m->amount, old->currency_decimals, amt);
			money_format(m->rate, old->currency_decimals, rate);
			perr(errs, TF_MINIMUMS, 0, NULL, "the %s minimum of \"%s\" from %04d-%02d-%02d "
			    "(%s at %s) of the current version is missing: a minimum's history "
			    "may grow, not be rewritten (add a row to change it)",
			    m->annual ? "annual" : "monthly", id, m->from / 10000,
			    m->from / 100 % 100, m->from % 100, amt, rate);
			missing++;
		}
	}
	return missing;
}

int
tariff_number_owner(const struct tariff *t, const char *number)
{
	int lo = 0, hi = t->nnumbers - 1;

	while (lo <= hi) {
		int mid = (lo + hi) / 2, c = strcmp(number, t->numbers[mid].number);

		if (c == 0)
			return t->numbers[mid].account;
		if (c < 0)
			hi = mid - 1;
		else
			lo = mid + 1;
	}
	return -1;
}

static int
matches(const struct tariff *t, void *re, const char *s)
{
	return re == NULL || pcre2_match(re, (PCRE2_SPTR)s, PCRE2_ZERO_TERMINATED, 0, 0,
	    t->md, NULL) >= 0;
}

int
tariff_classify(const struct tariff *t, enum cdr_type type, const char *caller,
    const char *callee)
{
	for (int i = 0; i < t->nclasses; i++) {
		const struct tclass *c = &t->classes[i];

		if (c->type != CT_ANY && (c->type == CT_SMS) != (type == CDR_SMS))
			continue;
		if (matches(t, c->caller_re, caller) && matches(t, c->callee_re, callee))
			return i;
	}
	return -1;
}

const struct plan_class *
tariff_plan_class(const struct tariff *t, int plan, int cls)
{
	const struct plan *p = &t->plans[plan];

	for (int i = 0; i < p->nclasses; i++)
		if (p->classes[i].cls == cls)
			return &p->classes[i];
	return NULL;
}

/* A rate of the chain in effect on date (any band). */
static int
in_effect(const struct tariff *t, int chain, int32_t date)
{
	for (int r = chain; r >= 0; r = t->rates[r].next)
		if (t->rates[r].from <= date && (t->rates[r].to == 0 || date < t->rates[r].to))
			return 1;
	return 0;
}

int
tariff_deck_lookup(const struct tariff *t, int deck, const char *number, int32_t date)
{
	int node = t->decks[deck].root, best = -1;

	if (*number == '+')
		number++;
	for (;;) {
		if (t->nodes[node].rates >= 0 && in_effect(t, t->nodes[node].rates, date))
			best = t->nodes[node].rates;
		if (*number < '0' || *number > '9')
			break;
		if ((node = t->nodes[node].child[*number++ - '0']) < 0)
			break;
	}
	return best;
}

int
tariff_band_at(const struct tariff *t, int32_t date, int weekday, int minute)
{
	int holiday = t->nholidays > 0 && bsearch(&date, t->holidays,
	    (size_t)t->nholidays, sizeof *t->holidays, cmp_i32) != NULL;

	for (int i = 0; i < t->nband_rows; i++) {
		const struct band_row *b = &t->band_rows[i];

		if ((holiday ? b->days == 0 : (b->days & (1 << weekday)) != 0) &&
		    b->from <= minute && minute < b->to)
			return b->band;
	}
	return -1;
}

/* ---- diff --------------------------------------------------------------- */

struct rowset {
	char **row;
	int n;
};

static int
by_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The data rows of one file, sorted. */
static void
rowset_of(const char *data, size_t len, struct rowset *rs)
{
	size_t i = 0;
	int header = 1;

	memset(rs, 0, sizeof *rs);
	if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
		i = 3;
	while (i < len) {
		const char *nl = memchr(data + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - data) : len, n = end - i;

		if (n && data[i + n - 1] == '\r')
			n--;
		if (n && data[i] != '#') {
			/* the header is compared too: swapping two column names
			 * changes every row's meaning */
			char **slot = grow(&rs->row, &rs->n, sizeof(char *));
			const char *tag = header ? "(header) " : "";

			if ((*slot = malloc(strlen(tag) + n + 1)) == NULL)
				abort();
			memcpy(*slot, tag, strlen(tag));
			memcpy(*slot + strlen(tag), data + i, n);
			(*slot)[strlen(tag) + n] = '\0';
			header = 0;
		}
		i = end + 1;
	}
	if (rs->n > 0)
		qsort(rs->row, (size_t)rs->n, sizeof *rs->row, by_str);
}

static void
rowset_release(struct rowset *rs)
{
	for (int i = 0; i < rs->n; i++)
		free(rs->row[i]);
	free(rs->row);
}

int
tariff_pkg_diff(const struct tariff_pkg *a, const struct tariff_pkg *b,
    void (*fn)(char sign, const char *file, const char *row, void *arg), void *arg)
{
	int ndiff = 0;

	for (int f = 0; f < TF_NFILES; f++) {
		struct rowset x, y;
		int i = 0, j = 0;

		rowset_of(a->data[f] ? a->data[f] : "", a->data[f] ? a->len[f] : 0, &x);
		rowset_of(b->data[f] ? b->data[f] : "", b->data[f] ? b->len[f] : 0, &y);
		while (i < x.n || j < y.n) {
			int c = i == x.n ? 1 : j == y.n ? -1 : strcmp(x.row[i], y.row[j]);

			if (c == 0) {
				i++;
				j++;
				continue;
			}
			ndiff++;
			if (c < 0) {
				if (fn)
					fn('-', file_names[f], x.row[i], arg);
				i++;
			} else {
				if (fn)
					fn('+', file_names[f], y.row[j], arg);
				j++;
			}
		}
		rowset_release(&x);
		rowset_release(&y);
	}
	return ndiff;
}
