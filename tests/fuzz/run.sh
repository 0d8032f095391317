#!/usr/bin/env bash
# Runs the libFuzzer targets built by `make fuzz-build` (build/fuzz).
#   bash tests/fuzz/run.sh smoke   replay every seed of tests/fuzz/corpus/<t>/
#                                  once (make fuzz-smoke, make test)
#   bash tests/fuzz/run.sh long    fuzz each target FUZZ_SECONDS (make fuzz)
# One line per target, then "fuzz: N clean, N failed"; exit 0 only if all
# were clean. A failing target's log is printed; in long mode its crashing
# input is build/fuzz/artifacts/<t>-crash-* (see tests/fuzz/README.md).
set -u
cd "$(dirname "$0")/../.."
FB=build/fuzz/tests/fuzz
mode=${1:-smoke}
secs=${FUZZ_SECONDS:-60}
clean=0 failed=0

# -max_len per target: packets and MsgPack values are small; files less so.
max_len() {
	case $1 in
	fuzz_request|fuzz_mp|fuzz_mp_oracle) echo 4096 ;;
	*) echo 65536 ;;
	esac
}

for src in tests/fuzz/fuzz_*.c; do
	t=$(basename "$src" .c)
	bin=$FB/$t
	if [ ! -x "$bin" ]; then
		echo "FAIL $t: $bin not built (make fuzz-build)"
		failed=$((failed + 1)); continue
	fi
	log=$(mktemp)
	case $mode in
	smoke)
		seeds=(tests/fuzz/corpus/"$t"/*)
		if [ ! -f "${seeds[0]}" ]; then
			echo "FAIL $t: no seeds in tests/fuzz/corpus/$t/"
			failed=$((failed + 1)); rm -f "$log"; continue
		fi
		# Files as arguments: each runs once, nothing is written.
		"$bin" -timeout=10 -rss_limit_mb=2048 "${seeds[@]}" >"$log" 2>&1
		rc=$?
		info="${#seeds[@]} seeds"
		;;
	long)
		mkdir -p build/fuzz/corpus/"$t" build/fuzz/artifacts
		"$bin" -max_total_time="$secs" -max_len="$(max_len "$t")" \
			-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
			-artifact_prefix=build/fuzz/artifacts/"$t"- \
			build/fuzz/corpus/"$t" tests/fuzz/corpus/"$t" >"$log" 2>&1
		rc=$?
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
		cov=$(grep -a -o 'cov: [0-9]*' "$log" | tail -n 1)
		info="${runs:-?} runs, ${eps:-?} exec/s, $cov, ${secs}s"
		;;
	*)
		echo "usage: $0 smoke|long" >&2; rm -f "$log"; exit 2 ;;
	esac
	if [ "$rc" -eq 0 ]; then
		echo "PASS $t ($info)"; clean=$((clean + 1))
	else
		tail -n 60 "$log"
		echo "FAIL $t (exit $rc; $info)"; failed=$((failed + 1))
	fi
	rm -f "$log"
done
echo "fuzz: $clean clean, $failed failed"
[ "$failed" -eq 0 ]
