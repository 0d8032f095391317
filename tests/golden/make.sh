#!/usr/bin/env bash
# make golden: run every shipped scenario on the simulator and (re)write its
# expected trace, tests/golden/NAME.jsonl. Review `git diff tests/golden`
# before committing: a changed golden is a changed behaviour, and the commit
# message must say which and why the new trace is right. Note: an error reply
# carries the source file and line that raised the error (as Tarantool's
# error stack does), so moving such a line in src/ changes the reply's size
# and with it the positions in a golden that shows the error.
set -eu
B=${B:-build/default}
K=$B/kharon
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for f in scenarios/[0-9]*.json; do
	name=$(basename "$f" .json)
	if ! "$K" run "$f" --mode sim --trace "$tmp/$name.trace" >"$tmp/$name.out"; then
		cat "$tmp/$name.out" >&2
		echo "golden: $name fails its own expectations; golden not written" >&2
		exit 1
	fi
	"$K" trace export "$tmp/$name.trace" --format jsonl >"tests/golden/$name.jsonl"
	rm -f "tests/golden/$name.reject"
	echo "golden: tests/golden/$name.jsonl ($(wc -l <"tests/golden/$name.jsonl") events)"
done
# The viewer's goldens come from the same scenarios.
B=$B bash tests/golden/viz/make.sh
