/*
 * sim_client.h — a raw iproto client for server tests: sends prepared
 * bytes, records every byte it receives, on any runtime (the tests use the
 * simulator). Not a library: src/client/ is the real client.
 */
#ifndef KHARON_TESTS_SIM_CLIENT_H
#define KHARON_TESTS_SIM_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rt;
struct rt_cord;
struct iproto_opts;
struct iproto_server;
struct rt_sock;
struct rt_timer;

struct sim_client {
	struct rt *rt;
	struct rt_cord *cord;
	struct rt_sock *sock;
	char addr[64];
	/** Bytes to send, and how many went out. */
	char *out;
	size_t out_len, out_sent;
	/** Everything received (greeting included). */
	char *in;
	size_t in_len, in_cap;
	bool is_eof;
	/** A slow consumer: never read (only write). */
	bool is_not_reading;
	/** Close the socket `close_after_ns` after connecting (0: never). */
	uint64_t close_after_ns;
	bool close_reset;
	struct rt_timer *close_timer;
};

/** A decoded server packet (copied). */
struct sim_reply {
	uint32_t code;
	uint64_t sync;
	/** The DATA array as MsgPack, or the error message; owned. */
	char *data;
	size_t data_len;
	char *error;
};

/** Create the client cord `name` on `rt` (not yet started). */
void
sim_client_create(struct sim_client *c, struct rt *rt, const char *name,
		  const char *addr);

/** Append request bytes to send once connected. */
void
sim_client_send(struct sim_client *c, const char *data, size_t len);

/** Start the cord: connect, send, read until EOF. */
void
sim_client_start(struct sim_client *c);

/** Close the socket now if still open (call between runs). */
void
sim_client_close(struct sim_client *c);

/**
 * Decode what was received after the 128-byte greeting into `replies`
 * (up to max). Returns the count, or -1 if the stream is malformed.
 */
int
sim_client_replies(const struct sim_client *c, struct sim_reply *replies,
		   int max);

void
sim_reply_destroy(struct sim_reply *r);

void
sim_client_destroy(struct sim_client *c);

/** Append a CALL of `name` with MsgPack args array [args, args_end). */
void
sim_client_call(struct sim_client *c, uint64_t sync, const char *name,
		const char *args, const char *args_end);

void
sim_client_ping(struct sim_client *c, uint64_t sync);

/**
 * A kharon server on a fresh simulator seeded with `seed`, listening on a
 * free port (`opts` NULL: the defaults); its address goes to `addr`
 * (64 bytes). The tests' common set-up.
 */
void
sim_server_up(struct rt **rt, struct iproto_server **server, char *addr,
	      const struct iproto_opts *opts, uint64_t seed);

/**
 * Stop the server gracefully, free it and the runtime, and assert that no
 * memory block allocated since `mem_start` is left.
 */
void
sim_server_down(struct rt *rt, struct iproto_server *server,
		int64_t mem_start);

#endif
