/*
 * pdf.c - invoices as PDF with libharu.  See pdf.h.
 *
 * libharu's UTF-8 fonts are CID fonts whose cost is per document and per
 * font (a glyph map of the whole BMP, the font program): the Chinese font
 * is therefore taken into a document only when its text has Chinese, and
 * the fonts are reduced at build time (Makefile, fonts) to keep each
 * document near 4 ms.
 */
#include <errno.h>
#include <fcntl.h>
#include <hpdf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tally/money.h"
#include "tally/pdf.h"

#ifndef TALLY_FONTDIR
#define TALLY_FONTDIR "/usr/local/share/tally/fonts"
#endif

#define PAGE_W 595.276f
#define PAGE_H 841.89f
#define LEFT 42.0f
#define RIGHT (PAGE_W - 42.0f)
#define BOTTOM 60.0f
#define COL_PARTY 330.0f	/* the customer block and the header fields */

enum label {
	L_INVOICE, L_CREDIT, L_NUMBER, L_DATE, L_PERIOD, L_CURRENCY, L_SELLER, L_CUSTOMER,
	L_ACCOUNT, L_TAXID, L_REFERS, L_REASON, L_DESC, L_QTY, L_UNIT, L_AMOUNT,
	L_SUBTOTAL, L_TAX, L_TOTAL, L_PREVIOUS, L_PAYMENTS, L_DUE, L_CALLS, L_TIME,
	L_CALLER, L_CALLEE, L_DEST, L_DURATION, L_BILLED, L_CHARGE, L_ZONE, L_CONTINUED,
	L_INCLUDED, L_NLABELS
};

/* English, Vietnamese, Chinese. */
static const char *const labels[3][L_NLABELS] = {
	{ "Invoice", "Credit note", "Number", "Date", "Period", "Currency", "Seller",
	  "Customer", "Account", "Tax ID", "Credits invoice", "Reason", "Description",
	  "Qty", "Unit price", "Amount", "Subtotal before tax", "Tax", "Total",
	  "Previous balance owed", "Payments", "Amount due", "Itemized calls", "Time",
	  "Caller", "Called", "Destination", "Duration", "Billed", "Charge",
	  "times in", "continued", "included" },
	{ "H\xc3\xb3""a \xc4\x91\xc6\xa1n", "Gi\xe1\xba\xa5y b\xc3\xa1o c\xc3\xb3", "S\xe1\xbb\x91",
	  "Ng\xc3\xa0y", "K\xe1\xbb\xb3 c\xc6\xb0\xe1\xbb\x9b""c", "Ti\xe1\xbb\x81n t\xe1\xbb\x87",
	  "B\xc3\xaan b\xc3\xa1n", "Kh\xc3\xa1""ch h\xc3\xa0ng", "M\xc3\xa3 kh\xc3\xa1""ch h\xc3\xa0ng",
	  "M\xc3\xa3 s\xe1\xbb\x91 thu\xe1\xba\xbf", "\xc4\x90i\xe1\xbb\x81u ch\xe1\xbb\x89nh h\xc3\xb3""a \xc4\x91\xc6\xa1n",
	  "L\xc3\xbd do", "N\xe1\xbb\x99i dung", "SL", "\xc4\x90\xc6\xa1n gi\xc3\xa1",
	  "Th\xc3\xa0nh ti\xe1\xbb\x81n", "C\xe1\xbb\x99ng ti\xe1\xbb\x81n tr\xc6\xb0\xe1\xbb\x9b""c thu\xe1\xba\xbf",
	  "Thu\xe1\xba\xbf GTGT", "T\xe1\xbb\x95ng c\xe1\xbb\x99ng", "N\xe1\xbb\xa3 k\xe1\xbb\xb3 tr\xc6\xb0\xe1\xbb\x9b""c",
	  "\xc4\x90\xc3\xa3 thanh to\xc3\xa1n", "S\xe1\xbb\x91 ti\xe1\xbb\x81n ph\xe1\xba\xa3i tr\xe1\xba\xa3",
	  "Chi ti\xe1\xba\xbft cu\xe1\xbb\x99""c g\xe1\xbb\x8di", "Th\xe1\xbb\x9di gian", "S\xe1\xbb\x91 g\xe1\xbb\x8di",
	  "S\xe1\xbb\x91 b\xe1\xbb\x8b g\xe1\xbb\x8di", "H\xc6\xb0\xe1\xbb\x9bng g\xe1\xbb\x8di",
	  "Th\xe1\xbb\x9di l\xc6\xb0\xe1\xbb\xa3ng", "T\xc3\xadnh c\xc6\xb0\xe1\xbb\x9b""c", "C\xc6\xb0\xe1\xbb\x9b""c",
	  "gi\xe1\xbb\x9d theo", "ti\xe1\xba\xbfp theo", "\xc4\x91\xc3\xa3 g\xe1\xbb\x93m" },
	{ "\xe8\xb4\xa6\xe5\x8d\x95", "\xe8\xb4\xb7\xe8\xae\xb0\xe5\x8d\x95", "\xe7\xbc\x96\xe5\x8f\xb7",
	  "\xe6\x97\xa5\xe6\x9c\x9f", "\xe8\xb4\xa6\xe6\x9c\x9f", "\xe5\xb8\x81\xe7\xa7\x8d",
	  "\xe9\x94\x80\xe5\x94\xae\xe6\x96\xb9", "\xe5\xae\xa2\xe6\x88\xb7", "\xe8\xb4\xa6\xe6\x88\xb7",
	  "\xe7\xa8\x8e\xe5\x8f\xb7", "\xe5\x86\xb2\xe6\x8a\xb5\xe8\xb4\xa6\xe5\x8d\x95",
	  "\xe5\x8e\x9f\xe5\x9b\xa0", "\xe9\xa1\xb9\xe7\x9b\xae", "\xe6\x95\xb0\xe9\x87\x8f",
	  "\xe5\x8d\x95\xe4\xbb\xb7", "\xe9\x87\x91\xe9\xa2\x9d",
	  "\xe4\xb8\x8d\xe5\x90\xab\xe7\xa8\x8e\xe5\x90\x88\xe8\xae\xa1", "\xe7\xa8\x8e\xe9\xa2\x9d",
	  "\xe4\xbb\xb7\xe7\xa8\x8e\xe5\x90\x88\xe8\xae\xa1", "\xe4\xb8\x8a\xe6\x9c\x9f\xe6\xac\xa0\xe6\xac\xbe",
	  "\xe5\xb7\xb2\xe4\xbb\x98\xe6\xac\xbe", "\xe5\xba\x94\xe4\xbb\x98\xe9\x87\x91\xe9\xa2\x9d",
	  "\xe9\x80\x9a\xe8\xaf\x9d\xe6\x98\x8e\xe7\xbb\x86", "\xe6\x97\xb6\xe9\x97\xb4",
	  "\xe4\xb8\xbb\xe5\x8f\xab", "\xe8\xa2\xab\xe5\x8f\xab", "\xe7\x9b\xae\xe7\x9a\x84\xe5\x9c\xb0",
	  "\xe6\x97\xb6\xe9\x95\xbf", "\xe8\xae\xa1\xe8\xb4\xb9\xe6\x97\xb6\xe9\x95\xbf",
	  "\xe8\xb4\xb9\xe7\x94\xa8", "\xe6\x97\xb6\xe5\x8c\xba", "\xe7\xbb\xad",
	  "\xe5\xb7\xb2\xe5\x90\xab" },
};

/* The fonts, by the characters they draw (font_of).  The CJK extension
 * (rare ideographs of names) is a font of its own so that the common
 * Chinese document does not carry its 6,600 glyphs' metrics. */
enum font { F_SANS, F_CJK, F_CJK_EXT, F_NFONTS };
static const char *const font_files[F_NFONTS] = { "tally-sans.ttf", "tally-cjk.ttf",
	"tally-cjk-ext.ttf" };

struct pdf_writer {
	HPDF_Doc pdf;
	char path[F_NFONTS][PATH_MAX];
	const char *def[F_NFONTS];	/* loaded font definitions, when needed */
	HPDF_STATUS err, detail;
	/* the document being written */
	const struct invdoc *d;
	const char *const *L;
	HPDF_Font font[F_NFONTS];	/* taken into the document, when used */
	HPDF_Page *pages;
	int npages, pagecap;
	float y;
};

static void
on_error(HPDF_STATUS err, HPDF_STATUS detail, void *arg)
{
	struct pdf_writer *w = arg;

	if (w->err == 0)
		w->err = err, w->detail = detail;
}

/* A font made by the build (scripts/make-font): $TALLY_FONT_DIR, beside
 * the program (build/bin/../fonts in the tree, PREFIX/share/tally/fonts
 * installed), or in the DATADIR the program was built for.  Returns 0 when
 * found. */
static int
find_font(const char *name, char out[PATH_MAX])
{
	char exe[PATH_MAX];
	const char *env = getenv("TALLY_FONT_DIR");
	ssize_t n;

	if (env && *env) {
		snprintf(out, PATH_MAX, "%.*s/%s", PATH_MAX - 64, env, name);
		if (access(out, R_OK) == 0)
			return 0;
	}
	if ((n = readlink("/proc/self/exe", exe, sizeof exe - 1)) > 0) {
		char *slash;

		exe[n] = '\0';
		if ((slash = strrchr(exe, '/')) != NULL) {
			*slash = '\0';
			snprintf(out, PATH_MAX, "%.*s/../fonts/%s", PATH_MAX - 64, exe, name);
			if (access(out, R_OK) == 0)
				return 0;
			/* installed: PREFIX/bin/../share/tally/fonts, wherever PREFIX is */
			snprintf(out, PATH_MAX, "%.*s/../share/tally/fonts/%s", PATH_MAX - 64, exe,
			    name);
			if (access(out, R_OK) == 0)
				return 0;
		}
	}
	snprintf(out, PATH_MAX, "%s/%s", TALLY_FONTDIR, name);
	return access(out, R_OK);
}

struct pdf_writer *
pdf_writer_new(struct terr *e)
{
	struct pdf_writer *w = calloc(1, sizeof *w);

	if (w == NULL) {
		terr_set(e, "out of memory");
		return NULL;
	}
	for (int i = 0; i < F_NFONTS; i++) {
		if (find_font(font_files[i], w->path[i]) != 0) {
			terr_set(e, "cannot read the invoice font %s (made by make from"
			    " fonts-dejavu-core and fonts-droid-fallback; installed in %s;"
			    " TALLY_FONT_DIR names another folder)", font_files[i], TALLY_FONTDIR);
			free(w);
			return NULL;
		}
	}
	if ((w->pdf = HPDF_New(on_error, w)) == NULL) {
		terr_set(e, "libharu: cannot start a document");
		free(w);
		return NULL;
	}
	HPDF_UseUTFEncodings(w->pdf);
	w->def[F_SANS] = HPDF_LoadTTFontFromFile(w->pdf, w->path[F_SANS], HPDF_TRUE);
	if (w->def[F_SANS] == NULL || w->err) {
		terr_set(e, "%s: libharu cannot load this font (error 0x%04X)", w->path[F_SANS],
		    (unsigned)w->err);
		pdf_writer_free(w);
		return NULL;
	}
	return w;
}

void
pdf_writer_free(struct pdf_writer *w)
{
	if (w == NULL)
		return;
	if (w->pdf)
		HPDF_Free(w->pdf);
	free(w->pages);
	free(w);
}

/* ---- text ----------------------------------------------------------------- */

/* The code point at s and its length; an invalid sequence is 1 byte, -1. */
static int
utf8_next(const unsigned char *s, long *cp)
{
	int n;
	long c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0)
		n = 2, c = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3, c = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		n = 4, c = s[0] & 0x07;
	else
		return *cp = -1, 1;
	for (int i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return *cp = -1, 1;
		c = c << 6 | (s[i] & 0x3f);
	}
	if ((n == 2 && c < 0x80) || (n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
	    c > 0x10ffff || (c >= 0xd800 && c < 0xe000))
		return *cp = -1, 1;
	*cp = c;
	return n;
}

/* The font of a character: the CJK unified ideographs, CJK punctuation and
 * full-width forms are Chinese; extension A, the compatibility ideographs,
 * the radicals and Japanese kana the Chinese extension; the rest sans, where
 * a character it lacks (Hangul, Thai) prints as a box. */
static enum font
font_of(long c)
{
	if ((c >= 0x3000 && c <= 0x303f) || (c >= 0x4e00 && c <= 0x9fff) ||
	    (c >= 0xfe30 && c <= 0xfe4f) || (c >= 0xff00 && c <= 0xffef))
		return F_CJK;
	if ((c >= 0x2e80 && c <= 0x2fdf) || (c >= 0x3040 && c <= 0x30ff) ||
	    (c >= 0x3400 && c <= 0x4dbf) || (c >= 0xf900 && c <= 0xfaff))
		return F_CJK_EXT;
	return F_SANS;
}

/* A font is loaded on first use and taken into a document only when its
 * text needs it: each costs the document milliseconds (the file head). */
static HPDF_Font
font_for(struct pdf_writer *w, enum font f)
{
	if (w->font[f] == NULL) {
		if (w->def[f] == NULL &&
		    (w->def[f] = HPDF_LoadTTFontFromFile(w->pdf, w->path[f], HPDF_TRUE)) == NULL)
			return w->font[F_SANS];
		if ((w->font[f] = HPDF_GetFont(w->pdf, w->def[f], "UTF-8")) == NULL)
			return w->font[F_SANS];
	}
	return w->font[f];
}

/*
 * Measure (and draw when page is not NULL) s at x, y in runs of one font.
 * Bytes that are not UTF-8 and control characters are drawn as '?'.
 * Returns the width in points.
 */
static float
text(struct pdf_writer *w, HPDF_Page page, float x, float y, float size, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	char run[512];
	float width = 0;

	while (*p) {
		long c;
		int n = utf8_next(p, &c), len = 0;
		enum font which = c >= 0 ? font_of(c) : F_SANS;
		HPDF_Font f;
		HPDF_TextWidth tw;

		while (*p && len < (int)sizeof run - 5) {
			n = utf8_next(p, &c);
			if ((c >= 0 ? font_of(c) : F_SANS) != which)
				break;
			if (c < 0x20 || c == 0x7f) {
				run[len++] = '?';
			} else {
				memcpy(run + len, p, (size_t)n);
				len += n;
			}
			p += n;
		}
		run[len] = '\0';
		f = font_for(w, which);
		tw = HPDF_Font_TextWidth(f, (const HPDF_BYTE *)run, (HPDF_UINT)len);
		if (page) {
			HPDF_Page_BeginText(page);
			HPDF_Page_SetFontAndSize(page, f, size);
			HPDF_Page_TextOut(page, x + width, y, run);
			HPDF_Page_EndText(page);
		}
		width += (float)tw.width * size / 1000.0f;
	}
	return width;
}

static void
right(struct pdf_writer *w, HPDF_Page page, float xr, float y, float size, const char *s)
{
	text(w, page, xr - text(w, NULL, 0, 0, size, s), y, size, s);
}

/* The bytes of s that fit in maxw, cut at a space when one is near. */
static size_t
fitting(struct pdf_writer *w, const char *s, float size, float maxw, int at_space)
{
	char buf[512];
	size_t len = strlen(s), lo = 0, space = 0;

	if (len < sizeof buf && text(w, NULL, 0, 0, size, s) <= maxw)
		return len;
	/* Grow by whole characters until the next one would not fit. */
	for (size_t i = 0; i < len;) {
		long c;
		int n = utf8_next((const unsigned char *)s + i, &c);

		if (i + (size_t)n >= sizeof buf)
			break;
		memcpy(buf, s, i + (size_t)n);
		buf[i + (size_t)n] = '\0';
		if (text(w, NULL, 0, 0, size, buf) > maxw)
			break;
		i += (size_t)n;
		lo = i;
		if (c == ' ')
			space = i;
	}
	if (lo == 0)
		return len ? (size_t)utf8_next((const unsigned char *)s, &(long){ 0 }) : 0;
	return at_space && space > lo / 2 ? space : lo;
}

/* s in maxw, cut with an ellipsis when it does not fit. */
static void
clipped(struct pdf_writer *w, HPDF_Page page, float x, float y, float size, float maxw,
    const char *s)
{
	char buf[512];
	size_t n = fitting(w, s, size, maxw, 0);

	if (n == strlen(s)) {
		text(w, page, x, y, size, s);
		return;
	}
	n = fitting(w, s, size, maxw - text(w, NULL, 0, 0, size, "\xe2\x80\xa6"), 0);
	snprintf(buf, sizeof buf, "%.*s\xe2\x80\xa6", (int)(n < 400 ? n : 400), s);
	text(w, page, x, y, size, buf);
}

static void
gray_bar(HPDF_Page page, float y, float h)
{
	HPDF_Page_SetRGBFill(page, 0.90f, 0.91f, 0.93f);
	HPDF_Page_Rectangle(page, LEFT - 4, y, RIGHT - LEFT + 8, h);
	HPDF_Page_Fill(page);
	HPDF_Page_SetRGBFill(page, 0, 0, 0);
}

static void
rule(HPDF_Page page, float x0, float x1, float y)
{
	HPDF_Page_SetLineWidth(page, 0.5f);
	HPDF_Page_MoveTo(page, x0, y);
	HPDF_Page_LineTo(page, x1, y);
	HPDF_Page_Stroke(page);
}

/* ---- pages ---------------------------------------------------------------- */

static HPDF_Page
new_page(struct pdf_writer *w)
{
	const struct invdoc *d = w->d;
	HPDF_Page page;
	char head[400];

	if (w->npages == w->pagecap) {
		int cap = w->pagecap ? w->pagecap * 2 : 8;
		HPDF_Page *v = realloc(w->pages, (size_t)cap * sizeof *v);

		if (v == NULL)
			return NULL;
		w->pages = v, w->pagecap = cap;
	}
	if ((page = HPDF_AddPage(w->pdf)) == NULL)
		return NULL;
	HPDF_Page_SetSize(page, HPDF_PAGE_SIZE_A4, HPDF_PAGE_PORTRAIT);
	w->pages[w->npages++] = page;
	if (w->npages > 1) {
		/* Continuation pages say whose document they belong to. */
		snprintf(head, sizeof head, "%s %s \xe2\x80\x94 %s", w->L[*d->r.kind == 'c' ?
		    L_CREDIT : L_INVOICE], d->r.number, d->customer);
		tally_utf8_trim(head);
		clipped(w, page, LEFT, PAGE_H - 40, 8, RIGHT - LEFT, head);
		rule(page, LEFT, RIGHT, PAGE_H - 46);
		w->y = PAGE_H - 66;
	}
	return page;
}

static void
page_numbers(struct pdf_writer *w)
{
	char buf[32];

	for (int i = 0; i < w->npages; i++) {
		snprintf(buf, sizeof buf, "%d/%d", i + 1, w->npages);
		right(w, w->pages[i], RIGHT, 30, 8, buf);
	}
}

static void
money_text(const struct invdoc *d, money m, char buf[64])
{
	money_display(m, d->r.currency, d->r.decimals, buf);
}

/* s in lines of maxw, at most `most` (the last cut with an ellipsis);
 * returns the y under the last line. */
static float
wrapped(struct pdf_writer *w, HPDF_Page page, float x, float y, float size, float maxw,
    const char *s, int most)
{
	for (int i = 0; i < most && *s; i++) {
		size_t n = fitting(w, s, size, maxw, 1);
		char row[512];

		if (i == most - 1 || n >= strlen(s)) {
			clipped(w, page, x, y, size, maxw, s);
			return y - size - 3;
		}
		snprintf(row, sizeof row, "%.*s", (int)(n < 500 ? n : 500), s);
		tally_utf8_trim(row);
		text(w, page, x, y, size, row);
		y -= size + 3;
		s += n;
		while (*s == ' ')
			s++;
	}
	return y;
}

/* The header's labels and values: the values stand after the widest
 * label of the document's language. */
static float
label_width(struct pdf_writer *w)
{
	static const enum label ls[] = { L_NUMBER, L_DATE, L_PERIOD, L_CURRENCY, L_REFERS,
		L_REASON };
	float max = 0;

	for (size_t i = 0; i < sizeof ls / sizeof *ls; i++) {
		float t = text(w, NULL, 0, 0, 8, w->L[ls[i]]);

		if (t > max)
			max = t;
	}
	return max + 10;
}

/*
 * A label and value pair in the header; returns the next y.  A number or
 * date is never shortened: a long one is set smaller to fit.  The reason of
 * a credit note wraps.
 */
static float
field(struct pdf_writer *w, HPDF_Page page, float x, float y, enum label l, const char *v)
{
	float lw = label_width(w), avail = RIGHT - x - lw, width = text(w, NULL, 0, 0, 9, v);

	text(w, page, x, y, 8, w->L[l]);
	if (l == L_REASON)
		return wrapped(w, page, x + lw, y, 9, avail, v, 8) - 1;
	if (width > avail) {
		float size = 9 * avail / width;

		clipped(w, page, x + lw, y, size < 5 ? 5 : size, avail, v);
	} else {
		text(w, page, x + lw, y, 9, v);
	}
	return y - 13;
}

static float
party(struct pdf_writer *w, HPDF_Page page, float x, float y, enum label head,
    const char *name, const char *const extra[][2], int nextra)
{
	/* the seller's block ends where the customer's starts, that one at the margin */
	float maxw = x < COL_PARTY ? COL_PARTY - x - 16 : RIGHT - x;

	HPDF_Page_SetRGBFill(page, 0.35f, 0.35f, 0.35f);
	text(w, page, x, y, 8, w->L[head]);
	HPDF_Page_SetRGBFill(page, 0, 0, 0);
	y -= 15;
	y = wrapped(w, page, x, y, 11, maxw, name, 3);
	for (int i = 0; i < nextra; i++) {
		char buf[320];

		if (extra[i][1] == NULL || *extra[i][1] == '\0')
			continue;
		if (extra[i][0])
			snprintf(buf, sizeof buf, "%s: %s", extra[i][0], extra[i][1]);
		else
			snprintf(buf, sizeof buf, "%s", extra[i][1]);
		tally_utf8_trim(buf);
		y = wrapped(w, page, x, y, 9, maxw, buf, 3);
	}
	return y;
}

static HPDF_Page
first_page(struct pdf_writer *w)
{
	const struct invdoc *d = w->d;
	HPDF_Page page = new_page(w);
	char period[64], zone[160];
	const char *seller[][2] = { { NULL, d->seller_address },
		{ w->L[L_TAXID], d->seller_tax_id } };
	const char *customer[][2] = { { w->L[L_ACCOUNT], d->r.account },
		{ NULL, zone } };
	float y, y2;

	if (page == NULL)
		return NULL;
	text(w, page, LEFT, PAGE_H - 70, 20, w->L[*d->r.kind == 'c' ? L_CREDIT : L_INVOICE]);
	y = PAGE_H - 60;
	y = field(w, page, COL_PARTY, y, L_NUMBER, d->r.number);
	y = field(w, page, COL_PARTY, y, L_DATE, d->r.date);
	snprintf(period, sizeof period, "%s \xe2\x80\x93 %s", d->r.first_day, d->r.last_day);
	y = field(w, page, COL_PARTY, y, L_PERIOD, period);
	y = field(w, page, COL_PARTY, y, L_CURRENCY, d->r.currency);
	if (*d->r.refers_number)
		y = field(w, page, COL_PARTY, y, L_REFERS, d->r.refers_number);
	if (*d->r.reason)
		y = field(w, page, COL_PARTY, y, L_REASON, d->r.reason);
	snprintf(zone, sizeof zone, "%s %s", w->L[L_ZONE], d->tzname);
	y -= 14;
	y2 = party(w, page, LEFT, y, L_SELLER, d->seller, seller, 2);
	y = party(w, page, COL_PARTY, y, L_CUSTOMER, d->customer, customer, 2);
	w->y = (y < y2 ? y : y2) - 18;
	return page;
}

/* Columns of the lines table: description left, the rest right-aligned. */
#define COL_QTY 372.0f
#define COL_UNIT 462.0f
#define DESC_W (COL_QTY - LEFT - 50)

static void
lines_head(struct pdf_writer *w, HPDF_Page page)
{
	gray_bar(page, w->y - 4, 15);
	text(w, page, LEFT, w->y, 8, w->L[L_DESC]);
	right(w, page, COL_QTY, w->y, 8, w->L[L_QTY]);
	right(w, page, COL_UNIT, w->y, 8, w->L[L_UNIT]);
	right(w, page, RIGHT, w->y, 8, w->L[L_AMOUNT]);
	w->y -= 17;
}

static HPDF_Page
room(struct pdf_writer *w, HPDF_Page page, float need, void (*head)(struct pdf_writer *,
    HPDF_Page))
{
	if (w->y - need >= BOTTOM)
		return page;
	if ((page = new_page(w)) != NULL && head)
		head(w, page);
	return page;
}

static HPDF_Page
draw_lines(struct pdf_writer *w, HPDF_Page page)
{
	const struct invdoc *d = w->d;
	char a[64], b[64];

	lines_head(w, page);
	for (int i = 0; i < d->nlines && page; i++) {
		const struct bill_line *l = &d->lines[i];
		const char *s = l->description;
		int first = 1;

		/* Descriptions wrap; the figures stand on the first row. */
		while (first || *s) {
			size_t n = fitting(w, s, 9, DESC_W, 1);
			char row[512];

			if ((page = room(w, page, 12, lines_head)) == NULL)
				return NULL;
			snprintf(row, sizeof row, "%.*s", (int)(n < 500 ? n : 500), s);
			text(w, page, LEFT, w->y, 9, row);
			if (first) {
				money_text(d, l->unit_price, a);
				money_text(d, l->amount, b);
				char q[24];

				/* "12.50" minutes reads "12,50" where ',' is the point */
				snprintf(q, sizeof q, "%s", l->quantity);
				for (char *c = q; *c; c++)
					if (*c == '.')
						*c = money_point(d->r.currency);
				right(w, page, COL_QTY, w->y, 9, q);
				right(w, page, COL_UNIT, w->y, 9, a);
				right(w, page, RIGHT, w->y, 9, b);
			}
			s += n;
			while (*s == ' ')
				s++;
			first = 0;
			w->y -= 12;
		}
		w->y -= 2;
	}
	return page;
}

static HPDF_Page
total_row(struct pdf_writer *w, HPDF_Page page, const char *label, money m, float size)
{
	char buf[64];

	if ((page = room(w, page, size + 6, NULL)) == NULL)
		return NULL;
	money_text(w->d, m, buf);
	{
		/* a wide amount pushes its label left rather than over it */
		float aw = text(w, NULL, 0, 0, size, buf), lr = RIGHT - aw - 12;

		right(w, page, lr < COL_UNIT ? lr : COL_UNIT, w->y, size, label);
	}
	right(w, page, RIGHT, w->y, size, buf);
	w->y -= size + 6;
	return page;
}

static HPDF_Page
draw_totals(struct pdf_writer *w, HPDF_Page page)
{
	const struct invdoc *d = w->d;

	rule(page, LEFT, RIGHT, w->y + 6);
	w->y -= 8;
	page = total_row(w, page, w->L[L_SUBTOTAL], d->r.subtotal, 9);
	for (int i = 0; i < d->ntaxes && page; i++) {
		const struct bill_taxgroup *g = &d->taxes[i];
		char rate[16], base[64], label[200];

		bill_rate_text(g->rate, rate);
		money_text(d, g->base, base);
		snprintf(label, sizeof label, "%s %s%% \xc3\x97 %s%s%s%s", w->L[L_TAX], rate, base,
		    g->included ? " (" : "", g->included ? w->L[L_INCLUDED] : "",
		    g->included ? ")" : "");
		page = total_row(w, page, label, g->tax, 9);
	}
	if (page)
		page = total_row(w, page, w->L[L_TOTAL], d->r.total, 11);
	if (page && *d->r.kind == 'i') {
		w->y -= 6;
		/* The ledger counts what the customer owes as negative; the
		 * invoice shows it owed, so that owed + total - payments = due. */
		page = total_row(w, page, w->L[L_PREVIOUS], -d->r.previous, 9);
		if (page)
			page = total_row(w, page, w->L[L_PAYMENTS], d->r.payments, 9);
		if (page)
			page = total_row(w, page, w->L[L_DUE], d->r.due, 12);
	}
	return page;
}

/* Itemized calls: time, caller, called, destination, duration, billed, charge. */
#define C_CALLER 128.0f
#define C_CALLEE 204.0f
#define C_DEST 280.0f
#define C_DUR 452.0f
#define C_BILLED 496.0f

struct calls {
	struct pdf_writer *w;
	HPDF_Page page;
};

static void
calls_head(struct pdf_writer *w, HPDF_Page page)
{
	gray_bar(page, w->y - 4, 15);
	text(w, page, LEFT, w->y, 7.5f, w->L[L_TIME]);
	text(w, page, C_CALLER, w->y, 7.5f, w->L[L_CALLER]);
	text(w, page, C_CALLEE, w->y, 7.5f, w->L[L_CALLEE]);
	text(w, page, C_DEST, w->y, 7.5f, w->L[L_DEST]);
	right(w, page, C_DUR, w->y, 7.5f, w->L[L_DURATION]);
	right(w, page, C_BILLED, w->y, 7.5f, w->L[L_BILLED]);
	right(w, page, RIGHT, w->y, 7.5f, w->L[L_CHARGE]);
	w->y -= 15;
}

static void
min_sec(int64_t s, char buf[32])
{
	snprintf(buf, 32, "%lld:%02lld", (long long)(s / 60), (long long)(s % 60));
}

static int
call_row(const struct invdoc_call *ic, void *arg)
{
	struct calls *c = arg;
	struct pdf_writer *w = c->w;
	char dur[32], billed[32], charge[64];

	if (c->page == NULL || w->y - 10 < BOTTOM) {
		if ((c->page = new_page(w)) == NULL)
			return -1;
		calls_head(w, c->page);
	}
	min_sec(ic->c->seconds, dur);
	min_sec(ic->c->billed_seconds, billed);
	money_text(w->d, ic->c->amount, charge);
	text(w, c->page, LEFT, w->y, 7.5f, ic->local);
	clipped(w, c->page, C_CALLER, w->y, 7.5f, C_CALLEE - C_CALLER - 4, ic->c->caller);
	clipped(w, c->page, C_CALLEE, w->y, 7.5f, C_DEST - C_CALLEE - 4, ic->c->callee);
	clipped(w, c->page, C_DEST, w->y, 7.5f, C_DUR - C_DEST - 40,
	    *ic->c->destination ? ic->c->destination : ic->c->class);
	right(w, c->page, C_DUR, w->y, 7.5f, dur);
	right(w, c->page, C_BILLED, w->y, 7.5f, billed);
	right(w, c->page, RIGHT, w->y, 7.5f, charge);
	w->y -= 10;
	return 0;
}

static int
calls_title(const struct invdoc_call *ic, void *arg)
{
	(void)ic;
	*(int *)arg = 1;
	return 1;
}

static int
draw_calls(struct pdf_writer *w, struct invdoc_set *set, struct terr *e)
{
	struct calls c = { w, NULL };
	int any = 0;
	char title[200];

	if (invdoc_each_call(set, w->d, calls_title, &any, e) < 0)
		return -1;
	if (!any)
		return 0;
	/* The list starts on a page of its own, after the invoice. */
	if ((c.page = new_page(w)) == NULL)
		return 1;
	snprintf(title, sizeof title, "%s (%s %s)", w->L[L_CALLS], w->L[L_ZONE], w->d->tzname);
	text(w, c.page, LEFT, w->y, 11, title);
	w->y -= 20;
	calls_head(w, c.page);
	return invdoc_each_call(set, w->d, call_row, &c, e) < 0 ? -1 : 0;
}

static void
set_info(struct pdf_writer *w)
{
	const struct invdoc *d = w->d;
	HPDF_Date date = { 0 };
	char title[200];

	snprintf(title, sizeof title, "%s %s", w->L[*d->r.kind == 'c' ? L_CREDIT : L_INVOICE],
	    d->r.number);
	HPDF_SetInfoAttr(w->pdf, HPDF_INFO_TITLE, title);
	HPDF_SetInfoAttr(w->pdf, HPDF_INFO_AUTHOR, d->seller);
	HPDF_SetInfoAttr(w->pdf, HPDF_INFO_CREATOR, "tally " TALLY_VERSION);
	if (sscanf(d->r.date, "%4d-%2d-%2d", &date.year, &date.month, &date.day) == 3) {
		date.ind = 'Z';
		HPDF_SetInfoDateAttr(w->pdf, HPDF_INFO_CREATION_DATE, date);
	}
}

int
pdf_invoice(struct pdf_writer *w, struct invdoc_set *set, const struct invdoc *d,
    const char *path, struct terr *e)
{
	char tmp[PATH_MAX];
	HPDF_Page page;
	int rc = -1, fd;

	if (HPDF_NewDoc(w->pdf) != HPDF_OK) {
		terr_set(e, "libharu: cannot start a document (error 0x%04X)", (unsigned)w->err);
		return -1;
	}
	w->err = 0;
	w->d = d;
	w->L = labels[strcmp(d->r.currency, "VND") == 0 ? 1 :
	    strcmp(d->r.currency, "CNY") == 0 ? 2 : 0];
	w->npages = 0;
	memset(w->font, 0, sizeof w->font);
	HPDF_SetCompressionMode(w->pdf, HPDF_COMP_ALL);
	HPDF_SetCurrentEncoder(w->pdf, "UTF-8");
	w->font[F_SANS] = HPDF_GetFont(w->pdf, w->def[F_SANS], "UTF-8");
	set_info(w);
	if (w->font[F_SANS] && (page = first_page(w)) != NULL && (page = draw_lines(w, page)) != NULL &&
	    draw_totals(w, page) != NULL) {
		int c = draw_calls(w, set, e);

		if (c < 0)
			goto out;
		if (c == 0) {
			page_numbers(w);
			rc = 0;
		}
	}
	if (rc != 0 || w->err) {
		terr_set(e, "%s: libharu error 0x%04X (detail %u)", path, (unsigned)w->err,
		    (unsigned)w->detail);
		rc = -1;
		goto out;
	}
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	/* libharu's error code does not say why a file cannot be made: make it
	 * here first, so that the message has the reason. */
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666)) < 0 ||
	    close(fd) != 0) {
		terr_set(e, "%s: %s", tmp, strerror(errno));
		rc = -1;
	} else if (HPDF_SaveToFile(w->pdf, tmp) != HPDF_OK || w->err) {
		terr_set(e, "%s: cannot write (libharu error 0x%04X)", tmp, (unsigned)w->err);
		unlink(tmp);
		rc = -1;
	} else if (rename(tmp, path) != 0) {
		terr_set(e, "%s: %s", path, strerror(errno));
		unlink(tmp);
		rc = -1;
	}
out:
	HPDF_FreeDoc(w->pdf);
	w->d = NULL;
	return rc;
}
