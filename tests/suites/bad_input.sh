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
. "$(dirname "$0")/../lib.sh"
kh_init
TOOL=$B/tests/tools/bad_input
CASES=(tests/bad/*.case)

fail() { echo "bad_input: $*" >&2; exit 1; }

[ -x "$TOOL" ] || fail "$TOOL is missing (make unit builds it)"
[ -e "${CASES[0]}" ] || fail "no case files in tests/bad/"

TARGET=${BAD_TARGET:-kharon}
case $TARGET in
kharon)
	kh_start_server "$B/kharon" serve --listen "127.0.0.1:@PORT@"
	;;
tarantool)
	# log into a file so that the expected error lines stay out of the
	# test output; memtx_memory small: this is a throwaway.
	cat >"$KH_TMP/box.lua" <<'EOF'
box.cfg{listen = os.getenv('LISTEN'), work_dir = os.getenv('WORK_DIR'),
	log = os.getenv('WORK_DIR') .. '/tarantool.log',
	memtx_memory = 32 * 1024 * 1024}
EOF
	kh_start_tarantool "$KH_TMP/box.lua"
	;;
*) fail "BAD_TARGET must be kharon or tarantool" ;;
esac
if [ -z "$PORT" ]; then
	cat "$KH_TMP/server.log" >&2
	fail "the $TARGET server did not start"
fi
echo "bad_input: target $TARGET on 127.0.0.1:$PORT, ${#CASES[@]} cases"

"$TOOL" "127.0.0.1:$PORT" --target "$TARGET" "${CASES[@]}"
tool_rc=$?

# Stop: SIGTERM, then a clean exit within 10 s.
kh_stop_server
server_rc=$?
[ "$KH_KILLED" -eq 0 ] || fail "$TARGET did not exit within 10 s of SIGTERM"
if [ "$server_rc" -ne 0 ]; then
	tail -n 30 "$KH_TMP/server.log" >&2
	fail "$TARGET exited with status $server_rc after SIGTERM"
fi
[ "$tool_rc" -eq 0 ] || fail "some cases failed against $TARGET"
echo "bad_input: $TARGET exited cleanly"
