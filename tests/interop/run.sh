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
# removes its temp dir, prints one PASS/FAIL line per script and exits
# non-zero if any failed. For kharon a non-zero server exit status (or a
# server that had to be killed) is a failure too.
set -u
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

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kharon-interop.XXXXXX")
server_pid=
cleanup() {
	if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
		kill -KILL "$server_pid" 2>/dev/null
		wait "$server_pid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A free port: bind port 0 and read back what the kernel chose. Another
# process could take it before the server binds; the start check catches it.
free_port() {
	"$TARANTOOL" -e "
		local s = require('socket')('AF_INET', 'SOCK_STREAM', 'tcp')
		s:bind('127.0.0.1', 0)
		print(s:name().port)
		s:close()
		os.exit(0)"
}

port_accepts() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

port=$(free_port)
[ -n "$port" ] || { echo "FAIL $target: cannot pick a free port"; exit 1; }
addr=127.0.0.1:$port
log=$tmp/server.log

case "$target" in
tarantool)
	mkdir "$tmp/work"
	LISTEN=$addr WORK_DIR=$tmp/work "$TARANTOOL" "$here/procs.lua" >"$log" 2>&1 &
	;;
kharon)
	if [ ! -x "$B/kharon" ]; then echo "FAIL kharon: no $B/kharon"; exit 1; fi
	"$B/kharon" serve --listen "$addr" >"$log" 2>&1 &
	;;
esac
server_pid=$!

deadline=$((SECONDS + START_TIMEOUT))
until port_accepts "$port"; do
	if ! kill -0 "$server_pid" 2>/dev/null; then
		echo "FAIL $target: server exited before accepting on $addr"
		tail -n 20 "$log"; exit 1
	fi
	if [ "$SECONDS" -ge "$deadline" ]; then
		echo "FAIL $target: $addr not accepting after ${START_TIMEOUT}s"
		tail -n 20 "$log"; exit 1
	fi
	sleep 0.05
done
echo "# $target listening on $addr (pid $server_pid)"

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
kill -TERM "$server_pid" 2>/dev/null
deadline=$((SECONDS + STOP_TIMEOUT))
while kill -0 "$server_pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do
	sleep 0.05
done
killed=0
if kill -0 "$server_pid" 2>/dev/null; then
	kill -KILL "$server_pid" 2>/dev/null
	killed=1
fi
wait "$server_pid"
status=$?
server_pid=
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
