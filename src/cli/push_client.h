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

/**
 * Start a cord "client0" on `rt` that connects to `addr`, calls
 * push(pushes, a `payload`-byte string) and counts the chunks until the
 * final reply. NULL + diag on failure. Main thread.
 */
struct push_client *
push_client_start(struct rt *rt, const char *addr, uint64_t pushes,
		  size_t payload);

/** The final reply (or an error) has come. Any thread. */
bool
push_client_is_done(struct push_client *c);

/**
 * Chunks received and their rate, from sending the request to the final
 * reply; false if the stream ended badly (error reply, closed, garbage).
 * After push_client_is_done.
 */
bool
push_client_result(const struct push_client *c, double *pushes_per_s,
		   uint64_t *n_chunks);

/** Free it; its cord must have stopped (rt_run returned). */
void
push_client_delete(struct push_client *c);

#endif /* KHARON_CLI_PUSH_CLIENT_H */
