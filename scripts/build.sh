#!/usr/bin/env bash
# Build the single-file binaries: dist/act-sync (Linux x64) and dist/act-sync.exe (Windows x64),
# and dist/SHA256SUMS with their checksums.
# `bun build --compile` embeds the Bun runtime; the Windows runtime comes from the npm registry.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
commit=$(git rev-parse --short HEAD 2>/dev/null || true)
if [ -n "$commit" ] && [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  commit="$commit-dirty"
fi
mkdir -p dist
for target in linux windows; do
  if [ "$target" = linux ]; then out=dist/act-sync; flag=--target=bun-linux-x64
  else out=dist/act-sync.exe; flag=--target=bun-windows-x64; fi
  bun build mod.ts --compile --minify --sourcemap=none "$flag" \
    --define "ACT_SYNC_COMMIT=\"$commit\"" --outfile "$out" >/dev/null
  size=$(stat -c %s "$out")
  echo "built $out ($((size / 1024 / 1024)) MiB)"
done
# Checksums of the release files, in the format `sha256sum -c` reads.
(cd dist && sha256sum act-sync act-sync.exe > SHA256SUMS)
echo "wrote dist/SHA256SUMS"
./dist/act-sync --version
