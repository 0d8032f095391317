/*
 * cpipe.c — the producer side of cbus: staging, the deferred flush, the
 * splice onto the endpoint and the doorbell. See cpipe.h.
 */
#include "cbus/cpipe.h"

#include <stdbool.h>

#include "base/diag.h"
#include "cbus/cbus_delay.h"
#include "cbus/cbus_endpoint.h"
#include "rt/rt.h"

static void
cpipe_flush_cb(void *arg)
{
	cpipe_flush(arg);
}

int
cpipe_create(struct cpipe *pipe, const char *consumer)
{
	struct rt_cord *cord = rt_cord_current();
	if (cord == NULL) {
		diag_set(DIAG_ER_SYSTEM, "IllegalParams",
			 "cpipe_create('%s') outside a cord", consumer);
		return -1;
	}
	struct cbus_endpoint *ep = cbus_endpoint_find(rt_cord_rt(cord), consumer);
	if (ep == NULL) {
		diag_set(DIAG_ER_SYSTEM, "IllegalParams",
			 "no cbus endpoint '%s'", consumer);
		return -1;
	}
	stailq_create(&pipe->input);
	pipe->n_input = 0;
	pipe->max_input = INT_MAX;
	pipe->endpoint = ep;
	pipe->to = ep->name;
	pipe->producer = cord;
	pipe->n_flush = pipe->n_wakeup = pipe->n_pushed = 0;
	stailq_create(&pipe->held);
	pipe->n_held = 0;
	pipe->held_until = 0;
	pipe->release = NULL;
	pipe->flush_input = rt_defer_new(cord, cpipe_flush_cb, pipe);
	if (pipe->flush_input == NULL)
		return -1;
	rt_mutex_lock(ep->mutex);
	ep->n_pipes++;
	rt_mutex_unlock(ep->mutex);
	return 0;
}

void
cpipe_destroy(struct cpipe *pipe)
{
	/*
	 * Nothing is lost: what a what-if delay holds, then what is staged,
	 * handed over as it is (a delay must not hold it past the pipe).
	 */
	cpipe_release_held(pipe);
	int n = pipe->n_input;
	if (n > 0) {
		pipe->n_input = 0;
		cpipe_hand_over(pipe, &pipe->input, n);
	}
	struct cbus_endpoint *ep = pipe->endpoint;
	rt_mutex_lock(ep->mutex);
	ep->n_pipes--;
	/*
	 * Ring while still holding the lock: once it is released the
	 * consumer may see n_pipes == 0 and destroy the endpoint, doorbell
	 * included (Tarantool's cpipe_destroy does the same).
	 */
	rt_wakeup_send(ep->wakeup);
	rt_mutex_unlock(ep->mutex);
	rt_defer_delete(pipe->flush_input);
	pipe->flush_input = NULL;
	if (pipe->release != NULL)
		rt_timer_delete(pipe->release);
	pipe->release = NULL;
	pipe->endpoint = NULL;
}

void
cpipe_set_max_input(struct cpipe *pipe, int max_input)
{
	pipe->max_input = max_input > 0 ? max_input : 1;
}

void
cpipe_flush_input(struct cpipe *pipe)
{
	if (pipe->n_input == 0)
		return;
	if (pipe->n_input < pipe->max_input)
		rt_defer_schedule(pipe->flush_input);
	else
		cpipe_flush(pipe);
}

void
cpipe_flush(struct cpipe *pipe)
{
	int n = pipe->n_input;
	if (n == 0)
		return;
	/* What if: a delay_message may keep this batch back (cbus_delay.h). */
	if (pipe->endpoint->delays != NULL && cpipe_flush_delayed(pipe))
		return;
	pipe->n_input = 0;
	cpipe_hand_over(pipe, &pipe->input, n);
}

void
cpipe_hand_over(struct cpipe *pipe, struct stailq *batch, int n)
{
	struct cbus_endpoint *ep = pipe->endpoint;
	rt_mutex_lock(ep->mutex);
	bool was_empty = stailq_empty(&ep->output);
	stailq_concat(&ep->output, batch);
	ep->n_output += n;
	rt_mutex_unlock(ep->mutex);
	pipe->n_flush++;
	/*
	 * A non-empty queue means a wakeup is already on its way and the
	 * consumer drains everything it finds: no need to ring again. The
	 * endpoint cannot go away here: this pipe is still attached.
	 */
	if (was_empty) {
		pipe->n_wakeup++;
		rt_wakeup_send(ep->wakeup);
	}
	TRACE("cpipe.flush", TS("to", pipe->to), TI("n", n),
	      TI("wakeup", was_empty));
}
