/*
 * obuf.h — the output buffer: a vector of chunks ready for writev().
 *
 * TX writes replies into an obuf; iproto writev()s them to the socket
 * (DESIGN.md §4, §7). Unlike the ibuf, bytes once written NEVER move: the
 * buffer grows by adding chunks, never by reallocating. That is what lets
 * TX patch a reply header after dumping the body, and lets iproto send the
 * older chunks while TX keeps appending to the newer ones.
 *
 *    iov[0]  start << 0   [##########]          full
 *    iov[1]  start << 1   [####################] full
 *    iov[2]  start << 2   [#######.............................]  <- pos
 *    iov[3]  (zero: end marker, or an allocated chunk kept after a reset)
 *
 * Chunk i is allocated on first use with capacity start_capacity << i, or
 * more (doubling) if a bigger contiguous piece is requested. With doubling,
 * OBUF_IOV_MAX = 31 chunks are practically never exhausted; if they are,
 * the write fails with OutOfMemory.
 *
 * Size reservation, the pattern iproto replies use (DESIGN.md §4):
 *
 *    obuf_reserve(out, 35);              contiguous 35 bytes, maybe in a
 *    svp = obuf_create_svp(out);         new chunk; THEN the savepoint
 *    obuf_alloc(out, 35);                (so it points right at them)
 *    ... obuf_dup()/obuf_alloc() the body, any number of chunks ...
 *    patch the header via obuf_svp_to_ptr(out, &svp);
 *    on failure: obuf_rollback_to_svp(out, &svp);
 *
 * and iproto's flush: obuf_iov_between(out, &wpos, &wend, iov, n) gives the
 * iovecs of [wpos, wend) with the first one offset and the last one
 * clamped; after writev() sent `n` bytes, obuf_svp_advance() moves wpos.
 *
 * Threads: the writer (TX) owns the obuf: it alone reserves, allocates,
 * rolls back, resets and destroys. The reader (iproto) may read iov[] of
 * the region [wpos, wend) it learnt about through cbus (the cbus mutex
 * orders the writes before the reads); it must not touch anything else.
 *
 * Faithful to tarantool/small's small/obuf.h and obuf.c, with mem.h instead
 * of the slab cache; failures set diag and leave the obuf unchanged.
 * The reader's positions (iproto's wpos and wend) are not part of the
 * obuf, in small or here: Tarantool keeps them in struct
 * iproto_connection, and so does kharon (src/iproto/iproto_connection.h).
 *
 * Lesson: lessons/en/05-obuf-reserve.md (size reservation, savepoints,
 * the two obufs).
 */
#ifndef KHARON_BUF_OBUF_H
#define KHARON_BUF_OBUF_H

#include <assert.h>
#include <stddef.h>
#include <sys/uio.h>

/** Usable chunks; iov[OBUF_IOV_MAX] is always the zeroed end marker. */
enum { OBUF_IOV_MAX = 31 };

/**
 * A position in an obuf: chunk index, bytes in that chunk, total bytes
 * before it. Valid until a rollback to an earlier point, obuf_reset() or
 * obuf_destroy().
 */
struct obuf_svp {
	size_t pos;
	size_t iov_len;
	size_t used;
};

/**
 * Public because callers embed it (a connection holds two). Read the fields
 * freely; change them only through the functions below.
 */
/**
 * Freed chunks kept for the next obuf that needs one of the same size, so
 * that a new connection's output does not fault in fresh pages (Tarantool
 * takes obuf memory from the cord's slab cache, which keeps freed slabs the
 * same way). Owned by one thread: every obuf that uses it must allocate and
 * free chunks on that thread only (TX, for the connections' obufs). At most
 * OBUF_CACHE_MAX bytes are kept, and no chunk above OBUF_CACHE_CHUNK_MAX:
 * enough for the chunks a few ordinary connections use, not so much that
 * a burst of big outputs stays resident (`make soak` judges memory drift).
 */
enum {
	OBUF_CACHE_CLASSES = 64,
	OBUF_CACHE_MAX = 4 * 1024 * 1024,
	OBUF_CACHE_CHUNK_MAX = 1024 * 1024,
};

struct obuf_cache {
	/** Free chunks by log2 of their capacity, linked through their memory. */
	void *free[OBUF_CACHE_CLASSES];
	size_t size;
	/** Chunks given out from the cache, for the benchmark's curiosity. */
	unsigned long long n_reused;
};

/** An empty cache. */
void
obuf_cache_create(struct obuf_cache *cache);

/** Free every kept chunk. On the cache's thread, or once it has stopped. */
void
obuf_cache_destroy(struct obuf_cache *cache);

struct obuf {
	/** Where chunks come from and go back to; NULL: straight from mem. */
	struct obuf_cache *cache;
	/** Index of the chunk being written. */
	int pos;
	/** Chunks allocated so far: iov[0 .. n_iov) have memory. */
	int n_iov;
	/** Total bytes written. */
	size_t used;
	/** Capacity of chunk 0; chunk i normally gets start << i. */
	size_t start_capacity;
	/** Bytes allocated for each chunk (0: not allocated). */
	size_t capacity[OBUF_IOV_MAX + 1];
	/**
	 * iov_base: chunk memory; iov_len: bytes written in it. The entry
	 * after the last allocated chunk is all zero.
	 */
	struct iovec iov[OBUF_IOV_MAX + 1];
};

/**
 * Initialize an empty obuf. Allocates nothing.
 * @param start_capacity capacity of the first chunk, > 0.
 * Cannot fail. The writer's thread.
 */
void
obuf_create(struct obuf *obuf, size_t start_capacity);

/** Free every chunk. Pointers into the obuf become invalid. Cannot fail. */
void
obuf_destroy(struct obuf *obuf);

/**
 * Forget all data, keep every chunk's memory for reuse. Pointers into the
 * obuf now point at memory that will be overwritten. Cannot fail.
 * Cost: O(chunks).
 */
void
obuf_reset(struct obuf *obuf);

/** Total bytes written. */
static inline size_t
obuf_size(const struct obuf *obuf)
{
	return obuf->used;
}

/** Number of chunks holding data (the iovcnt for writev of it all). */
static inline int
obuf_iovcnt(const struct obuf *obuf)
{
	return obuf->iov[obuf->pos].iov_len > 0 ? obuf->pos + 1 : obuf->pos;
}

/**
 * Bytes allocated across all chunks. (small returns an approximation;
 * this is exact.) Cost: O(chunks).
 */
size_t
obuf_capacity(const struct obuf *obuf);

/**
 * Slow half of obuf_reserve(): moves to the next chunk and/or allocates.
 * Call obuf_reserve().
 */
void *
obuf_reserve_slow(struct obuf *obuf, size_t size);

/**
 * Make `size` CONTIGUOUS free bytes available and return a pointer to them.
 * Does not advance (obuf_advance() / obuf_alloc() do). Written bytes never
 * move, but the write position may: if the current chunk lacks room and
 * holds data, writing continues in the next chunk (allocating it with
 * start << i or more; or, if it is allocated, empty and too small,
 * replacing its memory with a bigger block). Take a savepoint AFTER the
 * reserve to point at the reserved bytes.
 *
 * @return the pointer, or NULL with diag set (OutOfMemory: allocation
 *         failed or all OBUF_IOV_MAX chunks used); the obuf is unchanged.
 * Writer's thread. O(1); an allocation when it moves.
 */
static inline void *
obuf_reserve(struct obuf *obuf, size_t size)
{
	struct iovec *iov = &obuf->iov[obuf->pos];
	size_t capacity = obuf->capacity[obuf->pos];
	/* capacity == 0: not allocated; even reserve(0) must allocate. */
	if (capacity > 0 && size <= capacity - iov->iov_len)
		return (char *)iov->iov_base + iov->iov_len;
	return obuf_reserve_slow(obuf, size);
}

/**
 * Mark `size` bytes after the last reserve as written.
 * size <= the size of that reserve.
 */
static inline void
obuf_advance(struct obuf *obuf, size_t size)
{
	struct iovec *iov = &obuf->iov[obuf->pos];
	assert(iov->iov_len + size <= obuf->capacity[obuf->pos]);
	iov->iov_len += size;
	obuf->used += size;
}

/**
 * Reserve + advance: `size` contiguous bytes, now part of the data, for the
 * caller to fill. Same failure contract as obuf_reserve().
 */
static inline void *
obuf_alloc(struct obuf *obuf, size_t size)
{
	void *ptr = obuf_reserve(obuf, size);
	if (ptr == NULL)
		return NULL;
	obuf_advance(obuf, size);
	return ptr;
}

/**
 * Append a copy of `data`, splitting it across chunks: the rest of the
 * current chunk is filled first, the remainder goes to the next chunk
 * (allocated big enough for all of it).
 *
 * @return 0, or -1 with diag set (OutOfMemory). Unlike small (which
 *         returns the bytes copied and may leave a partial copy), a failed
 *         obuf_dup() leaves the obuf unchanged: partial bytes are rolled
 *         back.
 * Writer's thread. Cost: O(size).
 */
int
obuf_dup(struct obuf *obuf, const void *data, size_t size);

/** The current write position. */
static inline struct obuf_svp
obuf_create_svp(const struct obuf *obuf)
{
	struct obuf_svp svp;
	svp.pos = (size_t)obuf->pos;
	svp.iov_len = obuf->iov[obuf->pos].iov_len;
	svp.used = obuf->used;
	return svp;
}

/**
 * Forget everything written after `svp` (which must be a position of the
 * current contents). Later chunks are emptied but keep their memory, so
 * later writes reuse it. Cannot fail. Cost: O(chunks).
 */
void
obuf_rollback_to_svp(struct obuf *obuf, const struct obuf_svp *svp);

/**
 * The address of the byte at `svp`. Stays valid (bytes never move) until
 * a rollback before it, obuf_reset() or obuf_destroy().
 */
static inline void *
obuf_svp_to_ptr(const struct obuf *obuf, const struct obuf_svp *svp)
{
	return (char *)obuf->iov[svp->pos].iov_base + svp->iov_len;
}

/**
 * Fill `iov_out` with the non-empty pieces of [begin, end): the first one
 * starts at begin's offset in its chunk, the last one is clamped to end's
 * iov_len (the writer may have written more since `end` was taken). This is
 * iproto's flush: writev(fd, iov_out, count). small has no such function:
 * Tarantool's iproto_flush copies and clamps the iovecs itself.
 *
 * @param max room in iov_out; if the region needs more, only the first
 *        `max` pieces are given (send them, advance, call again).
 * @return the number of entries filled (0 when begin == end).
 * Reader's thread (or writer's). Reads only chunks in [begin.pos, end.pos].
 * Cost: O(end.pos - begin.pos).
 */
int
obuf_iov_between(const struct obuf *obuf, const struct obuf_svp *begin,
		 const struct obuf_svp *end, struct iovec *iov_out, int max);

/**
 * Move `svp` forward by `n` bytes, where [svp, end) is a region written
 * and bounded by `end` and n <= end->used - svp->used (e.g. what writev()
 * returned). A position at the end of a chunk that has more chunks after
 * it within `end` is normalized to the start of the next chunk. What
 * Tarantool's iproto_flush does after a partial writev with sio_move_iov.
 * Reader's thread. Cannot fail. Cost: O(chunks crossed).
 */
void
obuf_svp_advance(const struct obuf *obuf, struct obuf_svp *svp,
		 const struct obuf_svp *end, size_t n);

#endif /* KHARON_BUF_OBUF_H */
