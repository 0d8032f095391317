#!/usr/bin/env bash
# make golden (viewer part): rewrite the viewer's goldens from the shipped
# scenarios — the captions of 06-kharon in both languages, and for every
# frame of frames.txt its display list (and its PNG where marked). Review
# `git diff tests/golden/viz` before committing.
set -eu
B=${B:-build/default}
V=$B/kharon-view
G=tests/golden/viz
for lang in en ru; do
	"$V" --scenario scenarios/06-kharon.json --captions --lang "$lang" \
		>"$G/06-kharon.captions.$lang.txt"
	echo "golden: $G/06-kharon.captions.$lang.txt"
done
grep -v '^#' "$G/frames.txt" | while read -r name scenario at lang png; do
	[ -n "$name" ] || continue
	"$V" --scenario "$scenario" --lang "$lang" --at "$at" \
		--dump-display "$G/$name.display.txt"
	echo "golden: $G/$name.display.txt"
	if [ "${png:-}" = png ]; then
		"$V" --scenario "$scenario" --lang "$lang" --at "$at" \
			--png "$G/$name.png"
		echo "golden: $G/$name.png"
	fi
done
