/*
 * ibuf.c — the slow half of the input buffer: compaction and growth.
 * See ibuf.h for the picture and the contract.
 */
#include "buf/ibuf.h"

#include <stdint.h>
#include <string.h>

#include "base/diag.h"
#include "base/mem.h"

void
ibuf_create(struct ibuf *ibuf, size_t start_capacity)
{
	assert(start_capacity > 0);
	ibuf->buf = ibuf->rpos = ibuf->wpos = ibuf->end = NULL;
	ibuf->start_capacity = start_capacity;
	ibuf->last_move = IBUF_MOVE_NONE;
	ibuf->n_compact = 0;
	ibuf->n_grow = 0;
}

void
ibuf_destroy(struct ibuf *ibuf)
{
	mem_free(ibuf->buf);
	ibuf->buf = ibuf->rpos = ibuf->wpos = ibuf->end = NULL;
}

void
ibuf_reinit(struct ibuf *ibuf)
{
	ibuf_destroy(ibuf);
	ibuf->last_move = IBUF_MOVE_NONE;
}

/*
 * The growth rule is small's: start from max(start_capacity, 2 * capacity)
 * and keep doubling until used + size fits. Doubling keeps the number of
 * copies logarithmic in the final size; start_capacity as the floor means a
 * freshly created buffer gets its full readahead at once.
 */
void *
ibuf_reserve_slow(struct ibuf *ibuf, size_t size)
{
	size_t used = ibuf_used(ibuf);
	size_t capacity = ibuf_capacity(ibuf);
	if (size > SIZE_MAX - used)
		goto err_too_big;
	size_t need = used + size;

	if (ibuf->buf != NULL && need <= capacity) {
		/*
		 * Enough room in total, it is just behind rpos: slide the
		 * data down over the consumed garbage.
		 */
		memmove(ibuf->buf, ibuf->rpos, used);
		ibuf->last_move = IBUF_MOVE_COMPACT;
		ibuf->n_compact++;
	} else {
		size_t new_capacity = capacity <= SIZE_MAX / 2 ? capacity * 2
							       : SIZE_MAX;
		if (new_capacity < ibuf->start_capacity)
			new_capacity = ibuf->start_capacity;
		while (new_capacity < need) {
			if (new_capacity > SIZE_MAX / 2)
				goto err_too_big;
			new_capacity *= 2;
		}
		/* Allocate before touching anything: failure changes nothing. */
		char *ptr = mem_alloc(new_capacity);
		if (ptr == NULL) {
			diag_set_oom(new_capacity, "ibuf");
			return NULL;
		}
		if (used > 0)
			memcpy(ptr, ibuf->rpos, used);
		mem_free(ibuf->buf);
		ibuf->buf = ptr;
		ibuf->end = ptr + new_capacity;
		ibuf->last_move = IBUF_MOVE_GROW;
		ibuf->n_grow++;
	}
	ibuf->rpos = ibuf->buf;
	ibuf->wpos = ibuf->buf + used;
	return ibuf->wpos;

err_too_big:
	diag_set_oom(size, "ibuf (size overflow)");
	return NULL;
}

const char *
ibuf_move_name(enum ibuf_move move)
{
	switch (move) {
	case IBUF_MOVE_NONE:
		return "none";
	case IBUF_MOVE_COMPACT:
		return "compact";
	case IBUF_MOVE_GROW:
		return "grow";
	}
	return "?";
}
