/*
 * check.c — `kharon check FILE...`: validate scenario files.
 *
 * Each file goes through the same loader `kharon run` uses
 * (src/scenario/scenario.h), so a file that checks clean will load for a
 * run. A file with a guided tour is also run once on the simulator, with
 * no trace file and no report, to prove every stop matches exactly one
 * event of the run, in order (src/scenario/tour.h) — the run a viewer
 * shows with `kharon-view --scenario FILE --tour` is that very run.
 * Prints "FILE: ok (N clients, M steps[, a tour of K stops])" per good
 * file; at the first bad one prints its one-line error to stderr and
 * exits 2 (DESIGN.md §11). Lesson: lessons/en/00-scenarios.md.
 */
#include <stdio.h>

#include "base/diag.h"
#include "cli/cli.h"
#include "scenario/scenario.h"
#include "scenario/scenario_run.h"
#include "scenario/tour.h"

static void
check_on_event(void *arg, const struct trace_event *e)
{
	tour_match_feed(arg, e);
}

/** Run `s` on the simulator and match its tour. 0, or -1 (diag set). */
static int
check_tour(const struct scenario *s, const char *path)
{
	struct tour_match m;
	if (tour_match_create(&m, s) != 0)
		return -1;
	struct scenario_run_opts opts = {
		.has_mode = true, .mode = SCENARIO_MODE_SIM,
		.on_event = check_on_event, .on_event_arg = &m,
	};
	struct scenario_run_result result;
	int rc = scenario_run(s, &opts, &result);
	if (rc >= 0)
		rc = tour_match_check(&m, path);
	tour_match_destroy(&m);
	return rc < 0 ? -1 : 0;
}

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
		if (s.n_tour > 0 && check_tour(&s, argv[i]) != 0) {
			fprintf(stderr, "%s\n", diag_msg());
			scenario_destroy(&s);
			return CLI_USAGE;
		}
		printf("%s: ok (%u client%s, %u step%s", argv[i],
		       s.n_clients, s.n_clients == 1 ? "" : "s", s.n_steps,
		       s.n_steps == 1 ? "" : "s");
		if (s.n_tour > 0)
			printf(", a tour of %u stop%s", s.n_tour,
			       s.n_tour == 1 ? "" : "s");
		printf(")\n");
		scenario_destroy(&s);
	}
	return CLI_OK;
}
