/*
 * compare.c — two runs on one clock and the strip that counts what each
 * paid (compare.h).
 */
#include "viz/compare.h"

#include <stdio.h>
#include <string.h>

#include "base/diag.h"
#include "base/mem.h"
#include "trace/trace.h"
#include "viz/caption.h"
#include "viz/display.h"
#include "viz/history.h"
#include "viz/model.h"
#include "viz/palette.h"

int
viz_tally_build(const struct viz_history *h, struct viz_tally **out)
{
	size_t n = (size_t)h->n_events + 1;
	struct viz_tally *t = mem_alloc(n * sizeof(*t));
	if (t == NULL) {
		diag_set(DIAG_ER_MEMORY_ISSUE, "OutOfMemory",
			 "out of memory for the counters of %u events",
			 h->n_events);
		return -1;
	}
	memset(&t[0], 0, sizeof(t[0]));
	for (uint32_t i = 0; i < h->n_events; i++) {
		struct viz_tally c = t[i];
		const char *name = viz_history_name(h, i);
		if (strcmp(name, "cpipe.push") == 0) {
			c.msgs++;
		} else if (strcmp(name, "cpipe.flush") == 0 ||
			   strcmp(name, "net.writev") == 0) {
			struct viz_event buf;
			const struct trace_event *e =
				viz_history_event(h, i, &buf);
			if (name[0] == 'c') {
				c.flushes++;
				c.wakeups += viz_ev_int(e, "wakeup", 0) != 0;
			} else {
				c.writevs++;
				int64_t b = viz_ev_int(e, "n", 0);
				c.bytes += b > 0 ? (uint64_t)b : 0;
			}
		}
		t[i + 1] = c;
	}
	*out = t;
	return 0;
}

/** Events of `h` stamped at or before `t`. */
static uint32_t
events_until(const struct viz_history *h, uint64_t t)
{
	uint32_t lo = 0, hi = h->n_events;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (viz_history_time(h, mid) <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

uint32_t
viz_compare_follow(const struct viz_history *a, uint32_t n_a,
		   const struct viz_history *b, const char *sync)
{
	if (n_a >= a->n_events)
		return b->n_events;
	if (n_a == 0)
		return 0;
	if (sync == NULL)
		return events_until(b, viz_history_time(a, n_a - 1));
	uint32_t k = 0;
	for (uint32_t i = 0; i < n_a; i++)
		k += strcmp(viz_history_name(a, i), sync) == 0;
	/* b up to just before its (k + 1)th `sync` event... */
	uint32_t after_kth = 0;
	for (uint32_t i = 0; i < b->n_events; i++) {
		if (strcmp(viz_history_name(b, i), sync) != 0)
			continue;
		if (k-- == 0)
			return i;
		after_kth = i + 1;
	}
	/* ... and past b's last one, on by time (never back). */
	uint32_t by_time = events_until(b, viz_history_time(a, n_a - 1));
	return by_time > after_kth ? by_time : after_kth;
}

static void
strip_row(struct viz_display *d, int x, int y, int w, const char *label,
	  uint64_t a, uint64_t b)
{
	viz_text(d, VIZ_C_INK, VIZ_FONT_SMALL, VIZ_ALIGN_CENTER, x + w / 2, y,
		 0, label);
	uint64_t max = a > b ? a : b;
	int bw = w - 16;
	const uint64_t v[2] = {a, b};
	for (int k = 0; k < 2; k++) {
		int yy = y + 16 + k * 18;
		int len = max > 0 ? (int)((double)bw * (double)v[k] /
					  (double)max) : 0;
		viz_rect(d, VIZ_C_BUF_EMPTY, x + 8, yy, bw, 14);
		viz_rect(d, k == 0 ? VIZ_C_BOAT_REQ : VIZ_C_BOAT_REPLY, x + 8,
			 yy, len, 14);
		viz_frame(d, VIZ_C_BUF_EDGE, x + 8, yy, bw, 14);
		viz_textf(d, v[k] == max && a != b ? VIZ_C_INVARIANT :
			  VIZ_C_INK, VIZ_FONT_SMALL, VIZ_ALIGN_LEFT, x + 11,
			  yy, 0, "%s %llu", k == 0 ? "A" : "B",
			  (unsigned long long)v[k]);
	}
}

void
viz_compare_strip(struct viz_display *d, const struct viz_captions *cap,
		  int x, int y, int w, int h, const struct viz_tally *a,
		  const struct viz_tally *b, const char *sync)
{
	viz_rect(d, VIZ_C_PANEL, x, y, w, h);
	viz_frame(d, VIZ_C_PANEL_EDGE, x, y, w, h);
	viz_text(d, VIZ_C_INK, VIZ_FONT_NORMAL, VIZ_ALIGN_CENTER, x + w / 2,
		 y + 6, 0, viz_captions_label(cap, "cmp_title"));
	char clock[96];
	if (sync != NULL)
		snprintf(clock, sizeof(clock), "%s: %s",
			 viz_captions_label(cap, "cmp_by_event"), sync);
	else
		snprintf(clock, sizeof(clock), "%s",
			 viz_captions_label(cap, "cmp_by_time"));
	viz_text(d, VIZ_C_DIM, VIZ_FONT_SMALL, VIZ_ALIGN_CENTER, x + w / 2,
		 y + 26, w - 8, clock);
	static const char *const labels[] = {
		"cmp_msgs", "cmp_flushes", "cmp_wakeups", "cmp_writevs",
		"cmp_bytes",
	};
	const uint64_t va[] = {a->msgs, a->flushes, a->wakeups, a->writevs,
			       a->bytes};
	const uint64_t vb[] = {b->msgs, b->flushes, b->wakeups, b->writevs,
			       b->bytes};
	int row = 62;
	int top = y + 60;
	for (int i = 0; i < 5 && top + row * i + row <= y + h; i++)
		strip_row(d, x, top + row * i, w,
			  viz_captions_label(cap, labels[i]), va[i], vb[i]);
}
