/*
 * cli.h — the sub-commands of the `kharon` program, one file each.
 * Each takes the arguments after its name and returns the exit code:
 * 0 ok, 1 expectations failed, 2 bad input or usage (DESIGN.md §11).
 */
#ifndef KHARON_CLI_CLI_H
#define KHARON_CLI_CLI_H

enum {
	CLI_OK = 0,
	CLI_FAILED = 1,
	CLI_USAGE = 2,
};

/** kharon serve [options]: the server on real threads. */
int
cli_serve(int argc, char **argv);

/** kharon check FILE...: validate scenario files only (check.c). */
int
cli_check(int argc, char **argv);

/** kharon trace dump|export|check FILE [--format F] [--follow] | bench */
int
cli_trace(int argc, char **argv);

/** kharon call HOST:PORT FUNCTION [ARGS-as-JSON]: one call, pushes, result. */
int
cli_call(int argc, char **argv);

/** kharon run SCENARIO.json [--trace F] [--seed N] [--mode M] [--target A] */
int
cli_run(int argc, char **argv);

/** kharon bench cbus|... [options] */
int
cli_bench(int argc, char **argv);

/** Two SPSC rings between two cords: cbus's physical limit (bench_ring.c). */
int
bench_ring(int argc, char **argv);

/** The call benchmark: pipelined echo calls per second (bench_call.c). */
int
bench_call(int argc, char **argv);

/** The push benchmark: pushes per second to one client (bench_push.c). */
int
bench_push(int argc, char **argv);

/** The cbus benchmark: messages between two real cords in batches. */
int
bench_cbus(int argc, char **argv);

#endif /* KHARON_CLI_CLI_H */
