/*
 * trace_pump.c — per-thread rings and the writer thread. See trace_pump.h.
 *
 * A ring record of kind PUMP_EVENT:
 *
 *   u64 t | ev (pointer) | u32 n_fields | u32 flags
 *   n_fields x { key (pointer) | i64 value or string length }
 *   n_fields x u8 kind (PUMP_INT, PUMP_STR, PUMP_HEAP), padded to 8
 *   the PUMP_STR values, each with its NUL, one after another
 *
 * A PUMP_HEAP value is a pointer to a heap copy (a string too big for the
 * ring), freed by the writer thread. A PUMP_CORD record carries the name
 * of the cord the following events of that ring come from (copied: the
 * cord may be gone by the time the writer reads it); a thread that enters
 * another cord writes a new one.
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
};

/* pump_event_hdr.flags: some value is a heap copy the writer frees. */
enum { PUMP_HAS_HEAP = 1 };

/* A field's kind in a ring record: trace_record.h's raw kinds. */
enum pump_value {
	PUMP_INT = TRACE_RAW_INT,
	PUMP_STR = TRACE_RAW_STR,
	PUMP_HEAP = TRACE_RAW_PTR,
};

enum {
	/** A cord that finds its ring full yields this many times... */
	PUMP_FULL_SPINS = 8,
	/** ...then sleeps this long between looks. */
	PUMP_FULL_SLEEP_NS = 20 * 1000,
	/** Writer thread: how far ahead of its read position it prefetches. */
	PUMP_PREFETCH = 512,
	/** Cord names are short (RT_CORD_NAME_MAX); longer ones are cut. */
	PUMP_CORD_MAX = 32,
	/** Writer thread: records taken from one ring before the next. */
	PUMP_DRAIN_BUDGET = 4096,
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
	const char *ev;
	uint32_t n_fields;
	uint32_t flags;
};

/* A field in a ring record: what the packer reads as it is. */
#define pump_field trace_raw_field

/** One emitting thread's ring, owned by the pump. */
struct pump_ring {
	struct trace_ring ring;
	struct pump_ring *next;
	/* Producer side: the cord whose name was written last (NULL: none). */
	const char *cord;
	/* Consumer side: the cord of the records being read (interned). */
	const char *cord_name;
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
 * The synchronous way, when a ring or a heap copy cannot be had: straight
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

static void
pump_sink(void *arg, const struct trace_event *e)
{
	struct trace_pump *p = arg;
	struct pump_ring *r = pump_thread_ring(p);
	if (r == NULL) {
		pump_direct(p, e);
		return;
	}
	if (__builtin_expect(r->cord != e->cord, 0))
		pump_put_cord(p, r, e->cord);
	uint32_t n = (uint32_t)e->n_fields;
	size_t fixed = sizeof(struct pump_event_hdr) +
		       n * sizeof(struct pump_field) + trace_ring_align(n);
	size_t max = trace_ring_max_record(&r->ring);
	size_t strs = 0;
	uint32_t n_heap = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (e->fields[i].s != NULL)
			strs += strlen(e->fields[i].s) + 1;
	}
	if (fixed + strs > max) {
		/* Rare: a big value (a result text). Heap copies for all. */
		strs = 0;
		n_heap = 1;
	}
	if (fixed > max) {
		pump_direct(p, e);
		return;
	}
	char *at = pump_reserve(p, r, (uint32_t)(fixed + strs), PUMP_EVENT);
	struct pump_event_hdr *h = (struct pump_event_hdr *)(void *)at;
	h->ev = e->ev;
	h->n_fields = n;
	h->flags = 0;
	struct pump_field *f = (struct pump_field *)(void *)(h + 1);
	unsigned char *kinds = (unsigned char *)(f + n);
	char *s = (char *)kinds + trace_ring_align(n);
	for (uint32_t i = 0; i < n; i++) {
		const struct trace_field *in = &e->fields[i];
		f[i].key = in->key;
		if (in->s == NULL) {
			f[i].v = in->i;
			kinds[i] = PUMP_INT;
			continue;
		}
		size_t len = strlen(in->s);
		if (n_heap == 0) {
			memcpy(s, in->s, len + 1);
			s += len + 1;
			f[i].v = (int64_t)len;
			kinds[i] = PUMP_STR;
			continue;
		}
		char *copy = mem_alloc(len + 1);
		if (copy == NULL) {
			/* Drop the record, free what was copied: go direct. */
			for (uint32_t j = 0; j < i; j++) {
				if (kinds[j] == PUMP_HEAP)
					mem_free((void *)(intptr_t)f[j].v);
			}
			pump_direct(p, e);
			return;
		}
		memcpy(copy, in->s, len + 1);
		f[i].v = (int64_t)(intptr_t)copy;
		kinds[i] = PUMP_HEAP;
		h->flags = PUMP_HAS_HEAP;
	}
	/* Stamped last, just before it is published (see PUMP_LAG_NS). */
	h->t = trace_now();
	trace_ring_commit(&r->ring);
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

/*
 * Hand one ring event to the trace writer, numbered `seq`: packed
 * straight from the ring's bytes (trace_record_add_packed_raw).
 */
static void
pump_write_event(struct trace_pump *p, struct pump_ring *r, const char *rec,
		 uint64_t seq)
{
	const struct pump_event_hdr *h =
		(const struct pump_event_hdr *)(const void *)rec;
	uint32_t n = h->n_fields;
	const struct pump_field *f = (const struct pump_field *)(h + 1);
	const unsigned char *kinds = (const unsigned char *)(f + n);
	const char *s = (const char *)kinds + trace_ring_align(n);
	const char *cord = r->cord_name != NULL ? r->cord_name : "?";
	if (!p->has_error &&
	    trace_writer_add_raw_locked(p->w, seq, h->t, cord, h->ev, n, f,
					kinds, s) != 0)
		pump_keep_error(p);
	p->n_taken++;
	if (h->flags != 0) {
		for (uint32_t i = 0; i < n; i++) {
			if (kinds[i] == PUMP_HEAP)
				mem_free((void *)(intptr_t)f[i].v);
		}
	}
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
