/*
 * test_client.c — the iproto client core on the simulator against the real
 * server (iproto_server_new on rt_sim_new): requests, pushes routed by
 * sync, pipelines, a slow consumer, disconnects, a bad greeting; and the
 * blocking facade on real threads.
 */
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/diag.h"
#include "base/mem.h"
#include "client/client_sync.h"
#include "client/iproto_client.h"
#include "iproto/iproto.h"
#include "proto/errcode.h"
#include "proto/greeting.h"
#include "proto/iproto_constants.h"
#include "proto/mp.h"
#include "rt/rt.h"
#include "sim_client.h"
#include "trace/trace.h"

/* --------------------------------------------------------------- system */

static struct rt *rt;
static struct iproto_server *server;
static char addr[64];
static int64_t mem_start;

static void
server_up(void)
{
	mem_start = mem_live();
	sim_server_up(&rt, &server, addr, NULL, 1);
}

static void
server_down(void)
{
	sim_server_down(rt, server, mem_start);
}

/* ------------------------------------------------------- a test client */

enum { T_MAX = 2000 };

struct t_msg {
	/** Order of arrival over pushes and replies. */
	int seq;
	uint64_t sync;
	uint32_t code;
	char *data;
	size_t len;
	char *error;
};

struct t_client;
typedef void (*t_script_f)(struct t_client *t);

struct t_client {
	struct rt_cord *cord;
	struct iproto_client *c;
	struct rt_timer *timer;
	const char *to;
	t_script_f on_connect;
	t_script_f on_timer;
	uint64_t timer_ns;
	/** Disconnect (reset) after this many pushes; 0: never. */
	int disconnect_after;
	bool is_connected;
	bool is_closed;
	int close_code;
	int n_seq;
	struct t_msg pushes[T_MAX];
	int n_pushes;
	struct t_msg replies[64];
	int n_replies;
};

static struct t_client *tc;

static char *
t_copy(const char *p, size_t len)
{
	if (p == NULL)
		return NULL;
	char *c = malloc(len + 1);
	memcpy(c, p, len);
	c[len] = '\0';
	return c;
}

static void
t_on_push(void *ctx, uint64_t sync, const char *data, const char *end)
{
	struct t_client *t = ctx;
	cr_assert_lt(t->n_pushes, T_MAX);
	struct t_msg *m = &t->pushes[t->n_pushes++];
	m->seq = t->n_seq++;
	m->sync = sync;
	m->code = IPROTO_CHUNK;
	m->len = (size_t)(end - data);
	m->data = t_copy(data, m->len);
	if (t->disconnect_after != 0 && t->n_pushes == t->disconnect_after)
		iproto_client_disconnect(t->c, true);
}

static void
t_on_reply(void *ctx, uint64_t sync, uint32_t code, const char *data,
	   const char *end, const char *error, uint32_t error_len)
{
	struct t_client *t = ctx;
	cr_assert_lt(t->n_replies, 64);
	struct t_msg *m = &t->replies[t->n_replies++];
	m->seq = t->n_seq++;
	m->sync = sync;
	m->code = code;
	m->len = data != NULL ? (size_t)(end - data) : 0;
	m->data = t_copy(data, m->len);
	m->error = t_copy(error, error_len);
}

static const struct iproto_client_handler *
t_handler(struct t_client *t)
{
	static struct iproto_client_handler h;
	h.on_push = t_on_push;
	h.on_reply = t_on_reply;
	h.ctx = t;
	return &h;
}

static void
t_on_connect(void *arg, const struct greeting *g)
{
	struct t_client *t = arg;
	cr_assert_eq(g->version_id >> 16, 2, "a Tarantool 2.x greeting");
	t->is_connected = true;
	if (t->on_connect != NULL)
		t->on_connect(t);
}

static void
t_on_close(void *arg, const struct diag *why)
{
	struct t_client *t = arg;
	cr_assert(!t->is_closed, "on_close called once");
	t->is_closed = true;
	t->close_code = why != NULL ? why->code : -1;
}

static void
t_on_timer(void *arg)
{
	struct t_client *t = arg;
	t->on_timer(t);
}

static void
t_start(void *arg)
{
	struct t_client *t = arg;
	const struct iproto_client_cbs cbs = {
		.on_connect = t_on_connect, .on_close = t_on_close, .arg = t,
	};
	t->c = iproto_client_new(t->cord, NULL, &cbs);
	cr_assert_not_null(t->c);
	if (t->on_timer != NULL) {
		t->timer = rt_timer_new(t->cord, t_on_timer, t);
		rt_timer_start(t->timer, t->timer_ns);
	}
	cr_assert_eq(iproto_client_connect(t->c, t->to, NULL), 0);
}

/** A client that runs `on_connect` once the greeting is in. */
static struct t_client *
t_client_start(const char *to, t_script_f on_connect)
{
	struct t_client *t = calloc(1, sizeof(*t));
	t->to = to;
	t->on_connect = on_connect;
	t->cord = rt_cord_new(rt, "client0");
	cr_assert_not_null(t->cord);
	return t;
}

static void
t_client_go(struct t_client *t)
{
	cr_assert_eq(rt_cord_start(t->cord, t_start, t), 0);
}

static void
t_client_free(struct t_client *t)
{
	iproto_client_delete(t->c);
	if (t->timer != NULL)
		rt_timer_delete(t->timer);
	for (int i = 0; i < t->n_pushes; i++)
		free(t->pushes[i].data);
	for (int i = 0; i < t->n_replies; i++) {
		free(t->replies[i].data);
		free(t->replies[i].error);
	}
	free(t);
}

/** [n, "x"] */
static char *
args_n_x(char *buf, uint64_t n, const char *x)
{
	char *p = mp_encode_array(buf, 2);
	p = mp_encode_uint(p, n);
	return mp_encode_str(p, x, (uint32_t)strlen(x));
}

static uint64_t
t_call(struct t_client *t, const char *fn, const char *args,
       const char *args_end)
{
	return iproto_client_call(t->c, fn, (uint32_t)strlen(fn), args,
				  args_end, t_handler(t));
}

/* ---------------------------------------------------------------- tests */

static void
script_ping(struct t_client *t)
{
	cr_assert_eq(iproto_client_ping(t->c, t_handler(t)), 1,
		     "syncs start at 1");
}

/**
 * "127.0.0.1:PORT" of a port nobody listens on: bound, never listened,
 * closed (a fixed low port may be taken on a shared machine).
 */
static void
refused_addr(char *buf, size_t size)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	snprintf(buf, size, "127.0.0.1:%d", ntohs(sin.sin_port));
	close(fd);
}

Test(client, ping)
{
	server_up();
	tc = t_client_start(addr, script_ping);
	t_client_go(tc);
	rt_run(rt);
	cr_assert(tc->is_connected);
	cr_assert_eq(tc->n_replies, 1);
	cr_assert_eq(tc->replies[0].sync, 1);
	cr_assert_eq(tc->replies[0].code, IPROTO_OK);
	cr_assert_null(tc->replies[0].error);
	cr_assert_eq(iproto_client_n_pending(tc->c), 0);
	t_client_free(tc);
	server_down();
}

static void
script_echo(struct t_client *t)
{
	char args[64];
	char *p = mp_encode_array(args, 3);
	p = mp_encode_uint(p, 1);
	p = mp_encode_str(p, "two", 3);
	p = mp_encode_int(p, -3);
	cr_assert_eq(t_call(t, "echo", args, p), 1);
}

Test(client, call_echo_returns_args)
{
	server_up();
	tc = t_client_start(addr, script_echo);
	t_client_go(tc);
	rt_run(rt);
	cr_assert_eq(tc->n_replies, 1);
	cr_assert_eq(tc->replies[0].code, IPROTO_OK);
	/* A C procedure's values come back as one array: [[1, "two", -3]]. */
	char buf[256];
	mp_format(buf, sizeof(buf), tc->replies[0].data,
		  tc->replies[0].data + tc->replies[0].len);
	cr_assert_str_eq(buf, "[[1, \"two\", -3]]");
	t_client_free(tc);
	server_down();
}

static void
script_push100(struct t_client *t)
{
	char args[32];
	cr_assert_eq(t_call(t, "push", args, args_n_x(args, 100, "x")), 1);
}

Test(client, push_100_in_order_then_result)
{
	server_up();
	tc = t_client_start(addr, script_push100);
	t_client_go(tc);
	rt_run(rt);
	cr_assert_eq(tc->n_pushes, 100);
	for (int i = 0; i < 100; i++) {
		const char *p = tc->pushes[i].data;
		cr_assert_eq(tc->pushes[i].sync, 1);
		cr_assert_eq(tc->pushes[i].seq, i, "pushes before the reply");
		cr_assert_eq(mp_decode_array(&p), 2, "the pushed value [i, x]");
		cr_assert_eq(mp_decode_uint(&p), (uint64_t)i + 1, "in order");
	}
	cr_assert_eq(tc->n_replies, 1);
	cr_assert_eq(tc->replies[0].seq, 100, "the result comes last");
	cr_assert_eq(tc->replies[0].code, IPROTO_OK);
	char buf[64];
	mp_format(buf, sizeof(buf), tc->replies[0].data,
		  tc->replies[0].data + tc->replies[0].len);
	cr_assert_str_eq(buf, "[[100]]");
	struct iproto_client_stats st;
	iproto_client_stats(tc->c, &st);
	cr_assert_eq(st.n_pushes, 100);
	cr_assert_eq(st.n_replies, 1);
	t_client_free(tc);
	server_down();
}

static void
script_pipeline(struct t_client *t)
{
	char args[32];
	iproto_client_cork(t->c);
	cr_assert_eq(iproto_client_ping(t->c, t_handler(t)), 1);
	cr_assert_eq(t_call(t, "echo", args, args_n_x(args, 7, "e")), 2);
	cr_assert_eq(t_call(t, "push", args, args_n_x(args, 2, "y")), 3);
	cr_assert_gt(iproto_client_n_unsent(t->c), 0, "corked: queued");
	iproto_client_uncork(t->c);
	cr_assert_eq(iproto_client_n_pending(t->c), 3);
}

Test(client, pipeline_of_three_matched_by_sync)
{
	server_up();
	tc = t_client_start(addr, script_pipeline);
	t_client_go(tc);
	rt_run(rt);
	struct iproto_client_stats st;
	iproto_client_stats(tc->c, &st);
	cr_assert_eq(st.n_sent_requests, 3);
	cr_assert_eq(st.n_writev, 1, "three requests in one write");
	cr_assert_eq(tc->n_replies, 3);
	bool seen[4] = { false };
	for (int i = 0; i < 3; i++) {
		struct t_msg *m = &tc->replies[i];
		cr_assert(m->sync >= 1 && m->sync <= 3 && !seen[m->sync]);
		seen[m->sync] = true;
		cr_assert_eq(m->code, IPROTO_OK);
		char buf[64] = "";
		if (m->data != NULL)
			mp_format(buf, sizeof(buf), m->data, m->data + m->len);
		if (m->sync == 1)
			cr_assert_null(m->data, "PING has no DATA");
		else if (m->sync == 2)
			cr_assert_str_eq(buf, "[[7, \"e\"]]");
		else
			cr_assert_str_eq(buf, "[[2]]");
	}
	cr_assert_eq(tc->n_pushes, 2);
	cr_assert_eq(tc->pushes[0].sync, 3, "pushes routed to their call");
	cr_assert_eq(iproto_client_n_pending(tc->c), 0);
	t_client_free(tc);
	server_down();
}

/* ------------------------------------------------------- slow consumer */

enum { BIG = 1000000, RESUME_AT = 100 * 1000 * 1000 };

static int64_t writev_bytes;
static int n_writev;

static void
writev_sink(void *arg, const struct trace_event *e)
{
	(void)arg;
	if (strcmp(e->ev, "net.writev") != 0)
		return;
	n_writev++;
	for (int i = 0; i < e->n_fields; i++)
		if (strcmp(e->fields[i].key, "n") == 0)
			writev_bytes += e->fields[i].i;
}

static void
script_big_paused(struct t_client *t)
{
	char args[16];
	char *p = mp_encode_array(args, 1);
	p = mp_encode_uint(p, BIG);
	iproto_client_pause_reading(t->c);
	cr_assert_eq(t_call(t, "big", args, p), 1);
}

static void
timer_resume(struct t_client *t)
{
	iproto_client_resume_reading(t->c);
}

Test(client, pause_then_resume_with_a_big_reply)
{
	server_up();
	writev_bytes = 0;
	n_writev = 0;
	trace_set_sink(writev_sink, NULL);
	tc = t_client_start(addr, script_big_paused);
	tc->on_timer = timer_resume;
	tc->timer_ns = RESUME_AT;
	t_client_go(tc);
	rt_sim_run_until(rt, RESUME_AT - 1);
	/* Paused: nothing delivered, the server could write only a window. */
	cr_assert_eq(tc->n_replies, 0);
	cr_assert_geq(n_writev, 1, "the server started writing");
	cr_assert_lt(writev_bytes, BIG, "its writev was partial: %lld bytes",
		     (long long)writev_bytes);
	int64_t stalled = writev_bytes;
	rt_run(rt);
	trace_set_sink(NULL, NULL);
	cr_assert_gt(writev_bytes, stalled, "the rest drained after resume");
	cr_assert_eq(tc->n_replies, 1);
	struct t_msg *m = &tc->replies[0];
	cr_assert_eq(m->code, IPROTO_OK);
	/* [[str of BIG bytes 'a'..'z' repeating]] — every byte intact. */
	const char *p = m->data;
	cr_assert_eq(mp_decode_array(&p), 1);
	cr_assert_eq(mp_decode_array(&p), 1);
	uint32_t len;
	const char *s = mp_decode_str(&p, &len);
	cr_assert_eq(len, BIG);
	for (uint32_t i = 0; i < len; i++)
		cr_assert_eq(s[i], (char)('a' + i % 26), "byte %u", i);
	cr_assert_eq(p, m->data + m->len);
	t_client_free(tc);
	server_down();
}

/* ---------------------------------------------------------- disconnects */

static void
script_push_many(struct t_client *t)
{
	char args[32];
	cr_assert_eq(t_call(t, "push", args, args_n_x(args, 1000, "x")), 1);
}

Test(client, disconnect_mid_push)
{
	server_up();
	tc = t_client_start(addr, script_push_many);
	tc->disconnect_after = 10;
	t_client_go(tc);
	rt_run(rt);
	cr_assert_eq(tc->n_pushes, 10, "nothing delivered after disconnect");
	cr_assert_eq(tc->n_replies, 1, "the call is answered once");
	cr_assert_eq(tc->replies[0].code, IPROTO_TYPE_ERROR | ER_NO_CONNECTION);
	cr_assert(tc->is_closed);
	cr_assert_eq(tc->close_code, -1, "closed by us: why == NULL");
	cr_assert_eq(iproto_client_n_pending(tc->c), 0);
	cr_assert_eq(iproto_client_ping(tc->c, NULL), 0, "closed: refused");
	t_client_free(tc);
	server_down();
}

static void
script_ping_twice(struct t_client *t)
{
	iproto_client_ping(t->c, t_handler(t));
	iproto_client_ping(t->c, t_handler(t));
}

Test(client, server_shutdown_is_eof)
{
	server_up();
	tc = t_client_start(addr, script_ping_twice);
	t_client_go(tc);
	rt_run(rt);
	cr_assert_eq(tc->n_replies, 2);
	cr_assert(!tc->is_closed);
	iproto_server_shutdown(server, 1000000);
	rt_run(rt);
	cr_assert(tc->is_closed, "EOF from the server reported");
	cr_assert_eq(tc->close_code, ER_NO_CONNECTION);
	t_client_free(tc);
	iproto_server_delete(server);
	rt_delete(rt);
	cr_assert_eq(mem_live(), mem_start);
}

/* ------------------------------------------------------- bad greetings */

static void
fake_accept(struct rt_sock *s, void *arg)
{
	const char *banner = arg;
	char g[GREETING_SIZE];
	memset(g, ' ', sizeof(g));
	memcpy(g, banner, strlen(banner));
	g[63] = '\n';
	g[127] = '\n';
	struct iovec iov = { g, sizeof(g) };
	cr_assert_eq(rt_sock_writev(s, &iov, 1), GREETING_SIZE);
	rt_sock_close(s, false);
}

static void
noop(void *arg)
{
	(void)arg;
}

static void
check_bad_greeting(const char *banner, int expect_code)
{
	mem_start = mem_live();
	rt = rt_sim_new(NULL);
	struct rt_listener *l = rt_listen(rt, "127.0.0.1:0");
	cr_assert_not_null(l);
	struct rt_cord *fake = rt_cord_new(rt, "fake");
	cr_assert_eq(rt_listener_add_cord(l, fake, fake_accept,
					  (void *)banner), 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", rt_listener_port(l));
	cr_assert_eq(rt_cord_start(fake, noop, NULL), 0);
	tc = t_client_start(addr, script_ping);
	t_client_go(tc);
	rt_run(rt);
	cr_assert(!tc->is_connected, "no on_connect");
	cr_assert(tc->is_closed);
	cr_assert_eq(tc->close_code, expect_code, "close code %d",
		     tc->close_code);
	cr_assert_eq(tc->n_replies, 0);
	/* A request queued before the greeting fails cleanly. */
	t_client_free(tc);
	rt_listener_remove_cord(l, fake);
	rt_listener_delete(l);
	rt_delete(rt);
	cr_assert_eq(mem_live(), mem_start, "leaked %lld blocks",
		     (long long)(mem_live() - mem_start));
}

Test(client, greeting_not_tarantool_fails_cleanly)
{
	check_bad_greeting("HTTP/1.1 400 Bad Request", ER_PROTOCOL);
}

Test(client, greeting_console_salt_missing_fails_cleanly)
{
	/* Right name, but no salt line: still not a usable greeting. */
	check_bad_greeting("Tarantool 2.6.0 (Binary) "
			   "12345678-1234-1234-1234-123456789abc",
			   ER_PROTOCOL);
}

static void
script_queue_before_connect(struct t_client *t)
{
	(void)t;
}

Test(client, refused_connection_fails_pending)
{
	mem_start = mem_live();
	rt = rt_sim_new(NULL);
	tc = t_client_start("127.0.0.1:9", script_queue_before_connect);
	t_client_go(tc);
	rt_run(rt);
	cr_assert(tc->is_closed);
	cr_assert_eq(tc->close_code, ER_SYSTEM, "ECONNREFUSED as SystemError");
	t_client_free(tc);
	rt_delete(rt);
	cr_assert_eq(mem_live(), mem_start);
}

/* ------------------------------------------------- the blocking facade */

struct f_pushes {
	int n;
	uint64_t last;
	bool in_order;
};

static void
f_on_push(void *ctx, const char *data, const char *end)
{
	struct f_pushes *f = ctx;
	const char *p = data;
	cr_assert_lt(p, end);
	cr_assert_eq(mp_decode_array(&p), 2);
	uint64_t i = mp_decode_uint(&p);
	if (i != f->last + 1)
		f->in_order = false;
	f->last = i;
	f->n++;
}

Test(client, sync_facade_on_real_threads)
{
	int64_t start = mem_live();
	struct rt *trt = rt_thread_new();
	cr_assert_not_null(trt);
	struct iproto_opts opts;
	iproto_opts_default(&opts);
	strcpy(opts.listen, "127.0.0.1:0");
	struct iproto_server *srv = iproto_server_new(trt, &opts);
	cr_assert_not_null(srv);
	cr_assert_eq(iproto_server_start(srv), 0);
	char to[64];
	snprintf(to, sizeof(to), "127.0.0.1:%d", iproto_server_port(srv));

	struct client_sync *c = client_sync_connect(to, NULL);
	cr_assert_not_null(c, "%s", diag_msg());
	cr_assert_eq(client_ping(c), 0);
	char args[32];
	struct f_pushes f = { .in_order = true };
	struct client_result r;
	cr_assert_eq(client_call(c, "push", args, args_n_x(args, 50, "z"),
				 f_on_push, &f, &r), 0, "%s", diag_msg());
	cr_assert_eq(f.n, 50);
	cr_assert(f.in_order);
	cr_assert_eq(r.n_pushes, 50);
	cr_assert_eq(r.code, IPROTO_OK);
	char buf[32];
	mp_format(buf, sizeof(buf), r.data, r.data + r.data_len);
	cr_assert_str_eq(buf, "[[50]]");
	client_result_destroy(&r);

	char msg[16];
	char *p = mp_encode_array(msg, 1);
	p = mp_encode_str(p, "boom", 4);
	cr_assert_eq(client_call(c, "fail", msg, p, NULL, NULL, &r), -1);
	cr_assert_str_eq(diag_msg(), "boom");
	cr_assert_str_eq(r.error, "boom");
	client_result_destroy(&r);
	client_close(c);

	char refused[32];
	refused_addr(refused, sizeof(refused));
	cr_assert_null(client_sync_connect(refused, NULL), "refused");
	cr_assert_eq(diag_last()->code, ER_SYSTEM);

	iproto_server_shutdown(srv, 1000000000);
	rt_run(trt);
	iproto_server_delete(srv);
	rt_delete(trt);
	cr_assert_eq(mem_live(), start, "leaked %lld blocks",
		     (long long)(mem_live() - start));
}

/* A real-threads kharon serve on a free port, for the facade's tests. */
struct f_server {
	struct rt *rt;
	struct iproto_server *srv;
	char addr[64];
};

static void
f_server_start(struct f_server *f)
{
	f->rt = rt_thread_new();
	cr_assert_not_null(f->rt);
	struct iproto_opts opts;
	iproto_opts_default(&opts);
	strcpy(opts.listen, "127.0.0.1:0");
	f->srv = iproto_server_new(f->rt, &opts);
	cr_assert_not_null(f->srv);
	cr_assert_eq(iproto_server_start(f->srv), 0);
	snprintf(f->addr, sizeof(f->addr), "127.0.0.1:%d",
		 iproto_server_port(f->srv));
}

static void
f_server_stop(struct f_server *f)
{
	iproto_server_shutdown(f->srv, 1000000000);
	rt_run(f->rt);
	iproto_server_delete(f->srv);
	rt_delete(f->rt);
}

static void
f_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
	nanosleep(&ts, NULL);
}

enum { F_MAX_QUEUED = 64 * 1024 };

struct f_slow {
	struct f_pushes order;
	struct client_sync *c;
	/* The queue seen at its fullest while the first push was held. */
	struct client_sync_stats held;
};

/*
 * A slow consumer: the first push is held until the I/O cord either
 * paused (backpressure) or queued far more than the cap (no
 * backpressure: the test then fails); every 1000th push naps a little
 * so the queue fills and drains over and over.
 */
static void
f_slow_on_push(void *ctx, const char *data, const char *end)
{
	struct f_slow *f = ctx;
	f_on_push(&f->order, data, end);
	if (f->order.n == 1) {
		for (int i = 0; i < 20000; i++) {
			client_sync_stats(f->c, &f->held);
			if (f->held.n_pauses > 0 ||
			    f->held.queued > 16 * F_MAX_QUEUED)
				break;
			f_sleep_ms(1);
		}
	} else if (f->order.n % 1000 == 0) {
		f_sleep_ms(1);
	}
}

Test(client, sync_backpressure_bounds_the_queue)
{
	int64_t start = mem_live();
	struct f_server srv;
	f_server_start(&srv);
	struct client_sync_opts opts;
	client_sync_opts_default(&opts);
	opts.max_queued = F_MAX_QUEUED;
	struct client_sync *c = client_sync_connect(srv.addr, &opts);
	cr_assert_not_null(c, "%s", diag_msg());
	char x[101];
	memset(x, 'x', 100);
	x[100] = '\0';
	char args[160];
	enum { N = 20000 };
	struct f_slow f = { .order = { .in_order = true }, .c = c };
	struct client_result r;
	cr_assert_eq(client_call(c, "push", args, args_n_x(args, N, x),
				 f_slow_on_push, &f, &r), 0, "%s", diag_msg());
	client_result_destroy(&r);
	cr_assert_eq(f.held.n_pauses, 1, "paused while the first push was "
		     "held (queued %zu)", f.held.queued);
	cr_assert_eq(f.order.n, N, "every push arrived");
	cr_assert(f.order.in_order);
	struct client_sync_stats st;
	client_sync_stats(c, &st);
	/* Over the cap by at most the one push that crossed it. */
	cr_assert_leq(st.max_queued_seen, F_MAX_QUEUED + 1024,
		      "queue peaked at %zu", st.max_queued_seen);
	cr_assert_geq(st.n_resumes, 1);
	cr_assert_geq(st.n_pauses, st.n_resumes);
	cr_assert_eq(st.queued, 0, "drained");
	cr_assert_eq(client_ping(c), 0, "%s", diag_msg());
	client_close(c);
	f_server_stop(&srv);
	cr_assert_eq(mem_live(), start);
}

Test(client, sync_connect_times_out_on_a_silent_listener)
{
	int64_t start = mem_live();
	struct rt *lrt = rt_thread_new();
	cr_assert_not_null(lrt);
	/* Bound, never accepted: the kernel completes the TCP handshake,
	 * nobody ever writes a greeting. */
	struct rt_listener *l = rt_listen(lrt, "127.0.0.1:0");
	cr_assert_not_null(l, "%s", diag_msg());
	char to[64];
	snprintf(to, sizeof(to), "127.0.0.1:%d", rt_listener_port(l));
	struct client_sync_opts opts;
	client_sync_opts_default(&opts);
	opts.connect_timeout_ns = 50 * 1000 * 1000;
	cr_assert_null(client_sync_connect(to, &opts));
	cr_assert_eq(diag_last()->code, ER_TIMEOUT, "%s", diag_msg());
	cr_assert(strstr(diag_msg(), "Timeout exceeded") != NULL, "%s",
		  diag_msg());
	rt_listener_delete(l);
	rt_delete(lrt);
	cr_assert_eq(mem_live(), start);
}

Test(client, sync_call_times_out_and_the_late_reply_is_dropped)
{
	int64_t start = mem_live();
	struct f_server srv;
	f_server_start(&srv);
	struct client_sync_opts opts;
	client_sync_opts_default(&opts);
	opts.call_timeout_ns = 50 * 1000 * 1000;
	struct client_sync *c = client_sync_connect(srv.addr, &opts);
	cr_assert_not_null(c, "%s", diag_msg());
	char args[16];
	char *end = mp_encode_array(args, 1);
	end = mp_encode_uint(end, 300);
	struct client_result r;
	cr_assert_eq(client_call(c, "sleep", args, end, NULL, NULL, &r), -1);
	cr_assert_eq(diag_last()->code, ER_TIMEOUT, "%s", diag_msg());
	cr_assert_eq(r.code, IPROTO_TYPE_ERROR | ER_TIMEOUT);
	client_result_destroy(&r);
	/* Still connected; the 300 ms reply comes during this 600 ms one
	 * (the server answers them in the order they wake). */
	client_sync_set_call_timeout(c, 0);
	end = mp_encode_array(args, 1);
	end = mp_encode_uint(end, 600);
	cr_assert_eq(client_call(c, "sleep", args, end, NULL, NULL, &r), 0,
		     "%s", diag_msg());
	client_result_destroy(&r);
	struct client_sync_stats st;
	client_sync_stats(c, &st);
	cr_assert_eq(st.n_stale_dropped, 1, "the late reply was dropped, "
		     "not taken for the second call's");
	cr_assert_eq(client_ping(c), 0, "%s", diag_msg());
	client_close(c);
	f_server_stop(&srv);
	cr_assert_eq(mem_live(), start);
}

/* ------------------------------------------------- allocation failures */

Test(client, oom_loop_new_and_queue)
{
	int64_t start = mem_live();
	struct rt *srt = rt_sim_new(NULL);
	struct rt_cord *cord = rt_cord_new(srt, "client0");
	char args[32];
	char *end = args_n_x(args, 1, "x");
	bool done = false;
	for (int n = 1; n <= 20 && !done; n++) {
		int64_t before = mem_live();
		mem_fail_after(n, 1);
		struct iproto_client *c = iproto_client_new(cord, NULL, NULL);
		uint64_t s1 = 0, s2 = 0;
		if (c != NULL) {
			s1 = iproto_client_call(c, "echo", 4, args, end, NULL);
			s2 = iproto_client_ping(c, NULL);
		}
		int64_t failed = mem_fail_count();
		mem_fail_reset();
		if (c == NULL || s1 == 0 || s2 == 0) {
			cr_assert_gt(failed, 0, "n=%d: fails only when OOM", n);
			cr_assert_eq(diag_last()->code, DIAG_ER_MEMORY_ISSUE,
				     "n=%d: %s", n, diag_msg());
		} else {
			cr_assert_eq(s1, 1);
			cr_assert_eq(s2, 2);
			cr_assert_eq(iproto_client_n_pending(c), 2);
			done = failed == 0;
		}
		iproto_client_delete(c);
		cr_assert_eq(mem_live(), before, "n=%d: leaked", n);
	}
	cr_assert(done, "the loop reached a run with no failure");
	rt_delete(srt);
	cr_assert_eq(mem_live(), start);
}
