/*
 * ibuf.h — the input buffer: one contiguous, growable byte array.
 *
 * iproto reads socket bytes into an ibuf and parses requests in place
 * (DESIGN.md §4, §7). The layout is four pointers into one allocation:
 *
 *     buf          rpos                 wpos              end
 *      |  consumed  |  used (unparsed or |  unused (free)   |
 *      |  garbage   |  in flight)        |                  |
 *      +------------+--------------------+------------------+
 *
 * Readers advance rpos, writers reserve room at wpos and advance it. When a
 * reserve does not fit before `end`, ibuf_reserve_slow() either compacts
 * (memmove of [rpos, wpos) down to buf) or grows (a new, bigger allocation,
 * copy, free the old one). Both MOVE THE CONTENTS: after any reserve, every
 * pointer a caller kept into [rpos, wpos) is invalid. That is the whole
 * reason iproto keeps two ibufs per connection and never reserves in one
 * that still has parsed requests pointing into it.
 *
 * Faithful to tarantool/small's small/ibuf.h and ibuf.c; kharon's mem.h
 * stands in for the slab cache, and a failed allocation sets diag.
 * Not thread-safe: an ibuf belongs to the iproto cord that reads into it
 * (TX may read bytes of a parsed request, but never reserves, allocates or
 * frees).
 *
 * Lesson: lessons/en/04-ibuf-double.md.
 */
#ifndef KHARON_BUF_IBUF_H
#define KHARON_BUF_IBUF_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

/** What the last successful ibuf_reserve() did to the contents. */
enum ibuf_move {
	/** Fit before `end`: nothing moved. */
	IBUF_MOVE_NONE = 0,
	/** Used data memmoved down to `buf` (same memory, new offsets). */
	IBUF_MOVE_COMPACT,
	/** New bigger allocation, used data copied, old memory freed. */
	IBUF_MOVE_GROW,
};

/**
 * The struct is public because callers embed it (a connection holds two).
 * Read the fields freely; change them only through the functions below.
 */
struct ibuf {
	/** Start of the allocation; NULL until the first reserve. */
	char *buf;
	/** Start of data not yet consumed. */
	char *rpos;
	/** End of data; where the next write goes. */
	char *wpos;
	/** End of the allocation. */
	char *end;
	/** First and minimum allocation size (iproto: readahead). */
	size_t start_capacity;
	/** Set by every successful reserve; the trace reports it. */
	enum ibuf_move last_move;
	/** Lifetime counts of compactions and growths (statistics, tests). */
	uint64_t n_compact;
	uint64_t n_grow;
};

/**
 * Initialize an empty ibuf. Allocates nothing (a connection may never
 * receive a byte).
 * @param start_capacity size of the first allocation, > 0.
 * Cannot fail. Any thread (the owner's).
 */
void
ibuf_create(struct ibuf *ibuf, size_t start_capacity);

/**
 * Free the memory. The ibuf may be created again afterwards. Every pointer
 * into it becomes invalid. Cannot fail.
 */
void
ibuf_destroy(struct ibuf *ibuf);

/**
 * Free the memory and return to the just-created state, keeping
 * start_capacity and the counters (iproto frees an idle buffer that grew
 * too big this way). Cannot fail.
 */
void
ibuf_reinit(struct ibuf *ibuf);

/** Bytes of data between rpos and wpos. */
static inline size_t
ibuf_used(const struct ibuf *ibuf)
{
	return (size_t)(ibuf->wpos - ibuf->rpos);
}

/** Free bytes after wpos (available without a move). */
static inline size_t
ibuf_unused(const struct ibuf *ibuf)
{
	return (size_t)(ibuf->end - ibuf->wpos);
}

/** Size of the allocation (0 before the first reserve). */
static inline size_t
ibuf_capacity(const struct ibuf *ibuf)
{
	return (size_t)(ibuf->end - ibuf->buf);
}

/** Offset of rpos from buf: how much consumed garbage a compaction drops. */
static inline size_t
ibuf_pos(const struct ibuf *ibuf)
{
	return (size_t)(ibuf->rpos - ibuf->buf);
}

/** Forget all data, keep the memory: rpos = wpos = buf. Cannot fail. */
static inline void
ibuf_reset(struct ibuf *ibuf)
{
	ibuf->rpos = ibuf->wpos = ibuf->buf;
}

/**
 * Slow half of ibuf_reserve(): compact or grow. Call ibuf_reserve().
 * Cost: O(used) (memmove or memcpy).
 */
void *
ibuf_reserve_slow(struct ibuf *ibuf, size_t size);

/**
 * Make at least `size` free contiguous bytes available at wpos. Does not
 * advance wpos (write, then ibuf_advance() by what you wrote).
 *
 * !!! MAY MOVE THE CONTENTS. On success every pointer into the old
 * [rpos, wpos) is invalid (compaction shifts it to buf, growth moves it to
 * new memory): re-read rpos/wpos. ibuf->last_move says which happened.
 *
 * @return pointer to wpos (after any move), or NULL with diag set
 *         (OutOfMemory) — then the ibuf is unchanged and still valid, and
 *         last_move keeps its previous value.
 * Owner cord only. O(1) when it fits, O(used) otherwise.
 */
static inline void *
ibuf_reserve(struct ibuf *ibuf, size_t size)
{
	/* buf == NULL: even reserve(0) must allocate, or it returns NULL. */
	if (ibuf->buf != NULL && size <= ibuf_unused(ibuf)) {
		ibuf->last_move = IBUF_MOVE_NONE;
		return ibuf->wpos;
	}
	return ibuf_reserve_slow(ibuf, size);
}

/** Mark `size` bytes written at wpos as data. size <= ibuf_unused(). */
static inline void
ibuf_advance(struct ibuf *ibuf, size_t size)
{
	assert(size <= ibuf_unused(ibuf));
	ibuf->wpos += size;
}

/**
 * Reserve + advance: `size` bytes at the old wpos are now data for the
 * caller to fill. Same moving caveat and failure contract as ibuf_reserve().
 */
static inline void *
ibuf_alloc(struct ibuf *ibuf, size_t size)
{
	char *ptr = (char *)ibuf_reserve(ibuf, size);
	if (ptr == NULL)
		return NULL;
	ibuf->wpos = ptr + size;
	return ptr;
}

/** Drop the last `n` bytes written (wpos -= n). n <= ibuf_used(). */
static inline void
ibuf_discard(struct ibuf *ibuf, size_t n)
{
	assert(n <= ibuf_used(ibuf));
	ibuf->wpos -= n;
}

/**
 * Mark `n` bytes at rpos as consumed (rpos += n); they become garbage that
 * the next compaction drops. n <= ibuf_used().
 */
static inline void
ibuf_consume(struct ibuf *ibuf, size_t n)
{
	assert(n <= ibuf_used(ibuf));
	ibuf->rpos += n;
}

/** "none", "compact" or "grow", for the trace. */
const char *
ibuf_move_name(enum ibuf_move move);

#endif /* KHARON_BUF_IBUF_H */
