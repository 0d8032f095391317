/*
 * history.c — events in memory (packed), snapshots, links and invariant
 * marks (see history.h).
 *
 * A record in the arena:
 *   u16 name id, u16 cord id, u8 field count, varint seq,
 *   then per field: u16 key id, u8 kind (0 integer, 1 string),
 *                   zigzag varint | u32 length + bytes + NUL.
 */
#include "viz/history.h"

#include <stdlib.h>
#include <string.h>

#include "base/diag.h"
#include "base/intmap.h"
#include "base/mem.h"
#include "scenario/invariants.h"

int
viz_history_create(struct viz_history *h)
{
	memset(h, 0, sizeof(*h));
	viz_state_init(&h->last);
	h->inv = invariants_new();
	if (h->inv == NULL)
		return -1;
	struct intmap *m = mem_alloc(sizeof(*m));
	struct intmap *nm = mem_alloc(sizeof(*nm));
	h->names = mem_alloc(VIZ_MAX_NAMES * sizeof(*h->names));
	if (m == NULL || nm == NULL || h->names == NULL) {
		mem_free(m);
		mem_free(nm);
		mem_free(h->names);
		invariants_delete(h->inv);
		memset(h, 0, sizeof(*h));
		diag_set_oom(sizeof(*m), "viz history");
		return -1;
	}
	intmap_create(m);
	intmap_create(nm);
	h->pending = m;
	h->name_map = nm;
	return 0;
}

void
viz_history_destroy(struct viz_history *h)
{
	for (uint32_t i = 0; i < h->n_snaps; i++)
		mem_free(h->snaps[i]);
	for (uint32_t i = 0; i < h->n_names; i++)
		mem_free(h->names[i]);
	mem_free(h->names);
	mem_free(h->arena);
	mem_free(h->offs);
	mem_free(h->times);
	mem_free(h->name_ids);
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
	if (h->name_map != NULL) {
		intmap_destroy(h->name_map);
		mem_free(h->name_map);
	}
	memset(h, 0, sizeof(*h));
}

int
viz_history_reset(struct viz_history *h)
{
	viz_history_destroy(h);
	return viz_history_create(h);
}

/* ------------------------------------------------------------ packing */

/** The id of `s`, interned on first sight; -1 on OOM or a full table. */
static int
name_id(struct viz_history *h, const char *s)
{
	if (s == NULL)
		s = "";
	uint64_t hash = intmap_hash_str(s);
	int64_t id = intmap_get(h->name_map, hash);
	if (id > 0 && strcmp(h->names[id - 1], s) == 0)
		return (int)id - 1;
	if (id > 0) {
		/* A hash collision: look the slow way. */
		for (uint32_t i = 0; i < h->n_names; i++)
			if (strcmp(h->names[i], s) == 0)
				return (int)i;
	}
	if (h->n_names == VIZ_MAX_NAMES) {
		diag_set(DIAG_ER_UNKNOWN, "ViewError",
			 "more than %d distinct event, cord and field names",
			 VIZ_MAX_NAMES);
		return -1;
	}
	size_t n = strlen(s) + 1;
	char *copy = mem_alloc(n);
	if (copy == NULL) {
		diag_set_oom(n, "viz name");
		return -1;
	}
	memcpy(copy, s, n);
	if (id == 0 && intmap_set(h->name_map, hash,
				  (int64_t)h->n_names + 1) != 0) {
		mem_free(copy);
		return -1;
	}
	h->names[h->n_names] = copy;
	return (int)h->n_names++;
}

static int
arena_reserve(struct viz_history *h, size_t n)
{
	if (h->arena_used + n <= h->arena_cap)
		return 0;
	size_t cap = h->arena_cap != 0 ? h->arena_cap : 1 << 16;
	while (cap < h->arena_used + n)
		cap *= 2;
	if (cap > UINT32_MAX) {
		diag_set(DIAG_ER_UNKNOWN, "ViewError",
			 "the trace's events need more than 4 GiB in memory");
		return -1;
	}
	uint8_t *a = mem_realloc(h->arena, cap);
	if (a == NULL) {
		diag_set_oom(cap, "viz events");
		return -1;
	}
	h->arena = a;
	h->arena_cap = cap;
	return 0;
}

static uint8_t *
put_varint(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

static const uint8_t *
get_varint(const uint8_t *p, uint64_t *v)
{
	uint64_t r = 0;
	int shift = 0;
	while (*p & 0x80) {
		r |= (uint64_t)(*p++ & 0x7f) << shift;
		shift += 7;
	}
	*v = r | (uint64_t)*p++ << shift;
	return p;
}

static uint8_t *
put_u16(uint8_t *p, int v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	return p + 2;
}

static uint16_t
get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/** Pack `e` at the arena's end. Returns 0 or -1 (diag set). */
static int
pack(struct viz_history *h, const struct trace_event *e)
{
	int n = e->n_fields < VIZ_EVENT_FIELDS ? e->n_fields : VIZ_EVENT_FIELDS;
	if (e->n_fields > n)
		h->n_fields_dropped += (uint64_t)(e->n_fields - n);
	size_t need = 2 + 2 + 1 + 10;
	for (int i = 0; i < n; i++)
		need += 3 + (e->fields[i].s != NULL ?
			     5 + strlen(e->fields[i].s) : 10);
	int ev = name_id(h, e->ev);
	int cord = name_id(h, e->cord);
	if (ev < 0 || cord < 0 || arena_reserve(h, need) != 0)
		return -1;
	uint8_t *p = h->arena + h->arena_used;
	p = put_u16(p, ev);
	p = put_u16(p, cord);
	*p++ = (uint8_t)n;
	p = put_varint(p, e->seq);
	for (int i = 0; i < n; i++) {
		const struct trace_field *f = &e->fields[i];
		int key = name_id(h, f->key);
		if (key < 0)
			return -1;
		p = put_u16(p, key);
		if (f->s != NULL) {
			uint32_t len = (uint32_t)strlen(f->s);
			*p++ = 1;
			memcpy(p, &len, 4);
			memcpy(p + 4, f->s, len + 1);
			p += 4 + len + 1;
		} else {
			*p++ = 0;
			p = put_varint(p, ((uint64_t)f->i << 1) ^
					  (uint64_t)(f->i >> 63));
		}
	}
	h->offs[h->n_events] = (uint32_t)h->arena_used;
	h->times[h->n_events] = e->t;
	h->name_ids[h->n_events] = (uint16_t)ev;
	h->arena_used = (size_t)(p - h->arena);
	return 0;
}

const struct trace_event *
viz_history_event(const struct viz_history *h, uint32_t i,
		  struct viz_event *buf)
{
	const uint8_t *p = h->arena + h->offs[i];
	struct trace_event *e = &buf->e;
	e->ev = h->names[get_u16(p)];
	e->cord = h->names[get_u16(p + 2)];
	e->n_fields = p[4];
	e->t = h->times[i];
	e->fields = buf->fields;
	p = get_varint(p + 5, &e->seq);
	for (int k = 0; k < e->n_fields; k++) {
		struct trace_field *f = &buf->fields[k];
		f->key = h->names[get_u16(p)];
		uint8_t kind = p[2];
		p += 3;
		if (kind == 1) {
			uint32_t len;
			memcpy(&len, p, 4);
			f->s = (const char *)p + 4;
			f->i = 0;
			p += 4 + len + 1;
		} else {
			uint64_t z;
			p = get_varint(p, &z);
			f->i = (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
			f->s = NULL;
		}
	}
	return e;
}

/* ------------------------------------------------------------ appending */

static int
grow_events(struct viz_history *h)
{
	uint32_t cap = h->cap != 0 ? h->cap * 2 : 1024;
#define GROW(field) do { \
	void *p_ = mem_realloc(h->field, cap * sizeof(*h->field)); \
	if (p_ == NULL) \
		goto oom; \
	h->field = p_; \
} while (0)
	GROW(offs);
	GROW(times);
	GROW(name_ids);
	GROW(link);
	GROW(samples);
#undef GROW
	h->cap = cap;
	return 0;
oom:
	diag_set_oom(cap * sizeof(struct viz_counters), "viz history");
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
	if (h->n_events == UINT32_MAX - 1) {
		diag_set(DIAG_ER_UNKNOWN, "ViewError", "too many events");
		return -1;
	}
	if (h->n_events == h->cap && grow_events(h) != 0)
		return -1;
	/* Snapshot k holds the state before event k * VIZ_SNAP_EVERY. */
	if (h->n_events % VIZ_SNAP_EVERY == 0 &&
	    h->n_snaps == h->n_events / VIZ_SNAP_EVERY && add_snapshot(h) != 0)
		return -1;
	size_t used = h->arena_used;
	if (pack(h, e) != 0) {
		h->arena_used = used;
		return -1;
	}
	uint32_t i = h->n_events;
	h->link[i] = VIZ_NO_LINK;
	struct intmap *pending = h->pending;
	if (strcmp(e->ev, "cpipe.push") == 0) {
		uint64_t msg = (uint64_t)viz_ev_int(e, "msg", 0);
		if (intmap_get(pending, msg) == 0 &&
		    intmap_set(pending, msg, (int64_t)i + 1) != 0) {
			h->arena_used = used;
			return -1;
		}
	} else if (strcmp(e->ev, "cmsg.hop") == 0) {
		uint64_t msg = (uint64_t)viz_ev_int(e, "msg", 0);
		int64_t push = intmap_get(pending, msg);
		if (push > 0) {
			h->link[push - 1] = i;
			intmap_set(pending, msg, 0);
		}
	}
	h->n_events++;
	viz_state_apply(&h->last, e);
	viz_state_counters(&h->last, &h->samples[i]);
	max_counters(&h->max, &h->samples[i]);
	invariants_feed(h->inv, e);
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
	struct viz_event buf;
	for (uint32_t i = k * VIZ_SNAP_EVERY; i < n; i++)
		viz_state_apply(out, viz_history_event(h, i, &buf));
}

static uint64_t
event_seq(const struct viz_history *h, uint32_t i)
{
	uint64_t seq;
	get_varint(h->arena + h->offs[i] + 5, &seq);
	return seq;
}

struct sort_key {
	uint64_t t;
	uint64_t seq;
	uint32_t i;
};

static int
sort_key_cmp(const void *a, const void *b)
{
	const struct sort_key *x = a, *y = b;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

int
viz_history_sort(struct viz_history *h)
{
	bool sorted = true;
	uint64_t last_seq = 0;
	for (uint32_t i = 0; i < h->n_events && sorted; i++) {
		uint64_t seq = event_seq(h, i);
		if (i > 0 && (h->times[i] < h->times[i - 1] ||
			      (h->times[i] == h->times[i - 1] && seq < last_seq)))
			sorted = false;
		last_seq = seq;
	}
	if (sorted)
		return 0;
	struct sort_key *keys = mem_alloc((size_t)h->n_events * sizeof(*keys));
	if (keys == NULL) {
		diag_set_oom((size_t)h->n_events * sizeof(*keys), "viz sort");
		return -1;
	}
	for (uint32_t i = 0; i < h->n_events; i++) {
		keys[i].t = h->times[i];
		keys[i].seq = event_seq(h, i);
		keys[i].i = i;
	}
	qsort(keys, h->n_events, sizeof(*keys), sort_key_cmp);
	struct viz_history sorted_h;
	if (viz_history_create(&sorted_h) != 0) {
		mem_free(keys);
		return -1;
	}
	struct viz_event buf;
	for (uint32_t k = 0; k < h->n_events; k++) {
		if (viz_history_append(&sorted_h, viz_history_event(
			h, keys[k].i, &buf)) != 0) {
			viz_history_destroy(&sorted_h);
			mem_free(keys);
			return -1;
		}
	}
	mem_free(keys);
	viz_history_destroy(h);
	*h = sorted_h;
	return 0;
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
	size_t n = h->cap * (sizeof(*h->offs) + sizeof(*h->times) +
			     sizeof(*h->name_ids) + sizeof(*h->link) +
			     sizeof(*h->samples));
	n += h->arena_cap;
	n += h->n_snaps * (sizeof(struct viz_state) + sizeof(*h->snaps));
	for (uint32_t i = 0; i < h->n_names; i++)
		n += strlen(h->names[i]) + 1;
	return n;
}
