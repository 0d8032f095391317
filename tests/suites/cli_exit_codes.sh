#!/usr/bin/env bash
# The exit codes of DESIGN.md §11 where a user trips on them: 0 ok, 1
# expectations failed or a runtime failure, 2 bad input or usage, found
# before anything starts. Each case: the command, the exit code it must
# give and a substring its stderr must hold (one clear line, naming what
# was wrong).
# Called by tests/run.sh with B set; exit 0 = pass.
set -u
. "$(dirname "$0")/../lib.sh"
kh_init
TMP=$KH_TMP
fail() { echo "FAIL cli_exit_codes: $*"; exit 1; }
[ -x "$K" ] || fail "$K is missing (make builds it)"
N=0

# expect NAME RC SUBSTRING -- ARGS...: `kharon ARGS` exits RC, stderr has
# SUBSTRING.
expect() {
	local name=$1 want_rc=$2 want_msg=$3
	shift 4
	local rc
	"$K" "$@" >"$TMP/out" 2>"$TMP/err" </dev/null
	rc=$?
	[ "$rc" -eq "$want_rc" ] ||
		fail "$name: exit $rc, expected $want_rc: $(head -3 "$TMP/err")"
	[ -z "$want_msg" ] || grep -qF -- "$want_msg" "$TMP/err" ||
		fail "$name: stderr lacks '$want_msg': $(head -3 "$TMP/err")"
	N=$((N + 1))
}

SCN=scenarios/00-example.json
[ -f "$SCN" ] || fail "$SCN is missing"
echo hello >"$TMP/notatrace.txt"
: >"$TMP/empty"
"$K" run "$SCN" --trace "$TMP/good.trace" >/dev/null 2>&1 ||
	fail "could not make a good trace"
# A trace cut in the middle: a trace, but a damaged one.
size=$(stat -c %s "$TMP/good.trace")
head -c $((size / 2)) "$TMP/good.trace" >"$TMP/cut.trace"

# ------------------------------------------------------------ kharon trace
for cmd in dump export check; do
	expect "trace $cmd missing" 2 "cannot open $TMP/nope.trace" -- \
		trace "$cmd" "$TMP/nope.trace"
	expect "trace $cmd not-a-trace" 2 "is not a kharon trace file" -- \
		trace "$cmd" "$TMP/notatrace.txt"
	expect "trace $cmd empty" 2 "is not a kharon trace file (empty)" -- \
		trace "$cmd" "$TMP/empty"
	expect "trace $cmd directory" 2 "Is a directory" -- \
		trace "$cmd" "$TMP"
done
expect "trace check good" 0 "" -- trace check "$TMP/good.trace"
"$K" trace check "$TMP/cut.trace" >"$TMP/out" 2>&1; rc=$?
[ $rc -eq 1 ] || fail "trace check on a damaged trace: exit $rc, expected 1"
N=$((N + 1))

# -------------------------------------------------------------- kharon run
expect "run trace dir missing" 2 "$TMP/no/dir/x.trace" -- \
	run "$SCN" --trace "$TMP/no/dir/x.trace"
grep -q 'lock' "$TMP/err" && fail "run trace dir missing: names the lock file"
expect "run trace is a dir" 2 "is a directory" -- run "$SCN" --trace "$TMP"
expect "run target nonsense" 2 "bad address" -- run "$SCN" --target nonsense
expect "run target no port" 2 "bad address" -- run "$SCN" --target 127.0.0.1:
expect "run seed ERANGE" 2 "bad --seed" -- \
	run "$SCN" --seed 99999999999999999999999
expect "run seed 2^53" 2 "bad --seed" -- run "$SCN" --seed 9007199254740992
expect "run seed 2^53-1" 0 "" -- run "$SCN" --seed 9007199254740991
# No space for the trace: a file size limit (SIGXFSZ ignored, so writes
# fail with EFBIG) lets the header through and not the events.
rm -f "$TMP/small.trace"*
(trap '' XFSZ; ulimit -f 4; exec "$K" run "$SCN" --trace "$TMP/small.trace") \
	>"$TMP/out" 2>"$TMP/err"; rc=$?
[ $rc -eq 1 ] || fail "run with a trace cut short: exit $rc, expected 1: $(cat "$TMP/err")"
grep -q "is incomplete" "$TMP/err" ||
	fail "run with a trace cut short: no reason: $(cat "$TMP/err")"
N=$((N + 1))

# ------------------------------------------------------------- kharon call
expect "call nonsense" 2 "bad address" -- call nonsense:xx echo
expect "call no colon" 2 "bad address" -- call nocolon echo
expect "call port 0" 2 "bad address" -- call 127.0.0.1:0 echo
expect "call bad timeout" 2 "--timeout" -- call --timeout -1 127.0.0.1:1 echo

# ------------------------------------------------------------ kharon serve
expect "serve bogus" 2 "bad address" -- serve --listen bogus:1
expect "serve bad port" 2 "bad address" -- serve --listen 127.0.0.1:70000

# ------------------------------------------------------- kharon bench cbus
for s in nan 1e300 -1 0 inf; do
	expect "bench cbus --seconds $s" 2 "bad --seconds" -- \
		bench cbus --seconds "$s"
done
expect "bench cbus --batch 0" 2 "bad --batch" -- bench cbus --batch 0
expect "bench cbus --batch x" 2 "bad --batch" -- bench cbus --batch 1x

# --help of the program and of each command: its usage on stdout, exit 0.
for c in help "serve --help" "call --help" "check --help" "bench --help" \
	"bench call --help" "bench push --help" "bench cbus --help" \
	"bench ring --help" "run --help" "trace --help" "trace bench --help" \
	"trace dump --help"; do
	# shellcheck disable=SC2086  # c is a word list on purpose
	expect "$c" 0 "" -- $c
	grep -q "usage: kharon" "$TMP/out" || fail "$c: no usage on stdout"
done

echo "cli_exit_codes: $N cases"
