#!/usr/bin/env bash
# kharon-view --compare and the tour frame: the display lists of a tour stop
# and of a side-by-side frame match their goldens (`make golden` rewrites
# them); the comparison GIF is byte-identical on two runs; a trace file and
# a scenario can be compared; the strip shows the per-push run paying far
# more cbus messages for as many net.writev calls; bad --compare / --sync
# use is one line and exit 2; a real window under Xvfb plays both panes.
set -u
. "$(dirname "$0")/../lib.sh"
kh_init
V=$B/kharon-view
G=tests/golden/viz
dir=$KH_TMP
fail() { echo "FAIL: $*"; exit 1; }
A=scenarios/07-batching-kharon.json
P=scenarios/07-batching-per-push.json

golden() {
	local name=$1; shift
	"$V" "$@" --dump-display "$dir/$name" || fail "dump $name"
	if ! cmp -s "$dir/$name" "$G/$name"; then
		cp "$dir/$name" "$G/${name%.display.txt}.reject"
		diff "$G/$name" "$dir/$name" | head -20
		fail "$name differs from the golden (make golden?)"
	fi
}
golden 06-kharon.tour-flag.display.txt --scenario scenarios/06-kharon.json \
	--tour --at kharon.flag
golden 07-compare.push100.display.txt --compare "$A" "$P" --sync push \
	--at push#100 --size 1440x560
# The strip at the end: messages A < B, the same net.writev calls.
"$V" --compare "$A" "$P" --at 1220 --size 1440x560 --dump-display "$dir/end" ||
	fail "dump at the end"
grep -A8 "cbus messages" "$dir/end" | grep -o '"[AB] [0-9]*"' | tr -d '"' >"$dir/msgs"
grep -A8 "net.writev calls" "$dir/end" | grep -o '"[AB] [0-9]*"' | tr -d '"' >"$dir/wv"
ma=$(sed -n 's/^A //p' "$dir/msgs"); mb=$(sed -n 's/^B //p' "$dir/msgs")
wa=$(sed -n 's/^A //p' "$dir/wv"); wb=$(sed -n 's/^B //p' "$dir/wv")
[ -n "$ma" ] && [ -n "$mb" ] && [ $((mb)) -gt $((10 * ma)) ] ||
	fail "cbus messages: A '$ma', B '$mb'"
[ -n "$wa" ] && [ "$wa" = "$wb" ] || fail "net.writev calls: A '$wa', B '$wb'"

for i in 1 2; do
	"$V" --compare "$A" "$P" --sync push --gif "$dir/c$i.gif" --size 960x400 \
		--from 40 --to 400 --step 20 || fail "compare gif $i"
done
cmp -s "$dir/c1.gif" "$dir/c2.gif" || fail "two comparison GIFs differ"

# A trace against a scenario.
"$K" run "$A" --trace "$dir/a.trace" >/dev/null || fail "kharon run"
"$V" --compare "$dir/a.trace" "$P" --png "$dir/x.png" --at 500 || fail "trace vs scenario"

bad() {
	"$V" "$@" >/dev/null 2>"$dir/err"
	local rc=$?
	[ $rc -eq 2 ] || fail "kharon-view $*: exit $rc, want 2"
	[ "$(wc -l <"$dir/err")" -eq 1 ] || fail "kharon-view $*: $(cat "$dir/err")"
}
bad --compare "$A" "$dir/nope.json" --captions
bad --compare "$A" "$dir/nope.trace" --captions
bad --compare "$A"
bad --compare "$A" "$P" --scenario "$A"
bad --compare "$A" "$P" --tour
bad --scenario "$A" --sync push --captions
bad --compare "$A" "$P" --gif "$dir/x.gif" --step 0

command -v xvfb-run >/dev/null || fail "xvfb-run missing (make deps)"
cat >"$dir/s.txt" <<EOF
frames 2
key plus
key plus
key plus
key space
frames 20
expect n >0
key end
frames 1
expect n 1220
quit
EOF
(cd "$dir" && ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" \
	SDL_VIDEODRIVER=x11 timeout 60 xvfb-run -a -s "-screen 0 1440x600x24" \
	"$OLDPWD/$V" --compare "$OLDPWD/$A" "$OLDPWD/$P" --sync push \
	--size 1440x560 --script s.txt) >"$dir/w.out" 2>&1 || fail "window: $(cat "$dir/w.out")"
echo "compare: goldens, strip (messages $ma vs $mb, writev $wa vs $wb), GIF, bad input, window: ok"
