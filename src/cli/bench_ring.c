/*
 * bench_ring.c — `kharon bench ring`: the physical limit cbus is measured
 * against. Two cords, the same two threads as `kharon bench cbus`, pass
 * message pointers through two single-producer single-consumer rings (p to
 * q, and back) with nothing else: no staging list, no mutex, no wakeup —
 * both cords spin. Each crossing of a ring counts as one message, as each
 * crossing of a pipe does in bench cbus, so cbus's figure divided by this
 * one says how much of the hardware's limit cbus's batching reaches.
 *
 *   ring_msgs_per_s VALUE
 */
#include <stdalign.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/diag.h"
#include "cli/cli.h"
#include "rt/rt.h"

enum { RING_SIZE = 4096, RING_WINDOW = 2048 };

/** Single producer, single consumer; indices grow, masked on use. */
struct ring {
	alignas(64) atomic_size_t head; /* written by the consumer */
	alignas(64) atomic_size_t tail; /* written by the producer */
	alignas(64) void *slot[RING_SIZE];
};

/**
 * Append up to `n` of `v` (as many as there is room for) with ONE publish
 * of the tail: the ring's best case, a batch per cache-line transfer.
 */
static int
ring_push_n(struct ring *r, void **v, int n)
{
	size_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
	size_t room = RING_SIZE - (t - atomic_load_explicit(
		&r->head, memory_order_acquire));
	int k = (size_t)n < room ? n : (int)room;
	for (int i = 0; i < k; i++)
		r->slot[(t + (size_t)i) & (RING_SIZE - 1)] = v[i];
	atomic_store_explicit(&r->tail, t + (size_t)k, memory_order_release);
	return k;
}

/** Take everything there is (at most `max`), with one publish of the head. */
static int
ring_pop_n(struct ring *r, void **v, int max)
{
	size_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
	size_t avail = atomic_load_explicit(&r->tail, memory_order_acquire) - h;
	int k = avail < (size_t)max ? (int)avail : max;
	for (int i = 0; i < k; i++)
		v[i] = r->slot[(h + (size_t)i) & (RING_SIZE - 1)];
	atomic_store_explicit(&r->head, h + (size_t)k, memory_order_release);
	return k;
}

struct ring_bench {
	struct rt *rt;
	struct ring to_q, to_p;
	uint64_t run_ns;
	atomic_bool is_done;
	uint64_t n_crossings;
	uint64_t started, finished;
	char msgs[RING_WINDOW];
};

/* q: pass back everything that comes, until p says it is done. */
static void
ring_q_f(void *arg)
{
	struct ring_bench *b = arg;
	void *batch[RING_WINDOW];
	while (!atomic_load_explicit(&b->is_done, memory_order_relaxed)) {
		int n = ring_pop_n(&b->to_q, batch, RING_WINDOW);
		for (int sent = 0; sent < n;)
			sent += ring_push_n(&b->to_p, batch + sent, n - sent);
	}
	rt_cord_stop(rt_cord_current());
}

/* p: keep RING_WINDOW messages travelling for the run's time. */
static void
ring_p_f(void *arg)
{
	struct ring_bench *b = arg;
	void *free_msgs[RING_WINDOW];
	int n_free = RING_WINDOW;
	for (int i = 0; i < RING_WINDOW; i++)
		free_msgs[i] = &b->msgs[i];
	uint64_t n = 0;
	b->started = rt_now(b->rt);
	uint64_t deadline = b->started + b->run_ns;
	for (uint64_t i = 0;; i++) {
		int k = ring_push_n(&b->to_q, free_msgs, n_free);
		/* The last k left: move the rest down. */
		memmove(free_msgs, free_msgs + k,
			sizeof(free_msgs[0]) * (size_t)(n_free - k));
		n_free -= k;
		n += (uint64_t)k;
		k = ring_pop_n(&b->to_p, free_msgs + n_free,
			       RING_WINDOW - n_free);
		n_free += k;
		n += (uint64_t)k;
		if ((i & 255) == 0 && rt_now(b->rt) >= deadline)
			break;
	}
	b->finished = rt_now(b->rt);
	b->n_crossings = n;
	atomic_store(&b->is_done, true);
	rt_cord_stop(rt_cord_current());
}

int
bench_ring(int argc, char **argv)
{
	static const char usage_text[] =
		"usage: kharon bench ring [--seconds S]\n";
	if (argc == 1 && strcmp(argv[0], "--help") == 0) {
		fputs(usage_text, stdout);
		return CLI_OK;
	}
	double seconds = 1;
	for (int i = 0; i < argc; i += 2) {
		char *end;
		if (i + 1 >= argc || strcmp(argv[i], "--seconds") != 0)
			goto usage;
		seconds = strtod(argv[i + 1], &end);
		if (*end != '\0' || !(seconds > 0) || seconds > 3600)
			goto usage;
	}
	struct ring_bench *b = aligned_alloc(64, sizeof(*b));
	if (b == NULL) {
		fprintf(stderr, "kharon bench ring: out of memory\n");
		return CLI_FAILED;
	}
	memset(b, 0, sizeof(*b));
	atomic_init(&b->is_done, false);
	b->run_ns = (uint64_t)(seconds * 1e9);
	b->rt = rt_thread_new();
	struct rt_cord *p = b->rt != NULL ? rt_cord_new(b->rt, "p") : NULL;
	struct rt_cord *q = p != NULL ? rt_cord_new(b->rt, "q") : NULL;
	if (q == NULL || rt_cord_start(q, ring_q_f, b) != 0 ||
	    rt_cord_start(p, ring_p_f, b) != 0) {
		fprintf(stderr, "kharon bench ring: %s\n", diag_msg());
		if (q != NULL) {
			atomic_store(&b->is_done, true);
			rt_run(b->rt);
		}
		if (b->rt != NULL)
			rt_delete(b->rt);
		free(b);
		return CLI_FAILED;
	}
	rt_run(b->rt);
	rt_delete(b->rt);
	printf("ring_msgs_per_s %.0f\n", (double)b->n_crossings * 1e9 /
	       (double)(b->finished - b->started + 1));
	free(b);
	return CLI_OK;
usage:
	fputs(usage_text, stderr);
	return CLI_USAGE;
}
