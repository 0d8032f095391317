/*
 * source.h — where the viewer's events come from: a trace file read with
 * the one trace reader (src/trace/trace_file.h), once or followed while a
 * `kharon serve --trace` / `kharon run --trace` writes it, or a scenario run
 * on the simulator in this process (src/scenario/scenario_run.h) into a
 * temporary trace that is then read the same way.
 *
 *   TRACE ───────────────trace_reader──┐
 *   SCENARIO ─scenario_run(sim)─> tmp ─┴─> viz_source_poll ─> viz_history
 *
 * Following survives the writer's restart: a file replaced by a new run
 * (or truncated) is reopened and the history starts again from its first
 * event, like `tail -F`.
 *
 * Order: on real threads each cord's batch reaches the file on its own, so
 * the file is not in the order events happened. A whole file is sorted by
 * (t, seq) once read (viz_history_sort); a followed real-threads trace is
 * released in (t, seq) order through a window: an event is handed on once
 * the trace holds events VIZ_FOLLOW_WINDOW_NS later than it (a cord's
 * batch is at most 50 ms old when written), or when the file stays still.
 */
#ifndef KHARON_VIZ_SOURCE_H
#define KHARON_VIZ_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

struct viz_history;
struct trace_reader;

enum {
	/** How far behind the newest event a followed real trace is shown. */
	VIZ_FOLLOW_WINDOW_NS = 200 * 1000 * 1000,
	/** Polls with nothing new after which held events are shown. */
	VIZ_FOLLOW_IDLE_POLLS = 20,
};

struct viz_source {
	char path[4096];
	struct trace_reader *reader;
	bool is_follow;
	/** The END record was read. */
	bool is_ended;
	/** The file was replaced or truncated and reopened (follow). */
	uint32_t n_restarts;
	/** A temporary trace made by a scenario run: removed on close. */
	bool is_temp;
	/** Title of what is shown (scenario name or file name). */
	char title[256];
	/** Following a real-threads trace: events held back, (t, seq) order. */
	struct trace_event **hold;
	uint32_t n_hold;
	uint32_t cap_hold;
	uint64_t max_t;
	int idle_polls;
};

/**
 * Open trace `path`. Without `follow` the whole file is expected now:
 * viz_source_poll() reads it all and fails on a torn or foreign file.
 * Returns 0 or -1 (diag set).
 */
int
viz_source_open_trace(struct viz_source *src, const char *path, bool follow);

/**
 * Load scenario `path` and run it on the simulator (seed overridden when
 * `has_seed`) into a temporary trace, then open that. A scenario whose
 * expectations fail is still shown. Returns 0 or -1 (diag set: the
 * scenario's own one-line error for a bad file). Main thread only.
 */
int
viz_source_open_scenario(struct viz_source *src, const char *path,
			 bool has_seed, uint64_t seed);

struct scenario;

/**
 * Run the loaded scenario `s` (its interventions too) on the simulator
 * into a temporary trace and open that; `path` names it in errors. What
 * the viewer re-runs after a what-if intervention (viz/whatif.h).
 * Returns 0 or -1 (diag set). Main thread only.
 */
int
viz_source_run_scenario(struct viz_source *src, const struct scenario *s,
			const char *path, bool has_seed, uint64_t seed);

/**
 * Append to `h` the events that are readable now (at most `max`; 0: no
 * limit). Returns how many were appended, or -1 (diag set): corruption,
 * not a trace, and — when not following — a file that ends inside a
 * record or has no complete header. Following, a replaced or truncated
 * file resets `h` and starts over from the new file's first event.
 */
int64_t
viz_source_poll(struct viz_source *src, struct viz_history *h, uint32_t max);

void
viz_source_close(struct viz_source *src);

#endif /* KHARON_VIZ_SOURCE_H */
