/*
 * mem.c — malloc with a failure hook and a live-block counter. See mem.h.
 */
#include "base/mem.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static atomic_llong mem_live_count;
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
		atomic_fetch_add_explicit(&mem_live_count, 1, memory_order_relaxed);
	return p;
}

void *
mem_zalloc(size_t size)
{
	if (mem_should_fail())
		return NULL;
	void *p = calloc(1, size == 0 ? 1 : size);
	if (p != NULL)
		atomic_fetch_add_explicit(&mem_live_count, 1, memory_order_relaxed);
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
	atomic_fetch_add_explicit(&mem_live_count, 1, memory_order_relaxed);
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
	atomic_fetch_sub_explicit(&mem_live_count, 1, memory_order_relaxed);
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
	return atomic_load(&mem_live_count);
}
