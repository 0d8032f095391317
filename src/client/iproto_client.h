/*
 * iproto_client.h — an event-driven iproto client: one connection, owned by
 * one cord, on either runtime (the simulator or real threads).
 *
 * The client is the far shore of the picture in DESIGN.md §1: scenarios
 * drive it on the simulator, `kharon call` drives it (through the blocking
 * facade client_sync.h) on real threads, and it speaks the real protocol, so
 * it talks to kharon serve and to a real Tarantool alike.
 *
 *   user code ── iproto_client_call() ──▶ out ibuf ──writev──▶ server
 *        ▲                                                      │
 *        │   on_push(value)  (IPROTO_CHUNK, same sync)          │
 *        └── on_reply(code)  (final: OK or error) ◀── in ibuf ◀─┘
 *                             routed by sync
 *
 * The life of a connection: iproto_client_connect() → the 128-byte greeting
 * is read and decoded (nothing is written before it) → on_connect → requests
 * and replies → on_close exactly once (peer EOF, a socket error, a protocol
 * error, or iproto_client_disconnect()). Every request still waiting when
 * the connection ends gets on_reply with ER_NO_CONNECTION.
 *
 * Output is queued in a buffer and written at once if the socket takes it;
 * RT_WRITE is watched only while queued bytes remain (watching it with
 * nothing to write would spin the simulator). Reading can be paused: the
 * client then stops watching RT_READ and delivers nothing, so the server's
 * socket buffer fills up — a slow consumer.
 *
 * Callbacks run on the owner cord, from inside the client's I/O handler.
 * They may send requests, pause reading and disconnect; they must not
 * delete the client. Pointers they receive are valid during the call only.
 *
 * Trace events: client.connect, client.send, client.recv, client.pause,
 * client.resume, client.close (docs/trace.md). Lesson: lessons/en/03-request-life.md.
 */
#ifndef KHARON_CLIENT_IPROTO_CLIENT_H
#define KHARON_CLIENT_IPROTO_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct diag;
struct greeting;
struct iproto_client;
struct rt_cord;
struct rt_net_opts;

/**
 * A push (IPROTO_CHUNK) for request `sync`: [data, data_end) is the value
 * pushed (the single element of the packet's DATA array; the whole DATA
 * array when it does not hold exactly one value).
 */
typedef void (*iproto_client_push_f)(void *ctx, uint64_t sync,
				     const char *data, const char *data_end);

/**
 * The final reply of request `sync`. `code` is IPROTO_OK or
 * IPROTO_TYPE_ERROR | errcode. On OK, [data, data_end) is the DATA array
 * (NULL when the reply has no DATA: PING, AUTH). On error, [error,
 * error + error_len) is the message (data is NULL). After this call the
 * request is forgotten.
 */
typedef void (*iproto_client_reply_f)(void *ctx, uint64_t sync,
				      uint32_t code, const char *data,
				      const char *data_end, const char *error,
				      uint32_t error_len);

/** Where the replies of one request go. Either callback may be NULL. */
struct iproto_client_handler {
	iproto_client_push_f on_push;
	iproto_client_reply_f on_reply;
	void *ctx;
};

/** Connection events. Any of them may be NULL. */
struct iproto_client_cbs {
	/** The greeting arrived and decoded: requests are being written. */
	void (*on_connect)(void *arg, const struct greeting *g);
	/**
	 * The connection ended; called once. `why` is NULL after
	 * iproto_client_disconnect(), otherwise the cause (ER_NO_CONNECTION
	 * "Peer closed the connection", ER_SYSTEM with the errno text,
	 * ER_PROTOCOL for a bad greeting, ER_INVALID_MSGPACK for a bad reply).
	 */
	void (*on_close)(void *arg, const struct diag *why);
	/**
	 * A reply whose sync no request is waiting for (e.g. to raw bytes);
	 * NULL drops it. Same arguments as iproto_client_reply_f.
	 */
	iproto_client_reply_f on_orphan;
	void *arg;
};

struct iproto_client_opts {
	/** Identity in traces (the `conn` field): the scenario's client index. */
	uint32_t id;
	/** Largest reply accepted (default IPROTO_PACKET_MAX_DEFAULT). */
	size_t max_packet;
	/** Start size of the input buffer (default 16 384). */
	size_t readahead;
};

struct iproto_client_stats {
	uint64_t n_sent_requests;
	uint64_t n_sent_bytes;
	uint64_t n_recv_bytes;
	uint64_t n_pushes;
	uint64_t n_replies;
	uint64_t n_orphans;
	uint64_t n_writev;
	/** writevs that took fewer bytes than offered. */
	uint64_t n_partial_writes;
};

/**
 * Create a client on `cord`, not connected. `opts` and `cbs` may be NULL
 * (defaults, no callbacks); both are copied. Call on `cord`, or before it
 * starts. NULL + diag on OOM.
 */
struct iproto_client *
iproto_client_new(struct rt_cord *cord, const struct iproto_client_opts *opts,
		  const struct iproto_client_cbs *cbs);

/**
 * Close the socket if still open (reset, no callbacks) and free the client
 * and the requests still waiting (their handlers are not called). Owner
 * cord, or any thread once the cord has stopped. Never from a callback.
 */
void
iproto_client_delete(struct iproto_client *c);

/**
 * Connect to "host:port" (without blocking; the outcome arrives as
 * on_connect or on_close). `net` is this connection's simulated network
 * (NULL: the runtime's default; ignored on threads). Once per client.
 * Owner cord. 0, or -1 + diag (bad address, OOM, already connected).
 */
int
iproto_client_connect(struct iproto_client *c, const char *addr,
		      const struct rt_net_opts *net);

/*
 * Requests. Each encodes one packet with the next sync (1, 2, ...),
 * registers `h` (NULL: replies go to on_orphan) and queues the bytes; they
 * are written at once unless the client is corked or still waiting for the
 * greeting. Returns the sync, or 0 + diag (OOM, connection closed). MsgPack
 * `args`/`key` must be one array each, copied. Owner cord. O(packet).
 */
uint64_t
iproto_client_ping(struct iproto_client *c,
		   const struct iproto_client_handler *h);

uint64_t
iproto_client_call(struct iproto_client *c, const char *name,
		   uint32_t name_len, const char *args, const char *args_end,
		   const struct iproto_client_handler *h);

/** The same as iproto_client_call, as the old CALL_16 (net.box call_16). */
uint64_t
iproto_client_call_16(struct iproto_client *c, const char *name,
		      uint32_t name_len, const char *args,
		      const char *args_end,
		      const struct iproto_client_handler *h);

uint64_t
iproto_client_eval(struct iproto_client *c, const char *expr,
		   uint32_t expr_len, const char *args, const char *args_end,
		   const struct iproto_client_handler *h);

uint64_t
iproto_client_select(struct iproto_client *c, uint32_t space_id,
		     uint32_t index_id, uint32_t iterator, uint32_t offset,
		     uint32_t limit, const char *key, const char *key_end,
		     const struct iproto_client_handler *h);

/** AUTH with a ready chap-sha1 scramble (the caller computes it). */
uint64_t
iproto_client_auth(struct iproto_client *c, const char *user,
		   uint32_t user_len, const char *scramble,
		   uint32_t scramble_len,
		   const struct iproto_client_handler *h);

/**
 * Queue raw bytes as they are (any content, even garbage). Replies they
 * cause are routed by their sync like any other: register a handler for a
 * sync the bytes carry with iproto_client_expect(). 0 or -1 + diag.
 */
int
iproto_client_send_raw(struct iproto_client *c, const char *data, size_t len);

/**
 * Route replies with `sync` to `h` (for raw bytes). The client's own sync
 * counter is not changed. 0 or -1 + diag (OOM).
 */
int
iproto_client_expect(struct iproto_client *c, uint64_t sync,
		     const struct iproto_client_handler *h);

/**
 * A pipeline: between cork and uncork, requests are only queued; uncork
 * writes them all with one writev (as much as the socket takes). Owner
 * cord.
 */
void
iproto_client_cork(struct iproto_client *c);

void
iproto_client_uncork(struct iproto_client *c);

/**
 * A slow consumer: stop reading the socket and delivering replies already
 * buffered; resume does both again (buffered replies first). Owner cord;
 * callbacks may call them.
 */
void
iproto_client_pause_reading(struct iproto_client *c);

void
iproto_client_resume_reading(struct iproto_client *c);

/**
 * Close the connection now: `reset` drops unsent data and makes the peer
 * see ECONNRESET, otherwise the peer reads what was written, then EOF.
 * Waiting requests get ER_NO_CONNECTION, then on_close(NULL). Does nothing
 * if not connected. Owner cord; callbacks may call it.
 */
void
iproto_client_disconnect(struct iproto_client *c, bool reset);

/** Connected (greeting decoded) and not closed. */
bool
iproto_client_is_connected(const struct iproto_client *c);

/** Requests sent and not yet answered. */
size_t
iproto_client_n_pending(const struct iproto_client *c);

/** Bytes queued and not yet accepted by the socket. */
size_t
iproto_client_n_unsent(const struct iproto_client *c);

void
iproto_client_stats(const struct iproto_client *c,
		    struct iproto_client_stats *stats);

#endif /* KHARON_CLIENT_IPROTO_CLIENT_H */
