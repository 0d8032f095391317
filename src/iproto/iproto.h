/*
 * iproto.h — the server: one TX cord and N iproto (network) cords speaking
 * Tarantool 2.6's binary protocol, on whichever runtime it is given.
 *
 *      clients ═══TCP═══ net0 ┐                 ┌ tx: sessions, tasks,
 *      clients ═══TCP═══ net1 ┼══ cbus pipes ══─┤     procedures, obufs,
 *                              ┘  (the river)    └     Kharon's home bank
 *
 * `kharon serve` runs it on real threads; scenarios and tests run the very
 * same code on the simulator. DESIGN.md §6–7; lessons/en/01-two-worlds.md.
 */
#ifndef KHARON_IPROTO_IPROTO_H
#define KHARON_IPROTO_IPROTO_H

#include <stddef.h>
#include <stdint.h>

struct rt;
struct iproto_server;

enum push_mode {
	/** One Kharon per connection plus the pending flag (faithful). */
	PUSH_MODE_KHARON,
	/** A fresh cbus message per push: what Kharon avoids. */
	PUSH_MODE_PER_PUSH,
};

struct iproto_opts {
	/** "host:port"; port 0 picks a free one (iproto_server_port). */
	char listen[64];
	/** Network cords: net0, net1, ... (Tarantool 2.8's iproto_threads). */
	int iproto_threads;
	enum push_mode push_mode;
	/** Start size of each input buffer (Tarantool's readahead, 16320). */
	size_t readahead;
	/** Messages in flight per network cord before input parks (768). */
	int net_msg_max;
	/**
	 * Hard bound on the output a connection holds (written by TX, not yet
	 * reported flushed): output that would go past it is refused and the
	 * connection closed (Redis's client-output-buffer-limit); 0 = none.
	 */
	size_t obuf_limit;
	/**
	 * Soft bound: close only if the held output stays above
	 * obuf_soft_limit for obuf_soft_ns (Redis's soft limit); 0 = none.
	 */
	size_t obuf_soft_limit;
	uint64_t obuf_soft_ns;
	/** Largest packet accepted, checked before allocating (16 MiB). */
	size_t max_packet;
	/** Start size of an output buffer chunk (default: readahead). */
	size_t obuf_chunk;
};

/** The defaults above. */
void
iproto_opts_default(struct iproto_opts *opts);

/** Counters, summed over the network cords; read after rt_run. */
struct iproto_stats {
	uint64_t n_connections;
	uint64_t n_requests;
	uint64_t n_pushes;
	/** Kharon trips from TX (or push messages in per_push mode). */
	uint64_t n_push_msgs;
	uint64_t n_writev;
	uint64_t n_obuf_limit_closes;
	uint64_t n_input_stops;
	uint64_t n_net_msg_max_parks;
};

/**
 * Create the server's cords and endpoints on `rt` and bind the listening
 * address (nothing runs until iproto_server_start). NULL + diag.
 * Main thread only.
 */
struct iproto_server *
iproto_server_new(struct rt *rt, const struct iproto_opts *opts);

/** Start the cords. 0 or -1 + diag. Main thread. */
int
iproto_server_start(struct iproto_server *server);

/**
 * Graceful stop, from any thread: stop accepting, stop reading, let what
 * is in flight finish and flush. After `grace_ns` every connection still
 * open is closed and every call still waiting is cut short with an error
 * (so a sleep of an hour does not hold the server). Then every cord of the
 * server stops and rt_run returns.
 */
void
iproto_server_shutdown(struct iproto_server *server, uint64_t grace_ns);

/** The listening port. */
int
iproto_server_port(const struct iproto_server *server);

/**
 * From TX, simulator only (what-if `set_option`): net_msg_max from now on,
 * and the pipes' max_input with it — Tarantool's iproto_set_msg_max, which
 * tells the network threads with a cbus_call; here every cord shares the
 * OS thread, so it is set in place. Parked connections resume as messages
 * in flight are freed.
 */
void
iproto_server_set_net_msg_max(struct iproto_server *server, int n);

/**
 * From TX, simulator only (what-if `set_option`): readahead from now on —
 * Tarantool's box.cfg.readahead, a plain global read when an input buffer
 * is created or reset.
 */
void
iproto_server_set_readahead(struct iproto_server *server, size_t n);

/** The cord named `name` ("tx", "net0", ...), NULL if there is none. */
struct rt_cord *
iproto_server_cord(struct iproto_server *server, const char *name);

void
iproto_server_stats(const struct iproto_server *server,
		    struct iproto_stats *stats);

/** Free everything, after rt_run has returned. */
void
iproto_server_delete(struct iproto_server *server);

#endif /* KHARON_IPROTO_IPROTO_H */
