/*
 * feed.c - credentials and bodies of live switch feeds.  See feed.h.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tally/feed.h"
#include "tally/format.h"
#include "tally/ingest.h"

int
feed_sources_load(const char *path, struct feed_sources *out, struct terr *e)
{
	struct stat st;
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	long lineno = 0;
	int fd;

	memset(out, 0, sizeof *out);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) != 0) {
		terr_set(e, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	/* passwords: nobody but the owner reads them */
	if (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0) {
		close(fd);
		return terr_set(e, "%s: mode %04o: a credentials file must be a regular file"
		    " of mode 0600 or stricter", path, (unsigned)(st.st_mode & 07777));
	}
	if ((f = fdopen(fd, "r")) == NULL) {
		close(fd);
		return terr_set(e, "%s: %s", path, strerror(errno));
	}
	while (getline(&line, &cap, f) > 0) {
		char name[80], pw[160], fmt[32], extra[8];
		enum format_kind k;
		int n;
		struct feed_source *v;

		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (line[strspn(line, " \t")] == '#' || line[strspn(line, " \t")] == '\0')
			continue;
		n = sscanf(line, "%79s %159s %31s %7s", name, pw, fmt, extra);
		if (n != 3 || !ingest_source_valid(name) || strlen(pw) > 128 ||
		    format_kind_parse(fmt, &k) != 0 || k == FORMAT_CSV) {
			terr_set(e, "%s:%ld: expected SOURCE PASSWORD FORMAT (asterisk, freeswitch"
			    " or kamailio; a source of 1 to 64 of A-Z a-z 0-9 _ . -,"
			    " the first a letter or digit)", path, lineno);
			goto fail;
		}
		for (int i = 0; i < out->n; i++) {
			if (strcmp(out->v[i].name, name) == 0) {
				terr_set(e, "%s:%ld: source %s given twice", path, lineno, name);
				goto fail;
			}
		}
		if ((v = realloc(out->v, (size_t)(out->n + 1) * sizeof *v)) == NULL) {
			terr_set(e, "out of memory");
			goto fail;
		}
		out->v = v;
		snprintf(v[out->n].name, sizeof v[out->n].name, "%.64s", name);
		snprintf(v[out->n].password, sizeof v[out->n].password, "%s", pw);
		snprintf(v[out->n].format, sizeof v[out->n].format, "%.15s", fmt);
		out->n++;
	}
	free(line);
	fclose(f);
	if (out->n == 0)
		return terr_set(e, "%s: no sources", path);
	return 0;
fail:
	free(line);
	fclose(f);
	feed_sources_release(out);
	return -1;
}

void
feed_sources_release(struct feed_sources *s)
{
	if (s->v)
		memset(s->v, 0, (size_t)s->n * sizeof *s->v);	/* no passwords left about */
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

/* Equal strings, in a time that does not tell how much of them matched. */
static int
same_secret(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char d = (unsigned char)(la != lb);

	for (size_t i = 0; i < lb; i++)
		d |= (unsigned char)((unsigned char)a[i % (la ? la : 1)] ^ (unsigned char)b[i]);
	return d == 0 && la == lb;
}

const struct feed_source *
feed_auth(const struct feed_sources *s, const char *user, const char *password)
{
	if (user == NULL || password == NULL)
		return NULL;
	for (int i = 0; i < s->n; i++)
		if (strcmp(s->v[i].name, user) == 0)
			return same_secret(password, s->v[i].password) ? &s->v[i] : NULL;
	return NULL;
}

static int
hexval(int c)
{
	return isdigit(c) ? c - '0' : isxdigit(c) ? (tolower(c) - 'a' + 10) : -1;
}

int
feed_url_decode(char *s, int plus_is_space)
{
	char *o = s;

	for (; *s; s++) {
		if (*s == '+' && plus_is_space) {
			*o++ = ' ';
		} else if (*s == '%') {
			int h = hexval((unsigned char)s[1]), l = h < 0 ? -1 :
			    hexval((unsigned char)s[2]);

			if (h < 0 || l < 0 || (h == 0 && l == 0))
				return -1;	/* malformed, or a NUL that would cut the value */
			*o++ = (char)(h * 16 + l);
			s += 2;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
	return 0;
}

/* A JSON number as the whole number a CSV column holds, or -1: a number
 * from the network is never cut (59.9 is not 59) nor cast out of range. */
static int
whole_number(json_t *j, char out[32])
{
	double d;

	if (json_is_integer(j)) {
		snprintf(out, 32, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
		return 0;
	}
	d = json_real_value(j);
	if (!(d > -1e15 && d < 1e15) || d != (double)(long long)d)
		return -1;
	snprintf(out, 32, "%lld", (long long)d);
	return 0;
}

/* A value of "variables", else of the first caller profile; "" if none. */
static const char *
fs_field(json_t *root, const char *var, const char *profile_key)
{
	json_t *v = json_object_get(json_object_get(root, "variables"), var);
	json_t *flow;

	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v) || json_is_real(v))
		return NULL;	/* numbers are read by the caller */
	if (profile_key == NULL)
		return "";
	flow = json_object_get(root, "callflow");
	if (json_is_array(flow))
		flow = json_array_get(flow, 0);
	v = json_object_get(json_object_get(flow, "caller_profile"), profile_key);
	return json_is_string(v) ? json_string_value(v) : "";
}

char *
feed_fs_json_line(const char *body, size_t len, struct terr *e)
{
	static const struct {
		const char *var, *profile;
	} cols[] = {
		{ "caller_id_name", "caller_id_name" }, { "caller_id_number", "caller_id_number" },
		{ "destination_number", "destination_number" }, { "context", "context" },
		{ "start_stamp", NULL }, { "answer_stamp", NULL }, { "end_stamp", NULL },
		{ "duration", NULL }, { "billsec", NULL }, { "hangup_cause", NULL },
		{ "uuid", NULL }, { "bleg_uuid", NULL }, { "accountcode", NULL },
		{ "read_codec", NULL }, { "write_codec", NULL },
	};
	char *text = NULL, *line = NULL;
	size_t used = 0, cap = 0;
	json_error_t je;
	json_t *root;

	/* a NUL would end the form's value early, and JSON text holds none */
	if (memchr(body, '\0', len) != NULL) {
		terr_set(e, "the body holds a NUL byte");
		return NULL;
	}
	/* mod_json_cdr posts the JSON as it is, or as the form field "cdr" */
	if (len >= 4 && memcmp(body, "cdr=", 4) == 0) {
		if ((text = strndup(body + 4, len - 4)) == NULL || feed_url_decode(text, 1) != 0) {
			free(text);
			terr_set(e, "the form field cdr is not url-encoded");
			return NULL;
		}
		body = text;
		len = strlen(text);
	}
	root = json_loadb(body, len, 0, &je);
	free(text);
	if (root == NULL || !json_is_object(json_object_get(root, "variables"))) {
		terr_set(e, root ? "no \"variables\" object: not a mod_json_cdr CDR" :
		    "malformed JSON at line %d column %d: %s", je.line, je.column, je.text);
		json_decref(root);
		return NULL;
	}
	for (size_t i = 0; i < sizeof cols / sizeof *cols; i++) {
		const char *v = fs_field(root, cols[i].var, cols[i].profile);
		char num[32], *dec;
		size_t need;

		if (v == NULL) {	/* a number */
			json_t *j = json_object_get(json_object_get(root, "variables"),
			    cols[i].var);

			if (whole_number(j, num) != 0) {
				terr_set(e, "variable %s: %.15g is not a whole number below"
				    " 10^15", cols[i].var, json_real_value(j));
				goto fail;
			}
			v = num;
		}
		/* Values are url-encoded in mod_json_cdr's default configuration,
		 * where a '+' of a number arrives as %2B: a '+' is itself. */
		if ((dec = strdup(v)) == NULL || feed_url_decode(dec, 0) != 0) {
			free(dec);
			terr_set(e, "variable %s: malformed url-encoding", cols[i].var);
			goto fail;
		}
		if (strpbrk(dec, "\"\r\n") != NULL) {
			/* the template quotes values and cannot hold these */
			terr_set(e, "variable %s holds a quote or a line break", cols[i].var);
			free(dec);
			goto fail;
		}
		need = used + strlen(dec) + 4;
		if (need > cap) {
			char *l = realloc(line, cap = need * 2);

			if (l == NULL) {
				free(dec);
				terr_set(e, "out of memory");
				goto fail;
			}
			line = l;
		}
		used += (size_t)sprintf(line + used, "%s\"%s\"", i ? "," : "", dec);
		free(dec);
	}
	json_decref(root);
	return line;
fail:
	json_decref(root);
	free(line);
	return NULL;
}

int
feed_csv_records(char *body, size_t len, char ***rec, size_t **rlen, int *n, struct terr *e)
{
	int cap = 0;

	*n = 0;
	*rec = NULL;
	*rlen = NULL;
	if (memchr(body, '\0', len) != NULL)
		return terr_set(e, "the body holds a NUL byte");
	for (size_t i = 0; i < len;) {
		size_t j = i, l;

		while (j < len && body[j] != '\n')
			j++;
		l = j - i;
		if (l > 0 && body[i + l - 1] == '\r')
			l--;
		if (l > 0) {
			if (*n == cap) {
				char **r = realloc(*rec, (size_t)(cap = cap ? cap * 2 : 64) * sizeof *r);
				size_t *rl = realloc(*rlen, (size_t)cap * sizeof *rl);

				if (r)
					*rec = r;
				if (rl)
					*rlen = rl;
				if (r == NULL || rl == NULL)
					return terr_set(e, "out of memory");
			}
			(*rec)[*n] = body + i;
			(*rlen)[(*n)++] = l;
		}
		i = j + 1;
	}
	if (*n == 0)
		return terr_set(e, "the body holds no CDR line");
	return 0;
}
