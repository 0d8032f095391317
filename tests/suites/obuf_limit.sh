#!/usr/bin/env bash
# --obuf-limit is a hard bound on the output a connection holds, on real
# threads: a client that never reads calls push(100000, <65 000 bytes>)
# against `kharon serve --obuf-limit 1048576`. Before the bound was checked
# in TX, where output is made (tx_output_check, src/box/tx.c), this grew the
# server by gigabytes while the push loop ran. Now the push that would go
# past the limit fails, the connection is closed, and the server's resident
# memory grows by about the limit plus one packet. A bystander is served
# meanwhile. Also: --obuf-soft-limit is parsed and documented by --help.
#
# Called by tests/run.sh with B set; exit 0 = pass.
set -u
. "$(dirname "$0")/../lib.sh"
kh_init
fail() { echo "FAIL obuf_limit: $*"; [ -f "$KH_TMP/server.log" ] &&
	sed 's/^/    /' "$KH_TMP/server.log"; exit 1; }

"$K" serve --help | grep -q -- "--obuf-soft-limit BYTES:SECONDS" ||
	fail "serve --help does not document --obuf-soft-limit"
"$K" serve --obuf-soft-limit 10 2>/dev/null; rc=$?
[ $rc -eq 2 ] || fail "--obuf-soft-limit without :SECONDS: exit $rc, expected 2"

kh_start_server "$K" serve --listen "127.0.0.1:@PORT@" --obuf-limit 1048576 \
	--obuf-soft-limit 65536:30 || fail "server did not start: $KH_WHY"
# VmHWM: the peak resident size, so memory freed at close still counts.
rss() { awk '/^VmHWM:/ {print $2}' "/proc/$PID/status"; }
before=$(rss)

# CALL push(100000, <65 000 x 'a'>), sync 1, by hand: a 5-byte length
# prefix (65 022 bytes follow), header {type: CALL, sync: 1}, body
# {function: "push", tuple: [100000, str16 of 65 000 bytes]}.
{
	printf '\xce\x00\x00\xfd\xfe'
	printf '\x82\x00\x0a\x01\x01'
	printf '\x82\x22\xa4push\x21\x92\xce\x00\x01\x86\xa0\xda\xfd\xe8'
	head -c 65000 /dev/zero | tr '\0' a
} >"$KH_TMP/call"
[ "$(stat -c %s "$KH_TMP/call")" -eq 65027 ] || fail "bad request file"

# The client writes its call and then never reads (until it is closed).
exec 3<>"/dev/tcp/127.0.0.1/$PORT" || fail "cannot connect"
cat "$KH_TMP/call" >&3
for _ in $(seq 1 100); do
	grep -q "holds more output than obuf_limit" "$KH_TMP/server.log" && break
	sleep 0.1
done
grep -q "holds more output than obuf_limit" "$KH_TMP/server.log" ||
	fail "the client that never reads was not closed within 10 s"
after=$(rss)
grown=$(( (after - before) / 1024 ))
echo "obuf_limit: a client that never reads was closed; server peak RSS" \
     "${before} kB -> ${after} kB (+${grown} MiB, limit 1 MiB)"
# Limit plus one packet, plus what the allocator and the socket take.
[ "$grown" -le 24 ] || fail "the server grew by $grown MiB"
exec 3>&-

"$K" call "127.0.0.1:$PORT" echo '["bystander"]' >"$KH_TMP/echo" ||
	fail "a bystander was not served"
grep -q bystander "$KH_TMP/echo" || fail "bystander: $(cat "$KH_TMP/echo")"
kh_stop_server || fail "server did not stop cleanly"
echo "obuf_limit: bystander served, clean stop"
