/*
 * test_iproto.c — the server on the simulator: Kharon's coalescing, the
 * input double-buffering rules, the output rotation rules, disconnects in
 * the middle of pushes, determinism.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "iproto/iproto.h"
#include "iproto/iproto_connection.h"
#include "proto/iproto_constants.h"
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
	struct rt_sim_opts sim = { .seed = seed };
	rt = rt_sim_new(&sim);
	cr_assert_not_null(rt);
	struct iproto_opts opts;
	if (custom != NULL)
		opts = *custom;
	else
		iproto_opts_default(&opts);
	strcpy(opts.listen, "127.0.0.1:0");
	server = iproto_server_new(rt, &opts);
	cr_assert_not_null(server);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", iproto_server_port(server));
	cr_assert_eq(iproto_server_start(server), 0);
}

static void
server_down(void)
{
	iproto_server_shutdown(server, 1000000000);
	rt_run(rt);
	iproto_server_delete(server);
	rt_delete(rt);
	cr_assert_eq(mem_live(), mem_start, "leaked %lld blocks",
		     (long long)(mem_live() - mem_start));
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
