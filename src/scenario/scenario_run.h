/*
 * scenario_run.h — run a loaded scenario: the server (unless a target is
 * given), one cord per client driving its steps, the trace, and the checks.
 *
 *   scenario ──> rt (simulator, seeded | real threads)
 *                 ├─ tx, net0..  the server of src/iproto (same code)
 *                 └─ client0..   iproto_client, one per scenario client
 *   every event ──> invariants + event counts (+ the trace file)
 *   end ──> expectations per step, event counts, invariants ──> report
 *
 * The same scenario and seed on the simulator give the same trace, byte
 * for byte; on real threads only the client-visible results and the
 * invariants are compared. Lesson: every lesson runs one of these.
 */
#ifndef KHARON_SCENARIO_SCENARIO_RUN_H
#define KHARON_SCENARIO_SCENARIO_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "scenario/scenario.h"

struct trace_event;

struct scenario_run_opts {
	/** Write the trace here (NULL: no file). */
	const char *trace_path;
	/** Override the scenario's seed / mode. */
	bool has_seed;
	uint64_t seed;
	bool has_mode;
	enum scenario_mode mode;
	/** "host:port": send the clients there, start no server (real mode). */
	const char *target;
	/**
	 * Give up after this long (virtual ns on the simulator); 0: 60 s
	 * past the latest connect_at_ms / at_ms of the scenario.
	 */
	uint64_t timeout_ns;
	/** Where the report goes (NULL: nowhere). */
	FILE *out;
	/**
	 * Given: every event of the run, in the order they are stamped
	 * (on the simulator: the trace's order), under the run's lock.
	 * `kharon check` matches a tour with it (scenario/tour.h).
	 */
	void (*on_event)(void *arg, const struct trace_event *e);
	void *on_event_arg;
};

struct scenario_run_result {
	uint32_t n_steps;
	uint32_t n_steps_failed;
	uint64_t n_pushes;
	uint64_t n_replies;
	uint64_t n_events;
	int n_event_expect_failed;
	int n_invariant_violations;
	bool is_timed_out;
	/** Virtual (simulator) or wall time of the run, ns. */
	uint64_t duration_ns;
	/**
	 * The trace file was not written completely (a flush, the END
	 * record or a write failed: no space, I/O error): true, and
	 * trace_error says why. The run's verdict is kept; the caller
	 * decides (kharon run: exit 1).
	 */
	bool is_trace_failed;
	char trace_error[256];
};

/**
 * Run `s`; fill `result` and print the report to opts->out. Returns 0 when
 * every expectation held, 1 when one failed, -1 + diag when the run could
 * not be set up (bad target, trace file, OOM). Main thread only.
 */
int
scenario_run(const struct scenario *s, const struct scenario_run_opts *opts,
	     struct scenario_run_result *result);

#endif /* KHARON_SCENARIO_SCENARIO_RUN_H */
