/*
 * cpipe.h — a one-way pipe of cbus messages from a producer cord to a
 * named endpoint, with batching.
 *
 * Pushing is cheap because it touches only the producer's private staging
 * list: no lock, no syscall. The batch is handed over ("flushed") once per
 * loop iteration of the producer — the first push of an iteration schedules
 * a deferred flush, later pushes ride along — or at once when `max_input`
 * messages are staged. A flush splices the whole batch onto the endpoint's
 * queue under its mutex (O(1)) and rings the consumer's doorbell only if
 * that queue was empty: otherwise a wakeup is already on its way and the
 * consumer drains the whole queue anyway.
 *
 *   producer cord                         consumer cord
 *   cpipe_push ─┐
 *   cpipe_push ─┼─ input (no lock)
 *   cpipe_push ─┘
 *   end of iteration: flush ──lock──> endpoint.output ──wakeup──> fetch all,
 *                                                                 deliver each
 *
 * A pipe is FIFO; different pipes are not ordered with each other.
 * Lesson: lessons/en/02-cbus-batching.md.
 */
#ifndef KHARON_CBUS_CPIPE_H
#define KHARON_CBUS_CPIPE_H

#include <limits.h>
#include <stdint.h>

#include "base/list.h"
#include "cbus/cmsg.h"
#include "trace/trace.h"

struct cbus_endpoint;
struct rt_defer;
struct rt_cord;
struct rt_timer;

struct cpipe {
	/** Staged messages; touched only by the producer cord. */
	struct stailq input;
	int n_input;
	/** Flush at once when this many are staged (default INT_MAX). */
	int max_input;
	/** The deferred flush, run at the end of the producer's iteration. */
	struct rt_defer *flush_input;
	struct cbus_endpoint *endpoint;
	/** The endpoint's name, for traces. */
	const char *to;
	struct rt_cord *producer;
	/** Flushes that moved messages, and how many of them woke the consumer. */
	uint64_t n_flush;
	uint64_t n_wakeup;
	/** Messages pushed in the pipe's lifetime. */
	uint64_t n_pushed;
	/**
	 * What-if `delay_message` (cbus_delay.h): flushed batches the pipe
	 * keeps back until `held_until`, in order, and the timer that hands
	 * them over then. Empty / NULL unless a delay applied. Producer only.
	 */
	struct stailq held;
	int n_held;
	uint64_t held_until;
	struct rt_timer *release;
};

/**
 * Connect a pipe from the calling cord (the producer) to the endpoint
 * named `consumer`, which must already exist in the caller's runtime.
 * Returns 0, or -1 + diag (no such endpoint, OOM). Producer cord only.
 */
int
cpipe_create(struct cpipe *pipe, const char *consumer);

/**
 * Flush what is staged (nothing is lost) and detach from the endpoint.
 * Producer cord, or the main thread once every cord has stopped.
 */
void
cpipe_destroy(struct cpipe *pipe);

void
cpipe_set_max_input(struct cpipe *pipe, int max_input);

/** Hand the staged batch to the consumer now. Producer cord only. */
void
cpipe_flush(struct cpipe *pipe);

/**
 * Splice `batch` (n messages, emptied) onto the endpoint's queue under its
 * mutex, ring the consumer if that queue was empty, trace `cpipe.flush`.
 * What cpipe_flush does with the staged input; cbus_delay.c hands a held
 * batch over with it. Producer cord only.
 */
void
cpipe_hand_over(struct cpipe *pipe, struct stailq *batch, int n);

/**
 * Stage `msg` without scheduling a flush (the caller promises a
 * cpipe_flush_input later; iproto does this for everything parsed from one
 * read). Flushes at once when max_input is reached. After this call the
 * message belongs to cbus: the caller must not touch it.
 */
static inline void
cpipe_push_input(struct cpipe *pipe, struct cmsg *msg)
{
	stailq_add_tail(&pipe->input, &msg->fifo);
	pipe->n_input++;
	pipe->n_pushed++;
	TRACE("cpipe.push", TI("msg", msg->id), TS("to", pipe->to),
	      TI("n", pipe->n_input),
	      TS("f", msg->hop->name));
	if (pipe->n_input >= pipe->max_input)
		cpipe_flush(pipe);
}

/** Schedule the flush of what is staged for the end of this iteration. */
void
cpipe_flush_input(struct cpipe *pipe);

/**
 * Send `msg` on its way: stage it and, if it is the first of this
 * iteration's batch, schedule the flush. The message belongs to cbus after
 * the call. Producer cord only; O(1), no lock, no syscall.
 */
static inline void
cpipe_push(struct cpipe *pipe, struct cmsg *msg)
{
	cpipe_push_input(pipe, msg);
	if (pipe->n_input == 1)
		cpipe_flush_input(pipe);
}

#endif /* KHARON_CBUS_CPIPE_H */
