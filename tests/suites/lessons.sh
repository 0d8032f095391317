#!/usr/bin/env bash
# The lessons (lessons/en, lessons/ru) and the READMEs that lead into them
# are checked like code, so that a renamed function, a moved file or a
# changed scenario cannot leave a lesson lying to its student:
#
#   - every fenced ```sh block marked runnable (a line `<!-- runnable -->`
#     just before it) runs headless and succeeds, from a scratch directory
#     that looks like the repository root (build/kharon, build/kharon-view,
#     scenarios/, lessons/); the exercise checks are such blocks, so the
#     answers at the end of each lesson are proven by `kharon run`;
#   - every image a lesson or README links exists, and is one that
#     `make lesson-images` makes (lessons/images.txt); one of them, drawn
#     twice by lessons/make-images.sh into a scratch directory, comes out
#     the same bytes both times and matches the committed one (within
#     kharon-view --png-diff's tolerance: otherwise run make lesson-images);
#   - en and ru hold the same lessons, each pair with the same sh commands
#     (comments aside), the same images (NAME.ru.png for NAME.png), the same
#     number of exercises and answers (2 or 3), and a runnable check;
#   - every `src/...` path a lesson names exists, and every kharon function
#     it names as `name()` is defined or declared in src/ (Tarantool's own
#     names are written without parentheses, so they are not looked up);
#   - every lesson path named in a src/ comment is a lesson file;
#   - README.md and README.ru.md list every lesson, in the same order.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
B=${B:-build/default}
fail=0
bad() { echo "lessons: $*"; fail=1; }

en=$(cd lessons/en 2>/dev/null && ls *.md)
ru=$(cd lessons/ru 2>/dev/null && ls *.md)
[ -n "$en" ] || { echo "lessons: no lessons in lessons/en"; exit 1; }
[ "$en" = "$ru" ] || bad "lessons/en and lessons/ru differ: $(diff <(echo "$en") <(echo "$ru") | grep '^[<>]' | tr '\n' ' ')"
n_lessons=$(wc -l <<<"$en")
[ "$n_lessons" -eq 11 ] || bad "expected 11 lessons, found $n_lessons"

# sh_blocks FILE [runnable]: every ```sh block (or only the runnable ones),
# each ended by a line "@@END@@".
sh_blocks() {
	awk -v only="${2:-}" '
		/^<!-- runnable -->$/ { mark = 1; next }
		!inb && /^```sh$/ { inb = 1; keep = (only == "" || mark); mark = 0; next }
		inb && /^```$/ { inb = 0; if (keep) print "@@END@@"; next }
		inb { if (keep) print; next }
		{ if ($0 !~ /^[[:space:]]*$/) mark = 0 }
	' "$1"
}
# The commands of the sh blocks, comments and trailing blanks removed.
commands() { sh_blocks "$1" | sed -E 's/(^|[[:space:]])#.*$//; s/[[:space:]]+$//' | grep -v '^$'; }
# Image links ![..](path), as written.
images() { grep -oE '!\[[^]]*\]\([^)]+\)' "$1" | sed -E 's/.*\(([^)]+)\)/\1/'; }

# A scratch directory that looks like the repository root.
W=$(mktemp -d "${TMPDIR:-/tmp}/kharon-lessons.XXXXXX") || exit 1
trap 'rm -rf "$W"' EXIT
mkdir "$W/build"
ln -s "$ROOT/$B/kharon" "$W/build/kharon"
[ -x "$B/kharon-view" ] && ln -s "$ROOT/$B/kharon-view" "$W/build/kharon-view"
ln -s "$ROOT/scenarios" "$W/scenarios"
ln -s "$ROOT/lessons" "$W/lessons"

n_run=0
run_blocks() {
	local f=$1 i=0 block
	while IFS= read -r -d $'\x01' block; do
		[ -n "${block//[$'\n']/}" ] || continue
		i=$((i + 1))
		local out
		if ! out=$(cd "$W" && timeout 120 bash -eo pipefail -c "$block" 2>&1); then
			bad "$f: runnable block $i failed:"; sed 's/^/    | /' <<<"$block"
			sed 's/^/    > /' <<<"$out" | tail -n 15
		fi
		n_run=$((n_run + 1))
	done < <(sh_blocks "$f" runnable | sed 's/^@@END@@$/\x01/')
	[ "$i" -gt 0 ] || bad "$f: no runnable block (each lesson has a check)"
}

listed_images=$(grep -vE '^[[:space:]]*(#|$)' lessons/images.txt 2>/dev/null | awk '{print $1}')
check_images() {
	local f=$1 dir img base
	dir=$(dirname "$f")
	while IFS= read -r img; do
		[ -n "$img" ] || continue
		[ -f "$dir/$img" ] || bad "$f: image $img does not exist"
		case "$dir/$img" in
		*lessons/img/*|*/en/../img/*|*/ru/../img/*)
			base=$(basename "$img"); base=${base/.ru./.}
			grep -qxF "$base" <<<"$listed_images" ||
				bad "$f: image $img is not made by make lesson-images (lessons/images.txt)" ;;
		esac
	done < <(images "$f")
}

n_fun=0
for name in $en; do
	e=lessons/en/$name r=lessons/ru/$name
	[ -f "$r" ] || continue
	[ "$(commands "$e")" = "$(commands "$r")" ] ||
		bad "$name: en and ru sh commands differ: $(diff <(commands "$e") <(commands "$r") | grep '^[<>]' | head -4 | tr '\n' ' ')"
	[ "$(images "$e")" = "$(images "$r" | sed 's/\.ru\./\./')" ] ||
		bad "$name: en and ru images differ (ru uses NAME.ru.png for NAME.png)"
	ex_en=$(grep -cE '^### Exercise [0-9]' "$e"); an_en=$(grep -cE '^### Answer [0-9]' "$e")
	ex_ru=$(grep -cE '^### Упражнение [0-9]' "$r"); an_ru=$(grep -cE '^### Ответ [0-9]' "$r")
	{ [ "$ex_en" -ge 2 ] && [ "$ex_en" -le 3 ]; } || bad "$e: $ex_en exercises, expected 2 or 3"
	[ "$ex_en" = "$an_en" ] || bad "$e: $ex_en exercises but $an_en answers"
	[ "$ex_en" = "$ex_ru" ] && [ "$an_en" = "$an_ru" ] ||
		bad "$name: en has $ex_en exercises/$an_en answers, ru $ex_ru/$an_ru"
	for f in "$e" "$r"; do
		check_images "$f"
		run_blocks "$f"
		for p in $(grep -oE '`src/[A-Za-z0-9_./-]+`' "$f" | tr -d '`' | sort -u); do
			[ -e "$p" ] || bad "$f: names $p, which does not exist"
		done
		for fn in $(grep -oE '`[a-z_][a-z0-9_]*\(\)`' "$f" | tr -d '`()' | sort -u); do
			n_fun=$((n_fun + 1))
			grep -rqE "(^|[^a-z0-9_])$fn\(" src --include=*.c --include=*.h ||
				bad "$f: names $fn(), which is not in src/"
		done
	done
done

# make lesson-images is repeatable, and the committed images are current.
if [ -x "$B/kharon-view" ]; then
	for k in 1 2; do
		OUT="$W/img$k" VIEW="$B/kharon-view" bash lessons/make-images.sh 06-flag.png >/dev/null ||
			bad "lessons/make-images.sh 06-flag.png failed"
	done
	for f in 06-flag.png 06-flag.ru.png; do
		cmp -s "$W/img1/$f" "$W/img2/$f" || bad "make-images drew $f differently twice"
		"$B/kharon-view" --png-diff "$W/img1/$f" "lessons/img/$f" >/dev/null 2>&1 ||
			bad "lessons/img/$f is not what the viewer draws now: run make lesson-images"
	done
fi

# Lesson paths in src/ comments.
while IFS=: read -r file ref; do
	[ -f "$ref" ] || bad "$file names $ref, which is not a lesson file"
done < <(grep -rnoE 'lessons/[A-Za-z0-9_./-]*' src | sed -E 's/^([^:]+):[0-9]+:/\1:/; s/[.]$//')

# The READMEs: the same lessons, in the same order, each link a lesson.
readme_lessons() { grep -oE "\(lessons/$2/[0-9]{2}-[a-z0-9-]+\.md\)" "$1" | sed -E "s|\(lessons/$2/||; s|\)||"; }
for pair in "README.md en" "README.ru.md ru"; do
	set -- $pair
	[ "$(readme_lessons "$1" "$2")" = "$en" ] || bad "$1 does not list exactly the lessons of lessons/$2, in order"
	check_images "$1"
done

echo "$n_lessons lessons x 2 languages, $n_run runnable blocks run, $n_fun function names checked"
exit $fail
