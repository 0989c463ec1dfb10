/*
 * feed-load - a switch fleet for tally-feedd: THREADS connections post N
 * Asterisk CDRs (one per request, keep-alive), each retried until it is
 * acknowledged with 200, as FreeSWITCH's mod_json_cdr and a careful switch
 * do.  Prints the acknowledged count, the rate and the latency
 * percentiles of the acknowledged requests.  Built and run by
 * scripts/bench-feed; not part of tally.
 *
 *	feed-load PORT USER:PASSWORD N THREADS
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int port, nthreads;
static long total;
static char auth[256];

struct worker {
	int id;
	long acked, retries;
	double *lat;		/* ms per acknowledged request */
	long nlat;
};

static double
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int
connect_feed(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* base64 of user:password for the Authorization header */
static void
b64(const char *in, char *out)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(in), o = 0;

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)(unsigned char)in[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t)(unsigned char)in[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)in[i + 2];
		out[o++] = t[v >> 18 & 63];
		out[o++] = t[v >> 12 & 63];
		out[o++] = i + 1 < n ? t[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? t[v & 63] : '=';
	}
	out[o] = '\0';
}

/* One request on fd: 1 acknowledged, 0 refused or lost (retry). */
static int
post(int fd, long k)
{
	char body[512], req[1024], resp[1024];
	int bl, rl;
	long sec = k % 86400, day = 1 + k / 86400 % 28;
	/* answered at once, a minute long: duration and billsec agree with
	 * the times, as tally-cdr(5) asks */
	long esec = (sec + 60) % 86400, eday = day + (sec + 60) / 86400;
	ssize_t got = 0, n;

	bl = snprintf(body, sizeof body, "\"load%03ld\",\"0901000001\",\"0281234567\",\"c\",\"x\","
	    "\"SIP/1-%ld\",\"SIP/2-%ld\",\"Dial\",\"x\",\"2026-11-%02ld %02ld:%02ld:%02ld\","
	    "\"2026-11-%02ld %02ld:%02ld:%02ld\",\"2026-11-%02ld %02ld:%02ld:%02ld\",60,60,"
	    "\"ANSWERED\",\"DOCUMENTATION\",\"load-%ld\",\"\"\n", k % 500, k, k,
	    day, sec / 3600, sec / 60 % 60, sec % 60,
	    day, sec / 3600, sec / 60 % 60, sec % 60,
	    eday, esec / 3600, esec / 60 % 60, esec % 60, k);
	rl = snprintf(req, sizeof req, "POST /cdr/csv?format=asterisk HTTP/1.1\r\n"
	    "Host: 127.0.0.1\r\nAuthorization: Basic %s\r\nContent-Type: text/csv\r\n"
	    "Content-Length: %d\r\n\r\n%s", auth, bl, body);
	if (write(fd, req, (size_t)rl) != rl)
		return -1;
	/* the answer: status line, headers, a short body */
	while (got < (ssize_t)sizeof resp - 1) {
		if ((n = read(fd, resp + got, sizeof resp - 1 - (size_t)got)) <= 0)
			return -1;
		got += n;
		resp[got] = '\0';
		if (strstr(resp, "\r\n\r\n") && strstr(resp, "stored") != NULL)
			break;
		if (strstr(resp, "\r\n\r\n") && strncmp(resp, "HTTP/1.1 200", 12) != 0)
			return 0;
	}
	return strncmp(resp, "HTTP/1.1 200", 12) == 0 ? 1 : 0;
}

static void *
run(void *arg)
{
	struct worker *w = arg;
	int fd = -1;

	for (long k = w->id; k < total; k += nthreads) {
		for (;;) {
			double t0;
			int r;

			if (fd < 0 && (fd = connect_feed()) < 0) {
				usleep(20000);	/* the daemon is down: come back */
				continue;
			}
			t0 = now_ms();
			r = post(fd, k);
			if (r == 1) {
				w->lat[w->nlat++] = now_ms() - t0;
				w->acked++;
				break;
			}
			w->retries++;
			close(fd);
			fd = -1;
		}
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	pthread_t *th;
	struct worker *w;
	double t0, secs, *all;
	long acked = 0, retries = 0, n = 0;

	if (argc != 5) {
		fprintf(stderr, "usage: feed-load PORT USER:PASSWORD N THREADS\n");
		return 2;
	}
	port = atoi(argv[1]);
	b64(argv[2], auth);
	total = atol(argv[3]);
	nthreads = atoi(argv[4]);
	th = calloc((size_t)nthreads, sizeof *th);
	w = calloc((size_t)nthreads, sizeof *w);
	all = calloc((size_t)total, sizeof *all);
	t0 = now_ms();
	for (int i = 0; i < nthreads; i++) {
		w[i].id = i;
		w[i].lat = calloc((size_t)(total / nthreads + 2), sizeof *w[i].lat);
		pthread_create(&th[i], NULL, run, &w[i]);
	}
	for (int i = 0; i < nthreads; i++) {
		pthread_join(th[i], NULL);
		acked += w[i].acked;
		retries += w[i].retries;
		memcpy(all + n, w[i].lat, (size_t)w[i].nlat * sizeof *all);
		n += w[i].nlat;
	}
	secs = (now_ms() - t0) / 1e3;
	qsort(all, (size_t)n, sizeof *all, cmp);
	printf("acknowledged %ld of %ld CDRs in %.2f s: %.0f CDRs/s; %ld retries;"
	    " latency ms p50 %.2f p99 %.2f max %.2f\n", acked, total, secs, (double)acked / secs,
	    retries, all[n / 2], all[(long)((double)n * 0.99)], all[n - 1]);
	return acked == total ? 0 : 1;
}
