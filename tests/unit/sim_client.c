/*
 * sim_client.c — see sim_client.h.
 */
#include "sim_client.h"

#include <criterion/criterion.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "iproto/iproto.h"
#include "proto/greeting.h"
#include "proto/mp.h"
#include "proto/xrow.h"
#include "rt/rt.h"

static void
grow(char **buf, size_t *cap, size_t need)
{
	if (need <= *cap)
		return;
	size_t cap2 = *cap != 0 ? *cap : 4096;
	while (cap2 < need)
		cap2 *= 2;
	*buf = realloc(*buf, cap2);
	*cap = cap2;
}

void
sim_client_create(struct sim_client *c, struct rt *rt, const char *name,
		  const char *addr)
{
	memset(c, 0, sizeof(*c));
	c->rt = rt;
	c->cord = rt_cord_new(rt, name);
	strncpy(c->addr, addr, sizeof(c->addr) - 1);
}

void
sim_client_send(struct sim_client *c, const char *data, size_t len)
{
	c->out = realloc(c->out, c->out_len + len);
	memcpy(c->out + c->out_len, data, len);
	c->out_len += len;
}

static void
sim_client_on_io(struct rt_sock *s, int events, void *arg)
{
	struct sim_client *c = arg;
	(void)events;
	if (c->out_sent < c->out_len) {
		struct iovec iov = { c->out + c->out_sent, c->out_len - c->out_sent };
		ssize_t n = rt_sock_writev(s, &iov, 1);
		if (n > 0)
			c->out_sent += (size_t)n;
	}
	if (c->is_not_reading) {
		rt_sock_watch(s, c->out_sent < c->out_len ? RT_WRITE : 0,
			      sim_client_on_io, c);
		return;
	}
	for (;;) {
		grow(&c->in, &c->in_cap, c->in_len + 65536);
		ssize_t n = rt_sock_read(s, c->in + c->in_len, 65536);
		if (n > 0) {
			c->in_len += (size_t)n;
			continue;
		}
		if (n == 0 || errno != EAGAIN) {
			c->is_eof = true;
			rt_sock_close(s, false);
			c->sock = NULL;
			return;
		}
		break;
	}
	rt_sock_watch(s, RT_READ | (c->out_sent < c->out_len ? RT_WRITE : 0),
		      sim_client_on_io, c);
}

static void
sim_client_on_close_timer(void *arg)
{
	struct sim_client *c = arg;
	if (c->sock != NULL) {
		rt_sock_close(c->sock, c->close_reset);
		c->sock = NULL;
	}
}

static void
sim_client_start_f(void *arg)
{
	struct sim_client *c = arg;
	c->sock = rt_connect(c->rt, c->addr, NULL);
	if (c->sock == NULL) {
		c->is_eof = true;
		return;
	}
	rt_sock_watch(c->sock, RT_READ | RT_WRITE, sim_client_on_io, c);
	if (c->close_after_ns != 0) {
		c->close_timer = rt_timer_new(c->cord, sim_client_on_close_timer, c);
		rt_timer_start(c->close_timer, c->close_after_ns);
	}
}

void
sim_client_start(struct sim_client *c)
{
	rt_cord_start(c->cord, sim_client_start_f, c);
}

void
sim_client_close(struct sim_client *c)
{
	if (c->sock != NULL) {
		rt_sock_close(c->sock, false);
		c->sock = NULL;
	}
}

int
sim_client_replies(const struct sim_client *c, struct sim_reply *replies,
		   int max)
{
	if (c->in_len < GREETING_SIZE)
		return c->in_len == 0 ? 0 : -1;
	const char *p = c->in + GREETING_SIZE;
	const char *end = c->in + c->in_len;
	int n = 0;
	while (p < end && n < max) {
		size_t len;
		if (iproto_frame(p, end, 1 << 30, &len) != IPROTO_FRAME_OK)
			return -1;
		struct iproto_response resp;
		size_t prefix = mp_uint_len(*p);
		if (xrow_decode_response(&resp, p + prefix, p + len) != 0)
			return -1;
		struct sim_reply *r = &replies[n++];
		memset(r, 0, sizeof(*r));
		r->code = resp.code;
		r->sync = resp.sync;
		if (resp.data != NULL) {
			r->data_len = (size_t)(resp.data_end - resp.data);
			r->data = malloc(r->data_len);
			memcpy(r->data, resp.data, r->data_len);
		}
		if (resp.error_msg != NULL)
			r->error = strndup(resp.error_msg, resp.error_msg_len);
		p += len;
	}
	return n;
}

void
sim_reply_destroy(struct sim_reply *r)
{
	free(r->data);
	free(r->error);
}

void
sim_client_destroy(struct sim_client *c)
{
	sim_client_close(c);
	rt_timer_delete(c->close_timer);
	free(c->out);
	free(c->in);
}

void
sim_client_call(struct sim_client *c, uint64_t sync, const char *name,
		const char *args, const char *args_end)
{
	size_t len = xrow_encode_call(NULL, 0, sync, XROW_ENC_NETBOX, name,
				      (uint32_t)strlen(name), args, args_end);
	char *buf = malloc(len);
	xrow_encode_call(buf, len, sync, XROW_ENC_NETBOX, name,
			 (uint32_t)strlen(name), args, args_end);
	sim_client_send(c, buf, len);
	free(buf);
}

void
sim_client_ping(struct sim_client *c, uint64_t sync)
{
	char buf[32];
	size_t len = xrow_encode_ping(buf, sizeof(buf), sync, XROW_ENC_NETBOX);
	sim_client_send(c, buf, len);
}

void
sim_server_up(struct rt **rt, struct iproto_server **server, char *addr,
	      const struct iproto_opts *custom, uint64_t seed)
{
	struct rt_sim_opts sim = { .seed = seed };
	*rt = rt_sim_new(&sim);
	cr_assert_not_null(*rt);
	struct iproto_opts opts;
	if (custom != NULL)
		opts = *custom;
	else
		iproto_opts_default(&opts);
	strcpy(opts.listen, "127.0.0.1:0");
	*server = iproto_server_new(*rt, &opts);
	cr_assert_not_null(*server);
	snprintf(addr, 64, "127.0.0.1:%d", iproto_server_port(*server));
	cr_assert_eq(iproto_server_start(*server), 0);
}

void
sim_server_down(struct rt *rt, struct iproto_server *server, int64_t mem_start)
{
	iproto_server_shutdown(server, 1000000000);
	rt_run(rt);
	iproto_server_delete(server);
	rt_delete(rt);
	cr_assert_eq(mem_live(), mem_start, "leaked %lld blocks",
		     (long long)(mem_live() - mem_start));
}
