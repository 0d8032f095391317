/*
 * check.c — `kharon check FILE...`: validate scenario files, start nothing.
 *
 * Each file goes through the same loader `kharon run` uses
 * (src/scenario/scenario.h), so a file that checks clean will load for a
 * run. Prints "FILE: ok (N clients, M steps)" per good file; at the first
 * bad one prints its one-line error to stderr and exits 2 (DESIGN.md §11).
 * Lesson: lessons/en/00-scenarios.md.
 */
#include <stdio.h>

#include "base/diag.h"
#include "cli/cli.h"
#include "scenario/scenario.h"

int
cli_check(int argc, char **argv)
{
	if (argc < 1) {
		fputs("usage: kharon check SCENARIO.json...\n", stderr);
		return CLI_USAGE;
	}
	for (int i = 0; i < argc; i++) {
		struct scenario s;
		if (scenario_load(argv[i], &s) != 0) {
			fprintf(stderr, "%s\n", diag_msg());
			return CLI_USAGE;
		}
		printf("%s: ok (%u client%s, %u step%s)\n", argv[i],
		       s.n_clients, s.n_clients == 1 ? "" : "s", s.n_steps,
		       s.n_steps == 1 ? "" : "s");
		scenario_destroy(&s);
	}
	return CLI_OK;
}
