/*
 * trace.c — stamping events and handing them to the sink. See trace.h.
 */
#include "trace/trace.h"

#include <stdatomic.h>
#include <stddef.h>

bool trace_is_on;

static trace_sink_f trace_sink;
static trace_leave_f trace_leave;
static trace_leave_f trace_idle;
static void *trace_sink_arg;
/** The sink stamps seq and t itself (trace_set_stamping_sink). */
static bool trace_sink_stamps;
/*
 * Each counter on its own cache line: they are written by every emitting
 * thread, while trace_is_on and the sink are read at every site — sharing
 * a line with them would make every event a cache miss on every core.
 */
static struct {
	_Alignas(64) atomic_uint_fast64_t seq;
	_Alignas(64) atomic_uint_fast32_t msg_id;
	char pad[60];
} trace_counters;

static _Thread_local const char *trace_cord;
static _Thread_local uint64_t (*trace_clock)(const struct rt *);
static _Thread_local const struct rt *trace_clock_rt;

void
trace_set_sink(trace_sink_f sink, void *arg)
{
	trace_set_batch_sink(sink, NULL, arg);
}

void
trace_set_stamping_sink(trace_sink_f sink, trace_leave_f leave, void *arg)
{
	trace_set_batch_sink(sink, leave, arg);
	trace_sink_stamps = sink != NULL;
}

uint64_t
trace_now(void)
{
	return trace_clock != NULL ? trace_clock(trace_clock_rt) : 0;
}

void
trace_set_batch_sink(trace_sink_f sink, trace_leave_f leave, void *arg)
{
	trace_sink_stamps = false;
	trace_sink = sink;
	trace_leave = sink != NULL ? leave : NULL;
	/* A new sink starts without an idle hook; none survives its sink. */
	trace_idle = NULL;
	trace_sink_arg = arg;
	atomic_store(&trace_counters.seq, 0);
	atomic_store(&trace_counters.msg_id, 0);
	trace_is_on = sink != NULL;
}

void
trace_cord_enter(const char *cord, uint64_t (*clock)(const struct rt *),
		 const struct rt *rt)
{
	trace_leave_f leave = trace_leave;
	if (leave != NULL && trace_cord != NULL)
		leave(trace_sink_arg);
	trace_cord = cord;
	trace_clock = clock;
	trace_clock_rt = rt;
}

uint32_t
trace_next_msg_id(void)
{
	return (uint32_t)atomic_fetch_add(&trace_counters.msg_id, 1) + 1;
}

void
trace_emit(const char *ev, const struct trace_field *fields, int n_fields)
{
	trace_sink_f sink = trace_sink;
	if (sink == NULL)
		return;
	if (trace_sink_stamps) {
		/* No shared counter, no clock: the sink stamps. */
		struct trace_event e = {
			.cord = trace_cord != NULL ? trace_cord : "main",
			.ev = ev,
			.fields = fields,
			.n_fields = n_fields,
		};
		sink(trace_sink_arg, &e);
		return;
	}
	struct trace_event e = {
		.seq = atomic_fetch_add(&trace_counters.seq, 1) + 1,
		.t = trace_clock != NULL ? trace_clock(trace_clock_rt) : 0,
		.cord = trace_cord != NULL ? trace_cord : "main",
		.ev = ev,
		.fields = fields,
		.n_fields = n_fields,
	};
	sink(trace_sink_arg, &e);
}

void
trace_set_idle_hook(trace_leave_f idle)
{
	trace_idle = idle;
}

void
trace_cord_idle(void)
{
	trace_leave_f idle = trace_idle;
	if (idle != NULL && trace_cord != NULL && trace_sink != NULL)
		idle(trace_sink_arg);
}
