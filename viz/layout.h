/*
 * layout.h — where everything of the Styx diagram goes on a canvas of a
 * given size: the two banks and the river, one row per connection (its
 * obuf pair on the TX bank, its ibuf pair and socket on the iproto bank, its
 * lane on the river), every boat placed by interpolating between the event
 * that set it sailing and the cmsg.hop that delivers it, Kharon, the
 * clients, the caption and the timeline — plus the regions a click can hit
 * (click-to-inspect). Pure: no SDL, no drawing.
 *
 *   ┌ title ─────────────────────────────────────────────────────────────┐
 *   │ TX bank (living)   │ river Styx │ iproto bank (dead)  │ clients    │
 *   │ tasks              │ other boats│ cords' bells        │            │
 *   │ conn 1: obuf0/1 ⚑K │ → boats →  │ ibuf0/1 ▭socket     │ client box │
 *   │ conn 2: ...        │ ← boats ←  │ ...                 │            │
 *   ├ caption ───────────────────────────────────────────────────────────┤
 *   └ timeline: ticks, counters, cursor, invariant marks ────────────────┘
 */
#ifndef KHARON_VIZ_LAYOUT_H
#define KHARON_VIZ_LAYOUT_H

#include <stdbool.h>
#include <stdint.h>

#include "viz/model.h"

struct viz_history;

struct viz_rect {
	int x, y, w, h;
};

/**
 * "Now" in the pacing's unit: by event, `now` is a fractional event index
 * (the state holds floor(now) events; the fraction moves the boats); by
 * time, `now` is virtual (or real) ns.
 */
struct viz_clock {
	bool is_by_time;
	double now;
};

struct viz_row {
	int32_t conn;
	/** The whole row across the banks, and its parts. */
	struct viz_rect row;
	struct viz_rect obuf[2];
	struct viz_rect ibuf[2];
	struct viz_rect socket;
	/** Kharon's berth on the TX side and on the iproto side. */
	int home_x;
	int there_x;
	/** Lanes on the river: towards iproto (upper), towards TX (lower). */
	int lane_out_y;
	int lane_back_y;
	int flag_x;
};

struct viz_boat_place {
	uint32_t msg;
	int32_t conn;
	int x, y;
	bool is_kharon;
	/** Heading right (towards iproto). */
	bool is_out;
	/** 0..1 across the river. */
	double p;
	/**
	 * Boats on one spot pile up: the first is drawn with the pile's
	 * size (n_pile > 1), the others are hidden under it.
	 */
	int n_pile;
	bool is_hidden;
};

enum viz_hit_kind {
	VIZ_HIT_NONE,
	VIZ_HIT_BOAT,
	VIZ_HIT_KHARON,
	VIZ_HIT_OBUF,
	VIZ_HIT_IBUF,
	VIZ_HIT_CORD,
	VIZ_HIT_CLIENT,
	VIZ_HIT_CONN,
	VIZ_HIT_TIMELINE,
};

struct viz_hit {
	struct viz_rect r;
	uint8_t kind;
	int8_t buf;
	/** msg (boat, Kharon's current trip), conn, cord index, client index. */
	int32_t id;
	int32_t conn;
};

enum { VIZ_MAX_HITS = VIZ_MAX_BOATS + 4 * VIZ_MAX_CONNS + 64 };

struct viz_layout {
	int width, height;
	struct viz_rect title, left, river, right, clients, caption, timeline;
	/** Inside the timeline: the strip of event ticks and the plot. */
	struct viz_rect ticks, plot;
	/** The shared lane on the river for boats of no known connection. */
	int lane_misc_y;
	struct viz_rect tasks;
	struct viz_row rows[VIZ_MAX_CONNS];
	int n_rows;
	/** Connections that did not fit. */
	int n_rows_hidden;
	struct viz_boat_place boats[VIZ_MAX_BOATS];
	int n_boats;
	/** Kharon per row (index as rows[]): where he is drawn. */
	int kharon_x[VIZ_MAX_CONNS];
	int kharon_y[VIZ_MAX_CONNS];
	struct viz_rect client_box[VIZ_MAX_CLIENTS];
	struct viz_rect cord_bell[VIZ_MAX_CORDS];
	struct viz_hit hits[VIZ_MAX_HITS];
	int n_hits;
};

/**
 * Lay out `s` (the state after floor(clock.now) events by event, or the
 * events with t <= now by time) on a width x height canvas. `h` gives the
 * events' times and the push->hop links for boat interpolation.
 */
void
viz_layout_compute(struct viz_layout *l, const struct viz_state *s,
		   const struct viz_history *h, const struct viz_clock *clock,
		   int width, int height);

/** The topmost region at (x, y), or NULL. */
const struct viz_hit *
viz_layout_hit(const struct viz_layout *l, int x, int y);

/** Byte offset `pos` of a buffer of `cap` bytes drawn in `r`: its x. */
int
viz_layout_byte_x(const struct viz_rect *r, int64_t pos, int64_t cap);

/** The drawing scale of a connection's obuf pair (bytes per bar). */
int64_t
viz_layout_obuf_cap(const struct viz_conn *c);

/** ... and of its ibuf pair (the larger buffer's memory). */
int64_t
viz_layout_ibuf_cap(const struct viz_conn *c);

/** The timeline's event index at x (clamped), for seeking by click. */
uint32_t
viz_layout_timeline_event(const struct viz_layout *l, int x, uint32_t n_events);

/** ... and the x of event position `pos`. */
int
viz_layout_timeline_x(const struct viz_layout *l, double pos,
		      uint32_t n_events);

#endif /* KHARON_VIZ_LAYOUT_H */
