#!/usr/bin/env bash
# The benchmark clients against a server in another process, as bench/run.sh
# uses them, and push_stream's bound on unsent output.
#
# - `kharon bench call` keeps calls in flight on several connections for a
#   fraction of a second and prints its call_per_s line.
# - `kharon bench push --proc push_stream` on several connections, calling
#   again until --seconds is over: every call's pushes arrive (the client
#   checks pushes = calls x --pushes) and a push_per_s line is printed.
# - The bound: a server with --obuf-limit 800000 closes any connection that
#   holds more. push(20000, 1 KiB) writes 20 MiB without a yield and is cut;
#   push_stream(20000, 1 KiB) waits whenever more than 512 KiB is unsent
#   (plus at most one 128 KiB yield step), so it never reaches the limit.
# - `kharon bench ring` (the SPSC rings cbus is compared with) prints its
#   line; a bad --seconds exits 2, as bad options of bench call and push do.
# - tests/tools/loopback (the 1 KiB streams' ceiling in bench/run.sh)
#   carries packets and prints both its lines; bad arguments exit 2.
# Figures are printed, never compared with a threshold.
#
# Called by tests/run.sh with B set; exit 0 = pass.
set -u
. "$(dirname "$0")/../lib.sh"
kh_init
fail() { echo "FAIL bench_clients: $*"; [ -f "$KH_TMP/server.log" ] &&
	sed 's/^/    /' "$KH_TMP/server.log"; exit 1; }

kh_start_server "$K" serve --listen "127.0.0.1:@PORT@" --obuf-limit 800000 ||
	fail "server did not start: $KH_WHY"
out=$("$K" bench call --conns 3 --inflight 20 --seconds 0.3 \
	--target "127.0.0.1:$PORT") || fail "bench call failed"
echo "bench_clients: $out"
[[ $out == 'call_per_s{server="target",conns="3",inflight="20"} '[0-9]* ]] ||
	fail "bench call printed: $out"

out=$("$K" bench push --proc push_stream --payload 1024 --pushes 20000 \
	--conns 3 --seconds 0.3 --target "127.0.0.1:$PORT") ||
	fail "push_stream went past --obuf-limit or lost pushes"
echo "bench_clients: $out"
[[ $out == 'push_per_s{server="target",mode="-",proc="push_stream",payload="1024",conns="3"} '[0-9]* ]] ||
	fail "bench push printed: $out"

"$K" bench push --proc push --payload 1024 --pushes 20000 \
	--target "127.0.0.1:$PORT" >/dev/null 2>&1 &&
	fail "push(20000, 1 KiB) was not cut at --obuf-limit 800000"
grep -q "obuf" "$KH_TMP/server.log" ||
	fail "the server did not log the cut connection"
kh_stop_server || fail "server did not stop cleanly"

out=$("$K" bench ring --seconds 0.1) || fail "bench ring failed"
echo "bench_clients: $out"
[[ $out == 'ring_msgs_per_s '[1-9]* ]] || fail "bench ring printed: $out"
"$K" bench ring --seconds 0 2>/dev/null; rc=$?
[ $rc -eq 2 ] || fail "bench ring --seconds 0: exit $rc, expected 2"
for args in "call --conns 0" "call --inflight x" "call --seconds" \
	    "push --proc nope" "push --conns 1001" "push --seconds -1"; do
	# shellcheck disable=SC2086  # a word list on purpose
	"$K" bench $args >/dev/null 2>&1; rc=$?
	[ $rc -eq 2 ] || fail "bench $args: exit $rc, expected 2"
done
LB=$B/tests/tools/loopback
out=$("$LB" 0.1) || fail "loopback failed"
echo "bench_clients: $(tr '\n' ' ' <<<"$out")"
grep -qE '^loopback_packets_per_s [1-9][0-9]*$' <<<"$out" &&
	grep -qE '^loopback_bytes_per_s [1-9][0-9]*$' <<<"$out" ||
	fail "loopback printed: $out"
for args in "" "0" "1 5" "1 1068 1000" "x"; do
	# shellcheck disable=SC2086  # a word list on purpose
	"$LB" $args >/dev/null 2>&1; rc=$?
	[ $rc -eq 2 ] || fail "loopback $args: exit $rc, expected 2"
done
exit 0
