/*
 * test_trace_pump.c — tracing on real threads (src/trace/trace_pump.h):
 * the SPSC ring each emitting thread writes (trace_ring.h), the PACKED
 * record the writer thread makes (trace_record.h), the pump that joins
 * them (merge by t, numbering, a full ring that waits and loses nothing,
 * big strings on the side path), and the reader of the previous file
 * format (a committed version 2 fixture).
 *
 * The pump tests run real threads (rt_thread_spawn) with a clock the test
 * sets, so the order the writer must produce is known exactly.
 */
#include <criterion/criterion.h>

#include <inttypes.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/diag.h"
#include "base/mem.h"
#include "rt/rt.h"
#include "trace/trace.h"
#include "trace/trace_export.h"
#include "trace/trace_file.h"
#include "trace/trace_pump.h"
#include "trace/trace_record.h"
#include "trace/trace_ring.h"

/* ------------------------------------------------------------- ring */

TestSuite(trace_ring);

Test(trace_ring, rejects_a_size_that_is_not_a_power_of_two)
{
	struct trace_ring r;
	cr_assert_eq(trace_ring_create(&r, 1000), -1);
	cr_assert_eq(trace_ring_create(&r, 32), -1);
}

/*
 * Records of every size from 1 to 60 bytes, the consumer a few records
 * behind: the ring wraps many times (with pads), every record comes out
 * whole and in order.
 */
Test(trace_ring, wraps_around_in_order)
{
	struct trace_ring r;
	cr_assert_eq(trace_ring_create(&r, 256), 0);
	int next_out = 0, n_pads_seen = 0;
	uint64_t last_off = 0;
	for (int i = 0; i < 5000; i++) {
		uint32_t n = (uint32_t)(i % 60) + 1;
		char *at;
		while ((at = trace_ring_reserve(&r, n, 1 + (uint32_t)i % 3)) ==
		       NULL) {
			uint32_t len, kind;
			const unsigned char *rec = trace_ring_peek(&r, &len,
								   &kind);
			cr_assert_not_null(rec, "full yet empty at %d", i);
			cr_assert_eq(len, (uint32_t)(next_out % 60) + 1);
			cr_assert_eq(kind, 1 + (uint32_t)next_out % 3);
			for (uint32_t k = 0; k < len; k++)
				cr_assert_eq(rec[k],
					     (unsigned char)(next_out + k));
			trace_ring_pop(&r, len);
			next_out++;
		}
		uint64_t off = (uint64_t)(at - r.data);
		if (off < last_off)
			n_pads_seen++;
		last_off = off;
		for (uint32_t k = 0; k < n; k++)
			at[k] = (char)(unsigned char)(i + (int)k);
		trace_ring_commit(&r);
	}
	uint32_t len, kind;
	const unsigned char *rec;
	while ((rec = trace_ring_peek(&r, &len, &kind)) != NULL) {
		cr_assert_eq(len, (uint32_t)(next_out % 60) + 1);
		cr_assert_eq(rec[0], (unsigned char)next_out);
		trace_ring_pop(&r, len);
		next_out++;
	}
	cr_assert_eq(next_out, 5000);
	cr_assert_gt(n_pads_seen, 10, "the ring wrapped %d times", n_pads_seen);
	trace_ring_destroy(&r);
}

Test(trace_ring, full_ring_refuses_until_a_pop)
{
	struct trace_ring r;
	cr_assert_eq(trace_ring_create(&r, 256), 0);
	int n = 0;
	/* 24 bytes of record + 8 of header: 8 fit in 256. */
	while (trace_ring_reserve(&r, 24, 1) != NULL) {
		trace_ring_commit(&r);
		n++;
	}
	cr_assert_eq(n, 8);
	/* An uncommitted reserve is invisible; refusing changes nothing. */
	cr_assert_null(trace_ring_reserve(&r, 1, 1));
	uint32_t len, kind;
	cr_assert_not_null(trace_ring_peek(&r, &len, &kind));
	trace_ring_pop(&r, len);
	cr_assert_not_null(trace_ring_reserve(&r, 24, 1));
	trace_ring_commit(&r);
	cr_assert_null(trace_ring_reserve(&r, 24, 1));
	for (int i = 0; i < 8; i++) {
		cr_assert_not_null(trace_ring_peek(&r, &len, &kind));
		trace_ring_pop(&r, len);
	}
	cr_assert(trace_ring_is_empty(&r));
	trace_ring_destroy(&r);
}

/* ------------------------------------------------------------ packed */

TestSuite(trace_packed);

/* Encode `events` into one PACKED record and decode it back. */
static void
packed_round_trip(const struct trace_event *events, int n, bool is_static,
		  struct trace_record_batch *out)
{
	struct trace_record_buf b;
	struct trace_record_packer p;
	trace_record_buf_create(&b);
	trace_record_packer_create(&p);
	cr_assert_eq(trace_record_begin(&b, TRACE_RECORD_PACKED), 0);
	for (int i = 0; i < n; i++)
		cr_assert_eq(trace_record_add_packed(&b, &p, &events[i],
						     is_static), 0, "%s",
			     diag_msg());
	cr_assert_eq(trace_record_finish(&b), 0);
	const char *payload = b.data + TRACE_RECORD_FRAME;
	const char *end = b.data + b.used;
	enum trace_record_type type;
	const char *rest;
	cr_assert_eq(trace_record_type(payload, end, &type, &rest), 0);
	cr_assert_eq(type, TRACE_RECORD_PACKED);
	trace_record_batch_create(out);
	cr_assert_eq(trace_record_batch_decode_packed(out, rest, end), 0, "%s",
		     diag_msg());
	/* Every prefix is refused or decodes, never crashes. */
	for (const char *cut = rest; cut < end; cut++) {
		struct trace_record_batch part;
		trace_record_batch_create(&part);
		(void)trace_record_batch_decode_packed(&part, rest, cut);
		trace_record_batch_destroy(&part);
	}
	trace_record_packer_destroy(&p);
	trace_record_buf_destroy(&b);
}

static void
assert_same_event(const struct trace_event *a, const struct trace_event *b)
{
	cr_assert_eq(a->seq, b->seq);
	cr_assert_eq(a->t, b->t);
	cr_assert_str_eq(a->cord, b->cord);
	cr_assert_str_eq(a->ev, b->ev);
	cr_assert_eq(a->n_fields, b->n_fields);
	for (int i = 0; i < a->n_fields; i++) {
		cr_assert_str_eq(a->fields[i].key, b->fields[i].key);
		cr_assert_eq(a->fields[i].s == NULL, b->fields[i].s == NULL);
		if (a->fields[i].s != NULL)
			cr_assert_str_eq(a->fields[i].s, b->fields[i].s);
		else
			cr_assert_eq(a->fields[i].i, b->fields[i].i);
	}
}

Test(trace_packed, round_trip_of_extremes)
{
	const struct trace_field f1[] = {
		TI("a", INT64_MIN), TI("b", INT64_MAX), TI("c", -1),
		TS("s", ""), TS("u", "long string value with spaces"),
	};
	const struct trace_field f2[] = { TI("a", 0) };
	/* The same name and key, but a string: another shape. */
	const struct trace_field f3[] = { TS("a", "zero") };
	const struct trace_event ev[] = {
		{ .seq = UINT64_MAX, .t = UINT64_MAX, .cord = "tx",
		  .ev = "x.one", .fields = f1, .n_fields = 5 },
		{ .seq = 0, .t = 0, .cord = "net0", .ev = "x.two",
		  .fields = f2, .n_fields = 1 },
		{ .seq = 7, .t = 1u << 31, .cord = "net0", .ev = "x.two",
		  .fields = f3, .n_fields = 1 },
		{ .seq = 6, .t = 5, .cord = "tx", .ev = "x.one",
		  .fields = f1, .n_fields = 5 },
		{ .seq = 8, .t = 5, .cord = "tx", .ev = "x.none",
		  .fields = NULL, .n_fields = 0 },
	};
	struct trace_record_batch out;
	packed_round_trip(ev, 5, true, &out);
	cr_assert_eq(out.n_events, 5);
	for (int i = 0; i < 5; i++)
		assert_same_event(&ev[i], &out.events[i]);
	trace_record_batch_destroy(&out);
}

/*
 * Without is_static, a name at an address that now holds another string
 * is another shape (a caller that reuses its buffers).
 */
Test(trace_packed, dynamic_names_are_compared_by_content)
{
	char name[16], key[16];
	struct trace_record_buf b;
	struct trace_record_packer p;
	trace_record_buf_create(&b);
	trace_record_packer_create(&p);
	cr_assert_eq(trace_record_begin(&b, TRACE_RECORD_PACKED), 0);
	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "ev.%d", i % 7);
		snprintf(key, sizeof(key), "k%d", i % 5);
		const struct trace_field f[] = { { key, i, NULL } };
		const struct trace_event e = {
			.seq = (uint64_t)i + 1, .t = (uint64_t)i * 10,
			.cord = "c", .ev = name, .fields = f, .n_fields = 1,
		};
		cr_assert_eq(trace_record_add_packed(&b, &p, &e, false), 0);
	}
	cr_assert_eq(trace_record_finish(&b), 0);
	const char *rest;
	enum trace_record_type type;
	cr_assert_eq(trace_record_type(b.data + TRACE_RECORD_FRAME,
				       b.data + b.used, &type, &rest), 0);
	struct trace_record_batch out;
	trace_record_batch_create(&out);
	cr_assert_eq(trace_record_batch_decode_packed(&out, rest,
						      b.data + b.used), 0);
	cr_assert_eq(out.n_events, 40);
	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "ev.%d", i % 7);
		snprintf(key, sizeof(key), "k%d", i % 5);
		cr_assert_str_eq(out.events[i].ev, name);
		cr_assert_str_eq(out.events[i].fields[0].key, key);
		cr_assert_eq(out.events[i].fields[0].i, i);
	}
	trace_record_batch_destroy(&out);
	trace_record_packer_destroy(&p);
	trace_record_buf_destroy(&b);
}

Test(trace_packed, malformed_items_are_refused)
{
	static const char *const bad[] = {
		"\x02\x00\x00",		/* an event before any shape */
		"\x00\x01x\x01\x01k\x05", /* a kind that does not exist */
		"\x00\x01x\x00\x02\x00\x00", /* an event before any cord */
		"\x01\x02\x61\x00",	/* a NUL inside a string */
		"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f", /* varint > 64 bits */
	};
	static const size_t len[] = { 3, 7, 7, 4, 10 };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct trace_record_batch out;
		trace_record_batch_create(&out);
		cr_assert_eq(trace_record_batch_decode_packed(&out, bad[i],
							      bad[i] + len[i]),
			     -1, "case %zu decoded", i);
		trace_record_batch_destroy(&out);
	}
}

/* ------------------------------------------------------------- pump */

static char dir[64];
static char path[128];

static void
pump_setup(void)
{
	strcpy(dir, "/tmp/kharon-tpump-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/t.trace", dir);
	diag_clear();
}

static void
pump_teardown(void)
{
	char side[160];
	unlink(path);
	snprintf(side, sizeof(side), "%s.lock", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s.writers", path);
	unlink(side);
	rmdir(dir);
}

TestSuite(trace_pump, .init = pump_setup, .fini = pump_teardown);

/* The test's clock: each thread stamps what it set last. */
static _Thread_local uint64_t test_t;
static atomic_uint_fast64_t test_now;

static uint64_t
test_cord_clock(const struct rt *rt)
{
	(void)rt;
	return test_t;
}

static uint64_t
test_writer_clock(void)
{
	return atomic_load(&test_now);
}

static const struct trace_thread_ops test_ops = {
	rt_thread_spawn, rt_thread_join, test_writer_clock,
};

/** One emitting thread: cord `name` emits events at t0, t0 + step... */
struct emitter {
	const char *cord;
	uint64_t t0, step;
	int n;
	const char *big;
	atomic_bool is_done;
	void *thread;
};

static void
emitter_main(void *arg)
{
	struct emitter *em = arg;
	trace_cord_enter(em->cord, test_cord_clock, NULL);
	for (int i = 0; i < em->n; i++) {
		test_t = em->t0 + (uint64_t)i * em->step;
		TRACE("test.event", TI("i", i), TS("cord", em->cord),
		      TI("neg", -i));
		if (em->big != NULL)
			TRACE("test.big", TS("text", em->big));
	}
	trace_cord_enter(NULL, NULL, NULL);
	atomic_store(&em->is_done, true);
}

static struct trace_writer *
open_writer(void)
{
	struct trace_writer *w = trace_writer_new(path, NULL);
	cr_assert_not_null(w, "%s", diag_msg());
	return w;
}

/* Read the whole file: events (dup'ed) into *out, their count. */
static int
read_all(struct trace_event ***out)
{
	struct trace_reader *r = trace_reader_new(path);
	cr_assert_not_null(r, "%s", diag_msg());
	int n = 0, cap = 0, rc;
	struct trace_event **evs = NULL, e;
	while ((rc = trace_reader_next(r, &e)) == TRACE_READ_EVENT) {
		if (n == cap) {
			cap = cap != 0 ? cap * 2 : 64;
			evs = realloc(evs, (size_t)cap * sizeof(*evs));
		}
		evs[n++] = trace_event_dup(&e);
	}
	cr_assert_eq(rc, TRACE_READ_END, "%s", diag_msg());
	trace_reader_delete(r);
	*out = evs;
	return n;
}

static void
free_all(struct trace_event **evs, int n)
{
	for (int i = 0; i < n; i++)
		mem_free(evs[i]);
	free(evs);
}

/*
 * Three threads whose clocks interleave: the file holds every event
 * once, numbered 1, 2, ... in t order across cords, each cord's own
 * events in its order.
 */
Test(trace_pump, merges_cords_by_t_and_numbers_them)
{
	/*
	 * The writer's clock stays at 0 until every thread has emitted: a
	 * thread that had not started yet cannot be overtaken (on real
	 * clocks the lag makes sure of it).
	 */
	atomic_store(&test_now, 0);
	struct trace_writer *w = open_writer();
	struct trace_pump *p = trace_pump_start(w, &test_ops, 0);
	cr_assert_not_null(p, "%s", diag_msg());
	static struct emitter em[3] = {
		{ .cord = "a", .t0 = 1000, .step = 30, .n = 500 },
		{ .cord = "b", .t0 = 1010, .step = 30, .n = 500 },
		{ .cord = "c", .t0 = 1020, .step = 30, .n = 500 },
	};
	for (int i = 0; i < 3; i++)
		cr_assert_eq(rt_thread_spawn(&em[i].thread, emitter_main,
					     &em[i]), 0);
	for (int i = 0; i < 3; i++)
		rt_thread_join(em[i].thread);
	atomic_store(&test_now, UINT64_MAX / 2);
	trace_set_sink(NULL, NULL);
	struct trace_pump_stats st;
	trace_pump_stats(p, &st);
	cr_assert_eq(trace_pump_stop(p), 0, "%s", diag_msg());
	cr_assert_eq(trace_writer_close(w, true), 0, "%s", diag_msg());
	cr_assert_eq(st.n_rings, 3);
	struct trace_event **evs;
	int n = read_all(&evs);
	cr_assert_eq(n, 1500);
	for (int i = 0; i < n; i++) {
		cr_assert_eq(evs[i]->seq, (uint64_t)i + 1);
		cr_assert_eq(evs[i]->t, 1000 + (uint64_t)i * 10,
			     "event %d at t %" PRIu64, i, evs[i]->t);
		const char *cord = em[i % 3].cord;
		cr_assert_str_eq(evs[i]->cord, cord);
		cr_assert_str_eq(evs[i]->ev, "test.event");
		cr_assert_eq(evs[i]->fields[0].i, i / 3);
		cr_assert_str_eq(evs[i]->fields[1].s, cord);
		cr_assert_eq(evs[i]->fields[2].i, -(i / 3));
	}
	free_all(evs, n);
}

static void
wait_until(atomic_uint_fast64_t *v, uint64_t want, struct trace_pump *p)
{
	for (int k = 0; k < 5000; k++) {
		struct trace_pump_stats st;
		trace_pump_stats(p, &st);
		if (st.n_events >= want)
			return;
		(void)v;
		usleep(1000);
	}
	cr_assert_fail("the pump did not take %" PRIu64 " events", want);
}

/*
 * Events younger than the lag stay in their ring until the writer's clock
 * has moved past them: a cord that stamped just before another was looked
 * at is never overtaken.
 */
Test(trace_pump, holds_events_younger_than_the_lag)
{
	atomic_store(&test_now, 0);
	struct trace_writer *w = open_writer();
	struct trace_pump *p = trace_pump_start(w, &test_ops, 0);
	cr_assert_not_null(p);
	static struct emitter em = {
		.cord = "a", .t0 = 10 * 1000 * 1000, .step = 1, .n = 10,
	};
	cr_assert_eq(rt_thread_spawn(&em.thread, emitter_main, &em), 0);
	rt_thread_join(em.thread);
	usleep(20 * 1000);
	struct trace_pump_stats st;
	trace_pump_stats(p, &st);
	cr_assert_eq(st.n_events, 0, "taken before their time");
	atomic_store(&test_now, 20 * 1000 * 1000);
	wait_until(NULL, 10, p);
	trace_set_sink(NULL, NULL);
	cr_assert_eq(trace_pump_stop(p), 0);
	cr_assert_eq(trace_writer_close(w, true), 0);
	struct trace_event **evs;
	int n = read_all(&evs);
	cr_assert_eq(n, 10);
	free_all(evs, n);
}

/* A full ring: the emitting cord waits (counted) until the writer makes
 * room, and no event is lost.
 */
Test(trace_pump, full_ring_waits_and_loses_nothing)
{
	atomic_store(&test_now, UINT64_MAX / 2);
	struct trace_writer *w = open_writer();
	struct trace_pump *p = trace_pump_start(w, &test_ops, 4096);
	cr_assert_not_null(p);
	trace_pump_pause(p, true);
	static struct emitter em = {
		.cord = "a", .t0 = 100, .step = 10, .n = 600,
	};
	cr_assert_eq(rt_thread_spawn(&em.thread, emitter_main, &em), 0);
	usleep(50 * 1000);
	cr_assert_not(atomic_load(&em.is_done), "600 events fit in 4 KiB?");
	struct trace_pump_stats st;
	trace_pump_stats(p, &st);
	cr_assert_geq(st.n_full_waits, 1);
	trace_pump_pause(p, false);
	rt_thread_join(em.thread);
	trace_set_sink(NULL, NULL);
	cr_assert_eq(trace_pump_stop(p), 0, "%s", diag_msg());
	cr_assert_eq(trace_writer_close(w, true), 0);
	struct trace_event **evs;
	int n = read_all(&evs);
	cr_assert_eq(n, 600);
	for (int i = 0; i < n; i++) {
		cr_assert_eq(evs[i]->seq, (uint64_t)i + 1);
		cr_assert_eq(evs[i]->fields[0].i, i);
		cr_assert_eq(evs[i]->fields[2].i, -i);
	}
	free_all(evs, n);
}

/*
 * A value too big for the ring (over a quarter of it) goes the
 * synchronous way once the cord's earlier events are out: the cord's
 * order holds and nothing is cut.
 */
Test(trace_pump, big_values_keep_the_cords_order)
{
	atomic_store(&test_now, UINT64_MAX / 2);
	struct trace_writer *w = open_writer();
	struct trace_pump *p = trace_pump_start(w, &test_ops, 4096);
	cr_assert_not_null(p);
	static char big[3000];
	memset(big, 'x', sizeof(big) - 1);
	static struct emitter em = {
		.cord = "a", .t0 = 100, .step = 10, .n = 50, .big = big,
	};
	cr_assert_eq(rt_thread_spawn(&em.thread, emitter_main, &em), 0);
	rt_thread_join(em.thread);
	trace_set_sink(NULL, NULL);
	struct trace_pump_stats st;
	trace_pump_stats(p, &st);
	cr_assert_eq(st.n_direct, 50);
	cr_assert_eq(trace_pump_stop(p), 0, "%s", diag_msg());
	cr_assert_eq(trace_writer_close(w, true), 0);
	struct trace_event **evs;
	int n = read_all(&evs);
	cr_assert_eq(n, 100);
	for (int i = 0; i < n; i++) {
		cr_assert_eq(evs[i]->seq, (uint64_t)i + 1);
		if (i % 2 == 1) {
			cr_assert_str_eq(evs[i]->ev, "test.big");
			cr_assert_str_eq(evs[i]->fields[0].s, big);
		} else {
			cr_assert_eq(evs[i]->fields[0].i, i / 2);
		}
	}
	free_all(evs, n);
}

/* A thread that moves to another cord names it in the file. */
static void
switcher_main(void *arg)
{
	(void)arg;
	test_t = 5;
	trace_cord_enter("first", test_cord_clock, NULL);
	TRACE("test.here", TI("n", 1));
	trace_cord_enter("second", test_cord_clock, NULL);
	test_t = 6;
	TRACE("test.here", TI("n", 2));
	trace_cord_enter(NULL, NULL, NULL);
	test_t = 7;
	TRACE("test.here", TI("n", 3));
}

Test(trace_pump, a_thread_that_changes_cord)
{
	atomic_store(&test_now, UINT64_MAX / 2);
	struct trace_writer *w = open_writer();
	struct trace_pump *p = trace_pump_start(w, &test_ops, 0);
	cr_assert_not_null(p);
	void *t;
	cr_assert_eq(rt_thread_spawn(&t, switcher_main, NULL), 0);
	rt_thread_join(t);
	trace_set_sink(NULL, NULL);
	cr_assert_eq(trace_pump_stop(p), 0);
	cr_assert_eq(trace_writer_close(w, true), 0);
	struct trace_event **evs;
	int n = read_all(&evs);
	cr_assert_eq(n, 3);
	cr_assert_str_eq(evs[0]->cord, "first");
	cr_assert_str_eq(evs[1]->cord, "second");
	cr_assert_str_eq(evs[2]->cord, "main");
	free_all(evs, n);
}

/* ------------------------------------------------ the old file format */

/*
 * tests/fixtures/trace-v2-01-two-worlds.trace was written by the format 2
 * writer (kharon before the pump) from scenarios/01-two-worlds.json: the
 * reader of format 3 still reads it, to the same golden export.
 */
Test(trace_pump, reads_a_version_2_file)
{
	const char *fixture = "tests/fixtures/trace-v2-01-two-worlds.trace";
	FILE *f = fopen(fixture, "rb");
	cr_assert_not_null(f);
	char head[12];
	cr_assert_eq(fread(head, 1, 12, f), 12);
	fclose(f);
	cr_assert_eq(trace_record_load_u32(head + 8), 2);
	char out_path[160];
	snprintf(out_path, sizeof(out_path), "%s/out.jsonl", dir);
	FILE *out = fopen(out_path, "w");
	cr_assert_not_null(out);
	struct trace_export_stats st;
	cr_assert_eq(trace_export_file(fixture, out, TRACE_FORMAT_JSONL, false,
				       &st), 0, "%s", diag_msg());
	fclose(out);
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "cmp -s %s tests/golden/01-two-worlds.jsonl",
		 out_path);
	int rc = system(cmd);
	unlink(out_path);
	cr_assert_eq(rc, 0, "the v2 fixture exports unlike the golden");
}

/*
 * A file of PACKED records cut anywhere inside its last record (a writer
 * still writing, or killed) reads up to the last complete record, then
 * waits for more.
 */
Test(trace_pump, packed_file_cut_reads_to_the_last_whole_record)
{
	struct trace_writer *w = open_writer();
	trace_writer_set_packed(w);
	trace_writer_set_flush_size(w, 1);
	for (int i = 0; i < 5; i++) {
		const struct trace_field f[] = { TI("i", i), TS("s", "v") };
		const struct trace_event e = {
			.seq = (uint64_t)i + 1, .t = (uint64_t)i * 100,
			.cord = "tx", .ev = "test.packed", .fields = f,
			.n_fields = 2,
		};
		cr_assert_eq(trace_writer_add(w, &e), 0, "%s", diag_msg());
	}
	/* No END: the last record is the fifth event's. */
	cr_assert_eq(trace_writer_close(w, false), 0);
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f);
	static char data[65536];
	size_t size = fread(data, 1, sizeof(data), f);
	fclose(f);
	struct trace_reader *r = trace_reader_new(path);
	struct trace_event e;
	int n = 0, rc;
	uint64_t last_start = 0;
	while ((rc = trace_reader_next(r, &e)) == TRACE_READ_EVENT) {
		n++;
		if (n == 4)
			last_start = trace_reader_offset(r);
	}
	cr_assert_eq(rc, TRACE_READ_AGAIN);
	cr_assert_eq(n, 5);
	trace_reader_delete(r);
	for (size_t cut = last_start + 1; cut < size; cut++) {
		f = fopen(path, "wb");
		cr_assert_eq(fwrite(data, 1, cut, f), cut);
		fclose(f);
		r = trace_reader_new(path);
		n = 0;
		while ((rc = trace_reader_next(r, &e)) == TRACE_READ_EVENT) {
			cr_assert_eq(e.fields[0].i, n);
			n++;
		}
		cr_assert_eq(rc, TRACE_READ_AGAIN, "cut at %zu: %s", cut,
			     diag_msg());
		cr_assert_eq(n, 4, "cut at %zu: %d events", cut, n);
		trace_reader_delete(r);
	}
}
