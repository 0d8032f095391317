/*
 * run.c — `kharon run SCENARIO.json`: load, run, check, report.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/diag.h"
#include "cli/cli.h"
#include "scenario/scenario.h"
#include "scenario/scenario_run.h"

static const char run_usage[] =
	"usage: kharon run SCENARIO.json [--trace FILE] [--seed N] "
	"[--mode sim|real] [--target HOST:PORT]\n";

int
cli_run(int argc, char **argv)
{
	const char *path = NULL;
	struct scenario_run_opts opts;
	memset(&opts, 0, sizeof(opts));
	opts.out = stdout;
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
			unsigned long long seed = strtoull(val, &end, 10);
			if (*val == '\0' || *end != '\0' || val[0] == '-')
				goto usage;
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
			opts.target = val;
		} else {
			goto usage;
		}
	}
	if (path == NULL)
		goto usage;
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
	return rc == 0 ? CLI_OK : CLI_FAILED;
usage:
	fputs(run_usage, stderr);
	return CLI_USAGE;
}
