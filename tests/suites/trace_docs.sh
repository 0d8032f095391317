#!/usr/bin/env bash
# Every event name written as TRACE("name", ...) or net_ibuf_trace("name",
# ...) in src/ must have a "### `name`" section in docs/trace.md, and every
# field key of a TRACE site (TI("key"/TS("key") must appear as a table row
# somewhere in it. Complements the unit test, which checks fields per event
# for everything a simulated run emits.
set -u
cd "$(dirname "$0")/../.."
doc=docs/trace.md
fail=0
names=$(grep -rhoE '(TRACE|net_ibuf_trace)\("[a-z_.]+"' src | sed -E 's/.*\("//; s/"$//' | sort -u)
[ -n "$names" ] || { echo "no TRACE sites found"; exit 1; }
for n in $names; do
	if ! grep -qF "### \`$n\`" "$doc"; then
		echo "event $n is emitted in src/ but not described in $doc"; fail=1
	fi
done
keys=$(grep -rhoE 'T[IS]\("[a-z_]+"' src --include=*.c --include=*.h | grep -v '^T[IS]("key"' | sed -E 's/.*\("//; s/"$//' | sort -u)
for k in $keys; do
	if ! grep -qF "| \`$k\` |" "$doc"; then
		echo "field $k is emitted in src/ but not described in $doc"; fail=1
	fi
done
echo "$(wc -w <<<"$names") events, $(wc -w <<<"$keys") field keys checked"
exit $fail
