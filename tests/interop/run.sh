#!/usr/bin/env bash
# tests/interop/run.sh — runs every tests/interop/test_*.lua (net.box clients,
# executed by the tarantool binary) against one server:
#
#   tests/interop/run.sh tarantool   a real Tarantool 2.6 serving procs.lua
#   tests/interop/run.sh kharon      $B/kharon serve (B defaults to build/default)
#
# The same scripts pass against both: that is the interoperability claim.
# Picks a free loopback port, starts the server, waits until it accepts,
# runs the scripts, stops the server with SIGTERM (SIGKILL after a timeout),
# removes its temp dir (all through tests/lib.sh), prints one PASS/FAIL line
# per script and exits non-zero if any failed. For kharon a non-zero server exit status (or a
# server that had to be killed) is a failure too.
set -u
. "$(dirname "$0")/../lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
B=${B:-build/default}
target=${1:-}
TARANTOOL=${TARANTOOL:-tarantool}
START_TIMEOUT=${START_TIMEOUT:-10}   # seconds for the port to accept
STOP_TIMEOUT=${STOP_TIMEOUT:-5}     # seconds between SIGTERM and SIGKILL
SCRIPT_TIMEOUT=${SCRIPT_TIMEOUT:-60} # seconds per test script

case "$target" in
tarantool | kharon) ;;
*) echo "usage: $0 tarantool|kharon" >&2; exit 2 ;;
esac
command -v "$TARANTOOL" >/dev/null || { echo "FAIL $target: no $TARANTOOL binary" >&2; exit 1; }

kh_init
tmp=$KH_TMP
trap 'exit 130' INT TERM
KH_TARANTOOL=$TARANTOOL KH_START_TIMEOUT=$START_TIMEOUT
KH_STOP_TIMEOUT=$STOP_TIMEOUT
log=$tmp/server.log

case "$target" in
tarantool)
	kh_start_tarantool "$here/procs.lua"
	;;
kharon)
	if [ ! -x "$B/kharon" ]; then echo "FAIL kharon: no $B/kharon"; exit 1; fi
	kh_start_server "$B/kharon" serve --listen "127.0.0.1:@PORT@"
	;;
esac
if [ -z "$PORT" ]; then
	echo "FAIL $target: $KH_WHY"
	tail -n 20 "$log"; exit 1
fi
addr=127.0.0.1:$PORT
echo "# $target listening on $addr (pid $PID)"

failed=0
for script in "$here"/test_*.lua; do
	name=$(basename "$script" .lua)
	out=$tmp/$name.out
	if timeout -k 2 "$SCRIPT_TIMEOUT" "$TARANTOOL" "$script" "$addr" >"$out" 2>&1; then
		echo "PASS $target/$name ($(grep -c '^ok ' "$out") checks)"
	else
		rc=$?
		failed=$((failed + 1))
		echo "FAIL $target/$name (exit $rc)"
		grep -v '^ok ' "$out" | tail -n 20 | sed 's/^/    /'
	fi
done

# Stop: SIGTERM, wait up to STOP_TIMEOUT, then SIGKILL.
kh_stop_server
status=$?
killed=$KH_KILLED
if [ "$killed" = 1 ]; then
	echo "# $target did not stop within ${STOP_TIMEOUT}s of SIGTERM: killed"
fi
if [ "$target" = kharon ]; then
	if [ "$killed" = 1 ] || [ "$status" -ne 0 ]; then
		failed=$((failed + 1))
		echo "FAIL kharon/shutdown (exit status $status after SIGTERM)"
		tail -n 20 "$log" | sed 's/^/    /'
	else
		echo "PASS kharon/shutdown"
	fi
else
	echo "# $target exited with status $status after SIGTERM"
fi
[ "$failed" -eq 0 ]
