/*
 * serve.c — `kharon serve`: the server on real threads until SIGINT or
 * SIGTERM, then a graceful stop (finish what is in flight) and exit 0.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/diag.h"
#include "base/mem.h"
#include "cli/cli.h"
#include "cli/cli_addr.h"
#include "iproto/iproto.h"
#include "rt/rt.h"
#include "trace/trace_file.h"
#include "trace/trace_pump.h"

static const char serve_usage[] =
	"usage: kharon serve [--listen HOST:PORT] [--iproto-threads N]\n"
	"                    [--push-mode kharon|per_push] [--readahead BYTES]\n"
	"                    [--net-msg-max N] [--obuf-limit BYTES]\n"
	"                    [--obuf-soft-limit BYTES:SECONDS] [--grace SECONDS]\n"
	"                    [--max-packet BYTES] [--trace FILE]\n";

static const char serve_help[] =
	"\n"
	"  --listen HOST:PORT      address to listen on (127.0.0.1:3301)\n"
	"  --iproto-threads N      network cords net0..net{N-1} (1)\n"
	"  --push-mode MODE        kharon: one ferry message per connection\n"
	"                          (Tarantool); per_push: a message per push\n"
	"  --readahead BYTES       start size of each input buffer (16320)\n"
	"  --net-msg-max N         requests in flight per network cord before\n"
	"                          reading pauses (768)\n"
	"  --obuf-limit BYTES      hard bound on the output a connection holds\n"
	"                          (written, not yet flushed to its socket):\n"
	"                          output past it is refused at once (a push\n"
	"                          fails: \"output limit of N bytes exceeded\")\n"
	"                          and the connection is closed (0: none)\n"
	"  --obuf-soft-limit BYTES:SECONDS\n"
	"                          close only if the held output stays above\n"
	"                          BYTES for SECONDS: a client that reads, but\n"
	"                          slower than a burst, survives the burst\n"
	"  --max-packet BYTES      largest request accepted (16 MiB)\n"
	"  --grace SECONDS         on SIGINT/SIGTERM, how long calls in flight\n"
	"                          may go on (5)\n"
	"  --trace FILE            record every step into FILE (docs/trace.md)\n"
	"\n"
	"SIGINT or SIGTERM: stop accepting, let calls in flight finish for up\n"
	"to the grace period, cut the rest short with an error reply that the\n"
	"client can read (loops stop at their next turn), give those replies up\n"
	"to 1 s more to leave, close what is left, then exit.\n";

/** "BYTES:SECONDS" (seconds may have a fraction); 0 or -1. */
static int
serve_soft_limit(const char *s, struct iproto_opts *opts)
{
	char *end;
	long long bytes = strtoll(s, &end, 10);
	if (end == s || *end != ':' || bytes < 0 || bytes > (1LL << 40))
		return -1;
	const char *sec = end + 1;
	double seconds = strtod(sec, &end);
	if (end == sec || *end != '\0' || !(seconds >= 0) || seconds > 86400)
		return -1;
	opts->obuf_soft_limit = (size_t)bytes;
	opts->obuf_soft_ns = (uint64_t)(seconds * 1e9);
	return 0;
}

/** A whole number in [min, max], or -1. */
static long long
serve_number(const char *s, long long min, long long max)
{
	char *end;
	long long v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v < min || v > max)
		return -1;
	return v;
}

/*
 * Uninstall the sink (no cord runs any more), let the pump write what its
 * rings hold, then end the file. Both may be NULL. Returns 0, or -1 (diag
 * set: the first error of the pump or the writer).
 */
static int
serve_trace_end(struct trace_writer *trace, struct trace_pump *pump)
{
	if (trace == NULL)
		return 0;
	trace_set_sink(NULL, NULL);
	int rc = pump != NULL ? trace_pump_stop(pump) : 0;
	struct diag pump_error = *diag_last();
	if (trace_writer_close(trace, true) != 0)
		return -1;
	if (rc != 0)
		*diag_last() = pump_error;
	return rc;
}

int
cli_serve(int argc, char **argv)
{
	struct iproto_opts opts;
	iproto_opts_default(&opts);
	const char *trace_path = NULL;
	uint64_t grace_ns = 5ULL * 1000 * 1000 * 1000;
	for (int i = 0; i < argc; i++) {
		const char *opt = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;
		long long v = 0;
		if (strcmp(opt, "--help") == 0 || strcmp(opt, "-h") == 0) {
			fputs(serve_usage, stdout);
			fputs(serve_help, stdout);
			return CLI_OK;
		}
		if (val == NULL)
			goto usage;
		i++;
		if (strcmp(opt, "--listen") == 0) {
			/* A typo is bad usage (2), a busy port a failure (1). */
			char err[200];
			if (cli_addr_check(val, true, err, sizeof(err)) != 0) {
				fprintf(stderr, "kharon serve: --listen: %s\n",
					err);
				return CLI_USAGE;
			}
			/* Checked: an IPv4 literal and a port fit. */
			snprintf(opts.listen, sizeof(opts.listen), "%s", val);
		} else if (strcmp(opt, "--iproto-threads") == 0) {
			if ((v = serve_number(val, 1, 64)) < 0)
				goto usage;
			opts.iproto_threads = (int)v;
		} else if (strcmp(opt, "--push-mode") == 0) {
			if (strcmp(val, "kharon") == 0)
				opts.push_mode = PUSH_MODE_KHARON;
			else if (strcmp(val, "per_push") == 0)
				opts.push_mode = PUSH_MODE_PER_PUSH;
			else
				goto usage;
		} else if (strcmp(opt, "--readahead") == 0) {
			if ((v = serve_number(val, 128, 1LL << 30)) < 0)
				goto usage;
			opts.readahead = (size_t)v;
		} else if (strcmp(opt, "--net-msg-max") == 0) {
			if ((v = serve_number(val, 2, 1 << 20)) < 0)
				goto usage;
			opts.net_msg_max = (int)v;
		} else if (strcmp(opt, "--obuf-limit") == 0) {
			if ((v = serve_number(val, 0, 1LL << 40)) < 0)
				goto usage;
			opts.obuf_limit = (size_t)v;
		} else if (strcmp(opt, "--grace") == 0) {
			char *end;
			double s = strtod(val, &end);
			if (end == val || *end != '\0' || !(s >= 0) || s > 3600)
				goto usage;
			grace_ns = (uint64_t)(s * 1e9);
		} else if (strcmp(opt, "--obuf-soft-limit") == 0) {
			if (serve_soft_limit(val, &opts) != 0)
				goto usage;
		} else if (strcmp(opt, "--trace") == 0) {
			trace_path = val;
		} else if (strcmp(opt, "--max-packet") == 0) {
			if ((v = serve_number(val, 16, 1LL << 31)) < 0)
				goto usage;
			opts.max_packet = (size_t)v;
		} else {
			goto usage;
		}
	}
	/* Cords inherit the mask: only this thread takes the signals. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* Tracing: every cord batches its own events into FILE (trace.md). */
	struct trace_writer *trace = NULL;
	struct trace_pump *pump = NULL;
	if (trace_path != NULL) {
		char threads[4][16];
		const char *cords[5] = {"tx"};
		int n_cords = 1;
		for (int i = 0; i < opts.iproto_threads && i < 4; i++) {
			snprintf(threads[i], sizeof(threads[i]), "net%d", i);
			cords[n_cords++] = threads[i];
		}
		const struct trace_meta meta = {
			.scenario = "serve", .seed = 0, .mode = "real",
			.cords = cords, .n_cords = n_cords,
			.created_by = "kharon serve",
		};
		trace = trace_writer_new(trace_path, &meta);
		if (trace == NULL) {
			fprintf(stderr, "kharon serve: %s\n", diag_msg());
			return CLI_FAILED;
		}
		/* Encoding and write() on the pump's thread (trace_pump.h). */
		const struct trace_thread_ops ops = {
			rt_thread_spawn, rt_thread_join, rt_trace_clock,
		};
		pump = trace_pump_start(trace, &ops, 0);
		if (pump == NULL) {
			fprintf(stderr, "kharon serve: %s\n", diag_msg());
			trace_writer_close(trace, true);
			return CLI_FAILED;
		}
	}
	struct rt *rt = rt_thread_new();
	struct iproto_server *server = rt != NULL ?
		iproto_server_new(rt, &opts) : NULL;
	if (server == NULL) {
		fprintf(stderr, "kharon serve: %s\n", diag_msg());
		if (rt != NULL)
			rt_delete(rt);
		/* A file made for nothing: it ends at once. */
		serve_trace_end(trace, pump);
		return CLI_FAILED;
	}
	if (iproto_server_start(server) != 0) {
		/* Cords that did start must stop before anything is freed. */
		fprintf(stderr, "kharon serve: %s\n", diag_msg());
		iproto_server_shutdown(server, 0);
		rt_run(rt);
		iproto_server_delete(server);
		rt_delete(rt);
		serve_trace_end(trace, pump);
		return CLI_FAILED;
	}
	fprintf(stderr, "kharon serve: listening on port %d, %d iproto "
		"thread(s), push mode %s\n", iproto_server_port(server),
		opts.iproto_threads,
		opts.push_mode == PUSH_MODE_KHARON ? "kharon" : "per_push");
	int sig = 0;
	sigwait(&set, &sig);
	fprintf(stderr, "kharon serve: %s, finishing what is in flight\n",
		sig == SIGINT ? "SIGINT" : "SIGTERM");
	iproto_server_shutdown(server, grace_ns);
	rt_run(rt);
	struct iproto_stats st;
	iproto_server_stats(server, &st);
	fprintf(stderr, "kharon serve: stopped: %llu connections, %llu "
		"requests, %llu pushes, %llu push messages, %llu writev\n",
		(unsigned long long)st.n_connections,
		(unsigned long long)st.n_requests,
		(unsigned long long)st.n_pushes,
		(unsigned long long)st.n_push_msgs,
		(unsigned long long)st.n_writev);
	iproto_server_delete(server);
	rt_delete(rt);
	if (serve_trace_end(trace, pump) != 0) {
		fprintf(stderr, "kharon serve: trace: %s\n", diag_msg());
		return CLI_FAILED;
	}
	return CLI_OK;
usage:
	fputs(serve_usage, stderr);
	return CLI_USAGE;
}
