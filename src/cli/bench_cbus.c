/*
 * bench_cbus.c — `kharon bench cbus`: how many messages cbus moves between
 * two real cords per second, by batch size.
 *
 * The producer cord p pushes exactly `batch` messages per loop iteration,
 * so each of its flushes carries one batch and rings the consumer at most
 * once. The consumer cord q runs each message's first hop and sends it
 * back; p puts returned messages on a free list. p owns WINDOW batches, so
 * both cords stay busy and a busy consumer needs no wakeup at all (cbus
 * rings only when the queue was empty). Each crossing of a pipe counts as
 * one message. Nothing is allocated while measuring.
 *
 *     p: tick: push x N ──flush──> q: consume x N ──flush──> p: return (free)
 *        next iteration: tick again (a 0 ns timer) while N are free
 *
 * Output, one line per batch size:
 *     cbus_msgs_per_s{batch=N} VALUE
 * followed by a comment line with flushes and wakeups per message.
 *
 * Options are checked before anything starts (exit 2): --seconds a finite
 * number in (0, 3600], --batch a whole number in [1, 2^20]. A failure once
 * cords run (a pipe that cannot be made) stops both cords, frees
 * everything and exits 1.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/diag.h"
#include "base/mem.h"
#include "cbus/cbus.h"
#include "cli/cli.h"
#include "rt/rt.h"

enum {
	WINDOW = 8,
	BENCH_SECONDS_MAX = 3600,
	BENCH_BATCH_MAX = 1 << 20,
};

struct bench_msg {
	struct cmsg base;
	struct bench *bench;
};

struct bench {
	struct rt *rt;
	struct rt_cord *p, *q;
	struct cbus_endpoint p_ep, q_ep;
	struct cpipe p_to_q, q_to_p;
	struct rt_timer *tick;
	struct bench_msg *msgs;
	/** Free messages on p, a stack. */
	struct bench_msg **free;
	int n_free;
	int n_total;
	int batch;
	bool is_starved;
	bool is_done;
	uint64_t deadline;
	uint64_t started;
	uint64_t finished;
	uint64_t n_crossings;
	struct cmsg_hop route[2];
	/** A cord could not set up: both stop; `error` says why. */
	atomic_bool is_failed;
	struct diag error;
};

/** On a cord: setting up failed (diag set); stop both cords. */
static void
bench_fail(struct bench *b)
{
	b->error = *diag_last();
	atomic_store(&b->is_failed, true);
	rt_cord_stop(b->p);
	rt_cord_stop(b->q);
}

/** One loop iteration of p: one batch out, if it is free. */
static void
bench_tick(void *arg)
{
	struct bench *b = arg;
	if (b->n_free < b->batch) {
		b->is_starved = true;
		return;
	}
	for (int i = 0; i < b->batch; i++) {
		struct bench_msg *m = b->free[--b->n_free];
		cmsg_init(&m->base, b->route);
		cpipe_push(&b->p_to_q, &m->base);
	}
	if (rt_now(b->rt) < b->deadline)
		rt_timer_start(b->tick, 0);
	else
		b->is_done = true;
}

/** On q: the first hop; cbus sends it back through q_to_p. */
static void
bench_consume(struct cmsg *m)
{
	((struct bench_msg *)m)->bench->n_crossings++;
}

/** On p: the message is home. */
static void
bench_return(struct cmsg *m)
{
	struct bench *b = ((struct bench_msg *)m)->bench;
	b->n_crossings++;
	b->free[b->n_free++] = (struct bench_msg *)m;
	if (b->is_done) {
		if (b->n_free == b->n_total) {
			b->finished = rt_now(b->rt);
			rt_cord_stop(b->p);
			rt_cord_stop(b->q);
		}
		return;
	}
	if (b->is_starved && b->n_free >= b->batch) {
		b->is_starved = false;
		rt_timer_start(b->tick, 0);
	}
}

static void
bench_q_start(void *arg)
{
	struct bench *b = arg;
	if (cpipe_create(&b->q_to_p, "p") != 0)
		bench_fail(b);
}

static void
bench_p_start(void *arg)
{
	struct bench *b = arg;
	if (cpipe_create(&b->p_to_q, "q") != 0) {
		bench_fail(b);
		return;
	}
	b->started = rt_now(b->rt);
	bench_tick(b);
}

/** Free what exists of `b`; its cords have stopped or never started. */
static void
bench_free(struct bench *b)
{
	if (b->tick != NULL)
		rt_timer_delete(b->tick);
	if (b->p_to_q.endpoint != NULL)
		cpipe_destroy(&b->p_to_q);
	if (b->q_to_p.endpoint != NULL)
		cpipe_destroy(&b->q_to_p);
	if (b->p_ep.mutex != NULL)
		cbus_endpoint_destroy(&b->p_ep);
	if (b->q_ep.mutex != NULL)
		cbus_endpoint_destroy(&b->q_ep);
	if (b->rt != NULL)
		rt_delete(b->rt);
	mem_free(b->msgs);
	mem_free(b->free);
}

/** One measurement; returns messages per second or -1. */
static double
bench_cbus_run(int batch, double seconds, double *flushes_per_msg,
	       double *wakeups_per_msg)
{
	struct bench b;
	memset(&b, 0, sizeof(b));
	atomic_init(&b.is_failed, false);
	bool is_started = false;
	double rate;
	b.batch = batch;
	b.route[0] = (struct cmsg_hop)CMSG_HOP(bench_consume, &b.q_to_p);
	b.route[1] = (struct cmsg_hop)CMSG_HOP(bench_return, NULL);
	b.n_total = batch * WINDOW;
	b.msgs = mem_zalloc(sizeof(*b.msgs) * (size_t)b.n_total);
	b.free = mem_zalloc(sizeof(*b.free) * (size_t)b.n_total);
	b.rt = rt_thread_new();
	if (b.msgs == NULL || b.free == NULL || b.rt == NULL)
		goto fail;
	for (int i = 0; i < b.n_total; i++) {
		b.msgs[i].bench = &b;
		b.free[b.n_free++] = &b.msgs[i];
	}
	b.p = rt_cord_new(b.rt, "p");
	b.q = rt_cord_new(b.rt, "q");
	if (b.p == NULL || b.q == NULL ||
	    (b.tick = rt_timer_new(b.p, bench_tick, &b)) == NULL ||
	    cbus_endpoint_create(&b.p_ep, "p", b.p, NULL, NULL) != 0 ||
	    cbus_endpoint_create(&b.q_ep, "q", b.q, NULL, NULL) != 0)
		goto fail;
	/* seconds is in (0, BENCH_SECONDS_MAX]: the product fits. */
	b.deadline = rt_now(b.rt) + (uint64_t)(seconds * 1e9);
	/* q's pipe must exist before p's first batch comes back. */
	if (rt_cord_start(b.q, bench_q_start, &b) != 0)
		goto fail;
	is_started = true;
	while (__atomic_load_n(&b.q_to_p.flush_input, __ATOMIC_ACQUIRE) ==
	       NULL && !atomic_load(&b.is_failed))
		;
	if (atomic_load(&b.is_failed) ||
	    rt_cord_start(b.p, bench_p_start, &b) != 0)
		goto fail;
	rt_run(b.rt);
	if (atomic_load(&b.is_failed))
		goto fail;
	uint64_t flushes = b.p_to_q.n_flush + b.q_to_p.n_flush;
	uint64_t wakeups = b.p_to_q.n_wakeup + b.q_to_p.n_wakeup;
	double elapsed = (double)(b.finished - b.started) / 1e9;
	*flushes_per_msg = (double)flushes / (double)b.n_crossings;
	*wakeups_per_msg = (double)wakeups / (double)b.n_crossings;
	rate = (double)b.n_crossings / elapsed;
	bench_free(&b);
	return rate;
fail:
	if (atomic_load(&b.is_failed))
		*diag_last() = b.error;
	fprintf(stderr, "kharon bench cbus: %s\n", diag_msg());
	if (is_started) {
		/* Whatever runs must stop before anything is freed. */
		rt_cord_stop(b.q);
		rt_cord_stop(b.p);
		rt_run(b.rt);
	}
	bench_free(&b);
	return -1;
}

/** A finite number of seconds in (0, BENCH_SECONDS_MAX], or -1. */
static double
bench_parse_seconds(const char *text)
{
	char *end;
	errno = 0;
	double v = strtod(text, &end);
	if (*text == '\0' || *end != '\0' || errno == ERANGE ||
	    !(v > 0 && v <= BENCH_SECONDS_MAX))
		return -1;
	return v;
}

/** A batch size in [1, BENCH_BATCH_MAX], or -1. */
static int
bench_parse_batch(const char *text)
{
	char *end;
	errno = 0;
	long v = strtol(text, &end, 10);
	if (*text == '\0' || *end != '\0' || errno == ERANGE || v < 1 ||
	    v > BENCH_BATCH_MAX)
		return -1;
	return (int)v;
}

int
bench_cbus(int argc, char **argv)
{
	static const char usage[] =
		"usage: kharon bench cbus [--seconds S] [--batch N]...\n";
	if (argc == 1 && strcmp(argv[0], "--help") == 0) {
		fputs(usage, stdout);
		return CLI_OK;
	}
	double seconds = 1.0;
	int batches[16];
	int n_batches = 0;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
			if ((seconds = bench_parse_seconds(argv[++i])) < 0) {
				fprintf(stderr, "kharon bench cbus: bad "
					"--seconds %s: want a number > 0 and "
					"<= %d\n", argv[i], BENCH_SECONDS_MAX);
				return CLI_USAGE;
			}
		} else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc &&
			   n_batches < 16) {
			int n = bench_parse_batch(argv[++i]);
			if (n < 0) {
				fprintf(stderr, "kharon bench cbus: bad --batch "
					"%s: want 1..%d\n", argv[i],
					BENCH_BATCH_MAX);
				return CLI_USAGE;
			}
			batches[n_batches++] = n;
		} else {
			fputs(usage, stderr);
			return CLI_USAGE;
		}
	}
	if (n_batches == 0) {
		batches[0] = 1;
		batches[1] = 16;
		batches[2] = 256;
		n_batches = 3;
	}
	for (int i = 0; i < n_batches; i++) {
		double fpm, wpm;
		double rate = bench_cbus_run(batches[i], seconds, &fpm, &wpm);
		if (rate < 0)
			return CLI_FAILED;
		printf("cbus_msgs_per_s{batch=%d} %.0f\n", batches[i], rate);
		printf("# batch=%d flushes_per_msg=%.4f wakeups_per_msg=%.4f\n",
		       batches[i], fpm, wpm);
		fflush(stdout);
	}
	return CLI_OK;
}
