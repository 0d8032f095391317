/*
 * run.c — `kharon run SCENARIO.json`: load, run, check, report.
 *
 * Exit codes (DESIGN.md §11): 0 every expectation held; 1 one failed, the
 * run could not be carried out, or its trace could not be written
 * completely (no space: a trace that lies by omission is not a success);
 * 2 bad input, found before anything starts: usage, a scenario that does
 * not load, --seed out of range, a --target that is not HOST:PORT, a
 * --trace whose directory does not exist. Lesson: lessons/en/00-scenarios.md.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/diag.h"
#include "cli/cli.h"
#include "cli/cli_addr.h"
#include "scenario/scenario.h"
#include "scenario/scenario_run.h"

static const char run_usage[] =
	"usage: kharon run SCENARIO.json [--trace FILE] [--seed N] "
	"[--mode sim|real] [--target HOST:PORT]\n";

/** The largest seed: 2^53 - 1, as in scenario files (JSON numbers). */
static const unsigned long long run_seed_max = (1ULL << 53) - 1;

/**
 * Can a trace be created at `path`? Its directory must exist and be
 * writable, and `path` must not be a directory. 0, or -1 after printing
 * one line naming `path`.
 */
static int
run_check_trace_path(const char *path)
{
	struct stat st;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		fprintf(stderr, "kharon run: cannot write the trace %s: it is "
			"a directory\n", path);
		return -1;
	}
	char dir[4096];
	const char *slash = strrchr(path, '/');
	if (slash == NULL) {
		strcpy(dir, ".");
	} else if (slash == path) {
		strcpy(dir, "/");
	} else if ((size_t)(slash - path) < sizeof(dir)) {
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
	} else {
		fprintf(stderr, "kharon run: trace path too long: %s\n", path);
		return -1;
	}
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) ||
	    access(dir, W_OK | X_OK) != 0) {
		int err = errno != 0 ? errno : ENOTDIR;
		if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode))
			err = ENOTDIR;
		fprintf(stderr, "kharon run: cannot write the trace %s: %s: "
			"%s\n", path, dir, strerror(err));
		return -1;
	}
	return 0;
}

int
cli_run(int argc, char **argv)
{
	if (argc == 1 && strcmp(argv[0], "--help") == 0) {
		fputs(run_usage, stdout);
		return CLI_OK;
	}
	const char *path = NULL;
	struct scenario_run_opts opts;
	memset(&opts, 0, sizeof(opts));
	opts.out = stdout;
	char err[200];
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (arg[0] != '-') {
			if (path != NULL)
				goto usage;
			path = arg;
			continue;
		}
		if (val == NULL)
			goto usage;
		i++;
		if (strcmp(arg, "--trace") == 0) {
			opts.trace_path = val;
		} else if (strcmp(arg, "--seed") == 0) {
			char *end;
			errno = 0;
			unsigned long long seed = strtoull(val, &end, 10);
			if (*val == '\0' || *end != '\0' || val[0] == '-' ||
			    val[0] == '+' || errno == ERANGE ||
			    seed > run_seed_max) {
				fprintf(stderr, "kharon run: bad --seed %s: "
					"want an integer 0..%llu\n", val,
					run_seed_max);
				return CLI_USAGE;
			}
			opts.has_seed = true;
			opts.seed = seed;
		} else if (strcmp(arg, "--mode") == 0) {
			opts.has_mode = true;
			if (strcmp(val, "sim") == 0)
				opts.mode = SCENARIO_MODE_SIM;
			else if (strcmp(val, "real") == 0)
				opts.mode = SCENARIO_MODE_REAL;
			else
				goto usage;
		} else if (strcmp(arg, "--target") == 0) {
			if (cli_addr_check(val, false, err, sizeof(err)) != 0) {
				fprintf(stderr, "kharon run: --target: %s\n",
					err);
				return CLI_USAGE;
			}
			opts.target = val;
		} else {
			goto usage;
		}
	}
	if (path == NULL)
		goto usage;
	if (opts.trace_path != NULL &&
	    run_check_trace_path(opts.trace_path) != 0)
		return CLI_USAGE;
	struct scenario s;
	if (scenario_load(path, &s) != 0) {
		fprintf(stderr, "%s\n", diag_msg());
		return CLI_USAGE;
	}
	struct scenario_run_result result;
	int rc = scenario_run(&s, &opts, &result);
	scenario_destroy(&s);
	if (rc < 0) {
		fprintf(stderr, "kharon run: %s\n", diag_msg());
		return CLI_FAILED;
	}
	if (result.is_trace_failed) {
		fprintf(stderr, "kharon run: the trace %s is incomplete: %s\n",
			opts.trace_path, result.trace_error);
		return CLI_FAILED;
	}
	return rc == 0 ? CLI_OK : CLI_FAILED;
usage:
	fputs(run_usage, stderr);
	return CLI_USAGE;
}
