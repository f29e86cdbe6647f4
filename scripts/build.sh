#!/usr/bin/env bash
# Compiles src/ to dist/ (what production runs: node dist/cli/entry.js start) and copies the files
# the code reads beside itself at run time (Redis .lua scripts, the console's stylesheet and script).
# The build goes to a folder of its own and is swapped in whole at the end: a daemon running from
# dist/, or one started while a build runs (a bench restarting its daemon after a kill -9, another
# bench building beside it), always finds a complete tree, the old one or the new one. Swaps are
# serialised with a lock, so two builds at once each swap in a whole tree too.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out="$(mktemp -d "$PWD/.dist-build.XXXXXX")"
trap 'rm -rf "$out"' EXIT
npx tsc -p tsconfig.build.json --outDir "$out"
(cd src && find . \( -name '*.lua' -o -path './console/assets/*' \) -type f -print0 | while IFS= read -r -d '' f; do
  mkdir -p "$out/$(dirname "$f")" && cp "$f" "$out/$f"
done)
chmod 755 "$out"
exec 9>"$PWD/.dist.lock"
flock 9
# Both renames in one process: dist/ is missing only for the microseconds between them, never for a
# compile's length (a `mv` each left it missing for the few milliseconds a process takes to start).
old="$(mktemp -u "$PWD/.dist-old.XXXXXX")"
node -e '
const fs = require("node:fs");
const [out, old] = process.argv.slice(1);
let moved = false;
try { fs.renameSync("dist", old); moved = true; } catch (e) { if (e.code !== "ENOENT") throw e; }
fs.renameSync(out, "dist");
if (moved) fs.rmSync(old, { recursive: true, force: true });
' "$out" "$old"
trap - EXIT
echo "built dist/ (run: node dist/cli/entry.js start)"
