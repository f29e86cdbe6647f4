#!/usr/bin/env bash
# The one test command (README, CI): services up, lint, type check, then every test.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
eval "$(bash scripts/services.sh env)"
export DATABASE_URL REDIS_URL
echo "== lint"; npx biome check .
echo "== typecheck"; npx tsc -p tsconfig.json
echo "== tests"; npx vitest run "$@"
