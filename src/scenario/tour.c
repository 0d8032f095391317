/*
 * tour.c — match a guided tour's stops to the events of a run (tour.h).
 *
 * A stop's candidates are the events with its name whose fields equal its
 * `where` values; with `nth` its event is the nth candidate, without it
 * the only candidate. Counting every candidate of the whole run (not only
 * those after the previous stop) keeps a stop's meaning independent of
 * the stops before it: "the second kharon.flag on conn 1" is the same
 * event whatever else the tour shows.
 */
#include "scenario/tour.h"

#include <stdio.h>
#include <string.h>

#include "base/diag.h"
#include "base/mem.h"
#include "proto/errcode.h"
#include "trace/trace.h"

int
tour_match_create(struct tour_match *m, const struct scenario *s)
{
	memset(m, 0, sizeof(*m));
	m->s = s;
	size_t n = s->n_tour > 0 ? s->n_tour : 1;
	m->n_seen = mem_zalloc(n * sizeof(*m->n_seen));
	m->n_matched = mem_zalloc(n * sizeof(*m->n_matched));
	m->at = mem_alloc(n * sizeof(*m->at));
	if (m->n_seen == NULL || m->n_matched == NULL || m->at == NULL) {
		tour_match_destroy(m);
		diag_set(DIAG_ER_MEMORY_ISSUE, "OutOfMemory",
			 "out of memory for a tour of %u stops", s->n_tour);
		return -1;
	}
	for (size_t k = 0; k < n; k++)
		m->at[k] = TOUR_NO_EVENT;
	return 0;
}

void
tour_match_destroy(struct tour_match *m)
{
	mem_free(m->n_seen);
	mem_free(m->n_matched);
	mem_free(m->at);
	memset(m, 0, sizeof(*m));
}

static bool
field_equals(const struct trace_event *e, const struct scenario_tour_field *f)
{
	for (int i = 0; i < e->n_fields; i++) {
		const struct trace_field *tf = &e->fields[i];
		if (strcmp(tf->key, f->key) != 0)
			continue;
		if (f->s != NULL)
			return tf->s != NULL && strcmp(tf->s, f->s) == 0;
		return tf->s == NULL && tf->i == f->i;
	}
	/* "cord" names the emitting cord, as in the captions. */
	if (strcmp(f->key, "cord") == 0 && f->s != NULL && e->cord != NULL)
		return strcmp(e->cord, f->s) == 0;
	return false;
}

void
tour_match_feed(struct tour_match *m, const struct trace_event *e)
{
	uint64_t index = m->n_events++;
	const struct scenario *s = m->s;
	for (uint32_t k = 0; k < s->n_tour; k++) {
		const struct scenario_tour_stop *st = &s->tour[k];
		if (strcmp(st->event, e->ev) != 0)
			continue;
		uint32_t j;
		for (j = 0; j < st->n_where; j++)
			if (!field_equals(e, &st->where[j]))
				break;
		if (j < st->n_where)
			continue;
		m->n_seen[k]++;
		if (st->nth != 0 && m->n_seen[k] != st->nth)
			continue;
		if (m->n_matched[k]++ == 0)
			m->at[k] = index;
	}
}

/** "kharon.flag where conn=1, sync=2" into buf. */
static void
stop_describe(const struct scenario_tour_stop *st, char *buf, size_t size)
{
	size_t n = (size_t)snprintf(buf, size, "%s", st->event);
	for (uint32_t j = 0; j < st->n_where && n < size; j++) {
		const struct scenario_tour_field *f = &st->where[j];
		const char *sep = j == 0 ? " where " : ", ";
		if (f->s != NULL)
			n += (size_t)snprintf(buf + n, size - n, "%s%s=\"%s\"",
					      sep, f->key, f->s);
		else
			n += (size_t)snprintf(buf + n, size - n, "%s%s=%lld",
					      sep, f->key, (long long)f->i);
	}
}

int
tour_match_check(const struct tour_match *m, const char *origin)
{
	const struct scenario *s = m->s;
	char what[256];
	for (uint32_t k = 0; k < s->n_tour; k++) {
		const struct scenario_tour_stop *st = &s->tour[k];
		stop_describe(st, what, sizeof(what));
		if (st->nth != 0 && m->n_matched[k] == 0) {
			diag_set(ER_ILLEGAL_PARAMS, "ScenarioError",
				 "%s: tour[%u].nth: %s matches %u event%s of "
				 "the simulated run, so there is no #%u",
				 origin, k, what, m->n_seen[k],
				 m->n_seen[k] == 1 ? "" : "s", st->nth);
			return -1;
		}
		if (m->n_matched[k] != 1) {
			diag_set(ER_ILLEGAL_PARAMS, "ScenarioError",
				 "%s: tour[%u]: %s matches %u events of the "
				 "simulated run, want exactly 1%s", origin, k,
				 what, m->n_matched[k], m->n_matched[k] > 1 ?
				 " (give \"nth\" or more \"where\" fields)" : "");
			return -1;
		}
		if (k > 0 && m->at[k] <= m->at[k - 1]) {
			diag_set(ER_ILLEGAL_PARAMS, "ScenarioError",
				 "%s: tour[%u]: its event (#%llu of the run) "
				 "does not come after tour[%u]'s (#%llu): "
				 "stops go in the order of the run", origin, k,
				 (unsigned long long)m->at[k] + 1, k - 1,
				 (unsigned long long)m->at[k - 1] + 1);
			return -1;
		}
	}
	return 0;
}
