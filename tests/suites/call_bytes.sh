#!/usr/bin/env bash
# tests/suites/call_bytes.sh — CALL and CALL_16 byte for byte: a real
# Tarantool 2.6 serving tests/interop/procs.lua and `kharon serve` run side
# by side, tests/interop/compare_calls.lua sends both the same raw packets
# (tests/interop/call_bytes.cases, each as CALL_16 and as CALL) and compares
# the replies' bodies. This is how issue 14's mismatch was found (a
# third-party client's call_16 of echo(1, 2)). Called by tests/run.sh with B
# set; exit 0 = pass. CALL_BYTES_VERBOSE=1 prints both answers of every case.
set -u
. "$(dirname "$0")/../lib.sh"
here=$(cd "$(dirname "$0")/.." && pwd)
kh_init
TARANTOOL=${KH_TARANTOOL:-tarantool}
command -v "$TARANTOOL" >/dev/null || { echo "FAIL no $TARANTOOL binary"; exit 1; }

KH_LOG=$KH_TMP/tarantool.log
if ! kh_start_tarantool "$here/interop/procs.lua"; then
	echo "FAIL tarantool did not start: $KH_WHY"; tail -n 20 "$KH_LOG"; exit 1
fi
tt_port=$PORT tt_pid=$PID

KH_LOG=$KH_TMP/kharon.log
if ! kh_start_server "$K" serve --listen "127.0.0.1:@PORT@"; then
	echo "FAIL kharon did not start: $KH_WHY"; tail -n 20 "$KH_LOG"; exit 1
fi
kh_port=$PORT kh_pid=$PID

echo "# tarantool + procs.lua on 127.0.0.1:$tt_port, kharon serve on 127.0.0.1:$kh_port"
rc=0
"$TARANTOOL" "$here/interop/compare_calls.lua" "127.0.0.1:$tt_port" \
	"127.0.0.1:$kh_port" "$here/interop/call_bytes.cases" ${CALL_BYTES_VERBOSE:+-v} || rc=1

# The comparer itself must be able to fail: a case file that claims a
# known difference is "same" has to be reported.
printf 'same echo 91 ca 3f c0 00 00\n' >"$KH_TMP/wrong.cases"
if "$TARANTOOL" "$here/interop/compare_calls.lua" "127.0.0.1:$tt_port" \
	"127.0.0.1:$kh_port" "$KH_TMP/wrong.cases" >"$KH_TMP/wrong.out" 2>&1 ||
	! grep -q '^FAIL CALL_16 echo 91 ca' "$KH_TMP/wrong.out"; then
	echo "FAIL compare_calls.lua did not catch a difference:"
	sed 's/^/    /' "$KH_TMP/wrong.out"; rc=1
else
	echo "ok   compare_calls.lua reports a difference when there is one"
fi

kh_stop_server "$kh_pid"
status=$?
if [ "$status" -ne 0 ]; then
	echo "FAIL kharon exited with status $status after SIGTERM"
	tail -n 20 "$KH_TMP/kharon.log"; rc=1
fi
kh_stop_server "$tt_pid" >/dev/null
exit $rc
