/*
 * rt_private.h — what the two runtimes share behind rt.h.
 *
 * rt.h is one set of functions; which runtime answers depends on the object.
 * Every object an implementation allocates starts with a pointer to its
 * struct rt, whose vtab is the implementation: rt.c dispatches through it.
 * Only rt.c, rt_thread.c and rt_sim.c include this file.
 */
#ifndef KHARON_RT_RT_PRIVATE_H
#define KHARON_RT_RT_PRIVATE_H

#include "rt/rt.h"

enum { RT_CORD_NAME_MAX = 16 };

struct rt_vtab {
	void (*destroy)(struct rt *rt);
	int (*run)(struct rt *rt);
	uint64_t (*now)(const struct rt *rt);
	/** The clock trace events are stamped with (trace.h): cheap. */
	uint64_t (*trace_now)(const struct rt *rt);
	uint64_t (*random)(struct rt *rt);

	struct rt_cord *(*cord_new)(struct rt *rt, const char *name);
	int (*cord_start)(struct rt_cord *cord, rt_cb_f f, void *arg);
	void (*cord_stop)(struct rt_cord *cord);

	struct rt_defer *(*defer_new)(struct rt_cord *cord, rt_cb_f cb, void *arg);
	void (*defer_schedule)(struct rt_defer *d);
	void (*defer_delete)(struct rt_defer *d);

	struct rt_wakeup *(*wakeup_new)(struct rt_cord *cord, rt_cb_f cb, void *arg);
	void (*wakeup_send)(struct rt_wakeup *w);
	void (*wakeup_delete)(struct rt_wakeup *w);

	struct rt_timer *(*timer_new)(struct rt_cord *cord, rt_cb_f cb, void *arg);
	void (*timer_start)(struct rt_timer *t, uint64_t after_ns);
	void (*timer_stop)(struct rt_timer *t);
	bool (*timer_is_active)(const struct rt_timer *t);
	void (*timer_delete)(struct rt_timer *t);

	struct rt_mutex *(*mutex_new)(struct rt *rt);
	void (*mutex_lock)(struct rt_mutex *m);
	void (*mutex_unlock)(struct rt_mutex *m);
	void (*mutex_delete)(struct rt_mutex *m);

	struct rt_listener *(*listen)(struct rt *rt, const char *addr);
	int (*listener_port)(const struct rt_listener *l);
	int (*listener_add_cord)(struct rt_listener *l, struct rt_cord *cord,
				 rt_accept_f cb, void *arg);
	void (*listener_remove_cord)(struct rt_listener *l, struct rt_cord *cord);
	void (*listener_delete)(struct rt_listener *l);

	struct rt_sock *(*connect)(struct rt *rt, const char *addr,
				   const struct rt_net_opts *net);
	void (*sock_watch)(struct rt_sock *s, int events, rt_sock_f cb, void *arg);
	int (*sock_watched)(const struct rt_sock *s);
	void (*sock_feed)(struct rt_sock *s, int events);
	ssize_t (*sock_read)(struct rt_sock *s, void *buf, size_t size);
	ssize_t (*sock_writev)(struct rt_sock *s, const struct iovec *iov, int iovcnt);
	void (*sock_close)(struct rt_sock *s, bool reset);
	const char *(*sock_peer)(const struct rt_sock *s);
};

/** Common head of every runtime; implementations embed it first. */
struct rt {
	const struct rt_vtab *vtab;
	enum rt_mode mode;
};

/** Common head of every cord. */
struct rt_cord {
	struct rt *rt;
	char name[RT_CORD_NAME_MAX];
};

/** Common head of the other objects: which runtime they belong to. */
struct rt_defer { struct rt *rt; };
struct rt_wakeup { struct rt *rt; };
struct rt_timer { struct rt *rt; };
struct rt_mutex { struct rt *rt; };
struct rt_sock { struct rt *rt; };
struct rt_listener { struct rt *rt; };

/**
 * Implementations call this whenever the calling OS thread starts or stops
 * running a cord's code (threads: once at thread start; simulator: around
 * every event). NULL when leaving.
 */
void
rt_cord_enter(struct rt_cord *cord);

/** Split "host:port" into `host` (size >= 64) and `port`. -1 + diag. */
int
rt_parse_addr(const char *addr, char *host, int *port);

#endif /* KHARON_RT_RT_PRIVATE_H */
