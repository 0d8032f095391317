#!/usr/bin/env bash
# The bad-input corpus (tests/bad/*.case) against a live server.
#
# Starts a server on a free loopback port, replays every case with
# build/$FLAVOUR/tests/tools/bad_input (which also checks after each case
# that a PING on a new connection is answered), stops the server with
# SIGTERM and requires a clean exit (under ASan this is where leaks show).
#
# Target: `kharon serve`, or with BAD_TARGET=tarantool a real Tarantool 2.6
# (installed by tools/deps.sh) with a tiny inline box.cfg, checked with the
# cases' "tarantool:" lines (bad_input_tarantool.sh: proof that the corpus
# tests real semantics).
#
# Called by tests/run.sh with B set; exit 0 = pass.
set -u
B=${B:-build/default}
TOOL=$B/tests/tools/bad_input
CASES=(tests/bad/*.case)
TMP=$(mktemp -d)
SERVER_PID=

cleanup() {
	if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
		kill -KILL "$SERVER_PID" 2>/dev/null
		wait "$SERVER_PID" 2>/dev/null
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT

fail() { echo "bad_input: $*" >&2; exit 1; }

[ -x "$TOOL" ] || fail "$TOOL is missing (make unit builds it)"
[ -e "${CASES[0]}" ] || fail "no case files in tests/bad/"

# A port nobody answers on; the server start below is retried if it lost
# the race for it.
free_port() {
	local p
	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"; return 0
		fi
	done
	return 1
}

# Waits until the server accepts connections (or died). 0 = up.
wait_listening() {
	local port=$1
	for _ in $(seq 1 100); do
		kill -0 "$SERVER_PID" 2>/dev/null || return 1
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			return 0
		fi
		sleep 0.05
	done
	return 1
}

start_server() {
	local port=$1
	case $TARGET in
	kharon)
		"$B/kharon" serve --listen "127.0.0.1:$port" >"$TMP/server.log" 2>&1 &
		;;
	tarantool)
		mkdir -p "$TMP/tt"
		# log into a file so that the expected error lines stay out of
		# the test output; memtx_memory small: this is a throwaway.
		(cd "$TMP/tt" && exec tarantool -e "box.cfg{listen = '127.0.0.1:$port',
			work_dir = '$TMP/tt', log = '$TMP/tt/tarantool.log',
			memtx_memory = 32 * 1024 * 1024}" >"$TMP/server.log" 2>&1) &
		;;
	esac
	SERVER_PID=$!
	wait_listening "$port"
}

TARGET=${BAD_TARGET:-kharon}
case $TARGET in
kharon|tarantool) ;;
*) fail "BAD_TARGET must be kharon or tarantool" ;;
esac

PORT=
for _ in 1 2 3; do
	PORT=$(free_port) || fail "no free loopback port"
	if start_server "$PORT"; then
		break
	fi
	kill -KILL "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null
	SERVER_PID= PORT=
done
if [ -z "$PORT" ]; then
	cat "$TMP/server.log" >&2
	fail "the $TARGET server did not start"
fi
echo "bad_input: target $TARGET on 127.0.0.1:$PORT, ${#CASES[@]} cases"

"$TOOL" "127.0.0.1:$PORT" --target "$TARGET" "${CASES[@]}"
tool_rc=$?

# Stop: SIGTERM, then a clean exit within 10 s.
kill -TERM "$SERVER_PID"
for _ in $(seq 1 200); do
	kill -0 "$SERVER_PID" 2>/dev/null || break
	sleep 0.05
done
if kill -0 "$SERVER_PID" 2>/dev/null; then
	fail "$TARGET did not exit within 10 s of SIGTERM"
fi
wait "$SERVER_PID"
server_rc=$?
SERVER_PID=
if [ "$server_rc" -ne 0 ]; then
	tail -n 30 "$TMP/server.log" >&2
	fail "$TARGET exited with status $server_rc after SIGTERM"
fi
[ "$tool_rc" -eq 0 ] || fail "some cases failed against $TARGET"
echo "bad_input: $TARGET exited cleanly"
