#!/usr/bin/env bash
# SIGTERM keeps the grace period whatever TX is doing, on real threads.
#
# A client calls push(10 000 000, "x") — a loop that never waits, so TX
# would not look at a message before it ends — and reads everything. The
# server gets SIGTERM with --grace 0.3: the loop stops at its next turn
# (proc_is_cut_short: the flag the network cord sets when the grace period
# ends), the call's error reply reaches the client before its connection
# closes, and the server exits 0, well before the loop could have finished.
#
# Called by tests/run.sh with B set; exit 0 = pass.
set -u
. "$(dirname "$0")/../lib.sh"
kh_init
fail() { echo "FAIL shutdown_grace: $*"; [ -f "$KH_TMP/server.log" ] &&
	sed 's/^/    /' "$KH_TMP/server.log"; exit 1; }

kh_start_server "$K" serve --listen "127.0.0.1:@PORT@" --grace 0.3 ||
	fail "server did not start: $KH_WHY"
# CALL push(10000000, "x"), sync 7: prefix, {type: CALL, sync: 7},
# {function: "push", tuple: [10000000, "x"]}.
exec 3<>"/dev/tcp/127.0.0.1/$PORT" || fail "cannot connect"
printf '\xce\x00\x00\x00\x15\x82\x00\x0a\x01\x07\x82\x22\xa4push\x21\x92\xce\x00\x98\x96\x80\xa1x' >&3
cat <&3 >"$KH_TMP/received" &
reader=$!
sleep 0.3
start=$SECONDS
kill -TERM "$PID"
wait "$PID"; rc=$?
KH_PIDS=()
took=$((SECONDS - start))
wait "$reader"
exec 3>&-
[ $rc -eq 0 ] || fail "server exit code $rc"
size=$(stat -c %s "$KH_TMP/received")
grep -aq "push: cancelled, the server is shutting down" "$KH_TMP/received" ||
	fail "the client did not read the error reply ($size bytes received)"
echo "shutdown_grace: SIGTERM in the middle of push(10000000): exit 0 after" \
     "~${took} s, the client read $size bytes ending with the error reply"
# The loop alone would take far longer than this on any machine.
[ "$took" -le 20 ] || fail "the server took $took s to stop"
