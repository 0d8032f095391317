/*
 * cbus_endpoint.h — the receiving end of cbus pipes: a named queue owned by
 * one consumer cord.
 *
 * Producers splice batches onto `output` under the mutex and ring the
 * doorbell when it was empty; the consumer, woken, takes the whole queue
 * under the mutex in one step (cbus_endpoint_fetch) and delivers the
 * messages outside the lock. One lock per batch on each side, never one
 * per message. Endpoints are found by name within a runtime, as Tarantool's
 * "tx" and "net" are.
 *
 * Set-up order: create every endpoint (main thread, before the cords
 * start, or on the consumer cord), then the producers create their pipes.
 */
#ifndef KHARON_CBUS_CBUS_ENDPOINT_H
#define KHARON_CBUS_CBUS_ENDPOINT_H

#include <stdint.h>

#include "base/list.h"

struct rt;
struct rt_cord;
struct rt_mutex;
struct rt_wakeup;
struct cbus_endpoint;
struct cbus_delay;

enum { CBUS_ENDPOINT_NAME_MAX = 16 };

/**
 * What runs on the consumer cord when the doorbell rings. NULL in
 * cbus_endpoint_create means cbus_process: deliver everything queued.
 * A custom one (TX's task pool) calls cbus_endpoint_fetch itself.
 */
typedef void (*cbus_fetch_f)(struct cbus_endpoint *ep, void *arg);

struct cbus_endpoint {
	char name[CBUS_ENDPOINT_NAME_MAX];
	struct rt_cord *consumer;
	/** Guards `output` and `n_pipes`. */
	struct rt_mutex *mutex;
	struct stailq output;
	/**
	 * Messages in `output`, kept by the flushes that splice them in (each
	 * knows its count), so a fetch need not walk the list to count.
	 */
	int n_output;
	struct rt_wakeup *wakeup;
	cbus_fetch_f fetch_cb;
	void *fetch_arg;
	/** Pipes attached. */
	int n_pipes;
	/** Link in the registry of endpoints. */
	struct rlist in_registry;
	/** Fetches that got messages, and messages fetched (consumer only). */
	uint64_t n_fetch;
	uint64_t n_fetched;
	/**
	 * What-if `delay_message`: messages to keep back on their way here
	 * (cbus_delay.h), NULL: none — then a flush costs one more branch.
	 * Set before the producers' cords start, read-only after.
	 */
	struct cbus_delay *delays;
};

/**
 * Create an endpoint named `name` (unique within the runtime) consumed by
 * `consumer`. Returns 0, or -1 + diag (duplicate name, OOM).
 */
int
cbus_endpoint_create(struct cbus_endpoint *ep, const char *name,
		     struct rt_cord *consumer, cbus_fetch_f fetch_cb, void *arg);

/**
 * Deliver what is still queued, then unregister and free. Returns -1 +
 * diag (and changes nothing) while pipes are still attached. Consumer cord
 * (or the main thread once every cord has stopped).
 */
int
cbus_endpoint_destroy(struct cbus_endpoint *ep);

/** The endpoint named `name` in runtime `rt`, or NULL. Any thread. */
struct cbus_endpoint *
cbus_endpoint_find(struct rt *rt, const char *name);

/**
 * Move every queued message to the tail of `out` under the mutex (one lock
 * for the whole batch). Returns how many. Consumer cord only.
 */
int
cbus_endpoint_fetch(struct cbus_endpoint *ep, struct stailq *out);

/** Fetch everything and cmsg_deliver each message in order. */
void
cbus_process(struct cbus_endpoint *ep);

#endif /* KHARON_CBUS_CBUS_ENDPOINT_H */
