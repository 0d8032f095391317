#!/usr/bin/env bash
# Runs every test suite of one build tree ($B) and ends with the line
# "N passed, N failed" so that a run that executed nothing is visible.
#   bash tests/run.sh          all suites (make test, make asan)
#   bash tests/run.sh tsan     only the plain-main race tests (make tsan)
set -u
B=${B:-build/default}
passed=0 failed=0

# A plain test program: exit 0 is one pass, anything else one failure.
run_one() {
	local name=$1; shift
	"$@"
	local rc=$?
	if [ $rc -eq 0 ]; then passed=$((passed + 1)); echo "PASS $name"
	else failed=$((failed + 1)); echo "FAIL $name (exit $rc)"; fi
}

run_tsan() {
	for t in "$B"/tests/tsan/*; do
		[ -x "$t" ] || continue
		# Old TSan breaks on high mmap entropy; no ASLR is the no-root fix.
		run_one "tsan/$(basename "$t")" setarch "$(uname -m)" -R "$t"
	done
}

run_unit() {
	local out
	out=$(mktemp)
	"$B"/tests/unit_tests --jobs=2 2>&1 | tee "$out"
	local line
	line=$(grep -a 'Synthesis:' "$out" | tail -n 1)
	if [ -z "$line" ]; then
		failed=$((failed + 1)); echo "FAIL unit tests: no Criterion summary"
	else
		local t p
		t=$(sed -n 's/.*Tested: \([0-9]*\).*/\1/p' <<<"$line")
		p=$(sed -n 's/.*Passing: \([0-9]*\).*/\1/p' <<<"$line")
		passed=$((passed + p)); failed=$((failed + t - p))
	fi
	rm -f "$out"
}

case "${1:-all}" in
tsan) run_tsan ;;
all)
	run_unit
	for s in tests/suites/*.sh; do
		[ -f "$s" ] || continue
		run_one "$(basename "$s" .sh)" env B="$B" bash "$s"
	done
	run_tsan
	;;
esac
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
