#!/usr/bin/env bash
# `kharon serve` refuses what it cannot do, cleanly: bad options exit 2
# with the usage, a port already in use exits 1 with the reason (and, in
# the asan build, frees everything it made first).
# Called by tests/run.sh with B set; exit 0 = pass.
set -u
. "$(dirname "$0")/../lib.sh"
kh_init
fail() { echo "FAIL serve_errors: $*"; exit 1; }
"$K" serve --net-msg-max 1 2>"$KH_TMP/err"; rc=$?
[ $rc -eq 2 ] || fail "net_msg_max 1: exit $rc, expected 2"
grep -q "usage: kharon serve" "$KH_TMP/err" || fail "no usage line"
"$K" serve --push-mode sometimes 2>/dev/null; rc=$?
[ $rc -eq 2 ] || fail "bad push mode: exit $rc, expected 2"
KH_LOG=$KH_TMP/first.log kh_start_server "$K" serve --listen "127.0.0.1:@PORT@" ||
	fail "the first server did not start"
"$K" serve --listen "127.0.0.1:$PORT" 2>"$KH_TMP/err"; rc=$?
[ $rc -eq 1 ] || fail "port in use: exit $rc, expected 1"
grep -q "Address already in use" "$KH_TMP/err" || fail "no reason: $(cat "$KH_TMP/err")"
kh_stop_server || fail "the first server exited with $?"
echo "serve_errors: bad options exit 2, a busy port exits 1"
