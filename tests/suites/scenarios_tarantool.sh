#!/usr/bin/env bash
# The scenarios listed in tests/interop/comparable-scenarios, sent with
# --target to a real Tarantool 2.6 serving tests/interop/procs.lua: the
# client-visible results (pushes, their values, results, errors) must meet
# the same expectations as against kharon — proof that the scenarios and
# kharon describe Tarantool's real behaviour. Scenarios that depend on
# kharon-only options are left out of the list, each with its reason.
# Called by tests/run.sh with B set; exit 0 = pass.
set -u
. "$(dirname "$0")/../lib.sh"
here=$(cd "$(dirname "$0")/.." && pwd)
kh_init
work=$KH_TMP
if ! kh_start_tarantool "$here/interop/procs.lua"; then
	echo "FAIL tarantool did not start"; cat "$work/server.log"; exit 1
fi
rc=0
n=0
while read -r name _; do
	case $name in ''|'#'*) continue ;; esac
	n=$((n + 1))
	if "$K" run "scenarios/$name.json" --target "127.0.0.1:$PORT" >"$work/out" 2>&1; then
		echo "ok   $name: same results from Tarantool 2.6"
	else
		echo "FAIL $name against Tarantool:"; sed 's/^/    /' "$work/out"; rc=1
	fi
done <"$here/interop/comparable-scenarios"
echo "scenarios against tarantool: $n"
[ "$n" -gt 0 ] || rc=1
exit $rc
