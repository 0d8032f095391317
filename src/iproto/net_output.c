/*
 * net_output.c — writing replies on a network cord.
 *
 * TX writes replies into the connection's output buffers (it owns them);
 * the network cord only learns *how far* output is complete — `wend`, from
 * a returning request or from Kharon — and writes [wpos, wend) with one
 * writev. There are two output buffers. TX moves to the other one as soon
 * as it finds that one empty, and empties (resets) a buffer only after this
 * cord has reported a flushed position in the other one (tx_accept_wpos).
 * What makes that safe is this cord's rule: it always finishes the old
 * buffer to its end before it starts on the new one, so a position in the
 * new buffer proves the old one is done. It also clamps the last iovec to
 * wend: TX may be appending to that very chunk right now
 * (docs/tarantool-map.md §2.4). The writes are fed, once per loop
 * iteration, never done on arrival (§2.2 there).
 *
 * Tarantool 2.6: net_flush is iproto_flush, net_output is
 * iproto_connection_on_output, net_feed_output is the ev_feed_event
 * (EV_WRITE) inline in net_send_msg and iproto_process_push.
 *
 *   obuf[0]: [flushed ...... wpos|==== to write ====|  (old: to its end)
 *   obuf[1]: [==== to write ==== wend|  TX appending here ...
 *
 * Lesson: lessons/en/05-obuf-reserve.md.
 */
#include <errno.h>

#include "iproto/iproto_connection.h"
#include "rt/rt.h"
#include "trace/trace.h"

enum { NET_IOV_MAX = OBUF_IOV_MAX + 1 };

static bool
wpos_equal(const struct iproto_wpos *a, const struct iproto_wpos *b)
{
	return a->obuf == b->obuf && a->svp.used == b->svp.used;
}

int
net_flush(struct iproto_connection *con)
{
	for (;;) {
		struct iproto_wpos *begin = &con->wpos;
		struct iproto_wpos end = con->wend;
		if (begin->obuf != end.obuf) {
			/* TX moved on: finish the old buffer first. */
			struct obuf *old = begin->obuf;
			if (begin->svp.used == obuf_size(old)) {
				begin->obuf = end.obuf;
				begin->svp = (struct obuf_svp){ 0, 0, 0 };
				TRACE("net.switch_obuf", TI("conn", con->id),
				      TI("buf", iproto_obuf_index(con, end.obuf)));
				continue;
			}
			end.obuf = old;
			end.svp = obuf_create_svp(old);
		}
		if (wpos_equal(begin, &end))
			return 0;
		struct iovec iov[NET_IOV_MAX];
		int cnt = obuf_iov_between(begin->obuf, &begin->svp, &end.svp,
					   iov, NET_IOV_MAX);
		ssize_t n = rt_sock_writev(con->sock, iov, cnt);
		if (n < 0) {
			if (errno == EAGAIN)
				return -1;
			net_connection_close(con);
			return -2;
		}
		con->thread->stats.n_writev++;
		obuf_svp_advance(begin->obuf, &begin->svp, &end.svp, (size_t)n);
		TRACE("net.writev", TI("conn", con->id),
		      TI("buf", iproto_obuf_index(con, begin->obuf)),
		      TI("n", n), TI("iovcnt", cnt), TI("wpos", begin->svp.used),
		      TI("wend", end.svp.used));
		if (!wpos_equal(begin, &end))
			return -1;
	}
}

void
net_output(struct iproto_connection *con)
{
	int rc = net_flush(con);
	if (rc == -2)
		return;
	int events = rt_sock_watched(con->sock) & RT_READ;
	if (rc == -1)
		events |= RT_WRITE;
	else if (!con->is_reading_started) {
		/* The greeting is out: only now does reading begin. */
		con->is_reading_started = true;
		events |= RT_READ;
	}
	rt_sock_watch(con->sock, events, net_on_io, con);
	/* All written: input stopped for lack of a buffer may go on. */
	if (rc == 0 && con->is_input_stopped && !con->is_parked)
		net_input_resume(con);
	if (con->state != IPROTO_CONNECTION_ALIVE)
		return;
	/* Shutting down: all answered and all written, so say goodbye. */
	if (rc == 0 && con->thread->is_shutting_down &&
	    !net_connection_has_requests(con))
		net_connection_close(con);
}

void
net_feed_output(struct iproto_connection *con)
{
	if ((rt_sock_watched(con->sock) & RT_WRITE) == 0)
		rt_sock_feed(con->sock, RT_WRITE);
}

/**
 * The socket's one callback: write, then read. Tarantool 2.6 has two
 * watchers per connection instead, iproto_connection_on_output and
 * iproto_connection_on_input.
 */
void
net_on_io(struct rt_sock *sock, int events, void *arg)
{
	(void)sock;
	struct iproto_connection *con = arg;
	if ((events & RT_WRITE) != 0) {
		net_output(con);
		if (con->state != IPROTO_CONNECTION_ALIVE)
			return;
	}
	if ((events & RT_READ) != 0 && con->is_reading_started)
		net_input(con);
}
