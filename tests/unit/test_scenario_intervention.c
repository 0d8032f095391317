/*
 * test_scenario_intervention.c — what-if interventions (scenario.h
 * `interventions`, applied by scenario_run): for each kind, the run with
 * it is the original one, event for event, up to its moment and a
 * different one after it (the simulator is deterministic); a held cord
 * runs nothing else while it is held; a set option holds from its moment
 * on; a delayed message keeps its pipe back (FIFO: what is flushed behind
 * it waits too) and delays add up; a client named by no client, a cord the
 * server does not have, are refused with the path.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "base/diag.h"
#include "base/mem.h"
#include "scenario/scenario.h"
#include "scenario/scenario_run.h"
#include "trace/trace.h"

enum { MAX_EVENTS = 4096 };

struct capture {
	uint32_t n;
	uint64_t t[MAX_EVENTS];
	char line[MAX_EVENTS][96];
};

static void
on_event(void *arg, const struct trace_event *e)
{
	struct capture *c = arg;
	if (c->n == MAX_EVENTS)
		return;
	size_t at = (size_t)snprintf(c->line[c->n], 96, "%s %s", e->cord,
				     e->ev);
	for (int i = 0; i < e->n_fields && at < 96; i++)
		at += (size_t)snprintf(c->line[c->n] + at, 96 - at, " %lld",
				       (long long)e->fields[i].i);
	c->t[c->n++] = e->t;
}

static void
run(const struct scenario *s, struct capture *c)
{
	memset(c, 0, sizeof(*c));
	struct scenario_run_opts o = { .has_mode = true,
				       .mode = SCENARIO_MODE_SIM,
				       .on_event = on_event, .on_event_arg = c };
	struct scenario_run_result r;
	cr_assert_geq(scenario_run(s, &o, &r), 0, "%s", diag_msg());
	cr_assert_lt(c->n, MAX_EVENTS);
}

/* Same events before `at_ns`, not the same run after. */
static void
assert_forks_at(const struct capture *a, const struct capture *b,
		uint64_t at_ns)
{
	uint32_t i = 0;
	while (i < a->n && i < b->n && a->t[i] < at_ns) {
		cr_assert_eq(a->t[i], b->t[i], "event %u", i);
		cr_assert_str_eq(a->line[i], b->line[i], "event %u", i);
		i++;
	}
	cr_assert(i < a->n && a->t[i] >= at_ns, "the original ran past %u",
		  i);
	bool differs = a->n != b->n;
	for (uint32_t k = i; !differs && k < a->n; k++)
		differs = a->t[k] != b->t[k] ||
			  strcmp(a->line[k], b->line[k]) != 0;
	cr_assert(differs, "the run did not fork");
}

static struct capture base, fork_;

static void
with(struct scenario *s, uint32_t n, const struct scenario_intervention *iv)
{
	mem_free(s->interventions);
	s->interventions = mem_alloc(n * sizeof(*iv));
	cr_assert_not_null(s->interventions);
	memcpy(s->interventions, iv, n * sizeof(*iv));
	s->n_interventions = n;
}

Test(scenario_intervention, each_kind_forks_the_run_at_its_moment)
{
	struct scenario s;
	cr_assert_eq(scenario_load("scenarios/06-kharon.json", &s), 0, "%s",
		     diag_msg());
	run(&s, &base);
	/* The fast burst starts at 29.28 ms and reaches the client at
	 * 34.66 ms (the network is 5 ms one way). */
	struct scenario_intervention pause = {.at_ns = 33000000,
		.action = SCENARIO_ACTION_PAUSE_READING};
	struct scenario_intervention resume = {.at_ns = 40000000,
		.action = SCENARIO_ACTION_RESUME_READING};
	struct scenario_intervention bye = {.at_ns = 29283000,
		.action = SCENARIO_ACTION_DISCONNECT};
	with(&s, 1, &bye);
	run(&s, &fork_);
	assert_forks_at(&base, &fork_, bye.at_ns);
	with(&s, 1, &pause);
	run(&s, &fork_);
	assert_forks_at(&base, &fork_, pause.at_ns);
	/* Not only the client's own pause event: the pushes come later. */
	uint32_t late = 0;
	for (uint32_t i = 0; i < fork_.n; i++)
		late += strncmp(fork_.line[i], "pusher client.recv", 18) == 0 &&
			fork_.t[i] >= resume.at_ns;
	cr_assert_eq(late, 0, "pushes read while the client does not read");
	/* Resume: against the run that only paused. */
	static struct capture paused;
	memcpy(&paused, &fork_, sizeof(paused));
	struct scenario_intervention both[2] = {pause, resume};
	with(&s, 2, both);
	run(&s, &fork_);
	assert_forks_at(&paused, &fork_, resume.at_ns);
	late = 0;
	for (uint32_t i = 0; i < fork_.n; i++)
		late += strncmp(fork_.line[i], "pusher client.recv", 18) == 0 &&
			fork_.t[i] >= resume.at_ns;
	cr_assert_eq(late, 9, "8 pushes and the reply, read on resume");
	scenario_destroy(&s);
}

/* Events of `cord` in (from, to): none may run while it is held. */
static uint32_t
count_on(const struct capture *c, const char *cord, uint64_t from,
	 uint64_t to)
{
	uint32_t n = 0;
	size_t len = strlen(cord);
	for (uint32_t i = 0; i < c->n; i++)
		n += c->t[i] > from && c->t[i] < to &&
		     strncmp(c->line[i], cord, len) == 0 &&
		     c->line[i][len] == ' ';
	return n;
}

Test(scenario_intervention, hold_cord_holds_it_and_forks_the_run)
{
	struct scenario s;
	cr_assert_eq(scenario_load("scenarios/06-kharon.json", &s), 0, "%s",
		     diag_msg());
	run(&s, &base);
	/* TX is busy for 3 ms as the fast burst starts (29.28 ms). */
	struct scenario_intervention hold = {.at_ns = 29000000,
		.client = UINT32_MAX, .action = SCENARIO_ACTION_HOLD_CORD,
		.cord = "tx", .for_ns = 3000000};
	uint64_t until = hold.at_ns + hold.for_ns;
	cr_assert_gt(count_on(&base, "tx", hold.at_ns, until), 0,
		     "the original does nothing on tx then: a weak test");
	with(&s, 1, &hold);
	run(&s, &fork_);
	assert_forks_at(&base, &fork_, hold.at_ns);
	uint32_t at = 0;
	while (at < fork_.n && fork_.t[at] < hold.at_ns)
		at++;
	cr_assert_str_eq(fork_.line[at], "tx cord.hold 3000");
	cr_assert_eq(fork_.t[at], hold.at_ns);
	cr_assert_eq(count_on(&fork_, "tx", hold.at_ns, until), 0,
		     "tx ran while held");
	/* What waited runs when the hold ends. */
	cr_assert_gt(count_on(&fork_, "tx", until - 1, until + 1), 0);
	/* A network cord: its reads and writes wait too. */
	hold.at_ns = 29283000;
	snprintf(hold.cord, sizeof(hold.cord), "net0");
	until = hold.at_ns + hold.for_ns;
	with(&s, 1, &hold);
	run(&s, &fork_);
	assert_forks_at(&base, &fork_, hold.at_ns);
	cr_assert_eq(count_on(&fork_, "net0", hold.at_ns, until), 0,
		     "net0 ran while held");
	scenario_destroy(&s);
}

Test(scenario_intervention, hold_cord_loaded_and_checked)
{
	const char *text = "{\"name\": \"t\", \"title\": {\"ru\": \"т\", "
		"\"en\": \"t\"}, \"server\": {\"iproto_threads\": 2}, "
		"\"interventions\": [{\"at_us\": 10, \"do\": \"hold_cord\", "
		"\"cord\": \"net1\", \"for_us\": 2500}], \"clients\": "
		"[{\"steps\": [{\"ping\": {}}]}]}";
	struct scenario s;
	cr_assert_eq(scenario_load_buf("t.json", text, strlen(text), &s), 0,
		     "%s", diag_msg());
	cr_assert_eq(s.n_interventions, 1);
	cr_assert_eq(s.interventions[0].action, SCENARIO_ACTION_HOLD_CORD);
	cr_assert_str_eq(s.interventions[0].cord, "net1");
	cr_assert_eq(s.interventions[0].for_ns, 2500000);
	cr_assert_eq(s.interventions[0].client, UINT32_MAX);
	/* Real threads cannot hold a cord by decree: skipped, said so. */
	char out[512] = "";
	FILE *f = fmemopen(out, sizeof(out), "w");
	cr_assert_not_null(f);
	struct scenario_run_opts o = { .has_mode = true,
				       .mode = SCENARIO_MODE_REAL, .out = f };
	struct scenario_run_result r;
	cr_assert_eq(scenario_run(&s, &o, &r), 0, "%s", diag_msg());
	fclose(f);
	cr_assert(strstr(out, "skipped on real threads (interventions[0] "
			 "holds cord net1 busy") != NULL, "%s", out);
	scenario_destroy(&s);
}

Test(scenario_intervention, loaded_and_resolved)
{
	const char *text = "{\"name\": \"t\", \"title\": {\"ru\": \"т\", "
		"\"en\": \"t\"}, \"interventions\": [{\"at_us\": 1500, "
		"\"client\": \"bob\", \"do\": \"disconnect\", \"reset\": true}],"
		" \"clients\": [{\"steps\": [{\"ping\": {}}]}, {\"name\": "
		"\"bob\", \"steps\": [{\"ping\": {}}]}]}";
	struct scenario s;
	cr_assert_eq(scenario_load_buf("t.json", text, strlen(text), &s), 0,
		     "%s", diag_msg());
	cr_assert_eq(s.n_interventions, 1);
	cr_assert_eq(s.interventions[0].at_ns, 1500000);
	cr_assert_eq(s.interventions[0].client, 1);
	cr_assert_eq(s.interventions[0].action, SCENARIO_ACTION_DISCONNECT);
	cr_assert(s.interventions[0].is_reset);
	scenario_destroy(&s);
}

/* Lines of `c` that start with `prefix`, at or after `from`. */
static uint32_t
count_from(const struct capture *c, const char *prefix, uint64_t from)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < c->n; i++)
		n += c->t[i] >= from &&
		     strncmp(c->line[i], prefix, strlen(prefix)) == 0;
	return n;
}

Test(scenario_intervention, set_option_net_msg_max_from_its_moment)
{
	struct scenario s;
	cr_assert_eq(scenario_load("scenarios/10-net-msg-max.json", &s), 0,
		     "%s", diag_msg());
	run(&s, &base);
	/* net_msg_max 2 parks input from 154.88 µs on; 100 from 100 µs. */
	struct scenario_intervention set = {.at_ns = 100000,
		.client = UINT32_MAX, .action = SCENARIO_ACTION_SET_OPTION,
		.option = SCENARIO_OPTION_NET_MSG_MAX, .value = 100};
	cr_assert_gt(count_from(&base, "net0 input.stop", set.at_ns), 0);
	with(&s, 1, &set);
	run(&s, &fork_);
	assert_forks_at(&base, &fork_, set.at_ns);
	cr_assert_eq(count_from(&fork_, "tx server.option 0 100", set.at_ns),
		     1);
	cr_assert_eq(count_from(&fork_, "net0 input.stop", set.at_ns), 0,
		     "input parked with room for 100 messages");
	scenario_destroy(&s);
}

Test(scenario_intervention, set_option_readahead_for_new_buffers)
{
	struct scenario s;
	cr_assert_eq(scenario_load("scenarios/04-ibuf-double.json", &s), 0,
		     "%s", diag_msg());
	run(&s, &base);
	/* Before the first accept (50 µs): every buffer gets the new size,
	 * as if the file had said so (minus the server.option event). */
	struct scenario_intervention set = {.at_ns = 1000,
		.client = UINT32_MAX, .action = SCENARIO_ACTION_SET_OPTION,
		.option = SCENARIO_OPTION_READAHEAD, .value = 4096};
	with(&s, 1, &set);
	run(&s, &fork_);
	assert_forks_at(&base, &fork_, set.at_ns);
	static struct capture configured;
	s.n_interventions = 0;
	s.server.readahead = 4096;
	s.server.obuf_chunk = 128; /* what it was: readahead at creation */
	run(&s, &configured);
	cr_assert_eq(fork_.n, configured.n + 1);
	for (uint32_t i = 0, k = 0; i < fork_.n; i++) {
		if (strcmp(fork_.line[i], "tx server.option 0 4096") == 0) {
			cr_assert_eq(fork_.t[i], set.at_ns);
			continue;
		}
		cr_assert_lt(k, configured.n, "no server.option event");
		cr_assert_eq(fork_.t[i], configured.t[k], "event %u", i);
		cr_assert_str_eq(fork_.line[i], configured.line[k],
				 "event %u", i);
		k++;
	}
	scenario_destroy(&s);
}

Test(scenario_intervention, set_option_loaded)
{
	const char *text = "{\"name\": \"t\", \"title\": {\"ru\": \"т\", "
		"\"en\": \"t\"}, \"interventions\": [{\"at_us\": 7, \"do\": "
		"\"set_option\", \"name\": \"readahead\", \"value\": 4096}, "
		"{\"at_us\": 9, \"do\": \"set_option\", \"name\": "
		"\"net_msg_max\", \"value\": 2}], \"clients\": [{\"steps\": "
		"[{\"ping\": {}}]}]}";
	struct scenario s;
	cr_assert_eq(scenario_load_buf("t.json", text, strlen(text), &s), 0,
		     "%s", diag_msg());
	cr_assert_eq(s.n_interventions, 2);
	cr_assert_eq(s.interventions[0].action, SCENARIO_ACTION_SET_OPTION);
	cr_assert_eq(s.interventions[0].option, SCENARIO_OPTION_READAHEAD);
	cr_assert_eq(s.interventions[0].value, 4096);
	cr_assert_eq(s.interventions[0].client, UINT32_MAX);
	cr_assert_eq(s.interventions[1].option, SCENARIO_OPTION_NET_MSG_MAX);
	cr_assert_eq(s.interventions[1].value, 2);
	scenario_destroy(&s);
}

/* Index of the first line starting with `prefix` at or after `from`. */
static uint32_t
first_from(const struct capture *c, const char *prefix, uint64_t from)
{
	for (uint32_t i = 0; i < c->n; i++)
		if (c->t[i] >= from &&
		    strncmp(c->line[i], prefix, strlen(prefix)) == 0)
			return i;
	return c->n;
}

Test(scenario_intervention, delay_message_holds_its_pipe_fifo)
{
	struct scenario s;
	cr_assert_eq(scenario_load("scenarios/06-kharon.json", &s), 0, "%s",
		     diag_msg());
	run(&s, &base);
	/*
	 * At 29.282866 ms TX flushes Kharon (msg 8) with msg 9 to net0, then
	 * the reply (msg 7) in a batch of its own: net0 fetches all three at
	 * 29.285443. Hold Kharon's batch 2 ms: the reply waits behind it.
	 */
	uint64_t flush = 29282866, hold = 2000000;
	uint32_t k = first_from(&base, "net0 cbus.fetch", flush);
	cr_assert_str_eq(base.line[k], "net0 cbus.fetch 0 3");
	cr_assert_lt(base.t[k], flush + hold);
	struct scenario_intervention delay = {.at_ns = 29282000,
		.client = UINT32_MAX, .action = SCENARIO_ACTION_DELAY_MESSAGE,
		.msg = 8, .to = "net0", .for_ns = hold};
	with(&s, 1, &delay);
	run(&s, &fork_);
	assert_forks_at(&base, &fork_, delay.at_ns);
	cr_assert_eq(count_from(&fork_, "tx cmsg.delay", 0), 1);
	k = first_from(&fork_, "tx cmsg.delay", 0);
	cr_assert_str_eq(fork_.line[k], "tx cmsg.delay 8 0 2 2000");
	cr_assert_eq(fork_.t[k], flush);
	/* The release: one flush of all three, 2 ms later, bell rung. */
	k = first_from(&fork_, "tx cpipe.flush", flush + 1);
	cr_assert_eq(fork_.t[k], flush + hold);
	cr_assert_str_eq(fork_.line[k], "tx cpipe.flush 0 3 1");
	cr_assert_eq(count_on(&fork_, "net0", flush, flush + hold), 0,
		     "net0 got something from the held pipe");
	/* FIFO: Kharon, msg 9, then the reply that was flushed behind. */
	k = first_from(&fork_, "net0 cbus.fetch", flush);
	cr_assert_str_eq(fork_.line[k], "net0 cbus.fetch 0 3");
	k = first_from(&fork_, "net0 cmsg.hop", flush);
	cr_assert_str_eq(fork_.line[k], "net0 cmsg.hop 8 0 0 0");
	k = first_from(&fork_, "net0 cmsg.hop 9", flush);
	uint32_t reply = first_from(&fork_, "net0 cmsg.hop 7", flush);
	cr_assert_lt(k, reply);
	/* Two delays of one message add up. */
	struct scenario_intervention two[2] = {delay, delay};
	two[0].for_ns = two[1].for_ns = hold / 2;
	with(&s, 2, two);
	run(&s, &fork_);
	assert_forks_at(&base, &fork_, delay.at_ns);
	cr_assert_eq(count_from(&fork_, "tx cmsg.delay 8 0 2 1000", 0), 2);
	k = first_from(&fork_, "tx cpipe.flush", flush + 1);
	cr_assert_eq(fork_.t[k], flush + hold);
	/* Too late: the message passed before the moment, nothing forks. */
	delay.at_ns = flush + 1000;
	with(&s, 1, &delay);
	run(&s, &fork_);
	cr_assert_eq(fork_.n, base.n);
	cr_assert_eq(count_from(&fork_, "tx cmsg.delay", 0), 0);
	scenario_destroy(&s);
}

Test(scenario_intervention, delay_message_loaded_and_skipped_on_threads)
{
	const char *text = "{\"name\": \"t\", \"title\": {\"ru\": \"т\", "
		"\"en\": \"t\"}, \"server\": {\"iproto_threads\": 2}, "
		"\"interventions\": [{\"at_us\": 10, \"do\": "
		"\"delay_message\", \"msg\": 4, \"to\": \"net1\", "
		"\"for_us\": 1500}], \"clients\": [{\"steps\": "
		"[{\"ping\": {}}]}]}";
	struct scenario s;
	cr_assert_eq(scenario_load_buf("t.json", text, strlen(text), &s), 0,
		     "%s", diag_msg());
	cr_assert_eq(s.n_interventions, 1);
	const struct scenario_intervention *iv = &s.interventions[0];
	cr_assert_eq(iv->action, SCENARIO_ACTION_DELAY_MESSAGE);
	cr_assert_eq(iv->msg, 4);
	cr_assert_str_eq(iv->to, "net1");
	cr_assert_eq(iv->for_ns, 1500000);
	cr_assert_eq(iv->client, UINT32_MAX);
	char out[512] = "";
	FILE *f = fmemopen(out, sizeof(out), "w");
	cr_assert_not_null(f);
	struct scenario_run_opts o = { .has_mode = true,
				       .mode = SCENARIO_MODE_REAL, .out = f };
	struct scenario_run_result r;
	cr_assert_eq(scenario_run(&s, &o, &r), 0, "%s", diag_msg());
	fclose(f);
	cr_assert(strstr(out, "skipped on real threads (interventions[0] "
			 "delays message 4") != NULL, "%s", out);
	scenario_destroy(&s);
}
