/*
 * obuf.c — the slow half of the output buffer: chunk allocation, copies
 * that span chunks, rollback, and the reader's view for writev().
 * See obuf.h for the picture and the contract.
 */
#include "buf/obuf.h"

#include <stdint.h>
#include <string.h>

#include "base/diag.h"
#include "base/mem.h"

/* ------------------------------------------------------------- cache */

/** A kept chunk's first bytes: the next kept chunk of its class, its size. */
struct obuf_cache_link {
	void *next;
	size_t capacity;
};

void
obuf_cache_create(struct obuf_cache *cache)
{
	memset(cache, 0, sizeof(*cache));
}

void
obuf_cache_destroy(struct obuf_cache *cache)
{
	for (int c = 0; c < OBUF_CACHE_CLASSES; c++) {
		while (cache->free[c] != NULL) {
			struct obuf_cache_link *link = cache->free[c];
			cache->free[c] = link->next;
			mem_free(link);
		}
	}
	cache->size = 0;
}

static int
obuf_cache_class(size_t capacity)
{
	return 63 - __builtin_clzll((unsigned long long)capacity);
}

/** A kept chunk of exactly `capacity` bytes, or NULL. */
static void *
obuf_cache_take(struct obuf_cache *cache, size_t capacity)
{
	if (cache == NULL || capacity < sizeof(struct obuf_cache_link))
		return NULL;
	void **prev = &cache->free[obuf_cache_class(capacity)];
	for (struct obuf_cache_link *link = *prev; link != NULL;
	     prev = &link->next, link = link->next) {
		if (link->capacity != capacity)
			continue;
		*prev = link->next;
		cache->size -= capacity;
		cache->n_reused++;
		return link;
	}
	return NULL;
}

/** Keep a chunk if there is room, else free it. */
static void
obuf_cache_put(struct obuf_cache *cache, void *chunk, size_t capacity)
{
	if (cache == NULL || capacity < sizeof(struct obuf_cache_link) ||
	    capacity > OBUF_CACHE_CHUNK_MAX ||
	    cache->size + capacity > OBUF_CACHE_MAX) {
		mem_free(chunk);
		return;
	}
	struct obuf_cache_link *link = chunk;
	int c = obuf_cache_class(capacity);
	link->next = cache->free[c];
	link->capacity = capacity;
	cache->free[c] = link;
	cache->size += capacity;
}

/* -------------------------------------------------------------- obuf */

void
obuf_create(struct obuf *obuf, size_t start_capacity)
{
	assert(start_capacity > 0);
	obuf->cache = NULL;
	obuf->pos = 0;
	obuf->n_iov = 0;
	obuf->used = 0;
	obuf->start_capacity = start_capacity;
	memset(obuf->capacity, 0, sizeof(obuf->capacity));
	memset(obuf->iov, 0, sizeof(obuf->iov));
}

void
obuf_destroy(struct obuf *obuf)
{
	for (int i = 0; i < obuf->n_iov; i++)
		obuf_cache_put(obuf->cache, obuf->iov[i].iov_base,
			       obuf->capacity[i]);
	/* Back to the created state: a second destroy or reuse is harmless. */
	struct obuf_cache *cache = obuf->cache;
	obuf_create(obuf, obuf->start_capacity);
	obuf->cache = cache;
}

void
obuf_reset(struct obuf *obuf)
{
	for (int i = 0; i < obuf->n_iov; i++)
		obuf->iov[i].iov_len = 0;
	obuf->pos = 0;
	obuf->used = 0;
}

size_t
obuf_capacity(const struct obuf *obuf)
{
	size_t total = 0;
	for (int i = 0; i < obuf->n_iov; i++)
		total += obuf->capacity[i];
	return total;
}

/**
 * Capacity for a chunk that starts at `base` and must hold `size`: base
 * doubled until it fits. 0 on overflow (the caller reports OOM).
 */
static size_t
obuf_grow_capacity(size_t base, size_t size)
{
	size_t capacity = base;
	while (capacity < size) {
		if (capacity > SIZE_MAX / 2)
			return 0;
		capacity *= 2;
	}
	return capacity;
}

/**
 * Give the first unallocated chunk, `pos` == n_iov, memory for at least
 * `size` bytes (normally start << pos). The entry after it stays the
 * zeroed end marker. On failure nothing changes.
 */
static int
obuf_alloc_chunk(struct obuf *obuf, int pos, size_t size)
{
	assert(pos == obuf->n_iov && pos < OBUF_IOV_MAX);
	assert(obuf->capacity[pos] == 0 && obuf->iov[pos].iov_len == 0);
	size_t capacity = 0;
	if (obuf->start_capacity <= (SIZE_MAX >> pos))
		capacity = obuf_grow_capacity(obuf->start_capacity << pos,
					      size);
	if (capacity == 0) {
		diag_set_oom(size, "obuf chunk (size overflow)");
		return -1;
	}
	void *ptr = obuf_cache_take(obuf->cache, capacity);
	if (ptr == NULL)
		ptr = mem_alloc(capacity);
	if (ptr == NULL) {
		diag_set_oom(capacity, "obuf chunk");
		return -1;
	}
	obuf->iov[pos].iov_base = ptr;
	obuf->capacity[pos] = capacity;
	obuf->n_iov++;
	return 0;
}

void *
obuf_reserve_slow(struct obuf *obuf, size_t size)
{
	int pos = obuf->pos;
	if (obuf->iov[pos].iov_len > 0) {
		/* Never split a reservation: continue in the next chunk. */
		if (pos + 1 >= OBUF_IOV_MAX)
			goto err_full;
		pos++;
	}
	/* Every chunk after the write position is empty. */
	assert(obuf->iov[pos].iov_len == 0);
	size_t capacity = obuf->capacity[pos];
	if (capacity == 0) {
		if (obuf_alloc_chunk(obuf, pos, size) != 0)
			return NULL;
	} else if (capacity < size) {
		/*
		 * Allocated (kept after a reset or rollback) but too small,
		 * and empty: nothing to preserve, swap in a bigger block.
		 */
		size_t new_capacity = obuf_grow_capacity(capacity, size);
		if (new_capacity == 0) {
			diag_set_oom(size, "obuf chunk (size overflow)");
			return NULL;
		}
		void *ptr = obuf_cache_take(obuf->cache, new_capacity);
		if (ptr == NULL)
			ptr = mem_alloc(new_capacity);
		if (ptr == NULL) {
			diag_set_oom(new_capacity, "obuf chunk");
			return NULL;
		}
		obuf_cache_put(obuf->cache, obuf->iov[pos].iov_base, capacity);
		obuf->iov[pos].iov_base = ptr;
		obuf->capacity[pos] = new_capacity;
	}
	/* Commit the move only now: a failure above changed nothing. */
	obuf->pos = pos;
	return obuf->iov[pos].iov_base;

err_full:
	diag_set_oom(size, "obuf (all chunks used)");
	return NULL;
}

int
obuf_dup(struct obuf *obuf, const void *data, size_t size)
{
	if (size == 0)
		return 0;
	struct obuf_svp start = obuf_create_svp(obuf);
	const char *src = data;
	size_t left = size;
	for (;;) {
		int pos = obuf->pos;
		struct iovec *iov = &obuf->iov[pos];
		size_t capacity = obuf->capacity[pos];
		size_t room = capacity - iov->iov_len;
		if (left <= room && capacity > 0)
			break;
		if (room > 0) {
			/* Fill the rest of this chunk first. */
			memcpy((char *)iov->iov_base + iov->iov_len, src, room);
			iov->iov_len += room;
			obuf->used += room;
			src += room;
			left -= room;
		} else if (capacity == 0) {
			/* The first unallocated chunk: make it hold it all. */
			if (obuf_alloc_chunk(obuf, pos, left) != 0)
				goto err_rollback;
		} else {
			/* This chunk is full: go on in the next one. */
			if (pos + 1 >= OBUF_IOV_MAX) {
				diag_set_oom(size, "obuf (all chunks used)");
				goto err_rollback;
			}
			obuf->pos = pos + 1;
		}
	}
	struct iovec *iov = &obuf->iov[obuf->pos];
	memcpy((char *)iov->iov_base + iov->iov_len, src, left);
	iov->iov_len += left;
	obuf->used += left;
	return 0;

err_rollback:
	/* No chunk was allocated (the failing allocation was the only one). */
	obuf_rollback_to_svp(obuf, &start);
	return -1;
}

void
obuf_rollback_to_svp(struct obuf *obuf, const struct obuf_svp *svp)
{
	assert(svp->pos < (size_t)OBUF_IOV_MAX);
	assert(svp->used <= obuf->used);
	obuf->pos = (int)svp->pos;
	obuf->iov[svp->pos].iov_len = svp->iov_len;
	obuf->used = svp->used;
	for (int i = obuf->pos + 1; i < obuf->n_iov; i++)
		obuf->iov[i].iov_len = 0;
}

int
obuf_iov_between(const struct obuf *obuf, const struct obuf_svp *begin,
		 const struct obuf_svp *end, struct iovec *iov_out, int max)
{
	assert(begin->used <= end->used && begin->pos <= end->pos);
	int count = 0;
	for (size_t i = begin->pos; i <= end->pos && count < max; i++) {
		size_t from = i == begin->pos ? begin->iov_len : 0;
		size_t to = i == end->pos ? end->iov_len : obuf->iov[i].iov_len;
		if (to <= from)
			continue;
		iov_out[count].iov_base = (char *)obuf->iov[i].iov_base + from;
		iov_out[count].iov_len = to - from;
		count++;
	}
	return count;
}

void
obuf_svp_advance(const struct obuf *obuf, struct obuf_svp *svp,
		 const struct obuf_svp *end, size_t n)
{
	assert(n <= end->used - svp->used);
	for (;;) {
		size_t len = svp->pos == end->pos ? end->iov_len
						  : obuf->iov[svp->pos].iov_len;
		size_t left = len - svp->iov_len;
		if (n < left || svp->pos == end->pos) {
			assert(n <= left);
			svp->iov_len += n;
			svp->used += n;
			return;
		}
		n -= left;
		svp->used += left;
		svp->pos++;
		svp->iov_len = 0;
	}
}
