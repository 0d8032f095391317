/*
 * push_client.h — the benchmarks' push-counting client (push_client.c):
 * `kharon bench push` and `kharon trace bench` measure with it.
 */
#ifndef KHARON_CLI_PUSH_CLIENT_H
#define KHARON_CLI_PUSH_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rt;
struct push_client;

struct push_client_opts {
	/** The procedure: "push" (no yield) or "push_stream". */
	const char *proc;
	/** Pushes per call, and the bytes of the string pushed. */
	uint64_t pushes;
	size_t payload;
	/** Connections, each calling in turn. */
	int conns;
	/**
	 * 0: each connection makes one call. Else each connection calls
	 * again after every final reply until this much time has passed.
	 */
	uint64_t run_ns;
};

/**
 * Start a cord "client0" on `rt` that opens opts->conns connections to
 * `addr`; each calls proc(pushes, a `payload`-byte string) and counts the
 * chunks until the final reply, again while run_ns lasts. NULL + diag on
 * failure. Main thread.
 */
struct push_client *
push_client_start(struct rt *rt, const char *addr,
		  const struct push_client_opts *opts);

/** Every connection has had its last final reply (or an error). Any thread. */
bool
push_client_is_done(struct push_client *c);

/**
 * Chunks received (all connections) and their rate, from the first request
 * to the last final reply; `n_calls` calls completed. False if a stream
 * ended badly (error reply, closed, garbage). After push_client_is_done.
 */
bool
push_client_result(const struct push_client *c, double *pushes_per_s,
		   uint64_t *n_chunks, uint64_t *n_calls);

/** Free it; its cord must have stopped (rt_run returned). */
void
push_client_delete(struct push_client *c);

#endif /* KHARON_CLI_PUSH_CLIENT_H */
