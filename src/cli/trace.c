/*
 * trace.c — `kharon trace dump|export|check|bench`: read a trace file
 * (DESIGN.md §8) as text, JSON Lines or Chrome Trace Event JSON, validate
 * it, or measure what tracing costs.
 *
 *   kharon serve --trace F ──writes──> F <──reads── kharon trace dump F --follow
 *
 * dump = text to stdout unless --format says otherwise; export = --format
 * (default jsonl) to stdout; check = validate and print the record count
 * and the first problem with its offset (exit 0 ok, 1 a problem, 2 usage).
 * Records torn by a writer killed mid-write() are skipped and their bytes
 * reported (check: on its line; dump/export: on stderr): that alone is
 * no problem. A problem is corruption, a torn record whose writer wrote
 * again after it, a file ending in a torn or bad record, or no END — all
 * three commands say it (dump/export on stderr) and exit 1.
 * A FILE that cannot be opened or is not a kharon trace at all (its first
 * bytes are not the magic) is bad input: exit 2 with one line, for all
 * three; a trace that is damaged further on is a problem: exit 1.
 * bench = push throughput of a real-thread server with tracing off, then
 * on (to a temporary file), and the events/s written.
 *
 * Lesson: lessons/en/00-scenarios.md; docs/trace.md lists every event.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/diag.h"
#include "base/mem.h"
#include "cli/cli.h"
#include "cli/push_client.h"
#include "iproto/iproto.h"
#include "proto/greeting.h"
#include "proto/iproto_constants.h"
#include "proto/mp.h"
#include "proto/xrow.h"
#include "rt/rt.h"
#include "trace/trace_export.h"
#include "trace/trace.h"
#include "trace/trace_file.h"
#include "trace/trace_pump.h"

static const char trace_usage[] =
	"usage: kharon trace dump|export|check FILE [--format jsonl|text|chrome]"
	" [--follow]\n"
	"       kharon trace bench [--pushes N]\n";

static int
trace_bad_usage(const char *why)
{
	fprintf(stderr, "kharon trace: %s\n%s", why, trace_usage);
	return CLI_USAGE;
}

/* ------------------------------------------------------------- bench */

/* How a bench run traces: not at all, the per-cord batch sink, the pump. */
enum bench_trace { BENCH_OFF, BENCH_SYNC, BENCH_PUMP };

static const struct trace_thread_ops bench_thread_ops = {
	rt_thread_spawn, rt_thread_join, rt_trace_clock,
};

/* Start tracing into `path` as `how` says; *pump set for BENCH_PUMP. */
static struct trace_writer *
bench_trace_start(const char *path, enum bench_trace how,
		  struct trace_pump **pump)
{
	static const char *const cords[] = {"tx", "net0", "client0"};
	const struct trace_meta meta = {
		.scenario = "bench trace", .seed = 0, .mode = "real",
		.cords = cords, .n_cords = 3, .created_by = "kharon",
	};
	*pump = NULL;
	struct trace_writer *w = trace_writer_new(path, &meta);
	if (w == NULL)
		return NULL;
	if (how == BENCH_SYNC) {
		trace_writer_install(w);
		return w;
	}
	*pump = trace_pump_start(w, &bench_thread_ops, 0);
	if (*pump == NULL) {
		trace_writer_close(w, false);
		return NULL;
	}
	return w;
}

/* Uninstall, stop the pump, close; 0 or -1 (diag set). */
static int
bench_trace_end(struct trace_writer *w, struct trace_pump *pump)
{
	if (w == NULL)
		return 0;
	trace_set_sink(NULL, NULL);
	int rc = pump != NULL ? trace_pump_stop(pump) : 0;
	if (trace_writer_close(w, true) != 0)
		rc = -1;
	return rc;
}

/* One run: the server and one client asking for `pushes` pushes. */
static int
bench_run(uint64_t pushes, const char *trace_path, enum bench_trace how,
	  double *pushes_per_s, uint64_t *n_chunks)
{
	struct trace_pump *pump = NULL;
	struct rt *rt = rt_thread_new();
	if (rt == NULL)
		return -1;
	struct iproto_opts opts;
	iproto_opts_default(&opts);
	strcpy(opts.listen, "127.0.0.1:0");
	struct iproto_server *server = iproto_server_new(rt, &opts);
	if (server == NULL) {
		rt_delete(rt);
		return -1;
	}
	struct trace_writer *w = NULL;
	if (how != BENCH_OFF) {
		w = bench_trace_start(trace_path, how, &pump);
		if (w == NULL)
			goto err;
	}
	if (iproto_server_start(server) != 0)
		goto err;
	char addr[64];
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", iproto_server_port(server));
	struct push_client_opts copts = {
		.proc = "push", .pushes = pushes, .payload = 1, .conns = 1,
	};
	struct push_client *c = push_client_start(rt, addr, &copts);
	if (c == NULL)
		goto err_stop;
	while (!push_client_is_done(c)) {
		struct timespec ts = { 0, 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	iproto_server_shutdown(server, 1000ULL * 1000 * 1000);
	rt_run(rt);
	uint64_t n_calls;
	push_client_result(c, pushes_per_s, n_chunks, &n_calls);
	push_client_delete(c);
	iproto_server_delete(server);
	rt_delete(rt);
	return bench_trace_end(w, pump);
err_stop:
	/* Cords run: stop everything before freeing. */
	iproto_server_shutdown(server, 0);
	rt_run(rt);
err:
	bench_trace_end(w, pump);
	iproto_server_delete(server);
	rt_delete(rt);
	return -1;
}

/*
 * The emitting cord's cost per event: a cord emits the four events of a
 * push (obuf.reserve, port.dump, obuf.patch, push: 26 integers and one
 * short string) in bursts of BENCH_BURST, timed (the median burst is
 * reported); between bursts — not
 * timed — it waits until the pump's writer thread has drained them, so a
 * burst never meets a full ring. For the synchronous sink the time
 * includes its encoding and, every 64 KiB, its write().
 */
enum { BENCH_BURST = 1000, BENCH_BURSTS = 201 };

struct bench_emit {
	struct rt_cord *cord;
	struct trace_pump *pump;
	double ns_per_event;
	/** The flood: events/s from the first emit to the writer's last. */
	double pipeline_per_s;
};

enum { BENCH_FLOOD = 400000 };

static double
bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void
bench_emit_burst(uint64_t i)
{
	TRACE("obuf.reserve", TI("conn", 1), TI("sync", i), TI("buf", 0),
	      TI("chunk", 0), TI("offset", i * 39), TI("svp", i * 39),
	      TI("size", 35));
	TRACE("port.dump", TI("conn", 1), TI("sync", i), TI("buf", 0),
	      TI("begin", i * 39 + 35), TI("end", i * 39 + 39), TI("count", 1));
	TRACE("obuf.patch", TI("conn", 1), TI("sync", i), TI("buf", 0),
	      TI("svp", i * 39), TI("len", 34), TI("count", 1),
	      TI("end", i * 39 + 39));
	TRACE("push", TI("conn", 1), TI("sync", i), TI("buf", 0),
	      TI("begin", i * 39), TI("end", i * 39 + 39),
	      TI("kharon_away", 1), TS("value", "[1]"));
}

static int
bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Until the pump's writer thread has taken `n` events (none: at once). */
static void
bench_wait_drained(const struct bench_emit *b, uint64_t n)
{
	struct trace_pump_stats ps = {0};
	while (b->pump != NULL) {
		trace_pump_stats(b->pump, &ps);
		if (ps.n_events >= n)
			return;
		struct timespec ts = { 0, 100 * 1000 };
		nanosleep(&ts, NULL);
	}
}

static void
bench_emit_cord(void *arg)
{
	struct bench_emit *b = arg;
	static double burst_ns[BENCH_BURSTS];
	uint64_t i = 0;
	for (int k = 0; k < BENCH_BURSTS; k++) {
		double t0 = bench_now_ns();
		for (int j = 0; j < BENCH_BURST / 4; j++)
			bench_emit_burst(i++);
		burst_ns[k] = bench_now_ns() - t0;
		bench_wait_drained(b, i * 4);
	}
	/* The median burst: the machine is shared, a preempted burst is not
	 * what an event costs. */
	qsort(burst_ns, BENCH_BURSTS, sizeof(burst_ns[0]), bench_cmp_double);
	b->ns_per_event = burst_ns[BENCH_BURSTS / 2] / BENCH_BURST;
	/*
	 * The flood: as fast as the cord can, waiting on full rings — what
	 * the writer thread sustains when it has a core of its own.
	 */
	double t0 = bench_now_ns();
	for (int j = 0; j < BENCH_FLOOD / 4; j++)
		bench_emit_burst(i++);
	bench_wait_drained(b, i * 4);
	b->pipeline_per_s = BENCH_FLOOD * 1e9 / (bench_now_ns() - t0);
	rt_cord_stop(b->cord);
}

static int
bench_emit(const char *path, enum bench_trace how, double *ns_per_event,
	   double *pipeline_per_s, struct trace_pump_stats *stats)
{
	struct rt *rt = rt_thread_new();
	if (rt == NULL)
		return -1;
	struct bench_emit b = {0};
	b.cord = rt_cord_new(rt, "bench");
	struct trace_writer *w = NULL;
	if (b.cord == NULL ||
	    (w = bench_trace_start(path, how, &b.pump)) == NULL)
		goto err;
	if (rt_cord_start(b.cord, bench_emit_cord, &b) != 0)
		goto err;
	rt_run(rt);
	rt_delete(rt);
	if (stats != NULL && b.pump != NULL)
		trace_pump_stats(b.pump, stats);
	*ns_per_event = b.ns_per_event;
	*pipeline_per_s = b.pipeline_per_s;
	return bench_trace_end(w, b.pump);
err:
	bench_trace_end(w, b.pump);
	rt_delete(rt);
	return -1;
}

static int
trace_bench(int argc, char **argv)
{
	uint64_t pushes = 200000;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--pushes") == 0 && i + 1 < argc) {
			char *end;
			pushes = strtoull(argv[++i], &end, 10);
			if (*end != '\0' || pushes == 0 || pushes > 100000000)
				return trace_bad_usage("bad --pushes");
		} else {
			return trace_bad_usage("unknown bench option");
		}
	}
	char path[] = "/tmp/kharon-bench-trace-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0) {
		perror("kharon trace bench: mkstemp");
		return CLI_FAILED;
	}
	close(fd);
	double off = 0, sync = 0, on = 0;
	uint64_t n_off = 0, n_sync = 0, n_on = 0;
	double emit_sync = 0, emit_pump = 0, flood_sync = 0, flood_pump = 0;
	struct trace_pump_stats ps;
	struct trace_export_stats st;
	struct stat sb;
	if (bench_run(pushes, NULL, BENCH_OFF, &off, &n_off) != 0 ||
	    bench_run(pushes, path, BENCH_SYNC, &sync, &n_sync) != 0 ||
	    bench_emit(path, BENCH_SYNC, &emit_sync, &flood_sync, NULL) != 0 ||
	    bench_emit(path, BENCH_PUMP, &emit_pump, &flood_pump, &ps) != 0 ||
	    bench_run(pushes, path, BENCH_PUMP, &on, &n_on) != 0 ||
	    trace_export_file(path, NULL, TRACE_FORMAT_JSONL, false,
			      &st) != 0 || stat(path, &sb) != 0) {
		fprintf(stderr, "kharon trace bench: %s\n", diag_msg());
		unlink(path);
		return CLI_FAILED;
	}
	double secs = (double)n_on / (on > 0 ? on : 1);
	printf("trace_bench_pushes_per_second{trace=\"off\"} %.0f\n", off);
	printf("trace_bench_pushes_per_second{trace=\"on\"} %.0f\n", on);
	printf("trace_bench_pushes_per_second{trace=\"on_sync\"} %.0f\n",
	       sync);
	printf("trace_bench_on_off_ratio %.2f\n", off > 0 ? on / off : 0);
	printf("trace_bench_pushes{trace=\"off\"} %" PRIu64 "\n", n_off);
	printf("trace_bench_pushes{trace=\"on\"} %" PRIu64 "\n", n_on);
	printf("trace_bench_emit_ns{sink=\"pump\"} %.1f\n", emit_pump);
	printf("trace_bench_emit_ns{sink=\"sync\"} %.1f\n", emit_sync);
	printf("trace_bench_flood_events_per_second{sink=\"pump\"} %.0f\n",
	       flood_pump);
	printf("trace_bench_flood_events_per_second{sink=\"sync\"} %.0f\n",
	       flood_sync);
	printf("trace_bench_ring_full_waits %" PRIu64 "\n", ps.n_full_waits);
	printf("trace_bench_events %" PRIu64 "\n", st.n_events);
	printf("trace_bench_records %" PRIu64 "\n", st.n_records);
	printf("trace_bench_file_bytes %lld\n", (long long)sb.st_size);
	printf("trace_bench_events_per_second %.0f\n",
	       (double)st.n_events / (secs > 0 ? secs : 1));
	/* The trace and its two sidecar lock files. */
	char side[sizeof(path) + 16];
	unlink(path);
	snprintf(side, sizeof(side), "%s.lock", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s.writers", path);
	unlink(side);
	return CLI_OK;
}

/* ---------------------------------------------------- dump/export/check */

/**
 * Bad input before any reading: FILE missing, unreadable, a directory, or
 * not starting like a trace. With --follow an empty file (or a prefix of
 * the magic) may still become one, so only a mismatch counts then. 0 if
 * FILE looks like a trace; -1 after printing one line.
 */
static int
trace_check_input(const char *cmd, const char *path, bool follow)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "kharon trace %s: cannot open %s: %s\n", cmd,
			path, strerror(errno));
		return -1;
	}
	char head[sizeof(trace_file_magic)];
	size_t n = fread(head, 1, sizeof(head), f);
	int read_errno = ferror(f) ? errno : 0;
	fclose(f);
	if (read_errno != 0) {
		fprintf(stderr, "kharon trace %s: cannot read %s: %s\n", cmd,
			path, strerror(read_errno));
		return -1;
	}
	if (memcmp(head, trace_file_magic, n) != 0 || (n == 0 && !follow)) {
		fprintf(stderr, "kharon trace %s: %s is not a kharon trace "
			"file (%s)\n", cmd, path,
			n == 0 ? "empty" : "bad magic");
		return -1;
	}
	return 0;
}

/*
 * What is wrong with a file read to its end (`rc` from trace_export_file):
 * an error, a torn record whose writer went on writing (something other
 * than its death cut it), bytes at the end that are no whole record, no
 * END. One line into `buf`; false when nothing is.
 */
static bool
trace_problem(const struct trace_export_stats *st, int rc, char *buf,
	      size_t size)
{
	if (rc != 0)
		snprintf(buf, size, "error: %s", diag_msg());
	else if (st->skips.n_torn_alive > 0)
		snprintf(buf, size, "%" PRIu64 " torn record%s of writers "
			 "that wrote again after (not a killed writer)",
			 st->skips.n_torn_alive,
			 st->skips.n_torn_alive == 1 ? "" : "s");
	else if (st->tail > 0)
		snprintf(buf, size, "ends in a torn or bad record: %" PRIu64
			 " bytes at offset %" PRIu64 " are no whole record",
			 st->tail, st->tail_off);
	else if (!st->has_end)
		snprintf(buf, size, "incomplete: no END record");
	else
		return false;
	return true;
}

int
cli_trace(int argc, char **argv)
{
	if (argc < 1)
		return trace_bad_usage("missing sub-command");
	const char *cmd = argv[0];
	/* kharon trace --help, kharon trace SUB --help */
	if (strcmp(cmd, "--help") == 0 ||
	    (argc == 2 && strcmp(argv[1], "--help") == 0)) {
		fputs(trace_usage, stdout);
		return CLI_OK;
	}
	if (strcmp(cmd, "bench") == 0)
		return trace_bench(argc - 1, argv + 1);
	bool is_check = strcmp(cmd, "check") == 0;
	enum trace_format format;
	if (strcmp(cmd, "dump") == 0)
		format = TRACE_FORMAT_TEXT;
	else if (strcmp(cmd, "export") == 0)
		format = TRACE_FORMAT_JSONL;
	else if (is_check)
		format = TRACE_FORMAT_JSONL;
	else
		return trace_bad_usage("unknown sub-command");
	const char *path = NULL;
	bool follow = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--follow") == 0) {
			follow = true;
		} else if (strcmp(argv[i], "--format") == 0) {
			if (i + 1 >= argc ||
			    trace_format_parse(argv[++i], &format) != 0)
				return trace_bad_usage("--format wants jsonl, "
						       "text or chrome");
		} else if (argv[i][0] == '-' || path != NULL) {
			return trace_bad_usage("unexpected argument");
		} else {
			path = argv[i];
		}
	}
	if (path == NULL)
		return trace_bad_usage("missing FILE");
	if (trace_check_input(cmd, path, follow) != 0)
		return CLI_USAGE;
	struct trace_export_stats st;
	int rc = trace_export_file(path, is_check ? NULL : stdout, format,
				   follow, &st);
	char problem[DIAG_MSG_MAX + 128];
	bool is_bad = trace_problem(&st, rc, problem, sizeof(problem));
	char skipped[128] = "";
	if (st.skips.n_torn > 0)
		snprintf(skipped, sizeof(skipped), "; skipped %" PRIu64
			 " bytes: %" PRIu64 " record%s torn by killed writers",
			 st.skips.torn_bytes, st.skips.n_torn,
			 st.skips.n_torn == 1 ? "" : "s");
	if (is_check) {
		if (is_bad)
			printf("%s: %" PRIu64 " records, %" PRIu64
			       " events%s; %s\n", path, st.n_records,
			       st.n_events, skipped, problem);
		else
			printf("%s: ok, %" PRIu64 " records, %" PRIu64
			       " events, END%s\n", path, st.n_records,
			       st.n_events, skipped);
		return is_bad ? CLI_FAILED : CLI_OK;
	}
	if (skipped[0] != '\0')
		fprintf(stderr, "kharon trace %s: %s: %s\n", cmd, path,
			skipped + 2);
	if (is_bad) {
		fprintf(stderr, "kharon trace %s: %s: %s\n", cmd, path, problem);
		return CLI_FAILED;
	}
	return CLI_OK;
}
