/*
 * trace_ring.h — a single-producer single-consumer ring of variable-size
 * byte records: how an emitting cord hands its events to the trace pump's
 * writer thread without a lock, a system call or a shared cache line per
 * event (trace_pump.h).
 *
 *   emitting thread                         writer thread
 *   reserve(n) -> fill -> commit            peek -> use -> pop
 *        |                                     ^
 *        +--> [hdr|rec][hdr|rec][pad][hdr|rec] |  one ring per emitting
 *             head (release) ------------------+  thread, bytes in order
 *             tail (release) <-----------------+
 *
 * Each record is an 8-byte header (u32 length, u32 kind) and its bytes
 * rounded up to 8. A record never wraps: when it does not fit before the
 * end of the buffer, a pad record fills the rest and the record starts at
 * offset 0 (the consumer skips pads). `head` and `tail` count bytes ever
 * written / consumed (they never wrap in 64 bits); each side keeps a
 * cached copy of the other's counter and reloads it only when the cache
 * says "full" / "empty", so in the steady state neither side touches the
 * other's cache line per record (the scheme of Lamport's ring with cached
 * indices, as in Rigtorp's SPSCQueue and DPDK's rte_ring).
 *
 * What happens when the ring is full is the caller's choice: reserve
 * returns NULL and does not wait (trace_pump.c spins the emitting cord).
 *
 * Thread: one producer thread calls reserve/commit, one consumer thread
 * peek/pop; create/destroy while neither runs.
 */
#ifndef KHARON_TRACE_TRACE_RING_H
#define KHARON_TRACE_TRACE_RING_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

enum {
	/** Bytes in front of every record. */
	TRACE_RING_HDR = 8,
	/** The kind of a pad record (never returned by peek). */
	TRACE_RING_PAD = 0,
};

struct trace_ring {
	/* Producer's line: what it wrote, and its view of the tail. */
	_Alignas(64) atomic_uint_fast64_t head;
	uint64_t head_local;
	uint64_t tail_cache;
	/** Where trace_ring_commit() moves head to. */
	uint64_t pending;
	/* Consumer's line. */
	_Alignas(64) atomic_uint_fast64_t tail;
	uint64_t tail_local;
	uint64_t head_cache;
	/* Read-only after create. */
	_Alignas(64) char *data;
	uint64_t size;
	uint64_t mask;
};

/**
 * Make `r` a ring of `size` bytes (a power of two, at least 64).
 * Returns 0, or -1 (OOM or a bad size; diag set).
 */
int
trace_ring_create(struct trace_ring *r, size_t size);

void
trace_ring_destroy(struct trace_ring *r);

/** The largest record a ring of `size` bytes accepts: a quarter of it. */
static inline size_t
trace_ring_max_record(const struct trace_ring *r)
{
	return (size_t)(r->size / 4);
}

/** `n` rounded up to a multiple of 8. */
static inline uint64_t
trace_ring_align(uint64_t n)
{
	return (n + 7) & ~(uint64_t)7;
}

/**
 * Producer: room for a record of `n` bytes of kind `kind` (not
 * TRACE_RING_PAD; `n` at most trace_ring_max_record()), or NULL when the
 * ring is full now. The record is invisible to the consumer until
 * trace_ring_commit(); another reserve before the commit replaces it.
 * O(1), no atomic read-modify-write; a load of the consumer's counter
 * only when the cached one says full.
 */
static inline void *
trace_ring_reserve(struct trace_ring *r, uint32_t n, uint32_t kind)
{
	uint64_t need = TRACE_RING_HDR + trace_ring_align(n);
	uint64_t head = r->head_local;
	uint64_t off = head & r->mask;
	uint64_t to_end = r->size - off;
	uint64_t total = need <= to_end ? need : to_end + need;
	if (head + total - r->tail_cache > r->size) {
		r->tail_cache = atomic_load_explicit(&r->tail,
						     memory_order_acquire);
		if (head + total - r->tail_cache > r->size)
			return NULL;
	}
	if (need > to_end) {
		/* Pad to the end; the record starts at offset 0. */
		uint32_t *pad = (uint32_t *)(void *)(r->data + off);
		pad[0] = (uint32_t)(to_end - TRACE_RING_HDR);
		pad[1] = TRACE_RING_PAD;
		off = 0;
	}
	uint32_t *hdr = (uint32_t *)(void *)(r->data + off);
	hdr[0] = n;
	hdr[1] = kind;
	r->pending = head + total;
	return r->data + off + TRACE_RING_HDR;
}

/** Producer: publish the record reserved last. O(1), a release store. */
static inline void
trace_ring_commit(struct trace_ring *r)
{
	r->head_local = r->pending;
	atomic_store_explicit(&r->head, r->pending, memory_order_release);
}

/**
 * Producer: publish the record reserved last at `rec`, cut to `n` bytes
 * (at most what was reserved: a caller that reserves the most it may
 * need). O(1).
 */
static inline void
trace_ring_commit_len(struct trace_ring *r, void *rec, uint32_t n)
{
	uint32_t *hdr = (uint32_t *)rec - 2;
	uint64_t was = TRACE_RING_HDR + trace_ring_align(hdr[0]);
	hdr[0] = n;
	r->pending = r->pending - was + TRACE_RING_HDR + trace_ring_align(n);
	trace_ring_commit(r);
}

/**
 * Consumer: the oldest committed record (its bytes; `*n` its length and
 * `*kind` its kind), or NULL when the ring is empty now. It stays valid
 * until trace_ring_pop(). O(1) amortized (pads are skipped).
 */
static inline const void *
trace_ring_peek(struct trace_ring *r, uint32_t *n, uint32_t *kind)
{
	for (;;) {
		uint64_t tail = r->tail_local;
		if (tail == r->head_cache) {
			r->head_cache = atomic_load_explicit(
				&r->head, memory_order_acquire);
			if (tail == r->head_cache)
				return NULL;
		}
		const uint32_t *hdr =
			(const uint32_t *)(const void *)(r->data +
							 (tail & r->mask));
		if (hdr[1] != TRACE_RING_PAD) {
			*n = hdr[0];
			*kind = hdr[1];
			return hdr + 2;
		}
		r->tail_local = tail + TRACE_RING_HDR + hdr[0];
	}
}

/**
 * Consumer: drop the record peek returned (of `n` bytes) and give its
 * room (and that of the pads before it) back to the producer. O(1).
 */
static inline void
trace_ring_pop(struct trace_ring *r, uint32_t n)
{
	r->tail_local += TRACE_RING_HDR + trace_ring_align(n);
	atomic_store_explicit(&r->tail, r->tail_local, memory_order_release);
}

/** Consumer: true when nothing committed is left to read. */
static inline int
trace_ring_is_empty(struct trace_ring *r)
{
	uint32_t n, kind;
	return trace_ring_peek(r, &n, &kind) == NULL;
}

#endif /* KHARON_TRACE_TRACE_RING_H */
