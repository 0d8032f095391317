/*
 * tour.h — a guided tour over the history the viewer shows: the scenario's
 * stops (scenario.h, `tour`) found among the history's events by the same
 * matcher `kharon check` uses (src/scenario/tour.h), so the viewer pauses
 * exactly where the check proved each stop lands.
 *
 *   scenario.tour ─┐
 *   history ───────┴─tour_match─> at[k] (events shown at stop k)
 *   ui: playing reaches at[k] -> pause, panel k, highlight, focus
 *
 * Pure data, no SDL: the ui (ui.c) stops at the stops, the scene (scene.c)
 * draws the panel, both read this.
 */
#ifndef KHARON_VIZ_TOUR_H
#define KHARON_VIZ_TOUR_H

#include <stdint.h>

#include "scenario/scenario.h"

struct viz_history;

struct viz_tour {
	/** The loaded scenario the stops belong to (owned). */
	struct scenario s;
	uint32_t n_stops;
	/** Per stop: the number of events shown there (its event's index + 1). */
	uint32_t *at;
	/** Per stop: the connection in focus (the stop's `focus`, else the
	 * event's conn, else 0). */
	int32_t *focus;
	/** Per stop: the msg of its event (for a boat highlight), else -1. */
	int32_t *msg;
};

/**
 * Load scenario `path` and find its tour's stops in `h` (the history of
 * that scenario's simulated run). Returns 0, or -1 with diag: the loader's
 * error, "PATH: has no tour", or tour_match_check()'s. On -1 `t` holds
 * nothing to destroy.
 */
int
viz_tour_load(struct viz_tour *t, const char *path, const struct viz_history *h);

void
viz_tour_destroy(struct viz_tour *t);

/** The stop shown when `n` events are shown, or -1. */
int
viz_tour_stop_at(const struct viz_tour *t, uint32_t n);

/** The first stop after `n` events shown (at > n), or -1. */
int
viz_tour_next(const struct viz_tour *t, uint32_t n);

/** The last stop before `n` events shown (at < n), or -1. */
int
viz_tour_prev(const struct viz_tour *t, uint32_t n);

#endif /* KHARON_VIZ_TOUR_H */
