/*
 * mem.c — malloc with a failure hook and a live-block counter. See mem.h.
 *
 * The live-block count is kept per thread: one shared atomic counter,
 * bumped by the network cord and TX at every allocation and free, bounced
 * its cache line between the two cores (a profile showed mem_free at 10 %
 * of TX's samples under 1 KiB pushes). Each thread now counts in a cell of
 * its own, on its own cache line, with a plain load and store (it is the
 * cell's only writer); mem_live() sums the cells. A thread that ends hands
 * its cell back (mem_thread_exit, called by the runtime's cord threads):
 * its count moves to `mem_retired` and the cell is reused by the next
 * thread. Cells of threads that never call it (the main thread, a test's
 * own threads) stay theirs. Cells are malloc'ed raw, never counted, kept
 * for the life of the process.
 */
#include "base/mem.h"

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct mem_cell {
	alignas(64) atomic_llong live;
	struct mem_cell *next;
	bool is_used;
};

/** Every cell ever made, used or free; guarded by mem_cells_lock. */
static struct mem_cell *mem_cells;
static atomic_flag mem_cells_lock = ATOMIC_FLAG_INIT;
/** Counts of cells handed back; guarded by mem_cells_lock. */
static long long mem_retired;
static _Thread_local struct mem_cell *mem_cell_self;

static void
mem_cells_acquire(void)
{
	while (atomic_flag_test_and_set_explicit(&mem_cells_lock,
						 memory_order_acquire))
		;
}

static void
mem_cells_release(void)
{
	atomic_flag_clear_explicit(&mem_cells_lock, memory_order_release);
}

/** This thread's cell, claimed (or made) on its first allocation. */
static struct mem_cell *
mem_cell_slow(void)
{
	mem_cells_acquire();
	struct mem_cell *c = mem_cells;
	while (c != NULL && c->is_used)
		c = c->next;
	if (c == NULL) {
		c = aligned_alloc(64, sizeof(*c));
		if (c == NULL)
			abort(); /* 64 bytes once per thread: nothing to do */
		atomic_init(&c->live, 0);
		c->next = mem_cells;
		mem_cells = c;
	}
	c->is_used = true;
	mem_cells_release();
	mem_cell_self = c;
	return c;
}

/** Add `d` to this thread's count: it is the cell's only writer. */
static inline void
mem_count(long long d)
{
	struct mem_cell *c = mem_cell_self;
	if (__builtin_expect(c == NULL, 0))
		c = mem_cell_slow();
	atomic_store_explicit(&c->live, atomic_load_explicit(
		&c->live, memory_order_relaxed) + d, memory_order_relaxed);
}

void
mem_thread_exit(void)
{
	struct mem_cell *c = mem_cell_self;
	if (c == NULL)
		return;
	mem_cells_acquire();
	mem_retired += atomic_load_explicit(&c->live, memory_order_relaxed);
	atomic_store_explicit(&c->live, 0, memory_order_relaxed);
	c->is_used = false;
	mem_cells_release();
	mem_cell_self = NULL;
}
/** Allocations left before the next failure; <= 0 means no injection. */
static atomic_llong mem_fail_countdown;
static atomic_int mem_fail_sticky;
static atomic_llong mem_failed;

static int
mem_should_fail(void)
{
	if (atomic_load_explicit(&mem_fail_countdown, memory_order_relaxed) <= 0)
		return 0;
	long long left = atomic_fetch_sub(&mem_fail_countdown, 1) - 1;
	if (left == 0) {
		if (atomic_load(&mem_fail_sticky))
			atomic_store(&mem_fail_countdown, 1);
		atomic_fetch_add(&mem_failed, 1);
		return 1;
	}
	if (left < 0) {
		/* Lost a race with another allocating thread: put it back. */
		atomic_store(&mem_fail_countdown, 0);
	}
	return 0;
}

void *
mem_alloc(size_t size)
{
	if (mem_should_fail())
		return NULL;
	void *p = malloc(size == 0 ? 1 : size);
	if (p != NULL)
		mem_count(1);
	return p;
}

void *
mem_zalloc(size_t size)
{
	if (mem_should_fail())
		return NULL;
	void *p = calloc(1, size == 0 ? 1 : size);
	if (p != NULL)
		mem_count(1);
	return p;
}

void *
mem_zalloc_aligned(size_t align, size_t size)
{
	if (mem_should_fail())
		return NULL;
	/* C11's aligned_alloc wants a size that is a multiple of align. */
	size_t rounded = (size + align - 1) & ~(align - 1);
	void *p = aligned_alloc(align, rounded == 0 ? align : rounded);
	if (p == NULL)
		return NULL;
	memset(p, 0, rounded);
	mem_count(1);
	return p;
}

void *
mem_realloc(void *ptr, size_t size)
{
	if (ptr == NULL)
		return mem_alloc(size);
	if (mem_should_fail())
		return NULL;
	return realloc(ptr, size == 0 ? 1 : size);
}

void
mem_free(void *ptr)
{
	if (ptr == NULL)
		return;
	mem_count(-1);
	free(ptr);
}

void
mem_fail_after(int64_t n, int sticky)
{
	atomic_store(&mem_failed, 0);
	atomic_store(&mem_fail_sticky, sticky);
	atomic_store(&mem_fail_countdown, n);
}

void
mem_fail_reset(void)
{
	atomic_store(&mem_fail_countdown, 0);
	atomic_store(&mem_fail_sticky, 0);
}

int64_t
mem_fail_count(void)
{
	return atomic_load(&mem_failed);
}

int64_t
mem_live(void)
{
	mem_cells_acquire();
	long long n = mem_retired;
	for (struct mem_cell *c = mem_cells; c != NULL; c = c->next)
		n += atomic_load_explicit(&c->live, memory_order_relaxed);
	mem_cells_release();
	return n;
}
