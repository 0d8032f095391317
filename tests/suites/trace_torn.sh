#!/usr/bin/env bash
# A shared trace with a record torn by a writer killed with SIGKILL in the
# middle of its write (made by tests/tools/trace_torn): `kharon trace
# check` skips it, reports the skipped bytes and exits 0 when that is all;
# check, dump and export exit 1 and say why (dump/export on stderr) when
# the file has no END or ends in the torn record. The unit suite
# trace_torn covers every cut and many kills.
# Called by tests/run.sh with B set; exit 0 = pass.
set -u
. "$(dirname "$0")/../lib.sh"
kh_init
tmp=$KH_TMP
T=$B/tests/tools/trace_torn
fail() { echo "FAIL trace_torn: $*"; exit 1; }

n=$("$T" "$tmp/end.trace" end) || fail "could not make end.trace"
out=$("$K" trace check "$tmp/end.trace") || fail "check end: exit $?: $out"
grep -q 'ok, .* END; skipped [0-9]* bytes: 1 record torn by killed writers' \
	<<<"$out" || fail "check end: '$out'"
"$K" trace export "$tmp/end.trace" >"$tmp/end.jsonl" 2>"$tmp/err" ||
	fail "export end: exit $?"
grep -q 'skipped [0-9]* bytes' "$tmp/err" || fail "export end: no note on stderr"
[ "$(grep -c '"cord":"survivor"' "$tmp/end.jsonl")" -eq "$n" ] ||
	fail "export end: not all $n survivor events"
# The victim's first record is there, as writer 2.
grep -q '"writer":2,"cord":"victim"' "$tmp/end.jsonl" ||
	fail "export end: the victim is not writer 2"
"$K" trace dump "$tmp/end.trace" 2>/dev/null | grep -q 'victim@2' ||
	fail "dump end: the victim's cord is not victim@2"

for mode in noend tail; do
	"$T" "$tmp/$mode.trace" $mode >/dev/null || fail "could not make $mode.trace"
	out=$("$K" trace check "$tmp/$mode.trace"); rc=$?
	[ $rc -eq 1 ] || fail "check $mode: exit $rc: $out"
	for cmd in dump export; do
		"$K" trace $cmd "$tmp/$mode.trace" >/dev/null 2>"$tmp/err"; rc=$?
		[ $rc -eq 1 ] || fail "$cmd $mode: exit $rc"
		case $mode in
		noend) grep -q 'no END record' "$tmp/err" || fail "$cmd $mode: $(cat "$tmp/err")" ;;
		tail) grep -q 'ends in a torn or bad record' "$tmp/err" ||
			fail "$cmd $mode: $(cat "$tmp/err")" ;;
		esac
	done
done
echo "trace_torn: $out"
