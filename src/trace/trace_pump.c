/*
 * trace_pump.c — per-thread rings and the writer thread. See trace_pump.h.
 *
 * Ring records, all made on the emitting thread:
 *
 *   PUMP_SHAPE  u32 id | u32 n | ev (pointer) | n x key (pointer) | n x kind
 *               the first time this thread emits an event of that name,
 *               keys and kinds (a small cache, struct pump_site, finds it
 *               again by comparing pointers)
 *   PUMP_EVENT  u64 t | u32 shape id | u32 length | the values, already in
 *               the PACKED encoding (trace_record.h: zigzag varints,
 *               length-prefixed strings)
 *   PUMP_CORD   the name of the cord the following events come from
 *               (copied: the cord may be gone when the writer reads it)
 *
 * So a push event is ~40 bytes in the ring, under one cache line: the
 * lines of a ring move between the emitting core and the writer's core
 * twice a lap, and that transfer, not the instructions, is what an event
 * costs most (at 160 bytes an event, the first design, a cord paid ~65 ns
 * per event in a loaded server against ~24 ns in a hot loop). The writer
 * copies the values into the file's record as they are.
 */
#include "trace/trace_pump.h"

#include <sched.h>
#include <stdio.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "base/diag.h"
#include "base/mem.h"
#include "trace/trace.h"
#include "trace/trace_file.h"
#include "trace/trace_ring.h"

enum pump_kind {
	PUMP_EVENT = 1,
	PUMP_CORD = 2,
	PUMP_SHAPE = 3,
};

enum {
	/** Cord names are short (RT_CORD_NAME_MAX); longer ones are cut. */
	PUMP_CORD_MAX = 32,
	/** A cord that finds its ring full yields this many times... */
	PUMP_FULL_SPINS = 8,
	/** ...then sleeps this long between looks. */
	PUMP_FULL_SLEEP_NS = 20 * 1000,
	/** Shapes an emitting thread remembers (a power of two)... */
	PUMP_SITES = 128,
	/** ...in any of this many slots from its hash... */
	PUMP_SITE_WAYS = 4,
	/** ...of at most this many fields (more: the synchronous way). */
	PUMP_SITE_KEYS = 14,
	/** Most bytes a value takes besides a string's own bytes. */
	PUMP_VALUE_MAX = 10,
	/** Writer thread: how far ahead of its read position it prefetches. */
	PUMP_PREFETCH = 256,
	/**
	 * Writer thread: an event is numbered once it is this old (by the
	 * trace clock) and older than the head of every other ring — an
	 * event stamped just before another ring was looked at must have had
	 * time to be published (the stamp is the emitter's last step before
	 * its commit, a few instructions).
	 */
	PUMP_LAG_NS = 200 * 1000,
	/**
	 * Writer thread: when a pass takes nothing it sleeps this long,
	 * doubling while nothing comes, up to 1 ms...
	 */
	PUMP_SLEEP_MIN_NS = 50 * 1000,
	PUMP_SLEEP_MAX_NS = 1000 * 1000,
	/** ...and writes its batch first if the last write is this old. */
	PUMP_WRITE_NS = 1000 * 1000,
};

struct pump_event_hdr {
	uint64_t t;
	uint32_t shape;
	uint32_t len;
};

struct pump_shape_hdr {
	uint32_t id;
	uint32_t n;
	const char *ev;
};

/** An emitting thread's shape: name, keys and kinds by address. */
struct pump_site {
	const char *ev;
	uint32_t n;
	uint32_t id;
	const char *keys[PUMP_SITE_KEYS];
	unsigned char kinds[PUMP_SITE_KEYS];
};

/** A shape as the writer thread knows it (copied out of the ring). */
struct pump_shape {
	const char *ev;
	uint32_t n;
	const char **keys;
	unsigned char *kinds;
};

/** One emitting thread's ring, owned by the pump. */
struct pump_ring {
	struct trace_ring ring;
	struct pump_ring *next;
	/* Producer side: the cord whose name was written last (NULL: none). */
	const char *cord;
	/* Producer side: shapes met, and the next id to give. */
	uint32_t n_ids;
	struct pump_site sites[PUMP_SITES];
	/* Consumer side: the cord of the records being read (interned). */
	_Alignas(64) const char *cord_name;
	/* Consumer side: shapes by id. */
	struct pump_shape *shapes;
	uint32_t n_shapes, cap_shapes;
};

/** A cord name the writer thread met: one copy per name, never moved. */
struct pump_cord {
	struct pump_cord *next;
	char name[PUMP_CORD_MAX];
};

/*
 * Laid out by who writes what: the first line is read by every emitter at
 * every event and written by no one while the pump runs; what the writer
 * thread or the emitters write lives on lines of its own (a counter
 * sharing the first line cost a cache miss per event on both sides).
 */
struct trace_pump {
	struct trace_writer *w;
	struct trace_thread_ops ops;
	void *thread;
	size_t ring_size;
	/** Tells a stale thread-local cache from this pump. */
	uint64_t gen;
	/** Every ring made; pushed by producers, walked by the writer. */
	_Alignas(64) _Atomic(struct pump_ring *) rings;
	atomic_bool is_stopping;
	atomic_bool is_paused;
	/** Published by the writer once per pass. */
	_Alignas(64) atomic_uint_fast64_t n_events;
	/** Written by emitters, rarely. */
	_Alignas(64) atomic_uint_fast64_t n_full_waits;
	atomic_uint_fast64_t n_rings;
	atomic_uint_fast64_t n_direct;
	/** The last seq given (writer thread, under the writer's mutex). */
	_Alignas(64) uint64_t seq;
	/** Events taken by the writer thread (n_events' private copy). */
	uint64_t n_taken;
	/** Cord names met (writer thread only): stable pointers. */
	struct pump_cord *cords;
	/** The writer thread's first error (read after join). */
	bool has_error;
	struct diag error;
};

static atomic_uint_fast64_t pump_gen;

static _Thread_local struct {
	uint64_t gen;
	struct pump_ring *ring;
} pump_tls;

/* ------------------------------------------------------ emitting side */

/* The calling thread's ring, made on its first event. NULL on OOM. */
static struct pump_ring *
pump_thread_ring(struct trace_pump *p)
{
	if (pump_tls.gen == p->gen)
		return pump_tls.ring;
	struct pump_ring *r = mem_zalloc_aligned(64, sizeof(*r));
	if (r == NULL)
		return NULL;
	if (trace_ring_create(&r->ring, p->ring_size) != 0) {
		mem_free(r);
		return NULL;
	}
	/* Touch every page now rather than in the middle of events. */
	memset(r->ring.data, 0, p->ring_size);
	struct pump_ring *head = atomic_load(&p->rings);
	do {
		r->next = head;
	} while (!atomic_compare_exchange_weak(&p->rings, &head, r));
	atomic_fetch_add_explicit(&p->n_rings, 1, memory_order_relaxed);
	pump_tls.gen = p->gen;
	pump_tls.ring = r;
	return r;
}

/*
 * pump_reserve's slow half: the ring is full. Yield a few times, then
 * sleep: on a machine with fewer cores than busy threads a spinning cord
 * would hold the very core the writer thread needs to make room. Kept
 * out of line so that the fast path stays small.
 */
static __attribute__((noinline)) void *
pump_reserve_slow(struct trace_pump *p, struct pump_ring *r, uint32_t n,
		  uint32_t kind)
{
	atomic_fetch_add_explicit(&p->n_full_waits, 1, memory_order_relaxed);
	void *at;
	for (int k = 0; (at = trace_ring_reserve(&r->ring, n, kind)) == NULL;
	     k++) {
		if (k < PUMP_FULL_SPINS) {
			sched_yield();
		} else {
			struct timespec ts = {0, PUMP_FULL_SLEEP_NS};
			nanosleep(&ts, NULL);
		}
	}
	return at;
}

/* Room for `n` bytes of `kind`, waiting while the ring is full. */
static inline void *
pump_reserve(struct trace_pump *p, struct pump_ring *r, uint32_t n,
	     uint32_t kind)
{
	void *at = trace_ring_reserve(&r->ring, n, kind);
	if (__builtin_expect(at != NULL, 1))
		return at;
	return pump_reserve_slow(p, r, n, kind);
}

static void
pump_keep_error(struct trace_pump *p);

/*
 * The synchronous way, when a ring cannot be had or an event is too big
 * for it: straight
 * into the writer's batch under its mutex, numbered there. Its seq may
 * then come before events of other cords stamped earlier and still in
 * their rings (only under OOM).
 */
static void
pump_direct(struct trace_pump *p, const struct trace_event *e)
{
	atomic_fetch_add_explicit(&p->n_direct, 1, memory_order_relaxed);
	struct trace_event d = *e;
	trace_writer_lock(p->w);
	d.seq = ++p->seq;
	d.t = trace_now();
	if (!p->has_error && trace_writer_add_locked(p->w, &d, false) != 0)
		pump_keep_error(p);
	trace_writer_unlock(p->w);
}

static void
pump_put_cord(struct trace_pump *p, struct pump_ring *r, const char *cord)
{
	size_t len = strlen(cord);
	if (len >= PUMP_CORD_MAX)
		len = PUMP_CORD_MAX - 1;
	char *at = pump_reserve(p, r, (uint32_t)len + 1, PUMP_CORD);
	memcpy(at, cord, len);
	at[len] = '\0';
	trace_ring_commit(&r->ring);
	r->cord = cord;
}

static char *
pump_put_varint(char *o, uint64_t v)
{
	while (v >= 0x80) {
		*o++ = (char)(unsigned char)(v | 0x80);
		v >>= 7;
	}
	*o++ = (char)(unsigned char)v;
	return o;
}

/*
 * The shape of `e` in this thread's cache: its id, written into the ring
 * (a PUMP_SHAPE record) the first time. A slot taken by another shape is
 * given to the new one (the old one gets a new id if it comes back).
 */
/* Whether `site` is the shape of `e` (n fields). */
static inline bool
pump_site_is(const struct pump_site *site, const struct trace_event *e,
	     uint32_t n)
{
	if (site->ev != e->ev || site->n != n)
		return false;
	for (uint32_t i = 0; i < n; i++) {
		if (site->keys[i] != e->fields[i].key ||
		    site->kinds[i] != (e->fields[i].s != NULL))
			return false;
	}
	return true;
}

/*
 * The shape of `e` in this thread's cache: its id, written into the ring
 * (a PUMP_SHAPE record) the first time. Four slots are tried; when all
 * four hold other shapes the first is given to the new one (the old one
 * gets a new id if it comes back).
 */
static uint32_t
pump_shape_of(struct trace_pump *p, struct pump_ring *r,
	      const struct trace_event *e, uint32_t n)
{
	uint32_t h = (uint32_t)(((uint64_t)(uintptr_t)e->ev ^ n) *
				0x9e3779b97f4a7c15u >> 40);
	struct pump_site *site = NULL;
	for (uint32_t k = 0; k < PUMP_SITE_WAYS; k++) {
		struct pump_site *s = &r->sites[(h + k) & (PUMP_SITES - 1)];
		if (pump_site_is(s, e, n))
			return s->id;
		if (s->ev == NULL && site == NULL)
			site = s;
	}
	if (site == NULL)
		site = &r->sites[h & (PUMP_SITES - 1)];
	site->ev = e->ev;
	site->n = n;
	site->id = r->n_ids++;
	size_t size = sizeof(struct pump_shape_hdr) + n * sizeof(char *) + n;
	char *at = pump_reserve(p, r, (uint32_t)size, PUMP_SHAPE);
	struct pump_shape_hdr *sh = (struct pump_shape_hdr *)(void *)at;
	sh->id = site->id;
	sh->n = n;
	sh->ev = e->ev;
	const char **keys = (const char **)(void *)(sh + 1);
	unsigned char *kinds = (unsigned char *)(keys + n);
	for (uint32_t i = 0; i < n; i++) {
		site->keys[i] = keys[i] = e->fields[i].key;
		site->kinds[i] = kinds[i] = e->fields[i].s != NULL;
	}
	trace_ring_commit(&r->ring);
	return site->id;
}

/*
 * An event too big for the ring: wait until the ring is empty (the
 * writer has numbered every earlier event of this thread), then the
 * synchronous way — so the cord's own order holds.
 */
static __attribute__((noinline)) void
pump_big(struct trace_pump *p, struct pump_ring *r,
	 const struct trace_event *e)
{
	while (atomic_load_explicit(&r->ring.tail, memory_order_acquire) !=
	       r->ring.head_local) {
		struct timespec ts = {0, PUMP_FULL_SLEEP_NS};
		nanosleep(&ts, NULL);
	}
	pump_direct(p, e);
}

static void
pump_sink(void *arg, const struct trace_event *e)
{
	struct trace_pump *p = arg;
	struct pump_ring *r = pump_thread_ring(p);
	uint32_t n = (uint32_t)e->n_fields;
	/* (A NULL name would look like an empty cache slot.) */
	if (r == NULL || n > PUMP_SITE_KEYS || e->ev == NULL) {
		pump_direct(p, e);
		return;
	}
	if (__builtin_expect(r->cord != e->cord, 0))
		pump_put_cord(p, r, e->cord);
	size_t size = sizeof(struct pump_event_hdr) + n * PUMP_VALUE_MAX;
	for (uint32_t i = 0; i < n; i++) {
		if (e->fields[i].s != NULL)
			size += strlen(e->fields[i].s);
	}
	if (size > trace_ring_max_record(&r->ring)) {
		pump_big(p, r, e);
		return;
	}
	uint32_t shape = pump_shape_of(p, r, e, n);
	char *at = pump_reserve(p, r, (uint32_t)size, PUMP_EVENT);
	struct pump_event_hdr *h = (struct pump_event_hdr *)(void *)at;
	char *o = (char *)(h + 1);
	for (uint32_t i = 0; i < n; i++) {
		const struct trace_field *f = &e->fields[i];
		if (f->s == NULL) {
			uint64_t v = (uint64_t)f->i;
			o = pump_put_varint(o, (v << 1) ^ (0 - (v >> 63)));
			continue;
		}
		size_t len = strlen(f->s);
		o = pump_put_varint(o, len);
		memcpy(o, f->s, len);
		o += len;
	}
	h->shape = shape;
	h->len = (uint32_t)(o - (char *)(h + 1));
	/* Stamped last, just before it is published (see PUMP_LAG_NS). */
	h->t = trace_now();
	trace_ring_commit_len(&r->ring, at, (uint32_t)(o - at));
}

static void
pump_leave(void *arg)
{
	struct trace_pump *p = arg;
	/* The next event names its cord again, even at the same address. */
	if (pump_tls.gen == p->gen && pump_tls.ring != NULL)
		pump_tls.ring->cord = NULL;
}

/* --------------------------------------------------------- writer side */

static void
pump_keep_error(struct trace_pump *p)
{
	if (!p->has_error) {
		p->has_error = true;
		p->error = *diag_last();
	}
}

/* Remember a shape the emitter defined (a PUMP_SHAPE record). */
static void
pump_add_shape(struct trace_pump *p, struct pump_ring *r, const char *rec)
{
	const struct pump_shape_hdr *sh =
		(const struct pump_shape_hdr *)(const void *)rec;
	if (sh->id >= r->cap_shapes) {
		uint32_t cap = r->cap_shapes != 0 ? r->cap_shapes * 2 : 64;
		while (cap <= sh->id)
			cap *= 2;
		struct pump_shape *shapes =
			mem_realloc(r->shapes, cap * sizeof(*shapes));
		if (shapes == NULL) {
			diag_set_oom(cap * sizeof(*shapes), "trace shapes");
			pump_keep_error(p);
			return;
		}
		memset(shapes + r->cap_shapes, 0,
		       (cap - r->cap_shapes) * sizeof(*shapes));
		r->shapes = shapes;
		r->cap_shapes = cap;
	}
	struct pump_shape *s = &r->shapes[sh->id];
	size_t size = sh->n * (sizeof(char *) + 1);
	char *mem = mem_alloc(size != 0 ? size : 1);
	if (mem == NULL) {
		diag_set_oom(size, "trace shape");
		pump_keep_error(p);
		return;
	}
	mem_free(s->keys);
	s->ev = sh->ev;
	s->n = sh->n;
	s->keys = (const char **)(void *)mem;
	s->kinds = (unsigned char *)(s->keys + sh->n);
	memcpy(mem, sh + 1, size);
	if (sh->id >= r->n_shapes)
		r->n_shapes = sh->id + 1;
}

/*
 * Hand one ring event to the trace writer, numbered `seq`: its values
 * are copied into the PACKED record as they are.
 */
static void
pump_write_event(struct trace_pump *p, struct pump_ring *r, const char *rec,
		 uint64_t seq)
{
	const struct pump_event_hdr *h =
		(const struct pump_event_hdr *)(const void *)rec;
	p->n_taken++;
	if (h->shape >= r->n_shapes || r->shapes[h->shape].keys == NULL) {
		/* Its shape was lost to OOM: the error is kept already. */
		return;
	}
	const struct pump_shape *s = &r->shapes[h->shape];
	const char *cord = r->cord_name != NULL ? r->cord_name : "?";
	if (!p->has_error &&
	    trace_writer_add_values_locked(p->w, seq, h->t, cord, s->ev, s->n,
					   s->keys, s->kinds,
					   (const char *)(h + 1), h->len) != 0)
		pump_keep_error(p);
}

/*
 * The one copy of cord name `name` (a NUL-terminated ring string):
 * the packer then knows a cord by its pointer. "?" on OOM (and the error
 * is kept).
 */
static const char *
pump_cord_intern(struct trace_pump *p, const char *name)
{
	for (struct pump_cord *c = p->cords; c != NULL; c = c->next) {
		if (strcmp(c->name, name) == 0)
			return c->name;
	}
	struct pump_cord *c = mem_alloc(sizeof(*c));
	if (c == NULL) {
		diag_set_oom(sizeof(*c), "trace cord name");
		pump_keep_error(p);
		return "?";
	}
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->next = p->cords;
	p->cords = c;
	return c->name;
}

/*
 * Ask for the ring's bytes a few records ahead: they sit modified in the
 * emitting core's cache, and fetching them while the current record is
 * encoded hides most of that transfer. Only committed bytes (a line the
 * producer is still writing would be pulled away from it).
 */
static inline void
pump_prefetch(const struct trace_ring *r)
{
	uint64_t ahead = r->tail_local + PUMP_PREFETCH;
	if (ahead + 64 <= r->head_cache) {
		__builtin_prefetch(r->data + (ahead & r->mask));
		__builtin_prefetch(r->data + ((ahead + 64) & r->mask));
	}
}

/* The oldest event of ring `r` (its cord records applied), or NULL. */
static const struct pump_event_hdr *
pump_head(struct trace_pump *p, struct pump_ring *r, uint32_t *n)
{
	for (;;) {
		uint32_t kind;
		const char *rec = trace_ring_peek(&r->ring, n, &kind);
		if (rec == NULL)
			return NULL;
		if (kind == PUMP_EVENT)
			return (const struct pump_event_hdr *)(const void *)rec;
		if (kind == PUMP_SHAPE)
			pump_add_shape(p, r, rec);
		else
			r->cord_name = pump_cord_intern(p, rec);
		trace_ring_pop(&r->ring, *n);
	}
}

/*
 * Merge the rings by t into the writer's batch, numbering events as they
 * go (seq), under the writer's mutex (once per pass, not per event). An
 * event goes when it is the oldest head of all rings and at least
 * PUMP_LAG_NS old (`is_final`: everything goes). Runs of one ring go
 * without rescanning the others. Returns how many events went.
 */
static uint64_t
pump_drain(struct trace_pump *p, bool is_final)
{
	uint64_t taken = 0;
	trace_writer_lock(p->w);
	for (;;) {
		uint64_t now = p->ops.now();
		uint64_t bound = is_final ? UINT64_MAX :
				 now > PUMP_LAG_NS ? now - PUMP_LAG_NS : 0;
		struct pump_ring *best = NULL;
		uint64_t best_t = UINT64_MAX;
		for (struct pump_ring *r = atomic_load(&p->rings); r != NULL;
		     r = r->next) {
			uint32_t n;
			const struct pump_event_hdr *h = pump_head(p, r, &n);
			if (h == NULL)
				continue;
			if (h->t < best_t) {
				if (best_t < bound)
					bound = best_t;
				best = r;
				best_t = h->t;
			} else if (h->t < bound) {
				bound = h->t;
			}
		}
		if (best == NULL || best_t > bound)
			break;
		uint32_t n;
		const struct pump_event_hdr *h;
		while ((h = pump_head(p, best, &n)) != NULL && h->t <= bound) {
			pump_prefetch(&best->ring);
			pump_write_event(p, best, (const char *)h, ++p->seq);
			trace_ring_pop(&best->ring, n);
			taken++;
		}
	}
	trace_writer_unlock(p->w);
	atomic_store_explicit(&p->n_events, p->n_taken, memory_order_relaxed);
	return taken;
}

static void
pump_main(void *arg)
{
	struct trace_pump *p = arg;
	long sleep_ns = PUMP_SLEEP_MIN_NS;
	uint64_t last_write = p->ops.now();
	for (;;) {
		/* Read before draining: once it is seen, a final pass follows. */
		bool is_stopping = atomic_load(&p->is_stopping);
		bool is_paused = atomic_load(&p->is_paused);
		if (!is_paused && pump_drain(p, is_stopping) > 0) {
			/* More may have aged meanwhile: look again at once. */
			sleep_ns = PUMP_SLEEP_MIN_NS;
			continue;
		}
		/*
		 * Nothing to take: write what the batch holds if it has
		 * waited long enough (a live reader sees an idle server's
		 * last events within PUMP_WRITE_NS), then sleep.
		 */
		uint64_t now = p->ops.now();
		if (is_stopping || now - last_write >= PUMP_WRITE_NS) {
			if (!p->has_error && trace_writer_flush(p->w) != 0)
				pump_keep_error(p);
			last_write = now;
		}
		if (is_stopping && !is_paused)
			break;
		struct timespec ts = {0, sleep_ns};
		nanosleep(&ts, NULL);
		if (sleep_ns < PUMP_SLEEP_MAX_NS)
			sleep_ns *= 2;
	}
}

/* ---------------------------------------------------------- lifecycle */

struct trace_pump *
trace_pump_start(struct trace_writer *w, const struct trace_thread_ops *ops,
		 size_t ring_size)
{
	if (ring_size == 0)
		ring_size = TRACE_PUMP_RING_SIZE;
	if (ring_size < 4096 || (ring_size & (ring_size - 1)) != 0) {
		diag_set(DIAG_ER_UNKNOWN, "TraceError",
			 "trace ring size %zu is not a power of two >= 4096",
			 ring_size);
		return NULL;
	}
	struct trace_pump *p = mem_zalloc_aligned(64, sizeof(*p));
	if (p == NULL) {
		diag_set_oom(sizeof(*p), "trace pump");
		return NULL;
	}
	p->w = w;
	p->ops = *ops;
	p->ring_size = ring_size;
	p->gen = atomic_fetch_add(&pump_gen, 1) + 1;
	atomic_init(&p->rings, NULL);
	atomic_init(&p->is_stopping, false);
	atomic_init(&p->is_paused, false);
	trace_writer_set_packed(w);
	if (ops->spawn(&p->thread, pump_main, p) != 0) {
		mem_free(p);
		return NULL;
	}
	trace_set_stamping_sink(pump_sink, pump_leave, p);
	return p;
}

int
trace_pump_stop(struct trace_pump *p)
{
	atomic_store(&p->is_stopping, true);
	atomic_store(&p->is_paused, false);
	p->ops.join(p->thread);
	int rc = 0;
	if (p->has_error) {
		*diag_last() = p->error;
		rc = -1;
	}
	struct pump_ring *r = atomic_load(&p->rings);
	while (r != NULL) {
		struct pump_ring *next = r->next;
		for (uint32_t i = 0; i < r->n_shapes; i++)
			mem_free(r->shapes[i].keys);
		mem_free(r->shapes);
		trace_ring_destroy(&r->ring);
		mem_free(r);
		r = next;
	}
	while (p->cords != NULL) {
		struct pump_cord *c = p->cords;
		p->cords = c->next;
		mem_free(c);
	}
	if (pump_tls.gen == p->gen)
		pump_tls.ring = NULL;
	mem_free(p);
	return rc;
}

void
trace_pump_stats(struct trace_pump *p, struct trace_pump_stats *out)
{
	out->n_events = atomic_load(&p->n_events);
	out->n_full_waits = atomic_load(&p->n_full_waits);
	out->n_rings = atomic_load(&p->n_rings);
	out->n_direct = atomic_load(&p->n_direct);
}

void
trace_pump_pause(struct trace_pump *p, bool is_paused)
{
	atomic_store(&p->is_paused, is_paused);
}
