/*
 * numnorm.h - number normalization by ordered PCRE2 rewrite rules.
 *
 * A rules file is CSV with the header `match,replace,action`.  Rules are
 * tried in file order; a rule whose pattern matches replaces every match
 * (`$1` etc. in the replacement) and then, by its action, either stops
 * ("stop") or hands the rewritten number to the next rule ("next").  A
 * number no rule matches is returned unchanged.  See tally-cdr(5).
 */
#ifndef TALLY_NUMNORM_H
#define TALLY_NUMNORM_H

#include <stddef.h>

#include "tally/terr.h"

#define NUMNORM_MAX 128	/* longest normalized number kept, NUL included */

struct numnorm;

/* Load and compile a rules file; every bad rule is an error naming file,
 * line and field. */
struct numnorm *numnorm_load(const char *path, struct terr *e);

/* Build rules from memory: `text` holds the CSV, header included; `name`
 * is used in messages.  For tests and built-in defaults. */
struct numnorm *numnorm_parse(const char *name, const char *text, size_t len,
    struct terr *e);

void numnorm_free(struct numnorm *n);

/*
 * Normalize `in` into out[NUMNORM_MAX].  With n == NULL the number is
 * copied as it is.  Returns 0, or -1 when a result would not fit (the raw
 * number is then copied, cut to fit, and the caller decides).
 */
int numnorm_apply(const struct numnorm *n, const char *in, char *out);

#endif
