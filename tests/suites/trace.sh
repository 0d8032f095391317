#!/usr/bin/env bash
# kharon serve --trace FILE on real threads, driven by Tarantool's net.box
# (calls, pushes, a ping) and a 20 000-push burst, stopped with SIGTERM:
# every event numbered 1, 2, ... in file order; the file must pass
# `kharon trace check` (END record present), export as JSON Lines with the
# events of the run, and as Chrome JSON that parses. Bad usage exits 2.
set -u
. "$(dirname "$0")/../lib.sh"
kh_init
dir=$KH_TMP
fail() { echo "FAIL: $*"; exit 1; }

"$K" trace dump >/dev/null 2>&1; [ $? -eq 2 ] || fail "no FILE should exit 2"
"$K" trace export x --format yaml >/dev/null 2>&1; [ $? -eq 2 ] || fail "bad format should exit 2"
"$K" trace frob x >/dev/null 2>&1; [ $? -eq 2 ] || fail "bad sub-command should exit 2"

KH_LOG=$dir/err kh_start_server "$K" serve --listen "127.0.0.1:@PORT@" \
	--trace "$dir/t.trace" || fail "server did not start: $(cat "$dir/err")"
port=$PORT

if command -v tarantool >/dev/null; then
	cat >"$dir/client.lua" <<LUA
local nb = require('net.box')
local c = nb.connect('127.0.0.1:$port')
assert(c:ping())
local got = 0
local r = c:call('push', {100, 'x'}, {on_push = function() got = got + 1 end})
assert(got == 100, 'pushes: ' .. got)
assert(c:call('echo', {'hi'}) ~= nil)
c:close()
os.exit(0)
LUA
	timeout 30 tarantool "$dir/client.lua" || fail "net.box client failed"
else
	# No Tarantool: a bare connection still makes accept/close events.
	exec 3<>/dev/tcp/127.0.0.1/$port && sleep 0.2 && exec 3<&-
fi
# A burst on real threads through the trace pump (docs/trace.md, How
# events reach the file): cords fill their rings faster than the writer
# empties them at times; no event may be lost or misnumbered.
"$K" bench push --proc push --pushes 20000 --conns 1 \
	--target "127.0.0.1:$port" >"$dir/bench.out" || fail "bench push"
kh_stop_server || fail "serve exited $?"

"$K" trace check "$dir/t.trace" || fail "check failed"
"$K" trace export "$dir/t.trace" >"$dir/t.jsonl" || fail "export jsonl"
grep -q '"ev":"conn.accept"' "$dir/t.jsonl" || fail "no conn.accept"
python3 - "$dir/t.jsonl" <<'PY' || fail "pump order"
import json, sys
seq, last_t, pushes = 0, {}, 0
for line in open(sys.argv[1]):
    e = json.loads(line)
    seq += 1
    assert e["seq"] == seq, "seq %d at line %d" % (e["seq"], seq)
    assert e["t"] >= last_t.get(e["cord"], 0), "t back on %s" % e["cord"]
    last_t[e["cord"]] = e["t"]
    pushes += e["ev"] == "push"
assert pushes >= 20000, "%d push events" % pushes
PY
if command -v tarantool >/dev/null; then
	grep -q '"ev":"kharon.depart"' "$dir/t.jsonl" || fail "no kharon.depart"
fi
"$K" trace dump "$dir/t.trace" | grep -q 'conn.accept' || fail "dump text"
"$K" trace export "$dir/t.trace" --format chrome >"$dir/t.json" || fail "export chrome"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert any(e.get("ph")=="M" and e["args"]["name"]=="tx" for e in d["traceEvents"])' "$dir/t.json" || fail "chrome JSON invalid"

# A corrupted byte mid-file: check reports it with an offset, exit 1.
size=$(stat -c %s "$dir/t.trace")
cp "$dir/t.trace" "$dir/bad.trace"
printf '\xff' | dd of="$dir/bad.trace" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
out=$("$K" trace check "$dir/bad.trace"); rc=$?
[ $rc -eq 1 ] || fail "corrupt file: check exit $rc"
grep -q 'offset' <<<"$out" || fail "corrupt file: no offset in '$out'"
echo "ok: $("$K" trace check "$dir/t.trace")"
