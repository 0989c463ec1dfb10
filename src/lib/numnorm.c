#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tally/csvline.h"
#include "tally/lreader.h"
#include "tally/numnorm.h"

struct rule {
	pcre2_code *re;
	char *replace;
	int stop;
};

struct numnorm {
	struct rule *rules;
	size_t n;
	pcre2_match_data *md;
};

void
numnorm_free(struct numnorm *n)
{
	if (n == NULL)
		return;
	for (size_t i = 0; i < n->n; i++) {
		pcre2_code_free(n->rules[i].re);
		free(n->rules[i].replace);
	}
	free(n->rules);
	pcre2_match_data_free(n->md);
	free(n);
}

static int
add_rule(struct numnorm *n, const char *name, uint64_t lineno,
    struct csvline *cl, struct terr *e)
{
	const char *pat = csvline_field(cl, 0), *act = csvline_field(cl, 2);
	struct rule r = { 0 };
	int ec;
	PCRE2_SIZE eo;

	if (strcmp(act, "stop") == 0)
		r.stop = 1;
	else if (strcmp(act, "next") != 0)
		return terr_set(e, "%s:%llu: action: \"%s\" is neither stop nor next",
		    name, (unsigned long long)lineno, act);
	r.re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, 0, &ec, &eo, NULL);
	if (r.re == NULL) {
		PCRE2_UCHAR msg[256];

		pcre2_get_error_message(ec, msg, sizeof msg);
		return terr_set(e, "%s:%llu: match: %s at offset %zu", name,
		    (unsigned long long)lineno, (char *)msg, (size_t)eo);
	}
	pcre2_jit_compile(r.re, PCRE2_JIT_COMPLETE);	/* optional speed-up */
	if ((r.replace = strdup(csvline_field(cl, 1))) == NULL) {
		pcre2_code_free(r.re);
		return terr_set(e, "out of memory");
	}
	struct rule *nr = realloc(n->rules, (n->n + 1) * sizeof *nr);
	if (nr == NULL) {
		pcre2_code_free(r.re);
		free(r.replace);
		return terr_set(e, "out of memory");
	}
	n->rules = nr;
	n->rules[n->n++] = r;
	return 0;
}

static struct numnorm *
parse_stream(const char *name, FILE *f, struct terr *e)
{
	struct numnorm *n = calloc(1, sizeof *n);
	struct csvline *cl = csvline_new(',');
	struct lreader *lr = lreader_new(f, 4096);
	struct lline l;
	int rc, ok = 0, have_header = 0;

	if (n == NULL || cl == NULL || lr == NULL) {
		terr_set(e, "out of memory");
		goto out;
	}
	while ((rc = lreader_next(lr, &l)) == 1) {
		int nf;

		if (l.len == 0 || l.text[0] == '#')
			continue;
		if (l.too_long) {
			terr_set(e, "%s:%llu: line too long", name, (unsigned long long)l.lineno);
			goto out;
		}
		nf = csvline_split(cl, l.text, l.len);
		if (nf != 3) {
			terr_set(e, "%s:%llu: expected 3 fields (match,replace,action), got %d",
			    name, (unsigned long long)l.lineno, nf);
			goto out;
		}
		if (!have_header) {
			have_header = 1;
			if (strcmp(csvline_field(cl, 0), "match") != 0 ||
			    strcmp(csvline_field(cl, 1), "replace") != 0 ||
			    strcmp(csvline_field(cl, 2), "action") != 0) {
				terr_set(e, "%s:%llu: header must be match,replace,action",
				    name, (unsigned long long)l.lineno);
				goto out;
			}
			continue;
		}
		if (add_rule(n, name, l.lineno, cl, e) != 0)
			goto out;
	}
	if (rc < 0) {
		terr_set(e, "%s: read error", name);
		goto out;
	}
	if ((n->md = pcre2_match_data_create(10, NULL)) == NULL) {
		terr_set(e, "out of memory");
		goto out;
	}
	ok = 1;
out:
	lreader_free(lr);
	csvline_free(cl);
	if (!ok) {
		numnorm_free(n);
		return NULL;
	}
	return n;
}

struct numnorm *
numnorm_load(const char *path, struct terr *e)
{
	FILE *f = fopen(path, "rb");
	struct numnorm *n;

	if (f == NULL) {
		terr_set(e, "%s: cannot open", path);
		return NULL;
	}
	n = parse_stream(path, f, e);
	fclose(f);
	return n;
}

struct numnorm *
numnorm_parse(const char *name, const char *text, size_t len, struct terr *e)
{
	FILE *f = fmemopen((void *)text, len, "rb");
	struct numnorm *n;

	if (f == NULL) {
		terr_set(e, "out of memory");
		return NULL;
	}
	n = parse_stream(name, f, e);
	fclose(f);
	return n;
}

int
numnorm_apply(const struct numnorm *n, const char *in, char *out)
{
	char a[NUMNORM_MAX], b[NUMNORM_MAX];
	char *cur = a, *next = b;

	if (tally_strlcpy(a, in, sizeof a) >= sizeof a) {
		tally_strlcpy(out, in, NUMNORM_MAX);
		return -1;
	}
	for (size_t i = 0; n != NULL && i < n->n; i++) {
		const struct rule *r = &n->rules[i];
		PCRE2_SIZE olen = sizeof b;
		int rc;

		rc = pcre2_substitute(r->re, (PCRE2_SPTR)cur, PCRE2_ZERO_TERMINATED,
		    0, PCRE2_SUBSTITUTE_GLOBAL, n->md, NULL,
		    (PCRE2_SPTR)r->replace, PCRE2_ZERO_TERMINATED,
		    (PCRE2_UCHAR *)next, &olen);
		if (rc == 0)
			continue;	/* no match */
		if (rc < 0) {
			tally_strlcpy(out, in, NUMNORM_MAX);
			return -1;
		}
		char *t = cur;
		cur = next;
		next = t;
		if (r->stop)
			break;
	}
	memcpy(out, cur, strlen(cur) + 1);
	return 0;
}
