/*
 * bench_push.c — `kharon bench push`: how fast pushes reach clients.
 *
 * --conns connections each call a pushing procedure — `push` (N pushes
 * without a yield, all buffered before the first leaves) or `push_stream`
 * (yields every ~128 KiB, bounded unsent output: Kharon crosses many
 * times) — and the client (push_client.c) counts the chunks. With
 * --seconds each connection calls again until that time has passed, so a
 * fast server runs as long as a slow one. Against kharon's own server
 * (real threads, started in this process) it also reports how many cbus
 * messages carried the pushes to the network cord — about 0 per push with
 * Kharon, exactly 1 with --push-mode per_push. With --target the same
 * client measures another server (a separate process): `kharon serve`, or
 * a real Tarantool running tests/interop/procs.lua. bench/run.sh uses
 * --target only, so that server and client never share a process.
 *
 *   push_per_s{server="kharon",mode="kharon",proc="push",payload="8",conns="1"} VALUE
 *   push_msgs_per_push{...} VALUE
 *   writev_per_push{...} VALUE      (the server's writev calls per push)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/diag.h"
#include "cli/bench_server.h"
#include "cli/cli.h"
#include "cli/push_client.h"
#include "iproto/iproto.h"
#include "rt/rt.h"

static const char bench_push_usage[] =
	"usage: kharon bench push [--pushes N] [--payload BYTES] "
	"[--proc push|push_stream] [--conns N] [--seconds S] "
	"[--push-mode kharon|per_push] [--target HOST:PORT]\n";

int
bench_push(int argc, char **argv)
{
	if (argc == 1 && strcmp(argv[0], "--help") == 0) {
		fputs(bench_push_usage, stdout);
		return CLI_OK;
	}
	struct push_client_opts copts = {
		.proc = "push", .pushes = 200000, .payload = 8, .conns = 1,
	};
	enum push_mode mode = PUSH_MODE_KHARON;
	const char *target = NULL;
	for (int i = 0; i < argc; i++) {
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;
		char *end;
		if (val == NULL)
			goto usage;
		i++;
		if (strcmp(argv[i - 1], "--pushes") == 0) {
			/* The procedures' own limit (docs/procedures.md). */
			copts.pushes = strtoull(val, &end, 10);
			if (*end != '\0' || copts.pushes == 0 ||
			    copts.pushes > 10000000)
				goto usage;
		} else if (strcmp(argv[i - 1], "--payload") == 0) {
			unsigned long long v = strtoull(val, &end, 10);
			if (*end != '\0' || v > 1024 * 1024)
				goto usage;
			copts.payload = (size_t)v;
		} else if (strcmp(argv[i - 1], "--proc") == 0) {
			if (strcmp(val, "push") == 0)
				copts.proc = "push";
			else if (strcmp(val, "push_stream") == 0)
				copts.proc = "push_stream";
			else
				goto usage;
		} else if (strcmp(argv[i - 1], "--conns") == 0) {
			long v = strtol(val, &end, 10);
			if (*end != '\0' || v < 1 || v > 1000)
				goto usage;
			copts.conns = (int)v;
		} else if (strcmp(argv[i - 1], "--seconds") == 0) {
			double v = strtod(val, &end);
			if (*end != '\0' || !(v > 0) || v > 3600)
				goto usage;
			copts.run_ns = (uint64_t)(v * 1e9);
		} else if (strcmp(argv[i - 1], "--push-mode") == 0) {
			if (strcmp(val, "kharon") == 0)
				mode = PUSH_MODE_KHARON;
			else if (strcmp(val, "per_push") == 0)
				mode = PUSH_MODE_PER_PUSH;
			else
				goto usage;
		} else if (strcmp(argv[i - 1], "--target") == 0) {
			target = val;
		} else {
			goto usage;
		}
	}
	struct iproto_opts opts;
	iproto_opts_default(&opts);
	opts.push_mode = mode;
	struct bench_server bs;
	if (bench_server_start(&bs, target, &opts) != 0)
		goto fail;
	struct push_client *c = push_client_start(bs.rt, bs.addr, &copts);
	if (c == NULL) {
		bench_server_abort(&bs);
		goto fail;
	}
	while (!push_client_is_done(c)) {
		struct timespec ts = { 0, 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	bench_server_finish(&bs, true);
	double rate;
	uint64_t n, calls;
	bool ok = push_client_result(c, &rate, &n, &calls);
	push_client_delete(c);
	ok = ok && calls >= (uint64_t)copts.conns &&
	     n == calls * copts.pushes;
	const char *who = target != NULL ? "target" : "kharon";
	const char *how = target != NULL ? "-" :
			  mode == PUSH_MODE_KHARON ? "kharon" : "per_push";
	char labels[160];
	snprintf(labels, sizeof(labels), "{server=\"%s\",mode=\"%s\","
		 "proc=\"%s\",payload=\"%zu\",conns=\"%d\"}", who, how,
		 copts.proc, copts.payload, copts.conns);
	if (!ok) {
		fprintf(stderr, "kharon bench push: got %llu pushes in %llu "
			"calls, expected %llu per call\n",
			(unsigned long long)n, (unsigned long long)calls,
			(unsigned long long)copts.pushes);
	} else {
		printf("push_per_s%s %.0f\n", labels, rate);
		if (bs.server != NULL) {
			struct iproto_stats st;
			iproto_server_stats(bs.server, &st);
			printf("push_msgs_per_push%s %.6f\n", labels,
			       (double)st.n_push_msgs / (double)st.n_pushes);
		}
		bench_server_print_writev(&bs, "writev_per_push", labels, n);
	}
	bench_server_delete(&bs);
	return ok ? CLI_OK : CLI_FAILED;
fail:
	fprintf(stderr, "kharon bench push: %s\n", diag_msg());
	return CLI_FAILED;
usage:
	fputs(bench_push_usage, stderr);
	return CLI_USAGE;
}
