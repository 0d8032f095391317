/*
 * cbus_delay.c — what-if `delay_message`: held batches of a cpipe. See
 * cbus_delay.h.
 */
#include "cbus/cbus_delay.h"

#include "base/diag.h"
#include "cbus/cbus_endpoint.h"
#include "cbus/cmsg.h"
#include "cbus/cpipe.h"
#include "rt/rt.h"
#include "trace/trace.h"

void
cbus_endpoint_add_delay(struct cbus_endpoint *ep, struct cbus_delay *d)
{
	d->is_done = false;
	d->next = ep->delays;
	ep->delays = d;
}

static void
cpipe_release_cb(void *arg)
{
	cpipe_release_held(arg);
}

void
cpipe_release_held(struct cpipe *pipe)
{
	if (pipe->release != NULL)
		rt_timer_stop(pipe->release);
	int n = pipe->n_held;
	if (n == 0)
		return;
	pipe->n_held = 0;
	cpipe_hand_over(pipe, &pipe->held, n);
}

bool
cpipe_flush_delayed(struct cpipe *pipe)
{
	uint64_t now = rt_now(rt_cord_rt(pipe->producer));
	uint64_t until = pipe->n_held > 0 && pipe->held_until > now ?
			 pipe->held_until : now;
	bool is_delayed = false;
	struct stailq_entry *e;
	for (e = pipe->input.first; e != NULL; e = e->next) {
		const struct cmsg *msg = container_of(e, struct cmsg, fifo);
		for (struct cbus_delay *d = pipe->endpoint->delays; d != NULL;
		     d = d->next) {
			if (d->is_done || d->msg != msg->id || now < d->from_ns)
				continue;
			if (pipe->release == NULL) {
				pipe->release = rt_timer_new(pipe->producer,
							     cpipe_release_cb,
							     pipe);
				if (pipe->release == NULL) {
					/* No timer (OOM), no delay: on time
					 * rather than never. */
					diag_clear();
					cpipe_release_held(pipe);
					return false;
				}
			}
			d->is_done = true;
			is_delayed = true;
			until += d->for_ns;
			TRACE("cmsg.delay", TI("msg", msg->id),
			      TS("to", pipe->to),
			      TI("n", pipe->n_held + pipe->n_input),
			      TI("for_us", d->for_ns / 1000));
		}
	}
	if (!is_delayed && pipe->n_held == 0)
		return false;
	stailq_concat(&pipe->held, &pipe->input);
	pipe->n_held += pipe->n_input;
	pipe->n_input = 0;
	if (is_delayed) {
		pipe->held_until = until;
		rt_timer_start(pipe->release, until - now);
	}
	return true;
}
