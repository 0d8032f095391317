#!/usr/bin/env bash
# tests/suites/interop.sh — the interoperability suite of `make test`
# (tests/run.sh runs it with B set; exit 0 = pass).
#
# First the net.box scripts of tests/interop/ run against a real Tarantool
# 2.6 serving procs.lua, which proves that they test real semantics; then
# the same scripts run against `kharon serve`.
# TODO: make the kharon half unconditional once `kharon serve` lands.
set -u
B=${B:-build/default}
here=$(cd "$(dirname "$0")/.." && pwd)
rc=0

if command -v tarantool >/dev/null; then
	B=$B bash "$here/interop/run.sh" tarantool || rc=1
else
	echo "FAIL tarantool: no tarantool binary (apt-get install tarantool)"
	rc=1
fi

if [ -x "$B/kharon" ] && "$B/kharon" help 2>&1 | grep -qw serve; then
	B=$B bash "$here/interop/run.sh" kharon || rc=1
else
	echo "SKIP kharon (serve not built yet)"
fi
exit "$rc"
