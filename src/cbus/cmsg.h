/*
 * cmsg.h — a cbus message and its route.
 *
 * A cmsg is never allocated on its own: it is the first member of a bigger
 * message (a request, Kharon, a disconnect notice), so sending costs no
 * allocation and a cast gets the outer object back. The message carries its
 * itinerary: a route, an array of hops {f, pipe}. At each stop the receiving
 * cord runs the hop's f, then the message travels on through the hop's pipe;
 * the last hop has pipe NULL and its f may free the message.
 *
 *     sender cord            cord A                     cord B
 *     cpipe_push(to_A) --->  hop[0].f(msg)
 *                            cpipe_push(hop[0].pipe) --> hop[1].f(msg)
 *                                                        (pipe NULL: done)
 *
 * The sender performs the first transfer itself; hop[0].f runs at the first
 * destination. Routes are static const tables next to the functions they
 * name (a per-thread table where pipes are per thread, as with several
 * iproto cords). Lesson: lessons/en/02-cbus-batching.md.
 */
#ifndef KHARON_CBUS_CMSG_H
#define KHARON_CBUS_CMSG_H

#include <stdint.h>

#include "base/list.h"

struct cmsg;
struct cpipe;

typedef void (*cmsg_f)(struct cmsg *msg);

/** One stop of a route. */
struct cmsg_hop {
	/** Runs in the cord that has just received the message. */
	cmsg_f f;
	/** Where the message goes after f returns; NULL after the last stop. */
	struct cpipe *pipe;
	/** f's name, for traces and captions; CMSG_HOP fills it. */
	const char *name;
};

/** A route entry: CMSG_HOP(tx_process_call, &net_pipe). */
#define CMSG_HOP(f, pipe) { (f), (pipe), #f }

struct cmsg {
	/** Link in whichever queue holds the message right now. */
	struct stailq_entry fifo;
	const struct cmsg_hop *route;
	/** The hop whose f runs at the next stop. */
	const struct cmsg_hop *hop;
	/** Trace identity of this trip (0 when tracing is off). */
	uint32_t id;
};

/**
 * Prepare `msg` to travel `route` from its first stop. Call before every
 * trip (a message reused for many trips, like Kharon, is re-initialised).
 */
void
cmsg_init(struct cmsg *msg, const struct cmsg_hop *route);

/**
 * Deliver `msg` at the current stop: remember the next pipe, run the hop's
 * f (which may free the message), then, if there is a next pipe, advance
 * the hop *before* pushing — once pushed, another thread owns the message
 * and this one must not touch it. Consumer side of cbus; any cord.
 */
void
cmsg_deliver(struct cmsg *msg);

#endif /* KHARON_CBUS_CMSG_H */
