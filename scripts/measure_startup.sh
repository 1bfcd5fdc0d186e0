#!/usr/bin/env bash
# Measure the built binaries: file size of dist/act-sync and dist/act-sync.exe, and the start-up
# time of `dist/act-sync --version` (hyperfine when installed, else the mean of 20 timed runs).
#   usage: scripts/measure_startup.sh [RUNS]      (npm run build first)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-20}"
for f in dist/act-sync dist/act-sync.exe; do
  [ -f "$f" ] || { echo "missing $f: run 'npm run build' first" >&2; exit 2; }
  size=$(stat -c %s "$f")
  printf '%-18s %10d bytes (%d MiB)\n' "$f" "$size" $((size / 1024 / 1024))
done
if command -v hyperfine >/dev/null; then
  hyperfine --warmup 3 --runs "$runs" -N 'dist/act-sync --version'
else
  dist/act-sync --version >/dev/null # warm the page cache
  total=0
  for _ in $(seq 1 "$runs"); do
    t0=$(date +%s%N)
    dist/act-sync --version >/dev/null
    t1=$(date +%s%N)
    total=$((total + t1 - t0))
  done
  echo "dist/act-sync --version: mean $((total / runs / 1000000)) ms over $runs runs"
fi
