#!/usr/bin/env bash
# `kharon call` against kharon serve and against a real Tarantool.
#
# 1. Starts `$B/kharon serve` on a free loopback port and checks the output
#    and exit code of `kharon call` for echo, push (pushes line by line,
#    then the result), fail (exit 1, message on stderr), bad JSON and bad
#    usage (exit 2), a refused connection (exit 1), --timeout (a call that
#    outlives it exits 1; a silent listener that never sends a greeting
#    makes the connect time out, exit 1; a bad value exits 2); a fake server
#    whose error replies carry a message that is not a string, or none:
#    the call says so (exit 1).
# 2. Starts `tarantool` with an inline script defining the same echo, push
#    and fail in Lua, and requires byte-identical stdout for echo and push
#    (both servers print the same pushes and result) and exit 1 for fail.
#    Without tarantool installed this half is skipped with a note.
# Stops both servers (SIGTERM; kharon serve must exit 0).
# Called by tests/run.sh with B set; exit 0 = pass.
set -u
. "$(dirname "$0")/../lib.sh"
kh_init
TMP=$KH_TMP

fail() { echo "call: $*" >&2; exit 1; }

[ -x "$K" ] || fail "$K is missing (make builds it)"

# expect NAME RC EXPECTED-STDOUT -- ARGS...: run `kharon call ARGS`.
expect() {
	local name=$1 want_rc=$2 want_out=$3
	shift 4
	local out rc
	out=$("$K" call "$@" 2>"$TMP/stderr")
	rc=$?
	[ "$rc" -eq "$want_rc" ] ||
		fail "$name: exit $rc, expected $want_rc ($(cat "$TMP/stderr"))"
	[ "$out" == "$want_out" ] ||
		fail "$name: stdout differs:"$'\n'"$out"$'\n'"expected:"$'\n'"$want_out"
}

PUSH_OUT='[1, "x"]
[2, "x"]
[3, "x"]
[[3]]'
ECHO_ARGS='[1, -2, 1.5, "s", true, null, [1, 2], {"k": "v"}]'
ECHO_OUT='[[1, -2, 1.5, "s", true, null, [1, 2], {"k": "v"}]]'

# ------------------------------------------------------------ kharon serve
KH_LOG=$TMP/serve.log kh_start_server "$K" serve --listen "127.0.0.1:@PORT@" ||
	fail "kharon serve did not start: $(cat "$TMP/serve.log")"
SERVE=$PID
A=127.0.0.1:$PORT

expect echo 0 "$ECHO_OUT" -- "$A" echo "$ECHO_ARGS"
expect push 0 "$PUSH_OUT" -- "$A" push '[3, "x"]'
expect no-args 0 '[[]]' -- "$A" echo
expect fail 1 '' -- "$A" fail '["boom"]'
grep -q 'boom' "$TMP/stderr" || fail "fail: stderr lacks the message: $(cat "$TMP/stderr")"
expect no-such-proc 1 '' -- "$A" nope
expect bad-json 2 '' -- "$A" echo '[1,'
expect not-an-array 2 '' -- "$A" echo '{"a": 1}'
expect usage 2 '' -- "$A"
expect bad-addr 2 '' -- nocolon echo
refused=$(kh_free_port) || fail "no free port"
expect refused 1 '' -- "127.0.0.1:$refused" echo
grep -q 'cannot connect' "$TMP/stderr" || fail "refused: unclear message: $(cat "$TMP/stderr")"
# --timeout: a call that outlives it fails with ER_TIMEOUT's message, exit 1.
expect call-timeout 1 '' -- --timeout 0.2 "$A" sleep '[3000]'
grep -q 'Timeout exceeded' "$TMP/stderr" || fail "call-timeout: unclear message: $(cat "$TMP/stderr")"
expect in-time 0 '[[true]]' -- "$A" sleep '[10]' --timeout 5
expect bad-timeout 2 '' -- --timeout nan "$A" echo
expect bad-timeout-0 2 '' -- --timeout 0 "$A" echo
echo "call: kharon serve ok"

# A listener that accepts and never writes a greeting: the connect times out.
if command -v python3 >/dev/null; then
	KH_LOG=$TMP/silent.log kh_start_server python3 -c '
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(16)
conns = []
while True:
    c, _ = s.accept()
    conns.append(c)
' @PORT@ || fail "the silent listener did not start: $(cat "$TMP/silent.log")"
	SILENT=$PID
	expect connect-timeout 1 '' -- --timeout 0.3 "127.0.0.1:$PORT" echo
	grep -q 'Timeout exceeded' "$TMP/stderr" || fail "connect-timeout: unclear message: $(cat "$TMP/stderr")"
	kh_stop_server "$SILENT"
	echo "call: a silent listener times out"
	# A server whose error replies carry a message that is not a string
	# (0x31: 42), or none at all: `kharon call` still says what came.
	KH_LOG=$TMP/odd.log kh_start_server python3 -c '
import socket, struct, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(16)
n = 0
while True:
    c, _ = s.accept()
    try:
        c.sendall(b"Tarantool 2.6.0 (Binary) 00000000-0000-0000-0000-000000000000".ljust(63) + b"\n" +
                  b"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".ljust(63) + b"\n")
        head = c.recv(5)
        if len(head) < 5:  # the start-up probe, or a client gone
            continue
        (size,) = struct.unpack(">I", head[1:5])
        req = b""
        while len(req) < size:
            req += c.recv(size - len(req))
        # {0x00: type, 0x01: sync}, both fixints, in either order.
        sync = req[2] if req[1] == 1 else req[4]
        body = b"\x81\x31\x2a" if n % 2 == 0 else b"\x80"
        n += 1
        pkt = b"\x83\x00\xce\x00\x00\x80\x20\x01" + bytes([sync]) + b"\x05\x00" + body
        c.sendall(b"\xce" + struct.pack(">I", len(pkt)) + pkt)
    except OSError:
        pass
    finally:
        c.close()
' @PORT@ || fail "the odd server did not start: $(cat "$TMP/odd.log")"
	ODD=$PID
	expect odd-message 1 '' -- "127.0.0.1:$PORT" echo
	grep -q 'error 32 (ER_PROC_LUA) whose message is not a string: 42' "$TMP/stderr" ||
		fail "odd-message: unclear message: $(cat "$TMP/stderr")"
	expect no-message 1 '' -- "127.0.0.1:$PORT" echo
	grep -q 'error 32 (ER_PROC_LUA) with no message' "$TMP/stderr" ||
		fail "no-message: unclear message: $(cat "$TMP/stderr")"
	kh_stop_server "$ODD"
	echo "call: error replies without a message string are described"
else
	echo "call: python3 not installed, the silent-listener case is skipped"
fi

# ----------------------------------------------------------------- tarantool
if ! command -v tarantool >/dev/null; then
	echo "call: tarantool not installed, the interop half is skipped"
else
	cat >"$TMP/procs.lua" <<'EOF'
local dir = os.getenv('WORK_DIR')
box.cfg{listen = os.getenv('LISTEN'), work_dir = dir,
        log = dir .. '/tarantool.log', memtx_memory = 32 * 1024 * 1024}
box.schema.user.grant('guest', 'execute', 'universe', nil,
                      {if_not_exists = true})
-- Like kharon's C procedures: the values come back as one array.
function echo(...) return {...} end
function push(n, payload)
    for i = 1, n do box.session.push({i, payload}) end
    return {n}
end
function fail(msg) box.error{code = 102, reason = msg} end
-- box.cfg listens before the lines above ran: say when all is defined.
io.open(dir .. '/ready', 'w'):close()
EOF
	KH_LOG=$TMP/tt.stdout kh_start_tarantool "$TMP/procs.lua" --ready ||
		fail "tarantool did not run procs.lua: $(cat "$TMP/tt.stdout")"
	TT=$PID
	T=127.0.0.1:$PORT
	for call in "echo|$ECHO_ARGS" 'push|[3, "x"]'; do
		fn=${call%%|*}
		args=${call#*|}
		"$K" call "$A" "$fn" "$args" >"$TMP/kharon.out" 2>&1 ||
			fail "$fn on kharon failed"
		"$K" call "$T" "$fn" "$args" >"$TMP/tarantool.out" 2>&1 ||
			fail "$fn on tarantool failed: $(cat "$TMP/tarantool.out")"
		cmp -s "$TMP/kharon.out" "$TMP/tarantool.out" ||
			fail "$fn: kharon and tarantool differ:"$'\n'"$(diff "$TMP/kharon.out" "$TMP/tarantool.out")"
	done
	expect tarantool-push 0 "$PUSH_OUT" -- "$T" push '[3, "x"]'
	expect tarantool-fail 1 '' -- "$T" fail '["boom"]'
	grep -q 'boom' "$TMP/stderr" || fail "tarantool fail: no message"
	kh_stop_server "$TT"
	echo "call: tarantool ok, same output as kharon"
fi

kh_stop_server "$SERVE"
rc=$?
[ "$rc" -eq 0 ] || fail "kharon serve exited $rc: $(cat "$TMP/serve.log")"
exit 0
