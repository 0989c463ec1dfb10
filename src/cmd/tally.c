/*
 * tally - the front door: `tally rate ...` runs `tally-rate ...`, found
 * beside this program first (an uninstalled build works as it is), then on
 * PATH.  See tally(1).
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *progname = "tally";

static const struct {
	const char *name, *what;
} commands[] = {
	{ "ingest", "switch CDR files into the store" },
	{ "tariff", "validate, load, list and compare tariff packages" },
	{ "rate", "rate every CDR that needs it" },
	{ "replay", "re-rate a batch and compare, or a what-if" },
	{ "report", "reconcile, rejects, usage, unrated" },
};

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: tally COMMAND [ARGUMENTS]\n"
	    "       tally help\n"
	    "       tally --help | --version\n");
}

static void
help(void)
{
	usage(stdout);
	puts("\ncommands (each has its own --help and manual page, tally-COMMAND(1)):");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		printf("  %-8s %s\n", commands[i].name, commands[i].what);
}

int
main(int argc, char **argv)
{
	char self[PATH_MAX], path[PATH_MAX + 32], prog[64];
	ssize_t n;
	int known = 0;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
		help();
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("tally %s\n", TALLY_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		known |= strcmp(argv[1], commands[i].name) == 0;
	if (argv[1][0] == '-') {
		usage(stderr);
		return 2;
	}
	if (!known) {
		fprintf(stderr, "%s: unknown command \"%s\"; see tally help\n", progname,
		    argv[1]);
		return 2;
	}
	snprintf(prog, sizeof prog, "tally-%s", argv[1]);
	argv[1] = prog;
	/* beside this program: the build tree, or the directory it was installed in */
	if ((n = readlink("/proc/self/exe", self, sizeof self - 1)) > 0) {
		self[n] = '\0';
		snprintf(path, sizeof path, "%s/%s", dirname(self), prog);
		if (access(path, X_OK) == 0)
			execv(path, argv + 1);
	}
	execvp(prog, argv + 1);
	fprintf(stderr, "%s: %s: %s\n", progname, prog, strerror(errno));
	return 127;
}
