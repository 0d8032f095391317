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
 * exits 2 (DESIGN.md §11). A file with a what-if `delay_message` is run
 * the same way, to prove each delay meets the message it names.
 * Lesson: lessons/en/00-scenarios.md.
 */
#include <stdio.h>
#include <string.h>

#include "base/diag.h"
#include "base/mem.h"
#include "cli/cli.h"
#include "scenario/scenario.h"
#include "scenario/scenario_run.h"
#include "scenario/tour.h"
#include "trace/trace.h"

/** What a check run watches: the tour's stops, the delays applied. */
struct check_watch {
	const struct scenario *s;
	struct tour_match *tour;
	/** Per intervention: cmsg.delay events of its message (delays only). */
	uint32_t *n_delayed;
};

static void
check_on_event(void *arg, const struct trace_event *e)
{
	struct check_watch *w = arg;
	if (w->tour != NULL)
		tour_match_feed(w->tour, e);
	if (strcmp(e->ev, "cmsg.delay") != 0)
		return;
	int64_t msg = -1;
	const char *to = "";
	for (int i = 0; i < e->n_fields; i++) {
		if (strcmp(e->fields[i].key, "msg") == 0)
			msg = e->fields[i].i;
		else if (strcmp(e->fields[i].key, "to") == 0 &&
			 e->fields[i].s != NULL)
			to = e->fields[i].s;
	}
	for (uint32_t i = 0; i < w->s->n_interventions; i++) {
		const struct scenario_intervention *iv = &w->s->interventions[i];
		if (iv->action == SCENARIO_ACTION_DELAY_MESSAGE &&
		    iv->msg == msg && strcmp(iv->to, to) == 0)
			w->n_delayed[i]++;
	}
}

/*
 * Run `s` on the simulator once: match its tour, and prove each
 * delay_message met its message (a message id names one run's message,
 * so one that never passes there is a mistake worth a line). 0, or -1
 * (diag set).
 */
static int
check_run(const struct scenario *s, const char *path)
{
	struct tour_match m;
	struct check_watch w = { .s = s };
	if (s->n_tour > 0) {
		if (tour_match_create(&m, s) != 0)
			return -1;
		w.tour = &m;
	}
	w.n_delayed = mem_zalloc(sizeof(*w.n_delayed) *
				 (s->n_interventions + 1));
	if (w.n_delayed == NULL) {
		diag_set_oom(sizeof(*w.n_delayed) * s->n_interventions,
			     "check");
		if (w.tour != NULL)
			tour_match_destroy(&m);
		return -1;
	}
	struct scenario_run_opts opts = {
		.has_mode = true, .mode = SCENARIO_MODE_SIM,
		.on_event = check_on_event, .on_event_arg = &w,
	};
	struct scenario_run_result result;
	int rc = scenario_run(s, &opts, &result);
	/* A delay that met nothing first: a tour then misses its stops. */
	for (uint32_t i = 0; rc >= 0 && i < s->n_interventions; i++) {
		const struct scenario_intervention *iv = &s->interventions[i];
		if (iv->action != SCENARIO_ACTION_DELAY_MESSAGE ||
		    w.n_delayed[i] > 0)
			continue;
		diag_set(DIAG_ER_SYSTEM, "IllegalParams", "%s: "
			 "interventions[%u]: no batch holding message %u is "
			 "flushed to %s at or after %llu us in the simulated "
			 "run (kharon trace dump shows each cpipe.push with "
			 "its msg and to)", path, i, iv->msg, iv->to,
			 (unsigned long long)(iv->at_ns / 1000));
		rc = -1;
	}
	if (rc >= 0 && w.tour != NULL)
		rc = tour_match_check(&m, path);
	mem_free(w.n_delayed);
	if (w.tour != NULL)
		tour_match_destroy(&m);
	return rc < 0 ? -1 : 0;
}

static bool
has_delays(const struct scenario *s)
{
	for (uint32_t i = 0; i < s->n_interventions; i++)
		if (s->interventions[i].action == SCENARIO_ACTION_DELAY_MESSAGE)
			return true;
	return false;
}

int
cli_check(int argc, char **argv)
{
	static const char usage[] = "usage: kharon check SCENARIO.json...\n"
		"  validates each file (one line naming the JSON path, exit 2,\n"
		"  on the first bad one); a tour or a delay_message is checked\n"
		"  against the scenario's simulated run\n";
	if (argc < 1) {
		fputs(usage, stderr);
		return CLI_USAGE;
	}
	if (strcmp(argv[0], "--help") == 0) {
		fputs(usage, stdout);
		return CLI_OK;
	}
	for (int i = 0; i < argc; i++) {
		struct scenario s;
		if (scenario_load(argv[i], &s) != 0) {
			fprintf(stderr, "%s\n", diag_msg());
			return CLI_USAGE;
		}
		if ((s.n_tour > 0 || has_delays(&s)) &&
		    check_run(&s, argv[i]) != 0) {
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
