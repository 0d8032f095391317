#!/usr/bin/env bash
# build/kharon — the path every README command uses — is the default build,
# whatever flavour was built last: after `make test` (this run) it exists
# and resolves to build/default/kharon; `make FLAVOUR=asan` (or any other
# flavour) would not touch it; `make` re-points a link left elsewhere.
# Dry runs only (make -n): nothing is built or changed here.
# Called by tests/run.sh with B set; exit 0 = pass.
set -u
cd "$(dirname "$0")/../.."
B=${B:-build/default}
fail() { echo "FAIL build_link: $*"; exit 1; }

if [ "$B" = build/default ]; then
	[ -L build/kharon ] || fail "build/kharon is missing after make test"
	[ "$(readlink -f build/kharon)" = "$(readlink -f build/default/kharon)" ] ||
		fail "build/kharon -> $(readlink build/kharon), not default/kharon"
	build/kharon call 2>&1 | grep -q usage || fail "build/kharon does not run"
fi
for flavour in asan tsan fuzz; do
	out=$(make -n --no-print-directory FLAVOUR=$flavour all 2>&1)
	grep -q 'ln -s' <<<"$out" && fail "make FLAVOUR=$flavour would re-point build/kharon"
done
make -n --no-print-directory build/kharon 2>&1 | grep -q 'ln -sfn default/kharon build/kharon' ||
	fail "make would not (re)link build/kharon to the default build"
echo "build_link: build/kharon -> $(readlink build/kharon 2>/dev/null || echo '(not built here)')"
