#!/usr/bin/env bash
# tests/lib.sh — what the shell suites share: a temp dir removed on exit, a
# free loopback port, a server (kharon serve, tarantool with a script, or
# any command) started on it and stopped again.
#
#   . "$(dirname "$0")/../lib.sh"          from tests/suites/*.sh
#   kh_init                                 B, K, KH_TMP, cleanup on EXIT
#   kh_start_server "$K" serve --listen 127.0.0.1:@PORT@ || fail ...
#   ... talk to 127.0.0.1:$PORT, server $PID ...
#   kh_stop_server; rc=$?                   SIGTERM, SIGKILL after a time
#
# A picked port may be taken by someone else (the suites run side by side)
# before the server binds it: kh_start_server then sees the server die or
# not answer, kills it and tries again on another port. Every server started
# here is SIGKILLed by the EXIT trap if the suite did not stop it.
# Not a suite (tests/run.sh runs tests/suites/*.sh only); `bash tests/lib.sh`
# runs its own self-test.
#
# Knobs (set before the call): KH_LOG (server stdout+stderr, default
# $KH_TMP/server.log), KH_TRIES (starts, 5), KH_START_TIMEOUT (seconds to
# accept, 10), KH_STOP_TIMEOUT (seconds from SIGTERM to SIGKILL, 10),
# KH_TARANTOOL (the binary, tarantool).

KH_TMP=
KH_PIDS=()
PORT=
PID=
KH_WHY=
KH_KILLED=0
KH_TT_DIR=

# kh_init: B (the build tree, default build/default) and K ($B/kharon); a
# fresh temp dir in KH_TMP; on exit every server still running is killed
# and the dir removed.
kh_init() {
	B=${B:-build/default}
	K=$B/kharon
	KH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/kharon-test.XXXXXX") || exit 1
	trap kh_cleanup EXIT
}

kh_cleanup() {
	local p
	for p in "${KH_PIDS[@]}"; do
		if kill -0 "$p" 2>/dev/null; then
			kill -KILL "$p" 2>/dev/null
			wait "$p" 2>/dev/null
		fi
	done
	KH_PIDS=()
	[ -z "$KH_TMP" ] || rm -rf "$KH_TMP"
}

# kh_port_accepts PORT: 0 if something accepts on 127.0.0.1:PORT.
kh_port_accepts() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# kh_free_port: prints a loopback port nobody answers on; 1 if none found.
kh_free_port() {
	local p
	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % 40000))
		if ! kh_port_accepts "$p"; then
			echo "$p"; return 0
		fi
	done
	return 1
}

# kh_wait_up PID PORT [FILE]: waits until PORT accepts (and FILE exists, if
# given) while PID lives. 0 = up; 1 = died or timed out, KH_WHY says which.
kh_wait_up() {
	local pid=$1 port=$2 file=${3:-}
	local timeout=${KH_START_TIMEOUT:-10}
	local deadline=$((SECONDS + timeout))
	while :; do
		if ! kill -0 "$pid" 2>/dev/null; then
			KH_WHY="server exited before accepting on 127.0.0.1:$port"
			return 1
		fi
		if kh_port_accepts "$port" && { [ -z "$file" ] || [ -e "$file" ]; }; then
			return 0
		fi
		if [ "$SECONDS" -ge "$deadline" ]; then
			KH_WHY="127.0.0.1:$port not accepting after ${timeout}s"
			return 1
		fi
		sleep 0.05
	done
}

# One start on a new port: CMD with @PORT@ replaced, in dir KH_CWD (if
# set), output to KH_LOG; up within the timeout, or killed. Sets PORT, PID.
kh_try_start() {
	PORT=$(kh_free_port) || { KH_WHY="no free loopback port"; return 1; }
	local cmd=("${@//@PORT@/$PORT}")
	(
		[ -z "${KH_CWD:-}" ] || cd "$KH_CWD" || exit 126
		exec "${cmd[@]}"
	) >"${KH_LOG:-$KH_TMP/server.log}" 2>&1 &
	PID=$!
	KH_PIDS+=("$PID")
	kh_wait_up "$PID" "$PORT" "${KH_READY:-}" && return 0
	kill -KILL "$PID" 2>/dev/null
	wait "$PID" 2>/dev/null
	kh_forget "$PID"
	PID= PORT=
	return 1
}

# kh_forget PID: the EXIT trap no longer kills PID (reaped: it may be reused).
kh_forget() {
	local p rest=()
	for p in "${KH_PIDS[@]}"; do
		[ "$p" = "$1" ] || rest+=("$p")
	done
	KH_PIDS=("${rest[@]}")
}

# kh_start_server CMD...: starts CMD in the background on a free loopback
# port (every "@PORT@" in its arguments becomes the port) and waits until
# it accepts; retries on other ports (KH_TRIES). Sets PORT and PID; 0 = up,
# 1 = it never came up (KH_WHY says why, KH_LOG holds the last output).
kh_start_server() {
	local i
	for ((i = 0; i < ${KH_TRIES:-5}; i++)); do
		kh_try_start "$@" && return 0
	done
	return 1
}

# kh_start_tarantool SCRIPT [--ready]: tarantool runs SCRIPT with LISTEN
# (host:port) and WORK_DIR (KH_TT_DIR, fresh for every try, also its
# current dir) in the environment. With --ready it is up only once SCRIPT
# has created $WORK_DIR/ready (box.cfg listens before the rest of a script
# runs). Sets PORT, PID and KH_TT_DIR; returns as kh_start_server.
kh_start_tarantool() {
	local script ready= i
	script=$(realpath "$1") || return 1
	[ "${2:-}" != --ready ] || ready=1
	KH_TT_DIR=$KH_TMP/tarantool
	for ((i = 0; i < ${KH_TRIES:-5}; i++)); do
		rm -rf "$KH_TT_DIR"
		mkdir -p "$KH_TT_DIR"
		KH_CWD=$KH_TT_DIR KH_READY=${ready:+$KH_TT_DIR/ready} \
			kh_try_start env LISTEN=127.0.0.1:@PORT@ \
			WORK_DIR="$KH_TT_DIR" "${KH_TARANTOOL:-tarantool}" "$script" &&
			return 0
	done
	return 1
}

# kh_stop_server [PID]: SIGTERM, then SIGKILL if PID (default $PID) still
# runs after KH_STOP_TIMEOUT seconds (KH_KILLED=1 then). Returns its exit
# status (137 if killed).
kh_stop_server() {
	local pid=${1:-$PID} status
	local deadline=$((SECONDS + ${KH_STOP_TIMEOUT:-10}))
	KH_KILLED=0
	kill -TERM "$pid" 2>/dev/null
	while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do
		sleep 0.05
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
		KH_KILLED=1
	fi
	wait "$pid"
	status=$?
	kh_forget "$pid"
	return "$status"
}

# ------------------------------------------------------------- self-test
# bash tests/lib.sh: the functions above against a tiny Python listener.
kh_self_test() {
	local bad=0 srv port rc
	check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; bad=1; fi; }
	kh_init
	# listens on argv[1], exits with argv[2] on SIGTERM (ignores it if -1);
	# "PORT hold FILE" only binds PORT, then creates FILE and sleeps
	srv=$KH_TMP/srv.py
	cat >"$srv" <<'PY'
import signal, socket, sys, time
s = socket.socket()
if sys.argv[2] != 'hold':
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', int(sys.argv[1])))
if sys.argv[2] == 'hold':
    open(sys.argv[3], 'w').close()
    time.sleep(60)
s.listen()
code = int(sys.argv[2])
signal.signal(signal.SIGTERM, signal.SIG_IGN if code < 0 else lambda *a: sys.exit(code))
while True:
    time.sleep(1)
PY
	port=$(kh_free_port)
	check "free port is a number" '[[ "$port" =~ ^[0-9]+$ ]]'
	check "free port is free" '! kh_port_accepts "$port"'

	kh_start_server python3 "$srv" @PORT@ 3
	check "server up" 'kh_port_accepts "$PORT"'
	kh_stop_server; rc=$?
	check "stop returns the exit status" '[ "$rc" -eq 3 ]'
	check "stop did not kill" '[ "$KH_KILLED" -eq 0 ]'
	check "stopped server forgotten" '[ "${#KH_PIDS[@]}" -eq 0 ]'

	# A lost race: someone binds the port offered first (bound, not yet
	# listening: it looks free), the server dies on it, the next try wins.
	local taken saved
	taken=$(kh_free_port)
	python3 "$srv" "$taken" hold "$KH_TMP/held" &
	local holder=$!
	while [ ! -e "$KH_TMP/held" ]; do sleep 0.05; done
	saved=$(declare -f kh_free_port)
	eval "${saved/kh_free_port/kh_real_free_port}"
	# (called in $(...): the count of offers lives in a file)
	kh_free_port() {
		echo x >>"$KH_TMP/offers"
		if [ "$(wc -l <"$KH_TMP/offers")" -eq 1 ]; then echo "$taken"
		else kh_real_free_port; fi
	}
	kh_start_server python3 "$srv" @PORT@ 0
	n=$(wc -l <"$KH_TMP/offers")
	check "retried after a lost port race ($n offers)" '[[ $n -eq 2 && $PORT -ne $taken ]]'
	eval "$saved"
	kill "$holder"; wait "$holder" 2>/dev/null
	kh_stop_server; rc=$?
	check "the second try is the server" '[ "$rc" -eq 0 ]'

	KH_STOP_TIMEOUT=1 kh_start_server python3 "$srv" @PORT@ -1
	KH_STOP_TIMEOUT=1 kh_stop_server; rc=$?
	check "SIGKILL after the timeout" '[[ $rc -eq 137 && $KH_KILLED -eq 1 ]]'

	KH_TRIES=2 kh_start_server false; rc=$?
	check "a server that dies is not up" '[ "$rc" -eq 1 ]'
	check "why it is not up" '[[ "$KH_WHY" == *"exited before accepting"* ]]'
	check "no server left behind" '[[ -z $PID && ${#KH_PIDS[@]} -eq 0 ]]'

	if command -v "${KH_TARANTOOL:-tarantool}" >/dev/null; then
		cat >"$KH_TMP/tt.lua" <<'LUA'
box.cfg{listen = os.getenv('LISTEN'), work_dir = os.getenv('WORK_DIR'),
        log = 'tarantool.log'}
io.open(os.getenv('WORK_DIR') .. '/ready', 'w'):close()
LUA
		kh_start_tarantool "$KH_TMP/tt.lua" --ready
		check "tarantool up" '[[ -e $KH_TT_DIR/ready ]] && kh_port_accepts "$PORT"'
		check "tarantool runs in its work dir" '[ -e "$KH_TT_DIR/tarantool.log" ]'
		kh_stop_server; rc=$?
		check "tarantool stops on SIGTERM" '[ "$rc" -eq 0 ]'
	fi

	kh_start_server python3 "$srv" @PORT@ -1
	kh_cleanup
	check "cleanup kills what runs" '! kill -0 "$PID" 2>/dev/null'
	check "cleanup removes the temp dir" '[ ! -e "$KH_TMP" ]'
	return $bad
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -u
	kh_self_test
	exit $?
fi
