/*
 * test_iproto.c — the server on the simulator: Kharon's coalescing, the
 * input double-buffering rules, the output rotation rules, disconnects in
 * the middle of pushes, determinism.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/mem.h"
#include "iproto/iproto.h"
#include "iproto/iproto_connection.h"
#include "proto/errcode.h"
#include "proto/iproto_constants.h"
#include "proto/xrow.h"
#include "proto/mp.h"
#include "rt/rt.h"
#include "sim_client.h"
#include "trace/trace.h"

/* ------------------------------------------------------ recorded events */

enum { EV_MAX = 400000, EV_FIELDS = 6 };

struct recorded {
	const char *ev;
	char cord[16];
	uint64_t t;
	int n;
	const char *keys[EV_FIELDS];
	int64_t vals[EV_FIELDS];
};

static struct recorded *events;
static int n_events;

static void
record_sink(void *arg, const struct trace_event *e)
{
	(void)arg;
	if (n_events >= EV_MAX)
		return;
	struct recorded *r = &events[n_events++];
	r->ev = e->ev;
	snprintf(r->cord, sizeof(r->cord), "%s", e->cord);
	r->t = e->t;
	r->n = e->n_fields < EV_FIELDS ? e->n_fields : EV_FIELDS;
	for (int i = 0; i < r->n; i++) {
		r->keys[i] = e->fields[i].key;
		r->vals[i] = e->fields[i].s == NULL ? e->fields[i].i : 0;
	}
}

static void
record_start(void)
{
	events = calloc(EV_MAX, sizeof(*events));
	n_events = 0;
	trace_set_sink(record_sink, NULL);
}

static void
record_stop(void)
{
	trace_set_sink(NULL, NULL);
	free(events);
	events = NULL;
}

static int
count_events(const char *ev)
{
	int n = 0;
	for (int i = 0; i < n_events; i++)
		n += strcmp(events[i].ev, ev) == 0;
	return n;
}

/* --------------------------------------------------------------- system */

static struct rt *rt;
static struct iproto_server *server;
static char addr[64];
static int64_t mem_start;

static void
server_up(const struct iproto_opts *custom, uint64_t seed)
{
	mem_start = mem_live();
	sim_server_up(&rt, &server, addr, custom, seed);
}

static void
server_down(void)
{
	sim_server_down(rt, server, mem_start);
}

/** MsgPack args [n, "x"] into buf; returns the end. */
static char *
args_push(char *buf, uint64_t n)
{
	char *p = mp_encode_array(buf, 2);
	p = mp_encode_uint(p, n);
	return mp_encode_str(p, "x", 1);
}

/* --------------------------------------------------------------- Kharon */

static void
check_push_burst(enum push_mode mode, uint64_t *push_msgs)
{
	struct iproto_opts opts;
	iproto_opts_default(&opts);
	opts.push_mode = mode;
	record_start();
	server_up(&opts, 1);
	struct sim_client c;
	sim_client_create(&c, rt, "client0", addr);
	char args[32];
	sim_client_call(&c, 7, "push", args, args_push(args, 1000));
	sim_client_start(&c);
	rt_run(rt);

	static struct sim_reply replies[1100];
	int n = sim_client_replies(&c, replies, 1100);
	cr_assert_eq(n, 1001, "got %d replies", n);
	for (int i = 0; i < 1000; i++) {
		cr_assert_eq(replies[i].code, IPROTO_CHUNK, "reply %d", i);
		cr_assert_eq(replies[i].sync, 7);
		/* [[i + 1, "x"]] */
		const char *p = replies[i].data;
		cr_assert_eq(mp_decode_array(&p), 1);
		cr_assert_eq(mp_decode_array(&p), 2);
		cr_assert_eq(mp_decode_uint(&p), (uint64_t)i + 1, "push order");
	}
	cr_assert_eq(replies[1000].code, IPROTO_OK, "final reply last");
	cr_assert_eq(replies[1000].sync, 7);
	for (int i = 0; i < n; i++)
		sim_reply_destroy(&replies[i]);

	struct iproto_stats st;
	iproto_server_stats(server, &st);
	cr_assert_eq(st.n_pushes, 1000);
	*push_msgs = st.n_push_msgs;
	if (mode == PUSH_MODE_KHARON) {
		int departs = count_events("kharon.depart");
		cr_assert_geq(departs, 1);
		cr_assert_leq(departs, 2, "1 000 pushes in one TX iteration: "
			      "%d departures", departs);
		cr_assert_geq(count_events("kharon.flag"), 1);
	}
	sim_client_destroy(&c);
	server_down();
	record_stop();
}

Test(iproto, kharon_coalesces_a_burst)
{
	uint64_t msgs;
	check_push_burst(PUSH_MODE_KHARON, &msgs);
	cr_assert_leq(msgs, 2);
}

Test(iproto, per_push_sends_a_message_per_push)
{
	uint64_t msgs;
	check_push_burst(PUSH_MODE_PER_PUSH, &msgs);
	cr_assert_eq(msgs, 1000);
}

/* ---------------------------------------------------------------- ibuf */

Test(iproto, ibuf_switch_stop_and_grow)
{
	struct iproto_opts opts;
	iproto_opts_default(&opts);
	opts.readahead = 128;
	record_start();
	server_up(&opts, 2);
	struct sim_client c;
	sim_client_create(&c, rt, "client0", addr);
	for (int i = 1; i <= 64; i++)
		sim_client_ping(&c, (uint64_t)i);
	/* A request bigger than the buffer: it must grow. */
	char big[1100];
	char *p = mp_encode_array(big, 1);
	char s[1000];
	memset(s, 'k', sizeof(s));
	p = mp_encode_str(p, s, sizeof(s));
	sim_client_call(&c, 65, "echo", big, p);
	sim_client_start(&c);
	rt_run(rt);

	static struct sim_reply replies[80];
	int n = sim_client_replies(&c, replies, 80);
	cr_assert_eq(n, 65, "got %d", n);
	for (int i = 0; i < 64; i++) {
		cr_assert_eq(replies[i].code, IPROTO_OK);
		cr_assert_eq(replies[i].sync, (uint64_t)i + 1, "in order");
	}
	cr_assert_eq(replies[64].sync, 65);
	const char *d = replies[64].data;
	cr_assert_eq(mp_decode_array(&d), 1);
	cr_assert_eq(mp_decode_array(&d), 1);
	uint32_t len;
	const char *str = mp_decode_str(&d, &len);
	cr_assert_eq(len, 1000);
	cr_assert_eq(memcmp(str, s, len), 0);
	for (int i = 0; i < n; i++)
		sim_reply_destroy(&replies[i]);

	cr_assert_geq(count_events("ibuf.switch"), 1, "the buffers switched");
	cr_assert_geq(count_events("input.stop"), 1, "both buffers were busy");
	cr_assert_geq(count_events("input.resume"), 1);
	int grew = 0;
	for (int i = 0; i < n_events; i++) {
		if (strcmp(events[i].ev, "ibuf.reserve") != 0)
			continue;
		for (int k = 0; k < events[i].n; k++)
			if (strcmp(events[i].keys[k], "end") == 0 &&
			    events[i].vals[k] > 1000)
				grew = 1;
	}
	cr_assert(grew, "an ibuf grew to fit the big request");
	sim_client_destroy(&c);
	server_down();
	record_stop();
}

/* ---------------------------------------------------------------- obuf */

Test(iproto, obuf_rotation_rules)
{
	struct iproto_connection con;
	memset(&con, 0, sizeof(con));
	obuf_create(&con.obuf[0], 64);
	obuf_create(&con.obuf[1], 64);
	rlist_create(&con.tx.output_waiters);
	con.tx.p_obuf = &con.obuf[0];
	struct iproto_wpos flushed = { &con.obuf[0], { 0, 0, 0 } };

	/* Both empty: keep writing where we are. */
	tx_accept_wpos(&con, &flushed);
	cr_assert_eq(con.tx.p_obuf, &con.obuf[0]);

	/* Current has data, the other is empty: rotate to the empty one. */
	obuf_dup(&con.obuf[0], "abc", 3);
	tx_accept_wpos(&con, &flushed);
	cr_assert_eq(con.tx.p_obuf, &con.obuf[1]);

	/* Both have data and net is still in obuf[0]: no reset, no rotation. */
	obuf_dup(&con.obuf[1], "de", 2);
	tx_accept_wpos(&con, &flushed);
	cr_assert_eq(con.tx.p_obuf, &con.obuf[1]);
	cr_assert_eq(obuf_size(&con.obuf[0]), 3);

	/* Net reports a position in obuf[1]: obuf[0] is done, reset it and
	 * (obuf[1] being non-empty) move to it. */
	flushed.obuf = &con.obuf[1];
	tx_accept_wpos(&con, &flushed);
	cr_assert_eq(obuf_size(&con.obuf[0]), 0, "finished buffer reset");
	cr_assert_eq(con.tx.p_obuf, &con.obuf[0], "rotated to the empty one");
	obuf_destroy(&con.obuf[0]);
	obuf_destroy(&con.obuf[1]);
}

/* ------------------------------------------------ disconnect during push */

Test(iproto, disconnect_during_pushes_1000_rounds)
{
	record_start();
	server_up(NULL, 3);
	uint64_t seed = 12345;
	int accepted = 0, pushed = 0, refused_pushes = 0;
	for (int round = 0; round < 1000; round++) {
		struct sim_client c;
		char name[32];
		snprintf(name, sizeof(name), "c%d", round);
		sim_client_create(&c, rt, name, addr);
		char args[32];
		char *p = mp_encode_array(args, 3);
		p = mp_encode_uint(p, 10);
		p = mp_encode_uint(p, 1);
		p = mp_encode_str(p, "x", 1);
		sim_client_call(&c, 1, "push_every", args, p);
		sim_client_call(&c, 2, "push", args, args_push(args, 20));
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		c.close_after_ns = 1 + (seed >> 33) % 12000000;
		c.close_reset = (seed & 1) != 0;
		sim_client_start(&c);
		n_events = 0;
		rt_run(rt);
		accepted += count_events("conn.accept");
		pushed += count_events("push");
		refused_pushes += count_events("push.closed");
		sim_client_destroy(&c);
		cr_assert_eq(server->threads[0].n_connections, 0,
			     "round %d: connection not freed", round);
	}
	/* A client that leaves within the handshake is never accepted. */
	cr_assert_gt(accepted, 900, "accepted %d pushed %d refused %d", accepted, pushed, refused_pushes);
	/* Some clients left early, some late: both paths were taken. */
	cr_assert_gt(pushed, 1000, "pushes made: %d", pushed);
	cr_assert_gt(refused_pushes, 0, "pushes after disconnect: %d",
		     refused_pushes);
	cr_assert_eq(server->tasks.n_busy, 0);
	server_down();
	record_stop();
}

Test(iproto, push_after_disconnect_fails_cleanly)
{
	record_start();
	server_up(NULL, 4);
	struct sim_client c;
	sim_client_create(&c, rt, "client0", addr);
	char args[32];
	char *p = mp_encode_array(args, 3);
	p = mp_encode_uint(p, 5);
	p = mp_encode_uint(p, 10);
	p = mp_encode_str(p, "x", 1);
	sim_client_call(&c, 1, "push_every", args, p);
	/* Leave after the first push, before the rest. */
	c.close_after_ns = 5 * 1000 * 1000;
	sim_client_start(&c);
	rt_run(rt);
	cr_assert_eq(count_events("push.closed"), 1, "the next push failed, "
		     "the call ended");
	cr_assert_eq(server->threads[0].n_connections, 0);
	sim_client_destroy(&c);
	server_down();
	record_stop();
}

/* ---------------------------------------------------------- determinism */

static int
run_recorded(uint64_t seed, struct recorded **out)
{
	record_start();
	server_up(NULL, seed);
	struct sim_client c[3];
	for (int i = 0; i < 3; i++) {
		char name[32];
		snprintf(name, sizeof(name), "client%d", i);
		sim_client_create(&c[i], rt, name, addr);
		char args[32];
		sim_client_call(&c[i], 1, "push", args, args_push(args, 50));
		sim_client_ping(&c[i], 2);
		sim_client_start(&c[i]);
	}
	rt_run(rt);
	for (int i = 0; i < 3; i++)
		sim_client_destroy(&c[i]);
	server_down();
	int n = n_events;
	*out = events;
	trace_set_sink(NULL, NULL);
	events = NULL;
	return n;
}

Test(iproto, same_seed_same_trace)
{
	struct recorded *a, *b;
	int na = run_recorded(42, &a);
	int nb = run_recorded(42, &b);
	cr_assert_gt(na, 100);
	cr_assert_eq(na, nb);
	for (int i = 0; i < na; i++) {
		cr_assert_str_eq(a[i].ev, b[i].ev, "event %d", i);
		cr_assert_str_eq(a[i].cord, b[i].cord, "event %d", i);
		cr_assert_eq(a[i].t, b[i].t, "event %d", i);
		cr_assert_eq(a[i].n, b[i].n);
		for (int k = 0; k < a[i].n; k++)
			cr_assert_eq(a[i].vals[k], b[i].vals[k], "event %d %s", i,
				     a[i].ev);
	}
	free(a);
	free(b);
}

/* ------------------------------------------------- ibuf rules, one by one */

static struct iproto_server rules_server;
static struct iproto_thread rules_thread;

/** A bare connection with two 128-byte-readahead input buffers. */
static void
rules_con_create(struct iproto_connection *con)
{
	memset(con, 0, sizeof(*con));
	memset(&rules_server, 0, sizeof(rules_server));
	iproto_opts_default(&rules_server.opts);
	rules_server.opts.readahead = 128;
	rules_thread.server = &rules_server;
	con->thread = &rules_thread;
	ibuf_create(&con->ibuf[0], 128);
	ibuf_create(&con->ibuf[1], 128);
	con->p_ibuf = &con->ibuf[0];
}

static void
rules_con_destroy(struct iproto_connection *con)
{
	ibuf_destroy(&con->ibuf[0]);
	ibuf_destroy(&con->ibuf[1]);
}

/** Pretend `n` bytes were read into the current buffer. */
static void
rules_read(struct iproto_connection *con, const char *bytes, size_t n)
{
	memcpy(ibuf_reserve(con->p_ibuf, n), bytes, n);
	ibuf_advance(con->p_ibuf, n);
}

Test(iproto_ibuf_rules, rule1_room_left_reads_in_place_and_restarts_empty)
{
	struct iproto_connection con;
	rules_con_create(&con);
	rules_read(&con, "0123456789", 10);
	char *wpos = con.p_ibuf->wpos;
	struct ibuf *in;
	cr_assert_eq(net_input_buffer(&con, &in), 0);
	cr_assert_eq(in, &con.ibuf[0]);
	cr_assert_eq(con.p_ibuf->wpos, wpos, "nothing moved");
	/* All released: the buffer restarts at its beginning. */
	ibuf_consume(con.p_ibuf, 10);
	cr_assert_eq(net_input_buffer(&con, &in), 0);
	cr_assert_eq(in, &con.ibuf[0]);
	cr_assert_eq(con.p_ibuf->wpos, con.p_ibuf->buf);
	rules_con_destroy(&con);
}

Test(iproto_ibuf_rules, rule2_full_with_only_the_tail_reserves_in_place)
{
	struct iproto_connection con;
	rules_con_create(&con);
	char full[128];
	memset(full, 0x90, sizeof(full));
	rules_read(&con, full, sizeof(full));
	/* 120 bytes answered already, 8 are an unparsed tail. */
	ibuf_consume(con.p_ibuf, 120);
	con.parse_size = 8;
	struct ibuf *in;
	cr_assert_eq(net_input_buffer(&con, &in), 0);
	cr_assert_eq(in, &con.ibuf[0], "no switch");
	cr_assert_eq(ibuf_used(in), 8);
	cr_assert_geq(ibuf_unused(in), 3);
	cr_assert_eq(in->last_move, IBUF_MOVE_COMPACT);
	rules_con_destroy(&con);
}

Test(iproto_ibuf_rules, rule3_both_busy_stops_reading)
{
	struct iproto_connection con;
	rules_con_create(&con);
	char full[128];
	memset(full, 0x90, sizeof(full));
	rules_read(&con, full, sizeof(full));
	/* Requests in flight in ibuf[0] (no tail) and in ibuf[1]. */
	memcpy(ibuf_reserve(&con.ibuf[1], 10), full, 10);
	ibuf_advance(&con.ibuf[1], 10);
	struct ibuf *in = &con.ibuf[0];
	cr_assert_eq(net_input_buffer(&con, &in), 0);
	cr_assert_null(in);
	cr_assert_eq(ibuf_used(&con.ibuf[0]), 128, "nothing touched");
	rules_con_destroy(&con);
}

Test(iproto_ibuf_rules, rule4_switch_moves_the_partial_tail)
{
	struct iproto_connection con;
	rules_con_create(&con);
	char full[128];
	for (int i = 0; i < 128; i++)
		full[i] = (char)i;
	rules_read(&con, full, sizeof(full));
	/* 100 bytes of requests in flight, a 28-byte partial request. */
	con.parse_size = 28;
	char *in_flight = con.ibuf[0].buf;
	struct ibuf *in;
	cr_assert_eq(net_input_buffer(&con, &in), 0);
	cr_assert_eq(in, &con.ibuf[1], "switched");
	cr_assert_eq(con.p_ibuf, &con.ibuf[1]);
	cr_assert_eq(ibuf_used(in), 28);
	cr_assert_eq(memcmp(in->rpos, full + 100, 28), 0, "tail moved across");
	cr_assert_eq(ibuf_used(&con.ibuf[0]), 100, "in-flight bytes stay");
	cr_assert_eq(con.ibuf[0].buf, in_flight, "and do not move");
	rules_con_destroy(&con);
}

Test(iproto_ibuf_rules, idle_huge_buffer_is_freed)
{
	struct iproto_connection con;
	rules_con_create(&con);
	/* One huge request made ibuf[1] grow past 18 x readahead. */
	cr_assert_not_null(ibuf_reserve(&con.ibuf[1], 128 * 20));
	cr_assert_geq(ibuf_capacity(&con.ibuf[1]), 128 * 18);
	char full[128];
	memset(full, 0x90, sizeof(full));
	rules_read(&con, full, sizeof(full));
	con.parse_size = 0;
	/* Switching to the idle huge buffer recreates it at readahead size. */
	struct ibuf *in;
	cr_assert_eq(net_input_buffer(&con, &in), 0);
	cr_assert_eq(in, &con.ibuf[1]);
	cr_assert_lt(ibuf_capacity(in), 128 * 18, "capacity %zu",
		     ibuf_capacity(in));
	rules_con_destroy(&con);
}

/* ------------------------------------------------------- out of memory */

/*
 * Every allocation the server makes while serving one call is made to fail
 * in turn (the Nth from the client's start, for every N up to where the
 * call no longer allocates). Whatever failed, the client is never left
 * hanging: it gets its reply, or an error packet and the end of the
 * stream. Tarantool answers an input buffer it cannot allocate with an
 * out-of-memory error and closes (iproto_connection_on_input); before
 * net_input_buffer told "no memory" from "both buffers busy", kharon
 * stopped reading instead and the connection stalled forever.
 */
Test(iproto, out_of_memory_answers_or_closes_never_stalls)
{
	int n_no_memory = 0, n_replied = 0, n_closed = 0;
	for (int64_t nth = 1; nth <= 200; nth++) {
		record_start();
		server_up(NULL, 3);
		struct sim_client c;
		sim_client_create(&c, rt, "client0", addr);
		char args[400];
		char *p = mp_encode_array(args, 1);
		char text[300];
		memset(text, 'a', sizeof(text));
		p = mp_encode_str(p, text, sizeof(text));
		sim_client_call(&c, 1, "echo", args, p);
		sim_client_start(&c);
		/* Cords started (their own set-up may not fail), then count. */
		rt_sim_run_until(rt, 1000);
		mem_fail_after(nth, 0);
		rt_run(rt);
		bool failed_one = mem_fail_count() != 0;
		mem_fail_reset();
		struct sim_reply replies[4];
		int n = sim_client_replies(&c, replies, 4);
		bool replied = false, error = false;
		for (int i = 0; i < n; i++) {
			replied |= replies[i].sync == 1;
			error |= replies[i].error != NULL;
			sim_reply_destroy(&replies[i]);
		}
		cr_assert(replied || (c.is_eof && (error || n == 0)),
			  "allocation %lld failed: %d replies, eof %d: the "
			  "client is left waiting", (long long)nth, n,
			  c.is_eof);
		int no_memory = count_events("input.no_memory");
		cr_assert(no_memory == 0 || (error && c.is_eof),
			  "allocation %lld: out of memory for input is "
			  "answered with an error, then the end", (long long)nth);
		n_no_memory += no_memory;
		n_replied += replied;
		n_closed += !replied;
		sim_client_destroy(&c);
		server_down();
		record_stop();
		if (!failed_one)
			break;
	}
	cr_assert_gt(n_no_memory, 0, "the input buffer's failure was reached");
	cr_assert_gt(n_closed, 0);
	cr_assert_gt(n_replied, 0);
}

/** Read from a blocking socket until EOF (or 5 s); returns bytes read. */
static size_t
read_to_eof(int fd, char *buf, size_t size, bool *eof)
{
	size_t got = 0;
	*eof = false;
	while (got < size) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 5000) != 1)
			break;
		ssize_t n = read(fd, buf + got, size - got);
		if (n <= 0) {
			*eof = n == 0 || errno == ECONNRESET;
			break;
		}
		got += (size_t)n;
	}
	return got;
}

/* The same on real threads: the first allocation after the greeting is the
 * input buffer's; it fails, the client reads an error packet, then EOF. */
Test(iproto, out_of_memory_for_input_on_real_threads)
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
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)iproto_server_port(srv)),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	char buf[4096];
	bool eof;
	size_t n = 0;
	while (n < 128) {
		ssize_t r = read(fd, buf + n, 128 - n);
		cr_assert_gt(r, 0, "greeting");
		n += (size_t)r;
	}
	mem_fail_after(1, 0);
	char ping[32];
	size_t len = xrow_encode_ping(ping, sizeof(ping), 9, XROW_ENC_NETBOX);
	cr_assert_eq(write(fd, ping, len), (ssize_t)len);
	n = read_to_eof(fd, buf, sizeof(buf), &eof);
	cr_assert_eq(mem_fail_count(), 1, "the input buffer's allocation failed");
	mem_fail_reset();
	cr_assert(eof, "the connection is closed, not left stalled");
	struct iproto_response resp;
	size_t flen;
	cr_assert_eq(iproto_frame(buf, buf + n, 1 << 20, &flen), IPROTO_FRAME_OK,
		     "an error packet came first (%zu bytes)", n);
	size_t prefix = mp_uint_len(*buf);
	cr_assert_eq(xrow_decode_response(&resp, buf + prefix, buf + flen), 0);
	cr_assert_eq(resp.code, IPROTO_TYPE_ERROR | ER_MEMORY_ISSUE);
	close(fd);
	iproto_server_shutdown(srv, 1000000000);
	rt_run(trt);
	iproto_server_delete(srv);
	rt_delete(trt);
	cr_assert_eq(mem_live(), start);
}

/* ------------------------------------------------------ limits */

Test(iproto, net_msg_max_parks_and_resumes)
{
	struct iproto_opts opts;
	iproto_opts_default(&opts);
	opts.net_msg_max = 2;
	record_start();
	server_up(&opts, 5);
	enum { N_CLIENTS = 5, N_REQ = 10 };
	struct sim_client c[N_CLIENTS];
	for (int i = 0; i < N_CLIENTS; i++) {
		char name[32];
		snprintf(name, sizeof(name), "client%d", i);
		sim_client_create(&c[i], rt, name, addr);
		for (int k = 1; k <= N_REQ; k++)
			sim_client_ping(&c[i], (uint64_t)k);
		sim_client_start(&c[i]);
	}
	rt_run(rt);
	for (int i = 0; i < N_CLIENTS; i++) {
		struct sim_reply replies[N_REQ + 1];
		int n = sim_client_replies(&c[i], replies, N_REQ + 1);
		cr_assert_eq(n, N_REQ, "client %d got %d", i, n);
		for (int k = 0; k < n; k++) {
			cr_assert_eq(replies[k].sync, (uint64_t)k + 1);
			sim_reply_destroy(&replies[k]);
		}
		sim_client_destroy(&c[i]);
	}
	struct iproto_stats st;
	iproto_server_stats(server, &st);
	cr_assert_gt(st.n_net_msg_max_parks, 0, "connections were parked");
	cr_assert_gt(count_events("input.resume"), 0);
	/*
	 * 50 requests went through a pool of messages: every one is back,
	 * and the pool keeps no more than can ever be in flight (the
	 * iproto_msg mempool: net_msg_max is its count).
	 */
	struct iproto_thread *t = &server->threads[0];
	cr_assert_eq(t->n_msg, 0);
	cr_assert_gt(t->n_msg_free, 0, "messages are reused");
	cr_assert_leq(t->n_msg_free, 2);
	server_down();
	record_stop();
}

Test(iproto, obuf_limit_closes_a_slow_reader_only)
{
	struct iproto_opts opts;
	iproto_opts_default(&opts);
	opts.obuf_limit = 256 * 1024;
	server_up(&opts, 6);
	/* The slow one never reads: its socket buffers fill, output piles up. */
	struct sim_client slow, fast;
	sim_client_create(&slow, rt, "slow", addr);
	slow.is_not_reading = true;
	char args[64];
	char *p = mp_encode_array(args, 2);
	p = mp_encode_uint(p, 2000);
	char payload[1000];
	memset(payload, 'z', sizeof(payload));
	char big_args[1100];
	p = mp_encode_array(big_args, 2);
	p = mp_encode_uint(p, 2000);
	p = mp_encode_str(p, payload, sizeof(payload));
	sim_client_call(&slow, 1, "push", big_args, p);
	sim_client_start(&slow);
	sim_client_create(&fast, rt, "fast", addr);
	sim_client_ping(&fast, 1);
	sim_client_call(&fast, 2, "push", args, args_push(args, 10));
	sim_client_start(&fast);
	rt_run(rt);
	struct iproto_stats st;
	iproto_server_stats(server, &st);
	cr_assert_eq(st.n_obuf_limit_closes, 1);
	cr_assert_eq(server->threads[0].n_connections, 1, "only the slow one "
		     "was closed");
	struct sim_reply replies[16];
	int n = sim_client_replies(&fast, replies, 16);
	cr_assert_eq(n, 12, "the other client was served: %d", n);
	for (int i = 0; i < n; i++)
		sim_reply_destroy(&replies[i]);
	sim_client_destroy(&slow);
	sim_client_destroy(&fast);
	server_down();
}

/* ---------------------------------------------------- graceful shutdown */

static void
admin_start(void *arg)
{
	(void)arg;
}

static void
shutdown_at(void *arg)
{
	iproto_server_shutdown(arg, 5ULL * 1000 * 1000 * 1000);
}

Test(iproto, shutdown_finishes_what_is_in_flight)
{
	server_up(NULL, 7);
	enum { N = 20 };
	struct sim_client c[N];
	for (int i = 0; i < N; i++) {
		char name[32];
		snprintf(name, sizeof(name), "client%d", i);
		sim_client_create(&c[i], rt, name, addr);
		char args[16];
		char *p = mp_encode_array(args, 1);
		p = mp_encode_uint(p, 50);
		for (int k = 1; k <= 5; k++)
			sim_client_call(&c[i], (uint64_t)k, "sleep", args, p);
		sim_client_start(&c[i]);
	}
	/* 10 ms in, every call is sleeping: shut down now. */
	struct rt_cord *admin = rt_cord_new(rt, "admin");
	struct rt_timer *t = rt_timer_new(admin, shutdown_at, server);
	rt_cord_start(admin, admin_start, NULL);
	rt_timer_start(t, 10ULL * 1000 * 1000);
	rt_run(rt);
	for (int i = 0; i < N; i++) {
		struct sim_reply replies[8];
		int n = sim_client_replies(&c[i], replies, 8);
		cr_assert_eq(n, 5, "client %d: %d replies before the close", i, n);
		for (int k = 0; k < n; k++) {
			cr_assert_eq(replies[k].code, IPROTO_OK);
			sim_reply_destroy(&replies[k]);
		}
		cr_assert(c[i].is_eof, "the server closed the connection");
		sim_client_destroy(&c[i]);
	}
	cr_assert_eq(server->threads[0].n_connections, 0);
	rt_timer_delete(t);
	iproto_server_delete(server);
	rt_delete(rt);
	cr_assert_eq(mem_live(), mem_start);
}

/* ------------------------------------------------------- backpressure */

Test(iproto, a_client_that_does_not_read_cannot_send_more)
{
	struct iproto_opts opts;
	iproto_opts_default(&opts);
	opts.readahead = 128;
	record_start();
	mem_start = mem_live();
	/* Small socket buffers: the replies jam quickly. */
	struct rt_sim_opts sim = { .seed = 8, .net = { .sndbuf = 4096,
						       .rcvbuf = 4096 } };
	rt = rt_sim_new(&sim);
	strcpy(opts.listen, "127.0.0.1:0");
	server = iproto_server_new(rt, &opts);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", iproto_server_port(server));
	iproto_server_start(server);
	struct sim_client c;
	sim_client_create(&c, rt, "client0", addr);
	c.is_not_reading = true;
	enum { N = 40 };
	char args[16];
	char *p = mp_encode_array(args, 1);
	p = mp_encode_uint(p, 5000);
	for (int i = 1; i <= N; i++)
		sim_client_call(&c, (uint64_t)i, "big", args, p);
	sim_client_start(&c);
	rt_sim_run_until(rt, 50ULL * 1000 * 1000);
	/*
	 * Both input buffers hold requests whose replies cannot be written:
	 * reading stays stopped, so only a few of the 40 were even parsed
	 * and the output piled up in the server is bounded by them.
	 */
	int parsed = count_events("req.parse");
	cr_assert_lt(parsed, N * 3 / 4, "parsed %d of %d while the client sleeps",
		     parsed, N);
	cr_assert_geq(count_events("input.stop"), 1);
	sim_client_close(&c);
	rt_run(rt);
	sim_client_destroy(&c);
	server_down();
	record_stop();
}

static void
shutdown_quickly(void *arg)
{
	iproto_server_shutdown(arg, 100ULL * 1000 * 1000);
}

Test(iproto, grace_period_cuts_long_calls_short)
{
	record_start();
	server_up(NULL, 11);
	struct sim_client c;
	sim_client_create(&c, rt, "client0", addr);
	char args[16];
	char *p = mp_encode_array(args, 1);
	p = mp_encode_uint(p, 3600 * 1000);
	sim_client_call(&c, 1, "sleep", args, p);
	sim_client_start(&c);
	struct rt_cord *admin = rt_cord_new(rt, "admin");
	struct rt_timer *t = rt_timer_new(admin, shutdown_quickly, server);
	rt_cord_start(admin, admin_start, NULL);
	rt_timer_start(t, 10ULL * 1000 * 1000);
	rt_run(rt);
	/* An hour's sleep did not hold the server: 10 ms + 100 ms of grace. */
	cr_assert_lt(rt_now(rt), 1000ULL * 1000 * 1000, "stopped at %llu ns",
		     (unsigned long long)rt_now(rt));
	cr_assert_eq(count_events("task.cancel"), 1);
	cr_assert_eq(server->threads[0].n_connections, 0);
	cr_assert_eq(server->tasks.n_busy, 0);
	/* The cut-short call's error reply reached the client before EOF. */
	struct sim_reply replies[2];
	int n = sim_client_replies(&c, replies, 2);
	cr_assert_eq(n, 1, "replies: %d", n);
	cr_assert_eq(replies[0].sync, 1);
	cr_assert_not_null(replies[0].error);
	cr_assert_not_null(strstr(replies[0].error, "shutting down"), "%s",
			   replies[0].error);
	cr_assert(c.is_eof);
	sim_reply_destroy(&replies[0]);
	sim_client_destroy(&c);
	rt_timer_delete(t);
	iproto_server_delete(server);
	rt_delete(rt);
	cr_assert_eq(mem_live(), mem_start);
	record_stop();
}
