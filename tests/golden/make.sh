#!/usr/bin/env bash
# make golden: run every shipped scenario on the simulator and (re)write its
# expected trace, tests/golden/NAME.jsonl. Review `git diff tests/golden`
# before committing: a changed golden is a changed behaviour, and the commit
# message must say which and why the new trace is right.
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
