/*
 * trace_ring.c — creating and freeing a trace ring; the producer and
 * consumer halves are inline in trace_ring.h.
 */
#include "trace/trace_ring.h"

#include <string.h>

#include "base/diag.h"
#include "base/mem.h"

int
trace_ring_create(struct trace_ring *r, size_t size)
{
	memset(r, 0, sizeof(*r));
	if (size < 64 || (size & (size - 1)) != 0) {
		diag_set(DIAG_ER_UNKNOWN, "TraceError",
			 "trace ring size %zu is not a power of two >= 64",
			 size);
		return -1;
	}
	r->data = mem_alloc(size);
	if (r->data == NULL) {
		diag_set_oom(size, "trace ring");
		return -1;
	}
	r->size = size;
	r->mask = size - 1;
	atomic_init(&r->head, 0);
	atomic_init(&r->tail, 0);
	return 0;
}

void
trace_ring_destroy(struct trace_ring *r)
{
	mem_free(r->data);
	r->data = NULL;
}
