/*
 * test_invariants.c — each trace rule catches its violation, and a real
 * server run on the simulator breaks none.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "iproto/iproto.h"
#include "proto/mp.h"
#include "rt/rt.h"
#include "scenario/invariants.h"
#include "sim_client.h"
#include "trace/trace.h"

static uint64_t seq;

static void
feed(struct invariants *inv, const char *ev, const char *cord,
     const struct trace_field *f, int n)
{
	struct trace_event e = { ++seq, 0, cord, ev, f, n, 0 };
	invariants_feed(inv, &e);
}

#define FEED(inv, ev, ...) do { \
	const struct trace_field f_[] = { __VA_ARGS__ }; \
	feed((inv), (ev), "tx", f_, (int)(sizeof(f_) / sizeof(f_[0]))); \
} while (0)

Test(invariants, kharon_twice_in_flight)
{
	struct invariants *inv = invariants_new();
	FEED(inv, "kharon.depart", TI("conn", 1));
	FEED(inv, "kharon.return", TI("conn", 1));
	FEED(inv, "kharon.depart", TI("conn", 1));
	FEED(inv, "kharon.depart", TI("conn", 2));
	cr_assert_eq(invariants_count(inv, INVARIANT_KHARON_SINGLE), 0);
	FEED(inv, "kharon.depart", TI("conn", 1));
	cr_assert_eq(invariants_finish(inv), 1);
	cr_assert_eq(invariants_count(inv, INVARIANT_KHARON_SINGLE), 1);
	cr_assert_not_null(strstr(invariants_first(inv, INVARIANT_KHARON_SINGLE),
				  "already away"));
	invariants_delete(inv);
}

Test(invariants, cmsg_lost_or_duplicated)
{
	struct invariants *inv = invariants_new();
	FEED(inv, "cpipe.push", TI("msg", 7));
	FEED(inv, "cmsg.hop", TI("msg", 7));
	FEED(inv, "cmsg.hop", TI("msg", 7));
	FEED(inv, "cpipe.push", TI("msg", 8));
	cr_assert_eq(invariants_finish(inv), 2, "one duplicate, one lost");
	cr_assert_eq(invariants_count(inv, INVARIANT_CMSG_ONCE), 2);
	invariants_delete(inv);
}

Test(invariants, push_after_reply)
{
	struct invariants *inv = invariants_new();
	FEED(inv, "client.recv", TI("sync", 3), TI("code", 0x80));
	FEED(inv, "client.recv", TI("sync", 3), TI("code", 0));
	cr_assert_eq(invariants_count(inv, INVARIANT_PUSH_BEFORE_REPLY), 0);
	FEED(inv, "client.recv", TI("sync", 3), TI("code", 0x80));
	cr_assert_eq(invariants_finish(inv), 1);
	invariants_delete(inv);
}

Test(invariants, patch_without_reservation)
{
	struct invariants *inv = invariants_new();
	FEED(inv, "obuf.reserve", TI("conn", 1), TI("sync", 2), TI("buf", 0),
	     TI("svp", 100));
	FEED(inv, "obuf.patch", TI("conn", 1), TI("sync", 2), TI("buf", 0),
	     TI("svp", 100));
	cr_assert_eq(invariants_count(inv, INVARIANT_PATCH_IN_RESERVATION), 0);
	FEED(inv, "obuf.patch", TI("conn", 1), TI("sync", 2), TI("buf", 0),
	     TI("svp", 100));
	cr_assert_eq(invariants_finish(inv), 1, "patched twice");
	invariants_delete(inv);
}

Test(invariants, ibuf_reserved_with_requests_in_flight)
{
	struct invariants *inv = invariants_new();
	FEED(inv, "req.parse", TI("conn", 1), TI("buf", 0), TI("len", 10));
	FEED(inv, "ibuf.reserve", TI("conn", 1), TI("buf", 1), TI("len", 3));
	cr_assert_eq(invariants_count(inv, INVARIANT_IBUF_RESERVE_IDLE), 0,
		     "the other buffer is idle");
	FEED(inv, "ibuf.reserve", TI("conn", 1), TI("buf", 0), TI("len", 3));
	cr_assert_eq(invariants_count(inv, INVARIANT_IBUF_RESERVE_IDLE), 1);
	FEED(inv, "ibuf.release", TI("conn", 1), TI("buf", 0), TI("len", 10));
	FEED(inv, "ibuf.reserve", TI("conn", 1), TI("buf", 0), TI("len", 3));
	cr_assert_eq(invariants_finish(inv), 1);
	invariants_delete(inv);
}

/* ------------------------------------------------ a real run obeys all */

static struct invariants *checker;

static void
check_sink(void *arg, const struct trace_event *e)
{
	(void)arg;
	invariants_feed(checker, e);
}

Test(invariants, server_run_obeys_every_rule)
{
	int64_t live = mem_live();
	checker = invariants_new();
	trace_set_sink(check_sink, NULL);
	struct rt_sim_opts sim = { .seed = 9 };
	struct rt *rt = rt_sim_new(&sim);
	struct iproto_opts opts;
	iproto_opts_default(&opts);
	opts.readahead = 128;
	strcpy(opts.listen, "127.0.0.1:0");
	struct iproto_server *server = iproto_server_new(rt, &opts);
	char addr[64];
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", iproto_server_port(server));
	iproto_server_start(server);
	struct sim_client c[4];
	for (int i = 0; i < 4; i++) {
		char name[32];
		snprintf(name, sizeof(name), "client%d", i);
		sim_client_create(&c[i], rt, name, addr);
		char args[64];
		char *p = mp_encode_array(args, 3);
		p = mp_encode_uint(p, 20);
		p = mp_encode_uint(p, 1);
		p = mp_encode_str(p, "xyz", 3);
		sim_client_call(&c[i], 1, "push_every", args, p);
		for (int k = 0; k < 30; k++)
			sim_client_ping(&c[i], (uint64_t)k + 2);
		p = mp_encode_array(args, 2);
		p = mp_encode_uint(p, 300);
		p = mp_encode_str(p, "abc", 3);
		sim_client_call(&c[i], 40, "push", args, p);
		if (i == 3)
			c[i].close_after_ns = 7 * 1000 * 1000;
		sim_client_start(&c[i]);
	}
	rt_run(rt);
	iproto_server_shutdown(server, 1000000000);
	rt_run(rt);
	for (int i = 0; i < 4; i++)
		sim_client_destroy(&c[i]);
	iproto_server_delete(server);
	rt_delete(rt);
	trace_set_sink(NULL, NULL);
	int n = invariants_finish(checker);
	for (int i = 0; i < INVARIANT_MAX; i++)
		cr_expect_eq(invariants_count(checker, (enum invariant)i), 0,
			     "%s: %s", invariant_name((enum invariant)i),
			     invariants_first(checker, (enum invariant)i));
	cr_assert_eq(n, 0);
	cr_assert_gt(invariants_n_events(checker), 1000);
	invariants_delete(checker);
	cr_assert_eq(mem_live(), live);
}

Test(invariants, wend_moves_forward_until_a_reset)
{
	struct invariants *inv = invariants_new();
	FEED(inv, "net.reply", TI("conn", 1), TI("wend_buf", 0), TI("wend", 100));
	FEED(inv, "kharon.arrive", TI("conn", 1), TI("wend_buf", 0),
	     TI("wend", 150));
	FEED(inv, "net.reply", TI("conn", 1), TI("wend_buf", 1), TI("wend", 10));
	/* obuf 0 is reset by TX, then written from its start again. */
	FEED(inv, "obuf.reset", TI("conn", 1), TI("buf", 0));
	FEED(inv, "net.reply", TI("conn", 1), TI("wend_buf", 0), TI("wend", 20));
	cr_assert_eq(invariants_count(inv, INVARIANT_WEND_FORWARD), 0);
	FEED(inv, "push.arrive", TI("conn", 1), TI("wend_buf", 0), TI("wend", 5));
	cr_assert_eq(invariants_finish(inv), 1);
	cr_assert_eq(invariants_count(inv, INVARIANT_WEND_FORWARD), 1);
	invariants_delete(inv);
}
