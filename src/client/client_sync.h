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
 * thread sleeps on a C11 cnd_t until a counter of posted Evts moves. Pushes run the user's callback on the user thread, so
 * it needs no locking of its own.
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

/**
 * Start a real-threads runtime with one I/O cord, connect it to
 * "host:port" and wait for the server's greeting. Returns the connection,
 * or NULL + diag (bad address, refused, not an iproto server, OOM) —
 * nothing is left running then. Any thread that is not a cord; it becomes
 * this connection's user thread.
 */
struct client_sync *
client_sync_connect(const char *addr);

/**
 * Call `function` with the MsgPack array [args, args_end) (NULL: no
 * arguments) and block until its final reply. Every push is handed to
 * `on_push(ctx, ...)` (may be NULL) on this thread as it arrives, before
 * the call returns. Fills `result` (free it with client_result_destroy)
 * in every case where a reply arrived. Returns 0 on IPROTO_OK; -1 + diag
 * on an error reply (diag code = the server's errcode, message = its
 * message; result->code says it too) or when the connection is lost
 * (ER_NO_CONNECTION; result->data/error then NULL). User thread.
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
