/*
 * scenario_run.c — the scenario runner. See scenario_run.h.
 *
 * Each client is a small state machine on its own cord: connect at its
 * time, then run its steps one by one — a step starts when the previous
 * one's replies are all in ("after": "reply", the default), right after the
 * previous one was written ("after": "sent"), or at a time since connecting
 * ("at_ms"). Every request records its pushes, its final reply and any
 * error; the checks run after the runtime has gone idle (simulator) or
 * every cord has stopped (threads).
 */
#include "scenario/scenario_run.h"

#include <inttypes.h>
#include <string.h>

#include "base/diag.h"
#include "base/mem.h"
#include "cbus/cbus_delay.h"
#include "cbus/cbus_endpoint.h"
#include "client/iproto_client.h"
#include "iproto/iproto.h"
#include "proto/errcode.h"
#include "proto/iproto_constants.h"
#include "proto/mp.h"
#include "proto/xrow.h"
#include "rt/rt.h"
#include "scenario/invariants.h"
#include "trace/trace.h"
#include "trace/trace_file.h"

enum { RUN_EVENT_NAMES_MAX = 128 };

struct run;
struct run_client;

/** What happened to one request. */
struct run_request {
	const struct scenario_request *sr;
	struct run_client *client;
	uint32_t step;
	/** Index in a pipeline, or -1. */
	int item;
	bool is_sent;
	/** The connection ended before the reply (the client's ER_NO_CONNECTION). */
	bool is_lost;
	bool has_reply;
	uint32_t code;
	/** The reply's DATA (MsgPack) or error message, owned. */
	char *data;
	size_t data_len;
	char *error;
	uint32_t n_pushes;
	/** Push values back to back (MsgPack), owned. */
	char *pushes;
	size_t pushes_len, pushes_cap;
};

struct run_client {
	struct run *run;
	const struct scenario_client *sc;
	uint32_t index;
	struct rt_cord *cord;
	struct iproto_client *client;
	struct rt_timer *timer;
	/** Requests of every step, in order; step_first[i] is step i's first. */
	struct run_request *requests;
	uint32_t *step_first;
	/** Replies each step still waits for. */
	uint32_t *step_waiting;
	/** Whether the peer had closed the connection when each step completed. */
	bool *step_closed;
	/** The next step to execute. */
	uint32_t next_step;
	uint64_t connected_at;
	bool is_connected;
	bool is_closed;
	/** Closed by the server or the network (not by a disconnect step). */
	bool is_closed_by_peer;
	bool is_done;
	/** This client's interventions (scenario.interventions): a timer each. */
	struct run_intervention *ivs;
	uint32_t n_ivs;
};

/** A what-if intervention waiting for its moment on its client's cord. */
struct run_intervention {
	struct run_client *c;
	const struct scenario_intervention *iv;
	struct rt_timer *timer;
};

/**
 * A what-if hold_cord waiting for its moment on the held cord, or a
 * set_option on TX (where box.cfg runs).
 */
struct run_hold {
	struct run *run;
	const struct scenario_intervention *iv;
	struct rt_cord *cord;
	struct rt_timer *timer;
};

struct run_event_count {
	const char *name;
	uint64_t count;
};

struct run {
	const struct scenario *s;
	const struct scenario_run_opts *opts;
	enum scenario_mode mode;
	struct rt *rt;
	struct iproto_server *server;
	char addr[80];
	struct run_client *clients;
	/** hold_cord interventions (simulator only), a timer each. */
	struct run_hold *holds;
	uint32_t n_holds;
	/** delay_message interventions, on their endpoints (cbus_delay.h). */
	struct cbus_delay *delays;
	uint32_t n_delays;
	int n_done;
	struct rt_mutex *lock;
	struct invariants *invariants;
	struct trace_writer *writer;
	struct run_event_count events[RUN_EVENT_NAMES_MAX];
	int n_event_names;
	uint64_t n_events;
	bool is_timed_out;
	struct rt_timer *watchdog;
	uint64_t started;
};

/* ------------------------------------------------------------- tracing */

/** Every event: count it, check it, and pass it to the file. */
static void
run_sink(void *arg, const struct trace_event *e)
{
	struct run *run = arg;
	rt_mutex_lock(run->lock);
	run->n_events++;
	invariants_feed(run->invariants, e);
	int i;
	for (i = 0; i < run->n_event_names; i++)
		if (run->events[i].name == e->ev ||
		    strcmp(run->events[i].name, e->ev) == 0)
			break;
	if (i == run->n_event_names && i < RUN_EVENT_NAMES_MAX)
		run->events[run->n_event_names++].name = e->ev;
	if (i < RUN_EVENT_NAMES_MAX)
		run->events[i].count++;
	if (run->opts->on_event != NULL)
		run->opts->on_event(run->opts->on_event_arg, e);
	rt_mutex_unlock(run->lock);
	if (run->writer != NULL)
		trace_writer_cord_sink(run->writer, e);
}

static void
run_leave(void *arg)
{
	struct run *run = arg;
	if (run->writer != NULL)
		trace_writer_cord_leave(run->writer);
}

static void
run_idle(void *arg)
{
	struct run *run = arg;
	if (run->writer != NULL)
		trace_writer_cord_idle(run->writer);
}

/** "FAIL expect.events.NAME: N events, expected MIN..[MAX]". */
static void
run_report_event_bounds(FILE *out, const struct scenario_event_expect *e,
			uint64_t n)
{
	fprintf(out, "FAIL expect.events.%s: %" PRIu64 " events, expected %u..",
		e->name, n, e->min);
	if (e->max != UINT32_MAX)
		fprintf(out, "%u", e->max);
	fputc('\n', out);
}

static uint64_t
run_event_count(const struct run *run, const char *name)
{
	for (int i = 0; i < run->n_event_names; i++)
		if (strcmp(run->events[i].name, name) == 0)
			return run->events[i].count;
	return 0;
}

/* ------------------------------------------------------------- clients */

static void run_client_advance(struct run_client *c);

static void
run_finish_all(struct run *run)
{
	if (run->server != NULL)
		iproto_server_shutdown(run->server, 2ULL * 1000 * 1000 * 1000);
	/* The watchdog dies with client0's cord: a stopped cord runs nothing. */
	for (uint32_t i = 0; i < run->s->n_clients; i++)
		rt_cord_stop(run->clients[i].cord);
}

static void
run_client_done(struct run_client *c)
{
	if (c->is_done)
		return;
	c->is_done = true;
	rt_timer_stop(c->timer);
	for (uint32_t i = 0; i < c->n_ivs; i++)
		rt_timer_stop(c->ivs[i].timer);
	if (__atomic_add_fetch(&c->run->n_done, 1, __ATOMIC_ACQ_REL) ==
	    (int)c->run->s->n_clients)
		run_finish_all(c->run);
}

static void
run_request_append_push(struct run_request *r, const char *data,
			const char *end)
{
	size_t len = (size_t)(end - data);
	if (r->pushes_len + len > r->pushes_cap) {
		size_t cap = r->pushes_cap != 0 ? r->pushes_cap * 2 : 256;
		while (cap < r->pushes_len + len)
			cap *= 2;
		char *p = mem_realloc(r->pushes, cap);
		if (p == NULL)
			return;
		r->pushes = p;
		r->pushes_cap = cap;
	}
	memcpy(r->pushes + r->pushes_len, data, len);
	r->pushes_len += len;
}

static void
run_on_push(void *ctx, uint64_t sync, const char *data, const char *end)
{
	(void)sync;
	struct run_request *r = ctx;
	r->n_pushes++;
	run_request_append_push(r, data, end);
}

static char *
run_strndup(const char *s, size_t len)
{
	char *copy = mem_alloc(len + 1);
	if (copy != NULL) {
		memcpy(copy, s, len);
		copy[len] = '\0';
	}
	return copy;
}

static void
run_on_reply(void *ctx, uint64_t sync, uint32_t code, const char *data,
	     const char *data_end, const char *error, uint32_t error_len)
{
	(void)sync;
	struct run_request *r = ctx;
	struct run_client *c = r->client;
	if (code == (IPROTO_TYPE_ERROR | ER_NO_CONNECTION) && data == NULL &&
	    !iproto_client_is_connected(c->client)) {
		/* Not a reply: the connection is gone. Nothing more runs. */
		r->is_lost = true;
		c->is_closed = true;
		return;
	}
	r->has_reply = true;
	r->code = code;
	if (data != NULL) {
		r->data_len = (size_t)(data_end - data);
		r->data = run_strndup(data, r->data_len);
	}
	if (error != NULL)
		r->error = run_strndup(error, error_len);
	if (c->step_waiting[r->step] > 0 && --c->step_waiting[r->step] == 0) {
		c->step_closed[r->step] = c->is_closed_by_peer;
		run_client_advance(c);
	}
}

/** The sync raw bytes carry (what their reply will carry), or 0. */
static uint64_t
run_raw_sync(const char *raw, size_t size)
{
	size_t len;
	if (iproto_frame(raw, raw + size, IPROTO_PACKET_MAX_DEFAULT, &len) !=
	    IPROTO_FRAME_OK)
		return 0;
	struct iproto_request req;
	size_t prefix = mp_uint_len(*raw);
	xrow_decode_request(&req, raw + prefix, raw + len);
	diag_clear();
	return req.sync;
}

static bool
run_expects_reply(const struct scenario_request *sr)
{
	const struct scenario_reply_expect *e = &sr->expect;
	return e->has_pushes || e->has_result ||
	       e->error_match != SCENARIO_ERROR_NONE;
}

/** Send one request of a step; true when a reply is awaited. */
static bool
run_send_request(struct run_client *c, struct run_request *r)
{
	const struct scenario_request *sr = r->sr;
	struct iproto_client_handler h = { run_on_push, run_on_reply, r };
	r->is_sent = true;
	switch (sr->type) {
	case SCENARIO_REQUEST_CALL:
		if (sr->is_call_16)
			return iproto_client_call_16(c->client, sr->function,
						     sr->function_len, sr->args,
						     sr->args + sr->args_size,
						     &h) != 0;
		return iproto_client_call(c->client, sr->function,
					  sr->function_len, sr->args,
					  sr->args + sr->args_size, &h) != 0;
	case SCENARIO_REQUEST_PING:
		return iproto_client_ping(c->client, &h) != 0;
	case SCENARIO_REQUEST_RAW:
		if (run_expects_reply(sr) &&
		    iproto_client_expect(c->client,
					 run_raw_sync(sr->raw, sr->raw_size),
					 &h) != 0)
			return false;
		if (iproto_client_send_raw(c->client, sr->raw, sr->raw_size) != 0)
			return false;
		return run_expects_reply(sr);
	}
	return false;
}

/** Execute step `i`. */
static void
run_client_execute(struct run_client *c, uint32_t i)
{
	const struct scenario_step *st = &c->sc->steps[i];
	uint32_t first = c->step_first[i];
	switch (st->action) {
	case SCENARIO_ACTION_CALL:
	case SCENARIO_ACTION_PING:
	case SCENARIO_ACTION_RAW:
	case SCENARIO_ACTION_PIPELINE:
		if (st->action == SCENARIO_ACTION_PIPELINE)
			iproto_client_cork(c->client);
		for (uint32_t k = 0; k < st->n_requests; k++)
			if (run_send_request(c, &c->requests[first + k]))
				c->step_waiting[i]++;
		if (st->action == SCENARIO_ACTION_PIPELINE)
			iproto_client_uncork(c->client);
		break;
	case SCENARIO_ACTION_PAUSE_READING:
		iproto_client_pause_reading(c->client);
		break;
	case SCENARIO_ACTION_RESUME_READING:
		iproto_client_resume_reading(c->client);
		break;
	case SCENARIO_ACTION_DISCONNECT:
		iproto_client_disconnect(c->client, st->is_reset);
		break;
	case SCENARIO_ACTION_HOLD_CORD:
	case SCENARIO_ACTION_SET_OPTION:
	case SCENARIO_ACTION_DELAY_MESSAGE:
		break; /* never a step: the loader has no such step */
	}
}

/** Run every step that may run now; arm the timer for an "at" step. */
static void
run_client_advance(struct run_client *c)
{
	while (!c->is_done && !c->is_closed) {
		uint32_t i = c->next_step;
		if (i == c->sc->n_steps) {
			/* Wait for the last replies, then done. */
			bool waiting = false;
			for (uint32_t k = 0; k < i; k++) {
				const struct scenario_step *done = &c->sc->steps[k];
				waiting |= c->step_waiting[k] != 0;
				/* A closure is expected: wait for it to come. */
				waiting |= done->has_closed && done->closed;
			}
			if (!waiting)
				run_client_done(c);
			return;
		}
		const struct scenario_step *st = &c->sc->steps[i];
		/* "After the reply": every reply asked for so far is in. */
		if (st->when == SCENARIO_WHEN_AFTER_REPLY)
			for (uint32_t k = 0; k < i; k++)
				if (c->step_waiting[k] != 0)
					return;
		if (st->when == SCENARIO_WHEN_AT) {
			uint64_t at = c->connected_at + st->at_ns;
			uint64_t now = rt_now(c->run->rt);
			if (now < at) {
				if (!rt_timer_is_active(c->timer))
					rt_timer_start(c->timer, at - now);
				return;
			}
		}
		c->next_step = i + 1;
		run_client_execute(c, i);
		/* A step with nothing to wait for completes now. */
		if (c->step_waiting[i] == 0)
			c->step_closed[i] = c->is_closed_by_peer;
	}
}

static void
run_client_on_timer(void *arg)
{
	struct run_client *c = arg;
	if (!c->is_connected && !c->is_closed) {
		if (iproto_client_connect(c->client, c->run->addr,
					  &c->sc->net) != 0) {
			c->is_closed = true;
			run_client_done(c);
		}
		return;
	}
	run_client_advance(c);
}

static void
run_client_on_connect(void *arg, const struct greeting *g)
{
	(void)g;
	struct run_client *c = arg;
	c->is_connected = true;
	c->connected_at = rt_now(c->run->rt);
	run_client_advance(c);
}

static void
run_client_on_close(void *arg, const struct diag *why)
{
	struct run_client *c = arg;
	c->is_closed = true;
	c->is_closed_by_peer = why != NULL;
	/* Steps whose replies were lost ended with the connection. */
	for (uint32_t k = 0; k < c->step_first[c->sc->n_steps]; k++)
		if (c->requests[k].is_lost)
			c->step_closed[c->requests[k].step] = c->is_closed_by_peer;
	run_client_done(c);
}

/** An intervention's moment: do it, if the client is connected now. */
static void
run_intervention_on_timer(void *arg)
{
	struct run_intervention *ri = arg;
	struct run_client *c = ri->c;
	if (!c->is_connected || c->is_closed)
		return;
	switch (ri->iv->action) {
	case SCENARIO_ACTION_PAUSE_READING:
		iproto_client_pause_reading(c->client);
		break;
	case SCENARIO_ACTION_RESUME_READING:
		iproto_client_resume_reading(c->client);
		break;
	default:
		iproto_client_disconnect(c->client, ri->iv->is_reset);
		break;
	}
}

/**
 * A hold's moment, on the held cord: this callback is the work that keeps
 * the cord busy (a long procedure, a slow write) — nothing else of the
 * cord runs until it has passed (rt_sim_hold_cord).
 */
static void
run_hold_on_timer(void *arg)
{
	struct run_hold *h = arg;
	if (h->iv->action == SCENARIO_ACTION_SET_OPTION) {
		bool is_msg_max = h->iv->option == SCENARIO_OPTION_NET_MSG_MAX;
		TRACE("server.option", TS("name", is_msg_max ? "net_msg_max" :
					  "readahead"),
		      TI("value", h->iv->value));
		if (is_msg_max)
			iproto_server_set_net_msg_max(h->run->server,
						      (int)h->iv->value);
		else
			iproto_server_set_readahead(h->run->server,
						    (size_t)h->iv->value);
		return;
	}
	TRACE("cord.hold", TI("for_us", h->iv->for_ns / 1000));
	if (rt_sim_hold_cord(h->cord, h->iv->for_ns) != 0)
		diag_clear();
}

static void
run_client_start(void *arg)
{
	struct run_client *c = arg;
	rt_timer_start(c->timer, c->sc->connect_at_ns);
	for (uint32_t i = 0; i < c->n_ivs; i++)
		rt_timer_start(c->ivs[i].timer, c->ivs[i].iv->at_ns);
}

/** The watchdog: give up on clients still running. */
static void
run_on_watchdog(void *arg)
{
	struct run *run = arg;
	run->is_timed_out = true;
	run_finish_all(run);
}

/* -------------------------------------------------------------- set-up */

static int
run_client_create(struct run *run, struct run_client *c, uint32_t index)
{
	const struct scenario_client *sc = &run->s->clients[index];
	c->run = run;
	c->sc = sc;
	c->index = index;
	uint32_t n_requests = 0;
	for (uint32_t i = 0; i < sc->n_steps; i++)
		n_requests += sc->steps[i].n_requests;
	c->requests = mem_zalloc(sizeof(*c->requests) * (n_requests + 1));
	c->step_first = mem_zalloc(sizeof(*c->step_first) * (sc->n_steps + 1));
	c->step_waiting = mem_zalloc(sizeof(*c->step_waiting) *
				     (sc->n_steps + 1));
	c->step_closed = mem_zalloc(sizeof(*c->step_closed) * (sc->n_steps + 1));
	if (c->requests == NULL || c->step_first == NULL ||
	    c->step_waiting == NULL || c->step_closed == NULL) {
		diag_set_oom(sizeof(*c->requests) * n_requests, "run requests");
		return -1;
	}
	uint32_t k = 0;
	for (uint32_t i = 0; i < sc->n_steps; i++) {
		const struct scenario_step *st = &sc->steps[i];
		c->step_first[i] = k;
		for (uint32_t j = 0; j < st->n_requests; j++, k++) {
			c->requests[k].sr = &st->requests[j];
			c->requests[k].client = c;
			c->requests[k].step = i;
			c->requests[k].item =
				st->action == SCENARIO_ACTION_PIPELINE ? (int)j : -1;
		}
	}
	c->step_first[sc->n_steps] = k;
	c->cord = rt_cord_new(run->rt, sc->name);
	if (c->cord == NULL)
		return -1;
	struct iproto_client_opts opts = { .id = index };
	struct iproto_client_cbs cbs = {
		.on_connect = run_client_on_connect,
		.on_close = run_client_on_close,
		.arg = c,
	};
	c->client = iproto_client_new(c->cord, &opts, &cbs);
	c->timer = rt_timer_new(c->cord, run_client_on_timer, c);
	if (c->client == NULL || c->timer == NULL)
		return -1;
	for (uint32_t i = 0; i < run->s->n_interventions; i++)
		c->n_ivs += run->s->interventions[i].client == index;
	if (c->n_ivs == 0)
		return 0;
	c->ivs = mem_zalloc(sizeof(*c->ivs) * c->n_ivs);
	if (c->ivs == NULL) {
		diag_set_oom(sizeof(*c->ivs) * c->n_ivs, "interventions");
		c->n_ivs = 0;
		return -1;
	}
	uint32_t at = 0;
	for (uint32_t i = 0; i < run->s->n_interventions; i++) {
		if (run->s->interventions[i].client != index)
			continue;
		struct run_intervention *ri = &c->ivs[at++];
		ri->c = c;
		ri->iv = &run->s->interventions[i];
		ri->timer = rt_timer_new(c->cord, run_intervention_on_timer, ri);
		if (ri->timer == NULL)
			return -1;
	}
	return 0;
}

static void
run_client_destroy(struct run_client *c)
{
	if (c->client != NULL)
		iproto_client_delete(c->client);
	rt_timer_delete(c->timer);
	for (uint32_t i = 0; i < c->n_ivs; i++)
		rt_timer_delete(c->ivs[i].timer);
	mem_free(c->ivs);
	uint32_t n = c->step_first != NULL ? c->step_first[c->sc->n_steps] : 0;
	for (uint32_t k = 0; c->requests != NULL && k < n; k++) {
		mem_free(c->requests[k].data);
		mem_free(c->requests[k].error);
		mem_free(c->requests[k].pushes);
	}
	mem_free(c->requests);
	mem_free(c->step_first);
	mem_free(c->step_waiting);
	mem_free(c->step_closed);
}

/* -------------------------------------------------------------- checks */

static const char *
run_action_name(enum scenario_action a)
{
	switch (a) {
	case SCENARIO_ACTION_CALL: return "call";
	case SCENARIO_ACTION_PING: return "ping";
	case SCENARIO_ACTION_RAW: return "raw";
	case SCENARIO_ACTION_PIPELINE: return "pipeline";
	case SCENARIO_ACTION_PAUSE_READING: return "pause_reading";
	case SCENARIO_ACTION_RESUME_READING: return "resume_reading";
	case SCENARIO_ACTION_DISCONNECT: return "disconnect";
	case SCENARIO_ACTION_HOLD_CORD: return "hold_cord";
	case SCENARIO_ACTION_SET_OPTION: return "set_option";
	case SCENARIO_ACTION_DELAY_MESSAGE: return "delay_message";
	}
	return "?";
}

static void
run_path(const struct run_request *r, char *buf, size_t size)
{
	const struct scenario_step *st = &r->client->sc->steps[r->step];
	if (r->item >= 0)
		snprintf(buf, size, "clients[%u].steps[%u].pipeline[%d]",
			 r->client->index, r->step, r->item);
	else
		snprintf(buf, size, "clients[%u].steps[%u].%s",
			 r->client->index, r->step, run_action_name(st->action));
}

/** A value as text for a message (truncated). */
static const char *
run_text(char *buf, size_t size, const char *data, size_t len)
{
	if (data == NULL)
		return "nothing";
	int full = mp_format(buf, size, data, data + len);
	if (full >= 0 && (size_t)full >= size && size > 4) {
		/* Cut at a character boundary and say so. */
		size_t end = size - 4;
		while (end > 0 && ((unsigned char)buf[end] & 0xc0) == 0x80)
			end--;
		memcpy(buf + end, "...", 4);
	}
	return buf;
}

/** Check one request; prints and returns false on the first mismatch. */
static bool
run_check_request(const struct run *run, const struct run_request *r)
{
	const struct scenario_reply_expect *e = &r->sr->expect;
	FILE *out = run->opts->out;
	char path[96], a[160], b[160];
	run_path(r, path, sizeof(path));
	if (!run_expects_reply(r->sr))
		return true;
	if (!r->is_sent) {
		if (out != NULL)
			fprintf(out, "FAIL %s: never sent\n", path);
		return false;
	}
	if (e->has_pushes && r->n_pushes != e->n_pushes) {
		if (out != NULL)
			fprintf(out, "FAIL %s: expected %u pushes, got %u\n", path,
				e->n_pushes, r->n_pushes);
		return false;
	}
	if (e->push_values != NULL) {
		const char *want = e->push_values;
		uint32_t n = mp_decode_array(&want);
		const char *got = r->pushes;
		for (uint32_t i = 0; i < n && i < r->n_pushes; i++) {
			const char *w0 = want, *g0 = got;
			if (!mp_equal(&want, &got)) {
				mp_next(&want);
				mp_next(&got);
				if (out != NULL)
					fprintf(out, "FAIL %s: push %u: expected %s, "
						"got %s\n", path, i + 1,
						run_text(a, sizeof(a), w0,
							 (size_t)(want - w0)),
						run_text(b, sizeof(b), g0,
							 (size_t)(got - g0)));
				return false;
			}
		}
	}
	if (!r->has_reply) {
		if (out != NULL)
			fprintf(out, "FAIL %s: %s\n", path, r->is_lost ?
				"the connection closed before the reply" :
				"no reply");
		return false;
	}
	bool is_error = (r->code & IPROTO_TYPE_ERROR) != 0;
	if (e->has_result) {
		const char *want = e->result, *got = r->data;
		if (is_error || got == NULL || !mp_equal(&want, &got)) {
			if (out != NULL)
				fprintf(out, "FAIL %s: expected result %s, got %s\n",
					path, run_text(a, sizeof(a), e->result,
						       e->result_size),
					is_error ? r->error :
					run_text(b, sizeof(b), r->data,
						 r->data_len));
			return false;
		}
	}
	if (e->error_match != SCENARIO_ERROR_NONE) {
		bool ok = is_error && r->error != NULL &&
			  (e->error_match == SCENARIO_ERROR_EXACT ?
			   strcmp(r->error, e->error) == 0 :
			   strstr(r->error, e->error) != NULL);
		if (!ok) {
			if (out != NULL)
				fprintf(out, "FAIL %s: expected error %s\"%s\", "
					"got %s%s%s\n", path,
					e->error_match == SCENARIO_ERROR_EXACT ?
					"" : "containing ", e->error,
					is_error ? "\"" : "",
					is_error ? r->error : "a success",
					is_error ? "\"" : "");
			return false;
		}
	}
	return true;
}

static int
run_check(struct run *run, struct scenario_run_result *res)
{
	FILE *out = run->opts->out;
	int failed = 0;
	for (uint32_t i = 0; i < run->s->n_clients; i++) {
		struct run_client *c = &run->clients[i];
		for (uint32_t st = 0; st < c->sc->n_steps; st++) {
			const struct scenario_step *step = &c->sc->steps[st];
			bool ok = true;
			/*
			 * Every step must run — except one that only waits to
			 * see the server close the connection, which it did.
			 */
			bool is_closed_as_expected = step->has_closed &&
						     step->closed &&
						     c->is_closed_by_peer;
			if (st >= c->next_step && !is_closed_as_expected) {
				if (out != NULL)
					fprintf(out, "FAIL clients[%u].steps[%u]: never "
						"ran (%s)\n", i, st, c->is_closed ?
						"the connection was closed" :
						"the run ended first");
				ok = false;
			}
			for (uint32_t k = c->step_first[st];
			     k < c->step_first[st + 1]; k++) {
				const struct run_request *r = &c->requests[k];
				res->n_pushes += r->n_pushes;
				res->n_replies += r->has_reply;
				if (ok && !run_check_request(run, r))
					ok = false;
			}
			/*
			 * closed: true — the server closed the connection by the
			 * end (the client waits for it); closed: false — it was
			 * still open when the step completed.
			 */
			bool was_closed = step->closed ? c->is_closed_by_peer :
					  c->step_closed[st];
			if (ok && step->has_closed && was_closed != step->closed) {
				if (out != NULL)
					fprintf(out, "FAIL clients[%u].steps[%u]: "
						"expected the connection %s, it %s\n",
						i, st, step->closed ? "closed" :
						"open", was_closed ?
						"was closed" : "stayed open");
				ok = false;
			}
			res->n_steps++;
			if (!ok) {
				res->n_steps_failed++;
				failed = 1;
			}
		}
	}
	if (run->opts->target == NULL) {
		for (uint32_t i = 0; i < run->s->n_events; i++) {
			const struct scenario_event_expect *e = &run->s->events[i];
			if (e->is_sim_only && run->mode != SCENARIO_MODE_SIM)
				continue;
			uint64_t n = run_event_count(run, e->name);
			if (n < e->min || n > e->max) {
				res->n_event_expect_failed++;
				failed = 1;
				if (out != NULL)
					run_report_event_bounds(out, e, n);
			}
		}
	}
	if (run->s->check_invariants) {
		res->n_invariant_violations = invariants_finish(run->invariants);
		if (res->n_invariant_violations != 0)
			failed = 1;
	}
	if (run->is_timed_out) {
		failed = 1;
		if (out != NULL)
			fprintf(out, "FAIL the run timed out\n");
	}
	return failed;
}

static void
run_report(const struct run *run, const struct scenario_run_result *res,
	   int failed)
{
	FILE *out = run->opts->out;
	if (out == NULL)
		return;
	const struct scenario *s = run->s;
	fprintf(out, "%s (%s, seed %" PRIu64 "%s%s): %u clients\n", s->name,
		run->mode == SCENARIO_MODE_SIM ? "sim" : "real",
		run->opts->has_seed ? run->opts->seed : s->seed,
		run->opts->target != NULL ? ", target " : "",
		run->opts->target != NULL ? run->opts->target : "", s->n_clients);
	fprintf(out, "  steps:      %u ok, %u failed\n",
		res->n_steps - res->n_steps_failed, res->n_steps_failed);
	fprintf(out, "  pushes:     %" PRIu64 ", replies: %" PRIu64 "\n",
		res->n_pushes, res->n_replies);
	fprintf(out, "  events:     %" PRIu64 "%s%s\n", res->n_events,
		run->opts->trace_path != NULL ? ", trace " : "",
		run->opts->trace_path != NULL ? run->opts->trace_path : "");
	fprintf(out, "  time:       %.3f ms%s\n", (double)res->duration_ns / 1e6,
		run->mode == SCENARIO_MODE_SIM ? " (virtual)" : "");
	if (s->check_invariants) {
		fprintf(out, "  invariants:");
		for (int i = 0; i < INVARIANT_MAX; i++)
			fprintf(out, " %s %s", invariant_name((enum invariant)i),
				invariants_count(run->invariants,
						 (enum invariant)i) == 0 ?
				"ok" : "BROKEN");
		fprintf(out, "\n");
		for (int i = 0; i < INVARIANT_MAX; i++) {
			const char *first = invariants_first(run->invariants,
							     (enum invariant)i);
			if (first != NULL)
				fprintf(out, "FAIL invariant %s: %s\n",
					invariant_name((enum invariant)i), first);
		}
	}
	fprintf(out, "%s\n", failed ? "result: FAILED" : "result: ok");
}

/* ----------------------------------------------------------------- run */

/*
 * The hold_cord interventions: a timer each on the held server cord, armed
 * now (virtual time 0, before anything runs; the simulator only).
 */
static int
run_holds_create(struct run *run)
{
	const struct scenario *s = run->s;
	for (uint32_t i = 0; i < s->n_interventions; i++)
		run->n_holds += s->interventions[i].action ==
				SCENARIO_ACTION_HOLD_CORD ||
				s->interventions[i].action ==
				SCENARIO_ACTION_SET_OPTION;
	if (run->n_holds == 0 || run->server == NULL)
		return 0;
	run->holds = mem_zalloc(sizeof(*run->holds) * run->n_holds);
	if (run->holds == NULL) {
		diag_set_oom(sizeof(*run->holds) * run->n_holds, "holds");
		run->n_holds = 0;
		return -1;
	}
	uint32_t at = 0;
	for (uint32_t i = 0; i < s->n_interventions; i++) {
		const struct scenario_intervention *iv = &s->interventions[i];
		if (iv->action != SCENARIO_ACTION_HOLD_CORD &&
		    iv->action != SCENARIO_ACTION_SET_OPTION)
			continue;
		struct run_hold *h = &run->holds[at++];
		h->run = run;
		h->iv = iv;
		h->cord = iproto_server_cord(run->server,
			iv->action == SCENARIO_ACTION_HOLD_CORD ? iv->cord : "tx");
		if (h->cord == NULL) {
			diag_set(DIAG_ER_SYSTEM, "IllegalParams", "the server "
				 "has no cord '%s'", iv->cord);
			return -1;
		}
		h->timer = rt_timer_new(h->cord, run_hold_on_timer, h);
		if (h->timer == NULL)
			return -1;
		rt_timer_start(h->timer, iv->at_ns);
	}
	return 0;
}

/*
 * The delay_message interventions: each on the endpoint its message
 * travels to, before any cord starts (the simulator only).
 */
static int
run_delays_create(struct run *run)
{
	const struct scenario *s = run->s;
	for (uint32_t i = 0; i < s->n_interventions; i++)
		run->n_delays += s->interventions[i].action ==
				 SCENARIO_ACTION_DELAY_MESSAGE;
	if (run->n_delays == 0 || run->server == NULL)
		return 0;
	run->delays = mem_zalloc(sizeof(*run->delays) * run->n_delays);
	if (run->delays == NULL) {
		diag_set_oom(sizeof(*run->delays) * run->n_delays, "delays");
		run->n_delays = 0;
		return -1;
	}
	uint32_t at = 0;
	for (uint32_t i = 0; i < s->n_interventions; i++) {
		const struct scenario_intervention *iv = &s->interventions[i];
		if (iv->action != SCENARIO_ACTION_DELAY_MESSAGE)
			continue;
		struct cbus_endpoint *ep = cbus_endpoint_find(run->rt, iv->to);
		if (ep == NULL) {
			diag_set(DIAG_ER_SYSTEM, "IllegalParams", "the server "
				 "has no endpoint '%s'", iv->to);
			return -1;
		}
		struct cbus_delay *d = &run->delays[at++];
		d->msg = iv->msg;
		d->from_ns = iv->at_ns;
		d->for_ns = iv->for_ns;
		cbus_endpoint_add_delay(ep, d);
	}
	return 0;
}

static int
run_setup(struct run *run)
{
	const struct scenario *s = run->s;
	if (run->mode == SCENARIO_MODE_SIM) {
		struct rt_sim_opts sim = {
			.seed = run->opts->has_seed ? run->opts->seed : s->seed,
			.net = s->network,
		};
		run->rt = rt_sim_new(&sim);
	} else {
		run->rt = rt_thread_new();
	}
	if (run->rt == NULL)
		return -1;
	run->lock = rt_mutex_new(run->rt);
	run->invariants = invariants_new();
	if (run->lock == NULL || run->invariants == NULL)
		return -1;
	if (run->opts->target != NULL) {
		snprintf(run->addr, sizeof(run->addr), "%s", run->opts->target);
	} else {
		struct iproto_opts opts = s->server;
		snprintf(opts.listen, sizeof(opts.listen), "127.0.0.1:0");
		run->server = iproto_server_new(run->rt, &opts);
		if (run->server == NULL)
			return -1;
		snprintf(run->addr, sizeof(run->addr), "127.0.0.1:%d",
			 iproto_server_port(run->server));
	}
	run->clients = mem_zalloc(sizeof(*run->clients) * s->n_clients);
	if (run->clients == NULL) {
		diag_set_oom(sizeof(*run->clients) * s->n_clients, "run clients");
		return -1;
	}
	for (uint32_t i = 0; i < s->n_clients; i++)
		if (run_client_create(run, &run->clients[i], i) != 0)
			return -1;
	run->watchdog = rt_timer_new(run->clients[0].cord, run_on_watchdog, run);
	if (run->watchdog == NULL)
		return -1;
	if (run_holds_create(run) != 0 || run_delays_create(run) != 0)
		return -1;
	if (run->opts->trace_path != NULL) {
		const char *cords[64];
		int n_cords = 0;
		if (run->server != NULL) {
			cords[n_cords++] = "tx";
			static const char *const nets[] = { "net0", "net1", "net2",
				"net3", "net4", "net5", "net6", "net7" };
			for (int i = 0; i < s->server.iproto_threads && i < 8; i++)
				cords[n_cords++] = nets[i];
		}
		for (uint32_t i = 0; i < s->n_clients && n_cords < 64; i++)
			cords[n_cords++] = s->clients[i].name;
		const struct trace_meta meta = {
			.scenario = s->name,
			.seed = run->opts->has_seed ? run->opts->seed : s->seed,
			.mode = run->mode == SCENARIO_MODE_SIM ? "sim" : "real",
			.cords = cords,
			.n_cords = n_cords,
			.created_by = "kharon run",
		};
		run->writer = trace_writer_new(run->opts->trace_path, &meta);
		if (run->writer == NULL)
			return -1;
	}
	return 0;
}

static void
run_teardown(struct run *run)
{
	for (uint32_t i = 0; run->clients != NULL && i < run->s->n_clients; i++)
		run_client_destroy(&run->clients[i]);
	rt_timer_delete(run->watchdog);
	for (uint32_t i = 0; i < run->n_holds; i++)
		rt_timer_delete(run->holds[i].timer);
	mem_free(run->holds);
	if (run->server != NULL)
		iproto_server_delete(run->server);
	/* After the endpoints that point at them. */
	mem_free(run->delays);
	mem_free(run->clients);
	invariants_delete(run->invariants);
	rt_mutex_delete(run->lock);
	if (run->rt != NULL)
		rt_delete(run->rt);
}

static void
run_watchdog_start(void *arg)
{
	struct run *run = arg;
	/* 60 s past the latest moment the scenario names (unless told). */
	uint64_t latest = 0;
	for (uint32_t i = 0; i < run->s->n_clients; i++) {
		const struct scenario_client *sc = &run->s->clients[i];
		uint64_t at = sc->connect_at_ns;
		for (uint32_t k = 0; k < sc->n_steps; k++)
			if (sc->steps[k].when == SCENARIO_WHEN_AT &&
			    sc->connect_at_ns + sc->steps[k].at_ns > at)
				at = sc->connect_at_ns + sc->steps[k].at_ns;
		if (at > latest)
			latest = at;
	}
	uint64_t timeout = run->opts->timeout_ns != 0 ? run->opts->timeout_ns :
			   latest + 60ULL * 1000 * 1000 * 1000;
	rt_timer_start(run->watchdog, timeout);
	run_client_start(&run->clients[0]);
}

int
scenario_run(const struct scenario *s, const struct scenario_run_opts *opts,
	     struct scenario_run_result *result)
{
	memset(result, 0, sizeof(*result));
	struct run run;
	memset(&run, 0, sizeof(run));
	run.s = s;
	run.opts = opts;
	run.mode = opts->has_mode ? opts->mode : s->mode;
	if (opts->target != NULL)
		run.mode = SCENARIO_MODE_REAL;
	if (run.mode == SCENARIO_MODE_REAL && s->sim_only != NULL) {
		if (opts->out != NULL)
			fprintf(opts->out, "%s: skipped on real threads (it "
				"means something on the simulator only: %s)\n"
				"result: skipped\n", s->name, s->sim_only);
		return 0;
	}
	for (uint32_t i = 0; run.mode == SCENARIO_MODE_REAL &&
	     i < s->n_interventions; i++) {
		enum scenario_action a = s->interventions[i].action;
		if (a != SCENARIO_ACTION_HOLD_CORD &&
		    a != SCENARIO_ACTION_SET_OPTION &&
		    a != SCENARIO_ACTION_DELAY_MESSAGE)
			continue;
		if (opts->out != NULL && a == SCENARIO_ACTION_DELAY_MESSAGE)
			fprintf(opts->out, "%s: skipped on real threads "
				"(interventions[%u] delays message %u: message "
				"ids and moments are the simulator's)\n"
				"result: skipped\n", s->name, i,
				s->interventions[i].msg);
		else if (opts->out != NULL && a == SCENARIO_ACTION_HOLD_CORD)
			fprintf(opts->out, "%s: skipped on real threads "
				"(interventions[%u] holds cord %s busy: that "
				"takes the simulator's virtual time)\n"
				"result: skipped\n", s->name, i,
				s->interventions[i].cord);
		else if (opts->out != NULL)
			fprintf(opts->out, "%s: skipped on real threads "
				"(interventions[%u] sets a server option at a "
				"virtual moment: the simulator only)\n"
				"result: skipped\n", s->name, i);
		return 0;
	}
	if (run_setup(&run) != 0) {
		struct diag err = *diag_last();
		if (run.writer != NULL)
			trace_writer_close(run.writer, false);
		run_teardown(&run);
		*diag_last() = err;
		return -1;
	}
	trace_set_batch_sink(run_sink, run_leave, &run);
	trace_set_idle_hook(run_idle);
	run.started = rt_now(run.rt);
	if (run.server != NULL && iproto_server_start(run.server) != 0)
		goto fail;
	for (uint32_t i = 0; i < s->n_clients; i++)
		if (rt_cord_start(run.clients[i].cord,
				  i == 0 ? run_watchdog_start : run_client_start,
				  i == 0 ? (void *)&run :
				  (void *)&run.clients[i]) != 0)
			goto fail;
	rt_run(run.rt);
	result->duration_ns = rt_now(run.rt) - run.started;
	trace_set_sink(NULL, NULL);
	trace_set_idle_hook(NULL);
	if (run.writer != NULL && trace_writer_close(run.writer, true) != 0) {
		result->is_trace_failed = true;
		snprintf(result->trace_error, sizeof(result->trace_error),
			 "%s", diag_msg());
		if (opts->out != NULL)
			fprintf(opts->out, "trace: %s\n", diag_msg());
	}
	run.writer = NULL;
	result->n_events = run.n_events;
	result->is_timed_out = run.is_timed_out;
	int failed = run_check(&run, result);
	run_report(&run, result, failed);
	run_teardown(&run);
	return failed;
fail:
	trace_set_sink(NULL, NULL);
	trace_set_idle_hook(NULL);
	if (run.writer != NULL)
		trace_writer_close(run.writer, false);
	run.writer = NULL;
	run_teardown(&run);
	return -1;
}
