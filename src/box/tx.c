/*
 * tx.c — the TX bank: what happens to a request between its two crossings.
 *
 * Every hop here runs as a task (box/task.c). A request first lets TX
 * recycle output buffers from the flushed position it carries
 * (tx_accept_wpos), then runs and writes its reply straight into the
 * connection's current output buffer, then travels back with the end
 * position. A data reply is written the Tarantool way (docs/protocol.md
 * §4; Tarantool's iproto_prepare_select, then iproto_reply_select or, for
 * a push, iproto_reply_chunk):
 *
 *   obuf_reserve(35)  ─ the header's room is contiguous, so
 *   svp = obuf_create_svp  the savepoint points exactly at it
 *   obuf_alloc(35)     ─ claim it, then
 *   port_dump_msgpack  ─ the body, possibly over many chunks
 *   patch through svp  ─ length and count, now known (fixed-width fields)
 *   (or on failure: obuf_rollback_to_svp, then an error reply)
 *
 * Lessons: lessons/en/03-request-life.md, lessons/en/05-obuf-reserve.md.
 */
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "box/auth.h"
#include "box/proc.h"
#include "iproto/iproto_connection.h"
#include "proto/errcode.h"
#include "proto/greeting.h"
#include "proto/iproto_constants.h"
#include "proto/mp.h"
#include "rt/rt.h"
#include "trace/trace.h"


/* Spaces net.box reads on connect (docs/protocol.md §7); all empty here. */
enum { SPACE_VSPACE = 281, SPACE_VINDEX = 289, SPACE_VCOLLATION = 277 };

/** The message's end of output (Tarantool's iproto_wpos_create). */
static void
tx_set_wpos(struct iproto_msg *msg, struct iproto_connection *con)
{
	msg->wpos.obuf = con->tx.p_obuf;
	msg->wpos.svp = obuf_create_svp(con->tx.p_obuf);
}

/*
 * Output the connection holds: written by TX and not yet reported flushed
 * — the rest of the buffer net is flushing, plus all of the other one
 * (which is either waiting to be flushed or already reset to empty).
 */
size_t
tx_output_held(const struct iproto_connection *con)
{
	const struct iproto_wpos *f = &con->tx.flushed;
	const struct obuf *other = f->obuf == &con->obuf[0] ? &con->obuf[1] :
							      &con->obuf[0];
	return obuf_size(f->obuf) - f->svp.used + obuf_size(other);
}

/**
 * Over a limit: no more output for this connection. Close its session
 * (pushes now fail with "Session is closed"; gh-6520: no Kharon trip
 * left pending) and have the network cord close the socket, with a
 * message the connection carries, so this cannot fail for lack of memory.
 */
static void
tx_output_cut(struct iproto_connection *con, size_t held, size_t limit,
	      const char *kind)
{
	con->tx.is_output_cut = true;
	con->thread->stats.n_obuf_limit_closes++;
	TRACE("conn.obuf_limit", TI("conn", con->id), TI("unflushed", held),
	      TI("limit", limit), TS("kind", kind));
	if (con->tx.session.is_closed)
		return; /* The client is gone already; so is the socket. */
	session_close(&con->tx.session);
	con->tx.is_push_pending = false;
	cmsg_init(&con->close_msg, con->thread->close_route);
	cpipe_push(&con->thread->net_pipe, &con->close_msg);
}

int
tx_output_check(struct iproto_connection *con)
{
	const struct iproto_opts *opts = &con->thread->server->opts;
	if (!con->tx.is_output_cut &&
	    (opts->obuf_limit != 0 || opts->obuf_soft_limit != 0)) {
		size_t held = tx_output_held(con);
		if (opts->obuf_limit != 0 && held > opts->obuf_limit) {
			tx_output_cut(con, held, opts->obuf_limit, "hard");
		} else if (opts->obuf_soft_limit != 0 &&
			   held > opts->obuf_soft_limit) {
			uint64_t now = rt_now(con->thread->server->rt);
			if (con->tx.soft_since == 0)
				con->tx.soft_since = now != 0 ? now : 1;
			else if (now - con->tx.soft_since >= opts->obuf_soft_ns)
				tx_output_cut(con, held, opts->obuf_soft_limit,
					      "soft");
		} else {
			con->tx.soft_since = 0;
		}
	}
	if (!con->tx.is_output_cut)
		return 0;
	size_t limit = opts->obuf_limit != 0 ? opts->obuf_limit :
					       opts->obuf_soft_limit;
	diag_set(ER_PROC_C, "ClientError", "output limit of %zu bytes "
		 "exceeded: the client does not read its output", limit);
	return -1;
}

void
tx_accept_wpos(struct iproto_connection *con, const struct iproto_wpos *wpos)
{
	con->tx.flushed = *wpos;
	/* Back under the soft limit: its clock starts afresh (Redis). */
	if (con->tx.soft_since != 0 &&
	    tx_output_held(con) <= con->thread->server->opts.obuf_soft_limit)
		con->tx.soft_since = 0;
	struct obuf *cur = con->tx.p_obuf;
	struct obuf *prev = cur == &con->obuf[0] ? &con->obuf[1] : &con->obuf[0];
	/* Net is in the buffer TX writes: it has finished the other one. */
	if (wpos->obuf == cur && obuf_size(prev) != 0) {
		obuf_reset(prev);
		TRACE("obuf.reset", TI("conn", con->id),
		      TI("buf", iproto_obuf_index(con, prev)));
	}
	if (obuf_size(cur) != 0 && obuf_size(prev) == 0) {
		con->tx.p_obuf = prev;
		TRACE("obuf.rotate", TI("conn", con->id),
		      TI("buf", iproto_obuf_index(con, prev)));
	}
	/* News of the flushed position: streams waiting for it look again. */
	if (!rlist_empty(&con->tx.output_waiters))
		task_wake_all(&con->tx.output_waiters);
}

/* -------------------------------------------------------------- replies */

/**
 * Write an error reply for the calling thread's diag (Tarantool's
 * tx_reply_error → iproto_reply_error). 0 or -1.
 */
static int
tx_reply_error(struct iproto_connection *con, uint64_t sync)
{
	struct diag d = *diag_last();
	/* Over an output limit: not even an error reply (the socket closes). */
	if (tx_output_check(con) != 0)
		return -1;
	struct obuf *out = con->tx.p_obuf;
	size_t size = iproto_reply_error_size(&d);
	char *p = obuf_alloc(out, size);
	if (p == NULL)
		return -1;
	iproto_reply_error_encode(p, &d, sync, TX_SCHEMA_VERSION);
	TRACE("reply.error", TI("conn", con->id), TI("sync", sync),
	      TI("code", d.code), TI("buf", iproto_obuf_index(con, out)),
	      TI("end", obuf_size(out)));
	return 0;
}

/** The 29-byte OK reply (Tarantool's iproto_reply_ok). */
static void
tx_reply_ok(struct iproto_connection *con, uint64_t sync)
{
	if (tx_output_check(con) != 0)
		return;
	char *p = obuf_alloc(con->tx.p_obuf, IPROTO_OK_REPLY_LEN);
	if (p == NULL) {
		tx_reply_error(con, sync);
		return;
	}
	iproto_reply_ok_encode(p, sync, TX_SCHEMA_VERSION);
}

int
tx_write_data_packet(struct iproto_connection *con, uint32_t code,
		     uint64_t sync, struct port *port, bool is_16)
{
	if (tx_output_check(con) != 0)
		return -1;
	struct obuf *out = con->tx.p_obuf;
	int buf = iproto_obuf_index(con, out);
	/* Reserve first: then the savepoint points at 35 contiguous bytes. */
	if (obuf_reserve(out, IPROTO_SELECT_HEADER_LEN) == NULL)
		return -1;
	struct obuf_svp svp = obuf_create_svp(out);
	obuf_alloc(out, IPROTO_SELECT_HEADER_LEN);
	TRACE("obuf.reserve", TI("conn", con->id), TI("sync", sync),
	      TI("buf", buf), TI("chunk", svp.pos), TI("offset", svp.iov_len),
	      TI("svp", svp.used), TI("size", IPROTO_SELECT_HEADER_LEN));
	int count = 0;
	if (port != NULL) {
		count = is_16 ? port_dump_msgpack_16(port, out) :
				port_dump_msgpack(port, out);
		TRACE("port.dump", TI("conn", con->id), TI("sync", sync),
		      TI("buf", buf),
		      TI("begin", svp.used + IPROTO_SELECT_HEADER_LEN),
		      TI("end", obuf_size(out)), TI("count", count));
		if (count < 0) {
			obuf_rollback_to_svp(out, &svp);
			TRACE("obuf.rollback", TI("conn", con->id),
			      TI("sync", sync), TI("buf", buf), TI("to", svp.used));
			return -1;
		}
	}
	/* A chunk always says count 1 (iproto_reply_chunk; docs/protocol.md §4). */
	if (code == IPROTO_CHUNK)
		count = 1;
	char *header = obuf_svp_to_ptr(out, &svp);
	uint32_t body_len = (uint32_t)(obuf_size(out) - svp.used -
				       IPROTO_HEADER_LEN);
	iproto_header_encode(header, code, sync, TX_SCHEMA_VERSION, body_len);
	iproto_body_prefix_encode(header + IPROTO_HEADER_LEN, (uint32_t)count);
	TRACE("obuf.patch", TI("conn", con->id), TI("sync", sync),
	      TI("buf", buf), TI("svp", svp.used), TI("len", body_len + 23),
	      TI("count", count), TI("end", obuf_size(out)));
	return 0;
}

/* ------------------------------------------------------------ lifecycle */

void
tx_process_connect(struct cmsg *m)
{
	struct iproto_msg *msg = (struct iproto_msg *)m;
	struct iproto_connection *con = msg->connection;
	struct iproto_server *server = con->thread->server;
	session_create(&con->tx.session, ++server->next_session_id,
		       &iproto_session_vtab, con);
	struct rt *rt = server->rt;
	uint8_t uuid[16];
	for (int i = 0; i < 16; i += 8) {
		uint64_t r = rt_random(rt);
		memcpy(uuid + i, &r, 8);
	}
	uuid[6] = (uint8_t)((uuid[6] & 0x0f) | 0x40);
	uuid[8] = (uint8_t)((uuid[8] & 0x3f) | 0x80);
	for (int i = 0; i < 32; i += 8) {
		uint64_t r = rt_random(rt);
		memcpy(con->tx.salt + i, &r, 8);
	}
	char greeting[GREETING_SIZE];
	greeting_encode(greeting, greeting_version_id(2, 6, 0), uuid,
			(const uint8_t *)con->tx.salt);
	if (obuf_dup(con->tx.p_obuf, greeting, sizeof(greeting)) != 0) {
		msg->close_connection = true;
	}
	tx_set_wpos(msg, con);
	TRACE("tx.connect", TI("conn", con->id),
	      TI("session", con->tx.session.id), TI("end", msg->wpos.svp.used));
}

void
tx_process_disconnect(struct cmsg *m)
{
	struct iproto_connection *con =
		container_of(m, struct iproto_connection, disconnect_msg);
	session_close(&con->tx.session);
	/*
	 * Tarantool gh-6520 (the fix is in 2.8.3, newer than 2.6): no push
	 * can happen after session_close, so a raised flag would only send
	 * Kharon towards a dying connection (docs/tarantool-map.md §2.5).
	 */
	con->tx.is_push_pending = false;
	TRACE("tx.disconnect", TI("conn", con->id),
	      TI("kharon_away", con->tx.is_push_sent));
	/* No more news will come: waiting streams wake to find it closed. */
	task_wake_all(&con->tx.output_waiters);
}

void
tx_process_destroy(struct cmsg *m)
{
	struct iproto_connection *con =
		container_of(m, struct iproto_connection, destroy_msg);
	/* TX allocated the output buffers, TX frees them. */
	obuf_destroy(&con->obuf[0]);
	obuf_destroy(&con->obuf[1]);
	TRACE("tx.destroy", TI("conn", con->id));
}

void
tx_cancel_waiting(struct cmsg *m)
{
	struct iproto_thread *t = container_of(m, struct iproto_thread,
					       grace_msg);
	TRACE("tx.grace_over", TS("cord", t->name));
	task_pool_cancel_waiting(&t->server->tasks);
}

void
tx_thread_done(struct cmsg *m)
{
	struct iproto_thread *t = container_of(m, struct iproto_thread, done_msg);
	struct iproto_server *server = t->server;
	TRACE("tx.net_done", TS("cord", t->name));
	if (++server->n_threads_done < server->n_threads)
		return;
	for (int i = 0; i < server->n_threads; i++)
		rt_cord_stop(server->threads[i].cord);
	rt_cord_stop(server->tx_cord);
}

/* ------------------------------------------------------------- requests */

static void
tx_finish(struct iproto_msg *msg)
{
	tx_set_wpos(msg, msg->connection);
}

/** A request net could not decode: the error reply (tx_reply_iproto_error). */
void
tx_process_error(struct cmsg *m)
{
	struct iproto_msg *msg = (struct iproto_msg *)m;
	struct iproto_connection *con = msg->connection;
	tx_accept_wpos(con, &msg->wpos);
	*diag_last() = msg->diag;
	tx_reply_error(con, msg->req.sync);
	tx_finish(msg);
}

/*
 * A value as the trace shows it (push `value`, task.call `args`,
 * task.result `result`): the port's text, cut after TX_PORT_TEXT_MAX
 * bytes with "…" — a trace records the steps, and a caption must fit a
 * sentence; the bytes themselves are in the obuf between the event's
 * positions. Made in a per-thread buffer, with no allocation, and only
 * the head of a long value is formatted: a 1 KiB push costs what a short
 * one does. Every caller hands the text to an event site at once (the
 * next call on this thread reuses the buffer).
 */
enum { TX_PORT_TEXT_MAX = 120 };

const char *
tx_port_text(struct port *port)
{
	static const char cut_mark[] = "\u2026"; /* … */
	/* The text's first TX_PORT_TEXT_MAX + 1 bytes: the one after the
	 * cut tells whether the cut falls inside a character. */
	static _Thread_local char buf[TX_PORT_TEXT_MAX + 8];
	int len = port_format_plain(port, buf, TX_PORT_TEXT_MAX + 2);
	if (len < 0) {
		/* A port without format_plain: its whole text, then the cut. */
		uint32_t size;
		const char *text = port_dump_plain(port, &size);
		if (text == NULL)
			return "";
		len = (int)size;
		size_t n = size < TX_PORT_TEXT_MAX + 1 ? size :
			   TX_PORT_TEXT_MAX + 1;
		memcpy(buf, text, n);
		buf[n] = '\0';
	}
	if (len <= TX_PORT_TEXT_MAX)
		return buf;
	/* Cut at a character's start, never inside a UTF-8 sequence. */
	size_t cut = TX_PORT_TEXT_MAX;
	while (cut > 0 && ((unsigned char)buf[cut] & 0xc0) == 0x80)
		cut--;
	memcpy(buf + cut, cut_mark, sizeof(cut_mark));
	return buf;
}

static void
tx_call_end(struct iproto_msg *msg, enum proc_status status)
{
	struct iproto_connection *con = msg->connection;
	struct proc_call *call = &msg->call;
	if (status == PROC_DONE)
		TRACE("task.result", TI("conn", con->id), TI("sync", msg->req.sync),
		      TS("result", tx_port_text(&call->result)));
	if (status == PROC_DONE &&
	    tx_write_data_packet(con, IPROTO_OK, msg->req.sync, &call->result,
				 msg->req.type == IPROTO_CALL_16) != 0)
		status = PROC_ERROR;
	if (status == PROC_ERROR)
		tx_reply_error(con, msg->req.sync);
	if (call->has_result)
		port_destroy(&call->result);
	/* TX allocated the payload copy (proc.c): TX frees it. */
	mem_free(call->payload);
	call->payload = NULL;
	tx_finish(msg);
}

static void
tx_call_resume(struct task *task, struct cmsg *m);

enum {
	/*
	 * A stream waits again and nothing was flushed since its last
	 * question (the client does not read): ask again after this pause
	 * rather than at once, so Kharon does not shuttle for nothing.
	 */
	TX_OUTPUT_PAUSE_NS = 200 * 1000,
};

static bool
tx_wpos_equal(const struct iproto_wpos *a, const struct iproto_wpos *b)
{
	return a->obuf == b->obuf && a->svp.used == b->svp.used;
}

/**
 * The call holds more unsent output than it allows (PROC_WAIT_OUTPUT):
 * wait for news of the flushed position. News comes with Kharon, whose
 * position is the one he found on landing — before net wrote what he
 * brought — so a stream usually asks twice per wait. When nothing moved
 * since its last question it pauses first (a timer), then asks again.
 */
static void
tx_call_wait_output(struct task *task, struct iproto_msg *msg)
{
	struct iproto_connection *con = msg->connection;
	if (msg->is_output_paused ||
	    !tx_wpos_equal(&msg->seen_flushed, &con->tx.flushed)) {
		msg->is_output_paused = false;
		msg->seen_flushed = con->tx.flushed;
		task_wait_event(task, &con->tx.output_waiters, tx_call_resume);
		tx_output_progress(con);
		return;
	}
	msg->is_output_paused = true;
	task_wait(task, TX_OUTPUT_PAUSE_NS, tx_call_resume);
}

static void
tx_call_resume(struct task *task, struct cmsg *m)
{
	struct iproto_msg *msg = (struct iproto_msg *)m;
	if (task->is_cancelled) {
		diag_set(ER_PROC_C, "ClientError", "%s: cancelled, the server is "
			 "shutting down", msg->call.proc->name);
		tx_call_end(msg, PROC_ERROR);
		return;
	}
	uint64_t wait_ns = 0;
	enum proc_status status = msg->call.proc->resume(&msg->call, &wait_ns);
	if (status == PROC_WAIT) {
		task_wait(task, wait_ns, tx_call_resume);
		return;
	}
	if (status == PROC_WAIT_OUTPUT) {
		tx_call_wait_output(task, msg);
		return;
	}
	tx_call_end(msg, status);
}

static void
tx_process_call(struct iproto_msg *msg)
{
	struct iproto_connection *con = msg->connection;
	struct iproto_request *req = &msg->req;
	if (req->type == IPROTO_EVAL) {
		diag_set(ER_UNSUPPORTED, "ClientError", "EVAL is not supported");
		tx_reply_error(con, req->sync);
		tx_finish(msg);
		return;
	}
	struct proc_call *call = &msg->call;
	/*
	 * A pooled message arrives uncleared (net_msg_new): the state a
	 * procedure counts on starting from zero is set here, field by field
	 * — a memset of the whole struct was a visible cost per call. The
	 * ports are created before they are used.
	 */
	call->n = call->i = call->ms = 0;
	call->payload = NULL;
	call->payload_len = 0;
	call->has_result = false;
	call->proc = proc_find(req->function_name, req->function_name_len);
	if (call->proc == NULL) {
		diag_set_client(ER_NO_SUCH_PROC, (int)req->function_name_len,
				req->function_name);
		tx_reply_error(con, req->sync);
		tx_finish(msg);
		return;
	}
	call->session = &con->tx.session;
	call->sync = req->sync;
	msg->seen_flushed = (struct iproto_wpos){ NULL, { 0, 0, 0 } };
	msg->is_output_paused = false;
	call->is_grace_over = &con->thread->server->is_grace_over;
	port_msgpack_create_from_array(&call->args_port, req->tuple,
				       req->tuple_end);
	uint32_t size;
	call->args = port_get_msgpack(&call->args_port, &size);
	TRACE("task.call", TI("conn", con->id), TI("sync", req->sync),
	      TS("proc", call->proc->name),
	      TS("args", tx_port_text(&call->args_port)));
	uint64_t wait_ns = 0;
	enum proc_status status = call->proc->start(call, &wait_ns);
	/* The arguments live in the input buffer, released if it waits. */
	port_destroy(&call->args_port);
	call->args = NULL;
	if (status != PROC_WAIT && status != PROC_WAIT_OUTPUT) {
		tx_call_end(msg, status);
		return;
	}
	/*
	 * A long poll: give the input back now (Tarantool's
	 * tx_process_call_on_yield → tx_discard_input).
	 */
	cmsg_init(&msg->discard_input, con->thread->discard_route);
	cpipe_push(&con->thread->net_pipe, &msg->discard_input);
	if (status == PROC_WAIT_OUTPUT)
		tx_call_wait_output(task_current(), msg);
	else
		task_wait(task_current(), wait_ns, tx_call_resume);
}

static void
tx_process_select(struct iproto_msg *msg)
{
	struct iproto_connection *con = msg->connection;
	uint32_t space = msg->req.space_id;
	if (space == SPACE_VSPACE || space == SPACE_VINDEX ||
	    space == SPACE_VCOLLATION) {
		if (tx_write_data_packet(con, IPROTO_OK, msg->req.sync, NULL,
					 false) != 0)
			tx_reply_error(con, msg->req.sync);
		return;
	}
	char name[16];
	snprintf(name, sizeof(name), "%u", space);
	diag_set_client(ER_NO_SUCH_SPACE, name);
	tx_reply_error(con, msg->req.sync);
}

/** AUTH (the AUTH branch of Tarantool's tx_process_misc). */
static void
tx_process_auth(struct iproto_msg *msg)
{
	struct iproto_connection *con = msg->connection;
	const struct iproto_request *req = &msg->req;
	if (auth_check(req->user_name, req->user_name_len, req->tuple,
		       con->tx.salt) == 0)
		tx_reply_ok(con, req->sync);
	else
		tx_reply_error(con, req->sync);
}

void
tx_process_request(struct cmsg *m)
{
	struct iproto_msg *msg = (struct iproto_msg *)m;
	struct iproto_connection *con = msg->connection;
	tx_accept_wpos(con, &msg->wpos);
	/*
	 * Tarantool's tx_accept_msg, then the hop its route names for the
	 * type: one hop here, dispatching on the type.
	 * Requests already read run even if the client has gone (Tarantool
	 * gh-6292); their pushes fail with "Session is closed" and their
	 * replies are never sent.
	 */
	switch (msg->req.type) {
	case IPROTO_PING:
		tx_reply_ok(con, msg->req.sync);
		break;
	case IPROTO_AUTH:
		tx_process_auth(msg);
		break;
	case IPROTO_SELECT:
		tx_process_select(msg);
		break;
	case IPROTO_CALL:
	case IPROTO_CALL_16:
	case IPROTO_EVAL:
		tx_process_call(msg);
		return;
	default: {
		char name[16];
		snprintf(name, sizeof(name), "%u", msg->req.space_id);
		diag_set_client(ER_NO_SUCH_SPACE, name);
		tx_reply_error(con, msg->req.sync);
		break;
	}
	}
	tx_finish(msg);
}
