/*
 * net_connection.c — a client connection's life on its network cord:
 * accept, greeting, replies coming back, close, orderly destruction.
 *
 *   accept ── connect msg ──> tx: session, greeting into obuf
 *          <── greeting ───── (net_send_greeting: flush, then start reading)
 *   ... requests (net_input.c), replies (net_send_msg), Kharon (kharon.c) ...
 *   EOF/error: close socket ── disconnect ──> tx: session closed, pushes fail
 *          <──────────────────  net_finish_disconnect: wait until idle
 *   idle ──── destroy ───────> tx: free obufs
 *          <──────────────────  net_finish_destroy: free ibufs, connection
 *
 * The two teardown messages live inside the connection, so closing can
 * never fail for lack of memory; FIFO order of each pipe guarantees that
 * everything TX sent before processing `destroy` arrives before
 * net_finish_destroy — Kharon included, with the gh-6520 fix (Tarantool
 * 2.8.3, newer than 2.6): docs/tarantool-map.md §2.5.
 * Lesson: lessons/en/10-limits.md.
 */
#include <errno.h>
#include <stdalign.h>
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "iproto/iproto_connection.h"
#include "proto/errcode.h"
#include "rt/rt.h"
#include "trace/trace.h"

/**
 * Tarantool's iproto_msg_new: from the cord's pool, else a new one. A
 * pooled message is not cleared, as mempool_alloc's is not: the fields
 * every message needs are set here, `req` by xrow_decode_request (or the
 * connect path), `call` by tx_process_call, `diag` by the error route.
 */
struct iproto_msg *
net_msg_new(struct iproto_connection *con)
{
	struct iproto_thread *t = con->thread;
	struct iproto_msg *msg;
	if (!stailq_empty(&t->msg_free)) {
		msg = container_of(stailq_shift(&t->msg_free),
				   struct iproto_msg, base.fifo);
		t->n_msg_free--;
		msg->p_ibuf = NULL;
		msg->len = 0;
		msg->is_discarded = false;
		msg->close_connection = false;
	} else if ((msg = mem_zalloc(sizeof(*msg))) == NULL) {
		diag_set_oom(sizeof(*msg), "iproto_msg");
		return NULL;
	}
	msg->connection = con;
	t->n_msg++;
	return msg;
}

/** Tarantool's iproto_msg_delete: back to the pool, then iproto_resume. */
void
net_msg_delete(struct iproto_msg *msg)
{
	struct iproto_thread *t = msg->connection->thread;
	if (t->n_msg_free < (int)t->server->opts.net_msg_max) {
		stailq_add_tail(&t->msg_free, &msg->base.fifo);
		t->n_msg_free++;
	} else {
		mem_free(msg);
	}
	t->n_msg--;
	/* Resume parked connections, oldest first, while there is room. */
	while (!rlist_empty(&t->stopped) &&
	       t->n_msg < t->server->opts.net_msg_max) {
		struct iproto_connection *con =
			rlist_first_entry(&t->stopped, struct iproto_connection,
					  in_stopped);
		rlist_del(&con->in_stopped);
		con->is_parked = false;
		TRACE("input.resume", TI("conn", con->id), TS("why", "net_msg_max"));
		net_input_resume(con);
	}
}

void
net_on_accept(struct rt_sock *sock, void *arg)
{
	struct iproto_thread *t = arg;
	struct iproto_server *server = t->server;
	if (t->is_shutting_down) {
		rt_sock_close(sock, false);
		return;
	}
	struct iproto_connection *con =
		mem_zalloc_aligned(alignof(struct iproto_connection),
				   sizeof(*con));
	if (con == NULL) {
		rt_sock_close(sock, false);
		return;
	}
	con->thread = t;
	/* TX's, set up before TX ever sees the connection. */
	rlist_create(&con->tx.output_waiters);
	con->id = __atomic_add_fetch(&server->next_connection_id, 1,
				     __ATOMIC_RELAXED);
	con->sock = sock;
	/* Set up, not started: iproto_connection_new's ev_io_init. */
	rt_sock_watch(sock, 0, net_on_io, con);
	con->state = IPROTO_CONNECTION_ALIVE;
	ibuf_create(&con->ibuf[0], server->opts.readahead);
	ibuf_create(&con->ibuf[1], server->opts.readahead);
	con->p_ibuf = &con->ibuf[0];
	obuf_create(&con->obuf[0], server->opts.obuf_chunk);
	obuf_create(&con->obuf[1], server->opts.obuf_chunk);
	/* Chunks are taken and given back by TX only (tx_process_destroy). */
	con->obuf[0].cache = con->obuf[1].cache = &server->obuf_cache;
	con->tx.p_obuf = &con->obuf[0];
	con->wpos.obuf = con->wend.obuf = &con->obuf[0];
	con->tx.flushed = con->wpos;
	rlist_create(&con->in_stopped);
	rlist_add_tail(&t->connections, &con->in_thread);
	t->n_connections++;
	t->stats.n_connections++;
	struct iproto_msg *msg = net_msg_new(con);
	TRACE("conn.accept", TI("conn", con->id), TS("peer", rt_sock_peer(sock)));
	if (msg == NULL) {
		net_connection_close(con);
		return;
	}
	msg->wpos = con->wpos;
	memset(&msg->req, 0, sizeof(msg->req));
	cmsg_init(&msg->base, t->connect_route);
	cpipe_push(&t->tx_pipe, &msg->base);
}

void
net_send_greeting(struct cmsg *m)
{
	struct iproto_msg *msg = (struct iproto_msg *)m;
	struct iproto_connection *con = msg->connection;
	bool close = msg->close_connection;
	con->wend = msg->wpos;
	net_msg_delete(msg);
	if (con->state != IPROTO_CONNECTION_ALIVE) {
		net_connection_try_destroy(con);
		return;
	}
	/* Best effort: the error packet TX wrote, then close. */
	if (close) {
		net_flush(con);
		net_connection_close(con);
		return;
	}
	/* Greeting out, then reading starts (net_output). */
	net_feed_output(con);
}

void
net_send_msg(struct cmsg *m)
{
	struct iproto_msg *msg = (struct iproto_msg *)m;
	struct iproto_connection *con = msg->connection;
	net_release_input(con, msg);
	con->wend = msg->wpos;
	TRACE("net.reply", TI("conn", con->id), TI("msg", m->id),
	      TI("sync", msg->req.sync), TI("wend_buf",
	      iproto_obuf_index(con, con->wend.obuf)),
	      TI("wend", con->wend.svp.used));
	net_msg_delete(msg);
	if (con->state == IPROTO_CONNECTION_ALIVE) {
		net_feed_output(con);
	} else {
		net_connection_try_destroy(con);
	}
}

/**
 * TX found the connection over an output limit (tx_output_cut) and closed
 * its session: close the socket. The output held is dropped with it.
 */
void
net_close_by_tx(struct cmsg *m)
{
	struct iproto_connection *con =
		container_of(m, struct iproto_connection, close_msg);
	if (con->state != IPROTO_CONNECTION_ALIVE)
		return;
	fprintf(stderr, "kharon: closing connection %u (%s): it holds more "
		"output than obuf_limit allows\n", con->id,
		rt_sock_peer(con->sock));
	net_connection_close(con);
}

void
net_connection_close(struct iproto_connection *con)
{
	if (con->state != IPROTO_CONNECTION_ALIVE)
		return;
	struct iproto_thread *t = con->thread;
	TRACE("conn.close", TI("conn", con->id), TI("parse_size", con->parse_size));
	rt_sock_close(con->sock, false);
	con->sock = NULL;
	/* The partial request at the tail will never complete. */
	ibuf_discard(con->p_ibuf, con->parse_size);
	con->parse_size = 0;
	if (con->is_parked) {
		rlist_del(&con->in_stopped);
		con->is_parked = false;
	}
	con->state = IPROTO_CONNECTION_CLOSED;
	cmsg_init(&con->disconnect_msg, t->disconnect_route);
	cpipe_push(&t->tx_pipe, &con->disconnect_msg);
}

void
net_finish_disconnect(struct cmsg *m)
{
	struct iproto_connection *con =
		container_of(m, struct iproto_connection, disconnect_msg);
	con->state = IPROTO_CONNECTION_PENDING_DESTROY;
	net_connection_try_destroy(con);
}

bool
net_connection_has_requests(const struct iproto_connection *con)
{
	/* The unparsed tail of the current buffer is not a request yet. */
	size_t tail[2] = { 0, 0 };
	tail[con->p_ibuf == &con->ibuf[1]] = con->parse_size;
	return con->long_poll_count != 0 ||
	       ibuf_used(&con->ibuf[0]) != tail[0] ||
	       ibuf_used(&con->ibuf[1]) != tail[1];
}

void
net_connection_try_destroy(struct iproto_connection *con)
{
	/*
	 * Wait for the disconnect round trip, then for requests in flight
	 * (closing dropped the unparsed tail, so any byte left is one).
	 * No check for Kharon, as in Tarantool: he is ahead of `destroy` in
	 * the pipe (docs/tarantool-map.md §2.5).
	 */
	if (con->state != IPROTO_CONNECTION_PENDING_DESTROY ||
	    net_connection_has_requests(con))
		return;
	con->state = IPROTO_CONNECTION_DESTROYED;
	TRACE("conn.destroy", TI("conn", con->id));
	cmsg_init(&con->destroy_msg, con->thread->destroy_route);
	cpipe_push(&con->thread->tx_pipe, &con->destroy_msg);
}

/**
 * Last hop of `destroy`: free what the network cord owns (Tarantool's
 * net_finish_destroy → iproto_connection_delete).
 */
void
net_finish_destroy(struct cmsg *m)
{
	struct iproto_connection *con =
		container_of(m, struct iproto_connection, destroy_msg);
	struct iproto_thread *t = con->thread;
	ibuf_destroy(&con->ibuf[0]);
	ibuf_destroy(&con->ibuf[1]);
	rlist_del(&con->in_thread);
	t->n_connections--;
	TRACE("conn.free", TI("conn", con->id));
	mem_free(con);
	if (t->is_shutting_down && t->n_connections == 0) {
		/* Tell TX this cord is done; the grace timer is no more needed. */
		rt_timer_stop(t->shutdown_timer);
		cmsg_init(&t->done_msg, t->done_route);
		cpipe_push(&t->tx_pipe, &t->done_msg);
	}
}
