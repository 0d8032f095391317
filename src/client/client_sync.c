/*
 * client_sync.c — the blocking facade. See client_sync.h for the picture.
 *
 * Backend vocabulary (scaproust's): a Cmd goes from the user thread to the
 * I/O cord (CALL, PING, CLOSE); an Evt comes back (CONNECTED, PUSH, REPLY,
 * CLOSED). Every Cmd and Evt owns copies of its bytes: nothing is shared
 * between the two threads except the two queues.
 *
 * Every Evt has a cost (its struct and its bytes), added to `queued` when
 * posted and taken off when the user thread takes it, both under evt_lock;
 * the I/O cord pauses reading above max_queued and resumes on the doorbell
 * once the user thread saw the queue at or below half of it.
 *
 * One call at a time: the I/O cord remembers its sync (cur_sync). A
 * timeout answers the call with ER_TIMEOUT and forgets the sync, so the
 * late pushes and reply of that call are dropped instead of being taken
 * for the next call's.
 *
 * Out of memory on the I/O cord: the connection is closed with that
 * reason; the CLOSED Evt is embedded in the connection, so it can always
 * be delivered, and the user's blocked call returns -1.
 */
#include "client/client_sync.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <threads.h>

#include "base/diag.h"
#include "base/list.h"
#include "base/mem.h"
#include "client/iproto_client.h"
#include "proto/errcode.h"
#include "proto/iproto_constants.h"
#include "rt/rt.h"

enum client_cmd {
	CLIENT_CMD_CALL,
	CLIENT_CMD_PING,
	CLIENT_CMD_CLOSE,
};

enum client_evt {
	CLIENT_EVT_CONNECTED,
	CLIENT_EVT_PUSH,
	CLIENT_EVT_REPLY,
	CLIENT_EVT_CLOSED,
};

struct client_cmd_msg {
	struct rlist link;
	enum client_cmd cmd;
	/** CALL, PING: 0 or the timeout for this request. */
	uint64_t timeout_ns;
	/** CALL: the function name and the args array; owned. */
	char *name;
	uint32_t name_len;
	char *args;
	size_t args_len;
};

struct client_evt_msg {
	struct rlist link;
	enum client_evt evt;
	/** REPLY: the response code. */
	uint32_t code;
	/** PUSH: the value; REPLY: the DATA array. Owned, may be NULL. */
	char *data;
	size_t data_len;
	/** REPLY with an error: the message, NUL-terminated; owned. */
	char *error;
	/** CLOSED: why. */
	struct diag why;
	/** Bytes this Evt counts for in client_sync.queued. */
	size_t cost;
};

struct client_sync {
	struct rt *rt;
	struct rt_cord *cord;
	struct rt_wakeup *wakeup;
	/** Owned by the I/O cord while it runs. */
	struct iproto_client *core;
	char addr[64];
	/** Cmds, user → I/O cord. */
	struct rt_mutex *cmd_lock;
	struct rlist cmds;
	/** Evts, I/O cord → user, guarded by evt_lock. */
	struct rt_mutex *evt_lock;
	struct rlist evts;
	/**
	 * The user thread sleeps on wait_cond until n_posted moves. The
	 * queue itself is under the rt_mutex: glibc's C11 mtx_t is invisible
	 * to ThreadSanitizer, so it guards only this atomic counter.
	 */
	mtx_t wait_lock;
	cnd_t wait_cond;
	atomic_uint_fast64_t n_posted;
	/** I/O cord: the CLOSED Evt, embedded so that it cannot fail. */
	struct client_evt_msg closed_evt;
	bool is_closed_posted;
	/** I/O cord: an OOM that made us close (the CLOSED Evt's reason). */
	struct diag io_error;
	/** Limits, copied at connect. call_timeout_ns: the user thread's. */
	struct client_sync_opts opts;
	/**
	 * Under evt_lock: bytes queued, the counters, and the pause state
	 * (is_paused set and cleared by the I/O cord; is_resume_asked by
	 * the user thread when it rang the doorbell to resume).
	 */
	struct client_sync_stats stats;
	bool is_paused;
	bool is_resume_asked;
	/** I/O cord: the connect/greeting timer and the call timer. */
	struct rt_timer *connect_timer;
	struct rt_timer *call_timer;
	/** I/O cord: the sync of the call in flight (0: none), its timeout. */
	uint64_t cur_sync;
	uint64_t cur_timeout_ns;
	/** User thread: CLOSED seen; every later call fails at once. */
	bool is_closed;
	struct diag close_reason;
};

/* ------------------------------------------------------ I/O cord side */

/**
 * Queue `e` for the user thread and wake it. Returns true when the queue
 * has just grown past max_queued (the caller, a push, pauses reading).
 */
static bool
io_post(struct client_sync *c, struct client_evt_msg *e)
{
	bool is_over = false;
	e->cost = sizeof(*e) + e->data_len;
	if (e->error != NULL)
		e->cost += strlen(e->error) + 1;
	rt_mutex_lock(c->evt_lock);
	rlist_add_tail(&c->evts, &e->link);
	c->stats.queued += e->cost;
	if (c->stats.queued > c->stats.max_queued_seen)
		c->stats.max_queued_seen = c->stats.queued;
	if (!c->is_paused && c->stats.queued > c->opts.max_queued) {
		c->is_paused = true;
		c->stats.n_pauses++;
		is_over = true;
	}
	rt_mutex_unlock(c->evt_lock);
	mtx_lock(&c->wait_lock);
	atomic_fetch_add(&c->n_posted, 1);
	cnd_signal(&c->wait_cond);
	mtx_unlock(&c->wait_lock);
	return is_over;
}

static void
evt_free(struct client_sync *c, struct client_evt_msg *e)
{
	mem_free(e->data);
	mem_free(e->error);
	if (e != &c->closed_evt)
		mem_free(e);
}

/** An Evt with a copy of [data, data + len); NULL on OOM (diag set). */
static struct client_evt_msg *
io_evt_new(enum client_evt evt, const char *data, size_t len)
{
	struct client_evt_msg *e = mem_zalloc(sizeof(*e));
	if (e == NULL) {
		diag_set_oom(sizeof(*e), "client Evt");
		return NULL;
	}
	e->evt = evt;
	if (data != NULL && len > 0) {
		e->data = mem_alloc(len);
		if (e->data == NULL) {
			diag_set_oom(len, "client Evt data");
			mem_free(e);
			return NULL;
		}
		memcpy(e->data, data, len);
		e->data_len = len;
	}
	return e;
}

/** OOM on the I/O cord: close, remembering why. */
static void
io_fail(struct client_sync *c)
{
	c->io_error = *diag_last();
	iproto_client_disconnect(c->core, true);
}

static void
io_on_connect(void *arg, const struct greeting *g)
{
	(void)g;
	struct client_sync *c = arg;
	rt_timer_stop(c->connect_timer);
	struct client_evt_msg *e = io_evt_new(CLIENT_EVT_CONNECTED, NULL, 0);
	if (e == NULL) {
		io_fail(c);
		return;
	}
	io_post(c, e);
}

static void
io_on_close(void *arg, const struct diag *why)
{
	struct client_sync *c = arg;
	if (c->is_closed_posted)
		return;
	c->is_closed_posted = true;
	rt_timer_stop(c->connect_timer);
	rt_timer_stop(c->call_timer);
	struct client_evt_msg *e = &c->closed_evt;
	memset(e, 0, sizeof(*e));
	e->evt = CLIENT_EVT_CLOSED;
	if (why != NULL) {
		e->why = *why;
	} else if (c->io_error.code != 0) {
		e->why = c->io_error;
	} else {
		diag_set(ER_NO_CONNECTION, "ClientError",
			 "Connection closed by the client");
		e->why = *diag_last();
	}
	io_post(c, e);
}

/** A push or reply of a call that timed out: dropped, counted. */
static void
io_count_stale(struct client_sync *c)
{
	rt_mutex_lock(c->evt_lock);
	c->stats.n_stale_dropped++;
	rt_mutex_unlock(c->evt_lock);
}

static void
io_on_push(void *ctx, uint64_t sync, const char *data, const char *data_end)
{
	struct client_sync *c = ctx;
	if (sync != c->cur_sync) {
		io_count_stale(c);
		return;
	}
	/* A push is a sign of life: the timeout counts from the last. */
	if (c->cur_timeout_ns != 0)
		rt_timer_start(c->call_timer, c->cur_timeout_ns);
	struct client_evt_msg *e = io_evt_new(CLIENT_EVT_PUSH, data,
					      (size_t)(data_end - data));
	if (e == NULL) {
		io_fail(c);
		return;
	}
	/* Pausing here also stops delivering what is already buffered. */
	if (io_post(c, e))
		iproto_client_pause_reading(c->core);
}

static void
io_on_reply(void *ctx, uint64_t sync, uint32_t code, const char *data,
	    const char *data_end, const char *error, uint32_t error_len)
{
	struct client_sync *c = ctx;
	if (sync != c->cur_sync) {
		io_count_stale(c);
		return;
	}
	c->cur_sync = 0;
	rt_timer_stop(c->call_timer);
	struct client_evt_msg *e = io_evt_new(CLIENT_EVT_REPLY, data,
					      (size_t)(data_end - data));
	if (e == NULL)
		goto oom;
	e->code = code;
	if (error != NULL) {
		e->error = mem_alloc(error_len + 1);
		if (e->error == NULL) {
			diag_set_oom(error_len + 1, "client error message");
			evt_free(c, e);
			goto oom;
		}
		memcpy(e->error, error, error_len);
		e->error[error_len] = '\0';
	}
	io_post(c, e);
	return;
oom:
	/* Closing fails this very request again: the user sees CLOSED. */
	io_fail(c);
}

/** A request the core refused (closed, OOM): answer it as an error. */
static void
io_reply_error(struct client_sync *c)
{
	const struct diag *d = diag_last();
	c->cur_sync = 0;
	io_on_reply(c, 0, IPROTO_TYPE_ERROR | (uint32_t)d->code, NULL, NULL,
		    d->msg, (uint32_t)strlen(d->msg));
}

static void
io_run_cmd(struct client_sync *c, struct client_cmd_msg *m)
{
	const struct iproto_client_handler h = {
		.on_push = io_on_push, .on_reply = io_on_reply, .ctx = c,
	};
	uint64_t sync = 1;
	switch (m->cmd) {
	case CLIENT_CMD_CALL:
		sync = iproto_client_call(c->core, m->name, m->name_len,
					  m->args, m->args + m->args_len, &h);
		break;
	case CLIENT_CMD_PING:
		sync = iproto_client_ping(c->core, &h);
		break;
	case CLIENT_CMD_CLOSE:
		iproto_client_disconnect(c->core, false);
		rt_cord_stop(c->cord);
		return;
	}
	if (sync == 0) {
		io_reply_error(c);
		return;
	}
	c->cur_sync = sync;
	c->cur_timeout_ns = m->timeout_ns;
	if (m->timeout_ns != 0)
		rt_timer_start(c->call_timer, m->timeout_ns);
}

/** The call in flight took too long: answer it, forget its sync. */
static void
io_on_call_timeout(void *arg)
{
	struct client_sync *c = arg;
	if (c->cur_sync == 0)
		return;
	rt_mutex_lock(c->evt_lock);
	bool is_paused = c->is_paused;
	rt_mutex_unlock(c->evt_lock);
	if (is_paused) {
		/* Silence of our own making (a slow user): not the server's. */
		rt_timer_start(c->call_timer, c->cur_timeout_ns);
		return;
	}
	uint64_t sync = c->cur_sync;
	static const char msg[] = "Timeout exceeded";
	io_on_reply(c, sync, IPROTO_TYPE_ERROR | ER_TIMEOUT, NULL, NULL, msg,
		    (uint32_t)strlen(msg));
}

/** No greeting in time: close, ER_TIMEOUT being the reason. */
static void
io_on_connect_timeout(void *arg)
{
	struct client_sync *c = arg;
	diag_set(ER_TIMEOUT, "TimedOut",
		 "Timeout exceeded: no greeting from %s within %.3f s",
		 c->addr, (double)c->opts.connect_timeout_ns / 1e9);
	c->io_error = *diag_last();
	iproto_client_disconnect(c->core, true);
}

/** The doorbell's second job: resume reading once the queue drained. */
static void
io_check_resume(struct client_sync *c)
{
	bool is_resume = false;
	rt_mutex_lock(c->evt_lock);
	if (c->is_paused && c->stats.queued <= c->opts.max_queued / 2) {
		c->is_paused = false;
		c->stats.n_resumes++;
		is_resume = true;
	}
	c->is_resume_asked = false;
	rt_mutex_unlock(c->evt_lock);
	if (is_resume)
		iproto_client_resume_reading(c->core);
}

static void
cmd_free(struct client_cmd_msg *m)
{
	mem_free(m->name);
	mem_free(m->args);
	mem_free(m);
}

/** The doorbell: run every queued Cmd. */
static void
io_on_wakeup(void *arg)
{
	struct client_sync *c = arg;
	struct rlist batch;
	rlist_create(&batch);
	rt_mutex_lock(c->cmd_lock);
	while (!rlist_empty(&c->cmds))
		rlist_add_tail(&batch, rlist_shift(&c->cmds));
	rt_mutex_unlock(c->cmd_lock);
	while (!rlist_empty(&batch)) {
		struct client_cmd_msg *m = container_of(rlist_shift(&batch),
							struct client_cmd_msg,
							link);
		io_run_cmd(c, m);
		cmd_free(m);
	}
	io_check_resume(c);
}

static void
io_start(void *arg)
{
	struct client_sync *c = arg;
	if (c->opts.connect_timeout_ns != 0)
		rt_timer_start(c->connect_timer, c->opts.connect_timeout_ns);
	if (iproto_client_connect(c->core, c->addr, NULL) != 0) {
		c->io_error = *diag_last();
		io_on_close(c, &c->io_error);
	}
}

/* ---------------------------------------------------------- user side */

static int
user_send(struct client_sync *c, struct client_cmd_msg *m)
{
	rt_mutex_lock(c->cmd_lock);
	rlist_add_tail(&c->cmds, &m->link);
	rt_mutex_unlock(c->cmd_lock);
	rt_wakeup_send(c->wakeup);
	return 0;
}

static struct client_evt_msg *
user_wait(struct client_sync *c)
{
	for (;;) {
		/* An Evt queued after this snapshot moves n_posted past it. */
		uint_fast64_t seen = atomic_load(&c->n_posted);
		struct client_evt_msg *e = NULL;
		bool is_ring = false;
		rt_mutex_lock(c->evt_lock);
		if (!rlist_empty(&c->evts)) {
			e = container_of(rlist_shift(&c->evts),
					 struct client_evt_msg, link);
			c->stats.queued -= e->cost;
			if (c->is_paused && !c->is_resume_asked &&
			    c->stats.queued <= c->opts.max_queued / 2) {
				c->is_resume_asked = true;
				is_ring = true;
			}
		}
		rt_mutex_unlock(c->evt_lock);
		if (is_ring)
			rt_wakeup_send(c->wakeup);
		if (e != NULL)
			return e;
		mtx_lock(&c->wait_lock);
		while (atomic_load(&c->n_posted) == seen)
			cnd_wait(&c->wait_cond, &c->wait_lock);
		mtx_unlock(&c->wait_lock);
	}
}

/** Mark closed and set diag to the reason. */
static void
user_closed(struct client_sync *c, const struct diag *why)
{
	c->is_closed = true;
	c->close_reason = *why;
	*diag_last() = *why;
}

/**
 * Send `m` and wait for its REPLY, handing PUSHes to on_push. 0 on OK,
 * -1 + diag otherwise.
 */
static int
user_request(struct client_sync *c, struct client_cmd_msg *m,
	     client_push_f on_push, void *ctx, struct client_result *result)
{
	memset(result, 0, sizeof(*result));
	if (c->is_closed) {
		cmd_free(m);
		*diag_last() = c->close_reason;
		result->code = IPROTO_TYPE_ERROR | ER_NO_CONNECTION;
		return -1;
	}
	user_send(c, m);
	for (;;) {
		struct client_evt_msg *e = user_wait(c);
		switch (e->evt) {
		case CLIENT_EVT_CONNECTED:
			break;
		case CLIENT_EVT_PUSH:
			result->n_pushes++;
			if (on_push != NULL)
				on_push(ctx, e->data, e->data + e->data_len);
			break;
		case CLIENT_EVT_REPLY: {
			result->code = e->code;
			result->data = e->data;
			result->data_len = e->data_len;
			result->error = e->error;
			e->data = NULL;
			e->error = NULL;
			evt_free(c, e);
			if ((result->code & IPROTO_TYPE_ERROR) == 0)
				return 0;
			diag_set((int)(result->code & ~IPROTO_TYPE_ERROR),
				 "ClientError", "%s",
				 result->error != NULL ? result->error : "");
			return -1;
		}
		case CLIENT_EVT_CLOSED:
			user_closed(c, &e->why);
			result->code = IPROTO_TYPE_ERROR | ER_NO_CONNECTION;
			return -1;
		}
		evt_free(c, e);
	}
}

static struct client_cmd_msg *
cmd_new(enum client_cmd cmd)
{
	struct client_cmd_msg *m = mem_zalloc(sizeof(*m));
	if (m == NULL)
		diag_set_oom(sizeof(*m), "client Cmd");
	else
		m->cmd = cmd;
	return m;
}

int
client_call(struct client_sync *c, const char *function, const char *args,
	    const char *args_end, client_push_f on_push, void *ctx,
	    struct client_result *result)
{
	static const char no_args[] = { (char)0x90 };
	if (args == NULL) {
		args = no_args;
		args_end = no_args + 1;
	}
	memset(result, 0, sizeof(*result));
	struct client_cmd_msg *m = cmd_new(CLIENT_CMD_CALL);
	if (m == NULL)
		return -1;
	m->timeout_ns = c->opts.call_timeout_ns;
	m->name_len = (uint32_t)strlen(function);
	m->args_len = (size_t)(args_end - args);
	m->name = mem_alloc(m->name_len + 1);
	m->args = mem_alloc(m->args_len);
	if (m->name == NULL || m->args == NULL) {
		diag_set_oom(m->name_len + m->args_len, "client Cmd CALL");
		cmd_free(m);
		return -1;
	}
	memcpy(m->name, function, m->name_len + 1);
	memcpy(m->args, args, m->args_len);
	return user_request(c, m, on_push, ctx, result);
}

int
client_ping(struct client_sync *c)
{
	struct client_cmd_msg *m = cmd_new(CLIENT_CMD_PING);
	if (m == NULL)
		return -1;
	m->timeout_ns = c->opts.call_timeout_ns;
	struct client_result r;
	int rc = user_request(c, m, NULL, NULL, &r);
	client_result_destroy(&r);
	return rc;
}

void
client_result_destroy(struct client_result *r)
{
	mem_free(r->data);
	mem_free(r->error);
	r->data = NULL;
	r->error = NULL;
}

/** Free what exists of `c`; the cord has been joined or never started. */
static void
client_sync_free(struct client_sync *c)
{
	iproto_client_delete(c->core);
	if (c->connect_timer != NULL)
		rt_timer_delete(c->connect_timer);
	if (c->call_timer != NULL)
		rt_timer_delete(c->call_timer);
	if (c->wakeup != NULL)
		rt_wakeup_delete(c->wakeup);
	while (!rlist_empty(&c->cmds))
		cmd_free(container_of(rlist_shift(&c->cmds),
				      struct client_cmd_msg, link));
	while (!rlist_empty(&c->evts))
		evt_free(c, container_of(rlist_shift(&c->evts),
					 struct client_evt_msg, link));
	if (c->cmd_lock != NULL)
		rt_mutex_delete(c->cmd_lock);
	if (c->evt_lock != NULL)
		rt_mutex_delete(c->evt_lock);
	if (c->rt != NULL)
		rt_delete(c->rt);
	mtx_destroy(&c->wait_lock);
	cnd_destroy(&c->wait_cond);
	mem_free(c);
}

void
client_close(struct client_sync *c)
{
	if (c == NULL)
		return;
	struct client_cmd_msg *m = cmd_new(CLIENT_CMD_CLOSE);
	if (m != NULL) {
		user_send(c, m);
	} else {
		/* No memory even for a Cmd: stop the cord bluntly. */
		rt_cord_stop(c->cord);
	}
	rt_run(c->rt);
	client_sync_free(c);
}

void
client_sync_opts_default(struct client_sync_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->connect_timeout_ns =
		(uint64_t)CLIENT_SYNC_TIMEOUT_DEFAULT_S * 1000000000;
	opts->call_timeout_ns = opts->connect_timeout_ns;
	opts->max_queued = CLIENT_SYNC_MAX_QUEUED_DEFAULT;
}

void
client_sync_set_call_timeout(struct client_sync *c, uint64_t timeout_ns)
{
	c->opts.call_timeout_ns = timeout_ns;
}

void
client_sync_stats(struct client_sync *c, struct client_sync_stats *stats)
{
	rt_mutex_lock(c->evt_lock);
	*stats = c->stats;
	rt_mutex_unlock(c->evt_lock);
}

struct client_sync *
client_sync_connect(const char *addr, const struct client_sync_opts *opts)
{
	struct client_sync *c = mem_zalloc(sizeof(*c));
	if (c == NULL) {
		diag_set_oom(sizeof(*c), "struct client_sync");
		return NULL;
	}
	rlist_create(&c->cmds);
	rlist_create(&c->evts);
	if (opts != NULL)
		c->opts = *opts;
	else
		client_sync_opts_default(&c->opts);
	if (c->opts.max_queued == 0)
		c->opts.max_queued = CLIENT_SYNC_MAX_QUEUED_DEFAULT;
	atomic_init(&c->n_posted, 0);
	if (mtx_init(&c->wait_lock, mtx_plain) != thrd_success) {
		diag_set(ER_SYSTEM, "SystemError", "mtx_init failed");
		mem_free(c);
		return NULL;
	}
	if (cnd_init(&c->wait_cond) != thrd_success) {
		diag_set(ER_SYSTEM, "SystemError", "cnd_init failed");
		mtx_destroy(&c->wait_lock);
		mem_free(c);
		return NULL;
	}
	if (strlen(addr) >= sizeof(c->addr)) {
		diag_set(ER_SYSTEM, "IllegalParams", "address too long: %s",
			 addr);
		goto err_free;
	}
	strcpy(c->addr, addr);
	const struct iproto_client_cbs cbs = {
		.on_connect = io_on_connect, .on_close = io_on_close, .arg = c,
	};
	if ((c->rt = rt_thread_new()) == NULL ||
	    (c->cord = rt_cord_new(c->rt, "client")) == NULL ||
	    (c->cmd_lock = rt_mutex_new(c->rt)) == NULL ||
	    (c->evt_lock = rt_mutex_new(c->rt)) == NULL ||
	    (c->wakeup = rt_wakeup_new(c->cord, io_on_wakeup, c)) == NULL ||
	    (c->connect_timer = rt_timer_new(c->cord, io_on_connect_timeout,
					     c)) == NULL ||
	    (c->call_timer = rt_timer_new(c->cord, io_on_call_timeout,
					  c)) == NULL ||
	    (c->core = iproto_client_new(c->cord, NULL, &cbs)) == NULL ||
	    rt_cord_start(c->cord, io_start, c) != 0)
		goto err_free;
	struct client_evt_msg *e = user_wait(c);
	if (e->evt == CLIENT_EVT_CONNECTED) {
		evt_free(c, e);
		return c;
	}
	/* CLOSED: refused, reset, or not an iproto server. */
	struct diag why = e->why;
	client_close(c);
	*diag_last() = why;
	return NULL;
err_free: {
	struct diag d = *diag_last();
	client_sync_free(c);
	*diag_last() = d;
	return NULL;
}
}
