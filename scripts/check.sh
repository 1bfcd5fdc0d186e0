#!/usr/bin/env bash
# The one gate (`npm test`): format check, lint, type check, doc-example check (the code and every
# Markdown file: README.md, CONTRIBUTING.md, docs/*.md), the doc examples run (`deno test --doc`: a
# JSDoc example marked `ignore` says why), the layout rules (scripts/check_layout.ts), then the
# whole test suite under Deno and under Bun. Its last line is "tests: N passed, N failed, N
# skipped" (both runtimes summed, leaf tests counted the same way for each:
# scripts/test_summary.ts), after the per-runtime counts, the number of distinct tests and the
# skipped tests with their reasons. Exits 1 when anything failed, or when a runtime ran no test.
#
# PostgreSQL: with ACT_SYNC_TEST_PG set, the tests use that server. Unset, and Debian's server
# installed (/usr/lib/postgresql/*/bin/postgres), the gate starts a throw-away cluster on a free
# port in .tmp (scripts/postgres.sh) and removes it at the end; not installed, or
# ACT_SYNC_TEST_PG=skip, the PostgreSQL tests are reported as skipped with the reason.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
export NO_COLOR=1
failed_steps=()
step() {
  echo "== $*"
  "$@" || failed_steps+=("$*")
}

work=$(mktemp -d "${TMPDIR:-/tmp}/act-sync-gate-XXXXXX")
pg_dir=""
pg_port=""
cleanup() {
  if [ -n "$pg_dir" ]; then
    ACT_SYNC_PG_DIR="$pg_dir" ACT_SYNC_PG_PORT="$pg_port" bash scripts/postgres.sh stop \
      >/dev/null 2>&1 || true
    rm -rf "$pg_dir"
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step deno fmt --check
step deno lint
step deno check mod.ts src tests scripts
step deno check --doc-only mod.ts src scripts README.md CONTRIBUTING.md docs/*.md
step deno test --doc -A mod.ts src scripts
step deno run --allow-read --no-check scripts/check_layout.ts

unset ACT_SYNC_TEST_PG_SKIP
case "${ACT_SYNC_TEST_PG:-}" in
skip)
  unset ACT_SYNC_TEST_PG
  export ACT_SYNC_TEST_PG_SKIP="PostgreSQL not used: ACT_SYNC_TEST_PG=skip"
  echo "== PostgreSQL: not used (ACT_SYNC_TEST_PG=skip)"
  ;;
"")
  if ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    pg_port=$(deno eval 'const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      console.log(l.addr.port); l.close();')
    pg_dir="$PWD/.tmp/pg-gate-$$"
    echo "== PostgreSQL: a throw-away cluster on 127.0.0.1:$pg_port in $pg_dir"
    if url=$(ACT_SYNC_PG_DIR="$pg_dir" ACT_SYNC_PG_PORT="$pg_port" bash scripts/postgres.sh start); then
      export ACT_SYNC_TEST_PG="$url"
    else
      failed_steps+=("scripts/postgres.sh start")
      export ACT_SYNC_TEST_PG_SKIP="PostgreSQL did not start (scripts/postgres.sh: see above)"
    fi
  else
    export ACT_SYNC_TEST_PG_SKIP="PostgreSQL not installed (apt-get install postgresql)"
    echo "== PostgreSQL: not installed, its tests are skipped"
  fi
  ;;
*) echo "== PostgreSQL: the server in ACT_SYNC_TEST_PG" ;;
esac

files=$(ls tests/*_test.ts)
echo "== deno test"
# shellcheck disable=SC2086
deno test -A --no-check --junit-path="$work/deno.xml" $files 2>&1
deno_rc=$?
echo "== bun test"
# shellcheck disable=SC2046
bun test --timeout 300000 --reporter=junit --reporter-outfile="$work/bun.xml" \
  $(printf './%s ' $files) 2>&1
bun_rc=$?

echo "== summary"
args=(--deno "$work/deno.xml" --deno-exit "$deno_rc" --bun "$work/bun.xml" --bun-exit "$bun_rc")
for s in "${failed_steps[@]}"; do args+=(--failed-step "$s"); done
summary=$(deno run --allow-read --no-check scripts/test_summary.ts "${args[@]}" 2>&1)
summary_rc=$?
echo "$summary"
if ! tail -n 1 <<<"$summary" | grep -Eq '^tests: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$'; then
  echo "scripts/test_summary.ts failed (exit code $summary_rc)"
  echo "tests: 0 passed, 1 failed, 0 skipped"
  exit 1
fi
exit "$summary_rc"
