/*
 * rt.h — the runtime contract: cords, their loops, time and sockets.
 *
 * Tarantool calls a thread with its own event loop a *cord*. Everything in
 * kharon above this layer (cbus, iproto, box, client) is written against this
 * header only, so the same code runs two ways (DESIGN.md §3):
 *
 *   rt_thread.c  one pthread + one libev loop per cord, real TCP, real time;
 *   rt_sim.c     every cord in the calling OS thread, a virtual nanosecond
 *                clock, an event queue ordered by (time, sequence number),
 *                simulated stream sockets, and a seeded PRNG as the only
 *                source of nondeterminism: same code + same seed = the same
 *                order of every event, byte for byte.
 *
 * The objects and the one guarantee each gives:
 *
 *   struct rt          a runtime instance: its cords, clock, network, PRNG.
 *   struct rt_cord     a loop that runs callbacks one at a time. Every
 *                      callback of an object created "on a cord" runs on
 *                      that cord and never concurrently with another
 *                      callback of the same cord.
 *   struct rt_defer    "run this at the end of the current loop iteration"
 *                      (libev's ev_feed_event): cbus uses it to flush a
 *                      cpipe once per iteration, however many pushes.
 *   struct rt_wakeup   a cross-cord doorbell (ev_async): any thread rings,
 *                      the owner cord's callback runs; rings that arrive
 *                      before the callback runs coalesce into one run.
 *   struct rt_timer    a one-shot timer on a cord.
 *   struct rt_mutex    a mutex (a real one on threads; on the simulator, where
 *                      only one cord runs at a time, a checked no-op).
 *   struct rt_sock     a non-blocking stream socket owned by one cord, with
 *                      level-triggered readiness callbacks like libev's ev_io.
 *   struct rt_listener a listening address; any number of cords may accept
 *                      on it (iproto_threads = N), a connection stays on the
 *                      cord that accepted it.
 *
 * Threading rules, unless a function says otherwise: call it on the cord that
 * owns the object. Objects may also be created on a cord from another thread
 * *before* that cord is started (this is how endpoints are set up before any
 * loop runs). rt_wakeup_send(), rt_cord_stop() and the rt_mutex functions may
 * be called from any thread.
 *
 * Errors: functions that can fail return -1 / NULL and set diag (base/diag.h).
 * Socket I/O follows read(2)/writev(2): -1 with errno = EAGAIN when it would
 * block, other errno values (ECONNRESET, EPIPE, ECONNREFUSED) for failures.
 */
#ifndef KHARON_RT_RT_H
#define KHARON_RT_RT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

struct rt;
struct rt_cord;
struct rt_defer;
struct rt_wakeup;
struct rt_timer;
struct rt_mutex;
struct rt_sock;
struct rt_listener;

/** A callback with the argument it was registered with. */
typedef void (*rt_cb_f)(void *arg);

enum rt_mode {
	RT_THREAD,
	RT_SIM,
};

/* ------------------------------------------------------------ network */

/**
 * The simulated network of one connection (both directions alike). Ignored
 * by the thread runtime, where the kernel decides. Zero fields take the
 * defaults below.
 */
struct rt_net_opts {
	/** One-way delay of a segment, ns. Default 50 000 (50 us). */
	uint64_t latency_ns;
	/** Link speed, bytes per second; 0 = unlimited. Default 0. */
	uint64_t bandwidth;
	/**
	 * Bytes a writer may have outstanding (sent but not yet read by the
	 * peer) — the sum of its send and the peer's receive buffer. A writev
	 * that does not fit is partial, then EAGAIN. Default 65 536 + 65 536.
	 */
	uint32_t sndbuf;
	uint32_t rcvbuf;
	/** Largest segment delivered at once (MSS). Default 65 536. */
	uint32_t segment;
};

/** Options of a simulated runtime. Zero fields take the defaults. */
struct rt_sim_opts {
	/** Seeds the PRNG, the only source of nondeterminism. */
	uint64_t seed;
	/** Delay between rt_wakeup_send and the callback. Default 2 000 ns. */
	uint64_t hop_latency_ns;
	/** Uniform random extra delay [0, jitter] per wakeup. Default 1 000. */
	uint64_t hop_jitter_ns;
	/** The network of connections made with rt_connect(..., NULL). */
	struct rt_net_opts net;
};

/* ------------------------------------------------------------ runtime */

/** A runtime of real threads. NULL + diag on failure. */
struct rt *
rt_thread_new(void);

/**
 * Run `f(arg)` on a new plain thread: no cord, no loop (the trace pump's
 * writer thread, trace_pump.h, which may not depend on rt). *thread is
 * the handle for rt_thread_join(). Returns 0, or -1 (diag set). Any
 * thread.
 */
int
rt_thread_spawn(void **thread, void (*f)(void *arg), void *arg);

/** Wait for a thread of rt_thread_spawn() to return, and free its handle. */
void
rt_thread_join(void *thread);

/**
 * The clock real-thread cords stamp trace events with (rt_thread.c: the
 * TSC calibrated to CLOCK_MONOTONIC ns, else CLOCK_MONOTONIC), readable
 * from any thread — the trace pump's writer merges cords by it. ns.
 */
uint64_t
rt_trace_clock(void);

/** A simulated runtime; `opts` may be NULL. NULL + diag on failure. */
struct rt *
rt_sim_new(const struct rt_sim_opts *opts);

/**
 * Free the runtime and its cords. Every cord must have stopped (rt_run has
 * returned) and every object created on them must have been deleted by its
 * owner. Main thread only.
 */
void
rt_delete(struct rt *rt);

enum rt_mode
rt_mode(const struct rt *rt);

/**
 * Run until every started cord has stopped. Threads: join them. Simulator:
 * execute events in (time, seq) order in the calling thread until every
 * cord has stopped or no event is left (the system is idle). Main thread
 * only. Returns 0, or -1 + diag when a cord could not be started.
 */
int
rt_run(struct rt *rt);

/**
 * Simulator only: execute events with time <= `deadline_ns`, then set the
 * clock to the deadline if it is later. Returns the number of events run.
 * Lets a test drive the system in steps and look at it in between.
 */
uint64_t
rt_sim_run_until(struct rt *rt, uint64_t deadline_ns);

/** Simulator only: execute the next event, if any. Returns false if idle. */
bool
rt_sim_step(struct rt *rt);

/**
 * Simulator only: the callback running now on `cord` keeps it busy for
 * `for_ns` of virtual time (a long Lua procedure, a slow disk write): every
 * other event of the cord (wakeups, timers, readiness, arrivals, deferred
 * callbacks, accepts) waits until now + for_ns and then runs in the order
 * it came due. What-if `hold_cord` (scenario.h). Returns 0, or -1 + diag on
 * real threads, where only real work can hold a thread.
 */
int
rt_sim_hold_cord(struct rt_cord *cord, uint64_t for_ns);

/**
 * Simulator only: called for every event just before it runs, with the
 * event's time, its sequence number, the cord's name and what it is
 * ("start", "defer", "wakeup", "timer", "io", "net"). Tests record this to
 * prove two runs with one seed are identical. NULL removes it.
 */
typedef void (*rt_sim_observer_f)(void *arg, uint64_t t, uint64_t seq,
				  const char *cord, const char *what);
void
rt_sim_set_observer(struct rt *rt, rt_sim_observer_f f, void *arg);

/**
 * Now, in ns: CLOCK_MONOTONIC on threads, virtual time (from 0) on the
 * simulator. Any thread.
 */
uint64_t
rt_now(const struct rt *rt);

/**
 * 64 random bits. Simulator: from the seeded PRNG (deterministic); threads:
 * a per-thread generator seeded from the OS. Any thread.
 */
uint64_t
rt_random(struct rt *rt);

/* --------------------------------------------------------------- cords */

/**
 * Create a cord, not yet running. `name` (copied, up to 15 characters) is
 * what traces show: "tx", "net0", "client3". Main thread only.
 */
struct rt_cord *
rt_cord_new(struct rt *rt, const char *name);

/**
 * Start the cord: `f(arg)` runs on it first, then its loop runs until
 * rt_cord_stop(). Main thread only. Returns -1 + diag if the thread cannot
 * be created.
 */
int
rt_cord_start(struct rt_cord *cord, rt_cb_f f, void *arg);

/**
 * Ask the cord's loop to exit after the current iteration. Any thread. What
 * is still scheduled on the cord (timers, sockets, deferred callbacks) is
 * not run; its owner must delete those objects after rt_run() returns.
 */
void
rt_cord_stop(struct rt_cord *cord);

/** The cord the calling code runs on, or NULL outside any cord. */
struct rt_cord *
rt_cord_current(void);

const char *
rt_cord_name(const struct rt_cord *cord);

struct rt *
rt_cord_rt(const struct rt_cord *cord);

/* -------------------------------------------------------------- defer */

/** A deferred callback bound to `cord`. NULL + diag on OOM. */
struct rt_defer *
rt_defer_new(struct rt_cord *cord, rt_cb_f cb, void *arg);

/**
 * Run the callback once at the end of the current loop iteration of its
 * cord, before the cord waits for events again. Scheduling it again before
 * it ran does nothing. Several deferred callbacks run last-scheduled first
 * (libev's pending queue), so one scheduled from a deferred callback runs
 * right after it; both runtimes keep this order. Owner cord only.
 */
void
rt_defer_schedule(struct rt_defer *d);

void
rt_defer_delete(struct rt_defer *d);

/* ------------------------------------------------------------- wakeup */

/** A doorbell that runs `cb(arg)` on `cord`. NULL + diag on OOM. */
struct rt_wakeup *
rt_wakeup_new(struct rt_cord *cord, rt_cb_f cb, void *arg);

/**
 * Ring: the callback will run on the owner cord (on the simulator after the
 * hop latency plus jitter). Rings made before the callback starts coalesce
 * into one run. Any thread; never blocks; cannot fail.
 */
void
rt_wakeup_send(struct rt_wakeup *w);

void
rt_wakeup_delete(struct rt_wakeup *w);

/* -------------------------------------------------------------- timer */

struct rt_timer *
rt_timer_new(struct rt_cord *cord, rt_cb_f cb, void *arg);

/** (Re)arm: the callback runs once, `after_ns` from now. */
void
rt_timer_start(struct rt_timer *t, uint64_t after_ns);

void
rt_timer_stop(struct rt_timer *t);

bool
rt_timer_is_active(const struct rt_timer *t);

void
rt_timer_delete(struct rt_timer *t);

/* -------------------------------------------------------------- mutex */

struct rt_mutex *
rt_mutex_new(struct rt *rt);

void
rt_mutex_lock(struct rt_mutex *m);

void
rt_mutex_unlock(struct rt_mutex *m);

void
rt_mutex_delete(struct rt_mutex *m);

/* ------------------------------------------------------------- sockets */

enum {
	RT_READ = 1,
	RT_WRITE = 2,
};

/** Called on the socket's cord with the events that are ready. */
typedef void (*rt_sock_f)(struct rt_sock *s, int events, void *arg);

/** Called on the accepting cord with a new connected socket it now owns. */
typedef void (*rt_accept_f)(struct rt_sock *s, void *arg);

/**
 * Listen on "host:port" (port 0 picks a free one, see rt_listener_port).
 * Binds at once; nobody accepts until a cord calls rt_listener_add_cord.
 * Main thread or any cord. NULL + diag on failure.
 */
struct rt_listener *
rt_listen(struct rt *rt, const char *addr);

/** The port actually bound. */
int
rt_listener_port(const struct rt_listener *l);

/**
 * Accept connections on `cord`: `cb(sock, arg)` runs there for each. With
 * several cords, each connection goes to one of them (threads: whichever
 * the kernel wakes; simulator: round robin in the order cords were added).
 * Call on `cord`, or before it starts.
 */
int
rt_listener_add_cord(struct rt_listener *l, struct rt_cord *cord,
		     rt_accept_f cb, void *arg);

/** Stop accepting on the calling cord. */
void
rt_listener_remove_cord(struct rt_listener *l, struct rt_cord *cord);

/** Close the listening socket; every cord must have been removed. */
void
rt_listener_delete(struct rt_listener *l);

/**
 * Connect the calling cord to "host:port", without blocking. The socket
 * becomes writable once connected; a refused connection shows as
 * ECONNREFUSED on the first read or write. `net` (simulator only) gives
 * this connection's network, NULL for the runtime's default.
 * NULL + diag on failure.
 */
struct rt_sock *
rt_connect(struct rt *rt, const char *addr, const struct rt_net_opts *net);

/**
 * Set the readiness callback and which events to watch (RT_READ | RT_WRITE;
 * 0 stops watching). Level-triggered: the callback runs in every loop
 * iteration while a watched event is ready.
 */
void
rt_sock_watch(struct rt_sock *s, int events, rt_sock_f cb, void *arg);

/** The events currently watched. */
int
rt_sock_watched(const struct rt_sock *s);

/**
 * Run the callback with `events` at the end of this loop iteration, ready
 * or not (libev's ev_feed_event on an ev_io; iproto uses it to "try
 * reading now").
 */
void
rt_sock_feed(struct rt_sock *s, int events);

/** Like read(2): > 0 bytes read, 0 at end of stream, -1 + errno. */
ssize_t
rt_sock_read(struct rt_sock *s, void *buf, size_t size);

/** Like writev(2): bytes accepted (maybe fewer than asked), -1 + errno. */
ssize_t
rt_sock_writev(struct rt_sock *s, const struct iovec *iov, int iovcnt);

/**
 * Close: the peer reads what was already written, then end of stream —
 * unless input arrived that was never read: then, as Linux does, the peer
 * reads what was written and then gets ECONNRESET instead of the end.
 * With `reset`, pending data is dropped and the peer gets ECONNRESET.
 * Frees `s`.
 */
void
rt_sock_close(struct rt_sock *s, bool reset);

/** A readable "ip:port" of the peer, for logs and traces. */
const char *
rt_sock_peer(const struct rt_sock *s);

#endif /* KHARON_RT_RT_H */
