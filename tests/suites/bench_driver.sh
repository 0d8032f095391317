#!/usr/bin/env bash
# make bench's driver (bench/run.sh) end to end, on a few short runs: it
# must write the table, the CSV and the plot of the rows it ran, with a figure for every
# server of the rows it ran — kharon, kharon pinned (taskset) and, where
# installed, Tarantool and Tarantool pinned; the tracing rows compare the
# build with TRACE compiled out (make FLAVOUR=notrace), and `kharon trace
# bench`'s ns per event is quoted. Figures are not judged (one 0.2 s run
# each); a driver that ran nothing or dropped a server fails.
#
# Called by tests/run.sh with B set; exit 0 = pass.
set -u
. "$(dirname "$0")/../lib.sh"
kh_init
fail() { echo "FAIL bench_driver: $*"; exit 1; }

out=$KH_TMP/bench
mkdir -p "$out"
notrace=build/notrace/kharon
[ -x "$notrace" ] || notrace=
B=$B NOTRACE=$notrace PAIRS=1 RUN_SECONDS=0.2 BENCH_OUT=$out \
	ONLY='^push\|stream 8B 1c$|^trace\|stream 8B 1c$' \
	bash bench/run.sh >"$KH_TMP/bench.log" 2>&1 ||
	{ sed 's/^/    /' "$KH_TMP/bench.log"; fail "bench/run.sh failed"; }

for f in results.md results.csv; do
	[ -s "$out/$f" ] || fail "no $f"
done
if command -v gnuplot >/dev/null; then
	grep -q "<svg" "$out/push.svg" 2>/dev/null || fail "no plot push.svg"
fi

# Every server of the two rows left a run in the CSV.
servers="kharon kharon_per_push kharon_trace"
[ -n "$notrace" ] && servers="$servers kharon_notrace"
pinned=0
[ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null && pinned=1
((pinned)) && servers="$servers kharon_pinned"
if command -v tarantool >/dev/null; then
	servers="$servers tarantool"
	((pinned)) && servers="$servers tarantool_pinned"
fi
for s in $servers; do
	grep -Eq "^(push|trace),stream 8B 1c,$s,1,[0-9]+(\.[0-9]+)?," \
		"$out/results.csv" || fail "no run of $s in results.csv"
done

md=$out/results.md
grep -q '^| stream 8B 1c | [0-9.]* [kM] (' "$md" ||
	fail "no push row in results.md"
((pinned)) && { grep -q '^## Pinned' "$md" || fail "no pinned table"; }
grep -Eq 'pays [0-9.]+ \([0-9.]+–[0-9.]+\) ns per event' "$md" ||
	fail "no trace bench figure"
grep -q 'bounds.md' "$md" || fail "no link to bounds.md"
[ -s bench/bounds.md ] || fail "bench/bounds.md is missing"
echo "bench_driver: $(grep -c '^push\|^trace' "$out/results.csv") runs of" \
	"$(echo "$servers" | wc -w) servers"
