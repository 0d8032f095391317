#!/usr/bin/env bash
# make golden (viewer part): rewrite the viewer's goldens from the shipped
# scenarios — the captions of 06-kharon in both languages, and for every
# frame of frames.txt its display list (and its PNG where marked). Review
# `git diff tests/golden/viz` before committing. Also the tour and compare
# frames and docs/img/compare-07-batching.gif (below).
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
# A tour stop (its panel and highlight) and a side-by-side frame, as display
# lists; and the comparison GIF the READMEs show.
"$V" --scenario scenarios/06-kharon.json --tour --at kharon.flag \
	--dump-display "$G/06-kharon.tour-flag.display.txt"
echo "golden: $G/06-kharon.tour-flag.display.txt"
"$V" --compare scenarios/07-batching-kharon.json scenarios/07-batching-per-push.json \
	--sync push --at push#100 --size 1440x560 \
	--dump-display "$G/07-compare.push100.display.txt"
echo "golden: $G/07-compare.push100.display.txt"
"$V" --compare scenarios/07-batching-kharon.json scenarios/07-batching-per-push.json \
	--sync push --gif docs/img/compare-07-batching.gif --size 1440x560 \
	--from 40 --to 1000 --fps 8 --step 12
echo "golden: docs/img/compare-07-batching.gif"
