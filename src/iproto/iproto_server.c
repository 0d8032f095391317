/*
 * iproto_server.c — assembling the server: the TX cord with its task pool,
 * N network cords, their endpoints, pipes and routes, the listener; and
 * taking it apart again gracefully. See iproto.h.
 *
 * Set-up order matters for cbus: every endpoint exists before any cord
 * starts, then each cord creates the pipes it produces into (TX: one
 * net_pipe per network cord; each network cord: its tx_pipe).
 * Lessons: lessons/en/01-two-worlds.md, lessons/en/09-iproto-threads.md
 * (several network cords, Tarantool 2.8's iproto_threads).
 */
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "iproto/iproto_connection.h"
#include "rt/rt.h"
#include "trace/trace.h"

void
iproto_opts_default(struct iproto_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	snprintf(opts->listen, sizeof(opts->listen), "127.0.0.1:3301");
	opts->iproto_threads = 1;
	opts->push_mode = PUSH_MODE_KHARON;
	opts->readahead = 16320;
	opts->net_msg_max = 768;
	opts->obuf_limit = 0;
	opts->obuf_soft_limit = 0;
	opts->obuf_soft_ns = 0;
	opts->max_packet = IPROTO_PACKET_MAX_DEFAULT;
	opts->obuf_chunk = 0;
}

/**
 * The routes of one network cord (Tarantool 2.8's iproto_thread_init_routes):
 * per cord, because their pipes are; 2.6 has one static const table each
 * (connect_route, push_route, ...), its pipes being global.
 */
static void
iproto_thread_init_routes(struct iproto_thread *t)
{
	struct cpipe *net = &t->net_pipe;
	struct cpipe *tx = &t->tx_pipe;
	t->connect_route[0] = (struct cmsg_hop)CMSG_HOP(tx_process_connect, net);
	t->connect_route[1] = (struct cmsg_hop)CMSG_HOP(net_send_greeting, NULL);
	t->request_route[0] = (struct cmsg_hop)CMSG_HOP(tx_process_request, net);
	t->request_route[1] = (struct cmsg_hop)CMSG_HOP(net_send_msg, NULL);
	t->error_route[0] = (struct cmsg_hop)CMSG_HOP(tx_process_error, net);
	t->error_route[1] = (struct cmsg_hop)CMSG_HOP(net_send_msg, NULL);
	t->disconnect_route[0] =
		(struct cmsg_hop)CMSG_HOP(tx_process_disconnect, net);
	t->disconnect_route[1] =
		(struct cmsg_hop)CMSG_HOP(net_finish_disconnect, NULL);
	t->destroy_route[0] = (struct cmsg_hop)CMSG_HOP(tx_process_destroy, net);
	t->destroy_route[1] = (struct cmsg_hop)CMSG_HOP(net_finish_destroy, NULL);
	/* Kharon's route starts on the net bank: TX sends him into net_pipe. */
	t->push_route[0] = (struct cmsg_hop)CMSG_HOP(net_kharon_arrive, tx);
	t->push_route[1] = (struct cmsg_hop)CMSG_HOP(tx_kharon_return, NULL);
	t->per_push_route[0] = (struct cmsg_hop)CMSG_HOP(net_push_arrive, tx);
	t->per_push_route[1] = (struct cmsg_hop)CMSG_HOP(tx_push_msg_done, NULL);
	t->discard_route[0] = (struct cmsg_hop)CMSG_HOP(net_discard_input, NULL);
	t->close_route[0] = (struct cmsg_hop)CMSG_HOP(net_close_by_tx, NULL);
	t->done_route[0] = (struct cmsg_hop)CMSG_HOP(tx_thread_done, NULL);
	t->grace_route[0] = (struct cmsg_hop)CMSG_HOP(tx_cancel_waiting, NULL);
}

static void
net_shutdown_close_idle(struct iproto_thread *t)
{
	struct rlist *item, *tmp;
	rlist_foreach_safe(item, &t->connections, tmp) {
		struct iproto_connection *con =
			container_of(item, struct iproto_connection, in_thread);
		if (con->state == IPROTO_CONNECTION_ALIVE)
			net_feed_output(con);
	}
}

/** Time the cut-short replies get to reach their clients (below). */
enum { NET_SHUTDOWN_LINGER_NS = 1000 * 1000 * 1000 };

/**
 * The shutdown timer, in two stages. First the grace period is over: tell
 * the procedures still looping (is_grace_over) and have TX cut short the
 * calls still waiting (tx_cancel_waiting). Their error replies come back
 * like any reply, each connection closes itself once it has nothing in
 * flight and all is written (net_output). Then, a second later, whatever
 * is left — a client that does not read its replies — is closed anyway,
 * so that every connection can be destroyed and the cord can finish.
 */
static void
net_on_shutdown_timer(void *arg)
{
	struct iproto_thread *t = arg;
	if (!t->is_grace_over) {
		t->is_grace_over = true;
		__atomic_store_n(&t->server->is_grace_over, 1, __ATOMIC_RELAXED);
		cmsg_init(&t->grace_msg, t->grace_route);
		cpipe_push(&t->tx_pipe, &t->grace_msg);
		rt_timer_start(t->shutdown_timer, NET_SHUTDOWN_LINGER_NS);
		return;
	}
	struct rlist *item, *tmp;
	rlist_foreach_safe(item, &t->connections, tmp) {
		struct iproto_connection *con =
			container_of(item, struct iproto_connection, in_thread);
		net_connection_close(con);
	}
}

/** On the network cord: stop accepting and reading, drain, then say done. */
static void
net_on_shutdown(void *arg)
{
	struct iproto_thread *t = arg;
	if (t->is_shutting_down)
		return;
	t->is_shutting_down = true;
	TRACE("net.shutdown", TI("connections", t->n_connections));
	rt_listener_remove_cord(t->server->listener, t->cord);
	if (t->n_connections == 0) {
		rt_timer_stop(t->shutdown_timer);
		cmsg_init(&t->done_msg, t->done_route);
		cpipe_push(&t->tx_pipe, &t->done_msg);
		return;
	}
	net_shutdown_close_idle(t);
	rt_timer_start(t->shutdown_timer,
		       __atomic_load_n(&t->server->grace_ns, __ATOMIC_ACQUIRE));
}

/**
 * First callback of a network cord (Tarantool's net_cord_f): its pipe to
 * TX, with max_input net_msg_max / 2 as Tarantool sets it, and its share
 * of the listener (2.8's iproto threads all accept on one socket).
 */
static void
net_cord_start(void *arg)
{
	struct iproto_thread *t = arg;
	if (cpipe_create(&t->tx_pipe, "tx") != 0 ||
	    rt_listener_add_cord(t->server->listener, t->cord, net_on_accept,
				 t) != 0) {
		fprintf(stderr, "kharon: %s: %s\n", t->name, diag_msg());
		rt_cord_stop(t->cord);
		return;
	}
	cpipe_set_max_input(&t->tx_pipe, t->server->opts.net_msg_max / 2);
}

/**
 * First callback of TX: a net_pipe to each network cord, max_input
 * net_msg_max / 2 (what Tarantool's iproto_init does in TX).
 */
static void
tx_cord_start(void *arg)
{
	struct iproto_server *server = arg;
	for (int i = 0; i < server->n_threads; i++) {
		struct iproto_thread *t = &server->threads[i];
		if (cpipe_create(&t->net_pipe, t->name) != 0) {
			fprintf(stderr, "kharon: tx: %s\n", diag_msg());
			return;
		}
		cpipe_set_max_input(&t->net_pipe, server->opts.net_msg_max / 2);
	}
}

/**
 * Tarantool 2.8's iproto_init(threads_count): TX's endpoint and task pool
 * (net_msg_max × 5, Tarantool's fiber pool size), then per network cord
 * its endpoint "netN" and routes (iproto_thread_init_routes).
 */
struct iproto_server *
iproto_server_new(struct rt *rt, const struct iproto_opts *opts)
{
	struct iproto_server *server = mem_zalloc(sizeof(*server));
	if (server == NULL) {
		diag_set_oom(sizeof(*server), "server");
		return NULL;
	}
	server->rt = rt;
	server->opts = *opts;
	if (server->opts.obuf_chunk == 0)
		server->opts.obuf_chunk = server->opts.readahead;
	if (server->opts.net_msg_max < 2)
		server->opts.net_msg_max = 2;
	int n_threads = opts->iproto_threads > 0 ? opts->iproto_threads : 1;
	server->threads = mem_zalloc(sizeof(*server->threads) *
				     (size_t)n_threads);
	if (server->threads == NULL) {
		diag_set_oom(sizeof(*server->threads) * (size_t)n_threads,
			     "iproto threads");
		goto fail;
	}
	server->n_threads = n_threads;
	obuf_cache_create(&server->obuf_cache);
	server->listener = rt_listen(rt, opts->listen);
	if (server->listener == NULL)
		goto fail;
	server->tx_cord = rt_cord_new(rt, "tx");
	if (server->tx_cord == NULL ||
	    task_pool_create(&server->tasks, server->tx_cord,
			     server->opts.net_msg_max * 5) != 0 ||
	    cbus_endpoint_create(&server->tx_endpoint, "tx", server->tx_cord,
				 task_pool_fetch, &server->tasks) != 0)
		goto fail;
	for (int i = 0; i < server->n_threads; i++) {
		struct iproto_thread *t = &server->threads[i];
		t->server = server;
		t->id = i;
		snprintf(t->name, sizeof(t->name), "net%d", i);
		rlist_create(&t->stopped);
		rlist_create(&t->connections);
		stailq_create(&t->msg_free);
		iproto_thread_init_routes(t);
		t->cord = rt_cord_new(rt, t->name);
		if (t->cord == NULL ||
		    cbus_endpoint_create(&t->endpoint, t->name, t->cord, NULL,
					 NULL) != 0 ||
		    (t->shutdown_wakeup = rt_wakeup_new(t->cord, net_on_shutdown,
							t)) == NULL ||
		    (t->shutdown_timer = rt_timer_new(t->cord,
						      net_on_shutdown_timer,
						      t)) == NULL)
			goto fail;
	}
	return server;
fail: {
	/* Undo what was made; the cords stay with the runtime. */
	struct diag err = *diag_last();
	iproto_server_delete(server);
	*diag_last() = err;
	return NULL;
}
}

int
iproto_server_start(struct iproto_server *server)
{
	if (rt_cord_start(server->tx_cord, tx_cord_start, server) != 0)
		return -1;
	for (int i = 0; i < server->n_threads; i++)
		if (rt_cord_start(server->threads[i].cord, net_cord_start,
				  &server->threads[i]) != 0)
			return -1;
	return 0;
}

void
iproto_server_shutdown(struct iproto_server *server, uint64_t grace_ns)
{
	/* Any thread: the doorbell below carries no memory order for TSan. */
	__atomic_store_n(&server->grace_ns, grace_ns, __ATOMIC_RELEASE);
	for (int i = 0; i < server->n_threads; i++)
		rt_wakeup_send(server->threads[i].shutdown_wakeup);
}

int
iproto_server_port(const struct iproto_server *server)
{
	return rt_listener_port(server->listener);
}

void
iproto_server_set_net_msg_max(struct iproto_server *server, int n)
{
	server->opts.net_msg_max = n < 2 ? 2 : n;
	for (int i = 0; i < server->n_threads; i++) {
		struct iproto_thread *t = &server->threads[i];
		cpipe_set_max_input(&t->net_pipe, server->opts.net_msg_max / 2);
		cpipe_set_max_input(&t->tx_pipe, server->opts.net_msg_max / 2);
	}
}

void
iproto_server_set_readahead(struct iproto_server *server, size_t n)
{
	server->opts.readahead = n;
}

struct rt_cord *
iproto_server_cord(struct iproto_server *server, const char *name)
{
	if (strcmp(rt_cord_name(server->tx_cord), name) == 0)
		return server->tx_cord;
	for (int i = 0; i < server->n_threads; i++)
		if (strcmp(rt_cord_name(server->threads[i].cord), name) == 0)
			return server->threads[i].cord;
	return NULL;
}

void
iproto_server_stats(const struct iproto_server *server,
		    struct iproto_stats *stats)
{
	memset(stats, 0, sizeof(*stats));
	for (int i = 0; i < server->n_threads; i++) {
		const struct iproto_stats *s = &server->threads[i].stats;
		stats->n_connections += s->n_connections;
		stats->n_requests += s->n_requests;
		stats->n_writev += s->n_writev;
		stats->n_obuf_limit_closes += s->n_obuf_limit_closes;
		stats->n_input_stops += s->n_input_stops;
		stats->n_net_msg_max_parks += s->n_net_msg_max_parks;
	}
	stats->n_pushes = server->n_pushes;
	stats->n_push_msgs = server->n_push_msgs;
}

void
iproto_server_delete(struct iproto_server *server)
{
	for (int i = 0; i < server->n_threads; i++) {
		struct iproto_thread *t = &server->threads[i];
		if (t->tx_pipe.endpoint != NULL)
			cpipe_destroy(&t->tx_pipe);
		if (t->net_pipe.endpoint != NULL)
			cpipe_destroy(&t->net_pipe);
	}
	for (int i = 0; i < server->n_threads; i++) {
		struct iproto_thread *t = &server->threads[i];
		if (t->endpoint.mutex != NULL)
			cbus_endpoint_destroy(&t->endpoint);
		rt_wakeup_delete(t->shutdown_wakeup);
		rt_timer_delete(t->shutdown_timer);
		struct stailq_entry *e;
		while ((e = stailq_shift(&t->msg_free)) != NULL)
			mem_free(container_of(e, struct iproto_msg, base.fifo));
	}
	if (server->tx_endpoint.mutex != NULL)
		cbus_endpoint_destroy(&server->tx_endpoint);
	if (server->tasks.tasks != NULL)
		task_pool_destroy(&server->tasks);
	/* TX has stopped: its kept output chunks go now. */
	obuf_cache_destroy(&server->obuf_cache);
	rt_listener_delete(server->listener);
	mem_free(server->threads);
	mem_free(server);
}
