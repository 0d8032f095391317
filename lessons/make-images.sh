#!/usr/bin/env bash
# lessons/make-images.sh — makes every picture and GIF of the lessons and the
# READMEs (`make lesson-images`): each line of lessons/images.txt names an
# image, the scenario it is drawn from and the kharon-view options that pick
# the moment (--at EVENT#K for a PNG, --from/--to for a GIF). The scenario is
# run on the simulator inside the headless viewer, in English (NAME.png) and
# in Russian (NAME.ru.png), into lessons/img/. The simulator is deterministic
# and the GIF palette fixed, so running this twice changes no byte (the
# lessons suite and the closing note of issue 11 rely on that).
#
#   bash lessons/make-images.sh [NAME...]     only the images named
#   VIEW=path/to/kharon-view bash lessons/make-images.sh
#   OUT=dir bash lessons/make-images.sh       elsewhere (the lessons suite)
set -euo pipefail
cd "$(dirname "$0")/.."
VIEW=${VIEW:-build/kharon-view}
OUT=${OUT:-lessons/img}
mkdir -p "$OUT"
if [ ! -x "$VIEW" ]; then
	echo "make-images: $VIEW not found: build the viewer first (make)" >&2
	exit 2
fi
PNG_SIZE=960x540 GIF_SIZE=640x360 GIF_FPS=6
n=0
while read -r name scenario args; do
	case "$name" in ''|'#'*) continue ;; esac
	if [ $# -gt 0 ] && ! printf '%s\n' "$@" | grep -qxF "$name"; then continue; fi
	[ -f "scenarios/$scenario" ] || { echo "make-images: $name: no scenarios/$scenario" >&2; exit 2; }
	for lang in en ru; do
		out=$OUT/$name
		[ $lang = ru ] && out=$OUT/${name%.*}.ru.${name##*.}
		case "$name" in
		*.png) kind=(--png "$out" --size $PNG_SIZE) ;;
		*.gif) kind=(--gif "$out" --size $GIF_SIZE --fps $GIF_FPS) ;;
		*) echo "make-images: $name: .png or .gif" >&2; exit 2 ;;
		esac
		# shellcheck disable=SC2086  # args are options, split on purpose
		"$VIEW" --scenario "scenarios/$scenario" --lang $lang "${kind[@]}" $args
		n=$((n + 1))
	done
done < lessons/images.txt
echo "make-images: $n images in $OUT/"
