#!/usr/bin/env bash
# What if, in the viewer: under Xvfb, a right click on a client opens the
# what-if menu and its first item forks the run; a client is selected and
# R / D fork
# the run of 06-kharon at the shown event (the fork marked, the
# interventions counted), W writes the scenario with its interventions;
# `kharon check` accepts the file and `kharon run` on it gives a trace of
# exactly as many events as the forked run the viewer showed, identical to
# 06-kharon's before the moment; the shipped 06-kharon-what-if checks and
# runs clean. A right click on a server cord and its first item hold it
# busy for 1 ms at the shown event, the same way.
set -u
. "$(dirname "$0")/../lib.sh"
kh_init
V=$B/kharon-view
dir=$KH_TMP
fail() { echo "FAIL: $*"; exit 1; }
command -v xvfb-run >/dev/null || fail "xvfb-run missing (make deps)"

"$K" run scenarios/06-kharon-what-if.json >/dev/null || fail "06-kharon-what-if fails"
cat >"$dir/s.txt" <<EOF
frames 2
expect fork 0
rclick-on client
frames 1
expect menu 1
expect sel client
menu 0
frames 2
expect menu 0
expect fork 120
expect interventions 1
key right
key right
key d
frames 2
expect fork 122
expect interventions 2
key w
frames 2
quit
EOF
(cd "$dir" && ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" \
	SDL_VIDEODRIVER=x11 timeout 60 xvfb-run -a -s "-screen 0 1280x720x24" \
	"$OLDPWD/$V" --scenario "$OLDPWD/scenarios/06-kharon.json" --at 120 \
	--script s.txt) >"$dir/w.out" 2>&1 || fail "window: $(cat "$dir/w.out")"
saved=$dir/06-kharon-what-if-1.json
[ -f "$saved" ] || fail "W wrote nothing: $(cat "$dir/w.out")"
shown=$(sed -n 's/.*forks at event 122 (\([0-9]*\) events now).*/\1/p' "$dir/w.out")
[ -n "$shown" ] || fail "no fork report: $(cat "$dir/w.out")"
"$K" check "$saved" >/dev/null || fail "kharon check refuses the saved file"
"$K" run "$saved" --trace "$dir/w.trace" >/dev/null
"$K" trace export "$dir/w.trace" >"$dir/w.jsonl" || fail "export"
[ "$(wc -l <"$dir/w.jsonl")" -eq "$shown" ] ||
	fail "kharon run: $(wc -l <"$dir/w.jsonl") events, the viewer showed $shown"
"$K" run scenarios/06-kharon.json --trace "$dir/o.trace" >/dev/null || fail "06-kharon"
"$K" trace export "$dir/o.trace" >"$dir/o.jsonl" || fail "export"
cmp -s <(head -n 120 "$dir/o.jsonl") <(head -n 120 "$dir/w.jsonl") ||
	fail "the fork differs from 06-kharon before its moment"
cmp -s "$dir/o.jsonl" "$dir/w.jsonl" && fail "the fork is 06-kharon itself"
# A server cord's menu: hold it busy for 1 ms at event 120, W, replay.
mkdir -p "$dir/hold"
cat >"$dir/hold/s.txt" <<EOF
frames 2
rclick-on cord
frames 1
expect menu 1
expect sel cord
menu 0
frames 2
expect menu 0
expect fork 120
expect interventions 1
key w
frames 2
quit
EOF
(cd "$dir/hold" && ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" \
	SDL_VIDEODRIVER=x11 timeout 60 xvfb-run -a -s "-screen 0 1280x720x24" \
	"$OLDPWD/$V" --scenario "$OLDPWD/scenarios/06-kharon.json" --at 120 \
	--script s.txt) >"$dir/h.out" 2>&1 || fail "hold window: $(cat "$dir/h.out")"
held=$(sed -n 's/.*: \([a-z0-9]*\) is held busy for 1000 us at .*forks at event 120 (\([0-9]*\) events now).*/\1 \2/p' "$dir/h.out")
[ -n "$held" ] || fail "no hold report: $(cat "$dir/h.out")"
saved=$dir/hold/06-kharon-what-if-1.json
grep -q '"hold_cord"' "$saved" || fail "W did not write the hold: $(cat "$saved")"
"$K" check "$saved" >/dev/null || fail "kharon check refuses the saved hold"
"$K" run "$saved" --trace "$dir/h.trace" >/dev/null
"$K" trace export "$dir/h.trace" >"$dir/h.jsonl" || fail "export"
[ "$(wc -l <"$dir/h.jsonl")" -eq "${held#* }" ] ||
	fail "kharon run: $(wc -l <"$dir/h.jsonl") events, the viewer showed ${held#* }"
cmp -s <(head -n 120 "$dir/o.jsonl") <(head -n 120 "$dir/h.jsonl") ||
	fail "the hold differs from 06-kharon before its moment"
grep -q '"ev":"cord.hold"' "$dir/h.jsonl" || fail "no cord.hold in the replay"
echo "whatif: the menu and D fork at events 120/122 ($shown events), W -> check + run reproduce it; ${held% *} held 1 ms from its menu at event 120 (${held#* } events), W -> check + run reproduce it: ok"
