/*
 * bench_push.c — `kharon bench push`: how fast pushes reach one client.
 *
 * One connection, one call of push(N, payload): the server writes N chunks
 * as fast as it can, the client (push_client.c) counts them. Against
 * kharon's own server (real threads, started here) it also reports how
 * many cbus messages carried the pushes to the network cord — about 0 per
 * push with Kharon, exactly 1 with --push-mode per_push. With --target the
 * same client measures another server, e.g. a real Tarantool running
 * tests/interop/procs.lua.
 *
 *   push_per_s{server="kharon",mode="kharon",payload="8"} VALUE
 *   push_msgs_per_push{server="kharon",mode="kharon",payload="8"} VALUE
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/diag.h"
#include "cli/cli.h"
#include "cli/push_client.h"
#include "iproto/iproto.h"
#include "rt/rt.h"

static const char bench_push_usage[] =
	"usage: kharon bench push [--pushes N] [--payload BYTES] "
	"[--push-mode kharon|per_push] [--target HOST:PORT]\n";

int
bench_push(int argc, char **argv)
{
	uint64_t pushes = 200000;
	size_t payload = 8;
	enum push_mode mode = PUSH_MODE_KHARON;
	const char *target = NULL;
	for (int i = 0; i < argc; i++) {
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;
		char *end;
		if (val == NULL)
			goto usage;
		i++;
		if (strcmp(argv[i - 1], "--pushes") == 0) {
			pushes = strtoull(val, &end, 10);
			if (*end != '\0' || pushes == 0 || pushes > 10000000)
				goto usage;
		} else if (strcmp(argv[i - 1], "--payload") == 0) {
			unsigned long long v = strtoull(val, &end, 10);
			if (*end != '\0' || v > 1024 * 1024)
				goto usage;
			payload = (size_t)v;
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
	struct rt *rt = rt_thread_new();
	if (rt == NULL)
		goto fail;
	struct iproto_server *server = NULL;
	char addr[80];
	if (target == NULL) {
		struct iproto_opts opts;
		iproto_opts_default(&opts);
		strcpy(opts.listen, "127.0.0.1:0");
		opts.push_mode = mode;
		server = iproto_server_new(rt, &opts);
		if (server == NULL || iproto_server_start(server) != 0)
			goto fail_rt;
		snprintf(addr, sizeof(addr), "127.0.0.1:%d",
			 iproto_server_port(server));
	} else {
		snprintf(addr, sizeof(addr), "%s", target);
	}
	struct push_client *c = push_client_start(rt, addr, pushes, payload);
	if (c == NULL)
		goto fail_server;
	while (!push_client_is_done(c)) {
		struct timespec ts = { 0, 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	if (server != NULL)
		iproto_server_shutdown(server, 1000ULL * 1000 * 1000);
	rt_run(rt);
	double rate;
	uint64_t n;
	bool ok = push_client_result(c, &rate, &n);
	push_client_delete(c);
	const char *who = target != NULL ? "target" : "kharon";
	const char *how = target != NULL ? "-" :
			  mode == PUSH_MODE_KHARON ? "kharon" : "per_push";
	if (!ok || n != pushes) {
		fprintf(stderr, "kharon bench push: got %llu of %llu pushes\n",
			(unsigned long long)n, (unsigned long long)pushes);
	} else {
		printf("push_per_s{server=\"%s\",mode=\"%s\",payload=\"%zu\"} "
		       "%.0f\n", who, how, payload, rate);
		if (server != NULL) {
			struct iproto_stats st;
			iproto_server_stats(server, &st);
			printf("push_msgs_per_push{server=\"%s\",mode=\"%s\","
			       "payload=\"%zu\"} %.6f\n", who, how, payload,
			       (double)st.n_push_msgs / (double)st.n_pushes);
		}
	}
	if (server != NULL)
		iproto_server_delete(server);
	rt_delete(rt);
	return ok && n == pushes ? CLI_OK : CLI_FAILED;
fail_server:
	if (server != NULL) {
		iproto_server_shutdown(server, 0);
		rt_run(rt);
		iproto_server_delete(server);
	}
fail_rt:
	rt_delete(rt);
fail:
	fprintf(stderr, "kharon bench push: %s\n", diag_msg());
	return CLI_FAILED;
usage:
	fputs(bench_push_usage, stderr);
	return CLI_USAGE;
}
