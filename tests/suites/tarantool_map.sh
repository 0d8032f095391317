#!/usr/bin/env bash
# docs/tarantool-map.md stays true, and src/ points only inside the repo.
#
# The map's table pairs kharon's `file:function` (first column) with
# Tarantool's (second column, version in the third). This suite checks:
#   1. every kharon name exists: the file is in the repository and defines
#      the function (a definition, not just a prototype) or the struct;
#   2. every Tarantool function of a row is named in the kharon function's
#      file or in a header of src/ declaring that function — the comment a
#      reader looks for ("tx_kharon_depart — Tarantool's tx_begin_push");
#   3. every hop of the server's routes (CMSG_HOP in iproto_server.c) is a
#      row of the map, and so is each Tarantool function of issue 8's list;
#   4. no file under src/ or tests/ (but this one) points at the research
#      notes outside the repository, and every "docs/NAME.md §N" they cite
#      exists with that numbered section;
#   5. only when a Tarantool checkout is at hand (never in CI, which has the
#      base image only): every Tarantool name exists at the row's version
#      (TARANTOOL_GIT and SMALL_GIT: git dirs of tarantool/tarantool and
#      tarantool/small; defaults are the local mirrors if present).
# Called by tests/run.sh; exit 0 = pass, 1 = something is wrong (each
# problem on its own line).
set -u
cd "$(dirname "$0")/../.."
map=docs/tarantool-map.md
fail=0
problem() { echo "tarantool_map: $*" >&2; fail=1; }
[ -f "$map" ] || { problem "$map is missing"; exit 1; }

# The table rows: lines starting "| `". Columns split on " | ".
rows=$(grep -E '^\| `' "$map")

# refs CELL: one "path:name" per line for each `path:name` in the cell.
refs() {
	grep -oE '`[A-Za-z0-9_./-]+:(struct )?[A-Za-z_][A-Za-z0-9_]*`' <<<"$1" |
		tr -d '`'
}

# Checks 1-3 in one awk pass (the machine is shared: few processes).
# Prints problems, then a last line "COUNTS rows kharon named".
out=$(awk -F' [|] ' -v hdrs="$(echo src/*/*.h)" \
	-v hops="$(grep -oE 'CMSG_HOP\([a-z_]+' src/iproto/iproto_server.c | sed 's/CMSG_HOP(//' | sort -u | tr '\n' ' ')" '
function load(f,   line, n) {
	if (f in nlines) return nlines[f]
	n = 0
	while ((getline line < f) > 0) L[f, ++n] = line
	close(f)
	nlines[f] = n
	return n
}
function exists(f,   line, r) {
	r = (getline line < f)
	close(f)
	return r >= 0
}
# refs(cell, arr): the `path:name` of a cell into arr[1..n]; returns n.
function refs(cell, arr,   n, m) {
	n = 0
	while (match(cell, /`[A-Za-z0-9_.\/-]+:(struct )?[A-Za-z_][A-Za-z0-9_]*`/)) {
		arr[++n] = substr(cell, RSTART + 1, RLENGTH - 2)
		cell = substr(cell, RSTART + RLENGTH)
	}
	return n
}
function defines(f, name,   n, i, j, b, s, re) {
	n = load(f)
	if (name ~ /^struct /) {
		for (i = 1; i <= n; i++)
			if (L[f, i] == name " {" || L[f, i] == name) return 1
		return 0
	}
	re = "^([A-Za-z_][A-Za-z0-9_ ]*[ *])?" name "[(]"
	for (i = 1; i <= n; i++) {
		if (L[f, i] ~ ("^#define " name "[(]")) return 1
		if (L[f, i] !~ re) continue
		for (j = i; j <= n; j++) {
			b = index(L[f, j], "{"); s = index(L[f, j], ";")
			if (b > 0 && (s == 0 || b < s)) return 1
			if (s > 0) break
		}
	}
	return 0
}
function names(f, t,   n, i, re) {
	n = load(f)
	re = "(^|[^A-Za-z0-9_])" t "([^A-Za-z0-9_]|$)"
	for (i = 1; i <= n; i++) if (L[f, i] ~ re) return 1
	return 0
}
function declares(h, name,   n, i, re) {
	n = load(h)
	re = "(^|[ *])" name "[(]"
	for (i = 1; i <= n; i++) if (L[h, i] ~ re) return 1
	return 0
}
/^[|] `/ {
	rows++
	kcell = substr($1, 3)
	nk = refs(kcell, K)
	nt = refs($2, T)
	if (nk == 0) { print "row without a kharon name: " $0; next }
	for (k = 1; k <= nk; k++) {
		ref = K[k]; f = ref; sub(/:.*/, "", f); name = ref; sub(/^[^:]*:/, "", name)
		kharon++
		inmap[name] = 1
		if (!exists(f)) { print ref ": no file " f; continue }
		if (!defines(f, name)) { print ref ": " f " does not define " name; continue }
		if (name ~ /^struct /) continue
		for (t = 1; t <= nt; t++) {
			tn = T[t]; sub(/^[^:]*:/, "", tn)
			if (tn ~ /^struct /) continue
			ok = names(f, tn)
			for (h = 1; !ok && h <= nh; h++)
				if (declares(H[h], name) && names(H[h], tn)) ok = 1
			if (ok) named++
			else print ref ": Tarantool\047s " tn " is not named in " f "\047s comments (or its header\047s)"
		}
	}
}
BEGIN { nh = split(hdrs, H, " ") }
END {
	n = split(hops, P, " ")
	if (n == 0) print "no CMSG_HOP in src/iproto/iproto_server.c"
	for (i = 1; i <= n; i++) if (!(P[i] in inmap)) print "route hop " P[i] " is not in the map"
	if (rows == 0) print "no rows in the map"
	print "COUNTS " rows + 0 " " kharon + 0 " " named + 0
}' "$map")
counts=$(tail -n 1 <<<"$out")
while IFS= read -r l; do problem "$l"; done < <(sed '$d' <<<"$out")
read -r _ n_rows n_kharon n_named <<<"$counts"

# The Tarantool functions a reader of iproto.cc looks for first (issue 8's
# list) each have a row.
for t in tx_begin_push iproto_process_push tx_end_push iproto_session_push \
	 iproto_enqueue_batch iproto_connection_on_input \
	 iproto_connection_input_buffer iproto_flush \
	 iproto_connection_on_output iproto_prepare_select iproto_reply_select \
	 iproto_reply_chunk iproto_check_msg_max \
	 iproto_connection_stop_msg_max_limit iproto_resume \
	 iproto_connection_is_idle iproto_connection_try_to_start_destroy \
	 iproto_connection_close net_send_msg net_send_greeting \
	 net_finish_destroy net_discard_input tx_process_connect \
	 tx_process_call tx_accept_wpos tx_reply_error cpipe_push \
	 cpipe_flush_input cbus_endpoint_fetch cmsg_deliver \
	 xrow_header_decode xrow_decode_call iproto_reply_error \
	 port_c_dump_msgpack port_c_dump_msgpack_16 port_lua_dump_16 \
	 luamp_encode_call_16 ibuf_reserve obuf_reserve; do
	grep -qE "^\\| \`[^|]*\\| [^|]*:${t}\`" "$map" ||
		problem "Tarantool's $t has no row in $map"
done

# References resolve inside the repository.
self=tests/suites/tarantool_map.sh
bad=$(grep -rnE 'research/|research §|/work/shared|reliability[- ]anchors' src tests \
	--exclude-dir=golden --exclude-dir=corpus | grep -v "^$self:")
if [ -n "$bad" ]; then
	while IFS= read -r l; do problem "points outside the repository: $l"; done <<<"$bad"
fi
n_cites=0
while IFS= read -r cite; do
	doc=${cite%% §*} sec=${cite##* §}
	n_cites=$((n_cites + 1))
	if [ ! -f "$doc" ]; then problem "cited $doc does not exist"; continue; fi
	[ "$doc" = "$cite" ] && continue
	grep -qE "^#+ ${sec//./\\.}[. ]" "$doc" || problem "cited $cite: no section $sec in $doc"
done < <(grep -rhoE 'docs/[a-z-]+\.md( §[0-9]+(\.[0-9]+)?)?' src tests \
	--exclude-dir=golden --exclude-dir=corpus | sort -u)

# The Tarantool side, only against a local checkout.
tt_git=${TARANTOOL_GIT:-/work/.mirror/tarantool+tarantool/repo}
small_git=${SMALL_GIT:-/work/.mirror/tarantool+small/repo}
n_tt=0
if git --git-dir="$tt_git" rev-parse -q --verify 2.6.0 >/dev/null 2>&1; then
	small_rev=fcac155dba18e97b10bc668d1a2fae01184adc13
	small_ok=0
	git --git-dir="$small_git" cat-file -e "$small_rev" 2>/dev/null && small_ok=1
	tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
	# "rev file name" for every Tarantool name (small's files are small/
	# in its own repository; libev is third_party/libev in Tarantool's).
	awk -F' [|] ' -v small="$small_rev" '
	/^[|] `/ {
		v = $3
		if (v == "2.6") r = "2.6.0"; else if (v == "2.8") r = "2.8.1"
		else if (v == "2.8.3") r = "2.8.3"; else if (v == "2.10") r = "2.10.0"
		else if (v == "small") r = small
		else { print "BAD " v; next }
		cell = $2
		while (match(cell, /`[A-Za-z0-9_.\/-]+:(struct )?[A-Za-z_][A-Za-z0-9_]*`/)) {
			ref = substr(cell, RSTART + 1, RLENGTH - 2)
			cell = substr(cell, RSTART + RLENGTH)
			f = ref; sub(/:.*/, "", f); name = ref; sub(/^[^:]*:/, "", name)
			print r " " f " " name
		}
	}' "$map" >"$tmp/names"
	while read -r rev file _; do
		[ "$rev" = BAD ] && { problem "unknown version '$file' in $map"; continue; }
		[ "$rev" = "$small_rev" ] && { [ $small_ok = 1 ] || continue; g=$small_git; } || g=$tt_git
		out=$tmp/$(tr '/:' '__' <<<"$rev:$file")
		[ -f "$out" ] || git --git-dir="$g" show "$rev:$file" >"$out" 2>/dev/null ||
			{ problem "Tarantool $rev has no $file"; : >"$out"; }
	done < <(sort -u -k1,2 "$tmp/names")
	res=$(awk -v dir="$tmp" -v small="$small_rev" -v small_ok=$small_ok '
	$1 == "BAD" { next }
	$1 == small && !small_ok { next }
	{
		rev = $1; file = $2; name = $3; for (i = 4; i <= NF; i++) name = name " " $i
		f = rev ":" file; gsub(/[\/:]/, "_", f); f = dir "/" f
		n++
		if (name ~ /^struct /) re = "^" name "( [{])?$"
		else re = "^([A-Za-z_][A-Za-z0-9_ *]*[ *])?" name " ?[(]"
		found = 0
		while ((getline line < f) > 0) if (line ~ re) { found = 1; break }
		close(f)
		if (!found) print "Tarantool " rev ": " file " has no " name
	}
	END { print "COUNT " n + 0 }' "$tmp/names")
	while IFS= read -r l; do problem "$l"; done < <(sed '$d' <<<"$res")
	n_tt=$(tail -n 1 <<<"$res" | sed 's/COUNT //')
	tt_note="$n_tt Tarantool names looked up at their versions"
else
	tt_note="Tarantool names not checked (no checkout at $tt_git)"
fi

echo "tarantool_map: $n_rows rows, $n_kharon kharon names checked," \
     "$n_named Tarantool names found in kharon's comments, $n_cites docs" \
     "citations; $tt_note"
exit $fail
