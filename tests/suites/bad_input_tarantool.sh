#!/usr/bin/env bash
# The bad-input corpus against a real Tarantool 2.6, with the cases'
# "tarantool:" overrides: proves that the expectations describe the real
# protocol, not only kharon. Called by tests/run.sh; exit 0 = pass.
BAD_TARGET=tarantool exec bash "$(dirname "$0")/bad_input.sh"
