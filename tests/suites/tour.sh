#!/usr/bin/env bash
# Guided tours (scenario "tour", kharon-view --tour): every shipped scenario
# checks clean and the tours the lessons lean on are there (kharon check
# runs each on the simulator and proves every stop matches exactly one
# event, in order); a stop that matches no event, or two, is refused with
# its JSON path and the count (exit 2, one line); the viewer refuses --tour
# without a scenario or a tour; a tour GIF is byte-identical on two runs
# and differs from the plain one (its stops linger, captioned); a real
# window under Xvfb walks a tour to its end with space, goes back a stop
# with Backspace, and turns the tour off and on with T.
set -u
. "$(dirname "$0")/../lib.sh"
kh_init
V=$B/kharon-view
dir=$KH_TMP
fail() { echo "FAIL: $*"; exit 1; }

# ---- kharon check: every scenario, and the tours the lessons use
for f in scenarios/[0-9]*.json; do
	"$K" check "$f" >"$dir/out" 2>&1 || fail "kharon check $f: $(cat "$dir/out")"
done
for s in 02-cbus-batching 03-request-life 04-ibuf-double 05-obuf-reserve 06-kharon 07-batching-kharon; do
	"$K" check "scenarios/$s.json" | grep -q 'a tour of [0-9]* stops' ||
		fail "$s has no tour"
done

# ---- bad tours: the stop's path and the count
mk() {
	printf '{"name": "t", "title": {"ru": "т", "en": "t"}, "clients": [{"steps": [{"ping": {}}]}], "tour": %s}\n' "$2" >"$dir/$1.json"
}
C='"caption": {"ru": "а", "en": "a"}'
mk ok "[{\"event\": \"conn.accept\", $C}, {\"event\": \"client.recv\", $C}]"
mk none "[{\"event\": \"conn.accept\", $C}, {\"event\": \"kharon.flag\", $C}]"
mk two "[{\"event\": \"cpipe.push\", \"where\": {\"to\": \"tx\"}, $C}]"
mk order "[{\"event\": \"client.recv\", $C}, {\"event\": \"conn.accept\", $C}]"
"$K" check "$dir/ok.json" | grep -q 'a tour of 2 stops' || fail "a good tour refused"
bad() {
	local name=$1 want=$2
	"$K" check "$dir/$name.json" >/dev/null 2>"$dir/err"
	local rc=$?
	[ $rc -eq 2 ] || fail "$name: exit $rc, want 2"
	[ "$(wc -l <"$dir/err")" -eq 1 ] || fail "$name: not one line: $(cat "$dir/err")"
	grep -qF -- "$want" "$dir/err" || fail "$name: want \"$want\", got: $(cat "$dir/err")"
}
bad none 'tour[1]: kharon.flag matches 0 events of the simulated run'
bad two 'tour[0]: cpipe.push where to="tx" matches'
grep -q 'matches [2-9] events\|matches [0-9][0-9]* events' "$dir/err" || fail "two: no count"
bad order "tour[1]: its event"

# ---- the viewer refuses what cannot be a tour
vbad() {
	"$V" "$@" >/dev/null 2>"$dir/err"
	local rc=$?
	[ $rc -eq 2 ] || fail "kharon-view $*: exit $rc, want 2"
	[ "$(wc -l <"$dir/err")" -eq 1 ] || fail "kharon-view $*: $(cat "$dir/err")"
}
"$K" run scenarios/01-two-worlds.json --trace "$dir/k.trace" >/dev/null || fail "kharon run"
vbad "$dir/k.trace" --tour --captions
vbad --scenario scenarios/01-two-worlds.json --tour --captions
vbad --scenario "$dir/none.json" --tour --captions

# ---- a tour GIF: the same bytes twice, and not the plain GIF
for i in 1 2; do
	"$V" --scenario scenarios/06-kharon.json --tour --gif "$dir/t$i.gif" \
		--size 640x400 --fps 10 || fail "tour gif $i"
done
cmp -s "$dir/t1.gif" "$dir/t2.gif" || fail "two tour GIFs differ"
"$V" --scenario scenarios/06-kharon.json --gif "$dir/plain.gif" --size 640x400 \
	--fps 10 || fail "plain gif"
cmp -s "$dir/t1.gif" "$dir/plain.gif" && fail "the tour GIF is the plain one"

# ---- a real window: the tour walked with nothing but space
command -v xvfb-run >/dev/null || fail "xvfb-run missing (make deps)"
n=$("$V" --scenario scenarios/06-kharon.json --captions | wc -l)
stops=$("$K" check scenarios/06-kharon.json | sed 's/.*a tour of \([0-9]*\) stops.*/\1/')
{
	echo "frames 2"
	echo "expect tour -1"
	echo "expect tour_on 1"
	for _ in $(seq 8); do echo "key plus"; done
	for k in $(seq 0 $((stops - 1))); do
		echo "key space"
		echo "wait-until tour $k 900"
		echo "expect paused 1"
		if [ "$k" -eq 2 ]; then
			echo "key back"
			echo "wait-until tour 1 30"
			echo "key enter"
			echo "wait-until tour 2 900"
		fi
	done
	echo "key t"
	echo "frames 1"
	echo "expect tour_on 0"
	echo "expect tour -1"
	echo "key t"
	echo "frames 1"
	echo "expect tour $((stops - 1))"
	echo "key space"
	echo "wait-until n $n 2000"
	echo "quit"
} >"$dir/walk.txt"
(cd "$dir" && ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" \
	SDL_VIDEODRIVER=x11 timeout 120 xvfb-run -a -s "-screen 0 1280x720x24" \
	"$OLDPWD/$V" --scenario "$OLDPWD/scenarios/06-kharon.json" --tour \
	--script walk.txt) >"$dir/walk.out" 2>&1 || fail "tour walk: $(cat "$dir/walk.out")"
echo "tour: checks, bad stops, GIF sha256 $(sha256sum <"$dir/t1.gif" | cut -c1-16), window walk of $stops stops: ok"
