/*
 * iproto_stress.c — the server on real threads under load, for TSan.
 *
 * Two network cords and a TX cord serve four client cords. Each client
 * makes ROUNDS connections; on each it pipelines push(100), push_every(3,
 * 1 ms), a ping and echo, and either reads all 107 replies or — every
 * third round — hangs up in the middle of the pushes (Kharon and the
 * disconnect race, Tarantool gh-6520, fixed in 2.8.3 and not in 2.6). This crosses every cbus path of the server:
 * requests, replies, Kharon trips, discard_input, disconnect and destroy,
 * output buffers read by net while TX appends.
 *
 * Pass: every full round got exactly its replies, the server stopped
 * gracefully, nothing leaked, and (under `make tsan`) no race report.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "iproto/iproto.h"
#include "proto/greeting.h"
#include "proto/mp.h"
#include "proto/xrow.h"
#include "rt/rt.h"

enum { N_CLIENTS = 4, ROUNDS = 60, REPLIES_PER_ROUND = 101 + 4 + 1 + 1 };

struct client {
	struct rt_cord *cord;
	struct rt_sock *sock;
	struct rt_timer *timer;
	int round;
	char *in;
	size_t in_len, in_cap;
	size_t parsed;
	int n_replies;
	int n_full_rounds;
	int n_bad;
	char request[256];
	size_t request_len, sent;
};

static struct rt *rt;
static struct iproto_server *server;
static char addr[64];
static struct client clients[N_CLIENTS];
static atomic_int n_done;

static void client_connect(struct client *c);

static void
client_finish_round(struct client *c, bool full)
{
	if (full) {
		if (c->n_replies == REPLIES_PER_ROUND)
			c->n_full_rounds++;
		else
			c->n_bad++;
	}
	rt_sock_close(c->sock, false);
	c->sock = NULL;
	if (++c->round < ROUNDS) {
		client_connect(c);
		return;
	}
	if (atomic_fetch_add(&n_done, 1) + 1 == N_CLIENTS) {
		iproto_server_shutdown(server, 2ULL * 1000 * 1000 * 1000);
		for (int i = 0; i < N_CLIENTS; i++)
			rt_cord_stop(clients[i].cord);
	}
}

/** Count complete packets after the greeting. */
static void
client_parse(struct client *c)
{
	if (c->parsed == 0 && c->in_len >= GREETING_SIZE)
		c->parsed = GREETING_SIZE;
	while (c->parsed > 0 && c->parsed < c->in_len) {
		size_t len;
		const char *p = c->in + c->parsed;
		if (iproto_frame(p, c->in + c->in_len, 1 << 30, &len) !=
		    IPROTO_FRAME_OK)
			break;
		c->parsed += len;
		c->n_replies++;
	}
}

static void
client_on_io(struct rt_sock *s, int events, void *arg)
{
	struct client *c = arg;
	(void)events;
	if (c->sent < c->request_len) {
		struct iovec iov = { c->request + c->sent, c->request_len - c->sent };
		ssize_t n = rt_sock_writev(s, &iov, 1);
		if (n > 0)
			c->sent += (size_t)n;
	}
	for (;;) {
		if (c->in_cap - c->in_len < 65536) {
			c->in_cap = c->in_cap * 2 + 65536;
			c->in = realloc(c->in, c->in_cap);
		}
		ssize_t n = rt_sock_read(s, c->in + c->in_len, 65536);
		if (n > 0) {
			c->in_len += (size_t)n;
			continue;
		}
		if (n == 0 || errno != EAGAIN) {
			client_finish_round(c, true);
			return;
		}
		break;
	}
	client_parse(c);
	bool hang_up = c->round % 3 == 2 && c->n_replies >= 10;
	if (c->n_replies == REPLIES_PER_ROUND || hang_up) {
		client_finish_round(c, !hang_up);
		return;
	}
	rt_sock_watch(s, RT_READ | (c->sent < c->request_len ? RT_WRITE : 0),
		      client_on_io, c);
}

static void
client_connect(struct client *c)
{
	c->in_len = c->parsed = c->sent = 0;
	c->n_replies = 0;
	c->sock = rt_connect(rt, addr, NULL);
	if (c->sock == NULL) {
		fprintf(stderr, "connect: failed\n");
		abort();
	}
	rt_sock_watch(c->sock, RT_READ | RT_WRITE, client_on_io, c);
}

static size_t
build_requests(char *out, size_t size)
{
	char args[64];
	size_t n = 0;
	char *p = mp_encode_array(args, 2);
	p = mp_encode_uint(p, 100);
	p = mp_encode_str(p, "x", 1);
	n += xrow_encode_call(out + n, size - n, 1, XROW_ENC_NETBOX, "push", 4,
			      args, p);
	p = mp_encode_array(args, 3);
	p = mp_encode_uint(p, 3);
	p = mp_encode_uint(p, 1);
	p = mp_encode_str(p, "y", 1);
	n += xrow_encode_call(out + n, size - n, 2, XROW_ENC_NETBOX,
			      "push_every", 10, args, p);
	n += xrow_encode_ping(out + n, size - n, 3, XROW_ENC_NETBOX);
	p = mp_encode_array(args, 1);
	p = mp_encode_str(p, "hello", 5);
	n += xrow_encode_call(out + n, size - n, 4, XROW_ENC_NETBOX, "echo", 4,
			      args, p);
	return n;
}

static void
client_start(void *arg)
{
	client_connect(arg);
}

int
main(void)
{
	rt = rt_thread_new();
	struct iproto_opts opts;
	iproto_opts_default(&opts);
	strcpy(opts.listen, "127.0.0.1:0");
	opts.iproto_threads = 2;
	server = iproto_server_new(rt, &opts);
	if (server == NULL || iproto_server_start(server) != 0)
		return 1;
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", iproto_server_port(server));
	for (int i = 0; i < N_CLIENTS; i++) {
		char name[32];
		snprintf(name, sizeof(name), "client%d", i);
		clients[i].cord = rt_cord_new(rt, name);
		clients[i].request_len = build_requests(clients[i].request,
							sizeof(clients[i].request));
	}
	for (int i = 0; i < N_CLIENTS; i++)
		rt_cord_start(clients[i].cord, client_start, &clients[i]);
	rt_run(rt);
	struct iproto_stats st;
	iproto_server_stats(server, &st);
	iproto_server_delete(server);
	rt_delete(rt);
	int full = 0, bad = 0;
	for (int i = 0; i < N_CLIENTS; i++) {
		full += clients[i].n_full_rounds;
		bad += clients[i].n_bad;
		free(clients[i].in);
	}
	int expect_full = N_CLIENTS * (ROUNDS - ROUNDS / 3);
	printf("iproto_stress: %d full rounds (expected %d), %d bad, "
	       "%llu connections, %llu pushes, %llu Kharon trips, "
	       "%lld blocks live\n", full, expect_full, bad,
	       (unsigned long long)st.n_connections,
	       (unsigned long long)st.n_pushes,
	       (unsigned long long)st.n_push_msgs, (long long)mem_live());
	return full == expect_full && bad == 0 && mem_live() == 0 ? 0 : 1;
}
