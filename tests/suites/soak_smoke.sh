#!/usr/bin/env bash
# `make soak` for three seconds: the mixed load of tests/tools/soak against
# kharon serve --trace --obuf-limit on real threads must finish without an
# unexpected error, give every descriptor back, and stop cleanly.
# Called by tests/run.sh with B set; exit 0 = pass.
set -u
. "$(dirname "$0")/../lib.sh"
kh_init
fail() { echo "FAIL soak_smoke: $*"; exit 1; }
kh_start_server "$K" serve --listen "127.0.0.1:@PORT@" \
	--obuf-limit 1048576 --trace "$KH_TMP/soak.trace" ||
	fail "server did not start: $KH_WHY"
"$B/tests/tools/soak" "127.0.0.1:$PORT" "$PID" 3 >"$KH_TMP/table" ||
	{ cat "$KH_TMP/table"; fail "the soak failed"; }
kh_stop_server || fail "the server did not stop cleanly"
"$K" trace check "$KH_TMP/soak.trace" >/dev/null || fail "trace does not check"
grep -E "echo calls|pushes received|non-readers|unexpected" "$KH_TMP/table" |
	tr -s ' |' ' ' | sed 's/^/soak_smoke:/'
