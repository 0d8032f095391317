/*
 * history.h — every event of a trace held in memory, with what the viewer
 * needs to move anywhere in it at once: a snapshot of the scene every
 * VIZ_SNAP_EVERY events (exact step back: copy the nearest snapshot at or
 * before N, replay forward to N), the counters of the timeline per event,
 * where each cbus trip ends (for boat interpolation), and the events where
 * the invariant checker of `kharon run` (src/scenario/invariants.c) found
 * a rule broken.
 *
 *   events ──append──> model (linear run) ──every K──> snapshots[]
 *                 └──> invariants_feed ──violated?──> marks[]
 *   seek(N): snapshots[N / K] ──replay events [K*(N/K), N)──> state at N
 *
 * Appending is the only way in: a trace file (source.h) or a live trace
 * appends as events arrive; nothing is ever recomputed.
 */
#ifndef KHARON_VIZ_HISTORY_H
#define KHARON_VIZ_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "viz/model.h"

struct trace_event;
struct invariants;

enum {
	VIZ_SNAP_EVERY = 1024,
	/** Room for the rules of invariants.h. */
	VIZ_MAX_RULES = 16,
};

/** viz_history_link() when the trip has not ended (yet). */
#define VIZ_NO_LINK UINT32_MAX

/** An invariant broken at an event. */
struct viz_mark {
	uint32_t ev;
	/** enum invariant (invariants.h). */
	int rule;
};

struct viz_history {
	/** Owned copies (trace_event_dup), in file order. */
	struct trace_event **events;
	uint32_t n_events;
	uint32_t cap;
	/** Per event: for a cpipe.push, the index of the cmsg.hop ending it. */
	uint32_t *link;
	struct viz_counters *samples;
	struct viz_state **snaps;
	uint32_t n_snaps;
	uint32_t cap_snaps;
	/** The state after every appended event (the linear run). */
	struct viz_state last;
	struct viz_mark *marks;
	uint32_t n_marks;
	uint32_t cap_marks;
	struct invariants *inv;
	/** Violations counted so far, per rule (enum invariant). */
	int inv_counts[VIZ_MAX_RULES];
	/** msg id -> index of its pending cpipe.push + 1 (base/intmap). */
	void *pending;
	/** Largest counters seen (the timeline's scale). */
	struct viz_counters max;
};

/** Returns 0 or -1 (OOM, diag set). */
int
viz_history_create(struct viz_history *h);

void
viz_history_destroy(struct viz_history *h);

/** Drop every event (a followed trace was replaced): empty again. */
int
viz_history_reset(struct viz_history *h);

/**
 * Copy `e` in and run it through the model and the invariant checker.
 * Returns 0 or -1 (OOM, diag set; the history is unchanged).
 * Cost: O(event) plus a state copy every VIZ_SNAP_EVERY events.
 */
int
viz_history_append(struct viz_history *h, const struct trace_event *e);

/**
 * The scene after the first `n` events (n <= n_events) into `out`:
 * the nearest snapshot, then at most VIZ_SNAP_EVERY - 1 events replayed.
 */
void
viz_history_seek(const struct viz_history *h, uint32_t n,
		 struct viz_state *out);

static inline const struct trace_event *
viz_history_event(const struct viz_history *h, uint32_t i)
{
	return h->events[i];
}

/** For a cpipe.push at `i`: the index of the cmsg.hop that delivers it. */
static inline uint32_t
viz_history_link(const struct viz_history *h, uint32_t i)
{
	return h->link[i];
}

/** Is event `i` one where an invariant broke? Its rule or -1. */
int
viz_history_mark(const struct viz_history *h, uint32_t i);

/** Bytes held for `n_events` events (for the benchmark). */
size_t
viz_history_bytes(const struct viz_history *h);

#endif /* KHARON_VIZ_HISTORY_H */
