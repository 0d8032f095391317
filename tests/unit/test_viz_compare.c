/*
 * test_viz_compare.c — two runs side by side (viz/compare.h): the tallies
 * count what the events say; following by time, pane B shows exactly the
 * events its own trace stamps up to pane A's time; following by an event
 * kind, both panes have shown as many of those events; and the showcase
 * pair differs where it should (cbus messages) and not where it should not
 * (net.writev calls).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "base/mem.h"
#include "trace/trace.h"
#include "viz/compare.h"
#include "viz/history.h"
#include "viz/model.h"
#include "viz_fixture.h"

static struct viz_history ha, hb;

static void
load_pair(void)
{
	viz_fixture_load("07-batching-kharon", &ha);
	viz_fixture_load("07-batching-per-push", &hb);
}

static void
free_pair(void)
{
	viz_history_destroy(&ha);
	viz_history_destroy(&hb);
}

static uint32_t
count(const struct viz_history *h, uint32_t n, const char *ev)
{
	uint32_t k = 0;
	for (uint32_t i = 0; i < n; i++)
		k += strcmp(viz_history_name(h, i), ev) == 0;
	return k;
}

Test(viz_compare, tallies_count_the_events, .init = load_pair,
     .fini = free_pair)
{
	struct viz_tally *t;
	cr_assert_eq(viz_tally_build(&ha, &t), 0);
	uint64_t bytes = 0, wakeups = 0;
	for (uint32_t n = 0; n <= ha.n_events; n++) {
		cr_assert_eq(t[n].msgs, count(&ha, n, "cpipe.push"));
		cr_assert_eq(t[n].flushes, count(&ha, n, "cpipe.flush"));
		cr_assert_eq(t[n].writevs, count(&ha, n, "net.writev"));
		cr_assert_eq(t[n].bytes, bytes);
		cr_assert_eq(t[n].wakeups, wakeups);
		if (n < ha.n_events) {
			const struct trace_event *e = viz_fixture_event(&ha, n);
			if (strcmp(e->ev, "net.writev") == 0)
				bytes += (uint64_t)viz_ev_int(e, "n", 0);
			if (strcmp(e->ev, "cpipe.flush") == 0)
				wakeups += viz_ev_int(e, "wakeup", 0) != 0;
		}
	}
	struct viz_tally *u;
	cr_assert_eq(viz_tally_build(&hb, &u), 0);
	const struct viz_tally *ea = &t[ha.n_events], *eb = &u[hb.n_events];
	/* The showcase: one ferryman against a fleet of boats, while the
	 * network cord writes as often in both. */
	cr_assert_gt(eb->msgs, 10 * ea->msgs, "%llu vs %llu",
		     (unsigned long long)eb->msgs,
		     (unsigned long long)ea->msgs);
	cr_assert_eq(ea->writevs, eb->writevs);
	mem_free(t);
	mem_free(u);
}

Test(viz_compare, by_time_b_shows_what_its_trace_stamps_by_then,
     .init = load_pair, .fini = free_pair)
{
	for (uint32_t na = 1; na < ha.n_events; na++) {
		uint64_t t = viz_history_time(&ha, na - 1);
		uint32_t nb = viz_compare_follow(&ha, na, &hb, NULL);
		if (nb > 0)
			cr_assert_leq(viz_history_time(&hb, nb - 1), t);
		if (nb < hb.n_events)
			cr_assert_gt(viz_history_time(&hb, nb), t);
	}
	cr_assert_eq(viz_compare_follow(&ha, 0, &hb, NULL), 0);
	cr_assert_eq(viz_compare_follow(&ha, ha.n_events, &hb, NULL),
		     hb.n_events);
	/* Both panes at the same virtual time show their own states there:
	 * B's scene is the seek of its own history to that point. */
	uint32_t na = (uint32_t)viz_fixture_find(&ha, "kharon.flag", 0) + 1;
	uint32_t nb = viz_compare_follow(&ha, na, &hb, NULL);
	static struct viz_state sb;
	viz_history_seek(&hb, nb, &sb);
	cr_assert_eq(sb.n_events, nb);
}

Test(viz_compare, by_event_kind_the_panes_are_in_step, .init = load_pair,
     .fini = free_pair)
{
	uint32_t total_b = count(&hb, hb.n_events, "push");
	for (uint32_t na = 1; na < ha.n_events; na++) {
		uint32_t nb = viz_compare_follow(&ha, na, &hb, "push");
		uint32_t ka = count(&ha, na, "push");
		if (ka < total_b) {
			cr_assert_eq(count(&hb, nb, "push"), ka, "at %u", na);
			cr_assert_str_eq(viz_history_name(&hb, nb), "push");
		} else {
			cr_assert_eq(count(&hb, nb, "push"), total_b);
		}
	}
}
