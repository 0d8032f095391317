/*
 * tour.h — find the events a scenario's guided tour stops at.
 *
 * A tour (scenario.h, struct scenario_tour_stop) names each stop's event
 * by name, field values and occurrence, never by position, so a stop still
 * finds its event when an unrelated change moves everything by a few
 * events. The matcher is fed the events of a run in order and says, per
 * stop, which event it stopped at:
 *
 *   simulated run ──every event──> tour_match_feed ──> stop k: event #i
 *   tour_match_check: each stop exactly one event, stops in run order
 *
 * `kharon check` feeds it the scenario's simulated run (scenario_run's
 * on_event) and prints the first failure; kharon-view feeds it the
 * history it shows (viz/main.c) and pauses at the events found.
 */
#ifndef KHARON_SCENARIO_TOUR_H
#define KHARON_SCENARIO_TOUR_H

#include <stdint.h>

#include "scenario/scenario.h"

struct trace_event;

/** tour_match.at[k] when stop k has not matched an event. */
#define TOUR_NO_EVENT UINT64_MAX

struct tour_match {
	const struct scenario *s;
	/** Per stop: events with its name and fields seen so far. */
	uint32_t *n_seen;
	/** Per stop: events that are "its" event (1 when it is right). */
	uint32_t *n_matched;
	/** Per stop: index (0-based, in run order) of its event. */
	uint64_t *at;
	uint64_t n_events;
};

/** Start matching `s`'s tour (s must outlive m). Returns 0 or -1 (OOM, diag). */
int
tour_match_create(struct tour_match *m, const struct scenario *s);

void
tour_match_destroy(struct tour_match *m);

/** The next event of the run, in order. O(stops × fields). */
void
tour_match_feed(struct tour_match *m, const struct trace_event *e);

/**
 * After the last event: 0 when every stop matched exactly one event and
 * the stops' events come in the order of the stops; else -1 with diag
 * holding one line about the first bad stop, prefixed by `origin`:
 * "x.json: tour[2]: kharon.flag where conn=1 matches 3 events of the
 * simulated run, want exactly 1 (give \"nth\")".
 */
int
tour_match_check(const struct tour_match *m, const char *origin);

#endif /* KHARON_SCENARIO_TOUR_H */
