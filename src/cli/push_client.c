/*
 * push_client.c — the benchmarks' client: connections that call a pushing
 * procedure and count the chunks as fast as they come.
 *
 * It runs on a cord of its own (any runtime), all connections on it. Each
 * connection reads with one big buffer it slides forward as packets are
 * consumed (so a million 1 KiB pushes need no more memory than a few
 * packets), and on the final reply calls again while the run lasts. The
 * stream is timed from the first request to the last final reply. The same
 * client measures kharon (both push modes) and a real Tarantool, so the
 * figures compare like with like.
 */
#include "cli/push_client.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "base/diag.h"
#include "base/mem.h"
#include "proto/errcode.h"
#include "proto/greeting.h"
#include "proto/iproto_constants.h"
#include "proto/mp.h"
#include "proto/xrow.h"
#include "rt/rt.h"

enum { PUSH_CLIENT_READ = 256 * 1024, PUSH_CLIENT_CONNS_MAX = 1000 };

struct push_conn {
	struct push_client *client;
	struct rt_sock *sock;
	size_t out_sent;
	char *in;
	size_t in_len, in_cap;
	bool has_greeting;
	bool is_done;
};

struct push_client {
	struct rt *rt;
	struct rt_cord *cord;
	char addr[80];
	struct push_client_opts opts;
	/** The request, the same for every call (sync 1). */
	char *out;
	size_t out_len;
	struct push_conn *conns;
	int n_done;
	uint64_t n_chunks;
	uint64_t n_calls;
	uint64_t t_start, t_end;
	bool is_ok;
	atomic_bool is_done;
};

static void
push_conn_finish(struct push_conn *pc, bool is_ok)
{
	struct push_client *c = pc->client;
	if (pc->is_done)
		return;
	pc->is_done = true;
	if (!is_ok)
		c->is_ok = false;
	if (pc->sock != NULL)
		rt_sock_close(pc->sock, false);
	pc->sock = NULL;
	if (++c->n_done < c->opts.conns)
		return;
	c->t_end = rt_now(c->rt);
	atomic_store(&c->is_done, true);
	rt_cord_stop(c->cord);
}

/**
 * Consume whole packets: 1 at a final reply after which no call follows,
 * -1 on garbage or an error reply, 0 else (a new call may have been sent).
 */
static int
push_conn_parse(struct push_conn *pc)
{
	struct push_client *c = pc->client;
	size_t pos = 0;
	if (!pc->has_greeting) {
		if (pc->in_len < GREETING_SIZE)
			return 0;
		pc->has_greeting = true;
		pos = GREETING_SIZE;
	}
	int rc = 0;
	while (pos < pc->in_len) {
		const char *p = pc->in + pos, *end = pc->in + pc->in_len;
		size_t len;
		enum iproto_frame_status st = iproto_frame(p, end, 1 << 30, &len);
		if (st == IPROTO_FRAME_NEED_MORE)
			break;
		struct iproto_response resp;
		if (st != IPROTO_FRAME_OK ||
		    xrow_decode_response(&resp, p + mp_uint_len(*p),
					 p + len) != 0) {
			rc = -1;
			break;
		}
		pos += len;
		if (resp.code == IPROTO_CHUNK) {
			c->n_chunks++;
			continue;
		}
		if (resp.code != IPROTO_OK) {
			rc = -1;
			break;
		}
		c->n_calls++;
		if (c->opts.run_ns == 0 ||
		    rt_now(c->rt) - c->t_start >= c->opts.run_ns) {
			rc = 1;
			break;
		}
		pc->out_sent = 0; /* call again */
	}
	/* Slide what is left to the front: memory stays a few packets. */
	memmove(pc->in, pc->in + pos, pc->in_len - pos);
	pc->in_len -= pos;
	return rc;
}

static void
push_conn_on_io(struct rt_sock *s, int events, void *arg)
{
	struct push_conn *pc = arg;
	struct push_client *c = pc->client;
	(void)events;
	for (;;) {
		if (pc->has_greeting && pc->out_sent < c->out_len) {
			struct iovec iov = { c->out + pc->out_sent,
					     c->out_len - pc->out_sent };
			ssize_t n = rt_sock_writev(s, &iov, 1);
			if (n > 0)
				pc->out_sent += (size_t)n;
		}
		if (pc->in_cap - pc->in_len < PUSH_CLIENT_READ) {
			size_t cap = pc->in_len + 2 * PUSH_CLIENT_READ;
			char *p = mem_realloc(pc->in, cap);
			if (p == NULL) {
				push_conn_finish(pc, false);
				return;
			}
			pc->in = p;
			pc->in_cap = cap;
		}
		ssize_t n = rt_sock_read(s, pc->in + pc->in_len,
					 PUSH_CLIENT_READ);
		if (n > 0) {
			pc->in_len += (size_t)n;
			int rc = push_conn_parse(pc);
			if (rc != 0) {
				push_conn_finish(pc, rc > 0);
				return;
			}
			continue;
		}
		if (n == 0 || errno != EAGAIN) {
			push_conn_finish(pc, false);
			return;
		}
		break;
	}
	bool want_write = pc->has_greeting && pc->out_sent < c->out_len;
	rt_sock_watch(s, RT_READ | (want_write ? RT_WRITE : 0),
		      push_conn_on_io, pc);
}

static void
push_client_start_f(void *arg)
{
	struct push_client *c = arg;
	c->t_start = rt_now(c->rt);
	for (int i = 0; i < c->opts.conns; i++) {
		struct push_conn *pc = &c->conns[i];
		pc->sock = rt_connect(c->rt, c->addr, NULL);
		if (pc->sock == NULL) {
			push_conn_finish(pc, false);
			continue;
		}
		rt_sock_watch(pc->sock, RT_READ, push_conn_on_io, pc);
	}
}

struct push_client *
push_client_start(struct rt *rt, const char *addr,
		  const struct push_client_opts *opts)
{
	if (opts->conns < 1 || opts->conns > PUSH_CLIENT_CONNS_MAX) {
		diag_set(ER_PROC_C, "ClientError", "connections: 1..%d",
			 PUSH_CLIENT_CONNS_MAX);
		return NULL;
	}
	struct push_client *c = mem_zalloc(sizeof(*c));
	if (c == NULL) {
		diag_set_oom(sizeof(*c), "push client");
		return NULL;
	}
	c->rt = rt;
	c->opts = *opts;
	c->is_ok = true;
	snprintf(c->addr, sizeof(c->addr), "%s", addr);
	c->conns = mem_zalloc(sizeof(*c->conns) * (size_t)opts->conns);
	if (c->conns == NULL) {
		diag_set_oom(sizeof(*c->conns) * (size_t)opts->conns, "conns");
		goto fail;
	}
	for (int i = 0; i < opts->conns; i++)
		c->conns[i].client = c;
	/* proc(n, "xxx...") */
	size_t args_size = 32 + opts->payload;
	char *args = mem_alloc(args_size);
	if (args == NULL) {
		diag_set_oom(args_size, "push args");
		goto fail;
	}
	char *a = mp_encode_array(args, 2);
	a = mp_encode_uint(a, opts->pushes);
	a = mp_encode_strl(a, (uint32_t)opts->payload);
	memset(a, 'x', opts->payload);
	a += opts->payload;
	uint32_t name_len = (uint32_t)strlen(opts->proc);
	c->out_len = xrow_encode_call(NULL, 0, 1, XROW_ENC_NETBOX, opts->proc,
				      name_len, args, a);
	c->out = mem_alloc(c->out_len);
	if (c->out == NULL) {
		mem_free(args);
		diag_set_oom(c->out_len, "push request");
		goto fail;
	}
	xrow_encode_call(c->out, c->out_len, 1, XROW_ENC_NETBOX, opts->proc,
			 name_len, args, a);
	mem_free(args);
	c->cord = rt_cord_new(rt, "client0");
	if (c->cord == NULL || rt_cord_start(c->cord, push_client_start_f, c) != 0)
		goto fail;
	return c;
fail:
	mem_free(c->out);
	mem_free(c->conns);
	mem_free(c);
	return NULL;
}

bool
push_client_is_done(struct push_client *c)
{
	return atomic_load(&c->is_done);
}

bool
push_client_result(const struct push_client *c, double *pushes_per_s,
		   uint64_t *n_chunks, uint64_t *n_calls)
{
	*n_chunks = c->n_chunks;
	*n_calls = c->n_calls;
	*pushes_per_s = (double)c->n_chunks * 1e9 /
			(double)(c->t_end - c->t_start + 1);
	return c->is_ok;
}

void
push_client_delete(struct push_client *c)
{
	for (int i = 0; i < c->opts.conns; i++) {
		if (c->conns[i].sock != NULL)
			rt_sock_close(c->conns[i].sock, false);
		mem_free(c->conns[i].in);
	}
	mem_free(c->conns);
	mem_free(c->out);
	mem_free(c);
}
