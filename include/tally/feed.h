/*
 * feed.h - what tally-feedd(8) accepts from a switch, apart from HTTP:
 * the credentials file, FreeSWITCH mod_json_cdr bodies turned into the
 * mod_cdr_csv line tally-ingest reads, and CSV bodies cut into records.
 * Pure: no sockets, no threads, so each piece is tested on its own.
 */
#ifndef TALLY_FEED_H
#define TALLY_FEED_H

#include <stddef.h>

#include "tally/terr.h"

/* One source of the credentials file: "SOURCE PASSWORD FORMAT" per line. */
struct feed_source {
	char name[65], password[129], format[16];
};

struct feed_sources {
	struct feed_source *v;
	int n;
};

/* Load the credentials file, refused unless it is a regular file of mode
 * 0600 or stricter (it holds passwords).  Errors name file and line. */
int feed_sources_load(const char *path, struct feed_sources *out, struct terr *e);
void feed_sources_release(struct feed_sources *s);
/* The source whose name and password these are, or NULL; the password is
 * compared in constant time. */
const struct feed_source *feed_auth(const struct feed_sources *s, const char *user,
    const char *password);

/*
 * A FreeSWITCH mod_json_cdr body (raw JSON, or the form "cdr=<url-encoded
 * JSON>") as one line of mod_cdr_csv's example template, which tally-ingest
 * --format freeswitch reads: the fields come from "variables", URL-decoded.
 * Returns a malloc'd line, or NULL with the reason in e (a 400).
 */
char *feed_fs_json_line(const char *body, size_t len, struct terr *e);

/*
 * A CSV body (POST /cdr/csv) cut into records, one per line (LF or CR LF
 * ends one; empty lines skipped): *rec[i] points into body, *rlen[i] is
 * its length; both arrays malloc'd (free them also on failure).  Refused
 * (-1, the reason in e, a 400): a NUL byte, or no line at all.
 */
int feed_csv_records(char *body, size_t len, char ***rec, size_t **rlen, int *n,
    struct terr *e);

/* Decode %XX in place, and '+' as a space when plus_is_space (a form; in
 * mod_json_cdr's values a '+' is a '+').  Returns -1 for a malformed escape. */
int feed_url_decode(char *s, int plus_is_space);

#endif
