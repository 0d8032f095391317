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
# busy for 1 ms at the shown event, the same way; its third item sets
# net_msg_max to 2 from there on, the same way. A right click on a boat
# (msg 4, staged in TX's pipe behind Kharon) and its first item delay that
# message by 1 ms: W, check and run reproduce the fork, and Kharon, in the
# same batch, reaches net0 1 ms late too (a pipe is FIFO). The shipped
# 06-kharon-delay forks from 06-kharon where its delay applies; a delay
# that meets no message is refused by kharon check (one line, exit 2).
set -u
. "$(dirname "$0")/../lib.sh"
kh_init
V=$B/kharon-view
dir=$KH_TMP
fail() { echo "FAIL: $*"; exit 1; }
command -v xvfb-run >/dev/null || fail "xvfb-run missing (make deps)"

# view SUBDIR AT OUT: the viewer on 06-kharon at event AT under Xvfb,
# running SUBDIR/s.txt there (W writes into SUBDIR); its output to OUT.
view() {
	(cd "$dir/$1" && ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" \
		SDL_VIDEODRIVER=x11 timeout 60 \
		xvfb-run -a -s "-screen 0 1280x720x24" \
		"$OLDPWD/$V" --scenario "$OLDPWD/scenarios/06-kharon.json" \
		--at "$2" --script s.txt) >"$3" 2>&1 ||
		fail "window in $1: $(cat "$3")"
}

# replay SAVED NAME EVENTS AT: the scenario W saved passes kharon check,
# and kharon run of it gives EVENTS events (exported to $dir/NAME.jsonl),
# the same as 06-kharon's ($dir/o.jsonl) for the first AT.
replay() {
	"$K" check "$1" >/dev/null || fail "kharon check refuses $1"
	"$K" run "$1" --trace "$dir/$2.trace" >/dev/null
	"$K" trace export "$dir/$2.trace" >"$dir/$2.jsonl" || fail "export"
	[ "$(wc -l <"$dir/$2.jsonl")" -eq "$3" ] ||
		fail "kharon run of $1: $(wc -l <"$dir/$2.jsonl") events," \
			"the viewer showed $3"
	cmp -s <(head -n "$4" "$dir/o.jsonl") <(head -n "$4" "$dir/$2.jsonl") ||
		fail "$1 differs from 06-kharon before its moment ($4)"
}

"$K" run scenarios/06-kharon.json --trace "$dir/o.trace" >/dev/null || fail "06-kharon"
"$K" trace export "$dir/o.trace" >"$dir/o.jsonl" || fail "export"

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
view . 120 "$dir/w.out"
saved=$dir/06-kharon-what-if-1.json
[ -f "$saved" ] || fail "W wrote nothing: $(cat "$dir/w.out")"
shown=$(sed -n 's/.*forks at event 122 (\([0-9]*\) events now).*/\1/p' "$dir/w.out")
[ -n "$shown" ] || fail "no fork report: $(cat "$dir/w.out")"
replay "$saved" w "$shown" 120
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
view hold 120 "$dir/h.out"
held=$(sed -n 's/.*: \([a-z0-9]*\) is held busy for 1000 us at .*forks at event 120 (\([0-9]*\) events now).*/\1 \2/p' "$dir/h.out")
[ -n "$held" ] || fail "no hold report: $(cat "$dir/h.out")"
saved=$dir/hold/06-kharon-what-if-1.json
grep -q '"hold_cord"' "$saved" || fail "W did not write the hold: $(cat "$saved")"
replay "$saved" h "${held#* }" 120
grep -q '"ev":"cord.hold"' "$dir/h.jsonl" || fail "no cord.hold in the replay"
# A cord's menu, third item: net_msg_max = 2 from the shown event on.
mkdir -p "$dir/opt"
cat >"$dir/opt/s.txt" <<EOF
frames 2
rclick-on cord
frames 1
expect menu 1
menu 2
frames 2
expect menu 0
expect fork 120
expect interventions 1
key w
frames 2
quit
EOF
view opt 120 "$dir/p.out"
opt=$(sed -n 's/.*: net_msg_max = 2 from [0-9]* us on; the run forks at event 120 (\([0-9]*\) events now).*/\1/p' "$dir/p.out")
[ -n "$opt" ] || fail "no option report: $(cat "$dir/p.out")"
saved=$dir/opt/06-kharon-what-if-1.json
grep -q '"set_option"' "$saved" && grep -q '"net_msg_max"' "$saved" ||
	fail "W did not write the option: $(cat "$saved")"
replay "$saved" p "$opt" 120
grep -q '"ev":"server.option","name":"net_msg_max","value":2' "$dir/p.jsonl" ||
	fail "no server.option in the replay"
# A boat's menu: at event 35 msg 4 waits in TX's pipe to net0 behind
# Kharon (msg 3); delay it 1 ms.
mkdir -p "$dir/boat"
cat >"$dir/boat/s.txt" <<EOF
frames 2
rclick-on boat
frames 1
expect menu 1
expect sel boat
menu 0
frames 2
expect menu 0
expect fork 35
expect interventions 1
key w
frames 2
quit
EOF
view boat 35 "$dir/b.out"
boat=$(sed -n 's/.*: message 4 to net0 is delayed by 1000 us (pushed at 15167 us); the run forks at event 35 (\([0-9]*\) events now).*/\1/p' "$dir/b.out")
[ -n "$boat" ] || fail "no delay report: $(cat "$dir/b.out")"
saved=$dir/boat/06-kharon-what-if-1.json
grep -q '"delay_message"' "$saved" || fail "W did not write the delay: $(cat "$saved")"
replay "$saved" b "$boat" 35
grep -q '"ev":"cmsg.delay","msg":4,"to":"net0","n":2,"for_us":1000' "$dir/b.jsonl" ||
	fail "no cmsg.delay of msg 4 in the replay"
grep -q '"t":16170001,"cord":"net0","ev":"kharon.arrive","conn":1,"msg":3' "$dir/b.jsonl" ||
	fail "Kharon, in the held batch, did not arrive 1 ms late (FIFO)"
# The shipped delay: 06-kharon's golden event for event up to Kharon's
# first return, then cmsg.delay; its tour checks. A delay that meets no
# message (the moment after its push) is refused by kharon check.
"$K" check scenarios/06-kharon-delay.json | grep -q 'a tour of 5 stops' ||
	fail "06-kharon-delay does not check with its tour"
cmp -s <(head -n 42 tests/golden/06-kharon.jsonl) \
	<(head -n 42 tests/golden/06-kharon-delay.jsonl) ||
	fail "06-kharon-delay's golden differs from 06-kharon's before the delay"
sed -n 43p tests/golden/06-kharon-delay.jsonl |
	grep -q '"ev":"cmsg.delay","msg":3,"to":"tx","n":1,"for_us":3000' ||
	fail "06-kharon-delay's golden does not fork with cmsg.delay at event 43"
sed 's/"at_us": 15170, "do": "delay_message"/"at_us": 15171, "do": "delay_message"/' \
	scenarios/06-kharon-delay.json >"$dir/late.json"
"$K" check "$dir/late.json" >/dev/null 2>"$dir/err"
rc=$?
[ $rc -eq 2 ] && [ "$(wc -l <"$dir/err")" -eq 1 ] &&
	grep -qF 'interventions[0]: no batch holding message 3 is flushed to tx at or after 15171 us' "$dir/err" ||
	fail "a delay that meets no message: exit $rc, $(cat "$dir/err")"
echo "whatif: the menu and D fork at events 120/122 ($shown events), W -> check + run reproduce it; ${held% *} held 1 ms from its menu at event 120 (${held#* } events), W -> check + run reproduce it; net_msg_max 2 from the cord menu ($opt events) and a boat delayed 1 ms ($boat events, Kharon 1 ms late behind it), W -> check + run reproduce both; 06-kharon-delay forks at event 43, a delay meeting no message refused: ok"
