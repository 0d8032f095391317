/*
 * client_sync.h — a blocking iproto client for C programs, on top of the
 * event-driven core (iproto_client.h), in the style of scaproust: the
 * user's thread never touches the socket; it sends a Cmd to one I/O cord
 * and blocks until the Evt that answers it.
 *
 *   user thread                          I/O cord "client" (real thread)
 *   client_call() ── Cmd CALL ──▶ [cmd queue] ──rt_wakeup──▶ iproto_client
 *        │                                                   │  │
 *        │ ◀── Evt PUSH (copy) ── [evt queue + cnd] ◀────────┘  │ on_push
 *        │ ◀── Evt REPLY (copy) ─ [evt queue + cnd] ◀───────────┘ on_reply
 *   returns the result; pushes went to the callback first, in order.
 *
 * Both queues are guarded by rt_mutexes. The Cmd queue is rung with
 * rt_wakeup_send (the user thread is not a cord); for the Evt queue the user
 * thread sleeps on a C11 cnd_t until a counter of posted Evts moves. Pushes
 * run the user's callback on the user thread, so it needs no locking of its
 * own.
 *
 * Backpressure: the Evt queue is bounded. Past max_queued bytes the I/O
 * cord pauses reading; the user thread, having drained it to half, rings
 * the doorbell and the I/O cord resumes. A slow callback then slows the
 * server (its socket fills, Kharon waits) instead of growing our memory:
 *
 *   queued > max ──▶ iproto_client_pause_reading   (I/O cord, in on_push)
 *   queued <= max/2 ──rt_wakeup──▶ iproto_client_resume_reading
 *
 * Timeouts are rt_timers on the I/O cord: one for the connect + greeting,
 * one for the call in flight.
 *
 * One user thread per connection, one call at a time. Errors: functions
 * return -1 with the user thread's diag set. Lesson: lessons/en/03-request-life.md.
 */
#ifndef KHARON_CLIENT_CLIENT_SYNC_H
#define KHARON_CLIENT_CLIENT_SYNC_H

#include <stddef.h>
#include <stdint.h>

struct client_sync;

/** A push: [data, data_end) is the value pushed. User thread. */
typedef void (*client_push_f)(void *ctx, const char *data,
			      const char *data_end);

/** The final reply of a call, owned by the caller once filled. */
struct client_result {
	/** IPROTO_OK or IPROTO_TYPE_ERROR | errcode. */
	uint32_t code;
	/** The DATA array (MsgPack), or NULL (error, or no DATA). */
	char *data;
	size_t data_len;
	/** The error message (NUL-terminated), or NULL on success. */
	char *error;
	/** Pushes delivered before the reply. */
	uint64_t n_pushes;
};

/** Default limits (client_sync_opts_default). */
enum {
	/** Seconds for the connect + greeting and for each call. */
	CLIENT_SYNC_TIMEOUT_DEFAULT_S = 10,
	/** Bytes of Evts queued for the user thread before reading pauses. */
	CLIENT_SYNC_MAX_QUEUED_DEFAULT = 4 * 1024 * 1024,
};

struct client_sync_opts {
	/**
	 * Nanoseconds from the start of the connect until the greeting has
	 * been decoded; 0: wait forever. On expiry the connect fails with
	 * ER_TIMEOUT ("Timeout exceeded ...").
	 */
	uint64_t connect_timeout_ns;
	/**
	 * Nanoseconds a call may go without a word from the server: from
	 * the moment it is written, each push re-arming it, until its final
	 * reply; 0: wait forever. On expiry the call fails with ER_TIMEOUT;
	 * the connection stays usable and whatever the server still sends
	 * for that call (pushes, the late reply) is dropped.
	 */
	uint64_t call_timeout_ns;
	/**
	 * Backpressure: once this many bytes of Evts (pushes the user thread
	 * has not taken yet) are queued, the I/O cord stops reading the
	 * socket (iproto_client_pause_reading), so the server's output
	 * backs up instead of our memory; it reads again once the user
	 * thread has drained the queue to half of it. 0: the default.
	 * The queue may exceed it by one packet (the one that crossed it).
	 */
	size_t max_queued;
};

/** Counters for tests and curious users; see client_sync_stats(). */
struct client_sync_stats {
	/** Bytes of Evts queued now, and the most ever queued. */
	size_t queued;
	size_t max_queued_seen;
	/** Times the I/O cord paused reading, and resumed. */
	uint64_t n_pauses;
	uint64_t n_resumes;
	/** Pushes and replies of timed-out calls, dropped on arrival. */
	uint64_t n_stale_dropped;
};

/** Fill `opts` with the defaults: 10 s timeouts, a 4 MiB queue. */
void
client_sync_opts_default(struct client_sync_opts *opts);

/**
 * Start a real-threads runtime with one I/O cord, connect it to
 * "host:port" and wait for the server's greeting. `opts` NULL: the
 * defaults; copied. Returns the connection, or NULL + diag (bad address,
 * refused, not an iproto server, ER_TIMEOUT when no greeting came within
 * connect_timeout_ns, OOM) — nothing is left running then. Any thread
 * that is not a cord; it becomes this connection's user thread.
 */
struct client_sync *
client_sync_connect(const char *addr, const struct client_sync_opts *opts);

/**
 * Change the per-call timeout for the next calls (0: none). User thread.
 */
void
client_sync_set_call_timeout(struct client_sync *c, uint64_t timeout_ns);

/** A snapshot of the counters. User thread (callbacks included). */
void
client_sync_stats(struct client_sync *c, struct client_sync_stats *stats);

/**
 * Call `function` with the MsgPack array [args, args_end) (NULL: no
 * arguments) and block until its final reply. Every push is handed to
 * `on_push(ctx, ...)` (may be NULL) on this thread as it arrives, before
 * the call returns. Fills `result` (free it with client_result_destroy)
 * in every case where a reply arrived. Returns 0 on IPROTO_OK; -1 + diag
 * on an error reply (diag code = the server's errcode, message = its
 * message; result->code says it too) or when the connection is lost
 * (ER_NO_CONNECTION; result->data/error then NULL) or when no reply came
 * within the call timeout (ER_TIMEOUT; result->code says it too). User
 * thread.
 */
int
client_call(struct client_sync *c, const char *function, const char *args,
	    const char *args_end, client_push_f on_push, void *ctx,
	    struct client_result *result);

/** PING and wait for the reply. 0, or -1 + diag. User thread. */
int
client_ping(struct client_sync *c);

/** Free what a result holds (not the struct). */
void
client_result_destroy(struct client_result *r);

/**
 * Close the connection, stop and join the I/O cord, free everything.
 * User thread. NULL is ignored.
 */
void
client_close(struct client_sync *c);

#endif /* KHARON_CLIENT_CLIENT_SYNC_H */
