#!/usr/bin/env bash
# tests/suites/interop.sh — the interoperability suite of `make test`
# (tests/run.sh runs it with B set; exit 0 = pass).
#
# First the net.box scripts of tests/interop/ run against a real Tarantool
# 2.6 serving procs.lua, which proves that they test real semantics; then
# the same scripts run against `kharon serve`.
set -u
B=${B:-build/default}
here=$(cd "$(dirname "$0")/.." && pwd)
rc=0
B=$B bash "$here/interop/run.sh" tarantool || rc=1
B=$B bash "$here/interop/run.sh" kharon || rc=1
exit "$rc"
