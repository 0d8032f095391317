#!/usr/bin/env bash
# The fuzz targets' seed corpora, replayed once each (`make fuzz-smoke`):
# builds build/fuzz with clang (-fsanitize=fuzzer,address,undefined; clang
# and libclang-rt-14-dev come with `make deps`) and runs every input of
# tests/fuzz/corpus/<target>/ through its target. A crash, a sanitizer
# report or a failed FUZZ_CHECK on any seed fails the suite. Long runs are
# `make fuzz` (tests/fuzz/README.md), not part of `make test`.
set -u
cd "$(dirname "$0")/../.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! make --no-print-directory fuzz-build >"$log" 2>&1; then
	tail -n 40 "$log"
	echo "FAIL: make fuzz-build"
	exit 1
fi
bash tests/fuzz/run.sh smoke
