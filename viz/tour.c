/*
 * tour.c — a scenario's tour resolved against the viewer's history (tour.h).
 */
#include "viz/tour.h"

#include <stdio.h>
#include <string.h>

#include "base/diag.h"
#include "base/mem.h"
#include "scenario/tour.h"
#include "viz/history.h"
#include "viz/model.h"

int
viz_tour_load(struct viz_tour *t, const char *path, const struct viz_history *h)
{
	memset(t, 0, sizeof(*t));
	if (scenario_load(path, &t->s) != 0)
		return -1;
	if (t->s.n_tour == 0) {
		diag_set(DIAG_ER_UNKNOWN, "ScenarioError", "%s: has no tour "
			 "(a \"tour\" list of stops, scenario.schema.json)",
			 path);
		goto err_scenario;
	}
	struct tour_match m;
	if (tour_match_create(&m, &t->s) != 0)
		goto err_scenario;
	for (uint32_t i = 0; i < h->n_events; i++) {
		struct viz_event buf;
		tour_match_feed(&m, viz_history_event(h, i, &buf));
	}
	if (tour_match_check(&m, path) != 0)
		goto err_match;
	uint32_t n = t->s.n_tour;
	t->at = mem_alloc(n * sizeof(*t->at));
	t->focus = mem_alloc(n * sizeof(*t->focus));
	t->msg = mem_alloc(n * sizeof(*t->msg));
	if (t->at == NULL || t->focus == NULL || t->msg == NULL) {
		diag_set(DIAG_ER_MEMORY_ISSUE, "OutOfMemory",
			 "out of memory for a tour of %u stops", n);
		goto err_arrays;
	}
	for (uint32_t k = 0; k < n; k++) {
		struct viz_event buf;
		const struct trace_event *e =
			viz_history_event(h, (uint32_t)m.at[k], &buf);
		t->at[k] = (uint32_t)m.at[k] + 1;
		t->focus[k] = t->s.tour[k].focus != 0 ? t->s.tour[k].focus :
			      (int32_t)viz_ev_int(e, "conn", 0);
		t->msg[k] = (int32_t)viz_ev_int(e, "msg", -1);
	}
	t->n_stops = n;
	tour_match_destroy(&m);
	return 0;
err_arrays:
	mem_free(t->at);
	mem_free(t->focus);
	mem_free(t->msg);
err_match:
	tour_match_destroy(&m);
err_scenario:
	scenario_destroy(&t->s);
	memset(t, 0, sizeof(*t));
	return -1;
}

void
viz_tour_destroy(struct viz_tour *t)
{
	mem_free(t->at);
	mem_free(t->focus);
	mem_free(t->msg);
	scenario_destroy(&t->s);
	memset(t, 0, sizeof(*t));
}

int
viz_tour_stop_at(const struct viz_tour *t, uint32_t n)
{
	for (uint32_t k = 0; k < t->n_stops; k++)
		if (t->at[k] == n)
			return (int)k;
	return -1;
}

int
viz_tour_next(const struct viz_tour *t, uint32_t n)
{
	for (uint32_t k = 0; k < t->n_stops; k++)
		if (t->at[k] > n)
			return (int)k;
	return -1;
}

int
viz_tour_prev(const struct viz_tour *t, uint32_t n)
{
	for (uint32_t k = t->n_stops; k > 0; k--)
		if (t->at[k - 1] < n)
			return (int)(k - 1);
	return -1;
}
