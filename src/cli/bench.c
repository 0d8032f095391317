/*
 * bench.c — `kharon bench WHAT`: one measurement, machine-readable output
 * (`name{labels} value` lines, Prometheus-style), for bench/ scripts.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

int
cli_bench(int argc, char **argv)
{
	static const char usage[] =
		"usage: kharon bench call|cbus|push|ring [options]"
		"   (kharon bench NAME --help: its options)\n";
	if (argc < 1) {
		fputs(usage, stderr);
		return CLI_USAGE;
	}
	if (strcmp(argv[0], "--help") == 0) {
		fputs(usage, stdout);
		return CLI_OK;
	}
	if (strcmp(argv[0], "cbus") == 0)
		return bench_cbus(argc - 1, argv + 1);
	if (strcmp(argv[0], "call") == 0)
		return bench_call(argc - 1, argv + 1);
	if (strcmp(argv[0], "ring") == 0)
		return bench_ring(argc - 1, argv + 1);
	if (strcmp(argv[0], "push") == 0)
		return bench_push(argc - 1, argv + 1);
	fprintf(stderr, "kharon bench: unknown benchmark '%s'\n", argv[0]);
	return CLI_USAGE;
}
