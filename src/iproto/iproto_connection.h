/*
 * iproto_connection.h — the objects both banks of the river share: a
 * client connection, the request message, Kharon, a network cord.
 *
 * Internal to the server (src/iproto and src/box/tx.c). Every field says
 * which cord writes it; the other side only reads what a cbus message has
 * told it about (the endpoint mutex orders the writes before the reads).
 *
 *   net cord (iproto)                          tx cord
 *   ─────────────────                          ───────
 *   ibuf[2], p_ibuf, parse_size     requests   tx.p_obuf, obuf contents
 *   wpos (flushed), wend (known)  ──────────>  session, salt
 *   socket, state, watchers        <──────────  tx.is_push_sent/pending
 *                                   replies,
 *                                   Kharon
 *
 * Functions are thread-prefixed: net_* run on a network cord, tx_* on TX.
 */
#ifndef KHARON_IPROTO_IPROTO_CONNECTION_H
#define KHARON_IPROTO_IPROTO_CONNECTION_H

#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/diag.h"
#include "base/list.h"
#include "box/port.h"
#include "box/session.h"
#include "box/task.h"
#include "buf/ibuf.h"
#include "buf/obuf.h"
#include "cbus/cbus.h"
#include "iproto/iproto.h"
#include "proto/xrow.h"

struct rt_sock;
struct rt_wakeup;
struct rt_timer;
struct rt_listener;
struct iproto_connection;
struct iproto_server;

/** A position in one of a connection's two output buffers. */
struct iproto_wpos {
	struct obuf *obuf;
	struct obuf_svp svp;
};

/** Kharon: the one message per connection that ferries push output. */
struct iproto_kharon {
	struct cmsg base;
	/** To net: end of output to flush. Back to TX: net's flushed position. */
	struct iproto_wpos wpos;
};

/** A push message of per_push mode (allocated per push). */
struct iproto_push_msg {
	struct cmsg base;
	struct iproto_connection *connection;
	struct iproto_wpos wpos;
};

/** State of a CALL while its procedure runs (possibly across waits). */
struct proc;
struct proc_call {
	const struct proc *proc;
	struct session *session;
	uint64_t sync;
	/**
	 * Nonzero once the shutdown's grace period is over (set by a network
	 * cord, read with __atomic_load_n): a procedure that loops without
	 * waiting tests it at every turn and stops, as a Lua loop would test
	 * box.is_shutting_down (proc_is_cut_short).
	 */
	const int *is_grace_over;
	/**
	 * Arguments: a port_msgpack over the request's bytes in the input
	 * buffer — valid only until the procedure first waits (the input is
	 * then released); `args` is its MsgPack array.
	 */
	struct port args_port;
	const char *args;
	int64_t n, i, ms;
	/**
	 * Copy of the payload argument, owned (outlives discarded input):
	 * allocated by the procedure, freed by tx_call_end, both in TX.
	 */
	char *payload;
	uint32_t payload_len;
	struct port result;
	bool has_result;
};

/**
 * A request on its round trip: parsed in net, run in TX, answered in net.
 * What every trip touches comes first, the rarely used last (the error's
 * diag alone is 288 bytes): both cords then touch few cache lines of it,
 * and net_msg_new sets fields instead of clearing all 856 bytes.
 */
struct iproto_msg {
	struct cmsg base;
	struct iproto_connection *connection;
	/** Input buffer holding the request bytes, and how many (0: discarded). */
	struct ibuf *p_ibuf;
	size_t len;
	/** Input released early (a waiting call): counted in long_poll_count. */
	bool is_discarded;
	bool close_connection;
	/** To TX: net's flushed position. Back: end of what TX wrote. */
	struct iproto_wpos wpos;
	/** Set by xrow_decode_request (cleared for a connect message). */
	struct iproto_request req;
	/** Sent by TX when a call starts waiting: release the input early. */
	struct cmsg discard_input;
	/**
	 * TX, a call waiting for output to drain (tx_call_wait_output): the
	 * flushed position when it last asked for news, and whether its last
	 * wait was a pause (nothing had moved) rather than a trip.
	 */
	struct iproto_wpos seen_flushed;
	bool is_output_paused;
	/** TX's only: its zero state is set by tx_process_call. */
	struct proc_call call;
	/** Why decoding failed (error_route); set only then. */
	struct diag diag;
};

enum iproto_connection_state {
	IPROTO_CONNECTION_ALIVE,
	IPROTO_CONNECTION_CLOSED,
	IPROTO_CONNECTION_PENDING_DESTROY,
	IPROTO_CONNECTION_DESTROYED,
};

struct iproto_connection {
	struct iproto_thread *thread;
	uint32_t id;
	/* ---- net ---- */
	struct rt_sock *sock;
	enum iproto_connection_state state;
	struct ibuf ibuf[2];
	struct ibuf *p_ibuf;
	/** Bytes at the tail of p_ibuf read but not parsed (a partial request). */
	size_t parse_size;
	/** Calls whose input was discarded early and that are still running. */
	int long_poll_count;
	/** Flushed up to here, and output known to be complete up to here. */
	struct iproto_wpos wpos;
	struct iproto_wpos wend;
	bool is_input_stopped;
	bool is_reading_started;
	/** Parked on net_msg_max (in thread->stopped). */
	bool is_parked;
	struct rlist in_stopped;
	struct rlist in_thread;
	/** Teardown messages, pre-allocated: closing cannot fail. */
	struct cmsg disconnect_msg;
	struct cmsg destroy_msg;
	/** TX -> net: over obuf_limit, close the socket (tx_output_cut). */
	struct cmsg close_msg;
	struct iproto_kharon kharon;
	/* ---- both: written by TX, read by net only through messages ---- */
	struct obuf obuf[2];
	/*
	 * ---- tx ----
	 * On a cache line of its own, as in Tarantool: TX writes these on
	 * every push (is_push_pending, p_obuf) while the network cord reads
	 * and writes the fields above on every read and write. Sharing a line
	 * would bounce it between the two cores at each of those writes (false
	 * sharing). The connection is allocated cache-line aligned for this
	 * (mem_zalloc_aligned in net_on_accept).
	 */
	struct {
		alignas(64) struct obuf *p_obuf;
		bool is_push_sent;
		bool is_push_pending;
		/** Net's flushed position as TX last heard it (tx_accept_wpos). */
		struct iproto_wpos flushed;
		/** Since when output has been over obuf_soft_limit; 0: it is not. */
		uint64_t soft_since;
		/** Over a limit: no more output, the socket is being closed. */
		bool is_output_cut;
		struct session session;
		/**
		 * Tasks waiting for output to drain (PROC_WAIT_OUTPUT): woken
		 * by tx_accept_wpos when news of the flushed position lands,
		 * and by the disconnect.
		 */
		struct rlist output_waiters;
		char salt[32];
	} tx;
};

/** One network cord and everything it owns. */
struct iproto_thread {
	struct iproto_server *server;
	int id;
	char name[16];
	struct rt_cord *cord;
	struct cbus_endpoint endpoint;
	/** net -> tx, created on this cord. */
	struct cpipe tx_pipe;
	/** tx -> net, created on TX. */
	struct cpipe net_pipe;
	/* Routes: per thread, because their pipes are (Tarantool 2.8). */
	struct cmsg_hop connect_route[2];
	struct cmsg_hop request_route[2];
	struct cmsg_hop error_route[2];
	struct cmsg_hop disconnect_route[2];
	struct cmsg_hop destroy_route[2];
	struct cmsg_hop push_route[2];
	struct cmsg_hop per_push_route[2];
	struct cmsg_hop close_route[1];
	struct cmsg_hop discard_route[1];
	struct cmsg_hop done_route[1];
	struct cmsg done_msg;
	/** Shutdown's grace period is over: TX cuts running calls short. */
	struct cmsg_hop grace_route[1];
	struct cmsg grace_msg;
	/**
	 * Messages in flight (net_msg_max): the count of the message pool,
	 * Tarantool's mempool_count(&iproto_msg_pool).
	 */
	int n_msg;
	/**
	 * The pool's free messages, reused before allocating (Tarantool's
	 * iproto_msg mempool): at most net_msg_max of them are kept, the most
	 * that can ever be in flight at once. Freed with the server.
	 */
	struct stailq msg_free;
	int n_msg_free;
	struct rlist stopped;
	struct rlist connections;
	int n_connections;
	bool is_shutting_down;
	/** The grace period is over: now only waiting for replies to leave. */
	bool is_grace_over;
	struct rt_wakeup *shutdown_wakeup;
	struct rt_timer *shutdown_timer;
	struct iproto_stats stats;
};

struct iproto_server {
	struct rt *rt;
	struct iproto_opts opts;
	struct rt_cord *tx_cord;
	struct cbus_endpoint tx_endpoint;
	struct task_pool tasks;
	/**
	 * TX's: output chunks of destroyed connections, kept for new ones
	 * (Tarantool's slab cache under the obufs). Only TX takes and puts.
	 */
	struct obuf_cache obuf_cache;
	struct rt_listener *listener;
	struct iproto_thread *threads;
	int n_threads;
	/** TX: network cords that finished shutting down. */
	int n_threads_done;
	uint64_t grace_ns;
	/**
	 * Set by the first network cord whose grace period ends, read by TX
	 * in the middle of a procedure's loop (proc_call.is_grace_over).
	 */
	int is_grace_over;
	uint32_t next_connection_id;
	uint64_t next_session_id;
	/** TX: pushes and push messages (summed into stats). */
	uint64_t n_pushes;
	uint64_t n_push_msgs;
};

/* ---- net half (net_*.c) ---- */

/**
 * Accept callback of a network cord: Tarantool's iproto_on_accept with
 * iproto_connection_new (watchers set up, not started; the connect
 * message goes to TX).
 */
void
net_on_accept(struct rt_sock *sock, void *arg);

/**
 * Socket readiness callback: writes first (net_output), then reads
 * (net_input). Tarantool has one ev_io per direction instead.
 */
void
net_on_io(struct rt_sock *sock, int events, void *arg);

/**
 * Close the socket and start the disconnect round trip (Tarantool's
 * iproto_connection_close). Does something only once, while ALIVE.
 */
void
net_connection_close(struct iproto_connection *con);

/**
 * Requests read and not yet answered (long polls included): the negation
 * of Tarantool's iproto_connection_is_idle, not counting the unparsed tail
 * of the current buffer.
 */
bool
net_connection_has_requests(const struct iproto_connection *con);

/**
 * Destroy the connection if it is closed and nothing is in flight
 * (Tarantool's iproto_connection_try_to_start_destroy). Kharon is not
 * waited for, here or in Tarantool: the pipes' FIFO order and the gh-6520
 * flag bring him home first (docs/tarantool-map.md §2.5).
 */
void
net_connection_try_destroy(struct iproto_connection *con);

/**
 * The input buffer to read the next bytes into, by the four rules of
 * net_input.c (may reserve, compact, grow or switch buffers), in `*in`;
 * `*in` NULL: both buffers hold requests in flight, stop reading. -1 + diag
 * when memory ran out (Tarantool's iproto_connection_input_buffer raises
 * then): the caller must answer with an error and close, never wait.
 */
int
net_input_buffer(struct iproto_connection *con, struct ibuf **in);

/** Read and parse what the socket has (input side). */
void
net_input(struct iproto_connection *con);

/**
 * Resume reading if it stopped and a buffer or message is free again:
 * Tarantool's iproto_connection_resume (parse what is buffered, then read),
 * also serving as the EV_READ that iproto_connection_on_output feeds.
 */
void
net_input_resume(struct iproto_connection *con);

/**
 * Write [wpos, wend) (Tarantool's iproto_flush, looping until done or
 * blocked); 0 all written, -1 would block, -2 closed.
 */
int
net_flush(struct iproto_connection *con);

/**
 * Write what can be written now and watch for the rest (Tarantool's
 * iproto_connection_on_output): the write-event handler of a connection.
 */
void
net_output(struct iproto_connection *con);

/**
 * There is new output: write it at the end of this loop iteration, once
 * for everything that arrives meanwhile — unless the write watcher is
 * already waiting for the socket, which will write it all anyway (the
 * `ev_feed_event(EV_WRITE)` of Tarantool 2.6's net_send_msg and
 * iproto_process_push; a function of its own, iproto_connection_feed_output,
 * from 2.10 on).
 */
void
net_feed_output(struct iproto_connection *con);

/**
 * A message came back: give its input bytes back (ibuf reference count) —
 * the `p_ibuf->rpos += len` of Tarantool's net_send_msg.
 */
void
net_release_input(struct iproto_connection *con, struct iproto_msg *msg);

/**
 * A request message counted against net_msg_max (Tarantool's
 * iproto_msg_new); NULL + diag on OOM.
 */
struct iproto_msg *
net_msg_new(struct iproto_connection *con);

/**
 * Free a request message and let parked connections read again, oldest
 * first (Tarantool's iproto_msg_delete, which calls iproto_resume).
 */
void
net_msg_delete(struct iproto_msg *msg);


/* Hops that run on the network cord. */
void net_send_greeting(struct cmsg *m);
void net_send_msg(struct cmsg *m);
void net_finish_disconnect(struct cmsg *m);
void net_finish_destroy(struct cmsg *m);
void net_discard_input(struct cmsg *m);
void net_kharon_arrive(struct cmsg *m);
void net_push_arrive(struct cmsg *m);
void net_close_by_tx(struct cmsg *m);

/* ---- tx half (box/tx.c, iproto/kharon.c) ---- */

void tx_process_connect(struct cmsg *m);
void tx_process_request(struct cmsg *m);
void tx_process_error(struct cmsg *m);
void tx_process_disconnect(struct cmsg *m);
void tx_process_destroy(struct cmsg *m);
void tx_kharon_return(struct cmsg *m);
void tx_push_msg_done(struct cmsg *m);
void tx_thread_done(struct cmsg *m);
void tx_cancel_waiting(struct cmsg *m);

/** kharon has one schema that never changes. */
enum { TX_SCHEMA_VERSION = 1 };

/**
 * Write a {DATA: [...]} packet — a reply (IPROTO_OK) or a push
 * (IPROTO_CHUNK) — into the connection's current output buffer the
 * Tarantool way: reserve the 35-byte header, take a savepoint, dump the
 * port, patch length and count through the savepoint; on a dump failure
 * roll back to the savepoint. `port` NULL: an empty array. `is_16`: the
 * body in CALL_16's 1.6 format (port_dump_msgpack_16). 0 or -1 + diag.
 * Tarantool splits it: iproto_prepare_select, the dump, then
 * iproto_reply_select (a reply) or iproto_reply_chunk (a push).
 */
int
tx_write_data_packet(struct iproto_connection *con, uint32_t code,
		     uint64_t sync, struct port *port, bool is_16);

/**
 * A port's values as one line of text (port_dump_plain's text), for trace
 * events and captions; "" if that fails. Written into a per-thread buffer
 * when it fits (no allocation), so it is valid only until the next call
 * on this thread — or the port's destruction — whichever comes first:
 * pass it straight into an event.
 */
const char *
tx_port_text(struct port *port);

/**
 * obuf_limit and obuf_soft_limit, checked where output is made: may TX
 * write more output for this connection? -1 + diag ("output limit of N
 * bytes exceeded") when not: the connection held more than a limit allows,
 * its session is closed and its socket is being closed. At most one packet
 * is ever written past a limit. (Tarantool has no such limit.)
 */
int
tx_output_check(struct iproto_connection *con);

/**
 * Output TX wrote for the connection and has not heard is flushed: the
 * rest of the buffer net is flushing plus all of the other one. TX only.
 */
size_t
tx_output_held(const struct iproto_connection *con);

/**
 * A task waits for output to drain: make sure news of the flushed position
 * will come — Kharon departs if he is home, else he will depart again on
 * his return (the pending flag); in per_push mode a push message goes.
 * Nothing if the session is closed (the disconnect wakes the waiters).
 */
void
tx_output_progress(struct iproto_connection *con);

/**
 * Recycle output buffers from net's flushed position (Tarantool's
 * tx_accept_wpos; the rules: docs/tarantool-map.md §2.4), and
 * wake the tasks waiting for output to drain (con->tx.output_waiters).
 */
void
tx_accept_wpos(struct iproto_connection *con, const struct iproto_wpos *wpos);

/** The session vtab of binary connections (kharon.c). */
extern const struct session_vtab iproto_session_vtab;

/** Index (0/1) of an ibuf or obuf of the connection, for traces. */
static inline int
iproto_ibuf_index(const struct iproto_connection *con, const struct ibuf *b)
{
	return b == &con->ibuf[1];
}

static inline int
iproto_obuf_index(const struct iproto_connection *con, const struct obuf *b)
{
	return b == &con->obuf[1];
}

#endif /* KHARON_IPROTO_IPROTO_CONNECTION_H */
