/*
 * test_rt_sim.c — the simulated runtime (src/rt/rt_sim.c) against rt.h.
 *
 * Every test drives cords on the virtual clock, so times are exact and
 * asserted exactly: this is the determinism every other module's tests and
 * the golden traces rely on (DESIGN.md §3).
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "rt/rt.h"

static int64_t live_at_start;
static struct rt *rt;

static void
setup(void)
{
	live_at_start = mem_live();
	rt = NULL;
}

static void
teardown(void)
{
	if (rt != NULL)
		rt_delete(rt);
}

/*
 * The end of every test: free the runtime, then prove nothing leaked.
 * (In the test body: Criterion does not count assertions made in .fini.)
 */
static void
finish(void)
{
	if (rt != NULL)
		rt_delete(rt);
	rt = NULL;
	cr_assert_eq(mem_live(), live_at_start, "leaked %lld blocks",
		     (long long)(mem_live() - live_at_start));
}

TestSuite(rt_sim, .init = setup, .fini = teardown);

static void
nop(void *arg)
{
	(void)arg;
}

/* ------------------------------------------------------------- a log */

enum { LOG_MAX = 4096 };

struct log_entry {
	uint64_t t;
	uint64_t seq;
	char cord[16];
	char what[16];
};

struct log {
	struct log_entry e[LOG_MAX];
	int n;
};

static void
log_observer(void *arg, uint64_t t, uint64_t seq, const char *cord,
	     const char *what)
{
	struct log *log = arg;
	cr_assert_lt(log->n, LOG_MAX);
	struct log_entry *e = &log->e[log->n++];
	e->t = t;
	e->seq = seq;
	snprintf(e->cord, sizeof(e->cord), "%s", cord);
	snprintf(e->what, sizeof(e->what), "%s", what);
}

static int
log_count(const struct log *log, const char *cord, const char *what)
{
	int n = 0;
	for (int i = 0; i < log->n; i++)
		n += strcmp(log->e[i].what, what) == 0 &&
		     (cord == NULL || strcmp(log->e[i].cord, cord) == 0);
	return n;
}

/* ------------------------------------------------------ clock, timers */

struct fired {
	uint64_t t[16];
	int id[16];
	int n;
};

static struct fired fired;

static void
timer_cb(void *arg)
{
	fired.t[fired.n] = rt_now(rt);
	fired.id[fired.n] = (int)(intptr_t)arg;
	fired.n++;
}

static struct rt_timer *timers[4];

static void
timers_start(void *arg)
{
	struct rt_cord *cord = arg;
	cr_assert_eq(rt_cord_current(), cord);
	cr_assert_eq(rt_now(rt), 0);
	for (int i = 0; i < 4; i++)
		timers[i] = rt_timer_new(cord, timer_cb, (void *)(intptr_t)i);
	rt_timer_start(timers[0], 300);
	rt_timer_start(timers[1], 100);
	rt_timer_start(timers[2], 200);
	rt_timer_start(timers[3], 150);
	rt_timer_stop(timers[3]);
	cr_assert(rt_timer_is_active(timers[0]));
	cr_assert_not(rt_timer_is_active(timers[3]));
	/* Re-arming moves it: fires once, at 250. */
	rt_timer_start(timers[3], 50);
	rt_timer_start(timers[3], 250);
}

Test(rt_sim, clock_and_timers)
{
	rt = rt_sim_new(NULL);
	cr_assert_not_null(rt);
	cr_assert_eq(rt_mode(rt), RT_SIM);
	cr_assert_eq(rt_now(rt), 0);
	struct rt_cord *cord = rt_cord_new(rt, "c");
	cr_assert_str_eq(rt_cord_name(cord), "c");
	cr_assert_eq(rt_cord_rt(cord), rt);
	cr_assert_eq(rt_cord_start(cord, timers_start, cord), 0);
	cr_assert_eq(rt_run(rt), 0);
	cr_assert_eq(fired.n, 4);
	int ids[] = {1, 2, 3, 0};
	uint64_t ts[] = {100, 200, 250, 300};
	for (int i = 0; i < 4; i++) {
		cr_expect_eq(fired.id[i], ids[i], "#%d", i);
		cr_expect_eq(fired.t[i], ts[i], "#%d", i);
	}
	cr_assert_eq(rt_now(rt), 300);
	cr_assert_null(rt_cord_current());
	for (int i = 0; i < 4; i++) {
		cr_assert_not(rt_timer_is_active(timers[i]));
		rt_timer_delete(timers[i]);
	}
	finish();
}

Test(rt_sim, run_until_and_step)
{
	rt = rt_sim_new(NULL);
	struct rt_cord *cord = rt_cord_new(rt, "c");
	rt_cord_start(cord, timers_start, cord);
	/* start (t=0) and the timer at 100. */
	cr_assert_eq(rt_sim_run_until(rt, 120), 2);
	cr_assert_eq(rt_now(rt), 120);
	cr_assert_eq(fired.n, 1);
	cr_assert(rt_sim_step(rt));
	cr_assert_eq(rt_now(rt), 200);
	cr_assert_eq(fired.n, 2);
	cr_assert_eq(rt_sim_run_until(rt, 1000), 2);
	cr_assert_eq(rt_now(rt), 1000);
	cr_assert_not(rt_sim_step(rt));
	for (int i = 0; i < 4; i++)
		rt_timer_delete(timers[i]);
	finish();
}

/* -------------------------------------------------------------- defer */

static char trail[64];
static struct rt_defer *defer_a, *defer_b;
static uint64_t defer_t;

static void
trail_add(char c)
{
	size_t n = strlen(trail);
	trail[n] = c;
	trail[n + 1] = '\0';
}

static void
defer_b_cb(void *arg)
{
	(void)arg;
	trail_add('B');
}

static void
defer_a_cb(void *arg)
{
	(void)arg;
	trail_add('A');
	defer_t = rt_now(rt);
	/* Scheduled by a deferred callback: still this iteration. */
	rt_defer_schedule(defer_b);
}

static void
defer_timer_cb(void *arg)
{
	(void)arg;
	trail_add('t');
	rt_defer_schedule(defer_a);
	rt_defer_schedule(defer_a);
	rt_defer_schedule(defer_a);
	trail_add('T');
}

Test(rt_sim, defer_runs_once_at_end_of_iteration)
{
	struct log log = {.n = 0};
	rt = rt_sim_new(NULL);
	rt_sim_set_observer(rt, log_observer, &log);
	struct rt_cord *cord = rt_cord_new(rt, "c");
	defer_a = rt_defer_new(cord, defer_a_cb, NULL);
	defer_b = rt_defer_new(cord, defer_b_cb, NULL);
	struct rt_timer *t = rt_timer_new(cord, defer_timer_cb, NULL);
	struct rt_timer *later = rt_timer_new(cord, nop, NULL);
	rt_timer_start(t, 10);
	rt_timer_start(later, 10);
	rt_cord_start(cord, nop, NULL);
	rt_run(rt);
	/* A runs after the callback, once; B (deferred by A) right after. */
	cr_assert_str_eq(trail, "tTAB");
	cr_assert_eq(defer_t, 10);
	/* start, timer, timer: the defers ran inside the first timer's
	 * iteration, not as events of their own. */
	cr_assert_eq(log.n, 3);
	cr_assert_eq(log_count(&log, "c", "defer"), 0);
	cr_assert_eq(log_count(&log, "c", "timer"), 2);
	rt_timer_delete(t);
	rt_timer_delete(later);
	rt_defer_delete(defer_a);
	rt_defer_delete(defer_b);
	finish();
}

Test(rt_sim, defer_scheduled_before_start_runs_after_start)
{
	struct log log = {.n = 0};
	rt = rt_sim_new(NULL);
	rt_sim_set_observer(rt, log_observer, &log);
	struct rt_cord *cord = rt_cord_new(rt, "c");
	defer_b = rt_defer_new(cord, defer_b_cb, NULL);
	rt_defer_schedule(defer_b);
	rt_cord_start(cord, nop, NULL);
	rt_run(rt);
	cr_assert_str_eq(trail, "B");
	/* The start function runs first and its iteration runs the pending
	 * list: no separate "defer" event is left. */
	cr_assert_eq(log.n, 1);
	cr_assert_str_eq(log.e[0].what, "start");
	rt_defer_delete(defer_b);
	finish();
}

/* ------------------------------------------------------------- wakeup */

static int wake_count;
static uint64_t wake_t[256];
static struct rt_wakeup *wake;
static int wake_rounds;
static uint64_t wake_sent_at;

static void
wake_cb(void *arg)
{
	(void)arg;
	wake_t[wake_count++] = rt_now(rt) - wake_sent_at;
}

static void
send3(void *arg)
{
	(void)arg;
	wake_sent_at = rt_now(rt);
	rt_wakeup_send(wake);
	rt_wakeup_send(wake);
	rt_wakeup_send(wake);
}

Test(rt_sim, wakeup_coalesces)
{
	struct rt_sim_opts opts = {.seed = 7, .hop_latency_ns = 1000,
				   .hop_jitter_ns = 500};
	rt = rt_sim_new(&opts);
	struct rt_cord *a = rt_cord_new(rt, "a");
	struct rt_cord *b = rt_cord_new(rt, "b");
	wake = rt_wakeup_new(b, wake_cb, NULL);
	rt_cord_start(a, send3, NULL);
	rt_cord_start(b, nop, NULL);
	rt_run(rt);
	cr_assert_eq(wake_count, 1);
	cr_assert_geq(wake_t[0], 1000);
	cr_assert_leq(wake_t[0], 1500);
	rt_wakeup_delete(wake);
	finish();
}

/* b rings a back, a rings b back, `wake_rounds` times. */
static struct rt_wakeup *ping_w[2];

static void
ping_cb(void *arg)
{
	int side = (int)(intptr_t)arg;
	wake_t[wake_count++] = rt_now(rt) - wake_sent_at;
	if (wake_count < wake_rounds) {
		wake_sent_at = rt_now(rt);
		rt_wakeup_send(ping_w[1 - side]);
	}
}

static void
ping_start(void *arg)
{
	(void)arg;
	wake_sent_at = rt_now(rt);
	rt_wakeup_send(ping_w[1]);
}

Test(rt_sim, wakeup_latency_within_jitter)
{
	struct rt_sim_opts opts = {.seed = 11, .hop_latency_ns = 3000,
				   .hop_jitter_ns = 100};
	rt = rt_sim_new(&opts);
	struct rt_cord *a = rt_cord_new(rt, "a");
	struct rt_cord *b = rt_cord_new(rt, "b");
	ping_w[0] = rt_wakeup_new(a, ping_cb, (void *)0);
	ping_w[1] = rt_wakeup_new(b, ping_cb, (void *)1);
	wake_rounds = 200;
	rt_cord_start(a, ping_start, NULL);
	rt_cord_start(b, nop, NULL);
	rt_run(rt);
	cr_assert_eq(wake_count, 200);
	bool differ = false;
	for (int i = 0; i < wake_count; i++) {
		cr_assert_geq(wake_t[i], 3000, "#%d", i);
		cr_assert_leq(wake_t[i], 3100, "#%d", i);
		differ |= wake_t[i] != wake_t[0];
	}
	cr_assert(differ, "the jitter is never applied");
	rt_wakeup_delete(ping_w[0]);
	rt_wakeup_delete(ping_w[1]);
	finish();
}

Test(rt_sim, random_is_seeded)
{
	struct rt_sim_opts o1 = {.seed = 1}, o2 = {.seed = 2};
	struct rt *r1 = rt_sim_new(&o1), *r1b = rt_sim_new(&o1);
	struct rt *r2 = rt_sim_new(&o2);
	bool differ = false;
	for (int i = 0; i < 16; i++) {
		uint64_t x = rt_random(r1);
		cr_assert_eq(x, rt_random(r1b));
		differ |= x != rt_random(r2);
	}
	cr_assert(differ);
	rt_delete(r1);
	rt_delete(r1b);
	rt_delete(r2);
	finish();
}

/* --------------------------------------------------------- cord stop */

static int ticks;
static struct rt_timer *tick_timer;
static struct rt_cord *tick_cord;

static void
tick_cb(void *arg)
{
	(void)arg;
	ticks++;
	rt_timer_start(tick_timer, 10);
	if (ticks == 5)
		rt_cord_stop(tick_cord);
}

static void
tick_start(void *arg)
{
	(void)arg;
	rt_timer_start(tick_timer, 10);
}

Test(rt_sim, cord_stop)
{
	rt = rt_sim_new(NULL);
	tick_cord = rt_cord_new(rt, "tick");
	tick_timer = rt_timer_new(tick_cord, tick_cb, NULL);
	rt_cord_start(tick_cord, tick_start, NULL);
	cr_assert_eq(rt_run(rt), 0);
	cr_assert_eq(ticks, 5);
	cr_assert_eq(rt_now(rt), 50);
	/* Armed in the last iteration, never run. */
	cr_assert(rt_timer_is_active(tick_timer));
	cr_assert_eq(rt_sim_run_until(rt, 1000), 0);
	cr_assert_eq(ticks, 5);
	rt_timer_delete(tick_timer);
	finish();
}

static struct rt_cord *stopper_victim;

static void
stopper_cb(void *arg)
{
	(void)arg;
	rt_cord_stop(stopper_victim);
	rt_cord_stop(rt_cord_current());
}

static void
stopper_start(void *arg)
{
	rt_timer_start(arg, 25);
}

Test(rt_sim, cord_stop_from_another_cord)
{
	rt = rt_sim_new(NULL);
	tick_cord = rt_cord_new(rt, "tick");
	struct rt_cord *stopper = rt_cord_new(rt, "stopper");
	stopper_victim = tick_cord;
	tick_timer = rt_timer_new(tick_cord, tick_cb, NULL);
	struct rt_timer *st = rt_timer_new(stopper, stopper_cb, NULL);
	rt_cord_start(tick_cord, tick_start, NULL);
	rt_cord_start(stopper, stopper_start, st);
	rt_run(rt);
	cr_assert_eq(ticks, 2);
	rt_timer_delete(tick_timer);
	rt_timer_delete(st);
	finish();
}

/* ------------------------------------------------------------ mutex */

Test(rt_sim, mutex_checked)
{
	rt = rt_sim_new(NULL);
	struct rt_mutex *m = rt_mutex_new(rt);
	rt_mutex_lock(m);
	rt_mutex_unlock(m);
	rt_mutex_lock(m);
	rt_mutex_unlock(m);
	rt_mutex_delete(m);
	finish();
}

Test(rt_sim, mutex_double_lock_aborts, .signal = SIGABRT)
{
	struct rt *r = rt_sim_new(NULL);
	struct rt_mutex *m = rt_mutex_new(r);
	rt_mutex_lock(m);
	rt_mutex_lock(m);
}

Test(rt_sim, mutex_unlock_unlocked_aborts, .signal = SIGABRT)
{
	struct rt *r = rt_sim_new(NULL);
	struct rt_mutex *m = rt_mutex_new(r);
	rt_mutex_unlock(m);
}

/* ------------------------------------------------------------ sockets */

/*
 * A tiny harness: a server cord (or two) accepting on one listener and a
 * client cord. Each test plugs in its own callbacks.
 */
struct peer {
	struct rt_sock *sock;
	struct rt_cord *cord;
	char in[300000];
	size_t n_in;
	int n_reads;
	size_t max_read;
	bool eof;
	int err;
	int events_seen;
	uint64_t first_data_t;
};

static struct peer srv[4], cli[4];
static int n_srv;
static struct rt_listener *lst;
static int lst_port;
static struct rt_net_opts net;
static bool echo;
static const char *to_send;
static size_t to_send_len;
static bool close_after_send;
static bool reset_after_send;

static void
peer_read_all(struct peer *p, struct rt_sock *s)
{
	for (;;) {
		char buf[65536];
		ssize_t n = rt_sock_read(s, buf, sizeof(buf));
		if (n > 0) {
			if (p->n_in == 0)
				p->first_data_t = rt_now(rt);
			cr_assert_leq(p->n_in + (size_t)n, sizeof(p->in));
			memcpy(p->in + p->n_in, buf, (size_t)n);
			p->n_in += (size_t)n;
			p->n_reads++;
			if ((size_t)n > p->max_read)
				p->max_read = (size_t)n;
			if (echo && p >= srv && p < srv + 4) {
				struct iovec iov = {buf, (size_t)n};
				cr_assert_eq(rt_sock_writev(s, &iov, 1), n);
			}
			continue;
		}
		if (n == 0) {
			p->eof = true;
		} else if (errno != EAGAIN) {
			p->err = errno;
		}
		return;
	}
}

static void
srv_io(struct rt_sock *s, int events, void *arg)
{
	struct peer *p = arg;
	p->events_seen |= events;
	peer_read_all(p, s);
	if (p->eof || p->err != 0) {
		rt_sock_close(s, false);
		p->sock = NULL;
	}
}

static int accept_order[8];
/* Sockets a server cord accepted before its latest one. */
static struct rt_sock *older_socks[8];
static int n_older;
static int n_accepted;

static void
srv_accept(struct rt_sock *s, void *arg)
{
	struct peer *p = arg;
	cr_assert_eq(rt_cord_current(), p->cord);
	accept_order[n_accepted++] = (int)(p - srv);
	if (p->sock != NULL)
		older_socks[n_older++] = p->sock;
	p->sock = s;
	rt_sock_watch(s, RT_READ, srv_io, p);
	cr_assert_eq(rt_sock_watched(s), RT_READ);
}

static void
srv_start(void *arg)
{
	struct peer *p = arg;
	cr_assert_eq(rt_listener_add_cord(lst, p->cord, srv_accept, p), 0);
}

static void
cli_io(struct rt_sock *s, int events, void *arg)
{
	struct peer *p = arg;
	p->events_seen |= events;
	if (to_send_len == 0 && (events & RT_WRITE) && p->err == 0 &&
	    (events & RT_READ) == 0) {
		/* Nothing to write: stop a busy loop on writability. */
		rt_sock_watch(s, RT_READ, cli_io, p);
		return;
	}
	if (to_send_len > 0 && (events & RT_WRITE)) {
		struct iovec iov = {(void *)to_send, to_send_len};
		ssize_t n = rt_sock_writev(s, &iov, 1);
		if (n < 0) {
			p->err = errno;
		} else {
			to_send += n;
			to_send_len -= (size_t)n;
		}
		if (to_send_len == 0 && (close_after_send || reset_after_send)) {
			rt_sock_close(s, reset_after_send);
			p->sock = NULL;
			return;
		}
		if (to_send_len == 0)
			rt_sock_watch(s, RT_READ, cli_io, p);
	}
	if (events & RT_READ) {
		peer_read_all(p, s);
		if (p->err != 0 && p->err != EAGAIN)
			rt_sock_watch(s, 0, NULL, NULL);
		if (echo && p->n_in > 0 && to_send_len == 0 &&
		    p->sock != NULL) {
			rt_sock_close(s, false);
			p->sock = NULL;
		}
	}
}

static void
cli_start(void *arg)
{
	struct peer *p = arg;
	char addr[32];
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", lst_port);
	p->sock = rt_connect(rt, addr, net.latency_ns != 0 ? &net : NULL);
	cr_assert_not_null(p->sock);
	rt_sock_watch(p->sock, RT_READ | RT_WRITE, cli_io, p);
}

/** Make the server side; `lport` 0 = pick one. */
static void
net_setup(uint64_t seed, int n_servers, int lport)
{
	struct rt_sim_opts opts = {.seed = seed};
	rt = rt_sim_new(&opts);
	char addr[32];
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", lport);
	lst = rt_listen(rt, addr);
	cr_assert_not_null(lst);
	lst_port = rt_listener_port(lst);
	n_srv = n_servers;
	for (int i = 0; i < n_servers; i++) {
		char name[16];
		snprintf(name, sizeof(name), "net%d", i);
		srv[i].cord = rt_cord_new(rt, name);
		rt_cord_start(srv[i].cord, srv_start, &srv[i]);
	}
}

static struct rt_cord *
client_start(int i)
{
	char name[16];
	snprintf(name, sizeof(name), "client%d", i);
	cli[i].cord = rt_cord_new(rt, name);
	rt_cord_start(cli[i].cord, cli_start, &cli[i]);
	return cli[i].cord;
}

static void
net_teardown(void)
{
	for (int i = 0; i < 4; i++) {
		if (srv[i].sock != NULL)
			rt_sock_close(srv[i].sock, false);
		if (cli[i].sock != NULL)
			rt_sock_close(cli[i].sock, false);
		srv[i].sock = cli[i].sock = NULL;
	}
	for (int i = 0; i < n_older; i++)
		rt_sock_close(older_socks[i], false);
	n_older = 0;
	for (int i = 0; i < n_srv; i++)
		rt_listener_remove_cord(lst, srv[i].cord);
	rt_listener_delete(lst);
}

Test(rt_sim, socket_echo)
{
	net_setup(1, 1, 0);
	cr_assert_eq(lst_port, 30000);
	echo = true;
	to_send = "hello, Charon";
	to_send_len = strlen(to_send);
	client_start(0);
	rt_sim_run_until(rt, 60000);
	/* Accepted at 50 us; names are readable. */
	cr_assert_not_null(srv[0].sock);
	cr_assert_str_eq(rt_sock_peer(cli[0].sock), "127.0.0.1:30000");
	cr_assert_eq(strncmp(rt_sock_peer(srv[0].sock), "127.0.0.1:", 10), 0);
	rt_sim_run_until(rt, 1000000);
	cr_assert_eq(cli[0].n_in, 13);
	cr_assert_eq(memcmp(cli[0].in, "hello, Charon", 13), 0);
	cr_assert_eq(srv[0].n_in, 13);
	/* Handshake 50 us, request 50 us, reply 50 us. */
	cr_assert_eq(srv[0].first_data_t, 100000);
	cr_assert_eq(cli[0].first_data_t, 150000);
	/* The client closed: the server saw EOF and closed too. */
	cr_assert(srv[0].eof);
	cr_assert_null(srv[0].sock);
	cr_assert_null(cli[0].sock);
	for (int i = 0; i < n_srv; i++)
		rt_cord_stop(srv[i].cord);
	rt_cord_stop(cli[0].cord);
	net_teardown();
	finish();
}

/* Partial write, EAGAIN, writable again once the peer reads. */
static struct rt_sock *pw_sock;
static int pw_phase;
static ssize_t pw_results[4];
static int pw_errno;
static char pw_data[5000];

static void
pw_cli_io(struct rt_sock *s, int events, void *arg)
{
	(void)arg;
	cr_assert(events & RT_WRITE);
	struct iovec iov[2] = {{pw_data, 3000}, {pw_data + 3000, 2000}};
	if (pw_phase == 0) {
		pw_results[0] = rt_sock_writev(s, iov, 2);
		pw_results[1] = rt_sock_writev(s, iov, 2);
		pw_errno = errno;
		pw_phase = 1;
	} else if (pw_phase == 1) {
		pw_results[2] = rt_sock_writev(s, iov, 2);
		pw_phase = 2;
		rt_sock_watch(s, 0, NULL, NULL);
	}
}

static void
pw_cli_start(void *arg)
{
	(void)arg;
	char addr[32];
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", lst_port);
	pw_sock = rt_connect(rt, addr, &net);
	rt_sock_watch(pw_sock, RT_WRITE, pw_cli_io, NULL);
}

static void
pw_srv_accept(struct rt_sock *s, void *arg)
{
	struct peer *p = arg;
	p->sock = s; /* no watch: reads happen from the test */
}

static void
pw_srv_start(void *arg)
{
	struct peer *p = arg;
	rt_listener_add_cord(lst, p->cord, pw_srv_accept, p);
}

static void
pw_srv_read(void *arg)
{
	char buf[500];
	ssize_t *res = arg;
	*res = rt_sock_read(srv[0].sock, buf, sizeof(buf));
}

Test(rt_sim, socket_partial_write_then_eagain)
{
	for (int i = 0; i < 5000; i++)
		pw_data[i] = (char)i;
	net = (struct rt_net_opts){.latency_ns = 1000, .sndbuf = 1000,
				   .rcvbuf = 1000};
	rt = rt_sim_new(NULL);
	lst = rt_listen(rt, "127.0.0.1:3301");
	lst_port = rt_listener_port(lst);
	cr_assert_eq(lst_port, 3301);
	cr_assert_null(rt_listen(rt, "127.0.0.1:3301"), "port in use");
	srv[0].cord = rt_cord_new(rt, "net");
	struct rt_cord *c = rt_cord_new(rt, "client");
	rt_cord_start(srv[0].cord, pw_srv_start, &srv[0]);
	rt_cord_start(c, pw_cli_start, NULL);
	rt_sim_run_until(rt, 10000);
	cr_assert_eq(pw_results[0], 2000, "the window is 2000");
	cr_assert_eq(pw_results[1], -1);
	cr_assert_eq(pw_errno, EAGAIN);
	cr_assert_eq(pw_phase, 1, "not writable while full");
	/* The server reads 500 bytes: the client may write 500 more. */
	ssize_t got = 0;
	struct rt_timer *t = rt_timer_new(srv[0].cord, pw_srv_read, &got);
	rt_timer_start(t, 0);
	rt_sim_run_until(rt, 20000);
	cr_assert_eq(got, 500);
	cr_assert_eq(pw_phase, 2);
	cr_assert_eq(pw_results[2], 500);
	rt_timer_delete(t);
	rt_sock_close(pw_sock, false);
	rt_sock_close(srv[0].sock, false);
	srv[0].sock = NULL;
	rt_listener_remove_cord(lst, srv[0].cord);
	rt_listener_delete(lst);
	finish();
}

Test(rt_sim, socket_bandwidth_delays_arrival)
{
	/* 1 MB/s: 1000 bytes take 1 ms on the wire, plus 10 us latency. */
	net = (struct rt_net_opts){.latency_ns = 10000, .bandwidth = 1000000};
	net_setup(1, 1, 0);
	static char data[1000];
	to_send = data;
	to_send_len = sizeof(data);
	close_after_send = true;
	client_start(0);
	rt_run(rt);
	cr_assert_eq(srv[0].n_in, 1000);
	/* Connected at 10 us, written then, arrives 1 ms + 10 us later. */
	cr_assert_eq(srv[0].first_data_t, 10000 + 1000000 + 10000);
	cr_assert(srv[0].eof);
	net_teardown();
	finish();
}

Test(rt_sim, socket_segments)
{
	static char data[200 * 1024];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (char)(i * 7);
	net = (struct rt_net_opts){.latency_ns = 1000, .segment = 1000,
				   .sndbuf = 256 * 1024, .rcvbuf = 256 * 1024};
	net_setup(1, 1, 0);
	struct log log = {.n = 0};
	rt_sim_set_observer(rt, log_observer, &log);
	to_send = data;
	to_send_len = sizeof(data);
	close_after_send = true;
	client_start(0);
	rt_run(rt);
	cr_assert_eq(srv[0].n_in, sizeof(data));
	cr_assert_eq(memcmp(srv[0].in, data, sizeof(data)), 0);
	cr_assert_leq(srv[0].max_read, 1000);
	cr_assert_geq(srv[0].n_reads, 205);
	/* 205 segments (204 full + 800 bytes) and the end of stream. */
	cr_assert_eq(log_count(&log, "net0", "net"), 206);
	cr_assert(srv[0].eof);
	net_teardown();
	finish();
}

Test(rt_sim, socket_eof_after_data)
{
	static char data[3000];
	memset(data, 'x', sizeof(data));
	net = (struct rt_net_opts){.latency_ns = 1000, .segment = 1000};
	net_setup(1, 1, 0);
	to_send = data;
	to_send_len = sizeof(data);
	close_after_send = true;
	client_start(0);
	rt_run(rt);
	cr_assert_eq(srv[0].n_in, 3000);
	cr_assert(srv[0].eof);
	cr_assert_eq(srv[0].err, 0);
	net_teardown();
	finish();
}

Test(rt_sim, socket_reset)
{
	static char data[3000];
	net = (struct rt_net_opts){.latency_ns = 1000};
	net_setup(1, 1, 0);
	to_send = data;
	to_send_len = sizeof(data);
	reset_after_send = true;
	client_start(0);
	rt_run(rt);
	/* The data was in flight when the reset dropped it. */
	cr_assert_eq(srv[0].n_in, 0);
	cr_assert_eq(srv[0].err, ECONNRESET);
	cr_assert_not(srv[0].eof);
	cr_assert_eq(srv[0].events_seen, RT_READ);
	net_teardown();
	finish();
}

Test(rt_sim, socket_refused)
{
	net_setup(1, 0, 0);
	lst_port = 4444; /* nobody listens there */
	client_start(0);
	rt_run(rt);
	cr_assert_eq(cli[0].err, ECONNREFUSED);
	cr_assert_eq(cli[0].events_seen, RT_READ | RT_WRITE);
	char b;
	cr_assert_eq(rt_sock_read(cli[0].sock, &b, 1), -1);
	cr_assert_eq(errno, ECONNREFUSED);
	struct iovec iov = {&b, 1};
	cr_assert_eq(rt_sock_writev(cli[0].sock, &iov, 1), -1);
	cr_assert_eq(errno, ECONNREFUSED);
	net_teardown();
	finish();
}

Test(rt_sim, socket_round_robin_accept)
{
	net_setup(1, 2, 0);
	for (int i = 0; i < 4; i++)
		client_start(i);
	rt_sim_run_until(rt, 1000000);
	cr_assert_eq(n_accepted, 4);
	int expect[] = {0, 1, 0, 1};
	for (int i = 0; i < 4; i++)
		cr_expect_eq(accept_order[i], expect[i], "#%d", i);
	net_teardown();
	finish();
}

static ssize_t epipe_rc;
static int epipe_errno;

static void
epipe_write(void *arg)
{
	(void)arg;
	struct iovec iov = {(void *)"x", 1};
	epipe_rc = rt_sock_writev(srv[0].sock, &iov, 1);
	epipe_errno = errno;
}

Test(rt_sim, socket_write_after_peer_closed)
{
	net = (struct rt_net_opts){.latency_ns = 1000};
	net_setup(1, 1, 0);
	to_send = "abc";
	to_send_len = 3;
	close_after_send = true;
	client_start(0);
	rt_sim_run_until(rt, 1500);
	cr_assert_not_null(srv[0].sock);
	/* Stop watching so the server keeps its socket open. */
	rt_sock_watch(srv[0].sock, 0, NULL, NULL);
	rt_sim_run_until(rt, 10000);
	struct rt_timer *t = rt_timer_new(srv[0].cord, epipe_write, NULL);
	rt_timer_start(t, 0);
	rt_sim_run_until(rt, 20000);
	cr_assert_eq(epipe_rc, -1);
	cr_assert_eq(epipe_errno, EPIPE);
	char buf[8];
	cr_assert_eq(rt_sock_read(srv[0].sock, buf, sizeof(buf)), 3);
	cr_assert_eq(rt_sock_read(srv[0].sock, buf, sizeof(buf)), 0);
	rt_timer_delete(t);
	net_teardown();
	finish();
}

/* rt_sock_feed runs the callback at the end of the iteration, unready. */
static int feed_events;
static char feed_trail[8];

static void
feed_io(struct rt_sock *s, int events, void *arg)
{
	(void)s;
	(void)arg;
	feed_events = events;
	strcat(feed_trail, "F");
}

static void
feed_now(void *arg)
{
	(void)arg;
	rt_sock_watch(srv[0].sock, RT_READ, feed_io, NULL);
	rt_sock_feed(srv[0].sock, RT_READ);
	strcat(feed_trail, "t");
}

Test(rt_sim, socket_feed)
{
	net = (struct rt_net_opts){.latency_ns = 1000};
	net_setup(1, 1, 0);
	client_start(0);
	rt_sim_run_until(rt, 1500);
	cr_assert_not_null(srv[0].sock);
	struct rt_timer *t = rt_timer_new(srv[0].cord, feed_now, NULL);
	rt_timer_start(t, 0);
	rt_sim_run_until(rt, 1600);
	cr_assert_str_eq(feed_trail, "tF");
	cr_assert_eq(feed_events, RT_READ);
	rt_timer_delete(t);
	net_teardown();
	finish();
}

/* ------------------------------------------------- determinism, safety */

/*
 * Three cords: a "tx" and a "net" ringing each other, "net" also echoing
 * what a client sends, the client sending a few messages on a timer.
 */
static struct rt_wakeup *d_w[2];
static struct rt_timer *d_timer;
static int d_rings, d_sends;
static struct rt_sock *d_cli;
static struct rt_cord *d_cords[3];

static void
d_ring(void *arg)
{
	int side = (int)(intptr_t)arg;
	if (++d_rings < 60)
		rt_wakeup_send(d_w[1 - side]);
	if (d_rings == 60) {
		rt_cord_stop(d_cords[0]);
	}
}

static void
d_send(void *arg)
{
	(void)arg;
	char msg[64];
	int n = snprintf(msg, sizeof(msg), "m%d:%llu", d_sends,
			 (unsigned long long)(rt_random(rt) % 1000));
	struct iovec iov = {msg, (size_t)n};
	rt_sock_writev(d_cli, &iov, 1);
	if (++d_sends < 10)
		rt_timer_start(d_timer, 1000 + rt_random(rt) % 5000);
}

static void
d_cli_io(struct rt_sock *s, int events, void *arg)
{
	(void)events;
	(void)arg;
	char buf[256];
	ssize_t n;
	while ((n = rt_sock_read(s, buf, sizeof(buf))) > 0)
		;
	if (n == 0 || d_sends == 10) {
		rt_sock_watch(s, 0, NULL, NULL);
		rt_cord_stop(d_cords[2]);
	}
}

static void
d_cli_start(void *arg)
{
	(void)arg;
	char addr[32];
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", lst_port);
	d_cli = rt_connect(rt, addr, NULL);
	rt_sock_watch(d_cli, RT_READ, d_cli_io, NULL);
	rt_timer_start(d_timer, 100000);
}

static void
d_tx_start(void *arg)
{
	(void)arg;
	rt_wakeup_send(d_w[1]);
}

static void
determinism_run(uint64_t seed, struct log *log)
{
	memset(srv, 0, sizeof(srv));
	d_rings = d_sends = 0;
	echo = true;
	struct rt_sim_opts opts = {.seed = seed, .hop_jitter_ns = 3000};
	rt = rt_sim_new(&opts);
	rt_sim_set_observer(rt, log_observer, log);
	lst = rt_listen(rt, "127.0.0.1:0");
	lst_port = rt_listener_port(lst);
	d_cords[0] = rt_cord_new(rt, "tx");
	d_cords[1] = srv[0].cord = rt_cord_new(rt, "net");
	d_cords[2] = rt_cord_new(rt, "client");
	d_w[0] = rt_wakeup_new(d_cords[0], d_ring, (void *)0);
	d_w[1] = rt_wakeup_new(d_cords[1], d_ring, (void *)1);
	d_timer = rt_timer_new(d_cords[2], d_send, NULL);
	rt_cord_start(d_cords[0], d_tx_start, NULL);
	rt_cord_start(d_cords[1], srv_start, &srv[0]);
	rt_cord_start(d_cords[2], d_cli_start, NULL);
	rt_sim_run_until(rt, 10000000);
	cr_assert_eq(d_rings, 60);
	cr_assert_eq(d_sends, 10);
	rt_sock_close(d_cli, false);
	if (srv[0].sock != NULL)
		rt_sock_close(srv[0].sock, false);
	srv[0].sock = NULL;
	rt_listener_remove_cord(lst, srv[0].cord);
	rt_listener_delete(lst);
	rt_wakeup_delete(d_w[0]);
	rt_wakeup_delete(d_w[1]);
	rt_timer_delete(d_timer);
	rt_delete(rt);
	rt = NULL;
}

static bool
log_equal(const struct log *a, const struct log *b)
{
	if (a->n != b->n)
		return false;
	for (int i = 0; i < a->n; i++) {
		const struct log_entry *x = &a->e[i], *y = &b->e[i];
		if (x->t != y->t || x->seq != y->seq ||
		    strcmp(x->cord, y->cord) != 0 ||
		    strcmp(x->what, y->what) != 0)
			return false;
	}
	return true;
}

Test(rt_sim, determinism)
{
	static struct log a, b, c;
	determinism_run(42, &a);
	determinism_run(42, &b);
	determinism_run(43, &c);
	cr_assert_gt(a.n, 80, "n = %d", a.n);
	cr_assert_gt(log_count(&a, "net", "io"), 0);
	cr_assert_gt(log_count(&a, "client", "net"), 0);
	cr_assert_gt(log_count(&a, "client", "timer"), 0);
	cr_assert_gt(log_count(&a, "tx", "wakeup"), 0);
	cr_assert_eq(log_count(&a, "net", "accept"), 1);
	cr_assert(log_equal(&a, &b), "same seed, different runs");
	cr_assert_not(log_equal(&a, &c), "the seed changes nothing");
	/* (time, seq) never goes back. */
	for (int i = 1; i < a.n; i++)
		cr_assert_geq(a.e[i].t, a.e[i - 1].t);
	finish();
}

Test(rt_sim, delete_with_pending_events)
{
	net = (struct rt_net_opts){.latency_ns = 1000};
	net_setup(1, 1, 0);
	static char data[100000];
	to_send = data;
	to_send_len = sizeof(data);
	client_start(0);
	struct rt_cord *other = rt_cord_new(rt, "other");
	struct rt_timer *t = rt_timer_new(other, nop, NULL);
	struct rt_wakeup *w = rt_wakeup_new(other, nop, NULL);
	struct rt_defer *d = rt_defer_new(other, nop, NULL);
	rt_timer_start(t, 1000000);
	rt_wakeup_send(w);
	rt_defer_schedule(d); /* parked: "other" never starts */
	/* Mid-transfer: segments in flight, sockets ready. */
	rt_sim_run_until(rt, 2500);
	cr_assert_not_null(srv[0].sock);
	cr_assert_not_null(cli[0].sock);
	rt_timer_delete(t);
	rt_wakeup_delete(w);
	rt_defer_delete(d);
	rt_sock_close(cli[0].sock, false);
	cli[0].sock = NULL;
	/* The server side keeps working after its peer is gone. */
	rt_sim_run_until(rt, 100000);
	net_teardown();
	/* Nothing of the deleted objects is left to run. */
	rt_sim_run_until(rt, 10000000);
	cr_assert_not(rt_sim_step(rt));
	finish();
}

Test(rt_sim, oom_is_clean)
{
	for (int n = 1; n < 20; n++) {
		int64_t live = mem_live();
		mem_fail_after(n, 1);
		struct rt *r = rt_sim_new(NULL);
		struct rt_cord *c = r != NULL ? rt_cord_new(r, "c") : NULL;
		struct rt_timer *t = c != NULL ? rt_timer_new(c, nop, NULL) : NULL;
		struct rt_listener *l = t != NULL ? rt_listen(r, "h:1") : NULL;
		mem_fail_reset();
		bool complete = l != NULL;
		rt_listener_delete(l);
		rt_timer_delete(t);
		if (r != NULL)
			rt_delete(r);
		cr_assert_eq(mem_live(), live, "n = %d", n);
		if (complete)
			break;
		cr_assert_lt(n, 19, "never completed");
	}
	finish();
}
