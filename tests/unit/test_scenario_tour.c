/*
 * test_scenario_tour.c — a tour's stops matched to the events of a run
 * (src/scenario/tour.h): by name, by field values (integers and strings,
 * and "cord"), by nth; a stop that matches none or two, an nth past the
 * last, and stops out of order are refused with the stop's JSON path and
 * the count; a stop's meaning does not depend on the stops before it.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "base/diag.h"
#include "scenario/scenario.h"
#include "scenario/tour.h"
#include "trace/trace.h"

static const char head[] =
	"{\"name\": \"t\", \"title\": {\"ru\": \"т\", \"en\": \"t\"}, "
	"\"clients\": [{\"steps\": [{\"ping\": {}}]}], \"tour\": ";

static void
load(struct scenario *s, const char *tour)
{
	char text[2048];
	snprintf(text, sizeof(text), "%s%s}", head, tour);
	cr_assert_eq(scenario_load_buf("t.json", text, strlen(text), s), 0,
		     "%s", diag_msg());
}

/* A little run: ev(name, cord, conn, msg). */
static void
feed(struct tour_match *m, const char *ev, const char *cord, int64_t conn,
     const char *value)
{
	struct trace_field f[2] = {{"conn", conn, NULL}, {"value", 0, value}};
	struct trace_event e = {m->n_events + 1, 0, cord, ev, f,
				value != NULL ? 2 : 1, 0};
	tour_match_feed(m, &e);
}

static void
run(struct tour_match *m)
{
	feed(m, "push", "tx", 1, "[1]");
	feed(m, "kharon.depart", "tx", 1, NULL);
	feed(m, "push", "tx", 1, "[2]");
	feed(m, "kharon.flag", "tx", 1, NULL);
	feed(m, "push", "tx", 2, "[1]");
	feed(m, "kharon.arrive", "net0", 1, NULL);
}

static int
check(const char *tour, struct tour_match *m, struct scenario *s)
{
	load(s, tour);
	cr_assert_eq(tour_match_create(m, s), 0);
	run(m);
	return tour_match_check(m, "t.json");
}

#define CAP ", \"caption\": {\"ru\": \"а {conn}\", \"en\": \"a {conn}\"}"

Test(scenario_tour, stops_found_by_name_fields_and_nth)
{
	struct scenario s;
	struct tour_match m;
	int rc = check("[{\"event\": \"push\", \"nth\": 2" CAP "},"
		       " {\"event\": \"kharon.flag\"" CAP "},"
		       " {\"event\": \"push\", \"where\": {\"conn\": 2}" CAP "},"
		       " {\"event\": \"kharon.arrive\", \"where\": "
		       "{\"cord\": \"net0\"}" CAP "}]", &m, &s);
	cr_assert_eq(rc, 0, "%s", diag_msg());
	cr_assert_eq(m.at[0], 2);
	cr_assert_eq(m.at[1], 3);
	cr_assert_eq(m.at[2], 4);
	cr_assert_eq(m.at[3], 5);
	/* A string field value, and nth counted over the whole run. */
	tour_match_destroy(&m);
	scenario_destroy(&s);
	rc = check("[{\"event\": \"push\", \"where\": {\"value\": \"[2]\"}" CAP
		   "}]", &m, &s);
	cr_assert_eq(rc, 0, "%s", diag_msg());
	cr_assert_eq(m.at[0], 2);
	tour_match_destroy(&m);
	scenario_destroy(&s);
}

Test(scenario_tour, a_stop_matching_two_events_is_named_with_its_count)
{
	struct scenario s;
	struct tour_match m;
	int rc = check("[{\"event\": \"kharon.flag\"" CAP "},"
		       " {\"event\": \"push\", \"where\": {\"conn\": 1}" CAP "}]",
		       &m, &s);
	cr_assert_eq(rc, -1);
	cr_assert_str_eq(diag_msg(), "t.json: tour[1]: push where conn=1 "
			 "matches 2 events of the simulated run, want exactly 1 "
			 "(give \"nth\" or more \"where\" fields)");
	tour_match_destroy(&m);
	scenario_destroy(&s);
}

Test(scenario_tour, a_stop_matching_nothing_is_named)
{
	struct scenario s;
	struct tour_match m;
	int rc = check("[{\"event\": \"kharon.return\"" CAP "}]", &m, &s);
	cr_assert_eq(rc, -1);
	cr_assert_str_eq(diag_msg(), "t.json: tour[0]: kharon.return matches "
			 "0 events of the simulated run, want exactly 1");
	tour_match_destroy(&m);
	scenario_destroy(&s);
	rc = check("[{\"event\": \"push\", \"where\": {\"conn\": 1, "
		   "\"value\": \"[1]\"}, \"nth\": 2" CAP "}]", &m, &s);
	cr_assert_eq(rc, -1);
	cr_assert_str_eq(diag_msg(), "t.json: tour[0].nth: push where conn=1, "
			 "value=\"[1]\" matches 1 event of the simulated run, "
			 "so there is no #2");
	tour_match_destroy(&m);
	scenario_destroy(&s);
}

Test(scenario_tour, stops_out_of_order_are_refused)
{
	struct scenario s;
	struct tour_match m;
	int rc = check("[{\"event\": \"kharon.flag\"" CAP "},"
		       " {\"event\": \"kharon.depart\"" CAP "}]", &m, &s);
	cr_assert_eq(rc, -1);
	cr_assert_str_eq(diag_msg(), "t.json: tour[1]: its event (#2 of the "
			 "run) does not come after tour[0]'s (#4): stops go in "
			 "the order of the run");
	tour_match_destroy(&m);
	scenario_destroy(&s);
	/* The same event twice is not "after" either. */
	rc = check("[{\"event\": \"kharon.flag\"" CAP "},"
		   " {\"event\": \"kharon.flag\"" CAP "}]", &m, &s);
	cr_assert_eq(rc, -1);
	tour_match_destroy(&m);
	scenario_destroy(&s);
}

Test(scenario_tour, loaded_fields)
{
	struct scenario s;
	load(&s, "[{\"event\": \"push\", \"where\": {\"conn\": 3, \"value\": "
	     "\"x\"}, \"nth\": 4, \"highlight\": \"obuf\", \"focus\": 3" CAP "}]");
	cr_assert_eq(s.n_tour, 1);
	const struct scenario_tour_stop *st = &s.tour[0];
	cr_assert_str_eq(st->event, "push");
	cr_assert_eq(st->n_where, 2);
	cr_assert_str_eq(st->where[0].key, "conn");
	cr_assert_null(st->where[0].s);
	cr_assert_eq(st->where[0].i, 3);
	cr_assert_str_eq(st->where[1].s, "x");
	cr_assert_eq(st->nth, 4);
	cr_assert_eq(st->highlight, SCENARIO_HIGHLIGHT_OBUF);
	cr_assert_eq(st->focus, 3);
	cr_assert_str_eq(st->caption.ru, "а {conn}");
	cr_assert_str_eq(st->caption.en, "a {conn}");
	scenario_destroy(&s);
}
