/*
 * compare.h — two runs side by side (kharon-view --compare A B): the second
 * pane follows the first on one clock, and a strip between them counts
 * what each run has paid so far.
 *
 *   ui (one set of controls) ──pos──> pane A: the state after n_A events
 *                                      pane B: n_B = viz_compare_follow()
 *     by time: B shows its events stamped up to A's current time
 *     by event kind (--sync push): B stands at the same step of that kind
 *   tallies[n] per pane ──> strip: cbus messages (cpipe.push), flushes
 *     (cpipe.flush), wakeups (flushes that rang a bell), net.writev calls,
 *     bytes written by them
 *
 * The showcase is 07-batching-kharon against 07-batching-per-push: the
 * same 200 pushes cost Kharon four crossings and the per-push server one
 * message each, while the network cord makes the same few writev in both.
 * Pure: no SDL; the frame is assembled in viz/main.c.
 */
#ifndef KHARON_VIZ_COMPARE_H
#define KHARON_VIZ_COMPARE_H

#include <stdint.h>

struct viz_history;
struct viz_display;
struct viz_captions;

/** What a run has paid after some events (all counts from event 0). */
struct viz_tally {
	uint64_t msgs;
	uint64_t flushes;
	uint64_t wakeups;
	uint64_t writevs;
	uint64_t bytes;
};

/**
 * The tally after every prefix of `h`: (*out)[n] for n = 0 .. n_events
 * (caller frees with mem_free). Returns 0 or -1 (OOM, diag). O(events).
 */
int
viz_tally_build(const struct viz_history *h, struct viz_tally **out);

/**
 * Where pane `b` stands when pane `a` shows `n_a` events: by time (the
 * events of `b` stamped up to the time of a's last shown event, `sync`
 * NULL) or by event kind (`sync` an event name: as many of those events
 * shown in b as in a, up to just before b's next one; past b's last one,
 * by time again). At a's end, b's end.
 */
uint32_t
viz_compare_follow(const struct viz_history *a, uint32_t n_a,
		   const struct viz_history *b, const char *sync);

/**
 * The strip between the panes into `d` at (x, y, w, h): each counter's
 * name, both values and a bar each, the larger one marked.
 */
void
viz_compare_strip(struct viz_display *d, const struct viz_captions *cap,
		  int x, int y, int w, int h, const struct viz_tally *a,
		  const struct viz_tally *b, const char *sync);

#endif /* KHARON_VIZ_COMPARE_H */
