/*
 * bench_server.h — the server a `kharon bench` client measures: with
 * --target another process (kharon serve, or Tarantool with procs.lua),
 * else kharon's own server started in this process, on real threads and a
 * free loopback port. bench_call.c and bench_push.c share it, so both start,
 * stop and report their server the same way.
 *
 *   bench_server_start  → the client runs against b.addr on b.rt →
 *   bench_server_finish (graceful stop, every cord joined) → read results →
 *   bench_server_delete
 */
#ifndef KHARON_CLI_BENCH_SERVER_H
#define KHARON_CLI_BENCH_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "iproto/iproto.h"

struct rt;

struct bench_server {
	/** A real-threads runtime: the server's cords and the client's. */
	struct rt *rt;
	/** NULL with --target. */
	struct iproto_server *server;
	/** Where the client connects. */
	char addr[80];
};

/**
 * The runtime, and unless `target` is given, a server with `opts` (its
 * listen address is replaced by a free loopback port). 0, or -1 + diag
 * with nothing left running.
 */
int
bench_server_start(struct bench_server *b, const char *target,
		   const struct iproto_opts *opts);

/**
 * Stop the server (a second of grace) and wait for every cord — the
 * client's too, which must have finished or been stopped. `graceful` false
 * when the client never started: stop at once.
 */
void
bench_server_finish(struct bench_server *b, bool graceful);

/**
 * Print "NAME{LABELS} VALUE" for the server's writev calls per unit of
 * work (`per`: calls, pushes), the one-write-per-batch rule in figures
 * (net_feed_output). Nothing with --target.
 */
void
bench_server_print_writev(const struct bench_server *b, const char *name,
			  const char *labels, uint64_t per);

void
bench_server_delete(struct bench_server *b);

/**
 * Something failed before the client ran: stop at once and free, keeping
 * the calling thread's diag for the error line.
 */
void
bench_server_abort(struct bench_server *b);

#endif /* KHARON_CLI_BENCH_SERVER_H */
