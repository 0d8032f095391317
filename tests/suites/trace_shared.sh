#!/usr/bin/env bash
# Two processes, one trace file (DESIGN.md §8): `kharon serve --trace F`
# creates the file, `kharon run --target ... --trace F` appends its clients'
# events to it under F.lock, the server ends it on SIGTERM. The file must
# check clean, end once, and hold both processes' cords; an idle server's
# last events must be readable before it stops.
# Called by tests/run.sh with B set; exit 0 = pass.
set -u
B=${B:-build/default}
K=$B/kharon
tmp=$(mktemp -d)
pid=
cleanup() {
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL trace_shared: $*"; exit 1; }
port=
for _ in $(seq 1 20); do
	p=$((20000 + RANDOM % 40000))
	(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && continue
	"$K" serve --listen "127.0.0.1:$p" --trace "$tmp/t.trace" 2>"$tmp/serve.log" &
	pid=$!
	for _ in $(seq 1 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && { port=$p; break; }
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	[ -n "$port" ] && break
	kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; pid=
done
[ -n "$port" ] || fail "serve did not start"
"$K" run scenarios/00-example.json --target "127.0.0.1:$port" \
	--trace "$tmp/t.trace" >"$tmp/run.out" || { cat "$tmp/run.out"; fail "run"; }
# The server is idle now: what it did last must already be in the file.
sleep 0.3
"$K" trace export "$tmp/t.trace" --format jsonl >"$tmp/live.jsonl" 2>/dev/null
grep -q '"ev":"conn.free"' "$tmp/live.jsonl" ||
	fail "an idle server kept its last events back"
kill -TERM "$pid"
wait "$pid" || fail "serve exited with $?"
pid=
"$K" trace check "$tmp/t.trace" >"$tmp/check" || { cat "$tmp/check"; fail "check"; }
"$K" trace export "$tmp/t.trace" --format jsonl >"$tmp/t.jsonl"
grep -q '"cord":"tx"' "$tmp/t.jsonl" || fail "no server events"
grep -q '"cord":"alice"' "$tmp/t.jsonl" || fail "no client events"
echo "trace_shared: $(cat "$tmp/check")"
