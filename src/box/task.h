/*
 * task.h — TX runs every incoming hop as a task from a bounded pool.
 *
 * Tarantool's TX endpoint is a fiber pool: each cbus message that arrives
 * is handed to a pool fiber, which may yield (wait for WAL, sleep) while
 * other fibers go on with other messages, so replies complete out of order.
 * kharon has no fibers; a task is the same idea written as an explicit
 * resumable step: the hop function runs, and if it must wait it calls
 * task_wait() with how long and what to run next; the message stays with
 * the task until a step finishes without waiting, then travels on.
 *
 *   "tx" endpoint ──fetch──> backlog ──> free task? ──> hop f(msg)
 *                                           │              ├─ done: forward msg
 *                                           │              └─ task_wait(ns, resume)
 *                                           └─ none free: wait in the backlog
 *                                              until a task ends (Tarantool
 *                                              logs "fiber pool size reached")
 *
 * Lesson: lessons/en/03-request-life.md.
 */
#ifndef KHARON_BOX_TASK_H
#define KHARON_BOX_TASK_H

#include <stdbool.h>
#include <stdint.h>

#include "base/list.h"

struct cmsg;
struct cpipe;
struct rt_cord;
struct rt_timer;
struct cbus_endpoint;
struct task;

/** The next step of a waiting task: runs on TX when the wait is over. */
typedef void (*task_resume_f)(struct task *task, struct cmsg *msg);

struct task {
	struct task_pool *pool;
	struct rlist in_free;
	/** The message this task carries, NULL when free. */
	struct cmsg *msg;
	uint32_t msg_id;
	/** Where the message goes when the task ends (read before f ran). */
	struct cpipe *next;
	struct rt_timer *timer;
	task_resume_f resume;
	/** In a list of tasks waiting for an event (task_wait_event). */
	struct rlist in_event;
	bool is_waiting;
	/** The wait was cut short (shutdown): the resume step must give up. */
	bool is_cancelled;
	uint32_t id;
};

struct task_pool {
	struct task *tasks;
	int size;
	int n_busy;
	struct rlist free;
	/** Fetched messages waiting for a free task. */
	struct stailq backlog;
	/** Times the pool was exhausted (a message had to wait). */
	uint64_t n_exhausted;
};

/**
 * Create `size` tasks on `cord` (TX) — Tarantool's fiber_pool_create.
 * iproto makes net_msg_max × 5 of them, as Tarantool sizes its pool. Use task_pool_fetch as the fetch
 * callback of the endpoint whose messages the pool runs. 0 or -1 + diag.
 */
int
task_pool_create(struct task_pool *pool, struct rt_cord *cord, int size);

/** Free the tasks; none may be busy. */
void
task_pool_destroy(struct task_pool *pool);

/**
 * cbus_fetch_f: take every queued message and run what tasks allow
 * (Tarantool's fiber_pool_cb).
 */
void
task_pool_fetch(struct cbus_endpoint *ep, void *arg);

/**
 * Cut every wait short: each waiting task's resume step runs now with
 * is_cancelled set (it should end with an error). Used when a graceful
 * shutdown's grace period is over. TX only.
 */
void
task_pool_cancel_waiting(struct task_pool *pool);

/** The task running the current hop on this thread, or NULL. */
struct task *
task_current(void);

/**
 * From inside a hop (or a resume step) of `task`: when this step returns,
 * keep the message and run `resume(task, msg)` after `ns` nanoseconds.
 * Where a Tarantool fiber would yield (fiber_sleep), a task names its
 * next step.
 */
void
task_wait(struct task *task, uint64_t ns, task_resume_f resume);

/**
 * Like task_wait, with no timer: the task waits in `waiters` (an rlist
 * its owner keeps) until task_wake_all(waiters) — Tarantool's fiber that
 * yields on a condition variable (fiber_cond_wait). TX only.
 */
void
task_wait_event(struct task *task, struct rlist *waiters,
		task_resume_f resume);

/**
 * Wake every task of `waiters`: each runs its resume step in the next loop
 * iteration (fiber_cond_broadcast: the woken fibers are scheduled, not run
 * from inside the caller), and leaves the list. TX only.
 */
void
task_wake_all(struct rlist *waiters);

#endif /* KHARON_BOX_TASK_H */
