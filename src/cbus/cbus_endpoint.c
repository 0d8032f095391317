/*
 * cbus_endpoint.c — named consumer queues and their registry. See
 * cbus_endpoint.h.
 */
#include "cbus/cbus_endpoint.h"

#include <stdatomic.h>
#include <string.h>

#include "base/diag.h"
#include "cbus/cmsg.h"
#include "rt/rt.h"
#include "trace/trace.h"

/*
 * The registry of every endpoint of every runtime in the process. Touched
 * only at set-up and teardown, so a spin lock is enough.
 */
static struct rlist cbus_registry = { &cbus_registry, &cbus_registry };
static atomic_flag cbus_registry_lock = ATOMIC_FLAG_INIT;

static void
cbus_registry_enter(void)
{
	while (atomic_flag_test_and_set_explicit(&cbus_registry_lock,
						 memory_order_acquire))
		;
}

static void
cbus_registry_leave(void)
{
	atomic_flag_clear_explicit(&cbus_registry_lock, memory_order_release);
}

static struct cbus_endpoint *
cbus_registry_find(struct rt *rt, const char *name)
{
	struct rlist *item;
	rlist_foreach(item, &cbus_registry) {
		struct cbus_endpoint *ep =
			container_of(item, struct cbus_endpoint, in_registry);
		if (rt_cord_rt(ep->consumer) == rt && strcmp(ep->name, name) == 0)
			return ep;
	}
	return NULL;
}

/** Tarantool's cbus_find_endpoint, without its wait for the endpoint. */
struct cbus_endpoint *
cbus_endpoint_find(struct rt *rt, const char *name)
{
	cbus_registry_enter();
	struct cbus_endpoint *ep = cbus_registry_find(rt, name);
	cbus_registry_leave();
	return ep;
}

/**
 * The doorbell rang: run the consumer's fetch callback. A network cord's
 * endpoint has none and delivers right here; Tarantool's "net" endpoint
 * wakes the iproto cord's main fiber instead, which runs cbus_loop.
 */
static void
cbus_endpoint_on_wakeup(void *arg)
{
	struct cbus_endpoint *ep = arg;
	if (ep->fetch_cb != NULL)
		ep->fetch_cb(ep, ep->fetch_arg);
	else
		cbus_process(ep);
}

int
cbus_endpoint_create(struct cbus_endpoint *ep, const char *name,
		     struct rt_cord *consumer, cbus_fetch_f fetch_cb, void *arg)
{
	if (strlen(name) >= sizeof(ep->name)) {
		diag_set(DIAG_ER_SYSTEM, "IllegalParams",
			 "endpoint name '%s' is too long", name);
		return -1;
	}
	memset(ep, 0, sizeof(*ep));
	strcpy(ep->name, name);
	ep->consumer = consumer;
	ep->fetch_cb = fetch_cb;
	ep->fetch_arg = arg;
	stailq_create(&ep->output);
	rlist_create(&ep->in_registry);
	struct rt *rt = rt_cord_rt(consumer);
	ep->mutex = rt_mutex_new(rt);
	if (ep->mutex == NULL)
		return -1;
	ep->wakeup = rt_wakeup_new(consumer, cbus_endpoint_on_wakeup, ep);
	if (ep->wakeup == NULL)
		goto err_free_mutex;
	cbus_registry_enter();
	if (cbus_registry_find(rt, name) != NULL) {
		cbus_registry_leave();
		diag_set(DIAG_ER_SYSTEM, "IllegalParams",
			 "endpoint '%s' already exists", name);
		goto err_free_wakeup;
	}
	rlist_add_tail(&cbus_registry, &ep->in_registry);
	cbus_registry_leave();
	return 0;

err_free_wakeup:
	rt_wakeup_delete(ep->wakeup);
err_free_mutex:
	rt_mutex_delete(ep->mutex);
	return -1;
}

int
cbus_endpoint_destroy(struct cbus_endpoint *ep)
{
	rt_mutex_lock(ep->mutex);
	int n_pipes = ep->n_pipes;
	rt_mutex_unlock(ep->mutex);
	if (n_pipes != 0) {
		diag_set(DIAG_ER_SYSTEM, "IllegalParams",
			 "endpoint '%s' still has %d pipes", ep->name, n_pipes);
		return -1;
	}
	/* No producer is left: what is queued is all there will be. */
	cbus_process(ep);
	cbus_registry_enter();
	rlist_del(&ep->in_registry);
	cbus_registry_leave();
	rt_wakeup_delete(ep->wakeup);
	rt_mutex_delete(ep->mutex);
	ep->wakeup = NULL;
	ep->mutex = NULL;
	return 0;
}

int
cbus_endpoint_fetch(struct cbus_endpoint *ep, struct stailq *out)
{
	struct stailq batch;
	stailq_create(&batch);
	rt_mutex_lock(ep->mutex);
	stailq_concat(&batch, &ep->output);
	int n = ep->n_output;
	ep->n_output = 0;
	rt_mutex_unlock(ep->mutex);
	stailq_concat(out, &batch);
	if (n > 0) {
		ep->n_fetch++;
		ep->n_fetched += (uint64_t)n;
	}
	TRACE("cbus.fetch", TS("ep", ep->name), TI("n", n));
	return n;
}

void
cbus_process(struct cbus_endpoint *ep)
{
	struct stailq batch;
	stailq_create(&batch);
	cbus_endpoint_fetch(ep, &batch);
	struct stailq_entry *e;
	while ((e = stailq_shift(&batch)) != NULL)
		cmsg_deliver(container_of(e, struct cmsg, fifo));
}
