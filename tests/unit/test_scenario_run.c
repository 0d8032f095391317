/*
 * test_scenario_run.c — the runner: passing and failing expectations,
 * event bounds, the watchdog, the report, and no leaks.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/diag.h"
#include "base/mem.h"
#include "scenario/scenario.h"
#include "scenario/scenario_run.h"

static int
run_text(const char *json, const struct scenario_run_opts *custom,
	 struct scenario_run_result *res, char **report)
{
	struct scenario s;
	int rc = scenario_load_buf("test.json", json, strlen(json), &s);
	cr_assert_eq(rc, 0, "%s", diag_msg());
	struct scenario_run_opts opts;
	if (custom != NULL)
		opts = *custom;
	else
		memset(&opts, 0, sizeof(opts));
	size_t size;
	opts.out = open_memstream(report, &size);
	rc = scenario_run(&s, &opts, res);
	fclose(opts.out);
	scenario_destroy(&s);
	return rc;
}

#define HEAD "{\"name\": \"t\", \"title\": {\"ru\": \"т\", \"en\": \"t\"}, "

Test(scenario_run, expectations_met)
{
	int64_t live = mem_live();
	struct scenario_run_result res;
	char *report;
	int rc = run_text(HEAD "\"clients\": [{\"steps\": ["
		"{\"call\": {\"function\": \"push\", \"args\": [3, \"x\"]},"
		" \"expect\": {\"pushes\": {\"count\": 3, \"values\": "
		"[[1, \"x\"], [2, \"x\"], [3, \"x\"]]}, \"result\": [[3]]}},"
		"{\"ping\": {}},"
		"{\"call\": {\"function\": \"fail\", \"args\": [\"no\"]},"
		" \"expect\": {\"error\": \"no\"}}]}],"
		"\"expect\": {\"events\": {\"kharon.depart\": {\"min\": 1, \"max\": 2}}}}",
		NULL, &res, &report);
	cr_assert_eq(rc, 0, "%s", report);
	cr_assert_eq(res.n_steps, 3);
	cr_assert_eq(res.n_steps_failed, 0);
	cr_assert_eq(res.n_pushes, 3);
	cr_assert_eq(res.n_replies, 3);
	cr_assert_gt(res.n_events, 50);
	cr_assert_eq(res.n_invariant_violations, 0);
	cr_assert_not_null(strstr(report, "result: ok"), "%s", report);
	free(report);
	cr_assert_eq(mem_live(), live);
}

Test(scenario_run, wrong_expectations_fail_with_their_path)
{
	int64_t live = mem_live();
	struct scenario_run_result res;
	char *report;
	int rc = run_text(HEAD "\"clients\": [{\"steps\": ["
		"{\"call\": {\"function\": \"push\", \"args\": [3, \"x\"]},"
		" \"expect\": {\"pushes\": 4}},"
		"{\"call\": {\"function\": \"echo\", \"args\": [1]},"
		" \"expect\": {\"result\": [[2]]}},"
		"{\"call\": {\"function\": \"echo\", \"args\": [1]},"
		" \"expect\": {\"error\": {\"contains\": \"x\"}}}]}],"
		"\"expect\": {\"events\": {\"kharon.depart\": {\"max\": 0}}}}",
		NULL, &res, &report);
	cr_assert_eq(rc, 1);
	cr_assert_eq(res.n_steps_failed, 3);
	cr_assert_eq(res.n_event_expect_failed, 1);
	cr_assert_not_null(strstr(report,
		"FAIL clients[0].steps[0].call: expected 4 pushes, got 3"), "%s",
		report);
	cr_assert_not_null(strstr(report, "clients[0].steps[1].call: expected "
				  "result [[2]], got [[1]]"), "%s", report);
	cr_assert_not_null(strstr(report, "FAIL expect.events.kharon.depart"));
	cr_assert_not_null(strstr(report, "result: FAILED"));
	free(report);
	cr_assert_eq(mem_live(), live);
}

Test(scenario_run, watchdog_ends_a_stuck_run)
{
	int64_t live = mem_live();
	struct scenario_run_result res;
	char *report;
	struct scenario_run_opts opts;
	memset(&opts, 0, sizeof(opts));
	opts.timeout_ns = 50ULL * 1000 * 1000;
	/* Paused, then a step that waits for a reply that cannot come. */
	int rc = run_text(HEAD "\"clients\": [{\"steps\": ["
		"{\"pause_reading\": {}},"
		"{\"call\": {\"function\": \"echo\", \"args\": [1]},"
		" \"expect\": {\"result\": [[1]]}},"
		"{\"ping\": {}}]}]}", &opts, &res, &report);
	cr_assert_eq(rc, 1);
	cr_assert(res.is_timed_out);
	cr_assert_not_null(strstr(report, "timed out"), "%s", report);
	free(report);
	cr_assert_eq(mem_live(), live);
}

Test(scenario_run, connection_closed_by_the_server)
{
	int64_t live = mem_live();
	struct scenario_run_result res;
	char *report;
	/* A broken length prefix: error, then the server closes. */
	int rc = run_text(HEAD "\"clients\": [{\"steps\": ["
		"{\"raw\": \"c1\", \"expect\": {\"error\": {\"contains\": "
		"\"packet length\"}, \"closed\": true}}]}]}",
		NULL, &res, &report);
	cr_assert_eq(rc, 0, "%s", report);
	free(report);
	cr_assert_eq(mem_live(), live);
}

Test(scenario_run, bad_frame_behind_a_parked_connection)
{
	int64_t live = mem_live();
	struct scenario_run_result res;
	char *report;
	/* Parked on net_msg_max with a bad frame still buffered: resuming
	 * parses it and closes the connection (it once crashed here). */
	int rc = run_text(HEAD "\"server\": {\"net_msg_max\": 2},"
		"\"clients\": [{\"steps\": [{\"pipeline\": ["
		"{\"ping\": {}}, {\"ping\": {}}, {\"ping\": {}},"
		"{\"raw\": \"c0\", \"expect\": {\"error\": {\"contains\": "
		"\"packet length\"}}}]}, {\"ping\": {}, \"expect\": "
		"{\"closed\": true}}]}]}", NULL, &res, &report);
	cr_assert_eq(rc, 0, "%s", report);
	free(report);
	cr_assert_eq(mem_live(), live);
}

Test(scenario_run, kharon_is_home_before_destroy_gh6520)
{
	int64_t live = mem_live();
	struct scenario_run_result res;
	char *report;
	/* Two pushing calls, then the client leaves at once: pushes are
	 * pending when it goes. Without clearing the flag on disconnect,
	 * Kharon sails again and the connection is freed under him. */
	int rc = run_text(HEAD "\"clients\": [{\"steps\": ["
		"{\"pipeline\": ["
		"{\"call\": {\"function\": \"push\", \"args\": [1, \"a\"]}},"
		"{\"call\": {\"function\": \"push\", \"args\": [1, \"b\"]}}]},"
		"{\"disconnect\": {}, \"after\": \"sent\"}]},"
		"{\"steps\": [{\"call\": {\"function\": \"sleep\", \"args\": [5]}}]}],"
		"\"expect\": {\"events\": {\"kharon.flag\": {\"min\": 1}}}}",
		NULL, &res, &report);
	cr_assert_eq(rc, 0, "%s", report);
	cr_assert_eq(res.n_invariant_violations, 0, "%s", report);
	free(report);
	cr_assert_eq(mem_live(), live);
}

Test(scenario_run, call_16_answers_as_a_lua_table_would)
{
	int64_t live = mem_live();
	struct scenario_run_result res;
	char *report;
	/* CALL_16 (type 6) by raw bytes: echo(1, [2]) is one tuple, as
	 * `return {1, {2}}` in Lua; echo([1], 2) is a tuple per value; then
	 * a call step with call_16 (echo([1], 2): CALL would give [[[1], 2]]). */
	int rc = run_text(HEAD "\"clients\": [{\"steps\": ["
		"{\"raw\": \"11 82 00 06 01 64 82 22 a4 65 63 68 6f 21 92 01 91 02\","
		" \"expect\": {\"result\": [[1, [2]]]}},"
		"{\"raw\": \"11 82 00 06 01 65 82 22 a4 65 63 68 6f 21 92 91 01 02\","
		" \"expect\": {\"result\": [[1], [2]]}},"
		"{\"raw\": \"11 82 00 06 01 66 82 22 a4 65 63 68 6f 21 92 91 01 02\","
		" \"expect\": {\"result\": [[1, 2]]}},"
		"{\"call\": {\"function\": \"echo\", \"args\": [[1], 2],"
		" \"call_16\": true}, \"expect\": {\"result\": [[1], [2]]}}]}]}",
		NULL, &res, &report);
	cr_assert_eq(rc, 1, "the third expectation is wrong: %s", report);
	cr_assert_eq(res.n_replies, 4);
	cr_assert_null(strstr(report, "steps[3]"), "%s", report);
	cr_assert_not_null(strstr(report, "steps[2]"), "%s", report);
	cr_assert_null(strstr(report, "steps[0]"), "%s", report);
	cr_assert_null(strstr(report, "steps[1]"), "%s", report);
	free(report);
	cr_assert_eq(mem_live(), live);
}

Test(scenario_run, a_closed_connection_is_not_a_reply)
{
	int64_t live = mem_live();
	struct scenario_run_result res;
	char *report;
	/* obuf_limit closes the client when its pushes (50 x 100 bytes in
	 * one TX iteration) go past 4 096 held bytes: the call has no reply
	 * and the next step never runs — both are failures. */
	int rc = run_text(HEAD "\"server\": {\"obuf_limit\": 4096},"
		"\"clients\": [{\"steps\": ["
		"{\"call\": {\"function\": \"push\", \"args\": [50, "
		"\"0123456789012345678901234567890123456789012345678901234567"
		"890123456789012345678901234567890123456789\"]},"
		" \"expect\": {\"pushes\": 0}},"
		"{\"ping\": {}, \"expect\": {\"closed\": false}}]}]}",
		NULL, &res, &report);
	cr_assert_eq(rc, 1, "%s", report);
	cr_assert_eq(res.n_replies, 0);
	cr_assert_not_null(strstr(report, "steps[0].call: the connection "
				  "closed before the reply"), "%s", report);
	cr_assert_not_null(strstr(report, "steps[1]: never ran (the "
				  "connection was closed)"), "%s", report);
	free(report);
	cr_assert_eq(mem_live(), live);
}

Test(scenario_run, sim_only_scenario_is_skipped_on_real_threads)
{
	int64_t live = mem_live();
	struct scenario_run_result res;
	char *report;
	/* A step that would fail: on real threads nothing runs at all. */
	const char *json = HEAD "\"sim_only\": \"needs tiny socket buffers\","
		"\"clients\": [{\"steps\": [{\"call\": {\"function\": \"echo\","
		" \"args\": [1]}, \"expect\": {\"result\": [[2]]}}]}]}";
	struct scenario_run_opts opts;
	memset(&opts, 0, sizeof(opts));
	opts.has_mode = true;
	opts.mode = SCENARIO_MODE_REAL;
	int rc = run_text(json, &opts, &res, &report);
	cr_assert_eq(rc, 0, "%s", report);
	cr_assert_not_null(strstr(report, "skipped on real threads"), "%s",
			   report);
	cr_assert_not_null(strstr(report, "needs tiny socket buffers"));
	free(report);
	/* On the simulator it runs, and its wrong expectation fails. */
	rc = run_text(json, NULL, &res, &report);
	cr_assert_eq(rc, 1, "%s", report);
	free(report);
	cr_assert_eq(mem_live(), live);
}
