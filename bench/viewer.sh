#!/usr/bin/env bash
# make bench, the viewer's part: appends a "viewer" section to
# bench/results.md. A scenario asking for 200 000 pushes in one call is run
# on the simulator into a trace of about a million events; kharon-view then
# reports the time to open it (read, model, invariant checker), memory per
# event, seek time (200 random seeks), and frames per second playing it at
# 1920x1080 off-screen and in a real window under Xvfb with SDL's software
# renderer. Figures, never pass/fail (DESIGN.md §13: open <= 1.5 s,
# <= 200 B/event, >= 60 fps, seek <= 50 ms).
set -u
B=${B:-build/default}
K=$B/kharon
V=$B/kharon-view
out=${OUT:-bench/results.md}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kharon-view-bench.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/big.json" <<'JSON'
{ "name": "bench-view", "title": { "en": "viewer benchmark", "ru": "замер просмотрщика" },
  "clients": [ { "name": "c", "steps": [
    { "call": { "function": "push", "args": [200000, "x"] } } ] } ] }
JSON
"$K" run "$tmp/big.json" --trace "$tmp/big.trace" >/dev/null || { echo "viewer bench: run failed" >&2; exit 1; }
size=$(stat -c %s "$tmp/big.trace")
{
	echo
	echo "## viewer (kharon-view --bench, $(date -u '+%Y-%m-%d %H:%M UTC'))"
	echo
	echo "A trace of $size bytes from one call asking for 200 000 pushes (simulator)."
	echo
	echo '```'
	"$V" "$tmp/big.trace" --bench headless --size 1920x1080
	if command -v xvfb-run >/dev/null; then
		SDL_VIDEODRIVER=x11 SDL_RENDER_DRIVER=software xvfb-run -a \
			-s "-screen 0 1920x1080x24" "$V" "$tmp/big.trace" \
			--bench window --size 1920x1080 | grep '^view_fps'
	fi
	echo '```'
} | tee -a "$out"
