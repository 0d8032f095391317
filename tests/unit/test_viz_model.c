/*
 * test_viz_model.c — the viewer's model against the traces of every shipped
 * scenario: after each event the scene says what the event says (ibuf and
 * obuf positions, Kharon's place and flag, boats), a snapshot plus replay
 * equals the linear run at every event, and the links from a cpipe.push to
 * its delivering cmsg.hop are right. Expectations come from the events
 * themselves, never from counts written here.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/mem.h"
#include "trace/trace.h"
#include "trace/trace_file.h"
#include "viz/history.h"
#include "viz/model.h"
#include "viz/source.h"
#include "viz_fixture.h"

static int64_t
fi(const struct trace_event *e, const char *key)
{
	return viz_ev_int(e, key, -12345);
}

/** What the state after event i must show, given event i. */
static void
check_event(const struct viz_history *h, uint32_t i, const struct viz_state *s)
{
	const struct trace_event *e = viz_fixture_event(h, (uint32_t)(i));
	const char *ev = e->ev;
	const struct viz_conn *c = NULL;
	if (viz_ev_int(e, "conn", -1) >= 0 && strncmp(ev, "client.", 7) != 0)
		c = viz_state_conn(s, (int32_t)fi(e, "conn"));
	cr_assert_eq(s->n_events, i + 1);
	cr_assert_eq(s->t, e->t);
	if (strncmp(ev, "ibuf.", 5) == 0 && strcmp(ev, "ibuf.switch") != 0) {
		cr_assert_not_null(c, "event %u %s", i, ev);
		const struct viz_ibuf *b = &c->ibuf[fi(e, "buf")];
		cr_assert_eq(b->rpos, fi(e, "rpos"), "event %u", i);
		cr_assert_eq(b->wpos, fi(e, "wpos"), "event %u", i);
		cr_assert_eq(b->end, fi(e, "end"), "event %u", i);
		if (viz_ev_int(e, "current", 1) == 1)
			cr_assert_eq(c->ibuf_cur, fi(e, "buf"), "event %u", i);
	} else if (strcmp(ev, "ibuf.switch") == 0) {
		cr_assert_eq(c->ibuf_cur, fi(e, "buf"));
	} else if (strcmp(ev, "obuf.reserve") == 0) {
		const struct viz_obuf *o = &c->obuf[fi(e, "buf")];
		cr_assert(o->has_reserve);
		cr_assert_eq(o->svp, fi(e, "svp"));
		cr_assert_eq(o->reserve_size, fi(e, "size"));
		cr_assert_eq(o->used, fi(e, "svp") + fi(e, "size"));
		cr_assert_eq(c->obuf_tx, fi(e, "buf"));
	} else if (strcmp(ev, "obuf.patch") == 0) {
		const struct viz_obuf *o = &c->obuf[fi(e, "buf")];
		cr_assert(!o->has_reserve, "event %u: header still reserved", i);
		cr_assert_eq(o->used, fi(e, "end"));
	} else if (strcmp(ev, "port.dump") == 0 || strcmp(ev, "push") == 0 ||
		   strcmp(ev, "reply.error") == 0) {
		cr_assert_eq(c->obuf[fi(e, "buf")].used, fi(e, "end"),
			     "event %u %s", i, ev);
	} else if (strcmp(ev, "obuf.rollback") == 0) {
		const struct viz_obuf *o = &c->obuf[fi(e, "buf")];
		cr_assert_eq(o->used, fi(e, "to"));
		cr_assert_eq(o->rollback_to, fi(e, "to"));
		cr_assert(!o->has_reserve);
	} else if (strcmp(ev, "obuf.reset") == 0) {
		const struct viz_obuf *o = &c->obuf[fi(e, "buf")];
		cr_assert_eq(o->used, 0);
		cr_assert_eq(o->sent, 0);
	} else if (strcmp(ev, "cmsg.delay") == 0) {
		/* What if: the delayed boat waits, held, in its pipe. */
		const struct viz_boat *b = viz_state_boat(s,
			(uint32_t)fi(e, "msg"));
		cr_assert_not_null(b, "event %u", i);
		cr_assert(b->is_held && b->stage == VIZ_BOAT_STAGED,
			  "event %u", i);
	} else if (strcmp(ev, "obuf.rotate") == 0) {
		cr_assert_eq(c->obuf_tx, fi(e, "buf"));
	} else if (strcmp(ev, "net.writev") == 0) {
		/* wpos is the position after the write, or before it. */
		int64_t sent = c->obuf[fi(e, "buf")].sent;
		cr_assert(sent == fi(e, "wpos") ||
			  sent == fi(e, "wpos") + fi(e, "n"), "event %u", i);
		cr_assert_leq(sent, fi(e, "wend"));
		cr_assert_eq(c->obuf_net, fi(e, "buf"));
	} else if (strcmp(ev, "kharon.depart") == 0) {
		cr_assert_eq(c->kharon.place, VIZ_KHARON_OUT);
		cr_assert(!c->kharon.flag, "event %u: flag up at departure", i);
		cr_assert_eq(c->kharon.msg, (uint32_t)fi(e, "msg"));
		cr_assert_eq(c->kharon.carry_end, fi(e, "end"));
	} else if (strcmp(ev, "kharon.flag") == 0) {
		cr_assert(c->kharon.flag);
		cr_assert_neq(c->kharon.place, VIZ_KHARON_HOME,
			      "event %u: flag raised with Kharon home", i);
	} else if (strcmp(ev, "kharon.arrive") == 0) {
		cr_assert_eq(c->kharon.place, VIZ_KHARON_THERE);
		cr_assert_eq(c->wend, fi(e, "wend"));
		cr_assert_eq(c->wend_buf, fi(e, "wend_buf"));
		cr_assert_null(viz_state_boat(s, (uint32_t)fi(e, "msg")),
			       "event %u: Kharon arrived but still sails", i);
	} else if (strcmp(ev, "kharon.return") == 0) {
		cr_assert_eq(c->kharon.place, VIZ_KHARON_HOME);
		cr_assert_eq(c->kharon.flag, fi(e, "pending") != 0);
	} else if (strcmp(ev, "net.reply") == 0 ||
		   strcmp(ev, "push.arrive") == 0) {
		cr_assert_eq(c->wend, fi(e, "wend"));
	} else if (strcmp(ev, "cpipe.push") == 0) {
		const struct viz_boat *b = NULL;
		/* The newest trip of this message is the one just pushed. */
		for (int k = 0; k < s->n_boats; k++)
			if (s->boats[k].msg == (uint32_t)fi(e, "msg"))
				b = &s->boats[k];
		cr_assert_not_null(b, "event %u: no boat for msg", i);
		cr_assert_eq(b->stage, VIZ_BOAT_STAGED);
		cr_assert_eq(b->push_ev, i);
		cr_assert_str_eq(b->f, viz_ev_str(e, "f"));
		cr_assert_str_eq(s->cords[b->to].name, viz_ev_str(e, "to"));
		cr_assert_str_eq(s->cords[b->from].name, e->cord);
		const struct viz_conn *kc = NULL;
		for (int k = 0; k < VIZ_MAX_CONNS; k++)
			if (s->conns[k].state != VIZ_CONN_FREE &&
			    s->conns[k].kharon.msg == b->msg &&
			    s->conns[k].kharon.place != VIZ_KHARON_HOME)
				kc = &s->conns[k];
		cr_assert_eq(b->is_kharon, kc != NULL, "event %u", i);
	} else if (strcmp(ev, "cpipe.flush") == 0) {
		int from = viz_state_cord(s, e->cord);
		int to = viz_state_cord(s, viz_ev_str(e, "to"));
		for (int k = 0; k < s->n_boats; k++)
			cr_assert(!(s->boats[k].stage == VIZ_BOAT_STAGED &&
				    s->boats[k].from == from &&
				    s->boats[k].to == to),
				  "event %u: a boat left behind", i);
		if (fi(e, "wakeup") == 1)
			cr_assert_eq(s->cords[to].bell_ev, i + 1);
	} else if (strcmp(ev, "cbus.fetch") == 0) {
		int me = viz_state_cord(s, e->cord);
		for (int k = 0; k < s->n_boats; k++)
			cr_assert(!(s->boats[k].stage == VIZ_BOAT_SAILING &&
				    s->boats[k].to == me));
	} else if (strcmp(ev, "input.stop") == 0) {
		cr_assert(c->is_input_stopped);
	} else if (strcmp(ev, "input.resume") == 0) {
		cr_assert(!c->is_input_stopped);
	}
}

Test(viz_model, every_event_of_every_scenario_is_shown_as_it_says)
{
	char names[64][64];
	int n = viz_fixture_scenarios(names, 64);
	cr_assert_geq(n, 10);
	for (int k = 0; k < n; k++) {
		struct viz_history h;
		viz_fixture_load(names[k], &h);
		struct viz_state s;
		viz_state_init(&s);
		for (uint32_t i = 0; i < h.n_events; i++) {
			viz_state_apply(&s, viz_fixture_event(&h, (uint32_t)(i)));
			check_event(&h, i, &s);
		}
		cr_assert_eq(s.n_untracked, 0, "%s", names[k]);
		viz_history_destroy(&h);
	}
}

Test(viz_model, snapshot_and_replay_equal_the_linear_run_at_every_event)
{
	char names[64][64];
	int n = viz_fixture_scenarios(names, 64);
	struct viz_state *lin = mem_alloc(sizeof(*lin));
	struct viz_state *seek = mem_alloc(sizeof(*seek));
	for (int k = 0; k < n; k++) {
		struct viz_history h;
		viz_fixture_load(names[k], &h);
		viz_state_init(lin);
		for (uint32_t i = 0; i <= h.n_events; i++) {
			viz_history_seek(&h, i, seek);
			cr_assert(memcmp(lin, seek, sizeof(*lin)) == 0,
				  "%s: seek(%u) differs from the linear run",
				  names[k], i);
			if (i < h.n_events)
				viz_state_apply(lin, viz_fixture_event(&h, (uint32_t)(i)));
		}
		/* Backwards, one event at a time, as the ← key does. */
		for (uint32_t i = h.n_events; i-- > 0;) {
			viz_history_seek(&h, i, seek);
			cr_assert_eq(seek->n_events, i);
		}
		cr_assert(memcmp(lin, &h.last, sizeof(*lin)) == 0);
		viz_history_destroy(&h);
	}
	mem_free(lin);
	mem_free(seek);
}

Test(viz_model, every_push_links_to_the_hop_that_delivers_it)
{
	char names[64][64];
	int n = viz_fixture_scenarios(names, 64);
	for (int k = 0; k < n; k++) {
		struct viz_history h;
		viz_fixture_load(names[k], &h);
		for (uint32_t i = 0; i < h.n_events; i++) {
			const struct trace_event *e = viz_fixture_event(&h, (uint32_t)(i));
			if (strcmp(e->ev, "cpipe.push") != 0) {
				cr_assert_eq(viz_history_link(&h, i), VIZ_NO_LINK);
				continue;
			}
			uint32_t j = viz_history_link(&h, i);
			if (j == VIZ_NO_LINK)
				continue; /* in flight when the trace ended */
			const struct trace_event *hop = viz_fixture_event(&h, (uint32_t)(j));
			cr_assert_str_eq(hop->ev, "cmsg.hop");
			cr_assert_eq(fi(hop, "msg"), fi(e, "msg"));
			cr_assert_str_eq(viz_ev_str(hop, "f"), viz_ev_str(e, "f"));
			cr_assert_str_eq(hop->cord, viz_ev_str(e, "to"));
			/* Until then the boat is on the river; after, gone. */
			struct viz_state s;
			viz_history_seek(&h, j, &s);
			cr_assert_not_null(viz_state_boat(&s, (uint32_t)fi(e, "msg")));
		}
		cr_assert_eq(h.n_marks, 0, "%s: invariant broken", names[k]);
		viz_history_destroy(&h);
	}
}

Test(viz_model, kharon_scenario_raises_the_flag_while_he_is_away)
{
	struct viz_history h;
	viz_fixture_load("06-kharon", &h);
	int64_t flag = viz_fixture_find(&h, "kharon.flag", 0);
	cr_assert_geq(flag, 0);
	struct viz_state s;
	viz_history_seek(&h, (uint32_t)flag + 1, &s);
	const struct viz_conn *c = viz_state_conn(
		&s, (int32_t)fi(viz_fixture_event(&h, (uint32_t)(flag)), "conn"));
	cr_assert(c->kharon.flag);
	/* He is on the river or at the network cord: a boat or "there". */
	const struct viz_boat *b = viz_state_boat(&s, c->kharon.msg);
	cr_assert(c->kharon.place == VIZ_KHARON_THERE ||
		  (b != NULL && b->is_kharon));
	/* The flag is lowered by the next departure, not before. */
	for (uint32_t i = (uint32_t)flag + 1; i < h.n_events; i++) {
		viz_history_seek(&h, i + 1, &s);
		c = viz_state_conn(&s, (int32_t)fi(viz_fixture_event(&h, (uint32_t)(flag)), "conn"));
		if (strcmp(viz_fixture_event(&h, (uint32_t)(i))->ev, "kharon.depart") == 0) {
			cr_assert(!c->kharon.flag);
			break;
		}
		cr_assert(c->kharon.flag, "flag lowered at event %u", i);
	}
	viz_history_destroy(&h);
}

Test(viz_model, a_multi_hop_route_goes_there_and_back)
{
	struct viz_history h;
	viz_fixture_load("03-request-life", &h);
	int64_t parse = viz_fixture_find(&h, "req.parse", 0);
	cr_assert_geq(parse, 0);
	uint32_t msg = (uint32_t)fi(viz_fixture_event(&h, (uint32_t)(parse)), "msg");
	int trips = 0;
	for (uint32_t i = 0; i < h.n_events; i++) {
		const struct trace_event *e = viz_fixture_event(&h, (uint32_t)(i));
		if (strcmp(e->ev, "cpipe.push") != 0 ||
		    (uint32_t)fi(e, "msg") != msg)
			continue;
		struct viz_state s;
		viz_history_seek(&h, i + 1, &s);
		const struct viz_boat *b = viz_state_boat(&s, msg);
		cr_assert_not_null(b);
		cr_assert_str_eq(s.cords[b->from].name, e->cord);
		trips++;
	}
	cr_assert_geq(trips, 2, "a request goes to TX and back");
	viz_history_destroy(&h);
}

/* A real-threads trace: cord batches reach the file out of order. */
static void
write_unordered(const char *path)
{
	struct trace_meta meta = { "t", 0, "real", NULL, 0, "test" };
	struct trace_writer *w = trace_writer_new(path, &meta);
	cr_assert_not_null(w);
	struct trace_field push[] = { { "msg", 7, NULL }, { "to", 0, "tx" },
				      { "n", 1, NULL },
				      { "f", 0, "tx_process_request" } };
	struct trace_field flush[] = { { "to", 0, "tx" }, { "n", 1, NULL },
				       { "wakeup", 1, NULL } };
	struct trace_field fetch[] = { { "ep", 0, "tx" }, { "n", 1, NULL } };
	struct trace_field hop[] = { { "msg", 7, NULL }, { "hop", 0, NULL },
				     { "f", 0, "tx_process_request" },
				     { "last", 0, NULL } };
	/* The tx cord's batch is written before net0's. */
	struct trace_event tx1 = { 3, 300, "tx", "cbus.fetch", fetch, 2, 0 };
	struct trace_event tx2 = { 4, 300, "tx", "cmsg.hop", hop, 4, 0 };
	struct trace_event n1 = { 1, 100, "net0", "cpipe.push", push, 4, 0 };
	struct trace_event n2 = { 2, 200, "net0", "cpipe.flush", flush, 3, 0 };
	cr_assert_eq(trace_writer_add(w, &tx1), 0);
	cr_assert_eq(trace_writer_add(w, &tx2), 0);
	cr_assert_eq(trace_writer_flush(w), 0);
	cr_assert_eq(trace_writer_add(w, &n1), 0);
	cr_assert_eq(trace_writer_add(w, &n2), 0);
	cr_assert_eq(trace_writer_close(w, true), 0);
}

Test(viz_model, a_real_threads_trace_is_replayed_in_the_order_it_happened)
{
	char path[64], side[80];
	snprintf(path, sizeof(path), "/tmp/kharon-test-viz-%d.trace",
		 (int)getpid());
	unlink(path);
	write_unordered(path);
	for (int follow = 0; follow < 2; follow++) {
		struct viz_history h;
		cr_assert_eq(viz_history_create(&h), 0);
		struct viz_source src;
		cr_assert_eq(viz_source_open_trace(&src, path, follow), 0);
		cr_assert_geq(viz_source_poll(&src, &h, 0), 0);
		cr_assert_eq(h.n_events, 4, "follow %d", follow);
		cr_assert_str_eq(viz_history_name(&h, 0), "cpipe.push");
		cr_assert_str_eq(viz_history_name(&h, 3), "cmsg.hop");
		cr_assert_eq(viz_history_link(&h, 0), 3);
		cr_assert_eq(h.n_marks, 0, "no invariant broken");
		cr_assert_eq(h.last.n_boats, 0, "the boat was delivered");
		viz_source_close(&src);
		viz_history_destroy(&h);
	}
	unlink(path);
	snprintf(side, sizeof(side), "%s.lock", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s.writers", path);
	unlink(side);
}
