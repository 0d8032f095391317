#!/usr/bin/env bash
# make soak [SECONDS=600]: kharon serve under mixed load on real threads for
# SECONDS, with --trace on and a 1 MiB --obuf-limit, driven by
# tests/tools/soak (callers, pushers, connection churn, a client that never
# reads, a client that resets in the middle of pushes, a PINGing bystander).
# Prints one table — requests served, the server's RSS after warm-up and at
# the end, descriptors before and after, unexpected errors, the slowest
# PING — appends it to bench/soak.md, and fails (exit 1) on an unexpected
# error, a memory drift over 1 MiB per minute, a descriptor not given back,
# or a server that does not stop cleanly. Not part of `make test` (its
# three-second version is: tests/suites/soak_smoke.sh).
set -u
B=${B:-build/default}
SECONDS_TO_RUN=${SOAK_SECONDS:-600}
. "$(dirname "$0")/../tests/lib.sh"
kh_init
kh_start_server "$K" serve --listen "127.0.0.1:@PORT@" \
	--obuf-limit 1048576 --trace "$KH_TMP/soak.trace" ||
	{ echo "soak: server did not start: $KH_WHY" >&2; exit 1; }
echo "soak: kharon serve (pid $PID) on 127.0.0.1:$PORT for $SECONDS_TO_RUN s"
table=$("$B/tests/tools/soak" "127.0.0.1:$PORT" "$PID" "$SECONDS_TO_RUN")
rc=$?
trace_size=$(stat -c %s "$KH_TMP/soak.trace" 2>/dev/null || echo 0)
kh_stop_server || { echo "soak: the server did not stop cleanly" >&2; rc=1; }
"$K" trace check "$KH_TMP/soak.trace" >/dev/null 2>&1 ||
	{ echo "soak: the trace does not check" >&2; rc=1; }
{
	echo "## soak, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores"
	echo
	echo "$table" | grep '^|'
	echo "| trace written | $((trace_size / 1048576)) MiB, checks clean |"
	echo
} | tee -a bench/soak.md
echo "$table" | tail -n 1
exit $rc
