#!/usr/bin/env bash
# make bench: every benchmark of kharon, one table. Figures, not pass/fail:
# the machines are shared and noisy, so each push figure is the best of
# three runs. Writes bench/results.md (and prints it).
#
#   cbus:  messages/s between two real cords, batches of 1, 16, 256
#   push:  pushes/s to one client, payload 8 B and 1 KiB: kharon with
#          Kharon, kharon with a message per push, and a real Tarantool 2.6
#          running tests/interop/procs.lua (same client, same machine)
#   trace: push throughput with tracing off and on, events/s written
#   viewer: kharon-view on a million-event trace (bench/viewer.sh)
set -u
B=${B:-build/default}
K=$B/kharon
. "$(dirname "$0")/../tests/lib.sh"
kh_init
out=bench/results.md
best() { # best of three values of the metric line printed by "$@"
	local best=0 v
	for _ in 1 2 3; do
		v=$("$@" 2>/dev/null | awk '/^push_per_s/ { print $2 }')
		[ -n "$v" ] && [ "${v%.*}" -gt "${best%.*}" ] && best=$v
	done
	echo "$best"
}
{
	echo "# kharon benchmarks"
	echo
	echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(uname -m); best of 3 where noted."
	echo
	echo "## cbus (kharon bench cbus)"
	echo
	echo '```'
	"$K" bench cbus | grep -v '^#'
	echo '```'
	echo
	echo "## push (kharon bench push, 200 000 pushes in one call, best of 3)"
	echo
	echo "| server | 8-byte payload, pushes/s | 1 KiB payload, pushes/s | cbus messages per push |"
	echo "|---|---|---|---|"
	for mode in kharon per_push; do
		a=$(best "$K" bench push --push-mode $mode --payload 8)
		b=$(best "$K" bench push --push-mode $mode --payload 1024)
		m=$("$K" bench push --push-mode $mode --payload 8 |
		    awk '/^push_msgs_per_push/ { print $2 }')
		echo "| kharon, push mode $mode | $a | $b | $m |"
	done
	if command -v tarantool >/dev/null &&
	   kh_start_tarantool tests/interop/procs.lua; then
		a=$(best "$K" bench push --target "127.0.0.1:$PORT" --payload 8)
		b=$(best "$K" bench push --target "127.0.0.1:$PORT" --payload 1024)
		kh_stop_server >/dev/null
		echo "| Tarantool $(tarantool --version | head -1 | cut -d' ' -f2) (procs.lua) | $a | $b | — |"
	fi
	echo
	echo "## tracing (kharon trace bench)"
	echo
	echo '```'
	"$K" trace bench
	echo '```'
} >"$out"
cat "$out"
# The viewer's figures, appended (bench/viewer.sh).
[ -x "$B/kharon-view" ] && B=$B OUT=$out bash bench/viewer.sh
