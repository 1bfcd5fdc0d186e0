#!/usr/bin/env bash
# The one gate (`npm test`): format check, lint, type check, then the whole test suite under
# Deno and under Bun. Ends with one plain line "tests: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
export NO_COLOR=1
fail=0
step() { echo "== $*"; "$@" || fail=1; }
step deno fmt --check
step deno lint
step deno check mod.ts src tests scripts
files=$(ls tests/*_test.ts)
deno_out=$(mktemp); bun_out=$(mktemp)
echo "== deno test"
deno test -A --no-check $files 2>&1 | tee "$deno_out"; [ "${PIPESTATUS[0]}" = 0 ] || fail=1
echo "== bun test"
bun test --timeout 120000 $(printf './%s ' $files) 2>&1 | tee "$bun_out"; [ "${PIPESTATUS[0]}" = 0 ] || fail=1
dp=$(grep -Eo '([0-9]+) passed' "$deno_out" | tail -1 | grep -Eo '[0-9]+'); df=$(grep -Eo '([0-9]+) failed' "$deno_out" | tail -1 | grep -Eo '[0-9]+')
bp=$(grep -Eo '^ *[0-9]+ pass$' "$bun_out" | tail -1 | grep -Eo '[0-9]+'); bf=$(grep -Eo '^ *[0-9]+ fail$' "$bun_out" | tail -1 | grep -Eo '[0-9]+')
passed=$(( ${dp:-0} + ${bp:-0} )); failed=$(( ${df:-0} + ${bf:-0} ))
if [ "$fail" != 0 ] && [ "$failed" = 0 ]; then failed=1; fi
echo "deno: ${dp:-0} passed, ${df:-0} failed; bun: ${bp:-0} passed, ${bf:-0} failed"
echo "tests: $passed passed, $failed failed"
exit $fail
