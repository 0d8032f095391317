/*
 * rt_sim.c — the simulated runtime: every cord in the calling OS thread, a
 * virtual nanosecond clock, one event queue, simulated stream sockets.
 *
 * The code above rt.h cannot tell this runtime from rt_thread.c, except that
 * here nothing ever happens by chance: the only source of nondeterminism is
 * a PRNG seeded from rt_sim_opts.seed, so the same program with the same
 * seed executes the same events in the same order, byte for byte. Lessons
 * and golden traces rely on that (DESIGN.md §3; lessons/en/00-scenarios.md
 * explains it to students). The model is Tarantool's
 * test/unit/fakeev.h (a virtual clock and a heap of timers) and fakenet.h
 * (in-memory byte pipes with delay knobs), written anew.
 *
 * One queue, one clock:
 *
 *   heap of (time, seq, event)        seq = a global counter taken at every
 *        │ pop the smallest             scheduling, so equal times keep the
 *        ▼                              order in which they were scheduled
 *   now = time; observer(t, seq, cord, what)
 *   rt_cord_enter(C) ─ callback ─ C's deferred callbacks (LIFO, until none)
 *        ─ rt_cord_enter(NULL)          = one loop iteration of cord C
 *
 * That last step is libev's pending queue in miniature: whatever a callback
 * defers (rt_defer_schedule, rt_sock_feed) runs before the cord "waits"
 * again, which is what makes cbus flush a pipe once per iteration.
 *
 * Every event lives inside the object that owns it (a timer has one, a
 * wakeup one, a socket one for readiness, a connection one per direction
 * plus one for the handshake), and knows its heap slot, so deleting an
 * object takes its event out of the heap in O(log n): no event ever points
 * at freed memory. Heap room is reserved when an object is created, so
 * scheduling itself never allocates and never fails.
 *
 * Events of a cord that has not started yet wait in the cord's "parked"
 * list and are queued again, in order, when it starts; events of a stopped
 * cord are dropped.
 *
 * What the observer sees (rt_sim_set_observer):
 *   "start"   the start function of a cord;
 *   "defer"   deferred callbacks scheduled from outside the cord's iteration;
 *   "wakeup"  an rt_wakeup callback;
 *   "timer"   an rt_timer callback;
 *   "io"      a socket readiness callback (one per ready socket per run);
 *   "net"     a segment, end of stream or reset arriving at a socket;
 *   "accept"  a connection accepted: the accept callback on the chosen cord;
 *   "refused" a connection refused, on the connecting cord.
 *
 * A held cord (rt_sim_hold_cord: busy until T) runs nothing before T: an
 * event of it that comes due earlier is queued again at T, behind the ones
 * that came due before it, so they run at T in the order they came due.
 * Events that are dropped (stopped cord, socket no longer ready) are not
 * shown.
 *
 * The network. A connection is two one-way pipes. A pipe holds the bytes
 * written and not yet read: [rpos, apos) have arrived and are readable,
 * [apos, rpos + len) are in flight, cut into segments of at most `segment`
 * bytes, each with its arrival time
 *
 *     arrival = max(now, link_free_at) + size / bandwidth + latency
 *
 * (link_free_at advances by size / bandwidth when the bandwidth is limited).
 * Arrival times never decrease, so one event per pipe, armed for the head
 * segment, is enough. A writer may have sndbuf + rcvbuf bytes in a pipe;
 * reading makes room. Closing sends end-of-stream behind the data; a reset
 * drops what is in flight and the peer sees ECONNRESET one latency later;
 * writing after the peer's end-of-stream arrived fails with EPIPE.
 *
 * Addresses: one simulated host. A listener is found by its port alone
 * (the host part is kept for names); port 0 binds the next free port from
 * 30000, a connecting socket gets the next local port from 40000.
 *
 * Limits, plainly: sockets still open at rt_delete are leaked (their owner
 * must close them); rt_listener_remove_cord takes effect for connections
 * accepted later, not for handshakes already chosen.
 */
#include "rt/rt.h"
#include "rt/rt_private.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/diag.h"
#include "base/list.h"
#include "base/mem.h"

enum {
	SIM_DEFAULT_LATENCY = 50000,
	SIM_DEFAULT_BUF = 65536,
	SIM_DEFAULT_SEGMENT = 65536,
	SIM_DEFAULT_HOP_LATENCY = 2000,
	SIM_DEFAULT_HOP_JITTER = 1000,
	SIM_FIRST_PORT = 30000,
	SIM_FIRST_EPHEMERAL = 40000,
	SIM_PEER_MAX = 80,
};

/* ------------------------------------------------------------- events */

enum sim_kind {
	SIM_EV_START,
	SIM_EV_DEFER,
	SIM_EV_WAKEUP,
	SIM_EV_TIMER,
	SIM_EV_IO,
	SIM_EV_NET,
	SIM_EV_CONNECT,
};

/** ev->idx when the event is not queued, and when it is parked. */
#define SIM_IDLE UINT32_MAX
#define SIM_PARKED (UINT32_MAX - 1)

/** An event embedded in the object it belongs to. */
struct sim_event {
	/** Slot in the heap, or SIM_IDLE / SIM_PARKED. */
	uint32_t idx;
	enum sim_kind kind;
	/** Link in a not-yet-started cord's parked list. */
	struct rlist park;
};

/** A heap slot: the keys are copied here so comparing touches one array. */
struct sim_slot {
	uint64_t time;
	uint64_t seq;
	struct sim_event *ev;
};

/** Something queued to run at the end of a cord's iteration. */
struct sim_pending {
	struct rlist link;
	bool is_queued;
	void (*run)(struct sim_pending *p);
};

enum sim_cord_state {
	SIM_CORD_NEW,
	SIM_CORD_RUNNING,
	SIM_CORD_STOPPED,
};

struct sim_cord {
	struct rt_cord base;
	enum sim_cord_state state;
	bool is_stop_requested;
	/** The start function has run: events may run now. */
	bool has_begun;
	rt_cb_f start_f;
	void *start_arg;
	struct sim_event start_ev;
	/** Runs the pending list when it was filled from outside the cord. */
	struct sim_event defer_ev;
	/** sim_pending to run at this iteration's end, last scheduled first. */
	struct rlist pending;
	/** Events that fired before the cord started. */
	struct rlist parked;
	/** Virtual time until which the cord is busy (rt_sim_hold_cord). */
	uint64_t busy_until;
	/** Link in sim.cords. */
	struct rlist link;
};

struct sim {
	struct rt base;
	struct rt_sim_opts opts;
	uint64_t now;
	uint64_t seq;
	uint64_t prng;
	/** Min-heap by (time, seq). */
	struct sim_slot *heap;
	uint32_t n_heap;
	uint32_t cap_heap;
	/** Embedded events of live objects: the heap never needs more. */
	uint64_t n_events;
	struct rlist cords;
	struct rlist listeners;
	/** Cords started and not yet stopped. */
	int n_running;
	/** The cord whose iteration is running, or NULL. */
	struct sim_cord *current;
	/** The socket whose readiness callback runs (cleared if it closes). */
	struct rt_sock *io_sock;
	rt_sim_observer_f observer;
	void *observer_arg;
	int next_port;
	int next_ephemeral;
};

static inline struct sim *
sim_of(struct rt *rt)
{
	return (struct sim *)rt;
}

/* --------------------------------------------------------------- heap */

static inline bool
sim_slot_less(const struct sim_slot *a, const struct sim_slot *b)
{
	return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}

static inline void
sim_heap_set(struct sim *sim, uint32_t i, struct sim_slot slot)
{
	sim->heap[i] = slot;
	slot.ev->idx = i;
}

static void
sim_heap_up(struct sim *sim, uint32_t i)
{
	struct sim_slot slot = sim->heap[i];
	while (i > 0) {
		uint32_t parent = (i - 1) / 2;
		if (!sim_slot_less(&slot, &sim->heap[parent]))
			break;
		sim_heap_set(sim, i, sim->heap[parent]);
		i = parent;
	}
	sim_heap_set(sim, i, slot);
}

static void
sim_heap_down(struct sim *sim, uint32_t i)
{
	struct sim_slot slot = sim->heap[i];
	uint32_t n = sim->n_heap;
	for (;;) {
		uint32_t child = 2 * i + 1;
		if (child >= n)
			break;
		if (child + 1 < n && sim_slot_less(&sim->heap[child + 1],
						   &sim->heap[child]))
			child++;
		if (!sim_slot_less(&sim->heap[child], &slot))
			break;
		sim_heap_set(sim, i, sim->heap[child]);
		i = child;
	}
	sim_heap_set(sim, i, slot);
}

/** Make room for `n` more embedded events. -1 + diag on OOM. */
static int
sim_reserve_events(struct sim *sim, uint64_t n)
{
	uint64_t need = sim->n_events + n;
	if (need > sim->cap_heap) {
		uint64_t cap = sim->cap_heap < 64 ? 64 : sim->cap_heap;
		while (cap < need)
			cap *= 2;
		if (cap > UINT32_MAX - 2) {
			diag_set(DIAG_ER_SYSTEM, "SystemError",
				 "too many simulated events");
			return -1;
		}
		struct sim_slot *heap = mem_realloc(sim->heap,
						    cap * sizeof(*heap));
		if (heap == NULL) {
			diag_set_oom(cap * sizeof(*heap), "sim event heap");
			return -1;
		}
		sim->heap = heap;
		sim->cap_heap = (uint32_t)cap;
	}
	sim->n_events = need;
	return 0;
}

static void
sim_event_create(struct sim_event *ev, enum sim_kind kind)
{
	ev->idx = SIM_IDLE;
	ev->kind = kind;
	rlist_create(&ev->park);
}

static inline bool
sim_event_is_queued(const struct sim_event *ev)
{
	return ev->idx != SIM_IDLE;
}

/** Queue `ev` at `time`. It must not be queued already. */
static void
sim_event_schedule(struct sim *sim, struct sim_event *ev, uint64_t time)
{
	uint32_t i = sim->n_heap++;
	sim->heap[i] = (struct sim_slot){ time, ++sim->seq, ev };
	ev->idx = i;
	sim_heap_up(sim, i);
}

/** Take `ev` out of the heap or the parked list, if it is in either. */
static void
sim_event_cancel(struct sim *sim, struct sim_event *ev)
{
	if (ev->idx == SIM_IDLE)
		return;
	if (ev->idx == SIM_PARKED) {
		rlist_del(&ev->park);
		ev->idx = SIM_IDLE;
		return;
	}
	uint32_t i = ev->idx;
	ev->idx = SIM_IDLE;
	uint32_t last = --sim->n_heap;
	if (i == last)
		return;
	sim_heap_set(sim, i, sim->heap[last]);
	if (i > 0 && sim_slot_less(&sim->heap[i], &sim->heap[(i - 1) / 2]))
		sim_heap_up(sim, i);
	else
		sim_heap_down(sim, i);
}

/** Reschedule `ev` at `time` unless it is queued at that time already. */
static void
sim_event_arm(struct sim *sim, struct sim_event *ev, uint64_t time)
{
	if (ev->idx != SIM_IDLE && ev->idx != SIM_PARKED &&
	    sim->heap[ev->idx].time == time)
		return;
	sim_event_cancel(sim, ev);
	sim_event_schedule(sim, ev, time);
}

static void
sim_release_events(struct sim *sim, uint64_t n)
{
	sim->n_events -= n;
}

/* --------------------------------------------------------------- PRNG */

/** splitmix64: tiny, fast, and every seed (even 0) gives a good stream. */
static uint64_t
sim_prng_next(struct sim *sim)
{
	uint64_t z = (sim->prng += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* -------------------------------------------------------- cords, loop */

static void
sim_pending_create(struct sim_pending *p, void (*run)(struct sim_pending *))
{
	rlist_create(&p->link);
	p->is_queued = false;
	p->run = run;
}

static void
sim_pending_cancel(struct sim_pending *p)
{
	if (p->is_queued) {
		rlist_del(&p->link);
		p->is_queued = false;
	}
}

/** Queue `p` for the end of `cord`'s current (or next) iteration. */
static void
sim_pending_add(struct sim *sim, struct sim_cord *cord, struct sim_pending *p)
{
	if (p->is_queued)
		return;
	p->is_queued = true;
	rlist_add_tail(&cord->pending, &p->link);
	if (sim->current != cord && !sim_event_is_queued(&cord->defer_ev))
		sim_event_schedule(sim, &cord->defer_ev, sim->now);
}

static void
sim_iteration_begin(struct sim *sim, struct sim_cord *cord, uint64_t seq,
		    const char *what)
{
	if (sim->observer != NULL)
		sim->observer(sim->observer_arg, sim->now, seq,
			      cord->base.name, what);
	sim->current = cord;
	rt_cord_enter(&cord->base);
}

static void
sim_iteration_end(struct sim *sim, struct sim_cord *cord)
{
	/*
	 * Deferred callbacks, including ones they schedule themselves —
	 * last scheduled first, as libev's pending queue runs them (so the
	 * simulator orders a cpipe flush and a fed socket as real threads do).
	 */
	while (!rlist_empty(&cord->pending)) {
		struct sim_pending *p = container_of(cord->pending.prev,
						     struct sim_pending, link);
		rlist_del(&p->link);
		p->is_queued = false;
		p->run(p);
	}
	/* Anything scheduled from inside is run already. */
	sim_event_cancel(sim, &cord->defer_ev);
	rt_cord_enter(NULL);
	sim->current = NULL;
	if (cord->is_stop_requested && cord->state == SIM_CORD_RUNNING) {
		cord->state = SIM_CORD_STOPPED;
		sim->n_running--;
	}
}

static struct rt_cord *
sim_cord_new(struct rt *rt, const char *name)
{
	struct sim *sim = sim_of(rt);
	if (sim_reserve_events(sim, 2) != 0)
		return NULL;
	struct sim_cord *cord = mem_zalloc(sizeof(*cord));
	if (cord == NULL) {
		sim_release_events(sim, 2);
		diag_set_oom(sizeof(*cord), "sim cord");
		return NULL;
	}
	cord->base.rt = rt;
	snprintf(cord->base.name, sizeof(cord->base.name), "%s", name);
	cord->state = SIM_CORD_NEW;
	sim_event_create(&cord->start_ev, SIM_EV_START);
	sim_event_create(&cord->defer_ev, SIM_EV_DEFER);
	rlist_create(&cord->pending);
	rlist_create(&cord->parked);
	rlist_add_tail(&sim->cords, &cord->link);
	return &cord->base;
}

static int
sim_cord_start(struct rt_cord *base, rt_cb_f f, void *arg)
{
	struct sim_cord *cord = (struct sim_cord *)base;
	struct sim *sim = sim_of(base->rt);
	if (cord->state != SIM_CORD_NEW) {
		diag_set(DIAG_ER_SYSTEM, "IllegalParams",
			 "cord '%s' was started already", base->name);
		return -1;
	}
	cord->state = SIM_CORD_RUNNING;
	cord->start_f = f;
	cord->start_arg = arg;
	sim->n_running++;
	sim_event_schedule(sim, &cord->start_ev, sim->now);
	return 0;
}

static void
sim_cord_stop(struct rt_cord *base)
{
	struct sim_cord *cord = (struct sim_cord *)base;
	struct sim *sim = sim_of(base->rt);
	cord->is_stop_requested = true;
	if (sim->current == cord)
		return; /* sim_iteration_end stops it */
	if (cord->state == SIM_CORD_RUNNING)
		sim->n_running--;
	cord->state = SIM_CORD_STOPPED;
}

/* -------------------------------------------------------------- defer */

struct sim_defer {
	struct rt_defer base;
	struct sim_cord *cord;
	struct sim_pending pending;
	rt_cb_f cb;
	void *arg;
};

static void
sim_defer_run(struct sim_pending *p)
{
	struct sim_defer *d = container_of(p, struct sim_defer, pending);
	d->cb(d->arg);
}

static struct rt_defer *
sim_defer_new(struct rt_cord *cord, rt_cb_f cb, void *arg)
{
	struct sim_defer *d = mem_zalloc(sizeof(*d));
	if (d == NULL) {
		diag_set_oom(sizeof(*d), "sim defer");
		return NULL;
	}
	d->base.rt = cord->rt;
	d->cord = (struct sim_cord *)cord;
	d->cb = cb;
	d->arg = arg;
	sim_pending_create(&d->pending, sim_defer_run);
	return &d->base;
}

static void
sim_defer_schedule(struct rt_defer *base)
{
	struct sim_defer *d = (struct sim_defer *)base;
	sim_pending_add(sim_of(base->rt), d->cord, &d->pending);
}

static void
sim_defer_delete(struct rt_defer *base)
{
	struct sim_defer *d = (struct sim_defer *)base;
	sim_pending_cancel(&d->pending);
	mem_free(d);
}

/* ------------------------------------------------------------- wakeup */

struct sim_wakeup {
	struct rt_wakeup base;
	struct sim_cord *cord;
	struct sim_event ev;
	rt_cb_f cb;
	void *arg;
};

static struct rt_wakeup *
sim_wakeup_new(struct rt_cord *cord, rt_cb_f cb, void *arg)
{
	struct sim *sim = sim_of(cord->rt);
	if (sim_reserve_events(sim, 1) != 0)
		return NULL;
	struct sim_wakeup *w = mem_zalloc(sizeof(*w));
	if (w == NULL) {
		sim_release_events(sim, 1);
		diag_set_oom(sizeof(*w), "sim wakeup");
		return NULL;
	}
	w->base.rt = cord->rt;
	w->cord = (struct sim_cord *)cord;
	w->cb = cb;
	w->arg = arg;
	sim_event_create(&w->ev, SIM_EV_WAKEUP);
	return &w->base;
}

static void
sim_wakeup_send(struct rt_wakeup *base)
{
	struct sim_wakeup *w = (struct sim_wakeup *)base;
	struct sim *sim = sim_of(base->rt);
	if (sim_event_is_queued(&w->ev))
		return; /* coalesce with the ring still on its way */
	uint64_t delay = sim->opts.hop_latency_ns;
	if (sim->opts.hop_jitter_ns > 0)
		delay += sim_prng_next(sim) % (sim->opts.hop_jitter_ns + 1);
	sim_event_schedule(sim, &w->ev, sim->now + delay);
}

static void
sim_wakeup_delete(struct rt_wakeup *base)
{
	struct sim_wakeup *w = (struct sim_wakeup *)base;
	struct sim *sim = sim_of(base->rt);
	sim_event_cancel(sim, &w->ev);
	sim_release_events(sim, 1);
	mem_free(w);
}

/* -------------------------------------------------------------- timer */

struct sim_timer {
	struct rt_timer base;
	struct sim_cord *cord;
	struct sim_event ev;
	rt_cb_f cb;
	void *arg;
};

static struct rt_timer *
sim_timer_new(struct rt_cord *cord, rt_cb_f cb, void *arg)
{
	struct sim *sim = sim_of(cord->rt);
	if (sim_reserve_events(sim, 1) != 0)
		return NULL;
	struct sim_timer *t = mem_zalloc(sizeof(*t));
	if (t == NULL) {
		sim_release_events(sim, 1);
		diag_set_oom(sizeof(*t), "sim timer");
		return NULL;
	}
	t->base.rt = cord->rt;
	t->cord = (struct sim_cord *)cord;
	t->cb = cb;
	t->arg = arg;
	sim_event_create(&t->ev, SIM_EV_TIMER);
	return &t->base;
}

static void
sim_timer_start(struct rt_timer *base, uint64_t after_ns)
{
	struct sim_timer *t = (struct sim_timer *)base;
	struct sim *sim = sim_of(base->rt);
	sim_event_cancel(sim, &t->ev);
	sim_event_schedule(sim, &t->ev, sim->now + after_ns);
}

static void
sim_timer_stop(struct rt_timer *base)
{
	struct sim_timer *t = (struct sim_timer *)base;
	sim_event_cancel(sim_of(base->rt), &t->ev);
}

static bool
sim_timer_is_active(const struct rt_timer *base)
{
	const struct sim_timer *t = (const struct sim_timer *)base;
	return sim_event_is_queued(&t->ev);
}

static void
sim_timer_delete(struct rt_timer *base)
{
	struct sim_timer *t = (struct sim_timer *)base;
	struct sim *sim = sim_of(base->rt);
	sim_event_cancel(sim, &t->ev);
	sim_release_events(sim, 1);
	mem_free(t);
}

/* -------------------------------------------------------------- mutex */

struct sim_mutex {
	struct rt_mutex base;
	bool is_locked;
};

static struct rt_mutex *
sim_mutex_new(struct rt *rt)
{
	struct sim_mutex *m = mem_zalloc(sizeof(*m));
	if (m == NULL) {
		diag_set_oom(sizeof(*m), "sim mutex");
		return NULL;
	}
	m->base.rt = rt;
	return &m->base;
}

/*
 * One cord runs at a time, so a lock can never be contended: locking a
 * locked mutex would deadlock a real program. Abort even without asserts.
 */
static void
sim_mutex_lock(struct rt_mutex *base)
{
	struct sim_mutex *m = (struct sim_mutex *)base;
	if (m->is_locked) {
		fprintf(stderr, "rt_sim: rt_mutex_lock of a locked mutex\n");
		abort();
	}
	m->is_locked = true;
}

static void
sim_mutex_unlock(struct rt_mutex *base)
{
	struct sim_mutex *m = (struct sim_mutex *)base;
	if (!m->is_locked) {
		fprintf(stderr, "rt_sim: rt_mutex_unlock of an unlocked mutex\n");
		abort();
	}
	m->is_locked = false;
}

static void
sim_mutex_delete(struct rt_mutex *base)
{
	mem_free(base);
}

/* ------------------------------------------------------------ network */

struct sim_segment {
	/** Pipe position just past the segment's last byte. */
	uint64_t end;
	uint64_t arrival;
};

struct sim_conn;

/** One direction of a connection: end[dir] writes, end[1 - dir] reads. */
struct sim_pipe {
	struct sim_conn *conn;
	int dir;
	/** Bytes written and not yet read: buf[off, off + len). */
	char *buf;
	size_t off;
	size_t len;
	size_t cap;
	/** Total bytes read, and total bytes arrived (rpos <= apos). */
	uint64_t rpos;
	uint64_t apos;
	/** Segments in flight, FIFO: segs[head, tail). */
	struct sim_segment *segs;
	uint32_t head;
	uint32_t tail;
	uint32_t cap_segs;
	uint64_t link_free_at;
	bool has_fin;
	uint64_t fin_at;
	/** The sender closed with unread input: the end reads as a reset. */
	bool is_fin_reset;
	bool is_eof;
	bool has_rst;
	uint64_t rst_at;
	/** The reading cord: arrivals run there. */
	struct sim_cord *rcv_cord;
	struct sim_event ev;
};

struct sim_sock {
	struct rt_sock base;
	struct sim_cord *cord;
	struct sim_conn *conn;
	/** 0: the connecting side, 1: the accepted side. */
	int side;
	bool is_connected;
	/** Sticky error: ECONNREFUSED or ECONNRESET. */
	int err;
	int watched;
	rt_sock_f cb;
	void *arg;
	struct sim_event io_ev;
	struct sim_pending feed;
	int feed_events;
	char peer[SIM_PEER_MAX];
};

struct sim_conn {
	struct sim *sim;
	struct rt_net_opts net;
	/** end[0] connected, end[1] accepted; NULL once closed. */
	struct sim_sock *end[2];
	/** The accepted side, allocated at connect so accept cannot fail. */
	struct sim_sock *server;
	/** Ends not yet closed (the server end counts once accepted). */
	int n_open;
	int port;
	struct sim_event connect_ev;
	struct sim_pipe pipe[2];
};

struct sim_listener_cord {
	struct sim_cord *cord;
	rt_accept_f cb;
	void *arg;
};

struct sim_listener {
	struct rt_listener base;
	struct rlist link;
	char host[64];
	int port;
	struct sim_listener_cord *cords;
	int n_cords;
	int cap_cords;
	/** Next index to try: round robin. */
	int rr;
};

static void
sim_net_defaults(struct rt_net_opts *net)
{
	if (net->latency_ns == 0)
		net->latency_ns = SIM_DEFAULT_LATENCY;
	if (net->sndbuf == 0)
		net->sndbuf = SIM_DEFAULT_BUF;
	if (net->rcvbuf == 0)
		net->rcvbuf = SIM_DEFAULT_BUF;
	if (net->segment == 0)
		net->segment = SIM_DEFAULT_SEGMENT;
}

static inline uint64_t
sim_pipe_limit(const struct sim_pipe *p)
{
	return (uint64_t)p->conn->net.sndbuf + p->conn->net.rcvbuf;
}

static inline struct sim_pipe *
sim_sock_out(struct sim_sock *s)
{
	return &s->conn->pipe[s->side];
}

static inline struct sim_pipe *
sim_sock_in(struct sim_sock *s)
{
	return &s->conn->pipe[1 - s->side];
}

/** Events ready on `s` now (level). */
static int
sim_sock_ready(struct sim_sock *s)
{
	if (s->err != 0)
		return RT_READ | RT_WRITE;
	if (!s->is_connected)
		return 0;
	struct sim_pipe *in = sim_sock_in(s);
	struct sim_pipe *out = sim_sock_out(s);
	int ready = 0;
	if (in->apos > in->rpos || in->is_eof)
		ready |= RT_READ;
	if (in->is_eof || out->len < sim_pipe_limit(out))
		ready |= RT_WRITE;
	return ready;
}

/** Level trigger: queue the readiness callback if a watched event is ready. */
static void
sim_sock_update(struct sim_sock *s)
{
	if (s == NULL || s->cb == NULL || sim_event_is_queued(&s->io_ev))
		return;
	if ((sim_sock_ready(s) & s->watched) == 0)
		return;
	struct sim *sim = sim_of(s->base.rt);
	sim_event_schedule(sim, &s->io_ev, sim->now);
}

/** Drop `n` bytes from the front of the pipe's buffer. */
static void
sim_pipe_consume(struct sim_pipe *p, size_t n)
{
	p->off += n;
	p->len -= n;
	p->rpos += n;
	if (p->len == 0)
		p->off = 0;
}

/** Queue the pipe's next arrival: its head segment, then FIN, then RST. */
static void
sim_pipe_arm(struct sim *sim, struct sim_pipe *p)
{
	if (p->head < p->tail)
		sim_event_arm(sim, &p->ev, p->segs[p->head].arrival);
	else if (p->has_fin)
		sim_event_arm(sim, &p->ev, p->fin_at);
	else if (p->has_rst)
		sim_event_arm(sim, &p->ev, p->rst_at);
	else
		sim_event_cancel(sim, &p->ev);
}

/** Apply what is due in pipe `p`; runs inside the receiver's iteration. */
static void
sim_pipe_arrive(struct sim *sim, struct sim_pipe *p)
{
	struct sim_conn *conn = p->conn;
	struct sim_sock *rcv = conn->end[1 - p->dir];
	struct sim_sock *snd = conn->end[p->dir];
	if (p->head < p->tail && p->segs[p->head].arrival <= sim->now) {
		p->apos = p->segs[p->head].end;
		if (++p->head == p->tail)
			p->head = p->tail = 0;
		if (rcv == NULL) {
			/* Nobody reads any more: the bytes vanish. */
			sim_pipe_consume(p, (size_t)(p->apos - p->rpos));
			sim_sock_update(snd);
		}
	} else if (p->head == p->tail && p->has_fin &&
		   p->fin_at <= sim->now) {
		p->has_fin = false;
		p->is_eof = true;
	} else if (p->head == p->tail && !p->has_fin && p->has_rst &&
		   p->rst_at <= sim->now) {
		p->has_rst = false;
		if (rcv != NULL) {
			rcv->err = ECONNRESET;
			/* What it had not read is lost, as with a real RST. */
			struct sim_pipe *in = sim_sock_in(rcv);
			in->apos = in->rpos + in->len;
			sim_pipe_consume(in, in->len);
		}
	}
	/* The reader first: it may run between two segments due at once. */
	sim_sock_update(rcv);
	sim_pipe_arm(sim, p);
}

static void
sim_pipe_create(struct sim_pipe *p, struct sim_conn *conn, int dir)
{
	memset(p, 0, sizeof(*p));
	p->conn = conn;
	p->dir = dir;
	sim_event_create(&p->ev, SIM_EV_NET);
}

static void
sim_pipe_destroy(struct sim *sim, struct sim_pipe *p)
{
	sim_event_cancel(sim, &p->ev);
	mem_free(p->buf);
	mem_free(p->segs);
}

/** Make room for `n` more bytes at the end of the buffer. -1 on OOM. */
static int
sim_pipe_reserve(struct sim_pipe *p, size_t n)
{
	if (p->off + p->len + n <= p->cap)
		return 0;
	if (p->off > 0) {
		memmove(p->buf, p->buf + p->off, p->len);
		p->off = 0;
		if (p->len + n <= p->cap)
			return 0;
	}
	size_t cap = p->cap < 4096 ? 4096 : p->cap;
	while (cap < p->len + n)
		cap *= 2;
	char *buf = mem_realloc(p->buf, cap);
	if (buf == NULL) {
		diag_set_oom(cap, "sim socket buffer");
		return -1;
	}
	p->buf = buf;
	p->cap = cap;
	return 0;
}

/** Room for `n` more segments. -1 on OOM. */
static int
sim_pipe_reserve_segs(struct sim_pipe *p, uint64_t n)
{
	if (p->tail + n <= p->cap_segs)
		return 0;
	if (p->head > 0) {
		memmove(p->segs, p->segs + p->head,
			(p->tail - p->head) * sizeof(*p->segs));
		p->tail -= p->head;
		p->head = 0;
		if (p->tail + n <= p->cap_segs)
			return 0;
	}
	uint64_t cap = p->cap_segs < 16 ? 16 : p->cap_segs;
	while (cap < p->tail + n)
		cap *= 2;
	struct sim_segment *segs = mem_realloc(p->segs, cap * sizeof(*segs));
	if (segs == NULL) {
		diag_set_oom(cap * sizeof(*segs), "sim segments");
		return -1;
	}
	p->segs = segs;
	p->cap_segs = (uint32_t)cap;
	return 0;
}

static void
sim_conn_delete(struct sim_conn *conn)
{
	struct sim *sim = conn->sim;
	sim_event_cancel(sim, &conn->connect_ev);
	sim_pipe_destroy(sim, &conn->pipe[0]);
	sim_pipe_destroy(sim, &conn->pipe[1]);
	if (conn->server != NULL) {
		sim_release_events(sim, 1);
		mem_free(conn->server);
	}
	sim_release_events(sim, 3);
	mem_free(conn);
}

static struct sim_sock *
sim_sock_alloc(struct sim *sim, struct sim_conn *conn, int side)
{
	struct sim_sock *s = mem_zalloc(sizeof(*s));
	if (s == NULL) {
		diag_set_oom(sizeof(*s), "sim socket");
		return NULL;
	}
	s->base.rt = &sim->base;
	s->conn = conn;
	s->side = side;
	sim_event_create(&s->io_ev, SIM_EV_IO);
	return s;
}

static void sim_sock_feed_run(struct sim_pending *p);

static struct rt_sock *
sim_connect(struct rt *rt, const char *addr, const struct rt_net_opts *net)
{
	struct sim *sim = sim_of(rt);
	struct sim_cord *cord = sim->current;
	char host[64];
	int port;
	if (cord == NULL) {
		diag_set(DIAG_ER_SYSTEM, "IllegalParams",
			 "rt_connect must be called on a cord");
		return NULL;
	}
	if (rt_parse_addr(addr, host, &port) != 0)
		return NULL;
	/* Connection: handshake + 2 pipes; two sockets: one io event each. */
	if (sim_reserve_events(sim, 5) != 0)
		return NULL;
	struct sim_conn *conn = mem_zalloc(sizeof(*conn));
	if (conn == NULL) {
		diag_set_oom(sizeof(*conn), "sim connection");
		goto err_release;
	}
	struct sim_sock *client = sim_sock_alloc(sim, conn, 0);
	if (client == NULL)
		goto err_free_conn;
	struct sim_sock *server = sim_sock_alloc(sim, conn, 1);
	if (server == NULL)
		goto err_free_client;

	conn->sim = sim;
	conn->net = net != NULL ? *net : sim->opts.net;
	sim_net_defaults(&conn->net);
	conn->port = port;
	conn->n_open = 1;
	conn->end[0] = client;
	conn->server = server;
	sim_event_create(&conn->connect_ev, SIM_EV_CONNECT);
	sim_pipe_create(&conn->pipe[0], conn, 0);
	sim_pipe_create(&conn->pipe[1], conn, 1);
	conn->pipe[1].rcv_cord = cord;

	client->cord = cord;
	sim_pending_create(&client->feed, sim_sock_feed_run);
	sim_pending_create(&server->feed, sim_sock_feed_run);
	int local = sim->next_ephemeral++;
	snprintf(client->peer, sizeof(client->peer), "%s:%d", host, port);
	snprintf(server->peer, sizeof(server->peer), "127.0.0.1:%d", local);
	sim_event_schedule(sim, &conn->connect_ev,
			   sim->now + conn->net.latency_ns);
	return &client->base;

err_free_client:
	mem_free(client);
err_free_conn:
	mem_free(conn);
err_release:
	sim_release_events(sim, 5);
	return NULL;
}

static struct sim_listener *
sim_listener_find(struct sim *sim, int port)
{
	struct rlist *item;
	rlist_foreach(item, &sim->listeners) {
		struct sim_listener *l = container_of(item, struct sim_listener,
						      link);
		if (l->port == port)
			return l;
	}
	return NULL;
}

/**
 * The handshake arrived: pick the accepting cord round robin among running
 * ones. Returns the cord the event runs on and sets *accepted.
 */
static struct sim_cord *
sim_connect_target(struct sim *sim, struct sim_conn *conn,
		   struct sim_listener_cord **accepted)
{
	*accepted = NULL;
	struct sim_listener *l = sim_listener_find(sim, conn->port);
	if (l != NULL) {
		for (int i = 0; i < l->n_cords; i++) {
			int k = (l->rr + i) % l->n_cords;
			if (l->cords[k].cord->state == SIM_CORD_RUNNING) {
				l->rr = (k + 1) % l->n_cords;
				*accepted = &l->cords[k];
				return l->cords[k].cord;
			}
		}
	}
	return conn->end[0]->cord;
}

static void
sim_sock_watch(struct rt_sock *base, int events, rt_sock_f cb, void *arg)
{
	struct sim_sock *s = (struct sim_sock *)base;
	s->watched = events;
	s->cb = cb;
	s->arg = arg;
	if (events == 0)
		sim_event_cancel(sim_of(base->rt), &s->io_ev);
	else
		sim_sock_update(s);
}

static int
sim_sock_watched(const struct rt_sock *base)
{
	return ((const struct sim_sock *)base)->watched;
}

static void
sim_sock_feed_run(struct sim_pending *p)
{
	struct sim_sock *s = container_of(p, struct sim_sock, feed);
	int events = s->feed_events;
	s->feed_events = 0;
	if (s->cb != NULL)
		s->cb(&s->base, events, s->arg);
}

static void
sim_sock_feed(struct rt_sock *base, int events)
{
	struct sim_sock *s = (struct sim_sock *)base;
	s->feed_events |= events;
	sim_pending_add(sim_of(base->rt), s->cord, &s->feed);
}

static ssize_t
sim_sock_read(struct rt_sock *base, void *buf, size_t size)
{
	struct sim_sock *s = (struct sim_sock *)base;
	if (s->err != 0) {
		errno = s->err;
		return -1;
	}
	if (!s->is_connected) {
		errno = EAGAIN;
		return -1;
	}
	struct sim_pipe *in = sim_sock_in(s);
	size_t avail = (size_t)(in->apos - in->rpos);
	if (avail == 0) {
		if (in->is_eof && in->is_fin_reset) {
			s->err = ECONNRESET;
			errno = ECONNRESET;
			return -1;
		}
		if (in->is_eof)
			return 0;
		errno = EAGAIN;
		return -1;
	}
	size_t n = avail < size ? avail : size;
	memcpy(buf, in->buf + in->off, n);
	sim_pipe_consume(in, n);
	/* Room in the peer's window: it may be writable again. */
	sim_sock_update(s->conn->end[1 - s->side]);
	return (ssize_t)n;
}

static ssize_t
sim_sock_writev(struct rt_sock *base, const struct iovec *iov, int iovcnt)
{
	struct sim_sock *s = (struct sim_sock *)base;
	struct sim *sim = sim_of(base->rt);
	if (s->err != 0) {
		errno = s->err;
		return -1;
	}
	if (!s->is_connected) {
		errno = EAGAIN;
		return -1;
	}
	struct sim_pipe *in = sim_sock_in(s);
	struct sim_pipe *out = sim_sock_out(s);
	if (in->is_eof) {
		errno = EPIPE;
		return -1;
	}
	size_t total = 0;
	for (int i = 0; i < iovcnt; i++)
		total += iov[i].iov_len;
	uint64_t limit = sim_pipe_limit(out);
	size_t room = out->len < limit ? (size_t)(limit - out->len) : 0;
	size_t n = total < room ? total : room;
	if (total == 0)
		return 0;
	if (n == 0) {
		errno = EAGAIN;
		return -1;
	}
	uint32_t seg = out->conn->net.segment;
	if (sim_pipe_reserve(out, n) != 0 ||
	    sim_pipe_reserve_segs(out, (n + seg - 1) / seg) != 0) {
		errno = ENOMEM;
		return -1;
	}
	char *dst = out->buf + out->off + out->len;
	size_t left = n;
	for (int i = 0; i < iovcnt && left > 0; i++) {
		size_t k = iov[i].iov_len < left ? iov[i].iov_len : left;
		memcpy(dst, iov[i].iov_base, k);
		dst += k;
		left -= k;
	}
	uint64_t pos = out->rpos + out->len;
	out->len += n;
	const struct rt_net_opts *net = &out->conn->net;
	bool was_idle = out->head == out->tail;
	for (size_t done = 0; done < n;) {
		size_t k = n - done < seg ? n - done : seg;
		uint64_t start = out->link_free_at > sim->now ?
				 out->link_free_at : sim->now;
		if (net->bandwidth > 0) {
			start += ((uint64_t)k * 1000000000ULL +
				  net->bandwidth - 1) / net->bandwidth;
			out->link_free_at = start;
		}
		done += k;
		pos += k;
		out->segs[out->tail++] = (struct sim_segment){
			pos, start + net->latency_ns };
	}
	if (was_idle)
		sim_pipe_arm(sim, out);
	return (ssize_t)n;
}

static void
sim_sock_close(struct rt_sock *base, bool reset)
{
	struct sim_sock *s = (struct sim_sock *)base;
	struct sim *sim = sim_of(base->rt);
	struct sim_conn *conn = s->conn;
	if (sim->io_sock == base)
		sim->io_sock = NULL;
	sim_event_cancel(sim, &s->io_ev);
	sim_pending_cancel(&s->feed);
	conn->end[s->side] = NULL;
	if (s->is_connected && s->err == 0) {
		struct sim_pipe *out = sim_sock_out(s);
		struct sim_pipe *in = sim_sock_in(s);
		/*
		 * Whatever arrived and was not read is gone with us — and, as
		 * Linux does, a close with unread input ends in a reset: the
		 * peer reads what we wrote, then ECONNRESET instead of EOF.
		 */
		bool has_unread = in->apos > in->rpos;
		sim_pipe_consume(in, (size_t)(in->apos - in->rpos));
		if (!reset) {
			uint64_t start = out->link_free_at > sim->now ?
					 out->link_free_at : sim->now;
			out->has_fin = true;
			out->is_fin_reset = has_unread;
			out->fin_at = start + conn->net.latency_ns;
		} else {
			out->head = out->tail = 0;
			out->len = (size_t)(out->apos - out->rpos);
			out->has_rst = true;
			out->rst_at = sim->now + conn->net.latency_ns;
		}
		sim_pipe_arm(sim, out);
	}
	sim_release_events(sim, 1);
	mem_free(s);
	if (--conn->n_open == 0)
		sim_conn_delete(conn);
}

static const char *
sim_sock_peer(const struct rt_sock *base)
{
	return ((const struct sim_sock *)base)->peer;
}

/* ---------------------------------------------------------- listeners */

static struct rt_listener *
sim_listen(struct rt *rt, const char *addr)
{
	struct sim *sim = sim_of(rt);
	char host[64];
	int port;
	if (rt_parse_addr(addr, host, &port) != 0)
		return NULL;
	if (port == 0) {
		port = sim->next_port;
		while (sim_listener_find(sim, port) != NULL)
			port++;
		sim->next_port = port + 1;
	} else if (sim_listener_find(sim, port) != NULL) {
		diag_set(DIAG_ER_SYSTEM, "SocketError",
			 "%s: address already in use", addr);
		return NULL;
	}
	struct sim_listener *l = mem_zalloc(sizeof(*l));
	if (l == NULL) {
		diag_set_oom(sizeof(*l), "sim listener");
		return NULL;
	}
	l->base.rt = rt;
	snprintf(l->host, sizeof(l->host), "%s", host);
	l->port = port;
	rlist_add_tail(&sim->listeners, &l->link);
	return &l->base;
}

static int
sim_listener_port(const struct rt_listener *base)
{
	return ((const struct sim_listener *)base)->port;
}

static int
sim_listener_add_cord(struct rt_listener *base, struct rt_cord *cord,
		      rt_accept_f cb, void *arg)
{
	struct sim_listener *l = (struct sim_listener *)base;
	if (l->n_cords == l->cap_cords) {
		int cap = l->cap_cords == 0 ? 4 : 2 * l->cap_cords;
		struct sim_listener_cord *cords =
			mem_realloc(l->cords, (size_t)cap * sizeof(*cords));
		if (cords == NULL) {
			diag_set_oom((size_t)cap * sizeof(*cords),
				     "sim listener cords");
			return -1;
		}
		l->cords = cords;
		l->cap_cords = cap;
	}
	l->cords[l->n_cords++] = (struct sim_listener_cord){
		(struct sim_cord *)cord, cb, arg };
	return 0;
}

static void
sim_listener_remove_cord(struct rt_listener *base, struct rt_cord *cord)
{
	struct sim_listener *l = (struct sim_listener *)base;
	for (int i = 0; i < l->n_cords; i++) {
		if (&l->cords[i].cord->base != cord)
			continue;
		memmove(&l->cords[i], &l->cords[i + 1],
			(size_t)(l->n_cords - i - 1) * sizeof(*l->cords));
		l->n_cords--;
		if (l->rr > i)
			l->rr--;
		if (l->rr >= l->n_cords)
			l->rr = 0;
		return;
	}
}

static void
sim_listener_delete(struct rt_listener *base)
{
	struct sim_listener *l = (struct sim_listener *)base;
	rlist_del(&l->link);
	mem_free(l->cords);
	mem_free(l);
}

/* ------------------------------------------------------------ running */

/** The cord an event runs on (NULL: drop it) and its observer name. */
static struct sim_cord *
sim_event_cord(struct sim *sim, struct sim_event *ev, const char **what,
	       struct sim_listener_cord **accepted)
{
	switch (ev->kind) {
	case SIM_EV_START:
		*what = "start";
		return container_of(ev, struct sim_cord, start_ev);
	case SIM_EV_DEFER: {
		*what = "defer";
		struct sim_cord *cord = container_of(ev, struct sim_cord,
						     defer_ev);
		/* Deleted meanwhile, or run by an earlier iteration. */
		return rlist_empty(&cord->pending) ? NULL : cord;
	}
	case SIM_EV_WAKEUP:
		*what = "wakeup";
		return container_of(ev, struct sim_wakeup, ev)->cord;
	case SIM_EV_TIMER:
		*what = "timer";
		return container_of(ev, struct sim_timer, ev)->cord;
	case SIM_EV_IO: {
		*what = "io";
		struct sim_sock *s = container_of(ev, struct sim_sock, io_ev);
		if ((sim_sock_ready(s) & s->watched) == 0 || s->cb == NULL)
			return NULL; /* no longer ready: nothing to run */
		return s->cord;
	}
	case SIM_EV_NET: {
		*what = "net";
		struct sim_pipe *p = container_of(ev, struct sim_pipe, ev);
		return p->rcv_cord;
	}
	case SIM_EV_CONNECT: {
		struct sim_conn *c = container_of(ev, struct sim_conn,
						  connect_ev);
		struct sim_cord *cord = sim_connect_target(sim, c, accepted);
		*what = *accepted != NULL ? "accept" : "refused";
		return cord;
	}
	}
	return NULL;
}

/** The body of one iteration for `ev` on `cord`. */
static void
sim_event_run(struct sim *sim, struct sim_event *ev, struct sim_cord *cord,
	      struct sim_listener_cord *accepted)
{
	switch (ev->kind) {
	case SIM_EV_START:
		cord->has_begun = true;
		cord->start_f(cord->start_arg);
		/* What fired before the start runs after it, in order. */
		while (!rlist_empty(&cord->parked)) {
			struct sim_event *p = rlist_first_entry(
				&cord->parked, struct sim_event, park);
			rlist_del(&p->park);
			p->idx = SIM_IDLE;
			sim_event_schedule(sim, p, sim->now);
		}
		break;
	case SIM_EV_DEFER:
		break; /* the pending list runs at the end anyway */
	case SIM_EV_WAKEUP: {
		struct sim_wakeup *w = container_of(ev, struct sim_wakeup, ev);
		w->cb(w->arg);
		break;
	}
	case SIM_EV_TIMER: {
		struct sim_timer *t = container_of(ev, struct sim_timer, ev);
		t->cb(t->arg);
		break;
	}
	case SIM_EV_IO: {
		struct sim_sock *s = container_of(ev, struct sim_sock, io_ev);
		int events = sim_sock_ready(s) & s->watched;
		sim->io_sock = &s->base;
		s->cb(&s->base, events, s->arg);
		if (sim->io_sock == &s->base) {
			sim->io_sock = NULL;
			sim_sock_update(s); /* still ready: once more, later */
		}
		break;
	}
	case SIM_EV_NET:
		sim_pipe_arrive(sim, container_of(ev, struct sim_pipe, ev));
		break;
	case SIM_EV_CONNECT: {
		struct sim_conn *c = container_of(ev, struct sim_conn,
						  connect_ev);
		struct sim_sock *client = c->end[0];
		if (accepted == NULL) {
			client->err = ECONNREFUSED;
			sim_release_events(sim, 1);
			mem_free(c->server);
			c->server = NULL;
			sim_sock_update(client);
			break;
		}
		struct sim_sock *server = c->server;
		c->server = NULL;
		c->end[1] = server;
		c->n_open++;
		server->cord = cord;
		server->is_connected = true;
		c->pipe[0].rcv_cord = cord;
		client->is_connected = true;
		sim_sock_update(client);
		accepted->cb(&server->base, accepted->arg);
		break;
	}
	}
}

/** Pop and run the first event; false when the queue is empty. */
static bool
sim_step_one(struct sim *sim, bool *did_run)
{
	*did_run = false;
	if (sim->n_heap == 0)
		return false;
	struct sim_slot top = sim->heap[0];
	sim_event_cancel(sim, top.ev);
	if (top.time > sim->now)
		sim->now = top.time;
	const char *what = NULL;
	struct sim_listener_cord *accepted = NULL;
	struct sim_cord *cord = sim_event_cord(sim, top.ev, &what, &accepted);
	if (cord == NULL || cord->state == SIM_CORD_STOPPED)
		return true; /* dropped */
	if (!cord->has_begun && top.ev->kind != SIM_EV_START) {
		top.ev->idx = SIM_PARKED;
		rlist_add_tail(&cord->parked, &top.ev->park);
		return true;
	}
	if (cord->busy_until > sim->now) {
		/* Held: later. An accept chose its cord round robin; the
		 * choice is made again when the event runs. */
		if (accepted != NULL) {
			struct sim_conn *c = container_of(top.ev, struct sim_conn,
							  connect_ev);
			struct sim_listener *l = sim_listener_find(sim, c->port);
			l->rr = (l->rr + l->n_cords - 1) % l->n_cords;
		}
		sim_event_schedule(sim, top.ev, cord->busy_until);
		return true;
	}
	sim_iteration_begin(sim, cord, top.seq, what);
	sim_event_run(sim, top.ev, cord, accepted);
	sim_iteration_end(sim, cord);
	*did_run = true;
	return true;
}

bool
rt_sim_step(struct rt *rt)
{
	if (rt->mode != RT_SIM)
		return false;
	struct sim *sim = sim_of(rt);
	bool did_run;
	while (sim_step_one(sim, &did_run)) {
		if (did_run)
			return true;
	}
	return false;
}

uint64_t
rt_sim_run_until(struct rt *rt, uint64_t deadline_ns)
{
	if (rt->mode != RT_SIM)
		return 0;
	struct sim *sim = sim_of(rt);
	uint64_t n = 0;
	bool did_run;
	while (sim->n_heap > 0 && sim->heap[0].time <= deadline_ns) {
		sim_step_one(sim, &did_run);
		n += did_run;
	}
	if (sim->now < deadline_ns)
		sim->now = deadline_ns;
	return n;
}

int
rt_sim_hold_cord(struct rt_cord *base, uint64_t for_ns)
{
	if (base->rt->mode != RT_SIM) {
		diag_set(DIAG_ER_SYSTEM, "IllegalParams", "holding cord '%s' "
			 "busy needs the simulator", base->name);
		return -1;
	}
	struct sim_cord *cord = (struct sim_cord *)base;
	uint64_t until = sim_of(base->rt)->now + for_ns;
	if (until > cord->busy_until)
		cord->busy_until = until;
	return 0;
}

void
rt_sim_set_observer(struct rt *rt, rt_sim_observer_f f, void *arg)
{
	if (rt->mode != RT_SIM)
		return;
	struct sim *sim = sim_of(rt);
	sim->observer = f;
	sim->observer_arg = arg;
}

static int
sim_run(struct rt *rt)
{
	struct sim *sim = sim_of(rt);
	bool did_run;
	while (sim->n_running > 0 && sim_step_one(sim, &did_run))
		;
	return 0;
}

static uint64_t
sim_now(const struct rt *rt)
{
	return ((const struct sim *)rt)->now;
}

static uint64_t
sim_random(struct rt *rt)
{
	return sim_prng_next(sim_of(rt));
}

static void
sim_destroy(struct rt *rt)
{
	struct sim *sim = sim_of(rt);
	while (!rlist_empty(&sim->listeners)) {
		struct sim_listener *l = rlist_first_entry(&sim->listeners,
							   struct sim_listener,
							   link);
		sim_listener_delete(&l->base);
	}
	while (!rlist_empty(&sim->cords)) {
		struct sim_cord *cord = rlist_first_entry(&sim->cords,
							  struct sim_cord,
							  link);
		rlist_del(&cord->link);
		mem_free(cord);
	}
	mem_free(sim->heap);
	mem_free(sim);
}

static const struct rt_vtab sim_vtab = {
	.destroy = sim_destroy,
	.run = sim_run,
	.now = sim_now,
	/* Virtual time is exact and cheap already. */
	.trace_now = sim_now,
	.random = sim_random,
	.cord_new = sim_cord_new,
	.cord_start = sim_cord_start,
	.cord_stop = sim_cord_stop,
	.defer_new = sim_defer_new,
	.defer_schedule = sim_defer_schedule,
	.defer_delete = sim_defer_delete,
	.wakeup_new = sim_wakeup_new,
	.wakeup_send = sim_wakeup_send,
	.wakeup_delete = sim_wakeup_delete,
	.timer_new = sim_timer_new,
	.timer_start = sim_timer_start,
	.timer_stop = sim_timer_stop,
	.timer_is_active = sim_timer_is_active,
	.timer_delete = sim_timer_delete,
	.mutex_new = sim_mutex_new,
	.mutex_lock = sim_mutex_lock,
	.mutex_unlock = sim_mutex_unlock,
	.mutex_delete = sim_mutex_delete,
	.listen = sim_listen,
	.listener_port = sim_listener_port,
	.listener_add_cord = sim_listener_add_cord,
	.listener_remove_cord = sim_listener_remove_cord,
	.listener_delete = sim_listener_delete,
	.connect = sim_connect,
	.sock_watch = sim_sock_watch,
	.sock_watched = sim_sock_watched,
	.sock_feed = sim_sock_feed,
	.sock_read = sim_sock_read,
	.sock_writev = sim_sock_writev,
	.sock_close = sim_sock_close,
	.sock_peer = sim_sock_peer,
};

struct rt *
rt_sim_new(const struct rt_sim_opts *opts)
{
	struct sim *sim = mem_zalloc(sizeof(*sim));
	if (sim == NULL) {
		diag_set_oom(sizeof(*sim), "simulated runtime");
		return NULL;
	}
	sim->base.vtab = &sim_vtab;
	sim->base.mode = RT_SIM;
	if (opts != NULL)
		sim->opts = *opts;
	if (sim->opts.hop_latency_ns == 0)
		sim->opts.hop_latency_ns = SIM_DEFAULT_HOP_LATENCY;
	if (sim->opts.hop_jitter_ns == 0)
		sim->opts.hop_jitter_ns = SIM_DEFAULT_HOP_JITTER;
	sim_net_defaults(&sim->opts.net);
	sim->prng = sim->opts.seed;
	rlist_create(&sim->cords);
	rlist_create(&sim->listeners);
	sim->next_port = SIM_FIRST_PORT;
	sim->next_ephemeral = SIM_FIRST_EPHEMERAL;
	return &sim->base;
}
