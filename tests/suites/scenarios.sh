#!/usr/bin/env bash
# Every shipped scenario (scenarios/[0-9]*.json), three ways:
#  1. on the simulator: its expectations and invariants hold, and its trace
#     equals tests/golden/NAME.jsonl byte for byte (on a mismatch the actual
#     trace goes to tests/golden/NAME.reject and the first differing lines
#     are shown; `make golden` rewrites the goldens);
#  2. again with the same seed: the same trace (determinism);
#  3. on real threads and TCP (--mode real): expectations and invariants.
# Called by tests/run.sh with B set; exit 0 = every scenario passed.
set -u
B=${B:-build/default}
K=$B/kharon
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rc=0
n=0
start=$(date +%s%N)
for f in scenarios/[0-9]*.json; do
	name=$(basename "$f" .json)
	n=$((n + 1))
	bad=0
	golden=tests/golden/$name.jsonl
	if ! "$K" run "$f" --mode sim --trace "$tmp/a.trace" >"$tmp/out" 2>&1; then
		echo "FAIL $name (sim):"; sed 's/^/    /' "$tmp/out"; rc=1; continue
	fi
	"$K" trace export "$tmp/a.trace" --format jsonl >"$tmp/a.jsonl"
	if [ ! -f "$golden" ]; then
		cp "$tmp/a.jsonl" "tests/golden/$name.reject"
		echo "FAIL $name: no $golden (actual in tests/golden/$name.reject; make golden)"
		bad=1
	elif ! cmp -s "$tmp/a.jsonl" "$golden"; then
		cp "$tmp/a.jsonl" "tests/golden/$name.reject"
		echo "FAIL $name: trace differs from $golden (actual: tests/golden/$name.reject)"
		diff "$golden" "$tmp/a.jsonl" | head -n 8 | sed 's/^/    /'
		bad=1
	else
		rm -f "tests/golden/$name.reject"
	fi
	rm -f "$tmp/b.trace"
	"$K" run "$f" --mode sim --trace "$tmp/b.trace" >/dev/null 2>&1
	"$K" trace export "$tmp/b.trace" --format jsonl >"$tmp/b.jsonl"
	if ! cmp -s "$tmp/a.jsonl" "$tmp/b.jsonl"; then
		echo "FAIL $name: two runs with one seed gave different traces"; bad=1
	fi
	rm -f "$tmp/a.trace" "$tmp/b.trace"
	if ! "$K" run "$f" --mode real >"$tmp/out" 2>&1; then
		echo "FAIL $name (real):"; sed 's/^/    /' "$tmp/out"; rc=1; continue
	fi
	if [ $bad -eq 0 ]; then
		echo "ok   $name: sim = golden, deterministic, real"
	else
		rc=1
	fi
done
end=$(date +%s%N)
echo "scenarios: $n scenarios in $(( (end - start) / 1000000 )) ms"
[ "$n" -gt 0 ] || { echo "FAIL no scenarios"; rc=1; }
exit $rc
