#!/usr/bin/env bash
# Runs a capconduit command on a fresh machine: brings PostgreSQL and Redis up (scripts/services.sh),
# applies migrations, makes a local MASTER_KEY if none is set, then execs the command.
#   bash scripts/run.sh demo | start | simulate ...
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund
# .env fills in what the environment does not set (the real environment wins, as in the daemon).
if [ -f .env ]; then
  while IFS= read -r line || [ -n "$line" ]; do
    [[ "$line" =~ ^([A-Z_][A-Z0-9_]*)=(.*)$ ]] || continue
    k="${BASH_REMATCH[1]}"; v="${BASH_REMATCH[2]}"
    [[ "$v" =~ ^\"(.*)\"$ || "$v" =~ ^\'(.*)\'$ ]] && v="${BASH_REMATCH[1]}"
    [ -n "${!k+x}" ] || export "$k=$v"
  done < .env
fi
# Stop here when the services cannot be had: `eval "$(...)"` alone would carry on with nothing.
services_env="$(bash scripts/services.sh env)" || { echo "run.sh: PostgreSQL/Redis not available (see above)" >&2; exit 1; }
eval "$services_env"
export DATABASE_URL REDIS_URL
if [ -z "${MASTER_KEY:-}" ]; then
  # A development key kept beside the data; production sets MASTER_KEY from a secret store.
  [ -f .data/master.key ] || node -e 'process.stdout.write(require("crypto").randomBytes(32).toString("hex"))' > .data/master.key
  MASTER_KEY="$(cat .data/master.key)"; export MASTER_KEY
fi
node bin/capconduit.js migrate >&2
exec node bin/capconduit.js "$@"
