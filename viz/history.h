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
 *
 * Events are kept packed, not as struct trace_event: names (event, cord,
 * field keys) interned to small ids, integers as zigzag varints, strings
 * inline, one byte arena for all — a million events fit in well under
 * 200 bytes each, snapshots and timeline samples included. A reader gets
 * an event back decoded into its own struct viz_event.
 */
#ifndef KHARON_VIZ_HISTORY_H
#define KHARON_VIZ_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trace/trace.h"
#include "viz/model.h"

struct invariants;

enum {
	VIZ_SNAP_EVERY = 1024,
	/** Room for the rules of invariants.h. */
	VIZ_MAX_RULES = 16,
};

/** viz_history_link() when the trip has not ended (yet). */
#define VIZ_NO_LINK UINT32_MAX

enum {
	/** Fields kept per event (docs/trace.md events have at most 8). */
	VIZ_EVENT_FIELDS = 24,
	/** Distinct names (events, cords, field keys) a history can hold. */
	VIZ_MAX_NAMES = 4096,
};

/** A decoded event: `e` points into `fields` and the history's strings. */
struct viz_event {
	struct trace_event e;
	struct trace_field fields[VIZ_EVENT_FIELDS];
};

/** An invariant broken at an event. */
struct viz_mark {
	uint32_t ev;
	/** enum invariant (invariants.h). */
	int rule;
};

struct viz_history {
	uint32_t n_events;
	uint32_t cap;
	/** Packed records (see above), and where each event's starts. */
	uint8_t *arena;
	size_t arena_used;
	size_t arena_cap;
	uint32_t *offs;
	/** Per event: its time (seeking by time, boat interpolation). */
	uint64_t *times;
	/** Per event: the id of its name (for jumps and ticks, no decoding). */
	uint16_t *name_ids;
	/** Interned names; name_map: hash -> id + 1 (base/intmap). */
	char **names;
	uint32_t n_names;
	void *name_map;
	/** Fields beyond VIZ_EVENT_FIELDS dropped (never in kharon's traces). */
	uint64_t n_fields_dropped;
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
 * Put the events in (t, seq) order if they are not (a real-threads trace:
 * batches of different cords interleave in the file), rebuilding the
 * history. Causal pairs (a message's push before its hop) are stamped in
 * that order, so the result replays correctly. Returns 0 or -1 (OOM,
 * diag set; `h` unchanged). Cost: O(n log n) when unsorted, else O(n).
 */
int
viz_history_sort(struct viz_history *h);

/**
 * The scene after the first `n` events (n <= n_events) into `out`:
 * the nearest snapshot, then at most VIZ_SNAP_EVERY - 1 events replayed.
 */
void
viz_history_seek(const struct viz_history *h, uint32_t n,
		 struct viz_state *out);

/**
 * Event `i` decoded into `buf` (returned as &buf->e). Its strings belong
 * to the history and stay valid until it is reset or destroyed.
 * Cost: O(fields).
 */
const struct trace_event *
viz_history_event(const struct viz_history *h, uint32_t i,
		  struct viz_event *buf);

/** Event `i`'s time, without decoding it. */
static inline uint64_t
viz_history_time(const struct viz_history *h, uint32_t i)
{
	return h->times[i];
}

/** Event `i`'s name ("cpipe.push"), without decoding it. */
static inline const char *
viz_history_name(const struct viz_history *h, uint32_t i)
{
	return h->names[h->name_ids[i]];
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
