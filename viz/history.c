/*
 * history.c — events in memory, snapshots, links and invariant marks (see
 * history.h).
 */
#include "viz/history.h"

#include <string.h>

#include "base/diag.h"
#include "base/intmap.h"
#include "base/mem.h"
#include "scenario/invariants.h"
#include "trace/trace.h"
#include "trace/trace_record.h"

int
viz_history_create(struct viz_history *h)
{
	memset(h, 0, sizeof(*h));
	viz_state_init(&h->last);
	h->inv = invariants_new();
	if (h->inv == NULL)
		return -1;
	struct intmap *m = mem_alloc(sizeof(*m));
	if (m == NULL) {
		invariants_delete(h->inv);
		diag_set_oom(sizeof(*m), "viz pending map");
		return -1;
	}
	intmap_create(m);
	h->pending = m;
	return 0;
}

void
viz_history_destroy(struct viz_history *h)
{
	for (uint32_t i = 0; i < h->n_events; i++)
		mem_free(h->events[i]);
	for (uint32_t i = 0; i < h->n_snaps; i++)
		mem_free(h->snaps[i]);
	mem_free(h->events);
	mem_free(h->link);
	mem_free(h->samples);
	mem_free(h->snaps);
	mem_free(h->marks);
	if (h->inv != NULL)
		invariants_delete(h->inv);
	if (h->pending != NULL) {
		intmap_destroy(h->pending);
		mem_free(h->pending);
	}
	memset(h, 0, sizeof(*h));
}

int
viz_history_reset(struct viz_history *h)
{
	viz_history_destroy(h);
	return viz_history_create(h);
}

static int
grow_events(struct viz_history *h)
{
	uint32_t cap = h->cap != 0 ? h->cap * 2 : 1024;
	struct trace_event **ev = mem_realloc(h->events, cap * sizeof(*ev));
	if (ev == NULL)
		goto oom;
	h->events = ev;
	uint32_t *link = mem_realloc(h->link, cap * sizeof(*link));
	if (link == NULL)
		goto oom;
	h->link = link;
	struct viz_counters *s = mem_realloc(h->samples, cap * sizeof(*s));
	if (s == NULL)
		goto oom;
	h->samples = s;
	h->cap = cap;
	return 0;
oom:
	diag_set_oom(cap * sizeof(*ev), "viz history");
	return -1;
}

static int
add_snapshot(struct viz_history *h)
{
	if (h->n_snaps == h->cap_snaps) {
		uint32_t cap = h->cap_snaps != 0 ? h->cap_snaps * 2 : 64;
		struct viz_state **s = mem_realloc(h->snaps, cap * sizeof(*s));
		if (s == NULL) {
			diag_set_oom(cap * sizeof(*s), "viz snapshots");
			return -1;
		}
		h->snaps = s;
		h->cap_snaps = cap;
	}
	struct viz_state *copy = mem_alloc(sizeof(*copy));
	if (copy == NULL) {
		diag_set_oom(sizeof(*copy), "viz snapshot");
		return -1;
	}
	*copy = h->last;
	h->snaps[h->n_snaps++] = copy;
	return 0;
}

static void
add_mark(struct viz_history *h, uint32_t ev, int rule)
{
	if (h->n_marks == h->cap_marks) {
		uint32_t cap = h->cap_marks != 0 ? h->cap_marks * 2 : 16;
		struct viz_mark *m = mem_realloc(h->marks, cap * sizeof(*m));
		if (m == NULL)
			return; /* a mark lost to OOM; the counts stay right */
		h->marks = m;
		h->cap_marks = cap;
	}
	h->marks[h->n_marks].ev = ev;
	h->marks[h->n_marks].rule = rule;
	h->n_marks++;
}

static void
max_counters(struct viz_counters *m, const struct viz_counters *c)
{
	if (c->ibuf_unparsed > m->ibuf_unparsed)
		m->ibuf_unparsed = c->ibuf_unparsed;
	if (c->obuf_unsent > m->obuf_unsent)
		m->obuf_unsent = c->obuf_unsent;
	if (c->boats > m->boats)
		m->boats = c->boats;
	if (c->wakeups > m->wakeups)
		m->wakeups = c->wakeups;
}

int
viz_history_append(struct viz_history *h, const struct trace_event *e)
{
	if (h->n_events == h->cap && grow_events(h) != 0)
		return -1;
	/* Snapshot k holds the state before event k * VIZ_SNAP_EVERY. */
	if (h->n_events % VIZ_SNAP_EVERY == 0 &&
	    h->n_snaps == h->n_events / VIZ_SNAP_EVERY && add_snapshot(h) != 0)
		return -1;
	struct trace_event *copy = trace_event_dup(e);
	if (copy == NULL)
		return -1;
	uint32_t i = h->n_events;
	h->events[i] = copy;
	h->link[i] = VIZ_NO_LINK;
	struct intmap *pending = h->pending;
	if (strcmp(copy->ev, "cpipe.push") == 0) {
		uint64_t msg = (uint64_t)viz_ev_int(copy, "msg", 0);
		if (intmap_get(pending, msg) == 0 &&
		    intmap_set(pending, msg, (int64_t)i + 1) != 0) {
			mem_free(copy);
			return -1;
		}
	} else if (strcmp(copy->ev, "cmsg.hop") == 0) {
		uint64_t msg = (uint64_t)viz_ev_int(copy, "msg", 0);
		int64_t push = intmap_get(pending, msg);
		if (push > 0) {
			h->link[push - 1] = i;
			intmap_set(pending, msg, 0);
		}
	}
	h->n_events++;
	viz_state_apply(&h->last, copy);
	viz_state_counters(&h->last, &h->samples[i]);
	max_counters(&h->max, &h->samples[i]);
	invariants_feed(h->inv, copy);
	for (int r = 0; r < INVARIANT_MAX && r < VIZ_MAX_RULES; r++) {
		int count = invariants_count(h->inv, (enum invariant)r);
		if (count > h->inv_counts[r]) {
			add_mark(h, i, r);
			h->inv_counts[r] = count;
		}
	}
	return 0;
}

void
viz_history_seek(const struct viz_history *h, uint32_t n,
		 struct viz_state *out)
{
	if (n > h->n_events)
		n = h->n_events;
	if (n == h->n_events) {
		*out = h->last;
		return;
	}
	uint32_t k = n / VIZ_SNAP_EVERY;
	if (k >= h->n_snaps)
		k = h->n_snaps - 1;
	*out = *h->snaps[k];
	for (uint32_t i = k * VIZ_SNAP_EVERY; i < n; i++)
		viz_state_apply(out, h->events[i]);
}

int
viz_history_mark(const struct viz_history *h, uint32_t i)
{
	uint32_t lo = 0, hi = h->n_marks;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		if (h->marks[mid].ev < i)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < h->n_marks && h->marks[lo].ev == i ? h->marks[lo].rule : -1;
}

size_t
viz_history_bytes(const struct viz_history *h)
{
	size_t n = h->cap * (sizeof(*h->events) + sizeof(*h->link) +
			     sizeof(*h->samples));
	n += h->n_snaps * sizeof(struct viz_state);
	for (uint32_t i = 0; i < h->n_events; i++) {
		const struct trace_event *e = h->events[i];
		size_t sz = sizeof(*e) + (size_t)e->n_fields * sizeof(e->fields[0]);
		sz += strlen(e->ev) + 1 + strlen(e->cord) + 1;
		for (int f = 0; f < e->n_fields; f++)
			sz += strlen(e->fields[f].key) + 1 +
			      (e->fields[f].s != NULL ?
			       strlen(e->fields[f].s) + 1 : 0);
		n += sz;
	}
	return n;
}
