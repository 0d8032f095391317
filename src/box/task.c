/*
 * task.c — the TX task pool. See task.h.
 */
#include "box/task.h"

#include "base/diag.h"
#include "base/mem.h"
#include "cbus/cbus.h"
#include "rt/rt.h"
#include "trace/trace.h"

static _Thread_local struct task *task_running;

struct task *
task_current(void)
{
	return task_running;
}

static void
task_run_next(struct task_pool *pool);

/** The step just run did not wait: the message travels on, the task is free. */
static void
task_end(struct task *task)
{
	struct cmsg *msg = task->msg;
	struct cpipe *next = task->next;
	struct task_pool *pool = task->pool;
	/* The last hop may have freed the message: use the saved id. */
	TRACE("task.end", TI("task", task->id), TI("msg", task->msg_id));
	task->msg = NULL;
	rlist_add_tail(&pool->free, &task->in_free);
	pool->n_busy--;
	/* Like cmsg_deliver: advance the hop before pushing. */
	if (next != NULL) {
		msg->hop++;
		cpipe_push(next, msg);
	}
}

/** Run one step (`f` then its waits) of `task`. */
static void
task_step(struct task *task, task_resume_f step)
{
	struct task *prev = task_running;
	task_running = task;
	task->is_waiting = false;
	/* Woken, cancelled or timed out: no longer anyone's waiter. */
	rlist_del(&task->in_event);
	step(task, task->msg);
	task_running = prev;
	if (!task->is_waiting)
		task_end(task);
}

static void
task_first_step(struct task *task, struct cmsg *msg)
{
	const struct cmsg_hop *hop = msg->hop;
	TRACE("cmsg.hop", TI("msg", msg->id), TI("hop", hop - msg->route),
	      TS("f", hop->name), TI("last", hop->pipe == NULL),
	      TI("task", task->id));
	hop->f(msg);
}

void
task_pool_cancel_waiting(struct task_pool *pool)
{
	for (int i = 0; i < pool->size; i++) {
		struct task *task = &pool->tasks[i];
		if (task->msg == NULL || !task->is_waiting)
			continue;
		rt_timer_stop(task->timer);
		task->is_cancelled = true;
		TRACE("task.cancel", TI("task", task->id), TI("msg", task->msg_id));
		task_step(task, task->resume);
		task->is_cancelled = false;
	}
	task_run_next(pool);
}

static void
task_on_timer(void *arg)
{
	struct task *task = arg;
	TRACE("task.resume", TI("task", task->id), TI("msg", task->msg_id));
	task_step(task, task->resume);
	/* A task may have become free: give it to the backlog. */
	task_run_next(task->pool);
}

/**
 * Start the message at the head of the backlog on a free task, while both
 * exist: the loop of Tarantool's pool fibers (fiber_pool_f).
 */
static void
task_run_next(struct task_pool *pool)
{
	while (!stailq_empty(&pool->backlog) && !rlist_empty(&pool->free)) {
		struct cmsg *msg = container_of(stailq_shift(&pool->backlog),
						struct cmsg, fifo);
		struct task *task = rlist_first_entry(&pool->free, struct task,
						      in_free);
		rlist_del(&task->in_free);
		pool->n_busy++;
		task->msg = msg;
		task->msg_id = msg->id;
		/* Read before f: the last hop may free the message. */
		task->next = msg->hop->pipe;
		TRACE("task.start", TI("task", task->id), TI("msg", msg->id),
		      TI("busy", pool->n_busy));
		task_step(task, task_first_step);
	}
	if (!stailq_empty(&pool->backlog)) {
		pool->n_exhausted++;
		TRACE("task.exhausted", TI("size", pool->size));
	}
}

void
task_pool_fetch(struct cbus_endpoint *ep, void *arg)
{
	struct task_pool *pool = arg;
	cbus_endpoint_fetch(ep, &pool->backlog);
	task_run_next(pool);
}

void
task_wait(struct task *task, uint64_t ns, task_resume_f resume)
{
	task->is_waiting = true;
	task->resume = resume;
	rt_timer_start(task->timer, ns);
	TRACE("task.wait", TI("task", task->id), TI("msg", task->msg_id),
	      TI("ns", ns));
}

void
task_wait_event(struct task *task, struct rlist *waiters,
		task_resume_f resume)
{
	task->is_waiting = true;
	task->resume = resume;
	rlist_add_tail(waiters, &task->in_event);
	TRACE("task.wait", TI("task", task->id), TI("msg", task->msg_id),
	      TS("for", "event"));
}

void
task_wake_all(struct rlist *waiters)
{
	while (!rlist_empty(waiters)) {
		struct task *task = container_of(rlist_shift(waiters),
						 struct task, in_event);
		TRACE("task.wake", TI("task", task->id), TI("msg", task->msg_id));
		rt_timer_start(task->timer, 0);
	}
}

int
task_pool_create(struct task_pool *pool, struct rt_cord *cord, int size)
{
	pool->size = size;
	pool->n_busy = 0;
	pool->n_exhausted = 0;
	rlist_create(&pool->free);
	stailq_create(&pool->backlog);
	pool->tasks = mem_zalloc(sizeof(*pool->tasks) * (size_t)size);
	if (pool->tasks == NULL) {
		diag_set_oom(sizeof(*pool->tasks) * (size_t)size, "task pool");
		return -1;
	}
	for (int i = 0; i < size; i++) {
		struct task *task = &pool->tasks[i];
		task->pool = pool;
		task->id = (uint32_t)i + 1;
		rlist_create(&task->in_event);
		task->timer = rt_timer_new(cord, task_on_timer, task);
		if (task->timer == NULL) {
			pool->size = i;
			task_pool_destroy(pool);
			return -1;
		}
		rlist_add_tail(&pool->free, &task->in_free);
	}
	return 0;
}

void
task_pool_destroy(struct task_pool *pool)
{
	for (int i = 0; i < pool->size; i++)
		rt_timer_delete(pool->tasks[i].timer);
	mem_free(pool->tasks);
	pool->tasks = NULL;
}
