/*
 * trace.h — the event sites: how every layer reports what it just did.
 *
 * kharon is a teaching tool: every step of cbus, iproto, TX and Kharon is
 * recorded as an event — a dotted name ("cpipe.flush") plus named integer
 * or string fields ("n", 3) — so that the viewer can replay it and tests can
 * check it (DESIGN.md §8, docs/trace.md for every event and field).
 *
 * An event site is the TRACE macro. With tracing off it costs one
 * predictable branch on a global flag; the field array is built only when
 * tracing is on. trace_emit() stamps the event with a sequence number, the
 * current cord's clock (virtual on the simulator) and the cord's name, and
 * hands it to the installed sink (a stamping sink stamps it itself).
 *
 * The runtime tells this layer which cord runs (trace_cord_enter); trace
 * includes nothing above base/, so every layer may call it.
 *
 * Batching: a sink installed with trace_set_batch_sink() also hears when a
 * thread leaves a cord (the simulator: the end of each loop iteration of a
 * cord; real threads: the cord's thread ending). The file writer's per-cord
 * sink (trace_file.h) uses it to keep one buffer per running cord and hand
 * it to the file as a batch, without a lock per event:
 *
 *   cord tx    TRACE -> emit -> [tx batch  ] --leave/size--+
 *   cord net0  TRACE -> emit -> [net0 batch] --leave/size--+-> writer --> FILE
 *   cord c0    TRACE -> emit -> [c0 batch  ] --leave/size--+   (lock per batch)
 *
 * That is the simulator's path (one thread, byte-identical files). On real
 * threads the trace pump (trace_pump.h) installs a *stamping* sink
 * (trace_set_stamping_sink): trace_emit() then takes neither the shared
 * seq counter nor the clock; the sink appends a small binary record to
 * the thread's own ring, reading the clock once (trace_now()), and a
 * writer thread numbers, encodes and writes — nothing of that on the
 * emitting cord. The clock is the runtime's trace clock (rt_thread.c: the
 * TSC calibrated to ns; virtual time on the simulator).
 *
 * Event names and field keys are string literals at every site (the pump
 * keeps their pointers until its writer thread encodes them); string
 * values may be anything (copied).
 */
#ifndef KHARON_TRACE_TRACE_H
#define KHARON_TRACE_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rt;

/** One field: an integer (`i`) unless `s` is set. */
struct trace_field {
	const char *key;
	int64_t i;
	const char *s;
};

/** A stamped event as a sink receives it; valid during the call only. */
struct trace_event {
	uint64_t seq;
	uint64_t t;
	const char *cord;
	const char *ev;
	const struct trace_field *fields;
	int n_fields;
	/**
	 * Which writer process of a shared file wrote it: 1, 2, ... in the
	 * order the reader met them (trace_file.h). Set by the reader; an
	 * emitted event leaves it 0.
	 */
	int writer;
};

/** Receives every event. Called on the emitting thread. */
typedef void (*trace_sink_f)(void *arg, const struct trace_event *e);

/** True while a sink is installed. Read at every event site. */
extern bool trace_is_on;

/**
 * Install `sink` (NULL: tracing off) and restart sequence numbers at 1.
 * Call while no cord runs.
 */
void
trace_set_sink(trace_sink_f sink, void *arg);

/**
 * Called when the calling thread stops running a cord (before
 * trace_cord_enter switches to another cord or to none), on that thread.
 */
typedef void (*trace_leave_f)(void *arg);

/**
 * Install `sink` like trace_set_sink() plus `leave` (may be NULL), called
 * on every thread that leaves a cord while the sink is installed, so that a
 * batching sink can hand over the batch of the cord that stops running.
 * trace_set_sink(s, a) is trace_set_batch_sink(s, NULL, a). Call while no
 * cord runs.
 */
void
trace_set_batch_sink(trace_sink_f sink, trace_leave_f leave, void *arg);

/**
 * Install `sink` like trace_set_batch_sink(), for a sink that stamps
 * events itself: trace_emit() then hands it events with seq and t 0 and
 * takes neither the shared seq counter nor a clock reading, and the sink
 * reads trace_now() when it is ready to publish (the trace pump,
 * trace_pump.h, numbers events on its writer thread). Call while no cord
 * runs.
 */
void
trace_set_stamping_sink(trace_sink_f sink, trace_leave_f leave, void *arg);

/** The calling thread's cord's trace clock, ns (0 outside any cord). */
uint64_t
trace_now(void);

/**
 * Called by the runtime when the calling thread starts running `cord`'s
 * code (NULL: none); `clock(rt)` gives that cord's time. Runs the leave
 * hook first if the thread was running a cord.
 */
void
trace_cord_enter(const char *cord, uint64_t (*clock)(const struct rt *),
		 const struct rt *rt);

/**
 * A fresh identity for a cbus message trip (1, 2, ...; restarts with
 * trace_set_sink), so that traces are the same from run to run.
 */
uint32_t
trace_next_msg_id(void);

/**
 * The calling thread's cord has finished a loop iteration and is about to
 * wait (real threads only): the idle hook runs — a file sink writes what
 * it holds — so a live reader sees an idle cord's last events now rather
 * than when it wakes up again. Called by the runtime; a no-op when tracing
 * is off or no hook is installed.
 */
void
trace_cord_idle(void);

/** Install the idle hook (NULL: none). Call while no cord runs. */
void
trace_set_idle_hook(trace_leave_f idle);

void
trace_emit(const char *ev, const struct trace_field *fields, int n_fields);

/** An integer field and a string field of an event site. */
#define TI(key, val) { (key), (int64_t)(val), NULL }
#define TS(key, str) { (key), 0, (str) }

/**
 * TRACE("cpipe.flush", TS("to", "tx"), TI("n", n), TI("wakeup", 1));
 * At least one field.
 */
#ifdef KHARON_TRACE_COMPILED_OUT
/*
 * For measuring what tracing costs while off (`kharon trace bench`, the
 * bench): every site compiles to nothing, its arguments still type-checked
 * and "used" so that no warning changes. Not a supported build otherwise.
 */
#define TRACE(ev, ...) do { \
	if (0) { \
		const struct trace_field trace_fields_[] = { __VA_ARGS__ }; \
		trace_emit((ev), trace_fields_, 1); \
	} \
} while (0)
#else
#define TRACE(ev, ...) do { \
	if (__builtin_expect(trace_is_on, 0)) { \
		const struct trace_field trace_fields_[] = { __VA_ARGS__ }; \
		trace_emit((ev), trace_fields_, (int)(sizeof(trace_fields_) / \
						      sizeof(trace_fields_[0]))); \
	} \
} while (0)
#endif

#endif /* KHARON_TRACE_TRACE_H */
