/*
 * tally-feedd - live switch feeds into a durable spool.  See tally-feedd(8).
 *
 * Each request's CDRs are appended to its source's spool (spool.h) and
 * acknowledged only after they are on disk.  One syncer thread makes them
 * durable for every request waiting at that moment (group commit): while
 * it syncs, new requests queue up and share the next sync.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "tally/feed.h"
#include "tally/format.h"
#include "tally/ingest.h"
#include "tally/spool.h"

static const char *progname = "tally-feedd";

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: tally-feedd --spool DIR --credentials FILE [--listen ADDR:PORT]\n"
	    "                   [--max-body BYTES] [--timeout SECONDS]\n"
	    "                   [--auth-timeout SECONDS] [--max-per-client N]\n"
	    "                   [--rotate-bytes BYTES] [--rotate-seconds SECONDS]\n"
	    "                   [--log FILE | --syslog]\n"
	    "       tally-feedd --help | --version\n");
}

static struct {
	pthread_mutex_t mu;
	pthread_cond_t work, synced_cv;
	uint64_t appended, synced;	/* request tickets */
	int failed;			/* a sync failed: nothing more is acknowledged */
	int stopping;
	struct feed_sources src;
	struct spool_writer **w;	/* per source, opened on first use */
	time_t *opened;
	int *dirty;
	uint64_t *received;		/* CDRs acknowledged per source */
	uint64_t *refused;		/* requests refused per source (4xx) */
	const char *spool;
	uint64_t rotate_bytes;
	int rotate_seconds;
	size_t max_body;
	const char *log;
	int syslog;
	int inflight;			/* authenticated requests not yet done */
	int draining;			/* SIGTERM: new requests get 503 */
	unsigned timeout;		/* idle seconds of an authenticated client */
} g = { .mu = PTHREAD_MUTEX_INITIALIZER, .work = PTHREAD_COND_INITIALIZER,
	.synced_cv = PTHREAD_COND_INITIALIZER };

static void
logf_(const char *fmt, ...)
{
	char when[32];
	time_t now = time(NULL);
	struct tm tm;
	va_list ap;

	va_start(ap, fmt);
	if (g.syslog) {
		vsyslog(LOG_INFO, fmt, ap);
		va_end(ap);
		return;
	}
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	fprintf(stderr, "%s %s[%d]: ", when, progname, (int)getpid());
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
}

/* ---- the syncer ------------------------------------------------------------ */

static void *
syncer(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&g.mu);
	for (;;) {
		uint64_t target;
		struct timespec ts;

		while ((g.appended == g.synced || g.failed) && !g.stopping) {
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 1;
			pthread_cond_timedwait(&g.work, &g.mu, &ts);
			/* age rotation of idle files */
			for (int i = 0; i < g.src.n; i++) {
				struct terr e;

				if (g.w[i] && spool_size(g.w[i]) > 0 && g.rotate_seconds > 0 &&
				    time(NULL) - g.opened[i] >= g.rotate_seconds) {
					if (spool_rotate(g.w[i], &e) != 0)
						logf_("rotate %s: %s", g.src.v[i].name, e.msg);
					g.opened[i] = time(NULL);
				}
			}
		}
		target = g.appended;
		for (int i = 0; i < g.src.n; i++) {
			struct terr e;

			if (!g.dirty[i])
				continue;
			g.dirty[i] = 0;
			if (spool_sync(g.w[i], &e) != 0) {
				logf_("sync %s: %s; refusing CDRs from now on", g.src.v[i].name, e.msg);
				g.failed = 1;
			} else if (spool_size(g.w[i]) >= g.rotate_bytes || (g.rotate_seconds > 0 &&
			    time(NULL) - g.opened[i] >= g.rotate_seconds)) {
				if (spool_rotate(g.w[i], &e) != 0)
					logf_("rotate %s: %s", g.src.v[i].name, e.msg);
				g.opened[i] = time(NULL);
			}
		}
		/* After a failed sync the waiting requests are not durable: they
		 * are answered 503 (store_records), never 200. */
		if (!g.failed)
			g.synced = target;
		pthread_cond_broadcast(&g.synced_cv);
		if (g.stopping && (g.appended == g.synced || g.failed))
			break;
	}
	pthread_mutex_unlock(&g.mu);
	return NULL;
}

/* Append the records of one request and wait until they are durable. */
static int
store_records(int s, char *const *rec, const size_t *len, int n, struct terr *e)
{
	uint64_t ticket;
	int rc = 0;

	pthread_mutex_lock(&g.mu);
	if (g.failed || g.stopping) {
		pthread_mutex_unlock(&g.mu);
		return terr_set(e, g.failed ? "the spool cannot be written" : "shutting down");
	}
	if (g.w[s] == NULL) {
		char dir[4096];

		snprintf(dir, sizeof dir, "%s/%s", g.spool, g.src.v[s].name);
		if ((g.w[s] = spool_open(dir, e)) == NULL) {
			pthread_mutex_unlock(&g.mu);
			return -1;
		}
		g.opened[s] = time(NULL);
	}
	for (int i = 0; i < n && rc == 0; i++)
		rc = spool_append(g.w[s], rec[i], len[i], e);
	/* lengths were checked: only running out of memory stops this half-way,
	 * and what was appended is a duplicate at ingest if the switch retries */
	g.dirty[s] = 1;
	ticket = ++g.appended;
	pthread_cond_signal(&g.work);
	while (g.synced < ticket && !g.failed)
		pthread_cond_wait(&g.synced_cv, &g.mu);
	if (rc == 0 && g.synced < ticket)
		rc = terr_set(e, "the spool cannot be written");
	if (rc == 0)
		g.received[s] += (uint64_t)n;
	pthread_mutex_unlock(&g.mu);
	return rc;
}

/* ---- HTTP ------------------------------------------------------------------ */

struct req {
	int source;		/* index, -1 before auth */
	char *body;
	size_t len, cap;
	int too_big;
};

static enum MHD_Result
reply(struct MHD_Connection *c, unsigned status, const char *fmt, ...)
{
	char buf[512];
	struct MHD_Response *r;
	enum MHD_Result rc;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	r = MHD_create_response_from_buffer(strlen(buf), buf, MHD_RESPMEM_MUST_COPY);
	MHD_add_response_header(r, "Content-Type", "text/plain; charset=utf-8");
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

/* A reply after which the connection is closed (Connection: close). */
static enum MHD_Result
reply_closing(struct MHD_Connection *c, unsigned status, const char *msg)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(msg), (void *)msg,
	    MHD_RESPMEM_PERSISTENT);
	enum MHD_Result rc;

	MHD_add_response_header(r, "Content-Type", "text/plain; charset=utf-8");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "5");
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

/*
 * A request refused with nothing stored (400, 413, 415): answered "REASON:
 * nothing stored", and logged with the source and the reason, so that the
 * CDRs a switch keeps in its own error folder are seen on tally's side
 * too.  Reasons quote the input: control bytes are logged as '?'.
 */
static enum MHD_Result
refuse(struct MHD_Connection *c, const struct feed_source *src, unsigned status,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static enum MHD_Result
refuse(struct MHD_Connection *c, const struct feed_source *src, unsigned status,
    const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&g.mu);
	g.refused[src - g.src.v]++;
	pthread_mutex_unlock(&g.mu);
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	logf_("%s: refused (%u): %s: nothing stored", src->name, status, buf);
	return reply(c, status, "%s: nothing stored\n", buf);
}

static enum MHD_Result
unauthorized(struct MHD_Connection *c)
{
	static const char msg[] = "unauthorized: a source's name and password are needed\n";
	struct MHD_Response *r = MHD_create_response_from_buffer(sizeof msg - 1, (void *)msg,
	    MHD_RESPMEM_PERSISTENT);
	enum MHD_Result rc = MHD_queue_basic_auth_fail_response(c, "tally-feedd", r);

	MHD_destroy_response(r);
	return rc;
}


/* Each connection thread's parsers, one per format, opened on first use
 * (opening one reads a zone file) and freed when the thread ends. */
static pthread_key_t parsers_key;

static void
free_parsers(void *p)
{
	struct format **f = p;

	for (int k = 0; k <= FORMAT_CSV; k++)
		format_free(f[k]);
	free(f);
}

static struct format *
parser(enum format_kind k, struct terr *e)
{
	struct format **f = pthread_getspecific(parsers_key);
	struct format_opts o = { 0 };

	if (f == NULL) {
		if ((f = calloc(FORMAT_CSV + 1, sizeof *f)) == NULL ||
		    pthread_setspecific(parsers_key, f) != 0) {
			free(f);
			terr_set(e, "out of memory");
			return NULL;
		}
	}
	if (f[k] == NULL)
		f[k] = format_open(k, &o, e);
	return f[k];
}

/*
 * Each record as tally-ingest will read it, one by one: a request holding
 * one it would reject is refused whole (400, naming it) before anything is
 * acknowledged, so a switch never drops a CDR tally cannot bill.  Checked
 * without ingest's --tz and --numbering, which the daemon does not know.
 */
static int
check_records(const struct feed_source *src, char *const *rec, const size_t *len, int n,
    struct terr *e)
{
	enum format_kind k;
	struct format *f;
	struct cdr_reject r;

	if (format_kind_parse(src->format, &k) != 0 || k == FORMAT_CSV)
		return terr_set(e, "source %s: format %s is not a feed's", src->name, src->format);
	if ((f = parser(k, e)) == NULL)
		return -1;
	for (int i = 0; i < n; i++)
		if (ingest_line_check(f, rec[i], len[i], &r) != 0)
			return terr_set(e, "%s %d: %s: %s", n > 1 ? "line" : "record", i + 1,
			    r.field, r.reason);
	return 0;
}

static int
content_type_is(struct MHD_Connection *c, const char *const *types)
{
	const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");

	if (ct == NULL)
		return 1;	/* mod_json_cdr sends one; curl --data-binary may not */
	for (int i = 0; types[i]; i++) {
		size_t l = strlen(types[i]);

		/* the media type itself, then its end or its parameters */
		if (strncasecmp(ct, types[i], l) == 0 && (ct[l] == '\0' || ct[l] == ';' ||
		    ct[l] == ' '))
			return 1;
	}
	return 0;
}

static enum MHD_Result
finish(struct MHD_Connection *c, const char *url, struct req *q)
{
	static const char *const json_types[] = { "application/json",
		"application/x-www-form-urlencoded", "text/plain", NULL };
	static const char *const csv_types[] = { "text/csv", "text/plain",
		"application/octet-stream", NULL };
	const struct feed_source *src = &g.src.v[q->source];
	char **rec = NULL;
	size_t *rlen = NULL;
	int n = 0, rc;
	struct terr e;
	enum MHD_Result r;

	if (q->too_big)
		return refuse(c, src, MHD_HTTP_CONTENT_TOO_LARGE, "body over %zu bytes",
		    g.max_body);
	if (strcmp(url, "/cdr/json") == 0) {
		char *line;
		size_t l;

		if (!content_type_is(c, json_types))
			return refuse(c, src, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
			    "expected application/json or a form");
		if (strcmp(src->format, "freeswitch") != 0)
			return refuse(c, src, MHD_HTTP_BAD_REQUEST, "source %s sends %s, not"
			    " FreeSWITCH JSON", src->name, src->format);
		if ((line = feed_fs_json_line(q->body ? q->body : "", q->len, &e)) == NULL)
			return refuse(c, src, MHD_HTTP_BAD_REQUEST, "%s", e.msg);
		l = strlen(line);
		if (check_records(src, &line, &l, 1, &e) != 0) {
			free(line);
			return refuse(c, src, MHD_HTTP_BAD_REQUEST, "%s", e.msg);
		}
		rc = store_records(q->source, &line, &l, 1, &e);
		free(line);
		n = 1;
	} else {
		const char *fmt = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "format");

		if (!content_type_is(c, csv_types))
			return refuse(c, src, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "expected text/csv");
		if (fmt == NULL || strcmp(fmt, src->format) != 0)
			return refuse(c, src, MHD_HTTP_BAD_REQUEST, "source %s sends format=%s",
			    src->name, src->format);
		if (feed_csv_records(q->body ? q->body : "", q->len, &rec, &rlen, &n, &e) != 0) {
			free(rec);
			free(rlen);
			return refuse(c, src, MHD_HTTP_BAD_REQUEST, "%s", e.msg);
		}
		/* checked before any is appended: a request is stored whole or not */
		if (check_records(src, rec, rlen, n, &e) != 0) {
			free(rec);
			free(rlen);
			return refuse(c, src, MHD_HTTP_BAD_REQUEST, "%s", e.msg);
		}
		rc = store_records(q->source, rec, rlen, n, &e);
		free(rec);
		free(rlen);
	}
	if (rc != 0) {
		logf_("%s: %s", src->name, e.msg);
		return reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, "%s: not acknowledged\n", e.msg);
	}
	r = reply(c, MHD_HTTP_OK, "stored %d\n", n);
	return r;
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct req *q = *con_cls;

	(void)cls, (void)version;
	if (q == NULL) {
		char *user = NULL, *pw = NULL;
		const struct feed_source *src;

		if (__atomic_load_n(&g.draining, __ATOMIC_ACQUIRE)) {
			/* shutting down: an answer that says to retry, never a reset */
			return reply_closing(c, MHD_HTTP_SERVICE_UNAVAILABLE,
			    "shutting down: nothing stored, retry later\n");
		}
		if (strcmp(url, "/health") == 0) {
			if (strcmp(method, "GET") != 0)
				return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET /health\n");
			return reply(c, g.failed ? MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_OK,
			    g.failed ? "failing: the spool cannot be written\n" : "ok\n");
		}
		if (strcmp(url, "/cdr/json") != 0 && strcmp(url, "/cdr/csv") != 0)
			return reply(c, MHD_HTTP_NOT_FOUND, "POST /cdr/json or /cdr/csv\n");
		if (strcmp(method, "POST") != 0)
			return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "POST %s\n", url);
		user = MHD_basic_auth_get_username_password(c, &pw);
		src = feed_auth(&g.src, user, pw);
		MHD_free(user);
		MHD_free(pw);
		if (src == NULL)
			return unauthorized(c);
		if ((q = calloc(1, sizeof *q)) == NULL)
			return MHD_NO;
		q->source = (int)(src - g.src.v);
		*con_cls = q;
		/* an authenticated switch gets the full --timeout; before, the
		 * shorter --auth-timeout keeps idle strangers from holding slots */
		MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, g.timeout);
		pthread_mutex_lock(&g.mu);
		g.inflight++;
		pthread_mutex_unlock(&g.mu);
		return MHD_YES;
	}
	if (*upload_size > 0) {
		if (!q->too_big && q->len + *upload_size > g.max_body) {
			q->too_big = 1;	/* read on, store nothing */
			free(q->body);
			q->body = NULL;
			q->len = q->cap = 0;
		}
		if (!q->too_big) {
			if (q->len + *upload_size + 1 > q->cap) {
				size_t cap = (q->len + *upload_size + 1) * 2;
				char *b = realloc(q->body, cap);

				if (b == NULL)
					return MHD_NO;
				q->body = b, q->cap = cap;
			}
			memcpy(q->body + q->len, upload, *upload_size);
			q->len += *upload_size;
			q->body[q->len] = '\0';
		}
		*upload_size = 0;
		return MHD_YES;
	}
	return finish(c, url, q);
}

static void
done(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode t)
{
	struct req *q = *con_cls;

	(void)cls, (void)c, (void)t;
	if (q) {
		free(q->body);
		free(q);
		*con_cls = NULL;
		pthread_mutex_lock(&g.mu);
		g.inflight--;
		pthread_mutex_unlock(&g.mu);
	}
}

/* A new connection: --auth-timeout until it authenticates (handle()). */
static void
on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode code)
{
	unsigned *auth_timeout = cls;

	(void)socket_context;
	if (code == MHD_CONNECTION_NOTIFY_STARTED)
		MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, *auth_timeout);
}

/* ---- main ------------------------------------------------------------------ */

/* The log file as standard error (appended, made when missing); -1 with
 * errno when it cannot be opened, standard error then as it was. */
static int
open_log(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

	if (fd < 0)
		return -1;
	if (dup2(fd, STDERR_FILENO) < 0) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/*
 * The spool and each source's folder in it are folders tally-feedd can
 * write (made when missing): what is wrong is said at start, not as a 503
 * to every switch later.  A file made and removed in each proves it (root
 * passes every permission check, not a read-only file system).
 */
static int
check_spool(struct terr *e)
{
	struct stat st;

	if (mkdir(g.spool, 0700) != 0 && errno != EEXIST)
		return terr_set(e, "--spool %s: %s", g.spool, strerror(errno));
	if (stat(g.spool, &st) != 0 || !S_ISDIR(st.st_mode))
		return terr_set(e, "--spool %s: not a directory", g.spool);
	for (int i = 0; i < g.src.n; i++) {
		char dir[4096], probe[4200];
		int fd;

		snprintf(dir, sizeof dir, "%s/%s", g.spool, g.src.v[i].name);
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			return terr_set(e, "%s: %s", dir, strerror(errno));
		if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
			return terr_set(e, "%s: not a directory", dir);
		snprintf(probe, sizeof probe, "%s/.probe-XXXXXX", dir);
		if ((fd = mkstemp(probe)) < 0)
			return terr_set(e, "%s: cannot write: %s", dir, strerror(errno));
		close(fd);
		unlink(probe);
	}
	return 0;
}

static int
parse_listen(const char *s, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	char *end;
	long port;

	memset(sa, 0, sizeof *sa);
	sa->sin_family = AF_INET;
	if (colon == NULL || colon - s >= (long)sizeof host)
		return -1;
	snprintf(host, sizeof host, "%.*s", (int)(colon - s), s);
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port < 1 || port > 65535 || inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		return -1;
	sa->sin_port = htons((uint16_t)port);
	return 0;
}

static int
number_opt(const char *name, const char *arg, long long lo, long long hi, long long *out)
{
	char *end;

	errno = 0;
	*out = strtoll(arg, &end, 10);
	if (*arg == '\0' || *end != '\0' || errno || *out < lo || *out > hi) {
		fprintf(stderr, "%s: --%s %s: expected %lld to %lld\n", progname, name, arg, lo, hi);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "spool", required_argument, NULL, 's' },
		{ "credentials", required_argument, NULL, 'c' },
		{ "max-body", required_argument, NULL, 'm' },
		{ "timeout", required_argument, NULL, 't' },
		{ "auth-timeout", required_argument, NULL, 'a' },
		{ "max-per-client", required_argument, NULL, 'p' },
		{ "rotate-bytes", required_argument, NULL, 'b' },
		{ "rotate-seconds", required_argument, NULL, 'r' },
		{ "log", required_argument, NULL, 'L' },
		{ "syslog", no_argument, NULL, 'Y' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *listen_at = "127.0.0.1:8080", *creds = NULL;
	long long v, timeout = 30, auth_timeout = 5, per_client = 64;
	unsigned auth_timeout_u;
	struct sockaddr_in sa;
	struct MHD_Daemon *d;
	struct terr e;
	pthread_t sync_thread;
	sigset_t sigs;
	int ch, sig, rc = 0, listen_fd;

	g.max_body = 1 << 20;
	g.rotate_bytes = 64 << 20;
	g.rotate_seconds = 300;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'l': listen_at = optarg; break;
		case 's': g.spool = optarg; break;
		case 'c': creds = optarg; break;
		case 'L': g.log = optarg; break;
		case 'Y': g.syslog = 1; break;
		case 'm':
			if (number_opt("max-body", optarg, 1024, 1LL << 30, &v) != 0)
				return 2;
			g.max_body = (size_t)v;
			break;
		case 't':
			if (number_opt("timeout", optarg, 1, 3600, &timeout) != 0)
				return 2;
			break;
		case 'a':
			if (number_opt("auth-timeout", optarg, 1, 3600, &auth_timeout) != 0)
				return 2;
			break;
		case 'p':
			if (number_opt("max-per-client", optarg, 1, 512, &per_client) != 0)
				return 2;
			break;
		case 'b':
			if (number_opt("rotate-bytes", optarg, 4096, 1LL << 40, &v) != 0)
				return 2;
			g.rotate_bytes = (uint64_t)v;
			break;
		case 'r':
			if (number_opt("rotate-seconds", optarg, 0, 86400, &v) != 0)
				return 2;
			g.rotate_seconds = (int)v;
			break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("tally-feedd %s\n", TALLY_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || g.spool == NULL || creds == NULL || (g.log && g.syslog)) {
		usage(stderr);
		return 2;
	}
	if (parse_listen(listen_at, &sa) != 0) {
		fprintf(stderr, "%s: --listen %s: expected an IPv4 ADDR:PORT\n", progname,
		    listen_at);
		return 2;
	}
	if (g.log && open_log(g.log) != 0) {
		fprintf(stderr, "%s: --log %s: %s\n", progname, g.log, strerror(errno));
		return 1;
	}
	g.timeout = (unsigned)timeout;
	auth_timeout_u = (unsigned)(auth_timeout < timeout ? auth_timeout : timeout);
	if (g.syslog)
		openlog(progname, LOG_PID, LOG_DAEMON);
	if (feed_sources_load(creds, &g.src, &e) != 0) {
		logf_("%s", e.msg);
		return 1;
	}
	if (check_spool(&e) != 0) {
		logf_("%s", e.msg);
		return 1;
	}
	/* A file a crash left open is cut to its whole records and closed
	 * now, not when its source next sends. */
	for (int i = 0; i < g.src.n; i++) {
		char dir[4096];
		uint64_t cut;
		int n;

		snprintf(dir, sizeof dir, "%s/%s", g.spool, g.src.v[i].name);
		if ((n = spool_recover(dir, &cut, &e)) < 0) {
			logf_("%s", e.msg);
			return 1;
		}
		if (n > 0)
			logf_("%s: closed %d file%s left open, %llu torn bytes cut", g.src.v[i].name,
			    n, n == 1 ? "" : "s", (unsigned long long)cut);
	}
	g.w = calloc((size_t)g.src.n, sizeof *g.w);
	g.opened = calloc((size_t)g.src.n, sizeof *g.opened);
	g.dirty = calloc((size_t)g.src.n, sizeof *g.dirty);
	g.received = calloc((size_t)g.src.n, sizeof *g.received);
	g.refused = calloc((size_t)g.src.n, sizeof *g.refused);
	if (!g.w || !g.opened || !g.dirty || !g.received || !g.refused)
		return 1;
	/* signals go to the main thread only, which waits for them */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (pthread_key_create(&parsers_key, free_parsers) != 0 ||
	    pthread_create(&sync_thread, NULL, syncer, NULL) != 0)
		return 1;
	d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_POLL | MHD_USE_ITC, 0, NULL, NULL, handle, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)timeout,
	    MHD_OPTION_CONNECTION_LIMIT, 512u,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)per_client,
	    MHD_OPTION_NOTIFY_CONNECTION, on_connection, &auth_timeout_u,
	    MHD_OPTION_NOTIFY_COMPLETED, done, NULL,
	    MHD_OPTION_END);
	if (d == NULL) {
		logf_("cannot listen on %s", listen_at);
		rc = 1;
	} else {
		logf_("listening on %s, spool %s, %d sources", listen_at, g.spool, g.src.n);
		for (;;) {
			if (sigwait(&sigs, &sig) != 0)
				continue;
			if (sig == SIGHUP) {
				if (g.log && open_log(g.log) != 0)
					logf_("--log %s: %s; logging on here", g.log, strerror(errno));
				else
					logf_("log reopened");
				continue;
			}
			break;
		}
		logf_("stopping: finishing the requests in flight");
		/* Every request that reaches the daemon from now on is answered
		 * 503 (retry) while the requests in flight finish (up to
		 * --timeout, and for a second at least, for the connections
		 * queued on the socket); only then is the socket closed, so a new
		 * connection is refused, not queued to be reset.  A switch sees
		 * 200, 503 or a refused connection; only one arriving in the
		 * instant the socket closes can be reset. */
		__atomic_store_n(&g.draining, 1, __ATOMIC_RELEASE);
		for (long waited = 0; waited < timeout * 20; waited++) {
			int n;

			pthread_mutex_lock(&g.mu);
			n = g.inflight;
			pthread_mutex_unlock(&g.mu);
			if (n == 0 && waited >= 20)
				break;
			usleep(50000);
		}
		/* shut, not closed: MHD's threads may still hold the number
		 * until MHD_stop_daemon (microhttpd.h); shut, Linux stops
		 * listening at once */
		if ((listen_fd = MHD_quiesce_daemon(d)) >= 0)
			shutdown(listen_fd, SHUT_RDWR);
		/* the connections still open are idle or being answered 503 */
		for (int waited = 0; waited < 20; waited++) {
			const union MHD_DaemonInfo *di =
			    MHD_get_daemon_info(d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);

			if (di == NULL || di->num_connections == 0)
				break;
			usleep(50000);
		}
		MHD_stop_daemon(d);
		if (listen_fd >= 0)
			close(listen_fd);
	}
	pthread_mutex_lock(&g.mu);
	g.stopping = 1;
	pthread_cond_signal(&g.work);
	pthread_mutex_unlock(&g.mu);
	pthread_join(sync_thread, NULL);
	for (int i = 0; i < g.src.n; i++) {
		if (g.w[i] && spool_close(g.w[i], &e) != 0) {
			logf_("close %s: %s", g.src.v[i].name, e.msg);
			rc = 1;
		}
		if (g.received[i] || g.refused[i])
			logf_("%s: %llu CDRs received, %llu requests refused", g.src.v[i].name,
			    (unsigned long long)g.received[i], (unsigned long long)g.refused[i]);
	}
	logf_("stopped");
	feed_sources_release(&g.src);
	free(g.w);
	free(g.opened);
	free(g.dirty);
	free(g.received);
	free(g.refused);
	return rc;
}
