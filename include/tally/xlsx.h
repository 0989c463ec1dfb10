/*
 * xlsx.h - spreadsheets with libxlsxwriter (tally-export(1), tally-report(1)).
 *
 * Numbers are written as numbers with the currency's format, dates as
 * dates; header rows are frozen and filtered.  Totals are formulas over
 * the cells above them with the invoice's own figures cached, so a
 * spreadsheet that recomputes gets the same amounts.  The workbook's date
 * is the document's, so the same input gives the same bytes.  Rows stream
 * to disk (constant memory): a long call list does not grow the process.
 */
#ifndef TALLY_XLSX_H
#define TALLY_XLSX_H

#include <stdio.h>

#include "tally/invdoc.h"
#include "tally/terr.h"

/* An invoice sheet (document fields, lines, tax groups, totals) and a
 * calls sheet.  path is replaced whole. */
int xlsx_invoice(struct invdoc_set *set, const struct invdoc *d, const char *path,
    struct terr *e);

/* A report's CSV (header row first) as one sheet: a column whose every
 * value is a plain decimal number (not a code with a leading zero) and
 * whose name is not one of the text columns (account, period...) becomes
 * numbers.  csv is read twice (rewound). */
int xlsx_from_csv(FILE *csv, const char *sheet, const char *path, struct terr *e);

#endif
