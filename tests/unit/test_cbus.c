/*
 * test_cbus.c — cbus batching, routes, FIFO and teardown, on both runtimes.
 *
 * Each case is a function of the runtime mode; Test() entries run it on the
 * simulator and on real threads. The facts checked are Tarantool's own
 * (test/unit/cbus.c): several pushes in one loop iteration make one flush
 * and one wakeup; max_input forces a flush at once; a route visits its cords
 * in order; a pipe is FIFO; a consumer whose queue is not empty is not woken
 * again; destroying a pipe loses nothing. And the what-if delay
 * (cbus_delay.h, simulator): a delayed message holds its pipe, FIFO, and
 * no other; destroying a held pipe hands the held messages over.
 */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <string.h>

#include "base/mem.h"
#include "cbus/cbus.h"
#include "cbus/cbus_delay.h"
#include "rt/rt.h"

enum { MAX_CORDS = 3, MAX_LOG = 4096 };

/** Three cords a, b, c, each with an endpoint of the same name. */
static struct rt *rt;
static struct rt_cord *cords[MAX_CORDS];
static struct cbus_endpoint eps[MAX_CORDS];
static const char *const names[MAX_CORDS] = { "a", "b", "c" };
static int64_t mem_at_start;

static void
system_create(enum rt_mode mode)
{
	mem_at_start = mem_live();
	if (mode == RT_SIM) {
		struct rt_sim_opts opts = { .seed = 1 };
		rt = rt_sim_new(&opts);
	} else {
		rt = rt_thread_new();
	}
	cr_assert_not_null(rt);
	for (int i = 0; i < MAX_CORDS; i++) {
		cords[i] = rt_cord_new(rt, names[i]);
		cr_assert_not_null(cords[i]);
		cr_assert_eq(cbus_endpoint_create(&eps[i], names[i], cords[i],
						  NULL, NULL), 0);
	}
}

static void
system_stop_all(void)
{
	for (int i = 0; i < MAX_CORDS; i++)
		rt_cord_stop(cords[i]);
}

static void
system_destroy(void)
{
	for (int i = 0; i < MAX_CORDS; i++)
		cr_assert_eq(cbus_endpoint_destroy(&eps[i]), 0);
	rt_delete(rt);
	rt = NULL;
	cr_assert_eq(mem_live(), mem_at_start, "leaked %lld blocks",
		     (long long)(mem_live() - mem_at_start));
}

static void
idle_start(void *arg)
{
	(void)arg;
}

/* ------------------------------------------------------------ batching */

struct counted_msg {
	struct cmsg base;
	int seq;
	int producer;
};

static struct cpipe a_to_b;
static struct cpipe a_to_b_2;
static atomic_int n_received;
static int received_seq[MAX_LOG];
static int expected;
static int flushes_inside_iteration;

static void
count_msg(struct cmsg *m)
{
	struct counted_msg *msg = (struct counted_msg *)m;
	int i = atomic_fetch_add(&n_received, 1);
	received_seq[i] = msg->seq;
	if (i + 1 == expected)
		system_stop_all();
}

static const struct cmsg_hop count_route[] = { CMSG_HOP(count_msg, NULL) };
static struct counted_msg msgs[MAX_LOG];

static void
push_three_start(void *arg)
{
	(void)arg;
	cr_assert_eq(cpipe_create(&a_to_b, "b"), 0);
	for (int i = 0; i < 3; i++) {
		msgs[i].seq = i;
		cmsg_init(&msgs[i].base, count_route);
		cpipe_push(&a_to_b, &msgs[i].base);
	}
	/* Nothing has left yet: the flush waits for the iteration's end. */
	flushes_inside_iteration = (int)a_to_b.n_flush;
}

static void
case_three_pushes_one_flush(enum rt_mode mode)
{
	system_create(mode);
	atomic_store(&n_received, 0);
	expected = 3;
	rt_cord_start(cords[1], idle_start, NULL);
	rt_cord_start(cords[2], idle_start, NULL);
	rt_cord_start(cords[0], push_three_start, NULL);
	cr_assert_eq(rt_run(rt), 0);
	cr_assert_eq(flushes_inside_iteration, 0);
	cr_assert_eq(a_to_b.n_flush, 1, "flushes: %llu",
		     (unsigned long long)a_to_b.n_flush);
	cr_assert_eq(a_to_b.n_wakeup, 1);
	cr_assert_eq(eps[1].n_fetch, 1);
	cr_assert_eq(eps[1].n_fetched, 3);
	cr_assert_eq(atomic_load(&n_received), 3);
	cpipe_destroy(&a_to_b);
	system_destroy();
}

Test(cbus, three_pushes_one_flush_sim) { case_three_pushes_one_flush(RT_SIM); }
Test(cbus, three_pushes_one_flush_thread) { case_three_pushes_one_flush(RT_THREAD); }

static void
push_five_max_two_start(void *arg)
{
	(void)arg;
	cr_assert_eq(cpipe_create(&a_to_b, "b"), 0);
	cpipe_set_max_input(&a_to_b, 2);
	for (int i = 0; i < 5; i++) {
		msgs[i].seq = i;
		cmsg_init(&msgs[i].base, count_route);
		cpipe_push(&a_to_b, &msgs[i].base);
		if (i == 1)
			cr_assert_eq(a_to_b.n_flush, 1, "no forced flush at 2");
	}
	flushes_inside_iteration = (int)a_to_b.n_flush;
}

static void
case_flush_at_max_input(enum rt_mode mode)
{
	system_create(mode);
	atomic_store(&n_received, 0);
	expected = 5;
	rt_cord_start(cords[1], idle_start, NULL);
	rt_cord_start(cords[2], idle_start, NULL);
	rt_cord_start(cords[0], push_five_max_two_start, NULL);
	cr_assert_eq(rt_run(rt), 0);
	/* Forced at 2 and 4 inside the iteration, the fifth at its end. */
	cr_assert_eq(flushes_inside_iteration, 2);
	cr_assert_eq(a_to_b.n_flush, 3);
	cr_assert_eq(atomic_load(&n_received), 5);
	for (int i = 0; i < 5; i++)
		cr_assert_eq(received_seq[i], i);
	cpipe_destroy(&a_to_b);
	system_destroy();
}

Test(cbus, flush_at_max_input_sim) { case_flush_at_max_input(RT_SIM); }
Test(cbus, flush_at_max_input_thread) { case_flush_at_max_input(RT_THREAD); }

/* ----------------------------------------------------------- 3-hop route */

static struct cpipe b_to_c, c_to_a;
static const char *visited[8];
static atomic_int n_visited;

static void
visit(struct cmsg *m)
{
	(void)m;
	visited[atomic_fetch_add(&n_visited, 1)] =
		rt_cord_name(rt_cord_current());
}

static void
visit_last(struct cmsg *m)
{
	visit(m);
	system_stop_all();
}

static const struct cmsg_hop three_hop_route[] = {
	CMSG_HOP(visit, &b_to_c),
	CMSG_HOP(visit, &c_to_a),
	CMSG_HOP(visit_last, NULL),
};

static struct cmsg traveller;
static atomic_int pipes_ready;

static void
b_start(void *arg)
{
	(void)arg;
	cr_assert_eq(cpipe_create(&b_to_c, "c"), 0);
	atomic_fetch_add(&pipes_ready, 1);
}

static void
c_start(void *arg)
{
	(void)arg;
	cr_assert_eq(cpipe_create(&c_to_a, "a"), 0);
	atomic_fetch_add(&pipes_ready, 1);
}

static void
a_start_route(void *arg)
{
	(void)arg;
	cr_assert_eq(cpipe_create(&a_to_b, "b"), 0);
	cmsg_init(&traveller, three_hop_route);
	cpipe_push(&a_to_b, &traveller);
}

static void
case_route_visits_cords_in_order(enum rt_mode mode)
{
	system_create(mode);
	atomic_store(&n_visited, 0);
	rt_cord_start(cords[1], b_start, NULL);
	rt_cord_start(cords[2], c_start, NULL);
	/* On threads b and c may not have made their pipes yet: wait. */
	if (mode == RT_THREAD)
		while (atomic_load(&pipes_ready) < 2)
			;
	rt_cord_start(cords[0], a_start_route, NULL);
	cr_assert_eq(rt_run(rt), 0);
	cr_assert_eq(atomic_load(&n_visited), 3);
	cr_assert_str_eq(visited[0], "b");
	cr_assert_str_eq(visited[1], "c");
	cr_assert_str_eq(visited[2], "a");
	cpipe_destroy(&a_to_b);
	cpipe_destroy(&b_to_c);
	cpipe_destroy(&c_to_a);
	memset(&b_to_c, 0, sizeof(b_to_c));
	memset(&c_to_a, 0, sizeof(c_to_a));
	system_destroy();
}

Test(cbus, route_visits_cords_in_order_sim) { case_route_visits_cords_in_order(RT_SIM); }
Test(cbus, route_visits_cords_in_order_thread) { case_route_visits_cords_in_order(RT_THREAD); }

/* ------------------------------------------------------------------ FIFO */

enum { FIFO_PER_PIPE = 1000, FIFO_PER_ITERATION = 7 };

static struct rt_timer *fifo_timer[2];
static int fifo_sent[2];
static int fifo_last_seen[2];
static atomic_int fifo_disorder;

static void
fifo_check(struct cmsg *m)
{
	struct counted_msg *msg = (struct counted_msg *)m;
	if (msg->seq != fifo_last_seen[msg->producer] + 1)
		atomic_fetch_add(&fifo_disorder, 1);
	fifo_last_seen[msg->producer] = msg->seq;
	count_msg(m);
}

static const struct cmsg_hop fifo_route[] = { CMSG_HOP(fifo_check, NULL) };

/** Producer `i` (0 on cord a, 1 on cord c) sends a few per iteration. */
static void
fifo_send_some(void *arg)
{
	int p = (int)(intptr_t)arg;
	struct cpipe *pipe = p == 0 ? &a_to_b : &a_to_b_2;
	for (int k = 0; k < FIFO_PER_ITERATION && fifo_sent[p] < FIFO_PER_PIPE; k++) {
		struct counted_msg *msg = &msgs[p * FIFO_PER_PIPE + fifo_sent[p]];
		msg->seq = fifo_sent[p]++;
		msg->producer = p;
		cmsg_init(&msg->base, fifo_route);
		cpipe_push(pipe, &msg->base);
	}
	if (fifo_sent[p] < FIFO_PER_PIPE)
		rt_timer_start(fifo_timer[p], 1000);
}

static void
fifo_start(void *arg)
{
	int p = (int)(intptr_t)arg;
	cr_assert_eq(cpipe_create(p == 0 ? &a_to_b : &a_to_b_2, "b"), 0);
	fifo_timer[p] = rt_timer_new(rt_cord_current(), fifo_send_some, arg);
	fifo_send_some(arg);
}

static void
case_fifo_per_pipe(enum rt_mode mode)
{
	system_create(mode);
	atomic_store(&n_received, 0);
	atomic_store(&fifo_disorder, 0);
	expected = 2 * FIFO_PER_PIPE;
	fifo_sent[0] = fifo_sent[1] = 0;
	fifo_last_seen[0] = fifo_last_seen[1] = -1;
	rt_cord_start(cords[1], idle_start, NULL);
	rt_cord_start(cords[0], fifo_start, (void *)(intptr_t)0);
	rt_cord_start(cords[2], fifo_start, (void *)(intptr_t)1);
	cr_assert_eq(rt_run(rt), 0);
	cr_assert_eq(atomic_load(&n_received), 2 * FIFO_PER_PIPE);
	cr_assert_eq(atomic_load(&fifo_disorder), 0);
	cr_assert_eq(fifo_last_seen[0], FIFO_PER_PIPE - 1);
	cr_assert_eq(fifo_last_seen[1], FIFO_PER_PIPE - 1);
	/* Batches were made: fewer flushes than messages. */
	cr_assert_lt(a_to_b.n_flush, FIFO_PER_PIPE);
	rt_timer_delete(fifo_timer[0]);
	rt_timer_delete(fifo_timer[1]);
	cpipe_destroy(&a_to_b);
	cpipe_destroy(&a_to_b_2);
	system_destroy();
}

Test(cbus, fifo_per_pipe_sim) { case_fifo_per_pipe(RT_SIM); }
Test(cbus, fifo_per_pipe_thread) { case_fifo_per_pipe(RT_THREAD); }

/* ------------------------------------ no wakeup when the queue is not empty */

static atomic_int gate_open;
static struct rt_timer *second_flush_timer;

/** Consumer b, real threads: busy until the producer has flushed twice. */
static void
b_start_gated(void *arg)
{
	(void)arg;
	while (!atomic_load(&gate_open))
		;
}

static void
push_one(int seq)
{
	msgs[seq].seq = seq;
	cmsg_init(&msgs[seq].base, count_route);
	cpipe_push(&a_to_b, &msgs[seq].base);
}

static void
second_flush(void *arg)
{
	(void)arg;
	push_one(1);
	cpipe_flush(&a_to_b);
	atomic_store(&gate_open, 1);
}

static void
a_start_two_flushes(void *arg)
{
	enum rt_mode mode = (enum rt_mode)(intptr_t)arg;
	cr_assert_eq(cpipe_create(&a_to_b, "b"), 0);
	push_one(0);
	cpipe_flush(&a_to_b);
	if (mode == RT_THREAD) {
		second_flush(NULL);
	} else {
		/* Next iteration of a, long before b's wakeup (2-3 us) lands. */
		second_flush_timer = rt_timer_new(rt_cord_current(), second_flush, NULL);
		rt_timer_start(second_flush_timer, 10);
	}
}

static void
case_no_wakeup_when_queue_not_empty(enum rt_mode mode)
{
	system_create(mode);
	atomic_store(&n_received, 0);
	atomic_store(&gate_open, mode == RT_SIM);
	expected = 2;
	second_flush_timer = NULL;
	rt_cord_start(cords[1], b_start_gated, NULL);
	rt_cord_start(cords[2], idle_start, NULL);
	rt_cord_start(cords[0], a_start_two_flushes, (void *)(intptr_t)mode);
	cr_assert_eq(rt_run(rt), 0);
	cr_assert_eq(a_to_b.n_flush, 2);
	cr_assert_eq(a_to_b.n_wakeup, 1, "woken %llu times",
		     (unsigned long long)a_to_b.n_wakeup);
	cr_assert_eq(eps[1].n_fetch, 1);
	cr_assert_eq(atomic_load(&n_received), 2);
	rt_timer_delete(second_flush_timer);
	cpipe_destroy(&a_to_b);
	system_destroy();
}

Test(cbus, no_wakeup_when_queue_not_empty_sim) { case_no_wakeup_when_queue_not_empty(RT_SIM); }
Test(cbus, no_wakeup_when_queue_not_empty_thread) { case_no_wakeup_when_queue_not_empty(RT_THREAD); }

/* -------------------------------------------- teardown loses nothing */

static void
push_then_destroy_start(void *arg)
{
	(void)arg;
	cr_assert_eq(cpipe_create(&a_to_b, "b"), 0);
	for (int i = 0; i < 3; i++)
		push_one(i);
	cr_assert_eq(a_to_b.n_flush, 0);
	/* Staged, not flushed: destroy must hand them over. */
	cpipe_destroy(&a_to_b);
	cr_assert_eq(eps[1].n_pipes, 0);
}

static void
case_destroy_keeps_staged(enum rt_mode mode)
{
	system_create(mode);
	atomic_store(&n_received, 0);
	expected = 3;
	rt_cord_start(cords[1], idle_start, NULL);
	rt_cord_start(cords[2], idle_start, NULL);
	rt_cord_start(cords[0], push_then_destroy_start, NULL);
	cr_assert_eq(rt_run(rt), 0);
	cr_assert_eq(atomic_load(&n_received), 3);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(received_seq[i], i);
	system_destroy();
}

Test(cbus, destroy_keeps_staged_sim) { case_destroy_keeps_staged(RT_SIM); }
Test(cbus, destroy_keeps_staged_thread) { case_destroy_keeps_staged(RT_THREAD); }

Test(cbus, endpoint_names)
{
	system_create(RT_SIM);
	struct cbus_endpoint dup;
	cr_assert_eq(cbus_endpoint_create(&dup, "a", cords[0], NULL, NULL), -1);
	cr_assert_eq(cbus_endpoint_find(rt, "b"), &eps[1]);
	cr_assert_null(cbus_endpoint_find(rt, "nope"));
	/* A pipe to a missing endpoint fails cleanly (outside a cord too). */
	struct cpipe p;
	cr_assert_eq(cpipe_create(&p, "nope"), -1);
	for (int i = 0; i < MAX_CORDS; i++)
		rt_cord_start(cords[i], idle_start, NULL);
	cr_assert_eq(rt_run(rt), 0);
	system_destroy();
}

/* ------------------------------------------- what if: delay_message */

/*
 * cbus_delay.h, on the simulator (its only user): message id 100, pushed
 * at 0, is held 1 ms in a's pipe to b; message 101, pushed at 0.5 ms into
 * the same pipe, waits behind it (FIFO); a's other pipe to b is not held.
 * Then a delay that outlives the run: destroying the pipe loses nothing.
 */
static uint64_t received_at[MAX_LOG];
static struct rt_timer *delay_timer;
static struct cbus_delay delay_100;

static void
count_msg_at(struct cmsg *m)
{
	received_at[atomic_load(&n_received)] = rt_now(rt);
	count_msg(m);
}

static const struct cmsg_hop count_at_route[] = {
	CMSG_HOP(count_msg_at, NULL)
};

static void
push_id(struct cpipe *pipe, int i, uint32_t id)
{
	msgs[i].seq = i;
	cmsg_init(&msgs[i].base, count_at_route);
	msgs[i].base.id = id;
	cpipe_push(pipe, &msgs[i].base);
}

static void
delay_second_push(void *arg)
{
	(void)arg;
	push_id(&a_to_b, 1, 101);
	push_id(&a_to_b_2, 2, 102);
}

static void
delay_start(void *arg)
{
	(void)arg;
	cr_assert_eq(cpipe_create(&a_to_b, "b"), 0);
	cr_assert_eq(cpipe_create(&a_to_b_2, "b"), 0);
	push_id(&a_to_b, 0, 100);
	delay_timer = rt_timer_new(cords[0], delay_second_push, NULL);
	rt_timer_start(delay_timer, 500000);
}

Test(cbus, delayed_message_holds_its_pipe_only)
{
	system_create(RT_SIM);
	atomic_store(&n_received, 0);
	expected = 3;
	delay_100 = (struct cbus_delay){ .msg = 100, .for_ns = 1000000 };
	cbus_endpoint_add_delay(&eps[1], &delay_100);
	rt_cord_start(cords[1], idle_start, NULL);
	rt_cord_start(cords[2], idle_start, NULL);
	rt_cord_start(cords[0], delay_start, NULL);
	cr_assert_eq(rt_run(rt), 0);
	cr_assert_eq(atomic_load(&n_received), 3);
	cr_assert(delay_100.is_done);
	/* The other pipe first, at 0.5 ms and a hop; then 100, then 101. */
	cr_assert_eq(received_seq[0], 2);
	cr_assert_lt(received_at[0], 1000000);
	cr_assert_eq(received_seq[1], 0);
	cr_assert_eq(received_seq[2], 1);
	cr_assert_geq(received_at[1], 1000000);
	cr_assert_eq(received_at[1], received_at[2], "one batch");
	cr_assert_eq(a_to_b.n_flush, 1, "the release is the pipe's one flush");
	rt_timer_delete(delay_timer);
	cpipe_destroy(&a_to_b);
	cpipe_destroy(&a_to_b_2);
	system_destroy();
}

static void
delay_forever_start(void *arg)
{
	(void)arg;
	cr_assert_eq(cpipe_create(&a_to_b, "b"), 0);
	cr_assert_eq(cpipe_create(&a_to_b_2, "b"), 0);
	push_id(&a_to_b, 0, 100);
	delay_timer = rt_timer_new(cords[0], delay_second_push, NULL);
	rt_timer_start(delay_timer, 500000);
}

static void
stop_all_cb(void *arg)
{
	(void)arg;
	system_stop_all();
}

Test(cbus, destroy_hands_over_what_a_delay_holds)
{
	system_create(RT_SIM);
	atomic_store(&n_received, 0);
	expected = 1000;
	delay_100 = (struct cbus_delay){ .msg = 100,
					 .for_ns = 10ULL * 1000000000 };
	cbus_endpoint_add_delay(&eps[1], &delay_100);
	rt_cord_start(cords[1], idle_start, NULL);
	rt_cord_start(cords[2], idle_start, NULL);
	rt_cord_start(cords[0], delay_forever_start, NULL);
	struct rt_timer *stop = rt_timer_new(cords[2], stop_all_cb, NULL);
	rt_timer_start(stop, 2000000);
	cr_assert_eq(rt_run(rt), 0);
	cr_assert_eq(atomic_load(&n_received), 1, "only the other pipe's");
	cr_assert_eq(a_to_b.n_held, 2);
	rt_timer_delete(stop);
	rt_timer_delete(delay_timer);
	cpipe_destroy(&a_to_b);
	cpipe_destroy(&a_to_b_2);
	cr_assert_eq(a_to_b.n_held, 0);
	system_destroy();
	cr_assert_eq(atomic_load(&n_received), 3, "destroy lost a message");
	cr_assert_eq(received_seq[1], 0);
	cr_assert_eq(received_seq[2], 1);
}
