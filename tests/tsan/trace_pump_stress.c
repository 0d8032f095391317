/*
 * trace_pump_stress.c — tracing on real threads under load: an SPSC ring
 * between two threads, then three cords emitting through the trace pump
 * while its writer thread merges them into a file (src/trace/trace_pump.h).
 *
 * A plain main(), not Criterion: Criterion aborts at start under TSan
 * (upstream issue 274), and this test exists to be run under TSan by
 * `make tsan` (it also runs uninstrumented in `make test`).
 *
 * Ring: the producer writes 1 000 000 records of 1..100 bytes, each
 * filled from its number; the consumer checks every byte and the order.
 * Pump: three threads emit 100 000 events each on the real trace clock,
 * with a 64 KiB ring each so that they also wait on full rings; the file
 * must hold every event once, numbered 1..N, each cord's own events in
 * order. Pass: both hold and TSan reports nothing.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/diag.h"
#include "rt/rt.h"
#include "trace/trace.h"
#include "trace/trace_file.h"
#include "trace/trace_pump.h"
#include "trace/trace_ring.h"

enum { RING_RECORDS = 1000000, N_EMITTERS = 3, PER_EMITTER = 100000 };

static struct trace_ring ring;

/* A failure ends the run at once (a stuck producer would wait forever). */
#define CHECK(cond, ...) do { \
	if (!(cond)) { \
		fprintf(stderr, "trace_pump_stress: " __VA_ARGS__); \
		fputc('\n', stderr); \
		exit(1); \
	} \
} while (0)

static void
ring_producer(void *arg)
{
	(void)arg;
	for (uint32_t i = 0; i < RING_RECORDS; i++) {
		uint32_t n = i % 100 + 1;
		unsigned char *at;
		while ((at = trace_ring_reserve(&ring, n, 1)) == NULL)
			;
		for (uint32_t k = 0; k < n; k++)
			at[k] = (unsigned char)(i + k);
		trace_ring_commit(&ring);
	}
}

static void
ring_consumer(void *arg)
{
	(void)arg;
	for (uint32_t i = 0; i < RING_RECORDS; i++) {
		uint32_t n, kind;
		const unsigned char *rec;
		while ((rec = trace_ring_peek(&ring, &n, &kind)) == NULL)
			;
		CHECK(n == i % 100 + 1 && kind == 1, "record %u: bad length",
		      i);
		for (uint32_t k = 0; k < n; k++)
			CHECK(rec[k] == (unsigned char)(i + k),
			      "record %u: bad byte %u", i, k);
		trace_ring_pop(&ring, n);
	}
}

static uint64_t
stress_clock(const struct rt *rt)
{
	(void)rt;
	return rt_trace_clock();
}

static void
emitter(void *arg)
{
	const char *cord = arg;
	trace_cord_enter(cord, stress_clock, NULL);
	for (int i = 0; i < PER_EMITTER; i++)
		TRACE("stress.event", TI("i", i), TS("cord", cord));
	trace_cord_enter(NULL, NULL, NULL);
}

static void
check_file(const char *path)
{
	struct trace_reader *r = trace_reader_new(path);
	CHECK(r != NULL, "%s", diag_msg());
	struct trace_event e;
	int rc;
	uint64_t n = 0;
	int64_t next[N_EMITTERS] = {0};
	while ((rc = trace_reader_next(r, &e)) == TRACE_READ_EVENT) {
		n++;
		CHECK(e.seq == n, "event %llu has seq %llu",
		      (unsigned long long)n, (unsigned long long)e.seq);
		int c = e.cord[4] - '0';
		CHECK(c >= 0 && c < N_EMITTERS && e.fields[0].i == next[c],
		      "cord %s out of order at seq %llu", e.cord,
		      (unsigned long long)e.seq);
		next[c]++;
	}
	trace_reader_delete(r);
	CHECK(rc == TRACE_READ_END, "no END: %s", diag_msg());
	CHECK(n == (uint64_t)N_EMITTERS * PER_EMITTER, "%llu events",
	      (unsigned long long)n);
}

int
main(void)
{
	if (trace_ring_create(&ring, 4096) != 0)
		return 1;
	void *a, *b;
	if (rt_thread_spawn(&a, ring_producer, NULL) != 0 ||
	    rt_thread_spawn(&b, ring_consumer, NULL) != 0)
		return 1;
	rt_thread_join(a);
	rt_thread_join(b);
	trace_ring_destroy(&ring);

	char path[] = "/tmp/kharon-pump-stress-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return 1;
	close(fd);
	unlink(path);
	struct trace_writer *w = trace_writer_new(path, NULL);
	const struct trace_thread_ops ops = {
		rt_thread_spawn, rt_thread_join, rt_trace_clock,
	};
	struct trace_pump *p = w != NULL ?
		trace_pump_start(w, &ops, 64 * 1024) : NULL;
	if (p == NULL) {
		fprintf(stderr, "trace_pump_stress: %s\n", diag_msg());
		return 1;
	}
	static char cords[N_EMITTERS][8] = {"cord0", "cord1", "cord2"};
	void *t[N_EMITTERS];
	for (int i = 0; i < N_EMITTERS; i++) {
		if (rt_thread_spawn(&t[i], emitter, cords[i]) != 0)
			return 1;
	}
	for (int i = 0; i < N_EMITTERS; i++)
		rt_thread_join(t[i]);
	trace_set_sink(NULL, NULL);
	struct trace_pump_stats st;
	trace_pump_stats(p, &st);
	if (trace_pump_stop(p) != 0 || trace_writer_close(w, true) != 0) {
		fprintf(stderr, "trace_pump_stress: %s\n", diag_msg());
		return 1;
	}
	check_file(path);
	unlink(path);
	char side[sizeof(path) + 16];
	snprintf(side, sizeof(side), "%s.lock", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s.writers", path);
	unlink(side);
	printf("trace_pump_stress: ring %d records; pump %d events, %llu "
	       "full-ring waits, ok\n", RING_RECORDS,
	       N_EMITTERS * PER_EMITTER, (unsigned long long)st.n_full_waits);
	return 0;
}
