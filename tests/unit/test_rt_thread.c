/*
 * test_rt_thread.c — the real-threads runtime (src/rt/rt_thread.c) against
 * the rt.h contract: cords as pthreads + libev loops, deferred callbacks
 * from the pending queue, cross-cord wakeups, timers and real loopback TCP.
 *
 * Every test builds its cords and objects from the main thread, starts the
 * cords, lets them stop themselves when they have seen what they wanted,
 * joins them with rt_run() and only then asserts on what they recorded
 * (rt_run's join is the happens-before edge). No timing assertions: timers
 * only prove they fired and in which order. Criterion's timeout turns a
 * hang into a failure.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "rt/rt.h"

enum { MS = 1000000 };

/* ------------------------------------------------------------ helpers */

static int64_t live_at_start;

/*
 * Criterion's asserts may only fail on the test's own thread, so code that
 * runs on a cord records failures here and the test asserts none happened.
 */
static _Atomic int n_cord_failures;
static char cord_failure[256];

#define CHECK(cond) do {							\
	if (!(cond) && atomic_fetch_add(&n_cord_failures, 1) == 0)	\
		snprintf(cord_failure, sizeof(cord_failure),		\
			 "%s:%d: %s", __FILE__, __LINE__, #cond);	\
} while (0)

static void
leak_init(void)
{
	live_at_start = mem_live();
	atomic_store(&n_cord_failures, 0);
}

static void
assert_no_leak(void)
{
	cr_assert_eq(atomic_load(&n_cord_failures), 0, "on a cord: %s",
		     cord_failure);
	cr_assert_eq(mem_live(), live_at_start, "leaked %lld blocks",
		     (long long)(mem_live() - live_at_start));
}

static void
addr_of(char *buf, size_t size, const char *host, int port)
{
	snprintf(buf, size, "%s:%d", host, port);
}

/* ------------------------------------------------------- start / stop */

struct start_ctx {
	struct rt_cord *cord;
	struct rt_cord *seen_current;
	char seen_name[16];
	_Atomic int started;
};

static void
start_f(void *arg)
{
	struct start_ctx *c = arg;
	c->seen_current = rt_cord_current();
	snprintf(c->seen_name, sizeof(c->seen_name), "%s",
		 rt_cord_name(rt_cord_current()));
	atomic_fetch_add(&c->started, 1);
	rt_cord_stop(c->cord);
}

Test(rt_thread, two_cords_start_and_stop, .timeout = 10)
{
	leak_init();
	struct rt *rt = rt_thread_new();
	cr_assert_not_null(rt);
	cr_assert_eq(rt_mode(rt), RT_THREAD);
	cr_assert_null(rt_cord_current(), "main thread is no cord");
	struct start_ctx a = {0}, b = {0};
	a.cord = rt_cord_new(rt, "alpha");
	b.cord = rt_cord_new(rt, "a-name-longer-than-15");
	cr_assert(a.cord != NULL && b.cord != NULL);
	cr_assert_eq(rt_cord_rt(a.cord), rt);
	cr_assert_str_eq(rt_cord_name(b.cord), "a-name-longer-t");
	cr_assert_eq(rt_cord_start(a.cord, start_f, &a), 0);
	cr_assert_eq(rt_cord_start(b.cord, start_f, &b), 0);
	cr_assert_eq(rt_run(rt), 0);
	cr_assert_eq(atomic_load(&a.started), 1);
	cr_assert_eq(atomic_load(&b.started), 1);
	cr_assert_eq(a.seen_current, a.cord);
	cr_assert_eq(b.seen_current, b.cord);
	cr_assert_str_eq(a.seen_name, "alpha");
	cr_assert_null(rt_cord_current());
	rt_delete(rt);
	assert_no_leak();
}

static void
noop_f(void *arg)
{
	(void)arg;
}

Test(rt_thread, stop_before_start_and_unstarted_cord, .timeout = 10)
{
	leak_init();
	struct rt *rt = rt_thread_new();
	struct rt_cord *c = rt_cord_new(rt, "early");
	struct rt_cord *idle = rt_cord_new(rt, "never");
	cr_assert(c != NULL && idle != NULL);
	/* A stop rung before the loop runs is seen by its first poll. */
	rt_cord_stop(c);
	cr_assert_eq(rt_cord_start(c, noop_f, NULL), 0);
	cr_assert_eq(rt_run(rt), 0);
	rt_delete(rt);
	assert_no_leak();
}

/* --------------------------------------------------------------- defer */

struct defer_ctx {
	struct rt_cord *cord;
	struct rt_defer *defer;
	struct rt_timer *kick;
	struct rt_timer *zero;
	struct rt_timer *check;
	int runs;
	int runs_seen_in_kick;
	int phase;
	/* Order of events: 'd' defer, 'z' zero-delay timer. */
	char order[8];
	int n_order;
	int runs_at_check[2];
};

static void
defer_cb(void *arg)
{
	struct defer_ctx *c = arg;
	c->runs++;
	if (c->n_order < 7)
		c->order[c->n_order++] = 'd';
}

static void
defer_zero_cb(void *arg)
{
	struct defer_ctx *c = arg;
	if (c->n_order < 7)
		c->order[c->n_order++] = 'z';
}

static void
defer_check_cb(void *arg)
{
	struct defer_ctx *c = arg;
	c->runs_at_check[c->phase] = c->runs;
	if (c->phase == 0) {
		/* Scheduling again after it ran works (still once). */
		c->phase = 1;
		rt_defer_schedule(c->defer);
		rt_defer_schedule(c->defer);
		rt_timer_start(c->check, 20 * MS);
		return;
	}
	rt_cord_stop(c->cord);
}

static void
defer_kick_cb(void *arg)
{
	struct defer_ctx *c = arg;
	/* A zero timer needs a poll; the defer must run before it. */
	rt_timer_start(c->zero, 0);
	rt_defer_schedule(c->defer);
	rt_defer_schedule(c->defer);
	rt_defer_schedule(c->defer);
	c->runs_seen_in_kick = c->runs;
	rt_timer_start(c->check, 30 * MS);
}

static void
defer_start_f(void *arg)
{
	struct defer_ctx *c = arg;
	rt_timer_start(c->kick, 1 * MS);
}

Test(rt_thread, defer_runs_once_per_iteration, .timeout = 10)
{
	leak_init();
	struct rt *rt = rt_thread_new();
	struct defer_ctx c = {0};
	c.cord = rt_cord_new(rt, "defer");
	c.defer = rt_defer_new(c.cord, defer_cb, &c);
	c.kick = rt_timer_new(c.cord, defer_kick_cb, &c);
	c.zero = rt_timer_new(c.cord, defer_zero_cb, &c);
	c.check = rt_timer_new(c.cord, defer_check_cb, &c);
	cr_assert(c.defer && c.kick && c.zero && c.check);
	cr_assert_eq(rt_cord_start(c.cord, defer_start_f, &c), 0);
	cr_assert_eq(rt_run(rt), 0);
	cr_assert_eq(c.runs_seen_in_kick, 0, "a defer never runs inline");
	cr_assert_eq(c.runs_at_check[0], 1, "3 schedules, %d runs",
		     c.runs_at_check[0]);
	cr_assert_eq(c.runs_at_check[1], 2);
	cr_assert(c.n_order >= 2);
	cr_assert_eq(c.order[0], 'd', "defer runs before the next poll");
	cr_assert_eq(c.order[1], 'z');
	rt_timer_delete(c.kick);
	rt_timer_delete(c.zero);
	rt_timer_delete(c.check);
	rt_defer_delete(c.defer);
	rt_delete(rt);
	assert_no_leak();
}

struct defer_f_ctx {
	struct rt_cord *cord;
	struct rt_defer *defer;
	int runs;
};

static void
defer_f_cb(void *arg)
{
	struct defer_f_ctx *c = arg;
	c->runs++;
	rt_cord_stop(c->cord);
}

static void
defer_f_start(void *arg)
{
	struct defer_f_ctx *c = arg;
	rt_defer_schedule(c->defer);
	rt_defer_schedule(c->defer);
}

Test(rt_thread, defer_from_cord_start_function, .timeout = 10)
{
	leak_init();
	struct rt *rt = rt_thread_new();
	struct defer_f_ctx c = {0};
	c.cord = rt_cord_new(rt, "defer-f");
	c.defer = rt_defer_new(c.cord, defer_f_cb, &c);
	cr_assert_not_null(c.defer);
	/* Nothing else is armed: only the defer can stop the cord. */
	cr_assert_eq(rt_cord_start(c.cord, defer_f_start, &c), 0);
	cr_assert_eq(rt_run(rt), 0);
	cr_assert_eq(c.runs, 1);
	rt_defer_delete(c.defer);
	rt_delete(rt);
	assert_no_leak();
}

/* -------------------------------------------------------------- wakeup */

struct wakeup_ctx {
	struct rt_cord *owner;
	struct rt_cord *sender;
	struct rt_wakeup *w;
	_Atomic(struct rt_cord *) seen;
	_Atomic int runs;
	_Atomic int done;
	int n_sends;
};

static void
wakeup_cb(void *arg)
{
	struct wakeup_ctx *c = arg;
	atomic_store(&c->seen, rt_cord_current());
	atomic_fetch_add(&c->runs, 1);
	if (atomic_load(&c->done))
		rt_cord_stop(c->owner);
}

static void
wakeup_sender_f(void *arg)
{
	struct wakeup_ctx *c = arg;
	for (int i = 0; i < c->n_sends - 1; i++)
		rt_wakeup_send(c->w);
	atomic_store(&c->done, 1);
	/* Sent after `done`: some run starts after it and sees `done`. */
	rt_wakeup_send(c->w);
	rt_cord_stop(c->sender);
}

static void
run_wakeup(struct wakeup_ctx *c, int n_sends)
{
	struct rt *rt = rt_thread_new();
	c->n_sends = n_sends;
	c->owner = rt_cord_new(rt, "owner");
	c->sender = rt_cord_new(rt, "sender");
	c->w = rt_wakeup_new(c->owner, wakeup_cb, c);
	cr_assert_not_null(c->w);
	cr_assert_eq(rt_cord_start(c->owner, noop_f, NULL), 0);
	cr_assert_eq(rt_cord_start(c->sender, wakeup_sender_f, c), 0);
	cr_assert_eq(rt_run(rt), 0);
	rt_wakeup_delete(c->w);
	rt_delete(rt);
}

Test(rt_thread, wakeup_runs_on_owner_cord, .timeout = 10)
{
	leak_init();
	struct wakeup_ctx c = {0};
	run_wakeup(&c, 1);
	cr_assert_eq(atomic_load(&c.runs), 1);
	cr_assert_not_null(atomic_load(&c.seen));
	cr_assert_eq(atomic_load(&c.seen), c.owner);
	assert_no_leak();
}

Test(rt_thread, wakeup_sends_coalesce, .timeout = 10)
{
	leak_init();
	struct wakeup_ctx c = {0};
	run_wakeup(&c, 10000);
	int runs = atomic_load(&c.runs);
	cr_assert(runs >= 1 && runs <= 10000, "runs = %d", runs);
	cr_assert_eq(atomic_load(&c.seen), c.owner);
	assert_no_leak();
}

/* -------------------------------------------------------------- timers */

struct timer_ctx {
	struct rt_cord *cord;
	struct rt_timer *slow, *fast, *never;
	char order[4];
	int n;
	bool fast_active_in_cb;
	bool were_active;
	bool never_active;
};

static void
timer_fast_cb(void *arg)
{
	struct timer_ctx *c = arg;
	c->fast_active_in_cb = rt_timer_is_active(c->fast);
	c->order[c->n++] = 'f';
}

static void
timer_slow_cb(void *arg)
{
	struct timer_ctx *c = arg;
	c->order[c->n++] = 's';
	rt_cord_stop(c->cord);
}

static void
timer_never_cb(void *arg)
{
	struct timer_ctx *c = arg;
	c->order[c->n++] = 'n';
}

static void
timer_start_f(void *arg)
{
	struct timer_ctx *c = arg;
	rt_timer_start(c->slow, 50 * MS);
	rt_timer_start(c->fast, 1 * MS);
	rt_timer_start(c->never, 10 * MS);
	c->were_active = rt_timer_is_active(c->slow) &&
			 rt_timer_is_active(c->fast);
	rt_timer_stop(c->never);
	c->never_active = rt_timer_is_active(c->never);
}

Test(rt_thread, timers_fire_in_order, .timeout = 10)
{
	leak_init();
	struct rt *rt = rt_thread_new();
	struct timer_ctx c = {0};
	c.cord = rt_cord_new(rt, "timers");
	c.slow = rt_timer_new(c.cord, timer_slow_cb, &c);
	c.fast = rt_timer_new(c.cord, timer_fast_cb, &c);
	c.never = rt_timer_new(c.cord, timer_never_cb, &c);
	cr_assert(c.slow && c.fast && c.never);
	cr_assert_eq(rt_cord_start(c.cord, timer_start_f, &c), 0);
	cr_assert_eq(rt_run(rt), 0);
	cr_assert(c.were_active);
	cr_assert_not(c.never_active);
	cr_assert_not(c.fast_active_in_cb, "one-shot: inactive when it fires");
	cr_assert_eq(c.n, 2, "fired: %.*s", c.n, c.order);
	cr_assert_eq(c.order[0], 'f');
	cr_assert_eq(c.order[1], 's');
	rt_timer_delete(c.slow);
	rt_timer_delete(c.fast);
	rt_timer_delete(c.never);
	rt_delete(rt);
	assert_no_leak();
}

/* ---------------------------------------------------------- misc: time */

Test(rt_thread, now_random_mutex)
{
	leak_init();
	struct rt *rt = rt_thread_new();
	uint64_t t0 = rt_now(rt);
	uint64_t t1 = rt_now(rt);
	cr_assert(t0 > 0 && t1 >= t0, "monotonic");
	uint64_t r0 = rt_random(rt), r1 = rt_random(rt), r2 = rt_random(rt);
	cr_assert(!(r0 == r1 && r1 == r2), "random bits vary");
	struct rt_mutex *m = rt_mutex_new(rt);
	cr_assert_not_null(m);
	rt_mutex_lock(m);
	rt_mutex_unlock(m);
	rt_mutex_delete(m);
	rt_delete(rt);
	assert_no_leak();
}

Test(rt_thread, out_of_memory_cleans_up)
{
	leak_init();
	/* Fail allocation n = 1, 2, ... until the whole setup succeeds. */
	for (int n = 1; n < 100; n++) {
		mem_fail_after(n, 1);
		struct rt *rt = rt_thread_new();
		struct rt_cord *cord = NULL;
		struct rt_defer *d = NULL;
		struct rt_wakeup *w = NULL;
		struct rt_timer *t = NULL;
		struct rt_listener *l = NULL;
		bool ok = false;
		if (rt == NULL)
			goto done;
		if ((cord = rt_cord_new(rt, "oom")) == NULL)
			goto done;
		if ((d = rt_defer_new(cord, noop_f, NULL)) == NULL)
			goto done;
		if ((w = rt_wakeup_new(cord, noop_f, NULL)) == NULL)
			goto done;
		if ((t = rt_timer_new(cord, noop_f, NULL)) == NULL)
			goto done;
		if ((l = rt_listen(rt, "127.0.0.1:0")) == NULL)
			goto done;
		ok = true;
done:
		mem_fail_reset();
		rt_listener_delete(l);
		rt_timer_delete(t);
		rt_wakeup_delete(w);
		rt_defer_delete(d);
		if (rt != NULL)
			rt_delete(rt);
		cr_assert_eq(mem_live(), live_at_start, "leak at n = %d", n);
		if (ok) {
			cr_assert(n > 5, "every allocation was exercised");
			return;
		}
	}
	cr_assert_fail("setup never succeeded");
}

/* ----------------------------------------------------------- TCP: echo */

static const char echo_msg[] = "hello, kharon";

struct echo_ctx {
	struct rt *rt;
	struct rt_cord *server, *client;
	char addr[64];
	struct rt_sock *csock;
	char got[64];
	size_t n_got;
	bool is_sent;
	bool server_saw_eof;
	bool client_ok;
	char peer[64];
	struct rt_cord *accept_cord;
};

static void
echo_server_io(struct rt_sock *s, int events, void *arg)
{
	struct echo_ctx *c = arg;
	CHECK(events & RT_READ);
	char buf[256];
	ssize_t n = rt_sock_read(s, buf, sizeof(buf));
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		c->server_saw_eof = (n == 0);
		rt_sock_close(s, false);
		rt_cord_stop(c->server);
		return;
	}
	struct iovec iov = { .iov_base = buf, .iov_len = (size_t)n };
	/* A few bytes always fit in an empty socket buffer. */
	CHECK(rt_sock_writev(s, &iov, 1) == n);
}

static void
echo_accept(struct rt_sock *s, void *arg)
{
	struct echo_ctx *c = arg;
	c->accept_cord = rt_cord_current();
	rt_sock_watch(s, RT_READ, echo_server_io, c);
	CHECK(rt_sock_watched(s) == (RT_READ));
}

static void
echo_client_io(struct rt_sock *s, int events, void *arg)
{
	struct echo_ctx *c = arg;
	if (!c->is_sent) {
		CHECK(events & RT_WRITE);
		struct iovec iov[2] = {
			{ .iov_base = (void *)echo_msg, .iov_len = 5 },
			{ .iov_base = (void *)(echo_msg + 5),
			  .iov_len = sizeof(echo_msg) - 5 },
		};
		CHECK(rt_sock_writev(s, iov, 2) == (ssize_t)sizeof(echo_msg));
		c->is_sent = true;
		rt_sock_watch(s, RT_READ, echo_client_io, c);
		return;
	}
	ssize_t n = rt_sock_read(s, c->got + c->n_got,
				 sizeof(c->got) - c->n_got);
	if (n < 0 && errno == EAGAIN)
		return;
	CHECK(n > 0);
	c->n_got += (size_t)n;
	if (c->n_got < sizeof(echo_msg))
		return;
	c->client_ok = memcmp(c->got, echo_msg, sizeof(echo_msg)) == 0;
	rt_sock_close(s, false);
	rt_cord_stop(c->client);
}

static void
echo_client_f(void *arg)
{
	struct echo_ctx *c = arg;
	c->csock = rt_connect(c->rt, c->addr, NULL);
	CHECK(c->csock != NULL);
	snprintf(c->peer, sizeof(c->peer), "%s", rt_sock_peer(c->csock));
	rt_sock_watch(c->csock, RT_WRITE, echo_client_io, c);
}

Test(rt_thread, tcp_echo, .timeout = 10)
{
	leak_init();
	struct echo_ctx c = {0};
	c.rt = rt_thread_new();
	c.server = rt_cord_new(c.rt, "server");
	c.client = rt_cord_new(c.rt, "client");
	struct rt_listener *l = rt_listen(c.rt, "127.0.0.1:0");
	cr_assert_not_null(l);
	int port = rt_listener_port(l);
	cr_assert(port > 0 && port < 65536);
	addr_of(c.addr, sizeof(c.addr), "localhost", port);
	cr_assert_eq(rt_listener_add_cord(l, c.server, echo_accept, &c), 0);
	cr_assert_eq(rt_cord_start(c.server, noop_f, NULL), 0);
	cr_assert_eq(rt_cord_start(c.client, echo_client_f, &c), 0);
	cr_assert_eq(rt_run(c.rt), 0);
	cr_assert(c.client_ok, "echo came back intact");
	cr_assert(c.server_saw_eof, "server saw end of stream");
	cr_assert_eq(c.accept_cord, c.server);
	char want[64];
	addr_of(want, sizeof(want), "127.0.0.1", port);
	cr_assert_str_eq(c.peer, want);
	rt_listener_remove_cord(l, c.server);
	rt_listener_delete(l);
	rt_delete(c.rt);
	assert_no_leak();
}

Test(rt_thread, bad_addresses)
{
	leak_init();
	struct rt *rt = rt_thread_new();
	cr_assert_null(rt_listen(rt, "no-port"));
	cr_assert_null(rt_listen(rt, "example.com:80"));
	cr_assert_null(rt_listen(rt, "127.0.0.1:70000"));
	/* Outside any cord there is nobody to own the socket. */
	cr_assert_null(rt_connect(rt, "127.0.0.1:1", NULL));
	rt_delete(rt);
	assert_no_leak();
}

/* ------------------------------------------- TCP: 8 MiB to a slow reader */

enum { BIG_SIZE = 8 << 20, BIG_CHUNK = 100000, READ_CHUNK = 16384 };

static uint8_t
big_byte(size_t i)
{
	return (uint8_t)((i * 7 + i / 251) & 0xff);
}

struct big_ctx {
	struct rt *rt;
	struct rt_cord *server, *client;
	char addr[64];
	uint8_t *src;
	size_t n_written;
	int n_eagain;
	int n_partial;
	struct rt_sock *reader;
	struct rt_timer *delay;
	size_t n_read;
	bool is_intact;
	bool saw_eof;
};

static void
big_reader_io(struct rt_sock *s, int events, void *arg)
{
	(void)events;
	struct big_ctx *c = arg;
	uint8_t buf[READ_CHUNK];
	/* One small read per wakeup: a slow reader. */
	ssize_t n = rt_sock_read(s, buf, sizeof(buf));
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		c->saw_eof = (n == 0);
		rt_sock_close(s, false);
		c->reader = NULL;
		rt_cord_stop(c->server);
		return;
	}
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] != big_byte(c->n_read + (size_t)i))
			c->is_intact = false;
	}
	c->n_read += (size_t)n;
}

static void
big_delay_cb(void *arg)
{
	struct big_ctx *c = arg;
	rt_sock_watch(c->reader, RT_READ, big_reader_io, c);
}

static void
big_accept(struct rt_sock *s, void *arg)
{
	struct big_ctx *c = arg;
	c->reader = s;
	/* Let the writer fill both socket buffers first. */
	rt_timer_start(c->delay, 100 * MS);
}

static void
big_writer_io(struct rt_sock *s, int events, void *arg)
{
	(void)events;
	struct big_ctx *c = arg;
	while (c->n_written < BIG_SIZE) {
		size_t left = BIG_SIZE - c->n_written;
		size_t want = left < 2 * BIG_CHUNK ? left : 2 * BIG_CHUNK;
		size_t first = want / 2;
		struct iovec iov[2] = {
			{ .iov_base = c->src + c->n_written, .iov_len = first },
			{ .iov_base = c->src + c->n_written + first,
			  .iov_len = want - first },
		};
		ssize_t n = rt_sock_writev(s, iov, 2);
		if (n < 0) {
			CHECK(errno == EAGAIN);
			c->n_eagain++;
			return;
		}
		if ((size_t)n < want)
			c->n_partial++;
		c->n_written += (size_t)n;
	}
	rt_sock_close(s, false);
	rt_cord_stop(c->client);
}

static void
big_client_f(void *arg)
{
	struct big_ctx *c = arg;
	struct rt_sock *s = rt_connect(c->rt, c->addr, NULL);
	CHECK(s != NULL);
	rt_sock_watch(s, RT_WRITE, big_writer_io, c);
}

Test(rt_thread, big_write_to_slow_reader, .timeout = 20)
{
	leak_init();
	struct big_ctx c = {0};
	c.is_intact = true;
	c.src = mem_alloc(BIG_SIZE);
	cr_assert_not_null(c.src);
	for (size_t i = 0; i < BIG_SIZE; i++)
		c.src[i] = big_byte(i);
	c.rt = rt_thread_new();
	c.server = rt_cord_new(c.rt, "reader");
	c.client = rt_cord_new(c.rt, "writer");
	c.delay = rt_timer_new(c.server, big_delay_cb, &c);
	struct rt_listener *l = rt_listen(c.rt, "127.0.0.1:0");
	cr_assert_not_null(l);
	addr_of(c.addr, sizeof(c.addr), "127.0.0.1", rt_listener_port(l));
	cr_assert_eq(rt_listener_add_cord(l, c.server, big_accept, &c), 0);
	cr_assert_eq(rt_cord_start(c.server, noop_f, NULL), 0);
	cr_assert_eq(rt_cord_start(c.client, big_client_f, &c), 0);
	cr_assert_eq(rt_run(c.rt), 0);
	cr_assert_eq(c.n_written, (size_t)BIG_SIZE);
	cr_assert_eq(c.n_read, (size_t)BIG_SIZE);
	cr_assert(c.is_intact, "bytes arrived in order, unchanged");
	cr_assert(c.saw_eof);
	cr_assert(c.n_eagain > 0, "the writer had to wait (EAGAIN)");
	cr_assert_null(c.reader);
	rt_timer_delete(c.delay);
	rt_listener_delete(l);
	rt_delete(c.rt);
	mem_free(c.src);
	assert_no_leak();
}

/* ------------------------------------------- TCP: close, reset, refused */

struct close_ctx {
	struct rt *rt;
	struct rt_cord *server, *client;
	char addr[64];
	bool reset;
	char got[16];
	size_t n_got;
	int end_errno; /* 0: EOF */
	bool ended;
	ssize_t write_rc;
	int write_errno;
	int n_fed;
	int fed_events;
};

static void
close_accept(struct rt_sock *s, void *arg)
{
	struct close_ctx *c = arg;
	if (!c->reset) {
		struct iovec iov = { .iov_base = (void *)"bye", .iov_len = 3 };
		CHECK(rt_sock_writev(s, &iov, 1) == 3);
	}
	rt_sock_close(s, c->reset);
	rt_cord_stop(c->server);
}

static void
close_client_io(struct rt_sock *s, int events, void *arg)
{
	(void)events;
	struct close_ctx *c = arg;
	ssize_t n = rt_sock_read(s, c->got + c->n_got,
				 sizeof(c->got) - c->n_got);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n > 0) {
		c->n_got += (size_t)n;
		return;
	}
	c->ended = true;
	c->end_errno = n == 0 ? 0 : errno;
	/* Writing to a dead connection is an error, never SIGPIPE. */
	struct iovec iov = { .iov_base = (void *)"x", .iov_len = 1 };
	c->write_rc = rt_sock_writev(s, &iov, 1);
	c->write_errno = errno;
	if (c->reset && c->write_rc > 0) {
		/* The kernel may still take one write; the next must fail. */
		c->write_rc = rt_sock_writev(s, &iov, 1);
		c->write_errno = errno;
	}
	rt_sock_close(s, false);
	rt_cord_stop(c->client);
}

static void
close_client_f(void *arg)
{
	struct close_ctx *c = arg;
	struct rt_sock *s = rt_connect(c->rt, c->addr, NULL);
	CHECK(s != NULL);
	rt_sock_watch(s, RT_READ, close_client_io, c);
}

static void
run_close(struct close_ctx *c)
{
	c->rt = rt_thread_new();
	c->server = rt_cord_new(c->rt, "server");
	c->client = rt_cord_new(c->rt, "client");
	struct rt_listener *l = rt_listen(c->rt, "127.0.0.1:0");
	cr_assert_not_null(l);
	addr_of(c->addr, sizeof(c->addr), "127.0.0.1", rt_listener_port(l));
	cr_assert_eq(rt_listener_add_cord(l, c->server, close_accept, c), 0);
	cr_assert_eq(rt_cord_start(c->server, noop_f, NULL), 0);
	cr_assert_eq(rt_cord_start(c->client, close_client_f, c), 0);
	cr_assert_eq(rt_run(c->rt), 0);
	rt_listener_delete(l);
	rt_delete(c->rt);
}

Test(rt_thread, eof_after_close, .timeout = 10)
{
	leak_init();
	struct close_ctx c = {0};
	run_close(&c);
	cr_assert(c.ended);
	cr_assert_eq(c.n_got, 3);
	cr_assert(memcmp(c.got, "bye", 3) == 0, "data before EOF is kept");
	cr_assert_eq(c.end_errno, 0, "EOF, not %s", strerror(c.end_errno));
	assert_no_leak();
}

Test(rt_thread, reset_gives_econnreset_or_eof, .timeout = 10)
{
	leak_init();
	struct close_ctx c = {0};
	c.reset = true;
	run_close(&c);
	cr_assert(c.ended);
	cr_assert_eq(c.n_got, 0);
	cr_assert(c.end_errno == 0 || c.end_errno == ECONNRESET,
		  "read after reset: %s", strerror(c.end_errno));
	cr_assert_eq(c.write_rc, -1);
	cr_assert(c.write_errno == EPIPE || c.write_errno == ECONNRESET,
		  "write after reset: %s", strerror(c.write_errno));
	assert_no_leak();
}

static void
refused_io(struct rt_sock *s, int events, void *arg)
{
	struct close_ctx *c = arg;
	c->fed_events |= events;
	char b;
	ssize_t n = rt_sock_read(s, &b, 1);
	if (n < 0 && errno == EAGAIN)
		return;
	c->ended = true;
	c->end_errno = n < 0 ? errno : 0;
	rt_sock_close(s, false);
	rt_cord_stop(c->client);
}

static void
refused_client_f(void *arg)
{
	struct close_ctx *c = arg;
	struct rt_sock *s = rt_connect(c->rt, c->addr, NULL);
	CHECK(s != NULL);
	rt_sock_watch(s, RT_READ | RT_WRITE, refused_io, c);
	CHECK(rt_sock_watched(s) == (RT_READ | RT_WRITE));
}

Test(rt_thread, connect_to_closed_port_is_refused, .timeout = 10)
{
	leak_init();
	struct close_ctx c = {0};
	c.rt = rt_thread_new();
	/* A port that was free a moment ago and has nobody listening. */
	struct rt_listener *l = rt_listen(c.rt, "127.0.0.1:0");
	cr_assert_not_null(l);
	addr_of(c.addr, sizeof(c.addr), "127.0.0.1", rt_listener_port(l));
	rt_listener_delete(l);
	c.client = rt_cord_new(c.rt, "client");
	cr_assert_eq(rt_cord_start(c.client, refused_client_f, &c), 0);
	cr_assert_eq(rt_run(c.rt), 0);
	cr_assert(c.ended);
	cr_assert_eq(c.end_errno, ECONNREFUSED, "got %s",
		     strerror(c.end_errno));
	rt_delete(c.rt);
	assert_no_leak();
}

/* ----------------------------------------------------------- TCP: feed */

static void
feed_io(struct rt_sock *s, int events, void *arg)
{
	struct close_ctx *c = arg;
	c->n_fed++;
	c->fed_events = events;
	rt_sock_close(s, false);
	rt_cord_stop(c->client);
}

static void
feed_client_f(void *arg)
{
	struct close_ctx *c = arg;
	struct rt_sock *s = rt_connect(c->rt, c->addr, NULL);
	CHECK(s != NULL);
	/* Not watching anything: only the feed can run the callback. */
	rt_sock_watch(s, 0, feed_io, c);
	rt_sock_feed(s, RT_READ);
	rt_sock_feed(s, RT_READ);
}

Test(rt_thread, feed_runs_callback_without_readiness, .timeout = 10)
{
	leak_init();
	struct close_ctx c = {0};
	c.rt = rt_thread_new();
	struct rt_listener *l = rt_listen(c.rt, "127.0.0.1:0");
	cr_assert_not_null(l);
	addr_of(c.addr, sizeof(c.addr), "127.0.0.1", rt_listener_port(l));
	c.client = rt_cord_new(c.rt, "client");
	cr_assert_eq(rt_cord_start(c.client, feed_client_f, &c), 0);
	cr_assert_eq(rt_run(c.rt), 0);
	cr_assert_eq(c.n_fed, 1, "two feeds while pending = one run");
	cr_assert_eq(c.fed_events, RT_READ);
	rt_listener_delete(l);
	rt_delete(c.rt);
	assert_no_leak();
}

/* -------------------------------------------- TCP: several accepting cords */

enum { N_CLIENTS = 20 };

struct multi_ctx {
	struct rt *rt;
	struct rt_listener *l;
	struct rt_cord *acc[2];
	struct rt_cord *client;
	char addr[64];
	_Atomic int n_accepted[2];
	_Atomic int total;
	_Atomic int wrong_cord;
	struct rt_sock *clients[N_CLIENTS];
	int n_clients;
	/* Phased mode: acc[0] takes the first half, then hands over. */
	bool is_phased;
	struct rt_wakeup *to_acc1;
	struct rt_wakeup *to_client;
};

static void
multi_stop_all(struct multi_ctx *c)
{
	rt_cord_stop(c->acc[0]);
	rt_cord_stop(c->acc[1]);
	rt_cord_stop(c->client);
}

static void
multi_connect(struct multi_ctx *c, int n)
{
	for (int i = 0; i < n; i++) {
		struct rt_sock *s = rt_connect(c->rt, c->addr, NULL);
		CHECK(s != NULL);
		c->clients[c->n_clients++] = s;
	}
}

static void
multi_accept(struct rt_sock *s, int idx, struct multi_ctx *c)
{
	if (rt_cord_current() != c->acc[idx])
		atomic_fetch_add(&c->wrong_cord, 1);
	rt_sock_close(s, false);
	int mine = atomic_fetch_add(&c->n_accepted[idx], 1) + 1;
	int total = atomic_fetch_add(&c->total, 1) + 1;
	if (c->is_phased && idx == 0 && mine == N_CLIENTS / 2) {
		rt_listener_remove_cord(c->l, c->acc[0]);
		rt_wakeup_send(c->to_acc1);
	}
	if (total == N_CLIENTS)
		multi_stop_all(c);
}

static void
multi_accept0(struct rt_sock *s, void *arg)
{
	multi_accept(s, 0, arg);
}

static void
multi_accept1(struct rt_sock *s, void *arg)
{
	multi_accept(s, 1, arg);
}

static void
multi_acc1_join(void *arg)
{
	struct multi_ctx *c = arg;
	CHECK(rt_listener_add_cord(c->l, c->acc[1], multi_accept1, c) == 0);
	rt_wakeup_send(c->to_client);
}

static void
multi_client_more(void *arg)
{
	struct multi_ctx *c = arg;
	multi_connect(c, N_CLIENTS / 2);
}

static void
multi_client_f(void *arg)
{
	struct multi_ctx *c = arg;
	multi_connect(c, c->is_phased ? N_CLIENTS / 2 : N_CLIENTS);
}

static void
run_multi(struct multi_ctx *c)
{
	c->rt = rt_thread_new();
	c->acc[0] = rt_cord_new(c->rt, "net0");
	c->acc[1] = rt_cord_new(c->rt, "net1");
	c->client = rt_cord_new(c->rt, "clients");
	c->l = rt_listen(c->rt, "127.0.0.1:0");
	cr_assert_not_null(c->l);
	addr_of(c->addr, sizeof(c->addr), "127.0.0.1", rt_listener_port(c->l));
	cr_assert_eq(rt_listener_add_cord(c->l, c->acc[0], multi_accept0, c),
		     0);
	if (c->is_phased) {
		c->to_acc1 = rt_wakeup_new(c->acc[1], multi_acc1_join, c);
		c->to_client = rt_wakeup_new(c->client, multi_client_more, c);
		cr_assert(c->to_acc1 && c->to_client);
	} else {
		cr_assert_eq(rt_listener_add_cord(c->l, c->acc[1],
						  multi_accept1, c), 0);
	}
	cr_assert_eq(rt_cord_start(c->acc[0], noop_f, NULL), 0);
	cr_assert_eq(rt_cord_start(c->acc[1], noop_f, NULL), 0);
	cr_assert_eq(rt_cord_start(c->client, multi_client_f, c), 0);
	cr_assert_eq(rt_run(c->rt), 0);
	/* Cords have stopped: their owners clean up from here. */
	for (int i = 0; i < c->n_clients; i++)
		rt_sock_close(c->clients[i], false);
	rt_listener_remove_cord(c->l, c->acc[0]);
	rt_listener_remove_cord(c->l, c->acc[1]);
	rt_listener_delete(c->l);
	rt_wakeup_delete(c->to_acc1);
	rt_wakeup_delete(c->to_client);
	rt_delete(c->rt);
}

Test(rt_thread, two_cords_accept_on_one_listener, .timeout = 10)
{
	leak_init();
	struct multi_ctx c = {0};
	run_multi(&c);
	cr_assert_eq(c.n_clients, N_CLIENTS);
	cr_assert_eq(atomic_load(&c.total), N_CLIENTS);
	cr_assert_eq(atomic_load(&c.n_accepted[0]) +
		     atomic_load(&c.n_accepted[1]), N_CLIENTS);
	cr_assert_eq(atomic_load(&c.wrong_cord), 0);
	assert_no_leak();
}

Test(rt_thread, accepting_hands_over_between_cords, .timeout = 10)
{
	leak_init();
	struct multi_ctx c = {0};
	c.is_phased = true;
	run_multi(&c);
	cr_assert_eq(c.n_clients, N_CLIENTS);
	cr_assert_eq(atomic_load(&c.total), N_CLIENTS);
	cr_assert_eq(atomic_load(&c.n_accepted[0]), N_CLIENTS / 2);
	cr_assert_eq(atomic_load(&c.n_accepted[1]), N_CLIENTS / 2);
	cr_assert_eq(atomic_load(&c.wrong_cord), 0);
	assert_no_leak();
}
