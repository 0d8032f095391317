/*
 * push_client.c — the benchmarks' client: one connection that calls
 * push(n, payload) once and counts the chunks as fast as they come.
 *
 * It runs on a cord of its own (any runtime), reads with one big buffer it
 * slides forward as packets are consumed (so a million 1 KiB pushes need
 * no more memory than a few packets), and times the stream from the
 * request to the final reply. The same client measures kharon (both push
 * modes) and a real Tarantool, so the figures compare like with like.
 */
#include "cli/push_client.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "base/diag.h"
#include "base/mem.h"
#include "proto/greeting.h"
#include "proto/iproto_constants.h"
#include "proto/mp.h"
#include "proto/xrow.h"
#include "rt/rt.h"

enum { PUSH_CLIENT_READ = 256 * 1024 };

struct push_client {
	struct rt *rt;
	struct rt_cord *cord;
	struct rt_sock *sock;
	char addr[80];
	char *out;
	size_t out_len, out_sent;
	char *in;
	size_t in_len, in_cap;
	bool has_greeting;
	uint64_t n_chunks;
	uint64_t n_bytes;
	uint64_t t_start, t_end;
	bool is_ok;
	atomic_bool is_done;
};

static void
push_client_finish(struct push_client *c, bool is_ok)
{
	c->t_end = rt_now(c->rt);
	c->is_ok = is_ok;
	if (c->sock != NULL)
		rt_sock_close(c->sock, false);
	c->sock = NULL;
	atomic_store(&c->is_done, true);
	rt_cord_stop(c->cord);
}

/** Consume whole packets; 1 at the final reply, -1 on garbage, 0 else. */
static int
push_client_parse(struct push_client *c)
{
	size_t pos = 0;
	if (!c->has_greeting) {
		if (c->in_len < GREETING_SIZE)
			return 0;
		c->has_greeting = true;
		pos = GREETING_SIZE;
	}
	int rc = 0;
	while (pos < c->in_len) {
		const char *p = c->in + pos, *end = c->in + c->in_len;
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
		c->n_bytes += len;
		if (resp.code == IPROTO_CHUNK) {
			c->n_chunks++;
		} else {
			rc = resp.code == IPROTO_OK ? 1 : -1;
			break;
		}
	}
	/* Slide what is left to the front: memory stays a few packets. */
	memmove(c->in, c->in + pos, c->in_len - pos);
	c->in_len -= pos;
	return rc;
}

static void
push_client_on_io(struct rt_sock *s, int events, void *arg)
{
	struct push_client *c = arg;
	(void)events;
	if (c->out_sent < c->out_len) {
		struct iovec iov = { c->out + c->out_sent,
				     c->out_len - c->out_sent };
		ssize_t n = rt_sock_writev(s, &iov, 1);
		if (n > 0)
			c->out_sent += (size_t)n;
	}
	for (;;) {
		if (c->in_cap - c->in_len < PUSH_CLIENT_READ) {
			size_t cap = c->in_len + 2 * PUSH_CLIENT_READ;
			char *p = mem_realloc(c->in, cap);
			if (p == NULL) {
				push_client_finish(c, false);
				return;
			}
			c->in = p;
			c->in_cap = cap;
		}
		ssize_t n = rt_sock_read(s, c->in + c->in_len, PUSH_CLIENT_READ);
		if (n > 0) {
			c->in_len += (size_t)n;
			int rc = push_client_parse(c);
			if (rc != 0) {
				push_client_finish(c, rc > 0);
				return;
			}
			continue;
		}
		if (n == 0 || errno != EAGAIN) {
			push_client_finish(c, false);
			return;
		}
		break;
	}
	rt_sock_watch(s, RT_READ | (c->out_sent < c->out_len ? RT_WRITE : 0),
		      push_client_on_io, c);
}

static void
push_client_start_f(void *arg)
{
	struct push_client *c = arg;
	c->t_start = rt_now(c->rt);
	c->sock = rt_connect(c->rt, c->addr, NULL);
	if (c->sock == NULL) {
		push_client_finish(c, false);
		return;
	}
	rt_sock_watch(c->sock, RT_READ | RT_WRITE, push_client_on_io, c);
}

struct push_client *
push_client_start(struct rt *rt, const char *addr, uint64_t pushes,
		  size_t payload)
{
	struct push_client *c = mem_zalloc(sizeof(*c));
	if (c == NULL) {
		diag_set_oom(sizeof(*c), "push client");
		return NULL;
	}
	c->rt = rt;
	snprintf(c->addr, sizeof(c->addr), "%s", addr);
	/* push(n, "xxx...") */
	size_t args_size = 32 + payload;
	char *args = mem_alloc(args_size);
	if (args == NULL) {
		diag_set_oom(args_size, "push args");
		goto fail;
	}
	char *a = mp_encode_array(args, 2);
	a = mp_encode_uint(a, pushes);
	char *s = mem_alloc(payload + 1);
	if (s == NULL) {
		mem_free(args);
		diag_set_oom(payload + 1, "push payload");
		goto fail;
	}
	memset(s, 'x', payload);
	a = mp_encode_str(a, s, (uint32_t)payload);
	mem_free(s);
	c->out_len = xrow_encode_call(NULL, 0, 1, XROW_ENC_NETBOX, "push", 4,
				      args, a);
	c->out = mem_alloc(c->out_len);
	if (c->out == NULL) {
		mem_free(args);
		diag_set_oom(c->out_len, "push request");
		goto fail;
	}
	xrow_encode_call(c->out, c->out_len, 1, XROW_ENC_NETBOX, "push", 4,
			 args, a);
	mem_free(args);
	c->cord = rt_cord_new(rt, "client0");
	if (c->cord == NULL || rt_cord_start(c->cord, push_client_start_f, c) != 0)
		goto fail;
	return c;
fail:
	mem_free(c->out);
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
		   uint64_t *n_chunks)
{
	*n_chunks = c->n_chunks;
	*pushes_per_s = (double)c->n_chunks * 1e9 /
			(double)(c->t_end - c->t_start + 1);
	return c->is_ok;
}

void
push_client_delete(struct push_client *c)
{
	if (c->sock != NULL)
		rt_sock_close(c->sock, false);
	mem_free(c->in);
	mem_free(c->out);
	mem_free(c);
}
