/*
 * blocks.c - the measurement spike of issue 17: where the bulk blocks of the
 * next store live (BLOBs in the SQLite file, or block files with a manifest
 * in SQLite), with which compression and block size, and how duplicate
 * detection scales.  Standalone: no libtally code, nothing of the real store.
 *
 *   blocks -i CSV -d DIR [-l blob|file] [-c none|lz4|zstd1|zstd3]
 *          [-b BLOCK_KIB] [-B BATCH] [-k short|full] [-t 1|2] [-n MAX]
 *          [-p PAGE_SIZE] [-w] [-s] [-x]
 *
 * Reads scripts/gen-cdrs Asterisk lines from CSV (streamed, 1 MiB buffer),
 * parses each into a CDR (the 18 columns, times to UTC, numbers to E.164),
 * makes a synthetic rating for it (payer, period, class, status, amount,
 * billed seconds, the replay snapshot, about 1.3 pieces), and stores batches
 * of BATCH CDRs (default 100000), one commit each:
 *   - duplicate detection: xxh3-64 digest of source NUL key, looked up in
 *     the batch (exact: keys compared in memory) and in the stored index,
 *     sorted digest runs per (source, day of the call) kept in SQLite BLOBs
 *     (a digest hit reads the CDR's block and compares the full key);
 *   - the accepted CDRs cut into blocks of about BLOCK_KIB raw, each written
 *     as one CDR block and one rating block: fixed-width columns (PAX, all of
 *     a column together) and a per-block interned string heap, compressed
 *     as a whole with LZ4 or zstd or not at all;
 *   - -l blob: blocks as BLOBs in the same SQLite file, one transaction per
 *     batch with the batch row, the index runs and the manifest; -l file: one
 *     segment file per batch, written, fsync'd (and its directory), then the
 *     same transaction without the BLOBs.
 * WAL, synchronous=FULL.  -t 2 parses on one thread and stores on the other.
 * -w packs each integer column as block minimum + narrowest width; -s looks
 * each CDR up alone instead of sorting the batch's digests per day; -x skips
 * the probes after the read; -p sets SQLite's page size; -n stops after MAX
 * lines.
 * Then reads every block back and decodes every CDR and rating (one core),
 * and probes the index (misses, and hits needing the exactness path).
 * Prints one line of key=value figures on stdout.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <lz4.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#define XXH_INLINE_ALL
#include <xxhash.h>
#include <zstd.h>

enum comp { C_NONE, C_LZ4, C_ZSTD1, C_ZSTD3 };
static const char *const comp_names[] = { "none", "lz4", "zstd1", "zstd3" };
enum layout { L_BLOB, L_FILE };

#define NSTR 6		/* key, account, caller_raw, caller, callee_raw, callee */
#define MAXPIECES 3
#define SOURCE "bench"

/* ---------- small helpers ---------- */

static void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "blocks: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		die("out of memory (%zu bytes)", n);
	return p;
}

static void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		die("out of memory (%zu bytes)", n);
	return p;
}

static void
sql(sqlite3 *db, const char *s)
{
	char *err = NULL;

	if (sqlite3_exec(db, s, NULL, NULL, &err) != SQLITE_OK)
		die("sqlite: %s: %s", s, err);
}

static sqlite3_stmt *
prep(sqlite3 *db, const char *s)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db, s, -1, &st, NULL) != SQLITE_OK)
		die("sqlite: %s: %s", s, sqlite3_errmsg(db));
	return st;
}

static void
step_done(sqlite3 *db, sqlite3_stmt *st)
{
	if (sqlite3_step(st) != SQLITE_DONE)
		die("sqlite step: %s", sqlite3_errmsg(db));
	sqlite3_reset(st);
}

/* ---------- the parsed record: a CDR and its (synthetic) rating ---------- */

struct piece {
	uint8_t kind;
	uint32_t label;		/* offset in the batch arena */
	uint16_t label_len;
	uint32_t seconds;
	int64_t price;
	__int128 exact;
};

struct prec {
	int64_t start, answer, end;
	uint32_t billsec, line;
	uint8_t disp, type, has_answer, status, cls, npieces;
	uint32_t s[NSTR];	/* offsets in the batch arena */
	uint16_t slen[NSTR];
	uint32_t dest, prefix;	/* rating strings, arena offsets */
	uint16_t dest_len, prefix_len;
	uint64_t digest;
	int32_t day;
	uint32_t period;	/* YYYYMM */
	uint32_t seconds, billed;
	int64_t amount, tier_pos, test_used, volume_total, bundle_left;
	int32_t bundle_sub, bundle_seq;
	struct piece pc[MAXPIECES];
};

struct batch {
	struct prec *r;
	int n, cap;
	char *arena;
	size_t alen, acap;
	int64_t lines, rejected;
	int last;		/* end of input */
};

static uint32_t
arena_put(struct batch *b, const char *s, size_t len)
{
	uint32_t off;

	if (b->alen + len + 1 > b->acap) {
		b->acap = (b->alen + len + 1) * 2;
		b->arena = xrealloc(b->arena, b->acap);
	}
	off = (uint32_t)b->alen;
	memcpy(b->arena + off, s, len);
	b->arena[off + len] = '\0';
	b->alen += len + 1;
	return off;
}

/* ---------- parsing gen-cdrs Asterisk lines ---------- */

static int keymode_full;

/* Split one CSV line in place; returns the number of fields or -1. */
static int
csv_split(char *p, char *end, char **f, int *fl, int max)
{
	int n = 0;

	for (;;) {
		if (n == max)
			return -1;
		if (p < end && *p == '"') {
			char *w = ++p, *start = p;

			for (;;) {
				if (p >= end)
					return -1;
				if (*p == '"') {
					if (p + 1 < end && p[1] == '"') {
						*w++ = '"';
						p += 2;
						continue;
					}
					p++;
					break;
				}
				*w++ = *p++;
			}
			f[n] = start;
			fl[n] = (int)(w - start);
		} else {
			char *start = p;

			while (p < end && *p != ',')
				p++;
			f[n] = start;
			fl[n] = (int)(p - start);
		}
		n++;
		if (p >= end)
			return n;
		if (*p != ',')
			return -1;
		p++;
	}
}

static int64_t
days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

static int
two(const char *s)
{
	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
		return -1;
	return (s[0] - '0') * 10 + s[1] - '0';
}

/* "YYYY-MM-DD HH:MM:SS" in Vietnam local time (UTC+7, no DST) -> UTC. */
static int
parse_time(const char *s, int len, int64_t *out)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, mo, d, h, mi, se;

	if (len != 19 || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' ||
	    s[16] != ':')
		return -1;
	y = two(s) * 100 + two(s + 2);
	mo = two(s + 5), d = two(s + 8), h = two(s + 11), mi = two(s + 14), se = two(s + 17);
	if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h < 0 || h > 23 ||
	    mi < 0 || mi > 59 || se < 0 || se > 60)
		return -1;
	*out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - 7 * 3600;
	return 0;
}

static int
parse_uint(const char *s, int len, uint32_t *out)
{
	uint64_t v = 0;

	if (len < 1 || len > 9)
		return -1;
	for (int i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = (uint32_t)v;
	return 0;
}

static const char *const dests[] = {
	"Viettel mobile", "Vinaphone mobile", "Mobifone mobile", "Vietnamobile",
	"Gmobile", "Hanoi fixed", "HCMC fixed", "Da Nang fixed", "Hai Phong fixed",
	"Can Tho fixed", "Reddi", "Itelecom", "toll free", "premium 1900",
};
static const char *const labels[] = {
	"0-1000", "1000-5000", "5000+", "test", "peak", "offpeak", "connection",
};

/* The rating a real tally-rate would store, made up from the call. */
static void
rate_synthetic(struct batch *b, struct prec *r, const char *callee, int clen)
{
	uint64_t h = XXH3_64bits(callee, clen);
	int plen = 4 + (int)(h % 4), nd = (int)(sizeof dests / sizeof *dests);
	int64_t t = r->start + 7 * 3600;
	int64_t z = t / 86400 + 719468, era = z / 146097, doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
	int m = (int)(mp < 10 ? mp + 3 : mp - 9);
	int y = (int)(yoe + era * 400 + (m <= 2));

	r->period = (uint32_t)(y * 100 + m);
	if (plen > clen)
		plen = clen;
	r->prefix = arena_put(b, callee, plen);
	r->prefix_len = (uint16_t)plen;
	r->dest_len = (uint16_t)strlen(dests[h % nd]);
	r->dest = arena_put(b, dests[h % nd], r->dest_len);
	r->cls = r->type == 1 ? 2 : (uint8_t)(h >> 8 & 1);
	r->tier_pos = (int64_t)(h >> 16 & 0xfffff);
	r->test_used = h >> 40 & 1 ? 60 : 0;
	r->volume_total = 0;
	r->bundle_sub = -1, r->bundle_seq = 0, r->bundle_left = 0;
	r->npieces = 0;
	if (r->disp != 0 || r->billsec == 0) {
		r->status = 1;	/* free */
		r->seconds = r->billed = 0;
		r->amount = 0;
		return;
	}
	r->status = 0;
	r->seconds = r->billsec;
	r->billed = r->billsec < 6 ? 6 : (r->billsec + 5) / 6 * 6;
	int u = (int)(h >> 24 & 0xff) * 100 / 256;	/* 0..99 */
	r->npieces = u < 60 ? 1 : u < 96 ? 2 : 3;
	r->amount = 0;
	for (int i = 0; i < r->npieces; i++) {
		struct piece *p = &r->pc[i];
		const char *l = labels[(h >> (32 + i * 3)) % 7];

		p->kind = (uint8_t)(i == 0 ? 1 : (h >> (48 + i)) % 6);
		p->label_len = (uint16_t)strlen(l);
		p->label = arena_put(b, l, p->label_len);
		p->seconds = r->billed / r->npieces;
		p->price = 800000 + (int64_t)(h % 8) * 100000;
		p->exact = (__int128)p->price * p->seconds;
		r->amount += (int64_t)((p->exact + 30) / 60);
	}
}

/* Parse one line into the batch; 0, or -1 for a rejected line. */
static int
parse_line(struct batch *b, char *line, char *end, int64_t lineno)
{
	enum { ACC, SRC, DST, CHAN = 5, DCHAN, START = 9, ANS, END, DUR, BILL, DISP,
		UID = 16 };
	static const char *const disps[] = { "ANSWERED", "NO ANSWER", "BUSY", "FAILED",
		"CANCEL", "CONGESTION" };
	char *f[24], e164[2][32];
	int fl[24], n = csv_split(line, end, f, fl, 24), el[2];
	struct prec *r;
	uint32_t dur;
	char key[512];
	int klen;

	if (n != 18 || fl[UID] == 0 || fl[DUR] == 0)
		return -1;
	if (b->n == b->cap)
		die("batch overflow");
	r = &b->r[b->n];
	memset(r, 0, offsetof(struct prec, pc));
	if (parse_time(f[START], fl[START], &r->start) != 0 ||
	    parse_time(f[END], fl[END], &r->end) != 0 ||
	    parse_uint(f[DUR], fl[DUR], &dur) != 0 ||
	    parse_uint(f[BILL], fl[BILL], &r->billsec) != 0)
		return -1;
	if (fl[ANS] > 0) {
		if (parse_time(f[ANS], fl[ANS], &r->answer) != 0)
			return -1;
		r->has_answer = 1;
	}
	r->disp = 255;
	for (int i = 0; i < 6; i++)
		if (fl[DISP] == (int)strlen(disps[i]) && memcmp(f[DISP], disps[i], fl[DISP]) == 0)
			r->disp = (uint8_t)i;
	if (r->disp == 255 || r->end < r->start)
		return -1;
	if (r->disp != 0)
		r->has_answer = 0, r->answer = 0;
	r->type = 0;
	r->line = (uint32_t)lineno;
	for (int i = 0; i < 2; i++) {
		const char *s = f[SRC + i];
		int l = fl[SRC + i];

		if (l > 20)
			return -1;
		if (l > 1 && s[0] == '0') {
			memcpy(e164[i], "+84", 3);
			memcpy(e164[i] + 3, s + 1, l - 1);
			el[i] = l + 2;
		} else {
			memcpy(e164[i], s, l);
			el[i] = l;
		}
	}
	if (keymode_full)
		klen = snprintf(key, sizeof key, "%.*s|%.*s|%.*s|%.*s|%.*s|%.*s|%.*s",
		    fl[CHAN], f[CHAN], fl[DCHAN], f[DCHAN], fl[SRC], f[SRC], fl[DST], f[DST],
		    fl[START], f[START], fl[ANS], f[ANS], fl[END], f[END]);
	else
		klen = snprintf(key, sizeof key, "%.*s|%.*s|%.*s", fl[CHAN], f[CHAN],
		    fl[DCHAN], f[DCHAN], fl[UID], f[UID]);
	if (klen <= 0 || klen >= (int)sizeof key)
		return -1;
	r->s[0] = arena_put(b, key, klen), r->slen[0] = (uint16_t)klen;
	r->s[1] = arena_put(b, f[ACC], fl[ACC]), r->slen[1] = (uint16_t)fl[ACC];
	r->s[2] = arena_put(b, f[SRC], fl[SRC]), r->slen[2] = (uint16_t)fl[SRC];
	r->s[3] = arena_put(b, e164[0], el[0]), r->slen[3] = (uint16_t)el[0];
	r->s[4] = arena_put(b, f[DST], fl[DST]), r->slen[4] = (uint16_t)fl[DST];
	r->s[5] = arena_put(b, e164[1], el[1]), r->slen[5] = (uint16_t)el[1];
	{
		/* digest of source NUL key */
		XXH3_state_t st;

		XXH3_64bits_reset(&st);
		XXH3_64bits_update(&st, SOURCE, sizeof SOURCE);
		XXH3_64bits_update(&st, key, klen);
		r->digest = XXH3_64bits_digest(&st);
	}
	r->day = (int32_t)((r->start + 7 * 3600) / 86400);	/* local day */
	rate_synthetic(b, r, e164[1], el[1]);
	b->n++;
	return 0;
}

/* The input: a file read in 1 MiB chunks, split in lines. */
struct input {
	int fd;
	char *buf;
	size_t len, pos, cap;
	int eof;
	int64_t lineno, max;
};

/* Fill batch b with up to b->cap parsed lines; sets b->last at the end. */
static void
input_fill(struct input *in, struct batch *b)
{
	b->n = 0, b->alen = 0, b->lines = 0, b->rejected = 0, b->last = 0;
	while (b->n < b->cap) {
		char *nl;

		if (in->max && in->lineno >= in->max) {
			b->last = 1;
			return;
		}
		nl = memchr(in->buf + in->pos, '\n', in->len - in->pos);
		if (nl == NULL) {
			ssize_t k;

			if (in->eof) {
				b->last = 1;
				return;
			}
			memmove(in->buf, in->buf + in->pos, in->len - in->pos);
			in->len -= in->pos, in->pos = 0;
			k = read(in->fd, in->buf + in->len, in->cap - in->len);
			if (k < 0)
				die("read: %s", strerror(errno));
			if (k == 0) {
				in->eof = 1;
				if (in->len > 0 && in->buf[in->len - 1] != '\n')
					in->buf[in->len++] = '\n';
			}
			in->len += (size_t)k;
			continue;
		}
		in->lineno++;
		b->lines++;
		if (parse_line(b, in->buf + in->pos, nl, in->lineno) != 0)
			b->rejected++;
		in->pos = (size_t)(nl - in->buf) + 1;
	}
}

/* ---------- blocks ---------- */

/*
 * A raw block: header, then fixed-width columns (each 8-aligned), then the
 * string heap (u16 length, bytes, NUL; interned within the block).  A CDR
 * block and a rating block cover the same CDRs.  The stored block is
 * a u32 raw length followed by the (compressed) raw block.
 */
#define BLK_MAGIC 0x4b4c4254u	/* "TBLK" */
enum { K_CDR = 1, K_RATING = 2 };
#define MAXCOL 32

struct blkhdr {
	uint32_t magic, kind, n, npieces, heap_off, heap_len, ncol, packed;
	uint32_t col[MAXCOL];	/* natural layout: offsets of the columns */
	uint32_t cnt[MAXCOL];	/* values in each */
	uint8_t nat[MAXCOL];	/* natural width 1, 2, 4, 8 */
	uint8_t sgn[MAXCOL];	/* signed */
	/* packed layout (-w): each column base + unsigned width 0, 1, 2, 4, 8 */
	uint8_t pw[MAXCOL];
	uint8_t pad[8];
	uint32_t pcol[MAXCOL];
	uint32_t pheap_off, natlen;
	int64_t base[MAXCOL];
};

static int pack_widths;	/* -w */

/* Interning of one block's strings. */
struct intern {
	char *heap;
	size_t len, cap;
	uint32_t *slot;		/* heap offset + 1, 0 empty */
	uint64_t *hash;
	size_t nslot;
};

static void
intern_reset(struct intern *it, size_t nstr)
{
	size_t want = 64;

	while (want < nstr * 2)
		want *= 2;
	if (want > it->nslot) {
		free(it->slot), free(it->hash);
		it->slot = xmalloc(want * sizeof *it->slot);
		it->hash = xmalloc(want * sizeof *it->hash);
		it->nslot = want;
	}
	memset(it->slot, 0, it->nslot * sizeof *it->slot);
	it->len = 0;
}

static uint32_t
intern(struct intern *it, const char *s, size_t len)
{
	uint64_t h = XXH3_64bits(s, len);
	size_t mask = it->nslot - 1, i = h & mask;
	uint32_t off;

	for (; it->slot[i]; i = (i + 1) & mask) {
		off = it->slot[i] - 1;
		uint16_t l16;

		memcpy(&l16, it->heap + off, 2);
		if (it->hash[i] == h && l16 == len &&
		    memcmp(it->heap + off + 2, s, len) == 0)
			return off;
	}
	if (it->len + len + 3 > it->cap) {
		it->cap = (it->len + len + 3) * 2 + 65536;
		it->heap = xrealloc(it->heap, it->cap);
	}
	off = (uint32_t)it->len;
	uint16_t l16 = (uint16_t)len;
	memcpy(it->heap + off, &l16, 2);
	memcpy(it->heap + off + 2, s, len);
	it->heap[off + 2 + len] = '\0';
	it->len += len + 3;
	it->slot[i] = off + 1;
	it->hash[i] = h;
	return off;
}

struct enc {
	char *raw, *pk;
	size_t rawcap;
	char *out;
	size_t outcap;
	struct intern it;
	ZSTD_CCtx *zc;
	enum comp comp;
};

static size_t
align8(size_t x)
{
	return (x + 7) & ~(size_t)7;
}

/* Reserve a column of n values of `w` bytes; returns its start. */
static void *
col_add(struct enc *e, struct blkhdr *h, size_t *off, uint32_t n, size_t w, int sgn)
{
	void *p;

	if (*off + n * w + 8 > e->rawcap)
		die("raw block overflow");
	p = e->raw + *off;
	h->cnt[h->ncol] = n;
	h->nat[h->ncol] = (uint8_t)w;
	h->sgn[h->ncol] = (uint8_t)sgn;
	h->col[h->ncol++] = (uint32_t)*off;
	*off = align8(*off + n * w);
	return p;
}

#define COLUMN(T, EXPR) do { \
		T *c_ = col_add(e, h, &off, n, sizeof(T), (T)-1 < (T)0); \
		for (uint32_t i = 0; i < n; i++) { \
			const struct prec *r = rs[i]; \
			c_[i] = (EXPR); \
		} \
	} while (0)

static int64_t
nat_get(const char *p, int w, int sgn, uint32_t i)
{
	switch (w) {
	case 1: return sgn ? ((const int8_t *)p)[i] : ((const uint8_t *)p)[i];
	case 2: return sgn ? ((const int16_t *)p)[i] : ((const uint16_t *)p)[i];
	case 4: return sgn ? ((const int32_t *)p)[i] : ((const uint32_t *)p)[i];
	default: return ((const int64_t *)p)[i];
	}
}

/* Values v[i] - base in w bytes (frame of reference). */
static void
pack_col(char *dst, const int64_t *v, uint32_t n, int64_t base, int w)
{
	switch (w) {
	case 0: break;
	case 1: for (uint32_t i = 0; i < n; i++) ((uint8_t *)dst)[i] = (uint8_t)(v[i] - base); break;
	case 2: for (uint32_t i = 0; i < n; i++) ((uint16_t *)dst)[i] = (uint16_t)(v[i] - base); break;
	case 4: for (uint32_t i = 0; i < n; i++) ((uint32_t *)dst)[i] = (uint32_t)(v[i] - base); break;
	default: for (uint32_t i = 0; i < n; i++) ((uint64_t *)dst)[i] = (uint64_t)(v[i] - base);
	}
}

/* The natural block in e->raw (len bytes) -> packed in e->pk; returns its
 * length.  Each column gets the narrowest width holding max - min. */
static size_t
pack_block(struct enc *e, struct blkhdr *h, size_t rawlen)
{
	size_t off = align8(sizeof *h);
	int64_t *v = NULL;
	uint32_t vcap = 0;

	for (uint32_t k = 0; k < h->ncol; k++) {
		uint32_t n = h->cnt[k];
		int64_t lo = INT64_MAX, hi = INT64_MIN;
		uint64_t range;
		int w;

		if (n > vcap) {
			vcap = n;
			v = xrealloc(v, (size_t)n * 8);
		}
		for (uint32_t i = 0; i < n; i++) {
			v[i] = nat_get(e->raw + h->col[k], h->nat[k], h->sgn[k], i);
			if (v[i] < lo)
				lo = v[i];
			if (v[i] > hi)
				hi = v[i];
		}
		if (n == 0)
			lo = hi = 0;
		range = (uint64_t)hi - (uint64_t)lo;
		w = range == 0 ? 0 : range < 256 ? 1 : range < 65536 ? 2 :
		    range < 4294967296ull ? 4 : 8;
		h->base[k] = lo;
		h->pw[k] = (uint8_t)w;
		h->pcol[k] = (uint32_t)off;
		pack_col(e->pk + off, v, n, lo, w);
		off = align8(off + (size_t)n * w);
	}
	free(v);
	h->pheap_off = (uint32_t)off;
	memcpy(e->pk + off, e->raw + h->heap_off, h->heap_len);
	h->natlen = (uint32_t)rawlen;
	h->packed = 1;
	memcpy(e->pk, h, sizeof *h);
	return off + h->heap_len;
}

/* Finish a raw block of `off` bytes (columns) plus the heap; compress into
 * e->out: u32 raw length, then the data.  Returns the stored size. */
static size_t
enc_finish(struct enc *e, struct blkhdr *h, size_t off)
{
	size_t rawlen, bound, k;

	h->heap_off = (uint32_t)off;
	h->heap_len = (uint32_t)e->it.len;
	if (off + e->it.len > e->rawcap)
		die("raw block overflow");
	memcpy(e->raw + off, e->it.heap, e->it.len);
	rawlen = off + e->it.len;
	memcpy(e->raw, h, sizeof *h);
	const char *src = e->raw;
	if (pack_widths) {
		if (e->pk == NULL)
			e->pk = xmalloc(e->rawcap);
		rawlen = pack_block(e, h, rawlen);
		src = e->pk;
	}
	bound = e->comp == C_NONE ? rawlen : e->comp == C_LZ4 ?
	    (size_t)LZ4_compressBound((int)rawlen) : ZSTD_compressBound(rawlen);
	if (bound + 4 > e->outcap) {
		e->outcap = bound + 4;
		e->out = xrealloc(e->out, e->outcap);
	}
	uint32_t r32 = (uint32_t)rawlen;
	memcpy(e->out, &r32, 4);
	switch (e->comp) {
	case C_NONE:
		memcpy(e->out + 4, src, rawlen);
		k = rawlen;
		break;
	case C_LZ4:
		k = (size_t)LZ4_compress_default(src, e->out + 4, (int)rawlen, (int)bound);
		if (k == 0)
			die("lz4 failed");
		break;
	default:
		k = ZSTD_compressCCtx(e->zc, e->out + 4, bound, src, rawlen,
		    e->comp == C_ZSTD1 ? 1 : 3);
		if (ZSTD_isError(k))
			die("zstd: %s", ZSTD_getErrorName(k));
	}
	return k + 4;
}

static size_t
enc_cdr(struct enc *e, const struct batch *b, struct prec **rs, uint32_t n)
{
	struct blkhdr hh = { 0 }, *h = &hh;
	size_t off = align8(sizeof hh);
	uint32_t *sid[NSTR];

	h->magic = BLK_MAGIC, h->kind = K_CDR, h->n = n;
	intern_reset(&e->it, n * NSTR);
	COLUMN(int64_t, r->start);
	COLUMN(uint32_t, r->has_answer ? (uint32_t)(r->answer - r->start) : UINT32_MAX);
	COLUMN(uint32_t, (uint32_t)(r->end - r->start));
	COLUMN(uint32_t, r->billsec);
	COLUMN(uint32_t, r->line);
	COLUMN(uint8_t, r->disp);
	COLUMN(uint8_t, r->type);
	for (int s = 0; s < NSTR; s++)
		sid[s] = col_add(e, h, &off, n, 4, 0);
	for (uint32_t i = 0; i < n; i++)
		for (int s = 0; s < NSTR; s++)
			sid[s][i] = intern(&e->it, b->arena + rs[i]->s[s], rs[i]->slen[s]);
	return enc_finish(e, h, off);
}

static size_t
enc_rating(struct enc *e, const struct batch *b, struct prec **rs, uint32_t n)
{
	struct blkhdr hh = { 0 }, *h = &hh;
	size_t off = align8(sizeof hh);
	uint32_t np = 0, *pay, *dst, *pfx, *lab;

	for (uint32_t i = 0; i < n; i++)
		np += rs[i]->npieces;
	h->magic = BLK_MAGIC, h->kind = K_RATING, h->n = n, h->npieces = np;
	intern_reset(&e->it, n * 3 + np);
	COLUMN(uint32_t, r->period);
	COLUMN(uint32_t, r->period ? 1 : 0);	/* tariff version */
	COLUMN(uint8_t, r->status);
	COLUMN(uint8_t, r->cls);
	COLUMN(uint8_t, r->npieces);
	COLUMN(uint32_t, r->seconds);
	COLUMN(uint32_t, r->billed);
	COLUMN(int64_t, r->amount);
	COLUMN(int64_t, r->tier_pos);
	COLUMN(int64_t, r->test_used);
	COLUMN(int64_t, r->volume_total);
	COLUMN(int32_t, r->bundle_sub);
	COLUMN(int32_t, r->bundle_seq);
	COLUMN(int64_t, r->bundle_left);
	pay = col_add(e, h, &off, n, 4, 0);
	dst = col_add(e, h, &off, n, 4, 0);
	pfx = col_add(e, h, &off, n, 4, 0);
	uint32_t *reason = col_add(e, h, &off, n, 4, 0);
	uint8_t *pk = col_add(e, h, &off, np, 1, 0);
	lab = col_add(e, h, &off, np, 4, 0);
	uint32_t *psec = col_add(e, h, &off, np, 4, 0);
	int64_t *pprice = col_add(e, h, &off, np, 8, 1);
	int64_t *pexlo = col_add(e, h, &off, np, 8, 0);
	int64_t *pexhi = col_add(e, h, &off, np, 8, 1);
	uint32_t j = 0;
	uint32_t empty = intern(&e->it, "", 0);
	for (uint32_t i = 0; i < n; i++) {
		const struct prec *r = rs[i];

		pay[i] = intern(&e->it, b->arena + r->s[1], r->slen[1]);
		dst[i] = intern(&e->it, b->arena + r->dest, r->dest_len);
		pfx[i] = intern(&e->it, b->arena + r->prefix, r->prefix_len);
		reason[i] = empty;
		for (int k = 0; k < r->npieces; k++, j++) {
			pk[j] = r->pc[k].kind;
			lab[j] = intern(&e->it, b->arena + r->pc[k].label, r->pc[k].label_len);
			psec[j] = r->pc[k].seconds;
			pprice[j] = r->pc[k].price;
			pexlo[j] = (int64_t)(uint64_t)r->pc[k].exact;
			pexhi[j] = (int64_t)(r->pc[k].exact >> 64);
		}
	}
	return enc_finish(e, h, off);
}

/* ---------- decoding (the read path) ---------- */

struct dcdr {
	const char *key, *account, *caller_raw, *caller, *callee_raw, *callee;
	int64_t start, answer, end, duration;
	uint32_t billsec, line;
	int has_answer, disp, type;
};

struct drating {
	const char *payer, *dest, *prefix, *reason;
	uint32_t period, version, seconds, billed;
	int status, cls, npieces;
	int64_t amount, tier_pos, test_used, volume_total, bundle_left;
	int32_t bundle_sub, bundle_seq;
	struct {
		int kind;
		const char *label;
		uint32_t seconds;
		int64_t price;
		__int128 exact;
	} pc[MAXPIECES];
};

struct dec {
	char *raw, *nat;
	size_t rawcap, natcap;
	ZSTD_DCtx *zd;
};

/* Decompress a stored block into d->raw; returns its header. */
static const struct blkhdr *
dec_block(struct dec *d, enum comp comp, const char *buf, size_t len)
{
	uint32_t rawlen;
	const struct blkhdr *h;

	if (len < 4)
		die("short block");
	memcpy(&rawlen, buf, 4);
	if (rawlen + 64 > d->rawcap) {
		d->rawcap = rawlen + 64;
		free(d->raw);
		d->raw = aligned_alloc(64, (d->rawcap + 63) & ~(size_t)63);
		if (d->raw == NULL)
			die("out of memory");
	}
	switch (comp) {
	case C_NONE:
		if (len - 4 != rawlen)
			die("bad raw block");
		memcpy(d->raw, buf + 4, rawlen);
		break;
	case C_LZ4:
		if (LZ4_decompress_safe(buf + 4, d->raw, (int)len - 4, (int)rawlen) !=
		    (int)rawlen)
			die("lz4 decompress failed");
		break;
	default: {
		size_t k = ZSTD_decompressDCtx(d->zd, d->raw, rawlen, buf + 4, len - 4);

		if (ZSTD_isError(k) || k != rawlen)
			die("zstd decompress failed");
	}
	}
	h = (const struct blkhdr *)d->raw;
	if (h->magic != BLK_MAGIC)
		die("bad block magic");
	if (h->packed) {
		/* unpack each column to its natural width (the decoder's input) */
		struct blkhdr *nh;

		if (h->natlen + 64 > d->natcap) {
			d->natcap = h->natlen + 64;
			free(d->nat);
			d->nat = aligned_alloc(64, (d->natcap + 63) & ~(size_t)63);
		}
		for (uint32_t k = 0; k < h->ncol; k++) {
			const char *src = d->raw + h->pcol[k];
			char *dst = d->nat + h->col[k];
			uint32_t n = h->cnt[k];
			int64_t b = h->base[k];

#define UNPACK(TD, TS) for (uint32_t i = 0; i < n; i++) ((TD *)dst)[i] = (TD)(b + ((const TS *)src)[i])
#define UNPACK_W(TD) switch (h->pw[k]) { \
			case 0: for (uint32_t i = 0; i < n; i++) ((TD *)dst)[i] = (TD)b; break; \
			case 1: UNPACK(TD, uint8_t); break; \
			case 2: UNPACK(TD, uint16_t); break; \
			case 4: UNPACK(TD, uint32_t); break; \
			default: UNPACK(TD, uint64_t); }
			switch (h->nat[k]) {
			case 1: UNPACK_W(uint8_t); break;
			case 2: UNPACK_W(uint16_t); break;
			case 4: UNPACK_W(uint32_t); break;
			default: UNPACK_W(uint64_t);
			}
		}
		memcpy(d->nat + h->heap_off, d->raw + h->pheap_off, h->heap_len);
		nh = (struct blkhdr *)d->nat;
		memcpy(nh, h, sizeof *h);
		nh->packed = 0;
		char *t = d->raw;
		size_t tc = d->rawcap;
		d->raw = d->nat, d->rawcap = d->natcap;
		d->nat = t, d->natcap = tc;
		h = nh;
	}
	return h;
}

#define COLP(T, k) ((const T *)(raw + h->col[k]))
#define HSTR(off) (raw + h->heap_off + (off) + 2)

/* Decode every CDR of a CDR block; returns a checksum. */
static uint64_t
dec_cdrs(const struct blkhdr *h, const char *raw, struct dcdr *out)
{
	uint64_t sum = 0;

	for (uint32_t i = 0; i < h->n; i++) {
		struct dcdr *c = &out[i];
		uint32_t a = COLP(uint32_t, 1)[i];

		c->start = COLP(int64_t, 0)[i];
		c->has_answer = a != UINT32_MAX;
		c->answer = c->has_answer ? c->start + a : 0;
		c->end = c->start + COLP(uint32_t, 2)[i];
		c->duration = c->end - c->start;
		c->billsec = COLP(uint32_t, 3)[i];
		c->line = COLP(uint32_t, 4)[i];
		c->disp = COLP(uint8_t, 5)[i];
		c->type = COLP(uint8_t, 6)[i];
		c->key = HSTR(COLP(uint32_t, 7)[i]);
		c->account = HSTR(COLP(uint32_t, 8)[i]);
		c->caller_raw = HSTR(COLP(uint32_t, 9)[i]);
		c->caller = HSTR(COLP(uint32_t, 10)[i]);
		c->callee_raw = HSTR(COLP(uint32_t, 11)[i]);
		c->callee = HSTR(COLP(uint32_t, 12)[i]);
		sum += (uint64_t)c->end + c->billsec + (uint8_t)c->key[0] + (uint8_t)c->callee[3];
	}
	return sum;
}

static uint64_t
dec_ratings(const struct blkhdr *h, const char *raw, struct drating *out)
{
	uint64_t sum = 0;
	uint32_t j = 0;

	for (uint32_t i = 0; i < h->n; i++) {
		struct drating *t = &out[i];

		t->period = COLP(uint32_t, 0)[i];
		t->version = COLP(uint32_t, 1)[i];
		t->status = COLP(uint8_t, 2)[i];
		t->cls = COLP(uint8_t, 3)[i];
		t->npieces = COLP(uint8_t, 4)[i];
		t->seconds = COLP(uint32_t, 5)[i];
		t->billed = COLP(uint32_t, 6)[i];
		t->amount = COLP(int64_t, 7)[i];
		t->tier_pos = COLP(int64_t, 8)[i];
		t->test_used = COLP(int64_t, 9)[i];
		t->volume_total = COLP(int64_t, 10)[i];
		t->bundle_sub = COLP(int32_t, 11)[i];
		t->bundle_seq = COLP(int32_t, 12)[i];
		t->bundle_left = COLP(int64_t, 13)[i];
		t->payer = HSTR(COLP(uint32_t, 14)[i]);
		t->dest = HSTR(COLP(uint32_t, 15)[i]);
		t->prefix = HSTR(COLP(uint32_t, 16)[i]);
		t->reason = HSTR(COLP(uint32_t, 17)[i]);
		for (int k = 0; k < t->npieces && k < MAXPIECES; k++, j++) {
			t->pc[k].kind = COLP(uint8_t, 18)[j];
			t->pc[k].label = HSTR(COLP(uint32_t, 19)[j]);
			t->pc[k].seconds = COLP(uint32_t, 20)[j];
			t->pc[k].price = COLP(int64_t, 21)[j];
			t->pc[k].exact = (__int128)(uint64_t)COLP(int64_t, 22)[j] |
			    (__int128)COLP(int64_t, 23)[j] << 64;
			sum += (uint64_t)t->pc[k].price;
		}
		sum += (uint64_t)t->amount + (uint8_t)t->payer[3];
	}
	return sum;
}

/* ---------- the store ---------- */

struct blkloc {			/* a CDR block, in memory for the exactness path */
	int64_t rowid;		/* blob layout */
	int32_t seg;		/* file layout */
	uint32_t off, len;
	int64_t first;		/* first CDR id */
	uint32_t n;
};

/* One (source, day) partition of the duplicate index: sorted runs of
 * digests, each mirrored by a row of dupidx. */
#define MAXRUN 40
struct part {
	int32_t day;
	int nrun;
	uint64_t *run[MAXRUN];
	uint32_t rsize[MAXRUN];
	int64_t rowid[MAXRUN];
	/* this batch's new keys */
	uint64_t *nd;
	uint64_t *nloc;		/* block << 16 | index in block */
	uint32_t nn, ncap;
	/* this batch's candidates: digest, record index pairs */
	uint64_t *cd;
	uint32_t nc, ccap;
};

struct store {
	sqlite3 *db;
	enum layout layout;
	enum comp comp;
	const char *dir;
	size_t block_raw;	/* target raw CDR block size */
	int dirfd;
	sqlite3_stmt *ins_block, *ins_batch, *ins_run, *del_run, *ins_seg;
	struct enc enc;
	struct dec dec;
	int64_t next_cdr, nbatch, nseg;
	struct blkloc *blk;
	int64_t nblk, blkcap;
	struct part *parts;	/* by day - daymin */
	int32_t daymin, nday;
	/* batch-local hash of new digests -> record index */
	uint64_t *bh_d;
	int32_t *bh_i;
	size_t bh_n;
	/* figures */
	double t_dup, t_enc, t_write, t_sync, t_commit, t_exact, t_merge;
	int64_t accepted, dups, collisions, exact_reads, idx_keys;
	int64_t bytes_cdr, bytes_rating, raw_cdr, raw_rating, nblocks;
	int64_t idx_bytes_written, blk_bytes_written;
	/* the exactness path's one-block cache */
	int64_t cached_blk;
	struct dcdr *dc;
	size_t dccap;
	char *io;
	size_t iocap;
	/* per-batch dup timing, for growth */
	double *bt_dup;
	int64_t nbt;
};

static void
store_open(struct store *s, const char *dir, int page_size)
{
	char path[4096];

	snprintf(path, sizeof path, "%s/store.db", dir);
	if (sqlite3_open(path, &s->db) != SQLITE_OK)
		die("open %s", path);
	if (page_size) {
		snprintf(path, sizeof path, "PRAGMA page_size = %d", page_size);
		sql(s->db, path);
	}
	sql(s->db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
	    " PRAGMA cache_size = -32768; PRAGMA foreign_keys = ON");
	sql(s->db,
	    "CREATE TABLE IF NOT EXISTS batch (id INTEGER PRIMARY KEY, source TEXT NOT NULL,"
	    "  first_cdr INTEGER NOT NULL, accepted INTEGER NOT NULL, duplicates INTEGER NOT NULL,"
	    "  rejected INTEGER NOT NULL, seg INTEGER);"
	    "CREATE TABLE IF NOT EXISTS segment (id INTEGER PRIMARY KEY, file TEXT NOT NULL,"
	    "  bytes INTEGER NOT NULL);"
	    "CREATE TABLE IF NOT EXISTS block (id INTEGER PRIMARY KEY,"
	    "  batch INTEGER NOT NULL REFERENCES batch(id) DEFERRABLE INITIALLY DEFERRED,"
	    "  kind INTEGER NOT NULL,"
	    "  first_cdr INTEGER NOT NULL, n INTEGER NOT NULL, seg INTEGER, off INTEGER,"
	    "  len INTEGER NOT NULL, data BLOB);"
	    "CREATE TABLE IF NOT EXISTS dupidx (id INTEGER PRIMARY KEY, source TEXT NOT NULL,"
	    "  day INTEGER NOT NULL, n INTEGER NOT NULL, digests BLOB NOT NULL,"
	    "  locs BLOB NOT NULL);"
	    "CREATE INDEX IF NOT EXISTS dupidx_day ON dupidx(source, day);");
	s->ins_block = prep(s->db, "INSERT INTO block (batch, kind, first_cdr, n, seg, off, len,"
	    " data) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
	s->ins_batch = prep(s->db, "INSERT INTO batch (id, source, first_cdr, accepted,"
	    " duplicates, rejected, seg) VALUES (?1, '" SOURCE "', ?2, ?3, ?4, ?5, ?6)");
	s->ins_run = prep(s->db, "INSERT INTO dupidx (source, day, n, digests, locs)"
	    " VALUES ('" SOURCE "', ?1, ?2, ?3, ?4)");
	s->del_run = prep(s->db, "DELETE FROM dupidx WHERE id = ?1");
	s->ins_seg = prep(s->db, "INSERT INTO segment (id, file, bytes) VALUES (?1, ?2, ?3)");
	s->dirfd = open(dir, O_RDONLY | O_DIRECTORY);
	if (s->dirfd < 0)
		die("open %s: %s", dir, strerror(errno));
	s->enc.rawcap = s->block_raw * 3 + (1 << 20);
	s->enc.raw = xmalloc(s->enc.rawcap);
	s->enc.zc = ZSTD_createCCtx();
	s->enc.comp = s->comp;
	s->dec.zd = ZSTD_createDCtx();
	s->cached_blk = -1;
	s->dir = dir;
}

static struct part *
part_get(struct store *s, int32_t day)
{
	if (s->nday == 0) {
		s->daymin = day - 40;
		s->nday = 128;
		s->parts = calloc(s->nday, sizeof *s->parts);
	}
	if (day < s->daymin || day >= s->daymin + s->nday)
		die("day %d outside the bench's partition window", day);
	struct part *p = &s->parts[day - s->daymin];
	p->day = day;
	return p;
}

static int64_t
isearch(const uint64_t *a, int64_t n, uint64_t x)
{
	int64_t lo = 0, hi = n;

	while (hi - lo > 8) {
		uint64_t alo = a[lo], ahi = a[hi - 1];

		if (x < alo || x > ahi)
			return -1;
		int64_t pos = lo + (int64_t)((unsigned __int128)(x - alo) * (uint64_t)(hi - 1 - lo) /
		    ((unsigned __int128)(ahi - alo) + 1));
		if (a[pos] < x)
			lo = pos + 1;
		else if (a[pos] > x)
			hi = pos;
		else
			return pos;
	}
	for (; lo < hi; lo++)
		if (a[lo] == x)
			return lo;
	return -1;
}

/* Read len bytes at off of a BLOB through a kept handle (blob_open
 * prepares a statement each time: 10+ us).  Handles are closed before a
 * commit, or they would hold a read transaction open and stall the WAL. */
static void
blob_get(sqlite3 *db, sqlite3_blob **hp, const char *table, const char *col,
    int64_t rowid, void *buf, int len, int off)
{
	if (*hp == NULL || sqlite3_blob_reopen(*hp, rowid) != SQLITE_OK) {
		if (*hp)
			sqlite3_blob_close(*hp);
		*hp = NULL;
		if (sqlite3_blob_open(db, "main", table, col, rowid, 0, hp) != SQLITE_OK)
			die("blob open %s: %s", table, sqlite3_errmsg(db));
	}
	if (sqlite3_blob_read(*hp, buf, len, off) != SQLITE_OK)
		die("blob read %s: %s", table, sqlite3_errmsg(db));
}

static sqlite3_blob *bh_block, *bh_idx;

static void
blob_close_all(void)
{
	if (bh_block)
		sqlite3_blob_close(bh_block);
	if (bh_idx)
		sqlite3_blob_close(bh_idx);
	bh_block = bh_idx = NULL;
}

/* Read stored block `bi` (a CDR block) into the decode buffer. */
static const struct blkhdr *
read_block(struct store *s, sqlite3 *db, int64_t rowid, int seg, uint32_t off, uint32_t len)
{
	if (len > s->iocap) {
		s->iocap = len;
		s->io = xrealloc(s->io, len);
	}
	if (s->layout == L_BLOB) {
		blob_get(db, &bh_block, "block", "data", rowid, s->io, (int)len, 0);
	} else {
		char path[4096];
		int fd;

		snprintf(path, sizeof path, "%s/seg-%06d.blk", s->dir, seg);
		fd = open(path, O_RDONLY);
		if (fd < 0 || pread(fd, s->io, len, off) != (ssize_t)len)
			die("read %s: %s", path, strerror(errno));
		close(fd);
	}
	return dec_block(&s->dec, s->comp, s->io, len);
}

/* The exactness path: is the stored CDR with this key in block bi? */
static int
stored_key_equal(struct store *s, uint64_t loc, const char *key)
{
	uint32_t bi = (uint32_t)(loc >> 16), idx = (uint32_t)(loc & 0xffff);
	const struct blkloc *l = &s->blk[bi];

	if (s->cached_blk != bi) {
		const struct blkhdr *h = read_block(s, s->db, l->rowid, l->seg, l->off, l->len);

		if (h->n > s->dccap) {
			s->dccap = h->n;
			s->dc = xrealloc(s->dc, h->n * sizeof *s->dc);
		}
		dec_cdrs(h, s->dec.raw, s->dc);
		s->cached_blk = bi;
		s->exact_reads++;
	}
	return idx < l->n && strcmp(s->dc[idx].key, key) == 0;
}

/* The locator of entry pos of a run: 6 bytes, little-endian. */
static uint64_t
run_loc(struct store *s, int64_t rowid, int64_t pos)
{
	uint8_t b[8] = { 0 };
	uint64_t v;

	blob_get(s->db, &bh_idx, "dupidx", "locs", rowid, b, 6, (int)pos * 6);
	memcpy(&v, b, 8);
	return v;
}

static int
cmp_pair(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int sorted_probe = 1;	/* -s: probe each CDR alone (random access) */

/* Look each record of the batch up; sets keep[i].  Exact: a digest hit
 * compares the full key (in memory for this batch, from its block else). */
static void
dup_detect(struct store *s, struct batch *b, uint8_t *keep)
{
	size_t want = 16;

	while (want < (size_t)b->n * 2)
		want *= 2;
	if (want > s->bh_n) {
		free(s->bh_d), free(s->bh_i);
		s->bh_d = xmalloc(want * sizeof *s->bh_d);
		s->bh_i = xmalloc(want * sizeof *s->bh_i);
		s->bh_n = want;
	}
	memset(s->bh_i, 0xff, s->bh_n * sizeof *s->bh_i);
	for (int i = 0; i < b->n; i++) {
		struct prec *r = &b->r[i];
		const char *key = b->arena + r->s[0];
		size_t mask = s->bh_n - 1, j = r->digest & mask;
		int dup = 0;

		keep[i] = 1;
		for (; s->bh_i[j] >= 0; j = (j + 1) & mask)
			if (s->bh_d[j] == r->digest) {
				const struct prec *o = &b->r[s->bh_i[j]];

				if (strcmp(b->arena + o->s[0], key) == 0) {
					dup = 1;
					break;
				}
				s->collisions++;
			}
		if (!dup && sorted_probe) {
			struct part *p = part_get(s, r->day);

			if (p->nc == p->ccap) {
				p->ccap = p->ccap ? p->ccap * 2 : 1024;
				p->cd = xrealloc(p->cd, (size_t)p->ccap * 16);
			}
			p->cd[2 * p->nc] = r->digest;
			p->cd[2 * p->nc++ + 1] = (uint64_t)i;
		} else if (!dup) {
			struct part *p = part_get(s, r->day);

			for (int k = 0; k < p->nrun && !dup; k++) {
				int64_t pos = isearch(p->run[k], p->rsize[k], r->digest);

				if (pos >= 0) {
					/* the run's block numbers, from its row */
					double t0 = now();

					if (stored_key_equal(s, run_loc(s, p->rowid[k], pos), key))
						dup = 1;
					else
						s->collisions++;
					s->t_exact += now() - t0;
				}
			}
		}
		if (dup) {
			keep[i] = 0;
			s->dups++;
			continue;
		}
		s->bh_d[j] = r->digest;
		s->bh_i[j] = i;
	}
	if (!sorted_probe)
		return;
	uint64_t *hits = NULL;
	size_t nhit = 0, hcap = 0;
	/* The stored runs, a partition at a time: the batch's digests sorted,
	 * each run walked forward by galloping (sequential, not random, memory
	 * access). */
	for (int32_t d = 0; d < s->nday; d++) {
		struct part *p = &s->parts[d];

		if (p->nc == 0)
			continue;
		qsort(p->cd, p->nc, 16, cmp_pair);
		for (int k = 0; k < p->nrun; k++) {
			const uint64_t *a = p->run[k];
			int64_t n = p->rsize[k], lo = 0;

			for (uint32_t c = 0; c < p->nc && lo < n; c++) {
				uint64_t x = p->cd[2 * c];
				int64_t step = 1, hi;
				int i = (int)p->cd[2 * c + 1];

				if (!keep[i])
					continue;
				while (lo + step < n && a[lo + step] < x)
					lo += step, step *= 2;
				hi = lo + step < n ? lo + step + 1 : n;
				while (lo < hi) {	/* first >= x in [lo, hi) */
					int64_t m = lo + (hi - lo) / 2;

					if (a[m] < x)
						lo = m + 1;
					else
						hi = m;
				}
				if (lo < n && a[lo] == x) {
					/* verified below, grouped by block */
					if (nhit == hcap) {
						hcap = hcap ? hcap * 2 : 1024;
						hits = xrealloc(hits, hcap * 16);
					}
					hits[2 * nhit] = run_loc(s, p->rowid[k], lo);
					hits[2 * nhit++ + 1] = (uint64_t)i;
				}
			}
		}
		p->nc = 0;
	}
	/* The exactness path: a digest hit reads its CDR's block and compares
	 * the full key; sorted by locator so that each block is read once. */
	double t0 = now();
	if (nhit)
		qsort(hits, nhit, 16, cmp_pair);
	for (size_t h = 0; h < nhit; h++) {
		int i = (int)hits[2 * h + 1];

		if (!keep[i])
			continue;	/* two runs cannot both hold it; defensive */
		if (stored_key_equal(s, hits[2 * h], b->arena + b->r[i].s[0])) {
			keep[i] = 0;
			s->dups++;
		} else {
			s->collisions++;
		}
	}
	s->t_exact += now() - t0;
	free(hits);
}

/* Write the partition's new keys as a run, merging the newest runs while
 * they are alike in size (a binary counter: O(log) runs, each key moved
 * O(log) times).  In the batch's transaction. */
static void
part_flush(struct store *s, struct part *p)
{
	uint64_t *pairs, *d, *loc;
	uint32_t n = p->nn;
	uint8_t *packed;

	if (n == 0)
		return;
	pairs = xmalloc((size_t)n * 16);
	for (uint32_t i = 0; i < n; i++)
		pairs[2 * i] = p->nd[i], pairs[2 * i + 1] = p->nloc[i];
	qsort(pairs, n, 16, cmp_pair);
	d = xmalloc((size_t)n * 8);
	loc = xmalloc((size_t)n * 8);
	for (uint32_t i = 0; i < n; i++)
		d[i] = pairs[2 * i], loc[i] = pairs[2 * i + 1];
	free(pairs);
	p->nn = 0;
	for (;;) {
		int k = p->nrun;

		if (k == 0 || (uint64_t)n * 2 < p->rsize[k - 1])
			break;
		/* merge the run below into this one */
		double t0 = now();
		uint32_t m = p->rsize[k - 1], i = 0, j = 0, o = 0;
		uint8_t *ol = xmalloc((size_t)m * 6 + 8);
		sqlite3_blob *b;

		if (sqlite3_blob_open(s->db, "main", "dupidx", "locs", p->rowid[k - 1], 0,
		    &b) != SQLITE_OK || sqlite3_blob_read(b, ol, (int)m * 6, 0) != SQLITE_OK)
			die("dupidx read: %s", sqlite3_errmsg(s->db));
		sqlite3_blob_close(b);
		uint64_t *md = xmalloc((size_t)(n + m) * 8), *od = p->run[k - 1];
		uint64_t *ml = xmalloc((size_t)(n + m) * 8);
		while (i < n || j < m) {
			if (j == m || (i < n && d[i] < od[j])) {
				md[o] = d[i], ml[o++] = loc[i++];
			} else {
				uint64_t v = 0;

				memcpy(&v, ol + (size_t)j * 6, 6);
				md[o] = od[j++], ml[o++] = v;
			}
		}
		free(d), free(loc), free(ol), free(od);
		sqlite3_bind_int64(s->del_run, 1, p->rowid[k - 1]);
		step_done(s->db, s->del_run);
		d = md, loc = ml, n += m;
		p->nrun--;
		s->t_merge += now() - t0;
	}
	if (p->nrun == MAXRUN)
		die("too many runs");
	packed = xmalloc((size_t)n * 6 + 8);
	for (uint32_t i = 0; i < n; i++)
		memcpy(packed + (size_t)i * 6, &loc[i], 6);
	free(loc);
	sqlite3_bind_int(s->ins_run, 1, p->day);
	sqlite3_bind_int(s->ins_run, 2, (int)n);
	sqlite3_bind_blob(s->ins_run, 3, d, (int)n * 8, SQLITE_STATIC);
	sqlite3_bind_blob(s->ins_run, 4, packed, (int)n * 6, SQLITE_STATIC);
	step_done(s->db, s->ins_run);
	s->idx_bytes_written += (int64_t)n * 14;
	free(packed);
	p->run[p->nrun] = d;
	p->rsize[p->nrun] = n;
	p->rowid[p->nrun] = sqlite3_last_insert_rowid(s->db);
	p->nrun++;
}

static void
xwrite(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t k = write(fd, p, len);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			die("write: %s", strerror(errno));
		}
		p += k, len -= (size_t)k;
	}
}

/* Store one parsed batch: detect duplicates, encode and write its blocks,
 * commit. */
static void
store_batch(struct store *s, struct batch *b)
{
	uint8_t *keep = xmalloc((size_t)b->n + 1);
	struct prec **rs = xmalloc(((size_t)b->n + 1) * sizeof *rs);
	double t0 = now(), t1;
	int64_t first = s->next_cdr, nacc = 0, batch_id = ++s->nbatch;
	int fd = -1;
	char path[4096];
	uint64_t segoff = 0;
	char *segbuf = NULL;
	size_t seglen = 0, segcap = 0;

	sql(s->db, "BEGIN");
	dup_detect(s, b, keep);
	for (int i = 0; i < b->n; i++)
		if (keep[i])
			rs[nacc++] = &b->r[i];
	t1 = now();
	s->t_dup += t1 - t0;
	s->bt_dup = xrealloc(s->bt_dup, (s->nbt + 1) * sizeof *s->bt_dup);
	s->bt_dup[s->nbt++] = b->n ? (t1 - t0) / b->n : 0;

	if (s->layout == L_FILE) {
		s->nseg++;
		snprintf(path, sizeof path, "%s/seg-%06lld.blk", s->dir, (long long)s->nseg);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0)
			die("open %s: %s", path, strerror(errno));
	}
	for (int64_t i = 0; i < nacc;) {
		/* cut a block at about block_raw bytes of raw CDR columns + strings */
		size_t est = 64;
		int64_t j = i;

		while (j < nacc && est < s->block_raw && j - i < 65535) {
			const struct prec *r = rs[j];

			est += 48 + r->slen[0] + r->slen[2] + r->slen[3] + r->slen[4] +
			    r->slen[5] + 12;
			j++;
		}
		uint32_t n = (uint32_t)(j - i), bi = (uint32_t)s->nblk;
		double te = now();
		for (int kind = K_CDR; kind <= K_RATING; kind++) {
			size_t len = kind == K_CDR ? enc_cdr(&s->enc, b, rs + i, n) :
			    enc_rating(&s->enc, b, rs + i, n);
			uint32_t rawlen;
			double tw = now();

			memcpy(&rawlen, s->enc.out, 4);
			s->t_enc += tw - te;
			if (kind == K_CDR)
				s->bytes_cdr += len, s->raw_cdr += rawlen;
			else
				s->bytes_rating += len, s->raw_rating += rawlen;
			s->blk_bytes_written += len;
			s->nblocks++;
			sqlite3_bind_int64(s->ins_block, 1, batch_id);
			sqlite3_bind_int(s->ins_block, 2, kind);
			sqlite3_bind_int64(s->ins_block, 3, s->next_cdr);
			sqlite3_bind_int(s->ins_block, 4, (int)n);
			sqlite3_bind_int(s->ins_block, 7, (int)len);
			if (s->layout == L_BLOB) {
				sqlite3_bind_null(s->ins_block, 5);
				sqlite3_bind_null(s->ins_block, 6);
				sqlite3_bind_blob(s->ins_block, 8, s->enc.out, (int)len, SQLITE_STATIC);
			} else {
				sqlite3_bind_int64(s->ins_block, 5, s->nseg);
				sqlite3_bind_int64(s->ins_block, 6, (int64_t)segoff);
				sqlite3_bind_null(s->ins_block, 8);
				if (seglen + len > segcap) {
					segcap = (seglen + len) * 2;
					segbuf = xrealloc(segbuf, segcap);
				}
				memcpy(segbuf + seglen, s->enc.out, len);
				seglen += len;
				if (seglen >= (8u << 20)) {
					xwrite(fd, segbuf, seglen);
					seglen = 0;
				}
			}
			step_done(s->db, s->ins_block);
			if (kind == K_CDR) {
				if (s->nblk == s->blkcap) {
					s->blkcap = s->blkcap ? s->blkcap * 2 : 1024;
					s->blk = xrealloc(s->blk, s->blkcap * sizeof *s->blk);
				}
				struct blkloc *l = &s->blk[s->nblk++];
				l->rowid = sqlite3_last_insert_rowid(s->db);
				l->seg = (int32_t)s->nseg;
				l->off = (uint32_t)segoff;
				l->len = (uint32_t)len;
				l->first = s->next_cdr;
				l->n = n;
			}
			segoff += len;
			te = now();
			s->t_write += te - tw;
		}
		/* the index's new keys, by partition */
		for (uint32_t k = 0; k < n; k++) {
			const struct prec *r = rs[i + k];
			struct part *p = part_get(s, r->day);

			if (p->nn == p->ncap) {
				p->ncap = p->ncap ? p->ncap * 2 : 1024;
				p->nd = xrealloc(p->nd, p->ncap * sizeof *p->nd);
				p->nloc = xrealloc(p->nloc, p->ncap * sizeof *p->nloc);
			}
			p->nd[p->nn] = r->digest;
			p->nloc[p->nn++] = (uint64_t)bi << 16 | k;
		}
		s->next_cdr += n;
		i = j;
	}
	if (s->layout == L_FILE) {
		double ts;

		t0 = now();
		if (seglen)
			xwrite(fd, segbuf, seglen);
		ts = now();
		s->t_write += ts - t0;
		if (fsync(fd) != 0 || close(fd) != 0 || fsync(s->dirfd) != 0)
			die("fsync %s: %s", path, strerror(errno));
		s->t_sync += now() - ts;
		sqlite3_bind_int64(s->ins_seg, 1, s->nseg);
		sqlite3_bind_text(s->ins_seg, 2, path, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(s->ins_seg, 3, (int64_t)segoff);
		step_done(s->db, s->ins_seg);
	}
	free(segbuf);
	blob_close_all();
	t0 = now();
	for (int32_t d = 0; d < s->nday; d++)
		part_flush(s, &s->parts[d]);
	s->t_dup += now() - t0;
	sqlite3_bind_int64(s->ins_batch, 1, batch_id);
	sqlite3_bind_int64(s->ins_batch, 2, first);
	sqlite3_bind_int64(s->ins_batch, 3, nacc);
	sqlite3_bind_int64(s->ins_batch, 4, b->n - nacc);
	sqlite3_bind_int64(s->ins_batch, 5, b->rejected);
	if (s->layout == L_FILE)
		sqlite3_bind_int64(s->ins_batch, 6, s->nseg);
	else
		sqlite3_bind_null(s->ins_batch, 6);
	step_done(s->db, s->ins_batch);
	t0 = now();
	sql(s->db, "COMMIT");
	s->t_commit += now() - t0;
	s->accepted += nacc;
	s->idx_keys += nacc;
	free(keep), free(rs);
}

/* ---------- the two-thread pipeline ---------- */

struct pipe {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct batch b[2];
	int full[2];		/* filled, waiting for the store */
	struct input *in;
	double t_parse;
};

static void *
parse_thread(void *arg)
{
	struct pipe *pp = arg;

	for (int k = 0;; k ^= 1) {
		pthread_mutex_lock(&pp->mu);
		while (pp->full[k])
			pthread_cond_wait(&pp->cv, &pp->mu);
		pthread_mutex_unlock(&pp->mu);
		double t0 = now();
		input_fill(pp->in, &pp->b[k]);
		pp->t_parse += now() - t0;
		int last = pp->b[k].last;
		pthread_mutex_lock(&pp->mu);
		pp->full[k] = 1;
		pthread_cond_broadcast(&pp->cv);
		pthread_mutex_unlock(&pp->mu);
		if (last)
			return NULL;
	}
}

static void
batch_init(struct batch *b, int cap)
{
	memset(b, 0, sizeof *b);
	b->cap = cap;
	b->r = xmalloc((size_t)cap * sizeof *b->r);
	b->acap = (size_t)cap * 128;
	b->arena = xmalloc(b->acap);
}

/* ---------- read back, probe ---------- */

static void
read_all(struct store *s, double *secs, int64_t *ncdr)
{
	sqlite3_stmt *st = prep(s->db, "SELECT id, kind, seg, off, len FROM block ORDER BY id");
	struct dcdr *dc = NULL;
	struct drating *dr = NULL;
	size_t cap = 0;
	uint64_t sum = 0;
	double t0 = now();
	int curseg = -1, fd = -1;

	*ncdr = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		int kind = sqlite3_column_int(st, 1), seg = sqlite3_column_int(st, 2);
		uint32_t off = (uint32_t)sqlite3_column_int64(st, 3);
		uint32_t len = (uint32_t)sqlite3_column_int(st, 4);
		const struct blkhdr *h;

		if (len > s->iocap) {
			s->iocap = len;
			s->io = xrealloc(s->io, len);
		}
		if (s->layout == L_BLOB) {
			blob_get(s->db, &bh_block, "block", "data", id, s->io, (int)len, 0);
		} else {
			if (seg != curseg) {
				char path[4096];

				if (fd >= 0)
					close(fd);
				snprintf(path, sizeof path, "%s/seg-%06d.blk", s->dir, seg);
				fd = open(path, O_RDONLY);
				if (fd < 0)
					die("open %s: %s", path, strerror(errno));
				posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
				curseg = seg;
			}
			if (pread(fd, s->io, len, off) != (ssize_t)len)
				die("pread: %s", strerror(errno));
		}
		h = dec_block(&s->dec, s->comp, s->io, len);
		if (h->n > cap) {
			cap = h->n;
			dc = xrealloc(dc, cap * sizeof *dc);
			dr = xrealloc(dr, cap * sizeof *dr);
		}
		if (kind == K_CDR) {
			sum += dec_cdrs(h, s->dec.raw, dc);
			*ncdr += h->n;
		} else {
			sum += dec_ratings(h, s->dec.raw, dr);
		}
	}
	sqlite3_finalize(st);
	blob_close_all();
	if (fd >= 0)
		close(fd);
	*secs = now() - t0;
	free(dc), free(dr);
	fprintf(stderr, "blocks: read checksum %llu\n", (unsigned long long)sum);
}

static uint64_t
splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Probe the index with keys that are not there: the common case. */
static double
probe_misses(struct store *s, int64_t n)
{
	uint64_t x = 42, hits = 0;
	double t0 = now();

	for (int64_t i = 0; i < n; i++) {
		uint64_t d = splitmix(&x);
		int32_t day = s->daymin + 40 + (int32_t)(d % 30);
		struct part *p = part_get(s, day);

		for (int k = 0; k < p->nrun; k++)
			hits += isearch(p->run[k], p->rsize[k], d) >= 0;
	}
	fprintf(stderr, "blocks: random probe hits %llu\n", (unsigned long long)hits);
	return (now() - t0) / n * 1e9;
}

/* Probe stored keys (all hits): the exactness path, blocks in stored order
 * (a re-sent file) or random (worst case). */
static double
probe_hits(struct store *s, int64_t n, int random)
{
	uint64_t x = 7;
	int64_t found = 0;
	double t0;
	char (*keys)[256] = xmalloc((size_t)n * 256);
	uint64_t *dg = xmalloc((size_t)n * 8);
	int32_t *days = xmalloc((size_t)n * 4);

	/* collect n stored keys first (not timed): sequential takes n / nblk
	 * keys of each block in order, random one key of n random blocks */
	int64_t per = random ? 1 : (n + s->nblk - 1) / s->nblk, got = 0;
	for (int64_t bj = 0; got < n; bj++) {
		uint32_t bi = random ? (uint32_t)(splitmix(&x) % s->nblk) :
		    (uint32_t)(bj % s->nblk);
		const struct blkloc *l = &s->blk[bi];
		const struct blkhdr *h = read_block(s, s->db, l->rowid, l->seg, l->off, l->len);
		struct dcdr *all = xmalloc(h->n * sizeof *all);

		dec_cdrs(h, s->dec.raw, all);
		for (int64_t q = 0; q < per && got < n; q++, got++) {
			const struct dcdr *c = &all[splitmix(&x) % h->n];
			XXH3_state_t st;

			snprintf(keys[got], 256, "%s", c->key);
			XXH3_64bits_reset(&st);
			XXH3_64bits_update(&st, SOURCE, sizeof SOURCE);
			XXH3_64bits_update(&st, keys[got], strlen(keys[got]));
			dg[got] = XXH3_64bits_digest(&st);
			days[got] = (int32_t)((c->start + 7 * 3600) / 86400);
		}
		free(all);
	}
	s->cached_blk = -1;
	t0 = now();
	for (int64_t i = 0; i < n; i++) {
		struct part *p = part_get(s, days[i]);

		for (int k = 0; k < p->nrun; k++) {
			int64_t pos = isearch(p->run[k], p->rsize[k], dg[i]);

			if (pos >= 0) {
				found += stored_key_equal(s, run_loc(s, p->rowid[k], pos), keys[i]);
				break;
			}
		}
	}
	double us = (now() - t0) / n * 1e6;
	blob_close_all();
	if (found != n)
		die("exactness probe found %lld of %lld", (long long)found, (long long)n);
	free(keys), free(dg), free(days);
	return us;
}

/* A re-sent file: the first n lines of the input again, through the batch
 * path's duplicate detection (nothing written).  Every accepted line must
 * come out a duplicate, each verified against its stored key.  Returns ns
 * per line; *blocks_read the blocks the exactness path read. */
static double
resend_probe(struct store *s, const char *csv, int64_t n, int64_t *blocks_read)
{
	struct input in = { 0 };
	struct batch b;
	uint8_t *keep;
	int64_t dups0 = s->dups, reads0 = s->exact_reads, kept = 0;
	double t0, t;

	in.fd = open(csv, O_RDONLY);
	in.cap = 1 << 20;
	in.buf = xmalloc(in.cap + 1);
	in.max = n;
	batch_init(&b, (int)n);
	input_fill(&in, &b);
	close(in.fd);
	keep = xmalloc((size_t)b.n + 1);
	s->cached_blk = -1;
	t0 = now();
	dup_detect(s, &b, keep);
	t = now() - t0;
	blob_close_all();
	for (int i = 0; i < b.n; i++)
		kept += keep[i];
	if (kept != 0)
		die("re-sent file: %lld CDRs not found as duplicates", (long long)kept);
	*blocks_read = s->exact_reads - reads0;
	s->dups = dups0, s->exact_reads = reads0;
	free(keep), free(b.r), free(b.arena), free(in.buf);
	return t / b.lines * 1e9;
}

static double
median(double *v, int64_t n)
{
	if (n == 0)
		return 0;
	double *c = xmalloc(n * sizeof *c);
	memcpy(c, v, n * sizeof *c);
	for (int64_t i = 1; i < n; i++)
		for (int64_t j = i; j > 0 && c[j - 1] > c[j]; j--) {
			double t = c[j];
			c[j] = c[j - 1], c[j - 1] = t;
		}
	double m = c[n / 2];
	free(c);
	return m;
}

static double
cpu_secs(int who)
{
	struct rusage ru;

	getrusage(who, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
	    ru.ru_stime.tv_usec / 1e6;
}

static int64_t
dir_bytes(const char *dir)
{
	char cmd[4200];
	FILE *f;
	long long k = 0;

	snprintf(cmd, sizeof cmd, "du -sb '%s'", dir);
	f = popen(cmd, "r");
	if (f == NULL || fscanf(f, "%lld", &k) != 1)
		k = -1;
	if (f)
		pclose(f);
	return k;
}

static void
usage(void)
{
	fprintf(stderr, "usage: blocks -i CSV -d DIR [-l blob|file] [-c none|lz4|zstd1|zstd3]"
	    " [-b BLOCK_KIB] [-B BATCH] [-k short|full] [-t 1|2] [-n MAX] [-p PAGE_SIZE] [-x]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct store s = { 0 };
	struct input in = { 0 };
	const char *csv = NULL, *dir = NULL;
	int opt, threads = 1, batch = 100000, page_size = 0, noprobe = 0;
	struct rusage ru;

	s.layout = L_BLOB, s.comp = C_NONE, s.block_raw = 256 << 10;
	while ((opt = getopt(argc, argv, "i:d:l:c:b:B:k:t:n:p:xws")) != -1) {
		switch (opt) {
		case 'i': csv = optarg; break;
		case 'd': dir = optarg; break;
		case 'l': s.layout = strcmp(optarg, "file") == 0 ? L_FILE : L_BLOB; break;
		case 'c':
			for (int i = 0; i < 4; i++)
				if (strcmp(optarg, comp_names[i]) == 0)
					s.comp = (enum comp)i;
			break;
		case 'b': s.block_raw = (size_t)atoi(optarg) << 10; break;
		case 'B': batch = atoi(optarg); break;
		case 'k': keymode_full = strcmp(optarg, "full") == 0; break;
		case 't': threads = atoi(optarg); break;
		case 'n': in.max = atoll(optarg); break;
		case 'p': page_size = atoi(optarg); break;
		case 'x': noprobe = 1; break;
		case 'w': pack_widths = 1; break;
		case 's': sorted_probe = 0; break;
		default: usage();
		}
	}
	if (csv == NULL || dir == NULL || batch < 1 || s.block_raw < 4096)
		usage();
	in.fd = open(csv, O_RDONLY);
	if (in.fd < 0)
		die("open %s: %s", csv, strerror(errno));
	in.cap = 1 << 20;
	in.buf = xmalloc(in.cap + 1);
	mkdir(dir, 0755);
	store_open(&s, dir, page_size);

	double cpu0 = cpu_secs(RUSAGE_SELF), t0 = now(), t_parse = 0;
	int64_t lines = 0, rejected = 0;
	if (threads == 1) {
		struct batch b;

		batch_init(&b, batch);
		do {
			double tp = now();
			input_fill(&in, &b);
			t_parse += now() - tp;
			lines += b.lines, rejected += b.rejected;
			if (b.n)
				store_batch(&s, &b);
		} while (!b.last);
	} else {
		struct pipe pp = { .mu = PTHREAD_MUTEX_INITIALIZER,
			.cv = PTHREAD_COND_INITIALIZER, .in = &in };
		pthread_t th;

		batch_init(&pp.b[0], batch);
		batch_init(&pp.b[1], batch);
		pthread_create(&th, NULL, parse_thread, &pp);
		for (int k = 0;; k ^= 1) {
			pthread_mutex_lock(&pp.mu);
			while (!pp.full[k])
				pthread_cond_wait(&pp.cv, &pp.mu);
			pthread_mutex_unlock(&pp.mu);
			struct batch *b = &pp.b[k];
			int last = b->last;
			lines += b->lines, rejected += b->rejected;
			if (b->n)
				store_batch(&s, b);
			pthread_mutex_lock(&pp.mu);
			pp.full[k] = 0;
			pthread_cond_broadcast(&pp.cv);
			pthread_mutex_unlock(&pp.mu);
			if (last)
				break;
		}
		pthread_join(th, NULL);
		t_parse = pp.t_parse;
	}
	double t_write = now() - t0, cpu_write = cpu_secs(RUSAGE_SELF) - cpu0;
	sql(s.db, "PRAGMA wal_checkpoint(TRUNCATE)");
	double t_ckpt = now() - t0 - t_write;
	getrusage(RUSAGE_SELF, &ru);
	long rss_write = ru.ru_maxrss;
	int64_t disk = dir_bytes(dir);

	double t_read;
	int64_t nread;
	double cpur0 = cpu_secs(RUSAGE_THREAD);
	read_all(&s, &t_read, &nread);
	double cpu_read = cpu_secs(RUSAGE_THREAD) - cpur0;
	if (nread != s.accepted)
		die("read %lld CDRs, wrote %lld", (long long)nread, (long long)s.accepted);

	double miss_ns = 0, hit_seq_us = 0, hit_rand_us = 0;
	int64_t idx_mem = 0;
	for (int32_t d = 0; d < s.nday; d++)
		for (int k = 0; k < s.parts[d].nrun; k++)
			idx_mem += (int64_t)s.parts[d].rsize[k] * 8;
	int maxruns = 0;
	for (int32_t d = 0; d < s.nday; d++)
		if (s.parts[d].nrun > maxruns)
			maxruns = s.parts[d].nrun;
	if (!noprobe) {
		miss_ns = probe_misses(&s, 2000000);
		hit_seq_us = probe_hits(&s, 2000, 0);
		hit_rand_us = probe_hits(&s, 1000, 1);
	}
	double resend_ns = 0;
	int64_t resend_reads = 0;
	if (!noprobe)
		resend_ns = resend_probe(&s, csv, 100000, &resend_reads);
	int64_t nb = s.nbt, q = nb / 10 ? nb / 10 : 1;
	double dup_first = median(s.bt_dup, q), dup_last = median(s.bt_dup + nb - q, q);
	getrusage(RUSAGE_SELF, &ru);

	printf("sorted=%d pack=%d layout=%s comp=%s block_kib=%zu batch=%d key=%s threads=%d page=%d"
	    " lines=%lld accepted=%lld dups=%lld rejected=%lld collisions=%lld"
	    " write_s=%.3f write_cpu_s=%.3f write_cdrs_s=%.0f parse_s=%.3f dup_s=%.3f enc_s=%.3f wr_s=%.3f"
	    " fsync_s=%.3f commit_s=%.3f merge_s=%.3f exact_s=%.3f exact_reads=%lld ckpt_s=%.3f"
	    " blocks=%lld raw_cdr_B=%.1f raw_rating_B=%.1f stored_cdr_B=%.1f"
	    " stored_rating_B=%.1f idx_B=%.1f idx_wamp=%.2f disk_B_per_cdr=%.1f"
	    " read_s=%.3f read_cpu_s=%.3f read_cdrs_s=%.0f read_cpu_cdrs_s=%.0f dup_ns_first=%.0f dup_ns_last=%.0f"
	    " resend_ns=%.0f resend_blocks=%lld miss_ns=%.0f hit_seq_us=%.2f hit_rand_us=%.1f idx_mem_MB=%.1f maxruns=%d"
	    " rss_write_MB=%.0f rss_MB=%.0f\n",
	    sorted_probe, pack_widths, s.layout == L_BLOB ? "blob" : "file", comp_names[s.comp], s.block_raw >> 10, batch,
	    keymode_full ? "full" : "short", threads, page_size,
	    (long long)lines, (long long)s.accepted, (long long)s.dups, (long long)rejected,
	    (long long)s.collisions, t_write, cpu_write, s.accepted / t_write, t_parse, s.t_dup, s.t_enc,
	    s.t_write, s.t_sync, s.t_commit, s.t_merge, s.t_exact, (long long)s.exact_reads,
	    t_ckpt, (long long)s.nblocks,
	    (double)s.raw_cdr / s.accepted, (double)s.raw_rating / s.accepted,
	    (double)s.bytes_cdr / s.accepted, (double)s.bytes_rating / s.accepted,
	    idx_mem * 14.0 / 8 / s.accepted, (double)s.idx_bytes_written / (idx_mem * 14.0 / 8),
	    (double)disk / s.accepted,
	    t_read, cpu_read, nread / t_read, nread / cpu_read, dup_first * 1e9, dup_last * 1e9,
	    resend_ns, (long long)resend_reads, miss_ns, hit_seq_us, hit_rand_us, idx_mem / 1e6, maxruns,
	    rss_write / 1024.0, ru.ru_maxrss / 1024.0);
	return 0;
}
