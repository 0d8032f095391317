/*
 * proc.c — the built-in procedures: echo, push, push_stream, push_every,
 * sleep, fail, big, push_then_fail (a push: box_session_push). proc.h, docs.
 *
 * Results go into a port_table: a port_c (Tarantool's box_return_mp) that
 * answers CALL_16 as a Lua function returning them as one table, which is
 * what tests/interop/procs.lua does — so both servers put the same bytes
 * on the wire for CALL and CALL_16 (port.h, port_dump_table_16).
 */
#include "box/proc.h"

#include <stdio.h>
#include <string.h>

#include "base/diag.h"
#include "base/mem.h"
#include "box/port.h"
#include "box/session.h"
#include "iproto/iproto_connection.h"
#include "proto/errcode.h"
#include "proto/mp.h"

enum {
	PROC_PUSH_MAX = 10 * 1000 * 1000,
	PROC_BIG_MAX = 64 * 1024 * 1024,
	PROC_MS_MAX = 3600 * 1000,
};

static enum proc_status
proc_bad_args(struct proc_call *call, const char *expected)
{
	diag_set(ER_PROC_C, "ClientError", "%s: expected %s", call->proc->name,
		 expected);
	return PROC_ERROR;
}

/** Read a non-negative integer argument; -1 if it is not one or > max. */
static int64_t
proc_arg_uint(const char **p, int64_t max)
{
	if (mp_typeof(**p) != MP_UINT)
		return -1;
	uint64_t v = mp_decode_uint(p);
	return v > (uint64_t)max ? -1 : (int64_t)v;
}

/** Copy the next argument (any value) into call->payload. */
static int
proc_arg_payload(struct proc_call *call, const char **p)
{
	const char *begin = *p;
	mp_next(p);
	call->payload_len = (uint32_t)(*p - begin);
	call->payload = mem_alloc(call->payload_len);
	if (call->payload == NULL) {
		diag_set_oom(call->payload_len, "push payload");
		return -1;
	}
	memcpy(call->payload, begin, call->payload_len);
	return 0;
}

static enum proc_status
proc_result_uint(struct proc_call *call, uint64_t v)
{
	char buf[9];
	char *end = mp_encode_uint(buf, v);
	port_table_create(&call->result);
	call->has_result = true;
	return port_c_add_mp(&call->result, buf, end) == 0 ? PROC_DONE : PROC_ERROR;
}

/** Push [i, payload] with the call's sync. */
/**
 * The shutdown's grace period is over: a loop must stop now (the test a
 * Lua loop makes with box.is_shutting_down). One relaxed load per turn.
 */
static bool
proc_is_cut_short(struct proc_call *call)
{
	if (call->is_grace_over == NULL ||
	    __atomic_load_n(call->is_grace_over, __ATOMIC_RELAXED) == 0)
		return false;
	diag_set(ER_PROC_C, "ClientError", "%s: cancelled, the server is "
		 "shutting down", call->proc->name);
	return true;
}

/** One push of [i, payload] (below); every pushing loop goes through it. */
static int
proc_push_one(struct proc_call *call, int64_t i);

/* ---------------------------------------------------------------- echo */

static enum proc_status
proc_echo(struct proc_call *call, uint64_t *wait_ns)
{
	(void)wait_ns;
	const char *p = call->args;
	uint32_t n = mp_decode_array(&p);
	port_table_create(&call->result);
	call->has_result = true;
	for (uint32_t i = 0; i < n; i++) {
		const char *begin = p;
		mp_next(&p);
		if (port_c_add_mp(&call->result, begin, p) != 0)
			return PROC_ERROR;
	}
	return PROC_DONE;
}

/* ---------------------------------------------------------------- push */

static enum proc_status
proc_push(struct proc_call *call, uint64_t *wait_ns)
{
	(void)wait_ns;
	const char *p = call->args;
	if (mp_decode_array(&p) != 2 ||
	    (call->n = proc_arg_uint(&p, PROC_PUSH_MAX)) < 0)
		return proc_bad_args(call, "(n, payload)");
	if (proc_arg_payload(call, &p) != 0)
		return PROC_ERROR;
	for (int64_t i = 1; i <= call->n; i++)
		if (proc_push_one(call, i) != 0)
			return PROC_ERROR;
	return proc_result_uint(call, (uint64_t)call->n);
}

/* ---------------------------------------------------------- push_every */

static enum proc_status
proc_push_every_resume(struct proc_call *call, uint64_t *wait_ns)
{
	if (call->i < call->n) {
		call->i++;
		if (proc_push_one(call, call->i) != 0)
			return PROC_ERROR;
	}
	if (call->i < call->n) {
		*wait_ns = (uint64_t)call->ms * 1000000;
		return PROC_WAIT;
	}
	return proc_result_uint(call, (uint64_t)call->n);
}

static enum proc_status
proc_push_every(struct proc_call *call, uint64_t *wait_ns)
{
	const char *p = call->args;
	if (mp_decode_array(&p) != 3 ||
	    (call->n = proc_arg_uint(&p, PROC_PUSH_MAX)) < 0 ||
	    (call->ms = proc_arg_uint(&p, PROC_MS_MAX)) < 0)
		return proc_bad_args(call, "(n, ms, payload)");
	if (proc_arg_payload(call, &p) != 0)
		return PROC_ERROR;
	call->i = 0;
	return proc_push_every_resume(call, wait_ns);
}

/* --------------------------------------------------------------- sleep */

static enum proc_status
proc_sleep_resume(struct proc_call *call, uint64_t *wait_ns)
{
	(void)wait_ns;
	char t = (char)0xc3;
	port_table_create(&call->result);
	call->has_result = true;
	return port_c_add_mp(&call->result, &t, &t + 1) == 0 ?
	       PROC_DONE : PROC_ERROR;
}

static enum proc_status
proc_sleep(struct proc_call *call, uint64_t *wait_ns)
{
	const char *p = call->args;
	if (mp_decode_array(&p) != 1 ||
	    (call->ms = proc_arg_uint(&p, PROC_MS_MAX)) < 0)
		return proc_bad_args(call, "(ms)");
	*wait_ns = (uint64_t)call->ms * 1000000;
	return PROC_WAIT;
}

/* ---------------------------------------------------------------- fail */

static enum proc_status
proc_fail(struct proc_call *call, uint64_t *wait_ns)
{
	(void)wait_ns;
	const char *p = call->args;
	uint32_t len;
	if (mp_decode_array(&p) != 1 || mp_typeof(*p) != MP_STR)
		return proc_bad_args(call, "(message)");
	const char *msg = mp_decode_str(&p, &len);
	diag_set(ER_PROC_C, "ClientError", "%.*s", (int)len, msg);
	return PROC_ERROR;
}

/* ----------------------------------------------------------------- big */

static enum proc_status
proc_big(struct proc_call *call, uint64_t *wait_ns)
{
	(void)wait_ns;
	const char *p = call->args;
	int64_t bytes;
	if (mp_decode_array(&p) != 1 ||
	    (bytes = proc_arg_uint(&p, PROC_BIG_MAX)) < 0)
		return proc_bad_args(call, "(bytes)");
	uint32_t len = (uint32_t)bytes;
	size_t header = mp_sizeof_str(len) - len;
	char *buf = mem_alloc(header + len);
	if (buf == NULL) {
		diag_set_oom(header + len, "big");
		return PROC_ERROR;
	}
	/* The header alone: the bytes are made in place, not copied. */
	char *h = mp_encode_strl(buf, len);
	for (uint32_t i = 0; i < len; i++)
		h[i] = (char)('a' + i % 26);
	char *end = h + len;
	port_table_create(&call->result);
	call->has_result = true;
	int rc = port_c_add_mp(&call->result, buf, end);
	mem_free(buf);
	return rc == 0 ? PROC_DONE : PROC_ERROR;
}

/* ------------------------------------------------------- push_then_fail */

/*
 * A port whose dump writes part of its value and then fails, like a Lua
 * value whose __serialize raises in the middle of a reply: TX must roll the
 * output back to the savepoint so no half reply reaches the client.
 */
struct port_failing {
	const struct port_vtab *vtab;
	int64_t n;
};

static int
port_failing_dump_msgpack(struct port *base, struct obuf *out)
{
	struct port_failing *port = (struct port_failing *)base;
	char partial[3] = { (char)0x92, 0x01, 0x02 };
	if (obuf_dup(out, partial, sizeof(partial)) != 0)
		return -1;
	diag_set(ER_PROC_C, "ClientError", "push_then_fail: failed after %lld "
		 "pushes", (long long)port->n);
	return -1;
}

static const char *
port_failing_dump_plain(struct port *base, uint32_t *size)
{
	(void)base;
	*size = 7;
	return "<fails>";
}

static const char *
port_failing_get_msgpack(struct port *base, uint32_t *size)
{
	(void)base;
	(void)size;
	diag_set(ER_PROC_C, "ClientError", "push_then_fail: no value");
	return NULL;
}

static void
port_failing_destroy(struct port *base)
{
	(void)base;
}

static const struct port_vtab port_failing_vtab = {
	.dump_msgpack = port_failing_dump_msgpack,
	.dump_msgpack_16 = port_failing_dump_msgpack,
	.dump_plain = port_failing_dump_plain,
	.get_msgpack = port_failing_get_msgpack,
	.destroy = port_failing_destroy,
};

static enum proc_status
proc_push_then_fail(struct proc_call *call, uint64_t *wait_ns)
{
	(void)wait_ns;
	const char *p = call->args;
	if (mp_decode_array(&p) != 1 ||
	    (call->n = proc_arg_uint(&p, PROC_PUSH_MAX)) < 0)
		return proc_bad_args(call, "(n)");
	static const char name[] = "push_then_fail";
	char payload[sizeof(name) + 1];
	char *end = mp_encode_str(payload, name, sizeof(name) - 1);
	call->payload_len = (uint32_t)(end - payload);
	call->payload = mem_alloc(call->payload_len);
	if (call->payload == NULL) {
		diag_set_oom(call->payload_len, "payload");
		return PROC_ERROR;
	}
	memcpy(call->payload, payload, call->payload_len);
	for (int64_t i = 1; i <= call->n; i++)
		if (proc_push_one(call, i) != 0)
			return PROC_ERROR;
	struct port_failing *port = (struct port_failing *)&call->result;
	_Static_assert(sizeof(*port) <= sizeof(struct port), "port size");
	port->vtab = &port_failing_vtab;
	port->n = call->n;
	call->has_result = true;
	return PROC_DONE;
}

/* ------------------------------------------------------ port_push_item */

/*
 * port_push_item: the value [i, payload] of one push, encoded straight
 * into the output buffer by dump_msgpack — no temporary buffer, one copy
 * of the payload (a 1 KiB push used to be encoded into a heap buffer, then
 * copied again by port_msgpack: a malloc, a free and two copies a push). The other methods, used by traces and
 * captions, build the bytes on demand.
 */
struct port_push_item {
	const struct port_vtab *vtab;
	uint64_t i;
	const char *payload;
	uint32_t payload_len;
	/** [i, payload] as MsgPack, and its text: made only when asked. */
	char *data;
	char *plain;
};

static size_t
port_push_item_size(const struct port_push_item *port)
{
	return 1 + mp_sizeof_uint(port->i) + port->payload_len;
}

static char *
port_push_item_encode(const struct port_push_item *port, char *p)
{
	p = mp_encode_array(p, 2);
	p = mp_encode_uint(p, port->i);
	memcpy(p, port->payload, port->payload_len);
	return p + port->payload_len;
}

static int
port_push_item_dump_msgpack(struct port *base, struct obuf *out)
{
	struct port_push_item *port = (struct port_push_item *)base;
	/* The usual case: the current chunk has room, encode in place. */
	size_t size = port_push_item_size(port);
	struct iovec *iov = &out->iov[out->pos];
	size_t capacity = out->capacity[out->pos];
	if (capacity > 0 && size <= capacity - iov->iov_len) {
		port_push_item_encode(port, obuf_alloc(out, size));
		return 1;
	}
	/*
	 * Across chunks: two appends, laid out in the buffer exactly as one
	 * of the whole value would be (obuf_dup fills a chunk, then goes on
	 * in the next).
	 */
	char head[1 + 9];
	char *p = mp_encode_array(head, 2);
	p = mp_encode_uint(p, port->i);
	if (obuf_dup(out, head, (size_t)(p - head)) != 0 ||
	    obuf_dup(out, port->payload, port->payload_len) != 0)
		return -1;
	return 1;
}

/** The bytes [i, payload] in port->data; NULL + diag on OOM. */
static const char *
port_push_item_data(struct port_push_item *port)
{
	if (port->data == NULL) {
		size_t size = port_push_item_size(port);
		port->data = mem_alloc(size);
		if (port->data == NULL) {
			diag_set_oom(size, "push value");
			return NULL;
		}
		port_push_item_encode(port, port->data);
	}
	return port->data;
}

static const char *
port_push_item_dump_plain(struct port *base, uint32_t *size)
{
	struct port_push_item *port = (struct port_push_item *)base;
	const char *data = port_push_item_data(port);
	if (data == NULL)
		return NULL;
	const char *end = data + port_push_item_size(port);
	if (port->plain == NULL) {
		int len = mp_format(NULL, 0, data, end);
		port->plain = mem_alloc((size_t)len + 1);
		if (port->plain == NULL) {
			diag_set_oom((size_t)len + 1, "push text");
			return NULL;
		}
		mp_format(port->plain, (size_t)len + 1, data, end);
	}
	*size = (uint32_t)strlen(port->plain);
	return port->plain;
}

static int
port_push_item_format_plain(struct port *base, char *buf, size_t size)
{
	struct port_push_item *port = (struct port_push_item *)base;
	const char *data = port_push_item_data(port);
	if (data == NULL)
		return -1;
	return mp_format_head(buf, size, data,
			      data + port_push_item_size(port));
}

static const char *
port_push_item_get_msgpack(struct port *base, uint32_t *size)
{
	/* The value as a one-element array, as port_msgpack gives it. */
	struct port_push_item *port = (struct port_push_item *)base;
	size_t len = 1 + port_push_item_size(port);
	mem_free(port->data);
	port->data = mem_alloc(len);
	if (port->data == NULL) {
		diag_set_oom(len, "push value");
		return NULL;
	}
	port_push_item_encode(port, mp_encode_array(port->data, 1));
	/* data now holds the array, not the value: the text is remade. */
	char *copy = port->data;
	port->data = NULL;
	mem_free(port->plain);
	port->plain = copy; /* freed by destroy */
	*size = (uint32_t)len;
	return copy;
}

static void
port_push_item_destroy(struct port *base)
{
	struct port_push_item *port = (struct port_push_item *)base;
	mem_free(port->data);
	mem_free(port->plain);
	port->data = port->plain = NULL;
}

static const struct port_vtab port_push_item_vtab = {
	.dump_msgpack = port_push_item_dump_msgpack,
	.dump_msgpack_16 = port_push_item_dump_msgpack,
	.dump_plain = port_push_item_dump_plain,
	.format_plain = port_push_item_format_plain,
	.get_msgpack = port_push_item_get_msgpack,
	.destroy = port_push_item_destroy,
};

/** One push of [i, payload]; every pushing loop goes through here. */
static int
proc_push_one(struct proc_call *call, int64_t i)
{
	if (proc_is_cut_short(call))
		return -1;
	struct port port;
	struct port_push_item *item = (struct port_push_item *)&port;
	_Static_assert(sizeof(*item) <= sizeof(port), "port size");
	*item = (struct port_push_item){
		.vtab = &port_push_item_vtab, .i = (uint64_t)i,
		.payload = call->payload, .payload_len = call->payload_len,
	};
	int rc = session_push(call->session, call->sync, &port);
	port_destroy(&port);
	return rc;
}

/* --------------------------------------------------------- push_stream */

/*
 * push_stream(n, payload): the same n pushes as push, written as a
 * well-behaved streaming procedure: it yields after every ~128 KiB of
 * output (so the pushes leave while it goes on) and waits while its
 * session holds more than 512 KiB unsent (so a slow client bounds its
 * memory instead of the server's). It is woken when Kharon brings the
 * flushed position back (tx.c, tx_call_wait_output). Lua: fiber.yield()
 * and a look at what was sent (tests/interop/procs.lua).
 */
enum {
	/*
	 * push_stream: yield after about this much output, and wait while
	 * the session holds more than PROC_STREAM_UNSENT_MAX unsent.
	 */
	PROC_STREAM_YIELD = 128 * 1024,
	PROC_STREAM_UNSENT_MAX = 512 * 1024,
	/* A chunk's bytes besides the value: header, body prefix, [i, ...]. */
	PROC_CHUNK_OVERHEAD = 35 + 1 + 9,
};

static enum proc_status
proc_push_stream_resume(struct proc_call *call, uint64_t *wait_ns)
{
	size_t since_yield = 0;
	while (call->i < call->n) {
		if (session_unsent(call->session) > PROC_STREAM_UNSENT_MAX)
			return PROC_WAIT_OUTPUT;
		call->i++;
		if (proc_push_one(call, call->i) != 0)
			return PROC_ERROR;
		since_yield += PROC_CHUNK_OVERHEAD + call->payload_len;
		if (since_yield >= PROC_STREAM_YIELD && call->i < call->n) {
			*wait_ns = 0;
			return PROC_WAIT;
		}
	}
	return proc_result_uint(call, (uint64_t)call->n);
}

static enum proc_status
proc_push_stream(struct proc_call *call, uint64_t *wait_ns)
{
	const char *p = call->args;
	if (mp_decode_array(&p) != 2 ||
	    (call->n = proc_arg_uint(&p, PROC_PUSH_MAX)) < 0)
		return proc_bad_args(call, "(n, payload)");
	if (proc_arg_payload(call, &p) != 0)
		return PROC_ERROR;
	call->i = 0;
	return proc_push_stream_resume(call, wait_ns);
}

/* -------------------------------------------------------------- table */

static const struct proc procs[] = {
	{ "echo", proc_echo, NULL },
	{ "push", proc_push, NULL },
	{ "push_stream", proc_push_stream, proc_push_stream_resume },
	{ "push_every", proc_push_every, proc_push_every_resume },
	{ "sleep", proc_sleep, proc_sleep_resume },
	{ "fail", proc_fail, NULL },
	{ "big", proc_big, NULL },
	{ "push_then_fail", proc_push_then_fail, NULL },
};

const struct proc *
proc_find(const char *name, uint32_t len)
{
	for (size_t i = 0; i < sizeof(procs) / sizeof(procs[0]); i++)
		if (strlen(procs[i].name) == len &&
		    memcmp(procs[i].name, name, len) == 0)
			return &procs[i];
	return NULL;
}
