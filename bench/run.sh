#!/usr/bin/env bash
# make bench: kharon against a real Tarantool 2.6, side by side, honestly.
#
# Every measurement runs a FRESH server process (kharon serve, or tarantool
# running tests/interop/procs.lua) and a client in another process
# (kharon bench call / kharon bench push --target), so both servers start
# from the same state and never share a process with the load. The servers
# of one comparison are interleaved A B A B (A B C A B C for three), PAIRS
# rounds (default 5), each client run lasting RUN_SECONDS (default 1); the
# table gives the median and the min–max of each. Before every run the
# 1-minute load average is recorded: on a shared machine a figure taken
# under load is lower, and the CSV says so.
#
#   calls:   echo, 1 connection x 100 in flight and 10 x 10 (kharon bench call)
#   push:    push_stream (yields, bounded unsent output) at 8 B and 1 KiB on
#            1, 10, 100 connections; push (no yield, all buffered) on 1;
#            kharon with Kharon, with a message per push (per_push) and with
#            2 network cords (--iproto-threads 2) where noted
#   trace:   push_stream 8 B and 1 KiB, 1 connection: kharon serve with
#            --trace, without, and built with every TRACE site compiled out
#            (NOTRACE=build/notrace/kharon, which make bench builds); then
#            kharon trace bench (ns per event on the emitting cord), 3 runs
#   cbus:    kharon bench cbus (messages/s between two cords, batch 256)
#            against kharon bench ring (two spinning SPSC rings: the limit)
#
#   pinned:  calls and every push_stream row again
#            with the server on CPU 0 and the client on CPU 1 (taskset):
#            left to the scheduler, a run lands in one of two regimes
#            (TX sharing a core with the client or not) and a cell can move
#            by 2x; pinned, both servers get the same placement every run
#
#   loopback: the 1 KiB rows also run tests/tools/loopback, two threads
#            carrying 1 KiB-push-sized packets over one loopback TCP
#            connection and nothing else: the ceiling no server streams past
#
# Writes bench/results.md, bench/results.csv, bench/push.svg and
# bench/calls.svg (gnuplot). QUICK=1: one round of 0.3 s runs, for checking
# the tooling (its figures are not worth keeping). ONLY=REGEX: only the
# matrix lines whose "group|case" matches (e.g. ONLY='^calls' or
# ONLY='1KiB'), without the cbus and viewer parts; best with BENCH_OUT=DIR,
# since the table it writes has "–" for everything else. About 6 minutes
# on 2 cores with the defaults.
set -u
B=${B:-build/default}
. "$(dirname "$0")/../tests/lib.sh"
kh_init
if [ "${QUICK:-0}" = 1 ]; then
	PAIRS=${PAIRS:-1} RUN_SECONDS=${RUN_SECONDS:-0.3}
else
	PAIRS=${PAIRS:-5} RUN_SECONDS=${RUN_SECONDS:-1}
fi
OUT=${BENCH_OUT:-bench}
CSV=$OUT/results.csv
MD=$OUT/results.md
RAW=$KH_TMP/raw.csv
has_tt=0
command -v tarantool >/dev/null && has_tt=1
# Pinning needs two CPUs and taskset; a wrapper puts tarantool on CPU 0.
has_pin=0
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
	has_pin=1
	TT_CPU0=$KH_TMP/tarantool-cpu0
	printf '#!/bin/sh\nexec taskset -c 0 tarantool "$@"\n' >"$TT_CPU0"
	chmod +x "$TT_CPU0"
fi
NOTRACE=${NOTRACE:-}
has_notrace=0
[ -n "$NOTRACE" ] && [ -x "$NOTRACE" ] && has_notrace=1
TT_VERSION=$( ((has_tt)) && tarantool --version | head -1 | cut -d' ' -f2)
CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
[ -n "$CPU" ] || CPU=$(uname -m)
CORES=$(nproc)
DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
TTY=0
[ -t 2 ] && TTY=1

# ---- servers: a name says what to start -------------------------------
#   kharon          kharon serve
#   kharon_per_push kharon serve --push-mode per_push
#   kharon_2net     kharon serve --iproto-threads 2
#   kharon_trace    kharon serve --trace FILE
#   kharon_notrace  $NOTRACE serve: TRACE sites compiled out
#   NAME_pinned     NAME on CPU 0, its client on CPU 1 (kharon, tarantool)
#   tarantool       tarantool tests/interop/procs.lua
#   loopback        no server: tests/tools/loopback (measure() runs it)
start_server() {
	local pin=
	case $1 in
	*_pinned) pin="taskset -c 0" ;;
	esac
	case $1 in
	kharon_pinned) kh_start_server $pin "$K" serve --listen "127.0.0.1:@PORT@" ;;
	tarantool_pinned) KH_TARANTOOL=$TT_CPU0 \
		kh_start_tarantool tests/interop/procs.lua ;;
	kharon) kh_start_server "$K" serve --listen "127.0.0.1:@PORT@" ;;
	kharon_per_push) kh_start_server "$K" serve --listen "127.0.0.1:@PORT@" \
		--push-mode per_push ;;
	kharon_2net) kh_start_server "$K" serve --listen "127.0.0.1:@PORT@" \
		--iproto-threads 2 ;;
	kharon_trace) rm -f "$KH_TMP/bench.trace"*
		kh_start_server "$K" serve --listen "127.0.0.1:@PORT@" \
		--trace "$KH_TMP/bench.trace" ;;
	kharon_notrace) kh_start_server "$NOTRACE" serve \
		--listen "127.0.0.1:@PORT@" ;;
	tarantool) kh_start_tarantool tests/interop/procs.lua ;;
	*) return 1 ;;
	esac
}

label() {
	case $1 in
	kharon) echo "kharon" ;;
	kharon_per_push) echo "kharon, per_push" ;;
	kharon_2net) echo "kharon, 2 net cords" ;;
	kharon_trace) echo "kharon, tracing on" ;;
	kharon_notrace) echo "kharon, tracing compiled out" ;;
	kharon_pinned) echo "kharon, pinned" ;;
	tarantool_pinned) echo "Tarantool $TT_VERSION, pinned" ;;
	tarantool) echo "Tarantool $TT_VERSION" ;;
	loopback) echo "loopback ceiling" ;;
	esac
}

load1() { cut -d' ' -f1 /proc/loadavg; }

N_DONE=0
N_TOTAL=0
progress() {
	N_DONE=$((N_DONE + 1))
	local line
	line=$(printf '[%d/%d] %-28s %-16s %s' "$N_DONE" "$N_TOTAL" "$1" "$2" "$3")
	if ((TTY)); then printf '\r%-90s' "$line" >&2; else echo "$line" >&2; fi
}

# measure GROUP CASE SERVER -- CLIENT ARGS...: one fresh server, one client
# run against it; appends group,case,server,round,value,load to $RAW.
measure() {
	local group=$1 case=$2 server=$3 round=$4; shift 5
	local load v=
	load=$(load1)
	if [ "$server" = loopback ]; then
		v=$("$B/tests/tools/loopback" "$RUN_SECONDS" 2>>"$KH_TMP/client.log" |
		    awk '/^loopback_packets_per_s/ { print $2 }')
	elif start_server "$server"; then
		local pin=
		[[ $server = *_pinned ]] && pin="taskset -c 1"
		v=$($pin "$K" "$@" --target "127.0.0.1:$PORT" 2>>"$KH_TMP/client.log" |
		    awk '/_per_s/ { print $2; exit }')
		kh_stop_server >/dev/null 2>&1
		kh_forget "$PID"
	fi
	progress "$case" "$server" "${v:-failed}"
	[ -n "$v" ] && echo "$group,$case,$server,$round,$v,$load" >>"$RAW"
}

# skip SERVER: true when this machine cannot run it.
skip() {
	case $1 in
	tarantool) ((!has_tt)) ;;
	tarantool_pinned) ((!has_tt || !has_pin)) ;;
	kharon_pinned) ((!has_pin)) ;;
	kharon_notrace) ((!has_notrace)) ;;
	*) false ;;
	esac
}

# compare GROUP CASE "SERVERS" -- CLIENT ARGS...: PAIRS rounds, the servers
# interleaved within each round.
compare() {
	local group=$1 case=$2 servers=$3; shift 4
	local r s
	for ((r = 1; r <= PAIRS; r++)); do
		for s in $servers; do
			skip "$s" && continue
			measure "$group" "$case" "$s" "$r" -- "$@"
		done
	done
}

# The matrix: "group|case|servers|client args" per line.
S=$RUN_SECONDS
MATRIX="calls|echo 1x100|kharon tarantool kharon_2net kharon_pinned tarantool_pinned|bench call --conns 1 --inflight 100 --seconds $S
calls|echo 10x10|kharon tarantool kharon_2net kharon_pinned tarantool_pinned|bench call --conns 10 --inflight 10 --seconds $S
push|stream 8B 1c|kharon tarantool kharon_per_push kharon_pinned tarantool_pinned|bench push --proc push_stream --payload 8 --pushes 100000 --conns 1 --seconds $S
push|stream 1KiB 1c|kharon tarantool kharon_per_push loopback kharon_pinned tarantool_pinned|bench push --proc push_stream --payload 1024 --pushes 20000 --conns 1 --seconds $S
push|stream 8B 10c|kharon tarantool kharon_2net kharon_pinned tarantool_pinned|bench push --proc push_stream --payload 8 --pushes 10000 --conns 10 --seconds $S
push|stream 1KiB 10c|kharon tarantool kharon_2net loopback kharon_pinned tarantool_pinned|bench push --proc push_stream --payload 1024 --pushes 2000 --conns 10 --seconds $S
push|stream 8B 100c|kharon tarantool kharon_pinned tarantool_pinned|bench push --proc push_stream --payload 8 --pushes 1000 --conns 100 --seconds $S
push|stream 1KiB 100c|kharon tarantool loopback kharon_pinned tarantool_pinned|bench push --proc push_stream --payload 1024 --pushes 200 --conns 100 --seconds $S
push|push 8B 1c|kharon tarantool|bench push --proc push --payload 8 --pushes 200000 --conns 1
push|push 1KiB 1c|kharon tarantool|bench push --proc push --payload 1024 --pushes 20000 --conns 1
trace|stream 8B 1c|kharon_notrace kharon kharon_trace|bench push --proc push_stream --payload 8 --pushes 100000 --conns 1 --seconds $S
trace|stream 1KiB 1c|kharon_notrace kharon kharon_trace|bench push --proc push_stream --payload 1024 --pushes 20000 --conns 1 --seconds $S"

if [ -n "${ONLY:-}" ]; then
	MATRIX=$(awk -F'|' -v re="$ONLY" '($1 "|" $2) ~ re' <<<"$MATRIX")
	[ -n "$MATRIX" ] || { echo "bench: ONLY='$ONLY' matches nothing" >&2; exit 2; }
fi

while IFS='|' read -r _ _ servers _; do
	for s in $servers; do
		skip "$s" && continue
		N_TOTAL=$((N_TOTAL + PAIRS))
	done
done <<<"$MATRIX"

: >"$RAW"
while IFS='|' read -r group case servers args; do
	# shellcheck disable=SC2086  # args is a word list on purpose
	compare "$group" "$case" "$servers" -- $args
done <<<"$MATRIX"
((TTY)) && echo >&2

load_cbus=$(load1)
CBUS= RING=
if [ -z "${ONLY:-}" ]; then
CBUS=$("$K" bench cbus --batch 256 --seconds "$S" 2>/dev/null |
       awk '/^cbus_msgs_per_s/ { print $2 }')
# The rings spin: a descheduled side stalls the other, so on a loaded
# machine a run reads far low. The best of three is the limit's estimate.
RING=$(for _ in 1 2 3; do "$K" bench ring --seconds "$S" 2>/dev/null; done |
       awk '/^ring_msgs_per_s/ && $2 > best { best = $2 } END { print best }')
fi
# The emitting cord's cost per event and the writer thread's rate: the
# median (and min–max) of three runs of kharon trace bench.
EMIT= FLOOD=
if grep -q '^trace|' <<<"$MATRIX"; then
	load_emit=$(load1)
	for _ in 1 2 3; do "$K" trace bench 2>/dev/null; done >"$KH_TMP/trace_bench.txt"
	med3() { # med3 PATTERN: "median (min–max)" of the three values
		awk -v pat="$1" 'index($0, pat) == 1 { print $2 }' \
			"$KH_TMP/trace_bench.txt" | sort -g | awk '{ v[++n] = $1 }
			END { if (n) printf "%s (%s–%s)", v[int((n + 1) / 2)], v[1], v[n] }'
	}
	EMIT=$(med3 'trace_bench_emit_ns{sink="pump"}')
	FLOOD=$(med3 'trace_bench_flood_events_per_second{sink="pump"}' |
		awk '{ gsub(/[()–]/, " "); printf "%.1f M (%.1f–%.1f M)",
		       $1 / 1e6, $2 / 1e6, $3 / 1e6 }')
fi

# ---- statistics: median, min, max per (group, case, server) ------------
# stats.csv: group,case,server,n,median,min,max,load_min,load_max
sort -t, -k1,1 -k2,2 -k3,3 -k5,5g "$RAW" | awk -F, '
	function flush() {
		if (n == 0) return
		med = n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
		printf "%s,%d,%.0f,%.0f,%.0f,%.2f,%.2f\n", key, n, med, v[1], v[n], lmin, lmax
	}
	{
		k = $1 "," $2 "," $3
		if (k != key) { flush(); key = k; n = 0; lmin = 1e9; lmax = 0 }
		v[++n] = $5
		if ($6 < lmin) lmin = $6
		if ($6 > lmax) lmax = $6
	}
	END { flush() }' >"$KH_TMP/stats.csv"

{
	echo "# machine: $CORES cores, $CPU; $DATE; $PAIRS rounds of ${S} s"
	echo "group,case,server,round,value,load1"
	cat "$RAW"
} >"$CSV"

get() { # get GROUP CASE SERVER FIELD(5 median, 6 min, 7 max)
	awk -F, -v g="$1" -v c="$2" -v s="$3" -v f="$4" \
		'$1 == g && $2 == c && $3 == s { print $f }' "$KH_TMP/stats.csv"
}
fmt() { # a rate in k or M
	awk -v x="${1:-}" 'BEGIN {
		if (x == "") print "–"
		else if (x >= 1e6) printf "%.2f M", x / 1e6
		else printf "%.0f k", x / 1e3 }'
}
cell() { # median (min–max)
	local m lo hi
	m=$(get "$1" "$2" "$3" 5)
	[ -n "$m" ] || { echo "–"; return; }
	lo=$(get "$1" "$2" "$3" 6); hi=$(get "$1" "$2" "$3" 7)
	echo "$(fmt "$m") ($(fmt "$lo")–$(fmt "$hi"))"
}
ratio() {
	local a b
	a=$(get "$1" "$2" "$3" 5); b=$(get "$1" "$2" "$4" 5)
	awk -v a="${a:-0}" -v b="${b:-0}" 'BEGIN {
		if (a == 0 || b == 0) print "–"; else printf "%.2f", a / b }'
}
loads() {
	awk -F, -v g="$1" -v c="$2" '$1 == g && $2 == c {
		if (lo == "" || $8 < lo) lo = $8; if ($9 > hi) hi = $9 }
		END { printf "%.1f–%.1f", lo, hi }' "$KH_TMP/stats.csv"
}

{
	echo "# kharon benchmarks"
	echo
	echo "$DATE · $CORES cores · $CPU · Tarantool ${TT_VERSION:-absent} ·"
	echo "$PAIRS rounds per comparison, servers interleaved (A B A B), each run"
	echo "${S} s against a fresh server process, client in its own process."
	echo "Cells: median (min–max). Load: the 1-minute load average before the"
	echo "runs of that row (the machine is shared; a loaded run reads low)."
	echo
	echo "## Calls per second (kharon bench call, echo(7), pipelined)"
	echo
	echo "| workload | kharon | Tarantool | ratio | kharon, 2 net cords | load avg |"
	echo "|---|---|---|---|---|---|"
	while IFS='|' read -r group case servers _; do
		[ "$group" = calls ] || continue
		echo "| $case | $(cell calls "$case" kharon) |" \
		     "$(cell calls "$case" tarantool) |" \
		     "**$(ratio calls "$case" kharon tarantool)** |" \
		     "$(cell calls "$case" kharon_2net) | $(loads calls "$case") |"
	done <<<"$MATRIX"
	echo
	echo "## Pushes per second (kharon bench push)"
	echo
	echo "\`stream\`: push_stream (yields every ~128 KiB, waits while > 512 KiB"
	echo "is unsent); \`push\`: the non-yielding loop (everything buffered, then"
	echo "sent), one call, fresh processes. B = payload bytes, c = connections."
	echo
	echo "Loopback ceiling: tests/tools/loopback, 1068-byte packets (a 1 KiB"
	echo "push) between two threads over one loopback TCP connection, nothing"
	echo "else running; kharon / ceiling is the share of it kharon reaches."
	echo
	echo "| workload | kharon | Tarantool | ratio | kharon, per_push | kharon, 2 net cords | loopback ceiling | kharon / ceiling | load avg |"
	echo "|---|---|---|---|---|---|---|---|---|"
	while IFS='|' read -r group case servers _; do
		[ "$group" = push ] || continue
		echo "| $case | $(cell push "$case" kharon) |" \
		     "$(cell push "$case" tarantool) |" \
		     "**$(ratio push "$case" kharon tarantool)** |" \
		     "$(cell push "$case" kharon_per_push) |" \
		     "$(cell push "$case" kharon_2net) |" \
		     "$(cell push "$case" loopback) |" \
		     "$(ratio push "$case" kharon loopback) | $(loads push "$case") |"
	done <<<"$MATRIX"
	echo
	pinned_rows=$(while IFS='|' read -r group case servers _; do
		[[ " $servers " = *" kharon_pinned "* ]] || continue
		echo "| $case | $(cell "$group" "$case" kharon_pinned) |" \
		     "$(cell "$group" "$case" tarantool_pinned) |" \
		     "**$(ratio "$group" "$case" kharon_pinned tarantool_pinned)** |" \
		     "$(loads "$group" "$case") |"
	done <<<"$MATRIX")
	if [ -n "$pinned_rows" ]; then
		echo "## Pinned: the server on CPU 0, the client on CPU 1"
		echo
		echo "The same rows with \`taskset\`: the server's threads share one core,"
		echo "the client has the other. Left to the scheduler (the tables above) a"
		echo "run lands in one of two regimes — TX on the client's core or not —"
		echo "and a cell moves by up to 2×; pinned, every run of both servers has"
		echo "the same placement."
		echo
		echo "| workload | kharon, pinned | Tarantool, pinned | ratio | load avg |"
		echo "|---|---|---|---|---|"
		echo "$pinned_rows"
		echo
	fi
	echo "## Tracing (kharon serve --trace FILE vs without)"
	echo
	echo "Compiled out: the same server built with every TRACE site compiled to"
	echo "nothing (build/notrace); off: the shipped build without --trace; on:"
	echo "with --trace FILE (the per-thread rings and the writer thread)."
	echo
	echo "| workload | compiled out | off | on | off / compiled out | on / off | load avg |"
	echo "|---|---|---|---|---|---|---|"
	while IFS='|' read -r group case servers _; do
		[ "$group" = trace ] || continue
		echo "| $case | $(cell trace "$case" kharon_notrace) |" \
		     "$(cell trace "$case" kharon) |" \
		     "$(cell trace "$case" kharon_trace) |" \
		     "**$(ratio trace "$case" kharon kharon_notrace)** |" \
		     "**$(ratio trace "$case" kharon_trace kharon)** | $(loads trace "$case") |"
	done <<<"$MATRIX"
	if [ -n "$EMIT" ]; then
		echo
		echo "\`kharon trace bench\` (3 runs, median (min–max), load avg $load_emit):"
		echo "the emitting cord pays $EMIT ns per event (the four events"
		echo "of a push, timed in bursts of 1000); the writer thread numbers,"
		echo "encodes and writes $FLOOD events/s when a cord floods it."
	fi
	echo
	echo "What bounds the figures where kharon misses its targets — profiles,"
	echo "system calls per batch, the loopback ceiling: [bounds.md](bounds.md)."
	echo
	echo "## cbus"
	echo
	echo "Messages/s between the same two cords (load avg $load_cbus): cbus in"
	echo "batches of 256 (kharon bench cbus) $(fmt "$CBUS"); two plain SPSC rings,"
	echo "spinning, a batch per index publish (kharon bench ring, the physical"
	echo "limit, best of 3) $(fmt "$RING"); cbus / ring = $(awk -v a="${CBUS:-0}" -v b="${RING:-0}" \
		'BEGIN { if (b == 0) print "–"; else printf "%.2f", a / b }')."
	echo
	echo "Plots: [push.svg](push.svg), [calls.svg](calls.svg). Raw runs:"
	echo "[results.csv](results.csv)."
} >"$MD"

# ---- plots -------------------------------------------------------------
plot() { # plot GROUP FILE TITLE
	local data=$KH_TMP/$1.dat
	: >"$data"
	while IFS='|' read -r group case _ _; do
		[ "$group" = "$1" ] || continue
		printf '"%s"' "$case" >>"$data"
		for s in kharon tarantool; do
			local m lo hi
			m=$(get "$1" "$case" "$s" 5); lo=$(get "$1" "$case" "$s" 6)
			hi=$(get "$1" "$case" "$s" 7)
			printf ' %s %s %s' "${m:-0}" "${lo:-0}" "${hi:-0}" >>"$data"
		done
		echo >>"$data"
	done <<<"$MATRIX"
	gnuplot <<EOF
set terminal svg size 900,420 dynamic background rgb 'white'
set output '$2'
set title "$3 — $DATE, $CORES cores, $CPU" noenhanced
set style data histograms
set style histogram errorbars gap 1 lw 1
set style fill solid 0.7 border -1
set ylabel 'per second, log scale (median, bars: min–max)'
set logscale y
set format y '%.0s%c'
set yrange [1e4:*]
set xtics rotate by -20 noenhanced
set key top right
plot '$data' using 2:3:4:xtic(1) title 'kharon', \
     '' using 5:6:7 title 'Tarantool $TT_VERSION'
EOF
}
if command -v gnuplot >/dev/null; then
	plot push "$OUT/push.svg" "pushes/s" || echo "bench: gnuplot failed" >&2
	plot calls "$OUT/calls.svg" "calls/s (echo)" || echo "bench: gnuplot failed" >&2
else
	echo "bench: gnuplot missing (make deps installs gnuplot-nox): no plots" >&2
fi
# The viewer's figures, appended (bench/viewer.sh).
if [ -x "$B/kharon-view" ] && [ "${QUICK:-0}" = 0 ] && [ -z "${ONLY:-}" ]; then
	B=$B OUT=$MD bash bench/viewer.sh || echo "bench: viewer bench failed" >&2
fi
cat "$MD"
