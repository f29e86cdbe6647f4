#!/usr/bin/env bash
# Compiles src/ to dist/ (what production runs: node dist/cli/entry.js start) and copies the files
# the code reads beside itself at run time (Redis .lua scripts, the console's stylesheet and script).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
rm -rf dist
npx tsc -p tsconfig.build.json
(cd src && find . \( -name '*.lua' -o -path './console/assets/*' \) -type f -print0 | while IFS= read -r -d '' f; do
  mkdir -p "../dist/$(dirname "$f")" && cp "$f" "../dist/$f"
done)
echo "built dist/ (run: node dist/cli/entry.js start)"
