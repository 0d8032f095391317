/*
 * main.c — the `kharon` program: dispatch to a sub-command.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const char usage[] =
	"usage: kharon <command> [options]   (kharon <command> --help: its options)\n"
	"\n"
	"commands:\n"
	"  serve [--listen HOST:PORT] [--iproto-threads N] [--push-mode kharon|per_push]\n"
	"        [--readahead BYTES] [--net-msg-max N] [--obuf-limit BYTES]\n"
	"        [--obuf-soft-limit BYTES:SECONDS] [--grace SECONDS] [--max-packet BYTES]\n"
	"        [--trace FILE]\n"
	"                 the server (Tarantool 2.6 binary protocol) until SIGINT/SIGTERM\n"
	"  run SCENARIO.json [--trace FILE] [--seed N] [--mode sim|real] [--target HOST:PORT]\n"
	"                 run a scenario's clients against the server, check, report\n"
	"  check SCENARIO.json...   validate scenario files; start nothing\n"
	"  call [--timeout SECONDS] HOST:PORT FUNCTION [ARGS-as-JSON]\n"
	"                 call a procedure; pushes, then the result\n"
	"  bench cbus [--seconds S] [--batch N]...\n"
	"                 messages between two real cords, batched\n"
	"  bench ring [--seconds S]\n"
	"                 two spinning SPSC rings: the limit cbus is compared with\n"
	"  bench call [--conns N] [--inflight M] [--seconds S] [--target HOST:PORT]\n"
	"                 pipelined echo calls per second\n"
	"  bench push [--proc push|push_stream] [--pushes N] [--payload BYTES]\n"
	"             [--conns N] [--seconds S] [--push-mode M] [--target HOST:PORT]\n"
	"                 pushes per second (kharon or another server)\n"
	"  trace dump|export|check FILE [--format jsonl|text|chrome] [--follow]\n"
	"  trace bench [--pushes N]\n"
	"                 tracing's cost: pushes/s off and on, ns per event\n"
	"  help           this text\n";

int
main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "help") == 0 ||
	    strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? CLI_USAGE : CLI_OK;
	}
	if (strcmp(argv[1], "serve") == 0)
		return cli_serve(argc - 2, argv + 2);
	if (strcmp(argv[1], "run") == 0)
		return cli_run(argc - 2, argv + 2);
	if (strcmp(argv[1], "check") == 0)
		return cli_check(argc - 2, argv + 2);
	if (strcmp(argv[1], "trace") == 0)
		return cli_trace(argc - 2, argv + 2);
	if (strcmp(argv[1], "call") == 0)
		return cli_call(argc - 2, argv + 2);
	if (strcmp(argv[1], "bench") == 0)
		return cli_bench(argc - 2, argv + 2);
	fprintf(stderr, "kharon: unknown command '%s'\n\n%s", argv[1], usage);
	return CLI_USAGE;
}
