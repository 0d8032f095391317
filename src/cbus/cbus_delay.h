/*
 * cbus_delay.h — what-if `delay_message`: one cbus message reaches its
 * endpoint later than it would have, and, a pipe being FIFO, so do the
 * messages flushed behind it in the same pipe.
 *
 * A scenario intervention (scenario.h, "do": "delay_message") names a
 * message by its trace id `msg` and the endpoint it travels `to`; the
 * runner registers it on that endpoint before any cord starts. The first
 * time a pipe hands a batch holding that message to the endpoint at or
 * after `from_ns`, the pipe keeps the batch back for `for_ns` instead:
 *
 *   producer cord: cpipe.push(msg) ... end of iteration: cpipe_flush
 *     -> batch holds a delayed msg: cmsg.delay, the batch is *held*
 *     -> later flushes of this pipe join the held list (nothing overtakes)
 *     -> held_until: one cpipe.flush of everything held, bell if needed
 *   other pipes, to this endpoint or elsewhere, are not held.
 *
 * Delays add up: a held pipe releases at max(held_until, now) + for_ns for
 * each delay that applies, so a message that would have landed behind a
 * held batch lands for_ns after that. Tarantool has no such knob — it is
 * a teaching what-if, like RaftScope's "delay this message"; the picture
 * it gives is of a producer whose flush of that pipe came late. Message
 * ids are the trace's (cmsg.id, trace_next_msg_id), the same on every
 * simulated run up to the moment, so the intervention is reproducible
 * there; `kharon run --mode real` skips such a scenario. That is also why
 * `is_done` needs no lock: on the simulator every cord runs in one thread
 * (on real threads two producers could race on it; nothing registers
 * delays there).
 */
#ifndef KHARON_CBUS_CBUS_DELAY_H
#define KHARON_CBUS_CBUS_DELAY_H

#include <stdbool.h>
#include <stdint.h>

struct cbus_endpoint;
struct cpipe;

/** One delayed message; the caller's memory, alive until the endpoint is. */
struct cbus_delay {
	/** The message's trace id (cmsg.id). */
	uint32_t msg;
	/** Applies to a flush at or after this time (rt_now), ns. */
	uint64_t from_ns;
	/** How much later the batch holding it is handed over, ns. */
	uint64_t for_ns;
	/** Applied already (one shot); set on the producer cord. */
	bool is_done;
	struct cbus_delay *next;
};

/**
 * Keep message `d->msg` back on its way to `ep` (see above). Call before
 * the cords that push to `ep` start; `d` stays the caller's.
 */
void
cbus_endpoint_add_delay(struct cbus_endpoint *ep, struct cbus_delay *d);

/**
 * The slow half of cpipe_flush when the endpoint has delays: hold the
 * staged batch if a delay applies to one of its messages or the pipe
 * already holds batches. Returns true when it held the batch (the pipe's
 * input is then empty), false for an ordinary flush. Producer cord only;
 * O(batch × delays).
 */
bool
cpipe_flush_delayed(struct cpipe *pipe);

/**
 * Hand over what the pipe holds now (cpipe_destroy: nothing is lost) and
 * stop its release timer. Producer cord, or the main thread once every
 * cord has stopped.
 */
void
cpipe_release_held(struct cpipe *pipe);

#endif /* KHARON_CBUS_CBUS_DELAY_H */
