#!/usr/bin/env bash
# Install the Debian packages kharon needs (DESIGN.md §12), only those missing.
# As root: apt-get directly; otherwise through sudo; otherwise print the line
# to run and fail.
set -euo pipefail
pkgs=(pkg-config libev-dev libmsgpack-dev libcjson-dev zlib1g-dev
      libsdl2-dev libsdl2-ttf-dev libsdl2-image-dev fonts-dejavu-core libgif-dev libcriterion-dev
      tarantool gnuplot-nox clang libclang-rt-14-dev xvfb xauth jq)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}"
line="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then sudo=""
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo"
else
	echo "deps: missing packages; run as root:" >&2
	echo "  apt-get update && $line" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1 || {
	$sudo apt-get update -q >/dev/null
	$sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}
