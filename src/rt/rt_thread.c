/*
 * rt_thread.c — the real runtime: one pthread + one libev loop per cord,
 * real non-blocking TCP, CLOCK_MONOTONIC time.
 *
 * Every rt.h object maps onto one libev watcher in its cord's loop, the way
 * Tarantool's cords are built (DESIGN.md §3):
 *
 *   rt_cord      pthread running ev_run() on its own ev_loop; an ev_async
 *                `stop` lets any thread ask it to ev_break()
 *   rt_defer     an ev_async that is never started, only fed with
 *                ev_feed_event(): it lands on libev's *pending queue*, which
 *                ev_invoke_pending() drains completely before the loop
 *                polls again. Feeding a watcher that is already pending
 *                only ORs its event bits, so three schedules = one run.
 *                This is exactly cbus's cpipe->flush_input trick.
 *   rt_wakeup    an ev_async started on the owner loop; ev_async_send() is
 *                the only libev call that is safe from another thread
 *   rt_timer     a one-shot ev_timer
 *   rt_sock      an ev_io (level-triggered) + a never-started ev_io used
 *                only for rt_sock_feed()
 *   rt_listener  one listening fd, one ev_io per accepting cord
 *
 * A wakeup across cords:
 *
 *     cord "net0" (thread A)               cord "tx" (thread B)
 *     ----------------------               -------------------------------
 *     rt_wakeup_send(w)
 *       ev_async_send: flag w as sent,
 *       write the eventfd only if B is  -> epoll_wait returns
 *       asleep in epoll_wait               async watcher queued as pending
 *     (A goes on, never blocks)            w->cb(arg)       [runs on "tx"]
 *                                          pending queue drained: every
 *                                          rt_defer fed meanwhile runs here
 *                                          back to epoll_wait
 *
 * Sockets never raise SIGPIPE: writes go through sendmsg(MSG_NOSIGNAL), so a
 * write to a closed peer is -1/EPIPE like any other error.
 *
 * Lesson: lessons/en/02-cbus-batching.md (cords and their loops: why a
 * flush happens once per loop iteration).
 */
#include "rt/rt.h"
#include "rt/rt_private.h"
#include "trace/trace.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/diag.h"
#include "base/list.h"
#include "base/mem.h"

static void
thread_tsc_init(void);

/* -------------------------------------------------------------- objects */

struct thread_rt {
	struct rt base;
	/** Every cord created, in creation order (main thread only). */
	struct rlist cords;
};

struct thread_cord {
	struct rt_cord base;
	/** In thread_rt.cords. */
	struct rlist in_rt;
	struct ev_loop *loop;
	/** Started on `loop`; its callback breaks the loop. */
	ev_async stop;
	/** Runs before the loop waits: the end of every iteration. */
	ev_prepare end_of_iteration;
	pthread_t thread;
	bool is_started;
	bool is_joined;
	rt_cb_f f;
	void *f_arg;
};

struct thread_defer {
	struct rt_defer base;
	struct thread_cord *cord;
	/** Never started: only fed, so it runs from the pending queue. */
	ev_async ev;
	rt_cb_f cb;
	void *arg;
};

struct thread_wakeup {
	struct rt_wakeup base;
	struct thread_cord *cord;
	ev_async ev;
	rt_cb_f cb;
	void *arg;
};

struct thread_timer {
	struct rt_timer base;
	struct thread_cord *cord;
	ev_timer ev;
	rt_cb_f cb;
	void *arg;
};

struct thread_mutex {
	struct rt_mutex base;
	pthread_mutex_t mutex;
};

enum { THREAD_PEER_MAX = 64 };

struct thread_sock {
	struct rt_sock base;
	struct thread_cord *cord;
	int fd;
	/** Readiness: started while `watched` != 0, with those events. */
	ev_io io;
	/** Never started: rt_sock_feed() feeds it (see the file comment). */
	ev_io feed;
	int watched;
	rt_sock_f cb;
	void *arg;
	/**
	 * A connect still in flight, or failed synchronously: the first read
	 * or write reports its outcome (SO_ERROR, or `error`).
	 */
	bool is_connecting;
	int error;
	char peer[THREAD_PEER_MAX];
};

struct thread_listener {
	struct rt_listener base;
	int fd;
	int port;
	/** Guards `acceptors`: several cords may add themselves at once. */
	pthread_mutex_t mutex;
	struct rlist acceptors;
};

/** One accepting cord of a listener. */
struct thread_acceptor {
	struct rlist in_listener;
	struct thread_listener *listener;
	struct thread_cord *cord;
	ev_io io;
	/** Out of descriptors: accepting pauses a while instead of spinning. */
	ev_timer pause;
	rt_accept_f cb;
	void *arg;
};

static const struct rt_vtab thread_vtab;

/* ------------------------------------------------------------ runtime */

struct rt *
rt_thread_new(void)
{
	struct thread_rt *trt = mem_zalloc(sizeof(*trt));
	if (trt == NULL) {
		diag_set_oom(sizeof(*trt), "struct thread_rt");
		return NULL;
	}
	trt->base.vtab = &thread_vtab;
	thread_tsc_init();
	trt->base.mode = RT_THREAD;
	rlist_create(&trt->cords);
	return &trt->base;
}

static void
thread_cord_join(struct thread_cord *cord)
{
	if (cord->is_started && !cord->is_joined) {
		pthread_join(cord->thread, NULL);
		cord->is_joined = true;
	}
}

static void
thread_destroy(struct rt *rt)
{
	struct thread_rt *trt = (struct thread_rt *)rt;
	/*
	 * Cords nobody ran rt_run for: stop them all, then join them all,
	 * and only then destroy any loop — a running cord may still ring
	 * another cord's doorbell.
	 */
	struct rlist *item;
	rlist_foreach(item, &trt->cords) {
		struct thread_cord *cord =
			container_of(item, struct thread_cord, in_rt);
		if (cord->is_started && !cord->is_joined)
			ev_async_send(cord->loop, &cord->stop);
	}
	rlist_foreach(item, &trt->cords) {
		struct thread_cord *cord =
			container_of(item, struct thread_cord, in_rt);
		if (cord->is_started && !cord->is_joined)
			thread_cord_join(cord);
	}
	while (!rlist_empty(&trt->cords)) {
		struct thread_cord *cord = container_of(
			rlist_shift(&trt->cords), struct thread_cord, in_rt);
		ev_async_stop(cord->loop, &cord->stop);
		ev_prepare_stop(cord->loop, &cord->end_of_iteration);
		ev_loop_destroy(cord->loop);
		mem_free(cord);
	}
	mem_free(trt);
}

static int
thread_run(struct rt *rt)
{
	struct thread_rt *trt = (struct thread_rt *)rt;
	struct rlist *item;
	rlist_foreach(item, &trt->cords)
		thread_cord_join(container_of(item, struct thread_cord, in_rt));
	return 0;
}

static uint64_t
thread_now(const struct rt *rt)
{
	(void)rt;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * The trace clock (trace.h): one event costs one clock read, and
 * clock_gettime costs ~26 ns here (kvm-clock through the vDSO) where the
 * CPU's time-stamp counter costs ~11 ns. So on x86-64 with a constant TSC
 * events are stamped from the TSC, converted to CLOCK_MONOTONIC ns by a
 * line fitted once per process over a 2 ms window (pthread_once): the
 * same ns as rt_now() at calibration, drifting from it by the fit's error
 * (~1e-5, 10 us a second) afterwards — monotonic and the same clock on
 * every cord of the process, which is what ordering within and across
 * cords needs. Elsewhere (no TSC, or one that stops or varies with the
 * frequency) it is rt_now(). Exact virtual time stays on the simulator.
 */
static struct {
	uint64_t tsc0;
	uint64_t ns0;
	double ns_per_tick;
	bool is_tsc;
} thread_tsc;
static pthread_once_t thread_tsc_once = PTHREAD_ONCE_INIT;

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
static uint64_t
thread_tsc_read(void)
{
	return __builtin_ia32_rdtsc();
}

/* constant_tsc and nonstop_tsc in /proc/cpuinfo: the TSC ticks evenly. */
static bool
thread_tsc_is_usable(void)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (f == NULL)
		return false;
	char line[4096];
	bool has_constant = false, has_nonstop = false;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "flags", 5) != 0)
			continue;
		has_constant = strstr(line, " constant_tsc") != NULL;
		has_nonstop = strstr(line, " nonstop_tsc") != NULL;
		break;
	}
	fclose(f);
	return has_constant && has_nonstop;
}
#else
static uint64_t
thread_tsc_read(void)
{
	return 0;
}

static bool
thread_tsc_is_usable(void)
{
	return false;
}
#endif

static void
thread_tsc_calibrate(void)
{
	if (!thread_tsc_is_usable())
		return;
	uint64_t ns0 = thread_now(NULL), tsc0 = thread_tsc_read();
	uint64_t ns1, tsc1;
	do {
		ns1 = thread_now(NULL);
		tsc1 = thread_tsc_read();
	} while (ns1 - ns0 < 2 * 1000 * 1000);
	if (tsc1 <= tsc0)
		return;
	thread_tsc.tsc0 = tsc0;
	thread_tsc.ns0 = ns0;
	thread_tsc.ns_per_tick = (double)(ns1 - ns0) / (double)(tsc1 - tsc0);
	thread_tsc.is_tsc = true;
}

static void
thread_tsc_init(void)
{
	pthread_once(&thread_tsc_once, thread_tsc_calibrate);
}

static uint64_t
thread_trace_now(const struct rt *rt)
{
	/* Calibrated by rt_thread_new(), before any cord of it runs. */
	if (!thread_tsc.is_tsc)
		return thread_now(rt);
	uint64_t tsc = thread_tsc_read();
	/* A TSC read just before tsc0 on another CPU: clamp, never wrap. */
	uint64_t ticks = tsc > thread_tsc.tsc0 ? tsc - thread_tsc.tsc0 : 0;
	return thread_tsc.ns0 + (uint64_t)((double)ticks *
					   thread_tsc.ns_per_tick);
}

/* A plain thread outside any cord (rt.h): the trace pump's writer. */
struct thread_plain {
	pthread_t thread;
	void (*f)(void *arg);
	void *arg;
};

static void *
thread_plain_main(void *arg)
{
	struct thread_plain *t = arg;
	t->f(t->arg);
	return NULL;
}

int
rt_thread_spawn(void **thread, void (*f)(void *arg), void *arg)
{
	struct thread_plain *t = mem_alloc(sizeof(*t));
	if (t == NULL) {
		diag_set_oom(sizeof(*t), "struct thread_plain");
		return -1;
	}
	t->f = f;
	t->arg = arg;
	int rc = pthread_create(&t->thread, NULL, thread_plain_main, t);
	if (rc != 0) {
		diag_set(DIAG_ER_SYSTEM, "SystemError",
			 "pthread_create: %s", strerror(rc));
		mem_free(t);
		return -1;
	}
	*thread = t;
	return 0;
}

void
rt_thread_join(void *thread)
{
	struct thread_plain *t = thread;
	pthread_join(t->thread, NULL);
	mem_free(t);
}

uint64_t
rt_trace_clock(void)
{
	thread_tsc_init();
	return thread_trace_now(NULL);
}

/** xorshift64* state of the calling thread; 0 = not seeded yet. */
static _Thread_local uint64_t thread_random_state;

static uint64_t
thread_random(struct rt *rt)
{
	uint64_t x = thread_random_state;
	if (x == 0) {
		if (getrandom(&x, sizeof(x), GRND_NONBLOCK) != (ssize_t)sizeof(x))
			x = thread_now(rt) ^ (uint64_t)(uintptr_t)&x;
		if (x == 0)
			x = 0x9e3779b97f4a7c15u;
	}
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	thread_random_state = x;
	return x * 0x2545f4914f6cdd1du;
}

/* --------------------------------------------------------------- cords */

static void
thread_cord_stop_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

/*
 * The iteration is over and the loop is about to wait: hand this cord's
 * trace batch over, so an idle cord keeps no events back (on the
 * simulator the same happens when the cord leaves each event).
 */
static void
thread_cord_end_of_iteration_cb(struct ev_loop *loop, ev_prepare *w, int events)
{
	(void)loop;
	(void)w;
	(void)events;
	trace_cord_idle();
}

static struct rt_cord *
thread_cord_new(struct rt *rt, const char *name)
{
	struct thread_rt *trt = (struct thread_rt *)rt;
	struct thread_cord *cord = mem_zalloc(sizeof(*cord));
	if (cord == NULL) {
		diag_set_oom(sizeof(*cord), "struct thread_cord");
		return NULL;
	}
	cord->loop = ev_loop_new(EVFLAG_AUTO);
	if (cord->loop == NULL) {
		diag_set(DIAG_ER_SYSTEM, "SystemError",
			 "cord '%s': ev_loop_new failed", name);
		mem_free(cord);
		return NULL;
	}
	cord->base.rt = rt;
	snprintf(cord->base.name, sizeof(cord->base.name), "%s", name);
	ev_async_init(&cord->stop, thread_cord_stop_cb);
	cord->stop.data = cord;
	ev_async_start(cord->loop, &cord->stop);
	ev_prepare_init(&cord->end_of_iteration, thread_cord_end_of_iteration_cb);
	ev_prepare_start(cord->loop, &cord->end_of_iteration);
	rlist_add_tail(&trt->cords, &cord->in_rt);
	return &cord->base;
}

static void *
thread_cord_main(void *arg)
{
	struct thread_cord *cord = arg;
	rt_cord_enter(&cord->base);
	cord->f(cord->f_arg);
	/*
	 * f() is the cord's first callback: ev_run() drains the pending queue
	 * before its first poll, so what f() deferred or fed runs first.
	 */
	ev_run(cord->loop, 0);
	rt_cord_enter(NULL);
	mem_thread_exit();
	return NULL;
}

static int
thread_cord_start(struct rt_cord *base, rt_cb_f f, void *arg)
{
	struct thread_cord *cord = (struct thread_cord *)base;
	if (cord->is_started) {
		diag_set(DIAG_ER_SYSTEM, "IllegalParams",
			 "cord '%s' already started", base->name);
		return -1;
	}
	cord->f = f;
	cord->f_arg = arg;
	int rc = pthread_create(&cord->thread, NULL, thread_cord_main, cord);
	if (rc != 0) {
		diag_set(DIAG_ER_SYSTEM, "SystemError",
			 "cord '%s': pthread_create: %s", base->name,
			 strerror(rc));
		return -1;
	}
	cord->is_started = true;
	/* Best effort: only shows in top/gdb. */
	pthread_setname_np(cord->thread, base->name);
	return 0;
}

static void
thread_cord_stop(struct rt_cord *base)
{
	struct thread_cord *cord = (struct thread_cord *)base;
	ev_async_send(cord->loop, &cord->stop);
}

/* -------------------------------------------------------------- defer */

static void
thread_defer_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	(void)loop;
	(void)revents;
	struct thread_defer *d = w->data;
	d->cb(d->arg);
}

static struct rt_defer *
thread_defer_new(struct rt_cord *base, rt_cb_f cb, void *arg)
{
	struct thread_defer *d = mem_zalloc(sizeof(*d));
	if (d == NULL) {
		diag_set_oom(sizeof(*d), "struct thread_defer");
		return NULL;
	}
	d->base.rt = base->rt;
	d->cord = (struct thread_cord *)base;
	d->cb = cb;
	d->arg = arg;
	ev_async_init(&d->ev, thread_defer_cb);
	d->ev.data = d;
	return &d->base;
}

static void
thread_defer_schedule(struct rt_defer *base)
{
	struct thread_defer *d = (struct thread_defer *)base;
	ev_feed_event(d->cord->loop, &d->ev, EV_CUSTOM);
}

static void
thread_defer_delete(struct rt_defer *base)
{
	struct thread_defer *d = (struct thread_defer *)base;
	ev_clear_pending(d->cord->loop, &d->ev);
	mem_free(d);
}

/* ------------------------------------------------------------- wakeup */

static void
thread_wakeup_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	(void)loop;
	(void)revents;
	struct thread_wakeup *wk = w->data;
	wk->cb(wk->arg);
}

static struct rt_wakeup *
thread_wakeup_new(struct rt_cord *base, rt_cb_f cb, void *arg)
{
	struct thread_wakeup *w = mem_zalloc(sizeof(*w));
	if (w == NULL) {
		diag_set_oom(sizeof(*w), "struct thread_wakeup");
		return NULL;
	}
	w->base.rt = base->rt;
	w->cord = (struct thread_cord *)base;
	w->cb = cb;
	w->arg = arg;
	ev_async_init(&w->ev, thread_wakeup_cb);
	w->ev.data = w;
	ev_async_start(w->cord->loop, &w->ev);
	return &w->base;
}

static void
thread_wakeup_send(struct rt_wakeup *base)
{
	struct thread_wakeup *w = (struct thread_wakeup *)base;
	ev_async_send(w->cord->loop, &w->ev);
}

static void
thread_wakeup_delete(struct rt_wakeup *base)
{
	struct thread_wakeup *w = (struct thread_wakeup *)base;
	ev_async_stop(w->cord->loop, &w->ev);
	mem_free(w);
}

/* -------------------------------------------------------------- timer */

static void
thread_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct thread_timer *t = w->data;
	t->cb(t->arg);
}

static struct rt_timer *
thread_timer_new(struct rt_cord *base, rt_cb_f cb, void *arg)
{
	struct thread_timer *t = mem_zalloc(sizeof(*t));
	if (t == NULL) {
		diag_set_oom(sizeof(*t), "struct thread_timer");
		return NULL;
	}
	t->base.rt = base->rt;
	t->cord = (struct thread_cord *)base;
	t->cb = cb;
	t->arg = arg;
	ev_timer_init(&t->ev, thread_timer_cb, 0., 0.);
	t->ev.data = t;
	return &t->base;
}

static void
thread_timer_start(struct rt_timer *base, uint64_t after_ns)
{
	struct thread_timer *t = (struct thread_timer *)base;
	ev_timer_stop(t->cord->loop, &t->ev);
	ev_timer_set(&t->ev, (ev_tstamp)after_ns / 1e9, 0.);
	ev_timer_start(t->cord->loop, &t->ev);
}

static void
thread_timer_stop(struct rt_timer *base)
{
	struct thread_timer *t = (struct thread_timer *)base;
	ev_timer_stop(t->cord->loop, &t->ev);
}

static bool
thread_timer_is_active(const struct rt_timer *base)
{
	const struct thread_timer *t = (const struct thread_timer *)base;
	return ev_is_active(&t->ev);
}

static void
thread_timer_delete(struct rt_timer *base)
{
	struct thread_timer *t = (struct thread_timer *)base;
	ev_timer_stop(t->cord->loop, &t->ev);
	mem_free(t);
}

/* -------------------------------------------------------------- mutex */

static struct rt_mutex *
thread_mutex_new(struct rt *rt)
{
	struct thread_mutex *m = mem_zalloc(sizeof(*m));
	if (m == NULL) {
		diag_set_oom(sizeof(*m), "struct thread_mutex");
		return NULL;
	}
	m->base.rt = rt;
	pthread_mutex_init(&m->mutex, NULL);
	return &m->base;
}

static void
thread_mutex_lock(struct rt_mutex *base)
{
	pthread_mutex_lock(&((struct thread_mutex *)base)->mutex);
}

static void
thread_mutex_unlock(struct rt_mutex *base)
{
	pthread_mutex_unlock(&((struct thread_mutex *)base)->mutex);
}

static void
thread_mutex_delete(struct rt_mutex *base)
{
	struct thread_mutex *m = (struct thread_mutex *)base;
	pthread_mutex_destroy(&m->mutex);
	mem_free(m);
}

/* ------------------------------------------------------------ addresses */

/** "host:port" → sockaddr_in. Hosts: an IPv4 literal or "localhost". */
static int
thread_resolve(const char *addr, struct sockaddr_in *sin)
{
	char host[64];
	int port;
	if (rt_parse_addr(addr, host, &port) != 0)
		return -1;
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	if (strcmp(host, "localhost") == 0)
		strcpy(host, "127.0.0.1");
	if (inet_pton(AF_INET, host, &sin->sin_addr) != 1) {
		diag_set(DIAG_ER_SYSTEM, "IllegalParams",
			 "bad address '%s': host must be an IPv4 address or "
			 "localhost", addr);
		return -1;
	}
	return 0;
}

static void
thread_format_addr(const struct sockaddr_in *sin, char *buf, size_t size)
{
	char ip[INET_ADDRSTRLEN];
	if (inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip)) == NULL)
		strcpy(ip, "?");
	snprintf(buf, size, "%s:%d", ip, (int)ntohs(sin->sin_port));
}

/* ------------------------------------------------------------- sockets */

static void
thread_sock_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	struct thread_sock *s = w->data;
	int events = ((revents & EV_READ) ? RT_READ : 0) |
		     ((revents & EV_WRITE) ? RT_WRITE : 0);
	/* The callback may close (free) `s`: touch nothing after it. */
	if (s->cb != NULL && events != 0)
		s->cb(&s->base, events, s->arg);
}

/** Wrap a connected (or connecting) fd for `cord`. Closes fd on failure. */
static struct thread_sock *
thread_sock_new(struct thread_cord *cord, int fd)
{
	struct thread_sock *s = mem_zalloc(sizeof(*s));
	if (s == NULL) {
		diag_set_oom(sizeof(*s), "struct thread_sock");
		close(fd);
		return NULL;
	}
	s->base.rt = cord->base.rt;
	s->cord = cord;
	s->fd = fd;
	ev_io_init(&s->io, thread_sock_io_cb, fd, 0);
	s->io.data = s;
	ev_io_init(&s->feed, thread_sock_io_cb, fd, 0);
	s->feed.data = s;
	strcpy(s->peer, "?");
	return s;
}

static void
thread_sock_set_nodelay(int fd)
{
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static struct rt_sock *
thread_connect(struct rt *rt, const char *addr, const struct rt_net_opts *net)
{
	(void)net;
	struct rt_cord *current = rt_cord_current();
	if (current == NULL || current->rt != rt) {
		diag_set(DIAG_ER_SYSTEM, "IllegalParams",
			 "rt_connect must run on a cord of this runtime");
		return NULL;
	}
	struct sockaddr_in sin;
	if (thread_resolve(addr, &sin) != 0)
		return NULL;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		diag_set(DIAG_ER_SYSTEM, "SystemError", "socket: %s",
			 strerror(errno));
		return NULL;
	}
	thread_sock_set_nodelay(fd);
	struct thread_sock *s = thread_sock_new((struct thread_cord *)current, fd);
	if (s == NULL)
		return NULL;
	thread_format_addr(&sin, s->peer, sizeof(s->peer));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0)
		return &s->base;
	if (errno == EINPROGRESS) {
		s->is_connecting = true;
	} else {
		/*
		 * Refused at once (loopback can do that): the contract says
		 * the first read or write reports it, so keep the socket.
		 */
		s->error = errno;
	}
	return &s->base;
}

static void
thread_sock_watch(struct rt_sock *base, int events, rt_sock_f cb, void *arg)
{
	struct thread_sock *s = (struct thread_sock *)base;
	s->cb = cb;
	s->arg = arg;
	events &= RT_READ | RT_WRITE;
	if (events == s->watched)
		return;
	struct ev_loop *loop = s->cord->loop;
	ev_io_stop(loop, &s->io);
	s->watched = events;
	if (events == 0)
		return;
	ev_io_set(&s->io, s->fd, ((events & RT_READ) ? EV_READ : 0) |
				 ((events & RT_WRITE) ? EV_WRITE : 0));
	ev_io_start(loop, &s->io);
}

static int
thread_sock_watched(const struct rt_sock *base)
{
	return ((const struct thread_sock *)base)->watched;
}

static void
thread_sock_feed(struct rt_sock *base, int events)
{
	struct thread_sock *s = (struct thread_sock *)base;
	int revents = ((events & RT_READ) ? EV_READ : 0) |
		      ((events & RT_WRITE) ? EV_WRITE : 0);
	if (revents != 0)
		ev_feed_event(s->cord->loop, &s->feed, revents);
}

/**
 * Report the outcome of a connect on the first I/O after it: 0 = go on
 * with the syscall, -1 + errno = the connect failed.
 */
static int
thread_sock_check_connect(struct thread_sock *s)
{
	if (s->error != 0) {
		errno = s->error;
		s->error = 0;
		return -1;
	}
	if (!s->is_connecting)
		return 0;
	int err = 0;
	socklen_t len = sizeof(err);
	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		return -1;
	if (err != 0) {
		s->is_connecting = false;
		errno = err;
		return -1;
	}
	return 0;
}

static ssize_t
thread_sock_read(struct rt_sock *base, void *buf, size_t size)
{
	struct thread_sock *s = (struct thread_sock *)base;
	if (thread_sock_check_connect(s) != 0)
		return -1;
	ssize_t n = read(s->fd, buf, size);
	if (n >= 0)
		s->is_connecting = false;
	return n;
}

static ssize_t
thread_sock_writev(struct rt_sock *base, const struct iovec *iov, int iovcnt)
{
	struct thread_sock *s = (struct thread_sock *)base;
	if (thread_sock_check_connect(s) != 0)
		return -1;
	struct msghdr msg;
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = (struct iovec *)iov;
	msg.msg_iovlen = (size_t)iovcnt;
	ssize_t n = sendmsg(s->fd, &msg, MSG_NOSIGNAL);
	if (n >= 0)
		s->is_connecting = false;
	return n;
}

static void
thread_sock_close(struct rt_sock *base, bool reset)
{
	struct thread_sock *s = (struct thread_sock *)base;
	struct ev_loop *loop = s->cord->loop;
	ev_io_stop(loop, &s->io);
	ev_clear_pending(loop, &s->feed);
	if (reset) {
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };
		setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	close(s->fd);
	mem_free(s);
}

static const char *
thread_sock_peer(const struct rt_sock *base)
{
	return ((const struct thread_sock *)base)->peer;
}

/* ------------------------------------------------------------ listener */

static struct rt_listener *
thread_listen(struct rt *rt, const char *addr)
{
	struct sockaddr_in sin;
	if (thread_resolve(addr, &sin) != 0)
		return NULL;
	struct thread_listener *l = mem_zalloc(sizeof(*l));
	if (l == NULL) {
		diag_set_oom(sizeof(*l), "struct thread_listener");
		return NULL;
	}
	l->base.rt = rt;
	rlist_create(&l->acceptors);
	l->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->fd < 0) {
		diag_set(DIAG_ER_SYSTEM, "SystemError", "socket: %s",
			 strerror(errno));
		goto err_free;
	}
	int one = 1;
	setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(l->fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		diag_set(DIAG_ER_SYSTEM, "SystemError", "bind %s: %s", addr,
			 strerror(errno));
		goto err_close;
	}
	if (listen(l->fd, SOMAXCONN) != 0) {
		diag_set(DIAG_ER_SYSTEM, "SystemError", "listen %s: %s", addr,
			 strerror(errno));
		goto err_close;
	}
	socklen_t len = sizeof(sin);
	if (getsockname(l->fd, (struct sockaddr *)&sin, &len) != 0) {
		diag_set(DIAG_ER_SYSTEM, "SystemError", "getsockname: %s",
			 strerror(errno));
		goto err_close;
	}
	l->port = ntohs(sin.sin_port);
	pthread_mutex_init(&l->mutex, NULL);
	return &l->base;
err_close:
	close(l->fd);
err_free:
	mem_free(l);
	return NULL;
}

static int
thread_listener_port(const struct rt_listener *base)
{
	return ((const struct thread_listener *)base)->port;
}

static void
thread_acceptor_resume_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)revents;
	struct thread_acceptor *a = w->data;
	ev_io_start(loop, &a->io);
}

static void
thread_acceptor_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	struct thread_acceptor *a = w->data;
	int listen_fd = a->listener->fd;
	/*
	 * Drain the backlog. With several accepting cords every loop may wake
	 * for one connection: the losers simply see EAGAIN.
	 */
	for (;;) {
		struct sockaddr_in sin;
		socklen_t len = sizeof(sin);
		int fd = accept4(listen_fd, (struct sockaddr *)&sin, &len,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			/*
			 * EMFILE, ENFILE, ENOBUFS, ENOMEM: the connection stays
			 * in the backlog and the socket stays readable — stop
			 * watching it for 100 ms rather than spin on it.
			 */
			ev_io_stop(a->cord->loop, &a->io);
			ev_timer_set(&a->pause, 0.1, 0);
			ev_timer_start(a->cord->loop, &a->pause);
			return;
		}
		thread_sock_set_nodelay(fd);
		struct thread_sock *s = thread_sock_new(a->cord, fd);
		if (s == NULL)
			continue; /* OOM: the connection is dropped. */
		thread_format_addr(&sin, s->peer, sizeof(s->peer));
		/*
		 * The callback may remove this acceptor (free `a`): stop
		 * draining then, the rest of the backlog goes elsewhere.
		 */
		struct thread_listener *l = a->listener;
		struct thread_cord *cord = a->cord;
		a->cb(&s->base, a->arg);
		bool is_still_here = false;
		pthread_mutex_lock(&l->mutex);
		struct rlist *item;
		rlist_foreach(item, &l->acceptors) {
			if (item == &a->in_listener &&
			    container_of(item, struct thread_acceptor,
					 in_listener)->cord == cord)
				is_still_here = true;
		}
		pthread_mutex_unlock(&l->mutex);
		if (!is_still_here)
			return;
	}
}

static int
thread_listener_add_cord(struct rt_listener *base, struct rt_cord *cord,
			 rt_accept_f cb, void *arg)
{
	struct thread_listener *l = (struct thread_listener *)base;
	struct thread_acceptor *a = mem_zalloc(sizeof(*a));
	if (a == NULL) {
		diag_set_oom(sizeof(*a), "struct thread_acceptor");
		return -1;
	}
	a->listener = l;
	a->cord = (struct thread_cord *)cord;
	a->cb = cb;
	a->arg = arg;
	ev_io_init(&a->io, thread_acceptor_cb, l->fd, EV_READ);
	a->io.data = a;
	ev_timer_init(&a->pause, thread_acceptor_resume_cb, 0.1, 0);
	a->pause.data = a;
	ev_io_start(a->cord->loop, &a->io);
	pthread_mutex_lock(&l->mutex);
	rlist_add_tail(&l->acceptors, &a->in_listener);
	pthread_mutex_unlock(&l->mutex);
	return 0;
}

static void
thread_listener_remove_cord(struct rt_listener *base, struct rt_cord *cord)
{
	struct thread_listener *l = (struct thread_listener *)base;
	struct thread_acceptor *found = NULL;
	pthread_mutex_lock(&l->mutex);
	struct rlist *item;
	rlist_foreach(item, &l->acceptors) {
		struct thread_acceptor *a =
			container_of(item, struct thread_acceptor, in_listener);
		if (a->cord == (struct thread_cord *)cord) {
			found = a;
			break;
		}
	}
	if (found != NULL)
		rlist_del(&found->in_listener);
	pthread_mutex_unlock(&l->mutex);
	if (found == NULL)
		return;
	ev_io_stop(found->cord->loop, &found->io);
	ev_timer_stop(found->cord->loop, &found->pause);
	mem_free(found);
}

static void
thread_listener_delete(struct rt_listener *base)
{
	struct thread_listener *l = (struct thread_listener *)base;
	/*
	 * Tolerate cords that were not removed, as long as their loops no
	 * longer run (after rt_run): their watchers are simply dropped.
	 */
	while (!rlist_empty(&l->acceptors)) {
		struct thread_acceptor *a = container_of(
			rlist_shift(&l->acceptors), struct thread_acceptor,
			in_listener);
		ev_io_stop(a->cord->loop, &a->io);
		ev_timer_stop(a->cord->loop, &a->pause);
		mem_free(a);
	}
	pthread_mutex_destroy(&l->mutex);
	close(l->fd);
	mem_free(l);
}

/* ---------------------------------------------------------------- vtab */

static const struct rt_vtab thread_vtab = {
	.destroy = thread_destroy,
	.run = thread_run,
	.now = thread_now,
	.trace_now = thread_trace_now,
	.random = thread_random,
	.cord_new = thread_cord_new,
	.cord_start = thread_cord_start,
	.cord_stop = thread_cord_stop,
	.defer_new = thread_defer_new,
	.defer_schedule = thread_defer_schedule,
	.defer_delete = thread_defer_delete,
	.wakeup_new = thread_wakeup_new,
	.wakeup_send = thread_wakeup_send,
	.wakeup_delete = thread_wakeup_delete,
	.timer_new = thread_timer_new,
	.timer_start = thread_timer_start,
	.timer_stop = thread_timer_stop,
	.timer_is_active = thread_timer_is_active,
	.timer_delete = thread_timer_delete,
	.mutex_new = thread_mutex_new,
	.mutex_lock = thread_mutex_lock,
	.mutex_unlock = thread_mutex_unlock,
	.mutex_delete = thread_mutex_delete,
	.listen = thread_listen,
	.listener_port = thread_listener_port,
	.listener_add_cord = thread_listener_add_cord,
	.listener_remove_cord = thread_listener_remove_cord,
	.listener_delete = thread_listener_delete,
	.connect = thread_connect,
	.sock_watch = thread_sock_watch,
	.sock_watched = thread_sock_watched,
	.sock_feed = thread_sock_feed,
	.sock_read = thread_sock_read,
	.sock_writev = thread_sock_writev,
	.sock_close = thread_sock_close,
	.sock_peer = thread_sock_peer,
};
