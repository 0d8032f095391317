/*
 * test_rt_order.c — the two runtimes order deferred callbacks alike:
 * last scheduled first, as libev's pending queue runs them, so a scenario
 * batches the same way on the simulator and on real threads.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "base/mem.h"
#include "rt/rt.h"

static char order[8];
static int n_order;
static struct rt_defer *d_a, *d_b, *d_c;

static void
note_a(void *arg)
{
	(void)arg;
	order[n_order++] = 'A';
	/* Scheduled from a deferred callback: runs right after it. */
	rt_defer_schedule(d_c);
}

static void
note_b(void *arg)
{
	(void)arg;
	order[n_order++] = 'B';
}

static void
note_c(void *arg)
{
	(void)arg;
	order[n_order++] = 'C';
	rt_cord_stop(rt_cord_current());
}

static void
start(void *arg)
{
	(void)arg;
	struct rt_cord *cord = rt_cord_current();
	d_a = rt_defer_new(cord, note_a, NULL);
	d_b = rt_defer_new(cord, note_b, NULL);
	d_c = rt_defer_new(cord, note_c, NULL);
	rt_defer_schedule(d_a);
	rt_defer_schedule(d_b);
}

static void
check_order(struct rt *rt, int64_t live)
{
	n_order = 0;
	memset(order, 0, sizeof(order));
	struct rt_cord *cord = rt_cord_new(rt, "c");
	rt_cord_start(cord, start, NULL);
	rt_run(rt);
	cr_assert_str_eq(order, "BAC");
	rt_defer_delete(d_a);
	rt_defer_delete(d_b);
	rt_defer_delete(d_c);
	rt_delete(rt);
	cr_assert_eq(mem_live(), live, "nothing leaked");
}

Test(rt_order, deferred_last_first_sim)
{
	struct rt_sim_opts opts = { .seed = 1 };
	int64_t live = mem_live();
	check_order(rt_sim_new(&opts), live);
}

Test(rt_order, deferred_last_first_thread)
{
	int64_t live = mem_live();
	check_order(rt_thread_new(), live);
}
