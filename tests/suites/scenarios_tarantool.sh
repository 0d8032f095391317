#!/usr/bin/env bash
# The scenarios listed in tests/interop/comparable-scenarios, sent with
# --target to a real Tarantool 2.6 serving tests/interop/procs.lua: the
# client-visible results (pushes, their values, results, errors) must meet
# the same expectations as against kharon — proof that the scenarios and
# kharon describe Tarantool's real behaviour. Scenarios that depend on
# kharon-only options are left out of the list, each with its reason.
# Called by tests/run.sh with B set; exit 0 = pass.
set -u
B=${B:-build/default}
K=$B/kharon
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
pid=
cleanup() {
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
port=
for _ in $(seq 1 20); do
	p=$((20000 + RANDOM % 40000))
	(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && continue
	(cd "$work" && LISTEN=127.0.0.1:$p WORK_DIR=$work \
		exec tarantool "$here/interop/procs.lua" >"$work/log" 2>&1) &
	pid=$!
	for _ in $(seq 1 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && { port=$p; break; }
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	[ -n "$port" ] && break
	kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; pid=
done
if [ -z "$port" ]; then
	echo "FAIL tarantool did not start"; cat "$work/log"; exit 1
fi
rc=0
n=0
while read -r name _; do
	case $name in ''|'#'*) continue ;; esac
	n=$((n + 1))
	if "$K" run "scenarios/$name.json" --target "127.0.0.1:$port" >"$work/out" 2>&1; then
		echo "ok   $name: same results from Tarantool 2.6"
	else
		echo "FAIL $name against Tarantool:"; sed 's/^/    /' "$work/out"; rc=1
	fi
done <"$here/interop/comparable-scenarios"
echo "scenarios against tarantool: $n"
[ "$n" -gt 0 ] || rc=1
exit $rc
