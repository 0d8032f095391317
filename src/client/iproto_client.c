/*
 * iproto_client.c — the event-driven client core. See iproto_client.h.
 *
 * One readiness callback (client_on_io) does all the I/O: it writes what
 * is queued, reads one chunk into the input buffer, decodes the greeting,
 * then frames, decodes and routes complete packets by sync:
 *
 *   in ibuf: [greeting 128][len|hdr|body][len|hdr|body][len|hd...  (partial)
 *             │             └─ IPROTO_CHUNK → handler.on_push (request stays)
 *             │                IPROTO_OK / error → handler.on_reply (request
 *             │                forgotten)
 *             └─ greeting_decode → on_connect; output starts flowing
 *
 * The input buffer is one ibuf: replies are decoded in place and the
 * pointers handed to callbacks point into it, so nothing reserves in it
 * while a callback runs. The output queue is another ibuf used as a FIFO
 * of bytes: requests are appended at wpos, writev takes from rpos.
 * Lesson: lessons/en/03-request-life.md.
 */
#include "client/iproto_client.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/diag.h"
#include "base/list.h"
#include "base/mem.h"
#include "buf/ibuf.h"
#include "proto/errcode.h"
#include "proto/greeting.h"
#include "proto/iproto_constants.h"
#include "proto/mp.h"
#include "proto/xrow.h"
#include "rt/rt.h"
#include "trace/trace.h"

enum {
	CLIENT_READAHEAD_DEFAULT = 16384,
	CLIENT_ADDR_MAX = 64,
};

enum client_state {
	/** Created; iproto_client_connect not called yet. */
	CLIENT_IDLE,
	/** Socket open, the greeting not complete yet. */
	CLIENT_GREETING,
	CLIENT_CONNECTED,
	CLIENT_CLOSED,
};

/** A request waiting for its final reply. */
struct client_req {
	struct rlist link;
	uint64_t sync;
	struct iproto_client_handler h;
};

struct iproto_client {
	struct rt_cord *cord;
	struct rt_sock *sock;
	struct iproto_client_opts opts;
	struct iproto_client_cbs cbs;
	enum client_state state;
	char addr[CLIENT_ADDR_MAX];
	/** Bytes received, not yet decoded. */
	struct ibuf in;
	/** Bytes queued, not yet accepted by the socket. */
	struct ibuf out;
	/** The sync of the next request. */
	uint64_t next_sync;
	/** struct client_req, in the order sent. */
	struct rlist pending;
	size_t n_pending;
	bool is_corked;
	bool is_paused;
	struct iproto_client_stats stats;
};

/* ------------------------------------------------------------ lifecycle */

struct iproto_client *
iproto_client_new(struct rt_cord *cord, const struct iproto_client_opts *opts,
		  const struct iproto_client_cbs *cbs)
{
	struct iproto_client *c = mem_zalloc(sizeof(*c));
	if (c == NULL) {
		diag_set_oom(sizeof(*c), "struct iproto_client");
		return NULL;
	}
	c->cord = cord;
	if (opts != NULL)
		c->opts = *opts;
	if (c->opts.max_packet == 0)
		c->opts.max_packet = IPROTO_PACKET_MAX_DEFAULT;
	if (c->opts.readahead == 0)
		c->opts.readahead = CLIENT_READAHEAD_DEFAULT;
	if (cbs != NULL)
		c->cbs = *cbs;
	c->state = CLIENT_IDLE;
	c->next_sync = 1;
	ibuf_create(&c->in, c->opts.readahead);
	ibuf_create(&c->out, c->opts.readahead);
	rlist_create(&c->pending);
	return c;
}

static void
client_forget_pending(struct iproto_client *c)
{
	while (!rlist_empty(&c->pending)) {
		struct client_req *r = rlist_first_entry(&c->pending,
							 struct client_req,
							 link);
		rlist_del(&r->link);
		mem_free(r);
	}
	c->n_pending = 0;
}

void
iproto_client_delete(struct iproto_client *c)
{
	if (c == NULL)
		return;
	if (c->sock != NULL)
		rt_sock_close(c->sock, true);
	client_forget_pending(c);
	ibuf_destroy(&c->in);
	ibuf_destroy(&c->out);
	mem_free(c);
}

/* ------------------------------------------------------------- watching */

static void
client_on_io(struct rt_sock *s, int events, void *arg);

/**
 * Watch RT_READ unless paused, RT_WRITE only while there is something to
 * write and the greeting has been read (on the simulator a writable socket
 * with nothing to write would call us in every iteration).
 */
static void
client_update_watch(struct iproto_client *c)
{
	if (c->sock == NULL)
		return;
	int events = 0;
	if (!c->is_paused)
		events |= RT_READ;
	if (c->state == CLIENT_CONNECTED && !c->is_corked &&
	    ibuf_used(&c->out) > 0)
		events |= RT_WRITE;
	rt_sock_watch(c->sock, events, client_on_io, c);
}

/* --------------------------------------------------------------- close */

/**
 * End the connection: close the socket, fail every waiting request with
 * ER_NO_CONNECTION, then on_close(why). `why` NULL = closed by the user.
 */
static void
client_close(struct iproto_client *c, const struct diag *why, bool reset)
{
	if (c->state == CLIENT_CLOSED || c->state == CLIENT_IDLE)
		return;
	struct diag reason;
	if (why != NULL)
		reason = *why;
	if (c->sock != NULL) {
		rt_sock_close(c->sock, reset);
		c->sock = NULL;
	}
	c->state = CLIENT_CLOSED;
	ibuf_reset(&c->in);
	ibuf_reset(&c->out);
	TRACE("client.close", TI("conn", c->opts.id),
	      TI("code", why != NULL ? reason.code : 0), TI("reset", reset),
	      TI("pending", c->n_pending));
	const char *msg = why != NULL ? reason.msg :
			  "Connection closed by the client";
	uint32_t msg_len = (uint32_t)strlen(msg);
	/* Requests leave the list before their callback: it may do anything. */
	while (!rlist_empty(&c->pending)) {
		struct client_req *r = rlist_first_entry(&c->pending,
							 struct client_req,
							 link);
		rlist_del(&r->link);
		c->n_pending--;
		struct iproto_client_handler h = r->h;
		uint64_t sync = r->sync;
		mem_free(r);
		if (h.on_reply != NULL)
			h.on_reply(h.ctx, sync,
				   IPROTO_TYPE_ERROR | ER_NO_CONNECTION, NULL,
				   NULL, msg, msg_len);
	}
	if (c->cbs.on_close != NULL)
		c->cbs.on_close(c->cbs.arg, why != NULL ? &reason : NULL);
}

/** Close because of the error now in diag. */
static void
client_fail(struct iproto_client *c)
{
	struct diag d = *diag_last();
	client_close(c, &d, false);
}

/** Close because a socket call failed with `err`. */
static void
client_fail_errno(struct iproto_client *c, int err)
{
	diag_set(ER_SYSTEM, "SocketError", "%s: %s", c->addr, strerror(err));
	client_fail(c);
}

void
iproto_client_disconnect(struct iproto_client *c, bool reset)
{
	client_close(c, NULL, reset);
}

/* --------------------------------------------------------------- output */

/** Write what is queued, as much as the socket takes. */
static void
client_flush(struct iproto_client *c)
{
	if (c->state != CLIENT_CONNECTED || c->is_corked)
		return;
	while (ibuf_used(&c->out) > 0) {
		size_t offered = ibuf_used(&c->out);
		struct iovec iov = { c->out.rpos, offered };
		ssize_t n = rt_sock_writev(c->sock, &iov, 1);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			client_fail_errno(c, errno);
			return;
		}
		c->stats.n_writev++;
		c->stats.n_sent_bytes += (uint64_t)n;
		ibuf_consume(&c->out, (size_t)n);
		if ((size_t)n < offered) {
			c->stats.n_partial_writes++;
			break;
		}
	}
	if (ibuf_used(&c->out) == 0)
		ibuf_reset(&c->out);
	client_update_watch(c);
}

/** Check that requests may be queued now. 0 or -1 + diag. */
static int
client_check_open(struct iproto_client *c)
{
	if (c->state == CLIENT_CLOSED) {
		diag_set(ER_NO_CONNECTION, "ClientError",
			 "Connection is not established");
		return -1;
	}
	return 0;
}

static int
client_expect(struct iproto_client *c, uint64_t sync,
	      const struct iproto_client_handler *h)
{
	struct client_req *r = mem_alloc(sizeof(*r));
	if (r == NULL) {
		diag_set_oom(sizeof(*r), "struct client_req");
		return -1;
	}
	r->sync = sync;
	if (h != NULL) {
		r->h = *h;
	} else {
		memset(&r->h, 0, sizeof(r->h));
	}
	rlist_add_tail(&c->pending, &r->link);
	c->n_pending++;
	return 0;
}

int
iproto_client_expect(struct iproto_client *c, uint64_t sync,
		     const struct iproto_client_handler *h)
{
	return client_expect(c, sync, h);
}

/** The encoders' shared shape: a closure over one request's arguments. */
struct client_enc {
	enum {
		ENC_PING, ENC_CALL, ENC_CALL_16, ENC_EVAL, ENC_SELECT, ENC_AUTH
	} type;
	const char *s1;
	uint32_t s1_len;
	const char *s2, *s2_end;
	uint32_t u[5];
};

static size_t
client_encode(const struct client_enc *e, char *out, size_t size,
	      uint64_t sync)
{
	const enum xrow_encoding enc = XROW_ENC_NETBOX;
	switch (e->type) {
	case ENC_PING:
		return xrow_encode_ping(out, size, sync, enc);
	case ENC_CALL:
		return xrow_encode_call(out, size, sync, enc, e->s1, e->s1_len,
					e->s2, e->s2_end);
	case ENC_CALL_16:
		return xrow_encode_call_16(out, size, sync, enc, e->s1,
					   e->s1_len, e->s2, e->s2_end);
	case ENC_EVAL:
		return xrow_encode_eval(out, size, sync, enc, e->s1, e->s1_len,
					e->s2, e->s2_end);
	case ENC_SELECT:
		return xrow_encode_select(out, size, sync, enc, e->u[0],
					  e->u[1], e->u[2], e->u[3], e->u[4],
					  e->s2, e->s2_end);
	case ENC_AUTH:
		return xrow_encode_auth(out, size, sync, enc, e->s1, e->s1_len,
					e->s2, (uint32_t)(e->s2_end - e->s2));
	}
	return 0;
}

/** Encode, register and queue one request; its sync or 0 + diag. */
static uint64_t
client_send(struct iproto_client *c, const struct client_enc *e,
	    const struct iproto_client_handler *h)
{
	if (client_check_open(c) != 0)
		return 0;
	uint64_t sync = c->next_sync;
	size_t len = client_encode(e, NULL, 0, sync);
	char *p = ibuf_reserve(&c->out, len);
	if (p == NULL)
		return 0;
	if (client_expect(c, sync, h) != 0)
		return 0;
	client_encode(e, p, len, sync);
	ibuf_advance(&c->out, len);
	c->next_sync++;
	c->stats.n_sent_requests++;
	TRACE("client.send", TI("conn", c->opts.id), TI("sync", sync),
	      TI("bytes", len));
	client_flush(c);
	return sync;
}

uint64_t
iproto_client_ping(struct iproto_client *c,
		   const struct iproto_client_handler *h)
{
	struct client_enc e = { .type = ENC_PING };
	return client_send(c, &e, h);
}

uint64_t
iproto_client_call(struct iproto_client *c, const char *name,
		   uint32_t name_len, const char *args, const char *args_end,
		   const struct iproto_client_handler *h)
{
	struct client_enc e = { .type = ENC_CALL, .s1 = name,
				.s1_len = name_len, .s2 = args,
				.s2_end = args_end };
	return client_send(c, &e, h);
}

uint64_t
iproto_client_call_16(struct iproto_client *c, const char *name,
		      uint32_t name_len, const char *args,
		      const char *args_end,
		      const struct iproto_client_handler *h)
{
	struct client_enc e = { .type = ENC_CALL_16, .s1 = name,
				.s1_len = name_len, .s2 = args,
				.s2_end = args_end };
	return client_send(c, &e, h);
}

uint64_t
iproto_client_eval(struct iproto_client *c, const char *expr,
		   uint32_t expr_len, const char *args, const char *args_end,
		   const struct iproto_client_handler *h)
{
	struct client_enc e = { .type = ENC_EVAL, .s1 = expr,
				.s1_len = expr_len, .s2 = args,
				.s2_end = args_end };
	return client_send(c, &e, h);
}

uint64_t
iproto_client_select(struct iproto_client *c, uint32_t space_id,
		     uint32_t index_id, uint32_t iterator, uint32_t offset,
		     uint32_t limit, const char *key, const char *key_end,
		     const struct iproto_client_handler *h)
{
	struct client_enc e = { .type = ENC_SELECT, .s2 = key,
				.s2_end = key_end,
				.u = { space_id, index_id, iterator, offset,
				       limit } };
	return client_send(c, &e, h);
}

uint64_t
iproto_client_auth(struct iproto_client *c, const char *user,
		   uint32_t user_len, const char *scramble,
		   uint32_t scramble_len,
		   const struct iproto_client_handler *h)
{
	struct client_enc e = { .type = ENC_AUTH, .s1 = user,
				.s1_len = user_len, .s2 = scramble,
				.s2_end = scramble + scramble_len };
	return client_send(c, &e, h);
}

int
iproto_client_send_raw(struct iproto_client *c, const char *data, size_t len)
{
	if (client_check_open(c) != 0)
		return -1;
	char *p = ibuf_reserve(&c->out, len);
	if (p == NULL)
		return -1;
	memcpy(p, data, len);
	ibuf_advance(&c->out, len);
	TRACE("client.send", TI("conn", c->opts.id), TI("sync", 0),
	      TI("bytes", len));
	client_flush(c);
	return 0;
}

void
iproto_client_cork(struct iproto_client *c)
{
	c->is_corked = true;
	client_update_watch(c);
}

void
iproto_client_uncork(struct iproto_client *c)
{
	c->is_corked = false;
	client_flush(c);
}

/* ---------------------------------------------------------------- input */

static struct client_req *
client_find(struct iproto_client *c, uint64_t sync)
{
	struct rlist *item;
	rlist_foreach(item, &c->pending) {
		struct client_req *r = container_of(item, struct client_req,
						    link);
		if (r->sync == sync)
			return r;
	}
	return NULL;
}

/*
 * Words for an error reply that carries no message string: its code and
 * name, and what stands where the message should (IPROTO_ERROR_24 absent,
 * or a value of another type, shown as text). Returns the length.
 */
static uint32_t
client_error_text(const struct iproto_response *resp, char *buf, size_t size)
{
	int code = (int)(resp->code & ~(uint32_t)IPROTO_TYPE_ERROR);
	int n = snprintf(buf, size, "error %d (%s) ", code, errcode_name(code));
	if (n < 0 || (size_t)n >= size)
		return (uint32_t)strlen(buf);
	if (resp->error_field == NULL) {
		snprintf(buf + n, size - (size_t)n, "with no message");
	} else {
		int m = snprintf(buf + n, size - (size_t)n,
				 "whose message is not a string: ");
		if (m > 0 && (size_t)(n + m) < size)
			mp_format(buf + n + m, size - (size_t)(n + m),
				  resp->error_field, resp->error_field_end);
	}
	return (uint32_t)strlen(buf);
}

/** Route one decoded packet of `bytes` bytes. Cost O(pending). */
static void
client_dispatch(struct iproto_client *c, const struct iproto_response *resp,
		size_t bytes)
{
	TRACE("client.recv", TI("conn", c->opts.id), TI("sync", resp->sync),
	      TI("code", resp->code), TI("bytes", bytes));
	struct client_req *r = client_find(c, resp->sync);
	const char *err = NULL;
	uint32_t err_len = 0;
	char text[256];
	if ((resp->code & IPROTO_TYPE_ERROR) != 0 && resp->error_msg != NULL) {
		err = resp->error_msg;
		err_len = resp->error_msg_len;
	} else if ((resp->code & IPROTO_TYPE_ERROR) != 0) {
		err = text;
		err_len = client_error_text(resp, text, sizeof(text));
	}
	if (r == NULL) {
		c->stats.n_orphans++;
		if (c->cbs.on_orphan != NULL)
			c->cbs.on_orphan(c->cbs.arg, resp->sync, resp->code,
					 resp->data, resp->data_end, err,
					 err_len);
		return;
	}
	if (resp->code == IPROTO_CHUNK) {
		c->stats.n_pushes++;
		if (r->h.on_push == NULL)
			return;
		/* box.session.push(v) sends {DATA: [v]}: hand over v. */
		const char *v = resp->data, *v_end = resp->data_end;
		if (v != NULL && mp_typeof(*v) == MP_ARRAY) {
			const char *p = v;
			if (mp_decode_array(&p) == 1)
				v = p;
		}
		r->h.on_push(r->h.ctx, resp->sync, v, v_end);
		return;
	}
	c->stats.n_replies++;
	rlist_del(&r->link);
	c->n_pending--;
	struct iproto_client_handler h = r->h;
	mem_free(r);
	if (h.on_reply != NULL)
		h.on_reply(h.ctx, resp->sync, resp->code,
			   err == NULL ? resp->data : NULL,
			   err == NULL ? resp->data_end : NULL, err, err_len);
}

/** Decode the greeting once all 128 bytes are in. 0 or -1 (closed). */
static int
client_read_greeting(struct iproto_client *c)
{
	if (ibuf_used(&c->in) < GREETING_SIZE)
		return 0;
	struct greeting g;
	if (greeting_decode(&g, c->in.rpos) != 0) {
		client_fail(c);
		return -1;
	}
	ibuf_consume(&c->in, GREETING_SIZE);
	c->state = CLIENT_CONNECTED;
	TRACE("client.connect", TI("conn", c->opts.id),
	      TS("peer", rt_sock_peer(c->sock)), TI("version", g.version_id));
	if (c->cbs.on_connect != NULL)
		c->cbs.on_connect(c->cbs.arg, &g);
	if (c->state != CLIENT_CONNECTED)
		return -1;
	client_flush(c);
	return c->state == CLIENT_CONNECTED ? 0 : -1;
}

/**
 * Decode and route every complete packet buffered, unless paused.
 * Returns how many bytes the next packet needs in total (0 if unknown),
 * or -1 when the connection closed meanwhile.
 */
static ssize_t
client_process(struct iproto_client *c)
{
	if (c->state == CLIENT_GREETING && client_read_greeting(c) != 0)
		return -1;
	while (c->state == CLIENT_CONNECTED && !c->is_paused &&
	       ibuf_used(&c->in) > 0) {
		size_t len;
		const char *p = c->in.rpos;
		switch (iproto_frame(p, c->in.wpos, c->opts.max_packet,
				     &len)) {
		case IPROTO_FRAME_OK:
			break;
		case IPROTO_FRAME_NEED_MORE:
			return (ssize_t)len;
		case IPROTO_FRAME_BAD:
		case IPROTO_FRAME_TOO_BIG:
			client_fail(c);
			return -1;
		}
		struct iproto_response resp;
		if (xrow_decode_response(&resp, p + mp_uint_len(*p),
					 p + len) != 0) {
			client_fail(c);
			return -1;
		}
		c->stats.n_recv_bytes += len;
		client_dispatch(c, &resp, len);
		if (c->state != CLIENT_CONNECTED)
			return -1;
		ibuf_consume(&c->in, len);
	}
	if (c->state == CLIENT_CONNECTED && ibuf_used(&c->in) == 0)
		ibuf_reset(&c->in);
	return c->state == CLIENT_CLOSED ? -1 : 0;
}

/** Read one chunk; returns 1 if bytes came, 0 on EAGAIN, -1 if closed. */
static int
client_read(struct iproto_client *c, size_t need)
{
	size_t used = ibuf_used(&c->in);
	size_t want = c->opts.readahead;
	if (need > used && need - used > want)
		want = need - used;
	char *p = ibuf_reserve(&c->in, want);
	if (p == NULL) {
		client_fail(c);
		return -1;
	}
	ssize_t n = rt_sock_read(c->sock, p, ibuf_unused(&c->in));
	if (n > 0) {
		ibuf_advance(&c->in, (size_t)n);
		return 1;
	}
	if (n == 0) {
		diag_set(ER_NO_CONNECTION, "ClientError",
			 "Peer closed the connection");
		client_fail(c);
		return -1;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return 0;
	client_fail_errno(c, errno);
	return -1;
}

static void
client_on_io(struct rt_sock *s, int events, void *arg)
{
	(void)s;
	struct iproto_client *c = arg;
	if ((events & RT_WRITE) != 0) {
		client_flush(c);
		if (c->state == CLIENT_CLOSED)
			return;
	}
	if ((events & RT_READ) == 0 || c->is_paused)
		return;
	/* Replies buffered while paused go first. */
	ssize_t need = client_process(c);
	if (need < 0 || c->is_paused)
		return;
	if (client_read(c, (size_t)need) <= 0)
		return;
	client_process(c);
}

void
iproto_client_pause_reading(struct iproto_client *c)
{
	if (c->is_paused)
		return;
	c->is_paused = true;
	TRACE("client.pause", TI("conn", c->opts.id),
	      TI("buffered", ibuf_used(&c->in)));
	client_update_watch(c);
}

void
iproto_client_resume_reading(struct iproto_client *c)
{
	if (!c->is_paused)
		return;
	c->is_paused = false;
	TRACE("client.resume", TI("conn", c->opts.id),
	      TI("buffered", ibuf_used(&c->in)));
	client_update_watch(c);
	/* Deliver what is already buffered even if nothing new arrives. */
	if (c->sock != NULL)
		rt_sock_feed(c->sock, RT_READ);
}

/* ------------------------------------------------------------- connect */

int
iproto_client_connect(struct iproto_client *c, const char *addr,
		      const struct rt_net_opts *net)
{
	if (c->state != CLIENT_IDLE) {
		diag_set(ER_SYSTEM, "IllegalParams",
			 "iproto_client_connect: already connected");
		return -1;
	}
	if (strlen(addr) >= sizeof(c->addr)) {
		diag_set(ER_SYSTEM, "IllegalParams", "address too long: %s",
			 addr);
		return -1;
	}
	strcpy(c->addr, addr);
	c->sock = rt_connect(rt_cord_rt(c->cord), addr, net);
	if (c->sock == NULL)
		return -1;
	c->state = CLIENT_GREETING;
	TRACE("client.dial", TI("conn", c->opts.id), TS("addr", c->addr));
	client_update_watch(c);
	return 0;
}

/* ------------------------------------------------------------- queries */

bool
iproto_client_is_connected(const struct iproto_client *c)
{
	return c->state == CLIENT_CONNECTED;
}

size_t
iproto_client_n_pending(const struct iproto_client *c)
{
	return c->n_pending;
}

size_t
iproto_client_n_unsent(const struct iproto_client *c)
{
	return ibuf_used(&c->out);
}

void
iproto_client_stats(const struct iproto_client *c,
		    struct iproto_client_stats *stats)
{
	*stats = c->stats;
}
