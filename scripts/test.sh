#!/usr/bin/env bash
# The one test command (README, CI): services up, lint, type check, then every test.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# Stop here when the services cannot be had: `eval "$(...)"` alone would carry on with nothing.
services_env="$(bash scripts/services.sh env)" || { echo "test.sh: PostgreSQL/Redis not available (see above)" >&2; exit 1; }
eval "$services_env"
export DATABASE_URL REDIS_URL
echo "== lint"; npx biome check .
echo "== typecheck"; npx tsc -p tsconfig.json
echo "== tests"; npx vitest run "$@"
