/*
 * rt.c — rt.h's public functions: dispatch to the runtime an object belongs
 * to (rt_thread.c or rt_sim.c), plus what both share: the current cord and
 * address parsing.
 */
#include "rt/rt.h"
#include "rt/rt_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/diag.h"
#include "trace/trace.h"

static _Thread_local struct rt_cord *rt_cord_tls;

void
rt_cord_enter(struct rt_cord *cord)
{
	rt_cord_tls = cord;
	if (cord != NULL)
		trace_cord_enter(cord->name, cord->rt->vtab->trace_now, cord->rt);
	else
		trace_cord_enter(NULL, NULL, NULL);
}

struct rt_cord *
rt_cord_current(void)
{
	return rt_cord_tls;
}

int
rt_parse_addr(const char *addr, char *host, int *port)
{
	const char *colon = strrchr(addr, ':');
	if (colon == NULL || colon == addr || (size_t)(colon - addr) >= 64)
		goto bad;
	char *end;
	long p = strtol(colon + 1, &end, 10);
	if (*end != '\0' || end == colon + 1 || p < 0 || p > 65535)
		goto bad;
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = '\0';
	*port = (int)p;
	return 0;
bad:
	diag_set(DIAG_ER_SYSTEM, "IllegalParams",
		 "bad address '%s': expected host:port", addr);
	return -1;
}

void rt_delete(struct rt *rt) { rt->vtab->destroy(rt); }
enum rt_mode rt_mode(const struct rt *rt) { return rt->mode; }
int rt_run(struct rt *rt) { return rt->vtab->run(rt); }
uint64_t rt_now(const struct rt *rt) { return rt->vtab->now(rt); }
uint64_t rt_random(struct rt *rt) { return rt->vtab->random(rt); }

struct rt_cord *
rt_cord_new(struct rt *rt, const char *name)
{
	return rt->vtab->cord_new(rt, name);
}

int
rt_cord_start(struct rt_cord *cord, rt_cb_f f, void *arg)
{
	return cord->rt->vtab->cord_start(cord, f, arg);
}

void rt_cord_stop(struct rt_cord *cord) { cord->rt->vtab->cord_stop(cord); }
const char *rt_cord_name(const struct rt_cord *cord) { return cord->name; }
struct rt *rt_cord_rt(const struct rt_cord *cord) { return cord->rt; }

struct rt_defer *
rt_defer_new(struct rt_cord *cord, rt_cb_f cb, void *arg)
{
	return cord->rt->vtab->defer_new(cord, cb, arg);
}

void rt_defer_schedule(struct rt_defer *d) { d->rt->vtab->defer_schedule(d); }
void rt_defer_delete(struct rt_defer *d) { if (d != NULL) d->rt->vtab->defer_delete(d); }

struct rt_wakeup *
rt_wakeup_new(struct rt_cord *cord, rt_cb_f cb, void *arg)
{
	return cord->rt->vtab->wakeup_new(cord, cb, arg);
}

void rt_wakeup_send(struct rt_wakeup *w) { w->rt->vtab->wakeup_send(w); }
void rt_wakeup_delete(struct rt_wakeup *w) { if (w != NULL) w->rt->vtab->wakeup_delete(w); }

struct rt_timer *
rt_timer_new(struct rt_cord *cord, rt_cb_f cb, void *arg)
{
	return cord->rt->vtab->timer_new(cord, cb, arg);
}

void rt_timer_start(struct rt_timer *t, uint64_t after_ns) { t->rt->vtab->timer_start(t, after_ns); }
void rt_timer_stop(struct rt_timer *t) { t->rt->vtab->timer_stop(t); }
bool rt_timer_is_active(const struct rt_timer *t) { return t->rt->vtab->timer_is_active(t); }
void rt_timer_delete(struct rt_timer *t) { if (t != NULL) t->rt->vtab->timer_delete(t); }

struct rt_mutex *rt_mutex_new(struct rt *rt) { return rt->vtab->mutex_new(rt); }
void rt_mutex_lock(struct rt_mutex *m) { m->rt->vtab->mutex_lock(m); }
void rt_mutex_unlock(struct rt_mutex *m) { m->rt->vtab->mutex_unlock(m); }
void rt_mutex_delete(struct rt_mutex *m) { if (m != NULL) m->rt->vtab->mutex_delete(m); }

struct rt_listener *
rt_listen(struct rt *rt, const char *addr)
{
	return rt->vtab->listen(rt, addr);
}

int rt_listener_port(const struct rt_listener *l) { return l->rt->vtab->listener_port(l); }

int
rt_listener_add_cord(struct rt_listener *l, struct rt_cord *cord,
		     rt_accept_f cb, void *arg)
{
	return l->rt->vtab->listener_add_cord(l, cord, cb, arg);
}

void
rt_listener_remove_cord(struct rt_listener *l, struct rt_cord *cord)
{
	l->rt->vtab->listener_remove_cord(l, cord);
}

void rt_listener_delete(struct rt_listener *l) { if (l != NULL) l->rt->vtab->listener_delete(l); }

struct rt_sock *
rt_connect(struct rt *rt, const char *addr, const struct rt_net_opts *net)
{
	return rt->vtab->connect(rt, addr, net);
}

void
rt_sock_watch(struct rt_sock *s, int events, rt_sock_f cb, void *arg)
{
	s->rt->vtab->sock_watch(s, events, cb, arg);
}

int rt_sock_watched(const struct rt_sock *s) { return s->rt->vtab->sock_watched(s); }
void rt_sock_feed(struct rt_sock *s, int events) { s->rt->vtab->sock_feed(s, events); }

ssize_t
rt_sock_read(struct rt_sock *s, void *buf, size_t size)
{
	return s->rt->vtab->sock_read(s, buf, size);
}

ssize_t
rt_sock_writev(struct rt_sock *s, const struct iovec *iov, int iovcnt)
{
	return s->rt->vtab->sock_writev(s, iov, iovcnt);
}

void rt_sock_close(struct rt_sock *s, bool reset) { s->rt->vtab->sock_close(s, reset); }
const char *rt_sock_peer(const struct rt_sock *s) { return s->rt->vtab->sock_peer(s); }
