/*
 * cbus_stress.c — a million messages between three real cords.
 *
 * A plain main(), not Criterion: Criterion aborts at start under TSan
 * (upstream issue 274), and this test exists to be run under TSan by
 * `make tsan` (it also runs uninstrumented in `make test`).
 *
 * Every cord sends to both others in batches of random size (1..64), one
 * batch per loop iteration, some with a small max_input so forced flushes
 * happen too. Each message carries (sender, receiver, seq, value). The
 * receiver checks that seq grows by exactly one per (sender -> receiver)
 * pipe — FIFO — and adds up the values. Pass: every message delivered
 * once, sum sent == sum received, no disorder, no TSan report.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/mem.h"
#include "cbus/cbus.h"
#include "rt/rt.h"

enum { N_CORDS = 3, TOTAL = 1000000, PER_CORD = (TOTAL + N_CORDS - 1) / N_CORDS };

struct stress_msg {
	struct cmsg base;
	int from, to;
	int64_t seq;
	int64_t value;
};

struct stress_cord {
	int id;
	struct rt_cord *cord;
	struct cbus_endpoint ep;
	/** pipes[j]: to cord j (unused for j == id). */
	struct cpipe pipes[N_CORDS];
	struct rt_timer *tick;
	int64_t n_sent;
	int64_t next_seq[N_CORDS];
	/** Expected seq from each sender; written only by this cord. */
	int64_t expect_seq[N_CORDS];
	uint64_t rnd;
};

static struct stress_cord cords[N_CORDS];
static atomic_llong sum_sent, sum_received, n_received, n_disorder;
static atomic_int n_ready;
static struct rt *rt;

static uint64_t
next_random(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void
stress_receive(struct cmsg *m)
{
	struct stress_msg *msg = (struct stress_msg *)m;
	struct stress_cord *self = &cords[msg->to];
	if (msg->seq != self->expect_seq[msg->from])
		atomic_fetch_add(&n_disorder, 1);
	self->expect_seq[msg->from] = msg->seq + 1;
	atomic_fetch_add(&sum_received, msg->value);
	long long n = atomic_fetch_add(&n_received, 1) + 1;
	mem_free(msg);
	if (n == (long long)PER_CORD * N_CORDS)
		for (int i = 0; i < N_CORDS; i++)
			rt_cord_stop(cords[i].cord);
}

static const struct cmsg_hop stress_route[] = {
	CMSG_HOP(stress_receive, NULL),
};

/** One loop iteration of a sender: one batch to a random neighbour. */
static void
stress_tick(void *arg)
{
	struct stress_cord *self = arg;
	if (self->n_sent >= PER_CORD)
		return;
	int to = (self->id + 1 + (int)(next_random(&self->rnd) % (N_CORDS - 1))) % N_CORDS;
	int batch = 1 + (int)(next_random(&self->rnd) % 64);
	for (int k = 0; k < batch && self->n_sent < PER_CORD; k++) {
		struct stress_msg *msg = mem_alloc(sizeof(*msg));
		if (msg == NULL) {
			fprintf(stderr, "out of memory\n");
			abort();
		}
		msg->from = self->id;
		msg->to = to;
		msg->seq = self->next_seq[to]++;
		msg->value = (int64_t)(next_random(&self->rnd) % 1000);
		atomic_fetch_add(&sum_sent, msg->value);
		cmsg_init(&msg->base, stress_route);
		cpipe_push(&self->pipes[to], &msg->base);
		self->n_sent++;
	}
	rt_timer_start(self->tick, 0);
}

static void
stress_start(void *arg)
{
	struct stress_cord *self = arg;
	for (int j = 0; j < N_CORDS; j++) {
		if (j == self->id)
			continue;
		char name[16];
		snprintf(name, sizeof(name), "s%d", j);
		if (cpipe_create(&self->pipes[j], name) != 0)
			abort();
		/* One pipe in three flushes early, as at max_input. */
		if ((self->id + j) % 3 == 0)
			cpipe_set_max_input(&self->pipes[j], 16);
	}
	self->tick = rt_timer_new(self->cord, stress_tick, self);
	atomic_fetch_add(&n_ready, 1);
	/* Everyone's pipes exist before anyone sends. */
	while (atomic_load(&n_ready) < N_CORDS)
		;
	stress_tick(self);
}

int
main(void)
{
	rt = rt_thread_new();
	if (rt == NULL)
		return 1;
	for (int i = 0; i < N_CORDS; i++) {
		char name[16];
		snprintf(name, sizeof(name), "s%d", i);
		cords[i].id = i;
		cords[i].rnd = 0x9e3779b97f4a7c15ULL * (uint64_t)(i + 1);
		cords[i].cord = rt_cord_new(rt, name);
		if (cords[i].cord == NULL ||
		    cbus_endpoint_create(&cords[i].ep, name, cords[i].cord,
					 NULL, NULL) != 0)
			return 1;
	}
	for (int i = 0; i < N_CORDS; i++)
		if (rt_cord_start(cords[i].cord, stress_start, &cords[i]) != 0)
			return 1;
	rt_run(rt);
	uint64_t flushes = 0, wakeups = 0;
	for (int i = 0; i < N_CORDS; i++) {
		for (int j = 0; j < N_CORDS; j++) {
			if (j == i)
				continue;
			flushes += cords[i].pipes[j].n_flush;
			wakeups += cords[i].pipes[j].n_wakeup;
			cpipe_destroy(&cords[i].pipes[j]);
		}
		rt_timer_delete(cords[i].tick);
	}
	for (int i = 0; i < N_CORDS; i++)
		cbus_endpoint_destroy(&cords[i].ep);
	rt_delete(rt);
	long long sent = atomic_load(&sum_sent), got = atomic_load(&sum_received);
	long long n = atomic_load(&n_received), dis = atomic_load(&n_disorder);
	printf("cbus_stress: %lld messages, %llu flushes, %llu wakeups, "
	       "sum sent %lld, sum received %lld, out of order %lld\n",
	       n, (unsigned long long)flushes, (unsigned long long)wakeups,
	       sent, got, dis);
	int ok = n == (long long)PER_CORD * N_CORDS && sent == got && dis == 0 &&
		 mem_live() == 0;
	return ok ? 0 : 1;
}
