/*
 * kharon.c — box.session.push and Kharon, the ferryman, on both banks.
 *
 * A push writes a complete IPROTO_CHUNK packet (the request's sync) into
 * the connection's output buffer in TX and returns at once: it never waits
 * for the client. The network cord must still learn that there is new
 * output. Sending a cbus message per push would cost a message (and maybe
 * a wakeup) each; instead every connection has ONE message, Kharon, who
 * shuttles between the banks:
 *
 *   tx                                         net
 *   push p1: Kharon home ── depart(end=E1) ──> arrive: wend = E1, write;
 *   push p2: Kharon away → is_push_pending       carry back the flushed pos
 *   push p3: (flag already up)                  │
 *   return: accept flushed pos; <───────────────┘
 *           pending? ── depart(end=E3) ──────> arrive: wend = E3, write p2 p3
 *
 * At most one Kharon per connection is ever in flight, and any number of
 * pushes made while he is away cost nothing but a flag. The two flags are
 * touched only by TX. On disconnect TX lowers `pending` (the fix of
 * Tarantool gh-6520, in 2.8.3 and 2.10 — newer than 2.6, which lacks it:
 * otherwise Kharon could depart again towards a connection that is being
 * freed; docs/tarantool-map.md §2.5).
 *
 * Tarantool 2.6 (src/box/iproto.cc): tx_kharon_depart is tx_begin_push,
 * net_kharon_arrive is iproto_process_push, tx_kharon_return is tx_end_push,
 * iproto_session_push keeps its name.
 *
 * --push-mode per_push replaces Kharon with a fresh message per push, for
 * the benchmark's and the lesson's contrast. Lessons: lessons/en/06-kharon.md,
 * lessons/en/07-batching.md.
 */
#include "base/mem.h"
#include "iproto/iproto_connection.h"
#include "proto/errcode.h"
#include "proto/iproto_constants.h"
#include "trace/trace.h"

/* ------------------------------------------------------------- tx bank */

/** Kharon leaves with the current end of output (Tarantool's tx_begin_push). */
static void
tx_kharon_depart(struct iproto_connection *con)
{
	struct iproto_kharon *k = &con->kharon;
	cmsg_init(&k->base, con->thread->push_route);
	k->wpos.obuf = con->tx.p_obuf;
	k->wpos.svp = obuf_create_svp(con->tx.p_obuf);
	con->tx.is_push_pending = false;
	con->tx.is_push_sent = true;
	con->thread->server->n_push_msgs++;
	TRACE("kharon.depart", TI("conn", con->id), TI("msg", k->base.id),
	      TI("buf", iproto_obuf_index(con, k->wpos.obuf)),
	      TI("end", k->wpos.svp.used));
	cpipe_push(&con->thread->net_pipe, &k->base);
}

static void
tx_per_push_send(struct iproto_connection *con)
{
	struct iproto_push_msg *msg = mem_alloc(sizeof(*msg));
	if (msg == NULL) {
		/* The chunk is in the obuf; the next reply will carry it out. */
		return;
	}
	msg->connection = con;
	msg->wpos.obuf = con->tx.p_obuf;
	msg->wpos.svp = obuf_create_svp(con->tx.p_obuf);
	cmsg_init(&msg->base, con->thread->per_push_route);
	con->thread->server->n_push_msgs++;
	TRACE("push.msg", TI("conn", con->id), TI("msg", msg->base.id),
	      TI("end", msg->wpos.svp.used));
	cpipe_push(&con->thread->net_pipe, &msg->base);
}

/**
 * session_vtab.push of binary sessions (Tarantool's iproto_session_push):
 * the chunk goes into the output buffer, then Kharon departs or the flag
 * goes up. Never waits for the client.
 */
static int
iproto_session_push(struct session *session, uint64_t sync, struct port *port)
{
	struct iproto_connection *con = session->owner;
	struct obuf *out = con->tx.p_obuf;
	size_t begin = obuf_size(out);
	if (tx_write_data_packet(con, IPROTO_CHUNK, sync, port, false) != 0)
		return -1;
	con->thread->server->n_pushes++;
	TRACE("push", TI("conn", con->id), TI("sync", sync),
	      TI("buf", iproto_obuf_index(con, out)), TI("begin", begin),
	      TI("end", obuf_size(out)), TI("kharon_away", con->tx.is_push_sent),
	      TS("value", tx_port_text(port)));
	/* Kharon departs if he is home, else the flag goes up. */
	tx_output_progress(con);
	return 0;
}

/** session_vtab.unsent of binary sessions. */
static size_t
iproto_session_unsent(const struct session *session)
{
	return tx_output_held(session->owner);
}

const struct session_vtab iproto_session_vtab = {
	.push = iproto_session_push,
	.unsent = iproto_session_unsent,
};

/**
 * There is news for the network cord (a push was written, or a waiting
 * push_stream wants the flushed position): Kharon departs if he is home
 * (Tarantool's tx_begin_push), else the flag goes up and he will depart
 * again on his return; in per_push mode a message of its own goes.
 */
void
tx_output_progress(struct iproto_connection *con)
{
	if (con->tx.session.is_closed)
		return;
	if (con->thread->server->opts.push_mode == PUSH_MODE_PER_PUSH) {
		tx_per_push_send(con);
	} else if (!con->tx.is_push_sent) {
		tx_kharon_depart(con);
	} else if (!con->tx.is_push_pending) {
		con->tx.is_push_pending = true;
		TRACE("kharon.flag", TI("conn", con->id), TI("pending", 1));
	}
}

/**
 * Kharon is back with net's flushed position (Tarantool's tx_end_push):
 * recycle output buffers, and depart again if pushes came meanwhile.
 */
void
tx_kharon_return(struct cmsg *m)
{
	struct iproto_kharon *k = (struct iproto_kharon *)m;
	struct iproto_connection *con =
		container_of(k, struct iproto_connection, kharon);
	tx_accept_wpos(con, &k->wpos);
	con->tx.is_push_sent = false;
	TRACE("kharon.return", TI("conn", con->id), TI("msg", m->id),
	      TI("pending", con->tx.is_push_pending));
	if (con->tx.is_push_pending)
		tx_kharon_depart(con);
}

void
tx_push_msg_done(struct cmsg *m)
{
	struct iproto_push_msg *msg = (struct iproto_push_msg *)m;
	tx_accept_wpos(msg->connection, &msg->wpos);
	mem_free(msg);
}

/* ------------------------------------------------------------ net bank */

/**
 * A message from TX says output is complete up to `*carried`: note the new
 * end, give the message the flushed position to carry back to TX (for
 * tx_accept_wpos), and feed the write — the body of Tarantool's
 * iproto_process_push.
 */
static void
net_output_more(struct iproto_connection *con, struct iproto_wpos *carried,
		const char *ev, uint32_t msg_id)
{
	con->wend = *carried;
	*carried = con->wpos;
	TRACE(ev, TI("conn", con->id), TI("msg", msg_id),
	      TI("wend_buf", iproto_obuf_index(con, con->wend.obuf)),
	      TI("wend", con->wend.svp.used), TI("wpos", con->wpos.svp.used));
	if (con->state == IPROTO_CONNECTION_ALIVE)
		net_feed_output(con);
}

/**
 * Kharon lands: more output is complete; he takes the flushed position
 * back (Tarantool's iproto_process_push).
 */
void
net_kharon_arrive(struct cmsg *m)
{
	struct iproto_kharon *k = (struct iproto_kharon *)m;
	struct iproto_connection *con =
		container_of(k, struct iproto_connection, kharon);
	net_output_more(con, &k->wpos, "kharon.arrive", m->id);
}

/** per_push mode: one push's message lands, the same way. */
void
net_push_arrive(struct cmsg *m)
{
	struct iproto_push_msg *msg = (struct iproto_push_msg *)m;
	net_output_more(msg->connection, &msg->wpos, "push.arrive", m->id);
}
