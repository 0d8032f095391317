/*
 * bench_call.c — `kharon bench call`: calls per second, pipelined.
 *
 * --conns connections on one client cord each keep --inflight calls of
 * echo(7) in flight for --seconds: every reply that comes back sends a new
 * call, and all the calls a read answered are sent in one write (a
 * pipelining client, as a load generator should be, so that the server's
 * batching is what is measured). When the time is up no more are sent and
 * the client waits for the ones in flight. Calls/s counts replies from the
 * first connect to the last reply.
 *
 * The client is in the measured chain too (each batch of replies goes
 * through it before the next batch of calls), so it is kept light, the
 * same for every server: the call is encoded once and each copy gets its
 * sync patched in (a fixed-width uint64, XROW_ENC_FIXED); a reply is
 * checked up to its response code only (header well-formed, code
 * IPROTO_OK), not decoded; and a read that did not fill the buffer is
 * taken as having drained the socket — the watcher is level-triggered, so
 * bytes that arrive later wake the client again — which saves an EAGAIN
 * read() per batch.
 *
 * With --target the client measures a server in another process (`kharon
 * serve` or a real Tarantool running tests/interop/procs.lua; bench/run.sh
 * always does this); without it a kharon server is started in this process
 * on cords of its own.
 *
 *   call_per_s{server="kharon",conns="1",inflight="100"} VALUE
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/diag.h"
#include "base/mem.h"
#include "cli/bench_server.h"
#include "cli/cli.h"
#include "iproto/iproto.h"
#include "proto/greeting.h"
#include "proto/iproto_constants.h"
#include "proto/mp.h"
#include "proto/xrow.h"
#include "rt/rt.h"

static const char bench_call_usage[] =
	"usage: kharon bench call [--conns N] [--inflight M] [--seconds S] "
	"[--target HOST:PORT]\n";

enum {
	CALL_CONNS_MAX = 1000,
	CALL_INFLIGHT_MAX = 10000,
	/* echo(7) with a sync up to 2^64: well under this. */
	CALL_REQ_MAX = 64,
	CALL_READ = 64 * 1024,
};

struct call_conn {
	struct call_client *client;
	struct rt_sock *sock;
	/** Requests to send: [out_sent, out_len). */
	char *out;
	size_t out_len, out_sent;
	char in[2 * CALL_READ];
	size_t in_len;
	bool has_greeting;
	int n_inflight;
	uint64_t next_sync;
	bool is_done;
};

struct call_client {
	struct rt *rt;
	/** echo(7) with sync 0, encoded once; `sync_at`: its 8 sync bytes. */
	char call[CALL_REQ_MAX];
	size_t call_len, sync_at;
	struct rt_cord *cord;
	char addr[80];
	int n_conns, inflight;
	uint64_t run_ns;
	struct call_conn *conns;
	int n_done;
	uint64_t n_calls;
	uint64_t t_start, t_end;
	bool is_ok;
	atomic_bool is_done;
};

static void
call_conn_finish(struct call_conn *cc, bool is_ok)
{
	struct call_client *c = cc->client;
	if (cc->is_done)
		return;
	cc->is_done = true;
	if (!is_ok)
		c->is_ok = false;
	if (cc->sock != NULL)
		rt_sock_close(cc->sock, false);
	cc->sock = NULL;
	if (++c->n_done < c->n_conns)
		return;
	c->t_end = rt_now(c->rt);
	atomic_store(&c->is_done, true);
	rt_cord_stop(c->cord);
}

/**
 * Encode echo(7) once, sync as a fixed-width uint64 (`cf` + 8 bytes), and
 * find where those 8 bytes are: after the 5-byte length prefix, the header
 * map starts `82 01 cf` (put_header's XROW_ENC_FIXED order). -1 if not.
 */
static int
call_client_encode(struct call_client *c)
{
	static const char args[] = { (char)0x91, 0x07 };
	c->call_len = xrow_encode_call(c->call, sizeof(c->call), 0,
				       XROW_ENC_FIXED, "echo", 4, args,
				       args + sizeof(args));
	c->sync_at = 8;
	if (c->call_len == 0 || c->call_len > sizeof(c->call) ||
	    (unsigned char)c->call[5] != 0x82 || c->call[6] != IPROTO_SYNC ||
	    (unsigned char)c->call[7] != 0xcf) {
		diag_set(DIAG_ER_SYSTEM, "SystemError",
			 "bench call: unexpected call encoding");
		return -1;
	}
	return 0;
}

/** Append one echo(7) call to the connection's output. */
static void
call_conn_queue(struct call_conn *cc)
{
	struct call_client *c = cc->client;
	/* Keep only what is unsent: at most `inflight` calls, then. */
	if (cc->out_sent != 0) {
		memmove(cc->out, cc->out + cc->out_sent,
			cc->out_len - cc->out_sent);
		cc->out_len -= cc->out_sent;
		cc->out_sent = 0;
	}
	char *p = cc->out + cc->out_len;
	memcpy(p, c->call, c->call_len);
	mp_encode_u64_fixed(p + c->sync_at - 1, cc->next_sync++);
	cc->out_len += c->call_len;
	cc->n_inflight++;
}

/**
 * The response code of the reply [p, end) (after its length prefix): the
 * header must be a well-formed map holding a uint REQUEST_TYPE; the body
 * is not looked at. -1 if the header is not so.
 */
static int
call_reply_code(const char *p, const char *end, uint64_t *code)
{
	const char *h = p;
	if (p >= end || mp_typeof(*p) != MP_MAP || mp_check(&h, end) != 0)
		return -1;
	uint32_t n = mp_decode_map(&p);
	for (uint32_t i = 0; i < n; i++) {
		if (mp_typeof(*p) != MP_UINT)
			return -1;
		uint64_t key = mp_decode_uint(&p);
		if (key == IPROTO_REQUEST_TYPE) {
			if (mp_typeof(*p) != MP_UINT)
				return -1;
			*code = mp_decode_uint(&p);
			return 0;
		}
		mp_next(&p);
	}
	return -1;
}

/** Consume whole replies, queueing a call for each while time lasts. */
static int
call_conn_parse(struct call_conn *cc)
{
	struct call_client *c = cc->client;
	size_t pos = 0;
	if (!cc->has_greeting) {
		if (cc->in_len < GREETING_SIZE)
			return 0;
		cc->has_greeting = true;
		pos = GREETING_SIZE;
		for (int i = 0; i < c->inflight; i++)
			call_conn_queue(cc);
	}
	bool is_over = rt_now(c->rt) - c->t_start >= c->run_ns;
	while (pos < cc->in_len) {
		const char *p = cc->in + pos, *end = cc->in + cc->in_len;
		size_t len;
		enum iproto_frame_status st = iproto_frame(p, end, CALL_READ, &len);
		if (st == IPROTO_FRAME_NEED_MORE)
			break;
		uint64_t code;
		if (st != IPROTO_FRAME_OK ||
		    call_reply_code(p + mp_uint_len(*p), p + len, &code) != 0 ||
		    code != IPROTO_OK)
			return -1;
		pos += len;
		c->n_calls++;
		cc->n_inflight--;
		if (!is_over)
			call_conn_queue(cc);
	}
	memmove(cc->in, cc->in + pos, cc->in_len - pos);
	cc->in_len -= pos;
	return cc->has_greeting && cc->n_inflight == 0 ? 1 : 0;
}

static void
call_conn_on_io(struct rt_sock *s, int events, void *arg)
{
	struct call_conn *cc = arg;
	(void)events;
	for (;;) {
		size_t room = sizeof(cc->in) - cc->in_len;
		ssize_t n = rt_sock_read(s, cc->in + cc->in_len, room);
		if (n > 0) {
			cc->in_len += (size_t)n;
			int rc = call_conn_parse(cc);
			if (rc != 0) {
				call_conn_finish(cc, rc > 0);
				return;
			}
			/* Short: drained (level-triggered: more wakes us). */
			if ((size_t)n < room)
				break;
			continue;
		}
		if (n == 0 || errno != EAGAIN) {
			call_conn_finish(cc, false);
			return;
		}
		break;
	}
	if (cc->out_sent < cc->out_len) {
		struct iovec iov = { cc->out + cc->out_sent,
				     cc->out_len - cc->out_sent };
		ssize_t n = rt_sock_writev(s, &iov, 1);
		if (n < 0 && errno != EAGAIN) {
			call_conn_finish(cc, false);
			return;
		}
		if (n > 0)
			cc->out_sent += (size_t)n;
	}
	rt_sock_watch(s, RT_READ | (cc->out_sent < cc->out_len ? RT_WRITE : 0),
		      call_conn_on_io, cc);
}

static void
call_client_start_f(void *arg)
{
	struct call_client *c = arg;
	c->t_start = rt_now(c->rt);
	for (int i = 0; i < c->n_conns; i++) {
		struct call_conn *cc = &c->conns[i];
		cc->sock = rt_connect(c->rt, c->addr, NULL);
		if (cc->sock == NULL) {
			call_conn_finish(cc, false);
			continue;
		}
		rt_sock_watch(cc->sock, RT_READ, call_conn_on_io, cc);
	}
}

static void
call_client_delete(struct call_client *c)
{
	for (int i = 0; i < c->n_conns && c->conns != NULL; i++) {
		if (c->conns[i].sock != NULL)
			rt_sock_close(c->conns[i].sock, false);
		mem_free(c->conns[i].out);
	}
	mem_free(c->conns);
	mem_free(c);
}

static struct call_client *
call_client_start(struct rt *rt, const char *addr, int conns, int inflight,
		  uint64_t run_ns)
{
	struct call_client *c = mem_zalloc(sizeof(*c));
	if (c == NULL) {
		diag_set_oom(sizeof(*c), "call client");
		return NULL;
	}
	c->rt = rt;
	c->n_conns = conns;
	c->inflight = inflight;
	c->run_ns = run_ns;
	c->is_ok = true;
	snprintf(c->addr, sizeof(c->addr), "%s", addr);
	if (call_client_encode(c) != 0)
		goto fail;
	c->conns = mem_zalloc(sizeof(*c->conns) * (size_t)conns);
	if (c->conns == NULL) {
		diag_set_oom(sizeof(*c->conns) * (size_t)conns, "call conns");
		goto fail;
	}
	for (int i = 0; i < conns; i++) {
		struct call_conn *cc = &c->conns[i];
		cc->client = c;
		cc->next_sync = 1;
		/* At most `inflight` queued at once: one per reply in flight. */
		cc->out = mem_alloc((size_t)inflight * CALL_REQ_MAX);
		if (cc->out == NULL) {
			diag_set_oom((size_t)inflight * CALL_REQ_MAX, "calls");
			goto fail;
		}
	}
	c->cord = rt_cord_new(rt, "client0");
	if (c->cord == NULL ||
	    rt_cord_start(c->cord, call_client_start_f, c) != 0)
		goto fail;
	return c;
fail:
	call_client_delete(c);
	return NULL;
}

static int
bench_arg_int(const char *val, long max, int *out)
{
	char *end;
	long v = strtol(val, &end, 10);
	if (*end != '\0' || v < 1 || v > max)
		return -1;
	*out = (int)v;
	return 0;
}

int
bench_call(int argc, char **argv)
{
	if (argc == 1 && strcmp(argv[0], "--help") == 0) {
		fputs(bench_call_usage, stdout);
		return CLI_OK;
	}
	int conns = 1, inflight = 100;
	double seconds = 1;
	const char *target = NULL;
	for (int i = 0; i < argc; i += 2) {
		if (i + 1 >= argc)
			goto usage;
		const char *opt = argv[i], *val = argv[i + 1];
		char *end;
		if (strcmp(opt, "--conns") == 0) {
			if (bench_arg_int(val, CALL_CONNS_MAX, &conns) != 0)
				goto usage;
		} else if (strcmp(opt, "--inflight") == 0) {
			if (bench_arg_int(val, CALL_INFLIGHT_MAX, &inflight) != 0)
				goto usage;
		} else if (strcmp(opt, "--seconds") == 0) {
			seconds = strtod(val, &end);
			if (*end != '\0' || !(seconds > 0) || seconds > 3600)
				goto usage;
		} else if (strcmp(opt, "--target") == 0) {
			target = val;
		} else {
			goto usage;
		}
	}
	struct iproto_opts opts;
	iproto_opts_default(&opts);
	struct bench_server bs;
	if (bench_server_start(&bs, target, &opts) != 0)
		goto fail;
	struct call_client *c = call_client_start(bs.rt, bs.addr, conns,
						  inflight,
						  (uint64_t)(seconds * 1e9));
	if (c == NULL) {
		bench_server_abort(&bs);
		goto fail;
	}
	while (!atomic_load(&c->is_done)) {
		struct timespec ts = { 0, 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	bench_server_finish(&bs, true);
	bool ok = c->is_ok && c->n_calls > 0;
	double rate = (double)c->n_calls * 1e9 /
		      (double)(c->t_end - c->t_start + 1);
	char labels[96];
	snprintf(labels, sizeof(labels), "{server=\"%s\",conns=\"%d\","
		 "inflight=\"%d\"}", target != NULL ? "target" : "kharon",
		 conns, inflight);
	if (ok) {
		printf("call_per_s%s %.0f\n", labels, rate);
		bench_server_print_writev(&bs, "writev_per_call", labels,
					  c->n_calls);
	} else {
		fprintf(stderr, "kharon bench call: a connection failed after "
			"%llu calls\n", (unsigned long long)c->n_calls);
	}
	call_client_delete(c);
	bench_server_delete(&bs);
	return ok ? CLI_OK : CLI_FAILED;
fail:
	fprintf(stderr, "kharon bench call: %s\n", diag_msg());
	return CLI_FAILED;
usage:
	fputs(bench_call_usage, stderr);
	return CLI_USAGE;
}
