/*
 * cmsg.c — routes and delivery of cbus messages. See cmsg.h.
 */
#include "cbus/cmsg.h"

#include "cbus/cpipe.h"
#include "trace/trace.h"

void
cmsg_init(struct cmsg *msg, const struct cmsg_hop *route)
{
	msg->route = route;
	msg->hop = route;
	msg->id = trace_is_on ? trace_next_msg_id() : 0;
}

void
cmsg_deliver(struct cmsg *msg)
{
	/* Read before f: f may free the message when this is the last stop. */
	const struct cmsg_hop *hop = msg->hop;
	struct cpipe *next = hop->pipe;
	TRACE("cmsg.hop", TI("msg", msg->id), TI("hop", hop - msg->route),
	      TS("f", hop->name), TI("last", next == NULL));
	hop->f(msg);
	if (next != NULL) {
		msg->hop = hop + 1;
		cpipe_push(next, msg);
	}
}
