#!/usr/bin/env bash
# One writev per connection per batch, on real threads (issue: fidelity).
#
# Tarantool's network thread does not write a reply when it lands: it feeds
# the connection's write event (ev_feed_event(EV_WRITE)), so every reply that
# reached it in one loop iteration leaves in ONE writev. kharon does the same
# (net_feed_output, src/iproto/net_output.c). This suite pipelines calls with
# tests/tools/pipeline (each connection's calls in one write), stops the
# server and reads its writev counter from the "stopped:" line. Writing a
# reply at a time would make 1 + 64 writev per connection; the bound below
# leaves room for replies that real threads split over a few iterations.
#
# Called by tests/run.sh with B set; exit 0 = pass.
set -u
. "$(dirname "$0")/../lib.sh"
kh_init
TOOL=$B/tests/tools/pipeline
fail() { echo "writes_per_batch: $*" >&2; exit 1; }
[ -x "$TOOL" ] || fail "$TOOL is missing (make unit builds it)"

# run CONNS CALLS MAX_WRITEV_PER_CONN
run() {
	local conns=$1 calls=$2 max=$3
	kh_start_server "$K" serve --listen "127.0.0.1:@PORT@" ||
		fail "server did not start: $KH_WHY"
	"$TOOL" "127.0.0.1:$PORT" "$calls" "$conns" || fail "pipeline failed"
	kh_stop_server || fail "server did not stop cleanly"
	local n c
	n=$(sed -n 's/.*stopped:.* \([0-9]*\) writev$/\1/p' "$KH_TMP/server.log")
	c=$(sed -n 's/.*stopped: \([0-9]*\) connections.*/\1/p' "$KH_TMP/server.log")
	[ -n "$n" ] && [ -n "$c" ] ||
		{ cat "$KH_TMP/server.log" >&2; fail "no writev count"; }
	# One writev is the greeting of each connection, the start-up probe's
	# (tests/lib.sh) included.
	local per=$((n - c))
	echo "writes_per_batch: $conns x $calls pipelined calls: $n writev" \
	     "($c greetings, $per for the replies)"
	[ "$per" -le $((conns * max)) ] ||
		fail "$per writev for $conns batches of $calls replies" \
		     "(at most $max per connection expected)"
}
run 1 8 2
run 1 64 3
run 10 8 2
run 2 1000 16
exit 0
