/*
 * mem.h — the one allocator every kharon module uses, with a fault hook.
 *
 * Tarantool allocates connection and buffer memory from slab caches; kharon
 * keeps it simple with malloc, but routes every allocation through here so
 * tests can (1) make the Nth allocation from now fail, the way SQLite's and
 * Lua's malloc tests do, and (2) count live blocks to prove that an error
 * path leaked nothing. Any thread may allocate: the failure countdown is
 * atomic, the live count is kept per thread and summed when read.
 *
 * mem_alloc/mem_realloc return NULL on failure and do NOT set diag: the
 * caller knows what it was allocating and says so (diag_set_oom).
 */
#ifndef KHARON_BASE_MEM_H
#define KHARON_BASE_MEM_H

#include <stddef.h>
#include <stdint.h>

void *
mem_alloc(size_t size);

/** Like calloc(1, size). */
void *
mem_zalloc(size_t size);

/**
 * Like mem_zalloc, the block aligned to `align` (a power of two): for
 * objects with a cache-line-aligned member (struct iproto_connection). Freed
 * with mem_free.
 */
void *
mem_zalloc_aligned(size_t align, size_t size);

/** Like realloc; on failure the old block is untouched and still owned. */
void *
mem_realloc(void *ptr, size_t size);

void
mem_free(void *ptr);

/**
 * Make the `n`th allocation from now fail (n = 1: the very next one), and
 * every one after it until mem_fail_reset() when `sticky`; 0 disables.
 */
void
mem_fail_after(int64_t n, int sticky);

void
mem_fail_reset(void);

/** Allocations made to fail since the last mem_fail_after(). */
int64_t
mem_fail_count(void);

/**
 * Blocks allocated and not yet freed (process-wide): the sum of every
 * thread's count, exact once the threads that allocated are stopped or
 * joined (a running thread's latest changes may not be seen yet). Cost:
 * O(threads that ever allocated at once).
 */
int64_t
mem_live(void);

/**
 * The calling thread ends: fold its count into the process total and free
 * its counter for the next thread. The runtime's cord threads call it as
 * they return; a thread may allocate again after it (a new cell is taken).
 */
void
mem_thread_exit(void);

#endif /* KHARON_BASE_MEM_H */
