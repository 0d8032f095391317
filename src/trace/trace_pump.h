/*
 * trace_pump.h — tracing on real threads at the price of a ring write: each
 * emitting thread appends small binary records (~40 bytes for a push) to its
 * own ring, and one writer thread turns them into the trace file's records
 * (encoding, checksum and write() happen there, off the emitting cords).
 *
 *   cord tx    TRACE -> [seq t ev k v ...]   -> ring tx   --+
 *   cord net0  TRACE -> [seq t ev k v ...]   -> ring net0 --+-> writer thread
 *   cord c0    TRACE -> [seq t ev k v ...]   -> ring c0   --+   encode, crc,
 *                                                               write() -> FILE
 *
 * What an emitting cord does per event (trace_emit then the pump's sink):
 * find the event's shape (name, keys, kinds: compared by address in a
 * small per-thread cache; they are string literals, see the contract
 * below), encode the values as varints into a record of its own ring
 * (strings copied), read the clock once (the runtime's trace clock: the
 * TSC on real threads, rt_thread.c) and publish. No shared counter, no
 * lock, no system call, no checksum. The writer thread gives seq.
 *
 * The writer thread drains every ring in turn into the trace_writer's
 * batch — merging them by t: the oldest head of all rings goes first, once
 * it is PUMP_LAG_NS (200 us) old, and gets the next seq — packed
 * (trace_record.h PACKED records), and writes it (one write() under
 * FILE.lock) when it reaches the flush size, and at most every 1 ms while
 * nothing waits — so a live reader sees an idle server's events within
 * about a millisecond (it polls, sleeping 50 us to 1 ms while nothing
 * comes). So in the file, seq follows t across cords and each cord's
 * events are in their order.
 *
 * A full ring never loses an event: the emitting cord waits (yielding its
 * CPU a few times, then sleeping 20 us between looks, so that a writer
 * thread sharing its core can run) until the writer has made room, and
 * the wait is counted (trace_pump_stats). An event too big for a ring
 * record (over a quarter of the ring) waits until its cord's ring is
 * empty and goes straight into the writer's batch, so the cord's order
 * holds; so do the events of a thread whose ring could not be allocated.
 *
 * The simulator does not use the pump: all its cords run on one thread
 * and its file must be byte-identical run after run, so it keeps the
 * per-cord batch sink (trace_writer_install).
 *
 * Contract for emitters while a pump is installed: the event name and the
 * field keys passed to trace_emit() must live as long as the process
 * (string literals, as at every TRACE site); string values may be
 * anything (they are copied).
 *
 * trace depends on nothing above base/, so the thread comes from the
 * caller as two functions (rt.h's rt_thread_spawn / rt_thread_join).
 */
#ifndef KHARON_TRACE_TRACE_PUMP_H
#define KHARON_TRACE_TRACE_PUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct trace_writer;

/** How the pump gets its writer thread and clock (rt.h). */
struct trace_thread_ops {
	/** Run f(arg) on a new thread; 0, or -1 (diag set). */
	int (*spawn)(void **thread, void (*f)(void *arg), void *arg);
	/** Wait for it to return. */
	void (*join)(void *thread);
	/** The cords' trace clock, from any thread (rt.h: rt_trace_clock). */
	uint64_t (*now)(void);
};

enum {
	/** Bytes of each emitting thread's ring. */
	TRACE_PUMP_RING_SIZE = 1 << 20,
};

struct trace_pump;

/** Counters of a pump (trace_pump_stats). */
struct trace_pump_stats {
	/** Events the writer thread handed to the trace writer. */
	uint64_t n_events;
	/** Times an emitting cord found its ring full and waited. */
	uint64_t n_full_waits;
	/** Rings made (one per emitting thread). */
	uint64_t n_rings;
	/** Events sent through the synchronous sink (no memory for a ring). */
	uint64_t n_direct;
};

/**
 * Start the writer thread for `w` and install the pump as the trace sink
 * (trace_set_batch_sink). `ring_size`: bytes per emitting thread's ring
 * (a power of two >= 4096; 0 = TRACE_PUMP_RING_SIZE). Call while no cord
 * runs. Returns the pump, or NULL (thread or memory; diag set; nothing
 * installed). Thread: main.
 */
struct trace_pump *
trace_pump_start(struct trace_writer *w, const struct trace_thread_ops *ops,
		 size_t ring_size);

/**
 * Stop: the writer thread drains every ring, writes what it holds and
 * ends; then free the pump. Uninstall the sink (trace_set_sink(NULL,
 * NULL)) first, once every cord has stopped; close the writer after.
 * Returns 0, or -1 with diag set to the first error the writer thread met
 * (the events after it were still drained, not written). Thread: main.
 */
int
trace_pump_stop(struct trace_pump *p);

/** A snapshot of the counters. Any thread. */
void
trace_pump_stats(struct trace_pump *p, struct trace_pump_stats *out);

/**
 * Test hook: while `is_paused`, the writer thread drains nothing (so a
 * test can fill a ring and see the emitter wait). Any thread.
 */
void
trace_pump_pause(struct trace_pump *p, bool is_paused);

#endif /* KHARON_TRACE_TRACE_PUMP_H */
