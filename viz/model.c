/*
 * model.c — trace events -> scene state (see model.h). One function per
 * group of events; each takes only what its event says.
 */
#include "viz/model.h"

#include <stdio.h>
#include <string.h>

#include "trace/trace.h"

int64_t
viz_ev_int(const struct trace_event *e, const char *key, int64_t dflt)
{
	for (int i = 0; i < e->n_fields; i++)
		if (e->fields[i].s == NULL && strcmp(e->fields[i].key, key) == 0)
			return e->fields[i].i;
	return dflt;
}

const char *
viz_ev_str(const struct trace_event *e, const char *key)
{
	for (int i = 0; i < e->n_fields; i++)
		if (e->fields[i].s != NULL && strcmp(e->fields[i].key, key) == 0)
			return e->fields[i].s;
	return NULL;
}

static void
copy_name(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src != NULL ? src : "");
}

void
viz_state_init(struct viz_state *s)
{
	memset(s, 0, sizeof(*s));
	s->cur_task = -1;
}

int
viz_state_cord(const struct viz_state *s, const char *name)
{
	if (name == NULL)
		return -1;
	for (int i = 0; i < s->n_cords; i++)
		if (strncmp(s->cords[i].name, name, VIZ_NAME - 1) == 0)
			return i;
	return -1;
}

/** The cord's index, added on first sight; -1 when the table is full. */
static int
cord_get(struct viz_state *s, const char *name)
{
	int i = viz_state_cord(s, name);
	if (i >= 0 || name == NULL)
		return i;
	if (s->n_cords == VIZ_MAX_CORDS) {
		s->n_untracked++;
		return -1;
	}
	struct viz_cord *c = &s->cords[s->n_cords];
	copy_name(c->name, sizeof(c->name), name);
	if (strcmp(name, "tx") == 0)
		c->kind = VIZ_CORD_TX;
	else if (strncmp(name, "net", 3) == 0 && name[3] >= '0' &&
		 name[3] <= '9')
		c->kind = VIZ_CORD_NET;
	else
		c->kind = VIZ_CORD_OTHER;
	return s->n_cords++;
}

const struct viz_conn *
viz_state_conn(const struct viz_state *s, int32_t conn)
{
	for (int i = 0; i < VIZ_MAX_CONNS; i++)
		if (s->conns[i].state != VIZ_CONN_FREE && s->conns[i].id == conn)
			return &s->conns[i];
	return NULL;
}

/** The connection `id`, made on first sight; NULL when the table is full. */
static struct viz_conn *
conn_get(struct viz_state *s, int32_t id)
{
	struct viz_conn *c = (struct viz_conn *)viz_state_conn(s, id);
	if (c != NULL)
		return c;
	for (int i = 0; i < VIZ_MAX_CONNS; i++) {
		c = &s->conns[i];
		if (c->state != VIZ_CONN_FREE)
			continue;
		memset(c, 0, sizeof(*c));
		c->id = id;
		c->state = VIZ_CONN_OPEN;
		c->cord = -1;
		return c;
	}
	s->n_untracked++;
	return NULL;
}

static struct viz_conn *
conn_of(struct viz_state *s, const struct trace_event *e)
{
	return conn_get(s, (int32_t)viz_ev_int(e, "conn", 0));
}

const struct viz_boat *
viz_state_boat(const struct viz_state *s, uint32_t msg)
{
	for (int i = 0; i < s->n_boats; i++)
		if (s->boats[i].msg == msg)
			return &s->boats[i];
	return NULL;
}

static void
msg_conn_set(struct viz_state *s, uint32_t msg, int32_t conn)
{
	struct viz_msg_conn *m = &s->msg_conn[msg % VIZ_MSG_RING];
	m->msg = msg;
	m->conn = conn;
}

static int32_t
msg_conn_get(const struct viz_state *s, uint32_t msg)
{
	const struct viz_msg_conn *m = &s->msg_conn[msg % VIZ_MSG_RING];
	return m->msg == msg ? m->conn : 0;
}

static struct viz_client *
client_get(struct viz_state *s, int32_t id, int cord)
{
	for (int i = 0; i < s->n_clients; i++)
		if (s->clients[i].id == id && s->clients[i].cord == cord)
			return &s->clients[i];
	if (s->n_clients == VIZ_MAX_CLIENTS) {
		s->n_untracked++;
		return NULL;
	}
	struct viz_client *c = &s->clients[s->n_clients++];
	memset(c, 0, sizeof(*c));
	c->id = id;
	c->cord = (int8_t)cord;
	if (cord >= 0)
		s->cords[cord].kind = VIZ_CORD_CLIENT;
	return c;
}

static int
task_find(const struct viz_state *s, int32_t id)
{
	for (int i = 0; i < s->n_tasks; i++)
		if (s->tasks[i].id == id)
			return i;
	return -1;
}

/* ------------------------------------------------------------ cbus */

static void
apply_cpipe_push(struct viz_state *s, const struct trace_event *e, int from)
{
	s->n_msgs++;
	if (s->n_boats == VIZ_MAX_BOATS) {
		s->n_untracked++;
		return;
	}
	uint32_t msg = (uint32_t)viz_ev_int(e, "msg", 0);
	struct viz_boat *b = &s->boats[s->n_boats++];
	memset(b, 0, sizeof(*b));
	b->msg = msg;
	b->from = (int8_t)from;
	b->to = (int8_t)cord_get(s, viz_ev_str(e, "to"));
	b->stage = VIZ_BOAT_STAGED;
	b->push_ev = s->n_events;
	b->flush_ev = s->n_events;
	copy_name(b->f, sizeof(b->f), viz_ev_str(e, "f"));
	b->conn = msg_conn_get(s, msg);
	for (int i = 0; i < VIZ_MAX_CONNS; i++) {
		const struct viz_conn *c = &s->conns[i];
		if (c->state != VIZ_CONN_FREE && c->kharon.msg == msg &&
		    c->kharon.place != VIZ_KHARON_HOME) {
			b->is_kharon = true;
			b->conn = c->id;
		}
	}
	if (b->is_kharon) {
		struct viz_conn *c = conn_get(s, b->conn);
		if (c != NULL && c->kharon.place == VIZ_KHARON_THERE)
			c->kharon.place = VIZ_KHARON_BACK;
	}
}

static void
apply_cpipe_flush(struct viz_state *s, const struct trace_event *e, int from)
{
	int to = cord_get(s, viz_ev_str(e, "to"));
	s->n_flushes++;
	for (int i = 0; i < s->n_boats; i++) {
		struct viz_boat *b = &s->boats[i];
		if (b->stage == VIZ_BOAT_STAGED && b->from == from &&
		    b->to == to) {
			b->stage = VIZ_BOAT_SAILING;
			b->is_held = false;
			b->flush_ev = s->n_events;
		}
	}
	if (viz_ev_int(e, "wakeup", 0) != 0) {
		s->n_wakeups++;
		if (to >= 0) {
			s->cords[to].bell_ev = s->n_events + 1;
			s->cords[to].n_wakeups++;
		}
	}
}

/* What if: the boats staged in this pipe are held back until its flush. */
static void
apply_cmsg_delay(struct viz_state *s, const struct trace_event *e, int from)
{
	int to = cord_get(s, viz_ev_str(e, "to"));
	for (int i = 0; i < s->n_boats; i++) {
		struct viz_boat *b = &s->boats[i];
		if (b->stage == VIZ_BOAT_STAGED && b->from == from &&
		    b->to == to)
			b->is_held = true;
	}
}

static void
apply_cbus_fetch(struct viz_state *s, int cord)
{
	if (cord >= 0)
		s->cords[cord].n_fetches++;
	for (int i = 0; i < s->n_boats; i++) {
		struct viz_boat *b = &s->boats[i];
		if (b->stage == VIZ_BOAT_SAILING && b->to == cord)
			b->stage = VIZ_BOAT_DOCKED;
	}
}

static void
apply_cmsg_hop(struct viz_state *s, const struct trace_event *e)
{
	uint32_t msg = (uint32_t)viz_ev_int(e, "msg", 0);
	s->n_hops++;
	/* The oldest trip of this message is the one delivered (FIFO). */
	for (int i = 0; i < s->n_boats; i++) {
		if (s->boats[i].msg != msg)
			continue;
		memmove(&s->boats[i], &s->boats[i + 1],
			(size_t)(s->n_boats - i - 1) * sizeof(s->boats[0]));
		s->n_boats--;
		break;
	}
	int64_t task = viz_ev_int(e, "task", -1);
	if (task >= 0) {
		int t = task_find(s, (int32_t)task);
		if (t >= 0 && s->tasks[t].conn == 0)
			s->tasks[t].conn = msg_conn_get(s, msg);
	}
}

/* ------------------------------------------------------------ TX tasks */

static void
apply_task(struct viz_state *s, const struct trace_event *e, const char *what)
{
	int32_t id = (int32_t)viz_ev_int(e, "task", 0);
	int t = task_find(s, id);
	if (strcmp(what, "start") == 0) {
		s->pool_busy = (int32_t)viz_ev_int(e, "busy", s->pool_busy);
		if (t < 0) {
			if (s->n_tasks == VIZ_MAX_TASKS) {
				s->n_untracked++;
				return;
			}
			t = s->n_tasks++;
		}
		struct viz_task *k = &s->tasks[t];
		memset(k, 0, sizeof(*k));
		k->id = id;
		k->msg = (uint32_t)viz_ev_int(e, "msg", 0);
		k->conn = msg_conn_get(s, k->msg);
		s->cur_task = t;
		return;
	}
	if (t < 0)
		return;
	if (strcmp(what, "wait") == 0) {
		s->tasks[t].is_waiting = true;
		if (s->cur_task == t)
			s->cur_task = -1;
	} else if (strcmp(what, "resume") == 0 || strcmp(what, "cancel") == 0) {
		s->tasks[t].is_waiting = false;
		s->cur_task = t;
	} else if (strcmp(what, "end") == 0) {
		memmove(&s->tasks[t], &s->tasks[t + 1],
			(size_t)(s->n_tasks - t - 1) * sizeof(s->tasks[0]));
		s->n_tasks--;
		if (s->cur_task == t)
			s->cur_task = -1;
		else if (s->cur_task > t)
			s->cur_task--;
		if (s->pool_busy > 0)
			s->pool_busy--;
	}
}

static void
apply_task_call(struct viz_state *s, const struct trace_event *e)
{
	if (s->cur_task < 0)
		return;
	struct viz_task *k = &s->tasks[s->cur_task];
	k->conn = (int32_t)viz_ev_int(e, "conn", k->conn);
	k->sync = viz_ev_int(e, "sync", 0);
	copy_name(k->proc, sizeof(k->proc), viz_ev_str(e, "proc"));
}

/* ------------------------------------------------------------ obufs */

static struct viz_obuf *
obuf_of(struct viz_conn *c, const struct trace_event *e)
{
	int64_t buf = viz_ev_int(e, "buf", 0);
	return &c->obuf[buf & 1];
}

static void
apply_obuf(struct viz_state *s, struct viz_conn *c, const struct trace_event *e,
	   const char *what)
{
	struct viz_obuf *o = obuf_of(c, e);
	if (strcmp(what, "reserve") == 0) {
		c->obuf_tx = (int8_t)(viz_ev_int(e, "buf", 0) & 1);
		o->has_reserve = true;
		o->svp = viz_ev_int(e, "svp", 0);
		o->reserve_size = viz_ev_int(e, "size", 0);
		o->reserve_sync = viz_ev_int(e, "sync", 0);
		o->chunk = (int32_t)viz_ev_int(e, "chunk", 0);
		o->used = o->svp + o->reserve_size;
	} else if (strcmp(what, "dump") == 0) {
		o->used = viz_ev_int(e, "end", o->used);
	} else if (strcmp(what, "patch") == 0) {
		if (o->has_reserve && o->svp == viz_ev_int(e, "svp", -1))
			o->has_reserve = false;
		o->used = viz_ev_int(e, "end", o->used);
	} else if (strcmp(what, "rollback") == 0) {
		o->rollback_from = o->used;
		o->rollback_to = viz_ev_int(e, "to", 0);
		o->rollback_ev = s->n_events + 1;
		o->used = o->rollback_to;
		o->has_reserve = false;
	} else if (strcmp(what, "reset") == 0) {
		o->used = 0;
		o->sent = 0;
		o->has_reserve = false;
		o->rollback_ev = 0;
		o->n_resets++;
		if (c->wend_buf == (int8_t)(viz_ev_int(e, "buf", 0) & 1))
			c->wend = 0;
	} else if (strcmp(what, "rotate") == 0) {
		c->obuf_tx = (int8_t)(viz_ev_int(e, "buf", 0) & 1);
	}
}

/* ------------------------------------------------------------ Kharon */

static void
apply_kharon(struct viz_state *s, struct viz_conn *c,
	     const struct trace_event *e, const char *what)
{
	struct viz_kharon *k = &c->kharon;
	if (strcmp(what, "depart") == 0) {
		k->place = VIZ_KHARON_OUT;
		k->flag = false;
		k->msg = (uint32_t)viz_ev_int(e, "msg", 0);
		k->carry_buf = (int32_t)viz_ev_int(e, "buf", 0);
		k->carry_end = viz_ev_int(e, "end", 0);
		k->n_trips++;
		msg_conn_set(s, k->msg, c->id);
	} else if (strcmp(what, "flag") == 0) {
		k->flag = true;
		k->n_flags++;
	} else if (strcmp(what, "arrive") == 0) {
		k->place = VIZ_KHARON_THERE;
		c->wend_buf = (int8_t)(viz_ev_int(e, "wend_buf", 0) & 1);
		c->wend = viz_ev_int(e, "wend", c->wend);
	} else if (strcmp(what, "return") == 0) {
		k->place = VIZ_KHARON_HOME;
		k->flag = viz_ev_int(e, "pending", 0) != 0;
	}
}

/* ------------------------------------------------------------ ibufs */

static void
apply_ibuf(struct viz_conn *c, const struct trace_event *e, const char *what)
{
	int b = (int)(viz_ev_int(e, "buf", 0) & 1);
	struct viz_ibuf *ib = &c->ibuf[b];
	if (strcmp(what, "switch") == 0) {
		/*
		 * The partial request at the old buffer's tail moves across
		 * (net_input_buffer): the old one gives it up — and starts
		 * afresh if nothing else is left — the new one holds it.
		 */
		int64_t moved = viz_ev_int(e, "moved", 0);
		struct viz_ibuf *old = &c->ibuf[b ^ 1];
		old->wpos -= moved;
		if (old->wpos < old->rpos + old->in_flight)
			old->wpos = old->rpos + old->in_flight;
		if (old->wpos == old->rpos)
			old->rpos = old->wpos = 0;
		ib->wpos += moved;
		c->ibuf_cur = (int8_t)b;
		c->n_ibuf_switches++;
		return;
	}
	ib->rpos = viz_ev_int(e, "rpos", ib->rpos);
	ib->wpos = viz_ev_int(e, "wpos", ib->wpos);
	ib->end = viz_ev_int(e, "end", ib->end);
	const char *move = viz_ev_str(e, "move");
	if (move != NULL)
		ib->move = strcmp(move, "grow") == 0 ? VIZ_MOVE_GROW :
			   strcmp(move, "compact") == 0 ? VIZ_MOVE_COMPACT :
			   VIZ_MOVE_NONE;
	if (strcmp(what, "read") == 0 || viz_ev_int(e, "current", 0) != 0)
		c->ibuf_cur = (int8_t)b;
	if (strcmp(what, "release") == 0 || strcmp(what, "discard") == 0) {
		ib->in_flight -= viz_ev_int(e, "len", 0);
		if (ib->in_flight < 0)
			ib->in_flight = 0;
	}
}

/* ------------------------------------------------------------ dispatch */

static void
apply_conn_event(struct viz_state *s, const struct trace_event *e,
		 const char *ev, int cord)
{
	struct viz_conn *c = conn_of(s, e);
	if (c == NULL)
		return;
	if (strncmp(ev, "obuf.", 5) == 0) {
		apply_obuf(s, c, e, ev + 5);
	} else if (strcmp(ev, "port.dump") == 0) {
		apply_obuf(s, c, e, "dump");
	} else if (strncmp(ev, "kharon.", 7) == 0) {
		apply_kharon(s, c, e, ev + 7);
	} else if (strncmp(ev, "ibuf.", 5) == 0) {
		if (c->cord < 0)
			c->cord = (int8_t)cord;
		apply_ibuf(c, e, ev + 5);
	} else if (strcmp(ev, "push") == 0) {
		struct viz_obuf *o = obuf_of(c, e);
		o->used = viz_ev_int(e, "end", o->used);
		c->n_pushes++;
		s->n_pushes++;
	} else if (strcmp(ev, "reply.error") == 0) {
		struct viz_obuf *o = obuf_of(c, e);
		o->used = viz_ev_int(e, "end", o->used);
	} else if (strcmp(ev, "push.arrive") == 0) {
		c->wend_buf = (int8_t)(viz_ev_int(e, "wend_buf", 0) & 1);
		c->wend = viz_ev_int(e, "wend", c->wend);
	} else if (strcmp(ev, "push.msg") == 0) {
		msg_conn_set(s, (uint32_t)viz_ev_int(e, "msg", 0), c->id);
	} else if (strcmp(ev, "tx.connect") == 0) {
		c->obuf[0].used = viz_ev_int(e, "end", 0);
	} else if (strcmp(ev, "tx.disconnect") == 0 ||
		   strcmp(ev, "tx.destroy") == 0) {
		c->is_tx_gone = true;
		/* gh-6520: the session is closed, no trip is left pending. */
		c->kharon.flag = false;
	} else if (strcmp(ev, "conn.accept") == 0) {
		c->cord = (int8_t)cord;
		copy_name(c->peer, sizeof(c->peer), viz_ev_str(e, "peer"));
	} else if (strcmp(ev, "conn.close") == 0) {
		c->state = VIZ_CONN_CLOSED;
	} else if (strcmp(ev, "conn.obuf_limit") == 0) {
		c->is_obuf_limit = true;
		/* tx_output_cut closes the session: the flag comes down too. */
		c->kharon.flag = false;
	} else if (strcmp(ev, "conn.free") == 0) {
		c->state = VIZ_CONN_FREE;
	} else if (strcmp(ev, "req.parse") == 0) {
		uint32_t msg = (uint32_t)viz_ev_int(e, "msg", 0);
		msg_conn_set(s, msg, c->id);
		c->n_requests++;
		c->ibuf[viz_ev_int(e, "buf", 0) & 1].in_flight +=
			viz_ev_int(e, "len", 0);
	} else if (strcmp(ev, "net.reply") == 0) {
		if (c->n_requests > 0)
			c->n_requests--;
		c->n_replies++;
		c->wend_buf = (int8_t)(viz_ev_int(e, "wend_buf", 0) & 1);
		c->wend = viz_ev_int(e, "wend", c->wend);
	} else if (strcmp(ev, "net.switch_obuf") == 0) {
		c->obuf_net = (int8_t)(viz_ev_int(e, "buf", 0) & 1);
	} else if (strcmp(ev, "net.writev") == 0) {
		int b = (int)(viz_ev_int(e, "buf", 0) & 1);
		int64_t n = viz_ev_int(e, "n", 0);
		c->obuf_net = (int8_t)b;
		/*
		 * docs/trace.md calls wpos "sent position before the call";
		 * the code emits the position after it. Take whichever the
		 * event means: a wpos equal to what was already sent, with
		 * room for n more before wend, is the position before.
		 */
		int64_t wpos = viz_ev_int(e, "wpos", c->obuf[b].sent);
		int64_t wend = viz_ev_int(e, "wend", wpos);
		c->obuf[b].sent = n > 0 && wpos == c->obuf[b].sent &&
				  wpos + n <= wend ? wpos + n : wpos;
		c->n_writev++;
		c->bytes_sent += (uint64_t)(n > 0 ? n : 0);
		s->n_writev++;
		s->bytes_sent += (uint64_t)(n > 0 ? n : 0);
	} else if (strcmp(ev, "input.stop") == 0) {
		c->is_input_stopped = true;
		copy_name(c->stop_why, sizeof(c->stop_why),
			  viz_ev_str(e, "why"));
	} else if (strcmp(ev, "input.resume") == 0) {
		c->is_input_stopped = false;
	}
}

static void
apply_client(struct viz_state *s, const struct trace_event *e, const char *ev,
	     int cord)
{
	struct viz_client *c = client_get(s, (int32_t)viz_ev_int(e, "conn", 0),
					  cord);
	if (c == NULL)
		return;
	if (strcmp(ev, "connect") == 0) {
		c->is_connected = true;
	} else if (strcmp(ev, "send") == 0) {
		c->n_sent++;
		c->bytes_sent += (uint64_t)viz_ev_int(e, "bytes", 0);
		c->send_ev = s->n_events + 1;
	} else if (strcmp(ev, "recv") == 0) {
		c->n_recv++;
		if (viz_ev_int(e, "code", 0) == 128)
			c->n_pushes++;
		c->bytes_recv += (uint64_t)viz_ev_int(e, "bytes", 0);
		c->recv_ev = s->n_events + 1;
	} else if (strcmp(ev, "pause") == 0) {
		c->is_paused = true;
	} else if (strcmp(ev, "resume") == 0) {
		c->is_paused = false;
	} else if (strcmp(ev, "close") == 0) {
		c->is_closed = true;
		c->is_connected = false;
	}
}

static bool
has_conn(const struct trace_event *e)
{
	for (int i = 0; i < e->n_fields; i++)
		if (strcmp(e->fields[i].key, "conn") == 0)
			return true;
	return false;
}

void
viz_state_apply(struct viz_state *s, const struct trace_event *e)
{
	const char *ev = e->ev != NULL ? e->ev : "";
	int cord = cord_get(s, e->cord);
	if (strcmp(ev, "cpipe.push") == 0)
		apply_cpipe_push(s, e, cord);
	else if (strcmp(ev, "cpipe.flush") == 0)
		apply_cpipe_flush(s, e, cord);
	else if (strcmp(ev, "cbus.fetch") == 0)
		apply_cbus_fetch(s, cord);
	else if (strcmp(ev, "cmsg.delay") == 0)
		apply_cmsg_delay(s, e, cord);
	else if (strcmp(ev, "cmsg.hop") == 0)
		apply_cmsg_hop(s, e);
	else if (strncmp(ev, "task.", 5) == 0 && strcmp(ev, "task.call") != 0 &&
		 strcmp(ev, "task.result") != 0 &&
		 strcmp(ev, "task.exhausted") != 0)
		apply_task(s, e, ev + 5);
	else if (strcmp(ev, "task.call") == 0)
		apply_task_call(s, e);
	else if (strcmp(ev, "task.exhausted") == 0)
		s->n_exhausted++;
	else if (strncmp(ev, "client.", 7) == 0)
		apply_client(s, e, ev + 7, cord);
	else if (strcmp(ev, "net.shutdown") == 0)
		s->is_shutdown = true;
	else if (has_conn(e))
		apply_conn_event(s, e, ev, cord);
	s->n_events++;
	s->t = e->t;
}

void
viz_state_counters(const struct viz_state *s, struct viz_counters *out)
{
	uint64_t unparsed = 0, unsent = 0;
	for (int i = 0; i < VIZ_MAX_CONNS; i++) {
		const struct viz_conn *c = &s->conns[i];
		if (c->state == VIZ_CONN_FREE)
			continue;
		for (int b = 0; b < 2; b++) {
			int64_t u = c->ibuf[b].wpos - c->ibuf[b].rpos -
				    c->ibuf[b].in_flight;
			int64_t o = c->obuf[b].used - c->obuf[b].sent;
			unparsed += (uint64_t)(u > 0 ? u : 0);
			unsent += (uint64_t)(o > 0 ? o : 0);
		}
	}
	out->ibuf_unparsed = (uint32_t)(unparsed > UINT32_MAX ? UINT32_MAX :
					unparsed);
	out->obuf_unsent = (uint32_t)(unsent > UINT32_MAX ? UINT32_MAX : unsent);
	out->boats = (uint32_t)s->n_boats;
	out->wakeups = (uint32_t)(s->n_wakeups > UINT32_MAX ? UINT32_MAX :
				  s->n_wakeups);
}
