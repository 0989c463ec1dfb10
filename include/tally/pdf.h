/*
 * pdf.h - invoices and credit notes as PDF (libharu), tally-export(1).
 *
 * Text is UTF-8 drawn with embedded TrueType fonts from Debian's packages:
 * DejaVu Sans for Latin and Vietnamese, Droid Sans Fallback for Chinese,
 * chosen per run of characters.  The build reduces both to the characters
 * an invoice needs and draws out composite glyphs (scripts/make-font), in
 * build/fonts or, installed, DATADIR/fonts.  Labels are Vietnamese for VND invoices,
 * Chinese for CNY ones, English otherwise.  The document date is the
 * invoice's, so an invoice gives the same bytes every time.
 */
#ifndef TALLY_PDF_H
#define TALLY_PDF_H

#include "tally/invdoc.h"
#include "tally/terr.h"

/* A writer keeps the parsed fonts between documents. */
struct pdf_writer;

struct pdf_writer *pdf_writer_new(struct terr *e);
void pdf_writer_free(struct pdf_writer *w);

/* Write d to path (replaced whole: written aside, then renamed). */
int pdf_invoice(struct pdf_writer *w, struct invdoc_set *set, const struct invdoc *d,
    const char *path, struct terr *e);

#endif
