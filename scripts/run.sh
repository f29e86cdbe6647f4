#!/usr/bin/env bash
# Runs a capconduit command on a fresh machine: brings PostgreSQL and Redis up (scripts/services.sh),
# applies migrations, makes a local MASTER_KEY if none is set, then execs the command.
#   bash scripts/run.sh demo | start | simulate ...
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund
[ -f .env ] && set -a && . ./.env && set +a
eval "$(bash scripts/services.sh env)"
export DATABASE_URL REDIS_URL
if [ -z "${MASTER_KEY:-}" ]; then
  # A development key kept beside the data; production sets MASTER_KEY from a secret store.
  [ -f .data/master.key ] || node -e 'process.stdout.write(require("crypto").randomBytes(32).toString("hex"))' > .data/master.key
  MASTER_KEY="$(cat .data/master.key)"; export MASTER_KEY
fi
node bin/capconduit.js migrate >&2
exec node bin/capconduit.js "$@"
