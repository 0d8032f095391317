/*
 * net_input.c — reading requests on a network cord: two input buffers per
 * connection, parsing in place, one cbus batch per read.
 *
 * A parsed request is NOT copied: its message points into the ibuf, so a
 * buffer with requests in flight must never move (and any ibuf_reserve may
 * move it). Hence two buffers, and these rules, in this order (Tarantool
 * 2.6's iproto_connection_input_buffer; docs/tarantool-map.md §2.3):
 *
 *   1. the current buffer has room for the next request: read into it
 *      (if it holds nothing at all, restart it from the beginning);
 *   2. it is full but holds only the unparsed tail: reserve in it (it may
 *      compact or grow — safe, nothing points into it);
 *   3. the other buffer still has requests in flight: stop reading until
 *      the replies are written out ("readahead limit is reached");
 *   4. otherwise switch: reserve in the other buffer, move the partial
 *      tail request across, and make it current.
 *
 * A buffer's rpos is only a byte counter of requests in flight: each
 * returning message consumes its `len`; nothing ever reads at rpos.
 *
 * net_msg_max: net_park_if_full is Tarantool's iproto_check_msg_max with
 * iproto_connection_stop_msg_max_limit, but a true bound — it parks at
 * `n_msg >= net_msg_max`, where 2.6 tests `mempool_count > net_msg_max`
 * before allocating and so lets net_msg_max + 1 messages fly
 * (docs/tarantool-map.md §2.1).
 *
 * Lesson: lessons/en/04-ibuf-double.md.
 */
#include <errno.h>
#include <string.h>

#include "base/mem.h"
#include "iproto/iproto_connection.h"
#include "proto/errcode.h"
#include "proto/iproto_constants.h"
#include "proto/mp.h"
#include "rt/rt.h"
#include "trace/trace.h"

/**
 * An idle buffer bigger than this many readaheads is freed (Tarantool's
 * iproto_max_input_size; docs/tarantool-map.md §2.3).
 */
enum { IBUF_SHRINK_FACTOR = 18 };

static void
net_ibuf_trace(const char *ev, struct iproto_connection *con, struct ibuf *b,
	       size_t len)
{
	TRACE(ev, TI("conn", con->id), TI("buf", iproto_ibuf_index(con, b)),
	      TI("len", len),
	      TI("rpos", b->rpos - b->buf), TI("wpos", b->wpos - b->buf),
	      TI("end", b->end - b->buf), TI("current", b == con->p_ibuf),
	      TS("move", ibuf_move_name(b->last_move)));
}

/**
 * Reset an empty buffer, or free it if one huge request made it huge
 * (Tarantool's iproto_reset_input).
 */
static void
net_reset_input(struct iproto_connection *con, struct ibuf *b)
{
	size_t readahead = con->thread->server->opts.readahead;
	if (ibuf_capacity(b) >= IBUF_SHRINK_FACTOR * readahead)
		ibuf_reinit(b);
	else
		ibuf_reset(b);
}

/**
 * Bytes to make room for: the partial request's length if known, else 3
 * (the `to_read` of Tarantool's iproto_connection_input_buffer, which
 * leaves the length prefix out; kharon counts it too).
 */
static size_t
net_to_read(struct iproto_connection *con)
{
	const char *tail = con->p_ibuf->wpos - con->parse_size;
	if (con->parse_size > 0 && mp_uint_len(*tail) != 0 &&
	    mp_uint_len(*tail) <= con->parse_size) {
		const char *p = tail;
		uint64_t len = mp_decode_uint(&p);
		return (size_t)len + (size_t)(p - tail);
	}
	return 3;
}

int
net_input_buffer(struct iproto_connection *con, struct ibuf **in)
{
	struct ibuf *cur = con->p_ibuf;
	size_t to_read = net_to_read(con);
	*in = cur;
	if (ibuf_unused(cur) >= to_read) {
		if (ibuf_used(cur) == 0)
			ibuf_reset(cur);
		return 0;
	}
	if (ibuf_used(cur) == con->parse_size) {
		if (ibuf_reserve(cur, to_read) == NULL)
			return -1;
		net_ibuf_trace("ibuf.reserve", con, cur, to_read);
		return 0;
	}
	struct ibuf *other = cur == &con->ibuf[0] ? &con->ibuf[1] : &con->ibuf[0];
	if (ibuf_used(other) != 0) {
		*in = NULL;
		return 0;
	}
	net_reset_input(con, other);
	if (ibuf_reserve(other, to_read + con->parse_size) == NULL)
		return -1;
	net_ibuf_trace("ibuf.reserve", con, other,
		       to_read + con->parse_size);
	memcpy(other->wpos, cur->wpos - con->parse_size, con->parse_size);
	ibuf_advance(other, con->parse_size);
	ibuf_discard(cur, con->parse_size);
	if (ibuf_used(cur) == 0)
		net_reset_input(con, cur);
	con->p_ibuf = other;
	TRACE("ibuf.switch", TI("conn", con->id),
	      TI("buf", iproto_ibuf_index(con, other)),
	      TI("moved", con->parse_size));
	*in = other;
	return 0;
}

/**
 * The connection cannot go on — a broken frame, or no memory for its input
 * — (diag says why): a best-effort error packet straight to the socket,
 * then close. Tarantool's iproto_connection_on_input does the same in its
 * catch block (iproto_write_error, iproto_connection_close).
 */
static void
net_input_error(struct iproto_connection *con, const char *ev)
{
	struct diag d = *diag_last();
	char packet[512];
	if (iproto_reply_error_size(&d) <= sizeof(packet)) {
		char *end = iproto_reply_error_encode(packet, &d, 0, 1);
		struct iovec iov = { packet, (size_t)(end - packet) };
		rt_sock_writev(con->sock, &iov, 1);
	}
	TRACE(ev, TI("conn", con->id), TI("code", d.code));
	net_connection_close(con);
}

/**
 * The route of a parsed request: the choice Tarantool's iproto_msg_decode
 * makes, with one route for every request type (Tarantool has one per
 * kind: dml, call, misc, sql) and error_route for a bad one.
 */
static const struct cmsg_hop *
net_route(struct iproto_thread *t, struct iproto_msg *msg, int rc)
{
	if (rc != 0) {
		msg->diag = *diag_last();
		return t->error_route;
	}
	return t->request_route;
}

/**
 * Park the connection on the cord's FIFO list of stopped connections until
 * a message of the cord is freed (net_msg_delete resumes the oldest first):
 * Tarantool's iproto_connection_stop_msg_max_limit.
 */
static void
net_park(struct iproto_connection *con, const char *why)
{
	struct iproto_thread *t = con->thread;
	if (con->is_parked)
		return;
	con->is_parked = true;
	rlist_add_tail(&t->stopped, &con->in_stopped);
	t->stats.n_net_msg_max_parks++;
	TRACE("input.stop", TI("conn", con->id), TS("why", why));
}

/**
 * Too many messages in flight on this cord (net_msg_max,
 * iproto_check_msg_max): park the connection. True if parked.
 */
static bool
net_park_if_full(struct iproto_connection *con)
{
	struct iproto_thread *t = con->thread;
	if (t->n_msg < t->server->opts.net_msg_max)
		return false;
	net_park(con, "net_msg_max");
	return true;
}

/**
 * No memory for a request message (iproto_msg_new failed). Tarantool parks
 * the connection as if net_msg_max were reached, to resume when a message
 * is freed. kharon does too while this cord has messages in flight; with
 * none, nothing would ever resume it, so it answers out of memory and
 * closes instead of stalling forever.
 */
static void
net_msg_oom(struct iproto_connection *con)
{
	if (con->thread->n_msg == 0)
		net_input_error(con, "input.no_memory");
	else
		net_park(con, "no_memory");
}

/**
 * Parse every complete request at the tail of `in`; one batch to TX
 * (Tarantool's iproto_enqueue_batch: cpipe_push_input each, one
 * cpipe_flush_input). Returns how many requests were parsed.
 */
static int
net_enqueue_batch(struct iproto_connection *con, struct ibuf *in)
{
	struct iproto_thread *t = con->thread;
	struct iproto_server *server = t->server;
	int n = 0;
	while (con->parse_size > 0 && con->state == IPROTO_CONNECTION_ALIVE) {
		if (net_park_if_full(con))
			break;
		const char *p = in->wpos - con->parse_size;
		size_t len;
		enum iproto_frame_status st =
			iproto_frame(p, in->wpos, server->opts.max_packet, &len);
		if (st == IPROTO_FRAME_NEED_MORE)
			break;
		if (st != IPROTO_FRAME_OK) {
			net_input_error(con, "req.bad_frame");
			break;
		}
		struct iproto_msg *msg = net_msg_new(con);
		if (msg == NULL) {
			net_msg_oom(con);
			break;
		}
		msg->p_ibuf = in;
		msg->len = len;
		msg->wpos = con->wpos;
		size_t prefix = mp_uint_len(*p);
		int rc = xrow_decode_request(&msg->req, p + prefix, p + len);
		cmsg_init(&msg->base, net_route(t, msg, rc));
		TRACE("req.parse", TI("conn", con->id), TI("msg", msg->base.id),
		      TI("sync", msg->req.sync), TI("type", msg->req.type),
		      TI("buf", iproto_ibuf_index(con, in)),
		      TI("pos", p - in->buf), TI("len", len), TI("ok", rc == 0));
		con->parse_size -= len;
		t->stats.n_requests++;
		cpipe_push_input(&t->tx_pipe, &msg->base);
		n++;
	}
	/*
	 * Anything but exactly one whole request suggests a pipelining
	 * client with more to send: read again in this iteration, before
	 * replies come back. A blocking client's single request costs no
	 * extra read(). Fed BEFORE the flush is scheduled, as Tarantool's
	 * iproto_enqueue_batch does: the pending queue runs last-fed first,
	 * so the batch reaches TX before that extra read() is made.
	 */
	if (con->state == IPROTO_CONNECTION_ALIVE &&
	    (n != 1 || con->parse_size != 0))
		rt_sock_feed(con->sock, RT_READ);
	cpipe_flush_input(&t->tx_pipe);
	if (n > 0)
		TRACE("req.batch", TI("conn", con->id), TI("n", n));
	return n;
}

void
net_input(struct iproto_connection *con)
{
	/*
	 * One read per readiness callback, as Tarantool's
	 * iproto_connection_on_input: the
	 * watcher is level-triggered, so a socket with more to read calls
	 * again, and other connections of this cord get their turn.
	 */
	struct iproto_thread *t = con->thread;
	bool can_read = con->state == IPROTO_CONNECTION_ALIVE &&
			!con->is_parked && !t->is_shutting_down &&
			/* Park before reading: nothing could be sent anyway. */
			!net_park_if_full(con);
	struct ibuf *in = NULL;
	if (can_read && net_input_buffer(con, &in) != 0) {
		/* No memory for input: say so and close (not a silent stall). */
		net_input_error(con, "input.no_memory");
		return;
	}
	if (can_read && in == NULL && !con->is_input_stopped) {
		con->is_input_stopped = true;
		t->stats.n_input_stops++;
		TRACE("input.stop", TI("conn", con->id), TS("why", "readahead"));
	}
	if (in != NULL) {
		ssize_t n = rt_sock_read(con->sock, in->wpos, ibuf_unused(in));
		if (n == 0 || (n < 0 && errno != EAGAIN)) {
			net_connection_close(con);
			return;
		}
		if (n > 0) {
			ibuf_advance(in, (size_t)n);
			con->parse_size += (size_t)n;
			TRACE("ibuf.read", TI("conn", con->id),
			      TI("buf", iproto_ibuf_index(con, in)), TI("n", n),
			      TI("rpos", in->rpos - in->buf),
			      TI("wpos", in->wpos - in->buf),
			      TI("end", in->end - in->buf));
			/* It feeds EV_READ again for a pipelining client. */
			net_enqueue_batch(con, in);
		}
	}
	/* Watch for more only while reading is allowed. */
	if (con->state == IPROTO_CONNECTION_ALIVE) {
		int events = rt_sock_watched(con->sock) & RT_WRITE;
		if (!con->is_input_stopped && !con->is_parked &&
		    !t->is_shutting_down)
			events |= RT_READ;
		rt_sock_watch(con->sock, events, net_on_io, con);
	}
}

void
net_input_resume(struct iproto_connection *con)
{
	if (con->state != IPROTO_CONNECTION_ALIVE || !con->is_reading_started)
		return;
	if (con->is_input_stopped) {
		con->is_input_stopped = false;
		TRACE("input.resume", TI("conn", con->id), TS("why", "readahead"));
	}
	/*
	 * Requests already buffered are parsed now, the socket is read at
	 * the end of the iteration: fed before the batch's flush is
	 * scheduled, so that the batch leaves first (net_enqueue_batch).
	 * A bad frame among them closes the connection, and the close
	 * drops the feed.
	 */
	rt_sock_feed(con->sock, RT_READ);
	if (con->parse_size > 0)
		net_enqueue_batch(con, con->p_ibuf);
}

void
net_release_input(struct iproto_connection *con, struct iproto_msg *msg)
{
	if (msg->is_discarded) {
		con->long_poll_count--;
		return;
	}
	if (msg->len == 0)
		return;
	ibuf_consume(msg->p_ibuf, msg->len);
	net_ibuf_trace("ibuf.release", con, msg->p_ibuf, msg->len);
	msg->len = 0;
	/*
	 * Reading that stopped for lack of a buffer resumes only once the
	 * output is written (net_output), as in Tarantool: a client that
	 * does not read its replies must not be able to send more.
	 */
}

void
net_discard_input(struct cmsg *m)
{
	struct iproto_msg *msg = container_of(m, struct iproto_msg, discard_input);
	struct iproto_connection *con = msg->connection;
	if (msg->len == 0)
		return;
	ibuf_consume(msg->p_ibuf, msg->len);
	net_ibuf_trace("ibuf.discard", con, msg->p_ibuf, msg->len);
	msg->len = 0;
	msg->is_discarded = true;
	con->long_poll_count++;
	if (con->is_input_stopped)
		net_input_resume(con);
}
