#!/usr/bin/env bash
# Two processes, one trace file (DESIGN.md §8): `kharon serve --trace F`
# creates the file, `kharon run --target ... --trace F` appends its clients'
# events to it under F.lock, the server ends it on SIGTERM. The file must
# check clean, end once, and hold both processes' cords; an idle server's
# last events must be readable before it stops.
# Called by tests/run.sh with B set; exit 0 = pass.
set -u
. "$(dirname "$0")/../lib.sh"
kh_init
tmp=$KH_TMP
fail() { echo "FAIL trace_shared: $*"; exit 1; }
KH_LOG=$tmp/serve.log kh_start_server "$K" serve --listen "127.0.0.1:@PORT@" \
	--trace "$tmp/t.trace" || fail "serve did not start"
"$K" run scenarios/00-example.json --target "127.0.0.1:$PORT" \
	--trace "$tmp/t.trace" >"$tmp/run.out" || { cat "$tmp/run.out"; fail "run"; }
# The server is idle now: what it did last must already be in the file.
sleep 0.3
"$K" trace export "$tmp/t.trace" --format jsonl >"$tmp/live.jsonl" 2>/dev/null
grep -q '"ev":"conn.free"' "$tmp/live.jsonl" ||
	fail "an idle server kept its last events back"
kh_stop_server || fail "serve exited with $?"
"$K" trace check "$tmp/t.trace" >"$tmp/check" || { cat "$tmp/check"; fail "check"; }
"$K" trace export "$tmp/t.trace" --format jsonl >"$tmp/t.jsonl"
grep -q '"cord":"tx"' "$tmp/t.jsonl" || fail "no server events"
grep -q '"cord":"alice"' "$tmp/t.jsonl" || fail "no client events"
echo "trace_shared: $(cat "$tmp/check")"
